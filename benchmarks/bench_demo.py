"""Benchmark: the whole demo pipeline at a given size, its stage times and peak memory.

Run by hand from the repository root::

    python benchmarks/bench_demo.py --scale 6      # about 1M incidents
    python benchmarks/bench_demo.py --scale 1 --no-pictures   # without PNG maps and PDFs

Prints the time at which each stage starts, the total, and the peak resident memory of
the process (Linux ``ru_maxrss``), which includes the Python interpreter and imports.
Run it twice: the first run in a fresh environment also compiles numba's code.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--scale", type=float, default=6.0, help="synthetic scale (default 6: about 1M)"
    )
    ap.add_argument("--seed", type=int, default=2018, help="synthetic seed (default 2018)")
    ap.add_argument(
        "--no-pictures",
        action="store_true",
        help="skip the static PNG maps and PDF briefs (run_demo(pictures=False))",
    )
    args = ap.parse_args()
    from impactzones.pipeline import run_demo

    t = time.perf_counter()

    def step(msg: str) -> None:
        print(f"{time.perf_counter() - t:7.1f} s  {msg}", flush=True)

    with tempfile.TemporaryDirectory() as d:
        res = run_demo(
            d, seed=args.seed, scale=args.scale, progress=step, pictures=not args.no_pictures
        )
    total = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(res.incidents):,} incidents: {total:.1f} s, peak resident memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()

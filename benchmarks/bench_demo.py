"""Benchmark: the whole demo pipeline at a given size, its stage times and peak memory.

Run by hand from the repository root::

    python benchmarks/bench_demo.py --scale 1                 # the default size
    python benchmarks/bench_demo.py --scale 1 --repeat 3 --serial-too   # interleaved with
                                                              # the pictures drawn in turn
    python benchmarks/bench_demo.py --scale 1 --repeat 3 --against /tmp/before   # against
                                                              # another checkout
    python benchmarks/bench_demo.py --scale 1 --no-pictures   # without PNG maps and PDFs
    python benchmarks/bench_demo.py --scale 6                 # about 1M incidents

Each run goes in a fresh process (so every run pays its imports, as ``impactzones demo``
does) and prints a table: the seconds each stage took (from one progress line to the next;
"Finishing the pictures" is the wait for the worker drawing the matplotlib pictures), the
total, the CPU seconds of the demo's process and of its picture worker (less sensitive to
other work on the machine than the wall time), the peak resident memory of both (Linux
``ru_maxrss``, including the interpreter and imports), and the load average. With
``--repeat`` it keeps each stage's minimum. Run it once first: a fresh environment also
compiles numba's code.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, resource, sys, tempfile, time
t = time.perf_counter()
from impactzones.pipeline import run_demo
marks = [("Importing impactzones", 0.0)]
def step(msg):
    marks.append((msg, time.perf_counter() - t))
args = json.loads(sys.argv[1])
with tempfile.TemporaryDirectory() as d:
    more = {} if args["parallel"] else {"parallel": False}  # older code has no `parallel`
    res = run_demo(d, seed=args["seed"], scale=args["scale"], progress=step,
                   pictures=args["pictures"], **more)
marks.append(("end", time.perf_counter() - t))
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"marks": marks, "incidents": len(res.incidents),
                  "peak_mb": me.ru_maxrss / 1024, "worker_peak_mb": kids.ru_maxrss / 1024,
                  "cpu_s": me.ru_utime + me.ru_stime,
                  "worker_cpu_s": kids.ru_utime + kids.ru_stime}))
"""


def run_once(scale: float, seed: int, pictures: bool, parallel: bool, code: str) -> dict:
    """One demo run in a fresh interpreter, importing impactzones from the folder ``code``:
    its progress marks, size, CPU time and peak memory."""
    args = json.dumps(dict(scale=scale, seed=seed, pictures=pictures, parallel=parallel))
    env = dict(os.environ, PYTHONPATH=code)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, args], capture_output=True, text=True, check=True,
        env=env, cwd=code,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def stages(run: dict) -> dict[str, float]:
    """Seconds per stage: from each progress line to the next."""
    marks = run["marks"]
    return {m[0]: nxt[1] - m[1] for m, nxt in itertools.pairwise(marks)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--scale", type=float, default=1.0, help="synthetic scale (default 1; 6 is about 1M)"
    )
    ap.add_argument("--seed", type=int, default=2018, help="synthetic seed (default 2018)")
    ap.add_argument(
        "--no-pictures",
        action="store_true",
        help="skip the static PNG maps and PDF briefs (run_demo(pictures=False))",
    )
    ap.add_argument(
        "--serial",
        action="store_true",
        help="draw the pictures in the demo's own process, in turn (run_demo(parallel=False))",
    )
    ap.add_argument(
        "--serial-too",
        action="store_true",
        help="interleave every run with one drawing the pictures in turn (--serial), and "
        "print both columns and their ratio",
    )
    ap.add_argument(
        "--against",
        metavar="DIR",
        help="interleave every run with one of the impactzones in DIR (another checkout, "
        "e.g. `git archive <commit>` unpacked), and print both columns and their ratio",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs of each kind (default 1)")
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parents[1])
    kinds = {"this": (here, not args.serial)}
    if args.serial_too:
        kinds = {"worker": (here, True), "serial": (here, False)}
    elif args.against:
        kinds["against"] = (str(Path(args.against).resolve()), True)
    best: dict[str, dict[str, float]] = {k: {} for k in kinds}
    info: dict[str, dict] = {}
    for i in range(args.repeat):
        for kind, (code, parallel) in kinds.items():
            load = os.getloadavg()[0]
            run = run_once(args.scale, args.seed, not args.no_pictures, parallel, code)
            total = run["marks"][-1][1]
            print(f"run {i + 1} {kind}: {total:.1f} s (load {load:.1f})", flush=True)
            for name, secs in stages(run).items():
                best[kind][name] = min(secs, best[kind].get(name, float("inf")))
            best[kind]["total"] = min(total, best[kind].get("total", float("inf")))
            for key in ("cpu_s", "worker_cpu_s"):
                name = {"cpu_s": "CPU seconds, demo process", "worker_cpu_s":
                        "CPU seconds, picture worker"}[key]  # fmt: skip
                best[kind][name] = min(run[key], best[kind].get(name, float("inf")))
            info[kind] = run
    _print_table(best, info)


def _print_table(best: dict, info: dict) -> None:
    """The stage table: minimum seconds per stage for each kind of run."""
    kinds = list(best)
    names = list(best[kinds[0]])
    width = max(len(n) for n in names) + 2
    head = "".join(f"{k:>10}" for k in kinds) + ("     ratio" if len(kinds) == 2 else "")
    print(f"\n{'stage (minimum seconds)':<{width}}{head}")
    for name in names:
        cells = [best[k].get(name, float("nan")) for k in kinds]
        row = "".join(f"{c:10.2f}" for c in cells)
        if len(kinds) == 2 and cells[0] > 0:
            row += f"{cells[1] / cells[0]:9.2f}x"  # how many times longer the second takes
        print(f"{name:<{width}}{row}")
    for k in kinds:
        r = info[k]
        print(
            f"{k}: {r['incidents']:,} incidents, peak resident memory {r['peak_mb']:,.0f} MB "
            f"(picture worker {r['worker_peak_mb']:,.0f} MB); load now "
            f"{os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()

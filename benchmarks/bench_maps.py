"""Benchmark: map size and opening time in headless Chromium, for 10k and 1M incidents.

Run by hand (needs Debian's chromium and the test extras)::

    python benchmarks/bench_maps.py [--scales 0.06 6]

Runs the demo pipeline on synthetic incidents at each scale, then opens every map in
headless Chromium (Leaflet from the local xstatic copy, stub tiles) and prints the HTML
size and the time until Leaflet's map and layer control are ready, three runs each (the
median is shown). Maps carry surfaces and aggregates, so both stay flat as incidents grow.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--scales",
        nargs="+",
        type=float,
        default=[0.06, 6.0],
        help="synthetic scales of the demo (default 0.06 6: about 10k and 1M incidents)",
    )
    ap.add_argument("--runs", type=int, default=3, help="openings of each map (default 3)")
    args = ap.parse_args()
    # imported after parsing, so that --help answers at once
    from impactzones.pipeline import run_demo
    from tests.browser import Browser

    browser = Browser()
    rows = []
    try:
        for scale in args.scales:
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                res = run_demo(tmp, seed=2018, scale=scale)
                build = time.perf_counter() - t
                for html in sorted(Path(tmp).glob("*.html")):
                    if html.name == "index.html":
                        continue
                    times = []
                    for _ in range(args.runs):
                        rep = browser.open(html, settle_ms=0)
                        assert rep.ok, (html.name, rep.console_errors, rep.refused)
                        times.append(rep.ready_ms)
                    rows.append(
                        (
                            len(res.incidents),
                            html.name,
                            html.stat().st_size / 1e6,
                            statistics.median(times),
                            build,
                        )
                    )
    finally:
        browser.close()
    print(f"{'incidents':>10} {'map':24} {'MB':>6} {'ready ms':>9} {'pipeline s':>11}")
    for n, name, mb, ms, build in rows:
        print(f"{n:>10,} {name:24} {mb:6.2f} {ms:9.0f} {build:11.1f}")


if __name__ == "__main__":
    main()

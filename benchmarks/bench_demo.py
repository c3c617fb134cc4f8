"""Benchmark: the whole demo pipeline at a given size, its stage times and peak memory.

Run by hand from the repository root::

    python benchmarks/bench_demo.py                           # the target: `impactzones demo`
                                                              # at the default size, warm
    python benchmarks/bench_demo.py --repeat 3 --against /tmp/before   # interleaved with
                                                              # another checkout
    python benchmarks/bench_demo.py --serial-too              # interleaved with the pictures
                                                              # drawn in turn
    python benchmarks/bench_demo.py --no-pictures             # without PNG maps and PDFs
    python benchmarks/bench_demo.py --imports                 # + what every import of the
                                                              # run costs, by package
    python benchmarks/bench_demo.py --scale 6                 # about 1M incidents
    python benchmarks/bench_demo.py --timeline                # + where the time goes: each
                                                              # stage and each hand-off to
                                                              # the picture worker

What the target (issue 17: "the demo at default size in under 5 s warm") means, and what
this prints for it: **warm** is a second run, numba's cache compiled and the files read
once before (the script makes one untimed run first; ``--no-warmup`` skips it); the time
is the **wall time of the whole command** ``python -m impactzones demo --out DIR`` in a
fresh process, from start to exit (interpreter, imports, argument parsing, the run, the
printed summary, shutdown: the row ``impactzones demo (whole command)``), with the load
average beside it, since on a shared machine the wall time is only meaningful when it
is quiet.

Each run goes in a fresh process (so every run pays its imports, as ``impactzones demo``
does) and prints a table: the seconds each stage took (from one progress line to the next,
the library's ``run_demo`` called as the CLI calls it; "Finishing the pictures" is the wait
for the worker drawing the matplotlib pictures), the total, the CPU seconds of the demo's
process and of its picture worker (less sensitive to other work on the machine than the
wall time), the peak resident memory of both (Linux ``ru_maxrss``, including the
interpreter and imports), and the load average. With ``--repeat`` it keeps each stage's
minimum. ``--imports`` adds one run under ``python -X importtime``: the seconds spent
importing across the whole run (every import the demo pays, not only the first), by
top-level package (inflated a little by the measuring itself). ``--timeline`` prints, for
the last run of each kind, when each stage of the demo's process began and ended and, for
each call handed to the picture worker (pictures, pages, the incidents shared with it),
when it was handed over, begun and done (seconds from the start of the process), who ran
it (``worker``, or ``here``: the demo's process took it back, not yet begun, rather than
wait) and the worker's CPU seconds for it: the critical path, and the worker's idle
time, read off it."""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, resource, sys, tempfile, time
t = time.perf_counter()
try:  # as the CLI imports and runs (core.collect; older checkouts lack it)
    from impactzones.core.collect import fewer_collections
except ImportError:
    import contextlib
    fewer_collections = contextlib.nullcontext
args = json.loads(sys.argv[1])
if args["parallel"]:  # as the CLI does: the picture worker starts before the heavy imports
    try:
        from impactzones.core.worker import prestart
        from impactzones.workflows import PICTURE_WARM_UP
        prestart(PICTURE_WARM_UP)
    except ImportError:  # older checkouts
        pass
with fewer_collections():
    from impactzones.pipeline import run_demo
marks = [("Importing impactzones", 0.0)]
def step(msg):
    marks.append((msg, time.perf_counter() - t))
jobs = []  # every hand-off of the picture worker (checkouts that record them)
import impactzones.pipeline as _pipeline
_exit = getattr(_pipeline, "_Pictures", None) and _pipeline._Pictures.__exit__
if _exit:
    def _keep_jobs(self, *exc):
        jobs.extend(getattr(self, "jobs", []))
        return _exit(self, *exc)
    _pipeline._Pictures.__exit__ = _keep_jobs
def _s(v):
    return None if v is None else v - t
with tempfile.TemporaryDirectory() as d:
    more = {} if args["parallel"] else {"parallel": False}  # older code has no `parallel`
    res = run_demo(d, seed=args["seed"], scale=args["scale"], progress=step,
                   pictures=args["pictures"], **more)
marks.append(("end", time.perf_counter() - t))
try:  # the worker's exit, so that its CPU seconds count (checkouts that do not wait for it)
    from impactzones.core.worker import wait_for_workers
    wait_for_workers()
except ImportError:
    pass
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
jobs = [[j.name, _s(j.submitted), _s(j.begun), _s(j.done), j.where, j.cpu] for j in jobs]
print(json.dumps({"marks": marks, "incidents": len(res.incidents), "jobs": jobs,
                  "peak_mb": me.ru_maxrss / 1024, "worker_peak_mb": kids.ru_maxrss / 1024,
                  "cpu_s": me.ru_utime + me.ru_stime,
                  "worker_cpu_s": kids.ru_utime + kids.ru_stime}))
"""


def run_once(scale: float, seed: int, pictures: bool, parallel: bool, code: str,
             importtime: bool = False) -> dict:  # fmt: skip
    """One demo run in a fresh interpreter, importing impactzones from the folder ``code``:
    its progress marks, size, CPU time and peak memory (and, with ``importtime``, the
    seconds its imports took by top-level package, under ``-X importtime``)."""
    args = json.dumps(dict(scale=scale, seed=seed, pictures=pictures, parallel=parallel))
    env = dict(os.environ, PYTHONPATH=code)
    flags = ["-X", "importtime"] if importtime else []
    done = subprocess.run(
        [sys.executable, *flags, "-c", _CHILD, args], capture_output=True, text=True,
        check=True, env=env, cwd=code,
    )  # fmt: skip
    run = json.loads(done.stdout.strip().splitlines()[-1])
    if importtime:
        run["imports"] = import_seconds(done.stderr)
    return run


def run_command(seed: int, code: str) -> float:
    """Wall seconds of the whole command ``python -m impactzones demo`` in a fresh process,
    from its start to its exit (the CLI's parsing, the run, the summary it prints)."""
    import tempfile
    import time

    env = dict(os.environ, PYTHONPATH=code)
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "impactzones", "demo", "--out", out, "--seed", str(seed)],
            capture_output=True, check=True, env=env, cwd=code,
        )  # fmt: skip
        return time.perf_counter() - t


def import_seconds(importtime_log: str) -> dict[str, float]:
    """Seconds spent importing in a ``-X importtime`` log (every import the run paid,
    wherever it happened), by top-level package (each module's own time, its imports
    counted under theirs), and their ``total``."""
    by: dict[str, float] = {}
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _, name = line[len("import time:") :].split("|")
        if not own.strip().isdigit():  # the header
            continue
        top = name.strip().split(".")[0]
        by[top] = by.get(top, 0.0) + int(own) / 1e6
    by["total"] = sum(by.values())
    return by


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
    ap.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the untimed first run (that compiles numba's cache and reads the files "
        "once): the figures are then a cold run's",
    )
    ap.add_argument(
        "--imports",
        action="store_true",
        help="one more run of each kind under -X importtime: the seconds of every import "
        "the whole run pays, by top-level package",
    )
    ap.add_argument(
        "--timeline",
        action="store_true",
        help="print the last run's timeline: each stage's start and end, and each hand-off "
        "to the picture worker (handed over, begun, done, by whom, its CPU seconds)",
    )
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parents[1])
    kinds = {"this": (here, not args.serial)}
    if args.serial_too:
        kinds = {"worker": (here, True), "serial": (here, False)}
    elif args.against:
        kinds["against"] = (str(Path(args.against).resolve()), True)
    command = args.scale == 1 and not args.no_pictures and not args.serial
    if not args.no_warmup:  # warm: bytecode and numba's cache compiled, the files read once
        for code, parallel in dict(kinds.values()).items():
            compileall.compile_dir(str(Path(code) / "impactzones"), quiet=1)
            run_once(args.scale, args.seed, not args.no_pictures, parallel, code)
    best: dict[str, dict[str, float]] = {k: {} for k in kinds}
    info: dict[str, dict] = {}
    for i in range(args.repeat):
        for kind, (code, parallel) in kinds.items():
            load = os.getloadavg()[0]
            run = run_once(args.scale, args.seed, not args.no_pictures, parallel, code)
            total = run["marks"][-1][1]
            line = f"run {i + 1} {kind}: run_demo {total:.1f} s (load {load:.1f})"
            _keep(best[kind], stages(run))
            _keep(best[kind], {"total": total, "CPU seconds, demo process": run["cpu_s"],
                               "CPU seconds, picture worker": run["worker_cpu_s"]})  # fmt: skip
            if command and parallel:
                load = os.getloadavg()[0]
                wall = run_command(args.seed, code)
                line += f"; impactzones demo {wall:.1f} s (load {load:.1f})"
                _keep(best[kind], {"impactzones demo (whole command)": wall})
            print(line, flush=True)
            info[kind] = run
    _print_table(best, info)
    if args.timeline:
        for kind, run in info.items():
            _print_timeline(kind, run)
    if args.imports:
        _print_imports(args, kinds)


def _keep(best: dict[str, float], seconds: dict[str, float]) -> None:
    """Keep each figure's minimum over the runs."""
    for name, value in seconds.items():
        best[name] = min(value, best.get(name, float("inf")))


def _print_imports(args, kinds: dict) -> None:
    """One run of each kind under ``-X importtime``: every import's seconds, by package."""
    runs = {
        k: run_once(args.scale, args.seed, not args.no_pictures, par, code, importtime=True)
        for k, (code, par) in kinds.items()
    }
    runs = {k: r["imports"] for k, r in runs.items()}
    first = next(iter(runs.values()))
    top = sorted(first, key=lambda k: -first[k])[:16]
    print(f"\n{'imports over the whole run (s, -X importtime)':<48}"
          + "".join(f"{k:>10}" for k in runs))  # fmt: skip
    for name in top:
        print(f"{name:<48}" + "".join(f"{r.get(name, 0.0):10.2f}" for r in runs.values()))
    print(f"(load {os.getloadavg()[0]:.1f})")


def _print_timeline(kind: str, run: dict) -> None:
    """One run's timeline: the demo process's stages, then every hand-off to the worker."""

    def cell(v):
        return f"{v:8.2f}" if v is not None else f"{'-':>8}"

    print(f"\ntimeline of the last run ({kind}), seconds from the start of the process")
    marks = run["marks"]
    print(f"{'stage (demo process)':<56}{'start':>8}{'end':>8}")
    for (name, start), (_, end) in itertools.pairwise(marks):
        print(f"{name:<56}{start:8.2f}{end:8.2f}")
    if not run.get("jobs"):
        print("(no hand-offs recorded: this checkout does not record them, or --serial)")
        return
    print(f"\n{'hand-off':<32}{'handed':>8}{'begun':>8}{'done':>8}  {'by':<8}{'CPU s':>6}")
    for name, handed, begun, done, where, cpu in run["jobs"]:
        print(f"{name[:31]:<32}{cell(handed)}{cell(begun)}{cell(done)}  {where:<8}"
              + (f"{cpu:6.2f}" if cpu is not None else f"{'':>6}"))  # fmt: skip


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

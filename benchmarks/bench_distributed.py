"""Benchmark: the distributed path (dask-geopandas + dask.distributed) on partitioned
synthetic GeoParquet, with a memory limit per worker.

Run by hand from the repository root::

    python -m impactzones synth --scale 300 --out /tmp/iz50m --partitions 50   # 50M incidents
    python benchmarks/bench_distributed.py --data /tmp/iz50m --workers 2 --memory-limit 2GB

Starts a ``LocalCluster`` of worker processes (the memory limit is enforced by each
worker's nanny), runs :func:`impactzones.distributed.summarise_parquet` (clean-up,
assignment to districts, zones and rings, count tables and the monthly count cube on a
250 m grid) and prints the wall time, the throughput, each worker's peak resident memory
and this (client) process's peak. ``--check`` also runs the in-memory path on the first
partitions and checks they agree.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="folder of GeoParquet partitions")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument(
        "--memory-limit", default="2GB", help="memory limit per worker (default 2GB)"
    )
    ap.add_argument("--cell-size", type=float, default=250.0, help="cube cell in metres")
    ap.add_argument(
        "--check",
        type=int,
        default=0,
        metavar="K",
        help="also check the first K partitions against the in-memory path (default 0)",
    )
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    from impactzones.core.geo import st_louis
    from impactzones.core.grid import make_grid
    from impactzones.distributed import summarise_frame, summarise_parquet

    layers = st_louis()
    grid = make_grid(layers.study_area, layers.crs, args.cell_size)
    files = sorted(Path(args.data).glob("*.parquet"))
    size_gb = sum(f.stat().st_size for f in files) / 1e9
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        t = time.perf_counter()
        summary = summarise_parquet(args.data, layers, grid=grid, client=client)
        wall = time.perf_counter() - t

        def worker_peak():
            import resource as r

            return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024

        peaks = client.run(worker_peak)
    n = summary.tally["read"]
    print(f"partitions: {len(files)} files, {size_gb:.2f} GB of GeoParquet")
    print(f"incidents read: {n:,}; used: {summary.tally['used']:,}")
    print(f"rejected: {summary.tally['rejected_by_reason']}")
    print(f"cube: {dict(summary.cube['count'].sizes)}, total {int(summary.cube['count'].sum()):,}")
    print(f"wall time: {wall:.1f} s; throughput: {n / wall:,.0f} incidents/s")
    for w, mb in sorted(peaks.items()):
        print(f"worker {w}: peak resident memory {mb:,.0f} MB (limit {args.memory_limit})")
    print(f"client process: peak resident memory {_peak_rss_mb():,.0f} MB")
    if args.check:
        import geopandas as gpd
        import pandas as pd

        sub = files[: args.check]
        mem = summarise_frame(pd.concat([gpd.read_parquet(f) for f in sub]), layers, grid=grid)
        dist = summarise_parquet([str(f) for f in sub], layers, grid=grid)
        same = dist.cube.identical(mem.cube)
        print(f"first {len(sub)} partitions, distributed == in memory: {same}")


if __name__ == "__main__":
    main()

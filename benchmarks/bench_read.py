"""Benchmark: reading a Chicago-style export (12-hour dates) against the same rows in ISO 8601.

Run by hand (``python benchmarks/bench_read.py [--rows 1000000] [--repeats 2]
[--ours-only]``). Writes two
CSV files with the 22 columns of the Chicago Data Portal export, identical but for the date
column (``05/01/2018 11:30:00 PM`` against ``2018-05-01 23:30:00``), then times
``read_incidents`` on each, interleaved, each run in its own process so that its peak memory
(max RSS) is its own. Also times pandas alone (``read_csv`` then ``to_datetime`` with the format
given by hand) as the floor a reader cannot beat. Prints seconds, the Chicago/ISO ratio and
peak memory per million rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HEAD = (
    "ID,Case Number,Date,Block,IUCR,Primary Type,Description,Location Description,Arrest,"
    "Domestic,Beat,District,Ward,Community Area,FBI Code,X Coordinate,Y Coordinate,Year,"
    "Updated On,Latitude,Longitude,Location"
)
TYPES = [
    ("0820", "THEFT", "$500 AND UNDER", "06"),
    ("0486", "BATTERY", "DOMESTIC BATTERY SIMPLE", "08B"),
    ("031A", "ROBBERY", "ARMED: HANDGUN", "03"),
    ("0610", "BURGLARY", "FORCIBLE ENTRY", "05"),
    ("041A", "BATTERY", "AGGRAVATED: HANDGUN", "04B"),
    ("0910", "MOTOR VEHICLE THEFT", "AUTOMOBILE", "07"),
]


def write(path: Path, n: int, iso: bool, block: int = 1_000_000) -> None:
    """Write ``n`` rows in blocks of ``block`` (so that 8M rows need little memory)."""
    for start in range(0, n, block):
        _write_block(path, start, min(block, n - start), iso, header=start == 0)


def _write_block(path: Path, start: int, n: int, iso: bool, header: bool) -> None:
    rng = np.random.default_rng([1, start])
    t = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), "min")
    date = t.strftime("%Y-%m-%d %H:%M:%S") if iso else t.strftime("%m/%d/%Y %I:%M:%S %p")
    lat = 41.65 + rng.random(n) * 0.35
    lon = -87.85 + rng.random(n) * 0.3
    k = rng.integers(0, len(TYPES), n)
    df = pd.DataFrame(
        {
            "ID": np.arange(10_000_000 + start, 10_000_000 + start + n),
            "Case Number": [f"JB{i}" for i in range(start, start + n)],
            "Date": date,
            "Block": "001XX W RANDOLPH ST",
            "IUCR": [TYPES[i][0] for i in k],
            "Primary Type": [TYPES[i][1] for i in k],
            "Description": [TYPES[i][2] for i in k],
            "Location Description": "STREET",
            "Arrest": "false",
            "Domestic": np.where(k == 1, "true", "false"),
            "Beat": "0111",
            "District": "001",
            "Ward": "42",
            "Community Area": "32",
            "FBI Code": [TYPES[i][3] for i in k],
            "X Coordinate": "",
            "Y Coordinate": "",
            "Year": "2018",
            "Updated On": "05/08/2019 03:50:00 PM",
            "Latitude": lat.round(6),
            "Longitude": lon.round(6),
            "Location": "",
        }
    )
    df.to_csv(path, index=False, header=header, mode="w" if header else "a")


CHILD = r"""
import json, resource, sys, time
path, how = sys.argv[1], sys.argv[2]
import pandas as pd
from impactzones.io import read_incidents
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if how == "ours":
    res = read_incidents(path, work_crs="EPSG:26916")
    n = res.tally["used"]
else:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fmt = "%Y-%m-%d %H:%M:%S" if "iso" in path else "%m/%d/%Y %I:%M:%S %p"
    n = int(pd.to_datetime(df["Date"], format=fmt).notna().sum())
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": dt, "rows": n, "peak_mb": peak / 1024, "base_mb": base / 1024}))
"""


def run(path: Path, how: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), how], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="rows in each generated file (default 1,000,000; the files go to a temporary "
        "folder and are deleted afterwards)",
    )
    ap.add_argument("--repeats", type=int, default=2, help="interleaved runs of each (best kept)")
    ap.add_argument(
        "--ours-only",
        action="store_true",
        help="time read_incidents on the Chicago-style file alone, for peak memory at many "
        "rows (no ISO file, no pandas floor, which would need several times the memory)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        chi, iso = Path(d) / "chicago.csv", Path(d) / "iso.csv"
        t = time.perf_counter()
        write(chi, args.rows, iso=False)
        if not args.ours_only:
            write(iso, args.rows, iso=True)
        print(
            f"wrote {args.rows:,} rows ({chi.stat().st_size / 1e6:.0f} MB a file) "
            f"in {time.perf_counter() - t:.1f} s"
        )
        rows = []
        if args.ours_only:
            for _ in range(args.repeats):
                rows.append({"reader": "ours", "dates": "chicago", **run(chi, "ours")})
            df = pd.DataFrame(rows)
            df["seconds_per_million_rows"] = df["seconds"] / (args.rows / 1e6)
            df["peak_mb_per_million_rows"] = (df["peak_mb"] - df["base_mb"]) / (args.rows / 1e6)
            print(df.round(2).to_string())
            print(f"peak memory: {df['peak_mb'].max():,.0f} MB (target: under 4,096 MB)")
            return
        for _ in range(args.repeats):  # interleaved
            for how in ("ours", "pandas"):
                for name, path in (("chicago", chi), ("iso", iso)):
                    r = run(path, how)
                    rows.append({"reader": how, "dates": name, **r})
    df = pd.DataFrame(rows)
    best = df.groupby(["reader", "dates"]).agg(
        seconds=("seconds", "min"), peak_mb=("peak_mb", "max"), base_mb=("base_mb", "max")
    )
    best["peak_mb_per_million_rows"] = (best["peak_mb"] - best["base_mb"]) / (args.rows / 1e6)
    print(best.round(2).to_string())
    for how in ("ours", "pandas"):
        ratio = best.loc[(how, "chicago"), "seconds"] / best.loc[(how, "iso"), "seconds"]
        print(f"{how}: Chicago-style dates take {ratio:.2f}x the time of ISO dates")
    ours = best.loc[("ours", "chicago"), "seconds"] / best.loc[("pandas", "chicago"), "seconds"]
    print(f"read_incidents on the Chicago file: {ours:.2f}x the time of pandas alone")


if __name__ == "__main__":
    main()

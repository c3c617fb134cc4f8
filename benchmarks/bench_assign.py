"""Benchmark: assigning 1M incidents to districts, neighborhoods and zones.

Run by hand (``python benchmarks/bench_assign.py [--n 1000000]``); prints our time beside
``geopandas.sjoin`` (building the points included for both) and checks that the answers agree.
Also times the synthetic generator at scale 6 (about 1M incidents).
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, help="incidents (default about 1,000,000; overrides --scale)")
    ap.add_argument(
        "--scale", type=float, default=6.0, help="synthetic scale (default 6: about 1M)"
    )
    args = ap.parse_args()
    # imported after parsing, so that --help answers at once
    import geopandas as gpd
    import pandas as pd

    from impactzones.assign import assign
    from impactzones.core.geo import st_louis
    from impactzones.datasets.synth import synthesize

    if args.n:
        args.scale = args.n / 166_486
    layers = st_louis()
    t = time.perf_counter()
    res = synthesize(seed=1, scale=args.scale)
    t_synth = time.perf_counter() - t
    inc = res.incidents
    x, y = inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy()
    n = len(inc)
    print(f"synthesize(scale={args.scale:g}): {n:,} incidents in {t_synth:.2f} s")

    assign(inc.iloc[:50_000], layers)  # warm up: imports, first-call costs
    t = time.perf_counter()
    ours = assign(inc, layers)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    pts = gpd.GeoDataFrame(
        inc.drop(columns="geometry"), geometry=gpd.points_from_xy(x, y), crs=inc.crs
    )
    assign(pts, layers)
    t_ours_pts = time.perf_counter() - t

    t = time.perf_counter()
    pts2 = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=inc.crs)
    ref = {}
    for layer, col in (
        (layers.districts, "district"),
        (layers.neighborhoods, "neighborhood"),
        (layers.zones.rename(columns={"name": "zone"}), "zone"),
    ):
        j = gpd.sjoin(pts2, layer[[col, "geometry"]], predicate="intersects", how="left")
        ref[col] = j[~j.index.duplicated(keep="first")][col]
    t_ref = time.perf_counter() - t

    same = all(
        (
            ours[c].astype(str).replace({"<NA>": "", "nan": ""}).to_numpy()
            == ref[c]
            .astype(object)
            .where(ref[c].notna(), "")
            .astype(str)
            .str.replace(r"\.0$", "", regex=True)
            .to_numpy()
        ).all()
        for c in ("district", "neighborhood", "zone")
    )
    table = pd.DataFrame(
        {
            "method": [
                "impactzones.assign (districts, neighborhoods, zones, rings)",
                "  the same, building the points included",
                "geopandas.sjoin x3, building the points included",
            ],
            "seconds": [t_ours, t_ours_pts, t_ref],
            "x slower than ours": [1.0, t_ours_pts / t_ours, t_ref / t_ours],
        }
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"same answer as sjoin: {same}")


if __name__ == "__main__":
    main()

"""Derive the small offline base-map layers (major roads with names, the Mississippi) that
the maps draw when there is no network.

Input: the reference layers in ``../shared/geo/reference/`` (see their SOURCES.md):
``stl_major_roads.geojson`` (City of St. Louis street centrelines, major classes only) and
``mississippi_river.geojson`` (Census TIGER area water, compiled by the SLU openGIS Project).
Output: ``data/geo/basemap_roads.geojson`` and ``data/geo/basemap_river.geojson`` (WGS 84,
5 decimals, about a metre), credited in ``data/geo/README.md``.

Rule: interstates and principal arterials, plus minor arterials at least 3 km long in the
city; each simplified to 15 m in UTM 15N; names in title case ("Gravois Ave", "I-44").

    python scripts/build_basemap.py [REFERENCE_DIR]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "geo"
UTM = 32615
SIMPLIFY_M = 15.0
MIN_MINOR_M = 3000.0


def pretty(name: str, ref: str | None) -> str:
    """'S KINGSHIGHWAY BLVD' -> 'S Kingshighway Blvd'; interstates by their number."""
    if ref:
        return str(ref)
    m = re.match(r"Interstate (\d+)", name)
    if m:
        return f"I-{m.group(1)}"
    words = []
    for w in name.split():
        words.append(w if w in {"N", "S", "E", "W"} else w.capitalize())
    return " ".join(words)


def rounded(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.to_crs(4326)
    out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda c: np.round(c, 5))
    return out


def write(gdf: gpd.GeoDataFrame, path: Path) -> None:
    data = json.loads(gdf.to_json(drop_id=True))
    data.pop("bbox", None)
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(gdf)} features, {path.stat().st_size:,} bytes")


def main(ref: Path) -> None:
    roads = gpd.read_file(ref / "stl_major_roads.geojson").to_crs(UTM)
    length = roads.length.groupby(roads["name"]).transform("sum")
    keep = roads["road_class"].isin(["interstate", "principal_arterial"]) | (length >= MIN_MINOR_M)
    roads = roads[keep].copy()
    roads["label"] = [
        pretty(n, r if isinstance(r, str) and r else None)
        for n, r in zip(roads["name"], roads.get("ref", [None] * len(roads)), strict=True)
    ]
    roads["kind"] = np.where(roads["road_class"] == "interstate", "interstate", "arterial")
    roads = roads.dissolve(by=["label", "kind"], as_index=False)[["label", "kind", "geometry"]]
    roads["geometry"] = roads.geometry.simplify(SIMPLIFY_M, preserve_topology=False)
    roads = roads.rename(columns={"label": "name"}).sort_values(["kind", "name"])
    write(rounded(roads.reset_index(drop=True)), OUT / "basemap_roads.geojson")
    river = gpd.read_file(ref / "mississippi_river.geojson").to_crs(UTM)
    river["geometry"] = river.geometry.simplify(SIMPLIFY_M, preserve_topology=True)
    river = river[["name", "geometry"]]
    write(rounded(river), OUT / "basemap_river.geojson")


if __name__ == "__main__":
    default = ROOT.parent / "shared" / "geo" / "reference"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)

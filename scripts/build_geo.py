"""Build the bundled St. Louis layers in ``data/geo/`` from the ``geocrime-stl`` package.

Run once by a developer (``pip install geocrime-stl==0.2.0`` first, it is a dev-only
dependency); the outputs are committed, so users never need it::

    python scripts/build_geo.py

Writes, all GeoJSON in WGS 84 (EPSG:4326):

* ``city_boundary.geojson``: the City of St. Louis city limit.
* ``neighborhoods.geojson``: the 79 neighborhoods and 9 large parks, numbered 1 to 88 as SLMPD
  numbers them, with their names and 2020 census population. The census pseudo-area 99
  ("Unallocated - Awaiting CQR", an invalid geometry) is dropped.
* ``districts.geojson``: the six SLMPD patrol districts, dissolved from the neighborhoods by
  ``neighborhood_district.csv`` (each neighborhood's majority district, 2014 plan).
* ``impact_zones.geojson``: three illustrative Impact Zones drawn over real neighborhoods.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

OUT = Path(__file__).resolve().parents[1] / "data" / "geo"
WORK_CRS = "EPSG:32615"
#: Illustrative zones: (name, start, neighborhood ids, description).
ZONES = [
    (
        "North",
        "2018-01-01",
        [71, 72],
        "Primary Impact Zone begun 2018 over Walnut Park East and Mark Twain (illustrative).",
    ),
    (
        "Central",
        "2019-01-01",
        [59],
        "Central Impact Zone begun 2019 over JeffVanderLou (illustrative).",
    ),
    (
        "South",
        "2019-01-01",
        [16, 19],
        "South Impact Zone begun 2019 over Dutchtown and Gravois Park (illustrative).",
    ),
]


def _clean(geom):
    """Repair and round a geometry to 1e-7 degrees (about 1 cm)."""
    geom = shapely.make_valid(geom)
    geom = shapely.set_precision(geom, 1e-7)
    return geom


def _drop_small_holes(geom, min_area: float):
    polys = shapely.get_parts(geom)
    kept = [
        shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= min_area])
        for p in polys
    ]
    return shapely.union_all(kept)


def main() -> None:
    import geocrime_stl  # dev-only dependency

    src = Path(os.path.dirname(geocrime_stl.__file__)) / "data"
    boundary = gpd.read_file(src / "stl_boundary_wgs84.geojson").to_crs("EPSG:4326")
    boundary = gpd.GeoDataFrame(
        {"name": ["City of St. Louis"]},
        geometry=[_clean(boundary.union_all())],
        crs="EPSG:4326",
    )

    nb = gpd.read_file(src / "stl_neighborhoods.geojson").to_crs("EPSG:4326")
    nb = nb[nb["neighborhood_id"].between(1, 88)].copy()
    nb = gpd.GeoDataFrame(
        {
            "neighborhood": nb["neighborhood_id"].astype(int).to_numpy(),
            "name": nb["neighborhood_name"].to_numpy(),
            "population": nb["total_population"].astype(int).to_numpy(),
        },
        geometry=[_clean(g) for g in nb.geometry],
        crs="EPSG:4326",
    ).sort_values("neighborhood", ignore_index=True)
    # Make the tessellation exact: no overlaps between neighbours after rounding.
    geoms = list(nb.geometry)
    for i in range(len(geoms)):
        for j in range(i):
            if geoms[i].intersects(geoms[j]) and geoms[i].intersection(geoms[j]).area > 0:
                geoms[i] = shapely.make_valid(geoms[i].difference(geoms[j]))
    nb["geometry"] = [
        shapely.set_precision(
            shapely.MultiPolygon(
                [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and p.area > 1e-10]
            )
            if g.geom_type != "Polygon"
            else g,
            1e-7,
        )
        for g in geoms
    ]

    table = pd.read_csv(OUT / "neighborhood_district.csv")
    nb = nb.merge(table[["neighborhood", "district"]], on="neighborhood", how="left")
    if nb["district"].isna().any():
        raise SystemExit("neighborhood_district.csv misses some neighborhoods")
    nb["district"] = nb["district"].astype(int)

    districts = nb.dissolve(by="district", aggfunc={"population": "sum"}).reset_index()
    # Dissolving leaves slivers of holes (up to a few m^2) where neighborhood edges do not
    # quite meet: drop holes under 1,000 m^2.
    districts["geometry"] = [
        _clean(_drop_small_holes(g, 1000.0)) for g in districts.to_crs(WORK_CRS).geometry
    ]
    districts = districts.set_crs(WORK_CRS, allow_override=True).to_crs("EPSG:4326")
    districts["geometry"] = [_clean(g) for g in districts.geometry]
    districts["name"] = [f"District {d}" for d in districts["district"]]
    districts = districts[["district", "name", "population", "geometry"]]

    nb_m = nb.to_crs(WORK_CRS).set_index("neighborhood")
    rows = []
    for name, start, ids, desc in ZONES:
        geom = shapely.union_all(nb_m.loc[ids].geometry.to_numpy())
        # Close the gaps between the neighborhoods (60 m) and pull the zone 10 m inside their
        # outer edges, so that it is one clean polygon strictly inside the city.
        geom = geom.buffer(60, join_style="mitre").buffer(-70, join_style="mitre")
        rows.append({"name": name, "start": start, "description": desc, "geometry": geom})
    zones = gpd.GeoDataFrame(rows, crs=WORK_CRS).to_crs("EPSG:4326")
    zones["geometry"] = [_clean(g) for g in zones.geometry]

    OUT.mkdir(parents=True, exist_ok=True)
    for gdf, name in [
        (boundary, "city_boundary"),
        (nb.drop(columns="district").assign(district=nb["district"]), "neighborhoods"),
        (districts, "districts"),
        (zones, "impact_zones"),
    ]:
        path = OUT / f"{name}.geojson"
        if path.exists():
            path.unlink()
        gdf.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=7, WRITE_BBOX="NO")
        print(f"wrote {path.relative_to(OUT.parents[1])}: {len(gdf)} features")


if __name__ == "__main__":
    main()

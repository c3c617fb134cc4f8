"""The real SLMPD exports 2017-2019: every incident used is counted in a district.

54 rows (17 of them in 2018) lie inside the city limit but in no polygon of the bundled
districts: they were geocoded to the Poplar Street Bridge (I-55/I-64 over the Mississippi)
and two riverfront sites (Angelrodt St, the E Grand Ave terminal), 4.5 to 53 m east of the
districts' river edge (the city limit runs to the state line mid-river). They used to be
counted in ``used`` and citywide but in no row of the district tables. Now they are the
nearest district's (within :data:`impactzones.core.defaults.DISTRICT_REACH`).

The independent truth is the export's own ``District`` column, which SLMPD filled for
every row: the district we give each of them must be the one SLMPD gave it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def real_assigned(real_incidents_dir):
    from impactzones.assign import assign
    from impactzones.core.geo import st_louis
    from impactzones.io.incidents import read_incidents

    layers = st_louis()
    res = read_incidents([real_incidents_dir], study_area=layers.study_area,
                         work_crs=layers.crs, keep_private=True)  # fmt: skip
    return layers, res, assign(res.incidents, layers)


def _export_districts(folder) -> pd.Series:
    """SLMPD's own district for each complaint number, read straight from the CSVs."""
    frames = []
    for f in sorted(folder.rglob("*.csv")):
        frame = pd.read_csv(f, dtype=str, encoding="latin-1")
        frame.columns = [c.replace("\ufeff", "").replace("ï»¿", "") for c in frame.columns]
        frames.append(frame[["Complaint", "District"]])
    raw = pd.concat(frames, ignore_index=True).drop_duplicates("Complaint", keep="last")
    return pd.to_numeric(raw.set_index(raw["Complaint"].str.strip())["District"], "coerce")


def test_every_used_real_incident_is_counted_in_a_district(real_assigned, real_incidents_dir):
    from impactzones.assign import count_incidents
    from impactzones.core.geo import no_point, xy
    from impactzones.core.geometry import locate

    layers, res, inc = real_assigned
    pointed = inc[~no_point(inc)]
    pos = locate(*xy(pointed), list(layers.districts.geometry))
    off = pointed[pos < 0]  # in the study area, in no district polygon
    assert len(off) == 54 and (off["occurred_at"].dt.year == 2018).sum() == 17
    # where they are: a few metres to 53 m beyond the districts' edge, all on the river side
    edge = layers.districts.geometry.union_all()
    gaps = off.geometry.distance(edge)
    assert gaps.min() > 4 and gaps.max() < 60
    assert off.geometry.drop_duplicates().size == 4
    # the district given is SLMPD's own (one bridge row of the export says 3, the rest 4)
    theirs = _export_districts(real_incidents_dir).reindex(off["incident_id"]).to_numpy()
    ours = off["district"].to_numpy(dtype=float)
    assert np.isfinite(ours).all()
    assert (ours == theirs).sum() >= 53, (ours, theirs)
    # and so the district table adds up to every incident used with a point
    table = count_incidents(inc, by=["year", "district"])
    assert inc.loc[~no_point(inc), "district"].notna().all()
    assert int(table["count"].sum()) == res.tally["used"]


def test_the_cube_counts_them_in_the_same_districts(real_assigned):
    from impactzones.cube import build_cube

    layers, _res, inc = real_assigned
    year = inc[inc["occurred_at"].dt.year == 2018]
    cube = build_cube(year, study_area=layers.study_area, cell_size=500, zones=layers.zones,
                      districts=layers.districts)  # fmt: skip
    areas = cube["area_count"].sum(dim=("time", "group")).to_series()
    by_district = areas[[a for a in areas.index if a.startswith("district:")]]
    # the cube's district counts are assign's, row for row
    expected = year["district"].value_counts()
    got = {int(a.split(":")[1]): int(v) for a, v in by_district.items()}
    assert got == {int(k): int(v) for k, v in expected.items()}
    assert sum(got.values()) == int(areas["city"])


@pytest.mark.slow
def test_incidents_beyond_reach_of_every_district_are_counted_and_said(tmp_path, layers):
    """No real data needed: the bundled districts less district 1, so that most of its
    incidents lie in no district; the demo says how many (the truth: geopandas' own
    point-in-polygon and distances), and the summary says why."""
    import geopandas as gpd

    from impactzones.core.defaults import DISTRICT_REACH
    from impactzones.core.geo import Layers
    from impactzones.pipeline import run_demo
    from impactzones.summaries import demo_summary

    districts = layers.districts[layers.districts["district"] != 1].reset_index(drop=True)
    fewer = Layers(layers.boundary, districts, layers.neighborhoods, layers.zones)
    dfile = tmp_path / "districts.geojson"
    districts.to_file(dfile, driver="GeoJSON")
    res = run_demo(tmp_path / "out", scale=0.05, districts=dfile, pictures=False,
                   parallel=False, evaluate=False, concentration=False, explore=False,
                   compstat=False)  # fmt: skip
    inc = res.incidents
    pts = gpd.GeoSeries(inc.geometry, crs=inc.crs)
    city = pts.intersects(fewer.study_area) & ~pts.is_empty
    far = pts.distance(districts.geometry.union_all()) > DISTRICT_REACH.default
    assert res.headline["in_no_district"] == int((city & far).sum()) > 0
    said = " ".join(b for b in demo_summary(res, tmp_path / "out") if isinstance(b, str))
    assert f"{int((city & far).sum()):,} incidents in the study area lie in no district" in said
    # those within reach are in the nearest district, and the summary says how many
    # (geopandas' distances and point-in-polygon are the truth)
    reached = city & ~far & ~pts.within(districts.geometry.union_all())
    assert res.headline["district_by_reach"] == int(reached.sum()) > 0
    assert f"{int(reached.sum()):,} incidents in the study area lie just outside" in said

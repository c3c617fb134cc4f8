"""reuse_memberships: where the incidents are is found once per table and reused, with the
answers of geopandas' own spatial join."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from impactzones.evaluate import compare
from impactzones.evaluate.compare import reuse_memberships
from impactzones.evaluate.series import series_counts


def _sjoin_monthly(incidents, zone_geom, crs, crime="violent"):
    """Violent incidents per month inside one zone, by geopandas.sjoin (the reference)."""
    inc = incidents[incidents["group"] == crime]
    z = gpd.GeoDataFrame({"z": [1]}, geometry=[zone_geom], crs=crs)
    hit = gpd.sjoin(inc, z, predicate="intersects", how="inner")
    return hit["occurred_at"].dt.to_period("M").value_counts()


def test_counts_in_the_block_are_sjoins_and_found_once(synth, layers, monkeypatch):
    inc = synth.incidents
    calls = []
    real = compare.locate_all
    monkeypatch.setattr(compare, "locate_all", lambda *a: calls.append(1) or real(*a))
    kw = dict(study_area=layers.study_area)
    with reuse_memberships():
        north = series_counts(inc, layers.zones, "North", **kw)
        south = series_counts(inc, layers.zones, "South", **kw)
    assert len(calls) == 2  # zones and rings, once for both zones
    ref = _sjoin_monthly(inc, layers.zones.geometry.iloc[0], layers.zones.crs)
    z = north[north["area"] == "zone"]
    got = pd.Series(z["y"].to_numpy(), index=pd.PeriodIndex(z["period"], freq="M"))
    assert (got == ref.reindex(got.index, fill_value=0)).all()
    calls.clear()
    assert south.equals(series_counts(inc, layers.zones, "South", **kw))  # outside: computed
    assert len(calls) == 2


def test_answers_are_copies_and_other_keys_are_not_mixed_up(synth, layers):
    inc = synth.incidents
    zones, area = layers.zones, layers.study_area
    with reuse_memberships(limit=1):
        in_zone = compare._memberships(inc, zones, 400.0, area)[0]
        in_zone[:] = False  # a caller's change stays its own
        again = compare._memberships(inc, zones, 400.0, area)
        wider = compare._memberships(inc, zones, 800.0, area)  # another ring: its own answer
    assert again[0].any() and again[0].sum() == compare._find_memberships(
        inc, zones, 400.0, area
    )[0].sum()
    assert wider[1].sum() > again[1].sum()
    assert compare._REUSE.get() is None  # nothing kept after the block


def test_compstat_counts_are_pandas_groupby_counts(assigned, layers):
    """Every district's year-to-date count of every category, against a plain groupby."""
    from impactzones.evaluate.compstat import compstat

    t = compstat(assigned, layers, "2018-06-30").table
    ytd = assigned[(assigned["occurred_at"] >= "2018-01-01")
                   & (assigned["occurred_at"] < "2018-07-01")]  # fmt: skip
    ref = ytd.groupby(["district", "category"]).size()
    rows = t[(t["area_type"] == "District") & (t["level"] == "Part I")]
    names = dict(zip(layers.districts["name"].astype(str), layers.districts["district"],
                     strict=True))  # fmt: skip
    for r in rows.itertuples():
        want = ref.get((names[r.area], r.crime), 0)
        assert int(rows.loc[r.Index, "Year to date"]) == int(want)
    assert np.isfinite(rows["Year to date"].to_numpy(float)).all()


def test_series_counts_in_the_block_are_copies(synth, layers):
    inc, kw = synth.incidents, dict(study_area=layers.study_area)
    with reuse_memberships():
        first = series_counts(inc, layers.zones, "North", **kw)
        first["y"] = -1  # the caller's own copy
        again = series_counts(inc, layers.zones, "North", **kw)
    assert (again["y"] >= 0).all()
    assert again.equals(series_counts(inc, layers.zones, "North", **kw))

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


def _north_zone_violent(counts):
    return int(counts.loc[counts["area"] == "zone", "y"].sum())


def _zone_series(counts):
    z = counts[counts["area"] == "zone"]
    return pd.Series(z["y"].to_numpy(), index=pd.PeriodIndex(z["period"], freq="M"))


def test_a_table_changed_inside_the_block_is_counted_anew(synth, layers):
    """A crime column or points changed in place (same table, same length) inside the
    block: the counts are those of the changed table, as geopandas' sjoin finds them."""
    inc = synth.incidents.copy()
    kw = dict(study_area=layers.study_area)
    zone = layers.zones.geometry.iloc[0]
    with reuse_memberships():
        before = series_counts(inc, layers.zones, "North", **kw)
        inside = inc.index[inc.within(zone).to_numpy() & (inc["group"] == "violent").to_numpy()]
        inc.loc[inside[:50], "group"] = "property"  # an edit in place
        edited = series_counts(inc, layers.zones, "North", **kw)
        inc["group"] = inc["group"].where(~inc.index.isin(inside[50:60]), "property")  # replaced
        replaced = series_counts(inc, layers.zones, "North", **kw)
        far = layers.zones.geometry.iloc[-1].representative_point()
        inc.loc[inside[60:90], "geometry"] = far  # points moved out of the zone, in place
        moved = series_counts(inc, layers.zones, "North", **kw)
    ref = _sjoin_monthly(inc, zone, layers.zones.crs)
    assert _north_zone_violent(before) - _north_zone_violent(edited) == 50
    assert _north_zone_violent(edited) - _north_zone_violent(replaced) == 10
    got = _zone_series(moved)
    assert (got == ref.reindex(got.index, fill_value=0)).all()  # sjoin on the final table
    assert _north_zone_violent(replaced) - _north_zone_violent(moved) == 30


def test_a_new_table_in_the_block_is_never_answered_from_another(synth, layers):
    """Tables made, used and dropped inside the block (their ids free for reuse): each
    answer is that table's own."""
    zones, area = layers.zones, layers.study_area
    with reuse_memberships():
        for k in range(4):
            inc = synth.incidents.iloc[k * 7 : k * 7 + 3000].copy()
            got = compare._memberships(inc, zones, 400.0, area)[0].sum(axis=0)
            want = [int(inc.within(z).sum()) for z in zones.geometry]
            assert got.tolist() == want
            del inc

"""Synthetic incidents: exact calibration to the published table, and the planted truth."""

from __future__ import annotations

import filecmp
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impactzones.core.schema import COLUMNS, PART_I
from impactzones.datasets.synth import HotSpot, ZoneEffect, synthesize

from .conftest import SHARED

PUBLISHED = pd.read_csv(resources.files("impactzones.datasets") / "seed_counts.csv")


def test_bundled_table_is_the_shared_one():
    shared = SHARED / "seed_counts.csv"
    if not shared.exists():
        pytest.skip("../shared is not present")
    assert filecmp.cmp(shared, resources.files("impactzones.datasets") / "seed_counts.csv", shallow=False)


def test_schema(synth):
    inc = synth.incidents
    assert list(inc.columns) == COLUMNS
    assert inc["incident_id"].is_unique
    assert inc.crs.to_epsg() == 32615
    assert inc.geometry.geom_type.eq("Point").all()
    assert set(inc["group"]) == {"violent", "property"}
    for flag in ("carjacking", "firearm", "domestic"):
        assert inc[flag].dtype == bool


def test_counts_equal_the_published_table_exactly(synth):
    inc = synth.incidents
    got = inc.groupby([inc["occurred_at"].dt.year, "category"]).size()
    for row in PUBLISHED.itertuples():
        if row.category == "carjacking":
            n = inc[(inc["occurred_at"].dt.year == row.year) & inc["carjacking"]]
            assert len(n) == row.count, row
            assert (n["category"] == "robbery").all()
        else:
            assert got[(row.year, row.category)] == row.count, row
    # carjackings never add to the totals
    assert len(inc) == PUBLISHED.loc[PUBLISHED["category"] != "carjacking", "count"].sum()


def test_published_citywide_change(synth):
    inc = synth.incidents
    v = inc[inc["group"] == "violent"]
    y = v["occurred_at"].dt.year
    assert (y == 2017).sum() == 6459 and (y == 2018).sum() == 5525


def test_2019_stops_on_1_september(synth):
    t = synth.incidents["occurred_at"]
    t19 = t[t.dt.year == 2019]
    assert t19.max() < pd.Timestamp("2019-09-02")
    assert t19.min() >= pd.Timestamp("2019-01-01")
    assert t.min() >= pd.Timestamp("2013-01-01")


def test_violent_crime_peaks_in_summer(synth):
    inc = synth.incidents
    v = inc[inc["group"] == "violent"]
    by_month = v[v["occurred_at"].dt.year < 2019].groupby(v["occurred_at"].dt.month).size()
    summer, winter = by_month[[6, 7, 8]].sum(), by_month[[12, 1, 2]].sum()
    assert summer > 1.2 * winter
    res = stats.chisquare(by_month)
    assert res.pvalue < 1e-6
    hours = v.groupby(v["occurred_at"].dt.hour).size()
    assert hours.idxmax() in (21, 22, 23, 0, 1)
    assert hours.idxmin() in range(7, 14)


def test_north_zone_violent_crime_falls_exactly_20_percent(synth, layers):
    """Checked with geopandas.sjoin, independently of impactzones.assign."""
    inc = synth.incidents
    north = layers.zones[layers.zones["name"] == "North"]
    joined = gpd.sjoin(inc[inc["group"] == "violent"], north, predicate="intersects")
    y = joined["occurred_at"].dt.year
    b, a = (y == 2017).sum(), (y == 2018).sum()
    assert a * 5 == b * 4  # exactly -20%
    assert b > 300
    eff = synth.effects.set_index("zone")
    assert eff.loc["North", "baseline_count"] == b and eff.loc["North", "count"] == a


@pytest.mark.parametrize("zone", ["Central", "South"])
def test_central_and_south_2019_effect_on_the_same_window(synth, layers, zone):
    inc = synth.incidents
    z = layers.zones[layers.zones["name"] == zone]
    joined = gpd.sjoin(inc[inc["group"] == "violent"], z, predicate="intersects")
    t = joined["occurred_at"]
    b = ((t >= "2018-01-01") & (t < "2018-09-02")).sum()
    a = ((t >= "2019-01-01") & (t < "2019-09-02")).sum()
    assert a == round(b * 0.85) and a * 20 == b * 17


def test_effects_are_parameters_including_displacement(layers):
    eff = (ZoneEffect("North", 2017, 2018, -0.30, ring_change=0.10),)
    res = synthesize(seed=3, years=[2017, 2018], effects=eff, ring=400)
    from impactzones.assign import assign

    a = assign(res.incidents, layers, ring=400)
    v = a[a["group"] == "violent"]
    y = v["occurred_at"].dt.year
    zb, za = (
        ((v["zone"] == "North") & (y == 2017)).sum(),
        ((v["zone"] == "North") & (y == 2018)).sum(),
    )
    rb, ra = (
        ((v["ring"] == "North") & (y == 2017)).sum(),
        ((v["ring"] == "North") & (y == 2018)).sum(),
    )
    assert za * 10 == zb * 7
    assert ra * 10 == rb * 11
    # totals still match the table
    assert (y == 2017).sum() == 6459 and (y == 2018).sum() == 5525


def test_deterministic(synth):
    again = synthesize(seed=2018)
    pd.testing.assert_frame_equal(
        pd.DataFrame(synth.incidents.drop(columns="geometry")),
        pd.DataFrame(again.incidents.drop(columns="geometry")),
    )
    assert np.array_equal(synth.incidents.geometry.x, again.incidents.geometry.x)
    other = synthesize(seed=7, years=[2018])
    assert not np.array_equal(
        other.incidents.geometry.x[:100],
        synth.incidents[synth.incidents["occurred_at"].dt.year == 2018].geometry.x[:100],
    )


def test_planted_hot_spots_are_dense_and_groups_differ(synth, layers):
    inc = synth.incidents
    hs = synth.hotspots
    assert {"Washington Avenue", "Walnut Park East", "JeffVanderLou", "Dutchtown"} <= set(
        hs["name"]
    )
    area = layers.study_area.area
    for row in hs.itertuples():
        sel = inc[inc["group"] == row.group]
        r = 2 * row.sigma_m if row.kind == "point" else 300.0
        near = sel.geometry.distance(row.geometry) < r
        # density within r of the centre vs the group's citywide mean density
        ratio = (near.sum() / (np.pi * r**2)) / (len(sel) / area)
        assert ratio > 3, row.name
    # violent and property crime have different geographies
    nb = gpd.sjoin(inc, layers.neighborhoods[["neighborhood", "geometry"]], predicate="within")
    share = nb.groupby(["group", "neighborhood"]).size().unstack(0).fillna(0)
    share = share / share.sum()
    assert (share["violent"] - share["property"]).abs().sum() > 0.3


def test_every_point_inside_the_city(synth, layers):
    x, y = synth.incidents.geometry.x.to_numpy(), synth.incidents.geometry.y.to_numpy()
    import shapely

    assert shapely.contains_xy(layers.study_area, x, y).all()


def test_scale_multiplies_counts():
    res = synthesize(seed=1, scale=0.5, years=[2018])
    got = res.incidents.groupby("category").size()
    table = PUBLISHED[(PUBLISHED["year"] == 2018) & PUBLISHED["category"].isin(PART_I)]
    for row in table.itertuples():
        assert got[row.category] == round(row.count * 0.5)


def test_bad_settings_fail_clearly():
    from impactzones.core.errors import InputError

    with pytest.raises(InputError, match="scale"):
        synthesize(scale=0)
    with pytest.raises(InputError, match="2031"):
        synthesize(years=[2031])
    with pytest.raises(InputError, match="shares"):
        synthesize(years=[2018], hotspots=(HotSpot("x", "violent", 1.2, -90.2, 38.6),))


def test_same_incidents_as_before_the_array_rewrite():
    """The generator's output is pinned: the SHA-256 of every column and point of a small
    run, as the pandas-frame version made them (main before the numpy assembly of ids,
    categories and carjackings, 2026-12-01). A change here changes every demo file."""
    import hashlib

    import pandas as pd

    inc = synthesize(seed=1, years=[2018]).incidents
    table = pd.util.hash_pandas_object(inc.drop(columns="geometry"), index=True)
    digest = hashlib.sha256(table.to_numpy().tobytes() + b"".join(inc.geometry.to_wkb()))
    assert len(inc) == 23668
    assert digest.hexdigest() == "28ee5c81b281379ff9ebfba7fb48ca6a290aaff60f5f05eccc8b1a58faf42c1e", (
        "The synthetic incidents changed. If the synth code changed on purpose, refresh this "
        "digest together with any reference copy of the demo outputs; if only numpy or pandas "
        "changed (a Generator method's algorithm, or pandas' hashing of str columns), see "
        "test_choice_is_numpys_weighted_choice first: the generator's draws are numpy's, and "
        "pin numpy in pyproject.toml or refresh the digest, saying which version made it."
    )
    assert [str(inc[c].dtype) for c in ("incident_id", "category", "occurred_at")] == [
        "str",
        "str",
        "datetime64[ns]",
    ]


def test_incident_ids_number_each_year_from_one_in_the_order_given():
    """Checked against pandas' own count within groups (the formula the ids had)."""
    import numpy as np
    import pandas as pd

    from impactzones.datasets.synth import _incident_ids

    for year in ([2017, 2017, 2018, 2018, 2018], [2018, 2017, 2018, 2017], [2019] * 3, [999, 2018]):
        y = pd.Series(year)
        seq = y.groupby(y).cumcount() + 1
        want = ["S" + str(a) + "-" + f"{b:07d}" for a, b in zip(y, seq, strict=True)]
        assert list(_incident_ids(np.array(year))) == want


def test_choice_is_numpys_weighted_choice():
    """``_choice`` (the cumulative weights made once) draws what numpy's own
    ``Generator.choice(len(p), size, p=p)`` draws, index for index, and leaves the
    generator in the same state: the reference is numpy itself, on the numpy installed."""
    import numpy as np

    from impactzones.datasets.synth import _cdf, _choice

    weights = [
        np.array([0.2, 0.5, 0.3]),
        np.array([0.0, 1.0, 0.0, 2.0]) / 3.0,  # zero weights are never drawn
        np.random.default_rng(5).random(5000) ** 3,  # many small weights, not summing to 1
        np.array([1.0]),
    ]
    for seed, p in enumerate(weights):
        p = p / p.sum()
        for n in (0, 1, 7, 10_000):
            ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
            got = _choice(ours, _cdf(p), n)
            want = theirs.choice(len(p), size=n, p=p)
            assert np.array_equal(got, want) and got.dtype == want.dtype, (
                f"numpy {np.__version__} changed Generator.choice(p=...): make _choice "
                "call rng.choice again (the demo's files then change: refresh the pinned "
                "digest in test_same_incidents_as_before_the_array_rewrite) or keep _choice "
                "and reword its docstring (numpy's former steps, no longer its choice)."
            )
            assert ours.random() == theirs.random()  # the same draws used up

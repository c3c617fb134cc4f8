"""Harm- and area-weighted WDD against ptools' documented examples and hand-worked cases."""

from __future__ import annotations

import math

import pytest

from impactzones.core.errors import InputError
from impactzones.evaluate.compare import wdd
from impactzones.evaluate.harm import area_wdd, harm_table, wdd_harm
from impactzones.evaluate.power import add_power, zone_power


def test_wdd_harm_reproduces_ptools_documented_example():
    # ptools::wdd_harm example: rob wdd(c(20,20),c(20,10)), burg wdd(c(30,30),c(25,20)),
    # theft wdd(c(80,60),c(70,20)); weights 10, 5, 1; alpha 0.1 (its default)
    tests = [wdd((20, 20), (20, 10)), wdd((30, 30), (25, 20)), wdd((80, 60), (70, 20))]
    assert [t.local for t in tests] == [-10, -5, -30]
    assert [t.se**2 for t in tests] == pytest.approx([70, 105, 230])
    h = wdd_harm([t.local for t in tests], [t.se for t in tests], [10, 5, 1])
    assert h.estimate == -155
    assert h.se == pytest.approx(math.sqrt(100 * 70 + 25 * 105 + 230))
    assert h.z == pytest.approx(-155 / math.sqrt(9855))
    assert h.low == pytest.approx(-155 - 1.6448536 * math.sqrt(9855), rel=1e-6)


def test_area_weights_reproduce_ptools_test_values():
    # ptools tests/testthat/test-wdd.R, "Area Weights" (Wheeler 2021 blog post)
    r = wdd((308, 318), (207, 110), (150, 140), (178, 157), area_weights=(0.9, 1.2, 1.6, 1.5))
    assert (r.estimate, r.se, r.z, r.low, r.high) == pytest.approx(
        (-99.69444444, 35.4280755, -2.813995483, -169.1321965, -30.25669241), rel=1e-8
    )


def test_shared_control_area_wdd_by_hand():
    r = area_wdd((100, 80), (60, 66), (1000, 900), (2.0, 3.0, 100.0))
    # zone -20/2 = -10, ring +6/3 = +2, control -100/100 = -1 per km^2, counted twice
    assert r.local == pytest.approx(-9.0) and r.displacement == pytest.approx(3.0)
    assert r.estimate == pytest.approx(-6.0)
    assert r.se**2 == pytest.approx(180 / 4 + 126 / 9 + 4 * 1900 / 100**2)
    # equal unit areas: the count WDD of the shared-control form with a unit area scale
    same = area_wdd((100, 80), (60, 66), (1000, 900), (1.0, 1.0, 1.0))
    assert same.estimate == (80 - 100) + (66 - 60) - 2 * (900 - 1000)


def test_harm_table_from_a_category_comparison(synth, layers):
    from impactzones.evaluate.compare import compare_zones

    t = compare_zones(
        synth.incidents,
        layers.zones.iloc[:1],
        2017,
        2018,
        by="category",
        crimes=["robbery", "burglary", "larceny_theft"],
        study_area=layers.study_area,
        citywide=False,
    )
    h = harm_table(t, {"robbery": 10, "burglary": 5})
    rob = t.set_index("crime").loc["robbery"]
    burg = t.set_index("crime").loc["burglary"]
    assert h.loc[0, "harm_wdd"] == pytest.approx(10 * rob["wdd"] + 5 * burg["wdd"])
    assert h.loc[0, "harm_se"] == pytest.approx(
        math.sqrt(100 * rob["wdd_se"] ** 2 + 25 * burg["wdd_se"] ** 2)
    )
    assert h.loc[0, "left_out"] == "larceny_theft"
    with pytest.raises(InputError):
        harm_table(t, {"robbery": -1})


def test_comparison_table_carries_area_wdd_and_power(synth, layers):
    from impactzones.evaluate.compare import compare_zones, to_markdown

    t = compare_zones(synth.incidents, layers.zones, 2017, 2018, study_area=layers.study_area)
    row = t.iloc[0]
    assert row["zone_km2"] == pytest.approx(layers.zones.geometry.iloc[0].area / 1e6, rel=1e-6)
    assert row["control_km2"] > 100
    again = area_wdd(
        (row["zone_before"], row["zone_after"]),
        (row["ring_before"], row["ring_after"]),
        (row["control_before"], row["control_after"]),
        (row["zone_km2"], row["ring_km2"], row["control_km2"]),
    )
    assert row["wdd_km2"] == pytest.approx(again.estimate)
    phi = float(row["dispersion"]) if "dispersion" in t and row["dispersion"] > 0 else 1.0
    assert row["power_20"] == pytest.approx(zone_power(row["zone_before"], dispersion=phi).power)
    assert "Power:" in to_markdown(t)


def test_add_power_uses_dispersion_and_window_ratio():
    import pandas as pd

    from impactzones.core.windows import Window

    t = pd.DataFrame({"zone": ["A", "B"], "zone_before": [100, 100], "dispersion": [1.0, 3.0]})
    t.attrs["windows"] = (Window.year(2018, end="06-30"), Window.year(2019))
    out = add_power(t)
    assert out.loc[1, "power_20"] < out.loc[0, "power_20"]
    ratio = 365 / 181
    assert out.loc[0, "power_20"] == pytest.approx(zone_power(100, ratio=ratio).power)

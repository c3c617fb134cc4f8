"""Before/after evaluation against published worked examples, hand cases, the planted
truth and a simulation of the E-test's false-positive rate."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from shapely import box

from impactzones.compare import (
    align_windows,
    compare_zones,
    e_test,
    rate_ratio,
    relative_change,
    to_markdown,
    to_records,
    wdd,
    wdd_shared_control,
    wdq,
)
from impactzones.errors import InputError
from impactzones.synth import ZoneEffect, synthesize
from impactzones.windows import Window, parse_window

# ---------------------------------------------------------------- published examples


def test_wdd_wheeler_ratcliffe_worked_example():
    """Wheeler & Ratcliffe (2018): WDD -118, variance 1568, z -2.98, 95% CI -196 to -40."""
    r = wdd((308, 318), (207, 110), (150, 140), (178, 157), alpha=0.05)
    assert r.estimate == -118
    assert r.se**2 == pytest.approx(1568)
    assert round(r.z, 2) == -2.98
    assert (round(r.low), round(r.high)) == (-196, -40)


def test_wdd_time_and_area_weights_match_ptools():
    """The cases in R ptools' tests (Wheeler's blog posts on unequal periods and areas)."""
    r = wdd((100, 50), (80, 20), time_weights=(2, 1))
    assert r.estimate == -20 and r.se == pytest.approx(np.sqrt(115))
    r = wdd((308, 318), (207, 110), (150, 140), (178, 157), area_weights=(0.9, 1.2, 1.6, 1.5))
    assert r.estimate == pytest.approx(-99.69444444)
    assert r.se == pytest.approx(35.4280755)
    assert r.z == pytest.approx(-2.813995483)


@pytest.mark.parametrize("k1,n1,k2,n2,p", [(0, 100, 3, 100, 0.0884), (2, 100, 6, 100, 0.1749)])
def test_e_test_krishnamoorthy_thomson_examples(k1, n1, k2, n2, p):
    assert e_test(k1, k2, n1, n2) == pytest.approx(p, abs=1e-4)


# ---------------------------------------------------------------- hand cases


def test_wdq_hand_cases():
    # displacement exactly cancels the reduction
    w = wdq((100, 80), (100, 120), (1000, 1000))
    assert w.wdq == -1.0 and w.total_net_effect == 0
    # diffusion: the ring falls too
    w = wdq((100, 80), (100, 90), (1000, 1000))
    assert w.wdq == pytest.approx(0.5) and "diffusion" in w.reading
    assert w.total_net_effect == pytest.approx(30)
    # the control fell as much as the zone: nothing to displace
    w = wdq((100, 80), (100, 80), (1000, 800))
    assert np.isnan(w.wdq) and w.reading.startswith("no reduction")
    # more displaced than prevented
    assert wdq((100, 80), (100, 130), (1000, 1000)).reading == (
        "displacement larger than the reduction")


def test_shared_control_wdd_is_minus_the_total_net_effect():
    T, D, C = (200, 150), (120, 110), (2000, 1800)
    w = wdq(T, D, C)
    d = wdd_shared_control(T, D, C)
    # by hand: the control fell 10%, so the zone "should" have had 180 and the ring 108;
    # it had 150 and 110: 30 prevented in the zone, 2 more in the ring, net 28
    assert w.total_net_effect == pytest.approx(28)
    assert d.estimate == pytest.approx(-28)
    assert (d.local, d.displacement) == (pytest.approx(-30), pytest.approx(2))
    # variance: the control enters twice, with weights that add up
    k = (200 + 120) / 2000
    assert d.se**2 == pytest.approx(200 + 150 + 120 + 110 + k**2 * 3800)


def test_rate_ratio_exact_interval_by_hand():
    rr = rate_ratio(100, 80)
    # conditional binomial: 80 of 180 after; Clopper-Pearson limits via the beta quantiles
    lo = stats.beta.ppf(0.025, 80, 101)
    hi = stats.beta.ppf(0.975, 81, 100)
    assert rr.irr == pytest.approx(0.8)
    assert rr.low == pytest.approx(lo / (1 - lo)) and rr.high == pytest.approx(hi / (1 - hi))
    assert rate_ratio(0, 5).irr != rate_ratio(0, 5).irr  # NaN, no exception


def test_rate_ratio_interval_covers_95_percent():
    rng = np.random.default_rng(0)
    lam_b, lam_a = 60.0, 45.0
    cover = 0
    for _ in range(2000):
        rr = rate_ratio(rng.poisson(lam_b), rng.poisson(lam_a))
        cover += rr.low <= lam_a / lam_b <= rr.high
    assert cover / 2000 >= 0.94  # exact intervals are conservative


def test_relative_change_by_hand():
    ratio, lo, hi, p = relative_change((100, 80), (1000, 1000))
    se = np.sqrt(1 / 100 + 1 / 80 + 2 / 1000)
    assert ratio == pytest.approx(0.8)
    assert lo == pytest.approx(0.8 * np.exp(-1.959964 * se), rel=1e-5)
    assert hi == pytest.approx(0.8 * np.exp(1.959964 * se), rel=1e-5)
    assert p == pytest.approx(2 * stats.norm.sf(abs(np.log(0.8)) / se))


def test_e_test_false_positive_rate_is_near_5_percent():
    """No planted effect: equal Poisson means before and after."""
    rng = np.random.default_rng(42)
    for lam in (8.0, 60.0):
        b = rng.poisson(lam, 3000)
        a = rng.poisson(lam, 3000)
        p = np.array([e_test(x, y) for x, y in zip(b, a, strict=True)])
        rate = (p < 0.05).mean()
        assert 0.03 <= rate <= 0.065, (lam, rate)


# ---------------------------------------------------------------- windows


def test_windows():
    assert parse_window(2019).days == 365
    assert parse_window("2019-01-01:2019-09-01").days == 244
    with pytest.raises(InputError, match="not like for like"):
        align_windows(2018, "2019-01-01:2019-09-01")
    b, a, _ = align_windows(2018, "2019-01-01:2019-09-01", normalise="daily")
    assert (b.days, a.days) == (365, 244)
    b, a, note = align_windows(2018, 2019, pd.Timestamp("2019-09-01").date())
    assert b == Window.year(2018, end="09-01") and a == Window.year(2019, end="09-01")
    assert "same calendar days" in note
    with pytest.raises(InputError):
        parse_window("last year")


# ---------------------------------------------------------------- the zone table


@pytest.fixture(scope="module")
def north_table(synth, layers):
    return compare_zones(synth.incidents, layers.zones, 2017, 2018,
                         study_area=layers.study_area)


def test_north_zone_falls_exactly_20_percent(north_table, synth):
    row = north_table[(north_table["zone"] == "North") & (north_table["crime"] == "violent")]
    row = row.iloc[0]
    assert row["zone_pct_change"] == -20.0
    eff = synth.effects.set_index("zone").loc["North"]
    assert (row["zone_before"], row["zone_after"]) == (eff["baseline_count"], eff["count"])
    assert "fell 20.0% in the North zone" in row["verdict"]


def test_citywide_row_reproduces_the_published_change(north_table):
    row = north_table[(north_table["zone"] == "Citywide") & (north_table["crime"] == "violent")]
    row = row.iloc[0]
    assert (row["zone_before"], row["zone_after"]) == (6459, 5525)
    assert row["zone_pct_change"] == pytest.approx(-14.46044279)
    assert "fell 14.5% citywide" in row["verdict"]


def test_areas_partition_the_city(north_table):
    for crime in ("violent", "property"):
        t = north_table[north_table["crime"] == crime].set_index("zone")
        city = t.loc["Citywide"]
        zones = t.drop(index="Citywide")
        for when in ("before", "after"):
            total = zones[f"zone_{when}"].sum() + zones[f"ring_{when}"].sum() + \
                zones[f"control_{when}"].iloc[0]
            assert total == city[f"zone_{when}"]


def test_central_and_south_compare_the_same_calendar_days(synth, layers):
    t = compare_zones(synth.incidents, layers.zones.iloc[1:], 2018, 2019,
                      study_area=layers.study_area)
    assert t.attrs["before"] == "2018-01-01 to 2018-09-01"
    v = t[t["crime"] == "violent"].set_index("zone")
    for zone in ("Central", "South"):
        assert v.loc[zone, "zone_after"] * 20 == v.loc[zone, "zone_before"] * 17  # -15%
    assert "same calendar days" in t["note"].iloc[0]


def test_planted_displacement_is_read_as_displacement(layers):
    eff = (ZoneEffect("North", 2017, 2018, -0.30, ring_change=0.40),)
    inc = synthesize(seed=11, years=[2017, 2018], effects=eff).incidents
    t = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area,
                      crimes=["violent"], citywide=False)
    row = t.iloc[0]
    assert row["wdq"] < 0 and "displacement" in row["wdq_reading"]
    assert "displacement" in row["verdict"] and "no sign" not in row["verdict"]
    eff = (ZoneEffect("North", 2017, 2018, -0.30, ring_change=-0.50),)
    inc = synthesize(seed=11, years=[2017, 2018], effects=eff).incidents
    row = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area,
                        crimes=["violent"], citywide=False).iloc[0]
    assert row["wdq"] > 0 and "diffusion" in row["verdict"]


def test_zero_before_is_undefined_not_an_error():
    crs = "EPSG:32615"
    zones = gpd.GeoDataFrame({"name": ["Z"]}, geometry=[box(0, 0, 100, 100)], crs=crs)
    inc = gpd.GeoDataFrame(
        {"occurred_at": pd.to_datetime(["2019-03-01", "2019-04-01", "2018-01-02"]),
         "group": "violent", "category": "robbery"},
        geometry=gpd.points_from_xy([50, 60, 900], [50, 60, 900]), crs=crs)
    t = compare_zones(inc, zones, 2018, 2019, crimes=["violent"], citywide=False)
    row = t.iloc[0]
    assert np.isnan(row["zone_pct_change"]) and "undefined" in row["note"]
    assert "undefined" in row["verdict"]
    assert to_records(t)[0]["zone_pct_change"] is None  # JSON null, never inf


def test_exports(north_table):
    md = to_markdown(north_table)
    assert md.splitlines()[0].startswith("| Zone | Crime |")
    assert "-20.0%" in md and "-14.5%" in md
    assert "Violent crime fell 20.0% in the North zone" in md


def test_daily_normalisation_by_hand():
    """2018 (365 days) against 1 January to 31 March 2019 (90 days), as daily rates."""
    crs = "EPSG:32615"
    zones = gpd.GeoDataFrame({"name": ["Z"]}, geometry=[box(0, 0, 100, 100)], crs=crs)
    when = (["2018-06-01"] * 100 + ["2019-02-01"] * 40      # in the zone
            + ["2018-06-01"] * 730 + ["2019-02-01"] * 180)  # far away: the control
    x = [50] * 140 + [5000] * 910
    inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(when), "group": "violent",
                            "category": "robbery"},
                           geometry=gpd.points_from_xy(x, x), crs=crs)
    with pytest.raises(InputError, match="not like for like"):
        compare_zones(inc, zones, 2018, "2019-01-01:2019-03-31", crimes=["violent"])
    t = compare_zones(inc, zones, 2018, "2019-01-01:2019-03-31", crimes=["violent"],
                      normalise="daily", citywide=False)
    row = t.iloc[0]
    assert row["zone_pct_change"] == pytest.approx(((40 / 90) / (100 / 365) - 1) * 100)
    assert row["irr"] == pytest.approx((40 / 90) / (100 / 365))
    assert row["control_pct_change"] == pytest.approx(((180 / 90) / (730 / 365) - 1) * 100)
    assert row["p_value"] == pytest.approx(stats.poisson_means_test(40, 90, 100, 365).pvalue)
    assert "rates per day" in row["note"]


def test_calendar_years_are_like_for_like_across_a_leap_year():
    b, a, note = align_windows(2019, 2020)
    assert (b.days, a.days) == (365, 366) and note == ""
    # dates given explicitly are taken as given, whatever the data cover
    b, a, note = align_windows("2019-01-01:2019-03-31", "2020-01-01:2020-03-30",
                               pd.Timestamp("2020-02-01").date())
    assert a.label == "2020-01-01 to 2020-03-30" and note == ""

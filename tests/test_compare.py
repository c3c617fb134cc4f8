"""Before/after evaluation against published worked examples, hand cases, the planted
truth and a simulation of the E-test's false-positive rate."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from shapely import box

from impactzones.core.errors import InputError
from impactzones.core.windows import Window, parse_window
from impactzones.datasets.synth import ZoneEffect, synthesize
from impactzones.evaluate.compare import (
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


# Hand-worked WDQs (zone 100 -> 80, control 1000 -> 1000, so the zone's success is -0.02 and
# WDQ = the ring's change / -20): ring 100 -> 180 is -4, -> 120 is -1, -> 110 is -0.5,
# -> 101 is -0.05, -> 90 is +0.5. The ring's p decides "beyond chance" at 5%.
_LARGER, _CANCELS = "displacement larger than the reduction", "displacement cancels the reduction"
_SOME, _DIFFUSION = "some displacement into the ring", "diffusion of benefits into the ring"
_RING_CASES = [
    (180, 0.6, f"rose more than the zone fell (WDQ -4.00: {_LARGER}), but not beyond chance"),
    (180, 0.01, f"rose more than the zone fell (WDQ -4.00: {_LARGER}), beyond chance"),
    (120, 0.6, f"rose as much as the zone fell (WDQ -1.00: {_CANCELS}), but not beyond"),
    (110, 0.6, f"rose, by less than the zone fell (WDQ -0.50: {_SOME}), but not beyond"),
    (110, 0.01, f"rose, by less than the zone fell (WDQ -0.50: {_SOME}), beyond chance"),
    (101, 0.6, "barely moved (WDQ -0.05), not beyond chance"),
    (90, 0.6, f"fell too (WDQ 0.50: {_DIFFUSION}), but not beyond chance"),
    (90, 0.01, f"fell too (WDQ 0.50: {_DIFFUSION}), beyond chance"),
]


@pytest.mark.parametrize(("ring_after", "ring_p", "clause"), _RING_CASES)
def test_verdict_ring_clause_agrees_with_the_wdq(ring_after, ring_p, clause):
    """The verdict's ring clause says what the WDQ says (never "no sign of displacement"
    beside a WDQ of -4) and judges chance by the ring's p, which it prints."""
    from impactzones.evaluate.compare import _verdict

    w = wdq((100, 80), (100, ring_after), (1000, 1000))
    row = dict(zone_pct_change=-20.0, zone_before=100, zone_after=80, p_value=0.1,
               control_pct_change=0.0, relative_ratio=0.8, relative_low=0.6,
               relative_high=1.1, wdq=w.wdq, wdq_reading=w.reading, ring_relative_p=ring_p,
               wdd=5.0, wdd_p=0.605)
    text = _verdict("North", "violent", row, 400)
    assert f"; against the rest of the city, the 400 m ring {clause}" in text
    assert f"(ring p = {ring_p:.3f}; WDD +5, p = 0.605)." in text
    assert "no sign of displacement" not in text
    # the map headline reads the same rule
    from impactzones.maps.build import ring_words

    words = ring_words(row, 400)
    assert words.split(": ", 1)[1] in text
    assert words.startswith("beyond chance" if ring_p < 0.05 else "not beyond chance")


def test_verdict_does_not_judge_the_ring_without_a_reduction():
    from impactzones.evaluate.compare import _verdict

    w = wdq((100, 120), (100, 150), (1000, 1000))
    row = dict(zone_pct_change=20.0, zone_before=100, zone_after=120, p_value=0.2,
               control_pct_change=0.0, relative_ratio=1.2, relative_low=0.9,
               relative_high=1.6, wdq=w.wdq, wdq_reading=w.reading, ring_relative_p=0.01,
               wdd=5.0, wdd_p=0.5)
    assert "no reduction to displace, so the 400 m ring is not judged (ring p = 0.010" in (
        _verdict("North", "violent", row, 400))


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


@pytest.mark.slow
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


def _daily_case(ring_incidents: bool = True):
    """2018 (365 days) against 1 January to 31 March 2019 (90 days)."""
    crs = "EPSG:32615"
    zones = gpd.GeoDataFrame({"name": ["Z"]}, geometry=[box(0, 0, 100, 100)], crs=crs)
    when = (["2018-06-01"] * 100 + ["2019-02-01"] * 40      # in the zone
            + ["2018-06-01"] * 730 + ["2019-02-01"] * 180)  # far away: the control
    x = [50] * 140 + [5000] * 910
    if ring_incidents:
        when += ["2018-07-01"] * 60 + ["2019-03-01"] * 20  # the 400 m ring
        x += [300] * 80
    inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(when), "group": "violent",
                            "category": "robbery"},
                           geometry=gpd.points_from_xy(x, x), crs=crs)
    return inc, zones


def _glm_interaction(T, C, exposure):
    """The zone-by-after interaction of a Poisson GLM with log-exposure offsets."""
    import statsmodels.api as sm

    y = np.array([T[0], T[1], C[0], C[1]], float)
    zone = np.array([1, 1, 0, 0])
    after = np.array([0, 1, 0, 1])
    X = sm.add_constant(np.column_stack([zone, after, zone * after]).astype(float))
    off = np.log(np.array([exposure[0], exposure[1]] * 2, float))
    fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=off).fit()
    lo, hi = np.exp(fit.conf_int()[3])
    return np.exp(fit.params[3]), lo, hi, fit.pvalues[3]


def test_daily_rates_against_a_poisson_glm_with_offsets():
    inc, zones = _daily_case()
    with pytest.raises(InputError, match="not like for like"):
        compare_zones(inc, zones, 2018, "2019-01-01:2019-03-31", crimes=["violent"])
    row = compare_zones(inc, zones, 2018, "2019-01-01:2019-03-31", crimes=["violent"],
                        normalise="daily", citywide=False, dispersion="poisson").iloc[0]
    assert row["zone_pct_change"] == pytest.approx(((40 / 90) / (100 / 365) - 1) * 100)
    assert row["irr"] == pytest.approx((40 / 90) / (100 / 365))
    assert row["control_pct_change"] == pytest.approx(((180 / 90) / (730 / 365) - 1) * 100)
    assert row["e_test_p"] == pytest.approx(stats.poisson_means_test(40, 90, 100, 365).pvalue)
    # the conditional test: 40 of 140 after, p0 = 90 / 455 (scipy's binomial tails)
    p0 = 90 / 455
    central = 2 * min(stats.binom.sf(39, 140, p0), stats.binom.cdf(40, 140, p0))
    assert row["p_value"] == pytest.approx(central, rel=1e-9)
    ratio, lo, hi, p = _glm_interaction((100, 40), (730, 180), (365, 90))
    assert (row["relative_ratio"], row["relative_low"], row["relative_high"]) == pytest.approx(
        (ratio, lo, hi), rel=1e-6)
    assert row["relative_p"] == pytest.approx(p, rel=1e-6)
    ring_p = _glm_interaction((60, 20), (730, 180), (365, 90))[3]
    assert row["ring_relative_p"] == pytest.approx(ring_p, rel=1e-5)  # IRLS tolerance
    # WDD: the control's variance once, with the summed weight (not twice)
    k = (100 + 60) / 730
    assert row["wdd"] == pytest.approx((40 - 100 * 180 / 730) + (20 - 60 * 180 / 730))
    assert row["wdd_se"] ** 2 == pytest.approx(100 + 40 + 60 + 20 + k**2 * (730 + 180))
    assert "rates per day" in row["note"]


def test_daily_rates_with_an_empty_ring_do_not_crash():
    inc, zones = _daily_case(ring_incidents=False)
    row = compare_zones(inc, zones, 2018, "2019-01-01:2019-03-31", crimes=["violent"],
                        normalise="daily").iloc[0]
    assert row["ring_before"] == 0 and np.isnan(row["ring_relative_p"])
    assert "the 400 m ring barely moved (WDQ 0.00)." in row["verdict"] or (
        "not judged" in row["verdict"])


def test_year_to_date_across_a_leap_day_is_like_for_like():
    import datetime as dt

    b, a, note = align_windows(2019, 2020, dt.date(2020, 9, 1))
    assert (b.days, a.days) == (244, 245) and "same calendar days" in note


def test_an_after_window_without_data_is_undefined_with_the_reason():
    inc, zones = _daily_case()
    t = compare_zones(inc, zones, 2018, 2020, crimes=["violent"])
    for row in t.to_dict("records"):
        assert np.isnan(row["zone_pct_change"]) and np.isnan(row["p_value"])
        assert "no data in the after window" in row["verdict"]
        assert "fell 100" not in row["verdict"]


def test_e_test_switches_to_its_normal_approximation_without_a_jump():
    from impactzones.evaluate.compare import E_TEST_EXACT_MAX

    n = E_TEST_EXACT_MAX
    for shift in (0, 60, 100, 150, 250):
        b, a = n // 2 + shift, n // 2 - shift  # b + a = n: still exact
        exact = stats.poisson_means_test(a, 1.0, b, 1.0).pvalue
        assert e_test(b, a) == pytest.approx(exact, abs=1e-12)
        above = stats.poisson_means_test(a, 1.0, b + 1, 1.0).pvalue
        assert e_test(b + 1, a) == pytest.approx(above, abs=1e-3)  # n + 1: normal
    exact = stats.poisson_means_test(4_000, 244.0, 6_001, 365.0).pvalue
    assert e_test(6_001, 4_000, 365, 244) == pytest.approx(exact, abs=1e-3)


def test_the_p_value_and_the_interval_never_disagree():
    """One rule: p < 0.05 exactly when the 95% interval excludes 1 (the E-test and the
    exact interval disagreed on 120 of these pairs, e.g. 40 -> 24)."""
    for phi in (1.0, 2.7):
        for b in range(0, 81):
            for a in range(0, 81):
                rr = rate_ratio(b, a, dispersion=phi)
                if not np.isfinite(rr.p_value):
                    continue
                assert (rr.p_value < 0.05) == (rr.high < 1 or rr.low > 1), (b, a, phi)
    rr = rate_ratio(40, 24)
    assert rr.p_value > 0.05 and rr.low < 1 < rr.high


def test_dispersion_is_the_pearson_statistic_of_a_poisson_glm():
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(3)
    mu = np.outer([5, 40, 300, 12], 1 + 0.2 * np.sin(np.arange(12)))
    y = rng.negative_binomial(4, 4 / (4 + mu))
    from impactzones.evaluate.compare import dispersion

    df = pd.DataFrame({"y": y.ravel(), "area": np.repeat(np.arange(4), 12),
                       "month": np.tile(np.arange(12), 4)})
    fit = smf.glm("y ~ C(area) + C(month)", df, family=sm.families.Poisson()).fit()
    assert dispersion(y) == pytest.approx(fit.pearson_chi2 / fit.df_resid, rel=1e-6)
    assert dispersion(rng.poisson(mu)) < 2  # Poisson counts: about 1


def test_overdispersed_no_effect_false_positive_rate_is_about_5_percent():
    """No effect, counts with variance 3 x the mean: the default (estimated dispersion)
    calls about 5% of comparisons significant; the exact Poisson figures about 30%."""
    from impactzones.evaluate.compare import dispersion

    rng = np.random.default_rng(11)
    phi_true = 3.0
    means = np.array([30.0, 60.0, 400.0, 20.0, 90.0])  # zone, ring, control, others
    k = means / (phi_true - 1)  # negative binomial with variance phi x mean
    hits = {"estimate": 0, "poisson": 0}
    runs = 2000
    for _ in range(runs):
        before = rng.negative_binomial(k[:, None], (k / (k + means))[:, None], (5, 12))
        after = rng.negative_binomial(k[:, None], (k / (k + means))[:, None], (5, 12))
        phi = dispersion(before)
        b, a = before[0].sum(), after[0].sum()
        hits["estimate"] += rate_ratio(b, a, dispersion=phi).p_value < 0.05
        hits["poisson"] += rate_ratio(b, a).p_value < 0.05
    assert hits["estimate"] / runs <= 0.065, hits
    assert hits["poisson"] / runs > 0.2, hits


def test_dispersion_one_leaves_the_published_figures_unchanged():
    r = wdd_shared_control((100, 80), (100, 100), (1000, 1000), dispersion=1.0)
    assert r.se**2 == pytest.approx(100 + 80 + 100 + 100 + 0.2**2 * 2000)
    rr = rate_ratio(100, 80, dispersion=1.0)
    assert rr.low == pytest.approx(stats.beta.ppf(0.025, 80, 101) / (1 - stats.beta.ppf(
        0.025, 80, 101)))
    assert rr.e_test_p == pytest.approx(stats.poisson_means_test(80, 1, 100, 1).pvalue)
    ratio, lo, hi, p = relative_change((100, 80), (1000, 1000), dispersion=1.0)
    assert (ratio, lo, hi, p) == pytest.approx(_glm_interaction((100, 80), (1000, 1000),
                                                                (1, 1)), rel=1e-6)


def test_calendar_years_are_like_for_like_across_a_leap_year():
    b, a, note = align_windows(2019, 2020)
    assert (b.days, a.days) == (365, 366) and note == ""
    # dates given explicitly are taken as given, whatever the data cover
    b, a, note = align_windows("2019-01-01:2019-03-31", "2020-01-01:2020-03-30",
                               pd.Timestamp("2020-02-01").date())
    assert a.label == "2020-01-01 to 2020-03-30" and note == ""


# ---------------------------------------------------------------- the comparison result


def test_comparison_is_a_typed_result_with_nothing_in_attrs(north_table, layers):
    from impactzones.evaluate.compare import Comparison

    c = north_table
    assert isinstance(c, Comparison)
    assert c.table.attrs == {}  # nothing a later step needs travels in DataFrame.attrs
    assert (c.before, c.after) == (Window.year(2017), Window.year(2018))
    assert c.params["ring"] == 400.0 and c.params["ring_rule"] == "default (400 m)"
    assert c.params["crimes"] == ["violent", "property"] and c.params["by"] == "group"
    # the dispersion each crime used is the one in its rows
    for crime, phi in c.params["dispersion_used"].items():
        assert set(c.table.loc[c.table["crime"] == crime, "dispersion"]) == {phi}
    # earlier callers read the table through the result, and its attrs from the attributes
    assert len(c) == len(c.table) and "wdd" in c and c.loc[0, "zone"] == c.table.loc[0, "zone"]
    assert c.attrs["windows"] == (c.before, c.after)


def test_comparison_geodataframe_and_files_round_trip(north_table, layers, tmp_path):
    c = north_table
    gdf = c.to_geodataframe()
    assert gdf.crs == layers.zones.crs and len(gdf) == len(c.table)
    south = layers.zones.set_index("name").geometry["South"]
    assert gdf.loc[gdf["zone"] == "South"].geometry.iloc[0].equals(south)
    assert gdf.loc[gdf["zone"] == "Citywide"].geometry.iloc[0].equals(layers.study_area)
    back = pd.read_csv(c.to_file(tmp_path / "c.csv"))
    assert back["zone_before"].tolist() == c.table["zone_before"].tolist()
    g = gpd.read_file(c.to_file(tmp_path / "c.gpkg"))
    assert g["wdd"].tolist() == pytest.approx(c.table["wdd"].tolist(), nan_ok=True)
    assert (tmp_path / "c.md").exists() is False
    assert c.to_file(tmp_path / "c.md").read_text() == to_markdown(c)
    with pytest.raises(InputError, match=r"Cannot write c\.xlsx"):
        c.to_file(tmp_path / "c.xlsx")

"""Interrupted time series: against statsmodels fitted directly, and planted effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from impactzones.core.errors import InputError
from impactzones.evaluate.series import (
    evaluate_series,
    its_from_counts,
    plot_counterfactual,
    series_counts,
    simulate_counts,
)


def _direct_table(counts, start):
    """The model table built by hand, independently of the package's design code."""
    d = counts.copy()
    d["period"] = pd.to_datetime(d["period"])
    t0 = d["period"].min()
    d["tt"] = (d["period"] - t0).dt.days / 365.25
    d["m"] = d["period"].dt.month.astype(str)
    d["after"] = (d["period"] >= pd.Timestamp(start)).astype(int)
    d["since"] = d["after"] * (d["period"] - pd.Timestamp(start)).dt.days / 365.25
    d["z"] = (d["area"] == "zone").astype(int)
    return d


@pytest.mark.parametrize("model", ["quasipoisson", "poisson", "negbin"])
def test_coefficients_identical_to_statsmodels(model):
    counts = simulate_counts(seed=11, alpha=0.05)
    r = its_from_counts(counts, "2018-01-01", model=model, seasonality="month")
    d = _direct_table(counts, "2018-01-01")
    z = d[d["area"] == "zone"].reset_index(drop=True)
    fam = sm.families.Poisson()
    if model == "negbin":
        fam = sm.families.NegativeBinomial(alpha=r.dispersion)
    fit = smf.glm("y ~ tt + C(m) + after + since", z, family=fam, offset=np.log(z["days"])).fit(
        scale="X2" if model == "quasipoisson" else None
    )
    assert math.isclose(r.level.pct, 100 * (math.exp(fit.params["after"]) - 1), rel_tol=1e-9)
    assert math.isclose(r.slope.pct, 100 * (math.exp(fit.params["since"]) - 1), rel_tol=1e-9)
    lo = 100 * (math.exp(fit.conf_int().loc["after", 0]) - 1)
    assert math.isclose(r.level.low, lo, rel_tol=1e-7)
    assert math.isclose(r.level.p_value, fit.pvalues["after"], rel_tol=1e-7)
    np.testing.assert_allclose(r.counterfactual["fitted"], fit.fittedvalues, rtol=1e-9)
    # the difference-in-differences model, stacked zone and control
    s = d[d["area"] != "ring"].reset_index(drop=True)
    fs = smf.glm(
        "y ~ z * tt + C(m) + after + since + z:after + z:since",
        s,
        family=fam,
        offset=np.log(s["days"]),
    ).fit(scale="X2" if model == "quasipoisson" else None)
    # with no slope change the average effect is the level coefficient: check it there
    r0 = its_from_counts(counts, "2018-01-01", model=model, seasonality="month", slope=False)
    w = np.ones(len(s))
    if model == "negbin":
        fam = sm.families.NegativeBinomial(alpha=r0.params["dispersions"]["relative"])
    if model == "quasipoisson":  # each area's own dispersion, as variance weights
        w = 1 / s["area"].map(r0.params["dispersions"]["relative_by_area"]).to_numpy()
    f0 = smf.glm(
        "y ~ z * tt + C(m) + after + z:after",
        s,
        family=fam,
        offset=np.log(s["days"]),
        var_weights=w,
    ).fit(scale="X2" if model == "quasipoisson" else None)
    assert math.isclose(r0.relative.pct, 100 * (math.exp(f0.params["z:after"]) - 1), rel_tol=1e-9)
    assert math.isclose(r0.relative.p_value, f0.pvalues["z:after"], rel_tol=1e-6)
    assert np.isfinite(fs.params["z:since"])


def test_average_effect_is_the_ratio_of_expected_counts():
    """The average post effect by hand: sum of fitted / sum of fitted without the zone."""
    counts = simulate_counts(seed=5)
    r = its_from_counts(counts, "2018-01-01", seasonality="month")
    cf = r.counterfactual[r.counterfactual["post"]]
    assert math.isclose(
        r.effect.pct, 100 * (cf["fitted"].sum() / cf["expected"].sum() - 1), rel_tol=1e-9
    )


def _coverage(effect, seeds, **kw):
    hits = sig = rel_hits = 0
    for seed in seeds:
        r = its_from_counts(simulate_counts(seed=seed, effect=effect, **kw), "2018-01-01")
        truth = 100 * effect
        hits += r.effect.low <= truth <= r.effect.high
        rel_hits += r.relative.low <= truth <= r.relative.high
        sig += r.effect.p_value < 0.05
    return hits / len(seeds), rel_hits / len(seeds), sig / len(seeds)


def test_planted_drop_is_recovered_with_nominal_coverage():
    """-20% from January 2018, seasonality, a trend and overdispersion (NB, alpha 0.03)."""
    cover, rel_cover, power = _coverage(-0.2, range(120), alpha=0.03)
    assert cover >= 0.90 and rel_cover >= 0.90
    assert power > 0.25  # 40 a month, 36 months before: a 20% drop is often missed


def test_no_effect_gives_about_five_percent_false_positives():
    cover, _, false_pos = _coverage(0.0, range(1000, 1150), alpha=0.03)
    assert 0.01 <= false_pos <= 0.10
    assert cover >= 0.90


def test_synthetic_generator_north_zone_drop(synth, layers):
    """The generator plants exactly -20% violent crime in the North zone in 2018."""
    r = evaluate_series(synth.incidents, "North", zones=layers.zones, study_area=layers.study_area)
    assert r.params["start"] == "2018-01-01" and r.params["periods_after"] == 20
    assert r.effect.low < -20 < r.effect.high
    assert r.level.low < -20 < r.level.high
    assert "lower than its own trend" in r.verdict


def test_counts_match_a_direct_tally(synth, layers):
    inc = synth.incidents
    c = series_counts(inc, layers.zones, "North", study_area=layers.study_area)
    z = c[c["area"] == "zone"].set_index("period")["y"]
    inside = inc[inc.within(layers.zones.geometry.iloc[0]) & (inc["group"] == "violent")]
    by_month = inside["occurred_at"].dt.to_period("M").dt.start_time.value_counts()
    assert z.loc["2017-03-01"] == by_month.loc["2017-03-01"]
    assert z.sum() == by_month[by_month.index.isin(z.index)].sum()


def test_png_is_written_and_deterministic(tmp_path):
    r = its_from_counts(simulate_counts(seed=2), "2018-01-01")
    a = plot_counterfactual(r, tmp_path / "a.png")
    b = plot_counterfactual(r, tmp_path / "b.png")
    assert a == b == (tmp_path / "a.png").read_bytes()


def test_bad_input_is_one_sentence():
    counts = simulate_counts(seed=1)
    with pytest.raises(InputError, match="at least 6 periods before"):
        its_from_counts(counts, "2015-03-01")
    with pytest.raises(InputError, match="model must be"):
        its_from_counts(counts, "2018-01-01", model="ols")


def test_transition_period_is_left_out():
    r = its_from_counts(simulate_counts(seed=1), "2018-01-15")
    assert r.params["transition_dropped"] and r.params["periods_after"] == 23


@pytest.mark.real
def test_real_exports_north_zone(real_incidents_dir, layers):
    from impactzones.io import read_incidents

    res = read_incidents([real_incidents_dir], study_area=layers.study_area, work_crs=layers.crs)
    r = evaluate_series(res.incidents, "North", zones=layers.zones, study_area=layers.study_area)
    assert r.params["periods_before"] == 12 and r.params["seasonality"] == "harmonic"
    assert np.isfinite(r.effect.pct) and r.effect.low < r.effect.pct < r.effect.high


def test_weekly_series_recovers_the_planted_drop(synth, layers):
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2016, 2017, 2018])]
    r = evaluate_series(
        inc, "North", zones=layers.zones, study_area=layers.study_area, freq="W", slope=False
    )
    assert r.params["freq"] == "W" and not r.params["transition_dropped"]  # 1 Jan 2018: Monday
    assert 100 < r.params["periods_before"] < 106 and r.params["seasonality"] == "harmonic"
    assert r.effect.low < -20 < r.effect.high


def _formula_cases():
    from impactzones.evaluate.series import formulas

    for seasonality in ("month", "harmonic", "none"):
        for slope in (True, False):
            for name, formula in formulas(seasonality, slope).items():
                yield seasonality, name, formula


@pytest.mark.parametrize("seasonality,name,formula", list(_formula_cases()))
def test_design_matrix_is_patsys(seasonality, name, formula):
    """The design matrix built directly is patsy's: same columns, order, names, numbers."""
    import patsy

    from impactzones.evaluate.series import _design, design_matrix

    d = _design(simulate_counts(seed=4), pd.Timestamp("2017-07-01"), seasonality)
    for part in (d, d[d["area"] != "ring"], d[d["post"] == 0]):
        part = part.reset_index(drop=True)
        y, X = patsy.dmatrices(formula, part, return_type="dataframe")
        y2, X2 = design_matrix(formula, part)
        assert X2.columns.tolist() == X.columns.tolist()
        assert np.array_equal(X2.to_numpy(), X.to_numpy())
        assert np.array_equal(y2.to_numpy(), y["y"].to_numpy())


@pytest.mark.parametrize("model", ["quasipoisson", "poisson", "negbin"])
@pytest.mark.parametrize("by_area", [False, True])
def test_fit_model_is_statsmodels_formula_glm_to_the_last_digit(model, by_area):
    """fit_model (direct design matrix) against smf.glm on the formula: identical numbers."""
    from impactzones.evaluate.series import _design, fit_model, formulas

    d = _design(simulate_counts(seed=9, alpha=0.05), pd.Timestamp("2018-01-01"), "month")
    s = d[d["area"] != "ring"].reset_index(drop=True)
    f = formulas("month")["relative"]
    r = fit_model(f, s, model, by_area=by_area)
    off = np.log(s["days"].to_numpy(float))
    fam = sm.families.Poisson()
    kw = {}
    if model == "quasipoisson" and by_area:
        kw["var_weights"] = 1 / s["area"].map(r.area_dispersion).to_numpy(float)
    if model == "negbin":
        fam = sm.families.NegativeBinomial(alpha=r.nb_alpha)
    ref = smf.glm(f, s, family=fam, offset=off, **kw).fit(
        scale="X2" if model == "quasipoisson" else None
    )
    assert list(r.params.index) == list(ref.params.index)
    assert np.array_equal(r.params.to_numpy(), ref.params.to_numpy())
    assert np.array_equal(r.cov_params().to_numpy(), ref.cov_params().to_numpy())
    assert r.pearson_chi2 == ref.pearson_chi2


def test_design_matrix_leaves_other_formulas_to_patsy():
    from impactzones.evaluate.series import design_matrix, fit_model

    d = simulate_counts(seed=2).assign(m=lambda f: f["period"].dt.month, lt=1.0)
    for formula in ("y ~ np.log(days) + m", "y ~ C(m) + C(area)", "y ~ m * lt", "y ~ m + m"):
        assert design_matrix(formula, d) is None
    z = d[d["area"] == "zone"].reset_index(drop=True)
    r = fit_model("y ~ C(m) + np.log(days)", z)  # through the formula interface
    ref = smf.glm("y ~ C(m) + np.log(days)", z, family=sm.families.Poisson(),
                  offset=np.log(z["days"].to_numpy(float))).fit(scale="X2")  # fmt: skip
    assert np.array_equal(r.params.to_numpy(), ref.params.to_numpy())


@pytest.mark.parametrize("n", [1, 2, 5, 30])
def test_design_matrix_is_patsys_on_odd_tables(n):
    """Against patsy on tables the models' own formulas do not reach: one row, one level of
    the categorical (no dummy), negative and unsigned levels, float32 and integer columns,
    an index out of order, terms written in any order; a table with a missing value is
    left to patsy (None)."""
    import itertools

    import patsy

    from impactzones.evaluate.series import design_matrix

    rng = np.random.default_rng(n)
    d = pd.DataFrame({"y": rng.poisson(3, n), "a": rng.normal(size=n), "b": rng.integers(0, 3, n),
                      "c": rng.normal(size=n).astype(np.float32), "m": rng.choice([7, -1, 3], n),
                      "one": np.full(n, 5), "u": rng.integers(0, 4, n).astype(np.uint8)},
                     index=rng.permutation(n) + 10)  # fmt: skip
    terms = ["a", "b:a", "a:b:c", "C(m)", "C(one)", "C(u)", "u", "c"]
    for k in (1, 2, 3):
        for chosen in itertools.combinations(terms, k):
            formula = "y ~ " + " + ".join(chosen)
            got = design_matrix(formula, d)
            if sum(t.startswith("C(") for t in chosen) > 1:
                assert got is None
                continue
            y, X = patsy.dmatrices(formula, d, return_type="dataframe")
            assert got is not None, formula
            assert got[1].columns.tolist() == X.columns.tolist(), formula
            assert np.array_equal(got[1].to_numpy(), X.to_numpy()) and got[1].index.equals(X.index)
            assert np.array_equal(got[0].to_numpy(), y["y"].to_numpy())
    d.loc[d.index[0], "a"] = np.nan
    assert design_matrix("y ~ a + C(m)", d) is None


def test_an_unbounded_interval_is_inf_not_an_overflow_error():
    """A near-separated fit (huge standard error) once raised OverflowError in math.exp
    and killed `demo` (hostile-input review: 5 zones, 2 with little crime)."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from impactzones.evaluate.series import _avg_effect, _coef_effect

    names = ["const", "post"]
    res = SimpleNamespace(
        params=pd.Series([0.0, 1.0], index=names),
        bse=pd.Series([0.1, 500.0], index=names),
        model=SimpleNamespace(exog_names=names, exog=np.array([[1.0, 1.0], [1.0, 1.0]])),
        cov_params=lambda: pd.DataFrame([[0.01, 0.0], [0.0, 500.0**2]], index=names, columns=names),
    )
    e = _coef_effect(res, "post", 0.95)
    assert e.high == float("inf") and e.low == -100.0  # exp(1 -/+ 980): -100 % .. unbounded
    assert abs(e.pct - 100 * (np.e - 1)) < 1e-9
    data = pd.DataFrame({"days": [30.0, 30.0]})
    a = _avg_effect(res, data, np.array([True, True]), ["post"], 0.95)
    assert a.high == float("inf") and abs(a.pct - 100 * (np.e - 1)) < 1e-9

"""Power and the minimum detectable effect, against simulation."""

from __future__ import annotations

import math

import pytest

from impactzones.core.errors import InputError
from impactzones.evaluate.power import (
    minimum_detectable_effect,
    power_for,
    simulate_power,
    zone_power,
)


@pytest.mark.parametrize(
    "baseline,effect,phi,ratio",
    [
        (50, -0.2, 1.0, 1.0),
        (200, -0.2, 1.0, 1.0),
        (200, -0.3, 2.5, 1.0),
        (120, -0.25, 1.0, 0.67),
        (500, -0.1, 1.5, 1.0),
    ],
)
def test_power_matches_simulation(baseline, effect, phi, ratio):
    analytic = power_for(baseline, effect, dispersion=phi, ratio=ratio)
    sim = simulate_power(baseline, effect, dispersion=phi, ratio=ratio, n=4000, seed=7)
    assert abs(analytic - sim) < 0.035  # 4000 draws: sd of the simulated share <= 0.008


@pytest.mark.parametrize("baseline,effect", [(40, -0.3), (200, -0.2)])
def test_power_matches_the_e_test_of_the_comparison_table(baseline, effect):
    analytic = power_for(baseline, effect)
    sim = simulate_power(baseline, effect, test="etest", n=800, seed=3)
    assert abs(analytic - sim) < 0.06


def test_mde_has_the_target_power_by_simulation():
    mde = minimum_detectable_effect(150)
    assert math.isclose(power_for(150, mde), 0.8, abs_tol=1e-9)
    assert abs(simulate_power(150, mde, n=4000, seed=11) - 0.8) < 0.03
    # smaller zones need bigger drops; overdispersion needs bigger drops
    assert minimum_detectable_effect(50) < mde < minimum_detectable_effect(600)
    assert minimum_detectable_effect(150, dispersion=2.0) < mde


def test_no_effect_power_is_alpha_and_control_lowers_power():
    assert power_for(100, 0.0) == 0.05
    assert power_for(100, -0.2, control=(1000, 1000)) < power_for(100, -0.2)


def test_hand_worked_value():
    # 200 -> 160: log ratio 0.2231, se sqrt(1/200 + 1/160) = 0.10607, d = 2.1038
    # power = Phi(2.1038 - 1.95996) + Phi(-2.1038 - 1.95996) = 0.55717 + 0.00002
    assert power_for(200, -0.2) == pytest.approx(0.5572, abs=2e-4)


def test_sentence_and_bad_input():
    r = zone_power(60, where="the North zone")
    assert r.verdict.startswith("A 20% drop in the North zone would be detected 21% of the time")
    with pytest.raises(InputError):
        power_for(0, -0.2)
    with pytest.raises(InputError):
        power_for(10, -1.5)


def test_proposal_summaries_carry_the_power_sentence(synth, layers):
    from impactzones.propose import propose_zones

    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
    props = propose_zones(inc, period=2018, exclude=layers.zones, layers=layers, k=2)
    row = props.iloc[0]
    expect = zone_power(row["incidents"] * 365.25 / 365)
    assert row["power_20"] == pytest.approx(expect.power)
    assert f"detected {expect.power:.0%} of the time, a year against a year" in row["summary"]


def test_power_for_is_the_wald_formula_with_scipy_stats_norm():
    """power_for against the textbook formula written with scipy.stats.norm, to the digit."""
    import math

    from scipy import stats as st

    from impactzones.evaluate.power import power_for

    for base, eff, ratio, phi in [(200, -0.2, 1.0, 1.0), (35, -0.5, 0.5, 2.3), (9000, 0.1, 2, 7)]:
        z = st.norm.ppf(0.975)
        se = math.sqrt(phi * (1 / base + 1 / (ratio * base * (1 + eff))))
        d = abs(math.log1p(eff)) / se
        want = float(st.norm.cdf(d - z) + st.norm.cdf(-d - z))
        assert power_for(base, eff, ratio=ratio, dispersion=phi) == want

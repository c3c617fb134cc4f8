"""Synthetic control: weights against a direct QP (scipy SLSQP), planted effects, placebos."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from impactzones.core.errors import InputError
from impactzones.evaluate.synthetic_control import (
    fit_weights,
    plot_synthetic_control,
    simulate_panel,
    synthetic_control,
    synthetic_control_from_panel,
)


def _qp(z, D):
    """min ||z - D w||^2 s.t. w >= 0, sum w = 1, solved directly by SLSQP."""
    j = D.shape[1]
    res = optimize.minimize(
        lambda w: np.sum((z - D @ w) ** 2),
        np.full(j, 1 / j),
        jac=lambda w: -2 * D.T @ (z - D @ w),
        bounds=[(0, None)] * j,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(j)}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 2000},
    )
    return res.x


@pytest.mark.parametrize("seed", range(5))
def test_weights_match_a_direct_quadratic_programme(seed):
    rng = np.random.default_rng(seed)
    D = rng.uniform(0.5, 1.5, (36, 12))
    z = D[:, :3] @ np.array([0.5, 0.3, 0.2]) + rng.normal(0, 0.05, 36)
    w = fit_weights(z, D)
    q = _qp(z, D)
    assert w.min() >= 0 and w.sum() == pytest.approx(1)
    loss = np.sum((z - D @ w) ** 2)
    assert loss == pytest.approx(np.sum((z - D @ q) ** 2), rel=1e-5, abs=1e-10)
    np.testing.assert_allclose(w, q, atol=2e-3)


def test_exact_blend_is_recovered():
    rng = np.random.default_rng(9)
    D = rng.uniform(0.5, 1.5, (24, 8))
    truth = np.array([0, 0.6, 0, 0, 0.4, 0, 0, 0])
    np.testing.assert_allclose(fit_weights(D @ truth, D), truth, atol=1e-6)


def test_planted_effects_are_recovered_and_placebos_rank_them():
    effects, ps = [], []
    for seed in range(12):
        r = synthetic_control_from_panel(
            simulate_panel(seed=seed, effect=-0.3), "zone", "2018-01-01"
        )
        effects.append(r.effect_pct)
        ps.append(r.p_value)
    assert abs(np.median(effects) + 30) < 5
    assert np.mean(np.asarray(ps) <= 0.1) >= 0.8


def test_no_effect_gives_small_gaps_and_spread_p_values():
    effects, ps = [], []
    for seed in range(100, 120):
        r = synthetic_control_from_panel(
            simulate_panel(seed=seed, effect=0.0), "zone", "2018-01-01"
        )
        effects.append(r.effect_pct)
        ps.append(r.p_value)
    assert abs(np.median(effects)) < 4
    assert np.mean(np.asarray(ps) <= 0.05) <= 0.2


def test_placebo_p_value_is_the_rank(synth, layers):
    r = synthetic_control_from_panel(simulate_panel(seed=3), "zone", "2018-01-01")
    ratio = r.params["rmspe_ratio"]
    rank = 1 + (r.placebos["ratio"] >= ratio).sum()
    assert r.p_value == pytest.approx(rank / (len(r.placebos) + 1))
    assert r.weights["weight"].sum() == pytest.approx(1)
    assert plot_synthetic_control(r)[:4] == b"\x89PNG"


def test_from_incidents_uses_donors_clear_of_zones(synth, layers):
    r = synthetic_control(
        synth.incidents,
        "North",
        zones=layers.zones,
        donors=layers.neighborhoods,
        study_area=layers.study_area,
    )
    clear = layers.neighborhoods[
        ~layers.neighborhoods.intersects(layers.zones.buffer(400).union_all())
    ]
    assert set(r.weights["donor"]) <= set(clear["name"])
    assert r.params["periods_before"] == 60 and r.params["periods_after"] == 20
    assert np.isfinite(r.effect_pct) and 0 < r.p_value <= 1


def test_donor_weight_map_draws_the_fitted_weights_deterministically(synth, layers, tmp_path):
    from impactzones.evaluate.synthetic_control import (
        _donor_figure,
        donor_weights_frame,
        plot_donor_weights,
    )

    r = synthetic_control(
        synth.incidents,
        "North",
        zones=layers.zones,
        donors=layers.neighborhoods,
        study_area=layers.study_area,
    )
    fig = _donor_figure(r, layers.neighborhoods, layers.zones)
    ax = fig.axes[0]
    drawn = np.asarray(ax.collections[0].get_array(), float)  # the donors, coloured by weight
    frame = donor_weights_frame(r, layers.neighborhoods)
    used = frame[frame["role"] == "donor"]
    assert len(drawn) == len(used) == len(r.placebos)
    want = dict(zip(r.weights["donor"], r.weights["weight"], strict=True))
    expected = [want.get(n, 0.0) for n in used["name"].astype(str)]
    assert drawn == pytest.approx(expected, abs=1e-12)
    assert drawn.sum() == pytest.approx(1) and set(used["name"]) == set(r.placebos["donor"])
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted(f"{w:.0%}" for w in r.weights["weight"])
    a = plot_donor_weights(r, layers.neighborhoods, layers.zones, tmp_path / "a.png")
    b = plot_donor_weights(r, layers.neighborhoods, layers.zones)
    assert a[:4] == b"\x89PNG" and a == b == (tmp_path / "a.png").read_bytes()


def test_bad_input():
    panel = simulate_panel(seed=1)
    with pytest.raises(InputError, match="at least 6 periods"):
        synthetic_control_from_panel(panel, "zone", "2015-03-01")
    with pytest.raises(InputError, match="No series"):
        synthetic_control_from_panel(panel, "nowhere", "2018-01-01")
    with pytest.raises(InputError, match="two donor"):
        synthetic_control_from_panel(pd.DataFrame(panel[["zone", "donor 1"]]), "zone", "2018-01-01")


def test_results_do_not_depend_on_the_donors_memory_layout():
    """The same donor counts in C and in Fortran order give the same fit to the last digit
    (before, the matrix product summed in a layout-dependent order), and the weights are
    the direct quadratic programme's."""
    from impactzones.evaluate.synthetic_control import _fit_one

    for seed in range(5):
        panel = simulate_panel(seed=seed)
        values = panel.to_numpy(float)
        pre = np.asarray(panel.index < pd.Timestamp("2018-01-01"))
        c = _fit_one(values[:, 0], np.ascontiguousarray(values[:, 1:]), pre)
        f = _fit_one(values[:, 0], np.asfortranarray(values[:, 1:]), pre)
        assert np.array_equal(c[0], f[0]) and np.array_equal(c[1], f[1])
        assert c[2:] == f[2:]
        D = values[:, 1:] / values[pre, 1:].mean(axis=0)
        z = values[:, 0] / values[pre, 0].mean()
        direct = _qp(z[pre], D[pre])
        assert np.abs(c[0] - direct).max() < 1e-3

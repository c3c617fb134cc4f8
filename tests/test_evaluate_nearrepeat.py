"""Near-repeat table: pair counts against brute force, p-values by hand, planted repeats."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from impactzones.core.errors import InputError
from impactzones.evaluate.nearrepeat import close_pairs, near_repeat, near_repeat_incidents


def _brute(x, y, t, s_edges, t_edges):
    d = pdist(np.c_[x, y])
    dt = pdist(t[:, None])
    table = np.zeros((len(s_edges), len(t_edges)), int)
    for a in range(len(s_edges)):
        s_lo = -1 if a == 0 else s_edges[a - 1]
        for b in range(len(t_edges)):
            t_lo = -1 if b == 0 else t_edges[b - 1]
            table[a, b] = np.sum((d > s_lo) & (d <= s_edges[a]) & (dt > t_lo) & (dt <= t_edges[b]))
    return table


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_observed_pairs_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 400
    x, y = rng.uniform(0, 2000, n), rng.uniform(0, 1500, n)
    x[:20] = x[20:40]  # some pairs at exactly the same place
    y[:20] = y[20:40]
    t = rng.integers(0, 120, n).astype(float)
    r = near_repeat(
        x,
        y,
        t,
        spatial_bandwidth=150,
        spatial_bands=3,
        temporal_bandwidth=10,
        temporal_bands=3,
        permutations=5,
        same_location=True,
    )
    expect = _brute(x, y, t, [0.5, 150, 300, 450], [10, 20, 30])
    np.testing.assert_array_equal(r.observed.to_numpy(), expect)


def test_close_pairs_are_all_pairs_within_reach():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 1000, 300), rng.uniform(0, 1000, 300)
    got = sorted(
        tuple(sorted((int(i), int(j))))
        for a, b, _ in close_pairs(x, y, 120)
        for i, j in zip(a, b, strict=True)
    )
    ii, jj = np.triu_indices(300, 1)
    d = np.hypot(x[ii] - x[jj], y[ii] - y[jj])
    want = sorted(zip(ii[d <= 120].tolist(), jj[d <= 120].tolist(), strict=True))
    assert got == want


def test_expected_and_p_value_by_hand():
    """Expected = mean of the permuted tables; p = (1 + #(sim >= obs)) / (1 + perms)."""
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 600, 80), rng.uniform(0, 600, 80)
    t = rng.uniform(0, 60, 80)
    perms, seed = 29, 17
    r = near_repeat(x, y, t, spatial_bands=2, temporal_bands=2, permutations=perms, seed=seed)
    g = np.random.default_rng(seed)
    sims = np.array([_brute(x, y, t[g.permutation(80)], [100, 200], [7, 14]) for _ in range(perms)])
    obs = _brute(x, y, t, [100, 200], [7, 14])
    np.testing.assert_allclose(r.expected.to_numpy(), sims.mean(axis=0))
    np.testing.assert_allclose(r.p_value.to_numpy(), (1 + (sims >= obs).sum(0)) / (1 + perms))
    assert r.params["permutations"] == perms


def test_inputs_are_not_shuffled_in_place_and_runs_are_seeded():
    t = np.arange(50, dtype=float)
    x = np.linspace(0, 500, 50)
    y = np.zeros(50)
    before = t.copy()
    a = near_repeat(x, y, t, permutations=9, seed=4)
    b = near_repeat(x, y, t, permutations=9, seed=4)
    np.testing.assert_array_equal(t, before)
    assert a.p_value.equals(b.p_value) and a.expected.equals(b.expected)


def test_planted_near_repeats_are_found_and_background_is_not(synth):
    from impactzones.datasets.synth import add_near_repeats

    inc = synth.incidents[synth.incidents["occurred_at"].dt.year == 2018]
    burg = inc[inc["category"] == "burglary"]
    bg = near_repeat_incidents(burg, permutations=49, seed=1)
    assert 0.85 < bg.ratio.iloc[0, 0] < 1.15
    assert bg.p_value.iloc[0, 0] > 0.05
    planted = add_near_repeats(inc, share=0.1, distance=100, days=7, seed=3)
    r = near_repeat_incidents(planted[planted["category"] == "burglary"], permutations=49, seed=1)
    assert r.ratio.iloc[0, 0] > 1.5
    assert r.p_value.iloc[0, 0] == pytest.approx(1 / 50)
    assert r.ratio.iloc[2:, 2:].to_numpy().max() < 1.2  # far bands stay at chance
    assert r.verdict.startswith("Near repeats: incidents 0-100 m and 0-7 days apart")


def test_bad_input():
    with pytest.raises(InputError):
        near_repeat([0, 1], [0, 1], [0, 1], spatial_bandwidth=0)
    with pytest.raises(InputError):
        near_repeat([0, 1], [0, 1], [0], permutations=9)
    with pytest.raises(InputError):
        near_repeat([0, 1], [0, 1], [0, 1], permutations=0)

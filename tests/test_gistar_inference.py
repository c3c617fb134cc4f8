"""Gi* inference against outside truths: the binomial distribution, brute-force Monte
Carlo, complete spatial randomness (false discovery rate), planted hot spots (recall) and the
real St. Louis exports (agreement with KDE and DBSCAN)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from scipy import stats

from impactzones.hotspots import dbscan, gistar, hotspot_polygons, kde
from impactzones.hotspots.gistar import auto_permutations, randomisation_p

CRS = "EPSG:32615"


def test_randomisation_p_is_binomial_for_zero_one_counts():
    # 30% of 1000 cells hold one incident: a sum of W draws is Binomial(W, 0.3)
    y = np.zeros(1000)
    y[:300] = 1
    W = np.array([9, 9, 9, 6, 4, 9])
    S = np.array([0, 3, 9, 6, 2, 7])
    p, up, lo = randomisation_p(y, S, W)
    assert np.allclose(up, stats.binom.sf(S - 1, W, 0.3), rtol=1e-12, atol=1e-15)
    assert np.allclose(lo, stats.binom.cdf(S, W, 0.3), rtol=1e-12, atol=1e-15)
    assert np.allclose(p, np.minimum(1, 2 * np.minimum(up, lo)))


def test_randomisation_p_matches_brute_force_sampling():
    rng = np.random.default_rng(5)
    y = rng.negative_binomial(1, 0.4, 3000).astype(float)  # skewed, overdispersed counts
    S = np.array([2.0, 8.0, 15.0, 25.0])
    W = np.full(4, 9)
    _, up, lo = randomisation_p(y, S, W)
    sums = y[rng.integers(0, y.size, (2_000_000, 9))].sum(axis=1)
    mc_up = np.array([(sums >= s).mean() for s in S])
    mc_lo = np.array([(sums <= s).mean() for s in S])
    se = np.sqrt(mc_up * (1 - mc_up) / sums.size) + 1e-7
    assert (np.abs(up - mc_up) < 5 * se).all(), (up, mc_up)
    assert np.allclose(lo, mc_lo, atol=2e-3)


def test_randomisation_p_of_weighted_sums_matches_sampling():
    rng = np.random.default_rng(6)
    y = rng.gamma(0.5, 2.0, 3000)  # non-integer cell values
    S = np.array([3.0, 10.0, 20.0])
    _, up, _ = randomisation_p(y, S, np.full(3, 9))
    sums = y[rng.integers(0, y.size, (1_000_000, 9))].sum(axis=1)
    mc = np.array([(sums >= s).mean() for s in S])
    assert np.allclose(up, mc, rtol=0.05, atol=2e-4), (up, mc)


def _csr(seed: int, n: int = 5400, side: float = 12_600.0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, side, (2, n))
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=CRS)


def test_false_discovery_rate_under_complete_spatial_randomness():
    """5,400 incidents on ~4,000 cells of 200 m (St. Louis's 2019 violent crime, spread
    evenly): every cell marked is a false discovery, so the FDR is the share of maps with any
    mark. It must stay at or below the nominal level of each bin; the normal approximation
    (ArcGIS's default) does not, which is why it is not the default."""
    seeds = range(100)
    marked = {"exact": [], "normal": []}
    for seed in seeds:
        inc = _csr(seed)
        for inference in marked:
            g = gistar(inc, cell_size=200, inference=inference)
            assert g.params["cells"] > 3900
            marked[inference].append(np.abs(g.bins).max())
    exact = np.array(marked["exact"])
    normal = np.array(marked["normal"])
    assert (exact >= 1).mean() <= 0.10  # the 90% bins: FDR 10%
    assert (exact >= 2).mean() <= 0.05  # the 95% bins
    assert (exact >= 3).mean() <= 0.02  # the 99% bins
    assert (normal >= 1).mean() > 0.2  # about a third: the normal tail is too thin


def test_planted_hot_spots_are_found(synth, layers):
    """Recall: every planted centre is within one cell of a hot cell; precision: every hot
    cell is within 1 km of a planted centre (one year of each group)."""
    inc = synth.incidents
    for group in ("violent", "property"):
        sel = inc[(inc["group"] == group) & (inc["occurred_at"].dt.year == 2018)]
        centres = synth.hotspots[synth.hotspots["group"] == group].geometry
        g = gistar(sel, cell_size=200, study_area=layers.land)
        hot = g.cells[g.cells["bin"] > 0]
        found = hot.union_all()
        recall = np.mean([found.distance(c) <= 200 for c in centres])
        precision = np.mean([min(h.distance(c) for c in centres) < 1000 for h in hot.geometry])
        assert recall == 1.0 and precision >= 0.95, (group, recall, precision)
        assert (hot["bin"] == 3).sum() > 20  # the planted spots reach the 99% bin


def test_permutations_sized_from_the_cells_can_pass_bh(synth, layers):
    """The smallest attainable permutation p, 2 / (P + 1), times the number of cells must be
    under 5% for a lone cell at that floor to pass Benjamini-Hochberg."""
    for n in (50, 4024, 40_000):
        P = auto_permutations(n)
        assert 2 / (P + 1) * n <= 0.05
    inc = synth.incidents
    sel = inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == 2018)]
    g = gistar(sel, cell_size=400, study_area=layers.land, inference="permutation")
    assert g.params["permutations"] == auto_permutations(g.params["cells"])
    adjusted = stats.false_discovery_control(g.p_sim, method="bh")
    assert np.allclose(adjusted, g.p_adjusted)
    assert (g.bins > 0).sum() > 0


def test_too_few_permutations_are_warned_about_with_the_number_needed(synth, layers):
    """By hand: a lone top cell passes BH at 5% over n cells when 2 / (P + 1) <= 0.05 / n,
    so P >= 40 n - 1; with 5 permutations (floor 1/3 > 0.05) no cell can pass at all."""
    import warnings

    from impactzones.hotspots.gistar import permutations_needed

    assert permutations_needed(4024) == 40 * 4024 - 1
    assert permutations_needed(10, fdr=False) == 39  # 2 / 40 = 0.05 exactly
    inc = synth.incidents
    sel = inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == 2018)]
    with pytest.warns(UserWarning, match="no cell can pass") as caught:
        g = gistar(sel, cell_size=1500, study_area=layers.land, inference="permutation",
                   permutations=5)
    n = g.params["cells"]
    assert f"use at least {40 * n - 1:,} permutations" in str(caught[0].message)
    assert (g.bins != 0).sum() == 0  # and indeed nothing was marked
    with pytest.warns(UserWarning, match="only where many cells tie"):
        gistar(sel, cell_size=1500, study_area=layers.land, inference="permutation",
               permutations=40 * n - 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gistar(sel, cell_size=1500, study_area=layers.land, inference="permutation",
               permutations=40 * n - 1)


def test_real_2019_violent_crime_hot_cells_where_kde_and_dbscan_find_hot_spots(
    real_incidents_dir, layers
):
    from impactzones.io import read_incidents

    inc = read_incidents(real_incidents_dir, study_area=layers.study_area).incidents
    v = inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == 2019)]
    g = gistar(v, study_area=layers.land)
    hot = g.cells[g.cells["bin"] > 0]
    assert len(hot) >= 100, g.summary()  # 236 when written; 0 with 9,999 permutations
    found = hot.union_all()
    areas = hotspot_polygons(kde(v, study_area=layers.land), v)
    clusters = dbscan(v, study_area=layers.land).clusters
    assert np.mean([a.intersects(found) for a in areas.geometry]) >= 0.9
    assert np.mean([c.intersects(found) for c in clusters.geometry]) >= 0.9
    elsewhere = areas.union_all().union(clusters.union_all())
    assert np.mean([h.intersects(elsewhere) for h in hot.geometry]) >= 0.9


@pytest.mark.parametrize("bad", ["bayes", ""])
def test_unknown_inference_is_refused(bad):
    from impactzones.core.errors import InputError

    with pytest.raises(InputError, match="inference"):
        gistar(_csr(0, n=200), cell_size=500, inference=bad)


def test_convolve_gives_scipy_signal_convolve_bit_for_bit():
    """The p-values' convolution (scipy.signal's choice of method and its FFT steps,
    without importing scipy.signal) against scipy.signal.convolve itself, on both sides
    of its direct/FFT switch."""
    from scipy import signal

    from impactzones.hotspots.gistar import _convolve

    rng = np.random.default_rng(3)
    for na, nb in [(1, 1), (1, 40), (7, 5), (40, 40), (60, 300), (300, 300), (513, 1700),
                   (2000, 2000), (5, 4000), (4000, 4000), (2500, 9000), (3001, 3001)]:  # fmt: skip
        a, b = rng.random(na), rng.random(nb)
        want = signal.convolve(a, b)
        got = _convolve(a, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want), (na, nb)

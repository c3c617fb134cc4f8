"""Emerging hot spots: the trend test against scipy, patterns by hand, and planted patterns."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from impactzones.hotspots.emerging import classify_patterns, emerging, mann_kendall


def test_mann_kendall_s_is_kendalls_tau_times_pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(25, 6))
    s, z, p = mann_kendall(x)
    n = 25
    for j in range(6):
        tau = stats.kendalltau(np.arange(n), x[:, j]).statistic
        assert s[j] == round(tau * n * (n - 1) / 2)
    var = n * (n - 1) * (2 * n + 5) / 18
    assert np.allclose(z, (s - np.sign(s)) / np.sqrt(var))
    assert np.allclose(p, 2 * stats.norm.sf(np.abs(z)))


def test_patterns_by_hand():
    # 10 slices; columns: persistent, intensifying, diminishing, historical, consecutive,
    # oscillating
    n = 10
    hot = np.zeros((n, 6), bool)
    cold = np.zeros((n, 6), bool)
    hot[:, 0] = True
    hot[:, 1] = True
    hot[:, 2] = True
    hot[:, 3] = True
    hot[-1, 3] = False
    hot[-3:, 4] = True
    hot[[2, 9], 5] = True
    cold[5, 5] = True
    mk_z = np.array([0.0, 3.0, -3.0, 0.0, 0.0, 0.0])
    mk_p = np.array([0.5, 0.001, 0.001, 0.5, 0.5, 0.5])
    got = classify_patterns(hot, cold, mk_z, mk_p).tolist()
    assert got == ["persistent", "intensifying", "diminishing", "historical", "consecutive",
                   "oscillating"]


def planted_city(seed=0):
    """24 months of background crime, a spot that is always hot, one that stops in the last
    month, and one that starts in the last two."""
    rng = np.random.default_rng(seed)
    rows = []
    for m, month in enumerate(pd.date_range("2017-01-01", periods=24, freq="MS")):
        pts = [rng.uniform(0, 6000, (60, 2))]
        pts.append(rng.normal((1000, 1000), 60, (25, 2)))  # always
        if m < 23:
            pts.append(rng.normal((5000, 1000), 60, (25, 2)))  # stops in the final month
        if m >= 22:
            pts.append(rng.normal((3000, 5000), 60, (25, 2)))  # new in the last two
        p = np.vstack(pts)
        days = month + pd.to_timedelta(rng.integers(0, 28, len(p)), unit="D")
        rows.append(pd.DataFrame({"x": p[:, 0], "y": p[:, 1], "occurred_at": days}))
    df = pd.concat(rows, ignore_index=True)
    return gpd.GeoDataFrame(df[["occurred_at"]], geometry=gpd.points_from_xy(df.x, df.y),
                            crs="EPSG:32615")


def test_planted_patterns_are_found():
    inc = planted_city()
    e = emerging(inc, freq="month", cell_size=300, study_area=shapely.box(0, 0, 6000, 6000))
    assert len(e.slices) == 24
    c = e.cells
    cx, cy = c.geometry.centroid.x, c.geometry.centroid.y

    def pattern_at(x, y):
        d = np.hypot(cx - x, cy - y)
        return c.loc[d.idxmin(), "pattern"]

    assert pattern_at(1000, 1000) == "persistent"
    assert pattern_at(5000, 1000) == "historical"
    assert pattern_at(3000, 5000) == "consecutive"
    background = c[(np.hypot(cx - 3000, cy - 3000) < 800)]
    assert (background["pattern"] == "no pattern").mean() > 0.9


def test_mann_kendall_with_ties_matches_pymannkendall():
    import pymannkendall

    rng = np.random.default_rng(4)
    cols = [
        np.array([1.0, 2, 2, 3, 5, 5, 5, 4, 6, 6]),  # groups of ties
        np.round(rng.normal(size=30), 0),  # many ties
        np.r_[np.zeros(8), np.arange(1.0, 9)],  # a long tied run, then a trend
        rng.normal(size=15),  # no ties
        np.r_[np.full(5, 2.0), np.full(5, 1.0)],  # a step down
    ]
    for x in cols:
        s, z, p = mann_kendall(x[:, None])
        ref = pymannkendall.original_test(x)
        assert s[0] == ref.s
        assert z[0] == pytest.approx(ref.z, rel=1e-12, abs=1e-12)
        assert p[0] == pytest.approx(ref.p, rel=1e-9, abs=1e-12)


def test_space_time_gi_equals_esda_on_the_space_time_weights():
    """Esri's space-time neighbourhood: the cells within the distance in the same slice and
    the previous one, as an explicit libpysal weights object, through esda's Gi*."""
    import esda
    import libpysal

    from impactzones.core.grid import make_grid
    from impactzones.hotspots.emerging import space_time_gi
    from impactzones.hotspots.gistar import footprint

    rng = np.random.default_rng(8)
    g = make_grid(shapely.box(0, 0, 600, 500), "EPSG:32615", 100)
    n_slices, m = 4, int(g.mask.sum())
    x, y = rng.uniform(0, 600, 400), rng.uniform(0, 500, 400)
    which = rng.integers(0, n_slices, 400)
    for steps in (0, 1, 2):
        z, _ = space_time_gi(g, x, y, which, n_slices, footprint(100, 150), steps)
        rows, cols = np.nonzero(g.mask)
        counts = np.stack([g.counts(x[which == k], y[which == k])[g.mask]
                           for k in range(n_slices)])
        neighbours = {}
        for t in range(n_slices):
            for i in range(m):
                near = np.flatnonzero(np.hypot(rows - rows[i], cols - cols[i]) <= 1.5 + 1e-9)
                ids = [u * m + j for u in range(max(0, t - steps), t + 1) for j in near]
                neighbours[t * m + i] = [k for k in ids if k != t * m + i]
        w = libpysal.weights.W(neighbours, silence_warnings=True)
        ref = esda.G_Local(counts.ravel(), w, transform="B", star=True, permutations=0)
        assert np.allclose(z.ravel(), ref.Zs, atol=1e-10), steps


def test_memory_grows_with_slices_times_cells_not_its_square():
    import tracemalloc

    from impactzones.hotspots.emerging import mann_kendall as mk

    peaks = []
    for n in (60, 240):
        x = np.random.default_rng(0).normal(size=(n, 2000))
        tracemalloc.start()
        mk(x)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 6 * peaks[0]  # 4 x the slices: about 4 x the memory, not 16 x

"""Emerging hot spots: Gi* in every time slice, a trend test, and a pattern per cell.

For each slice (month, quarter or year) Gi* is computed on the same grid (the fast lattice
Gi* of :mod:`impactzones.hotspots.gistar`, Benjamini-Hochberg corrected within the slice); a
cell is *hot* in a slice when its z is positive and its adjusted p below ``alpha``. The trend
of each cell's z over the slices is the Mann-Kendall test: ``S = sum_{i<j} sign(z_j - z_i)``,
``var(S) = n (n - 1) (2n + 5) / 18`` (ties in z are negligible), a continuity-corrected z and
a two-sided p.

Patterns (a documented subset of ArcGIS's Emerging Hot Spot Analysis, hot side only):

========================  ===================================================================
new                       hot in the final slice only
consecutive               hot in an unbroken run of at least two final slices, never before
intensifying              hot in at least 90% of slices and the final one, z trending up
persistent                hot in at least 90% of slices and the final one, no trend
diminishing               hot in at least 90% of slices and the final one, z trending down
sporadic                  hot in the final slice, on and off before, never a cold spot
oscillating               hot in the final slice, a cold spot in some earlier slice
historical                hot in at least 90% of slices, but not in the final one
no pattern                none of the above
========================  ===================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..grid import Grid
from ._common import grid_for, points_in_study_area
from .gistar import footprint, gi_star_z, permutation_p

__all__ = [
    "PATTERNS",
    "Emerging",
    "classify_patterns",
    "emerging",
    "mann_kendall",
]

PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
    "no pattern",
)
FREQS = {"month": "MS", "quarter": "QS", "year": "YS"}


@dataclass
class Emerging:
    """Result of :func:`emerging`.

    Attributes
    ----------
    cells : GeoDataFrame
        One row per grid cell: ``pattern``, ``hot_slices``, ``cold_slices``, ``mk_z``,
        ``mk_p``, ``last_z`` and the cell square.
    z : ndarray, shape (slices, cells)
        Gi* z of every cell in every slice.
    hot, cold : ndarray of bool, shape (slices, cells)
    slices : DatetimeIndex
        Start of each slice.
    params : dict
    """

    cells: gpd.GeoDataFrame
    z: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    slices: pd.DatetimeIndex
    params: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Number of cells with each pattern."""
        counts = self.cells["pattern"].value_counts()
        return {p: int(counts.get(p, 0)) for p in PATTERNS}


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on each column of ``series`` (slices x cells).

    Returns ``(S, z, p)``: the statistic, its continuity-corrected normal score and the
    two-sided p-value.

    Examples
    --------
    >>> s, z, p = mann_kendall(np.array([[1.0], [2.0], [4.0], [3.0], [5.0]]))
    >>> int(s[0]), round(float(z[0]), 3), round(float(p[0]), 3)
    (8, 1.715, 0.086)
    """
    x = np.asarray(series, float)
    n = x.shape[0]
    if n < 3:
        raise InputError("A trend needs at least three time slices.")
    s = np.zeros(x.shape[1])
    for i in range(n - 1):
        s += np.sign(x[i + 1 :] - x[i]).sum(axis=0)
    var = n * (n - 1) * (2 * n + 5) / 18.0
    z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    return s, z, 2 * stats.norm.sf(np.abs(z))


def classify_patterns(
    hot: np.ndarray,
    cold: np.ndarray,
    mk_z: np.ndarray,
    mk_p: np.ndarray,
    alpha: float = 0.05,
    share: float = 0.9,
) -> np.ndarray:
    """The pattern of each cell from its hot/cold flags per slice and its trend.

    Examples
    --------
    >>> hot = np.array([[0, 1, 1, 0], [0, 1, 0, 0], [0, 1, 1, 1]], bool)  # 3 slices, 4 cells
    >>> cold = np.zeros_like(hot)
    >>> classify_patterns(hot, cold, np.zeros(4), np.ones(4)).tolist()
    ['no pattern', 'persistent', 'sporadic', 'new']
    """
    n, m = hot.shape
    out = np.full(m, "no pattern", dtype=object)
    frac = hot.mean(axis=0)
    last = hot[-1]
    # length of the final unbroken run of hot slices
    run = np.zeros(m, int)
    still = np.ones(m, bool)
    for k in range(n - 1, -1, -1):
        still &= hot[k]
        run += still
    ever_before_run = np.array([hot[: n - run[j], j].any() for j in range(m)])
    ever_cold = cold.any(axis=0)
    mostly = frac >= share
    trend_up = (mk_p < alpha) & (mk_z > 0)
    trend_down = (mk_p < alpha) & (mk_z < 0)
    out[mostly & ~last] = "historical"
    out[last & ~mostly & ~ever_before_run & (run == 1)] = "new"
    out[last & ~mostly & ~ever_before_run & (run >= 2)] = "consecutive"
    out[last & ~mostly & ever_before_run & ~ever_cold] = "sporadic"
    out[last & ~mostly & ever_before_run & ever_cold] = "oscillating"
    out[last & mostly] = "persistent"
    out[last & mostly & trend_up] = "intensifying"
    out[last & mostly & trend_down] = "diminishing"
    return out


def emerging(
    incidents: gpd.GeoDataFrame,
    *,
    freq: str = "month",
    start=None,
    end=None,
    cell_size: float | None = None,
    distance: float | None = None,
    mask=None,
    grid: Grid | None = None,
    permutations: int = 0,
    alpha: float = 0.05,
    seed: int = 0,
) -> Emerging:
    """Emerging hot-spot patterns: Gi* per time slice and a Mann-Kendall trend per cell.

    Parameters
    ----------
    incidents : GeoDataFrame
        Point incidents in a metric CRS, with ``occurred_at``.
    freq : {"month", "quarter", "year"}, default "month"
        The time slices.
    start, end : date-like, optional
        First and last day (default: the incidents' first and last slices; a final slice
        the data cover less than half of is left out).
    cell_size, distance, mask, grid
        As for :func:`impactzones.hotspots.gistar` (one grid for every slice).
    permutations : int, default 0
        Gi* permutations per slice (0: analytic p-values).
    alpha : float, default 0.05
        Significance for hot/cold cells (after FDR) and for the trend.
    seed : int, default 0

    Returns
    -------
    Emerging

    Examples
    --------
    >>> from impactzones.synth import synthesize
    >>> from impactzones.geo import st_louis
    >>> inc = synthesize(seed=1, years=[2017, 2018]).incidents
    >>> e = emerging(inc[inc["group"] == "violent"], freq="quarter", cell_size=400,
    ...              mask=st_louis().land)
    >>> len(e.slices), e.summary()["persistent"] > 0
    (8, True)
    """
    if freq not in FREQS:
        raise InputError(f"freq must be one of {sorted(FREQS)}, got {freq!r}.")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha!r}.")
    x, y, _w, area, outside, pos = points_in_study_area(incidents, mask, positions=True)
    t = incidents["occurred_at"].to_numpy()[pos]
    if len(t) == 0:
        raise InputError("There are no incidents in the study area.")
    lo = pd.Timestamp(start) if start is not None else pd.Timestamp(t.min())
    hi = pd.Timestamp(end) if end is not None else pd.Timestamp(t.max())
    slices = pd.date_range(lo.to_period(freq[0].upper()).to_timestamp(), hi, freq=FREQS[freq])
    edges = slices.append(
        pd.DatetimeIndex([slices[-1] + pd.tseries.frequencies.to_offset(FREQS[freq])])
    )
    if end is None and pd.Timestamp(t.max()) < slices[-1] + (edges[-1] - slices[-1]) / 2:
        # the data cover less than half of the final slice (e.g. 1 September): drop it
        slices, edges = slices[:-1], edges[:-1]
    if len(slices) < 3:
        raise InputError("Emerging hot spots need at least three complete time slices.")
    if grid is None:
        grid = grid_for(x, y, area, incidents.crs, cell_size)
    if distance is None:
        distance = grid.cell * np.sqrt(2)
    window = footprint(grid.cell, distance)
    which = np.searchsorted(edges.to_numpy(), t, side="right") - 1
    n_cells = int(grid.mask.sum())
    z = np.zeros((len(slices), n_cells))
    hot = np.zeros_like(z, bool)
    cold = np.zeros_like(z, bool)
    for k in range(len(slices)):
        sel = which == k
        counts = grid.counts(x[sel], y[sel])
        try:
            S, W, _G, zk = gi_star_z(counts, grid.mask, window)
        except InputError:
            continue  # an empty slice: nothing is hot or cold
        if permutations:
            p = permutation_p(
                counts[grid.mask], S, (W - 1).astype(np.int64), permutations, seed + k
            )
        else:
            p = 2 * stats.norm.sf(np.abs(zk))
        p_adj = stats.false_discovery_control(np.nan_to_num(p, nan=1.0), method="bh")
        z[k] = np.nan_to_num(zk)
        significant = p_adj < alpha
        hot[k] = significant & (z[k] > 0)
        cold[k] = significant & (z[k] < 0)
    s, mk_z, mk_p = mann_kendall(z)
    patterns = classify_patterns(hot, cold, mk_z, mk_p, alpha)
    rows, cols = np.nonzero(grid.mask)
    cells = gpd.GeoDataFrame(
        {
            "row": rows,
            "col": cols,
            "pattern": patterns,
            "hot_slices": hot.sum(axis=0),
            "cold_slices": cold.sum(axis=0),
            "mk_s": s,
            "mk_z": mk_z,
            "mk_p": mk_p,
            "last_z": z[-1],
        },
        geometry=grid.polygons(rows, cols),
        crs=grid.crs,
    )
    params = {
        "freq": freq,
        "slices": len(slices),
        "first": str(slices[0].date()),
        "last": str(slices[-1].date()),
        "cell_size_m": grid.cell,
        "distance_m": float(distance),
        "permutations": permutations,
        "alpha": alpha,
        "fdr": "Benjamini-Hochberg within each slice",
        "incidents": len(x),
        "outside_study_area": int(outside),
    }
    return Emerging(cells=cells, z=z, hot=hot, cold=cold, slices=slices, params=params)

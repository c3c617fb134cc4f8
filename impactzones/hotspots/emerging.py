"""Emerging hot spots: Gi* in every time slice, a trend test, and a pattern per cell.

Gi* is computed on a space-time cube (month, quarter or year slices on one grid), as
Esri's Emerging Hot Spot Analysis does: the neighbourhood of a bin is the cells within
``distance`` in the same slice and in the ``time_steps`` previous slices (Esri's
"neighbourhood time step", default 1; 0 gives a purely spatial Gi* per slice), and the mean
and standard deviation are those of every bin of the cube. p-values are Esri's
normal approximation by default (``inference="normal"``), Benjamini-Hochberg corrected over
every bin of the cube; a bin is *hot* when its z is positive and its adjusted p below
``alpha``. ``inference="exact"`` uses the exact randomisation p of
:func:`impactzones.hotspots.gistar.randomisation_p` over the cube's counts instead. It keeps
the false discovery rate (the normal tail is too thin for the few incidents of a month), but
under it a spot that fills one or two cells of each slice explains itself: those bins are
the heavy tail of the count distribution, so a random neighbourhood holds one of them about
as often as BH would need the spot to be rare. Only spots spread over several adjacent
cells pass. Hence the default here differs from :func:`~impactzones.hotspots.gistar`'s.

The trend of each cell's z over the slices is the Mann-Kendall test: ``S = sum_{i<j}
sign(z_j - z_i)``, ``var(S) = (n (n - 1) (2n + 5) - sum_t t (t - 1) (2t + 5)) / 18`` over
the groups of ``t`` tied values, a continuity-corrected z and a two-sided p (as
``pymannkendall.original_test``; tested). Memory is a few arrays of slices x cells.

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

from ..core.compat import renamed_keyword
from ..core.defaults import TIME_STEPS, check_params, neighbour_distance
from ..core.errors import InputError
from ..core.grid import Grid
from ..core.lazy import lazy_module
from ..core.points import grid_for, points_in_study_area
from ..core.results import ResultFiles
from ..cube import is_cube
from .gistar import footprint, randomisation_p

ndimage = lazy_module("scipy.ndimage")  # at first use: not by the picture worker
stats = lazy_module("scipy.stats")

__all__ = [
    "PATTERNS",
    "Emerging",
    "classify_patterns",
    "emerging",
    "mann_kendall",
    "space_time_gi",
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
class Emerging(ResultFiles):
    """Result of :func:`emerging` (a :class:`~impactzones.core.results.Result`: ``params``,
    ``to_geodataframe()`` (the cells), ``to_file(path)``, map layer ``"emerging"``).

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
    map_layer = "emerging"

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """One row per cell of the study area (the ``cells`` attribute)."""
        return self.cells

    def summary(self) -> dict:
        """Number of cells with each pattern."""
        counts = self.cells["pattern"].value_counts()
        return {p: int(counts.get(p, 0)) for p in PATTERNS}


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on each column of ``series`` (slices x cells).

    Returns ``(S, z, p)``: the statistic, its continuity-corrected normal score (variance
    corrected for ties) and the two-sided p-value.

    Examples
    --------
    >>> s, z, p = mann_kendall(np.array([[1.0], [2.0], [4.0], [3.0], [5.0]]))
    >>> int(s[0]), round(float(z[0]), 3), round(float(p[0]), 3)
    (8, 1.715, 0.086)
    >>> s, z, p = mann_kendall(np.array([[1.0], [2.0], [2.0], [3.0], [5.0]]))  # a tie
    >>> int(s[0]), round(float(z[0]), 3)
    (9, 2.021)
    """
    x = np.asarray(series, float)
    n = x.shape[0]
    if n < 3:
        raise InputError("A trend needs at least three time slices.")
    s = np.zeros(x.shape[1])
    for i in range(n - 1):
        s += np.sign(x[i + 1 :] - x[i]).sum(axis=0)
    var = (n * (n - 1) * (2 * n + 5) - _tie_term(x)) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.nan_to_num(z)
    return s, z, 2 * stats.norm.sf(np.abs(z))


def _tie_term(x: np.ndarray) -> np.ndarray:
    """``sum_t t (t - 1) (2t + 5)`` over the groups of tied values of each column."""
    n, m = x.shape
    srt = np.sort(x, axis=0)
    start = np.ones_like(srt, bool)
    start[1:] = srt[1:] != srt[:-1]
    run = np.cumsum(start, axis=0) - 1  # run number within the column
    sizes = np.bincount((run + n * np.arange(m)).ravel(), minlength=n * m).reshape(m, n)
    return (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1).astype(float)


def _slices(t, freq: str, start, end):
    """Slice starts and edges (one more) covering ``start`` to ``end`` (default the data)."""
    lo = pd.Timestamp(start) if start is not None else pd.Timestamp(t.min())
    hi = pd.Timestamp(end) if end is not None else pd.Timestamp(t.max())
    slices = pd.date_range(lo.to_period(freq[0].upper()).to_timestamp(), hi, freq=FREQS[freq])
    step = pd.tseries.frequencies.to_offset(FREQS[freq])
    edges = slices.append(pd.DatetimeIndex([slices[-1] + step]))
    if end is None and pd.Timestamp(t.max()) < slices[-1] + (edges[-1] - slices[-1]) / 2:
        # the data cover less than half of the final slice (e.g. 1 September): drop it
        slices, edges = slices[:-1], edges[:-1]
    if len(slices) < 3:
        have = f"{lo:%Y-%m-%d} to {hi:%Y-%m-%d}"
        raise InputError(
            f"Emerging hot spots need at least three complete time slices ({freq}s); the "
            f"data ({have}) fill {len(slices)} {freq}{'' if len(slices) == 1 else 's'}: give "
            f"at least three {freq}s of incidents"
            + (" or a shorter slice" if freq != "month" else "")
            + "."
        )
    return slices, edges


def _cube_input(cube, freq: str, grid: Grid | None):
    """A count cube as weighted points: each cell's count per period at the cell's centre
    (summed over every other dimension: select a group first), the period starts, the
    data's first and last day, the cube's grid and the incidents it left out."""
    from ..cube import cube_grid, cube_span

    cgrid = cube_grid(cube)
    if grid is not None and (grid.transform != cgrid.transform or grid.shape != cgrid.shape):
        raise InputError("A count cube carries its own grid; call without grid=.")
    da = cube["count"] if hasattr(cube, "data_vars") else cube
    other = [d for d in da.dims if d not in ("time", "y", "x")]
    counts = np.asarray((da.sum(dim=other) if other else da).transpose("time", "y", "x").values)
    k, rows, cols = np.nonzero(counts)
    x = cgrid.x0 + (cols + 0.5) * cgrid.cell
    y = cgrid.y0 - (rows + 0.5) * cgrid.cell
    t = pd.DatetimeIndex(cube["time"].values).to_numpy()[k]
    span = np.array(pd.to_datetime(list(cube_span(cube))))
    outside = int(getattr(cube, "attrs", {}).get("outside_study_area", 0))
    return x, y, counts[k, rows, cols].astype(float), t, span, cgrid, outside


def space_time_gi(
    grid: Grid,
    x: np.ndarray,
    y: np.ndarray,
    which: np.ndarray,
    n_slices: int,
    window: np.ndarray,
    time_steps: int = TIME_STEPS.default,
    inference: str = "exact",
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Space-time Gi* z and two-sided p of every bin (slices x cells in the study area).

    A bin's neighbourhood is ``window`` around its cell in its slice and the
    ``time_steps`` slices before it; ``n``, the mean and the variance are the cube's.
    Points with ``which`` outside ``0 .. n_slices - 1`` are left out. ``weights``: each
    point's count (a count cube's cells at their centres; default 1).

    Examples
    --------
    >>> from shapely import box
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(box(0, 0, 500, 500), "EPSG:32615", 100)
    >>> xs = np.r_[np.full(20, 250.0), np.arange(50, 500, 100.0)]
    >>> ys = np.r_[np.full(20, 250.0), np.arange(50, 500, 100.0)]
    >>> z, p = space_time_gi(g, xs, ys, np.r_[np.full(20, 2), np.arange(5) % 3], 3,
    ...                      footprint(100, 100))
    >>> z.shape, bool(z[2, 12] > 2), bool(z[1, 12] < 0)  # the centre, busy in slice 2 only
    ((3, 25), True, True)
    """
    m = int(grid.mask.sum())
    sums = np.zeros((n_slices, m))
    counts = np.zeros((n_slices, m))
    W_sp = ndimage.correlate(grid.mask.astype(float), window, mode="constant")[grid.mask]
    for k in range(n_slices):
        sel = which == k
        c = grid.counts(x[sel], y[sel], None if weights is None else weights[sel])
        counts[k] = c[grid.mask]
        sums[k] = ndimage.correlate(np.where(grid.mask, c, 0.0), window, mode="constant")[grid.mask]
    # add the previous time steps: a running sum over slices (cumulative, then differenced)
    csum = np.cumsum(sums, axis=0)
    S = csum.copy()
    S[time_steps + 1 :] -= csum[: n_slices - time_steps - 1]
    depth = np.minimum(np.arange(n_slices) + 1, time_steps + 1)[:, None]
    W = depth * W_sp[None, :]
    n = counts.size
    total = counts.sum()
    if total <= 0:
        raise InputError("There are no incidents in the time slices.")
    mean = total / n
    var = (counts * counts).sum() / n - mean * mean
    if var <= 0:
        raise InputError("Every bin has the same count: there is nothing for Gi* to find.")
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (S / total - W / n) / np.sqrt(W * (n - W) / (n - 1) / n**2 * var / mean**2)
    z = np.nan_to_num(z)
    if inference == "normal":
        p = 2 * stats.norm.sf(np.abs(z))
    else:
        p = randomisation_p(counts.ravel(), S.ravel(), W.ravel())[0].reshape(S.shape)
    return z, p


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


@renamed_keyword("mask", "study_area")
def emerging(
    incidents: gpd.GeoDataFrame,
    *,
    freq: str = "month",
    start=None,
    end=None,
    cell_size: float | None = None,
    distance: float | None = None,
    study_area=None,
    grid: Grid | None = None,
    time_steps: int = TIME_STEPS.default,
    inference: str = "normal",
    alpha: float = 0.05,
    seed: int = 0,
) -> Emerging:
    """Emerging hot-spot patterns: Gi* per time slice and a Mann-Kendall trend per cell.

    Parameters
    ----------
    incidents : GeoDataFrame or count cube
        Point incidents in a metric CRS, with ``occurred_at``; or a count cube
        (:func:`impactzones.cube.build_cube`, monthly or daily; select one group first,
        ``cube.sel(group="violent")``, as it is summed over every dimension but time and
        the cells): the same Gi* and trends as from its incidents on its grid.
    freq : {"month", "quarter", "year"}, default "month"
        The time slices.
    start, end : date-like, optional
        First and last day (default: the incidents' first and last slices; a final slice
        the data cover less than half of is left out).
    cell_size, distance, study_area, grid
        As for :func:`impactzones.hotspots.gistar` (one grid for every slice); ``mask=``
        is the old name of ``study_area=`` (still accepted, with a ``FutureWarning``).
    time_steps : int, default 1
        Previous slices in each bin's neighbourhood (Esri's neighbourhood time step; 0 for
        a spatial Gi* per slice).
    inference : {"normal", "exact"}, default "normal"
        The normal approximation (Esri's), or the exact randomisation p over the cube (which
        controls the false discovery rate, but cannot mark a spot that fills only a cell or
        two of each slice: see the module notes).
    alpha : float, default 0.05
        Significance for hot/cold cells (after FDR) and for the trend.
    seed : int, default 0
        Unused (kept for callers of earlier versions: the p-values are exact).

    Returns
    -------
    Emerging

    Examples
    --------
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.core.geo import st_louis
    >>> inc = synthesize(seed=1, years=[2017, 2018]).incidents
    >>> e = emerging(inc[inc["group"] == "violent"], freq="quarter", cell_size=400,
    ...              study_area=st_louis().land)
    >>> len(e.slices), e.summary()["persistent"] > 0
    (8, True)
    """
    if freq not in FREQS:
        raise InputError(f"freq must be one of {sorted(FREQS)}, got {freq!r}.")
    checked = check_params(alpha=alpha, time_steps=time_steps, cell_size=cell_size)
    alpha, time_steps, cell_size = (checked[k] for k in ("alpha", "time_steps", "cell_size"))
    if inference not in ("exact", "normal"):
        raise InputError(f"inference must be 'exact' or 'normal', got {inference!r}.")
    w = None
    if is_cube(incidents):  # each cell's count per period, at the cell's centre
        x, y, w, t, span, grid, outside = _cube_input(incidents, freq, grid)
    else:
        x, y, _w, area, outside, pos = points_in_study_area(incidents, study_area, positions=True)
        t = span = incidents["occurred_at"].to_numpy()[pos]
    if len(t) == 0:
        raise InputError("There are no incidents in the study area.")
    slices, edges = _slices(span, freq, start, end)
    if grid is None:
        grid = grid_for(x, y, area, incidents.crs, cell_size)
    distance, _rule = neighbour_distance(grid.cell, distance)  # the same rule as gistar's
    window = footprint(grid.cell, distance)
    which = np.searchsorted(edges.to_numpy(), t, side="right") - 1
    z, p = space_time_gi(grid, x, y, which, len(slices), window, int(time_steps), inference, w)
    p_adj = stats.false_discovery_control(p.ravel(), method="bh").reshape(p.shape)
    significant = p_adj < alpha
    hot = significant & (z > 0)
    cold = significant & (z < 0)
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
        "time_steps": int(time_steps),
        "inference": inference,
        "alpha": alpha,
        "fdr": "Benjamini-Hochberg over every bin of the space-time cube",
        "incidents": len(x) if w is None else int(w.sum()),
        "outside_study_area": int(outside),
    }
    if w is not None:
        params["source"] = {"input": "count cube", "cell_size_m": float(grid.cell)}
    return Emerging(cells=cells, z=z, hot=hot, cold=cold, slices=slices, params=params)

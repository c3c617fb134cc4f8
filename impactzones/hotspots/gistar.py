"""Getis-Ord Gi* hot and cold spots on grid counts, with FDR-corrected inference.

The statistic is esda's ``G_Local(star=True)`` with binary distance-band weights (the
cell itself included), computed on the analysis grid's counts:

    z_i = (sum_j w_ij x_j - xbar W_i) / (s sqrt((n W_i - W_i^2) / (n - 1)))

with ``W_i`` the number of cells within ``distance`` of cell ``i`` (itself included),
``xbar`` and ``s`` the mean and standard deviation of the ``n`` counts in the study area.
On a lattice the neighbour sums are box sums (a small correlation), so ``z`` is identical to
esda's without building a weights object.

Inference is two-sided, and three nulls are on offer (``inference=``):

* ``"exact"`` (the default): the randomisation null of Gi*, the same one its z-score
  standardises against (every cell's count, the cell's own included, could have been
  anywhere), with the skew of crime counts kept. The neighbourhood sum of ``W`` cells is
  distributed as the ``W``-fold convolution of the study area's distribution of cell counts
  (draws with replacement; without replacement the variance is smaller by ``(n - W) / (n -
  1)``, a few per mille, so this is slightly conservative). The p-value is ``2 min(P(S >= s),
  P(S <= s))``, capped at 1, with no Monte Carlo floor: a busy cluster can reach p = 1e-10,
  and Benjamini-Hochberg over thousands of cells can pass it. Weighted counts are rounded to
  1/4096 of the largest cell value for the convolution. See :func:`randomisation_p`.
* ``"normal"``: ArcGIS's default, ``2 * sf(|z|)``. With few incidents per cell the sum is
  right-skewed and the normal tail far too thin: under complete spatial randomness with
  5,400 incidents on 4,000 cells, BH at 10% marks at least one false hot cell in about a
  third of the maps (tested), so it is an option, not the default.
* ``"permutation"``: esda's conditional randomisation (the cell's own count held fixed, its
  neighbours' counts drawn without replacement from the other cells, one set of draws shared
  by every cell). Under this null a single very busy cell among quiet neighbours is *not*
  hot: only its neighbours count as evidence. The two-sided p-value is ``2 (min(#draws >=
  observed, #draws <= observed) + 1) / (permutations + 1)``, capped at 1: esda's folded
  one-sided ``p_sim`` doubled, except that ties count on both sides. esda counts a tie only
  as "larger", which makes a cell at the smallest possible value (an empty cell among empty
  neighbours, common with crime counts) look like a 99% cold spot. The smallest attainable p
  is ``2 / (permutations + 1)``, so by default the permutations are sized from the number of
  cells ``n`` (:func:`auto_permutations`) for a lone cell at that floor to pass BH at 5%;
  9,999 permutations over 4,000 cells could never mark anything.

Benjamini-Hochberg FDR correction (``scipy.stats.false_discovery_control``) over the cells is
on by default; the bins are ArcGIS's: +-3, +-2, +-1 for hot (+) or cold (-) spots when the
adjusted p is below 0.01, 0.05 and 0.10, 0 not significant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np

from ..core.compat import renamed_keyword
from ..core.defaults import ALPHA, PERMUTATIONS, neighbour_distance
from ..core.errors import InputError
from ..core.grid import Grid
from ..core.lazy import lazy_module
from ..core.points import grid_for, points_in_study_area
from ..core.results import ResultFiles
from ..cube import is_cube
from ._cube_input import cube_points

ndimage = lazy_module("scipy.ndimage")  # at first use: not by the picture worker
stats = lazy_module("scipy.stats")

__all__ = [
    "BIN_LABELS",
    "INFERENCE",
    "NULLS",
    "P_USED",
    "GiStar",
    "auto_permutations",
    "classify",
    "footprint",
    "gi_star_z",
    "gistar",
    "permutation_p",
    "permutations_needed",
    "randomisation_p",
]

INFERENCE = ("exact", "normal", "permutation")
#: The null hypothesis behind each inference, in words (reported in ``params``).
NULLS = {
    "exact": "every cell's count, its own included, placed at random among the cells",
    "normal": "as 'exact', with the neighbourhood sum taken as normal (ArcGIS's default)",
    "permutation": "the cell's own count fixed, its neighbours' drawn from the other cells",
}

BIN_LABELS = {
    3: "Hot spot, 99% confidence",
    2: "Hot spot, 95% confidence",
    1: "Hot spot, 90% confidence",
    0: "Not significant",
    -1: "Cold spot, 90% confidence",
    -2: "Cold spot, 95% confidence",
    -3: "Cold spot, 99% confidence",
}


@dataclass
class GiStar(ResultFiles):
    """The result of :func:`gistar`: one statistic, results as attributes (esda style).

    A :class:`~impactzones.core.results.Result`: ``params``, ``to_geodataframe()`` (the
    cells), ``to_file(path)``, map layer ``"gistar"``.

    Attributes
    ----------
    cells : GeoDataFrame
        One row per grid cell in the study area: ``row, col, count, z, p_norm, p_exact,
        p_sim, p_value, p_adjusted, bin, label`` and the cell square as geometry.
    Zs, Gs : ndarray
        z-scores and G values, in the order of ``cells``.
    p_norm, p_exact, p_sim : ndarray
        Two-sided normal-approximation, exact randomisation and conditional permutation
        p-values (``p_sim`` is NaN without permutations).
    p_adjusted : ndarray
        The p-value of the chosen ``inference`` (column ``p_value``), Benjamini-Hochberg
        adjusted unless ``fdr=False``; it sets the bins.
    grid : Grid
    params : dict
        Cell size, distance, neighbours, permutations, FDR, seed, and the rules behind
        automatic choices.
    """

    cells: gpd.GeoDataFrame
    Zs: np.ndarray
    Gs: np.ndarray
    p_norm: np.ndarray
    p_sim: np.ndarray
    p_adjusted: np.ndarray
    grid: Grid
    params: dict = field(default_factory=dict)
    p_exact: np.ndarray | None = None
    map_layer = "gistar"

    @property
    def bins(self) -> np.ndarray:
        return self.cells["bin"].to_numpy()

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """One row per cell of the study area (the ``cells`` attribute)."""
        return self.cells

    def summary(self) -> dict:
        """Number of cells in each bin, by label."""
        counts = self.cells["label"].value_counts()
        return {lab: int(counts.get(lab, 0)) for lab in BIN_LABELS.values()}


def footprint(cell: float, distance: float) -> np.ndarray:
    """Binary window of the cells whose centres lie within ``distance`` metres.

    Examples
    --------
    >>> footprint(100, 100).astype(int)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]])
    """
    r = int(math.floor(distance / cell + 1e-9))
    di, dj = np.mgrid[-r : r + 1, -r : r + 1]
    return ((di * di + dj * dj) * cell * cell <= distance * distance * (1 + 1e-12)).astype(float)


def gi_star_z(values: np.ndarray, mask: np.ndarray, window: np.ndarray):
    """Gi* statistics on a lattice, exactly as esda's G_Local(star=True, transform="B").

    Returns ``(S, W, G, z)`` arrays on the masked cells, where ``S`` is the neighbourhood
    sum and ``W`` the neighbourhood size (the cell included).

    Examples
    --------
    >>> v = np.array([[0, 0, 0, 0], [0, 9, 8, 0], [0, 7, 0, 0], [0, 0, 0, 1.0]])
    >>> S, W, G, z = gi_star_z(v, np.ones_like(v, bool), footprint(1, 1.5))
    >>> int(np.argmax(z)), float(W.max())
    (10, 9.0)
    """
    x = np.where(mask, values, 0.0)
    S = ndimage.correlate(x, window, mode="constant", cval=0.0)[mask]
    W = ndimage.correlate(mask.astype(float), window, mode="constant", cval=0.0)[mask]
    y = values[mask]
    n = y.size
    total = y.sum()
    if n < 3 or total <= 0:
        raise InputError("Gi* needs incidents in at least a few cells of the study area.")
    mean = total / n
    var = (y * y).sum() / n - mean * mean
    if var <= 0:
        raise InputError("Every cell has the same count: there is nothing for Gi* to find.")
    G = S / total
    EG = W / n
    VG = W * (n - W) / (n - 1) / n**2 * var / mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (G - EG) / np.sqrt(VG)
    return S, W, G, z


def _draws(rng: np.random.Generator, n: int, k: int, permutations: int) -> np.ndarray:
    """``permutations`` rows of ``k`` distinct cell indices, uniform without replacement."""
    if k > n:
        raise InputError(
            "The Gi* neighbourhood is larger than the study area; use a smaller distance."
        )
    rows = rng.integers(0, n, size=(permutations, k))
    while True:
        srt = np.sort(rows, axis=1)
        dup = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
        if not dup.any():
            return rows
        rows[dup] = rng.integers(0, n, size=(int(dup.sum()), k))


def _power_pmf(pmf: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-fold convolution of a probability mass function (by repeated squaring)."""
    out = np.array([1.0])
    base = pmf
    while k:
        if k & 1:
            out = np.clip(_convolve(out, base), 0.0, None)
        k >>= 1
        if k:
            base = np.clip(_convolve(base, base), 0.0, None)
    return out / out.sum()


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``scipy.signal.convolve(a, b)`` of two 1-D float arrays, the same numbers bit for
    bit: its choice between the direct sum (``numpy.convolve``) and the FFT (its cost
    model, for the full output of 1-D inputs) and its FFT steps (``rfftn`` at the next fast
    length), without importing ``scipy.signal`` (0.1 s, for this one call)."""
    n = a.size + b.size - 1
    fft_ops = 3 * n * np.log(n)
    fft_faster = 1.7649070e-9 * fft_ops < 2.1414831e-10 * (a.size * b.size) + -1e-3
    if a.size == 1 or b.size == 1 or not fft_faster:
        return np.convolve(a, b)
    from scipy import fft

    m = [fft.next_fast_len(n, True)]
    spectrum = fft.rfftn(a, m, axes=[0]) * fft.rfftn(b, m, axes=[0])
    return fft.irfftn(spectrum, m, axes=[0])[:n].copy()


def randomisation_p(
    y: np.ndarray, S: np.ndarray, W: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact two-sided p-values of neighbourhood sums under Gi*'s randomisation null.

    Under the null every cell's count is a draw from the study area's counts ``y``, so a
    neighbourhood of ``W`` cells sums to the ``W``-fold convolution of their distribution
    (with replacement: slightly conservative). Returns ``(p, upper, lower)`` with
    ``upper = P(S >= s)``, ``lower = P(S <= s)`` and ``p = min(1, 2 min(upper, lower))``.
    Non-integer values are rounded to 1/4096 of the largest value first.

    Parameters
    ----------
    y : ndarray
        Counts (or weighted sums) of the ``n`` cells, non-negative.
    S, W : ndarray
        Each cell's neighbourhood sum and neighbourhood size (the cell included).

    Examples
    --------
    Two cells of 1 among ten, neighbourhoods of two cells: ``P(S = 2) = 0.2^2``.

    >>> y = np.array([1.0, 1] + [0] * 8)
    >>> p, up, lo = randomisation_p(y, np.array([2.0, 0.0]), np.array([2, 2]))
    >>> [round(float(v), 4) for v in up], [round(float(v), 4) for v in lo]
    ([0.04, 1.0], [1.0, 0.64])
    """
    y = np.asarray(y, float)
    step = 1.0
    if not np.allclose(y, np.rint(y)):
        step = float(y.max()) / 4096.0
    yi = np.rint(y / step).astype(np.int64)
    si = np.rint(np.asarray(S, float) / step).astype(np.int64)
    W = np.asarray(W).astype(np.int64)
    pmf = np.bincount(yi) / yi.size
    upper = np.ones(si.size)
    lower = np.ones(si.size)
    for w in np.unique(W):
        dist = _power_pmf(pmf, int(w))
        up_tail = np.cumsum(dist[::-1])[::-1]
        lo_tail = np.cumsum(dist)
        idx = np.flatnonzero(W == w)
        s = np.clip(si[idx], 0, dist.size - 1)
        upper[idx] = np.where(si[idx] < dist.size, up_tail[s], 0.0)
        lower[idx] = np.minimum(lo_tail[s], 1.0)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower)), upper, lower


def auto_permutations(n_cells: int, alpha: float = ALPHA.default) -> int:
    """Permutations for a conditional-permutation Gi* whose smallest p can pass BH.

    The smallest attainable two-sided p is ``2 / (P + 1)``; Benjamini-Hochberg over ``n``
    cells lets a lone cell through at level ``alpha`` when ``2 n / (P + 1) <= alpha``. The
    rule takes ``P + 1 = 2 n / alpha`` rounded up to 1, 2, 2.5 or 5 x 10^k, at least 1,000.

    Examples
    --------
    >>> auto_permutations(4024)
    199999
    """
    from ..core.grid import nice_ceil

    return int(nice_ceil(max(1000.0, 2.0 * n_cells / alpha))) - 1


def permutation_p(
    y: np.ndarray,
    S: np.ndarray,
    card: np.ndarray,
    permutations: int,
    seed: int,
    chunk: int = 20_000,
) -> np.ndarray:
    """Two-sided conditional-permutation p-values for Gi* (see the module notes).

    ``y`` are the counts, ``S`` the observed neighbourhood sums (cell included) and ``card``
    the number of neighbours excluding the cell itself. The draws are made ``chunk`` at a
    time, so memory does not grow with the number of permutations.

    Examples
    --------
    >>> y = np.zeros(200); y[:5] = 10
    >>> p = permutation_p(y, np.where(y > 0, 50.0, 0.0), np.full(200, 4), 999, seed=0)
    >>> bool(p[0] < 0.01), bool(p[100] > 0.5)
    (True, True)
    """
    n = y.size
    kmax = int(card.max())
    rng = np.random.default_rng(seed)
    ge = np.zeros(n, dtype=np.int64)  # draws at least as large as observed
    le = np.zeros(n, dtype=np.int64)  # draws at most as large as observed
    done = 0
    while done < permutations:
        size = min(chunk, permutations - done)
        draws = _draws(rng, n, kmax + 1, size)
        _count_sides(y, S, card, draws, ge, le)
        done += size
    return np.minimum(1.0, 2.0 * (np.minimum(ge, le) + 1) / (permutations + 1))


def _count_sides(y, S, card, draws, ge, le) -> None:
    """Add, per cell, the draws at least / at most as large as observed to ``ge``, ``le``."""
    permutations, kmax = draws.shape[0], int(card.max())
    prefix = np.zeros((permutations, kmax + 2))
    np.cumsum(y[draws], axis=1, out=prefix[:, 1:])
    target = S - y  # the neighbours' sum observed
    for c in np.unique(card):
        idx = np.flatnonzero(card == c)
        col = np.sort(prefix[:, c])
        ge[idx] += permutations - np.searchsorted(col, target[idx], side="left")
        le[idx] += np.searchsorted(col, target[idx], side="right")
    # Draws that picked the cell itself among its first c ids use the next id instead.
    p_ids = np.repeat(np.arange(permutations), kmax)
    j_ids = np.tile(np.arange(kmax), permutations)
    cells = draws[:, :kmax].ravel()
    hit = j_ids < card[cells]
    p_ids, cells = p_ids[hit], cells[hit]
    c = card[cells]
    old = prefix[p_ids, c]
    new = prefix[p_ids, c + 1] - y[cells]
    t = target[cells]
    np.add.at(ge, cells, (new >= t).astype(np.int64) - (old >= t).astype(np.int64))
    np.add.at(le, cells, (new <= t).astype(np.int64) - (old <= t).astype(np.int64))


def classify(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """ArcGIS-style bins: +-3/2/1 for p < 0.01/0.05/0.10, signed by z; 0 otherwise.

    Examples
    --------
    >>> classify(np.array([3.1, -2.0, 1.0, 2.5]), np.array([0.001, 0.04, 0.5, 0.08])).tolist()
    [3, -2, 0, 1]
    """
    level = np.select([p < 0.01, p < 0.05, p < 0.10], [3, 2, 1], 0)
    return (np.sign(np.nan_to_num(z)) * level).astype(int)


@renamed_keyword("mask", "study_area")
def gistar(
    incidents: gpd.GeoDataFrame,
    cell_size: float | None = None,
    distance: float | None = None,
    *,
    inference: str = "exact",
    permutations: int | None = None,
    fdr: bool = True,
    study_area=None,
    grid: Grid | None = None,
    weights=None,
    seed: int = 0,
    quiet: bool = True,
) -> GiStar:
    """Getis-Ord Gi* hot and cold spots of incident counts on the analysis grid.

    Parameters
    ----------
    incidents : GeoDataFrame, Points or count cube
        Point incidents in a metric CRS, :class:`~impactzones.hotspots.Points` prepared
        once (then without ``study_area``), or a count cube (:func:`impactzones.cube.build_cube`;
        its counts summed over whatever is left after your selection, on its grid).
    cell_size : float, optional
        Cell side in metres (default: the shared grid rule of
        :func:`impactzones.core.grid.auto_cell_size`).
    distance : float, optional
        Neighbourhood radius in metres between cell centres; default ``cell * sqrt(2)``
        (the cell and its 8 neighbours).
    inference : {"exact", "normal", "permutation"}, default "exact"
        Which p-value sets the bins (module notes): the exact randomisation p, the normal
        approximation (ArcGIS's default), or esda's conditional permutation test.
    permutations : int, optional
        Conditional permutations for ``p_sim``. Default: none, or with
        ``inference="permutation"`` as many as :func:`auto_permutations` gives for the
        number of cells (199,999 for 4,000 cells). Given with another inference, ``p_sim``
        is computed and reported alongside.
    fdr : bool, default True
        Benjamini-Hochberg correction of the p-values before binning.
    study_area : polygon or GeoDataFrame, optional
        Study area (formerly ``mask=``, still accepted with a ``FutureWarning``); default the
        incidents' bounding box.
    grid : Grid, optional
        A grid to reuse (e.g. a KDE's), so that the cells line up.
    weights : str or array, optional
        Weights to sum per cell instead of counting incidents.
    seed : int, default 0
        Seed of the permutations.

    Returns
    -------
    GiStar

    Examples
    --------
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.core.geo import st_louis
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> g = gistar(inc[inc["group"] == "violent"], cell_size=250, study_area=st_louis().boundary)
    >>> g.params["neighbours"], int((g.bins == 3).sum()) > 0
    (9, True)
    """
    if inference not in INFERENCE:
        raise InputError(f"inference must be one of {', '.join(INFERENCE)}; got {inference!r}.")
    if permutations is not None:
        permutations = int(PERMUTATIONS.check(permutations))
    grid, counts, n_used, outside = _grid_counts(incidents, study_area, grid, cell_size, weights)
    distance, rule = neighbour_distance(grid.cell, distance)
    window = footprint(grid.cell, distance)
    S, W, G, z = gi_star_z(counts, grid.mask, window)
    yv = counts[grid.mask]
    p, permutations, perm_rule = _p_values(yv, S, W, z, inference, permutations, seed)
    if inference == "permutation":
        _warn_too_few(int(permutations), int(yv.size), fdr)
    p_adj = stats.false_discovery_control(p[inference], method="bh") if fdr else p[inference]
    params = {
        "cell_size_m": grid.cell,
        "cell_rule": grid.rule,
        "distance_m": float(distance),
        "distance_rule": rule,
        "neighbours": int(window.sum()),
        "cells": int(yv.size),
        "incidents": int(n_used),
        "outside_study_area": int(outside),
        "permutations": int(permutations),
        "permutations_rule": perm_rule,
        "inference": inference,
        "null": NULLS[inference],
        "fdr": "Benjamini-Hochberg" if fdr else "none",
        "p_used": P_USED[inference],
        "seed": seed,
    }
    if not quiet:
        print(
            f"gistar: {grid.cell:g} m cells ({grid.rule}); neighbours within "
            f"{distance:,.0f} m ({rule}); {params['p_used']} p-values; FDR {params['fdr']}"
        )
    return GiStar(
        cells=_cells(grid, yv, z, p, inference, p_adj),
        Zs=z,
        Gs=G,
        p_norm=p["normal"],
        p_sim=p["permutation"],
        p_adjusted=p_adj,
        p_exact=p["exact"],
        grid=grid,
        params=params,
    )


#: The words for the p-value that sets the bins, by inference (reported in ``params``).
P_USED = {
    "exact": "exact randomisation",
    "normal": "normal approximation",
    "permutation": "conditional permutation",
}


def _grid_counts(incidents, study_area, grid, cell_size, weights):
    """The grid, the counts (or weights) per cell, the incidents used and those left out."""
    if is_cube(incidents):  # the counts per cell, summed over the cube's selection
        _x, _y, _w, grid, outside = cube_points(incidents, grid)
        counts = grid.counts(_x, _y, _w)
        return grid, counts, int(round(counts.sum())), outside
    x, y, w, area, outside = points_in_study_area(incidents, study_area, weights)
    if grid is None:
        grid = grid_for(x, y, area, incidents.crs, cell_size)
    return grid, grid.counts(x, y, w), len(x), outside


def permutations_needed(n_cells: int, fdr: bool = True, alpha: float = ALPHA.default) -> int:
    """The fewest permutations with which a lone cell at the smallest attainable p,
    ``2 / (P + 1)``, passes at level ``alpha``: Benjamini-Hochberg passes the top-ranked
    cell when its p is at most ``alpha / n``, so ``P + 1 >= 2 n / alpha`` (without FDR,
    ``P + 1 >= 2 / alpha``).

    Examples
    --------
    >>> permutations_needed(4024), permutations_needed(4024, fdr=False)
    (160959, 39)
    """
    n = n_cells if fdr else 1
    return max(1, math.ceil(round(2.0 * n / alpha, 9)) - 1)


def _warn_too_few(permutations: int, n_cells: int, fdr: bool) -> None:
    """Warn when so few permutations were asked for that no lone cell can pass."""
    import warnings

    need = permutations_needed(n_cells, fdr)
    if permutations >= need:
        return
    level = (
        f"{ALPHA.default:g} / {n_cells:,} cells = {ALPHA.default / n_cells:.3g} for "
        "Benjamini-Hochberg"
        if fdr
        else f"{ALPHA.default:g}"
    )
    floor = 2 / (permutations + 1)
    outcome = (
        "no cell can pass"
        if floor > ALPHA.default
        else "a cell can pass only where many cells tie at that floor"
    )
    warnings.warn(
        f"With {permutations:,} permutations the smallest p a cell can get is 2 / "
        f"{permutations + 1:,} = {floor:.3g}, above the {level}, so {outcome}; use at least "
        f"{need:,} permutations (leave --permutations out to size them) or --inference exact.",
        stacklevel=3,
    )


def _p_values(yv, S, W, z, inference: str, permutations: int | None, seed: int):
    """The normal, exact and (with permutations) conditional-permutation p-values by
    inference name, the permutations run and the rule behind their number."""
    perm_rule = "given"
    if permutations is None:
        permutations = auto_permutations(yv.size) if inference == "permutation" else 0
        perm_rule = (
            f"2 x {yv.size:,} cells / 0.05, rounded up: a lone cell at the smallest "
            "attainable p can pass BH at 5%"
            if permutations
            else "none"
        )
    if inference == "permutation" and not permutations:
        raise InputError("inference='permutation' needs permutations > 0.")
    if permutations:
        p_sim = permutation_p(yv, S, (W - 1).astype(np.int64), int(permutations), seed)
    else:
        p_sim = np.full(yv.size, np.nan)
    p = {
        "normal": 2 * stats.norm.sf(np.abs(z)),
        "exact": randomisation_p(yv, S, W)[0],
        "permutation": p_sim,
    }
    return p, permutations, perm_rule


def _cells(grid: Grid, yv, z, p: dict, inference: str, p_adj) -> gpd.GeoDataFrame:
    """One row per cell of the study area with its count, z, p-values and bin."""
    bins = classify(z, p_adj)
    rows, cols = np.nonzero(grid.mask)
    return gpd.GeoDataFrame(
        {
            "row": rows,
            "col": cols,
            "count": yv,
            "z": z,
            "p_norm": p["normal"],
            "p_exact": p["exact"],
            "p_sim": p["permutation"],
            "p_value": p[inference],
            "p_adjusted": p_adj,
            "bin": bins,
            "label": [BIN_LABELS[b] for b in bins],
        },
        geometry=grid.polygons(rows, cols),
        crs=grid.crs,
    )

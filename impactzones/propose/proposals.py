"""Proposing new Impact Zones from hot spots, under a commander's constraints, and
backtesting them on the following period.

Proposal (:func:`propose_zones`), one zone at a time, greedily:

1. a priority surface on the analysis grid from the proposal period's incidents: the
   counts per cell lightly smoothed (``method="cells"``, the default; optionally the
   months with an incident, ``stability=True``), the kernel
   density (``method="kde"``), the Gi* z-score (``"gistar"``, only significant hot cells)
   or the kernel density inside DBSCAN clusters (``"dbscan"``);
2. cells inside existing zones, within ``gap`` metres of them (default 400 m: their
   displacement rings stay clean), outside the study area, or in zones already proposed are
   masked out;
3. from the densest free cell, the region grows one edge-neighbouring cell at a time,
   always the densest on its border, while the density stays above ``threshold`` times the
   seed's (and the ``floor`` quantile) and the area below ``max_area_km2`` (and at least
   to ``min_area_km2``);
4. the cells are turned into a patrol-friendly outline: closed and opened by half a cell,
   holes filled, simplified, clipped to the study area and away from other zones, kept as
   its largest single polygon, and shrunk (or grown) back within the area limits;
5. optionally snapped to whole neighborhoods (``snap="neighborhoods"``) when the snapped
   shape still meets every constraint.

Each candidate carries its area, incidents and share in the proposal period, its PAI, the
districts and neighborhoods it covers, the parameters that made it and a plain-language
summary. Candidates are ranked by incidents per km^2.

Backtest (:func:`backtest`): how proposals (and existing zones, and a naive baseline: the
proposal period's top cells of the same total area) did in the following period:

* **hit rate**: the share of the period's incidents inside;
* **PAI** (Chainey, Tompson & Uhlig 2008): hit rate / area share of the study area;
* **PEI** (Hunt 2016): PAI / the best PAI any set of grid cells with the same total area
  could have had in that period (cells ranked by their count; ties at the cut do not matter,
  the cut takes whole cells and the best total is unique);
* **RRI** (Levine 2008, the Recapture Rate Index): (hits after / hits before) / (all after /
  all before); above 1, the area held more of the city's crime than before.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity

from ..core.errors import InputError
from ..core.geo import Layers, xy
from ..core.grid import make_grid
from ..core.windows import parse_window, select
from ..hotspots import registry as _registry

__all__ = [
    "CAPTURE_SHARES",
    "COMPACT",
    "HINDSIGHT",
    "METHODS",
    "NAIVE",
    "RANDOM",
    "Constraints",
    "backtest",
    "best_hits",
    "capture_curve",
    "capture_table",
    "compact_baseline",
    "naive_cells",
    "pai",
    "plot_capture_curve",
    "propose_zones",
    "random_placements",
    "rolling_backtest",
    "rri",
]

#: "cells" and every hot-spot method with a priority surface in the registry (live).
METHODS = _registry.MethodNames(having="surface", before=("cells",))
#: Segments per quarter circle of the gap buffers: gaps are kept to within 0.03% (the
#: polygon's chords cut the true circle by at most gap x (1 - cos(pi / 128))).
BUFFER_SEGMENTS = 32
#: The gap buffers reach out by gap / cos(pi / 128), so that their chords (not only their
#: vertices) stay at least ``gap`` from the zone: the gap is then never short.
GAP_PAD = 1 / math.cos(math.pi / (4 * BUFFER_SEGMENTS))
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
NAIVE = "naive: last period's top cells"
COMPACT = "compact naive: discs on last period's densest cells"
RANDOM = "random placements of the same shapes (mean)"


@dataclass(frozen=True)
class Constraints:
    """The commander's constraints on a proposal (areas in km^2, distances in metres)."""

    max_area_km2: float = 3.0
    min_area_km2: float = 0.5
    gap_m: float = 400.0
    solidity: float = 0.0

    def check(self) -> None:
        if not (0 < self.min_area_km2 <= self.max_area_km2):
            raise InputError(
                f"Need 0 < min_area_km2 ({self.min_area_km2}) <= max_area_km2 "
                f"({self.max_area_km2})."
            )
        if self.gap_m < 0:
            raise InputError(f"gap must be >= 0 metres, got {self.gap_m}.")
        if not 0 <= self.solidity <= 1:
            raise InputError(f"solidity must be between 0 and 1, got {self.solidity}.")


def _cell_surface(sel, land, cell: float, smooth: float, stability: bool):
    """Counts per cell, lightly smoothed (Gaussian, ``smooth`` metres), or with
    ``stability`` the number of months each cell had an incident, smoothed alike."""
    from scipy import ndimage

    grid = make_grid(land, sel.crs, cell)
    x, y = xy(sel)
    if stability:
        month = sel["occurred_at"].dt.to_period("M").to_numpy()
        counts = np.zeros(grid.shape)
        for m in np.unique(month):
            counts += grid.counts(x[month == m], y[month == m]) > 0
        what = "months with an incident"
    else:
        counts = grid.counts(x, y).astype(float)
        what = "incidents"
    counts = np.where(grid.mask, counts, 0.0)
    values = ndimage.gaussian_filter(counts, smooth / cell, mode="constant") if smooth else counts
    note = f"{what} per {cell:g} m cell, Gaussian smoothing {smooth:g} m"
    return grid, np.where(grid.mask, values, 0.0), note


def _surface(sel, land, method: str, cell: float, bandwidth, smooth=100.0, stability=False):
    """The priority surface of ``method``: counts per cell, or a hot-spot method's result
    as its registry entry turns it into one (``Method.surface``)."""
    from ..hotspots import prepare_points, registry

    if method == "cells":
        return _cell_surface(sel, land, cell, smooth, stability)
    entry = registry.get(method)
    if entry.surface is None:
        raise InputError(f"The {method} method has no priority surface to propose zones from.")
    settings = {"cell_size": cell, "bandwidth": bandwidth, "permutations": 0, "top": 0}
    ctx = registry.RunContext(sel, prepare_points(sel, land), land, settings)
    return entry.surface(registry.run_method(method, ctx), ctx)


def _grow(
    values: np.ndarray,
    free: np.ndarray,
    cell_km2: float,
    c: Constraints,
    threshold: float,
    floor: float = 0.0,
):
    """Cells grown from the densest free cell (see the module notes), or None.

    Growth stops (once the minimum area is reached) at the first border cell below both
    ``threshold`` times the seed's value and ``floor`` (an absolute value)."""
    score = np.where(free, values, -np.inf)
    seed = np.unravel_index(np.argmax(score), score.shape)
    peak = score[seed]
    if not np.isfinite(peak) or peak <= 0:
        return None
    region = np.zeros(values.shape, bool)
    heap = [(-peak, seed)]
    seen = {seed}
    max_cells = int(c.max_area_km2 / cell_km2)
    min_cells = int(math.ceil(c.min_area_km2 / cell_km2))
    n = 0
    h, w = values.shape
    while heap and n < max_cells:
        neg, (r, k) = heapq.heappop(heap)
        if -neg < max(threshold * peak, floor) and n >= min_cells:
            break
        region[r, k] = True
        n += 1
        for dr, dk in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, kk = r + dr, k + dk
            if 0 <= rr < h and 0 <= kk < w and (rr, kk) not in seen and free[rr, kk]:
                seen.add((rr, kk))
                heapq.heappush(heap, (-values[rr, kk], (rr, kk)))
    return region if n >= min_cells else None


def _outline(region, grid, allowed, c: Constraints):
    """A smooth single polygon from cells, within the allowed area and the area limits."""
    rows, cols = np.nonzero(region)
    cells = shapely.union_all(grid.polygons(rows, cols))
    half = grid.cell / 2
    shape = cells.buffer(half, join_style="round").buffer(-half, join_style="round")
    shape = shape.buffer(-half / 2).buffer(half / 2)
    # simplify before clipping, so that the clip has the last word on where the edge runs
    shape = shape.simplify(grid.cell / 4, preserve_topology=True)
    shape = _largest(shape)
    if shape is None:
        return None
    shape = _solid(shapely.Polygon(shape.exterior), c.solidity, grid.cell)  # no holes
    shape = _largest(shapely.intersection(shape, allowed))
    if shape is None:
        return None
    lo, hi = c.min_area_km2 * 1e6, c.max_area_km2 * 1e6
    if shape.area > hi:
        shape = _fit_area(shape, allowed, hi, shrink=True)
    elif shape.area < lo:
        shape = _fit_area(shape, allowed, lo, shrink=False)
    if shape is None or not (lo * (1 - 1e-9) <= shape.area <= hi * (1 + 1e-9)):
        return None
    return shape


def _solid(shape, solidity: float, cell: float):
    """Close the shape's inlets (ever wider, up to 4 cells) until its area is at least
    ``solidity`` of its convex hull's; the hull itself if that is not enough."""
    r = cell / 2
    while shape.area < solidity * shape.convex_hull.area and r <= 4 * cell:
        closed = _largest(shape.buffer(r, join_style="round").buffer(-r, join_style="round"))
        shape = shapely.Polygon(closed.exterior) if closed is not None else shape
        r += cell / 2
    return shape if shape.area >= solidity * shape.convex_hull.area else shape.convex_hull


def _largest(geom):
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    return max(parts, key=lambda p: p.area) if parts else None


def _fit_area(shape, allowed, target, *, shrink: bool):
    """Buffer the shape in or out (bisection on the distance) to reach ``target`` m^2."""
    lo, hi = (0.0, math.sqrt(shape.area)) if shrink else (0.0, 3 * math.sqrt(target))
    best = None
    for _ in range(40):
        mid = (lo + hi) / 2
        d = -mid if shrink else mid
        cand = _largest(shapely.intersection(shape.buffer(d, join_style="round"), allowed))
        if cand is None:
            hi = mid
            continue
        ok = cand.area <= target if shrink else cand.area >= target
        if ok:
            best = cand
            hi = mid
        else:
            lo = mid
    return best


def _covers(geom, layer: gpd.GeoDataFrame | None, col: str, min_share: float = 0.05):
    """Names in ``layer`` that cover at least ``min_share`` of ``geom``'s area."""
    if layer is None or len(layer) == 0:
        return []
    out = []
    for name, g in zip(layer[col], layer.geometry, strict=True):
        if g.intersects(geom):
            share = g.intersection(geom).area / geom.area
            if share >= min_share:
                out.append((share, str(name)))
    return [n for _, n in sorted(out, reverse=True)]


def propose_zones(
    incidents: gpd.GeoDataFrame,
    *,
    period,
    k: int = 8,
    max_area_km2: float = 3.0,
    min_area_km2: float = 0.5,
    exclude: gpd.GeoDataFrame | None = None,
    method: str = "cells",
    group: str | None = "violent",
    category: str | list[str] | None = None,
    layers: Layers | None = None,
    study_area=None,
    gap: float = 400.0,
    cell_size: float = 100.0,
    bandwidth: float | None = None,
    threshold: float = 0.6,
    snap: str | None = None,
    smooth: float = 100.0,
    stability: bool = False,
    floor: float = 0.0,
    solidity: float = 0.0,
) -> gpd.GeoDataFrame:
    """Up to ``k`` candidate Impact Zones from the hot spots of ``period``.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents in a metric CRS.
    period : int, "START:END" or (start, end)
        The proposal period (e.g. ``2018``).
    k : int, default 8
        How many zones to propose. Eight half-km^2 zones hold far more of the next
        year's crime per km^2 than two zones of the same total area (tuned on the real
        St. Louis 2017 -> 2018 backtest; see docs/proposals.md).
    max_area_km2, min_area_km2 : float, default 3 and 0.5
        Area limits of each zone, in km^2.
    exclude : GeoDataFrame, optional
        Existing zones: proposals stay ``gap`` metres away from them.
    method : {"cells", "kde", "gistar", "dbscan"}
        The priority surface (see the module notes); the default, lightly smoothed
        counts per cell, keeps the hot addresses that a wide kernel spreads out.
    group, category : str, optional
        Which incidents count (default violent crime).
    layers : Layers, optional
        For the study area (its land), districts and neighborhoods covered, and snapping.
    study_area : shapely geometry, optional
        Overrides ``layers.land``.
    gap : float, default 400
        Metres kept clear around existing zones.
    cell_size : float, default 100
        Grid cell in metres.
    bandwidth : float, optional
        KDE bandwidth in metres (default: the automatic rule).
    threshold : float, default 0.6
        Growth stops at cells below this share of the seed's density (once the minimum
        area is reached): a zone is the hot spot's core. Lower values give larger zones
        that catch more incidents at a lower density (and a lower PAI).
    snap : {None, "neighborhoods"}
        Snap each outline to whole neighborhoods when that still meets the constraints.
    smooth : float, default 100
        ``method="cells"``: the Gaussian smoothing of the cell counts (sigma, metres).
    stability : bool, default False
        ``method="cells"``: count the months in which each cell had an incident rather
        than the incidents (places that stayed hot over a one-month spike).
    solidity : float, default 0
        The least share of its convex hull that a zone's area must fill (0-1): inlets are
        closed until it does (a simpler shape to patrol, at some cost in PAI; see
        docs/proposals.md).
    floor : float, default 0
        Growth also stops (once the minimum area is reached) at cells below this
        quantile (0-1) of the surface over the free cells: a citywide density floor.

    Returns
    -------
    GeoDataFrame
        Ranked candidates: ``rank, name, area_km2, incidents, share, pai, districts,
        neighborhoods, method, params, summary`` and the polygon.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2018]).incidents
    >>> p = propose_zones(inc, period=2018, k=2, exclude=layers.zones.iloc[:1], layers=layers)
    >>> len(p), bool((p["area_km2"] <= 3.0).all())
    (2, True)
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}.")
    if k < 1 or int(k) != k:
        raise InputError(f"k must be a whole number >= 1, got {k!r}.")
    if snap not in (None, "neighborhoods"):
        raise InputError(f"snap must be None or 'neighborhoods', got {snap!r}.")
    c = Constraints(max_area_km2, min_area_km2, gap, solidity)
    c.check()
    window = parse_window(period)
    sel = select(incidents, window=window, group=group, category=category)
    if len(sel) < 10:
        raise InputError(
            f"Only {len(sel)} incidents match {window.label}: too few to propose "
            "zones from; widen the period or the crimes."
        )
    land = (
        study_area
        if study_area is not None
        else (layers.land if layers is not None else shapely.box(*incidents.total_bounds))
    )
    grid, values, note = _surface(sel, land, method, cell_size, bandwidth, smooth, stability)
    blocked = shapely.Polygon()
    if exclude is not None and len(exclude):
        if exclude.crs is not None and not exclude.crs.equals(incidents.crs):
            raise InputError("The existing zones and the incidents have different CRSs.")
        blocked = exclude.geometry.union_all().buffer(gap * GAP_PAD, quad_segs=BUFFER_SEGMENTS)
    cx, cy = grid.centres()
    free = (
        grid.mask & ~shapely.contains_xy(blocked, cx, cy)
        if not blocked.is_empty
        else grid.mask.copy()
    )
    if not 0 <= floor < 1:
        raise InputError(f"floor must be a quantile in [0, 1), got {floor!r}.")
    floor_value = float(np.quantile(values[free], floor)) if floor and free.any() else 0.0
    x, y = xy(sel)
    rows: list[dict] = []
    tries = 0
    while len(rows) < k and tries < 4 * k + 4:
        tries += 1
        region = _grow(values, free, grid.cell_area_km2, c, threshold, floor_value)
        if region is None:
            break
        allowed = shapely.difference(land, blocked)
        shape = _outline(region, grid, allowed, c)
        # never try these cells again, whatever happens to the outline
        free &= ~region
        if shape is None:
            continue
        if snap == "neighborhoods" and layers is not None and layers.neighborhoods is not None:
            shape = _snap(shape, layers.neighborhoods, allowed, c) or shape
        around = shape.buffer(gap * GAP_PAD, quad_segs=BUFFER_SEGMENTS)
        blocked = shapely.union(blocked, around)
        free &= ~shapely.contains_xy(around, cx, cy)
        shapely.prepare(shape)
        hits = int(shapely.intersects_xy(shape, x, y).sum())
        rows.append({"geometry": shape, "incidents": hits})
    if not rows:
        raise InputError(
            "No zone fits the constraints: allow a larger area, a smaller gap, or "
            "fewer existing zones to avoid."
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=incidents.crs)
    land_km2 = land.area / 1e6
    out["area_km2"] = out.area / 1e6
    out["share"] = out["incidents"] / len(sel)
    out["pai"] = out["share"] / (out["area_km2"] / land_km2)
    out["per_km2"] = out["incidents"] / out["area_km2"]
    out = out.sort_values("per_km2", ascending=False, ignore_index=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["name"] = [f"Proposal {LETTERS[i % 26]}" for i in range(len(out))]
    nb = layers.neighborhoods if layers is not None else None
    dist = layers.districts if layers is not None else None
    out["neighborhoods"] = ["; ".join(_covers(g, nb, "name")) for g in out.geometry]
    out["districts"] = ["; ".join(_covers(g, dist, "district")) for g in out.geometry]
    crime = group or ", ".join([category] if isinstance(category, str) else category or [])
    out["method"] = method
    out["params"] = (
        f"{note}; {cell_size:g} m cells; growth threshold {threshold:g}; areas "
        f"{min_area_km2:g} to {max_area_km2:g} km^2; gap {gap:g} m; period "
        f"{window.label}" + (f"; snapped to {snap}" if snap else "")
    )
    out["summary"] = [
        f"{r.name}, {r.area_km2:.1f} km^2"
        + (f" around {_first(r.neighborhoods, 2)}" if r.neighborhoods else "")
        + f", held {r.share:.1%} of {crime} crime in {window.label} on "
        f"{r.area_km2 / land_km2:.1%} of the city's area (PAI {r.pai:.1f})."
        for r in out.itertuples()
    ]
    # what a year-on-year test could see there (impactzones.evaluate.power)
    from ..evaluate.power import zone_power

    per_year = out["incidents"].astype(float) * 365.25 / window.days
    powers = [zone_power(b, where="this zone") if b > 0 else None for b in per_year]
    out["power_20"] = [pw.power if pw else float("nan") for pw in powers]
    out["mde_80"] = [pw.mde_pct if pw else float("nan") for pw in powers]
    out["summary"] = [
        s if pw is None else f"{s} {pw.verdict.split(' (')[0]}, a year against a year."
        for s, pw in zip(out["summary"], powers, strict=True)
    ]
    cols = [
        "rank",
        "name",
        "area_km2",
        "incidents",
        "share",
        "pai",
        "per_km2",
        "power_20",
        "mde_80",
        "districts",
        "neighborhoods",
        "method",
        "params",
        "summary",
        "geometry",
    ]
    out = out[cols]
    out.attrs.update(
        {
            "period": window.label,
            "window": window,
            "incidents": len(sel),
            "land_km2": land_km2,
            "cell_size": cell_size,
        }
    )
    return out


def _first(names: str, n: int) -> str:
    parts = [p for p in names.split("; ") if p]
    return " and ".join(parts[:n]) if len(parts) <= n else ", ".join(parts[:n]) + " and others"


def _snap(shape, neighborhoods, allowed, c: Constraints):
    """The union of the neighborhoods mostly inside ``shape``, if it meets the constraints."""
    picked = [
        g
        for g in neighborhoods.geometry
        if g.intersects(shape) and g.intersection(shape).area >= 0.5 * g.area
    ]
    if not picked:
        return None
    snapped = _largest(shapely.intersection(shapely.union_all(picked), allowed))
    if snapped is None:
        return None
    if c.min_area_km2 * 1e6 <= snapped.area <= c.max_area_km2 * 1e6:
        return snapped
    return None


# --------------------------------------------------------------------------------------
# Backtests
# --------------------------------------------------------------------------------------


def pai(hits: int, total: int, area_km2: float, study_km2: float) -> float:
    """Predictive Accuracy Index: (hits / total) / (area / study area).

    Examples
    --------
    >>> pai(20, 100, 2.0, 100.0)
    10.0
    """
    if total <= 0 or area_km2 <= 0:
        return math.nan
    return (hits / total) / (area_km2 / study_km2)


def rri(hits_after: int, hits_before: int, total_after: int, total_before: int) -> float:
    """Levine's Recapture Rate Index: (hits after / before) / (total after / before).

    Examples
    --------
    >>> round(rri(20, 25, 100, 120), 4)
    0.96
    """
    if hits_before <= 0 or total_before <= 0 or total_after <= 0:
        return math.nan
    return (hits_after / hits_before) / (total_after / total_before)


def best_hits(counts: np.ndarray, n_cells: int) -> int:
    """The most incidents any ``n_cells`` grid cells held (the PEI's best case).

    Examples
    --------
    >>> best_hits(np.array([[5, 0, 3], [3, 1, 0]]), 2)
    8
    """
    v = np.sort(np.asarray(counts).ravel())[::-1]
    return int(v[: max(int(n_cells), 0)].sum())


def naive_cells(counts_before: np.ndarray, allowed: np.ndarray, n_cells: int) -> np.ndarray:
    """The baseline: the ``n_cells`` allowed cells with the most incidents before.

    Ties are broken by cell order (row by row, from the north-west), a rule that looks at
    nothing from the period being predicted.

    Examples
    --------
    >>> naive_cells(np.array([[2, 0, 2], [2, 1, 0]]), np.ones((2, 3), bool), 2).astype(int)
    array([[1, 0, 1],
           [0, 0, 0]])
    """
    flat = np.where(allowed, counts_before, -1).ravel()
    order = np.lexsort((np.arange(flat.size), -flat))
    keep = np.zeros(flat.size, bool)
    keep[order[:n_cells]] = True
    return (keep & (flat >= 0)).reshape(counts_before.shape)


def compact_baseline(
    counts_before: np.ndarray, grid, allowed: np.ndarray, areas_km2, land, gap: float = 400.0
) -> list:
    """Discs of the given areas around last period's densest allowed cells, one at a time.

    Each disc is centred on the densest cell left (ties by cell order) and clipped to
    ``land``; cells within the disc plus ``gap`` plus the largest radius are then taken
    out, so the discs never overlap and keep the proposals' spacing.

    Examples
    --------
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(shapely.box(0, 0, 1000, 1000), "EPSG:32615", 100)
    >>> c = np.zeros(g.shape); c[2, 7] = 5
    >>> d = compact_baseline(c, g, g.mask, [0.05], shapely.box(0, 0, 1000, 1000))
    >>> [round(v) for v in d[0].centroid.coords[0]], round(d[0].area / 1e4)
    ([750, 750], 5)
    """
    allowed = allowed.copy()
    cx, cy = grid.centres()
    r_max = max(math.sqrt(a * 1e6 / math.pi) for a in areas_km2) if len(areas_km2) else 0.0
    discs = []
    for a in areas_km2:
        if not allowed.any():
            break
        cell = naive_cells(counts_before, allowed, 1)
        r, k = np.nonzero(cell)
        centre = shapely.Point(cx[r[0], k[0]], cy[r[0], k[0]])
        disc = centre.buffer(math.sqrt(a * 1e6 / math.pi), quad_segs=BUFFER_SEGMENTS)
        discs.append(shapely.intersection(disc, land))
        allowed &= ~shapely.contains_xy(disc.buffer(gap + r_max), cx, cy)
    return discs


def random_placements(shapes, land, n: int = 200, seed: int = 0):
    """``n`` random placements of the same shapes: each shape moved (not turned) so that
    its centroid falls on a uniformly random point of ``land``.

    Examples
    --------
    >>> land = shapely.box(0, 0, 1000, 1000)
    >>> draws = random_placements([shapely.box(0, 0, 10, 10)], land, n=3, seed=1)
    >>> len(draws), len(draws[0]), round(draws[0][0].area)
    (3, 1, 100)
    """
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = land.bounds
    shapely.prepare(land)
    out = []
    for _ in range(n):
        placed = []
        for g in shapes:
            while True:
                px, py = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
                if shapely.contains_xy(land, px, py):
                    break
            c = g.centroid
            placed.append(shapely.affinity.translate(g, px - c.x, py - c.y))
        out.append(placed)
    return out


class _Scorer:
    """Hits, hit rate, PAI, PEI and RRI of any area, for one pair of periods."""

    def __init__(self, incidents, before_w, after_w, group, category, land, cell_size):
        self.land = land
        self.land_km2 = land.area / 1e6
        shapely.prepare(land)
        pts = {}
        for key, w in (("a", after_w), ("b", before_w)):
            x, y = xy(select(incidents, window=w, group=group, category=category))
            inside = shapely.intersects_xy(land, x, y)
            pts[key] = (x[inside], y[inside])
        self.pts = pts
        self.total_a, self.total_b = len(pts["a"][0]), len(pts["b"][0])
        self.grid = make_grid(land, incidents.crs, cell_size)
        g = self.grid
        self.counts_a = np.where(g.mask, g.counts(*pts["a"]), 0)
        self.counts_b = np.where(g.mask, g.counts(*pts["b"]), 0)

    def hits(self, geom, key="a") -> int:
        shapely.prepare(geom)
        return int(shapely.intersects_xy(geom, *self.pts[key]).sum())

    def __call__(self, set_name: str, name: str, geom) -> dict:
        ha, hb = self.hits(geom, "a"), self.hits(geom, "b")
        area = shapely.intersection(geom, self.land).area / 1e6
        p = pai(ha, self.total_a, area, self.land_km2)
        n_cells = int(round(area / self.grid.cell_area_km2))
        best = pai(
            best_hits(self.counts_a, n_cells),
            self.total_a,
            n_cells * self.grid.cell_area_km2,
            self.land_km2,
        )
        return {
            "set": set_name,
            "name": name,
            "area_km2": area,
            "hits": ha,
            "hit_rate": ha / self.total_a if self.total_a else math.nan,
            "pai": p,
            "pei": p / best if best and np.isfinite(best) and best > 0 else math.nan,
            "rri": rri(ha, hb, self.total_a, self.total_b),
            "hits_before": hb,
        }

    def allowed(self, existing, gap: float) -> np.ndarray:
        """Cells in the study area and ``gap`` metres clear of the existing zones."""
        ok = self.grid.mask.copy()
        if existing is not None and len(existing):
            cx, cy = self.grid.centres()
            ok &= ~shapely.contains_xy(existing.geometry.union_all().buffer(gap), cx, cy)
        return ok

    def naive(self, allowed: np.ndarray, area_km2: float):
        n = int(round(area_km2 / self.grid.cell_area_km2))
        r, k = np.nonzero(naive_cells(self.counts_b, allowed, n))
        return shapely.union_all(self.grid.polygons(r, k))


def _land(layers, study_area, incidents):
    if study_area is not None:
        return study_area
    return layers.land if layers is not None else shapely.box(*incidents.total_bounds)


def backtest(
    proposals: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    period,
    before=None,
    existing: gpd.GeoDataFrame | None = None,
    group: str | None = "violent",
    category=None,
    layers: Layers | None = None,
    study_area=None,
    cell_size: float = 100.0,
    gap: float = 400.0,
    draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """How the proposals, the existing zones and three baselines did in ``period``.

    The baselines cover the proposals' total area: the naive top cells of the proposal
    period (the upper reference for any design: scattered, not a zone), the compact naive
    baseline (:func:`compact_baseline`: discs of the proposals' sizes on last period's
    densest cells) and random placements of the proposals' shapes
    (:func:`random_placements`; means over ``draws`` draws, ``seed`` fixed).

    Parameters
    ----------
    proposals : GeoDataFrame
        From :func:`propose_zones` (its ``attrs["window"]`` is the default ``before``).
    incidents : GeoDataFrame
    period : int, "START:END" or (start, end)
        The period predicted (e.g. the year after the proposals').
    before : optional
        The proposal period (for RRI and the baselines).
    existing : GeoDataFrame, optional
        Existing zones, scored on the same terms.

    Returns
    -------
    DataFrame
        One row per proposal, one per existing zone, and one row each for all proposals,
        all existing zones and each baseline: ``set, name, area_km2, hits, hit_rate, pai,
        pei, rri, hits_before``.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2018, 2019]).incidents
    >>> north = layers.zones.iloc[:1]
    >>> props = propose_zones(inc, period=2018, exclude=north, layers=layers)
    >>> bt = backtest(props, inc, period=2019, existing=north, layers=layers, draws=20)
    >>> list(bt["set"].unique())
    ['proposals', 'existing', 'baseline']
    """
    after_w = parse_window(period)
    if before is None and "window" not in proposals.attrs:
        raise InputError("Give the proposal period as before=... (the proposals do not say).")
    before_w = parse_window(before) if before is not None else proposals.attrs["window"]
    land = _land(layers, study_area, incidents)
    sc = _Scorer(incidents, before_w, after_w, group, category, land, cell_size)
    rows = [sc("proposals", r.name, r.geometry) for r in proposals.itertuples()]
    rows.append(sc("proposals", "all proposals", proposals.geometry.union_all()))
    if existing is not None and len(existing):
        rows += [
            sc("existing", str(n), g)
            for n, g in zip(existing["name"], existing.geometry, strict=True)
        ]
        rows.append(sc("existing", "all existing zones", existing.geometry.union_all()))
    allowed = sc.allowed(existing, gap)
    areas = list(proposals.area / 1e6)
    rows.append(sc("baseline", NAIVE, sc.naive(allowed, sum(areas))))
    discs = compact_baseline(sc.counts_b, sc.grid, allowed, areas, land, gap)
    rows.append(sc("baseline", COMPACT, shapely.union_all(discs)))
    scored = [
        sc("baseline", RANDOM, shapely.union_all(d))
        for d in random_placements(list(proposals.geometry), land, draws, seed)
    ]
    mean = pd.DataFrame(scored)[["area_km2", "hits", "hit_rate", "pai", "pei", "rri"]].mean()
    rows.append({"set": "baseline", "name": RANDOM, **mean.to_dict(), "hits_before": math.nan})
    out = pd.DataFrame(rows)
    out.attrs.update({"period": after_w.label, "before": before_w.label, "incidents": sc.total_a})
    return out


def rolling_backtest(incidents, years, *, k=2, exclude=None, layers=None, **kwargs) -> pd.DataFrame:
    """Propose from each year and score on the next: one row per year and set.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2016, 2017]).incidents
    >>> rb = rolling_backtest(inc, [2016], exclude=layers.zones.iloc[:1], layers=layers)
    >>> sorted(rb["set"].unique())
    ['baseline', 'existing', 'proposals']
    """
    rows = []
    for y in years:
        p = propose_zones(incidents, period=y, k=k, exclude=exclude, layers=layers, **kwargs)
        bt = backtest(p, incidents, period=y + 1, before=y, existing=exclude, layers=layers)
        keep = bt["name"].isin(["all proposals", "all existing zones", NAIVE, COMPACT, RANDOM])
        for r in bt[keep].itertuples():
            rows.append(
                {
                    "year": y,
                    "set": r.set,
                    "name": r.name,
                    "pai": r.pai,
                    "pei": r.pei,
                    "rri": r.rri,
                    "hit_rate": r.hit_rate,
                    "area_km2": r.area_km2,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# Capture curves
# --------------------------------------------------------------------------------------

#: Area shares (of the study area) at which the capture table reads every curve.
CAPTURE_SHARES = (0.005, 0.01, 0.025, 0.05, 0.10)


def _cumulative(strategy: str, sc: _Scorer, geoms) -> list[dict]:
    """Running area and capture of a list of zones, added one at a time."""
    rows, union = [], shapely.Polygon()
    for i, g in enumerate(geoms, start=1):
        union = shapely.union(union, g)
        area = shapely.intersection(union, sc.land).area / 1e6
        rows.append(
            {
                "strategy": strategy,
                "zones": i,
                "area_km2": area,
                "capture": sc.hits(union) / max(sc.total_a, 1),
            }
        )
    return rows


def _cells_curve(strategy: str, sc: _Scorer, ranking, allowed, max_share: float) -> list[dict]:
    """Cells taken in the order of ``ranking`` (highest first; ties by cell order)."""
    n_max = int(round(max_share * sc.land_km2 / sc.grid.cell_area_km2))
    flat = np.where(allowed, ranking, -1).ravel()
    order = np.lexsort((np.arange(flat.size), -flat))[:n_max]
    order = order[flat[order] >= 0]
    got = np.cumsum(sc.counts_a.ravel()[order]) / max(sc.total_a, 1)
    steps = np.unique(np.linspace(1, len(order), min(len(order), 200)).astype(int))
    return [
        {
            "strategy": strategy,
            "zones": math.nan,
            "area_km2": n * sc.grid.cell_area_km2,
            "capture": float(got[n - 1]),
        }
        for n in steps
    ]


def capture_curve(
    incidents: gpd.GeoDataFrame,
    *,
    period,
    before,
    existing: gpd.GeoDataFrame | None = None,
    layers: Layers | None = None,
    study_area=None,
    group: str | None = "violent",
    category=None,
    max_share: float = 0.10,
    gap: float = 400.0,
    draws: int = 50,
    seed: int = 0,
    **propose_kwargs,
) -> pd.DataFrame:
    """The share of ``period``'s incidents captured against the area covered, per strategy.

    Strategies (all chosen from ``before`` only, except the hindsight line): the proposals
    (:func:`propose_zones` asked for as many zones as fit in ``max_share`` of the study
    area, added in rank order), the compact naive discs of the same sizes, random
    placements of the same shapes (mean over ``draws``), the naive top cells of
    ``before``, the existing zones, and hindsight (``period``'s own top cells: no design
    can do better at any area).

    Returns
    -------
    DataFrame
        ``strategy, zones, area_km2, area_share, capture, pai``, one row per point.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2018, 2019]).incidents
    >>> cc = capture_curve(inc, period=2019, before=2018, layers=layers, max_share=0.02,
    ...                    existing=layers.zones.iloc[:1], draws=5)
    >>> sorted(cc["strategy"].unique())[:2]
    ['compact naive', "hindsight: the period's own top cells"]
    >>> bool((cc["capture"] <= 1).all())
    True
    """
    land = _land(layers, study_area, incidents)
    sc = _Scorer(
        incidents,
        parse_window(before),
        parse_window(period),
        group,
        category,
        land,
        propose_kwargs.get("cell_size", 100.0),
    )
    allowed = sc.allowed(existing, gap)
    kwargs = {"k": 2, "max_area_km2": 3.0, "min_area_km2": 0.5, **propose_kwargs}
    k_max = max(int(math.ceil(max_share * sc.land_km2 / kwargs["min_area_km2"])), 1)
    kwargs["k"] = min(max(kwargs["k"], k_max), 60)
    props = propose_zones(
        incidents,
        period=before,
        exclude=existing,
        layers=layers,
        study_area=study_area,
        group=group,
        category=category,
        gap=gap,
        **kwargs,
    )
    rows = _cumulative("proposals", sc, list(props.geometry))
    areas = list(props.area / 1e6)
    rows += _cumulative(
        "compact naive", sc, compact_baseline(sc.counts_b, sc.grid, allowed, areas, land, gap)
    )
    runs = [
        pd.DataFrame(_cumulative("random", sc, d))
        for d in random_placements(list(props.geometry), land, draws, seed)
    ]
    if runs:
        mean = pd.concat(runs).groupby("zones", as_index=False)[["area_km2", "capture"]].mean()
        rows += [{"strategy": "random placements", **r} for r in mean.to_dict("records")]
    rows += _cells_curve("naive top cells", sc, sc.counts_b, allowed, max_share)
    rows += _cells_curve(HINDSIGHT, sc, sc.counts_a, sc.grid.mask, max_share)
    if existing is not None and len(existing):
        rows += _cumulative("existing zones", sc, list(existing.geometry))
    out = pd.DataFrame(rows)
    out["area_share"] = out["area_km2"] / sc.land_km2
    out = out[out["area_share"] <= max_share * (1 + 1e-9)].reset_index(drop=True)
    out["pai"] = out["capture"] / out["area_share"]
    out.attrs.update(
        {
            "period": parse_window(period).label,
            "before": parse_window(before).label,
            "land_km2": sc.land_km2,
        }
    )
    return out[["strategy", "zones", "area_km2", "area_share", "capture", "pai"]]


HINDSIGHT = "hindsight: the period's own top cells"


def capture_table(curve: pd.DataFrame, shares=CAPTURE_SHARES) -> pd.DataFrame:
    """Each strategy's capture (share of incidents) read at given area shares.

    Between two points of a curve the capture is interpolated linearly; beyond a curve's
    last point (a strategy that cannot cover that much area) it is missing.

    Examples
    --------
    >>> cc = pd.DataFrame({"strategy": ["a", "a"], "area_share": [0.01, 0.03],
    ...                    "capture": [0.1, 0.2]})
    >>> capture_table(cc, shares=(0.02, 0.05)).round(3).to_dict("records")
    [{'strategy': 'a', 'capture_at_2%': 0.15, 'capture_at_5%': nan}]
    """
    rows = []
    for name, part in curve.groupby("strategy", sort=False):
        part = part.sort_values("area_share")
        x = np.r_[0.0, part["area_share"].to_numpy()]
        y = np.r_[0.0, part["capture"].to_numpy()]
        row = {"strategy": name}
        for s in shares:
            row[f"capture_at_{s:.1%}".replace(".0%", "%")] = (
                float(np.interp(s, x, y)) if s <= x[-1] * 1.02 else math.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def plot_capture_curve(curve: pd.DataFrame, path, *, title: str = "", dpi: int = 100):
    """Draw the capture curves (share of incidents against share of area) as a PNG (to a
    path, written atomically, or to a binary file object).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> cc = pd.DataFrame({"strategy": ["a", "a"], "area_share": [0.01, 0.03],
    ...                    "capture": [0.1, 0.2]})
    >>> p = plot_capture_curve(cc, pathlib.Path(tempfile.mkdtemp()) / "c.png", dpi=40)
    >>> p.read_bytes()[:4]
    b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..core.files import atomic_write

    styles = {
        "proposals": ("#00897b", "-", "o"),
        "compact naive": ("#ef6c00", "-", "s"),
        "random placements": ("#9e9e9e", "-", "."),
        "naive top cells": ("#1565c0", "--", ""),
        HINDSIGHT: ("#000000", ":", ""),
        "existing zones": ("#7b1fa2", "", "D"),
    }
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=dpi)
    for name, part in curve.groupby("strategy", sort=False):
        colour, ls, marker = styles.get(name, ("#555555", "-", ""))
        part = part.sort_values("area_share")
        ax.plot(
            np.r_[0, part["area_share"]] * 100,
            np.r_[0, part["capture"]] * 100,
            color=colour,
            linestyle=ls or "none",
            marker=marker or None,
            markersize=4,
            label=name,
        )
    naive = curve[curve["strategy"] == "naive top cells"].sort_values("area_share")
    if len(naive):
        ax.plot(
            np.r_[0, naive["area_share"]] * 100,
            np.r_[0, naive["capture"]] * 60,
            color="#1565c0",
            linestyle=":",
            linewidth=0.8,
            label="60% of the naive top cells",
        )
    ax.set_xlabel("Area covered (% of the city)")
    ax.set_ylabel("Incidents captured in the next period (%)")
    ax.set_xlim(0, None)
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title, fontsize=10, loc="left")
    fig.tight_layout()
    try:
        if hasattr(path, "write"):
            fig.savefig(path, format="png", dpi=dpi, metadata={"Software": None})
            return path
        return atomic_write(
            Path(path), lambda p: fig.savefig(p, format="png", dpi=dpi, metadata={"Software": None})
        )
    finally:
        plt.close(fig)

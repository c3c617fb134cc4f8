"""Proposing new Impact Zones from hot spots, under a commander's constraints, and
backtesting them on the following period.

Proposal (:func:`propose_zones`), one zone at a time, greedily:

1. a priority surface on the analysis grid from the proposal period's incidents: the kernel
   density (``method="kde"``), the Gi* z-score (``"gistar"``, only significant hot cells)
   or the kernel density inside DBSCAN clusters (``"dbscan"``);
2. cells inside existing zones, within ``gap`` metres of them (default 400 m: their
   displacement rings stay clean), outside the study area, or in zones already proposed are
   masked out;
3. from the densest free cell, the region grows one edge-neighbouring cell at a time,
   always the densest on its border, while the density stays above ``threshold`` times the
   seed's and the area below ``max_area_km2`` (and at least to ``min_area_km2``);
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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError
from .geo import Layers, xy
from .grid import make_grid
from .windows import parse_window, select

METHODS = ("kde", "gistar", "dbscan")
#: Segments per quarter circle of the gap buffers: gaps are kept to within 0.03% (the
#: polygon's chords cut the true circle by at most gap x (1 - cos(pi / 128))).
BUFFER_SEGMENTS = 32
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Constraints:
    """The commander's constraints on a proposal (areas in km^2, distances in metres)."""

    max_area_km2: float = 3.0
    min_area_km2: float = 0.5
    gap_m: float = 400.0

    def check(self) -> None:
        if not (0 < self.min_area_km2 <= self.max_area_km2):
            raise InputError(
                f"Need 0 < min_area_km2 ({self.min_area_km2}) <= max_area_km2 "
                f"({self.max_area_km2})."
            )
        if self.gap_m < 0:
            raise InputError(f"gap must be >= 0 metres, got {self.gap_m}.")


def _surface(sel, land, method: str, cell: float, bandwidth):
    from .hotspots import dbscan, gistar, kde

    s = kde(sel, cell_size=cell, bandwidth=bandwidth, mask=land)
    values = np.nan_to_num(s.values, nan=0.0)
    note = f"KDE ({s.params['kernel']}, bandwidth {s.params['bandwidth_m']:,.0f} m)"
    if method == "gistar":
        g = gistar(sel, grid=s.grid, permutations=0)
        z = np.zeros(s.grid.shape)
        z[s.grid.mask] = np.where(g.bins > 0, g.Zs, 0.0)
        values = z
        note = f"Gi* z of significant hot cells ({g.params['fdr']} FDR, analytic p)"
    elif method == "dbscan":
        c = dbscan(sel, mask=land)
        inside = np.zeros(s.grid.shape, bool)
        if len(c.clusters):
            cx, cy = s.grid.centres()
            inside = shapely.contains_xy(c.clusters.union_all(), cx, cy)
        values = np.where(inside, values, 0.0)
        note += f" inside DBSCAN clusters (eps {c.params['eps_m']:,.0f} m)"
    return s.grid, values, note


def _grow(values: np.ndarray, free: np.ndarray, cell_km2: float, c: Constraints, threshold: float):
    """Cells grown from the densest free cell (see the module notes), or None."""
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
        if -neg < threshold * peak and n >= min_cells:
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
    shape = shapely.Polygon(shape.exterior)  # no holes
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
    k: int = 2,
    max_area_km2: float = 3.0,
    min_area_km2: float = 0.5,
    exclude: gpd.GeoDataFrame | None = None,
    method: str = "kde",
    group: str | None = "violent",
    category: str | list[str] | None = None,
    layers: Layers | None = None,
    study_area=None,
    gap: float = 400.0,
    cell_size: float = 100.0,
    bandwidth: float | None = None,
    threshold: float = 0.6,
    snap: str | None = None,
) -> gpd.GeoDataFrame:
    """Up to ``k`` candidate Impact Zones from the hot spots of ``period``.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents in a metric CRS.
    period : int, "START:END" or (start, end)
        The proposal period (e.g. ``2018``).
    k : int, default 2
        How many zones to propose.
    max_area_km2, min_area_km2 : float, default 3 and 0.5
        Area limits of each zone, in km^2.
    exclude : GeoDataFrame, optional
        Existing zones: proposals stay ``gap`` metres away from them.
    method : {"kde", "gistar", "dbscan"}
        The priority surface (see the module notes).
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

    Returns
    -------
    GeoDataFrame
        Ranked candidates: ``rank, name, area_km2, incidents, share, pai, districts,
        neighborhoods, method, params, summary`` and the polygon.

    Examples
    --------
    >>> from impactzones.geo import st_louis
    >>> from impactzones.synth import synthesize
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
    c = Constraints(max_area_km2, min_area_km2, gap)
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
    grid, values, note = _surface(sel, land, method, cell_size, bandwidth)
    blocked = shapely.Polygon()
    if exclude is not None and len(exclude):
        if exclude.crs is not None and not exclude.crs.equals(incidents.crs):
            raise InputError("The existing zones and the incidents have different CRSs.")
        blocked = exclude.geometry.union_all().buffer(gap, quad_segs=BUFFER_SEGMENTS)
    cx, cy = grid.centres()
    free = (
        grid.mask & ~shapely.contains_xy(blocked, cx, cy)
        if not blocked.is_empty
        else grid.mask.copy()
    )
    x, y = xy(sel)
    rows: list[dict] = []
    tries = 0
    while len(rows) < k and tries < 4 * k + 4:
        tries += 1
        region = _grow(values, free, grid.cell_area_km2, c, threshold)
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
        around = shape.buffer(gap, quad_segs=BUFFER_SEGMENTS)
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
    cols = [
        "rank",
        "name",
        "area_km2",
        "incidents",
        "share",
        "pai",
        "per_km2",
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
) -> pd.DataFrame:
    """How the proposals, the existing zones and a naive baseline did in ``period``.

    Parameters
    ----------
    proposals : GeoDataFrame
        From :func:`propose_zones` (its ``attrs["window"]`` is the default ``before``).
    incidents : GeoDataFrame
    period : int, "START:END" or (start, end)
        The period predicted (e.g. the year after the proposals').
    before : optional
        The proposal period (for RRI and the baseline).
    existing : GeoDataFrame, optional
        Existing zones, scored on the same terms.

    Returns
    -------
    DataFrame
        One row per proposal, one per existing zone, and one row each for all proposals,
        all existing zones and the naive baseline together: ``set, name, area_km2, hits,
        hit_rate, pai, pei, rri``.

    Examples
    --------
    >>> from impactzones.geo import st_louis
    >>> from impactzones.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2018, 2019]).incidents
    >>> north = layers.zones.iloc[:1]
    >>> props = propose_zones(inc, period=2018, exclude=north, layers=layers)
    >>> bt = backtest(props, inc, period=2019, existing=north, layers=layers)
    >>> list(bt["set"].unique())
    ['proposals', 'existing', 'baseline']
    """
    after_w = parse_window(period)
    if before is None and "window" not in proposals.attrs:
        raise InputError("Give the proposal period as before=... (the proposals do not say).")
    before_w = parse_window(before) if before is not None else proposals.attrs["window"]
    land = (
        study_area
        if study_area is not None
        else (layers.land if layers is not None else shapely.box(*incidents.total_bounds))
    )
    land_km2 = land.area / 1e6
    a = select(incidents, window=after_w, group=group, category=category)
    b = select(incidents, window=before_w, group=group, category=category)
    ax, ay = xy(a)
    bx, by = xy(b)
    shapely.prepare(land)
    in_land_a = shapely.intersects_xy(land, ax, ay)
    in_land_b = shapely.intersects_xy(land, bx, by)
    total_a, total_b = int(in_land_a.sum()), int(in_land_b.sum())
    grid = make_grid(land, incidents.crs, cell_size)
    counts_a = np.where(grid.mask, grid.counts(ax[in_land_a], ay[in_land_a]), 0)
    counts_b = np.where(grid.mask, grid.counts(bx[in_land_b], by[in_land_b]), 0)

    def score(set_name, name, geom) -> dict:
        shapely.prepare(geom)
        ha = int(shapely.intersects_xy(geom, ax[in_land_a], ay[in_land_a]).sum())
        hb = int(shapely.intersects_xy(geom, bx[in_land_b], by[in_land_b]).sum())
        area = shapely.intersection(geom, land).area / 1e6
        p = pai(ha, total_a, area, land_km2)
        n_cells = int(round(area / grid.cell_area_km2))
        best = pai(best_hits(counts_a, n_cells), total_a, n_cells * grid.cell_area_km2, land_km2)
        return {
            "set": set_name,
            "name": name,
            "area_km2": area,
            "hits": ha,
            "hit_rate": ha / total_a if total_a else math.nan,
            "pai": p,
            "pei": p / best if best and np.isfinite(best) and best > 0 else math.nan,
            "rri": rri(ha, hb, total_a, total_b),
            "hits_before": hb,
        }

    rows = [score("proposals", r.name, r.geometry) for r in proposals.itertuples()]
    rows.append(score("proposals", "all proposals", proposals.geometry.union_all()))
    if existing is not None and len(existing):
        rows += [
            score("existing", str(n), g)
            for n, g in zip(existing["name"], existing.geometry, strict=True)
        ]
        rows.append(score("existing", "all existing zones", existing.geometry.union_all()))
    # naive baseline: last period's top cells, as much area as all the proposals
    total_cells = int(round(proposals.area.sum() / 1e6 / grid.cell_area_km2))
    allowed = grid.mask.copy()
    if existing is not None and len(existing):
        cx, cy = grid.centres()
        allowed &= ~shapely.contains_xy(existing.geometry.union_all().buffer(gap), cx, cy)
    cells = naive_cells(counts_b, allowed, total_cells)
    r, k = np.nonzero(cells)
    naive = shapely.union_all(grid.polygons(r, k))
    rows.append(score("baseline", "naive: last period's top cells", naive))
    out = pd.DataFrame(rows)
    out.attrs.update({"period": after_w.label, "before": before_w.label, "incidents": total_a})
    return out


def rolling_backtest(incidents, years, *, k=2, exclude=None, layers=None, **kwargs) -> pd.DataFrame:
    """Propose from each year and score on the next: one row per year and set.

    Examples
    --------
    >>> from impactzones.geo import st_louis
    >>> from impactzones.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2016, 2017]).incidents
    >>> rb = rolling_backtest(inc, [2016], exclude=layers.zones.iloc[:1], layers=layers)
    >>> sorted(rb["set"])
    ['baseline', 'existing', 'proposals']
    """
    rows = []
    for y in years:
        p = propose_zones(incidents, period=y, k=k, exclude=exclude, layers=layers, **kwargs)
        bt = backtest(p, incidents, period=y + 1, before=y, existing=exclude, layers=layers)
        for r in bt[
            bt["name"].isin(
                ["all proposals", "all existing zones", "naive: last period's top cells"]
            )
        ].itertuples():
            rows.append(
                {
                    "year": y,
                    "set": r.set,
                    "pai": r.pai,
                    "pei": r.pei,
                    "rri": r.rri,
                    "hit_rate": r.hit_rate,
                    "area_km2": r.area_km2,
                }
            )
    return pd.DataFrame(rows)

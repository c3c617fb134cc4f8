"""Growing one zone on a priority surface and turning its cells into a patrol-friendly
outline, under the commander's constraints (areas in km^2, distances in metres).

1. From the densest free cell the region grows one edge-neighbouring cell at a time, always
   the densest on its border, while the value stays above ``threshold`` times the seed's
   (and the ``floor``) and the area below the maximum (and at least to the minimum).
2. The cells become one polygon: closed and opened by half a cell, holes filled,
   simplified, optionally closed further until it fills ``solidity`` of its convex hull,
   clipped to the allowed ground, kept as its largest part and shrunk (or grown) back
   within the area limits.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import shapely

from ..core.defaults import BUDGET_KM2, GAP, MAX_AREA_KM2, MIN_AREA_KM2
from ..core.errors import InputError

__all__ = ["BUFFER_SEGMENTS", "GAP_PAD", "Constraints"]

#: Segments per quarter circle of the gap buffers: gaps are kept to within 0.03% (the
#: polygon's chords cut the true circle by at most gap x (1 - cos(pi / 128))).
BUFFER_SEGMENTS = 32
#: The gap buffers reach out by gap / cos(pi / 128), so that their chords (not only their
#: vertices) stay at least ``gap`` from the zone: the gap is then never short.
GAP_PAD = 1 / math.cos(math.pi / (4 * BUFFER_SEGMENTS))


@dataclass(frozen=True)
class Constraints:
    """The commander's constraints on a proposal (areas in km^2, distances in metres):
    each zone's area limits, the gap kept clear, the least solidity and the total area of
    all zones together (``budget_km2``; None: no limit)."""

    max_area_km2: float = MAX_AREA_KM2.default
    min_area_km2: float = MIN_AREA_KM2.default
    gap_m: float = GAP.default
    solidity: float = 0.0
    budget_km2: float | None = BUDGET_KM2.default

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
        if self.budget_km2 is not None and not self.budget_km2 >= self.min_area_km2:
            raise InputError(
                f"budget_km2 ({self.budget_km2}) must be at least min_area_km2 "
                f"({self.min_area_km2}): the zones together cover at most the budget."
            )


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

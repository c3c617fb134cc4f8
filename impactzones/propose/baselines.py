"""The baselines a proposal is held against, at the same total area: the naive top cells
(the upper reference for any design: scattered, not a zone), compact discs on last
period's densest cells, and random placements of the same shapes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
import shapely.affinity

from ..core.compat import renamed_keyword
from ..core.defaults import GAP
from ..core.grid import Grid
from .shapes import BUFFER_SEGMENTS

__all__ = ["compact_baseline", "naive_cells", "random_placements"]


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


@renamed_keyword("land", "study_area")
def compact_baseline(
    counts_before: np.ndarray,
    grid: Grid,
    allowed: np.ndarray,
    areas_km2: Sequence[float],
    study_area: Any,
    gap: float = GAP.default,
) -> list:
    """Discs of the given areas around last period's densest allowed cells, one at a time.

    Each disc is centred on the densest cell left (ties by cell order) and clipped to
    ``study_area``; cells within the disc plus ``gap`` plus the largest radius are then taken
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
        discs.append(shapely.intersection(disc, study_area))
        allowed &= ~grid.centres_in(disc.buffer(gap + r_max))
    return discs


def _uniform_points_inside(rng: np.random.Generator, study_area: Any, m: int):
    """``m`` points drawn uniformly in ``study_area`` by rejection from its bounding box,
    ``x`` then ``y`` for each try, in blocks: the points (and the generator's draws) of
    ``m`` one-at-a-time loops of ``rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)``
    until the point is inside."""
    xmin, ymin, xmax, ymax = study_area.bounds
    shapely.prepare(study_area)
    xs, ys, got = [], [], 0
    while got < m:
        tries = max(2 * (m - got), 16)
        u = rng.random(2 * tries)
        x, y = xmin + (xmax - xmin) * u[0::2], ymin + (ymax - ymin) * u[1::2]
        ok = np.flatnonzero(shapely.contains_xy(study_area, x, y))[: m - got]
        xs.append(x[ok])
        ys.append(y[ok])
        got += len(ok)
    return np.concatenate(xs) if xs else np.empty(0), np.concatenate(ys) if ys else np.empty(0)


def _translated(geom: Any, dx: np.ndarray, dy: np.ndarray) -> list:
    """Copies of ``geom`` moved by each ``(dx, dy)`` (what ``shapely.affinity.translate``
    gives, the coordinates plus the offsets)."""
    if len(dx) == 0:
        return []
    if shapely.has_z(geom):  # heights kept, as translate keeps them
        return [shapely.affinity.translate(geom, a, b) for a, b in zip(dx, dy, strict=True)]
    copies = np.array([geom] * len(dx), dtype=object)
    counts = shapely.get_num_coordinates(copies)
    off = np.column_stack([np.repeat(dx, counts), np.repeat(dy, counts)])
    return list(shapely.transform(copies, lambda xy: xy + off))


@renamed_keyword("land", "study_area")
def random_placements(shapes: Sequence[Any], study_area: Any, n: int = 200, seed: int = 0) -> list:
    """``n`` random placements of the same shapes: each shape moved (not turned) so that
    its centroid falls on a uniformly random point of ``study_area``.

    Examples
    --------
    >>> city = shapely.box(0, 0, 1000, 1000)
    >>> draws = random_placements([shapely.box(0, 0, 10, 10)], city, n=3, seed=1)
    >>> len(draws), len(draws[0]), round(draws[0][0].area)
    (3, 1, 100)
    """
    rng = np.random.default_rng(seed)
    shapes = list(shapes)
    px, py = _uniform_points_inside(rng, study_area, n * len(shapes))
    out: list[list] = [[] for _ in range(n)]
    for j, g in enumerate(shapes):
        c = g.centroid
        # draw i's copy of shape j: placed on the (i * len(shapes) + j)-th point
        dx, dy = px[j :: len(shapes)] - c.x, py[j :: len(shapes)] - c.y
        for i, placed in enumerate(_translated(g, dx, dy)):
            out[i].append(placed)
    return out

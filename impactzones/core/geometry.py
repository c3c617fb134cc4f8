"""Geometry primitives: which polygon each point is in, and the rings around zones.

The lookup is vectorised (shapely 2's ``intersects_xy`` on prepared polygons, with a bounding
box prefilter, and a raster index above :data:`GRID_MIN_POINTS` points) and gives the same
answer as ``geopandas.sjoin``.

**Edges.** A point exactly on an edge shared by two polygons goes to exactly one of them:
the first in the layer's order. This is deterministic and documented; ``sjoin`` would return
the point twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .defaults import DISTRICT_REACH
from .errors import InputError

__all__ = [
    "GRID_MIN_POINTS",
    "locate",
    "locate_all",
    "locate_districts",
    "nearest_within",
    "polygon_ids",
    "ring_polygons",
    "share_inside",
]

#: Above this many points, :func:`locate` first looks points up in a raster index.
GRID_MIN_POINTS = 20_000


def locate(x: np.ndarray, y: np.ndarray, polygons: Sequence) -> np.ndarray:
    """Index of the first polygon containing each point (edges included), or -1.

    Parameters
    ----------
    x, y : array of float
        Point coordinates, in the polygons' CRS.
    polygons : sequence of shapely geometries
        Candidate polygons, in priority order.

    Returns
    -------
    ndarray of int64
        For each point, the position in ``polygons`` of the first polygon that contains it
        or has it on its boundary; -1 where none does.

    Examples
    --------
    >>> from shapely import box
    >>> squares = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    >>> locate(np.array([0.5, 1.0, 5.0]), np.array([0.5, 0.5, 5.0]), squares)
    array([ 0,  0, -1])
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if len(x) >= GRID_MIN_POINTS:
        return _locate_grid(x, y, list(polygons))
    return _locate_exact(x, y, list(polygons), np.arange(len(x)))


def _locate_exact(x, y, polygons, todo) -> np.ndarray:
    """First polygon containing each point of ``todo`` (by exact tests), -1 elsewhere."""
    out = np.full(len(x), -1, dtype="int64")
    if len(x) == 0:
        return out
    for i, geom in enumerate(polygons):
        if geom is None or geom.is_empty or len(todo) == 0:
            continue
        xmin, ymin, xmax, ymax = geom.bounds
        tx, ty = x[todo], y[todo]
        near = (tx >= xmin) & (tx <= xmax) & (ty >= ymin) & (ty <= ymax)
        if not near.any():
            continue
        cand = todo[near]
        shapely.prepare(geom)
        hit = shapely.intersects_xy(geom, x[cand], y[cand])
        out[cand[hit]] = i
        if hit.any():
            todo = np.setdiff1d(todo, cand[hit], assume_unique=True)
    return out


def _raster_frame(bounds) -> tuple[float, float, float, object, tuple[int, int]]:
    """The frame of a raster index over ``bounds`` (``xmin, ymin, xmax, ymax``, CRS units):
    about a million square cells with a two-cell margin all round. Returns ``x0, y0`` (the
    top-left corner), the cell side, the affine transform and the ``(height, width)``."""
    from affine import Affine

    xmin, ymin, xmax, ymax = bounds
    cell = max(np.sqrt((xmax - xmin) * (ymax - ymin) / 1e6), 1e-9)
    width = int(np.ceil((xmax - xmin) / cell)) + 4
    height = int(np.ceil((ymax - ymin) / cell)) + 4
    x0, y0 = xmin - 2 * cell, ymax + 2 * cell
    transform = Affine(cell, 0.0, x0, 0.0, -cell, y0)
    return x0, y0, cell, transform, (height, width)


def _edge_band(geoms, shape: tuple[int, int], transform) -> np.ndarray:
    """The cells of a raster frame within two cells of any of ``geoms``' edges (where a
    cell's label is uncertain and points need the exact test), as a boolean array: the
    cells an edge touches, widened by two cells each way (a 5 x 5 square, by shifted
    copies: faster than a morphological dilation, and a wider band only sends a few more
    points to the exact test)."""
    from rasterio import features

    edges = features.rasterize(
        [(shapely.boundary(g), 1) for g in geoms],
        out_shape=shape,
        transform=transform,
        fill=0,
        all_touched=True,
        dtype="uint8",
    ).view(bool)
    return _widened(edges, 2)


def _widened(a: np.ndarray, k: int) -> np.ndarray:
    """``a`` (boolean, 2-D) with each True cell spread ``k`` cells each way (a square)."""
    rows = a.copy()
    for i in range(1, k + 1):
        rows[i:] |= a[:-i]
        rows[:-i] |= a[i:]
    out = rows.copy()
    for i in range(1, k + 1):
        out[:, i:] |= rows[:, :-i]
        out[:, :-i] |= rows[:, i:]
    return out


def _locate_grid(x, y, polygons) -> np.ndarray:
    """:func:`locate` through a raster index: exact tests only near polygon edges.

    The polygons are burnt into a grid of about a million cells (first polygon on top);
    cells within two cells of any polygon edge are marked uncertain. A point in a certain
    cell takes the cell's label; the others are tested exactly. Same answer, a few times
    faster for large inputs.
    """
    from rasterio import features

    from ._compiled import HAVE_NUMBA, raster_lookup  # numba: loaded when first needed

    geoms = [g for g in polygons if g is not None and not g.is_empty]
    if not geoms:
        return np.full(len(x), -1, dtype="int64")
    x0, y0, cell, transform, shape = _raster_frame(shapely.total_bounds(geoms))
    height, width = shape
    shapes = [
        (g, i + 1)
        for i, g in reversed(list(enumerate(polygons)))
        if g is not None and not g.is_empty
    ]
    label = features.rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="int32")
    edges = _edge_band([g for g, _ in shapes], shape, transform)
    if HAVE_NUMBA:  # one compiled pass instead of a dozen array temporaries
        out = raster_lookup(x, y, x0, y0, cell, label, edges)
        todo = np.flatnonzero(out == -2)
        out[todo] = -1
    else:
        col = np.floor((x - x0) / cell).astype("int64")
        row = np.floor((y0 - y) / cell).astype("int64")
        inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        out = np.full(len(x), -1, dtype="int64")
        r, c = row[inside], col[inside]
        sure = ~edges[r, c]
        idx = np.flatnonzero(inside)
        out[idx[sure]] = label[r[sure], c[sure]] - 1
        todo = idx[~sure]
    exact = _locate_exact(x, y, polygons, todo)
    out[todo] = exact[todo]
    return out


def locate_all(x: np.ndarray, y: np.ndarray, polygons: Sequence) -> np.ndarray:
    """Boolean matrix (points x polygons): which polygons contain each point (edges too).

    Examples
    --------
    >>> from shapely import box
    >>> locate_all(np.array([0.5, 1.5]), np.array([0.5, 0.5]), [box(0, 0, 2, 1), box(1, 0, 2, 1)])
    array([[ True, False],
           [ True,  True]])
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    out = np.zeros((len(x), len(polygons)), dtype=bool)
    for i, geom in enumerate(polygons):
        if geom is None or geom.is_empty:
            continue
        xmin, ymin, xmax, ymax = geom.bounds
        near = np.flatnonzero((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
        if len(near):
            shapely.prepare(geom)
            out[near, i] = shapely.intersects_xy(geom, x[near], y[near])
    return out


def ring_polygons(zones: gpd.GeoDataFrame, width: float, study_area=None) -> list:
    """Displacement rings: each zone's buffer of ``width`` metres, minus every zone.

    Parameters
    ----------
    zones : GeoDataFrame
        The Impact Zones, in a metric CRS.
    width : float
        Ring width in metres (must be positive).
    study_area : shapely geometry, optional
        Clip the rings to it (the city).

    Examples
    --------
    >>> from shapely import box
    >>> zones = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:32615")
    >>> round(ring_polygons(zones, 50)[0].area)  # a 200 m square with round corners, less the zone
    27841
    """
    if not np.isfinite(width) or width <= 0:
        raise InputError(f"The ring width must be a positive number of metres, got {width!r}.")
    if zones.crs is not None and not zones.crs.is_projected:
        raise InputError("Rings need the zones in a metric (projected) CRS.")
    geoms = zones.geometry.to_numpy()
    bad = ~np.isfinite(shapely.bounds(geoms)).all(axis=1)
    if bad.any():
        names = zones["name"] if "name" in zones else pd.Series(range(1, len(zones) + 1))
        which = ", ".join(str(n) for n, b in zip(names, bad, strict=True) if b)
        raise InputError(
            f"Zone(s) {which} have non-finite coordinates in the working CRS "
            "(far from the study area, or in the wrong CRS); check them and --crs."
        )
    all_zones = shapely.union_all(geoms)
    rings = []
    for geom in zones.geometry:
        r = shapely.difference(geom.buffer(width), all_zones)
        if study_area is not None:
            r = shapely.intersection(r, study_area)
        rings.append(r)
    return rings


def nearest_within(pos: np.ndarray, x: np.ndarray, y: np.ndarray, polygons: Sequence,
                   reach: float, within=None) -> np.ndarray:  # fmt: skip
    """``pos`` (from :func:`locate`: -1 outside every polygon) with each point outside
    every polygon but inside ``within`` (a shapely geometry; None: anywhere) and at most
    ``reach`` (the CRS's units, metres) from one given the nearest (the first of equals).

    For police districts: a layer whose edge stops short of the city limit (the river) leaves
    incidents on a bridge or the riverbank in no district, though every place in the city is
    some district's.

    Examples
    --------
    >>> from shapely import box, Polygon
    >>> squares = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    >>> x, y = np.array([0.5, 2.3, 9.0]), np.array([0.5, 0.5, 9.0])
    >>> pos = locate(x, y, squares)
    >>> nearest_within(pos, x, y, squares, reach=0.5).tolist()
    [0, 1, -1]
    >>> nearest_within(pos, x, y, squares, reach=0.5, within=box(0, 0, 2, 2)).tolist()
    [0, -1, -1]
    """
    pos = np.array(pos, dtype="int64")
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    todo = np.flatnonzero((pos < 0) & np.isfinite(x) & np.isfinite(y))
    if not len(todo) or not reach > 0 or not len(polygons):
        return pos
    if within is not None:
        todo = todo[shapely.intersects_xy(within, x[todo], y[todo])]
    points = shapely.points(x[todo], y[todo])
    dist = shapely.distance(np.asarray(list(polygons), dtype=object)[:, None], points[None, :])
    near = dist.argmin(axis=0)
    close = dist[near, np.arange(len(todo))] <= reach
    pos[todo[close]] = near[close]
    return pos


def locate_districts(x: np.ndarray, y: np.ndarray, districts: Sequence,
                     study_area=None) -> np.ndarray:  # fmt: skip
    """The position of the first of ``districts`` (polygons, metres) holding each point (as
    :func:`locate`, -1 in none), and for a point in none but inside ``study_area`` (None:
    anywhere), the nearest district within
    :data:`~impactzones.core.defaults.DISTRICT_REACH` (100 m; :func:`nearest_within`): the
    one rule every district count uses.

    Examples
    --------
    >>> from shapely import box
    >>> squares = [box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)]
    >>> x, y = np.array([500.0, 2050, 2500]), np.array([500.0, 500, 500])
    >>> locate_districts(x, y, squares).tolist()
    [0, 1, -1]
    >>> locate_districts(x, y, squares, study_area=box(0, 0, 2000, 1000)).tolist()
    [0, -1, -1]
    """
    districts = list(districts)
    pos = locate(x, y, districts)
    return nearest_within(pos, x, y, districts, DISTRICT_REACH.default, study_area)


def polygon_ids(
    layer: gpd.GeoDataFrame, column: str, x: np.ndarray, y: np.ndarray, *,
    pos: np.ndarray | None = None,
) -> pd.Series:  # fmt: skip
    """The ``column`` value of the first polygon of ``layer`` holding each point (see
    :func:`locate`), missing outside every polygon: nullable integers for an integer
    column, objects (None when missing) otherwise. ``pos``: the polygons' positions
    already found (e.g. by :func:`locate_districts`), -1 for none.

    Examples
    --------
    >>> from shapely import box
    >>> layer = gpd.GeoDataFrame({"district": [1, 2]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])
    >>> x, y = np.array([0.5, 1.5, 9.0]), np.array([0.5, 0.5, 9.0])
    >>> polygon_ids(layer, "district", x, y).tolist()
    [1, 2, <NA>]
    """
    if pos is None:
        pos = locate(x, y, list(layer.geometry))
    ids = layer[column]
    if pd.api.types.is_integer_dtype(ids):
        values = pd.array(ids.to_numpy()[np.maximum(pos, 0)], dtype="Int64")
        values[pos < 0] = pd.NA
        return pd.Series(values)
    found = ids.to_numpy(dtype=object)[np.maximum(pos, 0)]
    found[pos < 0] = None
    return pd.Series(found, dtype=object)


def share_inside(zones: gpd.GeoDataFrame, study_area) -> np.ndarray:
    """The share of each zone's area inside the study area (0 to 1); zones with none
    inside are refused by name, in one sentence.

    A zone far from the working CRS's region projects to non-finite coordinates; it counts
    as outside (checked before any overlay, which such a shape would break).

    Parameters
    ----------
    zones : GeoDataFrame
        The zones, with a ``name`` column, in the study area's (metric) CRS.
    study_area : shapely geometry
        The study area (the city), in the same CRS.

    Returns
    -------
    ndarray of float
        Per zone, its area inside the study area over its area (unitless, 0 to 1).

    Raises
    ------
    InputError
        When a zone has no area inside the study area.

    Examples
    --------
    >>> from shapely import box
    >>> zones = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)])
    >>> share_inside(zones, box(50, 0, 200, 100)).tolist()
    [0.5]
    >>> far = gpd.GeoDataFrame({"name": ["B"]}, geometry=[box(500, 0, 600, 100)])
    >>> share_inside(far, box(50, 0, 200, 100))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: Zone(s) B lie outside the study area; check their ...
    """
    names = zones["name"].astype(str).tolist() if "name" in zones else []
    names = names or [str(i) for i in range(1, len(zones) + 1)]
    geoms = zones.geometry.to_numpy()
    cover = np.zeros(len(geoms))
    for i in np.flatnonzero(np.isfinite(shapely.bounds(geoms)).all(axis=1)):
        area = shapely.area(geoms[i])
        if np.isfinite(area) and area > 0:
            cover[i] = shapely.area(shapely.intersection(geoms[i], study_area)) / area
    outside = [n for n, c in zip(names, cover, strict=True) if c == 0]
    if outside:
        raise InputError(
            f"Zone(s) {', '.join(outside)} lie outside the study area; check their coordinates "
            "and CRS (--crs) or the study area (--boundary)."
        )
    return cover

"""Incidents as points inside a study area: the input every raster or point method shares.

Coordinates are extracted once (:func:`prepare_points`, :class:`Points`), tested against
the study area with a raster index and an exact test near its edge
(:func:`points_in_study_area`), and gridded on a cached analysis grid (:func:`grid_for`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import shapely

from ._compiled import HAVE_NUMBA, classify_bounds, raster_inside
from .compat import renamed_keyword
from .errors import InputError
from .geo import xy

__all__ = [
    "Points",
    "grid_for",
    "in_study_area",
    "points_in_study_area",
    "prepare_points",
    "study_geometry",
]

#: Above this many points the study-area test goes through a raster index of the area.
INDEX_MIN_POINTS = 20_000


def study_geometry(study_area):
    """A shapely geometry from a geometry, a GeoSeries/GeoDataFrame or None."""
    if study_area is None:
        return None
    if hasattr(study_area, "union_all"):
        return study_area.union_all()
    if isinstance(study_area, shapely.Geometry):
        return study_area
    raise InputError("study_area must be a polygon or a GeoDataFrame of polygons.")


def grid_for(x, y, area, crs, cell_size):
    """The analysis grid over the study area, or over the points' bounding box without one.

    A study area's grid is made once per (area, CRS, cell size) and each call gets its own
    copy (its own ``mask`` array): shapely geometries are immutable and hash and compare by
    their coordinates, so the cached grid cannot go stale.
    """
    from .grid import make_grid

    if area is None:
        if len(x) == 0:
            raise InputError("There are no incidents in the study area.")
        area = shapely.box(
            float(x.min()), float(y.min()), float(x.max()) + 1.0, float(y.max()) + 1.0
        )
        return make_grid(area, crs, cell_size)
    try:
        grid = _cached_grid(area, crs, cell_size)
    except TypeError:  # an unhashable CRS or cell size: no cache
        return make_grid(area, crs, cell_size)
    return replace(grid, mask=grid.mask.copy())


@functools.lru_cache(maxsize=16)
def _cached_grid(area, crs, cell_size):
    import warnings

    from .grid import make_grid

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grid = make_grid(area, crs, cell_size)
    if caught:  # warnings (a widened cell) are part of the answer: do not cache them
        raise TypeError
    grid.mask.flags.writeable = False
    return grid


@functools.lru_cache(maxsize=8)
def _area_index(area):
    """A raster index of a study area (about a million cells): 1 for the cells inside it,
    2 for those within two cells of its edge (points there need the exact test), 0 for
    the rest. Keyed on the geometry itself (immutable, hashed by its coordinates), so it
    cannot go stale."""
    from rasterio import features

    from .geometry import _edge_band, _raster_frame

    x0, y0, cell, transform, shape = _raster_frame(area.bounds)
    inside = features.rasterize(
        [(area, 1)], out_shape=shape, transform=transform, fill=0, dtype="uint8"
    ).astype(bool)
    edges = _edge_band([area], shape, transform)
    code = np.where(edges, 2, inside).astype(np.uint8)  # one read per point
    code.flags.writeable = False
    return x0, y0, cell, code


def in_study_area(x: np.ndarray, y: np.ndarray, area, *, boundary: bool = True) -> np.ndarray:
    """Whether each point is in the study area (edges included), as
    ``locate(x, y, [area]) == 0`` answers it: points deep inside or far outside are looked
    up in the area's cached raster index, the rest tested exactly. ``boundary=False``: in
    its interior, as ``shapely.contains_xy`` answers it (a point on an edge is not in).

    Examples
    --------
    >>> square = shapely.box(0, 0, 10, 10)
    >>> x, y = np.array([5.0, 10.0, 11.0]), np.array([5.0, 5.0, 5.0])
    >>> in_study_area(x, y, square).tolist(), in_study_area(x, y, square, boundary=False).tolist()
    ([True, True, False], [True, False, False])
    """
    from .geometry import locate

    def exact(px, py):
        shapely.prepare(area)
        test = shapely.intersects_xy if boundary else shapely.contains_xy
        return test(area, px, py)

    if len(x) < INDEX_MIN_POINTS or not HAVE_NUMBA or area.is_empty:
        return locate(x, y, [area]) == 0 if boundary else exact(x, y)
    try:
        index = _area_index(area)
    except TypeError:  # unhashable geometry
        return locate(x, y, [area]) == 0 if boundary else exact(x, y)
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    ok, todo = raster_inside(x, y, *index)  # cells wholly inside, or near an edge (todo)
    if len(todo):
        ok[todo] = exact(x[todo], y[todo])
    return ok


@dataclass(frozen=True)
class Points:
    """Incidents inside a study area as coordinate arrays, extracted once for several calls.

    Pulling the coordinates out of a GeoDataFrame and testing them against the study area
    costs more than a kernel density on a million incidents; :func:`prepare_points` does
    it once and :func:`~impactzones.hotspots.kde`, :func:`~impactzones.hotspots.dbscan`
    and :func:`~impactzones.hotspots.gistar` accept the result in place of the
    GeoDataFrame (then without a ``study_area``: it travels with the points).

    Attributes
    ----------
    x, y : ndarray of float64
        Coordinates (metres) of the incidents inside the study area.
    positions : ndarray of int64
        Their positions in ``frame``.
    area : shapely geometry or None
        The study area.
    outside : int
        Incidents left out (outside the study area, or without coordinates).
    frame : GeoDataFrame
        The incidents the points came from (for weights, categories, times and the index).
    """

    x: np.ndarray
    y: np.ndarray
    positions: np.ndarray
    area: object
    outside: int
    frame: gpd.GeoDataFrame = field(repr=False)

    @property
    def crs(self):
        """The CRS of the incidents."""
        return self.frame.crs

    def __len__(self) -> int:
        return len(self.frame)


@renamed_keyword("mask", "study_area")
def prepare_points(incidents: gpd.GeoDataFrame, study_area=None) -> Points:
    """The incidents inside ``study_area`` as :class:`Points`, to pass to several hot-spot
    calls (``mask=`` is its old name, still accepted with a ``FutureWarning``).

    Examples
    --------
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.core.geo import st_louis
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> pts = prepare_points(inc, st_louis().land)
    >>> len(pts.x) + pts.outside == len(inc)
    True
    """
    x, y, _w, area, outside, pos = points_in_study_area(incidents, study_area, positions=True)
    return Points(x=x, y=y, positions=pos, area=area, outside=outside, frame=incidents)


def _weights(frame, weights, n: int) -> np.ndarray:
    if weights is None:
        w = np.ones(n)
    elif isinstance(weights, str):
        if weights not in frame:
            raise InputError(f"There is no weights column {weights!r}.")
        w = frame[weights].to_numpy(float)
    else:
        w = np.asarray(weights, float)
        if w.shape != (n,):
            raise InputError("weights must have one value per incident.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError("weights must be finite and non-negative.")
    return w


def points_in_study_area(
    incidents: gpd.GeoDataFrame | Points, study_area, weights=None, *, positions: bool = False
):
    """x, y and weights of the incidents inside the study area, the area, and how many fell
    outside it (they are left out, and the count is reported with the result); with
    ``positions``, also the positions of the incidents kept. ``incidents`` may be
    :class:`Points` prepared earlier (then ``study_area`` must be None)."""
    if isinstance(incidents, Points):
        if study_area is not None:
            raise InputError(
                "These points were prepared with their study area; call without one "
                "(or prepare them again with the new one)."
            )
        p = incidents
        w = _weights(p.frame, weights, len(p.frame))[p.positions]
        if positions:
            return p.x, p.y, w, p.area, p.outside, p.positions
        return p.x, p.y, w, p.area, p.outside
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise InputError("Hot-spot methods take a GeoDataFrame of point incidents.")
    crs = incidents.crs  # one lookup: each reaches for the geometry column
    if crs is None or not crs.is_projected:
        raise InputError(
            "Hot spots are measured in metres: reproject the incidents to a projected CRS "
            "first (e.g. incidents.to_crs(impactzones.core.geo.WORK_CRS))."
        )
    if (
        study_area is not None
        and hasattr(study_area, "crs")
        and study_area.crs is not None
        and not study_area.crs.equals(crs)
    ):
        raise InputError("The study area and the incidents have different CRSs; reproject one.")
    area = study_geometry(study_area)
    n = len(incidents)
    found = None
    if area is not None and n >= INDEX_MIN_POINTS and HAVE_NUMBA:
        found = _inside_indexed(incidents, area)
    x, y, keep = found if found is not None else _inside_exact(incidents, area)
    w = np.ones(len(keep)) if weights is None else _weights(incidents, weights, n)[keep]
    if positions:
        return x, y, w, area, n - len(keep), keep
    return x, y, w, area, n - len(keep)


def _inside_exact(incidents, area):
    """x, y and positions of the incidents in ``area`` (with coordinates, without one)."""
    try:
        x, y = xy(incidents)
    except ValueError as exc:
        raise InputError("Hot-spot methods need point incidents.") from exc
    ok = in_study_area(x, y, area) if area is not None else np.isfinite(x) & np.isfinite(y)
    keep = np.flatnonzero(ok)
    if len(keep) == len(x):  # no copies when nothing is left out
        return x, y, keep
    return x[keep], y[keep], keep


def _inside_indexed(incidents, area):
    """:func:`_inside_exact` in one GEOS pass (the points' bounds) and one compiled pass
    (the point check and the study area's raster index); None for an unhashable area."""
    try:
        index = _area_index(area)
    except TypeError:
        return None
    geoms = np.asarray(incidents.geometry.array, dtype=object)
    b = shapely.bounds(geoms).reshape(-1, 4)
    status, odd = classify_bounds(b, *index)
    types = shapely.get_type_id(geoms[odd])
    if ((types != 0) & (types != -1)).any():
        raise InputError("Hot-spot methods need point incidents.")
    todo = np.flatnonzero(status == 2)
    if len(todo):
        shapely.prepare(area)
        status[todo] = shapely.intersects_xy(area, b[todo, 0], b[todo, 1])
    keep = np.flatnonzero(status == 1)
    if len(keep) == len(b):  # nothing left out: views, no copies
        return b[:, 0], b[:, 1], keep
    return b[keep, 0], b[keep, 1], keep

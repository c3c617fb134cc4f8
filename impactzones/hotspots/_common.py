"""Shared input handling for the hot-spot methods."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from ..errors import InputError
from ..geo import xy


def study_geometry(mask):
    """A shapely geometry from a geometry, a GeoSeries/GeoDataFrame or None."""
    if mask is None:
        return None
    if hasattr(mask, "union_all"):
        return mask.union_all()
    if isinstance(mask, shapely.Geometry):
        return mask
    raise InputError("mask must be a polygon or a GeoDataFrame of polygons.")


def grid_for(x, y, area, crs, cell_size):
    """The analysis grid over the study area, or over the points' bounding box without one."""
    from ..grid import make_grid

    if area is None:
        if len(x) == 0:
            raise InputError("There are no incidents in the study area.")
        area = shapely.box(
            float(x.min()), float(y.min()), float(x.max()) + 1.0, float(y.max()) + 1.0
        )
    return make_grid(area, crs, cell_size)


def points_in_study_area(
    incidents: gpd.GeoDataFrame, mask, weights=None, *, positions: bool = False
):
    """x, y and weights of the incidents inside the study area, the area, and how many fell
    outside it (they are left out, and the count is reported with the result); with
    ``positions``, also the positions of the incidents kept."""
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise InputError("Hot-spot methods take a GeoDataFrame of point incidents.")
    if incidents.crs is None or not incidents.crs.is_projected:
        raise InputError(
            "Hot spots are measured in metres: reproject the incidents to a projected CRS "
            "first (e.g. incidents.to_crs(impactzones.geo.WORK_CRS))."
        )
    if (
        mask is not None
        and hasattr(mask, "crs")
        and mask.crs is not None
        and not mask.crs.equals(incidents.crs)
    ):
        raise InputError("The mask and the incidents have different CRSs; reproject one.")
    try:
        x, y = xy(incidents)
    except ValueError as exc:
        raise InputError("Hot-spot methods need point incidents.") from exc
    if weights is None:
        w = np.ones(len(x))
    elif isinstance(weights, str):
        if weights not in incidents:
            raise InputError(f"There is no weights column {weights!r}.")
        w = incidents[weights].to_numpy(float)
    else:
        w = np.asarray(weights, float)
        if w.shape != x.shape:
            raise InputError("weights must have one value per incident.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError("weights must be finite and non-negative.")
    area = study_geometry(mask)
    ok = np.isfinite(x) & np.isfinite(y)
    if area is not None:
        from ..assign import locate

        ok &= locate(x, y, [area]) == 0
    outside = int((~ok).sum())
    if positions:
        return x[ok], y[ok], w[ok], area, outside, np.flatnonzero(ok)
    return x[ok], y[ok], w[ok], area, outside

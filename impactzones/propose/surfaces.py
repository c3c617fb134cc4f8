"""The priority surfaces that proposals grow on: which cells are hottest.

``method="cells"`` (the default): the proposal period's incidents counted per grid cell and
lightly smoothed (or, with ``stability``, the months in which each cell had an incident);
or a hot-spot method's result as its registry entry turns it into a surface
(:mod:`impactzones.hotspots.registry`, ``Method.surface``): ``"kde"``, the kernel density;
``"gistar"``, the Gi* z-score of significant hot cells only; ``"dbscan"``, the kernel density
inside DBSCAN clusters.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..core.geo import xy
from ..core.grid import make_grid
from ..hotspots import registry as _registry

__all__ = ["METHODS"]

#: The priority surfaces :func:`impactzones.propose.propose_zones` can grow zones on:
#: "cells" and every hot-spot method with a priority surface in the registry (live).
METHODS = _registry.MethodNames(having="surface", before=("cells",))


def _cell_surface(sel, study_area, cell: float, smooth: float, stability: bool):
    """Counts per cell, lightly smoothed (Gaussian, ``smooth`` metres), or with
    ``stability`` the number of months each cell had an incident, smoothed alike."""
    from scipy import ndimage

    grid = make_grid(study_area, sel.crs, cell)
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


def _surface(sel, study_area, method: str, cell: float, bandwidth, smooth=100.0, stability=False):
    """The priority surface of ``method``: counts per cell, or a hot-spot method's result
    as its registry entry turns it into one (``Method.surface``)."""
    from ..hotspots import prepare_points, registry

    if method == "cells":
        return _cell_surface(sel, study_area, cell, smooth, stability)
    entry = registry.get(method)
    if entry.surface is None:
        raise InputError(f"The {method} method has no priority surface to propose zones from.")
    settings = {"cell_size": cell, "bandwidth": bandwidth, "permutations": 0, "top": 0}
    ctx = registry.RunContext(sel, prepare_points(sel, study_area), study_area, settings)
    return entry.surface(registry.run_method(method, ctx), ctx)

"""The priority surfaces that proposals grow on: which cells are hottest.

``method="cells"`` (the default): the proposal period's incidents counted per grid cell and
lightly smoothed (or, with ``stability``, the months in which each cell had an incident);
``"kde"``: the kernel density; ``"gistar"``: the Gi* z-score of significant hot cells only;
``"dbscan"``: the kernel density inside DBSCAN clusters.
"""

from __future__ import annotations

import numpy as np
import shapely

from ..core.geo import xy
from ..core.grid import make_grid

__all__ = ["METHODS"]

#: The priority surfaces :func:`impactzones.propose.propose_zones` can grow zones on.
METHODS = ("cells", "kde", "gistar", "dbscan")


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
    from ..hotspots import dbscan, gistar, kde

    if method == "cells":
        return _cell_surface(sel, study_area, cell, smooth, stability)
    s = kde(sel, cell_size=cell, bandwidth=bandwidth, study_area=study_area)
    values = np.nan_to_num(s.values, nan=0.0)
    note = f"KDE ({s.params['kernel']}, bandwidth {s.params['bandwidth_m']:,.0f} m)"
    if method == "gistar":
        g = gistar(sel, grid=s.grid, permutations=0)
        z = np.zeros(s.grid.shape)
        z[s.grid.mask] = np.where(g.bins > 0, g.Zs, 0.0)
        values = z
        note = f"Gi* z of significant hot cells ({g.params['fdr']} FDR, analytic p)"
    elif method == "dbscan":
        c = dbscan(sel, study_area=study_area)
        inside = np.zeros(s.grid.shape, bool)
        if len(c.clusters):
            cx, cy = s.grid.centres()
            inside = shapely.contains_xy(c.clusters.union_all(), cx, cy)
        values = np.where(inside, values, 0.0)
        note += f" inside DBSCAN clusters (eps {c.params['eps_m']:,.0f} m)"
    return s.grid, values, note

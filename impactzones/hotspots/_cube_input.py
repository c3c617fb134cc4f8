"""A count cube as the hot-spot methods' input."""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError

__all__ = ["cube_points"]


def cube_points(cube, grid=None):
    """A count cube as weighted points at its cell centres: x, y, counts, the grid, and
    the incidents the cube left out (outside its study area).

    Sums over every dimension but ``y`` and ``x``: select a group or a period first.
    """
    from ..cube import cube_to_grid_counts

    cgrid, counts = cube_to_grid_counts(cube)
    if grid is not None and (grid.transform != cgrid.transform or grid.shape != cgrid.shape):
        raise InputError("A count cube carries its own grid; call without grid=.")
    rows, cols = np.nonzero(counts)
    cx = cgrid.x0 + (cols + 0.5) * cgrid.cell
    cy = cgrid.y0 - (rows + 0.5) * cgrid.cell
    outside = int(getattr(cube, "attrs", {}).get("outside_study_area", 0))
    return cx, cy, counts[rows, cols], cgrid, outside

"""Compiled inner loops (numba, cached to disk), each with a pure-numpy twin.

Numba is used where it measurably earns its place (lattice binning for KDE, the grid
DBSCAN). It is a required dependency: without it DBSCAN falls back to scikit-learn, whose
neighbour lists do not fit in memory at a million incidents. The pure-numpy twins are the
reference the tests check the compiled code against; ``IMPACTZONES_NO_NUMBA=1`` forces them
(the tests run both). A missing or broken numba warns once and uses them.
The first call in a fresh environment compiles (a few seconds, reported by the benchmark);
later processes load the cache.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

try:  # pragma: no cover - exercised by the environment
    if os.environ.get("IMPACTZONES_NO_NUMBA"):
        raise ImportError("disabled by IMPACTZONES_NO_NUMBA")
    import numba

    HAVE_NUMBA = True
except ImportError as exc:  # pragma: no cover
    if not os.environ.get("IMPACTZONES_NO_NUMBA"):
        warnings.warn(
            f"numba could not be imported ({exc}); impactzones runs its slower pure-numpy "
            "paths. Reinstall it with `python3 -m pip install numba`.",
            RuntimeWarning,
            stacklevel=2,
        )
    numba = None  # type: ignore[assignment]
    HAVE_NUMBA = False


def njit(*args, **kwargs):
    """``numba.njit(cache=True)`` when numba is there; the plain function otherwise."""
    kwargs.setdefault("cache", True)

    def wrap(fn):
        if not HAVE_NUMBA:
            return fn
        return numba.njit(**kwargs)(fn)

    if args and callable(args[0]):
        return wrap(args[0])
    return wrap


@njit
def cubic_bin(x, y, w, x0, y0, step, shift, ny, nx):  # pragma: no cover - compiled
    """Spread each point over 4 x 4 lattice nodes with cubic Lagrange weights.

    The lattice position of a point is ``((x - x0) / step + shift, (y0 - y) / step +
    shift)`` (computed here, so that no temporary arrays are made). Points whose 4 x 4
    nodes are all on the lattice (nearly all) take a path without bounds checks. The
    weights are products with 1/6 and 1/2 (no divisions: they set the pace), and the
    four row weights are made once per point.
    """
    out = np.zeros(ny * nx)
    inv = 1.0 / step
    for i in range(x.shape[0]):
        fx = (x[i] - x0) * inv + shift
        fy = (y0 - y[i]) * inv + shift
        ix = int(np.floor(fx))
        iy = int(np.floor(fy))
        bx0, bx1, bx2, bx3 = _cubic_weights(fx - ix, 1.0)
        by0, by1, by2, by3 = _cubic_weights(fy - iy, w[i])
        if ix >= 1 and ix + 2 < nx and iy >= 1 and iy + 2 < ny:
            k = (iy - 1) * nx + ix - 1
            for wa in (by0, by1, by2, by3):
                out[k] += wa * bx0
                out[k + 1] += wa * bx1
                out[k + 2] += wa * bx2
                out[k + 3] += wa * bx3
                k += nx
            continue
        for a in range(4):
            r = iy - 1 + a
            if r < 0 or r >= ny:
                continue
            wa = (by0, by1, by2, by3)[a]
            for b in range(4):
                c = ix - 1 + b
                if 0 <= c < nx:
                    out[r * nx + c] += wa * (bx0, bx1, bx2, bx3)[b]
    return out.reshape(ny, nx)


@njit(inline="always")
def _cubic_weights(t, scale):  # pragma: no cover - compiled
    """``scale`` x the cubic Lagrange weights of nodes -1, 0, 1, 2 for offset ``t``."""
    tm1, tm2, tp1 = t - 1.0, t - 2.0, t + 1.0
    s6, s2 = scale * (1.0 / 6.0), scale * 0.5
    return (-t * tm1 * tm2 * s6, tp1 * tm1 * tm2 * s2, -tp1 * t * tm2 * s2, tp1 * t * tm1 * s6)


def _quartic_chunk(px, py, w, lo, hi, x0, y0, cell, height, width, h, out):
    h2 = h * h
    for i in range(lo, hi):
        # the centre of column j is x0 + (j + 0.5) * cell, of row r is y0 - (r + 0.5) * cell
        c0 = max(int(np.ceil((px[i] - h - x0) / cell - 0.5)), 0)
        c1 = min(int(np.floor((px[i] + h - x0) / cell - 0.5)), width - 1)
        r0 = max(int(np.ceil((y0 - py[i] - h) / cell - 0.5)), 0)
        r1 = min(int(np.floor((y0 - py[i] + h) / cell - 0.5)), height - 1)
        for r in range(r0, r1 + 1):
            dy = y0 - (r + 0.5) * cell - py[i]
            dy2 = dy * dy
            if dy2 >= h2:
                continue
            for c in range(c0, c1 + 1):
                dx = x0 + (c + 0.5) * cell - px[i]
                u = (dx * dx + dy2) / h2
                if u < 1.0:
                    t = 1.0 - u
                    out[r, c] += w[i] * t * t


_quartic_chunk_c = njit(_quartic_chunk)


def _quartic_direct(px, py, w, x0, y0, cell, height, width, h, nchunks):
    n = px.shape[0]
    buf = np.zeros((nchunks, height, width))
    size = (n + nchunks - 1) // nchunks
    for k in prange(nchunks):
        lo = k * size
        hi = min(n, lo + size)
        _quartic_chunk_c(px, py, w, lo, hi, x0, y0, cell, height, width, h, buf[k])
    return buf.sum(axis=0)


if HAVE_NUMBA:  # pragma: no branch
    prange = numba.prange
    _quartic_direct_c = numba.njit(parallel=True, cache=True)(_quartic_direct)
else:  # pragma: no cover
    prange = range  # type: ignore[misc]
    _quartic_direct_c = _quartic_direct  # type: ignore[assignment]


def quartic_direct(px, py, w, x0, y0, cell, height, width, h):
    """Exact quartic sums ``sum_i w_i (1 - d^2/h^2)^2`` at every cell centre (unnormalised).

    Compiled and parallel over chunks of points, each with its own buffer.
    """
    nchunks = 1 if len(px) < 50_000 else max(1, min(os.cpu_count() or 1, 8))
    return _quartic_direct_c(
        np.ascontiguousarray(px, dtype=np.float64),
        np.ascontiguousarray(py, dtype=np.float64),
        np.ascontiguousarray(w, dtype=np.float64),
        float(x0),
        float(y0),
        float(cell),
        int(height),
        int(width),
        float(h),
        nchunks,
    )


@njit
def raster_lookup(x, y, x0, y0, cell, label, edges):  # pragma: no cover - compiled
    """Label (``label - 1``) of each point's raster cell; -1 outside the raster; -2 where
    the cell is near a polygon edge (an exact test decides)."""
    n = x.shape[0]
    height, width = label.shape
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        fc = (x[i] - x0) / cell
        fr = (y0 - y[i]) / cell
        if not (fc >= 0 and fr >= 0 and fc < width and fr < height):  # NaN goes here too
            out[i] = -1
            continue
        r = int(fr)
        c = int(fc)
        out[i] = -2 if edges[r, c] else label[r, c] - 1
    return out


@njit
def raster_inside(x, y, x0, y0, cell, code):  # pragma: no cover - compiled
    """Whether each point's raster cell is inside (``code`` 1; 2 marks cells near an edge,
    0 cells outside), and the positions of the points in cells near an edge (an exact
    test decides those). NaN and points off the raster are outside."""
    n = x.shape[0]
    height, width = code.shape
    ok = np.zeros(n, dtype=np.bool_)
    todo = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        fc = (x[i] - x0) / cell
        fr = (y0 - y[i]) / cell
        if not (fc >= 0 and fr >= 0 and fc < width and fr < height):
            continue
        k = code[int(fr), int(fc)]
        if k == 2:
            todo[m] = i
            m += 1
        elif k == 1:
            ok[i] = True
    return ok, todo[:m].copy()


@njit
def classify_bounds(b, x0, y0, cell, code):  # pragma: no cover - compiled
    """For points given by their bounds ``b`` (n x 4: a point's are x, y, x, y): the
    ``code`` of their raster cell (1 inside, 2 near an edge: an exact test decides, 0
    outside or without coordinates); and the positions of the geometries that are not one
    point (some extent, or NaN), whose types the caller checks."""
    n = b.shape[0]
    height, width = code.shape
    status = np.zeros(n, dtype=np.uint8)
    odd = np.empty(n, dtype=np.int64)
    m = 0
    inv = 1.0 / cell  # a product, not a division, per point (the index's edge band,
    # two cells wide, absorbs the last-bit difference at a cell's border)
    for i in range(n):
        x = b[i, 0]
        y = b[i, 1]
        if not (x == b[i, 2] and y == b[i, 3]):  # NaN goes here too
            odd[m] = i
            m += 1
        fc = (x - x0) * inv
        fr = (y0 - y) * inv
        if fc >= 0 and fr >= 0 and fc < width and fr < height:
            status[i] = code[int(fr), int(fc)]
    return status, odd[:m].copy()

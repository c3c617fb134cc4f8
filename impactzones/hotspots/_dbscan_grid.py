"""An exact grid DBSCAN (compiled with numba), with scikit-learn's labels.

Points are put in square cells of side ``eps / (K sqrt 2)`` (K = 2, or up to 4 for dense
points: :func:`cells_per_eps`): any two points in the 3 x 3 block around a cell are then
within ``eps`` of each other (with K = 2, the inner block of cells wholly within ``eps``
of the centre cell is 3 x 3), and every neighbour of a point lies within ``1 + K sqrt 2``
cells of its cell. Then:

1. **core points**: when the inner block holds ``min_samples`` weight, every point of the
   centre cell is core; when the whole neighbourhood holds less, none is; otherwise each
   point takes each outer cell whole if the cell lies wholly within ``eps`` of it, skips
   it if wholly beyond, and, only if that leaves the answer open, adds the weights within
   ``eps`` (``<=``, as scikit-learn does) in the cells the eps circle cuts, a cell at a
   time, stopping as soon as it reaches ``min_samples`` or can no longer reach it;
2. **clusters**: the core points of one cell are one cluster; two cells' clusters join
   (union-find) when they are in one 3 x 3 block (all such pairs first: no distances to
   test), or some pair of their core points is within ``eps`` (tested only for cells not
   joined already, so that dense areas cost little);
3. **numbering**: clusters are numbered in the order of their first core point, as
   scikit-learn numbers them;
4. **border points** (not core, within ``eps`` of a core point) join the reachable
   cluster with the smallest number. scikit-learn expands clusters one at a time in that
   order, so a border point reachable from two clusters gets the same label there.

The points are sorted into cells by a counting sort over a dense table of the cells
(linear in the points) unless their box is too wide for one; the unique locations that
:func:`impactzones.hotspots.dbscan.unique_locations` gives this module come from a
bucketed hash (:func:`unique_points`), linear too.

The labels therefore equal scikit-learn's ``DBSCAN(eps, min_samples).fit(X,
sample_weight=w).labels_`` exactly, in time and memory that grow with the points, not with
the neighbour lists (which run to gigabytes for a million crime points).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..core._compiled import njit

#: Cells have side eps / (K sqrt 2): the 3 x 3 block around a point's cell is then always
#: within eps of it, and every cell that can hold a neighbour lies within 1 + K sqrt 2 cells.
K = 2


@functools.lru_cache(maxsize=8)
def _offsets(k: int = K):
    """Offsets of the cells wholly within eps of any point of the centre cell (inner), and
    of the cells that may hold some neighbours (ring, nearest first, so that counting
    stops early), for cells of side eps / (k sqrt 2)."""
    inner, ring = [], []
    lim = 2 * k * k
    reach = 1 + math.isqrt(lim)
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            near = max(abs(dx) - 1, 0) ** 2 + max(abs(dy) - 1, 0) ** 2
            far = (abs(dx) + 1) ** 2 + (abs(dy) + 1) ** 2
            if far <= lim:
                inner.append((dx, dy))
            elif near <= lim:
                ring.append((near, dx, dy))
    ring.sort()
    return np.array(inner, np.int64), np.array([(dx, dy) for _, dx, dy in ring], np.int64)


@njit
def _find(parent, i):  # pragma: no cover - compiled
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@njit
def _cell_weights(pw, cell_start, cell_end):  # pragma: no cover - compiled
    ncell = cell_start.shape[0]
    cell_w = np.zeros(ncell)
    for c in range(ncell):
        s = 0.0
        for i in range(cell_start[c], cell_end[c]):
            s += pw[i]
        cell_w[c] = s
    return cell_w


@njit
def _core_points(px, py, pw, cell_start, cell_end, nbr, ninner, eps2, min_samples, box):
    """Step 1: the core flag of every point (cell-sorted order).

    ``box`` holds each cell's bounds (x0, y0, x1, y1), widened by a hair so that they hold
    every point of the cell despite round-off. A point of a cell near the threshold takes
    each outer cell whole when the cell lies wholly within eps of it, skips it when wholly
    beyond, and tests point by point only the cells the eps circle cuts, and only when
    those cells can change the answer; it stops as soon as it has ``min_samples``, or can
    no longer reach it.
    """
    n = px.shape[0]
    ncell = cell_start.shape[0]
    nnb = nbr.shape[1]
    core = np.zeros(n, dtype=np.bool_)
    cell_w = _cell_weights(pw, cell_start, cell_end)
    cut = np.empty(nnb, np.int64)  # scratch for _reaches
    for c in range(ncell):
        sure = 0.0  # weight wholly within eps of every point of the cell
        for k in range(ninner):
            d = nbr[c, k]
            if d >= 0:
                sure += cell_w[d]
        if sure >= min_samples:
            for i in range(cell_start[c], cell_end[c]):
                core[i] = True
            continue
        reach = sure
        for k in range(ninner, nnb):
            d = nbr[c, k]
            if d >= 0:
                reach += cell_w[d]
        if reach < min_samples:
            continue
        for i in range(cell_start[c], cell_end[c]):
            core[i] = _reaches(px, py, pw, i, c, cell_start, cell_end, nbr, ninner, eps2,
                               min_samples, box, cell_w, sure, cut)  # fmt: skip
    return core


@njit
def _reaches(px, py, pw, i, c, cell_start, cell_end, nbr, ninner, eps2, min_samples, box,
             cell_w, sure, cut):  # fmt: skip  # pragma: no cover - compiled
    """Whether point ``i`` (of cell ``c``) has ``min_samples`` weight within eps.

    First every outer cell is placed against the eps circle (wholly within: counted
    whole; wholly beyond: dropped; cut: kept in ``cut``, a scratch array); only when the
    cells within and the cut cells leave the answer open are the cut cells' points
    tested, stopping as soon as the answer is known.
    """
    total = sure
    left = 0.0  # weight of the cut cells' points not yet tested
    ncut = 0
    xi, yi = px[i], py[i]
    for k in range(ninner, nbr.shape[1]):
        d = nbr[c, k]
        if d < 0:
            continue
        where = _cell_within(box, d, xi, yi, eps2)
        if where == 2:
            total += cell_w[d]
        elif where == 1:
            left += cell_w[d]
            cut[ncut] = d
            ncut += 1
    if total >= min_samples:
        return True
    if total + left < min_samples:
        return False
    for m in range(ncut):
        d = cut[m]
        left -= cell_w[d]
        total += _weight_within(px, py, pw, cell_start[d], cell_end[d], xi, yi, eps2)
        if total >= min_samples:
            return True
        if total + left < min_samples:
            return False
    return total >= min_samples


@njit(fastmath={"reassoc", "nsz"})
def _weight_within(px, py, pw, lo, hi, xi, yi, eps2):  # pragma: no cover - compiled
    """The weight of the points lo..hi-1 within eps of (xi, yi).

    Branch-free, so that it runs on vector instructions: the sum may be reordered (exact
    for the whole-number weights DBSCAN gets: counts), the distances are not (no fused
    multiply-add), so the test is the plain ``dx^2 + dy^2 <= eps^2`` everywhere.
    """
    s = 0.0
    for j in range(lo, hi):
        dx = xi - px[j]
        dy = yi - py[j]
        s += pw[j] if dx * dx + dy * dy <= eps2 else 0.0
    return s


@njit
def _join(parent, a, b):  # pragma: no cover - compiled
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)


@njit
def _cells_touch(px, py, core, cell_start, cell_end, c, d, eps2):  # pragma: no cover
    """Whether some core point of cell ``c`` is within eps of some core point of ``d``."""
    for i in range(cell_start[c], cell_end[c]):
        if not core[i]:
            continue
        for j in range(cell_start[d], cell_end[d]):
            if core[j]:
                dx = px[i] - px[j]
                dy = py[i] - py[j]
                if dx * dx + dy * dy <= eps2:
                    return True
    return False


@njit
def _link_cells(px, py, core, cell_start, cell_end, nbr, ninner, eps2):
    """Step 2: union-find over the cells holding core points; the root of each (-1: none)."""
    ncell = cell_start.shape[0]
    has_core = np.zeros(ncell, dtype=np.bool_)
    for c in range(ncell):
        for i in range(cell_start[c], cell_end[c]):
            if core[i]:
                has_core[c] = True
                break
    parent = np.arange(ncell)
    # first every inner pair (always linked, no distance to test), so that the costly
    # tests of the outer pairs below are skipped wherever the cells are already joined
    for c in range(ncell):
        if has_core[c]:
            for k in range(ninner):
                d = nbr[c, k]
                if d > c and has_core[d]:
                    _join(parent, c, d)
    for c in range(ncell):
        if not has_core[c]:
            continue
        for k in range(ninner, nbr.shape[1]):
            d = nbr[c, k]
            if d <= c or not has_core[d] or _find(parent, c) == _find(parent, d):
                continue
            if _cells_touch(px, py, core, cell_start, cell_end, c, d, eps2):
                _join(parent, c, d)
    roots = np.full(ncell, -1, dtype=np.int64)
    for c in range(ncell):
        if has_core[c]:
            roots[c] = _find(parent, c)
    return roots


@njit
def _border(px, py, core, cell_start, cell_end, nbr, ninner, eps2, cell_label, box):
    """Label of each point: its cluster if core, else the smallest label within eps.

    An outer cell holding core points (``cell_label >= 0``) is skipped when it lies wholly
    beyond eps of the point, taken whole when wholly within, and searched point by point
    only when the eps circle cuts it.
    """
    n = px.shape[0]
    ncell = cell_start.shape[0]
    big = 1 << 62
    out = np.full(n, -1, dtype=np.int64)
    for c in range(ncell):
        inner_best = big
        for k in range(ninner):
            d = nbr[c, k]
            if d >= 0 and cell_label[d] >= 0 and cell_label[d] < inner_best:
                inner_best = cell_label[d]
        for i in range(cell_start[c], cell_end[c]):
            if core[i]:
                out[i] = cell_label[c]
                continue
            best = inner_best
            xi, yi = px[i], py[i]
            for k in range(ninner, nbr.shape[1]):
                d = nbr[c, k]
                if d < 0 or cell_label[d] < 0 or cell_label[d] >= best:
                    continue
                where = _cell_within(box, d, xi, yi, eps2)
                if where == 2 or (where == 1 and _touches_core(
                    px, py, core, cell_start[d], cell_end[d], xi, yi, eps2
                )):  # fmt: skip
                    best = cell_label[d]
            out[i] = best if best < big else -1
    return out


@njit
def _cell_within(box, d, xi, yi, eps2):  # pragma: no cover - compiled
    """0 if cell ``d`` lies wholly beyond eps of (xi, yi), 2 if wholly within, else 1."""
    nx = max(box[d, 0] - xi, 0.0, xi - box[d, 2])
    ny = max(box[d, 1] - yi, 0.0, yi - box[d, 3])
    if nx * nx + ny * ny > eps2:
        return 0
    fx = max(abs(xi - box[d, 0]), abs(xi - box[d, 2]))
    fy = max(abs(yi - box[d, 1]), abs(yi - box[d, 3]))
    return 2 if fx * fx + fy * fy <= eps2 else 1


@njit
def _touches_core(px, py, core, lo, hi, xi, yi, eps2):  # pragma: no cover - compiled
    """Whether some core point among positions lo..hi-1 is within eps of (xi, yi)."""
    for j in range(lo, hi):
        if core[j]:
            dx = xi - px[j]
            dy = yi - py[j]
            if dx * dx + dy * dy <= eps2:
                return True
    return False


@njit(inline="always")
def _mix(z):  # pragma: no cover - compiled
    """splitmix64's finaliser: a well-spread 64-bit hash."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def _key(xb, yb):  # pragma: no cover - compiled
    """The hash of a location from the bits of its coordinates."""
    return _mix(np.uint64(xb) ^ _mix(np.uint64(yb) + np.uint64(0x9E3779B97F4A7C15)))


@njit(inline="always")
def _bits(v):  # pragma: no cover - compiled
    """A coordinate's bits, with -0.0 taken as 0.0."""
    return 0 if v == -9223372036854775808 else v  # -0.0 is 0.0


@njit
def _unique_xy(x, y, xb, yb, bits):  # pragma: no cover - compiled
    """Unique locations in the order of their first point, their counts and each
    point's location (see :func:`unique_points`).

    The points are first split by the top ``bits`` bits of their hash into buckets of a
    few thousand (a stable counting sort), then each bucket is deduplicated with an
    open-addressing table small enough to stay in cache: the work is linear in the points
    and, unlike one large hash table, does not slow down once the table outgrows the cache.
    """
    n = x.shape[0]
    nb = 1 << bits
    shift = np.uint64(64 - bits)
    start = np.zeros(nb + 1, np.int64)
    for i in range(n):
        b = np.int64(_key(_bits(xb[i]), _bits(yb[i])) >> shift) if bits > 0 else 0
        start[b + 1] += 1
    for b in range(nb):
        start[b + 1] += start[b]
    pos = start[:-1].copy()
    px = np.empty(n, np.int64)  # each bucket's coordinates' bits, and the points' positions
    py = np.empty(n, np.int64)
    pi = np.empty(n, np.int64)
    for i in range(n):
        u, v = _bits(xb[i]), _bits(yb[i])
        b = np.int64(_key(u, v) >> shift) if bits > 0 else 0
        p = pos[b]
        pos[b] = p + 1
        px[p], py[p], pi[p] = u, v, i
    first = np.empty(n, np.int64)
    maxlen = 0
    for b in range(nb):
        maxlen = max(maxlen, start[b + 1] - start[b])
    ts = 2
    while ts < 2 * maxlen:
        ts *= 2
    table = np.empty(ts, np.int64)
    for b in range(nb):
        lo, hi = start[b], start[b + 1]
        if hi == lo:
            continue
        ts = 2
        while ts < 2 * (hi - lo):
            ts *= 2
        table[:ts] = -1
        for p in range(lo, hi):
            s = np.int64(_key(px[p], py[p]) & np.uint64(ts - 1))
            while True:
                q = table[s]
                if q < 0:
                    table[s] = p
                    first[pi[p]] = pi[p]
                    break
                if px[q] == px[p] and py[q] == py[p]:
                    first[pi[p]] = pi[q]
                    break
                s = (s + 1) & (ts - 1)
    codes = first  # overwritten in place: codes[f] is set before any i > f reads it
    nu = 0
    for i in range(n):
        f = first[i]
        if f == i:
            codes[i] = nu
            px[nu] = i  # the first point of each location, reusing px
            nu += 1
        else:
            codes[i] = codes[f]
    ux, uy, cnt = np.empty(nu), np.empty(nu), np.zeros(nu)
    for u in range(nu):
        ux[u], uy[u] = x[px[u]], y[px[u]]
    for i in range(n):
        cnt[codes[i]] += 1.0
    return ux, uy, cnt, codes


def unique_points(x: np.ndarray, y: np.ndarray):
    """Unique (x, y) in the order of their first occurrence, their counts (float) and each
    point's location (the inverse), with the compiled bucketed hash of :func:`_unique_xy`.
    Coordinates are compared by value (-0.0 equals 0.0).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    bits = max(0, math.ceil(math.log2(max(len(x), 1) / 2048)))
    return _unique_xy(x, y, x.view(np.int64), y.view(np.int64), bits)


#: The counting sort's dense table may hold up to this many cells per point (plus 2^20):
#: beyond that (points spread thinly over a wide box) the cells are found by sorting.
DENSE_CELLS_PER_POINT = 2


def _cells(x, y, w, eps: float, k: int):
    """Sort the points into cells of side eps / (k sqrt 2): the order, the sorted x, y and
    weights, each cell's first and past-the-end positions, its neighbour cells (-1: empty)
    and its bounds.

    When the box of the points holds few enough cells, a counting sort over a dense table
    of the cells (padded by the neighbourhood's reach, so that no lookup leaves it) does
    it in time linear in the points; otherwise a stable sort of the cell keys and binary
    searches. Both give the same cells in the same order.
    """
    inner, ring = _offsets(k)
    offsets = np.vstack([inner, ring])
    side = eps / (k * np.sqrt(2.0))
    xmin, ymin = float(x.min()), float(y.min())
    pad = int(np.abs(offsets).max())
    nx = int((float(x.max()) - xmin) / side) + 2 * pad + 2
    ny = int((float(y.max()) - ymin) / side) + 2 * pad + 2
    if nx * ny <= DENSE_CELLS_PER_POINT * len(x) + (1 << 20):
        order, start, end, ucx, ucy, nbr, px, py, pw = _dense_cells(
            x, y, w, xmin, ymin, side, pad, nx, ny, offsets[:, 0].copy(), offsets[:, 1].copy()
        )
    else:
        order, start, end, ucx, ucy, nbr = _sorted_cells(x, y, xmin, ymin, side, offsets)
        px, py, pw = x[order], y[order], w[order]
    hair = 1e-9 * (abs(xmin) + abs(ymin) + eps)  # round-off margin
    bx, by = xmin + ucx * side, ymin + ucy * side
    box = np.column_stack([bx - hair, by - hair, bx + side + hair, by + side + hair])
    return order, px, py, pw, start, end, nbr, len(inner), box


@njit
def _dense_cells(x, y, w, xmin, ymin, side, pad, nx, ny, odx, ody):  # pragma: no cover
    """Counting sort of the points into the cells of a dense ``nx`` x ``ny`` table (cells
    offset by ``pad``), each occupied cell's neighbours at offsets (odx, ody), and the
    points' x, y and weights in the sorted order (written as they are placed)."""
    n = x.shape[0]
    key = np.empty(n, np.int64)
    pos = np.zeros(nx * ny + 1, np.int64)
    for i in range(n):
        cx = np.int64(math.floor((x[i] - xmin) / side)) + pad
        cy = np.int64(math.floor((y[i] - ymin) / side)) + pad
        key[i] = cx * ny + cy
        pos[key[i] + 1] += 1
    table = np.full(nx * ny, -1, np.int32)
    ncell = 0
    for q in range(nx * ny):
        if pos[q + 1] > 0:
            table[q] = ncell
            ncell += 1
        pos[q + 1] += pos[q]
    start = np.empty(ncell, np.int64)
    end = np.empty(ncell, np.int64)
    ucx = np.empty(ncell, np.int64)
    ucy = np.empty(ncell, np.int64)
    for q in range(nx * ny):
        c = table[q]
        if c >= 0:
            start[c], end[c] = pos[q], pos[q + 1]
            ucx[c], ucy[c] = q // ny - pad, q % ny - pad
    order = np.empty(n, np.int64)
    px, py, pw = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):  # stable: each cell's points stay in input order
        p = pos[key[i]]
        pos[key[i]] = p + 1
        order[p] = i
        px[p], py[p], pw[p] = x[i], y[i], w[i]
    nbr = np.empty((ncell, odx.shape[0]), np.int32)
    for c in range(ncell):
        q = (ucx[c] + pad) * ny + ucy[c] + pad
        for m in range(odx.shape[0]):
            nbr[c, m] = table[q + odx[m] * ny + ody[m]]
    return order, start, end, ucx, ucy, nbr, px, py, pw


def _sorted_cells(x, y, xmin, ymin, side, offsets):
    """The same as :func:`_dense_cells` by a stable sort of the cell keys."""
    cx = np.floor((x - xmin) / side).astype(np.int64)
    cy = np.floor((y - ymin) / side).astype(np.int64)
    ny = int(cy.max()) + 2 * int(np.abs(offsets).max()) + 4
    key = cx * ny + cy
    order = np.argsort(key, kind="stable")
    ukeys, start = np.unique(key[order], return_index=True)
    end = np.append(start[1:], len(x))
    ucx, ucy = ukeys // ny, ukeys % ny
    nbr = np.full((len(ukeys), len(offsets)), -1, dtype=np.int32)
    for m, (dx, dy) in enumerate(offsets):
        qx, qy = ucx + dx, ucy + dy
        q = qx * ny + qy
        pos = np.minimum(np.searchsorted(ukeys, q), len(ukeys) - 1)
        found = (qy >= 0) & (qy < ny) & (qx >= 0) & (ukeys[pos] == q)
        nbr[found, m] = pos[found]
    return order, start, end, ucx, ucy, nbr


def cells_per_eps(points_at_threshold: float) -> int:
    """Cells per ``eps / sqrt 2`` (``K``) for a count of points that reaches
    ``min_samples``: 2, up to 4 for dense points. Points near the threshold test the cells
    the eps circle cuts point by point, so with a fixed cell size that work grows with the
    square of the density; smaller cells keep it near-linear (the cell count, and the
    neighbour table, grow with K^2, hence the cap).

    Examples
    --------
    >>> cells_per_eps(200), cells_per_eps(4000), cells_per_eps(1e6)
    (2, 4, 4)
    """
    return int(min(4, max(K, round(math.sqrt(points_at_threshold / 300.0)))))


def grid_dbscan(
    x: np.ndarray,
    y: np.ndarray,
    eps: float,
    min_samples: float,
    sample_weight: np.ndarray | None = None,
    *,
    k: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN labels and core flags, equal to scikit-learn's (see the module notes).

    ``k`` sets the cell side, ``eps / (k sqrt 2)`` (default: :func:`cells_per_eps`); the
    labels do not depend on it, only the time.
    """
    n = len(x)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, bool)
    if k is None:  # points within eps of a point at the threshold
        k = cells_per_eps(min_samples / max(float(w.mean()), 1e-12))
    order, px, py, pw, start, end, nbr, ninner, box = _cells(x, y, w, eps, k)
    e2 = eps * eps
    core_s = _core_points(px, py, pw, start, end, nbr, ninner, e2, float(min_samples), box)
    roots = _link_cells(px, py, core_s, start, end, nbr, ninner, e2)
    # Number clusters by their first core point in the input order (scikit-learn's order).
    cell_of = np.repeat(np.arange(len(start)), end - start)
    core = np.empty(n, bool)
    core[order] = core_s
    point_root = np.full(n, -1, np.int64)
    point_root[order] = np.where(core_s, roots[cell_of], -1)
    core_roots = point_root[core]
    uroots, first_at = np.unique(core_roots, return_index=True)
    root_label = np.full(len(start), -1, np.int64)
    root_label[uroots[np.argsort(first_at)]] = np.arange(len(uroots))
    cell_label = np.where(roots >= 0, root_label[np.maximum(roots, 0)], -1)
    lab_s = _border(px, py, core_s, start, end, nbr, ninner, e2, cell_label, box)
    labels = np.empty(n, np.int64)
    labels[order] = lab_s
    return labels, core

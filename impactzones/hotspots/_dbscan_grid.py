"""An exact grid DBSCAN (compiled with numba), with scikit-learn's labels.

Points are put in square cells of side ``eps / (2 sqrt 2)``: any two points in the 3 x 3
block around a cell are then within ``eps`` of each other, and every neighbour of a point
lies in the 7 x 7 block around its cell. Then:

1. **core points**: when the 3 x 3 block holds ``min_samples`` weight, every point of the
   centre cell is core; when the whole 7 x 7 block holds less, none is; otherwise each
   point adds the weights within ``eps`` (``<=``, as scikit-learn does) in the outer cells,
   nearest first, stopping as soon as it reaches ``min_samples``;
2. **clusters**: the core points of one cell are one cluster; two cells' clusters join
   (union-find) when they are in one 3 x 3 block (all such pairs first: no distances to
   test), or some pair of their core points is within ``eps`` (tested only for cells not
   joined already, so that dense areas cost little);
3. **numbering**: clusters are numbered in the order of their first core point, as
   scikit-learn numbers them;
4. **border points** (not core, within ``eps`` of a core point) join the reachable
   cluster with the smallest number. scikit-learn expands clusters one at a time in that
   order, so a border point reachable from two clusters gets the same label there.

The labels therefore equal scikit-learn's ``DBSCAN(eps, min_samples).fit(X,
sample_weight=w).labels_`` exactly, in time and memory that grow with the points, not with
the neighbour lists (which run to gigabytes for a million crime points).
"""

from __future__ import annotations

import numpy as np

from ..core._compiled import njit

#: Cells have side eps / (K sqrt 2): the 3 x 3 block around a point's cell is then always
#: within eps of it, and every cell that can hold a neighbour lies within 3 cells.
K = 2


def _offsets():
    inner, ring = [], []
    lim = 2 * K * K
    for dx in range(-K - 1, K + 2):
        for dy in range(-K - 1, K + 2):
            near = max(abs(dx) - 1, 0) ** 2 + max(abs(dy) - 1, 0) ** 2
            far = (abs(dx) + 1) ** 2 + (abs(dy) + 1) ** 2
            if far <= lim:
                inner.append((dx, dy))
            elif near <= lim:
                ring.append((near, dx, dy))
    ring.sort()
    return np.array(inner, np.int64), np.array([(dx, dy) for _, dx, dy in ring], np.int64)


#: Offsets of cells wholly within eps of any point of the centre cell, and of the cells
#: that may hold some neighbours (nearest first, so that counting stops early).
INNER, RING = _offsets()
OFFSETS = np.vstack([INNER, RING])


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
def _dbscan_cells(px, py, pw, cell_start, cell_end, nbr, ninner, eps2, min_samples):
    """Core flags and cluster roots (by cell), in cell-sorted order."""
    n = px.shape[0]
    ncell = cell_start.shape[0]
    nnb = nbr.shape[1]
    core = np.zeros(n, dtype=np.bool_)
    cell_w = np.zeros(ncell)
    for c in range(ncell):
        s = 0.0
        for i in range(cell_start[c], cell_end[c]):
            s += pw[i]
        cell_w[c] = s
    # 1. core points
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
            total = sure
            for k in range(ninner, nnb):
                d = nbr[c, k]
                if d < 0:
                    continue
                for j in range(cell_start[d], cell_end[d]):
                    dx = px[i] - px[j]
                    dy = py[i] - py[j]
                    if dx * dx + dy * dy <= eps2:
                        total += pw[j]
                if total >= min_samples:
                    break
            core[i] = total >= min_samples
    # 2. union-find over cells with core points
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
        if not has_core[c]:
            continue
        for k in range(ninner):
            d = nbr[c, k]
            if d <= c or not has_core[d]:
                continue
            ra = _find(parent, c)
            rb = _find(parent, d)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    for c in range(ncell):
        if not has_core[c]:
            continue
        for k in range(ninner, nnb):
            d = nbr[c, k]
            if d <= c or not has_core[d]:
                continue
            ra = _find(parent, c)
            rb = _find(parent, d)
            if ra == rb:
                continue
            linked = False
            for i in range(cell_start[c], cell_end[c]):
                if not core[i]:
                    continue
                for j in range(cell_start[d], cell_end[d]):
                    if not core[j]:
                        continue
                    dx = px[i] - px[j]
                    dy = py[i] - py[j]
                    if dx * dx + dy * dy <= eps2:
                        linked = True
                        break
                if linked:
                    break
            if linked:
                parent[max(ra, rb)] = min(ra, rb)
    roots = np.full(ncell, -1, dtype=np.int64)
    for c in range(ncell):
        if has_core[c]:
            roots[c] = _find(parent, c)
    return core, has_core, roots


@njit
def _border(px, py, core, cell_start, cell_end, nbr, ninner, eps2, cell_label):
    """Label of each point: its cluster if core, else the smallest label within eps."""
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
            for k in range(ninner, nbr.shape[1]):
                d = nbr[c, k]
                if d < 0 or cell_label[d] < 0 or cell_label[d] >= best:
                    continue
                for j in range(cell_start[d], cell_end[d]):
                    if core[j]:
                        dx = px[i] - px[j]
                        dy = py[i] - py[j]
                        if dx * dx + dy * dy <= eps2:
                            best = cell_label[d]
                            break
            out[i] = best if best < big else -1
    return out


def grid_dbscan(
    x: np.ndarray,
    y: np.ndarray,
    eps: float,
    min_samples: float,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN labels and core flags, equal to scikit-learn's (see the module notes)."""
    n = len(x)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, bool)
    side = eps / (K * np.sqrt(2.0))
    cx = np.floor((x - x.min()) / side).astype(np.int64)
    cy = np.floor((y - y.min()) / side).astype(np.int64)
    ny = int(cy.max()) + 2 * K + 4
    key = cx * ny + cy
    order = np.argsort(key, kind="stable")
    skey = key[order]
    ukeys, start = np.unique(skey, return_index=True)
    end = np.append(start[1:], n)
    ucx, ucy = ukeys // ny, ukeys % ny
    nbr = np.full((len(ukeys), len(OFFSETS)), -1, dtype=np.int64)
    for k, (dx, dy) in enumerate(OFFSETS):
        qx, qy = ucx + dx, ucy + dy
        ok = (qy >= 0) & (qy < ny) & (qx >= 0)
        q = qx * ny + qy
        pos = np.searchsorted(ukeys, q)
        pos = np.minimum(pos, len(ukeys) - 1)
        found = ok & (ukeys[pos] == q)
        nbr[found, k] = pos[found]
    px, py, pw = x[order], y[order], w[order]
    core_s, _, roots = _dbscan_cells(
        px, py, pw, start, end, nbr, len(INNER), eps * eps, float(min_samples)
    )
    # Number clusters by their first core point in the input order (scikit-learn's order).
    cell_of = np.repeat(np.arange(len(ukeys)), end - start)
    core = np.empty(n, bool)
    core[order] = core_s
    point_root = np.full(n, -1, np.int64)
    point_root[order] = np.where(core_s, roots[cell_of], -1)
    core_roots = point_root[core]
    uroots, first_at = np.unique(core_roots, return_index=True)
    root_label = np.full(len(ukeys), -1, np.int64)
    root_label[uroots[np.argsort(first_at)]] = np.arange(len(uroots))
    cell_label = np.where(roots >= 0, root_label[np.maximum(roots, 0)], -1)
    lab_s = _border(px, py, core_s, start, end, nbr, len(INNER), eps * eps, cell_label)
    labels = np.empty(n, np.int64)
    labels[order] = lab_s
    return labels, core

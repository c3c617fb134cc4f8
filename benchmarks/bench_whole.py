"""Benchmark: whole calls (GeoDataFrame in, result out) against each peer as its best users
run it, interleaved, minimum of several runs, with the accuracy beside every time.

Run by hand from the repository root::

    python benchmarks/bench_whole.py --n 1000000 --repeats 5

Data: synthetic St. Louis incidents (``synthesize(scale=n / 166,486)``) moved to the
nearest of ``--addresses`` address points (drawn from the same synthetic surface), so that
incidents pile up on addresses as geocoded police data do (the real 2017-2019 SLMPD
exports hold 138k incidents at 44k locations).

Cases (ours first, then the peer; each repetition runs every case once, in turn, so that
a burst of load on a shared machine hits both sides):

* ``kde``: Gaussian kernel, standard deviation 300 m, 50 m cells over the city's land.
  Ours: ``kde(incidents, study_area=land)`` end to end, and ``kde(points)`` on
  :func:`~impactzones.hotspots.prepare_points` made once (the extraction is timed on its
  own). KDEpy: ``FFTKDE(bw=0.3)`` on the same coordinates in km (its best set-up: its
  fixed truncation is in data units), from arrays (we give it the extraction for free),
  evaluated on the cell centres; and the same with the coordinates taken from the
  GeoDataFrame (``geometry.x``, ``geometry.y``; no study-area test), as a KDEpy user
  starts. Error: largest relative error against the exact sum on 3,000 random cells above
  1% of the maximum.
* ``dbscan``: eps 150 m, min_samples 3 x the even-spread count. Ours: ``dbscan(incidents,
  study_area=land)`` with cluster outlines. scikit-learn: ``np.unique`` on the coordinates, then
  ``DBSCAN(eps, min_samples).fit(unique, sample_weight=counts)`` (no outlines). Check:
  the two partitions of the incidents are identical.
* ``assign``: districts, neighborhoods, zones and rings. Ours: ``assign()``. geopandas:
  ``sjoin`` of the points with districts, neighborhoods and zones (three joins). Check:
  the district and neighborhood of every incident agree.
* ``gistar``: 60 m cells, 999 permutations. Ours: ``gistar(incidents, study_area=land)``.
  esda: ``G_Local(star=True)`` with queen-lattice weights built directly from a sparse
  matrix (its fastest: ``WSP(...).to_W()``), weights timed inside. Check: max |z| diff.
* ``help``: ``impactzones --help`` in a fresh interpreter, against bare ``python -c pass``.

Prints one row per case with the minimum wall time and its ratio row / ours, the minimum
CPU time (all threads, and child processes for ``help``) and its ratio, the check, and the
load average. On a shared machine the CPU-time ratio moves less with the load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")


def address_like(n: int, addresses: int, seed: int = 1):
    """``n`` synthetic incidents snapped to ``addresses`` address points."""
    from scipy.spatial import cKDTree

    from impactzones.core.geo import st_louis, xy
    from impactzones.datasets.synth import synthesize

    layers = st_louis()
    inc = synthesize(seed=seed, scale=max(n / 166_486, 0.01), layers=layers).incidents
    if len(inc) > n:
        inc = inc.iloc[np.sort(np.random.default_rng(0).choice(len(inc), n, replace=False))]
    x, y = xy(inc)
    rng = np.random.default_rng(seed + 1)
    pick = rng.choice(len(x), size=min(addresses, len(x)), replace=False)
    ax, ay = np.round(x[pick], 1), np.round(y[pick], 1)
    _, nearest = cKDTree(np.column_stack([ax, ay])).query(np.column_stack([x, y]))
    import geopandas as gpd

    inc = inc.set_geometry(gpd.points_from_xy(ax[nearest], ay[nearest], crs=inc.crs))
    return inc.reset_index(drop=True), layers


def exact_gauss(x, y, qx, qy, s):
    """The exact Gaussian sum (per km^2) at the query points: over the unique locations
    weighted by their counts (the same sum), a few queries at a time (the neighbour lists
    of 3,000 queries at once held several GB)."""
    from scipy.spatial import cKDTree

    u, n = np.unique(np.column_stack([x, y]), axis=0, return_counts=True)
    tree = cKDTree(u)
    q = np.column_stack([qx, qy])
    out = np.zeros(len(qx))
    for lo in range(0, len(q), 64):
        for i, idx in enumerate(tree.query_ball_point(q[lo : lo + 64], 5 * s), start=lo):
            if idx:
                d2 = (u[idx, 0] - qx[i]) ** 2 + (u[idx, 1] - qy[i]) ** 2
                out[i] = (n[idx] * np.exp(-d2 / (2 * s * s)) / (2 * np.pi * s * s)).sum()
    return out * 1e6


def max_rel(got, ref):
    big = ref > 0.01 * ref.max()
    return float(np.max(np.abs(got[big] - ref[big]) / ref[big]))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def kde_cases(inc, layers):
    from KDEpy import FFTKDE

    from impactzones.hotspots import kde, prepare_points

    land = layers.land
    extract, pts = timed(lambda: prepare_points(inc, land))
    s0 = kde(pts, cell_size=50, bandwidth=300, kernel="gaussian")
    grid = s0.grid
    cx, cy = grid.centres()
    m = grid.mask
    pick = np.random.default_rng(0).choice(m.sum(), size=min(3000, int(m.sum())), replace=False)
    ref = exact_gauss(pts.x, pts.y, cx[m][pick], cy[m][pick], 300.0)
    xs = np.concatenate([[cx.min() - 50], np.unique(cx), [cx.max() + 50]]) / 1000
    ys = np.concatenate([[cy.min() - 50], np.unique(cy), [cy.max() + 50]]) / 1000
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    grid_km = np.column_stack([gx.ravel(), gy.ravel()])
    data_km = np.column_stack([pts.x, pts.y]) / 1000

    def ours():
        return kde(inc, cell_size=50, bandwidth=300, kernel="gaussian", study_area=land)

    def ours_points():
        return kde(pts, cell_size=50, bandwidth=300, kernel="gaussian")

    def kdepy():
        vals = FFTKDE(kernel="gaussian", bw=0.3).fit(data_km).evaluate(grid_km)
        return vals.reshape(len(xs), len(ys)).T[::-1][1:-1, 1:-1] * len(data_km)

    def kdepy_frame():  # as its users start: coordinates from the frame (no study area)
        g = inc.geometry
        data = np.column_stack([g.x.to_numpy(), g.y.to_numpy()]) / 1000
        vals = FFTKDE(kernel="gaussian", bw=0.3).fit(data).evaluate(grid_km)
        return vals.reshape(len(xs), len(ys)).T[::-1][1:-1, 1:-1] * len(data)

    def err_ours(s):
        return f"max rel err {max_rel(s.values[m][pick], ref):.1e}"

    def err_kdepy(dens):
        return f"max rel err {max_rel(dens[m][pick], ref):.1e}"  # per km^2 already

    return {
        "kde: ours, GeoDataFrame in": (ours, err_ours),
        "kde: ours, on prepared Points": (ours_points, err_ours),
        "kde: KDEpy FFTKDE in km (arrays)": (kdepy, err_kdepy),
        "kde: KDEpy, coordinates from the GeoDataFrame": (kdepy_frame, None),
    }, f"prepare_points (once): {extract:.3f} s"


def dbscan_cases(inc, layers):
    from sklearn.cluster import DBSCAN

    from impactzones.hotspots import dbscan, prepare_points
    from impactzones.hotspots.dbscan import auto_parameters

    land = layers.land
    pts = prepare_points(inc, land)
    ms = int(auto_parameters(pts.x, pts.y, np.ones(len(pts.x)), land.area, eps=150.0)[1])
    xy_in = np.column_stack([pts.x, pts.y])
    ref = {}

    def ours():
        return dbscan(inc, eps=150, min_samples=ms, study_area=land)

    def sklearn():
        u, inv, n = np.unique(xy_in, axis=0, return_inverse=True, return_counts=True)
        lab = DBSCAN(eps=150, min_samples=ms).fit(u, sample_weight=n).labels_
        return lab[inv.ravel()]

    def check_ours(res):
        ref["ours"] = res.labels.to_numpy()[pts.positions]
        return f"{res.params['clusters']} clusters, {res.params['unique_locations']:,} locations"

    def check_sk(lab):
        a = ref.get("ours")
        if a is None:
            return ""
        # scikit-learn numbers clusters in its (sorted) order and may give a border point
        # reachable from two clusters to the other one: map labels, count the differences
        pairs, n = np.unique(np.column_stack([a, lab]), axis=0, return_counts=True)
        best = {}
        for (p, q), k in zip(pairs.tolist(), n.tolist(), strict=True):
            if k > best.get(p, (None, -1))[1]:
                best[p] = (q, k)
        agree = sum(k for _p, (_q, k) in best.items())
        return f"clusters matched; {len(a) - agree:,} incidents labelled differently"

    return {
        "dbscan: ours with outlines": (ours, check_ours),
        "dbscan: sklearn, unique locations + weights": (sklearn, check_sk),
    }, f"min_samples {ms:g}"


def assign_cases(inc, layers):
    import geopandas as gpd

    from impactzones.assign import assign

    ref = {}

    def ours():
        return assign(inc, layers)

    def sjoin():
        pts = gpd.GeoDataFrame(geometry=inc.geometry.array, crs=inc.crs)
        out = []
        for layer, col in (
            (layers.districts, "district"),
            (layers.neighborhoods, "neighborhood"),
            (layers.zones, "name"),
        ):
            j = gpd.sjoin(pts, layer[[col, "geometry"]], how="left", predicate="intersects")
            out.append(j[~j.index.duplicated()][col])
        return out

    def check_ours(res):
        ref["d"] = res["district"].to_numpy(dtype=float, na_value=np.nan)
        return ""

    def check_sj(out):
        d = out[0].to_numpy(dtype=float)
        a = ref.get("d")
        return "" if a is None else f"districts agree: {bool(np.array_equal(a, d, equal_nan=True))}"

    return {
        "assign: ours (districts, neighborhoods, zones, rings)": (ours, check_ours),
        "assign: geopandas.sjoin x3 (no rings)": (sjoin, check_sj),
    }, ""


def gistar_cases(inc, layers):
    import esda
    import libpysal
    from scipy import sparse

    from impactzones.core.grid import make_grid
    from impactzones.hotspots import gistar, prepare_points

    land = layers.land
    pts = prepare_points(inc, land)
    g = make_grid(land, inc.crs, 60)
    counts = g.counts(pts.x, pts.y)[g.mask].astype(float)
    rows, cols = np.nonzero(g.mask)
    idx = -np.ones(g.shape, np.int64)
    idx[rows, cols] = np.arange(len(rows))
    ref = {}

    def weights():
        i_all, j_all = [], []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr == dc == 0:
                    continue
                r, c = rows + dr, cols + dc
                ok = (r >= 0) & (r < g.height) & (c >= 0) & (c < g.width)
                j = np.full(len(rows), -1)
                j[ok] = idx[r[ok], c[ok]]
                keep = j >= 0
                i_all.append(np.flatnonzero(keep))
                j_all.append(j[keep])
        i, j = np.concatenate(i_all), np.concatenate(j_all)
        a = sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(len(rows), len(rows)))
        return libpysal.weights.WSP(a).to_W(silence_warnings=True)

    w_small = weights()
    esda.G_Local(counts, w_small, transform="B", star=True, permutations=9, seed=0)

    def ours():
        return gistar(inc, cell_size=60, study_area=land, permutations=999, seed=0)

    def peer():
        return esda.G_Local(
            counts, weights(), transform="B", star=True, permutations=999, seed=0,
            keep_simulations=False,
        )  # fmt: skip

    def check_ours(res):
        ref["z"] = res.Zs
        return f"{res.params['cells']:,} cells"

    def check_peer(res):
        z = ref.get("z")
        return "" if z is None else f"max |z ours - z esda| {np.nanmax(np.abs(z - res.Zs)):.1e}"

    return {
        "gistar: ours, 999 permutations": (ours, check_ours),
        "gistar: esda G_Local, lattice weights built": (peer, check_peer),
    }, ""


def help_cases():
    exe = sys.executable
    env = dict(os.environ, PYTHONPATH=os.getcwd())

    def run(args):
        return lambda: subprocess.run([exe, *args], env=env, capture_output=True, check=True)

    return {
        "cli: impactzones --help": (run(["-m", "impactzones", "--help"]), None),
        "cli: python -c pass (interpreter alone)": (run(["-c", "pass"]), None),
        "cli: python -c 'import impactzones'": (run(["-c", "import impactzones"]), None),
    }, ""


def dbscan_scaling(inc, layers, factors, addresses: int, repeats: int = 1) -> None:
    """dbscan() at k x the incidents (each copy jittered by up to 20 m, then snapped to the
    addresses: address-like), and the same core on all-unique locations (not snapped);
    the minimum of ``repeats`` runs of each."""
    import geopandas as gpd
    from scipy.spatial import cKDTree

    from impactzones.core.geo import xy
    from impactzones.hotspots import dbscan
    from impactzones.hotspots._dbscan_grid import grid_dbscan
    from impactzones.hotspots.dbscan import unique_locations

    x0, y0 = xy(inc)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(x0), size=min(addresses, len(x0)), replace=False)
    ax, ay = np.round(x0[pick], 1), np.round(y0[pick], 1)
    tree = cKDTree(np.column_stack([ax, ay]))
    land = layers.land

    def core(x, y, ms):
        ux, uy, c, _inv = unique_locations(x, y)
        grid_dbscan(ux, uy, 150.0, ms, c)
        return len(ux)

    print(
        f"{'dbscan scaling':28} {'n':>10} {'locations':>10} {'seconds':>8} {'s per M':>8}"
        f"  load (minimum of {repeats})"
    )
    for k in factors:
        x = np.concatenate([x0 + rng.uniform(-20, 20, len(x0)) for _ in range(k)])
        y = np.concatenate([y0 + rng.uniform(-20, 20, len(y0)) for _ in range(k)])
        ms = max(5.0, np.ceil(3 * len(x) / land.area * np.pi * 150**2))
        runs = [timed(lambda x=x, y=y, ms=ms: core(x, y, ms)) for _ in range(repeats)]
        sec, locs = min(runs)[0], runs[0][1]
        n = len(x)
        print(
            f"{'core, all-unique':28} {n:>10,} {locs:>10,} {sec:8.2f} {sec / n * 1e6:8.2f}"
            f"  {os.getloadavg()[0]:.1f}"
        )
        _, nn = tree.query(np.column_stack([x, y]))
        del x, y
        g = gpd.GeoDataFrame(geometry=gpd.points_from_xy(ax[nn], ay[nn]), crs=inc.crs)
        runs = [
            timed(lambda g=g, ms=ms: dbscan(g, eps=150, min_samples=ms, study_area=land))
            for _ in range(repeats)
        ]
        t, locs = min(r[0] for r in runs), runs[0][1].params["unique_locations"]
        print(
            f"{'dbscan(), address-like':28} {n:>10,} {locs:>10,} {t:8.2f} {t / n * 1e6:8.2f}"
            f"  {os.getloadavg()[0]:.1f}"
        )
        del g, runs


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its finished children."""
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def interleave(cases: dict, repeats: int) -> list[tuple[str, float, float, str]]:
    """Each repetition runs every case once, in turn; the minimum wall time and the minimum
    CPU time of each are kept (on a shared machine the CPU time moves less with the load:
    waiting for a core is not counted, though a busy neighbour still slows the caches)."""
    best = {k: float("inf") for k in cases}
    best_cpu = {k: float("inf") for k in cases}
    notes = {k: "" for k in cases}
    for _ in range(repeats):
        for name, (fn, check) in cases.items():
            c0 = cpu_seconds()
            dt, out = timed(fn)
            best_cpu[name] = min(best_cpu[name], cpu_seconds() - c0)
            best[name] = min(best[name], dt)
            if check is not None and not notes[name]:
                notes[name] = str(check(out))
            del out
    return [(k, best[k], best_cpu[k], notes[k]) for k in cases]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="incidents (default 1,000,000)")
    ap.add_argument(
        "--addresses", type=int, default=150_000, help="address points (default 150,000)"
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="runs of each case, the minimum kept (default 5; dbscan-scaling too)",
    )
    ap.add_argument(
        "--only",
        nargs="+",
        choices=["kde", "dbscan", "assign", "gistar", "help", "dbscan-scaling"],
        help="run only these groups of cases (default: all but dbscan-scaling)",
    )
    ap.add_argument(
        "--factors",
        nargs="+",
        type=int,
        default=[1, 2, 5],
        help="dbscan-scaling: multiples of --n to run (default 1 2 5)",
    )
    args = ap.parse_args()
    groups = args.only or ["kde", "dbscan", "assign", "gistar", "help"]
    t, (inc, layers) = timed(lambda: address_like(args.n, args.addresses))
    print(
        f"{len(inc):,} incidents at {inc.geometry.drop_duplicates().size:,} locations "
        f"(made in {t:.1f} s); {args.repeats} interleaved runs, minimum shown; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    # warm up compiled code outside the timing (numba caches across processes)
    from impactzones.hotspots import dbscan, kde

    kde(inc.iloc[:5000], cell_size=50, bandwidth=300, kernel="gaussian", study_area=layers.land)
    dbscan(inc.iloc[:5000], eps=150, min_samples=5)
    makers = {
        "kde": lambda: kde_cases(inc, layers),
        "dbscan": lambda: dbscan_cases(inc, layers),
        "assign": lambda: assign_cases(inc, layers),
        "gistar": lambda: gistar_cases(inc, layers),
        "help": help_cases,
    }
    print(f"{'case':56} {'seconds':>8} {'x ours':>7} {'cpu s':>7} {'x ours':>7}  check")
    for group in groups:
        if group == "dbscan-scaling":
            dbscan_scaling(inc, layers, args.factors, args.addresses, args.repeats)
            continue
        cases, note = makers[group]()
        rows = interleave(cases, args.repeats)
        ours, ours_cpu = rows[0][1], rows[0][2]
        for name, sec, cpu, check in rows:
            print(
                f"{name:56} {sec:8.3f} {sec / ours:7.2f} {cpu:7.3f} {cpu / ours_cpu:7.2f}  {check}"
            )
        if note:
            print(f"{'':56} {'':8} {'':7} {'':7} {'':7}  ({note})")
        print(f"{'':56} (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

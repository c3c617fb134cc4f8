"""Benchmark: our hot-spot methods against the reference libraries, side by side.

Run by hand from the repository root::

    python benchmarks/bench_hotspots.py [--sizes 10000 100000 1000000] [--quick]

Every case runs in a fresh Python process, so that its peak memory (the rise in resident
memory over the process after loading the data) is its own. Cases:

* KDE on a 50 m grid over the city's land: quartic with a 300 m radius, ours against an
  exact KD-tree sum (the truth); Gaussian with a 300 m standard deviation, ours against
  scikit-learn's ``KernelDensity`` (exact, rtol 1e-8) and KDEpy's ``FFTKDE`` if installed
  (its ``bw`` is the standard deviation; run in km, as its users do). scikit-learn is
  timed on a sample of cells and scaled up when the full job would take minutes. Ours is
  timed end to end (GeoDataFrame in, masked surface out) and, as "core", on arrays like
  KDEpy.
* DBSCAN, eps 150 m, min_samples 3x the even-spread count: ours vs scikit-learn on the raw
  points (skipped where its neighbour lists would not fit in memory; ``bench_whole.py``
  runs scikit-learn as its best users do, on unique locations with ``sample_weight``).
* Gi*, 60 m cells (about 44k cells), 999 permutations: ours vs building libpysal weights
  and calling esda's ``G_Local`` (z compared cell by cell).

Prints a table with times, ratios (reference / ours), peak memory and the largest
relative error against the reference on cells above 1% of the maximum.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

# scratch files passed between the cases' processes: never in the repository
HERE = os.path.join(__import__("tempfile").gettempdir(), "impactzones-bench")
os.makedirs(HERE, exist_ok=True)


def _status(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> float:
    """Reset the process's peak resident memory (Linux) and return the current one (MB)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _status("VmRSS")


def _peak_since(base: float) -> float:
    return round(_status("VmHWM") - base, 1)


def load(n: int):
    from impactzones.core.geo import st_louis
    from impactzones.datasets.synth import synthesize

    layers = st_louis()
    scale = max(n / 166_486, 0.01)
    inc = synthesize(seed=1, scale=scale).incidents
    if len(inc) > n:
        inc = inc.sample(n=n, random_state=0).sort_index()
    return inc, layers


def exact_density(x, y, qx, qy, kernel, bw):
    from scipy.spatial import cKDTree

    from impactzones.hotspots.kde import kernel_values

    tree = cKDTree(np.column_stack([x, y]))
    radius = bw if kernel == "quartic" else 5 * bw
    out = np.zeros(len(qx))
    for i, idx in enumerate(tree.query_ball_point(np.column_stack([qx, qy]), radius)):
        if idx:
            d2 = (x[idx] - qx[i]) ** 2 + (y[idx] - qy[i]) ** 2
            out[i] = kernel_values(kernel, d2, bw).sum()
    return out * 1e6


def max_rel(got, ref):
    big = ref > 0.01 * ref.max()
    return float(np.max(np.abs(got[big] - ref[big]) / ref[big]))


def case(name: str, n: int) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    import shapely

    from impactzones.core.geo import xy
    from impactzones.core.grid import make_grid
    from impactzones.hotspots import dbscan, gistar, kde
    from impactzones.hotspots.kde import density_on_grid

    inc, layers = load(n)
    land = layers.land
    x, y = xy(inc)
    inside = shapely.contains_xy(land, x, y)
    xi, yi = x[inside], y[inside]
    grid = make_grid(land, inc.crs, 50)
    cx, cy = grid.centres()
    m = grid.mask
    pick = np.random.default_rng(0).choice(m.sum(), size=min(3000, m.sum()), replace=False)
    out = {"case": name, "n": len(inc)}
    if "-ours" in name:  # warm up compiled code, threads and imports outside the timing
        kde(inc.iloc[:60000], cell_size=50, bandwidth=300, study_area=land)
        kde(inc.iloc[:2000], cell_size=50, bandwidth=300, kernel="gaussian", study_area=land)
        dbscan(inc.iloc[:2000], eps=150, min_samples=5)
        gistar(inc.iloc[:2000], cell_size=60, study_area=land, permutations=9)
    base = _reset_peak()
    if name.startswith("kde-ours"):
        kernel = name.rsplit("-", 1)[1]
        t = time.perf_counter()
        s = kde(inc, cell_size=50, bandwidth=300, kernel=kernel, study_area=land)
        out["seconds"] = time.perf_counter() - t
        out["peak_mb"] = _peak_since(base)
        t = time.perf_counter()
        density_on_grid(s.grid, xi, yi, np.ones(len(xi)), kernel, 300.0)
        out["core_seconds"] = time.perf_counter() - t
        ref = exact_density(xi, yi, cx[m][pick], cy[m][pick], kernel, 300)
        out["max_rel_error"] = max_rel(s.values[m][pick], ref)
        out["method"] = s.params["method"]
        out["grid"] = f"{s.grid.height} x {s.grid.width}"
    elif name == "kde-sklearn":
        from sklearn.neighbors import KernelDensity

        q = np.column_stack([cx[m], cy[m]])
        t = time.perf_counter()
        model = KernelDensity(bandwidth=300, kernel="gaussian", rtol=1e-8).fit(
            np.column_stack([xi, yi])
        )
        sample = q if len(inc) <= 100_000 else q[:: max(1, len(q) // 2000)]
        model.score_samples(sample)
        out["seconds"] = (time.perf_counter() - t) * len(q) / len(sample)
        out["peak_mb"] = _peak_since(base)
        out["note"] = "" if len(sample) == len(q) else f"timed on {len(sample)} cells, scaled"
    elif name == "kde-kdepy":
        try:
            from KDEpy import FFTKDE
        except ImportError:
            return out | {"seconds": None, "note": "KDEpy not installed"}
        # a sorted grid (x, then y ascending) with one extra cell on every side, so that it
        # covers every point
        xs = np.concatenate([[cx.min() - 50], np.unique(cx), [cx.max() + 50]])
        ys = np.concatenate([[cy.min() - 50], np.unique(cy), [cy.max() + 50]])
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        # in km, as its users run it: FFTKDE truncates its kernel at a fixed distance in
        # data units, which in metres cuts the Gaussian short (errors of about 28%)
        grid_pts = np.column_stack([gx.ravel(), gy.ravel()]) / 1000
        data = np.column_stack([xi, yi]) / 1000
        t = time.perf_counter()
        vals = FFTKDE(kernel="gaussian", bw=0.3).fit(data).evaluate(grid_pts)
        out["seconds"] = time.perf_counter() - t
        out["peak_mb"] = _peak_since(base)
        dens = vals.reshape(len(xs), len(ys)).T[::-1][1:-1, 1:-1] * len(data)
        ref = exact_density(xi, yi, cx[m][pick], cy[m][pick], "gaussian", 300)
        out["max_rel_error"] = max_rel(dens[m][pick], ref)
    elif name == "dbscan-ours":
        t = time.perf_counter()
        res = dbscan(inc, eps=150, study_area=land)
        out["seconds"] = time.perf_counter() - t
        out["peak_mb"] = _peak_since(base)
        out["clusters"] = res.params["clusters"]
        np.save(os.path.join(HERE, f".labels_{len(inc)}.npy"), res.labels.to_numpy())
    elif name == "dbscan-sklearn":
        from sklearn.cluster import DBSCAN

        if len(inc) > 300_000:
            return out | {
                "seconds": None,
                "note": "skipped: neighbour lists need ~19 GB at 1M (out of memory)",
            }
        from impactzones.hotspots.dbscan import auto_parameters

        # the min_samples our run chose for eps = 150 m
        ms = int(auto_parameters(xi, yi, np.ones(len(xi)), land.area, eps=150.0)[1])
        t = time.perf_counter()
        lab = DBSCAN(eps=150, min_samples=ms).fit(np.column_stack([xi, yi])).labels_
        out["seconds"] = time.perf_counter() - t
        out["peak_mb"] = _peak_since(base)
        path = os.path.join(HERE, f".labels_{len(inc)}.npy")
        if os.path.exists(path):
            out["labels_equal"] = bool((np.load(path)[inside] == lab).all())
            os.remove(path)
    elif name == "gistar-ours":
        t = time.perf_counter()
        g = gistar(inc, cell_size=60, study_area=land, permutations=999, seed=0)
        out["seconds"] = time.perf_counter() - t
        out["peak_mb"] = _peak_since(base)
        out["cells"] = g.params["cells"]
        np.save(os.path.join(HERE, f".z_{len(inc)}.npy"), g.Zs)
    elif name == "gistar-esda":
        import esda
        import libpysal

        g = make_grid(land, inc.crs, 60)
        counts = g.counts(xi, yi)[g.mask].astype(float)
        gx, gy = g.centres()
        pts = np.column_stack([gx[g.mask], gy[g.mask]])
        wsmall = libpysal.weights.DistanceBand(
            pts[:500], threshold=60 * np.sqrt(2) + 1e-6, binary=True, silence_warnings=True
        )
        esda.G_Local(
            counts[:500],
            wsmall,
            transform="B",
            star=True,
            permutations=9,
            seed=0,
            keep_simulations=False,
        )  # warm up esda's compiled code
        base = _reset_peak()
        t = time.perf_counter()
        w = libpysal.weights.DistanceBand(
            pts, threshold=60 * np.sqrt(2) + 1e-6, binary=True, silence_warnings=True
        )
        ref = esda.G_Local(
            counts, w, transform="B", star=True, permutations=999, seed=0, keep_simulations=False
        )
        out["seconds"] = time.perf_counter() - t
        out["peak_mb"] = _peak_since(base)
        path = os.path.join(HERE, f".z_{len(inc)}.npy")
        if os.path.exists(path):
            out["max_abs_z_diff"] = float(np.nanmax(np.abs(np.load(path) - ref.Zs)))
            os.remove(path)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes",
        nargs="+",
        type=int,
        default=[10_000, 100_000, 1_000_000],
        help="incident counts to run (default 10000 100000 1000000)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="only 10,000 and 100,000 incidents (a minute)"
    )
    ap.add_argument("--case", help="run one case in this process (used internally)")
    ap.add_argument("--n", type=int, help="incidents for --case")
    args = ap.parse_args()
    if args.quick:
        args.sizes = [n for n in args.sizes if n <= 100_000] or [10_000]
    if args.case:
        print(json.dumps(case(args.case, args.n)))
        return
    rows = []
    for n in args.sizes:
        for name in (
            "kde-ours-quartic",
            "kde-ours-gaussian",
            "kde-sklearn",
            "kde-kdepy",
            "dbscan-ours",
            "dbscan-sklearn",
            "gistar-ours",
            "gistar-esda",
        ):
            proc = subprocess.run(
                [sys.executable, __file__, "--case", name, "--n", str(n)],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                rows.append(
                    {
                        "case": name,
                        "n": n,
                        "note": "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:60],
                    }
                )
            else:
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(
        f"{'case':20} {'n':>9} {'seconds':>9} {'x ours':>7} {'peak MB':>8} {'max rel err':>12}"
        "  notes   (x ours: this row's time / ours on the same job)"
    )
    # each reference is compared with our run of the same job
    pair = {
        "kde-sklearn": "kde-ours-gaussian",
        "kde-kdepy": "kde-ours-gaussian",
        "dbscan-sklearn": "dbscan-ours",
        "gistar-esda": "gistar-ours",
    }
    ours = {(r["case"], r["n"]): r.get("seconds") for r in rows}
    for r in rows:
        key = (pair.get(r["case"], r["case"]), r["n"])
        sec = r.get("seconds")
        ratio = f"{sec / ours[key]:.1f}" if sec is not None and ours.get(key) else ""
        err = r.get("max_rel_error", r.get("max_abs_z_diff"))
        notes = [str(r[k]) for k in ("note", "method") if r.get(k)]
        if r.get("core_seconds") is not None:
            notes.insert(0, f"core on arrays {r['core_seconds']:.3f} s")
        if "labels_equal" in r:
            notes.append(f"labels equal to ours: {r['labels_equal']}")
        if "max_abs_z_diff" in r:
            notes.append("error column: max |z ours - z esda|")
        print(
            f"{r['case']:20} {r.get('n', ''):>9} "
            f"{(f'{sec:.3f}' if sec is not None else '-'):>9} {ratio:>7} "
            f"{r.get('peak_mb', ''):>8} {(f'{err:.1e}' if err is not None else ''):>12}  "
            + "; ".join(notes)
        )


if __name__ == "__main__":
    main()

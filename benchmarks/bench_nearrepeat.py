"""Benchmark: the near-repeat table (Knox test over space x time bands) against its peers.

Run by hand from the repository root::

    python benchmarks/bench_nearrepeat.py [--sizes 10000 100000] [--permutations 19] [--runs 3]

Incidents are a sample of the synthetic St. Louis generator's (clustered like real crime),
times in days. Cases, run interleaved (each repetition runs every method in turn, so a
burst of load on the shared machine hits all of them) and the minimum of ``--runs`` kept:

* ours: :func:`impactzones.evaluate.nearrepeat.near_repeat`, 4 distance bands of 100 m x 4
  time bands of 7 days, ``--permutations`` Monte Carlo permutations of the times.
* scipy cKDTree: the same table the obvious way with the best off-the-shelf index:
  ``cKDTree.query_pairs(400 m)`` for the pairs, then the same per-permutation band counts.
  Its tables must equal ours exactly (checked).
* pointpats ``Knox`` (if installed: ``pip install pointpats``): the 2x2 Knox test of one
  band (0-100 m, 0-7 days) with the same number of permutations; run only up to
  ``--pointpats-max`` incidents (its set-based neighbour lists grow with n^2 / days).
  Its space-time pair count must equal our first cell (checked).

Prints a table of times and ratios (peer / ours).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

# the package and pandas are imported where used, so that --help answers at once

S_BAND, S_BANDS, T_BAND, T_BANDS = 100.0, 4, 7.0, 4


def _data(n: int, seed: int = 1):
    import pandas as pd

    from impactzones.datasets.synth import synthesize

    scale = max(n / 150_000, 0.1) * 1.2
    inc = synthesize(seed=seed, scale=scale).incidents
    inc = inc.sample(n=min(n, len(inc)), random_state=seed)
    t = (inc["occurred_at"] - pd.Timestamp("2000-01-01")).dt.total_seconds().to_numpy() / 86400
    return inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy(), t


def ours(x, y, t, perms):
    from impactzones.evaluate.nearrepeat import near_repeat

    r = near_repeat(
        x,
        y,
        t,
        spatial_bandwidth=S_BAND,
        spatial_bands=S_BANDS,
        temporal_bandwidth=T_BAND,
        temporal_bands=T_BANDS,
        permutations=perms,
        seed=0,
    )
    return r.observed.to_numpy()


def kdtree_peer(x, y, t, perms):
    """The same table with scipy's cKDTree pair query and the same permutations."""
    from scipy.spatial import cKDTree

    s_edges = S_BAND * np.arange(1, S_BANDS + 1)
    t_edges = T_BAND * np.arange(1, T_BANDS + 1)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(s_edges[-1], output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    sb = np.searchsorted(s_edges, np.hypot(x[i] - x[j], y[i] - y[j]), side="left")
    rng = np.random.default_rng(0)
    order = [np.arange(len(t))] + [rng.permutation(len(t)) for _ in range(perms)]
    tables = []
    for perm in order:
        tp = t[perm]
        tb = np.searchsorted(t_edges, np.abs(tp[i] - tp[j]), side="left")
        keep = tb < T_BANDS
        tables.append(
            np.bincount(sb[keep] * T_BANDS + tb[keep], minlength=S_BANDS * T_BANDS).reshape(
                S_BANDS, T_BANDS
            )
        )
    return tables[0]


def pointpats_peer(x, y, t, perms):
    from pointpats.spacetime import Knox

    k = Knox(
        np.column_stack([x, y]), t.reshape(-1, 1), delta=S_BAND, tau=T_BAND, permutations=perms
    )
    return k.observed[0, 0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="incident counts to run at (default 10000 100000)",
    )
    ap.add_argument(
        "--permutations", type=int, default=19, help="Monte Carlo permutations (default 19)"
    )
    ap.add_argument(
        "--runs", type=int, default=3, help="repetitions; the minimum is kept (default 3)"
    )
    ap.add_argument(
        "--pointpats-max",
        type=int,
        default=10_000,
        help="largest size pointpats' Knox is run at (default 10000)",
    )
    args = ap.parse_args()
    import pandas as pd

    try:
        import pointpats  # noqa: F401

        have_pp = True
    except ImportError:
        have_pp = False
    rows = []
    for n in args.sizes:
        x, y, t = _data(n)
        cases = {"ours": ours, "scipy cKDTree": kdtree_peer}
        if have_pp and n <= args.pointpats_max:
            cases["pointpats Knox (1 band)"] = pointpats_peer
        best = {k: float("inf") for k in cases}
        got = {}
        for _ in range(args.runs):
            for name, fn in cases.items():
                t0 = time.perf_counter()
                got[name] = fn(x, y, t, args.permutations)
                best[name] = min(best[name], time.perf_counter() - t0)
        assert np.array_equal(got["ours"], got["scipy cKDTree"]), "tables differ"
        if "pointpats Knox (1 band)" in got:
            assert got["pointpats Knox (1 band)"] == got["ours"][0, 0], "Knox counts differ"
        for name in cases:
            rows.append(
                {
                    "incidents": f"{len(x):,}",
                    "method": name,
                    "seconds": round(best[name], 3),
                    "peer / ours": round(best[name] / best["ours"], 2),
                }
            )
    print(
        f"{args.permutations} permutations, minimum of {args.runs} interleaved runs; "
        f"bands 4 x {S_BAND:g} m by 4 x {T_BAND:g} days; tables checked equal."
    )
    print(pd.DataFrame(rows).to_string(index=False))
    if not have_pp:
        print("pointpats is not installed: `pip install pointpats` adds its Knox row.")


if __name__ == "__main__":
    main()

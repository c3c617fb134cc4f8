"""Near-repeat patterns: the Knox test and the near-repeat table of Ratcliffe's Near Repeat
Calculator.

Every pair of incidents is classed by its distance into **spatial bands** (``[0, b]``,
``(b, 2b]``, ...; optionally a first band for the same location, under half a metre) and by
the days between them into **temporal bands** (``[0, w]``, ``(w, 2w]``, ... days). The
observed pair count of each cell of that table is compared with the counts when the
incidents' times are shuffled among them (a Monte Carlo permutation, seeded), which keeps
the places and the times but breaks their link:

* the **expected** count is the mean over the permutations and the **Knox ratio** is
  observed / expected (above 1: more pairs close in space and time than chance gives);
* the Monte Carlo **p-value** of each cell is ``(1 + #{permutations >= observed}) / (1 +
  permutations)`` (Davison & Hinkley 1997; North, Curtis & Sham 2002), one-sided for an
  excess of pairs.

Pairs are found through a grid of cells as wide as the largest distance, so only the
incidents in neighbouring cells are compared (not all n^2 / 2 pairs); the pairs within
reach are found once, and each permutation only re-reads their times.

References: Knox, G. (1964). The detection of space-time interactions. *Applied
Statistics* 13, 25-29. Ratcliffe, J. H. (2009). Near Repeat Calculator (version 1.3).
Temple University and the National Institute of Justice. Johnson, S. D. et al. (2007).
Space-time patterns of risk: a cross national assessment of residential burglary
victimization. *Journal of Quantitative Criminology* 23, 201-219.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.defaults import PERMUTATIONS
from ..core.errors import InputError
from ..io.writers import write_png

__all__ = [
    "NearRepeat",
    "close_pairs",
    "near_repeat",
    "near_repeat_incidents",
    "plot_near_repeat",
]

SAME_PLACE_M = 0.5
_CHUNK = 4_000_000


@dataclass(frozen=True)
class NearRepeat:
    """A near-repeat table.

    Attributes
    ----------
    observed, expected, ratio, p_value : DataFrame
        Spatial bands (rows) x temporal bands (columns): observed pairs, mean pairs over
        the permutations, the Knox ratio and the Monte Carlo p-value.
    incidents : int
        Incidents used.
    permutations : int
        Permutations of the times.
    params : dict
        Bands, seed and permutations, for the record.
    verdict : str
        The strongest pattern in plain words.
    """

    observed: pd.DataFrame
    expected: pd.DataFrame
    ratio: pd.DataFrame
    p_value: pd.DataFrame
    incidents: int
    permutations: int
    params: dict = field(repr=False)
    verdict: str = ""

    def to_records(self) -> list[dict]:
        """One JSON-ready row per cell (spatial band, temporal band).

        Examples
        --------
        >>> r = near_repeat([0, 10, 500], [0, 0, 0], [0, 1, 2], permutations=9)
        >>> r.to_records()[0]["space"], r.to_records()[0]["time"]
        ('0-100 m', '0-7 days')
        """
        out = []
        for s in self.observed.index:
            for t in self.observed.columns:
                ratio = float(self.ratio.loc[s, t])
                out.append(
                    {
                        "space": s,
                        "time": t,
                        "observed": int(self.observed.loc[s, t]),
                        "expected": float(self.expected.loc[s, t]),
                        "knox_ratio": ratio if math.isfinite(ratio) else None,
                        "p_value": float(self.p_value.loc[s, t]),
                    }
                )
        return out


def _edges(bandwidth: float, bands: int) -> np.ndarray:
    if not (bandwidth > 0 and int(bands) >= 1):
        raise InputError("Band widths must be positive and there must be at least one band.")
    return bandwidth * np.arange(1, int(bands) + 1, dtype=float)


def _band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band index of each value (``[0, e0]`` is 0, ``(e0, e1]`` is 1, ...), -1 beyond."""
    b = np.searchsorted(edges, values, side="left")
    return np.where(b < len(edges), b, -1)


def close_pairs(x: np.ndarray, y: np.ndarray, max_distance: float):
    """Every pair ``i < j`` of points within ``max_distance`` (metres), found through a
    grid of cells ``max_distance`` wide: yields ``(i, j, distance)`` in chunks.

    Examples
    --------
    >>> x, y = np.array([0.0, 3.0, 50.0]), np.array([0.0, 4.0, 0.0])
    >>> [(i.tolist(), j.tolist(), d.tolist()) for i, j, d in close_pairs(x, y, 10)]
    [([0], [1], [5.0])]
    """
    n = len(x)
    if n < 2:
        return
    cell = float(max_distance)
    cx = np.floor((x - x.min()) / cell).astype(np.int64)
    cy = np.floor((y - y.min()) / cell).astype(np.int64)
    ny = int(cy.max()) + 3
    key = (cx + 1) * ny + (cy + 1)
    order = np.argsort(key, kind="stable")
    keys, starts, counts = np.unique(key[order], return_index=True, return_counts=True)
    for dx, dy in ((0, 0), (1, -1), (1, 0), (1, 1), (0, 1)):
        nb = keys + dx * ny + dy
        pos = np.searchsorted(keys, nb)
        pos = np.minimum(pos, len(keys) - 1)
        has = keys[pos] == nb
        a = np.flatnonzero(has)
        b = pos[has]
        sizes = counts[a] * counts[b]
        # cell pairs in groups of about _CHUNK point pairs
        bounds = np.searchsorted(np.cumsum(sizes), np.arange(_CHUNK, sizes.sum() + _CHUNK, _CHUNK))
        lo = 0
        for hi in np.unique(np.minimum(bounds + 1, len(a))):
            sa, sb = a[lo:hi], b[lo:hi]
            lo = hi
            if len(sa) == 0:
                continue
            rep = counts[sa] * counts[sb]
            owner = np.repeat(np.arange(len(sa)), rep)
            k = np.arange(rep.sum()) - np.repeat(np.cumsum(rep) - rep, rep)
            nbk = counts[sb][owner]
            i = order[starts[sa][owner] + k // nbk]
            j = order[starts[sb][owner] + k % nbk]
            if dx == 0 and dy == 0:
                keep = i < j
                i, j = i[keep], j[keep]
            d = np.hypot(x[i] - x[j], y[i] - y[j])
            keep = d <= max_distance
            yield i[keep], j[keep], d[keep]


def near_repeat(
    x,
    y,
    t,
    *,
    spatial_bandwidth: float = 100.0,
    spatial_bands: int = 4,
    temporal_bandwidth: float = 7.0,
    temporal_bands: int = 4,
    same_location: bool = False,
    permutations: int = 99,
    seed: int = 0,
) -> NearRepeat:
    """The near-repeat table of incidents at ``(x, y)`` (metres) and times ``t`` (days, or
    datetimes).

    Parameters
    ----------
    x, y : array-like
        Coordinates in metres.
    t : array-like
        Times: numbers of days, or datetimes.
    spatial_bandwidth, spatial_bands : float, int
        Distance bands ``[0, b]``, ``(b, 2b]``, ... (metres), ``spatial_bands`` of them.
    temporal_bandwidth, temporal_bands : float, int
        Day bands ``[0, w]``, ``(w, 2w]``, ..., ``temporal_bands`` of them.
    same_location : bool, default False
        Add a first spatial band for pairs at the same place (under 0.5 m apart); the
        next band then starts above it.
    permutations : int, default 99
        Monte Carlo permutations of the times.
    seed : int, default 0
        Seed of the permutations.

    Examples
    --------
    >>> r = near_repeat([0, 10, 20, 5000], [0, 0, 0, 0], [0, 1, 2, 3], permutations=19)
    >>> int(r.observed.iloc[0, 0]), float(r.p_value.iloc[0, 0])
    (3, 1.0)
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    t = _days(t)
    if not (len(x) == len(y) == len(t)):
        raise InputError("x, y and t must have the same length.")
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(t)
    x, y, t = x[ok], y[ok], t[ok]
    permutations = int(PERMUTATIONS.check(permutations, low=1))
    s_edges = _edges(spatial_bandwidth, spatial_bands)
    t_edges = _edges(temporal_bandwidth, temporal_bands)
    if same_location:
        s_edges = np.concatenate([[SAME_PLACE_M], s_edges])
    ns, nt = len(s_edges), len(t_edges)
    rng = np.random.default_rng(seed)
    perms = [np.arange(len(t))] + [rng.permutation(len(t)) for _ in range(int(permutations))]
    tables = np.zeros((len(perms), ns, nt), dtype=np.int64)
    for i, j, d in close_pairs(x, y, float(s_edges[-1])):
        sb = _band(d, s_edges)
        for k, perm in enumerate(perms):
            tp = t[perm]
            tb = _band(np.abs(tp[i] - tp[j]), t_edges)
            keep = tb >= 0
            tables[k] += np.bincount(sb[keep] * nt + tb[keep], minlength=ns * nt).reshape(ns, nt)
    return _result(tables, s_edges, t_edges, same_location, len(t), seed)


def _days(t) -> np.ndarray:
    arr = np.asarray(t)
    if np.issubdtype(arr.dtype, np.datetime64) or arr.dtype == object:
        ts = pd.to_datetime(pd.Series(np.asarray(t)), errors="coerce")
        return ((ts - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400).to_numpy(float)
    return arr.astype(float)


def _labels(edges: np.ndarray, unit: str, same: bool) -> list[str]:
    out = []
    lo = 0.0
    for k, e in enumerate(edges):
        if same and k == 0:
            out.append("same location")
        else:
            out.append(f"{lo:g}-{e:g} {unit}")
        lo = e
    return out


def _result(tables, s_edges, t_edges, same, n, seed) -> NearRepeat:
    obs, sims = tables[0], tables[1:]
    exp = sims.mean(axis=0)
    ge = (sims >= obs[None]).sum(axis=0)
    p = (1 + ge) / (1 + len(sims))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(exp > 0, obs / exp, np.nan)
    rows = _labels(s_edges, "m", same)
    cols = _labels(t_edges, "days", False)

    def frame(a):
        return pd.DataFrame(a, index=rows, columns=cols)

    params = {
        "spatial_edges_m": s_edges.tolist(),
        "temporal_edges_days": t_edges.tolist(),
        "same_location": same,
        "permutations": len(sims),
        "seed": seed,
        "incidents": n,
        "pairs_within_reach": int(obs.sum()),
    }
    res = NearRepeat(frame(obs), frame(exp), frame(ratio), frame(p), n, len(sims), params)
    return _with_verdict(res)


def _with_verdict(r: NearRepeat) -> NearRepeat:
    from dataclasses import replace

    sig = (r.p_value <= 0.05) & (r.ratio > 1)
    if not sig.to_numpy().any():
        text = (
            f"No near-repeat pattern: no band pair had more incident pairs than the "
            f"{r.permutations} shuffles of the times gave at p <= 0.05 ({r.incidents:,} "
            "incidents)."
        )
        return replace(r, verdict=text)
    s, t = r.ratio.where(sig).stack().idxmax()
    ratio = float(r.ratio.loc[s, t])
    text = (
        f"Near repeats: incidents {s} and {t} apart happened {ratio:.2f} times as often as "
        f"chance gives ({int(r.observed.loc[s, t]):,} pairs against "
        f"{float(r.expected.loc[s, t]):,.1f} expected; p = {float(r.p_value.loc[s, t]):.3f}, "
        f"{r.permutations} permutations; {int(sig.to_numpy().sum())} of "
        f"{sig.size} cells above chance)."
    )
    return replace(r, verdict=text)


def near_repeat_incidents(incidents, **kw) -> NearRepeat:
    """:func:`near_repeat` on an incident layer (metric CRS, ``occurred_at``).

    Examples
    --------
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018], scale=0.05).incidents
    >>> near_repeat_incidents(inc, permutations=9).permutations
    9
    """
    from ..core.geo import xy

    if incidents.crs is None or not incidents.crs.is_projected:
        raise InputError("Near-repeat distances need incidents in a metric (projected) CRS.")
    x, y = xy(incidents)
    return near_repeat(x, y, incidents["occurred_at"].to_numpy(), **kw)


def plot_near_repeat(result: NearRepeat, path: str | Path | None = None) -> bytes:
    """The heat table: Knox ratios by spatial (rows) and temporal (columns) band, cells at
    p <= 0.05 outlined and starred, as PNG bytes (written atomically to ``path``).

    Examples
    --------
    >>> r = near_repeat([0, 10, 20, 5000], [0, 0, 0, 0], [0, 1, 2, 3], permutations=9)
    >>> plot_near_repeat(r)[:4] == b"\\x89PNG"
    True
    """
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure

    ratio = result.ratio.to_numpy(float)
    finite = ratio[np.isfinite(ratio)]
    top = max(2.0, float(finite.max()) if finite.size else 2.0)
    fig = Figure(figsize=(1.6 + 1.3 * ratio.shape[1], 1.2 + 0.6 * ratio.shape[0]), dpi=100)
    ax = fig.add_subplot()
    im = ax.imshow(
        np.nan_to_num(ratio, nan=1.0),
        cmap="RdBu_r",
        norm=TwoSlopeNorm(vcenter=1.0, vmin=0.0, vmax=top),
        aspect="auto",
    )
    for (a, b), v in np.ndenumerate(ratio):
        p = float(result.p_value.iat[a, b])
        label = "-" if not np.isfinite(v) else f"{v:.2f}" + ("*" if p <= 0.05 else "")
        ax.text(b, a, label, ha="center", va="center", fontsize=9)
    ax.set_xticks(range(ratio.shape[1]), result.ratio.columns, fontsize=8)
    ax.set_yticks(range(ratio.shape[0]), result.ratio.index, fontsize=8)
    ax.set_xlabel("time between incidents")
    ax.set_ylabel("distance between incidents")
    ax.set_title(f"Knox ratios (* p <= 0.05, {result.permutations} permutations)", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8, label="observed / expected pairs")
    fig.tight_layout()
    return write_png(fig, path)

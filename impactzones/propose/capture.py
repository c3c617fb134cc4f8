"""Capture curves: the share of the next period's incidents captured against the area
covered (0 to 10% of the city), for the proposals and every baseline, as a table and a plot.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.defaults import GAP
from ..core.geo import Layers
from ..core.windows import parse_window
from .backtests import _Scorer
from .baselines import compact_baseline, random_placements
from .zones import propose_zones, study_area_of

__all__ = ["CAPTURE_SHARES", "HINDSIGHT", "capture_curve", "capture_table", "plot_capture_curve"]

#: Area shares (of the study area) at which the capture table reads every curve.
CAPTURE_SHARES = (0.005, 0.01, 0.025, 0.05, 0.10)
#: The hindsight line: the period's own top cells (no design can do better at any area).
HINDSIGHT = "hindsight: the period's own top cells"


def _cumulative(strategy: str, sc: _Scorer, geoms) -> list[dict]:
    """Running area and capture of a list of zones, added one at a time."""
    rows, union = [], shapely.Polygon()
    for i, g in enumerate(geoms, start=1):
        union = shapely.union(union, g)
        area = shapely.intersection(union, sc.study_area).area / 1e6
        rows.append(
            {
                "strategy": strategy,
                "zones": i,
                "area_km2": area,
                "capture": sc.hits(union) / max(sc.total_a, 1),
            }
        )
    return rows


def _random_curve(sc: _Scorer, draws: list) -> list[dict]:
    """The mean running area and capture over random placements, zone by zone."""
    runs = [pd.DataFrame(_cumulative("random", sc, d)) for d in draws]
    if not runs:
        return []
    mean = pd.concat(runs).groupby("zones", as_index=False)[["area_km2", "capture"]].mean()
    return [{"strategy": "random placements", **r} for r in mean.to_dict("records")]


def _cells_curve(strategy: str, sc: _Scorer, ranking, allowed, max_share: float) -> list[dict]:
    """Cells taken in the order of ``ranking`` (highest first; ties by cell order)."""
    n_max = int(round(max_share * sc.area_km2 / sc.grid.cell_area_km2))
    flat = np.where(allowed, ranking, -1).ravel()
    order = np.lexsort((np.arange(flat.size), -flat))[:n_max]
    order = order[flat[order] >= 0]
    got = np.cumsum(sc.counts_a.ravel()[order]) / max(sc.total_a, 1)
    steps = np.unique(np.linspace(1, len(order), min(len(order), 200)).astype(int))
    return [
        {
            "strategy": strategy,
            "zones": math.nan,
            "area_km2": n * sc.grid.cell_area_km2,
            "capture": float(got[n - 1]),
        }
        for n in steps
    ]


def capture_curve(
    incidents: gpd.GeoDataFrame,
    *,
    period,
    before,
    existing: gpd.GeoDataFrame | None = None,
    layers: Layers | None = None,
    study_area=None,
    group: str | None = "violent",
    category=None,
    max_share: float = 0.10,
    gap: float = GAP.default,
    draws: int = 50,
    seed: int = 0,
    **propose_kwargs,
) -> pd.DataFrame:
    """The share of ``period``'s incidents captured against the area covered, per strategy.

    Strategies (all chosen from ``before`` only, except the hindsight line): the proposals
    (:func:`propose_zones` asked for as many zones as fit in ``max_share`` of the study
    area, added in rank order), the compact naive discs of the same sizes, random
    placements of the same shapes (mean over ``draws``), the naive top cells of
    ``before``, the existing zones, and hindsight (``period``'s own top cells: no design
    can do better at any area).

    Returns
    -------
    DataFrame
        ``strategy, zones, area_km2, area_share, capture, pai``, one row per point.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2018, 2019]).incidents
    >>> cc = capture_curve(inc, period=2019, before=2018, layers=layers, max_share=0.02,
    ...                    existing=layers.zones.iloc[:1], draws=5)
    >>> sorted(cc["strategy"].unique())[:2]
    ['compact naive', "hindsight: the period's own top cells"]
    >>> bool((cc["capture"] <= 1).all())
    True
    """
    area = study_area_of(layers, study_area, incidents)
    sc = _Scorer(
        incidents,
        parse_window(before),
        parse_window(period),
        group,
        category,
        area,
        propose_kwargs.get("cell_size", 100.0),
    )
    allowed = sc.allowed(existing, gap)
    kwargs = {"k": 2, "max_area_km2": 3.0, "min_area_km2": 0.5, **propose_kwargs}
    k_max = max(int(math.ceil(max_share * sc.area_km2 / kwargs["min_area_km2"])), 1)
    kwargs["k"] = min(max(kwargs["k"], k_max), 60)
    props = propose_zones(
        incidents,
        period=before,
        exclude=existing,
        layers=layers,
        study_area=study_area,
        group=group,
        category=category,
        gap=gap,
        **kwargs,
    )
    shapes = list(props.geometry)
    discs = compact_baseline(sc.counts_b, sc.grid, allowed, list(props.area / 1e6), area, gap)
    rows = _cumulative("proposals", sc, shapes) + _cumulative("compact naive", sc, discs)
    rows += _random_curve(sc, random_placements(shapes, area, draws, seed))
    rows += _cells_curve("naive top cells", sc, sc.counts_b, allowed, max_share)
    rows += _cells_curve(HINDSIGHT, sc, sc.counts_a, sc.grid.mask, max_share)
    if existing is not None and len(existing):
        rows += _cumulative("existing zones", sc, list(existing.geometry))
    out = pd.DataFrame(rows)
    out["area_share"] = out["area_km2"] / sc.area_km2
    out = out[out["area_share"] <= max_share * (1 + 1e-9)].reset_index(drop=True)
    out["pai"] = out["capture"] / out["area_share"]
    out["zones"] = out["zones"].astype("Int64")  # a count; missing for the cell curves
    out["period"], out["before"] = parse_window(period).label, parse_window(before).label
    columns = ["strategy", "zones", "area_km2", "area_share", "capture", "pai"]
    return out[[*columns, "period", "before"]]


def capture_table(curve: pd.DataFrame, shares=CAPTURE_SHARES) -> pd.DataFrame:
    """Each strategy's capture (share of incidents) read at given area shares.

    Between two points of a curve the capture is interpolated linearly; beyond a curve's
    last point (a strategy that cannot cover that much area) it is missing.

    Examples
    --------
    >>> cc = pd.DataFrame({"strategy": ["a", "a"], "area_share": [0.01, 0.03],
    ...                    "capture": [0.1, 0.2]})
    >>> capture_table(cc, shares=(0.02, 0.05)).round(3).to_dict("records")
    [{'strategy': 'a', 'capture_at_2%': 0.15, 'capture_at_5%': nan}]
    """
    rows = []
    for name, part in curve.groupby("strategy", sort=False):
        part = part.sort_values("area_share")
        x = np.r_[0.0, part["area_share"].to_numpy()]
        y = np.r_[0.0, part["capture"].to_numpy()]
        row = {"strategy": name}
        for s in shares:
            row[f"capture_at_{s:.1%}".replace(".0%", "%")] = (
                float(np.interp(s, x, y)) if s <= x[-1] * 1.02 else math.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def plot_capture_curve(curve: pd.DataFrame, path, *, title: str = "", dpi: int = 100):
    """Draw the capture curves (share of incidents against share of area) as a PNG (to a
    path, written atomically, or to a binary file object).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> cc = pd.DataFrame({"strategy": ["a", "a"], "area_share": [0.01, 0.03],
    ...                    "capture": [0.1, 0.2]})
    >>> p = plot_capture_curve(cc, pathlib.Path(tempfile.mkdtemp()) / "c.png", dpi=40)
    >>> p.read_bytes()[:4]
    b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..core.files import atomic_write

    styles = {
        "proposals": ("#00897b", "-", "o"),
        "compact naive": ("#ef6c00", "-", "s"),
        "random placements": ("#9e9e9e", "-", "."),
        "naive top cells": ("#1565c0", "--", ""),
        HINDSIGHT: ("#000000", ":", ""),
        "existing zones": ("#7b1fa2", "", "D"),
    }
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=dpi)
    for name, part in curve.groupby("strategy", sort=False):
        colour, ls, marker = styles.get(name, ("#555555", "-", ""))
        part = part.sort_values("area_share")
        ax.plot(
            np.r_[0, part["area_share"]] * 100,
            np.r_[0, part["capture"]] * 100,
            color=colour,
            linestyle=ls or "none",
            marker=marker or None,
            markersize=4,
            label=name,
        )
    naive = curve[curve["strategy"] == "naive top cells"].sort_values("area_share")
    if len(naive):
        ax.plot(
            np.r_[0, naive["area_share"]] * 100,
            np.r_[0, naive["capture"]] * 60,
            color="#1565c0",
            linestyle=":",
            linewidth=0.8,
            label="60% of the naive top cells",
        )
    ax.set_xlabel("Area covered (% of the city)")
    ax.set_ylabel("Incidents captured in the next period (%)")
    ax.set_xlim(0, None)
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title, fontsize=10, loc="left")
    fig.tight_layout()
    try:
        if hasattr(path, "write"):
            fig.savefig(path, format="png", dpi=dpi, metadata={"Software": None})
            return path
        return atomic_write(
            Path(path), lambda p: fig.savefig(p, format="png", dpi=dpi, metadata={"Software": None})
        )
    finally:
        plt.close(fig)

"""Capture curves: the share of the next period's incidents captured against the area
covered (0 to 10% of the city), for the proposals and every baseline, as a table and a plot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.defaults import GAP, PROPOSAL_CELL_M
from ..core.geo import Layers
from ..core.results import TableFiles, TableView
from ..core.windows import Window, parse_window
from .backtests import _Scorer
from .baselines import compact_baseline, random_placements
from .zones import propose_zones, study_area_of

__all__ = [
    "CAPTURE_SHARES",
    "HINDSIGHT",
    "HINDSIGHT_ZONES",
    "CaptureCurve",
    "capture_curve",
    "capture_curve_png",
    "capture_table",
    "plot_capture_curve",
]

#: Area shares (of the study area) at which the capture table reads every curve.
CAPTURE_SHARES = (0.005, 0.01, 0.025, 0.05, 0.10)
#: The hindsight line: the period's own top cells (no design can do better at any area).
HINDSIGHT = "hindsight: the period's own top cells"
#: The contiguous hindsight line: zones grown (same rules) on the scored period itself, an
#: upper reference for any design of contiguous zones of the same minimum area.
HINDSIGHT_ZONES = "hindsight zones: grown on the period itself"


@dataclass(eq=False)
class CaptureCurve(TableView, TableFiles):
    """Capture curves (from :func:`capture_curve`): the table and the settings behind it.

    Attributes
    ----------
    table : DataFrame
        ``strategy, zones, area_km2, area_share, capture, pai, period, before``: one row
        per point of each strategy's curve (areas in km^2, shares 0-1).
    params : dict
        Every setting used (the proposals' too), shares 0-1, distances in metres.
    period, before : Window
        The period scored and the period the strategies were chosen from.

    For code written when :func:`capture_curve` returned a DataFrame, the result reads
    like its table: ``cc["strategy"]``, ``cc.groupby(...)``, ``len(cc)``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"strategy": ["a", "a"], "area_share": [0.01, 0.03],
    ...                   "capture": [0.1, 0.2]})
    >>> cc = CaptureCurve(t, {"max_share": 0.1}, parse_window(2019), parse_window(2018))
    >>> len(cc), capture_table(cc, shares=(0.02,)).iloc[0, 1].round(3)
    (2, np.float64(0.15))
    """

    table: pd.DataFrame
    params: dict
    period: Window
    before: Window
    map_layer: ClassVar[str] = "capture"

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()


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
    hindsight_zones: bool = True,
    **propose_kwargs,
) -> CaptureCurve:
    """The share of ``period``'s incidents captured against the area covered, per strategy.

    Strategies (all chosen from ``before`` only, except the two hindsight lines): the
    proposals (:func:`propose_zones` with a budget of ``max_share`` of the study area,
    added in the order they were grown, so the curve at any budget is the proposals that
    budget gives), the compact naive discs of the same sizes, random placements of the
    same shapes (mean over ``draws``), the naive top cells of ``before``, the existing
    zones, and hindsight: ``period``'s own top cells (no design can do better at any
    area) and, with ``hindsight_zones``, zones grown by the same rules on ``period``
    itself (an upper reference for contiguous zones of the same minimum area: what the
    shape rules cost, apart from the prediction).

    Returns
    -------
    CaptureCurve
        Its ``table``: ``strategy, zones, area_km2, area_share, capture, pai`` (and the
        periods), one row per point; the settings (``params``) and ``to_file(path)``. It
        reads like its table, as the DataFrame returned before did.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2018, 2019]).incidents
    >>> cc = capture_curve(inc, period=2019, before=2018, layers=layers, max_share=0.02,
    ...                    existing=layers.zones.iloc[:1], draws=5)
    >>> {"proposals", "compact naive", HINDSIGHT, HINDSIGHT_ZONES} <= set(cc["strategy"])
    True
    >>> bool((cc["capture"] <= 1).all())
    True
    """
    area = study_area_of(layers, study_area, incidents)
    before_w, after_w = parse_window(before), parse_window(period)
    cell = propose_kwargs.get("cell_size", PROPOSAL_CELL_M.default)
    sc = _Scorer(incidents, before_w, after_w, group, category, area, cell)
    allowed = sc.allowed(existing, gap)
    kwargs = {"budget_km2": max_share * sc.area_km2, **propose_kwargs, "k": None}
    common = dict(exclude=existing, layers=layers, study_area=study_area, group=group,
                  category=category, gap=gap)  # fmt: skip
    props = propose_zones(incidents, period=before, **common, **kwargs)
    shapes = _in_growth_order(props)
    sizes = [g.area / 1e6 for g in shapes]
    discs = compact_baseline(sc.counts_b, sc.grid, allowed, sizes, area, gap)
    rows = _cumulative("proposals", sc, shapes) + _cumulative("compact naive", sc, discs)
    rows += _random_curve(sc, random_placements(shapes, area, draws, seed))
    rows += _cells_curve("naive top cells", sc, sc.counts_b, allowed, max_share)
    if hindsight_zones:
        seen = propose_zones(incidents, period=period, **common, **{**kwargs, "history": 0})
        rows += _cumulative(HINDSIGHT_ZONES, sc, _in_growth_order(seen))
    rows += _cells_curve(HINDSIGHT, sc, sc.counts_a, sc.grid.mask, max_share)
    if existing is not None and len(existing):
        rows += _cumulative("existing zones", sc, list(existing.geometry))
    out = pd.DataFrame(rows)
    out["area_share"] = out["area_km2"] / sc.area_km2
    out = out[out["area_share"] <= max_share * (1 + 1e-9)].reset_index(drop=True)
    out["pai"] = out["capture"] / out["area_share"]
    out["zones"] = out["zones"].astype("Int64")  # a count; missing for the cell curves
    out["period"], out["before"] = after_w.label, before_w.label
    columns = ["strategy", "zones", "area_km2", "area_share", "capture", "pai"]
    params = dict(
        period=after_w.label, before=before_w.label, group=group, category=category,
        max_share=max_share, gap_m=gap, draws=draws, seed=seed,
        hindsight_zones=hindsight_zones, study_area_km2=sc.area_km2,
        proposals=props.params,
    )  # fmt: skip
    return CaptureCurve(out[[*columns, "period", "before"]], params, after_w, before_w)


def _in_growth_order(props) -> list:
    """The proposals' shapes in the order they were grown (hottest seed first): the first
    zones of a larger budget are the zones a smaller budget gives."""
    order = props.meta.get("grown", range(len(props)))
    return [props.geometry.iloc[i] for i in order]


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


def capture_curve_png(
    curve: pd.DataFrame, path: str | Path | None = None, *, title: str = "", dpi: int = 100
) -> bytes:
    """The capture curves (share of incidents against share of area) as PNG bytes, 7 by
    4.5 inches at ``dpi``, written atomically to ``path`` if given: the one picture the
    demo writes and embeds in its proposal page and analyst map.

    Examples
    --------
    >>> cc = pd.DataFrame({"strategy": ["a", "a"], "area_share": [0.01, 0.03],
    ...                    "capture": [0.1, 0.2]})
    >>> png = capture_curve_png(cc, dpi=40)
    >>> png[:4] == b"\\x89PNG", png == capture_curve_png(cc, dpi=40)
    (True, True)
    """
    from ..io.writers import write_png

    return write_png(_capture_figure(curve, title, dpi), path)


def plot_capture_curve(curve: pd.DataFrame, path, *, title: str = "", dpi: int = 100):
    """Draw the capture curves (share of incidents against share of area) as a PNG (to a
    path, written atomically, or to a binary file object); returns ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> cc = pd.DataFrame({"strategy": ["a", "a"], "area_share": [0.01, 0.03],
    ...                    "capture": [0.1, 0.2]})
    >>> p = plot_capture_curve(cc, pathlib.Path(tempfile.mkdtemp()) / "c.png", dpi=40)
    >>> p.read_bytes()[:4]
    b'\\x89PNG'
    """
    if hasattr(path, "write"):
        path.write(capture_curve_png(curve, title=title, dpi=dpi))
        return path
    capture_curve_png(curve, path, title=title, dpi=dpi)  # written atomically by write_png
    return Path(path)


#: How each strategy's curve is drawn: colour, line style, marker.
CURVE_STYLES = {
    "proposals": ("#00897b", "-", "o"),
    "compact naive": ("#ef6c00", "-", "s"),
    "random placements": ("#9e9e9e", "-", "."),
    "naive top cells": ("#1565c0", "--", ""),
    HINDSIGHT: ("#000000", ":", ""),
    HINDSIGHT_ZONES: ("#000000", "-.", ""),
    "existing zones": ("#7b1fa2", "", "D"),
}


def _capture_figure(curve: pd.DataFrame, title: str, dpi: int):
    """The matplotlib figure of the capture curves (no pyplot: nothing to close)."""
    from matplotlib.figure import Figure

    from ..core.drawing import fit_axes

    fig = Figure(figsize=(7, 4.5), dpi=dpi)
    ax = fig.add_subplot()
    for name, part in curve.groupby("strategy", sort=False):
        colour, ls, marker = CURVE_STYLES.get(name, ("#555555", "-", ""))
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
    fit_axes(fig, ax, titles=[ax.set_title(title, fontsize=10, loc="left")])
    return fig

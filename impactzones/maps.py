"""Building the demo's maps from analysis results: commander maps per zone, a citywide map,
an analyst map, static PNGs and an index page.

:mod:`impactzones.webmap` draws; this module decides what each map shows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import __version__
from .change import format_pct, percent_change
from .geo import Layers
from .safety import Slugs, writes_into
from .windows import Window, compare_phrase

__all__ = [
    "build_maps",
    "change_by_neighborhood",
]

#: Neighborhoods with fewer incidents than this in the before window get no colour.
MIN_BEFORE = 10


def _monthly(incidents: pd.DataFrame, mask, months: pd.DatetimeIndex) -> pd.Series:
    """Counts per month (indexed by month start) where ``mask`` holds."""
    t = incidents.loc[mask, "occurred_at"].dt.to_period("M").dt.to_timestamp()
    return t.value_counts().reindex(months, fill_value=0).sort_index()


def _trends(incidents: pd.DataFrame, layers: Layers, group: str = "violent") -> dict:
    """Monthly counts of ``group`` for every zone and district, over the data's months."""
    sel = incidents["group"] == group
    t = incidents["occurred_at"]
    last = t.max()
    end = last.to_period("M").to_timestamp()
    if (last + pd.Timedelta(days=1)).month == last.month:  # the last month is not complete
        end -= pd.offsets.MonthBegin(1)
    months = pd.date_range(t.min().to_period("M").to_timestamp(), end, freq="MS")
    months = months[-48:]  # the last four years at most
    out = {}
    for name in layers.zones["name"].astype(str):
        out[f"zone:{name}"] = _monthly(incidents, sel & (incidents["zone"] == name), months)
    for d in layers.districts["district"]:
        out[f"district:{d}"] = _monthly(incidents, sel & (incidents["district"] == d), months)
    return out


def change_by_neighborhood(
    incidents: pd.DataFrame, layers: Layers, before: Window, after: Window, group: str = "violent"
) -> gpd.GeoDataFrame | None:
    """Counts of ``group`` per neighborhood in two windows, and the percent change.

    Examples
    --------
    >>> from impactzones.assign import assign
    >>> from impactzones.geo import st_louis
    >>> from impactzones.synth import synthesize
    >>> layers = st_louis()
    >>> inc = assign(synthesize(seed=1, years=[2017, 2018]).incidents, layers)
    >>> ch = change_by_neighborhood(inc, layers, Window.year(2017), Window.year(2018))
    >>> int(ch["before"].sum()), int(ch["after"].sum())
    (6459, 5525)
    """
    nb = layers.neighborhoods
    if nb is None or "neighborhood" not in incidents:
        return None
    sel = incidents[incidents["group"] == group]
    b = sel[before.contains(sel["occurred_at"])].groupby("neighborhood").size()
    a = sel[after.contains(sel["occurred_at"])].groupby("neighborhood").size()
    out = nb[["neighborhood", "name", "geometry"]].copy()
    out["before"] = out["neighborhood"].map(b).fillna(0).astype(int)
    out["after"] = out["neighborhood"].map(a).fillna(0).astype(int)
    # a percent change on a handful of incidents says nothing: shown grey instead
    out["pct"] = [
        percent_change(x, y) if x >= MIN_BEFORE else float("nan")
        for x, y in zip(out["before"], out["after"], strict=True)
    ]
    return out


def _zone_headline(table: pd.DataFrame, zone: str) -> list[str]:
    lines = []
    for crime in ("violent", "property"):
        r = table[(table["zone"] == zone) & (table["crime"] == crime)]
        if not len(r):
            continue
        r = r.iloc[0]
        p = r["p_value"]
        ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        label = "Violent crime" if crime == "violent" else "Property crime"
        line = (
            f"{label} {format_pct(r['zone_pct_change'])} ({r['zone_before']:,} to "
            f"{r['zone_after']:,}, {ptxt}); rest of city "
            f"{format_pct(r['control_pct_change'])}"
        )
        if crime == "violent":
            # the same rule as the verdict: a ring reading counts only when the ring
            # changed differently from the control at 5%
            reading = r["wdq_reading"] or ""
            ring_p = r.get("ring_relative_p", float("nan"))
            if reading.startswith("no reduction"):
                line += "; ring not judged (no reduction to displace)"
            elif reading and pd.notna(ring_p) and ring_p < 0.05 and "no effect" not in reading:
                line += f"; ring: {reading}"
            else:
                line += "; no sign of displacement into the ring"
        lines.append(line)
    return lines


@writes_into("out")
def build_maps(
    incidents: gpd.GeoDataFrame,
    layers: Layers,
    out: str | Path,
    *,
    comparisons: dict,
    hotspots: dict,
    proposals: gpd.GeoDataFrame | None = None,
    source: str = "",
    ring: float = 400.0,
    self_contained: bool = False,
    static: bool = True,
) -> list[Path]:
    """Write the commander maps (one per zone that has a comparison, and a citywide one),
    the analyst map, static PNGs and ``index.html`` into ``out``.

    ``incidents`` must be assigned (:func:`impactzones.assign.assign`).

    Examples
    --------
    >>> import tempfile
    >>> from impactzones.assign import assign
    >>> from impactzones.geo import st_louis
    >>> from impactzones.synth import synthesize
    >>> layers = st_louis()
    >>> inc = assign(synthesize(seed=1, years=[2017, 2018], scale=0.1).incidents, layers)
    >>> files = build_maps(inc, layers, tempfile.mkdtemp(), comparisons={}, hotspots={},
    ...                    static=False)
    >>> sorted(p.name for p in files)
    ['analyst.html', 'citywide.html', 'index.html']
    """
    from .webmap import MapData, commander_map, save_map, static_map, write_index

    out = Path(out)
    files: list[Path] = []
    entries = []
    note = (
        f"Data: {source}. Run {dt.date.today().isoformat()}, impactzones {__version__}. "
        "Zones are illustrative where they come from the bundled layers."
    )
    tr = _trends(incidents, layers)
    kde_year = None
    if "kde" in hotspots:
        kde_year = hotspots.get("year")
    kde_label = f"Violent crime density (KDE{', ' + str(kde_year) if kde_year else ''})"
    common: dict[str, Any] = dict(
        layers=layers,
        data_note=note,
        kde=hotspots.get("kde"),
        kde_label=kde_label,
        clusters=hotspots["dbscan"].clusters if "dbscan" in hotspots else None,
        gistar=hotspots.get("gistar"),
        proposals=proposals,
        trends=tr,
        ring=ring,
    )
    zone_table = {}
    slugs = Slugs()  # commander_<slug>.html: safe, and unique when names differ by case
    for table in comparisons.values():
        for zone in table["zone"].unique():
            if zone != "Citywide":
                zone_table[zone] = table
    for zone, table in zone_table.items():
        before, after = table.attrs["windows"]
        start = layers.zones.loc[layers.zones["name"] == zone, "start"]
        start = pd.Timestamp(start.iloc[0]) if len(start) and pd.notna(start.iloc[0]) else None
        phrase = compare_phrase(before, after)
        data = MapData(
            title=f"{zone} Impact Zone: {phrase}",
            zone=zone,
            headline=_zone_headline(table, zone),
            change=change_by_neighborhood(incidents, layers, before, after),
            change_label=f"Change in violent crime, {phrase}",
            trend_start=start,
            **common,
        )
        slug = slugs(zone)
        name = f"commander_{slug}.html"
        files.append(save_map(commander_map(data, self_contained=self_contained), out / name))
        entries.append((f"{zone} Impact Zone", name, ". ".join(data.headline) + "."))
        if static:
            files.append(static_map(data, out / f"commander_{slug}.png"))
    # citywide: the latest full year against the year before
    years = sorted(incidents["occurred_at"].dt.year.unique())
    if len(years) >= 2:
        y = kde_year or years[-1]
        before, after = Window.year(y - 1), Window.year(y)
        sel = incidents[incidents["area_type"] != "outside"]
        lines = []
        for group, label in (("violent", "Violent crime"), ("property", "Property crime")):
            g = sel[sel["group"] == group]
            b = int(before.contains(g["occurred_at"]).sum())
            a = int(after.contains(g["occurred_at"]).sum())
            lines.append(f"{label} {format_pct(percent_change(b, a))} citywide ({b:,} to {a:,})")
        data = MapData(
            title=f"Citywide: {compare_phrase(before, after)}",
            zone=None,
            headline=lines,
            show_change=False,
            show_kde=True,
            change=change_by_neighborhood(incidents, layers, before, after),
            change_label=f"Change in violent crime, {compare_phrase(before, after)}",
            **common,
        )
        files.append(
            save_map(commander_map(data, self_contained=self_contained), out / "citywide.html")
        )
        entries.append(("Citywide", "citywide.html", ". ".join(lines) + "."))
        if static:
            files.append(static_map(data, out / "citywide.png"))
        data.title = f"Analyst map: {compare_phrase(before, after)}"
        files.append(
            save_map(
                commander_map(data, self_contained=self_contained, analyst=True),
                out / "analyst.html",
            )
        )
        entries.append(
            (
                "Analyst map",
                "analyst.html",
                "The citywide map plus the Gi* grid with counts, z and p in popups.",
            )
        )
    note += (
        " Beside the maps: the comparison tables (compare_*.md, .csv, .json), the hot-spot "
        "layers (hotspots_*), the proposals and their backtest, and summary.json."
    )
    files.append(write_index(entries, out / "index.html", title="impactzones maps", note=note))
    return files

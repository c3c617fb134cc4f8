"""Building the demo's maps from analysis results: commander maps per zone, a citywide map,
an analyst map, static PNGs and an index page.

:mod:`impactzones.maps.webmap` draws; this module decides what each map shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import __version__
from ..core.change import percent_change
from ..core.defaults import RING
from ..core.drawing import draw_here
from ..core.files import writes_into
from ..core.geo import Layers
from ..core.results import column_label
from ..core.windows import Window, compare_phrase
from ..io.safety import Slugs, source_label
from .cache import MapCache

__all__ = [
    "GLOSSARY",
    "annotate_proposals",
    "build_maps",
    "change_by_neighborhood",
    "relation_words",
    "ring_words",
    "zone_headline",
]

#: Neighborhoods with fewer incidents than this in the before window get no colour.
MIN_BEFORE = 10


def _monthly(incidents: pd.DataFrame, mask, months: pd.DatetimeIndex) -> pd.Series:
    """Counts per month (indexed by month start) where ``mask`` holds."""
    t = incidents.loc[mask, "occurred_at"].dt.to_period("M").dt.to_timestamp()
    return t.value_counts().reindex(months, fill_value=0).sort_index()


def _first_full_month(occurred: pd.Series) -> pd.Timestamp:
    """The first month holding a tenth of a typical month's incidents (typical: the median
    of the months with a tenth of the busiest one's). Exports carry old incidents reported
    late (a few a month for decades, a few hundred the month before the export begins),
    which would draw years of near-zero before the data start."""
    per_month = occurred.dt.to_period("M").value_counts().sort_index()
    typical = per_month[per_month >= 0.1 * per_month.max()].median()
    return per_month[per_month >= 0.1 * typical].index.min().to_timestamp()


def _trends(incidents: pd.DataFrame, layers: Layers, group: str = "violent") -> dict:
    """Monthly counts of ``group`` for every zone and district, over the data's months."""
    sel = incidents["group"] == group
    t = incidents["occurred_at"]
    last = t.max()
    end = last.to_period("M").to_timestamp()
    if (last + pd.Timedelta(days=1)).month == last.month:  # the last month is not complete
        end -= pd.offsets.MonthBegin(1)
    first = _first_full_month(t)
    months = pd.date_range(first, end, freq="MS")
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
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = assign(synthesize(seed=1, years=[2017, 2018]).incidents, layers)
    >>> ch = change_by_neighborhood(inc, layers, Window.year(2017), Window.year(2018))
    >>> int(ch["before"].sum()), int(ch["after"].sum())
    (6459, 5525)
    """
    nb = layers.neighborhoods
    if nb is None or "neighborhood" not in incidents:
        return None
    sel = (incidents["group"] == group).to_numpy()
    when, where = incidents["occurred_at"][sel], incidents["neighborhood"][sel]
    b = where[before.contains(when)].value_counts()
    a = where[after.contains(when)].value_counts()
    out = nb[["neighborhood", "name", "geometry"]].copy()
    out["before"] = out["neighborhood"].map(b).fillna(0).astype(int)
    out["after"] = out["neighborhood"].map(a).fillna(0).astype(int)
    # a percent change on a handful of incidents says nothing: shown grey instead
    out["pct"] = [
        percent_change(x, y) if x >= MIN_BEFORE else float("nan")
        for x, y in zip(out["before"], out["after"], strict=True)
    ]
    return out


#: The words every output uses for how a zone's change compares with the rest of the city.
WITHIN_CHANCE = "within chance"
GLOSSARY = {
    "PAI": "Predictive Accuracy Index: share of incidents captured / share of area used",
    "PEI": "Predictive Efficiency Index: incidents captured / the most the same area "
    "could have captured",
    "RRI": "Recapture Rate Index: next period's PAI / this period's (above 1: held up)",
    "WDQ": "Weighted Displacement Quotient: the ring's change / the zone's, both relative "
    "to the control (below 0 displacement, above 0 diffusion of benefits)",
    "WDD": "Weighted Displacement Difference: incidents prevented in zone and ring together, "
    "relative to the control (negative is fewer)",
    "E-test p": "chance of a change at least this big if the rate had not changed",
}


def _moved(pct: float) -> str:
    """'fell 20%', 'rose 28%', 'did not change' (whole percent)."""
    if not np.isfinite(pct):
        return "cannot be compared (none before)"
    if round(pct) == 0:
        return "did not change" if pct == 0 else f"{'fell' if pct < 0 else 'rose'} under 1%"
    return f"{'fell' if pct < 0 else 'rose'} {abs(pct):.0f}%"


def relation_words(row) -> str:
    """How a zone's change compares with the rest of the city, in the verdict's words:
    'better than the rest of the city', 'worse than the rest of the city' or 'within
    chance' (the 95% interval of the ratio of their changes).

    Examples
    --------
    >>> relation_words({"relative_low": 0.7, "relative_high": 1.1})
    'within chance'
    >>> relation_words({"relative_low": 0.6, "relative_high": 0.9})
    'better than the rest of the city'
    """
    lo, hi = row["relative_low"], row["relative_high"]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "not comparable"
    if hi < 1:
        return "better than the rest of the city"
    if lo > 1:
        return "worse than the rest of the city"
    return WITHIN_CHANCE


def ring_words(row, ring_m: float) -> str:
    """The ring's reading by the verdict's rule (:func:`~impactzones.evaluate.compare.
    ring_reading`): judged only when the zone fell; what the WDQ says the ring did, and
    whether its change against the rest of the city is beyond chance at 5%.

    Examples
    --------
    >>> row = {"wdq_reading": "displacement", "wdq": -0.5, "ring_relative_p": 0.4}
    >>> ring_words(row, 400).split(": ")
    ['not beyond chance', 'against the rest of the city, the 400 m ring rose, by less than \
the zone fell']
    """
    from ..evaluate.compare import ring_reading

    reading = row["wdq_reading"] or ""
    ring_p = row.get("ring_relative_p", float("nan"))
    q = row.get("wdq", float("nan"))
    if reading.startswith("no reduction"):
        return "not judged: no reduction in the zone to displace"
    if not pd.notna(q):
        return f"not judged: no WDQ for the {ring_m:g} m ring"
    what, chance = ring_reading(q, ring_p if pd.notna(ring_p) else float("nan"), ring_m)
    return f"{chance or 'not judged'}: {what}"


def zone_headline(table: pd.DataFrame, zone: str, ring_m: float = RING.default) -> list[str]:
    """The first lines of a zone's map, brief and index: the change in the zone, in the
    rest of the city and in the ring, and whether that is more than chance, in the
    verdict table's words.

    Examples
    --------
    >>> from impactzones.assign import assign
    >>> from impactzones.evaluate.compare import compare_zones
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2017, 2018]).incidents
    >>> t = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area)
    >>> zone_headline(t, "North")[0]
    'Violent crime fell 20% in the zone (740 to 592); the rest of the city fell 14%: within chance.'
    """
    lines = []
    for crime in ("violent", "property"):
        r = table[(table["zone"] == zone) & (table["crime"] == crime)]
        if not len(r):
            continue
        r = r.iloc[0]
        label = "Violent crime" if crime == "violent" else "Property crime"
        rel = relation_words(r)
        rel_txt = {
            WITHIN_CHANCE: WITHIN_CHANCE,
            "not comparable": "not comparable",
        }.get(rel, f"the zone did {rel}")
        lines.append(
            f"{label} {_moved(r['zone_pct_change'])} in the zone ({r['zone_before']:,} to "
            f"{r['zone_after']:,}); the rest of the city {_moved(r['control_pct_change'])}: "
            f"{rel_txt}."
        )
        if crime == "violent" and pd.notna(r.get("ring_before")):
            lines.append(
                f"In the ring: {_moved(r['ring_pct_change'])} ({int(r['ring_before']):,} to "
                f"{int(r['ring_after']):,}), {ring_words(r, ring_m)}."
            )
    return lines


def _zone_headline(table: pd.DataFrame, zone: str, ring_m: float = RING.default) -> list[str]:
    return zone_headline(table, zone, ring_m)


def annotate_proposals(
    proposals: gpd.GeoDataFrame, layers: Layers, backtest: pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """Proposals with the period they come from, their backtest figures and, where they
    sit in an existing zone, why (the zone began after the data they were proposed from).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from impactzones.core.geo import st_louis
    >>> layers = st_louis()
    >>> z = layers.zones[layers.zones["name"] == "South"]
    >>> p = gpd.GeoDataFrame({"name": ["Proposal A"]}, geometry=[z.geometry.iloc[0]],
    ...                      crs=z.crs)
    >>> p["period"] = "2018"
    >>> annotate_proposals(p, layers).loc[0, "why"]
    'Inside the South zone, which began in 2019, after the 2018 data it was proposed from.'
    """
    out = proposals.copy()
    period = column_label(proposals, "period")
    out["period"] = period
    why = []
    zones = layers.zones.to_crs(out.crs)
    for geom in out.geometry:
        notes = []
        for z in zones.itertuples():
            if geom.intersection(z.geometry).area > 0.1 * geom.area:
                start = getattr(z, "start", None)
                began = f", which began in {pd.Timestamp(start).year}" if pd.notna(start) else ""
                notes.append(
                    f"Inside the {z.name} zone{began}, after the {period} data it was "
                    "proposed from."
                )
        why.append(" ".join(notes))
    out["why"] = why
    if backtest is not None and len(backtest):
        bt = backtest[backtest["set"] == "proposals"].set_index("name")
        test = column_label(backtest, "period")
        out["backtest"] = [
            f"in {test}: PAI {bt.loc[n, 'pai']:.1f}, PEI {bt.loc[n, 'pei']:.2f}, "
            f"RRI {bt.loc[n, 'rri']:.2f}"
            if n in bt.index
            else ""
            for n in out["name"]
        ]
    return out


def _city_series(incidents: pd.DataFrame, months: pd.DatetimeIndex) -> pd.Series:
    sel = (incidents["group"] == "violent") & (incidents["area_type"] != "outside")
    return _monthly(incidents, sel, months)


def _citywide_lines(incidents: pd.DataFrame, before: Window, after: Window) -> list[str]:
    """Citywide change per group with the E-test's reading (chance or not)."""
    from ..evaluate.compare import e_test

    sel = incidents[incidents["area_type"] != "outside"]
    lines = []
    for group, label in (("violent", "Violent crime"), ("property", "Property crime")):
        g = sel[sel["group"] == group]
        b = int(before.contains(g["occurred_at"]).sum())
        a = int(after.contains(g["occurred_at"]).sum())
        p = e_test(b, a, before.days, after.days) if b + a else float("nan")
        reading = "beyond chance" if p < 0.05 else WITHIN_CHANCE
        lines.append(
            f"{label} {_moved(percent_change(b, a))} citywide ({b:,} to {a:,}): {reading}."
        )
    return lines


def _counterfactual_html(item) -> str:
    """A collapsed panel with a zone's counterfactual plot (PNG bytes) and its caption, for
    the commander map's title block (``item`` is ``(png, caption)`` or None).

    Examples
    --------
    >>> _counterfactual_html(None)
    ''
    >>> "<details>" in _counterfactual_html((b"\\x89PNG", "fell <20%>"))
    True
    """
    import base64

    from .webmap import esc

    if not item or not item[0]:
        return ""
    png, caption = item
    src = "data:image/png;base64," + base64.b64encode(png).decode()
    return (
        "<details><summary>Over time: observed against expected</summary>"
        f'<img src="{src}" alt="{esc(caption)}" style="width:100%">'
        f'<div class="iz-note">{esc(caption)}</div></details>'
    )


@writes_into("out")
def build_maps(
    incidents: gpd.GeoDataFrame,
    layers: Layers,
    out: str | Path,
    *,
    comparisons: dict,
    hotspots: dict,
    hotspots_year: int | None = None,
    window_hotspots: dict | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    backtest: pd.DataFrame | None = None,
    capture: pd.DataFrame | None = None,
    capture_png: bytes | None = None,
    source: str = "",
    ring: float = RING.default,
    online_tiles: bool = False,
    basemap: gpd.GeoDataFrame | None = None,
    static: bool = True,
    brief: bool = True,
    extra: list | None = None,
    counterfactuals: dict | None = None,
    evaluations: dict | None = None,
    self_contained: bool | None = None,
    skipped: list[str] | None = None,
    draw: Callable[..., Any] | None = None,
    cache: MapCache | None = None,
) -> list[Path]:
    """Write the commander maps (one per zone that has a comparison, and a citywide one),
    the analyst map, static PNGs, a one-page PDF brief per zone and ``index.html`` into
    ``out``. Every map is self-contained (opens with no network).

    ``incidents`` must be assigned (:func:`impactzones.assign.assign`). ``hotspots`` maps
    a method's name to its result (:func:`impactzones.pipeline.run_hotspots`), each drawn
    by its map layer on the maps its registry entry names; ``hotspots_year`` is the year
    they cover (and the citywide map's). A zone's commander map draws the hot spots of
    its comparison's after window: ``hotspots`` when that window is ``hotspots_year``,
    else ``window_hotspots[label]`` (results by the window's label, e.g. ``"2018"``), else
    none (never another year's hot spots under its title). ``extra`` lists more (title,
    file, window, finding) rows for the index (e.g. the CompStat report).
    ``capture`` is the proposals' capture curve for the analyst map, ``capture_png`` its
    plot already drawn (:func:`impactzones.propose.capture_curve_png`; else drawn here).
    ``counterfactuals`` maps a zone to ``(png, caption)`` for its commander map and
    ``evaluations`` a zone to its interrupted time series (a ``SeriesResult``) for its brief.
    ``skipped``, when given, gets one sentence per map not drawn, saying why (as the index
    page says it). ``draw``, when given, draws the static pictures (PNG maps, PDF briefs):
    it is called as ``draw(function, *args, **kwargs)`` and may hand the call to a worker
    process (the demo does), the file being complete once that call returns; by default
    they are drawn here, in turn. ``cache``, when given, is shared with other maps of the
    run (the CompStat map: :func:`~impactzones.maps.compstat.write_compstat`), so that the
    layers they draw alike are made once; by default the maps of this build share one.

    Examples
    --------
    >>> import tempfile
    >>> from impactzones.assign import assign
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = assign(synthesize(seed=1, years=[2017, 2018], scale=0.1).incidents, layers)
    >>> files = build_maps(inc, layers, tempfile.mkdtemp(), comparisons={}, hotspots={},
    ...                    static=False)
    >>> sorted(p.name for p in files)
    ['analyst.html', 'citywide.html', 'index.html']
    """
    results = dict(hotspots)
    year = results.pop("year", None)  # where earlier callers put it
    year = hotspots_year if hotspots_year is not None else year
    note = (
        f"Data: {source_label(source)}, to {incidents['occurred_at'].max():%Y-%m-%d}; "
        f"impactzones {__version__}. "
        "Zones are illustrative where they come from the bundled layers."
    )
    tr = _trends(incidents, layers)
    b = _Build(
        incidents=incidents,
        layers=layers,
        out=Path(out),
        common=dict(
            layers=layers,
            data_note=note,
            results=results,
            subject="Violent crime",
            period=str(year) if year else "",
            trends=tr,
            ring=ring,
            basemap=basemap,
            cache=MapCache() if cache is None else cache,  # the same layers: each made once
        ),
        static=static,
        online_tiles=online_tiles,
        window_results=dict(window_hotspots or {}),
        draw=draw or draw_here,
    )
    b.zone_maps(comparisons, counterfactuals or {}, evaluations or {}, brief)
    years = sorted(incidents["occurred_at"].dt.year.unique())
    if len(years) >= 2:  # citywide: the hot spots' year (or the latest) against the one before
        data = b.citywide_map(int(year or years[-1]))
        props = annotate_proposals(proposals, layers, backtest) if proposals is not None else None
        b.analyst_map(data, int(year or years[-1]), props, capture, capture_png)
    else:
        b.missing.append("No citywide or analyst map: the data cover fewer than two years.")
    for row in extra or []:
        b.entries.append(
            dict(
                title=row[0],
                href=row[1],
                window=row[2],
                finding=row[3],
                links=list(row[4]) if len(row) > 4 else [],
            )
        )
    b.files.append(_write_index(b.entries, b.missing, b.out, note))
    if skipped is not None:
        skipped.extend(b.missing)
    return b.files


@dataclass
class _Build:
    """The maps of one run as they are written: what they share, the files and the index."""

    incidents: gpd.GeoDataFrame
    layers: Layers
    out: Path
    common: dict[str, Any]
    static: bool
    online_tiles: bool
    files: list[Path] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    window_results: dict[str, dict] = field(default_factory=dict)
    #: draws a static picture: ``draw(function, *args, **kwargs)`` (here, or in a worker)
    draw: Callable[..., Any] = draw_here
    #: the change by neighborhood, by (before, after) windows: maps comparing the same
    #: windows share it (and so its layer's GeoJSON)
    changes: dict[tuple[Window, Window], Any] = field(default_factory=dict)

    def change(self, before: Window, after: Window):
        """:func:`change_by_neighborhood` of violent crime, once per pair of windows."""
        if (before, after) not in self.changes:
            self.changes[before, after] = change_by_neighborhood(
                self.incidents, self.layers, before, after
            )
        return self.changes[before, after]

    def save(self, data, name: str, *, analyst: bool = False) -> list:
        """The web map ``name``.html and, with ``static``, its PNG; returns the index links."""
        from .webmap import commander_map, save_map, static_map

        if self.static:  # handed over first: a worker draws it while the web map is built
            self.draw(static_map, data, self.out / f"{name}.png")
        m = commander_map(data, analyst=analyst, online_tiles=self.online_tiles)
        self.files.append(save_map(m, self.out / f"{name}.html"))
        if not self.static:
            return []
        self.files.append(self.out / f"{name}.png")
        return [("picture (PNG)", f"{name}.png")]

    def zone_maps(self, comparisons: dict, counterfactuals: dict, evaluations: dict, brief):
        """A commander map (and PNG, and brief) for every zone with a comparison."""
        zone_table = {}
        for table in comparisons.values():
            for zone in table["zone"].unique():
                if zone != "Citywide":
                    zone_table[zone] = table
        for zone in self.layers.zones["name"].astype(str):
            if zone not in zone_table:
                self.missing.append(
                    f"No map for the {zone} zone: it needs a start date and a full year of "
                    "data before and after it began."
                )
        slugs = Slugs()  # commander_<slug>.html: safe, and unique when names differ by case
        for zone, table in zone_table.items():
            data = self.zone_data(zone, table, counterfactuals.get(zone))
            slug = slugs(zone)
            if brief:  # handed over first: a worker draws it while the web map is built
                from .brief import write_brief

                self.draw(
                    write_brief,
                    data,
                    table,
                    self.out / f"brief_{slug}.pdf",
                    series=self.common["trends"].get(f"zone:{zone}"),
                    counterfactual=evaluations.get(zone),
                )
            links = self.save(data, f"commander_{slug}")
            if brief:
                self.files.append(self.out / f"brief_{slug}.pdf")
                links.append(("one-page brief (PDF)", f"brief_{slug}.pdf"))
            self.entries.append(
                dict(
                    title=f"{zone} Impact Zone",
                    href=f"commander_{slug}.html",
                    window=compare_phrase(*table.windows),
                    finding=" ".join(data.headline[:2]),
                    links=links,
                )
            )

    def zone_data(self, zone: str, table, counterfactual):
        """What a zone's commander map shows."""
        from .webmap import MapData, trend_svg

        before, after = table.windows
        zones = self.layers.zones
        start = zones.loc[zones["name"] == zone, "start"]
        start = pd.Timestamp(start.iloc[0]) if len(start) and pd.notna(start.iloc[0]) else None
        phrase = compare_phrase(before, after)
        return MapData(
            **self.after_hotspots(after),
            title=f"{zone} Impact Zone: {phrase}",
            zone=zone,
            headline=zone_headline(table, zone, self.common["ring"]),
            change=self.change(before, after),
            change_label=f"Change in violent crime, {phrase}",
            trend_start=start,
            chart=trend_svg(
                self.common["trends"].get(f"zone:{zone}"),
                start,
                label=f"Violent crimes a month in the {zone} zone",
            )
            + _counterfactual_html(counterfactual),
            **{k: v for k, v in self.common.items() if k not in ("results", "period")},
        )

    def after_hotspots(self, after: Window) -> dict:
        """The hot spots a commander map comparing up to ``after`` draws, and their label:
        those of ``after`` itself, or none."""
        if after.label == self.common["period"]:
            return {"results": self.common["results"], "period": after.label}
        return {"results": self.window_results.get(after.label, {}), "period": after.label}

    def citywide_map(self, year: int):
        """The citywide commander map: ``year`` against the year before."""
        from .webmap import MapData, trend_svg

        before, after = Window.year(year - 1), Window.year(year)
        phrase = compare_phrase(before, after)
        lines = _citywide_lines(self.incidents, before, after)
        tr = self.common["trends"]
        months = next(iter(tr.values())).index if tr else pd.DatetimeIndex([])
        data = MapData(
            title=f"Citywide: {phrase}",
            zone=None,
            headline=lines,
            show_change=True,
            change=self.change(before, after),
            change_label=f"Change in violent crime, {phrase}",
            chart=trend_svg(
                _city_series(self.incidents, months), None, label="Violent crimes a month citywide"
            )
            if len(months)
            else "",
            **self.common,
        )
        links = self.save(data, "citywide")
        self.entries.append(
            dict(
                title="Citywide (for commanders)",
                href="citywide.html",
                window=phrase,
                finding=" ".join(lines),
                links=links,
            )
        )
        return data

    def analyst_map(self, data, year: int, props, capture=None, capture_png=None) -> None:
        """The analyst map: every hot-spot layer and the proposed zones, from the citywide
        map's data."""
        from dataclasses import replace

        from ..hotspots import registry
        from .layers import drawn_layers
        from .webmap import commander_map, save_map, static_map

        # the proposals' capture curve: a layer of its own, off at first
        data = replace(data, analyst=True, proposals=props, capture=capture,
                       capture_png=capture_png, show_change=False)  # fmt: skip
        data.title = f"Analyst map: hot spots {year}"
        what = [registry.REGISTRY[name].title for name, *_ in drawn_layers(data, analyst=True)]
        if props is not None:
            what.append("proposed zones with their backtest")
        lead = "; ".join(what)
        lead = lead[:1].upper() + lead[1:]
        data.headline = [f"{lead}. Click a cell, a cluster or a zone for its figures."]
        m = commander_map(data, analyst=True, online_tiles=self.online_tiles)
        self.files.append(save_map(m, self.out / "analyst.html"))
        links = []
        if self.static:  # the picture has no popups: say what its marks are instead
            data.headline = [f"{lead} (proposed zones dotted, lettered as on the analyst map)."]
            self.draw(static_map, data, self.out / "analyst.png")
            self.files.append(self.out / "analyst.png")
            links.append(("picture (PNG)", "analyst.png"))
        finding = list(registry.headline(data.results)["findings"])
        if props is not None:
            finding.append(f"{len(props)} proposed zones from {column_label(props, 'period')} data")
        self.entries.append(
            dict(
                title="Analyst map",
                href="analyst.html",
                window=f"{year}",
                finding=", ".join(finding) + "." if finding else "",
                links=links,
            )
        )


def _write_index(entries: list[dict], missing: list[str], out: Path, note: str) -> Path:
    from .webmap import write_index

    rows = []
    for e in entries:
        desc = f"{e['window']}. {e['finding']}" if e["window"] else e["finding"]
        rows.append((e["title"], e["href"], desc, e.get("links", [])))
    others = [
        ("compare_*.md, .csv, .json", "the comparison tables, with the verdicts"),
        ("hotspots_*", "the hot-spot layers (KDE GeoTIFF, DBSCAN, Gi*) and their parameters"),
        ("proposals.geojson, proposals_backtest.csv", "the proposed zones and their backtest"),
        ("incidents.parquet", "every incident; rape, sexual-assault and domestic-violence ones "
         "without their points (their areas kept, so counts add up)"),
        ("summary.json", "the headline figures and the run's settings"),
    ]
    return write_index(
        rows,
        out / "index.html",
        title="impactzones maps",
        note=note,
        missing=missing,
        files=[
            (f, d)
            for f, d in others
            if f == "summary.json" or any(out.glob(f.split(",")[0].strip()))
        ],
        glossary=GLOSSARY,
    )

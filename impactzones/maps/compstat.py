"""The CompStat pages: the report as a printable HTML table and the 28-day hot-spot map.

The statistics are :func:`impactzones.evaluate.compstat.compstat`; this module writes what
people read (``compstat.csv``, ``compstat.html`` and ``compstat_hotspots.html``). Counts
only: no incident leaves as a point, and the 28-day map is a density surface.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.change import format_pct
from ..core.geo import Layers
from ..evaluate.compstat import PERIODS, CompStat, compstat, period_windows
from ..io.safety import source_label
from .cache import MapCache

__all__ = ["compstat_html", "write_compstat"]


def compstat_html(
    table: pd.DataFrame | CompStat, *, title: str, note: str = "", map_href: str | None = None
) -> str:
    """The CompStat table as a printable HTML page (every text cell escaped).

    Examples
    --------
    >>> t = pd.DataFrame([{"area_type": "City", "area": "<b>x</b>", "level": "group",
    ...                    "crime": "violent", "7 days": 3, "7 days, year before": 4,
    ...                    "7 days, change %": -25.0}])
    >>> "&lt;b&gt;x&lt;/b&gt;" in compstat_html(t, title="CompStat")
    True
    """
    from .webmap import esc

    periods = [p for p in PERIODS if p in table]
    head = "".join(f"<th colspan='3'>{esc(p)}</th>" for p in periods)
    sub = "".join("<th>now</th><th>year before</th><th>change</th>" for _ in periods)
    body = []
    for area, part in table.groupby("area", sort=False):
        body.append(
            f"<tr class='area'><th colspan='{1 + 3 * len(periods)}'>"
            f"{esc(part['area_type'].iloc[0])}: {esc(area)}</th></tr>"
        )
        for r in part.to_dict("records"):
            cells = "".join(
                f"<td>{r[p]:,}</td><td>{r[p + ', year before']:,}</td>"
                f"<td class='{_trend_class(r[p + ', change %'])}'>"
                f"{esc(format_pct(r[p + ', change %']))}</td>"
                for p in periods
            )
            label = esc(str(r["crime"]).replace("_", " "))
            cls = " class='part1'" if r["level"] == "Part I" else ""
            body.append(f"<tr{cls}><td>{label}</td>{cells}</tr>")
    windows = table.windows if isinstance(table, CompStat) else table.attrs.get("windows", {})
    wtxt = "; ".join(f"{esc(k)}: {esc(a)} vs {esc(b)}" for k, (a, b) in windows.items())
    link = f"<p><a href='{esc(map_href)}'>28-day hot spots map</a></p>" if map_href else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><style>"
        "body{font:13px/1.4 Arial,Helvetica,sans-serif;margin:1.5em;color:#222}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right;"
        "border-bottom:1px solid #eee}td:first-child{text-align:left;padding-left:1.2em}"
        "tr.area th{text-align:left;background:#f0f0f0;padding-top:8px}"
        "tr.part1 td:first-child{padding-left:2.4em;color:#555}.up{color:#b2182b}"
        ".down{color:#2166ac}@media print{body{margin:0}a{display:none}}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>{wtxt}</p>{link}"
        f"<table><thead><tr><th></th>{head}</tr><tr><th>crime</th>{sub}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table><p style='color:#666'>{esc(note)}</p>"
        "</body></html>"
    )


def _trend_class(pct: float) -> str:
    if pd.isna(pct) or pct == 0:
        return ""
    return "up" if pct > 0 else "down"


def write_compstat(
    incidents: pd.DataFrame,
    layers: Layers,
    as_of,
    out: str | Path,
    *,
    source: str = "",
    online_tiles: bool = False,
    cache: MapCache | None = None,
) -> tuple[CompStat, list[Path]]:
    """Write ``compstat.csv``, ``compstat.html`` and ``compstat_hotspots.html`` (the
    28-day violent-crime density map) into ``out``.

    ``cache``, when given, is shared with the run's other maps (:func:`~impactzones.maps.
    build_maps`'s ``cache``), which then make the layers they draw alike (the offline
    base, districts, neighborhoods, zones and rings) once.

    Examples
    --------
    >>> import tempfile
    >>> from impactzones.assign import assign
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = assign(synthesize(seed=1, years=[2017, 2018]).incidents, layers)
    >>> t, files = write_compstat(inc, layers, "2018-06-30", tempfile.mkdtemp())
    >>> sorted(p.name for p in files)
    ['compstat.csv', 'compstat.html', 'compstat_hotspots.html']
    """
    from ..io.writers import write_table, write_text

    out = Path(out)
    table = compstat(incidents, layers, as_of)
    as_of_txt = table.as_of
    named = source_label(source) if source else "incidents"
    note = (
        f"Data: {named}. Counts of incidents by the day they occurred; "
        "the same calendar days a year earlier for comparison. No incident is shown as a point."
    )
    files = [write_table(table, out / "compstat.csv")]
    map_file = _hotspot_map(incidents, layers, table, out, note, online_tiles, cache)
    files.append(
        write_text(
            compstat_html(
                table,
                title=f"CompStat to {as_of_txt}",
                note=note,
                map_href=map_file.name if map_file else None,
            ),
            out / "compstat.html",
        )
    )
    if map_file:
        files.append(map_file)
    return table, files


def _hotspot_map(incidents, layers, table, out: Path, note: str, online_tiles: bool, cache=None):
    """The last 28 days' violent crime as a density surface, zones and districts on top."""
    from ..cube import is_cube
    from ..hotspots import kde
    from .webmap import MapData, commander_map, save_map

    now, _before = period_windows(table.as_of)["28 days"]
    if is_cube(incidents):  # a daily count cube: the binned density of its cells
        sel = incidents.sel(group="violent", time=slice(str(now.start), str(now.end)))
        if int(sel["count"].sum()) < 10:
            return None
        surface = kde(sel)
    else:
        sel = incidents[
            (incidents["group"] == "violent")
            & now.contains(incidents["occurred_at"])
            & (incidents["area_type"] != "outside")
        ]
        if len(sel) < 10:
            return None
        surface = kde(sel, study_area=layers.land)
    city = table[(table["area"] == "Citywide") & (table["crime"] == "violent")].iloc[0]
    line = (
        f"Violent crime, last 28 days: {city['28 days']:,} against "
        f"{city['28 days, year before']:,} a year earlier "
        f"({format_pct(city['28 days, change %'])})."
    )
    data = MapData(
        layers=layers,
        title=f"Hot spots, 28 days to {table.as_of}",
        headline=[line],
        data_note=note,
        results={"kde": surface},
        labels={surface.map_layer: f"Violent crime density, {now.label}"},
        show_change=False,
        cache=cache,
    )
    return save_map(commander_map(data, online_tiles=online_tiles), out / "compstat_hotspots.html")

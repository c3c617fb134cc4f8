"""The CompStat view: the classic period report by district and by zone.

For a reporting date (``as_of``, included), each area (the city, each patrol district,
each Impact Zone) and each crime (the groups, then the Part I categories) gets its count in
the last 7 days, the last 28 days and the year to date, each beside the same calendar days
a year earlier, with the percent change. Counts only: no incident leaves as a point, and
the 28-day hot-spot map is a density surface.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.change import format_pct, percent_change
from ..core.errors import InputError
from ..core.geo import Layers
from ..core.schema import GROUPS, PART_I
from ..core.windows import Window
from .compare import TableView

__all__ = [
    "PERIODS",
    "CompStat",
    "compstat",
    "compstat_html",
    "period_windows",
    "write_compstat",
]

#: The report's periods: label -> days (None: the year to date).
PERIODS: dict[str, int | None] = {"7 days": 7, "28 days": 28, "Year to date": None}


def period_windows(as_of) -> dict[str, tuple[Window, Window]]:
    """Each period ending on ``as_of`` (included) and the same days a year earlier.

    Examples
    --------
    >>> w = period_windows("2019-03-31")
    >>> w["28 days"][0].label, w["28 days"][1].label
    ('2019-03-04 to 2019-03-31', '2018-03-04 to 2018-03-31')
    >>> w["Year to date"][1].label
    '2018-01-01 to 2018-03-31'
    """
    end = pd.Timestamp(as_of).date()
    out = {}
    for label, days in PERIODS.items():
        start = dt.date(end.year, 1, 1) if days is None else end - dt.timedelta(days=days - 1)
        now = Window(start, end)
        out[label] = (now, now.same_days_in(end.year - 1))
    return out


def _areas(incidents: pd.DataFrame, layers: Layers) -> list[tuple[str, str, pd.Series]]:
    inside = incidents["area_type"] != "outside"
    areas = [("City", "Citywide", inside)]
    for d in layers.districts.itertuples():
        # incidents outside every district have no district (NA): not in this one
        in_d = (incidents["district"] == d.district).astype("boolean").fillna(False)
        areas.append(("District", str(d.name), in_d.astype(bool)))
    for z in layers.zones["name"].astype(str):
        areas.append(("Impact Zone", z, incidents["zone"] == z))
    return areas


@dataclass(frozen=True, eq=False)
class CompStat(TableView):
    """The CompStat report: the table, the reporting date and the windows compared.

    Attributes
    ----------
    table : DataFrame
        One row per area and crime: counts and percent change for each period against
        the same days a year earlier.
    as_of : str
        The reporting date (``YYYY-MM-DD``, included).
    windows : dict of str to (str, str)
        Each period's window and the year-earlier one, as labels.

    Notes
    -----
    The report reads as its table (:class:`~impactzones.evaluate.compare.TableView`), and
    ``report.attrs`` gives ``windows`` and ``as_of`` as earlier versions kept them in the
    table's ``DataFrame.attrs``.
    """

    table: pd.DataFrame
    as_of: str
    windows: dict[str, tuple[str, str]]

    @property
    def params(self) -> dict[str, Any]:
        """The reporting date and the windows compared."""
        return {"as_of": self.as_of, "windows": self.windows, "periods": dict(PERIODS)}

    @property
    def attrs(self) -> dict[str, Any]:
        """``windows`` and ``as_of``, as earlier versions kept them in the table's attrs."""
        return {"windows": self.windows, "as_of": self.as_of}


def compstat(incidents: pd.DataFrame, layers: Layers, as_of) -> CompStat:
    """The CompStat report: one row per area and crime, counts and percent change for
    each period against the same days a year earlier (see :class:`CompStat`).

    ``incidents`` must be assigned (:func:`impactzones.assign.assign`).

    Examples
    --------
    >>> from impactzones.assign import assign
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = assign(synthesize(seed=1, years=[2017, 2018]).incidents, layers)
    >>> t = compstat(inc, layers, "2018-12-31")
    >>> city = t[(t["area"] == "Citywide") & (t["crime"] == "violent")].iloc[0]
    >>> int(city["Year to date"]), int(city["Year to date, year before"])
    (5525, 6459)
    """
    t = incidents["occurred_at"]
    as_of = pd.Timestamp(as_of)
    if len(t) == 0:
        raise InputError("No incidents are left to count; see the rejects for why.")
    if as_of < t.min() or as_of > t.max() + pd.Timedelta(days=1):
        raise InputError(
            f"--as-of {as_of:%Y-%m-%d} is outside the data ({t.min():%Y-%m-%d} to "
            f"{t.max():%Y-%m-%d}); give a date the incidents cover."
        )
    windows = period_windows(as_of)
    masks = {
        label: (now.contains(t).to_numpy(), before.contains(t).to_numpy())
        for label, (now, before) in windows.items()
    }
    crimes = [("group", g) for g in GROUPS] + [("Part I", c) for c in PART_I]
    rows = []
    for kind, name, area in _areas(incidents, layers):
        area = area.fillna(False).to_numpy(dtype=bool)  # unknown district: not in it
        for level, crime in crimes:
            col = "group" if level == "group" else "category"
            sel = area & (incidents[col] == crime).fillna(False).to_numpy(dtype=bool)
            row: dict[str, object] = {
                "area_type": kind,
                "area": name,
                "level": level,
                "crime": crime,
            }
            for label, (now, before) in masks.items():
                a, b = int((sel & now).sum()), int((sel & before).sum())
                row[label] = a
                row[f"{label}, year before"] = b
                row[f"{label}, change %"] = percent_change(b, a)
            rows.append(row)
    return CompStat(
        table=pd.DataFrame(rows),
        as_of=f"{as_of:%Y-%m-%d}",
        windows={k: (v[0].label, v[1].label) for k, v in windows.items()},
    )


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
    from ..maps.webmap import esc

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
) -> tuple[pd.DataFrame, list[Path]]:
    """Write ``compstat.csv``, ``compstat.html`` and ``compstat_hotspots.html`` (the
    28-day violent-crime density map) into ``out``.

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
    note = (
        f"Data: {source or 'incidents'}. Counts of incidents by the day they occurred; "
        "the same calendar days a year earlier for comparison. No incident is shown as a point."
    )
    files = [write_table(table, out / "compstat.csv")]
    map_file = _hotspot_map(incidents, layers, table, out, note, online_tiles)
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


def _hotspot_map(incidents, layers, table, out: Path, note: str, online_tiles: bool):
    """The last 28 days' violent crime as a density surface, zones and districts on top."""
    from ..hotspots import kde
    from ..maps.webmap import MapData, commander_map, save_map

    now, _before = period_windows(table.as_of)["28 days"]
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
    )
    return save_map(commander_map(data, online_tiles=online_tiles), out / "compstat_hotspots.html")

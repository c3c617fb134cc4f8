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
from typing import Any

import pandas as pd

from ..core.change import percent_change
from ..core.errors import InputError
from ..core.geo import Layers
from ..core.schema import GROUPS, PART_I
from ..core.windows import Window
from .compare import TableView

__all__ = ["PERIODS", "CompStat", "compstat", "period_windows"]

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


def __getattr__(name: str) -> Any:
    """``compstat_html`` and ``write_compstat`` moved to :mod:`impactzones.maps.compstat`
    (pages are outputs; the statistics stay here): the old path keeps working."""
    if name in ("compstat_html", "write_compstat"):
        from ..maps import compstat as pages

        return getattr(pages, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

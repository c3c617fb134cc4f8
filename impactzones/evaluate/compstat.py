"""The CompStat view: the classic period report by district and by zone.

For a reporting date (``as_of``, included), each area (the city, each patrol district,
each Impact Zone) and each crime (the groups, then the Part I categories) gets its count in
the last 7 days, the last 28 days and the year to date, each beside the same calendar days
a year earlier, with the percent change. Counts only: no incident leaves as a point, and
the 28-day hot-spot map is a density surface.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..core.change import percent_change
from ..core.errors import InputError
from ..core.geo import Layers
from ..core.schema import GROUPS, PART_I
from ..core.windows import Window
from ..cube import is_cube
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
    source: dict[str, Any] = field(default_factory=lambda: {"input": "incidents"})

    @property
    def params(self) -> dict[str, Any]:
        """The reporting date, the windows compared and what was counted (``source``)."""
        return {
            "as_of": self.as_of,
            "windows": self.windows,
            "periods": dict(PERIODS),
            "source": dict(self.source),
        }

    @property
    def attrs(self) -> dict[str, Any]:
        """``windows`` and ``as_of``, as earlier versions kept them in the table's attrs."""
        return {"windows": self.windows, "as_of": self.as_of}


def compstat(incidents: pd.DataFrame, layers: Layers, as_of) -> CompStat:
    """The CompStat report: one row per area and crime, counts and percent change for
    each period against the same days a year earlier (see :class:`CompStat`).

    ``incidents`` must be assigned (:func:`impactzones.assign.assign`), or be a daily count
    cube (:func:`impactzones.cube.build_cube` with ``freq="day"``, or the distributed
    path's): then the report has the crime groups' rows (the cube counts groups, not Part I
    categories), each district and zone counted exactly when the cube counted them
    (``build_cube(zones=..., districts=...)``, the distributed path), else each cell where
    its centre lies; ``params["source"]`` says which.

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
    if is_cube(incidents):
        return _compstat_cube(incidents, layers, as_of)
    t = incidents["occurred_at"]
    if len(t) == 0:
        raise InputError("No incidents are left to count; see the rejects for why.")
    as_of = _checked_as_of(as_of, t.min(), t.max())
    windows = period_windows(as_of)
    masks = {
        label: (now.contains(t).to_numpy(), before.contains(t).to_numpy())
        for label, (now, before) in windows.items()
    }
    crimes = [("group", g) for g in GROUPS] + [("Part I", c) for c in PART_I]
    # only the rows in some window count: every mask below is cut to them once
    keep = np.logical_or.reduce([m for pair in masks.values() for m in pair])
    masks = {label: (now[keep], before[keep]) for label, (now, before) in masks.items()}
    of_crime = {
        (level, crime): _is(incidents, "group" if level == "group" else "category", crime, keep)
        for level, crime in crimes
    }
    rows = []
    for kind, name, area in _areas(incidents, layers):
        area = area.fillna(False).to_numpy(dtype=bool)[keep]  # unknown district: not in it
        for level, crime in crimes:
            sel = area & of_crime[level, crime]
            row: dict[str, object] = {
                "area_type": kind,
                "area": name,
                "level": level,
                "crime": crime,
            }
            for label, (now, before) in masks.items():
                a, b = int(np.count_nonzero(sel & now)), int(np.count_nonzero(sel & before))
                row[label] = a
                row[f"{label}, year before"] = b
                row[f"{label}, change %"] = percent_change(b, a)
            rows.append(row)
    return CompStat(
        table=pd.DataFrame(rows),
        as_of=f"{as_of:%Y-%m-%d}",
        windows={k: (v[0].label, v[1].label) for k, v in windows.items()},
    )


def _is(incidents: pd.DataFrame, col: str, value: str, keep: np.ndarray) -> np.ndarray:
    """Whether each kept row's ``col`` is ``value`` (missing: no), as booleans."""
    return (incidents[col][keep] == value).fillna(False).to_numpy(dtype=bool)


def _checked_as_of(as_of, lo, hi) -> pd.Timestamp:
    """The reporting date, refused (one sentence) outside the data's days."""
    as_of = pd.Timestamp(as_of)
    if as_of < pd.Timestamp(lo) or as_of > pd.Timestamp(hi) + pd.Timedelta(days=1):
        raise InputError(
            f"--as-of {as_of:%Y-%m-%d} is outside the data ({pd.Timestamp(lo):%Y-%m-%d} to "
            f"{pd.Timestamp(hi):%Y-%m-%d}); give a date the incidents cover."
        )
    return as_of


def _compstat_cube(cube, layers: Layers, as_of) -> CompStat:
    """:func:`compstat` from a daily count cube: the crime groups' rows."""
    from ..cube import cube_freq, cube_grid, cube_span
    from ._from_cube import compstat_areas, window_periods

    if cube_freq(cube) != "day":
        raise InputError(
            "CompStat counts the last 7 and 28 days, so it needs a daily cube "
            "(build_cube(..., freq='day')); this cube counts whole months."
        )
    as_of = _checked_as_of(as_of, *cube_span(cube))
    windows = period_windows(as_of)
    kinds, series, exact = compstat_areas(cube, layers)
    groups = [str(g) for g in cube["group"].values]
    masks = {k: (window_periods(cube, n), window_periods(cube, b)) for k, (n, b) in windows.items()}
    rows = []
    for j, (kind, name) in enumerate(kinds):
        for crime in (g for g in GROUPS if g in groups):
            s = series[:, groups.index(crime), j]
            row: dict[str, object] = {"area_type": kind, "area": name, "level": "group"}
            row["crime"] = crime
            for label, (now, before) in masks.items():
                a, b = int(s[now].sum()), int(s[before].sum())
                row[label] = a
                row[f"{label}, year before"] = b
                row[f"{label}, change %"] = percent_change(b, a)
            rows.append(row)
    membership = (
        "exact" if exact else "cell centre: every incident of a cell counts where its centre lies"
    )
    return CompStat(
        table=pd.DataFrame(rows),
        as_of=f"{as_of:%Y-%m-%d}",
        windows={k: (v[0].label, v[1].label) for k, v in windows.items()},
        source={
            "input": "count cube",
            "cell_size_m": float(cube_grid(cube).cell),
            "membership": membership,
            "levels": ["group"],
        },
    )


def __getattr__(name: str) -> Any:
    """``compstat_html`` and ``write_compstat`` moved to :mod:`impactzones.maps.compstat`
    (pages are outputs; the statistics stay here): the old path keeps working."""
    if name in ("compstat_html", "write_compstat"):
        from ..maps import compstat as pages

        return getattr(pages, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

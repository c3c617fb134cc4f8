"""The count cube as the input of a comparison or a CompStat report: counts by area and
period, read off the cube's cells instead of the incidents.

A cell belongs to a zone, a ring or the control area when its **centre** does (the rule
the proposal page uses): every incident of a cell counts where the cell's centre is. An
incident in a cell that a zone's (or ring's) edge cuts may therefore count on the other
side of the edge; no other incident moves. Incidents at their cell's centre count exactly
as the incident path counts them (tested). The cube's own study area decides which
incidents count at all (it counted only those inside it).

Windows must be whole periods of the cube: any days on a daily cube, whole months on a
monthly one.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.geometry import locate_all, ring_polygons
from ..core.windows import Window

__all__: list[str] = []


def cube_span(cube) -> tuple[dt.date, dt.date]:
    """The first and last day of the data the cube counted: the dates it recorded
    (``first_day`` / ``last_day``), else its first period's start and last period's end."""
    starts = pd.DatetimeIndex(cube["time"].values)
    if len(starts) == 0:
        raise InputError("The count cube has no time periods; there is nothing to compare.")
    freq = cube_freq(cube)
    step = pd.offsets.Day(1) if freq == "day" else pd.offsets.MonthBegin(1)
    lo = pd.Timestamp(cube.attrs.get("first_day", starts[0])).date()
    hi_default = (starts[-1] + step - pd.Timedelta(days=1)).date()
    hi = pd.Timestamp(cube.attrs.get("last_day", hi_default)).date()
    return lo, hi


def cube_freq(cube) -> str:
    """``"day"`` or ``"month"``: the length of the cube's periods."""
    freq = cube.attrs.get("freq")
    if freq in ("day", "month"):
        return str(freq)
    starts = pd.DatetimeIndex(cube["time"].values)
    return "day" if len(starts) > 1 and (starts[1] - starts[0]).days == 1 else "month"


def check_whole_periods(cube, *windows: Window) -> None:
    """Refuse a window a monthly cube cannot count: one not made of whole months."""
    if cube_freq(cube) == "day":
        return
    for w in windows:
        if w.start.day != 1 or (w.end + dt.timedelta(days=1)).day != 1:
            raise InputError(
                f"The cube counts whole months, so it cannot count the window {w.label}; "
                "give windows of whole months, or build a daily cube (freq='day')."
            )


def cube_crimes(cube, by: str, crimes) -> list[str]:
    """The crime groups compared, checked against the cube's ``group`` coordinate."""
    known = [str(g) for g in cube["group"].values]
    if by != "group":
        raise InputError(
            "The count cube counts crime groups, not categories; compare by group, or give "
            "the incidents to compare by category."
        )
    crimes = ["violent", "property"] if crimes is None else list(crimes)
    unknown = [c for c in crimes if c not in known]
    if unknown:
        raise InputError(
            f"The count cube has no crime group {', '.join(map(repr, unknown))}; "
            f"it counts {', '.join(known)}."
        )
    return crimes


def occupied_cells(cube) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres (x, y, metres) of the cells holding any incident, and the cube's counts
    there as an array ``(time, group, cells)``."""
    da = cube["count"].transpose("time", "group", "y", "x")
    values = np.asarray(da.values)
    any_count = values.reshape(-1, values.shape[2] * values.shape[3]).any(axis=0)
    flat = np.flatnonzero(any_count)
    rows, cols = np.divmod(flat, values.shape[3])
    xs, ys = np.asarray(cube["x"].values, float), np.asarray(cube["y"].values, float)
    counts = values.reshape(values.shape[0], values.shape[1], -1)[:, :, flat]
    return xs[cols], ys[rows], counts.astype(np.int64)


def cell_areas(x, y, zones, ring: float, study_area) -> np.ndarray:
    """Which areas hold each cell centre (cells x areas: each zone, each ring, the control
    area, then the whole cube), by the rules of the incident path."""
    in_zone = locate_all(x, y, list(zones.geometry))
    rings = ring_polygons(zones, ring, study_area)
    in_ring = locate_all(x, y, rings) & ~in_zone.any(axis=1, keepdims=True)
    # every incident the cube counted is inside its study area: no test against it here
    control = ~in_zone.any(axis=1) & ~in_ring.any(axis=1)
    return np.column_stack([in_zone, in_ring, control, np.ones(len(x), bool)])


def area_series(cube, zones, ring: float, study_area) -> np.ndarray:
    """Counts ``(time, group, areas)``: each zone, each ring, the control area and the
    whole cube (cell-centre membership)."""
    x, y, counts = occupied_cells(cube)
    member = cell_areas(x, y, zones, ring, study_area).astype(np.int64)
    return np.einsum("tgc,ca->tga", counts, member)


def window_periods(cube, w: Window) -> np.ndarray:
    """Which of the cube's periods lie inside ``w`` (boolean, one per period)."""
    starts = pd.DatetimeIndex(cube["time"].values)
    return np.asarray((starts >= pd.Timestamp(w.start)) & (starts <= pd.Timestamp(w.end)))


def before_months(cube, b: Window) -> tuple[np.ndarray, int]:
    """Each period's month index within the before window (months wholly inside it; -1
    elsewhere) and the number of months the incident path counts (up to the last one with
    any incident)."""
    first = pd.Period(b.start, "M") + (0 if b.start.day == 1 else 1)
    last = pd.Period(b.end, "M") - (0 if (b.end + dt.timedelta(days=1)).day == 1 else 1)
    starts = pd.DatetimeIndex(cube["time"].values)
    k = np.full(len(starts), -1)
    if last < first:
        return k, 0
    per = starts.to_period("M")
    idx = np.asarray([(p - first).n for p in per])
    ok = (idx >= 0) & (idx <= (last - first).n)
    k[ok] = idx[ok]
    totals = np.asarray(cube["count"].sum(dim=[d for d in cube["count"].dims if d != "time"]))
    busy = k[(k >= 0) & (totals > 0)]
    return k, (int(busy.max()) + 1 if len(busy) else 0)


def month_table(series: np.ndarray, months: np.ndarray, n_months: int) -> np.ndarray:
    """Areas x months: the counts of ``series`` (periods x areas) by before-window month."""
    out = np.zeros((series.shape[1], n_months), np.int64)
    keep = (months >= 0) & (months < n_months)
    np.add.at(out.T, months[keep], series[keep])
    return out

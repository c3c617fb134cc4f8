"""The count cube as the input of a comparison or a CompStat report: counts by area and
period, read off the cube instead of the incidents.

When the cube counted its incidents in these very zones, rings and study area
(``area_count``, see :func:`impactzones.cube.area_members`), those exact counts are used.
Otherwise a cell belongs to a zone, a ring or the control area when its **centre** does (the rule
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
import shapely

from ..core.errors import InputError
from ..core.geometry import locate_all, ring_polygons
from ..core.windows import Window
from ..cube import cube_freq

__all__: list[str] = []


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


def cell_areas(x, y, cell: float, zones, ring: float, study_area) -> np.ndarray:
    """Which areas hold each cell centre (cells x areas: each zone, each ring, the control
    area, the whole cube), by the rules of the incident path, and last, whether a zone's
    or a ring's edge cuts the cell (its incidents may lie on the other side)."""
    in_zone = locate_all(x, y, list(zones.geometry))
    rings = ring_polygons(zones, ring, study_area)
    in_ring = locate_all(x, y, rings) & ~in_zone.any(axis=1, keepdims=True)
    # every incident the cube counted is inside its study area: no test against it here
    control = ~in_zone.any(axis=1) & ~in_ring.any(axis=1)
    edges = shapely.union_all(shapely.boundary([*zones.geometry, *rings]))
    half = cell / 2
    cut = shapely.intersects(shapely.box(x - half, y - half, x + half, y + half), edges)
    return np.column_stack([in_zone, in_ring, control, np.ones(len(x), bool), cut])


def exact_areas(cube, zones, ring: float, study_area) -> bool:
    """Whether the cube counted its incidents in exactly these zones, rings and study area
    (its ``area_count``), so that no cell needs to be placed by its centre."""
    from ..cube import area_key

    if "area_count" not in getattr(cube, "data_vars", {}) or "areas_key" not in cube.attrs:
        return False
    return bool(cube.attrs["areas_key"] == area_key(zones, ring, study_area))


def area_series(cube, zones, ring: float, study_area, exact: bool) -> np.ndarray:
    """Counts ``(time, group, areas)``: each zone, each ring, the control area, the whole
    cube and (last) the incidents in cells a zone or ring edge cuts; from the cube's exact
    per-area counts when ``exact`` (no cell is then cut), else each cell counted where its
    centre lies."""
    if exact:
        names = zones["name"].astype(str).tolist()
        labels = [f"zone:{n}" for n in names] + [f"ring:{n}" for n in names] + ["control"]
        da = cube["area_count"].sel(area=labels).transpose("time", "group", "area")
        total = city_counts(cube)[:, :, None]
        return np.concatenate([np.asarray(da.values, np.int64), total, 0 * total], axis=2)
    from ..cube import cube_grid

    x, y, counts = occupied_cells(cube)
    member = cell_areas(x, y, cube_grid(cube).cell, zones, ring, study_area).astype(np.int64)
    return np.einsum("tgc,ca->tga", counts, member)


def city_counts(cube) -> np.ndarray:
    """Counts ``(time, group)`` of the whole city: the cube's ``city`` area when it has one
    (which also holds private rows kept without a point), else its cells' sum."""
    if "area" in cube.coords and "city" in set(cube["area"].values):
        da = cube["area_count"].sel(area="city").transpose("time", "group")
    else:
        da = cube["count"].sum(dim=["y", "x"]).transpose("time", "group")
    return np.asarray(da.values).astype(np.int64)


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


def compstat_areas(cube, layers) -> tuple[list[tuple[str, str]], np.ndarray, bool]:
    """CompStat's areas (kind, name: the city, each district, each zone), their counts
    ``(time, group, areas)`` and whether those are exact (the cube counted its incidents
    in these very districts and zones) or by cell centre."""
    from ..core.geometry import locate, locate_districts

    districts, zones = layers.districts, layers.zones
    kinds = [("City", "Citywide")]
    kinds += [("District", str(d.name)) for d in districts.itertuples()]
    kinds += [("Impact Zone", z) for z in zones["name"].astype(str)]
    from ..cube import shapes_key

    exact = (
        "area_count" in getattr(cube, "data_vars", {})
        and cube.attrs.get("zones_key") == shapes_key(zones, "name")
        and cube.attrs.get("districts_key") == shapes_key(districts, "district")
    )
    total = city_counts(cube)
    if exact:
        labels = [f"district:{d}" for d in districts["district"]]
        labels += [f"zone:{z}" for z in zones["name"].astype(str)]
        da = cube["area_count"].sel(area=labels).transpose("time", "group", "area")
        parts = np.asarray(da.values, np.int64)
    else:  # the first district and the first zone holding each cell's centre
        x, y, counts = occupied_cells(cube)
        # a centre in no district: as assign places it
        d_pos = locate_districts(x, y, districts.geometry, layers.study_area)
        ids = districts["district"].to_numpy()
        in_d = np.column_stack([(d_pos >= 0) & (ids[np.maximum(d_pos, 0)] == i) for i in ids])
        z_pos = locate(x, y, list(zones.geometry))
        in_z = z_pos[:, None] == np.arange(len(zones))[None, :]
        member = np.column_stack([in_d, in_z]).astype(np.int64)
        parts = np.einsum("tgc,ca->tga", counts, member)
    return kinds, np.concatenate([total.astype(np.int64)[:, :, None], parts], axis=2), exact

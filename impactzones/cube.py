"""The count cube: incidents counted by grid cell x period x crime group, built once.

Most analyses reduce incidents to counts by cell, by period and by crime before doing
anything else (Gi*, binned kernel density, comparisons, CompStat windows). The cube is that
aggregate, made once and shared: an :class:`xarray.Dataset` with

* ``count`` (int32), dimensions ``(time, group, y, x)``: incidents of each crime group in
  each cell (on the analysis :class:`~impactzones.core.grid.Grid`) in each period (a day or a
  month, labelled by its first day);
* ``in_study_area`` (bool, ``(y, x)``): the grid's mask (cells whose centre is inside);
* optionally ``area_count`` (int32, ``(time, group, area)``): the same incidents counted
  exactly where they lie, in each Impact Zone, its displacement ring, the control area,
  each patrol district and the city (``city``: also the private rows kept without a
  point, placed by their labels) (:func:`area_members`; ``build_cube(zones=...)``, and always
  on the distributed path, which labels every incident per partition). A comparison or a
  CompStat report from the cube reads these exact counts when its zones, ring and study
  area are the ones counted (``attrs["areas_key"]``), and otherwise counts each cell where
  its centre lies;
* attributes ``freq`` (``"day"`` or ``"month"``), ``cell_size_m``, the incidents counted
  and left out, and ``first_day`` / ``last_day``: the first and last day of the incidents
  counted (a monthly cube's periods alone do not say where the data end);
* ``x``, ``y``: the cell centres in metres, ``y`` decreasing (north up), as rioxarray and
  GDAL expect, with a CF ``spatial_ref`` coordinate holding the CRS (WKT) and the GDAL
  ``GeoTransform``: ``cube.rio.crs`` and ``cube.rio.transform()`` work when rioxarray is
  installed, and QGIS/GDAL open the file as a georeferenced raster.

Only incidents inside the study area are counted (as :func:`~impactzones.hotspots.gistar`
and :func:`~impactzones.hotspots.kde` count them); the numbers left out are in the
attributes.

**File format: NetCDF-4** (:func:`write_cube`, :func:`read_cube`). One self-describing,
compressed file (the many empty cells cost almost nothing), CF conventions that GDAL, QGIS,
R and xarray read, and no extra dependency beyond ``h5netcdf``. Zarr suits many writers on
object storage, but the cube is a reduction (a few MB for a city, even from billions of
incidents; the distributed path reduces to it on the client), so one writer is enough; a
long-form GeoParquet would repeat the cell geometry on every (cell, period, group) row.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .core.compat import renamed_keyword
from .core.defaults import RING, check_params
from .core.errors import InputError
from .core.grid import Grid
from .core.schema import GROUPS

__all__ = [
    "FREQS",
    "area_counts",
    "area_key",
    "area_members",
    "areas_attrs",
    "build_cube",
    "cube_counts",
    "cube_freq",
    "cube_grid",
    "cube_span",
    "cube_to_grid_counts",
    "data_span",
    "is_cube",
    "periods",
    "pointless_members",
    "read_cube",
    "shapes_key",
    "to_dataset",
    "write_cube",
]

#: Period lengths of the time axis (pandas frequencies of the period starts).
FREQS = {"day": "D", "month": "MS"}


def _xarray():
    try:
        import xarray as xr
    except ImportError as exc:  # pragma: no cover - the scale extra
        raise InputError("The count cube needs xarray: pip install 'impactzones[scale]'.") from exc
    return xr


def periods(tmin, tmax, freq: str = "month") -> pd.DatetimeIndex:
    """Period starts covering ``tmin`` to ``tmax`` (whole days or months).

    Examples
    --------
    >>> periods("2018-01-15", "2018-03-02").strftime("%Y-%m-%d").tolist()
    ['2018-01-01', '2018-02-01', '2018-03-01']
    """
    if freq not in FREQS:
        raise InputError(f"freq must be one of {sorted(FREQS)}, got {freq!r}.")
    lo, hi = pd.Timestamp(tmin), pd.Timestamp(tmax)
    start = lo.normalize() if freq == "day" else lo.normalize().replace(day=1)
    return pd.date_range(start, hi, freq=FREQS[freq])


def cube_counts(
    x: np.ndarray,
    y: np.ndarray,
    times: np.ndarray,
    groups: np.ndarray,
    grid: Grid,
    starts: pd.DatetimeIndex,
    group_names=GROUPS,
    freq: str | None = None,
) -> np.ndarray:
    """Counts (int64) of shape ``(periods, groups, height, width)`` from arrays.

    Points outside the grid, before the first period start, or in a group not in
    ``group_names`` are not counted (the caller has already left out the points outside
    the study area). Periods end where the next starts; the last is one ``freq`` long
    (``"day"`` or ``"month"``; by default inferred from ``starts``).

    Examples
    --------
    >>> from shapely import box
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
    >>> t = pd.to_datetime(["2018-01-05", "2018-02-01", "2018-02-03"]).to_numpy()
    >>> c = cube_counts(np.array([50.0, 150, 150]), np.array([50.0, 50, 50]), t,
    ...                 np.array(["violent"] * 3), g, periods("2018-01-01", "2018-02-28"))
    >>> c[:, 0, 0].tolist()
    [[1, 0], [0, 2]]
    """
    k, gcode = _period_group(times, groups, starts, group_names, freq)
    row, col, ok = grid.cell_of(x, y)
    ok &= (k >= 0) & (gcode >= 0)
    ng = len(group_names)
    flat = ((k[ok] * ng + gcode[ok]) * grid.height + row[ok]) * grid.width + col[ok]
    size = len(starts) * ng * grid.height * grid.width
    return np.bincount(flat, minlength=size).reshape(len(starts), ng, grid.height, grid.width)


def _period_group(times, groups, starts, group_names, freq: str | None):
    """Each incident's period (index into ``starts``) and group code; -1 when outside."""
    if freq is None:  # from the starts themselves (one start: its index's frequency)
        one_day = len(starts) > 1 and (starts[1] - starts[0]) == pd.Timedelta(days=1)
        freq = "day" if one_day or getattr(starts, "freqstr", None) == "D" else "month"
    step = pd.tseries.frequencies.to_offset(FREQS[freq])
    edges = starts.append(pd.DatetimeIndex([starts[-1] + step]))
    t = pd.DatetimeIndex(times).as_unit("ns").asi8
    k = np.searchsorted(edges.as_unit("ns").asi8, t, side="right") - 1
    k[k >= len(starts)] = -1
    gcode = pd.Categorical(np.asarray(groups, dtype=object), categories=list(group_names)).codes
    return k, gcode


def area_members(x, y, zones, ring: float, study_area=None, districts=None):
    """The areas a comparison and a CompStat report count in, and which hold each point.

    Areas, in order: ``zone:<name>`` (each zone; a point may be in several),
    ``ring:<name>`` (each zone's displacement ring of ``ring`` metres, outside every zone,
    clipped to the study area), ``control`` (in no zone or ring), then ``district:<id>``
    (the first district holding the point, or the nearest within
    :data:`~impactzones.core.defaults.DISTRICT_REACH` of a point in none, as
    :func:`impactzones.assign.assign` labels it) when ``districts`` (with a ``district``
    column) are given. The rules are :func:`impactzones.evaluate.compare.compare_zones`'
    for points inside the study area.

    Returns
    -------
    labels : list of str
    members : ndarray of bool, points x areas

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> zones = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)], crs=32615)
    >>> labels, m = area_members(np.array([50.0, 150, 900]), np.array([50.0, 50, 50]), zones, 100)
    >>> labels, m.astype(int).tolist()
    (['zone:A', 'ring:A', 'control'], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    """
    from .core.geometry import locate_all, locate_districts, ring_polygons

    names = zones["name"].astype(str).tolist()
    in_zone = locate_all(x, y, list(zones.geometry))
    in_ring = locate_all(x, y, ring_polygons(zones, ring, study_area))
    in_ring &= ~in_zone.any(axis=1, keepdims=True)
    control = np.asarray(~in_zone.any(axis=1) & ~in_ring.any(axis=1), dtype=bool)
    labels = [f"zone:{n}" for n in names] + [f"ring:{n}" for n in names] + ["control"]
    parts = [in_zone, in_ring, control[:, None]]
    if districts is not None:
        ids = districts["district"].tolist()
        order = list(dict.fromkeys(ids))
        pos = locate_districts(x, y, districts.geometry, study_area)
        which = np.array([order.index(i) for i in ids] + [-1])[pos]  # -1: in none
        labels += [f"district:{i}" for i in order]
        parts.append(which[:, None] == np.arange(len(order))[None, :])
    return labels, np.column_stack(parts)


def areas_attrs(zones, ring: float, study_area=None, districts=None) -> dict:
    """The attributes that say which areas a cube's ``area_count`` was counted in: the
    ring (metres) and the fingerprints of the zones with their rings and study area
    (:func:`area_key`), of the zones alone and of the districts (:func:`shapes_key`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> zones = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)], crs=32615)
    >>> sorted(areas_attrs(zones, 400))
    ['areas_key', 'areas_ring_m', 'zones_key']
    """
    out = {
        "areas_ring_m": float(ring),
        "areas_key": area_key(zones, ring, study_area),
        "zones_key": shapes_key(zones, "name"),
    }
    if districts is not None:
        out["districts_key"] = shapes_key(districts, "district")
    return out


def area_key(zones, ring: float, study_area=None) -> str:
    """A fingerprint of the zones, their rings and the study area (to 1 cm): a cube's
    per-area counts serve a comparison only with the areas they were counted in.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> zones = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)], crs=32615)
    >>> area_key(zones, 400) == area_key(zones, 400), area_key(zones, 400) == area_key(zones, 300)
    (True, False)
    """
    import hashlib

    import shapely

    from .core.geometry import ring_polygons

    shapes = [*zones.geometry, *ring_polygons(zones, ring, study_area)]
    if study_area is not None:
        shapes.append(getattr(study_area, "union_all", lambda: study_area)())
    h = hashlib.sha256("\x1f".join(zones["name"].astype(str)).encode())
    for g in shapes:
        g = shapely.normalize(shapely.set_precision(g, 0.01))
        h.update(shapely.to_wkb(g, hex=False))
    return h.hexdigest()[:20]


def shapes_key(layer, column: str) -> str:
    """A fingerprint of a layer's shapes (to 1 cm) and their ``column`` labels: a cube's
    counts by district or zone serve a report only on the same districts or zones.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> a = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)], crs=32615)
    >>> shapes_key(a, "name") == shapes_key(a.assign(name="B"), "name")
    False
    """
    import hashlib

    import shapely

    h = hashlib.sha256("\x1f".join(layer[column].astype(str)).encode())
    for g in layer.geometry:
        h.update(shapely.to_wkb(shapely.normalize(shapely.set_precision(g, 0.01))))
    return h.hexdigest()[:20]


def area_counts(members, times, groups, starts, group_names=GROUPS, freq=None) -> np.ndarray:
    """Counts (int64) of shape ``(periods, groups, areas)``: the incidents of each area
    (columns of ``members``, from :func:`area_members`) by period and group.

    Examples
    --------
    >>> m = np.array([[True, False], [True, True]])
    >>> t = pd.to_datetime(["2018-01-05", "2018-02-01"]).to_numpy()
    >>> area_counts(m, t, np.array(["violent"] * 2), periods("2018-01-01", "2018-02-28"))[:, 0]
    array([[1, 0],
           [1, 1]])
    """
    k, gcode = _period_group(times, groups, starts, group_names, freq)
    ok = (k >= 0) & (gcode >= 0)
    point, area = np.nonzero(np.asarray(members, bool)[ok])
    ng, na = len(group_names), members.shape[1]
    flat = (k[ok][point] * ng + gcode[ok][point]) * na + area
    return np.bincount(flat, minlength=len(starts) * ng * na).reshape(len(starts), ng, na)


def _grid_coords(grid: Grid) -> dict:
    xs = grid.x0 + (np.arange(grid.width) + 0.5) * grid.cell
    ys = grid.y0 - (np.arange(grid.height) + 0.5) * grid.cell
    return {"x": xs, "y": ys}


def _spatial_ref(grid: Grid) -> dict:
    """CF grid-mapping attributes, as rioxarray writes them (CRS WKT and GDAL transform)."""
    t = grid.transform
    wkt = grid.crs.to_wkt()
    attrs = grid.crs.to_cf()
    attrs.update(
        {
            "crs_wkt": wkt,
            "spatial_ref": wkt,
            "GeoTransform": " ".join(str(v) for v in (t.c, t.a, t.b, t.f, t.d, t.e)),
        }
    )
    return attrs


def to_dataset(counts: np.ndarray, grid: Grid, starts, group_names=GROUPS, attrs=None, areas=None):
    """Wrap a counts array ``(periods, groups, height, width)`` as the cube Dataset.

    ``areas``, optional: ``(labels, counts)`` with counts ``(periods, groups, areas)``
    (:func:`area_counts`), kept as ``area_count`` along an ``area`` dimension.

    Examples
    --------
    >>> from shapely import box
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
    >>> ds = to_dataset(np.zeros((1, 3, 1, 2), int), g, periods("2018-01-01", "2018-01-31"))
    >>> dict(ds["count"].sizes)
    {'time': 1, 'group': 3, 'y': 1, 'x': 2}
    """
    xr = _xarray()
    coords = _grid_coords(grid)
    ds = xr.Dataset(
        {
            "count": (("time", "group", "y", "x"), counts.astype(np.int32)),
            "in_study_area": (("y", "x"), grid.mask.astype(bool)),
        },
        coords={
            "time": pd.DatetimeIndex(starts).as_unit("ns"),
            "group": np.array(list(group_names), dtype=object),
            "x": coords["x"],
            "y": coords["y"],
            "spatial_ref": ((), np.int32(0), _spatial_ref(grid)),
        },
        attrs={
            "title": "impactzones count cube",
            "Conventions": "CF-1.8",
            "cell_size_m": float(grid.cell),
            "cell_rule": grid.rule,
            **(attrs or {}),
        },
    )
    if areas is not None:
        labels, by_area = areas
        ds["area_count"] = (("time", "group", "area"), np.asarray(by_area).astype(np.int32))
        ds = ds.assign_coords(area=np.array(list(labels), dtype=object))
        ds["area_count"].attrs["units"] = "incidents"
    ds["count"].attrs.update({"grid_mapping": "spatial_ref", "units": "incidents"})
    ds["in_study_area"].attrs["grid_mapping"] = "spatial_ref"
    ds["x"].attrs.update({"axis": "X", "units": "m", "standard_name": "projection_x_coordinate"})
    ds["y"].attrs.update({"axis": "Y", "units": "m", "standard_name": "projection_y_coordinate"})
    return ds


@renamed_keyword("mask", "study_area")
def build_cube(
    incidents,
    grid: Grid | None = None,
    *,
    study_area=None,
    cell_size: float | None = None,
    freq: str = "month",
    start=None,
    end=None,
    zones=None,
    ring: float = RING.default,
    districts=None,
):
    """Count incidents by grid cell x period x crime group, as an xarray Dataset.

    Parameters
    ----------
    incidents : GeoDataFrame or Points
        Point incidents in a metric CRS with ``occurred_at`` and ``group`` columns.
    grid : Grid, optional
        The analysis grid (default: over the study area, by the grid rule).
    study_area : polygon or GeoDataFrame, optional
        The study area; incidents outside it are left out (``attrs["outside_study_area"]``).
        (Called ``mask`` before; that name still works, with a ``FutureWarning``.)
    cell_size : float, optional
        Cell side in metres when ``grid`` is not given.
    freq : {"month", "day"}
        Length of a period.
    start, end : date-like, optional
        The time axis (default: the incidents' first to last period).
    zones : GeoDataFrame, optional
        Impact Zones (with ``name``): the cube then also counts each incident exactly
        where it lies, in each zone, each ring of ``ring`` metres and the control area
        (and each of ``districts``): ``area_count``, ``(time, group, area)``, see
        :func:`area_members`. Comparisons and CompStat from the cube then need no cell
        approximation (for these zones, ring and study area).
    ring : float, default 400
        Ring width in metres for ``zones``.
    districts : GeoDataFrame, optional
        Patrol districts (with a ``district`` column), counted with ``zones``.

    Returns
    -------
    xarray.Dataset
        See the module notes.

    Examples
    --------
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.core.geo import st_louis
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> cube = build_cube(inc, study_area=st_louis().land, cell_size=250)
    >>> int(cube["count"].sum()) + cube.attrs["outside_study_area"] == len(inc)
    True
    >>> cube.sizes["time"], list(cube["group"].values)
    (12, ['violent', 'property', 'other'])
    """
    from .core.geo import require_same_crs
    from .core.points import grid_for, points_in_study_area

    cell_size = check_params(cell_size=cell_size)["cell_size"]
    x, y, _w, study_area, outside, pos = points_in_study_area(incidents, study_area, positions=True)
    frame = getattr(incidents, "frame", incidents)
    if grid is None:
        grid = grid_for(x, y, study_area, frame.crs, cell_size)
    times = frame["occurred_at"].to_numpy()[pos]
    groups = frame["group"].to_numpy(dtype=object)[pos]
    if len(times) == 0:
        raise InputError("There are no incidents in the study area to count.")
    if zones is not None:
        ring = check_params(ring=ring)["ring"]
        blank = pointless_members(frame, zones, ring, districts)
        when = frame["occurred_at"].to_numpy()[blank[0]]
    span = pd.Series(np.concatenate([times, when]) if zones is not None else times)
    starts = periods(
        start if start is not None else span.min(), end if end is not None else span.max(), freq
    )
    counts = cube_counts(x, y, times, groups, grid, starts, freq=freq)
    used = int(counts.sum())
    attrs: dict = {
        "freq": freq,
        "incidents": used,
        "outside_study_area": int(outside),
        "outside_grid_or_period": int(len(x) - used),
        **data_span(times),
    }
    areas = None
    if zones is not None:
        for layer, name in ((zones, "zones"), (districts, "districts")):
            if layer is not None:  # else no incident lands in any of them, silently
                require_same_crs(layer.crs, grid.crs, f"The incidents and the {name}")
        labels, members = area_members(x, y, zones, ring, study_area, districts)
        in_grid = grid.cell_of(x, y)[2]
        members = np.column_stack([members & in_grid[:, None], in_grid])  # + "city"
        by_area = area_counts(members, times, groups, starts, freq=freq)
        blank_groups = frame["group"].to_numpy(dtype=object)[blank[0]]
        by_label = area_counts(blank[1], when, blank_groups, starts, freq=freq)
        areas = ([*labels, "city"], by_area + by_label)
        kept = int(blank[1][:, -1].sum())  # in the study area by their kept labels
        if kept:  # counted by their kept labels, not outside the study area
            attrs["outside_study_area"] = int(outside) - kept
            attrs["kept_without_point"] = kept
            attrs["outside_grid_or_period"] += kept - int(by_label[..., -1].sum())
            attrs.update(data_span(np.concatenate([times, when])))
        attrs.update(areas_attrs(zones, ring, study_area, districts))
    return to_dataset(counts, grid, starts, attrs=attrs, areas=areas)


def pointless_members(frame, zones, ring: float = RING.default, districts=None):
    """The rows without a point that are counted by the area labels kept for them (the
    private rows ``load`` writes without their points), and the areas of
    :func:`area_members` (plus ``city``, the last column) each is in, as a comparison from
    the incidents places them (:func:`impactzones.assign.place_by_labels`; districts by
    :func:`impactzones.core.geo.at_kept_label`). A row whose ring is unknown (another ring
    width at load) is in its zone and the city only; a row kept outside the study area is
    in none.

    Returns
    -------
    rows : ndarray of int
        Positions in ``frame`` of the rows placed by their labels.
    members : ndarray of bool, rows x (areas + 1)

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from shapely import box
    >>> zones = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)], crs=32615)
    >>> rows = gpd.GeoDataFrame({"zones": ["A", "", None], "ring_zones": ["A", "A", None],
    ...                          "ring_m": 100.0, "area_type": ["zone", "ring", None]},
    ...                         geometry=[shapely.Point(), shapely.Point(), shapely.Point(1, 1)])
    >>> at, members = pointless_members(rows, zones, 100)
    >>> at.tolist(), members.astype(int).tolist()  # zone:A, ring:A, control, city
    ([0, 1], [[1, 0, 0, 1], [0, 1, 0, 1]])
    """
    from .assign import place_by_labels
    from .core.geo import at_kept_label

    names = zones["name"].astype(str).tolist()
    rows, in_zone, in_ring, control, inside, _unknown = place_by_labels(frame, names, ring)
    parts = [in_zone, in_ring, control[:, None]]
    if districts is not None:
        order = list(dict.fromkeys(districts["district"].tolist()))
        sub = frame.iloc[rows]
        which = at_kept_label(sub, "district", order, np.full(len(rows), -1))
        parts.append((which[:, None] == np.arange(len(order))[None, :]) & inside[:, None])
    return rows, np.column_stack([*parts, inside]).astype(bool)


def data_span(times) -> dict[str, str]:
    """``first_day`` and ``last_day`` (ISO dates) of incident times: where the data a cube
    counted begin and end, which its periods alone do not say (a comparison cuts a year
    window to the data's end, as from the incidents).

    Examples
    --------
    >>> data_span(pd.to_datetime(["2019-03-02 10:00", "2019-01-05 08:30"]).to_numpy())
    {'first_day': '2019-01-05', 'last_day': '2019-03-02'}
    """
    t = pd.DatetimeIndex(np.asarray(times).ravel()).dropna()
    if len(t) == 0:
        return {}
    return {"first_day": f"{t.min():%Y-%m-%d}", "last_day": f"{t.max():%Y-%m-%d}"}


def cube_freq(cube) -> str:
    """``"day"`` or ``"month"``: the length of a cube's periods.

    Examples
    --------
    >>> from shapely import box
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
    >>> days = periods("2018-01-01", "2018-01-02", "day")
    >>> cube_freq(to_dataset(np.zeros((2, 3, 1, 2), int), g, days))
    'day'
    """
    freq = cube.attrs.get("freq")
    if freq in ("day", "month"):
        return str(freq)
    starts = pd.DatetimeIndex(cube["time"].values)
    return "day" if len(starts) > 1 and (starts[1] - starts[0]).days == 1 else "month"


def cube_span(cube) -> tuple:
    """The first and last day (``datetime.date``) of the data a cube counted: the days it
    recorded (``first_day``, ``last_day``), else its first period's start and its last
    period's end.

    Examples
    --------
    >>> from shapely import box
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
    >>> ds = to_dataset(np.zeros((2, 3, 1, 2), int), g, periods("2018-01-01", "2018-02-01"))
    >>> [d.isoformat() for d in cube_span(ds)]
    ['2018-01-01', '2018-02-28']
    """
    starts = pd.DatetimeIndex(cube["time"].values)
    if len(starts) == 0:
        raise InputError("The count cube has no time periods; there is nothing to count.")
    step = pd.offsets.Day(1) if cube_freq(cube) == "day" else pd.offsets.MonthBegin(1)
    lo = pd.Timestamp(cube.attrs.get("first_day", starts[0])).date()
    hi_default = (starts[-1] + step - pd.Timedelta(days=1)).date()
    hi = pd.Timestamp(cube.attrs.get("last_day", hi_default)).date()
    return lo, hi


def is_cube(obj) -> bool:
    """Whether ``obj`` is a count cube (an xarray Dataset or DataArray with ``x``, ``y``).

    Examples
    --------
    >>> is_cube(np.zeros(3))
    False
    """
    xr = sys.modules.get("xarray")  # no xarray imported yet: no xarray object either
    if xr is None:
        return False
    if isinstance(obj, xr.Dataset):
        return "count" in obj and {"x", "y"} <= set(obj["count"].dims)
    return isinstance(obj, xr.DataArray) and {"x", "y"} <= set(obj.dims)


def cube_grid(cube) -> Grid:
    """The :class:`~impactzones.core.grid.Grid` a cube was counted on (CRS, transform, mask).

    Examples
    --------
    >>> from shapely import box
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
    >>> ds = to_dataset(np.zeros((1, 3, 1, 2), int), g, periods("2018-01-01", "2018-01-31"))
    >>> h = cube_grid(ds)
    >>> (h.x0, h.y0, h.cell, h.width, h.height) == (g.x0, g.y0, g.cell, g.width, g.height)
    True
    """
    from pyproj import CRS

    ref = cube.coords["spatial_ref"].attrs
    xs, ys = np.asarray(cube["x"].values, float), np.asarray(cube["y"].values, float)
    if len(xs) > 1:
        cell = float(xs[1] - xs[0])
    else:
        cell = float(ref["GeoTransform"].split()[1])
    if len(ys) > 1 and not math.isclose(ys[0] - ys[1], cell, rel_tol=1e-9):
        raise InputError("The cube's cells are not square, or y does not run north to south.")
    mask = (
        np.asarray(cube["in_study_area"].values, bool)
        if "in_study_area" in cube.coords or "in_study_area" in getattr(cube, "data_vars", {})
        else np.ones((len(ys), len(xs)), bool)
    )
    return Grid(
        x0=float(xs[0] - cell / 2),
        y0=float(ys[0] + cell / 2),
        cell=cell,
        width=len(xs),
        height=len(ys),
        crs=CRS.from_wkt(ref["crs_wkt"]),
        mask=mask,
        rule=str(cube.attrs.get("cell_rule", "from the count cube")),
    )


def cube_to_grid_counts(cube) -> tuple[Grid, np.ndarray]:
    """The grid and the counts per cell, summed over every other dimension of ``cube``.

    Select first (``cube.sel(group="violent", time=slice("2018-01", "2018-12"))``) to
    count one group or period.

    Examples
    --------
    >>> from shapely import box
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
    >>> ds = to_dataset(np.ones((2, 3, 1, 2), int), g, periods("2018-01-01", "2018-02-28"))
    >>> cube_to_grid_counts(ds.sel(group="violent"))[1].tolist()
    [[2.0, 2.0]]
    """
    da = cube["count"] if hasattr(cube, "data_vars") else cube
    other = [d for d in da.dims if d not in ("y", "x")]
    counts = da.sum(dim=other) if other else da
    counts = counts.transpose("y", "x")
    return cube_grid(cube), np.asarray(counts.values, dtype=float)


def write_cube(cube, path: str | Path) -> Path:
    """Write a cube to a NetCDF-4 file (compressed, atomically).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely import box
    >>> from impactzones.core.grid import make_grid
    >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
    >>> ds = to_dataset(np.ones((1, 3, 1, 2), int), g, periods("2018-01-01", "2018-01-31"))
    >>> p = write_cube(ds, pathlib.Path(tempfile.mkdtemp()) / "cube.nc")
    >>> int(read_cube(p)["count"].sum())
    6
    """
    from .core.files import atomic_write

    path = Path(path)
    if path.suffix.lower() not in {".nc", ".nc4"}:
        raise InputError(f"Write the cube to a .nc file (NetCDF-4), not {path.name}.")
    ds = cube.copy()
    ds["group"] = ds["group"].astype(str)
    if "area" in ds.coords:
        ds["area"] = ds["area"].astype(str)
    encoding = {
        "count": {"zlib": True, "complevel": 4, "dtype": "int32"},
        "in_study_area": {"dtype": "uint8"},
    }
    return atomic_write(
        path, lambda p: ds.to_netcdf(p, engine="h5netcdf", encoding=encoding, format="NETCDF4")
    )


def read_cube(path: str | Path):
    """Read a cube written by :func:`write_cube` (into memory).

    Examples
    --------
    >>> read_cube("missing.nc")
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: There is no cube file missing.nc.
    """
    xr = _xarray()
    path = Path(path)
    if not path.exists():
        raise InputError(f"There is no cube file {path}.")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            cube = ds.load()
    except (OSError, ValueError):
        raise InputError(f"{path.name} is not a readable NetCDF-4 file.") from None
    need = {"count", "in_study_area", "time", "group", "x", "y", "spatial_ref"}
    missing = sorted(need - set(cube.variables))
    if missing:
        raise InputError(
            f"{path.name} is not a count cube (it lacks {', '.join(missing)}); write one "
            "with impactzones.cube.write_cube."
        )
    cube["in_study_area"] = cube["in_study_area"].astype(bool)
    cube["count"] = cube["count"].astype(np.int32)
    cube["group"] = cube["group"].astype(object)
    if "area" in cube.coords:
        cube["area"] = cube["area"].astype(object)
        cube["area_count"] = cube["area_count"].astype(np.int32)
    return cube

"""Incidents beyond one machine's memory: dask-geopandas over partitioned GeoParquet.

A state's NIBRS history, or decades of a big city, does not fit in memory; the analyses
do not need it to, because they start from counts. This module runs the steps that touch
every incident (clean-up, assignment to districts, zones and rings, and the count cube)
partition by partition on a Dask cluster, and reduces the results to exactly what the
in-memory path builds: the same :mod:`~impactzones.cube` Dataset and the same count tables.
Everything after the cube (Gi*, binned KDE, comparisons) then runs on one machine as usual.

The engine is Dask's, not ours: :func:`dask_geopandas.read_parquet` reads the partitions,
``dask.delayed`` tasks summarise each one, and a tree of additions reduces them (each step
holds two partial results, never the incidents). Without a client, Dask's default
scheduler runs it in this process; with one (``distributed.Client("tcp://host:8786")``),
the same call runs on a cluster. See ``docs/scale.md``.

Clean-up per partition (each row used or rejected with a reason): rows without a point
and without an area label (``no_location``), without a date (``no_date``), without a
known category (``unknown_category``) and outside the study area (``outside_study_area``)
are rejected; the rest are reprojected to the layers' CRS. The private rows
``impactzones load`` writes without their points, with the areas they were in, are kept
and counted by those labels exactly as the in-memory cube counts them
(:func:`impactzones.cube.pointless_members`): in the per-area counts and the count tables,
never in a cell (``attrs["kept_without_point"]``). So the partitions may be raw exports or
``load``'s output. Duplicates across partitions are not looked for (that needs a
shuffle): load the files with ``impactzones load`` first when that matters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .core.defaults import RING, check_params
from .core.errors import InputError
from .core.geo import Layers
from .core.grid import Grid
from .core.schema import AREA_LABELS

__all__ = [
    "TABLE_BY",
    "Summary",
    "clean_partition",
    "summarise_frame",
    "summarise_parquet",
]

#: The count table every summary carries (as :func:`impactzones.assign.count_incidents`).
TABLE_BY = ("year", "district", "group")
_FREQ_CODE = {"month": "M", "day": "D"}


@dataclass
class Summary:
    """The reduced form of an incident set: the count cube, a count table and the tally.

    Attributes
    ----------
    cube : xarray.Dataset
        See :mod:`impactzones.cube`.
    counts : DataFrame
        Counts by year x district x group, zeros filled in (as
        :func:`impactzones.assign.count_incidents`).
    area_counts : DataFrame
        Counts by year x area type (zone, ring, control) x zone x group.
    tally : dict
        ``read``, ``used`` and ``rejected_by_reason``.
    """

    cube: object
    counts: pd.DataFrame
    area_counts: pd.DataFrame
    tally: dict = field(default_factory=dict)


def clean_partition(frame, layers: Layers) -> tuple[object, Counter]:
    """The usable rows of one partition, in the layers' CRS, and the rejects by reason.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from impactzones.core.geo import st_louis
    >>> layers = st_louis()
    >>> df = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(["2018-01-01", None]),
    ...                        "category": ["robbery", "robbery"]},
    ...                       geometry=gpd.points_from_xy([-90.2, -90.2], [38.63, 38.63]),
    ...                       crs="EPSG:4326")
    >>> clean, rejects = clean_partition(df, layers)
    >>> len(clean), dict(rejects)
    (1, {'no_date': 1})

    A private row as ``load`` writes it (no point, its district and area kept) stays:

    >>> import shapely
    >>> blank = df.iloc[:1].assign(district=[3], zones=[""], area_type=["control"])
    >>> blank = blank.set_geometry(gpd.GeoSeries([shapely.Point()], crs="EPSG:4326"))
    >>> clean, rejects = clean_partition(blank, layers)
    >>> len(clean), dict(rejects)
    (1, {})
    """
    from .assign import place_by_labels
    from .core.geo import xy
    from .core.geometry import locate
    from .core.schema import GROUPS, group_of

    rejects: Counter = Counter()
    if frame.crs is None:
        raise InputError("A partition has no CRS; write GeoParquet with its CRS.")
    if not frame.crs.equals(layers.crs):
        frame = frame.to_crs(layers.crs)
    keep = np.ones(len(frame), bool)

    def reject(bad, reason):
        nonlocal keep
        bad = np.asarray(bad, bool) & keep
        if bad.any():
            rejects[reason] += int(bad.sum())
            keep &= ~bad

    geom = frame.geometry
    # rows with no point, counted by their kept area labels (and whether those say inside)
    rows, *_, in_study, _unknown = place_by_labels(frame, [])
    labelled, labelled_inside = np.zeros(len(frame), bool), np.zeros(len(frame), bool)
    labelled[rows], labelled_inside[rows] = True, in_study
    reject((geom.isna().to_numpy() | geom.is_empty.to_numpy()) & ~labelled, "no_location")
    reject(frame["occurred_at"].isna().to_numpy(), "no_date")
    if "group" not in frame:
        frame = frame.assign(
            group=frame["category"].map(lambda c: group_of(c) if isinstance(c, str) else None)
        )
    reject(~frame["group"].isin(GROUPS).to_numpy(), "unknown_category")
    frame = frame[keep]
    x, y = xy(frame)
    inside = locate(x, y, [layers.study_area]) == 0
    by_label = labelled[keep]
    inside[by_label] = labelled_inside[keep][by_label]  # labelled outside: rejected too
    rejects["outside_study_area"] += int((~inside).sum())
    if not rejects["outside_study_area"]:
        del rejects["outside_study_area"]
    return frame[inside], rejects


def _counted(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The distinct rows of some integer columns and how often each occurs, sorted by the
    columns in order: each row as one flat index into the box the columns span
    (``np.ravel_multi_index``), counted by ``np.unique``, and the distinct indices turned
    back into columns (``np.unravel_index``); no strings, no groupby."""
    names = list(columns)
    values = [np.asarray(columns[n], np.int64) for n in names]
    if not len(values[0]):
        return pd.DataFrame(
            {**{n: np.zeros(0, np.int64) for n in names}, "count": np.zeros(0, np.int64)}
        )
    lows = [int(v.min()) for v in values]
    dims = tuple(int(v.max()) - lo + 1 for v, lo in zip(values, lows, strict=True))
    key = np.ravel_multi_index(tuple(v - lo for v, lo in zip(values, lows, strict=True)), dims)
    uniq, count = np.unique(key, return_counts=True)
    digits = np.unravel_index(uniq, dims)
    out = {n: d.astype(np.int64) + lo for n, d, lo in zip(names, digits, lows, strict=True)}
    return pd.DataFrame({**out, "count": count.astype(np.int64)})


def _group_codes(frame) -> np.ndarray:
    """Each row's crime group as its position in :data:`~impactzones.core.schema.GROUPS`."""
    from .core.schema import GROUPS

    groups = np.asarray(frame["group"], dtype=object)
    return pd.Categorical(groups, categories=list(GROUPS)).codes.astype(np.int64)


@dataclass
class _Rows:
    """What the cube and the per-area counts read of a partition's rows, found once:
    coordinates (NaN for a row without a point), the crime group's code (-1: none), the
    period (ordinal), the grid cell (row, col) and whether the row has a point inside the
    grid (a row without one is in no cell: it is counted by its kept labels)."""

    x: np.ndarray
    y: np.ndarray
    group: np.ndarray
    period: np.ndarray
    row: np.ndarray
    col: np.ndarray
    in_grid: np.ndarray

    @classmethod
    def of(cls, frame, grid: Grid, freq: str) -> _Rows:
        from .core.geo import xy

        x, y = xy(frame)
        located = np.isfinite(x) & np.isfinite(y)
        row, col, ok = grid.cell_of(np.where(located, x, grid.x0), np.where(located, y, grid.y0))
        period = pd.PeriodIndex(frame["occurred_at"].dt.to_period(_FREQ_CODE[freq])).asi8
        return cls(x, y, _group_codes(frame), period, row, col, ok & located)


def _sparse_cube(rows: _Rows) -> pd.DataFrame:
    """Non-zero cube entries of one partition: period (ordinal), group (code), row, col
    and count (rows with a point in the grid and a group)."""
    ok = rows.in_grid & (rows.group >= 0)
    cols = {"period": rows.period, "group": rows.group, "row": rows.row, "col": rows.col}
    return _counted({k: v[ok] for k, v in cols.items()})


def _sparse_areas(frame, rows: _Rows, layers: Layers, ring: float) -> pd.DataFrame:
    """Non-zero per-area counts of one partition: period (ordinal), group (code), area
    (position in the labels of :func:`impactzones.cube.area_members`, then the city) and
    count, each incident where it lies, and each row without a point where its kept
    labels place it (:func:`impactzones.cube.pointless_members`), as the in-memory cube."""
    from .cube import area_members, pointless_members

    districts = getattr(layers, "districts", None)
    here = rows.in_grid & (rows.group >= 0)  # points located, in the grid, with a group
    labels, located = area_members(rows.x[here], rows.y[here], layers.zones, ring,
                                   layers.study_area, districts)  # fmt: skip
    members = np.zeros((len(here), len(labels) + 1), bool)
    members[here] = np.column_stack([located, np.ones(int(here.sum()), bool)])  # + the city
    placed, blank = pointless_members(frame, layers.zones, ring, districts)
    members[placed] = blank & (rows.group[placed] >= 0)[:, None]
    point, area = np.nonzero(members)
    return _counted({"period": rows.period[point], "group": rows.group[point], "area": area})


def _tables(assigned) -> tuple[pd.Series, pd.Series]:
    t = assigned["occurred_at"].dt.year.rename("year")
    by = [t, assigned["district"], assigned["group"].astype(str)]
    counts = assigned.groupby(by, dropna=False).size()
    area = assigned.groupby(
        [t, assigned["area_type"].astype(str), assigned["zone"].astype(str), by[2]]
    ).size()
    return counts, area


def _summarise_part(frame, layers: Layers, grid: Grid, freq: str, ring: float) -> dict:
    """One partition's summary (small: sparse counts, two tables and the tally)."""
    from .assign import assign
    from .core.geo import no_point

    read = len(frame)
    clean, rejects = clean_partition(frame, layers)
    assigned = assign(clean, layers, ring=ring)
    counts, area = _tables(assigned)
    t = assigned["occurred_at"]
    blank = int(no_point(clean).sum())  # kept by their labels (clean_partition)
    rows = _Rows.of(clean, grid, freq)
    return {
        "cube": _sparse_cube(rows),
        "areas": _sparse_areas(clean, rows, layers, ring),
        "counts": counts,
        "area": area,
        "rejects": rejects,
        "read": read,
        "blank": blank,
        "span": (t.min(), t.max()) if len(t) else (pd.NaT, pd.NaT),
    }


def _combine(a: dict, b: dict) -> dict:
    """Add two summaries (associative: any reduction tree gives the same totals)."""
    cube = pd.concat([a["cube"], b["cube"]], ignore_index=True)
    keys = ["period", "group", "row", "col"]
    areas = pd.concat([a["areas"], b["areas"]], ignore_index=True)
    return {
        "cube": cube.groupby(keys, as_index=False)["count"].sum(),
        "areas": areas.groupby(["period", "group", "area"], as_index=False)["count"].sum(),
        "counts": a["counts"].add(b["counts"], fill_value=0),
        "area": a["area"].add(b["area"], fill_value=0),
        "rejects": a["rejects"] + b["rejects"],
        "read": a["read"] + b["read"],
        "blank": a["blank"] + b["blank"],
        "span": (
            min((t for t in (a["span"][0], b["span"][0]) if pd.notna(t)), default=pd.NaT),
            max((t for t in (a["span"][1], b["span"][1]) if pd.notna(t)), default=pd.NaT),
        ),
    }


def _full_table(series: pd.Series) -> pd.DataFrame:
    """A summed groupby series as count_incidents lays it out: every combination, sorted."""
    names = list(series.index.names)
    levels = [
        sorted(pd.Series(series.index.get_level_values(n)).dropna().unique().tolist())
        for n in names
    ]
    full = pd.MultiIndex.from_product(levels, names=names)
    out = series.reindex(full, fill_value=0).astype("int64")
    return out.rename("count").reset_index()


def _area_array(total: dict, labels: list, first: int, n_periods: int) -> np.ndarray:
    """The summed per-area counts as an array ``(periods, groups, areas)``."""
    from .core.schema import GROUPS

    sparse = total["areas"]
    out = np.zeros((n_periods, len(GROUPS), len(labels)), np.int64)
    g = sparse["group"].to_numpy()
    a = sparse["area"].to_numpy()
    k = sparse["period"].to_numpy() - first
    ok = (g >= 0) & (a >= 0) & (a < len(labels)) & (k >= 0) & (k < n_periods)
    np.add.at(out, (k[ok], g[ok], a[ok]), sparse["count"].to_numpy()[ok])
    return out


def _finish(total: dict, grid: Grid, freq: str, layers: Layers, ring: float) -> Summary:
    from .core.schema import GROUPS
    from .cube import FREQS, area_members, areas_attrs, data_span, to_dataset

    sparse = total["cube"]
    if len(sparse) == 0:
        raise InputError("No incidents are left in the study area after clean-up.")
    code = _FREQ_CODE[freq]
    seen = pd.concat([sparse["period"], total["areas"]["period"]])  # + rows without a point
    lo = pd.Period(ordinal=int(seen.min()), freq=code).start_time
    hi = pd.Period(ordinal=int(seen.max()), freq=code).start_time
    starts = pd.date_range(lo, hi, freq=FREQS[freq])
    first = pd.Period(lo, freq=code).ordinal
    counts = np.zeros((len(starts), len(GROUPS), grid.height, grid.width), np.int64)
    g = sparse["group"].to_numpy()
    ok = g >= 0
    np.add.at(
        counts,
        (
            sparse["period"].to_numpy()[ok] - first,
            g[ok],
            sparse["row"].to_numpy()[ok],
            sparse["col"].to_numpy()[ok],
        ),
        sparse["count"].to_numpy()[ok],
    )
    rejected = dict(sorted(total["rejects"].items()))
    used = total["read"] - sum(rejected.values())
    blank = {"kept_without_point": int(total["blank"])} if total["blank"] else {}
    districts = getattr(layers, "districts", None)
    labels = area_members(np.zeros(0), np.zeros(0), layers.zones, ring, None, districts)[0]
    labels = [*labels, "city"]
    cube = to_dataset(
        counts,
        grid,
        starts,
        attrs={
            "freq": freq,
            "incidents": int(counts.sum()),
            "outside_study_area": int(rejected.get("outside_study_area", 0)),
            "outside_grid_or_period": int(used - counts.sum() - total["blank"]),
            **blank,
            **data_span([t for t in total["span"] if pd.notna(t)]),
            **areas_attrs(layers.zones, ring, layers.study_area, districts),
        },
        areas=(labels, _area_array(total, labels, first, len(starts))),
    )
    counts_t = _full_table(total["counts"])
    counts_t["district"] = counts_t["district"].astype("Int64")
    return Summary(
        cube=cube,
        counts=counts_t,
        area_counts=total["area"].astype("int64").rename("count").reset_index(),
        tally={
            "read": int(total["read"]),
            "used": int(used),
            "rejected_by_reason": rejected,
            **blank,
        },
    )


def _grid(layers: Layers, grid: Grid | None, cell_size: float | None) -> Grid:
    from .core.grid import make_grid

    return grid if grid is not None else make_grid(layers.study_area, layers.crs, cell_size)


def summarise_frame(
    frame,
    layers: Layers,
    *,
    grid: Grid | None = None,
    cell_size: float | None = None,
    freq: str = "month",
    ring: float = RING.default,
) -> Summary:
    """The in-memory path: clean-up, assignment, count tables and the cube of one frame.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> s = summarise_frame(inc, st_louis(), cell_size=500)
    >>> int(s.counts["count"].sum()) == s.tally["used"] == len(inc)
    True
    """
    check_params(ring=ring, cell_size=cell_size)
    g = _grid(layers, grid, cell_size)
    return _finish(_summarise_part(frame, layers, g, freq, ring), g, freq, layers, ring)


def _tree(items: list, combine):
    """Pairwise reduction of delayed objects (depth log2(n): no task holds them all)."""
    while len(items) > 1:
        nxt = [combine(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


def summarise_parquet(
    path: str | Path | list,
    layers: Layers,
    *,
    grid: Grid | None = None,
    cell_size: float | None = None,
    freq: str = "month",
    ring: float = RING.default,
    client=None,
    columns=None,
) -> Summary:
    """The distributed path: the same :class:`Summary` from partitioned GeoParquet.

    Parameters
    ----------
    path : str, Path or list of them
        A GeoParquet file, a folder of them (one partition per file, e.g. from
        ``impactzones synth --partitions N``), a glob or a list of files; local or any
        fsspec URL the workers can read (``s3://...``).
    layers : Layers
        Study area, districts and zones (sent once to every worker).
    grid, cell_size, freq, ring
        As for :func:`summarise_frame`.
    client : distributed.Client, optional
        Where to run (default: the current client, or Dask's local scheduler).
    columns : sequence of str, optional
        Columns to read besides the geometry (default: ``occurred_at`` and ``group``, or
        ``category`` to derive the group from when there is no ``group`` column, and the
        area labels ``load`` keeps for private rows without a point, where present).

    Notes
    -----
    Each Parquet row group is one task: write row groups of 100,000 to 200,000 rows
    (``to_parquet(row_group_size=...)``; :func:`impactzones.datasets.synth.write_partitions` does)
    and a worker needs about 1 GB, whatever the size of the whole data set.

    Returns
    -------
    Summary
        Equal to :func:`summarise_frame` on all the partitions at once.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> inc.iloc[:20000].to_parquet(d / "a.parquet"); inc.iloc[20000:].to_parquet(d / "b.parquet")
    >>> s = summarise_parquet(d, st_louis(), cell_size=500)
    >>> s.cube.identical(summarise_frame(inc, st_louis(), cell_size=500).cube)
    True
    """
    check_params(ring=ring, cell_size=cell_size)
    try:
        import dask
        import dask_geopandas
    except ImportError as exc:  # pragma: no cover - the scale extra
        raise InputError(
            "The distributed path needs dask-geopandas: pip install 'impactzones[scale]'."
        ) from exc
    path = [str(p) for p in path] if isinstance(path, (list, tuple)) else str(path)
    # one task per Parquet row group: a worker's memory follows the row-group size
    ddf = dask_geopandas.read_parquet(path, split_row_groups=True)
    if columns is None:  # only what the summary needs (category only to derive a group)
        columns = ("occurred_at", "group" if "group" in ddf.columns else "category")
        columns += AREA_LABELS  # those a file has: where its rows without a point are
    cols = [c for c in columns if c in ddf.columns]
    if "occurred_at" not in cols or not {"category", "group"} & set(cols):
        raise InputError(f"{path}: the partitions need occurred_at and category columns.")
    ddf = ddf[[*cols, ddf.geometry.name]]
    g = _grid(layers, grid, cell_size)
    layers_d = dask.delayed(layers, pure=True)
    grid_d = dask.delayed(g, pure=True)
    summarise = dask.delayed(_summarise_part, pure=True)
    parts = [summarise(p, layers_d, grid_d, freq, ring) for p in ddf.to_delayed()]
    total_d = _tree(parts, dask.delayed(_combine, pure=True))
    if client is not None:
        total = client.compute(total_d).result()
    else:
        (total,) = dask.compute(total_d)
    return _finish(total, g, freq, layers, ring)

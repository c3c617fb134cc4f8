"""Point-in-polygon assignment of incidents to districts, neighborhoods, zones and rings.

The join is vectorised (shapely 2's ``intersects_xy`` on prepared polygons, with a bounding
box prefilter) and about ten times faster than ``geopandas.sjoin``, with the same answer.

**Edges.** A point exactly on an edge shared by two polygons goes to exactly one of them:
the first in the layer's order (districts and neighborhoods are ordered by id). This is
deterministic and documented; ``sjoin`` would return the point twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from .core.collect import fewer_collections
from .core.defaults import RING
from .core.errors import InputError
from .core.geo import Layers, no_point, xy
from .core.geometry import locate, locate_all, locate_districts, polygon_ids, ring_polygons
from .core.schema import AREA_LABELS

__all__ = [
    "AREA_TYPES",
    "LABELS",
    "assign",
    "count_incidents",
    "keep_labels",
    "place_by_labels",
]

#: The area labels a clean file keeps for a private row written without its point
#: (:func:`impactzones.pipeline.blank_sensitive`); declared in :mod:`impactzones.core.schema`.
LABELS = AREA_LABELS

#: The kinds of area an incident can be in, relative to the Impact Zones.
AREA_TYPES = ("zone", "ring", "control", "outside")


@fewer_collections(pause=True)  # many objects, no garbage cycles
def assign(
    incidents: gpd.GeoDataFrame,
    layers: Layers,
    *,
    ring: float = RING.default,
) -> gpd.GeoDataFrame:
    """Add ``district``, ``neighborhood``, ``zone``, ``ring`` and ``area_type`` columns.

    Parameters
    ----------
    incidents : GeoDataFrame
        Point incidents, in the layers' CRS (a mismatch is an error, not a silent
        reprojection).
    layers : Layers
        Boundary, districts, neighborhoods (optional) and zones.
    ring : float, default 400
        Width of each zone's displacement ring, in metres.

    Returns
    -------
    GeoDataFrame
        ``incidents`` with these columns added (a shallow copy: with pandas'
        copy-on-write the input's columns are shared, not copied, and the input is left
        unchanged):

        * ``district``, ``neighborhood``: the id of the polygon holding the point
          (``<NA>`` outside every polygon; edge points go to the first polygon by id); a
          point inside the study area in no district, within
          :data:`~impactzones.core.defaults.DISTRICT_REACH` (100 m) of one, is the nearest
          district's (a bridge or riverbank past the layer's edge);
        * ``zone``: the name of the zone holding the point, or ``""``. Where zones overlap
          the point goes to the first zone in the layer's order, and ``zones`` lists all of
          them, separated by ``;``;
        * ``ring``: for points outside every zone, the name of the first zone whose ring
          holds it, or ``""``;
        * ``area_type``: ``zone``, ``ring``, ``control`` (the rest of the study area) or
          ``outside`` (outside the study area).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = assign(synthesize(seed=1, years=[2018]).incidents, layers)
    >>> sorted(inc["area_type"].unique())
    ['control', 'ring', 'zone']
    """
    ring = RING.check(ring)
    if incidents.crs is None or layers.boundary.crs is None:
        raise InputError("Incidents and layers both need a CRS before they can be joined.")
    if not incidents.crs.equals(layers.boundary.crs):
        raise InputError(
            f"The incidents' CRS ({incidents.crs.to_string()}) differs from the layers' "
            f"({layers.boundary.crs.to_string()}); reproject one with .to_crs() first."
        )
    out = incidents.copy(deep=False)
    x, y = xy(out)
    # .array: positional, whatever the input's index
    found = locate_districts(x, y, layers.districts.geometry, layers.study_area)
    out["district"] = polygon_ids(layers.districts, "district", x, y, pos=found).array
    if layers.neighborhoods is not None and "neighborhood" in layers.neighborhoods:
        out["neighborhood"] = polygon_ids(layers.neighborhoods, "neighborhood", x, y).array
    zones = layers.zones
    names = zones["name"].astype(str).to_numpy()
    inside = locate_all(x, y, list(zones.geometry))
    first = (
        np.where(inside.any(axis=1), inside.argmax(axis=1), -1)
        if inside.shape[1]
        else np.full(len(x), -1)
    )
    # String columns are built from a few labels by position (an Arrow take), not by
    # converting a million Python strings.
    out["zone"] = _labels(first, names)
    multi = np.flatnonzero(inside.sum(axis=1) > 1)
    if len(multi):
        combos = [";".join(names[inside[i]]) for i in multi]
        extra, which = np.unique(combos, return_inverse=True)
        codes = first.copy()
        codes[multi] = len(names) + which
        out["zones"] = _labels(codes, np.concatenate([names, extra]))
    else:
        out["zones"] = out["zone"]
    rings = ring_polygons(zones, ring, layers.study_area)
    in_ring = locate(x, y, rings)
    in_ring[first >= 0] = -1
    out["ring"] = _labels(in_ring, names)
    in_study = locate(x, y, [layers.study_area]) == 0  # intersects: edges included
    area = np.where(first >= 0, 0, np.where(in_ring >= 0, 1, 2))
    out["area_type"] = _labels(np.where(in_study, area, 3), np.array(AREA_TYPES, object))
    return keep_labels(out, incidents)


def _pointless(incidents: pd.DataFrame) -> np.ndarray:
    """Rows with a place label but no point (private rows as ``load`` writes them; files
    from earlier versions keep ``district``, ``neighborhood`` and ``zone`` only)."""
    cols = [c for c in ("zones", "zone", "district") if c in incidents]
    if not cols or not isinstance(incidents, gpd.GeoDataFrame):
        return np.zeros(len(incidents), bool)
    return no_point(incidents) & incidents[cols].notna().any(axis=1).to_numpy()


def keep_labels(
    out: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, rows: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Rows without a point keep the area labels (:data:`LABELS`) they came with in
    ``incidents`` (recorded where the point was), not those ``out`` found for them.

    ``rows``: which rows, a boolean array (default: those with no point and a ``zones``,
    ``zone`` or ``district`` label). Returns ``out``, its label columns replaced there.

    Examples
    --------
    >>> import shapely
    >>> inc = gpd.GeoDataFrame({"district": [4.0, 2.0]},
    ...                        geometry=[shapely.Point(), shapely.Point(0, 0)])
    >>> keep_labels(inc.assign(district=[None, 1.0]), inc)["district"].tolist()
    [4.0, 1.0]
    """
    rows = _pointless(incidents) if rows is None else rows
    if rows.any():
        for col in LABELS:
            if col in incidents and col in out:
                kept = out[col].copy()
                kept[rows] = incidents[col][rows]
                out[col] = kept
    return out


def place_by_labels(
    incidents: pd.DataFrame, names: Sequence[str], ring: float = RING.default
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where rows without a point are, from the labels kept for them at load.

    A private row written without its point (:func:`impactzones.pipeline.blank_sensitive`)
    keeps ``zones`` (every zone holding the point), ``ring_zones`` (every zone whose buffer
    of ``ring_m`` metres holds it) and ``area_type``. For the zones ``names`` it is in
    zone *i* when its ``zones`` label names zone *i*; in ring *i* when ``ring_zones`` names
    zone *i*, it is in none of ``names`` and ``ring_m`` equals ``ring`` (metres); in the
    control area when inside the study area and in none of those zones or rings. With a
    different ring width its ring and control membership is unknown (``unknown``). A
    hand-made file may label a row with its ``district`` alone: it names no zone, and with
    no ``ring_zones`` either its ring and control membership is unknown too (it counts in
    its district and the city only).

    Returns
    -------
    rows, in_zone, in_ring, control, inside, unknown
        ``rows``: positions of the rows placed (those with no point and a ``zones``
        label); then, for those rows, boolean arrays (``in_zone`` and ``in_ring`` with
        one column per name).

    Examples
    --------
    >>> import shapely
    >>> inc = gpd.GeoDataFrame({"zones": ["North", "", ""], "ring_zones": ["North", "North", ""],
    ...                         "ring_m": 400.0, "area_type": ["zone", "ring", "control"]},
    ...                        geometry=[shapely.Point()] * 3)
    >>> rows, z, r, c, inside, unknown = place_by_labels(inc, ["North"], 400)
    >>> z[:, 0].tolist(), r[:, 0].tolist(), c.tolist(), bool(unknown.any())
    ([True, False, False], [False, True, False], [False, False, True], False)
    >>> place_by_labels(inc, ["North"], 250)[5].tolist()
    [False, True, True]
    """
    rows = np.flatnonzero(_pointless(incidents))
    if not len(rows):
        none = np.zeros((0, len(names)), bool)
        return rows, none, none, np.zeros(0, bool), np.zeros(0, bool), np.zeros(0, bool)
    sub = incidents.iloc[rows]
    if "area_type" not in sub:
        sub = sub.assign(area_type="control")  # kept by a load inside the study area
    inside = sub["area_type"].fillna("outside").ne("outside").to_numpy(bool)

    def named(col: str) -> np.ndarray:
        sets = [set(str(v).split(";")) if pd.notna(v) else set() for v in sub[col]]
        return np.array([[n in s for n in names] for s in sets], bool).reshape(len(sub), -1)

    label = next((c for c in ("zones", "zone") if c in sub), None)  # none: no zone named
    in_zone = named(label) if label else np.zeros((len(sub), len(names)), bool)
    in_zone &= inside[:, None]
    ring_m = sub["ring_m"].to_numpy(float) if "ring_m" in sub else np.full(len(sub), np.nan)
    known = np.isclose(ring_m, ring) if "ring_zones" in sub else np.zeros(len(sub), bool)
    in_ring = (named("ring_zones") if "ring_zones" in sub else in_zone & False) & (
        inside & known & ~in_zone.any(axis=1)
    )[:, None]
    control = inside & known & ~in_zone.any(axis=1) & ~in_ring.any(axis=1)
    unknown = inside & ~known & ~in_zone.any(axis=1)
    return rows, in_zone, in_ring, control, inside, unknown


def _labels(codes: np.ndarray, names, missing: str = "") -> pd.api.extensions.ExtensionArray:
    """``names[codes]`` as a pandas string array, ``missing`` where ``codes`` is -1."""
    table = pd.array([*[str(v) for v in names], missing], dtype="str")
    return table.take(np.where(codes >= 0, codes, len(names)))


def count_incidents(
    incidents: pd.DataFrame,
    by: Sequence[str] = ("year", "district", "group"),
    *,
    freq: str = "year",
) -> pd.DataFrame:
    """Counts by area x period x category or group, as a tidy table with zeros filled in.

    Parameters
    ----------
    incidents : DataFrame
        Assigned incidents (see :func:`assign`).
    by : sequence of str
        Columns to count by; ``"year"``, ``"month"`` (``YYYY-MM``) and ``"period"`` (by
        ``freq``) are derived from ``occurred_at``.
    freq : {"year", "month"}
        What ``"period"`` means.

    Returns
    -------
    DataFrame
        One row per combination of the observed values of ``by`` (every combination, with
        ``count`` 0 where there were none), sorted.

    Examples
    --------
    >>> df = pd.DataFrame({"occurred_at": pd.to_datetime(["2017-01-02", "2018-03-04"]),
    ...                    "district": [1, 2], "group": ["violent", "violent"]})
    >>> count_incidents(df, by=["year", "district"])["count"].tolist()
    [1, 0, 0, 1]
    """
    df = pd.DataFrame(incidents).copy()
    derived = {
        "year": lambda d: d["occurred_at"].dt.year,
        "month": lambda d: d["occurred_at"].dt.strftime("%Y-%m"),
        "period": lambda d: (
            d["occurred_at"].dt.year if freq == "year" else d["occurred_at"].dt.strftime("%Y-%m")
        ),
    }
    for col in by:
        if col not in df and col in derived:
            df[col] = derived[col](df)
        elif col not in df:
            raise InputError(f"Cannot count by {col!r}: there is no such column.")
    by = list(by)
    counts = df.groupby(by, dropna=False).size()
    levels = [sorted(df[c].dropna().unique().tolist()) for c in by]
    full = pd.MultiIndex.from_product(levels, names=by)
    counts = counts.reindex(full, fill_value=0)
    return counts.rename("count").reset_index()

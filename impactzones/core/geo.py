"""The bundled St. Louis layers and the metric working CRS.

All analysis runs in metres in a projected CRS: for St. Louis, UTM zone 15N (EPSG:32615).
The bundled layers are GeoJSON in WGS 84 under ``data/geo/`` (shipped in the wheel as
``impactzones/_data/geo``) and are reprojected on load.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .errors import InputError

__all__ = [
    "LAYER_FILES",
    "WGS84",
    "WORK_CRS",
    "Layers",
    "at_kept_label",
    "data_dir",
    "load_layer",
    "no_point",
    "require_same_crs",
    "st_louis",
    "to_work_crs",
    "utm_crs_for",
    "xy",
]

#: The default working CRS: UTM zone 15N, metres. Good for St. Louis (90.2 degrees W).
WORK_CRS = CRS.from_epsg(32615)
WGS84 = CRS.from_epsg(4326)

LAYER_FILES = {
    "boundary": "city_boundary.geojson",
    "neighborhoods": "neighborhoods.geojson",
    "districts": "districts.geojson",
    "zones": "impact_zones.geojson",
}


def data_dir() -> Path:
    """The folder holding the bundled layers (inside the installed package, or the repo's).

    Examples
    --------
    >>> (data_dir() / "districts.geojson").exists()
    True
    """
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_data" / "geo", package.parent / "data" / "geo"):
        if (candidate / LAYER_FILES["boundary"]).exists():
            return candidate
    raise InputError(
        "The bundled St. Louis layers are missing from this installation; "
        "reinstall impactzones with `pip install .` from a full checkout."
    )


def require_same_crs(crs, other, what: str) -> None:
    """Refuse two layers in different (or unknown) CRSs: ``what`` names them in the message.

    Counting points of one CRS in polygons of another counts nothing, silently; this says
    so in one sentence instead (``InputError``, exit 2 on the command line).

    Examples
    --------
    >>> require_same_crs(WORK_CRS, CRS.from_epsg(32615), "The incidents and zones")
    >>> try:
    ...     require_same_crs(WORK_CRS, WGS84, "The incidents and zones")
    ... except InputError as e:
    ...     print(e)
    The incidents and zones need the same (metric) CRS; reproject one.
    """
    if crs is None or other is None or not CRS.from_user_input(crs).equals(other):
        raise InputError(f"{what} need the same (metric) CRS; reproject one.")


def utm_crs_for(gdf: gpd.GeoDataFrame) -> CRS:
    """A UTM CRS (metres) that suits the extent of ``gdf``.

    Examples
    --------
    >>> utm_crs_for(load_layer("boundary", "EPSG:4326")).to_epsg()
    32615
    """
    crs = gdf.estimate_utm_crs()
    return CRS.from_user_input(crs)


def to_work_crs(gdf: gpd.GeoDataFrame, crs: CRS | str | None = None) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to the working CRS (``WORK_CRS`` unless given).

    Raises a clear :class:`InputError` when ``gdf`` has no CRS at all.

    Examples
    --------
    >>> to_work_crs(load_layer("zones", "EPSG:4326")).crs.to_epsg()
    32615
    """
    if gdf.crs is None:
        raise InputError(
            "This layer has no coordinate reference system; give one (e.g. --crs EPSG:4326)."
        )
    target = CRS.from_user_input(crs) if crs is not None else WORK_CRS
    if CRS.from_user_input(gdf.crs) == target:
        return gdf
    return gdf.to_crs(target)


@cache
def _read_bundled(name: str) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(data_dir() / LAYER_FILES[name])
    if "start" in gdf:
        gdf["start"] = pd.to_datetime(gdf["start"])
    return gdf


def load_layer(name: str, crs: CRS | str | None = None) -> gpd.GeoDataFrame:
    """Load one bundled St. Louis layer, reprojected to ``crs`` (the working CRS by default).

    Parameters
    ----------
    name : {"boundary", "neighborhoods", "districts", "zones"}
        ``boundary`` is the city limit; ``neighborhoods`` the 79 neighborhoods and 9 parks
        (numbered 1 to 88 with 2020 population); ``districts`` the six patrol districts
        (approximate where a neighborhood is split between districts); ``zones`` the three
        illustrative Impact Zones with ``name``, ``start`` and ``description``.
    crs : CRS-like, optional
        Output CRS. Default: :data:`WORK_CRS` (UTM 15N, metres). Pass ``"EPSG:4326"`` for
        longitude/latitude.

    Examples
    --------
    >>> districts = load_layer("districts")
    >>> len(districts), districts.crs.to_epsg()
    (6, 32615)
    """
    if name not in LAYER_FILES:
        raise InputError(f"Unknown layer {name!r}; choose one of {sorted(LAYER_FILES)}.")
    return to_work_crs(_read_bundled(name).copy(), crs)


@dataclass(frozen=True)
class Layers:
    """The polygon layers one analysis runs on, all in the same metric CRS.

    Two areas come from them; which to pass as ``study_area=``:

    * :attr:`study_area`, the boundary (for St. Louis the city limit, the river
      included): where an incident counts as the city's. Pass it when reading, assigning
      and comparing (``read_incidents``, ``compare_zones``, ``compstat``, ``propose``).
    * :attr:`land`, where incidents can happen: the boundary less what no neighborhood
      covers (for St. Louis, the city without the river). Pass it to the grid methods
      (``kde``, ``gistar``, ``emerging``, ``build_cube``), so that river cells do not show
      as cold spots or dilute the averages. Without neighborhoods it is the boundary.

    Attributes
    ----------
    boundary : GeoDataFrame
        The study area (one or more polygons; their union is used).
    districts : GeoDataFrame
        Patrol districts, with a ``district`` id column and a ``name``.
    neighborhoods : GeoDataFrame or None
        Neighborhoods with a ``neighborhood`` id column, ``name`` and optional ``population``.
    zones : GeoDataFrame
        Impact Zones with ``name``, ``start`` (datetime) and ``description``.
    """

    boundary: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    neighborhoods: gpd.GeoDataFrame | None
    zones: gpd.GeoDataFrame

    @property
    def crs(self) -> CRS:
        return CRS.from_user_input(self.boundary.crs)

    @property
    def study_area(self):
        """The union of the boundary polygons (a shapely geometry, in metres): where an
        incident counts as inside the city, for reading, assignment and comparisons. For
        the hot-spot grids pass :attr:`land` instead (see the class notes)."""
        return self._once("study_area", (self.boundary,), lambda: _union(self.boundary))

    @property
    def land(self):
        """Where incidents can happen: the neighborhoods inside the boundary (for St. Louis,
        the city without the river), or the boundary when there are no neighborhoods (a
        shapely geometry, in metres).

        Pass it as ``study_area=`` to the hot-spot grids and their statistics (``kde``,
        ``gistar``, ``emerging``, ``build_cube``), so that empty river cells do not show up
        as cold spots or dilute the averages; reading, assignment and comparisons use
        :attr:`study_area`, the whole boundary. The name is kept: it is a property of the
        ground (the land, not the water), not a second study area.

        Examples
        --------
        >>> layers = st_louis()
        >>> round(layers.study_area.area / 1e6), round(layers.land.area / 1e6)  # km^2
        (172, 161)
        """
        if self.neighborhoods is None or len(self.neighborhoods) == 0:
            return self.study_area
        return self._once(
            "land",
            (self.neighborhoods, self.boundary),
            lambda: shapely.intersection(_union(self.neighborhoods), self.study_area),
        )

    def _once(self, key: str, frames: tuple, make):
        """``make()``, made once for these layers: kept with the geometries it came from
        (the shapely objects themselves, immutable) and made again only when a frame's
        geometries are no longer those (a frame changed in place)."""
        parts = tuple(g for frame in frames for g in frame.geometry.to_numpy())
        cache = self.__dict__.setdefault("_made", {})  # frozen: no attribute is set
        kept = cache.get(key)
        if kept is not None and len(kept[0]) == len(parts):
            if all(a is b for a, b in zip(kept[0], parts, strict=True)):
                return kept[1]
        value = make()
        cache[key] = (parts, value)
        return value


def _union(gdf: gpd.GeoDataFrame):
    return gdf.geometry.union_all()


def st_louis(crs: CRS | str | None = None) -> Layers:
    """All bundled St. Louis layers in the working CRS.

    Examples
    --------
    >>> layers = st_louis()
    >>> round(layers.study_area.area / 1e6)  # km^2, city limit including the river
    172
    """
    return Layers(
        boundary=load_layer("boundary", crs),
        districts=load_layer("districts", crs),
        neighborhoods=load_layer("neighborhoods", crs),
        zones=load_layer("zones", crs),
    )


def at_kept_label(frame: pd.DataFrame, column: str, ids, where: np.ndarray) -> np.ndarray:
    """Which polygon each row is in: ``where`` (found from the points) for rows with a
    point, and for rows without one (private rows as ``load`` writes them) the position
    in ``ids`` of the id their kept ``column`` label names (-1: no label, or one no
    polygon has). Labels and ids are compared as text, whole numbers as integers whatever
    a file made of them (3, 3.0, "3" and "3.0" all name "3"): the one rule for a kept
    label, used by the cube, the synthetic control and the explore page.

    Examples
    --------
    >>> rows = gpd.GeoDataFrame({"district": [None, 3.0, 9.0]},
    ...                         geometry=[shapely.Point(0, 0), shapely.Point(), None])
    >>> at_kept_label(rows, "district", ["1", "3"], np.array([0, -1, -1])).tolist()
    [0, 1, -1]
    >>> at_kept_label(rows.assign(district=[None, "3.0", "x"]), "district", [1.0, 3.0],
    ...               np.array([0, -1, -1])).tolist()
    [0, 1, -1]
    """
    if column not in frame or not isinstance(frame, gpd.GeoDataFrame):
        return where
    rows = np.flatnonzero(no_point(frame))
    if not len(rows):
        return where
    labels = frame[column].to_numpy(dtype=object)[rows]
    known = pd.notna(labels)
    at = np.full(len(rows), -1)
    at[known] = pd.Index([_id_text(i) for i in ids]).get_indexer(
        [_id_text(v) for v in labels[known]]
    )
    out = where.copy()
    out[rows] = at
    return out


def _id_text(value) -> str:
    """An area id as text, whole numbers as integers (3, 3.0, "3", "3.0" -> "3")."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return str(int(number)) if number.is_integer() else value
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def no_point(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Which rows have no point: a missing or empty geometry (private rows of a clean
    file, as ``load`` writes them), as a boolean array.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(geometry=[shapely.Point(1, 2), shapely.Point(), None])
    >>> no_point(pts).tolist()
    [False, True, True]
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    return shapely.is_missing(geoms) | shapely.is_empty(geoms)


def xy(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The x and y coordinates of a point GeoDataFrame as float64 arrays.

    Raises ``ValueError`` if a geometry is not a point (missing points give NaN); a
    geometry of zero extent (a one-point MultiPoint, say) is taken as the point it is.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1.0, 2.0], [3.0, 4.0]))
    >>> xy(pts)
    (array([1., 2.]), array([3., 4.]))
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    # one pass through GEOS (a point's bounds are x, y, x, y): less than half the time of
    # get_x and get_y, or of get_coordinates, on a million points
    b = shapely.bounds(geoms).reshape(-1, 4)
    x, y = b[:, 0].copy(), b[:, 1].copy()
    # only a geometry with an extent, or without coordinates, can be other than a point
    odd = ~((b[:, 0] == b[:, 2]) & (b[:, 1] == b[:, 3]))
    types = shapely.get_type_id(geoms[odd])
    if ((types != 0) & (types != -1)).any():
        raise ValueError("x and y are only defined for point geometries")
    return x, y

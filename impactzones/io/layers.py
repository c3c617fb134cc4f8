"""Reading boundary, district, neighbourhood and zone layers, checked."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..core.errors import InputError
from .tables import _key

__all__ = [
    "read_layer",
]

# --------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------


def _feature_names(gdf, kind: str) -> list[str]:
    """What to call each feature in a message: its name, else its position."""
    keys = {_key(c): c for c in gdf.columns}
    col = keys.get("name") or keys.get("zone") or keys.get("zonename")
    if col is None and kind == "districts":
        col = keys.get("district") or keys.get("distno")
    if col is not None:
        return [str(v) for v in gdf[col]]
    return [f"feature {i}" for i in range(1, len(gdf) + 1)]


def _check_polygons(gdf, kind: str, path) -> None:
    """Polygon layers hold polygons: refuse, by name, features that are points or lines,
    and zones with no geometry (other layers drop those with a warning)."""
    geom = gdf.geometry
    names = _feature_names(gdf, kind)
    empty = (geom.isna() | geom.is_empty).to_numpy()
    if empty.any():
        which = ", ".join(n for n, e in zip(names, empty, strict=True) if e)
        if kind == "zones":
            raise InputError(
                f"Zone(s) {which} in {path} have no geometry; give each zone a polygon or "
                "remove it."
            )
        warnings.warn(f"{kind} {path}: left out {which}, which have no geometry.", stacklevel=3)
    kinds = geom.geom_type.fillna("").to_numpy()
    wrong = ~empty & ~np.isin(kinds, ["Polygon", "MultiPolygon", "GeometryCollection"])
    if wrong.any():
        which = ", ".join(f"{n} ({k})" for n, k, w in zip(names, kinds, wrong, strict=True) if w)
        raise InputError(
            f"The {kind} file {path} must hold polygons; {which} are not. Draw them as areas."
        )


def _lonlat_bounds(gdf: gpd.GeoDataFrame, swapped: bool = False) -> bool:
    """Whether a layer's coordinates can be longitude/latitude degrees (``swapped``: can be
    latitude/longitude, y first)."""
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    if swapped:
        x0, y0, x1, y1 = y0, x0, y1, x1
    return bool(np.isfinite([x0, y0, x1, y1]).all()) and (
        -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
    )


def read_layer(
    path: str | Path,
    *,
    kind: str = "layer",
    crs: str | CRS | None = None,
    work_crs: str | CRS | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon layer (boundary, districts, zones), or a ``basemap`` of streets (lines
    allowed), repaired and in the working CRS.

    Invalid geometries are repaired with ``shapely.make_valid`` and a warning; a layer with
    no CRS needs ``crs``. Districts get a ``district`` column (from ``district``,
    ``DISTNO``, ``dist`` or ``name``); zones need ``name`` and get ``start`` as a datetime
    (missing starts are allowed and stay empty).

    Examples
    --------
    >>> from impactzones.core.geo import data_dir
    >>> z = read_layer(data_dir() / "impact_zones.geojson", kind="zones")
    >>> list(z["name"]), z.crs.to_epsg()
    (['North', 'Central', 'South'], 32615)
    """
    path = Path(path)
    gdf = _with_crs(_read_features(path, kind), path, kind, crs)
    if kind != "basemap":  # a basemap is streets: lines (or areas)
        _check_polygons(gdf, kind, path)
    gdf = _repaired(gdf, path, kind)
    if kind == "districts":
        gdf = _as_districts(gdf)
    if kind == "zones":
        gdf = _as_zones(gdf, path)
    from ..core.geo import to_work_crs

    return to_work_crs(gdf.reset_index(drop=True), work_crs)


#: What a layer file should be, for the messages that refuse one.
_EXPECTED = "a GeoJSON, GeoPackage, Shapefile or GeoParquet file of polygons"


def _unreadable(path: Path, kind: str, exc: Exception) -> str:
    """One sentence naming the file and what was expected, for a file GDAL cannot read
    (its own words kept, briefly, only where they say where the file breaks)."""
    text = str(exc).replace(str(path), path.name)
    if "not recognized as being in a supported file format" in text or not text.strip():
        return f"The {kind} file {path} is not in a format I can read; expected {_EXPECTED}."
    detail = "; ".join(p.strip().rstrip(".") for p in text.replace(".;", ";").split(";"))
    return f"Could not read the {kind} file {path} ({detail}); expected {_EXPECTED}."


def _read_features(path: Path, kind: str) -> gpd.GeoDataFrame:
    """The file's features, or one sentence on why they cannot be read."""
    if not path.exists():
        raise InputError(f"The {kind} file {path} does not exist; check the path.")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"The {kind} file {path} is empty (0 bytes); expected {_EXPECTED}.")
    try:
        if path.suffix.lower() in {".parquet", ".geoparquet"}:
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:
        raise InputError(_unreadable(path, kind, exc)) from exc
    if len(gdf) == 0:
        raise InputError(f"The {kind} file {path} has no features.")
    return gdf


def _with_crs(gdf: gpd.GeoDataFrame, path: Path, kind: str, crs) -> gpd.GeoDataFrame:
    """The layer with its CRS: the file's, or ``crs`` when the file has none or claims
    longitude/latitude for coordinates that cannot be degrees."""
    if gdf.crs is None:
        if crs is None:
            raise InputError(
                f"The {kind} file {path} has no CRS (a shapefile without .prj?); give one "
                "with --crs."
            )
        gdf = gdf.set_crs(crs)
        if gdf.crs.is_geographic and not _lonlat_bounds(gdf):
            x1, y1 = (float(v) for v in gdf.total_bounds[2:])
            raise InputError(
                f"--crs {crs} says longitude/latitude, but the {kind} file {path} has "
                f"coordinates up to ({x1:,.0f}, {y1:,.0f}), which cannot be degrees; give the "
                "projected CRS the file is in (e.g. --crs EPSG:26915 for UTM 15N metres)."
            )
        return gdf
    if gdf.crs.is_geographic and not _lonlat_bounds(gdf):
        if crs is None and _lonlat_bounds(gdf, swapped=True):
            x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
            raise InputError(
                f"The {kind} file {path} has latitude and longitude in swapped order (its "
                f"x runs {x0:.2f} to {x1:.2f} and its y {y0:.2f} to {y1:.2f}, which cannot be "
                "a latitude); write each point as longitude, latitude (x first, as GeoJSON "
                "requires)."
            )
        # GeoJSON without a "crs" member is read as WGS 84, even when it is in feet
        if crs is None:
            x1, y1 = (float(v) for v in gdf.total_bounds[2:])
            raise InputError(
                f"The {kind} file {path} says longitude/latitude, but its coordinates run to "
                f"({x1:,.0f}, {y1:,.0f}), which cannot be degrees: it is in a projected CRS "
                "(state-plane feet or metres) that the file does not name; give it with --crs "
                "(e.g. --crs ESRI:102696 for Missouri East state plane feet)."
            )
        return gdf.set_crs(crs, allow_override=True)
    return gdf


def _repaired(gdf: gpd.GeoDataFrame, path: Path, kind: str) -> gpd.GeoDataFrame:
    """Invalid geometries repaired with ``make_valid`` (and a warning); empty ones dropped."""
    bad = ~gdf.geometry.is_valid
    if bad.any():
        warnings.warn(
            f"{kind} {path}: repaired {int(bad.sum())} invalid geometries with make_valid.",
            stacklevel=3,
        )
        gdf.loc[bad, "geometry"] = shapely.make_valid(gdf.geometry[bad].array.to_numpy())
    return gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()


#: Column names (compared without case, spaces or underscores) taken as a district's id.
_DISTRICT_ID_COLUMNS = (
    "distno",
    "district",
    "dist",
    "districtno",
    "distnum",
    "districtnum",
    "districtid",
    "distid",
    "beat",
    "beatnum",
    "name",
)


def _as_districts(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A ``district`` id (from the first of ``_DISTRICT_ID_COLUMNS``, else 1, 2, ...;
    whole numbers as integers) and a ``name``, sorted by id."""
    if "district" not in gdf.columns:
        keys = {_key(c): c for c in gdf.columns}
        found = next((keys[c] for c in _DISTRICT_ID_COLUMNS if c in keys), None)
        gdf["district"] = gdf[found] if found is not None else np.arange(1, len(gdf) + 1)
    as_num = pd.to_numeric(gdf["district"], errors="coerce")
    if as_num.notna().all() and (as_num == as_num.round()).all():
        gdf["district"] = as_num.astype("int64")
    if "name" not in gdf:
        gdf["name"] = [f"District {d}" for d in gdf["district"]]
    return gdf.sort_values("district", ignore_index=True)


def _as_zones(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """A unique ``name`` (from ``zone`` / ``zone name`` when missing), ``start`` as a
    datetime (missing starts stay empty) and a ``description``."""
    if "name" not in gdf.columns:
        keys = {_key(c): c for c in gdf.columns}
        zcol = keys.get("zone") or keys.get("zonename")
        gdf["name"] = (
            gdf[zcol] if zcol else [f"Zone {i}" for i in range(1, len(gdf) + 1)]
        )
    blank = gdf["name"].isna() | (gdf["name"].astype(str).str.strip() == "")
    if blank.any():
        which = ", ".join(str(i) for i in np.flatnonzero(blank.to_numpy()) + 1)
        raise InputError(
            f"Zone {which} in {path.name} has no name; give every zone a 'name' property "
            "(or a 'zone' column)."
        )
    gdf["name"] = gdf["name"].astype(str)
    if gdf["name"].duplicated().any():
        raise InputError(f"Zone names in {path} repeat; give every zone its own name.")
    gdf["start"] = pd.to_datetime(gdf["start"], errors="coerce") if "start" in gdf else pd.NaT
    if "description" not in gdf:
        gdf["description"] = ""
    return gdf

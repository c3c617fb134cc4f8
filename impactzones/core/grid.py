"""The analysis grid shared by every raster step (kernel density, Gi*), and the raster type.

A :class:`Grid` lives in the metric working CRS, is aligned to round coordinates (its edges
are whole multiples of the cell size) and covers the study area; its ``mask`` marks the
cells whose centre falls inside the study area. KDE and Gi* built on the same grid have
cells that line up exactly.

The automatic cell size (:func:`auto_cell_size`) is ours: it borrows only the "/ 50 of the
shorter side" from sfhotspot, takes the study area's bounding box (not the points'), and
rounds down to a "nice" number (1, 2, 2.5 or 5 times a power of ten), never below 1 m,
widened with a warning when the grid would exceed ``max_cells``. sfhotspot's exact rule
(the points' bounding box, rounded down to a multiple of 100 m, or unrounded below 5 km) is
:func:`sfhotspot_cell_size`, for comparisons with R. Ours is computed from the study area,
not from the points, so a stray point far outside the city cannot blow it up (such points
are rejected first).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS

from . import defaults
from .errors import InputError
from .results import ResultFiles

__all__ = [
    "MAX_CELLS",
    "Grid",
    "Surface",
    "auto_cell_size",
    "make_grid",
    "nice_ceil",
    "nice_floor",
    "sfhotspot_cell_size",
]

#: The largest grid (cells) built without a warning; the cell size is widened beyond it.
MAX_CELLS: int = defaults.MAX_CELLS.default
NICE = (1.0, 2.0, 2.5, 5.0)


def nice_floor(value: float) -> float:
    """The largest of 1, 2, 2.5, 5 x 10^k not above ``value`` (for round cell sizes).

    Examples
    --------
    >>> nice_floor(243.0), nice_floor(0.7), nice_floor(50.0)
    (200.0, 0.5, 50.0)
    """
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"A cell size must be a positive number of metres, got {value!r}.")
    exp = math.floor(math.log10(value))
    best = float("nan")
    for e in (exp - 1, exp):
        for m in NICE:
            cand = m * 10.0**e
            if cand <= value * (1 + 1e-12):
                best = cand
    return float(best)


def nice_ceil(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k not below ``value``.

    Examples
    --------
    >>> nice_ceil(243.0), nice_ceil(0.7)
    (250.0, 1.0)
    """
    exp = math.floor(math.log10(value))
    for e in (exp, exp + 1):
        for m in NICE:
            cand = m * 10.0**e
            if cand >= value * (1 - 1e-12):
                return float(cand)
    return float(10.0 ** (exp + 1))  # pragma: no cover


def auto_cell_size(study_area, *, max_cells: int = MAX_CELLS) -> tuple[float, str]:
    """The automatic cell size (metres) for a study area, and the rule that produced it.

    Rule (ours; only the "/ 50" is sfhotspot's): the shorter side of the study area's
    bounding box / 50, rounded down to 1, 2, 2.5 or 5 x 10^k metres, at least 1 m. For
    sfhotspot's exact rule see :func:`sfhotspot_cell_size`.

    Examples
    --------
    >>> from shapely import box
    >>> auto_cell_size(box(0, 0, 12_400, 19_000))[0]
    200.0
    """
    xmin, ymin, xmax, ymax = study_area.bounds
    short = min(xmax - xmin, ymax - ymin)
    if not np.isfinite(short) or short <= 0:
        raise InputError("The study area is empty or has no extent; check the boundary layer.")
    raw = short / 50
    cell = max(nice_floor(raw), 1.0)
    rule = (
        f"shorter side of the study area's bounding box ({short:,.0f} m) / 50 = {raw:,.1f} m, "
        f"rounded down to {cell:g} m"
    )
    return cell, rule


def sfhotspot_cell_size(x: np.ndarray, y: np.ndarray) -> float:
    """sfhotspot's automatic cell size (R, ``set_cell_size``) for points in metres.

    The shorter side of the *points'* bounding box / 50, rounded down to a whole multiple
    of 100 m; when that would be 0 (a side under 5 km), the side / 50 unrounded.

    Examples
    --------
    >>> sfhotspot_cell_size(np.array([0.0, 12_400]), np.array([0.0, 19_000]))
    200.0
    >>> sfhotspot_cell_size(np.array([0.0, 4_000]), np.array([0.0, 9_000]))
    80.0
    """
    side = min(float(np.ptp(x)), float(np.ptp(y)))
    if not np.isfinite(side) or side <= 0:
        raise InputError("The points have no extent; give a cell size in metres.")
    hundreds = math.floor(side / 50 / 100)
    return float(hundreds * 100) if hundreds > 0 else side / 50


@dataclass
class Grid:
    """A raster grid in a metric CRS, aligned to multiples of its cell size.

    Attributes
    ----------
    x0, y0 : float
        The top-left corner (metres).
    cell : float
        Cell side in metres.
    width, height : int
        Columns and rows.
    crs : pyproj.CRS
    mask : ndarray of bool, shape (height, width)
        Cells whose centre is inside the study area (all True without one).
    rule : str
        How the cell size was chosen (reported back with every result).
    """

    x0: float
    y0: float
    cell: float
    width: int
    height: int
    crs: CRS
    mask: np.ndarray = field(repr=False)
    rule: str = ""

    @property
    def transform(self) -> Affine:
        """The affine transform (rasterio convention: top-left origin, rows go south)."""
        return Affine(self.cell, 0.0, self.x0, 0.0, -self.cell, self.y0)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def cell_area_km2(self) -> float:
        return self.cell * self.cell / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (
            self.x0,
            self.y0 - self.height * self.cell,
            self.x0 + self.width * self.cell,
            self.y0,
        )

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre, each of shape (height, width)."""
        xs = self.x0 + (np.arange(self.width) + 0.5) * self.cell
        ys = self.y0 - (np.arange(self.height) + 0.5) * self.cell
        return np.meshgrid(xs, ys)

    def centres_in(self, geom) -> np.ndarray:
        """Whether each cell centre is inside ``geom`` (``shapely.contains_xy`` on
        :meth:`centres`, the same answer), testing only the centres in its bounding box;
        shape (height, width).

        Examples
        --------
        >>> g = make_grid(shapely.box(0, 0, 1000, 1000), "EPSG:32615", 100)
        >>> inside = g.centres_in(shapely.box(120, 120, 380, 260))
        >>> int(inside.sum()), bool((inside == shapely.contains_xy(
        ...     shapely.box(120, 120, 380, 260), *g.centres())).all())
        (6, True)
        """
        out = np.zeros(self.shape, bool)
        if geom is None or geom.is_empty:
            return out
        xmin, ymin, xmax, ymax = geom.bounds
        # a cell's margin either side: the centres outside the box are never inside
        c0 = max(int(np.floor((xmin - self.x0) / self.cell)) - 1, 0)
        c1 = min(int(np.ceil((xmax - self.x0) / self.cell)) + 1, self.width)
        r0 = max(int(np.floor((self.y0 - ymax) / self.cell)) - 1, 0)
        r1 = min(int(np.ceil((self.y0 - ymin) / self.cell)) + 1, self.height)
        if c0 >= c1 or r0 >= r1:
            return out
        # the same expressions as centres(), for these columns and rows
        xs = self.x0 + (np.arange(c0, c1) + 0.5) * self.cell
        ys = self.y0 - (np.arange(r0, r1) + 0.5) * self.cell
        out[r0:r1, c0:c1] = shapely.contains_xy(geom, *np.meshgrid(xs, ys))
        return out

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, column and an in-grid flag for each point (edges go to the cell east/south)."""
        col = np.floor((np.asarray(x) - self.x0) / self.cell).astype("int64")
        row = np.floor((self.y0 - np.asarray(y)) / self.cell).astype("int64")
        ok = (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        return row, col, ok

    def counts(self, x: np.ndarray, y: np.ndarray, weights=None) -> np.ndarray:
        """Points (or weights) per cell, shape (height, width)."""
        row, col, ok = self.cell_of(x, y)
        w = None if weights is None else np.asarray(weights, float)[ok]
        flat = np.bincount(
            row[ok] * self.width + col[ok], weights=w, minlength=self.width * self.height
        )
        return flat.reshape(self.shape)

    def polygons(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Square polygons of the given cells."""
        x = self.x0 + cols * self.cell
        y = self.y0 - rows * self.cell
        return shapely.box(x, y - self.cell, x + self.cell, y)

    def coords(self) -> dict[str, np.ndarray]:
        """Cell-centre coordinates ``x`` (west to east) and ``y`` (north to south), metres."""
        return {
            "x": self.x0 + (np.arange(self.width) + 0.5) * self.cell,
            "y": self.y0 - (np.arange(self.height) + 0.5) * self.cell,
        }

    def spatial_ref(self) -> dict[str, Any]:
        """CF grid-mapping attributes as rioxarray writes them: the CRS (CF and WKT) and
        GDAL's ``GeoTransform``, for a ``spatial_ref`` coordinate."""
        t = self.transform
        wkt = self.crs.to_wkt()
        attrs = self.crs.to_cf()
        attrs.update(
            {
                "crs_wkt": wkt,
                "spatial_ref": wkt,
                "GeoTransform": " ".join(str(v) for v in (t.c, t.a, t.b, t.f, t.d, t.e)),
            }
        )
        return attrs


def make_grid(
    study_area,
    crs,
    cell_size: float | None = None,
    *,
    max_cells: int = MAX_CELLS,
    margin: float = 0.0,
) -> Grid:
    """The analysis grid over a study area (a shapely polygon in a metric CRS).

    Parameters
    ----------
    study_area : shapely geometry
        The area to cover; cells whose centre falls inside it are in ``mask``.
    crs : CRS-like
        The study area's CRS; must be projected (metres).
    cell_size : float, optional
        Cell side in metres. Default: :func:`auto_cell_size`.
    max_cells : int, default 4,000,000
        A grid larger than this gets a coarser cell (the next nice size up), with a warning.
    margin : float, default 0
        Extra metres around the study area's bounding box.

    Examples
    --------
    >>> from shapely import box
    >>> g = make_grid(box(3, 3, 1001, 498), "EPSG:32615", 100)
    >>> (g.x0, g.y0, g.width, g.height)
    (0.0, 500.0, 11, 5)
    """
    crs = CRS.from_user_input(crs)
    if not crs.is_projected:
        raise InputError("The analysis grid needs a projected CRS in metres (e.g. UTM).")
    checked = defaults.check_params(cell_size=cell_size, max_cells=max_cells)
    cell_size, max_cells = checked["cell_size"], checked["max_cells"]
    rule = "given"
    if cell_size is None:
        cell_size, rule = auto_cell_size(study_area, max_cells=max_cells)
    xmin, ymin, xmax, ymax = study_area.bounds
    xmin, ymin, xmax, ymax = xmin - margin, ymin - margin, xmax + margin, ymax + margin

    def dims(c):
        x0, x1 = math.floor(xmin / c) * c, math.ceil(xmax / c) * c
        y0, y1 = math.floor(ymin / c) * c, math.ceil(ymax / c) * c
        return x0, y1, max(int(round((x1 - x0) / c)), 1), max(int(round((y1 - y0) / c)), 1)

    x0, ytop, w, h = dims(cell_size)
    if w * h > max_cells:
        old = cell_size
        cell_size = nice_ceil(cell_size * math.sqrt(w * h / max_cells))
        x0, ytop, w, h = dims(cell_size)
        warnings.warn(
            f"A {old:g} m grid would have more than {max_cells:,} cells; using {cell_size:g} m.",
            stacklevel=2,
        )
        rule += f"; widened from {old:g} m to {cell_size:g} m to stay under {max_cells:,} cells"
    grid = Grid(
        x0=float(x0),
        y0=float(ytop),
        cell=float(cell_size),
        width=w,
        height=h,
        crs=crs,
        mask=np.ones((h, w), bool),
        rule=rule,
    )
    cx, cy = grid.centres()
    shapely.prepare(study_area)
    grid.mask = shapely.contains_xy(study_area, cx, cy)
    return grid


@dataclass
class Surface(ResultFiles):
    """A raster surface on a :class:`Grid`: values, georeferencing and how it was made.

    A result (:class:`~impactzones.core.results.Result`): ``params``, ``to_geodataframe()``
    (the cells), ``to_file(path)`` (``.tif`` or ``.nc`` as a raster; a vector or ``.csv``
    extension writes the cells), ``to_xarray()`` and ``to_geotiff()``.

    Attributes
    ----------
    values : ndarray, shape (height, width)
        Values per cell (for a KDE, incidents per km^2); NaN outside the mask.
    grid : Grid
    units : str
    params : dict
        The parameters used (kernel, bandwidth and its rule, cell size and its rule, counts).
    polygons : GeoDataFrame, optional
        Areas drawn from the surface (for a KDE, the hot-spot polygons of
        :func:`~impactzones.hotspots.hotspot_polygons`; the rule is in ``params``).
    map_layer : str, default "kde"
        The map layer that draws it (a method name in the hot-spot registry).
    """

    values: np.ndarray
    grid: Grid
    units: str = "incidents per km^2"
    params: dict = field(default_factory=dict)
    polygons: Any = field(default=None, repr=False)
    map_layer: str = "kde"
    is_raster: ClassVar[bool] = True

    @property
    def transform(self) -> Affine:
        return self.grid.transform

    @property
    def crs(self) -> CRS:
        return self.grid.crs

    def total(self) -> float:
        """The integral of the surface over the masked cells (incidents, for a KDE)."""
        return float(np.nansum(self.values) * self.grid.cell_area_km2)

    def to_geodataframe(self) -> Any:
        """The cells in the study area: ``row``, ``col``, ``value`` and the cell square.

        Examples
        --------
        >>> from shapely import box
        >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
        >>> Surface(np.array([[1.0, 2.0]]), g).to_geodataframe()["value"].tolist()
        [1.0, 2.0]
        """
        import geopandas as gpd

        rows, cols = np.nonzero(self.grid.mask)
        return gpd.GeoDataFrame(
            {"row": rows, "col": cols, "value": self.values[rows, cols]},
            geometry=self.grid.polygons(rows, cols),
            crs=self.grid.crs,
        )

    def to_xarray(self, name: str = "value") -> Any:
        """The surface as an ``xarray.DataArray`` that rioxarray reads as a georeferenced raster.

        Dimensions ``("y", "x")`` with the cell centres in metres (``y`` north to south), a
        CF ``spatial_ref`` coordinate holding the CRS (CF attributes, WKT) and GDAL's
        ``GeoTransform``, NaN outside the study area, ``units`` and the ``params`` (as text)
        in ``attrs``. Needs xarray (``pip install 'impactzones[scale]'``).

        Examples
        --------
        >>> from shapely import box
        >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
        >>> da = Surface(np.array([[1.0, 2.0]]), g).to_xarray()
        >>> dict(da.sizes), da["x"].values.tolist(), da.attrs["grid_mapping"]
        ({'y': 1, 'x': 2}, [50.0, 150.0], 'spatial_ref')
        """
        try:
            import xarray as xr
        except ImportError as exc:  # pragma: no cover - the scale extra
            raise InputError("to_xarray needs xarray: pip install 'impactzones[scale]'.") from exc
        coords = self.grid.coords()
        data = np.where(self.grid.mask, self.values, np.nan).astype("float64")
        da = xr.DataArray(
            data,
            dims=("y", "x"),
            coords={
                "y": coords["y"],
                "x": coords["x"],
                "spatial_ref": ((), 0, self.grid.spatial_ref()),
            },
            name=name,
            attrs={
                **{k: _attr_value(v) for k, v in self.params.items()},
                "units": self.units,
                "grid_mapping": "spatial_ref",
                "_FillValue": np.nan,
            },
        )
        da["x"].attrs.update(
            {"axis": "X", "units": "m", "standard_name": "projection_x_coordinate"}
        )
        da["y"].attrs.update(
            {"axis": "Y", "units": "m", "standard_name": "projection_y_coordinate"}
        )
        return da

    def to_netcdf(self, path: str | Path) -> Path:
        """Write :meth:`to_xarray` as a NetCDF-4 file (atomic; needs xarray and h5netcdf).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from shapely import box
        >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
        >>> Surface(np.ones((1, 2)), g).to_netcdf(pathlib.Path(tempfile.mkdtemp()) / "s.nc").suffix
        '.nc'
        """
        from .files import atomic_write

        da = self.to_xarray()
        fill = da.attrs.pop("_FillValue")
        enc = {da.name: {"zlib": True, "complevel": 4, "_FillValue": fill}}
        ds = da.to_dataset()
        return atomic_write(Path(path), lambda p: ds.to_netcdf(p, engine="h5netcdf", encoding=enc))

    def to_geotiff(self, path: str | Path, *, compress: str = "deflate") -> Path:
        """Write the surface as a GeoTIFF (float32, nodata outside the mask, params as tags).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from shapely import box
        >>> g = make_grid(box(0, 0, 200, 100), "EPSG:32615", 100)
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "s.tif"
        >>> Surface(np.ones((1, 2)), g).to_geotiff(out).suffix
        '.tif'
        """
        import rasterio

        from .files import atomic_write

        data = np.where(self.grid.mask, self.values, np.nan).astype("float32")
        profile = {
            "driver": "GTiff",
            "height": self.grid.height,
            "width": self.grid.width,
            "count": 1,
            "dtype": "float32",
            "crs": self.grid.crs.to_wkt(),
            "transform": self.grid.transform,
            "nodata": np.nan,
            "compress": compress,
            "tiled": self.grid.width >= 256 and self.grid.height >= 256,
        }
        tags = {k: str(v) for k, v in self.params.items()}
        tags["units"] = self.units

        def write(p):
            with rasterio.open(p, "w", **profile) as dst:
                dst.write(data, 1)
                dst.update_tags(**tags)
                dst.set_band_description(1, self.units)

        return atomic_write(Path(path), write)


def _attr_value(value: Any) -> Any:
    """A parameter as a NetCDF attribute: numbers and text as they are, the rest as text."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, float, str, np.integer, np.floating)):
        return value
    return str(value)

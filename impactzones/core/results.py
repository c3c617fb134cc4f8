"""The one interface every analysis result shares.

A result (a kernel density :class:`~impactzones.core.grid.Surface`, DBSCAN ``Clusters``,
``GiStar`` cells, ``Emerging`` patterns, ...) is a dataclass holding the statistic and its
parameters as attributes (esda style) and offering:

* ``params``: a dict of every choice made and the rule behind it (JSON-ready);
* ``to_geodataframe()``: the result as one GeoDataFrame (cells, clusters or polygons);
* ``to_file(path)``: written by the file's extension: ``.geojson``, ``.gpkg``, ``.parquet``,
  ``.fgb`` or ``.shp`` for the vector, ``.csv`` for its table (no geometry), ``.tif`` or
  ``.nc`` for a raster where the result is one (see :data:`RASTER_EXTS`);
* ``map_layer``: the name of the map layer that draws it (the method's name in
  :mod:`impactzones.hotspots.registry`; the maps look the drawing function up there).

:class:`ResultFiles` gives ``to_file`` to any class with ``to_geodataframe`` (and, for
rasters, ``to_geotiff`` / ``to_netcdf``). The writers live in :mod:`impactzones.io.writers`,
a layer above this one, so they are imported when a file is written, never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from .errors import InputError

__all__ = [
    "RASTER_EXTS",
    "TABLE_EXTS",
    "VECTOR_EXTS",
    "Result",
    "ResultFiles",
    "TableFiles",
    "TableView",
    "column_label",
    "file_kind",
]

#: Extensions written as a vector layer (GeoJSON in WGS 84; the others in the result's CRS).
VECTOR_EXTS = (".geojson", ".json", ".gpkg", ".parquet", ".geoparquet", ".fgb", ".shp")
#: Extensions written as a plain table (the vector's attributes, without geometry).
TABLE_EXTS = (".csv",)
#: Extensions written as a raster, for results that are one.
RASTER_EXTS = (".tif", ".tiff", ".nc")


@runtime_checkable
class Result(Protocol):
    """What every analysis result offers (see the module notes).

    Examples
    --------
    >>> from impactzones.hotspots import dbscan
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> isinstance(dbscan(inc[inc["group"] == "violent"], eps=150, min_samples=15), Result)
    True
    """

    params: dict

    @property
    def map_layer(self) -> str:
        """The name of the map layer that draws the result (its method's name)."""
        ...  # pragma: no cover

    def to_geodataframe(self) -> Any:
        """The result as one GeoDataFrame."""
        ...  # pragma: no cover

    def to_file(self, path: str | Path) -> Path:
        """Write the result by the extension of ``path``; returns the path written."""
        ...  # pragma: no cover


def file_kind(path: str | Path, *, raster: bool = False) -> str:
    """``"vector"``, ``"table"`` or ``"raster"``: how a result is written to ``path``.

    Raises an :class:`InputError` naming the extensions on offer for any other.

    Examples
    --------
    >>> file_kind("cells.gpkg"), file_kind("cells.csv"), file_kind("kde.tif", raster=True)
    ('vector', 'table', 'raster')
    >>> file_kind("kde.tif")
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: Cannot write kde.tif: use .geojson, .json, .gpkg, ...
    """
    ext = Path(path).suffix.lower()
    if ext in VECTOR_EXTS:
        return "vector"
    if ext in TABLE_EXTS:
        return "table"
    if raster and ext in RASTER_EXTS:
        return "raster"
    offered = VECTOR_EXTS + TABLE_EXTS + (RASTER_EXTS if raster else ())
    raise InputError(f"Cannot write {Path(path).name}: use {', '.join(offered)} as the extension.")


class ResultFiles:
    """Mixin: ``to_file`` by extension, from ``to_geodataframe`` (and a raster writer).

    A class that is a raster sets ``is_raster = True`` and defines ``to_geotiff(path)``
    and ``to_netcdf(path)``.
    """

    is_raster: ClassVar[bool] = False

    def to_geodataframe(self) -> Any:  # pragma: no cover - every result defines it
        raise NotImplementedError

    def to_file(self, path: str | Path) -> Path:
        """Write the result to ``path``, in the format its extension names (module notes).

        Writes are atomic and, inside a run, fenced into its output folder.
        """
        from ..io.writers import write_table, write_vector  # io sits above core

        kind = file_kind(path, raster=self.is_raster)
        path = Path(path)
        if kind == "raster":
            write = getattr(self, "to_netcdf" if path.suffix.lower() == ".nc" else "to_geotiff")
            return Path(write(path))
        gdf = self.to_geodataframe()
        if kind == "table":
            import pandas as pd

            return write_table(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), path)
        return write_vector(gdf, path)


class TableView:
    """Mixin for a result that earlier versions returned as its table: reading the result
    as a DataFrame (``r["col"]``, ``r.loc[...]``, ``len(r)``, ``"col" in r`` and any other
    DataFrame attribute) reaches its ``table`` attribute.

    Examples
    --------
    >>> import pandas as pd
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Scores(TableView):
    ...     table: pd.DataFrame
    >>> s = Scores(pd.DataFrame({"pai": [2.0, 4.0]}))
    >>> len(s), "pai" in s, float(s["pai"].mean()), s.set_index("pai").index.tolist()
    (2, True, 3.0, [2.0, 4.0])
    """

    table: Any

    def __getattr__(self, name: str) -> Any:
        table = self.__dict__.get("table")
        if name.startswith("_") or table is None:
            raise AttributeError(name)
        return getattr(table, name)

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, key: object) -> bool:
        return key in self.table

    def __iter__(self) -> Any:
        return iter(self.table)


class TableFiles:
    """Mixin: ``to_file`` by extension for a result that is a table (no geometry), from
    ``to_frame``: ``.csv``, ``.json`` (records) or ``.parquet``; atomic.
    """

    def to_frame(self) -> Any:  # pragma: no cover - every table result defines it
        raise NotImplementedError

    def to_file(self, path: str | Path) -> Path:
        """Write the table to ``path`` (``.csv``, ``.json`` or ``.parquet``)."""
        from ..io.writers import write_table  # io sits above core

        if Path(path).suffix.lower() not in (".csv", ".json", ".parquet"):
            raise InputError(
                f"Cannot write {Path(path).name}: a table is written as .csv, .json or .parquet."
            )
        return write_table(self.to_frame(), path)


def column_label(table: Any, column: str, default: str = "") -> str:
    """The label a table carries in ``column`` (the same on every row: the period a
    proposal, backtest or capture curve belongs to), or ``default``.

    Labels travel as columns, not in ``DataFrame.attrs``, so that they survive a file
    round trip and any pandas operation.

    Examples
    --------
    >>> import pandas as pd
    >>> column_label(pd.DataFrame({"period": ["2019", "2019"]}), "period")
    '2019'
    >>> column_label(pd.DataFrame({"x": [1]}), "period", "?")
    '?'
    """
    import pandas as pd

    if table is None or column not in table or not len(table):
        return default
    value = table[column].iloc[0]
    return default if pd.isna(value) else str(value)

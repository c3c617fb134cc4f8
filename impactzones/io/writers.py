"""Writing outputs atomically, inside the output folder."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..core.errors import InputError
from ..core.files import atomic_write, check_apart
from ..core.geo import WGS84

__all__ = [
    "check_vector_path",
    "guard_outputs",
    "write_json",
    "write_png",
    "write_table",
    "write_text",
    "write_vector",
]

# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def guard_outputs(inputs: Iterable[str | Path], outputs: Iterable[str | Path]) -> None:
    """Refuse to write an output over an input file, or inside an input folder
    (:func:`~impactzones.core.files.check_apart`, the check the CLI makes first).

    Examples
    --------
    >>> guard_outputs(["in.csv"], ["out.parquet"])  # fine
    >>> guard_outputs(["in.csv"], ["in.csv"])
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: in.csv is one of the inputs; write the output ...
    """
    check_apart(list(inputs), list(outputs))


def write_text(text: str, path: str | Path) -> Path:
    """Write text atomically (a temporary file, then a rename).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_text("hello", pathlib.Path(tempfile.mkdtemp()) / "a.txt").read_text()
    'hello'
    """
    return atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table atomically as CSV, JSON (records) or Parquet, by extension.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_table(pd.DataFrame({"a": [1, 2]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_text()
    'a\\n1\\n2\\n'
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".json":
        return write_text(df.to_json(orient="records", date_format="iso", indent=1), path)
    if ext == ".parquet":
        return atomic_write(path, lambda p: df.to_parquet(p, index=False))
    return atomic_write(path, lambda p: df.to_csv(p, index=False, lineterminator="\n"))


VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".parquet", ".geoparquet", ".fgb", ".shp", ".csv")


def check_vector_path(path: str | Path) -> Path:
    """``path`` if :func:`write_vector` can write it (by its extension), else an InputError.

    Commands call it before any work, so that a bad ``--out`` is refused at once.

    Examples
    --------
    >>> check_vector_path("zones.gpkg").name
    'zones.gpkg'
    >>> check_vector_path("zones")
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: Cannot write zones: use .parquet, .gpkg, .geojson, ...
    """
    path = Path(path)
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise InputError(
            f"Cannot write {path}: use .parquet, .gpkg, .geojson, .fgb, .shp or .csv as the "
            "extension."
        )
    return path


def write_vector(gdf: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a GeoDataFrame atomically, in a format chosen by the file extension.

    ``.geojson``/``.json`` (always WGS 84, as the GeoJSON spec requires), ``.gpkg``,
    ``.parquet``/``.geoparquet`` (GeoParquet, in the frame's CRS), ``.fgb`` (FlatGeobuf),
    ``.shp`` (a shapefile and its sidecars, each moved into place whole) or ``.csv`` (``x``, ``y``
    in the frame's CRS plus ``lon``, ``lat``; times in ISO 8601).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.core.geo import load_layer
    >>> out = write_vector(load_layer("zones"), pathlib.Path(tempfile.mkdtemp()) / "z.geojson")
    >>> out.suffix
    '.geojson'
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext in {".geojson", ".json"}:
        out = gdf.to_crs(WGS84) if gdf.crs is not None else gdf
        # the layer is named after the final file, not the temporary one (deterministic bytes)
        return atomic_write(
            path,
            lambda p: out.to_file(
                p, driver="GeoJSON", engine="pyogrio", layer=path.stem, COORDINATE_PRECISION=7
            ),
        )
    if ext == ".gpkg":
        layer = "".join(ch if ch.isalnum() else "_" for ch in path.stem) or "incidents"
        return atomic_write(
            path, lambda p: gdf.to_file(p, driver="GPKG", engine="pyogrio", layer=layer)
        )
    if ext in {".parquet", ".geoparquet"}:
        return atomic_write(path, lambda p: gdf.to_parquet(p, index=False))
    if ext == ".fgb":
        # no spatial index: it would reorder the rows (they stay in the frame's order)
        return atomic_write(
            path,
            lambda p: gdf.to_file(
                p, driver="FlatGeobuf", engine="pyogrio", layer=path.stem, SPATIAL_INDEX="NO"
            ),
        )
    if ext == ".shp":
        return _write_shapefile(gdf, path)
    if ext == ".csv":
        ll = gdf.geometry.to_crs(WGS84)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        df["x"] = gdf.geometry.x.round(2)
        df["y"] = gdf.geometry.y.round(2)
        df["lon"] = ll.x.round(7)
        df["lat"] = ll.y.round(7)
        return write_table(df, path)
    raise InputError(
        f"Cannot write {path}: use .parquet, .gpkg, .geojson, .fgb, .shp or .csv as the extension."
    )


def _write_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """A shapefile and its sidecars (.shx, .dbf, .prj, .cpg), each moved into place whole."""
    import os
    import shutil
    import tempfile

    from ..core.files import check_inside

    check_inside(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        gdf.to_file(tmp / path.name, driver="ESRI Shapefile", engine="pyogrio")
        parts = sorted(tmp.iterdir(), key=lambda p: p.suffix == ".shp")  # the .shp last
        for part in parts:
            os.replace(part, path.with_suffix(part.suffix))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def write_json(obj, path: str | Path) -> Path:
    """Write JSON atomically (sorted keys, so that the same result gives the same bytes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_json({"b": 1, "a": 2}, pathlib.Path(tempfile.mkdtemp()) / "s.json").read_text()
    '{\\n  "a": 2,\\n  "b": 1\\n}\\n'
    """
    from ..core.files import json_text

    return write_text(json_text(obj, sort_keys=True) + "\n", path)  # NaN as null


def write_png(fig, path: str | Path | None = None) -> bytes:
    """A matplotlib figure as PNG bytes with no software stamp, written atomically to ``path``.

    The same figure gives the same bytes, so plots in an output folder stay deterministic.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(1, 1)); _ = fig.add_subplot().plot([0, 1])
    >>> data = write_png(fig)
    >>> data[:4] == b"\\x89PNG", data == write_png(fig)
    (True, True)
    """
    import io as _io

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    data = buf.getvalue()
    if path is not None:
        atomic_write(Path(path), lambda p: p.write_bytes(data))
    return data

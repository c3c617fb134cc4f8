"""The result protocol: params, to_geodataframe, to_file by extension, to_xarray; and the
renamed study-area keyword."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from impactzones.core.errors import InputError
from impactzones.core.grid import Surface, make_grid
from impactzones.core.results import Result


@pytest.fixture(scope="module")
def violent18():
    from impactzones.datasets.synth import synthesize

    inc = synthesize(seed=1, years=[2018], scale=0.3).incidents
    return inc[inc["group"] == "violent"]


@pytest.fixture(scope="module")
def results(violent18, layers):
    from impactzones.hotspots import dbscan, gistar, kde

    return {
        "kde": kde(violent18, cell_size=250, study_area=layers.land),
        "dbscan": dbscan(violent18, eps=150, min_samples=8, study_area=layers.land),
        "gistar": gistar(violent18, cell_size=250, study_area=layers.land),
    }


def test_every_result_follows_the_protocol(results):
    for name, res in results.items():
        assert isinstance(res, Result), name
        assert res.map_layer == name
        assert isinstance(res.params, dict) and res.params
        assert isinstance(res.to_geodataframe(), gpd.GeoDataFrame)


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".parquet", ".fgb", ".shp", ".csv"])
def test_to_file_by_extension_round_trips(results, tmp_path, ext):
    """Every vector format reads back (with pyogrio / pandas, not our code) to the same
    rows and, for the metric formats, the same cells."""
    res = results["gistar"]
    path = res.to_file(tmp_path / f"gistar{ext}")
    assert path.exists()
    want = res.to_geodataframe()
    if ext == ".csv":
        back = pd.read_csv(path)
        assert "geometry" not in back
        assert np.allclose(back["z"], want["z"])
        return
    back = gpd.read_parquet(path) if ext == ".parquet" else gpd.read_file(path)
    assert len(back) == len(want)
    assert np.allclose(back["count"], want["count"])
    if ext != ".geojson":  # GeoJSON is WGS 84 by the spec
        assert back.crs.equals(want.crs)
        assert np.allclose(shapely.area(back.geometry.values), res.grid.cell**2)
    if ext == ".shp":  # every sidecar beside the .shp, no temporary left behind
        assert {p.suffix for p in tmp_path.iterdir()} >= {".shp", ".shx", ".dbf", ".prj"}
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_to_file_refuses_an_unknown_extension_in_one_sentence(results, tmp_path):
    with pytest.raises(InputError, match=r"Cannot write clusters\.xlsx"):
        results["dbscan"].to_file(tmp_path / "clusters.xlsx")
    with pytest.raises(InputError, match=r"Cannot write cells\.tif"):
        results["gistar"].to_file(tmp_path / "cells.tif")  # not a raster


def test_surface_raster_files_agree_with_rasterio(results, tmp_path):
    """The GeoTIFF, read back by rasterio, holds the surface where the grid says."""
    import rasterio

    s = results["kde"]
    tif = s.to_file(tmp_path / "kde.tif")
    with rasterio.open(tif) as src:
        assert src.transform == s.grid.transform
        assert src.crs.to_epsg() == s.grid.crs.to_epsg()
        data = src.read(1)
    assert np.allclose(data, s.values.astype("float32"), equal_nan=True)


def test_to_xarray_is_read_by_rioxarray(results):
    """rioxarray (independent of us) finds the CRS, the transform and the nodata."""
    rioxarray = pytest.importorskip("rioxarray")
    assert rioxarray
    s = results["kde"]
    da = s.to_xarray()
    assert da.rio.crs.to_epsg() == s.grid.crs.to_epsg()
    assert tuple(da.rio.transform())[:6] == tuple(s.grid.transform)[:6]
    assert da.rio.shape == s.grid.shape
    assert np.isnan(da.rio.nodata) or np.isnan(da.rio.encoded_nodata)
    # a cell looked up by coordinates holds that cell's value
    r, c = np.argwhere(np.nan_to_num(s.values) == np.nanmax(s.values))[0]
    x = s.grid.x0 + (c + 0.5) * s.grid.cell
    y = s.grid.y0 - (r + 0.5) * s.grid.cell
    assert float(da.sel(x=x, y=y)) == pytest.approx(float(s.values[r, c]))
    assert da.attrs["kernel"] == "quartic"


def test_netcdf_reads_back_with_xarray_and_is_deterministic(results, tmp_path):
    xr = pytest.importorskip("xarray")
    s = results["kde"]
    a = s.to_file(tmp_path / "a.nc")
    b = s.to_file(tmp_path / "b.nc")
    with xr.open_dataset(a, engine="h5netcdf") as ds:
        assert np.allclose(ds["value"].values, s.values, equal_nan=True)
        assert "crs_wkt" in ds["spatial_ref"].attrs
    assert a.read_bytes() == b.read_bytes()


def test_surface_cells_integrate_to_the_total():
    g = make_grid(shapely.box(0, 0, 300, 200), "EPSG:32615", 100)
    s = Surface(np.arange(6.0).reshape(2, 3), g)
    cells = s.to_geodataframe()
    assert cells["value"].sum() * g.cell_area_km2 == pytest.approx(s.total())


@pytest.mark.parametrize("name", ["kde", "dbscan", "gistar"])
def test_mask_keyword_still_works_with_a_future_warning(violent18, layers, name):
    import impactzones.hotspots as hs

    func = getattr(hs, name)
    kw = {"cell_size": 500} if name != "dbscan" else {"eps": 200, "min_samples": 8}
    with pytest.warns(FutureWarning, match="study_area="):
        old = func(violent18, mask=layers.land, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        new = func(violent18, study_area=layers.land, **kw)
    assert old.params == new.params
    with pytest.raises(InputError, match="study_area= only"):
        func(violent18, mask=layers.land, study_area=layers.land, **kw)

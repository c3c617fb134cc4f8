"""The count cube: counts checked against pandas, analyses fed a cube against the same
analyses fed the incidents, and the file round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

import geopandas as gpd

from impactzones.core.geo import xy
from impactzones.cube import build_cube, cube_grid, read_cube, write_cube
from impactzones.hotspots import gistar, kde


@pytest.fixture(scope="module")
def inc18(synth):
    inc = synth.incidents
    return inc[inc["occurred_at"].dt.year.isin([2017, 2018])]


@pytest.fixture(scope="module")
def cube(inc18, layers):
    return build_cube(inc18, study_area=layers.land, cell_size=250)


def test_cube_counts_equal_a_pandas_groupby(cube, inc18, layers):
    grid = cube_grid(cube)
    inside = inc18[inc18.intersects(layers.land)]
    x, y = xy(inside)
    table = pd.DataFrame(
        {
            "col": np.floor((x - grid.x0) / grid.cell).astype(int),
            "row": np.floor((grid.y0 - y) / grid.cell).astype(int),
            "month": pd.DatetimeIndex(
                inside["occurred_at"].dt.to_period("M").dt.to_timestamp()
            ).as_unit("ns"),
            "group": inside["group"].astype(str).to_numpy(),
        }
    )
    expected = table.groupby(["month", "group", "row", "col"]).size()
    got = cube["count"].to_series()
    got = got[got > 0]
    got.index = got.index.set_names(["month", "group", "row", "col"])
    got = got.rename(None)
    # cube coordinates are cell centres: turn them back into rows and columns
    rows = np.rint((grid.y0 - got.index.get_level_values("row")) / grid.cell - 0.5).astype(int)
    cols = np.rint((got.index.get_level_values("col") - grid.x0) / grid.cell - 0.5).astype(int)
    got.index = pd.MultiIndex.from_arrays(
        [
            pd.DatetimeIndex(got.index.get_level_values(0)).as_unit("ns"),
            got.index.get_level_values(1).astype(str),
            rows,
            cols,
        ],
        names=expected.index.names,
    )
    pd.testing.assert_series_equal(
        got.sort_index().astype("int64"), expected.sort_index().astype("int64")
    )
    assert cube.attrs["incidents"] + cube.attrs["outside_study_area"] == len(inc18)


def test_gistar_from_the_cube_equals_gistar_from_the_incidents(cube, inc18, layers):
    sel = cube.sel(group="violent", time=slice("2018-01-01", "2018-12-31"))
    violent = inc18[(inc18["group"] == "violent") & (inc18["occurred_at"].dt.year == 2018)]
    from_cube = gistar(sel, permutations=99, seed=3)
    from_inc = gistar(
        violent, study_area=layers.land, grid=cube_grid(cube), permutations=99, seed=3
    )
    np.testing.assert_array_equal(from_cube.Zs, from_inc.Zs)
    np.testing.assert_array_equal(from_cube.cells["p_sim"], from_inc.cells["p_sim"])
    np.testing.assert_array_equal(from_cube.cells["bin"], from_inc.cells["bin"])
    assert from_cube.params["incidents"] == from_inc.params["incidents"]


def test_binned_kde_from_the_cube_equals_kde_of_incidents_at_cell_centres(cube, inc18, layers):
    sel = cube.sel(group="property")
    prop = inc18[inc18["group"] == "property"]
    grid = cube_grid(cube)
    inside = prop[prop.intersects(layers.land)]
    row, col, _ok = grid.cell_of(*xy(inside))
    snapped = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            grid.x0 + (col + 0.5) * grid.cell, grid.y0 - (row + 0.5) * grid.cell
        ),
        crs=inside.crs,
    )
    for kernel in ("quartic", "gaussian"):
        a = kde(sel, bandwidth=600, kernel=kernel)
        b = kde(snapped, bandwidth=600, kernel=kernel, grid=grid)
        np.testing.assert_allclose(a.values, b.values, rtol=1e-9, atol=1e-12)
        assert a.params["incidents"] == len(inside)


def test_a_day_cube_sums_to_the_month_cube(inc18, layers):
    grid = cube_grid(build_cube(inc18, study_area=layers.land, cell_size=500))
    days = build_cube(inc18, grid, study_area=layers.land, freq="day")
    months = build_cube(inc18, grid, study_area=layers.land, freq="month")
    by_month = days["count"].resample(time="MS").sum()
    np.testing.assert_array_equal(by_month.values, months["count"].values)


def test_cube_file_round_trip_keeps_counts_crs_and_transform(cube, tmp_path):
    path = write_cube(cube, tmp_path / "cube.nc")
    back = read_cube(path)
    assert back.identical(cube)
    g1, g2 = cube_grid(cube), cube_grid(back)
    assert g1.transform == g2.transform and g1.crs == g2.crs
    assert (g1.mask == g2.mask).all()
    rio = pytest.importorskip("rioxarray")
    assert rio is not None
    assert back.rio.crs.to_epsg() == 32615
    assert tuple(back.rio.transform())[:6] == tuple(g1.transform)[:6]


def test_cube_rejects_a_wrong_extension(cube, tmp_path):
    from impactzones.core.errors import InputError

    with pytest.raises(InputError, match=r"\.nc"):
        write_cube(cube, tmp_path / "cube.zarr")


def test_zones_or_districts_in_another_crs_are_refused_in_one_sentence(inc18, layers):
    """Zones in degrees against incidents in metres would place no incident in any zone,
    silently; the cube refuses them instead."""
    from impactzones.core.errors import InputError

    grid = cube_grid(build_cube(inc18.iloc[:200], study_area=layers.land, cell_size=500))
    for kw, name in (({"zones": layers.zones.to_crs(4326)}, "zones"),
                     ({"zones": layers.zones, "districts": layers.districts.to_crs(4326)},
                      "districts")):  # fmt: skip
        with pytest.raises(InputError, match=f"The incidents and the {name} need the same"):
            build_cube(inc18.iloc[:200], grid, study_area=layers.study_area, **kw)


@pytest.mark.real
def test_real_exports_cube_feeds_gistar_like_the_incidents(real_incidents_dir, layers):
    from impactzones.io import read_incidents

    inc = read_incidents(
        [real_incidents_dir], study_area=layers.study_area, work_crs=layers.crs
    ).incidents
    cube = build_cube(inc, study_area=layers.land, cell_size=250)
    # every incident is counted once or reported as outside the land
    assert cube.attrs["incidents"] + cube.attrs["outside_study_area"] == len(inc)
    sel = cube.sel(group="violent", time=slice("2018-01-01", "2018-12-31"))
    violent = inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == 2018)]
    a = gistar(sel, permutations=99, seed=1)
    b = gistar(violent, study_area=layers.land, grid=cube_grid(cube), permutations=99, seed=1)
    np.testing.assert_array_equal(a.Zs, b.Zs)
    assert a.params["incidents"] == b.params["incidents"] > 4000


def test_the_old_mask_keyword_still_works_with_a_future_warning(inc18, layers, cube):
    with pytest.warns(
        FutureWarning, match=r"build_cube\(mask=\.\.\.\) is now build_cube\(study_area"
    ):
        old = build_cube(inc18, mask=layers.land, cell_size=250)
    assert int(old["count"].sum()) == int(cube["count"].sum())

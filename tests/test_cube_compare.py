"""Comparisons from the count cube against comparisons from the incidents.

The truth: incidents placed at their cell centres give exactly the incident path's table
(every column); on the real exports the cube's counts differ from the incidents' by at
most the incidents in the cells a zone or ring edge cuts, counted here with shapely.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

import geopandas as gpd
import shapely

from impactzones.core.errors import InputError
from impactzones.core.geo import xy
from impactzones.core.geometry import ring_polygons
from impactzones.core.grid import make_grid
from impactzones.cube import build_cube, cube_grid, read_cube, write_cube
from impactzones.evaluate.compare import compare_zones

CELL = 250.0

pytestmark = pytest.mark.filterwarnings("ignore:Zone\\(s\\) .* began after:UserWarning")


def _at_cell_centres(inc: gpd.GeoDataFrame, study_area, grid) -> gpd.GeoDataFrame:
    """Each incident moved to the centre of its cell (squares of ``grid.cell`` metres from
    the grid's north-west corner), keeping those whose centre is in the study area."""
    x0, y1 = grid.x0, grid.y0
    x, y = xy(inc)
    cx = x0 + (np.floor((x - x0) / CELL) + 0.5) * CELL
    cy = y1 - (np.floor((y1 - y) / CELL) + 0.5) * CELL
    moved = inc.set_geometry(gpd.points_from_xy(cx, cy), crs=inc.crs)
    return moved[shapely.contains_xy(study_area, cx, cy)].reset_index(drop=True)


@pytest.fixture(scope="module")
def grid(layers):
    return make_grid(layers.study_area, layers.crs, CELL)


@pytest.fixture(scope="module")
def centred(synth, layers, grid):
    """The 2017-2018 incidents at their cell centres, those of two months of 2017 three
    times over (so the counts are overdispersed and the dispersion is estimated above 1)."""
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
    lumps = inc[inc["occurred_at"].dt.strftime("%Y-%m").isin(["2017-03", "2017-07"])]
    inc = pd.concat([inc, lumps, lumps], ignore_index=True)
    return _at_cell_centres(gpd.GeoDataFrame(inc, crs=synth.incidents.crs), layers.study_area, grid)


def _same_table(from_cube, from_inc):
    pd.testing.assert_frame_equal(from_cube.table, from_inc.table)
    a, b = dict(from_cube.params), dict(from_inc.params)
    assert a.pop("source")["input"] == "count cube" and b.pop("source") == {"input": "incidents"}
    assert a == b


@pytest.mark.parametrize("freq", ["month", "day"])
def test_incidents_at_cell_centres_compare_exactly_as_the_cube(centred, layers, grid, freq):
    cube = build_cube(centred, grid, study_area=layers.study_area, freq=freq)
    kw = {"study_area": layers.study_area}
    from_inc = compare_zones(centred, layers.zones, 2017, 2018, **kw)
    from_cube = compare_zones(cube, layers.zones, 2017, 2018, **kw)
    _same_table(from_cube, from_inc)
    assert from_cube.params["source"]["cell_size_m"] == CELL
    assert from_cube.params["source"]["freq"] == freq
    assert from_cube.table["zone_before"].sum() > 1000  # not an empty comparison
    assert (from_cube.table["dispersion"] > 1).any()  # the estimate was exercised


def test_daily_cube_any_days_and_daily_rates_exactly(centred, layers, grid):
    cube = build_cube(centred, grid, study_area=layers.study_area, freq="day")
    windows = ("2017-03-10:2017-11-20", "2018-02-01:2018-06-30")
    kw = {"study_area": layers.study_area, "normalise": "daily", "ring": 300.0}
    kw |= {"crimes": ["violent", "other"], "dispersion": 1.5}
    _same_table(
        compare_zones(cube, layers.zones, *windows, **kw),
        compare_zones(centred, layers.zones, *windows, **kw),
    )


def test_a_cube_read_back_from_its_file_compares_the_same(centred, layers, grid, tmp_path):
    cube = build_cube(centred, grid, study_area=layers.study_area)
    back = read_cube(write_cube(cube, tmp_path / "c.nc"))
    kw = {"study_area": layers.study_area}
    a = compare_zones(cube, layers.zones, 2017, 2018, **kw)
    b = compare_zones(back, layers.zones, 2017, 2018, **kw)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_the_data_end_cuts_a_year_window_as_from_the_incidents(centred, layers, grid):
    cut = centred[centred["occurred_at"] < "2018-07-01"]
    cube = build_cube(cut, grid, study_area=layers.study_area)
    assert cube.attrs["last_day"] == f"{cut['occurred_at'].max():%Y-%m-%d}"
    kw = {"study_area": layers.study_area}
    if cube.attrs["last_day"] == "2018-06-30":  # a month end: a monthly cube can count it
        _same_table(
            compare_zones(cube, layers.zones, 2017, 2018, **kw),
            compare_zones(cut, layers.zones, 2017, 2018, **kw),
        )
    early = build_cube(centred[centred["occurred_at"] < "2018-06-15"], grid)
    with pytest.raises(InputError, match="whole months"):
        compare_zones(early, layers.zones, 2017, 2018, **kw)


def test_what_a_cube_cannot_compare_is_one_sentence(centred, layers, grid):
    cube = build_cube(centred, grid, study_area=layers.study_area)
    with pytest.raises(InputError, match=r"whole months.*daily cube"):
        compare_zones(cube, layers.zones, "2017-01-15:2017-02-14", "2018-01-15:2018-02-14")
    with pytest.raises(InputError, match="crime groups, not categories"):
        compare_zones(cube, layers.zones, 2017, 2018, by="category")
    with pytest.raises(InputError, match="no crime group 'arson'"):
        compare_zones(cube, layers.zones, 2017, 2018, crimes=["arson"])
    with pytest.raises(InputError, match=r"same \(metric\) CRS"):
        compare_zones(cube, layers.zones.to_crs(4326), 2017, 2018)


def _edge_cells(grid, polygons) -> np.ndarray:
    """Cells (height x width) whose square the boundary of any of ``polygons`` crosses."""
    cols, rows = np.meshgrid(np.arange(grid.width), np.arange(grid.height))
    x0 = grid.x0 + cols.ravel() * grid.cell
    y1 = grid.y0 - rows.ravel() * grid.cell
    boxes = shapely.box(x0, y1 - grid.cell, x0 + grid.cell, y1)
    edges = shapely.union_all([shapely.boundary(p) for p in polygons])
    return shapely.intersects(boxes, edges).reshape(grid.height, grid.width)


@pytest.mark.real
def test_real_exports_cube_counts_differ_only_by_the_edge_cells(real_incidents_dir, layers):
    from impactzones.io import read_incidents

    inc = read_incidents(
        [real_incidents_dir], study_area=layers.study_area, work_crs=layers.crs
    ).incidents
    inc = inc[inc.geometry.notna() & ~inc.geometry.is_empty].reset_index(drop=True)
    cube = build_cube(inc, study_area=layers.study_area, cell_size=CELL)
    kw = {"study_area": layers.study_area, "dispersion": "poisson"}
    by_inc = compare_zones(inc, layers.zones, 2017, 2018, **kw).table
    by_cube = compare_zones(cube, layers.zones, 2017, 2018, **kw).table
    grid = cube_grid(cube)
    zones = list(layers.zones.geometry)
    rings = ring_polygons(layers.zones, 400.0, layers.study_area)
    # each incident's cell, by its own arithmetic
    x, y = xy(inc)
    col = np.floor((x - grid.x0) / grid.cell).astype(int)
    row = np.floor((grid.y0 - y) / grid.cell).astype(int)
    year = inc["occurred_at"].dt.year.to_numpy()
    group = inc["group"].astype(str).to_numpy()
    any_edge = _edge_cells(grid, zones + rings)
    checked = moved = 0
    for i, name in enumerate(layers.zones["name"].astype(str)):
        zone_edge = _edge_cells(grid, [zones[i]])
        for crime in ("violent", "property"):
            a = by_cube[(by_cube["zone"] == name) & (by_cube["crime"] == crime)].iloc[0]
            b = by_inc[(by_inc["zone"] == name) & (by_inc["crime"] == crime)].iloc[0]
            for when, yr in (("before", 2017), ("after", 2018)):
                sel = (year == yr) & (group == crime)
                on_zone_edge = int(zone_edge[row[sel], col[sel]].sum())
                on_any_edge = int(any_edge[row[sel], col[sel]].sum())
                for area, bound in (("zone", on_zone_edge), ("ring", on_any_edge),
                                    ("control", on_any_edge)):  # fmt: skip
                    diff = abs(int(a[f"{area}_{when}"]) - int(b[f"{area}_{when}"]))
                    assert diff <= bound, (name, crime, area, when, diff, bound)
                    checked += 1
                    moved += diff
    assert checked == len(zones) * 2 * 2 * 3 and moved > 0  # the edges did move some
    city = by_cube[by_cube["zone"] == "Citywide"].set_index("crime")
    city_inc = by_inc[by_inc["zone"] == "Citywide"].set_index("crime")
    pd.testing.assert_series_equal(city["zone_before"], city_inc["zone_before"])
    pd.testing.assert_series_equal(city["zone_after"], city_inc["zone_after"])
    # a cube that counted every incident in its zone, ring or control area: exact
    exact = build_cube(inc, grid, study_area=layers.study_area, zones=layers.zones)
    pd.testing.assert_frame_equal(compare_zones(exact, layers.zones, 2017, 2018, **kw).table, by_inc)


def test_a_cube_with_exact_zone_counts_compares_exactly_as_the_incidents(
    synth, layers, grid, tmp_path
):
    """Incidents anywhere (not at cell centres): the cube counted each one in its zone,
    ring or the control area, so the table is the incident path's to the last column."""
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
    inc = inc[shapely.contains_xy(layers.study_area, *xy(inc))]
    kw = {"study_area": layers.study_area}
    cube = build_cube(inc, grid, zones=layers.zones, districts=layers.districts, **kw)
    assert list(cube["area"].values[:3]) == ["zone:North", "zone:Central", "zone:South"]
    from_cube = compare_zones(cube, layers.zones, 2017, 2018, **kw)
    _same_table(from_cube, compare_zones(inc, layers.zones, 2017, 2018, **kw))
    assert from_cube.params["source"]["membership"].startswith("exact")
    # other zones (one of the three) or another ring: back to the cell centres
    one = compare_zones(cube, layers.zones.iloc[:1], 2017, 2018, **kw)
    assert one.params["source"]["membership"].startswith("cell centre")
    other = compare_zones(cube, layers.zones, 2017, 2018, ring=300.0, **kw)
    assert other.params["source"]["membership"].startswith("cell centre")
    back = read_cube(write_cube(cube, tmp_path / "exact.nc"))
    pd.testing.assert_frame_equal(
        compare_zones(back, layers.zones, 2017, 2018, **kw).table, from_cube.table
    )



def _group_rows(report) -> pd.DataFrame:
    t = report.table
    return t[t["level"] == "group"].reset_index(drop=True)


@pytest.mark.parametrize("exact", [True, False])
def test_compstat_from_a_daily_cube_equals_compstat_from_the_incidents(
    synth, centred, layers, grid, exact
):
    """Exact: the cube counted every incident in its district and zone. Not exact: the
    incidents sit at their cell centres, where the cells are counted."""
    from impactzones.assign import assign
    from impactzones.evaluate.compstat import compstat

    if exact:
        inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
        inc = inc[shapely.contains_xy(layers.study_area, *xy(inc))]
        areas = {"zones": layers.zones, "districts": layers.districts}
    else:
        inc, areas = centred, {}
    cube = build_cube(inc, grid, study_area=layers.study_area, freq="day", **areas)
    from_cube = compstat(cube, layers, "2018-10-15")
    from_inc = compstat(assign(inc, layers), layers, "2018-10-15")
    pd.testing.assert_frame_equal(from_cube.table, _group_rows(from_inc))
    assert from_cube.windows == from_inc.windows
    membership = from_cube.params["source"]["membership"]
    assert membership.startswith("exact" if exact else "cell centre")
    assert from_cube.table["28 days"].sum() > 1000


def test_compstat_needs_a_daily_cube_and_a_date_inside_it(centred, layers, grid):
    from impactzones.evaluate.compstat import compstat

    monthly = build_cube(centred, grid, study_area=layers.study_area)
    with pytest.raises(InputError, match="needs a daily cube"):
        compstat(monthly, layers, "2018-12-31")
    daily = build_cube(centred, grid, study_area=layers.study_area, freq="day")
    with pytest.raises(InputError, match="outside the data"):
        compstat(daily, layers, "2020-01-01")

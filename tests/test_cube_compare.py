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
    with pytest.warns(UserWarning, match="lie in 250 m cells that a zone or ring edge cuts"):
        cmp_cube = compare_zones(cube, layers.zones, 2017, 2018, **kw)
    by_cube = cmp_cube.table
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
    compared = np.isin(year, [2017, 2018]) & np.isin(group, ["violent", "property"])
    cut = int(any_edge[row[compared], col[compared]].sum())
    assert cmp_cube.params["source"]["incidents_in_cut_cells"] == cut
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


@pytest.fixture(scope="module")
def cube_files(synth, layers, tmp_path_factory):
    """The 2017-2018 incidents as a file, and as a monthly and a daily cube file (the
    districts and zones counted exactly)."""
    folder = tmp_path_factory.mktemp("cube_cli")
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
    inc.to_parquet(folder / "inc.parquet")
    kw = {"study_area": layers.study_area, "cell_size": CELL, "zones": layers.zones}
    kw["districts"] = layers.districts
    write_cube(build_cube(inc, **kw), folder / "monthly.nc")
    write_cube(build_cube(inc, freq="day", **kw), folder / "daily.nc")
    return folder


def _run(capsys, *args):
    from impactzones.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_compare_command_reads_a_cube_file_as_its_incidents(cube_files, capsys):
    common = ("--before", "2017", "--after", "2018", "--json", "--quiet")
    code, from_cube, _ = _run(capsys, "compare", str(cube_files / "monthly.nc"), *common)
    assert code == 0
    code, from_inc, _ = _run(capsys, "compare", str(cube_files / "inc.parquet"), *common)
    assert code == 0 and from_cube == from_inc  # exact zone counts: the same document


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("monthly.nc", "--before", "2017-01-15:2017-03-14", "--after", "2018-01-15:2018-03-14"),
         "counts whole months"),
        (("monthly.nc", "--before", "2017", "--after", "2018", "--by", "category"),
         "crime groups, not categories"),
        (("monthly.nc", "--before", "2017", "--after", "2020"), "lies outside the data"),
        (("monthly.nc", "inc.parquet", "--before", "2017", "--after", "2018"), "alone"),
        (("bad.nc", "--before", "2017", "--after", "2018"), "not a readable NetCDF-4 file"),
    ],
)  # fmt: skip
def test_what_a_cube_file_cannot_compare_exits_2_in_one_sentence(
    cube_files, capsys, args, says
):
    (cube_files / "bad.nc").write_text("not a cube")
    paths = [str(cube_files / a) if a.endswith((".nc", ".parquet")) else a for a in args]
    code, _out, err = _run(capsys, "compare", *paths, "--quiet")
    assert code == 2
    assert says in err and "Traceback" not in err
    assert err.strip().count("\n") == 0  # one line


def test_the_compstat_command_reads_a_daily_cube_file(cube_files, capsys, tmp_path):
    code, out, _ = _run(capsys, "compstat", str(cube_files / "daily.nc"), "--out",
                        str(tmp_path / "cs"), "--json", "--quiet")  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "cs").iterdir()) == [
        "compstat.csv", "compstat.html", "compstat_hotspots.html"]  # fmt: skip
    code, out_inc, _ = _run(capsys, "compstat", str(cube_files / "inc.parquet"), "--out",
                            str(tmp_path / "cs_inc"), "--json", "--quiet")  # fmt: skip
    import json

    rows = json.loads(out)["rows"]
    rows_inc = [r for r in json.loads(out_inc)["rows"] if r["level"] == "group"]
    assert rows == rows_inc
    code, _out, err = _run(capsys, "compstat", str(cube_files / "monthly.nc"), "--out",
                           str(tmp_path / "cs2"), "--quiet")  # fmt: skip
    assert code == 2 and "needs a daily cube" in err


@pytest.mark.parametrize(("freq", "cube_freq"), [("M", "month"), ("W", "day")])
def test_series_counts_from_a_cube_equal_those_from_the_incidents(
    centred, layers, grid, freq, cube_freq
):
    from impactzones.evaluate.series import series_counts

    cube = build_cube(centred, grid, study_area=layers.study_area, freq=cube_freq)
    kw = {"study_area": layers.study_area, "freq": freq, "crime": "property"}
    from_cube = series_counts(cube, layers.zones, "Central", **kw)
    from_inc = series_counts(centred, layers.zones, "Central", **kw)
    pd.testing.assert_frame_equal(from_cube, from_inc)
    assert from_cube["y"].sum() > 1000


def test_an_interrupted_time_series_from_an_exact_cube_equals_the_incidents(synth, layers, grid):
    from impactzones.evaluate.series import evaluate_series

    inc = synth.incidents[shapely.contains_xy(layers.study_area, *xy(synth.incidents))]
    kw = {"study_area": layers.study_area}
    cube = build_cube(inc, grid, zones=layers.zones, **kw)
    a = evaluate_series(cube, "North", zones=layers.zones, **kw)
    b = evaluate_series(inc, "North", zones=layers.zones, **kw)
    assert a.effect == b.effect and a.verdict == b.verdict
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.counterfactual, b.counterfactual)
    assert a.params.pop("source")["membership"] == "exact"
    assert a.params == b.params
    with pytest.raises(InputError, match="Weekly counts need a daily cube"):
        evaluate_series(cube, "North", zones=layers.zones, freq="W", **kw)


@pytest.mark.parametrize(("freq", "cube_freq"), [("month", "month"), ("quarter", "day")])
def test_emerging_hot_spots_from_a_cube_equal_those_from_the_incidents(
    synth, layers, grid, freq, cube_freq
):
    """The space-time Gi* counts incidents per cell and slice: the cube's counts are those,
    so every z, class and trend is the incidents' (on the cube's grid)."""
    from impactzones.hotspots import emerging

    inc = synth.incidents[synth.incidents["group"] == "violent"]
    inc = inc[inc["occurred_at"] < "2019-06-15"]  # a last slice half covered: dropped alike
    cube = build_cube(inc, grid, study_area=layers.study_area, freq=cube_freq)
    a = emerging(cube.sel(group="violent"), freq=freq)
    b = emerging(inc, freq=freq, study_area=layers.study_area, grid=grid)
    np.testing.assert_array_equal(a.z, b.z)
    assert list(a.slices) == list(b.slices)
    pd.testing.assert_frame_equal(
        a.cells.drop(columns="geometry"), b.cells.drop(columns="geometry")
    )
    assert a.params.pop("source")["input"] == "count cube"
    assert a.params == b.params and a.summary()["persistent"] > 0


def test_private_rows_without_points_count_in_an_exact_cube_as_in_the_incidents(
    synth, layers, grid
):
    """A loaded file keeps private incidents without their points, with the areas they
    were in: the exact cube counts them there (never in a cell), as the incident path
    places them, so the comparison and CompStat are still the incidents' exactly."""
    from impactzones.assign import assign
    from impactzones.evaluate.compstat import compstat
    from impactzones.pipeline import blank_sensitive

    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
    inc = inc[shapely.contains_xy(layers.study_area, *xy(inc))]
    blanked, n = blank_sensitive(inc, layers)
    assert n > 500
    kw = {"study_area": layers.study_area}
    cube = build_cube(blanked, grid, zones=layers.zones, districts=layers.districts,
                      freq="day", **kw)  # fmt: skip
    assert int(cube["count"].sum()) == len(inc) - n  # no private row in any cell
    city = int(cube["area_count"].sel(area="city").sum())
    assert city == len(inc)
    _same_table(
        compare_zones(cube, layers.zones, 2017, 2018, **kw),
        compare_zones(blanked, layers.zones, 2017, 2018, **kw),
    )
    # the independent truth: the incidents with every point (blanking moves no row)
    _same_table(
        compare_zones(cube, layers.zones, 2017, 2018, **kw),
        compare_zones(inc, layers.zones, 2017, 2018, **kw),
    )
    pd.testing.assert_frame_equal(
        compstat(cube, layers, "2018-11-30").table,
        _group_rows(compstat(assign(blanked, layers), layers, "2018-11-30")),
    )


def test_the_cube_command_end_to_end_from_a_loaded_file(synth, tmp_path, capsys):
    """synth -> load (private rows lose their points) -> cube -> compare and compstat:
    the same documents as compare and compstat on the loaded file itself."""
    import json

    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
    inc.to_parquet(tmp_path / "raw.parquet")
    clean, cube_nc = str(tmp_path / "clean.parquet"), str(tmp_path / "c.nc")
    assert _run(capsys, "load", str(tmp_path / "raw.parquet"), "--out", clean, "--quiet")[0] == 0
    code, out, _ = _run(capsys, "cube", clean, "--out", cube_nc, "--freq", "day", "--json")
    assert code == 0
    counted = json.loads(out)
    assert counted["incidents_in_city"] > counted["incidents_in_cells"]  # private rows: no cell
    common = ("--before", "2017", "--after", "2018", "--json", "--quiet")
    assert _run(capsys, "compare", cube_nc, *common)[1] == _run(capsys, "compare", clean, *common)[1]
    day = ("--as-of", "2018-12-31", "--json", "--quiet", "--out")
    a = json.loads(_run(capsys, "compstat", cube_nc, *day, str(tmp_path / "a"))[1])["rows"]
    b = json.loads(_run(capsys, "compstat", clean, *day, str(tmp_path / "b"))[1])["rows"]
    assert a == [r for r in b if r["level"] == "group"]
    assert _run(capsys, "cube", clean, "--out", str(tmp_path / "c.zarr"))[0] == 2

"""Swapped coordinates that are still valid degrees (a city with |longitude| < 90): named as
swapped, with the option that swaps them back, not only as "outside the study area".

The truth is hand-written: a square study area around Kyiv (lon 30.40-30.62, lat 50.38-50.52)
and points whose place inside or outside it is known by eye.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import box

from impactzones.cli import main
from impactzones.core.errors import InputError
from impactzones.io import read_incidents

KYIV = box(30.40, 50.38, 30.62, 50.52)
# (lat, lon) of five places inside the square, and one far away (in the Gulf of Guinea).
INSIDE = [(50.40, 30.45), (50.42, 30.50), (50.45, 30.55), (50.50, 30.60), (50.47, 30.48)]
HEADER = "id,date,category,lat,lon\n"
UTM = "EPSG:32636"


@pytest.fixture()
def area():
    """The study area in its UTM zone (the working CRS the CLI picks for it)."""
    return gpd.GeoSeries([KYIV], crs="EPSG:4326").to_crs(UTM)


def _csv(path, pairs, header=HEADER):
    body = "".join(
        f"{i},2020-01-0{i % 9 + 1} 10:00,robbery,{a},{b}\n" for i, (a, b) in enumerate(pairs, 1)
    )
    path.write_text(header + body)
    return path


def _boundary(tmp_path):
    p = tmp_path / "kyiv.geojson"
    gpd.GeoDataFrame({"name": ["Kyiv"]}, geometry=[KYIV], crs="EPSG:4326").to_file(p)
    return p


def test_a_right_file_is_read_whole(tmp_path, area):
    res = read_incidents(_csv(tmp_path / "ok.csv", INSIDE), study_area=area, work_crs=UTM)
    assert res.tally["used"] == 5 and res.swapped_hint() == ""


def test_swapped_lat_lon_columns_are_named_with_the_mapping_that_fixes_them(tmp_path, area):
    swapped = [(lon, lat) for lat, lon in INSIDE]  # every value within +-90: valid degrees
    path = _csv(tmp_path / "swapped.csv", swapped)
    with pytest.raises(InputError, match=r"swapped.*--columns lat=lon,lon=lat\.$"):
        read_incidents(path, study_area=area, work_crs=UTM)
    # the offered fix works: all five are inside
    fixed = read_incidents(
        path, study_area=area, work_crs=UTM, columns={"lat": "lon", "lon": "lat"}
    )
    assert fixed.tally["used"] == 5


def test_swapped_x_y_columns_in_degrees(tmp_path, area):
    swapped = [(lat, lon) for lat, lon in INSIDE]  # x holds the latitude, y the longitude
    path = _csv(tmp_path / "xy.csv", swapped, header="id,date,category,x,y\n")
    with pytest.raises(InputError, match=r"--columns x=y,y=x\.$"):
        read_incidents(path, study_area=area, work_crs=UTM, crs="EPSG:4326")
    fixed = read_incidents(
        path, study_area=area, work_crs=UTM, crs="EPSG:4326", columns={"x": "y", "y": "x"}
    )
    assert fixed.tally["used"] == 5


def test_a_swapped_geometry_says_no_option_swaps_it(tmp_path, area):
    feats = [
        {
            "type": "Feature",
            "properties": {"id": i, "date": "2020-01-05", "category": "robbery"},
            "geometry": {"type": "Point", "coordinates": [lat, lon]},  # y, x: swapped
        }
        for i, (lat, lon) in enumerate(INSIDE)
    ]
    path = tmp_path / "swapped.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    with pytest.raises(InputError, match="swap them in the file itself"):
        read_incidents(path, study_area=area, work_crs=UTM)


def test_a_mostly_swapped_file_keeps_its_right_rows_and_says_why_the_others_left(tmp_path, area):
    rows = [(lon, lat) for lat, lon in INSIDE[:3]] + INSIDE[3:]  # rows 1-3 swapped
    res = read_incidents(_csv(tmp_path / "mixed.csv", rows), study_area=area, work_crs=UTM)
    assert res.tally["used"] == 2
    assert res.rejects["row"].tolist() == [1, 2, 3]
    assert res.rejects["detail"].str.contains("longitude swapped it would be inside").all()
    assert res.swapped_hint().startswith("3 of the 5 rows fall outside")


def test_another_city_is_not_called_swapped(tmp_path, area):
    far = [(38.63, -90.20), (38.60, -90.25), (40.0, 10.0)]  # St. Louis and elsewhere
    res = read_incidents(_csv(tmp_path / "far.csv", far), study_area=area, work_crs=UTM)
    assert res.tally["used"] == 0 and res.swapped_hint() == ""
    with pytest.raises(InputError, match="give your city's --boundary"):
        res.require_incidents()


def test_cli_load_refuses_swapped_columns_in_one_sentence(tmp_path, capsys):
    path = _csv(tmp_path / "swapped.csv", [(lon, lat) for lat, lon in INSIDE])
    code = main(
        ["load", str(path), "--boundary", str(_boundary(tmp_path)),
         "--out", str(tmp_path / "clean.parquet"), "--quiet"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "look swapped" in err and "--columns lat=lon,lon=lat" in err
    assert not (tmp_path / "clean.parquet").exists()


def test_cli_load_warns_on_a_mostly_swapped_file(tmp_path, capsys):
    rows = [(lon, lat) for lat, lon in INSIDE[:3]] + INSIDE[3:]
    code = main(
        ["load", str(_csv(tmp_path / "mixed.csv", rows)), "--boundary",
         str(_boundary(tmp_path)), "--out", str(tmp_path / "clean.parquet")]
    )  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert code == 0 and "3 of them would fall inside with latitude and longitude swapped" in err


def test_cli_load_with_a_boundary_does_not_ask_for_one(tmp_path, capsys):
    """Every row outside the user's own --boundary: the sentence points at the coordinates
    or the boundary file, not at a missing --boundary."""
    far = [(38.63, -90.20), (38.60, -90.25)]  # St. Louis, against Kyiv's boundary
    code = main(
        ["load", str(_csv(tmp_path / "far.csv", far)), "--boundary", str(_boundary(tmp_path)),
         "--out", str(tmp_path / "clean.parquet")]
    )  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "check that --boundary is the same city" in err
    assert "give your city's --boundary" not in err
    # every row rejected: the rejects table is written and named, no empty clean file
    assert not (tmp_path / "clean.parquet").exists()
    assert (tmp_path / "clean_rejects.csv").exists() and "clean_rejects.csv" in err


def test_a_real_slmpd_month_is_not_taken_for_swapped_and_swapped_it_is(real_incidents_dir,
                                                                      tmp_path):  # fmt: skip
    """A real SLMPD month (State Plane feet) is read with no swapped hint; its points
    written as lat/lon with the two columns swapped are refused as swapped, with the
    mapping that swaps them back (truth: the month's own points, known inside the city)."""
    import pandas as pd

    from impactzones.core.geo import st_louis

    layers = st_louis()
    month = real_incidents_dir / "2018" / "may2018.csv"
    res = read_incidents(month, study_area=layers.study_area, work_crs=layers.crs)
    assert res.swapped_hint() == "" and res.tally["used"] > 3000
    pts = res.incidents[~res.incidents.geometry.is_empty].to_crs(4326).iloc[:500]
    d = pd.DataFrame({"id": range(len(pts)), "date": "2018-05-02 10:00", "category": "robbery",
                      "lat": pts.geometry.x.to_numpy(), "lon": pts.geometry.y.to_numpy()})  # fmt: skip
    d.to_csv(tmp_path / "swapped.csv", index=False)
    with pytest.raises(InputError, match=r"swapped.*--columns lat=lon,lon=lat\.$"):
        read_incidents(tmp_path / "swapped.csv", study_area=layers.study_area,
                       work_crs=layers.crs).require_incidents()  # fmt: skip
    d.rename(columns={"lat": "lon", "lon": "lat"}).to_csv(tmp_path / "fixed.csv", index=False)
    fixed = read_incidents(tmp_path / "fixed.csv", study_area=layers.study_area,
                           work_crs=layers.crs)  # fmt: skip
    assert fixed.tally["used"] == len(pts)

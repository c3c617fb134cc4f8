"""Reading incidents and layers: every row used or rejected with a reason; clear errors."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from impactzones.core.errors import InputError
from impactzones.io import read_incidents, read_layer, write_vector

HEADER = (
    "Complaint,CodedMonth,DateOccur,FlagCrime,FlagUnfounded,FlagAdministrative,Count,"
    "FlagCleanup,Crime,District,Description,ILEADSAddress,ILEADSStreet,Neighborhood,"
    "LocationName,LocationComment,CADAddress,CADStreet,XCoord,YCoord"
)
MAY_HEADER = (
    "Complaint,Coded Month,Date Occur,Flag-Crime,Flag-Unfounded,Flag-Administrative,"
    "Count,Flag Cleanup,Crime,ILeads Add,ILeads Approve,District,Beat,Description,"
    "ILEADS-Address,ILEADS-Street,Neighborhood,ILeads Asg,ILeads Type,Location Name,"
    "Location Comment,CAD-Address,CAD-Street,X-Coord,Y-Coord,Date Crime Coded"
)
# Two real locations in the city (Missouri State Plane East, US feet).
IN1 = "890047.4,992586.3"
IN2 = "884087.5,1030426"


def row(complaint, date, count, code, desc, xy=IN1, month="2017-01"):
    return (
        f"{complaint},{month},{date},Y, , ,{count}, ,{code},1,{desc},6431,IDAHO AVE,1,"
        f" ,O\u2019BRIEN ST,6431,IDAHO,{xy}"
    )


@pytest.fixture()
def slmpd(tmp_path):
    """Three monthly files with every quirk of the real exports, and the fate of each row."""
    jan = [
        row(
            "17-000001",
            "01/01/2017 00:01",
            1,
            " 31111",
            "ROBBERY-HIGHWAY  /FIREARM USED/SUCCESSFUL",
        ),
        row("17-000002", "01/02/2017 10:00", 1, "69702", "LARCENY-ALL OTHER UNDER $500", IN2),
        row("17-000003", "01/03/2017 11:00", 1, "51121", "BURGLARY-RESIDENCE", "0,0"),
        row("17-000004", "13/45/2017 99:99", 1, "51121", "BURGLARY-RESIDENCE"),
        row("17-000005", "01/05/2017 12:00", 1, "ABC", "GARBLED"),
        row(
            "17-000006",
            "01/06/2017 13:00",
            1,
            "41013",
            "AGG.ASSAULT-FIREARM/CITIZEN ADULT 3RD DEGREE",
        ),
        row("17-000007", "01/07/2017 14:00", 1, "31111", "ROBBERY", "800000,900000"),
        row("17-000008", "01/08/2017 15:00", 1, "41013", "ASSLT-AGGRAV-FIREARM-3RD-ADULT-DOMESTIC"),
        row("17-000008", "01/08/2017 15:00", 1, "41013", "ASSLT-AGGRAV-FIREARM-3RD-ADULT-DOMESTIC"),
        row("17-000009", "01/09/2017 16:00", 1, "81000", "ARSON-RESIDENCE"),
        row("17-000010", "01/10/2017 17:00", 1, "181100", "DRUGS-POSSESSION"),
    ]
    text = "\r\n".join([HEADER, *jan]) + "\r\n"
    (tmp_path / "january2017.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    may = [
        # May 2017: other header, M/D/YYYY H:MM, space-padded text
        "17-000011,2017-05,5/9/2017 1:21,Y, , ,1, ,38111,5/9/2017 12:37,5/13/2017,4,424,"
        "ROBBERY CARJACKING /FIREARM USED/SUCCESSFUL    ,721,N 2ND ST    ,35,304,, ,,721,2ND,"
        f"{IN2},5/15/2017",
        # retracts 17-000006 of January
        "17-000006,2017-05,1/6/2017 13:00,Y,Y, ,-1, ,41013,,,1,,AGG.ASSAULT,,,1,,,,,,,0,0,5/15/2017",
        # retracts nothing that was read
        "16-999999,2017-05,12/6/2016 13:00,Y,Y, ,-1, ,41013,,,1,,AGG.ASSAULT,,,1,,,,,,,0,0,5/15/2017",
    ]
    (tmp_path / "may2017.csv").write_text("\r\n".join([MAY_HEADER, *may]) + "\r\n")
    copy = [jan[1]]  # the same record again in a second download of January: a duplicate
    (tmp_path / "january2017_copy.csv").write_text("\r\n".join([HEADER, *copy]) + "\r\n")
    fate = {
        ("january2017.csv", 1): "used",
        ("january2017.csv", 2): "used",
        ("january2017.csv", 3): "no_location",
        ("january2017.csv", 4): "unparseable_date",
        ("january2017.csv", 5): "unknown_category",
        ("january2017.csv", 6): "retracted",
        ("january2017.csv", 7): "outside_study_area",
        ("january2017.csv", 8): "used",
        ("january2017.csv", 9): "used",
        ("january2017.csv", 10): "used",
        ("january2017.csv", 11): "used",
        ("january2017_copy.csv", 1): "duplicate_id",
        ("may2017.csv", 1): "used",
        ("may2017.csv", 2): "retraction",
        ("may2017.csv", 3): "retraction",
    }
    return tmp_path, fate


def test_slmpd_folder_every_row_accounted_for(slmpd, layers):
    folder, fate = slmpd
    res = read_incidents(folder, study_area=layers.study_area)
    assert res.read == len(fate)
    assert len(res.incidents) + len(res.rejects) == res.read
    got = {}
    for r in res.rejects.itertuples():
        got[(r.source.rsplit("/", 1)[-1], r.row)] = r.reason
    used = {k for k, v in fate.items() if v == "used"}
    assert {k: v for k, v in fate.items() if v != "used"} == got
    assert len(res.incidents) == len(used)
    t = res.tally
    assert t["used"] + t["rejected"] == t["read"]
    assert t["rejected_by_reason"]["retraction"] == 2


def test_slmpd_fields_are_decoded(slmpd, layers):
    folder, _ = slmpd
    inc = read_incidents(folder, study_area=layers.study_area).incidents.set_index("incident_id")
    assert inc.loc["17-000001", "category"] == "robbery"
    assert inc.loc["17-000001", "firearm"]
    assert inc.loc["17-000002", "category"] == "larceny_theft"  # "69702": leading zero dropped
    assert inc.loc["17-000009", "category"] == "arson"  # kept under its own name
    assert inc.loc["17-000009", "group"] == "other"
    assert inc.loc["17-000010", "category"] == "drug_violations"
    # two identical rows in one file are two victims: both kept, ids made unique
    assert inc.loc["17-000008", "domestic"] and inc.loc["17-000008#2", "domestic"]
    may = inc.loc["17-000011"]
    assert may["occurred_at"] == pd.Timestamp("2017-05-09 01:21")
    assert may["carjacking"] and may["category"] == "robbery"
    assert inc.crs.to_epsg() == 32615
    # State Plane feet to UTM: the point is in the city
    assert layers.study_area.contains(inc.loc["17-000001", "geometry"])


def test_real_slmpd_exports(real_incidents_dir, layers):
    res = read_incidents(real_incidents_dir, study_area=layers.study_area)
    # SOURCES.md: 48,986 + 46,742 + 48,901 data rows
    assert res.read == 144_629
    assert len(res.incidents) + len(res.rejects) == res.read
    assert res.incidents["incident_id"].is_unique
    by = res.tally["rejected_by_reason"]
    assert by["no_location"] > 1000 and by["retraction"] > 1000
    assert "unknown_category" not in by  # every code is readable
    inc = res.incidents
    y = inc["occurred_at"].dt.year
    # Geocoded robberies and aggravated assaults land within 5% of the published counts.
    for year, cat, published in [
        (2017, "robbery", 1944),
        (2018, "robbery", 1452),
        (2017, "aggravated_assault", 4021),
        (2018, "aggravated_assault", 3577),
    ]:
        n = ((y == year) & (inc["category"] == cat)).sum()
        assert abs(n - published) / published < 0.05, (year, cat, n)
    assert inc["carjacking"].sum() > 300


def test_generic_csv_latlon_and_mapping(tmp_path, layers):
    df = pd.DataFrame(
        {
            "Case": ["a", "b", "c", "b", "e"],
            "When": [
                "2018-03-01T10:00",
                "2018-03-02 11:00",
                "2018-03-03",
                "2018-03-04",
                "2018-03-05",
            ],
            "Offense": ["Aggravated Assault", "Larceny-theft", "", "Robbery", "Arson"],
            "Lat": [38.63, 38.60, 38.62, 38.61, 38.64],
            "Long": [-90.20, -90.25, -90.22, -90.23, -90.24],
        }
    )
    p = tmp_path / "inc.csv"
    df.to_csv(p, index=False)
    res = read_incidents(
        p,
        columns={
            "incident_id": "Case",
            "occurred_at": "When",
            "category": "Offense",
            "lat": "Lat",
            "lon": "Long",
        },
        study_area=layers.study_area,
    )
    assert res.incidents["incident_id"].tolist() == ["a", "b", "e"]
    assert res.incidents["category"].tolist() == ["aggravated_assault", "larceny_theft", "arson"]
    assert dict(zip(res.rejects["row"], res.rejects["reason"], strict=True)) == {
        3: "unknown_category",
        4: "duplicate_id",
    }


def test_swapped_latlon_is_one_clear_error(tmp_path, layers):
    df = pd.DataFrame(
        {
            "id": [1, 2],
            "date": ["2018-01-01", "2018-01-02"],
            "category": ["robbery", "robbery"],
            "lat": [-90.20, -90.25],
            "lon": [38.63, 38.60],
        }
    )
    p = tmp_path / "swapped.csv"
    df.to_csv(p, index=False)
    with pytest.raises(InputError, match="swapped"):
        read_incidents(p, study_area=layers.study_area)


def test_xy_needs_a_crs(tmp_path, layers):
    df = pd.DataFrame(
        {
            "id": [1],
            "date": ["2018-01-01"],
            "category": ["robbery"],
            "x": [739000.0],
            "y": [4280000.0],
        }
    )
    p = tmp_path / "xy.csv"
    df.to_csv(p, index=False)
    with pytest.raises(InputError, match="--crs"):
        read_incidents(p)
    res = read_incidents(p, crs="EPSG:32615", study_area=layers.study_area)
    assert len(res.incidents) == 1
    assert res.incidents.geometry.x.item() == pytest.approx(739000.0)


def test_vector_files_round_trip_and_non_points(tmp_path, synth, layers):
    sample = synth.incidents.iloc[:50].copy()
    for ext in ("geojson", "gpkg", "parquet", "csv"):
        p = write_vector(sample, tmp_path / f"inc.{ext}")
        res = read_incidents(
            p, crs="EPSG:32615" if ext == "csv" else None, study_area=layers.study_area
        )
        assert res.read == 50 and len(res.incidents) == 50, ext
        assert res.incidents["category"].tolist() == sample["category"].tolist()
        assert np.allclose(res.incidents.geometry.x, sample.geometry.x, atol=0.05), ext
    poly = sample.iloc[:3].copy()
    poly["geometry"] = poly.buffer(10)
    p = write_vector(poly, tmp_path / "poly.gpkg")
    res = read_incidents(p)
    assert set(res.rejects["reason"]) == {"not_a_point"} and len(res.rejects) == 3


def test_clear_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_incidents(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_incidents(tmp_path / "empty.csv")
    (tmp_path / "nocols.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="--columns"):
        read_incidents(tmp_path / "nocols.csv")


def test_layer_without_crs_and_invalid_geometry(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    gdf = gpd.GeoDataFrame({"name": ["Z"], "start": ["2018-01-01"]}, geometry=[bowtie])
    p = tmp_path / "zones.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.to_file(p)  # no CRS: no .prj
    with pytest.raises(InputError, match="no CRS"):
        read_layer(p, kind="zones")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        z = read_layer(p, kind="zones", crs="EPSG:32615")
    assert any("repaired" in str(x.message) for x in w)
    assert z.is_valid.all() and z.geometry.area.item() == pytest.approx(50.0)
    assert z["start"].dt.year.item() == 2018


def test_writes_are_atomic_and_geojson_is_wgs84(tmp_path, synth):
    p = write_vector(synth.incidents.iloc[:5], tmp_path / "x.geojson")
    doc = json.loads(p.read_text())
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert -91 < lon < -90 and 38 < lat < 39
    assert [f.name for f in tmp_path.iterdir()] == ["x.geojson"]  # no temp files left


def test_our_own_csv_reads_back_without_a_crs(tmp_path, synth, layers):
    """A CSV written by write_vector has x/y and lon/lat: lon/lat need no CRS."""
    p = write_vector(synth.incidents.iloc[:30], tmp_path / "inc.csv")
    res = read_incidents(p, study_area=layers.study_area)
    assert len(res.incidents) == 30
    assert np.allclose(res.incidents.geometry.x, synth.incidents.geometry.x[:30], atol=0.5)


def test_slmpd_file_without_a_description_column_reads(tmp_path):
    """The five columns that identify an SLMPD export are enough (no Description column)."""
    p = tmp_path / "bare.csv"
    p.write_text(
        "Complaint,DateOccur,Crime,XCoord,YCoord\n"
        f"17-000001,01/01/2017 00:01,31111,{IN1}\n"
        f"17-000002,01/02/2017 10:00,69702,{IN2}\n"
    )
    res = read_incidents(p)
    assert list(res.incidents["category"]) == ["robbery", "larceny_theft"]
    assert not res.incidents["carjacking"].any()


def _fake_today(monkeypatch, day):
    """Make pandas' clock (``Timestamp.now``/``today``) say ``day``."""
    fixed = pd.Timestamp(day)
    monkeypatch.setattr(pd.Timestamp, "now", classmethod(lambda cls, tz=None: fixed))
    monkeypatch.setattr(pd.Timestamp, "today", classmethod(lambda cls, tz=None: fixed))


@pytest.mark.parametrize("as_of", ["2026-03-31", None])
def test_future_dates_do_not_depend_on_the_day_it_runs(tmp_path, monkeypatch, as_of):
    # 2026-06-01 is "future" to a reader that runs in early 2026 and "past" to one that runs
    # in 2027: a clock-based check would give two different rejects tables for one file.
    p = tmp_path / "inc.csv"
    rows = [
        f"A{i},2018-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00,Robbery,38.63,-90.20" for i in range(40)
    ]
    rows += ["F1,2026-06-01 10:00,Robbery,38.63,-90.20", "F2,2099-06-01 10:00,Robbery,38.63,-90.20"]
    p.write_text("id,date,category,lat,lon\n" + "\n".join(rows) + "\n")
    seen = []
    for today in ("2026-01-02", "2027-07-01", "2031-12-31"):
        with monkeypatch.context() as m:
            _fake_today(m, today)
            res = read_incidents(p, as_of=as_of)
        seen.append(
            (res.tally, res.rejects.to_csv(), res.incidents.drop(columns="geometry").to_csv())
        )
    assert seen[0] == seen[1] == seen[2]
    fut = set(res.rejects.loc[res.rejects["reason"].eq("future_date"), "incident_id"])
    # with an as-of day, both are after it; without one, the bound comes from the 2018 dates
    # (upper quartile + 3 IQR, at least a year), which 2026 and 2099 are both far beyond
    assert fut == {"F1", "F2"}
    assert res.tally["used"] == 40


def test_as_of_sets_the_future_bound(tmp_path):
    p = tmp_path / "inc.csv"
    p.write_text(
        "id,date,category,lat,lon\n"
        "1,2018-05-01 10:00,Robbery,38.63,-90.20\n"
        "2,2018-05-31 23:59,Robbery,38.63,-90.20\n"
        "3,2018-06-01 00:00,Robbery,38.63,-90.20\n"
    )
    res = read_incidents(p, as_of="2018-05-31")  # the day is included, the next is not
    assert res.rejects["incident_id"].tolist() == ["3"]
    assert res.rejects["detail"].iloc[0] == "the date is after --as-of 2018-05-31"
    assert read_incidents(p).tally["used"] == 3
    with pytest.raises(InputError, match="--as-of expects a date"):
        read_incidents(p, as_of="last tuesday")


@pytest.mark.parametrize("ragged", [False, True])
def test_large_files_read_in_chunks_give_the_same_result(tmp_path, monkeypatch, ragged):
    import impactzones.io.tables as iz_io

    rng = np.random.default_rng(3)
    n = 3000
    day = rng.integers(1, 29, n)
    day[:5] = 13  # only the first chunk shows that the file writes the day first
    day[5:] = rng.integers(1, 13, n - 5)
    dates = [f"{d:02d}/{1 + i % 12:02d}/2018 10:{i % 60:02d}" for i, d in enumerate(day)]
    dates[2500], dates[2600], dates[2700] = "01/06/2099 10:00", "", "31/12/1900 00:00"
    labels = rng.choice(["Robbery", "Burglary", "Rape", "Domestic Battery", "Spitting"], n)
    lat = np.round(38.55 + rng.random(n) * 0.15, 5).astype(str)
    lat[100] = ""
    lines = [f"{a},{b},{c},-90.22" for a, b, c in zip(dates, labels, lat, strict=True)]
    if ragged:
        lines[1500] += ",extra"
    p = tmp_path / "noid.csv"  # no id column: ids are made from the row numbers
    p.write_text("date,offense,lat,lon\n" + "\n".join(lines) + "\n")
    whole = read_incidents(p)
    monkeypatch.setattr(iz_io, "CHUNK_BYTES", 1)
    monkeypatch.setattr(iz_io, "CHUNK_ROWS", 700)
    chunked = read_incidents(p)
    assert whole.tally == chunked.tally
    pd.testing.assert_frame_equal(whole.incidents, chunked.incidents)
    pd.testing.assert_frame_equal(whole.rejects, chunked.rejects)
    t = chunked.tally
    assert t["read"] == n and t["used"] + t["rejected"] == n
    reasons = chunked.rejects.set_index("row")["reason"]
    assert reasons[2501] == "future_date" and reasons[2701] == "date_before_floor"
    # made-up ids count the rows kept (a ragged row set aside shifts them by one)
    assert chunked.incidents["incident_id"].iloc[-1] == f"noid-{n - ragged}"
    assert chunked.incidents["sensitive"].sum() == np.isin(
        labels, ["Rape", "Domestic Battery"]
    ).sum() - (np.isin(labels[[100, 2500, 2600, 2700]], ["Rape", "Domestic Battery"]).sum()) - (
        ragged and labels[1500] in ("Rape", "Domestic Battery")
    )


def test_a_vector_file_is_placed_by_the_columns_the_user_names(tmp_path, layers):
    """A GeoJSON whose geometry is empty but whose properties hold latitude and longitude:
    ``--columns lat=...,lon=...`` places the rows by those columns (it was ignored, and
    every row rejected as no_location). The truth: five St. Louis places, by hand."""
    places = [(38.63, -90.20), (38.60, -90.25), (38.65, -90.22), (38.62, -90.24),
              (38.64, -90.21)]  # fmt: skip
    frame = pd.DataFrame({"id": range(1, 6), "date": "2018-03-01", "category": "robbery",
                          "Lat": [p[0] for p in places], "Lon": [p[1] for p in places]})
    path = tmp_path / "no_geometry.geojson"
    gpd.GeoDataFrame(frame, geometry=[None] * 5, crs=4326).to_file(path)
    assert read_incidents(path).tally["rejected_by_reason"] == {"no_location": 5}
    res = read_incidents(path, columns={"lat": "Lat", "lon": "Lon"},
                         study_area=layers.study_area, work_crs=layers.crs)  # fmt: skip
    assert res.tally["used"] == 5
    got = res.incidents.to_crs(4326)
    assert np.allclose(got.geometry.y, [p[0] for p in places])
    assert np.allclose(got.geometry.x, [p[1] for p in places])

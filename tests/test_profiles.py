"""Any city's exports as published: profiles from the header, crosswalks, dates (issue 12).

Each sample in tests/data/profiles/ is a few dozen invented rows in one agency's layout
(its real header line, code conventions and date format); ``truth.csv`` holds, for every
row, what it must become -- category, group, private or not, local time and position --
worked out by hand from the agency's code book (see make_samples.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from impactzones.cli import main
from impactzones.core.errors import InputError
from impactzones.io import read_incidents
from impactzones.io.dates import infer_format, parse_dates
from impactzones.io.profiles import detect

DATA = Path(__file__).parent / "data" / "profiles"
TRUTH = pd.read_csv(DATA / "truth.csv", dtype=str, keep_default_na=False)
#: Sample file -> the profile it must be read with.
LAYOUTS = {
    "chicago": "chicago",
    "chicago_no_fbi": "chicago",  # an extract without FBI Code: the category from IUCR
    "nypd": "nypd",
    "lapd": "lapd",
    "philadelphia": "philadelphia",
    "generic": "generic",  # free-text labels, placed by the synonym list
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_each_profile_reads_every_row_as_worked_by_hand(name):
    res = read_incidents(DATA / f"{name}.csv", work_crs="EPSG:4326")
    truth = TRUTH[TRUTH["file"] == f"{name}.csv"]
    assert res.read == len(truth)
    assert next(iter(res.tally["profiles"].values()))["profile"] == LAYOUTS[name]
    tz = next(iter(res.tally["dates"].values()))["timezone"]
    inc = res.incidents.set_index("incident_id")
    used = truth[truth["fate"] == "used"]
    assert sorted(inc.index) == sorted(used["id"])
    for row in used.itertuples():
        got = inc.loc[row.id]
        assert got["category"] == row.category, row.id
        assert got["group"] == row.group, row.id
        assert bool(got["sensitive"]) == (row.sensitive == "1"), row.id
        assert tz == row.tz
        assert got["occurred_at"] == pd.Timestamp(row.local_time), row.id
        assert got.geometry.y == pytest.approx(float(row.lat), abs=1e-6), row.id
        assert got.geometry.x == pytest.approx(float(row.lon), abs=1e-6), row.id
    rejected = dict(zip(res.rejects["row"], res.rejects["reason"], strict=True))
    for row in truth[truth["fate"] != "used"].itertuples():
        assert rejected[int(row.row)] == row.fate, row.id


def test_state_plane_feet_land_where_lat_lon_say(tmp_path):
    """Chicago's X/Y Coordinate (Illinois East, US feet) alone give the same places."""
    df = pd.read_csv(DATA / "chicago.csv", dtype=str, keep_default_na=False)
    df.drop(columns=["Latitude", "Longitude", "Location"]).to_csv(tmp_path / "c.csv", index=False)
    res = read_incidents(tmp_path / "c.csv", work_crs="EPSG:4326")
    truth = TRUTH[(TRUTH["file"] == "chicago.csv") & (TRUTH["fate"] == "used")].set_index("id")
    inc = res.incidents.set_index("incident_id")
    for i, row in truth.iterrows():
        assert inc.loc[i].geometry.y == pytest.approx(float(row["lat"]), abs=2e-6)
        assert inc.loc[i].geometry.x == pytest.approx(float(row["lon"]), abs=2e-6)


def test_detection_says_why_and_profile_can_be_forced(capsys):
    head = pd.read_csv(DATA / "nypd.csv", nrows=0).columns
    p = detect(head)
    assert p.name == "nypd" and "KY_CD" in p.why(head) and "OFNS_DESC" in p.why(head)
    assert detect(["id", "date", "offense", "lat", "lon"]).name == "generic"
    with pytest.raises(InputError, match="Unknown profile"):
        read_incidents(DATA / "nypd.csv", profile="boston")


def test_unmapped_categories_are_reported_with_counts_and_the_cure(tmp_path, capsys):
    out = tmp_path / "g.parquet"
    args = ["load", str(DATA / "generic.csv"), "--out", str(out), "--no-boundary"]
    assert main([*args, "--json"]) == 0
    tally = json.loads(capsys.readouterr().out)
    assert tally["unmapped_categories"] == {"Trespassing": 2}
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "'Trespassing' (2)" in text and "--categories" in text
    # a mapping file maps them (and can make them private)
    m = tmp_path / "map.csv"
    m.write_text("label,category,sensitive\nTrespassing,other_offenses,\n")
    res = read_incidents(DATA / "generic.csv", categories=m)
    assert res.tally["unmapped_categories"] == {}
    assert (res.incidents["category"] == "other_offenses").sum() == 2


def test_code_beats_label_and_the_row_is_noted():
    res = read_incidents(DATA / "philadelphia.csv", work_crs="EPSG:4326")
    # "Homicide - Justifiable" under ucr_general 100: the code (criminal homicide) wins
    assert res.tally["code_label_disagreements"] == 1


@pytest.mark.parametrize(
    ("values", "kwargs", "expected"),
    [
        (["13/05/2018", "01/05/2018"], {}, ["2018-05-13", "2018-05-01"]),
        (["01.05.2018", "13.05.2018"], {}, ["2018-05-01", "2018-05-13"]),
        (["05/13/2018 10:00", "05/01/2018 11:00"], {}, ["2018-05-13 10:00", "2018-05-01 11:00"]),
        (["01/05/2018"], {"dayfirst": True}, ["2018-05-01"]),
        (["01/05/2018"], {"dayfirst": False}, ["2018-01-05"]),
        (["43221", "43221.5"], {}, ["2018-05-01", "2018-05-01 12:00"]),  # Excel serial days
        (
            ["2018-01-15T12:00:00Z", "2018-07-01T12:00:00+02:00", "2018-07-01 08:00"],
            {},
            ["2018-01-15 06:00", "2018-07-01 05:00", "2018-07-01 08:00"],
        ),
        (["2018-07-01T12:00:00Z"], {"timezone": "Europe/Berlin"}, ["2018-07-01 14:00"]),
    ],
)
def test_dates_by_hand(values, kwargs, expected):
    got = parse_dates(values, **kwargs).values
    assert got.tolist() == [pd.Timestamp(e) for e in expected]


def test_ambiguous_and_inconsistent_date_columns_are_refused():
    with pytest.raises(InputError, match=r"ambiguous.*--dayfirst or --monthfirst"):
        parse_dates(["01/05/2018", "02/06/2018"])
    with pytest.raises(InputError, match="inconsistent"):
        parse_dates(["13/05/2018", "05/13/2018"])
    # one garbled row does not decide, and is counted as unreadable
    r = parse_dates(["05/13/2018 10:00", "13/45/2018 99:99"])
    assert r.values.isna().tolist() == [False, True]
    assert infer_format(pd.Series(["2018-05-01 10:00"]))[0] == "ISO8601"


def test_rows_off_the_column_format_fall_back_one_by_one_and_are_counted():
    r = parse_dates(["05/01/2018 10:00"] * 5 + ["May 3, 2018 10:00"], dayfirst=False)
    assert r.format == "%m/%d/%Y %H:%M" and r.fallback == 1
    assert r.values.iloc[-1] == pd.Timestamp("2018-05-03 10:00")


def test_future_and_too_old_dates_are_rejected_with_a_reason(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text(
        "id,date,offense,lat,lon\n"
        "1,1900-01-01 00:00,Robbery,38.63,-90.2\n"
        "2,2099-01-01 00:00,Robbery,38.63,-90.2\n"
        "3,2018-01-01 00:00,Robbery,38.63,-90.2\n"
        "4,1965-06-01 00:00,Robbery,38.63,-90.2\n"
    )
    res = read_incidents(p, as_of="2026-01-01")
    assert dict(zip(res.rejects["row"], res.rejects["reason"], strict=True)) == {
        1: "date_before_floor",
        2: "future_date",
        4: "date_before_floor",
    }
    assert len(read_incidents(p, as_of="2026-01-01", date_floor="1960-01-01").incidents) == 2


BAD = Path(__file__).parent / "data" / "bad"


def test_swapped_rows_get_a_hint_in_their_reason(layers):
    res = read_incidents(BAD / "swapped_some.csv", study_area=layers.study_area)
    details = res.rejects.set_index("row")["detail"]
    assert sorted(details.index) == [2, 5, 8]
    assert all("latitude and longitude swapped" in d for d in details)


def test_ragged_rows_keep_their_own_row_numbers():
    res = read_incidents(BAD / "ragged_rows.csv", study_area=None)
    rej = res.rejects.set_index("row")
    assert rej.loc[4, "reason"] == rej.loc[7, "reason"] == "ragged_row"
    assert "6 fields; the header has 5" in rej.loc[4, "detail"]
    assert res.incidents["incident_id"].tolist() == [
        f"C{i}" for i in range(1, 11) if i not in (4, 7)
    ]


def test_utf16_files_read_as_text():
    a = read_incidents(BAD / "utf16_bom.csv").incidents
    b = read_incidents(BAD / "utf16_nobom.csv").incidents
    assert len(a) == len(b) == 10 and a["incident_id"].tolist() == b["incident_id"].tolist()


def test_a_layer_in_feet_without_a_crs_member_is_caught_and_crs_applies():
    from impactzones.io import read_layer

    with pytest.raises(InputError, match="cannot be degrees"):
        read_layer(BAD / "boundary_in_feet.geojson", kind="boundary")
    b = read_layer(BAD / "boundary_in_feet.geojson", kind="boundary", crs="ESRI:102696")
    lon0, lat0, lon1, lat1 = b.to_crs(4326).total_bounds
    assert (lon0, lat0, lon1, lat1) == pytest.approx((-90.32, 38.53, -90.16, 38.78), abs=1e-3)


def test_fixed_width_dates_parse_as_pandas_does():
    """The fast path for full-width formats (pyarrow's strptime) gives pandas' values, and
    hands everything it does not vouch for (short fields, 30 February, stray text) to pandas."""
    from impactzones.io.dates import _with_format

    fmt = "%m/%d/%Y %I:%M:%S %p"
    odd = [
        "05/01/2018 11:30:00 PM", "5/1/2018 1:30:00 PM", "05/01/2018 11:30:00 PMx",
        " 05/01/2018 11:30:00 PM", "13/01/2018 11:30:00 PM", "02/30/2018 11:30:00 PM",
        "02/29/2020 11:30:00 PM", "02/29/2019 11:30:00 PM", "05/01/2018 13:30:00 PM",
        "05/01/2018 00:30:00 AM", "05/01/2018 12:30:00 AM", "05/01/2018 12:30:00 pm", "",
        "05/01/18 11:30:00 PM", "05/01/2018 11:30 PM", "05/01/2018 11:30:60 PM",
        "05/01/0201 11:30:00 PM", "12/31/2018 11:59:59 PM",
    ]
    t = pd.Timestamp("2018-01-01") + pd.to_timedelta(range(0, 10**6, 997), "min")
    values = pd.Series([*odd, *t.strftime(fmt)], dtype=object)
    got = _with_format(values, fmt)
    want = pd.to_datetime(values, format=fmt, errors="coerce")
    assert got.isna().tolist() == want.isna().tolist()
    ok = want.notna()
    assert (got[ok].astype("datetime64[us]") == want[ok].astype("datetime64[us]")).all()
    assert got.isna().sum() == 10  # the odd ones pandas cannot read either
    for fmt in ("%d.%m.%Y %H:%M", "%m/%d/%Y"):
        values = pd.Series([*t[:50].strftime(fmt), "31.02.2018 10:00", "1/2/2018"])
        want = pd.to_datetime(values, format=fmt, errors="coerce")
        got = _with_format(values, fmt)
        assert got.isna().tolist() == want.isna().tolist()
        assert (got[want.notna()] == want[want.notna()].astype("datetime64[us]")).all()


def test_carjackings_are_flagged_by_code_or_label():
    """Chicago's vehicular hijacking codes (0325, 0326) and a generic "Robbery - Carjacking"
    are robberies flagged as carjackings; no other row is."""
    for name, ids in (
        ("chicago", {"11300005"}),
        ("chicago_no_fbi", {"11300005"}),
        ("generic", {"G-006", "G-026"}),
    ):
        inc = read_incidents(DATA / f"{name}.csv", work_crs="EPSG:4326").incidents
        assert set(inc.loc[inc["carjacking"], "incident_id"]) == ids, name


def test_chicago_code_wins_over_the_primary_type():
    """Without FBI Code, IUCR gives the category and the code wins where the primary type
    says otherwise. Worked by hand: HOMICIDE under 0142 (reckless homicide: negligent
    manslaughter), BATTERY under 0479 and 0497 and ASSAULT under 0558 (aggravated, while
    the bare words are simple), THEFT under 0842 (identity theft: fraud) -- five rows."""
    res = read_incidents(DATA / "chicago_no_fbi.csv", work_crs="EPSG:4326")
    assert res.tally["code_label_disagreements"] == 5
    assert res.tally["unmapped_categories"] == {}

"""Messages that quote a file's own column names stay one readable line, whatever the names
hold: line breaks, ANSI escape codes, bidirectional overrides, 5,000 characters.

The truth is hand-written: five St. Louis places (inside the bundled study area) written
with latitude and longitude swapped; the advice each message gives, followed by hand, must
read all five.
"""

from __future__ import annotations

import json
import re
import shlex

import pandas as pd
import pytest

from impactzones.cli import main

# (lat, lon) of five places in St. Louis
PLACES = [(38.63, -90.20), (38.60, -90.25), (38.65, -90.22), (38.62, -90.24), (38.64, -90.21)]
LONG_LAT, LONG_LON = "l" + " " * 5000 + "at", "l" + " " * 5000 + "on"


def _frame(lat_name: str, lon_name: str) -> pd.DataFrame:
    """The five places with the longitudes in the column named ``lat_name`` (swapped)."""
    return pd.DataFrame(
        {
            "id": range(1, 6),
            "date": [f"2018-03-0{i}" for i in range(1, 6)],
            "category": "robbery",
            lat_name: [lon for _lat, lon in PLACES],
            lon_name: [lat for lat, _lon in PLACES],
        }
    )


def _write(frame: pd.DataFrame, path):
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)  # names with line breaks are quoted
    else:
        frame.to_parquet(path)
    return path


def _load(argv, capsys) -> tuple[int, str, str]:
    code = main(["load", *argv, "-q"])
    printed = capsys.readouterr()
    return code, printed.out, printed.err


CASES = {
    # name: (latitude column, longitude column, file type, --columns needed to find them)
    "line_breaks": ("La\nt", "Lo\nn", ".csv", False),
    "ansi_codes": ("\x1b[31mLat\x1b[0m", "\x1b[32mLon\x1b[0m", ".parquet", True),
    "bidi_override": ("\u202etaL", "\u202enoL", ".parquet", True),
    "five_thousand": (LONG_LAT, LONG_LON, ".csv", False),
}
SHOWN = {
    "line_breaks": ('"La\\nt" to lon', '"Lo\\nn" to lat'),
    "ansi_codes": ('"\\x1b[31mLat\\x1b[0m" to lon', '"\\x1b[32mLon\\x1b[0m" to lat'),
    "bidi_override": ('"\\u202etaL" to lon', '"\\u202enoL" to lat'),
    "five_thousand": ('at (5,003 characters)" to lon', 'on (5,003 characters)" to lat'),
}


@pytest.mark.parametrize("case", list(CASES))
def test_swapped_columns_with_hostile_names_give_one_readable_line(case, tmp_path, capsys):
    lat, lon, ext, mapped = CASES[case]
    path = _write(_frame(lat, lon), tmp_path / f"in{ext}")
    columns = ["--columns", f"lat={lat},lon={lon}"] if mapped else []
    code, _out, err = _load([str(path), "--out", str(tmp_path / "c.parquet"), *columns], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.endswith("\n"), err  # one line
    assert "\x1b" not in err and "\u202e" not in err
    assert len(err) < 700  # not 5,000 characters of a name
    assert "look swapped" in err and "rename the column" in err
    for shown in SHOWN[case]:
        assert shown in err, err
    # the advice, followed by hand: the two columns renamed, and all five places are read
    fixed = _write(_frame(lat, lon).rename(columns={lat: "lon", lon: "lat"}), tmp_path / f"f{ext}")
    code = main(["load", str(fixed), "--out", str(tmp_path / "ok.parquet"), "--json"])
    assert code == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["used"] == 5


def test_names_with_spaces_get_a_shell_quoted_columns_value(tmp_path, capsys):
    path = _write(_frame("Lat deg", "Lon deg"), tmp_path / "in.csv")
    argv = [str(path), "--out", str(tmp_path / "c.parquet")]
    code, _out, err = _load([*argv, "--columns", "lat=Lat deg,lon=Lon deg"], capsys)
    assert code == 2
    offered = re.search(r"--columns ('[^']*')\.$", err.strip())
    assert offered, err
    # the offered value, as a shell would pass it, reads all five places
    code = main(["load", *argv, "--columns", *shlex.split(offered.group(1)), "--json"])
    out = capsys.readouterr().out
    assert code == 0 and json.loads(out[out.index("{") :])["used"] == 5


def test_a_missing_column_message_lists_hostile_names_on_one_line(tmp_path, capsys):
    frame = _frame("lat", "lon").drop(columns="date")
    frame["A\nB"] = 1
    frame[LONG_LAT] = 2
    frame["\x1b[2J"] = 3  # clear the screen
    path = _write(frame, tmp_path / "no_date.parquet")
    code, _out, err = _load([str(path), "--out", str(tmp_path / "c.parquet")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "\x1b" not in err and len(err) < 1000, err
    assert "occurred_at" in err and "A\\nB" in err and "\\x1b[2J" in err

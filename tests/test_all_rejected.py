"""Files where every row is rejected, or with a header only, through the CLI: exit 2 and one
sentence saying why (the most common reasons, what to check), never a traceback; ``load``
writes the rejects table (and names it) but no empty clean file.

The truth is the hand-written files below: which rows fail, and why, is known by hand.
"""

from __future__ import annotations

import csv

import pytest

from impactzones.cli.main import main

HEADER = "id,date,category,lat,lon\n"
#: Row 1: a date that cannot be read; rows 2 and 3: no coordinates.
ALL_BAD = (
    HEADER + "1,notadate,robbery,38.63,-90.2\n2,2018-03-01,robbery,,\n3,2018-03-02,burglary,,\n"
)


def _run(argv, capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    printed = capsys.readouterr()
    return code, printed.out + printed.err


def _one_sentence(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and "unexpected error" not in text
    return lines[0]


def test_load_refuses_a_file_whose_every_row_is_rejected(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text(ALL_BAD)
    out = tmp_path / "out" / "clean.parquet"
    code, text = _run(["load", str(src), "--out", str(out), "-q"], capsys)
    assert code == 2
    line = _one_sentence(text)
    # the most common reason first, with its count, and what to check for it
    assert "all 3 rows read were rejected (no_location (2), unparseable_date (1))" in line
    assert "--columns lat=" in line
    rejects = tmp_path / "out" / "clean_rejects.csv"
    assert str(rejects) in line and "no clean file was written" in line
    assert not out.exists()
    with rejects.open(newline="") as f:
        reasons = {int(r["row"]): r["reason"] for r in csv.DictReader(f)}
    assert reasons == {1: "unparseable_date", 2: "no_location", 3: "no_location"}


def test_load_names_the_three_most_common_reasons_and_counts_the_rest(tmp_path, capsys):
    rows = [
        "1,2018-03-01,robbery,,",  # no_location
        "2,2018-03-01,robbery,,",  # no_location
        "3,2018-03-01,robbery,,",  # no_location
        "4,notadate,robbery,38.63,-90.2",  # unparseable_date
        "5,notadate,robbery,38.63,-90.2",  # unparseable_date
        "6,2018-03-01,,38.63,-90.2",  # unknown_category
        "7,1900-01-01,robbery,38.63,-90.2",  # date_before_floor
        "8,2018-03-01,robbery,38.63,-190.2",  # bad_coordinates
    ]
    src = tmp_path / "mixed.csv"
    src.write_text(HEADER + "\n".join(rows) + "\n")
    code, text = _run(["load", str(src), "--out", str(tmp_path / "c.parquet"), "-q"], capsys)
    assert code == 2
    line = _one_sentence(text)
    assert (
        "(no_location (3), unparseable_date (2), bad_coordinates (1) and 2 other reasons (2))"
        in line
    ), line


def test_load_header_only_writes_nothing(tmp_path, capsys):
    src = tmp_path / "header.csv"
    src.write_text(HEADER)
    code, text = _run(["load", str(src), "--out", str(tmp_path / "o" / "c.parquet")], capsys)
    assert code == 2
    assert "header.csv has no rows (a header only)" in _one_sentence(
        "\n".join(ln for ln in text.splitlines() if not ln.startswith("..."))
    )
    assert not (tmp_path / "o").exists()


COMMANDS = {
    "hotspots": ["--out", "{out}/h"],
    "compare": ["--before", "2017", "--after", "2018"],
    "propose": ["--period", "2018"],
    "compstat": ["--out", "{out}/cs"],
    "cube": ["--out", "{out}/c.nc"],
    "map": ["--out", "{out}/m"],
    "evaluate": ["--zone", "North"],
    "concentration": [],
    "nearrepeat": [],
    "explore": ["--out", "{out}/e"],
}


@pytest.mark.parametrize("kind", ["all_rejected", "header_only"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_gives_one_sentence_and_exit_2(command, kind, tmp_path, capsys):
    src = tmp_path / f"{kind}.csv"
    src.write_text(ALL_BAD if kind == "all_rejected" else HEADER)
    out = tmp_path / "out"
    argv = [command, str(src), *(a.format(out=out) for a in COMMANDS[command]), "-q"]
    code, text = _run(argv, capsys)
    assert code == 2, text
    line = _one_sentence(text)
    if kind == "all_rejected":
        assert "all 3 rows read were rejected (no_location (2), unparseable_date (1))" in line
    else:
        assert "header_only.csv has no rows (a header only)" in line
    assert not out.exists() or not any(out.rglob("*")), "nothing is written"


def test_map_of_private_rows_alone_says_why(tmp_path, capsys, layers):
    """A clean file holding only private rows without points: maps need points."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    src = tmp_path / "private.parquet"
    gpd.GeoDataFrame(
        {"incident_id": ["a", "b"], "occurred_at": pd.to_datetime(["2018-03-04", "2018-04-05"]),
         "category": ["rape", "rape"], "district": [3, 5]},
        geometry=[shapely.Point(), shapely.Point()], crs=layers.crs,
    ).to_parquet(src)  # fmt: skip
    code, text = _run(["map", str(src), "--out", str(tmp_path / "m"), "-q"], capsys)
    assert code == 2
    assert "private rows kept without their points" in _one_sentence(text)


def test_one_other_reason_is_named_in_the_singular(tmp_path, capsys):
    rows = ["1,2018-03-01,robbery,,", "2,2018-03-01,robbery,,", "3,notadate,robbery,38.63,-90.2",
            "4,2018-03-01,,38.63,-90.2", "5,2018-03-01,robbery,38.63,-190.2"]  # fmt: skip
    src = tmp_path / "four.csv"
    src.write_text(HEADER + "\n".join(rows) + "\n")
    code, text = _run(["load", str(src), "--out", str(tmp_path / "c.parquet"), "-q"], capsys)
    assert code == 2
    assert "no_location (2), bad_coordinates (1), unknown_category (1) and 1 other reason (1))" in (
        _one_sentence(text)
    )

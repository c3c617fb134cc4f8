"""The CompStat report: windows by hand, the published St. Louis counts, the command."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest


def _incidents(days, layers):
    """Assigned-like incidents on the given days: all violent robberies in District 1,
    inside the North zone."""
    d1 = layers.districts["district"].iloc[0]
    return pd.DataFrame({
        "occurred_at": pd.to_datetime(days),
        "group": "violent",
        "category": "robbery",
        "area_type": "zone",
        "district": d1,
        "zone": "North",
    })


def test_windows_by_hand(layers):
    from impactzones.evaluate.compstat import compstat

    as_of = "2019-03-31"
    days = [
        "2019-03-31", "2019-03-25",  # in the 7 days (25th is the 7th day back)
        "2019-03-24",                 # 8 days back: 28 days only
        "2019-03-04",                 # the 28th day back
        "2019-03-03",                 # year to date only
        "2019-01-01",                 # year to date only
        "2018-03-25", "2018-03-31",   # last year's 7 days
        "2018-03-03", "2018-01-01",   # last year's year to date only
        "2018-04-01",                 # after last year's period: nowhere
    ]
    t = compstat(_incidents(days, layers), layers, as_of)
    r = t[(t["area"] == "North") & (t["crime"] == "robbery")].iloc[0]
    assert (r["7 days"], r["28 days"], r["Year to date"]) == (2, 4, 6)
    assert (r["7 days, year before"], r["28 days, year before"],
            r["Year to date, year before"]) == (2, 2, 4)
    assert r["Year to date, change %"] == pytest.approx(50.0)
    city = t[(t["area"] == "Citywide") & (t["crime"] == "violent")].iloc[0]
    assert city["Year to date"] == 6
    other = t[(t["area"] == "South") & (t["crime"] == "robbery")].iloc[0]
    assert other["Year to date"] == 0


def test_leap_day_compares_with_the_28th(layers):
    from impactzones.evaluate.compstat import period_windows

    now, before = period_windows("2020-02-29")["7 days"]
    assert (str(now.start), str(now.end)) == ("2020-02-23", "2020-02-29")
    assert (str(before.start), str(before.end)) == ("2019-02-23", "2019-02-28")


def test_year_to_date_holds_the_published_counts(assigned, layers):
    """On 31 December the year to date is the year: the published 2018 vs 2017 counts."""
    from impactzones.evaluate.compstat import compstat

    t = compstat(assigned, layers, "2018-12-31")
    city = t[t["area"] == "Citywide"].set_index("crime")
    assert city.loc["violent", "Year to date"] == 5525
    assert city.loc["violent", "Year to date, year before"] == 6459
    assert city.loc["homicide", "Year to date"] == 187
    assert city.loc["homicide", "Year to date, year before"] == 205
    # the districts add up to the city
    d = t[(t["area_type"] == "District") & (t["crime"] == "violent")]
    assert d["Year to date"].sum() == 5525
    # a typed result: the date and windows are attributes, nothing rides in DataFrame.attrs
    assert t.as_of == "2018-12-31" and t.windows["Year to date"] == ("2018", "2017")
    assert t.table.attrs == {} and t.attrs["windows"] == t.windows


def test_a_date_outside_the_data_is_refused(assigned, layers):
    from impactzones.core.errors import InputError
    from impactzones.evaluate.compstat import compstat

    with pytest.raises(InputError, match="outside the data"):
        compstat(assigned, layers, "2030-01-01")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("cs") / "inc.parquet"
    proc = subprocess.run([sys.executable, "-m", "impactzones", "synth", "--out", str(path),
                           "--years", "2017,2018,2019", "-q"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return path


def test_compstat_command(tmp_path, data):
    out = tmp_path / "cs"
    run = [sys.executable, "-m", "impactzones", "compstat", str(data), "--out", str(out)]
    proc = subprocess.run([*run, "--as-of", "2019-06-30"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    table = [line for line in lines if "Citywide" in line or "District" in line]
    assert table and all(len(line) <= 80 for line in table), table
    assert {p.name for p in out.iterdir()} >= {"compstat.csv", "compstat.html",
                                               "compstat_hotspots.html"}
    html = (out / "compstat.html").read_text()
    assert "28 days" in html and "District 1" in html and "compstat_hotspots.html" in html
    csv = pd.read_csv(out / "compstat.csv")
    assert set(csv["area_type"]) == {"City", "District", "Impact Zone"}
    bad = subprocess.run([*run, "--as-of", "someday"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--as-of" in bad.stderr and "Traceback" not in bad.stderr
    late = subprocess.run([*run, "--as-of", "2031-01-01"], capture_output=True, text=True)
    assert late.returncode == 2 and "outside the data" in late.stderr


def test_terminal_tables_fit_80_columns_and_explain_their_terms(data):
    base = [sys.executable, "-m", "impactzones", "compare", str(data), "--before", "2017",
            "--after", "2018"]
    proc = subprocess.run(base, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith(" North")]
    assert rows and all(len(line) <= 80 for line in rows)
    assert "--wide" in proc.stdout
    wide = subprocess.run([*base, "--wide"], capture_output=True, text=True, timeout=600)
    assert "WDD (p)" in wide.stdout and "WDD = incidents prevented" in wide.stdout


def test_the_pages_moved_to_maps_and_the_old_path_still_works():
    """The statistics stay in evaluate (which imports nothing above it); the pages are
    outputs, in maps. The old import path still gives the same functions."""
    from impactzones.evaluate import compstat as old
    from impactzones.maps import compstat as pages

    assert old.write_compstat is pages.write_compstat
    assert old.compstat_html is pages.compstat_html

"""Leftovers of the last review, through the command line: zone names that hold commas
(``--existing``, ``--zone``), no output over or round ANY input path option, messages that
say what the user gave (``--boundary``), and ``load --json`` when every row is rejected.

The truths are hand-made: zone layers whose names are known, files placed by hand inside
the output folder, rows whose rejection reason is known.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from impactzones.cli.main import build_parser, main
from impactzones.core.errors import InputError
from impactzones.core.options import COMMANDS, OUTPUT_PATHS, command_options

HEADER = "id,date,category,lat,lon\n"


def _run(argv, capsys) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def _one_sentence(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and "unexpected error" not in text
    return lines[0]


# ---- 1. zone names are user strings: a comma inside one ------------------------------


@pytest.fixture
def comma_zones(layers, tmp_path):
    """The bundled zones renamed: North becomes "Zone A, North", and a zone named "South"
    stands beside one named "Central"; saved as a zones file."""
    z = layers.zones.copy()
    z["name"] = ["Zone A, North", "Central", "South"]
    path = tmp_path / "zones.geojson"
    z.to_crs(4326).to_file(path, driver="GeoJSON")
    return z, path


def test_existing_is_repeatable_and_takes_a_name_with_a_comma(comma_zones):
    from impactzones.pipeline import existing_zones

    zones, _ = comma_zones
    argv = ["propose", "a.csv", "--period", "2018", "--existing", "Zone A, North"]
    args = build_parser().parse_args([*argv, "--existing", "South"])
    assert args.existing == ["Zone A, North", "South"]  # both kept, not the last alone
    kept = existing_zones(zones, names=args.existing)
    assert sorted(kept["name"]) == ["South", "Zone A, North"]
    # the older comma-separated form still reads, where it is no zone's name
    assert sorted(existing_zones(zones, names="South, Central")["name"]) == ["Central", "South"]
    with pytest.raises(InputError, match=r"No zone named 'Zone A'; the zones are "
                       r"'Zone A, North', Central, South\."):  # fmt: skip
        existing_zones(zones, names=["Zone A"])  # exactly: no prefix, no stripping


def test_evaluate_refuses_an_unknown_zone_in_the_same_sentence(comma_zones, tmp_path):
    """``evaluate --zone`` names the zones as ``--existing`` does (a comma'd name quoted)."""
    from impactzones.workflows import evaluate

    _, zfile = comma_zones
    src = tmp_path / "inc.csv"
    src.write_text(HEADER + "1,2018-03-01,robbery,38.63,-90.2\n")
    with pytest.raises(InputError, match=r"^No zone named 'Zone A'; the zones are "
                       r"'Zone A, North', Central, South\.$"):  # fmt: skip
        evaluate([src], zone="Zone A", zones=zfile)


def test_a_name_that_is_also_a_list_of_names_is_refused_as_ambiguous(layers):
    from impactzones.pipeline import existing_zones

    z = layers.zones.copy()
    z["name"] = ["A,B", "A", "B"]
    with pytest.raises(InputError, match="both a zone's name and a list"):
        existing_zones(z, names=["A,B"])
    assert existing_zones(z, names=["A", "B"])["name"].tolist() == ["A", "B"]


def test_compare_zone_with_a_comma_through_the_cli(comma_zones, tmp_path, capsys):
    """Two incidents in the zone "Zone A, North" in 2017, one in 2018: -50%."""
    zones, zfile = comma_zones
    inside = zones.to_crs(4326).geometry.iloc[0].representative_point()
    rows = [f"{i},{d},robbery,{inside.y},{inside.x}"
            for i, d in enumerate(["2017-02-01", "2017-03-01", "2018-05-01"])]  # fmt: skip
    src = tmp_path / "inc.csv"
    src.write_text(HEADER + "\n".join(rows) + "\n")
    code, out, err = _run(["compare", src, "--zones", zfile, "--zone", "Zone A, North",
                           "--before", "2017", "--after", "2018", "--json", "-q"], capsys)
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert {r["zone"] for r in rows} == {"Zone A, North", "Citywide"}  # that zone alone
    violent = [r for r in rows if r["zone"] == "Zone A, North" and r["crime"] == "violent"]
    assert (violent[0]["zone_before"], violent[0]["zone_after"]) == (2, 1), violent


def test_propose_refuses_an_unknown_existing_zone_in_one_sentence(comma_zones, tmp_path, capsys):
    _, zfile = comma_zones
    src = tmp_path / "inc.csv"
    src.write_text(HEADER + "1,2018-03-01,robbery,38.63,-90.2\n")
    code, _, err = _run(["propose", src, "--zones", zfile, "--period", "2018",
                         "--existing", "Zone A"], capsys)  # fmt: skip
    assert code == 2
    assert "No zone named 'Zone A'; the zones are 'Zone A, North', Central, South." in (
        _one_sentence(err)
    )


# ---- 2. no output over or round any input path option --------------------------------

#: What each command needs besides its inputs to get as far as writing.
NEEDS = {
    "compare": ["--before", "2017", "--after", "2018"],
    "propose": ["--period", "2018"],
    "evaluate": ["--zone", "North"],
    "hotspots": [],
}
#: A name for a file standing in for each input option (the guard reads no content).
STAND_IN = {"harm": "harm.csv", "categories": "crosswalk.csv", "settings": "study.toml"}


def _input_options():
    for name in COMMANDS:
        for opt in command_options(name):
            if opt.kind in ("path", "paths") and opt.name not in OUTPUT_PATHS:
                yield name, opt


@pytest.mark.parametrize(("command", "option"), [
    (c, o.name) for c, o in _input_options()
])  # fmt: skip
def test_every_input_path_option_is_kept_from_the_output(command, option, tmp_path, capsys):
    """Each declared input (incidents, layers, base map, harm weights, crosswalk, study
    file) placed where the output goes: inside a folder --out, or as the file --out."""
    cmd = COMMANDS[command]
    opt = {o.name: o for o in command_options(command)}[option]
    out = tmp_path / "out"
    out.mkdir()
    name = STAND_IN.get(option, f"{option}.geojson" if option != "incidents" else "inc.csv")
    target = out / name
    target.write_text("id,date\n" if target.suffix == ".csv" else "{}")
    given = {option: target}
    argv = [command]
    for o in command_options(command):
        if o.positional:
            if o.name == option:
                argv.append(target)
            else:
                other = tmp_path / ("inc.csv" if o.kind == "paths" else "study.toml")
                other.write_text(HEADER if other.suffix == ".csv" else "")
                argv.append(other)
    if not opt.positional:
        argv += [opt.flags[0], given[option]]
    argv += NEEDS.get(command, [])
    argv += ["--out", out if cmd.out_folder else target, "-q"]
    code, _, err = _run(argv, capsys)
    assert code == 2, err
    line = _one_sentence(err)
    assert "holds the input" in line or "is one of the inputs" in line, line
    assert target.read_text() in ("{}", "id,date\n")  # untouched


def test_run_demo_keeps_the_basemap_and_harm_weights_out_of_the_folder(tmp_path):
    """The library too (a study file's ``basemap`` and ``harm`` reach it directly)."""
    from impactzones.pipeline import run_demo

    streets = tmp_path / "streets.geojson"
    gpd.GeoDataFrame(geometry=[shapely.LineString([(-90.2, 38.6), (-90.21, 38.61)])],
                     crs=4326).to_file(streets, driver="GeoJSON")  # fmt: skip
    harm = tmp_path / "harm.csv"
    harm.write_text("category,weight\nrobbery,365\n")
    for given in ({"basemap": streets}, {"harm": harm}):
        with pytest.raises(InputError, match="holds the input"):
            run_demo(tmp_path, pictures=False, parallel=False, **given)
    assert harm.read_text() == "category,weight\nrobbery,365\n"


def test_load_keeps_the_default_rejects_file_off_an_input(tmp_path, capsys):
    """``load a_rejects.csv --out a.parquet`` would write its rejects over the input."""
    src = tmp_path / "a_rejects.csv"
    src.write_text(HEADER + "1,2018-03-01,robbery,38.63,-90.2\n")
    code, _, err = _run(["load", src, "--out", tmp_path / "a.parquet"], capsys)
    assert code == 2 and "is one of the inputs" in _one_sentence(err)
    assert src.read_text().startswith(HEADER)


# ---- 3. a message says what the user gave --------------------------------------------


def test_map_with_a_boundary_does_not_ask_for_a_boundary(tmp_path, capsys):
    """Every incident outside the user's own boundary (a square far from St. Louis)."""
    square = tmp_path / "city.geojson"
    gpd.GeoDataFrame({"name": ["Elsewhere"]}, geometry=[shapely.box(-100.0, 40.0, -99.9, 40.1)],
                     crs=4326).to_file(square, driver="GeoJSON")  # fmt: skip
    src = tmp_path / "inc.csv"
    src.write_text(HEADER + "".join(f"{i},2018-03-0{i},robbery,38.63,-90.2\n"
                                    for i in range(1, 4)))  # fmt: skip
    code, _, err = _run(["map", src, "--boundary", square, "--out", tmp_path / "m", "-q"],
                        capsys)  # fmt: skip
    assert code == 2
    line = _one_sentence(err)
    assert "outside_study_area (3)" in line
    assert "give your city's --boundary" not in line
    assert "check that --boundary is the same city" in line


# ---- 4. load --json when every row is rejected ----------------------------------------


def test_load_json_prints_the_rejections_when_every_row_is_rejected(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text(HEADER + "1,notadate,robbery,38.63,-90.2\n2,2018-03-01,robbery,,\n"
                   "3,2018-03-02,burglary,,\n")  # fmt: skip
    out = tmp_path / "clean.parquet"
    code, printed, err = _run(["load", src, "--out", out, "--json"], capsys)
    assert code == 2
    doc = json.loads(printed)  # stdout is one JSON document
    assert (doc["read"], doc["used"], doc["rejected"]) == (3, 0, 3)
    assert doc["rejected_by_reason"] == {"no_location": 2, "unparseable_date": 1}
    assert doc["out"] is None and doc["rejects"] == str(tmp_path / "clean_rejects.csv")
    assert doc["error"] in err and not out.exists()
    # a header alone: nothing read, the same document shape
    src.write_text(HEADER)
    code, printed, err = _run(["load", src, "--out", out, "--json"], capsys)
    assert code == 2 and json.loads(printed)["read"] == 0 and "no rows" in err


# ---- 8. demo --no-explore --no-compstat -------------------------------------------------


def test_demo_switches_reach_the_pipeline(monkeypatch, tmp_path):
    from impactzones import pipeline

    seen = {}
    monkeypatch.setattr(pipeline, "run_demo", lambda out, **kw: seen.update(kw) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        main(["demo", "--out", str(tmp_path / "m"), "--no-explore", "--no-compstat", "--debug"])
    assert seen["explore"] is False and seen["compstat"] is False
    seen.clear()
    with pytest.raises(ZeroDivisionError):
        main(["demo", "--out", str(tmp_path / "m"), "--debug"])
    assert "explore" not in seen or seen["explore"]


@pytest.mark.slow
def test_a_demo_without_its_proposal_page_and_compstat_links_to_neither(tmp_path):
    from impactzones.pipeline import run_demo

    res = run_demo(tmp_path, scale=0.1, explore=False, compstat=False, pictures=False,
                   parallel=False, evaluate=False, concentration=False)  # fmt: skip
    names = {p.name for p in tmp_path.iterdir()}
    assert "explore.html" not in names and not any(n.startswith("compstat") for n in names)
    assert "index.html" in names and {p.name for p in res.files} <= names
    for page in tmp_path.glob("*.html"):  # no link to a page not written
        text = page.read_text(encoding="utf-8")
        assert "explore.html" not in text and "compstat.html" not in text, page.name
    settings = json.loads((tmp_path / "manifest.json").read_text())["settings"]
    assert settings["explore"] is False and settings["compstat"] is False


def test_load_refuses_an_output_file_inside_an_input_folder(tmp_path, capsys):
    """``load data/ --out data/2019.csv`` replaced the export data/2019.csv with the
    cleaned table (exit 0); now refused before anything is read, the export untouched."""
    data = tmp_path / "data"
    data.mkdir()
    src = data / "2019.csv"
    src.write_text(HEADER + "1,2018-03-01,robbery,38.63,-90.2\n")
    for out in (src, data / "clean.parquet"):
        code, _, err = _run(["load", data, "--out", out], capsys)
        assert code == 2 and "is inside the input folder" in _one_sentence(err), err
    assert src.read_text() == HEADER + "1,2018-03-01,robbery,38.63,-90.2\n"
    assert sorted(p.name for p in data.iterdir()) == ["2019.csv"]


def test_the_library_load_refuses_an_output_file_inside_an_input_folder(tmp_path):
    """The same refusal without the CLI (``workflows.load`` called from Python), the
    export untouched."""
    from impactzones.workflows import load

    data = tmp_path / "data"
    data.mkdir()
    src = data / "2019.csv"
    src.write_text(HEADER + "1,2018-03-01,robbery,38.63,-90.2\n")
    for out in (src, data / "clean.parquet"):
        with pytest.raises(InputError, match="is inside the input folder"):
            load([data], out)
    assert src.read_text() == HEADER + "1,2018-03-01,robbery,38.63,-90.2\n"
    assert sorted(p.name for p in data.iterdir()) == ["2019.csv"]


def test_a_warning_is_printed_once_a_command(tmp_path, capsys, monkeypatch):
    """The same warning from several places (a CJK zone name's missing glyphs, from
    every picture drawn in either process) is one line, printed once."""
    import warnings

    import impactzones.workflows as workflows

    def warns(**_kwargs):
        for line in (1, 2):  # two places: the default filter would show both
            warnings.warn_explicit("Glyph 21271 missing from font(s) DejaVu Sans.",
                                   UserWarning, "drawing.py", line)  # fmt: skip
        warnings.warn("another", UserWarning, stacklevel=1)
        raise InputError("stop here.")

    monkeypatch.setattr(workflows, "load", warns)
    src = tmp_path / "a.csv"
    src.write_text(HEADER)
    code, _, err = _run(["load", src, "--out", tmp_path / "a.parquet"], capsys)
    assert code == 2
    assert err.count("impactzones: warning: Glyph 21271") == 1, err
    assert err.count("impactzones: warning: another") == 1, err


def test_ctrl_c_mid_demo_exits_130_and_leaves_no_partial_file(tmp_path):
    """Ctrl-C in a terminal sends SIGINT to the whole process group (the demo and its
    picture worker): the command stops with the shell's code for it, 128 + SIGINT, says
    so in one line, and leaves no half-written (hidden temporary) file in ``--out``."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "maps"
    proc = subprocess.Popen(
        [sys.executable, "-m", "impactzones", "demo", "--quiet", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out.exists() and any(out.iterdir())) and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.05)  # interrupt once it has begun writing
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # 130 as the CLI returns it, or (rarely, a signal landing in the interpreter's own exit)
    # ended by SIGINT itself: a shell reports both as 130
    assert proc.returncode in (128 + signal.SIGINT, -signal.SIGINT), err
    assert "Traceback" not in err and "interrupted" in err
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]

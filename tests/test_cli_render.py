"""The thin CLI's two halves: every parsed option reaches the library call (none is silently
dropped), and the terminal tables show each column's own values."""

from __future__ import annotations

import inspect

import pytest

from impactzones.core.options import COMMANDS


class Reached(Exception):
    """Raised by the stand-ins once the options have been handed over."""


def _argv(command: str, tmp_path) -> list[str]:
    src = tmp_path / "a.csv"
    src.write_text("id,date,category,lat,lon\n1,2018-03-01,robbery,38.63,-90.2\n")
    out = str(tmp_path / "out")
    need = {
        "demo": [], "map": [str(src)], "synth": ["--out", out + ".parquet"],
        "load": [str(src), "--out", out + ".parquet"], "run": [str(tmp_path / "s.toml")],
        "hotspots": [str(src), "--out", out], "evaluate": [str(src), "--zone", "North"],
        "compare": [str(src), "--before", "2017", "--after", "2018"],
        "propose": [str(src), "--period", "2018"],
    }  # fmt: skip
    return [command, *need.get(command, [str(src)])]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_parsed_option_is_taken_by_the_library_call(command, tmp_path, monkeypatch):
    """Each command hands ALL its parsed options to one library function; a reading option
    no step reads would raise (reading_options refuses unknown keywords)."""
    import importlib

    import impactzones.pipeline as pipeline
    import impactzones.workflows as wf
    from impactzones.cli import build_parser
    from impactzones.cli.main import CLI_ONLY

    def fake_read(paths, *, boundary=None, zones=None, columns=None, crs=None,
                  keep_private=False, **reading):
        wf.reading_options(**reading)
        raise Reached

    def fake_demo(out, **kw):
        inspect.signature(real_demo).bind(out, **kw)  # every keyword is run_demo's
        raise Reached

    def fake_load_layers(*args, **kw):
        raise Reached

    real_demo = pipeline.run_demo
    monkeypatch.setattr(wf, "read_for_command", fake_read)
    monkeypatch.setattr(pipeline, "run_demo", fake_demo)
    monkeypatch.setattr(pipeline, "load_layers", fake_load_layers)
    args = build_parser().parse_args(_argv(command, tmp_path))
    kwargs = {k: v for k, v in vars(args).items() if k not in CLI_ONLY}
    module, name = COMMANDS[command].runner.split(":")
    runner = getattr(importlib.import_module(module), name)
    if command in ("synth", "run"):  # explicit keywords only: each option is one of them
        inspect.signature(runner).bind(progress=None, **kwargs)
        return
    with pytest.raises(Reached):
        runner(progress=None, **kwargs)


def test_repeated_headers_keep_their_own_columns():
    """CompStat's table has a "chg" column per period: each shows its own period's change
    (a renderer that looked columns up by header showed the first one three times)."""
    from rich.console import Console

    from impactzones.cli.main import _show
    from impactzones.summaries import TextTable

    con = Console(record=True, width=120)
    table = TextTable("t", ["Area", "7 days", "chg", "28 days", "chg"],
                      [["City", "109", "-12%", "434", "+3%"]], left=("Area",))
    _show(con, table)
    row = next(line for line in con.export_text().splitlines() if "City" in line)
    assert row.split() == ["City", "109", "-12%", "434", "+3%"]


def test_columns_dropped_to_fit_are_named():
    from rich.console import Console

    from impactzones.cli.main import _show
    from impactzones.summaries import TextTable

    con = Console(record=True, width=200)
    wide = ["x" * 45] * 2
    table = TextTable("t", ["Zone", "PAI", "Neighborhoods", "Notes"], [["N", "2.0", *wide]],
                      left=("Zone",), drop=("Neighborhoods", "Notes"))
    _show(con, table)
    text = con.export_text()
    assert "Not shown in 80 columns: Neighborhoods" in text and "PAI = share of crime" in text
    assert all(len(line) <= 80 for line in text.splitlines() if "N " in line[:3])


def test_json_output_is_standard_json(monkeypatch, tmp_path, capsys):
    """--json prints JSON any parser reads: an undefined figure (NaN, infinity) is null,
    never Python's NaN (which JSON does not have); written .json files the same."""
    import json
    import math

    import impactzones.workflows as wf
    from impactzones.cli import main
    from impactzones.io.writers import write_json

    doc = {"pai": math.nan, "rows": [{"wdq": math.inf, "n": 3}], "ok": 1.5}

    def fake_propose(incidents, **kw):
        return wf.Outcome(doc)

    monkeypatch.setattr(wf, "propose", fake_propose)
    src = tmp_path / "a.csv"
    src.write_text("id,date,category,lat,lon\n1,2018-03-01,robbery,38.63,-90.2\n")
    assert main(["propose", str(src), "--period", "2018", "--json"]) == 0

    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    want = {"pai": None, "rows": [{"wdq": None, "n": 3}], "ok": 1.5}
    assert json.loads(capsys.readouterr().out, parse_constant=refuse) == want
    written = write_json(doc, tmp_path / "d.json").read_text()
    assert json.loads(written, parse_constant=refuse) == want

"""One declared schema (impactzones.core.options): the CLI's parsers are built from it, study
files are checked against it, and its defaults are those of impactzones.core.defaults."""

from __future__ import annotations

import argparse

import pytest

from impactzones.core import defaults
from impactzones.core.errors import InputError
from impactzones.core.options import (
    COMMANDS,
    OPTIONS,
    STUDY_KEYS,
    command_options,
    validate_study,
)

#: The fewest arguments each command needs to parse.
REQUIRED = {
    "synth": ["--out", "x.parquet"],
    "load": ["a.csv", "--out", "x.parquet"],
    "hotspots": ["a.csv", "--out", "o"],
    "compare": ["a.csv", "--before", "2017", "--after", "2018"],
    "propose": ["a.csv", "--period", "2018"],
    "run": ["study.toml"],
    "evaluate": ["a.csv", "--zone", "North"],
}


def _parsed(command: str) -> dict:
    from impactzones.cli import build_parser

    args = REQUIRED.get(command, ["a.csv"] if command != "demo" else [])
    return vars(build_parser().parse_args([command, *args]))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_parsed_default_is_the_declared_one(command):
    parsed = _parsed(command)
    for opt in command_options(command):
        if opt.positional or opt.required:
            continue
        dest = opt.dest or opt.name
        want = opt.default
        if opt.kind == "bool":  # a switch: off unless given (--dayfirst/--monthfirst: unset)
            want = False if opt.const is None else None
        assert parsed[dest] == want, (command, dest)


def test_declared_settings_reach_every_command_that_takes_them():
    """The values of impactzones.core.defaults (written there, not here) are the CLI's."""
    seen = set()
    for command in COMMANDS:
        parsed = _parsed(command)
        for name in ("ring", "gap", "max_area_km2"):
            if name in parsed:
                assert parsed[name] == defaults.SETTINGS[name].default, (command, name)
                seen.add(name)
    assert seen == {"ring", "gap", "max_area_km2"}
    assert _parsed("hotspots")["permutations"] == defaults.PERMUTATIONS.default
    assert defaults.RING.default == 400.0 and defaults.GAP.default == 400.0


@pytest.mark.parametrize(
    ("key", "bad", "words"),
    [("ring", -5, "> 0"), ("ring", 0, "> 0"), ("seed", -1, ">= 0"), ("scale", 0, "> 0"),
     ("nearrepeat_permutations", 0, ">= 1")],
)
def test_study_files_and_the_cli_refuse_alike(key, bad, words, capsys):
    """The same value out of range is refused by a study file and by the command line, in
    the same words, because both read one declared option."""
    from impactzones.cli import main

    with pytest.raises(InputError, match=f"{key} must be {words}"):
        validate_study({"analysis": {key: bad}})
    command = {"nearrepeat_permutations": "nearrepeat", "scale": "synth"}.get(key, "demo")
    flag = OPTIONS[key].flags[0]
    with pytest.raises(SystemExit) as exc:
        main([command, *REQUIRED.get(command, ["a.csv"] if command != "demo" else []),
              flag, str(bad)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and words in err and len(err.strip().splitlines()) == 1


def test_every_study_key_is_a_declared_option_of_the_pipeline():
    import inspect

    from impactzones.pipeline import run_demo

    keywords = set(inspect.signature(run_demo).parameters)
    assert set(STUDY_KEYS) <= keywords | {"out"}
    assert set(STUDY_KEYS) <= set(OPTIONS)
    demo = {o.name for o in command_options("demo")}
    # what the demo command and a study file share is the same declared option
    assert {"ring", "seed", "boundary", "zones", "incidents", "online_tiles"} <= demo


def test_a_valid_study_passes_and_unknown_keys_do_not():
    ok = validate_study({"data": {"incidents": "a.csv", "seed": 3, "columns": {"id": "Case"}},
                         "analysis": {"ring": 250, "evaluate_model": "negbin"}})
    assert ok == {"incidents": ["a.csv"], "seed": 3, "columns": {"id": "Case"}, "ring": 250,
                  "evaluate_model": "negbin"}
    with pytest.raises(InputError, match="unknown setting 'rings'"):
        validate_study({"rings": 3})
    with pytest.raises(InputError, match="evaluate_model must be one of"):
        validate_study({"evaluate_model": "ols"})


def test_proposal_surfaces_are_those_propose_accepts():
    """propose --method offers exactly the surfaces the library can propose from (the
    registry's methods with a surface, after counts per cell), and parses to its default."""
    from impactzones.propose.surfaces import METHODS

    (method,) = [o for o in command_options("propose") if o.name == "method"]
    assert method.choices == tuple(METHODS) and method.default == "cells"
    assert _parsed("propose")["method"] == "cells"


def test_hot_spot_choices_come_from_one_place():
    from impactzones.core.options import hotspot_methods
    from impactzones.pipeline import HOTSPOT_METHODS

    choices, default = hotspot_methods()
    assert set(choices) == set(HOTSPOT_METHODS)
    (method,) = [o for o in command_options("hotspots") if o.name == "method"]
    assert method.choices == tuple(choices) and method.default == list(default)
    sub = next(a for a in __import__("impactzones.cli", fromlist=["x"]).build_parser()._actions
               if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices["hotspots"]._actions if a.dest == "method")
    assert tuple(action.choices) == tuple(choices)


def test_the_cli_is_thin():
    """Parsing, one library call, rendering: the cli package stays under 500 lines, and it
    decides nothing (no pandas, geopandas or analysis module imported by it)."""
    import ast

    from .conftest import ROOT

    files = sorted((ROOT / "impactzones" / "cli").glob("*.py"))
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
    assert lines < 500, f"impactzones/cli/*.py holds {lines} lines"
    allowed = {"argparse", "json", "os", "sys", "contextlib", "importlib", "errno", "warnings",
               "rich", "__future__", "", "main", "core", "core.errors", "core.options",
               "summaries"}
    for p in files:
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                mod = (node.module or "").split(".")[0] if node.level == 0 else node.module or ""
                assert mod.split(".")[0] in allowed or mod in allowed, (p.name, node.module)
            elif isinstance(node, ast.Import):
                assert {a.name.split(".")[0] for a in node.names} <= allowed, p.name


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_option_reaches_the_library_call(command):
    """Each command's parsed options are keywords its library function takes (by name, or
    through the documented ``**kwargs`` it hands on), so the CLI passes them through as is."""
    import importlib
    import inspect

    module, name = COMMANDS[command].runner.split(":")
    runner = getattr(importlib.import_module(module), name)
    params = inspect.signature(runner).parameters
    takes_more = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    assert "progress" in params or takes_more
    cli_only = {"quiet", "debug", "wide", "json"}
    for opt in command_options(command):
        dest = opt.dest or opt.name
        assert dest in params or takes_more or dest in cli_only, (command, dest)
        if not takes_more:
            assert dest in params or dest in cli_only, (command, dest)


def test_propose_options_default_as_propose_zones_does():
    """The CLI's proposal settings default to propose_zones' own (history=1 was chosen on
    the 2017 -> 2018 backtests), and --history 0 reaches it as 0."""
    import inspect

    from impactzones.cli.main import build_parser
    from impactzones.propose import propose_zones

    sig = inspect.signature(propose_zones).parameters
    args = build_parser().parse_args(["propose", "x.parquet", "--period", "2018"])
    for name in ("k", "history", "solidity", "threshold"):
        assert getattr(args, name) == sig[name].default, name
    args = build_parser().parse_args(["propose", "x.parquet", "--period", "2018",
                                      "--history", "0"])
    assert args.history == 0

"""The README's promises: its Python example runs, its commands exist."""

from __future__ import annotations

import re

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_python_example_runs(capsys):
    (code,) = re.findall(r"```python\n(.*?)```", README, re.S)
    exec(compile(code, "README.md", "exec"), {})
    assert "Violent crime fell 20.0% in the North zone" in capsys.readouterr().out


def test_two_setup_commands_and_ci():
    assert "python3 -m pip install . && impactzones demo" in README
    assert "bash scripts/setup_test_env.sh && python3 -m pytest" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/setup_test_env.sh" in ci and "python3 -m pytest" in ci


def test_every_cli_command_in_the_readme_exists():
    from impactzones.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    listed = set(re.findall(r"^impactzones (\w+)", README, re.M))
    assert listed == set(sub.choices)  # every command listed, and only those


def test_the_load_result_attributes_the_readme_names_exist():
    from impactzones.io import LoadResult, read_incidents

    assert "returns a `LoadResult`" in README
    assert read_incidents.__annotations__.get("return") in (LoadResult, "LoadResult")
    named = set(re.findall(r"`res\.(\w+)`", README))
    assert named >= {"incidents", "rejects", "tally"}
    fields = set(LoadResult.__dataclass_fields__) | {"tally"}
    assert named <= fields

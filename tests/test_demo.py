"""The demo's documented figures, on the test session's one demo run (tests/conftest.py)."""

from __future__ import annotations


def test_run_demo_docstring_figures(demo_run):
    """``run_demo``'s example (skipped by doctest: a minute of work) holds: the published
    story, North zone -20.0% against -14.5% citywide (740 to 592 violent incidents)."""
    h = demo_run.headline
    assert (h["zone_change"]["display"], h["citywide_change"]["display"]) == ("-20.0%", "-14.5%")
    assert (h["zone_change"]["before"], h["zone_change"]["after"]) == (740, 592)


def test_one_demo_run_serves_the_cli_and_the_library(demo_cli, demo_run):
    assert demo_run is demo_cli.result
    assert demo_run.files and all(p.parent == demo_cli.out for p in demo_run.files)
    assert "North zone -20.0%" in " ".join(demo_cli.stdout.split())

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


def test_pictures_drawn_in_turn_are_the_workers_bytes(demo_cli, tmp_path):
    """The session's demo drew its matplotlib pictures in a worker process; drawn in the
    demo's own process, in turn, every file (PNGs, PDF briefs, the maps that embed the
    counterfactual PNG, the tables) is the same bytes, and the manifest lists the same
    files with the same hashes (its settings are the CLI's, not the library's)."""
    import json

    from impactzones.pipeline import run_demo

    run_demo(tmp_path, seed=2018, parallel=False, png_maps=True)  # as the session's --png-maps
    names = sorted(p.name for p in demo_cli.out.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".png") for n in names)
    for name in names:
        if name != "manifest.json":
            assert (tmp_path / name).read_bytes() == (demo_cli.out / name).read_bytes(), name
    listed = [json.loads((d / "manifest.json").read_text())["files"] for d in (tmp_path, demo_cli.out)]
    assert listed[0] == listed[1]


def test_a_city_too_big_to_share_writes_the_same_files(demo_cli, tmp_path, monkeypatch):
    """Above ``SHARE_MAX_ROWS`` incidents the demo keeps the incidents file, CompStat, the
    concentration files and the proposal page in its own process (no copy of the incidents
    in the worker); the files are the same bytes as when the worker writes them."""
    import impactzones.pipeline as pipeline

    kept = []
    here = pipeline._Pictures.here

    def spy(self, fn, *args, **kwargs):
        kept.append(fn.__name__)
        return here(self, fn, *args, **kwargs)

    monkeypatch.setattr(pipeline, "SHARE_MAX_ROWS", 0)
    monkeypatch.setattr(pipeline._Pictures, "here", spy)
    pipeline.run_demo(tmp_path, seed=2018, png_maps=True)
    names = sorted(p.name for p in demo_cli.out.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        if name != "manifest.json":
            assert (tmp_path / name).read_bytes() == (demo_cli.out / name).read_bytes(), name
    here_too = {"_write_incidents", "_demo_compstat", "_demo_concentration", "_demo_explore"}
    assert here_too <= set(kept)


def _die_in_worker(parent: int, path: str) -> str:
    """A 'picture' whose worker dies while drawing it (it draws fine in the parent)."""
    import os
    from pathlib import Path

    if os.getpid() != parent:
        os._exit(3)
    Path(path).write_text("drawn")
    return path


def test_pictures_a_dead_worker_left_are_drawn_here(tmp_path):
    import os

    from impactzones.pipeline import _Pictures

    with _Pictures(parallel=True) as draw:
        first = draw(_die_in_worker, os.getpid(), str(tmp_path / "a.txt"))
        assert draw.result(first) == str(tmp_path / "a.txt")  # the worker died drawing it
        draw(_die_in_worker, os.getpid(), str(tmp_path / "b.txt"))  # the pool is broken now
        draw.finish()
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text() == "drawn"


def test_pictures_the_worker_has_not_begun_are_drawn_here_once(tmp_path):
    import os

    from impactzones.pipeline import _Pictures

    with _Pictures(parallel=True) as draw:
        futures = [draw(_whose, os.getpid(), str(tmp_path / f"{i}.txt")) for i in range(6)]
        draw.finish()
        drawn = [draw.result(f) for f in futures]
    # every picture drawn exactly once, by one process or the other; the last one here
    assert [(tmp_path / f"{i}.txt").read_text() for i in range(6)] == drawn
    assert drawn[-1] == "here"


def _whose(parent: int, path: str) -> str:
    """A 'picture' that says which process drew it (and refuses to be drawn twice)."""
    import os

    who = "here" if os.getpid() == parent else "worker"
    with open(path, "x") as f:
        f.write(who)
    return who


def test_a_picture_that_fails_in_the_worker_raises_its_error(tmp_path):
    import pytest

    from impactzones.pipeline import _Pictures

    with _Pictures(parallel=True) as draw:
        draw(int, "not a number")
        with pytest.raises(ValueError, match="invalid literal"):
            draw.finish()


def _draw_in_a_daemon(path: str) -> None:
    """Run a picture through ``_Pictures`` inside a daemonic process (which multiprocessing
    lets have no children: the worker is a plain subprocess, so it starts there too)."""
    import os

    from impactzones.pipeline import _Pictures

    with _Pictures(parallel=True) as draw:
        assert draw.worker is not None
        draw(_whose, os.getpid(), path).result()  # waited for: the worker draws it
        draw.finish()


def test_pictures_are_drawn_by_a_worker_inside_a_daemonic_process(tmp_path):
    import multiprocessing

    p = multiprocessing.get_context("spawn").Process(
        target=_draw_in_a_daemon, args=(str(tmp_path / "a.txt"),), daemon=True
    )
    p.start()
    p.join(120)
    assert p.exitcode == 0 and (tmp_path / "a.txt").read_text() == "worker"

"""The demo's worker process (impactzones.core.worker, pipeline._Pictures): it never runs
or swaps the caller's ``__main__``, calls it has not begun are taken back rather than
waited for, a shared frame arrives intact, and where no worker runs everything is drawn
here."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def light(monkeypatch):
    """The picture worker without its warm-up of matplotlib and the rest (a second saved
    per test): these tests hand it calls of their own."""
    import impactzones.pipeline as pipeline

    monkeypatch.setattr(pipeline, "PICTURE_WARM_UP", "os:getpid")


def _whose(parent: int, path: str) -> str:
    """A 'picture' that says which process drew it (and refuses to be drawn twice)."""
    who = "here" if os.getpid() == parent else "worker"
    with open(path, "x") as f:
        f.write(who)
    return who


def _sleep(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def _echo(obj):
    return obj


def test_a_script_without_a_main_guard_runs_once(tmp_path):
    """multiprocessing's spawn would run such a script again in its child; the worker runs
    only impactzones' code, so the script's top level runs once and the worker draws."""
    script = tmp_path / "no_guard.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        with open({str(tmp_path / "ran.txt")!r}, "a") as f:
            f.write("ran\\n")
        from test_worker import _whose
        import impactzones.pipeline as pipeline
        from impactzones.pipeline import _Pictures
        pipeline.PICTURE_WARM_UP = "os:getpid"  # no warm-up of matplotlib: a second saved
        with _Pictures(parallel=True) as draw:
            draw(_whose, os.getpid(), {str(tmp_path / "drawn.txt")!r}).result()  # waited for
            draw.finish()
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
    subprocess.run([sys.executable, str(script)], check=True, env=env, cwd=tmp_path,
                   timeout=120)  # fmt: skip
    assert (tmp_path / "ran.txt").read_text() == "ran\n"
    assert (tmp_path / "drawn.txt").read_text() == "worker"


def test_starting_the_worker_leaves_main_as_it_is_for_other_threads(light):
    """Another thread (a notebook's) reading ``sys.modules["__main__"]`` while the worker
    starts always sees the real one."""
    import threading
    import time

    from impactzones.pipeline import _Pictures

    main = sys.modules["__main__"]
    seen: set[int] = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.add(id(sys.modules["__main__"]))
            time.sleep(0)  # let the starting thread run

    t = threading.Thread(target=watch)
    t.start()
    try:
        with _Pictures(parallel=True) as draw:
            assert draw.worker is not None
    finally:
        stop.set()
        t.join()
    assert seen == {id(main)}


def test_a_call_not_begun_is_drawn_here_rather_than_waited_for(light, tmp_path):
    """While the worker is busy, asking for a call's result draws it here at once when
    the worker has another call to draw before it; the worker never draws it too (the
    file is created exclusively). The worker's next call is waited for."""
    import time

    from impactzones.pipeline import _Pictures

    with _Pictures(parallel=True) as draw:
        draw.jobs[0].future.result()  # warmed up
        busy = draw(_sleep, 3.0)
        while not busy.running():  # the worker has begun it
            time.sleep(0.01)
        following = draw(_whose, os.getpid(), str(tmp_path / "following.txt"))
        later = draw(_whose, os.getpid(), str(tmp_path / "later.txt"))
        assert draw.result(later) == "here"
        assert not busy.done()  # drawn here at once, not after the worker's busy call
        assert draw.result(following) == "worker"  # next in line: waited for
        assert busy.done()  # the worker drew it after its busy call
        draw.finish()
        assert draw.result(busy) == 3.0
    assert (tmp_path / "later.txt").read_text() == "here"
    assert (tmp_path / "following.txt").read_text() == "worker"
    assert [j.where for j in draw.jobs[1:]] == ["worker", "worker", "here"]


def test_finish_draws_here_what_the_worker_would_reach_last(light, tmp_path):
    """With the worker busy and five calls waiting, finish() draws the last ones here and
    leaves the worker the next (every call drawn once); the order the worker takes them
    is the order handed over, those handed as soon first."""
    import time

    from impactzones.pipeline import _Pictures

    with _Pictures(parallel=True) as draw:
        draw.jobs[0].future.result()
        busy = draw(_sleep, 1.5)
        while not busy.running():
            time.sleep(0.01)
        paths = [str(tmp_path / f"{i}.txt") for i in range(5)]
        soon = draw.preferring(_whose)
        futures = [draw(_whose, os.getpid(), p) for p in paths[:4]]
        futures.append(soon(_whose, os.getpid(), paths[4]))  # handed last, taken first
        assert [p.job.future for p in draw._queued()] == [futures[4], *futures[:4]]
        draw.finish()
        who = [draw.result(f) for f in futures]
    assert who == [Path(p).read_text() for p in paths]
    assert who[4] == "worker" and who[3] == "here"


def _frame():
    import geopandas as gpd
    import pandas as pd
    import shapely

    geoms = [shapely.Point(1.5, 2.25), None, shapely.Point(), shapely.Point(-3e6, 4e6)]
    frame = gpd.GeoDataFrame(
        {
            "name": pd.array(["a", None, "c", "d"], dtype="string"),
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
            "when": pd.to_datetime(["2018-01-01", "2018-02-01", None, "2019-03-04"]),
            "loc": geoms,
        },
        geometry="loc",
        crs="EPSG:26915",
        index=pd.Index([10, 3, 7, 1], name="row"),
    )
    frame.attrs["source"] = "test"
    return frame[["n", "loc", "name", "when"]]  # the geometry not last


def test_a_shared_frame_reaches_the_worker_as_it_is(light):
    """A GeoDataFrame of points (one missing, one empty) shared once and sent back by a
    call the worker runs equals the original (geopandas' own comparison)."""
    import geopandas as gpd
    from geopandas.testing import assert_geodataframe_equal

    from impactzones.pipeline import _Pictures

    frame = _frame()
    polygons = gpd.GeoDataFrame({"v": [1]}, geometry=[frame.geometry.iloc[0].buffer(1)],
                                crs=frame.crs)  # fmt: skip
    with _Pictures(parallel=True) as draw:
        shared = draw.share(frame)
        other = draw.share(polygons)  # not points: pickled as it is
        got = draw(_echo, shared).result()  # waited for: the worker's
        got_polygons = draw(_echo, other).result()
        draw.finish()
        assert shared is not frame  # a stand-in, not the frame itself
    assert {j.name: j.where for j in draw.jobs}["_echo"] == "worker"
    assert_geodataframe_equal(got, frame)
    assert got.attrs == frame.attrs and list(got.columns) == list(frame.columns)
    assert got.geometry.isna().tolist() == [False, True, False, False]
    assert got.geometry.is_empty.tolist() == [False, False, True, False]
    assert_geodataframe_equal(got_polygons, polygons)


def test_pictures_are_drawn_here_where_no_worker_starts(light, tmp_path, monkeypatch):
    import impactzones.core.worker as worker
    from impactzones.pipeline import _Pictures

    monkeypatch.setattr(worker, "_executable", lambda: str(tmp_path / "no-python"))
    with _Pictures(parallel=True) as draw:
        assert draw.worker is None
        assert draw.result(draw(_whose, os.getpid(), str(tmp_path / "a.txt"))) == "here"
        draw.finish()


def test_pictures_are_drawn_here_when_the_worker_ends_at_once(light, tmp_path, monkeypatch):
    """A worker that starts but ends before answering (it cannot import impactzones, say):
    every call handed to it is drawn here, once."""
    import impactzones.core.worker as worker
    from impactzones.pipeline import _Pictures

    monkeypatch.setattr(worker, "_BOOT", "import sys; sys.exit(3)")
    paths = [str(tmp_path / f"{i}.txt") for i in range(3)]
    with _Pictures(parallel=True) as draw:
        futures = [draw(_whose, os.getpid(), p) for p in paths]
        draw.finish()
        assert [draw.result(f) for f in futures] == ["here"] * 3
    assert [Path(p).read_text() for p in paths] == ["here"] * 3


def test_a_worker_started_ahead_is_ended_when_the_run_draws_in_turn():
    import impactzones.core.worker as worker
    from impactzones.pipeline import PICTURE_WARM_UP, _Pictures
    from impactzones.workflows import PICTURE_WARM_UP as named_in_workflows

    assert named_in_workflows == PICTURE_WARM_UP  # the CLI's worker is the one taken
    worker.prestart(PICTURE_WARM_UP)
    (spare,) = worker._SPARE
    with _Pictures(parallel=False) as draw:
        assert draw.worker is None
    assert worker._SPARE == [] and spare.process.poll() is not None


def test_a_worker_started_ahead_is_taken(light, tmp_path):
    import impactzones.core.worker as worker
    import impactzones.pipeline as pipeline
    from impactzones.pipeline import _Pictures

    worker.prestart(pipeline.PICTURE_WARM_UP)
    (spare,) = worker._SPARE
    with _Pictures(parallel=True) as draw:
        assert draw.worker is spare and worker._SPARE == []
        assert draw(_whose, os.getpid(), str(tmp_path / "a.txt")).result() == "worker"
    assert [j.name for j in draw.jobs][:1] == ["warm-up"]


@pytest.mark.parametrize("error", [ValueError("bad"), KeyError("k")])
def test_an_error_in_the_worker_is_raised_here(error):
    import pickle

    from impactzones.core.worker import Worker

    w = Worker()
    try:
        job = w.submit(pickle.dumps((_raise_it, (error,), {})))
        with pytest.raises(type(error)):
            job.future.result()
    finally:
        w.close()


def _raise_it(error):
    raise error


def test_a_call_handed_over_after_the_worker_died_gets_the_shared_object(light):
    """A frame shared while the worker lived, named by a call handed over after it was
    killed: the call runs here on the frame itself (the demo's proposal page crashed with
    "'Shared' object is not subscriptable" when the worker was killed mid-run)."""
    import pickle
    from concurrent.futures import wait

    from impactzones.pipeline import _Pictures

    frame = _frame()
    with _Pictures(parallel=True) as draw:
        shared = draw.share(frame)
        assert draw(_echo, shared).result() is not frame  # the worker's copy came back
        draw.worker.process.kill()
        draw.worker.process.wait()
        probe = draw.worker.submit(pickle.dumps((_echo, (1,), {})))
        wait([probe.future])  # the feeder found the worker gone (WorkerLost)
        futures = [draw(_echo, shared), draw.last(_echo, obj=shared)]
        draw.finish()
        assert draw.worker is None  # a handing-over found it dead
    assert draw.result(futures[0]) is frame
    assert draw.result(futures[1]) is frame


def test_an_object_shared_after_the_worker_died_is_used_as_it_is(light):
    """Sharing once the worker is gone (its feeder found it dead): no stand-in, the object
    itself, and every call from then on runs here."""
    import pickle
    from concurrent.futures import wait

    from impactzones.pipeline import _Pictures

    frame = _frame()
    with _Pictures(parallel=True) as draw:
        draw.worker.process.kill()
        draw.worker.process.wait()
        try:
            wait([draw.worker.submit(pickle.dumps((_echo, (1,), {}))).future])
        except RuntimeError:  # the feeder had found it gone already (the warm-up)
            pass
        assert draw.worker.lost  # the feeder found the worker gone
        assert draw.share(frame) is frame
        assert draw.worker is None  # the sharing found it dead
        assert draw.result(draw(_echo, frame)) is frame
        draw.finish()
    assert draw.jobs[-1].where == "here"


def _warn_twice(text: str) -> int:
    import warnings

    warnings.warn(text, UserWarning, stacklevel=1)
    warnings.warn(text, UserWarning, stacklevel=1)
    return 1


def test_a_warning_in_the_worker_reaches_the_caller_once():
    """A call's warnings (matplotlib's "Glyph ... missing" for a CJK zone name, say) are
    raised in the caller, once each a worker, where the CLI prints them as one line; the worker
    used to print them raw on stderr with their source lines, even under --quiet."""
    import pickle
    import warnings

    from impactzones.core.worker import Worker

    w = Worker()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            for _ in range(2):  # two calls, and filters reset between them
                job = w.submit(pickle.dumps((_warn_twice, ("Glyph 21271 missing",), {})))
                assert job.future.result() == 1
                warnings.resetwarnings()
                warnings.simplefilter("default")
    finally:
        w.close()
    assert [(str(c.message), c.category) for c in caught] == [
        ("Glyph 21271 missing", UserWarning)
    ]

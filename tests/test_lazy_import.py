"""`import impactzones` and `impactzones --help` stay light: no pandas, geopandas or numba."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "pandas",
    "geopandas",
    "numba",
    "shapely",
    "matplotlib",
    "xarray",
    "dask",
    "scipy",
    "statsmodels",
    "folium",
    "pyarrow",
    "rasterio",
    "sklearn",
)


def _loaded(code: str) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code + "; import sys; print(' '.join(sys.modules))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {m.split(".")[0] for m in out}


def test_import_loads_no_heavy_library():
    assert _loaded("import impactzones").isdisjoint(HEAVY)


def test_help_loads_no_heavy_library():
    code = (
        "import contextlib, io\n"
        "from impactzones.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    assert _loaded(code).isdisjoint(HEAVY)


def test_public_names_still_load_on_first_use():
    import impactzones

    assert callable(impactzones.assign) and callable(impactzones.synthesize)
    assert "assign" in dir(impactzones)


def test_both_lazy_packages_load_each_name_from_its_own_module():
    """``impactzones`` and ``impactzones.hotspots`` share one lazy loader (core.lazy):
    every listed name is the very object its module defines, and listed in ``dir``."""
    import importlib

    import impactzones
    import impactzones.hotspots as hs

    for package in (impactzones, hs):
        for name, source in package._LAZY.items():
            module = importlib.import_module(source, package.__name__)
            assert getattr(package, name) is getattr(module, name)
            assert name in dir(package)


def test_an_unknown_name_is_an_attribute_error():
    import impactzones
    import impactzones.hotspots as hs

    for package in (impactzones, hs):
        try:
            package.no_such_name  # noqa: B018
        except AttributeError as e:
            assert "no_such_name" in str(e)
        else:
            raise AssertionError("an unknown name loaded")


def test_a_run_leaves_the_garbage_collector_as_it_found_it():
    """run_demo, synthesize and assign collect less often while they run (core.collect);
    afterwards the thresholds, the switch and the frozen set are what they were, and a
    cycle made after is collected again."""
    import gc

    from impactzones.assign import assign
    from impactzones.core.collect import fewer_collections
    from impactzones.core.geo import st_louis
    from impactzones.datasets.synth import synthesize

    before = (gc.get_threshold(), gc.isenabled(), gc.get_freeze_count())
    with fewer_collections():
        res = synthesize(seed=3, years=[2018], scale=0.05)
        assert gc.isenabled() and gc.get_threshold()[0] >= 100_000
    assign(res.incidents, st_louis())
    assert (gc.get_threshold(), gc.isenabled(), gc.get_freeze_count()) == before
    cycle: list = []
    cycle.append(cycle)
    ident = id(cycle)
    del cycle
    gc.collect()
    assert all(id(o) != ident for o in gc.get_objects())


def test_a_callers_own_frozen_objects_stay_frozen():
    """A program that froze its objects itself (``gc.freeze`` before forking workers, to
    share their memory) keeps them frozen through a run, an error and repeated calls; a
    garbage cycle made during the calls is still freed once they end."""
    import gc
    import weakref

    from impactzones.core.collect import fewer_collections

    class Node:
        pass

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        for _ in range(3):  # a notebook calling assign() again and again
            with fewer_collections(), fewer_collections(pause=True):
                node = Node()
                node.self = node
                alive = weakref.ref(node)
                del node
        with pytest.raises(RuntimeError), fewer_collections():
            raise RuntimeError("a run that fails")
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()
    gc.collect()
    assert alive() is None

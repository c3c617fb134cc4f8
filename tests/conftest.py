"""Shared fixtures: the bundled layers, one synthetic data set, the real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IMPACTZONES_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "real"
REAL_INCIDENTS = REAL / "incidents" / "slu-soc5650_crime-data-sp22"


@pytest.fixture(scope="session")
def layers():
    from impactzones.geo import st_louis

    return st_louis()


@pytest.fixture(scope="session")
def synth():
    """The default synthetic data set (seed 2018), generated once per test session."""
    from impactzones.synth import synthesize

    return synthesize(seed=2018)


@pytest.fixture(scope="session")
def assigned(synth, layers):
    from impactzones.assign import assign

    return assign(synth.incidents, layers)


@pytest.fixture(scope="session")
def real_incidents_dir():
    if not REAL_INCIDENTS.is_dir():
        pytest.skip("the real SLMPD samples (../shared/real) are not present")
    return REAL_INCIDENTS


ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo's pipeline, run once, in a temporary folder."""
    from impactzones.pipeline import run_demo

    out = tmp_path_factory.mktemp("demo_maps")
    return run_demo(out, seed=2018)


@pytest.fixture(scope="session")
def evil_layers(layers):
    """The St. Louis layers with hostile strings where a user's file could put them."""
    from impactzones.geo import Layers

    zones = layers.zones.copy()
    zones.loc[0, "name"] = "<img src=x onerror=window.__xss=1;alert(1)>"
    zones.loc[0, "description"] = "<script>window.__xss=2</script> & \"quotes\""
    nb = layers.neighborhoods.copy()
    nb.loc[0, "name"] = "<b onmouseover=alert(3)>Carondelet</b>"
    d = layers.districts.copy()
    d.loc[0, "name"] = "District <i>1</i>"
    return Layers(boundary=layers.boundary, districts=d, neighborhoods=nb, zones=zones)

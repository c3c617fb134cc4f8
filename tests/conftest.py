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

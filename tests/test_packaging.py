"""The wheel carries the bundled layers, so `pip install .` works from any folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_the_layers(tmp_path):
    pytest.importorskip("hatchling")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), "-q"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("impactzones-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("city_boundary.geojson", "neighborhoods.geojson", "districts.geojson",
              "impact_zones.geojson", "README.md"):
        assert f"impactzones/_data/geo/{f}" in names
    assert "impactzones/seed_counts.csv" in names
    assert any(n.endswith("entry_points.txt") for n in names)

"""Packaging: the wheel carries the layers and type hints; versions and dependencies agree."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import impactzones

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"


def test_wheel_ships_the_layers(tmp_path):
    pytest.importorskip("hatchling")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("impactzones-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in (
        "city_boundary.geojson",
        "neighborhoods.geojson",
        "districts.geojson",
        "impact_zones.geojson",
        "README.md",
    ):
        assert f"impactzones/_data/geo/{f}" in names
    assert "impactzones/datasets/seed_counts.csv" in names
    assert "impactzones/py.typed" in names  # PEP 561: type checkers use our hints
    assert any(n.endswith("entry_points.txt") for n in names)
    (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(meta).decode()
    version = re.search(r"^Version: (.+)$", text, re.M).group(1)
    assert (
        version
        == impactzones.__version__
        == tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    )
    requires = re.findall(r"^Requires-Dist: ([A-Za-z0-9_.-]+)(.*)$", text, re.M)
    runtime = {name.lower() for name, rest in requires if "extra ==" not in rest}
    assert {"esda", "libpysal"}.isdisjoint(runtime)  # used by the tests only
    assert "numba" in runtime  # required: the fast paths are the default


def _imported_top_level(root: Path) -> set[str]:
    names = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


# import name -> distribution name, where they differ
DIST = {
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "xstatic": "xstatic-leaflet",
    "dask_geopandas": "dask-geopandas",
}


def test_every_third_party_import_is_a_declared_dependency():
    """What the package imports is declared; what it declares at runtime, it imports."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    declared = {re.split(r"[<>=!~;\[ ]", d)[0].lower() for d in project["dependencies"]}
    optional = {
        re.split(r"[<>=!~;\[ ]", d)[0].lower()
        for deps in project["optional-dependencies"].values()
        for d in deps
    }
    stdlib = set(sys.stdlib_module_names)
    third = {
        DIST.get(n, n).lower()
        for n in _imported_top_level(ROOT / "impactzones")
        if n not in stdlib and n != "impactzones"
    }
    assert third - declared - optional == set()
    # runtime dependencies that no module imports (pyarrow: parquet I/O through pandas;
    # pyogrio: the GDAL engine geopandas reads with, named in io.py)
    assert declared - third <= {"pyarrow", "pyogrio"}


def test_public_modules_declare_all():
    """Each public module lists its public functions and classes in ``__all__``."""
    import importlib
    import inspect

    problems = []
    for path in sorted((ROOT / "impactzones").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if (
            any(part.startswith("_") and part != "__init__" for part in rel.parts)
            or rel.name == "__main__"
        ):
            continue
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        mod = importlib.import_module(name)
        if not hasattr(mod, "__all__"):
            problems.append(f"{name} has no __all__")
            continue
        missing = [k for k in mod.__all__ if not hasattr(mod, k)]
        if missing:
            problems.append(f"{name}.__all__ names what it lacks: {missing}")
        public = [
            k
            for k, v in vars(mod).items()
            if not k.startswith("_")
            and (inspect.isfunction(v) or inspect.isclass(v))
            and v.__module__ == name
        ]
        unlisted = sorted(set(public) - set(mod.__all__))
        if unlisted:
            problems.append(f"add to {name}.__all__: {unlisted}")
    assert not problems, "\n".join(problems)


def test_version_without_installed_metadata():
    """A checkout that was never installed still knows its version (from pyproject.toml)."""
    from impactzones._version import _source_version

    assert _source_version() == tomllib.loads(PYPROJECT.read_text())["project"]["version"]


def test_top_level_names_stay_functions_after_their_modules_load():
    """``impactzones.assign`` is the function even once ``impactzones.assign`` the module
    is imported (notebooks call ``iz.assign`` after ``iz.synthesize`` loaded it)."""
    code = (
        "import impactzones as iz, impactzones.assign, impactzones.core.change; "
        "assert callable(iz.assign) and callable(iz.percent_change); print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_no_helper_module_leaks_into_the_public_namespace():
    """``dir(impactzones)``'s public names are ``__all__`` and its subpackages: the modules
    ``__init__`` uses for itself (``sys``, ``types``) stay private."""
    import types

    import impactzones as iz

    public = {n for n in dir(iz) if not n.startswith("_")}
    extra = {n for n in public - set(iz.__all__) if not isinstance(getattr(iz, n), types.ModuleType)}
    assert not extra
    assert not hasattr(iz, "sys") and not hasattr(iz, "types")
    assert callable(iz.assign)


def test_old_module_paths_still_import_with_a_future_warning():
    """0.1's module paths (issue 11 moved them into layer packages) keep working for one
    release: the names are the moved module's own, and the warning names the new path."""
    import subprocess
    import sys

    code = (
        "import warnings\n"
        "warnings.simplefilter('error', FutureWarning)\n"
        "try:\n"
        "    from impactzones.compare import compare_zones\n"
        "except FutureWarning as w:\n"
        "    print(w)\n"
        "warnings.simplefilter('ignore', FutureWarning)\n"
        "from impactzones.compare import compare_zones\n"
        "from impactzones.synth import synthesize\n"
        "import impactzones.evaluate.compare as new\n"
        "print(compare_zones is new.compare_zones, synthesize.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert "moved to impactzones.evaluate.compare" in out[0]
    assert out[1] == "True impactzones.datasets.synth"
    with pytest.raises(ModuleNotFoundError):
        __import__("impactzones.no_such_module")

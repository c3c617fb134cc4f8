"""Every public function documents itself with an example that doctest runs."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "impactzones.assign", "impactzones.core.change", "impactzones.evaluate.compare", "impactzones.core.geo",
    "impactzones.core.grid", "impactzones.io", "impactzones.datasets.synth", "impactzones.core.windows",
    "impactzones.core.schema", "impactzones.propose", "impactzones.hotspots.kde",
    "impactzones.hotspots.dbscan", "impactzones.hotspots.gistar", "impactzones.maps.webmap",
    "impactzones.maps", "impactzones.pipeline", "impactzones.evaluate.series",
    "impactzones.evaluate.power", "impactzones.evaluate.concentration",
    "impactzones.evaluate.nearrepeat", "impactzones.evaluate.synthetic_control",
    "impactzones.evaluate.harm", "impactzones.evaluate.run",
    "impactzones.io.safety", "impactzones.core.options", "impactzones.maps.explore",
    "impactzones.maps.brief", "impactzones.evaluate.compstat", "impactzones.maps.compstat",
    "impactzones.hotspots.registry", "impactzones.maps.layers", "impactzones.core.results",
    "impactzones.core.compat", "impactzones.workflows",
    "impactzones.summaries",
]


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_have_examples(name):
    mod = importlib.import_module(name)
    missing = [
        fn for fn, obj in vars(mod).items()
        if not fn.startswith("_") and inspect.isfunction(obj) and obj.__module__ == name
        and ">>>" not in (obj.__doc__ or "")
    ]
    assert missing == [], f"{name}: public functions without a doctest example: {missing}"


def test_methods_doc_covers_every_method():
    from .conftest import ROOT

    text = (ROOT / "docs" / "methods.md").read_text()
    for word in ("Kernel density", "DBSCAN", "Gi\\*", "E-test", "Weighted Displacement Quotient",
                 "Weighted Displacement Difference", "PAI", "PEI", "RRI", "Benjamini"):
        assert word in text, word


def test_architecture_doc_names_every_module():
    """docs/architecture.md explains the layout: every module and subpackage is named there."""
    from .conftest import ROOT

    text = (ROOT / "docs" / "architecture.md").read_text()
    pkg = ROOT / "impactzones"
    names = {p.stem for p in pkg.glob("*.py") if p.stem not in ("__init__", "__main__")}
    names |= {f"{p.name}/" for p in pkg.iterdir() if (p / "__init__.py").exists()}
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert missing == [], f"add to docs/architecture.md: {missing}"

"""impactzones: crime hot-spot and Impact Zone analysis.

Find hot spots (kernel density, DBSCAN, Getis-Ord Gi*), evaluate Impact Zones before and
after (percent change, whether it beats chance, displacement) and write Folium maps that a
commander can open. St. Louis, MO is the bundled example.
"""

import sys
import types

from ._version import __version__
from .core.errors import ImpactZonesError, InputError

# The public names below are imported on first use (PEP 562), so that ``import
# impactzones`` and ``impactzones --help`` do not pay for geopandas and pandas.
_LAZY = {
    "assign": "assign",
    "count_incidents": "assign",
    "format_pct": "core.change",
    "percent_change": "core.change",
    "Layers": "core.geo",
    "load_layer": "core.geo",
    "st_louis": "core.geo",
    "LoadResult": "io",
    "read_incidents": "io",
    "read_layer": "io",
    "synthesize": "datasets.synth",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'impactzones' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """Keeps ``impactzones.assign`` the function: importing the submodule of the same name
    (which Python records on its package) must not replace it, lazily loaded or not."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "ImpactZonesError",
    "InputError",
    "Layers",
    "LoadResult",
    "__version__",
    "assign",
    "count_incidents",
    "format_pct",
    "load_layer",
    "percent_change",
    "read_incidents",
    "read_layer",
    "st_louis",
    "synthesize",
]

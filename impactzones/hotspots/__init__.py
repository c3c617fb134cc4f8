"""Hot spots three ways, on one shared grid: kernel density, DBSCAN and Getis-Ord Gi*.

One function per question, each with documented automatic defaults that it reports back
in ``params``:

* :func:`kde`: where is crime densest? (a :class:`~impactzones.core.grid.Surface`, with
  :func:`hotspot_polygons` to turn it into areas);
* :func:`dbscan`: where do incidents cluster? (:class:`Clusters`);
* :func:`gistar`: which cells are significantly hotter or colder than the city?
  (:class:`GiStar`);
* :func:`emerging`: which hot spots are new, persistent, intensifying or fading?
  (:class:`Emerging`: Gi* per month and a Mann-Kendall trend per cell).

:func:`prepare_points` extracts the coordinates inside a study area once; ``kde``,
``dbscan`` and ``gistar`` accept its :class:`Points` in place of the GeoDataFrame.
"""

import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers see; at run time the names load on first use
    from ..core.points import Points, prepare_points
    from .dbscan import Clusters, dbscan
    from .emerging import Emerging, emerging
    from .gistar import GiStar, gistar
    from .kde import auto_bandwidth, hotspot_polygons, hotspot_threshold, kde

# The names below are imported on first use (PEP 562), so that the registry of methods
# (:mod:`impactzones.hotspots.registry`, read by ``impactzones --help``) stays light.
_LAZY = {
    "Points": "impactzones.core.points",
    "prepare_points": "impactzones.core.points",
    "Clusters": "dbscan",
    "dbscan": "dbscan",
    "Emerging": "emerging",
    "emerging": "emerging",
    "GiStar": "gistar",
    "gistar": "gistar",
    "auto_bandwidth": "kde",
    "hotspot_polygons": "kde",
    "hotspot_threshold": "kde",
    "kde": "kde",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    path = module if module.startswith("impactzones.") else f".{module}"
    value = getattr(importlib.import_module(path, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """Keeps ``hotspots.kde`` (and the others) the function: importing the submodule of
    the same name (which Python records on its package) must not replace it."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "Clusters",
    "Emerging",
    "GiStar",
    "Points",
    "auto_bandwidth",
    "dbscan",
    "emerging",
    "gistar",
    "hotspot_polygons",
    "hotspot_threshold",
    "kde",
    "prepare_points",
]

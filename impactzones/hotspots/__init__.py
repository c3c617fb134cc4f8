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

from typing import TYPE_CHECKING

from ..core.lazy import lazy_package as _lazy_package

if TYPE_CHECKING:  # what type checkers see; at run time the names load on first use
    from ..core.points import Points, prepare_points
    from .dbscan import Clusters, dbscan
    from .emerging import Emerging, emerging
    from .gistar import GiStar, gistar
    from .kde import auto_bandwidth, hotspot_polygons, hotspot_threshold, kde

# The names below are imported on first use (PEP 562, see core.lazy), so that the
# registry of methods (:mod:`impactzones.hotspots.registry`, read by ``impactzones
# --help``) stays light.
_LAZY = {
    "Points": "impactzones.core.points",
    "prepare_points": "impactzones.core.points",
    "Clusters": ".dbscan",
    "dbscan": ".dbscan",
    "Emerging": ".emerging",
    "emerging": ".emerging",
    "GiStar": ".gistar",
    "gistar": ".gistar",
    "auto_bandwidth": ".kde",
    "hotspot_polygons": ".kde",
    "hotspot_threshold": ".kde",
    "kde": ".kde",
}

_lazy_package(__name__, _LAZY)

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

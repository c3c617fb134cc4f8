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

from ._common import Points, prepare_points
from .dbscan import Clusters, dbscan
from .emerging import Emerging, emerging
from .gistar import GiStar, gistar
from .kde import auto_bandwidth, hotspot_polygons, kde

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
    "kde",
    "prepare_points",
]

"""impactzones: crime hot-spot and Impact Zone analysis.

Find hot spots (kernel density, DBSCAN, Getis-Ord Gi*), evaluate Impact Zones before and
after (percent change, whether it beats chance, displacement) and write Folium maps that a
commander can open. St. Louis, MO is the bundled example.
"""

from ._version import __version__
from .assign import assign, count_incidents
from .change import format_pct, percent_change
from .errors import ImpactZonesError, InputError
from .geo import Layers, load_layer, st_louis
from .io import LoadResult, read_incidents, read_layer
from .synth import synthesize

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

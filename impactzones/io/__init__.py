"""Reading and writing: agency exports and layers in, atomic files out."""

from .incidents import LoadResult, read_incidents
from .layers import read_layer
from .tables import EXTRA_COLUMNS, REASONS, expand_paths
from .writers import guard_outputs, write_json, write_png, write_table, write_text, write_vector

__all__ = [
    "EXTRA_COLUMNS",
    "REASONS",
    "LoadResult",
    "expand_paths",
    "guard_outputs",
    "read_incidents",
    "read_layer",
    "write_json",
    "write_png",
    "write_table",
    "write_text",
    "write_vector",
]

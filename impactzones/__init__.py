"""impactzones: crime hot-spot and Impact Zone analysis.

Find hot spots (kernel density, DBSCAN, Getis-Ord Gi*), evaluate Impact Zones before and
after (percent change, whether it beats chance, displacement) and write Folium maps that a
commander can open. St. Louis, MO is the bundled example.
"""

import sys as _sys
import types as _types

from ._version import __version__
from .core.errors import ImpactZonesError, InputError
from .core.lazy import lazy_package as _lazy_package

# The public names below are imported on first use (PEP 562, see core.lazy), so that
# ``import impactzones`` and ``impactzones --help`` do not pay for geopandas and pandas.
_LAZY = {
    "assign": ".assign",
    "count_incidents": ".assign",
    "format_pct": ".core.change",
    "percent_change": ".core.change",
    "Layers": ".core.geo",
    "load_layer": ".core.geo",
    "st_louis": ".core.geo",
    "Grid": ".core.grid",
    "Surface": ".core.grid",
    "make_grid": ".core.grid",
    "locate": ".core.geometry",
    "ring_polygons": ".core.geometry",
    "LoadResult": ".io",
    "read_incidents": ".io",
    "read_layer": ".io",
    "synthesize": ".datasets.synth",
    "kde": ".hotspots",
    "dbscan": ".hotspots",
    "gistar": ".hotspots",
    "emerging": ".hotspots",
    "hotspot_polygons": ".hotspots",
    "prepare_points": ".hotspots",
    "compare_zones": ".evaluate.compare",
    "evaluate_series": ".evaluate",
    "synthetic_control": ".evaluate",
    "zone_power": ".evaluate",
    "minimum_detectable_effect": ".evaluate",
    "near_repeat": ".evaluate",
    "concentration": ".evaluate",
    "propose_zones": ".propose",
    "backtest": ".propose",
    "rolling_backtest": ".propose",
    "capture_curve": ".propose",
    "build_maps": ".maps",
    "run_demo": ".pipeline",
}

_lazy_package(__name__, _LAZY)


# Modules of 0.1 that moved into the layer packages in 0.2 (issue 11): importing an old path
# still works for one release, with a FutureWarning naming the new one.
_MOVED = {
    "schema": "core.schema",
    "windows": "core.windows",
    "change": "core.change",
    "errors": "core.errors",
    "defaults": "core.defaults",
    "grid": "core.grid",
    "geo": "core.geo",
    "dates": "io.dates",
    "profiles": "io.profiles",
    "offenses": "io.offenses",
    "safety": "io.safety",
    "manifest": "io.manifest",
    "compare": "evaluate.compare",
    "compstat": "evaluate.compstat",
    "webmap": "maps.webmap",
    "brief": "maps.brief",
    "explore": "maps.explore",
    "synth": "datasets.synth",
}


class _MovedModules:
    """A meta-path finder that answers the old module paths with the moved modules."""

    @staticmethod
    def find_spec(fullname: str, path: object = None, target: object = None) -> object:
        head, _, old = fullname.partition(".")
        if head != __name__ or old not in _MOVED:
            return None
        import importlib.util

        return importlib.util.spec_from_loader(fullname, _MovedModules())  # type: ignore[arg-type]

    def create_module(self, spec: object) -> None:
        return None  # the default: a fresh module, filled by exec_module

    def exec_module(self, module: _types.ModuleType) -> None:
        import importlib
        import warnings

        old = module.__name__.partition(".")[2]
        new = f"{__name__}.{_MOVED[old]}"
        warnings.warn(
            f"{module.__name__} moved to {new} in impactzones 0.2; import it from there (or "
            "use the top-level names, impactzones.<name>). The old path goes in a later "
            "release.",
            FutureWarning,
            stacklevel=2,
        )
        real = importlib.import_module(new)
        module.__getattr__ = lambda name: getattr(real, name)  # type: ignore[method-assign]
        module.__doc__ = f"Moved to :mod:`{new}`."


_sys.meta_path.append(_MovedModules())  # type: ignore[arg-type]


__all__ = [
    "Grid",
    "ImpactZonesError",
    "InputError",
    "Layers",
    "LoadResult",
    "Surface",
    "__version__",
    "assign",
    "backtest",
    "build_maps",
    "capture_curve",
    "compare_zones",
    "concentration",
    "count_incidents",
    "dbscan",
    "emerging",
    "evaluate_series",
    "format_pct",
    "gistar",
    "hotspot_polygons",
    "kde",
    "load_layer",
    "locate",
    "make_grid",
    "minimum_detectable_effect",
    "near_repeat",
    "percent_change",
    "prepare_points",
    "propose_zones",
    "read_incidents",
    "read_layer",
    "ring_polygons",
    "rolling_backtest",
    "run_demo",
    "st_louis",
    "synthesize",
    "synthetic_control",
    "zone_power",
]

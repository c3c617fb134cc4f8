"""The hot-spot methods, one registry entry each.

An entry (:class:`Method`) names everything the rest of the package needs to know about a
method: its runner, its result type, the files it writes, its map layer, what it adds to
the record, the demo's headline and the index page, and which of its parameters the CLI
prints. The pipeline (:func:`impactzones.pipeline.run_hotspots`), the CLI's ``hotspots
--method`` choices and summary, the maps and ``propose`` read this table; none of them
names a method. Adding a method is one module (a runner returning a result that follows
:class:`~impactzones.core.results.Result`) and one :func:`register` line; its map layer is
one function, named here by its dotted path (``"package.module:function"``) so that this
layer never imports the maps.

A runner takes a :class:`RunContext` (the incidents, the points prepared once for every
method, the study area and every setting of the run) and returns the result.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.defaults import TOP
from ..core.errors import InputError

if TYPE_CHECKING:  # the registry itself stays light: `impactzones --help` lists its names
    import geopandas as gpd
    import pandas as pd

    from ..core.grid import Surface
    from ..core.points import Points
    from .dbscan import Clusters
    from .emerging import Emerging
    from .gistar import GiStar

__all__ = [
    "DEFAULTS",
    "NAMES",
    "REGISTRY",
    "Method",
    "MethodNames",
    "Output",
    "RunContext",
    "check_methods",
    "get",
    "headline",
    "record",
    "register",
    "resolve",
    "run_method",
    "unregister",
    "write_outputs",
]


@dataclass(frozen=True)
class RunContext:
    """What every runner gets: the selection, the points and the run's settings.

    Attributes
    ----------
    incidents : GeoDataFrame
        The incidents selected (metric CRS), as the caller gave them.
    points : Points
        Their coordinates inside the study area, extracted once for every method.
    study_area : geometry or GeoDataFrame or None
    settings : dict
        Every option of the run (``cell_size``, ``bandwidth``, ``eps``, ``seed``...); a
        runner takes the ones it understands, None meaning "by the method's rule".
    """

    incidents: gpd.GeoDataFrame
    points: Points
    study_area: Any = None
    settings: dict = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A setting, or ``default`` when it is absent or None."""
        value = self.settings.get(key)
        return default if value is None else value


@dataclass(frozen=True)
class Output:
    """One file a method writes.

    Attributes
    ----------
    name : str
        The file name (after the run's prefix); its extension chooses the format.
    part : str or callable, optional
        What to write: the result itself (None, through its ``to_file``), one of its
        attributes or no-argument methods (a name), or ``part(result, context)``.
    """

    name: str
    part: str | Callable[[Any, RunContext], Any] | None = None


@dataclass(frozen=True)
class Method:
    """One hot-spot method (see the module notes).

    Attributes
    ----------
    name : str
        The name users type (``--method NAME``) and the key of its results and files.
    run : callable
        ``run(context) -> result``.
    result : type or str
        The result type (a :class:`~impactzones.core.results.Result`), or its dotted path
        ``"module:Class"`` (imported on first use: :attr:`result_type`).
    outputs : tuple of Output
        The files it writes into the output folder.
    layer : str, optional
        ``"module:function"`` of its map layer, resolved by the maps when they draw.
    maps : tuple of str
        The maps that draw the layer: ``"commander"`` (every map) and/or ``"analyst"``.
    shown : bool
        Whether the layer is on when the map opens.
    title : str
        What the method finds, in a few words (help text, index page).
    default : bool
        Whether it runs when no method is named.
    summary_key : str, optional
        The key under which ``result.summary()`` joins its ``params`` in the record.
    headline : callable, optional
        ``headline(result) -> dict`` of the figures the demo's summary reports.
    finding : callable, optional
        ``finding(result) -> str``: the result in a few words (printed and on the index).
    printed : tuple of str
        Parameters the CLI prints (besides every ``*_rule``).
    surface : callable, optional
        ``surface(result, context) -> (grid, values, note)``: the result as a priority
        surface for proposing zones (:func:`impactzones.propose.propose_zones`), with a
        note saying what it is; methods without one cannot propose.
    """

    name: str
    run: Callable[[RunContext], Any]
    result: type | str
    outputs: tuple[Output, ...] = ()
    layer: str | None = None
    maps: tuple[str, ...] = ("analyst",)
    shown: bool = True
    title: str = ""
    default: bool = True
    summary_key: str | None = None
    headline: Callable[[Any], dict] | None = None
    finding: Callable[[Any], str] | None = None
    printed: tuple[str, ...] = ()
    surface: Callable[[Any, RunContext], tuple] | None = None

    @property
    def result_type(self) -> type:
        """The result type (imported now if the entry names it by its dotted path)."""
        return resolve(self.result) if isinstance(self.result, str) else self.result


def resolve(dotted: str) -> Any:
    """The object a dotted path ``"package.module:name"`` names (imported on first use).

    Examples
    --------
    >>> resolve("impactzones.core.grid:Surface").__name__
    'Surface'
    """
    module, _, name = dotted.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"Cannot find {dotted!r}: name it as 'package.module:name'.") from exc


#: Every registered method by name, in the order they were registered.
REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add (or replace) a method in the registry; returns it.

    Examples
    --------
    >>> m = register(Method("toy", run=lambda ctx: None, result="impactzones.core.grid:Surface",
    ...                     default=False))
    >>> "toy" in NAMES, "toy" in DEFAULTS
    (True, False)
    >>> unregister("toy"); "toy" in NAMES
    False
    """
    if not method.name.isidentifier():
        raise InputError(f"A method's name must be a plain word, got {method.name!r}.")
    REGISTRY[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove a method from the registry (a no-op when it is not there).

    Examples
    --------
    >>> unregister("no such method")
    """
    REGISTRY.pop(name, None)


def get(name: str) -> Method:
    """The registry entry of a method, or an :class:`InputError` listing the methods.

    Examples
    --------
    >>> get("gistar").result_type.__name__
    'GiStar'
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise InputError(
            f"Unknown hot-spot method {name!r}; use one of {', '.join(REGISTRY)}."
        ) from None


class MethodNames(Sequence[str]):
    """The registered method names as a live, read-only sequence, so that a method
    registered later is part of it: every one, only those that run when none is named
    (``default_only``), or only those with a given entry attribute (``having``), after
    the names in ``before``.

    Examples
    --------
    >>> list(NAMES), tuple(DEFAULTS)
    (['kde', 'dbscan', 'gistar', 'emerging'], ('kde', 'dbscan', 'gistar'))
    >>> list(MethodNames(having="surface", before=("cells",)))
    ['cells', 'kde', 'dbscan', 'gistar']
    """

    def __init__(
        self, *, default_only: bool = False, having: str | None = None, before: tuple = ()
    ):
        self._default_only = default_only
        self._having = having
        self._before = tuple(before)

    def _names(self) -> list[str]:
        return [*self._before] + [
            n
            for n, m in REGISTRY.items()
            if (m.default or not self._default_only)
            and (self._having is None or getattr(m, self._having) is not None)
        ]

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __repr__(self) -> str:
        return repr(tuple(self._names()))


#: Every method's name (live).
NAMES = MethodNames()
#: The methods that run when none is named (live).
DEFAULTS = MethodNames(default_only=True)


def check_methods(methods: Sequence[str] | str) -> list[str]:
    """The methods asked for, in the registry's order, or one sentence naming the unknown.

    Examples
    --------
    >>> check_methods(["gistar", "kde"])
    ['kde', 'gistar']
    >>> try:
    ...     check_methods(["kde", "ward"])
    ... except InputError as exc:
    ...     print(exc)
    Unknown method(s) ['ward']; use kde, dbscan, gistar, emerging.
    """
    asked = [methods] if isinstance(methods, str) else list(methods)
    unknown = sorted(set(asked) - set(REGISTRY))
    if unknown:
        raise InputError(f"Unknown method(s) {unknown}; use {', '.join(REGISTRY)}.")
    return [n for n in REGISTRY if n in asked]


def run_method(name: str, context: RunContext) -> Any:
    """Run one registered method on a context.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.hotspots import prepare_points
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> ctx = RunContext(inc, prepare_points(inc, st_louis().land), st_louis().land,
    ...                  {"eps": 150, "min_samples": 15})
    >>> type(run_method("dbscan", ctx)).__name__
    'Clusters'
    """
    return get(name).run(context)


def record(name: str, result: Any) -> dict:
    """A result's ``params`` for the record, with its summary where the method has one.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> from impactzones.hotspots import gistar
    >>> g = gistar(inc, cell_size=500, study_area=st_louis().land)
    >>> sorted(record("gistar", g)["bins"])[:2]
    ['Cold spot, 90% confidence', 'Cold spot, 95% confidence']
    """
    out = dict(result.params)
    method = REGISTRY.get(name)
    if method is not None and method.summary_key:
        out[method.summary_key] = result.summary()
    return out


def headline(results: dict) -> dict:
    """The figures of a run for a summary: every method's ``headline`` and, under
    ``"findings"``, its ``finding`` in words (in the registry's order).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.hotspots import dbscan
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> h = headline({"dbscan": dbscan(inc, eps=150, min_samples=15)})
    >>> h["findings"] == [f"{h['dbscan_clusters']} DBSCAN clusters"]
    True
    """
    out: dict = {}
    findings = []
    for name, result in results.items():
        method = REGISTRY.get(name)
        if method is None:
            continue
        if method.headline is not None:
            out.update(method.headline(result))
        if method.finding is not None:
            findings.append(method.finding(result))
    out["findings"] = findings
    return out


def write_outputs(
    name: str, result: Any, context: RunContext, out: str | Path, prefix: str = ""
) -> list[Path]:
    """Write a method's files into ``out`` (names after ``prefix``); returns the paths.

    Examples
    --------
    >>> import tempfile
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.hotspots import prepare_points
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> ctx = RunContext(inc, prepare_points(inc, st_louis().land), st_louis().land)
    >>> g = run_method("gistar", ctx)
    >>> [p.name for p in write_outputs("gistar", g, ctx, tempfile.mkdtemp(), "hs_")]
    ['hs_gistar.geojson', 'hs_gistar.csv']
    """
    import geopandas as gpd
    import pandas as pd

    from ..io.writers import write_table, write_vector

    files = []
    for output in get(name).outputs:
        path = Path(out) / f"{prefix}{output.name}"
        part = _part(output, result, context)
        if isinstance(part, gpd.GeoDataFrame):  # (its own to_file is not atomic)
            files.append(write_vector(part, path))
        elif isinstance(part, pd.DataFrame):
            files.append(write_table(part, path))
        else:  # a result
            files.append(Path(part.to_file(path)))
    return files


def _part(output: Output, result: Any, context: RunContext) -> Any:
    if output.part is None:
        return result
    if callable(output.part):
        return output.part(result, context)
    value = getattr(result, output.part)
    return value() if callable(value) else value


# --------------------------------------------------------------------------------------
# The built-in methods: a runner each (settings -> the method's function) and an entry
# --------------------------------------------------------------------------------------


def _run_kde(ctx: RunContext) -> Surface:
    from .kde import hotspot_polygons, hotspot_threshold, kde

    s = kde(
        ctx.points,
        cell_size=ctx.get("kde_cell_size", ctx.get("cell_size")),
        bandwidth=ctx.get("bandwidth"),
        kernel=ctx.get("kernel", "quartic"),
    )
    top = ctx.settings.get("top", TOP.default)
    if top:  # top=0: the surface alone (for proposals)
        threshold, rule = hotspot_threshold(s, top=top)
        s.polygons = hotspot_polygons(s, ctx.incidents, threshold=threshold)
        s.params.update({"hotspots_top": top, "hotspots_rule": rule})
    return s


def _kde_areas(s: Surface) -> int:
    return len(s.polygons) if s.polygons is not None else 0


def _run_dbscan(ctx: RunContext) -> Clusters:
    from .dbscan import dbscan

    return dbscan(
        ctx.points,
        eps=ctx.get("eps"),
        min_samples=ctx.get("min_samples"),
        method=ctx.get("dbscan_method", "dbscan"),
    )


def _run_gistar(ctx: RunContext) -> GiStar:
    from .gistar import gistar

    return gistar(
        ctx.points,
        cell_size=ctx.get("cell_size"),
        distance=ctx.get("distance"),
        inference=ctx.get("inference", "exact"),
        permutations=ctx.get("permutations"),
        seed=ctx.get("seed", 0),
    )


def _run_emerging(ctx: RunContext) -> Emerging:
    from .emerging import emerging

    return emerging(
        ctx.incidents,
        cell_size=ctx.get("cell_size"),
        distance=ctx.get("distance"),
        study_area=ctx.study_area,
    )


def _clusters_labels(result: Clusters, ctx: RunContext) -> pd.DataFrame:
    return result.labels_table(ctx.incidents)


def _patterned(result: Emerging, ctx: RunContext) -> gpd.GeoDataFrame:
    return result.cells[result.cells["pattern"] != "no pattern"]


def _hot_cells(g: GiStar) -> int:
    return int((g.bins > 0).sum())


# How each result becomes a priority surface for proposals: (grid, values, note)


def _kde_surface(s: Surface, ctx: RunContext) -> tuple:
    import numpy as np

    note = f"KDE ({s.params['kernel']}, bandwidth {s.params['bandwidth_m']:,.0f} m)"
    return s.grid, np.nan_to_num(s.values, nan=0.0), note


def _gistar_surface(g: GiStar, ctx: RunContext) -> tuple:
    import numpy as np

    z = np.zeros(g.grid.shape)
    z[g.grid.mask] = np.where(g.bins > 0, g.Zs, 0.0)
    return g.grid, z, f"Gi* z of significant hot cells ({g.params['fdr']} FDR, analytic p)"


def _dbscan_surface(c: Clusters, ctx: RunContext) -> tuple:
    """The kernel density inside the clusters."""
    import numpy as np
    import shapely

    grid, values, note = _kde_surface(run_method("kde", ctx), ctx)
    inside = np.zeros(grid.shape, bool)
    if len(c.clusters):
        cx, cy = grid.centres()
        inside = shapely.contains_xy(c.clusters.union_all(), cx, cy)
    note += f" inside DBSCAN clusters (eps {c.params['eps_m']:,.0f} m)"
    return grid, np.where(inside, values, 0.0), note


register(
    Method(
        "kde",
        run=_run_kde,
        result="impactzones.core.grid:Surface",
        outputs=(Output("kde.tif"), Output("kde_hotspots.geojson", "polygons")),
        layer="impactzones.maps.layers:KDE",
        maps=("commander", "analyst"),
        title="kernel density (incidents per km^2) and its densest areas",
        headline=lambda s: {"kde_polygons": _kde_areas(s)},
        finding=lambda s: f"{_kde_areas(s)} KDE areas (top {s.params['hotspots_top']:.0%})",
        printed=("bandwidth_m", "cell_size_m", "method"),
        surface=_kde_surface,
    )
)
register(
    Method(
        "dbscan",
        run=_run_dbscan,
        result="impactzones.hotspots.dbscan:Clusters",
        outputs=(
            Output("dbscan_clusters.geojson"),
            Output("dbscan_labels.csv", _clusters_labels),
        ),
        layer="impactzones.maps.layers:DBSCAN",
        shown=False,
        title="dense clusters of incidents (DBSCAN)",
        headline=lambda c: {"dbscan_clusters": len(c.clusters)},
        finding=lambda c: f"{len(c.clusters)} DBSCAN clusters",
        printed=("eps_m", "min_samples", "method", "clusters"),
        surface=_dbscan_surface,
    )
)
register(
    Method(
        "gistar",
        run=_run_gistar,
        result="impactzones.hotspots.gistar:GiStar",
        outputs=(Output("gistar.geojson"), Output("gistar.csv")),
        layer="impactzones.maps.layers:GISTAR",
        title="Getis-Ord Gi* hot and cold cells (FDR-corrected)",
        summary_key="bins",
        headline=lambda g: {"gistar_hot_cells": _hot_cells(g)},
        finding=lambda g: f"{_hot_cells(g)} Gi* hot cells ({g.params['fdr']} FDR)",
        printed=("cell_size_m", "distance_m", "bins"),
        surface=_gistar_surface,
    )
)
register(
    Method(
        "emerging",
        run=_run_emerging,
        result="impactzones.hotspots.emerging:Emerging",
        outputs=(Output("emerging.geojson", _patterned), Output("emerging.csv")),
        layer="impactzones.maps.layers:EMERGING",
        shown=False,
        title="emerging hot spots: Gi* per month and a trend per cell",
        default=False,
        summary_key="patterns",
        headline=lambda e: {"emerging_new": int(e.summary()["new"])},
        finding=lambda e: (
            f"{sum(v for k, v in e.summary().items() if k != 'no pattern')} "
            "cells with an emerging hot-spot pattern"
        ),
        printed=("cell_size_m", "distance_m", "slices", "patterns"),
    )
)

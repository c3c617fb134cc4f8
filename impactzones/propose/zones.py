"""Proposed Impact Zones: up to ``k`` candidates from one period's hot spots, under the
commander's constraints, as a typed result.

One zone at a time, greedily: a priority surface (:mod:`impactzones.propose.surfaces`);
cells outside the study area, inside existing zones or within ``gap`` metres of them or of
the zones already proposed are masked out; a zone grows from the densest free cell and is
turned into a patrol-friendly outline (:mod:`impactzones.propose.shapes`), optionally
snapped to whole neighborhoods. Each candidate carries its area, incidents and share in
the proposal period, its PAI, the districts and neighborhoods it covers, the parameters
that made it, its power for a year-on-year test and a plain-language summary. Candidates
are ranked by incidents per km^2.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import shapely

from ..core.defaults import (
    BUDGET_KM2,
    GAP,
    GROWTH_THRESHOLD,
    HISTORY,
    MAX_AREA_KM2,
    MIN_AREA_KM2,
    MIN_PAI,
    MIN_ZONE_INCIDENTS,
    PROPOSAL_CELL_M,
    PROPOSAL_SMOOTH_M,
)
from ..core.errors import InputError
from ..core.geo import Layers, xy
from ..core.geometry import locate_all
from ..core.results import ResultFiles
from ..core.windows import Window, parse_window, select
from .shapes import BUFFER_SEGMENTS, GAP_PAD, Constraints, _fit_area, _grow, _outline, _snap
from .surfaces import METHODS, _surface

__all__ = ["HotFloor", "Proposals", "propose_zones", "study_area_of"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The columns of :attr:`Proposals.zones`, in order.
COLUMNS = [
    "rank",
    "name",
    "area_km2",
    "incidents",
    "share",
    "pai",
    "per_km2",
    "power_20",
    "mde_80",
    "districts",
    "neighborhoods",
    "method",
    "period",
    "params",
    "summary",
    "geometry",
]


@dataclass(eq=False)
class Proposals(ResultFiles):
    """Proposed zones (from :func:`propose_zones`): the result and the choices behind it.

    Attributes
    ----------
    zones : GeoDataFrame
        One row per zone, ranked (see :func:`propose_zones`), in the incidents' CRS.
    params : dict
        Every setting used (areas in km^2, distances in metres) and the surface's rule.
    window : Window
        The proposal period.
    incidents : int
        Incidents of the chosen crimes in the period.
    study_area_km2 : float
        The study area's size, km^2.
    meta : dict
        ``grown``: the zones' rows in the order they were grown (hottest seed first; the
        table is ranked by incidents per km^2 after growth).

    For code written when :func:`propose_zones` returned a GeoDataFrame, the result reads
    like its ``zones`` table: ``p["name"]``, ``len(p)``, ``p.geometry``, ``p["period"]``.

    Examples
    --------
    >>> import shapely, geopandas as gpd
    >>> from impactzones.core.windows import parse_window
    >>> z = gpd.GeoDataFrame({"name": ["Proposal A"]},
    ...                      geometry=[shapely.box(0, 0, 500, 1000)], crs="EPSG:26915")
    >>> p = Proposals(z, {"k": 1}, parse_window(2018), 120, 160.0)
    >>> len(p), p["name"].tolist(), p.to_geodataframe().crs.to_epsg()
    (1, ['Proposal A'], 26915)
    """

    zones: gpd.GeoDataFrame
    params: dict
    window: Window
    incidents: int
    study_area_km2: float
    cell_size: float = PROPOSAL_CELL_M.default
    map_layer: ClassVar[str] = "proposals"
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The zones as a GeoDataFrame (a copy)."""
        return self.zones.copy()

    def to_file(self, path: str | Path, **kwargs: Any) -> Path:
        """Write the zones by the extension of ``path`` (:mod:`impactzones.core.results`:
        ``.geojson`` in WGS 84, ``.gpkg``, ``.parquet``...; ``.csv`` for the table without
        geometry); atomic. Extra keywords go to :meth:`geopandas.GeoDataFrame.to_file`, as
        for the GeoDataFrame returned before."""
        if kwargs:
            self.zones.to_file(path, **kwargs)
            return Path(path)
        return super().to_file(path)

    def headline(self) -> str:
        """How many zones, how much of the budget they cover and, when they stopped short of
        it, why (``params["stopped"]``): one sentence for a summary.

        Examples
        --------
        >>> import shapely, geopandas as gpd
        >>> from impactzones.core.windows import parse_window
        >>> z = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1800)], crs="EPSG:26915")
        >>> params = {"budget_km2": 4.0, "min_pai": 3.0, "stopped": "hot", "k": None}
        >>> for part in Proposals(z, params, parse_window(2018), 120, 160.0).headline().split(": "):
        ...     print(part)
        1 zone, 1.8 km^2 of the 4 km^2 budget
        no other place has at least 3 times the city's density.
        """
        p = self.params
        n, used = len(self.zones), float(self.zones.area.sum()) / 1e6
        budget = p.get("budget_km2")
        text = f"{n} zone{'s' if n != 1 else ''}, {used:.{2 if used < 1 else 1}f} km^2"
        if budget is not None:
            text += f" of the {budget:g} km^2 budget"
        why = {
            "hot": f"no other place has at least {p.get('min_pai', 0):g} times the city's density",
            "k": f"the {p.get('k')} zones asked for",
            "room": "no other place fits the constraints (area limits, gap, existing zones)",
        }.get(p.get("stopped", ""), "")
        return f"{text}: {why}." if why else f"{text}."

    # the GeoDataFrame that propose_zones returned before: read through to the zones
    def __len__(self) -> int:
        return len(self.zones)

    def __getitem__(self, key: Any) -> Any:
        return self.zones[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.zones[key] = value

    def __iter__(self) -> Any:
        return iter(self.zones)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "zones" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.zones, name)


def study_area_of(layers: Layers | None, study_area: Any, incidents: gpd.GeoDataFrame) -> Any:
    """The study area: ``study_area`` if given, else the layers' land, else the incidents'
    bounding box.

    Examples
    --------
    >>> import shapely, geopandas as gpd
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0, 10], [0, 5]))
    >>> study_area_of(None, None, pts).bounds
    (0.0, 0.0, 10.0, 5.0)
    """
    if study_area is not None:
        return study_area
    return layers.land if layers is not None else shapely.box(*incidents.total_bounds)


def propose_zones(
    incidents: gpd.GeoDataFrame,
    *,
    period: Any,
    k: int | None = None,
    budget_km2: float | None = BUDGET_KM2.default,
    max_area_km2: float = MAX_AREA_KM2.default,
    min_area_km2: float = MIN_AREA_KM2.default,
    exclude: gpd.GeoDataFrame | None = None,
    method: str = "cells",
    group: str | None = "violent",
    category: str | list[str] | None = None,
    layers: Layers | None = None,
    study_area: Any = None,
    gap: float = GAP.default,
    cell_size: float = PROPOSAL_CELL_M.default,
    bandwidth: float | None = None,
    threshold: float = GROWTH_THRESHOLD.default,
    snap: str | None = None,
    smooth: float = PROPOSAL_SMOOTH_M.default,
    stability: bool = False,
    floor: float = 0.0,
    solidity: float = 0.0,
    history: int = HISTORY.default,
    min_pai: float = MIN_PAI.default,
    min_incidents: int = MIN_ZONE_INCIDENTS.default,
) -> Proposals:
    """Up to ``k`` candidate Impact Zones from the hot spots of ``period``.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents in a metric CRS.
    period : int, "START:END" or (start, end)
        The proposal period (e.g. ``2018``).
    k : int, optional
        The most zones to propose (default: as many as ``budget_km2`` holds).
    budget_km2 : float or None, default 4
        The total area of all the zones together, km^2 (the patrol budget): zones are
        added, hottest first, while they fit; the last is shrunk to fit when it can stay
        above the minimum area. None: no limit (then give ``k``). Many small zones hold
        far more of the next period's crime per km^2 than a few large ones of the same
        total area (tuned on the real St. Louis exports; see docs/proposals.md).
    max_area_km2, min_area_km2 : float, default 3 and 0.05
        Area limits of each zone, in km^2. The minimum is a micro-place of a few block
        faces; a zone grows past it only while its border stays hot (``threshold``).
    exclude : GeoDataFrame, optional
        Existing zones: proposals stay ``gap`` metres away from them.
    method : {"cells", "kde", "gistar", "dbscan"}
        The priority surface (see the module notes); the default, lightly smoothed
        counts per cell, keeps the hot addresses that a wide kernel spreads out.
    group, category : str, optional
        Which incidents count (default violent crime).
    layers : Layers, optional
        For the study area (its land), districts and neighborhoods covered, and snapping.
    study_area : shapely geometry, optional
        The study area (default ``layers.land``, else the incidents' bounding box).
    gap : float, default 400
        Metres kept clear around existing zones.
    cell_size : float, default 100
        Grid cell in metres.
    bandwidth : float, optional
        KDE bandwidth in metres (default: the automatic rule).
    threshold : float, default 0.5
        Growth stops at cells below this share of the seed's density (once the minimum
        area is reached): a zone is the hot spot's core. Lower values give larger zones
        that catch more incidents at a lower density (and a lower PAI).
    snap : {None, "neighborhoods"}
        Snap each outline to whole neighborhoods when that still meets the constraints.
    smooth : float, default 100
        ``method="cells"``: the Gaussian smoothing of the cell counts (sigma, metres).
    stability : bool, default False
        ``method="cells"``: count the months in which each cell had an incident rather
        than the incidents (places that stayed hot over a one-month spike).
    solidity : float, default 0
        The least share of its convex hull that a zone's area must fill (0-1): inlets are
        closed until it does (a simpler shape to patrol, at some cost in PAI; see
        docs/proposals.md).
    floor : float, default 0
        Growth also stops (once the minimum area is reached) at cells below this
        quantile (0-1) of the surface over the free cells: a citywide density floor.
    history : int, default 1
        Earlier periods of the same length whose incidents also count on the surface
        (with the same weight): a place that stayed hot for two years outranks last
        year's spike. The zones' figures (incidents, share, PAI) are still the
        proposal period's. Chosen on rolling half-year backtests within 2017-2018 of the
        real St. Louis exports (see docs/proposals.md); 0 uses the period alone.
    min_pai : float, default 3
        Only hot spots are proposed: a zone's incidents per km^2 in the proposal period
        (its PAI) and its seed cell's value on the surface must be at least this multiple
        of the city's (the study area's mean). When no other place passes, the budget is
        left partly unspent and ``params["stopped"]`` says why (:meth:`Proposals.headline`).
        0: no floor, the budget is always filled. Chosen on the tuning data only (see
        docs/proposals.md).
    min_incidents : int, default 5
        A zone must also hold at least this many incidents of the proposal period: with
        fewer, its density is chance (sparse data would otherwise fill the budget with
        one-incident micro-places that pass ``min_pai`` by luck).

    Returns
    -------
    Proposals
        The ranked candidates (``zones``: ``rank, name, area_km2, incidents, share, pai,
        per_km2, power_20, mde_80, districts, neighborhoods, method, params, summary`` and
        the polygon), the settings (``params``) and the proposal period. It reads like its
        ``zones`` table (``p["area_km2"]``, ``len(p)``, ``p.geometry``), as the plain
        GeoDataFrame returned before did.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2018]).incidents
    >>> p = propose_zones(inc, period=2018, exclude=layers.zones.iloc[:1], layers=layers)
    >>> bool(p["area_km2"].sum() <= 4.0 + 1e-9), bool((p["area_km2"] >= 0.05 - 1e-9).all())
    (True, True)
    >>> len(propose_zones(inc, period=2018, k=2, exclude=layers.zones.iloc[:1], layers=layers))
    2
    """
    params = dict(
        k=k, budget_km2=budget_km2, max_area_km2=max_area_km2, min_area_km2=min_area_km2,
        method=method, group=group, category=category, gap_m=gap, cell_size_m=cell_size,
        bandwidth_m=bandwidth, threshold=threshold, snap=snap, smooth_m=smooth,
        stability=stability, floor=floor, solidity=solidity, history=history,
        min_pai=min_pai, min_incidents=min_incidents,
    )  # fmt: skip
    c = _check(params)
    window = parse_window(period)
    sel = select(incidents, window=window, group=group, category=category)
    if len(sel) < 10:
        raise InputError(
            f"Only {len(sel)} incidents match {window.label}: too few to propose "
            "zones from; widen the period or the crimes."
        )
    area = study_area_of(layers, study_area, incidents)
    ranked = (
        sel
        if not history
        else select(
            incidents, window=_with_history(window, history), group=group, category=category
        )
    )
    grid, values, note = _surface(ranked, area, method, cell_size, bandwidth, smooth, stability)
    if history:
        note += f", {_with_history(window, history).label} (the period and {history} before)"
    blocked = _kept_clear(exclude, incidents.crs, gap)
    hot = HotFloor.of(min_pai, values, grid.mask, sel, area.area, min_incidents)
    shapes, hits, stopped = _grow_zones(grid, values, area, blocked, c, params, layers, hot)
    if not shapes:
        raise InputError(
            f"No place has at least {min_pai:g} times the city's density of these crimes "
            f"and {min_incidents} incidents in {window.label}: no hot spot to propose "
            f"(min_pai={min_pai:g}, min_incidents={min_incidents}; lower them to see the "
            "densest places anyway)."
            if stopped == "hot"
            else "No zone fits the constraints: allow a larger area, a smaller gap, or "
            "fewer existing zones to avoid."
        )
    params["stopped"] = stopped
    params["surface"] = note
    zones = _zone_table(shapes, hits, len(sel), incidents.crs, area.area / 1e6, layers, window,
                        params)  # fmt: skip
    grown = [int(i) for i in np.argsort(zones.pop("grown").to_numpy(), kind="stable")]
    return Proposals(
        zones, params, window, len(sel), area.area / 1e6, cell_size, meta={"grown": grown}
    )


def _check(params: dict) -> Constraints:
    """The settings checked at the boundary, and the constraints they make."""
    if params["method"] not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {params['method']!r}.")
    k = params["k"]
    if k is None and params["budget_km2"] is None:
        raise InputError("Give k (how many zones) or budget_km2 (their total area, km^2).")
    if k is not None and (k < 1 or int(k) != k):
        raise InputError(f"k must be a whole number >= 1, got {k!r}.")
    if params["snap"] not in (None, "neighborhoods"):
        raise InputError(f"snap must be None or 'neighborhoods', got {params['snap']!r}.")
    if params["history"] < 0 or int(params["history"]) != params["history"]:
        raise InputError(f"history must be a whole number >= 0, got {params['history']!r}.")
    MIN_PAI.check(params["min_pai"])
    MIN_ZONE_INCIDENTS.check(params["min_incidents"])
    if int(params["min_incidents"]) != params["min_incidents"]:
        raise InputError(
            f"min_incidents must be a whole number >= 1, got {params['min_incidents']!r}."
        )
    if not 0 <= params["floor"] < 1:
        raise InputError(f"floor must be a quantile in [0, 1), got {params['floor']!r}.")
    c = Constraints(
        params["max_area_km2"],
        params["min_area_km2"],
        params["gap_m"],
        params["solidity"],
        params["budget_km2"],
    )
    c.check()
    return c


def _with_history(window: Window, history: int) -> Window:
    """The window reaching back ``history`` periods of its own length before it."""
    return Window(window.start - dt.timedelta(days=window.days * history), window.end)


def _kept_clear(exclude: gpd.GeoDataFrame | None, crs: Any, gap: float) -> Any:
    """The existing zones padded by the gap: no proposal may reach into it."""
    if exclude is None or not len(exclude):
        return shapely.Polygon()
    if exclude.crs is not None and not exclude.crs.equals(crs):
        raise InputError("The existing zones and the incidents have different CRSs.")
    return exclude.geometry.union_all().buffer(gap * GAP_PAD, quad_segs=BUFFER_SEGMENTS)


@dataclass(frozen=True)
class HotFloor:
    """The hot-spot floor of a proposal (``min_pai``): the least value of a seed cell on the
    ranking surface, and the least proposal-period incidents per m^2 of a zone, both
    ``min_pai`` times the city's (the study area's mean).

    Examples
    --------
    >>> import numpy as np, geopandas as gpd, shapely
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([5, 6, 7, 500], [5, 5, 5, 500]))
    >>> hot = HotFloor.of(2.0, np.ones((2, 2)), np.ones((2, 2), bool), pts, 1000.0 * 1000.0)
    >>> hot.seed, hot.zone_ok(shapely.box(0, 0, 10, 10)), hot.zone_ok(shapely.box(0, 0, 900, 900))
    (2.0, True, False)
    >>> hot.count(shapely.box(0, 0, 10, 10))
    3
    """

    min_pai: float
    seed: float
    per_m2: float
    x: np.ndarray
    y: np.ndarray
    min_incidents: int = 1

    @classmethod
    def of(
        cls, min_pai: float, values, mask, sel, area_m2: float, min_incidents: int = 1
    ) -> HotFloor:
        """The floor for ``sel``'s incidents on a study area of ``area_m2`` square metres,
        with the surface ``values`` over its cells ``mask``; a zone also needs
        ``min_incidents`` of them."""
        x, y = xy(sel)
        mean = float(values[mask].mean()) if mask.any() else 0.0
        per_m2 = min_pai * len(sel) / area_m2
        return cls(min_pai, min_pai * mean, per_m2, x, y, int(min_incidents))

    def count(self, shape) -> int:
        """The incidents in ``shape`` (edges included; only those in its bounding box are
        tested, by :func:`~impactzones.core.geometry.locate_all`)."""
        return int(np.count_nonzero(locate_all(self.x, self.y, [shape])))

    def zone_ok(self, shape, n: int | None = None) -> bool:
        """Whether ``shape`` holds at least ``min_incidents`` incidents and ``min_pai``
        times the city's incidents per m^2 (``n``: its incidents, when counted already)."""
        n = self.count(shape) if n is None else n
        return n >= self.min_incidents and (self.min_pai <= 0 or n >= self.per_m2 * shape.area)


def _grow_zones(grid, values, area, blocked, c: Constraints, params: dict, layers, hot):
    """Grow, outline and keep clear, one zone at a time, hottest seed first, until ``k``
    zones, the budget, the hot spots (``hot``) or the room runs out. Returns the shapes,
    their incidents (counted once, for the floor and the table) and which limit stopped."""
    free = grid.mask & ~grid.centres_in(blocked)
    floor = params["floor"]
    floor_value = float(np.quantile(values[free], floor)) if floor and free.any() else 0.0
    shapes: list = []
    hits: list[int] = []
    left = c.budget_km2 * 1e6 if c.budget_km2 is not None else math.inf  # m^2
    smallest = c.min_area_km2 * 1e6 * (1 - 1e-9)
    k = params["k"] or int(math.floor(left / (c.min_area_km2 * 1e6) + 1e-9))
    tries, stopped = 0, ""
    while not stopped and len(shapes) < k and tries < 4 * k + 4 and left >= smallest:
        tries += 1
        region = _grow(values, free, grid.cell_area_km2, c, params["threshold"], floor_value)
        if region is None or values[region].max() < hot.seed:
            stopped = "room" if region is None else "hot"
            break
        allowed = shapely.difference(area, blocked)
        shape = _outline(region, grid, allowed, c)
        free &= ~region  # never try these cells again, whatever happens to the outline
        if shape is not None and params["snap"] == "neighborhoods" and layers is not None:
            if layers.neighborhoods is not None:
                shape = _snap(shape, layers.neighborhoods, allowed, c) or shape
        if shape is not None and shape.area > left:  # the budget's last zone: shrunk to fit
            shape = _fit_area(shape, allowed, left, shrink=True)
            if shape is None or shape.area < smallest:
                stopped = "budget"
                break
        n = hot.count(shape) if shape is not None else 0
        if shape is None or not hot.zone_ok(shape, n):
            continue
        around = shape.buffer(c.gap_m * GAP_PAD, quad_segs=BUFFER_SEGMENTS)
        blocked = shapely.union(blocked, around)
        free &= ~grid.centres_in(around)
        shapes.append(shape)
        hits.append(n)
        left -= shape.area
    if not stopped:
        stopped = (
            "k" if params["k"] and len(shapes) >= k else "budget" if left < smallest else "room"
        )
    return shapes, hits, stopped


def _zone_table(shapes, hits, n_sel: int, crs, area_km2: float, layers, window,
                params) -> gpd.GeoDataFrame:  # fmt: skip
    """The ranked candidates (``hits``: the incidents in each of ``shapes``, of ``n_sel``
    in the period) with their figures, names, places, power and summary."""
    grown = range(len(shapes))
    out = gpd.GeoDataFrame({"incidents": hits, "grown": grown}, geometry=shapes, crs=crs)
    out["area_km2"] = out.area / 1e6
    out["share"] = out["incidents"] / n_sel
    out["pai"] = out["share"] / (out["area_km2"] / area_km2)
    out["per_km2"] = out["incidents"] / out["area_km2"]
    out = out.sort_values("per_km2", ascending=False, ignore_index=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["name"] = [f"Proposal {_letters(i)}" for i in range(len(out))]
    nb = layers.neighborhoods if layers is not None else None
    dist = layers.districts if layers is not None else None
    out["neighborhoods"] = ["; ".join(_covers(g, nb, "name")) for g in out.geometry]
    out["districts"] = ["; ".join(_covers(g, dist, "district")) for g in out.geometry]
    out["method"] = params["method"]
    out["period"] = window.label
    out["params"] = (
        f"{params['surface']}; {params['cell_size_m']:g} m cells; growth threshold "
        f"{params['threshold']:g}; areas {params['min_area_km2']:g} to "
        f"{params['max_area_km2']:g} km^2; gap {params['gap_m']:g} m; period {window.label}"
        + (f"; snapped to {params['snap']}" if params["snap"] else "")
        + (
            f"; hot spots only: at least {params['min_pai']:g} times the city's density"
            f" and {params['min_incidents']} incidents"
            if params["min_pai"]
            else ""
        )
    )
    _summarise(out, params, window, area_km2)
    return out[[*COLUMNS, "grown"]]


def _summarise(out: gpd.GeoDataFrame, params: dict, window, area_km2: float) -> None:
    """Each zone in a sentence, with what a year-on-year test could see there."""
    from ..evaluate.power import zone_power

    cat = params["category"]
    crime = params["group"] or ", ".join([cat] if isinstance(cat, str) else cat or [])
    summary = [
        f"{r.name}, {r.area_km2:.2f} km^2"
        + (f" around {_first(r.neighborhoods, 2)}" if r.neighborhoods else "")
        + f", held {r.share:.1%} of {crime} crime in {window.label} on "
        f"{_pct(r.area_km2 / area_km2)} of the city's area (PAI {r.pai:.1f})."
        for r in out.itertuples()
    ]
    per_year = out["incidents"].astype(float) * 365.25 / window.days
    powers = [zone_power(b, where="this zone") if b > 0 else None for b in per_year]
    out["power_20"] = [pw.power if pw else float("nan") for pw in powers]
    out["mde_80"] = [pw.mde_pct if pw else float("nan") for pw in powers]
    out["summary"] = [
        s if pw is None else f"{s} {pw.verdict.split(' (')[0]}, a year against a year."
        for s, pw in zip(summary, powers, strict=True)
    ]


def _pct(share: float) -> str:
    """A share as a percentage, with two decimals below 1% (a micro-place's area)."""
    return f"{share:.2%}" if share < 0.01 else f"{share:.1%}"


def _letters(i: int) -> str:
    """A, B, ..., Z, AA, AB, ...: the ``i``-th name (from 0), as spreadsheet columns."""
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = LETTERS[r] + name
    return name


def _covers(geom, layer: gpd.GeoDataFrame | None, col: str, min_share: float = 0.05):
    """Names in ``layer`` that cover at least ``min_share`` of ``geom``'s area."""
    if layer is None or len(layer) == 0:
        return []
    out = []
    geoms, names = layer.geometry.to_numpy(), layer[col].tolist()
    for i in np.flatnonzero(shapely.intersects(geoms, geom)):  # one call for the whole layer
        share = geoms[i].intersection(geom).area / geom.area
        if share >= min_share:
            out.append((share, str(names[i])))
    return [n for _, n in sorted(out, reverse=True)]


def _first(names: str, n: int) -> str:
    parts = [p for p in names.split("; ") if p]
    return " and ".join(parts[:n]) if len(parts) <= n else ", ".join(parts[:n]) + " and others"

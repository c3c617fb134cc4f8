"""Synthetic St. Louis incidents with a known truth.

The generator reproduces the published citywide counts (``seed_counts.csv``) exactly, for
every year and category, and plants what the analyses should find:

* **space**: a background proportional to neighborhood population (uniform within each
  neighborhood's land), plus hot spots (isotropic Gaussians, and a corridor along Washington
  Avenue downtown). Violent and property crime have different hot spots.
* **time**: monthly seasonality (a summer peak for violent crime) and an hour-of-day profile.
* **zone effects**: violent crime inside the North Impact Zone is exactly 20% lower in 2018
  than in 2017 (the published figure) while the citywide totals still match the table; the
  Central and South zones get a configurable 2019 effect, compared on the same calendar
  window (1 January to 1 September) of 2018; optional displacement into each zone's ring.

Every planted element is returned with the incidents (:class:`SynthResult`), so tests and
analysts can check a method against the truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from ..core.collect import fewer_collections
from ..core.defaults import RING
from ..core.errors import InputError
from ..core.geo import WGS84, Layers, st_louis
from ..core.geometry import locate_all
from ..core.schema import COLUMNS, PART_I, group_of

__all__ = [
    "HotSpot",
    "SynthResult",
    "ZoneEffect",
    "add_near_repeats",
    "default_effects",
    "published_counts",
    "synthesize",
    "write_partitions",
    "write_truth",
]

# --------------------------------------------------------------------------------------
# The published table
# --------------------------------------------------------------------------------------


def published_counts() -> pd.DataFrame:
    """The published St. Louis Part I counts, 2013 to 2019 (2019 through 1 September).

    Columns: ``year, category, group, count, period_start, period_end, note``. The
    ``carjacking`` rows (2018, 2019) are a subset of ``robbery`` and never add to totals.

    Examples
    --------
    >>> t = published_counts()
    >>> violent = t.query("group == 'violent' and category != 'carjacking'")
    >>> int(violent.loc[violent["year"] == 2017, "count"].sum())
    6459
    """
    path = resources.files("impactzones.datasets") / "seed_counts.csv"
    with resources.as_file(path) as p:
        table = pd.read_csv(p, parse_dates=["period_start", "period_end"])
    table["note"] = table["note"].fillna("")
    return table


# --------------------------------------------------------------------------------------
# Planted truth: hot spots and zone effects
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HotSpot:
    """One planted hot spot.

    Parameters
    ----------
    name : str
        A readable name (``"Walnut Park East"``).
    group : {"violent", "property"}
        Which crime group it draws.
    share : float
        Expected share of that group's incidents drawn from this hot spot (0 to 1).
    lon, lat : float
        Centre (WGS 84 degrees); for a corridor, its first end.
    sigma : float
        Spread in metres: the Gaussian's standard deviation, or a corridor's half width.
    lon2, lat2 : float, optional
        A corridor's second end; ``None`` for a point hot spot.
    zone : str, optional
        The Impact Zone it lies under, if any (for the record).
    """

    name: str
    group: str
    share: float
    lon: float
    lat: float
    sigma: float = 300.0
    lon2: float | None = None
    lat2: float | None = None
    zone: str | None = None

    @property
    def kind(self) -> str:
        return "corridor" if self.lon2 is not None else "point"


WASHINGTON_AVE: dict[str, Any] = dict(lon=-90.1880, lat=38.6305, lon2=-90.2080, lat2=38.6350)

#: The default hot spots: the Washington Avenue corridor downtown (the report's most
#: prominent pattern), north-end violent hot spots (two under the North zone), violent hot
#: spots under the Central and South zones, and property hot spots in commercial areas.
DEFAULT_HOTSPOTS: tuple[HotSpot, ...] = (
    HotSpot("Walnut Park East", "violent", 0.060, -90.2511, 38.6982, zone="North"),
    HotSpot("Mark Twain", "violent", 0.050, -90.2435, 38.6917, zone="North"),
    HotSpot("JeffVanderLou", "violent", 0.070, -90.2220, 38.6502, zone="Central"),
    HotSpot("Dutchtown", "violent", 0.060, -90.2482, 38.5783, zone="South"),
    HotSpot("Gravois Park", "violent", 0.050, -90.2352, 38.5900, zone="South"),
    HotSpot("Baden", "violent", 0.030, -90.2343, 38.7159),
    HotSpot("Wells Goodfellow", "violent", 0.030, -90.2719, 38.6776),
    HotSpot("O'Fallon", "violent", 0.025, -90.2255, 38.6740),
    HotSpot("Hamilton Heights", "violent", 0.020, -90.2783, 38.6679),
    HotSpot("Washington Avenue", "violent", 0.020, sigma=70.0, **WASHINGTON_AVE),
    HotSpot("Washington Avenue", "property", 0.100, sigma=70.0, **WASHINGTON_AVE),
    HotSpot("Central West End", "property", 0.060, -90.2526, 38.6408, sigma=350.0),
    HotSpot("Downtown", "property", 0.040, -90.1909, 38.6257, sigma=350.0),
    HotSpot("Soulard", "property", 0.040, -90.2098, 38.6036, sigma=350.0),
    HotSpot("The Loop", "property", 0.035, -90.2937, 38.6508, sigma=350.0),
    HotSpot("South Grand", "property", 0.035, -90.2374, 38.6010, sigma=350.0),
    HotSpot("Bevo Mill", "property", 0.025, -90.2661, 38.5794, sigma=350.0),
)


@dataclass(frozen=True)
class ZoneEffect:
    """A planted change in one zone (and optionally its ring) between two windows.

    The number of incidents of ``group`` inside ``zone`` during ``window`` of ``year`` is
    exactly ``(1 + change)`` times the number in the same window of ``baseline_year``.

    Parameters
    ----------
    zone : str
        Zone name, as in the zones layer.
    baseline_year, year : int
        The years compared.
    change : float
        Relative change, e.g. ``-0.20`` for a 20% fall. The baseline count is rounded to a
        multiple that makes the effect-year count a whole number, so the change is exact.
    group : str
        Crime group the effect applies to (default ``"violent"``).
    window : (str, str)
        Month-day bounds ``("MM-DD", "MM-DD")``, inclusive; default the whole year.
    ring_change : float, optional
        If set, the ring's count changes by exactly this much too (positive: displacement;
        negative: diffusion of benefits). ``None`` leaves the ring to chance.
    """

    zone: str
    baseline_year: int
    year: int
    change: float
    group: str = "violent"
    window: tuple[str, str] = ("01-01", "12-31")
    ring_change: float | None = None


def default_effects(central_south_change: float = -0.15) -> tuple[ZoneEffect, ...]:
    """The published story: North -20% (2017 to 2018), Central and South 2019 effects.

    Central and South are compared on 1 January to 1 September, the window of the
    published 2019 counts.

    Examples
    --------
    >>> [(e.zone, e.baseline_year, e.year, e.change) for e in default_effects()]
    [('North', 2017, 2018, -0.2), ('Central', 2018, 2019, -0.15), ('South', 2018, 2019, -0.15)]
    """
    partial = ("01-01", "09-01")
    return (
        ZoneEffect("North", 2017, 2018, -0.20),
        ZoneEffect("Central", 2018, 2019, central_south_change, window=partial),
        ZoneEffect("South", 2018, 2019, central_south_change, window=partial),
    )


# --------------------------------------------------------------------------------------
# Time profiles
# --------------------------------------------------------------------------------------

_HOURS = np.arange(24)
#: Relative frequency by hour of day: violent crime peaks late evening, property by day.
HOUR_PROFILE = {
    "violent": 1.0 + 0.9 * np.cos(2 * np.pi * (_HOURS - 22) / 24) + 0.15,
    "property": 1.0 + 0.6 * np.cos(2 * np.pi * (_HOURS - 14) / 24) + 0.05,
}
#: Relative frequency by month: a summer peak (July) for violent crime, a milder one for
#: property crime (August).
MONTH_PROFILE = {
    "violent": 1.0 + 0.18 * np.cos(2 * np.pi * (np.arange(1, 13) - 7) / 12),
    "property": 1.0 + 0.08 * np.cos(2 * np.pi * (np.arange(1, 13) - 8) / 12),
}
FIREARM_SHARE = {"homicide": 0.88, "robbery": 0.55, "aggravated_assault": 0.45, "rape": 0.03}
DOMESTIC_SHARE = {"homicide": 0.10, "aggravated_assault": 0.22, "rape": 0.35}


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------


@dataclass
class SynthResult:
    """Synthetic incidents and the truth planted in them.

    Attributes
    ----------
    incidents : GeoDataFrame
        Incidents in the schema of :mod:`impactzones.core.schema`, in the layers' CRS (metres).
    hotspots : GeoDataFrame
        The planted hot spots: name, group, share, sigma (m), kind, zone; geometry is the
        centre point (a corridor's midpoint; its line is in ``line_wkt``).
    effects : DataFrame
        The planted zone effects with the exact counts they produced: ``zone, group,
        baseline_year, year, window_start, window_end, baseline_count, count, change``.
    params : dict
        The generator's settings (seed, scale, effects), for the record.
    """

    incidents: gpd.GeoDataFrame
    hotspots: gpd.GeoDataFrame
    effects: pd.DataFrame
    params: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Spatial sampling
# --------------------------------------------------------------------------------------


def _cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative weights ``rng.choice(len(p), size, p=p)`` builds at every call."""
    cdf = np.asarray(p, dtype=float).cumsum()
    cdf /= cdf[-1]
    return cdf


def _choice(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """``rng.choice(len(p), size=n, p=p)``, the same draws bit for bit (numpy's own steps:
    one uniform per draw, searched in the cumulative weights), with ``cdf = _cdf(p)`` made
    once instead of at every call."""
    return cdf.searchsorted(rng.random(n), side="right").astype(np.int64, copy=False)


class _Sampler:
    """Draws points from a group's mixture (population background + hot spots)."""

    def __init__(self, layers: Layers, hotspots, group: str, rng_seed: int, background: tuple):
        self.group = group
        # the land and its population triangles: the same for every group (_background)
        self.land, self.tri, self.tri_cdf = background
        to_m = Transformer.from_crs(WGS84, layers.crs, always_xy=True)
        self.spots = []
        for h in hotspots:
            if h.group != group:
                continue
            x, y = to_m.transform(h.lon, h.lat)
            if h.lon2 is not None:
                x2, y2 = to_m.transform(h.lon2, h.lat2)
            else:
                x2, y2 = x, y
            self.spots.append((h.share, x, y, x2, y2, h.sigma, h.lon2 is not None))
        total = sum(s[0] for s in self.spots)
        if total >= 1:
            raise InputError(f"The {group} hot-spot shares add to {total:.2f}; keep them below 1.")
        self.weights_cdf = _cdf(np.array([1.0 - total] + [s[0] for s in self.spots]))

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points (x, y in metres) from the mixture, all on land inside the city."""
        from ..core.points import in_study_area  # numba's raster index: loaded when drawing
        x = np.empty(n)
        y = np.empty(n)
        todo = np.arange(n)
        while len(todo):
            px, py = self._draw_raw(rng, len(todo))
            ok = in_study_area(px, py, self.land, boundary=False)  # contains_xy, indexed
            x[todo[ok]] = px[ok]
            y[todo[ok]] = py[ok]
            todo = todo[~ok]
        return x, y

    def _draw_raw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        comp = _choice(rng, self.weights_cdf, n)
        x = np.empty(n)
        y = np.empty(n)
        bg = np.flatnonzero(comp == 0)
        if len(bg):
            t = self.tri[_choice(rng, self.tri_cdf, len(bg))]
            r1 = rng.random(len(bg))
            r2 = rng.random(len(bg))
            flip = r1 + r2 > 1
            r1[flip] = 1 - r1[flip]
            r2[flip] = 1 - r2[flip]
            pts = t[:, 0] + r1[:, None] * (t[:, 1] - t[:, 0]) + r2[:, None] * (t[:, 2] - t[:, 0])
            x[bg] = pts[:, 0]
            y[bg] = pts[:, 1]
        for k, (_, sx, sy, sx2, sy2, sigma, corridor) in enumerate(self.spots, start=1):
            idx = np.flatnonzero(comp == k)
            m = len(idx)
            if not m:
                continue
            if corridor:
                u = rng.random(m)
                dx, dy = sx2 - sx, sy2 - sy
                length = np.hypot(dx, dy)
                off = rng.normal(0, sigma, m)
                x[idx] = sx + u * dx - off * dy / length
                y[idx] = sy + u * dy + off * dx / length
            else:
                x[idx] = rng.normal(sx, sigma, m)
                y[idx] = rng.normal(sy, sigma, m)
        return x, y


def _background(layers: Layers) -> tuple:
    """What every group's background draws from: the land inside the city (the
    neighborhoods, which stop at the river, clipped to the study area: their edges stray a
    few metres past the city limit in places), prepared, and the triangles of the
    neighborhoods (n x 3 x 2 corners, metres) with their cumulative weights (population
    density, :func:`_cdf`)."""
    nb = layers.neighborhoods
    if nb is None or "population" not in nb:
        raise InputError("Synthetic incidents need neighborhoods with a population column.")
    land = layers.land  # the union of the neighborhoods clipped to the study area
    shapely.prepare(land)
    tri_xy, tri_w = [], []
    for geom, pop in zip(nb.geometry, nb["population"], strict=True):
        if pop <= 0 or geom.is_empty:
            continue
        tris = shapely.get_parts(shapely.constrained_delaunay_triangles(geom))
        if len(tris) == 0:
            continue
        coords = shapely.get_coordinates(shapely.get_exterior_ring(tris)).reshape(-1, 4, 2)
        a = coords[:, 0]
        b = coords[:, 1]
        c = coords[:, 2]
        area = 0.5 * np.abs(
            (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
        )
        tri_xy.append(np.stack([a, b, c], axis=1))
        tri_w.append(area / area.sum() * pop)
    w = np.concatenate(tri_w)
    return land, np.concatenate(tri_xy), _cdf(w / w.sum())


def _inside(region, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``shapely.intersects_xy(region, x, y)``, testing only the points in the region's
    bounding box (:func:`~impactzones.core.geometry.locate_all`: a zone or ring is a small
    part of the city, most points are not)."""
    return locate_all(x, y, [region])[:, 0]


def _region_polygons(layers: Layers, ring: float):
    """Zone polygons and their rings (the same rings :func:`impactzones.assign.assign`
    uses), by zone name, prepared for point tests."""
    from ..core.geometry import ring_polygons

    names = [str(n) for n in layers.zones["name"]]
    zones = dict(zip(names, layers.zones.geometry, strict=True))
    rings = dict(zip(names, ring_polygons(layers.zones, ring, layers.study_area), strict=True))
    for g in [*zones.values(), *rings.values()]:
        shapely.prepare(g)
    return zones, rings


# --------------------------------------------------------------------------------------
# Time sampling
# --------------------------------------------------------------------------------------


def _days(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="D")


def _draw_times(rng, n: int, days: pd.DatetimeIndex, group: str) -> np.ndarray:
    month_w = MONTH_PROFILE.get(group, MONTH_PROFILE["property"])[days.month.to_numpy() - 1]
    p = month_w / month_w.sum()
    day = rng.choice(len(days), size=n, p=p)
    hp = HOUR_PROFILE.get(group, HOUR_PROFILE["property"])
    hour = rng.choice(24, size=n, p=hp / hp.sum())
    minute = rng.integers(0, 60, size=n)
    base = days.to_numpy()[day].astype("datetime64[m]")
    return base + (hour * 60 + minute).astype("timedelta64[m]")


def _in_window(times: np.ndarray, year: int, window: tuple[str, str]) -> np.ndarray:
    lo = np.datetime64(f"{year}-{window[0]}T00:00", "m")
    hi = np.datetime64(f"{year}-{window[1]}T23:59", "m")
    return (times >= lo) & (times <= hi)


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that add up to ``total`` exactly."""
    weights = np.asarray(weights, dtype=float)
    if total == 0 or weights.sum() == 0:
        out = np.zeros(len(weights), dtype=int)
        if total:
            out[0] = total
        return out
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(int)
    rest = total - out.sum()
    order = np.lexsort((np.arange(len(raw)), -(raw - out)))
    out[order[:rest]] += 1
    return out


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


@fewer_collections(pause=True)  # a point object per incident, and no garbage cycles
def synthesize(
    seed: int = 2018,
    scale: float = 1.0,
    *,
    years: list[int] | None = None,
    layers: Layers | None = None,
    hotspots: tuple[HotSpot, ...] = DEFAULT_HOTSPOTS,
    effects: tuple[ZoneEffect, ...] | None = None,
    ring: float = RING.default,
    counts: pd.DataFrame | None = None,
) -> SynthResult:
    """Generate synthetic incidents calibrated to the published St. Louis counts.

    Parameters
    ----------
    seed : int, default 2018
        Random seed; the same seed and settings give the same incidents, bit for bit.
    scale : float, default 1.0
        Multiplies every count (rounded to whole incidents). ``scale=6`` gives about 1M
        incidents, for benchmarks.
    years : list of int, optional
        Years to generate (default: every year in the table, 2013 to 2019).
    layers : Layers, optional
        Boundary, neighborhoods (with ``population``) and zones; default the bundled
        St. Louis layers.
    hotspots : tuple of HotSpot
        Planted hot spots; default :data:`DEFAULT_HOTSPOTS`.
    effects : tuple of ZoneEffect, optional
        Planted zone effects; default :func:`default_effects` (North -20% 2017 to 2018;
        Central and South -15% 2018 to 2019 on 1 January to 1 September). Effects whose
        zone is not in the layers, or whose two years are not both generated, are left out.
    ring : float, default 400
        Width in metres of the displacement ring used by effects with ``ring_change``.
    counts : DataFrame, optional
        A table like :func:`published_counts` to calibrate to instead.

    Returns
    -------
    SynthResult
        The incidents (working CRS, metres) and the planted truth.

    Examples
    --------
    >>> res = synthesize(seed=1, years=[2017, 2018])
    >>> int((res.incidents["occurred_at"].dt.year == 2017).sum())
    25204
    >>> res.effects.loc[0, ["zone", "baseline_count", "count"]].tolist()  # doctest: +SKIP
    ['North', 1035, 828]
    """
    ring = RING.check(ring)
    if not np.isfinite(scale) or scale <= 0:
        raise InputError(f"scale must be a positive number, got {scale!r}.")
    layers = layers or st_louis()
    table = _counts_to_match(counts, years)
    effects = _effects_that_apply(default_effects() if effects is None else effects, layers, table)
    background = _background(layers)
    groups = ("violent", "property")
    samplers = {g: _Sampler(layers, hotspots, g, seed, background) for g in groups}
    zones, rings = _region_polygons(layers, ring)
    regions = {"zone": zones, "ring": rings}
    share = _expected_shares(samplers, zones, rings, seed)
    periods, n_by, carjack_by = _counts_by_year(table, scale)
    times = _incident_times(n_by, periods, seed)
    targets, records = _planted_targets(effects, share, times)
    parts = []
    for year in sorted({y for y, _ in n_by}):
        for group in ("violent", "property"):
            cats = [c for c in PART_I if group_of(c) == group and (year, c) in n_by]
            if cats:
                alloc = _split_targets(targets, times, year, group, cats)
                for ci, cat in enumerate(cats):
                    placed = {k: int(v[ci]) for k, v in alloc.items()}
                    x, y = _place(samplers[group], regions, targets, times, placed, year, cat, seed)
                    parts.append(_attributes(seed, year, cat, times[(year, cat)], x, y))
    inc = _in_time_order(parts)
    _flag_carjackings(inc, n_by, carjack_by, seed)
    return SynthResult(
        incidents=_with_ids(inc, layers),
        hotspots=_hotspot_frame(hotspots, layers),
        effects=pd.DataFrame(records),
        params={
            "seed": seed,
            "scale": scale,
            "years": sorted({y for y, _ in n_by}),
            "ring_m": ring,
            "effects": [asdict(e) for e in effects],
        },
    )


def _counts_to_match(counts: pd.DataFrame | None, years: list[int] | None) -> pd.DataFrame:
    """The published table (or the one given), Part I and carjacking rows, of the years."""
    table = published_counts() if counts is None else counts.copy()
    table = table[table["category"].isin(PART_I) | (table["category"] == "carjacking")]
    if years is not None:
        missing = set(years) - set(table["year"])
        if missing:
            raise InputError(f"No published counts for year(s) {sorted(missing)}.")
        table = table[table["year"].isin(years)]
    return table


def _effects_that_apply(effects, layers: Layers, table: pd.DataFrame) -> tuple[ZoneEffect, ...]:
    """Effects apply only where their zone exists and both of their years are generated."""
    zone_names = set(layers.zones["name"].astype(str))
    generated = set(table["year"].astype(int))
    return tuple(
        e for e in effects if e.zone in zone_names and {e.baseline_year, e.year} <= generated
    )


def _expected_shares(samplers: dict, zones: dict, rings: dict, seed: int) -> dict:
    """Expected share of each group's incidents inside each zone / ring (Monte Carlo):
    ``(group, "zone" or "ring", zone name) -> share``."""
    calib_rng = np.random.default_rng([seed, 7])
    share = {}
    for g, s in samplers.items():
        cx, cy = s.draw(calib_rng, 200_000)
        for name in zones:
            share[(g, "zone", name)] = _inside(zones[name], cx, cy).mean()
            share[(g, "ring", name)] = _inside(rings[name], cx, cy).mean()
    return share


def _counts_by_year(table: pd.DataFrame, scale: float):
    """Each year's period (first and last day), the incidents to draw per (year,
    category), and the carjackings per year (a subset of the robberies), scaled."""
    periods = (
        table.groupby("year")[["period_start", "period_end"]]
        .first()
        .apply(lambda r: (r["period_start"].date(), r["period_end"].date()), axis=1)
    )
    n_by = {
        (int(r.year), r.category): round(r.count * scale)
        for r in table.itertuples()
        if r.category != "carjacking"
    }
    carjack_by = {
        int(r.year): round(r.count * scale)
        for r in table.itertuples()
        if r.category == "carjacking"
    }
    return periods, n_by, carjack_by


def _incident_times(n_by: dict, periods, seed: int) -> dict[tuple[int, str], np.ndarray]:
    """Times first (they decide which incidents fall in each effect's window)."""
    times: dict[tuple[int, str], np.ndarray] = {}
    for (year, cat), n in sorted(n_by.items()):
        rng = np.random.default_rng([seed, year, PART_I.index(cat), 1])
        times[(year, cat)] = np.sort(_draw_times(rng, n, _days(*periods[year]), group_of(cat)))
    return times


def _planted_targets(effects, share: dict, times: dict):
    """Exact counts to plant, ``(year, "zone" or "ring", zone, group) -> (window, count)``,
    and the record of each effect: the before count is the expected one rounded to a
    multiple that makes the change exact, the after count that times ``1 + change``."""
    targets: dict[tuple[int, str, str, str], tuple[tuple[str, str], int]] = {}
    records = []
    for e in effects:
        for kind, change in (("zone", e.change), ("ring", e.ring_change)):
            if change is None:
                continue
            cats = [c for c in PART_I if group_of(c) == e.group]
            expected = sum(
                share[(e.group, kind, e.zone)]
                * _in_window(times[(e.baseline_year, c)], e.baseline_year, e.window).sum()
                for c in cats
                if (e.baseline_year, c) in times
            )
            step = Fraction(1 + change).limit_denominator(1000).denominator
            base = max(step, round(expected / step) * step)
            after = round(base * (1 + change))
            for key, value in (
                ((e.baseline_year, kind, e.zone, e.group), base),
                ((e.year, kind, e.zone, e.group), after),
            ):
                if key in targets and targets[key] != (e.window, value):
                    raise InputError(
                        f"Two planted effects set the {kind} of {e.zone} in {key[0]}; "
                        "give each zone one effect per year."
                    )
                targets[key] = (e.window, value)
            records.append(
                {
                    "zone": e.zone,
                    "area": kind,
                    "group": e.group,
                    "baseline_year": e.baseline_year,
                    "year": e.year,
                    "window_start": e.window[0],
                    "window_end": e.window[1],
                    "baseline_count": base,
                    "count": after,
                    "change": change,
                }
            )
    return targets, records


def _split_targets(targets: dict, times: dict, year: int, group: str, cats: list[str]) -> dict:
    """Each of the year's targets for the group, split across its categories in proportion
    to how many of their incidents fall in the window: ``(kind, zone) -> counts``."""
    alloc: dict[tuple[str, str], np.ndarray] = {}
    for (ty, kind, zone, tg), (window, total) in targets.items():
        if ty != year or tg != group:
            continue
        eligible = np.array([_in_window(times[(year, c)], year, window).sum() for c in cats], float)
        alloc[(kind, zone)] = _largest_remainder(total, eligible)
    return alloc


def _place(sampler, regions: dict, targets: dict, times: dict, placed: dict, year, cat, seed):
    """Locations (x, y) of one category's incidents in a year: the planted number in each
    constrained zone or ring during its window, everyone else from the natural mixture but
    never inside a constrained region during that region's window (that count is fixed)."""
    group = group_of(cat)
    rng = np.random.default_rng([seed, year, PART_I.index(cat), 2])
    t = times[(year, cat)]
    n = len(t)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    free = np.ones(n, bool)
    constraints = []
    for (kind, zone), k in placed.items():
        elig = _in_window(t, year, targets[(year, kind, zone, group)][0])
        region = regions[kind][zone]
        constraints.append((region, elig))
        cand = np.flatnonzero(elig & free)
        if k > len(cand):
            raise InputError(
                f"Cannot plant {k} {cat} incidents in the {zone} {kind}: only "
                f"{len(cand)} fall in the window."
            )
        pick = np.sort(rng.choice(cand, size=k, replace=False))
        x[pick], y[pick] = _draw_in(sampler, rng, region, k)
        free[pick] = False
    todo = np.flatnonzero(free)
    while len(todo):
        px, py = sampler.draw(rng, len(todo))
        bad = np.zeros(len(todo), bool)
        for region, elig in constraints:
            bad |= elig[todo] & _inside(region, px, py)
        ok = ~bad
        x[todo[ok]] = px[ok]
        y[todo[ok]] = py[ok]
        todo = todo[bad]
    return x, y


def _flag_carjackings(inc: dict, n_by: dict, carjack_by: dict, seed: int) -> None:
    """Carjackings: flag robberies (never extra incidents), as many as published (or, for
    a year without a figure, the 2018 share of robberies); most involve a firearm. Sets
    ``inc["carjacking"]`` and updates ``inc["firearm"]`` (arrays in time order)."""
    carjacking = np.zeros(len(inc["x"]), dtype=bool)
    rob_share = None
    if 2018 in carjack_by and (2018, "robbery") in n_by:
        rob_share = carjack_by[2018] / max(n_by[(2018, "robbery")], 1)
    robbery = inc["category_code"] == PART_I.index("robbery")
    for year in sorted({y for y, _ in n_by}):
        rob = np.flatnonzero(robbery & (inc["year"] == year))
        n_cj = carjack_by.get(year)
        if n_cj is None:
            if rob_share is None:
                continue
            n_cj = round(rob_share * len(rob))
        rng = np.random.default_rng([seed, year, 99])
        carjacking[rng.choice(rob, size=min(n_cj, len(rob)), replace=False)] = True
    fire = inc["firearm"].copy()
    fire[carjacking] = np.random.default_rng([seed, 98]).random(carjacking.sum()) < 0.85
    inc["carjacking"] = carjacking
    inc["firearm"] = fire


def _in_time_order(parts: list[dict]) -> dict:
    """The categories' arrays as one, in time order (ties: by category name, then in the
    order drawn: a stable sort), with each incident's year and category code."""
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    by_name = {c: r for r, c in enumerate(sorted(PART_I))}
    name_rank = np.array([by_name[c] for c in PART_I])[cols["category_code"]]
    order = np.lexsort((name_rank, cols["occurred_at"]))
    inc = {k: v[order] for k, v in cols.items()}
    inc["year"] = inc["occurred_at"].astype("datetime64[Y]").astype(int) + 1970
    return inc


def _with_ids(inc: dict, layers: Layers) -> gpd.GeoDataFrame:
    """The incidents in the standard columns, with ids ``S<year>-<7 digits>`` (numbered
    in time order within each year), as points."""
    codes = inc["category_code"]
    # a few labels taken by position (an Arrow take), not a Python string per incident
    names = pd.array(list(PART_I), dtype="str")
    groups = pd.array([group_of(c) for c in PART_I], dtype="str")
    frame = pd.DataFrame(
        {
            "incident_id": _incident_ids(inc["year"]),
            "occurred_at": inc["occurred_at"].astype("datetime64[ns]"),
            "category": names.take(codes),
            "group": groups.take(codes),
            "carjacking": inc["carjacking"],
            "firearm": inc["firearm"],
            "domestic": inc["domestic"],
        }
    )
    return gpd.GeoDataFrame(
        frame[[c for c in COLUMNS if c != "geometry"]],
        geometry=gpd.points_from_xy(inc["x"], inc["y"]),
        crs=layers.crs,
    )


def _draw_in(sampler: _Sampler, rng, region, k: int):
    """``k`` points from the mixture, conditioned on falling inside ``region``."""
    xs, ys = [], []
    need = k
    tries = 0
    while need > 0:
        px, py = sampler.draw(rng, max(4 * need, 1000))
        inside = _inside(region, px, py)
        xs.append(px[inside][:need])
        ys.append(py[inside][:need])
        need -= len(xs[-1])
        tries += 1
        if tries > 200:
            raise InputError("A planted zone gets almost no incidents; check the zone layer.")
    return np.concatenate(xs) if xs else np.empty(0), np.concatenate(ys) if ys else np.empty(0)


def _incident_ids(year: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``S<year>-<number>``, numbered from 1 within each year in the order given, the
    number zero-padded to 7 digits."""
    order = np.argsort(year, kind="stable")
    _, first, size = np.unique(year[order], return_index=True, return_counts=True)
    seq = np.empty(len(year), dtype=np.int64)
    seq[order] = np.arange(1, len(year) + 1) - np.repeat(first, size)
    if len(year) and (seq.max() >= 10**7 or year.min() < 1000 or year.max() > 9999):
        return pd.array([f"S{y}-{i:07d}" for y, i in zip(year, seq, strict=True)], dtype="str")
    chars = np.empty((len(year), 13), dtype=np.uint8)  # the text, one ASCII byte a column
    chars[:, 0], chars[:, 5] = ord("S"), ord("-")
    for col, (value, power) in enumerate([(year, p) for p in range(3, -1, -1)]
                                         + [(seq, p) for p in range(6, -1, -1)]):  # fmt: skip
        chars[:, col + 1 + (col >= 4)] = value // 10**power % 10 + ord("0")
    return _ascii_strings(chars)


def _ascii_strings(chars: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """The rows of ``chars`` (n x width ASCII bytes) as a pandas string array, its Arrow
    buffers made from the bytes as they are (no Python string per row)."""
    import pyarrow as pa

    n, width = chars.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
    data = np.ascontiguousarray(chars).ravel()
    text = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    return pd.array(text, dtype="str")


def _attributes(seed: int, year: int, cat: str, t, x, y) -> dict:
    """One category's incidents of a year as arrays: times, category code (its place in
    ``PART_I``), firearm and domestic flags, and the points' coordinates."""
    rng = np.random.default_rng([seed, year, PART_I.index(cat), 3])
    n = len(t)
    return {
        "occurred_at": t,
        "category_code": np.full(n, PART_I.index(cat)),
        "firearm": rng.random(n) < FIREARM_SHARE.get(cat, 0.0),
        "domestic": rng.random(n) < DOMESTIC_SHARE.get(cat, 0.0),
        "x": x,
        "y": y,
    }


def _hotspot_frame(hotspots, layers: Layers) -> gpd.GeoDataFrame:
    to_m = Transformer.from_crs(WGS84, layers.crs, always_xy=True)
    rows = []
    for h in hotspots:
        x, y = to_m.transform(h.lon, h.lat)
        line = None
        if h.lon2 is not None:
            x2, y2 = to_m.transform(h.lon2, h.lat2)
            line = shapely.LineString([(x, y), (x2, y2)]).wkt
            x, y = (x + x2) / 2, (y + y2) / 2
        rows.append(
            {
                "name": h.name,
                "group": h.group,
                "share": h.share,
                "sigma_m": h.sigma,
                "kind": h.kind,
                "zone": h.zone or "",
                "line_wkt": line or "",
                "geometry": shapely.Point(x, y),
            }
        )
    return gpd.GeoDataFrame(rows, crs=layers.crs)


def write_truth(result: SynthResult, folder: str | Path) -> list[Path]:
    """Write the planted truth next to the incidents: hot spots (GeoJSON) and effects (CSV).

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in write_truth(synthesize(seed=1, years=[2018]), tempfile.mkdtemp())]
    ['truth_hotspots.geojson', 'truth_effects.csv']
    """
    from ..io.writers import write_table, write_vector

    folder = Path(folder)
    return [
        write_vector(result.hotspots, folder / "truth_hotspots.geojson"),
        write_table(result.effects, folder / "truth_effects.csv"),
    ]


# --------------------------------------------------------------------------------------
# Near repeats
# --------------------------------------------------------------------------------------


def add_near_repeats(
    incidents: gpd.GeoDataFrame,
    *,
    share: float = 0.1,
    distance: float = 100.0,
    days: float = 7.0,
    category: str | None = "burglary",
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Plant near repeats: a copy of ``share`` of the incidents (of ``category``, or of all)
    placed up to ``distance`` metres away (uniform over the disc) and up to ``days`` later
    (uniform), as new incidents with ids ending ``-NR``. Truth for the Knox test.

    Examples
    --------
    >>> inc = synthesize(seed=1, years=[2018], scale=0.05).incidents
    >>> out = add_near_repeats(inc, share=0.5, seed=1)
    >>> int(out["incident_id"].str.endswith("-NR").sum()) == round(
    ...     0.5 * (inc["category"] == "burglary").sum())
    True
    """
    if not (0 <= share <= 1) or distance < 0 or days < 0:
        raise InputError("share must be in [0, 1] and distance and days not negative.")
    rng = np.random.default_rng([seed, 97])
    pool = incidents if category is None else incidents[incidents["category"] == category]
    k = int(round(share * len(pool)))
    src = pool.iloc[np.sort(rng.choice(len(pool), size=k, replace=False))].copy()
    r = distance * np.sqrt(rng.random(k))
    a = 2 * np.pi * rng.random(k)
    src = src.set_geometry(
        gpd.points_from_xy(src.geometry.x + r * np.cos(a), src.geometry.y + r * np.sin(a)),
        crs=incidents.crs,
    )
    src["occurred_at"] = src["occurred_at"] + pd.to_timedelta(rng.random(k) * days, unit="D")
    src["incident_id"] = src["incident_id"].astype(str) + "-NR"
    out = pd.concat([incidents, src], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=incidents.geometry.name, crs=incidents.crs)


#: Rows per Parquet row group in :func:`write_partitions` (one distributed task each).
ROW_GROUP = 200_000


def write_partitions(
    folder: str | Path,
    partitions: int,
    *,
    seed: int = 2018,
    scale: float = 1.0,
    years: list[int] | None = None,
    layers: Layers | None = None,
) -> list[Path]:
    """Write synthetic incidents at any scale as partitioned GeoParquet, one part at a time.

    Partition ``k`` is :func:`synthesize` at ``scale / partitions`` with a seed derived from
    ``seed`` and ``k`` (so the parts are independent draws, each calibrated to the
    published table and carrying the planted hot spots and zone effects), its incident ids
    prefixed ``P<k>-``. Only one part is in memory at a time: the memory needed is that of
    ``scale / partitions`` (about 1.5 GB per million incidents at the peak), whatever the
    total. The totals are the sum of the parts' rounded counts, so they can differ from
    ``synthesize(scale=scale)`` by up to ``partitions`` incidents per year and category.

    Returns the files written (``part-00000.parquet``, ...), each written atomically, in
    row groups of :data:`ROW_GROUP` rows (the distributed path's unit of work).

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> files = write_partitions(tempfile.mkdtemp(), 2, seed=1, scale=0.05, years=[2018])
    >>> [f.name for f in files]
    ['part-00000.parquet', 'part-00001.parquet']
    >>> a, b = (gpd.read_parquet(f) for f in files)
    >>> bool(set(a["incident_id"]).isdisjoint(b["incident_id"]))
    True
    """
    import gc

    from ..core.files import atomic_write

    if int(partitions) != partitions or partitions < 1:
        raise InputError(f"partitions must be a whole number >= 1, got {partitions!r}.")
    if not np.isfinite(scale) or scale <= 0:
        raise InputError(f"scale must be a positive number, got {scale!r}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layers = layers or st_louis()
    written = []
    for k in range(int(partitions)):
        part_seed = int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
        inc = synthesize(seed=part_seed, scale=scale / partitions, years=years, layers=layers)
        inc = inc.incidents
        inc["incident_id"] = f"P{k:05d}-" + inc["incident_id"]

        # row groups of ROW_GROUP rows: the distributed path reads one per task, so that
        # a worker holds a few hundred MB at a time, not a whole file
        def write(path: Path, frame: gpd.GeoDataFrame = inc) -> None:
            frame.to_parquet(path, index=False, row_group_size=ROW_GROUP)

        written.append(atomic_write(folder / f"part-{k:05d}.parquet", write))
        del inc
        gc.collect()
    return written

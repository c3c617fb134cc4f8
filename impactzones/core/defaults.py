"""Defaults and limits in one place, each with its unit and valid range.

Each :class:`Setting` declares a parameter's default, unit, valid range and (for a default
decided from the data) the rule behind it. Signatures and module constants read their values
from here (``ring: float = RING.default``), :func:`check_params` validates the values at the
API boundary with one sentence that names the parameter, its unit and its range
(scikit-learn's ``validate_params`` in spirit), and :func:`describe` reports a value and the
rule behind it for a result's ``params``. ``tests/test_defaults.py`` holds every signature and
CLI option with one of these names to the value declared here.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import InputError

T = TypeVar("T")

__all__ = [
    "ALPHA",
    "BANDWIDTH",
    "BUDGET_KM2",
    "CELL_SIZE",
    "CONF",
    "DISTANCE",
    "DISTRICT_REACH",
    "EPS",
    "GAP",
    "GROWTH_THRESHOLD",
    "HDBSCAN_MAX_POINTS",
    "HISTORY",
    "MAX_AREA_KM2",
    "MAX_CELLS",
    "MAX_POINTS",
    "MIN_AREA_KM2",
    "MIN_PAI",
    "MIN_SAMPLES",
    "MIN_ZONE_INCIDENTS",
    "PERMUTATIONS",
    "PROPOSAL_CELL_M",
    "PROPOSAL_SMOOTH_M",
    "RING",
    "SETTINGS",
    "TIME_STEPS",
    "TOP",
    "Setting",
    "check",
    "check_params",
    "describe",
    "neighbour_distance",
    "settings_table",
]


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One parameter: its default, unit and valid range.

    Parameters
    ----------
    name : str
        The keyword (and CLI option, with dashes) it goes by.
    default : float, int, bool or None
        The value used when none is given (None: decided from the data by a documented rule).
    unit : str
        ``"m"``, ``"km^2"``, ``"probability"``, ``"count"``...
    low, high : float, optional
        The valid range; ``low_open`` / ``high_open`` exclude the end itself.
    integer : bool
        Whole numbers only.
    meaning : str
        One line for the documentation.
    rule : str
        How the value is decided from the data when the default is None.

    Examples
    --------
    >>> RING.check(250)
    250.0
    >>> RING.check(-5)
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: ring must be a number of metres above 0, got -5.
    """

    name: str
    default: T
    unit: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    meaning: str = ""
    rule: str = ""

    def range_text(self) -> str:
        """The valid range in words (``"above 0"``, ``"from 0 to 1"``...).

        Examples
        --------
        >>> ALPHA.range_text()
        'between 0 and 1 (exclusive)'
        """
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            if self.low_open and self.high_open:
                return f"between {lo:g} and {hi:g} (exclusive)"
            if self.low_open:
                return f"above {lo:g} and at most {hi:g}"
            if self.high_open:
                return f"from {lo:g} to below {hi:g}"
            return f"from {lo:g} to {hi:g}"
        if lo is not None:
            return f"above {lo:g}" if self.low_open else f">= {lo:g}"
        if hi is not None:
            return f"below {hi:g}" if self.high_open else f"<= {hi:g}"
        return "any value"

    def check(self, value, *, low: float | None = None) -> float | int:
        """``value`` as a float (an int for whole-number settings), or one clear
        :class:`~impactzones.core.errors.InputError`. ``low`` raises the lower end for this call.

        Examples
        --------
        >>> PERMUTATIONS.check(99)
        99
        >>> PERMUTATIONS.check(-5)
        Traceback (most recent call last):
        ...
        impactzones.core.errors.InputError: permutations must be a whole number >= 0, got -5.
        """
        lo = self.low if low is None else low
        spec: Setting[Any] = Setting(
            self.name,
            self.default,
            self.unit,
            lo,
            self.high,
            self.low_open and low is None,
            self.high_open,
            self.integer,
        )
        kind = "a whole number" if self.integer else _A_NUMBER_OF.get(self.unit, "a number")
        problem = f"{self.name} must be {kind} {spec.range_text()}, got {value!r}."
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputError(problem)
        v = float(value)
        if not math.isfinite(v) or (self.integer and v != int(v)):
            raise InputError(problem)
        if lo is not None and (v < lo or (spec.low_open and v == lo)):
            raise InputError(problem)
        if self.high is not None and (v > self.high or (self.high_open and v == self.high)):
            raise InputError(problem)
        return int(v) if self.integer else v


_A_NUMBER_OF = {"m": "a number of metres", "km^2": "a number of km^2"}

#: Width of the displacement ring drawn around each zone (metres).
RING: Setting[float] = Setting(
    "ring",
    400.0,
    "m",
    low=0,
    low_open=True,
    meaning="width of the displacement ring around each Impact Zone",
)
#: An incident inside the study area but in no district polygon, at most this far from one
#: (metres), is the nearest district's: district layers that stop at the riverbank leave
#: incidents on a bridge or a river terminal in none (the real St. Louis exports 2017-2019:
#: 54 rows, 4.5-53 m beyond the bundled districts, on the Poplar Street Bridge and two
#: riverfront sites; the export's own District column says 4 for them, as the nearest).
DISTRICT_REACH: Setting[float] = Setting(
    "district_reach",
    100.0,
    "m",
    low=0,
    meaning="an incident in the study area but in no district polygon, this close to one, "
    "is given the nearest district",
)
#: Clearance kept around existing zones when proposing new ones (metres).
GAP: Setting[float] = Setting(
    "gap", 400.0, "m", low=0, meaning="clearance kept around existing zones when proposing new ones"
)
#: Largest proposed zone (km^2).
MAX_AREA_KM2: Setting[float] = Setting(
    "max_area_km2", 3.0, "km^2", low=0, low_open=True, meaning="largest area of one proposed zone"
)
#: Smallest proposed zone (km^2): a micro-place of a few block faces. Tuned, with the growth
#: threshold, on rolling backtests inside 2017-2018 of the real St. Louis exports and on the
#: synthetic data (docs/proposals.md); 2019 was held out.
MIN_AREA_KM2: Setting[float] = Setting(
    "min_area_km2", 0.05, "km^2", low=0, low_open=True, meaning="smallest area of one proposed zone"
)
#: The area all proposed zones together may cover (km^2): the patrol budget.
BUDGET_KM2: Setting[float] = Setting(
    "budget_km2",
    4.0,
    "km^2",
    low=0,
    low_open=True,
    meaning="total area of all the proposed zones together (the patrol budget)",
)
#: A proposed zone grows while its border cells hold at least this share of its seed's value.
GROWTH_THRESHOLD: Setting[float] = Setting(
    "threshold",
    0.5,
    "share",
    low=0,
    high=1,
    meaning="a proposed zone grows while its border holds this share of its seed's value",
)
#: A proposed zone must be a hot spot: its incidents per km^2 in the proposal period (its
#: PAI) and its seed cell's value on the ranking surface are at least this multiple of the
#: city's. Zones of the budget that would fall below are not proposed (the budget is then
#: left unspent, and the result says so). Chosen on the tuning data only (2017-2018 real
#: half-years, 2017 -> 2018 and the synthetic data; docs/proposals.md): from 2 to 5 the
#: tuning ratios are the same, 6 and up drop zones as good next year as the kept ones.
MIN_PAI: Setting[float] = Setting(
    "min_pai",
    3.0,
    "ratio",
    low=0,
    meaning="a proposed zone's incidents per km^2 (and its seed's) at least this multiple "
    "of the city's (0: no floor)",
)
#: A proposed zone must hold at least this many incidents of the proposal period. Below
#: that its density is chance: a Poisson count of 5 has a 95% interval of 1.6 to 11.7, so
#: a zone of 1 to 4 incidents passes the ``min_pai`` floor by luck (sparse data, e.g. a
#: small city or a rare crime, otherwise fill the budget with one-incident micro-places).
#: Not tuned: on the real St. Louis exports every zone holds 7 or more, so it changes none.
MIN_ZONE_INCIDENTS: Setting[int] = Setting(
    "min_incidents",
    5,
    "incidents",
    low=1,
    meaning="a proposed zone holds at least this many incidents of the proposal period",
)
#: Side of the proposals' grid cells (m): a micro-place of a few block faces.
PROPOSAL_CELL_M: Setting[float] = Setting(
    "proposal_cell_size",
    100.0,
    "m",
    low=0,
    low_open=True,
    meaning="side of one cell of the grid that proposals grow on (propose_zones' cell_size)",
)
#: Gaussian smoothing (sigma, m) of the proposals' cell counts: light, to keep hot addresses.
PROPOSAL_SMOOTH_M: Setting[float] = Setting(
    "smooth",
    100.0,
    "m",
    low=0,
    meaning="Gaussian smoothing (sigma) of the cell counts that proposals grow on (0: none)",
)
#: Earlier periods (of the proposal period's length) that also count on the priority surface.
HISTORY: Setting[int] = Setting(
    "history",
    1,
    "count",
    low=0,
    integer=True,
    meaning="earlier periods of the same length that also count when ranking cells",
)
#: Gi* conditional permutations; None: none, or sized from the cells with permutation inference.
PERMUTATIONS: Setting[int | None] = Setting(
    "permutations",
    None,
    "count",
    low=0,
    integer=True,
    meaning="Gi* conditional permutations",
    rule="none with the exact or normal inference; with permutation inference P + 1 = "
    "2 n / alpha over n cells rounded up to 1, 2, 2.5 or 5 x 10^k, at least 1,000 (so a "
    "lone cell can pass the FDR correction)",
)
#: Significance level after the Benjamini-Hochberg false discovery rate correction.
ALPHA: Setting[float] = Setting(
    "alpha",
    0.05,
    "probability",
    low=0,
    high=1,
    low_open=True,
    high_open=True,
    meaning="significance level (false discovery rate, Benjamini-Hochberg)",
)
#: Earlier time slices in an emerging-hot-spot neighbourhood.
TIME_STEPS: Setting[int] = Setting(
    "time_steps",
    1,
    "count",
    low=0,
    integer=True,
    meaning="earlier time slices in the space-time Gi* neighbourhood",
)
#: The largest grid built without widening the cells.
MAX_CELLS: Setting[int] = Setting(
    "max_cells",
    4_000_000,
    "count",
    low=1,
    integer=True,
    meaning="largest analysis grid before the cell size is widened",
)
#: Most incident points any map layer carries.
MAX_POINTS: Setting[int] = Setting(
    "max_points",
    2000,
    "count",
    low=0,
    integer=True,
    meaning="most incident points one map layer carries (a seeded sample)",
)
#: Most incidents HDBSCAN is asked to cluster.
HDBSCAN_MAX_POINTS: Setting[int] = Setting(
    "hdbscan_max_points",
    200_000,
    "count",
    low=1,
    integer=True,
    meaning="most incidents HDBSCAN is asked to cluster",
)

#: Confidence level of the intervals reported beside an estimate.
CONF: Setting[float] = Setting(
    "conf",
    0.95,
    "probability",
    low=0,
    high=1,
    low_open=True,
    high_open=True,
    meaning="confidence level of the reported intervals",
)
#: Side of one analysis-grid cell (metres); None: from the study area.
CELL_SIZE: Setting[float | None] = Setting(
    "cell_size",
    None,
    "m",
    low=0,
    low_open=True,
    meaning="side of one square cell of the analysis grid",
    rule="shorter side of the study area's bounding box / 50, rounded down to 1, 2, 2.5 or "
    "5 x 10^k m (at least 1 m), widened when the grid would pass max_cells",
)
#: Kernel-density search radius (metres); None: from the incidents.
BANDWIDTH: Setting[float | None] = Setting(
    "bandwidth",
    None,
    "m",
    low=0,
    low_open=True,
    meaning="kernel density search radius (quartic) or standard deviation (Gaussian)",
    rule="ArcGIS Pro's default search radius 0.9 min(SD, sqrt(1/ln 2) Dm) n^-0.2, "
    "divided by 2 sqrt 2 for the Gaussian kernel, at least the grid's resolution",
)
#: Gi* / emerging neighbourhood radius (metres); None: the cell and its 8 neighbours.
DISTANCE: Setting[float | None] = Setting(
    "distance",
    None,
    "m",
    low=0,
    low_open=True,
    meaning="Gi* and emerging neighbourhood radius (at least one cell)",
    rule="cell size x sqrt(2): the cell and its 8 neighbours",
)

#: DBSCAN neighbourhood radius (metres); None: from the incidents.
EPS: Setting[float | None] = Setting(
    "eps",
    None,
    "m",
    low=0,
    low_open=True,
    meaning="DBSCAN neighbourhood radius",
    rule="half the ArcGIS/Silverman search radius of the incidents, rounded to 5 m",
)
#: DBSCAN core-point count (HDBSCAN: minimum cluster size); None: from the study area.
MIN_SAMPLES: Setting[float | None] = Setting(
    "min_samples",
    None,
    "count",
    low=1,
    meaning="incidents within eps that make a core point (HDBSCAN: the minimum cluster size)",
    rule="three times the count expected within eps of a point were the incidents spread "
    "evenly over the study area, at least 5",
)
#: Share of the study area's cells a KDE hot spot takes.
TOP: Setting[float] = Setting(
    "top",
    0.05,
    "share",
    low=0,
    high=1,
    low_open=True,
    meaning="share of the study area's cells (highest density first) drawn as KDE hot spots",
)

#: Every declared setting by name.
SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        RING,
        DISTRICT_REACH,
        GAP,
        MAX_AREA_KM2,
        MIN_AREA_KM2,
        BUDGET_KM2,
        GROWTH_THRESHOLD,
        HISTORY,
        MIN_PAI,
        MIN_ZONE_INCIDENTS,
        PROPOSAL_CELL_M,
        PROPOSAL_SMOOTH_M,
        PERMUTATIONS,
        ALPHA,
        TIME_STEPS,
        MAX_CELLS,
        MAX_POINTS,
        HDBSCAN_MAX_POINTS,
        CONF,
        CELL_SIZE,
        BANDWIDTH,
        DISTANCE,
        EPS,
        MIN_SAMPLES,
        TOP,
    )
}


def check(name: str, value, **kwargs) -> float | int:
    """Validate ``value`` against the setting called ``name`` (see :meth:`Setting.check`).

    Examples
    --------
    >>> check("alpha", 0.1)
    0.1
    """
    return SETTINGS[name].check(value, **kwargs)


def check_params(**values: Any) -> dict[str, Any]:
    """Validate keyword values against their declared settings, once, at the API boundary.

    Each keyword names a setting in :data:`SETTINGS`; its value is checked with
    :meth:`Setting.check` (one :class:`~impactzones.core.errors.InputError` sentence naming
    the parameter, its unit and range). ``None`` passes for a setting whose default is None
    (the value is then decided from the data by the setting's ``rule``).

    Parameters
    ----------
    **values
        ``name=value`` pairs, e.g. ``check_params(ring=ring, alpha=alpha)``.

    Returns
    -------
    dict
        The checked values (floats, or ints for whole-number settings; None kept).

    Examples
    --------
    >>> check_params(ring=250, alpha=0.1, cell_size=None)
    {'ring': 250.0, 'alpha': 0.1, 'cell_size': None}
    >>> check_params(permutations=-5)
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: permutations must be a whole number >= 0, got -5.
    """
    out: dict[str, Any] = {}
    for name, value in values.items():
        setting = SETTINGS.get(name)
        if setting is None:
            raise KeyError(f"{name!r} is not a declared setting (impactzones.core.defaults)")
        allowed_none = setting.default is None and value is None
        out[name] = None if allowed_none else setting.check(value)
    return out


def describe(name: str, value: Any, rule: str | None = None) -> dict[str, Any]:
    """A setting's value and the rule behind it, for a result's ``params``.

    Gives ``{name: value, name + "_rule": why}`` where ``why`` is ``rule`` when one is
    given (the rule as applied to these data), "default" when the value is the declared
    default, and "given" otherwise.

    Examples
    --------
    >>> describe("ring", 400.0)
    {'ring': 400.0, 'ring_rule': 'default (400 m)'}
    >>> describe("ring", 250.0)
    {'ring': 250.0, 'ring_rule': 'given'}
    """
    setting = SETTINGS[name]
    if rule is None:
        if value == setting.default:
            unit = "" if setting.unit in ("count", "probability") else f" {setting.unit}"
            rule = f"default ({value:g}{unit})" if value is not None else setting.rule
        else:
            rule = "given"
    return {name: value, f"{name}_rule": rule}


def settings_table() -> str:
    """Every declared setting as a Markdown table: name, default, unit, valid range and what
    it is (with the rule for a default decided from the data). ``docs/methods.md`` carries
    this table, held to it by a test, so the documentation cannot drift from the code.

    Examples
    --------
    >>> print(settings_table().splitlines()[2])
    | `ring` | 400 | m | above 0 | width of the displacement ring around each Impact Zone |
    """
    rows = [
        "| setting | default | unit | valid | what it is |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS.values():
        if s.default is None:
            default = "from the data"
        elif isinstance(s.default, int) and s.default >= 10_000:
            default = f"{s.default:,}"
        else:
            default = f"{s.default:g}"
        what = s.meaning + (f"; by default {s.rule}" if s.rule else "")
        rng = ("whole number " if s.integer else "") + s.range_text()
        rows.append(f"| `{s.name}` | {default} | {s.unit} | {rng} | {what} |")
    return "\n".join(rows) + "\n"


def neighbour_distance(cell: float, distance: float | None = None) -> tuple[float, str]:
    """The Gi* neighbourhood radius in metres and the rule behind it, for Gi* and emerging.

    By default ``cell x sqrt(2)``: the cell and its 8 neighbours. A given distance must be
    at least one cell, or the neighbourhood would be the cell alone.

    Examples
    --------
    >>> neighbour_distance(100.0)
    (141.4213562373095, 'cell size x sqrt(2) = 141 m (the cell and its 8 neighbours)')
    >>> neighbour_distance(400.0, 50)
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: distance must be at least the cell size (400 m), got 50.
    """
    if distance is None:
        d = cell * math.sqrt(2)
        return d, f"cell size x sqrt(2) = {d:,.0f} m (the cell and its 8 neighbours)"
    if (
        isinstance(distance, bool)
        or not isinstance(distance, numbers.Real)
        or not math.isfinite(distance)
        or distance < cell
    ):
        raise InputError(f"distance must be at least the cell size ({cell:g} m), got {distance!r}.")
    return float(distance), "given"

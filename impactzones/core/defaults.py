"""Defaults and limits in one place, each with its unit and valid range.

Each :class:`Setting` declares a parameter's default, unit and valid range, and
:meth:`Setting.check` validates a value at the API boundary with one sentence that names the
parameter, its unit and its range (scikit-learn's ``validate_params`` in spirit). Function
signatures still spell their defaults out so that they read well; ``tests/test_defaults.py``
holds every signature and CLI option with one of these names to the value declared here.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .errors import InputError

__all__ = [
    "ALPHA",
    "GAP",
    "HDBSCAN_MAX_POINTS",
    "MAX_AREA_KM2",
    "MAX_CELLS",
    "MAX_POINTS",
    "PERMUTATIONS",
    "RING",
    "SETTINGS",
    "TIME_STEPS",
    "Setting",
    "check",
    "neighbour_distance",
]


@dataclass(frozen=True)
class Setting:
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
    default: float | int | bool | None
    unit: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    meaning: str = ""

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
        spec = Setting(
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
RING = Setting(
    "ring",
    400.0,
    "m",
    low=0,
    low_open=True,
    meaning="width of the displacement ring around each Impact Zone",
)
#: Clearance kept around existing zones when proposing new ones (metres).
GAP = Setting(
    "gap", 400.0, "m", low=0, meaning="clearance kept around existing zones when proposing new ones"
)
#: Largest proposed zone (km^2).
MAX_AREA_KM2 = Setting(
    "max_area_km2", 3.0, "km^2", low=0, low_open=True, meaning="largest area of one proposed zone"
)
#: Gi* conditional permutations; None: none, or sized from the cells with permutation inference.
PERMUTATIONS = Setting(
    "permutations",
    None,
    "count",
    low=0,
    integer=True,
    meaning="Gi* conditional permutations (None: decided by the inference)",
)
#: Significance level after the Benjamini-Hochberg false discovery rate correction.
ALPHA = Setting(
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
TIME_STEPS = Setting(
    "time_steps",
    1,
    "count",
    low=0,
    integer=True,
    meaning="earlier time slices in the space-time Gi* neighbourhood",
)
#: The largest grid built without widening the cells.
MAX_CELLS = Setting(
    "max_cells",
    4_000_000,
    "count",
    low=1,
    integer=True,
    meaning="largest analysis grid before the cell size is widened",
)
#: Most incident points any map layer carries.
MAX_POINTS = Setting(
    "max_points",
    2000,
    "count",
    low=0,
    integer=True,
    meaning="most incident points one map layer carries (a seeded sample)",
)
#: Most incidents HDBSCAN is asked to cluster.
HDBSCAN_MAX_POINTS = Setting(
    "hdbscan_max_points",
    200_000,
    "count",
    low=1,
    integer=True,
    meaning="most incidents HDBSCAN is asked to cluster",
)

#: Every declared setting by name.
SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        RING,
        GAP,
        MAX_AREA_KM2,
        PERMUTATIONS,
        ALPHA,
        TIME_STEPS,
        MAX_CELLS,
        MAX_POINTS,
        HDBSCAN_MAX_POINTS,
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

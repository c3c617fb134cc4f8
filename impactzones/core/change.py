"""Percent change, and how it is shown.

``percent_change(before, after) = (after - before) / before * 100``, as a float, never
rounded. Rounding happens only at display (:func:`format_pct`): to one decimal, half away
from zero, on the exact decimal value (so -14.45 shows as -14.5, not -14.4 as binary
floating point and Python's ``round`` would give).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np

__all__ = [
    "UNDEFINED_REASON",
    "format_pct",
    "percent_change",
    "round_half_away",
]

#: Reason given where a percent change is undefined.
UNDEFINED_REASON = "undefined: no incidents before"


def percent_change(before: float, after: float) -> float:
    """Percent change from ``before`` to ``after``: ``(after - before) / before * 100``.

    Parameters
    ----------
    before, after : float
        Counts (or rates) in the two windows; must be finite and non-negative.

    Returns
    -------
    float
        The change in percent. ``NaN`` when ``before`` is 0 (the change is undefined; tables
        say :data:`UNDEFINED_REASON`): never ``inf``, never an exception.

    Examples
    --------
    >>> percent_change(100, 80)
    -20.0
    >>> percent_change(6459, 5525)
    -14.460442793002...
    >>> import math; math.isnan(percent_change(0, 5))
    True
    """
    b = float(before)
    a = float(after)
    if not (math.isfinite(a) and math.isfinite(b)) or a < 0 or b < 0:
        raise ValueError(f"counts must be finite and non-negative, got {before!r}, {after!r}")
    if b == 0:
        return math.nan
    if float(before).is_integer() and float(after).is_integer():
        # Exact rational arithmetic, then one rounding to float: 100 -> 80 gives -20.0.
        return float(Fraction(int(a) - int(b), int(b)) * 100)
    return (a - b) / b * 100.0


def round_half_away(value: float, decimals: int = 1) -> float:
    """Round half away from zero on the decimal value (``-14.45 -> -14.5``).

    Examples
    --------
    >>> round_half_away(-14.45), round_half_away(2.25), round_half_away(0.05)
    (-14.5, 2.3, 0.1)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    q = Decimal(1).scaleb(-decimals)
    d = Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP)
    return float(d)


def format_pct(value: float, decimals: int = 1, *, sign: bool = True) -> str:
    """Show a percent change for people: one decimal, half away from zero, with a sign.

    Examples
    --------
    >>> format_pct(-20.0), format_pct(percent_change(6459, 5525)), format_pct(float("nan"))
    ('-20.0%', '-14.5%', 'undefined')
    >>> format_pct(-0.045), format_pct(0.0)
    ('-0.0%', '0.0%')
    """
    if value is None or not np.isfinite(value):
        return "undefined"
    r = round_half_away(value, decimals)
    if r == 0:
        # too small to show: keep the sign of the change (never "+0.0%" for a fall)
        r = 0.0
        mark = "" if value == 0 or not sign else ("-" if value < 0 else "+")
        return f"{mark}{r:.{decimals}f}%"
    text = f"{r:+.{decimals}f}%" if sign else f"{r:.{decimals}f}%"
    return text

"""Before/after evaluation of Impact Zones: the change, whether it beats chance, and where
the crime went.

For each zone and crime group (or category) the table holds counts in three areas, before
and after:

* the **zone** itself;
* its **displacement ring**: a buffer of ``ring`` metres around the zone, every zone
  excluded (where crime pushed out of the zone would show up);
* the **control area**: the rest of the city, outside every zone and every ring.

and, from those counts:

* the percent change in each area (:func:`impactzones.core.change.percent_change`);
* the **dispersion** ``phi`` of the counts (variance = ``phi`` x mean), estimated per crime
  from the monthly counts of the before window in every zone, ring and the control area
  (:func:`dispersion`), at least 1; ``dispersion="poisson"`` gives the exact Poisson
  figures;
* the zone's **incidence rate ratio** (IRR = after rate / before rate) with a 95% interval
  and p-value from one test (conditional on the total, Clopper-Pearson, counts divided by
  ``phi``), so that p < 0.05 exactly when the interval excludes 1; and, for reference, the
  Poisson **E-test**'s p (Krishnamoorthy & Thomson 2004; ``e_test_p``);
* the change **relative to the control area**: the ratio of the zone's IRR to the
  control's (a difference in differences on the log scale), with a Wald 95% interval from
  the variances (``phi (1/a + 1/b)`` per pair on the log scale) and its p-value;
* **displacement and diffusion**: the Weighted Displacement Quotient (Bowers & Johnson
  2003) with its reading, and the Weighted Displacement Difference test (Wheeler &
  Ratcliffe 2018), its standard error, z and p;
* a plain-language **verdict**.

Windows of different lengths are refused unless ``normalise="daily"`` compares daily
rates. When the data stop before the end of the ``after`` year (the published 2019 counts
run to 1 September), both windows are cut to the same calendar days, and the table says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd

from ..core.change import UNDEFINED_REASON, format_pct, percent_change
from ..core.defaults import ALPHA, CONF, RING, describe
from ..core.errors import InputError
from ..core.geo import require_same_crs, xy
from ..core.geometry import locate_all, ring_polygons, share_inside
from ..core.lazy import lazy_module
from ..core.results import ResultFiles, TableView  # TableView: re-exported here too
from ..core.schema import GROUPS, PART_I
from ..core.windows import Window, parse_window
from ..cube import is_cube

stats = lazy_module("scipy.stats")  # at first use: not by the picture worker

__all__ = [
    "COLUMNS",
    "E_TEST_EXACT_MAX",
    "WDD",
    "WDQ",
    "Comparison",
    "RateRatio",
    "TableView",
    "align_windows",
    "check_windows",
    "compare_zones",
    "dispersion",
    "display_table",
    "e_test",
    "geometry_key",
    "rate_ratio",
    "relative_change",
    "reuse_memberships",
    "reused",
    "ring_reading",
    "to_markdown",
    "to_records",
    "wdd",
    "wdd_shared_control",
    "wdq",
]

# --------------------------------------------------------------------------------------
# Single statistics
# --------------------------------------------------------------------------------------


#: Above this many incidents (before + after) the E-test uses its normal approximation:
#: scipy's exact sum needs memory in proportion to the counts (0.7 GB at 110k vs 112k);
#: at 10,000 the two agree to 1e-4 in p (tested at the switch-over).
E_TEST_EXACT_MAX = 10_000


@dataclass(frozen=True)
class RateRatio:
    """The after/before incidence rate ratio, its interval and p-value (one rule), and the
    Poisson E-test's p for reference."""

    before: int
    after: int
    irr: float
    low: float
    high: float
    p_value: float
    exposure_before: float = 1.0
    exposure_after: float = 1.0
    dispersion: float = 1.0
    e_test_p: float = math.nan


def _conditional_tails(x: float, n: float, p0: float) -> tuple[float, float]:
    """``P(X >= x)`` and ``P(X <= x)`` for X binomial(n, p0), through the regularised
    incomplete beta function, so that non-integer (dispersion-scaled) counts work too."""
    upper = 1.0 if x <= 0 else float(stats.beta.cdf(p0, x, n - x + 1))
    lower = 1.0 if x >= n else float(stats.beta.sf(p0, x + 1, n - x))
    return upper, lower


def rate_ratio(
    before: int,
    after: int,
    exposure_before: float = 1.0,
    exposure_after: float = 1.0,
    conf: float = CONF.default,
    dispersion: float = 1.0,
) -> RateRatio:
    """Incidence rate ratio ``(after / exposure_after) / (before / exposure_before)``.

    Given the total ``n = before + after``, ``after`` is binomial with ``p = r t_a / (r t_a +
    t_b)`` under a rate ratio ``r``. The interval is Clopper-Pearson's for ``p`` mapped onto
    ``r``, and the p-value is the same test's equal-tailed one, ``2 min(P(X >= a), P(X <=
    a))`` at ``r = 1``: so ``p < 1 - conf`` exactly when the interval excludes 1 (one rule).
    With a ``dispersion`` ``phi > 1`` (quasi-Poisson: variance ``phi`` times the mean) both
    counts are divided by ``phi`` first (effective counts), which widens both alike;
    ``phi = 1`` is the exact Poisson answer. ``e_test_p`` is the Poisson E-test's p
    (:func:`e_test`), not dispersion-adjusted.

    Examples
    --------
    >>> rr = rate_ratio(100, 80)
    >>> round(rr.irr, 3), round(rr.low, 3), round(rr.high, 3), round(rr.p_value, 3)
    (0.8, 0.589, 1.084, 0.157)
    >>> round(rate_ratio(100, 80, dispersion=2.0).high, 3)
    1.237
    """
    conf = CONF.check(conf)
    b, a = int(before), int(after)
    if b < 0 or a < 0:
        raise InputError("Counts cannot be negative.")
    phi = float(dispersion)
    if not phi >= 1:
        raise InputError(f"The dispersion must be at least 1, got {dispersion!r}.")
    tb, ta = float(exposure_before), float(exposure_after)
    irr = (a / ta) / (b / tb) if b > 0 else math.nan
    if a + b == 0:
        return RateRatio(b, a, math.nan, math.nan, math.nan, math.nan, tb, ta, phi, math.nan)
    x, y = a / phi, b / phi
    n = x + y
    alpha = 1 - conf
    p_low = float(stats.beta.ppf(alpha / 2, x, y + 1)) if x > 0 else 0.0
    p_high = float(stats.beta.ppf(1 - alpha / 2, x + 1, y)) if y > 0 else 1.0

    def to_ratio(p):
        if p >= 1:
            return math.inf
        return p / (1 - p) * tb / ta

    upper, lower = _conditional_tails(x, n, ta / (ta + tb))
    p_value = min(1.0, 2 * min(upper, lower))
    return RateRatio(
        b, a, irr, to_ratio(p_low), to_ratio(p_high), p_value, tb, ta, phi, e_test(b, a, tb, ta)
    )


def e_test(
    before: int, after: int, exposure_before: float = 1.0, exposure_after: float = 1.0
) -> float:
    """Two-sided p-value of the Poisson E-test for equal rates (Krishnamoorthy & Thomson).

    Exact (``scipy.stats.poisson_means_test``) up to :data:`E_TEST_EXACT_MAX` incidents in
    all; above, its normal approximation ``2 sf(|T|)``, ``T = (a/t_a - b/t_b) / sqrt(l/t_a
    + l/t_b)`` with ``l`` the pooled rate, in constant memory.

    Examples
    --------
    >>> round(e_test(0, 3, 100, 100), 4)  # the paper's example 1
    0.0884
    >>> round(e_test(110_000, 112_000), 5)
    2e-05
    """
    a, b = int(after), int(before)
    ta, tb = float(exposure_after), float(exposure_before)
    if a + b > E_TEST_EXACT_MAX:
        lam = (a + b) / (ta + tb)
        t = (a / ta - b / tb) / math.sqrt(lam / ta + lam / tb)
        return float(2 * stats.norm.sf(abs(t)))
    return float(stats.poisson_means_test(a, ta, b, tb).pvalue)


def dispersion(monthly) -> float:
    """Quasi-Poisson dispersion of monthly counts: areas (rows) by months (columns).

    The expected count of area ``i`` in month ``t`` is ``row_i col_t / total`` (a Poisson
    model with area and month effects: each area's level and the seasonal pattern the areas
    share), and the dispersion is Pearson's chi-squared over its ``(I - 1)(T - 1)`` degrees
    of freedom, at least 1. Areas with no incidents, and months with none anywhere, are left
    out; with too little data it is 1.

    Examples
    --------
    >>> round(dispersion([[10, 30, 10, 30], [20, 20, 20, 20], [5, 5, 5, 5]]), 3)
    1.948
    """
    y = np.asarray(monthly, float)
    y = y[y.sum(axis=1) > 0]
    if y.ndim != 2 or y.shape[0] == 0:
        return 1.0
    y = y[:, y.sum(axis=0) > 0]
    n_areas, n_months = y.shape
    df = (n_areas - 1) * (n_months - 1) if n_areas > 1 else n_months - 1
    if df < 1:
        return 1.0
    if n_areas > 1:
        mu = np.outer(y.sum(axis=1), y.sum(axis=0)) / y.sum()
    else:
        mu = np.full_like(y, y.mean())
    chi2 = float(((y - mu) ** 2 / mu).sum())
    return max(1.0, chi2 / df)


@dataclass(frozen=True)
class WDQ:
    """The Weighted Displacement Quotient and its parts (Bowers & Johnson 2003).

    ``success = R1/C1 - R0/C0`` (negative when the zone improved relative to the control),
    ``displacement = D1/C1 - D0/C0`` (the same for the ring), ``wdq = displacement /
    success``, and ``total_net_effect = (R0 C1/C0 - R1) + (D0 C1/C0 - D1)``: incidents
    prevented in zone and ring together, relative to the control's trend.
    """

    wdq: float
    success: float
    displacement: float
    total_net_effect: float
    reading: str


def wdq(treated: Sequence[int], ring: Sequence[int], control: Sequence[int]) -> WDQ:
    """Weighted Displacement Quotient from (before, after) counts of zone, ring and control.

    Readings (when the zone improved, ``success < 0``): ``wdq > 0`` diffusion of benefits
    into the ring; ``wdq < 0`` displacement into the ring (``wdq < -1``: more displaced
    than was prevented); ``wdq`` near 0 (within 0.1) no effect on the ring. When the zone
    did not improve relative to the control there is nothing to displace, and the quotient
    is not interpreted.

    Examples
    --------
    >>> w = wdq((100, 80), (100, 120), (1000, 1000))  # displacement cancels the effect
    >>> w.wdq, w.reading
    (-1.0, 'displacement cancels the reduction')
    """
    r0, r1 = treated
    d0, d1 = ring
    c0, c1 = control
    if c0 <= 0 or c1 <= 0:
        return WDQ(math.nan, math.nan, math.nan, math.nan, "undefined: no control incidents")
    success = r1 / c1 - r0 / c0
    disp = d1 / c1 - d0 / c0
    tne = (r0 * c1 / c0 - r1) + (d0 * c1 / c0 - d1)
    if success >= 0:
        return WDQ(
            math.nan,
            success,
            disp,
            tne,
            "no reduction relative to the control, so no displacement to measure",
        )
    # the C0 C1 denominators cancel: exact for whole counts (e.g. exactly -1)
    q = (d1 * c0 - d0 * c1) / (r1 * c0 - r0 * c1)
    if abs(q + 1) < 1e-12:
        reading = "displacement cancels the reduction"
    elif q < -1:
        reading = "displacement larger than the reduction"
    elif q < -0.1:
        reading = "some displacement into the ring"
    elif q > 0.1:
        reading = "diffusion of benefits into the ring"
    else:
        reading = "no effect on the ring"
    return WDQ(q, success, disp, tne, reading)


@dataclass(frozen=True)
class WDD:
    """Weighted Displacement Difference test (Wheeler & Ratcliffe 2018)."""

    estimate: float
    se: float
    z: float
    p_value: float
    low: float
    high: float
    local: float
    displacement: float


def wdd(
    control: Sequence[float],
    treated: Sequence[float],
    disp_control: Sequence[float] = (0, 0),
    disp_treated: Sequence[float] = (0, 0),
    time_weights: Sequence[float] = (1, 1),
    area_weights: Sequence[float] = (1, 1, 1, 1),
    alpha: float = ALPHA.default,
) -> WDD:
    """The WDD test, as R's ``ptools::wdd`` computes it.

    ``WDD = dT - dCt + dD - dCd`` with each ``d`` the after minus the before count, every
    count divided by its time weight and its area weight (``area_weights`` in the order
    control, treated, displacement control, displacement treated); the variance is the sum
    of the counts divided by the squared weights (Poisson). Returns the estimate, its
    standard error, z, the two-sided p-value, the ``1 - alpha`` interval, and the local
    (``dT - dCt``) and displacement (``dD - dCd``) parts.

    Examples
    --------
    >>> r = wdd((308, 318), (207, 110), (150, 140), (178, 157))  # the paper's example
    >>> r.estimate, round(r.se**2), round(r.z, 2)
    (-118.0, 1568, -2.98)
    """
    alpha = ALPHA.check(alpha)
    tw0, tw1 = time_weights
    ac, at, adc, adt = area_weights

    def delta(pair, a):
        return pair[1] / (tw1 * a) - pair[0] / (tw0 * a)

    def var(pair, a):
        return pair[0] / (tw0 * a) ** 2 + pair[1] / (tw1 * a) ** 2

    local = delta(treated, at) - delta(control, ac)
    disp = delta(disp_treated, adt) - delta(disp_control, adc)
    est = local + disp
    v = var(treated, at) + var(control, ac) + var(disp_treated, adt) + var(disp_control, adc)
    se = math.sqrt(v)
    z = est / se if se > 0 else math.nan
    p = 2 * stats.norm.sf(abs(z)) if se > 0 else math.nan
    q = stats.norm.ppf(1 - alpha / 2)
    return WDD(est, se, z, p, est - q * se, est + q * se, local, disp)


def wdd_shared_control(
    treated: Sequence[int],
    ring: Sequence[int],
    control: Sequence[int],
    dispersion: float = 1.0,
) -> WDD:
    """WDD for a zone and its ring judged against one shared control area.

    The control is scaled to each area's before count (area weights ``C0/T0`` and
    ``C0/D0``), so the estimate is the zone's and ring's change beyond the control's trend:
    ``(T1 - T0 C1/C0) + (D1 - D0 C1/C0)``, minus the Bowers & Johnson total net effect. As
    the same control counts enter twice, its variance term is ``(T0/C0 + D0/C0)^2 (C0 +
    C1)``, not the sum of two independent terms. The estimate is in incidents of the after
    window and does not depend on the windows' lengths (``C1/C0`` carries them), so it
    takes the raw counts also for windows of different lengths. A ``dispersion`` ``phi``
    multiplies the variance (quasi-Poisson).

    Examples
    --------
    >>> r = wdd_shared_control((100, 80), (100, 100), (1000, 1000))
    >>> r.estimate, r.local, r.displacement
    (-20.0, -20.0, 0.0)
    """
    t0, t1 = treated
    d0, d1 = ring
    c0, c1 = control
    if c0 <= 0:
        return WDD(*(math.nan,) * 8)
    k_t, k_d = t0 / c0, d0 / c0
    local = (t1 - t0) - k_t * (c1 - c0)
    disp = (d1 - d0) - k_d * (c1 - c0)
    est = local + disp
    v = t0 + t1 + d0 + d1 + (k_t + k_d) ** 2 * (c0 + c1)
    se = math.sqrt(float(dispersion) * v)
    z = est / se if se > 0 else math.nan
    p = 2 * stats.norm.sf(abs(z)) if se > 0 else math.nan
    q = stats.norm.ppf(0.975)
    return WDD(est, se, z, p, est - q * se, est + q * se, local, disp)


def relative_change(
    treated: Sequence[int],
    control: Sequence[int],
    conf: float = CONF.default,
    dispersion: float = 1.0,
):
    """The zone's rate ratio over the control's (a log-scale difference in differences).

    Returns ``(ratio, low, high, p)``: the ratio ``(T1/T0) / (C1/C0)``, its Wald interval on
    the log scale with variance ``phi (1/T0 + 1/T1 + 1/C0 + 1/C1)`` (``phi`` the
    ``dispersion``), and the two-sided p-value of the same Wald statistic (so ``p < 1 -
    conf`` exactly when the interval excludes 1). Undefined (NaN) when a count is zero.

    Pass the raw counts, also when the windows differ in length: this is the interaction of
    a Poisson GLM with log-exposure offsets, in which the exposures cancel (tested against
    statsmodels).

    Examples
    --------
    >>> ratio, low, high, p = relative_change((100, 80), (1000, 1000))
    >>> round(ratio, 2), round(low, 2), round(high, 2)
    (0.8, 0.59, 1.09)
    """
    conf = CONF.check(conf)
    t0, t1 = treated
    c0, c1 = control
    if min(t0, t1, c0, c1) <= 0:
        return math.nan, math.nan, math.nan, math.nan
    lr = math.log((t1 / t0) / (c1 / c0))
    se = math.sqrt(float(dispersion) * (1 / t0 + 1 / t1 + 1 / c0 + 1 / c1))
    q = stats.norm.ppf(1 - (1 - conf) / 2)
    p = 2 * stats.norm.sf(abs(lr / se))
    return math.exp(lr), math.exp(lr - q * se), math.exp(lr + q * se), p


# --------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------


def _is_year(value) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


def align_windows(before, after, data_end=None, *, normalise: str | None = None):
    """Comparison windows, checked for like-for-like, and a note on what was done.

    When ``after`` is given as a year and the data stop early in it (``data_end``), it is
    cut to the days covered, and a ``before`` year to the same calendar days; windows given
    as dates are taken as given. Two calendar years are like for like (a leap day is
    ignored), and so are the same calendar days of two years (year to date across a leap
    day: 1 January to 1 September is 244 days in 2019 and 245 in 2020); other windows of
    different lengths raise an :class:`InputError` unless
    ``normalise="daily"``.

    Examples
    --------
    >>> import datetime as dt
    >>> b, a, note = align_windows(2018, 2019, dt.date(2019, 9, 1))
    >>> b.label, a.label
    ('2018-01-01 to 2018-09-01', '2019-01-01 to 2019-09-01')
    """
    b, a = parse_window(before), parse_window(after)
    b_year, a_year = _is_year(before), _is_year(after)
    note = ""
    same_days = False
    if a_year and data_end is not None and a.end > data_end >= a.start:
        a = Window(a.start, data_end)
        if b_year:
            b = a.same_days_in(b.start.year)
            same_days = True  # a leap day inside one of them does not matter
            note = (
                f"The data end on {data_end.isoformat()}: compared {b.label} with "
                f"{a.label}, the same calendar days."
            )
        else:
            note = f"The data end on {data_end.isoformat()}: the after window is {a.label}."
        b_year = a_year = False
    like = a.days == b.days or (a_year and b_year) or same_days
    if not like and normalise != "daily":
        raise InputError(
            f"The windows differ in length ({b.label}: {b.days} days; {a.label}: {a.days} "
            "days), so their counts are not like for like. Give windows of equal length, or "
            "compare daily rates with normalise='daily' (--normalise daily)."
        )
    if normalise not in (None, "daily"):
        raise InputError(f"normalise must be None or 'daily', got {normalise!r}.")
    return b, a, note


# --------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------

COLUMNS = [
    "zone",
    "crime",
    "before_window",
    "after_window",
    "zone_before",
    "zone_after",
    "zone_pct_change",
    "irr",
    "irr_low",
    "irr_high",
    "p_value",
    "e_test_p",
    "dispersion",
    "ring_before",
    "ring_after",
    "ring_pct_change",
    "control_before",
    "control_after",
    "control_pct_change",
    "relative_ratio",
    "relative_low",
    "relative_high",
    "relative_p",
    "ring_relative_p",
    "wdq",
    "wdq_reading",
    "total_net_effect",
    "wdd",
    "wdd_se",
    "wdd_z",
    "wdd_p",
    "note",
    "verdict",
]


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p undefined"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def _p_short(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _crime_label(crime: str) -> str:
    return {"violent": "Violent crime", "property": "Property crime"}.get(
        crime, crime.replace("_", " ").capitalize()
    )


def _verdict(zone, crime, r, ring_m) -> str:
    name = _crime_label(crime)
    where = "citywide" if zone == "Citywide" else f"in the {zone} zone"
    pct = r["zone_pct_change"]
    if not np.isfinite(pct):
        return f"{name}: no incidents {where} before, so the change is undefined."
    verb = "fell" if pct < 0 else "rose" if pct > 0 else "did not change"
    head = f"{name} {verb}"
    if pct != 0:
        head += f" {format_pct(abs(pct), sign=False)}"
    head += f" {where} ({r['zone_before']:,} to {r['zone_after']:,}; {_fmt_p(r['p_value'])})"
    if zone == "Citywide":
        return head + "."
    ctrl = r["control_pct_change"]
    if np.isfinite(ctrl):
        cverb = "fell" if ctrl < 0 else "rose" if ctrl > 0 else "did not change"
        head += f"; the rest of the city {cverb}"
        if ctrl != 0:
            head += f" {format_pct(abs(ctrl), sign=False)}"
        ratio, lo, hi = r["relative_ratio"], r["relative_low"], r["relative_high"]
        ci = f"ratio {ratio:.2f}, 95% CI {lo:.2f} to {hi:.2f}" if np.isfinite(ratio) else ""
        if np.isfinite(lo) and hi < 1:
            head += (
                f", so the zone did {format_pct((1 - ratio) * 100, sign=False)} better "
                f"than the rest of the city ({ci})"
            )
        elif np.isfinite(lo) and lo > 1:
            head += f", so the zone did worse than the rest of the city ({ci})"
        elif np.isfinite(lo):
            head += f"; the difference between them is within chance ({ci})"
    return f"{head}; {_ring_tail(r, ring_m)}."


def _ring_tail(r, ring_m) -> str:
    """The verdict's ring clause: what the WDQ says the ring did, then whether the ring's
    change against the rest of the city is beyond chance, with the ring's p and the WDD."""
    ring_txt = f"the {ring_m:g} m ring"
    q, ring_p = r["wdq"], r["ring_relative_p"]
    tests = [f"ring {_fmt_p(ring_p)}"] if np.isfinite(ring_p) else []
    if np.isfinite(r["wdd_p"]):
        tests.append(f"WDD {int(round(r['wdd'])):+d}, {_fmt_p(r['wdd_p'])}")  # never '-0'
    tests_txt = f" ({'; '.join(tests)})" if tests else ""
    if r["wdq_reading"].startswith("no reduction"):
        return f"no reduction to displace, so {ring_txt} is not judged{tests_txt}"
    if not np.isfinite(q):
        return f"{ring_txt} is not judged ({r['wdq_reading'] or 'no WDQ'}){tests_txt}"
    what, chance = ring_reading(q, ring_p, ring_m)
    moved = abs(q) > WDQ_NO_EFFECT
    wdq_txt = f"WDQ {q:.2f}" + (f": {r['wdq_reading']}" if moved else "")
    if not chance:
        return f"{what} ({wdq_txt}){tests_txt}"
    but = "but " if chance == "not beyond chance" and moved else ""
    return f"{what} ({wdq_txt}), {but}{chance}{tests_txt}"


#: |WDQ| up to this is read as no effect on the ring.
WDQ_NO_EFFECT = 0.1


def ring_reading(q: float, ring_p: float, ring_m: float) -> tuple[str, str]:
    """What the ring did by its Weighted Displacement Quotient, and whether its change
    against the rest of the city is beyond chance at 5%: the one rule the verdict and the
    map headlines share.

    Parameters
    ----------
    q : float
        The WDQ (see :func:`wdq`), when the zone fell against the rest of the city.
    ring_p : float
        The p-value of the ring's change against the rest of the city (NaN: not judged).
    ring_m : float
        The ring's width, metres.

    Returns
    -------
    (str, str)
        The ring's movement in words, and ``"beyond chance"``, ``"not beyond chance"``
        or ``""`` (no p-value).

    Examples
    --------
    >>> what, chance = ring_reading(-4.04, 0.6, 400)
    >>> what
    'against the rest of the city, the 400 m ring rose more than the zone fell'
    >>> chance
    'not beyond chance'
    """
    if abs(q + 1) < 1e-12:
        moved = "rose as much as the zone fell"
    elif q < -1:
        moved = "rose more than the zone fell"
    elif q < -WDQ_NO_EFFECT:
        moved = "rose, by less than the zone fell"
    elif q > WDQ_NO_EFFECT:
        moved = "fell too"
    else:
        moved = "barely moved"
    what = f"against the rest of the city, the {ring_m:g} m ring {moved}"
    if not np.isfinite(ring_p):
        return what, ""
    return what, "beyond chance" if ring_p < 0.05 else "not beyond chance"


#: What :func:`reused` hands out as copies (a caller may change them).
_MUTABLE = (np.ndarray, pd.DataFrame, pd.Series)
#: Memberships kept by :func:`reuse_memberships` (None outside such a block).
_REUSE: ContextVar[dict | None] = ContextVar("impactzones_reuse_memberships", default=None)


@contextmanager
def reuse_memberships(limit: int = 8) -> Iterator[None]:
    """Inside this block, work out where the incidents are once and reuse it.

    Which zone, ring and control area each incident is in (and which donor area, for a
    synthetic control) is found once per incidents table, zones, ring width (metres) and
    study area, and reused by :func:`compare_zones`, :func:`~.series.series_counts`,
    :func:`~.synthetic_control.synthetic_control` and :func:`~.run.evaluate_zone` on the
    same table (the demo runs them all on one). The answers are the same as without the
    block. The tables are held until the block ends, at most ``limit`` answers are kept
    (the oldest dropped first); an answer is keyed on the contents of the columns it
    read, so a table changed inside the block is worked out anew.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> from impactzones.evaluate.series import series_counts
    >>> layers = st_louis()
    >>> inc = synthesize(seed=1, years=[2017, 2018]).incidents
    >>> with reuse_memberships():
    ...     a = series_counts(inc, layers.zones, "North", study_area=layers.study_area)
    ...     b = series_counts(inc, layers.zones, "South", study_area=layers.study_area)
    >>> a.equals(series_counts(inc, layers.zones, "North", study_area=layers.study_area))
    True
    """
    token = _REUSE.set({"limit": max(int(limit), 1), "kept": {}})
    try:
        yield
    finally:
        _REUSE.reset(token)


def reused(
    incidents, key: tuple, compute: Callable[[], tuple], reads: Sequence[str] = ()
) -> tuple:
    """``compute()`` (a tuple of arrays) for ``incidents`` and ``key``, kept inside a
    :func:`reuse_memberships` block and computed once there; copies are returned, so a
    caller may change them. Outside a block: ``compute()``.

    ``reads`` names the columns ``compute`` reads (``"geometry"``: the active geometry and
    the CRS); their contents are part of the key, so a column changed inside the block,
    replaced or edited in place, is computed anew rather than answered from before.

    Examples
    --------
    >>> import numpy as np
    >>> table = pd.DataFrame({"a": [1, 2]})
    >>> with reuse_memberships():
    ...     first = reused(table, ("demo",), lambda: (np.array([1, 2]),), reads=["a"])
    ...     again = reused(table, ("demo",), lambda: (np.array([9, 9]),), reads=["a"])
    ...     table.loc[0, "a"] = 5  # changed: computed anew
    ...     new = reused(table, ("demo",), lambda: (np.array([5, 2]),), reads=["a"])
    >>> again[0].tolist(), new[0].tolist()
    ([1, 2], [5, 2])
    """
    store = _REUSE.get()
    if store is None:
        return compute()
    kept = store["kept"]
    now = [_column_state(incidents, c) for c in reads]
    full = (id(incidents), len(incidents), *key, tuple(reads))
    hit = kept.get(full)
    if hit is None or hit[0] is not incidents or hit[1] != [s for s, _ in now]:
        # the table and what the states stand for are held: no id or address is reused
        held = [h.copy() if isinstance(h, np.ndarray) else h for _, h in now]
        hit = (incidents, [s for s, _ in now], held, compute())
        kept.pop(full, None)
        kept[full] = hit
        while len(kept) > store["limit"]:
            del kept[next(iter(kept))]
    return tuple(v.copy() if isinstance(v, _MUTABLE) else v for v in hit[3])


def _column_state(incidents, name: str) -> tuple[tuple, object]:
    """What one column holds now (compared with ``==``: exact bytes or ids), and what must
    be held (an array: a copy of it) for that to stay sound (so no object's id or address
    can be taken by another)."""
    if name == "geometry" and isinstance(incidents, gpd.GeoDataFrame):
        # shapely geometries never change: the same objects are the same shapes, and an
        # edit, in place or not, puts other objects (other addresses) in the column
        objs = np.asarray(incidents.geometry.array, dtype=object)  # copied when kept
        return (name, str(incidents.crs), objs.tobytes()), objs
    if name not in incidents:
        return (name, None), None
    arr = incidents[name].array
    if isinstance(arr, pd.arrays.ArrowExtensionArray):  # arrow data never changes in place
        data = arr.__arrow_array__()
        return (name, id(data)), data
    values = np.asarray(arr)
    if values.dtype != object:
        return (name, values.dtype.str, values.tobytes()), None
    hashed = pd.util.hash_pandas_object(incidents[name], index=False).to_numpy()
    return (name, hashed.tobytes()), None


#: Columns the memberships read: the points and the labels of rows kept without one.
_MEMBERSHIP_READS = ("geometry", "zones", "zone", "district", "ring_zones", "ring_m", "area_type")


def geometry_key(geoms) -> tuple:
    """A key for shapes by their exact coordinates (WKB), for :func:`reused`.

    Examples
    --------
    >>> from shapely import box
    >>> geometry_key([box(0, 0, 1, 1)]) == geometry_key([box(0, 0, 1, 1)])
    True
    """
    import shapely

    if geoms is None:
        return (None,)
    if isinstance(geoms, shapely.Geometry):
        geoms = [geoms]
    return tuple(shapely.to_wkb(np.asarray(list(geoms), dtype=object)).tolist())


def _memberships(incidents, zones, ring: float, study_area):
    """Which zone, ring and control area each incident is in, and whether it is inside
    the study area (reused inside :func:`reuse_memberships`)."""
    key = (
        "memberships",
        tuple(zones["name"].astype(str)) if "name" in zones else len(zones),
        geometry_key(zones.geometry),
        float(ring),
        geometry_key(study_area),
    )
    return reused(
        incidents, key, lambda: _find_memberships(incidents, zones, ring, study_area),
        reads=_MEMBERSHIP_READS,
    )  # fmt: skip


def _find_memberships(incidents, zones, ring: float, study_area):
    x, y = reused(incidents, ("xy",), lambda: xy(incidents), reads=["geometry"])
    in_zone = locate_all(x, y, list(zones.geometry))
    rings = ring_polygons(zones, ring, study_area)
    in_ring = locate_all(x, y, rings) & ~in_zone.any(axis=1, keepdims=True)
    control = ~in_zone.any(axis=1) & ~in_ring.any(axis=1)
    if study_area is not None:
        from ..core.geometry import locate

        (inside,) = reused(
            incidents, ("inside", geometry_key(study_area)),
            lambda: (locate(x, y, [study_area]) == 0,), reads=["geometry"],
        )  # fmt: skip
        control &= inside
        in_zone &= inside[:, None]
        in_ring &= inside[:, None]
    else:
        inside = np.ones(len(x), bool)
    _place_pointless(incidents, zones, ring, (in_zone, in_ring, control, inside))
    return in_zone, in_ring, control, inside


def _place_pointless(incidents, zones, ring: float, memberships) -> None:
    """Private rows kept without a point, placed by the labels kept at load (in place);
    one warning when their ring and control membership cannot be known."""
    from ..assign import place_by_labels

    in_zone, in_ring, control, inside = memberships
    rows, z, r, c, ins, unknown = place_by_labels(incidents, zones["name"].astype(str), ring)
    if not len(rows):
        return
    in_zone[rows], in_ring[rows], control[rows], inside[rows] = z, r, c, ins
    if unknown.any():
        import warnings

        warnings.warn(
            f"{int(unknown.sum()):,} private incidents have no location and no place recorded "
            f"for a {ring:g} m ring: they count citywide and in a zone their kept label names, "
            "not in any ring or the control area (compare with the ring width used at load, "
            "the file's ring_m, to place them).",
            stacklevel=4,
        )


def _check_crimes(crimes, by: str, incidents) -> None:
    """Refuse crime groups or categories that do not exist, listing the known ones."""
    if by == "group":
        known = list(GROUPS)
    else:
        known = sorted(set(PART_I) | set(incidents["category"].dropna().astype(str)))
    unknown = [c for c in crimes if c not in known]
    if unknown:
        hint = " (categories need --by category)" if by == "group" else ""
        raise InputError(
            f"Unknown crime {', '.join(map(repr, unknown))} for rows by {by}{hint}; "
            f"known: {', '.join(known)}."
        )


def check_windows(
    b: Window, a: Window, times: pd.Series, *, strict: bool = False, stacklevel: int = 3
) -> None:
    """Refuse windows in the wrong order or overlapping; warn when a window runs past the
    data's dates; a window with no data at all is refused when ``strict`` (the CLI) and
    warned about otherwise (the table then says the change is undefined). ``stacklevel``:
    the warnings' (3 names the caller of the function calling this one).

    Examples
    --------
    >>> times = pd.Series(pd.to_datetime(["2017-01-01", "2018-12-31"]))
    >>> check_windows(Window.year(2017), Window.year(2018), times)  # fine
    >>> check_windows(Window.year(2017), Window.year(2025), times, strict=True)
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: The after window (2025) lies outside the data, ...
    """
    import warnings

    if a.start <= b.end:
        raise InputError(
            f"The after window ({a.label}) must start after the before window ({b.label}) "
            "ends; give the earlier period as --before."
        )
    t = times.dropna()
    if not len(t):
        raise InputError("No incident has a date; nothing can be compared.")
    lo, hi = t.min().date(), t.max().date()
    span = f"{lo.isoformat()} to {hi.isoformat()}"
    for which, w in (("before", b), ("after", a)):
        if w.end < lo or w.start > hi:
            msg = (
                f"The {which} window ({w.label}) lies outside the data, which run from "
                f"{span}; choose windows inside that range."
            )
            if strict:
                raise InputError(msg)
            warnings.warn(msg, stacklevel=stacklevel)
        elif w.start < lo or w.end > hi:
            warnings.warn(
                f"The {which} window ({w.label}) runs past the data, which run from {span}; "
                "its count covers only the days with data.",
                stacklevel=stacklevel,
            )


def _warn_not_begun(zones, after: Window, stacklevel: int = 3) -> None:
    """Warn, by name, about zones that began after the after window started (or whose
    start is unknown): the comparison then does not measure the zone."""
    import warnings

    if "start" not in zones:
        return
    start = pd.to_datetime(zones["start"], errors="coerce")
    late = zones.loc[start > pd.Timestamp(after.start), "name"].astype(str).tolist()
    if late:
        warnings.warn(
            f"Zone(s) {', '.join(late)} began after the after window starts ({after.label}): "
            "this compares periods before the zone existed.",
            stacklevel=stacklevel,
        )


#: What the comparison's statistics are, for ``params`` (the rules behind the columns).
TESTS = {
    "irr": "after / before rate; interval and p from one conditional binomial test "
    "(Clopper-Pearson) on the counts divided by the dispersion",
    "e_test_p": "Poisson E-test (Krishnamoorthy & Thomson 2004), for reference",
    "relative": "zone IRR / control IRR, Wald interval on the log scale, phi (1/a + 1/b) per pair",
    "wdq": "Weighted Displacement Quotient (Bowers & Johnson 2003)",
    "wdd": "Weighted Displacement Difference (Wheeler & Ratcliffe 2018), shared control",
    "dispersion": "quasi-Poisson phi from the monthly counts of the before window in every "
    "zone, ring and the control area (at least 1)",
}


@dataclass(frozen=True, eq=False)
class Comparison(TableView, ResultFiles):
    """A before/after comparison of Impact Zones: the table and every choice behind it.

    The result of :func:`compare_zones` (esda style: the statistic and its parameters as
    attributes). It follows the results' interface (:mod:`impactzones.core.results`):
    ``params``, :meth:`to_geodataframe`, :meth:`to_file` and ``map_layer``.

    Attributes
    ----------
    table : DataFrame
        One row per zone x crime (and citywide per crime), columns :data:`COLUMNS` plus the
        areas (km^2), WDD per km^2 and the power to see a 20% drop.
    before, after : Window
        The windows compared (after aligning them to the data's end).
    note : str
        What was done to the windows ("" when nothing was).
    by : {"group", "category"}
        What a row's ``crime`` is.
    crimes : tuple of str
        The groups or categories compared.
    ring : float
        Displacement ring width (metres).
    dispersion : "estimate", "poisson" or float
        The dispersion setting (the values used are the table's ``dispersion`` column).
    normalise : None or "daily"
        Whether daily rates were compared.
    zones : GeoDataFrame
        The zones compared (their shapes for :meth:`to_geodataframe`).
    study_area : shapely geometry or None
        The city (the citywide rows' shape).

    Notes
    -----
    For callers of earlier versions, which got the table itself, the comparison behaves as
    its table for reading: ``c["zone"]``, ``c.loc[...]``, ``len(c)``, ``"wdd" in c`` and
    any other DataFrame attribute reach :attr:`table`, and ``c.attrs`` gives the windows,
    note, ring and grouping (the table itself carries nothing in ``DataFrame.attrs``).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2017, 2018]).incidents
    >>> c = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area)
    >>> c.params["ring"], c.params["ring_rule"], c.params["before"]
    (400.0, 'default (400 m)', '2017')
    >>> gdf = c.to_geodataframe()
    >>> gdf.loc[0, "zone"], gdf.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")
    ('North', True)
    """

    table: pd.DataFrame
    before: Window
    after: Window
    note: str
    by: str
    crimes: tuple[str, ...]
    ring: float
    dispersion: float | str
    normalise: str | None
    zones: gpd.GeoDataFrame = field(repr=False)
    study_area: Any = field(default=None, repr=False)
    source: dict[str, Any] = field(default_factory=lambda: {"input": "incidents"})

    #: The map layer that draws a comparison (the zones coloured by their change).
    map_layer: ClassVar[str] = "comparison"

    @property
    def windows(self) -> tuple[Window, Window]:
        """The two windows, ``(before, after)``."""
        return self.before, self.after

    @property
    def params(self) -> dict[str, Any]:
        """Every choice behind the table, and the rule behind it (JSON-ready).

        Examples
        --------
        >>> import pandas as pd
        >>> c = Comparison(pd.DataFrame(), Window.year(2017), Window.year(2018), "", "group",
        ...                ("violent",), 250.0, "poisson", None, zones=None)
        >>> c.params["ring_rule"], c.params["dispersion"]
        ('given', 'poisson')
        """
        phi = {}
        if "dispersion" in self.table and len(self.table):
            firsts = self.table.drop_duplicates("crime").set_index("crime")["dispersion"]
            phi = {str(k): float(v) for k, v in firsts.items()}
        return {
            "before": self.before.label,
            "after": self.after.label,
            "note": self.note,
            "by": self.by,
            "crimes": list(self.crimes),
            **describe("ring", self.ring),
            "dispersion": self.dispersion,
            "dispersion_rule": TESTS["dispersion"] if self.dispersion == "estimate" else "given",
            "dispersion_used": phi,
            "normalise": self.normalise,
            "conf": CONF.default,
            "tests": dict(TESTS),
            "source": dict(self.source),
        }

    @property
    def attrs(self) -> dict[str, Any]:
        """The windows, note, ring and grouping as earlier versions kept them in the table's
        ``DataFrame.attrs`` (read them from the attributes instead)."""
        return {
            "before": self.before.label,
            "after": self.after.label,
            "windows": self.windows,
            "note": self.note,
            "ring_m": self.ring,
            "by": self.by,
            "normalise": self.normalise,
        }

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The table with each row's shape: the zone's polygon, or the study area for the
        citywide rows (None without one), in the zones' CRS."""
        shapes = dict(zip(self.zones["name"].astype(str), self.zones.geometry, strict=False))
        shapes["Citywide"] = self.study_area
        geometry = [shapes.get(str(z)) for z in self.table["zone"]]
        return gpd.GeoDataFrame(self.table.copy(), geometry=geometry, crs=self.zones.crs)

    def to_markdown(self) -> str:
        """The table for people, with the verdicts and notes (:func:`to_markdown`)."""
        return to_markdown(self)

    def to_records(self) -> list[dict]:
        """JSON-ready rows (:func:`to_records`)."""
        return to_records(self.table)

    def to_file(self, path: str | Path) -> Path:
        """Write the comparison by the extension of ``path``: ``.csv`` the table, ``.md``
        the Markdown report, a vector format (``.geojson`` / ``.json`` in WGS 84, ``.gpkg``,
        ``.parquet``, ``.fgb``, ``.shp``) the zones with their figures. Atomic; returns the
        path written.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import pandas as pd
        >>> c = Comparison(pd.DataFrame({"zone": ["A"]}), Window.year(2017), Window.year(2018),
        ...                "", "group", ("violent",), 400.0, "estimate", None, zones=None)
        >>> c.to_file(pathlib.Path(tempfile.mkdtemp()) / "c.csv").read_text()
        'zone\\nA\\n'
        """
        from ..io.writers import write_table, write_text

        path = Path(path)
        if path.suffix.lower() == ".md":
            return write_text(self.to_markdown(), path)
        if path.suffix.lower() == ".csv":
            return write_table(self.table, path)
        return super().to_file(path)


def _as_table(table) -> pd.DataFrame:
    """The DataFrame of a result read as its table (:class:`TableView`), or the table."""
    return table.table if isinstance(table, TableView) else table


def compare_zones(
    incidents: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    before,
    after,
    *,
    by: str = "group",
    crimes: Sequence[str] | None = None,
    ring: float = RING.default,
    study_area=None,
    normalise: str | None = None,
    citywide: bool = True,
    dispersion: float | str = "estimate",
) -> Comparison:
    """The zone comparison: one row per zone x crime group (or category), plus citywide rows.

    Parameters
    ----------
    incidents : GeoDataFrame or count cube
        Incidents in the zones' metric CRS, or a count cube of them
        (:func:`impactzones.cube.build_cube`, :func:`~impactzones.cube.read_cube`, or the
        distributed path's ``summarise_parquet(...).cube``) on a grid in that CRS. From a
        cube, each cell's incidents count where the cell's centre lies (zone, ring or
        control area), only crime groups can be compared, and the windows must be whole
        periods of the cube (whole months on a monthly cube); ``params["source"]`` says so
        and gives the cell size.
    zones : GeoDataFrame
        Impact Zones with a ``name``.
    before, after : int, "START:END" or (start, end)
        The windows compared (years or inclusive date ranges). See :func:`align_windows`.
    by : {"group", "category"}
        Rows per crime group (violent, property) or per Part I category.
    crimes : sequence of str, optional
        Which groups or categories (default violent and property, or the seven Part I
        categories).
    ring : float, default 400
        Displacement ring width in metres (:data:`impactzones.core.defaults.RING`).
    study_area : shapely geometry, optional
        The city: incidents outside it are left out, and the control area is inside it.
    normalise : {None, "daily"}
        Compare daily rates when the windows differ in length (refused otherwise).
    citywide : bool, default True
        Add a citywide row per crime.
    dispersion : "estimate", "poisson" or float, default "estimate"
        Overdispersion ``phi`` of the counts (variance = ``phi`` x mean). ``"estimate"``:
        per crime, from the monthly counts of the before window in every zone, ring and
        the control area (:func:`dispersion`); ``"poisson"`` (or 1): the exact Poisson
        figures; a number: that ``phi``. It widens the IRR interval and p, the interval
        against the control, the ring's p and the WDD's standard error alike.

    Returns
    -------
    Comparison
        ``.table`` has the columns :data:`COLUMNS` (plus areas, WDD per km^2 and power);
        ``.before`` / ``.after`` are the windows, ``.note`` what was done to them and
        ``.params`` every choice with the rule behind it. Percent changes are exact floats
        (NaN where undefined, with the reason in ``note``); round only for display.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2017, 2018]).incidents
    >>> c = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area)
    >>> row = c.table.iloc[0]
    >>> row["zone"], row["crime"], float(row["zone_pct_change"]), c.before.label
    ('North', 'violent', -20.0, '2017')
    """
    ring = RING.check(ring)
    if is_cube(incidents):  # counts by cell: membership by cell centre
        settings = dict(by=by, crimes=crimes, ring=ring, study_area=study_area)
        settings.update(normalise=normalise, citywide=citywide, dispersion=dispersion)
        return _compare_cube(incidents, zones, before, after, settings)
    crimes = _checked_crimes(incidents, zones, by, crimes)
    b, a, note, exp, no_after = _comparison_windows(incidents, before, after, normalise)
    check_windows(b, a, incidents["occurred_at"])
    _warn_not_begun(zones, a)
    ctx = {"b": b, "a": a, "exp": exp, "ring": ring, "note": note, "no_after": no_after}
    if study_area is not None:
        share_inside(zones, study_area)  # before the rings: a zone far away has no ring
    memberships = _memberships(incidents, zones, ring, study_area)
    rows = _comparison_rows(incidents, zones, crimes, by, memberships, ctx, dispersion, citywide)
    return _comparison(
        rows,
        zones,
        ctx,
        {
            "by": by,
            "crimes": crimes,
            "study_area": study_area,
            "normalise": normalise,
            "dispersion": dispersion,
        },
        {"input": "incidents"},
    )


def _comparison(rows: list, zones, ctx: dict, settings: dict, source: dict) -> Comparison:
    """The comparison from its rows: the table with the evaluation additions, and every
    choice behind it."""
    b, a, ring = ctx["b"], ctx["a"], ctx["ring"]
    study_area, normalise = settings["study_area"], settings["normalise"]
    table = pd.DataFrame(rows, columns=COLUMNS)
    # evaluation additions: WDD per km^2 and the power to see a 20% drop (evaluate/)
    from .harm import add_area_wdd
    from .power import add_power

    table = add_power(
        add_area_wdd(table, zones, ring, study_area), windows=(b, a), normalise=normalise
    )
    return Comparison(
        table=table,
        before=b,
        after=a,
        note=ctx["note"],
        by=settings["by"],
        crimes=tuple(settings["crimes"]),
        ring=ring,
        dispersion=settings["dispersion"],
        normalise=normalise,
        zones=zones,
        study_area=study_area,
        source=source,
    )


def _compare_cube(cube, zones, before, after, settings: dict) -> Comparison:
    """:func:`compare_zones` on a count cube: the same table, each cell counted where its
    centre lies (see :mod:`impactzones.evaluate._from_cube`)."""
    from ..cube import cube_freq, cube_grid, cube_span
    from ._from_cube import (
        area_series,
        before_months,
        check_whole_periods,
        cube_crimes,
        exact_areas,
        month_table,
        window_periods,
    )

    grid = cube_grid(cube)
    require_same_crs(grid.crs, zones.crs, "The count cube and the zones")
    if "name" not in zones:
        raise InputError("The zones need a 'name' column.")
    crimes = cube_crimes(cube, settings["by"], settings["crimes"])
    lo, hi = cube_span(cube)
    b, a, note, exp, no_after = _windows_to(hi, before, after, settings["normalise"])
    check_whole_periods(cube, b, a)
    check_windows(b, a, pd.Series(pd.to_datetime([lo, hi])), stacklevel=4)
    _warn_not_begun(zones, a, stacklevel=4)
    ring, study_area = settings["ring"], settings["study_area"]
    ctx = {"b": b, "a": a, "exp": exp, "ring": ring, "note": note, "no_after": no_after}
    if study_area is not None:
        share_inside(zones, study_area)  # zones outside: refused by name, one sentence
    exact = exact_areas(cube, zones, ring, study_area)
    series = area_series(cube, zones, ring, study_area, exact)  # time x group x area
    tb, ta = window_periods(cube, b), window_periods(cube, a)
    months, n_months = before_months(cube, b)
    groups = [str(g) for g in cube["group"].values]
    names, n = zones["name"].astype(str).tolist(), len(zones)
    rows = []
    for crime in crimes:
        s = series[:, groups.index(crime), :]

        def counts(j, s=s):
            return int(s[tb, j].sum()), int(s[ta, j].sum())

        phi = _given_phi(settings["dispersion"])
        if phi is None:
            phi = _phi_of_table(month_table(s[:, : 2 * n + 1], months, n_months))
        crime_ctx = dict(ctx, phi=phi)
        for zi, zname in enumerate(names):
            rows.append(_row(zname, crime, counts(zi), counts(n + zi), counts(2 * n), crime_ctx))
        if settings["citywide"]:
            rows.append(_row("Citywide", crime, counts(2 * n + 1), None, None, crime_ctx))
    cut = sum(sum(counts(2 * n + 2, series[:, groups.index(c), :])) for c in crimes)
    source = {
        "input": "count cube",
        "cell_size_m": float(grid.cell),
        "freq": cube_freq(cube),
        "membership": "exact: the cube's counts per zone, ring and control area"
        if exact
        else "cell centre: every incident of a cell counts where its centre lies",
        "incidents_in_cut_cells": int(cut),
    }
    if cut:
        _warn_cut_cells(cut, grid.cell)
    return _comparison(rows, zones, ctx, dict(settings, crimes=crimes), source)


def _warn_cut_cells(cut: int, cell: float) -> None:
    """One warning: how many incidents were placed by their cell's centre, not their own
    point (the cells a zone or ring edge cuts), and how to count them exactly."""
    import warnings

    warnings.warn(
        f"{cut:,} of the incidents compared lie in {cell:g} m cells that a zone or ring edge "
        "cuts, and count where their cell's centre lies; for exact counts, build the cube "
        "with these zones (build_cube(..., zones=...), or the distributed path).",
        stacklevel=4,
    )


def _checked_crimes(incidents, zones, by: str, crimes) -> list[str]:
    """The crimes compared (checked against the data), after the inputs' basic checks."""
    if by not in ("group", "category"):
        raise InputError(f"by must be 'group' or 'category', got {by!r}.")
    require_same_crs(incidents.crs, zones.crs, "The incidents and zones")
    if "name" not in zones:
        raise InputError("The zones need a 'name' column.")
    if crimes is None:
        crimes = ["violent", "property"] if by == "group" else list(PART_I)
    crimes = list(crimes)
    _check_crimes(crimes, by, incidents)
    return crimes


def _comparison_windows(incidents, before, after, normalise):
    """The two windows (aligned to the data's end), the note on what was done, the
    exposures (days, for daily rates; else 1) and the data's end when no data reach the
    after window (else None)."""
    data_end = incidents["occurred_at"].max()
    data_end = data_end.date() if pd.notna(data_end) else None
    return _windows_to(data_end, before, after, normalise)


def _windows_to(data_end, before, after, normalise):
    """:func:`_comparison_windows` for data ending on ``data_end`` (a date or None)."""
    b, a, note = align_windows(before, after, data_end, normalise=normalise)
    exposures = (float(b.days), float(a.days)) if normalise == "daily" else (1.0, 1.0)
    if normalise == "daily" and b.days != a.days:
        note = (note + " " if note else "") + (
            f"Windows differ in length ({b.days} and {a.days} days): rates per day compared."
        )
    no_after = data_end is None or data_end < a.start
    return b, a, note, exposures, (data_end if no_after else None)


def _comparison_rows(incidents, zones, crimes, by, memberships, ctx, dispersion, citywide):
    """One row per zone x crime (and a citywide row per crime): the counts in the zone,
    its ring and the control area before and after, and every statistic on them."""
    in_zone, in_ring, control, inside = memberships
    when = incidents["occurred_at"]
    tb = ctx["b"].contains(when).to_numpy()
    ta = ctx["a"].contains(when).to_numpy()
    month = _month_index(when, ctx["b"])
    col = incidents[by].to_numpy()
    names = zones["name"].astype(str).tolist()

    def counts(m):
        return int((m & tb).sum()), int((m & ta).sum())

    rows = []
    for crime in crimes:
        sel = col == crime
        areas = np.column_stack([in_zone, in_ring, control]) & sel[:, None]
        crime_ctx = dict(ctx, phi=_phi(dispersion, areas, month))
        C = counts(control & sel)
        for zi, zname in enumerate(names):
            T, D = counts(in_zone[:, zi] & sel), counts(in_ring[:, zi] & sel)
            rows.append(_row(zname, crime, T, D, C, crime_ctx))
        if citywide:
            rows.append(_row("Citywide", crime, counts(inside & sel), None, None, crime_ctx))
    return rows


def _month_index(when: pd.Series, b: Window) -> np.ndarray:
    """The calendar month (0, 1, ...) of each incident within the before window, counting
    only months wholly inside it; -1 elsewhere."""
    first = pd.Period(b.start, "M") + (0 if b.start.day == 1 else 1)
    last = pd.Period(b.end, "M") - (0 if (b.end + dt.timedelta(days=1)).day == 1 else 1)
    out = np.full(len(when), -1)
    if last < first:
        return out
    ok = when.notna().to_numpy()
    # months since `first`, from the calendar year and month (as to_period("M") counts)
    t = when[ok].dt
    k = (t.year.to_numpy() * 12 + t.month.to_numpy()) - (first.year * 12 + first.month)
    inside = (k >= 0) & (k <= (last - first).n)
    idx = np.flatnonzero(ok)
    out[idx[inside]] = k[inside]
    return out


def _phi(setting, areas: np.ndarray, month: np.ndarray) -> float:
    """The dispersion for one crime: given, 1 (Poisson), or estimated from the monthly
    counts of the before window in each area (columns of ``areas``)."""
    phi = _given_phi(setting)
    if phi is not None:
        return phi
    n_months = int(month.max()) + 1 if (month >= 0).any() else 0
    if n_months < 3:
        return 1.0
    keep = month >= 0
    table = np.stack(
        [np.bincount(month[keep & areas[:, j]], minlength=n_months) for j in range(areas.shape[1])]
    )
    return dispersion(table)


def _phi_of_table(table: np.ndarray) -> float:
    """The estimated dispersion from areas x months (1 with fewer than three months)."""
    return 1.0 if table.shape[1] < 3 else dispersion(table)


def _given_phi(setting) -> float | None:
    """The dispersion a setting gives (1 for "poisson", the number), None to estimate."""
    if setting == "poisson":
        return 1.0
    if setting != "estimate":
        try:
            phi = float(setting)
        except (TypeError, ValueError):
            phi = math.nan
        if not phi >= 1:
            raise InputError(
                f"dispersion must be 'estimate', 'poisson' or a number >= 1, got {setting!r}."
            )
        return phi
    return None


def _undefined_after(r: dict, ctx: dict) -> None:
    end = ctx["no_after"]
    reason = (
        f"undefined: no data in the after window ({ctx['a'].label}); the data end on "
        f"{end.isoformat() if end is not None else 'no date'}"
    )
    for k in COLUMNS:
        if k.endswith(("pct_change", "_p", "_low", "_high", "ratio")) or k in (
            "irr",
            "p_value",
            "wdq",
            "total_net_effect",
            "wdd",
            "wdd_se",
            "wdd_z",
        ):
            r[k] = math.nan
    r["wdq_reading"] = ""
    r["note"] = (ctx["note"] + " " if ctx["note"] else "") + reason
    r["verdict"] = f"{_crime_label(r['crime'])}: the change is {reason}."


def _row(zone, crime, T, D, C, ctx: dict) -> dict:
    exp_b, exp_a = ctx["exp"]
    phi = ctx["phi"]
    rr = rate_ratio(T[0], T[1], exp_b, exp_a, dispersion=phi)
    r = {
        "zone": zone,
        "crime": crime,
        "before_window": ctx["b"].label,
        "after_window": ctx["a"].label,
        "zone_before": T[0],
        "zone_after": T[1],
        "zone_pct_change": percent_change(T[0] / exp_b, T[1] / exp_a),
        "irr": rr.irr,
        "irr_low": rr.low,
        "irr_high": rr.high,
        "p_value": rr.p_value,
        "e_test_p": rr.e_test_p,
        "dispersion": phi,
        "note": ctx["note"],
    }
    nan = math.nan
    if D is None:
        r.update({k: nan for k in COLUMNS if k not in r and k not in ("wdq_reading", "verdict")})
        r["ring_before"] = r["ring_after"] = r["control_before"] = r["control_after"] = pd.NA
        r["wdq_reading"] = ""
    else:
        # Exposures cancel in every comparison against the control: raw counts throughout.
        w = wdq(T, D, C)
        d = wdd_shared_control(T, D, C, dispersion=phi)
        rel = relative_change(T, C, dispersion=phi)
        r.update(
            {
                "ring_before": D[0],
                "ring_after": D[1],
                "ring_pct_change": percent_change(D[0] / exp_b, D[1] / exp_a),
                "control_before": C[0],
                "control_after": C[1],
                "control_pct_change": percent_change(C[0] / exp_b, C[1] / exp_a),
                "relative_ratio": rel[0],
                "relative_low": rel[1],
                "relative_high": rel[2],
                "relative_p": rel[3],
                "ring_relative_p": relative_change(D, C, dispersion=phi)[3],
                "wdq": w.wdq,
                "wdq_reading": w.reading,
                "total_net_effect": w.total_net_effect,
                "wdd": d.estimate,
                "wdd_se": d.se,
                "wdd_z": d.z,
                "wdd_p": d.p_value,
            }
        )
    if ctx["no_after"] is not None:
        _undefined_after(r, ctx)
        return r
    if not np.isfinite(r["zone_pct_change"]):
        r["note"] = (ctx["note"] + " " if ctx["note"] else "") + UNDEFINED_REASON
    r["verdict"] = _verdict(zone, crime, r, ctx["ring"])
    return r


# --------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------


def display_table(table: pd.DataFrame | Comparison) -> pd.DataFrame:
    """The table as text for people: percents to one decimal (half away from zero).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2017, 2018]).incidents
    >>> t = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area)
    >>> display_table(t).loc[0, ["Zone", "Change"]].tolist()
    ['North', '-20.0%']
    """
    out = []
    for r in _as_table(table).to_dict("records"):

        def ci(v, lo, hi):
            if v is None or not np.isfinite(v):
                return "-"
            return f"{v:.2f} ({lo:.2f}-{hi:.2f})"

        out.append(
            {
                "Zone": r["zone"],
                "Crime": r["crime"].replace("_", " "),
                "Before": f"{r['zone_before']:,}",
                "After": f"{r['zone_after']:,}",
                "Change": format_pct(r["zone_pct_change"]),
                "p": _p_short(r["p_value"]),
                "IRR (95% CI)": ci(r["irr"], r["irr_low"], r["irr_high"]),
                "Ring": format_pct(r["ring_pct_change"]) if pd.notna(r["ring_before"]) else "-",
                "Control": (
                    format_pct(r["control_pct_change"]) if pd.notna(r["control_before"]) else "-"
                ),
                "vs control (95% CI)": ci(
                    r["relative_ratio"], r["relative_low"], r["relative_high"]
                ),
                "WDQ": f"{r['wdq']:.2f}" if np.isfinite(r["wdq"]) else "-",
                "Dispersion": f"{r['dispersion']:.2f}",
                "WDD (p)": (
                    f"{r['wdd']:+.0f} (p {_p_short(r['wdd_p'])})" if np.isfinite(r["wdd"]) else "-"
                ),
            }
        )
    return pd.DataFrame(out)


def to_markdown(table: pd.DataFrame | Comparison) -> str:
    """A Markdown table of :func:`display_table`, with the verdicts and notes below it.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2017, 2018]).incidents
    >>> t = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area)
    >>> to_markdown(t).splitlines()[0].split(" | ")[:3]
    ['| Zone', 'Crime', 'Before']
    """
    note = table.note if isinstance(table, Comparison) else table.attrs.get("note")
    table = _as_table(table)
    d = display_table(table)
    from ..io.safety import markdown_text as md  # zone names are user strings

    lines = ["| " + " | ".join(map(md, d.columns)) + " |", "|" + "---|" * len(d.columns)]
    lines += ["| " + " | ".join(map(md, row)) + " |" for row in d.itertuples(index=False)]
    lines.append("")
    lines += [f"- {md(v)}" for v in table["verdict"]]
    if "power_note" in table:  # what the test could have seen (evaluate.power)
        notes = [md(n) for n in table["power_note"] if n]
        lines += ["", "Power:"] + [f"- {n}" for n in notes] if notes else []
    if note:
        lines += ["", f"Note: {md(note)}"]
    return "\n".join(lines) + "\n"


def to_records(table: pd.DataFrame | TableView) -> list[dict]:
    """JSON-ready rows (NaN as null).

    Examples
    --------
    >>> to_records(pd.DataFrame({"pct": [float("nan"), -20.0]}))
    [{'pct': None}, {'pct': -20.0}]
    """
    table = _as_table(table)
    clean = table.astype(object).where(pd.notna(table), None)
    return clean.to_dict("records")

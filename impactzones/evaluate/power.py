"""Power and the minimum detectable effect of a before/after comparison.

Before a zone starts, a commander should know what reduction could be told apart from
noise. For a zone whose before window holds ``mu0`` incidents on average, an after window
``k`` times as long and a true change ``e`` (``-0.2`` for a 20% drop), the after count has
mean ``mu1 = k mu0 (1 + e)``. The test is the Wald test of the log rate ratio, whose
variance under a quasi-Poisson dispersion ``phi`` (variance = ``phi`` x mean) is::

    zone alone:           V = phi (1/mu0 + 1/mu1)
    zone against control: V = phi (1/mu0 + 1/mu1) + phi_c (1/c0 + 1/c1)

and the two-sided power at level ``alpha`` is::

    power = Phi(|log(1 + e)| / sqrt(V) - z) + Phi(-|log(1 + e)| / sqrt(V) - z),
    z = Phi^-1(1 - alpha/2)

(the normal approximation to the test of two Poisson rates; Cohen 1988, ch. 12; Gu, Ng,
Tang & Schucany 2008 compare it with the exact tests). The **minimum detectable effect**
(MDE) is the drop ``e`` whose power is 80%, found by root finding. Power for the E-test of
the comparison table is within a few points of this (see the tests, which simulate both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.defaults import ALPHA
from ..core.errors import InputError
from ..core.lazy import lazy_module

optimize = lazy_module("scipy.optimize")  # at first use: not by the picture worker
stats = lazy_module("scipy.stats")  # at first use: not by the picture worker

__all__ = [
    "PowerResult",
    "add_power",
    "minimum_detectable_effect",
    "power_for",
    "simulate_power",
    "zone_power",
]


@dataclass(frozen=True)
class PowerResult:
    """Power of a before/after test for one zone, and its minimum detectable drop.

    Attributes
    ----------
    baseline : float
        Expected incidents in the before window.
    effect_pct : float
        The change the power is for (percent; negative is a drop).
    power : float
        Probability (0 to 1) the test finds that change at level ``alpha``.
    mde_pct : float
        The smallest drop (a negative percent) found with probability ``target`` (80%);
        NaN when even a 99.9% drop is not.
    params : dict
        Window lengths, dispersion, control counts, ``alpha``, ``target`` and the test.
    verdict : str
        The result in plain words.
    """

    baseline: float
    effect_pct: float
    power: float
    mde_pct: float
    params: dict = field(repr=False)
    verdict: str = ""


def _se(mu0, e, k, phi, control, phi_c):
    mu1 = k * mu0 * (1 + e)
    v = phi * (1 / mu0 + 1 / mu1)
    if control is not None:
        c0, c1 = control
        v += phi_c * (1 / c0 + 1 / c1)
    return math.sqrt(v)


def power_for(
    baseline: float,
    effect: float,
    *,
    ratio: float = 1.0,
    dispersion: float = 1.0,
    control: tuple[float, float] | None = None,
    control_dispersion: float = 1.0,
    alpha: float = ALPHA.default,
) -> float:
    """Power (0 to 1) of the two-sided Wald test of the log rate ratio for a change.

    Parameters
    ----------
    baseline : float
        Expected incidents in the before window.
    effect : float
        The true relative change (``-0.2`` for a 20% drop).
    ratio : float, default 1
        Length of the after window over the before window.
    dispersion : float, default 1
        Variance over mean of the counts (1 for Poisson; a quasi-Poisson ``phi``).
    control : (float, float), optional
        Expected control counts before and after: the test is then of the zone's change
        relative to the control's (a difference in differences).
    control_dispersion : float, default 1
        The control's variance over mean.
    alpha : float, default 0.05
        The test's level.

    Examples
    --------
    >>> round(power_for(200, -0.2), 2)  # 200 incidents a year, a 20% drop next year
    0.56
    """
    alpha = ALPHA.check(alpha)
    if not baseline > 0 or not ratio > 0 or not dispersion > 0:
        raise InputError("Baseline, window ratio and dispersion must be positive numbers.")
    if not -1 < effect:
        raise InputError(f"A change must be above -100%, got {100 * effect:g}%.")
    if effect == 0:
        return alpha
    from scipy import special

    # the normal quantile and distribution function as scipy.stats.norm computes them
    # (ndtri, ndtr), without its per-call argument handling: minimum_detectable_effect
    # calls this in a root search
    z = special.ndtri(1 - alpha / 2)
    se = _se(baseline, effect, ratio, dispersion, control, control_dispersion)
    d = abs(math.log1p(effect)) / se
    return float(special.ndtr(d - z) + special.ndtr(-d - z))


def _power_grid(
    baseline: float,
    effects: np.ndarray,
    *,
    ratio: float = 1.0,
    dispersion: float = 1.0,
    control: tuple[float, float] | None = None,
    control_dispersion: float = 1.0,
    alpha: float = ALPHA.default,
) -> np.ndarray:
    """:func:`power_for` at many effects at once (the same formula on arrays: one call
    instead of a thousand scalar ``scipy.stats`` calls)."""
    from scipy import special

    z = special.ndtri(1 - alpha / 2)
    v = dispersion * (1 / baseline + 1 / (ratio * baseline * (1 + effects)))
    if control is not None:
        v = v + control_dispersion * (1 / control[0] + 1 / control[1])
    d = np.abs(np.log1p(effects)) / np.sqrt(v)
    return special.ndtr(d - z) + special.ndtr(-d - z)


def minimum_detectable_effect(baseline: float, *, target: float = 0.8, **kw) -> float:
    """The smallest drop (a negative fraction) found with probability ``target``.

    Takes the keywords of :func:`power_for`. NaN when even a 99.9% drop has less power.

    Examples
    --------
    >>> round(minimum_detectable_effect(200), 3)
    -0.262
    """
    # power rises with the drop, then falls again near -100% (the after count's variance
    # term 1/mu1 explodes): take the first crossing on a grid and refine it
    grid = -np.linspace(0.001, 0.999, 999)
    power_for(baseline, grid[0], **kw)  # the checks, once
    pw = _power_grid(baseline, grid, **kw)
    above = np.flatnonzero(pw >= target)
    if len(above) == 0:
        return math.nan
    i = int(above[0])
    hi = grid[i - 1] if i > 0 else -1e-9
    return float(optimize.brentq(lambda e: power_for(baseline, e, **kw) - target, grid[i], hi))


def zone_power(
    baseline: float,
    *,
    effect: float = -0.2,
    ratio: float = 1.0,
    dispersion: float = 1.0,
    control: tuple[float, float] | None = None,
    control_dispersion: float = 1.0,
    alpha: float = ALPHA.default,
    target: float = 0.8,
    where: str = "this zone",
) -> PowerResult:
    """Power for a change and the minimum detectable drop, with a sentence.

    Examples
    --------
    >>> r = zone_power(60)
    >>> round(r.power, 2), round(r.mde_pct)
    (0.21, -46)
    >>> r.verdict[:59]
    'A 20% drop in this zone would be detected 21% of the time ('
    """
    kw: dict[str, Any] = dict(
        ratio=ratio,
        dispersion=dispersion,
        control=control,
        control_dispersion=control_dispersion,
        alpha=alpha,
    )
    p = power_for(baseline, effect, **kw)
    mde = minimum_detectable_effect(baseline, target=target, **kw)
    change = f"{abs(effect):.0%} {'drop' if effect < 0 else 'rise'}"
    text = (
        f"A {change} in {where} would be detected {p:.0%} of the time ({baseline:,.0f} "
        f"incidents before, two-sided test at {alpha:.0%})"
    )
    if math.isfinite(mde):
        text += f"; a drop of {abs(mde):.0%} or more would be detected {target:.0%} of the time."
    else:
        text += f"; no drop would be detected {target:.0%} of the time."
    params: dict[str, Any] = dict(kw, target=target, test="relative" if control else "zone")
    params["control"] = list(control) if control else None
    return PowerResult(float(baseline), 100 * effect, p, 100 * mde, params, text)


def simulate_power(
    baseline: float,
    effect: float,
    *,
    ratio: float = 1.0,
    dispersion: float = 1.0,
    alpha: float = ALPHA.default,
    test: str = "wald",
    n: int = 2000,
    seed: int = 0,
) -> float:
    """Power by simulation: the share of ``n`` simulated before/after pairs the test rejects.

    Counts are Poisson (``dispersion`` 1) or gamma-Poisson with variance ``dispersion`` x
    mean. ``test``: ``"wald"`` (the log rate ratio, variance scaled by the dispersion) or
    ``"etest"`` (the Poisson E-test of the comparison table; scipy).

    Examples
    --------
    >>> round(simulate_power(200, -0.2, n=400, seed=1), 1)
    0.6
    """
    alpha = ALPHA.check(alpha)
    rng = np.random.default_rng(seed)
    means = np.array([baseline, ratio * baseline * (1 + effect)])

    def draw(size):
        mu = np.broadcast_to(means, (size, 2))
        if dispersion > 1:  # gamma shape mu / (phi - 1) gives variance phi * mu
            shape = mu / (dispersion - 1)
            mu = rng.gamma(shape, mu / shape)
        return rng.poisson(mu)

    y = draw(n)
    if test == "etest":
        p = [stats.poisson_means_test(int(b), 1.0, int(a), ratio).pvalue for a, b in y]
        return float(np.mean(np.asarray(p) < alpha))
    ok = (y > 0).all(axis=1)
    b, a = y[:, 0].astype(float), y[:, 1].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        zstat = np.log((a / ratio) / b) / np.sqrt(dispersion * (1 / a + 1 / b))
    reject = ok & (np.abs(zstat) > stats.norm.ppf(1 - alpha / 2))
    return float(np.mean(reject))


def add_power(
    table,
    *,
    effect: float = -0.2,
    target: float = 0.8,
    alpha: float = ALPHA.default,
    windows=None,
    normalise: str | None = None,
):
    """Add the power for a drop and the minimum detectable drop to a comparison table.

    For each zone (and citywide) row, from its before count, the two windows' lengths and
    the row's ``dispersion`` when the table has one (else 1, Poisson): ``power_20`` (the
    chance the zone-alone test finds a ``effect`` change; the name follows the default
    -20%), ``mde_80`` (the smallest drop, in percent, found with probability ``target``)
    and ``power_note``, a sentence. ``windows`` are the comparison's ``(before, after)``
    (:class:`~impactzones.core.windows.Window`; default: the table's ``attrs["windows"]``
    as earlier versions kept them, else equal lengths) and ``normalise`` its setting.

    Examples
    --------
    >>> import pandas as pd
    >>> t = add_power(pd.DataFrame({"zone": ["North"], "zone_before": [200]}))
    >>> round(float(t.loc[0, "power_20"]), 2), round(float(t.loc[0, "mde_80"]), 1)
    (0.56, -26.2)
    """
    alpha = ALPHA.check(alpha)
    if windows is None:  # the way earlier versions passed them
        windows = table.attrs.get("windows")
        normalise = table.attrs.get("normalise", normalise)
    out = table.copy()
    out.attrs = dict(table.attrs)
    ratio = windows[1].days / windows[0].days if windows else 1.0
    if normalise is None and windows and _equal_years(windows):
        ratio = 1.0
    powers, mdes, notes = [], [], []
    for r in table.to_dict("records"):
        base = r.get("zone_before")
        phi = r.get("dispersion", 1.0)
        phi = float(phi) if phi is not None and np.isfinite(phi) and phi > 0 else 1.0
        if base is None or not np.isfinite(base) or base <= 0:
            powers.append(math.nan)
            mdes.append(math.nan)
            notes.append("")
            continue
        where = "citywide" if r["zone"] == "Citywide" else f"the {r['zone']} zone"
        res = zone_power(
            float(base),
            effect=effect,
            ratio=ratio,
            dispersion=phi,
            alpha=alpha,
            target=target,
            where=where,
        )
        powers.append(res.power)
        mdes.append(res.mde_pct)
        notes.append(res.verdict)
    out["power_20"] = powers
    out["mde_80"] = mdes
    out["power_note"] = notes
    return out


def _equal_years(windows) -> bool:
    b, a = windows
    return b.label.isdigit() and a.label.isdigit()

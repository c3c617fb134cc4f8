"""Interrupted time series for an Impact Zone: did the zone's monthly series break from its
own trend and seasonality, and from the control's?

The counts of one crime group (or category) per month (or week) are formed for three areas:
the **zone**, its **ring** (a buffer of ``ring`` metres, every zone excluded) and the
**control** (the rest of the city, outside every zone and ring). Two count regressions are
fitted with statsmodels, each with ``log(days in the period)`` as the offset:

* **zone alone** (segmented regression; Wagner et al. 2002, Bernal et al. 2017)::

      log E[y_t] = log d_t + b0 + b1 t + season(month) + b2 post_t + b3 (t - t0) post_t

  ``t`` in years, ``post_t`` = 1 from the start period on. ``b2`` is the level change and
  ``b3`` the change in the yearly trend.
* **zone against control** (comparative ITS, a difference in differences; Linden 2015):
  both series stacked, with a zone indicator and its own intercept and pre-trend, the
  post terms shared, and the zone's extra level and slope change (``treated:post``,
  ``treated:t_since``) as the effect.

The **effect** is the average over the post period: the ratio of the expected counts with
the zone to those without it (the treatment terms set to zero), ``sum mu1 / sum mu0``, as
a percent, with a delta-method interval on the log scale. The family is Poisson with the
dispersion estimated from the Pearson chi-square (quasi-Poisson, the default), plain
Poisson, or negative binomial (NB2, ``alpha`` by the moment estimator on the Poisson fit).

The **parallel pre-trends** check fits the stacked pre-period series with a zone-specific
trend and tests it. The counterfactual plot shows the observed counts, the fitted series
and the expected counts without the zone with their interval.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.defaults import CONF, RING, describe
from ..core.drawing import fit_axes
from ..core.errors import InputError
from ..core.geo import require_same_crs
from ..core.lazy import lazy_module
from ..cube import is_cube
from ..io.writers import write_png

stats = lazy_module("scipy.stats")  # at first use: not by the picture worker

__all__ = [
    "Effect",
    "SeriesResult",
    "design_matrix",
    "draw_counterfactual",
    "evaluate_series",
    "fit_model",
    "formulas",
    "its_from_counts",
    "nb_alpha",
    "periods_of",
    "plot_counterfactual",
    "series_counts",
    "simulate_counts",
]

MODELS = ("quasipoisson", "poisson", "negbin")
SEASONALITY = ("auto", "month", "harmonic", "none")
#: The pre-period needs at least this many months of data for month-of-year dummies under
#: ``seasonality="auto"`` (two of each month); otherwise one harmonic (a sine and a cosine).
MONTH_DUMMIES_MIN_PRE_MONTHS = 24


@dataclass(frozen=True)
class Effect:
    """An effect as a percent change with its interval and p-value."""

    pct: float
    low: float
    high: float
    p_value: float

    @classmethod
    def nan(cls) -> Effect:
        return cls(math.nan, math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class SeriesResult:
    """An interrupted time series evaluation of one zone and crime.

    Attributes
    ----------
    effect : Effect
        The zone alone: average post-period change against its own trend and seasonality.
    level, slope : Effect
        The zone alone: the immediate level change (percent) and the change in the yearly
        trend (percent per year).
    relative : Effect
        The zone against the control (difference in differences), average post effect.
    ring : Effect
        The ring alone, the same model as the zone (displacement shows as a rise).
    pretrend : Effect
        The zone's pre-period trend minus the control's (percent per year) and its p-value:
        a small p-value says the trends were not parallel.
    dispersion : float
        Pearson chi-square / degrees of freedom of the zone-alone model (for
        ``negbin``: its ``alpha``).
    pre_mape : float
        Mean absolute percent error of the fitted zone series in the pre period.
    table : DataFrame
        The stacked counts the models were fitted to (``period, area, y, days, t, moy,
        post, t_since, treated`` and the seasonal columns).
    counterfactual : DataFrame
        Per period of the zone: ``period, observed, fitted, expected, low, high``
        (``expected``: without the zone; ``low``/``high``: its interval).
    formulas : dict
        The statsmodels formulas, by model (``zone``, ``relative``, ``ring``, ``pretrend``).
    params : dict
        Every setting, for the record.
    verdict : str
        The result in plain words.
    """

    zone: str
    crime: str
    start: dt.date
    effect: Effect
    level: Effect
    slope: Effect
    relative: Effect
    ring: Effect
    pretrend: Effect
    dispersion: float
    pre_mape: float
    table: pd.DataFrame = field(repr=False)
    counterfactual: pd.DataFrame = field(repr=False)
    formulas: dict = field(repr=False)
    params: dict = field(repr=False)
    verdict: str = ""

    def to_dict(self) -> dict:
        """The statistics, params and verdict as JSON-ready values (NaN as None).

        Examples
        --------
        >>> r = its_from_counts(_example_counts(), "2018-01-01")
        >>> sorted(r.to_dict())[:3]
        ['crime', 'dispersion', 'effect']
        """

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, Effect):
                return {k: clean(x) for k, x in vars(v).items()}
            if isinstance(v, (dt.date, pd.Timestamp)):
                return v.isoformat()[:10]
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (np.floating, np.integer)):
                return clean(v.item())
            return v

        keys = ["zone", "crime", "start", "effect", "level", "slope", "relative", "ring"]
        keys += ["pretrend", "dispersion", "pre_mape", "formulas", "params", "verdict"]
        return {k: clean(getattr(self, k)) for k in keys}


# --------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------


def _periods(times: pd.Series, freq: str) -> pd.PeriodIndex:
    """Whole periods covered by the data: the longest run of consecutive periods whose
    incident count (all crimes) is at least half the 90th percentile of the periods with
    any, partial periods at either end left out. Exports by report date carry a thin tail
    of old occurrences (SLMPD's go back to 1900); those months are not a series."""
    code = {"M": "M", "W": "W-SUN"}[freq]
    t = times.dropna()
    per = _whole_periods(t.min(), t.max(), code)
    if len(per) == 0:
        return per
    return _busy_run(per, t.dt.to_period(code).value_counts().reindex(per, fill_value=0))


def _whole_periods(first, last, code: str) -> pd.PeriodIndex:
    """The whole periods (months or weeks) from ``first`` to ``last`` (both days in)."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    per = pd.period_range(first.to_period(code), last.to_period(code), freq=code)
    return per[
        (per.start_time >= first.normalize()) & (per.end_time.normalize() <= last.normalize())
    ]


def _busy_run(per: pd.PeriodIndex, counts: pd.Series) -> pd.PeriodIndex:
    """The longest run of ``per`` whose counts (all crimes) reach half the 90th percentile
    of the periods with any."""
    n = counts.reindex(per, fill_value=0).to_numpy()
    ok = n >= 0.5 * np.quantile(n[n > 0], 0.9) if (n > 0).any() else np.zeros(len(n), bool)
    best, run_start, best_span = (0, 0), None, 0
    for i, good in enumerate([*ok, False]):
        if good and run_start is None:
            run_start = i
        elif not good and run_start is not None:
            if i - run_start > best_span:
                best, best_span = (run_start, i), i - run_start
            run_start = None
    return per[best[0] : best[1]]


def series_counts(
    incidents,
    zones,
    zone: str,
    *,
    crime: str = "violent",
    by: str = "group",
    ring: float = RING.default,
    study_area=None,
    freq: str = "M",
) -> pd.DataFrame:
    """Counts per period for a zone, its ring and the control area.

    Periods run over the whole months (``freq="M"``) or weeks (``"W"``, Monday to Sunday)
    that the data cover: the longest run of periods with at least half the 90th percentile's
    incidents (so a thin tail of old occurrences in an export by report date is left out),
    partial periods at either end left out. ``incidents`` may be a count cube (see
    :func:`evaluate_series`).

    Returns
    -------
    DataFrame
        ``period`` (first day), ``area`` (``zone``, ``ring``, ``control``), ``y`` (count) and
        ``days`` (days in the period).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=1, years=[2017, 2018]).incidents
    >>> c = series_counts(inc, layers.zones, "North", study_area=layers.study_area)
    >>> len(c), sorted(c["area"].unique())
    (72, ['control', 'ring', 'zone'])
    """
    ring = RING.check(ring)
    from .compare import _MEMBERSHIP_READS, geometry_key, reused

    if is_cube(incidents):  # counts by cell (or the cube's exact counts per area)
        return _series_counts_cube(incidents, zones, zone, crime, by, ring, study_area, freq)
    if freq not in ("M", "W"):
        raise InputError(f"freq must be 'M' (months) or 'W' (weeks), got {freq!r}.")
    if by not in ("group", "category"):
        raise InputError(f"by must be 'group' or 'category', got {by!r}.")
    names = zones["name"].astype(str).tolist()
    if zone not in names:
        raise InputError(f"No zone named {zone!r}; the zones are {', '.join(names)}.")
    times = pd.to_datetime(incidents["occurred_at"])
    if times.notna().sum() == 0:
        raise InputError("The incidents have no dates, so there is no series to evaluate.")
    per = periods_of(incidents, freq)
    if len(per) == 0:
        raise InputError("The incidents do not cover one whole period, so there is no series.")
    key: tuple = ("series_counts", zone, crime, by, float(ring), freq, tuple(names))
    key += (geometry_key(zones.geometry), geometry_key(study_area))
    where = (zones, names.index(zone), ring, study_area)
    made = reused(
        incidents, key, lambda: (_counts_table(incidents, times, per, where, crime, by),),
        reads=("occurred_at", by, *_MEMBERSHIP_READS),
    )  # fmt: skip
    return made[0]


def periods_of(incidents: pd.DataFrame, freq: str) -> pd.PeriodIndex:
    """The whole periods (``"M"`` months or ``"W"`` weeks) the incidents' ``occurred_at``
    cover, as :func:`series_counts` takes them (found once per table inside
    :func:`~.compare.reuse_memberships`).

    Examples
    --------
    >>> inc = pd.DataFrame({"occurred_at": pd.date_range("2018-01-01", "2018-03-31", freq="D")})
    >>> [str(p) for p in periods_of(inc, "M")]
    ['2018-01', '2018-02', '2018-03']
    """
    from .compare import reused

    return reused(
        incidents, ("periods", freq),
        lambda: (_periods(pd.to_datetime(incidents["occurred_at"]), freq),),
        reads=["occurred_at"],
    )[0]  # fmt: skip


def _counts_table(incidents, times, per, where: tuple, crime: str, by: str) -> pd.DataFrame:
    """:func:`series_counts`' table: the zone's, its ring's and the control area's counts
    in each period of ``per``; ``where``: the zones, the zone's position, the ring width
    and the study area."""
    from .compare import _memberships

    zones, zi, ring, study_area = where
    in_zone, in_ring, control, _ = _memberships(incidents, zones, ring, study_area)
    sel = (incidents[by] == crime).to_numpy()
    code = per.freqstr
    p_of = times.dt.to_period(code)
    # each period's first day and length, worked out once for the three areas
    spans = [(p, p.start_time, int((p.end_time - p.start_time).days) + 1) for p in per]
    rows = []
    for area, mask in (("zone", in_zone[:, zi]), ("ring", in_ring[:, zi]), ("control", control)):
        counts = p_of[mask & sel].value_counts()
        rows += [(start, area, int(counts.get(p, 0)), days) for p, start, days in spans]
    return pd.DataFrame(rows, columns=["period", "area", "y", "days"])


def _series_counts_cube(cube, zones, zone, crime, by, ring, study_area, freq) -> pd.DataFrame:
    """:func:`series_counts` from a count cube: its periods summed to months or weeks."""
    from ..cube import cube_freq, cube_grid, cube_span
    from ._from_cube import area_series, cube_crimes, exact_areas

    if freq not in ("M", "W"):
        raise InputError(f"freq must be 'M' (months) or 'W' (weeks), got {freq!r}.")
    if freq == "W" and cube_freq(cube) != "day":
        raise InputError("Weekly counts need a daily cube (build_cube(..., freq='day')).")
    require_same_crs(cube_grid(cube).crs, zones.crs, "The count cube and the zones")
    names = zones["name"].astype(str).tolist()
    if zone not in names:
        raise InputError(f"No zone named {zone!r}; the zones are {', '.join(names)}.")
    cube_crimes(cube, by, [crime])
    code = {"M": "M", "W": "W-SUN"}[freq]
    of = pd.DatetimeIndex(cube["time"].values).to_period(code)
    total = pd.Series(np.asarray(cube["count"].sum(dim=["group", "y", "x"]).values), index=of)
    first, last = cube_span(cube)
    per = _whole_periods(first, last, code)
    per = _busy_run(per, total.groupby(level=0).sum()) if len(per) else per
    if len(per) == 0:
        raise InputError("The cube does not cover one whole period, so there is no series.")
    series = area_series(cube, zones, ring, study_area, exact_areas(cube, zones, ring, study_area))
    g = [str(v) for v in cube["group"].values].index(crime)
    zi, n = names.index(zone), len(names)
    rows = []
    for area, j in (("zone", zi), ("ring", n + zi), ("control", 2 * n)):
        by_period = pd.Series(series[:, g, j], index=of).groupby(level=0).sum()
        for p in per:
            days = int((p.end_time - p.start_time).days) + 1
            rows.append((p.start_time, area, int(by_period.get(p, 0)), days))
    return pd.DataFrame(rows, columns=["period", "area", "y", "days"])


def _example_counts(effect: float = -0.2, seed: int = 0) -> pd.DataFrame:
    """Monthly counts 2015-2019 for a zone and a control with a planted effect in 2018."""
    return simulate_counts(seed=seed, effect=effect)


def simulate_counts(
    *,
    seed: int = 0,
    effect: float = -0.2,
    start: str = "2018-01-01",
    first: str = "2015-01-01",
    months: int = 60,
    zone_mean: float = 40.0,
    control_mean: float = 800.0,
    trend: float = -0.03,
    season: float = 0.18,
    alpha: float = 0.02,
) -> pd.DataFrame:
    """Monthly negative-binomial counts with a planted zone effect (a simulation truth).

    The zone's mean is ``zone_mean * exp(trend t) * (1 + season cos(2 pi (m - 7) / 12))``,
    times ``1 + effect`` from ``start``; the control has the same trend and seasonality and
    no effect; the ring is like the zone at half its size, with no effect. Counts are
    negative binomial with variance ``mu + alpha mu^2``.

    Examples
    --------
    >>> c = simulate_counts(seed=1)
    >>> len(c), c["area"].unique().tolist()
    (180, ['zone', 'ring', 'control'])
    """
    rng = np.random.default_rng(seed)
    periods = pd.date_range(first, periods=months, freq="MS")
    t = (periods - periods[0]).days.to_numpy() / 365.25
    m = periods.month.to_numpy()
    days = periods.days_in_month.to_numpy()
    base = np.exp(trend * t) * (1 + season * np.cos(2 * np.pi * (m - 7) / 12)) * days / 30.4
    post = periods >= pd.Timestamp(start)
    rows = []
    for area, mean, eff in (
        ("zone", zone_mean, effect),
        ("ring", zone_mean / 2, 0.0),
        ("control", control_mean, 0.0),
    ):
        mu = mean * base * np.where(post, 1 + eff, 1.0)
        if alpha > 0:
            lam = rng.gamma(1 / alpha, alpha * mu)
        else:
            lam = mu
        y = rng.poisson(lam)
        rows.append(pd.DataFrame({"period": periods, "area": area, "y": y, "days": days}))
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------


def _design(counts: pd.DataFrame, start: pd.Timestamp, seasonality: str) -> pd.DataFrame:
    d = counts.copy()
    d["period"] = pd.to_datetime(d["period"])
    first = d["period"].min()
    d["t"] = (d["period"] - first).dt.days / 365.25
    d["moy"] = d["period"].dt.month
    d["post"] = (d["period"] >= start).astype(float)
    d["t_since"] = np.where(d["post"] > 0, (d["period"] - start).dt.days / 365.25, 0.0)
    d["treated"] = (d["area"] == "zone").astype(float)
    ang = 2 * np.pi * d["moy"] / 12
    d["sin1"], d["cos1"] = np.sin(ang), np.cos(ang)
    return d


def _seasonal_terms(seasonality: str) -> str:
    return {"month": " + C(moy)", "harmonic": " + sin1 + cos1", "none": ""}[seasonality]


def formulas(seasonality: str = "month", slope: bool = True) -> dict:
    """The statsmodels formulas of the models, by name.

    Examples
    --------
    >>> formulas("month")["zone"]
    'y ~ t + C(moy) + post + t_since'
    """
    s = _seasonal_terms(seasonality)
    change = " + post + t_since" if slope else " + post"
    rel = " + treated:post + treated:t_since" if slope else " + treated:post"
    return {
        "zone": f"y ~ t{s}{change}",
        "ring": f"y ~ t{s}{change}",
        "relative": f"y ~ treated + t + treated:t{s}{change}{rel}",
        "pretrend": f"y ~ treated + t + treated:t{s}",
    }


def fit_model(
    formula: str, data: pd.DataFrame, model: str = "quasipoisson", *, by_area: bool = False
):
    """Fit one count regression with ``log(days)`` as the offset.

    ``quasipoisson``: Poisson GLM with the scale from the Pearson chi-square (``X2``);
    ``poisson``: scale 1; ``negbin``: an NB2 GLM with ``alpha`` from :func:`nb_alpha` on
    the Poisson fit (kept as ``res.nb_alpha``).

    With ``by_area`` (stacked zone and control series) a quasi-Poisson fit lets each area
    have its own dispersion: the Pearson dispersion of each area's rows in a first Poisson
    fit (degrees of freedom shared in proportion to the rows) becomes the inverse of its
    rows' ``var_weights`` in the final fit (kept as ``res.area_dispersion``). A control
    area of thousands of incidents is far more overdispersed, relative to the Poisson, than
    a zone of dozens; one pooled dispersion would widen the zone's interval for nothing.

    The design matrix of the package's own formulas (see :func:`formulas`) is built
    directly (:func:`design_matrix`: the columns, names and order patsy gives); any other
    formula goes through statsmodels' formula interface. Either way the same statsmodels
    GLM is fitted to the same numbers.

    Examples
    --------
    >>> d = _design(_example_counts(), pd.Timestamp("2018-01-01"), "month")
    >>> res = fit_model("y ~ t + post", d[d["area"] == "zone"])
    >>> round(float(np.exp(res.params["post"])), 2)
    0.76
    """
    from statsmodels.genmod import families

    data = data.reset_index(drop=True)
    offset = np.log(data["days"].to_numpy(float))
    glm = _glm_maker(formula, data)
    res = glm(families.Poisson(), offset).fit(scale="X2" if model == "quasipoisson" else None)
    if model == "quasipoisson" and by_area:
        phi = _area_dispersion(data, np.asarray(res.mu), res.df_resid)
        w = 1.0 / np.array([phi[str(a)] for a in data["area"]], dtype=float)
        res = glm(families.Poisson(), offset, var_weights=w).fit(scale="X2")
        res.area_dispersion = phi
    if model != "negbin":
        return res
    alpha = nb_alpha(data["y"].to_numpy(float), np.asarray(res.mu), res.df_resid)
    nb = glm(families.NegativeBinomial(alpha=max(alpha, 1e-8)), offset).fit()
    nb.nb_alpha = alpha
    return nb


def _glm_maker(formula: str, data: pd.DataFrame):
    """``make(family, offset, **kw)``: a statsmodels GLM of ``formula`` on ``data``, from
    the design matrix built directly when :func:`design_matrix` can, else from the
    formula (patsy)."""
    built = design_matrix(formula, data)
    if built is None:
        import statsmodels.formula.api as smf

        return lambda family, offset, **kw: smf.glm(
            formula, data, family=family, offset=offset, **kw
        )
    from statsmodels.genmod.generalized_linear_model import GLM

    endog, exog = built
    return lambda family, offset, **kw: GLM(endog, exog, family=family, offset=offset, **kw)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def design_matrix(formula: str, data: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame] | None:
    """The response and design matrix of a simple formula, as patsy builds them, or None.

    Simple: ``y ~ a + b + a:b + C(m)``: an intercept, numeric columns, products of numeric
    columns and at most one categorical term ``C(col)`` of an integer column (treatment
    coding, the smallest level as reference), with no missing values. The columns come
    in patsy's order (intercept, the categorical's dummies, then the other terms as
    written) with patsy's names, so a GLM fitted to them is the one
    ``statsmodels.formula.api.glm`` fits, to the last digit. None for anything else
    (the caller then uses the formula interface).

    Parameters
    ----------
    formula : str
        A patsy formula.
    data : DataFrame
        The columns the formula names.

    Returns
    -------
    (Series, DataFrame) or None
        The response (float) and the design matrix (float columns, ``data``'s index).

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1, 2, 3, 4], "t": [0.0, 1.0, 2.0, 3.0], "m": [1, 2, 1, 2]})
    >>> y, X = design_matrix("y ~ t + C(m) + t:t", d) or (None, None)
    >>> X is None  # a term repeated (t:t is t): left to patsy
    True
    >>> y, X = design_matrix("y ~ t + C(m)", d)
    >>> X.columns.tolist()
    ['Intercept', 'C(m)[T.2]', 't']
    """
    terms = _simple_terms(formula)
    if terms is None:
        return None
    response, numeric, categorical = terms
    used = [response, *{c for term in numeric for c in term}, *categorical]
    if any(c not in data for c in used):
        return None
    arrays = {c: data[c].to_numpy() for c in used}
    if any(a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and np.isnan(a).any())
           for a in arrays.values()):  # fmt: skip
        return None  # not plain numbers, or missing values: patsy decides
    names, cols = ["Intercept"], [np.ones(len(data))]
    for c in categorical:
        values = arrays[c]
        if values.dtype.kind not in "iu":
            return None
        for level in np.unique(values)[1:]:
            names.append(f"C({c})[T.{level}]")
            cols.append((values == level).astype(float))
    for term in numeric:
        col = arrays[term[0]].astype(float)
        for c in term[1:]:
            col = col * arrays[c].astype(float)
        names.append(":".join(term))
        cols.append(col)
    # one C-ordered matrix, as patsy hands it to pandas
    matrix = np.ascontiguousarray(np.column_stack(cols), dtype=float)
    endog = pd.Series(arrays[response].astype(float), index=data.index, name=response)
    return endog, pd.DataFrame(matrix, columns=names, index=data.index)


def _simple_terms(formula: str):
    """``(response, numeric terms, categorical columns)`` of a simple formula (see
    :func:`design_matrix`), or None."""
    if formula.count("~") != 1:
        return None
    lhs, rhs = (side.strip() for side in formula.split("~"))
    if not _NAME.fullmatch(lhs):
        return None
    numeric: list[tuple[str, ...]] = []
    categorical: list[str] = []
    seen: set[frozenset] = set()
    for raw in rhs.split("+"):
        term = raw.strip()
        cat = re.fullmatch(r"C\(([A-Za-z_][A-Za-z0-9_]*)\)", term)
        if cat:
            key = frozenset([term])
            categorical.append(cat.group(1))
        else:
            factors = tuple(f.strip() for f in term.split(":"))
            if not all(_NAME.fullmatch(f) for f in factors) or len(set(factors)) < len(factors):
                return None
            key = frozenset(factors)
            numeric.append(factors)
        if key in seen:
            return None
        seen.add(key)
    if len(categorical) > 1 or lhs in {c for t in numeric for c in t} | set(categorical):
        return None
    return lhs, numeric, categorical


def _area_dispersion(data: pd.DataFrame, mu: np.ndarray, df_resid: float) -> dict:
    y = data["y"].to_numpy(float)
    chi = (y - mu) ** 2 / mu
    n = len(data)
    out = {}
    areas, code = np.unique(data["area"].to_numpy(dtype=object), return_inverse=True)
    for k, area in enumerate(areas):  # sorted, as groupby gives them
        rows = np.flatnonzero(code == k)
        df = df_resid * len(rows) / n
        out[str(area)] = max(float(chi[rows].sum() / df), 1e-6) if df > 0 else 1.0
    return out


def nb_alpha(y: np.ndarray, mu: np.ndarray, df_resid: float) -> float:
    """Moment estimate of the NB2 dispersion ``alpha`` (``Var = mu + alpha mu^2``) from a
    Poisson fit (Cameron & Trivedi 2013, eq. 3.13), floored at zero.

    Examples
    --------
    >>> round(nb_alpha(np.array([5.0, 15.0]), np.array([10.0, 10.0]), 1.0), 2)
    0.3
    """
    if df_resid <= 0:
        return math.nan
    return max(float(np.sum(((y - mu) ** 2 - y) / mu**2) / df_resid), 0.0)


def _pct(log_ratio: float) -> float:
    """A log rate ratio as a percent change; ``inf`` past float range (an unbounded interval
    from a near-separated fit, written as null), never an OverflowError."""
    return math.inf if log_ratio >= 709 else 100 * math.expm1(log_ratio)


def _coef_effect(res, term: str, conf: float) -> Effect:
    if term not in res.params.index:
        return Effect.nan()
    b, se = float(res.params[term]), float(res.bse[term])
    q = stats.norm.ppf(0.5 + conf / 2)
    p = float(2 * stats.norm.sf(abs(b / se))) if se > 0 else math.nan
    pct = [_pct(v) for v in (b, b - q * se, b + q * se)]
    return Effect(pct[0], pct[1], pct[2], p)


def _avg_effect(res, data: pd.DataFrame, rows: np.ndarray, terms: list[str], conf: float):
    """Average post effect ``sum mu1 / sum mu0`` over ``rows`` (delta method on the log)."""
    fitted = set(res.params.index)  # res.params makes a new Series at each access
    names = [n for n in res.model.exog_names if n in fitted]
    idx = [names.index(t) for t in terms if t in names]
    if not rows.any() or not idx:
        return Effect.nan()
    X = np.asarray(res.model.exog)[rows][:, : len(names)]
    off = np.log(data["days"].to_numpy(float))[rows]
    b = res.params[names].to_numpy(float)
    V = res.cov_params().loc[names, names].to_numpy(float)
    X0 = X.copy()
    X0[:, idx] = 0.0
    mu1, mu0 = np.exp(X @ b + off), np.exp(X0 @ b + off)
    log_r = math.log(mu1.sum()) - math.log(mu0.sum())
    g = X.T @ mu1 / mu1.sum() - X0.T @ mu0 / mu0.sum()
    se = math.sqrt(max(float(g @ V @ g), 0.0))
    q = stats.norm.ppf(0.5 + conf / 2)
    p = float(2 * stats.norm.sf(abs(log_r / se))) if se > 0 else math.nan
    pct = [_pct(v) for v in (log_r, log_r - q * se, log_r + q * se)]
    return Effect(pct[0], pct[1], pct[2], p)


def _counterfactual(res, data: pd.DataFrame, terms: list[str], conf: float) -> pd.DataFrame:
    fitted = set(res.params.index)
    names = [n for n in res.model.exog_names if n in fitted]
    X = np.asarray(res.model.exog)[:, : len(names)]
    off = np.log(data["days"].to_numpy(float))
    b = res.params[names].to_numpy(float)
    V = res.cov_params().loc[names, names].to_numpy(float)
    X0 = X.copy()
    X0[:, [names.index(t) for t in terms if t in names]] = 0.0
    eta0 = X0 @ b + off
    se0 = np.sqrt(np.einsum("ij,jk,ik->i", X0, V, X0).clip(min=0))
    q = stats.norm.ppf(0.5 + conf / 2)
    return pd.DataFrame(
        {
            "period": data["period"].to_numpy(),
            "observed": data["y"].to_numpy(),
            "fitted": np.exp(X @ b + off),
            "expected": np.exp(eta0),
            "low": np.exp(eta0 - q * se0),
            "high": np.exp(eta0 + q * se0),
            "post": data["post"].to_numpy() > 0,
        }
    )


def _dispersion(res, model: str) -> float:
    if model == "negbin":
        return float(res.nb_alpha)
    return float(res.pearson_chi2 / res.df_resid) if res.df_resid > 0 else math.nan


def _check(counts: pd.DataFrame, start: pd.Timestamp, model: str, seasonality: str, freq: str):
    if model not in MODELS:
        raise InputError(f"model must be one of {', '.join(MODELS)}, got {model!r}.")
    if seasonality not in SEASONALITY:
        raise InputError(
            f"seasonality must be one of {', '.join(SEASONALITY)}, got {seasonality!r}."
        )
    zone = counts[counts["area"] == "zone"]
    pre = int((pd.to_datetime(zone["period"]) < start).sum())
    post = len(zone) - pre
    if post == 0 and pre > 0:
        last = pd.to_datetime(zone["period"]).max().date()
        raise InputError(
            f"The start {start.date()} is after the last period of the series ({last}): an "
            f"interrupted time series needs at least 3 periods from the start."
        )
    if pre < 6 or post < 3:
        raise InputError(
            f"An interrupted time series needs at least 6 periods before the start and 3 "
            f"after it; the data give {pre} before {start.date()} and {post} from it."
        )
    if seasonality == "auto":
        months = pre if freq == "M" else pre * 7 / 30.44
        seasonality = "month" if months >= MONTH_DUMMIES_MIN_PRE_MONTHS else "harmonic"
    return seasonality, pre, post


def its_from_counts(
    counts: pd.DataFrame,
    start,
    *,
    zone: str = "zone",
    crime: str = "crime",
    model: str = "quasipoisson",
    seasonality: str = "auto",
    slope: bool = True,
    conf: float = CONF.default,
    freq: str | None = None,
) -> SeriesResult:
    """Interrupted time series models fitted to a table of counts per period.

    Parameters
    ----------
    counts : DataFrame
        ``period`` (first day), ``area`` (``zone``, ``control`` and optionally ``ring``),
        ``y`` and ``days``, as :func:`series_counts` returns.
    start : date or str
        The first day of the zone. A period that contains it (beginning before it) is left
        out as a transition.
    zone, crime : str
        Names for the verdict.
    model : {"quasipoisson", "poisson", "negbin"}
        The count model (see the module notes).
    seasonality : {"auto", "month", "harmonic", "none"}
        Month-of-year dummies, one harmonic, or none; ``auto`` takes dummies when the pre
        period has at least 24 months.
    slope : bool, default True
        Model a change in trend as well as in level.
    conf : float, default 0.95
        Confidence level of the intervals.
    freq : {"M", "W"}, optional
        Monthly or weekly periods (default: weekly when every period is 7 days or less).

    Examples
    --------
    >>> r = its_from_counts(simulate_counts(seed=3, effect=-0.2), "2018-01-01")
    >>> -35 < r.effect.pct < -5, r.effect.low < -20 < r.effect.high
    (True, True)
    """
    conf = CONF.check(conf)
    start = pd.Timestamp(start)
    freq = _freq_of(counts) if freq is None else freq
    c, transition = _without_transition(counts, start)
    seasonality, n_pre, n_post = _check(c, start, model, seasonality, freq)
    d = _design(c, start, seasonality)
    f = formulas(seasonality, slope)
    terms = ["post", "t_since"] if slope else ["post"]
    zd = d[d["area"] == "zone"].reset_index(drop=True)
    res_z = fit_model(f["zone"], zd, model)
    post_z = zd["post"].to_numpy() > 0
    effect = _avg_effect(res_z, zd, post_z, terms, conf)
    cf = _counterfactual(res_z, zd, terms, conf)
    obs, fit = zd["y"].to_numpy(float)[~post_z], cf["fitted"].to_numpy()[~post_z]
    mape = float(np.mean(np.abs(obs - fit) / fit) * 100)
    disp = {"zone": _dispersion(res_z, model)}
    ring = _ring_effect(d, f, model, terms, conf, disp)
    relative, pretrend = _relative_effects(d, f, model, slope, conf, disp)
    params = {
        "zone": zone,
        "crime": crime,
        "start": start.date().isoformat(),
        "freq": freq,
        "model": model,
        "seasonality": seasonality,
        "slope": slope,
        "conf": conf,
        "first_period": zd["period"].min().date().isoformat(),
        "last_period": zd["period"].max().date().isoformat(),
        "periods_before": n_pre,
        "periods_after": n_post,
        "transition_dropped": bool(transition),
        "zone_total": int(zd["y"].sum()),
        "dispersions": disp,
    }
    out = SeriesResult(
        zone=zone,
        crime=crime,
        start=start.date(),
        effect=effect,
        level=_coef_effect(res_z, "post", conf),
        slope=_coef_effect(res_z, "t_since", conf) if slope else Effect.nan(),
        relative=relative,
        ring=ring,
        pretrend=pretrend,
        dispersion=_dispersion(res_z, model),
        pre_mape=mape,
        table=d,
        counterfactual=cf,
        formulas=f,
        params=params,
    )
    return _with_verdict(out)


def _freq_of(counts: pd.DataFrame) -> str:
    """``"W"`` when every period is a week (7 days or less), else ``"M"``."""
    return "W" if len(counts) and (counts["days"] <= 7).all() else "M"


def _without_transition(counts: pd.DataFrame, start: pd.Timestamp):
    """The counts without the period that contains the start (beginning before it), and
    whether there was one."""
    c = counts.copy()
    c["period"] = pd.to_datetime(c["period"])
    ends = c["period"] + pd.to_timedelta(c["days"], unit="D")
    transition = (c["period"] < start) & (ends > start)
    return c[~transition].reset_index(drop=True), bool(transition.any())


def _ring_effect(d: pd.DataFrame, f: dict, model: str, terms, conf: float, disp: dict):
    """The ring's change against its own trend (NaN without ring incidents)."""
    rd = d[d["area"] == "ring"].reset_index(drop=True)
    if not len(rd) or rd["y"].sum() <= 0:
        return Effect.nan()
    res_r = fit_model(f["ring"], rd, model)
    disp["ring"] = _dispersion(res_r, model)
    return _avg_effect(res_r, rd, rd["post"].to_numpy() > 0, terms, conf)


def _relative_effects(d: pd.DataFrame, f: dict, model: str, slope: bool, conf: float, disp):
    """The zone's change against the control area's, and the difference in their
    pre-period trends (both NaN without a control area)."""
    if not (d["area"] == "control").any():
        return Effect.nan(), Effect.nan()
    sd = d[d["area"].isin(["zone", "control"])].reset_index(drop=True)
    res_s = fit_model(f["relative"], sd, model, by_area=True)
    rows = (sd["treated"] > 0).to_numpy() & (sd["post"] > 0).to_numpy()
    rel_terms = ["treated:post", "treated:t_since"] if slope else ["treated:post"]
    relative = _avg_effect(res_s, sd, rows, rel_terms, conf)
    disp["relative"] = _dispersion(res_s, model)
    if hasattr(res_s, "area_dispersion"):
        disp["relative_by_area"] = res_s.area_dispersion
    pre = sd[sd["post"] == 0].reset_index(drop=True)
    res_p = fit_model(f["pretrend"], pre, model, by_area=True)
    return relative, _coef_effect(res_p, "treated:t", conf)


def _pct_phrase(e: Effect, what: str) -> str:
    word = "lower" if e.pct < 0 else "higher"
    lo, hi = sorted((e.low, e.high))

    def side(v):
        return f"{abs(v):.0f}% {'lower' if v < 0 else 'higher'}"

    return (
        f"{abs(e.pct):.0f}% {word} than {what} (95% CI {side(lo)} to {side(hi)}; {_p(e.p_value)})"
    )


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "p undefined"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _label(crime: str) -> str:
    return {"violent": "Violent crime", "property": "Property crime"}.get(
        crime, crime.replace("_", " ").capitalize()
    )


def _with_verdict(r: SeriesResult) -> SeriesResult:
    from dataclasses import replace

    if not math.isfinite(r.effect.pct):
        return replace(r, verdict=f"{_label(r.crime)} in the {r.zone} zone: no effect estimated.")
    unit = "month" if r.params["freq"] == "M" else "week"
    text = (
        f"{_label(r.crime)} in the {r.zone} zone after {r.start:%-d %B %Y} was "
        + _pct_phrase(r.effect, "its own trend and seasonality predicted")
        + f" ({r.params['periods_before']} {unit}s before, {r.params['periods_after']} after)"
    )
    sig = r.effect.high < 0 or r.effect.low > 0
    text += "; a change beyond chance." if sig else "; within chance."
    months = r.params["periods_before"] * (1 if unit == "month" else 7 / 30.44)
    if months < MONTH_DUMMIES_MIN_PRE_MONTHS:
        text += (
            " With under two years before the start the trend is poorly pinned, so the "
            "interval is wide."
        )
    if math.isfinite(r.relative.pct):
        text += " Against the rest of the city it was " + _pct_phrase(r.relative, "expected")
        if math.isfinite(r.pretrend.p_value) and r.pretrend.p_value < 0.05:
            text += (
                f", but the zone's pre-period trend differed from the control's "
                f"({r.pretrend.pct:+.0f}% a year; {_p(r.pretrend.p_value)}), so that "
                "comparison is doubtful."
            )
        else:
            text += "; the pre-period trends were parallel"
            text += f" ({_p(r.pretrend.p_value)})." if math.isfinite(r.pretrend.p_value) else "."
    if math.isfinite(r.ring.pct):
        rsig = r.ring.high < 0 or r.ring.low > 0
        text += (
            f" The ring changed {r.ring.pct:+.0f}% against its own trend "
            f"({'beyond chance' if rsig else 'within chance'})."
        )
    return replace(r, verdict=text)


def evaluate_series(
    incidents,
    zone,
    start=None,
    *,
    zones=None,
    crime: str = "violent",
    by: str = "group",
    ring: float = RING.default,
    study_area=None,
    freq: str = "M",
    model: str = "quasipoisson",
    seasonality: str = "auto",
    slope: bool = True,
    conf: float = CONF.default,
) -> SeriesResult:
    """Interrupted time series evaluation of one Impact Zone from incidents.

    Parameters
    ----------
    incidents : GeoDataFrame or count cube
        Incidents in the zones' metric CRS, or a count cube of them
        (:func:`impactzones.cube.build_cube`; monthly for ``freq="M"``, daily for either),
        counted as :func:`impactzones.evaluate.compare.compare_zones` counts a cube (exact
        per-area counts when the cube has them for these zones, else by cell centre;
        ``params["source"]`` says which).
    zone : str or GeoDataFrame
        The zone's name in ``zones``, or a one-row zones layer (with ``name``).
    start : date or str, optional
        The zone's first day (default: its ``start`` column).
    zones : GeoDataFrame, optional
        Every zone (they and their rings are kept out of the control area).
    crime, by : str
        The crime group (``by="group"``) or category (``by="category"``) evaluated.
    ring : float, default 400
        Ring width in metres.
    study_area : shapely geometry, optional
        The city; incidents outside it are left out.
    freq : {"M", "W"}
        Monthly or weekly counts.
    model, seasonality, slope, conf
        See :func:`its_from_counts`.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=1, years=[2016, 2017, 2018]).incidents
    >>> r = evaluate_series(inc, "North", zones=layers.zones, study_area=layers.study_area)
    >>> r.effect.low < -20 < r.effect.high, r.params["seasonality"]
    (True, 'month')
    """
    ring, conf = RING.check(ring), CONF.check(conf)
    zone, zones, start = _zone_and_start(zone, zones, start)
    if not is_cube(incidents):
        require_same_crs(incidents.crs, zones.crs, "The incidents and zones")
    counts = series_counts(
        incidents, zones, zone, crime=crime, by=by, ring=ring, study_area=study_area, freq=freq
    )
    result = its_from_counts(
        counts,
        start,
        zone=zone,
        crime=crime,
        model=model,
        seasonality=seasonality,
        slope=slope,
        conf=conf,
        freq=freq,
    )
    result.params.update({"ring_m": ring, "ring_rule": describe("ring", ring)["ring_rule"]})
    result.params["by"] = by
    if is_cube(incidents):
        from ..cube import cube_grid
        from ._from_cube import exact_areas

        exact = exact_areas(incidents, zones, ring, study_area)
        result.params["source"] = {
            "input": "count cube",
            "cell_size_m": float(cube_grid(incidents).cell),
            "membership": "exact" if exact else "cell centre",
        }
    return result


def _zone_and_start(zone, zones, start) -> tuple[str, Any, pd.Timestamp]:
    """The zone's name, the zones layer and the zone's first day, from a name or a one-row
    layer and the ``start`` given (else the zone's ``start`` column)."""
    if not isinstance(zone, str):
        if len(zone) != 1 or "name" not in zone:
            raise InputError("Give one zone: its name, or a one-row layer with a 'name'.")
        zones = zone if zones is None else zones
        row = zone.iloc[0]
        zone = str(row["name"])
        if start is None and "start" in row.index:
            start = row["start"]
    if zones is None:
        raise InputError("Give the zones layer (zones=...) with the zone named.")
    if start is None:
        match = zones[zones["name"].astype(str) == zone]
        if len(match) and "start" in match and pd.notna(match["start"].iloc[0]):
            start = match["start"].iloc[0]
        else:
            raise InputError(f"The {zone} zone has no start date; give start=YYYY-MM-DD.")
    try:
        return zone, zones, pd.Timestamp(start)
    except (ValueError, TypeError) as exc:
        raise InputError(f"start must be a date (YYYY-MM-DD), got {start!r}.") from exc


# --------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------


def draw_counterfactual(ax: Any, result: SeriesResult, *, fontsize: float = 10.0) -> None:
    """Draw the counterfactual plot into matplotlib axes ``ax`` (the PNG and the PDF brief
    share it); ``fontsize`` is the title's size in points, the legend's is 80% of it.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> draw_counterfactual(ax, its_from_counts(simulate_counts(), "2018-01-01"))
    >>> ax.get_ylabel()
    'incidents per month'
    """
    cf = result.counterfactual
    x = pd.to_datetime(cf["period"])
    post = cf["post"].to_numpy()
    ax.fill_between(
        x[post],
        cf["low"][post],
        cf["high"][post],
        color="#9ecae1",
        alpha=0.6,
        label="95% interval, without the zone",
    )
    ax.plot(x, cf["expected"].where(post), "--", color="#3182bd", label="expected without the zone")
    ax.plot(x, cf["fitted"], "-", color="#636363", lw=1, label="model fit")
    ax.plot(x, cf["observed"], "o", ms=0.35 * fontsize, color="#d62728", label="observed")
    ax.axvline(pd.Timestamp(result.start), color="black", lw=0.8)
    unit = "month" if result.params["freq"] == "M" else "week"
    ax.set_ylabel(f"incidents per {unit}", fontsize=fontsize)
    e = result.effect
    ax.set_title(
        f"{_label(result.crime)}, {result.zone} zone: {e.pct:+.0f}% "
        f"(95% CI {e.low:+.0f}% to {e.high:+.0f}%) after {result.start:%b %Y}",
        fontsize=fontsize,
    )
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=0.8 * fontsize, loc="upper left", frameon=False)


def plot_counterfactual(result: SeriesResult, path: str | Path | None = None) -> bytes:
    """The counterfactual plot as PNG bytes (written atomically to ``path`` if given):
    observed counts, the fitted series, and the expected counts without the zone with
    their interval band, a line at the start.

    Examples
    --------
    >>> png = plot_counterfactual(its_from_counts(simulate_counts(), "2018-01-01"))
    >>> png[:4] == b"\\x89PNG"
    True
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4), dpi=100)
    ax = fig.add_subplot()
    draw_counterfactual(ax, result)
    fit_axes(fig, ax, titles=[ax.title])
    return write_png(fig, path)

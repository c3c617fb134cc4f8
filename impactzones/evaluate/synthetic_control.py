"""Synthetic control for an Impact Zone: a weighted blend of comparable areas that tracked
the zone before it started.

A zone is rarely like the rest of the city. Following Abadie & Gardeazabal (2003) and
Abadie, Diamond & Hainmueller (2010), the zone's pre-period series is matched by a convex
combination of **donor** areas (neighborhoods clear of every zone and its ring): weights
``w >= 0`` with ``sum w = 1`` minimising::

    sum over pre periods (z_t - sum_i w_i d_it)^2

where each series is divided by its own pre-period mean (``z_t``, ``d_it`` are indices
around 1), so a donor of any size can stand in for the zone's shape: trend, seasonality and
shocks. The **effect** is the post-period gap, ``sum y_t / sum s_t - 1`` with ``s_t`` the
synthetic series scaled back to the zone's pre-period mean. **Inference** is by placebo in
space (Abadie et al. 2010): the same fit for every donor as if it were treated, with the
ratio of post- to pre-period root mean squared prediction error (RMSPE); the zone's rank
among all of them is the p-value, ``rank / (donors + 1)``.

The weights are found by non-negative least squares with the sum-to-one constraint as a
heavily weighted extra row (Lawson & Hanson), which the tests hold to a direct quadratic
programme (scipy's SLSQP). Place-based policing uses: Saunders, Lundberg, Braga, Ridgeway &
Miles (2015), *Journal of Quantitative Criminology* 31, 413-434.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.defaults import RING, describe
from ..core.drawing import fit_axes, fit_titles, plot_lines, plot_polygons
from ..core.errors import InputError
from ..core.geo import at_kept_label
from ..core.lazy import lazy_module
from ..io.writers import write_png

optimize = lazy_module("scipy.optimize")  # at first use: not by the picture worker

__all__ = [
    "SyntheticControl",
    "donor_weights_frame",
    "fit_weights",
    "plot_donor_weights",
    "plot_synthetic_control",
    "simulate_panel",
    "synthetic_control",
    "synthetic_control_from_panel",
]


@dataclass(frozen=True)
class SyntheticControl:
    """A synthetic control evaluation.

    Attributes
    ----------
    effect_pct : float
        Post-period gap: observed over synthetic, minus one, in percent.
    p_value : float
        Placebo-in-space rank p-value (post/pre RMSPE ratio, zone among all donors).
    pre_rmspe, post_rmspe : float
        Root mean squared prediction error of the index series before and after.
    weights : DataFrame
        ``donor`` and ``weight`` (sum 1), largest first, zero weights left out.
    series : DataFrame
        ``period``, ``observed``, ``synthetic`` (incidents per period) and ``post``.
    placebos : DataFrame
        Per donor: ``donor``, ``effect_pct``, ``pre_rmspe``, ``post_rmspe``, ``ratio``.
    params : dict
        Start, periods, donors used, for the record.
    verdict : str
        The result in plain words.
    """

    zone: str
    effect_pct: float
    p_value: float
    pre_rmspe: float
    post_rmspe: float
    weights: pd.DataFrame = field(repr=False)
    series: pd.DataFrame = field(repr=False)
    placebos: pd.DataFrame = field(repr=False)
    params: dict = field(repr=False)
    verdict: str = ""


def fit_weights(target: np.ndarray, donors: np.ndarray, *, penalty: float = 1e4) -> np.ndarray:
    """Non-negative weights summing to one that best reproduce ``target`` (length T) from
    the columns of ``donors`` (T x J), by least squares.

    Solved by NNLS with ``penalty * (sum w - 1)`` as an extra residual, then renormalised.

    Examples
    --------
    >>> D = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> fit_weights(np.array([0.25, 0.75, 1.0]), D).round(3).tolist()
    [0.25, 0.75]
    """
    D = np.asarray(donors, float)
    z = np.asarray(target, float)
    scale = max(float(np.abs(D).max()), 1.0) * penalty
    A = np.vstack([D, np.full((1, D.shape[1]), scale)])
    b = np.concatenate([z, [scale]])
    w, _ = optimize.nnls(A, b, maxiter=50 * D.shape[1] + 500)
    total = w.sum()
    return w / total if total > 0 else np.full(D.shape[1], 1 / D.shape[1])


def _rmspe(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2))) if len(a) else math.nan


def _fit_one(y: np.ndarray, D: np.ndarray, pre: np.ndarray):
    """Fit on index series; return weights, synthetic counts, effect, pre/post RMSPE.

    The donors are taken in C order (rows of periods), whatever layout they came in: the
    sums over periods (``mean(axis=0)``, the matrix product) add in an order that depends
    on the layout, so the last digits would otherwise depend on how the panel was built."""
    y = np.ascontiguousarray(y, dtype=float)
    D = np.ascontiguousarray(D, dtype=float)
    my = y[pre].mean()
    md = D[pre].mean(axis=0)
    z, Dz = y / my, D / md
    w = fit_weights(z[pre], Dz[pre])
    s_idx = Dz @ w
    synth = s_idx * my
    post = ~pre
    effect = (
        float(100 * (y[post].sum() / synth[post].sum() - 1)) if synth[post].sum() > 0 else math.nan
    )
    return w, synth, effect, _rmspe(z[pre], s_idx[pre]), _rmspe(z[post], s_idx[post])


def synthetic_control_from_panel(
    panel: pd.DataFrame, zone: str, start, *, min_mean: float = 1.0
) -> SyntheticControl:
    """Synthetic control from a panel of counts: one column per area, one row per period
    (a date index), the zone among the columns.

    Donors whose pre-period mean is under ``min_mean`` incidents per period are left out
    (their index series would be mostly noise).

    Examples
    --------
    >>> panel = simulate_panel(seed=1, effect=-0.3)
    >>> r = synthetic_control_from_panel(panel, "zone", "2018-01-01")
    >>> -40 < r.effect_pct < -20, r.p_value <= 0.1
    (True, True)
    """
    start = pd.Timestamp(start)
    if zone not in panel.columns:
        raise InputError(f"No series for the {zone} zone in the panel.")
    idx = pd.to_datetime(panel.index)
    pre = np.asarray(idx < start)
    if (~pre).sum() == 0 and pre.sum() > 0:
        raise InputError(
            f"The start {start.date()} is after the data's last period "
            f"({idx.max().date()}): a synthetic control needs at least one period from it."
        )
    if pre.sum() < 6 or (~pre).sum() < 1:
        raise InputError(
            f"A synthetic control needs at least 6 periods before {start.date()} and one "
            f"after; the data give {int(pre.sum())} and {int((~pre).sum())}."
        )
    y = panel[zone].to_numpy(float)
    if y[pre].mean() <= 0:
        raise InputError(f"The {zone} zone has no incidents before {start.date()}.")
    donors = [
        c for c in panel.columns if c != zone and panel[c].to_numpy(float)[pre].mean() >= min_mean
    ]
    if len(donors) < 2:
        raise InputError("A synthetic control needs at least two donor areas with incidents.")
    D = panel[donors].to_numpy(float)
    w, synth, effect, pre_e, post_e = _fit_one(y, D, pre)
    rows = []
    for k, name in enumerate(donors):
        others = np.delete(D, k, axis=1)
        _, _, eff_k, pre_k, post_k = _fit_one(D[:, k], others, pre)
        rows.append((name, eff_k, pre_k, post_k, post_k / pre_k if pre_k > 0 else math.inf))
    plac = pd.DataFrame(rows, columns=["donor", "effect_pct", "pre_rmspe", "post_rmspe", "ratio"])
    ratio = post_e / pre_e if pre_e > 0 else math.inf
    rank = 1 + int((plac["ratio"] >= ratio).sum())
    p = rank / (len(donors) + 1)
    weights = pd.DataFrame({"donor": donors, "weight": w})
    weights = weights[weights["weight"] > 1e-6].sort_values(
        ["weight", "donor"], ascending=[False, True], ignore_index=True
    )
    series = pd.DataFrame({"period": idx, "observed": y, "synthetic": synth, "post": ~pre})
    params = {
        "start": start.date().isoformat(),
        "periods_before": int(pre.sum()),
        "periods_after": int((~pre).sum()),
        "donors": len(donors),
        "donors_left_out": int(panel.shape[1] - 1 - len(donors)),
        "min_mean": min_mean,
        "rmspe_ratio": ratio,
    }
    res = SyntheticControl(zone, effect, p, pre_e, post_e, weights, series, plac, params)
    return _with_verdict(res)


def _with_verdict(r: SyntheticControl) -> SyntheticControl:
    from dataclasses import replace

    head = r.weights.head(3)
    top = ", ".join(f"{d} ({w:.0%})" for d, w in zip(head["donor"], head["weight"], strict=True))
    word = "lower" if r.effect_pct < 0 else "higher"
    sig = "unusual" if r.p_value <= 0.05 else "not unusual"
    text = (
        f"The {r.zone} zone was {abs(r.effect_pct):.0f}% {word} after "
        f"{pd.Timestamp(r.params['start']):%-d %B %Y} than its synthetic control, a blend of "
        f"{len(r.weights)} of {r.params['donors']} donor areas that tracked it before "
        f"(largest: {top}; pre-period error {r.pre_rmspe:.2f} of its mean). Among the "
        f"{r.params['donors']} placebo fits that gap is {sig} (rank p = {r.p_value:.3f})."
    )
    if len(r.weights) * 2 > r.params["periods_before"]:
        text += (
            f" With {r.params['periods_before']} periods before and {len(r.weights)} donors "
            "in the blend, the close pre-period fit may be over-fitted; read it with care."
        )
    return replace(r, verdict=text)


def simulate_panel(
    *,
    seed: int = 0,
    effect: float = -0.3,
    donors: int = 30,
    months: int = 60,
    start: str = "2018-01-01",
    first: str = "2015-01-01",
) -> pd.DataFrame:
    """A panel with a planted effect: donors are Poisson counts around a mean with two
    common factors (a trend and a seasonal cycle) loaded differently; the zone blends
    three donors' means, then changes by ``effect`` from ``start``.

    Examples
    --------
    >>> simulate_panel(seed=2).shape
    (60, 31)
    """
    rng = np.random.default_rng(seed)
    idx = pd.date_range(first, periods=months, freq="MS")
    t = np.arange(months) / 12
    f1 = t - t.mean()
    f2 = np.cos(2 * np.pi * (idx.month.to_numpy() - 7) / 12)
    size = rng.uniform(20, 120, donors)
    l1 = rng.normal(0, 0.15, donors)
    l2 = rng.uniform(0.0, 0.3, donors)
    mu = size * np.exp(np.outer(f1, l1) + np.outer(f2, l2))
    pick = rng.choice(donors, 3, replace=False)
    wz = rng.dirichlet(np.ones(3))
    mz = (mu[:, pick] / size[pick]) @ wz * 60 * np.where(idx >= pd.Timestamp(start), 1 + effect, 1)
    data = {"zone": rng.poisson(mz)}
    data.update({f"donor {i + 1}": rng.poisson(mu[:, i]) for i in range(donors)})
    return pd.DataFrame(data, index=idx)


def _donor_table(times: pd.Series, which: np.ndarray, names: list, per) -> pd.DataFrame:
    """Incidents per period (rows: ``per``, by first day) and donor (columns: ``names``;
    donors of one name share its count), from each incident's time and donor index
    (``which``, -1 for none), counted on the periods' integer ordinals."""
    ordinal = times.dt.to_period(per.freqstr).array.asi8
    row = np.searchsorted(per.asi8, ordinal)
    ok = (which >= 0) & times.notna().to_numpy() & (row < len(per))
    ok[ok] = per.asi8[row[ok]] == ordinal[ok]
    unique, code = np.unique(np.asarray(names, dtype=object), return_inverse=True)
    counts = np.zeros((len(per), len(unique)), dtype=np.int64)
    np.add.at(counts, (row[ok], code[which[ok]]), 1)
    # one column per donor, as laid out before (the fit's sums run in the same order)
    tab = pd.DataFrame(
        np.ascontiguousarray(counts[:, code]),
        index=per.start_time,
        columns=pd.Index(names),
        copy=False,
    )
    tab.columns.name = "donor"
    tab.index.name = None
    return tab


def synthetic_control(
    incidents,
    zone: str,
    start=None,
    *,
    zones,
    donors,
    donor_name: str = "name",
    crime: str = "violent",
    by: str = "group",
    ring: float = RING.default,
    study_area=None,
    freq: str = "M",
    min_mean: float = 1.0,
) -> SyntheticControl:
    """Synthetic control of one zone from incidents, with donor areas (e.g. the
    neighborhoods) that do not touch any zone or its ring.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=1, years=[2016, 2017, 2018]).incidents
    >>> r = synthetic_control(inc, "North", zones=layers.zones, donors=layers.neighborhoods,
    ...                       study_area=layers.study_area)
    >>> r.params["donors"] > 20, bool(abs(r.weights["weight"].sum() - 1) < 1e-9)
    (True, True)
    """
    ring = RING.check(ring)
    from .compare import geometry_key, reused
    from .series import periods_of, series_counts

    match = zones[zones["name"].astype(str) == zone]
    if start is None:
        if len(match) and "start" in match and pd.notna(match["start"].iloc[0]):
            start = match["start"].iloc[0]
        else:
            raise InputError(f"The {zone} zone has no start date; give start=YYYY-MM-DD.")
    counts = series_counts(
        incidents, zones, zone, crime=crime, by=by, ring=ring, study_area=study_area, freq=freq
    )
    zs = counts[counts["area"] == "zone"].set_index("period")["y"]
    keep_out = zones.geometry.buffer(ring).union_all()
    clear = donors[~donors.geometry.intersects(keep_out)]
    if len(clear) < 2:
        raise InputError("Fewer than two donor areas lie clear of the zones and their rings.")
    of_crime = (incidents[by] == crime).to_numpy()
    (which,) = reused(
        incidents,
        ("donors", by, crime, tuple(clear.index), geometry_key(clear.geometry)),
        lambda: (_donor_of(incidents[of_crime], clear),),
        reads=[by, "geometry"],
    )
    per = periods_of(incidents, freq)
    names = clear[donor_name].astype(str).tolist()
    tab = _donor_table(pd.to_datetime(incidents["occurred_at"][of_crime]), which, names, per)
    panel = pd.concat([zs.rename(zone), tab], axis=1).loc[zs.index]
    days = counts[counts["area"] == "zone"]["days"].to_numpy()
    ends = panel.index + pd.to_timedelta(days, unit="D")
    panel = panel[~((panel.index < pd.Timestamp(start)) & (ends > pd.Timestamp(start)))]
    res = synthetic_control_from_panel(panel, zone, start, min_mean=min_mean)
    ring_rule = describe("ring", ring)["ring_rule"]
    res.params.update(
        {"crime": crime, "by": by, "ring_m": ring, "ring_rule": ring_rule, "freq": freq}
    )
    return res


def _donor_of(sel, clear) -> np.ndarray:
    """The position in ``clear`` of the donor area holding each incident of ``sel`` (-1:
    none); rows without a point are in the donor their kept ``neighborhood`` names."""
    from ..core.geo import xy
    from ..core.geometry import locate

    x, y = xy(sel)
    which = locate(x, y, list(clear.geometry))
    if "neighborhood" in clear:  # rows without a point: in the donor their label names
        which = at_kept_label(sel, "neighborhood", clear["neighborhood"], which)
    return which


def plot_synthetic_control(result: SyntheticControl, path: str | Path | None = None) -> bytes:
    """The zone's series against its synthetic control, as PNG bytes (written atomically
    to ``path`` if given).

    Examples
    --------
    >>> r = synthetic_control_from_panel(simulate_panel(seed=1), "zone", "2018-01-01")
    >>> plot_synthetic_control(r)[:4] == b"\\x89PNG"
    True
    """
    from matplotlib.figure import Figure

    s = result.series
    fig = Figure(figsize=(8, 4), dpi=100)
    ax = fig.add_subplot()
    ax.plot(s["period"], s["synthetic"], "--", color="#3182bd", label="synthetic control")
    ax.plot(s["period"], s["observed"], "-o", ms=3, lw=1, color="#d62728", label="observed")
    ax.axvline(pd.Timestamp(result.params["start"]), color="black", lw=0.8)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("incidents per period")
    title = ax.set_title(
        f"{result.zone} zone against its synthetic control: {result.effect_pct:+.0f}% "
        f"(placebo p = {result.p_value:.2f})",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    fit_axes(fig, ax, titles=[title])
    return write_png(fig, path)


def donor_weights_frame(result: SyntheticControl, donors, donor_name: str = "name"):
    """The donor areas with the synthetic control's weights: a copy of ``donors`` with
    ``weight`` (0 for a donor the fit gave no weight) and ``role`` (``donor`` for the
    areas the fit used, ``not used`` for areas near a zone or with too few incidents).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=1, years=[2016, 2017, 2018]).incidents
    >>> r = synthetic_control(inc, "North", zones=layers.zones, donors=layers.neighborhoods,
    ...                       study_area=layers.study_area)
    >>> f = donor_weights_frame(r, layers.neighborhoods)
    >>> bool(abs(f["weight"].sum() - 1) < 1e-9), int((f["role"] == "donor").sum()) > 20
    (True, True)
    """
    out = donors.copy()
    names = out[donor_name].astype(str)
    w = dict(zip(result.weights["donor"].astype(str), result.weights["weight"], strict=True))
    used = set(result.placebos["donor"].astype(str))
    out["weight"] = [float(w.get(n, 0.0)) for n in names]
    out["role"] = ["donor" if n in used else "not used" for n in names]
    return out


def _donor_figure(result: SyntheticControl, donors, zones, donor_name: str = "name"):
    """The matplotlib figure of :func:`plot_donor_weights` (its first collection holds the
    donors, coloured by weight)."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    frame = donor_weights_frame(result, donors, donor_name)
    used = frame[frame["role"] == "donor"]
    rest = frame[frame["role"] != "donor"]
    fig = Figure(figsize=(6, 7), dpi=100)
    ax, cax = _donor_axes(fig, result.zone, used)
    norm = Normalize(0, max(float(used["weight"].max()), 1e-9) if len(used) else 1)
    cmap = colormaps["Blues"]
    drawn = used[~(used.geometry.isna() | used.geometry.is_empty)]  # coloured by weight:
    plot_polygons(ax, drawn.geometry, array=drawn["weight"].to_numpy(float), cmap=cmap,
                  norm=norm, edgecolor="#999999", linewidth=0.3)  # fmt: skip
    plot_polygons(ax, rest.geometry, facecolor="#eeeeee", edgecolor="#cccccc", linewidth=0.3,
                  hatch="//")  # fmt: skip
    plot_lines(ax, zones.boundary, color="#555555", linewidth=0.8, linestyle="--")
    zone = zones[zones["name"].astype(str) == result.zone]
    plot_lines(ax, zone.boundary, color="#d62728", linewidth=2)
    for r in used[used["weight"] > 0].itertuples(index=False):
        pt = r.geometry.representative_point()
        ax.annotate(f"{r.weight:.0%}", (pt.x, pt.y), ha="center", va="center", fontsize=6)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, label="donor weight")
    ax.autoscale_view()
    return fig


def _donor_axes(fig, zone: str, used):
    """The map's axes under the figure's title (wrapped to the figure when a zone's name
    is long) and the colour bar's axes at its right: the places ``tight_layout`` gave
    them."""
    pad, bar = 0.15, 1.35  # inches: around the figure; right of the map, for the colour bar
    width, height = fig.get_size_inches()
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_aspect("equal", anchor="E")  # a tall city's map beside its colour bar
    title = fig.text(  # over the map and its colour bar
        0.5,
        1 - pad / height,
        f"{zone} zone (red): its synthetic control's donor weights\n"
        f"{int((used['weight'] > 0).sum())} of {len(used)} donor neighborhoods weighted; "
        "hatched: near a zone or too few incidents",
        fontsize=9,
        ha="center",
        va="top",
    )
    top = pad + fit_titles(fig, [title], between=(pad, width - pad), pad=pad)
    box = (pad / width, pad / height, (width - bar - pad) / width, (height - top - pad) / height)
    ax.set_position(box)
    tall = 0.6 * box[3]  # the colour bar: 60% of the map's height, centred beside it
    cax = fig.add_axes((1 - 1.065 / width, box[1] + (box[3] - tall) / 2, 0.1855 / width, tall))
    return ax, cax


def plot_donor_weights(
    result: SyntheticControl, donors, zones, path=None, donor_name: str = "name"
) -> bytes:
    """A map of the donor areas shaded by their synthetic-control weight, the zone
    outlined in red, as PNG bytes (written atomically to ``path`` if given; the same inputs
    give the same bytes).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=1, years=[2016, 2017, 2018]).incidents
    >>> r = synthetic_control(inc, "North", zones=layers.zones, donors=layers.neighborhoods,
    ...                       study_area=layers.study_area)
    >>> plot_donor_weights(r, layers.neighborhoods, layers.zones)[:4] == b"\\x89PNG"
    True
    """
    fig = _donor_figure(result, donors, zones, donor_name)
    return write_png(fig, path)

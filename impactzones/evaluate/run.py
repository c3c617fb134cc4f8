"""One zone's evaluation end to end: interrupted time series, synthetic control and power,
with their plots and JSON, for the CLI (``impactzones evaluate``), study files and the
demo."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.defaults import RING
from ..core.drawing import draw_here
from ..core.errors import InputError

__all__ = ["ZoneEvaluation", "evaluate_zone", "write_near_repeat"]


@dataclass
class ZoneEvaluation:
    """The evaluation of one zone: the results, a JSON-ready summary and the files."""

    zone: str
    series: Any
    synthetic: Any
    power: Any
    summary: dict
    files: list[Path] = field(default_factory=list)
    #: the counterfactual plot's PNG bytes (when written; while a ``draw`` given to
    #: :func:`evaluate_zone` is drawing it, what that ``draw`` returned, e.g. a future)
    png: Any = None


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def evaluate_zone(
    incidents,
    layers,
    zone: str,
    *,
    start=None,
    crime: str = "violent",
    by: str = "group",
    ring: float = RING.default,
    freq: str = "M",
    model: str = "quasipoisson",
    seasonality: str = "auto",
    synthetic: bool = True,
    out: str | Path | None = None,
    slug: str | None = None,
    draw: Callable[..., Any] | None = None,
) -> ZoneEvaluation:
    """Interrupted time series, synthetic control (neighborhoods as donors) and power for
    one zone; with ``out``, writes ``evaluate_<slug>.json``, the counterfactual PNG
    (``counterfactual_<slug>.png``) and the synthetic-control PNG.

    ``draw``, when given, draws the PNGs: it is called as ``draw(function, *args)`` and
    may hand the call to a worker process (the demo does); ``ev.png`` is then what it
    returned for the counterfactual plot (a future of its bytes). By default they are
    drawn here.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=1, years=[2016, 2017, 2018]).incidents
    >>> ev = evaluate_zone(inc, layers, "North", synthetic=False)
    >>> sorted(ev.summary)[:3]
    ['crime', 'interrupted_time_series', 'power']
    """
    ring = RING.check(ring)
    from .series import evaluate_series

    common = dict(crime=crime, by=by, ring=ring, study_area=layers.study_area, freq=freq)
    its = evaluate_series(
        incidents, zone, start, zones=layers.zones, model=model, seasonality=seasonality, **common
    )
    sc, sc_note = None, "not run"
    if synthetic:
        sc, sc_note = _synthetic_control(incidents, layers, zone, its.params["start"], common)
    per_year, pw = _power(its, zone, model)
    summary = _clean(
        {
            "zone": zone,
            "crime": crime,
            "interrupted_time_series": its.to_dict(),
            "synthetic_control": _sc_summary(sc) if sc is not None else {"note": sc_note},
            "power": {
                "baseline_per_year": per_year,
                "power_20": pw.power,
                "mde_80_pct": pw.mde_pct,
                "params": pw.params,
                "verdict": pw.verdict,
            },
        }
    )
    ev = ZoneEvaluation(zone, its, sc, pw, summary)
    if out is not None:
        _write_evaluation(ev, layers, Path(out), slug, draw or draw_here)
    return ev


def _synthetic_control(incidents, layers, zone: str, start, common: dict):
    """The synthetic control with the neighborhoods as donors, or None and why not."""
    from .synthetic_control import synthetic_control

    if layers.neighborhoods is None:
        return None, "no neighborhoods layer for donors"
    try:
        sc = synthetic_control(
            incidents, zone, start, zones=layers.zones, donors=layers.neighborhoods, **common
        )
    except InputError as exc:
        return None, str(exc)
    return sc, ""


def _power(its, zone: str, model: str):
    """The zone's incidents a year before it began, and the power to see a 20% drop in
    them (with the series' dispersion, Poisson for a negative binomial fit)."""
    from .power import zone_power

    table = its.table
    pre = table[(table["area"] == "zone") & (table["post"] == 0)]
    per_year = float(pre["y"].sum()) / max(float(pre["days"].sum()) / 365.25, 1e-9)
    pw = zone_power(
        per_year,
        where=f"the {zone} zone",
        dispersion=max(its.dispersion, 1.0) if model != "negbin" else 1.0,
    )
    return per_year, pw


def _sc_summary(sc) -> dict:
    return {
        "effect_pct": sc.effect_pct,
        "p_value": sc.p_value,
        "pre_rmspe": sc.pre_rmspe,
        "post_rmspe": sc.post_rmspe,
        "weights": sc.weights.to_dict("records"),
        "params": sc.params,
        "verdict": sc.verdict,
    }


def _write_evaluation(
    ev: ZoneEvaluation, layers, out: Path, slug: str | None, draw: Callable[..., Any]
) -> None:
    """``evaluate_<slug>.json`` (naming the PNGs), the counterfactual PNG and, with a
    synthetic control, its plot and the donor weights map."""
    from ..io.safety import slugify
    from ..io.writers import write_json
    from .series import plot_counterfactual
    from .synthetic_control import plot_donor_weights, plot_synthetic_control

    s = slug or slugify(ev.zone)
    summary, sc = ev.summary, ev.synthetic
    png = out / f"counterfactual_{s}.png"
    ev.png = draw(plot_counterfactual, ev.series, png)
    ev.files.append(png)
    summary["counterfactual_png"] = png.name
    if sc is not None:
        png2 = out / f"synthetic_control_{s}.png"
        draw(plot_synthetic_control, sc, png2)
        ev.files.append(png2)
        summary["synthetic_control_png"] = png2.name
        png3 = out / f"donor_weights_{s}.png"
        draw(plot_donor_weights, sc, layers.neighborhoods, layers.zones, png3)
        ev.files.append(png3)
        summary["donor_weights_png"] = png3.name
    ev.files.insert(0, write_json(summary, out / f"evaluate_{s}.json"))


def write_near_repeat(result, out: str | Path, stem: str = "nearrepeat") -> list[Path]:
    """Write a near-repeat table as CSV (one row per cell), JSON and the heat-table PNG.

    Examples
    --------
    >>> import tempfile
    >>> from impactzones.evaluate.nearrepeat import near_repeat
    >>> r = near_repeat([0, 10, 20, 900], [0, 0, 0, 0], [0, 1, 2, 3], permutations=9)
    >>> [p.name for p in write_near_repeat(r, tempfile.mkdtemp())]
    ['nearrepeat.csv', 'nearrepeat.json', 'nearrepeat.png']
    """
    import pandas as pd

    from ..io.writers import write_json, write_table
    from .nearrepeat import plot_near_repeat

    out = Path(out)
    rows = result.to_records()
    files = [write_table(pd.DataFrame(rows), out / f"{stem}.csv")]
    payload = {"params": result.params, "verdict": result.verdict, "cells": rows}
    files.append(write_json(_clean(payload), out / f"{stem}.json"))
    png = out / f"{stem}.png"
    plot_near_repeat(result, png)
    files.append(png)
    return files

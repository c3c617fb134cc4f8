"""Harm and area in the Weighted Displacement Difference test.

**Harm-weighted WDD** (ptools' ``wdd_harm``; Wheeler & Ratcliffe 2018): WDD estimates for
several crime types, each with its standard error, are combined with harm weights ``h_k``
(for instance the days of custody of the Cambridge Crime Harm Index, Sherman, Neyroud &
Neyroud 2016, or the user's own)::

    HarmEst = sum_k h_k WDD_k,    SE = sqrt(sum_k h_k^2 SE_k^2)

(the crime types' counts taken as independent), with ``Z = HarmEst / SE`` and a normal
interval. No weights are bundled: give the weights your agency uses.

**Area-weighted WDD**: with zone, ring and control of very different sizes, the counts can
be compared per km^2 (ptools' ``area_weights``). With one control shared by the zone and
the ring, each count ``n`` becomes ``n / A`` (``A`` its area in km^2)::

    WDD_km2 = (T1 - T0)/A_T - (C1 - C0)/A_C + (D1 - D0)/A_D - (C1 - C0)/A_C
    Var     = (T0 + T1)/A_T^2 + (D0 + D1)/A_D^2 + 4 (C0 + C1)/A_C^2

the control entering twice (hence the 4): the estimate is the change in incidents per
km^2, zone and ring together, beyond the control's change per km^2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.defaults import ALPHA
from ..core.errors import InputError
from ..core.lazy import lazy_module

stats = lazy_module("scipy.stats")  # at first use: not by the picture worker

__all__ = [
    "HarmWDD",
    "add_area_wdd",
    "area_wdd",
    "check_harm_categories",
    "harm_table",
    "read_harm_weights",
    "wdd_harm",
]


@dataclass(frozen=True)
class HarmWDD:
    """Combined harm estimate of several WDD tests (ptools' ``wdd_harm``)."""

    estimate: float
    se: float
    z: float
    p_value: float
    low: float
    high: float


def wdd_harm(
    est: Sequence[float], se: Sequence[float], weight: Sequence[float], alpha: float = 0.1
) -> HarmWDD:
    """Combine WDD estimates with harm weights, as ptools' ``wdd_harm`` does.

    Examples
    --------
    >>> from impactzones.evaluate.compare import wdd
    >>> tests = [wdd((20, 20), (20, 10)), wdd((30, 30), (25, 20)), wdd((80, 60), (70, 20))]
    >>> h = wdd_harm([t.local for t in tests], [t.se for t in tests], [10, 5, 1])
    >>> h.estimate, round(h.se**2)  # ptools' documented example: robbery, burglary, theft
    (-155.0, 9855)
    """
    e, s, w = (np.asarray(v, float) for v in (est, se, weight))
    if not (len(e) == len(s) == len(w)) or len(e) == 0:
        raise InputError("Give one estimate, standard error and weight per crime type.")
    harm = float(np.sum(w * e))
    sd = float(np.sqrt(np.sum(w**2 * s**2)))
    z = harm / sd if sd > 0 else math.nan
    p = float(2 * stats.norm.sf(abs(z))) if sd > 0 else math.nan
    q = float(stats.norm.ppf(1 - alpha / 2))
    return HarmWDD(harm, sd, z, p, harm - q * sd, harm + q * sd)


def harm_table(
    table: pd.DataFrame, weights: Mapping[str, float], alpha: float = ALPHA.default
) -> pd.DataFrame:
    """Harm-weighted WDD per zone from a comparison table by category.

    ``table`` is :func:`impactzones.evaluate.compare.compare_zones` with ``by="category"``; each
    row's ``wdd`` and ``wdd_se`` are weighted by ``weights[crime]``. Crimes without a
    weight are left out and named in ``left_out``.

    Examples
    --------
    >>> t = pd.DataFrame({"zone": ["North"] * 2, "crime": ["robbery", "burglary"],
    ...                   "wdd": [-10.0, -5.0], "wdd_se": [70**0.5, 105**0.5]})
    >>> harm_table(t, {"robbery": 10, "burglary": 5})[["zone", "harm_wdd"]].values.tolist()
    [['North', -125.0]]
    """
    alpha = ALPHA.check(alpha)
    if not weights:
        raise InputError("Give harm weights: a weight per crime category.")
    bad = [k for k, v in weights.items() if not (isinstance(v, (int, float)) and v >= 0)]
    if bad:
        raise InputError(f"Harm weights must be non-negative numbers; check {', '.join(bad)}.")
    rows = []
    for zone, g in table[table["zone"] != "Citywide"].groupby("zone", sort=False):
        g = g[np.isfinite(g["wdd"].astype(float))]
        used = g[g["crime"].isin(list(weights))]
        left = sorted(set(g["crime"]) - set(weights))
        if len(used) == 0:
            continue
        h = wdd_harm(used["wdd"], used["wdd_se"], [weights[c] for c in used["crime"]], alpha)
        rows.append(
            {
                "zone": zone,
                "crimes": ", ".join(used["crime"]),
                "harm_wdd": h.estimate,
                "harm_se": h.se,
                "harm_z": h.z,
                "harm_p": h.p_value,
                "harm_low": h.low,
                "harm_high": h.high,
                "left_out": ", ".join(left),
            }
        )
    return pd.DataFrame(rows)


def read_harm_weights(path) -> dict[str, float]:
    """Read harm weights from a CSV of ``category,weight`` rows (a header row is optional).

    Category names are normalised as incident files' are (``"Larceny-theft"`` becomes
    ``larceny_theft``); weights are non-negative numbers (days of custody, for instance).
    Raises :class:`impactzones.core.errors.InputError` with one sentence on a missing file, an
    empty file, a row without two fields, a weight that is not a finite non-negative number,
    or a category given twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "w.csv"
    >>> _ = p.write_text("category,weight\\nRobbery,10\\nburglary,5\\n")
    >>> read_harm_weights(p)
    {'robbery': 10.0, 'burglary': 5.0}
    """
    import csv
    from pathlib import Path

    from ..core.schema import normalise_category

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; give a CSV of category,weight.")
    try:
        rows = list(csv.reader(path.read_bytes().decode("utf-8-sig").splitlines()))
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; save the harm weights as UTF-8.") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if rows and [c.strip().lower() for c in rows[0]] == ["category", "weight"]:
        rows = rows[1:]
    if not rows:
        raise InputError(f"{path} holds no harm weights; write one category,weight per line.")
    weights: dict[str, float] = {}
    for n, row in enumerate(rows, 1):
        if len(row) != 2:
            raise InputError(f"{path}: row {n} should be category,weight; got {','.join(row)!r}.")
        cat = normalise_category(row[0])
        try:
            w = float(row[1])
        except ValueError:
            w = math.nan
        if cat is None or not math.isfinite(w) or w < 0:
            raise InputError(
                f"{path}: row {n} needs a category and a non-negative number as weight; "
                f"got {','.join(row)!r}."
            )
        if cat in weights:
            raise InputError(f"{path}: the category {cat} is weighted twice; keep one row.")
        weights[cat] = w
    return weights


def check_harm_categories(weights: Mapping[str, float], categories, where: str = "") -> None:
    """Refuse harm weights for categories neither in the data nor among the UCR names.

    Examples
    --------
    >>> check_harm_categories({"robbery": 10}, ["burglary"])  # a UCR category: fine
    >>> check_harm_categories({"robery": 10}, ["robbery"])
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: Unknown harm-weight category robery; ...
    """
    from ..core.schema import UCR_CATEGORIES

    known = set(UCR_CATEGORIES.values()) | {str(c) for c in categories}
    unknown = sorted(set(weights) - known)
    if unknown:
        raise InputError(
            f"Unknown harm-weight categor{'ies' if len(unknown) > 1 else 'y'} "
            f"{', '.join(unknown)}{' in ' + where if where else ''}; the data's categories are "
            f"{', '.join(sorted(str(c) for c in categories))}."
        )


def area_wdd(
    treated: Sequence[float],
    ring: Sequence[float],
    control: Sequence[float],
    areas_km2: Sequence[float],
    alpha: float = ALPHA.default,
):
    """WDD per km^2 for a zone and its ring against one shared control.

    ``areas_km2`` is (zone, ring, control). Returns a
    :class:`impactzones.evaluate.compare.WDD` in incidents per km^2.

    Examples
    --------
    >>> r = area_wdd((100, 80), (50, 50), (1000, 1000), (2.0, 1.0, 100.0))
    >>> r.estimate, r.local, r.displacement
    (-10.0, -10.0, 0.0)
    >>> round(r.se**2, 2)  # 180/4 + 100/1 + 4 * 2000/100^2
    145.8
    """
    alpha = ALPHA.check(alpha)
    from .compare import WDD

    t0, t1 = treated
    d0, d1 = ring
    c0, c1 = control
    at, ad, ac = (float(a) for a in areas_km2)
    if min(at, ad, ac) <= 0:
        return WDD(*(math.nan,) * 8)
    dc = (c1 - c0) / ac
    local = (t1 - t0) / at - dc
    disp = (d1 - d0) / ad - dc
    est = local + disp
    v = (t0 + t1) / at**2 + (d0 + d1) / ad**2 + 4 * (c0 + c1) / ac**2
    se = math.sqrt(v)
    z = est / se if se > 0 else math.nan
    p = float(2 * stats.norm.sf(abs(z))) if se > 0 else math.nan
    q = float(stats.norm.ppf(1 - alpha / 2))
    return WDD(est, se, z, p, est - q * se, est + q * se, local, disp)


def add_area_wdd(table: pd.DataFrame, zones, ring: float, study_area) -> pd.DataFrame:
    """Add the areas (km^2) and the area-weighted WDD to a comparison table.

    New columns: ``zone_km2``, ``ring_km2``, ``control_km2``, ``wdd_km2`` (change in
    incidents per km^2 beyond the control's), ``wdd_km2_se`` and ``wdd_km2_p``. The ring
    is clipped to the study area with every zone removed; the control is the study area
    outside every zone and ring, as in the comparison.

    Examples
    --------
    >>> from impactzones.evaluate.compare import compare_zones
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2017, 2018]).incidents
    >>> t = compare_zones(inc, layers.zones.iloc[:1], 2017, 2018, study_area=layers.study_area)
    >>> t = add_area_wdd(t, layers.zones.iloc[:1], 400, layers.study_area)
    >>> round(float(t.loc[0, "zone_km2"]), 1) > 0, bool(t.loc[0, "control_km2"] > 100)
    (True, True)
    """
    from ..core.geometry import ring_polygons

    out = table.copy()
    out.attrs = dict(table.attrs)
    names = zones["name"].astype(str).tolist()
    rings = ring_polygons(zones, ring, study_area)
    zone_union = zones.geometry.union_all()
    ring_union = zone_union.union(zones.geometry.buffer(ring).union_all())
    control = study_area.difference(ring_union) if study_area is not None else None
    ac = control.area / 1e6 if control is not None else math.nan
    cols: dict[str, list[float]] = {
        k: [] for k in ("zone_km2", "ring_km2", "control_km2", "wdd_km2", "wdd_km2_se", "wdd_km2_p")
    }
    for r in out.itertuples(index=False):
        if r.zone not in names or pd.isna(r.ring_before) or pd.isna(r.control_before):
            for k in cols:
                cols[k].append(math.nan)
            continue
        i = names.index(r.zone)
        geom = zones.geometry.iloc[i]
        az = (geom.intersection(study_area) if study_area is not None else geom).area / 1e6
        ar = rings[i].area / 1e6
        w = area_wdd(
            (r.zone_before, r.zone_after),
            (r.ring_before, r.ring_after),
            (r.control_before, r.control_after),
            (az, ar, ac),
        )
        for k, v in zip(cols, (az, ar, ac, w.estimate, w.se, w.p_value), strict=True):
            cols[k].append(v)
    for k, v in cols.items():
        out[k] = v
    return out

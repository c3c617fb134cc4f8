"""Crime concentration: the share of crime in the top 1%, 5% and 10% of places, the Lorenz
curve and the Gini coefficient, with the small-count correction of Bernasco & Steenbeek.

For ``n`` places with counts sorted ascending ``x_(1) <= ... <= x_(n)`` and ``N`` crimes,
the Gini coefficient is (the usual, "biased" form)::

    G = sum_i (2 i - n - 1) x_(i) / (n N)

When crimes are sparse (``N < n``) even maximal equality leaves ``n - N`` places empty, so
``G`` cannot fall below ``1 - N/n``. Bernasco & Steenbeek (2017) compare the Lorenz curve
with the line of maximal equality given the data instead, which gives the **generalized
Gini**::

    G' = max(1, n / N) (G - 1) + 1

and, as in their R package ``lorenzgini`` (``unbiased=TRUE``), the small-sample factor
``m / (m - 1)`` with ``m = min(n, N)``. The share in the top ``p`` of places is read from
the Lorenz curve (linear between places), ``1 - L(1 - p)``.

References: Bernasco, W. & Steenbeek, W. (2017). More places than crimes: implications for
evaluating the law of crime concentration at place. *Journal of Quantitative Criminology*
33, 451-467. Weisburd, D. (2015). The law of crime concentration and the criminology of
place. *Criminology* 53, 133-157.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.compat import renamed_keyword
from ..core.defaults import CELL_SIZE
from ..core.drawing import fit_axes
from ..core.errors import InputError
from ..io.writers import write_png
from .compare import TableView

__all__ = [
    "Concentration",
    "ConcentrationReport",
    "cell_counts",
    "concentration",
    "concentration_report",
    "gini",
    "lorenz_curve",
    "plot_lorenz",
    "top_share",
]

TOP_SHARES = (0.01, 0.05, 0.10)


@dataclass(frozen=True)
class Concentration:
    """Concentration of crime over places.

    Attributes
    ----------
    places, crimes : int
        Number of places (cells or segments, empty ones included) and of crimes.
    top : dict
        Share of crime (0 to 1) in the top 1%, 5% and 10% of places, keyed ``"1%"`` ...
    gini : float
        The standard Gini coefficient ``G``.
    gini_generalized : float
        Bernasco & Steenbeek's ``G'`` (equal to ``G`` when there are at least as many
        crimes as places).
    gini_generalized_unbiased : float
        ``G'`` times ``m / (m - 1)``, ``m = min(places, crimes)``.
    lorenz : DataFrame
        ``places`` (cumulative share of places, least crime first) and ``crime``
        (cumulative share of crime), from (0, 0) to (1, 1).
    params : dict
        Unit, cell size and the window, for the record.
    verdict : str
        The result in plain words.
    """

    places: int
    crimes: int
    top: dict
    gini: float
    gini_generalized: float
    gini_generalized_unbiased: float
    lorenz: pd.DataFrame = field(repr=False)
    params: dict = field(repr=False)
    verdict: str = ""


def gini(counts, *, generalized: bool = True, unbiased: bool = False) -> float:
    """Gini coefficient of counts per place, optionally Bernasco & Steenbeek's generalized
    form and the ``m / (m - 1)`` factor.

    Examples
    --------
    >>> crimes = [10, 8, 2] + [0] * 7  # lorenzgini's documented examples
    >>> round(gini(crimes, generalized=False), 2), round(gini(crimes), 2)
    (0.78, 0.78)
    >>> crimes = [5, 2, 1] + [0] * 7  # 8 crimes over 10 places
    >>> round(gini(crimes, generalized=False), 2), round(gini(crimes), 2)
    (0.8, 0.75)
    """
    x = np.sort(np.asarray(counts, dtype=float))
    if x.size == 0 or (x < 0).any() or not np.isfinite(x).all():
        raise InputError("Counts must be a non-empty list of non-negative numbers.")
    n, total = x.size, x.sum()
    if total == 0:
        return math.nan
    i = np.arange(1, n + 1)
    g = float(np.sum((2 * i - n - 1) * x) / (n * total))
    if generalized:
        g = float(max(1.0, n / total) * (g - 1) + 1)
    if unbiased:
        m = min(n, total)
        g = float(g * m / (m - 1)) if m > 1 else math.nan
    return g


def lorenz_curve(counts) -> pd.DataFrame:
    """The Lorenz curve: cumulative shares of places (least crime first) and of crime.

    Examples
    --------
    >>> lorenz_curve([0, 1, 3]).round(3).values.tolist()
    [[0.0, 0.0], [0.333, 0.0], [0.667, 0.25], [1.0, 1.0]]
    """
    x = np.sort(np.asarray(counts, dtype=float))
    n, total = x.size, x.sum()
    share = np.concatenate([[0.0], np.cumsum(x) / total]) if total > 0 else np.zeros(n + 1)
    return pd.DataFrame({"places": np.arange(n + 1) / n, "crime": share})


def top_share(counts, p: float) -> float:
    """Share of crime in the top ``p`` (0 to 1) of places, read from the Lorenz curve
    (linear between places, so a fraction of a place counts its fraction).

    Examples
    --------
    >>> top_share([0, 0, 0, 0, 0, 0, 0, 0, 2, 8], 0.10)  # the top place of ten
    0.8
    >>> round(top_share([0, 0, 0, 0, 0, 0, 0, 0, 2, 8], 0.05), 6)  # half of it
    0.4
    """
    lc = lorenz_curve(counts)
    return float(1 - np.interp(1 - p, lc["places"], lc["crime"]))


def concentration(counts, *, unit: str = "cell", params: dict | None = None) -> Concentration:
    """Concentration statistics of counts per place (empty places included).

    Examples
    --------
    >>> c = concentration([10, 8, 2] + [0] * 97)
    >>> c.top["1%"], round(c.gini, 3)
    (0.5, 0.978)
    """
    x = np.asarray(counts, dtype=float)
    g = gini(x, generalized=False)
    top = {f"{p:.0%}": top_share(x, p) for p in TOP_SHARES}
    result_params = {"unit": unit, **(params or {})}
    n, total = int(x.size), int(round(x.sum()))
    gg = gini(x) if total else math.nan
    text = (
        f"{top['5%']:.0%} of {total:,} incidents fell in the top 5% of {n:,} {unit}s "
        f"({top['1%']:.0%} in the top 1%, {top['10%']:.0%} in the top 10%); Gini {g:.2f}"
    )
    if total and total < n:
        text += (
            f", {gg:.2f} generalized for sparse counts (fewer incidents than {unit}s; "
            "Bernasco & Steenbeek 2017)"
        )
    return Concentration(
        places=n,
        crimes=total,
        top=top,
        gini=g,
        gini_generalized=gg,
        gini_generalized_unbiased=gini(x, unbiased=True) if total else math.nan,
        lorenz=lorenz_curve(x),
        params=result_params,
        verdict=text + ".",
    )


@renamed_keyword("area", "study_area")
def cell_counts(incidents, study_area, cell_size: float = 150.0):
    """Counts per square cell of ``cell_size`` metres over ``study_area`` (cells whose
    centre lies in it, empty ones included), with the cell centres.

    Returns
    -------
    (counts, cx, cy) : arrays
        One entry per cell in the area; incidents outside every cell are not counted.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10, 20, 310], [10, 20, 10]))
    >>> counts, cx, cy = cell_counts(pts, shapely.box(0, 0, 400, 100), 100)
    >>> counts.tolist()
    [2, 0, 0, 1]
    """
    import shapely

    from ..core.geo import xy

    cell_size = CELL_SIZE.check(cell_size)
    x0, y0, x1, y1 = study_area.bounds
    nx = max(int(math.ceil((x1 - x0) / cell_size)), 1)
    ny = max(int(math.ceil((y1 - y0) / cell_size)), 1)
    if nx * ny > 20_000_000:
        raise InputError(f"{cell_size:g} m cells are too small for this area; use larger ones.")
    gx, gy = np.meshgrid(
        x0 + (np.arange(nx) + 0.5) * cell_size, y0 + (np.arange(ny) + 0.5) * cell_size
    )
    inside = shapely.contains_xy(study_area, gx.ravel(), gy.ravel())
    x, y = xy(incidents)
    ix = np.floor((x - x0) / cell_size).astype(np.int64)
    iy = np.floor((y - y0) / cell_size).astype(np.int64)
    ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    flat = np.bincount(iy[ok] * nx + ix[ok], minlength=nx * ny)
    return flat[inside], gx.ravel()[inside], gy.ravel()[inside]


@dataclass(frozen=True, eq=False)
class ConcentrationReport(TableView):
    """Concentration for the city and each district: the table and the results behind it.

    Attributes
    ----------
    table : DataFrame
        One row per area: ``area, places, crimes, top_1, top_5, top_10, gini,
        gini_generalized, gini_generalized_unbiased, verdict``.
    results : dict of str to Concentration
        Each area's :class:`Concentration` (for :func:`plot_lorenz`).
    params : dict
        The cell size (metres) and how the cells are assigned to districts.

    Notes
    -----
    Earlier versions returned the table with the results in ``attrs["results"]``; the
    report reads as its table (:class:`~impactzones.evaluate.compare.TableView`) and
    ``report.attrs["results"]`` still gives the results.
    """

    table: pd.DataFrame
    results: dict
    params: dict = field(default_factory=dict)

    @property
    def attrs(self) -> dict:
        """``{"results": ...}``, as earlier versions kept it in the table's attrs."""
        return {"results": self.results}


@renamed_keyword("area", "study_area")
def concentration_report(
    incidents, study_area, *, cell_size: float = 150.0, districts=None, label: str = "City"
) -> ConcentrationReport:
    """Concentration for the city and each district, one row each, over grid cells.

    ``.table`` has the columns ``area, places, crimes, top_1, top_5, top_10, gini,
    gini_generalized, gini_generalized_unbiased, verdict``; a district's cells are those
    whose centre lies in it. ``.results`` holds the :class:`Concentration` objects.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> t = concentration_report(inc, layers.land, districts=layers.districts)
    >>> t = t.table
    >>> t.loc[0, "area"], bool(t.loc[0, "top_5"] > 0.2), len(t) == 1 + len(layers.districts)
    ('City', True, True)
    """
    from ..core.geometry import locate

    counts, cx, cy = cell_counts(incidents, study_area, cell_size)
    p = {"cell_size_m": cell_size}
    results = {label: concentration(counts, params=p)}
    if districts is not None:
        which = locate(cx, cy, list(districts.geometry))
        names = districts["name"].astype(str).tolist()
        for i, name in enumerate(names):
            if (which == i).any():
                results[name] = concentration(counts[which == i], params=p)
    rows = [
        {
            "area": k,
            "places": r.places,
            "crimes": r.crimes,
            "top_1": r.top["1%"],
            "top_5": r.top["5%"],
            "top_10": r.top["10%"],
            "gini": r.gini,
            "gini_generalized": r.gini_generalized,
            "gini_generalized_unbiased": r.gini_generalized_unbiased,
            "verdict": r.verdict,
        }
        for k, r in results.items()
    ]
    params = {
        "cell_size_m": cell_size,
        "cell_rule": "given" if cell_size != 150.0 else "default (150 m)",
        "districts": "cells whose centre lies in the district" if districts is not None else None,
    }
    return ConcentrationReport(pd.DataFrame(rows), results, params)


def plot_lorenz(results: dict, path: str | Path | None = None) -> bytes:
    """Lorenz curves (one per area) with the line of perfect equality, as PNG bytes
    (written atomically to ``path`` if given).

    Examples
    --------
    >>> png = plot_lorenz({"City": concentration([10, 8, 2] + [0] * 97)})
    >>> png[:4] == b"\\x89PNG"
    True
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 5), dpi=100)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="perfect equality")
    for name, r in results.items():
        lc = r.lorenz
        lw = 2.0 if name == next(iter(results)) else 0.8
        ax.plot(
            1 - lc["places"][::-1],
            1 - lc["crime"][::-1],
            lw=lw,
            label=f"{name} (Gini {r.gini:.2f})",
        )
    ax.set_xlabel("share of places, most crime first")
    ax.set_ylabel("share of crime")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    if len(results) <= 8:
        ax.legend(fontsize=7, loc="lower right", frameon=False)
    fit_axes(fig, ax)
    return write_png(fig, path)

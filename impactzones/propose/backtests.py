"""Backtests: how proposals, the existing zones and the baselines did in the following
period, at the same total area (hit rate, PAI, PEI, RRI; see :mod:`impactzones.propose.metrics`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.defaults import GAP, PROPOSAL_CELL_M
from ..core.errors import InputError
from ..core.geo import Layers, xy
from ..core.grid import make_grid
from ..core.results import ResultFiles, TableFiles, TableView, column_label
from ..core.windows import Window, parse_window, select
from .baselines import compact_baseline, naive_cells, random_placements
from .metrics import best_hits_curve, pai, rri
from .zones import Proposals, propose_zones, study_area_of

__all__ = [
    "COMPACT",
    "NAIVE",
    "RANDOM",
    "Backtest",
    "RollingBacktest",
    "backtest",
    "rolling_backtest",
]

NAIVE = "naive: last period's top cells"
COMPACT = "compact naive: discs on last period's densest cells"
RANDOM = "random placements of the same shapes (mean)"


@dataclass(eq=False)
class Backtest(TableView, ResultFiles):
    """A backtest (from :func:`backtest`): the table, the shapes scored and the settings.

    Attributes
    ----------
    table : DataFrame
        One row per proposal, per existing zone, for all proposals, all existing zones and
        each baseline: ``set, name, area_km2, hits, hit_rate, pai, pei, rri, hits_before,
        period, before, period_incidents`` (areas in km^2).
    geometries : list
        The shape each row scored (None for the random placements: a mean over draws).
    params : dict
        Every setting used (cell size and gap in metres, draws, seed, the crimes).
    period, before : Window
        The period scored and the proposal period.
    crs : CRS
        The shapes' CRS.

    For code written when :func:`backtest` returned a DataFrame, the result reads like its
    table: ``bt["pai"]``, ``bt.set_index("name")``, ``len(bt)``, ``bt.to_csv(...)``.

    Examples
    --------
    >>> import pandas as pd, shapely
    >>> from impactzones.core.windows import parse_window
    >>> t = pd.DataFrame({"set": ["proposals"], "name": ["all proposals"], "pai": [3.0]})
    >>> bt = Backtest(t, [shapely.box(0, 0, 100, 100)], {"draws": 0}, parse_window(2019),
    ...               parse_window(2018), "EPSG:26915")
    >>> float(bt.set_index("name").loc["all proposals", "pai"]), float(bt.to_geodataframe().area[0])
    (3.0, 10000.0)
    """

    table: pd.DataFrame
    geometries: list = field(repr=False)
    params: dict
    period: Window
    before: Window
    crs: Any = None
    map_layer: ClassVar[str] = "backtest"

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The table with the shape each row scored (empty for the random placements)."""
        return gpd.GeoDataFrame(self.table.copy(), geometry=list(self.geometries), crs=self.crs)

    def to_file(self, path: str | Path) -> Path:
        """Write by extension: ``.csv`` the table (as before), ``.json`` its records,
        ``.geojson``, ``.gpkg``, ``.parquet``... the table with the shapes; atomic."""
        from ..io.writers import write_table

        if Path(path).suffix.lower() == ".json":
            return write_table(self.table, path)
        return super().to_file(path)


def _before(proposals: Any, before: Any) -> Window:
    """The proposal period: ``before`` if given, else the one the proposals were made from."""
    if before is not None:
        return parse_window(before)
    if isinstance(proposals, Proposals):
        return proposals.window
    label = column_label(proposals, "period")
    if label:
        return parse_window(label if label.isdigit() else tuple(label.split(" to ")))
    raise InputError("Give the proposal period as before=... (the proposals do not say).")


class _Scorer:
    """Hits, hit rate, PAI, PEI and RRI of any area, for one pair of periods."""

    def __init__(self, incidents, before_w, after_w, group, category, area, cell_size):
        self.study_area = area
        self.area_km2 = area.area / 1e6
        shapely.prepare(area)
        pts = {}
        for key, w in (("a", after_w), ("b", before_w)):
            x, y = xy(select(incidents, window=w, group=group, category=category))
            inside = shapely.intersects_xy(area, x, y)
            pts[key] = (x[inside], y[inside])
        self.pts = pts
        self.total_a, self.total_b = len(pts["a"][0]), len(pts["b"][0])
        self.grid = make_grid(area, incidents.crs, cell_size)
        g = self.grid
        self.counts_a = np.where(g.mask, g.counts(*pts["a"]), 0)
        self.counts_b = np.where(g.mask, g.counts(*pts["b"]), 0)
        self.best_a = best_hits_curve(self.counts_a)  # best_hits, sorted once

    def hits(self, geom, key="a") -> int:
        x, y = self.pts[key]
        # only points in the bounding box of some part of the shape can be in it
        box = shapely.bounds(shapely.get_parts(geom))
        near = np.zeros(len(x), bool)
        for xmin, ymin, xmax, ymax in box:
            near |= (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
        shapely.prepare(geom)
        return int(np.count_nonzero(shapely.intersects_xy(geom, x[near], y[near])))

    def __call__(self, set_name: str, name: str, geom) -> dict:
        ha, hb = self.hits(geom, "a"), self.hits(geom, "b")
        area = shapely.intersection(geom, self.study_area).area / 1e6
        p = pai(ha, self.total_a, area, self.area_km2)
        n_cells = int(round(area / self.grid.cell_area_km2))
        best = pai(
            self.best_a(n_cells),
            self.total_a,
            n_cells * self.grid.cell_area_km2,
            self.area_km2,
        )
        return {
            "set": set_name,
            "name": name,
            "area_km2": area,
            "hits": ha,
            "hit_rate": ha / self.total_a if self.total_a else math.nan,
            "pai": p,
            "pei": p / best if best and np.isfinite(best) and best > 0 else math.nan,
            "rri": rri(ha, hb, self.total_a, self.total_b),
            "hits_before": hb,
        }

    def allowed(self, existing, gap: float) -> np.ndarray:
        """Cells in the study area and ``gap`` metres clear of the existing zones."""
        ok = self.grid.mask.copy()
        if existing is not None and len(existing):
            ok &= ~self.grid.centres_in(existing.geometry.union_all().buffer(gap))
        return ok

    def naive(self, allowed: np.ndarray, area_km2: float):
        n = int(round(area_km2 / self.grid.cell_area_km2))
        r, k = np.nonzero(naive_cells(self.counts_b, allowed, n))
        return shapely.union_all(self.grid.polygons(r, k))


def backtest(
    proposals: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    period,
    before=None,
    existing: gpd.GeoDataFrame | None = None,
    group: str | None = "violent",
    category=None,
    layers: Layers | None = None,
    study_area=None,
    cell_size: float = PROPOSAL_CELL_M.default,
    gap: float = GAP.default,
    draws: int = 200,
    seed: int = 0,
) -> Backtest:
    """How the proposals, the existing zones and three baselines did in ``period``.

    The baselines cover the proposals' total area: the naive top cells of the proposal
    period (the upper reference for any design: scattered, not a zone), the compact naive
    baseline (:func:`compact_baseline`: discs of the proposals' sizes on last period's
    densest cells) and random placements of the proposals' shapes
    (:func:`random_placements`; means over ``draws`` draws, ``seed`` fixed).

    Parameters
    ----------
    proposals : Proposals or GeoDataFrame
        From :func:`propose_zones` (its ``window`` is the default ``before``).
    incidents : GeoDataFrame
    period : int, "START:END" or (start, end)
        The period predicted (e.g. the year after the proposals').
    before : optional
        The proposal period (for RRI and the baselines).
    existing : GeoDataFrame, optional
        Existing zones, scored on the same terms.

    Returns
    -------
    Backtest
        Its ``table``: one row per proposal, one per existing zone, and one row each for
        all proposals, all existing zones and each baseline: ``set, name, area_km2, hits,
        hit_rate, pai, pei, rri, hits_before`` (and the periods); the shapes scored
        (``to_geodataframe()``), the settings (``params``) and ``to_file(path)``. It reads
        like its table, as the DataFrame returned before did.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2018, 2019]).incidents
    >>> north = layers.zones.iloc[:1]
    >>> props = propose_zones(inc, period=2018, exclude=north, layers=layers)
    >>> bt = backtest(props, inc, period=2019, existing=north, layers=layers, draws=20)
    >>> list(bt["set"].unique())
    ['proposals', 'existing', 'baseline']
    """
    after_w = parse_window(period)
    before_w = _before(proposals, before)
    area = study_area_of(layers, study_area, incidents)
    sc = _Scorer(incidents, before_w, after_w, group, category, area, cell_size)
    scored = [("proposals", r.name, r.geometry) for r in proposals.itertuples()]
    scored.append(("proposals", "all proposals", proposals.geometry.union_all()))
    if existing is not None and len(existing):
        names = existing["name"].astype(str)
        scored += [("existing", n, g) for n, g in zip(names, existing.geometry, strict=True)]
        scored.append(("existing", "all existing zones", existing.geometry.union_all()))
    allowed = sc.allowed(existing, gap)
    areas = list(proposals.area / 1e6)
    scored.append(("baseline", NAIVE, sc.naive(allowed, sum(areas))))
    discs = compact_baseline(sc.counts_b, sc.grid, allowed, areas, area, gap)
    scored.append(("baseline", COMPACT, shapely.union_all(discs)))
    rows = [sc(*s) for s in scored]
    rows.append(_random_row(sc, list(proposals.geometry), area, draws, seed))
    out = pd.DataFrame(rows)
    # the periods travel as columns (they survive a file round trip; attrs would not)
    out["period"], out["before"] = after_w.label, before_w.label
    out["period_incidents"] = sc.total_a
    params = dict(
        period=after_w.label, before=before_w.label, group=group, category=category,
        cell_size_m=cell_size, gap_m=gap, draws=draws, seed=seed,
        study_area_km2=sc.area_km2, period_incidents=sc.total_a,
    )  # fmt: skip
    geoms = [g for *_, g in scored] + [None]
    return Backtest(out, geoms, params, after_w, before_w, incidents.crs)


def _random_row(sc: _Scorer, shapes: list, area, draws: int, seed: int) -> dict:
    """The random placements' row: the mean over ``draws`` placements of the shapes."""
    scored = [
        sc("baseline", RANDOM, shapely.union_all(d))
        for d in random_placements(shapes, area, draws, seed)
    ]
    mean = pd.DataFrame(scored)[["area_km2", "hits", "hit_rate", "pai", "pei", "rri"]].mean()
    return {"set": "baseline", "name": RANDOM, **mean.to_dict(), "hits_before": math.nan}


@dataclass(eq=False)
class RollingBacktest(TableView, TableFiles):
    """Rolling backtests (from :func:`rolling_backtest`): one row per year and set, the
    settings, and each year's full :class:`Backtest`.

    Attributes
    ----------
    table : DataFrame
        ``year, set, name, pai, pei, rri, hit_rate, area_km2``: for each proposal year, all
        proposals, all existing zones and the baselines scored on the next year (km^2).
    params : dict
        The years and every :func:`propose_zones` setting given (``k`` included).
    backtests : dict
        Each proposal year's :class:`Backtest` (its shapes and every row).

    It reads like its table (``rb["pai"]``, ``rb[rb["set"] == "proposals"]``), as the
    DataFrame returned before did.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"year": [2017], "set": ["proposals"], "pai": [5.0]})
    >>> rb = RollingBacktest(t, {"years": [2017]}, {})
    >>> len(rb), float(rb[rb["set"] == "proposals"]["pai"].iloc[0])
    (1, 5.0)
    """

    table: pd.DataFrame
    params: dict
    backtests: dict = field(default_factory=dict, repr=False)
    map_layer: ClassVar[str] = "rolling_backtest"

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()


def rolling_backtest(
    incidents: gpd.GeoDataFrame,
    years: list[int],
    *,
    k: int | None = None,
    exclude: gpd.GeoDataFrame | None = None,
    layers: Layers | None = None,
    **kwargs: Any,
) -> RollingBacktest:
    """Propose from each year and score on the next: one row per year and set.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents in a metric CRS, covering each year and the one after it.
    years : list of int
        The proposal years; each is scored on the year after it.
    k : int, optional
        The most zones per year (default: as many as the budget holds, as
        :func:`propose_zones`; it was 2 before the micro-place defaults).
    exclude : GeoDataFrame, optional
        Existing zones, kept clear and scored beside the proposals.
    layers : Layers, optional
        The city's layers (study area, districts, neighborhoods).
    **kwargs
        Any other :func:`propose_zones` setting (``budget_km2``, ``min_pai``...).

    Returns
    -------
    RollingBacktest
        ``table``: ``year, set, name, pai, pei, rri, hit_rate, area_km2`` for all proposals,
        all existing zones and the baselines; ``backtests``: each year's :class:`Backtest`.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2016, 2017]).incidents
    >>> rb = rolling_backtest(inc, [2016], exclude=layers.zones.iloc[:1], layers=layers)
    >>> sorted(rb["set"].unique()), list(rb.backtests)
    (['baseline', 'existing', 'proposals'], [2016])
    """
    rows, runs = [], {}
    keep = ["all proposals", "all existing zones", NAIVE, COMPACT, RANDOM]
    # the proposals' crimes, study area, gap and cell size are the backtest's too
    shared = {n: kwargs[n] for n in ("group", "category", "study_area", "gap", "cell_size")
              if n in kwargs}  # fmt: skip
    for y in years:
        p = propose_zones(incidents, period=y, k=k, exclude=exclude, layers=layers, **kwargs)
        bt = backtest(
            p, incidents, period=y + 1, before=y, existing=exclude, layers=layers, **shared
        )
        runs[y] = bt
        for r in bt.table[bt.table["name"].isin(keep)].itertuples():
            rows.append(
                {
                    "year": y,
                    "set": r.set,
                    "name": r.name,
                    "pai": r.pai,
                    "pei": r.pei,
                    "rri": r.rri,
                    "hit_rate": r.hit_rate,
                    "area_km2": r.area_km2,
                }
            )
    params = {"years": list(years), "k": k, **kwargs}
    return RollingBacktest(pd.DataFrame(rows), params, runs)

"""Density-based clusters of incidents: DBSCAN (exact, fast) and HDBSCAN.

Geocoded incidents pile up on the same address, so the clustering runs on the unique
locations with ``sample_weight`` = the number of incidents there; the labels are mapped
back to every incident and equal scikit-learn's on the raw points (the locations are
ordered by their first incident, so clusters are numbered as scikit-learn numbers them).

With numba, DBSCAN runs on an exact grid algorithm (:mod:`impactzones.hotspots._dbscan_grid`)
whose labels equal scikit-learn's; without it, on scikit-learn itself.

Automatic parameters (reported in ``params``):

* ``eps`` = half the ArcGIS/Silverman search radius of the incidents
  (:func:`impactzones.hotspots.kde.auto_bandwidth`), rounded to 5 m: the scale at which a
  kernel density would already smooth the points together;
* ``min_samples`` = three times the count expected within ``eps`` of a point if the
  incidents were spread evenly over the study area (at least 5): a cluster's core is at
  least three times as dense as the city on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core import defaults
from ..core._compiled import HAVE_NUMBA
from ..core.compat import renamed_keyword
from ..core.errors import InputError
from ..core.points import Points, points_in_study_area
from ..core.results import ResultFiles

__all__ = [
    "METHODS",
    "Clusters",
    "auto_parameters",
    "cluster_outlines",
    "dbscan",
    "unique_locations",
]

METHODS = ("dbscan", "hdbscan")
#: HDBSCAN has no sample weights and keeps full neighbour structures: this many points at most.
HDBSCAN_MAX_POINTS: int = defaults.HDBSCAN_MAX_POINTS.default


@dataclass
class Clusters(ResultFiles):
    """DBSCAN / HDBSCAN result (a :class:`~impactzones.core.results.Result`: ``params``,
    ``to_geodataframe()`` (the clusters), ``to_file(path)``, map layer ``"dbscan"``).

    Attributes
    ----------
    clusters : GeoDataFrame
        One row per cluster: ``cluster`` (0, 1, ...), ``incidents``, ``core_incidents``,
        ``area_km2``, ``density_per_km2``, ``dominant_category``, ``first``, ``last``
        and the outline (the ``eps / 4`` lattice cells holding the members, merged and
        buffered by ``eps / 2``: see :func:`cluster_outlines`).
    labels : Series
        Cluster of each input incident (aligned on the input index); -1 is noise, and
        incidents outside the study area are -1 too (``params["outside_study_area"]``).
    core : Series of bool
        Whether each incident is a core point.
    params : dict
        ``eps_m``, ``min_samples``, the rules behind them, the method and the engine.
    """

    clusters: gpd.GeoDataFrame
    labels: pd.Series
    core: pd.Series
    params: dict = field(default_factory=dict)
    map_layer = "dbscan"

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """One row per cluster, with its outline (the ``clusters`` attribute)."""
        return self.clusters

    def labels_table(self, incidents: gpd.GeoDataFrame) -> pd.DataFrame:
        """``incident_id``, ``cluster`` and ``core`` of each incident, without the rape,
        sexual-assault and domestic-violence rows (they never leave as points or ids).

        ``incidents`` are the ones clustered (the labels are aligned on their rows).

        Examples
        --------
        >>> from impactzones.datasets.synth import synthesize
        >>> inc = synthesize(seed=1, years=[2018]).incidents
        >>> t = dbscan(inc, eps=150, min_samples=15).labels_table(inc)
        >>> list(t.columns), len(t) < len(inc)
        (['incident_id', 'cluster', 'core'], True)
        """
        from ..core.schema import is_sensitive

        safe = ~is_sensitive(incidents).to_numpy()
        return pd.DataFrame(
            {
                "incident_id": incidents["incident_id"].to_numpy()[safe],
                "cluster": self.labels.to_numpy()[safe],
                "core": self.core.to_numpy()[safe],
            }
        )


def auto_parameters(
    x, y, w, area_m2: float, eps: float | None = None
) -> tuple[float, float, str, str]:
    """The automatic ``eps`` (m) and ``min_samples``, and the rules as text.

    With ``eps`` given, only ``min_samples`` is derived (from that ``eps``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.uniform(0, 5000, 2000), rng.uniform(0, 5000, 2000)
    >>> eps, ms, _, _ = auto_parameters(x, y, np.ones(2000), 25e6)
    >>> eps, ms
    (200.0, 31.0)
    """
    if eps is None:
        from .kde import auto_bandwidth

        h, _ = auto_bandwidth(x, y, w)
        eps = float(max(5.0, round(h / 2 / 5) * 5))
        eps_rule = f"half the ArcGIS/Silverman search radius ({h:,.0f} m), rounded to 5 m"
    else:
        eps_rule = "given"
    n = float(w.sum())
    expected = n / area_m2 * math.pi * eps * eps
    min_samples = float(max(5, math.ceil(3 * expected)))
    ms_rule = (
        f"3 x the count expected within eps under an even spread ({expected:,.1f}), at least 5"
    )
    return eps, min_samples, eps_rule, ms_rule


def unique_locations(x: np.ndarray, y: np.ndarray):
    """Unique (x, y) in the order of their first occurrence, their counts and the inverse.

    Examples
    --------
    >>> ux, uy, n, inv = unique_locations(np.array([5.0, 1.0, 5.0]), np.array([5.0, 1.0, 5.0]))
    >>> ux.tolist(), n.tolist(), inv.tolist()
    ([5.0, 1.0], [2.0, 1.0], [0, 1, 0])
    """
    if HAVE_NUMBA:  # a bucketed hash: linear, and cache-friendly at millions of points
        from ._dbscan_grid import unique_points

        return unique_points(x, y)
    # pandas' hash factorisation numbers the locations by first occurrence in O(n)
    codes, uniq = pd.factorize(x.astype(np.complex128) + 1j * y)
    uniq = np.asarray(uniq)
    counts = np.bincount(codes, minlength=len(uniq)).astype(float)
    return uniq.real.copy(), uniq.imag.copy(), counts, codes.astype(np.int64)


@renamed_keyword("mask", "study_area")
def dbscan(
    incidents: gpd.GeoDataFrame,
    eps: float | None = None,
    min_samples: float | None = None,
    *,
    method: str = "dbscan",
    study_area=None,
    area_m2: float | None = None,
    quiet: bool = True,
) -> Clusters:
    """Find dense clusters of incidents (DBSCAN, or HDBSCAN), with outlines.

    Parameters
    ----------
    incidents : GeoDataFrame or Points
        Point incidents in a metric CRS, or :class:`~impactzones.hotspots.Points`
        prepared once for several calls (then without ``study_area``).
    eps : float, optional
        Neighbourhood radius in metres (DBSCAN). Default: see the module notes.
    min_samples : float, optional
        Incidents within ``eps`` (the point itself included) that make a core point; for
        HDBSCAN, the minimum cluster size. Default: see the module notes.
    method : {"dbscan", "hdbscan"}
    study_area : polygon or GeoDataFrame, optional
        Study area (formerly ``mask=``, still accepted with a ``FutureWarning``):
        incidents outside it are left out (label -1, counted in ``params``), and its area
        sets the automatic ``min_samples``.
    area_m2 : float, optional
        Area for the automatic ``min_samples`` when there is no study area (default: the
        incidents' bounding box).
    quiet : bool, default True
        If False, print the parameters chosen.

    Returns
    -------
    Clusters

    Examples
    --------
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> res = dbscan(inc[inc["group"] == "violent"], eps=150, min_samples=15)
    >>> int(res.labels.max()) + 1 == len(res.clusters)
    True
    """
    _check_arguments(method, eps, min_samples)
    x, y, w, area, outside, inside = points_in_study_area(incidents, study_area, positions=True)
    frame = incidents.frame if isinstance(incidents, Points) else incidents
    if len(x) == 0:
        raise InputError("There are no incidents in the study area to cluster.")
    if area is not None:
        area_m2 = area.area
    elif area_m2 is None:
        area_m2 = max((x.max() - x.min()) * (y.max() - y.min()), 1.0)
    eps, auto_ms, eps_rule, ms_rule = auto_parameters(x, y, w, area_m2, eps)
    if min_samples is None:
        min_samples = auto_ms
    else:
        ms_rule = "given"
    ux, uy, counts, inverse = unique_locations(x, y)
    if method == "dbscan":
        ulab, ucore, engine = _dbscan_locations(ux, uy, counts, float(eps), float(min_samples))
        lab, core = ulab[inverse], ucore[inverse]
    else:
        lab, core, engine = _hdbscan(x, y, min_samples)
        eps_rule = "not used by HDBSCAN"
    labels = np.full(len(frame), -1, np.int64)
    is_core = np.zeros(len(frame), bool)
    labels[inside] = lab
    is_core[inside] = core
    params = {
        "method": method,
        "engine": engine,
        "eps_m": float(eps),
        "eps_rule": eps_rule,
        "min_samples": float(min_samples),
        "min_samples_rule": ms_rule,
        "incidents": int(len(x)),
        "unique_locations": int(len(ux)),
        "outside_study_area": int(outside),
        "clusters": int(lab.max() + 1) if len(lab) else 0,
        "noise": int((lab < 0).sum()),
    }
    if not quiet:
        print(
            f"dbscan: eps {eps:,.0f} m ({eps_rule}); min_samples {min_samples:g} "
            f"({ms_rule}); {params['clusters']} clusters; engine: {engine}"
        )
    outlines = cluster_outlines(
        x,
        y,
        lab,
        core,
        float(eps),
        crs=frame.crs,
        categories=_column(frame, "category", inside),
        times=_column(frame, "occurred_at", inside),
    )
    return Clusters(
        clusters=outlines,
        labels=pd.Series(labels, index=frame.index, name="cluster"),
        core=pd.Series(is_core, index=frame.index, name="core"),
        params=params,
    )


def _check_arguments(method: str, eps, min_samples) -> None:
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}.")
    defaults.check_params(eps=eps, min_samples=min_samples)


def _dbscan_locations(ux, uy, counts, eps: float, min_samples: float):
    """DBSCAN labels and core flags of the unique locations (weighted by their counts),
    and the engine's name: the exact grid DBSCAN with numba, scikit-learn without."""
    if HAVE_NUMBA:
        from ._dbscan_grid import grid_dbscan

        ulab, ucore = grid_dbscan(ux, uy, eps, min_samples, counts)
        return ulab, ucore, "grid DBSCAN (numba), labels equal to scikit-learn's"
    from sklearn.cluster import DBSCAN

    # the weights are counts (whole numbers): reaching ceil(min_samples) is the same test
    model = DBSCAN(eps=eps, min_samples=int(math.ceil(min_samples))).fit(
        np.column_stack([ux, uy]), sample_weight=counts
    )
    ucore = np.zeros(len(ux), bool)
    ucore[model.core_sample_indices_] = True
    return model.labels_, ucore, "scikit-learn DBSCAN on unique locations"


def _hdbscan(x, y, min_samples: float):
    """scikit-learn's HDBSCAN on the incidents: labels, 'core' (= clustered), engine."""
    if len(x) > HDBSCAN_MAX_POINTS:
        raise InputError(
            f"HDBSCAN on {len(x):,} incidents needs too much memory here (at most "
            f"{HDBSCAN_MAX_POINTS:,}); use method='dbscan' or a shorter period."
        )
    from sklearn.cluster import HDBSCAN

    mcs = max(int(round(min_samples)), 2)
    model = HDBSCAN(min_cluster_size=mcs, cluster_selection_epsilon=0.0, copy=True).fit(
        np.column_stack([x, y])
    )
    return model.labels_, model.labels_ >= 0, "scikit-learn HDBSCAN on the incidents"


def _column(frame, name: str, rows: np.ndarray):
    """A column's values at positions ``rows`` as an array, or None without the column."""
    return frame[name].array[rows] if name in frame else None


#: Outlines are drawn on a lattice of cells of side ``eps / OUTLINE_CELLS_PER_EPS``.
OUTLINE_CELLS_PER_EPS = 4


def cluster_outlines(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray,
    core: np.ndarray,
    eps: float,
    *,
    crs=None,
    categories: np.ndarray | None = None,
    times: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Outlines and attributes of each cluster (see :class:`Clusters`).

    The outline of a cluster is drawn from the lattice cells (side ``eps / 4``) that hold
    its members, not from every member: the cells are polygonised (rasterio), merged and
    buffered by ``eps / 2``, which joins cells less than ``eps`` apart (as DBSCAN joins
    their points) and covers every member. The work grows with the occupied cells, so a
    cluster of 100,000 incidents at a few hundred addresses costs what those addresses
    cost.

    Parameters
    ----------
    x, y : array of float
        Member coordinates (metres).
    labels : array of int
        Cluster of each point, -1 for noise.
    core : array of bool
        Whether each point is a core point.
    eps : float
        The DBSCAN radius in metres.
    crs : CRS-like, optional
    categories, times : array, optional
        Category and time of each point, for ``dominant_category``, ``first`` and ``last``.

    Examples
    --------
    >>> x, y = np.array([0.0, 10, 0, 10]), np.array([0.0, 0, 10, 10])
    >>> out = cluster_outlines(x, y, np.zeros(4, int), np.ones(4, bool), 20.0)
    >>> int(out.loc[0, "incidents"]), bool(out.geometry[0].covers(shapely.multipoints(
    ...     np.column_stack([x, y]))))
    (4, True)
    """
    cols = [
        "cluster",
        "incidents",
        "core_incidents",
        "area_km2",
        "density_per_km2",
        "dominant_category",
        "first",
        "last",
        "geometry",
    ]
    labels = np.asarray(labels)
    ncl = int(labels.max()) + 1 if len(labels) else 0
    if ncl == 0:
        return gpd.GeoDataFrame({c: [] for c in cols if c != "geometry"}, geometry=[], crs=crs)
    member = labels >= 0
    lab = labels[member]
    geoms = _cell_outlines(x[member], y[member], lab, ncl, eps)
    area_km2 = shapely.area(geoms) / 1e6
    n = np.bincount(lab, minlength=ncl)
    data: dict = {
        "cluster": np.arange(ncl),
        "incidents": n,
        "core_incidents": np.bincount(lab, weights=np.asarray(core)[member], minlength=ncl)
        .round()
        .astype(np.int64),
        "area_km2": area_km2,
        "density_per_km2": np.where(area_km2 > 0, n / np.where(area_km2 > 0, area_km2, 1), np.nan),
    }
    if categories is not None:
        codes, names = pd.factorize(categories[member], sort=True)
        table = np.bincount(lab * len(names) + codes, minlength=ncl * len(names))
        data["dominant_category"] = np.asarray(names, dtype=object)[
            table.reshape(ncl, len(names)).argmax(axis=1)
        ].astype(str)
    if times is not None:
        t = pd.Series(pd.to_datetime(times[member])).groupby(lab)
        data["first"] = t.min().reindex(range(ncl)).to_numpy()
        data["last"] = t.max().reindex(range(ncl)).to_numpy()
    out = gpd.GeoDataFrame(data, geometry=geoms, crs=crs)
    return out[[c for c in cols if c in out]]


def _cell_outlines(x, y, lab, ncl: int, eps: float) -> np.ndarray:
    """One polygon per cluster: its occupied ``eps/4`` cells, buffered by eps/2, merged."""
    from affine import Affine
    from rasterio import features

    side = eps / OUTLINE_CELLS_PER_EPS
    cx = np.floor(x / side).astype(np.int64)
    cy = np.floor(y / side).astype(np.int64)
    cells = pd.DataFrame({"lab": lab, "cx": cx, "cy": cy}).drop_duplicates()
    cells = cells.sort_values(["lab", "cy", "cx"], kind="stable")
    starts = np.searchsorted(cells["lab"].to_numpy(), np.arange(ncl + 1))
    ccx, ccy = cells["cx"].to_numpy(), cells["cy"].to_numpy()
    merged = []
    for k in range(ncl):
        kx, ky = ccx[starts[k] : starts[k + 1]], ccy[starts[k] : starts[k + 1]]
        x0, y1 = int(kx.min()), int(ky.max())
        raster = np.zeros((y1 - int(ky.min()) + 1, int(kx.max()) - x0 + 1), np.uint8)
        raster[y1 - ky, kx - x0] = 1
        transform = Affine(side, 0.0, x0 * side, 0.0, -side, (y1 + 1) * side)
        polys = [
            shapely.geometry.shape(g)
            for g, _ in features.shapes(raster, mask=raster.astype(bool), transform=transform)
        ]
        # buffer each part, then merge: the same outline as buffering the merged parts
        # (a buffer distributes over a union), and 4x faster for clusters scattered over
        # thousands of cells
        parts = shapely.buffer(np.array(polys, dtype=object), eps / 2, quad_segs=4)
        merged.append(shapely.union_all(parts))
    return np.array(merged, dtype=object)

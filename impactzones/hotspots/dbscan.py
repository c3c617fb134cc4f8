"""Density-based clusters of incidents: DBSCAN (exact, fast) and HDBSCAN.

Geocoded incidents pile up on the same address, so the clustering runs on the unique
locations with ``sample_weight`` = the number of incidents there; the labels are mapped
back to every incident and equal scikit-learn's on the raw points (the locations are
ordered by their first incident, so clusters are numbered as scikit-learn numbers them).

With numba, DBSCAN runs on an exact grid algorithm (:mod:`impactzones._dbscan_grid`)
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
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._compiled import HAVE_NUMBA
from ..errors import InputError
from ._common import points_in_study_area

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
HDBSCAN_MAX_POINTS = 200_000


@dataclass
class Clusters:
    """DBSCAN / HDBSCAN result.

    Attributes
    ----------
    clusters : GeoDataFrame
        One row per cluster: ``cluster`` (0, 1, ...), ``incidents``, ``core_incidents``,
        ``area_km2``, ``density_per_km2``, ``dominant_category``, ``first``, ``last``
        and the outline (the concave hull of the members, snapped to an ``eps / 4``
        lattice, buffered by ``eps / 2``).
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
    key = x.astype(np.complex128) + 1j * y
    uniq, first, inverse, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return uniq.real[order], uniq.imag[order], counts[order].astype(float), rank[inverse]


def dbscan(
    incidents: gpd.GeoDataFrame,
    eps: float | None = None,
    min_samples: float | None = None,
    *,
    method: str = "dbscan",
    mask=None,
    area_m2: float | None = None,
    quiet: bool = True,
) -> Clusters:
    """Find dense clusters of incidents (DBSCAN, or HDBSCAN), with outlines.

    Parameters
    ----------
    incidents : GeoDataFrame
        Point incidents in a metric CRS.
    eps : float, optional
        Neighbourhood radius in metres (DBSCAN). Default: see the module notes.
    min_samples : float, optional
        Incidents within ``eps`` (the point itself included) that make a core point; for
        HDBSCAN, the minimum cluster size. Default: see the module notes.
    method : {"dbscan", "hdbscan"}
    mask : polygon or GeoDataFrame, optional
        Study area: incidents outside it are left out (label -1, counted in ``params``),
        and its area sets the automatic ``min_samples``.
    area_m2 : float, optional
        Area for the automatic ``min_samples`` when there is no mask (default: the
        incidents' bounding box).
    quiet : bool, default True
        If False, print the parameters chosen.

    Returns
    -------
    Clusters

    Examples
    --------
    >>> from impactzones.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> res = dbscan(inc[inc["group"] == "violent"], eps=150, min_samples=15)
    >>> int(res.labels.max()) + 1 == len(res.clusters)
    True
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}.")
    if eps is not None and (not np.isfinite(eps) or eps <= 0):
        raise InputError(f"eps must be a positive number of metres, got {eps!r}.")
    if min_samples is not None and (not np.isfinite(min_samples) or min_samples < 1):
        raise InputError(f"min_samples must be at least 1, got {min_samples!r}.")
    x, y, w, area, outside, inside = points_in_study_area(incidents, mask, positions=True)
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
        if HAVE_NUMBA:
            from .._dbscan_grid import grid_dbscan

            ulab, ucore = grid_dbscan(ux, uy, float(eps), float(min_samples), counts)
            engine = "grid DBSCAN (numba), labels equal to scikit-learn's"
        else:
            from sklearn.cluster import DBSCAN

            model = DBSCAN(eps=float(eps), min_samples=min_samples).fit(
                np.column_stack([ux, uy]), sample_weight=counts
            )
            ulab = model.labels_
            ucore = np.zeros(len(ux), bool)
            ucore[model.core_sample_indices_] = True
            engine = "scikit-learn DBSCAN on unique locations"
        lab = ulab[inverse]
        core = ucore[inverse]
    else:
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
        lab = model.labels_
        core = lab >= 0
        engine = "scikit-learn HDBSCAN on the incidents"
        eps_rule = "not used by HDBSCAN"
    labels = np.full(len(incidents), -1, np.int64)
    is_core = np.zeros(len(incidents), bool)
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
    outlines = cluster_outlines(incidents.iloc[inside], lab, core, float(eps))
    return Clusters(
        clusters=outlines,
        labels=pd.Series(labels, index=incidents.index, name="cluster"),
        core=pd.Series(is_core, index=incidents.index, name="core"),
        params=params,
    )


def cluster_outlines(
    members: gpd.GeoDataFrame, labels: np.ndarray, core: np.ndarray, eps: float
) -> gpd.GeoDataFrame:
    """Outlines and attributes of each cluster (see :class:`Clusters`).

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0, 10, 0, 10], [0, 0, 10, 10]),
    ...                        crs="EPSG:32615")
    >>> out = cluster_outlines(pts, np.array([0, 0, 0, 0]), np.ones(4, bool), 20.0)
    >>> int(out.loc[0, "incidents"]), bool(out.geometry[0].covers(pts.union_all()))
    (4, True)
    """
    from ..geo import xy

    x, y = xy(members)
    rows = []
    ncl = int(labels.max()) + 1 if len(labels) else 0
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(-1, ncl + 1))
    cats_all = members["category"].to_numpy(dtype=object) if "category" in members else None
    times_all = members["occurred_at"].to_numpy() if "occurred_at" in members else None
    for k in range(ncl):
        idx = order[bounds[k + 1] : bounds[k + 2]]
        # the hull of the members snapped to an eps/4 lattice: the same outline, far
        # fewer points for clusters of tens of thousands of incidents
        snap = eps / 4
        pts = np.unique(np.round(np.column_stack([x[idx], y[idx]]) / snap), axis=0) * snap
        mp = shapely.multipoints(pts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hull = shapely.concave_hull(mp, ratio=0.3) if len(pts) >= 3 else mp
        geom = shapely.buffer(hull, eps / 2, quad_segs=4)
        area_km2 = geom.area / 1e6
        row = {
            "cluster": k,
            "incidents": int(len(idx)),
            "core_incidents": int(core[idx].sum()),
            "area_km2": area_km2,
            "density_per_km2": len(idx) / area_km2 if area_km2 > 0 else np.nan,
            "geometry": geom,
        }
        if cats_all is not None:
            vals, cnt = np.unique(cats_all[idx].astype(str), return_counts=True)
            row["dominant_category"] = str(vals[np.argmax(cnt)])
        if times_all is not None:
            t = times_all[idx]
            row["first"] = pd.Timestamp(t.min())
            row["last"] = pd.Timestamp(t.max())
        rows.append(row)
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
    if not rows:
        return gpd.GeoDataFrame(
            {c: [] for c in cols if c != "geometry"}, geometry=[], crs=members.crs
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=members.crs)
    return out[[c for c in cols if c in out]]

"""The proposal page: one self-contained, offline HTML file on which an analyst draws or edits
a zone and reads its figures at once.

The page embeds only aggregates: a grid of counts by cell (``cell`` metres, only cells
whose centre is in the study area), month and crime group, deflated and base64-encoded;
never a point. Sensitive incidents (rape, sexual offences, domestic violence:
:func:`impactzones.core.schema.is_sensitive`) are left out of the grid, where a count of
one in a 100 m cell-month would be as good as a point; the page gives them only as counts
by district and year, with counts of 1 to 4 suppressed, and its figures exclude them.

It draws the density of violent crime, the hot cells, the existing zones and the
proposals; the analyst draws a polygon (click the vertices, drag them to edit,
or start from a proposal) and the page computes from the grid: the area, counts per year,
the share of the city's crime and the PAI in the 12 months before a chosen start, the
change from the 12 months before to the 12 months after it, and the counts in the ring
around the zone. A zone is counted by the cells whose centre falls inside it, so a figure
differs from the exact one only by the incidents in the cells that the edge cuts.

Leaflet is inlined from ``xstatic-leaflet``; the vertex-drawing tool is a small
hand-written script (no drawing plugin is packaged on PyPI without a CDN). Every string
reaches the page through ``json.dumps`` with ``<``, ``>`` and ``&`` escaped, never spliced.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from ..core.defaults import RING
from ..core.geo import WGS84, Layers, at_kept_label, xy
from ..core.geometry import locate_districts
from ..core.grid import make_grid
from ..core.results import column_label
from ..core.schema import GROUPS, is_sensitive

__all__ = ["explore_data", "write_explore"]

_HERE = Path(__file__).resolve().parent


def _fit_lonlat_to_xy(grid) -> dict:
    """Quadratic fits between lon/lat and the grid's metres, both ways (within ~1 m over a
    city): ``xy`` gives x and y from (lon - lon0, lat - lat0), ``ll`` lon and lat from
    (x - x_mid, y - y_mid)."""
    to_ll = Transformer.from_crs(grid.crs, WGS84, always_xy=True)
    xmin, ymin, xmax, ymax = grid.bounds
    mx, my = np.meshgrid(np.linspace(xmin, xmax, 25), np.linspace(ymin, ymax, 25))
    gx, gy = mx.ravel(), my.ravel()
    lon, lat = (np.asarray(a) for a in to_ll.transform(gx, gy))
    lon0, lat0 = float(lon.mean()), float(lat.mean())
    xm, ym = float(gx.mean()), float(gy.mean())

    def design(u, v):
        return np.c_[np.ones_like(u), u, v, u * u, u * v, v * v]

    a = design(lon - lon0, lat - lat0)
    b = design((gx - xm) / 1000, (gy - ym) / 1000)

    def fit(m, t):
        return np.linalg.lstsq(m, t, rcond=None)[0].tolist()

    return {
        "lon0": lon0,
        "lat0": lat0,
        "xm": xm,
        "ym": ym,
        "x": fit(a, gx),
        "y": fit(a, gy),
        "lon": fit(b, lon),
        "lat": fit(b, lat),
    }


def _geojson(gdf: gpd.GeoDataFrame | None, cols: list[str]) -> dict:
    if gdf is None or len(gdf) == 0:
        return {"type": "FeatureCollection", "features": []}
    keep = [c for c in cols if c in gdf.columns]
    out = gdf[[*keep, "geometry"]].to_crs(WGS84).copy()
    for c in keep:
        out[c] = out[c].astype(str)
    return json.loads(out.to_json(drop_id=True))


def _months(incidents: pd.DataFrame) -> pd.PeriodIndex:
    """Months from the first year holding at least 1% of the incidents to the last month."""
    t = incidents["occurred_at"]
    years = t.dt.year.value_counts()
    first = int(years[years >= 0.01 * len(t)].index.min())
    last = t.max().to_period("M")
    return pd.period_range(pd.Period(f"{first}-01", "M"), last, freq="M")


def explore_data(
    incidents: gpd.GeoDataFrame,
    layers: Layers,
    *,
    proposals: gpd.GeoDataFrame | None = None,
    cell: float = 100.0,
    ring: float = RING.default,
    capture: pd.DataFrame | None = None,
    capture_png: bytes | Callable[[], bytes] | None = None,
) -> dict:
    """Everything the proposal page embeds: aggregates and layers, no points.

    Returns
    -------
    dict
        ``grid`` (origin, cell in metres, size, the cells kept), ``fit`` (lon/lat to grid
        metres), ``months``, ``groups``, ``counts`` (base64 of the deflated uint16 array
        ``[group][month][cell]``, sensitive incidents left out), ``private`` (those left
        out, by district and year, counts below ``PRIVATE_MIN`` as ``None``),
        ``study_area_km2``, ``ring`` (metres), the layers as GeoJSON
        (proposals simplified to 10 m, so that their corners can be dragged) and, given a
        capture curve (:func:`impactzones.propose.capture_curve`), its table and plot
        (``capture_png``: drawn already by :func:`impactzones.propose.capture_curve_png`,
        or a function returning it, called once the rest is done, e.g. waiting for a
        worker process drawing it meanwhile; else drawn here).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2019]).incidents
    >>> d = explore_data(inc, layers)
    >>> d["groups"], d["months"][0], d["grid"]["cell"]
    (['violent', 'property', 'other'], '2019-01', 100.0)
    """
    land = layers.land  # a union of polygons, made anew at each use of the property
    grid = make_grid(land, layers.crs, cell)
    keep = np.flatnonzero(grid.mask.ravel())
    months = _months(incidents)
    private = is_sensitive(incidents).to_numpy()
    withheld = _private_summary(incidents[private], layers, months)
    public = incidents.loc[~private, ["occurred_at", "group", incidents.geometry.name]]
    counts, outside = _counts(public, grid, keep, months)
    packed = np.minimum(counts, 65535).astype("<u2").tobytes()
    data = {
        "grid": {
            "x0": grid.x0,
            "y0": grid.y0,
            "cell": grid.cell,
            "width": grid.width,
            "height": grid.height,
            "cells": base64.b64encode(
                zlib.compress(np.diff(keep, prepend=0).astype("<u4").tobytes(), 9)
            ).decode(),
            "n": int(len(keep)),
        },
        "fit": _fit_lonlat_to_xy(grid),
        "months": [str(m) for m in months],
        "groups": list(GROUPS),
        # zlib's default level: a tenth of level 9's time (0.06 s against 0.56 s for the
        # demo's 7.8 MB of counts) for a page 7% larger
        "counts": base64.b64encode(zlib.compress(packed, 6)).decode(),
        "study_area_km2": land.area / 1e6,
        "ring": ring,
        "outside": outside,
        "private": withheld,
        "boundary": _geojson(layers.boundary, []),
        "districts": _geojson(layers.districts, ["district"]),
        "zones": _geojson(layers.zones, ["name", "start"]),
        "proposals": _geojson(
            None if proposals is None else proposals.assign(geometry=proposals.simplify(10.0)),
            ["name", "summary"],
        ),
    }
    data["density"] = _density_png(counts, months, grid, keep)
    data["capture"] = _capture(capture, capture_png)  # last: a picture drawn meanwhile
    return data


def _counts(incidents: gpd.GeoDataFrame, grid, keep: np.ndarray, months: pd.PeriodIndex):
    """Incidents by group, month and kept cell (shape groups x months x cells), and how
    many have no cell, month or group there."""
    x, y = xy(incidents)
    row, col, ok = grid.cell_of(x, y)
    pos = np.full(grid.width * grid.height, -1)
    pos[keep] = np.arange(len(keep))
    cell_idx = np.where(ok, pos[np.where(ok, row * grid.width + col, 0)], -1)
    month_idx = np.asarray(months.get_indexer(incidents["occurred_at"].dt.to_period("M")))
    group_idx = np.asarray(pd.Index(GROUPS).get_indexer(incidents["group"]))
    use = (cell_idx >= 0) & (month_idx >= 0) & (group_idx >= 0)
    shape = (len(GROUPS), len(months), len(keep))
    flat = np.ravel_multi_index((group_idx[use], month_idx[use], cell_idx[use]), shape)
    counts = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape)
    return counts, int((~use).sum())


#: District-year counts of the withheld incidents below this are shown as "fewer than".
PRIVATE_MIN = 5


def _private_summary(private: pd.DataFrame, layers: Layers, months: pd.PeriodIndex) -> dict:
    """The sensitive incidents (rape, sexual offences, domestic violence) kept off the grid,
    only as counts by district and year, small counts suppressed (``None``)."""
    total = len(private)
    per = private["occurred_at"].dt.to_period("M")
    private = private[np.asarray(months.get_indexer(per)) >= 0]
    years = sorted({m.year for m in months})
    year = private["occurred_at"].dt.year.to_numpy()
    rows = []
    if layers.districts is not None and len(layers.districts):
        names = [str(n) for n in layers.districts["district"]]
        px, py = xy(private)
        # in no district: as assign places it
        found = locate_districts(px, py, layers.districts.geometry, layers.study_area)
        where = at_kept_label(private, "district", names, found)  # or by the kept label
        for i, name in enumerate(names):
            got = [int(((where == i) & (year == y)).sum()) for y in years]
            rows.append([name] + [c if c == 0 or c >= PRIVATE_MIN else None for c in got])
    return {
        "total": int(total),
        "by_year": [int((year == y).sum()) for y in years],
        "years": years,
        "rows": rows,
        "min_shown": PRIVATE_MIN,
    }


def _capture(curve: pd.DataFrame | None, png=None) -> dict | None:
    """The capture table (rows of strings) and the plot (``png``: bytes, a function
    returning them, or None to draw it here; base64) for the page."""
    if curve is None or len(curve) == 0:
        return None
    png = png() if callable(png) else png
    from ..propose import capture_curve_png, capture_table

    table = capture_table(curve)
    rows = [[str(c).replace("capture_at_", "") for c in table.columns]]
    for r in table.itertuples(index=False):
        rows.append([str(r[0])] + [("-" if pd.isna(v) else f"{v:.1%}") for v in r[1:]])
    return {
        "rows": rows,
        "png": base64.b64encode(png or capture_curve_png(curve, dpi=70)).decode(),
        "period": column_label(curve, "period"),
        "before": column_label(curve, "before"),
    }


def _density_png(counts, months, grid, keep) -> dict:
    """Violent crime in the last 12 months per cell, as a coloured PNG and its lon/lat
    bounds (an image overlay; aggregates only)."""
    import matplotlib
    from scipy import ndimage

    last = counts[0, -12:].sum(0).astype(float)
    img = np.zeros(grid.width * grid.height)
    img[keep] = last
    img = ndimage.gaussian_filter(img.reshape(grid.shape), 1.5)
    top = np.quantile(img[img > 0], 0.995) if (img > 0).any() else 1.0
    rgba = matplotlib.colormaps["YlOrRd"](np.clip(img / top, 0, 1))
    rgba[..., 3] = np.where(img > 0.02 * top, 0.7, 0.0)
    to_ll = Transformer.from_crs(grid.crs, WGS84, always_xy=True)
    xmin, ymin, xmax, ymax = grid.bounds
    (w, e), (s, n) = to_ll.transform([xmin, xmax], [ymin, ymax])
    hot = np.zeros(grid.width * grid.height, bool)
    if (last > 0).any():
        hot[keep] = last >= max(np.quantile(last[last > 0], 0.98), 1)
    return {
        "png": base64.b64encode(_rgba_png(rgba)).decode(),
        "bounds": [[s, w], [n, e]],
        "label": f"Violent crime density, {months[max(len(months) - 12, 0)]} to {months[-1]}",
        "hot": base64.b64encode(zlib.compress(np.packbits(hot).tobytes(), 9)).decode(),
    }


def _rgba_png(rgba: np.ndarray) -> bytes:
    """An RGBA picture (floats 0-1, rows from the top) as PNG bytes: the bytes
    ``matplotlib.pyplot.imsave`` writes for it (with its tags: 100 dpi, the Software text),
    without importing pyplot (a third of a second) in the process that writes the page."""
    import io

    import matplotlib
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(
        "Software", f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/"
    )
    img = Image.fromarray(np.ascontiguousarray((rgba * 255).astype(np.uint8)), mode="RGBA")
    buf = io.BytesIO()
    img.save(buf, format="png", optimize=True, pnginfo=info, dpi=(100, 100))
    return buf.getvalue()


def _js_json(obj) -> str:
    """JSON safe inside a <script> element (no "</script", no HTML comment openers)."""
    s = json.dumps(obj, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_explore(
    incidents: gpd.GeoDataFrame,
    layers: Layers,
    path,
    *,
    proposals: gpd.GeoDataFrame | None = None,
    cell: float = 100.0,
    ring: float = RING.default,
    title: str = "Propose an Impact Zone",
    capture: pd.DataFrame | None = None,
    capture_png: bytes | Callable[[], bytes] | None = None,
) -> Path:
    """Write the proposal page (one offline HTML file) to ``path`` (``capture``,
    ``capture_png``: as :func:`explore_data` takes them).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> layers = st_louis()
    >>> inc = synthesize(seed=2018, years=[2019]).incidents
    >>> p = write_explore(inc, layers, pathlib.Path(tempfile.mkdtemp()) / "page.html")
    >>> p.stat().st_size < 3_000_000
    True
    """
    from ..core.files import atomic_write
    from ._leaflet import leaflet_inline

    data = explore_data(
        incidents,
        layers,
        proposals=proposals,
        cell=cell,
        ring=ring,
        capture=capture,
        capture_png=capture_png,
    )
    js, css = leaflet_inline()
    page = (_HERE / "explore_page.html").read_text(encoding="utf-8")
    app = (_HERE / "explore_page.js").read_text(encoding="utf-8")
    fill = {
        "/*LEAFLET_CSS*/": css,
        "/*LEAFLET_JS*/": js,
        "/*APP_JS*/": app.replace("</script", "<\\/script"),
        "/*DATA*/null": _js_json(data),
        "/*TITLE*/null": _js_json(title),
    }
    # one pass: a name in the data that reads like a placeholder is never filled in again
    html = re.sub("|".join(map(re.escape, fill)), lambda m: fill[m.group(0)], page)
    return atomic_write(Path(path), lambda p: p.write_text(html, encoding="utf-8"))

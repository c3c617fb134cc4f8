"""Folium maps for commanders and analysts: analysis, not raw data.

A commander map shows one Impact Zone (or the whole city): the zone and its displacement
ring, districts and neighborhoods, the before/after change by neighborhood as a choropleth
on a diverging scale centred on zero, the kernel density surface as a raster in metres,
DBSCAN cluster outlines, Gi* hot and cold cells, proposed zones, a title block with the
headline figures and a data note, popups with a small trend chart, legends for every
coloured layer, a scale bar and a fullscreen button. The analyst map adds the Gi* grid with
z and p in its popups.

Design rules:

* **Small and fast.** Only surfaces, aggregates and simplified polygons (coordinates to
  about a metre); the only script is Leaflet itself (no jQuery, Bootstrap or d3: legends,
  charts and the fullscreen button are plain HTML, SVG and a few lines of JavaScript).
* **Private.** Rape and domestic-violence incidents are never drawn as points; any point
  layer of other incidents is off by default and capped at :data:`MAX_POINTS`.
* **Safe.** Every string that comes from a user's file is HTML-escaped before it reaches
  the page (a zone named ``<img src=x onerror=alert(1)>`` shows as text).
* **Offline.** Every map inlines Leaflet (from the pinned ``xstatic-leaflet`` package)
  and draws a light vector base of its own (land, the river, major roads and their names),
  so that one HTML file opens on a machine with no network; ``online_tiles=True`` adds
  tiled base maps, drawn over that base.
* **Any screen.** The view fits the zone and its ring into the part of the screen the
  title, legend and controls leave free; on small screens the legend and the layer control
  collapse to buttons.
"""

from __future__ import annotations

import base64
import gc
import html
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core import defaults
from ..core.change import format_pct
from ..core.drawing import picture_fonts, plot_lines, plot_polygons
from ..core.geo import WGS84, Layers, no_point
from ..core.results import column_label
from ..core.schema import is_sensitive
from ..io.safety import js_literal
from ..io.writers import write_text
from ._folium import folium
from ._leaflet import leaflet_inline as _leaflet_inline
from ._templates import literal_elements
from .cache import MapCache

if TYPE_CHECKING:
    from ..core.results import Result

__all__ = [
    "MAX_POINTS",
    "MapCache",
    "MapData",
    "add_incident_sample",
    "base_map",
    "capture_layer",
    "change_colour",
    "commander_map",
    "esc",
    "escape_frame",
    "save_map",
    "stable_ids",
    "static_map",
    "surface_png",
    "trend_svg",
    "write_index",
]

#: Most incident points any map layer carries (a seeded sample beyond that).
MAX_POINTS: int = defaults.MAX_POINTS.default
LEAFLET_VERSION = "1.9.3"
#: Base maps from xyzservices that need no API key (only with ``online_tiles``).
BASEMAPS = {
    "Light base map (online)": "Esri.WorldGrayCanvas",
    "Street map (online)": "OpenStreetMap.Mapnik",
}
#: Map panes and their z-index: the offline base under any tiles (200), area fills in
#: Leaflet's overlay pane (400), the density above them, zone outlines above that, labels
#: on top.
PANES = {"izBase": 150, "izDensity": 440, "izZones": 460, "izLabels": 620}
#: Geometry simplification for the screen, in metres.
SIMPLIFY_M = 8.0
#: zlib level of the surfaces' PNGs (6, zlib's default: level 9 costs 7x the time for 7%)
PNG_LEVEL = 6

ZONE_STYLE = {"color": "#7b1fa2", "weight": 3, "fill": False}
RING_STYLE = {"color": "#7b1fa2", "weight": 1.5, "dashArray": "6 5", "fill": False}
DISTRICT_STYLE = {"color": "#222222", "weight": 2, "fill": False}
NEIGHBORHOOD_STYLE = {"color": "#8a8a8a", "weight": 0.7, "fill": False}
PROPOSAL_STYLE = {"color": "#00897b", "weight": 3, "dashArray": "2 6", "fill": False}
CLUSTER_STYLE = {"color": "#e65100", "weight": 2, "fillColor": "#ff9800", "fillOpacity": 0.08}
ROAD_STYLE = {
    "interstate": {"color": "#d9a441", "weight": 3, "opacity": 0.9},
    "arterial": {"color": "#cfc8b8", "weight": 1.6, "opacity": 1},
}
#: Gi* hot (magenta) and cold (green) spots: a palette apart from the change map's
#: blue-red and the density's yellow-brown.
GI_COLOURS = {3: "#8e0152", 2: "#c51b7d", 1: "#de77ae", -1: "#b8e186", -2: "#7fbc41", -3: "#4d9221"}
GI_LABELS = {
    3: "Hot spot, 99%",
    2: "Hot spot, 95%",
    1: "Hot spot, 90%",
    -1: "Cold spot, 90%",
    -2: "Cold spot, 95%",
    -3: "Cold spot, 99%",
}
PROPOSAL_LAYER = "Proposed zones"
CAPTURE_LAYER = "Capture curve (backtest of the proposals)"
GI_LAYER = "Gi* hot and cold spots (FDR-corrected)"
CHANGE_LIMIT = 50.0  # the choropleth's colour scale runs from -50% to +50%
CHANGE_CMAP = "RdBu_r"  # diverging, centred on zero: blue fell, red rose
DENSITY_CMAP = "YlOrBr"  # sequential
#: Areas with too few incidents to tell: hatched, unlike anything else on the map.
HATCH = "url(#iz-hatch)"
HATCH_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="iz-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#9e9e9e" stroke-width="2"/></pattern>'
    "</defs></svg>"
)

CSS = """
html,body{margin:0;padding:0;height:100%}
.leaflet-container{background:#e4e7ea}
.iz-box{background:rgba(255,255,255,.95);padding:8px 12px;border-radius:4px;
box-shadow:0 1px 5px rgba(0,0,0,.35);font:13px/1.4 Arial,Helvetica,sans-serif;color:#222}
.iz-title{max-width:400px}.iz-title h1{font-size:16px;margin:0 0 4px}
.iz-title .iz-head{margin:2px 0}.iz-title .iz-head b{font-weight:bold}
.iz-title .iz-note{color:#555;font-size:11px}
.iz-title .iz-chart svg{display:block;width:100%;height:auto;max-width:380px}
.iz-legend{max-width:230px;font-size:12px;max-height:70vh;overflow:auto}
.iz-legend h2{font-size:12px;margin:6px 0 3px}.iz-legend summary{font-weight:bold;cursor:pointer}
.iz-swatch{display:inline-block;width:14px;height:11px;margin-right:5px;vertical-align:middle;
border:1px solid #999}.iz-line{display:inline-block;width:18px;height:0;margin-right:5px;
vertical-align:middle;border-top:3px solid}
.iz-hatch{background:repeating-linear-gradient(45deg,#fff 0 2px,#9e9e9e 2px 4px)}
.iz-ramp{height:10px;border:1px solid #999}.iz-ticks{display:flex;justify-content:space-between;
font-size:10px;color:#444}
.iz-popup{font:12px/1.35 Arial,Helvetica,sans-serif}.iz-popup b{font-size:13px}
.iz-fs{background:#fff;width:30px;height:30px;line-height:30px;text-align:center;cursor:pointer;
font:bold 16px Arial}
.leaflet-control-layers-expanded{max-width:240px;max-height:60vh;overflow:auto}
.leaflet-control-layers label{white-space:normal;font-size:12px;line-height:1.3}
.iz-lbl span{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;
font:11px Arial,Helvetica,sans-serif;color:#555;text-shadow:0 0 2px #fff,0 0 2px #fff,
0 0 3px #fff;pointer-events:none}
.iz-lbl-road,.iz-lbl-nb{display:none}.iz-z14 .iz-lbl-road,.iz-lbl-major,.iz-z13 .iz-lbl-nb{
display:block}.iz-lbl-major span{color:#8a6414;font-weight:bold}
.iz-lbl-nb span{font-style:italic;color:#777;font-size:10px}
.iz-lbl-river span{font-style:italic;color:#4f7fa8;font-size:12px}
.iz-lbl-zone span{font:bold 13px Arial,Helvetica,sans-serif;color:#4a148c}
.iz-lbl-ring span{font-size:10px;color:#7b1fa2}
.iz-lbl-prop span{font-size:11px;color:#00695c;font-weight:bold}
.iz-small .iz-title{box-sizing:border-box;max-width:calc(100vw - 72px);padding:5px 8px;
font-size:12px}
.iz-small .iz-title h1{font-size:13px}.iz-small .iz-title .iz-note{display:none}
.iz-small .iz-title .iz-chart svg{max-height:64px}
.iz-small .iz-legend{max-width:calc(100vw - 90px);max-height:45vh}
"""


# --------------------------------------------------------------------------------------
# What a map shows
# --------------------------------------------------------------------------------------


@dataclass
class MapData:
    """Everything one map shows, computed beforehand (maps compute nothing).

    Attributes
    ----------
    layers : Layers
    title : str
    zone : str or None
        The zone the map is about; None for a citywide map.
    headline : list of str
        Lines of the title block (already plain text; they are escaped on the page).
    data_note : str
    change : GeoDataFrame, optional
        Areas with ``name``, ``before``, ``after``, ``pct`` (percent change, NaN where
        undefined) for the choropleth; ``change_label`` names it.
    results : dict, optional
        Hot-spot results to draw (name -> a :class:`~impactzones.core.results.Result`);
        each is drawn by its method's map layer (:mod:`impactzones.maps.layers`), on the
        maps its registry entry names.
    labels : dict, optional
        Layer name -> the name it has on this map (default: the layer's own).
    subject, period : str
        What the layers show and when, for their default names ("Violent crime", "2018").
    visible : dict, optional
        Layer name -> whether it is on when the map opens (default: its registry entry's).
    analyst : bool
        An analyst map: draws the layers the registry keeps for analysts too.
    proposals : GeoDataFrame, optional
    capture : DataFrame, optional
        The proposals' capture curve (:func:`impactzones.propose.capture_curve`), a layer
        of the analyst map.
    capture_png : bytes, optional
        Its plot, already drawn (:func:`impactzones.propose.capture_curve_png`: the demo's
        worker draws it once for its file, its proposal page and this map); drawn here
        when not given.
    trends : dict, optional
        Area name -> monthly counts (a Series indexed by month start) for popup charts.
    trend_start : Timestamp, optional
        Where the charts draw the "zone began" line.
    ring : float
        Width of the displacement rings, in metres.
    sample : GeoDataFrame, optional
        Incidents to offer as a (capped, off by default) point layer; sensitive ones are
        removed again here, whatever the caller passed.
    show_change : bool
        Whether the change layer is on when the map opens.
    chart : str
        An SVG trend chart (:func:`trend_svg`) for the title block.
    basemap : GeoDataFrame, optional
        Lines to draw as the offline base instead of the bundled St. Louis roads.
    cache : MapCache, optional
        Shared by the maps of one build, which then make each layer's GeoJSON and each
        surface's picture once (the layers and results must not change meanwhile).
    """

    layers: Layers
    title: str
    zone: str | None = None
    headline: list[str] = field(default_factory=list)
    data_note: str = ""
    change: gpd.GeoDataFrame | None = None
    change_label: str = "Change in crime by neighborhood"
    results: dict[str, Result] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    subject: str = "Crime"
    period: str = ""
    visible: dict[str, bool] = field(default_factory=dict)
    analyst: bool = False
    proposals: gpd.GeoDataFrame | None = None
    capture: pd.DataFrame | None = None
    capture_png: bytes | None = field(default=None, repr=False)
    trends: dict = field(default_factory=dict)
    trend_start: pd.Timestamp | None = None
    ring: float = defaults.RING.default
    sample: gpd.GeoDataFrame | None = None
    show_change: bool = True
    chart: str = ""
    basemap: gpd.GeoDataFrame | None = None
    cache: MapCache | None = field(default=None, repr=False, compare=False)

    def shown(self, name: str) -> bool:
        """Whether layer ``name`` is on when the map opens (``visible``, else its entry's)."""
        from ..hotspots import registry

        if name in self.visible:
            return bool(self.visible[name])
        method = registry.REGISTRY.get(name)
        return method.shown if method is not None else True


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def esc(value) -> str:
    """HTML-escape anything for the page.

    Examples
    --------
    >>> esc("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell HTML-escaped.

    Examples
    --------
    >>> escape_frame(pd.DataFrame({"name": ["<b>x</b>"], "n": [1]})).loc[0, "name"]
    '&lt;b&gt;x&lt;/b&gt;'
    """
    out = df.copy()
    geom = getattr(out, "_geometry_column_name", None)
    for col in out.columns:
        if col == geom:
            continue
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = _escaped(out[col])
    return out


def _escaped(column: pd.Series) -> pd.Series:
    """Each cell of ``column`` HTML-escaped, missing ones as "": each distinct value escaped
    once (a grid's 4,024 cells hold a handful of labels), in the column's dtype. Cells
    other than text are escaped one at a time: to ``factorize``, 1, 1.0 and True are one
    value, escaped as "1", "1.0" and "True"."""
    if pd.api.types.infer_dtype(column, skipna=True) != "string":  # (and lists, unhashable)
        return column.map(lambda v: esc(v) if pd.notna(v) else "")
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    escaped = np.array([esc(v) for v in uniques] + [""], dtype=object)  # [-1]: missing
    return pd.Series(escaped[codes], index=column.index, dtype=column.dtype, name=column.name)


def _once(data: MapData, key, source, make):
    """``make()``, or what it made for ``key`` and ``source`` on an earlier map of the same
    build (``data.cache``)."""
    return make() if data.cache is None else data.cache.get(key, source, make)


def _for_map(gdf: gpd.GeoDataFrame, simplify: float = SIMPLIFY_M) -> dict:
    """Simplified (metres), escaped, with dates as text, in WGS 84, to about a metre: the
    GeoJSON that folium embeds for it (:func:`_geojson`)."""
    return _prepared(gdf, simplify)


def _prepared(gdf: gpd.GeoDataFrame, simplify: float) -> dict:
    """:func:`_for_map`'s work, done."""
    out = gdf.copy()
    if out.crs is not None and out.crs.is_projected and simplify > 0:
        out["geometry"] = out.geometry.simplify(simplify, preserve_topology=True)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
    out = escape_frame(out).to_crs(WGS84)
    # 5 decimals of a degree is about a metre: all the screen can show, half the bytes
    out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda c: np.round(c, 5))
    return _geojson(out)


def _geojson(gdf: gpd.GeoDataFrame) -> dict:
    """The GeoJSON dict folium makes of a GeoDataFrame in WGS 84 (its
    ``__geo_interface__``, through JSON: ids, properties with missing values as null,
    each feature's bbox and the collection's), the same values, built in bulk: GEOS
    writes the geometries (every coordinate to full precision) instead of a Python
    loop over each feature's coordinates.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"n": [1], "s": [None]}, geometry=[box(0, 0, 1, 2)], crs=WGS84)
    >>> f = _geojson(g)["features"][0]
    >>> f["id"], f["properties"], f["bbox"], f["geometry"]["type"]
    ('0', {'n': 1, 's': None}, [0.0, 0.0, 1.0, 2.0], 'Polygon')
    """
    import json

    geoms = gdf.geometry.to_numpy()
    blank = no_point(gdf)
    text = np.where(blank, "null", shapely.to_geojson(np.where(blank, None, geoms)))
    bounds = shapely.bounds(geoms).tolist()
    props = gdf.drop(columns=gdf.geometry.name)
    values = props.astype(object)
    values[pd.isna(props).to_numpy()] = None
    cols = list(props.columns)
    with _gc_paused():  # many small lists and dicts, none of them garbage
        shapes = json.loads("[" + ",".join(text.tolist()) + "]")
        return _collection(gdf, cols, values.to_numpy().tolist(), shapes, blank, bounds)


def _collection(gdf, cols, rows, shapes, blank, bounds) -> dict:
    """The FeatureCollection of :func:`_geojson`'s parts."""
    features = [
        {
            "id": str(fid),
            "type": "Feature",
            "properties": dict(zip(cols, row, strict=True)),
            "geometry": shape,
            "bbox": None if empty else box,
        }
        for fid, row, shape, empty, box in zip(
            np.asarray(gdf.index), rows, shapes, blank.tolist(), bounds, strict=True
        )
    ]
    # plain Python values only (the page writes them with json): no trip through JSON text
    return {"type": "FeatureCollection", "features": features, "bbox": gdf.total_bounds.tolist()}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a block that makes many containers and no
    garbage (a layer's GeoJSON: its collections would scan the whole heap, again and again,
    for nothing); reference counting still frees what is dropped."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@lru_cache(maxsize=16)
def _colormap(name: str):
    """matplotlib's colormap ``name``, looked up once (each lookup copies it, and a copy
    builds its colour table again at its first use)."""
    import matplotlib

    return matplotlib.colormaps[name]


def _rgba_hex(rgba) -> str:
    r, g, b = (int(round(255 * c)) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def change_colour(pct: float) -> str:
    """Diverging colour for a percent change, centred on zero (blue down, red up).

    Examples
    --------
    >>> change_colour(-50.0), change_colour(float("nan"))
    ('#053061', '#bdbdbd')
    """
    if pct is None or not np.isfinite(pct):
        return "#bdbdbd"
    cmap = _colormap("RdBu_r")
    t = 0.5 + 0.5 * float(np.clip(pct / CHANGE_LIMIT, -1, 1))
    return _rgba_hex(cmap(t))


def trend_svg(
    series: pd.Series,
    start: pd.Timestamp | None,
    width: int = 360,
    height: int = 120,
    label: str = "incidents a month",
) -> str:
    """An SVG line chart of monthly counts with axes (counts up the side, years along
    the bottom) and a dashed line where the zone began.

    Examples
    --------
    >>> s = pd.Series([3, 5, 2], index=pd.date_range("2018-01-01", periods=3, freq="MS"))
    >>> svg = trend_svg(s, pd.Timestamp("2018-02-01"))
    >>> svg.startswith("<svg"), "zone began" in svg, ">2018<" in svg
    (True, True, True)
    """
    if series is None or len(series) < 2:
        return ""
    v = series.to_numpy(float)
    top = _nice_top(v.max())
    left, right, y0, y1 = 30.0, width - 6.0, height - 16.0, 12.0
    xs = np.linspace(left, right, len(v))
    ys = y0 - (v / top) * (y0 - y1)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    grey = 'stroke="#bbb" stroke-width="0.6"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(label)}" '
        'font-family="Arial,Helvetica,sans-serif">',
        f'<text x="{left}" y="8" font-size="9" fill="#444">{esc(label)}</text>',
    ]
    for tick in (0, top / 2, top):
        ty = y0 - (tick / top) * (y0 - y1)
        parts.append(f'<line x1="{left}" x2="{right}" y1="{ty:.1f}" y2="{ty:.1f}" {grey}/>')
        parts.append(
            f'<text x="{left - 3}" y="{ty + 3:.1f}" font-size="9" text-anchor="end" '
            f'fill="#444">{tick:,.0f}</text>'
        )
    idx = pd.DatetimeIndex(series.index)
    for i, t in enumerate(idx):
        if t.month == 1:
            parts.append(
                f'<line x1="{xs[i]:.1f}" x2="{xs[i]:.1f}" y1="{y0}" y2="{y0 + 3}" '
                'stroke="#666"/>'
                f'<text x="{xs[i]:.1f}" y="{height - 3}" font-size="9" text-anchor="middle" '
                f'fill="#444">{t.year}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{right}" y1="{y0}" y2="{y0}" stroke="#666"/>')
    parts.append(f'<polyline fill="none" stroke="#222" stroke-width="1.5" points="{pts}"/>')
    if start is not None:
        pos = int(np.searchsorted(idx.to_numpy(), np.datetime64(pd.Timestamp(start))))
        if 0 < pos < len(v):
            x = xs[pos] - (xs[1] - xs[0]) / 2
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y1 - 2}" y2="{y0}" stroke="#7b1fa2" '
                'stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
            anchor = "end" if x > (left + right) / 2 else "start"
            tx = x - 3 if anchor == "end" else x + 3
            parts.append(
                f'<text x="{tx:.1f}" y="{y1 + 8}" font-size="9" fill="#7b1fa2" '
                f'text-anchor="{anchor}">zone began</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _nice_top(value: float) -> float:
    """A round number at or above ``value`` for a chart's axis (1, 2, 2.5 or 5 x 10^k)."""
    value = max(float(value), 1.0)
    k = 10 ** np.floor(np.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * k >= value:
            return float(step * k)
    return float(10 * k)


class _BoundPopup(folium.MacroElement):
    """A popup bound to its parent layer with plain Leaflet (folium's Popup needs jQuery)."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.bindPopup({{ this.html_js }}, {maxWidth: 380});
{% endmacro %}
""")

    def __init__(self, html_text: str):
        super().__init__()
        self.html = html_text
        self.html_js = js_literal(html_text)


class _BoundTooltip(folium.MacroElement):
    """A tooltip bound to its parent layer, its text JSON-encoded into the script (folium's
    string tooltip splices the text into a JavaScript template literal, where a backtick
    or ``${...}`` in a name would end it or run)."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.bindTooltip({{ this.text_js }}, {sticky: true});
{% endmacro %}
""")

    def __init__(self, text: str):
        super().__init__()
        self.text_js = js_literal(f"<div>{esc(text)}</div>")


def _popup(title: str, lines: list[str], chart: str = "") -> _BoundPopup:
    body = "".join(f"<div>{esc(line)}</div>" for line in lines)
    return _BoundPopup(f'<div class="iz-popup"><b>{esc(title)}</b>{body}{chart}</div>')


# --------------------------------------------------------------------------------------
# Pieces of a map
# --------------------------------------------------------------------------------------


class _Fullscreen(folium.MacroElement):
    """A fullscreen button in plain JavaScript (no plugin download)."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
(function(){
  var map = {{ this._parent.get_name() }};
  var Btn = L.Control.extend({options:{position:'topleft'}, onAdd:function(){
    var d = L.DomUtil.create('div','leaflet-bar iz-fs'); d.title='Full screen';
    d.setAttribute('role','button');
    d.innerHTML='<svg width="16" height="16" viewBox="0 0 16 16" style="margin-top:7px">'+
      '<path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5" fill="none" stroke="#333" '+
      'stroke-width="2"/></svg>';
    L.DomEvent.on(d,'click',function(e){L.DomEvent.stop(e);
      var c = map.getContainer();
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (c.requestFullscreen) { c.requestFullscreen(); }});
    return d;}});
  map.addControl(new Btn());
})();
{% endmacro %}
""")


class _Box(folium.MacroElement):
    """An HTML box (title block or legend) as a Leaflet control, already escaped."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
(function(){
  var Box = L.Control.extend({options:{position: {{ this.position|tojson }} },
    onAdd:function(){ var d = L.DomUtil.create('div', {{ this.css_class|tojson }});
      d.innerHTML = {{ this.html_text_js }};
      L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
      return d; }});
  {{ this._parent.get_name() }}.addControl(new Box());
})();
{% endmacro %}
""")

    def __init__(self, html_text: str, position: str, css_class: str):
        super().__init__()
        self.html_text = html_text
        self.html_text_js = js_literal(html_text)
        self.position = position
        self.css_class = css_class


class _GeoJson(folium.GeoJson):
    """folium's GeoJson with one style for every feature (``style``): folium's style map of
    it made at once, instead of by calling a style function on every feature and writing
    each answer as JSON when the map is rendered (4,024 times for the Gi* grid). The page
    is the same as with ``style_function=lambda _f: style``.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> data = _for_map(st_louis().districts[["name", "geometry"]])
    >>> def page(layer):
    ...     m = folium.Map(tiles=None)
    ...     layer.add_to(m)
    ...     return stable_ids(m.get_root().render())
    >>> page(_GeoJson(data, style=DISTRICT_STYLE)) == page(
    ...     folium.GeoJson(data, style_function=lambda _f: DISTRICT_STYLE))
    True
    """

    def __init__(self, data, *, style: dict, **kwargs):
        super().__init__(data, style_function=lambda _f: style, **kwargs)
        # folium's mapping when every feature has this style: its one (default) entry
        self._style_key = folium.features.GeoJsonStyleMapper._to_key(dict(style))

    def render(self, **kwargs):  # as folium's (whose types mypy would hold it to)
        from folium.utilities import get_obj_in_upper_tree

        self.parent_map = get_obj_in_upper_tree(self, folium.Map)
        if self.data["features"]:
            self.style_map = {"default": self._style_key}
            if self.highlight:  # as folium maps it, feature by feature
                mapper = folium.features.GeoJsonStyleMapper(
                    self.data, self.feature_identifier, self
                )
                self.highlight_map = mapper.get_highlight_map(self.highlight_function)
        super(folium.GeoJson, self).render()  # folium's GeoJson.render, without the mapping


class _Text(folium.Element):
    """A piece of the page given as finished text (folium's Element would compile it as a
    template: Leaflet's 150 kB, on every map)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


def base_map(
    layers: Layers,
    *,
    online_tiles: bool = False,
    basemap: gpd.GeoDataFrame | None = None,
    self_contained: bool | None = None,
    cache: MapCache | None = None,
) -> folium.Map:
    """A self-contained map of the study area: Leaflet inlined, an offline vector base
    (land, river, major roads and their names), a scale bar and a fullscreen button.

    Parameters
    ----------
    layers : Layers
    online_tiles : bool
        Also offer tiled base maps (Esri light, OpenStreetMap); they load over the
        offline base, so a tile server that fails leaves a usable map.
    basemap : GeoDataFrame, optional
        Lines (with an optional ``name``) to draw as the base instead of the bundled
        St. Louis roads, e.g. another city's streets.
    self_contained : bool, optional
        Ignored: every map is self-contained now (kept for old callers).
    cache : MapCache, optional
        Where the maps of one build keep the offline base, made once.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> m = base_map(st_louis())
    >>> m.default_js, "Leaflet 1.9.3" in m.get_root().render()  # inlined, no CDN
    ([], True)
    """
    b = layers.boundary.to_crs(WGS84).total_bounds
    m = folium.Map(
        location=[(b[1] + b[3]) / 2, (b[0] + b[2]) / 2],
        zoom_start=12,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    m.default_js = []
    m.default_css = []
    root = cast(folium.Figure, m.get_root())
    js, css = _leaflet_inline()
    root.header.add_child(_Text(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(_Text(f"<script>{js}</script>"), name="leaflet_js")
    root.header.add_child(_Text(f"<style>{CSS}</style>"), name="iz_css")
    root.header.add_child(_Text('<meta name="generator" content="impactzones">'), name="iz_meta")
    root.html.add_child(_Text(HATCH_SVG), name="iz_hatch")
    for name, z in PANES.items():
        folium.map.CustomPane(name, z_index=z, pointer_events=name != "izLabels").add_to(m)
    _add_offline_base(m, layers, basemap, cache)
    if online_tiles:
        import xyzservices.providers as xyz

        for i, (label, key) in enumerate(BASEMAPS.items()):
            folium.TileLayer(xyz.query_name(key), name=label, show=i == 0).add_to(m)
        folium.FeatureGroup(name="Offline base only", overlay=False, show=False).add_to(m)
    _ZoomClasses().add_to(m)
    _Fullscreen().add_to(m)
    return m


@lru_cache(maxsize=4)
def _read_bundled(path: Path) -> gpd.GeoDataFrame | None:
    """A bundled base layer, read once a process (shared: callers copy it before changing
    it), or None when the file is absent."""
    return gpd.read_file(path) if path.exists() else None


def _bundled_roads(layers: Layers) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The bundled St. Louis roads and river, when they lie in the study area."""
    from ..core.geo import data_dir

    folder = data_dir()
    roads = _read_bundled(folder / "basemap_roads.geojson")
    if roads is None or not roads.intersects(layers.boundary.to_crs(WGS84).union_all()).any():
        return None, None
    return roads, _read_bundled(folder / "basemap_river.geojson")


def _label_point(geom) -> tuple[float, float] | None:
    """Where a line's or polygon's label goes (WGS 84 lat, lon)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("LineString", "MultiLineString"):
        parts = getattr(geom, "geoms", [geom])
        longest = max(parts, key=lambda g: g.length)
        p = longest.interpolate(0.5, normalized=True)
    else:
        p = geom.representative_point()
    return round(p.y, 5), round(p.x, 5)


def _add_offline_base(
    m: folium.Map, layers: Layers, basemap=None, cache: MapCache | None = None
) -> None:
    """Land, river, roads and their names in the base pane (under any tiles)."""
    if cache is None:
        land, river, roads, labels = _offline_base(layers, basemap)
    else:
        land, river, roads, labels = cache.get(
            "offline base", (layers, basemap), lambda: _offline_base(layers, basemap)
        )
    group = folium.FeatureGroup(name="Offline base", control=False, show=True)
    _GeoJson(
        land,
        style={"color": "#b9b4a6", "weight": 1, "fillColor": "#fbfaf6", "fillOpacity": 1},
        interactive=False,
        pane="izBase",
    ).add_to(group)
    if river is not None:
        _GeoJson(
            river,
            style={"color": "#8fb4d4", "weight": 0.5, "fillColor": "#b9d3ea", "fillOpacity": 1},
            interactive=False,
            pane="izBase",
        ).add_to(group)
    if roads is not None:
        folium.GeoJson(
            roads,
            style_function=lambda f: ROAD_STYLE[f["properties"].get("kind", "arterial")],
            interactive=False,
            pane="izBase",
        ).add_to(group)
    if labels:
        _Labels(labels).add_to(group)
    group.add_to(m)


def _offline_base(layers: Layers, basemap=None) -> tuple[dict, dict | None, dict | None, list]:
    """The offline base's GeoJSON (land; river and roads, or None) and its labels."""
    land = _for_map(layers.boundary[["geometry"]])
    roads, river = _bundled_roads(layers)
    if basemap is not None and len(basemap):
        roads = basemap.to_crs(WGS84).copy()
        if "name" not in roads:
            roads["name"] = ""
        roads["kind"] = "arterial"
        roads = roads[["name", "kind", "geometry"]]
    river_json = None if river is None else _for_map(river[["name", "geometry"]], simplify=0)
    roads_json, labels = None, []
    if roads is not None and len(roads):
        roads = roads.copy()
        roads["name"] = roads["name"].fillna("").astype(str)
        roads_json = _for_map(roads, simplify=0)
        for row in roads.to_crs(WGS84).itertuples():
            pt = _label_point(row.geometry)
            if pt and row.name:
                cls = "iz-lbl-road" + (" iz-lbl-major" if row.kind == "interstate" else "")
                labels.append([*pt, esc(row.name), cls])
    if river is not None:
        for row in river.to_crs(WGS84).itertuples():
            pt = _label_point(row.geometry)
            if pt:
                labels.append([*pt, esc(getattr(row, "name", "") or "River"), "iz-lbl-river"])
    return land, river_json, roads_json, labels


class _Labels(folium.MacroElement):
    """Text labels (already HTML-escaped, JSON-encoded into the script) as divIcons in
    the label pane, added to the parent layer so they show and hide with it."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
(function(){
  var parent = {{ this._parent.get_name() }};
  {{ this.items_js }}.forEach(function(d){
    L.marker([d.lat, d.lon], {pane: 'izLabels', interactive: false, keyboard: false,
      icon: L.divIcon({className: 'iz-lbl ' + d.cls, html: '<span>' + d.name + '</span>',
                       iconSize: null})}).addTo(parent);
  });
})();
{% endmacro %}
""")

    def __init__(self, items: list):
        super().__init__()
        # [lat, lon, escaped text, class] rows, JSON-encoded as objects (one per line)
        rows = [{"lat": r[0], "lon": r[1], "name": r[2], "cls": r[3]} for r in items]
        self.items_js = "[\n" + ",\n".join(js_literal(r) for r in rows) + "\n]"


class _ZoomClasses(folium.MacroElement):
    """Classes on the map container by zoom (labels of minor roads and neighborhoods
    appear only when there is room) and by size (small screens)."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
(function(){
  var map = {{ this._parent.get_name() }};
  function set(){ var c = map.getContainer(), z = map.getZoom();
    c.classList.toggle('iz-z13', z >= 13); c.classList.toggle('iz-z14', z >= 14);
    c.classList.toggle('iz-small', c.clientWidth < 700 || c.clientHeight < 560); }
  map.on('zoomend resize', set); map.whenReady(set);
})();
{% endmacro %}
""")


def _add_title(
    m: folium.Map, title: str, lines: list[str], note: str = "", chart: str = ""
) -> None:
    """The title block: an escaped title, headline lines, the trend chart, a data note."""
    body = "".join(f'<div class="iz-head">{esc(line)}</div>' for line in lines)
    if chart:
        body += f'<div class="iz-chart">{chart}</div>'
    if note:
        body += f'<div class="iz-note">{esc(note)}</div>'
    _Box(f"<h1>{esc(title)}</h1>{body}", "topright", "iz-box iz-title").add_to(m)


def _section(layer: str | None, html_text: str) -> str:
    """A legend section that shows only while the layer named ``layer`` is on the map."""
    key = f' data-layer="{esc(layer)}"' if layer else ""
    return f"<div class='iz-sec'{key}>{html_text}</div>"


class _Legend(folium.MacroElement):
    """The legend: a collapsible box whose sections follow the layer control (a section
    tied to a layer shows only while that layer is on the map). Open on large screens,
    closed on small ones. Must be added after the layer control."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
(function(){
  var map = {{ this._parent.get_name() }}, ctl = {{ this.control.get_name() }};
  var Box = L.Control.extend({options:{position:'bottomright'}, onAdd:function(){
    var d = L.DomUtil.create('div', 'iz-box iz-legend');
    d.innerHTML = {{ this.html|tojson }};
    L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
    return d; }});
  var box = new Box(); map.addControl(box);
  var det = box.getContainer().querySelector('details');
  var c = map.getContainer();
  det.open = !(c.clientWidth < 700 || c.clientHeight < 560);
  function text(h){ var t = document.createElement('div'); t.innerHTML = h;
    return t.textContent; }
  function sync(){
    var on = {};
    ctl._layers.forEach(function(o){ on[text(o.name)] = map.hasLayer(o.layer); });
    box.getContainer().querySelectorAll('[data-layer]').forEach(function(s){
      var k = s.getAttribute('data-layer');
      s.style.display = (k in on && !on[k]) ? 'none' : ''; });
  }
  map.on('overlayadd overlayremove baselayerchange', sync); sync();
  det.addEventListener('toggle', function(){ map.fire('iz:layout'); });
})();
{% endmacro %}
""")

    def __init__(self, sections: list[str], control):
        super().__init__()
        self.html = "<details open><summary>Legend</summary>" + "".join(sections) + "</details>"
        self.control = control


class _LayerControl(folium.LayerControl):
    """Folium's layer control, collapsed to a button on small screens."""

    _template = folium.elements.Template("""
{% macro script(this,kwargs) %}
    var {{ this.get_name() }} = L.control.layers(
        { {%- for key, val in this.base_layers.items() %}{{ key|tojson }}: {{val}},{% endfor %} },
        { {%- for key, val in this.overlays.items() %}{{ key|tojson }}: {{val}},{% endfor %} },
        {position: {{ this.options.position|tojson }}, collapsed: (function(){
          var c = {{ this._parent.get_name() }}.getContainer();
          return c.clientWidth < 700 || c.clientHeight < 560; })()}
    ).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")


class _Fit(folium.MacroElement):
    """Fit the bounds into the largest part of the map the controls leave free.

    Each control (title, legend, layer control, buttons) is kept clear either
    sideways or up/down; of all those choices the one giving the closest zoom wins.
    Runs again when the map is resized (a phone turned) or the legend is opened. Must be
    added after every control."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
(function(){
  var map = {{ this._parent.get_name() }};
  var bounds = L.latLngBounds({{ this.bounds|tojson }});
  function fit(){
    var c = map.getContainer(), W = c.clientWidth, H = c.clientHeight;
    if (!W || !H) { return; }
    var r0 = c.getBoundingClientRect(), boxes = [];
    c.querySelectorAll('.leaflet-control').forEach(function(e){
      if (e.classList.contains('leaflet-control-attribution')) { return; }
      var r = e.getBoundingClientRect();
      if (r.width && r.height) { boxes.push({l: r.left - r0.left, t: r.top - r0.top,
        r: r.right - r0.left, b: r.bottom - r0.top}); }});
    var best = null, n = boxes.length, m = 6;
    for (var mask = 0; mask < (1 << n); mask++) {
      var p = {l: m, t: m, r: m, b: m};
      for (var i = 0; i < n; i++) { var b = boxes[i];
        if (mask & (1 << i)) {
          if ((b.l + b.r) / 2 < W / 2) { p.l = Math.max(p.l, b.r + m); }
          else { p.r = Math.max(p.r, W - b.l + m); }
        } else {
          if ((b.t + b.b) / 2 < H / 2) { p.t = Math.max(p.t, b.b + m); }
          else { p.b = Math.max(p.b, H - b.t + m); }
        } }
      var w = W - p.l - p.r, h = H - p.t - p.b;
      if (w < 40 || h < 40) { continue; }
      var z = map.getBoundsZoom(bounds, false, L.point(p.l + p.r, p.t + p.b));
      if (best === null || z > best.z || (z === best.z && w * h > best.a)) {
        best = {z: z, a: w * h, p: p}; }
    }
    var o = best ? best.p : {l: m, t: m, r: m, b: m};
    map.fitBounds(bounds, {paddingTopLeft: [o.l, o.t], paddingBottomRight: [o.r, o.b],
                           animate: false});
  }
  var moved = false;
  map.whenReady(function(){ fit(); map.on('dragstart', function(){ moved = true; }); });
  map.on('resize iz:layout', function(){ if (!moved) { fit(); } });
  window.__izFit = fit;
})();
{% endmacro %}
""")

    def __init__(self, bounds):
        super().__init__()
        self.bounds = bounds


def _ramp(
    title: str, cmap_name: str, lo: str, mid: str | None, hi: str, centre: bool = False
) -> str:
    cmap = _colormap(cmap_name)
    stops = ",".join(_rgba_hex(cmap(t)) for t in np.linspace(0, 1, 9))
    ticks = (
        f"<span>{esc(lo)}</span>"
        + (f"<span>{esc(mid)}</span>" if mid else "")
        + f"<span>{esc(hi)}</span>"
    )
    return (
        f"<h2>{esc(title)}</h2><div class='iz-ramp' style='background:linear-gradient("
        f"to right,{stops})'></div><div class='iz-ticks'>{ticks}</div>"
    )


def _line_key(colour: str, label: str, style: str = "solid") -> str:
    return (
        f"<div><span class='iz-line' style='border-color:{colour};border-top-style:{style}'>"
        f"</span>{esc(label)}</div>"
    )


def _add_areas(m: folium.Map, data: MapData) -> list[str]:
    """Neighborhoods (outlines and names), districts with trend popups, the choropleth of
    change. Returns legend sections."""
    legend = []
    layers = data.layers
    nb = layers.neighborhoods
    if data.change is not None and len(data.change):
        shown = _once(data, "change", data.change, lambda: _change_shown(data.change))
        folium.GeoJson(
            shown,
            name=data.change_label,
            style_function=lambda f: {
                "color": "#777",
                "weight": 0.5,
                "fillOpacity": 0.6,
                "fillColor": f["properties"]["colour"],
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "label"], aliases=["Area", "Before to after"]
            ),
            show=data.show_change,
        ).add_to(m)
        legend.append(
            _section(
                data.change_label,
                _ramp(
                    data.change_label,
                    CHANGE_CMAP,
                    f"fell {CHANGE_LIMIT:g}%+",
                    "0%",
                    f"rose {CHANGE_LIMIT:g}%+",
                )
                + "<div><span class='iz-swatch iz-hatch'></span>too few incidents before "
                "to tell</div>",
            )
        )
    if nb is not None and len(nb):
        cols = [c for c in ("neighborhood", "name", "geometry") if c in nb]
        group = folium.FeatureGroup(name="Neighborhoods", show=True)
        _GeoJson(
            _once(data, "neighborhoods", nb, lambda: _for_map(nb[cols])),
            style=NEIGHBORHOOD_STYLE,
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Neighborhood"]),
        ).add_to(group)
        _Labels(_once(data, "neighborhood labels", nb, lambda: _labels(nb, "iz-lbl-nb"))).add_to(
            group
        )
        group.add_to(m)
        legend.append(_section("Neighborhoods", _line_key("#8a8a8a", "Neighborhood")))
    d = layers.districts
    group = folium.FeatureGroup(name="Patrol districts", show=True)
    for i, row in enumerate(d.itertuples()):
        series = data.trends.get(f"district:{row.district}")
        lines = []
        if series is not None:
            lines.append(f"{int(series.sum()):,} violent incidents in the chart's months")
        shown = _once(data, "districts", d, lambda: _each_area(d["name"], d.geometry, d.crs))[i]
        layer = _GeoJson(shown, style=DISTRICT_STYLE)
        layer.add_child(_BoundTooltip(str(row.name)))
        layer.add_child(_popup(str(row.name), lines, trend_svg(series, data.trend_start)))
        layer.add_to(group)
    group.add_to(m)
    legend.append(_section("Patrol districts", _line_key("#222", "Patrol district")))
    return legend


def _change_shown(change: gpd.GeoDataFrame) -> dict:
    """The change layer's GeoJSON: each area's name, counts before and after and colour."""
    ch = change.copy()
    ch["colour"] = [change_colour(p) if np.isfinite(p) else HATCH for p in ch["pct"].astype(float)]
    ch["label"] = [
        f"{b:,} to {a:,} ({format_pct(p)})"
        if np.isfinite(p)
        else f"{b:,} to {a:,} (too few before to tell)"
        for b, a, p in zip(ch["before"], ch["after"], ch["pct"].astype(float), strict=True)
    ]
    return _for_map(ch[["name", "label", "colour", "geometry"]])


def _each_area(names, geometries, crs) -> list[dict]:
    """The GeoJSON of each named area (districts, zones or rings), one collection each, as
    each would be on its own (made in one pass)."""
    gdf = gpd.GeoDataFrame({"name": list(names)}, geometry=list(geometries), crs=crs)
    if no_point(gdf).any():  # an area without a shape: each on its own, as it was
        return [_for_map(gdf.iloc[[i]].reset_index(drop=True)) for i in range(len(gdf))]
    return [
        {"type": "FeatureCollection", "features": [dict(f, id="0")], "bbox": f["bbox"]}
        for f in _for_map(gdf)["features"]
    ]


def _labels(areas: gpd.GeoDataFrame, css_class: str) -> list:
    """A label (lat, lon, escaped name, class) for each area of ``areas`` (by ``name``)."""
    labels = []
    for row in areas.to_crs(WGS84).itertuples():
        pt = _label_point(row.geometry)
        if pt:
            labels.append([*pt, esc(row.name), css_class])
    return labels


def _add_zones(m: folium.Map, data: MapData) -> list[str]:
    """Impact Zones (with trend popups, labels) and their displacement rings, in the zone
    pane above the fills and the density."""
    legend = _add_rings(m, data) if data.ring else []
    zones = data.layers.zones
    group = folium.FeatureGroup(name="Impact Zones", show=True)
    labels = []
    for i, row in enumerate(zones.itertuples()):
        name = str(row.name)
        shown, pt = _once(data, "zones", zones, lambda: _zones_shown(zones))[i]
        series = data.trends.get(f"zone:{name}")
        lines = []
        start = getattr(row, "start", None)
        if start is not None and pd.notna(start):
            lines.append(f"Began {pd.Timestamp(start):%d %B %Y}")
        desc = getattr(row, "description", "")
        if isinstance(desc, str) and desc:
            lines.append(desc)
        style = dict(ZONE_STYLE)
        if data.zone is not None and name != data.zone:
            style.update({"weight": 1.5, "opacity": 0.6})
        if name == data.zone:
            style["className"] = "iz-zone-main"
        layer = _GeoJson(shown, style=style, pane="izZones")
        layer.add_child(_BoundTooltip(f"Impact Zone: {name}"))
        began = pd.Timestamp(start) if start is not None and pd.notna(start) else None
        layer.add_child(_popup(f"Impact Zone: {name}", lines, trend_svg(series, began)))
        layer.add_to(group)
        if pt:
            labels.append([*pt, esc(name), "iz-lbl-zone"])
    _Labels(labels).add_to(group)
    group.add_to(m)
    legend.insert(0, _section("Impact Zones", _line_key("#7b1fa2", "Impact Zone")))
    return legend


def _zones_shown(zones: gpd.GeoDataFrame) -> list[tuple[dict, tuple[float, float] | None]]:
    """Each zone's GeoJSON and where its label goes."""
    shown = _each_area(zones["name"].astype(str), zones.geometry, zones.crs)
    points = [_label_point(g) for g in zones.geometry.to_crs(WGS84)]
    return list(zip(shown, points, strict=True))


def _add_rings(m: folium.Map, data: MapData) -> list[str]:
    """The zones' displacement rings (the map's own zone's labelled); its legend section."""
    zones = data.layers.zones
    ring_name = f"Displacement rings ({data.ring:g} m)"
    # the rings are cut to the study area: made from the zones and the boundary
    rings = _once(
        data, ("rings", data.ring), (zones, data.layers.boundary), lambda: _rings_shown(data)
    )
    group = folium.FeatureGroup(name=ring_name, show=True)
    labels = []
    for name, shown, top in rings:
        style = dict(RING_STYLE)
        if name == data.zone:
            style["className"] = "iz-ring-main"
        _GeoJson(
            shown,
            style=style,
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ring"]),
            pane="izZones",
        ).add_to(group)
        if name == data.zone:
            labels.append(
                [
                    round(float(top[3]), 5),
                    round(float((top[0] + top[2]) / 2), 5),
                    esc(f"{name} ring, {data.ring:g} m"),
                    "iz-lbl-ring",
                ]
            )
    _Labels(labels).add_to(group)
    group.add_to(m)
    return [
        _section(ring_name, _line_key("#7b1fa2", f"Displacement ring ({data.ring:g} m)", "dashed"))
    ]


def _rings_shown(data: MapData) -> list[tuple[str, dict, np.ndarray]]:
    """Each zone's name, its ring's GeoJSON and the ring's WGS 84 bounds."""
    from ..core.geometry import ring_polygons

    zones = data.layers.zones
    geoms = ring_polygons(zones, data.ring, data.layers.study_area)
    names = zones["name"].astype(str).tolist()
    shown = _each_area([f"{n} ring ({data.ring:g} m)" for n in names], geoms, zones.crs)
    tops = gpd.GeoSeries(list(geoms), crs=zones.crs).to_crs(WGS84).bounds.to_numpy()
    return list(zip(names, shown, tops, strict=True))


def surface_png(surface, *, cmap: str = DENSITY_CMAP, floor: float = 0.05):
    """The surface reprojected to Web Mercator and coloured, as PNG bytes, with its
    WGS 84 bounds and the value range the colours span.

    Cells below ``floor`` x the maximum are transparent, so the base map shows through.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.hotspots import kde
    >>> from impactzones.datasets.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> png, bounds, (lo, hi) = surface_png(kde(inc, cell_size=200, study_area=st_louis().land))
    >>> png[:4], lo < hi
    (b'\\x89PNG', True)
    """
    from PIL import Image
    from pyproj import Transformer
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src = np.where(surface.grid.mask, surface.values, np.nan).astype("float32")
    g = surface.grid
    left, bottom, right, top = g.bounds
    dst_crs = "EPSG:3857"
    with warnings.catch_warnings():  # rasterio's own use of Affine's `*` (not ours)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        transform, width, height = calculate_default_transform(
            g.crs, dst_crs, g.width, g.height, left, bottom, right, top
        )
        dst = np.full((height, width), np.nan, dtype="float32")
        reproject(
            src,
            dst,
            src_transform=g.transform,
            src_crs=g.crs,
            dst_transform=transform,
            dst_crs=dst_crs,
            resampling=Resampling.bilinear,
            src_nodata=np.nan,
            dst_nodata=np.nan,
        )
    vmax = float(np.nanmax(dst)) if np.isfinite(dst).any() else 1.0
    vmin = floor * vmax
    norm = np.clip((dst - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    rgba = _colormap(cmap)(norm)
    # opacity grows with the density, so the low end leaves the map beneath readable
    rgba[..., 3] = np.where(np.isfinite(dst) & (dst >= vmin), 0.25 + 0.6 * norm, 0.0)
    img = Image.fromarray((rgba * 255).astype("uint8"), mode="RGBA")
    buf = io.BytesIO()
    # zlib's default level: a seventh of level 9's time (13 ms against 90 ms for the demo's
    # 257 x 548 surface) for a picture 7% larger (44 kB against 41 kB, on a 550 kB page)
    img.save(buf, format="PNG", compress_level=PNG_LEVEL)
    x0, y1 = transform.c, transform.f
    x1, y0 = x0 + width * transform.a, y1 + height * transform.e
    tr = Transformer.from_crs(dst_crs, WGS84, always_xy=True)
    lon0, lat0 = tr.transform(x0, y0)
    lon1, lat1 = tr.transform(x1, y1)
    return buf.getvalue(), [[lat0, lon0], [lat1, lon1]], (vmin, vmax)


def _add_results(m: folium.Map, data: MapData, *, analyst: bool) -> list[str]:
    """Every hot-spot result of ``data`` through its method's map layer (the registry's
    order); returns their legend sections."""
    from .layers import drawn_layers

    legend: list[str] = []
    for name, result, layer, _shown in drawn_layers(data, analyst=analyst):
        legend += layer.web(m, result, data, name=name, analyst=analyst)
    return legend


def _add_proposals(m: folium.Map, data: MapData) -> list[str]:
    p = data.proposals
    if p is None or len(p) == 0:
        return []
    aliases = {
        "name": "Proposal",
        "period": "Proposed from",
        "area_km2": "Area (km\u00b2)",
        "pai": "PAI (proposal period)",
        "backtest": "Backtest",
        "why": "Note",
        "summary": "Summary",
    }
    cols = [c for c in aliases if c in p]
    shown = p[[*cols, "geometry"]].copy()
    if "area_km2" in shown:
        shown["area_km2"] = shown["area_km2"].round(2)
    if "pai" in shown:
        shown["pai"] = shown["pai"].round(1)
    group = folium.FeatureGroup(name=PROPOSAL_LAYER, show=True)
    _GeoJson(
        _for_map(shown),
        style=PROPOSAL_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=cols, aliases=[aliases[c] for c in cols]),
        pane="izZones",
    ).add_to(group)
    labels = []
    for row in p.to_crs(WGS84).itertuples():
        pt = _label_point(row.geometry)
        if pt:
            short = str(row.name).removeprefix("Proposal ")  # the legend says what it is
            labels.append([*pt, esc(short), "iz-lbl-prop"])
    _Labels(labels).add_to(group)
    group.add_to(m)
    period = column_label(p, "period")
    key = f"Proposed zone (A, B...), from {period} data" if period else "Proposed zone"
    return [_section(PROPOSAL_LAYER, _line_key("#00897b", key, "dotted"))]


def capture_layer(m: folium.Map, curve: pd.DataFrame | None, png: bytes | None = None) -> list[str]:
    """The capture curve (:func:`impactzones.propose.capture_curve`) as a layer of its own,
    off when the map opens: turned on, the legend shows its table and plot (the share of
    the next period's crime captured against the share of the city covered): ``png``, its
    plot already drawn (:func:`impactzones.propose.capture_curve_png`), or drawn here.

    Returns the legend section (empty without a curve).

    Examples
    --------
    >>> import pandas as pd
    >>> from impactzones.core.geo import st_louis
    >>> cc = pd.DataFrame({"strategy": ["proposals"] * 2, "area_share": [0.01, 0.03],
    ...                    "capture": [0.05, 0.12]})
    >>> sec = capture_layer(base_map(st_louis()), cc)
    >>> "capture_at_1%" not in sec[0] and "at 1%" in sec[0]
    True
    """
    if curve is None or len(curve) == 0:
        return []
    from ..propose import capture_curve_png, capture_table

    table = capture_table(curve)
    shares = [str(c).replace("capture_at_", "at ") for c in table.columns[1:]]
    head = "".join(f"<th>{esc(c)}</th>" for c in ["strategy", *shares])
    body = "".join(
        "<tr><td>"
        + esc(str(r[0]))
        + "</td>"
        + "".join(f"<td>{'-' if pd.isna(v) else f'{v:.1%}'}</td>" for v in r[1:])
        + "</tr>"
        for r in table.itertuples(index=False)
    )
    encoded = base64.b64encode(png or capture_curve_png(curve, dpi=60)).decode()
    period, before = column_label(curve, "period"), column_label(curve, "before")
    title = f"Capture of {period} crime, zones chosen from {before}" if period else "Capture"
    folium.FeatureGroup(name=CAPTURE_LAYER, show=False).add_to(m)
    html_text = (
        f"<b>{esc(title)}</b><div class='iz-note'>Share of the crime captured against the "
        "share of the city covered (of the whole city).</div>"
        f"<table class='iz-capture'><tr>{head}</tr>{body}</table>"
        f"<img alt='Capture curves' style='width:100%' src='data:image/png;base64,{encoded}'>"
    )
    return [_section(CAPTURE_LAYER, html_text)]


def add_incident_sample(
    m: folium.Map, incidents: gpd.GeoDataFrame, *, n: int = MAX_POINTS, seed: int = 0
) -> int:
    """A capped, seeded sample of non-sensitive incidents, off by default.

    Rape and domestic-violence incidents are removed first, always. Returns the number of
    points drawn.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.datasets.synth import synthesize
    >>> add_incident_sample(base_map(st_louis()), synthesize(seed=1, years=[2018]).incidents)
    2000
    """
    safe = incidents[~is_sensitive(incidents)]
    n = min(n, MAX_POINTS, len(safe))
    if n == 0:
        return 0
    sample = safe.sample(n=n, random_state=seed).sort_values("occurred_at")
    pts = sample.to_crs(WGS84)
    coords = np.column_stack([pts.geometry.y.round(5), pts.geometry.x.round(5)])
    cats = [str(c).replace("_", " ") for c in sample["category"]]
    when = sample["occurred_at"].dt.strftime("%Y-%m-%d").tolist()
    layer = folium.FeatureGroup(name=f"Sample of incidents ({n:,}, not sensitive)", show=False)
    for (lat, lon), cat, day in zip(coords, cats, when, strict=True):
        folium.CircleMarker(
            location=[float(lat), float(lon)],
            radius=3,
            weight=0,
            fill=True,
            fill_color="#37474f",
            fill_opacity=0.7,
        ).add_child(_BoundTooltip(f"{cat}, {day}")).add_to(layer)
    layer.add_to(m)
    return n


# --------------------------------------------------------------------------------------
# Whole maps
# --------------------------------------------------------------------------------------


def commander_map(
    data: MapData,
    *,
    analyst: bool = False,
    online_tiles: bool = False,
    self_contained: bool | None = None,
) -> folium.Map:
    """The map for one zone (or the city): see the module notes for what it holds.

    The commander map shows districts, neighborhoods, zones and rings, the change and the
    density (the hot-spot layers the registry puts on every map); ``analyst=True`` (or
    ``data.analyst``) adds the analysis (the analysts' hot-spot layers: Gi* hot and cold
    spots and the Gi* grid, DBSCAN clusters; and the proposed zones). The view fits the
    zone and its ring (or the study area) into the part of the screen the title, legend
    and controls leave free.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> m = commander_map(MapData(layers=st_louis(), title="Overview"))
    >>> "Impact Zones" in m.get_root().render()
    True
    """
    analyst = analyst or data.analyst
    m = base_map(data.layers, online_tiles=online_tiles, basemap=data.basemap, cache=data.cache)
    legend = _add_areas(m, data)
    legend += _add_results(m, data, analyst=analyst)
    legend = _add_zones(m, data) + legend
    if analyst:
        legend += _add_proposals(m, data)
        legend += capture_layer(m, data.capture, data.capture_png)
    if data.sample is not None:
        add_incident_sample(m, data.sample)
    target = data.layers.boundary
    if data.zone is not None:
        zone = data.layers.zones[data.layers.zones["name"] == data.zone]
        if len(zone):
            from ..core.geometry import ring_polygons

            ring = ring_polygons(zone, data.ring or 1.0)[0].union(zone.geometry.iloc[0])
            target = gpd.GeoSeries([ring], crs=zone.crs)
    b = target.to_crs(WGS84).total_bounds
    m.location = [float((b[1] + b[3]) / 2), float((b[0] + b[2]) / 2)]
    _add_title(m, data.title, data.headline, data.data_note, data.chart)
    control = _LayerControl(position="topleft")
    control.add_to(m)
    _Legend(legend, control).add_to(m)
    _Fit([[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]).add_to(m)
    return m


def stable_ids(page: str) -> str:
    """Replace folium's random element ids with ids numbered in order of appearance, so that
    the same map gives the same bytes.

    Examples
    --------
    >>> stable_ids("map_" + "ab" * 16 + " map_" + "ab" * 16)
    'map_00000000000000000000000000000000 map_00000000000000000000000000000000'
    """
    # an id is a run of exactly 32 lowercase hex digits; found on the UTF-8 bytes in bulk
    # (a regular expression takes ~30 ns a character: 60 ms for the analyst map)
    raw = page.encode("utf-8")
    hexdigit = np.zeros(256, np.int8)
    hexdigit[np.frombuffer(b"0123456789abcdef", np.uint8)] = 1
    edges = np.flatnonzero(np.diff(np.r_[0, hexdigit[np.frombuffer(raw, np.uint8)], 0]))
    starts, ends = edges[0::2], edges[1::2]
    starts = starts[ends - starts == 32]
    if not len(starts):
        return page
    seen: dict[bytes, bytes] = {}
    parts, last = [], 0
    for a in starts.tolist():
        key = raw[a : a + 32]
        parts += [raw[last:a], seen.setdefault(key, b"%032x" % len(seen))]
        last = a + 32
    parts.append(raw[last:])
    return b"".join(parts).decode("utf-8")


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write a map's HTML atomically, with stable element ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.core.geo import st_louis
    >>> m = commander_map(MapData(layers=st_louis(), title="Zones"))
    >>> p = save_map(m, pathlib.Path(tempfile.mkdtemp()) / "m.html")
    >>> p.read_text().startswith("<!DOCTYPE html>")
    True
    """
    with literal_elements():  # the page's text is never run as a template
        page = m.get_root().render()
    return write_text(stable_ids(page), path)


def write_index(
    entries: list[tuple],
    path: str | Path,
    *,
    title: str = "impactzones maps",
    note: str = "",
    missing: list[str] | None = None,
    files: list[tuple[str, str]] | None = None,
    glossary: dict[str, str] | None = None,
) -> Path:
    """An index page: entries are (title, file name, description[, [(label, file), ...]]),
    then why any map is missing, the other files, and a glossary.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_index([("North", "north.html", "a <b>zone</b>", [("PDF", "n.pdf")])],
    ...                 pathlib.Path(tempfile.mkdtemp()) / "index.html")
    >>> 'href="north.html"' in p.read_text(), "&lt;b&gt;" in p.read_text()
    (True, True)
    """
    items = []
    for entry in entries:
        t, href, d = entry[:3]
        links = entry[3] if len(entry) > 3 else []
        more = "".join(f' &middot; <a href="{esc(h)}">{esc(lbl)}</a>' for lbl, h in links)
        items.append(f'<li><a href="{esc(href)}">{esc(t)}</a>{more}<div>{esc(d)}</div></li>')
    body = f"<ul>{''.join(items)}</ul>"
    if missing:
        body += "<h2>Not drawn</h2><ul>" + "".join(f"<li>{esc(m)}</li>" for m in missing)
        body += "</ul>"
    if files:
        body += (
            "<h2>Other files in this folder</h2><ul>"
            + "".join(f"<li><code>{esc(f)}</code>: {esc(d)}</li>" for f, d in files)
            + "</ul>"
        )
    if glossary:
        body += (
            "<h2>Glossary</h2><dl>"
            + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in glossary.items())
            + "</dl>"
        )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font:15px/1.5 Arial,Helvetica,sans-serif;max-width:760px;margin:2em auto;"
        "padding:0 1em;color:#222;overflow-wrap:anywhere}li{margin:.8em 0}"
        "li div{color:#555;font-size:13px}"
        "h2{font-size:16px;margin-top:1.6em}dt{font-weight:bold}dd{margin:0 0 .5em 1em;"
        "color:#444;font-size:13px}</style>"
        f"</head><body><h1>{esc(title)}</h1>{body}"
        f"<p style='color:#666;font-size:13px'>{esc(note)}</p></body></html>"
    )
    return write_text(page, path)


def _draw_map(ax, data: MapData, *, label_size: float = 9) -> list:
    """Draw a map's layers on a matplotlib axes (metres, the layers' CRS), with the same
    rules as the web map: offline base, change (diverging), the hot-spot layers (density
    above the fills; on the analyst map, Gi* cells and DBSCAN outlines), districts, rings,
    zones and their labels. Returns the legend handles; the colour scales are drawn by
    :func:`_draw_scales`."""
    ax.set_facecolor("#e4e7ea")
    _draw_base(ax, data)
    handles = _draw_change(ax, data)
    if data.layers.neighborhoods is not None:
        from matplotlib.lines import Line2D

        plot_lines(
            ax, data.layers.neighborhoods.boundary, color="#8a8a8a", linewidth=0.35, zorder=1.5
        )
        handles.append(Line2D([], [], color="#8a8a8a", lw=0.6, label="Neighborhood"))
    handles += _draw_results(ax, data)
    handles = _draw_zones(ax, data, handles, label_size)
    cx, cy, half = _frame(ax, data)
    ax.set_axis_off()
    ax.set_aspect("equal")
    _draw_scale_bar(ax, cx, cy, half)
    return handles


def _draw_base(ax, data: MapData) -> None:
    """The study area, the river and the roads (or the user's base map lines)."""
    layers = data.layers
    crs = layers.zones.crs
    plot_polygons(
        ax,
        layers.boundary.geometry,
        facecolor="#fbfaf6",
        edgecolor="#b9b4a6",
        linewidth=0.6,
        zorder=0,
    )
    roads, river = _bundled_roads(layers)
    if data.basemap is not None and len(data.basemap):
        roads = data.basemap.assign(kind="arterial")
    if river is not None:
        plot_polygons(
            ax, river.to_crs(crs).geometry, facecolor="#b9d3ea", edgecolor="none", zorder=0.5
        )
    if roads is not None:
        for kind, style in ROAD_STYLE.items():
            part = roads[roads.get("kind", "arterial") == kind]
            if len(part):
                plot_lines(
                    ax,
                    part.to_crs(crs).geometry,
                    color=style["color"],
                    zorder=0.6,
                    linewidth=0.6 * float(str(style["weight"])),
                )


def _draw_change(ax, data: MapData) -> list:
    """The change by neighborhood (diverging colours; hatched where too few to tell)."""
    from matplotlib.patches import Patch

    handles: list = []
    if data.change is None or not len(data.change) or not data.show_change:
        return handles
    ch = data.change
    ok = ch["pct"].astype(float).apply(np.isfinite)
    if ok.any():
        plot_polygons(
            ax,
            ch[ok].geometry,
            facecolor=[change_colour(p) for p in ch.loc[ok, "pct"]],
            alpha=0.6,
            edgecolor="#999999",
            linewidth=0.3,
            zorder=1,
        )
    if (~ok).any():
        plot_polygons(
            ax,
            ch[~ok].geometry,
            facecolor="white",
            edgecolor="#9e9e9e",
            hatch="////",
            linewidth=0.3,
            zorder=1,
        )
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="#9e9e9e",
                hatch="////",
                label="Too few incidents before to tell",
            )
        )
    return handles


def _draw_results(ax, data: MapData) -> list:
    """Every hot-spot result through its map layer's static drawing (registry order)."""
    from .layers import drawn_layers

    handles: list = []
    for name, result, layer, _shown in drawn_layers(data, analyst=data.analyst):
        if layer.static is not None:
            handles += layer.static(ax, result, data, name=name)
    return handles


def _draw_zones(ax, data: MapData, handles: list, label_size: float) -> list:
    """Districts, rings, zones (labelled) and proposed zones; the legend handles with the
    zone and its ring first."""
    import matplotlib.patheffects as pe
    from matplotlib.lines import Line2D

    from ..core.geometry import ring_polygons

    layers = data.layers
    crs = layers.zones.crs
    plot_lines(ax, layers.districts.boundary, color="#222222", linewidth=1.2, zorder=4)
    handles = [
        Line2D([], [], color="#7b1fa2", lw=2.5, label="Impact Zone"),
        Line2D([], [], color="#7b1fa2", ls="--", label=f"Displacement ring ({data.ring:g} m)"),
        *handles,
        Line2D([], [], color="#222222", label="Patrol district"),
    ]
    zones = layers.zones
    rings = shapely.boundary(np.asarray(ring_polygons(zones, data.ring or 1.0, layers.study_area)))
    plot_lines(ax, rings, color="#7b1fa2", linewidth=1, linestyle="--", zorder=5)
    plot_lines(ax, zones.boundary, color="#7b1fa2", linewidth=2.5, zorder=6)
    if data.proposals is not None and len(data.proposals):
        plot_lines(
            ax,
            data.proposals.to_crs(crs).boundary,
            color="#00897b",
            linewidth=2,
            linestyle=":",
            zorder=7,
        )
        handles.append(Line2D([], [], color="#00897b", ls=":", label="Proposed zone"))
        _label_proposals(ax, data.proposals.to_crs(crs), label_size)
    halo = [pe.withStroke(linewidth=3, foreground="white")]
    for row in zones.itertuples():
        c = row.geometry.representative_point()
        ax.annotate(
            str(row.name),
            (c.x, c.y),
            color="#4a148c",
            fontsize=label_size,
            fontweight="bold",
            ha="center",
            va="center",
            zorder=8,
            clip_on=True,
            path_effects=halo,
            annotation_clip=True,
        )
    return handles


def _frame(ax, data: MapData) -> tuple[float, float, float]:
    """A square-ish frame around the zone and its ring (or the study area), so that labels
    near the edge are not cut; returns its centre and half side (metres)."""
    zones = data.layers.zones
    if data.zone is not None and (zones["name"] == data.zone).any():
        z = zones[zones["name"] == data.zone].geometry.iloc[0].buffer((data.ring or 0) + 900)
        x0, y0, x1, y1 = z.bounds
    else:
        x0, y0, x1, y1 = data.layers.boundary.total_bounds
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    return cx, cy, half


def _draw_scale_bar(ax, cx: float, cy: float, half: float) -> None:
    """A round length about a fifth of the frame, on a white ground, bottom left."""
    import matplotlib

    span = 2 * half
    length = float(_nice_top(span / 5) / 2) if span > 0 else 1000.0
    sx, sy = cx - half + 0.04 * span, cy - half + 0.04 * span
    ax.add_patch(
        matplotlib.patches.Rectangle(
            (sx - 0.01 * span, sy - 0.015 * span),
            length + 0.02 * span,
            0.06 * span,
            color="white",
            alpha=0.85,
            zorder=9,
        )
    )
    ax.plot([sx, sx + length], [sy, sy], color="black", lw=3, zorder=10)
    unit = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(sx + length / 2, sy + 0.012 * span, unit, ha="center", fontsize=8, zorder=10)


def _label_proposals(ax, proposals, size: float) -> None:
    """Each proposed zone's letter (the last word of its name) on the static map."""
    import matplotlib.patheffects as pe

    if "name" not in proposals:
        return
    for name, geom in zip(proposals["name"].astype(str), proposals.geometry, strict=True):
        c = geom.representative_point()
        ax.annotate(
            name.split()[-1] if name.split() else name,
            (c.x, c.y),
            color="#00695c",
            fontsize=size,
            fontweight="bold",
            ha="center",
            va="center",
            zorder=8,
            clip_on=True,
            annotation_clip=True,
            path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
        )


def _draw_scales(fig, data: MapData, rect) -> None:
    """Colour bars for the change (diverging) and the density (sequential) in ``rect``
    (figure fractions: left, bottom, width, height)."""
    import matplotlib
    from matplotlib.colors import Normalize

    left, bottom, width, height = rect
    bars = []
    if data.change is not None and len(data.change) and data.show_change:
        bars.append(
            (CHANGE_CMAP, Normalize(-CHANGE_LIMIT, CHANGE_LIMIT), f"{data.change_label} (%)")
        )
    from .layers import drawn_layers

    for name, result, layer, _shown in drawn_layers(data, analyst=data.analyst):
        if layer.scale is not None:
            bars.append(layer.scale(result, data, name=name))
    for i, (cmap, norm, label) in enumerate(bars):
        h = height / max(len(bars), 1)
        cax = fig.add_axes((left, bottom + (len(bars) - 1 - i) * h + 0.55 * h, width, 0.2 * h))
        cb = fig.colorbar(
            matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal"
        )
        cb.ax.tick_params(labelsize=7)
        cb.set_label(label, fontsize=7)


def _texts(data: MapData) -> list[str]:
    """The words a static picture of ``data`` may draw: its title, headline and the names of
    its zones and proposed zones (for :func:`~impactzones.core.drawing.picture_fonts`)."""
    names = [*data.layers.zones.get("name", [])]
    if data.proposals is not None and "name" in data.proposals:
        names += list(data.proposals["name"])
    return [str(t) for t in (data.title, *data.headline, *names)]


def static_map(data: MapData, path: str | Path, *, dpi: int = 150) -> Path:
    """A static PNG of the commander map (matplotlib), for briefings and print: the title
    and headline above the map, the legend and colour scales below it (never over the
    data), a scale bar.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.core.geo import st_louis
    >>> p = static_map(MapData(layers=st_louis(), title="Zones"),
    ...                pathlib.Path(tempfile.mkdtemp()) / "zones.png", dpi=40)
    >>> p.read_bytes()[:4]
    b'\\x89PNG'
    """
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..core.files import atomic_write

    # "$" in a name is text; a script DejaVu Sans lacks: an installed CJK font, or one warning
    rc: dict = {"text.parse_math": False, **picture_fonts(_texts(data))}
    with warnings.catch_warnings(), matplotlib.rc_context(rc):
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig = plt.figure(figsize=(10, 12), dpi=dpi)
        head = [textwrap.fill(line, 110) for line in data.headline]
        fig.text(0.03, 0.985, data.title, fontsize=15, fontweight="bold", va="top")
        fig.text(0.03, 0.955, "\n".join(head), fontsize=9, va="top", linespacing=1.4)
        ax = fig.add_axes((0.03, 0.2, 0.94, 0.68))
        handles = _draw_map(ax, data)
        fig.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.03, 0.045),
            ncol=2,
            fontsize=8,
            frameon=False,
        )
        _draw_scales(fig, data, (0.58, 0.05, 0.39, 0.13))
        if data.data_note:
            fig.text(0.03, 0.012, textwrap.fill(data.data_note, 150), fontsize=6.5, color="#555")

        def write(p):
            fig.savefig(p, format="png", dpi=dpi, metadata={"Software": None})

        try:
            return atomic_write(Path(path), write)
        finally:
            plt.close(fig)


def _layer_names(m: folium.Map) -> list[str]:
    """Names in the layer control (for tests and reports)."""
    names = []
    for child in m._children.values():
        name = getattr(child, "layer_name", None)
        if name and getattr(child, "control", True):
            names.append(name)
    return names

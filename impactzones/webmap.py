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
* **Offline.** ``self_contained=True`` inlines Leaflet (from the ``xstatic-leaflet``
  package, the ``offline`` extra) and replaces the tiled base maps with a light vector base
  of the neighborhoods, so that one HTML file opens on a machine with no network.
"""

from __future__ import annotations

import base64
import html
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .change import format_pct
from .errors import InputError
from .geo import WGS84, Layers
from .io import write_text
from .safety import js_literal
from .schema import is_sensitive

if TYPE_CHECKING:
    from .grid import Surface
    from .hotspots.gistar import GiStar

__all__ = [
    "MAX_POINTS",
    "MapData",
    "add_incident_sample",
    "base_map",
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
MAX_POINTS = 2000
LEAFLET_VERSION = "1.9.3"
LEAFLET_JS = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CSS = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"
#: Base maps from xyzservices that need no API key: a light one and a street one.
BASEMAPS = {"Light base map": "Esri.WorldGrayCanvas", "Street map": "OpenStreetMap.Mapnik"}
#: Fit the area between the layer control (left) and the title and legend (right), in px.
FIT_TOP_LEFT = (360, 20)
FIT_BOTTOM_RIGHT = (270, 20)
#: Geometry simplification for the screen, in metres.
SIMPLIFY_M = 8.0

ZONE_STYLE = {"color": "#7b1fa2", "weight": 3, "fill": False}
RING_STYLE = {"color": "#7b1fa2", "weight": 1.5, "dashArray": "6 5", "fill": False}
DISTRICT_STYLE = {"color": "#222222", "weight": 2, "fill": False}
NEIGHBORHOOD_STYLE = {"color": "#777777", "weight": 0.6, "fill": False}
PROPOSAL_STYLE = {"color": "#00897b", "weight": 3, "dashArray": "2 6", "fill": False}
CLUSTER_STYLE = {"color": "#e65100", "weight": 2, "fillColor": "#ff9800", "fillOpacity": 0.08}
GI_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
GI_LABELS = {
    3: "Hot spot, 99%",
    2: "Hot spot, 95%",
    1: "Hot spot, 90%",
    -1: "Cold spot, 90%",
    -2: "Cold spot, 95%",
    -3: "Cold spot, 99%",
}
CHANGE_LIMIT = 50.0  # the choropleth's colour scale runs from -50% to +50%

CSS = """
.iz-box{background:rgba(255,255,255,.94);padding:8px 12px;border-radius:4px;
box-shadow:0 1px 5px rgba(0,0,0,.35);font:13px/1.4 Arial,Helvetica,sans-serif;color:#222}
.iz-title{max-width:430px}.iz-title h1{font-size:16px;margin:0 0 4px}
.iz-title .iz-head{font-weight:bold;margin:2px 0}.iz-title .iz-note{color:#555;font-size:11px}
.iz-legend{max-width:230px;font-size:12px}.iz-legend h2{font-size:12px;margin:6px 0 3px}
.iz-legend h2:first-child{margin-top:0}
.iz-swatch{display:inline-block;width:14px;height:11px;margin-right:5px;vertical-align:middle;
border:1px solid #999}.iz-line{display:inline-block;width:18px;height:0;margin-right:5px;
vertical-align:middle;border-top:3px solid}
.iz-ramp{height:10px;border:1px solid #999}.iz-ticks{display:flex;justify-content:space-between;
font-size:10px;color:#444}
.iz-popup{font:12px/1.35 Arial,Helvetica,sans-serif}.iz-popup b{font-size:13px}
.iz-fs{background:#fff;width:30px;height:30px;line-height:30px;text-align:center;cursor:pointer;
font:bold 16px Arial}
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
    kde : Surface, optional
    kde_label : str
    clusters : GeoDataFrame, optional
    gistar : GiStar, optional
    proposals : GeoDataFrame, optional
    trends : dict, optional
        Area name -> monthly counts (a Series indexed by month start) for popup charts.
    trend_start : Timestamp, optional
        Where the charts draw the "zone began" line.
    ring : float
    sample : GeoDataFrame, optional
        Incidents to offer as a (capped, off by default) point layer; sensitive ones are
        removed again here, whatever the caller passed.
    """

    layers: Layers
    title: str
    zone: str | None = None
    headline: list[str] = field(default_factory=list)
    data_note: str = ""
    change: gpd.GeoDataFrame | None = None
    change_label: str = "Change in crime by neighborhood"
    kde: Surface | None = None
    kde_label: str = "Crime density (KDE)"
    clusters: gpd.GeoDataFrame | None = None
    gistar: GiStar | None = None
    proposals: gpd.GeoDataFrame | None = None
    trends: dict = field(default_factory=dict)
    trend_start: pd.Timestamp | None = None
    ring: float = 400.0
    sample: gpd.GeoDataFrame | None = None
    show_change: bool = True
    show_kde: bool = False


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
            out[col] = out[col].map(lambda v: esc(v) if pd.notna(v) else "")
    return out


def _for_map(gdf: gpd.GeoDataFrame, simplify: float = SIMPLIFY_M) -> gpd.GeoDataFrame:
    """Simplified (metres), escaped, with dates as text, in WGS 84, to about a metre."""
    out = gdf.copy()
    if out.crs is not None and out.crs.is_projected and simplify > 0:
        out["geometry"] = out.geometry.simplify(simplify, preserve_topology=True)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
    out = escape_frame(out).to_crs(WGS84)
    # 5 decimals of a degree is about a metre: all the screen can show, half the bytes
    out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda c: np.round(c, 5))
    return out


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
    import matplotlib

    if pct is None or not np.isfinite(pct):
        return "#bdbdbd"
    cmap = matplotlib.colormaps["RdBu_r"]
    t = 0.5 + 0.5 * float(np.clip(pct / CHANGE_LIMIT, -1, 1))
    return _rgba_hex(cmap(t))


def trend_svg(series: pd.Series, start: pd.Timestamp | None, width=240, height=70) -> str:
    """A small SVG line chart of monthly counts, with a line where the zone began.

    Examples
    --------
    >>> s = pd.Series([3, 5, 2], index=pd.date_range("2018-01-01", periods=3, freq="MS"))
    >>> trend_svg(s, pd.Timestamp("2018-02-01")).startswith("<svg")
    True
    """
    if series is None or len(series) < 2:
        return ""
    v = series.to_numpy(float)
    top = max(v.max(), 1.0)
    xs = np.linspace(4, width - 4, len(v))
    ys = height - 14 - (v / top) * (height - 28)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="monthly counts">',
        f'<polyline fill="none" stroke="#333" stroke-width="1.5" points="{pts}"/>',
    ]
    if start is not None:
        idx = series.index
        pos = np.searchsorted(idx.to_numpy(), np.datetime64(start))
        if 0 < pos < len(v):
            x = xs[pos] - (xs[1] - xs[0]) / 2
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{height - 12}" '
                'stroke="#7b1fa2" stroke-dasharray="3 3"/>'
            )
            anchor = "end" if x > width / 2 else "start"
            tx = x - 3 if anchor == "end" else x + 3
            parts.append(
                f'<text x="{tx:.1f}" y="{height - 16}" font-size="9" fill="#7b1fa2" '
                f'text-anchor="{anchor}">zone began</text>'
            )
    first, last = series.index[0], series.index[-1]
    parts.append(f'<text x="2" y="{height - 2}" font-size="9">{first:%b %Y}</text>')
    parts.append(
        f'<text x="{width - 2}" y="{height - 2}" font-size="9" text-anchor="end">'
        f"{last:%b %Y}</text>"
    )
    parts.append(f'<text x="2" y="10" font-size="9">up to {int(top)} a month</text>')
    parts.append("</svg>")
    return "".join(parts)


class _BoundPopup(folium.MacroElement):
    """A popup bound to its parent layer with plain Leaflet (folium's Popup needs jQuery)."""

    _template = folium.elements.Template("""
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.bindPopup({{ this.html_js }}, {maxWidth: 280});
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

    def __init__(self, html_text: str, position: str, css_class: str):
        super().__init__()
        self.html_text = html_text
        self.html_text_js = js_literal(html_text)
        self.position = position
        self.css_class = css_class
        self._template = folium.elements.Template("""
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


def _leaflet_inline() -> tuple[str, str]:
    """Leaflet's JS and CSS (images as data URIs) from the xstatic-leaflet package."""
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:
        raise InputError(
            "Self-contained maps need the offline extra: pip install 'impactzones[offline]'."
        ) from exc
    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match):
        name = match.group(1)
        path = base / "images" / name
        if not path.exists():
            return match.group(0)
        b64 = base64.b64encode(path.read_bytes()).decode()
        return f"url(data:image/png;base64,{b64})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    # the map's scripts run inline, so "</script" must never appear inside one
    js = js.replace("</script", "<\\/script")
    return js, css


def base_map(layers: Layers, *, self_contained: bool = False) -> folium.Map:
    """A map fitted to the study area: base maps (or none offline), scale bar, fullscreen,
    and only Leaflet as a script.

    Examples
    --------
    >>> from impactzones.geo import st_louis
    >>> m = base_map(st_louis())
    >>> m.default_js
    [('leaflet', 'https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js')]
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
    m.default_js = [] if self_contained else [("leaflet", LEAFLET_JS)]
    m.default_css = [] if self_contained else [("leaflet_css", LEAFLET_CSS)]
    root = cast(folium.Figure, m.get_root())
    if self_contained:
        js, css = _leaflet_inline()
        root.header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css")
        root.header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet_js")
        root.header.add_child(
            folium.Element("<style>.leaflet-container{background:#f4f3ef}</style>"), name="iz_bg"
        )
    else:
        import xyzservices.providers as xyz

        for i, (label, key) in enumerate(BASEMAPS.items()):
            folium.TileLayer(xyz.query_name(key), name=label, show=i == 0).add_to(m)
        folium.FeatureGroup(name="No base map", overlay=False, show=False).add_to(m)
    root.header.add_child(folium.Element(f"<style>{CSS}</style>"), name="iz_css")
    root.header.add_child(
        folium.Element('<meta name="generator" content="impactzones">'), name="iz_meta"
    )
    m.fit_bounds(
        [[b[1], b[0]], [b[3], b[2]]],
        padding_top_left=FIT_TOP_LEFT,
        padding_bottom_right=FIT_BOTTOM_RIGHT,
    )
    _Fullscreen().add_to(m)
    return m


def _add_title(m: folium.Map, title: str, lines: list[str], note: str = "") -> None:
    """The title block: an escaped title, headline lines and a data note."""
    body = "".join(f'<div class="iz-head">{esc(line)}</div>' for line in lines)
    if note:
        body += f'<div class="iz-note">{esc(note)}</div>'
    _Box(f"<h1>{esc(title)}</h1>{body}", "topright", "iz-box iz-title").add_to(m)


def _add_legend(m: folium.Map, sections: list[str]) -> None:
    if sections:
        _Box("".join(sections), "bottomright", "iz-box iz-legend").add_to(m)


def _ramp(
    title: str, cmap_name: str, lo: str, mid: str | None, hi: str, centre: bool = False
) -> str:
    import matplotlib

    cmap = matplotlib.colormaps[cmap_name]
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


def _add_areas(m: folium.Map, data: MapData, *, self_contained: bool = False) -> list[str]:
    """Neighborhoods (light vector base offline), districts with trend popups, the
    choropleth of change. Returns legend sections."""
    legend = []
    layers = data.layers
    nb = layers.neighborhoods
    if nb is not None and len(nb):
        cols = [c for c in ("neighborhood", "name", "geometry") if c in nb]
        style = dict(NEIGHBORHOOD_STYLE)
        if self_contained:
            style.update({"fill": True, "fillColor": "#ffffff", "fillOpacity": 1.0})
        folium.GeoJson(
            _for_map(nb[cols]),
            name="Neighborhoods",
            style_function=lambda _f, s=style: s,
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Neighborhood"]),
            show=self_contained,
            control=True,
        ).add_to(m)
    if data.change is not None and len(data.change):
        ch = data.change.copy()
        ch["colour"] = [change_colour(p) for p in ch["pct"]]
        ch["label"] = [
            f"{b:,} to {a:,} ({format_pct(p)})"
            for b, a, p in zip(ch["before"], ch["after"], ch["pct"], strict=True)
        ]
        shown = _for_map(ch[["name", "label", "colour", "geometry"]])
        folium.GeoJson(
            shown,
            name=esc(data.change_label),
            style_function=lambda f: {
                "color": "#666",
                "weight": 0.5,
                "fillOpacity": 0.55,
                "fillColor": f["properties"]["colour"],
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "label"], aliases=["Area", "Before to after"]
            ),
            show=data.show_change,
        ).add_to(m)
        legend.append(
            _ramp(
                data.change_label,
                "RdBu_r",
                f"-{CHANGE_LIMIT:g}% or less",
                "0%",
                f"+{CHANGE_LIMIT:g}% or more",
            )
        )
        legend.append(
            "<div><span class='iz-swatch' style='background:#bdbdbd'></span>"
            "too few incidents before to tell</div>"
        )
    d = layers.districts
    group = folium.FeatureGroup(name="Patrol districts", show=True)
    for row in d.itertuples():
        gdf = gpd.GeoDataFrame({"name": [row.name]}, geometry=[row.geometry], crs=d.crs)
        series = data.trends.get(f"district:{row.district}")
        lines = []
        if series is not None:
            lines.append(f"{int(series.sum()):,} incidents in the chart's months")
        layer = folium.GeoJson(_for_map(gdf), style_function=lambda _f: DISTRICT_STYLE)
        layer.add_child(_BoundTooltip(str(row.name)))
        layer.add_child(_popup(str(row.name), lines, trend_svg(series, data.trend_start)))
        layer.add_to(group)
    group.add_to(m)
    legend.append(
        "<div><span class='iz-line' style='border-color:#222'></span>Patrol district</div>"
    )
    return legend


def _add_zones(m: folium.Map, data: MapData) -> list[str]:
    """Impact Zones (with trend popups) and their displacement rings."""
    from .assign import ring_polygons

    layers = data.layers
    zones = layers.zones
    legend = []
    if data.ring:
        rings = gpd.GeoDataFrame(
            {"name": [f"{z} ring ({data.ring:g} m)" for z in zones["name"].astype(str)]},
            geometry=ring_polygons(zones, data.ring, layers.study_area),
            crs=zones.crs,
        )
        folium.GeoJson(
            _for_map(rings),
            name=f"Displacement rings ({data.ring:g} m)",
            style_function=lambda _f: RING_STYLE,
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ring"]),
        ).add_to(m)
        legend.append(
            "<div><span class='iz-line' style='border-color:#7b1fa2;"
            f"border-top-style:dashed'></span>Displacement ring ({data.ring:g} m)"
            "</div>"
        )
    group = folium.FeatureGroup(name="Impact Zones", show=True)
    for row in zones.itertuples():
        name = str(row.name)
        gdf = gpd.GeoDataFrame({"name": [name]}, geometry=[row.geometry], crs=zones.crs)
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
        layer = folium.GeoJson(_for_map(gdf), style_function=lambda _f, s=style: s)
        layer.add_child(_BoundTooltip(f"Impact Zone: {name}"))
        began = pd.Timestamp(start) if start is not None and pd.notna(start) else None
        layer.add_child(_popup(f"Impact Zone: {name}", lines, trend_svg(series, began)))
        layer.add_to(group)
    group.add_to(m)
    legend.insert(
        0, "<div><span class='iz-line' style='border-color:#7b1fa2'></span>Impact Zone</div>"
    )
    return legend


def surface_png(surface, *, cmap: str = "YlOrRd", floor: float = 0.05):
    """The surface reprojected to Web Mercator and coloured, as PNG bytes, with its
    WGS 84 bounds and the value range the colours span.

    Cells below ``floor`` x the maximum are transparent, so the base map shows through.

    Examples
    --------
    >>> from impactzones.geo import st_louis
    >>> from impactzones.hotspots import kde
    >>> from impactzones.synth import synthesize
    >>> inc = synthesize(seed=1, years=[2018]).incidents
    >>> png, bounds, (lo, hi) = surface_png(kde(inc, cell_size=200, mask=st_louis().land))
    >>> png[:4], lo < hi
    (b'\\x89PNG', True)
    """
    import matplotlib
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
    rgba = matplotlib.colormaps[cmap](norm)
    rgba[..., 3] = np.where(np.isfinite(dst) & (dst >= vmin), 0.75, 0.0)
    img = Image.fromarray((rgba * 255).astype("uint8"), mode="RGBA")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    x0, y1 = transform.c, transform.f
    x1, y0 = x0 + width * transform.a, y1 + height * transform.e
    tr = Transformer.from_crs(dst_crs, WGS84, always_xy=True)
    lon0, lat0 = tr.transform(x0, y0)
    lon1, lat1 = tr.transform(x1, y1)
    return buf.getvalue(), [[lat0, lon0], [lat1, lon1]], (vmin, vmax)


def _add_kde(m: folium.Map, data: MapData) -> list[str]:
    if data.kde is None:
        return []
    png, bounds, (vmin, vmax) = surface_png(data.kde)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    folium.raster_layers.ImageOverlay(
        image=url,
        bounds=bounds,
        name=esc(data.kde_label),
        opacity=1.0,
        interactive=False,
        cross_origin=False,
        zindex=2,
        show=data.show_kde,
    ).add_to(m)
    p = data.kde.params
    return [
        _ramp(
            f"{data.kde_label}, incidents per km^2", "YlOrRd", f"{vmin:,.0f}", None, f"{vmax:,.0f}"
        )
        + f"<div class='iz-note'>{esc(p.get('kernel', ''))} kernel, bandwidth "
        f"{p.get('bandwidth_m', 0):,.0f} m, {p.get('cell_size_m', 0):g} m cells</div>"
    ]


def _add_clusters(m: folium.Map, data: MapData) -> list[str]:
    c = data.clusters
    if c is None or len(c) == 0:
        return []
    cols = [
        k
        for k in (
            "cluster",
            "incidents",
            "area_km2",
            "dominant_category",
            "first",
            "last",
            "geometry",
        )
        if k in c
    ]
    shown = c[cols].copy()
    shown["area_km2"] = shown["area_km2"].round(2)
    if "dominant_category" in shown:
        shown["dominant_category"] = shown["dominant_category"].str.replace("_", " ")
    fields = [k for k in cols if k != "geometry"]
    aliases = {
        "cluster": "Cluster",
        "incidents": "Incidents",
        "area_km2": "Area (km^2)",
        "dominant_category": "Most common",
        "first": "First",
        "last": "Last",
    }
    folium.GeoJson(
        _for_map(shown),
        name="DBSCAN clusters",
        style_function=lambda _f: CLUSTER_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[aliases[f] for f in fields]),
        show=False,
    ).add_to(m)
    return [
        "<div><span class='iz-swatch' style='background:#ffe0b2;border-color:#e65100'>"
        "</span>DBSCAN cluster</div>"
    ]


def _add_gistar(m: folium.Map, data: MapData, *, analyst: bool = False) -> list[str]:
    g = data.gistar
    if g is None:
        return []
    cells = g.cells
    sig = cells[cells["bin"] != 0]
    if len(sig):
        merged = sig[["bin", "geometry"]].dissolve(by="bin").reset_index()
        merged["label"] = merged["bin"].map(GI_LABELS)
        merged["colour"] = merged["bin"].map(GI_COLOURS)
        folium.GeoJson(
            _for_map(merged, simplify=0),
            name="Gi* hot and cold spots (FDR-corrected)",
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "weight": 0.5,
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.55,
            },
            tooltip=folium.GeoJsonTooltip(fields=["label"], aliases=["Gi*"]),
            show=False,
        ).add_to(m)
    if analyst:
        grid = cells[["count", "z", "p_sim", "p_adjusted", "label", "geometry"]].copy()
        grid["z"] = grid["z"].round(2)
        for col in ("p_sim", "p_adjusted"):
            grid[col] = grid[col].round(4)
        folium.GeoJson(
            _for_map(grid, simplify=0),
            name="Gi* grid (z, p, counts)",
            style_function=lambda _f: {"color": "#555", "weight": 0.3, "fillOpacity": 0.0},
            popup=folium.GeoJsonPopup(
                fields=["count", "z", "p_sim", "p_adjusted", "label"],
                aliases=["Incidents", "z", "p (permutation)", "p (FDR-adjusted)", "Reading"],
            ),
            show=False,
        ).add_to(m)
    p = g.params
    items = "".join(
        f"<div><span class='iz-swatch' style='background:{GI_COLOURS[b]}'></span>"
        f"{GI_LABELS[b]}</div>"
        for b in (3, 2, 1, -1, -2, -3)
    )
    return [
        f"<h2>Gi* hot and cold spots</h2>{items}<div class='iz-note'>"
        f"{p.get('cell_size_m', 0):g} m cells, {esc(p.get('p_used', 'permutation'))} p-values, "
        f"{esc(p.get('fdr', ''))} FDR</div>"
    ]


def _add_proposals(m: folium.Map, data: MapData) -> list[str]:
    p = data.proposals
    if p is None or len(p) == 0:
        return []
    cols = [c for c in ("name", "area_km2", "pai", "summary", "geometry") if c in p]
    shown = p[cols].copy()
    if "area_km2" in shown:
        shown["area_km2"] = shown["area_km2"].round(2)
    if "pai" in shown:
        shown["pai"] = shown["pai"].round(1)
    fields = [c for c in cols if c not in ("geometry",)]
    folium.GeoJson(
        _for_map(shown),
        name="Proposed zones",
        style_function=lambda _f: PROPOSAL_STYLE,
        tooltip=folium.GeoJsonTooltip(
            fields=fields, aliases=[f.replace("_", " ").capitalize() for f in fields]
        ),
    ).add_to(m)
    return [
        "<div><span class='iz-line' style='border-color:#00897b;border-top-style:dotted'>"
        "</span>Proposed zone</div>"
    ]


def add_incident_sample(
    m: folium.Map, incidents: gpd.GeoDataFrame, *, n: int = MAX_POINTS, seed: int = 0
) -> int:
    """A capped, seeded sample of non-sensitive incidents, off by default.

    Rape and domestic-violence incidents are removed first, always. Returns the number of
    points drawn.

    Examples
    --------
    >>> from impactzones.geo import st_louis
    >>> from impactzones.synth import synthesize
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
    data: MapData, *, self_contained: bool = False, analyst: bool = False
) -> folium.Map:
    """The map for one zone (or the city): see the module notes for what it holds.

    Examples
    --------
    >>> from impactzones.geo import st_louis
    >>> m = commander_map(MapData(layers=st_louis(), title="Overview"))
    >>> "Impact Zones" in m.get_root().render()
    True
    """
    m = base_map(data.layers, self_contained=self_contained)
    legend = []
    legend += _add_areas(m, data, self_contained=self_contained)
    legend += _add_kde(m, data)
    legend += _add_clusters(m, data)
    legend += _add_gistar(m, data, analyst=analyst)
    legend = _add_zones(m, data) + legend
    legend += _add_proposals(m, data)
    if data.sample is not None:
        add_incident_sample(m, data.sample)
    if data.zone is not None:
        zone = data.layers.zones[data.layers.zones["name"] == data.zone]
        if len(zone):
            from .assign import ring_polygons

            ring = ring_polygons(zone, data.ring or 1.0)[0].union(zone.geometry.iloc[0])
            b = gpd.GeoSeries([ring], crs=zone.crs).to_crs(WGS84).total_bounds
            m.fit_bounds(
                [[b[1], b[0]], [b[3], b[2]]],
                padding_top_left=FIT_TOP_LEFT,
                padding_bottom_right=FIT_BOTTOM_RIGHT,
            )
    _add_title(m, data.title, data.headline, data.data_note)
    _add_legend(m, legend)
    folium.LayerControl(collapsed=False, position="topleft").add_to(m)
    return m


def stable_ids(page: str) -> str:
    """Replace folium's random element ids with ids numbered in order of appearance, so that
    the same map gives the same bytes.

    Examples
    --------
    >>> stable_ids("map_" + "ab" * 16 + " map_" + "ab" * 16)
    'map_00000000000000000000000000000000 map_00000000000000000000000000000000'
    """
    seen: dict[str, str] = {}

    def sub(match):
        key = match.group(0)
        if key not in seen:
            seen[key] = f"{len(seen):032x}"
        return seen[key]

    return re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", sub, page)


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write a map's HTML atomically, with stable element ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.geo import st_louis
    >>> m = commander_map(MapData(layers=st_louis(), title="Zones"))
    >>> p = save_map(m, pathlib.Path(tempfile.mkdtemp()) / "m.html")
    >>> p.read_text().startswith("<!DOCTYPE html>")
    True
    """
    return write_text(stable_ids(m.get_root().render()), path)


def write_index(
    entries: list[tuple[str, str, str]],
    path: str | Path,
    *,
    title: str = "impactzones maps",
    note: str = "",
) -> Path:
    """An index page linking the maps: entries are (title, file name, description).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_index([("North", "north.html", "a <b>zone</b>")],
    ...                 pathlib.Path(tempfile.mkdtemp()) / "index.html")
    >>> 'href="north.html"' in p.read_text(), "&lt;b&gt;" in p.read_text()
    (True, True)
    """
    items = "".join(
        f'<li><a href="{esc(href)}">{esc(t)}</a><div>{esc(d)}</div></li>' for t, href, d in entries
    )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><meta name='viewport' content='width=device-width'>"
        "<style>body{font:15px/1.5 Arial,Helvetica,sans-serif;max-width:760px;margin:2em auto;"
        "padding:0 1em;color:#222}li{margin:.8em 0}li div{color:#555;font-size:13px}</style>"
        f"</head><body><h1>{esc(title)}</h1><ul>{items}</ul>"
        f"<p style='color:#666;font-size:13px'>{esc(note)}</p></body></html>"
    )
    return write_text(page, path)


def static_map(data: MapData, path: str | Path, *, dpi: int = 150) -> Path:
    """A static PNG of the commander map (matplotlib), for briefings and print.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.geo import st_louis
    >>> p = static_map(MapData(layers=st_louis(), title="Zones"),
    ...                pathlib.Path(tempfile.mkdtemp()) / "zones.png", dpi=40)
    >>> p.read_bytes()[:4]
    b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .assign import ring_polygons
    from .io import _atomic

    layers = data.layers
    fig, ax = plt.subplots(figsize=(10, 10), dpi=dpi)
    if layers.neighborhoods is not None:
        layers.neighborhoods.boundary.plot(ax=ax, color="#bbbbbb", linewidth=0.4)
    handles: list[Artist] = []
    if data.change is not None and len(data.change):
        data.change.plot(
            ax=ax,
            color=[change_colour(p) for p in data.change["pct"]],
            alpha=0.35,
            edgecolor="none",
        )
        handles.append(
            Patch(color="#f4a582", alpha=0.5, label=f"{data.change_label} (blue down, red up)")
        )
    if data.kde is not None:
        s = data.kde
        vals = np.ma.masked_where(
            ~np.isfinite(s.values) | (s.values < 0.05 * np.nanmax(s.values)), s.values
        )
        left, bottom, right, top = s.grid.bounds
        ax.imshow(vals, extent=(left, right, bottom, top), cmap="YlOrRd", alpha=0.75, zorder=2)
        handles.append(Patch(color="#fd8d3c", label=data.kde_label))
    if data.gistar is not None:
        hot = data.gistar.cells[data.gistar.cells["bin"] >= 2]
        if len(hot):
            gpd.GeoSeries([hot.union_all()], crs=hot.crs).boundary.plot(
                ax=ax, color="#b2182b", linewidth=1.0, zorder=3
            )
            handles.append(Line2D([], [], color="#b2182b", label="Gi* hot spot (95%+)"))
    layers.districts.boundary.plot(ax=ax, color="#222222", linewidth=1.2, zorder=4)
    handles.append(Line2D([], [], color="#222222", label="Patrol district"))
    zones = layers.zones
    gpd.GeoSeries(
        ring_polygons(zones, data.ring or 1.0, layers.study_area), crs=zones.crs
    ).boundary.plot(ax=ax, color="#7b1fa2", linewidth=1, linestyle="--", zorder=5)
    zones.boundary.plot(ax=ax, color="#7b1fa2", linewidth=2.5, zorder=6)
    handles.append(Line2D([], [], color="#7b1fa2", lw=2.5, label="Impact Zone"))
    handles.append(Line2D([], [], color="#7b1fa2", ls="--", label=f"Ring ({data.ring:g} m)"))
    if data.proposals is not None and len(data.proposals):
        data.proposals.boundary.plot(ax=ax, color="#00897b", linewidth=2, linestyle=":", zorder=7)
        handles.append(Line2D([], [], color="#00897b", ls=":", label="Proposed zone"))
    for row in zones.itertuples():
        c = row.geometry.representative_point()
        ax.annotate(
            str(row.name),
            (c.x, c.y),
            color="#4a148c",
            fontsize=9,
            fontweight="bold",
            ha="center",
            zorder=8,
            parse_math=False,  # a "$" in a name is text, not mathtext
        )
    if data.zone is not None and (zones["name"] == data.zone).any():
        z = zones[zones["name"] == data.zone].geometry.iloc[0].buffer(2500)
        x0, y0, x1, y1 = z.bounds
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_title(data.title, fontsize=14, loc="left", parse_math=False)
    text = "\n".join(data.headline + ([data.data_note] if data.data_note else []))
    fig.text(0.02, 0.02, text, fontsize=8, va="bottom", wrap=True, parse_math=False)
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9)
    # scale bar: 1 km
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    sx, sy = x0 + 0.05 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([sx, sx + 1000], [sy, sy], color="black", lw=3)
    ax.text(sx + 500, sy + 0.01 * (y1 - y0), "1 km", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))

    def write(p):
        fig.savefig(p, format="png", dpi=dpi)

    try:
        return _atomic(Path(path), write)
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

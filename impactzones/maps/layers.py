"""Map layers of the hot-spot methods, found through the registry of methods.

Each entry of :mod:`impactzones.hotspots.registry` names its map layer by dotted path
(``"impactzones.maps.layers:KDE"``). A layer is one function that draws a result on a web
map, ``web(m, result, data, *, name, analyst) -> list of legend sections (HTML)``, or a
:class:`MapLayer` that adds the static (matplotlib) drawing and a colour scale. The maps
(:func:`~impactzones.maps.webmap.commander_map`, :func:`~impactzones.maps.webmap.static_map`,
the briefs) draw every result in ``MapData.results`` through :func:`drawn_layers`, in the
registry's order; none of them names a method.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.drawing import plot_lines, plot_polygons
from ..core.errors import InputError
from ..hotspots import registry
from ._folium import folium
from .webmap import (
    CLUSTER_STYLE,
    DENSITY_CMAP,
    GI_COLOURS,
    GI_LABELS,
    GI_LAYER,
    _for_map,
    _GeoJson,
    _once,
    _ramp,
    _section,
    esc,
    surface_png,
)

if TYPE_CHECKING:
    from .webmap import MapData

__all__ = [
    "DBSCAN",
    "EMERGING",
    "GISTAR",
    "KDE",
    "MapLayer",
    "drawn_layers",
    "layer_title",
]


@dataclass(frozen=True)
class MapLayer:
    """How one method's result is drawn.

    Attributes
    ----------
    web : callable
        ``web(m, result, data, *, name, analyst) -> list[str]``: adds the layer to the
        folium map ``m`` and returns its legend sections.
    static : callable, optional
        ``static(ax, result, data, *, name) -> list`` of legend handles (matplotlib, in the
        layers' CRS); without it the static maps leave the layer out.
    scale : callable, optional
        ``scale(result, data, *, name) -> (cmap, norm, label)``: a colour bar under the
        static map.
    """

    web: Callable[..., list[str]]
    static: Callable[..., list] | None = None
    scale: Callable[..., tuple] | None = None


def drawn_layers(data: MapData, *, analyst: bool) -> list[tuple[str, Any, MapLayer, bool]]:
    """``(name, result, layer, shown)`` of every result a map draws, in the registry's order.

    A result is drawn when its method's entry names a layer, on the maps the entry lists
    (``"commander"``: every map; ``"analyst"``: the analyst map only).

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.maps.webmap import MapData
    >>> drawn_layers(MapData(layers=st_louis(), title="t"), analyst=True)
    []
    """
    by_name = {getattr(r, "map_layer", key): r for key, r in data.results.items()}
    out = []
    for name, method in registry.REGISTRY.items():
        if name not in by_name or method.layer is None:
            continue
        if "commander" not in method.maps and not analyst:
            continue
        target = registry.resolve(method.layer)
        layer = target if isinstance(target, MapLayer) else MapLayer(web=target)
        if not callable(layer.web):
            raise InputError(f"The map layer {method.layer!r} of {name!r} is not a function.")
        out.append((name, by_name[name], layer, method.shown))
    return out


def layer_title(data: MapData, name: str, default: str) -> str:
    """The layer's name on a map: ``data.labels[name]``, or ``default``.

    Examples
    --------
    >>> from impactzones.core.geo import st_louis
    >>> from impactzones.maps.webmap import MapData
    >>> layer_title(MapData(layers=st_louis(), title="t", labels={"kde": "Density"}), "kde", "x")
    'Density'
    """
    return str(data.labels.get(name, default))


# --------------------------------------------------------------------------------------
# Kernel density: a raster in Web Mercator, a sequential colour scale
# --------------------------------------------------------------------------------------


def _kde_title(data: MapData, name: str) -> str:
    period = f", {data.period}" if data.period else ""
    return layer_title(data, name, f"{data.subject} density (KDE{period})")


def _kde_web(m, result, data: MapData, *, name: str, analyst: bool) -> list[str]:
    title = _kde_title(data, name)
    url, bounds, (vmin, vmax) = _once(data, "surface", result, lambda: _surface_url(result))
    folium.raster_layers.ImageOverlay(
        image=url,
        bounds=bounds,
        name=esc(title),
        opacity=1.0,
        interactive=False,
        cross_origin=False,
        pixelated=False,
        show=data.shown(name),
        pane="izDensity",
        className="iz-density",
    ).add_to(m)
    p = result.params
    return [
        _section(
            title,
            _ramp(
                f"{title}, incidents per km\u00b2",
                DENSITY_CMAP,
                f"{vmin:,.0f}",
                None,
                f"{vmax:,.0f}",
            )
            + f"<div class='iz-note'>{esc(p.get('kernel', ''))} kernel, bandwidth "
            f"{p.get('bandwidth_m', 0):,.0f} m, {p.get('cell_size_m', 0):g} m cells</div>",
        )
    ]


def _surface_url(result) -> tuple[str, list, tuple[float, float]]:
    """The surface's picture (:func:`~impactzones.maps.webmap.surface_png`) as a data URL,
    its bounds and its value range."""
    png, bounds, span = surface_png(result)
    return "data:image/png;base64," + base64.b64encode(png).decode(), bounds, span


def _kde_static(ax, result, data: MapData, *, name: str) -> list:
    v = np.where(result.grid.mask, result.values, np.nan)
    vmax = np.nanmax(v)
    vals = np.ma.masked_where(~np.isfinite(v) | (v < 0.05 * vmax), v)
    left, bottom, right, top = result.grid.bounds
    norm = np.clip((np.nan_to_num(v) - 0.05 * vmax) / (0.95 * vmax), 0, 1)
    ax.imshow(
        vals,
        extent=(left, right, bottom, top),
        cmap=DENSITY_CMAP,
        alpha=np.where(vals.mask, 0, 0.25 + 0.6 * norm),
        zorder=2,
        interpolation="bilinear",
        vmin=0.05 * vmax,
        vmax=vmax,
    )
    return []


def _kde_scale(result, data: MapData, *, name: str) -> tuple:
    from matplotlib.colors import Normalize

    v = result.values
    vmax = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
    label = f"{_kde_title(data, name)}, incidents per km\u00b2"
    return DENSITY_CMAP, Normalize(0.05 * vmax, vmax), label


#: The kernel density layer (a Surface).
KDE = MapLayer(web=_kde_web, static=_kde_static, scale=_kde_scale)


# --------------------------------------------------------------------------------------
# DBSCAN: cluster outlines
# --------------------------------------------------------------------------------------

CLUSTER_ALIASES = {
    "cluster": "Cluster",
    "incidents": "Incidents",
    "area_km2": "Area (km^2)",
    "dominant_category": "Most common",
    "first": "First",
    "last": "Last",
}


def _clusters_web(m, result, data: MapData, *, name: str, analyst: bool) -> list[str]:
    c = result.to_geodataframe()
    if len(c) == 0:
        return []
    title = layer_title(data, name, "DBSCAN clusters")
    cols = [k for k in (*CLUSTER_ALIASES, "geometry") if k in c]
    shown = c[cols].copy()
    shown["area_km2"] = shown["area_km2"].round(2)
    if "dominant_category" in shown:
        shown["dominant_category"] = shown["dominant_category"].str.replace("_", " ")
    fields = [k for k in cols if k != "geometry"]
    _GeoJson(
        _for_map(shown),
        name=esc(title),
        style=CLUSTER_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[CLUSTER_ALIASES[f] for f in fields]),
        show=data.shown(name),
    ).add_to(m)
    return [
        _section(
            title,
            "<div><span class='iz-swatch' style='background:#ffe0b2;border-color:#e65100'>"
            "</span>DBSCAN cluster</div>",
        )
    ]


def _clusters_static(ax, result, data: MapData, *, name: str) -> list:
    from matplotlib.lines import Line2D

    c = result.to_geodataframe()
    if not len(c):
        return []
    plot_lines(ax, c.to_crs(data.layers.zones.crs).boundary, color="#e65100", linewidth=1, zorder=5)
    return [Line2D([], [], color="#e65100", lw=1, label="DBSCAN cluster")]


#: The DBSCAN layer (Clusters).
DBSCAN = MapLayer(web=_clusters_web, static=_clusters_static)


# --------------------------------------------------------------------------------------
# Gi*: hot and cold cells; on the analyst map, the grid with z and p in popups
# --------------------------------------------------------------------------------------


def _classes_layer(m, cells, column: str, colours: dict, alias: str, title: str,
                   show: bool, labels: dict | None = None) -> None:
    """Cells dissolved by the class in ``column``, each class filled in its colour, with the
    class's label (``labels``, else the class itself: fixed words, never user text) as the
    tooltip."""
    merged = cells[[column, "geometry"]].dissolve(by=column).reset_index()
    merged["colour"] = merged[column].map(colours)
    if labels is not None:
        merged["label"] = merged[column].map(labels)
        column = "label"
    folium.GeoJson(
        _for_map(merged, simplify=0),
        name=esc(title),
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": 0.5,
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.55,
        },
        tooltip=folium.GeoJsonTooltip(fields=[column], aliases=[alias]),
        show=show,
    ).add_to(m)


def _gistar_web(m, result, data: MapData, *, name: str, analyst: bool) -> list[str]:
    cells = result.to_geodataframe()
    title = layer_title(data, name, GI_LAYER)
    sig = cells[cells["bin"] != 0]
    if len(sig):
        _classes_layer(m, sig, "bin", GI_COLOURS, "Gi*", title, data.shown(name), GI_LABELS)
    if analyst:
        _gistar_grid(m, cells)
    p = result.params
    items = "".join(
        f"<div><span class='iz-swatch' style='background:{GI_COLOURS[b]}'></span>"
        f"{GI_LABELS[b]}</div>"
        for b in (3, 2, 1, -1, -2, -3)
    )
    return [
        _section(
            title,
            f"<h2>Gi* hot and cold spots</h2>{items}<div class='iz-note'>"
            f"{p.get('cell_size_m', 0):g} m cells, {esc(p.get('p_used', 'permutation'))} "
            f"p-values, {esc(p.get('fdr', ''))} FDR</div>",
        )
    ]


def _gistar_grid(m, cells) -> None:
    """Every Gi* cell with its count, z and p in a popup (off when the map opens)."""
    pcol = "p_value" if "p_value" in cells else "p_sim"  # the p that set the bins
    grid = cells[["count", "z", pcol, "p_adjusted", "label", "geometry"]].copy()
    grid["z"] = grid["z"].round(2)
    for col in (pcol, "p_adjusted"):
        grid[col] = grid[col].round(4)
    _GeoJson(
        _for_map(grid, simplify=0),
        name="Gi* grid (z, p, counts)",
        style={"color": "#555", "weight": 0.3, "fillOpacity": 0.0},
        popup=folium.GeoJsonPopup(
            fields=["count", "z", pcol, "p_adjusted", "label"],
            aliases=["Incidents", "z", "p", "p (FDR-adjusted)", "Reading"],
        ),
        show=False,
    ).add_to(m)


def _gistar_static(ax, result, data: MapData, *, name: str) -> list:
    from matplotlib.patches import Patch

    cells = result.to_geodataframe()
    handles = []
    for b in (3, 2, -2, -3):
        part = cells[cells["bin"] == b]
        if len(part):
            plot_polygons(
                ax, part.geometry, facecolor=GI_COLOURS[b], alpha=0.6, zorder=2.5, edgecolor="none"
            )
            handles.append(Patch(color=GI_COLOURS[b], alpha=0.6, label=GI_LABELS[b]))
    return handles


#: The Gi* layer (GiStar).
GISTAR = MapLayer(web=_gistar_web, static=_gistar_static)


# --------------------------------------------------------------------------------------
# Emerging hot spots: cells with a pattern
# --------------------------------------------------------------------------------------

#: Colours of the emerging patterns (hot side: warm; historical: grey).
PATTERN_COLOURS = {
    "new": "#fdae61",
    "consecutive": "#f46d43",
    "intensifying": "#a50026",
    "persistent": "#d73027",
    "diminishing": "#fee090",
    "sporadic": "#f1b6da",
    "oscillating": "#c51b7d",
    "historical": "#9e9e9e",
}


def _emerging_web(m, result, data: MapData, *, name: str, analyst: bool) -> list[str]:
    cells = result.to_geodataframe()
    cells = cells[cells["pattern"].isin(list(PATTERN_COLOURS))]
    if not len(cells):
        return []
    title = layer_title(data, name, "Emerging hot spots")
    _classes_layer(m, cells, "pattern", PATTERN_COLOURS, "Pattern", title, data.shown(name))
    items = "".join(
        f"<div><span class='iz-swatch' style='background:{colour}'></span>{esc(p)}</div>"
        for p, colour in PATTERN_COLOURS.items()
        if p in set(cells["pattern"])
    )
    return [_section(title, f"<h2>{esc(title)}</h2>{items}")]


#: The emerging hot-spot layer (Emerging); web maps only.
EMERGING = MapLayer(web=_emerging_web)

"""Folium maps for commanders and analysts.

Maps carry analysis, not raw data: polygons, aggregates and surfaces. Sensitive incidents
(rape, domestic violence) are never drawn as points; any point layer of other incidents is
off by default and capped. Every string from a user's file is HTML-escaped before it
reaches the page.
"""

from __future__ import annotations

import html
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from .geo import WGS84, Layers
from .io import write_text
from .schema import is_sensitive

#: Most incident points any map layer carries (a random, seeded sample beyond that).
MAX_POINTS = 2000

ZONE_STYLE = {"color": "#b2182b", "weight": 3, "fillColor": "#ef8a62", "fillOpacity": 0.15}
RING_STYLE = {"color": "#b2182b", "weight": 1.5, "dashArray": "6 4", "fillOpacity": 0.0}
DISTRICT_STYLE = {"color": "#333333", "weight": 2, "fillOpacity": 0.0}
NEIGHBORHOOD_STYLE = {"color": "#888888", "weight": 0.6, "fillOpacity": 0.0}


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell HTML-escaped (``<img ...>`` shows as text)."""
    out = df.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: html.escape(str(v)) if pd.notna(v) else "")
    return out


def _for_map(gdf: gpd.GeoDataFrame, simplify: float = 5.0) -> gpd.GeoDataFrame:
    """Simplify (metres, in the metric CRS), escape text, turn times to text, to WGS 84."""
    out = gdf.copy()
    if out.crs is not None and out.crs.is_projected and simplify > 0:
        out["geometry"] = out.geometry.simplify(simplify, preserve_topology=True)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
    return escape_frame(out).to_crs(WGS84)


#: Base maps from xyzservices that need no API key: a light one and a street one.
BASEMAPS = {"Light base map": "Esri.WorldGrayCanvas", "Street map": "OpenStreetMap.Mapnik"}


def base_map(layers: Layers, *, tiles: bool = True) -> folium.Map:
    """A map fitted to the study area with base maps, a scale bar and fullscreen.

    ``tiles=False`` gives no base map (for offline maps).
    """
    from folium.plugins import Fullscreen

    b = layers.boundary.to_crs(WGS84).total_bounds
    m = folium.Map(
        location=[(b[1] + b[3]) / 2, (b[0] + b[2]) / 2],
        zoom_start=12,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    if tiles:
        import xyzservices.providers as xyz

        for i, (label, key) in enumerate(BASEMAPS.items()):
            provider = xyz.query_name(key)
            folium.TileLayer(provider, name=label, control=True, show=i == 0).add_to(m)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    Fullscreen().add_to(m)
    return m


def add_areas(m: folium.Map, layers: Layers, *, ring: float | None = 400.0) -> None:
    """Districts, neighborhoods, zones (and their rings) as named, toggleable layers."""
    from .assign import ring_polygons

    if layers.neighborhoods is not None:
        nb = _for_map(
            layers.neighborhoods[
                [c for c in ("neighborhood", "name", "geometry") if c in layers.neighborhoods]
            ]
        )
        folium.GeoJson(
            nb,
            name="Neighborhoods",
            style_function=lambda _f: NEIGHBORHOOD_STYLE,
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Neighborhood"]),
            show=False,
        ).add_to(m)
    d = _for_map(layers.districts[["district", "name", "geometry"]])
    folium.GeoJson(
        d,
        name="Patrol districts",
        style_function=lambda _f: DISTRICT_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["District"]),
    ).add_to(m)
    zones = layers.zones.copy()
    if ring:
        rings = gpd.GeoDataFrame(
            {"name": zones["name"].astype(str) + f" ring ({ring:g} m)"},
            geometry=ring_polygons(zones, ring, layers.study_area),
            crs=zones.crs,
        )
        folium.GeoJson(
            _for_map(rings),
            name=f"Displacement rings ({ring:g} m)",
            style_function=lambda _f: RING_STYLE,
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ring"]),
        ).add_to(m)
    cols = [c for c in ("name", "start", "description", "geometry") if c in zones]
    z = _for_map(zones[cols])
    folium.GeoJson(
        z,
        name="Impact Zones",
        style_function=lambda _f: ZONE_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Impact Zone"]),
        popup=folium.GeoJsonPopup(
            fields=[c for c in ("name", "start", "description") if c in z],
            aliases=["Zone", "Started", "About"][: len([c for c in cols if c != "geometry"])],
        ),
    ).add_to(m)


def add_incident_sample(
    m: folium.Map, incidents: gpd.GeoDataFrame, *, n: int = MAX_POINTS, seed: int = 0
) -> int:
    """A capped, seeded sample of non-sensitive incidents, as a layer that is off by default.

    Rape and domestic-violence incidents are removed first, always. Returns the number of
    points drawn.
    """
    safe = incidents[~is_sensitive(incidents)]
    n = min(n, MAX_POINTS, len(safe))
    if n == 0:
        return 0
    sample = safe.sample(n=n, random_state=seed).sort_values("occurred_at")
    sample = sample[["incident_id", "occurred_at", "category", "geometry"]].copy()
    sample["occurred_at"] = sample["occurred_at"].dt.strftime("%Y-%m-%d %H:%M")
    sample["category"] = sample["category"].str.replace("_", " ")
    pts = escape_frame(sample).to_crs(WGS84)
    layer = folium.FeatureGroup(name=f"Sample of incidents ({n:,}, not sensitive)", show=False)
    for row in pts.itertuples():
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=3,
            weight=0,
            fill=True,
            fill_color="#2166ac",
            fill_opacity=0.7,
            tooltip=f"{row.category}, {row.occurred_at}",
        ).add_to(layer)
    layer.add_to(m)
    return n


def add_title(m: folium.Map, title: str, lines: list[str]) -> None:
    """A title block in the top left: an escaped title and escaped lines of text."""
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    box = (
        '<div class="iz-title" style="position:absolute;top:10px;left:60px;z-index:1000;'
        "background:rgba(255,255,255,0.92);padding:8px 12px;border-radius:4px;"
        'box-shadow:0 1px 4px rgba(0,0,0,0.3);font:13px/1.35 Arial,sans-serif;max-width:420px">'
        f'<div style="font-weight:bold;font-size:15px">{html.escape(title)}</div>{body}</div>'
    )
    m.get_root().html.add_child(folium.Element(box))


def overview_map(
    layers: Layers,
    incidents: gpd.GeoDataFrame | None = None,
    *,
    title: str = "Patrol districts and Impact Zones",
    lines: list[str] | None = None,
    ring: float = 400.0,
    seed: int = 0,
) -> folium.Map:
    """The first overview map: districts, neighborhoods, zones, rings, a point sample."""
    m = base_map(layers)
    add_areas(m, layers, ring=ring)
    if incidents is not None:
        add_incident_sample(m, incidents, seed=seed)
    add_title(m, title, lines or [])
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write a map's HTML atomically."""
    return write_text(m.get_root().render(), path)

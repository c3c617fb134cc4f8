"""The maps as files: contents, size, privacy and escaping (the browser tests render them)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from impactzones.schema import is_sensitive

MAPS = ["commander_north.html", "commander_central.html", "commander_south.html",
        "citywide.html", "analyst.html"]


def out_dir(demo_run):
    return demo_run.files[0].parent


def test_demo_writes_every_map_and_an_index(demo_run):
    out = out_dir(demo_run)
    for name in [*MAPS, "index.html", "commander_north.png", "citywide.png"]:
        assert (out / name).exists(), name
    index = (out / "index.html").read_text()
    for name in MAPS:
        assert f'href="{name}"' in index


def test_maps_are_small_and_load_only_leaflet(demo_run):
    out = out_dir(demo_run)
    for name in MAPS:
        html = (out / name).read_text()
        assert len(html.encode()) < 3_000_000, name
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
        assert scripts == ["https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"], name
        assert "jquery" not in html.lower() and "bootstrap" not in html.lower()


def test_no_sensitive_incident_appears_on_any_map(demo_run):
    out = out_dir(demo_run)
    inc = demo_run.incidents
    sens = inc[is_sensitive(inc)].to_crs(4326)
    assert len(sens) > 1000
    coords = {f"{y:.5f}, {x:.5f}" for x, y in zip(sens.geometry.x, sens.geometry.y,
                                                  strict=True)}
    coords |= {f"[{y:.5f}, {x:.5f}]" for x, y in zip(sens.geometry.x, sens.geometry.y,
                                                     strict=True)}
    for name in MAPS:
        html = (out / name).read_text()
        assert not any(c in html for c in list(coords)[:3000]), name


def test_point_layer_is_capped_off_by_default_and_never_sensitive(synth, layers):
    import folium

    from impactzones.webmap import MAX_POINTS, add_incident_sample, base_map

    m = base_map(layers)
    n = add_incident_sample(m, synth.incidents, n=10 * MAX_POINTS)
    assert n == MAX_POINTS
    group = next(c for c in m._children.values() if isinstance(c, folium.FeatureGroup)
             and "Sample" in c.layer_name)
    assert group.show is False
    html = m.get_root().render()
    sens = synth.incidents[is_sensitive(synth.incidents)].to_crs(4326)
    for x, y in zip(sens.geometry.x[:2000], sens.geometry.y[:2000], strict=True):
        assert f"[{y:.5f}, {x:.5f}]" not in html


def test_hostile_strings_are_escaped_in_the_html(evil_layers, synth, tmp_path):
    from impactzones.assign import assign
    from impactzones.compare import compare_zones
    from impactzones.maps import build_maps

    inc = assign(synth.incidents, evil_layers)
    table = compare_zones(inc, evil_layers.zones.iloc[:1], 2017, 2018,
                          study_area=evil_layers.study_area)
    files = build_maps(inc, evil_layers, tmp_path, comparisons={"x": table}, hotspots={},
                       source="<script>alert(4)</script>", static=False)
    for f in files:
        text = f.read_text()
        assert "<img src=x" not in text, f.name
        assert "<script>window.__xss" not in text and "<script>alert(4)" not in text
        assert "<b onmouseover" not in text
    assert any("&lt;img src=x" in f.read_text() for f in files)


def test_self_contained_map_needs_no_network(demo_run, tmp_path):
    pytest.importorskip("xstatic.pkg.leaflet")
    from impactzones.maps import build_maps

    d = demo_run
    files = build_maps(d.incidents, d.layers, tmp_path, comparisons=d.comparisons,
                       hotspots=d.hotspots, source="test", self_contained=True,
                       static=False)
    html = (tmp_path / "commander_north.html").read_text()
    assert not re.findall(r'<script[^>]+src=', html)
    assert not re.findall(r'<link[^>]+href="http', html)
    assert "tile.openstreetmap" not in html and "arcgisonline" not in html
    assert "L.version" in html or "Leaflet" in html
    assert len(html.encode()) < 3_000_000
    assert len(files) >= 6


def test_kde_overlay_is_georeferenced_in_web_mercator(demo_run):
    """The PNG's bounds are the surface's, reprojected (not a UTM grid stretched)."""
    from pyproj import Transformer

    from impactzones.webmap import surface_png

    s = demo_run.hotspots["kde"]
    png, bounds, (vmin, vmax) = surface_png(s)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    left, bottom, right, top = s.grid.bounds
    tr = Transformer.from_crs(s.crs, 4326, always_xy=True)
    lons, lats = tr.transform([left, right, left, right], [bottom, bottom, top, top])
    (lat0, lon0), (lat1, lon1) = bounds
    # the Web Mercator raster covers the surface's footprint, to within one of its pixels
    tol = 0.001  # degrees, about 100 m: two 50 m pixels
    assert lat0 <= min(lats) + tol and lat1 >= max(lats) - tol
    assert lon0 <= min(lons) + tol and lon1 >= max(lons) - tol
    assert 0 < vmin < vmax == pytest.approx(np.nanmax(s.values), rel=0.05)


def test_static_png_is_an_image(demo_run):
    from PIL import Image

    img = Image.open(out_dir(demo_run) / "commander_north.png")
    assert img.size[0] >= 1000 and img.size[1] >= 1000


def test_map_headline_agrees_with_the_verdict(demo_run):
    """The title block reads the ring as the verdict does (significance included)."""
    from impactzones.maps import _zone_headline

    for table in demo_run.comparisons.values():
        for zone in table["zone"].unique():
            if zone == "Citywide":
                continue
            row = table[(table["zone"] == zone) & (table["crime"] == "violent")].iloc[0]
            line = _zone_headline(table, zone)[0]
            if "no sign of displacement" in row["verdict"]:
                assert "no sign of displacement" in line
            elif "displacement into" in row["verdict"] or "diffusion" in row["verdict"]:
                assert "ring:" in line

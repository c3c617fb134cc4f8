"""The maps as files: contents, size, privacy and escaping (the browser tests render them)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from impactzones.core.schema import is_sensitive

MAPS = ["commander_north.html", "commander_central.html", "commander_south.html",
        "citywide.html", "analyst.html"]


def out_dir(demo_run):
    return demo_run.files[0].parent


def test_demo_writes_every_map_and_an_index(demo_run):
    out = out_dir(demo_run)
    names = [*MAPS, "commander_north.png", "citywide.png", "analyst.png", "brief_north.pdf",
             "brief_south.pdf",
             "compstat.html", "compstat.csv", "compstat_hotspots.html"]
    for name in [*names, "index.html"]:
        assert (out / name).exists(), name
    index = (out / "index.html").read_text()
    for name in names:
        assert f'href="{name}"' in index, name
    # each zone's entry says which years it compares and what it found, in the verdict's words
    assert "2017 vs 2018. Violent crime fell 20% in the zone (740 to 592)" in index
    assert "within chance" in index and "better than the rest of the city" in index
    for term in ("PAI", "PEI", "RRI", "WDQ", "WDD"):
        assert f"<dt>{term}</dt>" in index


def test_analyst_png_draws_the_analysis_not_the_change(demo_run):
    """The analyst PNG shows what its web map shows by default: Gi* cells, DBSCAN outlines
    and lettered proposals; the change layer (off there) is not drawn, nor its colour bar."""
    import matplotlib
    from PIL import Image

    from impactzones.maps.webmap import CHANGE_CMAP

    def share(rgb, name="analyst.png"):
        img = np.asarray(Image.open(out_dir(demo_run) / name).convert("RGB"), dtype=int)
        return (np.abs(img - np.array(rgb)).sum(axis=2) < 12).mean()

    assert share((0xe6, 0x51, 0x00)) > 1e-4  # DBSCAN outlines
    # the change colour bar's deep-blue end
    deep_blue = tuple(int(255 * v) for v in matplotlib.colormaps[CHANGE_CMAP](0.0)[:3])
    assert share(deep_blue) == 0 < share(deep_blue, "citywide.png")


def test_maps_are_small_and_self_contained(demo_run):
    """Leaflet inlined from the pinned package; nothing is fetched from anywhere."""
    import xstatic.pkg.leaflet as xleaflet

    out = out_dir(demo_run)
    for name in MAPS:
        html = (out / name).read_text()
        assert len(html.encode()) < 3_000_000, name
        assert re.findall(r'<script[^>]+src=', html) == [], name
        assert not re.findall(r'<link[^>]+href="http', html), name
        assert "tile.openstreetmap" not in html and "arcgisonline" not in html
        assert "jquery" not in html.lower() and "bootstrap" not in html.lower()
        assert xleaflet.VERSION.startswith("1.9.3") and 'version="1.9.3"' in html


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

    from impactzones.maps.webmap import MAX_POINTS, add_incident_sample, base_map

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
    from impactzones.evaluate.compare import compare_zones
    from impactzones.maps import build_maps

    inc = assign(synth.incidents, evil_layers)
    table = compare_zones(inc, evil_layers.zones.iloc[:1], 2017, 2018,
                          study_area=evil_layers.study_area)
    files = build_maps(inc, evil_layers, tmp_path, comparisons={"x": table}, hotspots={},
                       source="<script>alert(4)</script>", static=False, brief=False)
    for f in files:
        text = f.read_text()
        assert "<img src=x" not in text, f.name
        assert "<script>window.__xss" not in text and "<script>alert(4)" not in text
        assert "<b onmouseover" not in text
    assert any("&lt;img src=x" in f.read_text() for f in files)


def test_online_tiles_are_opt_in(demo_run, tmp_path):
    from impactzones.maps import build_maps

    d = demo_run
    build_maps(d.incidents, d.layers, tmp_path, comparisons=d.comparisons,
               hotspots=d.hotspots, source="test", online_tiles=True, static=False,
               brief=False)
    html = (tmp_path / "commander_north.html").read_text()
    assert "arcgisonline" in html and "tile.openstreetmap" in html
    assert re.findall(r'<script[^>]+src=', html) == []
    assert "I-70" in html and "Mississippi River" in html  # the offline base is still there


def test_offline_base_is_derived_from_the_reference_layers():
    """The bundled roads and river come from the reference layers by the script's rule."""
    import geopandas as gpd

    from impactzones.core.geo import data_dir

    roads = gpd.read_file(data_dir() / "basemap_roads.geojson")
    river = gpd.read_file(data_dir() / "basemap_river.geojson")
    assert {"I-44", "I-55", "I-64", "I-70", "Gravois Ave", "S Grand Blvd"} <= set(roads["name"])
    assert set(roads["kind"]) == {"interstate", "arterial"}
    assert river.loc[0, "name"] == "Mississippi River"
    # the river lies east of the city's centre and the roads inside the city's extent
    assert river.geometry.iloc[0].centroid.x > -90.22
    b = roads.total_bounds
    assert -90.33 < b[0] and b[2] < -90.16 and 38.53 < b[1] and b[3] < 38.78
    size = (data_dir() / "basemap_roads.geojson").stat().st_size
    assert size < 60_000


def test_kde_overlay_is_georeferenced_in_web_mercator(demo_run):
    """The PNG's bounds are the surface's, reprojected (not a UTM grid stretched)."""
    from pyproj import Transformer

    from impactzones.maps.webmap import surface_png

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


def test_map_headline_agrees_with_the_verdict(demo_run):
    """The headline uses the verdict's words: the zone vs the rest of the city, the ring."""
    from impactzones.maps import zone_headline
    from impactzones.maps.build import ring_words

    for table in demo_run.comparisons.values():
        for zone in table["zone"].unique():
            if zone == "Citywide":
                continue
            row = table[(table["zone"] == zone) & (table["crime"] == "violent")].iloc[0]
            first, ring = zone_headline(table, zone)[:2]
            verdict = row["verdict"]
            if "within chance" in verdict:
                assert first.endswith("within chance.")
            elif "better than the rest of the city" in verdict:
                assert "better than the rest of the city" in first
            words = ring_words(row, 400)
            assert words.split(": ", 1)[-1] in verdict or "not judged" in words
            assert words in ring
            assert ring.startswith("In the ring: ")


def test_headline_by_hand():
    """A hand-made row: zone -20%, rest of city -14%, CI across 1, ring +28% not
    significant (the South example of the issue)."""
    import pandas as pd

    from impactzones.maps import zone_headline

    t = pd.DataFrame([dict(zone="South", crime="violent", zone_before=500, zone_after=400,
                           zone_pct_change=-20.0, control_before=1000, control_after=860,
                           control_pct_change=-14.0, relative_low=0.8, relative_high=1.05,
                           ring_before=100, ring_after=128, ring_pct_change=28.0,
                           ring_relative_p=0.2, wdq=-1.40,
                           wdq_reading="displacement larger than the reduction")])
    first, ring = zone_headline(t, "South")
    assert first == ("Violent crime fell 20% in the zone (500 to 400); the rest of the city "
                     "fell 14%: within chance.")
    # WDQ by hand: (128/860 - 100/1000) / (400/860 - 500/1000) = 0.0488 / -0.0349 = -1.40
    assert ring == ("In the ring: rose 28% (100 to 128), not beyond chance: against the rest "
                    "of the city, the 400 m ring rose more than the zone fell.")


def test_static_png_keeps_the_legend_off_the_map(demo_run):
    """The legend and scales sit below the map: the rows under the map axes hold them."""
    from PIL import Image

    img = np.asarray(Image.open(out_dir(demo_run) / "commander_north.png").convert("L"))
    h = img.shape[0]
    assert img.shape[1] >= 1000 and h >= 1000
    below = img[int(0.82 * h):int(0.95 * h)]
    assert (below < 200).mean() > 0.005  # something (legend text, colour bars) is drawn there


def test_a_city_elsewhere_gets_its_own_base(layers, tmp_path):
    """Away from St. Louis the bundled roads are left out; a user's line layer is drawn."""
    import geopandas as gpd
    from shapely import affinity
    from shapely.geometry import LineString

    from impactzones.core.geo import Layers
    from impactzones.maps.webmap import MapData, commander_map

    def moved(gdf):
        out = gdf.copy()
        out["geometry"] = [affinity.translate(g, 400_000, 0) for g in gdf.geometry]
        return out

    far = Layers(boundary=moved(layers.boundary), districts=moved(layers.districts),
                 neighborhoods=None, zones=moved(layers.zones))
    html = commander_map(MapData(layers=far, title="Elsewhere")).get_root().render()
    assert "I-70" not in html and "Mississippi River" not in html
    c = far.boundary.geometry.iloc[0].centroid
    streets = gpd.GeoDataFrame({"name": ["Main <St>"]},
                               geometry=[LineString([(c.x - 500, c.y), (c.x + 500, c.y)])],
                               crs=far.boundary.crs)
    html = commander_map(MapData(layers=far, title="Elsewhere", basemap=streets)).get_root().render()
    # the label is HTML-escaped, then JSON-encoded into the script
    assert "Main \\u0026lt;St\\u0026gt;" in html and "Main <St>" not in html


def test_analyst_map_carries_the_capture_curve_as_a_layer_off_at_first(demo_run):
    """The proposals' capture curve is on the analyst map (its own layer, off when the map
    opens, its table in the legend) with the figures of the demo's capture_table.csv, and
    on no commander map."""
    import pandas as pd

    from impactzones.maps.webmap import CAPTURE_LAYER

    out = out_dir(demo_run)
    html = (out / "analyst.html").read_text(encoding="utf-8")
    assert html.count(CAPTURE_LAYER) >= 2  # the layer control entry and its legend section
    table = pd.read_csv(out / "capture_table.csv")
    row = table[table["strategy"] == "proposals"].iloc[0]
    first = next(c for c in table.columns if c.startswith("capture_at_"))
    assert f"{row[first]:.1%}" in html
    for name in MAPS[:-1]:
        assert CAPTURE_LAYER not in (out / name).read_text(encoding="utf-8"), name


def test_commander_maps_draw_the_hot_spots_of_their_after_window(demo_run):
    """A map titled "2017 vs 2018" draws 2018's density, never the latest year's: each
    zone's KDE layer is labelled with (and computed for) its comparison's after window."""
    out = out_dir(demo_run)
    checked = 0
    for table in demo_run.comparisons.values():
        after = table.windows[1]
        for zone in set(table["zone"]) - {"Citywide"}:
            html = (out / f"commander_{zone.lower()}.html").read_text()
            labels = set(re.findall(r"density \(KDE, ([^)]*)\)", html))
            assert labels <= {after.label}, (zone, labels, after.label)
            checked += bool(labels)
    assert checked


def test_charts_start_where_the_exports_start():
    """Exports carry old incidents reported late: one a month for decades, a few hundred
    the month before the export begins. The charts start at the export's first month."""
    import pandas as pd

    from impactzones.maps.build import _first_full_month

    late = [pd.Timestamp(f"{y}-{m:02d}-15") for y in range(1994, 2016) for m in (1, 6)]
    months = pd.date_range("2016-10-01", "2019-12-01", freq="MS")
    counts = [60, 100, 255] + [3500] * (len(months) - 3)  # Oct-Dec 2016 reported late
    days = [t + pd.Timedelta(days=i % 28) for t, n in zip(months, counts, strict=True)
            for i in range(n)]
    occurred = pd.Series(late + days)
    assert _first_full_month(occurred) == pd.Timestamp("2017-01-01")
    steady = pd.Series(pd.date_range("2018-01-01", "2018-12-31", freq="D"))
    assert _first_full_month(steady) == pd.Timestamp("2018-01-01")


def test_emerging_layer_draws_and_names_exactly_the_patterns_present(layers, synth):
    """The web layer of emerging hot spots (web maps only) legends the patterns the
    result holds, and no others (it was not drawn by any other test)."""
    import folium

    from impactzones.hotspots import emerging
    from impactzones.maps.layers import PATTERN_COLOURS, _emerging_web
    from impactzones.maps.webmap import MapData

    inc = synth.incidents
    inc = inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == 2018)]
    result = emerging(inc, study_area=layers.study_area)
    present = set(result.to_geodataframe()["pattern"]) & set(PATTERN_COLOURS)
    assert present  # planted hot spots make some
    m = folium.Map()
    (legend,) = _emerging_web(m, result, MapData(layers, "t"), name="emerging", analyst=True)
    named = {p for p in PATTERN_COLOURS if f"</span>{p}</div>" in legend}
    assert named == present
    shapes = [c for c in m._children.values() if isinstance(c, folium.GeoJson)]
    assert [c.layer_name for c in shapes] == ["Emerging hot spots"]
    drawn = {f["properties"]["pattern"] for f in shapes[0].data["features"]}
    assert drawn == present

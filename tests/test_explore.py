"""The proposal page: embedded aggregates that add up, hostile names kept inert, and in real
Chromium the page's figures for a drawn zone against compare_zones and backtest."""

from __future__ import annotations

import base64
import json
import os
import re
import zlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from impactzones.core.geo import WGS84
from impactzones.core.schema import is_sensitive
from impactzones.evaluate.compare import compare_zones
from impactzones.maps.explore import explore_data, write_explore
from impactzones.propose import backtest, propose_zones

BEFORE, AFTER = "2018-01-01:2018-08-31", "2019-01-01:2019-08-31"


@pytest.fixture(scope="module")
def zone(synth, layers):
    north = layers.zones[layers.zones["name"] == "North"]
    p = propose_zones(synth.incidents, period=2018, k=1, exclude=north, layers=layers)
    return p.iloc[:1][["name", "geometry"]].assign(start=None)


@pytest.fixture(scope="module")
def page(synth, layers, zone, tmp_path_factory):
    out = tmp_path_factory.mktemp("explore") / "page.html"
    return write_explore(synth.incidents, layers, out, proposals=zone)


def test_embedded_counts_add_up_to_the_incidents(synth, layers):
    d = explore_data(synth.incidents, layers)
    counts = np.frombuffer(zlib.decompress(base64.b64decode(d["counts"])), "<u2")
    counts = counts.reshape(len(d["groups"]), len(d["months"]), d["grid"]["n"])
    inc = synth.incidents
    private = is_sensitive(inc)
    assert private.sum() > 100  # the synthetic data hold sensitive incidents to keep off
    inc = inc[~private]
    inside = inc[shapely.contains_xy(layers.land, inc.geometry.x, inc.geometry.y)]
    # cells whose centre is in the land hold about the incidents inside it (edges differ)
    assert counts.sum() == pytest.approx(len(inside), rel=0.01)
    v = inside[(inside["group"] == "violent") & (inside["occurred_at"].dt.year == 2019)]
    months = [m.startswith("2019") for m in d["months"]]
    assert counts[0][months].sum() == pytest.approx(len(v), rel=0.01)
    assert counts.sum() + d["outside"] + d["private"]["total"] == len(synth.incidents)


def _decoded(d):
    counts = np.frombuffer(zlib.decompress(base64.b64decode(d["counts"])), "<u2")
    return counts.reshape(len(d["groups"]), len(d["months"]), d["grid"]["n"])


def _cell_index(d):
    flat = np.cumsum(np.frombuffer(zlib.decompress(base64.b64decode(d["grid"]["cells"])), "<u4"))
    return {int(f): i for i, f in enumerate(flat)}


def test_sensitive_incidents_never_reach_the_grid(synth, layers):
    """Ground truth: the grid equals the non-sensitive incidents counted by hand per cell
    and month; a rape planted alone in an empty cell leaves that cell at zero; the
    withheld incidents appear only as district-year counts (1 to 4 suppressed) equal to
    a spatial join of the sensitive incidents with the districts."""
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year == 2019].copy()
    d0 = explore_data(inc, layers)
    g = d0["grid"]
    counts0, where = _decoded(d0), _cell_index(d0)
    empty = next(f for f, i in where.items() if counts0[:, :, i].sum() == 0 and f > 10_000)
    r, c = divmod(empty, g["width"])
    x, y = g["x0"] + (c + 0.5) * g["cell"], g["y0"] - (r + 0.5) * g["cell"]
    planted = inc.iloc[:1].copy()
    planted["category"], planted["group"] = "rape", "violent"
    planted["domestic"] = False
    planted["occurred_at"] = pd.Timestamp("2019-03-05")
    planted = planted.set_geometry(gpd.points_from_xy([x], [y], crs=inc.crs))
    d = explore_data(pd.concat([inc, planted], ignore_index=True), layers)
    counts = _decoded(d)
    assert counts[:, :, where[empty]].sum() == 0
    # the grid by hand: non-sensitive incidents per (group, month, cell)
    shown = inc[~is_sensitive(inc)]
    col = np.floor((shown.geometry.x - g["x0"]) / g["cell"]).astype(int)
    row = np.floor((g["y0"] - shown.geometry.y) / g["cell"]).astype(int)
    flat = row * g["width"] + col
    idx = flat.map(where)
    month = shown["occurred_at"].dt.strftime("%Y-%m").map({m: i for i, m in enumerate(d["months"])})
    grp = shown["group"].map({k: i for i, k in enumerate(d["groups"])})
    ok = idx.notna() & month.notna() & grp.notna()
    truth = np.zeros_like(counts, dtype=np.int64)
    np.add.at(truth, (grp[ok].astype(int), month[ok].astype(int), idx[ok].astype(int)), 1)
    assert np.array_equal(counts, truth)
    # the withheld incidents: district-year counts from a spatial join
    private = pd.concat([inc, planted], ignore_index=True)
    private = private[is_sensitive(private)]
    joined = gpd.sjoin(private, layers.districts[["district", "geometry"]], predicate="within")
    by = joined.groupby("district").size()
    p = d["private"]
    assert p["total"] == len(private) and p["years"] == [2019]
    for name, c2019 in p["rows"]:
        n = int(by.get(type(by.index[0])(name), 0)) if len(by) else 0
        assert c2019 == (n if n == 0 or n >= 5 else None), (name, c2019, n)
    assert "rape" not in json.dumps(d["counts"])


def test_page_is_small_offline_and_holds_no_points(page, synth):
    html = page.read_text(encoding="utf-8")
    assert page.stat().st_size < 3_000_000
    # nothing to fetch: no external script or stylesheet (Chromium below refuses the network)
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet", html)
    # no points at all: only polygons and the grid of counts
    data = json.loads(re.search(r"window\.IZ_DATA = (.*);\n", html).group(1))
    kinds = {f["geometry"]["type"] for k in ("boundary", "districts", "zones", "proposals")
             for f in data[k]["features"]}
    assert kinds <= {"Polygon", "MultiPolygon"}, kinds
    assert synth.incidents["incident_id"].iloc[0] not in html


def test_hostile_names_stay_data(synth, evil_layers, tmp_path):
    page = write_explore(synth.incidents[:5000], evil_layers, tmp_path / "p.html",
                         title="</script><script>window.__xss=9</script>")
    html = page.read_text(encoding="utf-8")
    assert "<img src=x" not in html and "</script><script>window.__xss" not in html
    assert "\\u003c/script\\u003e" in html


def _browser():
    from .browser import Browser, chromium_path

    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it")
        pytest.skip("Debian's chromium is not installed")
    pytest.importorskip("playwright.sync_api")
    return Browser()


def _edge_count(inc, geom, window, cell=100.0):
    """Incidents (violent, in the window) in the 100 m cells that the outline cuts."""
    from impactzones.core.grid import make_grid
    from impactzones.core.windows import parse_window, select

    v = select(inc, window=parse_window(window), group="violent")
    g = make_grid(geom.buffer(2 * cell), inc.crs, cell)
    boxes = g.polygons(*np.indices(g.shape).reshape(2, -1))
    cut = shapely.intersects(boxes, geom.boundary).reshape(g.shape)
    row, col, ok = g.cell_of(v.geometry.x.to_numpy(), v.geometry.y.to_numpy())
    return int(cut[row[ok], col[ok]].sum())


@pytest.mark.browser
def test_drawn_zone_figures_match_python(page, synth, layers, zone):
    geom = zone.geometry.iloc[0]
    latlngs = [[lat, lon] for lon, lat in
               gpd.GeoSeries([geom], crs=layers.crs).to_crs(WGS84).iloc[0].exterior.coords]
    got = {}

    def actions(p):
        p.wait_for_function("() => window.izExplore && (window.izExplore.ready || "
                            "window.izExplore.error)", timeout=20000)
        p.evaluate("ll => window.izExplore.setZone(ll)", latlngs)
        got["after"] = p.evaluate("ll => izExplore.count(ll, '2019-01', '2019-08', 'violent')",
                                  latlngs)
        got["before"] = p.evaluate("ll => izExplore.count(ll, '2018-01', '2018-08', 'violent')",
                                   latlngs)
        got["panel"] = p.evaluate("() => document.getElementById('iz-figures').textContent")
        got["geojson"] = p.evaluate("() => izExplore.geojson()")
        got["map"] = p.evaluate("() => window.izMap instanceof L.Map && "
                                "[izMap.getCenter().lng, izMap.getCenter().lat]")

    b = _browser()
    try:
        from .conftest import ARTIFACTS

        rep = b.open(page, ARTIFACTS / "explore.png", allow_network=False, actions=actions)
    finally:
        b.close()
    assert rep.ok, (rep.console_errors, rep.page_errors, rep.refused)
    # the page leaves the sensitive incidents out of its grid: so does the comparison
    shown = synth.incidents[~is_sensitive(synth.incidents)]
    table = compare_zones(shown, zone.assign(name="Drawn"), BEFORE, AFTER)
    row = table[(table["zone"] == "Drawn") & (table["crime"] == "violent")].iloc[0]
    for key, window, exact in (("before", BEFORE, row["zone_before"]),
                               ("after", AFTER, row["zone_after"])):
        edge = _edge_count(shown, geom, window)
        assert abs(got[key]["zone"] - exact) <= edge, (key, got[key], exact, edge)
    bt = backtest(zone, shown, period=AFTER, before=BEFORE, layers=layers, draws=2)
    exact_pai = bt.set_index("name").loc[zone["name"].iloc[0], "pai"]
    a = got["after"]
    page_pai = (a["zone"] / a["city"]) / (a["area_km2"] / (layers.land.area / 1e6))
    assert page_pai == pytest.approx(exact_pai, rel=0.05)
    assert "PAI" in got["panel"] and "km²" in got["panel"]
    # the export reads back as the same zone, ready for compare --zones / propose --exclude
    back = gpd.GeoDataFrame.from_features(got["geojson"]["features"], crs=WGS84)
    assert back["name"].iloc[0] == "Drawn zone"
    assert back.to_crs(layers.crs).geometry.iloc[0].symmetric_difference(geom).area < 1e-3 * geom.area
    json.dumps(got["geojson"])
    # the page's map is on window (for checkers), centred on the study area
    x0, y0, x1, y1 = gpd.GeoSeries([layers.land], crs=layers.crs).to_crs(WGS84).total_bounds
    assert got["map"] and x0 < got["map"][0] < x1 and y0 < got["map"][1] < y1


@pytest.mark.slow
def test_page_stays_under_3_mb_for_a_million_incidents(layers, tmp_path):
    from impactzones.datasets.synth import synthesize

    inc = synthesize(seed=7, scale=6).incidents
    assert len(inc) > 900_000
    page = write_explore(inc, layers, tmp_path / "big.html")
    assert page.stat().st_size < 3_000_000


def test_same_inputs_give_the_same_page(synth, layers, zone, tmp_path):
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year >= 2018]
    a = write_explore(inc, layers, tmp_path / "a.html", proposals=zone).read_bytes()
    b = write_explore(inc, layers, tmp_path / "b.html", proposals=zone).read_bytes()
    assert a == b


def test_a_name_like_a_placeholder_stays_data(synth, layers, tmp_path):
    """A zone named as the page's own placeholders is embedded as that text: the page is
    filled in one pass, so no user string is searched again for a placeholder."""
    import json

    from impactzones.core.geo import Layers

    zones = layers.zones.copy()
    names = ["/*TITLE*/null", "/*DATA*/null", "/*APP_JS*/"]
    zones["name"] = names[: len(zones)]
    evil = Layers(boundary=layers.boundary, districts=layers.districts,
                  neighborhoods=layers.neighborhoods, zones=zones)  # fmt: skip
    page = write_explore(synth.incidents[:5000], evil, tmp_path / "p.html", title="/*DATA*/null")
    html = page.read_text(encoding="utf-8")
    data = json.loads(re.search(r"window\.IZ_DATA = (.*?);\n", html).group(1))
    title = json.loads(re.search(r"window\.IZ_TITLE = (.*?);\n", html).group(1))
    assert [f["properties"]["name"] for f in data["zones"]["features"]] == names[: len(zones)]
    assert title == "/*DATA*/null"

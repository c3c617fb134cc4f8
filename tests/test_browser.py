"""The demo's maps in a real browser (headless Debian Chromium, no network).

These run in CI (``.ci/run`` installs Chromium); on a machine without it they skip, unless
``CI`` is set, where a missing browser is a failure.
"""

from __future__ import annotations

import os

import pytest

from .browser import Browser, chromium_path
from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser
ZONE_COLOUR = "#7b1fa2"


@pytest.fixture(scope="module")
def browser():
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it")
        pytest.skip("Debian's chromium is not installed")
    pytest.importorskip("playwright.sync_api")
    pytest.importorskip("xstatic.pkg.leaflet")
    b = Browser()
    yield b
    b.close()


@pytest.mark.parametrize("name", ["commander_north", "commander_central", "commander_south",
                                  "citywide", "analyst"])
def test_demo_map_renders(browser, demo_run, name):
    out = demo_run.files[0].parent
    rep = browser.open(out / f"{name}.html", ARTIFACTS / f"{name}.png")
    assert rep.ok, (rep.console_errors, rep.page_errors, rep.refused)
    assert rep.probe["leaflet"] == "1.9.3"
    names = [c["name"] for c in rep.probe["control"]]
    for layer in ("Light base map", "Street map", "No base map", "Patrol districts",
                  "Impact Zones", "Displacement rings (400 m)", "DBSCAN clusters",
                  "Gi* hot and cold spots (FDR-corrected)"):
        assert layer in names, (layer, names)
    assert any(n.startswith("Violent crime density (KDE") for n in names)
    assert any(n.startswith("Change in violent crime") for n in names)
    if name == "analyst":
        assert "Gi* grid (z, p, counts)" in names
    # the three zones and their rings are drawn
    assert rep.probe["paths"].count(ZONE_COLOUR) >= 6
    assert rep.tiles > 0  # the light base map asked for tiles
    assert "Data: synthetic" in rep.probe["title"]
    assert "Gi* hot and cold spots" in rep.probe["legend"]


def test_kde_raster_is_drawn_on_the_citywide_map(browser, demo_run):
    out = demo_run.files[0].parent
    rep = browser.open(out / "citywide.html", ARTIFACTS / "citywide_kde.png")
    assert rep.probe["images"] and all(i["complete"] and i["width"] > 0
                                       for i in rep.probe["images"])


def test_headline_of_the_north_zone(browser, demo_run):
    out = demo_run.files[0].parent
    rep = browser.open(out / "commander_north.html")
    assert "Violent crime -20.0% (740 to 592" in rep.probe["title"]


def test_popup_with_trend_chart_opens(browser, demo_run):
    out = demo_run.files[0].parent

    def click_zone(page):
        page.evaluate("""() => { for (const k in window) { const v = window[k];
            if (v && v.getPopup && v.getPopup() && v.getPopup().getContent &&
                String(v.getPopup().getContent()).includes('Impact Zone: North')) {
              const b = v.getBounds(); v.openPopup(b.getCenter()); return; } } }""")

    rep = browser.open(out / "commander_north.html", ARTIFACTS / "north_popup.png",
                       actions=click_zone)
    assert rep.ok


def test_self_contained_map_opens_with_no_network(browser, demo_run, tmp_path):
    from impactzones.maps import build_maps

    d = demo_run
    build_maps(d.incidents, d.layers, tmp_path, comparisons=d.comparisons, hotspots=d.hotspots,
               source="synthetic", self_contained=True, static=False)
    rep = browser.open(tmp_path / "commander_north.html", ARTIFACTS / "offline_north.png",
                       allow_network=False)
    assert rep.ok, (rep.console_errors, rep.refused)
    assert rep.refused == [] and rep.tiles == 0
    assert "Neighborhoods" in [c["name"] for c in rep.probe["control"]]


def test_hostile_strings_show_as_text(browser, evil_layers, synth, tmp_path):
    from impactzones.assign import assign
    from impactzones.compare import compare_zones
    from impactzones.maps import build_maps

    inc = assign(synth.incidents, evil_layers)
    table = compare_zones(inc, evil_layers.zones.iloc[:1], 2017, 2018,
                          study_area=evil_layers.study_area)
    build_maps(inc, evil_layers, tmp_path, comparisons={"x": table}, hotspots={},
               source="<script>window.__xss=5</script>", static=False)
    (html,) = [p for p in tmp_path.glob("commander_*.html")]

    def hover_everything(page):
        page.evaluate("""() => { for (const k in window) { const v = window[k];
            if (v && v.openPopup && v.getPopup && v.getPopup()) {
              try { v.openPopup(v.getBounds().getCenter()); } catch (e) {} } } }""")

    rep = browser.open(html, ARTIFACTS / "escaping.png", actions=hover_everything)
    assert rep.ok, (rep.console_errors, rep.page_errors)
    assert rep.dialogs == []
    assert rep.probe["xss"] == 0 and rep.probe["unsafe_imgs"] == 0
    assert "<img src=x onerror=window.__xss=1;alert(1)>" in rep.probe["title"]
    assert "<script>window.__xss=5</script>" in rep.probe["title"]

"""The demo's maps in a real browser (headless Debian Chromium) with every network request
refused: the maps must carry everything they need.

These run in CI (``.ci/run`` installs Chromium); on a machine without it they skip, unless
``CI`` is set, where a missing browser is a failure.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from .browser import Browser, chromium_path
from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser
ZONE_COLOUR = "#7b1fa2"
#: phone, tablet both ways, laptop, desktop (CSS pixels)
VIEWPORTS = [(390, 844), (768, 1024), (1024, 768), (1366, 768), (1920, 1080)]
DENSITY = "Violent crime density"
SIZES = pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
#: every map of the demo: the commander maps, the citywide, analyst and CompStat maps
MAPS = ["commander_north", "commander_south", "commander_central", "citywide", "analyst",
        "compstat_hotspots"]


@pytest.fixture(scope="module")
def browser():
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it")
        pytest.skip("Debian's chromium is not installed")
    pytest.importorskip("playwright.sync_api")
    b = Browser()
    yield b
    b.close()


def _out(demo_run):
    return demo_run.files[0].parent


def _overlaps(a, b) -> bool:
    return a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"] and b["t"] < a["b"]


def _toggle(*names):
    """Click the layer-control boxes whose label starts with one of ``names``."""
    def act(page):
        page.evaluate("""(names) => {
          document.querySelectorAll('.leaflet-control-layers label').forEach(l => {
            const t = l.textContent.trim();
            if (names.some(n => t.startsWith(n))) { l.querySelector('input').click(); } });
        }""", list(names))
    return act


def _row(demo_run, zone):
    for table in demo_run.comparisons.values():
        r = table[(table["zone"] == zone) & (table["crime"] == "violent")]
        if len(r):
            return r.iloc[0]
    raise KeyError(zone)


@SIZES
@pytest.mark.parametrize("name", MAPS)
def test_map_opens_offline_and_fits_every_screen(browser, demo_run, name, size):
    w, h = size
    rep = browser.open(_out(demo_run) / f"{name}.html", ARTIFACTS / f"{name}_{w}x{h}.png",
                       width=w, height=h)
    assert rep.ok, (rep.console_errors, rep.page_errors, rep.refused)
    assert rep.refused == [] and rep.tiles == 0
    assert rep.probe["leaflet"] == "1.9.3"
    c = rep.probe["container"]
    assert (c["r"] - c["l"], c["b"] - c["t"]) == (w, h)
    # no control covers another, and each lies on the screen
    ctls = rep.probe["controls"]
    for i, a in enumerate(ctls):
        assert 0 <= a["l"] and a["r"] <= w and 0 <= a["t"], (a, w)
        for b in ctls[i + 1:]:
            assert not _overlaps(a, b), (a, b)
    if name.startswith("commander"):
        # the zone and its ring are drawn, inside the map, clear of every control
        assert len(rep.probe["zone"]) == 2
        for box in rep.probe["zone"]:
            assert c["l"] <= box["l"] and box["r"] <= c["r"], (box, c)
            assert c["t"] <= box["t"] and box["b"] <= c["b"], (box, c)
            for ctl in rep.probe["controls"]:
                assert not _overlaps(box, ctl), (box, ctl)
            # and not a speck: the ring spans a good part of the free screen
        ring = max(rep.probe["zone"], key=lambda b: b["r"] - b["l"])
        assert (ring["r"] - ring["l"]) > 0.25 * w or (ring["b"] - ring["t"]) > 0.25 * h
    # small screens: the layer control and the legend start collapsed
    small = w < 700
    expanded = [x for x in rep.probe["controls"] if "leaflet-control-layers-expanded" in x["cls"]]
    assert bool(expanded) != small


@pytest.mark.parametrize("name", ["commander_central", "analyst"])
def test_analyst_and_commander_maps_differ(browser, demo_run, name):
    rep = browser.open(_out(demo_run) / f"{name}.html", ARTIFACTS / f"{name}.png",
                       width=1366, height=768)
    assert rep.ok, (rep.console_errors, rep.page_errors, rep.refused)
    names = [c["name"] for c in rep.probe["control"]]
    if name == "analyst":
        for layer in ("Gi* hot and cold spots (FDR-corrected)", "Gi* grid (z, p, counts)",
                      "DBSCAN clusters", "Proposed zones"):
            assert layer in names, (layer, names)
    else:
        assert "Gi* grid (z, p, counts)" not in names and "DBSCAN clusters" not in names


@SIZES
def test_headline_answers_the_question(browser, demo_run, size):
    """Zone, rest-of-city and ring figures and the verdict's words, from the table."""
    w, h = size
    for zone in ("North", "South", "Central"):
        rep = browser.open(_out(demo_run) / f"commander_{zone.lower()}.html", width=w,
                           height=h)
        title = rep.probe["title"]
        r = _row(demo_run, zone)
        assert f"({r['zone_before']:,} to {r['zone_after']:,})" in title
        assert f"({int(r['ring_before']):,} to {int(r['ring_after']):,})" in title
        assert f"the rest of the city {'fell' if r['control_pct_change'] < 0 else 'rose'} " \
               f"{abs(r['control_pct_change']):.0f}%" in title
        # the 95% interval of zone vs rest of city decides the words
        if r["relative_low"] <= 1 <= r["relative_high"]:
            assert "within chance" in title
        else:
            assert "than the rest of the city" in title
        reading = r["wdq_reading"]
        if reading.startswith("no reduction"):
            assert "In the ring:" in title and "not judged" in title
        elif r["ring_relative_p"] >= 0.05 or reading == "no effect on the ring":
            assert "not beyond chance" in title
        else:
            assert "beyond chance:" in title and "not beyond chance" not in title
        assert "zone began" in title  # the trend chart is in the title block


@SIZES
def test_density_is_visible(browser, demo_run, tmp_path, size):
    """Hiding the density layer changes the pixels inside the zone."""
    from PIL import Image

    w, h = size
    f = _out(demo_run) / "commander_north.html"
    on = browser.open(f, tmp_path / "on.png", width=w, height=h)
    browser.open(f, tmp_path / "off.png", width=w, height=h, actions=_toggle(DENSITY))
    z = on.probe["zone"][0]
    crop = (int(z["l"]), int(z["t"]), int(z["r"]), int(z["b"]))
    a = np.asarray(Image.open(tmp_path / "on.png").convert("RGB").crop(crop), dtype=int)
    b = np.asarray(Image.open(tmp_path / "off.png").convert("RGB").crop(crop), dtype=int)
    changed = (np.abs(a - b).sum(axis=2) > 30).mean()
    assert changed > 0.2, changed


@SIZES
def test_legend_follows_the_layer_control(browser, demo_run, size):
    w, h = size
    f = _out(demo_run) / "citywide.html"
    before = browser.open(f, width=w, height=h).probe["legend_visible"]
    assert any(DENSITY in s for s in before) and any("Neighborhood" in s for s in before)
    after = browser.open(f, width=w, height=h,
                         actions=_toggle(DENSITY, "Neighborhoods")).probe["legend_visible"]
    assert not any(DENSITY in s for s in after)
    assert not any("Neighborhood" in s for s in after)
    assert any("Impact Zone" in s for s in after)


def test_online_tiles_load_over_the_offline_base(browser, demo_run, tmp_path):
    from impactzones.maps import build_maps

    d = demo_run
    build_maps(d.incidents, d.layers, tmp_path, comparisons=d.comparisons, hotspots=d.hotspots,
               source="synthetic", online_tiles=True, static=False, brief=False)
    f = tmp_path / "commander_north.html"
    rep = browser.open(f, ARTIFACTS / "online_north.png", allow_network=True)
    assert rep.ok and rep.tiles > 0
    names = [c["name"] for c in rep.probe["control"]]
    assert "Light base map (online)" in names and "Offline base only" in names
    # a tile server that fails: the map still works on its offline base
    rep = browser.open(f, ARTIFACTS / "online_refused_north.png")
    assert rep.probe["leaflet"] and not rep.page_errors
    assert rep.refused and all("/" in u for u in rep.refused)
    assert len(rep.probe["zone"]) == 2


def test_popup_with_trend_chart_opens(browser, demo_run):
    def click_zone(page):
        page.evaluate("""() => { for (const k in window) { const v = window[k];
            if (v && v.getPopup && v.getPopup() && v.getPopup().getContent &&
                String(v.getPopup().getContent()).includes('Impact Zone: North')) {
              const b = v.getBounds(); v.openPopup(b.getCenter()); return; } } }""")

    rep = browser.open(_out(demo_run) / "commander_north.html", ARTIFACTS / "north_popup.png",
                       actions=click_zone)
    assert rep.ok


def test_hostile_strings_show_as_text(browser, evil_layers, synth, tmp_path):
    from impactzones.assign import assign
    from impactzones.evaluate.compare import compare_zones
    from impactzones.maps import build_maps

    inc = assign(synth.incidents, evil_layers)
    table = compare_zones(inc, evil_layers.zones.iloc[:1], 2017, 2018,
                          study_area=evil_layers.study_area)
    build_maps(inc, evil_layers, tmp_path, comparisons={"x": table}, hotspots={},
               source="<script>window.__xss=5</script>", static=False, brief=False)
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


def test_index_fits_a_phone_whatever_the_zone_names(browser, tmp_path):
    """A zone named by a 300-letter word (user data) wraps on a 390 px phone instead of
    widening the index page past the screen (the browser's own layout is the truth)."""
    from impactzones.maps.webmap import write_index

    page_file = write_index([("L" * 300 + " Impact Zone", "z.html", "M" * 200)],
                            tmp_path / "index.html")  # fmt: skip
    page = browser._browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.close()

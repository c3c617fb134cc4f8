"""Property-based: arbitrary names (every JS and HTML metacharacter included) in zones,
districts, neighborhoods and proposals never run as script in a real browser.

Each example builds every map (commander per zone, citywide, analyst), opens each in headless
Chromium, hovers and clicks every shape, and fails on any dialog, page error or console error.
Runs in CI (``.ci/run`` installs Chromium); skipped locally without it, failed in CI without it.
"""

from __future__ import annotations

import os

import pytest

from .browser import Browser, chromium_path

pytestmark = pytest.mark.browser
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

META = [*"<>&'\"`${}()\\/;=!*#%-+:[]|\u2028\u2029", "</script>", "${", "`;", "-->", "<!--",
        "javascript:", "\\u0060"]
NAME = st.lists(
    st.sampled_from(META) | st.text(st.characters(blacklist_categories=("Cs", "Cc")),
                                    min_size=1, max_size=3),
    min_size=1, max_size=8,
).map("".join).filter(lambda s: s.strip() and s.strip() != "Citywide")

ATTACKS = ["${alert(3)}", "`", "</script><script>alert(1)</script>",
           "<img src=x onerror=alert(2)>", "\u2028'\"`${window.__xss=1}"]

HOVER_AND_CLICK = """() => {
  let n = 0;
  const seen = new Set();
  const visit = (layer) => {
    if (!layer || seen.has(layer)) return; seen.add(layer);
    if (layer.eachLayer) { try { layer.eachLayer(visit); } catch (e) {} }
    if (layer.fire) { try { layer.fire('mouseover', {latlng: layer.getBounds ?
        layer.getBounds().getCenter() : layer.getLatLng()}); layer.fire('click', {latlng:
        layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng()}); n++; }
        catch (e) {} }
    if (layer.openTooltip && layer.getTooltip && layer.getTooltip()) {
      try { layer.openTooltip(); } catch (e) {} }
    if (layer.openPopup && layer.getPopup && layer.getPopup()) {
      try { layer.openPopup(); } catch (e) {} }
  };
  for (const k of Object.keys(window)) {
    const v = window[k];
    if (v && v._leaflet_id !== undefined && v.eachLayer && !v.getContainer) visit(v);
  }
  // every layer in the control switched on, so hidden layers are drawn too
  document.querySelectorAll('.leaflet-control-layers-overlays input').forEach(i => {
    if (!i.checked) i.click(); });
  for (const k of Object.keys(window)) {
    const v = window[k];
    if (v && v._leaflet_id !== undefined && v.eachLayer && !v.getContainer) visit(v);
  }
  window.__visited = n;
}"""


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


@pytest.fixture(scope="module")
def small(layers):
    """Two years of synthetic incidents, assigned once (names are swapped per example)."""
    from impactzones.assign import assign
    from impactzones.datasets.synth import synthesize

    inc = synthesize(seed=3, years=[2017, 2018], scale=0.2).incidents
    return assign(inc, layers)


def _hostile(layers, small, zone_a, zone_b, district, hood, desc):
    import geopandas as gpd

    from impactzones.core.geo import Layers

    zones = layers.zones.iloc[:2].copy()
    zones["name"] = [zone_a, zone_b]
    zones["description"] = [desc, desc[::-1]]
    d = layers.districts.copy()
    d.loc[d.index[0], "name"] = district
    nb = layers.neighborhoods.copy()
    nb.loc[nb.index[0], "name"] = hood
    evil = Layers(boundary=layers.boundary, districts=d, neighborhoods=nb, zones=zones)
    inc = small.copy()
    rename = dict(zip(layers.zones["name"].iloc[:2], [zone_a, zone_b], strict=True))
    inc["zone"] = inc["zone"].map(rename).fillna("")
    props = gpd.GeoDataFrame(
        {"name": [hood, zone_b], "area_km2": [1.0, 2.0], "pai": [3.0, 4.0],
         "summary": [desc, district]},
        geometry=list(layers.zones.geometry.iloc[1:3].buffer(300)), crs=layers.zones.crs)
    return evil, inc, props


@settings(max_examples=int(os.environ.get("IZ_XSS_EXAMPLES", "4")), deadline=None,
          suppress_health_check=list(HealthCheck), derandomize=True)
@example(zone_a=ATTACKS[0], zone_b=ATTACKS[1], district=ATTACKS[2], hood=ATTACKS[3],
         desc=ATTACKS[4])
@given(zone_a=NAME, zone_b=NAME, district=NAME, hood=NAME, desc=NAME)
def test_no_name_runs_as_script(browser, layers, small, tmp_path_factory, zone_a, zone_b,
                                district, hood, desc):
    from hypothesis import assume

    from impactzones.evaluate.compare import compare_zones
    from impactzones.maps import build_maps

    assume(zone_a != zone_b)
    evil, inc, props = _hostile(layers, small, zone_a, zone_b, district, hood, desc)
    table = compare_zones(inc, evil.zones, 2017, 2018, study_area=evil.study_area,
                          crimes=["violent"])
    out = tmp_path_factory.mktemp("xss")
    files = build_maps(inc, evil, out, comparisons={"x": table}, hotspots={},
                       proposals=props, source=desc, static=False)
    pages = [f for f in files if f.suffix == ".html" and f.name != "index.html"]
    assert len(pages) == 4, [f.name for f in files]  # two commanders, citywide, analyst
    for page in pages:
        rep = browser.open(page, actions=lambda p: p.evaluate(HOVER_AND_CLICK))
        assert rep.dialogs == [], (page.name, rep.dialogs)
        assert rep.page_errors == [], (page.name, rep.page_errors)
        assert rep.console_errors == [], (page.name, rep.console_errors)
        assert rep.probe["xss"] == 0 and rep.probe["unsafe_imgs"] == 0
        assert rep.probe["maps"] == 1
        if page.name.startswith("commander_"):
            # the name shows as the very text it is (one name may be part of the other,
            # e.g. "!" inside "<!--", so look for either as the title's own text)
            title = rep.probe["title"]
            assert any(f"{z} Impact Zone" in title for z in (zone_a, zone_b)), title

"""How the web maps are put together: page text taken as text (never run as a template),
layers drawn once per build and where the shapes say they are."""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import pickle

import geopandas as gpd
import jinja2
import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from impactzones.core.geo import WGS84

# text of every kind a page holds: braces, percent and hash signs, line breaks of each kind
PAGE_TEXT = st.text(alphabet=st.sampled_from(list("ab {}%#\n\r\t<>\"'$`\\é")), max_size=60)


@given(PAGE_TEXT.filter(lambda t: not any(m in t for m in ("{{", "{%", "{#"))))
def test_text_without_template_syntax_comes_out_as_jinja_gives_it(text):
    """The page is the same as before: where Jinja found no syntax, its output (the
    reference) is what the literal element gives (line breaks made \\n, the last dropped)."""
    from impactzones.maps._templates import _Literal

    assert _Literal(text).render(this=None, kwargs={}) == jinja2.Template(text).render()


def test_template_syntax_in_a_name_is_shown_not_run(layers, tmp_path):
    """A zone or neighborhood named like a template is text on the page; Jinja used to run
    it (``{{ 7*7 }}`` became 49: a way to run code on the analyst's machine)."""
    import branca.element

    from impactzones.maps.webmap import MapData, commander_map, save_map

    zones = layers.zones.copy()
    zones.loc[0, "name"] = "{{ 1234*1000 }}"
    nb = layers.neighborhoods.copy()
    nb.loc[0, "name"] = "{% for x in [1, 2] %}Nxq{{ x }}{% endfor %}{# c #}"
    evil = dataclasses.replace(layers, zones=zones, neighborhoods=nb)
    page = save_map(
        commander_map(MapData(layers=evil, title="{{ 4321*1000 }}")), tmp_path / "m.html"
    )
    text = page.read_text()
    assert "{{ 1234*1000 }}" in text and "{{ 4321*1000 }}" in text
    assert "{% for x in [1, 2] %}Nxq{{ x }}{% endfor %}{# c #}" in text
    assert "Nxq1Nxq2" not in text and "1234000" not in text and "4321000" not in text
    # the library's own names are back once the page is written
    assert branca.element.Template is jinja2.Template


def _geojson_layers(m) -> list:
    import folium

    out = []

    def walk(el):
        for child in el._children.values():
            if isinstance(child, folium.GeoJson):
                out.append(child)
            walk(child)

    walk(m)
    return out


def test_districts_on_the_map_lie_on_the_districts(layers):
    """Each district's outline on the map (parsed back from the map's GeoJSON) is within
    the screen simplification (8 m) and the rounding (~1 m) of the district polygon, and
    its bbox is the outline's own bounds."""
    from impactzones.maps.webmap import MapCache, MapData, commander_map

    m = commander_map(MapData(layers=layers, title="t", cache=MapCache()))
    names = set(layers.districts["name"].astype(str))
    drawn = {}
    for layer in _geojson_layers(m):
        feats = layer.data["features"]
        if len(feats) == 1 and str(feats[0]["properties"].get("name")) in names:
            drawn[feats[0]["properties"]["name"]] = feats[0]
    assert set(drawn) == names
    crs = layers.districts.crs
    for name, geom in zip(
        layers.districts["name"].astype(str), layers.districts.geometry, strict=True
    ):
        shape = shapely.geometry.shape(drawn[name]["geometry"])
        back = gpd.GeoSeries([shape], crs=WGS84).to_crs(crs).iloc[0]  # in metres
        assert back.hausdorff_distance(geom) < 10.0
        assert np.allclose(drawn[name]["bbox"], shape.bounds)


def test_maps_sharing_a_cache_are_the_maps_drawn_alone(layers, synth, tmp_path):
    """Maps of one build share each layer's GeoJSON and the density picture: each page is
    the page the same map gives drawn on its own."""
    from impactzones.assign import assign
    from impactzones.core.windows import Window
    from impactzones.hotspots import kde
    from impactzones.maps.build import change_by_neighborhood
    from impactzones.maps.webmap import MapCache, MapData, commander_map, save_map

    inc = assign(synth.incidents[synth.incidents["occurred_at"].dt.year >= 2017], layers)
    results = {"kde": kde(inc[inc["occurred_at"].dt.year == 2018], cell_size=200,
                          study_area=layers.study_area)}  # fmt: skip
    change = change_by_neighborhood(inc, layers, Window.year(2017), Window.year(2018))
    cache = MapCache()
    pages = {}
    for zone in (None, "North", "South"):
        for shared in (cache, None):
            data = MapData(layers=layers, title=f"map {zone}", zone=zone, results=results,
                           change=change, cache=shared)  # fmt: skip
            path = tmp_path / f"{zone}_{shared is None}.html"
            pages[zone, shared is None] = save_map(commander_map(data), path).read_bytes()
    assert len(cache) >= 7  # the base, districts, zones, rings, change and density, once
    for zone in (None, "North", "South"):
        assert pages[zone, False] == pages[zone, True]


@pytest.mark.parametrize("nested", [False, True])
def test_literal_elements_puts_the_library_back(nested):
    import branca.element
    import folium.features

    from impactzones.maps._templates import literal_elements

    before = (branca.element.Template, folium.features.Template)
    with literal_elements():
        if nested:
            with literal_elements():
                pass
            assert branca.element.Template is not before[0]
    assert (branca.element.Template, folium.features.Template) == before


def test_layer_geojson_is_what_geopandas_gives():
    """The bulk GeoJSON (GEOS writes the shapes) holds the values of geopandas' own
    ``__geo_interface__`` through JSON (what folium embeds for a GeoDataFrame): ids,
    properties with missing values as null, each feature's bbox and the collection's."""
    import json

    from shapely.geometry import MultiPolygon, Point, box

    from impactzones.maps.webmap import _geojson

    shapes = [
        box(-90.3, 38.5, -90.2, 38.6),
        MultiPolygon([box(-90.1, 38.61, -90.05, 38.65), box(-90.0, 38.7, -89.99, 38.71)]),
        box(-90.25, 38.55, -90.24, 38.56).difference(box(-90.248, 38.552, -90.246, 38.554)),
        Point(-90.123456789, 38.987654321),
    ]
    g = gpd.GeoDataFrame(
        {
            "count": [3, 0, 7, 1],
            "z": [1.25, float("nan"), -2.5, 0.1],
            "name": ["a", None, "c &amp; d", "é"],
            "flag": [True, False, True, False],
        },
        geometry=shapes,
        crs=WGS84,
        index=[10, 11, 12, 13],
    )
    expected = json.loads(json.dumps(g.__geo_interface__))
    assert json.dumps(_geojson(g), sort_keys=True) == json.dumps(expected, sort_keys=True)


def _stable_ids_by_regex(page: str) -> str:
    """The rule written as a regular expression (the reference): every run of exactly 32
    lowercase hex digits, numbered in order of first appearance."""
    import re

    seen: dict[str, str] = {}

    def sub(match):
        return seen.setdefault(match.group(0), f"{len(seen):032x}")

    return re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", sub, page)


_ID = st.text(alphabet="0123456789abcdef", min_size=30, max_size=34)
_GAP = st.text(alphabet=st.sampled_from(list("_ ;\"'gA9fé€\n")), max_size=4)


@given(st.lists(st.tuples(_GAP, st.sampled_from(["", "x"]), _ID), max_size=12), _GAP)
def test_stable_ids_renumber_exactly_the_32_digit_runs(pieces, tail):
    from impactzones.maps.webmap import stable_ids

    ids = sorted({i for _, _, i in pieces})  # ids repeat, so some are seen again
    page = "".join(g + sep + (ids[len(i) % len(ids)] if ids else i) for g, sep, i in pieces) + tail
    assert stable_ids(page) == _stable_ids_by_regex(page)


def test_a_map_handed_to_the_picture_worker_leaves_the_cache_behind(layers):
    """MapData is pickled for the picture worker: the cache goes as an empty one."""
    import pickle

    from impactzones.maps.webmap import MapCache, MapData, commander_map

    data = MapData(layers=layers, title="t", cache=MapCache())
    commander_map(data)
    assert len(data.cache) > 5
    back = pickle.loads(pickle.dumps(data))
    assert isinstance(back.cache, MapCache) and len(back.cache) == 0
    assert len(pickle.dumps(data)) < len(pickle.dumps(MapData(layers=layers, title="t"))) + 200


def test_literal_elements_leaves_other_threads_their_templates():
    """While one thread writes a page, another building branca Elements meanwhile gets
    Jinja as ever (a ``Div``'s own text is a template: taken literally, it draws nothing)."""
    import threading

    from branca.element import Div, Element

    from impactzones.maps._templates import literal_elements

    got = {}

    def other():
        div = Div()
        div.add_child(Element("<p>x</p>"))
        got["element"] = Element("{{ 7*7 }}").render()
        got["div"] = div.html._template.render(this=div, kwargs={})

    with literal_elements():
        t = threading.Thread(target=other)
        t.start()
        t.join()
        got["here"] = Element("{{ 7*7 }}").render()
    assert got["element"] == "49" and got["here"] == "{{ 7*7 }}"
    assert "<p>x</p>" in got["div"]


def test_a_shared_cache_keys_the_rings_by_the_boundary_too(layers, tmp_path):
    """Two maps sharing a cache and the zones, but not the boundary the rings are cut to:
    each map's rings are its own (the same page as drawn alone), not the first map's."""
    from shapely.geometry import box

    from impactzones.maps.webmap import MapCache, MapData, commander_map, save_map

    x0, y0, x1, y1 = layers.boundary.total_bounds
    cut = layers.boundary.clip(box(x0, y0, x1, (y0 + y1) / 2))  # the southern half
    small = dataclasses.replace(layers, boundary=cut)
    cache = MapCache()
    pages = {}
    for name, lay in (("whole", layers), ("small", small)):
        for shared in (cache, None):
            data = MapData(layers=lay, title="t", ring=400.0, cache=shared)
            pages[name, shared is None] = save_map(
                commander_map(data), tmp_path / f"{name}_{shared is None}.html"
            ).read_bytes()
    assert pages["small", False] == pages["small", True]
    assert pages["whole", False] == pages["whole", True]


def test_a_shared_cache_holds_the_basemap_it_drew(layers):
    """The offline base is found by the basemap's identity: the cache keeps the basemap
    alive, so no later basemap can take its ``id`` and be drawn as the old one."""
    import gc
    import weakref

    from shapely.geometry import LineString

    from impactzones.maps.webmap import MapCache, MapData, commander_map

    x0, y0, x1, y1 = layers.boundary.total_bounds
    road = gpd.GeoDataFrame({"name": ["Old Rd"]}, geometry=[LineString([(x0, y0), (x1, y1)])],
                            crs=layers.crs)  # fmt: skip
    cache = MapCache()
    commander_map(MapData(layers=layers, title="t", basemap=road, cache=cache))
    alive = weakref.ref(road)
    del road
    gc.collect()
    assert alive() is not None


TEMPLATE_TEXTS = [
    "{{ 6 * 7 }} {{ name|upper }}",
    "{% macro script(this) %}var {{ this.n }} = {{ this.data|tojson }};{% endmacro %}"
    "{{ script(this) }}",
    "{% for k, v in items.items() %}{{ k }}={{ v }};{% endfor %}{# gone #}",
]
TEMPLATE_ARGS = {"name": "ok", "this": {"n": "x", "data": {"a": [1, "<b>"]}},
                 "items": {"p": 1, "q": "r"}}  # fmt: skip


def _own_cache(monkeypatch, folder):
    """jinja2's bytecode cache in ``folder`` (the block uses jinja2's default folder)."""
    made = jinja2.FileSystemBytecodeCache
    monkeypatch.setattr(jinja2, "FileSystemBytecodeCache", lambda: made(str(folder)))


def test_templates_compiled_once_render_as_jinja_compiles_them(monkeypatch, tmp_path):
    """Inside the block a text is compiled by jinja2 once, then loaded from jinja2's cache
    (a second process would find it there): each template renders what jinja2's own
    compile gives, and ``Environment.compile`` is jinja2's again after the block."""
    from impactzones.maps._templates import templates_compiled_once

    _own_cache(monkeypatch, tmp_path)
    truth = [jinja2.Template(t).render(**TEMPLATE_ARGS) for t in TEMPLATE_TEXTS]
    compile_text = jinja2.Environment.compile
    with templates_compiled_once():
        first = [jinja2.Template(t).render(**TEMPLATE_ARGS) for t in TEMPLATE_TEXTS]
    assert len(list(tmp_path.iterdir())) == len(TEMPLATE_TEXTS)

    def no_compiling(*_a, **_k):
        raise AssertionError("compiled again")

    monkeypatch.setattr(jinja2.Environment, "_generate", no_compiling)
    with templates_compiled_once():
        again = [jinja2.Template(t).render(**TEMPLATE_ARGS) for t in TEMPLATE_TEXTS]
    assert first == again == truth
    assert jinja2.Environment.compile is compile_text


def test_templates_compiled_once_keep_each_syntax_apart(monkeypatch, tmp_path):
    """One text compiled by environments of different syntax gives each its own code."""
    from impactzones.maps._templates import templates_compiled_once

    _own_cache(monkeypatch, tmp_path)
    text = "[[ 1 + 1 ]] {{ 2 + 2 }}"
    with templates_compiled_once():
        plain = jinja2.Environment().from_string(text).render()
        square = jinja2.Environment(variable_start_string="[[", variable_end_string="]]")
        other = square.from_string(text).render()
    assert (plain, other) == ("[[ 1 + 1 ]] 4", "2 {{ 2 + 2 }}")


def test_templates_compiled_once_keep_each_filter_convention_apart(monkeypatch, tmp_path):
    """A filter taking the context (``pass_context``) is called with it in the compiled
    code: an environment whose filter of that name takes none gets code of its own."""
    from impactzones.maps._templates import templates_compiled_once

    _own_cache(monkeypatch, tmp_path)
    plain, with_context = jinja2.Environment(), jinja2.Environment()
    plain.filters["shout"] = lambda v: v.upper() + "!"
    with_context.filters["shout"] = jinja2.pass_context(lambda c, v: f"{v.upper()}?{c['y']}")
    with templates_compiled_once():
        got = [env.from_string("{{ x|shout }}").render(x="hi", y=1)
               for env in (plain, with_context)]  # fmt: skip
    assert got == ["HI!", "HI?1"]


def test_one_style_geojson_is_folium_geojson_with_that_style(layers):
    """A layer of one style for every feature (the Gi* grid's many cells) gives the page
    folium's GeoJson gives with the style function, tooltip, pane and name included."""
    import folium

    from impactzones.core.grid import make_grid
    from impactzones.maps.webmap import _for_map, _GeoJson, stable_ids

    grid = make_grid(layers.study_area, layers.crs, 1000.0)
    rows, cols = np.nonzero(grid.mask)
    cells = gpd.GeoDataFrame({"count": np.arange(len(rows)), "label": "<cell>"},
                             geometry=grid.polygons(rows, cols), crs=layers.crs)  # fmt: skip
    data = _for_map(cells[["count", "label", "geometry"]], simplify=0)
    style = {"color": "#555", "weight": 0.3, "fillOpacity": 0.0}

    def page(make):
        m = folium.Map(tiles=None)
        make(data, name="Grid", pane="overlayPane",
             tooltip=folium.GeoJsonTooltip(fields=["count", "label"])).add_to(m)  # fmt: skip
        return stable_ids(m.get_root().render())

    ours = page(lambda d, **kw: _GeoJson(d, style=style, **kw))
    theirs = page(lambda d, **kw: folium.GeoJson(d, style_function=lambda _f: style, **kw))
    assert len(data["features"]) > 100 and ours == theirs
    lit = {"weight": 3}  # and a highlight, which folium maps feature by feature
    ours = page(lambda d, **kw: _GeoJson(d, style=style, highlight_function=lambda _f: lit, **kw))
    theirs = page(lambda d, **kw: folium.GeoJson(
        d, style_function=lambda _f: style, highlight_function=lambda _f: lit, **kw))  # fmt: skip
    assert "highlight" in ours and ours == theirs


def test_templates_compiled_once_survive_a_damaged_cache_file(monkeypatch, tmp_path):
    """A cache file cut short or overwritten with junk (a pickle naming a missing module,
    an intact header and checksum before data that is not code): the text is compiled
    again."""
    from impactzones.maps._templates import templates_compiled_once

    _own_cache(monkeypatch, tmp_path)
    with templates_compiled_once():
        jinja2.Template(TEMPLATE_TEXTS[0])
    (cached,) = tmp_path.iterdir()
    magic = jinja2.bccache.bc_magic
    checksum = pickle.dumps(hashlib.sha1(TEMPLATE_TEXTS[0].encode()).hexdigest(), 2)
    assert cached.read_bytes().startswith(magic + checksum)  # jinja2's layout, as assumed
    for junk in (magic + b"not a pickle", magic[:3], b"", magic + b"cnosuchmodule\nx\n.",
                 magic + checksum + marshal.dumps(42)):  # fmt: skip
        cached.write_bytes(junk)
        with templates_compiled_once():
            assert jinja2.Template(TEMPLATE_TEXTS[0]).render(name="ok").startswith("42 OK")


def test_escape_frame_escapes_each_cell_as_python_html_escape_does():
    """Text columns (hostile names repeated, as a grid's labels are) and a column mixing
    True, 1 and 1.0 (one value to a hash table): each cell is ``html.escape`` of its text,
    missing ones ""."""
    import html

    import pandas as pd

    from impactzones.maps.webmap import escape_frame

    hostile = ["${x}", "`", "../", "</script>", "<b>&'\"", None, "${x}", np.nan, "`"]
    mixed = [1, True, 1.0, 0, False, "<i>", None, 2.5, "1"]
    frame = pd.DataFrame({"name": hostile, "mixed": pd.Series(mixed, dtype=object)})
    out = escape_frame(frame)
    for col in frame:
        truth = ["" if pd.isna(v) else html.escape(str(v), quote=True) for v in frame[col]]
        assert out[col].tolist() == truth, col

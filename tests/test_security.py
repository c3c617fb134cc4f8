"""Security rules (docs/security.md): file names from safe unique slugs, nothing written
outside the output folder, user strings JSON-encoded where they reach a script."""

from __future__ import annotations

import re

import pytest

HOSTILE_ZONE_NAMES = ["../../../../elsewhere/victim", "a/b\\c", "/tmp/iz_absolute_zone",
                      "North", "north"]


def _files(root):
    return {p for p in root.rglob("*") if p.is_file()}


def test_slugify_keeps_only_safe_characters():
    from impactzones.io.safety import Slugs, slugify

    for name in [*HOSTILE_ZONE_NAMES, "..", ".", "", "C:\\Windows\\x", "nul\x00byte", "ü" * 300]:
        s = slugify(name)
        assert re.fullmatch(r"[a-z0-9_-]{1,60}", s), (name, s)
        assert s not in (".", "..")
    slugs = Slugs()
    got = [slugs(n) for n in HOSTILE_ZONE_NAMES]
    assert len(set(got)) == len(got)
    assert got[3:] == ["north", "north-2"]


@pytest.fixture(scope="module")
def hostile_zone_run(assigned, layers, tmp_path_factory):
    """Maps for five zones with path-like or case-colliding names, into a nested folder."""
    import geopandas as gpd

    from impactzones.core.geo import Layers
    from impactzones.evaluate.compare import compare_zones
    from impactzones.maps import build_maps

    base = layers.zones.iloc[[0, 0, 1, 1, 2]].reset_index(drop=True)
    zones = gpd.GeoDataFrame(base.copy(), crs=layers.zones.crs)
    zones["geometry"] = [g.buffer(-60 * i) for i, g in enumerate(zones.geometry)]
    zones["name"] = HOSTILE_ZONE_NAMES
    hostile = Layers(boundary=layers.boundary, districts=layers.districts,
                     neighborhoods=layers.neighborhoods, zones=zones)
    inc = assigned.copy()
    inc["zone"] = inc["zone"].map(dict(zip(layers.zones["name"], HOSTILE_ZONE_NAMES[::2],
                                           strict=True))).fillna("")
    table = compare_zones(inc, zones, 2017, 2018, study_area=layers.study_area,
                          crimes=["violent"])
    root = tmp_path_factory.mktemp("fence")
    (root / "elsewhere").mkdir()
    out = root / "a" / "b" / "out"
    before = _files(root)
    files = build_maps(inc, hostile, out, comparisons={"all": table}, hotspots={},
                       source="test", static=False)
    return root, out, before, files


def test_zone_names_never_write_outside_out(hostile_zone_run):
    root, out, before, _files_written = hostile_zone_run
    new = _files(root) - before
    assert new and all(out.resolve() in p.resolve().parents for p in new), sorted(new)
    assert not (root / "elsewhere" / "victim.html").exists()
    for p in new:
        assert re.fullmatch(r"[a-z0-9_.-]+", p.name), p.name


def test_every_zone_gets_its_own_commander_map(hostile_zone_run):
    _root, out, _before, _files_written = hostile_zone_run
    commander = sorted(p.name for p in out.glob("commander_*.html"))
    assert len(commander) == 5, commander
    assert "commander_north.html" in commander and "commander_north-2.html" in commander
    index = (out / "index.html").read_text()
    for name in commander:
        assert f'href="{name}"' in index


def test_a_write_outside_the_fence_is_refused(tmp_path):
    from impactzones.core.errors import InputError
    from impactzones.core.files import output_root
    from impactzones.io import write_table, write_text

    with output_root(tmp_path / "out"):
        write_text("fine", tmp_path / "out" / "x.txt")
        for bad in (tmp_path / "out" / ".." / "x.txt", tmp_path / "elsewhere.txt",
                    "/tmp/iz_should_not_exist.txt"):
            with pytest.raises(InputError, match="outside the output folder"):
                write_text("no", bad)
        import pandas as pd

        with pytest.raises(InputError):
            write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["x.txt"]


def test_demo_comparison_files_use_slugs(assigned, layers):
    from impactzones.core.geo import Layers
    from impactzones.pipeline import _demo_comparisons

    zones = layers.zones.copy()
    zones["name"] = ["../../x", "Cen/tral", "SOUTH"]
    hostile = Layers(boundary=layers.boundary, districts=layers.districts,
                     neighborhoods=layers.neighborhoods, zones=zones)
    keys = sorted(_demo_comparisons(assigned, hostile, 400.0))
    assert keys == ["cen_tral_south", "x"]


def test_user_text_in_a_script_is_json_not_template_source():
    from impactzones.core.geo import st_louis
    from impactzones.maps.webmap import MapData, commander_map

    layers = st_louis()
    zones = layers.zones.copy()
    zones.loc[0, "name"] = "${alert(3)}`"
    d = layers.districts.copy()
    d.loc[d.index[0], "name"] = "`${alert(4)}"
    from impactzones.core.geo import Layers

    evil = Layers(boundary=layers.boundary, districts=d, neighborhoods=layers.neighborhoods,
                  zones=zones)
    page = commander_map(MapData(layers=evil, title="t")).get_root().render()
    # the names appear only inside JSON strings, never inside a backtick literal
    for m in re.finditer(r"alert\((3|4)\)", page):
        start = page.rfind("\n", 0, m.start())
        line = page[start: page.find("\n", m.end())]
        assert "bindTooltip(\"" in line or "bindPopup(\"" in line or '"name"' in line, line


def test_static_map_shows_dollar_signs_as_text(tmp_path, layers):
    from impactzones.core.geo import Layers
    from impactzones.maps.webmap import MapData, static_map

    zones = layers.zones.copy()
    zones.loc[0, "name"] = r"$\frac{a}{$ zone"
    evil = Layers(boundary=layers.boundary, districts=layers.districts,
                  neighborhoods=layers.neighborhoods, zones=zones)
    p = static_map(MapData(layers=evil, title=r"$\undefinedcommand$ title",
                           headline=["$x$ and $"]), tmp_path / "s.png", dpi=30)
    assert p.read_bytes()[:4] == b"\x89PNG"


def test_markdown_table_escapes_a_zone_name(synth, layers):
    """A zone named with raw HTML, a pipe and a line break: the Markdown file holds it as
    entities and escaped text (by hand: ``<`` -> ``&lt;``, ``&`` -> ``&amp;``, ``|`` -> ``\\|``,
    the newline a space), so every table row keeps its 13 columns and no tag survives."""
    from impactzones.evaluate.compare import compare_zones, to_markdown
    from impactzones.io.safety import markdown_text

    assert markdown_text("<b>a</b> & c|d\ne") == "&lt;b&gt;a&lt;/b&gt; &amp; c\\|d e"
    zones = layers.zones.iloc[:1].copy()
    zones["name"] = "<script>alert(1)</script> & x|y\n[z](javascript:q)"
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
    md = to_markdown(compare_zones(inc, zones, 2017, 2018, study_area=layers.study_area))
    assert "<script" not in md and "</script" not in md
    assert not re.search(r"(?<!\\)\]\(javascript", md)  # no link survives
    name = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; x\\|y \\[z\\](javascript:q)"
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert sum(line.startswith(f"| {name} |") for line in rows) == 2  # violent, property
    header_cells = len(re.findall(r"(?<!\\)\|", rows[0]))
    assert all(len(re.findall(r"(?<!\\)\|", line)) == header_cells for line in rows)
    assert f"in the {name} zone" in md

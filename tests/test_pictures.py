"""The matplotlib pictures: drawn as GeoPandas draws them, deterministic, the PNG maps only
when asked, the PDF fonts' lean subsets the same page, and a warning for missing CJK glyphs."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest


def _pixels(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4), dpi=60)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    return fig, ax


def test_polygons_and_lines_draw_the_pixels_geopandas_draws(layers):
    """GeoPandas' own ``plot`` is the reference: the same colours per geometry, the hatch,
    holes and dashed outlines give the same pixels through plot_polygons / plot_lines."""
    import geopandas as gpd
    from shapely.geometry import Polygon

    from impactzones.core.drawing import plot_lines, plot_polygons

    nb = layers.neighborhoods.iloc[:40]
    ring = Polygon([(0, 0), (4000, 0), (4000, 4000), (0, 4000)], [[(1000, 1000), (3000, 1000),
                                                                  (3000, 3000), (1000, 3000)]])
    x0, y0 = nb.total_bounds[:2]
    holed = gpd.GeoSeries([shapely_translate(ring, x0, y0)], crs=nb.crs)
    colours = ["#d73027" if i % 3 else "#4575b4" for i in range(len(nb))]
    drawn = []
    for ours in (False, True):
        fig, ax = _figure()
        if ours:
            plot_polygons(ax, nb.geometry, facecolor=colours, edgecolor="#999999", linewidth=0.3,
                          alpha=0.6)
            plot_polygons(ax, holed, facecolor="white", edgecolor="k", hatch="////")
            plot_lines(ax, layers.zones.boundary, color="#7b1fa2", linewidth=2, linestyle="--")
        else:
            nb.plot(ax=ax, color=colours, edgecolor="#999999", linewidth=0.3, alpha=0.6)
            holed.plot(ax=ax, facecolor="white", edgecolor="k", hatch="////")
            layers.zones.boundary.plot(ax=ax, color="#7b1fa2", linewidth=2, linestyle="--")
        ax.set_xlim(*nb.total_bounds[[0, 2]])
        ax.set_ylim(*nb.total_bounds[[1, 3]])
        ax.set_aspect("equal")
        drawn.append(_pixels(fig))
    assert (drawn[0][..., :3] != 255).any()  # something was drawn
    assert np.array_equal(drawn[0], drawn[1])


def shapely_translate(geom, dx, dy):
    from shapely import affinity

    return affinity.translate(geom, dx, dy)


def _zone_map(layers):
    from impactzones.maps.webmap import MapData

    return MapData(layers=layers, title="North Impact Zone", zone="North", ring=400.0,
                   headline=["A line of headline."])


def test_static_map_is_deterministic_sized_and_shows_the_zone(layers, tmp_path):
    """Two drawings give the same bytes; the picture is the figure's size at its dpi (10 x 12
    inches); the zone's purple outline and the river's blue are in it."""
    from PIL import Image

    from impactzones.maps.webmap import static_map

    a = static_map(_zone_map(layers), tmp_path / "a.png", dpi=40)
    b = static_map(_zone_map(layers), tmp_path / "b.png", dpi=40)
    assert a.read_bytes() == b.read_bytes()
    img = Image.open(a).convert("RGB")
    assert img.size == (400, 480)
    rgb = np.asarray(img).reshape(-1, 3).astype(int)

    def near(colour: str, tol: int = 12) -> int:
        target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(rgb - target).max(axis=1) <= tol).sum())

    assert near("#7b1fa2") > 50  # the zone and its ring
    assert near("#b9d3ea") > 50  # the river


@pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                    reason="poppler-utils (pdftoppm, pdftotext) not installed")
def test_lean_font_subsets_give_the_same_page_smaller(tmp_path):
    """A page written with the fonts' layout tables left out renders to the same pixels
    (poppler) and the same text as one written with them, and is smaller."""
    from matplotlib.backends.backend_pdf import FigureCanvasPdf
    from matplotlib.figure import Figure

    from impactzones.core.drawing import lean_font_subsets

    def page(path, lean):
        fig = Figure(figsize=(4, 2))
        FigureCanvasPdf(fig)
        fig.text(0.05, 0.6, "Violent crime fell 20% (740 to 592) — WAVE, Tz, km²", fontsize=11)
        fig.text(0.05, 0.3, "Bold: AVAST −4", fontsize=11, fontweight="bold")
        kw = dict(format="pdf", metadata={"CreationDate": None, "Producer": None})
        with matplotlib_rc(), (lean_font_subsets() if lean else _nothing()):
            fig.savefig(path, **kw)

    page(tmp_path / "full.pdf", False)
    page(tmp_path / "lean.pdf", True)
    for name in ("full", "lean"):
        subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / f"{name}.pdf"),
                        str(tmp_path / name)], check=True)
    from PIL import Image

    full, lean = (np.asarray(Image.open(next(tmp_path.glob(f"{n}-*.png")))) for n in ("full", "lean"))
    assert np.array_equal(full, lean)
    texts = [subprocess.run(["pdftotext", str(tmp_path / f"{n}.pdf"), "-"], check=True,
                            capture_output=True, text=True).stdout for n in ("full", "lean")]
    assert texts[0] == texts[1] and "fell 20% (740 to 592)" in texts[1] and "AVAST" in texts[1]
    assert (tmp_path / "lean.pdf").stat().st_size < (tmp_path / "full.pdf").stat().st_size
    page(tmp_path / "again.pdf", True)
    assert (tmp_path / "again.pdf").read_bytes() == (tmp_path / "lean.pdf").read_bytes()


def matplotlib_rc():
    import matplotlib

    return matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"})


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def test_png_maps_only_when_asked(tmp_path):
    """Without ``static`` no PNG is written and the index links none; with it, the citywide
    and analyst PNGs are written and linked."""
    from impactzones.assign import assign
    from impactzones.core.geo import st_louis
    from impactzones.datasets.synth import synthesize
    from impactzones.maps.build import build_maps

    layers = st_louis()
    inc = assign(synthesize(seed=1, years=[2017, 2018], scale=0.1).incidents, layers)
    for static in (False, True):
        out = tmp_path / str(static)
        files = build_maps(inc, layers, out, comparisons={}, hotspots={}, static=static)
        pngs = sorted(p.name for p in out.glob("*.png"))
        index = (out / "index.html").read_text()
        assert pngs == (["analyst.png", "citywide.png"] if static else [])
        assert sorted(p.name for p in files if p.suffix == ".png") == pngs
        assert ('href="citywide.png"' in index) is static
        assert ('href="analyst.png"' in index) is static


def test_the_demo_option_reaches_the_maps(monkeypatch, tmp_path):
    """``impactzones demo`` draws the PNG maps only with ``--png-maps`` (the PDF briefs
    always; ``pictures=False`` neither)."""
    import impactzones.maps.build as build
    from impactzones import pipeline

    seen = []
    monkeypatch.setattr(build, "build_maps",
                        lambda *a, **k: seen.append((k["static"], k["brief"])) or [])
    common = dict(source="", ring=400.0, online_tiles=False, basemap=None, extra=[],
                  capture=None)
    for kw in ({}, {"png_maps": True}, {"pictures": False, "png_maps": True}):
        pipeline._demo_maps(None, None, None, {}, {}, None, None, {}, **common, **kw)
    assert seen == [(False, True), (True, True), (False, False)]

    import signal

    from impactzones import cli

    asked = []

    def fake_run_demo(*args, **kwargs):
        asked.append(kwargs.get("png_maps", False))
        raise KeyboardInterrupt  # stop here: only the keyword is wanted

    monkeypatch.setattr(pipeline, "run_demo", fake_run_demo)
    for argv in (["demo", "--quiet"], ["demo", "--quiet", "--png-maps"]):
        assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 128 + signal.SIGINT
    assert asked == [False, True]


def test_picture_fonts_fall_back_to_a_cjk_font_or_warn_once(monkeypatch):
    """With a CJK font installed it follows DejaVu Sans; without one, a name with CJK
    characters gets one warning (not one per picture), a Latin name none."""
    import warnings

    from impactzones.core import drawing

    monkeypatch.setattr(drawing, "_cjk_font", lambda: "Noto Sans CJK JP")
    assert drawing.picture_fonts(["北区"])["font.family"] == ["DejaVu Sans", "Noto Sans CJK JP"]
    monkeypatch.setattr(drawing, "_cjk_font", lambda: None)
    drawing._warn_no_cjk.cache_clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert drawing.picture_fonts(["North"])["font.family"] == ["DejaVu Sans"]
        drawing.picture_fonts(["北区 Zone"])
        drawing.picture_fonts(["강남"])
    assert [str(w.message).split(":")[0] for w in caught] == [
        "No font with Chinese, Japanese or Korean glyphs is installed (e.g. fonts-noto-cjk)"
    ]


def test_lean_font_subsets_puts_the_default_back_after_threads_and_errors():
    """Blocks in two threads that end in the other order (the first in, first out), and
    a block left by an exception: fontTools' default list is the library's own after."""
    import threading

    from fontTools import subset

    from impactzones.core.drawing import lean_font_subsets

    before = list(subset.Options._drop_tables_default)
    entered, release = threading.Event(), threading.Event()

    def other():
        with lean_font_subsets():
            entered.set()
            release.wait(10)

    with lean_font_subsets():
        t = threading.Thread(target=other)
        t.start()
        entered.wait(10)
    release.set()
    t.join()
    assert subset.Options._drop_tables_default == before
    with pytest.raises(RuntimeError), lean_font_subsets():
        raise RuntimeError("a page that fails")
    assert subset.Options._drop_tables_default == before


#: Words of the Unicode character names of Chinese, Japanese and Korean writing (the
#: standard's names, read from unicodedata: an independent truth for the ranges).
CJK_NAME_WORDS = ("CJK", "HANGUL", "HIRAGANA", "KATAKANA", "BOPOMOFO", "KANGXI", "KANBUN",
                  "IDEOGRAPHIC", "FULLWIDTH", "HALFWIDTH")
NOT_CJK_NAME_STARTS = ("LATIN ", "GREEK ", "CYRILLIC ", "ARABIC ", "HEBREW ", "DIGIT ",
                       "DEVANAGARI ", "THAI ", "HEXAGRAM FOR ", "BOX DRAWINGS ")


def test_cjk_check_matches_the_unicode_names():
    """Every character the standard names as Chinese, Japanese or Korean (Hangul Jamo and
    its extensions, kana, the ideographs of every extension in planes 2 and 3, the
    fullwidth and halfwidth forms...) is found; no Latin, Greek, Cyrillic, Arabic or
    other script's character, and no narrow character (East Asian width Na), is."""
    import sys
    import unicodedata

    from impactzones.core.drawing import _has_cjk

    missed, wrong, seen = [], [], 0
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        name = unicodedata.name(ch, "")
        if not name:
            continue
        found = _has_cjk(f"Zone {ch}")
        if any(w in name for w in CJK_NAME_WORDS):
            seen += 1
            if not found:
                missed.append(f"U+{cp:04X} {name}")
        elif found and (name.startswith(NOT_CJK_NAME_STARTS)
                        or unicodedata.east_asian_width(ch) == "Na"):
            wrong.append(f"U+{cp:04X} {name}")
    assert seen > 90_000  # the ideographs of every extension, not a few blocks
    assert not missed, missed[:20]
    assert not wrong, wrong[:20]
    assert _has_cjk("\u1100\u1161")  # Hangul Jamo (conjoining), missed before
    assert _has_cjk("\U00020000") and _has_cjk("\U00030000")  # Extensions B and G
    assert not _has_cjk("North Patrol Zone, 2018 (-12%)")


def test_a_hangul_jamo_or_extension_b_name_warns_without_a_cjk_font(monkeypatch):
    """The warning about boxes is given for the characters the old check missed."""
    import warnings

    from impactzones.core import drawing

    monkeypatch.setattr(drawing, "_cjk_font", lambda: None)
    for text in ("\u1112\u1161\u11ab", "\U00020bb7 zone"):
        drawing._warn_no_cjk.cache_clear()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            drawing.picture_fonts([text])
        assert len(caught) == 1, text


@pytest.mark.parametrize("fonttype", [3, 42])
def test_lean_pdf_text_writes_the_same_bytes_and_puts_the_helper_back(fonttype):
    """matplotlib's own PDF (its layout helper loading every glyph) is the reference: text
    with ligatures, a minus sign, kerning pairs, rotated text and text drawn as paths (a
    path effect: the full helper) give the same bytes; the helper is matplotlib's again
    after the block, also when the block raises."""
    import io

    import matplotlib
    from matplotlib import patheffects
    from matplotlib.backends import backend_pdf
    from matplotlib.figure import Figure

    from impactzones.core.drawing import lean_pdf_text

    helpers = backend_pdf._text_helpers
    fig = Figure(figsize=(4, 3))
    fig.text(0.05, 0.8, "Office traffic fell \N{MINUS SIGN}12% (AVAST, Wolf)", fontsize=11)
    fig.text(0.05, 0.5, "North zone", fontsize=14, rotation=20, fontweight="bold")
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    fig.text(0.05, 0.2, "Affton labels", fontsize=12, path_effects=halo)
    ax = fig.add_axes((0.6, 0.1, 0.35, 0.35))
    ax.plot([-5, 5])
    pages = []
    with matplotlib.rc_context({"pdf.fonttype": fonttype}):
        for lean in (False, True, False):
            buf = io.BytesIO()
            if lean:
                with lean_pdf_text():
                    assert backend_pdf._text_helpers is not helpers
                    fig.savefig(buf, format="pdf", metadata={"CreationDate": None})
            else:
                fig.savefig(buf, format="pdf", metadata={"CreationDate": None})
            pages.append(buf.getvalue())
    assert pages[0] == pages[1] == pages[2]
    assert backend_pdf._text_helpers is helpers
    with pytest.raises(RuntimeError), lean_pdf_text():
        raise RuntimeError("a picture that failed")
    assert backend_pdf._text_helpers is helpers


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftoppm, pdftotext) not installed",
)
def test_shared_font_subsets_give_the_same_page_whichever_page_made_them(tmp_path):
    """Poppler's rendering and text of matplotlib's own PDF are the reference: the pages
    with shared subsets look and read the same; a page's bytes do not depend on whether
    it made the subset or found it made; matplotlib's subsetter is back after."""
    import matplotlib
    from matplotlib.backends import _backend_pdf_ps
    from matplotlib.figure import Figure
    from PIL import Image

    from impactzones.core import drawing

    make = _backend_pdf_ps.get_glyphs_subset
    texts = {
        "north": "North: The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX "
        "0123456789 (-12%)",
        "south": "South: Pack my box with five dozen liquor jugs! PACK MY BOX WITH FIVE DOZEN "
        "2018-2019 (+7%)",
    }

    def page(name: str, shared: bool) -> bytes:
        fig = Figure(figsize=(6, 1.5))
        fig.text(0.02, 0.6, texts[name], fontsize=9)
        fig.text(0.02, 0.2, f"{name.title()} Impact Zone", fontsize=12, fontweight="bold")
        path = tmp_path / f"{name}-{shared}.pdf"
        with matplotlib.rc_context({"pdf.fonttype": 42}):
            if shared:
                with drawing.shared_font_subsets():
                    fig.savefig(path, metadata={"CreationDate": None})
            else:
                fig.savefig(path, metadata={"CreationDate": None})
        return path.read_bytes()

    drawing._SUBSETS.clear()
    first = {name: page(name, True) for name in ("north", "south")}
    # one subset of the text's font for both pages (with every ASCII glyph)
    assert [len(glyphs) >= 95 for _, glyphs in drawing._SUBSETS].count(True) == 1
    drawing._SUBSETS.clear()
    second = {name: page(name, True) for name in ("south", "north")}
    assert first == second
    assert _backend_pdf_ps.get_glyphs_subset is make
    for name in texts:
        page(name, False)
        pixels, words = [], []
        for shared in (False, True):
            pdf = tmp_path / f"{name}-{shared}.pdf"
            subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(pdf)], check=True)
            pixels.append(np.asarray(Image.open(next(tmp_path.glob(f"{name}-{shared}.pdf-*.png")))))
            words.append(subprocess.run(["pdftotext", str(pdf), "-"], check=True,
                                        capture_output=True, text=True).stdout)  # fmt: skip
        assert np.array_equal(pixels[0], pixels[1]), name
        assert words[0] == words[1] and texts[name].split(":")[0] in words[1]

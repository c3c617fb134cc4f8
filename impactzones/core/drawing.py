"""What every matplotlib picture of the package shares: drawing now (the default of the
functions that hand pictures to a worker), polygons and lines drawn as one collection each,
and the fonts.

GeoPandas' ``GeoSeries.plot`` ends by re-drawing the whole figure (``canvas.draw_idle()``,
a full render on the Agg and PDF canvases): on a map of ten layers that is ten renders of
everything drawn so far for the one that is saved. :func:`plot_polygons` and
:func:`plot_lines` draw the same collections (the geometries normalized, as GeoPandas
does, so a dashed outline starts where it did) without that render.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np
import shapely

__all__ = [
    "LAYOUT_TABLES",
    "draw_here",
    "fit_axes",
    "fit_titles",
    "lean_font_subsets",
    "lean_pdf_text",
    "picture_fonts",
    "plot_lines",
    "plot_polygons",
    "shared_font_subsets",
]

#: TrueType tables a PDF viewer never reads (matplotlib places every glyph itself): glyph
#: substitution and positioning, kerning, justification, baselines, maths layout.
LAYOUT_TABLES = ("GPOS", "GSUB", "GDEF", "kern", "JSTF", "BASE", "MATH")

#: Fonts with the glyphs of Chinese, Japanese and Korean names, tried after DejaVu Sans.
CJK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "IPAGothic",
    "Unifont",
)


def draw_here(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Draw a picture now, in this process: ``fn(*args, **kwargs)``.

    The default ``draw`` of the functions that may hand their pictures to a worker
    process (the demo's); it returns what ``fn`` returns.

    Examples
    --------
    >>> draw_here(max, 2, 5, key=abs)
    5
    """
    return fn(*args, **kwargs)


def _valid(geoms: Iterable) -> np.ndarray:
    """The geometries as a normalized shapely array, without missing or empty ones."""
    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    arr = arr[~(shapely.is_missing(arr) | shapely.is_empty(arr))]
    return shapely.normalize(arr)


def plot_polygons(ax: Any, geoms: Iterable, **style: Any) -> Any:
    """Draw (multi)polygons on ``ax`` as one collection, each geometry one path (holes
    kept), with matplotlib collection ``style`` (``facecolor`` one colour or one per
    geometry, ``edgecolor``, ``linewidth``, ``alpha``, ``hatch``, ``zorder``...); the
    axes' limits are left alone. Missing and empty geometries are left out (with their
    colour, when colours are given one per geometry).

    Returns the collection (a ``matplotlib.collections.PathCollection``).

    Examples
    --------
    >>> import matplotlib.figure
    >>> from shapely.geometry import Polygon, box
    >>> ax = matplotlib.figure.Figure().add_subplot()
    >>> c = plot_polygons(ax, [box(0, 0, 2, 1), Polygon(), None], facecolor=["red", "b", "g"])
    >>> len(c.get_paths()), [float(v) for v in c.get_paths()[0].get_extents().bounds]
    (1, [0.0, 0.0, 2.0, 1.0])
    >>> c.get_facecolor().tolist()  # the colour of the one drawn
    [[1.0, 0.0, 0.0, 1.0]]
    """
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path

    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    keep = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    colour = style.get("facecolor")
    if colour is not None and not isinstance(colour, str) and len(colour) == len(arr):
        style["facecolor"] = [c for c, k in zip(colour, keep, strict=True) if k]
    paths = []
    for geom in shapely.normalize(arr[keep]):
        rings = []
        for part in shapely.get_parts(geom):
            rings.append(part.exterior)
            rings.extend(part.interiors)
        paths.append(
            Path.make_compound_path(
                *(Path(np.asarray(r.coords)[:, :2], closed=True) for r in rings)
            )
        )
    collection = PathCollection(paths, **style)
    ax.add_collection(collection, autolim=True)
    return collection


def plot_lines(ax: Any, geoms: Iterable, **style: Any) -> Any:
    """Draw lines on ``ax`` as one ``LineCollection`` (every part of a multi-line its own
    segment), with matplotlib line ``style`` (``color``, ``linewidth``, ``linestyle``,
    ``zorder``...); the outline of polygons is drawn by passing their ``boundary``.
    Missing and empty geometries are left out; the axes' limits are left alone.

    Examples
    --------
    >>> import matplotlib.figure
    >>> from shapely.geometry import box
    >>> ax = matplotlib.figure.Figure().add_subplot()
    >>> c = plot_lines(ax, [box(0, 0, 2, 1).boundary], color="black", linewidth=2)
    >>> len(c.get_segments()), float(c.get_linewidth()[0])
    (1, 2.0)
    """
    from matplotlib.collections import LineCollection

    parts = shapely.get_parts(_valid(geoms))
    collection = LineCollection([np.asarray(p.coords)[:, :2] for p in parts], **style)
    ax.add_collection(collection, autolim=True)
    return collection


def fit_axes(fig: Any, ax: Any, *, titles: Iterable[Any] = (), pad: float = 0.15) -> None:
    """Place ``ax``, the one axes of ``fig``, so that its tick labels, axis labels and
    ``titles`` (the title ``Text`` artists ``set_title`` returned) fit inside the figure
    with ``pad`` inches around them, where ``fig.tight_layout()`` would place it, but
    measured from those texts alone (the tick labels from the axis' locator and
    formatter, without laying out every tick twice): about a tenth of the time. A title
    too wide for the figure is wrapped onto more lines.

    The figure gets an Agg canvas: ``savefig(format="png")`` then draws with the renderer
    that measured the texts here (their sizes cached).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(4, 3), dpi=100)
    >>> ax = fig.add_subplot()
    >>> _ = ax.plot([0, 1200]); _ = ax.set_ylabel("incidents")
    >>> fit_axes(fig, ax, titles=[ax.set_title("A title")])
    >>> left, bottom, right, top = ax.get_position().extents
    >>> bool(0.1 < left < 0.3 and 0.9 < right < 1 and 0.8 < top < 0.95)
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    width, height = fig.get_size_inches()
    ytick = _tick_labels(ax.yaxis, renderer, fig.dpi)
    xtick = _tick_labels(ax.xaxis, renderer, fig.dpi)
    left = pad + max((w for w, _, _ in ytick), default=0.0) + _label_room(ax.yaxis, renderer, 0)
    bottom = pad + max((h for _, h, _ in xtick), default=0.0) + _label_room(ax.xaxis, renderer, 1)
    right = pad
    if xtick:  # the last x tick label, centred on its tick, may stand out past the axes
        lo, hi = sorted(ax.get_xlim())
        w, _, x = xtick[-1]
        right = max(pad, pad + w / 2 - (hi - x) / (hi - lo) * (width - left - pad))
    top = pad + fit_titles(fig, titles, between=(left, width - right), pad=pad)
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )


def _tick_labels(axis: Any, renderer: Any, dpi: float) -> list[tuple[float, float, float]]:
    """The major tick labels ``axis`` will draw, as (width, height in inches, position in
    data units), from its locator and formatter."""
    lo, hi = sorted(axis.get_view_interval())
    tol = (hi - lo) * 1e-9
    locs = [float(v) for v in axis.get_majorticklocs() if lo - tol <= v <= hi + tol]
    label = axis.get_major_ticks(1)[0].label1  # in the font every tick label is drawn in
    if not locs or not label.get_visible():
        return []
    sizes = []
    for text, loc in zip(axis.get_major_formatter().format_ticks(locs), locs, strict=True):
        if text:
            label.set_text(text)
            box = label.get_window_extent(renderer)
            sizes.append((box.width / dpi, box.height / dpi, loc))
    return sizes


def _label_room(axis: Any, renderer: Any, which: int) -> float:
    """Inches from the axes to the outer edge of ``axis``' label, but for its tick
    labels' own size: the ticks outside the axes, their labels' pad, the axis label
    (``which``: 0 its width, 1 its height) and its pad."""
    tick = axis.get_major_ticks(1)[0]
    room = (tick.get_tick_padding() + tick.get_pad()) / 72
    label = axis.label
    if label.get_visible() and label.get_text():
        box = label.get_window_extent(renderer)
        room += (box.width, box.height)[which] / renderer.dpi + axis.labelpad / 72
    return room


def fit_titles(
    fig: Any, titles: Iterable[Any], *, between: tuple[float, float], pad: float = 0.15
) -> float:
    """The room (inches) ``titles`` (title ``Text`` artists) need above an axes whose left
    and right edges are ``between`` (inches from the figure's left edge), each wrapped
    at spaces onto as many lines as it takes to fit inside the figure with ``pad``
    inches to spare; 0 without a title.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(3, 2), dpi=100)
    >>> title = fig.add_subplot().set_title("A title much too long for a figure this narrow")
    >>> room = fit_titles(fig, [title], between=(0.5, 2.85))
    >>> title.get_text().count(chr(10)), bool(0.3 < room < 0.5)
    (1, True)
    """
    import textwrap

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    dpi, (x0, x1) = renderer.dpi, between
    fig_width = renderer.width / dpi
    room = 0.0
    for title in titles:
        text = title.get_text()
        if not text or not title.get_visible():
            continue
        anchor = {"left": x0, "right": x1}.get(title.get_horizontalalignment(), (x0 + x1) / 2)
        fit = {
            "left": fig_width - pad - x0,
            "right": x1 - pad,
        }.get(title.get_horizontalalignment(), 2 * min(anchor - pad, fig_width - pad - anchor))
        chars = len(text)
        while chars > 10 and title.get_window_extent(renderer).width / dpi > fit:
            chars = int(chars * 0.9)
            title.set_text("\n".join(textwrap.fill(line, chars) for line in text.splitlines()))
        height = title.get_window_extent(renderer).height
        if title.get_verticalalignment() == "baseline":  # the last line's descent hangs below
            last = title.get_text().splitlines()[-1]
            height -= renderer.get_text_width_height_descent(
                last, title.get_fontproperties(), ismath=False
            )[2]
        room = max(room, height / dpi)
    return room + float(matplotlib.rcParams["axes.titlepad"]) / 72 if room else 0.0


@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS` (None when there is none)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


def picture_fonts(texts: Iterable[str] = ()) -> dict[str, Any]:
    """The rc settings of a picture's fonts: DejaVu Sans, then a font with Chinese,
    Japanese and Korean glyphs when one is installed (matplotlib falls back glyph by
    glyph). When one of ``texts`` holds such characters and no such font is installed,
    a ``UserWarning`` says once that they will draw as boxes.

    Examples
    --------
    >>> picture_fonts(["North"])["font.family"][0]
    'DejaVu Sans'
    """
    family = ["DejaVu Sans"]
    cjk = _cjk_font()
    if cjk is not None:
        family.append(cjk)
    elif any(_has_cjk(t) for t in texts):
        _warn_no_cjk()
    return {"font.family": family}


#: The Unicode blocks of Chinese, Japanese and Korean text (The Unicode Standard 16.0,
#: Blocks.txt), as code point ranges: Hangul Jamo; the CJK radicals, strokes, symbols and
#: punctuation; kana, Bopomofo, Kanbun; enclosed letters and compatibility squares; the
#: ideographs (Extension A, the unified ones, compatibility ones); Hangul Jamo Extended-A,
#: the syllables and Extended-B; the compatibility, vertical and small forms; halfwidth
#: and fullwidth forms; the kana supplements and extensions; the counting rod numerals;
#: the enclosed ideographic supplement; and planes 2 and 3 whole (Extensions B to I and
#: the compatibility supplement: nothing else is assigned there).
CJK_RANGES = (
    (0x1100, 0x11FF),
    (0x2E80, 0x2FDF),
    (0x2FF0, 0x31FF),
    (0x3200, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFE10, 0xFE1F),
    (0xFE30, 0xFE6F),
    (0xFF00, 0xFFEF),
    (0x16FE0, 0x16FFF),
    (0x1AFF0, 0x1B16F),
    (0x1D360, 0x1D37F),
    (0x1F200, 0x1F2FF),
    (0x20000, 0x3FFFF),
)
_CJK = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in CJK_RANGES) + "]")


def _has_cjk(text: str) -> bool:
    """Whether ``text`` holds a Chinese, Japanese or Korean character (one in
    :data:`CJK_RANGES`)."""
    return _CJK.search(str(text)) is not None


@lru_cache(maxsize=1)
def _warn_no_cjk() -> None:
    """Say once that no installed font has Chinese, Japanese or Korean glyphs."""
    warnings.warn(
        "No font with Chinese, Japanese or Korean glyphs is installed (e.g. fonts-noto-cjk): "
        "such names draw as boxes in the PNG maps and PDF briefs (the web maps show them).",
        UserWarning,
        stacklevel=3,
    )


class _SharedPatch:
    """One name of a library replaced while a block using it is open, in any thread: set
    by the first block in, put back by the last one out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: Any = None

    @contextmanager
    def patched(self, owner: Any, name: str, make: Callable[[Any], Any]) -> Iterator[None]:
        """``owner.name`` replaced by ``make(the library's own)`` within this block."""
        with self._lock:
            if self._depth == 0:
                self._saved = getattr(owner, name)
                setattr(owner, name, make(self._saved))
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    setattr(owner, name, self._saved)
                    self._saved = None


_LEAN = _SharedPatch()


@contextmanager
def lean_font_subsets() -> Iterator[None]:
    """While a PDF is written: subset its TrueType (Type 42) fonts without
    :data:`LAYOUT_TABLES`.

    matplotlib embeds a subset of each font it used, made by fontTools, which reads and
    subsets every table of the font; DejaVu Sans' positioning and substitution tables
    (kerning pairs for thousands of glyphs) take most of that time, for nothing: a PDF
    viewer draws each glyph where the page puts it. The page looks the same, its text
    is searched and copied the same (the ToUnicode map is unchanged), and the file is
    smaller. Without fontTools' (private) default list of dropped tables, nothing changes.

    Examples
    --------
    >>> from fontTools import subset
    >>> with lean_font_subsets():
    ...     "GPOS" in subset.Options().drop_tables
    True
    >>> "GPOS" in subset.Options().drop_tables
    False
    """
    try:
        from fontTools import subset

        subset.Options._drop_tables_default  # noqa: B018 - present in this fontTools?
    except (ImportError, AttributeError):  # pragma: no cover - another fontTools
        yield
        return

    def lean(drop: list) -> list:
        return [*drop, *(t for t in LAYOUT_TABLES if t not in drop)]

    with _LEAN.patched(subset.Options, "_drop_tables_default", lean):
        yield


_TEXT = _SharedPatch()


@lru_cache(maxsize=1)
def _layout_only() -> Callable[..., Iterator[Any]] | None:
    """matplotlib's text layout without the glyph loads (None when this matplotlib lays
    text out otherwise: then nothing is replaced)."""
    try:
        from matplotlib import font_manager
        from matplotlib.backends import backend_pdf
        from matplotlib.ft2font import LoadFlags

        backend_pdf._text_helpers.layout  # noqa: B018 - the helper this replaces
        font = font_manager.get_font(font_manager.findfont("DejaVu Sans"))
        item = font._layout("Af", LoadFlags.NO_HINTING)[0]
        item.ft_object, item.char, item.glyph_index, item.x, item.y, item.prev_kern  # noqa: B018
    except (ImportError, AttributeError, TypeError, IndexError):  # pragma: no cover
        return None

    def layout(string: str, font: Any, *, features: Any = None, language: Any = None):
        return iter(font._layout(string, LoadFlags.NO_HINTING, features=features,
                                 language=language))  # fmt: skip

    return layout


@contextmanager
def lean_pdf_text() -> Iterator[None]:
    """While a PDF is written: lay its text out without loading each glyph's outline.

    matplotlib's PDF backend places each string's glyphs with a layout helper that also
    loads every glyph's outline into the font as it goes, for text drawn as paths; the
    PDF backend never reads them (the page names each glyph and where it goes; the font
    file is embedded apart), and the loads are about a third of a brief's time. The same
    layout (glyphs, positions, kerning) without them gives the same bytes. Text drawn as
    paths (``TextPath``, path effects) keeps the full helper; with a matplotlib that lays
    text out otherwise, nothing changes.

    Examples
    --------
    >>> import io
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1)); _ = fig.text(0.1, 0.5, "Office hours")
    >>> kw = dict(format="pdf", metadata={"CreationDate": None})
    >>> plain, lean = io.BytesIO(), io.BytesIO()
    >>> fig.savefig(plain, **kw)
    >>> with lean_pdf_text():
    ...     fig.savefig(lean, **kw)
    >>> plain.getvalue() == lean.getvalue()
    True
    """
    layout = _layout_only()
    if layout is None:  # pragma: no cover - another matplotlib
        yield
        return
    import types

    from matplotlib.backends import backend_pdf

    with _TEXT.patched(
        backend_pdf, "_text_helpers", lambda _own: types.SimpleNamespace(layout=layout)
    ):
        yield


_SUBSET = _SharedPatch()
#: (font file, glyphs) -> (the subset font's bytes, glyph index map): made once a process.
_SUBSETS: dict = {}


@lru_cache(maxsize=32)
def _ascii_glyphs(fontfile: Any) -> frozenset:
    """The glyph indices of the printable ASCII characters in ``fontfile``."""
    from matplotlib import font_manager

    font = font_manager.get_font(fontfile)
    return frozenset(g for g in (font.get_char_index(c) for c in range(32, 127)) if g)


def _shared_subset(make: Callable[..., Any]) -> Callable[..., Any]:
    """matplotlib's font subsetter ``make``, each subset made once a process: the glyphs
    asked for and, for a subset holding half the printable ASCII ones already (a page's
    text, not its few ligatures or signs), all of them, so that the pages of one run
    share it."""
    from io import BytesIO

    from fontTools.ttLib import TTFont
    from matplotlib.backends import _backend_pdf_ps

    def subset(fontfile: Any, glyphs: Iterable) -> Any:
        asked, ascii_ = frozenset(glyphs), _ascii_glyphs(fontfile)
        if 2 * len(asked & ascii_) >= len(ascii_):  # a page's text, not a few extra glyphs
            asked |= ascii_
        key = (fontfile, asked)
        made = _SUBSETS.get(key)
        if made is None:
            if len(_SUBSETS) >= 64:  # a long-lived process: a bounded memory (the bytes
                _SUBSETS.clear()  # do not depend on what is kept)
            with make(fontfile, sorted(key[1])) as done:
                data = _backend_pdf_ps.font_as_file(done.font).getvalue()
                made = _SUBSETS[key] = (data, dict(done.glyph_index_map))
        font = TTFont(BytesIO(made[0]), recalcBBoxes=False, recalcTimestamp=False)
        return _backend_pdf_ps.SubsetResults(font, dict(made[1]))._as_cm()

    return subset


@contextmanager
def shared_font_subsets() -> Iterator[None]:
    """While PDFs are written: make each font subset once a process, with every printable
    ASCII glyph besides those used (in a subset holding half of them already).

    fontTools reads the whole font (DejaVu Sans: 6,000 glyphs, their metrics and names)
    for every subset, three times a brief; pages of one run use nearly the same
    characters, so with the ASCII ones added they ask for the same subset, made once.
    The subset is a few kilobytes larger; the same inputs give the same bytes, whichever
    page made it first. Without matplotlib's (private) subsetter, nothing changes.

    Examples
    --------
    >>> import io, matplotlib
    >>> from matplotlib.figure import Figure
    >>> pages = []
    >>> for name in ("North", "South"):  # TrueType (Type 42) fonts are subset
    ...     fig = Figure(figsize=(2, 1)); _ = fig.text(0.1, 0.5, f"{name} zone")
    ...     buf = io.BytesIO()
    ...     with matplotlib.rc_context({"pdf.fonttype": 42}), shared_font_subsets():
    ...         fig.savefig(buf, format="pdf", metadata={"CreationDate": None})
    ...     pages.append(buf.getvalue())
    >>> pages[0][:5], len(_SUBSETS) >= 1
    (b'%PDF-', True)
    """
    try:
        from matplotlib.backends import _backend_pdf_ps

        _backend_pdf_ps.get_glyphs_subset  # noqa: B018
        _backend_pdf_ps.SubsetResults._as_cm  # noqa: B018 - present in this matplotlib?
        _backend_pdf_ps.font_as_file  # noqa: B018
    except (ImportError, AttributeError):  # pragma: no cover - another matplotlib
        yield
        return
    with _SUBSET.patched(_backend_pdf_ps, "get_glyphs_subset", _shared_subset):
        yield

"""Folium's page text taken as text, not as a Jinja template.

branca builds every piece of a folium page as an ``Element(text)``, and an Element compiles
its text as a Jinja2 template, even when that text is the finished output of another
template (each layer's script, with its GeoJSON inside) or the inlined Leaflet library. A
demo's six maps compiled about 700 such templates, most of the time spent drawing them;
worse, a zone or neighborhood name holding ``{{ ... }}`` reached Jinja there and was run as
template code (a name ``{{ 7*7 }}`` showed as ``49``).

Inside :func:`literal_elements`, the Elements folium and branca make take their text as
it is: the text Jinja would have given for it when it holds no template syntax (one final
line break dropped, line breaks made ``\\n``), and the same, not evaluated, when it does.
The templates folium compiles while rendering (a tooltip's style, per layer) are compiled
once per text. The library's names are swapped for the duration of the outermost block, but
the swap acts only in the threads inside a block: another thread building folium or branca
Elements meanwhile (whose texts may be templates on purpose, such as branca's ``Div``) gets
the library's own templates.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

_NEWLINES = re.compile(r"\r\n|\r|\n")
_LOCK = threading.RLock()
_DEPTH = 0  # blocks open, in every thread (the library's names are swapped while > 0)
_SAVED: dict[str, Any] = {}
_HERE = threading.local()  # .depth: blocks open in this thread


class _Literal:
    """A template whose output is its own text (as Jinja gives a text without syntax)."""

    __slots__ = ("text",)

    def __init__(self, source: str):
        text = str(source)
        if "\r" in text:  # Jinja's lexer turns every line break into "\n"
            text = _NEWLINES.sub("\n", text)
        self.text = text[:-1] if text.endswith("\n") else text  # and drops the last one

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self.text


@lru_cache(maxsize=128)
def _folium_template(source: str):
    """folium's Template of ``source``, compiled once per text."""
    from folium.template import Template

    return Template(source)


def _in_block() -> bool:
    return getattr(_HERE, "depth", 0) > 0


def _branca_template(source: str):
    """branca's ``Template`` while a block is open: literal in a thread inside a block."""
    return _Literal(source) if _in_block() else _SAVED["branca"](source)


def _folium_features_template(source: str):
    """folium's ``Template`` (features) while a block is open: compiled once per text in a
    thread inside a block."""
    return _folium_template(source) if _in_block() else _SAVED["folium"](source)


@contextmanager
def literal_elements() -> Iterator[None]:
    """Within this block, branca Elements built from text keep that text as it is (never
    run as a template) and folium compiles each of its render-time templates once.

    Re-entrant; the library's own names are put back when the outermost block ends.

    Examples
    --------
    >>> from branca.element import Element
    >>> with literal_elements():
    ...     e = Element("{{ 7*7 }}\\n")
    >>> e.render(), Element("{{ 7*7 }}").render()
    ('{{ 7*7 }}', '49')
    """
    global _DEPTH
    import branca.element
    import folium.features

    with _LOCK:
        if _DEPTH == 0:
            # (a branca or folium without these names is left alone: its pages as before)
            _SAVED["branca"] = vars(branca.element).get("Template")
            _SAVED["folium"] = vars(folium.features).get("Template")
            if _SAVED["branca"] is not None:
                vars(branca.element)["Template"] = _branca_template
            if _SAVED["folium"] is not None:
                vars(folium.features)["Template"] = _folium_features_template
        _DEPTH += 1
    _HERE.depth = getattr(_HERE, "depth", 0) + 1
    try:
        yield
    finally:
        _HERE.depth -= 1
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                for module, key in ((branca.element, "branca"), (folium.features, "folium")):
                    saved = _SAVED[key]  # kept: a thread may still be calling the swap
                    if saved is not None:
                        vars(module)["Template"] = saved

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

folium and branca compile their classes' templates (about sixty) when they are imported, in
every process that draws a map: two thirds of folium's import. Inside
:func:`templates_compiled_once` (around that import) each text's compiled code is kept in
jinja2's own bytecode cache (:class:`jinja2.FileSystemBytecodeCache`, in its default
folder), so that the next process loads it instead of compiling it again.
"""

from __future__ import annotations

import hashlib
import re
import threading
import types
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


#: The settings of a jinja2 Environment that change the code it compiles from a text.
_SYNTAX = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "autoescape",
    "is_async",
)


def _code_key(env, source: str) -> str | None:
    """The cache's name for ``source`` compiled by ``env``: the jinja2 version, the
    environment's class, syntax and extensions, and the text; None when ``env`` decides
    something by a function (an ``autoescape`` callable), which a key cannot hold."""
    import jinja2

    if callable(env.autoescape):
        return None
    parts = [jinja2.__version__, f"{type(env).__module__}.{type(env).__qualname__}"]
    parts += [repr(getattr(env, name, None)) for name in _SYNTAX]
    parts += sorted(env.extensions)
    parts.append(source)
    return "impactzones-template:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


@contextmanager
def templates_compiled_once() -> Iterator[None]:
    """Within this block, a template made from a text (``Environment.from_string``, as
    folium's and branca's classes make theirs when imported) takes its compiled code from
    jinja2's bytecode cache, where the first process to compile it left it; without a
    usable cache folder, templates compile as usual.

    Not re-entrant across threads: meant for one import, in the thread that imports.

    Examples
    --------
    >>> import jinja2
    >>> with templates_compiled_once():
    ...     t = jinja2.Template("{{ 6 * 7 }} {{ name|upper }}")
    >>> t.render(name="ok")
    '42 OK'
    """
    import jinja2

    try:
        cache = jinja2.FileSystemBytecodeCache()  # jinja2's own folder, private to the user
    except (OSError, RuntimeError):
        cache = None
    if cache is None:
        yield
        return
    compile_text = jinja2.Environment.compile

    def compile_once(self, source, name=None, filename=None, raw=False, defer_init=False):
        plain = (name, filename, raw, defer_init) == (None, None, False, False)
        key = _code_key(self, source) if plain else None
        if key is None:
            return compile_text(self, source, name, filename, raw, defer_init)
        try:  # a damaged file's pickle may raise nearly anything (a missing module...)
            bucket = cache.get_bucket(self, key, None, source)
        except Exception:
            return compile_text(self, source)
        if not isinstance(bucket.code, types.CodeType):  # none kept, or not code
            bucket.code = compile_text(self, source)
            try:
                cache.set_bucket(bucket)
            except OSError:
                pass
        return bucket.code

    jinja2.Environment.compile = compile_once  # type: ignore[method-assign]
    try:
        yield
    finally:
        jinja2.Environment.compile = compile_text  # type: ignore[method-assign]

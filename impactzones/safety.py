"""Safe output names, the output-folder fence and script-safe text.

Three rules, used by every writer and every map:

* **File names from slugs.** A name that comes from a user's data (a zone, a district) becomes
  part of a file name only through :func:`slugify`: ASCII letters, digits, ``-`` and ``_``.
  :class:`Slugs` makes them unique within a run (``North`` and ``north`` give ``north`` and
  ``north-2``).
* **Nothing outside ``--out``.** While :func:`output_root` is active, every atomic write
  (:func:`impactzones.io.write_text` and friends) checks with :func:`check_inside` that its
  path resolves inside the output folder, and refuses otherwise.
* **Script contexts get JSON.** A user string that reaches JavaScript source goes through
  :func:`js_literal` (JSON with ``<``, ``>``, ``&``, ``'``, U+2028 and U+2029 escaped), never
  spliced into a template literal.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

__all__ = [
    "MAX_SLUG",
    "Slugs",
    "check_inside",
    "js_literal",
    "output_root",
    "slugify",
    "writes_into",
]

_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar("iz_output_root", default=None)
_UNSAFE = re.compile(r"[^a-z0-9_-]+")
#: Longest slug kept (file systems allow 255 bytes; the prefixes and suffixes need room).
MAX_SLUG = 60


def slugify(text: object, default: str = "unnamed") -> str:
    """A file-name-safe slug: lower-case ASCII letters, digits, ``-`` and ``_`` only.

    Accents are folded (``Dutchtown Süd`` -> ``dutchtown_sud``); every other run of
    characters becomes one ``_``; an empty result is ``default``.

    Examples
    --------
    >>> slugify("../../etc/passwd"), slugify("a/b\\\\c"), slugify("North Side")
    ('etc_passwd', 'a_b_c', 'north_side')
    >>> slugify("/"), slugify("Dutchtown Süd")
    ('unnamed', 'dutchtown_sud')
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = _UNSAFE.sub("_", ascii_text.lower()).strip("_-")[:MAX_SLUG].strip("_-")
    return slug or default


class Slugs:
    """Unique slugs within one run: a repeat gets ``-2``, ``-3``... in order of asking.

    Examples
    --------
    >>> s = Slugs()
    >>> s("North"), s("north"), s("NORTH"), s("North")
    ('north', 'north-2', 'north-3', 'north')
    """

    def __init__(self) -> None:
        self._by_name: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, name: object) -> str:
        key = str(name)
        if key in self._by_name:
            return self._by_name[key]
        base = slugify(key)
        slug, n = base, 1
        while slug in self._taken:
            n += 1
            slug = f"{base}-{n}"
        self._taken.add(slug)
        self._by_name[key] = slug
        return slug


@contextmanager
def output_root(folder: str | Path) -> Iterator[Path]:
    """Fence every atomic write inside ``folder`` while the block runs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.io import write_text
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with output_root(d / "out"):
    ...     _ = write_text("ok", d / "out" / "a.txt")
    ...     write_text("no", d / "out" / ".." / "b.txt")
    Traceback (most recent call last):
    ...
    impactzones.errors.InputError: Refusing to write ... outside the output folder ...
    """
    root = Path(folder).resolve()
    token = _ROOT.set(root)
    try:
        yield root
    finally:
        _ROOT.reset(token)


def writes_into(param: str = "out") -> Callable:
    """Decorate a function that writes into the folder given as argument ``param``: while
    it runs, every write is fenced inside that folder (:func:`output_root`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.io import write_text
    >>> @writes_into("out")
    ... def save(name, out):
    ...     return write_text("x", pathlib.Path(out) / name)
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> save("a.txt", d).name
    'a.txt'
    >>> save("../a.txt", d)
    Traceback (most recent call last):
    ...
    impactzones.errors.InputError: Refusing to write ... outside the output folder ...
    """

    def decorate(func: Callable) -> Callable:
        sig = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = sig.bind_partial(*args, **kwargs)
            folder = bound.arguments.get(param, sig.parameters[param].default)
            if folder is None or folder is inspect.Parameter.empty:
                return func(*args, **kwargs)
            with output_root(folder):
                return func(*args, **kwargs)

        return wrapper

    return decorate


def check_inside(path: str | Path) -> Path:
    """``path`` resolved; an :class:`InputError` if it leaves the active output folder.

    Without an active :func:`output_root` any path is accepted (a user-chosen file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with output_root(d):
    ...     check_inside(d / "x.csv") == (d / "x.csv").resolve()
    True
    """
    resolved = Path(path).resolve()
    root = _ROOT.get()
    if root is not None and resolved != root and root not in resolved.parents:
        raise InputError(
            f"Refusing to write {resolved} outside the output folder {root}; a name in the "
            "data must not choose where files go."
        )
    return resolved


_JS_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def js_literal(value: object) -> str:
    """``value`` as a JavaScript literal that is safe inside an HTML ``<script>``.

    JSON-encoded, then ``<``, ``>``, ``&``, ``'``, U+2028 and U+2029 escaped, so neither
    ``</script>`` nor a quote, backtick or ``${`` can end the literal.

    Examples
    --------
    >>> print(js_literal("</script>`${alert(1)}`"))
    "\\u003c/script\\u003e`${alert(1)}`"
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return re.sub("[<>&'\u2028\u2029]", lambda m: _JS_ESCAPES[m.group(0)], text)

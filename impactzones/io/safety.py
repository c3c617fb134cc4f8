"""Safe output names and script-safe text.

Three rules, used by every writer and every map:

* **File names from slugs.** A name that comes from a user's data (a zone, a district) becomes
  part of a file name only through :func:`slugify`: ASCII letters, digits, ``-`` and ``_``.
  :class:`Slugs` makes them unique within a run (``North`` and ``north`` give ``north`` and
  ``north-2``).
* **Nothing outside ``--out``.** The fence lives with the atomic writer
  (:mod:`impactzones.core.files`): while :func:`~impactzones.core.files.output_root` is
  active, every write checks that its path resolves inside the output folder.
* **Markdown gets escaped text.** A user string that reaches a Markdown file goes through
  :func:`markdown_text`: ``&``, ``<`` and ``>`` as HTML entities (Markdown passes raw HTML
  through), ``|``, ``[`` and ``]`` backslash-escaped, line breaks as spaces.
* **Messages get one printable line.** A user string quoted in a message (a column name, a
  file name) goes through :func:`message_text`: control characters (line breaks, tabs, ANSI
  escape codes, bidirectional overrides) as visible escapes, and a very long one cut short,
  so the message stays one readable line and cannot restyle or rewrite the terminal.
* **Script contexts get JSON.** A user string that reaches JavaScript source goes through
  :func:`js_literal` (JSON with ``<``, ``>``, ``&``, ``'``, U+2028 and U+2029 escaped), never
  spliced into a template literal.
"""

from __future__ import annotations

import json
import re
import unicodedata

from ..core.messages import message_list, message_text

__all__ = [
    "MAX_SLUG",
    "Slugs",
    "js_literal",
    "markdown_text",
    "message_list",
    "message_text",
    "slugify",
    "source_label",
]

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


_MD_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "[": "\\[", "]": "\\]"}


def markdown_text(value: object) -> str:
    """``value`` as text for a Markdown file (a table cell or a line): ``&``, ``<``, ``>``
    as entities (Markdown renders raw HTML), ``|`` (a table's column break), ``[`` and ``]``
    (links) backslash-escaped, and line breaks as spaces, so it renders as the same text.

    Examples
    --------
    >>> print(markdown_text("<script>alert(1)</script> & a|b\\n[x](javascript:y)"))
    &lt;script&gt;alert(1)&lt;/script&gt; &amp; a\\|b \\[x\\](javascript:y)
    """
    text = re.sub(r"\r\n|[\r\n\u2028\u2029]", " ", str(value))
    return re.sub(r"[&<>|\[\]]", lambda m: _MD_ESCAPES[m.group(0)], text)




def source_label(inputs: object) -> str:
    """The input files as a page may name them: each file's name (a folder: its name),
    never the machine path it was read from (maps and briefs leave the machine).

    ``inputs`` is a path, a list of paths, or text already joined with ``", "`` (each
    part that is an absolute path, or names a file or folder that exists, reduced the same
    way; other text, such as ``"synthetic (seed 1)"``, is kept as it is).

    Examples
    --------
    >>> source_label(["/tmp/rev_demo/incidents.parquet", "exports/2019.csv"])
    'incidents.parquet, 2019.csv'
    >>> source_label("/work/shared/real/incidents/slu-soc5650_crime-data-sp22/")
    'slu-soc5650_crime-data-sp22'
    >>> source_label("synthetic (seed 1, scale 0.1)")
    'synthetic (seed 1, scale 0.1)'
    >>> source_label("a </b> label")
    'a </b> label'
    """
    import os

    parts: list = (
        inputs.split(", ")
        if isinstance(inputs, str)
        else [inputs]
        if isinstance(inputs, os.PathLike)
        else list(inputs)  # type: ignore[call-overload]
    )
    names = []
    for part in parts:
        text = os.fspath(part) if isinstance(part, os.PathLike) else str(part)
        if isinstance(inputs, str) and not _is_path(text):
            names.append(text)
            continue
        text = text.rstrip("/\\") or text
        names.append(re.split(r"[/\\]", text)[-1])
    return ", ".join(names)


def _is_path(text: str) -> bool:
    """Whether ``text`` names a place on a machine: absolute (``/x``, ``C:\\x``, ``~/x``)
    or an existing file or folder."""
    import os

    if os.path.isabs(text) or re.match(r"^([A-Za-z]:[\\/]|~[\\/]|\\\\)", text):
        return True
    try:
        return os.path.exists(text)
    except (OSError, ValueError):
        return False

"""Quoting user text in one-line messages: a file's or column's name printed in an error or a
warning cannot break the line, send terminal escape codes or flood the screen.

Light on purpose (standard library only): the command line's error path uses it without
importing pandas. :mod:`impactzones.io.safety` re-exports both functions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = ["MAX_LISTED", "MAX_QUOTED", "message_list", "message_text"]


#: Longest user string a message quotes whole (characters).
MAX_QUOTED = 60


def message_text(value: object, limit: int | None = MAX_QUOTED) -> str:
    """``value`` as a one-line message may quote it: every character a terminal does not
    show as itself (line breaks, tabs, ANSI escape codes, bidirectional overrides, U+2028...)
    as its Python escape (``\\n``, ``\\x1b``, ``\\u202e``), and text longer than ``limit``
    characters (None: no limit) cut to its start and end around ``…``, with its length.

    Parameters
    ----------
    value : object
        The user's text (a column name, a file name...); converted with ``str``.
    limit : int or None, default :data:`MAX_QUOTED`
        Most characters shown, in characters of the escaped text.

    Returns
    -------
    str
        The same text when it is printable and short enough.

    Examples
    --------
    >>> message_text("Lat"), message_text("La\\nt"), message_text("\\x1b[31mLat\\x1b[0m")
    ('Lat', 'La\\\\nt', '\\\\x1b[31mLat\\\\x1b[0m')
    >>> message_text("x" * 4990 + "latitude", limit=20)
    'xxxxxxxxxxxxx…titude (4,998 characters)'
    >>> message_text("Saint\\u00a0Louis \\u202eevil") == "Saint\\u00a0Louis \\\\u202eevil"
    True
    """
    text = str(value)
    shown = "".join(
        ch.encode("unicode_escape").decode("ascii") if _hidden(ch) else ch for ch in text
    )
    if limit is not None and len(shown) > limit:  # the start and the end: names often differ there
        keep = max(limit - 1, 2)
        end = min(8, keep // 3)
        shown = f"{shown[: keep - end]}…{shown[len(shown) - end :]} ({len(text):,} characters)"
    return shown


#: Most column names a message lists.
MAX_LISTED = 40


def _hidden(ch: str) -> bool:
    """A character a terminal does not show as itself: controls, formats (bidirectional
    overrides, zero-width), line and paragraph separators, surrogates, unassigned."""
    kind = unicodedata.category(ch)
    return kind[0] == "C" or kind in ("Zl", "Zp")


def message_list(names: Iterable[object], most: int = MAX_LISTED) -> str:
    """Names (a file's columns...) as a message lists them: each on one printable line
    (:func:`message_text`), the first ``most``, then how many more.

    Examples
    --------
    >>> message_list(["id", "La\\nt", "x" * 500])
    'id, La\\\\nt, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…xxxxxxxx (500 characters)'
    >>> message_list(range(50), most=3)
    '0, 1, 2 and 47 more'
    """
    names = list(names)
    shown = ", ".join(message_text(n) for n in names[:most])
    return shown + (f" and {len(names) - most:,} more" if len(names) > most else "")

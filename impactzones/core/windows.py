"""Time windows and incident selection (by period, category or group).

A :class:`Window` is a closed range of calendar days: ``start`` and ``end`` are both
included, so ``Window.year(2019, end="09-01")`` runs from 1 January to 1 September
inclusive (244 days), like the published 2019 St. Louis counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from .errors import InputError
from .schema import GROUPS, SENSITIVE_CATEGORIES, UCR_CATEGORIES

__all__ = [
    "Window",
    "compare_phrase",
    "parse_window",
    "select",
]


@dataclass(frozen=True)
class Window:
    """A closed range of days, ``start`` to ``end`` inclusive."""

    start: dt.date
    end: dt.date

    def __post_init__(self):
        if self.end < self.start:
            raise InputError(f"A window cannot end ({self.end}) before it starts ({self.start}).")

    @classmethod
    def year(cls, year: int, start: str = "01-01", end: str = "12-31") -> Window:
        """A calendar year, or the part of it between two month-days."""
        return cls(dt.date.fromisoformat(f"{year}-{start}"), dt.date.fromisoformat(f"{year}-{end}"))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if (
            self.start.month == 1
            and self.start.day == 1
            and self.end == dt.date(self.start.year, 12, 31)
        ):
            return str(self.start.year)
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    def contains(self, times: pd.Series) -> pd.Series:
        """Which timestamps fall in the window (any time of day on its first and last day)."""
        lo = pd.Timestamp(self.start)
        hi = pd.Timestamp(self.end) + pd.Timedelta(days=1)
        return (times >= lo) & (times < hi)

    def same_days_in(self, year: int) -> Window:
        """The same calendar days in another year (29 February becomes 28 February)."""

        def move(d: dt.date) -> dt.date:
            try:
                return d.replace(year=year)
            except ValueError:
                return d.replace(year=year, day=28)

        return Window(move(self.start), move(self.end))


def compare_phrase(before: Window, after: Window) -> str:
    """Two windows in a few words: ``"2017 vs 2018"`` or ``"2018 vs 2019, 1 January to 1
    September"`` when they cover the same calendar days of two years.

    Examples
    --------
    >>> compare_phrase(Window.year(2017), Window.year(2018))
    '2017 vs 2018'
    >>> compare_phrase(Window.year(2018, end="09-01"), Window.year(2019, end="09-01"))
    '2018 vs 2019, 1 January to 1 September'
    """
    b, a = before, after
    if b.label.isdigit() and a.label.isdigit():
        return f"{b.label} vs {a.label}"
    same_days = (
        b.start.year == b.end.year
        and a.start.year == a.end.year
        and (b.start.month, b.start.day, b.end.month, b.end.day)
        == (a.start.month, a.start.day, a.end.month, a.end.day)
    )
    if same_days:
        return (
            f"{b.start.year} vs {a.start.year}, {b.start.day} {b.start:%B} to "
            f"{b.end.day} {b.end:%B}"
        )
    return f"{b.label} vs {a.label}"


def parse_window(value) -> Window:
    """A window from a year (``2018``), a ``"START:END"`` string, a pair of dates, or a Window.

    Examples
    --------
    >>> parse_window(2018).days
    365
    >>> parse_window("2019-01-01:2019-09-01").days
    244
    >>> parse_window(("2018-03-01", "2018-03-31")).label
    '2018-03-01 to 2018-03-31'
    """
    if isinstance(value, Window):
        return value
    if isinstance(value, (int,)) or (isinstance(value, str) and value.strip().isdigit()):
        return Window.year(int(value))
    given = value
    if isinstance(value, str) and ":" in value:
        value = tuple(value.split(":", 1))
    if isinstance(value, (tuple, list)) and len(value) == 2:
        a, b = (_window_date(v, given) for v in value)
        return Window(a, b)
    raise InputError(
        f"Cannot read the window {value!r}: give a year (2018) or START:END "
        "(2019-01-01:2019-09-01)."
    )


def _window_date(value, window) -> dt.date:
    """One end of a window as a date, or one sentence naming the date that cannot be read."""
    shown = ":".join(map(str, window)) if isinstance(window, (tuple, list)) else str(window)
    try:
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            raise ValueError("no date")
        return stamp.date()
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"Cannot read the date {str(value).strip()!r} in the window {shown!r}; "
            "use real YYYY-MM-DD dates (START:END)."
        ) from exc


def select(
    incidents: pd.DataFrame,
    *,
    window: Window | None = None,
    start=None,
    end=None,
    category: str | list[str] | None = None,
    group: str | list[str] | None = None,
) -> pd.DataFrame:
    """Incidents in a window (or between ``start`` and ``end``, inclusive days) and of the
    given categories or groups.

    Examples
    --------
    >>> df = pd.DataFrame({"occurred_at": pd.to_datetime(["2018-01-01", "2019-01-01"]),
    ...                    "category": ["robbery", "burglary"], "group": ["violent", "property"]})
    >>> len(select(df, start="2018-01-01", end="2018-12-31", group="violent"))
    1
    """
    mask = pd.Series(True, index=incidents.index)
    if window is None and (start is not None or end is not None):
        lo = pd.Timestamp(start).date() if start is not None else dt.date(1, 1, 1)
        hi = pd.Timestamp(end).date() if end is not None else dt.date(9999, 12, 30)
        window = Window(lo, hi)
    if window is not None:
        mask &= window.contains(incidents["occurred_at"])
    if category is not None:
        cats = [category] if isinstance(category, str) else list(category)
        _check_categories(cats, incidents["category"])
        mask &= incidents["category"].isin(cats)
    if group is not None:
        groups = [group] if isinstance(group, str) else list(group)
        bad = set(groups) - set(GROUPS)
        if bad:
            raise InputError(f"Unknown group(s) {sorted(bad)}; use {', '.join(GROUPS)}.")
        mask &= incidents["group"].isin(groups)
    return incidents[mask]


def _check_categories(cats: list[str], present: pd.Series) -> None:
    """Refuse category names that are neither a schema category nor in the data, naming
    them and listing the data's categories."""
    in_data = set(present.dropna().astype(str))
    known = set(UCR_CATEGORIES.values()) | set(SENSITIVE_CATEGORIES) | in_data
    unknown = [c for c in cats if c not in known]
    if unknown:
        noun = "category" if len(unknown) == 1 else "categories"
        raise InputError(
            f"Unknown {noun} {', '.join(map(repr, unknown))}; the data's categories are "
            f"{', '.join(sorted(in_data))}."
        )

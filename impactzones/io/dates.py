"""Dates as agencies write them: one format per column, parsed vectorised, and honest.

:func:`parse_dates` looks at a sample of a column once, decides its format (ISO 8601 with
or without ``T``, with ``Z`` or an offset; ``MM/DD/YYYY hh:mm:ss AM/PM``;
``MM/DD/YYYY HH:MM``; ``DD.MM.YYYY``; Excel serial days; a separate time column), parses
the whole column with that one format (pandas' vectorised parser), and falls back to
parsing row by row only for the rows that fail, saying how many.

**Day first or month first** is decided per column from the data: a first field above 12
means day first, a second field above 12 means month first. A column where neither
happens is ambiguous and refused unless ``dayfirst`` is given (``--dayfirst`` /
``--monthfirst``) or the dataset profile knows (US agencies write month first); a column
where both happen is refused as inconsistent.

**Time zones.** Times are stored as local wall-clock times of the study's time zone
(``--timezone``; default the profile's, or ``America/Chicago`` for the bundled city).
Timestamps that carry ``Z`` or an offset are converted to that zone, mixed offsets
included; timestamps without one are taken as already local.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.errors import InputError

__all__ = [
    "DEFAULT_TIMEZONE",
    "ParsedDates",
    "check_range",
    "future_bound",
    "infer_format",
    "parse_dates",
]

#: The time zone of the bundled city (St. Louis).
DEFAULT_TIMEZONE = "America/Chicago"

_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_SLASH = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})"
    r"(?:[ T](?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?:\.\d+)?\s*(?P<p>[AaPp][Mm])?)?$"
)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


@dataclass
class ParsedDates:
    """The result of :func:`parse_dates`.

    Attributes
    ----------
    values : Series of datetime64[ns]
        Local wall-clock times (no time zone); NaT where unreadable.
    format : str
        The format chosen for the column (a strptime pattern, ``ISO8601``, ``excel``).
    fallback : int
        Rows that did not fit the format and were parsed one by one (and read).
    converted : int
        Rows that carried a time zone (``Z`` or an offset) and were converted.
    year : Series of float
        For unreadable rows, the four-digit year written in them, if any (so that a
        ``1019`` typo is reported as too early rather than as unreadable).
    """

    values: pd.Series
    format: str
    fallback: int = 0
    converted: int = 0
    year: pd.Series | None = None


def _order(a: pd.Series, b: pd.Series, dayfirst: bool | None, name: str) -> bool:
    """True for day first, from the values (or the caller's choice).

    Only rows that could be a date count as evidence (both fields at most 31, not both
    above 12): one garbled row does not decide a column.
    """
    valid = (a <= 31) & (b <= 31) & ~((a > 12) & (b > 12))
    a_big, b_big = bool((valid & (a > 12)).any()), bool((valid & (b > 12)).any())
    if dayfirst is not None:
        return dayfirst
    if a_big and b_big:
        raise InputError(
            f"The dates in {name} are inconsistent: some have the day first and some the "
            "month first (both fields go above 12); give the order with --dayfirst or "
            "--monthfirst (rows that do not fit it are rejected)."
        )
    if a_big or b_big:
        return a_big
    raise InputError(
        f"The dates in {name} are ambiguous: no day is above 12, so 01/05 could be 1 May or "
        "5 January; say which with --dayfirst or --monthfirst."
    )


def infer_format(sample: pd.Series, *, dayfirst: bool | None = None, name: str = "the file"):
    """The one format of a date column, from a sample of its (non-empty) text values.

    Returns ``(format, aware)``: a strptime pattern, ``"ISO8601"`` or ``"excel"``, and
    whether some values carry a time zone.

    Examples
    --------
    >>> infer_format(pd.Series(["05/01/2018 11:30:00 PM", "12/31/2018 01:00:00 AM"]))
    ('%m/%d/%Y %I:%M:%S %p', False)
    >>> infer_format(pd.Series(["13.05.2018", "01.05.2018"]))
    ('%d.%m.%Y', False)
    >>> infer_format(pd.Series(["2018-05-01T10:00:00Z", "2018-05-01 10:00-05:00"]))
    ('ISO8601', True)
    """
    sample = sample[sample.ne("")]
    if not len(sample):
        return "ISO8601", False
    iso = sample.str.extract(_ISO)
    iso_ok = sample.str.match(_ISO)
    if iso_ok.mean() >= 0.5:
        return "ISO8601", bool(iso.loc[iso_ok, "tz"].notna().any())
    if sample.str.match(_SERIAL).mean() >= 0.5:
        return "excel", False
    parts = sample.str.extract(_SLASH)
    ok = parts["a"].notna()
    if ok.mean() < 0.5:
        return "mixed", False
    parts = parts[ok]
    sep = parts["sep"].mode().iloc[0]
    first = _order(parts["a"].astype(int), parts["b"].astype(int), dayfirst, name)
    fmt = f"%d{sep}%m{sep}%Y" if first else f"%m{sep}%d{sep}%Y"
    timed = parts["h"].notna()
    if timed.mean() >= 0.5:
        t = parts[timed]
        secs = t["s"].notna().mean() >= 0.5
        ampm = t["p"].notna().mean() >= 0.5
        fmt += (" %I:%M" if ampm else " %H:%M") + (":%S" if secs else "") + (" %p" if ampm else "")
    return fmt, False


def _excel(text: pd.Series) -> pd.Series:
    days = pd.to_numeric(text, errors="coerce")
    days = days.where((days > 1) & (days < 2_958_466))
    return pd.Timestamp("1899-12-30") + pd.to_timedelta(days, unit="D")


def _iso(text: pd.Series, aware: bool, tz: str) -> tuple[pd.Series, int]:
    if not aware:
        return pd.to_datetime(text, format="ISO8601", errors="coerce"), 0
    has_tz = text.str.contains(r"[T ]\d{1,2}:\d{2}.*(?:Z|[+-]\d{2}(?::?\d{2})?)$", regex=True)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if has_tz.any():
        utc = pd.to_datetime(text[has_tz], format="ISO8601", errors="coerce", utc=True)
        out[has_tz] = utc.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[ns]")
    if (~has_tz).any():
        out[~has_tz] = pd.to_datetime(text[~has_tz], format="ISO8601", errors="coerce")
    return out, int(has_tz.sum())


def parse_dates(
    values,
    *,
    time=None,
    dayfirst: bool | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    name: str = "the file",
    sample_size: int = 2000,
) -> ParsedDates:
    """Parse a date (and optional time) column with one format inferred from a sample.

    Parameters
    ----------
    values : sequence of str or datetime
        The date (or date-time) column.
    time : sequence of str, optional
        A separate time column (``HH:MM``, ``HH:MM:SS``, ``hh:mm AM`` or ``HHMM`` such as
        LAPD's ``2130`` or ``5`` for 00:05); a time inside ``values`` is then ignored.
    dayfirst : bool, optional
        Day first (True) or month first (False) for slash and dot dates; None decides
        from the data and refuses an ambiguous column.
    timezone : str
        The study's time zone (IANA name); aware values are converted to it.
    name : str
        How to name the column in messages.
    sample_size : int
        Distinct values looked at to choose the format.

    Returns
    -------
    ParsedDates

    Examples
    --------
    >>> r = parse_dates(["05/01/2018 11:30:00 PM", "05/13/2018 01:05:00 AM", "garbage"])
    >>> r.values.tolist()[:2]
    [Timestamp('2018-05-01 23:30:00'), Timestamp('2018-05-13 01:05:00')]
    >>> r.format, r.fallback
    ('%m/%d/%Y %I:%M:%S %p', 0)
    >>> parse_dates(["2018-07-01T15:00:00Z"], timezone="America/New_York").values[0]
    Timestamp('2018-07-01 11:00:00')
    """
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(timezone).dt.tz_localize(None)
        return ParsedDates(out.astype("datetime64[ns]"), "datetime")
    text = s.astype("string").fillna("").str.strip().astype(object)
    if time is not None:
        text = _join_time(text, pd.Series(time, index=s.index))
    uniq = pd.Series(text.unique())
    sample = uniq.sample(min(sample_size, len(uniq)), random_state=0) if len(uniq) else uniq
    fmt, aware = infer_format(sample.astype(str), dayfirst=dayfirst, name=name)
    converted = 0
    if fmt == "ISO8601":
        out, converted = _iso(text, aware, timezone)
    elif fmt == "excel":
        out = _excel(text)
    elif fmt == "mixed":
        out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    else:
        out = _with_format(text, fmt)
    out, year = _to_ns(pd.Series(out, index=text.index))
    todo = out.isna() & text.ne("") & year.isna()
    fallback = 0
    if todo.any():
        rest = _per_row(text[todo], dayfirst, timezone)
        fallback = int(rest.notna().sum())
        out[todo] = rest
    bad = out.isna() & text.ne("") & year.isna()
    if bad.any():
        found = text[bad].str.extract(r"(?<!\d)(\d{4})(?!\d)", expand=False)
        year[bad] = pd.to_numeric(found, errors="coerce")
    return ParsedDates(out.astype("datetime64[ns]"), fmt, fallback, converted, year)


#: Widths of the strptime fields a fixed-width layout may hold.
_WIDTH = {"d": 2, "m": 2, "Y": 4, "H": 2, "I": 2, "M": 2, "S": 2, "p": 2}


def _fixed_width(fmt: str) -> tuple[str, int] | None:
    """The strict pattern of ``fmt`` with every field at its full width (``05/01/2018 01:05:00
    PM``), and where its day starts; None for formats with other fields."""
    pattern, pos, day, i = "^", 0, -1, 0
    while i < len(fmt):
        if fmt[i] == "%":
            code = fmt[i + 1 : i + 2]
            if code not in _WIDTH:
                return None
            day = pos if code == "d" else day
            pattern += "[AaPp][Mm]" if code == "p" else rf"\d{{{_WIDTH[code]}}}"
            pos, i = pos + _WIDTH[code], i + 2
        else:
            pattern, pos, i = pattern + re.escape(fmt[i]), pos + 1, i + 1
    return (pattern + "$", day) if day >= 0 else None


def _with_format(text: pd.Series, fmt: str) -> pd.Series:
    """``pd.to_datetime(text, format=fmt, errors="coerce")``, the same values, faster.

    Values written at the format's full width are parsed by pyarrow's strptime (a 12-hour
    ``%I ... %p`` column takes pandas about ten times as long as an ISO one); a parsed day
    that differs from the written one (``02/30`` rolled over into March) and every other
    value go to pandas.
    """
    spec = _fixed_width(fmt)
    if spec is None or not len(text):
        return pd.to_datetime(text, format=fmt, errors="coerce")
    import pyarrow as pa
    import pyarrow.compute as pc

    pattern, day = spec
    arr = pa.array(text.to_numpy(dtype=object), type=pa.string())
    fits = np.asarray(pc.match_substring_regex(arr, pattern).fill_null(False), dtype=bool)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if fits.any():
        sub = arr.filter(pa.array(fits))
        parsed = pc.strptime(sub, format=fmt, unit="s", error_is_null=True)
        written = pc.cast(pc.utf8_slice_codeunits(sub, day, day + 2), pa.int64())
        same = np.asarray(pc.equal(pc.day(parsed), written).fill_null(False), dtype=bool)
        values = parsed.to_numpy(zero_copy_only=False).astype("datetime64[us]")
        rows = np.flatnonzero(fits)[same]
        out.iloc[rows] = values[same]
    rest = out.isna().to_numpy() & text.ne("").to_numpy()
    if rest.any():
        slow = pd.to_datetime(text[rest], format=fmt, errors="coerce")
        out[rest] = slow.astype("datetime64[us]")
    return out


def _to_ns(out: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Nanosecond timestamps; years outside their range (1678-2261) become NaT, their year
    kept aside so that the row is rejected as too early or too late, not as unreadable."""
    year = pd.Series(np.nan, index=out.index)
    if str(out.dtype) != "datetime64[ns]" and pd.api.types.is_datetime64_any_dtype(out):
        lo, hi = pd.Timestamp.min.ceil("s"), pd.Timestamp.max.floor("s")
        outside = out.notna() & ((out < lo) | (out > hi))
        if outside.any():
            year[outside] = out[outside].dt.year.astype(float)
            out = out.where(~outside)
    return out.astype("datetime64[ns]"), year


def _per_row(text: pd.Series, dayfirst: bool | None, tz: str) -> pd.Series:
    """Rows that did not fit the column's format, parsed one by one."""
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, v in text.items():
            try:
                t = pd.to_datetime(v, dayfirst=bool(dayfirst))
            except (ValueError, OverflowError, TypeError):
                continue
            if t is pd.NaT:
                continue
            if t.tzinfo is not None:
                t = t.tz_convert(tz).tz_localize(None)
            out[i] = t
    return out


def _join_time(date: pd.Series, time: pd.Series) -> pd.Series:
    """A date column (time part dropped) and a separate time column, as one text."""
    d = date.str.replace(r"[ T].*$", "", regex=True)
    t = time.astype("string").fillna("").str.strip().astype(object)
    hhmm = t.str.fullmatch(r"\d{1,4}")
    padded = t.where(~hhmm, t.str.zfill(4).str[:2] + ":" + t.str.zfill(4).str[2:])
    return pd.Series(np.where(padded.ne(""), d + " " + padded, d), index=date.index, dtype=object)


def future_bound(values: pd.Series, *, floor: str | pd.Timestamp = "1970-01-01") -> pd.Timestamp:
    """The latest believable date when no ``--as-of`` is given, from the dates alone.

    The rule is Tukey's far-out fence on the dates from ``floor`` on: the upper quartile
    plus three interquartile ranges, and at least 366 days after the upper quartile. It uses
    no clock, so the same files give the same rejects whatever the day the command runs;
    typing slips such as ``2099`` or ``2081`` for ``2018`` lie far beyond it. A file with no
    readable date gets ``Timestamp.max`` (nothing is in the future).

    Examples
    --------
    >>> year = pd.date_range("2018-01-01", periods=12, freq="MS")  # a year of dates
    >>> v = pd.Series(year.append(pd.DatetimeIndex(["2099-01-01"])))  # and a typing slip
    >>> future_bound(v) < pd.Timestamp("2099-01-01")
    True
    >>> future_bound(v) > pd.Timestamp("2019-12-31")
    True
    """
    v = pd.Series(values)
    v = v[v.notna() & (v >= pd.Timestamp(floor))]
    if not len(v):
        return pd.Timestamp.max
    ns = v.to_numpy("datetime64[ns]").astype(np.int64)
    q1, q3 = np.quantile(ns, [0.25, 0.75])
    pad = max(3 * (q3 - q1), 366 * 86_400 * 1e9)
    return pd.Timestamp(int(q3 + pad))


def check_range(
    values: pd.Series,
    *,
    floor: str | pd.Timestamp = "1970-01-01",
    today=None,
    year: pd.Series | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of dates in the future and dates before ``floor`` (both rejected).

    "Future" means after the day ``today`` (the ``--as-of`` day, included) when it is
    given, otherwise after :func:`future_bound` of the dates: the system clock is never read,
    so the rejects do not change with the day the command runs. ``year`` (see
    :class:`ParsedDates`) catches years too far out to be a timestamp at all (``1019``,
    ``2919``).

    Examples
    --------
    >>> year = pd.date_range("2018-01-01", periods=12, freq="MS")  # a year of dates
    >>> v = pd.Series(pd.DatetimeIndex(["1900-01-01"]).append(year).append(
    ...     pd.DatetimeIndex(["2099-01-01"])))
    >>> fut, old = check_range(v, today="2026-01-01")
    >>> fut[[0, 1, -1]].tolist(), old[[0, 1, -1]].tolist(), int(fut.sum()), int(old.sum())
    ([False, False, True], [True, False, False], 1, 1)
    >>> check_range(v)[0][[0, 1, -1]].tolist()  # no as-of day: the bound comes from the dates
    [False, False, True]
    """
    v = pd.Series(values)
    if today is not None:
        end = pd.Timestamp(today).normalize() + pd.Timedelta(days=1)
        future = (v >= end).to_numpy().copy()
    else:
        end = future_bound(v, floor=floor)
        future = (v > end).to_numpy().copy()
    old = (v < pd.Timestamp(floor)).to_numpy().copy()
    if year is not None:
        y = pd.Series(year).to_numpy(float)
        future |= v.isna().to_numpy() & (y > end.year)
        old |= v.isna().to_numpy() & (y < pd.Timestamp(floor).year)
    return future, old

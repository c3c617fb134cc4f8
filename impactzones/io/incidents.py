"""Reading incidents: every row used or rejected with a reason.

The one rule: **nothing is lost silently**. Every input row ends either in the incidents or
in the rejects table with a reason (:data:`~impactzones.io.tables.REASONS`), and
``used + rejected == read``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from ..core.errors import InputError
from ..core.geo import WGS84, WORK_CRS
from ..core.schema import (
    AREA_LABELS,
    COLUMNS,
    group_of,
)
from .dates import check_range, future_bound
from .offenses import read_mapping
from .safety import message_text
from .tables import (
    EXTRA_COLUMNS,
    REASONS,
    _concat,
    _Options,
    _read_one,
    expand_paths,
    release_memory,
)

__all__ = [
    "LoadResult",
    "read_incidents",
]

# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------

#: What to check when every row was rejected, for the most common reason (a reject code of
#: :data:`~impactzones.io.tables.REASONS`); most outside the study area has its own hint.
FIXES = {
    "no_location": "check that the coordinate columns are found and filled (map them with "
    "--columns lat=...,lon=... or x=...,y=... with --crs)",
    "bad_coordinates": "check that the coordinates are latitude and longitude in degrees, or "
    "give their CRS (--crs)",
    "unparseable_date": "check the date column and its format (map it with --columns "
    "occurred_at=...; --dayfirst or --monthfirst for dates like 01/05/2018)",
    "unknown_category": "check the category or crime-code column (map it with --columns "
    "category=... or code=..., or name the layout with --profile)",
    "date_before_floor": "check the date column, or lower --date-floor",
    "future_date": "check the date column, --as-of and --timezone",
    "not_a_point": "give one point per incident (polygons and lines are not read)",
    "ragged_row": "check the file's separator and quoting: rows have more or fewer fields "
    "than the header",
    "sensitive_no_point": "these are private incidents that `load` kept without their points; "
    "the commands that count by area (compare, compstat, cube, evaluate, explore, map) "
    "count them",
}


@dataclass
class LoadResult:
    """Clean incidents and the rows that were set aside.

    Attributes
    ----------
    incidents : GeoDataFrame
        In the schema of :mod:`impactzones.core.schema`, in the working CRS (metres), plus a
        ``source`` column naming the file each row came from.
    rejects : DataFrame
        One row per rejected input row: ``source, row, incident_id, reason, detail``
        (``row`` is the 1-based data row in its file).
    read : int
        Rows read from the inputs (``len(incidents) + len(rejects)``).
    sources : list of str
        The files read.
    """

    incidents: gpd.GeoDataFrame
    rejects: pd.DataFrame
    read: int
    unmapped: dict = field(default_factory=dict)
    disagreements: int = 0
    profiles: dict = field(default_factory=dict)
    dates: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)

    def require_incidents(self, boundary_given: bool = False) -> None:
        """Refuse, in one sentence naming the cause, a read that left no incidents: files
        with no rows (a header only, or no features), or every row rejected (the reasons
        counted). ``boundary_given``: the study area was the user's own (``--boundary``),
        so most rows outside it point at the coordinates or the boundary file, not at a
        missing boundary.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "inc.csv"
        >>> _ = path.write_text("id,date,category,lat,lon\\n")
        >>> read_incidents(path).require_incidents()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        impactzones.core.errors.InputError: inc.csv has no rows (a header only): there are ...

        Every row rejected: the most common reasons, and what to check for the first.

        >>> _ = path.write_text("id,date,category,lat,lon\\n1,2018-03-01,robbery,,\\n"
        ...                     "2,2018-03-02,robbery,,\\n3,2018-03-0x,robbery,38.63,-90.2\\n")
        >>> try:
        ...     read_incidents(path).require_incidents()
        ... except InputError as exc:
        ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
        No incidents are left: all 3 rows read were rejected (no_location (2),
        unparseable_date (1)); check that the coordinate columns are found and filled (map
        them with --columns lat=...,lon=... or x=...,y=... with --crs).
        """
        if len(self.incidents):
            return
        if self.read == 0:
            names = [Path(s).name for s in self.sources] or ["the input"]
            verb, what = ("has", "a header only") if len(names) == 1 else ("have", "headers only")
            if not any(Path(s).suffix.lower() in (".csv", ".txt", ".tsv") for s in self.sources):
                what = "no features"
            raise InputError(
                f"{', '.join(names)} {verb} no rows ({what}): there are no incidents to read."
            )
        reasons, hint = self._why_rejected(boundary_given)
        rows = "the one row read was" if self.read == 1 else f"all {self.read:,} rows read were"
        raise InputError(f"No incidents are left: {rows} rejected ({reasons}){hint}.")

    def _why_rejected(self, boundary_given: bool) -> tuple[str, str]:
        """The three most common reject reasons with their counts, and what to check for
        the most common one (``"; ..."``, or "")."""
        by = self.tally["rejected_by_reason"]
        common = sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))  # most common first
        reasons = ", ".join(f"{k} ({v:,})" for k, v in common[:3])
        if len(common) > 3:
            rest = sum(v for _k, v in common[3:])
            more = len(common) - 3
            reasons += f" and {more} other reason{'s' if more > 1 else ''} ({rest:,})"
        hint = f"; {FIXES[common[0][0]]}" if common and common[0][0] in FIXES else ""
        if by.get("outside_study_area", 0) * 2 > self.read:  # another city's incidents?
            hint = "; most lie outside the study area: give your city's --boundary"
            if boundary_given:
                hint = (
                    "; most lie outside the study area: check that --boundary is the same "
                    "city and the coordinates' CRS (--crs)"
                )
            if self.swapped_hint():
                hint = f"; {self.swapped_hint()}"
        return reasons, hint

    def swapped_hint(self) -> str:
        """One sentence when most rows fall outside the study area and most of those would
        fall inside with latitude and longitude swapped (a mix of swapped and right rows,
        which the per-file check does not refuse); else "".

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "inc.csv"
        >>> _ = path.write_text("id,date,category,lat,lon\\n1,2018-05-01,robbery,38.63,-90.2\\n")
        >>> read_incidents(path).swapped_hint()
        ''
        """
        rej = self.rejects
        out = rej["reason"].to_numpy() == "outside_study_area"
        if out.sum() * 2 <= self.read:
            return ""
        swapped = rej["detail"].astype(str).str.contains("swapped", regex=False).to_numpy()
        if (out & swapped).sum() * 2 <= out.sum():
            return ""
        return (
            f"{int(out.sum()):,} of the {self.read:,} rows fall outside the study area, and "
            f"{int((out & swapped).sum()):,} of them would fall inside with latitude and "
            "longitude swapped: check the files' coordinate columns (--columns)"
        )

    @property
    def tally(self) -> dict:
        """Counts for the record: read, used, rejected, rejected by reason, the rows kept
        private (``sensitive``), the offense labels no crosswalk knew (``unmapped``, kept
        under their own names) and the rows whose code and label disagreed (the code won).
        """
        by = self.rejects["reason"].value_counts().sort_index()
        inc = self.incidents
        return {
            "read": int(self.read),
            "used": len(inc),
            "rejected": len(self.rejects),
            "rejected_by_reason": {str(k): int(v) for k, v in by.items()},
            "sensitive": int(inc["sensitive"].sum()) if "sensitive" in inc else 0,
            "unmapped_categories": dict(self.unmapped),
            "code_label_disagreements": int(self.disagreements),
            "profiles": {k: dict(v) for k, v in self.profiles.items()},
            "dates": {k: dict(v) for k, v in self.dates.items()},
        }


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _check_time_settings(timezone, date_floor, as_of) -> None:
    """One sentence for a time zone or date setting that cannot be read."""
    if timezone is not None:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(str(timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"--timezone {timezone!r} is not a time zone I know; use an IANA name such as "
                "America/Chicago or America/New_York."
            ) from None
    for flag, value in (("--date-floor", date_floor), ("--as-of", as_of)):
        if value is None:
            continue
        try:
            ok = pd.notna(pd.Timestamp(value))
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise InputError(f"{flag} expects a date (YYYY-MM-DD); got {value!r}.")


def _by_source(frame: pd.DataFrame, per_source: dict) -> np.ndarray:
    """A per-file array (indexed by row - 1) spread onto the combined frame's rows."""
    out = np.full(len(frame), np.nan)
    src = frame["source"]
    rows = frame["row"].to_numpy(int) - 1
    for name, values in per_source.items():
        if values is None:
            continue
        m = src.eq(name).to_numpy(bool)
        out[m] = np.asarray(values, float)[rows[m]]
    return out


def _flag(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A boolean column of the combined rows; all False where no file had it."""
    if name not in frame:
        return np.zeros(len(frame), bool)
    return frame[name].fillna(False).to_numpy(bool)


def _text(frame: pd.DataFrame, name: str, mask: np.ndarray) -> np.ndarray:
    """The text of one column on the rows of ``mask`` ("" where empty or absent)."""
    if name not in frame:
        return np.full(int(mask.sum()), "", dtype=object)
    values = frame[name][mask]
    return values.astype(object).where(values.notna(), "").astype(str).to_numpy(dtype=object)


class _Sieve:
    """The rows still alive and the rejects set aside so far: the first reason wins."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.alive = np.ones(len(frame), bool)
        self.parts: list[pd.DataFrame] = []

    def take(self, mask, reason: str, detail) -> None:
        """Set aside the alive rows of ``mask`` with ``reason``; ``detail`` is a sentence,
        an array over every row, or a function of the mask giving the rows' details."""
        mask = np.asarray(mask, bool) & self.alive
        if not mask.any():
            return
        if callable(detail):
            detail = detail(mask)
        elif not np.isscalar(detail):
            detail = np.asarray(detail, dtype=object)[mask]
        f = self.frame
        self.parts.append(
            pd.DataFrame(
                {
                    "source": f["source"][mask].astype(str).to_numpy(dtype=object),
                    "row": f["row"].to_numpy()[mask],
                    "incident_id": _text(f, "incident_id", mask),
                    "reason": reason,
                    "detail": detail,
                }
            )
        )
        self.alive[mask] = False

    def rejects(self) -> pd.DataFrame:
        """Every reject, in file and row order."""
        if not self.parts:
            return pd.DataFrame(columns=["source", "row", "incident_id", "reason", "detail"])
        rej = pd.concat(self.parts, ignore_index=True)
        return rej.sort_values(["source", "row"], kind="stable", ignore_index=True)


def _match_retractions(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Pair each Count = -1 row with an earlier record of the same complaint and code."""
    count = frame["count"].to_numpy(float) if "count" in frame else np.ones(len(frame))
    neg = np.flatnonzero(count < 0)
    retracted = np.zeros(len(frame), bool)
    is_neg = np.zeros(len(frame), bool)
    is_neg[neg] = True
    details = [""] * len(frame)
    if not len(neg):
        return is_neg, retracted, details
    pos = frame[count > 0]
    pools: dict[tuple, list[int]] = {}
    for i, key in zip(pos.index, zip(pos["incident_id"], pos["code"], strict=True), strict=True):
        pools.setdefault(key, []).append(i)
    for i in neg:
        key = (frame.at[i, "incident_id"], frame.at[i, "code"])
        pool = pools.get(key)
        where = f"{Path(frame.at[i, 'source']).name} row {frame.at[i, 'row']}"
        if pool:
            j = pool.pop(0)
            retracted[j] = True
            details[j] = f"cancelled by the Count = -1 row in {where}"
            details[i] = f"cancels {Path(frame.at[j, 'source']).name} row {frame.at[j, 'row']}"
        else:
            details[i] = "no matching earlier record in the files read"
    return is_neg, retracted, details


def read_incidents(
    paths: str | Path | Iterable[str | Path],
    *,
    columns: Mapping[str, str] | None = None,
    crs: str | CRS | None = None,
    study_area=None,
    work_crs: str | CRS | None = None,
    categories: str | Path | pd.DataFrame | None = None,
    sensitive_categories: Iterable[str] = (),
    domestic_column: str | None = None,
    profile: str | None = None,
    timezone: str | None = None,
    dayfirst: bool | None = None,
    date_floor: str = "1970-01-01",
    as_of=None,
    keep_private: bool = False,
) -> LoadResult:
    r"""Read incidents from files or folders into the schema, with every reject explained.

    Parameters
    ----------
    paths : path or list of paths
        CSV, GeoJSON, GeoPackage, Shapefile or GeoParquet files, or folders of them (read
        whole, sorted by name). SLMPD monthly exports are recognised by their columns.
    columns : mapping, optional
        Schema field to file column, e.g. ``{"incident_id": "Complaint", "category":
        "Offense", "lat": "Lat", "lon": "Long"}``. Fields not given are recognised by common
        names (``id``, ``date``, ``x``/``y``, ``latitude``/``longitude``...).
    crs : CRS-like, optional
        CRS of x/y columns, or of a vector file that lacks one. Lat/lon is WGS 84.
    study_area : shapely geometry or GeoDataFrame, optional
        In the working CRS; incidents outside it are rejected as ``outside_study_area``.
    work_crs : CRS-like, optional
        The output CRS (default :data:`~impactzones.core.geo.WORK_CRS`, UTM 15N, metres).
    categories : path or DataFrame, optional
        A category mapping (:func:`impactzones.io.offenses.read_mapping`) that extends or
        overrides the crosswalks.
    sensitive_categories : iterable of str
        More categories (or words of offense labels) to keep private, on top of the
        sensitivity rule of :mod:`impactzones.io.offenses`.
    domestic_column : str, optional
        The column holding the domestic-violence flag, when its name is not a usual one.
    profile : str, optional
        Force a dataset profile (:mod:`impactzones.io.profiles`); default: from the header.
    timezone : str, optional
        The study's time zone (default: the profile's, ``America/Chicago`` for St. Louis).
    dayfirst : bool, optional
        Day first (True) or month first (False) for slash/dot dates; default: decided per
        column from the data (an ambiguous column is refused).
    date_floor : date-like
        Dates before it are rejected (``date_before_floor``).
    as_of : date-like, optional
        The day the data is read as of: dates after it are rejected as ``future_date``.
        Default: no clock is read; dates far beyond the others are rejected
        (:func:`impactzones.io.dates.future_bound`), so the same files give the same result
        whatever the day.
    keep_private : bool
        Keep the private rows a clean file holds without their points (as ``load`` writes
        them): kept with an empty geometry and the area labels they were written with
        (:data:`impactzones.core.schema.AREA_LABELS`: district, neighborhood, zone, ring...;
        missing on the other rows), so that counts by area (comparisons, CompStat) include
        them. Default: they are set aside as ``sensitive_no_point`` (methods that need
        points never see them).

    Returns
    -------
    LoadResult
        ``incidents`` (GeoDataFrame, schema columns plus ``source``), ``rejects`` and the
        ``tally``.

    Notes
    -----
    SLMPD quirks handled: a UTF-8 byte-order mark, stray cp1252 bytes, the May 2017 file's
    different header and M/D/YYYY dates, crime codes with a dropped leading zero or a
    leading space, ``Count = -1`` rows (matched to the record they retract by complaint and
    code; both are set aside), and ``XCoord = 0`` for "no location". A complaint may hold
    several records (UCR counts one per victim, so identical rows inside one file are kept);
    repeated complaint numbers are kept with a ``#2``, ``#3`` suffix, and only a row that
    repeats, byte for byte, a row of an earlier file is rejected as a duplicate. A path given
    twice is read once.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "inc.csv"
    >>> _ = path.write_text("id,date,category,lat,lon\n"
    ...                     "1,2018-05-01 10:00,Robbery,38.63,-90.20\n"
    ...                     "2,2018-05-02 11:00,,38.62,-90.21\n")
    >>> res = read_incidents(path)
    >>> res.tally["used"], res.rejects.loc[0, "reason"]
    (1, 'unknown_category')
    """
    files, opts, target = _settings(
        paths,
        columns=columns,
        crs=crs,
        work_crs=work_crs,
        categories=categories,
        sensitive_categories=sensitive_categories,
        domestic_column=domestic_column,
        profile=profile,
        timezone=timezone,
        dayfirst=dayfirst,
        date_floor=date_floor,
        as_of=as_of,
    )
    frame = _read_files(files, opts, target, study_area)
    read = len(frame)
    area = _union(study_area)
    sieve = _Sieve(frame)
    pointless = _flag(frame, "private_blank") if keep_private else np.zeros(read, bool)
    _sift_records(sieve)
    _sift_places(sieve, area, target, pointless)
    _sift_dates(sieve, opts, date_floor, as_of)
    _sift_categories(sieve)
    _sift_outside(sieve, area, target, pointless)
    suffix = _sift_duplicate_ids(sieve)
    alive = sieve.alive
    del sieve.frame, sieve.alive  # the clean table takes the rows' columns one by one
    gdf = _clean_incidents(frame, alive, suffix, target, pointless)
    del frame
    rej = sieve.rejects()
    assert len(gdf) + len(rej) == read, "every row is used or rejected"
    return LoadResult(
        incidents=gdf,
        rejects=rej,
        read=read,
        unmapped=dict(sorted(opts.unmapped.items())),
        disagreements=opts.disagreements,
        profiles=opts.profiles,
        dates=opts.dates,
        sources=[str(f) for f in files],
    )


def _settings(
    paths,
    *,
    columns,
    crs,
    work_crs,
    categories,
    sensitive_categories,
    domestic_column,
    profile,
    timezone,
    dayfirst,
    date_floor,
    as_of,
):
    """The files to read, the reading options and the working CRS, every setting checked."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = expand_paths(paths)
    if not files:
        raise InputError("No input files were given.")
    user_crs = None
    if crs is not None:
        try:
            user_crs = CRS.from_user_input(crs)
        except CRSError as exc:
            raise InputError(f"{crs!r} is not a coordinate reference system I know.") from exc
    target = CRS.from_user_input(work_crs) if work_crs is not None else WORK_CRS
    _check_time_settings(timezone, date_floor, as_of)
    if categories is not None and not isinstance(categories, pd.DataFrame):
        categories = read_mapping(categories)
    opts = _Options(
        mapping=columns or {},
        crs=user_crs,
        categories=categories,
        sensitive_extra=tuple(s.strip() for s in sensitive_categories if s.strip()),
        domestic_column=domestic_column,
        profile=profile,
        timezone=timezone,
        dayfirst=dayfirst,
    )
    return files, opts, target


def _read_files(files: list[Path], opts: _Options, target, study_area) -> pd.DataFrame:
    """Every file read into the standard columns, coordinates in ``target``, one table."""
    parts = []
    for path in files:
        frame, src_crs = _read_one(path, opts)
        if len(frame):
            x, y = _to_target(frame, src_crs, target)
            if study_area is not None and src_crs is not None:
                how = opts.coords.get(str(path))
                _check_swapped(x, y, src_crs, study_area, target, str(path), how)
            del x, y
        parts.append(frame)
    # SLMPD files are read in the order they were coded (january before february), so
    # that "earlier" means earlier in time whatever the file names.
    parts.sort(key=lambda f: str(f["coded"].min()) if "coded" in f and len(f) else "")
    frame = _concat(parts)  # one copy of the rows at a time: the parts are emptied
    del parts
    release_memory()
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).astype("datetime64[ns]")
    return frame


def _union(study_area):
    """The study area as one geometry (or None)."""
    if study_area is None:
        return None
    return study_area.union_all() if hasattr(study_area, "union_all") else study_area


def _sift_records(sieve: _Sieve) -> None:
    """Ragged rows, Count = -1 retractions and the records they cancel, and SLMPD records
    repeated byte for byte from an earlier file."""
    frame = sieve.frame
    if "ragged" in frame:
        ragged = frame["ragged"].fillna("").astype(str).to_numpy(dtype=object)
        sieve.take(ragged != "", "ragged_row", ragged)
    slmpd = _flag(frame, "slmpd")
    if not slmpd.any():
        return
    is_neg, retracted, rdetail = _match_retractions(frame)
    sieve.take(is_neg, "retraction", rdetail)
    sieve.take(retracted, "retracted", rdetail)
    # Identical rows inside one SLMPD file are separate victims (UCR counts one per victim
    # for crimes against persons) and are kept; the same row in two files is a duplicate.
    idx = np.flatnonzero(slmpd)
    sub = frame.iloc[idx]
    first_source = sub.groupby("raw_key", observed=True)["source"].transform("first")
    dup_raw = np.zeros(len(frame), bool)
    dup_raw[idx] = sub["source"].astype(str).ne(first_source.astype(str)).to_numpy()
    sieve.take(dup_raw, "duplicate_id", "an identical record appeared in an earlier file")


def _sift_places(sieve: _Sieve, area, target, pointless: np.ndarray) -> None:
    """Rows that are not points, private rows stored without one (unless kept: the rows of
    ``pointless``), and no or bad coordinates."""
    frame = sieve.frame
    sieve.take(_flag(frame, "not_point"), "not_a_point", "only point incidents are used")
    blank = _flag(frame, "private_blank") & ~pointless
    sieve.take(blank, "sensitive_no_point", REASONS["sensitive_no_point"])
    sieve.take(_flag(frame, "no_loc") & ~pointless, "no_location", REASONS["no_location"])
    sieve.take(
        _flag(frame, "bad_xy"),
        "bad_coordinates",
        lambda m: _swap_details(frame, m, area, target, "bad_coordinates"),
    )


def _sift_dates(sieve: _Sieve, opts: _Options, date_floor, as_of) -> None:
    """Dates in the future, before the floor, or unreadable."""
    when = sieve.frame["occurred_at"]
    future, too_old = check_range(
        when, floor=date_floor, today=as_of, year=_by_source(sieve.frame, opts.years)
    )
    if as_of is not None:
        why = f"the date is after --as-of {pd.Timestamp(as_of).date()}"
    else:
        bound = future_bound(when, floor=date_floor)
        why = (
            f"the date is after {bound:%Y-%m-%d}, far beyond the other dates (upper quartile "
            "+ 3 interquartile ranges, at least a year); give --as-of to set the last day"
        )
    sieve.take(future, "future_date", why)
    sieve.take(
        too_old,
        "date_before_floor",
        f"the date is before {pd.Timestamp(date_floor).date()} "
        "(a placeholder such as 1900-01-01?); lower the floor with --date-floor",
    )
    sieve.take(when.isna().to_numpy(), "unparseable_date", REASONS["unparseable_date"])


def _sift_categories(sieve: _Sieve) -> None:
    """Rows with no category and no code that could be read."""
    frame = sieve.frame

    def detail(mask: np.ndarray) -> np.ndarray:
        codes = _text(frame, "code", mask)
        return np.array(
            ["crime code " + repr(c) if c else "empty category" for c in codes], dtype=object
        )

    sieve.take(frame["category"].isna().to_numpy(), "unknown_category", detail)


def _sift_outside(sieve: _Sieve, area, target, pointless: np.ndarray) -> None:
    """Rows outside the study area (with a hint where swapped lat/lon would be inside);
    the kept private rows without a point were inside when written."""
    if area is None:
        return
    frame = sieve.frame
    idx = np.flatnonzero(sieve.alive & ~pointless)
    inside = shapely.intersects_xy(area, frame["x"].to_numpy()[idx], frame["y"].to_numpy()[idx])
    out = np.zeros(len(frame), bool)
    out[idx[~inside]] = True
    sieve.take(
        out, "outside_study_area", lambda m: _swap_details(frame, m, area, target, "outside")
    )


def _sift_duplicate_ids(sieve: _Sieve) -> dict[int, str]:
    """Repeated incident ids: rejected, except SLMPD complaints (several victims or
    offenses), which keep every record with a ``#2``, ``#3``... suffix.

    Returns the suffixes, by row position.
    """
    frame = sieve.frame
    if _all_distinct(frame["incident_id"]):
        return {}
    idx = np.flatnonzero(sieve.alive)
    codes, _ = pd.factorize(frame["incident_id"].take(idx), use_na_sentinel=False)
    first = np.zeros(len(idx), bool)
    first[np.unique(codes, return_index=True)[1]] = True
    repeated = np.isin(codes, codes[~first])
    rows, rc = idx[repeated], codes[repeated]
    rank = pd.Series(rc).groupby(rc).cumcount().to_numpy() + 1
    slmpd = _flag(frame, "slmpd")[rows]
    dup = np.zeros(len(frame), bool)
    dup[rows[(rank > 1) & ~slmpd]] = True
    sieve.take(dup, "duplicate_id", "this incident id appeared earlier")
    keep = (rank > 1) & slmpd
    return {int(r): f"#{k}" for r, k in zip(rows[keep], rank[keep], strict=True)}


def _all_distinct(ids: pd.Series) -> bool:
    """Whether no id repeats, among all rows (the usual case, told by hashing alone)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(ids) < 2:
        return True
    try:
        arr = pa.array(ids, from_pandas=True)  # no copy: the ids are held by pyarrow already
        return pc.count_distinct(arr, mode="all").as_py() == len(arr)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return not ids.duplicated().any()


def _clean_incidents(
    frame: pd.DataFrame, alive: np.ndarray, suffix: dict, target, pointless: np.ndarray
):
    """The kept rows in the schema, column by column, each column of ``frame`` dropped once
    taken (so that the rows are held about once, not twice); the kept private rows of
    ``pointless`` get an empty geometry and their area labels."""
    keep = None if alive.all() else np.flatnonzero(alive)
    release_memory()  # what the checks freed, before the points take their room

    def take(name: str) -> pd.Series:
        s = frame.pop(name)
        return (s if keep is None else s.take(keep)).reset_index(drop=True)

    geometry = gpd.points_from_xy(take("x").to_numpy(), take("y").to_numpy())
    blank = pointless if keep is None else pointless[keep]
    labels = {}
    if blank.any():
        geometry[blank] = shapely.Point()
        labels = {c: take(c) for c in AREA_LABELS if c in frame}
    for col in ("raw_x", "raw_y", "no_loc", "bad_xy", "count", "raw_key"):
        if col in frame:
            del frame[col]
    out: dict[str, pd.Series] = {}
    ids = take("incident_id").astype(str)
    if suffix:
        at = np.flatnonzero(alive)
        where = np.searchsorted(at, list(suffix))
        ids = ids.astype(object)
        ids.iloc[where] = ids.iloc[where] + pd.Series(list(suffix.values()), index=where)
        ids = ids.astype(str)
    out["incident_id"] = ids
    out["occurred_at"] = take("occurred_at")
    out["category"] = _as_category(take("category"))
    out["group"] = _map_category(out["category"], group_of)
    for flag in ("carjacking", "firearm", "domestic", "sensitive"):
        out[flag] = take(flag).astype(bool)
    out["carjacking"] &= out["category"].eq("robbery")
    for col in ("source_code", "source_label", "source"):
        out[col] = _as_category(take(col), fill="")
    order = [c for c in COLUMNS if c != "geometry"] + EXTRA_COLUMNS + ["source"]
    cols = {c: out.pop(c) for c in order} | labels
    return gpd.GeoDataFrame(cols, geometry=geometry, crs=target)


def _as_category(values: pd.Series, fill: str | None = None) -> pd.Series:
    """Text as a categorical column (its categories sorted, only those used): a few hundred
    distinct labels over millions of rows take a byte or two a row."""
    s = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    if fill is not None and s.isna().any():
        if fill not in s.cat.categories:
            s = s.cat.add_categories([fill])
        s = s.fillna(fill)
    s = s.cat.remove_unused_categories()
    return s.cat.set_categories(sorted(map(str, s.cat.categories)))


def _map_category(values: pd.Series, func) -> pd.Series:
    """``values.map(func)`` for a categorical column, computed once per category."""
    cats = list(values.cat.categories)
    mapped = [func(c) for c in cats]
    names = sorted(set(mapped))
    lookup = np.array([names.index(m) for m in mapped] + [-1], dtype=np.int16)
    codes = lookup[values.cat.codes.to_numpy()]  # code -1 (missing) picks the last entry
    return pd.Series(pd.Categorical.from_codes(codes, categories=names))


def _to_target(frame: pd.DataFrame, src_crs, target) -> tuple[np.ndarray, np.ndarray]:
    """Move x/y into the working CRS in place; flag missing and impossible coordinates.

    Returns the coordinates as read (for the swapped lat/lon check).
    """
    x, y = frame["x"].to_numpy(float), frame["y"].to_numpy(float)
    missing = np.isnan(x) | np.isnan(y) | ((x == 0) & (y == 0))
    bad = ~missing & (np.isinf(x) | np.isinf(y))
    if frame.get("latlon") is not None:
        bad |= ~missing & ((np.abs(y) > 90) | (np.abs(x) > 180))
        frame["raw_x"], frame["raw_y"] = x, y
    good = ~missing & ~bad
    if src_crs is not None and CRS.from_user_input(src_crs) != target:
        tr = Transformer.from_crs(src_crs, target, always_xy=True)
        xt, yt = np.full(len(x), np.nan), np.full(len(y), np.nan)
        for start in range(0, len(x), _BLOCK):  # in blocks: no full-length temporaries
            part = slice(start, start + _BLOCK)
            g = np.flatnonzero(good[part]) + start
            if len(g):
                xt[g], yt[g] = tr.transform(x[g], y[g])
        bad |= good & ~(np.isfinite(xt) & np.isfinite(yt))
        frame["x"], frame["y"] = xt, yt
    frame["no_loc"], frame["bad_xy"] = missing, bad
    return x, y


#: Rows transformed at a time.
_BLOCK = 1_000_000


def _swap_details(frame: pd.DataFrame, mask: np.ndarray, area, target, kind: str) -> np.ndarray:
    """Reasons for the rows of ``mask`` (one per row of the mask), with a hint where
    swapping latitude and longitude helps."""
    reason = REASONS["outside_study_area" if kind == "outside" else "bad_coordinates"]
    rows = np.flatnonzero(mask)
    detail = np.full(len(rows), reason, dtype=object)
    if "raw_x" not in frame:
        return detail
    lon = frame["raw_x"].to_numpy(float)[rows]
    lat = frame["raw_y"].to_numpy(float)[rows]
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
    idx = np.flatnonzero(ok)
    if not len(idx):
        return detail
    if area is None:
        hit = np.ones(len(idx), bool)
    else:
        sx, sy = Transformer.from_crs(WGS84, target, always_xy=True).transform(lat[idx], lon[idx])
        hit = shapely.intersects_xy(area, np.asarray(sx), np.asarray(sy))
    where = "inside the study area" if area is not None else "a valid place"
    detail[idx[hit]] = (
        f"{reason}; with latitude and longitude swapped it would be {where}: check this "
        "row's latitude and longitude"
    )
    return detail


def _check_swapped(x, y, src_crs, study_area, target, source: str, how) -> None:
    """Refuse, in one sentence offering the fix, a file whose two coordinates look swapped:
    most points fall outside the study area and most would fall inside with x and y swapped
    (or, in degrees, most latitudes are beyond 90). ``how`` says where the points came from
    (``opts.coords``), so that the sentence names the columns to map the other way."""
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    if not ok.any():
        return
    degrees = CRS.from_user_input(src_crs).is_geographic
    beyond = degrees and (np.abs(y[ok]) > 90).mean() > 0.5
    if not beyond:
        area = _union(study_area)
        tr = Transformer.from_crs(src_crs, target, always_xy=True)
        sample = np.flatnonzero(ok)[:2000]
        with np.errstate(all="ignore"):
            x1, y1 = tr.transform(x[sample], y[sample])
            x2, y2 = tr.transform(y[sample], x[sample])
        inside = shapely.intersects_xy(area, np.asarray(x1), np.asarray(y1)).mean()
        swapped = shapely.intersects_xy(area, np.asarray(x2), np.asarray(y2)).mean()
        if not (swapped > 0.5 and inside < 0.1):
            return
    raise InputError(f"{message_text(source, limit=None)}: {_swap_advice(how, degrees)}")


def _swap_advice(how, degrees: bool = True) -> str:
    """The sentence (without the file name) for coordinates that look swapped, offering the
    ``--columns`` mapping that swaps them back where the points came from columns.

    Parameters
    ----------
    how : tuple or None
        Where the points came from: ``("lat", LAT, "lon", LON)``, ``("x", X, "y", Y)``,
        ``("geometry",)`` or None (unknown).
    degrees : bool
        Whether the coordinates are degrees (latitude and longitude).

    Returns
    -------
    str
        One sentence.

    Examples
    --------
    >>> _swap_advice(("lat", "Lat", "lon", "Lon")).split("; ")[-1]
    'map them the other way with --columns lat=Lon,lon=Lat.'
    >>> _swap_advice(("lat", "Lat deg", "lon", "Lon deg")).split("; ")[-1]
    "map them the other way with --columns 'lat=Lon deg,lon=Lat deg'."
    >>> print(_swap_advice(("lat", "La\\nt", "lon", "\\x1b[31mLon")).split("; ")[-1])
    ... # doctest: +NORMALIZE_WHITESPACE
    rename the column "La\\nt" to lon and "\\x1b[31mLon" to lat in the file
    (then no --columns is needed).
    """
    what = "latitude and longitude" if degrees else "x and y coordinates"
    why = (
        "most points fall outside the study area, and most would fall inside with the two "
        "swapped"
    )
    if how and how[0] in ("lat", "x"):
        fix = _remap_advice(*how)
    elif how and how[0] == "geometry":
        fix = "swap them in the file itself (no option swaps a geometry's coordinates)"
    else:
        fix = "map the columns the other way with --columns"
    return f"the {what} look swapped ({why}); {fix}."


def _remap_advice(a: str, col_a, b: str, col_b) -> str:
    """How to read the columns ``col_a`` (read as ``a``) and ``col_b`` the other way: the
    ``--columns`` value, shell-quoted when it needs to be, or, for names ``--columns``
    cannot pass plainly (a comma or ``=``, characters a terminal does not show, or very
    long), the renaming to do in the file, the names quoted on one printable line."""
    import shlex

    names = [str(col_a), str(col_b)]
    if all(message_text(n) == n and not set(n) & {",", "="} for n in names):
        return f"map them the other way with --columns {shlex.quote(f'{a}={col_b},{b}={col_a}')}"
    return (
        f'rename the column "{message_text(col_a)}" to {b} and "{message_text(col_b)}" to {a} '
        "in the file (then no --columns is needed)"
    )

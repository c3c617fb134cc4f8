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
    COLUMNS,
    group_of,
)
from .tables import EXTRA_COLUMNS, REASONS, _Options, _read_one, expand_paths

__all__ = [
    "LoadResult",
    "read_incidents",
]

# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


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
    """

    incidents: gpd.GeoDataFrame
    rejects: pd.DataFrame
    read: int
    unmapped: dict = field(default_factory=dict)
    disagreements: int = 0
    profiles: dict = field(default_factory=dict)
    dates: dict = field(default_factory=dict)

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
    src = frame["source"].to_numpy()
    rows = frame["row"].to_numpy(int) - 1
    for name, values in per_source.items():
        if values is None:
            continue
        m = src == name
        out[m] = np.asarray(values, float)[rows[m]]
    return out


def _reject(frame: pd.DataFrame, mask, reason: str, detail) -> pd.DataFrame:
    sub = frame.loc[mask, ["source", "row", "incident_id"]].copy()
    sub["reason"] = reason
    sub["detail"] = detail if np.isscalar(detail) else np.asarray(detail)[np.asarray(mask)]
    return sub


def _match_retractions(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Pair each Count = -1 row with an earlier record of the same complaint and code."""
    neg = np.flatnonzero(frame["count"].to_numpy() < 0)
    retracted = np.zeros(len(frame), bool)
    is_neg = np.zeros(len(frame), bool)
    is_neg[neg] = True
    details = [""] * len(frame)
    if not len(neg):
        return is_neg, retracted, details
    pos = frame[frame["count"].to_numpy() > 0]
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
    from .offenses import read_mapping

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
    parts = []
    for path in files:
        frame, src_crs = _read_one(path, opts)
        if len(frame):
            x, y = _to_target(frame, src_crs, target)
            if frame.get("latlon") is not None and study_area is not None:
                _check_swapped(frame, x, y, study_area, target, str(path))
        parts.append(frame)
    # SLMPD files are read in the order they were coded (january before february), so
    # that "earlier" means earlier in time whatever the file names.
    parts.sort(key=lambda f: str(f["coded"].min()) if "coded" in f and len(f) else "")
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    del parts  # one copy of the rows at a time
    read = len(frame)
    for col, default in (
        ("not_point", False),
        ("code", ""),
        ("no_loc", False),
        ("bad_xy", False),
        ("ragged", ""),
        ("slmpd", False),
        ("private_blank", False),
    ):
        if col not in frame:
            frame[col] = default
        frame[col] = frame[col].fillna(default)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).astype("datetime64[ns]")

    rejects = []
    alive = np.ones(read, bool)
    ragged = frame["ragged"].astype(str).to_numpy()

    def take(mask, reason, detail):
        mask = np.asarray(mask, bool) & alive
        if mask.any():
            rejects.append(_reject(frame, mask, reason, detail))
            alive[mask] = False

    take(ragged != "", "ragged_row", ragged)
    is_neg, retracted, rdetail = _match_retractions(frame)
    take(is_neg, "retraction", rdetail)
    take(retracted, "retracted", rdetail)
    slmpd = frame["slmpd"].to_numpy(bool)
    # Identical rows inside one SLMPD file are separate victims (UCR counts one per victim
    # for crimes against persons) and are kept; the same row in two files is a duplicate.
    first_source = frame.groupby("raw_key")["source"].transform("first")
    dup_raw = slmpd & frame["source"].ne(first_source).to_numpy()
    take(dup_raw, "duplicate_id", "an identical record appeared in an earlier file")
    take(frame["not_point"].to_numpy(), "not_a_point", "only point incidents are used")
    take(frame["private_blank"].to_numpy(), "sensitive_no_point", REASONS["sensitive_no_point"])
    take(frame["no_loc"].to_numpy(), "no_location", REASONS["no_location"])
    area = None
    if study_area is not None:
        area = study_area.union_all() if hasattr(study_area, "union_all") else study_area
    bad_xy = frame["bad_xy"].to_numpy(bool)
    take(bad_xy, "bad_coordinates", _swap_details(frame, bad_xy, area, target, "bad_coordinates"))
    from .dates import check_range, future_bound

    future, too_old = check_range(
        frame["occurred_at"], floor=date_floor, today=as_of, year=_by_source(frame, opts.years)
    )
    if as_of is not None:
        why = f"the date is after --as-of {pd.Timestamp(as_of).date()}"
    else:
        bound = future_bound(frame["occurred_at"], floor=date_floor)
        why = (
            f"the date is after {bound:%Y-%m-%d}, far beyond the other dates (upper quartile "
            "+ 3 interquartile ranges, at least a year); give --as-of to set the last day"
        )
    take(future, "future_date", why)
    take(
        too_old,
        "date_before_floor",
        f"the date is before {pd.Timestamp(date_floor).date()} "
        "(a placeholder such as 1900-01-01?); lower the floor with --date-floor",
    )
    take(frame["occurred_at"].isna().to_numpy(), "unparseable_date", REASONS["unparseable_date"])
    bad_cat = frame["category"].isna().to_numpy()
    take(
        bad_cat,
        "unknown_category",
        ["crime code " + repr(c) if c else "empty category" for c in frame["code"]],
    )
    if area is not None:
        idx = np.flatnonzero(alive)
        inside = shapely.intersects_xy(area, frame["x"].to_numpy()[idx], frame["y"].to_numpy()[idx])
        out = np.zeros(read, bool)
        out[idx[~inside]] = True
        take(out, "outside_study_area", _swap_details(frame, out, area, target, "outside"))
    # Ids: SLMPD complaints may repeat (several victims or offenses): suffix #2, #3...
    ids = frame["incident_id"].astype(str)
    rank = frame.loc[alive].groupby(ids[alive]).cumcount() + 1
    dup = np.zeros(read, bool)
    dup[rank.index[(rank > 1).to_numpy()]] = True
    take(dup & ~slmpd, "duplicate_id", "this incident id appeared earlier")
    suffix = pd.Series("", index=frame.index)
    keep_rank = rank[(rank > 1) & slmpd[rank.index]]
    suffix[keep_rank.index] = "#" + keep_rank.astype(str)

    used = frame.loc[alive].copy()
    used["incident_id"] = used["incident_id"].astype(str) + suffix[alive]
    used["category"] = used["category"].astype(str)
    used["group"] = used["category"].map(group_of)
    for flag in ("carjacking", "firearm", "domestic", "sensitive"):
        used[flag] = used[flag].astype(bool)
    used["carjacking"] &= used["category"].eq("robbery")
    for col in ("source_code", "source_label"):
        used[col] = used[col].fillna("").astype(str)
    gdf = gpd.GeoDataFrame(
        used[[c for c in COLUMNS if c != "geometry"] + EXTRA_COLUMNS + ["source"]].reset_index(
            drop=True
        ),
        geometry=gpd.points_from_xy(used["x"], used["y"]),
        crs=target,
    )
    rej = (
        pd.concat(rejects, ignore_index=True)
        if rejects
        else pd.DataFrame(columns=["source", "row", "incident_id", "reason", "detail"])
    )
    rej = rej.sort_values(["source", "row"], kind="stable", ignore_index=True)
    result = LoadResult(
        incidents=gdf,
        rejects=rej,
        read=read,
        unmapped=dict(sorted(opts.unmapped.items())),
        disagreements=opts.disagreements,
        profiles=opts.profiles,
        dates=opts.dates,
    )
    assert len(gdf) + len(rej) == read, "every row is used or rejected"
    return result


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
        if good.any():
            xt[good], yt[good] = tr.transform(x[good], y[good])
        bad |= good & ~(np.isfinite(xt) & np.isfinite(yt))
        frame["x"], frame["y"] = xt, yt
    frame["no_loc"], frame["bad_xy"] = missing, bad
    return x, y


def _swap_details(frame: pd.DataFrame, mask: np.ndarray, area, target, kind: str) -> np.ndarray:
    """Reasons for rejected rows, with a hint where swapping latitude and longitude helps."""
    reason = REASONS["outside_study_area" if kind == "outside" else "bad_coordinates"]
    detail = np.full(len(frame), reason, dtype=object)
    if "raw_x" not in frame:
        return detail
    lon, lat = frame["raw_x"].to_numpy(float), frame["raw_y"].to_numpy(float)
    ok = mask & np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
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
        f"{reason}; with latitude and longitude swapped it would be {where}: check the lat/lon "
        "columns of this row"
    )
    return detail


def _check_swapped(frame, lon, lat, study_area, target, source):
    ok = np.isfinite(lon) & np.isfinite(lat) & ~((lon == 0) & (lat == 0))
    if not ok.any():
        return
    area = study_area.union_all() if hasattr(study_area, "union_all") else study_area
    tr = Transformer.from_crs(WGS84, target, always_xy=True)
    sample = np.flatnonzero(ok)[:2000]
    x1, y1 = tr.transform(lon[sample], lat[sample])
    x2, y2 = tr.transform(lat[sample], lon[sample])
    inside = shapely.intersects_xy(area, x1, y1).mean()
    swapped = shapely.intersects_xy(area, np.asarray(x2), np.asarray(y2)).mean()
    if (swapped > 0.5 and inside < 0.1) or (np.abs(lat[ok]) > 90).mean() > 0.5:
        raise InputError(
            f"{source}: the latitude and longitude columns look swapped (most points land "
            "inside the study area only when swapped); map them the other way with "
            "--columns lat=...,lon=...."
        )



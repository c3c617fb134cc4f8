"""Reading layers and incidents, validating them, and writing outputs atomically.

The one rule: **nothing is lost silently**. Every input row ends either in the incidents or
in the rejects table with a reason (:data:`REASONS`), and ``used + rejected == read``.

Supported inputs: CSV (x/y in any CRS, or lat/lon), GeoJSON, GeoPackage, Shapefile and
GeoParquet, a column mapping for other names, and the SLMPD monthly crime exports as
published (columns ``Complaint, CodedMonth, DateOccur, Crime, Count, ... XCoord, YCoord`` in
Missouri State Plane East, US feet), including a whole folder of them in one call.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from .errors import InputError
from .geo import WGS84, WORK_CRS
from .schema import (
    COLUMNS,
    DOMESTIC_COLUMNS,
    SENSITIVE_LABEL,
    domestic_flag,
    group_of,
)

__all__ = [
    "EXTRA_COLUMNS",
    "REASONS",
    "LoadResult",
    "expand_paths",
    "guard_outputs",
    "read_incidents",
    "read_layer",
    "write_json",
    "write_png",
    "write_table",
    "write_text",
    "write_vector",
]

#: Reject reasons and what they mean.
REASONS = {
    "no_location": "no coordinates (missing, empty, or 0 meaning 'no location')",
    "outside_study_area": "the location falls outside the study area",
    "unparseable_date": "the date/time could not be read",
    "unknown_category": "no crime category, or a crime code that could not be read",
    "duplicate_id": "the same incident id (or the same record) appeared before",
    "retraction": "a Count = -1 row that retracts an earlier record",
    "retracted": "a record cancelled by a later Count = -1 row",
    "not_a_point": "the geometry is not a point",
    "ragged_row": "the row has more or fewer fields than the header (columns would shift)",
    "bad_coordinates": "coordinates that cannot be a place (infinite, or latitude beyond 90 "
    "or longitude beyond 180 degrees)",
    "future_date": "the date is in the future",
    "date_before_floor": "the date is before the floor (default 1970-01-01; --date-floor)",
    "sensitive_no_point": "a private (sensitive) incident stored without its point, as "
    "`load` writes them; its district, neighborhood and zone are in the file",
}

#: Columns of the clean incidents after the schema's: the agency's own offense code and
#: label (for audit) and the privacy flag of :func:`impactzones.schema.is_sensitive`.
EXTRA_COLUMNS = ["source_code", "source_label", "sensitive"]

#: SLMPD exports: Missouri State Plane East (NAD83), US survey feet.
SLMPD_CRS = CRS.from_user_input("ESRI:102696")

VECTOR_EXT = {".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet", ".fgb"}
TABLE_EXT = {".csv", ".txt", ".tsv"}

#: Names recognised for each schema field, after lower-casing and removing spaces,
#: hyphens and underscores.
AUTO_COLUMNS = {
    "incident_id": ["incidentid", "id", "complaint", "casenumber", "caseno", "reportnumber"],
    "occurred_at": ["occurredat", "dateoccur", "occurred", "datetime", "date", "occurdate"],
    "category": ["category", "crimecategory", "offense", "crime", "type", "ucrcategory"],
    "code": ["offensecode", "crimecode", "ucrcode", "nibrscode", "code"],
    "x": ["x", "xcoord", "easting", "pointx"],
    "y": ["y", "ycoord", "northing", "pointy"],
    "lat": ["lat", "latitude"],
    "lon": ["lon", "lng", "long", "longitude"],
    "carjacking": ["carjacking"],
    "firearm": ["firearm"],
    "domestic": list(DOMESTIC_COLUMNS),
}

#: Further label columns read only for the sensitivity rule (a second description).
DESCRIPTION_KEYS = ("description", "offensedescription", "crimedescription", "pddesc", "desc")


@dataclass
class _Options:
    """Reading options shared by every file of one call, and what was learnt."""

    mapping: Mapping[str, str]
    crs: CRS | None
    categories: pd.DataFrame | None = None
    sensitive_extra: tuple[str, ...] = ()
    domestic_column: str | None = None
    schemes: tuple[str, ...] = ("nibrs", "srs")
    profile: str | None = None
    timezone: str | None = None
    dayfirst: bool | None = None
    unmapped: dict = field(default_factory=dict)
    disagreements: int = 0
    profiles: dict = field(default_factory=dict)
    dates: dict = field(default_factory=dict)
    years: dict = field(default_factory=dict)
    row0: int = 0  # rows of the file read before the current chunk


def _key(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """Clean incidents and the rows that were set aside.

    Attributes
    ----------
    incidents : GeoDataFrame
        In the schema of :mod:`impactzones.schema`, in the working CRS (metres), plus a
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
# Raw reading
# --------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The text of a file, its encoding told by its byte-order mark or its bytes.

    UTF-8 (with or without a BOM), UTF-16 (with a BOM, or told by its zero bytes), and
    cp1252 for the stray single bytes real exports mix in.
    """
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    else:
        head = data[:4000]
        if len(head) >= 4 and head.count(b"\x00") > len(head) // 4:
            # UTF-16 without a BOM: ASCII text has a zero in every other byte
            le = head[1::2].count(b"\x00") > head[0::2].count(b"\x00")
            return data.decode("utf-16-le" if le else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Real exports mix in single cp1252 bytes (e.g. 0x92, a curly apostrophe).
        return data.decode("cp1252", errors="replace")


def _read_csv(path: Path) -> tuple[pd.DataFrame, dict[int, int]]:
    """The table, and its ragged rows (data row number -> fields found) set aside.

    The returned frame's index is the 0-based data row of each kept row.
    """
    import csv
    import io as _io

    text = _read_text(path)
    if not text.strip():
        raise InputError(f"{path} is empty: it has no header and no rows.")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    ragged: dict[int, int] = {}
    try:
        try:
            # pyarrow's CSV reader: about twice as fast as pandas' own on large exports
            df = pd.read_csv(
                _io.BytesIO(text.encode("utf-8")),
                dtype=str,
                keep_default_na=False,
                sep=sep,
                engine="pyarrow",
            )
        except Exception:  # ragged rows, quoted newlines...: pandas' parser says what
            df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
        if len(df.columns) > 1 and len(df):
            # a row with too few fields leaves its last column missing (an empty field is "")
            short = df.iloc[:, -1].isna().to_numpy()
            if short.any():
                width = df.notna().sum(axis=1).to_numpy()
                ragged = {int(i) + 1: int(width[i]) for i in np.flatnonzero(short)}
                df = df[~short]
    except pd.errors.ParserError:
        rows = [r for r in csv.reader(_io.StringIO(text), delimiter=sep) if r]
        header, body = rows[0], rows[1:]
        keep = [i for i, r in enumerate(body) if len(r) == len(header)]
        ragged = {i + 1: len(r) for i, r in enumerate(body) if len(r) != len(header)}
        df = pd.DataFrame([body[i] for i in keep], columns=header, index=keep, dtype=str)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    return df, ragged


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files from a list of files and folders (a folder gives its supported files, sorted).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "b.csv").write_text("x"); _ = (d / "a.csv").write_text("x")
    >>> [p.name for p in expand_paths([d, d / "a.csv"])]
    ['a.csv', 'b.csv']
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise InputError(f"{p} does not exist; check the path.")
        if p.is_dir():
            # dot-files and dot-folders are skipped: hidden temporaries of a killed run
            # (.incidents.XXXX.parquet), editors' backups, .git
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix.lower() in VECTOR_EXT | TABLE_EXT
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.name != "manifest.json"  # an output folder's run manifest
            )
            if not found:
                raise InputError(
                    f"The folder {p} holds no CSV, GeoJSON, GeoPackage, Shapefile or Parquet files."
                )
            out.extend(f for f in found if f.resolve() not in seen)
            seen.update(f.resolve() for f in found)
        elif p.resolve() not in seen:
            out.append(p)
            seen.add(p.resolve())
    return out


def _is_slmpd(cols: Iterable[str]) -> bool:
    keys = {_key(c) for c in cols}
    return {"complaint", "dateoccur", "crime", "xcoord", "ycoord"} <= keys


def _bool(series: pd.Series) -> pd.Series:
    if series.dtype == bool:
        return series
    text = series.astype(str).str.strip().str.lower()
    return text.isin(["true", "1", "yes", "y", "t"])


def _find(cols: list[str], field: str, mapping: Mapping[str, str]) -> str | None:
    if field in mapping:
        want = mapping[field]
        if want not in cols:
            raise InputError(
                f"Column {want!r} (mapped to {field}) is not in the file; it has: "
                f"{', '.join(cols)}."
            )
        return want
    keys = {_key(c): c for c in cols}
    for cand in AUTO_COLUMNS[field]:
        if cand in keys:
            return keys[cand]
    return None


def _stripped(values) -> np.ndarray:
    """``values.astype(str).str.strip()``, computed once per distinct value: rows that hold
    the same text share one string object (millions of rows, a few hundred labels)."""
    which, uniq = pd.factorize(pd.Series(values, dtype="object"), use_na_sentinel=False)
    return pd.Series(uniq, dtype="object").astype(str).str.strip().to_numpy(dtype=object)[which]


def _per_unique(values, func) -> np.ndarray:
    """``func`` (Series -> array) computed once per distinct value and spread onto the rows."""
    which, uniq = pd.factorize(pd.Series(values, dtype="object").fillna(""), sort=False)
    return np.asarray(func(pd.Series(uniq, dtype="object")))[which]


def _sensitive_text(*labels) -> np.ndarray:
    """Rows whose label(s) match the sensitivity rule's label pattern."""
    from .offenses import norm_label

    def hit(u: pd.Series) -> np.ndarray:
        return norm_label(u).str.contains(SENSITIVE_LABEL, regex=True).to_numpy(bool)

    out = np.zeros(len(labels[0]), bool)
    for lab in labels:
        out |= _per_unique(lab, hit)
    return out


def _user_sensitive(category: pd.Series, labels: list, extra: tuple[str, ...]) -> np.ndarray:
    """Rows made private by the user's ``--sensitive-categories`` (names or label words)."""
    from .offenses import norm_label

    mask = np.zeros(len(category), bool)
    if not extra:
        return mask
    mask |= pd.Series(category).isin(extra).to_numpy()
    words = [" ".join(e.upper().replace("_", " ").split()) for e in extra]
    pat = "|".join(rf"\b{re.escape(w)}\b" for w in words if w)
    if pat:
        for lab in labels:
            mask |= _per_unique(
                lab, lambda u: norm_label(u).str.contains(pat, regex=True).to_numpy(bool)
            )
    return mask


def _prepare_slmpd(df: pd.DataFrame, source: str, opts: _Options) -> tuple[pd.DataFrame, CRS]:
    from .offenses import crosswalk

    cols = {_key(c): c for c in df.columns}
    code = df[cols["crime"]].astype(str).str.strip()
    code_ok = code.str.fullmatch(r"\d{1,6}")
    padded = code.where(code_ok, "").str.zfill(6)
    table = crosswalk("slmpd")
    category = padded.str[:2].map(dict(zip(table["code"], table["category"], strict=True)))
    sens_code = padded.str[:2].map(dict(zip(table["code"], table["sensitive"], strict=True)))
    raw_desc = (
        df[cols["description"]].astype(str)
        if "description" in cols
        else pd.Series("", index=df.index)
    )
    desc = raw_desc.str.upper()
    count = pd.to_numeric(df[cols["count"]].str.strip(), errors="coerce") if "count" in cols else 1
    domestic = desc.str.contains("DOMESTIC", regex=False) if len(df) else False
    sensitive = sens_code.fillna(False).astype(bool).to_numpy() | _sensitive_text(raw_desc)
    sensitive |= _user_sensitive(category, [raw_desc], opts.sensitive_extra)
    out = pd.DataFrame(
        {
            "source": source,
            "row": np.arange(1, len(df) + 1),
            "incident_id": df[cols["complaint"]].astype(str).str.strip(),
            "occurred_at": _slmpd_dates(df[cols["dateoccur"]], source, opts),
            "category": category,
            "code": padded.where(category.notna(), code),
            "carjacking": desc.str.contains("CARJACK", regex=False) if len(df) else False,
            "firearm": desc.str.contains("FIREARM", regex=False) if len(df) else False,
            "domestic": domestic,
            "source_code": code,
            "source_label": raw_desc.str.strip(),
            "sensitive": sensitive | np.asarray(domestic, bool),
            "x": pd.to_numeric(df[cols["xcoord"]].str.strip(), errors="coerce"),
            "y": pd.to_numeric(df[cols["ycoord"]].str.strip(), errors="coerce"),
            "count": count,
            "raw_key": pd.util.hash_pandas_object(df, index=False).to_numpy(),
            "slmpd": True,
            "coded": df[cols["codedmonth"]].astype(str).str.strip() if "codedmonth" in cols else "",
        }
    )
    out.loc[out["category"].isna(), "category"] = None
    return out, SLMPD_CRS


def _slmpd_dates(values: pd.Series, source: str, opts: _Options) -> np.ndarray:
    from .dates import parse_dates

    dates = parse_dates(
        values,
        dayfirst=False if opts.dayfirst is None else opts.dayfirst,
        timezone=opts.timezone or "America/Chicago",
        name=f"{source} column DateOccur",
    )
    opts.dates[source] = {
        "column": values.name,
        "time_column": None,
        "format": dates.format,
        "parsed_row_by_row": dates.fallback,
        "converted_from_offsets": dates.converted,
        "timezone": opts.timezone or "America/Chicago",
    }
    opts.years[source] = dates.year
    return dates.values.to_numpy()


def _classify_table(df: pd.DataFrame, found: dict, opts: _Options, profile) -> pd.DataFrame:
    """Category, flags and privacy of a generic table's rows, through the crosswalks."""
    from .offenses import classify

    n = len(df)
    keys = {_key(c): c for c in df.columns}
    labels = df[found["category"]] if found["category"] else None
    code_cols = [(keys[k], sch) for k, sch in profile.codes if k in keys]
    if found.get("code") and not code_cols:
        code_cols = [(found["code"], None)]
    first = code_cols[0] if code_cols else (None, None)
    codes = df[first[0]] if first[0] else None
    schemes = (first[1],) if first[1] else opts.schemes
    res = classify(codes, labels, schemes=schemes, mapping=opts.categories)
    category, sensitive = res.category.copy(), res.sensitive.copy()
    for col, sch in code_cols[1:]:
        more = classify(df[col], None, schemes=(sch,), mapping=opts.categories)
        sensitive |= more.sensitive
        fill = category.isna() | category.str.startswith("code_").fillna(False)
        category = category.where(~fill | more.category.isna(), more.category)
    for k, v in res.unmapped.items():
        opts.unmapped[k] = opts.unmapped.get(k, 0) + v
    opts.disagreements += res.disagreements
    lab = _stripped(labels) if labels is not None else np.full(n, "")
    texts = [pd.Series(lab)]
    for k in (*profile.descriptions, *DESCRIPTION_KEYS):
        if k in keys and keys[k] != found["category"]:
            texts.append(df[keys[k]].astype(str).reset_index(drop=True))
    out = pd.DataFrame(
        {
            "category": category.to_numpy(),
            "source_code": (
                _stripped(codes) if codes is not None else np.full(n, "")
            ),
            "source_label": lab,
        }
    )
    dom_col = opts.domestic_column or found["domestic"]
    if opts.domestic_column and opts.domestic_column not in df.columns:
        raise InputError(
            f"--domestic-column {opts.domestic_column!r} is not in the file; it has: "
            f"{', '.join(map(str, df.columns))}."
        )
    domestic = (
        _per_unique(df[dom_col], lambda u: domestic_flag(u).to_numpy())
        if dom_col
        else np.zeros(n, bool)
    )
    out["domestic"] = domestic | out["category"].eq("domestic_violence").to_numpy()
    sensitive |= _sensitive_text(*texts) | out["domestic"].to_numpy()
    sensitive |= _user_sensitive(out["category"], texts, opts.sensitive_extra)
    out["sensitive"] = sensitive
    out["carjacking_code"] = res.carjacking
    return out


def _columns(df: pd.DataFrame, opts: _Options, profile) -> dict:
    """Schema field -> file column: the user's mapping, then the profile, then usual names."""
    cols = list(df.columns)
    keys = {_key(c): c for c in cols}
    found: dict = {}
    for f in [*AUTO_COLUMNS, "time"]:
        if f in opts.mapping:
            found[f] = _find(cols, f, opts.mapping)
        elif f in profile.columns:
            found[f] = keys.get(profile.columns[f])
        elif f == "time" or (profile.columns and f == "code"):
            found[f] = None
        else:
            found[f] = _find(cols, f, {})
    return found


def _prepare_table(
    df: pd.DataFrame, source: str, opts: _Options, profile
) -> tuple[pd.DataFrame, CRS | None]:
    from .dates import parse_dates

    cols = list(df.columns)
    found = _columns(df, opts, profile)
    has_code = found["code"] is not None or any(_key(c) in dict(profile.codes) for c in cols)
    if found["occurred_at"] is None or (found["category"] is None and not has_code):
        missing = [f for f in ("occurred_at", "category") if found[f] is None]
        raise InputError(
            f"{source}: cannot find the {' and '.join(missing)} column(s); map them with "
            f"--columns, e.g. --columns occurred_at=Date,category=Offense, or name the "
            f"layout with --profile (columns: {', '.join(map(str, cols))})."
        )
    classes = _classify_table(df, found, opts, profile)
    dates = parse_dates(
        df[found["occurred_at"]],
        time=df[found["time"]] if found.get("time") else None,
        dayfirst=opts.dayfirst if opts.dayfirst is not None else profile.dayfirst,
        timezone=opts.timezone or profile.timezone,
        name=f"{source} column {found['occurred_at']!r}",
    )
    opts.dates[source] = {
        "column": found["occurred_at"],
        "time_column": found.get("time"),
        "format": dates.format,
        "parsed_row_by_row": dates.fallback,
        "converted_from_offsets": dates.converted,
        "timezone": opts.timezone or profile.timezone,
    }
    opts.years[source] = dates.year
    out = pd.DataFrame(
        {
            "source": source,
            "row": np.arange(1, len(df) + 1),
            "incident_id": (
                df[found["incident_id"]].astype(str).str.strip()
                if found["incident_id"]
                else pd.Series(
                    [
                        f"{Path(source).stem}-{i}"
                        for i in range(opts.row0 + 1, opts.row0 + len(df) + 1)
                    ]
                )
            ).to_numpy(),
            "occurred_at": dates.values.to_numpy(),
            "category": classes["category"].to_numpy(),
            "code": classes["source_code"].to_numpy(),
        }
    )
    for flag in ("carjacking", "firearm"):
        out[flag] = _bool(df[found[flag]]).to_numpy() if found[flag] else False
    out["carjacking"] = out["carjacking"].to_numpy() | classes["carjacking_code"].to_numpy()
    for col in ("domestic", "source_code", "source_label", "sensitive"):
        out[col] = classes[col].to_numpy()
    if "sensitive" in df.columns and found["category"]:
        # our own clean files carry the flag: keep it
        out["sensitive"] |= domestic_flag(df["sensitive"].to_numpy()).to_numpy()
    out["count"] = 1
    out["raw_key"] = 0  # generic files: duplicates are judged by id, not by content
    out["slmpd"] = False
    return _coordinates(df, out, found, source, opts.crs, profile)


def _coordinates(df, out, found, source, crs, profile):
    """x/y (in the profile's or the user's CRS), lat/lon or a geometry, into ``out``."""
    if isinstance(df, gpd.GeoDataFrame):
        geom = df.geometry
        if geom.crs is None and crs is None:
            raise InputError(f"{source} has no coordinate reference system; give one with --crs.")
        src_crs = CRS.from_user_input(geom.crs) if geom.crs is not None else crs
        arr = geom.array.to_numpy()
        is_pt = geom.geom_type.eq("Point").to_numpy() & ~shapely.is_empty(arr)
        x, y = np.full(len(arr), np.nan), np.full(len(arr), np.nan)
        x[is_pt], y[is_pt] = shapely.get_x(arr[is_pt]), shapely.get_y(arr[is_pt])
        out["x"], out["y"] = x, y
        missing = shapely.is_missing(arr)
        empty = missing | shapely.is_empty(arr)
        out["not_point"] = ~geom.geom_type.isin(["Point"]).to_numpy() & ~empty
        # a private incident `load` wrote without its point
        out["private_blank"] = empty & out["sensitive"].to_numpy(bool)
        return out, src_crs
    xy_crs = crs or (CRS.from_user_input(profile.crs) if profile.crs else None)
    if profile.columns and not crs and found["lat"] and found["lon"]:
        # agency layouts with both: lat/lon where the file fills them (exact, no CRS)
        lat = _number(df[found["lat"]])
        if np.isfinite(lat).mean() >= 0.5 or not (found["x"] and found["y"]):
            found = {**found, "x": None, "y": None}
    if found["x"] and found["y"] and not (xy_crs is None and found["lat"] and found["lon"]):
        if xy_crs is None:
            raise InputError(
                f"{source} has x/y columns ({found['x']}, {found['y']}) but no CRS is known; "
                "give it with --crs (e.g. --crs EPSG:26915), or use lat/lon columns."
            )
        out["x"] = _number(df[found["x"]])
        out["y"] = _number(df[found["y"]])
        return out, xy_crs
    if found["lat"] and found["lon"]:
        out["x"] = _number(df[found["lon"]])
        out["y"] = _number(df[found["lat"]])
        out["latlon"] = True
        return out, WGS84
    raise InputError(
        f"{source}: no coordinates found (x/y, lat/lon or a geometry); map them with "
        "--columns x=...,y=... or --columns lat=...,lon=...."
    )


def _number(values) -> np.ndarray:
    """Numbers from text (thousands separators tolerated); NaN where not a number."""
    s = pd.Series(values)
    if s.dtype == object:
        s = s.astype(str).str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


#: CSV files at least this large (bytes) are read in chunks of :data:`CHUNK_ROWS` rows, so
#: that the raw text of only one chunk is in memory at a time.
CHUNK_BYTES = 256 * 2**20
CHUNK_ROWS = 1_000_000


class _WholeFile(Exception):
    """The file cannot be streamed (ragged rows, quoted newlines, not UTF-8...): read it whole."""


def _csv_chunks(path: Path, rows: int):
    """Frames of about ``rows`` rows of a UTF-8 CSV, every field as text ("" when empty)."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, "rb") as fh:
        head = fh.readline()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise _WholeFile
    skip = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    names = next(csv.reader([head[skip:].decode("utf-8", errors="replace")], delimiter=sep))
    types = {n: pa.string() for n in names}
    batches: list = []
    n, given = 0, 0
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=16 * 2**20),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
        for batch in reader:
            batches.append(batch)
            n += batch.num_rows
            if n >= rows:
                yield pa.Table.from_batches(batches).to_pandas()
                batches, n, given = [], 0, given + 1
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _WholeFile from exc
    if n or not given:
        yield pa.Table.from_batches(batches, schema=reader.schema).to_pandas()


def _read_chunked(path: Path, opts: _Options):
    """A large CSV read and prepared chunk by chunk; None when it must be read whole."""
    from . import profiles

    source = str(path)
    saved = (dict(opts.unmapped), opts.disagreements, opts.dayfirst)
    frames: list[pd.DataFrame] = []
    years: list[np.ndarray] = []
    crs: CRS | None = None
    profile = None
    opts.row0 = 0
    try:
        for df in _csv_chunks(path, CHUNK_ROWS):
            df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
            if profile is None:
                profile = (
                    profiles.get(opts.profile) if opts.profile else profiles.detect(df.columns)
                )
                if profile.name == "slmpd":
                    raise _WholeFile  # monthly files: small, and matched row by row
                opts.profiles[source] = {"profile": profile.name, "why": profile.why(df.columns)}
            frame, chunk_crs = _prepare_table(df, source, opts, profile)
            if crs is not None and not CRS.from_user_input(chunk_crs).equals(crs):
                raise _WholeFile  # lat/lon in some chunks, x/y in others
            crs = CRS.from_user_input(chunk_crs)
            frame["row"] += opts.row0
            opts.row0 += len(df)
            years.append(np.asarray(opts.years.get(source), float))
            if len(frames) == 0:
                first = opts.dates[source]
                if opts.dayfirst is None and first["format"].startswith(("%d", "%m")):
                    # later chunks keep the first chunk's day/month order
                    opts.dayfirst = first["format"].startswith("%d")
            else:
                for k in ("parsed_row_by_row", "converted_from_offsets"):
                    first[k] += opts.dates[source][k]
            frames.append(frame)
            del df
    except _WholeFile:
        opts.unmapped.clear()
        opts.unmapped.update(saved[0])
        opts.disagreements = saved[1]
        return None
    finally:
        opts.row0, opts.dayfirst = 0, saved[2]
    opts.dates[source] = first
    opts.years[source] = np.concatenate(years) if years else None
    return pd.concat(frames, ignore_index=True), crs


def _read_one(path: Path, opts: _Options):
    source = str(path)
    ext = path.suffix.lower()
    if ext in TABLE_EXT and path.stat().st_size >= CHUNK_BYTES:
        try:
            done = _read_chunked(path, opts)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"Could not read {path}: {exc}".rstrip(".") + ".") from exc
        if done is not None:
            return done
    try:
        ragged: dict[int, int] = {}
        if ext in TABLE_EXT:
            df, ragged = _read_csv(path)
        elif ext in {".parquet", ".geoparquet"}:
            try:
                df = gpd.read_parquet(path)
            except ValueError:
                df = pd.read_parquet(path)
        elif ext in VECTOR_EXT:
            df = gpd.read_file(path, engine="pyogrio")
        else:
            raise InputError(
                f"{path}: unsupported file type {ext!r}; use CSV, GeoJSON, GeoPackage, "
                "Shapefile or GeoParquet."
            )
    except InputError:
        raise
    except Exception as exc:  # a library's own error, turned into a sentence
        raise InputError(f"Could not read {path}: {exc}".rstrip(".") + ".") from exc
    if len(df.columns) == 0:
        raise InputError(f"{path} is empty: it has no columns.")
    from . import profiles

    profile = profiles.get(opts.profile) if opts.profile else profiles.detect(df.columns)
    opts.profiles[source] = {"profile": profile.name, "why": profile.why(df.columns)}
    rows = df.index.to_numpy() + 1 if ragged else None
    df = df.reset_index(drop=True) if ragged else df
    crs: CRS | None
    if profile.name == "slmpd" and _is_slmpd(df.columns) and not opts.mapping:
        frame, crs = _prepare_slmpd(df, source, opts)
    else:
        if profile.name == "slmpd":
            profile = profiles.get("generic")
        frame, crs = _prepare_table(df, source, opts, profile)
    if ragged:
        frame["row"] = rows
        if opts.years.get(source) is not None:
            full = np.full(len(frame) + len(ragged), np.nan)
            full[np.asarray(rows) - 1] = np.asarray(opts.years[source], float)
            opts.years[source] = full
        width = len(df.columns)
        bad = pd.DataFrame(
            {
                "source": source,
                "row": list(ragged),
                "incident_id": "",
                "ragged": [
                    f"the row has {n} fields; the header has {width}" for n in ragged.values()
                ],
            }
        )
        frame = pd.concat([frame, bad], ignore_index=True).sort_values("row", ignore_index=True)
    return frame, crs


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
        The output CRS (default :data:`~impactzones.geo.WORK_CRS`, UTM 15N, metres).
    categories : path or DataFrame, optional
        A category mapping (:func:`impactzones.offenses.read_mapping`) that extends or
        overrides the crosswalks.
    sensitive_categories : iterable of str
        More categories (or words of offense labels) to keep private, on top of the
        sensitivity rule of :mod:`impactzones.offenses`.
    domestic_column : str, optional
        The column holding the domestic-violence flag, when its name is not a usual one.
    profile : str, optional
        Force a dataset profile (:mod:`impactzones.profiles`); default: from the header.
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
        (:func:`impactzones.dates.future_bound`), so the same files give the same result
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


# --------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------


def _feature_names(gdf, kind: str) -> list[str]:
    """What to call each feature in a message: its name, else its position."""
    keys = {_key(c): c for c in gdf.columns}
    col = keys.get("name") or keys.get("zone") or keys.get("zonename")
    if col is None and kind == "districts":
        col = keys.get("district") or keys.get("distno")
    if col is not None:
        return [str(v) for v in gdf[col]]
    return [f"feature {i}" for i in range(1, len(gdf) + 1)]


def _check_polygons(gdf, kind: str, path) -> None:
    """Polygon layers hold polygons: refuse, by name, features that are points or lines,
    and zones with no geometry (other layers drop those with a warning)."""
    geom = gdf.geometry
    names = _feature_names(gdf, kind)
    empty = (geom.isna() | geom.is_empty).to_numpy()
    if empty.any():
        which = ", ".join(n for n, e in zip(names, empty, strict=True) if e)
        if kind == "zones":
            raise InputError(
                f"Zone(s) {which} in {path} have no geometry; give each zone a polygon or "
                "remove it."
            )
        warnings.warn(f"{kind} {path}: left out {which}, which have no geometry.", stacklevel=3)
    kinds = geom.geom_type.fillna("").to_numpy()
    wrong = ~empty & ~np.isin(kinds, ["Polygon", "MultiPolygon", "GeometryCollection"])
    if wrong.any():
        which = ", ".join(f"{n} ({k})" for n, k, w in zip(names, kinds, wrong, strict=True) if w)
        raise InputError(
            f"The {kind} file {path} must hold polygons; {which} are not. Draw them as areas."
        )


def _lonlat_bounds(gdf: gpd.GeoDataFrame) -> bool:
    """Whether a layer's coordinates can be longitude/latitude degrees."""
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    return bool(np.isfinite([x0, y0, x1, y1]).all()) and (
        -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
    )


def read_layer(
    path: str | Path,
    *,
    kind: str = "layer",
    crs: str | CRS | None = None,
    work_crs: str | CRS | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon layer (boundary, districts, zones), repaired and in the working CRS.

    Invalid geometries are repaired with ``shapely.make_valid`` and a warning; a layer with
    no CRS needs ``crs``. Districts get a ``district`` column (from ``district``,
    ``DISTNO``, ``dist`` or ``name``); zones need ``name`` and get ``start`` as a datetime
    (missing starts are allowed and stay empty).

    Examples
    --------
    >>> from impactzones.geo import data_dir
    >>> z = read_layer(data_dir() / "impact_zones.geojson", kind="zones")
    >>> list(z["name"]), z.crs.to_epsg()
    (['North', 'Central', 'South'], 32615)
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"The {kind} file {path} does not exist; check the path.")
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:
        raise InputError(f"Could not read the {kind} file {path}: {exc}") from exc
    if len(gdf) == 0:
        raise InputError(f"The {kind} file {path} has no features.")
    if gdf.crs is None:
        if crs is None:
            raise InputError(
                f"The {kind} file {path} has no CRS (a shapefile without .prj?); give one "
                "with --crs."
            )
        gdf = gdf.set_crs(crs)
    elif gdf.crs.is_geographic and not _lonlat_bounds(gdf):
        # GeoJSON without a "crs" member is read as WGS 84, even when it is in feet
        if crs is None:
            x1, y1 = (float(v) for v in gdf.total_bounds[2:])
            raise InputError(
                f"The {kind} file {path} says longitude/latitude, but its coordinates run to "
                f"({x1:,.0f}, {y1:,.0f}), which cannot be degrees: it is in a projected CRS "
                "(state-plane feet or metres) that the file does not name; give it with --crs "
                "(e.g. --crs ESRI:102696 for Missouri East state plane feet)."
            )
        gdf = gdf.set_crs(crs, allow_override=True)
    _check_polygons(gdf, kind, path)
    bad = ~gdf.geometry.is_valid
    if bad.any():
        warnings.warn(
            f"{kind} {path}: repaired {int(bad.sum())} invalid geometries with make_valid.",
            stacklevel=2,
        )
        gdf.loc[bad, "geometry"] = shapely.make_valid(gdf.geometry[bad].array.to_numpy())
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
    keys = {_key(c): c for c in gdf.columns}
    if kind == "districts" and "district" not in gdf.columns:
        for cand in (
            "distno",
            "district",
            "dist",
            "districtno",
            "distnum",
            "districtnum",
            "districtid",
            "distid",
            "beat",
            "beatnum",
            "name",
        ):
            if cand in keys:
                gdf["district"] = gdf[keys[cand]]
                break
        else:
            gdf["district"] = np.arange(1, len(gdf) + 1)
    if kind == "districts":
        as_num = pd.to_numeric(gdf["district"], errors="coerce")
        if as_num.notna().all() and (as_num == as_num.round()).all():
            gdf["district"] = as_num.astype("int64")
        if "name" not in gdf:
            gdf["name"] = [f"District {d}" for d in gdf["district"]]
        gdf = gdf.sort_values("district", ignore_index=True)
    if kind == "zones":
        if "name" not in gdf.columns:
            zcol = keys.get("zone") or keys.get("zonename")
            gdf["name"] = (
                gdf[zcol].astype(str) if zcol else [f"Zone {i}" for i in range(1, len(gdf) + 1)]
            )
        gdf["name"] = gdf["name"].astype(str)
        if gdf["name"].duplicated().any():
            raise InputError(f"Zone names in {path} repeat; give every zone its own name.")
        gdf["start"] = pd.to_datetime(gdf["start"], errors="coerce") if "start" in gdf else pd.NaT
        if "description" not in gdf:
            gdf["description"] = ""
    from .geo import to_work_crs

    return to_work_crs(gdf.reset_index(drop=True), work_crs)


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _atomic(path: Path, write) -> Path:
    from .safety import check_inside

    path = Path(path)
    check_inside(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name for this output.")
    if path.parent.exists() and not path.parent.is_dir():
        raise InputError(
            f"{path.parent} is a file, not a folder; choose another output folder (--out)."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def guard_outputs(inputs: Iterable[str | Path], outputs: Iterable[str | Path]) -> None:
    """Refuse to write an output over an input file.

    Examples
    --------
    >>> guard_outputs(["in.csv"], ["out.parquet"])  # fine
    >>> guard_outputs(["in.csv"], ["in.csv"])
    Traceback (most recent call last):
    ...
    impactzones.errors.InputError: in.csv is one of the inputs; write the output somewhere else.
    """
    ins = {Path(p).resolve() for p in inputs if p is not None}
    for out in outputs:
        if out is not None and Path(out).resolve() in ins:
            raise InputError(f"{out} is one of the inputs; write the output somewhere else.")


def write_text(text: str, path: str | Path) -> Path:
    """Write text atomically (a temporary file, then a rename).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_text("hello", pathlib.Path(tempfile.mkdtemp()) / "a.txt").read_text()
    'hello'
    """
    return _atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table atomically as CSV, JSON (records) or Parquet, by extension.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_table(pd.DataFrame({"a": [1, 2]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_text()
    'a\\n1\\n2\\n'
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".json":
        return write_text(df.to_json(orient="records", date_format="iso", indent=1), path)
    if ext == ".parquet":
        return _atomic(path, lambda p: df.to_parquet(p, index=False))
    return _atomic(path, lambda p: df.to_csv(p, index=False, lineterminator="\n"))


def write_vector(gdf: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a GeoDataFrame atomically, in a format chosen by the file extension.

    ``.geojson``/``.json`` (always WGS 84, as the GeoJSON spec requires), ``.gpkg``,
    ``.parquet``/``.geoparquet`` (GeoParquet, in the frame's CRS) or ``.csv`` (``x``, ``y``
    in the frame's CRS plus ``lon``, ``lat``; times in ISO 8601).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.geo import load_layer
    >>> out = write_vector(load_layer("zones"), pathlib.Path(tempfile.mkdtemp()) / "z.geojson")
    >>> out.suffix
    '.geojson'
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext in {".geojson", ".json"}:
        out = gdf.to_crs(WGS84) if gdf.crs is not None else gdf
        # the layer is named after the final file, not the temporary one (deterministic bytes)
        return _atomic(
            path,
            lambda p: out.to_file(
                p, driver="GeoJSON", engine="pyogrio", layer=path.stem, COORDINATE_PRECISION=7
            ),
        )
    if ext == ".gpkg":
        layer = "".join(ch if ch.isalnum() else "_" for ch in path.stem) or "incidents"
        return _atomic(path, lambda p: gdf.to_file(p, driver="GPKG", engine="pyogrio", layer=layer))
    if ext in {".parquet", ".geoparquet"}:
        return _atomic(path, lambda p: gdf.to_parquet(p, index=False))
    if ext == ".csv":
        ll = gdf.geometry.to_crs(WGS84)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        df["x"] = gdf.geometry.x.round(2)
        df["y"] = gdf.geometry.y.round(2)
        df["lon"] = ll.x.round(7)
        df["lat"] = ll.y.round(7)
        return write_table(df, path)
    raise InputError(
        f"Cannot write {path}: use .parquet, .gpkg, .geojson or .csv as the extension."
    )


def write_json(obj, path: str | Path) -> Path:
    """Write JSON atomically (sorted keys, so that the same result gives the same bytes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_json({"b": 1, "a": 2}, pathlib.Path(tempfile.mkdtemp()) / "s.json").read_text()
    '{\\n  "a": 2,\\n  "b": 1\\n}\\n'
    """
    return write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", path)


def write_png(fig, path: str | Path | None = None) -> bytes:
    """A matplotlib figure as PNG bytes with no software stamp, written atomically to ``path``.

    The same figure gives the same bytes, so plots in an output folder stay deterministic.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(1, 1)); _ = fig.add_subplot().plot([0, 1])
    >>> data = write_png(fig)
    >>> data[:4] == b"\\x89PNG", data == write_png(fig)
    (True, True)
    """
    import io as _io

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    data = buf.getvalue()
    if path is not None:
        _atomic(Path(path), lambda p: p.write_bytes(data))
    return data

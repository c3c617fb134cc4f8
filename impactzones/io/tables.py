"""Reading one agency file (CSV, vector, SLMPD export) into the standard columns.

Supported inputs: CSV (x/y in any CRS, or lat/lon), GeoJSON, GeoPackage, Shapefile and
GeoParquet, a column mapping for other names, and the SLMPD monthly crime exports as
published (columns ``Complaint, CodedMonth, DateOccur, Crime, Count, ... XCoord, YCoord`` in
Missouri State Plane East, US feet), including a whole folder of them in one call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..core.errors import InputError
from ..core.geo import WGS84
from ..core.schema import (
    AREA_LABELS,
    DOMESTIC_COLUMNS,
    SENSITIVE_LABEL,
    domestic_flag,
)
from .safety import message_list

__all__ = [
    "EXTRA_COLUMNS",
    "REASONS",
    "expand_paths",
    "release_memory",
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
#: label (for audit) and the privacy flag of :func:`impactzones.core.schema.is_sensitive`.
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
    coords: dict = field(default_factory=dict)  # source -> where its points came from
    row0: int = 0  # rows of the file read before the current chunk


def _key(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


# --------------------------------------------------------------------------------------
# Raw reading
# --------------------------------------------------------------------------------------


#: First bytes of files that are often renamed .csv, and what they are.
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed (decompress it first)",
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook? save it as CSV)",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook (save it as CSV)",
    b"PAR1": "a Parquet file (name it .parquet)",
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
}


def _not_text(path: Path, head: bytes) -> None:
    """One sentence when a table file holds no text (a workbook, an archive, random bytes)."""
    what = next((w for m, w in _MAGIC.items() if head.startswith(m)), None)
    if what is None and head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        sample = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
        zeros = sample.count(b"\x00")
        utf16 = zeros > len(sample) // 4 and (
            sample[0::2].count(b"\x00") < 2 or sample[1::2].count(b"\x00") < 2
        )
        control = sum(b < 32 and b not in (9, 10, 12, 13) for b in sample) - zeros * utf16
        high = sum(b >= 128 for b in sample)
        try:
            sample.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError as exc:
            utf8 = exc.start > len(sample) - 4  # only a character cut at the end
        if (not utf16 and control > len(sample) // 100) or (not utf8 and high > len(sample) // 3):
            what = "binary data"
    if what is not None:
        raise InputError(
            f"{path} is not a text file: it is {what}. A table must be text, e.g. CSV "
            "(comma-separated values)."
        )


def _read_text(path: Path) -> str:
    """The text of a file, its encoding told by its byte-order mark or its bytes.

    UTF-8 (with or without a BOM), UTF-16 (with a BOM, or told by its zero bytes), and
    cp1252 for the stray single bytes real exports mix in.
    """
    data = path.read_bytes()
    _not_text(path, data[:8192])
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
                and (f.suffix.lower() != ".json" or _is_geojson(f))  # summary.json...
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


def _is_geojson(path: Path) -> bool:
    """Whether a .json file in a folder is GeoJSON (an output folder also holds the run's
    manifest.json, summary.json and compare_*.json, which are not incidents)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True  # let the reader say what is wrong with it
    return re.search(rb'"type"\s*:\s*"(FeatureCollection|Feature)"', head) is not None


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
                f"{message_list(cols)}."
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
    carjacking = res.carjacking.copy()
    for col, sch in code_cols[1:]:
        more = classify(df[col], None, schemes=(sch,), mapping=opts.categories)
        sensitive |= more.sensitive
        carjacking |= more.carjacking
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
            "source_code": (_stripped(codes) if codes is not None else np.full(n, "")),
            "source_label": lab,
        }
    )
    dom_col = opts.domestic_column or found["domestic"]
    domestic = (
        _per_unique(df[dom_col], lambda u: domestic_flag(u).to_numpy())
        if dom_col
        else np.zeros(n, bool)
    )
    out["domestic"] = domestic | out["category"].eq("domestic_violence").to_numpy()
    sensitive |= _sensitive_text(*texts) | out["domestic"].to_numpy()
    sensitive |= _user_sensitive(out["category"], texts, opts.sensitive_extra)
    out["sensitive"] = sensitive
    out["carjacking_code"] = carjacking
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


def _check_found(found: dict, cols: list, source: str, opts: _Options, profile) -> None:
    """One sentence when the date, the category (or code) or the domestic column is missing."""
    has_code = found["code"] is not None or any(_key(c) in dict(profile.codes) for c in cols)
    if found["occurred_at"] is None or (found["category"] is None and not has_code):
        missing = [f for f in ("occurred_at", "category") if found[f] is None]
        raise InputError(
            f"{source}: cannot find the {' and '.join(missing)} column(s); map them with "
            f"--columns, e.g. --columns occurred_at=Date,category=Offense, or name the "
            f"layout with --profile (columns: {message_list(cols)})."
        )
    if opts.domestic_column and opts.domestic_column not in cols:
        raise InputError(
            f"--domestic-column {opts.domestic_column!r} is not in the file; it has: "
            f"{message_list(cols)}."
        )


def _wanted(names: list[str], source: str, opts: _Options, profile) -> list[str]:
    """The header's columns the reading uses (the rest of a wide export is not read)."""
    cols = [str(c).strip().lstrip("\ufeff") for c in names]
    if len(set(cols)) != len(cols):
        raise _WholeFile  # repeated column names: the whole-file reader says what it keeps
    found = _columns(pd.DataFrame(columns=cols), opts, profile)
    _check_found(found, cols, source, opts, profile)
    keys = {_key(c): c for c in cols}
    want = {c for c in found.values() if c}
    want |= {keys[k] for k, _ in profile.codes if k in keys}
    want |= {keys[k] for k in (*profile.descriptions, *DESCRIPTION_KEYS) if k in keys}
    want |= {c for c in ("sensitive", opts.domestic_column) if c in cols}
    return [raw for raw, c in zip(names, cols, strict=True) if c in want]


def _prepare_table(
    df: pd.DataFrame, source: str, opts: _Options, profile
) -> tuple[pd.DataFrame, CRS | None]:
    from .dates import parse_dates

    found = _columns(df, opts, profile)
    _check_found(found, list(df.columns), source, opts, profile)
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
    # generic files: no count, raw_key or slmpd columns (duplicates are judged by id, not
    # by content); read_incidents takes them as 1, 0 and False
    return _coordinates(df, out, found, source, opts, profile)


def _coordinates(df, out, found, source, opts, profile):
    """x/y (in the profile's or the user's CRS), lat/lon or a geometry, into ``out``; where
    they came from in ``opts.coords[source]`` (``("lat", LAT, "lon", LON)``, ``("x", X, "y",
    Y)`` or ``("geometry",)``), and ``latlon`` set for coordinates in degrees. A vector file
    is placed by its geometry unless ``--columns`` names its x/y or lat/lon columns."""
    crs = opts.crs
    mapped = {"lat", "lon"} <= set(opts.mapping) or {"x", "y"} <= set(opts.mapping)
    if isinstance(df, gpd.GeoDataFrame) and not mapped:  # columns the user named win
        geom = df.geometry
        if geom.crs is None and crs is None:
            raise InputError(f"{source} has no coordinate reference system; give one with --crs.")
        src_crs = CRS.from_user_input(geom.crs) if geom.crs is not None else crs
        arr = geom.array.to_numpy()
        is_pt = geom.geom_type.eq("Point").to_numpy() & ~shapely.is_empty(arr)
        x, y = np.full(len(arr), np.nan), np.full(len(arr), np.nan)
        x[is_pt], y[is_pt] = shapely.get_x(arr[is_pt]), shapely.get_y(arr[is_pt])
        out["x"], out["y"] = x, y
        if CRS.from_user_input(src_crs).is_geographic:
            out["latlon"] = True  # degrees: checked for range and for swapped axes
        opts.coords[source] = ("geometry",)
        missing = shapely.is_missing(arr)
        empty = missing | shapely.is_empty(arr)
        out["not_point"] = ~geom.geom_type.isin(["Point"]).to_numpy() & ~empty
        # a private incident `load` wrote without its point, with the areas it was in
        blank = empty & out["sensitive"].to_numpy(bool)
        out["private_blank"] = blank
        if blank.any():
            for col in (c for c in AREA_LABELS if c in df):
                out[col] = df[col].where(blank).to_numpy()
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
        if CRS.from_user_input(xy_crs).is_geographic:
            out["latlon"] = True  # degrees: checked for range and for swapped axes
        opts.coords[source] = ("x", found["x"], "y", found["y"])
        return out, xy_crs
    if found["lat"] and found["lon"]:
        out["x"] = _number(df[found["lon"]])
        out["y"] = _number(df[found["lat"]])
        out["latlon"] = True
        opts.coords[source] = ("lat", found["lat"], "lon", found["lon"])
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
CHUNK_ROWS = 500_000


class _WholeFile(Exception):
    """The file cannot be streamed (ragged rows, quoted newlines, not UTF-8...): read it whole."""


def _csv_header(path: Path) -> tuple[list[str], str]:
    """The column names of a UTF-8 CSV and its delimiter (else: read it whole)."""
    import csv

    with open(path, "rb") as fh:
        _not_text(path, fh.read(8192))
        fh.seek(0)
        head = fh.readline()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise _WholeFile
    skip = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    names = next(csv.reader([head[skip:].decode("utf-8", errors="replace")], delimiter=sep))
    return names, sep


def _csv_chunks(path: Path, rows: int, names: list[str], sep: str, include: list[str]):
    """Frames of about ``rows`` rows of a UTF-8 CSV, the ``include`` columns only, every
    field as text ("" when empty)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = {n: pa.string() for n in names}
    batches: list = []
    n, given = 0, 0
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=16 * 2**20),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=False, include_columns=include
            ),
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
    opts.row0 = 0
    try:
        names, sep = _csv_header(path)
        cols = [str(c).strip().lstrip("\ufeff") for c in names]
        profile = profiles.get(opts.profile) if opts.profile else profiles.detect(cols)
        if profile.name == "slmpd":
            raise _WholeFile  # monthly files: small, and matched row by row
        include = _wanted(names, source, opts, profile)
        opts.profiles[source] = {"profile": profile.name, "why": profile.why(cols)}
        for df in _csv_chunks(path, CHUNK_ROWS, names, sep, include):
            df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
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
            frames.append(_compact(frame))
            del df, frame
            release_memory()
    except _WholeFile:
        opts.unmapped.clear()
        opts.unmapped.update(saved[0])
        opts.disagreements = saved[1]
        opts.profiles.pop(source, None)
        return None
    finally:
        opts.row0, opts.dayfirst = 0, saved[2]
    opts.dates[source] = first
    opts.years[source] = np.concatenate(years) if years else None
    return _concat(frames), crs


def release_memory() -> None:
    """Hand memory freed by pyarrow's pool and by C's ``malloc`` back to the system.

    Both allocators keep freed blocks for reuse; between the chunks of a large file that
    kept memory is several times the rows' own size and would set the peak. On systems
    without glibc only pyarrow's pool is released.

    Examples
    --------
    >>> release_memory()
    """
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


#: Text columns held as categoricals: a few hundred distinct values over millions of rows.
_CATEGORICAL = ("source", "category", "code", "source_code", "source_label")

#: Columns a file's rows may lack, and the value they stand for.
_DEFAULTS = {
    "count": 1,
    "raw_key": 0,
    "slmpd": False,
    "not_point": False,
    "private_blank": False,
    "latlon": False,
}


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The text columns of prepared rows as categoricals (in place)."""
    for c in _CATEGORICAL:
        if c in frame and not isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype("category")
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Prepared rows of several files or chunks as one table, column by column: each part's
    column is dropped as soon as it is copied, and categoricals keep one (sorted) set of
    categories. A column some parts lack takes its value from :data:`_DEFAULTS` (else NaN).
    """
    if len(frames) == 1:
        return frames[0]
    from pandas.api.types import union_categoricals

    sizes = [len(f) for f in frames]
    names = list(dict.fromkeys(c for f in frames for c in f.columns))
    out: dict[str, pd.Series] = {}
    for name in names:
        parts = [f.pop(name).reset_index(drop=True) if name in f else None for f in frames]
        like = next(p for p in parts if p is not None)
        full = [
            p if p is not None else _missing(like, name, n)
            for p, n in zip(parts, sizes, strict=True)
        ]
        del parts
        if isinstance(like.dtype, pd.CategoricalDtype):
            try:
                cat = union_categoricals([p.astype("category") for p in full], sort_categories=True)
            except TypeError:  # categories of different kinds (numbers and text)
                cat = pd.Categorical(pd.concat([p.astype(object) for p in full]))
            out[name] = pd.Series(cat)
        else:
            out[name] = pd.concat(full, ignore_index=True)
        del full
    return pd.DataFrame(out)


def _missing(like: pd.Series, name: str, n: int) -> pd.Series:
    """A column of ``n`` rows that a part lacks: its default, or missing values."""
    if isinstance(like.dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical.from_codes(np.full(n, -1), dtype=like.dtype))
    if name in _DEFAULTS:
        return pd.Series(np.full(n, _DEFAULTS[name], dtype=like.dtype))
    return pd.Series(np.full(n, np.nan))


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
    return _compact(frame), crs

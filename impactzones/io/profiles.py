"""Dataset profiles: agency export layouts, recognised from the header.

A profile names a layout: which column holds the id, the date (and a separate time), the
offense code(s) and label, the domestic flag, the coordinates (x/y in the agency's CRS, or
lat/lon) and the district; which crosswalk its codes use; its time zone and whether its
dates are month first. The layouts are data (``crosswalks/profiles.csv``, one row each).
:func:`detect` picks the profile whose signature columns are all in
the header (and says which, and why); ``--profile NAME`` forces one; ``--columns`` still
overrides single columns.

=============  ==========================================================================
profile        layout
=============  ==========================================================================
slmpd          St. Louis Metropolitan Police monthly exports (Complaint, DateOccur, Crime,
               XCoord, YCoord; Missouri State Plane East feet)
chicago        Chicago Data Portal "Crimes - 2001 to present" (Case Number, Date, IUCR,
               Primary Type, FBI Code, Domestic, X/Y Coordinate in Illinois East feet); the
               category from FBI Code, or from IUCR in extracts without it
nypd           NYPD complaint data (CMPLNT_NUM, CMPLNT_FR_DT + CMPLNT_FR_TM, KY_CD,
               OFNS_DESC, PD_DESC, X_COORD_CD/Y_COORD_CD in New York Long Island feet)
lapd           LAPD "Crime Data from 2020 to Present" (DR_NO, DATE OCC + TIME OCC, Crm Cd,
               Crm Cd Desc, LAT/LON with 0 for no location)
philadelphia   Philadelphia "Crime Incidents" (dc_key, dispatch_date_time, ucr_general,
               text_general_code, lat/lng)
generic        any other file: common column names (id, date, category, lat/lon or x/y)
=============  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import InputError

__all__ = ["PROFILES", "Profile", "detect", "get", "key"]


def key(name: str) -> str:
    """A column name compared loosely: lower case, letters and digits only.

    Examples
    --------
    >>> key("Crm Cd Desc"), key("CMPLNT_FR_DT")
    ('crmcddesc', 'cmplntfrdt')
    """
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


@dataclass(frozen=True)
class Profile:
    """One agency layout. Column names are given loosely (see :func:`key`)."""

    name: str
    title: str
    signature: tuple[str, ...]
    columns: dict = field(default_factory=dict)
    #: (column, crosswalk) pairs: the first gives the category; every one can make a row
    #: private; later ones fill a category the first could not give.
    codes: tuple[tuple[str, str], ...] = ()
    #: Further label columns read for the sensitivity rule (a second description).
    descriptions: tuple[str, ...] = ()
    crs: str | None = None
    timezone: str = "America/Chicago"
    dayfirst: bool | None = None
    #: Crosswalks to try codes of an unnamed code column in (generic files).
    schemes: tuple[str, ...] = ("nibrs", "srs")

    def why(self, header) -> str:
        """The sentence saying why this profile was chosen for ``header``."""
        if not self.signature:
            return "no agency layout matched the header; common column names are used"
        cols = {key(c): c for c in header}
        named = [*self.signature, *(c for c, _ in self.codes if c not in self.signature)]
        return "the header has " + ", ".join(cols[k] for k in named if k in cols)


def _read_profiles() -> dict[str, Profile]:
    """The profiles of ``crosswalks/profiles.csv`` (data, not code: a layout is a row)."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parent / "crosswalks" / "profiles.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {r["name"]: _profile(r) for r in rows}


def _profile(row: dict) -> Profile:
    """One row of the profiles table as a :class:`Profile`."""
    pairs = [p.split("=", 1) for p in row["columns"].split()]
    codes = [p.split(":", 1) for p in row["codes"].split()]
    return Profile(
        row["name"],
        row["title"],
        tuple(row["signature"].split()),
        columns={k: v for k, v in pairs},
        codes=tuple((c, s) for c, s in codes),
        descriptions=tuple(row["descriptions"].split()),
        crs=row["crs"] or None,
        timezone=row["timezone"],
        dayfirst={"0": False, "1": True}.get(row["dayfirst"]),
    )


#: The known layouts, by name, in the order :func:`detect` tries them.
PROFILES: dict[str, Profile] = _read_profiles()


def get(name: str) -> Profile:
    """The profile called ``name``.

    Examples
    --------
    >>> get("nypd").timezone
    'America/New_York'
    """
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        raise InputError(f"Unknown profile {name!r}; use one of {', '.join(PROFILES)}.") from None


def detect(header) -> Profile:
    """The profile whose signature columns are all in ``header`` (else ``generic``).

    Examples
    --------
    >>> h = ["ID", "Case Number", "Date", "Block", "IUCR", "Primary Type", "FBI Code"]
    >>> p = detect(h); p.name, p.why(h)
    ('chicago', 'the header has Case Number, IUCR, Primary Type, FBI Code')
    >>> detect(["id", "date", "category", "lat", "lon"]).name
    'generic'
    """
    keys = {key(c) for c in header}
    for p in PROFILES.values():
        if p.signature and set(p.signature) <= keys:
            return p
    return PROFILES["generic"]

"""Dataset profiles: agency export layouts, recognised from the header.

A profile names a layout: which column holds the id, the date (and a separate time), the
offense code(s) and label, the domestic flag, the coordinates (x/y in the agency's CRS, or
lat/lon) and the district; which crosswalk its codes use; its time zone and whether its
dates are month first. :func:`detect` picks the profile whose signature columns are all in
the header (and says which, and why); ``--profile NAME`` forces one; ``--columns`` still
overrides single columns.

=============  ==========================================================================
profile        layout
=============  ==========================================================================
slmpd          St. Louis Metropolitan Police monthly exports (Complaint, DateOccur, Crime,
               XCoord, YCoord; Missouri State Plane East feet)
chicago        Chicago Data Portal "Crimes - 2001 to present" (Case Number, Date, IUCR,
               Primary Type, FBI Code, Domestic, X/Y Coordinate in Illinois East feet)
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
        return "the header has " + ", ".join(cols[k] for k in self.signature if k in cols)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "slmpd",
            "St. Louis Metropolitan Police Department monthly exports",
            ("complaint", "dateoccur", "crime", "xcoord", "ycoord"),
            crs="ESRI:102696",
            timezone="America/Chicago",
            dayfirst=False,
        ),
        Profile(
            "chicago",
            'Chicago Data Portal "Crimes - 2001 to present"',
            ("casenumber", "iucr", "primarytype", "fbicode"),
            columns={
                "incident_id": "id",
                "occurred_at": "date",
                "category": "primarytype",
                "domestic": "domestic",
                "x": "xcoordinate",
                "y": "ycoordinate",
                "lat": "latitude",
                "lon": "longitude",
                "district": "district",
            },
            codes=(("fbicode", "chicago_fbi"), ("iucr", "chicago_iucr")),
            descriptions=("description",),
            crs="EPSG:3435",
            timezone="America/Chicago",
            dayfirst=False,
        ),
        Profile(
            "nypd",
            "NYPD complaint data (historic or year to date)",
            ("cmplntnum", "kycd", "ofnsdesc"),
            columns={
                "incident_id": "cmplntnum",
                "occurred_at": "cmplntfrdt",
                "time": "cmplntfrtm",
                "category": "ofnsdesc",
                "x": "xcoordcd",
                "y": "ycoordcd",
                "lat": "latitude",
                "lon": "longitude",
                "district": "addrpctcd",
            },
            codes=(("kycd", "nypd"),),
            descriptions=("pddesc",),
            crs="EPSG:2263",
            timezone="America/New_York",
            dayfirst=False,
        ),
        Profile(
            "lapd",
            'LAPD "Crime Data from 2020 to Present"',
            ("drno", "crmcd", "crmcddesc"),
            columns={
                "incident_id": "drno",
                "occurred_at": "dateocc",
                "time": "timeocc",
                "category": "crmcddesc",
                "lat": "lat",
                "lon": "lon",
                "district": "area",
            },
            codes=(("crmcd", "lapd"),),
            timezone="America/Los_Angeles",
            dayfirst=False,
        ),
        Profile(
            "philadelphia",
            'Philadelphia "Crime Incidents" (incidents_part1_part2)',
            ("dckey", "ucrgeneral", "textgeneralcode"),
            columns={
                "incident_id": "dckey",
                "occurred_at": "dispatchdatetime",
                "category": "textgeneralcode",
                "lat": "lat",
                "lon": "lng",
                "district": "dcdist",
            },
            codes=(("ucrgeneral", "philadelphia"),),
            timezone="America/New_York",
            dayfirst=False,
        ),
        Profile("generic", "any other layout (common column names)", ()),
    )
}


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

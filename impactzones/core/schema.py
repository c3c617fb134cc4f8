"""The incident schema: column names, crime categories and their groups.

Every stage of impactzones works on incidents with these columns (see ``DESIGN.md``):

==============  ========  ==================================================================
column          type      meaning
==============  ========  ==================================================================
incident_id     str       unique identifier
occurred_at     datetime  local time in America/Chicago, stored without a time zone
category        str       ``homicide``, ``rape``, ``robbery``, ``aggravated_assault``,
                          ``burglary``, ``larceny_theft``, ``motor_vehicle_theft``; real
                          exports also carry ``arson`` and Part II offenses under their names
group           str       ``violent``, ``property`` or ``other``
carjacking      bool      a robbery that was a carjacking (UCR counts it under robbery)
firearm         bool      a firearm was used
domestic        bool      a domestic-violence incident (kept private on maps)
geometry        Point     in the working CRS (metres)
==============  ========  ==================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "AREA_LABELS",
    "COLUMNS",
    "DOMESTIC_COLUMNS",
    "DOMESTIC_NO",
    "GROUPS",
    "PART_I",
    "PROPERTY",
    "SENSITIVE_CATEGORIES",
    "SENSITIVE_LABEL",
    "UCR_CATEGORIES",
    "VIOLENT",
    "domestic_flag",
    "group_of",
    "is_sensitive",
    "normalise_category",
]

#: The columns of a clean incident table, in order.
COLUMNS = [
    "incident_id",
    "occurred_at",
    "category",
    "group",
    "carjacking",
    "firearm",
    "domestic",
    "geometry",
]

#: The area labels an incident carries after :func:`impactzones.assign.assign` (district,
#: neighborhood, zone, ring...); a private row ``load`` writes without its point keeps them,
#: so that counts by area still add up.
AREA_LABELS = (
    "district", "neighborhood", "zone", "zones", "ring", "area_type", "ring_zones", "ring_m",
)  # fmt: skip

VIOLENT = ("homicide", "rape", "robbery", "aggravated_assault")
PROPERTY = ("burglary", "larceny_theft", "motor_vehicle_theft")
#: The seven published Part I categories, in the order of the St. Louis reports.
PART_I = VIOLENT + PROPERTY
GROUPS = ("violent", "property", "other")
#: Categories whose incidents are never shown as points on a map or in a map export
#: (rape under the legacy and revised definitions, other sex offenses, domestic violence,
#: sex trafficking). See :mod:`impactzones.io.offenses` for the whole sensitivity rule.
SENSITIVE_CATEGORIES = ("rape", "sex_offenses", "domestic_violence", "human_trafficking")

#: Offense labels that make an incident private, in any agency's words (searched in the
#: label after upper-casing and turning punctuation into spaces).
SENSITIVE_LABEL = (
    r"\bRAPE\b|\bSEX(?:UAL)?\b|\bSEX OFF|\bCRIM SEX|\bSODOMY\b|\bFONDL|\bMOLEST|\bINCEST\b"
    r"|\bINDECEN|\bLEWD\b|\bORAL COPULATION\b|\bDOMESTIC\b|\bDV\b|\bINTIMATE PARTNER\b"
    r"|\bFAMILY VIOLENCE\b|\bSEXUAL PENETRATION\b"
)

#: Column names read as a domestic-violence flag (compared lower-case, letters and
#: digits only): ``domestic``, ``IsDomestic``, ``Domestic``, ``DV``, ``DV_FLAG`` ...
DOMESTIC_COLUMNS = (
    "domestic",
    "isdomestic",
    "dv",
    "isdv",
    "dvflag",
    "domesticflag",
    "domesticviolence",
    "domesticind",
    "domesticindicator",
    "domesticrelated",
    "domesticincident",
    "familyviolence",
)

#: Values read as "not domestic"; anything else that is not empty counts as domestic (an
#: unknown code errs on the side of privacy).
DOMESTIC_NO = frozenset(
    {"", "n", "no", "false", "f", "0", "0.0", "nan", "none", "null", "na", "n/a", "-"}
)

#: UCR category by the first two digits of an SLMPD crime code (FBI UCR Part I and II).
UCR_CATEGORIES = {
    1: "homicide",
    2: "rape",
    3: "robbery",
    4: "aggravated_assault",
    5: "burglary",
    6: "larceny_theft",
    7: "motor_vehicle_theft",
    8: "arson",
    9: "other_assaults",
    10: "forgery_counterfeiting",
    11: "fraud",
    12: "embezzlement",
    13: "stolen_property",
    14: "vandalism",
    15: "weapons",
    16: "prostitution_vice",
    17: "sex_offenses",
    18: "drug_violations",
    19: "gambling",
    20: "offenses_family_children",
    21: "dui",
    22: "liquor_laws",
    23: "drunkenness",
    24: "disorderly_conduct",
    25: "vagrancy",
    26: "other_offenses",
}

#: Spellings seen in real exports, mapped onto the schema's category names.
CATEGORY_ALIASES = {
    "criminal homicide": "homicide",
    "murder": "homicide",
    "homicide": "homicide",
    "forcible rape": "rape",
    "rape": "rape",
    "robbery": "robbery",
    "aggravated assault": "aggravated_assault",
    "agg assault": "aggravated_assault",
    "burglary": "burglary",
    "larceny": "larceny_theft",
    "larceny-theft": "larceny_theft",
    "larceny theft": "larceny_theft",
    "theft": "larceny_theft",
    "motor vehicle theft": "motor_vehicle_theft",
    "auto theft": "motor_vehicle_theft",
    "arson": "arson",
}


def group_of(category: str) -> str:
    """Return the crime group (``violent``, ``property`` or ``other``) of a category.

    Examples
    --------
    >>> group_of("robbery"), group_of("burglary"), group_of("arson")
    ('violent', 'property', 'other')
    """
    if category in VIOLENT:
        return "violent"
    if category in PROPERTY:
        return "property"
    return "other"


def normalise_category(value: object) -> str | None:
    """Map a category as written in a file onto the schema's snake_case name.

    Known spellings (``"Aggravated Assault"``, ``"Larceny-theft"``) map onto the seven
    published categories; any other non-empty name is kept, in snake_case, under its own
    name (arson and Part II offenses are never rejected as unknown). Empty values give
    ``None``.

    Examples
    --------
    >>> normalise_category("Aggravated Assault")
    'aggravated_assault'
    >>> normalise_category("Drug Abuse Violations")
    'drug_abuse_violations'
    >>> normalise_category("  ") is None
    True
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    key = " ".join(text.lower().replace("_", " ").split())
    if key in CATEGORY_ALIASES:
        return CATEGORY_ALIASES[key]
    out = "".join(ch if ch.isalnum() else "_" for ch in key)
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_") or None


def domestic_flag(values) -> pd.Series:
    """Read a domestic-violence flag column in any of the usual encodings.

    ``Y``/``N``, ``yes``/``no``, ``true``/``false``, ``T``/``F``, ``1``/``0`` (any case);
    empty means no. Any other value (``"DV"``, ``"Domestic"``, ``"U"``) counts as domestic:
    an unknown code errs on the side of privacy.

    Examples
    --------
    >>> domestic_flag(["Y", "n", "true", "FALSE", "1", "0", "", "DV", None]).tolist()
    [True, False, True, False, True, False, False, True, False]
    """
    s = pd.Series(values, dtype="object")
    if s.map(type).eq(bool).all():
        return s.astype(bool)
    text = s.fillna("").astype(str).str.strip().str.lower()
    return ~text.isin(DOMESTIC_NO)


def is_sensitive(df: pd.DataFrame) -> pd.Series:
    """Boolean mask of incidents that must never be shown as points.

    The one sensitivity rule (see :mod:`impactzones.io.offenses`): a sensitive category
    (:data:`SENSITIVE_CATEGORIES`), the domestic flag, the ``sensitive`` column set by the
    readers (codes and labels from the crosswalks, the user's additions), or a
    ``source_label`` matching :data:`SENSITIVE_LABEL`.

    Examples
    --------
    >>> df = pd.DataFrame({"category": ["rape", "robbery", "aggravated_assault", "other"],
    ...                    "domestic": [False, False, True, False],
    ...                    "source_label": ["", "", "", "CRIM SEXUAL ASSAULT"]})
    >>> is_sensitive(df).tolist()
    [True, False, True, True]
    """
    mask = df["category"].isin(SENSITIVE_CATEGORIES)
    if "domestic" in df:
        mask |= df["domestic"].fillna(False).astype(bool)
    if "sensitive" in df:
        mask |= df["sensitive"].fillna(True).astype(bool)
    if "source_label" in df:
        # once per distinct label (millions of rows share a few hundred labels)
        which, labels = pd.factorize(df["source_label"], use_na_sentinel=False)
        label = pd.Series(labels, dtype="object").fillna("").astype(str).str.upper()
        label = label.str.replace(r"[^0-9A-Z]+", " ", regex=True)
        hit = label.str.contains(SENSITIVE_LABEL, regex=True).to_numpy(bool)
        mask |= hit[which] if len(which) else np.zeros(len(df), bool)
    return mask

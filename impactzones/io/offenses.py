"""Offense crosswalks: agency codes and labels onto the package's categories, and privacy.

The crosswalks are data, not code: one CSV per agency scheme in ``impactzones/crosswalks/``
(each names its source in its first line), with columns ``code, label, category,
sensitive, note``, plus ``synonyms.csv`` (regular expressions over free-text labels). A
user's mapping file (``--categories mapping.csv``, columns ``label`` or ``code`` and
``category``, optionally ``sensitive``) extends or overrides them.

How a row is classified (:func:`classify`):

1. its code, looked up in the scheme's table (leading zeros and a trailing ``.0`` do not
   matter), and in the user's mapping;
2. otherwise its label: the user's mapping, then the scheme's labels, then the synonyms;
3. otherwise the label is kept, in snake_case, under its own name (group ``other``) and
   reported as *unmapped*, so that it can be mapped.

Where both a code and a label are known and they disagree, **the code wins** and the row
is counted in ``disagreements``.

**The sensitivity rule** (one rule, used by every reader and output): an incident is
private (never written or drawn as a point) when ANY of these holds

* its category is in :data:`impactzones.core.schema.SENSITIVE_CATEGORIES` (rape, other sex
  offenses, domestic violence, sex trafficking) or a category the user added;
* its code is marked ``sensitive`` in the scheme's table (NIBRS 11A-11D, 36A, 36B, 64A;
  Chicago IUCR 0261-0291 and the domestic-battery codes; LAPD 121, 122, 815, 820, 821,
  860 and the intimate-partner codes; NYPD 104, 116, 233; ...);
* its label matches :data:`impactzones.core.schema.SENSITIVE_LABEL` (rape, sexual assault,
  sodomy, fondling, incest, domestic, intimate partner ... in any agency's words);
* its domestic flag is set (see :func:`impactzones.core.schema.domestic_flag`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.schema import SENSITIVE_CATEGORIES, SENSITIVE_LABEL, normalise_category

__all__ = [
    "CROSSWALK_DIR",
    "SCHEMES",
    "Classified",
    "classify",
    "crosswalk",
    "known_categories",
    "norm_code",
    "norm_label",
    "read_mapping",
    "synonyms",
]

#: The folder holding the crosswalk tables.
CROSSWALK_DIR = Path(__file__).resolve().parent / "crosswalks"

#: Scheme name -> crosswalk file (without ``.csv``).
SCHEMES = ("srs", "nibrs", "slmpd", "chicago_fbi", "chicago_iucr", "nypd", "lapd", "philadelphia")


def _read_table(path: Path) -> tuple[pd.DataFrame, str]:
    text = path.read_text(encoding="utf-8")
    source = text.splitlines()[0].lstrip("# ").strip() if text.startswith("#") else ""
    import io

    df = pd.read_csv(io.StringIO(text), comment=None, skiprows=1 if source else 0, dtype=str)
    return df.fillna(""), source


def norm_code(values) -> pd.Series:
    """Codes in one comparable form: trimmed, upper case, no ``.0``, no leading zeros.

    Examples
    --------
    >>> norm_code(pd.Series([" 0261", "100.0", "09A", "01A", ""])).tolist()
    ['261', '100', '9A', '1A', '']
    """
    s = pd.Series(values, dtype="object").fillna("").astype(str).str.strip().str.upper()
    s = s.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    return s.str.replace(r"^0+(?=[0-9A-Z])", "", regex=True)


def norm_label(values) -> pd.Series:
    """Labels in one comparable form: upper case, punctuation as spaces, single spaces.

    Examples
    --------
    >>> norm_label(pd.Series(["Agg. Assault", "  CRIM SEXUAL-ASSAULT "])).tolist()
    ['AGG ASSAULT', 'CRIM SEXUAL ASSAULT']
    """
    s = pd.Series(values, dtype="object").fillna("").astype(str).str.upper()
    s = s.str.replace(r"[^0-9A-Z]+", " ", regex=True)
    return s.str.strip()


@cache
def crosswalk(scheme: str) -> pd.DataFrame:
    """One scheme's crosswalk table (``code, label, category, sensitive, note``).

    ``attrs["source"]`` names where the codes come from.

    Examples
    --------
    >>> t = crosswalk("nibrs")
    >>> r = t.set_index("code").loc["11C"]; (r["category"], bool(r["sensitive"]))
    ('rape', True)
    >>> "NIBRS User Manual" in t.attrs["source"]
    True
    """
    if scheme not in SCHEMES:
        raise InputError(f"Unknown offense scheme {scheme!r}; known: {', '.join(SCHEMES)}.")
    df, source = _read_table(CROSSWALK_DIR / f"{scheme}.csv")
    df["sensitive"] = df["sensitive"].eq("1")
    df.attrs["source"] = source
    return df


@cache
def synonyms() -> list[tuple[re.Pattern, str, bool, bool]]:
    """The free-text label patterns, in order: ``(pattern, category, sensitive, carjacking)``.

    Examples
    --------
    >>> [c for p, c, s, j in synonyms() if p.search("ROBBERY COMMERCIAL")][:1]
    ['robbery']
    """
    df, _ = _read_table(CROSSWALK_DIR / "synonyms.csv")
    return [
        (re.compile(r.pattern), r.category, r.sensitive == "1", r.carjacking == "1")
        for r in df.itertuples()
    ]


@cache
def known_categories() -> frozenset[str]:
    """Every category a crosswalk can give (a label outside these is reported as unmapped).

    Examples
    --------
    >>> {"rape", "arson", "other_assaults"} <= known_categories()
    True
    """
    cats = {c for s in SCHEMES for c in crosswalk(s)["category"]}
    cats |= {c for _, c, _, _ in synonyms()}
    return frozenset(cats)


def read_mapping(path: str | Path) -> pd.DataFrame:
    """A user's category mapping: a CSV with ``label`` and/or ``code``, and ``category``.

    An optional ``sensitive`` column (``1``/``yes``/``true``) marks rows private.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.csv"
    >>> _ = p.write_text("label,category\\nSTRONG ARM,robbery\\n")
    >>> read_mapping(p)[["label", "category"]].values.tolist()
    [['STRONG ARM', 'robbery']]
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"The category mapping {path} does not exist; check the path.")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise InputError(f"Could not read the category mapping {path}: {exc}.") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "category" not in df or not ({"label", "code"} & set(df.columns)):
        raise InputError(
            f"The category mapping {path} needs a 'category' column and a 'label' or 'code' "
            "column (e.g. label,category / AGG. ASSAULT,aggravated_assault)."
        )
    for col in ("label", "code", "sensitive"):
        if col not in df:
            df[col] = ""
    df["sensitive"] = df["sensitive"].str.strip().str.lower().isin(["1", "y", "yes", "true"])
    df["category"] = df["category"].map(normalise_category)
    return df[["code", "label", "category", "sensitive"]]


@dataclass
class Classified:
    """The result of :func:`classify`, one entry per row."""

    category: pd.Series
    sensitive: np.ndarray
    carjacking: np.ndarray
    unmapped: dict[str, int] = field(default_factory=dict)
    disagreements: int = 0


def _by_code(codes: pd.Series, table: pd.DataFrame):
    """Category and sensitivity of each code in one table (None / False where unknown)."""
    key = norm_code(table["code"])
    cat = dict(zip(key, table["category"], strict=True))
    sens = dict(zip(key, table["sensitive"], strict=True))
    return codes.map(cat), codes.map(sens).astype("boolean").fillna(False).astype(bool)


def _carjacking_codes(codes: pd.Series, tables: list[pd.DataFrame]) -> np.ndarray:
    """Codes a table's ``note`` names a carjacking (Chicago's vehicular hijacking 0325...)."""
    jack = np.zeros(len(codes), bool)
    for t in tables:
        if "note" in t:
            marked = set(norm_code(t.loc[t["note"].str.contains("carjacking"), "code"]))
            jack |= codes.isin(marked).to_numpy()
    return jack


def _by_label(labels: pd.Series, tables: list[pd.DataFrame]):
    """Category, sensitivity and carjacking from a label (tables first, then synonyms)."""
    uniq = pd.Series(labels.unique())
    cat: dict[str, str | None] = {}
    sens: dict[str, bool] = {}
    jack: dict[str, bool] = {}
    exact: dict[str, tuple[str, bool]] = {}
    for t in tables:
        for lab, c, s in zip(norm_label(t["label"]), t["category"], t["sensitive"], strict=True):
            if lab and c:
                exact.setdefault(lab, (c, bool(s)))
    for c in known_categories():
        exact.setdefault(c.upper().replace("_", " "), (c, c in SENSITIVE_CATEGORIES))
    pats = synonyms()
    for lab in uniq:
        cat[lab], sens[lab], jack[lab] = None, False, False
        if not lab:
            continue
        if lab in exact:
            cat[lab], sens[lab] = exact[lab]
            continue
        for pat, c, s, j in pats:
            if pat.search(lab):
                cat[lab], sens[lab], jack[lab] = c, s, j
                break
    return labels.map(cat), labels.map(sens).astype(bool), labels.map(jack).astype(bool)


def classify(
    codes=None,
    labels=None,
    *,
    schemes: tuple[str, ...] = (),
    mapping: pd.DataFrame | None = None,
) -> Classified:
    """Categories and privacy of offenses from their codes and/or labels.

    Parameters
    ----------
    codes, labels : sequence of str, optional
        The agency's offense code and label per row (either may be missing).
    schemes : tuple of str
        Crosswalks to look codes up in, in order (see :data:`SCHEMES`).
    mapping : DataFrame, optional
        A user's mapping (:func:`read_mapping`); it wins over the tables.

    Returns
    -------
    Classified
        ``category`` (None where nothing was given), ``sensitive`` and ``carjacking``
        (bool arrays), ``unmapped`` (label -> rows kept under their own name) and
        ``disagreements`` (rows whose code and label gave different categories).

    Examples
    --------
    >>> c = classify(["11A", "13A", "13A"], ["Rape", "Aggravated Assault", "Robbery"],
    ...              schemes=("nibrs",))
    >>> c.category.tolist(), c.sensitive.tolist(), c.disagreements
    (['rape', 'aggravated_assault', 'aggravated_assault'], [True, False, False], 1)
    >>> c = classify(labels=["CRIM SEXUAL ASSAULT", "Carjacking", "Loud party"])
    >>> c.category.tolist(), c.sensitive.tolist(), c.carjacking.tolist()
    (['rape', 'robbery', 'loud_party'], [True, False, False], [False, True, False])
    >>> c.unmapped
    {'Loud party': 1}
    """
    n = len(codes) if codes is not None else len(labels) if labels is not None else 0

    def text(values):
        if values is None:
            return np.full(n, "", dtype=object)
        return pd.Series(values, dtype="object").fillna("").astype(str).to_numpy(dtype=object)

    # every distinct (code, label) pair is classified once, then spread back onto the rows
    raw_c, raw_l = text(codes), text(labels)
    which, uniq = pd.factorize(pd.Series(raw_c + "\x1f" + raw_l), sort=False)
    first = np.unique(which, return_index=True)[1]
    weights = np.bincount(which, minlength=len(uniq))
    res = _classify_unique(
        raw_c[first] if codes is not None else None,
        raw_l[first] if labels is not None else None,
        weights,
        schemes,
        mapping,
    )
    return Classified(
        category=pd.Series(res.category.to_numpy(dtype=object)[which], dtype="object"),
        sensitive=res.sensitive[which],
        carjacking=res.carjacking[which],
        unmapped=res.unmapped,
        disagreements=res.disagreements,
    )


def _classify_unique(codes, labels, weights, schemes, mapping) -> Classified:
    """:func:`classify` on distinct rows, ``weights`` counting the rows each stands for."""
    n = len(codes) if codes is not None else len(labels) if labels is not None else 0
    code_s = norm_code(codes) if codes is not None else pd.Series([""] * n)
    raw_labels = (
        pd.Series(labels, dtype="object").fillna("").astype(str).str.strip()
        if labels is not None
        else pd.Series([""] * n)
    )
    lab_s = norm_label(raw_labels)
    tables = [crosswalk(s) for s in schemes]
    user = mapping if mapping is not None else pd.DataFrame(columns=["code", "label", "category"])
    cat_code = pd.Series([None] * n, dtype="object")
    sens = np.zeros(n, bool)
    for t in [user[user["code"].astype(str).str.strip().ne("")], *tables]:
        if len(t) == 0:
            continue
        c, s = _by_code(code_s, t)
        cat_code = cat_code.where(cat_code.notna(), c)
        sens |= s.to_numpy()
    user_lab = user[user["label"].astype(str).str.strip().ne("")]
    cat_lab, s_lab, jack = _by_label(lab_s, [user_lab, *tables] if len(user_lab) else tables)
    sens |= s_lab.to_numpy() | lab_s.str.contains(SENSITIVE_LABEL, regex=True).to_numpy()
    both = cat_code.notna() & cat_lab.notna()
    disagree = int(weights[(both & cat_code.ne(cat_lab)).to_numpy()].sum())
    category = cat_code.where(cat_code.notna(), cat_lab)
    # a code written where the label belongs ("11C" in an offense column)
    as_code = norm_code(raw_labels)
    for t in tables:
        todo = category.isna() & raw_labels.ne("")
        if not todo.any():
            break
        c, s = _by_code(as_code, t)
        category = category.where(~todo | c.isna(), c)
        sens |= (todo & s).to_numpy()
    own = category.isna() & raw_labels.ne("")
    w = pd.Series(weights)
    unmapped = w[own].groupby(raw_labels[own].to_numpy()).sum()
    category[own] = raw_labels[own].map(normalise_category)
    # a label the code could not place but a raw code: keep the code itself, reported
    only_code = category.isna() & code_s.ne("")
    if only_code.any():
        by_code = w[only_code].groupby(("code " + code_s[only_code]).to_numpy()).sum()
        unmapped = pd.concat([unmapped, by_code])
        category[only_code] = "code_" + code_s[only_code].str.lower()
    category = category.where(category.notna(), None)
    sens |= category.isin(SENSITIVE_CATEGORIES).to_numpy()
    return Classified(
        category=category.reset_index(drop=True),
        sensitive=sens,
        carjacking=(jack.to_numpy() | _carjacking_codes(code_s, tables))
        & category.eq("robbery").to_numpy(),
        unmapped={str(k): int(v) for k, v in unmapped.sort_index().items()},
        disagreements=disagree,
    )

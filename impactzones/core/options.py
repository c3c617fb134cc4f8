"""Every option of the ``impactzones`` command and of a study file, declared once as data.

An :class:`Option` names its kind, default, unit, valid range and help; a :class:`Command`
lists the options it takes (with any per-command wording) and the library function that
runs it. The CLI builds its argparse parsers from :data:`COMMANDS`, and
:func:`validate_study` checks a study file (``impactzones run study.toml``) against the same
:data:`OPTIONS`: one declared schema, not two. Defaults that :mod:`impactzones.core.defaults`
declares (ring width, gap, largest zone, permutations) are read from there.

This module imports nothing heavy, so that ``impactzones --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .defaults import SETTINGS
from .errors import InputError

__all__ = [
    "COMMANDS",
    "OPTIONS",
    "OUTPUT_PATHS",
    "STUDY_KEYS",
    "Command",
    "Option",
    "command_options",
    "hotspot_methods",
    "parse_columns",
    "pick_names",
    "proposal_surfaces",
    "read_study",
    "unknown_names",
    "validate_study",
]

#: The fields ``--columns`` (and a study file's ``columns`` table) may map, with aliases.
COLUMN_FIELDS = (
    "incident_id", "occurred_at", "category", "x", "y", "lat", "lon", "carjacking",
    "firearm", "domestic", "code", "time",
)  # fmt: skip
_COLUMN_ALIASES = {"id": "incident_id", "date": "occurred_at"}


def parse_columns(text: str | dict | None) -> dict[str, str]:
    """``"id=Complaint,occurred_at=DateOccur"`` (or a study file's table) as
    ``{"incident_id": "Complaint", ...}``, every field checked.

    Examples
    --------
    >>> parse_columns("id=Complaint, date = DateOccur")
    {'incident_id': 'Complaint', 'occurred_at': 'DateOccur'}
    >>> parse_columns("colour=Red")
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: --columns: unknown field 'colour'; use one of ...
    """
    if not text:
        return {}
    pairs = list(text.items()) if isinstance(text, dict) else []
    for part in text.split(",") if isinstance(text, str) else []:
        if "=" not in part:
            raise InputError(
                f"--columns expects field=column pairs separated by commas; got {part!r}."
            )
        key, value = part.split("=", 1)
        pairs.append((key.strip(), value.strip()))
    out = {}
    for key, value in pairs:
        key = _COLUMN_ALIASES.get(key, key)
        if key not in COLUMN_FIELDS:
            raise InputError(
                f"--columns: unknown field {key!r}; use one of {', '.join(sorted(COLUMN_FIELDS))}."
            )
        out[key] = value
    return out


def _shown(name: str) -> str:
    """A name as a message lists it: quoted when a comma or edge spaces would blur it."""
    return repr(name) if "," in name or name != name.strip() else name


def pick_names(
    asked: str | Sequence[str] | None, known: Sequence[str], option: str = "--existing",
    noun: str = "zone",
) -> list[str]:
    """The names asked for (a repeatable option's values), each matched exactly to one of
    ``known``; in the order asked, each once. Names are user strings and may hold commas:
    a value that is a known name is that name; a value that is not, but holds commas, is
    read the older way, as comma-separated names (each stripped). A value that is a known
    name AND splits into known names is refused as ambiguous, as is an unknown name.

    Examples
    --------
    >>> zones = ["Zone A, North", "North", "South"]
    >>> pick_names(["Zone A, North", "South"], zones)
    ['Zone A, North', 'South']
    >>> pick_names("North, South", zones)
    ['North', 'South']
    >>> pick_names(["North,Nowhere"], zones)
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: No zone named 'Nowhere'; the zones are 'Zone A, North', \
North, South.
    >>> pick_names(["A,B"], ["A,B", "A", "B"])
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: --existing 'A,B' is both a zone's name and a list of \
zones' names; give each zone with its own --existing.
    """
    values = [asked] if isinstance(asked, str) else list(asked or [])
    names = set(known)
    picked: list[str] = []
    for value in values:
        parts = [p.strip() for p in value.split(",") if p.strip()] if "," in value else []
        if value in names and parts and all(p in names for p in parts):
            raise InputError(
                f"{option} {value!r} is both a {noun}'s name and a list of {noun}s' names; "
                f"give each {noun} with its own {option}."
            )
        picked += [value] if value in names or not parts else parts
    missing = [p for p in dict.fromkeys(picked) if p not in names]
    if missing:
        raise unknown_names(missing, known, noun)
    return list(dict.fromkeys(picked))


def unknown_names(missing: Sequence[str], known: Sequence[str], noun: str = "zone") -> InputError:
    """The one sentence refusing names a layer lacks (``--zone``, ``--existing``): the
    names asked for, and the known ones (quoted where a comma or edge spaces would blur
    the list).

    Examples
    --------
    >>> print(unknown_names(["Nowhere"], ["Zone A, North", "South"]))
    No zone named 'Nowhere'; the zones are 'Zone A, North', South.
    """
    word = noun if len(missing) == 1 else noun + "s"
    return InputError(
        f"No {word} named {', '.join(repr(str(m)) for m in missing)}; the {noun}s are "
        f"{', '.join(map(_shown, known))}."
    )


#: How each kind of value is described in a study file's error sentence.
_KIND_WORDS = {
    "path": "a path in quotes",
    "paths": "a path or a list of paths",
    "text": "text in quotes",
    "choice": "text in quotes",
    "day": "a day in quotes (YYYY-MM-DD)",
    "years": "comma-separated years in quotes",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false (no quotes)",
    "columns": 'a table such as { incident_id = "Case", lat = "Lat" }',
}


@dataclass(frozen=True)
class Option:
    """One option: its kind, default, unit, valid range and help, declared once.

    Parameters
    ----------
    name : str
        The library keyword and study-file key; the CLI flag is ``--name`` with dashes
        unless ``flag`` says otherwise, and the parsed value lands in ``dest`` (``name``).
    kind : str
        ``path``, ``paths``, ``text``, ``choice``, ``day``, ``years``, ``int``, ``number``,
        ``bool`` (a flag on the command line), ``columns`` or ``count`` (``-q`` style
        switches are ``bool``).
    setting : str, optional
        A :data:`impactzones.core.defaults.SETTINGS` name: default, unit and range come
        from there.
    repeat : bool
        The option may be given more than once; its values are collected in a list
        (names that may hold commas: ``--existing "Zone A, North" --existing South``).

    Examples
    --------
    >>> OPTIONS["ring"].default, OPTIONS["ring"].unit, OPTIONS["ring"].range_words()
    (400.0, 'm', '> 0')
    >>> OPTIONS["ring"].parse("-5")
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: expected a number > 0, got '-5'
    """

    name: str
    kind: str
    help: str
    default: Any = None
    unit: str = ""
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    choices: tuple | None = None
    flag: str | None = None
    short: str | None = None
    dest: str | None = None
    metavar: str | None = None
    nargs: str | None = None
    required: bool = False
    positional: bool = False
    const: Any = None
    setting: str | None = None
    exclusive: str | None = None
    hidden: bool = False
    repeat: bool = False

    def __post_init__(self) -> None:
        s = SETTINGS.get(self.setting or "")
        if s is not None:  # the declared default, unit and range
            object.__setattr__(self, "default", s.default)
            object.__setattr__(self, "unit", s.unit)
            object.__setattr__(self, "low", s.low)
            object.__setattr__(self, "low_open", s.low_open)
            object.__setattr__(self, "high", s.high)

    @property
    def flags(self) -> tuple[str, ...]:
        """The command-line spelling(s): ``("--ring",)``, ``("--quiet", "-q")``..."""
        if self.positional:
            return (self.dest or self.name,)
        long = self.flag or "--" + self.name.replace("_", "-")
        return (long, self.short) if self.short else (long,)

    def range_words(self) -> str:
        """The valid range in a few symbols (``"> 0"``, ``">= 1"``, ``"from 0 to 1"``)."""
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            return f"from {lo:g} to {hi:g}"
        if lo is not None:
            return f"{'>' if self.low_open else '>='} {lo:g}"
        return f"<= {hi:g}" if hi is not None else ""

    def _in_range(self, v: float) -> bool:
        if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
            return False
        return self.high is None or v <= self.high

    def parse(self, text: str) -> Any:
        """A command-line string as this option's value, or an :class:`InputError`."""
        text = text.strip() if self.kind in ("day", "int", "number") else text
        if self.kind in ("int", "number"):
            words = "a whole number" if self.kind == "int" else "a number"
            problem = f"expected {words} {self.range_words()}, got {text!r}".replace("  ", " ")
            try:
                v = int(text) if self.kind == "int" else float(text)
            except ValueError:
                raise InputError(problem) from None
            if not math.isfinite(v) or not self._in_range(v):
                raise InputError(problem)
            return v
        if self.kind == "day":
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                raise InputError(
                    f"expected a day as YYYY-MM-DD (e.g. 2018-01-31), got {text!r}"
                ) from None
        if self.kind == "years":
            parts = [p.strip() for p in text.split(",")]
            if not all(p.isdigit() and 1900 <= int(p) <= 2100 for p in parts):
                raise InputError(f"expected comma-separated years such as 2017,2018, got {text!r}")
        if self.kind == "columns":
            return parse_columns(text)
        return text

    def check(self, value: Any, where: str = "the study file") -> Any:
        """A study file's value for this option, checked; one sentence naming the key if not.

        Examples
        --------
        >>> OPTIONS["seed"].check(3)
        3
        >>> OPTIONS["ring"].check(0)
        Traceback (most recent call last):
        ...
        impactzones.core.errors.InputError: the study file: ring must be > 0; got 0.
        """
        want = f"{where}: {self.name} must be {_KIND_WORDS[self.kind]} ({self.help_plain()}); "
        want += f"got {value!r}."
        if self.kind == "paths":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not items or not all(_text(v) for v in items):
                raise InputError(want)
            return list(items)
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise InputError(want)
        elif self.kind in ("int", "number"):
            ok = isinstance(value, int) if self.kind == "int" else isinstance(value, numbers.Real)
            if isinstance(value, bool) or not ok or not math.isfinite(value):
                raise InputError(want)
            if not self._in_range(value):
                problem = f"{self.name} must be {self.range_words()}; got {value!r}."
                raise InputError(f"{where}: {problem}")
        elif self.kind == "columns":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise InputError(want)
            parse_columns(value)  # the same field names as --columns
        elif not _text(value):
            raise InputError(want)
        elif self.choices and value not in self.choices:
            raise InputError(
                f"{where}: {self.name} must be one of {', '.join(self.choices)}; got {value!r}."
            )
        else:
            try:
                self.parse(value)
            except InputError as exc:
                raise InputError(f"{where}: {self.name}: {exc}.") from None
        return value

    def help_plain(self) -> str:
        """The help text with its default filled in (argparse's ``%(default)s``)."""
        shown = self.default
        if isinstance(shown, (list, tuple)):
            shown = " ".join(map(str, shown))
        return (
            self.help.replace("%%", "%") % {"default": shown}
            if "%(" in self.help
            else (self.help.replace("%%", "%"))
        )


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def hotspot_methods() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The hot-spot methods the CLI offers, and those run by default.

    The CLI's ``hotspots --method`` choices come from the registry of methods
    (:mod:`impactzones.hotspots.registry`), read when the parser is built, so that a method
    registered later is on offer; the registry is light (imported here on use).

    Examples
    --------
    >>> hotspot_methods()
    (('kde', 'dbscan', 'gistar', 'emerging'), ('kde', 'dbscan', 'gistar'))
    """
    from ..hotspots import registry  # the layer above, on use: the registry is the source

    return tuple(registry.NAMES), tuple(registry.DEFAULTS)


def proposal_surfaces() -> tuple[tuple[str, ...], str]:
    """The priority surfaces ``propose --method`` offers (counts per cell, then every
    hot-spot method whose registry entry gives a surface), and the default.

    Examples
    --------
    >>> proposal_surfaces()
    (('cells', 'kde', 'dbscan', 'gistar'), 'cells')
    """
    from ..hotspots import registry  # the layer above, on use: the registry is the source

    return tuple(registry.MethodNames(having="surface", before=("cells",))), "cells"


def _options(*opts: Option) -> dict[str, Option]:
    return {o.name: o for o in opts}


_AUTO = " (default: automatic)"
# fmt: off
#: Every option, once. Commands take them by name (and may reword them, see COMMANDS).
OPTIONS: dict[str, Option] = _options(
    # ---- what to read ----
    Option("incidents", "paths", "incident files or folders", positional=True, nargs="+",
           metavar="INCIDENTS"),
    Option("paths", "paths", "files or folders", positional=True, nargs="+", metavar="PATH"),
    Option("boundary", "path", "study-area polygons (default: St. Louis)"),
    Option("districts", "path", "district polygons (default: bundled, approximate)"),
    Option("zones", "path", "Impact Zone polygons (default: the bundled St. Louis zones)"),
    Option("basemap", "path", "a line layer (streets) to draw as the offline base map for "
           "another city", metavar="PATH"),
    Option("harm", "path", "also give harm-weighted WDD per zone: a CSV of category,weight "
           "(e.g. days of custody of a crime harm index); written as OUT_harm.csv",
           metavar="WEIGHTS.csv"),
    Option("columns", "columns", "map schema fields to your columns, e.g. "
           "id=Complaint,occurred_at=DateOccur,category=Offense,lat=Lat,lon=Lon", metavar="MAP"),
    Option("crs", "text", "CRS of x/y columns or of a file without one, e.g. EPSG:26915"),
    Option("categories", "path", "your own offense mapping (columns label or code, and "
           "category; optional sensitive), extending the built-in crosswalks", metavar="CSV"),
    Option("sensitive_categories", "text", "more categories or offense words to keep private "
           "(never drawn or written as points), comma-separated, on top of rape, sex offenses "
           "and domestic violence", metavar="LIST"),
    Option("profile", "choice", "the export's layout (default: recognised from the header)",
           choices=("slmpd", "chicago", "nypd", "lapd", "philadelphia", "generic")),
    Option("timezone", "text", "the study's time zone, e.g. America/New_York (default: the "
           "profile's, or America/Chicago); times with Z or an offset are converted to it",
           metavar="TZ"),
    Option("dayfirst", "bool", "dates like 01/05/2018 are 1 May (default: decided from the "
           "data)", const=True, exclusive="order"),
    Option("monthfirst", "bool", "dates like 01/05/2018 are 5 January", dest="dayfirst",
           const=False, exclusive="order"),
    Option("date_floor", "text", "reject dates before this day (default 1970-01-01; exports "
           "use 1900 as a placeholder)", metavar="DATE"),
    Option("as_of", "text", "reject dates after this day as future_date (default: no clock "
           "is read; only dates far beyond the others are rejected, so results do not depend "
           "on the day you run)", metavar="DATE"),
    Option("domestic_column", "text", "the column holding a domestic-violence flag, if not a "
           "usual name (domestic, IsDomestic, DV, ...)", metavar="COLUMN"),
    # ---- which incidents ----
    Option("from", "day", "first day (YYYY-MM-DD)", dest="from_", metavar="DATE"),
    Option("to", "day", "last day, included (YYYY-MM-DD)", metavar="DATE"),
    Option("category", "text", "categories, comma-separated (e.g. robbery,homicide)"),
    Option("group", "text", "violent, property or other (comma-separated)"),
    # ---- synthetic data ----
    Option("seed", "int", "random seed (default %(default)s)", default=2018, low=0),
    Option("scale", "number", "multiply every count (6 gives about 1M incidents)", default=1.0,
           low=0, low_open=True),
    Option("years", "years", "comma-separated years (default 2013 to 2019)"),
    Option("truth", "path", "folder for the planted truth (default: next to --out)"),
    Option("partitions", "int", "write N GeoParquet partitions into the folder --out, one at "
           "a time, so that any --scale fits in memory (for the distributed path)",
           metavar="N"),
    # ---- comparisons and evaluation ----
    Option("ring", "number", "displacement ring width in metres (default %(default)g)",
           setting="ring"),
    Option("zone", "text", "only this zone (give --zone once per zone; a value that is no "
           "zone's name is read as comma-separated names)", metavar="NAME", repeat=True),
    Option("before", "text", "before window: a year (2017) or START:END "
           "(2017-01-01:2017-06-30)", required=True),
    Option("after", "text", "after window, the same way", required=True),
    Option("by", "choice", "rows per crime group or per category (default %(default)s)",
           default="group", choices=("group", "category")),
    Option("crimes", "text", "groups or categories to include, comma-separated"),
    Option("normalise", "choice", "compare daily rates when the windows differ in length",
           choices=("daily",)),
    Option("dispersion", "choice", "widen intervals and p-values by the dispersion estimated "
           "from the before window's monthly counts (default), or give the exact Poisson "
           "figures", default="estimate", choices=("estimate", "poisson")),
    Option("evaluate", "bool", "time series, synthetic control and power per zone (true)",
           default=True),
    Option("evaluate_model", "choice", "count model (default %(default)s)",
           default="quasipoisson", choices=("quasipoisson", "poisson", "negbin"),
           flag="--model", dest="model"),
    Option("evaluate_freq", "choice", "series of months (M) or weeks (W) (default %(default)s)",
           default="M", choices=("M", "W"), flag="--freq", dest="freq"),
    Option("concentration", "bool", "crime concentration table and Lorenz plot (true)",
           default=True),
    Option("explore", "bool", "the proposal page, explore.html (true)", default=True),
    Option("compstat", "bool", "the CompStat report, compstat.* (true)", default=True),
    Option("no_explore", "bool", "skip the proposal page (explore.html)"),
    Option("no_compstat", "bool", "skip the CompStat report (compstat.csv, .html and the "
           "28-day hot spots map)"),
    Option("nearrepeat_category", "text", "a category for the near-repeat table"),
    Option("nearrepeat_permutations", "int", "Monte Carlo permutations of the times "
           "(default %(default)s)", default=99, low=1, flag="--permutations", dest="permutations"),
    # ---- hot spots ----
    Option("method", "choice", "methods to run (default: %(default)s; emerging: Gi* per "
           "month and a trend per cell)", nargs="+", choices=hotspot_methods),  # type: ignore
    Option("cell_size", "number", "grid cell in metres" + _AUTO, setting="cell_size"),
    Option("cube_freq", "choice", "periods of the cube: months, or days for CompStat and "
           "windows of any days (default %(default)s)", default="month",
           choices=("month", "day"), flag="--freq", dest="freq"),
    Option("bandwidth", "number", "KDE bandwidth in metres (quartic radius / Gaussian sd; "
           "default: auto)", setting="bandwidth"),
    Option("kernel", "choice", "KDE kernel (default %(default)s)", default="quartic",
           choices=("quartic", "gaussian")),
    Option("top", "number", "KDE hot-spot polygons: share of the area kept "
           "(default %(default)s)", default=0.05),
    Option("eps", "number", "DBSCAN radius in metres (default: auto)", unit="m"),
    Option("min_samples", "number", "DBSCAN core size (default: auto)"),
    Option("distance", "number", "Gi* neighbourhood in metres (default: cell x sqrt 2)",
           setting="distance"),
    Option("permutations", "int", "Gi* conditional permutations (default: none, or with "
           "--inference permutation enough for the smallest p to pass the FDR correction)",
           setting="permutations"),
    Option("inference", "choice", "Gi* p-values: exact randomisation (default), normal "
           "(ArcGIS) or conditional permutation", default="exact",
           choices=("exact", "normal", "permutation")),
    # ---- proposals ----
    Option("existing", "text", "only this existing zone (give --existing once per zone; a "
           "value that is no zone's name is read as comma-separated names)", metavar="NAME",
           repeat=True),
    Option("period", "text", "proposal period: a year or START:END", required=True),
    Option("test_period", "text", "period to backtest on (default: the next year)"),
    Option("k", "int", "most zones to propose (default: as many as --budget-km2 holds)",
           low=1),
    Option("budget_km2", "number", "total area of all the zones together, the patrol budget "
           "(%(default)g km^2, tuned on real data)", setting="budget_km2"),
    Option("max_area_km2", "number", "largest zone (%(default)g km^2)", setting="max_area_km2"),
    Option("min_area_km2", "number", "smallest zone (%(default)g km^2: a micro-place)",
           setting="min_area_km2"),
    Option("gap", "number", "metres kept clear around existing zones (%(default)g)",
           setting="gap"),
    Option("exclude", "path", "more zones to keep clear of (e.g. a zone drawn on the `explore` "
           "page, GeoJSON)"),
    Option("stability", "bool", "favour cells hot in many months over one-month spikes"),
    Option("history", "int", "earlier periods of the same length that also count when "
           "ranking cells, so places that stayed hot outrank one-off spikes (default "
           "%(default)s, tuned on real data; 0: the period alone)", setting="history"),
    Option("solidity", "number", "least share of its convex hull a zone must fill, 0-1 (0: "
           "follow the hot spot)", default=0.0, low=0, high=1),
    Option("threshold", "number", "grow while density >= this share of the peak "
           "(%(default)s, tuned on real data)", setting="threshold"),
    Option("snap", "choice", "snap outlines to neighborhoods", choices=("neighborhoods",)),
    Option("min_pai", "number", "propose only hot spots: zones at least this many times the "
           "city's density of crime (%(default)g; 0: always fill the budget)",
           setting="min_pai"),
    Option("min_incidents", "int", "propose only zones holding at least this many incidents "
           "of the period (%(default)s; fewer is chance)", setting="min_incidents"),
    # ---- the commands' own ----
    Option("rejects", "path", "rejects table (default: OUT_rejects.csv)"),
    Option("no_boundary", "bool", "keep incidents wherever they are (no study-area check)"),
    Option("keep_sensitive_points", "bool", "write rape, sexual-assault and domestic-violence "
           "incidents WITH their points (for an analyst's private working file only; maps "
           "never use it)"),
    Option("cell", "number", "grid cell in metres (%(default)g)", default=100.0, unit="m",
           low=0, low_open=True),
    Option("settings", "path", "the study's settings", positional=True, metavar="STUDY.toml"),
    Option("start", "day", "the zone's first day (default: its start column)"),
    Option("crime", "text", "crime group or category (default %(default)s)", default="violent"),
    Option("seasonality", "choice", "seasonal terms (%(default)s)", default="auto",
           choices=("auto", "month", "harmonic", "none")),
    Option("no_synthetic_control", "bool", "skip the synthetic control"),
    Option("nr_distance", "number", "spatial band width in metres (%(default)g)", default=100.0,
           unit="m", low=0, low_open=True, flag="--distance", dest="distance"),
    Option("distance_bands", "int", "spatial bands (%(default)s)", default=4, low=1),
    Option("days", "number", "temporal band width in days (%(default)g)", default=7.0,
           unit="days", low=0, low_open=True),
    Option("day_bands", "int", "temporal bands (%(default)s)", default=4, low=1),
    Option("same_location", "bool", "a first band for pairs at the same place"),
    # ---- outputs ----
    Option("out", "path", "output folder"),
    Option("json", "bool", "print the result as JSON"),
    Option("online_tiles", "bool", "also offer online tile base maps (they load over the "
           "offline base)"),
    Option("png_maps", "bool", "also write a PNG picture of each web map (commander, citywide, "
           "analyst; matplotlib, about 0.3 s each)"),
    Option("self_contained", "bool", "ignored: every map opens with no network now",
           hidden=True),
    Option("quiet", "bool", "print nothing but errors", short="-q"),
    Option("debug", "bool", "show the full traceback on errors"),
    Option("wide", "bool", "print every table column (default: fit 80 columns)"),
)
# fmt: on


@dataclass(frozen=True)
class Command:
    """One ``impactzones`` command: its words, its options and the library call that runs it.

    ``options`` names entries of :data:`OPTIONS`, each alone or as ``(name, {field: value})``
    to reword it for this command; ``reading`` adds the reading options (``--columns``,
    ``--crs``, ``--profile``...); ``json`` is the help of ``--json`` (None: no ``--json``).
    ``runner`` is the library function (``module:function``) the command calls with its
    parsed options as keywords. ``out_folder``: ``--out`` is a folder (it may hold none of
    the inputs), else a file (it may be none of them).
    """

    name: str
    help: str
    description: str
    runner: str
    options: tuple = ()
    reading: bool = True
    json: str | None = None
    extra: dict = field(default_factory=dict)
    out_folder: bool = False


#: The reading options every command that reads incident files takes.
READING = ("columns", "crs", "categories", "sensitive_categories", "profile", "timezone",
           "dayfirst", "monthfirst", "date_floor", "as_of", "domestic_column")  # fmt: skip
#: What every command takes last.
COMMON = ("quiet", "debug", "wide")
_SELECT = ("from", "to", "category", "group")
_WF = "impactzones.workflows:"
#: The incidents, or one count cube file in their place (compare, compstat).
_INCIDENTS_OR_CUBE = ("incidents", {"help": "incident files or folders, or one count cube "
                                    "file (.nc, made by `impactzones cube`; compstat needs "
                                    "a daily cube)"})
_BOUNDARY = ("boundary", {"help": "study-area polygons (default: St. Louis)"})
_ZONES_NAMED = ("zones", {"help": "Impact Zone polygons with name and start columns"})
_MAPS = ("online_tiles", "basemap", "png_maps", "self_contained")
#: The demo's pages a run may skip.
_PAGES = ("no_explore", "no_compstat")


def _out(default: str | None = None, help: str = "output folder", required: bool = False):
    return ("out", {"default": default, "help": help, "required": required})


# fmt: off
#: Every command, in the order ``impactzones --help`` lists them.
COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("demo", "run the whole pipeline on the bundled St. Louis data",
            "Run the pipeline on the bundled St. Louis layers and synthetic incidents (or your "
            "own), writing maps and tables.", _WF + "demo",
            (_out("maps", "output folder (default: maps)"),
             ("seed", {"help": "synthetic data seed (default %(default)s)"}),
             ("boundary", {"help": "study-area polygon file (default: St. Louis city limit)"}),
             "districts", ("zones", _ZONES_NAMED[1]),
             ("incidents", {"positional": False, "metavar": "PATH", "help": "incident files "
                            "or folders (default: synthetic incidents)"}),
             "ring", *_MAPS, *_PAGES), json="print the summary as JSON"),
    Command("synth", "generate synthetic St. Louis incidents with a known truth",
            "Generate incidents calibrated to the published St. Louis counts, with planted hot "
            "spots and zone effects.", _WF + "synth",
            (_out(help="incident file: .parquet, .gpkg, .geojson or .csv", required=True),
             "seed", "scale", "years", "truth", "partitions"), reading=False),
    Command("load", "turn incident files or folders into one clean file",
            "Read incident files (SLMPD exports, CSV with x/y or lat/lon, GeoJSON, GeoPackage, "
            "Shapefile, GeoParquet) and write one clean incident file plus a rejects table.",
            _WF + "load",
            ("paths", _out(help="clean incident file (.parquet, .gpkg, ...)", required=True),
             "rejects",
             ("boundary", {"help": "study-area polygons (default: St. Louis city limit)"}),
             "no_boundary", "keep_sensitive_points"), json="print the tally as one JSON object"),
    Command("hotspots", "find hot spots by kernel density, DBSCAN, Gi* and emerging hot "
            "spots",
            "Find hot spots in incident files and write GeoTIFF, GeoJSON and CSV outputs, "
            "printing every parameter chosen and the rule behind it.", _WF + "hotspots",
            ("incidents", "method", _out(required=True), *_SELECT, "cell_size", "bandwidth",
             "kernel", "top", "eps", "min_samples", "distance", "permutations", "inference",
             ("seed", {"default": 0, "help": "seed for the permutations"}), _BOUNDARY),
            json="print the parameters as JSON"),
    Command("cube", "count incidents into a cube file (cell x day or month x crime group)",
            "Count incidents by grid cell, by day or month and by crime group, and each one "
            "exactly in its Impact Zone, ring, the control area and its district, into one "
            "NetCDF-4 file (CF-georeferenced) that compare, compstat and the Python analyses "
            "read in place of the incidents.", _WF + "cube",
            ("incidents", _out("cube.nc", "cube file (.nc; default cube.nc)"), "cube_freq",
             "cell_size", "ring", "zones", _BOUNDARY), json="print what was counted as JSON"),
    Command("compare", "before/after evaluation of Impact Zones",
            "Compare crime in each Impact Zone, its displacement ring and the rest of the city "
            "between two windows: percent change, rate ratio, E-test, change relative to the "
            "control area, WDQ and WDD, and a verdict in plain words.", _WF + "compare",
            (_INCIDENTS_OR_CUBE, "zones", "zone", "before", "after", "by", "crimes", "ring",
             "normalise", "dispersion", "harm", _out(help="write OUT.csv, OUT.json and OUT.md"),
             _BOUNDARY), json="print the table as JSON"),
    Command("propose", "propose new Impact Zones and backtest them",
            "Propose up to K new Impact Zones from the hot spots of a period, under area "
            "limits and away from existing zones, and score them on the next period (PAI, "
            "PEI, RRI) beside the existing zones and a naive baseline.", _WF + "propose",
            ("incidents", ("zones", {"help": "existing zones (default: the bundled St. Louis "
                                     "zones that had begun by the end of --period)"}),
             "existing", "period", "test_period", "k", "budget_km2", "max_area_km2", "min_area_km2",
             "gap",
             "exclude", ("method", {"nargs": None, "choices": proposal_surfaces,
                                    "help": "priority surface (default cells: counts per 100 m "
                                    "cell, lightly smoothed)"}),
             "stability", "history", "solidity", "threshold", "snap", "min_pai",
             "min_incidents", ("group", {"help": "crime group (default violent)"}),
             ("category", {"help": "categories instead of a group, comma-separated"}),
             _out(help="proposals file (.geojson, .gpkg, .parquet)"), _BOUNDARY),
            json="print proposals and backtest as JSON"),
    Command("compstat", "the CompStat period report: 7 days, 28 days, year to date vs a year "
            "earlier", "Count incidents by district and by Impact Zone, per crime group and "
            "Part I category, for the last 7 days, the last 28 days and the year to date up to "
            "--as-of, each against the same days a year earlier; write compstat.csv, "
            "compstat.html and the 28-day hot spots map (compstat_hotspots.html).",
            _WF + "compstat",
            (_INCIDENTS_OR_CUBE, ("as_of", {"metavar": None, "help": "the report's last day, "
                                     "YYYY-MM-DD (default: the data's last); later dates are "
                                     "rejected as future_date"}),
             _out("compstat", "output folder (default: compstat)"), "zones",
             ("online_tiles", {"help": "also offer online tile base maps on the hot spots "
                               "map"}), _BOUNDARY), json="print the table as JSON"),
    Command("explore", "write the proposal page: draw a zone and read its figures (offline "
            "HTML)", "Write one self-contained HTML page showing the density, hot cells, "
            "existing zones and proposals, on which you draw or edit a zone and read its area, "
            "counts per year, share of the city's crime, PAI, before/after change and ring "
            "counts, computed from an embedded grid of counts (no incident points). Export the "
            "zone as GeoJSON for `compare --zones` or `propose --exclude`.", _WF + "explore",
            ("incidents", _out("explore.html", "the page (default explore.html)"), _ZONES_NAMED,
             "cell", _BOUNDARY)),
    Command("run", "run a study described in a TOML file",
            "Run the whole pipeline with the settings in a TOML file, so that a study can be "
            "kept, shared and rerun. Keys: {keys} (at the top level or in sections). The "
            "outputs record the settings and the package version in run_settings.json.",
            _WF + "run_study",
            ("settings", _out(help="output folder (overrides the file's out)")),
            reading=False, json="print the summary as JSON"),
    Command("map", "the demo's whole pipeline on your files: maps, tables, proposals, "
            "evaluations", "Run the demo's whole pipeline on your incident files (as "
            "`impactzones demo --incidents`) and write all of its outputs into --out, about 50 "
            "files: the commander maps (one per zone, each with a one-page PDF brief), the "
            "citywide and analyst maps (a PNG picture of each map with --png-maps) and "
            "index.html; the comparison tables (compare_*.csv, .json, .md); the hot spots "
            "(hotspots_*); proposed zones with their backtest, capture curve and the "
            "explore.html page; each zone's time-series and synthetic-control evaluation "
            "(evaluate_*.json and plots); concentration; the "
            "CompStat report; incidents.parquet (no private incidents as points), counts, "
            "rejects.csv, summary.json and manifest.json.", _WF + "map_files",
            ("incidents", _out("maps", "output folder (default: maps)"), _ZONES_NAMED,
             "districts", "boundary", "ring", *_MAPS, *_PAGES), json="print the summary as JSON"),
    Command("evaluate", "did the zone work? interrupted time series, synthetic control and "
            "power", "Evaluate one Impact Zone from its monthly (or weekly) series: a count "
            "regression with trend, seasonality and a level and slope change, alone and "
            "against the rest of the city; a synthetic control from neighborhoods clear of the "
            "zones; and the power to see a 20% drop. Writes JSON and the counterfactual plot.",
            _WF + "evaluate",
            ("incidents", ("zone", {"help": "the zone's name", "required": True,
                                    "repeat": False}), "zones",
             "start", "crime", ("by", {"help": "--crime names a group or a "
                                                   "category (default %(default)s)"}),
             "ring", "evaluate_freq", "evaluate_model", "seasonality",
             "no_synthetic_control", _out(help="output folder for the JSON and the plots"),
             _BOUNDARY), json="print the results as JSON"),
    Command("concentration", "how concentrated is crime? top 1/5/10%% of cells, Lorenz curve "
            "and Gini", "The share of crime in the top 1%, 5% and 10% of grid cells, the Lorenz "
            "curve and the Gini coefficient (with Bernasco & Steenbeek's correction for sparse "
            "counts), for the city and each district.", _WF + "concentration",
            ("incidents", *_SELECT, ("cell_size", {"default": 150.0, "setting": None,
                                                   "help": "grid cell in metres (%(default)g)"}),
             _out(help="output folder for concentration.csv and the Lorenz plot"), _BOUNDARY),
            json="print the table as JSON"),
    Command("nearrepeat", "near-repeat table: do incidents follow each other close in space "
            "and time?", "The Knox test and the near-repeat table (Ratcliffe's Near Repeat "
            "Calculator): pairs of incidents by distance band and day band, against Monte "
            "Carlo permutations of the times, with Knox ratios and p-values.",
            _WF + "nearrepeat",
            ("incidents", *_SELECT, "nr_distance", "distance_bands", "days",
             "day_bands", "same_location", "nearrepeat_permutations",
             ("seed", {"default": 0, "low": None, "help": "seed for the permutations"}),
             _out(help="output folder for nearrepeat.csv/.json/.png"), _BOUNDARY),
            json="print the table as JSON"),
)}
# fmt: on


#: The keys a study file may hold (at the top level or in any ``[section]``): options of
#: the whole pipeline (:func:`impactzones.pipeline.run_demo`), checked as the CLI checks them.
STUDY_KEYS = ("incidents", "boundary", "districts", "zones", "columns", "crs", "seed", "scale",
              "ring", "out", "self_contained", "online_tiles", "basemap", "png_maps", "evaluate",
              "evaluate_model", "evaluate_freq", "concentration", "nearrepeat_category",
              "nearrepeat_permutations", "harm", "explore", "compstat")  # fmt: skip


#: The commands whose --out is a folder they write many files into.
_FOLDER_OUT = ("demo", "map", "run", "hotspots", "compstat", "evaluate", "concentration",
               "nearrepeat")  # fmt: skip
COMMANDS = {n: replace(c, out_folder=n in _FOLDER_OUT) for n, c in COMMANDS.items()}
#: The path options a command writes (every other path option is an input it reads).
OUTPUT_PATHS = ("out", "rejects", "truth")

_KEYS = ", ".join(sorted(STUDY_KEYS))
_RUN = COMMANDS["run"]
COMMANDS["run"] = replace(_RUN, description=_RUN.description.format(keys=_KEYS))


def command_options(command: str) -> list[Option]:
    """The options of one command, reworded for it, in the order ``--help`` shows them.

    Examples
    --------
    >>> [o.flags[0] for o in command_options("synth")]
    ['--out', '--seed', '--scale', '--years', '--truth', '--partitions', '--quiet', '--debug', \
'--wide']
    >>> {o.name: o.default for o in command_options("compare")}["ring"]
    400.0
    """
    cmd = COMMANDS[command]
    entries = [e if isinstance(e, tuple) else (e, {}) for e in cmd.options]
    if cmd.json:
        entries.append(("json", {"help": cmd.json}))
    named = {name for name, _ in entries}
    if cmd.reading:
        entries += [(name, {}) for name in READING if name not in named]
    entries += [(name, {}) for name in COMMON]
    out = []
    for name, changes in entries:
        opt = replace(OPTIONS[name], **changes) if changes else OPTIONS[name]
        if callable(opt.choices):  # the methods on offer, from the registry
            choices, default = opt.choices()
            default = list(default) if isinstance(default, tuple) else default
            opt = replace(opt, choices=tuple(choices), default=default)
        out.append(opt)
    return out


def validate_study(settings: dict, where: str = "the study file") -> dict:
    """Flatten the sections of a parsed study file and check every key against the declared
    options (:data:`STUDY_KEYS`); returns ``{key: value}``.

    Examples
    --------
    >>> validate_study({"data": {"seed": 1}, "output": {"out": "maps"}})
    {'seed': 1, 'out': 'maps'}
    >>> validate_study({"data": {"seed": "abc"}})
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: the study file: seed must be a whole number ...
    """
    flat: dict[str, Any] = {}
    for section, values in settings.items():
        items = (
            list(values.items())
            if isinstance(values, dict) and section != "columns"
            else [(section, values)]
        )
        for key, value in items:
            if key not in STUDY_KEYS:
                raise InputError(
                    f"{where}: unknown setting {key!r}; known: {', '.join(sorted(STUDY_KEYS))}."
                )
            if key in flat:
                raise InputError(f"{where}: {key} is given twice; keep one.")
            flat[key] = OPTIONS[key].check(value, where)
    return flat


def read_study(path: str | Path) -> tuple[dict, dict]:
    """Read and check a study file: ``(settings as written, flat checked settings)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = p.write_text('[analysis]\\nring = 200\\n')
    >>> read_study(p)[1]
    {'ring': 200}
    """
    import tomllib

    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path} does not exist or is not a file; write the study's settings there."
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text; save the study file as UTF-8.") from exc
    try:
        settings = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path} is not valid TOML: {exc}.") from exc
    return settings, validate_study(settings, str(path))

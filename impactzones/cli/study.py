"""The study file (``impactzones run study.toml``): one declared schema, checked before
anything runs.

Every key has a type and, where it matters, a range; unknown keys, wrong types and values out
of range are refused with one sentence naming the key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import InputError

__all__ = ["STUDY_SCHEMA", "Setting", "read_study", "validate_study"]


@dataclass(frozen=True)
class Setting:
    """One key of the study file: its kind, what it means, and its allowed range."""

    kind: str  # "path", "paths", "text", "int", "number", "bool", "columns"
    help: str
    minimum: float | None = None
    exclusive_minimum: bool = False


#: Every key a study file may hold, at the top level or inside any ``[section]``.
STUDY_SCHEMA: dict[str, Setting] = {
    "incidents": Setting("paths", "incident files or folders (a path or a list of paths)"),
    "boundary": Setting("path", "study-area polygon file"),
    "districts": Setting("path", "district polygon file"),
    "zones": Setting("path", "Impact Zone polygon file with name and start columns"),
    "columns": Setting("columns", "a table of schema field = your column name"),
    "crs": Setting("text", "CRS of x/y columns or of a file without one, e.g. EPSG:26915"),
    "seed": Setting("int", "random seed of the synthetic data", minimum=0),
    "scale": Setting("number", "multiplier of the synthetic counts", 0, exclusive_minimum=True),
    "ring": Setting("number", "displacement ring width in metres", 0, exclusive_minimum=True),
    "out": Setting("path", "output folder"),
    "self_contained": Setting("bool", "ignored: every map opens with no network now"),
    "online_tiles": Setting("bool", "also offer online tile base maps (true or false)"),
    "basemap": Setting("path", "a line layer drawn as the offline base map"),
    "evaluate": Setting("bool", "time series, synthetic control and power per zone (true)"),
    "evaluate_model": Setting("text", "count model: quasipoisson, poisson or negbin"),
    "evaluate_freq": Setting("text", "series of months (M) or weeks (W)"),
    "concentration": Setting("bool", "crime concentration table and Lorenz plot (true)"),
    "nearrepeat_category": Setting("text", "a category for the near-repeat table"),
    "nearrepeat_permutations": Setting("int", "near-repeat permutations (99)", minimum=1),
    "harm": Setting("path", "a CSV of category,weight: harm-weighted WDD per zone"),
}

_KIND_WORDS = {
    "path": "a path in quotes",
    "paths": "a path or a list of paths",
    "text": "text in quotes",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false (no quotes)",
    "columns": 'a table such as { incident_id = "Case", lat = "Lat" }',
}


def _check(key: str, value: Any, where: str) -> Any:
    s = STUDY_SCHEMA[key]
    want = f"{where}: {key} must be {_KIND_WORDS[s.kind]} ({s.help}); got {value!r}."
    if s.kind in ("path", "text"):
        if not isinstance(value, str) or not value.strip():
            raise InputError(want)
    elif s.kind == "paths":
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(v, str) and v.strip() for v in items)
        ):
            raise InputError(want)
        return list(items)
    elif s.kind == "bool":
        if not isinstance(value, bool):
            raise InputError(want)
    elif s.kind in ("int", "number"):
        ok = isinstance(value, int) if s.kind == "int" else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok or not math.isfinite(value):
            raise InputError(want)
        if s.minimum is not None and (
            value < s.minimum or (s.exclusive_minimum and value == s.minimum)
        ):
            sign = ">" if s.exclusive_minimum else ">="
            raise InputError(f"{where}: {key} must be {sign} {s.minimum:g}; got {value!r}.")
    elif s.kind == "columns":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise InputError(want)
    return value


def validate_study(settings: dict, where: str = "the study file") -> dict:
    """Flatten the sections of a parsed study file and check every key against
    :data:`STUDY_SCHEMA`; returns ``{key: value}``.

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
            if key not in STUDY_SCHEMA:
                raise InputError(
                    f"{where}: unknown setting {key!r}; known: {', '.join(sorted(STUDY_SCHEMA))}."
                )
            if key in flat:
                raise InputError(f"{where}: {key} is given twice; keep one.")
            flat[key] = _check(key, value, where)
    if "columns" in flat:
        from .main import parse_columns  # the same field names as --columns

        for k in flat["columns"]:
            parse_columns(f"{k}=x")
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

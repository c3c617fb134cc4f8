"""The run manifest of an output folder, and cleaning up after a killed run.

A run writes ``manifest.json`` last: a run id, the settings, and every file it wrote with its
size and SHA-256. A folder whose manifest is missing, or whose files no longer match it, was
left by a run that did not finish (or mixes two runs); :func:`check_manifest` says so.
Hidden temporary files of an interrupted atomic write (``.incidents.k2j4x9a1.parquet``) are
removed by :func:`clean_temporaries` at the start of the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from .writers import write_text

__all__ = [
    "MANIFEST",
    "check_manifest",
    "clean_temporaries",
    "warn_if_incomplete",
    "write_manifest",
]

MANIFEST = "manifest.json"
#: Names :func:`~impactzones.core.files.atomic_write` gives its temporaries:
#: ``.<stem>.<8 random><suffix>``.
_TEMPORARY = re.compile(r"^\.[^/]+\.[a-z0-9_]{8}(\.[A-Za-z0-9]+)?$")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def clean_temporaries(folder: str | Path) -> list[Path]:
    """Remove the hidden temporaries an interrupted run left in ``folder``, and its stale
    manifest (the run about to start replaces it last). Returns what was removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".incidents.k2j4x9a1.parquet").write_text("half")
    >>> _ = (d / "keep.csv").write_text("")
    >>> [p.name for p in clean_temporaries(d)], sorted(p.name for p in d.iterdir())
    (['.incidents.k2j4x9a1.parquet'], ['keep.csv'])
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for p in sorted(folder.iterdir()):
        if p.is_file() and (_TEMPORARY.match(p.name) or p.name == MANIFEST):
            p.unlink()
            if p.name != MANIFEST:
                removed.append(p)
    return removed


def write_manifest(folder: str | Path, files, settings: dict) -> Path:
    """Write ``manifest.json`` in ``folder``: run id, settings, and each file's size and
    SHA-256 (paths relative to the folder). The run id is a hash of the rest, so the same run
    gives the same manifest, whatever the day.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.csv").write_text("x\\n1\\n")
    >>> m = json.loads(write_manifest(d, [d / "a.csv"], {"seed": 1}).read_text())
    >>> m["files"][0]["path"], m["files"][0]["bytes"], len(m["run_id"])
    ('a.csv', 4, 16)
    """
    folder = Path(folder).resolve()
    entries = []
    for f in sorted({Path(f).resolve() for f in files}):
        if f.name == MANIFEST or not f.is_file():
            continue
        entries.append(
            {
                "path": f.relative_to(folder).as_posix(),
                "bytes": f.stat().st_size,
                "sha256": _sha256(f),
            }
        )
    body = {"settings": _relative(settings, folder), "files": entries}
    run_id = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    text = json.dumps({"run_id": run_id, **body}, indent=2, sort_keys=True, default=str)
    return write_text(text + "\n", folder / MANIFEST)


def _relative(value, folder: Path):
    """Settings with every absolute path made relative to ``folder`` (the manifest travels
    with the folder, never the machine's paths)."""
    if isinstance(value, dict):
        return {k: _relative(v, folder) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_relative(v, folder) for v in value]
    if isinstance(value, (str, Path)) and os.path.isabs(value):
        return Path(os.path.relpath(Path(value).resolve(), folder)).as_posix()
    return value


def check_manifest(folder: str | Path) -> list[str]:
    """What does not match the folder's manifest: one sentence per problem (empty when the
    folder is complete and unchanged).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.csv").write_text("1")
    >>> _ = write_manifest(d, [d / "a.csv"], {})
    >>> check_manifest(d)
    []
    >>> _ = (d / "a.csv").write_text("2")
    >>> check_manifest(d)  # doctest: +ELLIPSIS
    ['a.csv differs from the run that wrote ...']
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return [
            f"{folder} has no {MANIFEST}: the run that wrote it did not finish (or the "
            "folder was not written by impactzones)."
        ]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        entries = manifest["files"]
    except (ValueError, KeyError, TypeError):
        return [f"{path} cannot be read; rerun to rewrite the folder."]
    problems = []
    for e in entries:
        f = folder / e["path"]
        if not f.is_file():
            problems.append(f"{e['path']} is missing from {folder}.")
        elif f.stat().st_size != e["bytes"] or _sha256(f) != e["sha256"]:
            problems.append(
                f"{e['path']} differs from the run that wrote {MANIFEST} "
                f"(run {manifest.get('run_id', '?')}): the folder mixes two runs."
            )
    return problems


def warn_if_incomplete(paths) -> list[str]:
    """Warn about input folders written by impactzones whose manifest does not match (a
    killed or mixed run); returns the problems.

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "summary.json").write_text("{}")
    >>> with warnings.catch_warnings(record=True):
    ...     len(warn_if_incomplete([d]))
    1
    """
    import warnings

    problems = []
    for p in paths or []:
        p = Path(p)
        if p.is_dir() and ((p / MANIFEST).exists() or (p / "summary.json").exists()):
            for problem in check_manifest(p):
                warnings.warn(problem, stacklevel=2)
                problems.append(problem)
    return problems

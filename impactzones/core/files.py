"""Files written all or nothing, and only inside the output folder.

* **Atomic.** :func:`atomic_write` fills a temporary file beside the target and renames it
  into place, so a killed run never leaves half a file (``manifest.clean_temporaries`` removes
  the temporaries it may leave).
* **Nothing outside ``--out``.** While :func:`output_root` is active (or a function decorated
  with :func:`writes_into` runs), every atomic write checks with :func:`check_inside` that its
  path resolves inside the output folder, and refuses otherwise.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

__all__ = ["atomic_write", "check_apart", "check_inside", "json_text", "output_root",
           "writes_into"]

_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar("iz_output_root", default=None)


@contextmanager
def output_root(folder: str | Path) -> Iterator[Path]:
    """Fence every atomic write inside ``folder`` while the block runs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.io import write_text
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with output_root(d / "out"):
    ...     _ = write_text("ok", d / "out" / "a.txt")
    ...     write_text("no", d / "out" / ".." / "b.txt")
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: Refusing to write ... outside the output folder ...
    """
    root = Path(folder).resolve()
    token = _ROOT.set(root)
    try:
        yield root
    finally:
        _ROOT.reset(token)


def writes_into(param: str = "out") -> Callable:
    """Decorate a function that writes into the folder given as argument ``param``: while
    it runs, every write is fenced inside that folder (:func:`output_root`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from impactzones.io import write_text
    >>> @writes_into("out")
    ... def save(name, out):
    ...     return write_text("x", pathlib.Path(out) / name)
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> save("a.txt", d).name
    'a.txt'
    >>> save("../a.txt", d)
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: Refusing to write ... outside the output folder ...
    """

    def decorate(func: Callable) -> Callable:
        sig = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = sig.bind_partial(*args, **kwargs)
            folder = bound.arguments.get(param, sig.parameters[param].default)
            if folder is None or folder is inspect.Parameter.empty:
                return func(*args, **kwargs)
            with output_root(folder):
                return func(*args, **kwargs)

        return wrapper

    return decorate


def check_inside(path: str | Path) -> Path:
    """``path`` resolved; an :class:`InputError` if it leaves the active output folder.

    Without an active :func:`output_root` any path is accepted (a user-chosen file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with output_root(d):
    ...     check_inside(d / "x.csv") == (d / "x.csv").resolve()
    True
    """
    resolved = Path(path).resolve()
    root = _ROOT.get()
    if root is not None and resolved != root and root not in resolved.parents:
        raise InputError(
            f"Refusing to write {resolved} outside the output folder {root}; a name in the "
            "data must not choose where files go."
        )
    return resolved


def check_apart(inputs, outputs, folder: bool = False) -> None:
    """Refuse outputs over inputs, before any work: a file output that is one of the input
    paths or lies inside an input folder, or (``folder``: the outputs are folders) an
    output folder that is, or holds, an input path. Paths only, nothing read
    (:func:`impactzones.pipeline.guard_folder` also looks inside input folders).

    Examples
    --------
    >>> check_apart(["data/in.csv", None], ["out/a.parquet"])  # fine
    >>> check_apart(["out/streets.geojson"], ["out"], folder=True)
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: The output folder ... holds the input ...
    >>> check_apart(["in.csv"], ["in.csv"])
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: in.csv is one of the inputs; write the output ...
    >>> check_apart(["data"], ["data/2019.csv"])  # data/2019.csv may be an input file
    Traceback (most recent call last):
    ...
    impactzones.core.errors.InputError: data/2019.csv is inside the input folder ...
    """
    ins = [Path(p).resolve() for p in inputs if p]
    for out in outputs:
        if not out:
            continue
        where = Path(out).resolve()
        if not folder and where in ins:
            raise InputError(f"{out} is one of the inputs; write the output somewhere else.")
        for f in () if folder else ins:  # an input folder's files are all read as inputs
            if f in where.parents:
                raise InputError(
                    f"{out} is inside the input folder {f} (it could replace, or later be read "
                    "as, one of its files); write the output somewhere else."
                )
        for f in ins if folder else ():
            if f == where or where in f.parents:
                raise InputError(
                    f"The output folder {where} holds the input {f}; write the outputs "
                    "to another folder (--out)."
                )


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` all or nothing: ``write`` fills a temporary file beside it, which then
    replaces ``path`` in one step (a killed run leaves the old file or none, never half).

    The path must resolve inside the active :func:`output_root`; a folder or a parent that
    is a file gets one sentence.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a.txt", lambda p: p.write_text("ok")).read_text()
    'ok'
    """
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


def json_text(obj, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Standard JSON for a document: NaN and infinities (undefined figures) become
    ``null``, which every JSON parser reads (Python's ``NaN`` is not JSON); other values
    that JSON lacks (dates, numpy scalars) are written as text.

    Examples
    --------
    >>> json_text({"pai": float("nan"), "n": [1, float("inf")]}, indent=None)
    '{"pai": null, "n": [1, null]}'
    """
    import json
    import math

    def finite(value):
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [finite(v) for v in value]
        return value

    return json.dumps(finite(obj), indent=indent, sort_keys=sort_keys, default=str,
                      allow_nan=False)  # fmt: skip

"""The package version, written once (``project.version`` in pyproject.toml).

An installed package (wheel or editable) reads it from its metadata; a source checkout that
was never installed reads pyproject.toml beside the package.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]


def _source_version() -> str:
    """The version in pyproject.toml next to the package, or ``"0+unknown"``."""
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        return str(project["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"


try:
    __version__ = version("impactzones")
except PackageNotFoundError:  # a checkout on sys.path that was never installed
    __version__ = _source_version()

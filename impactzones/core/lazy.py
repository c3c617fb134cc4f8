"""Names a package imports on first use (PEP 562), so that importing it stays light.

``impactzones`` and ``impactzones.hotspots`` list their public names here with the module
each comes from; ``import impactzones`` and ``impactzones --help`` then pay for no
geopandas, pandas, scipy or numba until a name is used. This module imports nothing but
the standard library.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Mapping

__all__ = ["lazy_module", "lazy_package"]


class _LazyPackage(types.ModuleType):
    """A package whose lazily loaded names stay what they are: importing the submodule of
    the same name as a function (``impactzones.assign``, ``hotspots.kde``), which Python
    records on its package, must not replace the function, loaded yet or not."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in self.__dict__.get("_LAZY", ()) and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def lazy_package(package: str, names: Mapping[str, str]) -> None:
    """Make the names of ``package`` load on first use, each from its module.

    Installs the package's module-level ``__getattr__`` and ``__dir__`` (PEP 562): the
    first use of a name imports its module and keeps the value in the package, so later
    uses cost nothing; ``dir()`` lists the names before they load.

    Parameters
    ----------
    package : str
        The package's name, as in ``sys.modules`` (call it with ``__name__``).
    names : mapping of str to str
        Public name -> the module holding it: relative to the package when it starts with
        a dot (``".assign"``), otherwise absolute (``"impactzones.core.points"``).

    Examples
    --------
    >>> import sys, types
    >>> sys.modules["lazy_demo"] = types.ModuleType("lazy_demo")
    >>> lazy_package("lazy_demo", {"sqrt": "math", "dedent": "textwrap"})
    >>> import lazy_demo
    >>> "math" in vars(lazy_demo), lazy_demo.sqrt(16.0), "dedent" in dir(lazy_demo)
    (False, 4.0, True)
    """
    module = sys.modules[package]
    table = dict(names)
    module.__dict__["_LAZY"] = table
    module.__dict__["__getattr__"] = _loader(module, table)
    module.__dict__["__dir__"] = lambda: sorted(set(vars(module)) | set(table))
    module.__class__ = _LazyPackage


def _loader(module: types.ModuleType, table: dict[str, str]) -> Callable[[str], object]:
    """The package's ``__getattr__``: import a listed name's module, keep the value."""

    def __getattr__(name: str) -> object:
        source = table.get(name)
        if source is None:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(source, module.__name__), name)
        module.__dict__[name] = value
        return value

    return __getattr__


class _LazyModule(types.ModuleType):
    """A stand-in for a module, imported at the first use of one of its names."""

    def __getattr__(self, name: str) -> object:
        import importlib

        return getattr(importlib.import_module(self.__dict__["_target"]), name)


def lazy_module(name: str) -> types.ModuleType:
    """``name``'s module, imported at the first use of one of its attributes.

    For a heavy module that a package's functions use but its classes do not: a process
    that only unpickles or draws a result (the demo's picture worker) then never imports
    it. Once imported, each use is one lookup in ``sys.modules``.

    Examples
    --------
    >>> import sys
    >>> sys.modules.pop("colorsys", None) and None
    >>> colorsys = lazy_module("colorsys")
    >>> "colorsys" in sys.modules
    False
    >>> colorsys.rgb_to_hsv(1.0, 0.0, 0.0), "colorsys" in sys.modules
    ((0.0, 1.0, 1.0), True)
    """
    if name in sys.modules:
        return sys.modules[name]
    module = _LazyModule(name)
    module.__dict__["_target"] = name
    return module

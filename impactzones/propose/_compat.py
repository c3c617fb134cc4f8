"""A public keyword renamed keeps its old name for one release, with a ``FutureWarning``
(the team's ``core.compat.renamed_keyword``; a local copy until that lands)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from ..core.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])


def renamed_keyword(old: str, new: str) -> Callable[[F], F]:
    """Decorate a function whose keyword ``old`` is now called ``new``."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                name = func.__name__
                if new in kwargs:
                    raise InputError(f"Give {name}() {new}= only ({old}= is its old name).")
                warnings.warn(
                    f"{name}({old}=...) is now {name}({new}=...); {old}= will be removed in "
                    "a future release.",
                    FutureWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate

"""Keeping old public names working for one release, with a ``FutureWarning``.

The team convention: the study area is called ``study_area`` everywhere. A public keyword
that had another name (``mask``, ``land``, ``area``, ``boundary``) takes the new one and
keeps accepting the old one for a release through :func:`renamed_keyword`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import InputError

__all__ = ["renamed_keyword"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed_keyword(old: str, new: str) -> Callable[[F], F]:
    """Decorate a function whose keyword ``old`` is now called ``new``.

    Called with ``old=``, the function gets the value as ``new=`` and the caller a
    ``FutureWarning`` naming the new keyword; called with both, an :class:`InputError`.

    Examples
    --------
    >>> import warnings
    >>> @renamed_keyword("mask", "study_area")
    ... def area_of(*, study_area=None):
    ...     return study_area
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     area_of(mask="city")
    'city'
    >>> caught[0].category.__name__, str(caught[0].message).split(";")[0]
    ('FutureWarning', 'area_of(mask=...) is now area_of(study_area=...)')
    >>> area_of(study_area="city")
    'city'
    """

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

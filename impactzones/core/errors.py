"""Errors that impactzones reports to a user as one clear sentence."""

from typing import Any

__all__ = [
    "ImpactZonesError",
    "InputError",
]


class ImpactZonesError(Exception):
    """A problem with the user's input or settings, with what to do next.

    The CLI prints the message alone (no traceback) and exits with status 2.

    Parameters
    ----------
    *args : object
        The message (one sentence).
    data : object, optional
        A JSON-able document describing the refusal (e.g. ``load``'s tally of rejected
        rows) that the CLI prints on stdout with ``--json``, beside the exit status 2.

    Examples
    --------
    >>> err = InputError("No incidents are left.", data={"read": 3, "used": 0})
    >>> str(err), err.data["used"]
    ('No incidents are left.', 0)
    """

    def __init__(self, *args: object, data: Any = None) -> None:
        super().__init__(*args)
        self.data = data


class InputError(ImpactZonesError, ValueError):
    """An input file or value is missing, unreadable or inconsistent."""

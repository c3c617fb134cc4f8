"""Errors that impactzones reports to a user as one clear sentence."""

__all__ = [
    "ImpactZonesError",
    "InputError",
]


class ImpactZonesError(Exception):
    """A problem with the user's input or settings, with what to do next.

    The CLI prints the message alone (no traceback) and exits with status 2.
    """


class InputError(ImpactZonesError, ValueError):
    """An input file or value is missing, unreadable or inconsistent."""

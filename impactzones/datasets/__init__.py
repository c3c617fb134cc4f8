"""Bundled and synthetic data: the St. Louis generator with its planted truth."""

__all__: list[str] = []

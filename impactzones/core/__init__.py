"""The foundation: incident schema, time windows, change, errors, declared defaults,
the grid and Surface, geometry primitives and the working CRS."""

__all__: list[str] = []

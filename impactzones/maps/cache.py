"""What the web maps of one run share: each layer's GeoJSON, each surface's picture and the
offline base, made once (:class:`MapCache`). A module of its own, free of folium, so that
a caller can make one cache for maps drawn at different times (the demo's CompStat map
and its other maps)."""

from __future__ import annotations

__all__ = ["MapCache"]


class MapCache:
    """What the maps of one build share, each made once: a layer's GeoJSON, a surface's
    PNG, the offline base.

    An entry is found by a key and the object it was made from, that object by identity
    (the maps of one build draw the same layers and results, unchanged); the cache holds
    a reference to it, and lives as long as the build that made it (``MapData.cache``).

    Examples
    --------
    >>> cache, frame = MapCache(), [1, 2]
    >>> cache.get("sum", frame, lambda: sum(frame)), cache.get("sum", frame, lambda: 0)
    (3, 3)
    >>> cache.get("sum", [1, 2], lambda: 0)  # an equal list, but another object
    0
    """

    def __init__(self) -> None:
        self._items: dict[tuple, tuple] = {}

    def get(self, key, source, make):
        """The value made by ``make()`` for ``key`` and ``source``, made at the first call.

        ``source`` may be a tuple of the objects the value is made from: each is then
        matched by identity (and held, so that no other object takes its ``id``)."""
        sources = source if isinstance(source, tuple) else (source,)
        ids = (key, *map(id, sources))
        entry = self._items.get(ids)
        if entry is None or any(a is not b for a, b in zip(entry[0], sources, strict=True)):
            entry = (sources, make())
            self._items[ids] = entry
        return entry[1]

    def __len__(self) -> int:
        return len(self._items)

    def __reduce__(self):
        # a map handed to another process (the picture worker) takes an empty cache along,
        # not every layer drawn so far
        return (MapCache, ())

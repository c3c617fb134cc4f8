"""folium, imported with its templates compiled once per machine
(:func:`~impactzones.maps._templates.templates_compiled_once`): the maps import it from here."""

from __future__ import annotations

from ._templates import templates_compiled_once

with templates_compiled_once():  # folium's and branca's sixty templates
    import folium

__all__ = ["folium"]

"""What each map shows and how it is drawn: Folium maps, static PNGs, briefs, the proposal page."""

from .build import (
    GLOSSARY,
    annotate_proposals,
    build_maps,
    change_by_neighborhood,
    relation_words,
    ring_words,
    zone_headline,
)

__all__ = [
    "GLOSSARY",
    "annotate_proposals",
    "build_maps",
    "change_by_neighborhood",
    "relation_words",
    "ring_words",
    "zone_headline",
]

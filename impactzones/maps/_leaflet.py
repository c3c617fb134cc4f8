"""Leaflet, inlined: its JavaScript and CSS from the pinned ``xstatic-leaflet`` package, for
the web maps and the proposal page (a module of its own, so that the proposal page does
not import folium)."""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

from ..core.errors import InputError


@lru_cache(maxsize=1)
def leaflet_inline() -> tuple[str, str]:
    """Leaflet's JS and CSS (images as data URIs) from the pinned ``xstatic-leaflet``."""
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:  # a runtime dependency: only a broken install lacks it
        raise InputError(
            "Leaflet (the xstatic-leaflet package) is missing; reinstall impactzones."
        ) from exc
    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match):
        name = match.group(1)
        path = base / "images" / name
        if not path.exists():
            return match.group(0)
        b64 = base64.b64encode(path.read_bytes()).decode()
        return f"url(data:image/png;base64,{b64})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    # the map's scripts run inline, so "</script" must never appear inside one
    js = js.replace("</script", "<\\/script")
    return js, css

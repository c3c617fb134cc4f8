"""Open a map in headless Debian Chromium (Playwright's Python client), offline.

The page is loaded from disk. Our maps inline Leaflet, so by default every request is
refused and listed in the report (a map that would need the network fails the test);
``allow_network=True`` answers map tiles with a plain grey PNG (for ``--online-tiles``).
No browser is ever downloaded (never ``playwright install``): ``.ci/run`` installs Debian's
``chromium``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

TILE_URL = re.compile(r"/\d+/\d+/\d+(@2x)?(\.(png|jpg|jpeg))?(\?.*)?$")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--no-default-browser-check", "--hide-scrollbars",
]


def chromium_path() -> str | None:
    for cand in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium",
                 "/usr/bin/chromium", shutil.which("chromium")):
        if cand and os.path.exists(cand):
            return cand
    return None


def _grey_png(size: int = 256) -> bytes:
    import struct

    raw = b"".join(b"\x00" + bytes((228, 228, 224)) * size for _ in range(size))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


TILE = _grey_png()

PROBE = """() => {
  const out = {leaflet: typeof window.L !== 'undefined' ? L.version : null, maps: 0,
               control: [], paths: [], images: [], title: '', legend: '', unsafe_imgs: 0};
  out.maps = document.querySelectorAll('.leaflet-container').length;
  document.querySelectorAll('.leaflet-control-layers label').forEach(l => {
    const input = l.querySelector('input');
    out.control.push({name: l.textContent.trim(), checked: input ? input.checked : null,
                      kind: input ? input.type : null});
  });
  document.querySelectorAll('.leaflet-overlay-pane path').forEach(p => {
    out.paths.push(p.getAttribute('stroke'));
  });
  document.querySelectorAll('img.leaflet-image-layer').forEach(i => {
    out.images.push({complete: i.complete, width: i.naturalWidth});
  });
  const t = document.querySelector('.iz-title');
  out.title = t ? t.textContent : '';
  const lg = document.querySelector('.iz-legend');
  out.legend = lg ? lg.textContent : '';
  out.unsafe_imgs = document.querySelectorAll('img[src="x"]').length;
  out.xss = window.__xss || 0;
  const box = e => { const r = e.getBoundingClientRect();
    return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const c = document.querySelector('.leaflet-container');
  out.container = c ? box(c) : null;
  out.controls = [...document.querySelectorAll('.leaflet-control')]
    .filter(e => !e.classList.contains('leaflet-control-attribution')
                 && e.getBoundingClientRect().width > 0)
    .map(e => Object.assign(box(e), {cls: e.className}));
  out.zone = [...document.querySelectorAll('path.iz-zone-main, path.iz-ring-main')].map(box);
  out.legend_visible = lg ? [...lg.querySelectorAll('.iz-sec')]
    .filter(s => s.style.display !== 'none').map(s => s.textContent) : [];
  return out;
}"""


@dataclass
class Report:
    """What the browser saw."""

    probe: dict = field(default_factory=dict)
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    served: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    tiles: int = 0
    ready_ms: float = 0.0
    screenshot: Path | None = None

    @property
    def ok(self) -> bool:
        return (bool(self.probe.get("leaflet")) and self.probe.get("maps", 0) >= 1
                and not self.console_errors and not self.page_errors and not self.refused)


class Browser:
    """One Chromium for many pages (start once per test session)."""

    def __init__(self):
        from playwright.sync_api import sync_playwright

        exe = chromium_path()
        if exe is None:
            raise RuntimeError("Debian's chromium is not installed (apt-get install chromium)")
        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)

    def close(self):
        self._browser.close()
        self._pw.stop()

    def open(self, path: str | Path, screenshot: str | Path | None = None, *,
             width: int = 1280, height: int = 850, allow_network: bool = False,
             settle_ms: int = 400, actions=None, probe: str | None = None) -> Report:
        """Load a map, wait for Leaflet, probe it, and take a screenshot."""
        rep = Report()
        page = self._browser.new_page(viewport={"width": width, "height": height})
        page.on("console", lambda m: rep.console_errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda e: rep.page_errors.append(str(e)))

        def on_dialog(d):
            rep.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)

        def route(r):
            url = r.request.url
            if url.startswith(("file:", "data:", "about:")):
                return r.continue_()
            if allow_network and TILE_URL.search(url):
                rep.tiles += 1
                return r.fulfill(status=200, content_type="image/png", body=TILE)
            rep.refused.append(url)
            return r.abort()

        page.route("**/*", route)
        t0 = time.perf_counter()
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => window.L && document.querySelector('.leaflet-container')"
                               " && document.querySelector('.leaflet-control-layers')",
                               timeout=15000)
        rep.ready_ms = (time.perf_counter() - t0) * 1000
        if actions:
            actions(page)
        page.wait_for_timeout(settle_ms)
        rep.probe = page.evaluate(PROBE)
        if probe:
            rep.probe["extra"] = page.evaluate(probe)
        if screenshot is not None:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
            rep.screenshot = Path(screenshot)
        page.close()
        return rep

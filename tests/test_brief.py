"""The printable brief: one letter-size page with searchable text, rendered by poppler."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest


def _poppler():
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed (scripts/setup_test_env.sh installs it)")


@pytest.mark.parametrize("zone", ["north", "south"])
def test_brief_is_one_letter_page_with_the_headline(demo_run, tmp_path, zone):
    _poppler()
    from PIL import Image

    pdf = demo_run.files[0].parent / f"brief_{zone}.pdf"
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    w, h = Image.open(pages[0]).size
    assert (w, h) == (425, 550)  # 8.5 x 11 inches at 50 dpi
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    table = next(t for t in demo_run.comparisons.values() if zone.capitalize() in set(t["zone"]))
    r = table[(table["zone"] == zone.capitalize()) & (table["crime"] == "violent")].iloc[0]
    assert f"{zone.capitalize()} Impact Zone" in flat
    assert f"({r['zone_before']:,} to {r['zone_after']:,})" in flat
    assert "the rest of the city" in flat and "In the ring:" in flat
    assert "Glossary" in flat and "WDQ" in flat and "Data: synthetic" in flat


@pytest.mark.parametrize("zone", ["North", "South"])
def test_brief_shows_the_counterfactual_plot(demo_run, tmp_path, zone):
    """The interrupted time series' plot sits beside the map: its caption, its title with
    the evaluation's own effect and interval, and its red observed points on the page."""
    _poppler()
    from PIL import Image

    from impactzones.maps.brief import CAPTION

    pdf = demo_run.files[0].parent / f"brief_{zone.lower()}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert " ".join(CAPTION.split()) in flat
    res = demo_run.evaluations[zone].series
    e = res.effect
    assert f"{zone} zone: {e.pct:+.0f}% (95% CI {e.low:+.0f}% to {e.high:+.0f}%)" in flat
    assert "expected without the zone" in flat
    assert "Over time (interrupted time series):" in flat
    # the plot's observed points (#d62728) are drawn in its box, right of the map
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(tmp_path / "p")], check=True)
    (page,) = sorted(tmp_path.glob("p*.png"))
    img = np.asarray(Image.open(page).convert("RGB"), dtype=int)
    h, w, _ = img.shape
    box = img[int(0.315 * h):int(0.415 * h), int(0.65 * w):int(0.96 * w)]
    red = (np.abs(box - [214, 39, 40]).sum(axis=2) < 60).sum()
    assert red > 50, red
    rest = img[:, : int(0.6 * w)]  # and nowhere on the map side
    assert (np.abs(rest - [214, 39, 40]).sum(axis=2) < 20).sum() < red


def test_brief_is_byte_identical_when_run_again(demo_run, tmp_path):
    from impactzones.maps import zone_headline
    from impactzones.maps.brief import write_brief
    from impactzones.maps.webmap import MapData

    table = next(iter(demo_run.comparisons.values()))
    zone = next(z for z in table["zone"] if z != "Citywide")
    data = MapData(layers=demo_run.layers, title=f"{zone}", zone=zone,
                   headline=zone_headline(table, zone))
    its = demo_run.evaluations.get(zone)
    its = its.series if its is not None else None
    a = write_brief(data, table, tmp_path / "a.pdf", counterfactual=its).read_bytes()
    b = write_brief(data, table, tmp_path / "b.pdf", counterfactual=its).read_bytes()
    assert a == b

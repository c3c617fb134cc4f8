"""The charts (PNG) place their axes without ``tight_layout``: every title, label and tick
label lies inside the figure, for ordinary inputs and for hostile ones (a zone's name too
long for one line, counts in the hundreds of thousands), and the axes lie where
matplotlib's own ``tight_layout`` puts them."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pandas as pd
import pytest

LONG = "Northside Community Safety and Neighborhood Revitalization Partnership Zone"


def _drawn(monkeypatch, module, call) -> list:
    """The figures ``call`` hands to ``module``'s ``write_png``, drawn by it."""
    from impactzones.io import writers

    figures = []

    def keep(fig, path=None):
        figures.append(fig)
        return writers.write_png(fig, path)

    monkeypatch.setattr(module, "write_png", keep)
    assert call()[:4] == b"\x89PNG"
    return figures


def _outside(fig) -> list[str]:
    """What of ``fig`` reaches past the figure's edges by more than half a pixel, as its
    renderer measures it after the draw: each axes' tight box (its tick labels, axis
    labels, titles, legend and texts, as matplotlib bounds them) and each figure text."""
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    boxes = [(f"axes {i}", ax.get_tightbbox(renderer)) for i, ax in enumerate(fig.axes)]
    boxes += [(repr(t.get_text()), t.get_window_extent(renderer)) for t in fig.texts]
    return [
        f"{name} at {box.extents.round(1).tolist()}"
        for name, box in boxes
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5
    ]


def _series(big: bool = False, zone: str = "North"):
    from impactzones.evaluate.series import its_from_counts, simulate_counts

    counts = simulate_counts(zone_mean=160_000.0, control_mean=3_200_000.0) if big else None
    if counts is None:
        counts = simulate_counts()
    return dataclasses.replace(its_from_counts(counts, "2018-01-01"), zone=zone)


def _control(big: bool = False, zone: str = "zone"):
    from impactzones.evaluate.synthetic_control import (
        simulate_panel,
        synthetic_control_from_panel,
    )

    panel = simulate_panel(seed=1)
    if big:
        panel = panel * 4000
    result = synthetic_control_from_panel(panel, "zone", "2018-01-01")
    return dataclasses.replace(result, zone=zone)


CASES = [
    pytest.param(False, "North", id="ordinary"),
    pytest.param(True, "North", id="big-counts"),
    pytest.param(False, LONG, id="long-name"),
    pytest.param(True, LONG + " " + LONG, id="both"),
]


def _donors(layers):
    """The neighbourhoods, each named as a donor."""
    return layers.neighborhoods.assign(
        name=[f"donor {i}" for i in range(len(layers.neighborhoods))]
    )


CHARTS = [
    pytest.param("series", "plot_counterfactual", _series, id="counterfactual"),
    pytest.param("synthetic_control", "plot_synthetic_control", _control, id="synthetic-control"),
]


@pytest.mark.parametrize("module, plot, make", CHARTS)
@pytest.mark.parametrize("big, zone", CASES)
def test_chart_labels_lie_inside_the_figure(monkeypatch, module, plot, make, big, zone):
    module = importlib.import_module(f"impactzones.evaluate.{module}")

    result = make(big, zone)
    (fig,) = _drawn(monkeypatch, module, lambda: getattr(module, plot)(result))
    assert not _outside(fig)
    assert zone.split()[-1] in fig.axes[0].get_title()  # wrapped, not cut


@pytest.mark.parametrize("zone", ["North", LONG])
def test_donor_weights_labels_lie_inside_the_figure(monkeypatch, layers, zone):
    sc = importlib.import_module("impactzones.evaluate.synthetic_control")

    result = _control(zone=zone)
    donors = _donors(layers)
    fig = sc._donor_figure(result, donors, layers.zones)
    fig.canvas.draw()
    assert not _outside(fig)
    cbar = fig.axes[1].get_tightbbox(fig.canvas.get_renderer())
    assert cbar.x1 <= fig.bbox.width  # the colour bar's ticks and label
    assert fig.axes[0].get_window_extent().y1 < min(
        t.get_window_extent().y0 for t in fig.texts
    )  # the map under its title


def test_lorenz_and_capture_curve_labels_lie_inside_the_figure(monkeypatch):
    conc = importlib.import_module("impactzones.evaluate.concentration")
    from impactzones.propose import capture

    results = {f"District {i}": conc.concentration([10 * i, 8, 2] + [0] * 97) for i in range(1, 4)}
    (fig,) = _drawn(monkeypatch, conc, lambda: conc.plot_lorenz(results))
    assert not _outside(fig)
    curve = pd.DataFrame({"strategy": ["proposals"] * 3 + ["naive top cells"] * 3,
                          "area_share": [0.01, 0.02, 0.05] * 2,
                          "capture": [0.2, 0.5, 1.0, 0.1, 0.3, 0.9]})  # fmt: skip
    for dpi in (60, 100):
        fig = capture._capture_figure(curve, "Violent crime captured: " + LONG * 2, dpi)
        fig.canvas.draw()
        assert not _outside(fig)


@pytest.mark.parametrize("big", [False, True])
def test_fit_axes_places_the_axes_where_tight_layout_does(big):
    """matplotlib's own tight_layout is the reference: the same axes box within 0.01 in
    (the title's descent aside: tight_layout leaves it hanging into the title's pad)."""
    from matplotlib.figure import Figure

    from impactzones.core.drawing import fit_axes
    from impactzones.evaluate.series import draw_counterfactual

    boxes = []
    for fit in (False, True):
        fig = Figure(figsize=(8, 4), dpi=100)
        ax = fig.add_subplot()
        draw_counterfactual(ax, _series(big))
        ax.set_xlabel("month")
        fit_axes(fig, ax, titles=[ax.title]) if fit else fig.tight_layout()
        boxes.append(np.asarray(ax.get_position().extents) * np.tile(fig.get_size_inches(), 2))
    assert np.allclose(boxes[0][:3], boxes[1][:3], atol=0.01), boxes
    assert abs(boxes[0][3] - boxes[1][3]) < 0.01


def test_charts_are_the_same_bytes_when_drawn_again(layers):
    from impactzones.evaluate.series import plot_counterfactual
    from impactzones.evaluate.synthetic_control import plot_donor_weights, plot_synthetic_control
    from impactzones.propose.capture import capture_curve_png

    curve = pd.DataFrame({"strategy": ["a", "a"], "area_share": [0.01, 0.03], "capture": [0.1, 0.2]})
    result = _control()
    donors = _donors(layers)
    for draw in (lambda: plot_counterfactual(_series()), lambda: plot_synthetic_control(result),
                 lambda: plot_donor_weights(result, donors, layers.zones),
                 lambda: capture_curve_png(curve, title="t", dpi=70)):  # fmt: skip
        assert draw() == draw()


def test_the_demo_embeds_its_capture_curve_png_in_both_pages(demo_cli):
    """One picture: the proposal page and the analyst map embed the bytes of the demo's
    capture_curve.png (drawn by the worker), not pictures of their own."""
    import base64

    out = demo_cli.out
    png = (out / "capture_curve.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    encoded = base64.b64encode(png).decode()
    for page in ("explore.html", "analyst.html"):
        assert encoded in (out / page).read_text(encoding="utf-8"), page


def test_the_capture_pages_take_a_drawn_picture_or_draw_their_own(monkeypatch):
    """Given bytes or a function returning them (called once), the pages embed those;
    given none, they draw the plot themselves (at 70 and 60 dpi: 490 and 420 pixels)."""
    import base64
    import io

    from PIL import Image

    from impactzones.core.geo import st_louis
    from impactzones.maps.explore import _capture
    from impactzones.maps.webmap import base_map, capture_layer

    curve = pd.DataFrame({"strategy": ["proposals"] * 2, "area_share": [0.01, 0.03],
                          "capture": [0.05, 0.12], "period": "2019", "before": "2018"})  # fmt: skip
    calls = []
    assert _capture(curve, lambda: calls.append(1) or b"PNGBYTES")["png"] == "UE5HQllURVM="
    assert calls == [1]
    assert "base64,UE5HQllURVM=" in capture_layer(base_map(st_louis()), curve, b"PNGBYTES")[0]
    own = base64.b64decode(_capture(curve)["png"])
    assert Image.open(io.BytesIO(own)).size == (490, 315)
    html = capture_layer(base_map(st_louis()), curve)[0]
    own = base64.b64decode(html.split("base64,")[1].split("'")[0])
    assert Image.open(io.BytesIO(own)).size == (420, 270)

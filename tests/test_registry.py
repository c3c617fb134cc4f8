"""A hot-spot method is one module-level function, one registry line and one map layer:
a toy method registered here shows up in the CLI's choices, the pipeline's output and the
maps, with no other change anywhere; and the built-in methods go through the same path."""

from __future__ import annotations

import json

import folium
import numpy as np
import pytest
import shapely

from impactzones.core.grid import Surface, make_grid
from impactzones.hotspots import registry
from impactzones.hotspots.registry import Method, Output


def toy_counts(ctx: registry.RunContext) -> Surface:
    """The toy method: incidents per km^2 in 1 km cells (a plain count, no smoothing)."""
    area = ctx.points.area or shapely.box(*ctx.incidents.total_bounds)
    grid = make_grid(area, ctx.incidents.crs, ctx.get("toy_cell", 1000.0))
    counts = grid.counts(ctx.points.x, ctx.points.y)
    values = np.where(grid.mask, counts / grid.cell_area_km2, np.nan)
    return Surface(values, grid, params={"cell_size_m": grid.cell, "toy_rule": "counts / km^2"},
                   map_layer="toy")


def toy_layer(m, result, data, *, name, analyst):
    """The toy's map layer: its busiest cell as a marked square."""
    cells = result.to_geodataframe()
    top = cells.loc[[cells["value"].idxmax()]].to_crs(4326)
    folium.GeoJson(top[["value", "geometry"]].to_json(), name="Toy busiest cell").add_to(m)
    return ["<div class='iz-note'>Toy busiest cell</div>"]


@pytest.fixture
def toy():
    registry.register(Method("toy", run=toy_counts, result=Surface, outputs=(Output("toy.tif"),), layer="tests.test_registry:toy_layer", maps=("commander", "analyst"), default=False, finding=lambda s: "a toy surface", printed=("cell_size_m",)))
    yield
    registry.unregister("toy")


@pytest.fixture(scope="module")
def violent(synth, layers):
    inc = synth.incidents
    return inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == 2018)]


def test_toy_method_is_offered_by_the_cli(toy):
    import argparse

    from impactzones.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    method = next(a for a in sub.choices["hotspots"]._actions if a.dest == "method")
    assert "toy" in method.choices
    assert "toy" not in method.default  # runs only when asked for
    registry.unregister("toy")
    method = next(
        a
        for a in next(
            a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
        ).choices["hotspots"]._actions
        if a.dest == "method"
    )
    assert "toy" not in method.choices


def test_toy_method_runs_through_the_pipeline_and_the_cli(toy, violent, layers, tmp_path):
    from impactzones.cli import main
    from impactzones.pipeline import HOTSPOT_METHODS, run_hotspots

    assert "toy" in HOTSPOT_METHODS
    results, files = run_hotspots(violent, layers.land, tmp_path, methods=["toy", "kde"])
    assert list(results) == ["kde", "toy"]  # the registry's order
    toy = results["toy"]
    # by hand: an incident in the study area counts where its 1 km cell's centre is in it too
    x, y = violent.get_coordinates().T.values
    g = toy.grid
    cx = g.x0 + (np.floor((x - g.x0) / 1000) + 0.5) * 1000
    cy = g.y0 - (np.floor((g.y0 - y) / 1000) + 0.5) * 1000
    kept = shapely.contains_xy(layers.land, x, y) & shapely.contains_xy(layers.land, cx, cy)
    assert np.nansum(toy.values) * g.cell_area_km2 == pytest.approx(kept.sum())
    assert {p.name for p in files} == {"kde.tif", "kde_hotspots.geojson", "toy.tif",
                                       "params.json"}
    params = json.loads((tmp_path / "params.json").read_text())
    assert params["toy"]["toy_rule"] == "counts / km^2"
    # the CLI, in this process (where the toy is registered)
    src = tmp_path / "violent.parquet"
    violent.to_parquet(src)
    out = tmp_path / "cli"
    assert main(["hotspots", str(src), "--method", "toy", "--out", str(out), "--json"]) == 0
    assert (out / "toy.tif").exists()


def test_toy_method_is_drawn_on_the_maps(toy, violent, layers, tmp_path):
    from impactzones.maps.webmap import MapData, commander_map, static_map
    from impactzones.pipeline import run_hotspots

    results, _ = run_hotspots(violent, layers.land, methods=["toy"])
    data = MapData(layers=layers, title="Toy", results=results)
    html = commander_map(data).get_root().render()
    assert "Toy busiest cell" in html
    assert static_map(data, tmp_path / "toy.png", dpi=30).exists()  # no static layer: left out
    registry.unregister("toy")
    assert "Toy busiest cell" not in commander_map(data).get_root().render()


def test_unknown_methods_are_refused_in_one_sentence(violent, layers):
    from impactzones.core.errors import InputError
    from impactzones.pipeline import run_hotspots

    with pytest.raises(InputError, match=r"Unknown method\(s\) \['toy'\]"):
        run_hotspots(violent, layers.land, methods=["toy"])


def test_builtin_methods_are_registry_entries_with_working_layers():
    from impactzones.maps.layers import MapLayer

    for name in registry.NAMES:
        m = registry.get(name)
        assert isinstance(registry.resolve(m.layer), MapLayer), name
        assert m.result_type.__name__ in {"Surface", "Clusters", "GiStar", "Emerging"}
        assert all(o.name.startswith(name) for o in m.outputs)
    assert list(registry.DEFAULTS) == ["kde", "dbscan", "gistar"]


def test_a_method_with_a_surface_is_offered_to_propose(violent, layers):
    """Give the toy a priority surface (one more field of its entry) and propose offers it,
    on the command line and in the library, and grows zones on it."""
    import argparse

    from impactzones.cli import build_parser
    from impactzones.propose import METHODS, propose_zones

    def toy_surface(result, ctx):
        return result.grid, np.nan_to_num(result.values), "toy counts per km^2"

    registry.register(Method("toy", run=toy_counts, result=Surface, surface=toy_surface, default=False))
    try:
        sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
        method = next(a for a in sub.choices["propose"]._actions if a.dest == "method")
        assert "toy" in method.choices and method.default == "cells"
        assert "toy" in METHODS
        p = propose_zones(violent, period=2018, k=1, method="toy", layers=layers)
        assert len(p) == 1
    finally:
        registry.unregister("toy")
    assert "toy" not in METHODS

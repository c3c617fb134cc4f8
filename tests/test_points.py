"""Points prepared once give the same hot spots as the GeoDataFrame with its mask."""

from __future__ import annotations

import numpy as np
import pytest

from impactzones.core.errors import InputError
from impactzones.hotspots import dbscan, gistar, kde, prepare_points


@pytest.fixture(scope="module")
def violent(synth):
    inc = synth.incidents
    return inc[(inc["group"] == "violent") & (inc["occurred_at"].dt.year == 2018)]


def test_points_give_the_same_kde_dbscan_and_gistar(violent, layers):
    pts = prepare_points(violent, layers.land)
    assert len(pts.x) + pts.outside == len(violent)
    a = kde(violent, cell_size=100, bandwidth=400, mask=layers.land)
    b = kde(pts, cell_size=100, bandwidth=400)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.params == b.params
    c = dbscan(violent, eps=150, min_samples=15, mask=layers.land)
    d = dbscan(pts, eps=150, min_samples=15)
    assert c.labels.equals(d.labels) and c.core.equals(d.core)
    assert c.clusters.drop(columns="geometry").equals(d.clusters.drop(columns="geometry"))
    g1 = gistar(violent, cell_size=250, mask=layers.land, permutations=99, seed=1)
    g2 = gistar(pts, cell_size=250, permutations=99, seed=1)
    np.testing.assert_array_equal(g1.Zs, g2.Zs)


def test_points_refuse_a_second_mask(violent, layers):
    pts = prepare_points(violent, layers.land)
    with pytest.raises(InputError, match="prepared with their study area"):
        kde(pts, study_area=layers.land)


def _probe_points(area, seed: int):
    """60,000 random points over ``area``'s bounds widened by 500 m, the first up to 2,000
    moved onto the boundary's vertices and the last three NaN, NaN-y and far away: the
    points (x, y) and those vertices (an (n, 2) array)."""
    import shapely

    xmin, ymin, xmax, ymax = area.bounds
    rng = np.random.default_rng(seed)
    x = rng.uniform(xmin - 500, xmax + 500, 60_000)
    y = rng.uniform(ymin - 500, ymax + 500, 60_000)
    edge = shapely.get_coordinates(shapely.boundary(area))[:2000]
    x[: len(edge)], y[: len(edge)] = edge[:, 0], edge[:, 1]
    x[-3:], y[-3:] = np.nan, [np.nan, 0.0, 1e9]
    return x, y, edge


def test_study_area_test_equals_shapely_point_by_point(layers):
    """The raster-indexed membership test (used above 20,000 points) against shapely's
    exact test of each point, with points on the boundary's vertices, NaN and far away."""
    import shapely

    from impactzones.core.points import in_study_area

    area = layers.land
    x, y, edge = _probe_points(area, seed=7)
    truth = np.array([area.intersects(shapely.Point(a, b)) for a, b in zip(x, y, strict=True)])
    got = in_study_area(x, y, area)
    np.testing.assert_array_equal(got, truth)
    assert got[: len(edge)].all() and not got[-3:].any()


def test_interior_test_equals_shapely_contains_point_by_point(layers):
    """boundary=False (the synthetic generator's land test) against shapely's exact
    contains of each point: points on the boundary's vertices are not in, nor NaN."""
    import shapely

    from impactzones.core.points import in_study_area

    area = layers.land
    x, y, edge = _probe_points(area, seed=8)
    truth = np.array([area.contains(shapely.Point(a, b)) for a, b in zip(x, y, strict=True)])
    for n in (len(x), 500):  # through the raster index, and point by point
        got = in_study_area(x[-n:], y[-n:], area, boundary=False)
        np.testing.assert_array_equal(got, truth[-n:])
    assert not got[-3:].any() and truth.any()
    assert not in_study_area(edge[:, 0], edge[:, 1], area, boundary=False).any()


def test_a_cached_grid_is_a_fresh_copy_for_each_call(layers):
    from impactzones.core.grid import make_grid
    from impactzones.core.points import grid_for

    a = grid_for(np.zeros(1), np.zeros(1), layers.land, layers.crs, 250)
    a.mask[:] = False  # a caller changing its grid does not change the next one
    b = grid_for(np.zeros(1), np.zeros(1), layers.land, layers.crs, 250)
    np.testing.assert_array_equal(b.mask, make_grid(layers.land, layers.crs, 250).mask)
    assert b.mask.any() and b.mask.flags.writeable


def test_xy_reads_points_and_refuses_other_geometries():
    import geopandas as gpd
    import shapely

    from impactzones.core.geo import xy

    pts = [shapely.Point(1, 2), None, shapely.Point(), shapely.Point(3, 4, 5)]
    x, y = xy(gpd.GeoDataFrame(geometry=pts * 3))
    np.testing.assert_array_equal(x, [1, np.nan, np.nan, 3] * 3)
    np.testing.assert_array_equal(y, [2, np.nan, np.nan, 4] * 3)
    for bad in (shapely.LineString([(0, 0), (1, 1)]), shapely.box(0, 0, 1, 1),
                shapely.LineString()):  # fmt: skip
        with pytest.raises(ValueError, match="point"):
            xy(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), bad]))


def test_the_indexed_extraction_equals_shapely_point_by_point(layers):
    """Above 20,000 incidents the coordinates and the study-area test come from one pass
    over the points' bounds and the area's raster index: the same incidents, in the same
    order, as shapely's exact test of each point; missing and empty points left out."""
    import geopandas as gpd
    import shapely

    from impactzones.core.points import points_in_study_area

    area = layers.land
    xmin, ymin, xmax, ymax = area.bounds
    rng = np.random.default_rng(3)
    x = rng.uniform(xmin - 300, xmax + 300, 40_000)
    y = rng.uniform(ymin - 300, ymax + 300, 40_000)
    edge = shapely.get_coordinates(shapely.boundary(area))[:200]  # vertices: on the edge
    x[:200], y[:200] = edge[:, 0], edge[:, 1]
    geoms = list(shapely.points(x, y))
    geoms[600], geoms[601] = None, shapely.Point()
    frame = gpd.GeoDataFrame({"w": rng.uniform(0, 3, 40_000)}, geometry=geoms, crs=layers.crs)
    truth = np.array([g is not None and area.intersects(g) for g in geoms])
    px, py, w, _area, outside, pos = points_in_study_area(frame, area, "w", positions=True)
    np.testing.assert_array_equal(pos, np.flatnonzero(truth))
    np.testing.assert_array_equal(px, x[truth])
    np.testing.assert_array_equal(py, y[truth])
    np.testing.assert_array_equal(w, frame["w"].to_numpy()[truth])
    assert outside == (~truth).sum() and truth[:200].all()
    # nothing left out (the coordinates are then views of the bounds, not copies)
    px, py, w, _area, outside, pos = points_in_study_area(frame[truth], area, "w", positions=True)
    np.testing.assert_array_equal(px, x[truth])
    np.testing.assert_array_equal(py, y[truth])
    assert outside == 0 and len(pos) == truth.sum()
    geoms[7] = shapely.LineString([(xmin, ymin), (xmax, ymax)])
    with pytest.raises(InputError, match="point incidents"):
        points_in_study_area(frame.set_geometry(geoms), area)

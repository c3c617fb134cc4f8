"""Assignment to areas: hand-made cases, edges, and agreement with geopandas.sjoin."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from impactzones.assign import assign, count_incidents
from impactzones.core.errors import InputError
from impactzones.core.geo import Layers
from impactzones.core.geometry import locate, ring_polygons

CRS = "EPSG:32615"


@pytest.fixture()
def toy():
    """Two 1 km districts side by side, a 200 m zone in the left one."""
    districts = gpd.GeoDataFrame(
        {"district": [1, 2], "name": ["West", "East"]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=CRS,
    )
    zones = gpd.GeoDataFrame(
        {"name": ["Z"], "start": pd.to_datetime(["2018-01-01"]), "description": [""]},
        geometry=[box(400, 400, 600, 600)],
        crs=CRS,
    )
    boundary = gpd.GeoDataFrame(geometry=[box(0, 0, 2000, 1000)], crs=CRS)
    return Layers(boundary=boundary, districts=districts, neighborhoods=None, zones=zones)


def pts(xy):
    x, y = np.array(xy, float).T
    return gpd.GeoDataFrame(
        {"occurred_at": pd.Timestamp("2018-01-01"), "category": "robbery", "group": "violent"},
        index=range(len(x)),
        geometry=gpd.points_from_xy(x, y),
        crs=CRS,
    )


def test_hand_made_cases(toy):
    inc = pts([(500, 500), (700, 500), (1500, 500), (300, 900), (2500, 500), (600, 600)])
    a = assign(inc, toy, ring=150)
    assert a["district"].tolist()[:4] == [1, 1, 2, 1]
    assert pd.isna(a["district"].iloc[4])
    assert a["zone"].tolist() == ["Z", "", "", "", "", "Z"]  # the zone's corner is in it
    assert a["ring"].tolist() == ["", "Z", "", "", "", ""]
    assert a["area_type"].tolist() == ["zone", "ring", "control", "control", "outside", "zone"]


def test_shared_edge_goes_to_exactly_one_polygon_first_by_order(toy):
    inc = pts([(1000, 500), (1000, 0), (1000, 1000)])
    a = assign(inc, toy)
    assert a["district"].tolist() == [1, 1, 1]
    flipped = Layers(toy.boundary, toy.districts.iloc[::-1].reset_index(drop=True), None, toy.zones)
    assert assign(inc, flipped)["district"].tolist() == [2, 2, 2]
    # sjoin, for contrast, returns the edge point twice
    assert len(gpd.sjoin(inc.iloc[:1], toy.districts, predicate="intersects")) == 2


def test_overlapping_zones_are_listed(toy):
    zones = gpd.GeoDataFrame(
        {"name": ["A", "B"], "start": pd.NaT, "description": ""},
        geometry=[box(0, 0, 600, 600), box(400, 400, 900, 900)],
        crs=CRS,
    )
    layers = Layers(toy.boundary, toy.districts, None, zones)
    a = assign(pts([(500, 500), (800, 800), (100, 100)]), layers)
    assert a["zone"].tolist() == ["A", "B", "A"]
    assert a["zones"].tolist() == ["A;B", "B", "A"]


def test_rings_exclude_every_zone(toy):
    (r,) = ring_polygons(toy.zones, 100, toy.study_area)
    # a 400 m square with rounded corners (radius 100 m), minus the 200 m zone
    assert r.area == pytest.approx(400**2 - (4 - np.pi) * 100**2 - 200**2, rel=1e-3)
    with pytest.raises(InputError, match="positive"):
        ring_polygons(toy.zones, -5)


def test_same_answer_as_sjoin_on_st_louis(layers):
    rng = np.random.default_rng(0)
    xmin, ymin, xmax, ymax = layers.boundary.total_bounds
    n = 20_000
    inc = pts(np.column_stack([rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)]))
    a = assign(inc, layers)
    for layer, col in ((layers.districts, "district"), (layers.neighborhoods, "neighborhood")):
        j = gpd.sjoin(inc, layer[[col, "geometry"]], predicate="intersects", how="left")
        j = j[~j.index.duplicated(keep="first")]
        want = j[col].astype("Int64")
        if col == "district":  # in the city, in no district: the nearest within reach
            from impactzones.core.defaults import DISTRICT_REACH

            near = gpd.sjoin_nearest(inc, layer[[col, "geometry"]], how="left",
                                     max_distance=DISTRICT_REACH.default)  # fmt: skip
            near = near[~near.index.duplicated(keep="first")][col].astype("Int64")
            city = inc.geometry.intersects(layers.study_area).to_numpy()
            gap = want.isna().to_numpy() & city
            assert 0 < gap.sum() and near[gap].notna().sum() > 0  # the case is tested
            want[gap] = near[gap]
        assert (a[col].astype("Int64").fillna(-1).to_numpy() == want.fillna(-1).to_numpy()).all()
    z = gpd.sjoin(inc, layers.zones[["name", "geometry"]], predicate="intersects", how="left")
    assert (a["zone"].to_numpy() == z["name"].fillna("").to_numpy()).all()


def test_crs_mismatch_is_an_error(toy):
    inc = pts([(1, 1)]).to_crs("EPSG:4326")
    with pytest.raises(InputError, match="CRS"):
        assign(inc, toy)


def test_locate_empty_and_count_table(toy):
    assert locate(np.array([]), np.array([]), [box(0, 0, 1, 1)]).shape == (0,)
    inc = assign(pts([(500, 500), (1500, 500), (1500, 600)]), toy)
    inc.loc[2, "occurred_at"] = pd.Timestamp("2019-05-01")
    c = count_incidents(inc, by=["year", "district"])
    assert c.to_dict("list") == {
        "year": [2018, 2018, 2019, 2019],
        "district": [1, 2, 1, 2],
        "count": [1, 1, 0, 1],
    }
    with pytest.raises(InputError):
        count_incidents(inc, by=["nope"])


def test_raster_index_gives_the_exact_answer_edges_included(layers):
    """The fast path for large inputs agrees with exact tests, also on shared edges."""
    from impactzones.core.geometry import GRID_MIN_POINTS, _locate_exact

    polys = list(layers.neighborhoods.geometry)
    rng = np.random.default_rng(1)
    xmin, ymin, xmax, ymax = layers.boundary.total_bounds
    n = GRID_MIN_POINTS + 5000
    x, y = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
    # vertices of the polygons: points exactly on shared edges and corners
    import shapely

    verts = shapely.get_coordinates(shapely.boundary(polys))[:: 7]
    x = np.concatenate([x, verts[:, 0]])
    y = np.concatenate([y, verts[:, 1]])
    fast = locate(x, y, polys)
    exact = _locate_exact(x, y, polys, np.arange(len(x)))
    assert (fast == exact).all()
    assert (exact[n:] >= 0).all()  # every vertex is in some neighborhood

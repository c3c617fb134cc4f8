"""The bundled St. Louis layers: valid, consistent, in WGS 84, shipped with the package."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from impactzones.core.geo import LAYER_FILES, data_dir

UTM = 32615


@pytest.fixture(scope="module")
def raw():
    return {k: gpd.read_file(data_dir() / f) for k, f in LAYER_FILES.items()}


def test_files_are_geojson_in_wgs84(raw):
    for name, f in LAYER_FILES.items():
        doc = json.loads((data_dir() / f).read_text())
        assert doc["type"] == "FeatureCollection", name
        # RFC 7946: no crs member, or CRS84 / EPSG:4326
        crs = doc.get("crs", {}).get("properties", {}).get("name", "OGC:CRS84")
        assert "CRS84" in crs or "4326" in crs, (name, crs)
        assert raw[name].crs.to_epsg() == 4326
        lon, lat = raw[name].total_bounds[[0, 1]]
        assert -90.4 < lon < -90.1 and 38.5 < lat < 38.8


def test_geometries_valid(raw):
    for name, gdf in raw.items():
        assert gdf.is_valid.all(), name
        assert not gdf.is_empty.any(), name
        assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}, name


def test_neighborhoods_numbered_1_to_88_with_population(raw):
    nb = raw["neighborhoods"]
    assert sorted(nb["neighborhood"]) == list(range(1, 89))
    assert nb["name"].notna().all()
    # geocrime-stl's 2020 census totals sum to 301,578 with the id 99 pseudo-area (16 people)
    assert nb["population"].sum() == 301_578 - 16
    assert nb.loc[nb["neighborhood"] == 82, "name"].item() == "Forest Park"


def test_districts_tile_the_neighborhoods(raw):
    d = raw["districts"].to_crs(UTM)
    nb = raw["neighborhoods"].to_crs(UTM)
    assert sorted(d["district"]) == [1, 2, 3, 4, 5, 6]
    geoms = list(d.geometry)
    overlap = sum(geoms[i].intersection(geoms[j]).area for i in range(len(geoms)) for j in range(i))
    assert overlap < 1.0  # m^2: none, up to floating-point dust
    diff = nb.union_all().symmetric_difference(d.union_all()).area
    # equal up to the few slivers (< 100 m^2 in all, of 161 km^2) where neighborhood edges do
    # not quite meet and the districts fill the gap
    assert diff < 100.0


def test_districts_follow_the_shared_table(raw):
    table = pd.read_csv(data_dir() / "neighborhood_district.csv")
    d = raw["districts"].to_crs(UTM)
    nb = raw["neighborhoods"].to_crs(UTM)
    for row in table.itertuples():
        pt = nb.loc[nb["neighborhood"] == row.neighborhood].geometry.item().representative_point()
        assert d.loc[d.contains(pt), "district"].tolist() == [row.district], row.name


def test_zones_inside_the_city(raw):
    city = raw["boundary"].to_crs(UTM).union_all()
    z = raw["zones"].to_crs(UTM)
    assert list(z["name"]) == ["North", "Central", "South"]
    assert list(pd.to_datetime(z["start"]).dt.strftime("%Y-%m-%d")) == [
        "2018-01-01",
        "2019-01-01",
        "2019-01-01",
    ]
    assert z["description"].str.contains("illustrative").all()
    for g in z.geometry:
        assert city.contains(g)
        assert 1.0e6 < g.area < 8.0e6  # a few km^2
        assert g.geom_type == "Polygon"
    north = z.loc[z["name"] == "North"].geometry.item()
    assert north.centroid.y > city.centroid.y  # in the north end


def test_neighborhoods_lie_in_the_city(raw):
    city = raw["boundary"].to_crs(UTM).union_all()
    nb = raw["neighborhoods"].to_crs(UTM)
    outside = nb.union_all().difference(city).area
    assert outside < 0.001 * nb.area.sum()
    assert shapely.get_num_geometries(raw["boundary"].geometry).sum() >= 1


def test_readme_credits_the_sources():
    text = (data_dir() / "README.md").read_text()
    assert "geocrime-stl" in text and "MIT" in text and "illustrative" in text.lower()


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_zone_without_a_name_is_refused_by_position(tmp_path, name):
    """A null or blank zone name is refused, naming the zone's position (1-based) and file,
    instead of becoming "nan" or "None" in every table."""
    from impactzones.core.errors import InputError
    from impactzones.io.layers import read_layer

    p = tmp_path / "zones.geojson"
    gpd.GeoDataFrame({"name": ["North", name]},
                     geometry=[shapely.box(-90.25, 38.62, -90.24, 38.63),
                               shapely.box(-90.23, 38.62, -90.22, 38.63)],
                     crs=4326).to_file(p)
    with pytest.raises(InputError, match=r"^Zone 2 in zones\.geojson has no name"):
        read_layer(p, kind="zones")


def test_a_zone_projecting_to_infinity_is_refused_in_one_sentence():
    """A zone at (0, 0) degrees has no finite UTM 15N coordinates: the rings refuse it by
    name (an InputError, not a GEOSException) and check_zones calls it outside the city."""
    from impactzones.core.errors import InputError
    from impactzones.core.geo import st_louis
    from impactzones.core.geometry import ring_polygons
    from impactzones.pipeline import check_zones

    layers = st_louis()
    far = gpd.GeoDataFrame({"name": ["Far"]}, geometry=[shapely.box(0, 0, 0.01, 0.01)],
                           crs=4326).to_crs(layers.zones.crs)
    assert not all(pd.notna(far.total_bounds) & (abs(far.total_bounds) < 1e300))
    with pytest.raises(InputError, match=r"Zone.s. Far have non-finite coordinates"):
        ring_polygons(far, 400, layers.study_area)
    with pytest.raises(InputError, match="Far lie outside the study area") as by_layers:
        check_zones(far, layers.study_area)
    # the library's comparison checks them against the study area before drawing rings
    from impactzones.datasets.synth import synthesize
    from impactzones.evaluate.compare import compare_zones

    inc = synthesize(seed=1, years=[2017, 2018], scale=0.05).incidents
    with pytest.raises(InputError, match="Far lie outside the study area") as by_compare:
        compare_zones(inc, far, 2017, 2018, study_area=layers.study_area)
    assert str(by_layers.value) == str(by_compare.value)  # one check, one sentence


def test_share_inside_is_the_hand_worked_share():
    """Shares worked by hand: a 100 m square half over the city edge, one a quarter in,
    one wholly inside; a zone wholly outside is refused by name."""
    from impactzones.core.errors import InputError
    from impactzones.core.geometry import share_inside

    area = shapely.box(0, 0, 1000, 1000)
    zones = gpd.GeoDataFrame({"name": ["half", "quarter", "in"]},
                             geometry=[shapely.box(950, 0, 1050, 100),
                                       shapely.box(950, 950, 1050, 1050),
                                       shapely.box(10, 10, 20, 20)])  # fmt: skip
    assert share_inside(zones, area).tolist() == [0.5, 0.25, 1.0]
    out = gpd.GeoDataFrame({"name": ["in", "Away"]},
                           geometry=[shapely.box(10, 10, 20, 20), shapely.box(2000, 0, 2100, 9)])
    with pytest.raises(InputError, match=r"^Zone\(s\) Away lie outside the study area;"):
        share_inside(out, area)


@pytest.mark.parametrize("name, text", [
    ("words.geojson", "North Impact Zone: Natural Bridge to Goodfellow\n"),
    ("empty.geojson", ""),
    ("cut.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", "geom'),
])  # fmt: skip
def test_an_unreadable_layer_is_one_sentence_naming_the_file(tmp_path, name, text):
    """No GDAL wording (driver prefixes, '.;'), the file named, what was expected said."""
    from impactzones.core.errors import InputError
    from impactzones.io.layers import read_layer

    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(InputError) as err:
        read_layer(p, kind="zones")
    msg = str(err.value)
    assert str(p) in msg and "expected a GeoJSON, GeoPackage, Shapefile" in msg
    assert "DRIVER" not in msg and ".;" not in msg and msg.count(". ") == 0
    assert msg.endswith("polygons.")


def test_a_geographic_crs_given_for_metres_is_refused(tmp_path):
    """--crs EPSG:4326 for a shapefile without .prj whose coordinates are UTM metres (a
    square 1 km wide near St. Louis): refused in one sentence naming --crs and the file."""
    import warnings

    from impactzones.core.errors import InputError
    from impactzones.io.layers import read_layer

    p = tmp_path / "zones.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(740000, 4285000, 741000, 4286000)]
                         ).to_file(p)  # fmt: skip
    with pytest.raises(InputError, match=r"^--crs EPSG:4326 says longitude/latitude.*zones\.shp"):
        read_layer(p, kind="zones", crs="EPSG:4326")
    z = read_layer(p, kind="zones", crs="EPSG:26915")  # the right one: 1 km^2
    assert round(float(z.to_crs(26915).area.iloc[0])) == 1_000_000


def test_a_basemap_of_streets_is_read_and_a_bad_one_refused_before_any_output(tmp_path):
    """``--basemap`` is a line layer (streets): its lines are read as they are (they were
    refused as "must hold polygons"), and a basemap that cannot be read is refused in one
    sentence before the demo writes any file (it used to fail at the maps, after ~40)."""
    from shapely.geometry import LineString

    from impactzones.core.errors import InputError
    from impactzones.core.geo import st_louis
    from impactzones.io.layers import read_layer
    from impactzones.pipeline import run_demo

    layers = st_louis()
    x0, y0, x1, y1 = layers.boundary.total_bounds
    streets = gpd.GeoDataFrame({"name": ["Grand Blvd"]}, geometry=[LineString([(x0, y0), (x1, y1)])],
                               crs=layers.crs).to_crs(4326)  # fmt: skip
    streets.to_file(tmp_path / "streets.geojson", driver="GeoJSON")
    back = read_layer(tmp_path / "streets.geojson", kind="basemap", work_crs=layers.crs)
    assert list(back["name"]) == ["Grand Blvd"] and back.geom_type.tolist() == ["LineString"]
    out = tmp_path / "out"
    with pytest.raises(InputError, match="basemap"):
        run_demo(out, basemap=tmp_path / "missing.geojson", scale=0.05, parallel=False)
    assert not out.exists() or not any(out.iterdir())

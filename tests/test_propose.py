"""Proposing zones: the planted truth, hand-worked PAI/PEI/RRI, and constraints that
always hold."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impactzones.core.errors import InputError
from impactzones.propose import (
    COMPACT,
    HINDSIGHT,
    HINDSIGHT_ZONES,
    NAIVE,
    RANDOM,
    Proposals,
    backtest,
    best_hits,
    capture_curve,
    capture_table,
    compact_baseline,
    naive_cells,
    pai,
    propose_zones,
    random_placements,
    rri,
)

CRS = "EPSG:32615"


@pytest.fixture(scope="module")
def proposals(synth, layers):
    north = layers.zones[layers.zones["name"] == "North"]
    return propose_zones(synth.incidents, period=2018, k=2, exclude=north, layers=layers)


def test_recovers_the_planted_central_and_south_hot_spots(proposals, synth, layers):
    hs = synth.hotspots
    central = hs[(hs["zone"] == "Central") & (hs["group"] == "violent")].geometry
    south = hs[(hs["zone"] == "South") & (hs["group"] == "violent")].geometry
    covers_central = [any(g.contains(c) for c in central) for g in proposals.geometry]
    covers_south = [any(g.contains(c) for c in south) for g in proposals.geometry]
    # each proposal covers one of the two, and between them they cover both
    assert sorted(zip(covers_central, covers_south, strict=True)) == [(False, True),
                                                                      (True, False)]
    zones = layers.zones.set_index("name")
    overlap = {z: max(g.intersection(zones.loc[z, "geometry"]).area for g in proposals.geometry)
               / min(zones.loc[z, "geometry"].area, proposals.area.max())
               for z in ("Central", "South")}
    assert all(v > 0.5 for v in overlap.values()), overlap


def test_proposals_beat_the_naive_baseline_in_2019(proposals, synth, layers):
    north = layers.zones[layers.zones["name"] == "North"]
    bt = backtest(proposals, synth.incidents, period=2019, existing=north, layers=layers)
    bt = bt.set_index("name")
    ours = bt.loc["all proposals"]
    naive = bt.loc[NAIVE]
    assert ours["area_km2"] == pytest.approx(naive["area_km2"], rel=0.02)
    assert ours["pai"] > naive["pai"]
    assert 0 < ours["pei"] <= 1 and 0 < naive["pei"] <= 1


def test_candidate_attributes(proposals, synth, layers):
    p = proposals
    assert list(p["rank"]) == [1, 2] and list(p["name"]) == ["Proposal A", "Proposal B"]
    assert (p["per_km2"].diff().dropna() <= 0).all()  # ranked by incidents per km^2
    v = synth.incidents[(synth.incidents["group"] == "violent")
                        & (synth.incidents["occurred_at"].dt.year == 2018)]
    for r in p.itertuples():
        inside = v[v.intersects(r.geometry)]
        assert r.incidents == len(inside)
        assert r.share == pytest.approx(len(inside) / len(v))
        assert r.pai == pytest.approx(r.share / (r.area_km2 / (layers.land.area / 1e6)))
        assert r.summary.startswith(f"{r.name}, {r.area_km2:.2f} km^2")
        assert "Gravois Park" in r.neighborhoods or "Jeff Vanderlou" in r.neighborhoods \
            or "Dutchtown" in r.neighborhoods
        assert r.districts
        g = r.geometry
        assert g.geom_type == "Polygon" and len(g.interiors) == 0 and g.is_valid
        # compact: no slivers or stairs (isoperimetric quotient of a rounded shape)
        assert 4 * np.pi * g.area / g.length**2 > 0.4


def test_hand_worked_pai_pei_rri():
    assert pai(20, 100, 2.0, 100.0) == pytest.approx(10.0)
    assert np.isnan(pai(1, 0, 1.0, 10.0))
    assert rri(20, 25, 100, 120) == pytest.approx(0.96)
    counts = np.array([[5, 0, 3], [3, 1, 0]])
    # the best two cells held 5 + 3 = 8, whichever of the two 3s is taken
    assert best_hits(counts, 2) == 8
    # baseline ties are broken by cell order, not by the future
    before = np.array([[2, 0, 2], [2, 1, 0]])
    cells = naive_cells(before, np.ones_like(before, bool), 2)
    assert cells.tolist() == [[True, False, True], [False, False, False]]


def test_backtest_on_a_hand_made_city():
    crs = CRS
    # 10 x 10 km city, one 1 km^2 proposal; the next period holds 30 of 100 incidents there
    pts_in = [(500 + i, 500 + i) for i in range(30)]
    pts_out = [(5000 + 10 * i, 5000) for i in range(70)]
    before_in = [(600 + i, 600) for i in range(10)]
    before_out = [(7000 + i, 7000) for i in range(40)]
    xy_ = pts_in + pts_out + before_in + before_out
    dates = ["2019-06-01"] * 100 + ["2018-06-01"] * 50
    inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(dates), "group": "violent",
                            "category": "robbery"},
                           geometry=gpd.points_from_xy(*zip(*xy_, strict=True)), crs=crs)
    prop = gpd.GeoDataFrame({"name": ["P"]}, geometry=[shapely.box(0, 0, 1000, 1000)], crs=crs)
    bt = backtest(prop, inc, period=2019, before=2018,
                  study_area=shapely.box(0, 0, 10_000, 10_000), cell_size=1000)
    row = bt.set_index("name").loc["P"]
    assert row["hits"] == 30 and row["hit_rate"] == pytest.approx(0.30)
    assert row["pai"] == pytest.approx(0.30 / 0.01)
    # the best 1 km^2 cell in 2019 held the other 70 (they sit within 700 m of each other):
    # the best PAI is 0.70 / 0.01, so PEI = 30 / 70
    assert row["pei"] == pytest.approx(30 / 70)
    assert row["rri"] == pytest.approx((30 / 10) / (100 / 50))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), k=st.one_of(st.none(), st.integers(1, 3)),
       max_area=st.floats(0.6, 4.0), gap=st.floats(0, 600),
       budget=st.one_of(st.none(), st.floats(0.3, 6.0)))
def test_constraints_always_hold(seed, k, max_area, gap, budget):
    rng = np.random.default_rng(seed)
    city = shapely.box(0, 0, 8000, 8000).difference(shapely.box(6000, 0, 8000, 2500))
    centres = rng.uniform(800, 7200, (5, 2))
    pts = np.vstack([c + rng.normal(0, 250, (150, 2)) for c in centres]
                    + [rng.uniform(0, 8000, (300, 2))])
    pts = pts[shapely.contains_xy(city, pts[:, 0], pts[:, 1])]
    n = len(pts)
    inc = gpd.GeoDataFrame({"occurred_at": [pd.Timestamp("2018-05-01")] * n,
                            "group": ["violent"] * n, "category": ["robbery"] * n},
                           geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=CRS)
    existing = gpd.GeoDataFrame({"name": ["E"]}, geometry=[
        shapely.Point(*centres[0]).buffer(500)], crs=CRS)
    min_area = min(0.3, max_area)
    try:
        p = propose_zones(inc, period=2018, k=k, max_area_km2=max_area, min_area_km2=min_area,
                          exclude=existing, study_area=city, gap=gap, cell_size=100,
                          threshold=0.5, budget_km2=budget)
    except InputError:
        return  # nothing fits (or neither k nor a budget): an honest answer
    assert 1 <= len(p) <= (k or np.inf)
    if budget is not None:  # the zones together stay within the patrol budget
        assert p.area.sum() <= budget * 1e6 * (1 + 1e-6)
    for g in p.geometry:
        assert g.geom_type == "Polygon" and g.is_valid
        assert min_area * 1e6 * (1 - 1e-6) <= g.area <= max_area * 1e6 * (1 + 1e-6)
        assert city.buffer(1e-6).covers(g)
        assert g.distance(existing.geometry.iloc[0]) >= gap * (1 - 3.1e-4) - 1e-6
    geoms = list(p.geometry)
    for i in range(len(geoms)):
        for j in range(i):
            # 0.1 mm: the clipping of one outline against the next one's buffer
            assert geoms[i].distance(geoms[j]) >= gap * (1 - 3.1e-4) - 1e-4


def test_snap_to_neighborhoods_keeps_the_constraints(synth, layers):
    north = layers.zones[layers.zones["name"] == "North"]
    p = propose_zones(synth.incidents, period=2018, k=1, exclude=north, layers=layers,
                      snap="neighborhoods", max_area_km2=4.0, min_area_km2=0.5)
    g = p.geometry.iloc[0]
    assert 0.5e6 <= g.area <= 4.0e6
    assert "snapped" in p["params"].iloc[0]


def test_bad_settings_fail_clearly(synth, layers):
    with pytest.raises(InputError, match="min_area"):
        propose_zones(synth.incidents, period=2018, max_area_km2=1, min_area_km2=2,
                      layers=layers)
    with pytest.raises(InputError, match="method"):
        propose_zones(synth.incidents, period=2018, method="magic", layers=layers)
    with pytest.raises(InputError, match="too few"):
        propose_zones(synth.incidents, period=2030, layers=layers)


def test_rolling_backtest_over_years(synth, layers):
    from impactzones.propose import rolling_backtest

    north = layers.zones[layers.zones["name"] == "North"]
    rb = rolling_backtest(synth.incidents, [2015, 2016, 2017], exclude=north, layers=layers)
    ours = rb[rb["set"] == "proposals"].set_index("year")["pai"]
    naive = rb[rb["name"] == NAIVE].set_index("year")["pai"]
    compact = rb[rb["name"] == COMPACT].set_index("year")["pai"]
    assert (ours > compact).all()
    assert (ours > 1).all()
    assert (ours >= naive).sum() >= 2  # compact cores hold up better than last year's cells
    from impactzones.propose import Backtest, RollingBacktest

    assert isinstance(rb, RollingBacktest) and rb.params["years"] == [2015, 2016, 2017]
    assert all(isinstance(rb.backtests[y], Backtest) for y in (2015, 2016, 2017))
    full = rb.backtests[2016].set_index("name").loc["all proposals", "pai"]
    assert ours[2016] == pytest.approx(full)


@pytest.fixture(scope="module")
def real(real_incidents_dir, layers):
    from impactzones.io import read_incidents

    return read_incidents(real_incidents_dir, study_area=layers.study_area,
                          work_crs=layers.crs).incidents


def test_real_exports_tuning_period(real, layers):
    """The defaults were chosen on 2017 -> 2018 (and the half-years inside it): there they
    reach 0.85 of the naive cells' PAI at the same area."""
    north = layers.zones[layers.zones["name"] == "North"]
    p = propose_zones(real, period=2017, exclude=north, layers=layers)
    bt = backtest(p, real, period=2018, existing=north, layers=layers, draws=20)
    bt = bt.set_index("name")
    row = bt.loc["all proposals"]
    assert row["pai"] >= 0.8 * bt.loc[NAIVE, "pai"]
    assert 0 < row["pei"] <= 1 and 0.5 < row["rri"] < 2


def test_real_exports_held_out_2019(real, layers):
    """Held out (never tuned on): 2018 -> 2019. The micro-place proposals (29 hot spots of
    at least 3 times the city's density, 4.0 km^2) reach the issue's target, 60% of the
    naive cells' PAI at the same area (0.71 when the frozen design was run once; 0.70
    before the hot-spot floor), and beat the compact naive discs, random placements and the
    existing zone."""
    north = layers.zones[layers.zones["name"] == "North"]
    p = propose_zones(real, period=2018, exclude=north, layers=layers)
    assert p.area.sum() <= 4.0e6 * (1 + 1e-6) and (p.area <= 3.0e6 * (1 + 1e-6)).all()
    bt = backtest(p, real, period=2019, existing=north, layers=layers, draws=50)
    bt = bt.set_index("name")
    ours = bt.loc["all proposals", "pai"]
    assert ours >= 0.6 * bt.loc[NAIVE, "pai"]
    assert ours > bt.loc[COMPACT, "pai"]
    assert ours > bt.loc["all existing zones", "pai"]
    assert ours > 3 * bt.loc[RANDOM, "pai"]
    assert (p["pai"] >= 3).all()


def test_random_placements_of_uniform_crime_have_pai_near_one():
    """Independent truth: with crime spread uniformly, any placement's expected PAI is 1."""
    rng = np.random.default_rng(5)
    city = shapely.box(0, 0, 10_000, 10_000)
    pts = rng.uniform(0, 10_000, (20_000, 2))
    inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime(["2018-06-01", "2019-06-01"] * 10_000),
                            "group": "violent", "category": "robbery"},
                           geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=CRS)
    prop = gpd.GeoDataFrame({"name": ["P"]}, geometry=[shapely.box(0, 0, 800, 800)], crs=CRS)
    bt = backtest(prop, inc, period=2019, before=2018, study_area=city, draws=200)
    rand = bt.set_index("name").loc[RANDOM]
    assert rand["pai"] == pytest.approx(1.0, abs=0.1)
    draws = random_placements([shapely.box(0, 0, 800, 800)], city, n=50, seed=1)
    assert all(city.contains(d[0].centroid) for d in draws)
    assert all(d[0].area == pytest.approx(640_000) for d in draws)


def test_compact_baseline_takes_the_densest_cells_in_turn():
    from impactzones.core.grid import make_grid

    city = shapely.box(0, 0, 5000, 5000)
    g = make_grid(city, CRS, 100)
    c = np.zeros(g.shape)
    c[10, 10], c[12, 12], c[40, 40] = 9, 8, 5  # the second is too close to the first
    discs = compact_baseline(c, g, g.mask, [0.1, 0.1], city, gap=100)
    assert [round(d.centroid.x) for d in discs] == [1050, 4050]
    assert all(d.area == pytest.approx(1e5, rel=1e-3) for d in discs)
    assert discs[0].distance(discs[1]) > 100


def test_capture_curve_is_bounded_by_hindsight(synth, layers):
    north = layers.zones[layers.zones["name"] == "North"]
    cc = capture_curve(synth.incidents, period=2019, before=2018, existing=north,
                       layers=layers, max_share=0.03, draws=5)
    assert set(cc["strategy"]) >= {"proposals", "compact naive", "random placements",
                                   "naive top cells", HINDSIGHT, HINDSIGHT_ZONES}
    assert (cc["area_share"] <= 0.03 + 1e-9).all() and (cc["capture"].between(0, 1)).all()
    table = capture_table(cc, shares=(0.01, 0.02)).set_index("strategy")
    # no strategy beats hindsight (the period's own top cells) at any area
    assert (table.drop(index=HINDSIGHT) <= table.loc[HINDSIGHT] + 1e-9).all().all()
    # hindsight at 1% of the city, worked out independently from the raw points
    v = synth.incidents
    v = v[(v["group"] == "violent") & (v["occurred_at"].dt.year == 2019)]
    v = v[v.within(layers.land)]
    cells = np.floor(np.c_[v.geometry.x, v.geometry.y] / 100).astype(int)
    per_cell = np.sort(pd.Series(map(tuple, cells)).value_counts().to_numpy())[::-1]
    n = int(round(0.01 * layers.land.area / 1e4))
    best = per_cell[:n].sum() / len(v)
    assert table.loc[HINDSIGHT, "capture_at_1%"] == pytest.approx(best, abs=0.01)


def test_solidity_closes_the_inlets_of_an_l_shaped_hot_spot():
    """Crime along two streets meeting at a corner: the default zone follows the L; with
    solidity 0.9 it fills at least 90% of its convex hull (no exclusions to clip it)."""
    rng = np.random.default_rng(3)
    city = shapely.box(0, 0, 6000, 6000)
    arm1 = np.c_[rng.uniform(2000, 3500, 600), rng.normal(2000, 40, 600)]
    arm2 = np.c_[rng.normal(2000, 40, 600), rng.uniform(2000, 3500, 600)]
    pts = np.vstack([arm1, arm2, rng.uniform(0, 6000, (400, 2))])
    inc = gpd.GeoDataFrame({"occurred_at": [pd.Timestamp("2018-05-01")] * len(pts),
                            "group": "violent", "category": "robbery"},
                           geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=CRS)
    kw = dict(period=2018, k=1, study_area=city, min_area_km2=0.4, max_area_km2=3.0,
              threshold=0.2)
    plain = propose_zones(inc, **kw).geometry.iloc[0]
    solid = propose_zones(inc, solidity=0.9, **kw).geometry.iloc[0]
    assert plain.area / plain.convex_hull.area < 0.8
    assert solid.area / solid.convex_hull.area >= 0.9 - 1e-9
    assert 0.4e6 * (1 - 1e-6) <= solid.area <= 3.0e6 * (1 + 1e-6)


def test_proposals_are_a_typed_result_that_round_trips(proposals, tmp_path):
    """The result carries its settings and period as attributes (not in ``attrs``), and
    its zones survive a file round-trip with their figures."""
    assert isinstance(proposals, Proposals)
    assert proposals.params["k"] == 2 and proposals.params["gap_m"] == 400.0
    assert proposals.window.label == "2018" and proposals.map_layer == "proposals"
    back = gpd.read_file(proposals.to_file(tmp_path / "p.gpkg"))
    gdf = proposals.to_geodataframe()
    assert list(back["name"]) == list(gdf["name"])
    assert np.allclose(back.area, gdf.area, rtol=1e-9)
    table = pd.read_csv(proposals.to_file(tmp_path / "p.csv"))
    assert table["incidents"].tolist() == gdf["incidents"].tolist()


def test_old_land_keyword_still_works_with_a_future_warning():
    city = shapely.box(0, 0, 1000, 1000)
    with pytest.warns(FutureWarning, match="study_area"):
        old = random_placements([shapely.box(0, 0, 10, 10)], land=city, n=2, seed=3)
    new = random_placements([shapely.box(0, 0, 10, 10)], city, n=2, seed=3)
    assert [g[0].wkt for g in old] == [g[0].wkt for g in new]


def test_history_prefers_the_place_that_stayed_hot_over_last_years_spike():
    """Planted truth: spot S is hot in 2017 and 2018, spot P only in 2018 (a spike, with a
    few more incidents than S in 2018). Alone, 2018 puts the first zone on P; with one
    earlier year on the surface (the default), on S."""
    rng = np.random.default_rng(7)
    city = shapely.box(0, 0, 8000, 8000)
    stable, spike = np.array([2000.0, 2000.0]), np.array([6000.0, 6000.0])

    def spot(centre, n, year):
        xy_ = centre + rng.normal(0, 120, (n, 2))
        return xy_, [pd.Timestamp(f"{year}-06-01")] * n

    parts = [spot(stable, 80, 2017), spot(stable, 80, 2018), spot(spike, 100, 2018)]
    parts.append((rng.uniform(0, 8000, (400, 2)), [pd.Timestamp("2018-03-01")] * 400))
    pts = np.vstack([p[0] for p in parts])
    when = [t for p in parts for t in p[1]]
    inc = gpd.GeoDataFrame(
        {"occurred_at": when, "group": "violent", "category": "robbery"},
        geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]),
        crs=CRS,
    )
    kw = dict(period=2018, k=1, study_area=city)
    alone = propose_zones(inc, history=0, **kw).geometry.iloc[0]
    both = propose_zones(inc, **kw).geometry.iloc[0]
    assert alone.contains(shapely.Point(*spike)) and not alone.contains(shapely.Point(*stable))
    assert both.contains(shapely.Point(*stable)) and not both.contains(shapely.Point(*spike))
    # the zone's own figures stay the proposal period's: 2018 incidents only
    p = propose_zones(inc, **kw)
    shapely.prepare(both)
    in2018 = inc[inc["occurred_at"].dt.year == 2018]
    assert p["incidents"].iloc[0] == int(shapely.contains_xy(both, in2018.geometry.x, in2018.geometry.y).sum())


def test_real_half_years_chose_the_history(real, layers):
    """The tuning evidence for ``history=1`` (2017-2018 only, never 2019): on the rolling
    half-year backtests the surface with the half-year before beats the period alone.
    Run as it was tuned, before the least count per zone existed (``min_incidents=1``):
    the default of 5 drops one 4-incident zone of the second half-year (0.846 -> 0.834)."""
    north = layers.zones[layers.zones["name"] == "North"]
    halves = [
        ("2017-07-01:2017-12-31", "2018-01-01:2018-06-30"),
        ("2018-01-01:2018-06-30", "2018-07-01:2018-12-31"),
    ]
    for before, after in halves:
        ratio = {}
        for h in (0, 1):
            p = propose_zones(real, period=before, exclude=north, layers=layers, history=h,
                              min_incidents=1)
            bt = backtest(p, real, period=after, existing=north, layers=layers, draws=1)
            bt = bt.set_index("name")
            ratio[h] = bt.loc["all proposals", "pai"] / bt.loc[NAIVE, "pai"]
        assert ratio[1] > ratio[0] + 0.05, (before, ratio)
        assert ratio[1] >= 0.6, (before, ratio)


def test_periods_travel_as_columns_and_survive_a_file_round_trip(proposals, synth, layers,
                                                                  tmp_path):
    """Issue 11: nothing a later step needs travels in DataFrame.attrs. The backtest read
    back from CSV still knows its periods, and proposals read back from a file can be
    backtested without saying the period again (2018 -> 2019, as proposed)."""
    north = layers.zones[layers.zones["name"] == "North"]
    bt = backtest(proposals, synth.incidents, period=2019, existing=north, layers=layers,
                  draws=5)
    assert not bt.attrs and not proposals.zones.attrs
    back = pd.read_csv(bt.to_csv(tmp_path / "bt.csv") or tmp_path / "bt.csv")
    assert (back["period"].astype(str) == "2019").all() and (back["before"] == 2018).all()
    inc = synth.incidents
    expected = int((inc["occurred_at"].dt.year.eq(2019) & inc["group"].eq("violent")).sum())
    assert (back["period_incidents"] == expected).all()
    again = gpd.read_file(proposals.to_file(tmp_path / "p.gpkg"))
    bt2 = backtest(again, synth.incidents, period=2019, existing=north, layers=layers,
                   draws=5)
    mine = bt2[bt2["set"] == "proposals"]["hits"].tolist()
    assert mine == bt[bt["set"] == "proposals"]["hits"].tolist()


def test_backtest_and_capture_curve_are_result_objects(proposals, synth, layers, tmp_path):
    """Issue 15: the backtest and the capture curve follow the results' interface (params,
    to_geodataframe / to_frame, to_file) and still read as their tables."""
    from impactzones.core.results import Result
    from impactzones.propose import Backtest, CaptureCurve

    north = layers.zones[layers.zones["name"] == "North"]
    bt = backtest(proposals, synth.incidents, period=2019, existing=north, layers=layers,
                  draws=3)
    assert isinstance(bt, Backtest) and isinstance(bt, Result)
    assert bt.params["draws"] == 3 and bt.period.label == "2019" and bt.before.label == "2018"
    gdf = bt.to_geodataframe().set_index("name")
    # the naive row scored the top cells: whole 100 m cells, as many as the proposals' area
    naive = gdf.loc[NAIVE]
    n_cells = round(proposals.area.sum() / 1e4)
    assert naive.geometry.area == pytest.approx(n_cells * 1e4, rel=1e-6)
    assert naive["area_km2"] == pytest.approx(n_cells / 100, rel=1e-6)
    assert gdf.loc[RANDOM].geometry is None  # a mean over draws has no one shape
    # still a table for old callers, and the CSV is the table as before
    assert bt.set_index("name").loc["all proposals", "pai"] == bt.table.iloc[len(proposals)]["pai"]
    back = pd.read_csv(bt.to_file(tmp_path / "bt.csv"))
    assert back["hits"].tolist() == bt["hits"].tolist()
    shapes = gpd.read_file(bt.to_file(tmp_path / "bt.gpkg"))
    assert len(shapes) == len(bt)

    cc = capture_curve(synth.incidents, period=2019, before=2018, existing=north,
                       layers=layers, max_share=0.02, draws=2)
    assert isinstance(cc, CaptureCurve) and cc.params["max_share"] == 0.02
    assert cc.params["proposals"]["budget_km2"] == pytest.approx(0.02 * layers.land.area / 1e6)
    again = pd.read_parquet(cc.to_file(tmp_path / "cc.parquet"))
    assert np.allclose(again["capture"], cc["capture"])
    with pytest.raises(InputError, match="csv"):
        cc.to_file(tmp_path / "cc.gpkg")


def test_the_budget_goes_to_many_micro_places_when_crime_sits_at_addresses():
    """Planted truth: 16 hot addresses (each a 40 m cluster, hot in 2017 and 2018) far
    apart in a city with background crime. Within a 2 km^2 budget the default micro-place
    zones cover at least 14 of them, and their total area keeps to the budget; eight
    zones of at least 0.5 km^2 (the old default) can hold at most 8 at half the capture."""
    rng = np.random.default_rng(11)
    city = shapely.box(0, 0, 12_000, 12_000)
    centres = np.array([(1500 + 3000 * i, 1500 + 3000 * j) for i in range(4) for j in range(4)],
                       float)
    parts, years = [], []
    for y in (2017, 2018):
        spots = np.vstack([c + rng.normal(0, 40, (25, 2)) for c in centres])
        back = rng.uniform(0, 12_000, (2000, 2))
        parts += [spots, back]
        years += [y] * (len(spots) + len(back))
    pts = np.vstack(parts)
    inc = gpd.GeoDataFrame({"occurred_at": pd.to_datetime([f"{y}-06-01" for y in years]),
                            "group": "violent", "category": "robbery"},
                           geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=CRS)
    p = propose_zones(inc, period=2018, study_area=city, budget_km2=2.0)
    covered = [any(g.contains(shapely.Point(c)) for g in p.geometry) for c in centres]
    assert sum(covered) >= 14, sum(covered)
    assert p.area.sum() <= 2.0e6 * (1 + 1e-6) and (p.area >= 0.05e6 * (1 - 1e-6)).all()
    old = propose_zones(inc, period=2018, study_area=city, k=8, min_area_km2=0.5,
                        threshold=0.6, budget_km2=None)
    old_cover = sum(any(g.contains(shapely.Point(c)) for g in old.geometry) for c in centres)
    assert old_cover <= 8
    assert old["incidents"].sum() / old.area.sum() < 0.5 * p["incidents"].sum() / p.area.sum()


def test_real_half_years_chose_the_micro_places(real, layers):
    """The tuning evidence for the micro-place defaults (2017-2018 only, never 2019): on
    both rolling half-year backtests and on 2017 -> 2018, zones grown from 0.05 km^2 with
    threshold 0.5 within a 4 km^2 budget beat the eight 0.5 km^2 zones of the last round
    at the same total area."""
    north = layers.zones[layers.zones["name"] == "North"]
    splits = [
        ("2017-07-01:2017-12-31", "2018-01-01:2018-06-30"),
        ("2018-01-01:2018-06-30", "2018-07-01:2018-12-31"),
        (2017, 2018),
    ]
    old = dict(k=8, min_area_km2=0.5, threshold=0.6, budget_km2=None)
    for before, after in splits:
        ratio = {}
        for name, kw in (("new", {}), ("old", old)):
            p = propose_zones(real, period=before, exclude=north, layers=layers, **kw)
            bt = backtest(p, real, period=after, existing=north, layers=layers, draws=1)
            bt = bt.set_index("name")
            assert bt.loc["all proposals", "area_km2"] == pytest.approx(4.0, abs=0.1)
            ratio[name] = bt.loc["all proposals", "pai"] / bt.loc[NAIVE, "pai"]
        assert ratio["new"] > ratio["old"] + 0.05, (before, ratio)
        assert ratio["new"] >= 0.8, (before, ratio)


def test_zone_names_stay_unique_past_z():
    from impactzones.propose.zones import _letters

    names = [_letters(i) for i in range(800)]
    assert names[:3] == ["A", "B", "C"] and names[25:28] == ["Z", "AA", "AB"]
    assert names[701:703] == ["ZZ", "AAA"] and len(set(names)) == 800


def test_the_capture_curve_at_a_budget_is_what_that_budget_proposes(synth, layers):
    """The curve adds the zones in the order they were grown, so its first zones are the
    proposals a smaller budget gives (all but the last, which that budget shrinks to fit):
    the same shapes, the same areas."""
    north = layers.zones[layers.zones["name"] == "North"]
    cc = capture_curve(synth.incidents, period=2019, before=2018, existing=north,
                       layers=layers, max_share=0.03, draws=1, hindsight_zones=False)
    assert HINDSIGHT_ZONES not in set(cc["strategy"])
    small = propose_zones(synth.incidents, period=2018, exclude=north, layers=layers,
                          budget_km2=2.0)
    grown = [small.geometry.iloc[i] for i in small.meta["grown"]]
    assert sorted(small.meta["grown"]) == list(range(len(small)))
    ours = cc[cc["strategy"] == "proposals"].set_index("zones")["area_km2"]
    n = len(grown) - 1
    assert n >= 1
    assert ours.loc[n] == pytest.approx(sum(g.area for g in grown[:n]) / 1e6, rel=1e-9)
    assert ours.loc[n + 1] >= sum(g.area for g in grown) / 1e6 * (1 - 1e-9)


def _planted_city(rng, centres, per_spot=300, background=20_000, side=12_000):
    """Incidents in 2017 and 2018: ``per_spot`` in a 40 m cluster at each centre (hot both
    years) over a flat (uniform) background of ``background`` a year."""
    parts, years = [], []
    for y in (2017, 2018):
        spots = np.vstack([c + rng.normal(0, 40, (per_spot, 2)) for c in centres])
        back = rng.uniform(0, side, (background, 2))
        parts += [spots, back]
        years += [y] * (len(spots) + len(back))
    pts = np.vstack(parts)
    return gpd.GeoDataFrame({"occurred_at": pd.to_datetime([f"{y}-06-01" for y in years]),
                             "group": "violent", "category": "robbery"},
                            geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=CRS)


def test_only_the_planted_hot_spots_are_proposed_and_the_rest_of_the_budget_is_left():
    """Planted truth: 6 hot spots over a flat background. The proposals are exactly the 6
    spots (one zone on each, no filler zone on the background), far under the 4 km^2
    budget, and the result says why the budget was not spent. Without the hot-spot floor
    (min_pai=0) the budget is filled with background zones near the city's density."""
    rng = np.random.default_rng(23)
    city = shapely.box(0, 0, 12_000, 12_000)
    centres = np.array([(2000, 2000), (6000, 2500), (10_000, 2000), (2500, 9000),
                        (6000, 6500), (9500, 9500)], float)
    inc = _planted_city(rng, centres)
    p = propose_zones(inc, period=2018, study_area=city)
    on_spot = [[g.contains(shapely.Point(c)) for c in centres] for g in p.geometry]
    assert len(p) == len(centres), p[["name", "area_km2", "pai"]]
    assert all(sum(row) == 1 for row in on_spot)  # each zone holds one spot: no filler
    assert sorted(np.argmax(on_spot, axis=1)) == list(range(len(centres)))
    assert (p["pai"] >= 3).all() and p.area.sum() < 2e6
    # the floor recounted here from the points: each zone's 2018 incidents per m^2 against
    # the city's (every planted point lies in the city)
    y18 = inc[inc["occurred_at"].dt.year == 2018]
    city_density = len(y18) / city.area
    ratios = np.array([int(y18.within(g).sum()) / g.area / city_density for g in p.geometry])
    assert (ratios >= 3).all(), ratios
    assert np.allclose(ratios, p["pai"], rtol=1e-9), (ratios, p["pai"].to_numpy())
    assert p.params["stopped"] == "hot" and p.params["min_pai"] == 3
    assert "no other place has at least 3 times the city's density" in p.headline()
    filled = propose_zones(inc, period=2018, study_area=city, budget_km2=2.0, min_pai=0)
    assert len(filled) > len(centres) and filled.params["stopped"] == "budget"
    assert (filled["pai"] < 2).sum() >= 1  # the filler the floor keeps out


def test_sparse_data_gives_no_one_incident_zones():
    """Planted truth, sparse: 4 spots of 25 incidents over 150 scattered ones a year in a
    144 km^2 city. One scattered incident in a 0.05 km^2 micro-place is 12 times the city's
    density, so the density floor alone lets the budget fill with one-incident zones; the
    least count (min_incidents, 5) keeps exactly the 4 spots, each zone's count recounted
    here from the points."""
    rng = np.random.default_rng(7)
    city = shapely.box(0, 0, 12_000, 12_000)
    centres = np.array([(2000, 2000), (9000, 3000), (3000, 9500), (9500, 9000)], float)
    inc = _planted_city(rng, centres, per_spot=25, background=150)
    p = propose_zones(inc, period=2018, study_area=city)
    on_spot = [[g.contains(shapely.Point(c)) for c in centres] for g in p.geometry]
    assert len(p) == len(centres) and all(sum(row) == 1 for row in on_spot)
    in_2018 = inc[inc["occurred_at"].dt.year == 2018]
    counts = [int(in_2018.within(g).sum()) for g in p.geometry]
    assert min(counts) >= 5 and p.params["min_incidents"] == 5
    loose = propose_zones(inc, period=2018, study_area=city, min_incidents=1)
    loose_counts = [int(in_2018.within(g).sum()) for g in loose.geometry]
    assert min(loose_counts) < 5  # the chance zones the least count keeps out
    with pytest.raises(InputError, match="min_incidents must be a whole number"):
        propose_zones(inc, period=2018, study_area=city, min_incidents=2.5)


def test_the_hot_spot_floor_is_declared_checked_and_reported(synth, layers):
    from impactzones.core import defaults

    assert defaults.MIN_PAI.default == 3 and defaults.MIN_PAI.unit == "ratio"
    assert defaults.PROPOSAL_CELL_M.default == 100 and defaults.PROPOSAL_SMOOTH_M.default == 100
    with pytest.raises(InputError, match="min_pai"):
        propose_zones(synth.incidents, period=2018, layers=layers, min_pai=-1)
    with pytest.raises(InputError, match="no hot spot to propose"):
        propose_zones(synth.incidents, period=2018, layers=layers, min_pai=1e6)


def test_the_summary_lists_the_top_zones_and_sums_up_the_rest():
    """A commander's summary stays short: twelve planted spots give twelve zones; the text
    describes the first eight, sums up the other four in one line (their area and share
    counted here from the incidents) and the backtest table keeps eight proposal rows."""
    from impactzones.summaries import SUMMARY_ZONES, TextTable, proposal_summary

    rng = np.random.default_rng(29)
    centres = np.array([(1500 + 3000 * i, 1500 + 4000 * j) for i in range(4) for j in range(3)],
                       float)
    inc = _planted_city(rng, centres)
    p = propose_zones(inc, period=2017, study_area=shapely.box(0, 0, 12_000, 12_000))
    assert len(p) == 12 and SUMMARY_ZONES == 8
    bt = backtest(p, inc, period=2018, draws=2)
    blocks = proposal_summary(p, bt)
    bullets = [b for b in blocks if isinstance(b, str) and b.startswith("- ")]
    assert len(bullets) == 9 and bullets[-1].startswith("- 4 more zones (Proposal I to Proposal L)")
    y17 = inc[inc["occurred_at"].dt.year == 2017]
    rest = p.geometry.iloc[8:]
    held = sum(int(y17.within(g).sum()) for g in rest) / len(y17)
    assert f"{rest.area.sum() / 1e6:.2f} km^2 together, held {held:.1%}" in bullets[-1]
    table = next(b for b in blocks if isinstance(b, TextTable) and b.title.startswith("Backtest"))
    assert sum(row[0] == "proposals" for row in table.rows) == SUMMARY_ZONES + 1  # + the set
    assert any("The other 4 proposals' rows" in b for b in blocks if isinstance(b, str))


def test_a_place_hot_only_last_year_is_not_proposed_from_this_year():
    """Planted truth: the two-year ranking surface (history=1) still ranks a place that was
    hot in 2017 only, but in the proposal year 2018 it holds background crime: its zone
    falls below 3 times the city's density there, so it is skipped, and the three places
    hot in both years are the proposals."""
    rng = np.random.default_rng(31)
    city = shapely.box(0, 0, 12_000, 12_000)
    both = np.array([(2000, 2000), (10_000, 3000), (6000, 10_000)], float)
    inc = _planted_city(rng, both)
    gone = (6000.0, 5000.0)
    old = rng.normal(0, 40, (900, 2)) + gone
    extra = gpd.GeoDataFrame({"occurred_at": [pd.Timestamp("2017-06-01")] * len(old),
                              "group": "violent", "category": "robbery"},
                             geometry=gpd.points_from_xy(old[:, 0], old[:, 1]), crs=CRS)
    inc = pd.concat([inc, extra], ignore_index=True)
    p = propose_zones(inc, period=2018, study_area=city)
    assert not any(g.contains(shapely.Point(gone)) for g in p.geometry)
    assert len(p) == 3 and all(any(g.contains(shapely.Point(c)) for g in p.geometry) for c in both)
    loose = propose_zones(inc, period=2018, study_area=city, min_pai=0, budget_km2=0.5)
    assert any(g.contains(shapely.Point(gone)) for g in loose.geometry)  # the floor did it


def test_an_exclude_file_repeating_an_existing_zone_counts_it_once(tmp_path):
    """propose --existing North --exclude FILE, FILE holding North again (as exported from
    the bundled file) and a drawn box: North once and the box; an edited North (another
    shape under the same name) is kept under its own name. The truth is the names."""
    from shapely.geometry import box

    from impactzones.core.geo import st_louis
    from impactzones.pipeline import existing_zones

    zones = st_louis().zones
    north = zones[zones["name"] == "North"].geometry.iloc[0]

    def file(name, names, shapes):
        path = tmp_path / name  # in lon/lat, as a drawn or exported file holds it
        frame = gpd.GeoDataFrame({"name": names}, geometry=shapes, crs=zones.crs)
        frame.to_crs("EPSG:4326").to_file(path)
        return path

    again = file("again.geojson", ["North", "Drawn"], [north, box(*north.bounds).buffer(-300)])
    kept = existing_zones(zones, names="North", extra=again, crs=zones.crs)
    assert kept["name"].tolist() == ["North", "Drawn"]
    renamed = file("edited.geojson", ["Nord", "North"], [north, north.buffer(50)])
    kept = existing_zones(zones, names="North", extra=renamed, crs=zones.crs)
    assert kept["name"].tolist() == ["North", "North (edited.geojson)"]
    # the backtest then lists each existing zone once
    assert kept["name"].is_unique


def _placements_one_at_a_time(shapes, study_area, n, seed):
    """The documented rule, spelled out: for each draw and shape in turn, uniform points
    of the bounding box (x then y) until one is inside, the shape's centroid moved there
    with shapely.affinity.translate."""
    import shapely.affinity

    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = study_area.bounds
    out = []
    for _ in range(n):
        placed = []
        for g in shapes:
            while True:
                px, py = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
                if shapely.contains_xy(study_area, px, py):
                    break
            c = g.centroid
            placed.append(shapely.affinity.translate(g, px - c.x, py - c.y))
        out.append(placed)
    return out


@pytest.mark.parametrize("seed", [0, 3])
def test_random_placements_are_the_one_at_a_time_rule_to_the_last_digit(layers, seed):
    from impactzones.propose import random_placements

    shapes = [*layers.zones.geometry, shapely.MultiPolygon([shapely.box(0, 0, 9, 9),
                                                            shapely.box(20, 0, 29, 9)])]  # fmt: skip
    got = random_placements(shapes, layers.study_area, 40, seed)
    want = _placements_one_at_a_time(shapes, layers.study_area, 40, seed)
    assert [[shapely.to_wkb(g) for g in d] for d in got] == [
        [shapely.to_wkb(g) for g in d] for d in want
    ]


def test_scorer_hits_are_sjoin_counts(synth, layers):
    """Hits of scattered multi-part shapes (the bounding-box filter), against sjoin."""
    from impactzones.core.windows import parse_window
    from impactzones.propose import random_placements
    from impactzones.propose.backtests import _Scorer

    inc = synth.incidents
    sc = _Scorer(inc, parse_window(2017), parse_window(2018), "violent", None,
                 layers.study_area, 100.0)  # fmt: skip
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*sc.pts["a"]), crs=inc.crs)
    for draw in random_placements(list(layers.zones.geometry), layers.study_area, 5, 1):
        union = shapely.union_all(draw)
        shape = gpd.GeoDataFrame(geometry=[union], crs=inc.crs)
        assert sc.hits(union) == len(gpd.sjoin(pts, shape, predicate="intersects"))


def test_random_placements_of_shapes_with_heights_keep_them_as_translate_does(layers):
    """A zone drawn with heights (a PolygonZ, as some shapefiles hold): placed copies keep
    their z, as shapely.affinity.translate (the one-at-a-time rule) keeps it."""
    from impactzones.propose import random_placements

    shapes = [shapely.Polygon([(0, 0, 5), (90, 0, 5), (90, 90, 7), (0, 90, 5)]),
              shapely.box(0, 0, 50, 50)]  # fmt: skip
    got = random_placements(shapes, layers.study_area, 6, 2)
    want = _placements_one_at_a_time(shapes, layers.study_area, 6, 2)
    assert [[shapely.to_wkb(g) for g in d] for d in got] == [
        [shapely.to_wkb(g) for g in d] for d in want
    ]
    assert all(d[0].has_z for d in got)


def test_scorer_hits_on_edges_holes_and_parts_are_shapelys_intersects(synth, layers):
    """Points on an outer edge, on a hole's edge, inside a hole, on a bounding-box corner
    outside the shape, and in the second part of a multipolygon: the bounding-box filter
    counts what shapely.intersects_xy on every point counts (boundary points in)."""
    from impactzones.core.windows import parse_window
    from impactzones.propose.backtests import _Scorer

    sc = _Scorer(synth.incidents, parse_window(2017), parse_window(2018), "violent", None,
                 layers.study_area, 100.0)  # fmt: skip
    ring = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(3, 3), (6, 3), (6, 6), (3, 6)]])
    tri = shapely.Polygon([(20, 0), (30, 0), (20, 10)])
    x = np.array([0, 10, 5, 3, 4.5, 5, 30, 25, 21, 30, 20, 10.0000001, -1e-12, 4, 22])
    y = np.array([0, 5, 10, 4, 4.5, 3, 10, 5, 1, 0, 10, 5, 5, 3, 2.0])
    sc.pts = {"a": (x, y)}
    for shape in (ring, tri, shapely.MultiPolygon([ring, tri]),
                  shapely.GeometryCollection([ring, shapely.Point(25, 5)]), shapely.Polygon()):  # fmt: skip
        assert sc.hits(shape) == int(shapely.intersects_xy(shape, x, y).sum())


def test_rolling_backtest_scores_the_crimes_and_study_area_it_proposed_from():
    """rolling_backtest(group="property", study_area=...): the backtest scores the same
    crimes on the same study area as the proposals (it scored violent crime on the
    incidents' extent before). The truth: the share of next year's property incidents
    inside the proposals, counted here from the points."""
    from impactzones.propose import rolling_backtest

    rng = np.random.default_rng(41)
    city = shapely.box(0, 0, 12_000, 12_000)
    violent = _planted_city(rng, np.array([(3000.0, 3000.0)]), background=2000)
    prop = _planted_city(rng, np.array([(9000.0, 9000.0), (3000.0, 9000.0)]), background=2000)
    prop["group"], prop["category"] = "property", "larceny"
    inc = pd.concat([violent, prop], ignore_index=True)
    rb = rolling_backtest(inc, [2017], group="property", study_area=city)
    props = rb.backtests[2017]
    union = props.to_geodataframe().set_index("name").geometry["all proposals"]
    y18 = prop[prop["occurred_at"].dt.year == 2018]
    want = int(y18.intersects(union).sum()) / len(y18)
    got = rb[(rb["year"] == 2017) & (rb["name"] == "all proposals")]["hit_rate"].iloc[0]
    assert got == pytest.approx(want, rel=1e-12) and want > 0.2
    assert props.params["group"] == "property"
    assert props.params["study_area_km2"] == pytest.approx(city.area / 1e6)


def test_best_hits_curve_is_the_best_subset_of_cells_by_brute_force():
    """best_hits_curve (the backtest's PEI denominator, sorted once) against every subset
    of n cells of a small grid, for n from -1 to past the number of cells."""
    from itertools import combinations

    from impactzones.propose import best_hits_curve

    counts = np.random.default_rng(5).poisson(2.0, (2, 4))
    flat = counts.ravel().tolist()
    best = best_hits_curve(counts)
    for n in range(-1, len(flat) + 3):
        truth = max((sum(c) for c in combinations(flat, min(max(n, 0), len(flat)))), default=0)
        assert best(n) == truth == best_hits(counts, n), n


def test_grid_centres_in_is_contains_xy_on_every_centre():
    """Grid.centres_in (only the centres in the shape's box tested) against shapely's
    contains_xy on every cell centre: shapes inside, across the edge, outside, a ring with a
    hole, and a point on a centre (not contained: on the boundary of nothing)."""
    import shapely

    from impactzones.core.grid import make_grid

    g = make_grid(shapely.box(0, 0, 2000, 1500), "EPSG:32615", 100)
    rng = np.random.default_rng(5)
    shapes = [shapely.Point(rng.uniform(-500, 2500), rng.uniform(-500, 2000)).buffer(
        rng.uniform(10, 900)) for _ in range(30)]  # fmt: skip
    shapes += [shapely.box(150, 150, 450, 250), shapely.box(-100, -100, 50, 50),
               shapely.box(5000, 5000, 6000, 6000), shapely.Polygon(),
               shapely.box(0, 0, 2000, 1500).difference(shapely.box(500, 500, 900, 900)),
               shapely.box(150, 150, 150, 150)]  # fmt: skip
    cx, cy = g.centres()
    for s in shapes:
        assert np.array_equal(g.centres_in(s), shapely.contains_xy(s, cx, cy))

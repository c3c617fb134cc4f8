"""The distributed path (dask-geopandas on a real LocalCluster) against the in-memory path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask_geopandas")
pytest.importorskip("xarray")
distributed = pytest.importorskip("distributed")

import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402

from impactzones.assign import assign, count_incidents  # noqa: E402
from impactzones.core.grid import make_grid  # noqa: E402
from impactzones.cube import build_cube  # noqa: E402
from impactzones.datasets.synth import write_partitions  # noqa: E402
from impactzones.distributed import summarise_frame, summarise_parquet  # noqa: E402


def _same_count_table(counts, assigned):
    """A summary's count table is count_incidents' on the assigned rows (the reference)."""
    ref = count_incidents(assigned, by=["year", "district", "group"])
    pd.testing.assert_frame_equal(
        counts.astype({"year": "int64", "group": str}).reset_index(drop=True),
        ref.astype({"year": "int64", "group": str}).reset_index(drop=True),
        check_dtype=False,
    )


@pytest.fixture(scope="module")
def parts(tmp_path_factory, layers):
    """Three synthetic partitions; the second gets three rows the clean-up must reject."""
    folder = tmp_path_factory.mktemp("parts")
    files = write_partitions(folder, 3, seed=5, scale=0.15, years=[2017, 2018], layers=layers)
    frames = [gpd.read_parquet(f) for f in files]
    good = pd.concat(frames, ignore_index=True)
    bad = frames[1].iloc[:3].copy()
    bad["incident_id"] = ["BAD-1", "BAD-2", "BAD-3"]
    bad.loc[bad.index[0], "occurred_at"] = pd.NaT
    bad.loc[bad.index[1], "category"] = "not a crime"
    bad.loc[bad.index[1], "group"] = None
    bad.loc[bad.index[2], "geometry"] = shapely.Point(0.0, 0.0)  # far outside St. Louis
    pd.concat([frames[1], bad]).to_parquet(files[1])
    return folder, good


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def test_distributed_cube_and_tables_equal_the_in_memory_ones(parts, layers, client):
    folder, good = parts
    grid = make_grid(layers.study_area, layers.crs, 250)
    dist = summarise_parquet(folder, layers, grid=grid, client=client)
    assert len(client.scheduler_info()["workers"]) == 2
    # the in-memory path, on the rows we know are good
    ref_cube = build_cube(good, grid, study_area=layers.study_area)
    np.testing.assert_array_equal(dist.cube["count"].values, ref_cube["count"].values)
    assert dist.cube["count"].dims == ref_cube["count"].dims
    for c in ("time", "group", "x", "y"):
        np.testing.assert_array_equal(dist.cube[c].values, ref_cube[c].values)
    assigned = assign(good, layers)
    _same_count_table(dist.counts, assigned)
    ref_area = (
        assigned.groupby(
            [assigned["occurred_at"].dt.year.rename("year"), "area_type", "zone", "group"],
            dropna=False,
        )
        .size()
        .rename("count")
        .reset_index()
    )
    pd.testing.assert_frame_equal(  # the keys too, not only the counts in some order
        dist.area_counts.astype({"year": "int64"}),
        ref_area.astype({"year": "int64", "area_type": str, "zone": str, "group": str}),
        check_dtype=False,
    )
    assert dist.tally == {
        "read": len(good) + 3,
        "used": len(good),
        "rejected_by_reason": {"no_date": 1, "outside_study_area": 1, "unknown_category": 1},
    }


def test_the_in_memory_summary_equals_the_distributed_one(parts, layers, client):
    folder, good = parts
    frames = pd.concat([gpd.read_parquet(f) for f in sorted(folder.glob("*.parquet"))])
    mem = summarise_frame(frames, layers, cell_size=500, freq="day")
    dist = summarise_parquet(folder, layers, cell_size=500, freq="day", client=client)
    assert dist.cube.identical(mem.cube)
    # and both are the truth: the daily cube build_cube makes of the rows known good
    grid = make_grid(layers.study_area, layers.crs, 500)
    truth = build_cube(good, grid, study_area=layers.study_area, freq="day")
    np.testing.assert_array_equal(dist.cube["count"].values, truth["count"].values)
    np.testing.assert_array_equal(dist.cube["time"].values, truth["time"].values)
    pd.testing.assert_frame_equal(dist.counts, mem.counts)
    pd.testing.assert_frame_equal(dist.area_counts, mem.area_counts)
    assert dist.tally == mem.tally


def test_synth_partitions_from_the_command_line(tmp_path):
    from impactzones.cli import main

    out = tmp_path / "parts"
    assert main(["synth", "--out", str(out), "--partitions", "2", "--scale", "0.02",
                 "--years", "2018", "--quiet"]) == 0  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert main(["synth", "--out", str(out), "--partitions", "0", "--quiet"]) == 2


def test_a_comparison_from_the_distributed_cube_equals_one_from_the_incidents(
    parts, layers, client
):
    """The workers label every incident with its zone, ring and control area; the cube
    they reduce to compares exactly as the incidents do (every column)."""
    from impactzones.evaluate.compare import compare_zones

    folder, good = parts
    grid = make_grid(layers.study_area, layers.crs, 250)
    dist = summarise_parquet(folder, layers, grid=grid, client=client)
    kw = {"study_area": layers.study_area}
    from_cube = compare_zones(dist.cube, layers.zones, 2017, 2018, **kw)
    from_inc = compare_zones(good, layers.zones, 2017, 2018, **kw)
    pd.testing.assert_frame_equal(from_cube.table, from_inc.table)
    assert from_cube.params["source"]["membership"].startswith("exact")
    assert from_cube.params["source"]["cell_size_m"] == 250.0
    # the per-area counts are those of assign's labels (a second, independent labelling)
    assigned = assign(good, layers)
    by_zone = assigned[assigned["area_type"] == "zone"].groupby("zone").size()
    area = dist.cube["area_count"].sum(dim=["time", "group"]).to_series()
    for name, n in by_zone.items():
        assert int(area[f"zone:{name}"]) == n
    by_district = assigned.groupby("district").size()
    for d, n in by_district.items():
        assert int(area[f"district:{d}"]) == n
    by_ring = assigned[assigned["area_type"] == "ring"].groupby("ring").size()
    assert len(by_ring) == len(layers.zones)  # the St. Louis rings do not overlap
    for name, n in by_ring.items():
        assert int(area[f"ring:{name}"]) == n
    assert int(area["control"]) == int((assigned["area_type"] == "control").sum())


@pytest.fixture(scope="module")
def load_parts(tmp_path_factory, layers):
    """Partitions as ``impactzones load`` writes them: the private rows without their
    points, with the areas they were in; plus two rows with no point and no label (to
    reject). Also the same incidents with every point (the truth)."""
    from impactzones.core.geo import no_point
    from impactzones.pipeline import blank_sensitive

    folder = tmp_path_factory.mktemp("loadparts")
    raw = tmp_path_factory.mktemp("rawparts")
    files = write_partitions(raw, 2, seed=7, scale=0.1, years=[2017, 2018], layers=layers)
    points = pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)
    blanked, n = blank_sensitive(points, layers)
    assert n > 50 and int(no_point(blanked).sum()) == n
    lost = blanked[~no_point(blanked)].iloc[:2].copy()
    lost["geometry"] = shapely.Point()  # no point, no label: no_location
    lost[["district", "zone", "zones", "ring_zones", "area_type"]] = None
    cut = len(blanked) // 2
    blanked.iloc[:cut].to_parquet(folder / "part-0.parquet")
    pd.concat([blanked.iloc[cut:], lost]).to_parquet(folder / "part-1.parquet")
    return folder, points, blanked, n


def test_load_output_is_counted_by_its_kept_labels_as_in_memory(load_parts, layers, client):
    """The distributed path takes ``load``'s output: each private row without a point is
    counted in its zone, ring, control area, district and the city by its kept labels, as
    the in-memory cube counts it, and in no cell. Two independent truths: the in-memory
    cube and count tables on the same rows, and the per-area counts of the incidents with
    every point (blanking must not move a row between areas)."""
    folder, points, blanked, n = load_parts
    grid = make_grid(layers.study_area, layers.crs, 250)
    dist = summarise_parquet(folder, layers, grid=grid, client=client)
    assert len(client.scheduler_info()["workers"]) == 2
    kw = {"study_area": layers.study_area, "zones": layers.zones, "districts": layers.districts}
    mem = build_cube(blanked, grid, **kw)
    np.testing.assert_array_equal(dist.cube["count"].values, mem["count"].values)
    np.testing.assert_array_equal(dist.cube["area_count"].values, mem["area_count"].values)
    np.testing.assert_array_equal(dist.cube["area"].values, mem["area"].values)
    assert dist.cube.attrs["kept_without_point"] == mem.attrs["kept_without_point"] == n
    assert dist.cube.attrs == mem.attrs  # every row accounted for alike (span, outside...)
    # the truth with every point: the same per-area counts; the cells lack the private rows
    full = build_cube(points, grid, **kw)
    np.testing.assert_array_equal(dist.cube["area_count"].values, full["area_count"].values)
    public = build_cube(points[~blanked.geometry.is_empty.to_numpy()], grid, **kw)
    np.testing.assert_array_equal(dist.cube["count"].values, public["count"].values)
    # the count tables: as assign + count_incidents on the same rows
    assigned = assign(blanked, layers)
    _same_count_table(dist.counts, assigned)
    assert dist.tally == {
        "read": len(blanked) + 2,
        "used": len(blanked),
        "rejected_by_reason": {"no_location": 2},
        "kept_without_point": n,
    }


def test_a_real_month_loaded_with_private_rows_blanked_counts_as_with_every_point(
    real_incidents_dir, layers
):
    """A real SLMPD month as ``load`` writes it (private rows without their points): the
    summary's per-area counts are those of the same rows with every point (build_cube,
    the independent truth), its cells hold only the points kept, and its count table is
    assign + count_incidents on the rows with every point."""
    from impactzones.io import read_incidents
    from impactzones.pipeline import blank_sensitive

    month = real_incidents_dir / "2018" / "may2018.csv"
    points = read_incidents(month, study_area=layers.study_area, work_crs=layers.crs).incidents
    blanked, n = blank_sensitive(points, layers)
    assert n > 50  # the month has private rows
    grid = make_grid(layers.study_area, layers.crs, 250)
    s = summarise_frame(blanked, layers, grid=grid)
    kw = {"study_area": layers.study_area, "zones": layers.zones, "districts": layers.districts}
    full = build_cube(points, grid, **kw)
    np.testing.assert_array_equal(s.cube["area_count"].values, full["area_count"].values)
    public = build_cube(points[~blanked.geometry.is_empty.to_numpy()], grid, **kw)
    np.testing.assert_array_equal(s.cube["count"].values, public["count"].values)
    assert s.cube.attrs["kept_without_point"] == n
    _same_count_table(s.counts, assign(points, layers))

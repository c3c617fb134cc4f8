"""Hand-made files whose rows without a point carry a ``district`` label alone (no ``zones``
or ``zone`` column): counted in their district and the city, never a traceback.

The truth is written by hand: three robberies placed at a point inside a known district
(each district polygon's representative point), and private rows whose district we set.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from impactzones.assign import place_by_labels
from impactzones.cli.main import main
from impactzones.core.schema import group_of


def _frame(layers, with_points: bool = True) -> gpd.GeoDataFrame:
    """3 robberies at the representative points of districts 1, 2, 3 and 2 private rows
    (rape) with no point, labelled district 3 and district 5."""
    d = layers.districts.set_index("district")
    where = [d.loc[k, "geometry"].representative_point() for k in (1, 2, 3)]
    frame = gpd.GeoDataFrame(
        {
            "incident_id": ["a", "b", "c", "d", "e"],
            "occurred_at": pd.to_datetime(
                ["2018-01-03", "2018-02-03", "2018-03-03", "2018-03-04", "2018-04-05"]
            ),
            "category": ["robbery", "robbery", "robbery", "rape", "rape"],
            "district": [1, 2, 3, 3, 5],
        },
        geometry=[*where, shapely.Point(), shapely.Point()],
        crs=layers.crs,
    )
    return frame.assign(group=frame["category"].map(group_of))


def test_place_by_labels_takes_a_district_only_frame(layers):
    """No zones or zone column: no zone named; ring and control unknown (no ring labels)."""
    rows, in_zone, in_ring, control, inside, unknown = place_by_labels(
        _frame(layers), ["North", "South"]
    )
    assert rows.tolist() == [3, 4]
    assert in_zone.shape == (2, 2) and not in_zone.any() and not in_ring.any()
    assert not control.any() and inside.all() and unknown.all()


def test_build_cube_counts_district_only_rows_in_their_district_and_the_city(layers):
    from impactzones.cube import build_cube

    cube = build_cube(_frame(layers), study_area=layers.land, zones=layers.zones,
                      districts=layers.districts)  # fmt: skip
    counts = cube["area_count"].sum([d for d in cube["area_count"].dims if d != "area"])
    got = {str(a): int(v) for a, v in zip(counts["area"].values, counts.values, strict=True)}
    assert got["city"] == 5
    assert got["district:1"] == 1 and got["district:2"] == 1
    assert got["district:3"] == 2 and got["district:5"] == 1
    assert int(cube["count"].sum()) == 3  # only the points are in cells
    # the two private rows are in no zone, ring or control area
    areas = sum(v for a, v in got.items() if a.split(":")[0] in ("zone", "ring", "control"))
    assert areas == 3


def test_the_distributed_cleaning_keeps_district_only_rows(layers):
    pytest.importorskip("dask")
    from impactzones.distributed import clean_partition

    clean, rejects = clean_partition(_frame(layers), layers)
    assert len(clean) == 5 and dict(rejects) == {}


def test_cube_command_on_a_district_only_file(layers, tmp_path, capsys):
    """Through the CLI: exit 0 and the hand count, where it was a KeyError (exit 1)."""
    import json

    path = tmp_path / "hand.parquet"
    _frame(layers).to_parquet(path)
    code = main(["cube", str(path), "--out", str(tmp_path / "c.nc"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err and "unexpected" not in err
    data = json.loads(out)
    assert data["incidents_in_city"] == 5 and data["incidents_in_cells"] == 3
    assert np.isfinite(data["cell_size_m"])


def test_the_distributed_summary_counts_them_as_the_hand_count(layers):
    """The partition summary (what each dask worker runs) on the hand-made frame: the
    private row of April, a month with no point, is counted too, as in build_cube."""
    pytest.importorskip("dask")
    pytest.importorskip("xarray")
    from impactzones.distributed import summarise_frame

    summary = summarise_frame(_frame(layers), layers, cell_size=500)
    area = summary.cube["area_count"]
    counts = area.sum([d for d in area.dims if d != "area"])
    got = {str(a): int(v) for a, v in zip(counts["area"].values, counts.values, strict=True)}
    assert got["city"] == 5 and got["district:3"] == 2 and got["district:5"] == 1
    assert summary.cube.sizes["time"] == 4  # January to April
    assert summary.tally["kept_without_point"] == 2

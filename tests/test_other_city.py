"""Layers for another city (issue 12, section 4): a boundary alone is enough; a district file
with its own id column is used as given."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from impactzones.cli import main
from impactzones.io import read_layer

BOX = [(-87.75, 41.80), (-87.60, 41.80), (-87.60, 41.95), (-87.75, 41.95), (-87.75, 41.80)]


def _city(tmp_path, n=900):
    rng = np.random.default_rng(0)
    gj = {
        "type": "Feature",
        "properties": {"name": "Box"},
        "geometry": {"type": "Polygon", "coordinates": [BOX]},
    }
    (tmp_path / "boundary.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [gj]})
    )
    feats = [
        {
            "type": "Feature",
            "properties": {"DIST_NUM": str(10 + i), "DIST_LABEL": f"{10 + i}TH"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [(x0, 41.80), (x0 + 0.05, 41.80), (x0 + 0.05, 41.95), (x0, 41.95), (x0, 41.80)]
                ],
            },
        }
        for i, x0 in enumerate([-87.75, -87.70, -87.65])
    ]
    (tmp_path / "districts.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats})
    )
    t = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 730 * 1440, n), "min")
    hot = rng.random(n) < 0.5
    lon = np.where(hot, -87.66 + rng.normal(0, 0.003, n), rng.uniform(-87.74, -87.61, n))
    lat = np.where(hot, 41.88 + rng.normal(0, 0.003, n), rng.uniform(41.81, 41.94, n))
    pd.DataFrame(
        {
            "id": [f"X{i}" for i in range(n)],
            "date": t.strftime("%Y-%m-%dT%H:%M:%S"),
            "offense": rng.choice(["Robbery", "AGG. ASSAULT", "Burglary", "Theft"], n),
            "lat": lat.round(6),
            "lon": lon.round(6),
        }
    ).to_csv(tmp_path / "incidents.csv", index=False)
    return tmp_path


def test_a_boundary_alone_gives_the_maps_that_need_no_zones(tmp_path, capsys):
    d = _city(tmp_path)
    out = d / "out"
    code = main(
        [
            "map",
            str(d / "incidents.csv"),
            "--boundary",
            str(d / "boundary.geojson"),
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "No Impact Zones given" in text and "No districts given" in text
    assert (out / "index.html").exists() and (out / "citywide.html").exists()
    assert (out / "hotspots_kde_hotspots.geojson").exists()
    assert not list(out.glob("commander_*.html"))  # nothing to command without zones
    counts = pd.read_csv(out / "counts_by_year_district.csv")
    assert set(counts["district"]) == {1} and counts["count"].sum() == 900


def test_a_district_file_with_its_own_id_column_is_used_as_given(tmp_path):
    d = _city(tmp_path, n=10)
    districts = read_layer(d / "districts.geojson", kind="districts")
    assert districts["district"].tolist() == [10, 11, 12]

"""Harm-weighted WDD from the command line (`compare --harm`) and the study file (`harm`).

The independent truth is ptools' documented ``wdd_harm`` example (robbery, burglary and
theft WDDs of -10, -5 and -30 with variances 70, 105 and 230, weights 10, 5 and 1:
harm estimate -155, variance 9855). The incidents below are placed in the North zone, its
ring and the rest of the city so that the comparison's shared-control WDD of each category
has exactly those values (hand-worked: e.g. robbery, zone 20 -> 10, ring 4 -> 4, control
36 -> 36: WDD = -10 - 20/36 * 0 = -10, Var = 30 + 8 + (24/36)^2 * 72 = 70).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from impactzones.cli import main

#: category: ((zone before, after), (ring before, after), (control before, after))
PLAN = {
    "robbery": ((20, 10), (4, 4), (36, 36)),
    "burglary": ((25, 20), (5, 5), (36, 36)),
    "larceny_theft": ((40, 10), (25, 25), (65, 65)),
}


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    import geopandas as gpd

    from impactzones.core.geo import st_louis

    layers = st_louis()
    zones = layers.zones
    north = zones.loc[zones["name"] == "North", "geometry"].iloc[0]
    others = zones.geometry.union_all()
    ring = (
        north.buffer(200)
        .boundary.difference(others.buffer(50))
        .intersection(layers.study_area.buffer(-50))
    )
    far = layers.study_area.buffer(-200).difference(zones.geometry.buffer(1500).union_all())
    spots = {
        "zone": north.representative_point(),
        "ring": ring.interpolate(0.5, normalized=True) if ring.geom_type != "Point" else ring,
        "control": far.representative_point(),
    }
    rows = []
    for cat, counts in PLAN.items():
        for where, pair in zip(("zone", "ring", "control"), counts, strict=True):
            for year, n in zip((2017, 2018), pair, strict=True):
                for i in range(n):
                    rows.append((cat, f"{year}-{i % 12 + 1:02d}-15", spots[where]))
    pts = gpd.GeoSeries([r[2] for r in rows], crs=zones.crs).to_crs(4326)
    df = pd.DataFrame(
        {
            "id": range(1, len(rows) + 1),
            "date": [r[1] for r in rows],
            "category": [r[0] for r in rows],
            "lat": pts.y.round(7),
            "lon": pts.x.round(7),
        }
    )
    folder = tmp_path_factory.mktemp("harm")
    df.to_csv(folder / "inc.csv", index=False)
    (folder / "w.csv").write_text("category,weight\nrobbery,10\nburglary,5\nTheft,1\n")
    return folder


def _compare(folder, *extra):
    return [
        "compare",
        str(folder / "inc.csv"),
        "--zone",
        "North",
        "--before",
        "2017",
        "--after",
        "2018",
        "--dispersion",
        "poisson",
        "--harm",
        str(folder / "w.csv"),
        *extra,
    ]


def test_compare_harm_reproduces_ptools_documented_example(plan_file, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main([*_compare(plan_file, "--by", "category", "--out", str(out), "--json")]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["crime"]: r for r in doc["rows"] if r["zone"] == "North"}
    for cat, want in {
        "robbery": (-10, 70),
        "burglary": (-5, 105),
        "larceny_theft": (-30, 230),
    }.items():
        assert rows[cat]["wdd"] == pytest.approx(want[0])
        assert rows[cat]["wdd_se"] ** 2 == pytest.approx(want[1])
    (h,) = doc["harm"]
    assert h["zone"] == "North"
    assert h["harm_wdd"] == pytest.approx(-155.0)
    assert h["harm_se"] ** 2 == pytest.approx(9855.0)
    saved = pd.read_csv(tmp_path / "cmp_harm.csv")
    assert saved.loc[0, "harm_wdd"] == pytest.approx(-155.0)
    assert saved.loc[0, "harm_se"] ** 2 == pytest.approx(9855.0)


def test_compare_harm_by_group_prints_the_harm_table(plan_file, tmp_path, capsys):
    # --by group: the harm table comes from a by-category comparison made for it
    assert main(_compare(plan_file, "--out", str(tmp_path / "c"))) == 0
    text = capsys.readouterr().out
    assert "Harm-weighted WDD" in text and "-155.0" in text and "c_harm.csv" in text
    assert pd.read_csv(tmp_path / "c_harm.csv").loc[0, "harm_wdd"] == pytest.approx(-155.0)


@pytest.mark.parametrize(
    "text, words",
    [
        ("category,weight\nrobery,10\n", "Unknown harm-weight category robery"),
        ("category,weight\nrobbery,-1\n", "non-negative number"),
        ("category,weight\nrobbery,ten\n", "non-negative number"),
        ("category,weight\nrobbery,nan\n", "non-negative number"),
        ("category,weight\nrobbery,1\nRobbery,2\n", "weighted twice"),
        ("category,weight\n", "holds no harm weights"),
        ("robbery;10\n", "should be category,weight"),
    ],
)
def test_compare_harm_bad_weights_exit_2_with_one_sentence(
    plan_file, tmp_path, capsys, text, words
):
    w = tmp_path / "bad.csv"
    w.write_text(text)
    args = _compare(plan_file)
    args[args.index("--harm") + 1] = str(w)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert len([ln for ln in err.strip().splitlines() if ln.strip()]) == 1


def test_study_file_harm_key(plan_file, tmp_path):
    p = plan_file / "study.toml"
    p.write_text(
        '[data]\nincidents = "inc.csv"\n[analysis]\nharm = "w.csv"\nevaluate = false\n'
        f'concentration = false\n[output]\nout = "{(tmp_path / "run").as_posix()}"\n'
    )
    assert main(["run", str(p), "-q"]) == 0
    h = pd.read_csv(tmp_path / "run" / "harm_north.csv")
    assert h.loc[0, "zone"] == "North"
    assert h.loc[0, "harm_wdd"] == pytest.approx(-155.0)
    assert h.loc[0, "harm_se"] ** 2 == pytest.approx(9855.0)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["harm"]["north"][0]["harm_wdd"] == pytest.approx(-155.0)


@pytest.mark.parametrize("value", ["3", '"missing.csv"', '"bad.csv"'])
def test_study_file_bad_harm_exits_2_before_the_run(plan_file, tmp_path, capsys, value):
    (plan_file / "bad.csv").write_text("category,weight\nrobbery,-3\n")
    p = plan_file / "bad_study.toml"
    p.write_text(f'[analysis]\nharm = {value}\n[output]\nout = "{tmp_path.as_posix()}/o"\n')
    assert main(["run", str(p)]) == 2
    assert "harm" in capsys.readouterr().err or value == '"bad.csv"'
    assert not (tmp_path / "o").exists()

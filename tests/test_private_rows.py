"""Private incidents kept without their points count where their kept labels say.

The truth: the same incidents WITH their points, placed by geometry (compare_zones and
compstat on the in-memory incidents, or the raw exports), must give the same counts as the
clean file where the private rows have no point.
"""

import json

import pandas as pd
import pytest

from impactzones import workflows
from impactzones.cli.main import main
from impactzones.core.schema import is_sensitive
from impactzones.evaluate.compare import compare_zones
from impactzones.io.writers import write_vector
from impactzones.pipeline import blank_sensitive

COUNTS = ["zone_before", "zone_after", "ring_before", "ring_after", "control_before",
          "control_after"]  # fmt: skip


def _counts(rows):
    return {(r["zone"], r["crime"]): [r.get(c) for c in COUNTS] for r in rows}


@pytest.fixture(scope="module")
def clean_file(synth, layers, tmp_path_factory):
    inc = synth.incidents[synth.incidents["occurred_at"].dt.year.isin([2017, 2018])]
    out, n = blank_sensitive(inc, layers)
    assert n == int(is_sensitive(inc).sum()) > 1000
    path = tmp_path_factory.mktemp("private") / "clean.parquet"
    write_vector(out, path)
    return inc, path


def test_read_incidents_keeps_private_rows_with_the_areas_of_their_points(clean_file, layers):
    """keep_private: every private row comes back, without a point, with the areas that
    assign() gives its true point (the truth: the incidents with their points)."""
    from impactzones.assign import LABELS, assign
    from impactzones.io.incidents import read_incidents

    inc, path = clean_file
    truth = assign(inc, layers)
    truth = truth[is_sensitive(truth)]
    truth = truth.set_index(truth["incident_id"].astype(str))
    got = read_incidents(path, study_area=layers.study_area, keep_private=True)
    assert got.tally["used"] == got.read == len(inc) and got.tally["rejected"] == 0
    kept = got.incidents[got.incidents.geometry.is_empty]
    assert len(kept) == len(truth) == int(got.incidents["sensitive"].sum())
    kept = kept.set_index("incident_id").loc[truth.index]
    for col in ("district", "neighborhood", "zone", "ring", "area_type"):
        assert col in LABELS
        want, have = truth[col].astype(object), kept[col].astype(object)
        assert want.where(want.notna(), None).tolist() == have.where(have.notna(), None).tolist()
    # rows with points carry no labels (they are placed by their points)
    assert got.incidents.loc[~got.incidents.geometry.is_empty, "district"].isna().all()
    # by default they are set aside, each with its reason
    plain = read_incidents(path, study_area=layers.study_area)
    assert plain.tally["rejected_by_reason"] == {"sensitive_no_point": len(truth)}


def test_compare_on_the_clean_file_counts_private_rows_as_their_points(clean_file, layers):
    inc, path = clean_file
    north = layers.zones[layers.zones["name"] == "North"]
    truth = compare_zones(inc, north, 2017, 2018, study_area=layers.study_area)
    got = workflows.compare([path], before="2017", after="2018", zone="North")
    assert _counts(got.data["rows"]) == _counts(truth.table.to_dict("records"))
    # the demo's headline figures (README): North violent 740 -> 592
    assert _counts(got.data["rows"])[("North", "violent")][:2] == [740, 592]


def test_another_ring_width_warns_once_and_keeps_citywide(clean_file, layers, recwarn):
    inc, path = clean_file
    north = layers.zones[layers.zones["name"] == "North"]
    truth = compare_zones(inc, north, 2017, 2018, ring=250, study_area=layers.study_area)
    got = workflows.compare([path], before="2017", after="2018", zone="North", ring=250)
    mine = [
        str(w.message) for w in recwarn if "private incidents have no location" in str(w.message)
    ]
    assert len(mine) == 1 and "not in any ring or the control area" in mine[0]
    t, g = _counts(truth.table.to_dict("records")), _counts(got.data["rows"])
    for key in t:  # zone and citywide still exact; ring and control lose the private rows
        assert g[key][:2] == t[key][:2]
    private = inc[is_sensitive(inc)]
    lost = int(private["occurred_at"].dt.year.eq(2017).sum())
    assert t[("North", "violent")][4] - g[("North", "violent")][4] > 0
    assert sum(t[(z, c)][4] - g[(z, c)][4] for (z, c) in t if z == "North") <= lost


def test_compstat_on_the_clean_file_matches_the_points(clean_file, layers, tmp_path):
    from impactzones.assign import assign
    from impactzones.evaluate.compstat import compstat

    inc, path = clean_file
    truth = compstat(assign(inc, layers), layers, "2018-12-31").table
    got = workflows.compstat([path], as_of="2018-12-31", out=tmp_path / "cs")
    pd.testing.assert_frame_equal(got.value.table, truth)
    assert truth[truth["area"] == "Citywide"]["Year to date"].iloc[0] == 5525  # README


def test_real_clean_file_gives_the_raw_exports_numbers(real_incidents_dir, tmp_path, capsys):
    clean = tmp_path / "clean.parquet"
    assert main(["load", str(real_incidents_dir), "--out", str(clean), "--quiet"]) == 0
    args = ["--before", "2017", "--after", "2018", "--zone", "North", "--json", "--quiet"]
    rows = {}
    for src in (real_incidents_dir, clean):
        capsys.readouterr()
        assert main(["compare", str(src), *args]) == 0
        rows[src] = _counts(json.loads(capsys.readouterr().out)["rows"])
    assert rows[clean] == rows[real_incidents_dir]
    # the raw exports' figures the reviewer found (the clean file gave 193 -> 151)
    assert rows[clean][("North", "violent")][:2] == [230, 187]
    assert rows[clean][("Citywide", "violent")][:2] == [6093, 5124]
    reports = {}
    for src in (real_incidents_dir, clean):
        capsys.readouterr()
        out = tmp_path / f"cs_{len(reports)}"
        assert main(["compstat", str(src), "--out", str(out), "--json", "--quiet"]) == 0
        reports[src] = json.loads(capsys.readouterr().out)["rows"]
    assert reports[clean] == reports[real_incidents_dir]


def test_compare_on_the_demo_file_reproduces_the_demo(demo_cli, capsys):
    import geopandas as gpd

    path = demo_cli.out / "incidents.parquet"
    inc = gpd.read_parquet(path)
    private = is_sensitive(inc)
    assert private.any() and inc.geometry[private].is_empty.all()
    assert not inc.geometry[~private].is_empty.any()
    capsys.readouterr()
    assert main(["compare", str(path), "--before", "2017", "--after", "2018", "--zone",
                 "North", "--json", "--quiet"]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)["rows"]
    north = next(r for r in rows if r["zone"] == "North" and r["crime"] == "violent")
    assert (north["zone_before"], north["zone_after"]) == (740, 592)
    assert round(north["zone_pct_change"], 1) == -20.0
    assert demo_cli.result.headline["zone_change"]["display"] == "-20.0%"


def test_a_clean_file_without_ring_labels_still_counts_them_citywide(clean_file, tmp_path, layers):
    """A clean file from an earlier version (district, neighborhood, zone only): private
    rows count in their zone and citywide, with one warning, never silently dropped."""
    import geopandas as gpd

    inc, path = clean_file
    old = gpd.read_parquet(path).drop(
        columns=["zones", "ring", "area_type", "ring_zones", "ring_m"]
    )
    older = tmp_path / "older.parquet"
    write_vector(old, older)
    north = layers.zones[layers.zones["name"] == "North"]
    truth = _counts(compare_zones(inc, north, 2017, 2018, study_area=layers.study_area).table
                    .to_dict("records"))  # fmt: skip
    with pytest.warns(UserWarning, match="private incidents have no location"):
        got = _counts(workflows.compare([older], before="2017", after="2018", zone="North")
                      .data["rows"])  # fmt: skip
    for key in truth:
        assert got[key][:2] == truth[key][:2]


def test_evaluate_on_the_clean_file_equals_the_points(clean_file, layers):
    """The interrupted time series and the synthetic control's donors count the private
    rows where their points are (the truth: evaluate_zone on the incidents with points)."""
    from impactzones.evaluate.run import evaluate_zone

    inc, path = clean_file
    truth = evaluate_zone(inc, layers, "North")
    got = workflows.evaluate([path], zone="North").value
    assert truth.synthetic is not None and got.synthetic is not None
    assert got.series.verdict == truth.series.verdict
    assert got.synthetic.verdict == truth.synthetic.verdict
    assert got.summary == truth.summary


def test_explore_counts_private_rows_by_district_from_the_clean_file(clean_file, layers,
                                                                     monkeypatch, tmp_path):
    """The proposal page's private table (district x year) from the clean file equals the
    one from the incidents with their points (it said 0 before: the rows were rejected)."""
    import impactzones.maps.explore as explore_mod
    from impactzones.io.incidents import read_incidents
    from impactzones.maps.explore import explore_data

    inc, path = clean_file
    truth = explore_data(inc, layers)["private"]
    assert truth["total"] == int(is_sensitive(inc).sum()) > 1000
    kept = read_incidents(path, study_area=layers.study_area, keep_private=True).incidents
    assert explore_data(kept, layers)["private"] == truth
    seen = {}

    def fake_write(incidents, layers_, out, **kw):
        seen["private"] = explore_data(incidents, layers_)["private"]
        return tmp_path / "explore.html"

    monkeypatch.setattr(explore_mod, "write_explore", fake_write)
    workflows.explore([path], tmp_path / "explore.html")
    assert seen["private"] == truth


def test_commands_on_points_say_how_many_private_rows_they_leave_out(clean_file):
    """hotspots, propose, concentration and nearrepeat need points: on a clean file they
    say how many private incidents they leave out (the truth: the private rows written)."""
    inc, path = clean_file
    got = workflows.concentration([path], group="violent")
    n = int(is_sensitive(inc).sum())
    assert [m for m in got.notes if f"{n:,} private incidents have no point" in m]
    # commands that count by area keep them, so they say nothing
    kept = workflows.compare([path], before="2017", after="2018", zone="North")
    assert not [m for m in kept.notes if "private incidents have no point" in m]


def test_the_demo_on_the_clean_file_counts_private_rows_as_their_points(clean_file, layers,
                                                                        tmp_path):  # fmt: skip
    """``map``/``demo --incidents CLEAN_FILE``: the zone comparison is the one the same
    incidents give WITH their points (the truth: compare_zones on them, North 740 -> 592),
    the hot spots use the rows with points only, and the incidents file it rewrites keeps
    the private rows' labels (compare on it gives the same counts again)."""
    import geopandas as gpd

    from impactzones.pipeline import run_demo

    inc, path = clean_file
    north = layers.zones[layers.zones["name"] == "North"]
    truth = compare_zones(inc, north, 2017, 2018, study_area=layers.study_area)
    res = run_demo(tmp_path / "d", incidents=[path], evaluate=False, concentration=False,
                   pictures=False, parallel=False)  # fmt: skip
    table = res.comparisons["north"]
    assert _counts(table.to_dict("records")) == _counts(truth.table.to_dict("records"))
    assert _counts(table.to_dict("records"))[("North", "violent")][:2] == [740, 592]
    assert res.headline["zone_change"]["display"] == "-20.0%"
    assert res.headline["incidents"] == len(inc)
    assert res.headline["load"]["rejected"] == 0
    written = gpd.read_parquet(tmp_path / "d" / "incidents.parquet")
    clean = gpd.read_parquet(path).set_index("incident_id")
    private = written[written.geometry.is_empty].set_index("incident_id")
    assert len(private) == int(is_sensitive(inc).sum())
    for col in ("district", "zones", "ring_zones", "area_type"):
        want = clean.loc[private.index, col].astype(object)
        assert private[col].astype(object).where(private[col].notna(), None).tolist() == \
            want.where(want.notna(), None).tolist(), col
    again = workflows.compare([tmp_path / "d" / "incidents.parquet"], before="2017",
                              after="2018", zone="North")  # fmt: skip
    assert _counts(again.data["rows"]) == _counts(truth.table.to_dict("records"))


def test_the_demo_on_the_real_clean_file_gives_the_raw_exports_comparison(real_incidents_dir,
                                                                          tmp_path):  # fmt: skip
    """`map` on a clean file from the real exports: the raw exports' North comparison
    (230 -> 187 violent, 6,093 -> 5,124 citywide: `compare` on the raw exports, asserted in
    test_real_clean_file_gives_the_raw_exports_numbers), not 193 -> 151 without the private
    rows."""
    from impactzones.pipeline import run_demo

    clean = tmp_path / "clean.parquet"
    assert main(["load", str(real_incidents_dir), "--out", str(clean), "--quiet"]) == 0
    res = run_demo(tmp_path / "d", seed=0, incidents=[clean], evaluate=False,
                   concentration=False, pictures=False, parallel=False)  # fmt: skip
    got = _counts(res.comparisons["north"].to_dict("records"))
    assert got[("North", "violent")][:2] == [230, 187]
    assert got[("Citywide", "violent")][:2] == [6093, 5124]


def test_ring_zone_names_are_each_rows_hits_joined():
    """The ``ring_zones`` text (one number per pattern of hits, looked up) is, row by row,
    the names of the zones hit joined by ``;`` as a plain loop writes them, with few zones
    and with more than fit one number."""
    import numpy as np

    from impactzones.pipeline import _joined_names

    rng = np.random.default_rng(0)
    for k in (1, 3, 25):
        names = np.array([f"Zone {i}" for i in range(k)])
        hits = rng.random((2000, k)) > 0.7
        assert _joined_names(hits, names) == [";".join(names[row]) for row in hits]

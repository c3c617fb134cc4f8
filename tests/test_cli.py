"""The command line: the demo's headline figures, the load tally, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from impactzones.cli import main


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "impactzones", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


@pytest.fixture(scope="module")
def demo(demo_cli):
    """`impactzones demo --out ...`: the session's one run (tests/conftest.py)."""
    return demo_cli.out, demo_cli


def test_demo_prints_the_published_story(demo):
    out, proc = demo
    text = " ".join(proc.stdout.split())
    assert "North zone -20.0%" in text
    assert "citywide -14.5%" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["zone_change"]["before"] * 4 == summary["zone_change"]["after"] * 5
    assert summary["citywide_change"] == {
        "before": 6459,
        "after": 5525,
        "percent_change": pytest.approx(-14.4604427930),
        "display": "-14.5%",
    }


def test_demo_outputs_keep_sensitive_incidents_private(demo):
    out, _ = demo
    import geopandas as gpd

    inc = gpd.read_parquet(out / "incidents.parquet")
    # every row kept (as `load` writes them), the private ones without their points
    private = inc["category"].eq("rape") | inc["domestic"]
    assert private.any() and inc.geometry[private].is_empty.all()
    assert not inc.geometry[~private].is_empty.any()
    html = (out / "commander_north.html").read_text()
    assert "Impact Zones" in html and "Patrol districts" in html
    counts = pd.read_csv(out / "counts_by_year.csv")
    assert counts.query("year == 2018 and category == 'rape'")["count"].item() == 309


@pytest.mark.slow
def test_demo_is_deterministic(demo, tmp_path):
    out, _ = demo  # run in this process; now again in a fresh one
    proc = run("demo", "--out", str(tmp_path), "--quiet", "--png-maps")  # as the session's
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:  # every table, surface, map and picture, byte for byte
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_load_prints_a_tally_that_adds_up(tmp_path, synth):
    src = tmp_path / "in.csv"
    from impactzones.io import write_vector

    sample = synth.incidents.iloc[:200].copy()
    sample.loc[sample.index[:3], "category"] = ""
    write_vector(sample, src)
    out = tmp_path / "clean.parquet"
    proc = run("load", str(src), "--out", str(out), "--crs", "EPSG:32615", "--json")
    assert proc.returncode == 0, proc.stderr
    tally = json.loads(proc.stdout)
    assert tally["read"] == 200 and tally["used"] == 197
    assert tally["rejected_by_reason"] == {"unknown_category": 3}
    assert len(pd.read_csv(tally["rejects"])) == 3


@pytest.mark.slow
def test_errors_are_one_sentence_without_traceback(tmp_path):
    proc = run("load", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.parquet"))
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    src = tmp_path / "a.csv"
    src.write_text("id,date,category,lat,lon\n1,2018-01-01,robbery,38.6,-90.2\n")
    proc = run("load", str(src), "--out", str(src))
    assert proc.returncode == 2 and "one of the inputs" in proc.stderr
    assert src.read_text().startswith("id,date")  # the input is untouched
    proc = run("synth", "--out", str(tmp_path / "x.txt"), "--years", "2018")
    assert proc.returncode == 2 and "extension" in proc.stderr
    # a demo whose output folder holds its input is refused before anything is written
    (tmp_path / "maps").mkdir()
    src2 = tmp_path / "maps" / "mine.csv"
    src2.write_text(src.read_text())
    proc = run("demo", "--incidents", str(src2), "--out", str(tmp_path / "maps"))
    assert proc.returncode == 2 and "holds the input" in proc.stderr
    assert [p.name for p in (tmp_path / "maps").iterdir()] == ["mine.csv"]


def test_help_reads_well():
    proc = run("--help")
    assert proc.returncode == 0
    for cmd in ("demo", "synth", "load"):
        assert cmd in proc.stdout
    assert "Exit codes" in proc.stdout


def test_demo_on_real_exports_and_official_districts(real_incidents_dir, tmp_path):
    from .conftest import REAL

    shp = REAL / "districts" / "donojazz_Crime" / "GIS.STL.POLICE_DISTRICTS_2014.shp"
    proc = run("demo", "--out", str(tmp_path), "--incidents", str(real_incidents_dir),
               "--districts", str(shp), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    load = summary["load"]
    assert load["read"] == 144_629 and load["used"] + load["rejected"] == load["read"]
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert len(rejects) == load["rejected"]
    assert summary["citywide_change"]["before"] > 5000
    # pages leave the machine: the inputs by name, never by the path they were read from
    assert summary["source"] == real_incidents_dir.name
    settings = json.loads((tmp_path / "manifest.json").read_text())["settings"]
    assert not settings["districts"].startswith("/")  # relative to --out
    for f in tmp_path.rglob("*"):
        if f.is_file() and f.suffix != ".parquet" and f.name != "manifest.json":
            body = f.read_bytes()
            assert str(REAL).encode() not in body and str(tmp_path).encode() not in body, f.name
    assert "/" not in "".join(pd.read_parquet(tmp_path / "incidents.parquet")["source"].unique())


@pytest.fixture(scope="module")
def synth_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "inc.parquet"
    proc = run("synth", "--out", str(path), "--years", "2017,2018,2019", "-q")
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.mark.slow
def test_compare_command_writes_three_formats(synth_file, tmp_path, monkeypatch):
    out = tmp_path / "north"
    proc = run("compare", str(synth_file), "--zone", "North", "--before", "2017", "--after",
               "2018", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "-20.0%" in proc.stdout
    assert "Violent crime fell 20.0% in the North zone" in " ".join(proc.stdout.split())
    saved = json.loads(out.with_suffix(".json").read_text())
    north = next(r for r in saved["rows"] if r["zone"] == "North" and r["crime"] == "violent")
    assert north["zone_pct_change"] == -20.0
    assert out.with_suffix(".md").read_text().startswith("| Zone |")
    # the file --out writes is the document --json prints
    proc = run("compare", str(synth_file), "--zone", "North", "--before", "2017", "--after",
               "2018", "--json")
    assert json.loads(proc.stdout) == saved
    # piped output fits 80 columns (or COLUMNS), sentences wrapped between words
    monkeypatch.delenv("COLUMNS", raising=False)
    for line in run("compare", str(synth_file), "--before", "2017", "--after", "2018",
                    "--out", str(tmp_path / "all")).stdout.splitlines():  # fmt: skip
        assert len(line) <= 80, line
    monkeypatch.setenv("COLUMNS", "60")
    proc = run("compare", str(synth_file), "--before", "2017", "--after", "2018")
    assert "Not shown in 60 columns" in proc.stdout
    assert max(len(line) for line in (proc.stdout + proc.stderr).splitlines()) <= 60
    proc = run("compare", str(synth_file), "--before", "2018", "--after",
               "2019-01-01:2019-06-30")
    assert proc.returncode == 2 and "not like for like" in proc.stderr


@pytest.mark.slow
def test_hotspots_command_reports_its_parameters(synth_file, tmp_path):
    proc = run("hotspots", str(synth_file), "--group", "violent", "--from", "2018-01-01",
               "--to", "2018-12-31", "--out", str(tmp_path), "--json", "--permutations", "99")
    assert proc.returncode == 0, proc.stderr
    params = json.loads(proc.stdout)
    assert "ArcGIS default search radius" in params["kde"]["bandwidth_rule"]
    assert params["dbscan"]["eps_rule"].startswith("half the ArcGIS")
    assert params["gistar"]["incidents"] == 5525
    for name in ("kde.tif", "kde_hotspots.geojson", "dbscan_clusters.geojson", "gistar.geojson"):
        assert (tmp_path / name).exists()
    proc = run("hotspots", str(synth_file), "--group", "violent", "--method", "emerging",
               "--out", str(tmp_path / "em"), "--json")
    assert proc.returncode == 0, proc.stderr
    params = json.loads(proc.stdout)
    assert params["emerging"]["slices"] == 32  # 2017, 2018 and 2019 to August (1 Sep dropped)
    assert params["emerging"]["patterns"]["persistent"] > 0


@pytest.mark.slow
def test_propose_command_prints_the_backtest(synth_file, tmp_path):
    out = tmp_path / "proposals.geojson"
    proc = run("propose", str(synth_file), "--period", "2018", "--k", "2", "--max-area-km2",
               "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "Proposal A" in text and "Backtest on 2019" in text and "naive" in text
    assert out.exists() and (tmp_path / "proposals_backtest.csv").exists()
    proc = run("propose", str(synth_file), "--period", "2018", "--existing", "North,Nowhere",
               "--out", str(tmp_path / "none.geojson"))  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "No zone named 'Nowhere'; the zones are North, Central, South." in proc.stderr
    assert not (tmp_path / "none.geojson").exists()


@pytest.mark.slow
def test_run_command_records_the_settings(tmp_path):
    study = tmp_path / "study.toml"
    study.write_text('[data]\nseed = 2018\nscale = 0.1\n[output]\nout = "out"\n')
    proc = run("run", str(study), "-q")
    assert proc.returncode == 0, proc.stderr
    rec = json.loads((tmp_path / "out" / "run_settings.json").read_text())
    assert rec["settings"]["data"]["seed"] == 2018 and rec["version"]
    assert rec["settings"]["data"]["scale"] == 0.1
    assert rec["settings_file"] == "../study.toml"  # relative to the folder, no machine path
    study.write_text("[data]\nseeed = 1\n")
    proc = run("run", str(study))
    assert proc.returncode == 2 and "unknown setting" in proc.stderr


def test_every_subcommand_has_help(capsys):
    for cmd in ("demo", "synth", "load", "hotspots", "compare", "propose", "map", "run"):
        with pytest.raises(SystemExit) as exit_:
            main([cmd, "--help"])
        assert exit_.value.code == 0 and "usage: impactzones" in capsys.readouterr().out


def test_a_city_elsewhere_gets_its_own_utm_zone(tmp_path):
    """A boundary in Vienna: UTM zone 33N, and the St. Louis layers are not used for it."""
    import geopandas as gpd
    from shapely import box

    from impactzones.core.errors import InputError
    from impactzones.pipeline import load_layers

    b = tmp_path / "vienna.geojson"
    gpd.GeoDataFrame({"name": ["Wien"]}, geometry=[box(16.2, 48.1, 16.5, 48.3)],
                     crs="EPSG:4326").to_file(b)
    layers = load_layers(boundary=b, strict=False)
    assert layers.crs.to_epsg() == 32633
    assert layers.neighborhoods is None and layers.districts is None
    with pytest.raises(InputError, match="--districts"):
        load_layers(boundary=b)
    src = tmp_path / "inc.csv"
    src.write_text("id,date,category,lat,lon\n1,2018-01-01,robbery,48.2,16.37\n"
                   "2,2018-01-02,robbery,38.6,-90.2\n")
    proc = run("load", str(src), "--boundary", str(b), "--out", str(tmp_path / "o.parquet"),
               "--json")
    assert proc.returncode == 0, proc.stderr
    tally = json.loads(proc.stdout)
    assert tally["used"] == 1 and tally["rejected_by_reason"] == {"outside_study_area": 1}
    assert gpd.read_parquet(tmp_path / "o.parquet").crs.to_epsg() == 32633


def test_a_bad_window_date_is_refused_before_any_incident_is_read(tmp_path):
    """The window's dates are read first: with an incidents file that does not exist, the
    message is still about the impossible month 13, named alone (not a Python tuple)."""
    from impactzones import workflows
    from impactzones.core.errors import InputError

    with pytest.raises(InputError) as err:
        workflows.compare([tmp_path / "missing.csv"], before="2019-13-01:2019-12-31",
                          after="2018")
    text = str(err.value)
    assert text.startswith("Cannot read the date '2019-13-01' in the window")
    assert "(" not in text.split("window", 1)[1].split(";")[0]  # no tuple


def test_propose_refuses_an_out_without_an_extension_before_reading(tmp_path):
    """The bad --out was refused only after reading, proposing and backtesting (review rc)."""
    proc = run("propose", str(tmp_path / "missing.csv"), "--period", "2018",
               "--out", str(tmp_path / "props"))  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "Cannot write" in proc.stderr and ".geojson" in proc.stderr, proc.stderr
    assert "Reading incidents" not in proc.stderr

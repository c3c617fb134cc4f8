"""Run manifest, clean-up after a killed run, and outputs that do not depend on the day."""

from __future__ import annotations

import datetime as dt
import shutil


def test_demo_writes_a_matching_manifest_last(demo_run):
    from impactzones.io.manifest import check_manifest

    out = demo_run.files[0].parent
    assert demo_run.files[-1].name == "manifest.json"
    assert check_manifest(out) == []


def test_a_mixed_or_unfinished_folder_is_named(demo_run, tmp_path):
    from impactzones.io.manifest import check_manifest

    out = tmp_path / "copy"
    shutil.copytree(demo_run.files[0].parent, out)
    (out / "counts_by_year.csv").write_text("year,count\n2099,1\n")
    problems = check_manifest(out)
    assert len(problems) == 1 and "counts_by_year.csv differs" in problems[0]
    (out / "manifest.json").unlink()
    assert "did not finish" in check_manifest(out)[0]


def test_no_output_carries_the_run_date(demo_run):
    """Same inputs and settings, same bytes whatever the day: no file holds today's date."""
    today = dt.date.today()
    stamps = {today.isoformat(), f"{today:%d %B %Y}", f"{today:%B %d, %Y}"}
    for f in demo_run.files[0].parent.rglob("*"):
        if f.is_file() and f.suffix in (".json", ".csv", ".md", ".html", ".geojson"):
            text = f.read_text(errors="replace")
            assert not any(s in text for s in stamps), f.name


def test_temporaries_of_a_killed_run_are_removed(tmp_path):
    from impactzones.io import expand_paths
    from impactzones.io.manifest import clean_temporaries

    (tmp_path / ".incidents.k2j4x9a1.parquet").write_bytes(b"PAR1 half")
    (tmp_path / ".summary.ab12cd34.json").write_text("{")
    (tmp_path / "inc.csv").write_text("id,date\n")
    (tmp_path / ".gitignore").write_text("*\n")
    assert [p.name for p in expand_paths([tmp_path])] == ["inc.csv"]  # dot-files skipped
    removed = clean_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == [".incidents.k2j4x9a1.parquet",
                                              ".summary.ab12cd34.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitignore", "inc.csv"]


def test_manifest_settings_name_inputs_relative_to_the_folder(tmp_path):
    """A manifest travels with its folder: an input's absolute path is written relative to
    the folder (``../in/x.csv``), never as the machine path."""
    import json

    from impactzones.io.manifest import write_manifest

    out, src = tmp_path / "out", tmp_path / "in" / "x.csv"
    out.mkdir()
    text = write_manifest(out, [], {"incidents": [str(src)], "zones": src, "seed": 1}).read_text()
    settings = json.loads(text)["settings"]
    assert settings == {"incidents": ["../in/x.csv"], "zones": "../in/x.csv", "seed": 1}
    assert str(tmp_path) not in text

"""``impactzones run study.toml`` prints what ``demo`` prints, and each output it skipped."""

import html

import pytest

from impactzones.cli.main import main


@pytest.mark.slow
def test_run_prints_the_demo_summary_and_every_skipped_output(tmp_path, capsys):
    from impactzones.datasets.synth import synthesize
    from impactzones.io.writers import write_vector

    write_vector(synthesize(seed=5, years=[2018], scale=0.2).incidents, tmp_path / "one.parquet")
    study = tmp_path / "study.toml"
    study.write_text('[data]\nincidents = ["one.parquet"]\n[output]\nout = "out"\n')
    assert main(["run", str(study)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    # the demo's summary: the reading tally, the counts table, the proposals
    assert "Read" in text and "used" in text and "Incidents by district and year" in text
    assert "Proposed zones from 2018" in text
    # one year of data (hand-checked): no citywide map, no comparison, no backtest
    assert "Skipped: No citywide or analyst map: the data cover fewer than two years." in text
    assert "Skipped: No zone comparison" in text and "Skipped: No proposal backtest" in text
    # every sentence the index page gives for a map not drawn is printed too
    index = " ".join(html.unescape((tmp_path / "out" / "index.html").read_text()).split())
    for zone in ("North", "Central", "South"):
        line = (f"No map for the {zone} zone: it needs a start date and a full year of data "
                "before and after it began.")  # fmt: skip
        assert line in index and f"Skipped: {line}" in text
    assert "settings recorded in run_settings.json" in text

"""``propose`` on the data's last year: nothing after it to backtest on, said once."""

import pytest

from impactzones.cli.main import main


@pytest.fixture(scope="module")
def one_year(tmp_path_factory):
    from impactzones.datasets.synth import synthesize
    from impactzones.io.writers import write_vector

    path = tmp_path_factory.mktemp("propose") / "inc.parquet"
    write_vector(synthesize(seed=3, years=[2018], scale=0.3).incidents, path)
    return path


def test_default_test_period_after_the_data_says_so_and_still_proposes(one_year, capsys):
    out = one_year.parent / "props.geojson"
    assert main(["propose", str(one_year), "--period", "2018", "--k", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    # the data end on 2018-12-31 (hand-checked: synthesize(years=[2018]))
    assert "the data end on 2018-12-31, so there is no data in 2019" in printed.err
    assert "--test-period" in printed.err
    assert "Backtest on" not in printed.out and "nan" not in printed.out
    assert out.exists() and "Proposed zones from 2018" in printed.out


def test_an_explicit_empty_test_period_is_refused(one_year, capsys):
    code = main(["propose", str(one_year), "--period", "2018", "--test-period", "2019"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no data in 2019" in err


def test_real_exports_last_year(real_incidents_dir, tmp_path, capsys):
    out = tmp_path / "props.geojson"
    assert main(["propose", str(real_incidents_dir), "--period", "2019", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "the data end on 2019-12-31, so there is no data in 2020" in printed.err
    assert "nan" not in printed.out and out.exists()

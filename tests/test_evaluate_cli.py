"""`impactzones evaluate` and `impactzones nearrepeat`: outputs, JSON and exit 2 on bad input."""

from __future__ import annotations

import json

import pytest

from impactzones.cli import main


@pytest.fixture(scope="module")
def incidents_file(tmp_path_factory):
    from impactzones.datasets.synth import synthesize
    from impactzones.io import write_vector

    path = tmp_path_factory.mktemp("evalcli") / "inc.parquet"
    write_vector(synthesize(seed=5, years=[2016, 2017, 2018]).incidents, path)
    return path


def test_evaluate_writes_json_and_plots(incidents_file, tmp_path, capsys):
    out = tmp_path / "ev"
    code = main(["evaluate", str(incidents_file), "--zone", "North", "--out", str(out), "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    its = printed["interrupted_time_series"]
    assert its["params"]["start"] == "2018-01-01" and its["params"]["periods_after"] == 12
    assert its["effect"]["low"] < -20 < its["effect"]["high"]
    assert abs(sum(w["weight"] for w in printed["synthetic_control"]["weights"]) - 1) < 1e-9
    assert 0 < printed["power"]["power_20"] <= 1
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "counterfactual_north.png",
        "donor_weights_north.png",
        "evaluate_north.json",
        "synthetic_control_north.png",
    ]
    saved = json.loads((out / "evaluate_north.json").read_text())
    assert saved["counterfactual_png"] == "counterfactual_north.png"


def test_nearrepeat_json_and_files(incidents_file, tmp_path, capsys):
    out = tmp_path / "nr"
    code = main(
        [
            "nearrepeat",
            str(incidents_file),
            "--category",
            "burglary",
            "--from",
            "2018-01-01",
            "--permutations",
            "9",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["params"]["permutations"] == 9 and len(printed["cells"]) == 16
    assert sorted(p.name for p in out.iterdir()) == [
        "nearrepeat.csv",
        "nearrepeat.json",
        "nearrepeat.png",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "{f}", "--zone", "Nowhere"],
        ["evaluate", "{f}", "--zone", "North", "--start", "2018-02-30"],
        ["evaluate", "{f}", "--zone", "North", "--start", "2016-02-01"],
        ["evaluate", "{f}", "--zone", "North", "--ring", "-5"],
        ["nearrepeat", "{f}", "--days", "-3"],
        ["nearrepeat", "{f}", "--permutations", "0"],
        ["nearrepeat", "{f}", "--category", "nothing_like_this"],
    ],
)
def test_bad_input_exits_2_with_one_sentence(incidents_file, argv, capsys):
    argv = [a.format(f=incidents_file) for a in argv]
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("impactzones") and "Traceback" not in err and len(err.splitlines()) == 1


def test_demo_evaluates_the_north_zone_and_shows_it_on_the_commander_map(demo_run):
    import base64

    from impactzones.evaluate.series import plot_counterfactual

    out = demo_run.files[0].parent
    ev = demo_run.evaluations["North"]
    assert ev.series.params["start"] == "2018-01-01"
    assert ev.series.effect.low < -20 < ev.series.effect.high  # the planted 20% drop
    assert ev.synthetic is not None and abs(ev.synthetic.weights["weight"].sum() - 1) < 1e-9
    png = (out / "counterfactual_north.png").read_bytes()
    assert png == ev.png == plot_counterfactual(ev.series)
    page = (out / "commander_north.html").read_text(encoding="utf-8")
    assert "Over time: observed against expected" in page
    assert base64.b64encode(png).decode() in page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "counterfactual_north.png" in index and "concentration_lorenz.png" in index
    assert "synthetic_control_north.png" in index and "donor_weights_north.png" in index
    donors_png = (out / "donor_weights_north.png").read_bytes()
    assert donors_png[:4] == b"\x89PNG"


def test_concentration_command(incidents_file, tmp_path, capsys):
    out = tmp_path / "conc"
    code = main(
        [
            "concentration",
            str(incidents_file),
            "--from",
            "2018-01-01",
            "--to",
            "2018-12-31",
            "--group",
            "violent",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["area"] == "City" and 0 < rows[0]["top_5"] < 1
    assert sorted(p.name for p in out.iterdir()) == [
        "concentration.csv",
        "concentration_lorenz.png",
    ]
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["concentration", str(incidents_file), "--cell-size", "0"]))
    assert exc.value.code == 2

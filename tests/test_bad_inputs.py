"""The bad-input corpus: every file in ``tests/data/bad/`` through the CLI, one table.

``tests/data/bad/cases.csv`` has one line per case: a name, the CLI arguments (``{bad}`` is the
corpus folder, ``{out}`` a fresh output folder, ``{tmp}`` the test's scratch folder), the exit
code, key words that the printed message must contain (``;``-separated, any case) and, for
accepted ``load --json`` runs, the exact used and rejected counts. Adding a case is one line.

Every case also holds three promises: no exit 1 (no "unexpected error"), nothing written
outside ``{out}``, and the corpus itself untouched.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shlex
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parent / "data" / "bad"
CASES = list(csv.DictReader(
    line for line in (BAD / "cases.csv").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
))


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 60
    assert len({c["case"] for c in CASES}) == len(CASES), "case names repeat"


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_bad_input(case, tmp_path, monkeypatch, capsys):
    from impactzones.cli import main

    out = tmp_path / "out"
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "afile").write_text("a file, not a folder\n")
    argv = [a.format(bad=BAD, out=out, tmp=tmp_path) for a in shlex.split(case["args"])]
    monkeypatch.chdir(work)
    corpus_before = _snapshot(BAD)
    tmp_before = _snapshot(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refuses an argument: exit 2 and one line
        code = exc.code
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert code != 1, text
    assert code == int(case["exit"]), text
    for word in filter(None, (w.strip() for w in case["words"].split(";"))):
        assert word.lower() in text.lower(), (word, text)
    if case["used"] or case["rejected"]:
        tally = json.loads(printed.out[printed.out.index("{"):])
        assert (tally["used"], tally["rejected"]) == (int(case["used"]), int(case["rejected"]))
        assert tally["used"] + tally["rejected"] == tally["read"]
    assert _snapshot(BAD) == corpus_before, "the corpus was changed"
    after = _snapshot(tmp_path)
    outside = [p for p in after if after.get(p) != tmp_before.get(p)
               and not (tmp_path / p).resolve().is_relative_to(out.resolve())]
    assert outside == [], f"written outside --out: {outside}"

"""Every notebook runs top to bottom, and none is committed with outputs."""

from __future__ import annotations

import json
import shutil

import pytest

from .conftest import ROOT, SHARED

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_five_notebooks():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # run in a copy of notebooks/ next to the repo, so that ../../shared resolves the same way
    work = tmp_path / "repo" / "notebooks"
    work.mkdir(parents=True)
    shutil.copy(path, work / path.name)
    if SHARED.exists():
        (tmp_path / "shared").symlink_to(SHARED)
    nb = nbformat.read(work / path.name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()

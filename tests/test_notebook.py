"""The We Heart It notebook runs clean, from raw tweets to the flagged cluster."""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOK = REPO / "notebooks" / "weheartit.ipynb"

pytestmark = pytest.mark.slow


def test_notebook_is_committed_without_outputs():
    notebook = json.loads(NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_notebook_runs_without_errors(tmp_path, monkeypatch):
    # The kernel inherits the environment: temporary files go to tmp_path, the package is found.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))
    )
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # execute() raises CellExecutionError, naming the cell, if any cell fails.
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    outputs = {i: cell.outputs for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    assert not [o for cell in outputs.values() for o in cell if o.output_type == "error"]
    text = "\n".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for cell in outputs.values()
        for o in cell
    )
    assert "is compromised (score" in text and "We Heart It" in text
    assert "'recall': 1.0" in text
    written = sorted(p.name for p in tmp_path.glob("weheartit-*/*"))
    assert "report.html" in written and "weheartit.gexf" in written

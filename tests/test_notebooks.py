"""Every demo notebook runs top to bottom in a real kernel, with no error output."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_demo_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"dashboard.ipynb", "counter.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs_without_errors(path: Path, tmp_path: Path):
    notebook = nbformat.read(path, as_version=4)
    # Run in an empty folder: a folder named like the package would shadow the installed one.
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o["output_type"] == "error"]
    stderr = [o["text"] for o in outputs if o.get("name") == "stderr"]
    assert not errors, errors
    assert not stderr, stderr
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, "each demo displays at least one live view"
    for output in widgets:
        assert output["data"]["text/html"].strip(), "each view also carries its HTML"

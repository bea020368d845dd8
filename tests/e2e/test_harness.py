"""Self-test of the e2e harness: no livewidget needed, only ipywidgets in a real JupyterLab."""

from __future__ import annotations

from collections.abc import Callable

import nbformat
import pytest
from jupyter_e2e import JupyterServer, Notebook, processes_mentioning
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _write_slider_notebook(server: JupyterServer, name: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import ipywidgets"),
        nbformat.v4.new_code_cell("ipywidgets.IntSlider(value=7, description='seven')"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, server.root / name)


def test_lab_renders_an_ipywidgets_slider(
    lab: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    _write_slider_notebook(lab, "harness.ipynb")
    nb = open_notebook(lab, "harness.ipynb")
    nb.run_all()
    slider = nb.page.locator(".jp-OutputArea .widget-slider")
    expect(slider).to_have_count(1)
    expect(slider.locator(".widget-readout")).to_have_text("7")
    expect(slider.locator(".widget-label")).to_have_text("seven")

    # a cell appended and run through the model reaches the same kernel and view
    outputs = nb.run_code("print(6 * 7)")
    assert [o.get("text") for o in outputs] == ["42\n"]
    nb.run_code("ipywidgets.IntSlider(value=11)")
    expect(nb.page.locator(".jp-OutputArea .widget-readout")).to_have_text(["7", "11"])

    # the console watch sees errors (and judging them here keeps the guard from failing us)
    nb.page.evaluate("() => console.error('e2e-harness-probe')")
    nb.page.wait_for_timeout(100)
    assert any("e2e-harness-probe" in e for e in nb.watch.new_unexpected())

    # after a save and a reload the views come back from the kernel's live widget models
    # (without the save, the reloaded page shows the file on disk: no outputs at all)
    nb.save()
    nb.reload()
    expect(nb.page.locator(".jp-OutputArea .widget-readout")).to_have_text(["7", "11"])


def test_notebook7_renders_an_ipywidgets_slider(
    notebook7: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    _write_slider_notebook(notebook7, "harness7.ipynb")
    nb = open_notebook(notebook7, "harness7.ipynb")
    assert nb.js("return app.name;") == "Jupyter Notebook"
    nb.run_all()
    expect(nb.page.locator(".jp-OutputArea .widget-readout")).to_have_text("7")
    nb.save()
    saved = nbformat.read(notebook7.root / "harness7.ipynb", as_version=4)
    # saveState: the widget manager stores the widget state in the notebook
    assert "application/vnd.jupyter.widget-state+json" in saved.metadata.get("widgets", {})


def test_lab_server_process_is_isolated(lab: JupyterServer) -> None:
    # the server and its kernel mention only our temp dir; they are found, so teardown's stray
    # check (which fails the module on leftovers) looks in the right place
    procs = processes_mentioning(str(lab.tmp))
    assert any("jupyter" in cmd for _, cmd in procs), procs
    kernels = lab.api("GET", "api/kernels")
    assert len(kernels) == 1
    assert kernels[0]["execution_state"] in {"idle", "busy"}

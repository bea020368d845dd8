"""Every demo notebook runs top to bottom in a real kernel, with no error output."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.redis_server import RedisServer
from tests.sources import TICKS

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_demo_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"dashboard.ipynb", "counter.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs_without_errors(path: Path, tmp_path: Path):
    notebook = nbformat.read(path, as_version=4)
    # The Redis demo gets a redis-server of its own, named in the kernel's environment.
    redis = RedisServer().start() if path.name == "pubsub_redis.ipynb" else None
    env = {**os.environ, **({"LIVEWIDGET_PUBSUB": redis.url} if redis else {})}
    # Run in an empty folder: a folder named like the package would shadow the installed one.
    try:
        NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute(env=env)
    finally:
        if redis:
            redis.close()
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


TICKING = TICKS + "\nticks = Ticks()\nticks\n"


def _widget_state(notebook: nbformat.NotebookNode) -> dict[str, dict[str, object]]:
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return {model_id: model["state"] for model_id, model in state.items()}


def test_headless_execution_records_each_views_last_state(tmp_path: Path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(TICKING),
        nbformat.v4.new_code_cell(
            "ticks.widget.record(2, wait=True)\n"
            "time.sleep(1)  # ticking on: the recording has stopped, the output still follows"
        ),
    ]
    NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    display = notebook.cells[0].outputs[0]
    shown = int(display["data"]["text/html"].removeprefix('<b id="n">').removesuffix("</b>"))
    assert shown >= 5, "the output's text/html follows the view while later cells run"
    model_id = display["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    state = _widget_state(notebook)[model_id]
    assert state["_html"] == display["data"]["text/html"]
    frames = state["_recording"]
    assert isinstance(frames, list)
    assert frames[0]["type"] == "full"
    assert [f["type"] for f in frames[1:]] == ["diff"] * (len(frames) - 1)
    assert len(frames) >= 3
    times = [f["t"] for f in frames]
    assert times == sorted(times)
    assert times[-1] <= 2500, "the recording stops after its 2 s (give or take one late frame)"

"""Re-running a cell closes the views it made: their timers, tasks and threads stop, so a
notebook where a ticking cell is run ten times holds one view, not ten.

JupyterLab, Notebook 7 and VS Code send each cell's id with its execution request. These tests
run cells in a real IPython kernel (ipykernel's in-process kernel), sending the cell ids as
those front ends do, in a fresh Python process: IPython's shell is one per process, and the
cell hooks livewidget registers belong to it.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

KERNEL = textwrap.dedent(
    """
    import json, sys
    from ipykernel.inprocess.manager import InProcessKernelManager

    manager = InProcessKernelManager()
    manager.start_kernel()
    client = manager.client()
    client.start_channels()

    def run(code, cell_id=None):
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        metadata = {"cellId": cell_id} if cell_id else {}
        message = client.session.msg("execute_request", content, metadata=metadata)
        client._dispatch_to_kernel(message)  # how the in-process client's execute() sends
        reply = client.get_shell_msg(timeout=30)["content"]
        if reply["status"] != "ok":
            sys.exit(f"cell {cell_id} failed: {reply.get('ename')}: {reply.get('evalue')}")

    for cell_id, code in json.loads(sys.stdin.read()):
        run(code, cell_id)
    manager.shutdown_kernel()
    """
)

SETUP = """
import json, time
import livewidget as lw
from livewidget.runtime import census

class Ticker(lw.LiveView):
    def mount(self, socket):
        socket.assign(ticks=0)
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 10)

    def handle_info(self, info, socket):
        socket.assign(ticks=socket.context.ticks + 1)

    def render(self, ctx):
        return lw.html("<p>{ticks}</p>", **ctx)

made = []
report = []

def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
"""

MAKE = "made.append(Ticker().widget)\nwait_for(lambda: made[-1].context['ticks'] >= 1)"


def run_cells(cells: list[tuple[str | None, str]], report: Path) -> Any:
    """Run ``cells`` (cell id, code) in order in a fresh kernel; return what they reported."""
    cells = [*cells, (None, f"open({str(report)!r}, 'w').write(json.dumps(report))")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # ipykernel's debugger: no frozen-module notice
    }
    done = subprocess.run(
        [sys.executable, "-Xfrozen_modules=off", "-c", KERNEL],
        input=json.dumps(cells),
        env=env,
        cwd=report.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(report.read_text())


def test_running_a_cell_again_closes_the_view_it_made_before(tmp_path: Path):
    report = run_cells(
        [
            ("setup", SETUP),
            ("cell-a", MAKE),
            ("cell-a", MAKE),  # the same cell again
            ("cell-b", "report.append([w.closed for w in made])"),
            ("cell-c", "report.append(census()['views'])"),
        ],
        tmp_path / "report.json",
    )
    assert report == [[True, False], 1]


def test_a_closed_view_stops_ticking_and_the_others_go_on(tmp_path: Path):
    report = run_cells(
        [
            ("setup", SETUP),
            ("cell-a", MAKE),
            ("cell-b", MAKE),  # another cell: its view stays
            ("cell-a", MAKE),
            (
                "cell-c",
                "first = made[0].context['ticks']\n"
                "wait_for(lambda: made[1].context['ticks'] >= 5 and made[2].context['ticks'] >= 5)"
                "\n"
                "report.append([first == made[0].context['ticks'], [w.closed for w in made]])",
            ),
        ],
        tmp_path / "report.json",
    )
    assert report == [[True, [True, False, False]]]

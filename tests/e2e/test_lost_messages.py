"""Messages that Jupyter drops: every view still ends showing the kernel's state.

Jupyter's IOPub channel is lossy under load: the server drops messages beyond its rate limit,
and ZeroMQ drops them when a queue passes its high-water mark. livewidget's pacer keeps a
kernel under the server's default limit, but a loaded machine may still lose a diff, the full
render that answers a join, or the last diff before a view goes quiet. Here a server whose
limit (``LOSSY_IOPUB_MSG_RATE``) is below what the views send loses all three at random, and
the page must still converge: a gap joins, an unanswered join is sent again, and a view that
goes quiet says which payload was its last.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from conftest import LOSSY_IOPUB_MSG_RATE
from jupyter_e2e import JupyterServer, Notebook
from test_runtime import RATE_EXCEEDED, _kernel_json, _shut_down, _write_notebook

pytestmark = pytest.mark.e2e

VIEWS = 10
STORM_MS = 3000

SETUP = f"""\
import json, time
import livewidget as lw
from IPython.display import display


class Burst(lw.LiveView):
    \"\"\"Counts a tick every millisecond for {STORM_MS} ms, then stops.\"\"\"

    def mount(self, socket):
        socket.assign(n=0, done=False)
        if socket.connected:
            self.ticker = socket.repeat(lambda: socket.send_info("tick"), 1)
            socket.send_info("stop", after_ms={STORM_MS})

    def handle_info(self, info, socket):
        if info == "stop":
            self.ticker.cancel()
            socket.assign(done=True)
        elif not socket.context.done:
            socket.assign(n=socket.context.n + 1)

    def render(self, ctx):
        i = self.params["i"]
        return lw.html('<b class="burst" id="burst-{{i}}">{{n}}</b>', i=i, n=ctx.n)"""

START = f"""\
views = [Burst(i=k) for k in range({VIEWS})]
display(*views)"""

# Waits for the bursts to end and the server's 3 s rate window to empty.
FINAL = """\
while not all(view.widget.context["done"] for view in views):
    time.sleep(0.1)
time.sleep(4)"""

# Read in a cell of its own: the idle status that ended FINAL reset the server's rate limiter,
# so this output cannot be dropped too (FINAL's own output could, were the server still behind).
COUNTS = 'print(json.dumps({str(view.params["i"]): view.widget.context["n"] for view in views}))'


def test_every_view_ends_showing_the_kernels_state_though_messages_were_lost(
    lossy_lab: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    _write_notebook(lossy_lab, "lossy.ipynb", [SETUP, START, FINAL])
    nb = open_notebook(lossy_lab, "lossy.ipynb")
    try:
        nb.run_cell(0)
        nb.run_cell(1)
        nb.run_cell(2)
        final = _kernel_json(nb, COUNTS)
        assert min(final.values()) > STORM_MS // 10, final  # the views did burst
        assert RATE_EXCEEDED in lossy_lab.log_tail(400), (
            f"the server (limit {LOSSY_IOPUB_MSG_RATE} msgs/s) dropped nothing: this test "
            "checks nothing"
        )
        expected = {k: str(v) for k, v in final.items()}
        shown: dict[str, str | None] = {}
        deadline = time.monotonic() + 30  # a quiet view says "settled" at 2, 6, 14 and 30 s
        while time.monotonic() < deadline:
            shown = nb.page.evaluate(
                """(n) => Object.fromEntries([...Array(n).keys()].map((i) => {
                     const el = document.querySelector('#burst-' + i);
                     return [String(i), el ? el.textContent : null];
                   }))""",
                VIEWS,
            )
            if shown == expected:
                break
            time.sleep(0.2)
        wrong = {k: (shown.get(k), v) for k, v in expected.items() if shown.get(k) != v}
        assert not wrong, f"views showing something else than the kernel's count: {wrong}"
        assert nb.widget_errors() == []
    finally:
        _shut_down(nb)

"""The runtime in a real JupyterLab: views tick while a cell blocks, come back after a reload,
survive a storm of updates, and leave nothing behind when closed or re-run.

What each test checks is what a user sees (the widget's text in Chromium), compared with what
the kernel holds (its context, read by running a cell). Times on both sides are wall-clock
(``time.time()`` in the kernel, ``Date.now()`` in the page, 1 ms resolution): the kernel, the
server and Chromium run on the same machine, so they read the same clock.

Notebooks other than the demos are written into the server's root at test time. Three tests
guard bugs they found: a busy view that starved every other view, a view re-created while its
cell kept running, and closed widgets that were never freed.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from jupyter_e2e import JupyterServer, Notebook
from jupyter_e2e import kernel_json as _kernel_json
from jupyter_e2e import stdout_of as _stdout
from jupyter_e2e import write_notebook as _write_notebook

pytestmark = pytest.mark.e2e

ROOT = ".livewidget .lw-root"
NEW_ORDERS = f"{ROOT} #new-orders"
SALES = f"{ROOT} #sales-amount"
RATE_EXCEEDED = "IOPub message rate exceeded"

# A value the page shows is "current" if the kernel's context held it at some moment in the last
# CURRENT_LAG seconds: a tick (render, diff, IOPub, websocket, patch) takes a few ms to reach
# the DOM here, and the samplers poll every 20 ms; 0.5 s leaves room for a loaded 2-core machine
# and is still half of the dashboard's 1 s tick, so a stale value cannot pass for a current one.
CURRENT_LAG = 0.5

# While another view floods the loop, each dashboard value must show within NEIGHBOUR_LAG
# seconds, before the next tick. With the loop thread's rests values showed in 30-80 ms here
# (4 runs; benchmarks/neighbour.py agrees); without them, values showed up to 2.9 s late or not
# at all, and this test failed 4 of 4 runs. One second leaves a loaded machine room to pause.
NEIGHBOUR_LAG = 1.0


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _start_cell(nb: Notebook, index: int) -> None:
    """Run cell ``index`` without waiting for it to finish."""
    nb.js(
        """
        const nb = panel.content;
        nb.deselectAll();
        nb.activeCellIndex = arg;
        app.commands.execute('notebook:run-cell', {widgetId: panel.id, activate: false})
          .catch((e) => console.error('run-cell ' + arg + ' failed: ' + e));
        return true;""",
        index,
    )


def _timed_samples(
    page: Any, selectors: list[str], duration_ms: int, interval_ms: int = 20
) -> list[list[Any]]:
    """Like ``sample_texts``, with the time: ``[seconds since the epoch, text, ...]`` for the
    first sample and for each change (text None where the element is missing)."""
    return list(
        page.evaluate(
            """async ([selectors, duration, interval]) => {
              const read = () => selectors.map((s) => {
                const el = document.querySelector(s);
                return el ? el.textContent : null;
              });
              let last = read();
              const seen = [[Date.now() / 1000, ...last]];
              const end = performance.now() + duration;
              while (performance.now() < end) {
                await new Promise((r) => setTimeout(r, interval));
                const now = read();
                if (JSON.stringify(now) !== JSON.stringify(last)) {
                  seen.push([Date.now() / 1000, ...now]);
                  last = now;
                }
              }
              return seen;
            }""",
            [selectors, duration_ms, interval_ms],
        )
    )


def _cell_texts(nb: Notebook, index: int, selector: str) -> list[str]:
    """textContent of every ``selector`` match inside cell ``index``'s outputs."""
    return list(
        nb.js(
            """
            const cell = panel.content.widgets[arg.index];
            return [...cell.node.querySelectorAll(arg.selector)].map((e) => e.textContent);""",
            {"index": index, "selector": selector},
        )
    )


def _cell_view_ticks(nb: Notebook, index: int, changes: int = 2) -> list[str]:
    """Wait until cell ``index`` shows exactly one ``.busy`` view and its text has changed
    ``changes`` times; returns the texts seen."""
    return list(
        nb.js(
            """
            const cell = panel.content.widgets[arg.index];
            const read = () => {
              const views = cell.node.querySelectorAll('.busy');
              return views.length === 1 ? views[0].textContent : null;
            };
            const deadline = Date.now() + 20000;
            const seen = [];
            for (;;) {
              const text = read();
              if (text !== null && text !== seen[seen.length - 1]) seen.push(text);
              if (seen.length > arg.changes) return seen;
              if (Date.now() > deadline) {
                const n = cell.node.querySelectorAll('.busy').length;
                throw new Error('cell ' + arg.index + ' shows ' + n + ' views, texts '
                                + JSON.stringify(seen));
              }
              await sleep(20);
            }""",
            {"index": index, "changes": changes},
        )
    )


def _set_source(nb: Notebook, index: int, source: str) -> None:
    """Edit cell ``index`` in place (it keeps its id, as when a user edits it)."""
    nb.js(
        "panel.content.model.cells.get(arg.index).sharedModel.setSource(arg.source);",
        {
            "index": index,
            "source": source,
        },
    )


def _delete_cells_from(nb: Notebook, index: int) -> None:
    nb.js(
        """
        const model = panel.content.model.sharedModel;
        while (model.cells.length > arg) model.deleteCell(model.cells.length - 1);""",
        index,
    )


def _all_output_text(nb: Notebook) -> str:
    return json.dumps([nb.outputs(i) for i in range(nb.cell_count())])


def _shut_down(nb: Notebook) -> None:
    """Close the page and shut its kernel down (so it stops using the machine's two cores)."""
    nb.close()
    for session in nb.server.api("GET", "api/sessions") or []:
        if session.get("path") == nb.path:
            nb.server.api("DELETE", f"api/sessions/{urllib.parse.quote(session['id'])}", timeout=15)


# A livewidget bug (see test_a_view_shown_by_a_cell_that_keeps_running_is_patched_in_place):
# until a view's front end has joined, the kernel refreshes the view's output with
# update_display_data; JupyterLab re-creates the widget view for each refresh, and closing the
# widget later logs this error once per view it re-created. A page that is slow to join (a
# loaded machine, 50 views at once) meets it at random, so the tests that close views count it
# apart and fail on any other console error.
RECREATED_VIEW_ERROR = "Failed to execute 'removeChild' on 'Node'"


def _judge_console(nb: Notebook) -> int:
    """Fail on new console errors of the page other than ``RECREATED_VIEW_ERROR``; return how
    many of that one there were."""
    fresh = nb.watch.new_unexpected()
    others = [e for e in fresh if RECREATED_VIEW_ERROR not in e]
    assert not others, "unexpected browser console errors:\n" + "\n".join(others)
    return len(fresh) - len(others)


def _poll_kernel(nb: Notebook, expr: str, until: str, seconds: float = 15.0) -> Any:
    """Evaluate ``expr`` in the kernel every 0.1 s until ``until`` (Python, on ``value``) holds
    or ``seconds`` pass; returns the last value (as JSON)."""
    return _kernel_json(
        nb,
        f"""\
import json as _json, time as _time
_deadline = _time.monotonic() + {seconds}
while True:
    value = {expr}
    if ({until}) or _time.monotonic() > _deadline:
        break
    _time.sleep(0.1)
print(_json.dumps(value))""",
    )


# --------------------------------------------------------------------------------------------
# The dashboard: while a cell blocks, and after a reload
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard(lab: JupyterServer, open_notebook: Callable[..., Notebook]) -> Iterator[Notebook]:
    nb = open_notebook(lab, "dashboard.ipynb")
    nb.run_all()
    nb.page.locator(NEW_ORDERS).wait_for(timeout=30_000)
    yield nb
    _shut_down(nb)


def test_dashboard_ticks_while_another_cell_sleeps(dashboard: Notebook) -> None:
    index = dashboard.add_cell(
        "import time\nslept_from = time.time()\ntime.sleep(5)\nprint(slept_from, time.time())"
    )
    _start_cell(dashboard, index)
    seen = _timed_samples(dashboard.page, [NEW_ORDERS, SALES], duration_ms=6500)
    dashboard.wait_idle()
    start, end = map(float, _stdout(dashboard.outputs(index)).split())
    assert end - start >= 5.0
    during = [s for s in seen[1:] if start < s[0] < end]
    assert all(None not in s for s in seen), seen
    assert len(during) >= 3, (
        f"{len(during)} updates while the cell slept from {start:.3f} to {end:.3f}: {seen}"
    )
    assert dashboard.widget_errors() == []
    print(f"sleep: {len(during)} updates during the 5 s sleep")


def test_a_view_shown_by_a_cell_that_keeps_running_is_patched_in_place(
    dashboard: Notebook,
) -> None:
    index = dashboard.add_cell("import time\nlate = Dashboard()\ndisplay(late)\ntime.sleep(4)")
    try:
        _start_cell(dashboard, index)
        kept = dashboard.js(
            """
            const cell = panel.content.widgets[arg];
            const find = () => cell.node.querySelector('.livewidget');
            const deadline = Date.now() + 30000;
            while (!find() || !find().querySelector('#new-orders')) {
              if (Date.now() > deadline) throw new Error('the view never showed');
              await sleep(20);
            }
            const first = find();
            await sleep(2500);  // the cell still runs: the view ticks on
            return find() === first;""",
            index,
        )
        dashboard.wait_idle()
        dashboard.run_code("late.widget.close()")
        dashboard.page.wait_for_timeout(500)
        close_errors = _judge_console(dashboard)
    finally:
        _delete_cells_from(dashboard, index)  # a closed widget's output would not reload
    assert kept, "the view's DOM was replaced while the cell that showed it ran"
    assert close_errors == 0, f"closing the view logged {close_errors} console errors"


STEPS = """\
import time
import livewidget as lw


class Steps(lw.LiveView):
    \"\"\"Works for 6 s once told to, a step a message (it send_infos itself the next step).\"\"\"

    def mount(self, socket):
        self.until = 0.0
        socket.assign(step=0)

    def handle_info(self, info, socket):
        if info == "go":
            self.until = time.monotonic() + 6
        socket.assign(step=socket.context.step + 1)
        if time.monotonic() < self.until:
            socket.send_info("step")

    def render(self, ctx):
        return lw.html('<b id="step">{step}</b>', **ctx)


steps = Steps()
steps"""


def test_a_view_working_in_steps_shows_progress_and_others_stay_current(
    dashboard: Notebook,
) -> None:
    # the kernel notes each value of the dashboard's new orders, with the time
    dashboard.run_code(
        """\
import time
orders_history = [[time.time(), str(dashboard.widget.context["new_orders"])]]
watch_orders = lambda ch: orders_history.append([time.time(), str(ch["new"]["new_orders"])])
dashboard.widget.observe(watch_orders, "context")"""
    )
    index = dashboard.add_cell(STEPS)
    try:
        dashboard.run_cell(index)
        dashboard.page.locator(f"{ROOT} #step").wait_for()
        _start_cell(dashboard, dashboard.add_cell("steps.widget.send_info('go')"))
        seen = _timed_samples(dashboard.page, [f"{ROOT} #step", NEW_ORDERS], duration_ms=5500)
        dashboard.wait_idle()
        dashboard.page.wait_for_timeout(1000)  # the 6 s of work are over
        history = _kernel_json(
            dashboard,
            "dashboard.widget.unobserve(watch_orders, 'context'); steps.widget.close()\n"
            "import json; print(json.dumps(orders_history))",
        )
        _judge_console(dashboard)
    finally:
        _delete_cells_from(dashboard, index)  # a closed widget's output would not reload
    steps = len({s[1] for s in seen}) - 1
    assert steps >= 3, f"in 5.5 s of work the working view changed {steps} times: {seen}"
    start, end = seen[0][0], seen[0][0] + 5.5
    ticks = [(t, v) for t, v in history if start <= t <= end - NEIGHBOUR_LAG]
    assert len(ticks) >= 3, f"the dashboard ticked {len(ticks)} times in 4.5 s: {history}"
    late = [(t, v) for t, v in ticks if not _shown_within(seen, 2, t, v, NEIGHBOUR_LAG)]
    assert not late, (
        f"while the other view worked, these dashboard values (kernel time, value) did not "
        f"show within {NEIGHBOUR_LAG} s: {late}; page {seen}"
    )


def _shown_within(samples: list[list[Any]], column: int, t: float, value: str, lag: float) -> bool:
    """Whether the page showed ``value`` (``column`` of ``samples``) at a moment in [t, t+lag]."""
    for i, sample in enumerate(samples):
        until = samples[i + 1][0] if i + 1 < len(samples) else float("inf")
        if sample[column] == value and sample[0] <= t + lag and until >= t:
            return True
    return False


def _current_at(history: list[list[Any]], t: float) -> set[tuple[str, str]]:
    """The values the kernel's context held at some moment in [t - CURRENT_LAG, t]."""
    held = set()
    for i, (since, *values) in enumerate(history):
        until = history[i + 1][0] if i + 1 < len(history) else float("inf")
        if since <= t and until >= t - CURRENT_LAG:
            held.add(tuple(values))
    return held


def test_dashboard_after_a_saved_reload_shows_the_kernels_values_and_ticks(
    dashboard: Notebook,
) -> None:
    # the kernel notes each context it holds, with the time
    dashboard.run_code(
        """\
import time
shown = lambda c: [str(c["new_orders"]), f"{c['sales_amount']:,.2f}"]
history = [[time.time(), *shown(dashboard.widget.context)]]
dashboard.widget.observe(lambda ch: history.append([time.time(), *shown(ch["new"])]), "context")"""
    )
    dashboard.save()
    reload_started = time.time()
    dashboard.reload()
    ready = time.time()
    # 8 s: up to 3 s for the kernel's values to show, then time for at least two more ticks
    seen = _timed_samples(dashboard.page, [NEW_ORDERS, SALES], duration_ms=8000)
    history = _kernel_json(dashboard, "import json; print(json.dumps(history))")

    current = [s for s in seen if tuple(s[1:]) in _current_at(history, s[0])]
    assert current, f"the page never showed the kernel's values: page {seen}, kernel {history}"
    first = current[0]
    assert first[0] - ready <= 3.0, (
        f"the kernel's values showed {first[0] - ready:.2f} s after the reloaded notebook was "
        f"ready ({first[0] - reload_started:.2f} s after the reload began): {seen}"
    )
    after = seen[seen.index(first) :]
    assert after == current[current.index(first) :], (
        f"after showing the kernel's values the page showed others: page {seen}, kernel {history}"
    )
    assert len(after) >= 3, f"{len(after) - 1} updates in the 8 s after the reload: {seen}"
    assert dashboard.widget_errors() == []
    print(
        f"reload: current values {first[0] - ready:.2f} s after ready "
        f"({first[0] - reload_started:.2f} s after the reload began), then "
        f"{len(after) - 1} updates; page {seen}"
    )


# --------------------------------------------------------------------------------------------
# A storm: 50 views, each sending itself an info every millisecond, for 5 s
# --------------------------------------------------------------------------------------------

STORM_VIEWS = 50  # also all that one cell shows: JupyterLab's maxNumberOutputs is 50
STORM_SECONDS = 5
# Kernel RSS after the storm's views are closed and collected may exceed the pre-storm
# baseline by at most this much. CPython keeps freed memory in its allocator's arenas (and
# glibc's malloc keeps some too), so RSS after a burst of allocations settles a few MB above
# where it started without any leak (+1.5 to +3.5 MB seen here, on a 57 MB baseline). The storm
# handles well over 100,000 messages (each view counts 2,000 to 3,000 ticks), so a leak of a
# few hundred bytes per message, or of the renders, would pass 20 MB. A leak of the 50 views
# themselves is too small for RSS to show: test_storm_closed_widgets_are_garbage_collected
# checks them with weak references.
RSS_TOLERANCE_MB = 20.0

STORM_SETUP = """\
import ctypes, gc, json, time, weakref
import livewidget as lw
from IPython.display import display


def rss_mb():
    # what the kernel holds, not the freed heap glibc keeps for later
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class Storm(lw.LiveView):
    def mount(self, socket):
        socket.assign(n=0)
        if socket.connected:
            self.ticker = socket.repeat(lambda: socket.send_info("tick"), 1)

    def handle_info(self, info, socket):
        socket.assign(n=socket.context.n + 1)

    def render(self, ctx):
        return lw.html('<b class="storm" id="storm-{i}">{n}</b>', i=self.params["i"], n=ctx.n)


# warm up (imports, livewidget's loop thread, a comm), then the baseline
warm = Storm(i="warm").widget
time.sleep(1)
warm.close()
del warm
gc.collect()
time.sleep(0.5)
print(json.dumps({"baseline_mb": rss_mb()}))"""

STORM_START = f"""\
views = [Storm(i=k) for k in range({STORM_VIEWS})]
display(*views)"""

STORM_STOP = f"""\
time.sleep({STORM_SECONDS})
for view in views:
    view.ticker.cancel()
time.sleep(0.2)
for _ in range(2):  # a tick in a mailbox may still send one more info: let it land
    for view in views:
        view.widget.html  # returns once the view has handled everything queued
final = {{str(view.params["i"]): view.widget.context["n"] for view in views}}
print(json.dumps(final))"""

STORM_CLOSE = """\
refs = [weakref.ref(view.widget) for view in views]
for view in views:
    view.widget.close()
del views, view
gc.collect()
time.sleep(1)
gc.collect()
print(json.dumps({"rss_mb": rss_mb(), "alive": sum(ref() is not None for ref in refs)}))"""


@dataclass
class StormResult:
    baseline_mb: float  # kernel RSS before the storm (after a warm-up view)
    final: dict[str, int]  # each view's count in the kernel once its ticker was cancelled
    shown: dict[str, str | None]  # what the page shows in each view, after a short wait
    after_mb: float  # kernel RSS after closing the views and collecting garbage
    alive: int  # closed widgets still reachable after gc.collect()
    outputs: str  # every output of the storm notebook, as JSON text


@pytest.fixture(scope="module")
def storm(lab: JupyterServer, open_notebook: Callable[..., Notebook]) -> Iterator[StormResult]:
    """Runs the storm once for the tests below: 50 views, each ticking every 1 ms for 5 s."""
    _write_notebook(lab, "storm.ipynb", [STORM_SETUP, STORM_START, STORM_STOP, STORM_CLOSE])
    nb = open_notebook(lab, "storm.ipynb")
    try:
        nb.run_cell(0)
        baseline = json.loads(_stdout(nb.outputs(0)).splitlines()[-1])["baseline_mb"]
        nb.run_cell(1)
        # every view in the page (so it has asked for its render) before a cell blocks the kernel
        nb.page.locator(".storm").nth(STORM_VIEWS - 1).wait_for(timeout=30_000)
        nb.run_cell(2)
        final = json.loads(_stdout(nb.outputs(2)).splitlines()[-1])
        expected = {k: str(v) for k, v in final.items()}
        deadline = time.monotonic() + 10  # the last frames may still be on their way
        while True:
            shown = nb.page.evaluate(
                """(n) => Object.fromEntries([...Array(n).keys()].map((i) => {
                     const el = document.querySelector('#storm-' + i);
                     return [String(i), el ? el.textContent : null];
                   }))""",
                STORM_VIEWS,
            )
            if shown == expected or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert nb.widget_errors() == []
        nb.run_cell(3)
        after = json.loads(_stdout(nb.outputs(3)).splitlines()[-1])
        nb.page.wait_for_timeout(500)
        recreated = _judge_console(nb)
        result = StormResult(
            baseline, final, shown, after["rss_mb"], after["alive"], _all_output_text(nb)
        )
        print(
            f"\nstorm: final counts {min(final.values())}..{max(final.values())}, RSS "
            f"baseline {baseline:.1f} MB, after {after['rss_mb']:.1f} MB, alive {after['alive']}, "
            f"{recreated} re-created-view errors on close"
        )
        yield result
    finally:
        _shut_down(nb)


def test_storm_every_view_ends_showing_its_final_count(storm: StormResult) -> None:
    assert len(storm.final) == STORM_VIEWS
    assert min(storm.final.values()) > 0, storm.final
    wrong = {
        k: (storm.shown.get(k), v) for k, v in storm.final.items() if storm.shown.get(k) != str(v)
    }
    assert not wrong, (
        f"views showing something else than their final count (shown, kernel): {wrong}"
    )


def test_storm_never_exceeds_the_iopub_message_rate(storm: StormResult, lab: JupyterServer) -> None:
    assert RATE_EXCEEDED not in storm.outputs
    assert RATE_EXCEEDED not in lab.log_path.read_text(errors="replace")


def test_storm_kernel_memory_returns_to_its_baseline(storm: StormResult) -> None:
    grew = storm.after_mb - storm.baseline_mb
    assert grew <= RSS_TOLERANCE_MB, (
        f"kernel RSS {storm.after_mb:.1f} MB after closing the views, {grew:+.1f} MB over the "
        f"pre-storm baseline {storm.baseline_mb:.1f} MB (tolerance {RSS_TOLERANCE_MB} MB)"
    )


def test_storm_closed_widgets_are_garbage_collected(storm: StormResult) -> None:
    assert storm.alive == 0, f"{storm.alive} of {STORM_VIEWS} closed widgets are still reachable"


# --------------------------------------------------------------------------------------------
# Nothing left behind: close(), and re-running the cell that made a view
# --------------------------------------------------------------------------------------------

CENSUS_SETUP = """\
import asyncio, json, time
import livewidget as lw
from livewidget import runtime


def nap():
    time.sleep(1)  # a start_async job on a thread of its own, which ends with it


async def forever():
    await asyncio.sleep(3600)  # a start_async task, cancelled when the view closes


class Plain(lw.LiveView):
    def render(self, ctx):
        return lw.html('<i class="plain">plain</i>')


class Busy(lw.LiveView):
    def mount(self, socket):
        socket.assign(n=0)
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 100)
            socket.send_info("later", after_ms=3_600_000)
            socket.subscribe("news")
            socket.start_async("nap", nap)
            socket.start_async("forever", forever)

    def handle_info(self, info, socket):
        if info == "tick":
            socket.assign(n=socket.context.n + 1)

    def render(self, ctx):
        return lw.html('<b class="busy">{n}</b>', **ctx)


runtime.background_loop()  # livewidget's one loop thread, started once per kernel"""

CENSUS = "runtime.census()"


def test_closing_or_rerunning_a_view_leaves_the_census_at_its_baseline(
    lab: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    cells = [CENSUS_SETUP, "warm = Plain()\nwarm", "a = Busy()\na", "b = Busy()\nb"]
    _write_notebook(lab, "census.ipynb", cells)
    nb = open_notebook(lab, "census.ipynb")
    try:
        nb.run_cell(0)
        # The baseline: after a first widget was shown and closed. JupyterLab 4.6 opens a kernel
        # subshell (a thread) for widget comms when the first widget shows; it stays for the
        # kernel's life, as does livewidget's loop thread.
        nb.run_cell(1)
        nb.page.locator(".plain").wait_for()
        nb.run_code("warm.widget.close()")
        baseline = _poll_kernel(nb, CENSUS, "value['views'] == value['tasks'] == 0")
        assert baseline["views"] == baseline["tasks"] == 0, baseline

        # a live view: the page ticks, the census counts what the view started
        nb.run_cell(2)
        _cell_view_ticks(nb, 2)
        live = _kernel_json(nb, f"import json; print(json.dumps({CENSUS}))")
        assert live["views"] == baseline["views"] + 1, (baseline, live)
        assert all(live[k] > baseline[k] for k in ("timers", "tasks", "subscriptions")), (
            baseline,
            live,
        )

        # close(): the page stops ticking, the census returns to the baseline
        nb.run_code("a.widget.close()")
        settled = _poll_kernel(nb, CENSUS, f"value == {baseline!r}")
        assert settled == baseline, (baseline, settled)
        stopped = _timed_samples(nb.page, [".busy"], duration_ms=1000)
        assert len(stopped) == 1, f"the closed view still changes: {stopped}"

        # a cell that made a view, run again: the old view goes, the new one alone remains
        nb.run_cell(3)
        _cell_view_ticks(nb, 3)
        # Once the nap's thread has ended and its task has taken the result, a Busy view holds
        # two tasks: its mailbox worker and the "forever" job. (The thread ends a moment before
        # the loop finishes the task that waited on it, so threads alone do not say it is over.)
        nap_over = f"value['threads'] == {baseline['threads']} and value['tasks'] == 2"
        one_view = _poll_kernel(nb, CENSUS, nap_over)
        assert one_view["views"] == baseline["views"] + 1, (baseline, one_view)
        assert one_view["tasks"] == baseline["tasks"] + 2, (baseline, one_view)
        nb.run_cell(3)
        _cell_view_ticks(nb, 3)
        again = _poll_kernel(nb, CENSUS, f"value == {one_view!r}")
        assert again == one_view, (one_view, again)

        # the same cell edited to make no view, run again: back to the baseline
        _set_source(nb, 3, "b = None")
        nb.run_cell(3)
        settled = _poll_kernel(nb, CENSUS, f"value == {baseline!r}")
        assert settled == baseline, (baseline, settled)
        assert _cell_texts(nb, 3, ".busy") == []
        assert nb.widget_errors() == []
        nb.page.wait_for_timeout(500)
        _judge_console(nb)
    finally:
        _shut_down(nb)

"""`livewidget serve` in headless Chromium: a real uvicorn subprocess, real pages, real sockets.

Each server runs as `python -m livewidget serve TARGET --port P` in a process group of its own,
on a free port, and is stopped (the whole group) when its test module or test ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_e2e import ALLOWED_CONSOLE_ERRORS, NOTEBOOKS, REPO, WATCHES, ConsoleWatch, free_port

pytestmark = pytest.mark.e2e

# Chromium logs a failed WebSocket handshake as a console error: expected while the server
# restarts (test_the_page_reconnects_after_a_server_restart), and only for this front end.
ALLOWED_CONSOLE_ERRORS.setdefault("serve", [r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/"])

CLICKER = textwrap.dedent(
    """
    import os

    import livewidget as lw

    BOOT = os.getpid()


    class Clicker(lw.LiveView):
        def mount(self, socket):
            if socket.connected:
                socket.repeat(lambda: socket.send_info("tick"), 200)
            socket.assign(count=int(self.params.get("start", 0)), ticks=0, boot=BOOT)

        def handle_event(self, event, params, socket):
            if event == "inc":
                socket.assign(count=socket.context.count + 1)

        def handle_info(self, info, socket):
            socket.assign(ticks=socket.context.ticks + 1)

        def render(self, ctx):
            return lw.html(
                '<b id="count">{count}</b> <button id="inc" phx-click="inc">+1</button>'
                '<span id="ticks">{ticks}</span> <span id="boot">{boot}</span>',
                **ctx,
            )
    """
)


BOARD = textwrap.dedent(
    """
    import os

    import livewidget as lw


    class Board(lw.LiveView):
        def mount(self, socket):
            if socket.connected:
                socket.subscribe("board")
            socket.assign(message="none", pid=os.getpid())

        def handle_info(self, info, socket):
            socket.assign(message=info["text"])

        def render(self, ctx):
            return lw.html('<b id="message">{message}</b> <i id="pid">{pid}</i>', **ctx)
    """
)


WIDGETS = textwrap.dedent(
    '''
    import anywidget
    import ipywidgets
    import traitlets
    from plotly.graph_objects import FigureWidget

    import livewidget as lw

    COUNTER_ESM = """
    export default {
      render({ model, el }) {
        const button = document.createElement("button");
        button.id = "widget-button";
        const show = () => { button.textContent = `clicked ${model.get("value")}`; };
        button.addEventListener("click", () => {
          model.set("value", model.get("value") + 1);
          model.save_changes();
        });
        model.on("change:value", show);
        show();
        el.append(button);
      }
    };
    """


    class Counter(anywidget.AnyWidget):
        _esm = COUNTER_ESM
        _css = "#widget-button { color: rgb(200, 0, 0); }"
        value = traitlets.Int(0).tag(sync=True)


    class Widgets(lw.LiveView):
        def mount(self, socket):
            self.counter = Counter()
            self.counter.observe(lambda change: socket.assign(clicks=change["new"]), "value")
            self.chart = FigureWidget(data=[{"y": [0, 1, 2], "mode": "markers"}])
            self.slider = ipywidgets.IntSlider(value=3, max=10, description="speed")
            self.slider.observe(lambda change: socket.assign(speed=change["new"]), "value")
            self.picker = ipywidgets.Output()
            if socket.connected:
                socket.repeat(lambda: socket.send_info("tick"), 300)
            socket.assign(clicks=0, points=3, speed=3)

        def handle_info(self, info, socket):
            points = min(socket.context.points + 1, 12)
            self.chart.data[0].y = list(range(points))
            socket.assign(points=points)

        def handle_event(self, event, params, socket):
            self.counter.value = 10

        def render(self, ctx):
            return lw.html(
                '<p id="clicks">{clicks}</p> <button id="ten" phx-click="ten">10</button>'
                '{counter} <div id="chart">{chart}</div> <p id="speed">{speed}</p>'
                '<div id="slider">{slider}</div> <div id="picker">{picker}</div>',
                counter=self.counter, chart=self.chart, slider=self.slider, picker=self.picker,
                **ctx,
            )
    '''
)


ALTAIR = textwrap.dedent(
    """
    import altair as alt
    import pandas as pd

    import livewidget as lw

    alt.JupyterChart.enable_offline()  # vega-embed from vl-convert, not a CDN
    DATA = pd.DataFrame({"x": [1, 2, 3, 4], "y": [4, 1, 3, 2], "name": list("abcd")})


    class Picker(lw.LiveView):
        def mount(self, socket):
            pick = alt.selection_point(name="pick", fields=["name"])
            chart = alt.Chart(DATA).mark_circle(size=400).encode(x="x", y="y").add_params(pick)
            self.chart = alt.JupyterChart(chart)
            self.chart.selections.observe(
                lambda change: socket.assign(
                    picked=",".join(v["name"] for v in change["new"].value) or "none"
                ),
                ["pick"],
            )
            socket.assign(picked="none")

        def render(self, ctx):
            return lw.html('<p id="picked">{picked}</p><div id="chart">{chart}</div>',
                           chart=self.chart, **ctx)
    """
)


BOXES = textwrap.dedent(
    """
    import ipywidgets

    import livewidget as lw


    class Panel(lw.LiveView):
        def mount(self, socket):
            self.slider = ipywidgets.IntSlider(value=2, max=10, description="a long description")
            self.slider.layout.width = "420px"
            self.slider.style.description_width = "initial"
            self.slider.observe(lambda change: socket.assign(level=change["new"]), "value")
            self.progress = ipywidgets.IntProgress(value=0, max=5, bar_style="success")
            self.swap = ipywidgets.Button(description="swap")
            self.swap.style.button_color = "rgb(255, 214, 102)"
            self.swap.on_click(self.swap_label)
            self.row = ipywidgets.HBox([ipywidgets.Label("before"), self.swap])
            self.tabs = ipywidgets.Tab(
                [ipywidgets.Label("first panel"), ipywidgets.Label("second panel")],
                titles=["One", "Two"],
            )
            self.tabs.observe(lambda change: socket.assign(tab=change["new"]), "selected_index")
            self.span = ipywidgets.IntRangeSlider(value=(2, 6), max=10, description="span")
            self.span.observe(lambda change: socket.assign(span="%d-%d" % change["new"]), "value")
            self.unit = ipywidgets.ToggleButtons(options=["day", "week"])
            self.unit.observe(lambda change: socket.assign(unit=change["new"]), "value")
            self.panel = ipywidgets.VBox(
                [self.slider, self.progress, self.row, self.span, self.unit, self.tabs]
            )
            if socket.connected:
                socket.repeat(lambda: socket.send_info("tick"), 200)
            socket.assign(level=2, tab=0, span="2-6", unit="day")

        def swap_label(self, _button):
            self.row.children = [ipywidgets.Label("after"), self.swap]

        def handle_info(self, info, socket):
            self.progress.value = min(self.progress.value + 1, 5)

        def render(self, ctx):
            return lw.html(
                '<p id="level">{level}</p><p id="tab">{tab}</p><p id="span">{span}</p>'
                '<p id="unit">{unit}</p><div id="panel">{panel}</div>',
                panel=self.panel, **ctx,
            )
    """
)


PLAYER = textwrap.dedent(
    """
    import struct
    import zlib

    import ipywidgets

    import livewidget as lw


    def png(width, height):
        \"\"\"A red PNG of width x height.\"\"\"
        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
        rows = b"".join(b"\\x00" + b"\\xff\\x00\\x00" * width for _ in range(height))
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


    class Player(lw.LiveView):
        def mount(self, socket):
            self.play = ipywidgets.Play(value=0, max=4, interval=100, description="steps")
            self.play.observe(lambda change: socket.assign(step=change["new"]), "value")
            self.note = ipywidgets.HTML(
                value='<b id="bold">live</b> figures',
                description="<i>HTML</i> note",
                description_allow_html=True,
            )
            self.image = ipywidgets.Image(value=png(3, 2), format="png")
            self.valid = ipywidgets.Valid(value=False, readout="not yet")
            self.stack = ipywidgets.Stack(
                [ipywidgets.Label("first page"), ipywidgets.Label("second page")],
                selected_index=0,
            )
            socket.assign(step=0)

        def handle_event(self, event, params, socket):
            self.valid.value = True
            self.stack.selected_index = 1

        def render(self, ctx):
            return lw.html(
                '<p id="step">{step}</p><button id="ok" phx-click="ok">ok</button>'
                '<div id="player">{play}{note}{image}{valid}</div><div id="stack">{stack}</div>',
                play=self.play, note=self.note, image=self.image, valid=self.valid,
                stack=self.stack, **ctx,
            )
    """
)


@dataclass
class Served:
    """A `livewidget serve` subprocess."""

    target: str
    cwd: Path
    extra: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> Served:
        self.log = Path(tempfile.mkstemp(prefix="lw-serve-", suffix=".log")[1])
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [
            sys.executable,
            "-m",
            "livewidget",
            "serve",
            self.target,
            "--port",
            str(self.port),
            *self.extra,
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=env, stdout=out, stderr=out, start_new_session=True
            )
        deadline = time.monotonic() + 30
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"livewidget serve did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lw-serve-e2e-") as tmp:
        (Path(tmp) / "clicker.py").write_text(CLICKER)
        (Path(tmp) / "board.py").write_text(BOARD)
        (Path(tmp) / "widgets.py").write_text(WIDGETS)
        (Path(tmp) / "picker.py").write_text(ALTAIR)
        (Path(tmp) / "boxes.py").write_text(BOXES)
        (Path(tmp) / "player.py").write_text(PLAYER)
        yield Path(tmp)


@pytest.fixture(scope="module")
def dashboard(workdir: Path) -> Iterator[Served]:
    served = Served(f"{NOTEBOOKS / 'dashboard.ipynb'}:Dashboard", workdir).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def clicker(workdir: Path) -> Iterator[Served]:
    served = Served("clicker.py:Clicker", workdir).start()
    yield served
    served.stop()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def _open(url: str) -> Any:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        watch = ConsoleWatch(f"serve:{url}", "serve")
        watch.attach(page)
        # A failure report shows the page's WebSocket traffic beside its console.
        page.on("websocket", lambda ws: log_frames(ws, watch.entries))
        WATCHES.append(watch)
        page.goto(url)
        return page

    yield _open
    for context in contexts:
        context.close()


def log_frames(ws: Any, entries: list[str], limit: int = 300) -> None:
    """Record the frames of one WebSocket (each cut to ``limit`` characters) in ``entries``."""
    start = time.monotonic()

    def record(direction: str, payload: Any) -> None:
        text = payload if isinstance(payload, str) else f"<{len(payload)} bytes>"
        entries.append(f"[ws {time.monotonic() - start:7.3f}s {direction}] {text[:limit]}")

    entries.append(f"[ws open] {ws.url}")
    ws.on("framesent", lambda payload: record("sent", payload))
    ws.on("framereceived", lambda payload: record("recv", payload))
    ws.on("close", lambda _ws: entries.append("[ws close]"))


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text())


def wait_for_change(page: Any, selector: str, times: int = 2) -> list[str]:
    """Wait until the text at ``selector`` has changed ``times`` times; the texts seen."""
    seen = [text_of(page, selector)]
    deadline = time.monotonic() + 30
    while len(seen) <= times:
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} did not change {times} times: {seen}")
        now = text_of(page, selector)
        if now != seen[-1]:
            seen.append(now)
        time.sleep(0.05)
    return seen


def test_the_served_dashboard_ticks_while_the_user_types(dashboard: Served, open_page: Any) -> None:
    from playwright.sync_api import expect

    page = open_page(dashboard.url)
    expect(page.locator("h1")).to_have_text("Sales Dashboard")
    page.locator("#note").fill("kept")
    seen = wait_for_change(page, "#sales-amount", times=2)
    assert all(re.fullmatch(r"[\d,]+\.\d\d", amount) for amount in seen)
    expect(page.locator("#note")).to_have_value("kept")  # patched around, not replaced
    assert page.locator("#lw-status").is_hidden()


def test_a_click_reaches_python_and_comes_back(clicker: Served, open_page: Any) -> None:
    from playwright.sync_api import expect

    page = open_page(clicker.url)
    expect(page.locator("#count")).to_have_text("0")
    for _ in range(3):
        page.locator("#inc").click()
    expect(page.locator("#count")).to_have_text("3")


def test_two_tabs_hold_two_independent_views(clicker: Served, open_page: Any) -> None:
    from playwright.sync_api import expect

    first, second = open_page(clicker.url), open_page(clicker.url)
    expect(first.locator("#count")).to_have_text("0")
    expect(second.locator("#count")).to_have_text("0")
    first.locator("#inc").click()
    first.locator("#inc").click()
    expect(first.locator("#count")).to_have_text("2")
    wait_for_change(second, "#ticks", times=2)  # the second view is live...
    expect(second.locator("#count")).to_have_text("0")  # ...and its own


def test_the_query_string_arrives_as_params(clicker: Served, open_page: Any) -> None:
    from playwright.sync_api import expect

    page = open_page(clicker.url + "?start=5")
    expect(page.locator("#count")).to_have_text("5")
    page.locator("#inc").click()
    expect(page.locator("#count")).to_have_text("6")


def test_the_page_reconnects_after_a_server_restart(workdir: Path, open_page: Any) -> None:
    from playwright.sync_api import expect

    served = Served("clicker.py:Clicker", workdir).start()
    try:
        page = open_page(served.url + "?start=1")
        expect(page.locator("#count")).to_have_text("1")
        first_boot = text_of(page, "#boot")
        served.stop()
        expect(page.locator("#lw-status")).to_be_visible()
        expect(page.locator("#lw-status")).to_contain_text("Offline")
        assert page.evaluate("document.documentElement.classList.contains('lw-offline')")
        served.start()
        expect(page.locator("#lw-status")).to_be_hidden()
        expect(page.locator("#boot")).not_to_have_text(first_boot)  # a view of the new server
        expect(page.locator("#count")).to_have_text("1")  # mounted again with its params
        wait_for_change(page, "#ticks", times=2)
        page.locator("#inc").click()
        expect(page.locator("#count")).to_have_text("2")
    finally:
        served.stop()


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A redis-server of the test's own on a free port (never a system one); its URL."""
    binary = "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.skip("no /usr/bin/redis-server (apt-get install -y redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise AssertionError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def test_a_broadcast_from_a_plain_process_reaches_every_tab_of_two_workers(
    workdir: Path, open_page: Any
) -> None:
    import livewidget

    if not hasattr(livewidget, "configure"):
        pytest.skip("needs livewidget.configure(pubsub=...), the Redis bus of issue 12")
    from playwright.sync_api import expect

    with redis_server(workdir) as url:
        served = Served("board.py:Board", workdir, ("--workers", "2", "--pubsub", url)).start()
        try:
            pages = [open_page(served.url) for _ in range(6)]
            for page in pages:
                expect(page.locator("#message")).to_have_text("none")
            workers = {text_of(page, "#pid") for page in pages}
            publish = (
                "import sys, livewidget as lw, livewidget.pubsub as ps; "
                "lw.configure(pubsub=sys.argv[1]); ps.broadcast('board', {'text': 'hello all'})"
            )
            deadline = time.monotonic() + 30
            # Each view subscribes as it mounts, and its worker's SUBSCRIBE reaches Redis a
            # moment later: publish again (the same message) until every tab shows it.
            while not all(text_of(page, "#message") == "hello all" for page in pages):
                if time.monotonic() > deadline:
                    shown = [text_of(page, "#message") for page in pages]
                    raise AssertionError(f"not every tab got the broadcast: {shown}")
                env = {**os.environ, "PYTHONPATH": str(REPO)}
                subprocess.run([sys.executable, "-c", publish, url], env=env, check=True)
                time.sleep(0.5)
            print(f"tabs served by {len(workers)} worker process(es): {sorted(workers)}")
        finally:
            served.stop()


def test_components_forms_hooks_and_push_events_work_as_in_the_notebook(
    workdir: Path, open_page: Any
) -> None:
    from playwright.sync_api import expect

    todos = Served(f"{NOTEBOOKS / 'todos.ipynb'}:Todos", workdir).start()
    dots = Served(f"{NOTEBOOKS / 'hooks.ipynb'}:Dots", workdir).start()
    try:
        page = open_page(todos.url)
        expect(page.locator("#todos li")).to_have_count(2)
        page.locator("#add input[name=text]").fill("Serve it")
        page.locator("#add button").click()  # phx-submit
        expect(page.locator("#todos li")).to_have_count(3)
        expect(page.locator("#todo-3")).to_contain_text("Serve it")
        page.locator("#todo-3 input[type=checkbox]").click()  # phx-target: the component
        expect(page.locator("#todo-3")).to_have_class("done")
        expect(page.locator("#todo-1")).to_have_class("open")

        page = open_page(dots.url)
        canvas = page.locator("#canvas")
        expect(canvas).to_have_attribute("data-drawn", "0")  # the hook mounted and drew
        canvas.click(position={"x": 20, "y": 30})  # the hook's pushEvent
        expect(page.locator("#count")).to_have_text("1")
        expect(canvas).to_have_attribute("data-drawn", "1")  # updated()
        expect(canvas).to_have_css("border-top-color", "rgb(255, 99, 71)")  # push_event: tomato
    finally:
        todos.stop()
        dots.stop()


def test_the_served_chat_broadcasts_from_one_tab_to_every_tab(
    workdir: Path, open_page: Any
) -> None:
    """notebooks/pubsub.ipynb's Chat, served: each tab's view is named by its URL, and a
    message said in one tab reaches every tab's view through pub/sub (handle_info)."""
    from playwright.sync_api import expect

    served = Served(f"{NOTEBOOKS / 'pubsub.ipynb'}:Chat", workdir).start()
    try:
        ann = open_page(f"{served.url}?name=Ann")
        ben = open_page(f"{served.url}?name=Ben")
        guest = open_page(served.url)
        expect(ann.locator("h3")).to_have_text("Ann")
        expect(ben.locator("h3")).to_have_text("Ben")
        expect(guest.locator("h3")).to_have_text("guest")
        ann.locator("input[name=text]").fill("hello from Ann")
        ann.locator("button[type=submit]").click()
        for page in (ann, ben, guest):
            expect(page.locator(".messages li")).to_have_text(["Ann: hello from Ann"])
        ben.locator("input[name=text]").fill("hi <b>Ann</b>")  # text, escaped
        ben.locator("input[name=text]").press("Enter")
        for page in (ann, ben, guest):
            expect(page.locator(".messages li")).to_have_text(
                ["Ann: hello from Ann", "Ben: hi <b>Ann</b>"]
            )
        expect(ann.locator(".messages b")).to_have_text(["Ann", "Ben"])  # the names, no more
    finally:
        served.stop()


def test_anywidgets_and_ipywidgets_controls_in_a_served_view_sync_both_ways(
    workdir: Path, open_page: Any
) -> None:
    from playwright.sync_api import expect

    served = Served("widgets.py:Widgets", workdir).start()
    try:
        page = open_page(served.url)
        button = page.locator("#widget-button")
        expect(button).to_have_text("clicked 0")
        expect(button).to_have_css("color", "rgb(200, 0, 0)")  # the widget's _css
        button.click()
        button.click()
        expect(page.locator("#clicks")).to_have_text("2")  # the page's change ran in Python
        page.locator("#ten").click()
        expect(button).to_have_text("clicked 10")  # Python's change reached the widget
        expect(page.locator("#clicks")).to_have_text("10")

        points = page.locator("#chart .js-plotly-plot .scatterlayer .point")
        expect(points).to_have_count(12, timeout=30_000)  # plotly, updated from handle_info
        slider = page.locator("#slider input[type=range]")  # ipywidgets' slider, drawn here
        expect(slider).to_have_value("3")
        expect(page.locator("#slider .lw-control-description")).to_have_text("speed")
        slider.fill("8")
        expect(page.locator("#speed")).to_have_text("8")  # its observer ran in the view
        note = page.locator("#picker .lw-widget-note")  # a control no served page draws
        expect(note).to_contain_text("Output is a Jupyter widget")
    finally:
        served.stop()


def test_ipywidgets_boxes_in_a_served_view_hold_live_controls_with_their_layout_and_style(
    workdir: Path, open_page: Any
) -> None:
    from playwright.sync_api import expect

    served = Served("boxes.py:Panel", workdir).start()
    try:
        page = open_page(served.url)
        panel = page.locator("#panel .lw-vbox")
        slider = page.get_by_role("slider", name="a long description")
        expect(slider).to_have_value("2")
        # the slider's layout (420px) and style (the description at its own width)
        slider_box = panel.locator(".lw-served-control", has=slider)
        expect(slider_box).to_have_css("width", "420px")
        description = panel.locator(".lw-control-description", has_text="a long description")
        expect(description).to_be_visible()
        assert description.evaluate("el => el.scrollWidth <= el.clientWidth")  # not cut short
        slider.fill("7")
        expect(page.locator("#level")).to_have_text("7")  # a control in a box reaches Python

        bar = panel.locator("progress")
        expect(bar).to_have_attribute("data-bar-style", "success")
        expect(bar).to_have_js_property("value", 5)  # Python's ticks

        row = panel.locator(".lw-hbox")
        swap = row.locator("button", has_text="swap")
        expect(swap).to_have_css("background-color", "rgb(255, 214, 102)")
        expect(row).to_contain_text("before")
        swap.click()  # its on_click gives the HBox new children
        expect(row).to_contain_text("after")
        expect(row).not_to_contain_text("before")

        thumbs = panel.locator(".lw-control-range input[type=range]")
        expect(thumbs).to_have_count(2)
        thumbs.nth(1).fill("9")
        expect(page.locator("#span")).to_have_text("2-9")
        panel.locator(".lw-control-toggles button", has_text="week").click()
        expect(page.locator("#unit")).to_have_text("week")
        expect(panel.locator(".lw-control-toggles button", has_text="week")).to_have_attribute(
            "aria-pressed", "true"
        )

        tabs = panel.locator(".lw-tab")
        expect(tabs.locator("[role=tab]")).to_have_text(["One", "Two"])
        expect(tabs.get_by_text("first panel")).to_be_visible()
        expect(tabs.get_by_text("second panel")).to_be_hidden()
        tabs.locator("[role=tab]", has_text="Two").click()
        expect(tabs.get_by_text("second panel")).to_be_visible()
        expect(page.locator("#tab")).to_have_text("1")
        page.screenshot(path=str(workdir / "boxes.png"))
    finally:
        served.stop()


def test_a_served_play_html_image_and_valid_widget_draw_and_the_play_steps_python(
    workdir: Path, open_page: Any
) -> None:
    from playwright.sync_api import expect

    served = Served("player.py:Player", workdir).start()
    try:
        page = open_page(served.url)
        player = page.locator("#player")
        html = player.locator(".lw-control-html")
        expect(html.locator("b#bold")).to_have_text("live")  # the value is HTML, as in Jupyter
        expect(html).to_have_text("live figures")
        expect(player.locator(".lw-control-description i")).to_have_text("HTML")
        image = player.locator("img.lw-control-image")
        expect(image).to_have_js_property("naturalWidth", 3)  # the PNG's bytes, decoded
        expect(image).to_have_js_property("naturalHeight", 2)
        valid = player.locator(".lw-control-valid")
        expect(valid).to_have_text("\u2718 not yet")
        stack = page.locator("#stack .lw-stack")
        expect(stack.get_by_text("first page")).to_be_visible()
        expect(stack.get_by_text("second page")).to_be_hidden()
        page.locator("#ok").click()
        expect(valid).to_have_text("\u2714")  # Python's change
        expect(stack.get_by_text("second page")).to_be_visible()  # Python picked it
        expect(stack.get_by_text("first page")).to_be_hidden()

        play = player.get_by_role("button", name="play")
        play.click()  # the page steps the value every 100 ms, each step observed in Python
        expect(page.locator("#step")).to_have_text("4")
        expect(play).to_have_attribute("aria-pressed", "false")  # it stopped at max
        page.screenshot(path=str(workdir / "player.png"))
    finally:
        served.stop()


def test_a_point_picked_in_a_served_altair_chart_reaches_python(
    workdir: Path, open_page: Any
) -> None:
    from playwright.sync_api import expect

    served = Served("picker.py:Picker", workdir).start()
    try:
        page = open_page(served.url)
        points = page.locator("#chart .vega-embed g.mark-symbol path")
        expect(points).to_have_count(4)
        expect(page.locator("#picked")).to_have_text("none")
        points.nth(0).click()
        expect(page.locator("#picked")).to_have_text("a")  # the selection's observer assigned
        points.nth(1).click()
        expect(page.locator("#picked")).to_have_text("b")
    finally:
        served.stop()


def test_the_served_sales_analytics_shows_its_live_chart_table_and_stream(
    workdir: Path, open_page: Any
) -> None:
    from playwright.sync_api import expect

    served = Served(f"{NOTEBOOKS / 'sales_analytics.ipynb'}:SalesAnalytics", workdir).start()
    try:
        page = open_page(served.url)
        chart = page.locator(".js-plotly-plot")
        expect(chart).to_be_visible()
        line = chart.locator(".scatterlayer path.js-line")
        first = line.get_attribute("d")
        expect(line).not_to_have_attribute("d", first or "", timeout=10_000)  # it ticks
        expect(page.locator("table.dataframe tbody tr")).to_have_count(4)  # by region
        expect(page.locator("table.orders tr").first).to_be_visible()  # the stream of orders
        slider = page.locator("input[type=range]")  # the window, in seconds
        expect(slider).to_have_value("30")
        slider.fill("10")
        points = chart.locator(".scatterlayer .point")
        expect(points).to_have_count(10, timeout=10_000)  # the next tick draws 10 seconds
    finally:
        served.stop()

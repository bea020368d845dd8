"""livewidget.serve: the web door, through Starlette's TestClient (a real ASGI app, in process)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

with warnings.catch_warnings():
    # Starlette 1.x warns that its test client will move from httpx to httpx2; the venv has
    # httpx, which works (the warning is about the future), and pytest turns warnings to errors.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

import livewidget as lw
from livewidget.runtime import MAX_QUEUED_FROM_PAGE, census
from livewidget.serve import TargetError, app, asgi, load_target
from livewidget.serve.asgi import origin_allowed
from livewidget.serve.cli import ENV_PUBSUB, ENV_TARGET, make_app
from livewidget.serve.target import NotebookCells

ROOT = Path(__file__).resolve().parents[2]


class Clicks(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(
            count=int(self.params.get("start", 0)),
            connected=socket.connected,
            params=repr(sorted(self.params.items())),
        )

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event == "inc":
            socket.assign(count=socket.context.count + int(params.get("by", 1)))
        elif event == "push":
            socket.push_event("hello", {"n": socket.context.count})

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<b id="count">{count}</b> <i id="connected">{connected}</i> <p>{params}</p>'
            '<button phx-click="inc" phx-value-by="2">+2</button>',
            **ctx,
        )


gate = threading.Event()


class Slow(lw.LiveView):
    """Every event waits for ``gate``: the page's messages pile up in the mailbox."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(n=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        gate.wait(10)
        socket.assign(n=socket.context.n + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<b>{n}</b>", **ctx)


class Ticking(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 50)
            socket.subscribe("news")
        socket.assign(ticks=0)

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        socket.assign(ticks=socket.context.ticks + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<b>{ticks}</b>", **ctx)


def click(by: int = 2) -> dict[str, Any]:
    return {"type": "event", "event": "inc", "kind": "click", "value": {"by": str(by)}}


def receive(ws: Any, kind: str | None = None) -> dict[str, Any]:
    """The next message (of ``kind``, skipping others such as "settled")."""
    while True:
        message: dict[str, Any] = json.loads(ws.receive_text())
        if kind is None or message["type"] == kind:
            return message


def html_of(payload: dict[str, Any]) -> str:
    """The text of a payload's dynamics, enough to find a value in it."""
    return json.dumps(payload["rendered"])


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app({"/": Clicks, "/slow": Slow, "/ticking": Ticking})) as test_client:
        yield test_client


def closing_code(ws: Any) -> int:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            ws.receive_text()
    except WebSocketDisconnect as closed:
        return closed.code


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.01)


# -- the page and the bundle -------------------------------------------------------------------


def test_the_page_is_a_shell_that_loads_the_bundle_and_names_the_views_hooks(
    client: TestClient,
) -> None:
    class Hooked(Clicks):
        hooks = "export default {}; // </script><script>alert(1)</script>"

    with TestClient(app({"/h": Hooked}, title="<Dash>")) as hooked:
        page = hooked.get("/h")
    assert page.status_code == 200
    assert '<script type="module" src="/_livewidget/page.js">' in page.text
    assert "<title>&lt;Dash&gt;</title>" in page.text
    assert "</script><script>alert" not in page.text  # the hooks cannot end their script
    config = page.text.split('id="lw-config">')[1].split("</script>")[0]
    assert json.loads(config)["hooks"] == Hooked.hooks
    assert client.get("/_livewidget/page.js").headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    "path",
    [
        "/_livewidget/widget.js",
        "/_livewidget/..%2F..%2Fpyproject.toml",
        "/_livewidget/%2e%2e/__init__.py",
        "/_livewidget/../serve/app.py",
        "/pyproject.toml",
        "/_livewidget/",
    ],
)
def test_nothing_of_the_file_system_is_served_but_the_bundle(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


# -- one view per socket -----------------------------------------------------------------------


def test_a_socket_gets_a_connected_view_mounted_with_the_query_parameters(
    client: TestClient,
) -> None:
    with client.websocket_connect("/?start=5&who=ann") as ws:
        full = receive(ws, "full")
    assert full["seq"] == 1
    assert '"5"' in html_of(full)
    assert "True" in html_of(full)
    assert "('start', '5'), ('who', 'ann')" in html_of(full).replace("&#39;", "'")


def test_a_click_comes_back_as_a_diff_of_the_count(client: TestClient) -> None:
    with client.websocket_connect("/?start=5") as ws:
        receive(ws, "full")
        ws.send_text(json.dumps(click(2)))
        diff = receive(ws, "diff")
    assert diff["seq"] == 2
    assert diff["rendered"] == {"0": "7"}


def test_two_sockets_hold_two_independent_views(client: TestClient) -> None:
    with client.websocket_connect("/") as a, client.websocket_connect("/?start=100") as b:
        receive(a, "full"), receive(b, "full")
        for _ in range(3):
            a.send_text(json.dumps(click(1)))
            receive(a, "diff")
        b.send_text(json.dumps(click(1)))
        assert receive(b, "diff")["rendered"] == {"0": "101"}  # b never saw a's clicks
        a.send_text(json.dumps(click(1)))
        assert receive(a, "diff")["rendered"] == {"0": "4"}


def test_a_join_resyncs_with_a_full_render(client: TestClient) -> None:
    with client.websocket_connect("/?start=1") as ws:
        receive(ws, "full")
        ws.send_text(json.dumps(click(1)))
        receive(ws, "diff")
        ws.send_text(json.dumps({"type": "join"}))
        full = receive(ws, "full")
    assert full["seq"] == 3
    assert '"2"' in html_of(full)


def test_push_event_reaches_the_page(client: TestClient) -> None:
    with client.websocket_connect("/") as ws:
        receive(ws, "full")
        ws.send_text(json.dumps({"type": "event", "event": "push", "kind": "click", "value": {}}))
        push = receive(ws, "push_event")
    assert push == {"type": "push_event", "event": "hello", "payload": {"n": 0}}


def test_heartbeats_are_answered(client: TestClient) -> None:
    with client.websocket_connect("/") as ws:
        ws.send_text('{"type": "heartbeat"}')
        assert receive(ws, "heartbeat") == {"type": "heartbeat"}


def test_a_silent_page_is_closed_after_the_heartbeat_timeout() -> None:
    with (
        TestClient(app({"/": Clicks}, heartbeat_timeout=0.2)) as client,
        client.websocket_connect("/") as ws,
    ):
        receive(ws, "full")
        code = closing_code(ws)
    assert code == 1001


def test_a_page_whose_heartbeats_come_in_time_stays_open_past_the_timeout() -> None:
    with (
        TestClient(app({"/": Clicks}, heartbeat_timeout=0.5)) as client,
        client.websocket_connect("/") as ws,
    ):
        receive(ws, "full")
        for _ in range(8):  # 1.6 s, three timeouts' worth
            time.sleep(0.2)
            ws.send_text('{"type": "heartbeat"}')
            assert receive(ws, "heartbeat") == {"type": "heartbeat"}
        ws.send_text(json.dumps(click(by=3)))
        assert '"3"' in html_of(receive(ws, "diff"))


def test_of_two_pages_on_one_server_the_silent_one_is_closed_and_the_beating_one_lives_on() -> None:
    with (
        TestClient(app({"/": Clicks}, heartbeat_timeout=0.4)) as client,
        client.websocket_connect("/") as beating,
        client.websocket_connect("/") as silent,
    ):
        receive(beating, "full")
        receive(silent, "full")
        started = time.monotonic()
        for _ in range(6):  # 1.2 s, three timeouts' worth
            time.sleep(0.2)
            beating.send_text('{"type": "heartbeat"}')
            assert receive(beating, "heartbeat") == {"type": "heartbeat"}
        assert closing_code(silent) == 1001
        assert time.monotonic() - started < 5  # found within a sweep or two of its timeout
        beating.send_text(json.dumps(click(by=3)))
        assert '"3"' in html_of(receive(beating, "diff"))


def test_the_silence_sweep_closes_only_the_sessions_silent_past_their_timeout_then_stops() -> None:
    """One timer a loop (``_Silence``) for every session's heartbeat: it closes those whose
    page was silent longer than their own timeout, keeps the others, and leaves no timer once
    no session is watched."""
    from livewidget.serve import asgi

    class Page:
        def __init__(self, timeout: float, heard: float) -> None:
            self.timeout, self.heard, self.silent = timeout, heard, False

        def went_silent(self) -> None:
            self.silent = True
            sweep.forget(self)  # type: ignore[arg-type]  # as _Session.close does

    async def scenario() -> tuple[list[bool], bool, bool]:
        nonlocal sweep
        loop = asyncio.get_running_loop()
        sweep = asgi._Silence()
        now = loop.time()
        pages = [
            Page(0.2, now - 1.0),  # silent past its timeout
            Page(0.2, now + 10.0),  # heard from (a frame "in the future" keeps it fresh)
            Page(5.0, now - 1.0),  # silent, but its own timeout is longer
        ]
        for page in pages:
            sweep.watch(page)  # type: ignore[arg-type]  # what the sweep reads of a session
        await asyncio.sleep(0.3)  # a quarter of the shortest timeout: a few sweeps
        armed = sweep._handle is not None
        for page in pages:
            sweep.forget(page)  # type: ignore[arg-type]
        return [page.silent for page in pages], armed, sweep._handle is None

    sweep: Any = None
    silent, armed_while_watching, stopped = asyncio.run(scenario())
    assert silent == [True, False, False]
    assert armed_while_watching
    assert stopped


def test_a_closed_socket_leaves_no_view_timer_task_or_subscription(client: TestClient) -> None:
    baseline = census()
    with client.websocket_connect("/ticking") as ws:
        receive(ws, "full")
        receive(ws, "diff")  # it ticks
        during = census()
        assert during["views"] == baseline["views"] + 1
        assert during["timers"] == baseline["timers"] + 1
        assert during["subscriptions"] == baseline["subscriptions"] + 1
        assert during["sockets"] == baseline["sockets"] + 1
    wait_for(lambda: census()["views"] == baseline["views"])
    wait_for(lambda: census()["sockets"] == baseline["sockets"])
    after = census()
    assert after["timers"] == baseline["timers"]
    assert after["subscriptions"] == baseline["subscriptions"]
    wait_for(lambda: census()["threads"] <= baseline["threads"])


# -- security ----------------------------------------------------------------------------------


def test_a_socket_from_another_origin_is_refused(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert refused.value.code == 1008


def test_a_socket_from_the_same_host_is_accepted(client: TestClient) -> None:
    with client.websocket_connect("/", headers={"origin": "http://testserver"}) as ws:
        assert receive(ws, "full")["seq"] == 1


def test_origins_in_the_list_are_accepted_and_others_still_refused() -> None:
    allowed = ["https://app.example"]
    assert origin_allowed("https://app.example", "internal:8000", allowed)
    assert not origin_allowed("https://evil.example", "internal:8000", allowed)
    assert origin_allowed("http://internal:8000", "internal:8000", allowed)
    assert origin_allowed("https://evil.example", "internal:8000", False)
    assert origin_allowed(None, "internal:8000", True)  # not a browser
    with (
        TestClient(app({"/": Clicks}, check_origin=allowed)) as client,
        client.websocket_connect("/", headers={"origin": "https://app.example"}) as ws,
    ):
        assert receive(ws, "full")["seq"] == 1


def test_a_message_over_the_size_limit_closes_the_socket() -> None:
    with (
        TestClient(app({"/": Clicks}, max_message_bytes=1000)) as client,
        client.websocket_connect("/") as ws,
    ):
        receive(ws, "full")
        ws.send_text(
            json.dumps(
                {"type": "event", "event": "inc", "kind": "click", "value": {"x": "y" * 2000}}
            )
        )
        code = closing_code(ws)
    assert code == 1009


def test_a_binary_frame_closes_the_socket(client: TestClient) -> None:
    with client.websocket_connect("/") as ws:
        receive(ws, "full")
        ws.send_bytes(b"\x00\x01")
        code = closing_code(ws)
    assert code == 1003


@pytest.mark.parametrize(
    ("sent", "says"),
    [
        ("not json", "expected a JSON message"),
        ("[1, 2]", "expected a JSON object"),
        ('{"type": "event", "event": "inc", "kind": "click", "view": 7}', "event message"),
        ('{"type": "render_everything"}', "expected a message of type 'join' or 'event'"),
        ("[" * 100_000 + "]" * 100_000, "expected a JSON message"),
    ],
)
def test_a_bad_message_is_reported_in_the_view_which_lives_on(
    client: TestClient, sent: str, says: str
) -> None:
    with client.websocket_connect("/") as ws:
        receive(ws, "full")
        ws.send_text(sent)
        error = receive(ws, "error")
        assert says in error["message"]
        ws.send_text(json.dumps(click(3)))
        assert receive(ws, "diff")["rendered"] == {"0": "3"}


def test_a_page_flood_is_dropped_past_the_mailbox_cap_and_reported(client: TestClient) -> None:
    gate.clear()
    try:
        with client.websocket_connect("/slow") as ws:
            receive(ws, "full")
            for _ in range(MAX_QUEUED_FROM_PAGE + 20):
                ws.send_text(json.dumps(click()))
            error = receive(ws, "error")
            assert "faster than Slow handles them" in error["message"]
            gate.set()
    finally:
        gate.set()


class Flood(lw.LiveView):
    """Each "flood" event pushes 1,000 events of 40 KB: 40 MB, more than a socket's buffers
    hold, but no more than ``MAX_QUEUED_OUT`` frames."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(n=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        for i in range(asgi.MAX_QUEUED_OUT):
            socket.push_event("blob", {"i": i, "data": "x" * 40_000})

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<b>{n}</b>", **ctx)


@contextlib.contextmanager
def served(views: dict[str, type[lw.LiveView]]) -> Iterator[int]:
    """``app(views)`` on a real uvicorn with ``livewidget serve``'s settings; its port."""
    import socket

    import uvicorn

    from livewidget.serve.cli import uvicorn_settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        app(views),
        host="127.0.0.1",
        port=port,
        log_level="critical",
        timeout_graceful_shutdown=1,
        **uvicorn_settings(),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=10.0)
        yield port
    finally:
        server.should_exit = True
        thread.join(10.0)


def test_a_page_that_does_not_read_is_closed_and_its_view_with_it() -> None:
    """A page that stops reading (its socket's buffers full, the server's sends waiting) has
    its view closed once ``MAX_QUEUED_OUT`` frames wait behind, rather than holding them all:
    the first flood fills the buffers and leaves frames waiting, the second overflows."""
    from websockets.sync.client import connect

    baseline = census()
    # max_queue=1: the client stops reading from its socket once one message waits.
    with (
        served({"/": Flood}) as port,
        connect(f"ws://127.0.0.1:{port}/", max_queue=1, close_timeout=1) as ws,
    ):
        ws.send(json.dumps({"type": "join"}))
        assert json.loads(ws.recv())["type"] == "full"
        assert census()["sockets"] == baseline["sockets"] + 1
        flood = json.dumps({"type": "event", "event": "flood", "kind": "click", "value": {}})
        ws.send(flood)
        ws.send(flood)
        wait_for(lambda: census()["views"] == baseline["views"], timeout=20.0)
        assert census()["sockets"] == baseline["sockets"]


def closing_code_of(ws: Any) -> int | None:
    """Read from a websockets client until the server closes; the code it closed with."""
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            ws.recv(timeout=10)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def test_a_frame_over_the_limit_is_refused_by_the_real_server_and_its_view_closed() -> None:
    """On uvicorn with ``livewidget serve``'s settings, a frame over ``MAX_MESSAGE_BYTES``
    closes the socket with 1009 (message too big) before the app reads any of it, and the
    view goes with it; a page under the limit goes on."""
    from websockets.sync.client import connect

    from livewidget.serve.cli import MAX_MESSAGE_BYTES

    baseline = census()
    with served({"/": Clicks}) as port:
        url = f"ws://127.0.0.1:{port}/"
        with (
            connect(url, close_timeout=1, max_size=None) as big,
            connect(url, close_timeout=1) as fine,
        ):
            for ws in (big, fine):
                # (no join: a fresh socket's view sends its full render by itself, and the page
                # sends none; one sent anyway may cross that render and get a second full)
                assert json.loads(ws.recv())["type"] == "full"
            big.send(json.dumps({"type": "event", "value": "x" * MAX_MESSAGE_BYTES}))
            assert closing_code_of(big) == 1009
            fine.send(json.dumps(click(by=5)))
            while '"0":"5"' not in (text := fine.recv(timeout=10)):
                assert json.loads(text)["type"] in ("diff", "settled"), text
            wait_for(lambda: census()["views"] == baseline["views"] + 1, timeout=10.0)


# -- targets -----------------------------------------------------------------------------------


def test_a_file_target_loads_its_view_class(tmp_path: Path) -> None:
    (tmp_path / "helper_mod_for_serve.py").write_text("START = 3\n")
    (tmp_path / "app_file.py").write_text(
        textwrap.dedent(
            """
            import livewidget as lw
            from helper_mod_for_serve import START

            class Hello(lw.LiveView):
                def render(self, ctx):
                    return lw.html("<p>hello {n}</p>", n=START)
            """
        )
    )
    view = load_target(f"{tmp_path / 'app_file.py'}:Hello")
    assert view.__name__ == "Hello"


def test_a_file_alone_serves_the_one_view_class_it_defines_and_names_them_if_several(
    tmp_path: Path,
) -> None:
    (tmp_path / "one_view.py").write_text(
        textwrap.dedent(
            """
            import livewidget as lw
            from tests.unit.views import Counter  # imported, not defined here

            class Item(lw.LiveComponent):
                def render(self, ctx):
                    return lw.html("<li>item</li>")

            class Only(lw.LiveView):
                def render(self, ctx):
                    return lw.html("<p>only</p>")
            """
        )
    )
    assert load_target(str(tmp_path / "one_view.py")).__name__ == "Only"
    assert load_target(str(ROOT / "notebooks" / "pubsub.ipynb")).__name__ == "Chat"
    (tmp_path / "two_views.py").write_text(
        "import livewidget as lw\nclass B(lw.LiveView): pass\nclass A(lw.LiveView): pass\n"
    )
    with pytest.raises(TargetError) as error:
        load_target(str(tmp_path / "two_views.py"))
    assert "defines 2 view classes (A, B): name the one to serve, as " in str(error.value)
    assert str(error.value).endswith("two_views.py:A")
    (tmp_path / "no_view.py").write_text("from tests.unit.views import Counter\n")
    with pytest.raises(TargetError, match=r"defines no livewidget\.LiveView subclass") as error:
        load_target(str(tmp_path / "no_view.py"))
    assert str(error.value).endswith(f"; it imports {tmp_path / 'no_view.py'}:Counter")
    (tmp_path / "alias.py").write_text(
        "import livewidget as lw\nclass Board(lw.LiveView): pass\nApp = Board\n"
    )
    assert load_target(str(tmp_path / "alias.py")).__name__ == "Board"  # one class, two names


def test_a_module_target_loads_its_view_class() -> None:
    assert load_target("tests.unit.views:Counter").__name__ == "Counter"


def test_a_notebook_target_runs_its_definitions_only() -> None:
    cells = NotebookCells()
    dashboard = load_target(str(ROOT / "notebooks" / "dashboard.ipynb") + ":Dashboard", cells)
    assert dashboard.__name__ == "Dashboard"
    assert cells.ran == [1, 2, 7]  # imports + fetch_latest_data, the class, the live() import
    skipped = dict(cells.skipped)
    assert "skipped 'dashboard = Dashboard()', 'dashboard'" in skipped[3]
    assert "'lv = live(Dashboard)'" in skipped[7]


def test_a_notebook_cell_that_defines_and_shows_its_view_runs_its_definitions() -> None:
    cells = NotebookCells()
    todos = load_target(str(ROOT / "notebooks" / "todos.ipynb") + ":Todos", cells)
    assert todos.__name__ == "Todos"
    assert any("skipped 'Todos()'" in why for _, why in cells.skipped)


def test_notebook_tags_decide_where_the_rule_does_not(tmp_path: Path) -> None:
    def cell(source: str, *tags: str) -> dict[str, Any]:
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source}

    notebook = {
        "cells": [
            cell("import livewidget as lw\nGREETING = 'hi'\nlimit = 3"),
            cell("greeting = GREETING.upper()", "serve"),
            cell("def boom(): ...", "no-serve"),
            cell("%pip install nothing"),
            cell("raise SystemExit('a demo cell')"),
            cell(
                "class V(lw.LiveView):\n"
                "    def render(self, ctx):\n"
                "        return lw.html('{g}', g=greeting)\n"
                "V()\n"
            ),
        ]
    }
    path = tmp_path / "tagged.ipynb"
    path.write_text(json.dumps(notebook))
    cells = NotebookCells()
    view = load_target(f"{path}:V", cells)
    assert cells.ran == [0, 1, 5]
    assert [index for index, _ in cells.skipped] == [2, 3, 4, 5]
    with TestClient(app({"/": view})) as client, client.websocket_connect("/") as ws:
        assert "HI" in html_of(receive(ws, "full"))


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("Dashboard", "expected TARGET as module:ViewClass"),
        (
            "tests.unit.views:Nope",
            "expected Nope to be a livewidget.LiveView subclass, got nothing",
        ),
        ("tests.unit.views:Any", "typing.Any"),
        ("no_such_module_here:View", "cannot import the module 'no_such_module_here'"),
        ("missing.py:View", "no such file"),
        ("missing.ipynb:View", "cannot read the notebook"),
    ],
)
def test_a_wrong_target_says_what_was_expected(target: str, says: str) -> None:
    with pytest.raises(TargetError, match=None) as error:
        load_target(target)
    assert says in str(error.value)


@pytest.fixture
def gc_restored() -> Iterator[None]:
    """For a test that tunes the garbage collector as ``livewidget serve`` does: CPython's
    thresholds and no serve collector afterwards, for the tests after it."""
    from livewidget.serve import collector

    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        collector._active = None


def test_make_app_builds_the_app_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, gc_restored: None
) -> None:
    from livewidget.serve import collector

    monkeypatch.setenv(ENV_TARGET, "tests.unit.views:Counter")
    monkeypatch.delenv(ENV_PUBSUB, raising=False)
    with TestClient(make_app()) as client:
        assert "page.js" in client.get("/").text
    assert gc.get_threshold() == collector.THRESHOLDS  # tuned, as in each worker


def test_app_refuses_what_is_not_a_view_class() -> None:
    with pytest.raises(TypeError, match=r"expected a livewidget\.LiveView subclass"):
        app({"/": Clicks()})  # type: ignore[dict-item]  # the mistake under test
    with pytest.raises(ValueError, match="a path starts with '/'"):
        app({"dash": Clicks})


def test_an_event_for_a_component_the_view_does_not_have_reaches_no_other_view(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as a, client.websocket_connect("/") as b:
        receive(a, "full"), receive(b, "full")
        forged = {"type": "event", "event": "inc", "kind": "click", "value": {}, "cid": 0}
        a.send_text(json.dumps(forged))
        assert "names component 0, but there is none" in receive(a, "error")["message"]
        b.send_text(json.dumps(click(1)))
        assert receive(b, "diff")["rendered"] == {"0": "1"}  # b's count: untouched by a


def test_make_app_configures_the_pubsub_url_in_the_worker(
    monkeypatch: pytest.MonkeyPatch, gc_restored: None
) -> None:
    configure = getattr(lw, "configure", None)
    if configure is None:
        pytest.skip("needs livewidget.configure(pubsub=...), the Redis bus of issue 12")
    from livewidget import config  # comes with the Redis bus

    monkeypatch.setenv(ENV_TARGET, "tests.unit.views:Counter")
    monkeypatch.setenv(ENV_PUBSUB, "redis://127.0.0.1:1/0")  # nothing connects until used
    try:
        make_app()
        assert config.pubsub_url() == "redis://127.0.0.1:1/0"
    finally:
        configure(pubsub=None)


def test_a_view_class_whose_constructor_fails_shows_why_and_closes() -> None:
    class Broken(Clicks):
        def __init__(self) -> None:
            raise RuntimeError("no database")

    with TestClient(app({"/": Broken})) as client, client.websocket_connect("/") as ws:
        error = receive(ws, "error")
        code = closing_code(ws)
    assert error["message"] == "Broken() failed: RuntimeError: no database"
    assert code == 1011


def test_livewidget_serve_runs_uvicorn_without_per_message_deflate_and_still_answers() -> None:
    """The settings ``livewidget serve`` gives uvicorn, on a real server and a real client that
    offers deflate (as browsers do): no zlib contexts per connection, and a click comes back."""
    import asyncio
    import socket

    import uvicorn
    import websockets

    from livewidget.serve.cli import uvicorn_settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        app({"/": Clicks}), host="127.0.0.1", port=port, log_level="error", **uvicorn_settings()
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    async def talk() -> tuple[list[str], list[str]]:
        url = f"ws://127.0.0.1:{port}/"
        async with websockets.connect(url, compression="deflate") as ws:
            extensions = ws.response.headers.get_all("Sec-WebSocket-Extensions")
            await ws.send(json.dumps({"type": "join"}))
            while json.loads(await ws.recv())["type"] != "full":
                pass
            await ws.send(json.dumps(click(by=5)))
            # The click's answer: a diff, or the join's full render when the click was handled
            # before that render went out (it then shows the click's change as well).
            seen: list[str] = []
            while not any('"0":"5"' in text for text in seen):
                try:
                    seen.append(await asyncio.wait_for(ws.recv(), 10.0))
                except TimeoutError:
                    raise AssertionError(f"the click did not come back: {seen}") from None
            return extensions, [json.loads(text)["type"] for text in seen]

    try:
        wait_for(lambda: server.started, timeout=10.0)
        extensions, answered_by = asyncio.run(talk())
    finally:
        server.should_exit = True
        thread.join(10.0)
    assert extensions == []
    assert answered_by[-1] in ("full", "diff"), answered_by

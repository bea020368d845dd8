"""Isolation: whatever one view's code raises, blocks on or sends, the other views live on.

These run real widgets on livewidget's real loop thread (the widget's ``send`` is replaced by
a list that first encodes each message with Jupyter's own serializer, so what could not cross
the wire fails here as it would in a kernel). Waiting is by condition, never by a fixed time.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jupyter_client.session import json_packer

import livewidget as lw
from livewidget import runtime
from livewidget.jupyter import LiveWidget
from livewidget.runtime import Event, Info, census
from livewidget.runtime import loop as isolation
from livewidget.testing import live


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[LiveWidget, dict[str, Any]]]:
    messages: list[tuple[LiveWidget, dict[str, Any]]] = []

    def send(self: LiveWidget, content: dict[str, Any], buffers: Any = None) -> None:
        # What ipykernel does to every message (it raises for some lone surrogates and writes
        # invalid UTF-8 for others), then what the Jupyter server does to read it back.
        json_packer(content).decode("utf-8")
        messages.append((self, content))

    monkeypatch.setattr(LiveWidget, "send", send)
    return messages


def errors_of(sent: list[tuple[LiveWidget, dict[str, Any]]], widget: LiveWidget) -> list[str]:
    return [m["message"] for w, m in list(sent) if w is widget and m["type"] == "error"]


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


class Ticking(lw.LiveView):
    """Ticks every 10 ms: the neighbour that must keep going."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(n=0)
        socket.repeat(lambda: socket.send_info("tick"), 10)

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        socket.assign(n=socket.context.n + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<b>{n}</b>", **ctx)


class Victim(lw.LiveView):
    """Raises, blocks or misbehaves on request; counts the events it handles normally."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(handled=0, text="")
        self.release = threading.Event()

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> Any:
        if event == "ok":
            socket.assign(handled=socket.context.handled + 1)
        elif event == "exit":
            sys.exit(2)
        elif event == "interrupt":
            raise KeyboardInterrupt
        elif event == "block":
            self.release.wait(30)
            socket.assign(handled=socket.context.handled + 1)
        elif event == "job-exit":
            socket.start_async("job", lambda: sys.exit(3))
        elif event == "text":
            socket.assign(text=params["text"])

    async def handle_info(self, info: Any, socket: lw.Socket) -> None:
        if info == "cancelled":
            task = asyncio.ensure_future(asyncio.sleep(10))
            task.cancel()
            await task  # raises CancelledError: the handler's error, not a shutdown
        elif info == "async-exit":
            raise SystemExit(4)
        elif isinstance(info, dict) and info.get("type") == "job":
            socket.assign(job=repr(info.get("error")))

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<i>{handled}</i><p>{text}</p>", **ctx)


@pytest.fixture
def pair(sent: list[Any]) -> Iterator[tuple[LiveWidget, LiveWidget]]:
    victim, other = LiveWidget(Victim()), LiveWidget(Ticking())
    try:
        assert victim.html
        assert other.html
        yield victim, other
    finally:
        victim._runtime.view.release.set()  # type: ignore[attr-defined]  # Victim's own event
        victim.close()
        other.close()


def event(widget: LiveWidget, name: str, **value: Any) -> None:
    content = {"type": "event", "kind": "click", "event": name, "value": value, "cid": None}
    widget._on_front_message(widget, content, [])


def join(widget: LiveWidget, sent: list[tuple[LiveWidget, dict[str, Any]]]) -> None:
    """The page joins; returns once the full render it asked for is sent."""

    def fulls() -> int:
        return len([m for w, m in list(sent) if w is widget and m["type"] == "full"])

    before = fulls()
    widget._on_front_message(widget, {"type": "join"}, [])
    wait_for(lambda: fulls() > before)


def ticks(widget: LiveWidget) -> int:
    return int(widget.context["n"])


def ticks_go_on(widget: LiveWidget) -> None:
    start = ticks(widget)
    wait_for(lambda: ticks(widget) >= start + 3)


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        (lambda w: event(w, "exit"), "SystemExit in handle_event('exit'): 2"),
        (lambda w: event(w, "interrupt"), "KeyboardInterrupt in handle_event('interrupt')"),
        (lambda w: w._runtime.post(Info("cancelled")), "CancelledError in handle_info"),
        (lambda w: w._runtime.post(Info("async-exit")), "SystemExit in handle_info: 4"),
        (lambda w: event(w, "job-exit"), "SystemExit in a start_async job: 3"),
    ],
    ids=["SystemExit", "KeyboardInterrupt", "CancelledError", "async SystemExit", "job sys.exit"],
)
def test_a_handler_raising_any_base_exception_shows_it_and_every_view_goes_on(
    pair: tuple[LiveWidget, LiveWidget],
    sent: list[Any],
    trigger: Callable[[LiveWidget], None],
    expected: str,
) -> None:
    victim, other = pair
    trigger(victim)
    wait_for(lambda: any(expected in e for e in errors_of(sent, victim)))
    ticks_go_on(other)
    event(victim, "ok")
    wait_for(lambda: victim.context["handled"] == 1)  # the victim handles its next event
    assert "<i>1</i>" in victim.html
    assert errors_of(sent, other) == []


def test_a_view_made_after_a_base_exception_still_mounts(pair: Any, sent: list[Any]) -> None:
    victim, _ = pair
    event(victim, "exit")
    wait_for(lambda: errors_of(sent, victim))
    late = LiveWidget(Ticking())
    try:
        assert late.html.startswith("<b>")
        ticks_go_on(late)
    finally:
        late.close()


def test_a_blocking_handler_holds_up_its_own_view_only(
    pair: tuple[LiveWidget, LiveWidget], sent: list[Any]
) -> None:
    victim, other = pair
    event(victim, "block")
    event(victim, "ok")  # queued behind the blocked handler
    ticks_go_on(other)
    wait_for(lambda: victim._runtime.busy() is not None)
    assert victim.context["handled"] == 0
    victim._runtime.view.release.set()  # type: ignore[attr-defined]
    wait_for(lambda: victim.context["handled"] == 2)


def test_an_event_is_answered_after_its_handler_not_while_it_runs(
    pair: tuple[LiveWidget, LiveWidget], sent: list[Any]
) -> None:
    victim, other = pair
    victim._on_front_message(victim, {"type": "join"}, [])
    assert victim.html  # the join is handled: its full render is due
    wait_for(lambda: not victim._runtime.outbox.needs_full)  # and being sent on the loop,
    assert victim.html  # which has finished sending it by the time it answers this

    def renders() -> int:  # fulls and diffs ("settled" notes come on their own schedule)
        return len([m for w, m in list(sent) if w is victim and m["type"] in ("full", "diff")])

    answered = renders()
    event(victim, "block")
    wait_for(lambda: victim._runtime.busy() is not None)
    ticks_go_on(other)  # the shared pacer has had many turns meanwhile
    assert renders() == answered  # nothing, not even an empty diff
    victim._runtime.view.release.set()  # type: ignore[attr-defined]
    wait_for(lambda: any(w is victim and m.get("rendered") == {"0": "1"} for w, m in list(sent)))


def test_a_handler_that_runs_long_is_reported_in_its_view(
    pair: tuple[LiveWidget, LiveWidget], sent: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolation, "SLOW_SECONDS", 0.2)
    victim, other = pair
    event(victim, "block")
    wait_for(lambda: any("has run for" in e for e in errors_of(sent, victim)))
    assert "start_async" in errors_of(sent, victim)[0]
    assert errors_of(sent, other) == []


def test_closing_a_view_stops_a_handler_that_never_returns(sent: list[Any]) -> None:
    class Runaway(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(x=0)

        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            while True:  # never returns, never sleeps
                pass

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{x}", **ctx)

    widget = LiveWidget(Runaway())
    assert widget.html == "0"
    event(widget, "spin")
    wait_for(lambda: widget._runtime.busy() is not None)
    widget.close()
    wait_for(lambda: widget._runtime.busy() is None)  # ViewClosed ended the handler


def test_an_async_handler_that_blocks_the_loop_is_named_and_new_views_get_a_new_loop(
    sent: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolation, "STALL_SECONDS", 0.3)
    release = threading.Event()

    class Hog(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(x=0)

        async def handle_event(self, event: str, params: Any, socket: lw.Socket) -> None:
            release.wait(30)  # blocking code in an async handler: the shared loop stops

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{x}", **ctx)

    hog = LiveWidget(Hog())
    try:
        assert hog.html == "0"
        event(hog, "hog")
        wait_for(lambda: any("blocked livewidget's event loop" in e for e in errors_of(sent, hog)))
        assert "Hog.handle_event('hog')" in errors_of(sent, hog)[0]
        fresh = LiveWidget(Ticking())  # mounts on a new loop while the old one is stalled
        try:
            assert fresh.html.startswith("<b>")
            assert fresh._runtime.loop is not hog._runtime.loop
            ticks_go_on(fresh)
        finally:
            fresh.close()
        hog.close()  # works while its loop is stalled
        assert hog.closed
    finally:
        release.set()


def test_with_a_loop_of_its_own_an_async_handler_that_blocks_holds_up_its_view_only(
    sent: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolation, "OWN_LOOPS_MAX", 200)  # off by default: see loop.py
    monkeypatch.setattr(isolation, "SLOW_SECONDS", 0.3)
    release = threading.Event()

    class Hog(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(x=0)

        async def handle_event(self, event: str, params: Any, socket: lw.Socket) -> None:
            release.wait(30)  # blocking code in an async handler: its loop stops

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{x}", **ctx)

    hog, other = LiveWidget(Hog()), LiveWidget(Ticking())
    try:
        assert hog.html == "0"
        event(hog, "hog")
        wait_for(lambda: any("blocked the view's event loop" in e for e in errors_of(sent, hog)))
        assert "Hog.handle_event('hog')" in errors_of(sent, hog)[0]
        ticks_go_on(other)  # a view made before the hog blocked
        fresh = LiveWidget(Ticking())  # and one made while it blocks
        try:
            assert fresh.html.startswith("<b>")
            ticks_go_on(fresh)
        finally:
            fresh.close()
        hog.close()  # works while its loop is stalled
        assert hog.closed
    finally:
        release.set()
        other.close()


def test_a_lone_surrogate_in_data_shows_as_a_replacement_and_the_view_goes_on(
    sent: list[Any],
) -> None:
    widget = LiveWidget(Victim())
    try:
        assert widget.html
        widget.assign(text=json.loads('"Eve \\ud800 \\udc80"'))  # data from an API, say
        assert widget.context["text"] == "Eve \ud800 \udc80"
        join(widget, sent)
        event(widget, "ok")

        def payloads() -> list[dict[str, Any]]:
            return [m for w, m in list(sent) if w is widget and m["type"] in ("full", "diff")]

        # the event's answer: a diff, or the join's full render if the event came first
        wait_for(lambda: payloads()[-1]["rendered"].get("0") == "1")
        assert [m["seq"] for m in payloads()] == list(range(1, len(payloads()) + 1))  # no gap
        assert "Eve \ufffd \ufffd" in str(payloads())
        bundle = widget._bundle()  # what display() sends: it must encode
        json_packer(bundle).decode("utf-8")
        assert "Eve \ufffd \ufffd" in bundle["text/html"]
    finally:
        widget.close()


def test_a_send_that_fails_is_reported_and_leaves_no_gap_in_the_sequence(
    sent: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    widget = LiveWidget(Victim())
    try:
        assert widget.html
        join(widget, sent)
        joined = max(m["seq"] for w, m in list(sent) if w is widget and m["type"] == "full")
        real_send = LiveWidget.send
        failing = [True]

        def flaky(self: LiveWidget, content: dict[str, Any], buffers: Any = None) -> None:
            if failing[0] and content.get("type") == "diff":
                failing[0] = False
                raise OSError("the transport is down")
            real_send(self, content, buffers)

        monkeypatch.setattr(LiveWidget, "send", flaky)
        event(widget, "ok")
        wait_for(lambda: any("the transport is down" in e for e in errors_of(sent, widget)))
        event(widget, "ok")
        wait_for(lambda: any(m.get("seq") == joined + 1 for w, m in list(sent) if w is widget))
        diff = next(m for w, m in list(sent) if w is widget and m.get("seq") == joined + 1)
        assert diff["rendered"] == {"0": "2"}  # against what the page holds: it had 0
    finally:
        widget.close()


def test_a_flood_from_the_page_is_capped_and_reported(sent: list[Any]) -> None:
    widget = LiveWidget(Victim())
    try:
        assert widget.html
        event(widget, "block")  # the view is busy: what the page sends waits
        wait_for(lambda: widget._runtime.busy() is not None)
        big = "x" * 100_000
        for _ in range(200):
            event(widget, "ok", pad=big)
        assert widget._runtime._page_queued <= runtime.MAX_QUEUED_FROM_PAGE
        assert widget._runtime._page_bytes <= runtime.MAX_QUEUED_BYTES_FROM_PAGE
        wait_for(  # shown at once, though the view's own handler holds its loop
            lambda: any("faster than Victim handles them" in e for e in errors_of(sent, widget))
        )
        widget._runtime.view.release.set()  # type: ignore[attr-defined]
        wait_for(lambda: widget._runtime._page_queued == 0 and widget._runtime.busy() is None)
        handled = widget.context["handled"]
        assert 1 < handled <= 1 + runtime.MAX_QUEUED_FROM_PAGE
        event(widget, "ok")  # the flood is over: the page is heard again
        wait_for(lambda: widget.context["handled"] == handled + 1)
    finally:
        widget.close()


def test_the_page_cannot_write_the_widgets_state(sent: list[Any]) -> None:
    widget = LiveWidget(Victim())
    try:
        assert widget.html
        hooks, html = widget._hooks, widget._html
        update = {"method": "update", "state": {"_hooks": "alert(1)", "_html": "<img onerror>"}}
        widget._handle_msg({"content": {"data": update}, "buffers": []})
        wait_for(lambda: any("the page tried to set" in e for e in errors_of(sent, widget)))
        assert (widget._hooks, widget._html) == (hooks, html)
        assert not any(m.get("method") == "echo_update" for _, m in sent)
    finally:
        widget.close()


def test_views_made_and_closed_leave_the_census_and_ipywidgets_at_their_baseline(
    sent: list[Any],
) -> None:
    LiveWidget(Victim()).close()  # warm up: the loop, the watchdog
    wait_for(lambda: census()["tasks"] == 0)  # what earlier tests started has ended
    baseline = census()
    for _ in range(200):
        widget = LiveWidget(Victim())
        assert widget.html
        widget.close()

    def back() -> bool:  # threads that earlier tests left may end meanwhile, none may be added
        now = census()
        return now["threads"] <= baseline["threads"] and {**now, "threads": 0} == {
            **baseline,
            "threads": 0,
        }

    try:
        wait_for(back)
    except AssertionError:
        raise AssertionError(f"census {census()} != baseline {baseline}") from None


def test_the_test_client_reports_base_exceptions_like_the_widget() -> None:
    lv = live(Victim, raise_errors=False)
    lv.send_info("async-exit")
    assert [type(e) for e in lv.errors] == [SystemExit]
    lv.send_info("cancelled")
    assert [type(e) for e in lv.errors] == [SystemExit, asyncio.CancelledError]
    lv._runtime.post(Event("ok", {}))
    lv.send_info("nothing")
    assert lv.context.handled == 1
    lv.close()


def test_a_loading_state_shows_while_the_info_it_sent_is_handled(sent: list[Any]) -> None:
    release = threading.Event()

    class Loader(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(status="idle")

        def handle_event(self, event: str, params: Any, socket: lw.Socket) -> None:
            socket.assign(status="Loading...")
            socket.send_info("fetch")

        async def handle_info(self, info: Any, socket: lw.Socket) -> None:
            await asyncio.to_thread(release.wait, 30)  # the result takes a while
            socket.assign(status="Done")

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("<p>{status}</p>", **ctx)

    widget = LiveWidget(Loader())
    try:
        assert widget.html == "<p>idle</p>"
        widget._on_front_message(widget, {"type": "join"}, [])
        assert widget.html  # the join is handled
        wait_for(lambda: not widget._runtime.outbox.needs_full)  # and its full render sent
        assert widget.html
        event(widget, "load")
        shown = lambda text: any(  # noqa: E731  # a condition, read twice
            w is widget and m.get("rendered") == {"0": text} for w, m in list(sent)
        )
        wait_for(lambda: shown("Loading..."))  # rendered while the handler still awaits
        release.set()
        wait_for(lambda: shown("Done"))
    finally:
        release.set()
        widget.close()


def test_views_past_the_own_loop_limit_share_one_and_a_blocking_handler_holds_up_only_itself(
    sent: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolation, "OWN_LOOPS_MAX", 0)  # every view made now shares a loop
    victim, other = LiveWidget(Victim()), LiveWidget(Ticking())
    try:
        assert victim._runtime.home is None
        assert victim._runtime.loop is other._runtime.loop
        event(victim, "block")  # a plain handler: on the victim's own thread, not the loop
        wait_for(lambda: victim._runtime.busy() is not None)
        ticks_go_on(other)
        victim._runtime.view.release.set()  # type: ignore[attr-defined]
        wait_for(lambda: victim.context["handled"] == 1)
    finally:
        victim._runtime.view.release.set()  # type: ignore[attr-defined]
        victim.close()
        other.close()


def test_a_plain_handler_may_run_its_own_asyncio_loop(sent: list[Any]) -> None:
    class Sync(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(value=0)

        def handle_event(self, event: str, params: Any, socket: lw.Socket) -> None:
            async def fetch() -> int:
                await asyncio.sleep(0)
                return 42

            socket.assign(value=asyncio.run(fetch()))  # a sync wrapper of an async client

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{value}", **ctx)

    widget = LiveWidget(Sync())
    try:
        event(widget, "fetch")
        wait_for(lambda: widget.context["value"] == 42 or errors_of(sent, widget))
        assert errors_of(sent, widget) == []
        assert widget.html == "42"
    finally:
        widget.close()

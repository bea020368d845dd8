"""The hub: in a kernel, every view's messages to the page go out on one comm, a turn at a time.

Outside a kernel a LiveWidget has no hub (its comm is a dummy) and sends on its own comm. Here
the hub is made as in a kernel, with its comm's ``send`` recorded: what a view would have sent
on its own comm must arrive, in its order, and the views that tick together share messages.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import livewidget as lw
from livewidget import wire
from livewidget.jupyter import LiveWidget
from livewidget.jupyter import hub as hub_module
from livewidget.jupyter.hub import Hub
from livewidget.runtime.loop import background_loop


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


class _Hubs:
    """Every batch the hubs sent, and the hubs made."""

    def __init__(self) -> None:
        self.batches: list[list[list[Any]]] = []
        self.made: list[Hub] = []
        self.lock = threading.Lock()


@pytest.fixture
def hubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Hubs]:
    """Views made in this test get the hub as in a kernel; nothing reaches a real page."""
    seen = _Hubs()

    def send(self: Hub, content: dict[str, Any], buffers: Any = None) -> None:
        with seen.lock:
            seen.batches.append(content[wire.BATCH])

    made = Hub.__init__

    def init(self: Hub, **kwargs: Any) -> None:
        made(self, **kwargs)
        seen.made.append(self)

    monkeypatch.setattr(Hub, "send", send)
    monkeypatch.setattr(Hub, "__init__", init)
    monkeypatch.setattr(LiveWidget, "send", lambda self, content, buffers=None: None)
    monkeypatch.setattr(hub_module, "_in_kernel", lambda comm: True)
    yield seen
    assert hub_module._kernel.users == 0
    assert hub_module._kernel.hub is None  # the last view closed it


class _Beat(lw.LiveView):
    """Ticks every 50 ms (on the kernel's beat, so all of them together)."""

    def mount(self, socket: lw.Socket) -> None:
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 50)
        socket.assign(n=0)

    async def handle_info(self, info: Any, socket: lw.Socket) -> None:
        await asyncio.sleep(0.001)
        socket.assign(n=socket.context.n + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<b>{n}</b>", **ctx)


def _by_view(batches: list[list[list[Any]]]) -> dict[str, list[dict[str, Any]]]:
    streams: dict[str, list[dict[str, Any]]] = {}
    for batch in batches:
        for view_id, message in batch:
            streams.setdefault(view_id, []).append(message)
    return streams


def test_views_that_tick_together_share_hub_messages_and_each_keeps_its_order(
    hubs: _Hubs,
) -> None:
    widgets = [LiveWidget(_Beat()) for _ in range(20)]
    try:
        for widget in widgets:
            widget._on_front_message(widget, {"type": "join"}, [])
        wait_for(lambda: all(w.context["n"] >= 6 for w in widgets))
    finally:
        for widget in widgets:
            widget.close()
    assert len(hubs.made) == 1  # one hub for every view
    with hubs.lock:
        batches = list(hubs.batches)
    streams = _by_view(batches)
    assert set(streams) == {w._lw_id for w in widgets}
    for messages in streams.values():
        renders = [m for m in messages if m[wire.TYPE] in (wire.MSG_FULL, wire.MSG_DIFF)]
        assert renders[0][wire.TYPE] == wire.MSG_FULL
        seqs = [m[wire.SEQ] for m in renders]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
        assert len(renders) >= 6  # the full render and the ticks' diffs
    sent = sum(len(batch) for batch in batches)
    assert len(batches) * 4 <= sent  # far fewer comm messages than view messages


def test_a_hub_message_holds_what_was_sent_in_one_turn_of_the_loop_in_order(hubs: _Hubs) -> None:
    loop = background_loop()[0]
    hub = Hub()
    done = threading.Event()

    def one_turn() -> None:
        for k in range(5):
            hub.post("a", {"k": k}, loop)
            hub.post("b", {"k": k}, loop)
        done.set()

    loop.call_soon_threadsafe(one_turn)
    done.wait(5)
    wait_for(lambda: len(hubs.batches) == 1)
    assert hubs.batches[0] == [[v, {"k": k}] for k in range(5) for v in ("a", "b")]
    hub.close()


def test_a_closed_hub_is_made_anew_and_the_views_go_on_through_it(hubs: _Hubs) -> None:
    widget = LiveWidget(_Beat())
    try:
        widget._on_front_message(widget, {"type": "join"}, [])
        wait_for(lambda: widget.context["n"] >= 2)
        hubs.made[0].close()  # as Widget.close_all() would
        count = len(hubs.batches)
        wait_for(lambda: len(hubs.made) == 2 and len(hubs.batches) > count + 2)
        assert hubs.made[1].is_open
    finally:
        widget.close()


def test_the_page_cannot_set_the_hubs_state(hubs: _Hubs) -> None:
    hub = Hub()
    hub.set_state({"_lw_hub": False})
    assert hub._lw_hub is True
    hub.close()


def test_the_last_view_to_close_closes_the_hub_and_the_next_view_makes_one(hubs: _Hubs) -> None:
    first, second = LiveWidget(_Beat()), LiveWidget(_Beat())
    assert first._hub is second._hub
    hub = first._hub
    assert hub is not None
    first.close()
    assert hub.is_open  # the second view still uses it
    second.close()
    assert not hub.is_open
    third = LiveWidget(_Beat())
    assert third._hub is not None
    assert third._hub is not hub
    assert third._hub.is_open
    third.close()


def test_without_a_kernel_a_widget_has_no_hub_and_sends_on_its_own_comm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages: list[dict[str, Any]] = []
    monkeypatch.setattr(
        LiveWidget, "send", lambda self, content, buffers=None: messages.append(content)
    )
    widget = LiveWidget(_Beat())
    try:
        assert widget._hub is None
        assert hub_module.acquire(widget.comm) is None
        widget._on_front_message(widget, {"type": "join"}, [])
        wait_for(lambda: any(m[wire.TYPE] == wire.MSG_FULL for m in messages))
    finally:
        widget.close()

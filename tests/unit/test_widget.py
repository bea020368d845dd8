"""The widget door, outside a kernel: context trait, front-end messages, lifecycle."""

import gc
import threading
import time
from typing import Any

import pytest
import traitlets

import livewidget as lw
from livewidget.jupyter import LiveWidget
from tests.unit.views import Counter, Ticker


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    monkeypatch.setattr(
        LiveWidget, "send", lambda self, content, buffers=None: messages.append(content)
    )
    return messages


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


def test_the_view_renders_and_the_context_is_a_trait(sent: list[dict[str, Any]]):
    widget = Counter(start=3).widget
    try:
        assert widget.html.startswith('<b id="count">3</b>')
        assert widget.context == {"count": 3, "name": ""}
        assert isinstance(LiveWidget.class_traits()["context"], traitlets.Dict)
    finally:
        widget.close()


def test_the_context_is_not_synced_to_the_browser():
    widget = LiveWidget(Counter())
    try:
        assert "context" not in widget.keys
        assert "context" not in widget.get_state()
    finally:
        widget.close()


def test_observe_sees_every_assign_and_assigning_the_trait_re_renders(sent: list[dict[str, Any]]):
    widget = LiveWidget(Counter())
    assert widget.html  # mounted: the mount's assign has been observed already
    seen: list[int] = []
    widget.observe(lambda change: seen.append(change["new"]["count"]), names="context")
    try:
        widget.assign(count=7)
        widget.context = {**widget.context, "count": 8}
        wait_for(lambda: 8 in seen)
        assert seen == [7, 8]
        assert '<b id="count">8</b>' in widget.html
    finally:
        widget.close()


def test_the_context_trait_follows_the_view_whether_anyone_observes_it_or_not(
    sent: list[dict[str, Any]],
):
    import ipywidgets

    widget = LiveWidget(Counter())
    try:
        widget.assign(count=3)
        assert widget.context["count"] == 3  # nobody listens: set without notifications
        slider = ipywidgets.IntSlider()
        traitlets.dlink((widget, "context"), (slider, "value"), lambda c: c["count"])
        names: list[str] = []
        widget.observe(lambda change: names.append(change["name"]))  # every trait
        widget.assign(count=9)
        assert slider.value == 9
        assert widget.context["count"] == 9
        assert "context" in names
    finally:
        widget.close()


def test_a_linked_widget_drives_the_view():
    import ipywidgets

    slider = ipywidgets.IntSlider(value=1)
    widget = LiveWidget(Counter())
    try:
        traitlets.dlink(
            (slider, "value"), (widget, "context"), lambda v: {**widget.context, "count": v}
        )
        slider.value = 42
        wait_for(lambda: '<b id="count">42</b>' in widget.html)
    finally:
        widget.close()


def test_a_join_gets_the_full_render_then_events_get_diffs(sent: list[dict[str, Any]]):
    widget = LiveWidget(Counter())
    try:
        # the view sends its first render once mounted; a join then gets a full render of its
        # own (waiting for each keeps the join and the event from sharing one frame's full)
        wait_for(lambda: any(m["type"] == "full" for m in sent))
        widget._on_front_message(widget, {"type": "join"}, [])
        wait_for(lambda: [m["type"] for m in sent].count("full") == 2)
        event = {
            "type": "event",
            "kind": "click",
            "event": "inc",
            "value": {"by": "5"},
            "cid": None,
        }
        widget._on_front_message(widget, event, [])
        wait_for(lambda: any(m["type"] == "diff" for m in sent))
        diffs = [m for m in sent if m["type"] == "diff"]
        assert diffs[-1]["rendered"] == {"0": "5"}
        seqs = [m["seq"] for m in sent if m["type"] in ("full", "diff")]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
    finally:
        widget.close()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "event", "kind": "click", "event": "nope", "value": {}}, "unknown event 'nope'"),
        ({"type": "rm -rf"}, "expected a message of type 'join' or 'event'"),
        ({"type": "event", "kind": "click", "event": 3}, "expected an event name"),
        ({"type": "event", "kind": "click", "event": "inc", "cid": 9}, "names component 9"),
        ({"type": "event", "kind": "form", "event": "x", "value": {"a": 1}}, "urlencoded str"),
        ("not even an object", "expected a JSON object"),
    ],
)
def test_bad_messages_from_the_front_end_show_an_error_and_harm_nothing(
    sent: list[dict[str, Any]], message: Any, expected: str
):
    widget = LiveWidget(Counter(start=1))
    try:
        widget._on_front_message(widget, message, [])
        wait_for(lambda: any(m["type"] == "error" for m in sent))
        error = next(m for m in sent if m["type"] == "error")
        assert expected in error["message"]
        widget.assign(name="still alive")
        assert widget.context == {"count": 1, "name": "still alive"}
    finally:
        widget.close()


def test_closing_stops_the_timers_and_the_view(sent: list[dict[str, Any]]):
    widget = LiveWidget(Ticker())
    assert widget.html  # mounted
    runtime = widget._runtime
    assert runtime._timers
    widget.close()
    wait_for(lambda: not runtime._timers)
    assert widget.closed
    assert "closed" in repr(widget)


def test_views_tick_on_their_own_thread_while_the_caller_blocks(sent: list[dict[str, Any]]):
    class Fast(Ticker):
        def mount(self, socket: lw.Socket) -> None:
            socket.repeat(lambda: socket.send_info({"type": "tick"}), 20)
            socket.assign(ticks=0)

    widget = LiveWidget(Fast())
    try:
        assert widget.html
        # wait_for blocks this thread in time.sleep, as a busy cell would; the view ticks anyway
        wait_for(lambda: widget.context["ticks"] >= 5)
        assert threading.current_thread() is threading.main_thread()
    finally:
        widget.close()


def test_a_class_instead_of_an_instance_is_a_clear_error():
    with pytest.raises(TypeError, match="a class: call it first"):
        LiveWidget(Counter)  # type: ignore[arg-type]


def test_a_views_hooks_reach_the_front_end_as_module_source():
    class Hooked(Counter):
        hooks = "export default { Chart: { mounted() { this.el.textContent = 'drawn'; } } };"

    widget = LiveWidget(Hooked())
    try:
        assert widget.get_state()["_hooks"] == Hooked.hooks
    finally:
        widget.close()


def test_closing_brings_the_census_back_to_its_baseline():
    from livewidget.runtime import census

    class Busy(Ticker):
        def mount(self, socket: lw.Socket) -> None:
            super().mount(socket)
            socket.subscribe("news")
            socket.send_info("later", after_ms=60_000)

    widget = LiveWidget(Counter())
    assert widget.html
    widget.close()
    gc.collect()  # test clients other tests left open are closed when collected
    # Work that earlier tests left on the shared loop may still be ending: take the baseline
    # once the census holds still, and judge only what this test's widgets add.
    keys = ("views", "timers", "tasks", "subscriptions")
    baseline = settled_census()
    widgets = [LiveWidget(Busy()) for _ in range(5)]
    assert all(w.html for w in widgets)
    busy = census()
    added = {key: busy[key] - baseline[key] for key in keys}
    assert added == {"views": 5, "timers": 10, "tasks": 5, "subscriptions": 5}
    for w in widgets:
        w.close()
    wait_for(lambda: all(census()[key] <= baseline[key] for key in keys))


def settled_census(still_for: float = 0.3, timeout: float = 10.0) -> dict[str, int]:
    """``census()`` once it has not changed for ``still_for`` seconds."""
    from livewidget.runtime import census

    deadline = time.monotonic() + timeout
    last, since = census(), time.monotonic()
    while time.monotonic() - since < still_for:
        if time.monotonic() > deadline:
            raise AssertionError(f"the census kept changing: {last}")
        time.sleep(0.05)
        now = census()
        if now != last:
            last, since = now, time.monotonic()
    return last


def test_a_plain_handler_that_assigns_through_its_own_widget_does_not_wait_for_itself(
    sent: list[dict[str, Any]],
):
    class SelfAssigning(Counter):
        def handle_info(self, info: Any, socket: lw.Socket) -> None:
            self.widget.assign(name=str(info))  # from the view's own thread, while it is busy

    widget = LiveWidget(SelfAssigning())
    try:
        widget.send_info("hello")
        wait_for(lambda: widget.context["name"] == "hello")
        # waiting for itself, it would have timed out after 10 s: a TimeoutError in the view
        assert not [m for m in sent if m["type"] == "error"]
    finally:
        widget.close()

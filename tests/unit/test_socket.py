"""The socket: assign, the read-only context, start_async, pub/sub, a static render."""

import asyncio
import datetime
import decimal
import threading
from typing import Any

import pytest

import livewidget as lw
from livewidget.socket import Socket
from livewidget.testing import live
from livewidget.view import static_render
from tests.unit.views import Ticker


def test_assign_takes_a_mapping_keywords_or_both():
    socket = Socket()
    socket.assign({"a": 1}, b=2)
    assert dict(socket.context) == {"a": 1, "b": 2}
    assert socket.context.a == 1
    assert socket.context["b"] == 2


def test_assign_of_an_equal_value_changes_nothing():
    socket = Socket()
    socket.assign(a=[1, 2])
    socket.changed = False
    socket.assign(a=[1, 2])
    assert not socket.changed


def test_the_same_mutable_object_assigned_again_counts_as_changed():
    rows = [1, 2]
    socket = Socket()
    socket.assign(rows=rows, settings={"a": 1})
    socket.changed = False
    rows.append(3)  # changed in place: no copy was kept to compare it with
    socket.assign(rows=rows)
    assert socket.changed
    socket.changed = False
    socket.assign(settings=socket.context.settings)
    assert socket.changed


def test_the_same_immutable_value_assigned_again_changes_nothing():
    values = {
        "n": 10**20,
        "text": "x" * 1000,
        "pair": (1, ("a", None)),
        "tags": frozenset({"a"}),
        "day": datetime.date(2024, 1, 2),
        "price": decimal.Decimal("1.50"),
        "view": lw.html("<b>{x}</b>", x=1),
        "js": lw.JS.push("save"),
    }
    socket = Socket()
    socket.assign(values)
    socket.changed = False
    socket.assign(dict(socket.context))
    assert not socket.changed
    socket.assign(pair=socket.context.pair, mixed=(1, [2]))
    socket.changed = False
    socket.assign(mixed=socket.context.mixed)  # a tuple holding a list can change inside
    assert socket.changed


def test_values_whose_equality_is_not_a_bool_count_as_changed():
    class Ambiguous:
        def __bool__(self) -> bool:
            raise ValueError("the truth value of an array is ambiguous")

    class Array:
        def __eq__(self, other: object) -> Any:
            return Ambiguous()  # like numpy's elementwise ==

    socket = Socket()
    socket.assign(a=Array())
    socket.changed = False
    socket.assign(a=Array())
    assert socket.changed


def test_the_context_is_read_only_and_names_what_it_has():
    socket = Socket()
    socket.assign(count=1)
    with pytest.raises(AttributeError, match="read-only"):
        socket.context.count = 2  # type: ignore[misc]
    with pytest.raises(AttributeError, match=r"no 'cnt' \(it has: count\)"):
        socket.context.cnt  # noqa: B018  # the attribute access is what is tested


def test_bad_arguments_get_clear_errors():
    socket = Socket()
    with pytest.raises(TypeError, match="mapping or keywords"):
        socket.assign([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive interval"):
        socket.repeat(lambda: None, 0)
    with pytest.raises(ValueError, match="after_ms >= 0"):
        socket.send_info("x", after_ms=-1)


def test_a_static_render_is_disconnected_and_starts_nothing():
    rendered = static_render(Ticker())
    assert '<span id="ticks">0</span>' in rendered.to_html()


class Reporter(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(state="idle", result=None, clicks=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event == "run":
            socket.assign(state="loading")
            socket.start_async("report", self.build_report)
        elif event == "crash":
            socket.start_async("report", self.fail)
        else:
            socket.assign(clicks=socket.context.clicks + 1)

    release = threading.Event()

    def build_report(self) -> int:  # blocking work, on a thread of its own
        assert self.release.wait(5)
        return 42

    async def fail(self) -> None:
        await asyncio.sleep(0)
        raise ValueError("no data")

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        if "error" in info:
            socket.assign(state=f"failed: {info['error']}")
        else:
            socket.assign(state="done", result=info["result"])

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<p id="state">{state}</p><p id="result">{result}</p><p id="clicks">{clicks}</p>'
            '<button id="run" phx-click="run">Run</button>'
            '<button id="other" phx-click="other">Other</button>'
            '<button id="crash" phx-click="crash">Crash</button>',
            **ctx,
        )


def test_start_async_shows_loading_at_once_answers_other_events_then_the_result():
    view = Reporter()
    view.release = threading.Event()
    lv = live(view)
    lv.click("#run")
    assert lv.has_element("#state", text="loading")
    lv.click("#other")  # answered while the job runs
    assert lv.has_element("#clicks", text="1")
    view.release.set()
    lv.render_async()
    assert lv.has_element("#state", text="done")
    assert lv.has_element("#result", text="42")


def test_start_async_delivers_an_error_as_an_info():
    lv = live(Reporter)
    lv.click("#crash")
    lv.render_async()
    assert lv.has_element("#state", text="failed: no data")


def test_broadcast_reaches_every_subscriber_in_its_own_mailbox():
    class Room(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.subscribe("room")
            socket.assign(messages=())

        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            socket.broadcast("room", params["text"])

        def handle_info(self, info: Any, socket: lw.Socket) -> None:
            socket.assign(messages=(*socket.context.messages, info))

        def render(self, ctx: lw.Context) -> lw.Rendered:
            items = [lw.html("<li>{m}</li>", m=m) for m in ctx.messages]
            return lw.html(
                '<ul>{items}</ul><button id="say" phx-click="say" phx-value-text="hi">', items=items
            )

    alice, bob = live(Room), live(Room)
    alice.click("#say")
    bob.advance(0)  # bob's mailbox runs when bob's client is driven
    assert alice.has_element("li", text="hi")
    assert bob.has_element("li", text="hi")
    alice.close()
    bob.click("#say")
    assert len(bob.context.messages) == 2
    assert len(alice.context.messages) == 1
    bob.close()

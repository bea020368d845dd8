"""Streams: socket.stream / stream_insert / stream_delete, ctx.streams, lw.each of a stream.

Through the test client, so each test runs the runtime's render, diff, send and consume, and the
client-side merge whose HTML is ``lv.html`` (the rows the page keeps).
"""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

import pytest

import livewidget as lw
from livewidget import protocol
from livewidget.socket import Socket
from livewidget.stream import StreamComprehension
from livewidget.testing import live
from livewidget.view import static_render

ROW = '<li id="{dom_id}">{text}</li>'


class Item:
    """A row object (weak-referenceable, unlike a dict)."""

    def __init__(self, id: int, text: str) -> None:
        self.id = id
        self.text = text


def row(dom_id: str, item: Any) -> lw.Rendered:
    return lw.html(ROW, dom_id=dom_id, text=item.text if isinstance(item, Item) else item["text"])


def feed_page(ctx: Any) -> lw.Rendered:
    return lw.html(
        '<p>{title}</p><ul id="feed" phx-update="stream">{rows}</ul>',
        title=ctx.get("title", ""),
        rows=lw.each(ctx.streams.feed, row),
    )


class Feed(lw.LiveView):
    """A feed whose handle_info messages are ("insert", item, at, limit), ("delete", item),
    ("stream", items, reset) or ("title", text)."""

    def mount(self, socket: Socket) -> None:
        socket.stream("feed", self.params.get("initial", []))

    def handle_info(self, info: Any, socket: Socket) -> None:
        match info:
            case ("insert", item, at, limit):
                socket.stream_insert("feed", item, at=at, limit=limit)
            case ("delete", item):
                socket.stream_delete("feed", item)
            case ("stream", items, reset):
                socket.stream("feed", items, reset=reset)
            case ("title", text):
                socket.assign(title=text)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return feed_page(ctx)


def ids(lv: Any) -> list[str]:
    return [li["id"] for li in lv._soup().select("#feed > li")]


def wire_bytes(payload: Any) -> int:
    return len(json.dumps(payload).encode())


class NewestFirst(lw.LiveView):
    """A newest-first feed capped at 1,000 rows, one new row a tick; made inside the handler,
    so that only the stream can hold it."""

    made: list[weakref.ref[Item]]

    def mount(self, socket: Socket) -> None:
        self.made = []
        self.next = 0
        socket.stream("feed", [])
        socket.repeat(lambda: socket.send_info("tick"), 1000)

    def handle_info(self, info: Any, socket: Socket) -> None:
        item = Item(self.next, f"message {self.next} from the wire")
        self.next += 1
        self.made.append(weakref.ref(item))
        socket.stream_insert("feed", item, at=0, limit=1000)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return feed_page(ctx)


def test_a_capped_newest_first_feed_sends_under_300_bytes_a_tick_and_shows_the_newest_1000():
    lv = live(NewestFirst)
    lv.advance(1_050 * 1000)
    ticks = lv.payloads[1:]
    assert len(ticks) == 1_050
    assert max(wire_bytes(payload) for payload in ticks) < 300
    shown = ids(lv)
    assert len(shown) == 1_000
    assert shown[0] == "feed-1049"
    assert shown[-1] == "feed-50"


def test_the_kernel_keeps_no_row_once_it_is_sent():
    lv = live(NewestFirst)
    lv.advance(20 * 1000)
    gc.collect()
    assert [ref() for ref in lv.view.made] == [None] * 20
    assert "feed-19" in ids(lv)
    rendered = lv._runtime.rendered
    assert rendered is not None
    stream = rendered.dynamics[1]
    assert isinstance(stream, StreamComprehension)
    assert stream.entries == ()  # the rendered rows are dropped too
    assert repr(lv.context.streams.feed).endswith(": 0 pending operations>")


def test_a_tick_without_a_new_row_sends_nothing_for_the_stream():
    lv = live(Feed, initial=[{"id": 1, "text": "one"}])
    lv.send_info(("title", "Hello"))
    assert lv.payloads[-1] == {"0": "Hello"}
    assert lv.html == (
        '<p>Hello</p><ul id="feed" phx-update="stream"><li id="feed-1">one</li></ul>'
    )


def test_stream_insert_appends_prepends_and_inserts_at_a_position():
    lv = live(Feed, initial=[{"id": 1, "text": "one"}, {"id": 2, "text": "two"}])
    lv.send_info(("insert", {"id": 3, "text": "three"}, -1, None))
    lv.send_info(("insert", {"id": 0, "text": "zero"}, 0, None))
    lv.send_info(("insert", {"id": 9, "text": "nine"}, 2, None))
    assert ids(lv) == ["feed-0", "feed-1", "feed-9", "feed-2", "feed-3"]


def test_inserting_a_row_the_page_shows_updates_it_in_place():
    lv = live(Feed, initial=[{"id": 1, "text": "one"}, {"id": 2, "text": "two"}])
    lv.send_info(("insert", {"id": 2, "text": "TWO"}, 0, None))
    assert ids(lv) == ["feed-1", "feed-2"]
    assert lv.has_element("#feed-2", text="TWO")


def test_stream_delete_removes_the_row_by_its_dom_id():
    lv = live(Feed, initial=[{"id": 1, "text": "one"}, {"id": 2, "text": "two"}])
    lv.send_info(("delete", {"id": 1}))
    assert ids(lv) == ["feed-2"]
    ref = lv.context.streams.feed.ref
    assert lv.payloads[-1] == {"1": {"k": {"kc": 0}, "stream": [ref, [], ["feed-1"]]}}


def test_a_limit_prunes_the_page_positive_from_the_end_negative_from_the_start():
    lv = live(Feed, initial=[{"id": i, "text": str(i)} for i in range(3)])
    lv.send_info(("insert", {"id": 7, "text": "7"}, 0, 3))
    assert ids(lv) == ["feed-7", "feed-0", "feed-1"]
    lv.send_info(("insert", {"id": 8, "text": "8"}, -1, -2))
    assert ids(lv) == ["feed-1", "feed-8"]


def test_a_reset_empties_the_stream_on_the_page_then_inserts():
    lv = live(Feed, initial=[{"id": i, "text": str(i)} for i in range(3)])
    lv.send_info(("stream", [{"id": 5, "text": "five"}], True))
    assert ids(lv) == ["feed-5"]
    assert lv.payloads[-1]["1"]["stream"][3] is True
    lv.send_info(("stream", [], True))
    assert ids(lv) == []


class Batch(lw.LiveView):
    """Several operations in one handler: one send."""

    def mount(self, socket: Socket) -> None:
        socket.stream("feed", [{"id": i, "text": str(i)} for i in range(3)])

    def handle_info(self, info: Any, socket: Socket) -> None:
        for kind, key, text in info:
            if kind == "insert":
                socket.stream_insert("feed", {"id": key, "text": text}, at=0)
            else:
                socket.stream_delete("feed", {"id": key})

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return feed_page(ctx)


def test_in_one_send_an_insert_then_a_delete_of_a_row_deletes_it():
    lv = live(Batch)
    lv.send_info(
        [("insert", 9, "new"), ("insert", 1, "changed"), ("delete", 9, ""), ("delete", 1, "")]
    )
    assert ids(lv) == ["feed-0", "feed-2"]


def test_in_one_send_a_delete_then_an_insert_moves_the_row_and_the_last_insert_wins():
    lv = live(Batch)
    lv.send_info(
        [("delete", 2, ""), ("insert", 2, "moved"), ("insert", 5, "a"), ("insert", 5, "b")]
    )
    assert ids(lv) == ["feed-5", "feed-2", "feed-0", "feed-1"]
    assert lv.has_element("#feed-5", text="b")
    assert lv.has_element("#feed-2", text="moved")


class Failing(lw.LiveView):
    def mount(self, socket: Socket) -> None:
        socket.stream("feed", [{"id": 1, "text": "one"}])

    def handle_info(self, info: Any, socket: Socket) -> None:
        socket.stream_insert("feed", {"id": 2, "text": "two"})
        raise RuntimeError("boom")

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return feed_page(ctx)


def test_a_handler_that_raises_takes_its_stream_operations_back():
    lv = live(Failing, raise_errors=False)
    lv.send_info("go")
    assert len(lv.errors) == 1
    assert ids(lv) == ["feed-1"]
    assert all("feed-2" not in json.dumps(payload) for payload in lv.payloads)


class Tabs(lw.LiveView):
    def mount(self, socket: Socket) -> None:
        socket.assign(show=True)
        socket.stream("feed", [{"id": 1, "text": "one"}])

    def handle_info(self, info: Any, socket: Socket) -> None:
        if info == "toggle":
            socket.assign(show=not socket.context.show)
        else:
            socket.stream_insert("feed", {"id": info, "text": str(info)})

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<div>{feed}</div>", feed=feed_page(ctx) if ctx.show else None)


def test_operations_on_a_stream_the_render_does_not_show_are_dropped_as_in_phoenix():
    lv = live(Tabs)
    lv.send_info("toggle")
    lv.send_info(2)
    lv.send_info("toggle")
    assert ids(lv) == []  # a container shown again starts empty: the rows were on the page
    lv.send_info(3)
    assert ids(lv) == ["feed-3"]


def test_a_full_render_after_a_join_keeps_the_rows_the_page_shows():
    lv = live(Feed, initial=[{"id": 1, "text": "one"}])
    lv.send_info(("insert", {"id": 2, "text": "two"}, -1, None))
    lv.send_raw({"type": "join"})
    assert lv.messages[-1]["type"] == "full"
    assert "feed-1" not in json.dumps(lv.payloads[-1])  # the kernel has no rows to send
    assert ids(lv) == ["feed-1", "feed-2"]


def test_dom_id_is_name_dash_id_for_mappings_and_objects_and_dom_id_overrides_it():
    socket = Socket()
    socket.stream("feed", [{"id": 1}, Item(2, "two")])
    socket.stream("people", [{"email": "a@b"}], dom_id=lambda p: "person-" + p["email"])
    socket.stream_insert("people", {"email": "c@d"})
    feed = socket.context.streams.feed.render(lambda dom_id, item: lw.html("{d}", d=dom_id))
    people = socket.context.streams["people"].render(lambda dom_id, _: lw.html("{d}", d=dom_id))
    assert feed.to_html() == "feed-1feed-2"
    assert people.to_html() == "person-a@bperson-c@d"


def test_a_static_render_shows_the_rows_streamed_in_mount():
    html = static_render(Feed(initial=[{"id": 1, "text": "one"}])).to_html()
    assert html == '<p></p><ul id="feed" phx-update="stream"><li id="feed-1">one</li></ul>'


def test_a_stream_in_a_full_payload_is_the_comprehension_with_its_batch():
    socket = Socket()
    socket.stream("feed", [{"id": 1, "text": "one"}], at=0, limit=5)
    payload = protocol.full(feed_page(socket.context))
    ref = socket.context.streams.feed.ref
    assert payload["1"] == {
        "s": ['<li id="', '">', "</li>"],
        "k": {"0": {"0": "feed-1", "1": "one"}, "kc": 1},
        "stream": [ref, [["feed-1", 0, 5, False]], []],
    }


# -- errors that say what to do ---------------------------------------------------------------


def test_inserting_into_a_stream_never_created_names_the_streams_and_how_to_create_one():
    socket = Socket()
    socket.stream("feed", [])
    with pytest.raises(KeyError, match=r"no stream named 'fed' \(streams: feed\).*socket\.stream"):
        socket.stream_insert("fed", {"id": 1})


def test_at_below_minus_one_is_refused_with_the_values_it_takes():
    socket = Socket()
    with pytest.raises(ValueError, match=r"at= is -1 \(append\), 0 \(prepend\).*got -2"):
        socket.stream("feed", [], at=-2)


def test_an_item_without_an_id_asks_for_dom_id():
    socket = Socket()
    with pytest.raises(TypeError, match=r"expected an item with an id.*dom_id=lambda item"):
        socket.stream("feed", [{"name": "x"}])


def test_a_single_mapping_given_as_items_points_to_stream_insert():
    socket = Socket()
    with pytest.raises(TypeError, match=r"items is an iterable of rows.*stream_insert"):
        socket.stream("feed", {"id": 1})


def test_a_stream_is_not_a_list_to_loop_over():
    socket = Socket()
    socket.stream("feed", [{"id": 1}])
    with pytest.raises(TypeError, match=r"not a list: render it with lw\.each\(ctx\.streams\.feed"):
        list(socket.context.streams.feed)
    with pytest.raises(lw.TemplateError, match=r"cannot be a template field by itself"):
        lw.html("<ul>{rows}</ul>", rows=socket.context.streams.feed)


def test_each_of_a_stream_takes_no_key_and_each_of_a_list_needs_one():
    socket = Socket()
    socket.stream("feed", [{"id": 1}])
    with pytest.raises(lw.TemplateError, match="drop key="):
        lw.each(socket.context.streams.feed, row, key=lambda item: item)
    with pytest.raises(lw.TemplateError, match="each\\(\\) needs key="):
        lw.each([1, 2], lambda item: lw.html("{i}", i=item))


def test_a_stream_render_that_returns_a_string_is_refused():
    socket = Socket()
    socket.stream("feed", [{"id": 1}])
    with pytest.raises(lw.TemplateError, match=r'root element has id="\{dom_id\}", got str'):
        lw.each(socket.context.streams.feed, lambda dom_id, item: f"<li>{item}</li>")


def test_the_context_without_streams_says_how_to_make_one():
    with pytest.raises(AttributeError, match=r"no streams yet: create one first with socket"):
        _ = Socket().context.streams
    socket = Socket()
    socket.stream("feed", [])
    with pytest.raises(AttributeError, match=r"no stream named 'other' \(streams: feed\)"):
        _ = socket.context.streams.other


def test_streams_is_a_reserved_context_key():
    socket = Socket()
    socket.assign(streams=[1, 2])
    with pytest.raises(TypeError, match=r"'streams' holds the view's streams.*another name"):
        socket.stream("feed", [])


class Log(lw.LiveComponent):
    def mount(self, socket: Socket) -> None:
        socket.stream("lines", [{"id": 0, "text": "start"}])

    def handle_event(self, event: str, params: dict[str, Any], socket: Socket) -> None:
        socket.stream_insert("lines", {"id": int(params["n"]), "text": "line"}, at=0, limit=2)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<ul id="log" phx-update="stream">{rows}</ul>', rows=lw.each(ctx.streams.lines, row)
        )


class WithLog(lw.LiveView):
    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<main>{log}</main>", log=lw.live_component(Log, id="log"))


def test_a_component_streams_too_and_sends_only_its_new_row():
    lv = live(WithLog)
    for n in (1, 2):
        event = {"type": "event", "kind": "click", "event": "add", "value": {"n": str(n)}}
        lv.send_raw({**event, "cid": 1})
    assert [li["id"] for li in lv._soup().select("#log > li")] == ["lines-2", "lines-1"]
    assert list(lv.payloads[-1]) == ["c"]
    assert "lines-1" not in json.dumps(lv.payloads[-1])


class Shared(Feed):
    """A Feed whose socket a thread of the user's holds too (a producer feeding the view)."""

    def mount(self, socket: Socket) -> None:
        super().mount(socket)
        self.socket = socket


def test_a_row_streamed_from_outside_the_views_code_waits_its_turn_and_loses_no_other_row():
    lv = live(Shared)
    socket = lv.view.socket
    # From this thread, outside the view's code: the view's own insert is queued first; the
    # stream_insert must apply after it, not put back the stream it read before it.
    socket.send_info(("insert", {"id": 1, "text": "r1"}, -1, None))
    socket.stream_insert("feed", {"id": 2, "text": "r2"})
    socket.stream("feed", iter([{"id": 3, "text": "r3"}, {"id": 4, "text": "r4"}]))
    socket.stream_delete("feed", {"id": 1, "text": "r1"})
    assert ids(lv) == []  # nothing has run yet
    lv.advance(0)
    assert ids(lv) == ["feed-2", "feed-3", "feed-4"]
    batch = [{"id": 5, "text": "r5"}]
    socket.stream("feed", batch)
    batch.clear()  # a producer reusing its list once the call returned
    lv.advance(0)
    assert ids(lv) == ["feed-2", "feed-3", "feed-4", "feed-5"]
    assert lv.errors == []


def test_a_bad_stream_operation_from_outside_the_views_code_raises_there_and_changes_nothing():
    lv = live(Shared)
    socket = lv.view.socket
    with pytest.raises(KeyError, match="'news'"):
        socket.stream_insert("news", {"id": 1, "text": "r1"})
    with pytest.raises(ValueError, match="at"):
        socket.stream_insert("feed", {"id": 1, "text": "r1"}, at=-5)
    lv.advance(0)
    assert ids(lv) == []
    assert lv.errors == []

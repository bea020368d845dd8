"""(d) A newest-first feed capped at 1,000 rows, one new row a tick: a stream against ``each``.

Each update is a tick of the feed: a new row goes on top, the oldest beyond 1,000 goes.

* livewidget with a stream, ``socket.stream_insert("feed", row, at=0, limit=1000)`` and
  ``lw.each(ctx.streams.feed, row)``: the render has only the new row, the payload carries it
  with the insert (the page drops the 1,001st row itself), and once sent the kernel forgets it
  (the runtime's consume, done here as the runtime does it);
* livewidget with keyed rows, ``lw.each(rows, row, key=id)`` over the 1,000 rows held in the
  context (what a view had to do before streams): every row moves down one place, and the
  payload says so for each;
* full HTML of the 1,000 rows, as ``ipywidgets.HTML`` would send it.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import livewidget as lw
from livewidget import protocol
from livewidget.socket import Socket
from livewidget.stream import StreamComprehension, consume_streams

from .common import Contender, measure, print_table, size

ROWS = 1000

FEED = '<ul id="feed" phx-update="stream">{rows}</ul>'
ROW = '<li id="{dom_id}"><b>{user}</b> {text} <time>{at}</time></li>'


def make_row(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "user": f"user{i % 17}",
        "text": f"message number {i}",
        "at": f"12:{i % 60:02}",
    }


def stream_row(dom_id: str, r: dict[str, Any]) -> lw.Rendered:
    return lw.html(ROW, dom_id=dom_id, user=r["user"], text=r["text"], at=r["at"])


def keyed_row(r: dict[str, Any]) -> lw.Rendered:
    return stream_row(f"feed-{r['id']}", r)


class StreamFeed:
    """A view's tick with a stream: insert, render, diff, dump; then consume, as the runtime."""

    def __init__(self) -> None:
        self.socket = Socket()
        self.socket.stream("feed", [make_row(i) for i in reversed(range(ROWS))])
        self.next = ROWS
        self.last = self.render()
        batches: list[StreamComprehension] = []
        self.first = json.loads(self.send(protocol.full(self.last, streams=batches), batches))

    def render(self) -> lw.Rendered:
        return lw.html(FEED, rows=lw.each(self.socket.context.streams.feed, stream_row))

    def send(self, payload: Any, batches: list[StreamComprehension] | None = None) -> str:
        text = json.dumps(payload)
        for batch in batches or []:
            batch.consume()
        consume_streams(self.socket.context)
        return text

    def __call__(self) -> str:
        self.socket.stream_insert("feed", make_row(self.next), at=0, limit=ROWS)
        self.next += 1
        current = self.render()
        batches: list[StreamComprehension] = []
        payload = protocol.diff(self.last, current, streams=batches)
        self.last = current
        return self.send(payload, batches)


class KeyedFeed:
    """A view's tick with the 1,000 rows in the context, keyed: render all, diff, dump."""

    def __init__(self) -> None:
        self.rows = deque(make_row(i) for i in reversed(range(ROWS)))
        self.next = ROWS
        self.last = self.render()

    def render(self) -> lw.Rendered:
        return lw.html(FEED, rows=lw.each(list(self.rows), keyed_row, key=lambda r: r["id"]))

    def tick(self) -> None:
        self.rows.appendleft(make_row(self.next))
        self.rows.pop()
        self.next += 1

    def __call__(self) -> str:
        self.tick()
        current = self.render()
        text = json.dumps(protocol.diff(self.last, current))
        self.last = current
        return text


class FullHtmlFeed(KeyedFeed):
    """The ipywidgets.HTML baseline: the whole feed's HTML as the widget's value."""

    def __call__(self) -> str:
        self.tick()
        return json.dumps({"value": self.render().to_html()})


def same_page() -> None:
    """The stream's page, merged from its payloads as the front end does, is the keyed one."""
    stream, keyed = StreamFeed(), KeyedFeed()
    tree = protocol.merge(None, stream.first)
    assert protocol.to_html(tree) == keyed.last.to_html()
    for _ in range(3):
        tree = protocol.merge(tree, json.loads(stream()))
        keyed()
    assert protocol.to_html(tree) == keyed.last.to_html()


def tick_bytes(feed: StreamFeed | KeyedFeed) -> int:
    """The bytes of one tick's payload (for full HTML, of the HTML)."""
    payload = json.loads(feed())
    return size(payload["value"] if isinstance(feed, FullHtmlFeed) else payload)


def run() -> list[Any]:
    same_page()
    contenders = [
        Contender(
            "livewidget",
            "stream_insert(at=0, limit=1000), each(stream)",
            StreamFeed(),
            None,
            tick_bytes(StreamFeed()),
        ),
        Contender(
            "livewidget",
            "1,000 rows in the context, lw.each(key=id)",
            KeyedFeed(),
            None,
            tick_bytes(KeyedFeed()),
        ),
        Contender(
            "full HTML",
            "lw.html(...).to_html(), whole feed",
            FullHtmlFeed(),
            None,
            tick_bytes(FullHtmlFeed()),
        ),
    ]
    return measure(contenders)


def main() -> None:
    print_table(f"(d) newest-first feed of {ROWS:,} rows, one new row a tick", run())


if __name__ == "__main__":
    main()

"""livewidget/serve/collector.py: the garbage collector of a serving process."""

from __future__ import annotations

import gc
import time
import weakref
from typing import Any, ClassVar

import livewidget as lw
from livewidget.serve import app, collector, tune_gc

from .test_serve import TestClient, receive
from .test_serve import gc_restored as gc_restored  # the fixture, for the tests here


def test_a_full_collection_runs_once_a_quarter_of_the_open_views_have_closed() -> None:
    runs: list[int] = []
    open_views = [1_000]
    watcher = collector.Collector(lambda: open_views[0], collect=lambda: runs.append(1))
    for _ in range(249):
        watcher.view_closed()
    assert runs == []
    watcher.view_closed()  # the 250th of 1,000 open
    assert runs == [1]
    assert watcher.closed_since == 0
    open_views[0] = 10  # few open: at least FULL_AFTER_CLOSED_MIN closed
    for _ in range(collector.FULL_AFTER_CLOSED_MIN - 1):
        watcher.view_closed()
    assert runs == [1]
    watcher.view_closed()
    assert runs == [1, 1]


def test_untuned_a_closed_view_is_left_to_cpythons_own_collector() -> None:
    assert collector._active is None
    collector.view_closed()  # nothing counted, nothing collected
    assert collector._active is None


def test_tuning_raises_the_young_threshold_and_counts_closed_views(gc_restored: None) -> None:
    tune_gc()
    assert gc.get_threshold() == collector.THRESHOLDS
    assert collector._active is not None
    tune_gc()  # again (a second app in the process): the same collector
    assert collector._active.closed_since == 0


class Remembered(lw.LiveView):
    """Each instance is remembered weakly, to see when it is freed."""

    made: ClassVar[list[weakref.ref[Any]]] = []

    def mount(self, socket: lw.Socket) -> None:
        Remembered.made.append(weakref.ref(self))
        socket.assign(n=0)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<p>{n}</p>", **ctx)


def test_tuned_the_views_of_closed_sockets_are_freed_without_waiting_for_cpython(
    gc_restored: None,
) -> None:
    """A closed view is cyclic garbage (runtime, socket, outbox and task refer to each other).
    With the young threshold at 100,000 CPython would not collect it for a long while; the
    collector's own full collection, once ``FULL_AFTER_CLOSED_MIN`` views have closed, frees
    every one of them."""
    Remembered.made.clear()
    gc.collect()
    tune_gc()
    closes = collector.FULL_AFTER_CLOSED_MIN
    with TestClient(app({"/": Remembered})) as client:
        for _ in range(closes - 1):
            with client.websocket_connect("/") as ws:
                receive(ws, "full")
        alive = sum(ref() is not None for ref in Remembered.made)
        assert alive > closes // 2  # closed, not collected: CPython's young one has not run
        with client.websocket_connect("/") as ws:
            receive(ws, "full")
        assert len(Remembered.made) == closes
        # The last close ran the full collection (on the server's loop, as it closed): every
        # view closed before it is freed (the last one was still its session's).
        earlier = Remembered.made[:-1]
        deadline = time.monotonic() + 5
        while any(ref() is not None for ref in earlier) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [ref() for ref in earlier] == [None] * (closes - 1)

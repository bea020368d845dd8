"""The cyclic garbage collector in a process that serves thousands of views.

With CPython's default thresholds (700, 10, 10), a server ticking 2,500 views a second per
process ran a full collection every few seconds, each a pause of 250 to 410 ms of the whole
event loop: every view's tick waits behind it, and p95 tick latency at 5,000 views was 440 to
1,700 ms, against 67 to 210 ms tuned (benchmarks/README.md, section (g), "The floor of a
connection, wsproto, and the garbage collector"). The full collections came
from the ticks themselves: what a tick makes and keeps until the next one (the render, the
context, the next timer) is alive at the young collections that run every 700 container
objects made, so it is promoted to the oldest generation, whose collection walks every object
of every view and connection once promoted objects reach a quarter of them.

A ticking view makes no cyclic garbage (measured: no unreachable object per tick), so those
collections find nothing. A closed view does: its runtime, socket, outbox and worker task refer
to each other (about 35 objects), and it is freed by a collection of the generation it has
reached, the oldest for any view open more than a few seconds.

So a serving process (``tune()``, which ``livewidget serve`` calls in each worker):

* collects its young generation once 100,000 more container objects have been made than freed
  (not 700): ticking, whose objects are freed by reference counting within a tick or a second,
  no longer promotes them, and the oldest generation's collection is no longer triggered by
  ticks (CPython still runs it after 10 collections of the middle one, as by default);
* runs a full collection itself once the views closed since the last one reach a quarter of
  those open (``FULL_AFTER_CLOSED_SHARE``, and at least ``FULL_AFTER_CLOSED_MIN``): the memory
  closed views hold waiting for it stays under a quarter of what the open ones hold, and its
  cost follows the coming and going of pages, not the ticks (CPython's own rule for the oldest
  generation, counted in views).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

__all__ = [
    "FULL_AFTER_CLOSED_MIN",
    "FULL_AFTER_CLOSED_SHARE",
    "THRESHOLDS",
    "Collector",
    "tune",
    "view_closed",
]

THRESHOLDS = (100_000, 20, 10)  # gc.set_threshold: young, middle, oldest
FULL_AFTER_CLOSED_SHARE = 0.25  # a full collection once this share of the open views closed
FULL_AFTER_CLOSED_MIN = 100  # and at least this many


class Collector:
    """Counts the views that closed since the last full collection; runs one when they reach
    ``FULL_AFTER_CLOSED_SHARE`` of the open views (``open_views()``), at least
    ``FULL_AFTER_CLOSED_MIN``. ``collect`` is ``gc.collect`` (a test passes its own)."""

    def __init__(
        self, open_views: Callable[[], int], collect: Callable[[], object] = gc.collect
    ) -> None:
        self._open_views = open_views
        self._collect = collect
        self._lock = threading.Lock()
        self.closed_since = 0  # views closed since the last full collection
        self.collections = 0  # full collections run by this collector

    def view_closed(self) -> None:
        """A view closed (its objects wait for a collection of their generation)."""
        with self._lock:
            self.closed_since += 1
            due = self.closed_since >= max(
                FULL_AFTER_CLOSED_MIN, FULL_AFTER_CLOSED_SHARE * self._open_views()
            )
            if due:
                self.closed_since = 0
                self.collections += 1
        if due:
            self._collect()


_active: Collector | None = None  # set by tune(): this process serves views


def tune(open_views: Callable[[], int]) -> None:
    """Set this process's collector for serving views (see the module's docstring):
    ``open_views()`` says how many views are open."""
    global _active
    gc.set_threshold(*THRESHOLDS)
    if _active is None:
        _active = Collector(open_views)


def view_closed() -> None:
    """A served view closed: counted toward a full collection, once ``tune()`` was called (a
    process left with CPython's thresholds runs its own)."""
    if _active is not None:
        _active.view_closed()

"""The runtime: what runs a view once it is live (a widget, a served page, the test client).

One concept per module:

* ``messages``: what a view's mailbox holds, one dataclass per kind.
* ``view_runtime``: ``ViewRuntime``, one view's mailbox, handlers, rollback and renders.
* ``outbox``: what a view sends its page: sequence numbers, full or diff, pushes, "settled",
  errors.
* ``scheduling``: the clock, the pacer, ``repeat``.
* ``loop``: livewidget's loop thread, the worker pool that runs views' plain functions, the
  watchdog and the census.

The names below are the ones the rest of livewidget uses.
"""

from __future__ import annotations

from .loop import (
    ViewClosed,
    background_loop,
    call_soon_threadsafe,
    census,
    census_sources,
)
from .messages import Assign, Call, Event, FromPage, Info, Join, Message, Mount, Report, Sync, Tick
from .outbox import SETTLE_WAITS, Outbox
from .scheduling import Clock, LoopClock, Pacer, Pacing, Repeat
from .view_runtime import (
    MAX_QUEUED_BYTES_FROM_PAGE,
    MAX_QUEUED_FROM_PAGE,
    LoopBlocked,
    PageFlood,
    SlowHandler,
    ViewRuntime,
)

__all__ = [
    "MAX_QUEUED_BYTES_FROM_PAGE",
    "MAX_QUEUED_FROM_PAGE",
    "SETTLE_WAITS",
    "Assign",
    "Call",
    "Clock",
    "Event",
    "FromPage",
    "Info",
    "Join",
    "LoopBlocked",
    "LoopClock",
    "Message",
    "Mount",
    "Outbox",
    "Pacer",
    "Pacing",
    "PageFlood",
    "Repeat",
    "Report",
    "SlowHandler",
    "Sync",
    "Tick",
    "ViewClosed",
    "ViewRuntime",
    "background_loop",
    "call_soon_threadsafe",
    "census",
    "census_sources",
]

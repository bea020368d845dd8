"""What a view's mailbox holds: one dataclass per kind of message, dispatched with ``match``.

Everything that happens to a view arrives as one of these and is handled in order, one at a
time (``livewidget.runtime.view_runtime``):

* ``Mount``: the first message of every view.
* ``Event``: an event from the page (``phx-click``...), for the view or for component ``cid``.
* ``Info``: a message for ``handle_info`` (``send_info``, pub/sub, ``start_async``'s outcome).
* ``Tick``: a ``repeat`` timer fell due: call its function.
* ``Assign``: context values from notebook code or a linked widget.
* ``Join``: the page asks for the full render (a new page, or one that saw a gap).
* ``Sync``: someone waits until every message before this one is handled and rendered.
* ``Report``: an error found outside the view's code, to show in the view.
* ``Call``: a function to run as the view's own code (a message from the page for a widget
  the view shows: its observers may assign to the view's context).
* ``FromPage``: a message that came from the page, with its size (the page's share of the
  mailbox is capped).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .scheduling import Repeat

__all__ = [
    "Assign",
    "Call",
    "Event",
    "FromPage",
    "Info",
    "Join",
    "Message",
    "Mount",
    "Report",
    "Sync",
    "Tick",
]


@dataclass(frozen=True, slots=True)
class Mount:
    pass


@dataclass(frozen=True, slots=True)
class Event:
    event: str
    params: dict[str, Any]
    cid: int | None = None


@dataclass(frozen=True, slots=True)
class Info:
    info: Any


@dataclass(frozen=True, slots=True)
class Tick:
    timer: Repeat


@dataclass(frozen=True, slots=True)
class Assign:
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Join:
    pass


@dataclass(frozen=True, slots=True)
class Sync:
    done: asyncio.Future[None] | Any  # an asyncio or concurrent.futures future


@dataclass(frozen=True, slots=True)
class Report:
    error: BaseException
    where: str


@dataclass(frozen=True, slots=True)
class Call:
    fn: Callable[[], Any]
    where: str  # what the view's error says it was doing


@dataclass(frozen=True, slots=True)
class FromPage:
    message: Event | Join | Call
    size: int = field(default=0)


Message = Mount | Event | Info | Tick | Assign | Join | Sync | Report | Call | FromPage

"""Where the test client meets the runtime: the pacer it passes in and the messages it posts
(it reads nothing of the runtime's private state).

- ``StepPacer`` stands in for the widget's ``Pacer``: it sends when the client says so (when the
  view has settled, and at each barrier), not once a frame on a clock.
- ``sync(done)`` is the barrier the client posts behind each message it sends: the mailbox
  handles it right after that message, before whatever that message's handler sent itself, and
  renders what is pending; the client's flush when ``done`` resolves sends it. That is how each
  event's own render reaches the page (and ``lv.renders``) before the infos it triggered.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..runtime import Info, Report, Sync, ViewRuntime

__all__ = ["StepPacer", "info", "report", "sync"]


class StepPacer:
    """The client's pacer: a request marks the view dirty; ``flush`` sends, when told to.

    It has the ``Pacer``'s ``request`` / ``discard`` (the runtime calls only those).
    """

    def __init__(self) -> None:
        self.dirty = False
        self.runtime: ViewRuntime | None = None

    def request(self, runtime: ViewRuntime) -> None:
        self.runtime = runtime
        self.dirty = True

    def discard(self, runtime: ViewRuntime) -> None:
        self.dirty = False

    def flush(self) -> None:
        """Send what the view has pending, if anything (from the loop, or while it is idle)."""
        runtime = self.runtime
        if self.dirty and runtime is not None:
            self.dirty = False
            runtime.flush()


# The mailbox messages the client posts (livewidget.runtime.messages).


def info(value: Any) -> Info:
    """What ``send_info(value)`` posts: ``handle_info`` gets ``value``."""
    return Info(value)


def report(error: BaseException, where: str) -> Report:
    """An error to show in the view, as if ``where`` had raised it."""
    return Report(error, where)


def sync(done: asyncio.Future[None]) -> Sync:
    """A barrier: ``done`` resolves once everything before it is handled and rendered."""
    return Sync(done)

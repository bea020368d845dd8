"""Where the test client meets the runtime: the pacer it passes in, the messages it posts, and
the one place it reaches past the runtime's public API (marked ``# runtime-hook``).

- ``StepPacer`` stands in for the widget's ``Pacer``: it sends when the client says so (when the
  view has settled, and at each barrier), not once a frame on a clock.
- ``sync(done)`` is the barrier the client posts behind each message it sends: the mailbox
  handles it right after that message, before whatever that message's handler sent itself, and
  renders what is pending; the client's flush when ``done`` resolves sends it. That is how each
  event's own render reaches the page (and ``lv.renders``) before the infos it triggered.
- ``count_hand_offs`` counts the calls the view's own thread owes the loop, so that the client's
  loop waits (in real time) for a plain ``def`` handler instead of taking itself for stalled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..runtime import ViewRuntime

__all__ = ["HandOffCount", "StepPacer", "count_hand_offs", "info", "report", "sync"]


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


# The mailbox's vocabulary. The runtime reads these tuples today (and its typed messages will
# still take them through ``messages.from_tuple``); switch to the dataclasses when it posts them.


def info(value: Any) -> tuple[Any, ...]:
    """What ``send_info(value)`` posts: ``handle_info`` gets ``value``."""
    return ("info", value)


def report(error: BaseException, where: str) -> tuple[Any, ...]:
    """An error to show in the view, as if ``where`` had raised it."""
    return ("report", error, where)


def sync(done: asyncio.Future[None]) -> tuple[Any, ...]:
    """A barrier: ``done`` resolves once everything before it is handled and rendered."""
    return ("sync", done)


class HandOffCount:
    """How many calls the view's thread owes the loop (its outcome not yet delivered)."""

    def __init__(self) -> None:
        self.owed = 0

    def wrap(self, call: Callable[..., asyncio.Future[Any]]) -> Callable[..., asyncio.Future[Any]]:
        """``call`` (the hand-off to the view's thread), counting what it owes."""

        def counted(fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
            future = call(fn, *args)
            self.owed += 1
            future.add_done_callback(self._paid)
            return future

        return counted

    def _paid(self, _: object) -> None:
        self.owed -= 1


def count_hand_offs(runtime: ViewRuntime) -> HandOffCount:
    """Count the calls the runtime hands to the view's own thread (see ``HandOffCount``)."""
    count = HandOffCount()
    # runtime-hook: the runtime's private thread, read, and its ``call`` wrapped. Switch to the
    # runtime's public hand-off parameter when it has one: pass ``count.wrap(default)`` in.
    thread = runtime._thread
    thread.call = count.wrap(thread.call)  # type: ignore[method-assign]  # same call, counted
    return count

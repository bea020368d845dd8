"""Start a coroutine now, on the caller's stack, and finish it in a task only if it must wait.

A served view sends a frame a tick, and an ASGI ``send`` almost never waits: uvicorn writes the
frame to its transport at once and suspends only while that transport is paused (the page does
not read, the kernel's buffer is full). Sending through a task of its own (a writer per socket
that an ``asyncio.Event`` wakes) costs every frame a trip through the event loop's ready queue,
a future and a task step, and every socket a parked task. ``start(coro)`` instead runs
``coro`` at once until it finishes or first suspends, as Python 3.12's eager tasks do:

* finished: ``start`` returns ``None`` (what it raised, it raises here);
* suspended on a future: ``start`` returns an awaitable that finishes it, to be awaited in a
  task. That task resumes the coroutine exactly as a task that had run it from the start would
  (``send(None)`` when the future is done, ``throw(error)`` when the task is cancelled), since
  the awaitable hands the coroutine's futures through unchanged.
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

__all__ = ["start"]

T = TypeVar("T")


def start(coro: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T] | None:
    """Run ``coro`` until it first suspends: ``None`` if it finished (its exception, if it
    raised one, propagates), else a coroutine to await (in a task) that finishes it."""
    try:
        pending = coro.send(None)
    except StopIteration:
        return None
    return _finish(coro, pending)


@types.coroutine
def _finish(coro: Coroutine[Any, Any, T], pending: Any) -> Generator[Any, None, T]:
    """Hand ``pending`` (what ``coro`` yielded: a future, or None for a bare yield) to the
    task awaiting this, then resume ``coro`` as the task resumes this, until it returns."""
    while True:
        try:
            yield pending
        except BaseException as error:  # the task's throw (cancellation): the coroutine's to handle
            try:
                pending = coro.throw(error)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]  # StopIteration.value is Any
        else:
            try:
                pending = coro.send(None)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]  # StopIteration.value is Any

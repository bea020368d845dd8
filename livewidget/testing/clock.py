"""The virtual clock, and an event loop that keeps its time.

``VirtualClock`` is the runtime's clock in tests: ``call_later`` queues a callback, and time moves
only when the test client's ``advance`` pops what falls due, in order. ``VirtualLoop`` is an
asyncio loop whose ``time()`` is that clock, so the asyncio timers of a view's code
(``asyncio.sleep``, ``loop.call_later``, ``asyncio.timeout``) also wait for ``advance``.

Such a loop must never wait for a timer in real time. Where a plain loop would sleep until its
next timer, ``VirtualLoop`` asks the client (``real_wait``) whether anything real can wake it:
a call on the view's own thread (a plain ``def`` handler or a render), or a ``start_async`` job
on a thread while ``render_async`` waits. If so it waits for that; if not, it stops, marked
``stalled``, and hands back to the test: only ``advance`` can move it on.

``run_loop(loop, coroutine)`` runs the loop until the coroutine ends or the loop stalls, from
any thread (a notebook cell has a loop running already: then on a short-lived thread).
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import math
import selectors
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVarTuple, Unpack

from ..socket import Cancellable

__all__ = ["VirtualClock", "VirtualLoop", "run_loop"]

_Ts = TypeVarTuple("_Ts")


class _Timer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """Time that moves only when told to: ``advance`` fires what falls due, in order."""

    def __init__(self) -> None:
        self._now = 0.0
        self._queue: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        timer = _Timer(callback)
        heapq.heappush(self._queue, (self._now + max(delay, 0.0), next(self._order), timer))
        return timer

    def pop_due(self, until: float) -> _Timer | None:
        """Move the clock to the next live timer due by ``until`` and return it, if any."""
        while self._queue and self._queue[0][0] <= until:
            when, _, timer = heapq.heappop(self._queue)
            if not timer.cancelled:
                self._now = max(self._now, when)
                return timer
        return None

    def next_due(self) -> float:
        """When the next live timer falls due (``math.inf`` if none)."""
        while self._queue and self._queue[0][2].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0][0] if self._queue else math.inf

    def move_to(self, when: float) -> None:
        self._now = max(self._now, when)

    @property
    def pending(self) -> int:
        return sum(not timer.cancelled for _, _, timer in self._queue)


class _StallSelector(selectors.DefaultSelector):
    """The selector of a ``VirtualLoop``: where the loop would wait, it asks the loop whether
    anything real (a thread) can wake it; if not, the loop stops instead of waiting."""

    loop: VirtualLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self.loop
        if loop is None or (timeout is not None and timeout <= 0):
            return super().select(timeout)
        wait = loop.real_wait()
        if wait is None:  # only the virtual clock could wake it: stalled until lv.advance
            loop.stalled = True
            loop.stop()
            return super().select(0)
        return super().select(None if math.isinf(wait) else wait)


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is the virtual clock (see the module docstring).

    ``real_wait()`` says how long (real seconds, ``math.inf`` for as long as it takes) the loop
    may wait for a thread of the view, or None when nothing real runs: then the loop stalls.
    """

    def __init__(self, clock: VirtualClock) -> None:
        selector = _StallSelector()
        super().__init__(selector)
        selector.loop = self
        self._clock = clock
        self._timers: list[asyncio.TimerHandle] = []
        self.stalled = False
        self.real_wait: Callable[[], float | None] = lambda: None

    def time(self) -> float:
        return self._clock.now()

    def call_at(
        self,
        when: float,
        callback: Callable[[Unpack[_Ts]], object],
        *args: Unpack[_Ts],
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        handle = super().call_at(when, callback, *args, context=context)
        self._timers.append(handle)
        return handle

    def next_due(self) -> float:
        """When the next of its timers falls due (those due by now have fired once it ran)."""
        now = self.time()
        self._timers = [h for h in self._timers if not h.cancelled() and h.when() > now]
        return min((h.when() for h in self._timers), default=math.inf)


def run_loop(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, None]) -> bool:
    """Run ``loop`` until ``coroutine`` is done, or until it stalls on the virtual clock (then
    the coroutine is cancelled and this returns False), from any thread.

    In a notebook cell a loop already runs in this thread (ipykernel's), and a thread can run
    only one loop at a time: the client's loop then runs on a short-lived thread while this one
    waits, so the test client works the same in pytest and in a notebook.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        busy = False
    else:
        busy = True
    finished: list[bool] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            finished.append(_drive(loop, coroutine))
        except BaseException as error:  # handed to the waiting thread below
            failure.append(error)

    if busy:
        thread = threading.Thread(target=run, name="livewidget-test-client")
        thread.start()
        thread.join()
    else:
        run()
    if failure:
        raise failure[0]
    return finished[0]


def _drive(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, None]) -> bool:
    def stop(_: object) -> None:
        loop.stop()

    task = loop.create_task(coroutine)
    task.add_done_callback(stop)
    if isinstance(loop, VirtualLoop):
        loop.stalled = False
    loop.run_forever()
    if task.done():
        task.result()
        return True
    # Stalled: the task ends with the loop's next run, which its end must not stop.
    task.remove_done_callback(stop)
    task.cancel()
    return False

"""Time for the runtime: the clock, the pacer that sends renders, ``repeat`` timers.

The clock is passed in (``Clock``): ``LoopClock`` reads an asyncio loop's time, the test client
passes a virtual clock. Every timer of the runtime (repeat, ``send_info(after_ms=...)``, the
pacer, "settled" messages, error batching) reads this one clock.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable
from typing import Any, Protocol

from ..socket import Cancellable
from .messages import Message, Tick

__all__ = ["Clock", "LoopClock", "Pacer", "Pacing", "Repeat"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds, monotonic."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...


class LoopClock:
    """Real time, on an asyncio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def now(self) -> float:
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return self._loop.call_later(max(delay, 0.0), callback)


class Flushable(Protocol):
    """What the pacer asks of a view: send what changed since its last send."""

    def flush(self) -> None: ...


class Pacing(Protocol):
    """What a runtime asks of its pacer (``Pacer``; the test client passes its own)."""

    def request(self, runtime: Any) -> None:
        """``runtime`` has something to send: call its ``flush()`` when its turn comes."""
        ...

    def discard(self, runtime: Any) -> None:
        """``runtime`` closed: forget its request."""
        ...


class Pacer:
    """Sends dirty views' diffs: once a frame per view, ``max_per_second`` in all, fairly."""

    def __init__(
        self, clock: Clock, *, frame: float = 1 / 60, max_per_second: float = 400.0
    ) -> None:
        self._clock = clock
        self._frame = frame
        self._per_pump = max(1, int(max_per_second * frame))
        self._dirty: dict[Flushable, None] = {}
        self._scheduled: Cancellable | None = None
        self._last_pump = -math.inf

    def request(self, runtime: Flushable) -> None:
        self._dirty[runtime] = None
        if self._scheduled is None:
            delay = self._last_pump + self._frame - self._clock.now()
            self._scheduled = self._clock.call_later(delay, self._pump)

    def discard(self, runtime: Flushable) -> None:
        self._dirty.pop(runtime, None)

    def _pump(self) -> None:
        self._scheduled = None
        self._last_pump = self._clock.now()
        batch = list(itertools.islice(self._dirty, self._per_pump))
        for runtime in batch:
            del self._dirty[runtime]
            runtime.flush()
        if self._dirty:
            self._scheduled = self._clock.call_later(self._frame, self._pump)


class RepeatHost(Protocol):
    """What a ``Repeat`` asks of the runtime that runs it."""

    @property
    def clock(self) -> Clock: ...

    def post(self, message: Message) -> None: ...

    def forget_timer(self, timer: Cancellable) -> None: ...


class Repeat:
    """A repeating timer without drift: tick k falls at start + k * interval.

    Each tick posts ``Tick(self)`` to the view's mailbox, where ``fn`` is called; a tick still
    waiting there absorbs the next ones.
    """

    def __init__(self, host: RepeatHost, fn: Callable[[], Any], interval: float) -> None:
        self._host = host
        self.fn = fn
        self._interval = interval
        self._handle: Cancellable | None = None
        self._next = 0.0
        self.pending = False
        self.cancelled = False

    def start(self) -> None:
        if self.cancelled:
            return
        clock = self._host.clock
        self._next = clock.now() + self._interval
        self._handle = clock.call_later(self._interval, self._fire)

    def _fire(self) -> None:
        if self.cancelled:
            return
        if not self.pending:  # a tick still waiting in the mailbox absorbs this one
            self.pending = True
            self._host.post(Tick(self))
        now = self._host.clock.now()
        self._next += self._interval
        if self._next <= now:  # fell behind (a blocked loop): skip the missed ticks
            self._next += math.ceil((now - self._next) / self._interval) * self._interval
            if self._next <= now:
                self._next += self._interval
        self._handle = self._host.clock.call_later(self._next - now, self._fire)

    def cancel(self) -> None:
        self.cancelled = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._host.forget_timer(self)

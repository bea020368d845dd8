"""Time for the runtime: the clock, the pacer that sends renders, ``repeat`` timers.

The clock is passed in (``Clock``): ``LoopClock`` reads an asyncio loop's time, the test client
passes a virtual clock. Every timer of the runtime (repeat, ``send_info(after_ms=...)``, the
pacer, "settled" messages, error batching) reads this one clock.
"""

from __future__ import annotations

import asyncio
import math
import threading
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from ..socket import Cancellable
from .messages import Message, Tick

__all__ = ["Clock", "LoopClock", "Paced", "Pacer", "Pacing", "Repeat"]


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


class Paced(Protocol):
    """What the pacer asks of a view: its clock, and to send what changed since its last send."""

    @property
    def clock(self) -> Clock: ...

    def flush(self) -> None: ...


class Pacing(Protocol):
    """What a runtime asks of its pacer (``Pacer``; the test client passes its own)."""

    def request(self, runtime: Any) -> None:
        """``runtime`` has something to send: call its ``flush()`` when its turn comes."""
        ...

    def discard(self, runtime: Any) -> None:
        """``runtime`` closed: forget its request."""
        ...


class _Slot:
    """One view's place with the pacer: its flush to come, and when it last flushed."""

    __slots__ = ("at", "handle", "last")

    def __init__(self) -> None:
        self.handle: Cancellable | None = None
        self.at = -math.inf  # when that flush is due
        self.last = -math.inf


class Pacer:
    """Sends dirty views' diffs: once a frame per view, ``max_per_second`` in all.

    The views may run on loops of their own, each on its own thread: a request is scheduled on
    the requesting view's own clock (no thread hands anything to another), at the later of its
    frame (``frame`` after its last send) and its turn in the budget the views share. The budget
    is a lock-protected token bucket in the form of GCRA (the generic cell rate algorithm):
    sends are spaced ``1 / max_per_second`` apart, with a burst of ``max_per_second * frame``
    sends at once allowed, so a frame holds at most that many and a second at most
    ``max_per_second``. Each view asks at most once until its flush runs, so a storm of updates
    costs one send a frame.
    """

    def __init__(self, *, frame: float = 1 / 60, max_per_second: float = 400.0) -> None:
        self._frame = frame
        self._interval = 1 / max_per_second
        burst = max(1, int(max_per_second * frame))
        self._tolerance = (burst - 1) * self._interval
        self._lock = threading.Lock()
        self._next = -math.inf  # GCRA's theoretical arrival time of the next send
        # Weakly: a view dropped without close() is not kept alive by its place here.
        self._slots: weakref.WeakKeyDictionary[Paced, _Slot] = weakref.WeakKeyDictionary()

    def request(self, runtime: Paced) -> None:
        """``runtime`` has something to send; called on its own loop."""
        slot = self._slots.get(runtime)
        if slot is None:
            slot = self._slots[runtime] = _Slot()
        elif slot.handle is not None:
            return  # its flush is already on the way: it sends everything
        clock = runtime.clock
        now = clock.now()
        due = max(now, slot.last + self._frame)
        with self._lock:
            at = max(due, self._next - self._tolerance)
            self._next = max(self._next, at) + self._interval
        slot.at = at
        slot.handle = clock.call_later(at - now, lambda: self._fire(runtime, slot))

    def take_turn(self, runtime: Paced) -> bool:
        """Let ``runtime`` send right now if its frame and the budget allow (on its loop):
        True, and its turn is taken (a request of its already on the way is cancelled)."""
        slot = self._slots.get(runtime)
        if slot is None:
            slot = self._slots[runtime] = _Slot()
        now = runtime.clock.now()
        if slot.handle is not None:  # requested: its place in the budget is taken already
            if slot.at > now:
                return False
            slot.handle.cancel()
            slot.handle = None
        else:
            if now < slot.last + self._frame:
                return False
            with self._lock:
                if now < self._next - self._tolerance:
                    return False
                self._next = max(self._next, now) + self._interval
        slot.last = now
        return True

    def _fire(self, runtime: Paced, slot: _Slot) -> None:
        slot.handle = None
        slot.last = runtime.clock.now()
        runtime.flush()

    def discard(self, runtime: Paced) -> None:
        """``runtime`` closed: its flush to come is cancelled."""
        slot = self._slots.pop(runtime, None)
        if slot is not None and slot.handle is not None:
            slot.handle.cancel()
            slot.handle = None


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

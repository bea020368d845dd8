"""The loop: livewidget's event-loop thread, the worker pool, the watchdog, the census.

Isolation: what one view's code does never stops another view.

A Phoenix LiveView is an Erlang process: its crash or its slow handler never stops another
view. In livewidget the views of a process share one event loop (``background_loop()`` in a
kernel; the server's loop under ``livewidget serve``; the test client's virtual one), where
their async code, timers, mailboxes and sends run, and their plain functions (``mount``, the
handlers, ``render``, a ``repeat`` callback, a component's methods, written as ``def``) run on
a few worker threads that every view shares (``Pool``), each view's calls one at a time and in
order (its ``ViewThread``, a lane in the pool).

* **A handler that raises anything** (``SystemExit`` from argparse, ``KeyboardInterrupt``,
  ``CancelledError`` from an awaited task that something else cancelled) is that view's error.
  The runtime catches ``BaseException`` around view code, shows it in the view and goes on;
  cancellation counts as the runtime's own only when the view is closing. As a last line, the
  loop thread restarts its loop if anything escapes a callback anyway (``run_loop_forever``).
* **A plain handler that blocks** (``time.sleep``, a slow query, ``while True: pass``) holds
  its worker and its own view. A view's calls go to its home worker; the pool's monitor looks
  every ``GROW_AFTER`` (10 ms) while calls wait behind a running one, and once that call has
  run that long the views waiting behind it move to a free worker (a new one if none is free,
  up to ``POOL_MAX``), their new home. So the other views wait at most about 10 ms, as Go's
  sysmon hands a blocked thread's work to another. A view keeps to one thread while no other
  view's code blocks the thread they share; objects that must stay on one thread (an sqlite
  connection made in ``mount``) may then see another thread. A worker that no view calls home
  ends after ``IDLE_SECONDS`` idle. ``close()`` stops a handler that never returns by raising
  ``ViewClosed`` in its worker, which then serves on.
* **Async code that blocks** (``time.sleep`` inside ``async def``) stalls the loop, every view
  on it: the watchdog names the view whose code does it, in that view, and retires the loop
  (new views then start on a fresh one).
* The ``Watchdog`` reports, in the view, any code of a view that has run for ``SLOW_SECONDS``
  without returning (a plain call counts from when a worker began it), so a slow view never
  just looks frozen.

Why a pool rather than a thread per view (livewidget's design before) or a loop per view (its
design for a day, ``ViewLoop``, kept behind ``OWN_LOOPS_MAX = 0``): a tick of a dashboard hands
its ``repeat`` callback and its render from the loop to a thread and back. With a thread per
view each hand-off woke a thread of its own: about 5 context switches an update, 100
dashboards at 4.5x the kernel CPU of ``ipywidgets.HTML``, and a thread (20 KB) per served view.
A loop per view saved a third of that, but busy views' threads fought for the GIL and starved
the notebook. The pool's workers take what several views hand over together (their ``repeat``
ticks come due together: ``scheduling.Coalescer``) in one wake-up, and hand the outcomes back
to each loop in one wake-up (``_hand_over``); a process holds a few threads, not one a view
(benchmarks/README.md has the figures).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import contextvars
import ctypes
import logging
import math
import selectors
import sys
import threading
import time
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from ..pubsub import default_bus
from .scheduling import Pacer

__all__ = [
    "ViewClosed",
    "ViewLoop",
    "ViewThread",
    "Watchdog",
    "background_loop",
    "call_soon_threadsafe",
    "census",
    "census_sources",
    "run_loop_forever",
]

log = logging.getLogger("livewidget")

SLOW_SECONDS = 3.0  # a handler running this long is reported in its view
STALL_SECONDS = 2.0  # a loop that has not turned for this long is stalled
TICK_SECONDS = 0.25  # how often the watchdog looks


class ViewClosed(BaseException):
    """Raised in a view's thread when the view closes while its handler is still running.

    A ``BaseException``, so that handler code with ``except Exception`` does not swallow it.
    """


# The pool that runs views' plain functions (``Pool``): its knobs.
GROW_AFTER = 0.010  # a call running this long with calls waiting behind it: they move on
POOL_MAX = 64  # the most worker threads the pool runs at once
IDLE_SECONDS = 30.0  # a worker that no view calls home ends after idling this long
SETTLE_BATCH = 32  # outcomes a worker hands to a loop at most in one wake-up of that loop
_ABSORB_SPINS = 200_000  # bytecodes a worker waits at most for a ViewClosed aimed at it

_current = threading.local()  # .worker: the pool's worker that this thread is, if any

_Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
_Outcome = tuple[Any, BaseException | None]


class ViewThread:
    """A view's lane in the pool: runs the view's plain functions one at a time, in order.

    ``call(fn, *args)`` returns an asyncio future on ``loop`` that gets ``fn``'s result, or
    whatever it raised (``BaseException`` included). The calls run on a worker of ``pool``
    (livewidget's shared one by default), the view's home worker while that one is free: see
    ``Pool``. ``stop()`` drops the calls still waiting and ends a call that never returns.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, name: str, pool: Pool | None = None
    ) -> None:
        self._loop = loop
        self._name = name
        self._pool = pool if pool is not None else workers
        self._calls: list[_Call] = []  # a few at most: a list is smaller than a deque
        self._home: _Worker | None = None  # the worker the lane's calls go to
        self._queued = False  # waiting on its home, or running there
        self._worker: _Worker | None = None  # the worker running a call of the lane now
        self._running: Callable[..., Any] | None = None  # the function that runs now
        self._stopped = False
        self._deferred: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.owed = 0  # calls whose outcome the loop has not had yet

    @property
    def ident(self) -> int | None:
        """The thread running the lane's call now (None between calls)."""
        worker = self._worker
        return worker.thread.ident if worker is not None else None

    @property
    def started_at(self) -> float | None:
        """When (``time.monotonic()``) the lane's call running now began; None if none runs
        (a call handed over may wait behind other views' calls)."""
        worker = self._worker
        return worker.since if worker is not None and worker.in_call else None

    def owns_current_thread(self) -> bool:
        """Whether the caller is this lane's call, on the worker running it."""
        worker: _Worker | None = getattr(_current, "worker", None)
        return worker is not None and worker.lane is self

    def defer(self, fn: Callable[..., Any], *args: Any) -> None:
        """From the lane's own call: run ``fn(*args)`` on the loop when the call returns,
        before its result is delivered (one wake-up of the loop for a handler's every
        ``send_info``, ``assign`` from a timer, ``push_event``..., in their order)."""
        self._deferred.append((fn, args))

    def call(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = self._loop.create_future()
        if self._stopped:
            future.set_exception(ViewClosed("the view is closed"))
            return future
        self.owed += 1  # paid back when its outcome is settled on the loop (_settle)
        pool = self._pool
        with pool.lock:
            self._calls.append((fn, args, future))
            if not self._queued:
                pool.submit(self)
        return future

    def stop(self) -> None:
        """Drop the calls still waiting; a call running now (a handler that never returns) is
        ended by raising ``ViewClosed`` in its thread. Safe from any thread."""
        pool = self._pool
        with pool.lock:
            if self._stopped:
                return
            self._stopped = True
            self._calls.clear()
            worker, home = self._worker, self._home
            if home is not None:
                home.homed -= 1
                self._home = None
                if worker is None and self._queued:
                    with contextlib.suppress(ValueError):
                        home.waiting.remove(self)
                    self._queued = False
            if (
                worker is not None
                and worker.lane is self
                and worker.in_call
                and not worker.interrupted
                and worker.thread is not threading.current_thread()
                and worker.thread.ident is not None
            ):
                worker.interrupted = True
                _raise_in_thread(worker.thread.ident, ViewClosed)

    # -- the worker's side (under the pool's lock) --------------------------------------------

    def _begin(self, worker: _Worker) -> _Call:
        call = self._calls.pop(0)
        self._running, self._worker = call[0], worker
        return call

    def _end(self) -> list[tuple[Callable[..., Any], tuple[Any, ...]]]:
        self._running = self._worker = None
        deferred, self._deferred = self._deferred, []
        self._queued = False
        if self._calls and not self._stopped:
            self._pool.submit(self)  # its next call, behind the lanes queued meanwhile
        return deferred


class _Worker:
    """One thread of the pool: runs the calls of the lanes queued on it, one at a time, and
    hands their outcomes to their loops in batches."""

    def __init__(self, pool: Pool, index: int) -> None:
        self.pool = pool
        self.waiting: collections.deque[ViewThread] = collections.deque()
        self.wake = threading.Condition(pool.lock)
        self.sleeping = False  # waiting on ``wake``
        self.ended = False
        self.lane: ViewThread | None = None  # the lane whose call runs now
        self.in_call = False  # that call itself runs (not the bookkeeping around it)
        self.since = 0.0  # time.monotonic() when it began
        self.homed = 0  # lanes whose home this worker is
        self.interrupted = False  # a ViewClosed was raised in this thread and not yet seen
        # Outcomes of calls that returned, for their loops: handed over once no call waits,
        # or by the monitor when this worker is stuck in a call.
        self.outcomes: list[tuple[ViewThread, asyncio.Future[Any], _Outcome, Any]] = []
        self.thread = threading.Thread(
            target=self._run, name=f"livewidget-worker-{index}", daemon=True
        )

    def stuck(self, now: float) -> bool:
        return self.in_call and now - self.since >= self.pool.grow_after

    def _run(self) -> None:
        _current.worker = self
        while True:
            try:
                if not self._step():
                    return
            except ViewClosed:  # the last line: a close() aimed at a call that had returned
                with self.pool.lock:
                    self.interrupted = self.in_call = False

    def _step(self) -> bool:
        """Run one call, or hand over the outcomes once no call waits. False: the worker ends."""
        pool = self.pool
        with pool.lock:
            if not self.waiting and not self.outcomes:
                while not self.waiting:
                    if self.ended:
                        return False
                    self.sleeping = True
                    woken = self.wake.wait(pool.idle_seconds)
                    self.sleeping = False
                    if not woken and not self.waiting and self.homed == 0:
                        pool.retire(self)
                        return False
            lane = self.waiting.popleft() if self.waiting else None
            if lane is None:
                self.hand_over()
                return True
            fn, args, future = lane._begin(self)
            self.lane, self.in_call, self.since = lane, True, time.monotonic()
            if self.waiting or self.outcomes:
                pool.watch()  # calls wait behind this one, or outcomes do
        consumed = False
        try:
            try:
                outcome: _Outcome = (fn(*args), None)
            except BaseException as error:  # the view's error, whatever it is: handed back
                outcome = (None, error)
                consumed = isinstance(error, ViewClosed)
            with pool.lock:
                pending = self.interrupted and not consumed
                self._finish(lane, future, outcome)
        except ViewClosed as late:  # close() raised it as the call returned: seen now
            pending = False
            with pool.lock:
                if self.lane is lane:
                    self._finish(lane, future, (None, late))
        if pending:  # raised as the call returned, not seen yet: let it land here
            _absorb_interrupt()
        return True

    def hand_over(self) -> None:
        """Give the loops the outcomes held (under the lock, so that a view's outcomes reach
        its loop in the order of its calls, whichever worker ran them)."""
        outcomes, self.outcomes = self.outcomes, []
        _hand_over(outcomes)

    def _finish(self, lane: ViewThread, future: asyncio.Future[Any], outcome: _Outcome) -> None:
        self.in_call = self.interrupted = False
        self.lane = None
        self.outcomes.append((lane, future, outcome, lane._end()))
        if len(self.outcomes) >= self.pool.settle_batch:
            self.hand_over()


class Pool:
    """Worker threads that run every view's plain functions, each view's calls in order.

    A view's calls (its ``ViewThread``) go to its home worker, one at a time, so that a view
    keeps to one thread while nothing goes wrong. A handler that blocks holds its worker; like
    Go's sysmon, a monitor thread looks every ``grow_after`` seconds while calls wait behind a
    running one, and when that call has run for ``grow_after`` the waiting views move to a free
    worker (a new one if none is free, up to ``max_workers``) which becomes their home. So a
    blocking handler holds up its own view, and the others at most ``grow_after``. A worker that
    no view calls home ends after ``idle_seconds`` idle.

    One worker drains what several views hand over at once (a batch of timers that came due
    together) in one wake-up, and hands the outcomes back to each loop in one wake-up too: once
    no call waits on it, after ``settle_batch`` calls, or, when it is stuck in a call, by the
    monitor (what it ran before never waits for another view's blocking code).
    """

    def __init__(
        self,
        *,
        max_workers: int = POOL_MAX,
        grow_after: float = GROW_AFTER,
        idle_seconds: float = IDLE_SECONDS,
        settle_batch: int = SETTLE_BATCH,
    ) -> None:
        # Reentrant: a finalizer that closes a view (the test client's) may run inside it.
        self.lock = threading.RLock()
        self.workers: list[_Worker] = []
        self.max_workers = max_workers
        self.grow_after = grow_after
        self.idle_seconds = idle_seconds
        self.settle_batch = settle_batch
        self._backlog = threading.Condition(self.lock)
        self._monitor: threading.Thread | None = None
        self._monitor_idle = False
        self._made = 0
        self._capped = False  # the cap was met: said once in the log

    def submit(self, lane: ViewThread) -> None:
        """Queue ``lane`` (calls waiting, not queued) on its home (under the lock)."""
        home = lane._home
        if home is None or home.ended or home.stuck(time.monotonic()):
            if home is not None:
                home.hand_over()  # the lane's earlier outcomes go before those of its new home
            target = self._free(exclude=home)
            if target is None:  # every worker is stuck and the pool is at its cap
                target = home if home is not None and not home.ended else self._least_waiting()
            if target is not home:
                if home is not None:
                    home.homed -= 1
                target.homed += 1
                lane._home = home = target
        home.waiting.append(lane)
        lane._queued = True
        if home.sleeping:
            home.sleeping = False  # woken once: the calls handed over until it runs need not
            home.wake.notify()
        elif home.in_call:
            self.watch()

    def _free(self, exclude: _Worker | None = None) -> _Worker | None:
        """A worker not stuck in a call (the one most views call home, so that their calls
        batch), or a new one; None at the cap."""
        now = time.monotonic()
        best: _Worker | None = None
        for worker in self.workers:
            free = worker is not exclude and not worker.stuck(now)
            if free and (best is None or worker.homed > best.homed):
                best = worker
        return best if best is not None else self._grow()

    def _least_waiting(self) -> _Worker:
        return min(self.workers, key=lambda worker: len(worker.waiting))

    def _grow(self) -> _Worker | None:
        if len(self.workers) >= self.max_workers:
            if not self._capped:
                self._capped = True
                log.warning(
                    "livewidget: all %d worker threads run view code that has not returned; "
                    "other views' plain functions wait for one of them",
                    self.max_workers,
                )
            return None
        worker = _Worker(self, self._made)
        self._made += 1
        self.workers.append(worker)
        if self._monitor is None:
            self._monitor = threading.Thread(
                target=self._watch_loop, name="livewidget-pool-monitor", daemon=True
            )
            self._monitor.start()
        worker.thread.start()
        return worker

    def retire(self, worker: _Worker) -> None:
        worker.ended = True
        with contextlib.suppress(ValueError):
            self.workers.remove(worker)

    def watch(self) -> None:
        """Calls or outcomes wait behind a running call (under the lock): the monitor looks."""
        if self._monitor_idle:
            self._monitor_idle = False  # woken once, not at every call until it runs
            self._backlog.notify()

    def _watch_loop(self) -> None:
        while True:
            with self.lock:
                while not any(w.in_call and (w.waiting or w.outcomes) for w in self.workers):
                    self._monitor_idle = True
                    self._backlog.wait()
                self._monitor_idle = False
            time.sleep(self.grow_after)
            with self.lock:
                now = time.monotonic()
                for worker in list(self.workers):
                    if worker.stuck(now):
                        worker.hand_over()  # what it ran before the long call: delivered now
                        if worker.waiting:
                            self._move_off(worker)

    def _move_off(self, stuck: _Worker) -> None:
        """The calls waiting behind ``stuck``'s long call go to a free worker, their new home."""
        target = self._free(exclude=stuck)
        if target is None:
            return
        while stuck.waiting:
            lane = stuck.waiting.popleft()
            stuck.homed -= 1
            target.homed += 1
            lane._home = target
            target.waiting.append(lane)
        if target.sleeping:
            target.wake.notify()


workers = Pool()  # the pool every view's plain functions run on, whatever its loop


def _hand_over(outcomes: list[tuple[ViewThread, asyncio.Future[Any], _Outcome, Any]]) -> None:
    """Give each loop the outcomes of its calls, in one wake-up of that loop."""
    by_loop: dict[
        asyncio.AbstractEventLoop, list[tuple[ViewThread, asyncio.Future[Any], _Outcome, Any]]
    ]
    by_loop = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0]._loop, []).append(outcome)
    for loop, batch in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(_settle_all, batch, context=contextvars.Context())


def _settle_all(batch: list[tuple[ViewThread, asyncio.Future[Any], _Outcome, Any]]) -> None:
    for lane, future, outcome, deferred in batch:
        lane.owed -= 1
        _settle(future, outcome, deferred)


def _settle(
    future: asyncio.Future[Any],
    outcome: tuple[Any, BaseException | None],
    deferred: list[tuple[Callable[..., Any], tuple[Any, ...]]],
) -> None:
    for fn, args in deferred:
        try:
            fn(*args)
        except Exception:  # livewidget's own bookkeeping; must not lose the outcome
            log.exception("livewidget: a call deferred from a view's thread failed")
    if future.done():
        return
    result, error = outcome
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _absorb_interrupt() -> None:
    """Let a ``ViewClosed`` raised in this thread as its call returned land here (CPython
    delivers it at its next check, within a few bytecodes), not in the next view's call."""
    try:
        for _ in range(_ABSORB_SPINS):
            pass
    except ViewClosed:
        return


def _raise_in_thread(ident: int, exception: type[BaseException]) -> None:
    """Raise ``exception`` in thread ``ident`` at its next bytecode (CPython's own API).

    Code blocked in C (``time.sleep``, a socket read) sees it when that call returns.
    """
    with contextlib.suppress(Exception):
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(ident), ctypes.py_object(exception)
        )


def run_loop_forever(loop: asyncio.AbstractEventLoop) -> None:
    """Run ``loop`` until it is stopped; if view code lets a ``BaseException`` escape a
    callback (asyncio re-raises ``SystemExit`` and ``KeyboardInterrupt``), log it and go on."""
    while True:
        try:
            loop.run_forever()
        except BaseException as error:  # the loop thread must outlive any view's code
            log.error("livewidget: %r escaped to the event loop; the loop goes on", error)
            continue
        return


class Watched(Protocol):
    """What the watchdog asks of a view runtime."""

    loop: asyncio.AbstractEventLoop

    def busy(self) -> tuple[str, float, bool] | None:
        """``(where, since, reported)`` while view code runs, else None."""
        ...

    def watch(self, now: float) -> None:
        """One look from the watchdog (``now``: ``time.monotonic()``): report view code that
        has run for ``SLOW_SECONDS``."""
        ...

    def report_stall(self, where: str, seconds: float) -> None: ...

    def runs_in(self, frame: FrameType) -> str | None:
        """If ``frame`` is this view's handler frame, what it is running."""
        ...


class Watchdog:
    """One daemon thread per process that notices slow handlers and stalled loops."""

    def __init__(self, on_stall: Callable[[asyncio.AbstractEventLoop], None]) -> None:
        self._views: weakref.WeakSet[Any] = weakref.WeakSet()
        self._loops: dict[asyncio.AbstractEventLoop, _Beat] = {}
        self._lock = threading.Lock()
        self._on_stall = on_stall
        self._thread: threading.Thread | None = None

    def watch_loop(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        with self._lock:
            self._loops[loop] = _Beat(thread)
            self._start()

    def watch(self, runtime: Watched) -> None:
        with self._lock:
            self._views.add(runtime)
            self._start()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="livewidget-watchdog", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            try:
                self.check(time.monotonic())
            except Exception:  # the watchdog must never die of a view's oddity
                log.exception("livewidget's watchdog failed a check")

    def check(self, now: float) -> None:
        """One look: slow handlers, stalled loops (the watchdog thread calls this)."""
        with self._lock:
            loops = list(self._loops.items())
            views = list(self._views)
        for loop, beat in loops:
            if loop.is_closed():
                with self._lock:
                    self._loops.pop(loop, None)
                continue
            stalled_for = beat.stalled_for(loop, now)
            if stalled_for >= STALL_SECONDS and not beat.reported:
                beat.reported = True
                self._stalled(loop, beat, views, stalled_for)
        for runtime in views:
            runtime.watch(now)

    def _stalled(
        self, loop: asyncio.AbstractEventLoop, beat: _Beat, views: list[Any], seconds: float
    ) -> None:
        self._on_stall(loop)
        frame = sys._current_frames().get(beat.thread.ident or -1)
        culprit, where = None, "code on livewidget's event loop"
        while frame is not None and culprit is None:
            for runtime in views:
                if runtime.loop is loop and (found := runtime.runs_in(frame)) is not None:
                    culprit, where = runtime, found
                    break
            frame = frame.f_back
        log.error(
            "livewidget: %s has blocked the event loop for %.0f s; new views start on a new loop",
            where,
            seconds,
        )
        if culprit is not None:
            culprit.report_stall(where, seconds)


class _Beat:
    """A loop's heartbeat: a callback asked for, and when the loop last ran one."""

    def __init__(self, thread: threading.Thread) -> None:
        self.thread = thread
        self.asked_at: float | None = None
        self.reported = False

    def stalled_for(self, loop: asyncio.AbstractEventLoop, now: float) -> float:
        if self.asked_at is None:
            self.asked_at = now
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._answered, context=contextvars.Context())
            return 0.0
        return now - self.asked_at

    def _answered(self) -> None:
        self.asked_at = None
        self.reported = False


class Streak(threading.local):
    """Lets other threads of the process run while a loop thread handles a flood of messages.

    A thread that runs Python without a pause hands the GIL to a waiting thread only once per
    switch interval (5 ms), and a thread that needs it often waits that long each time.
    ipykernel's IOPub thread needs it several times for every message it sends, the user's cell
    runs on the main thread: under a flood both crawl, and every view's updates reach the page
    late. So after ``BUSY`` seconds of messages handled back to back (less than ``GAP`` apart),
    the loop thread sleeps ``REST`` seconds, which hands the GIL over at once: at most 5% of a
    flood's time, and nothing when messages come with pauses between them.
    """

    BUSY = 0.010
    GAP = 0.001
    REST = 0.0005

    def __init__(
        self,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.since = self.last = -math.inf
        self._sleep = sleep
        self._clock = clock

    def breathe(self) -> None:
        now = self._clock()
        if now - self.last > self.GAP:
            self.since = now  # a pause since the last message: a new streak
        elif now - self.since > self.BUSY:
            self._sleep(self.REST)
            now = self.since = self._clock()
        self.last = now


streak = Streak()


def call_soon_threadsafe(
    loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any
) -> None:
    """Hand ``fn`` to ``loop`` from another thread, to run in a fresh, empty context.

    asyncio would run it in a copy of the caller's context. In a kernel that context holds the
    parent header of the cell that happened to call, and ipykernel would attribute everything
    the view sends from then on (renders, state, display updates) to that cell forever. In an
    empty context ipykernel falls back to the request running now, as for any thread, so
    ``nbconvert --execute`` records updates made while later cells run.
    """
    with contextlib.suppress(RuntimeError):  # a closed loop: the view is gone
        loop.call_soon_threadsafe(fn, *args, context=contextvars.Context())


class Counted(Protocol):
    """What the census asks of a view runtime."""

    @property
    def closed(self) -> bool: ...

    @property
    def timer_count(self) -> int: ...

    def close(self) -> None: ...


_live_runtimes: weakref.WeakSet[Any] = weakref.WeakSet()


def register(runtime: Counted) -> None:
    """Count ``runtime`` in the census (until it is closed or collected)."""
    with _background_lock:
        if not _atexit_registered:
            _register_atexit()
    _live_runtimes.add(runtime)


_atexit_registered = False


def _register_atexit() -> None:
    # Registered after IPython's own exit handler, so it runs first (exit handlers run
    # last-registered-first): views stop before the user namespace they render from is
    # cleared, instead of filling the kernel's stderr with NameErrors.
    global _atexit_registered
    _atexit_registered = True
    atexit.register(_close_every_view)


# Others that hold things livewidget made (the Jupyter door adds its widgets): name -> count.
census_sources: dict[str, Callable[[], int]] = {}


def census() -> dict[str, int]:
    """What livewidget holds right now: to check that closed views leave nothing behind.

    ``views`` open runtimes; ``timers`` their repeat and send_info timers; ``tasks`` asyncio tasks
    on livewidget's loops (each open view has one, its mailbox worker); ``subscriptions`` pub/sub
    pairs; ``threads`` threads in the process (a view that has run a plain handler has a thread
    of its own, which ends with it); and what ``census_sources`` add (``widgets``: ipywidgets'
    open widgets, where the Jupyter door is in use).
    """
    with _background_lock:
        loops = list(_loops)
    tasks = sum(len(_tasks_of(loop)) for loop in loops if not loop.is_closed())
    live = [runtime for runtime in list(_live_runtimes) if not runtime.closed]
    counts = {
        "views": len(live),
        "timers": sum(runtime.timer_count for runtime in live),
        "tasks": tasks,
        "subscriptions": default_bus.subscriptions(),
        "threads": threading.active_count(),
    }
    for name, count in list(census_sources.items()):
        counts[name] = count()
    return counts


def _tasks_of(loop: asyncio.AbstractEventLoop) -> set[asyncio.Task[Any]]:
    # Read from this thread: asyncio.all_tasks copes with the set changing meanwhile, and a
    # stalled loop (see isolation) could not answer a request to count them itself.
    return {task for task in asyncio.all_tasks(loop) if not task.done()}


_background: tuple[asyncio.AbstractEventLoop, Pacer] | None = None
_background_lock = threading.Lock()
_loops: set[asyncio.AbstractEventLoop] = set()  # livewidget's loops that run now
pacer = Pacer()  # the pacer every view of the process shares, whatever its loop


def _retire(loop: asyncio.AbstractEventLoop) -> None:
    """The watchdog found ``loop`` stalled: views made from now on go to a fresh loop."""
    global _background
    with _background_lock:
        if _background is not None and _background[0] is loop:
            _background = None


watchdog = Watchdog(on_stall=_retire)


class ViewLoop:
    """One view's own event loop, on a daemon thread of its own, until ``stop()``.

    Everything of the view runs there: its plain and async code, its timers, its renders and
    sends. A tick then hands nothing from one thread to another (each hand-off cost two context
    switches and a wake-up of the other thread: see benchmarks/README.md), and a view whose code
    blocks, plain or async, holds up itself alone.

    The loop polls with ``poll(2)`` rather than epoll: two file descriptors a view (the loop's
    self-pipe) instead of three. It does any I/O its view's async code does.
    """

    def __init__(self, name: str) -> None:
        selector = getattr(selectors, "PollSelector", selectors.DefaultSelector)()
        self.loop = asyncio.SelectorEventLoop(selector)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        with _background_lock:
            _loops.add(self.loop)
        self.thread.start()

    def _run(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            run_loop_forever(loop)
            # Stopped: let what the view's close cancelled unwind, then close the loop.
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                gather = asyncio.gather(*pending, return_exceptions=True)
                with contextlib.suppress(BaseException):  # whatever the view's code raises
                    loop.run_until_complete(gather)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            with _background_lock:
                _loops.discard(loop)
            loop.close()

    def owns_current_thread(self) -> bool:
        return threading.current_thread() is self.thread

    def stop(self) -> None:
        """End the loop once what is queued before this has run (safe from any thread)."""
        call_soon_threadsafe(self.loop, self.loop.stop)

    def interrupt(self) -> None:
        """Raise ``ViewClosed`` in the view's code running now on this thread."""
        if self.thread.ident is not None:
            _raise_in_thread(self.thread.ident, ViewClosed)

    def join(self, timeout: float) -> None:
        if not self.owns_current_thread() and self.thread.is_alive():
            self.thread.join(timeout)


# How many views may have a loop of their own at once; views made past it share
# background_loop(). A loop per view saves a quarter to a third of the kernel CPU of calm
# dashboards (no hand-off per tick), but busy views each keep a thread runnable, and the
# threads' fight for the GIL starves the notebook's own code: 50 views ticking every 1 ms made
# a cell that creates them take 28.7 s instead of 4.6 s, and the storm browser test
# (tests/e2e/test_runtime.py) time out. With a thousand views it costs ten times the CPU of one
# shared loop (benchmarks/README.md). So no view gets one by default (0); the mechanism stays,
# tested, for the next attempt (a cap on how many view loops run at once, say).
OWN_LOOPS_MAX = 0


def own_loop(name: str) -> ViewLoop | None:
    """A loop of its own for a new view, or None once ``OWN_LOOPS_MAX`` views have one."""
    with _background_lock:
        if sum(1 for loop in _loops if loop is not _background_loop()) >= OWN_LOOPS_MAX:
            return None
    return ViewLoop(name)


def _background_loop() -> asyncio.AbstractEventLoop | None:
    return _background[0] if _background is not None else None


def background_loop() -> tuple[asyncio.AbstractEventLoop, Pacer]:
    """The event loop (on its own daemon thread) and pacer that widgets' views share.

    A view on it runs its plain functions on the worker pool (``ViewThread``). If view code
    ever stalls it, the watchdog retires it and the next caller gets a new one.
    """
    global _background
    with _background_lock:
        if _background is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                run_loop_forever(loop)

            thread = threading.Thread(target=run, name="livewidget-loop", daemon=True)
            thread.start()
            ready.wait()
            _background = (loop, pacer)
            _loops.add(loop)
            watchdog.watch_loop(loop, thread)
        return _background


def _close_every_view() -> None:
    for runtime in list(_live_runtimes):
        runtime.close()

"""The runtime: one mailbox per view, timers, and render -> diff -> send, paced.

Everything that happens to a view goes through its mailbox and is handled first in, first out,
one message at a time, on the view's event loop: a mount, events from the page, infos from
``send_info`` and ``repeat``, pub/sub messages, assigns from notebook code, a front end asking
for the full render. ``post`` may be called from any thread (ipykernel may deliver comm messages
on a subshell thread); it hands the message to the loop with ``call_soon_threadsafe``.

A message that changes the context marks the view dirty. A ``Pacer`` shared by every view on
a loop then renders each dirty view and sends the diff against what it last sent, at most once
a frame per view and at most ``max_per_second`` messages in all. A storm of updates thus costs
one render and one message a frame, however many messages it held, and the kernel stays well
under the Jupyter server's limit of 1,000 IOPub messages a second.

A handler that raises is reported (log and front end) and its changes are rolled back; a render
that fails is reported and the context goes back to the last one that rendered. Either way the
view keeps its last good state and goes on with the next message.

Jupyter's IOPub channel may drop messages under load (the server's rate limit, ZeroMQ's
high-water marks). The front end finds a lost diff as a gap in the sequence numbers at the next
payload, and joins again. A view's last payload before a quiet spell has no next one, so once a
view has sent nothing for ``SETTLE_WAITS[0]`` seconds it says which payload was its last
(``{"type": "settled", "seq": n}``), and says it again after each further wait in case that
message is lost too. A view that keeps changing sends none; a quiet one sends five in its first
minute of quiet, then nothing.

The loop, the clock, the transport (``send``) and the pacer are passed in, so the test client
runs the same code on a virtual clock with a list as its transport. Widgets use
``background_loop()``: a daemon thread with its own loop, so views keep ticking while a cell
blocks the kernel's own loop.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import inspect
import itertools
import logging
import math
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from . import protocol
from .component import Components, collecting
from .protocol import Payload
from .pubsub import Bus, default_bus
from .socket import Cancellable, Context, Socket
from .stream import StreamComprehension, consume_streams
from .template import Rendered
from .view import HandlerError, LiveView, check_handler_result, render_checked

__all__ = ["Clock", "LoopClock", "Pacer", "ViewRuntime", "background_loop", "census"]

log = logging.getLogger("livewidget")

# Messages from the runtime to the front end.
MSG_TYPE = "type"
MSG_FULL = "full"
MSG_DIFF = "diff"
MSG_ERROR = "error"
MSG_PUSH_EVENT = "push_event"
MSG_SETTLED = "settled"

# Seconds of quiet before each "settled" message of a quiet spell: at 2, 6, 14, 30 and 62 s.
SETTLE_WAITS = (2.0, 4.0, 8.0, 16.0, 32.0)

Send = Callable[[dict[str, Any]], None]


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


class Pacer:
    """Sends dirty views' diffs: once a frame per view, ``max_per_second`` in all, fairly."""

    def __init__(
        self, clock: Clock, *, frame: float = 1 / 60, max_per_second: float = 400.0
    ) -> None:
        self._clock = clock
        self._frame = frame
        self._per_pump = max(1, int(max_per_second * frame))
        self._dirty: dict[ViewRuntime, None] = {}
        self._scheduled: Cancellable | None = None
        self._last_pump = -math.inf

    def request(self, runtime: ViewRuntime) -> None:
        self._dirty[runtime] = None
        if self._scheduled is None:
            delay = self._last_pump + self._frame - self._clock.now()
            self._scheduled = self._clock.call_later(delay, self._pump)

    def discard(self, runtime: ViewRuntime) -> None:
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


class _Repeat:
    """A repeating timer without drift: tick k falls at start + k * interval."""

    def __init__(self, runtime: ViewRuntime, fn: Callable[[], Any], interval: float) -> None:
        self._runtime = runtime
        self._fn = fn
        self._interval = interval
        self._handle: Cancellable | None = None
        self._next = 0.0
        self.pending = False
        self.cancelled = False

    def start(self) -> None:
        if self.cancelled:
            return
        self._next = self._runtime.clock.now() + self._interval
        self._handle = self._runtime.clock.call_later(self._interval, self._fire)

    def _fire(self) -> None:
        if self.cancelled:
            return
        if not self.pending:  # a tick still waiting in the mailbox absorbs this one
            self.pending = True
            self._runtime.post(("call", self._fn, self))
        now = self._runtime.clock.now()
        self._next += self._interval
        if self._next <= now:  # fell behind (a blocked loop): skip the missed ticks
            self._next += math.ceil((now - self._next) / self._interval) * self._interval
            if self._next <= now:
                self._next += self._interval
        self._handle = self._runtime.clock.call_later(self._next - now, self._fire)

    def cancel(self) -> None:
        self.cancelled = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._runtime.forget_timer(self)


class ViewRuntime:
    """Runs one view: its mailbox, its timers, its renders and what it sends."""

    def __init__(
        self,
        view: LiveView,
        *,
        send: Send,
        loop: asyncio.AbstractEventLoop,
        clock: Clock | None = None,
        pacer: Pacer | None = None,
        bus: Bus | None = None,
        on_context: Callable[[Context], None] | None = None,
        on_error: Callable[[BaseException, str], None] | None = None,
        error_interval: float = 1.0,
    ) -> None:
        self.view = view
        self.loop = loop
        self.clock: Clock = clock or LoopClock(loop)
        self.pacer = pacer or Pacer(self.clock)
        self.bus = bus or default_bus
        self.socket = Socket(self)
        self.seq = 0
        self.closed = False
        self._send = send
        self._on_context = on_context
        self._on_error = on_error
        self._error_interval = error_interval
        self._last_error_at = -math.inf
        self._suppressed_errors = 0
        self._held_error: tuple[BaseException, str] | None = None
        self._mailbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self._timers: set[Cancellable] = set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._rendered: Rendered | None = None  # the last good render
        self._good_context = self.socket.context  # the context of that render
        self._notified = self.socket.context  # the context on_context last saw
        self._sent: Rendered | None = None  # what the front end holds
        self._needs_full = True
        self._render_pending = False
        self._answer_pending = False  # a front-end event awaits its answer (even an empty diff)
        self._pushes: list[dict[str, Any]] = []
        self._last_sent_at = -math.inf  # when the last full or diff went out
        self._settles_sent = 0  # "settled" messages sent since then
        self._settle_timer: Cancellable | None = None
        self._settle_due = math.inf
        self.components = Components(self)
        self._sent_components: dict[int, Rendered] = {}

    # -- the socket's host ------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return not self.closed

    def send_info(self, info: Any, after_ms: float) -> None:
        if after_ms <= 0:
            self.post(("info", info))
        else:
            self._on_loop(self._send_info_later, info, after_ms / 1000)

    def _send_info_later(self, info: Any, delay: float) -> None:
        if self.closed:
            return
        handles: list[Cancellable] = []

        def fire() -> None:
            self._timers.discard(handles[0])
            self.post(("info", info))

        handles.append(self.clock.call_later(delay, fire))
        self._timers.add(handles[0])

    def repeat(self, fn: Callable[[], Any], interval_ms: float) -> Cancellable:
        timer = _Repeat(self, fn, interval_ms / 1000)
        self._timers.add(timer)
        self._on_loop(timer.start)
        return timer

    def forget_timer(self, timer: Cancellable) -> None:
        self._timers.discard(timer)

    def subscribe(self, topic: str) -> None:
        self.bus.subscribe(topic, self)

    def broadcast(self, topic: str, message: Any) -> None:
        self.bus.broadcast(topic, message)

    def push_event(self, name: str, payload: Mapping[str, Any]) -> None:
        self._on_loop(
            self._queue_push, {MSG_TYPE: MSG_PUSH_EVENT, "event": name, "payload": payload}
        )

    def _queue_push(self, message: dict[str, Any]) -> None:
        """Pushed events go out with the next send, after the render of the same handler."""
        self._pushes.append(message)
        self._mark_dirty()

    def start_async(self, fn: Callable[[], Any], on_done: Callable[[Any, Any], Any]) -> None:
        """Run ``fn`` beside the mailbox; its outcome comes back through it as a message."""
        self._on_loop(self._start_async, fn, on_done)

    def _start_async(self, fn: Callable[[], Any], on_done: Callable[[Any, Any], Any]) -> None:
        if self.closed:
            return

        async def job() -> None:
            try:
                if inspect.iscoroutinefunction(fn):
                    result = await fn()
                else:
                    result = await self._in_thread(fn)
                    if inspect.isawaitable(result):
                        result = await result
            except asyncio.CancelledError:
                raise
            except Exception as error:
                on_done(None, error)
            else:
                on_done(result, None)

        self._track(self.loop.create_task(job()))

    def _in_thread(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run a blocking ``fn`` on a thread of its own, which ends with it (no pool stays)."""
        future: asyncio.Future[Any] = self.loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():
                return  # cancelled meanwhile: the view closed
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def run() -> None:
            try:
                result, error = fn(), None
            except BaseException as failure:  # handed to the loop, raised there
                result, error = None, failure
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(settle, result, error)

        threading.Thread(target=run, name="livewidget-start-async", daemon=True).start()
        return future

    # -- the mailbox --------------------------------------------------------------------------

    def start(self) -> None:
        """Mount the view (through the mailbox) and start handling messages."""
        _live_runtimes.add(self)
        self._on_loop(self._start)

    def _start(self) -> None:
        self._worker = self.loop.create_task(self._work())
        self._mailbox.put_nowait(("mount",))

    def post(self, message: tuple[Any, ...]) -> None:
        """Queue a message for the view; safe from any thread."""
        if self.closed:
            return
        self._on_loop(self._mailbox.put_nowait, message)

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.on_loop_thread():
            fn(*args)
        else:
            call_soon_threadsafe(self.loop, fn, *args)

    async def idle(self) -> None:
        """Wait until every queued message has been handled."""
        await self._mailbox.join()

    @property
    def jobs(self) -> list[asyncio.Future[Any]]:
        """The ``start_async`` jobs still running."""
        return [task for task in self._tasks if not task.done()]

    def on_loop_thread(self) -> bool:
        """Whether the caller runs inside the view's loop (whichever thread runs it now)."""
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    async def _work(self) -> None:
        while True:
            message = await self._mailbox.get()
            try:
                await self._handle(message)
                self._notify_context()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bug of livewidget's own or of an observer
                self._report(error, "the runtime")
            finally:
                self._mailbox.task_done()
            # Give the loop a turn after every message: a full mailbox (a handler that sends
            # itself infos, a flood of events) must not starve the pacer, timers or other views.
            _streak.breathe()
            await asyncio.sleep(0)

    async def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        view, socket = self.view, self.socket
        if kind == "sync":  # someone waits until everything before this was handled
            if self._render_pending:
                self._render()
            if not message[1].done():
                message[1].set_result(None)
            return
        if kind == "report":
            self._report(message[1], message[2])
            return
        if kind == "join":
            self._needs_full = True
            if self._rendered is None:
                self._render_pending = True
            self._mark_dirty()
            return
        before = socket.context
        try:
            if kind == "mount":
                where = "mount"
                await _call(view.mount, socket)
            elif kind == "event":
                _, event, params, cid = message
                where = f"handle_event({event!r})"
                self._answer_pending = True  # the page holds it "in flight" until answered
                self._mark_dirty()
                if cid is not None:
                    await self._component_event(cid, event, params)
                    return
                result = await _call(view.handle_event, event, params, socket)
                check_handler_result(view, "handle_event", result)
            elif kind == "info":
                where = "handle_info"
                result = await _call(view.handle_info, message[1], socket)
                check_handler_result(view, "handle_info", result)
            elif kind == "call":
                _, fn, timer = message
                where = "a repeat callback" if timer is not None else "start_async's callback"
                if timer is not None:
                    timer.pending = False
                await _call(fn)
            elif kind == "assign":
                where = "assign"
                socket.assign(message[1])
            elif kind == "run":
                where = "a call from notebook code"
                await _call(message[1], socket)
            else:
                raise ValueError(f"unknown mailbox message {kind!r}")
        except Exception as error:
            socket._context = before
            socket.changed = False
            self._report(error, where)
            if kind == "mount" and self._rendered is None:
                self._render_pending = True  # render what mount managed to set, if it can
                self._mark_dirty()
            return
        if socket.changed or kind == "mount":
            socket.changed = False
            self._render_pending = True
            self._mark_dirty()

    async def _component_event(self, cid: int, event: str, params: dict[str, Any]) -> None:
        """An event for a component: its handler, then a render of that component alone."""
        live = self.components.get(cid)
        where = (
            f"{type(live.component).__name__ if live else 'a component'}.handle_event({event!r})"
        )
        try:
            if live is None:
                raise LookupError(f"the event {event!r} names component {cid}, but there is none")
            before = live.socket.context
            try:
                result = await _call(live.component.handle_event, event, params, live.socket)
                if result is not None:
                    raise HandlerError(
                        f"{where} returned {result!r:.80}; handlers change the context with "
                        "socket.assign(...) and return None."
                    )
                if live.socket.changed:
                    self.components.render(live)
            except Exception:
                live.socket._context = before
                live.socket.changed = False
                raise
        except Exception as error:
            self._report(error, where)
            return
        self._mark_dirty()

    def _render(self) -> None:
        """Render the current context; if that fails, go back to the last context that rendered."""
        self._render_pending = False
        context = self.socket.context
        try:
            with collecting() as refs:
                rendered = render_checked(self.view, context)
            self.components.resolve(refs)
        except Exception as error:
            self.socket._context = self._good_context
            self._notify_context()
            self._report(error, "render")
            return
        self._rendered = rendered
        self._good_context = context

    def _notify_context(self) -> None:
        context = self.socket.context
        if context is not self._notified and self._on_context is not None:
            self._notified = context
            self._on_context(context)

    def _mark_dirty(self) -> None:
        if not self.closed:
            self.pacer.request(self)

    # -- sending ------------------------------------------------------------------------------

    def flush(self) -> None:
        """Send what changed since the last send (the pacer calls this)."""
        if self.closed:
            return
        if self._render_pending:
            self._render()
        rendered = self._rendered
        if rendered is None:
            return
        streams: list[StreamComprehension] = []  # the stream batches this payload carries
        if self._needs_full:
            self._needs_full = False
            self._sent = rendered
            self._sent_components = {}
            payload = protocol.full(rendered, streams=streams)
            kind = MSG_FULL
        else:
            payload = (
                protocol.diff(self._sent, rendered, streams=streams)
                if rendered is not self._sent
                else {}
            )
            self._sent = rendered
            kind = MSG_DIFF
        protocol.with_components(payload, self._component_changes(streams))
        if payload or kind == MSG_FULL or self._answer_pending:
            self._answer_pending = False
            self.seq += 1
            self._transmit({MSG_TYPE: kind, "seq": self.seq, "rendered": payload})
            self._settle_later()
        # Sent: the kernel forgets the streams' rows (livewidget.stream), shown or not.
        for batch in streams:
            batch.consume()
        consume_streams(self._good_context)
        for component in self.components.live():
            consume_streams(component.socket.context)
        pushes, self._pushes = self._pushes, []
        for push in pushes:
            self._transmit(push)

    def _settle_later(self) -> None:
        """A full or diff just went out: a "settled" is due ``SETTLE_WAITS[0]`` s from now."""
        now = self.clock.now()
        self._last_sent_at = now
        self._settles_sent = 0
        due = now + SETTLE_WAITS[0]
        if self._settle_timer is not None and self._settle_due <= due:
            return  # it fires first, and finds the view was not quiet long enough
        if self._settle_timer is not None:
            self._settle_timer.cancel()
        self._arm_settle(due)

    def _arm_settle(self, due: float) -> None:
        self._settle_due = due
        self._settle_timer = self.clock.call_later(due - self.clock.now(), self._settle)

    def _settle(self) -> None:
        self._settle_timer = None
        if self.closed:
            return
        due = self._last_sent_at + sum(SETTLE_WAITS[: self._settles_sent + 1])
        if self.clock.now() < due:  # something went out meanwhile
            self._arm_settle(due)
            return
        self._transmit({MSG_TYPE: MSG_SETTLED, "seq": self.seq})
        self._settles_sent += 1
        if self._settles_sent < len(SETTLE_WAITS):
            self._arm_settle(self._last_sent_at + sum(SETTLE_WAITS[: self._settles_sent + 1]))

    def _component_changes(self, streams: list[StreamComprehension]) -> dict[int, Payload]:
        sent, changes = self._sent_components, {}
        live = self.components.live()
        for component in live:
            current, previous = component.rendered, sent.get(component.cid)
            if current is None or current is previous:
                continue
            change = (
                protocol.full(current, streams=streams)
                if previous is None
                else protocol.diff(previous, current, streams=streams)
            )
            if change:
                changes[component.cid] = change
        self._sent_components = {c.cid: c.rendered for c in live if c.rendered is not None}
        return changes

    @property
    def rendered(self) -> Rendered | None:
        """The last good render (what the front end shows once the pacer has sent it)."""
        return self._rendered

    def _transmit(self, message: dict[str, Any]) -> None:
        try:
            self._send(message)
        except Exception as error:
            log.warning("livewidget could not send to the front end: %s", error)

    def _report(self, error: BaseException, where: str) -> None:
        """Show an error in the widget and the log: at once, or, within ``error_interval`` of
        the last one shown, as the latest of a batch shown when the interval ends."""
        if self._on_error is not None:
            self._on_error(error, where)
        wait = self._last_error_at + self._error_interval - time.monotonic()
        if wait > 0:
            self._suppressed_errors += 1
            if self._held_error is None:
                self.clock.call_later(wait, self._report_held)
            self._held_error = (error, where)
            return
        self._show_error(error, where, 0)

    def _report_held(self) -> None:
        held, self._held_error = self._held_error, None
        suppressed, self._suppressed_errors = self._suppressed_errors, 0
        if held is not None and not self.closed:
            self._show_error(*held, suppressed - 1)

    def _show_error(self, error: BaseException, where: str, more: int) -> None:
        self._last_error_at = time.monotonic()
        message = f"{type(self.view).__name__}: {type(error).__name__} in {where}: {error}"
        if more > 0:
            message += f" (and {more} more errors like it, not shown)"
        trace = "".join(traceback.format_exception(error))
        log.error("%s\n%s", message, trace)
        self._transmit({MSG_TYPE: MSG_ERROR, "message": message, "traceback": trace})

    # -- lifecycle ----------------------------------------------------------------------------

    def _track(self, task: asyncio.Future[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Stop everything the view started: timers, tasks, subscriptions; safe from any thread."""
        if self.closed:
            return
        self.closed = True
        self.bus.unsubscribe_all(self)
        self._on_loop(self._close)

    def _close(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._worker is not None:
            self._worker.cancel()
        if self._settle_timer is not None:
            self._settle_timer.cancel()
            self._settle_timer = None
        self.pacer.discard(self)


class _Streak(threading.local):
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


_streak = _Streak()


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


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


_live_runtimes: weakref.WeakSet[ViewRuntime] = weakref.WeakSet()


def census() -> dict[str, int]:
    """What livewidget holds right now: to check that closed views leave nothing behind.

    ``views`` open runtimes; ``timers`` their repeat and send_info timers; ``tasks`` asyncio tasks
    on livewidget's loop (each open view has one, its mailbox worker); ``subscriptions`` pub/sub
    pairs; ``threads`` threads in the process.
    """
    loop = _background[0] if _background is not None else None
    tasks = 0
    if loop is not None:
        tasks = len(asyncio.run_coroutine_threadsafe(_count_tasks(), loop).result(timeout=5))
    live = [runtime for runtime in list(_live_runtimes) if not runtime.closed]
    return {
        "views": len(live),
        "timers": sum(len(runtime._timers) for runtime in live),
        "tasks": tasks,
        "subscriptions": default_bus.subscriptions(),
        "threads": threading.active_count(),
    }


async def _count_tasks() -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if task is not current}


_background: tuple[asyncio.AbstractEventLoop, Pacer] | None = None
_background_lock = threading.Lock()


def background_loop() -> tuple[asyncio.AbstractEventLoop, Pacer]:
    """The event loop (on its own daemon thread) and pacer shared by every widget in a kernel.

    The kernel's own loop stops while a cell runs blocking code; this one does not.
    """
    global _background
    with _background_lock:
        if _background is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=run, name="livewidget-loop", daemon=True).start()
            ready.wait()
            _background = (loop, Pacer(LoopClock(loop)))
            # Registered after IPython's own exit handler, so it runs first (exit handlers run
            # last-registered-first): views stop before the user namespace they render from is
            # cleared, instead of filling the kernel's stderr with NameErrors on shutdown.
            atexit.register(_close_every_view)
        return _background


def _close_every_view() -> None:
    for runtime in list(_live_runtimes):
        runtime.close()

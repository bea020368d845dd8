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
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

from . import protocol
from .component import Components, collecting
from .isolation import ViewClosed, ViewThread, Watchdog, run_loop_forever
from .protocol import Payload
from .pubsub import Bus, default_bus
from .socket import Cancellable, Context, Socket
from .stream import StreamComprehension, consume_streams
from .template import Rendered
from .text import repair, repair_payload
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

# How many messages from the page may wait in one view's mailbox, and how many bytes they may
# hold: past either, the page's next messages are dropped (and the drop reported in the view),
# so a flood of forged or runaway events cannot fill the kernel's memory.
MAX_QUEUED_FROM_PAGE = 64
MAX_QUEUED_BYTES_FROM_PAGE = 4_000_000

Send = Callable[[dict[str, Any]], None]


class SlowHandler(RuntimeError):
    """Shown in a view whose handler has run for a while without returning."""


class LoopBlocked(RuntimeError):
    """Shown in a view whose async code keeps livewidget's event loop from running."""


class PageFlood(RuntimeError):
    """Shown in a view whose page sends messages faster than the view handles them."""


@dataclass
class _Busy:
    """View code running now: what it is, since when (``time.monotonic``), and whether the
    watchdog has reported it."""

    where: str
    since: float
    reported: bool = False


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
        self._thread = ViewThread(loop, f"livewidget-view-{type(view).__name__}")
        self._busy: _Busy | None = None
        self._rendering: asyncio.Task[None] | None = None  # a render the pacer asked for
        self._page_lock = threading.Lock()
        self._page_queued = 0  # messages from the page waiting in the mailbox
        self._page_bytes = 0  # and their size
        self._page_dropped = 0
        self._unicode_repaired = False

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
        self._pushes.append(repair_payload(message))
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
            except GeneratorExit:
                raise
            except BaseException as error:
                if self.closed and isinstance(error, asyncio.CancelledError | ViewClosed):
                    raise  # the runtime's own cancellation: the view is closing
                if not isinstance(error, Exception):  # SystemExit, KeyboardInterrupt...
                    self._report(error, "a start_async job")
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
        _watchdog.watch(self)
        self._on_loop(self._start)

    def _start(self) -> None:
        self._worker = self.loop.create_task(self._work())
        self._mailbox.put_nowait(("mount",))

    def post(self, message: tuple[Any, ...]) -> None:
        """Queue a message for the view; safe from any thread."""
        if self.closed:
            return
        self._on_loop(self._mailbox.put_nowait, message)

    def post_from_page(self, message: tuple[Any, ...], size: int) -> None:
        """Queue a message that came from the page, within the page's share of the mailbox.

        Past ``MAX_QUEUED_FROM_PAGE`` messages or ``MAX_QUEUED_BYTES_FROM_PAGE`` bytes waiting,
        the message is dropped and the drop reported in the view: a page cannot fill the
        kernel's memory however fast it sends. Safe from any thread.
        """
        if self.closed:
            return
        with self._page_lock:
            full = (
                self._page_queued >= MAX_QUEUED_FROM_PAGE
                or self._page_bytes + size > MAX_QUEUED_BYTES_FROM_PAGE
            )
            if full:
                self._page_dropped += 1
                dropped = self._page_dropped
            else:
                self._page_queued += 1
                self._page_bytes += size
        if full:
            if dropped == 1:  # one report per flood; the count comes with the next one
                self._on_loop(self._report_flood)
            return
        self.post(("page", message, size))

    def _report_flood(self) -> None:
        with self._page_lock:
            dropped, self._page_dropped = self._page_dropped, 0
        error = PageFlood(
            f"the page sent messages faster than {type(self.view).__name__} handles them: "
            f"{dropped} dropped while {MAX_QUEUED_FROM_PAGE} messages (or "
            f"{MAX_QUEUED_BYTES_FROM_PAGE:,} bytes) were waiting. A handler that takes long "
            "should hand its work to socket.start_async(...); a chatty binding wants "
            "phx-debounce or phx-throttle."
        )
        self._report(error, "a message from the front end")

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.on_loop_thread():
            fn(*args)
        elif self._thread.owns_current_thread():  # the view's own code: with its outcome
            self._thread.defer(fn, *args)
        else:
            call_soon_threadsafe(self.loop, fn, *args)

    async def idle(self) -> None:
        """Wait until every queued message has been handled, and a render under way is sent."""
        await self._mailbox.join()
        while self._rendering is not None:
            await asyncio.shield(self._rendering)

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

    def in_view_code(self) -> bool:
        """Whether the caller is the view's own code: on its loop, or on its thread."""
        return self.on_loop_thread() or self._thread.owns_current_thread()

    async def _work(self) -> None:
        while True:
            message = await self._mailbox.get()
            try:
                await self._handle(message)
                self._notify_context()
            except GeneratorExit:
                raise
            except BaseException as error:  # a bug of livewidget's own or of an observer
                if self._closing(error):
                    raise
                self._report(error, "the runtime")
            finally:
                self._mailbox.task_done()
            # Give the loop a turn after every message: a full mailbox (a handler that sends
            # itself infos, a flood of events) must not starve the pacer, timers or other views.
            _streak.breathe()
            await asyncio.sleep(0)

    def _closing(self, error: BaseException) -> bool:
        """Whether ``error`` is the runtime's own cancellation of a closing view.

        Anything else a handler raises, ``CancelledError`` included (a handler awaiting a task
        that something else cancelled), is that view's error, reported and survived.
        """
        return self.closed and isinstance(error, asyncio.CancelledError | ViewClosed)

    async def _run_code(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run the view's code: a coroutine function on the loop, a plain function on the
        view's own thread (so that one that blocks holds up this view alone)."""
        self._busy = _Busy(where, time.monotonic())
        try:
            if inspect.iscoroutinefunction(fn):
                result = fn(*args)
            else:
                result = await self._thread.call(fn, *args)
            if inspect.isawaitable(result):
                result = await result
            return result
        finally:
            self._busy = None

    async def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "page":  # from the page: it leaves the page's share of the mailbox
            _, message, size = message
            with self._page_lock:
                self._page_queued -= 1
                self._page_bytes -= size
            kind = message[0]
        if kind == "sync":  # someone waits until everything before this was handled
            while self._rendering is not None:
                await asyncio.shield(self._rendering)
            if self._render_pending:
                await self._render()
                self._mark_dirty()  # a pacer's turn during that render found nothing to send
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
        if kind == "event":
            try:
                await self._handle_view_code(message)
            finally:
                # The page holds the event "in flight" until it is answered: by the render of
                # what its handler did, or an empty diff, never before the handler is done.
                self._answer_pending = True
                self._mark_dirty()
            return
        await self._handle_view_code(message)

    async def _handle_view_code(self, message: tuple[Any, ...]) -> None:
        """A message the view's own code handles: mount, an event, an info, a timer, assign."""
        kind = message[0]
        view, socket = self.view, self.socket
        before = socket.context
        where = kind
        try:
            if kind == "mount":
                where = "mount"
                await self._run_code(where, view.mount, socket)
            elif kind == "event":
                _, event, params, cid = message
                where = f"handle_event({event!r})"
                if cid is not None:
                    await self._component_event(cid, event, params)
                    return
                result = await self._run_code(where, view.handle_event, event, params, socket)
                check_handler_result(view, "handle_event", result)
            elif kind == "info":
                where = "handle_info"
                result = await self._run_code(where, view.handle_info, message[1], socket)
                check_handler_result(view, "handle_info", result)
            elif kind == "call":
                _, fn, timer = message
                where = "a repeat callback" if timer is not None else "start_async's callback"
                if timer is not None:
                    timer.pending = False
                await self._run_code(where, fn)
            elif kind == "assign":
                where = "assign"
                socket.assign(message[1])
            else:
                raise ValueError(f"unknown mailbox message {kind!r}")
        except GeneratorExit:
            raise
        except BaseException as error:
            if self._closing(error):
                raise
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
                result = await self._run_code(
                    where, live.component.handle_event, event, params, live.socket
                )
                if result is not None:
                    raise HandlerError(
                        f"{where} returned {result!r:.80}; handlers change the context with "
                        "socket.assign(...) and return None."
                    )
                if live.socket.changed:
                    await self._run_code(f"{where}'s render", self.components.render, live)
            except BaseException:
                live.socket._context = before
                live.socket.changed = False
                raise
        except GeneratorExit:
            raise
        except BaseException as error:
            if self._closing(error):
                raise
            self._report(error, where)
            return
        self._mark_dirty()

    async def _render(self) -> None:
        """Render the current context; if that fails, go back to the last context that rendered."""
        self._render_pending = False
        context = self.socket.context
        try:
            rendered = await self._run_code("render", self._render_now, context)
        except GeneratorExit:
            raise
        except BaseException as error:
            if self._closing(error):
                raise
            self.socket._context = self._good_context
            self._notify_context()
            self._report(error, "render")
            return
        self._rendered = rendered
        self._good_context = context

    def _render_now(self, context: Context) -> Rendered:
        """The render itself, with the components it places (on the view's thread)."""
        with collecting() as refs:
            rendered = render_checked(self.view, context)
        self.components.resolve(refs)
        return rendered

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
        """The pacer's turn for this view: send what changed since the last send.

        A render that is due runs first, as a task beside the mailbox: the render is the view's
        code, so it runs on the view's thread, after the handler running there (if any) and
        before the next one. It does not wait for the messages queued behind: an async handler
        that shows "Loading..." and awaits its result gets the loading state rendered meanwhile,
        as a handler that sends itself the result as an info does.
        """
        if self.closed:
            return
        if self._render_pending:
            if self._rendering is None:
                self._rendering = self.loop.create_task(self._render_and_send())
            return
        self._send_changes()

    async def _render_and_send(self) -> None:
        try:
            if self._render_pending:
                await self._render()
            self._send_changes()
        finally:
            self._rendering = None

    def _send_changes(self) -> None:
        if self.closed:
            return
        rendered = self._rendered
        if rendered is None:
            return
        sent, sent_components, needs_full = self._sent, self._sent_components, self._needs_full
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
            self.seq += 1
            if not self._transmit({MSG_TYPE: kind, "seq": self.seq, "rendered": payload}):
                # The page did not get it: what it holds is what was sent before (and the
                # streams keep their rows, to go with the next send).
                self.seq -= 1
                self._sent, self._sent_components = sent, sent_components
                self._needs_full = needs_full
                return
            self._answer_pending = False
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

    def _transmit(self, message: dict[str, Any], *, report: bool = True) -> bool:
        """Send ``message``; True if it went. Text that cannot be encoded (a lone surrogate
        in the data) is repaired and sent again; any other failure is reported in the view."""
        try:
            self._send(message)
            return True
        except ValueError as error:  # UnicodeEncodeError among them: repair and try again
            failure: Exception = error
            repaired = repair_payload(message)
            if repaired != message:
                try:
                    self._send(repaired)
                except Exception as again:
                    failure = again
                else:
                    if not self._unicode_repaired:
                        self._unicode_repaired = True
                        log.warning(
                            "livewidget: %s sent text that is not valid Unicode (a lone "
                            "surrogate, e.g. from bad data); it shows as U+FFFD",
                            type(self.view).__name__,
                        )
                    return True
        except Exception as error:
            failure = error
        log.warning("livewidget could not send to the front end: %r", failure)
        if report:
            self._on_loop(self._report, failure, "sending to the page")
        return False

    def _report(self, error: BaseException, where: str) -> None:
        """Show an error in the widget and the log: at once, or, within ``error_interval`` of
        the last one shown, as the latest of a batch shown when the interval ends."""
        if self._on_error is not None:
            self._on_error(error, where)
        wait = self._last_error_at + self._error_interval - self.clock.now()
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
        self._last_error_at = self.clock.now()
        message = f"{type(self.view).__name__}: {type(error).__name__} in {where}: {error}"
        if more > 0:
            message += f" (and {more} more errors like it, not shown)"
        trace = "".join(traceback.format_exception(error))
        log.error("%s\n%s", message, trace)
        # An error's text often quotes the data that caused it: repaired, or it could not go.
        text = {MSG_TYPE: MSG_ERROR, "message": repair(message), "traceback": repair(trace)}
        self._transmit(text, report=False)

    # -- what the watchdog asks (from its own thread) -----------------------------------------

    def busy(self) -> tuple[str, float, bool] | None:
        busy = self._busy
        return None if busy is None else (busy.where, busy.since, busy.reported)

    def report_slow(self, where: str, seconds: float) -> None:
        busy = self._busy
        if busy is None or busy.where != where or busy.reported or self.closed:
            return
        busy.reported = True
        error = SlowHandler(
            f"{type(self.view).__name__}.{where} has run for {seconds:.0f} s and has not "
            "returned yet; this view waits for it (the other views go on). Hand slow work to "
            "socket.start_async(name, fn): it runs beside the view and its result comes to "
            "handle_info."
        )
        self._on_loop(self._report, error, where)

    def report_stall(self, where: str, seconds: float) -> None:
        """The loop is stalled in this view's code: show it now, from the watchdog's thread
        (the loop cannot run anything until that code returns)."""
        busy = self._busy
        if busy is not None:
            busy.reported = True
        if self.closed:
            return
        error = LoopBlocked(
            f"{type(self.view).__name__}.{where} has blocked livewidget's event loop for "
            f"{seconds:.0f} s, and every view on that loop waits for it (new views start on a "
            "fresh loop). An async handler must not call blocking code (time.sleep, "
            "requests.get, a long computation): await asyncio.sleep(...) or "
            "asyncio.to_thread(fn, ...), or write the handler as a plain def, which livewidget "
            "runs on the view's own thread."
        )
        self._show_error(error, where, 0)

    def runs_in(self, frame: FrameType) -> str | None:
        if frame.f_code is _RUN_CODE and frame.f_locals.get("self") is self:
            busy = self._busy
            return busy.where if busy is not None else "code"
        return None

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
        self._thread.stop()
        self._on_loop(self._close)

    def _close(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._worker is not None:
            self._worker.cancel()
        if self._rendering is not None:
            self._rendering.cancel()
        if self._settle_timer is not None:
            self._settle_timer.cancel()
            self._settle_timer = None
        self.pacer.discard(self)


_RUN_CODE = ViewRuntime._run_code.__code__


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
        "timers": sum(len(runtime._timers) for runtime in live),
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
_loops: list[asyncio.AbstractEventLoop] = []  # every loop background_loop() started


def _retire(loop: asyncio.AbstractEventLoop) -> None:
    """The watchdog found ``loop`` stalled: views made from now on go to a fresh loop."""
    global _background
    with _background_lock:
        if _background is not None and _background[0] is loop:
            _background = None


_watchdog = Watchdog(on_stall=_retire)


def background_loop() -> tuple[asyncio.AbstractEventLoop, Pacer]:
    """The event loop (on its own daemon thread) and pacer shared by the widgets in a kernel.

    The kernel's own loop stops while a cell runs blocking code; this one does not. If view
    code ever stalls it, the watchdog retires it and the next view gets a new one.
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
            _background = (loop, Pacer(LoopClock(loop)))
            if not _loops:
                # Registered after IPython's own exit handler, so it runs first (exit handlers
                # run last-registered-first): views stop before the user namespace they render
                # from is cleared, instead of filling the kernel's stderr with NameErrors.
                atexit.register(_close_every_view)
            _loops.append(loop)
            _watchdog.watch_loop(loop, thread)
        return _background


def _close_every_view() -> None:
    for runtime in list(_live_runtimes):
        runtime.close()

"""The view runtime: one view's mailbox, its handlers, rollback, and its renders.

Everything that happens to a view goes through its mailbox and is handled first in, first out,
one message at a time, on the view's event loop: a mount, events from the page, infos from
``send_info`` and ``repeat``, pub/sub messages, assigns from notebook code, a page asking for
the full render (``livewidget.runtime.messages`` lists them). ``post`` may be called from any
thread (ipykernel may deliver comm messages on a subshell thread); it hands the message to the
loop with ``call_soon_threadsafe``.

A message that changes the context marks the view dirty. The pacer (``scheduling.Pacer``) then
lets the view render and send the diff against what it last sent (``outbox.Outbox``), at most
once a frame per view and at most ``max_per_second`` messages in all. A storm of updates thus
costs one render and one message a frame, however many messages it held, and the kernel stays
well under the Jupyter server's limit of 1,000 IOPub messages a second. When the mailbox is
empty once a message is handled and the pacer allows it, the render goes out in the same turn
of the loop. A render on the worker pool (a plain ``render``, on a shared loop) is handed to the
view's lane with a callback that sends what it made, no task in between.

A handler that raises is reported (log and page) and its changes are rolled back; a render that
fails is reported and the context goes back to the last one that rendered. Either way the view
keeps its last good state and goes on with the next message.

The clock, the transport (``send``) and the pacer are passed in, and the loop may be, so the
test client runs the same code on a virtual loop and clock with a list as its transport.
Without a loop (widgets), the view shares livewidget's loop (``loop.background_loop()``), its
plain functions on the worker pool (``loop.Pool``); ``loop.ViewLoop`` (a loop and thread of the
view's own) is there for ``loop.OWN_LOOPS_MAX`` views, none by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType, FunctionType
from typing import Any

from ..component import Components, collecting
from ..pubsub import Bus, default_bus
from ..socket import Cancellable, Context, Socket
from ..template import Rendered
from ..view import HandlerError, LiveView, check_handler_result, render_checked
from . import loop as _loop
from .loop import ViewClosed, ViewThread, call_soon_threadsafe
from .messages import (
    Assign,
    Call,
    Event,
    FromPage,
    Info,
    Join,
    Message,
    Mount,
    Report,
    Sync,
    Tick,
)
from .outbox import Outbox, Send
from .scheduling import Clock, LoopClock, Pacer, Pacing, Repeat

__all__ = [
    "MAX_QUEUED_BYTES_FROM_PAGE",
    "MAX_QUEUED_FROM_PAGE",
    "LoopBlocked",
    "PageFlood",
    "SlowHandler",
    "ViewRuntime",
]

# How many messages from the page may wait in one view's mailbox, and how many bytes they may
# hold: past either, the page's next messages are dropped (and the drop reported in the view),
# so a flood of forged or runaway events cannot fill the kernel's memory.
MAX_QUEUED_FROM_PAGE = 64
MAX_QUEUED_BYTES_FROM_PAGE = 4_000_000

# Messages a view handles back to back before it gives its loop a turn (its timers, its pacer).
_YIELD_EVERY = 8

# How long close() from outside waits for the view's loop to have closed it (see _wait_closed),
# and the loops that did not answer in time (stalled by view code): close() no longer waits.
_CLOSE_WAIT = 0.5
_unanswering: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


class SlowHandler(RuntimeError):
    """Shown in a view whose handler has run for a while without returning."""


class LoopBlocked(RuntimeError):
    """Shown in a view whose async code keeps livewidget's event loop from running."""


class PageFlood(RuntimeError):
    """Shown in a view whose page sends messages faster than the view handles them."""


@dataclass
class _Busy:
    """View code running now: what it is, since when (``time.monotonic``, the watchdog's
    clock: real time, whatever clock the view runs on), and whether the watchdog has reported
    it."""

    where: str
    since: float
    coroutine: bool = False  # an async function: it runs on the loop, wherever plain ones run
    reported: bool = False
    asked_at: float = 0.0  # when the report was handed to the loop
    shown: bool = False


def _no_check() -> None:
    pass


class ViewRuntime:
    """Runs one view: its mailbox, its timers, its renders and what it sends.

    Without ``loop``, the view shares ``background_loop()`` (or gets a ``ViewLoop`` of its own,
    where all its code runs, while fewer than ``loop.OWN_LOOPS_MAX`` views have one: none by
    default). On a loop it shares (that one, the server's, or the test client's), the view's
    plain functions run on ``thread``, a ``ViewThread`` (by default the view's lane in the
    shared worker pool), so that one that blocks holds up this view alone.
    """

    # Slots, not a __dict__: a served view is one of thousands (1.3 KB less a view).
    __slots__ = (
        "__weakref__",
        "_busy",
        "_component_changed",
        "_dirty",
        "_good_context",
        "_handling",
        "_head",
        "_held_pushes",
        "_idle_waiters",
        "_inbox",
        "_notified",
        "_on_context",
        "_page_bytes",
        "_page_dropped",
        "_page_lock",
        "_page_queued",
        "_render_pending",
        "_rendered",
        "_rendering",
        "_tasks",
        "_thread",
        "_timers",
        "_unfinished",
        "_wakeup",
        "_worker",
        "beat",
        "bus",
        "clock",
        "closed",
        "components",
        "home",
        "loop",
        "outbox",
        "pacer",
        "socket",
        "view",
    )

    def __init__(
        self,
        view: LiveView,
        *,
        send: Send,
        loop: asyncio.AbstractEventLoop | None = None,
        clock: Clock | None = None,
        pacer: Pacing | None = None,
        bus: Bus | None = None,
        on_context: Callable[[Context], None] | None = None,
        on_error: Callable[[BaseException, str], None] | None = None,
        error_interval: float = 1.0,
        thread: ViewThread | None = None,
        beat: float = 0.0,
    ) -> None:
        self.view = view
        self.beat = beat  # repeat timers start on this beat of the clock (scheduling.on_beat)
        name = f"livewidget-view-{type(view).__name__}"
        # The view's own loop and thread, or a loop given (shared, or the test client's) with
        # a thread for the view's plain functions.
        self.home = _loop.own_loop(name) if loop is None else None
        if self.home is not None:
            loop = self.home.loop
        elif loop is None:  # past OWN_LOOPS_MAX views with a loop of their own: share one
            loop = _loop.background_loop()[0]
        assert loop is not None  # given, or the view's own
        self.loop: asyncio.AbstractEventLoop = loop
        self._thread: ViewThread | None = None
        if self.home is None:
            self._thread = thread if thread is not None else ViewThread(self.loop, name)
        self.clock: Clock = clock or LoopClock.of(self.loop)
        self.pacer: Pacing = pacer or _loop.pacer
        self.bus = bus or default_bus
        self.socket = Socket(self)
        self.closed = False
        self._on_context = on_context
        self.outbox = Outbox(
            send,
            self.clock,
            type(view).__name__,
            report_later=lambda error, where: self._on_loop(self._report, error, where),
            on_error=on_error,
            error_interval=error_interval,
        )
        # The mailbox: a list read from ``_head`` on (``_next_message``), and the future the
        # worker waits on while it is empty. (An asyncio.Queue holds three deques, and a deque
        # alone a block of 64 slots, 760 B, for a mailbox that holds one message at a time.)
        self._inbox: list[Message] = []
        self._head = 0
        self._wakeup: asyncio.Future[None] | None = None
        self._unfinished = 0  # messages posted and not yet handled (idle() waits for none)
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._timers: set[Cancellable] = set()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._rendered: Rendered | None = None  # the last good render
        self._good_context = self.socket.context  # the context of that render
        self._notified = self.socket.context  # the context on_context last saw
        self._render_pending = False
        self._handling = False  # the worker is handling a message
        self._dirty = False  # and that message has something to send
        self._component_changed = False  # a component rendered by a queued call (_in_component)
        self._held_pushes: list[tuple[str, Mapping[str, Any]]] = []  # pushed while handling
        self.components = Components(self)
        self._busy: _Busy | None = None
        # A render the pacer asked for, on the view's thread: done once it is sent.
        self._rendering: asyncio.Future[None] | None = None
        self._page_lock = threading.Lock()
        self._page_queued = 0  # messages from the page waiting in the mailbox
        self._page_bytes = 0  # and their size
        self._page_dropped = 0

    # -- the socket's host ------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return not self.closed

    def send_info(self, info: Any, after_ms: float) -> None:
        if after_ms <= 0:
            self.post(Info(info))
        else:
            self._on_loop(self._send_info_later, info, after_ms / 1000)

    def _send_info_later(self, info: Any, delay: float) -> None:
        if self.closed:
            return
        handles: list[Cancellable] = []

        def fire() -> None:
            self._timers.discard(handles[0])
            self.post(Info(info))

        handles.append(self.clock.call_later(delay, fire))
        self._timers.add(handles[0])

    def repeat(self, fn: Callable[[], Any], interval_ms: float) -> Cancellable:
        timer = Repeat(self, fn, interval_ms / 1000, self.beat)
        self._timers.add(timer)
        self._on_loop(timer.start)
        return timer

    def forget_timer(self, timer: Cancellable) -> None:
        self._timers.discard(timer)

    @property
    def timer_count(self) -> int:
        """How many repeat and send_info timers run (for the census)."""
        return len(self._timers)

    def subscribe(self, topic: str) -> None:
        self.bus.subscribe(topic, self)

    def deliver(self, message: Any) -> None:
        """A pub/sub message for ``handle_info`` (the bus calls this, from any thread)."""
        self.post(Info(message))

    def broadcast(self, topic: str, message: Any) -> None:
        self.bus.broadcast(topic, message)

    def push_event(self, name: str, payload: Mapping[str, Any]) -> None:
        self._on_loop(self._queue_push, name, payload)

    def _queue_push(self, name: str, payload: Mapping[str, Any]) -> None:
        """Pushed events go out with the next send, after the render of the same handler.

        A push made while a message is handled waits until that handler is done and its
        render is due (``_release_pushes``): the pacer's turn may come first (the loop is free
        while a plain handler runs on the view's thread, and uvloop runs a due timer before a
        task's wake-up), and sent then, the push would reach the page before the diff of the
        handler that made it; that diff would undo what a hook drew for the push.
        """
        if self._handling:
            self._held_pushes.append((name, payload))
            return
        self.outbox.push(name, payload)
        self._mark_dirty()

    def _release_pushes(self) -> None:
        """The handled message is done: its pushes go out with the next send."""
        held, self._held_pushes = self._held_pushes, []
        for name, payload in held:
            self.outbox.push(name, payload)
        if held:
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
        _loop.register(self)
        _loop.watchdog.watch(self)
        self._on_loop(self._start)

    def _start(self) -> None:
        self._worker = self.loop.create_task(self._work())
        self._put(Mount())

    def post(self, message: Message) -> None:
        """Queue a message (``livewidget.runtime.messages``) for the view; safe from any thread."""
        if self.closed:
            return
        self._on_loop(self._put, message)

    def _put(self, message: Message) -> None:
        """Into the mailbox (on the loop); the worker wakes if it waits for a message."""
        self._inbox.append(message)
        self._unfinished += 1
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def _task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished == 0:
            self._wake_idle()

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    @property
    def queued(self) -> int:
        """How many messages wait in the mailbox."""
        return len(self._inbox) - self._head

    def _next_message(self) -> Message:
        """The mailbox's first message, taken out (it has one). A list with a read index
        rather than ``pop(0)``: a handler that sends itself thousands of infos must not cost
        a copy of the rest at every one. The read part is dropped once the list is read to its
        end, or once it is more than half the list."""
        inbox, head = self._inbox, self._head
        message = inbox[head]
        head += 1
        if head == len(inbox):
            inbox.clear()
            head = 0
        elif head >= 64 and head * 2 >= len(inbox):
            del inbox[:head]
            head = 0
        self._head = head
        return message

    def post_from_page(self, message: Event | Join | Call, size: int) -> None:
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
                if self.home is not None and self._holds_loop():
                    self._report_flood(now=True)  # its code holds its loop: show it from here
                else:
                    self._on_loop(self._report_flood)
            return
        self.post(FromPage(message, size))

    def _report_flood(self, *, now: bool = False) -> None:
        with self._page_lock:
            dropped, self._page_dropped = self._page_dropped, 0
        error = PageFlood(
            f"the page sent messages faster than {type(self.view).__name__} handles them: "
            f"{dropped} dropped while {MAX_QUEUED_FROM_PAGE} messages (or "
            f"{MAX_QUEUED_BYTES_FROM_PAGE:,} bytes) were waiting. A handler that takes long "
            "should hand its work to socket.start_async(...); a chatty binding wants "
            "phx-debounce or phx-throttle."
        )
        if now:
            self.outbox.show_error(error, "a message from the front end", 0)
        else:
            self._report(error, "a message from the front end")

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.on_loop_thread():
            fn(*args)
        elif self._thread is not None and self._thread.owns_current_thread():
            self._thread.defer(fn, *args)  # the view's own code: with its outcome
        else:
            call_soon_threadsafe(self.loop, fn, *args)

    async def idle(self) -> None:
        """Wait until every queued message has been handled, and a render under way is sent."""
        if self._unfinished and not self.closed:
            waiter = self.loop.create_future()
            self._idle_waiters.append(waiter)
            await waiter
        while self._rendering is not None:
            await asyncio.shield(self._rendering)

    @property
    def jobs(self) -> list[asyncio.Future[Any]]:
        """The ``start_async`` jobs still running."""
        return [task for task in self._tasks if not task.done()]

    @property
    def calls_owed(self) -> int:
        """Plain functions handed to the view's thread whose outcome the loop waits for (the
        test client's virtual loop then waits in real time)."""
        return self._thread.owed if self._thread is not None else 0

    def on_loop_thread(self) -> bool:
        """Whether the caller runs inside the view's loop (whichever thread runs it now), or is
        the view's plain code on its own loop's thread."""
        if self.home is not None and self.home.owns_current_thread():
            return True
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def assign_elsewhere(self, socket: Socket, values: Mapping[str, Any]) -> bool:
        """An assign to the view's socket, or one of its components', from outside its code
        (a widget observer on the kernel's shell thread, a thread of the user's): queued, and
        applied and rendered in its turn. False, for the socket to assign at once, when the
        caller is the view's own code (the lane's thread first: the cheaper test)."""
        if self.closed or (self._thread is not None and self._thread.owns_current_thread()):
            return False
        if socket is self.socket:
            if self.on_loop_thread():
                return False
            self.post(Assign(dict(values)))
            return True
        copied = dict(values)
        return self.call_elsewhere(socket, lambda: socket.assign(copied), "assign", _no_check)

    def call_elsewhere(
        self, socket: Socket, fn: Callable[[], Any], where: str, check: Callable[[], Any]
    ) -> bool:
        """A socket operation from outside the view's code that reads what it changes (a
        stream's operations; a component's assign): ``check()`` first, on the caller's thread,
        so that a bad argument raises there; then ``fn`` queued as a ``Call``, run in the
        view's turn as its own code (and a component it changed rendered). False, for the
        socket to run it at once, when the caller is the view's own code or the socket is
        none of this view's."""
        if self.closed or self.in_view_code():
            return False
        if socket is not self.socket:
            live = next((c for c in self.components.live() if c.socket is socket), None)
            if live is None:
                return False
            where = f"{type(live.component).__name__}'s {where}"
            fn = functools.partial(self._in_component, live, fn)
        check()
        self.post(Call(fn, where))
        return True

    def _in_component(self, live: Any, fn: Callable[[], Any]) -> None:
        """``fn`` on a component's socket, in the view's turn: the component renders if it
        changed (as after its own event), and the view sends that."""
        fn()
        current = self.components.get(live.cid)  # (None once the parent no longer places it)
        if current is not None and current is live and current.socket.changed:
            self.components.render(current)
            self._component_changed = True

    def in_view_code(self) -> bool:
        """Whether the caller is the view's own code: on its loop, or on its thread."""
        return self.on_loop_thread() or (
            self._thread is not None and self._thread.owns_current_thread()
        )

    async def _work(self) -> None:
        handled = 0  # messages handled since the loop last had a turn
        while True:
            if not self.queued:
                wakeup = self._wakeup = self.loop.create_future()
                await wakeup
                continue
            message = self._next_message()
            try:
                self._handling = True
                try:
                    await self._handle(message)
                finally:
                    self._release_pushes()
                    self._handling = False
                self._notify_context()
            except GeneratorExit:
                raise
            except BaseException as error:  # a bug of livewidget's own or of an observer
                if self._closing(error):
                    raise
                self._report(error, "the runtime")
            finally:
                self._task_done()
            _loop.streak.breathe()
            if self._dirty:
                self._dirty = False
                # About to wait for the next message: what is due now goes out in this turn of
                # the loop rather than the next (one wake-up of the view's thread less).
                if not self.queued and self._pacer_turn():
                    self.flush()
                else:
                    self._mark_dirty()
            if not self.queued:
                handled = 0
                continue
            # Give the loop a turn every few messages: a full mailbox (a handler that sends
            # itself infos, a flood of events) must not starve the pacer, timers or other views.
            handled += 1
            if handled >= _YIELD_EVERY:
                handled = 0
                await asyncio.sleep(0)

    def _pacer_turn(self) -> bool:
        """Whether the pacer lets this view send right now (then the turn is taken)."""
        return isinstance(self.pacer, Pacer) and self.pacer.take_turn(self)

    def _closing(self, error: BaseException) -> bool:
        """Whether ``error`` is the runtime's own cancellation of a closing view.

        Anything else a handler raises, ``CancelledError`` included (a handler awaiting a task
        that something else cancelled), is that view's error, reported and survived.
        """
        return self.closed and isinstance(error, asyncio.CancelledError | ViewClosed)

    async def _run_code(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run the view's code: on the view's own loop, or a plain function on the view's own
        thread when the loop is shared (so that one that blocks holds up this view alone)."""
        self._busy = _Busy(where, time.monotonic(), _is_coroutine_function(fn))
        try:
            if self._busy.coroutine:
                result = fn(*args)
            elif self._thread is None:
                result = _as_on_a_thread(fn, *args)
            else:
                result = await self._thread.call(fn, *args)
            if inspect.isawaitable(result):
                result = await result
            return result
        finally:
            self._busy = None

    async def _handle(self, message: Message) -> None:
        match message:
            case FromPage(message=inner, size=size):  # it leaves the page's share of the mailbox
                with self._page_lock:
                    self._page_queued -= 1
                    self._page_bytes -= size
                await self._handle(inner)
            case Sync(done=done):  # someone waits until everything before this was handled
                while self._rendering is not None:
                    await asyncio.shield(self._rendering)
                if self._render_pending:
                    await self._render()
                    self._mark_dirty()  # a pacer's turn during that render found nothing to send
                if not done.done():
                    done.set_result(None)
            case Report(error=error, where=where):
                self._report(error, where)
            case Join():
                self.outbox.needs_full = True
                if self._rendered is None:
                    self._render_pending = True
                self._mark_dirty()
            case Event():
                try:
                    await self._handle_view_code(message)
                finally:
                    # The page holds the event "in flight" until it is answered: by the render
                    # of what its handler did, or an empty diff, never before the handler is done.
                    self.outbox.answer_pending = True
                    self._mark_dirty()
            case Mount() | Info() | Tick() | Assign() | Call():
                await self._handle_view_code(message)

    async def _handle_view_code(self, message: Mount | Event | Info | Tick | Assign | Call) -> None:
        """A message the view's own code handles: mount, an event, an info, a timer, assign,
        a call."""
        view, socket = self.view, self.socket
        before = socket.context
        where = "mount"
        try:
            match message:
                case Mount():
                    await self._run_code(where, view.mount, socket)
                case Event(event=event, params=params, cid=cid):
                    where = f"handle_event({event!r})"
                    if cid is not None:
                        await self._component_event(cid, event, params)
                        return
                    result = await self._run_code(where, view.handle_event, event, params, socket)
                    check_handler_result(view, "handle_event", result)
                case Info(info=info):
                    where = "handle_info"
                    result = await self._run_code(where, view.handle_info, info, socket)
                    check_handler_result(view, "handle_info", result)
                case Tick(timer=timer):
                    where = "a repeat callback"
                    timer.pending = False
                    await self._run_code(where, timer.fn)
                case Assign(values=values):
                    where = "assign"
                    socket.assign(values)
                case Call(fn=fn, where=where):
                    await self._run_code(where, fn)
        except GeneratorExit:
            raise
        except BaseException as error:
            if self._closing(error):
                raise
            socket.rollback(before)
            self._report(error, where)
            if isinstance(message, Mount) and self._rendered is None:
                self._render_pending = True  # render what mount managed to set, if it can
                self._mark_dirty()
            return
        if socket.changed or isinstance(message, Mount):
            socket.changed = False
            self._render_pending = True
            self._mark_dirty()
        elif self._component_changed:  # a component changed from outside (_in_component)
            self._component_changed = False
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
                live.socket.rollback(before)
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
        if self._thread is None:
            self._render_done(context, *self._render_inline())
            return
        try:
            rendered = await self._run_code("render", self._render_now, context)
        except GeneratorExit:
            raise
        except BaseException as error:
            if self._closing(error):
                raise
            self._render_done(context, None, error)
            return
        self._render_done(context, rendered, None)

    def _render_done(
        self, context: Context, rendered: Rendered | None, error: BaseException | None
    ) -> None:
        if rendered is None:
            self.socket.rollback(self._good_context)
            self._notify_context()
            self._report(error or RuntimeError("no render"), "render")
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
        if self.closed:
            return
        if self._handling and self._thread is None:
            self._dirty = True  # asked of the pacer once the message is handled
        else:
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
        if self._rendering is not None:
            return  # the render under way sends when it is back, and asks again if more is due
        if self._render_pending:
            if self._thread is None:  # the view's own loop: render right here
                self._render_pending = False
                self._render_done(self.socket.context, *self._render_inline())
            else:
                self._render_and_send()
                return
        self._send_changes()

    def _render_inline(self) -> tuple[Rendered | None, BaseException | None]:
        """The render, on the view's own loop: what it made, or what it raised."""
        self._busy = _Busy("render", time.monotonic(), False)
        try:
            return _as_on_a_thread(self._render_now, self.socket.context), None
        except GeneratorExit:
            raise
        except BaseException as error:  # the view's error, whatever it is
            if self._closing(error):
                raise
            return None, error
        finally:
            self._busy = None

    def _render_and_send(self) -> None:
        """Hand the render to the view's thread; send what it made when it is back (no task:
        a callback of the call's outcome)."""
        assert self._thread is not None  # on a loop of its own, a view renders inline
        # A handler may push while this render runs on the view's thread (it ran after the
        # render began): its pushes wait for the render that shows what it did.
        pushes_upto = self.outbox.push_count
        self._render_pending = False
        context = self.socket.context
        busy = self._busy = _Busy("render", time.monotonic())
        done: asyncio.Future[None] = self.loop.create_future()
        self._rendering = done

        def rendered(call: asyncio.Future[Rendered]) -> None:
            if self._busy is busy:
                self._busy = None
            if self._rendering is done:
                self._rendering = None
            if not done.done():
                done.set_result(None)
            if call.cancelled() or self.closed:
                return
            error = call.exception()
            if error is not None:
                self._render_done(context, None, error)
            else:
                self._render_done(context, call.result(), None)
            self._send_changes(pushes_upto)
            if self._render_pending or self.outbox.has_pushes:
                self._mark_dirty()  # what came while it rendered: the pacer's next turn

        self._thread.call(self._render_now, context).add_done_callback(rendered)

    def _send_changes(self, pushes_upto: int | None = None) -> None:
        rendered = self._rendered
        if self.closed or rendered is None:
            return
        self.outbox.send_render(rendered, self.components.live(), [self._good_context], pushes_upto)

    @property
    def rendered(self) -> Rendered | None:
        """The last good render (what the front end shows once the pacer has sent it)."""
        return self._rendered

    def _report(self, error: BaseException, where: str) -> None:
        self.outbox.report(error, where)

    # -- what the watchdog asks (from its own thread) -----------------------------------------

    def busy(self) -> tuple[str, float, bool] | None:
        busy = self._busy
        return None if busy is None else (busy.where, busy.since, busy.reported)

    def watch(self, now: float) -> None:
        """Report view code that has run for ``SLOW_SECONDS`` without returning.

        The report goes through the view's loop. On a loop of the view's own, the code may be
        what holds that loop (a blocking plain function, or blocking code in an async one):
        if the loop has not shown the report ``TICK_SECONDS`` later, it is shown from here.
        """
        busy = self._busy
        if busy is None or self.closed:
            return
        if not busy.coroutine and not busy.reported and self._thread is not None:
            # A plain call counts from when a worker began it, not from when it was handed
            # over: one waiting behind other views' calls (an overloaded server) is not slow.
            started = self._thread.started_at
            if started is None:
                return
            busy.since = max(busy.since, started)
        if not busy.reported:
            if now - busy.since >= _loop.SLOW_SECONDS:
                busy.reported, busy.asked_at = True, now
                slow = self._slow_error(busy, now)
                call_soon_threadsafe(self.loop, self._show_slow, busy, slow)
        elif self.home is not None and not busy.shown and now - busy.asked_at >= _loop.TICK_SECONDS:
            busy.shown = True
            error = (
                self._blocked_error(busy, now) if busy.coroutine else self._slow_error(busy, now)
            )
            self.outbox.show_error(error, busy.where, 0)

    def _show_slow(self, busy: _Busy, error: BaseException) -> None:
        if busy.shown or self.closed:
            return
        busy.shown = True
        self._report(error, busy.where)

    def _slow_error(self, busy: _Busy, now: float) -> SlowHandler:
        return SlowHandler(
            f"{type(self.view).__name__}.{busy.where} has run for {now - busy.since:.0f} s and "
            "has not returned yet; this view waits for it (the other views go on). Hand slow "
            "work to socket.start_async(name, fn): it runs beside the view and its result "
            "comes to handle_info."
        )

    def _blocked_error(self, busy: _Busy, now: float) -> LoopBlocked:
        return LoopBlocked(
            f"{type(self.view).__name__}.{busy.where} has blocked the view's event loop for "
            f"{now - busy.since:.0f} s: this view, its timers included, waits for it (the other "
            "views go on). An async handler must not call blocking code (time.sleep, "
            "requests.get, a long computation): await asyncio.sleep(...) or "
            "asyncio.to_thread(fn, ...), or hand the work to socket.start_async(name, fn)."
        )

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
            "runs on a worker thread, one call of the view at a time."
        )
        self.outbox.show_error(error, where, 0)

    def _holds_loop(self) -> bool:
        """Whether the view's code runs on its own loop's thread now (not just awaits)."""
        ident = self.home.thread.ident if self.home is not None else None
        frame = sys._current_frames().get(ident or -1)
        while frame is not None:
            if self.runs_in(frame) is not None:
                return True
            frame = frame.f_back
        return False

    def runs_in(self, frame: FrameType) -> str | None:
        if frame.f_code in _VIEW_CODE and frame.f_locals.get("self") is self:
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
        if self._thread is not None:
            self._thread.stop()
        self._on_loop(self._close)
        home = self.home
        if home is None:
            self._wait_closed()
            return
        if home.owns_current_thread():
            return
        home.join(timeout=0.1)  # its loop closes the view and ends: gone when this returns,
        if home.thread.is_alive() and self._holds_loop():
            home.interrupt()  # unless view code holds the loop: end it, as ViewThread.stop does
            home.join(timeout=1.0)

    def _wait_closed(self) -> None:
        """From a thread outside the view (a cell), with the view's loop running elsewhere:
        return once the loop has closed the view and its worker task has ended (for up to
        ``_CLOSE_WAIT`` seconds: a loop that view code stalls cannot answer), so that a census
        taken right after ``close()`` does not count what it stopped."""
        loop = self.loop
        if self.in_view_code() or not loop.is_running() or loop in _unanswering:
            return
        closed = threading.Event()
        # After _close, one more turn: the tasks it cancelled have ended by then.
        call_soon_threadsafe(loop, loop.call_soon, closed.set)
        if not closed.wait(_CLOSE_WAIT):
            _unanswering.add(loop)  # stalled: closing many views must not wait for each

    def _close(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._worker is not None:
            self._worker.cancel()
        self._wake_idle()  # nothing more is handled: no one waits for it
        if self._rendering is not None:
            self._rendering.set_result(None)  # nothing will be sent: no one waits for it
            self._rendering = None
        self.outbox.close()
        self.pacer.discard(self)
        if self.home is not None:
            self.home.stop()


def _is_coroutine_function(fn: Callable[..., Any]) -> bool:
    """``inspect.iscoroutinefunction``, with the common case first (asked for every call of
    view code): a function or a bound method is one if its code says so."""
    func = getattr(fn, "__func__", fn)
    if type(func) is FunctionType:
        return bool(func.__code__.co_flags & inspect.CO_COROUTINE)
    return inspect.iscoroutinefunction(fn)


def _as_on_a_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a view's plain function on its own loop's thread as if on a thread without a loop,
    as plain functions ran before views had loops of their own: ``asyncio.run(...)`` in a plain
    handler works (with the loop seen as running, it would raise)."""
    running = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        return fn(*args)
    finally:
        asyncio.events._set_running_loop(running)


# The runtime's frames that run view code: what the watchdog and close() look for in a stack.
_VIEW_CODE = (ViewRuntime._run_code.__code__, ViewRuntime._render_inline.__code__)

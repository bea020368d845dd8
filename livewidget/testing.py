"""A test client for views: mount, click, type and tick with no kernel and no browser.

``live(View, **params)`` mounts a connected view on a private event loop with a virtual clock.
Every action goes through the same code as a widget: the runtime's mailbox, ``render``,
``protocol.diff``, the front-end message checks of ``events``, and ``protocol.merge`` into a
client-side tree whose HTML is ``lv.html``. It is synchronous, so plain pytest functions use it::

    from livewidget.testing import live

    def test_the_counter_counts():
        lv = live(Counter)
        lv.click("#inc")
        assert lv.has_element("#count", text="1")
        lv.advance(1000)          # fire the timers due in the next second, then settle

Each action returns the new HTML once the view has handled everything it caused, as far as it
can go without time passing. The client's event loop runs on the virtual clock too: a handler's
``await asyncio.sleep(0.5)``, ``loop.call_later`` or ``asyncio.timeout`` waits for
``lv.advance(500)``, never for real time (the loop waits in real time only for the view's own
thread, where plain ``def`` handlers run). Jobs started with ``socket.start_async`` run on in
real time; ``lv.render_async()`` waits for them.

``lv.elements(selector)`` lists every match (``lv.element`` wants exactly one);
``lv.change(sel, {..., "_target": ["user", "name"]})`` names the changed field as Phoenix's
``render_change`` does (by default, the first field in the data).

A handler or render that raises fails the action with that exception, unless
``live(..., raise_errors=False)``; then ``lv.errors`` collects them and the view goes on, as in
a notebook.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import json
import math
import selectors
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVarTuple, Unpack
from urllib.parse import urlencode

from bs4 import BeautifulSoup, Tag

from . import protocol
from .events import FrontendMessageError, decode_message
from .protocol import Payload
from .runtime import ViewRuntime
from .socket import Cancellable, Context
from .view import LiveView

_Ts = TypeVarTuple("_Ts")

_REAL_SLICE = 0.05  # render_async's slices of real time, in seconds

__all__ = ["LiveViewTest", "VirtualClock", "live"]


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
    """The selector of a ``_VirtualLoop``: where the loop would wait, it asks the loop whether
    anything real (a thread) can wake it; if not, the loop stops instead of waiting."""

    loop: _VirtualLoop | None = None

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


class _VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is the virtual clock: ``asyncio.sleep``, ``call_later``
    and timeouts in handlers wait for ``lv.advance``, never for real time.

    It never waits for a timer: where it would, it waits for a thread of the view (a plain
    ``def`` handler on the view's thread, a ``start_async`` job while ``render_async`` waits),
    or, with none running, stops (``stalled``) and hands back to the test client.
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


class _SettlePacer:
    """The test client sends whenever the view has settled, not once a frame."""

    def __init__(self) -> None:
        self.dirty = False

    def request(self, runtime: ViewRuntime) -> None:
        self.dirty = True

    def discard(self, runtime: ViewRuntime) -> None:
        self.dirty = False


def live(
    view: type[LiveView] | LiveView,
    /,
    *,
    raise_errors: bool = True,
    error_interval: float = 0.0,
    **params: Any,
) -> LiveViewTest:
    """Mount ``view`` (a class, made with ``params``, or an instance) as a connected view.

    ``error_interval`` (seconds of the virtual clock) batches the errors shown in the view as a
    widget does (1.0 there): within it of the last one shown, only the latest is shown, when it
    ends. The test client's default, 0, shows each error at once.
    """
    if isinstance(view, type) and issubclass(view, LiveView):
        instance = view(**params)
    elif isinstance(view, LiveView):
        if params:
            raise TypeError("live(): pass params with a view class, not with an instance")
        instance = view
    else:
        raise TypeError(f"live() takes a LiveView class or instance, got {view!r:.80}")
    return LiveViewTest(instance, raise_errors=raise_errors, error_interval=error_interval)


def _shutdown(runtime: ViewRuntime, loop: asyncio.AbstractEventLoop) -> None:
    """Close the view, cancel what still runs on the client's loop, and close the loop."""
    if loop.is_closed():
        return
    runtime.close()

    async def unwind() -> None:
        tasks = [task for task in asyncio.all_tasks(loop) if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    _run_loop(loop, unwind())
    loop.close()


def _run_loop(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, None]) -> bool:
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
    if isinstance(loop, _VirtualLoop):
        loop.stalled = False
    loop.run_forever()
    if task.done():
        task.result()
        return True
    # Stalled: the task ends with the loop's next run, which its end must not stop.
    task.remove_done_callback(stop)
    task.cancel()
    return False


class LiveViewTest:
    """A mounted view driven like a browser would drive it; see the module docstring."""

    def __init__(
        self, view: LiveView, *, raise_errors: bool = True, error_interval: float = 0.0
    ) -> None:
        self.view = view
        self.payloads: list[Payload] = []
        self.messages: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.raise_errors = raise_errors
        self.clock = VirtualClock()
        self._loop = _VirtualLoop(self.clock)
        self._pacer = _SettlePacer()
        self._tree: Payload | None = None
        self._raised = 0
        # The runtime reaches back through weak references, so that a client nobody closed is
        # collected (no cycle) and its finalizer stops the view and closes the loop.
        me = weakref.WeakMethod
        receive, on_error = me(self._receive), me(self._on_error)
        self._runtime = ViewRuntime(
            view,
            send=lambda message: _call_weak(receive, message),
            loop=self._loop,
            clock=self.clock,
            pacer=self._pacer,
            on_error=lambda error, where: _call_weak(on_error, error, where),
            error_interval=error_interval,
        )
        self._finalizer = weakref.finalize(self, _shutdown, self._runtime, self._loop)
        self._real_deadline: float | None = None
        self._loop.real_wait = self._real_wait
        self._runtime.start()
        self._run_until_settled()

    # -- what the page shows ------------------------------------------------------------------

    @property
    def html(self) -> str:
        """The HTML the front end holds, built by merging every payload sent so far."""
        return protocol.to_html(self._tree) if self._tree is not None else ""

    @property
    def context(self) -> Context:
        return self._runtime.socket.context

    def has_element(self, selector: str, text: str | None = None) -> bool:
        """Whether an element matches ``selector`` (and contains ``text``, if given)."""
        return any(text is None or text in el.get_text() for el in self._soup().select(selector))

    def elements(self, selector: str) -> list[Tag]:
        """Every element matching ``selector``, in document order (none is no error)."""
        return list(self._soup().select(selector))

    def element(self, selector: str) -> Tag:
        """The one element matching ``selector``; an error if none or several match."""
        found = self._soup().select(selector)
        if len(found) != 1:
            raise LookupError(
                f"expected one element matching {selector!r}, found {len(found)} in:\n{self.html}"
            )
        return found[0]

    # -- what a user does ---------------------------------------------------------------------

    def click(self, selector: str) -> str:
        """Click the element (it must carry ``phx-click``), with its ``phx-value-*`` values."""
        el = self.element(selector)
        return self._push(el, "phx-click", "click", _values(el))

    def blur(self, selector: str) -> str:
        """The element (with ``phx-blur``) loses focus."""
        el = self.element(selector)
        return self._push(el, "phx-blur", "blur", _values(el))

    def focus(self, selector: str) -> str:
        """The element (with ``phx-focus``) gets focus."""
        el = self.element(selector)
        return self._push(el, "phx-focus", "focus", _values(el))

    def window_keydown(self, key: str) -> str:
        """A key pressed anywhere on the page: every ``phx-window-keydown`` binding hears it."""
        return self._window_key(key, "keydown")

    def window_keyup(self, key: str) -> str:
        return self._window_key(key, "keyup")

    def push_hook_event(self, selector: str, event: str, payload: Mapping[str, Any]) -> str:
        """What ``this.pushEvent(event, payload)`` does in the hook on the element."""
        el = self.element(selector)
        if not el.get("phx-hook"):
            raise LookupError(f"the element {_describe(el)} has no phx-hook attribute")
        target = el.get("phx-target")
        cid = int(target) if isinstance(target, str) and target.isdigit() else None
        self._send("hook", event, dict(payload), cid)
        return self._settle()

    def change(self, selector: str, data: Mapping[str, Any] | None = None) -> str:
        """Change a ``phx-change`` form: its current fields, updated with ``data``.

        ``params["_target"]`` names the field that changed: the first one in ``data``, or
        ``data["_target"]`` as Phoenix's ``render_change`` takes it, a path
        (``["user", "name"]``) or a field name (``"user[name]"``).
        """
        form = self._form(selector, "phx-change")
        data = dict(data or {})
        explicit = data.pop("_target", None)
        changes = _flatten(data)
        target = _target_name(explicit) if explicit is not None else next(iter(changes), None)
        fields = _with_changes(_form_fields(form), changes)
        encoded = urlencode([*fields, *([("_target", target)] if target else [])])
        return self._push(form, "phx-change", "form", encoded)

    def submit(self, selector: str, data: Mapping[str, Any] | None = None) -> str:
        """Submit a ``phx-submit`` form: its current fields, updated with ``data``."""
        form = self._form(selector, "phx-submit")
        fields = _with_changes(_form_fields(form), _flatten(data or {}))
        return self._push(form, "phx-submit", "form", urlencode(fields))

    def keydown(self, selector: str, key: str) -> str:
        return self._key(selector, key, "keydown")

    def keyup(self, selector: str, key: str) -> str:
        return self._key(selector, key, "keyup")

    def send_raw(self, content: Any) -> str:
        """Deliver a message exactly as a front end would send it, checked as the widget checks
        it; a malformed one is reported like any error (raised, or kept in ``errors``)."""
        try:
            message = decode_message(content)
        except FrontendMessageError as error:
            self._runtime.post(("report", error, "a message from the front end"))
        else:
            self._runtime.post(message)
        return self._settle()

    def send_info(self, info: Any) -> str:
        """Deliver ``info`` to ``handle_info``, then settle."""
        self._runtime.post(("info", info))
        return self._settle()

    def advance(self, ms: float) -> str:
        """Move the virtual clock ``ms`` milliseconds, firing due timers in order (the view's
        and the loop's: ``asyncio.sleep``, ``call_later``), settling after each; settle."""
        until = self.clock.now() + ms / 1000
        while (when := min(self.clock.next_due(), self._loop.next_due())) <= until:
            self.clock.move_to(when)
            while (timer := self.clock.pop_due(when)) is not None:
                timer.callback()
                self._run_until_settled()
            self._run_until_settled()  # the loop's timers due now fire
        self.clock.move_to(until)
        return self._settle()

    def render_async(self, timeout: float = 5.0) -> str:
        """Wait for the ``start_async`` jobs, then settle.

        A job on a thread (a plain function) gets up to ``timeout`` seconds of real time; what
        a coroutine job awaits on the virtual clock (``asyncio.sleep``) is advanced to, up to
        ``timeout`` seconds of it, so a job that sleeps 2 s takes no real time here.
        """
        real_end = time.monotonic() + timeout
        virtual_end = self.clock.now() + timeout
        while True:
            # Real time in short slices: a thread job may finish meanwhile, and a job waiting
            # on the virtual clock is not waited for in real time.
            self._real_deadline = min(real_end, time.monotonic() + _REAL_SLICE)
            try:
                done = _run_loop(self._loop, self._until_jobs_done())
            finally:
                self._real_deadline = None
            if done:
                break
            due = min(self.clock.next_due(), self._loop.next_due())
            if due <= virtual_end:
                self.advance((due - self.clock.now()) * 1000)
            elif time.monotonic() >= real_end:
                pending = len(self._runtime.jobs)
                raise TimeoutError(
                    f"{pending} start_async job(s) still running after {timeout} s (of real "
                    "time, and of the virtual clock)"
                )
        return self._settle()

    def close(self) -> None:
        """Close the view, as closing its widget would, and free the loop."""
        self._finalizer()

    def __enter__(self) -> LiveViewTest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside -------------------------------------------------------------------------------

    def _soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.html, "html.parser")

    def _form(self, selector: str, binding: str) -> Tag:
        el = self.element(selector)
        form = el if el.name == "form" else el.find_parent("form")
        if form is None or not form.get(binding):
            raise LookupError(f"{selector!r} is not in a form with {binding}")
        return form

    def _key(self, selector: str, key: str, kind: str) -> str:
        el = self.element(selector)
        wanted = el.get("phx-key")
        if isinstance(wanted, str) and wanted.lower() != key.lower():
            return self.html  # the browser's binding ignores other keys
        return self._push(el, f"phx-{kind}", kind, {"key": key, **_values(el)})

    def _window_key(self, key: str, kind: str) -> str:
        binding = f"phx-window-{kind}"
        bound = self._soup().select(f"[{binding}]")
        if not bound:
            raise LookupError(f"no element has {binding}")
        for el in bound:
            wanted = el.get("phx-key")
            if isinstance(wanted, str) and wanted.lower() != key.lower():
                continue
            self._push(el, binding, kind, {"key": key, **_phx_values(el)})
        return self._settle()

    def _push(self, el: Tag, binding: str, kind: str, value: Any) -> str:
        event = el.get(binding)
        if not isinstance(event, str) or not event:
            raise LookupError(f"the element {_describe(el)} has no {binding} attribute")
        target = el.get("phx-target")
        cid = int(target) if isinstance(target, str) and target.isdigit() else None
        if event.startswith("["):  # JS commands: only their pushes reach the view
            for command, args in json.loads(event):
                if command == "push":
                    pushed = value
                    if args.get("value"):
                        pushed = (
                            f"{value}&{urlencode(_flatten(args['value']))}"
                            if isinstance(value, str)
                            else {**value, **args["value"]}
                        )
                    self._send(kind, args["event"], pushed, args.get("target", cid))
        else:
            self._send(kind, event, value, cid)
        return self._settle()

    def _send(self, kind: str, event: str, value: Any, cid: int | None) -> None:
        content = {"type": "event", "kind": kind, "event": event, "value": value, "cid": cid}
        self._runtime.post(decode_message(content))

    def _receive(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] in ("full", "diff"):
            self.payloads.append(message["rendered"])
            self._tree = protocol.merge(self._tree, message["rendered"])

    def _on_error(self, error: BaseException, where: str) -> None:
        self.errors.append(error)

    def _settle(self) -> str:
        self._run_until_settled()
        return self.html

    def _run_until_settled(self) -> None:
        """Handle what is queued and send what changed (``_settle`` without building the HTML,
        which costs a walk of the whole page)."""
        if self._runtime.closed:
            return
        _run_loop(self._loop, self._until_idle())
        while self._pacer.dirty:  # a flush that renders goes through the mailbox: settle again
            self._pacer.dirty = False
            self._runtime.flush()
            _run_loop(self._loop, self._until_idle())
        if self.raise_errors and len(self.errors) > self._raised:
            error = self.errors[self._raised]
            self._raised = len(self.errors)
            raise error

    async def _until_idle(self) -> None:
        await asyncio.sleep(0)
        await self._runtime.idle()

    async def _until_jobs_done(self) -> None:
        jobs = self._runtime.jobs
        if jobs:
            await asyncio.wait(jobs)
        await self._runtime.idle()

    def _real_wait(self) -> float | None:
        """How long (real seconds) the loop may wait for a thread; None: nothing real runs."""
        if self._runtime.calls_owed > 0:  # a plain ``def`` handler runs on its thread
            return math.inf
        if self._real_deadline is not None and self._runtime.jobs:
            left = self._real_deadline - time.monotonic()
            return left if left > 0 else None
        return None


def _call_weak(method: weakref.WeakMethod[Callable[..., None]], *args: Any) -> None:
    bound = method()
    if bound is not None:
        bound(*args)


def _describe(el: Tag) -> str:
    text = str(el)
    return text[:120] + ("…" if len(text) > 120 else "")


def _phx_values(el: Tag) -> dict[str, Any]:
    return {
        name[len("phx-value-") :]: value
        for name, value in el.attrs.items()
        if name.startswith("phx-value-") and isinstance(value, str)
    }


def _values(el: Tag) -> dict[str, Any]:
    """``phx-value-*`` and, as the browser sends it, the element's own value if it has one."""
    values = _phx_values(el)
    if el.name in ("input", "button"):
        unchecked = el.get("type") in ("checkbox", "radio") and not el.has_attr("checked")
        if not unchecked:
            values["value"] = str(el.get("value", ""))
    elif el.name == "textarea":
        values["value"] = el.get_text()
    elif el.name == "select":
        chosen = el.find("option", selected=True) or el.find("option")
        values["value"] = str(chosen.get("value", chosen.get_text())) if chosen else ""
    return values


def _form_fields(form: Tag) -> list[tuple[str, str]]:
    """The form's fields as the browser would submit them, in order (names may repeat)."""
    fields: list[tuple[str, str]] = []
    for el in form.find_all(["input", "select", "textarea"]):
        name = el.get("name")
        if not isinstance(name, str) or el.has_attr("disabled"):
            continue
        if el.name == "textarea":
            fields.append((name, el.get_text()))
        elif el.name == "select":
            chosen = el.find("option", selected=True) or el.find("option")
            if chosen is not None:
                fields.append((name, str(chosen.get("value", chosen.get_text()))))
        elif el.get("type") in ("checkbox", "radio"):
            if el.has_attr("checked"):
                fields.append((name, str(el.get("value", "on"))))
        elif el.get("type") not in ("submit", "button", "reset", "file"):
            fields.append((name, str(el.get("value", ""))))
    return fields


def _with_changes(fields: list[tuple[str, str]], changes: dict[str, str]) -> list[tuple[str, str]]:
    """The fields with each changed name's value replaced (or added, if the form lacks it)."""
    kept = [(name, value) for name, value in fields if name not in changes]
    return kept + list(changes.items())


def _target_name(target: Any) -> str:
    """The form field name of a ``_target``: a path ``["user", "name"]`` is ``user[name]``."""
    if isinstance(target, str):
        return target
    if isinstance(target, list | tuple) and target and all(isinstance(p, str) for p in target):
        head, *rest = (str(part) for part in target)
        return head + "".join(f"[{part}]" for part in rest)
    raise TypeError(
        f'change(): "_target" is a field name ("user[name]") or a path (["user", "name"]), '
        f"got {target!r:.80}"
    )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name))
        else:
            flat[name] = str(value)
    return flat

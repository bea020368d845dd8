"""``live()`` and ``LiveViewTest``: a mounted view, driven as a browser drives it.

How an action runs (``click``, ``change``, ``send_info``...): the client reads the element as
the page would (``dom``), passes the event through phx-debounce / phx-throttle (``rate_limit``),
and posts the message to the view's mailbox with a barrier behind it (``runtime_hooks.sync``).
Then it runs the loop until the view is idle, as far as it can go without the virtual clock
moving. The barrier is handled right after the message, before anything that message's handler
sent itself, so the message's own render is sent then: it is the action's return value, and an
entry of ``renders``. What the handler triggered (a ``send_info`` to itself, pushes) is handled
next, within the same action, and rendered once the view is idle, so ``html``, ``context`` and
``has_element`` show the view settled. ``advance`` fires due timers one instant at a time and
settles after each.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, overload
from urllib.parse import urlencode

from bs4 import BeautifulSoup, Tag

from .. import protocol
from ..events import FrontendMessageError, decode_message
from ..protocol import Payload
from ..runtime import ViewRuntime
from ..socket import Context
from ..view import LiveView
from . import runtime_hooks
from .clock import VirtualClock, VirtualLoop, run_loop
from .dom import (
    describe,
    element_key,
    flatten,
    form_fields,
    is_submit_button,
    locate,
    phx_values,
    target_name,
    values,
    with_changes,
)
from .rate_limit import RateLimiter

__all__ = ["LiveViewTest", "Renders", "live"]

_REAL_SLICE = 0.05  # render_async's slices of real time, in seconds


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

    run_loop(loop, unwind())
    loop.close()


class Renders(Sequence[str]):
    """The HTML the page showed after each payload (``renders[i]`` after ``payloads[i]``).

    Each entry's HTML is built when first read: a test that never looks costs nothing.
    """

    def __init__(self) -> None:
        self._trees: list[Payload] = []
        self._html: dict[int, str] = {}

    def append(self, tree: Payload) -> None:
        self._trees.append(tree)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._trees)))]
        position = range(len(self._trees))[index]  # IndexError as a list raises it
        if position not in self._html:
            self._html[position] = protocol.to_html(self._trees[position])
        return self._html[position]

    def __len__(self) -> int:
        return len(self._trees)

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self._trees)))

    def __repr__(self) -> str:
        return f"Renders({list(self)!r})"


class LiveViewTest:
    """A mounted view driven like a browser would drive it; see the package docstring."""

    def __init__(
        self, view: LiveView, *, raise_errors: bool = True, error_interval: float = 0.0
    ) -> None:
        self.view = view
        self.payloads: list[Payload] = []
        self.renders = Renders()
        self.messages: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.raise_errors = raise_errors
        self.clock = VirtualClock()
        self._loop = VirtualLoop(self.clock)
        self._pacer = runtime_hooks.StepPacer()
        self._tree: Payload | None = None
        self._raised = 0
        self._barriers_posted = 0
        self._barriers_passed = 0
        self._barrier_tree: Payload | None = None  # the page when the last barrier passed
        # The runtime and the loop reach back through weak references, so that a client nobody
        # closed is collected (no cycle) and its finalizer stops the view and closes the loop.
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
        # The loop may wait (in real time) while the view's thread runs a plain ``def``
        # handler, whose outcome comes back to the loop: count the calls the thread owes.
        client = weakref.ref(self)
        self._limiter = RateLimiter(self.clock, lambda key: _connected(client, key))
        self._real_deadline: float | None = None
        real_wait = me(self._real_wait)
        self._loop.real_wait = lambda: _real_wait_of(real_wait)
        self._runtime.start()
        self._barrier()  # the mount's own render: renders[0]
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
    #
    # Each returns the HTML right after its own message's render (before what that message's
    # handler triggered is handled); ``html`` then shows the view settled. An action whose
    # event phx-debounce holds back, or phx-throttle drops, sends nothing and returns ``html``.

    def click(self, selector: str) -> str:
        """Click the element (it must carry ``phx-click``), with its ``phx-value-*`` values."""
        el = self.element(selector)
        binding = self._binding(el, "phx-click")
        return self._limited(
            el, "click", lambda now: self._post(now, binding, "click", values(now))
        )

    def blur(self, selector: str) -> str:
        """The element loses focus: a pending phx-debounce event goes first, a phx-throttle
        window ends, then its ``phx-blur`` event (if it has one) goes."""
        el = self.element(selector)
        binding = el.get("phx-blur")
        if not (isinstance(binding, str) and binding) and not RateLimiter.limits(el):
            raise LookupError(
                f"the element {describe(el)} has no phx-blur attribute (nor a phx-debounce or "
                "phx-throttle that losing focus would act on)"
            )

        def post() -> None:
            self._limiter.blurred(element_key(el))
            if isinstance(binding, str) and binding:
                self._post(el, binding, "blur", values(el))

        return self._act(post)

    def focus(self, selector: str) -> str:
        """The element (with ``phx-focus``) gets focus."""
        el = self.element(selector)
        binding = self._binding(el, "phx-focus")
        return self._act(lambda: self._post(el, binding, "focus", values(el)))

    def window_keydown(self, key: str) -> str:
        """A key pressed anywhere on the page: every ``phx-window-keydown`` binding hears it."""
        return self._window_key(key, "keydown")

    def window_keyup(self, key: str) -> str:
        return self._window_key(key, "keyup")

    def push_hook_event(self, selector: str, event: str, payload: Mapping[str, Any]) -> str:
        """What ``this.pushEvent(event, payload)`` does in the hook on the element."""
        el = self.element(selector)
        if not el.get("phx-hook"):
            raise LookupError(f"the element {describe(el)} has no phx-hook attribute")
        return self._act(lambda: self._send("hook", event, dict(payload), _cid(el)))

    def change(self, selector: str, data: Mapping[str, Any] | None = None) -> str:
        """Change a ``phx-change`` form: its current fields, updated with ``data``.

        ``params["_target"]`` names the field that changed: the first one in ``data``, or
        ``data["_target"]`` as Phoenix's ``render_change`` takes it, a path
        (``["user", "name"]``) or a field name (``"user[name]"``). That field's control is the
        one whose phx-debounce / phx-throttle applies; a debounced change reads the form when
        it goes.
        """
        form = self._form(selector, "phx-change")
        binding = self._binding(form, "phx-change")
        data = dict(data or {})
        explicit = data.pop("_target", None)
        changes = flatten(data)
        target = target_name(explicit) if explicit is not None else next(iter(changes), None)
        control = _control(form, target) or self.element(selector)
        form_key = element_key(form)

        def post(now: Tag) -> None:
            # The form as the page holds it when the event goes (later, if debounced).
            current = form if now is control else self._locate(form_key)
            if current is None:
                return
            fields = with_changes(form_fields(current), changes)
            encoded = urlencode([*fields, *([("_target", target)] if target else [])])
            self._post(current, binding, "form", encoded)

        return self._limited(control, "change", post)

    def submit(
        self, selector: str, data: Mapping[str, Any] | None = None, *, submitter: str | None = None
    ) -> str:
        """Submit a ``phx-submit`` form: its current fields, updated with ``data``, and the
        name and value of the ``submitter`` button (a selector, as Phoenix's
        ``put_submitter``), if given. What its controls had pending (phx-debounce) is dropped:
        the submit carries the whole form."""
        form = self._form(selector, "phx-submit")
        binding = self._binding(form, "phx-submit")
        by = self._submitter(form, submitter) if submitter is not None else None
        fields = with_changes(form_fields(form, by), flatten(data or {}))
        controls = form.find_all(["input", "select", "textarea", "button"])
        self._limiter.submitted(element_key(control) for control in controls)
        return self._act(lambda: self._post(form, binding, "form", urlencode(fields)))

    def keydown(self, selector: str, key: str) -> str:
        return self._key(selector, key, "keydown")

    def keyup(self, selector: str, key: str) -> str:
        return self._key(selector, key, "keyup")

    def send_raw(self, content: Any) -> str:
        """Deliver a message exactly as a front end would send it, checked as the widget checks
        it; a malformed one is reported like any error (raised, or kept in ``errors``)."""

        def post() -> None:
            try:
                message = decode_message(content)
            except FrontendMessageError as error:
                self._runtime.post(runtime_hooks.report(error, "a message from the front end"))
            else:
                self._runtime.post(message)
            self._barrier()

        return self._act(post)

    def send_info(self, info: Any) -> str:
        """Deliver ``info`` to ``handle_info``, then settle."""

        def post() -> None:
            self._runtime.post(runtime_hooks.info(info))
            self._barrier()

        return self._act(post)

    def advance(self, ms: float) -> str:
        """Move the virtual clock ``ms`` milliseconds, firing due timers in order (the view's,
        the loop's: ``asyncio.sleep``, ``call_later``, and phx-debounce's), settling after
        each; settle."""
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
                done = run_loop(self._loop, self._until_jobs_done())
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
        self._limiter.dispose()
        self._finalizer()

    def __enter__(self) -> LiveViewTest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside: the page ---------------------------------------------------------------------

    def _soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.html, "html.parser")

    def _locate(self, key: str) -> Tag | None:
        return locate(self._soup(), key)

    def _form(self, selector: str, binding: str) -> Tag:
        el = self.element(selector)
        form = el if el.name == "form" else el.find_parent("form")
        if form is None or not form.get(binding):
            raise LookupError(f"{selector!r} is not in a form with {binding}")
        return form

    def _submitter(self, form: Tag, selector: str) -> Tag:
        page = list(form.parents)[-1]  # the parse the form is from
        found = page.select(selector)
        if len(found) != 1:
            raise LookupError(
                f"expected one submitter matching {selector!r}, found {len(found)} in:\n{self.html}"
            )
        by = found[0]
        if not is_submit_button(by) or not any(by is el for el in form.find_all(by.name)):
            raise LookupError(
                f"submitter {selector!r} is not a submit button of the form {describe(form)} "
                f'(a <button> or an <input type="submit"> inside it), got {describe(by)}'
            )
        return by

    @staticmethod
    def _binding(el: Tag, attribute: str) -> str:
        event = el.get(attribute)
        if not isinstance(event, str) or not event:
            raise LookupError(f"the element {describe(el)} has no {attribute} attribute")
        return event

    def _key(self, selector: str, key: str, kind: str) -> str:
        el = self.element(selector)
        binding = self._binding(el, f"phx-{kind}")
        wanted = el.get("phx-key")
        if isinstance(wanted, str) and wanted.lower() != key.lower():
            return self.html  # the browser's binding ignores other keys
        return self._limited(
            el,
            kind,
            lambda now: self._post(now, binding, kind, {"key": key, **values(now)}),
            pressed=key,
        )

    def _window_key(self, key: str, kind: str) -> str:
        attribute = f"phx-window-{kind}"
        bound = self._soup().select(f"[{attribute}]")
        if not bound:
            raise LookupError(f"no element has {attribute}")

        def post() -> None:
            for el in bound:
                wanted = el.get("phx-key")
                if isinstance(wanted, str) and wanted.lower() != key.lower():
                    continue
                send = partial(
                    self._post_key, binding=self._binding(el, attribute), kind=kind, key=key
                )
                self._limiter.run(element_key(el), el, kind, self._later(el, send), pressed=key)

        return self._act(post)

    # -- inside: sending ----------------------------------------------------------------------

    def _post_key(self, el: Tag, *, binding: str, kind: str, key: str) -> None:
        """A window key binding's message: the key and the element's ``phx-value-*``."""
        self._post(el, binding, kind, {"key": key, **phx_values(el)})

    def _limited(
        self, el: Tag, event_type: str, post: Callable[[Tag], None], *, pressed: str | None = None
    ) -> str:
        """Run ``post`` through ``el``'s phx-debounce / phx-throttle, as an action."""
        action = self._later(el, post)
        return self._act(
            lambda: self._limiter.run(element_key(el), el, event_type, action, pressed=pressed)
        )

    def _later(self, el: Tag, post: Callable[[Tag], None]) -> Callable[[], None]:
        """``post`` for ``el`` now, or, once the action that made it is over (a debounced
        event's timer), for ``el`` as the page holds it then (if it is still there)."""
        key = element_key(el)
        page = len(self.payloads)  # while no payload comes, the page is the one el is from

        def action() -> None:
            if len(self.payloads) == page:
                post(el)
            elif (current := self._locate(key)) is not None:
                post(current)

        return action

    def _post(self, el: Tag, binding: str, kind: str, value: Any) -> None:
        """Post the messages ``binding`` sends: one event, or a JS command's pushes."""
        cid = _cid(el)
        if not binding.startswith("["):
            self._send(kind, binding, value, cid)
            return
        for command, args in json.loads(binding):  # JS commands: only pushes reach the view
            if command != "push":
                continue
            pushed = value
            if args.get("value"):
                pushed = (
                    f"{value}&{urlencode(flatten(args['value']))}"
                    if isinstance(value, str)
                    else {**value, **args["value"]}
                )
            self._send(kind, args["event"], pushed, args.get("target", cid))

    def _send(self, kind: str, event: str, value: Any, cid: int | None) -> None:
        content = {"type": "event", "kind": kind, "event": event, "value": value, "cid": cid}
        self._runtime.post(decode_message(content))
        self._barrier()

    def _barrier(self) -> None:
        """Post a barrier: once the message before it is handled, send its render (before
        what that message's handler sent itself is handled) and note the page then."""
        done: asyncio.Future[None] = self._loop.create_future()
        self._barriers_posted += 1
        number = self._barriers_posted
        passed = weakref.WeakMethod(self._passed)
        done.add_done_callback(lambda _: _call_weak(passed, number))
        self._runtime.post(runtime_hooks.sync(done))

    def _passed(self, number: int) -> None:
        self._pacer.flush()
        self._barriers_passed = number
        self._barrier_tree = self._tree

    def _act(self, post: Callable[[], object]) -> str:
        """Post (messages with barriers), settle, and return the page as it was when the last
        barrier posted passed (or as it is, if none was posted or it has not passed)."""
        before = self._barriers_posted
        post()
        self._run_until_settled()
        posted = self._barriers_posted
        if posted > before and self._barriers_passed == posted and self._barrier_tree is not None:
            return protocol.to_html(self._barrier_tree)
        return self.html

    def _receive(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] in ("full", "diff"):
            self.payloads.append(message["rendered"])
            self._tree = protocol.merge(self._tree, message["rendered"])
            self.renders.append(self._tree)

    def _on_error(self, error: BaseException, where: str) -> None:
        self.errors.append(error)

    # -- inside: running the loop -------------------------------------------------------------

    def _settle(self) -> str:
        self._run_until_settled()
        return self.html

    def _run_until_settled(self) -> None:
        """Handle what is queued and send what changed (``_settle`` without building the HTML,
        which costs a walk of the whole page)."""
        if self._runtime.closed:
            return
        run_loop(self._loop, self._until_idle())
        while self._pacer.dirty:  # a flush that renders goes through the mailbox: settle again
            self._pacer.flush()
            run_loop(self._loop, self._until_idle())
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


def _connected(client: weakref.ref[LiveViewTest], key: str) -> bool:
    """Whether the element ``key`` names is still on the page of ``client`` (if it lives)."""
    alive = client()
    return alive is not None and alive._locate(key) is not None


def _real_wait_of(method: weakref.WeakMethod[Callable[[], float | None]]) -> float | None:
    bound = method()
    return bound() if bound is not None else None


def _cid(el: Tag) -> int | None:
    """The component an element's events go to (its ``phx-target``), if any."""
    target = el.get("phx-target")
    return int(target) if isinstance(target, str) and target.isdigit() else None


def _control(form: Tag, name: str | None) -> Tag | None:
    """The form's control named ``name`` (the changed field), if the form has one."""
    if name is None:
        return None
    for el in form.find_all(["input", "select", "textarea"]):
        if el.get("name") == name:
            return el
    return None

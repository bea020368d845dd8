"""The door to Jupyter: a view running in a kernel as an anywidget.

What travels where:

* Renders go to the front end as custom messages: a full render when a view attaches (it sends
  ``{"type": "join"}``), then numbered diffs. In a kernel they travel on the hub's comm, one
  message for what every view sent in a turn of the loop (``hub.py``), else on the view's own.
  A front end that sees a gap in the numbers joins again; so does one that hears
  ``{"type": "settled", "seq": n}`` (a view gone quiet names its last payload) and holds
  another, since IOPub may drop messages under load. Nothing of a render is a synced trait, so
  a tick costs its diff and no more.
* ``context`` is a traitlets trait that lives in the kernel only (it is not synced to the
  browser). It is updated after every message that changes the context, so ``observe`` sees
  every change; assigning it (or linking it) from notebook code assigns each of its keys, as
  ``socket.assign`` would (keys left out are kept), and re-renders the view. A
  1,000-row table in the context therefore never crosses the wire as data, only as the diff of
  its render.
* ``_html`` (synced) is the last HTML, kept current by the front end itself with ``model.set``
  but no ``save_changes``: it costs no message, and a saved notebook shows it without a kernel.
  A view made by a cell that runs headless (no cell id: nbclient, ``nbconvert --execute``,
  Voila) has the kernel keep it current instead until a front end joins, at most twice a second,
  together with the displayed output's ``text/html``, so an executed notebook records each
  view's last state for renderers with and without widgets.
* ``record(seconds)`` keeps the payloads sent for a while in ``_recording`` (synced, saved with
  the notebook's widget state), so an exported page can replay the view's updates.
* ``_children`` (synced, ``widget_serialization``) lists the Jupyter widgets the last render
  shows (``{slider}`` in a template: see ``children.py``). It changes only when that set does;
  it keeps them alive and puts them in the saved widget state beside the view.
* ``link(key, other, trait)`` ties one context key to another widget's trait, both ways; the
  whole ``context`` cannot be ``traitlets.link``-ed to a trait of another kind (see ``Link``).

The constructor returns once the view has mounted and rendered (or after ``_WAIT_SECONDS`` of a
mount that is still running), so ``Dashboard().widget.context`` is the mounted context at once.
What happens between cells (a re-run cell closes its views; headless snapshots) is in
``cells.py``; the recording an export replays, in ``recording.py``.

While no front end is attached (a closed tab, a reload in progress) the view keeps running and
its state stays current in the kernel; a front end that attaches asks for the full render.

The view runs on livewidget's event-loop thread (``runtime.loop``; its plain functions on a
thread of the view's own), so it keeps ticking while a cell blocks; comm messages arriving on
the shell (or a subshell) thread are handed to that loop.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import secrets
import sys
import threading
from types import FrameType
from typing import Any

import anywidget
import ipywidgets  # type: ignore[import-untyped]  # ipywidgets ships no type hints
import traitlets

from .. import wire
from ..children import Child, any_made, children_of, widget_child
from ..events import FrontendMessageError, decode_message
from ..runtime import Assign, Info, Join, Report, Sync, ViewRuntime, census_sources
from ..runtime.scheduling import BEAT
from ..socket import Context, unchanged
from ..template import Rendered, TemplateError, embed
from ..text import repair
from ..view import LiveView
from . import hub
from .bundle import static_text
from .cells import Snapshot, cell_views, running_cell
from .recording import Frame, Recorder

__all__ = ["Link", "LiveWidget"]

log = logging.getLogger("livewidget")

_WAIT_SECONDS = 10.0


def _size(content: Any) -> int:
    """About how many bytes a checked message from the page holds (its strings and keys)."""
    size, stack = 0, [content]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            size += len(node)
        elif isinstance(node, dict):
            size += sum(len(key) for key in node if isinstance(key, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        else:
            size += 8
    return size


# The census counts ipywidgets' open widgets: 1,000 views made and closed must leave none.
# ipywidgets 8 keeps them in the module's ``_instances`` (``Widget.widgets``, which returned it,
# is deprecated and warns).
census_sources["widgets"] = lambda: len(ipywidgets.widgets.widget._instances)


def _as_child(value: Any) -> Child:
    """A Jupyter widget (or a view: its widget) in a template field: its placeholder."""
    return widget_child(value.widget if isinstance(value, LiveView) else value)


embed(ipywidgets.Widget, _as_child)
embed(LiveView, _as_child)


def _raised_in(error: BaseException, frame: FrameType) -> bool:
    """Whether ``error`` came out of (or through) ``frame``."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame is frame:
            return True
        tb = tb.tb_next
    return False


class _ContextTrait(traitlets.Dict):
    """``LiveWidget.context``: a dict, whose keys an assignment assigns; anything else is refused
    with the ways that do work (``traitlets.link`` of the whole context to a value cannot)."""

    def validate(self, obj: Any, value: Any) -> Any:
        if not isinstance(value, dict):
            raise traitlets.TraitError(
                f"LiveWidget.context takes a dict of context keys to assign, got "
                f"{type(value).__name__} {value!r:.80}. To tie one key to another widget's "
                "trait both ways: view.widget.link('key', other_widget, trait='value'); one way: "
                "traitlets.dlink((other_widget, 'value'), (view.widget, 'context'), "
                "lambda v: {'key': v})."
            )
        return super().validate(obj, value)


class Link:
    """One context key tied to another widget's trait, both ways: ``widget.link(...)``.

    A change of the trait assigns the key through the view's mailbox (as ``widget.assign``
    does, without waiting); a change of the key sets the trait, when it differs. While
    assigns from the other widget are still queued, the view's changes of the key wait for
    them, so a slider dragged fast is never pulled back to a value it has already left.
    ``unlink()`` undoes it; closing the view unlinks it too.
    """

    def __init__(self, widget: LiveWidget, key: str, other: traitlets.HasTraits, trait: str):
        self.widget, self.key, self.other, self.trait = widget, key, other, trait
        self._lock = threading.Lock()
        self._queued = 0  # assigns from the other widget not yet handled by the view
        self._setting: int | None = None  # the thread setting the other widget's trait now

    def _start(self) -> None:
        context = self.widget.context
        if self.key in context:
            try:
                self._to_other(context[self.key])
            except traitlets.TraitError as error:
                raise traitlets.TraitError(
                    f"{self!r}: the context's {self.key!r} {error}"
                ) from None
        else:
            self._assign(getattr(self.other, self.trait))
        self.other.observe(self._other_changed, names=self.trait)

    def unlink(self) -> None:
        """Stop tying the key and the trait (both ways); safe to call twice."""
        self.other.unobserve(self._other_changed, names=self.trait)
        self.widget._links = [link for link in self.widget._links if link is not self]

    def __repr__(self) -> str:
        return (
            f"<Link {type(self.widget.view).__name__}.context[{self.key!r}] <-> "
            f"{type(self.other).__name__}.{self.trait}>"
        )

    def _other_changed(self, change: dict[str, Any]) -> None:
        if self._setting == threading.get_ident():
            return  # our own _to_other: the view has the value already
        self._assign(change["new"])

    def _assign(self, value: Any) -> None:
        runtime = self.widget._runtime
        if runtime.closed:
            return
        with self._lock:
            self._queued += 1
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        done.add_done_callback(self._handled)
        runtime.post(Assign({self.key: value}))
        runtime.post(Sync(done))

    def _handled(self, _done: Any) -> None:
        """On the view's loop: an assign from the other widget has been handled."""
        with self._lock:
            self._queued -= 1
            settled = self._queued == 0
        if settled:  # the view may have changed the key meanwhile: the other follows now
            self.context_changed(self.widget.context)

    def context_changed(self, context: dict[str, Any]) -> None:
        """On the view's loop, after a change of the context: the other widget follows."""
        if self._queued or self.key not in context:
            return
        try:
            self._to_other(context[self.key])
        except Exception as error:
            self.widget._runtime.post(Report(error, repr(self)))

    def _to_other(self, value: Any) -> None:
        if unchanged(getattr(self.other, self.trait), value):
            return
        self._setting = threading.get_ident()
        try:
            setattr(self.other, self.trait, value)
        finally:
            self._setting = None


class LiveWidget(anywidget.AnyWidget):
    """A live view as a widget: ``LiveWidget(Dashboard())``, or just display the view.

    The constructor returns once the view has mounted and rendered, so ``context`` and ``html``
    hold the mounted view at once; a mount still running after 10 s is left to finish on its
    own (the view then reports it as slow) and the constructor returns without it.
    """

    _esm = static_text("widget.js")
    _css = static_text("widget.css")

    # The names of the synced traits are wire.HTML_TRAIT, HOOKS_TRAIT and RECORDING_TRAIT.
    _html = traitlets.Unicode("").tag(sync=True)
    _hooks = traitlets.Unicode("").tag(sync=True)  # the view's phx-hook module (JS source)
    _recording: traitlets.List[Frame] = traitlets.List().tag(sync=True)
    _lw_id = traitlets.Unicode("").tag(sync=True)  # wire.ID_TRAIT: the hub's name for it
    # The Jupyter widgets the last render shows ({slider} in its template): see children.py.
    _children = traitlets.List(traitlets.Instance(ipywidgets.Widget)).tag(
        sync=True, **ipywidgets.widget_serialization
    )
    context = _ContextTrait(help="The view's context; not synced to the browser.")

    def __init__(self, view: LiveView, **kwargs: Any) -> None:
        if not isinstance(view, LiveView):
            raise TypeError(
                f"LiveWidget() takes a LiveView instance, got {view!r:.80}"
                + (" (a class: call it first)" if isinstance(view, type) else "")
            )
        super().__init__(_hooks=view.hooks, _lw_id=secrets.token_hex(8), **kwargs)
        self._id = self._lw_id
        # The kernel's hub carries this view's renders, with every other view's (hub.py);
        # None without a kernel, where the view sends on its own comm.
        self._hub: hub.Hub | None = hub.acquire(self.comm)
        self.view = view
        view._widget = self
        self._state_refused = False
        self._displays: list[Any] = []
        self._state_lock = threading.Lock()  # the snapshot and _children: loop or cell thread
        self._walked: Rendered | None = None  # the render whose children _children lists
        self._reported_children: set[int] = set()  # widgets shown twice or inside themselves
        self._links: list[Link] = []
        # The runtime picks the view's loop (livewidget.runtime.loop: the shared one by default).
        # Its repeat timers start on the kernel's beat, so that the notebook's views tick together.
        self._runtime = ViewRuntime(
            view, send=self._send_to_front, on_context=self._on_view_context, beat=BEAT
        )
        self._loop = self._runtime.loop
        self.on_msg(self._on_front_message)
        self.observe(self._context_assigned, names="context")
        self._recorder = Recorder(
            self._loop, request_full=lambda: self._runtime.post(Join()), publish=self._publish
        )
        in_cell, cell_id = running_cell()
        # Made by a cell that runs headless (no cell id): until a page joins, the kernel keeps
        # the output's HTML current itself. Under a live front end it never touches the output,
        # which would make the page rebuild the view (the join can wait while the cell runs).
        self._snapshots = Snapshot(
            self._loop,
            headless=in_cell and cell_id is None,
            rendered=lambda: None if self.closed else self._runtime.rendered,
            wait=lambda timeout: self._wait(timeout, raises=False),
            children=self._shown_children,
            show=self._set_snapshot,
        )
        self._runtime.start()
        cell_views.register(self, cell_id, self._snapshots)
        # The mount and its render: `context` holds them from now on.
        self._wait(_WAIT_SECONDS, raises=False)

    # -- from notebook code -------------------------------------------------------------------

    def assign(self, **values: Any) -> None:
        """Assign context values from notebook code; returns once the view has rendered them."""
        self._runtime.post(Assign(values))
        self._wait()

    def send_info(self, info: Any) -> None:
        """Deliver ``info`` to the view's ``handle_info``; returns once it has been handled."""
        self._runtime.post(Info(info))
        self._wait()

    def link(self, key: str, other: traitlets.HasTraits, trait: str = "value") -> Link:
        """Tie the context's ``key`` to ``other``'s ``trait``, both ways; returns the ``Link``
        (``link.unlink()`` undoes it).

        At once, the trait takes the key's value, or, if the context has no such key, the key
        takes the trait's. Then a change of either sets the other, when it differs. A change of
        the trait reaches the view through its mailbox (``widget.context`` has it once the view
        has handled it, as ``view.widget.html`` shows).
        """
        if not isinstance(key, str) or not key:
            raise TypeError(f"link() takes a context key (a non-empty str) first, got {key!r:.80}")
        if not isinstance(other, traitlets.HasTraits) or not other.has_trait(trait):
            traits = (
                ", ".join(sorted(n for n in other.trait_names() if not n.startswith("_")))
                if isinstance(other, traitlets.HasTraits)
                else ""
            )
            raise TypeError(
                f"link({key!r}, ..., trait={trait!r}) needs a widget (a traitlets.HasTraits) "
                f"with a trait {trait!r}, got {type(other).__name__} {other!r:.80}"
                + (f" (its traits: {traits})" if traits else "")
            )
        self._wait()
        link = Link(self, key, other, trait)
        link._start()
        self._links.append(link)
        return link

    def observe(self, handler: Any, names: Any = traitlets.All, type: Any = "change") -> None:
        """As ``HasTraits.observe``; a ``traitlets.link`` of ``context`` that failed to start
        is refused here, whole (traitlets would leave its observers, failing on every render)."""
        owner = getattr(handler, "__self__", None)
        failed = sys.exc_info()[1]
        if (
            isinstance(owner, traitlets.link)
            and isinstance(failed, traitlets.TraitError)
            and (names == "context" or (isinstance(names, (list, tuple)) and "context" in names))
            and _raised_in(failed, sys._getframe(1))
        ):
            # traitlets.link's first copy failed and it now observes both ends regardless (in a
            # `finally`): undo the end it has observed already, and observe nothing here.
            for obj, name, fn in (
                (owner.source[0], owner.source[1], owner._update_target),
                (owner.target[0], owner.target[1], owner._update_source),
            ):
                if obj is not self:
                    with contextlib.suppress(ValueError):  # not observed (yet)
                        obj.unobserve(fn, names=name)
            other, name = owner.source if owner.source[0] is not self else owner.target
            raise traitlets.TraitError(
                f"traitlets.link cannot tie {other.__class__.__name__}.{name} to the whole "
                f"LiveWidget.context (a dict of every context key): {failed} Link one key "
                f"instead, both ways: view.widget.link('key', other_widget, trait={name!r})."
            ) from None
        super().observe(handler, names=names, type=type)

    @property
    def html(self) -> str:
        """The HTML of the view's last good render."""
        self._wait()
        rendered = self._runtime.rendered
        return rendered.to_html() if rendered is not None else ""

    def close(self) -> None:
        """Stop the view (its timers, tasks, subscriptions and thread) and close the widget,
        with the ``Layout`` widget that ipywidgets made for it; its links are undone."""
        runtime = getattr(self, "_runtime", None)  # absent if __init__ failed early
        if runtime is not None:
            runtime.close()
        if getattr(self, "_hub", None) is not None:
            self._hub = None
            hub.release()
        for link in list(getattr(self, "_links", ())):
            link.unlink()
        layout = self._trait_values.get("layout")  # made at construction; never made here
        super().close()
        if isinstance(layout, ipywidgets.Widget):
            layout.close()

    @property
    def closed(self) -> bool:
        runtime = getattr(self, "_runtime", None)
        return runtime is None or runtime.closed

    def __repr__(self) -> str:
        state = "closed" if self.closed else "live"
        return f"<LiveWidget of {self.view!r}, {state}>"

    def _wait(self, timeout: float = _WAIT_SECONDS, *, raises: bool = True) -> bool:
        """Wait until the view has handled everything posted so far (and rendered it); True if
        it has. From the view's own code (its loop or thread) this would wait for itself: it
        returns at once."""
        if self._runtime.closed or self._runtime.in_view_code():
            return True
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._runtime.post(Sync(done))
        try:
            done.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            if not raises:
                return False
            raise TimeoutError(
                f"{type(self.view).__name__} is still busy after {timeout:.0f} s "
                "(a handler that blocks?); the message stays queued."
            ) from None
        return True

    # -- the context trait --------------------------------------------------------------------

    def _on_view_context(self, context: Context) -> None:
        value = dict(context)
        if self._context_observed():
            self.context = value  # from the view's own code: _context_assigned ignores it
        else:
            # Nobody listens (the common case, a view ticking every second): the value is set as
            # traitlets' set() would, without its round of notifications that nobody hears.
            self._trait_values["context"] = value
        for link in list(self._links):
            link.context_changed(value)

    def _context_observed(self) -> bool:
        """Whether anything but this widget's own ``_context_assigned`` observes ``context``
        (an ``observe``, ``traitlets.link`` / ``dlink``, ``interactive``...)."""
        notifiers = self._trait_notifiers
        for name in ("context", traitlets.All):
            for handler in notifiers.get(name, {}).get("change", ()):
                if handler != self._context_assigned:
                    return True
        return False

    def _context_assigned(self, change: dict[str, Any]) -> None:
        if self._runtime.in_view_code():
            return
        self._runtime.post(Assign(dict(change["new"])))

    # -- the front end ------------------------------------------------------------------------

    def _send_to_front(self, message: dict[str, Any]) -> None:
        if self.comm is not None:
            carrier = self._hub
            if carrier is not None and not carrier.is_open:  # closed (Widget.close_all()): anew
                carrier = self._hub = hub.renew()
            if carrier is not None:
                carrier.post(self._id, message, self._loop)
            else:
                self.send(message)
        if message.get(wire.TYPE) in (wire.MSG_FULL, wire.MSG_DIFF):
            try:  # the message went: nothing here may make it look as if it had not
                self._update_children(self._runtime.rendered)
            except Exception as error:  # a child closed meanwhile cannot be serialized
                self._runtime.post(Report(error, "listing the widgets the view shows"))
            self._recorder.sent(message)
            self._snapshots.rendered_sent()

    def _update_children(self, rendered: Rendered | None) -> None:
        """Keep ``_children`` at the widgets ``rendered`` shows; set only when they change."""
        if rendered is None or rendered is self._walked or not (any_made() or self._children):
            return
        shown: list[Any] = []
        for child in children_of(rendered):
            widget = child.widget
            if widget is self or any(widget is seen for seen in shown):
                self._report_child(widget, twice=widget is not self)
            elif widget.comm is not None:  # a closed widget has no model left to show
                shown.append(widget)
        with self._state_lock:
            self._walked = rendered
            current = self._children
            if len(shown) != len(current) or any(a is not b for a, b in zip(shown, current)):
                self._children = shown

    def _report_child(self, widget: Any, *, twice: bool) -> None:
        if id(widget) in self._reported_children:
            return
        self._reported_children.add(id(widget))
        name = type(self.view).__name__
        problem = (
            f"{widget!r:.80} is shown at two places in one render of {name}; a widget shows "
            "at one place per view (its placeholder's id is its model id). Show a second "
            "widget, tied to the first with ipywidgets.jslink((a, 'value'), (b, 'value'))."
            if twice
            else f"{name} shows its own widget inside itself; it is left out"
        )
        self._runtime.post(Report(TemplateError(problem), "render"))

    def _shown_children(self, rendered: Rendered) -> list[Any]:
        self._update_children(rendered)
        return list(self._children)

    def _snapshot_now(self, deadline: float) -> None:
        """Headless, at a cell's end: see ``cells.Snapshot.now``."""
        self._snapshots.now(deadline)

    def _set_snapshot(self, html: str) -> None:
        html = repair(html)
        with self._state_lock:
            if html == self._html:
                return
            if not self._displays:  # shown inside a container (HBox...), or not shown yet
                self._html = html
            for handle in self._displays:
                handle.update(self._bundle(html), raw=True)

    def _on_front_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        try:
            message = decode_message(content)
        except FrontendMessageError as error:
            self._runtime.post(Report(error, "a message from the front end"))
            return
        if content[wire.TYPE] == wire.MSG_JOIN:  # checked by decode_message
            self._snapshots.joined = True
        self._runtime.post_from_page(message, _size(content))

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """The page asks to change synced traits: refused, every one of them.

        Every synced trait here is the kernel's (``_hooks`` is a JavaScript module the page
        imports, ``_html`` and ``_recording`` are saved with the notebook); the real front end
        never writes one (its ``model.set`` calls are not sent). A forged write would otherwise
        be taken, and echoed by ipywidgets to every other page showing the widget.
        """
        if not self._state_refused:
            self._state_refused = True
            self._runtime.post(
                Report(
                    FrontendMessageError(
                        f"the page tried to set {sorted(sync_data)!r:.120}; the widget's "
                        "state is the kernel's, so the change was ignored"
                    ),
                    "a message from the front end",
                )
            )

    # -- recording ----------------------------------------------------------------------------

    def record(self, seconds: float = 10.0, *, wait: bool = False) -> None:
        """Record what the view sends for ``seconds``, for an exported page to replay.

        The recording (a full render, then each diff with its time) is kept in the notebook's
        widget state when the notebook is saved; ``livewidget export`` plays it back in a loop.
        With ``wait=True`` this returns when the recording is done (headless execution keeps
        only what happens while a cell runs, so the recording cell should wait).
        """
        self._recorder.start(seconds)
        if wait and not self._runtime.on_loop_thread():
            self._recorder.done.wait(seconds + _WAIT_SECONDS)

    def _publish(self, frames: list[Frame]) -> None:
        self._recording = frames

    # -- display ------------------------------------------------------------------------------

    def _bundle(self, html: str | None = None) -> dict[str, Any]:
        """The display's mime bundle: the widget, and its HTML for renderers without widgets."""
        bundle = super()._repr_mimebundle_()
        data = dict(bundle[0] if isinstance(bundle, tuple) else bundle or {})
        data["text/html"] = self._html = repair(self.html if html is None else html)
        return data

    def _ipython_display_(self) -> None:
        from IPython.display import display

        handle = display(self._bundle(), raw=True, display_id=True)  # type: ignore[no-untyped-call]  # IPython ships untyped
        if handle is not None:
            self._displays.append(handle)

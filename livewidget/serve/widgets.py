"""Jupyter widgets in a served page: anywidget widgets inside a view, synced over its WebSocket.

In a notebook, a widget in a template field (``{chart}``, a plotly ``FigureWidget``) is placed
by Jupyter's widget manager (livewidget/children.py). A served page has no widget manager and
no kernel; this module is the little of both that widgets written for anywidget need, which is
what the charts users hold are: plotly's ``FigureWidget`` and altair's ``JupyterChart`` are
anywidgets, as is any widget written with ``anywidget.AnyWidget``.

**The kernel's half.** ipywidgets talks to its page through a *comm* (the ``comm`` package).
In a process without a kernel, ``comm.create_comm`` makes a ``DummyComm`` that drops every
message; ``install()`` (called by ``app()``) puts ``_ServedComm`` in its place, which sends what
the widget says to the pages that show it. A widget made before that (at import) gets one when
a page first shows it. ipywidgets itself is never imported here: a widget exists only once its
module is loaded.

**One page's widgets** (``WidgetHost``, one per socket, made when the first widget shows).
Before each full render or diff goes out, the host lists the widgets the render places
(``children_of``): to each one new to the page it sends ``open`` (the widget's state and the URL
of its ESM module), and ``close`` for one the render no longer shows. Then the widget's own
messages (``update``, ``custom``) go to every page showing it, as they go to every notebook
view of a widget.

**The ESM** (anywidget's ``_esm``: plotly's is 5 MB) is not sent over the socket: it is served
at ``/_livewidget/esm/<sha256>.js``, named by its content, once for every page and cached by
the browser. Only the modules of widgets a page was shown are served (at most ``MAX_ESMS`` are
kept; one evicted is registered again by the next ``open``).

**From the page**, ``{"type": "widget", "id", "method": "update" | "custom", ...}`` is checked
(the id must be a widget this page shows; an update may not set the widget's module, its
CSS or a read-only trait, and keys that are no synced trait are skipped, as ipywidgets skips
them; buffers are base64) and then runs as the view's own code (``Call`` in the view's
mailbox, within the page's share of it): the widget's observers may ``socket.assign`` as a
handler does, and an error shows in the view.

**Shared widgets are read-only from a page.** A widget made at import (module level) or shown
by several views at once is shown to every page, but a page's change to it is not applied:
one user's page must not change what another sees. A widget made in a view's code (``mount``,
a handler) belongs to that view, and is closed with the last view that showed it, so that a
server that runs for days does not keep one per tab that ever opened.

ipywidgets' common controls (``IntSlider``, ``Dropdown``, ``Text``, ``Checkbox``, ``Button``...,
``_CONTROLS``) are drawn by the page itself as plain form elements (js/src/controls.ts): the
``open`` names the control (``builtin``) instead of a module, and a page may set only what
Jupyter's own front end sets on it (``value``, or ``index``). So are the boxes (``HBox``,
``VBox``, ``Tab``...), which hold other widgets: a page is shown the *tree* of each widget a
render places (``_tree``: a box's ``children``, a widget's ``layout``, a control's ``style``),
what a widget holds opened before it; a box given new ``children`` in Python has the new ones
opened before its update and the ones gone closed after (``WidgetHost.reshape``). Other
widgets that are not anywidgets (an ``Output``, third-party Jupyter widgets) need Jupyter's
widget manager: a served page shows a note in their place that says so.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import itertools
import json
import logging
import math
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import comm
from comm.base_comm import BaseComm
from starlette.requests import Request
from starlette.responses import Response

from .. import rich, wire
from ..children import any_made, children_of, widget_child
from ..events import FrontendMessageError
from ..runtime import Call, Report, ViewRuntime
from ..template import Rendered

__all__ = ["MAX_ESMS", "WidgetHost", "esm_endpoint", "install"]

log = logging.getLogger("livewidget")

ESM_PATH = "esm/"  # under the app's asset prefix
MAX_ESMS = 64  # ESM modules kept for the pages (content-named; an evicted one comes back)
MAX_BUFFERS = 256  # binary buffers in one message from the page
MAX_PATH = 32  # the depth of a buffer's place in the state
_MODEL_ID = re.compile(r"[0-9a-f]{8,64}")
_NAME = re.compile(r"[0-9a-f]{64}\.js")

# Traits a page may not set, whatever the widget syncs: its code and what loads it.
_FIXED = frozenset(
    {
        "layout",  # (widgets of their own, which no Jupyter page sets)
        "style",
        "_esm",
        "_css",
        "_anywidget_id",
        "_model_module",
        "_model_module_version",
        "_model_name",
        "_view_module",
        "_view_module_version",
        "_view_name",
    }
)

# ipywidgets' controls a served page draws itself (js/src/controls.ts), by model name, with the
# keys a page may set on each: what Jupyter's own front end sets.
_CONTROLS: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        [
            "IntSliderModel",
            "FloatSliderModel",
            "IntTextModel",
            "FloatTextModel",
            "TextModel",
            "TextareaModel",
            "CheckboxModel",
            "ToggleButtonModel",
            "BoundedIntTextModel",
            "BoundedFloatTextModel",
            "PasswordModel",
            "ComboboxModel",
            "IntRangeSliderModel",  # (value: the pair, which ipywidgets orders and bounds)
            "FloatRangeSliderModel",
            "DatePickerModel",  # (value: {year, month, date}, as ipywidgets serializes it)
            "ColorPickerModel",  # (value: a colour, which ipywidgets' Color trait checks)
            "FloatLogSliderModel",  # (value: base ** the exponent the page's slider is at)
        ],
        frozenset({"value"}),
    ),
    **dict.fromkeys(
        [
            "DropdownModel",
            "RadioButtonsModel",
            "SelectModel",
            "SelectMultipleModel",  # (index: a tuple)
            "ToggleButtonsModel",
            "SelectionSliderModel",
        ],
        frozenset({"index"}),
    ),
    "ButtonModel": frozenset(),  # its click is a custom message
    "LabelModel": frozenset(),
    # HTML from Python, drawn as HTML as Jupyter draws it: no page sets it (js/src/controls.ts)
    "HTMLModel": frozenset(),
    "HTMLMathModel": frozenset(),
    "ImageModel": frozenset(),
    "ValidModel": frozenset(),
    "PlayModel": frozenset({"value", "playing", "repeat"}),  # the page runs its animation
    "IntProgressModel": frozenset(),
    "FloatProgressModel": frozenset(),
    **dict.fromkeys(["BoxModel", "HBoxModel", "VBoxModel", "GridBoxModel"], frozenset()),
    **dict.fromkeys(["TabModel", "AccordionModel"], frozenset({"selected_index"})),
    "StackModel": frozenset(),  # (its selected_index is Python's to set)
}
_CONTROLS_MODULE = "@jupyter-widgets/controls"
# The containers among them: the page draws the widgets of their ``children`` inside them.
_CONTAINERS = frozenset(
    {
        "BoxModel",
        "HBoxModel",
        "VBoxModel",
        "GridBoxModel",
        "TabModel",
        "AccordionModel",
        "StackModel",
    }
)
# Widgets a page draws as part of another, never placed alone: a widget's ``layout`` (its CSS
# box) and a control's ``style`` (colours, the description's width). A page sets nothing on
# them; their ``None`` traits (most of a layout's 40) are left out of their ``open``.
_LAYOUT = ("@jupyter-widgets/base", "LayoutModel")
_STYLE_SUFFIX = "StyleModel"  # DescriptionStyleModel, SliderStyleModel, ButtonStyleModel...
MAX_TREE = 1_000  # widgets one page's view shows, boxes' children, layouts and styles included
MAX_DEPTH = 32  # boxes inside boxes

# Each comm and each page's host takes a number from one counter: a widget whose comm came
# after a host was made was made while that page was open (in its view's mount, a handler).
_serial = itertools.count(1)


# -- the kernel's half: a comm per widget ------------------------------------------------------


class _ServedComm(BaseComm):
    """A widget's comm in a served process: what the widget sends goes to the pages showing it."""

    def __init__(self, *args: Any, born: int | None = None, **kwargs: Any) -> None:
        self.pages: set[WidgetHost] = set()
        self.lock = threading.Lock()
        self.born = next(_serial) if born is None else born
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        with self.lock:
            pages = list(self.pages)
            if msg_type == "comm_close":
                self.pages.clear()
        if not pages:
            return
        if msg_type == "comm_close":
            for page in pages:
                page.forget(self.comm_id)
            return
        message = _to_page(self.comm_id, data, buffers) if msg_type == "comm_msg" else None
        if message is None:
            return
        reshapes = message["method"] == "update" and not _TREE_KEYS.isdisjoint(message["state"])
        for page in pages:
            try:
                if reshapes:  # a box's new children, a new layout: opened before the update
                    page.reshape(message)
                else:
                    page.send(message)
            except Exception:  # one page's failure must not keep the others, or the caller
                log.exception("livewidget serve: sending %s's change to a page failed", self)


def _create_comm(*args: Any, **kwargs: Any) -> BaseComm:
    return _ServedComm(*args, **kwargs)


def _to_page(model_id: str, data: Any, buffers: Any) -> dict[str, Any] | None:
    """A message of the widget's for its pages; None for what a page does not need."""
    if not isinstance(data, dict):
        return None
    method = data.get("method")
    if method == "update":
        state = dict(data.get("state") or {})
        state.pop("_esm", None)  # the module a page loaded stays (no hot reload here)
        paths = data.get("buffer_paths") or []
        if not state and not paths:  # (a binary value is in the paths alone)
            return None
        return {
            wire.TYPE: wire.MSG_WIDGET,
            "id": model_id,
            "method": "update",
            "state": state,
            "buffer_paths": paths,
            "buffers": _encode_buffers(buffers),
        }
    if method == "custom":
        return {
            wire.TYPE: wire.MSG_WIDGET,
            "id": model_id,
            "method": "custom",
            "content": data.get("content"),
            "buffers": _encode_buffers(buffers),
        }
    # "echo_update": only the page that changed a widget may change it, and it has the value
    return None


def _encode_buffers(buffers: Any) -> list[str]:
    return [base64.b64encode(bytes(buffer)).decode("ascii") for buffer in buffers or []]


def install() -> None:
    """Let ``app()``'s process show widgets: a widget in a field becomes a placeholder, and a
    widget made from now on talks through a ``_ServedComm``. A process where a kernel has set
    its own comms (``app()`` called inside a notebook) keeps them."""
    rich.widget_door = widget_child
    if comm.create_comm is comm._create_comm:  # the package's default: no kernel here
        comm.create_comm = _create_comm


def _served_comm(widget: Any) -> _ServedComm | None:
    """The widget's comm, made a ``_ServedComm`` if it was a ``DummyComm`` (a widget made before
    ``install()``: shared by every page); None if it is a kernel's."""
    carrier = widget.comm
    if isinstance(carrier, _ServedComm):
        return carrier
    if not isinstance(carrier, comm.DummyComm):
        return None
    served = _ServedComm(comm_id=carrier.comm_id, primary=False, born=0)
    carrier.close()  # unregisters the dummy (and sends nothing)
    comm.get_comm_manager().register_comm(served)  # so that widget.close() can unregister it
    widget.comm = served  # ipywidgets hooks its message handler onto it
    return served


# -- the ESM modules -----------------------------------------------------------------------------

_esms: OrderedDict[str, bytes] = OrderedDict()  # name -> module, the least recently opened first
_named: dict[int, tuple[str, str]] = {}  # id(text) -> (text, name): hash each text once
_esm_lock = threading.Lock()


def _esm_name(text: str) -> str:
    with _esm_lock:
        known = _named.get(id(text))
        if known is not None and known[0] is text:
            name = known[1]
        else:
            data = text.encode("utf-8", "surrogatepass")
            name = hashlib.sha256(data).hexdigest() + ".js"
            if len(_named) >= MAX_ESMS:
                _named.clear()
            _named[id(text)] = (text, name)
            _esms[name] = data
        if name not in _esms:
            _esms[name] = text.encode("utf-8", "surrogatepass")
        _esms.move_to_end(name)
        while len(_esms) > MAX_ESMS:
            _esms.popitem(last=False)
    return name


async def esm_endpoint(request: Request) -> Response:
    """``/_livewidget/esm/<sha256>.js``: the module of a widget a page was shown; nothing else."""
    name = request.path_params["name"]
    body = _esms.get(name) if _NAME.fullmatch(name) else None
    if body is None:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=31536000, immutable",  # named by its content
    }
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


# -- one page's widgets ------------------------------------------------------------------------


def _close_made_since(widget: Any, started: int, depth: int = 0) -> None:
    """Close ``widget`` if it was made after ``started`` and no page shows it, and so the
    widgets it holds in its synced traits (an ipywidgets control's ``layout`` and ``style``,
    which ``widget.close()`` leaves open)."""
    carrier = widget.comm
    if not isinstance(carrier, _ServedComm) or carrier.born <= started or carrier.pages:
        return
    held = []
    if depth < 8:
        for key in widget.keys:
            value = getattr(widget, key, None)
            for item in value if isinstance(value, list | tuple) else (value,):
                if hasattr(item, "comm") and hasattr(item, "keys") and item is not widget:
                    held.append(item)
    try:
        widget.close()
    except Exception:  # a widget's own close failing must not stop the others'
        log.exception("livewidget serve: closing %r failed", widget)
    for item in held:
        _close_made_since(item, started, depth + 1)


class WidgetHost:
    """The widgets one page shows, for one socket's life (see the module's docstring)."""

    __slots__ = (
        "__weakref__",
        "_base",
        "_cut",
        "_lock",
        "_out",
        "_placed",
        "_runtime",
        "_seen",
        "_send_text",
        "_shown",
        "_walked",
        "started",
    )

    def __init__(self, runtime: ViewRuntime, send_text: Callable[[str], None], base: str) -> None:
        self._runtime = runtime
        self._send_text = send_text  # safe from any thread
        self._base = base  # the app's root path, for the ESM's URL
        self._placed: dict[str, Any] = {}  # model id -> widget, as the render places them
        self._shown: dict[str, Any] = {}  # those and what they hold (_tree): the page has them
        self._cut: set[str] = set()  # widgets beyond the bounds: the page was sent a note
        self._seen: dict[str, Any] = {}  # every widget the page was shown, until it closes
        self._walked: Rendered | None = None
        # The render (on the loop) and a box's new children (on the thread that set them)
        # both change what the page is shown; what they send goes out in the order they
        # decided it (``_out``, emptied on the loop), whichever thread each runs on.
        self._lock = threading.RLock()
        self._out: deque[str] = deque()
        self.started = next(_serial)  # a widget whose comm is younger was made meanwhile

    # the socket's side

    def sync(self, rendered: Rendered | None) -> None:
        """Before a full render or a diff of ``rendered`` goes out (on the loop): open the
        widgets it shows that the page has not, close those it no longer shows."""
        if rendered is None or rendered is self._walked or not (any_made() or self._shown):
            return
        self._walked = rendered
        now: dict[str, Any] = {}
        for child in children_of(rendered):
            now.setdefault(child.model_id, child.widget)
        with self._lock:
            if now.keys() != self._placed.keys():  # (else what they hold changes by reshape)
                self._placed = now
                self._reconcile(None)
        if self._out:
            self._flush()  # what was decided before the render goes before it

    def reshape(self, update: dict[str, Any]) -> None:
        """A shown widget's update that may change what it holds (a box's ``children``): the
        page is shown the widgets new to it, then the update, then told to drop those gone.
        The update carries what the widget holds *now* (two threads' changes may reach here
        in either order; the page must end with the last)."""
        with self._lock:
            widget = self._shown.get(update["id"])
            if widget is not None:
                keys = [key for key in update["state"] if key in _TREE_KEYS]
                try:
                    now = widget.get_state(keys)
                except Exception:  # (a child closed meanwhile: the update as it was made)
                    now = {}
                update = {**update, "state": {**update["state"], **now}}
            self._reconcile(update)

    def _reconcile(self, update: dict[str, Any] | None) -> None:
        """Open what the page's tree gained, send ``update``, close what it lost. Again until
        nothing more is new: a box whose children change while it opens (on another thread)
        sends the new ones in its own state, before its comm knows the page."""
        before = self._shown
        opened: set[str] = set()
        tree: dict[str, Any] = {}
        for _ in range(8):
            tree, cut = _tree(self._placed)
            new = [i for i in tree if i not in before and i not in opened]
            for model_id in reversed(new):  # what a widget holds before the widget
                self._open(model_id, tree[model_id])
                opened.add(model_id)
            for model_id in cut.keys() - self._cut:
                self._note(model_id, cut[model_id], "limit")
            self._cut = set(cut)
            if not new:
                break
        self._shown = tree
        if update is not None:
            self.send(update)
        for model_id, widget in [(i, w) for i, w in before.items() if i not in tree]:
            self._hide(model_id, widget)

    def _open(self, model_id: str, widget: Any) -> None:
        self._seen[model_id] = widget
        try:
            carrier = _served_comm(widget)
            control = _control(widget)
            if carrier is None or ("_esm" not in widget.keys and control is None):
                self._note(model_id, widget, "kernel" if carrier is None else "manager")
                return
            # (loaded: the widget exists; ipywidgets ships no type hints)
            from ipywidgets.widgets.widget import _remove_buffers  # type: ignore[import-untyped]

            with carrier.lock:  # no update of the widget's slips between its state and pages
                state = widget.get_state()
                esm = state.pop("_esm", "")
                state, paths, buffers = _remove_buffers(state)
                carrier.pages.add(self)
        except Exception as error:  # a trait that does not serialize, a widget closed meanwhile
            self._runtime.post(Report(error, f"showing {type(widget).__name__} ({model_id})"))
            self._note(model_id, widget, "error")
            return
        if _attached(control):
            state = {k: v for k, v in state.items() if v is not None and not k.startswith("_")}
        url = None if control else f"{self._base}/_livewidget/{ESM_PATH}{_esm_name(str(esm))}"
        self.send(
            {
                wire.TYPE: wire.MSG_WIDGET,
                "id": model_id,
                "method": "open",
                "esm": url,
                "builtin": control,
                "name": type(widget).__name__,
                "state": state,
                "buffer_paths": paths,
                "buffers": _encode_buffers(buffers),
            }
        )

    def _note(self, model_id: str, widget: Any, needs: str) -> None:
        """Open ``widget`` on the page as a note that says why it does not show: it ``needs``
        a kernel, Jupyter's widget manager, fewer widgets (``limit``), or it failed (``error``)."""
        note = {"name": type(widget).__name__, "needs": needs, "esm": None}
        self.send({wire.TYPE: wire.MSG_WIDGET, "id": model_id, "method": "open", **note})

    def _hide(self, model_id: str, widget: Any) -> None:
        carrier = widget.comm
        if isinstance(carrier, _ServedComm):
            with carrier.lock:
                carrier.pages.discard(self)
        self.send({wire.TYPE: wire.MSG_WIDGET, "id": model_id, "method": "close"})

    def close(self) -> None:
        """The socket closed: the page shows nothing more; widgets made while it was open and
        shown by no other page are closed (``widget.close()``)."""
        with self._lock:
            self._placed = self._shown = {}
            seen, self._seen = self._seen, {}
            self._out.clear()
        for widget in seen.values():
            carrier = widget.comm
            if isinstance(carrier, _ServedComm):
                with carrier.lock:
                    carrier.pages.discard(self)
            _close_made_since(widget, self.started)

    # the widgets' side (any thread)

    def send(self, message: dict[str, Any]) -> None:
        """A widget message for the page, behind those decided before it (any thread)."""
        try:
            text = _encode(message)
        except (TypeError, ValueError) as error:
            self._runtime.post(Report(error, f"sending a widget's state ({message.get('id')})"))
            return
        with self._lock:
            self._out.append(text)
        loop = self._runtime.loop
        try:
            here = asyncio.get_running_loop() is loop
        except RuntimeError:
            here = False
        if here:
            self._flush()
        else:
            loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        """On the loop: the page's widget messages, in the order they were decided."""
        with self._lock:
            texts = list(self._out)
            self._out.clear()
        for text in texts:
            self._send_text(text)

    def forget(self, model_id: str) -> None:
        """The widget closed: the page drops its model (a placeholder still shown stays empty)."""
        self.send({wire.TYPE: wire.MSG_WIDGET, "id": model_id, "method": "close"})

    # the page's side

    def receive(self, content: dict[str, Any], size: int) -> None:
        """A message from the page for one of its widgets: checked here, run as view code."""
        try:
            model_id, method, payload = _check(content)
            widget = self._shown.get(model_id)
            if widget is None:
                raise FrontendMessageError(
                    f"the page sent a message for the widget {model_id}, which this view does "
                    "not show"
                )
            carrier = widget.comm
            if not isinstance(carrier, _ServedComm):
                raise FrontendMessageError(f"the widget {model_id} takes no messages here")
            with carrier.lock:
                shared = carrier.born < self.started or carrier.pages != {self}
            if shared:
                _warn_shared(widget)
                return
            if method == "update":
                _check_keys(widget, payload[0])
        except FrontendMessageError as error:
            self._runtime.post(Report(error, "a message from the page"))
            return
        where = f"{type(widget).__name__}'s {method} from the page"
        self._runtime.post_from_page(Call(lambda: _apply(widget, method, payload), where), size)


_warned: set[int] = set()


def _warn_shared(widget: Any) -> None:
    if id(widget) not in _warned and len(_warned) < 10_000:
        _warned.add(id(widget))
        log.warning(
            "livewidget serve: a page changed %s, a widget shared by every page (made at import, "
            "or shown by several views); the change is not applied. Make the widget in the "
            "view's mount for each page to have its own.",
            type(widget).__name__,
        )


def _check(content: dict[str, Any]) -> tuple[str, str, tuple[Any, ...]]:
    """The shape of a widget message from the page; ``FrontendMessageError`` if it is not."""
    model_id, method = content.get("id"), content.get("method")
    if not isinstance(model_id, str) or not _MODEL_ID.fullmatch(model_id):
        raise FrontendMessageError(f"a widget message names the widget {model_id!r:.80}")
    buffers = _decode_buffers(content.get("buffers", []))
    if method == "update":
        state, paths = content.get("state"), content.get("buffer_paths", [])
        if not isinstance(state, dict) or not all(isinstance(key, str) for key in state):
            raise FrontendMessageError("a widget update's state is not an object")
        if not isinstance(paths, list) or len(paths) != len(buffers):
            raise FrontendMessageError("a widget update has not one place per buffer")
        for path in paths:
            if (
                not isinstance(path, list)
                or not 0 < len(path) <= MAX_PATH
                or not all(type(step) in (str, int) for step in path)
            ):
                raise FrontendMessageError(f"a widget update's buffer place {path!r:.80}")
        return model_id, method, (state, paths, buffers)
    if method == "custom":
        return model_id, method, (content.get("content"), buffers)
    raise FrontendMessageError(
        f"a widget message's method is {method!r:.40}; expected update or custom"
    )


def _decode_buffers(buffers: Any) -> list[bytes]:
    if (
        not isinstance(buffers, list)
        or len(buffers) > MAX_BUFFERS
        or not all(isinstance(b, str) for b in buffers)
    ):
        raise FrontendMessageError(
            f"a widget message's buffers are a list of at most {MAX_BUFFERS} base64 strings"
        )
    try:
        return [base64.b64decode(b, validate=True) for b in buffers]
    except binascii.Error as error:
        raise FrontendMessageError(f"a widget message's buffer is not base64 ({error})") from None


def _control(widget: Any) -> str | None:
    """The model name of one of ipywidgets' controls (or boxes, layouts, styles) a served page
    draws itself, else None."""
    name = getattr(widget, "_model_name", None)
    module = getattr(widget, "_model_module", None)
    if not isinstance(name, str):
        return None
    if module == _CONTROLS_MODULE and (name in _CONTROLS or name.endswith(_STYLE_SUFFIX)):
        return name
    if (module, name) == _LAYOUT:
        return name
    return None


def _attached(control: str | None) -> bool:
    """A layout or a style: drawn as part of the widget that holds it."""
    return control is not None and (control == _LAYOUT[1] or control.endswith(_STYLE_SUFFIX))


def _held(widget: Any) -> list[Any]:
    """The widgets a page draws as part of ``widget``: a box's ``children``, and the
    ``layout`` and ``style`` of a widget it draws (not of one it shows a note for)."""
    control = _control(widget)
    keys = widget.keys
    if control is None and "_esm" not in keys:
        return []
    held = list(getattr(widget, "children", ())) if control in _CONTAINERS else []
    held += [getattr(widget, key, None) for key in ("layout", "style") if key in keys]
    return [item for item in held if _is_widget(item)]


def _is_widget(value: Any) -> bool:
    return hasattr(value, "model_id") and hasattr(value, "keys") and hasattr(value, "comm")


def _tree(placed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The widgets a page shows for ``placed`` (model id -> widget, as the render places them):
    those and, depth first, what each holds (``_held``), each once, parents before what they
    hold; at most ``MAX_TREE`` widgets and ``MAX_DEPTH`` boxes deep. Second, the widgets left
    out by those bounds (as many again at most): their places on the page get a note."""
    tree: dict[str, Any] = {}
    cut: dict[str, Any] = {}
    stack: list[tuple[str, Any, int]] = [(i, w, 0) for i, w in reversed(list(placed.items()))]
    while stack:
        model_id, widget, depth = stack.pop()
        if model_id in tree or model_id in cut:
            continue
        if len(tree) >= MAX_TREE or depth > MAX_DEPTH:
            if len(cut) < MAX_TREE:
                cut[model_id] = widget
            continue
        tree[model_id] = widget
        for item in reversed(_held(widget)):
            item_id = item.model_id
            if item_id is not None and item_id not in tree:
                stack.append((item_id, item, depth + 1))
    return tree, cut


# Keys of a widget's update whose change may change what it holds (``_held``).
_TREE_KEYS = frozenset({"children", "layout", "style"})


def _check_keys(widget: Any, state: dict[str, Any]) -> None:
    """Refuse a page's change to the widget's code or a read-only trait, or to one of the
    controls' traits its page does not set (a slider's ``max``). Keys that are no synced trait
    are left to ``set_state``, which skips them as it does in Jupyter (plotly's page sends one
    its Python side does not have)."""
    synced = widget.keys
    traits = widget.traits()
    control = _control(widget)
    settable = _CONTROLS.get(control, frozenset()) if control is not None else None
    for key in state:
        if (
            key in _FIXED
            or (key in synced and traits[key].read_only)
            or (settable is not None and key not in settable)
            or (key in synced and _holds_widgets(getattr(widget, key, None)))
        ):
            raise FrontendMessageError(
                f"the page set {key!r:.80} of {type(widget).__name__}, which a page may not set "
                "(the widget's code, a read-only trait, or what the control's page never sets)"
            )


def _holds_widgets(value: Any) -> bool:
    """A trait that refers to widgets (a box's ``children``): a page naming a widget there
    could reach any widget of the process by its id."""
    if isinstance(value, list | tuple):
        return any(_is_widget(item) for item in value)
    if isinstance(value, dict):
        return any(_is_widget(item) for item in value.values())
    return _is_widget(value)


def _apply(widget: Any, method: str, payload: tuple[Any, ...]) -> None:
    """A checked message from the page, as ipywidgets' own handler would take it (but with
    the error raised, for the view to show)."""
    if widget.comm is None:
        return  # closed meanwhile
    if method == "update":
        from ipywidgets.widgets.widget import _put_buffers

        state, paths, buffers = payload
        try:
            _put_buffers(state, paths, buffers)
        except (KeyError, IndexError, TypeError) as error:
            raise FrontendMessageError(
                f"a widget update's buffer has no place ({error!r})"
            ) from None
        widget.set_state(state)
    else:
        content, buffers = payload
        widget._handle_custom_msg(content, buffers)


# -- JSON ----------------------------------------------------------------------------------------


def _encode(message: dict[str, Any]) -> str:
    """Compact JSON; a NaN or an infinity (which a page's JSON.parse refuses) as null, as
    Jupyter's own message packer does."""
    try:
        return json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_finite(message), ensure_ascii=False, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value

"""The door to Jupyter: a view running in a kernel as an anywidget.

What travels where:

* Renders go to the front end as custom messages: a full render when a view attaches (it sends
  ``{"type": "join"}``), then numbered diffs. A front end that sees a gap in the numbers joins
  again; so does one that hears ``{"type": "settled", "seq": n}`` (a view gone quiet names its
  last payload) and holds another, since IOPub may drop messages under load. Nothing of a
  render is a synced trait, so a tick costs its diff and no more.
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

While no front end is attached (a closed tab, a reload in progress) the view keeps running and
its state stays current in the kernel; a front end that attaches asks for the full render.

The view runs on livewidget's own event-loop thread (``runtime.background_loop``), so it keeps
ticking while a cell blocks; comm messages arriving on the shell (or a subshell) thread are
handed to that loop.
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import weakref
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets  # type: ignore[import-untyped]  # ipywidgets ships no type hints
import traitlets

from .events import FrontendMessageError, decode_message
from .runtime import ViewRuntime, background_loop, call_soon_threadsafe, census_sources
from .socket import Context
from .text import repair
from .view import LiveView

__all__ = ["LiveWidget"]

_STATIC = Path(__file__).parent / "static"


def _static(name: str) -> str:
    # The bundle as text, not a Path: for a Path anywidget connects every widget to a file
    # watcher's signal and never disconnects it, so no closed widget would ever be freed
    # (manzt/anywidget#929). The cost is anywidget's hot reload, which the built bundle lacks.
    return (_STATIC / name).read_text(encoding="utf-8")


_WAIT_SECONDS = 10.0
_SNAPSHOT_SECONDS = 0.5  # how often, at most, the kernel refreshes the HTML snapshot itself
_RECORDING_MAX_BYTES = 5_000_000


def _running_cell() -> tuple[bool, str | None]:
    """Whether a cell is executing now, and its id if the front end sent one.

    JupyterLab, Notebook 7 and VS Code send each cell's id with its execution request; nbclient
    (``nbconvert --execute``) and Voila send none: a cell without an id runs headless.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False, None
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False, None
    parent = kernel.get_parent()
    if parent.get("header", {}).get("msg_type") != "execute_request":
        return False, None
    cell_id = parent.get("metadata", {}).get("cellId")
    return True, cell_id if isinstance(cell_id, str) and cell_id else None


class _CellViews:
    """Closes the views a cell made when that cell runs again, so nothing of them lingers.

    Where no cell id comes (nbclient, a plain console), views live until closed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_cell: dict[str, list[weakref.ref[LiveWidget]]] = {}
        self._registered = False

    def register(self, widget: LiveWidget, cell_id: str | None) -> None:
        with self._lock:
            if not self._registered:
                self._registered = True
                self._hook()
            if cell_id is not None:
                self._by_cell.setdefault(cell_id, []).append(weakref.ref(widget))

    def _hook(self) -> None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is not None:
            shell.events.register("pre_run_cell", self._pre_run_cell)

    def _pre_run_cell(self, info: Any) -> None:
        cell_id = getattr(info, "cell_id", None)
        with self._lock:
            stale = self._by_cell.pop(cell_id, []) if cell_id else []
        for ref in stale:
            widget = ref()
            if widget is not None:
                widget.close()


_cell_views = _CellViews()


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


class LiveWidget(anywidget.AnyWidget):
    """A live view as a widget: ``LiveWidget(Dashboard())``, or just display the view."""

    _esm = _static("widget.js")
    _css = _static("widget.css")

    _html = traitlets.Unicode("").tag(sync=True)
    _hooks = traitlets.Unicode("").tag(sync=True)  # the view's phx-hook module (JS source)
    _recording: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    context = traitlets.Dict(help="The view's context; not synced to the browser.")

    def __init__(self, view: LiveView, **kwargs: Any) -> None:
        if not isinstance(view, LiveView):
            raise TypeError(
                f"LiveWidget() takes a LiveView instance, got {view!r:.80}"
                + (" (a class: call it first)" if isinstance(view, type) else "")
            )
        super().__init__(_hooks=view.hooks, **kwargs)
        self.view = view
        view._widget = self
        self._joined = False  # whether a front end has attached; until then the kernel snapshots
        self._state_refused = False
        self._snapshot_scheduled = False
        self._displays: list[Any] = []
        self._frames: list[dict[str, Any]] | None = None
        self._recorded = threading.Event()
        self._recording_started = 0.0
        self._recording_bytes = 0
        loop, pacer = background_loop()
        self._loop = loop
        self._runtime = ViewRuntime(
            view, send=self._send_to_front, loop=loop, pacer=pacer, on_context=self._on_view_context
        )
        self.on_msg(self._on_front_message)
        self.observe(self._context_assigned, names="context")
        in_cell, cell_id = _running_cell()
        # Made by a cell that runs headless (no cell id): until a page joins, the kernel keeps
        # the output's HTML current itself. Under a live front end it never touches the output,
        # which would make the page rebuild the view (the join can wait while the cell runs).
        self._headless = in_cell and cell_id is None
        self._runtime.start()
        _cell_views.register(self, cell_id)

    # -- from notebook code -------------------------------------------------------------------

    def assign(self, **values: Any) -> None:
        """Assign context values from notebook code; returns once the view has rendered them."""
        self._runtime.post(("assign", values))
        self._wait()

    def send_info(self, info: Any) -> None:
        """Deliver ``info`` to the view's ``handle_info``; returns once it has been handled."""
        self._runtime.post(("info", info))
        self._wait()

    @property
    def html(self) -> str:
        """The HTML of the view's last good render."""
        self._wait()
        rendered = self._runtime.rendered
        return rendered.to_html() if rendered is not None else ""

    def close(self) -> None:
        """Stop the view (its timers, tasks, subscriptions and thread) and close the widget,
        with the ``Layout`` widget that ipywidgets made for it."""
        runtime = getattr(self, "_runtime", None)  # absent if __init__ failed early
        if runtime is not None:
            runtime.close()
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

    def _wait(self) -> None:
        """Wait until the view has handled everything posted so far (not on the view's loop)."""
        if self._runtime.closed or self._runtime.on_loop_thread():
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._runtime.post(("sync", done))
        try:
            done.result(timeout=_WAIT_SECONDS)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(
                f"{type(self.view).__name__} is still busy after {_WAIT_SECONDS:.0f} s "
                "(a handler that blocks?); the message stays queued."
            ) from None

    # -- the context trait --------------------------------------------------------------------

    def _on_view_context(self, context: Context) -> None:
        self.context = dict(context)  # from the view's own code: _context_assigned ignores it

    def _context_assigned(self, change: dict[str, Any]) -> None:
        if self._runtime.in_view_code():
            return
        self._runtime.post(("assign", dict(change["new"])))

    # -- the front end ------------------------------------------------------------------------

    def _send_to_front(self, message: dict[str, Any]) -> None:
        if self.comm is not None:
            self.send(message)
        if message.get("type") in ("full", "diff"):
            if self._frames is not None:
                self._record(message)
            if self._headless and not self._joined and not self._snapshot_scheduled:
                self._snapshot_scheduled = True
                self._loop.call_later(_SNAPSHOT_SECONDS, self._snapshot)

    def _snapshot(self) -> None:
        """Headless: keep ``_html`` and the output's ``text/html`` at the last render."""
        self._snapshot_scheduled = False
        if self._joined or self.closed or self._runtime.rendered is None:
            return
        html = self._runtime.rendered.to_html()
        if html != self._html:
            for handle in self._displays:
                handle.update(self._bundle(html), raw=True)

    def _on_front_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        try:
            message = decode_message(content)
        except FrontendMessageError as error:
            self._runtime.post(("report", error, "a message from the front end"))
            return
        if message[0] == "join":
            self._joined = True
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
                (
                    "report",
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
        if not isinstance(seconds, (int, float)) or not 0 < seconds <= 600:
            raise ValueError(f"record() takes 0 < seconds <= 600, got {seconds!r}")
        self._recorded.clear()
        call_soon_threadsafe(self._loop, self._start_recording, float(seconds))
        if wait and not self._runtime.on_loop_thread():
            self._recorded.wait(seconds + _WAIT_SECONDS)

    def _start_recording(self, seconds: float) -> None:
        self._frames = []
        self._recording_bytes = 0
        self._recording_started = self._loop.time()
        self._runtime.post(("join",))  # the recording starts from a full render
        self._loop.call_later(seconds, self._stop_recording)

    def _record(self, message: dict[str, Any]) -> None:
        assert self._frames is not None
        frame = {
            "t": round((self._loop.time() - self._recording_started) * 1000),
            "type": message["type"],
            "rendered": message["rendered"],
        }
        self._recording_bytes += len(json.dumps(frame))
        if not self._frames and frame["type"] != "full":
            return  # wait for the full render that starts every recording
        self._frames.append(frame)
        if self._recording_bytes > _RECORDING_MAX_BYTES:
            self._stop_recording()

    def _stop_recording(self) -> None:
        if self._frames is not None:
            self._recording = self._frames
            self._frames = None
        self._recorded.set()

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

"""The door to Jupyter: a view running in a kernel as an anywidget.

What travels where:

* Renders go to the front end as custom messages: a full render when a view attaches (it sends
  ``{"type": "join"}``), then numbered diffs. A front end that sees a gap in the numbers joins
  again. Nothing of a render is a synced trait, so a tick costs its diff and no more.
* ``context`` is a traitlets trait that lives in the kernel only (it is not synced to the
  browser). It is updated after every message that changes the context, so ``observe`` sees
  every change; assigning it (or linking it) from notebook code assigns each of its keys, as
  ``socket.assign`` would (keys left out are kept), and re-renders the view. A
  1,000-row table in the context therefore never crosses the wire as data, only as the diff of
  its render.
* ``_html`` (synced) is the last HTML, kept current by the front end itself with ``model.set``
  but no ``save_changes``: it costs no message, and a saved notebook shows it without a kernel.

The view runs on livewidget's own event-loop thread (``runtime.background_loop``), so it keeps
ticking while a cell blocks; comm messages arriving on the shell (or a subshell) thread are
handed to that loop.
"""

from __future__ import annotations

import concurrent.futures
import threading
import weakref
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .events import FrontendMessageError, decode_message
from .runtime import ViewRuntime, background_loop
from .socket import Context
from .view import LiveView

__all__ = ["LiveWidget"]

_STATIC = Path(__file__).parent / "static"
_WAIT_SECONDS = 10.0


class _CellViews:
    """Closes the views a cell made when that cell runs again, so nothing of them lingers.

    JupyterLab and Notebook 7 send each cell's id with its execution; IPython hands it to
    ``pre_run_cell``. Where no id comes (nbclient, a plain console), views live until closed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: str | None = None
        self._by_cell: dict[str, list[weakref.ref[LiveWidget]]] = {}
        self._registered = False

    def register(self, widget: LiveWidget) -> None:
        with self._lock:
            if not self._registered:
                self._registered = True
                self._hook()
            if self._current is not None:
                self._by_cell.setdefault(self._current, []).append(weakref.ref(widget))

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
            self._current = cell_id
            stale = self._by_cell.pop(cell_id, []) if cell_id else []
        for ref in stale:
            widget = ref()
            if widget is not None:
                widget.close()


_cell_views = _CellViews()


class LiveWidget(anywidget.AnyWidget):
    """A live view as a widget: ``LiveWidget(Dashboard())``, or just display the view."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    _html = traitlets.Unicode("").tag(sync=True)
    context = traitlets.Dict(help="The view's context; not synced to the browser.")

    def __init__(self, view: LiveView, **kwargs: Any) -> None:
        if not isinstance(view, LiveView):
            raise TypeError(
                f"LiveWidget() takes a LiveView instance, got {view!r:.80}"
                + (" (a class: call it first)" if isinstance(view, type) else "")
            )
        super().__init__(**kwargs)
        self.view = view
        view._widget = self
        loop, pacer = background_loop()
        self._loop = loop
        self._runtime = ViewRuntime(
            view, send=self._send_to_front, loop=loop, pacer=pacer, on_context=self._on_view_context
        )
        self.on_msg(self._on_front_message)
        self.observe(self._context_assigned, names="context")
        self._runtime.start()
        _cell_views.register(self)

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
        """Stop the view (its timers, tasks and subscriptions) and close the widget."""
        runtime = getattr(self, "_runtime", None)  # absent if __init__ failed early
        if runtime is not None:
            runtime.close()
        super().close()

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
        self.context = dict(context)  # on the view's loop: _context_assigned ignores it

    def _context_assigned(self, change: dict[str, Any]) -> None:
        if self._runtime.on_loop_thread():
            return
        self._runtime.post(("assign", dict(change["new"])))

    # -- the front end ------------------------------------------------------------------------

    def _send_to_front(self, message: dict[str, Any]) -> None:
        if self.comm is not None:
            self.send(message)

    def _on_front_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        try:
            message = decode_message(content)
        except FrontendMessageError as error:
            self._runtime.post(("report", error, "a message from the front end"))
            return
        self._runtime.post(message)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["text/html"] = self.html  # what renderers without widgets show
        return bundle

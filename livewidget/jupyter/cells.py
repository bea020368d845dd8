"""A view's life among the notebook's cells: closed when its cell runs again, and snapshotted
while it runs headless.

* **Re-running a cell closes the views it made** (``CellViews``). JupyterLab, Notebook 7 and
  VS Code send each cell's id with its execution request; IPython's ``pre_run_cell`` names the
  cell about to run, and every view that cell made before is closed, so nothing of it lingers
  (its timers, its thread). Where no cell id comes (nbclient, a console), views live until
  closed.
* **Headless snapshots** (``Snapshot``). A view made by a cell that runs headless (no cell id:
  nbclient, ``nbconvert --execute``, Voila) has no page to keep its saved ``_html`` current, so
  until a page joins the kernel does it: at most every ``SNAPSHOT_SECONDS`` after a render, and
  at each cell's end (``post_run_cell``), while that cell is still the one running (a headless
  run records only what a cell does). A snapshot also refreshes what the notebook saves of the
  widgets the view shows, so an executed notebook's saved state agrees with what its last cells
  printed, including views inside an ipywidgets container (``HBox([view.widget, slider])``),
  whose own display code never runs.

Nothing here knows the widget class: the widget hands each ``Snapshot`` the few callables it
needs, and ``CellViews`` closes whatever it registered.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..template import Rendered

__all__ = [
    "CELL_END_SECONDS",
    "SNAPSHOT_SECONDS",
    "CellViews",
    "Snapshot",
    "cell_views",
    "running_cell",
]

SNAPSHOT_SECONDS = 0.5  # how often, at most, the kernel refreshes the HTML snapshot itself
CELL_END_SECONDS = 2.0  # how long, at most, a cell's end waits for the views' pending renders

log = logging.getLogger("livewidget")


def running_cell() -> tuple[bool, str | None]:
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


class Closable(Protocol):
    def close(self) -> None: ...


class Snapshot:
    """Keeps one headless view's saved HTML at its last render until a page joins.

    ``rendered()`` is the view's last render (None if it has none, or is closed); ``wait(s)``
    waits at most ``s`` seconds for the view's pending messages; ``children(rendered)`` updates
    and returns the Jupyter widgets that render shows; ``show(html)`` stores the HTML (the
    saved trait, and the outputs showing the view).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        headless: bool,
        rendered: Callable[[], Rendered | None],
        wait: Callable[[float], bool],
        children: Callable[[Rendered], Sequence[Any]],
        show: Callable[[str], None],
    ) -> None:
        self.headless = headless
        self.joined = False  # a page has attached: from now on it keeps the HTML current
        self._loop = loop
        self._rendered = rendered
        self._wait = wait
        self._children = children
        self._show = show
        self._scheduled = False

    @property
    def active(self) -> bool:
        return self.headless and not self.joined

    def rendered_sent(self) -> None:
        """On the view's loop: a render went out; snapshot it soon (once per interval)."""
        if self.active and not self._scheduled:
            self._scheduled = True
            self._loop.call_later(SNAPSHOT_SECONDS, self._take)

    def _take(self) -> None:
        self._scheduled = False
        rendered = self._rendered() if self.active else None
        if rendered is not None:
            self._show(rendered.to_html())

    def now(self, deadline: float) -> None:
        """At a cell's end (on the cell's thread): the view's pending render, then its
        children and HTML, so that the cell records them."""
        if self.joined:
            return
        self._wait(max(0.0, deadline - time.monotonic()))
        rendered = self._rendered()
        if rendered is not None:
            for child in self._children(rendered):
                refresh_saved_figure(child)
            self._show(rendered.to_html())


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


class CellViews:
    """Closes the views a cell made when that cell runs again, and snapshots the headless ones
    at each cell's end. ``shell()`` is the IPython shell whose cell events it hooks, once, at
    the first view (``get_ipython()``; None outside IPython)."""

    def __init__(self, shell: Callable[[], Any] = _ipython) -> None:
        self._shell = shell
        self._lock = threading.Lock()
        self._by_cell: dict[str, list[weakref.ref[Closable]]] = {}
        self._headless: weakref.WeakSet[Snapshot] = weakref.WeakSet()
        self._registered = False

    def register(self, view: Closable, cell_id: str | None, snapshot: Snapshot) -> None:
        with self._lock:
            if not self._registered:
                self._registered = True
                self._hook()
            if cell_id is not None:
                self._by_cell.setdefault(cell_id, []).append(weakref.ref(view))
            if snapshot.headless:
                self._headless.add(snapshot)

    def _hook(self) -> None:
        shell = self._shell()
        if shell is not None:
            shell.events.register("pre_run_cell", self._pre_run_cell)
            shell.events.register("post_run_cell", self._post_run_cell)

    def _pre_run_cell(self, info: Any) -> None:
        cell_id = getattr(info, "cell_id", None)
        with self._lock:
            stale = self._by_cell.pop(cell_id, []) if cell_id else []
        for ref in stale:
            view = ref()
            if view is not None:
                view.close()

    def _post_run_cell(self, result: Any) -> None:
        """Headless, a cell has finished: snapshot every live view now, while the cell is
        still the one running (a headless run records only what a cell does)."""
        with self._lock:
            snapshots = list(self._headless)
        deadline = time.monotonic() + CELL_END_SECONDS
        for snapshot in snapshots:
            try:
                snapshot.now(deadline)
            except Exception:  # the cell ran fine: its output gets no traceback of ours
                log.exception("livewidget could not snapshot a view at the cell's end")


cell_views = CellViews()


def refresh_saved_figure(widget: Any) -> None:
    """A plotly ``FigureWidget`` refreshes the copy of its figure that the notebook saves
    (``_widget_data``, ``_widget_layout``) only when displayed on its own
    (``_repr_mimebundle_``); inside a view it never is. Refreshed here the same way, so a
    headless run saves, and exports, the chart as it is now. Duck-typed: plotly is not imported.
    """
    data, layout = getattr(widget, "_data", None), getattr(widget, "_layout_obj", None)
    if not hasattr(widget, "_widget_data") or data is None or layout is None:
        return
    try:
        widget._widget_layout = copy.deepcopy(layout._props)
        widget._widget_data = copy.deepcopy(data)
    except Exception:  # another plotly than the one this follows: its saved copy stays
        log.debug("livewidget could not refresh a plotly figure's saved copy", exc_info=True)

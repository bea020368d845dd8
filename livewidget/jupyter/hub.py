"""One comm for every view of a kernel: the hub carries the views' renders to the page.

A comm message costs the kernel the same whatever it holds: ipykernel serializes, signs and
hands it to its IOPub thread, which wakes to send it, then ZeroMQ's thread does. With a comm
message per view and update, that is most of what a dashboard's tick costs (100 dashboards
ticking together: 100 messages a second). Phoenix multiplexes every LiveView of a page over
one socket; here the views of a kernel share one comm, the hub's: what the views send in one
turn of their loop (the ticks of one beat, rendered together) goes out as one message,
``{"batch": [[id, message], ...]}``, in the order it was sent. In the page, the hub's model
hands each message to the view whose ``_lw_id`` it names (``js/src/widget.ts``), as if it had
come on that view's own comm; a view not shown in that page drops it, as its model would.

What the page sends (joins, events) still goes up each view's own comm, and so does every
synced trait. The hub is a widget that is never displayed: one per kernel, made with the first
view, closed with the last (so views made and closed leave no widget behind), and made again if
it was closed under them (``Widget.close_all()``). Without a kernel (a plain
Python process, the tests' dummy comms) there is no hub and each view sends on its own comm.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anywidget
import ipywidgets  # type: ignore[import-untyped]  # ipywidgets ships no type hints
import traitlets

from .. import wire
from .bundle import static_text

__all__ = ["Hub", "acquire", "release", "renew"]


class Hub(anywidget.AnyWidget):
    """The kernel's comm for every view's renders (``hub()`` gives it)."""

    _esm = static_text("widget.js")
    _lw_hub = traitlets.Bool(True).tag(sync=True)  # wire.HUB_TRAIT: the front end's switch

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._batch: list[list[Any]] = []

    def post(self, view_id: str, message: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        """Send ``message`` to the view ``view_id`` at the end of this turn of ``loop`` (on that
        loop), with whatever else the views send in it, in one comm message."""
        with self._lock:
            self._batch.append([view_id, message])
            first = len(self._batch) == 1
        if first:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send what is held now (a view about to send on its own comm calls this first, so
        that nothing it sent before is overtaken)."""
        with self._lock:  # held while sending: one batch leaves before the next is taken
            batch, self._batch = self._batch, []
            if batch and self.comm is not None:
                self.send({wire.BATCH: batch})

    @property
    def is_open(self) -> bool:
        return self.comm is not None

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """The page never writes the hub's state; a forged write is ignored."""

    def close(self) -> None:
        """Send what is held, then close the comm (and the ``Layout`` ipywidgets made for it)."""
        self.flush()
        layout = self._trait_values.get("layout")
        super().close()
        if isinstance(layout, ipywidgets.Widget):
            layout.close()


class _Kernel:
    """The kernel's hub and the open views that use it: the last view to close closes it, so
    views made and closed leave no widget behind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hub: Hub | None = None
        self.users = 0

    def current(self) -> Hub:
        """The open hub, made anew if it was closed (under the lock)."""
        if self.hub is None or not self.hub.is_open:
            self.hub = Hub()
        return self.hub


_kernel = _Kernel()


def _in_kernel(comm: Any) -> bool:
    return getattr(comm, "kernel", None) is not None  # ipykernel's Comm; not the dummy's


def acquire(comm: Any) -> Hub | None:
    """The kernel's hub for a new view whose comm is ``comm`` (made on first use); None
    without a kernel (``comm`` a dummy), where views send on their own. ``release()`` it."""
    if not _in_kernel(comm):
        return None
    with _kernel.lock:
        _kernel.users += 1
        return _kernel.current()


def renew() -> Hub:
    """The hub again, for a view whose hub was closed under it (``Widget.close_all()``)."""
    with _kernel.lock:
        return _kernel.current()


def release() -> None:
    """A view that ``acquire``-d the hub has closed: the last one closes the hub."""
    with _kernel.lock:
        _kernel.users -= 1
        if _kernel.users > 0 or _kernel.hub is None:
            return
        hub, _kernel.hub = _kernel.hub, None
    hub.close()

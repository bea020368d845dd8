"""Components: parts of a view with their own context, events and diffs.

A parent places a component in its template with ``live_component(Todo, id="t1", item=...)``.
While the parent renders, each such call is collected; the runtime then *resolves* them:
a new (class, id) pair is mounted and gets a number, its *cid*; an existing one gets
``update(assigns, socket)`` when its assigns changed (on every parent render that changes them:
LiveViewJS drops changed props, livewidget does not); components the parent no longer renders
are dropped. In the parent's rendered tree a component is its cid, and its own render travels
under ``"c"``, as in Phoenix::

    {"0": 1, "s": ["<ul>", "</ul>"], "c": {"1": {"0": "milk", "s": ["<li>", "</li>"]}}}

An event whose ``phx-target`` is a component's cid (``phx-target="{myself}"``) goes to that
component's ``handle_event``, and only that component is rendered and sent again.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .socket import Context, Socket, SocketHost, unchanged
from .template import ComponentRef, Rendered
from .view import render_checked

__all__ = ["ComponentRef", "Components", "LiveComponent", "live_component"]


class LiveComponent:
    """Subclass this: ``mount`` and ``update`` set up the context, ``render`` returns a template.

    The context starts with ``id`` (from ``live_component``) and ``myself``, the component's
    cid: write ``phx-target="{myself}"`` on an element so that its events come to this
    component's ``handle_event``.
    """

    def mount(self, socket: Socket) -> Any:
        """Called once, when the component first appears."""

    def update(self, assigns: dict[str, Any], socket: Socket) -> Any:
        """Called with the parent's assigns on first render and whenever they change."""
        socket.assign(assigns)

    def handle_event(self, event: str, params: dict[str, Any], socket: Socket) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} got the event {event!r} but defines no handle_event"
        )

    def render(self, ctx: Context) -> Rendered:
        raise NotImplementedError(f"{type(self).__name__} must define render(self, ctx)")


_collector = threading.local()


def live_component(component: type[LiveComponent], /, *, id: str, **assigns: Any) -> ComponentRef:
    """Place ``component`` (identified by ``id`` among its class) in a parent's template."""
    if not (isinstance(component, type) and issubclass(component, LiveComponent)):
        raise TypeError(
            f"live_component() takes a LiveComponent subclass first, got {component!r:.80}"
        )
    if not isinstance(id, str) or not id:
        raise TypeError(f"live_component() needs id=, a non-empty str, got {id!r}")
    ref = ComponentRef(component, id, assigns)
    refs: list[ComponentRef] | None = getattr(_collector, "refs", None)
    if refs is not None:
        refs.append(ref)
    else:
        ref.live = _render_static(ref)  # outside a live view: a plain one-off render
    return ref


@contextmanager
def collecting() -> Iterator[list[ComponentRef]]:
    """Collect the ``live_component`` calls made while a parent renders (this thread only)."""
    previous = getattr(_collector, "refs", None)
    refs: list[ComponentRef] = []
    _collector.refs = refs
    try:
        yield refs
    finally:
        _collector.refs = previous


def _render_static(ref: ComponentRef) -> _Live:
    component: LiveComponent = ref.component()
    live = _Live(0, component, Socket())
    live.socket.assign(id=ref.id, myself="")
    _sync(component.mount(live.socket), "mount", component)
    _sync(component.update(dict(ref.assigns), live.socket), "update", component)
    live.rendered = render_checked(component, live.socket.context)
    return live


def _sync(result: Any, where: str, component: LiveComponent) -> None:
    if inspect.isawaitable(result):
        raise TypeError(
            f"{type(component).__name__}.{where}() is async; components are rendered while the "
            "parent renders, so their mount, update and render must be plain functions."
        )


class _Live:
    __slots__ = ("assigns", "cid", "component", "rendered", "socket")

    def __init__(self, cid: int, component: LiveComponent, socket: Socket) -> None:
        self.cid = cid  # 0 for a component rendered outside a live view
        self.component = component
        self.socket = socket
        self.assigns: dict[str, Any] | None = None
        self.rendered: Rendered | None = None


class Components:
    """The live components of one view, by (class, id) and by cid."""

    def __init__(self, host: SocketHost) -> None:
        self._host = host
        self._by_key: dict[tuple[type[LiveComponent], str], _Live] = {}
        self._by_cid: dict[int, _Live] = {}
        self._next_cid = 1

    def __len__(self) -> int:
        return len(self._by_cid)

    def resolve(self, refs: list[ComponentRef]) -> None:
        """Mount, update and render what the parent placed; drop what it no longer places."""
        seen: set[tuple[type[LiveComponent], str]] = set()
        for ref in refs:
            if ref.key in seen:
                raise ValueError(
                    f"live_component({ref.component.__name__}, id={ref.id!r}) appears twice in "
                    "one render; each component needs an id of its own."
                )
            seen.add(ref.key)
            live = self._by_key.get(ref.key)
            if live is None:
                component: LiveComponent = ref.component()
                live = _Live(self._next_cid, component, Socket(self._host))
                live.socket.assign(id=ref.id, myself=live.cid)
                self._next_cid += 1
                _sync(live.component.mount(live.socket), "mount", live.component)
                self._by_key[ref.key] = live
                self._by_cid[live.cid] = live
            if live.assigns is None or not _same_assigns(live.assigns, ref.assigns):
                live.assigns = dict(ref.assigns)
                _sync(
                    live.component.update(dict(ref.assigns), live.socket), "update", live.component
                )
            if live.rendered is None or live.socket.changed:
                self.render(live)
            ref.live = live
        for key in [key for key in self._by_key if key not in seen]:
            del self._by_cid[self._by_key.pop(key).cid]

    def render(self, live: _Live) -> None:
        live.socket.changed = False
        live.rendered = render_checked(live.component, live.socket.context)

    def get(self, cid: int) -> _Live | None:
        return self._by_cid.get(cid)

    def live(self) -> list[_Live]:
        return list(self._by_cid.values())


def _same_assigns(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the parent placed the component with nothing changed, by the socket's rule: an
    equal value is no change; the very same list (dict, DataFrame...) is one, since the parent
    may have changed it in place."""
    return old.keys() == new.keys() and all(unchanged(old[key], new[key]) for key in new)

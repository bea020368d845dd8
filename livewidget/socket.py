"""The socket: what a view's handlers hold to change its context and reach the outside.

The socket is pure bookkeeping. Whatever needs time, a mailbox or a transport (``repeat``,
``send_info``, pub/sub, ``push_event``) is handed to a *host*, the runtime that runs the view;
a view rendered without one (a static render) gets a host that does nothing, so ``mount`` can
call everything unconditionally and check ``socket.connected`` only to decide what to start.

Streams (``stream``, ``stream_insert``, ``stream_delete``) keep their pending operations in the
context under ``streams``, as Phoenix's ``@streams``; ``livewidget.stream`` explains them.
"""

from __future__ import annotations

import datetime
import enum
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from .js import JSCommands
from .stream import Streams
from .template import Comprehension, Rendered

__all__ = ["Cancellable", "Context", "Socket", "SocketHost"]


class Context(Mapping[str, Any]):
    """A read-only view of a context: ``ctx["x"]``, ``ctx.x`` and ``**ctx`` all work.

    A key named like a mapping method (``items``, ``keys``, ``values``, ``get``) is reached as
    ``ctx["items"]``: ``ctx.items`` is the method.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_values", dict(values or {}))

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            if name == "streams":
                raise AttributeError(
                    "the context has no streams yet: create one first with "
                    "socket.stream(name, items), in mount"
                ) from None
            known = ", ".join(sorted(self._values)) or "nothing yet"
            raise AttributeError(
                f"the context has no {name!r} (it has: {known}); assign it first with "
                f"socket.assign({name}=...)"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the context is read-only: use socket.assign({name}=...) instead")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Context({self._values!r})"


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class SocketHost(Protocol):
    """What a runtime provides to a socket."""

    @property
    def connected(self) -> bool: ...

    def send_info(self, info: Any, after_ms: float) -> None: ...

    def repeat(self, fn: Callable[[], Any], interval_ms: float) -> Cancellable: ...

    def subscribe(self, topic: str) -> None: ...

    def broadcast(self, topic: str, message: Any) -> None: ...

    def push_event(self, name: str, payload: Mapping[str, Any]) -> None: ...

    def start_async(self, fn: Callable[[], Any], on_done: Callable[[Any, Any], Any]) -> None: ...

    def assign_elsewhere(self, socket: Socket, values: Mapping[str, Any]) -> bool: ...

    def call_elsewhere(
        self, socket: Socket, fn: Callable[[], Any], where: str, check: Callable[[], Any]
    ) -> bool: ...


class _Cancelled:
    def cancel(self) -> None:
        pass


class DisconnectedHost:
    """The host of a static render: nothing runs, nothing is sent."""

    connected = False

    def send_info(self, info: Any, after_ms: float) -> None:
        pass

    def repeat(self, fn: Callable[[], Any], interval_ms: float) -> Cancellable:
        return _Cancelled()

    def subscribe(self, topic: str) -> None:
        pass

    def broadcast(self, topic: str, message: Any) -> None:
        pass

    def push_event(self, name: str, payload: Mapping[str, Any]) -> None:
        pass

    def start_async(self, fn: Callable[[], Any], on_done: Callable[[Any, Any], Any]) -> None:
        pass

    def assign_elsewhere(self, socket: Socket, values: Mapping[str, Any]) -> bool:
        return False

    def call_elsewhere(
        self, socket: Socket, fn: Callable[[], Any], where: str, check: Callable[[], Any]
    ) -> bool:
        return False


# Values that cannot change after they are made: assigning the same one again changes nothing.
_IMMUTABLE: tuple[type, ...] = (
    str,
    bytes,
    int,
    float,
    complex,
    bool,
    type(None),
    range,
    numbers.Number,  # numpy's scalars too
    datetime.date,  # and datetime
    datetime.time,
    datetime.timedelta,
    enum.Enum,
    Rendered,
    Comprehension,
    JSCommands,
)


def _immutable(value: Any) -> bool:
    if isinstance(value, (tuple, frozenset)):
        return all(_immutable(item) for item in value)
    return isinstance(value, _IMMUTABLE)


def unchanged(old: Any, new: Any) -> bool:
    """Whether ``new`` in place of ``old`` changes nothing (see ``Socket.assign``); the one
    rule for a view's assigns, a component's assigns and a linked widget's trait."""
    if old is new:
        return _immutable(new)
    try:
        return bool(old == new)
    except Exception:  # values whose == is not a bool (arrays, frames) count as changed
        return False


class Socket:
    """Holds a view's context; ``assign`` changes it, the rest goes to the host."""

    __slots__ = ("_context", "_host", "changed")

    def __init__(self, host: SocketHost | None = None) -> None:
        self._host: SocketHost = host if host is not None else DisconnectedHost()
        self._context = Context()
        self.changed = False

    @property
    def connected(self) -> bool:
        """True when the view lives as a widget or in the test client; False in a static render."""
        return self._host.connected

    @property
    def context(self) -> Context:
        return self._context

    def assign(self, mapping: Mapping[str, Any] | None = None, /, **values: Any) -> None:
        """Set context values, from a mapping, keywords or both.

        A value equal to the one in the context changes nothing (``assign(n=1)`` twice renders
        once). The very same object assigned again counts as a change unless it is immutable
        (text, numbers, None, dates, enums, templates, JS commands, tuples and frozensets of
        those): a list, a dict or a DataFrame changed in place (``df.loc[5] = ...``) and
        assigned again re-renders, since no copy is kept to compare it with.

        Called from outside the view's own code (another thread: a Jupyter widget's observer,
        which the kernel runs on its shell thread, or a thread of your own), the values go to
        the view's mailbox and are assigned and rendered in their turn, as
        ``view.widget.assign`` does.
        """
        if mapping is not None:
            if not isinstance(mapping, Mapping):
                raise TypeError(
                    f"assign() takes a mapping or keywords, got {type(mapping).__name__}: "
                    f"{mapping!r:.80}"
                )
            values = {**mapping, **values}
        if self._host.assign_elsewhere(self, values):
            return
        current = self._context._values
        updates = {
            k: v for k, v in values.items() if k not in current or not unchanged(current[k], v)
        }
        for key in updates:
            if not isinstance(key, str):
                raise TypeError(f"context keys are str, got {key!r}")
        if updates:
            self._context = Context({**current, **updates})
            self.changed = True

    def rollback(self, context: Context) -> None:
        """Put ``context`` back, as it was before a handler that failed (the runtime's undo);
        not a change."""
        self._context = context
        self.changed = False

    # -- streams (see livewidget.stream) ---------------------------------------------------------

    def stream(
        self,
        name: str,
        items: Iterable[Any],
        *,
        at: int = -1,
        limit: int | None = None,
        reset: bool = False,
        dom_id: Callable[[Any], str] | None = None,
    ) -> None:
        """Create the stream ``name``, or insert ``items`` into it; the page keeps the rows.

        ``at``: -1 appends, 0 prepends, n inserts before the row at n. ``limit``: after each
        insert the page keeps the first ``limit`` rows (or the last ``-limit``). ``reset``
        empties the stream on the page first. ``dom_id(item)`` gives a row's DOM id; by default
        ``f"{name}-{item['id']}"`` (or ``item.id``). Render it with
        ``lw.each(ctx.streams.NAME, lambda dom_id, item: ...)``.
        """
        if isinstance(items, Iterable) and not isinstance(items, str | bytes | Mapping | tuple):
            # read once, now: it may be applied twice, and later (see _change_streams), and
            # the caller may reuse its list (``batch.clear()``) once this returns
            items = list(items)
        self._change_streams(
            "stream",
            lambda streams: streams.stream(
                name, items, at=at, limit=limit, reset=reset, dom_id=dom_id
            ),
        )

    def stream_insert(
        self, name: str, item: Any, *, at: int = -1, limit: int | None = None
    ) -> None:
        """Insert ``item`` into the stream (or update its row in place, if the page has it)."""
        self._change_streams(
            "stream_insert", lambda streams: streams.insert(name, item, at=at, limit=limit)
        )

    def stream_delete(self, name: str, item: Any) -> None:
        """Remove ``item``'s row (found by its DOM id) from the page."""
        self._change_streams("stream_delete", lambda streams: streams.delete(name, item))

    def _change_streams(self, where: str, change: Callable[[Streams], Streams]) -> None:
        """Apply a stream operation: at once in the view's own code; from outside it (a
        widget's observer on the kernel's shell thread, a thread of the user's) in the view's
        turn, as ``assign`` does, so that it reads the streams as the view's handlers left
        them and none of their operations is lost. It is tried on the caller's thread first,
        so that a bad argument raises there, where it was made."""

        def apply() -> None:
            self.assign(streams=change(self._streams()))

        if not self._host.call_elsewhere(self, apply, where, lambda: change(self._streams())):
            apply()

    def _streams(self) -> Streams:
        current = self._context._values.get("streams")
        if current is None:
            return Streams()
        if not isinstance(current, Streams):
            raise TypeError(
                "the context key 'streams' holds the view's streams (as Phoenix's @streams), "
                f"but it was assigned {current!r:.80}; assign that value under another name"
            )
        return current

    def repeat(self, fn: Callable[[], Any], interval_ms: float) -> Cancellable:
        """Call ``fn`` every ``interval_ms`` milliseconds, until cancelled or the view closes.

        Tick k is due ``k * interval_ms`` after this call; it fires then, or up to a frame
        (1/60 s) later to share a wake-up with other views' ticks of the same interval due
        then (``runtime.scheduling.Coalescer``). Never early, and the lateness never adds up.
        """
        if not callable(fn):
            raise TypeError(f"repeat() takes a callable first, got {fn!r:.80}")
        if not isinstance(interval_ms, (int, float)) or interval_ms <= 0:
            raise ValueError(
                f"repeat() needs a positive interval in milliseconds, got {interval_ms!r}"
            )
        return self._host.repeat(fn, float(interval_ms))

    def send_info(self, info: Any, after_ms: float = 0) -> None:
        """Queue ``info`` for ``handle_info``, now or ``after_ms`` milliseconds from now."""
        if not isinstance(after_ms, (int, float)) or after_ms < 0:
            raise ValueError(f"send_info() needs after_ms >= 0 milliseconds, got {after_ms!r}")
        self._host.send_info(info, float(after_ms))

    def start_async(self, name: str, fn: Callable[[], Any]) -> None:
        """Run ``fn`` beside the view, without holding up its other messages.

        ``fn`` is a coroutine function (run on the view's loop) or a plain function (run on a
        thread of its own). When it finishes, ``handle_info`` gets ``{"type": name, "result":
        ...}``, or ``{"type": name, "error": exception}`` if it raised. Closing the view cancels
        it (a thread cannot be stopped: its result is dropped).
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"start_async() takes a name (a non-empty str) first, got {name!r}")
        if not callable(fn):
            raise TypeError(f"start_async() takes a function to run, got {fn!r:.80}")

        def done(result: Any, error: Any) -> None:
            outcome = "error" if error is not None else "result"
            self._host.send_info(
                {"type": name, outcome: error if error is not None else result}, 0.0
            )

        self._host.start_async(fn, done)

    def subscribe(self, topic: str) -> None:
        """Receive every message broadcast on ``topic`` in ``handle_info``."""
        self._host.subscribe(_topic(topic))

    def broadcast(self, topic: str, message: Any) -> None:
        """Send ``message`` to every view subscribed to ``topic`` (this one included)."""
        self._host.broadcast(_topic(topic), message)

    def push_event(self, name: str, payload: Mapping[str, Any] | None = None) -> None:
        """Send an event to the front end (``phx:NAME`` on the view, and hooks' handleEvent)."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"push_event() takes an event name (a non-empty str), got {name!r}")
        self._host.push_event(name, dict(payload or {}))


def _topic(topic: str) -> str:
    if not isinstance(topic, str) or not topic:
        raise TypeError(f"a topic is a non-empty str, got {topic!r}")
    return topic

"""Streams: rows the page keeps and the kernel forgets, in Phoenix LiveView's wire format.

A keyed ``each`` keeps every row in the context and diffs the whole list on every render, so a
feed of a thousand rows costs the kernel a thousand rows of memory and a render of all of them
a tick, and a newest-first feed sends a thousand index moves a tick. A *stream* keeps only what
has not been sent yet::

    socket.stream("feed", rows)                                 # in mount
    socket.stream_insert("feed", row, at=0, limit=1000)         # a tick: one row, newest first
    socket.stream_delete("feed", row)

    lw.html('<ul id="feed" phx-update="stream">{rows}</ul>',
            rows=lw.each(ctx.streams.feed, lambda dom_id, row: lw.html(ROW, id=dom_id, **row)))

Each call appends an operation to the stream's *pending* list, which lives in the context
under ``streams`` (as Phoenix's ``@streams``), so a handler that raises takes its operations
back with the rest of its changes. A render gives ``each`` that pending list: it renders only
the rows inserted since the last send, into a ``StreamComprehension`` that carries the batch,
``[ref, [[dom_id, at, limit, update_only], ...], [deleted dom_id, ...]]`` plus ``true`` when the
batch starts with a reset. The wire payload of a one-row tick is thus::

    {"1": {"k": {"0": {"0": "feed-7", "1": "hello"}, "kc": 1},
           "stream": ["3", [["feed-7", 0, 1000, false]], []]}}

Once the runtime has sent a render it *consumes* its streams: the batches in the payload drop
their rendered rows (``StreamComprehension.consume``), and every operation of the context that
was rendered is marked sent and drops its item and its link to older operations
(``consume_streams``), so the kernel holds no row after it is sent. As in Phoenix, which prunes
streams after every render, that includes the operations of a stream the render did not show
(its container hidden by a conditional): they are dropped, not kept for later. Renders after
that see an empty batch, and a diff sends nothing for the stream until something new is pending.

Within one batch the operations are folded the way the page would see them in order: a row
inserted twice is inserted once, with its last value and options; a row inserted then deleted
is only deleted (so it disappears even if the page had it); a delete then an insert of the same
row removes it and inserts it afresh at ``at`` (a move); a reset drops the operations before it.
The page applies a batch as Phoenix's client does: reset, then deletes, then each insert in
order: an id the page already shows is updated in place (``at`` ignored), a new one goes in at
``at`` (-1 appends, 0 prepends, n goes before the row now at n) and then ``limit`` prunes (a
positive limit keeps the first n rows, a negative one the last n).

A stream's ``ref`` is unique in the process (Phoenix numbers streams per view), so a page that
gets a full render again (another view of the widget, a join after a lost message) can keep the
rows it shows for that same stream; a reloaded page starts with none.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from .template import (
    _EMPTY,
    Comprehension,
    Dynamic,
    Rendered,
    Template,
    TemplateError,
    comprehension_of,
)

__all__ = ["Stream", "StreamComprehension", "Streams", "consume_streams"]

_refs = itertools.count()

_INSERT: Final = 0
_DELETE: Final = 1
_RESET: Final = 2

# One insert as it travels: [dom_id, at, limit, update_only].
Insert = tuple[str, int, "int | None", bool]


class _Op:
    """One pending operation, linked to the one before it (newest first).

    Consuming a sent batch marks its operations ``sent`` and cuts their items and links, so an
    old context that still points here holds no rows either.
    """

    __slots__ = ("at", "dom_id", "item", "kind", "limit", "prev", "sent")

    def __init__(
        self,
        prev: _Op | None,
        kind: int,
        dom_id: str = "",
        item: Any = None,
        at: int = -1,
        limit: int | None = None,
    ) -> None:
        self.prev = prev
        self.kind = kind
        self.dom_id = dom_id
        self.item = item
        self.at = at
        self.limit = limit
        self.sent = False


class _Config:
    """What stays the same for one stream across its snapshots."""

    __slots__ = ("name", "ref", "template")

    def __init__(self, name: str) -> None:
        self.name = name
        self.ref = str(next(_refs))
        # The row template of the last render with rows: a batch without inserts renders with
        # it, so that a tick of deletes only does not switch the comprehension's statics.
        self.template: Template = _EMPTY


def default_dom_id(name: str) -> Callable[[Any], str]:
    """``f"{name}-{item['id']}"`` for a mapping, ``f"{name}-{item.id}"`` for an object."""

    def dom_id(item: Any) -> str:
        if isinstance(item, Mapping):
            if "id" in item:
                return f"{name}-{item['id']}"
        elif hasattr(item, "id"):
            return f"{name}-{item.id}"
        raise TypeError(
            f"stream {name!r}: expected an item with an id (a mapping with an 'id' key or an "
            f"object with an id attribute), got {item!r:.80}. Pass dom_id=lambda item: ... to "
            f"socket.stream({name!r}, ...) to make the DOM id from other fields."
        )

    return dom_id


class Stream:
    """``ctx.streams.NAME``: one stream's operations not sent yet; render it with ``lw.each``.

    ``lw.each(ctx.streams.NAME, render)`` calls ``render(dom_id, item)`` for each row inserted
    since the last send. A stream is not a list: the rows sent before are on the page only.
    """

    __slots__ = ("_config", "_dom_id", "_head")

    def __init__(self, config: _Config, dom_id: Callable[[Any], str], head: _Op | None) -> None:
        self._config = config
        self._dom_id = dom_id
        self._head = head

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def ref(self) -> str:
        """The stream's id on the wire (``data-phx-stream`` in Phoenix's client)."""
        return self._config.ref

    def dom_id(self, item: Any) -> str:
        """The DOM id of ``item`` in this stream."""
        value = self._dom_id(item)
        if not isinstance(value, str) or not value:
            raise TypeError(
                f"stream {self.name!r}: dom_id must return a non-empty str, got {value!r:.80} "
                f"for {item!r:.80}"
            )
        return value

    def _with(self, op: _Op | None, dom_id: Callable[[Any], str] | None = None) -> Stream:
        return Stream(self._config, dom_id or self._dom_id, op)

    def _pending(self) -> list[_Op]:
        """The operations not sent yet, oldest first, from the last reset on."""
        ops: list[_Op] = []
        op = self._head
        while op is not None and not op.sent:
            ops.append(op)
            if op.kind == _RESET:
                break
            op = op.prev
        ops.reverse()
        return ops

    def _batch(self) -> tuple[bool, dict[str, tuple[int, int | None, Any]], dict[str, None]]:
        """The pending operations folded into one batch: (reset, inserts, deletes)."""
        ops = self._pending()
        reset = bool(ops) and ops[0].kind == _RESET
        inserts: dict[str, tuple[int, int | None, Any]] = {}
        deletes: dict[str, None] = {}
        for op in ops:
            if op.kind == _INSERT:
                inserts.pop(op.dom_id, None)  # the last insert of a row wins, in its place
                inserts[op.dom_id] = (op.at, op.limit, op.item)
            elif op.kind == _DELETE:
                inserts.pop(op.dom_id, None)
                deletes[op.dom_id] = None
        return reset, inserts, deletes

    def render(self, render: Callable[[str, Any], Rendered]) -> StreamComprehension:
        """What ``lw.each(stream, render)`` returns: the pending batch, its new rows rendered."""
        if not callable(render):
            raise TemplateError(
                f"each(): render must be a function of (dom_id, item), got {render!r:.80}"
            )
        reset, inserts, deletes = self._batch()
        rows: list[Rendered] = []
        for dom_id, (_, _, item) in inserts.items():
            output = render(dom_id, item)
            if not isinstance(output, Rendered):
                raise TemplateError(
                    f"each(): a stream's render(dom_id, item) must return lw.html(...) whose "
                    f'root element has id="{{dom_id}}", got {type(output).__name__}: '
                    f"{output!r:.80}"
                )
            rows.append(output)
        config = self._config
        if rows:
            shape = comprehension_of(rows)
            template, entries = shape.template, shape.entries
            config.template = template
        else:
            template, entries = config.template, ()
        wire = tuple((dom_id, at, limit, False) for dom_id, (at, limit, _) in inserts.items())
        return StreamComprehension(
            template, entries, config.ref, wire, tuple(deletes), reset, self._head
        )

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(
            f"stream {self.name!r} is not a list: render it with "
            f"lw.each(ctx.streams.{self.name}, lambda dom_id, item: lw.html(...)). The rows "
            "sent before are on the page only; keep what you need to look up in the context."
        )

    def __html__(self) -> str:
        raise TemplateError(
            f"stream {self.name!r} cannot be a template field by itself: write "
            f"lw.each(ctx.streams.{self.name}, lambda dom_id, item: lw.html(...)) and put that "
            'in a container with phx-update="stream" and an id.'
        )

    def __repr__(self) -> str:
        return f"<stream {self.name!r} ref={self.ref}: {len(self._pending())} pending operations>"


class Streams:
    """``ctx.streams``: the view's streams by name, ``ctx.streams.feed`` or ``["feed"]``.

    Immutable: each stream operation puts a new one in the context, so a handler that raises
    takes back its stream operations with its assigns.
    """

    __slots__ = ("_streams",)
    _streams: dict[str, Stream]

    def __init__(self, streams: Mapping[str, Stream] | None = None) -> None:
        object.__setattr__(self, "_streams", dict(streams or {}))

    def __getattr__(self, name: str) -> Stream:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(str(self._missing(name))) from None

    def __getitem__(self, name: str) -> Stream:
        try:
            return self._streams[name]
        except KeyError:
            raise self._missing(name) from None

    def _missing(self, name: str) -> KeyError:
        known = ", ".join(sorted(self._streams)) or "none yet"
        return KeyError(
            f"there is no stream named {name!r} (streams: {known}); create it first with "
            f"socket.stream({name!r}, items)"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ctx.streams is read-only: use socket.stream_insert(...) instead")

    def __contains__(self, name: object) -> bool:
        return name in self._streams

    def __iter__(self) -> Iterator[str]:
        return iter(self._streams)

    def __len__(self) -> int:
        return len(self._streams)

    def __repr__(self) -> str:
        return f"Streams({', '.join(self._streams)})"

    # The socket's operations: each returns a new Streams.

    def stream(
        self,
        name: str,
        items: Any,
        *,
        at: int,
        limit: int | None,
        reset: bool,
        dom_id: Callable[[Any], str] | None,
    ) -> Streams:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a stream's name is a non-empty str, got {name!r}")
        if dom_id is not None and not callable(dom_id):
            raise TypeError(
                f"stream {name!r}: dom_id= takes a function of an item returning its DOM id, "
                f"got {dom_id!r:.80}"
            )
        if isinstance(items, (str, bytes, Mapping)) or not hasattr(items, "__iter__"):
            raise TypeError(
                f"socket.stream({name!r}, items): items is an iterable of rows, got "
                f"{type(items).__name__}: {items!r:.80}. Insert one row with "
                f"socket.stream_insert({name!r}, item)."
            )
        _check_position(name, at, limit)
        current = self._streams.get(name)
        if current is None:
            current = Stream(_Config(name), dom_id or default_dom_id(name), None)
        stream = current._with(current._head, dom_id)
        op = _Op(stream._head, _RESET) if reset else stream._head
        for item in items:
            op = _Op(op, _INSERT, stream.dom_id(item), item, at, limit)
        return self._put(name, stream._with(op))

    def insert(self, name: str, item: Any, *, at: int, limit: int | None) -> Streams:
        stream = self._existing(name, "stream_insert")
        _check_position(name, at, limit)
        op = _Op(stream._head, _INSERT, stream.dom_id(item), item, at, limit)
        return self._put(name, stream._with(op))

    def delete(self, name: str, item: Any) -> Streams:
        stream = self._existing(name, "stream_delete")
        return self._put(name, stream._with(_Op(stream._head, _DELETE, stream.dom_id(item))))

    def _existing(self, name: str, method: str) -> Stream:
        stream = self._streams.get(name)
        if stream is None:
            known = ", ".join(sorted(self._streams)) or "none yet"
            raise KeyError(
                f"socket.{method}({name!r}, ...): there is no stream named {name!r} (streams: "
                f"{known}). Create it first, in mount, with socket.stream({name!r}, items)."
            )
        return stream

    def _put(self, name: str, stream: Stream) -> Streams:
        return Streams({**self._streams, name: stream})


def consume_streams(context: Mapping[str, Any]) -> None:
    """A render of ``context`` was sent: mark its streams' operations sent, and drop their rows.

    Every context that shares those operations (the one of a handler now running, the widget's
    ``context`` trait) then holds no rows either, and renders none of them again.
    """
    streams = context.get("streams")
    if isinstance(streams, Streams):
        for stream in streams._streams.values():
            _mark_sent(stream._head)


def _mark_sent(op: _Op | None) -> None:
    while op is not None and not op.sent:
        op.sent = True
        op.item = None
        older, op.prev = op.prev, None
        op = older


def _check_position(name: str, at: Any, limit: Any) -> None:
    if type(at) is not int or at < -1:
        raise ValueError(
            f"stream {name!r}: at= is -1 (append), 0 (prepend) or a position n >= 0, got {at!r}"
        )
    if limit is not None and type(limit) is not int:
        raise ValueError(
            f"stream {name!r}: limit= is None or an int (n > 0 keeps the first n rows on the "
            f"page, -n the last n), got {limit!r}"
        )


class StreamComprehension(Comprehension):
    """The rows of one stream batch and its operations, as ``lw.each(stream, render)`` gives.

    ``protocol`` writes it as a comprehension with a ``"stream"`` entry; ``consume`` (the runtime
    calls it once the batch is sent) forgets the rows and marks the operations sent.
    """

    __slots__ = ("_head", "deletes", "inserts", "ref", "reset", "sent")

    def __init__(
        self,
        template: Template,
        entries: tuple[tuple[Dynamic, ...], ...],
        ref: str,
        inserts: tuple[Insert, ...],
        deletes: tuple[str, ...],
        reset: bool,
        head: _Op | None,
    ) -> None:
        super().__init__(template, entries, tuple(insert[0] for insert in inserts))
        self.ref = ref
        self.inserts = inserts
        self.deletes = deletes
        self.reset = reset
        self._head = head
        self.sent = False

    @property
    def pending(self) -> bool:
        """Whether the batch has anything to send."""
        return not self.sent and bool(self.inserts or self.deletes or self.reset)

    def wire(self) -> list[Any]:
        """The ``"stream"`` entry: ``[ref, inserts, deletes]``, plus ``true`` after a reset."""
        batch: list[Any] = [self.ref, [list(insert) for insert in self.inserts], list(self.deletes)]
        if self.reset:
            batch.append(True)
        return batch

    def consume(self) -> None:
        """The batch was sent: forget its rows, and mark its operations (and older ones) sent."""
        self.sent = True
        self.entries = ()
        self.keys = ()
        self.inserts = ()
        self.deletes = ()
        self.reset = False
        head, self._head = self._head, None
        _mark_sent(head)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Comprehension):
            return NotImplemented
        # Two batches are the same only when neither has anything to send.
        return (
            isinstance(other, StreamComprehension)
            and self.ref == other.ref
            and not self.pending
            and not other.pending
            and self.template.statics == other.template.statics
        )

    def __hash__(self) -> int:
        return hash(self.ref)

    def __repr__(self) -> str:
        state = "sent" if self.sent else f"{len(self.inserts)} inserts, {len(self.deletes)} deletes"
        return f"<StreamComprehension ref={self.ref}: {state}{', reset' if self.reset else ''}>"

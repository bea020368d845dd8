"""The wire format: Phoenix LiveView's rendered diff (1.1 and later), built from ``Rendered``.

A first render sends the whole tree: statics under ``"s"``, each dynamic under its position::

    html("<h2>{n}</h2><ul>{items}</ul>", n=1, items=[html("<li>{x}</li>", x=x) for x in "ab"])

    full  {"0": "1",
           "1": {"s": ["<li>", "</li>"],
                 "k": {"0": {"0": "a"}, "1": {"0": "b"}, "kc": 2}},
           "s": ["<h2>", "</h2><ul>", "</ul>"]}

The next render of the same template sends only the positions that changed, and no statics::

    n=2, items "a", "c"   ->   diff  {"0": "2", "1": {"k": {"1": {"0": "c"}, "kc": 2}}}

The rules, position by position: equal text is left out; a nested render of the same template
sends its own changed positions; a different template at a position sends that subtree whole,
statics included. A comprehension (``"k"``) sends changed entries by index and its count
``"kc"``; a keyed one (``each(..., key=)``) matches entries by key, so a reorder sends an old
index (``"2": 0``, moved) or ``[old index, diff]`` (moved and changed) with ``"km"`` set. Statics
that repeat within one payload (a nested template in every row) are sent once under ``"p"`` and
referenced by number. An unchanged render diffs to ``{}``, which is not sent at all. What is
the same object in both renders (a subtree, the rows ``each`` reused) is skipped unread: a
keyed list whose keys did not change is compared entry by entry by identity, in C.

A stream (``livewidget.stream``) is a comprehension whose entries are only the rows inserted
since the last send, with a ``"stream"`` entry ``[ref, [[dom_id, at, limit, update_only], ...],
[deleted dom_id, ...]]`` (and ``true`` after a reset); insert i goes with entry i. A diff sends a
stream only when its batch has something pending, and whole (no moves: each row is new). The
caller passes ``streams=[]`` to ``full``/``diff`` to learn which batches went into the payload,
and consumes them once it is sent, so that none goes out twice. The client keeps a stream's rows
itself: ``merge`` applies each batch to the rows its tree holds (see ``_apply_stream``).

``merge`` and ``to_html`` are the client's half, used by the test client; ``js/src/rendered.ts``
is the browser's. Both are checked against the JSON vectors in ``tests/vectors/``.
"""

from __future__ import annotations

import copy
from itertools import compress
from operator import is_not
from typing import Any, Final, TypeAlias

from .stream import StreamComprehension
from .template import ComponentRef, Comprehension, Dynamic, Rendered
from .text import repair

# Keys of the rendered format (Phoenix LiveView's constants.js names them the same way).
from .wire import COMPONENTS, KEYED, KEYED_COUNT, KEYED_MOVED, STATIC, STREAM, TEMPLATES

__all__ = [
    "KEYED",
    "KEYED_COUNT",
    "KEYED_MOVED",
    "STATIC",
    "STREAM",
    "TEMPLATES",
    "ProtocolError",
    "diff",
    "full",
    "merge",
    "to_html",
    "with_components",
]

# Not on the wire: the DOM ids of the rows a client-side stream node holds, in order.
STREAM_IDS: Final = "stream_ids"

Payload: TypeAlias = dict[str, Any]

_INDEX: Final = tuple(str(i) for i in range(1024))


def _key(i: int) -> str:
    return _INDEX[i] if i < 1024 else str(i)


class ProtocolError(ValueError):
    """A payload does not fit the rendered format."""


class _Encoder:
    """Encodes one payload; nested statics seen more than once are shared under ``"p"``."""

    __slots__ = ("shared", "streams")

    def __init__(self, streams: list[StreamComprehension] | None) -> None:
        self.shared: dict[tuple[str, ...], list[Payload]] = {}
        self.streams = streams

    def rendered(self, node: Rendered, share: bool) -> Payload:
        out = self.dynamics(node.dynamics)
        if share:
            out[STATIC] = node.template.statics
            self.shared.setdefault(node.template.statics, []).append(out)
        else:
            out[STATIC] = list(node.template.statics)
        return out

    def dynamics(self, dynamics: tuple[Dynamic, ...]) -> Payload:
        return {_key(i): self.dynamic(d, False) for i, d in enumerate(dynamics)}

    def dynamic(self, node: Dynamic, share: bool) -> Any:
        if type(node) is str:
            return repair(node)  # the wire's last guard against a lone surrogate (text.py)
        if isinstance(node, Rendered):
            return self.rendered(node, share)
        if isinstance(node, Comprehension):
            return self.comprehension(node)
        if isinstance(node, ComponentRef):
            return _component(node, lambda rendered: self.rendered(rendered, share))
        raise ProtocolError(f"not a dynamic: {node!r:.80}")

    def entry(self, entry: tuple[Dynamic, ...]) -> Payload:
        return {_key(i): self.dynamic(d, True) for i, d in enumerate(entry)}

    def comprehension(self, node: Comprehension) -> Payload:
        out: Payload = {STATIC: list(node.template.statics), KEYED: self.keyed(node)}
        if isinstance(node, StreamComprehension):
            out[STREAM] = self.stream(node)
        return out

    def keyed(self, node: Comprehension) -> Payload:
        keyed: Payload = {_key(i): self.entry(entry) for i, entry in enumerate(node.entries)}
        keyed[KEYED_COUNT] = len(node.entries)
        return keyed

    def stream(self, node: StreamComprehension) -> list[Any]:
        if self.streams is not None and node.pending:
            self.streams.append(node)
        return node.wire()

    def finish(self, payload: Payload) -> Payload:
        templates: dict[str, list[str]] = {}
        for statics, users in self.shared.items():
            if len(users) > 1:
                index = len(templates)
                templates[_key(index)] = list(statics)
                for user in users:
                    user[STATIC] = index
            else:
                users[0][STATIC] = list(statics)
        if templates:
            payload[TEMPLATES] = templates
        return payload


def with_components(payload: Payload, components: dict[int, Payload]) -> Payload:
    """Add the renders (or diffs) of live components, by cid, under ``"c"``."""
    if components:
        payload[COMPONENTS] = {str(cid): part for cid, part in components.items()}
    return payload


def full(rendered: Rendered, *, streams: list[StreamComprehension] | None = None) -> Payload:
    """The whole tree of ``rendered``, statics included: what a newly attached view needs.

    A stream shows only its pending batch (the client keeps the rows sent before). If
    ``streams`` is a list, the stream batches written into the payload are appended to it.
    """
    if not isinstance(rendered, Rendered):
        raise ProtocolError(f"full() takes a Rendered (from lw.html), got {rendered!r:.80}")
    encoder = _Encoder(streams)
    return encoder.finish(encoder.rendered(rendered, False))


def diff(
    previous: Rendered | None,
    current: Rendered,
    *,
    streams: list[StreamComprehension] | None = None,
) -> Payload:
    """What turns a client holding ``previous`` into one holding ``current``; ``{}`` if nothing.

    With no previous render, or a different root template, this is ``full(current)``.
    ``streams`` collects the stream batches written into the payload, as for ``full``.
    """
    if previous is None or not _same_template(previous, current):
        return full(current, streams=streams)
    if previous is current:
        return {}
    encoder = _Encoder(streams)
    return encoder.finish(_diff_dynamics(previous.dynamics, current.dynamics, encoder))


_SAME: Final[Any] = object()


def _same_template(a: Rendered | Comprehension, b: Rendered | Comprehension) -> bool:
    return a.template is b.template or a.template.statics == b.template.statics


def _diff_dynamics(
    previous: tuple[Dynamic, ...], current: tuple[Dynamic, ...], encoder: _Encoder
) -> Payload:
    out: Payload = {}
    for i, (a, b) in enumerate(zip(previous, current)):
        if a is b:
            continue
        change = _diff_dynamic(a, b, encoder)
        if change is not _SAME:
            out[_key(i)] = change
    return out


def _component(ref: ComponentRef, inline: Any) -> Any:
    """A live component is its cid (its render travels under "c"); any other renders inline."""
    if ref.cid is not None:
        return ref.cid
    if ref.rendered is None:
        raise ProtocolError(f"{ref!r} was never rendered")
    return inline(ref.rendered)


def _diff_dynamic(a: Dynamic, b: Dynamic, encoder: _Encoder) -> Any:
    if type(b) is str:
        return _SAME if a == b else repair(b)
    if isinstance(b, ComponentRef):
        if b.cid is not None:
            return _SAME if isinstance(a, ComponentRef) and a.cid == b.cid else b.cid
        if isinstance(a, ComponentRef) and a.cid is None and a.rendered is not None:
            a = a.rendered
        b = _component(b, lambda rendered: rendered)
    if isinstance(b, Rendered):
        if isinstance(a, Rendered) and _same_template(a, b):
            change = _diff_dynamics(a.dynamics, b.dynamics, encoder)
            return change or _SAME
        return encoder.rendered(b, False)
    if isinstance(b, StreamComprehension):
        return _diff_stream(a, b, encoder)
    if isinstance(b, Comprehension):
        if (
            isinstance(a, Comprehension)
            and not isinstance(a, StreamComprehension)  # its rows are on the client only
            and _same_template(a, b)
        ):
            return _diff_comprehension(a, b, encoder)
        return encoder.comprehension(b)
    raise ProtocolError(f"not a dynamic: {b!r:.80}")


def _diff_stream(a: Dynamic, b: StreamComprehension, encoder: _Encoder) -> Any:
    """A stream sends its pending batch, whole, or nothing; never a diff of the rows sent.

    The rows of ``a`` (the batch sent before) are on the client only, so the new rows are not
    compared with them: the same stream at the same place sends its batch without statics, any
    other change sends the stream node whole (the client keeps the rows of a stream it knows).
    """
    if isinstance(a, StreamComprehension) and a.ref == b.ref and _same_template(a, b):
        if not b.pending:
            return _SAME
        return {KEYED: encoder.keyed(b), STREAM: encoder.stream(b)}
    return encoder.comprehension(b)


def _diff_comprehension(a: Comprehension, b: Comprehension, encoder: _Encoder) -> Any:
    """Entries that are the same objects as last time (``each`` reuses unchanged rows) cost one
    identity test each, made in C; only the others are compared and diffed."""
    old, new = a.entries, b.entries
    keyed: Payload = {}
    if a.keys is not None and b.keys is not None and a.keys != b.keys:
        old_index = {key: i for i, key in enumerate(a.keys)}
        moved = False
        for i, (key, entry) in enumerate(zip(b.keys, new)):
            j = old_index.get(key)
            if j is None:
                keyed[_key(i)] = encoder.entry(entry)
                continue
            previous = old[j]
            change = (
                _diff_dynamics(previous, entry, encoder)
                if previous is not entry and previous != entry
                else None
            )
            if j == i:
                if change:
                    keyed[_key(i)] = change
            else:
                moved = True
                keyed[_key(i)] = [j, change] if change else j
        if moved:
            keyed[KEYED_MOVED] = True
    else:  # by position: the same keys in the same order, or no keys
        common = min(len(old), len(new))
        for i in compress(range(common), map(is_not, old, new)):
            if old[i] != new[i]:
                change = _diff_dynamics(old[i], new[i], encoder)
                if change:
                    keyed[_key(i)] = change
        for i in range(common, len(new)):
            keyed[_key(i)] = encoder.entry(new[i])
    if not keyed and len(old) == len(new):
        return _SAME
    keyed[KEYED_COUNT] = len(new)
    return {KEYED: keyed}


# The client's half: merge payloads into a tree, render a tree to HTML.


def merge(tree: Payload | None, payload: Payload) -> Payload:
    """Merge ``payload`` into ``tree``, as the client does, and return the new tree.

    Neither argument is changed: the new tree shares every subtree the payload leaves alone
    with the old one, and copies only the path to what changed, so merging a one-cell diff into
    a thousand-row table costs a few dicts, not a copy of the table.
    """
    if not isinstance(payload, dict):
        raise ProtocolError(f"a payload is a JSON object, got {payload!r:.80}")
    payload = copy.deepcopy(payload)
    components = payload.pop(COMPONENTS, None)
    _resolve_templates(payload, None)
    if components is not None:
        if not isinstance(components, dict):
            raise ProtocolError(f'"c" maps cids to rendered objects, got {components!r:.80}')
        for cid, part in components.items():
            if not isinstance(part, dict):
                raise ProtocolError(f"component {cid} is a rendered object, got {part!r:.80}")
            _resolve_templates(part, None, component_root=True)
    fresh: list[Payload] = []
    _fresh_streams(payload, fresh)
    if components is not None:
        _fresh_streams(components, fresh)
    if tree is None or STATIC in payload:
        if STATIC not in payload:
            raise ProtocolError("the first payload must be a full render (with 's')")
        old_components = tree.get(COMPONENTS, {}) if tree is not None else {}
        new_tree = payload
    else:
        old_components = tree.get(COMPONENTS, {})
        new_tree = _merged({k: v for k, v in tree.items() if k != COMPONENTS}, payload)
    if components or old_components:
        new_tree[COMPONENTS] = _merge_components(old_components, components or {})
    if fresh:
        # A stream node sent whole (a new template around it, a full render) keeps the rows the
        # client holds for the same stream, as the page keeps the children of its container.
        known: dict[str, Payload] = {}
        if tree is not None:
            _known_streams(tree, known)
        for node in fresh:
            old = known.get(node[STREAM][0])
            ids, rows = (old[STREAM_IDS], _rows(old)) if old is not None else ([], [])
            _settle_stream(node, ids, rows)
    return new_tree


def _fresh_streams(node: Any, found: list[Payload]) -> None:
    """Collect the stream nodes of a payload that come with their statics (whole)."""
    if isinstance(node, list):
        for item in node:
            _fresh_streams(item, found)
    elif isinstance(node, dict):
        if STREAM in node and STATIC in node:
            found.append(node)
        for key, value in node.items():
            if key != STREAM:
                _fresh_streams(value, found)


def _known_streams(node: Any, found: dict[str, Payload]) -> None:
    """The stream nodes of a merged tree, by ref."""
    if isinstance(node, dict):
        if STREAM_IDS in node:
            found[node[STREAM][0]] = node
        for key, value in node.items():
            if key not in (STREAM, STREAM_IDS, STATIC):
                _known_streams(value, found)


def _rows(node: Payload) -> list[Payload]:
    keyed = node[KEYED]
    return [keyed[_key(i)] for i in range(keyed[KEYED_COUNT])]


def _settle_stream(node: Payload, ids: list[str], rows: list[Payload]) -> None:
    """Apply the batch that came with ``node`` to ``ids``/``rows``; ``node`` then holds all."""
    ids, rows = _apply_stream(ids, rows, node)
    node[KEYED] = {**{_key(i): row for i, row in enumerate(rows)}, KEYED_COUNT: len(rows)}
    node[STREAM_IDS] = ids
    node[STREAM] = [node[STREAM][0], [], []]  # applied


def _merged_stream(target: Payload, source: Payload) -> Payload:
    if STREAM_IDS not in target:
        raise ProtocolError(
            f"a stream diff (ref {source[STREAM][0]!r}) for a node that holds no stream"
        )
    result = {**target, **{k: v for k, v in source.items() if k not in (KEYED, STREAM)}}
    result[STREAM] = source[STREAM]
    result[KEYED] = source.get(KEYED, {KEYED_COUNT: 0})
    _settle_stream(result, target[STREAM_IDS], _rows(target))
    return result


def _apply_stream(
    ids: list[str], rows: list[Payload], node: Payload
) -> tuple[list[str], list[Payload]]:
    """The rows after the batch of ``node``, as Phoenix's client leaves a stream container.

    Reset, then deletes, then each insert in order: an id present after the deletes is updated
    in place (and stays gone if a limit of this batch pruned it), a new one is inserted at
    ``at`` (-1 the end, n before the row at n) and ``limit`` prunes after it; an
    ``update_only`` insert of an id not shown (nor just removed) is dropped.
    """
    batch = node[STREAM]
    if not isinstance(batch, list) or len(batch) < 3:
        raise ProtocolError(f'"stream" is [ref, inserts, deletes, reset?], got {batch!r:.80}')
    inserts, deletes = batch[1], batch[2]
    reset = len(batch) > 3 and bool(batch[3])
    keyed = node.get(KEYED, {KEYED_COUNT: 0})
    if keyed[KEYED_COUNT] != len(inserts):
        raise ProtocolError(
            f"stream {batch[0]!r} has {len(inserts)} inserts for {keyed[KEYED_COUNT]} entries; "
            "insert i must go with entry i"
        )
    removed = set(ids) if reset else set(deletes).intersection(ids)
    pairs = [] if reset else [(i, row) for i, row in zip(ids, rows) if i not in removed]
    present = {dom_id for dom_id, _ in pairs}
    for index, insert in enumerate(inserts):
        dom_id, at, limit = insert[0], insert[1], insert[2]
        update_only = len(insert) > 3 and bool(insert[3])
        # A row keeps the statics it came with: later batches may use another template.
        entry = {**keyed[_key(index)], STATIC: node[STATIC]}
        if dom_id in present:
            for position, (other, _) in enumerate(pairs):
                if other == dom_id:
                    pairs[position] = (dom_id, entry)
                    break
            continue
        if (update_only and dom_id not in removed) or at < -1:
            continue  # Phoenix's client adds no row for these
        pairs.insert(len(pairs) if at == -1 else min(at, len(pairs)), (dom_id, entry))
        if limit is not None:
            if limit < 0 and len(pairs) > -limit:
                pairs = pairs[len(pairs) + limit :]
            elif limit >= 0 and len(pairs) > limit:
                pairs = pairs[:limit]
    return [dom_id for dom_id, _ in pairs], [row for _, row in pairs]


def _resolve_templates(
    node: Payload, templates: Payload | None, component_root: bool = False
) -> None:
    """Replace statics given as a number by the ``"p"`` template in scope, and drop ``"p"``.

    The scoping is the official client's (``rendered.js``, ``toOutputBuffer`` and
    ``comprehensionToBuffer``): a rendered node's own ``"p"`` wins over the one around it; a
    comprehension's statics use only the templates around it, and its entries those, or else
    its own. A live component starts with no templates (its ``"p"`` travels in its own
    payload), and the number in its root ``"s"`` is a cid whose statics it shares, resolved by
    ``_merge_components``.
    """
    own = node.pop(TEMPLATES, None)
    if own is not None and not isinstance(own, dict):
        raise ProtocolError(f'"p" maps template numbers to statics, got {own!r:.80}')
    keyed = node.get(KEYED)
    if isinstance(keyed, dict):
        if STATIC in node:
            node[STATIC] = _template(node[STATIC], templates)
        inner = templates if templates is not None else own
        for entry in keyed.values():
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], dict):
                entry = entry[1]  # [old index, diff]
            if isinstance(entry, dict):
                _resolve_dynamics(entry, inner)
        return
    scope = own if own is not None else templates
    statics = node.get(STATIC)
    if statics is not None and not (component_root and _is_int(statics)):
        node[STATIC] = _template(statics, scope)
    _resolve_dynamics(node, scope)


def _resolve_dynamics(node: Payload, templates: Payload | None) -> None:
    for key, value in node.items():
        if isinstance(value, dict) and key != COMPONENTS:
            _resolve_templates(value, templates)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _template(statics: Any, templates: Payload | None) -> list[str]:
    if _is_int(statics):
        found = templates.get(str(statics)) if templates is not None else None
        if not isinstance(found, list):
            raise ProtocolError(
                f'"s": {statics} names a template, but no enclosing "p" has template {statics}'
            )
        return found
    if not isinstance(statics, list) or not all(isinstance(part, str) for part in statics):
        raise ProtocolError(f'"s" is a list of strings or a template number, got {statics!r:.80}')
    return statics


def _merge_components(old: Payload, new: Payload) -> Payload:
    """Merge component diffs by cid; ``"s": cid`` shares a new (> 0) or old (< 0) one's statics."""
    merged: Payload = {}

    def resolve(cid: str) -> Payload:
        if cid in merged:
            return merged[cid]  # type: ignore[no-any-return]
        change = new[cid]
        shared = change.get(STATIC)
        if isinstance(shared, int) and not isinstance(shared, bool):
            source = resolve(str(shared)) if shared > 0 else old[str(-shared)]
            result = _merged(source, {k: v for k, v in change.items() if k != STATIC})
            result[STATIC] = source[STATIC]
        elif STATIC in change or cid not in old:
            result = change
        else:
            result = _merged(old[cid], change)
        merged[cid] = result
        return result

    for cid in new:
        resolve(cid)
    return {**old, **merged}


def _merged(target: Payload, source: Payload) -> Payload:
    """``target`` with ``source`` merged in, as a new dict; ``target`` is left as it was."""
    if STREAM in source:
        return _merged_stream(target, source)
    if KEYED in source:
        return _merged_keyed(target, source)
    result = dict(target)
    for key, value in source.items():
        current = target.get(key)
        if isinstance(value, dict) and STATIC not in value and isinstance(current, dict):
            result[key] = _merged(current, value)
        else:
            result[key] = value
    return result


def _merged_keyed(target: Payload, source: Payload) -> Payload:
    entries = source[KEYED]
    old = target.get(KEYED, {KEYED_COUNT: 0})
    into = dict(old)  # moves read from `old`, which no write below touches
    for index, entry in entries.items():
        if index in (KEYED_COUNT, KEYED_MOVED):
            continue
        if isinstance(entry, list):
            old_index, change = entry
            into[index] = _merged(old[str(old_index)], change)
        elif isinstance(entry, int):
            into[index] = old[str(entry)]
        else:
            into[index] = _merged(old.get(index, {}), entry)
    count = entries[KEYED_COUNT]
    for stale in range(count, old.get(KEYED_COUNT, 0)):
        into.pop(str(stale), None)
    into[KEYED_COUNT] = count
    result = {k: v for k, v in source.items() if k != KEYED}
    return {**target, **result, KEYED: into}


def to_html(tree: Payload) -> str:
    """The HTML of a merged tree."""
    parts: list[str] = []
    _tree_html(tree, parts, tree.get(COMPONENTS, {}))
    return "".join(parts)


def _tree_html(node: Any, parts: list[str], components: Payload) -> None:
    if isinstance(node, str):
        parts.append(node)
        return
    if isinstance(node, int):
        _tree_html(components[str(node)], parts, components)
        return
    statics = node[STATIC]
    if KEYED in node:
        entries = node[KEYED]
        for i in range(entries[KEYED_COUNT]):
            entry = entries[str(i)]
            # A stream's rows carry their own statics (see _apply_stream).
            _dynamics_html(entry, entry.get(STATIC, statics), parts, components)
    else:
        _dynamics_html(node, statics, parts, components)


def _dynamics_html(
    node: Payload, statics: list[str], parts: list[str], components: Payload
) -> None:
    last = len(statics) - 1
    for i in range(last):
        parts.append(statics[i])
        _tree_html(node[_key(i)], parts, components)
    parts.append(statics[last])

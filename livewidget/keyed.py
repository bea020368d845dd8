"""Keyed lists: ``each(items, render, key=...)``, and what it may keep from its last call.

``each`` makes a keyed ``Comprehension`` (``template.py``): every row comes from ``render(item)``
and is matched across renders by ``key(item)``, so the diff (``protocol.py``) sends one changed
row as one row and a reorder as moves. Most rows of a render come out as they did last time,
so ``each`` renders again only the rows whose item, or what the row function reads besides it,
may have changed since its last call at the same call site; the others keep their last render,
already escaped for the row template's contexts (which do not change between renders of one
template). ``reuse.py`` says what is compared and what is not tracked; the diff then skips
every entry that is the same object as last time.

Given a stream (``ctx.streams.NAME``, ``stream.py``), ``each`` renders the rows inserted since
the last send only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from itertools import compress, repeat
from operator import itemgetter, ne
from typing import Any, TypeAlias, TypeVar

from . import reuse as reuse_
from .template import (
    ComponentRef,
    Comprehension,
    Dynamic,
    Rendered,
    TemplateError,
    comprehension_of,
    uniform_template,
)

__all__ = ["each"]

T = TypeVar("T")


def each(
    items: Iterable[T],
    render: Callable[..., Rendered],
    *,
    key: Callable[[T], Hashable] | None = None,
    reuse: bool = True,
) -> Comprehension:
    """A keyed comprehension: ``render`` each item, matched across renders by ``key(item)``.

    One changed row sends one row; a reorder sends moves instead of the list::

        rows = each(table, lambda r: html(ROW, **r), key=lambda r: r["id"])
        html("<table>{rows}</table>", rows=rows)

    A row whose item and row function are provably as they were at the last call of this
    ``each`` is not rendered again: its last output is reused (``livewidget.reuse`` says what
    is compared; ``reuse=False`` renders every row).

    Given a stream (``ctx.streams.NAME``, see ``livewidget.stream``) instead of a list, ``each``
    renders ``render(dom_id, item)`` for the rows inserted since the last send only; no key.
    """
    from .stream import Stream  # stream.py builds on this module

    if isinstance(items, Stream):
        if key is not None:
            raise TemplateError(
                f"each(): a stream's rows are keyed by their DOM id; drop key= for "
                f"ctx.streams.{items.name}"
            )
        return items.render(render)
    if key is None:
        raise TemplateError(
            "each() needs key=, a function giving each item's key (lw.each(rows, render, "
            "key=lambda row: row['id'])), unless it renders a stream (ctx.streams.NAME)"
        )
    listed = items if type(items) is list else list(items)
    site = reuse_.call_site(1) if reuse else None
    deps = reuse_.dependencies(render, key) if site is not None else None
    if site is None or deps is None or not listed:
        return _each(listed, render, key)
    probes = (id(listed[0]), id(listed[len(listed) // 2]), id(listed[-1]))
    last = reuse_.load(site, deps, probes)
    found = last.rows if last is not None else {}
    rows: list[_Row] = list(map(found.get, map(id, listed), repeat(_MISS)))
    # A row found by id(item) holds its item, so the item is that very object: two live objects
    # never share an id. What is left to check is that it did not change in place: item != its
    # copy (the item itself if it cannot change), each test made in C. A row not found is
    # (_MISSING, _ABSENT, ...), and _MISSING != _ABSENT.
    changed = list(compress(range(len(rows)), map(ne, map(_ROW_ITEM, rows), map(_ROW_COPY, rows))))
    # The rows found all come from one call, whose rows shared one template if it has one.
    template = last.template if last is not None else None
    for index in changed:
        row = rows[index] = _row(listed[index], render, key)
        if type(row[3]) is not Rendered or row[3].template is not template:
            template = None
    keys = tuple(map(_KEY, rows))
    if (last is None or keys != last.keys) and len(set(keys)) != len(keys):
        _each(listed, render, key)  # raises for the key that appears twice
    never = reuse_.NEVER
    # The memo: the last one copied and patched (a copy of a dict is cheap), rows no longer shown
    # kept (valid, if unused) up to _PATCHED of them; else the rows shown.
    patched = bool(found) and len(changed) < _PATCHED
    if patched:
        memo = found.copy()
        for index in changed:
            if rows[index][1] is never:  # a row that cannot be compared stays out
                memo.pop(id(listed[index]), None)
            else:
                memo[id(listed[index])] = rows[index]
        patched = len(memo) <= len(rows) + _PATCHED
    if not patched:
        memo = {id(item): row for item, row in zip(listed, rows) if row[1] is not never}
    # Memo.template: the template of every row the memo holds (those not shown too), or None.
    if template is not None:  # every row shown has it, checked when first seen (_comprehension)
        comprehension = Comprehension(template, tuple(map(_ROW_DYNAMICS, rows)), keys)
    else:
        rendered = list(map(_RENDER, rows))
        comprehension = comprehension_of(rendered, keys)
        template = None if patched else uniform_template(rendered)
    reuse_.store(site, reuse_.Memo(deps, memo, keys, template), last)
    return comprehension


# A row: its item, what to compare the item with next time, its key, render and dynamics.
_Row: TypeAlias = "tuple[Any, Any, Hashable, Rendered, tuple[Dynamic, ...]]"
_MISSING, _ABSENT = object(), object()
_MISS = (_MISSING, _ABSENT, None, None, None)
_PATCHED = 64
_ROW_ITEM = itemgetter(0)
_ROW_COPY = itemgetter(1)
_KEY = itemgetter(2)
_RENDER = itemgetter(3)
_ROW_DYNAMICS = itemgetter(4)


def _row(item: Any, render: Callable[..., Rendered], key: Callable[[Any], Hashable]) -> _Row:
    """One row rendered: the item, what to compare it with next time (the item itself if it
    cannot change, a copy, or ``NEVER``: not reused), its key and its render."""
    item_key = key(item)
    output = render(item)
    if not isinstance(output, Rendered):
        raise TemplateError(
            f"each(): render must return lw.html(...), got {type(output).__name__}: {output!r:.80}"
        )
    # A live component's placement is bound to the view that resolves it: never shared.
    copied = reuse_.NEVER if _holds_component(output.dynamics) else reuse_.item_copy(item)
    return (item, item if copied is reuse_.FROZEN else copied, item_key, output, output.dynamics)


def _holds_component(dynamics: tuple[Dynamic, ...]) -> bool:
    for dynamic in dynamics:
        if type(dynamic) is str:
            continue
        if isinstance(dynamic, ComponentRef):
            return True
        if isinstance(dynamic, Rendered) and _holds_component(dynamic.dynamics):
            return True
        if isinstance(dynamic, Comprehension) and any(map(_holds_component, dynamic.entries)):
            return True
    return False


def _each(
    items: list[Any], render: Callable[..., Rendered], key: Callable[[Any], Hashable]
) -> Comprehension:
    """Every row rendered, none reused."""
    rendered: list[Rendered] = []
    keys: list[Hashable] = []
    seen: set[Hashable] = set()
    for item in items:
        item_key = key(item)
        if item_key in seen:
            raise TemplateError(
                f"each(): the key {item_key!r} appears twice; keys must be unique within a list."
            )
        seen.add(item_key)
        keys.append(item_key)
        output = render(item)
        if not isinstance(output, Rendered):
            raise TemplateError(
                f"each(): render must return lw.html(...), got {type(output).__name__}: "
                f"{output!r:.80}"
            )
        rendered.append(output)
    return comprehension_of(rendered, tuple(keys))

"""What a keyed ``each`` may reuse from its last render: the row functions' dependencies.

``each(rows, row, key=...)`` renders every row on every render of the view. Most of them come
out as they did last time: the view changed one row, or something else entirely. Phoenix
LiveView knows which assigns each part of a template reads, because its templates are
compiled; a Python row function is code that may read anything. So ``each`` reuses a row's
last output only when everything that output was made from is provably the same:

* **the item**: the same object and, unless it cannot change (a str, a number, a tuple of
  those), equal (``==``) to a copy taken when the row was rendered, so a dict or list row
  changed in place renders again. Like ``socket.assign``, this does not see a value replaced
  in place by an equal one that shows differently (``1`` by ``True``, ``0.0`` by ``-0.0``),
  nor a dict's keys put in another order.
  Only a ``dict``, ``list`` or ``tuple`` of plain values (``str``, numbers, ``None``, dates,
  ``Decimal``, tuples of those), or one such value, is reused; any other row (an object, a
  dataclass, a named tuple, a dict holding a list or ``lw.Markup``) renders every time.
* **the row function and the key function**: the same code, and equal *dependencies*: their
  default arguments, the values of their closure variables, the object of a bound method, the
  arguments of a ``functools.partial``, and the module globals their code names. A global that
  is a function of the same module is followed into (its own dependencies count); a function
  of another module, a module and a class count by identity: what they read is not followed.
  Dependencies are copied once per ``each`` call and compared strictly (of the same type and
  equal, and by repr where equal values show differently: ``1`` and ``True``, ``0.0`` and
  ``-0.0``, text and ``Markup`` differ); a mutable one (a dict, a list, a set changed by
  ``selected.add(3)``) is copied whole. If any dependency cannot be copied and compared (an
  arbitrary object, the view's ``self``, more than 1,000 values, ``ctx`` holding many rows),
  nothing is reused: every row renders, as before.

What is not tracked, and so must not change a row's output without one of the above changing:
what a function of another module, a module's attributes or a class's attributes hold (``lw``,
``math.pi``, a class constant); the builtins; the time, randomness, files and the network
(``datetime.now()`` in a row function is read once and kept, as in Phoenix, where code that
reads no assign is not run again). ``each(..., reuse=False)`` turns reuse off for one list.

Memos are kept per call site (the code and the instruction that called ``each``): each holds
the rows of one call, and the next call with the same dependencies that shows some of the same
item objects (its first, middle or last) starts from it and replaces it. So several views
rendering one line, each with rows of its own, each keep theirs, up to ``MEMOS_PER_SITE`` of
them; beyond that the least recent are dropped (those views then render every row, as before).
There is no lock: each call reads the memos it finds and publishes a new tuple of them. Code
objects are held weakly, so re-running a notebook cell frees the memos of the code it replaced.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import fractions
import functools
import operator
import sys
import types
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Final

from markupsafe import Markup

__all__ = ["FROZEN", "NEVER", "Memo", "call_site", "dependencies", "item_copy", "load", "store"]

# Values that cannot change, whose == means "renders the same" (up to the type, checked apart).
_PLAIN: Final = frozenset(
    {
        str,
        int,
        float,
        complex,
        bool,
        type(None),
        bytes,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        decimal.Decimal,
        fractions.Fraction,
    }
)
_EXACT: Final = frozenset({str, int, bool, type(None), bytes})  # equal ones show the same
# As dependencies, values compared by identity: what they hold is not tracked (see above).
_BY_IDENTITY: Final = (
    enum.Enum,  # a member is one object for good
    types.ModuleType,
    type,
    types.BuiltinFunctionType,
    types.BuiltinMethodType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
)
_BUDGET: Final = 1_000  # values copied per each() call, at most; beyond that nothing is reused


class Untracked(Exception):
    """A dependency that cannot be copied and compared; ``each`` then reuses nothing."""


# --- items: checked for every row of every render, so the check is one == at most -------------

FROZEN: Final[Any] = object()  # the item cannot change: the same object is the same item
NEVER: Final[Any] = object()  # the item may change unseen: its row is never reused


def item_copy(item: Any) -> Any:
    """What to compare ``item`` with next time: ``FROZEN``, an equal copy, or ``NEVER``."""
    kind = type(item)
    if kind in _PLAIN:
        return FROZEN if _frozen_value(item) else NEVER
    if kind is dict:
        return dict(item) if all(map(_frozen_value, item.values())) else NEVER
    if kind is list:
        return list(item) if all(map(_frozen_value, item)) else NEVER
    if kind is tuple:
        return FROZEN if all(map(_frozen_value, item)) else NEVER
    return NEVER


def _frozen_value(value: Any) -> bool:
    """A value that cannot change in place and whose == shows its output (Markup is left out:
    ``Markup("<b>") == "<b>"``, so a copy could not tell trusted markup from text)."""
    kind = type(value)
    if kind in _PLAIN:
        # a signalling NaN raises on ==; a NaN never equals its copy (its row renders again)
        return not (kind is decimal.Decimal and value.is_snan())
    if kind is tuple:
        return all(map(_frozen_value, value))
    return False


# --- dependencies: computed once per each() call ----------------------------------------------


def dependencies(*functions: Callable[..., Any]) -> object | None:
    """A copy of everything ``functions`` read besides their arguments, or None if some of it
    cannot be copied and compared (see the module docstring)."""
    budget = [_BUDGET]
    try:
        return tuple(_function(fn, budget, set(), None) for fn in functions)
    except (Untracked, RecursionError):  # RecursionError: a dependency nested too deep
        return None


def _spend(budget: list[int], amount: int = 1) -> None:
    budget[0] -= amount
    if budget[0] < 0:
        raise Untracked("too many values to copy")


def _value(value: Any, budget: list[int], seen: set[int], home: dict[str, Any] | None) -> Any:
    _spend(budget)
    kind = type(value)
    if kind in _PLAIN:
        if kind in _EXACT:
            return (kind, value)
        # 0.0 == -0.0, Decimal("1.0") == Decimal("1.00"), and one instant in two time zones
        # are equal, yet show differently: their repr tells them apart
        return (kind, value, repr(value))
    if kind is Markup:
        return (Markup, str(value))
    if kind in (tuple, list, set, frozenset):
        items = value if kind in (tuple, list) else sorted(value, key=repr)
        _spend(budget, len(items))
        return (kind, tuple(_value(item, budget, seen, home) for item in items))
    if isinstance(value, _BY_IDENTITY):
        return (_Identity(value),)
    if _is_namedtuple(value):
        return (kind, tuple(_value(item, budget, seen, home) for item in value))
    if kind is dict or _is_context(value):
        _spend(budget, len(value))
        pairs = tuple(
            (_value(k, budget, seen, home), _value(value[k], budget, seen, home)) for k in value
        )
        return (kind, pairs)
    if callable(value):
        return _function(value, budget, seen, home)
    from .template import Rendered  # template.py imports this module

    if kind is Rendered:
        return (_Identity(value),)  # a render never changes
    raise Untracked(f"{kind.__name__} cannot be copied and compared")


def _is_context(value: Any) -> bool:
    """A view's context (``ctx``): a read-only mapping, copied as a dict is."""
    from .socket import Context  # socket.py imports template.py, which imports this module

    return type(value) is Context


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _function(fn: Any, budget: list[int], seen: set[int], home: dict[str, Any] | None) -> Any:
    if isinstance(fn, types.MethodType):
        return (
            "method",
            _function(fn.__func__, budget, seen, home),
            _value(fn.__self__, budget, seen, home),
        )
    if isinstance(fn, functools.partial):
        return (
            "partial",
            _function(fn.func, budget, seen, home),
            _value(fn.args, budget, seen, home),
            _value(fn.keywords, budget, seen, home),
        )
    if isinstance(fn, (operator.itemgetter, operator.attrgetter)):
        return (type(fn), repr(fn))  # their repr shows what they get
    if isinstance(fn, _BY_IDENTITY):
        return (_Identity(fn),)
    if not isinstance(fn, types.FunctionType):
        raise Untracked(f"a callable {type(fn).__name__} cannot be followed")
    code = fn.__code__
    if home is not None and fn.__globals__ is not home:
        return (_Identity(fn),)  # a function of another module: by identity
    if id(code) in seen:
        return (code,)  # recursion: its dependencies are being copied already
    seen.add(id(code))
    home = fn.__globals__
    closure = tuple(_value(_cell(cell), budget, seen, home) for cell in fn.__closure__ or ())
    names = []
    for name in _names(code):
        if name in home:
            names.append((name, _value(home[name], budget, seen, home)))
    return (
        code,
        _value(fn.__defaults__ or (), budget, seen, home),
        _value(fn.__kwdefaults__ or {}, budget, seen, home),
        closure,
        tuple(names),
    )


def _cell(cell: types.CellType) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a closure variable not assigned yet
        return _UNSET


_UNSET: Final = ("unset",)


def _names(code: types.CodeType) -> tuple[str, ...]:
    """The global names a code object (and the code nested in it: lambdas, comprehensions)
    may read. Attribute names come along (``r.qty`` names ``qty``): a global of that name then
    counts too, which costs a comparison, not a wrong row. Cached weakly, as the memos are."""
    found = _names_of.get(code)
    if found is None:
        names = list(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                names.extend(_names(const))
        found = _names_of[code] = tuple(dict.fromkeys(names))
    return found


_names_of: weakref.WeakKeyDictionary[types.CodeType, tuple[str, ...]] = weakref.WeakKeyDictionary()


class _Identity:
    """Compares by the identity of what it holds (a module, a class, a foreign function)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


# --- the memo of one call site ------------------------------------------------------------------


class Memo:
    """The rows of one call at one call site, ``id(item) -> (item, copy, key, render,
    dynamics)``, made with ``deps``; ``copy`` is the item itself if it cannot change. Never
    changed once published (a call makes a new one)."""

    __slots__ = ("deps", "keys", "rows", "template")

    def __init__(
        self,
        deps: object,
        rows: dict[int, Any],
        keys: tuple[Hashable, ...],
        template: Any,
    ) -> None:
        self.deps = deps
        self.rows = rows
        self.keys = keys  # checked unique
        self.template = template  # the one template every row renders, or None


_sites: weakref.WeakKeyDictionary[types.CodeType, dict[int, tuple[Memo, ...]]] = (
    weakref.WeakKeyDictionary()
)
MEMOS_PER_SITE: Final = 16  # views rendering one line with rows of their own, each its memo


def call_site(depth: int) -> tuple[types.CodeType, int] | None:
    """The call site ``depth`` frames up: the caller's code and instruction."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return None
    return frame.f_code, frame.f_lasti


def load(site: tuple[types.CodeType, int], deps: object, probes: tuple[int, ...]) -> Memo | None:
    """The latest memo of ``site`` made with ``deps`` that holds one of ``probes`` (the ids of
    the first, middle and last items): several views rendering one line, each with rows of its
    own (or the same rows and other dependencies), each find their own."""
    by_instruction = _sites.get(site[0])
    memos = by_instruction.get(site[1], ()) if by_instruction is not None else ()
    for memo in memos:
        if memo.deps == deps and not memo.rows.keys().isdisjoint(probes):
            return memo
    return None


def store(site: tuple[types.CodeType, int], memo: Memo, replaces: Memo | None) -> None:
    """Publish ``memo`` first among the memos of ``site``, in place of ``replaces`` (the one
    ``load`` found, if any), keeping the ``MEMOS_PER_SITE`` most recent. Each call publishes a
    new tuple (a dict store is atomic): two threads at one line may lose a memo, never mix two.
    """
    code, instruction = site
    by_instruction = _sites.get(code)
    if by_instruction is None:
        by_instruction = _sites[code] = {}
    others = tuple(m for m in by_instruction.get(instruction, ()) if m is not replaces)
    by_instruction[instruction] = (memo, *others[: MEMOS_PER_SITE - 1])

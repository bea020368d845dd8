"""Messages from the front end: checked, bounded, decoded, and turned into mailbox messages.

The front end is not trusted. Every message is checked against the shapes below before it
reaches a view, and a bad one raises ``FrontendMessageError`` saying what was expected and what
came; the widget reports it and the view never sees it::

    {"type": "join"}                                    a view attached; send the full render
    {"type": "event", "kind": "click", "event": "inc",  phx-click with its phx-value-* values
     "value": {"by": "2"}, "cid": null}
    {"type": "event", "kind": "form", "event": "save",  phx-change / phx-submit: the form,
     "value": "user%5Bname%5D=Ada&_target=user%5Bname%5D"}   urlencoded, decoded here

Those are the only keys. What the real front end puts in ``value`` (js/src/bindings.ts,
payloads.ts, hooks.ts): for click, key, blur and focus events an object of strings
(``phx-value-*``, the element's ``value``, ``key``), plus whatever JSON a JS ``push`` command
adds; for ``hook`` the object a hook passes to ``pushEvent`` (any JSON); for ``form`` the form,
urlencoded. So a value is any JSON object, within these bounds:

    =======================  ==========  =================================================
    bound                    limit       why
    =======================  ==========  =================================================
    size                     1,000,000   bytes of text (UTF-8) and numbers, as compact JSON;
                                         Plug's default for an urlencoded body. A queued
                                         message costs the kernel about this much.
    nesting                  32          levels of objects and lists (the value is level 1;
                                         ``a[b][c]`` in a form is 3). Express's default for
                                         form names; deep enough for any real payload, and
                                         far from Python's recursion limit, so a handler
                                         may ``json.dumps``, copy or compare what it gets.
    keys of one object,      1,000       Django's and Express's default for form fields.
    fields of one form
    entries in all           100,000     keys and list items; bounds what the kernel holds
                                         for one message (an empty dict is 64 bytes).
    a key or field name      1,000       characters; names are names, data goes in values.
    event name               256         characters.
    =======================  ==========  =================================================

Numbers must be finite (JSON has no NaN). Everything is measured iteratively, stopping at the
first bound crossed, so a message nested as deep as ipykernel's parser allows (about 990
levels) or holding millions of entries gets a clear error, never a ``RecursionError``.
A lone surrogate (half of a UTF-16 pair, which JavaScript strings may hold and JSON escapes
as ``\\ud800``) is not text: it becomes U+FFFD, as the browser does when it shows one, so a
handler never holds a ``str`` that cannot be encoded.

Form data is decoded the way Phoenix does it: ``user[name]=Ada`` becomes
``{"user": {"name": "Ada"}}``, ``tags[]=a&tags[]=b`` becomes ``{"tags": ["a", "b"]}``, and
``_target`` (the field that changed) becomes a path, ``["user", "name"]``.
"""

from __future__ import annotations

import math
import re
from itertools import islice
from typing import Any, Final
from urllib.parse import parse_qsl

from . import wire
from .runtime.messages import Event, Join
from .text import has_surrogates, repair

__all__ = ["FrontendMessageError", "decode_form", "decode_message"]

MAX_MESSAGE_BYTES: Final = 1_000_000
MAX_EVENT_NAME: Final = 256
MAX_DEPTH: Final = 32
MAX_KEYS: Final = 1_000
MAX_FORM_FIELDS: Final = MAX_KEYS
MAX_ENTRIES: Final = 100_000
MAX_KEY_LENGTH: Final = 1_000
EVENT_KINDS: Final = wire.EVENT_KINDS
_EVENT_KEYS: Final = (wire.TYPE, wire.KIND, wire.EVENT, wire.VALUE, wire.CID)
_JOIN_KEYS: Final = (wire.TYPE,)
_FIELD = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class FrontendMessageError(ValueError):
    """A message from the front end does not have the expected shape, or is too big."""


def decode_message(content: object) -> Event | Join:
    """Check one message from the front end and return the mailbox message it stands for.

    Raises ``FrontendMessageError``, and nothing else, for anything that is not a message the
    front end sends.
    """
    if not isinstance(content, dict):
        raise FrontendMessageError(
            f"expected a JSON object from the front end, got {_describe(content)}"
        )
    kind = content.get(wire.TYPE)
    if kind == wire.MSG_JOIN:
        _only_keys(content, _JOIN_KEYS, "a join message")
        return Join()
    if kind != wire.MSG_EVENT:
        raise FrontendMessageError(
            f"expected a message of type {wire.MSG_JOIN!r} or {wire.MSG_EVENT!r}, "
            f"got type {_describe(kind)}"
        )
    _only_keys(content, _EVENT_KEYS, "an event message")
    event = content.get(wire.EVENT)
    if not isinstance(event, str) or not event or len(event) > MAX_EVENT_NAME:
        raise FrontendMessageError(
            f"expected an event name (a str of 1 to {MAX_EVENT_NAME} characters), "
            f"got {_describe(event)}"
        )
    binding = content.get(wire.KIND)
    if not isinstance(binding, str) or binding not in EVENT_KINDS:
        raise FrontendMessageError(
            f"expected an event kind, one of {sorted(EVENT_KINDS)}, got {_describe(binding)}"
        )
    cid = content.get(wire.CID)
    if cid is not None and (not isinstance(cid, int) or isinstance(cid, bool) or cid < 0):
        raise FrontendMessageError(
            f"expected a component id (an int >= 0) or null, got {_describe(cid)}"
        )
    value = content.get(wire.VALUE, {})
    params: dict[str, Any]
    if binding == wire.KIND_FORM:
        if not isinstance(value, str):
            raise FrontendMessageError(
                f"expected form data as an urlencoded str, got {_describe(value)}"
            )
        params = decode_form(value)
    else:
        if not isinstance(value, dict):
            raise FrontendMessageError(
                f"expected the event's values as a JSON object, got {_describe(value)}"
            )
        params = _repaired(value) if _check_value(value) else value
    return Event(repair(event), params, cid)


def decode_form(data: str) -> dict[str, Any]:
    """Decode urlencoded form data into nested dicts and lists, as Phoenix does.

    Bounded like every message: its size, its number of fields and the nesting of its names.
    """
    size = _text_bytes(data)
    if size > MAX_MESSAGE_BYTES:
        raise FrontendMessageError(
            f"an event message is at most {MAX_MESSAGE_BYTES:,} bytes, got form data of "
            f"{size:,} bytes; keep large data out of forms (the kernel can read a file)"
        )
    if data.count("&") >= MAX_FORM_FIELDS:
        fields = sum(1 for piece in data.split("&") if piece)
        if fields > MAX_FORM_FIELDS:
            raise FrontendMessageError(
                f"a form has {fields:,} fields; at most {MAX_FORM_FIELDS:,} are accepted; "
                "split it into smaller forms"
            )
    try:
        pairs = parse_qsl(repair(data), keep_blank_values=True, strict_parsing=False)
    except ValueError as error:
        raise FrontendMessageError(f"malformed form data: {error}") from None
    result: dict[str, Any] = {}
    target: list[str] | None = None
    for name, value in pairs:
        if name == wire.FORM_TARGET:
            target = _path(value)
            continue
        if name.startswith(wire.FORM_TARGET + "["):
            raise FrontendMessageError(
                f"form field {_describe(name, 80)}: _target names the one field that changed "
                "(_target=user%5Bname%5D); it takes no brackets"
            )
        _put(result, _path(name), value, name)
    if target is not None:
        result[wire.FORM_TARGET] = target
    return result


# -- bounds -----------------------------------------------------------------------------------


def _only_keys(content: dict[Any, Any], allowed: tuple[str, ...], what: str) -> None:
    extra = [key for key in content if key not in allowed]
    if extra:
        shown = ", ".join(_describe(key) for key in extra[:3])
        more = f" and {len(extra) - 3:,} more" if len(extra) > 3 else ""
        raise FrontendMessageError(
            f"{what} has the keys {', '.join(allowed)}; got also {shown}{more}"
        )


def _check_value(value: dict[str, Any]) -> bool:
    """Check an event's value against the bounds; return whether some str needs repair.

    One pass with an explicit stack of containers (scalars are measured where they sit),
    stopping at the first bound crossed: the work is at most MAX_ENTRIES entries, however big
    or deep the value is.
    """
    size = 0
    entries = 0
    needs_repair = False
    stack: list[tuple[dict[Any, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict) and len(node) > MAX_KEYS:
            raise FrontendMessageError(
                f"an object in an event's value has {len(node):,} keys; at most "
                f"{MAX_KEYS:,} are accepted; use a list for many items"
            )
        entries += len(node)
        if entries > MAX_ENTRIES:
            raise FrontendMessageError(
                f"an event's value has more than {MAX_ENTRIES:,} entries (keys and list "
                f"items); at most {MAX_ENTRIES:,} are accepted; send less at a time"
            )
        size += 1 + len(node)
        children: Any = node
        if isinstance(node, dict):
            for key in node:
                if not isinstance(key, str):
                    raise FrontendMessageError(
                        f"an event's value has the key {_describe(key)}; JSON keys are strings"
                    )
                if len(key) > MAX_KEY_LENGTH:
                    raise FrontendMessageError(
                        f"an event's value has a key of {len(key):,} characters; at most "
                        f"{MAX_KEY_LENGTH:,} are accepted; put data in values, not keys"
                    )
                size += _text_bytes(key) + 3
                needs_repair = needs_repair or has_surrogates(key)
            children = node.values()
        for child in children:
            kind = type(child)
            if kind is str:
                size += _text_bytes(child) + 2
                needs_repair = needs_repair or has_surrogates(child)
                if size > MAX_MESSAGE_BYTES:
                    break
            elif kind is int:
                size += child.bit_length() * 30103 // 100000 + 2  # decimal digits and sign
            elif kind is float:
                if not math.isfinite(child):
                    raise FrontendMessageError(
                        f"an event's value holds the number {child!r}; JSON numbers are finite"
                    )
                size += 24
            elif child is None or kind is bool:
                size += 5
            elif kind is dict or kind is list:
                if depth >= MAX_DEPTH:
                    deepest, complete = _depth(child)
                    levels = f"{depth + deepest:,}" if complete else f"more than {depth + 1:,}"
                    raise FrontendMessageError(
                        f"an event's value nests {levels} levels deep; at most {MAX_DEPTH} are "
                        "accepted; send flatter data"
                    )
                stack.append((child, depth + 1))
            else:
                raise FrontendMessageError(
                    f"an event's value holds {_describe(child)}, which is not JSON (expected "
                    "a str, number, bool, null, list or object)"
                )
        if size > MAX_MESSAGE_BYTES:
            raise FrontendMessageError(
                f"an event message is at most {MAX_MESSAGE_BYTES:,} bytes, got a value of more "
                f"than {size:,}; keep large data out of events (the kernel can read a file)"
            )
    return needs_repair


def _depth(node: dict[str, Any] | list[Any]) -> tuple[int, bool]:
    """How many levels ``node`` nests (itself is 1), and whether all of it was looked at.

    Looks at no more than MAX_ENTRIES entries, so a huge value costs no more than a small one.
    """
    deepest, budget = 1, MAX_ENTRIES
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        children = current.values() if isinstance(current, dict) else current
        for child in children:
            budget -= 1
            if budget < 0:
                return deepest, False
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return deepest, True


def _text_bytes(text: str) -> int:
    """The UTF-8 size of ``text`` (a lone surrogate counts 3 bytes, as U+FFFD does)."""
    if len(text) > MAX_MESSAGE_BYTES or text.isascii():
        return len(text)  # too big either way, or one byte a character
    return len(text.encode("utf-8", "surrogatepass"))


def _repaired(value: dict[str, Any]) -> dict[str, Any]:
    """A copy of a checked value with every str (keys too) repaired; iterative."""
    root: dict[str, Any] = {}
    stack: list[tuple[Any, Any, Any]] = [(root, "v", value)]
    while stack:
        parent, key, node = stack.pop()
        if isinstance(node, str):
            parent[key] = repair(node)
        elif isinstance(node, dict):
            copy = {repair(k): v for k, v in node.items()}
            parent[key] = copy
            stack.extend((copy, k, v) for k, v in copy.items())
        elif isinstance(node, list):
            items = list(node)
            parent[key] = items
            stack.extend((items, i, v) for i, v in enumerate(items))
        else:
            parent[key] = node
    result: dict[str, Any] = root["v"]
    return result


def _describe(value: object, limit: int = 60) -> str:
    """A short description of any value for an error message; never recurses, never long."""
    if isinstance(value, str):
        shown = repr(value[:limit])  # escapes lone surrogates: the message stays valid text
        if len(value) > limit or len(shown) > limit + 2:
            return shown[: limit + 1] + "..."
        return shown
    if value is None or isinstance(value, (bool, float)):
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() <= 64:
            return repr(value)
        return f"an int of about {value.bit_length() * 30103 // 100000:,} digits"
    if isinstance(value, list):
        return f"a list of {len(value):,} items" if value else "[]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        keys = ", ".join(_describe(key, 20) for key in islice(value, 3))
        return f"an object with the keys {keys}{', ...' if len(value) > 3 else ''}"
    return f"a {type(value).__name__}"


# -- forms ------------------------------------------------------------------------------------


def _path(name: str) -> list[str]:
    """A form field name as a path: ``user[tags][]`` -> ``["user", "tags", ""]``."""
    if len(name) > MAX_KEY_LENGTH:
        raise FrontendMessageError(
            f"a form field name has {len(name):,} characters; at most {MAX_KEY_LENGTH:,} are "
            "accepted"
        )
    match = _FIELD.match(name)
    if match is None:
        raise FrontendMessageError(
            f"malformed form field name {_describe(name, 80)}: expected name, name[key]... "
            "or name[]"
        )
    head, brackets = match.groups()
    levels = 1 + brackets.count("[")
    if levels > MAX_DEPTH:
        raise FrontendMessageError(
            f"a form field name nests {levels:,} levels deep ({_describe(name, 40)}); at most "
            f"{MAX_DEPTH} are accepted"
        )
    return [head, *re.findall(r"\[([^\[\]]*)\]", brackets)]


def _put(container: dict[str, Any], path: list[str], value: str, name: str) -> None:
    node: Any = container
    for i, key in enumerate(path):
        last = i == len(path) - 1
        following = None if last else path[i + 1]
        if key == "":
            if not isinstance(node, list):
                raise FrontendMessageError(
                    f"form field {_describe(name, 80)} mixes [] with named keys"
                )
            if last:
                node.append(value)
                return
            node.append({} if following != "" else [])
            node = node[-1]
            continue
        if not isinstance(node, dict):
            raise FrontendMessageError(
                f"form field {_describe(name, 80)} conflicts with another field"
            )
        if last:
            node[key] = value
            return
        default: Any = [] if following == "" else {}
        child = node.setdefault(key, default)
        if type(child) is not type(default):
            raise FrontendMessageError(
                f"form field {_describe(name, 80)} conflicts with another field"
            )
        node = child

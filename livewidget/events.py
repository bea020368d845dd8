"""Messages from the front end: checked, decoded, and turned into mailbox messages.

The front end is not trusted. Every message is checked against the shapes below before it
reaches a view, and a bad one raises ``FrontendMessageError`` saying what was expected and what
came; the widget reports it and the view never sees it::

    {"type": "join"}                                    a view attached; send the full render
    {"type": "event", "kind": "click", "event": "inc",  phx-click with its phx-value-* values
     "value": {"by": "2"}, "cid": null}
    {"type": "event", "kind": "form", "event": "save",  phx-change / phx-submit: the form,
     "value": "user%5Bname%5D=Ada&_target=user%5Bname%5D"}   urlencoded, decoded here

Form data is decoded the way Phoenix does it: ``user[name]=Ada`` becomes
``{"user": {"name": "Ada"}}``, ``tags[]=a&tags[]=b`` becomes ``{"tags": ["a", "b"]}``, and
``_target`` (the field that changed) becomes a path, ``["user", "name"]``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final
from urllib.parse import parse_qsl

__all__ = ["FrontendMessageError", "decode_form", "decode_message"]

MAX_MESSAGE_BYTES: Final = 1_000_000
MAX_EVENT_NAME: Final = 256
EVENT_KINDS: Final = frozenset({"click", "form", "keydown", "keyup", "blur", "focus", "hook"})
_FIELD = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class FrontendMessageError(ValueError):
    """A message from the front end does not have the expected shape."""


def decode_message(content: Any) -> tuple[Any, ...]:
    """Check one message from the front end and return the mailbox message it stands for."""
    if not isinstance(content, dict):
        raise FrontendMessageError(
            f"expected a JSON object from the front end, got {content!r:.120}"
        )
    kind = content.get("type")
    if kind == "join":
        return ("join",)
    if kind != "event":
        raise FrontendMessageError(
            f"expected a message of type 'join' or 'event', got type {kind!r:.60}"
        )
    size = len(json.dumps(content, default=str))
    if size > MAX_MESSAGE_BYTES:
        raise FrontendMessageError(
            f"an event message is at most {MAX_MESSAGE_BYTES:,} bytes, got {size:,}"
        )
    event = content.get("event")
    if not isinstance(event, str) or not event or len(event) > MAX_EVENT_NAME:
        raise FrontendMessageError(
            f"expected an event name (a str of 1 to {MAX_EVENT_NAME} characters), got {event!r:.60}"
        )
    binding = content.get("kind")
    if not isinstance(binding, str) or binding not in EVENT_KINDS:
        raise FrontendMessageError(
            f"expected an event kind, one of {sorted(EVENT_KINDS)}, got {binding!r:.60}"
        )
    cid = content.get("cid")
    if cid is not None and (not isinstance(cid, int) or isinstance(cid, bool) or cid < 0):
        raise FrontendMessageError(f"expected a component id (an int) or null, got {cid!r:.60}")
    value = content.get("value", {})
    if binding == "form":
        if not isinstance(value, str):
            raise FrontendMessageError(
                f"expected form data as an urlencoded str, got {type(value).__name__}"
            )
        params = decode_form(value)
    else:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise FrontendMessageError(
                f"expected the event's values as a JSON object, got {value!r:.120}"
            )
        params = value
    return ("event", event, params, cid)


def decode_form(data: str) -> dict[str, Any]:
    """Decode urlencoded form data into nested dicts and lists, as Phoenix does."""
    result: dict[str, Any] = {}
    try:
        pairs = parse_qsl(data, keep_blank_values=True, strict_parsing=False)
    except ValueError as error:
        raise FrontendMessageError(f"malformed form data: {error}") from None
    target: list[str] | None = None
    for name, value in pairs:
        if name == "_target":
            target = _path(name=value)
            continue
        path = _path(name)
        _put(result, path, value, name)
    if target is not None:
        result["_target"] = target
    return result


def _path(name: str) -> list[str]:
    match = _FIELD.match(name)
    if match is None:
        raise FrontendMessageError(f"malformed form field name {name!r:.80}")
    head, brackets = match.groups()
    return [head, *re.findall(r"\[([^\[\]]*)\]", brackets)]


def _put(container: dict[str, Any], path: list[str], value: str, name: str) -> None:
    node: Any = container
    for i, key in enumerate(path):
        last = i == len(path) - 1
        following = None if last else path[i + 1]
        if key == "":
            if not isinstance(node, list):
                raise FrontendMessageError(f"form field {name!r:.80} mixes [] with named keys")
            if last:
                node.append(value)
                return
            node.append({} if following != "" else [])
            node = node[-1]
            continue
        if not isinstance(node, dict):
            raise FrontendMessageError(f"form field {name!r:.80} conflicts with another field")
        if last:
            node[key] = value
            return
        default: Any = [] if following == "" else {}
        child = node.setdefault(key, default)
        if type(child) is not type(default):
            raise FrontendMessageError(f"form field {name!r:.80} conflicts with another field")
        node = child

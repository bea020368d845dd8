"""Text that can cross the wire: lone surrogates become U+FFFD.

A Python ``str`` may hold a lone surrogate (``json.loads('"Eve \\ud800"')`` from an API, a file
name decoded with ``surrogateescape``). UTF-8 cannot encode one, so a message holding it cannot
be sent: Jupyter's serializer raises, or writes invalid UTF-8 that the server then drops. The
page would wait for that message forever. Such text is repaired as browsers repair it, with
U+FFFD (the replacement character), so the rest of the text still shows.

``repair`` costs one flag test for ASCII text (CPython knows whether a ``str`` is ASCII) and one
regular-expression scan otherwise.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["LONE_SURROGATE", "has_surrogates", "repair", "repair_payload"]

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    return not text.isascii() and LONE_SURROGATE.search(text) is not None


def repair(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (the same object if none)."""
    if text.isascii() or LONE_SURROGATE.search(text) is None:
        return text
    return LONE_SURROGATE.sub("\ufffd", text)


def repair_payload(value: Any) -> Any:
    """A copy of a JSON-ready value (dicts, lists, str...) with every str repaired; keys too.

    Iterative, so a deeply nested value cannot exhaust the stack.
    """
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, key, node = stack.pop()
        if isinstance(node, str):
            parent[key] = repair(node)
        elif isinstance(node, dict):
            copy: dict[Any, Any] = {}
            for k, v in node.items():
                copy[repair(k) if isinstance(k, str) else k] = v
            parent[key] = copy
            stack.extend((copy, k, v) for k, v in copy.items())
        elif isinstance(node, list | tuple):
            items = list(node)
            parent[key] = items
            stack.extend((items, i, v) for i, v in enumerate(items))
    return root[0]

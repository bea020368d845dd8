"""Reading the page as a browser would: what an element sends, what a form submits.

The test client's page is the HTML that the merged payloads build, parsed afresh (BeautifulSoup)
whenever it is read. The helpers here compute what the front end (``js/src/payloads.ts``) puts
in an event's message: ``phx-value-*`` and the element's own value, a form's fields in order, a
changed field's name (``_target``).

An element has no identity across parses, yet a debounced event must find its element again
when its timer fires (and be dropped if a patch removed it, as ``el.isConnected`` says in the
browser). ``element_key`` names an element as the DOM patch keeps it: by its ``id``, or else by
its path of tag names and positions from the nearest ancestor with an id (morphdom patches in
place, so an element at the same path is the same element). ``locate`` finds it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bs4 import BeautifulSoup, Tag

__all__ = [
    "describe",
    "element_key",
    "flatten",
    "form_fields",
    "is_submit_button",
    "locate",
    "phx_values",
    "target_name",
    "values",
    "with_changes",
]


def describe(el: Tag) -> str:
    """The element's HTML, cut short, for error messages."""
    text = str(el)
    return text[:120] + ("…" if len(text) > 120 else "")


def element_key(el: Tag) -> str:
    """A name for ``el`` that finds it in a later parse of the page (see the docstring)."""
    steps: list[str] = []
    node: Tag | None = el
    while node is not None and node.name != "[document]":
        ident = node.get("id")
        if isinstance(ident, str) and ident:
            steps.append(f"#{ident}")
            break
        parent = node.parent
        same = list(parent.find_all(node.name, recursive=False)) if parent else [node]
        # By identity: bs4 compares tags by content, and twin siblings are equal.
        steps.append(f"{node.name}:{next(i for i, c in enumerate(same) if c is node)}")
        node = parent if isinstance(parent, Tag) else None
    return ">".join(reversed(steps))


def locate(soup: BeautifulSoup, key: str) -> Tag | None:
    """The element ``element_key`` named, in this parse of the page, if it is still there."""
    node: Tag | None = soup
    for step in key.split(">"):
        if node is None:
            return None
        if step.startswith("#"):
            node = soup.find(id=step[1:])
            continue
        name, _, index = step.rpartition(":")
        children = node.find_all(name, recursive=False)
        node = children[int(index)] if int(index) < len(children) else None
    return node


def phx_values(el: Tag) -> dict[str, Any]:
    """The element's ``phx-value-*`` attributes, by name."""
    return {
        name[len("phx-value-") :]: value
        for name, value in el.attrs.items()
        if name.startswith("phx-value-") and isinstance(value, str)
    }


def values(el: Tag) -> dict[str, Any]:
    """``phx-value-*`` and, as the browser sends it, the element's own value if it has one."""
    found = phx_values(el)
    if el.name in ("input", "button"):
        unchecked = el.get("type") in ("checkbox", "radio") and not el.has_attr("checked")
        if not unchecked:
            found["value"] = str(el.get("value", ""))
    elif el.name == "textarea":
        found["value"] = el.get_text()
    elif el.name == "select":
        chosen = el.find("option", selected=True) or el.find("option")
        found["value"] = str(chosen.get("value", chosen.get_text())) if chosen else ""
    return found


def is_submit_button(el: Tag) -> bool:
    """Whether ``el`` can submit its form: a ``<button>`` (of type submit, the default) or an
    ``<input type="submit">``. (An image input, which sends the click's coordinates, is not
    simulated.)"""
    kind = str(el.get("type", "submit" if el.name == "button" else "")).lower()
    return el.name in ("button", "input") and kind == "submit"


def form_fields(form: Tag, submitter: Tag | None = None) -> list[tuple[str, str]]:
    """The form's fields as the browser would submit them, in order (names may repeat), with
    the ``submitter`` button's name and value where it stands (``new FormData(form, by)``)."""
    fields: list[tuple[str, str]] = []
    for el in form.find_all(["input", "select", "textarea", "button"]):
        name = el.get("name")
        if not isinstance(name, str) or el.has_attr("disabled"):
            continue
        if el is submitter:
            fields.append((name, str(el.get("value", ""))))
        elif el.name == "button":
            continue
        elif el.name == "textarea":
            fields.append((name, el.get_text()))
        elif el.name == "select":
            chosen = el.find("option", selected=True) or el.find("option")
            if chosen is not None:
                fields.append((name, str(chosen.get("value", chosen.get_text()))))
        elif el.get("type") in ("checkbox", "radio"):
            if el.has_attr("checked"):
                fields.append((name, str(el.get("value", "on"))))
        elif el.get("type") not in ("submit", "image", "button", "reset", "file"):
            fields.append((name, str(el.get("value", ""))))
    return fields


def with_changes(fields: list[tuple[str, str]], changes: dict[str, str]) -> list[tuple[str, str]]:
    """The fields with each changed name's value replaced (or added, if the form lacks it)."""
    kept = [(name, value) for name, value in fields if name not in changes]
    return kept + list(changes.items())


def target_name(target: Any) -> str:
    """The form field name of a ``_target``: a path ``["user", "name"]`` is ``user[name]``."""
    if isinstance(target, str):
        return target
    if isinstance(target, list | tuple) and target and all(isinstance(p, str) for p in target):
        head, *rest = (str(part) for part in target)
        return head + "".join(f"[{part}]" for part in rest)
    raise TypeError(
        f'change(): "_target" is a field name ("user[name]") or a path (["user", "name"]), '
        f"got {target!r:.80}"
    )


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested form data as field names: ``{"user": {"name": "A"}}`` is ``user[name]=A``."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        else:
            flat[name] = str(value)
    return flat

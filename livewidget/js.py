"""JS commands: small DOM operations that run in the browser with no round trip.

``JS`` builds the list that a binding holds instead of an event name, in the encoding of
Phoenix's ``Phoenix.LiveView.JS``; each method returns a new ``JS``, so commands chain::

    lw.html('<button phx-click="{open}">Menu</button>',
            open=lw.JS.push("opened").toggle(to="#menu").add_class("active", to="#menu"))

In a template a ``JS`` goes in a binding (``phx-click``, ``phx-change``... any phx-* attribute
that is not a plain value like ``phx-value-*``): its JSON is escaped into the attribute and the
browser reads it back. It is the only way a field makes a binding run commands: a str there is
an event name, and one that starts with ``[`` is refused (``contexts.py``), so data from a row
cannot become commands. The front end runs the commands (``js/src/js_commands.ts``).

Commands never run script, whoever writes them: ``set_attribute`` refuses event-handler
attributes (``on*``), ``srcdoc``, and URL attributes (``href``, ``src``, ``formaction``...) set to
a URL that can run script (``javascript:``), here and again in the front end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .contexts import is_safe_attribute_value, url_separator

__all__ = ["JS", "JSCommands"]


def _names(names: str | Iterable[str]) -> list[str]:
    return names.split() if isinstance(names, str) else [str(n) for n in names]


def _args(**args: Any) -> dict[str, Any]:
    return {key: value for key, value in args.items() if value is not None}


def _check_attribute(name: str, value: str) -> None:
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(
            f"JS.set_attribute() takes a name and a value, both str, got {name!r} and {value!r}"
        )
    lower = name.lower()
    if lower.startswith("on"):
        raise ValueError(
            f"JS.set_attribute({name!r}, ...): JS commands never set event-handler attributes "
            "(on*), which run script; the front end refuses them. Bind the event instead "
            '(phx-click="{js}" with lw.JS commands), or write the behaviour in a hook.'
        )
    if lower == "srcdoc":
        raise ValueError(
            "JS.set_attribute('srcdoc', ...): JS commands never set srcdoc, a whole HTML "
            "document; render the iframe in the template instead."
        )
    # "animate": SVG animation's to / from / values set another attribute (href) too
    separator = url_separator("animate", lower)
    if separator is not None and not is_safe_attribute_value(value, separator):
        raise ValueError(
            f"JS.set_attribute({name!r}, {value!r:.60}): JS commands never set a URL attribute to "
            "a URL that can run script; allowed are http(s), mailto, tel, relative and "
            "data:image URLs. Use a binding (phx-click) for behaviour."
        )


class JSCommands:
    """An immutable list of JS commands; ``str(js)`` is its JSON. Start from ``JS``."""

    __slots__ = ("commands",)

    def __init__(self, commands: tuple[tuple[str, dict[str, Any]], ...] = ()) -> None:
        self.commands = commands

    def _then(self, kind: str, args: dict[str, Any]) -> JSCommands:
        return JSCommands((*self.commands, (kind, args)))

    def push(
        self,
        event: str,
        *,
        value: Mapping[str, Any] | None = None,
        target: int | None = None,
        loading: str | None = None,
    ) -> JSCommands:
        """Send ``event`` to the view (or to component ``target``), with ``value`` added."""
        if not isinstance(event, str) or not event:
            raise TypeError(f"JS.push() takes an event name, got {event!r}")
        return self._then(
            "push",
            _args(
                event=event, value=dict(value) if value else None, target=target, loading=loading
            ),
        )

    def show(self, *, to: str | None = None, display: str | None = None) -> JSCommands:
        return self._then("show", _args(to=to, display=display))

    def hide(self, *, to: str | None = None) -> JSCommands:
        return self._then("hide", _args(to=to))

    def toggle(self, *, to: str | None = None, display: str | None = None) -> JSCommands:
        return self._then("toggle", _args(to=to, display=display))

    def add_class(self, names: str | Iterable[str], *, to: str | None = None) -> JSCommands:
        return self._then("add_class", _args(names=_names(names), to=to))

    def remove_class(self, names: str | Iterable[str], *, to: str | None = None) -> JSCommands:
        return self._then("remove_class", _args(names=_names(names), to=to))

    def toggle_class(self, names: str | Iterable[str], *, to: str | None = None) -> JSCommands:
        return self._then("toggle_class", _args(names=_names(names), to=to))

    def set_attribute(self, name: str, value: str, *, to: str | None = None) -> JSCommands:
        """Set attribute ``name`` to ``value``; never an ``on*`` attribute, ``srcdoc``, or a URL
        attribute to a URL that can run script (the front end refuses those too)."""
        _check_attribute(name, value)
        return self._then("set_attr", _args(attr=[name, value], to=to))

    def remove_attribute(self, name: str, *, to: str | None = None) -> JSCommands:
        return self._then("remove_attr", _args(attr=name, to=to))

    def dispatch(
        self, event: str, *, to: str | None = None, detail: Mapping[str, Any] | None = None
    ) -> JSCommands:
        """Fire a DOM ``CustomEvent`` named ``event`` on the target."""
        return self._then(
            "dispatch", _args(event=event, to=to, detail=dict(detail) if detail else None)
        )

    def focus(self, *, to: str | None = None) -> JSCommands:
        return self._then("focus", _args(to=to))

    def __str__(self) -> str:
        return json.dumps([[kind, args] for kind, args in self.commands], separators=(",", ":"))

    def __repr__(self) -> str:
        return f"JS({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JSCommands) and self.commands == other.commands

    def __hash__(self) -> int:
        return hash(str(self))


JS = JSCommands()
"""The empty command list that every chain starts from: ``JS.push("x").hide(to="#y")``."""

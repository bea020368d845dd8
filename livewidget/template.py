"""Templates: ``html()`` splits a ``str.format`` template into statics and dynamics.

A template is written once and rendered many times. What never changes between renders, the
literal text between the fields, is its *statics*; what a render fills in, one string per field,
its *dynamics*::

    html("<h2>{n}</h2><p>{label}</p>", n=3, label="a < b")
    statics   ("<h2>", "</h2><p>", "</p>")        parsed once per source, cached
    dynamics  ("3", "a &lt; b")                   escaped here, at render time

The diff (``protocol.py``) then compares dynamics position by position and sends statics only
when the template at a position changes. A dynamic is one of:

* ``str``: already-escaped HTML text;
* ``Rendered``: a nested template, so a conditional that switches templates re-sends only its
  own subtree;
* ``Comprehension``: a list of entries sharing one set of statics, the shape of a ``for`` loop.
  ``each(items, render, key=...)`` makes a *keyed* comprehension, so that one changed row sends
  one row and a reorder sends moves.

Values are escaped for HTML text and double- or single-quoted attributes (markupsafe escapes
``& < > " '``) unless they carry ``__html__`` (``Markup``, a ``Rendered``); ``None`` and
``False`` render as nothing.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import GeneratorType
from typing import Any, TypeAlias, TypeVar

from markupsafe import Markup, escape

__all__ = ["ComponentRef", "Comprehension", "Markup", "Rendered", "TemplateError", "each", "html"]

Dynamic: TypeAlias = "str | Rendered | Comprehension | ComponentRef"
T = TypeVar("T")


class TemplateError(ValueError):
    """A template or one of its values cannot be rendered; the message says why and how to fix."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    first: str
    rest: tuple[tuple[bool, Any], ...]  # (is_attribute, key) steps after the first name
    conversion: str | None
    spec: str


@dataclass(frozen=True, slots=True)
class Template:
    """The parsed form of one template source: its statics and fields, with a fingerprint.

    Two sources with the same statics share a fingerprint, so the front end keeps their statics.
    """

    statics: tuple[str, ...]
    fields: tuple[_Field, ...]
    fingerprint: int
    names: tuple[str, ...] | None  # when every field is a bare {name}: the fast path of html()


_formatter = string.Formatter()


@lru_cache(maxsize=4096)
def parse(source: str) -> Template:
    """Parse a template source once; renders of the same source reuse the result."""
    statics: list[str] = []
    fields: list[_Field] = []
    literal = ""
    try:
        parsed = list(_formatter.parse(source))
    except ValueError as error:
        raise TemplateError(
            f"html(): the template is not valid str.format syntax ({error}). "
            "Write a literal brace as '{{' or '}}'."
        ) from None
    for text, field, spec, conversion in parsed:
        literal += text
        if field is None:
            continue
        if field == "" or field.isdigit():
            raise TemplateError(
                f"html(): fields must be named, got {{{field}}}. "
                "Write {name} and pass name=... to html()."
            )
        first, rest = _split_field(field)
        statics.append(literal)
        literal = ""
        fields.append(_Field(field, first, rest, conversion, spec or ""))
    statics.append(literal)
    statics_tuple = tuple(statics)
    plain = all(not f.rest and f.conversion is None and not f.spec for f in fields)
    names = tuple(f.first for f in fields) if plain else None
    return Template(statics_tuple, tuple(fields), hash(statics_tuple), names)


def _split_field(field: str) -> tuple[str, tuple[tuple[bool, Any], ...]]:
    first, rest = _formatter_field_name_split(field)
    return str(first), tuple(rest)


def _formatter_field_name_split(field: str) -> tuple[Any, Iterator[tuple[bool, Any]]]:
    # str.format's own parser of "name.attr[0]", exposed by the C module behind string.Formatter.
    import _string  # type: ignore[import-not-found]  # CPython's C module; typeshed has no stub

    return _string.formatter_field_name_split(field)  # type: ignore[no-any-return]


class _Filled:
    """What a template filled in makes: its statics, fingerprint and HTML."""

    __slots__ = ("template",)

    def __init__(self, template: Template) -> None:
        self.template = template

    @property
    def statics(self) -> tuple[str, ...]:
        return self.template.statics

    @property
    def fingerprint(self) -> int:
        return self.template.fingerprint

    def to_html(self) -> str:
        parts: list[str] = []
        _write(self, parts)  # type: ignore[arg-type]  # only its two subclasses are made
        return "".join(parts)


class Rendered(_Filled):
    """One render of a template: its statics and the dynamics this render filled in.

    ``str(rendered)`` and ``rendered.to_html()`` give the HTML; ``__html__`` lets it nest into
    markupsafe-aware code too. Two renders are equal when they would produce the same HTML from
    the same template.
    """

    __slots__ = ("dynamics",)

    def __init__(self, template: Template, dynamics: tuple[Dynamic, ...]) -> None:
        self.template = template
        self.dynamics = dynamics

    def __str__(self) -> str:
        return self.to_html()

    def __html__(self) -> str:
        return self.to_html()

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Rendered):
            return NotImplemented
        return (
            self.template.fingerprint == other.template.fingerprint
            and self.template.statics == other.template.statics
            and self.dynamics == other.dynamics
        )

    def __hash__(self) -> int:
        return hash((self.template.fingerprint, self.dynamics))

    def __repr__(self) -> str:
        html = self.to_html()
        return f"<Rendered {html[:60]!r}{'…' if len(html) > 60 else ''}>"


class Comprehension(_Filled):
    """A list of entries rendered from one set of statics (a ``for`` loop in the template).

    ``keys`` is ``None`` for a plain list (entries are matched by position) or one hashable key
    per entry for ``each(..., key=...)`` (entries are matched by key, so a reorder is a move).
    """

    __slots__ = ("entries", "keys")

    def __init__(
        self,
        template: Template,
        entries: tuple[tuple[Dynamic, ...], ...],
        keys: tuple[Hashable, ...] | None = None,
    ) -> None:
        self.template = template
        self.entries = entries
        self.keys = keys

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Comprehension):
            return NotImplemented
        return (
            self.template.statics == other.template.statics
            and self.entries == other.entries
            and self.keys == other.keys
        )

    def __hash__(self) -> int:
        return hash((self.template.fingerprint, self.entries))

    def __repr__(self) -> str:
        return f"<Comprehension of {len(self.entries)} entries>"


class ComponentRef:
    """Where a parent's template places a component (``live_component``); see ``component``.

    Resolving the parent's render attaches ``live``, the component's live state, whose
    ``rendered`` is always the component's latest render.
    """

    __slots__ = ("assigns", "component", "id", "live")

    def __init__(self, component: type, id: str, assigns: dict[str, Any]) -> None:
        self.component = component
        self.id = id
        self.assigns = assigns
        self.live: Any = None

    @property
    def cid(self) -> int | None:
        """The component's number in a live view; None outside one (it then renders inline)."""
        return (self.live.cid or None) if self.live is not None else None

    @property
    def rendered(self) -> Rendered | None:
        return self.live.rendered if self.live is not None else None

    @property
    def key(self) -> tuple[type, str]:
        return (self.component, self.id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ComponentRef):
            return NotImplemented
        return self.key == other.key and self.cid == other.cid

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"<live_component {self.component.__name__} id={self.id!r} cid={self.cid}>"


def _write(node: Dynamic, parts: list[str]) -> None:
    if isinstance(node, str):
        parts.append(node)
    elif isinstance(node, ComponentRef):
        if node.rendered is not None:
            _write(node.rendered, parts)
    elif isinstance(node, Rendered):
        statics = node.template.statics
        for static, dynamic in zip(statics, node.dynamics):
            parts.append(static)
            _write(dynamic, parts)
        parts.append(statics[-1])
    else:
        statics = node.template.statics
        for entry in node.entries:
            for static, dynamic in zip(statics, entry):
                parts.append(static)
                _write(dynamic, parts)
            parts.append(statics[-1])


# A list whose items do not all come from one template is a comprehension of this template:
# each item becomes the single dynamic of an entry, so any mix of templates and text works.
_ITEM = parse("{item}")
_EMPTY = parse("")


def html(source: str, /, **values: Any) -> Rendered:
    """Render ``source`` (``str.format`` field syntax) with ``values``, escaping each value.

    >>> str(html("<b>{name}</b> has {n:,} points", name="<Ada>", n=12000))
    '<b>&lt;Ada&gt;</b> has 12,000 points'
    """
    if not isinstance(source, str):
        raise TemplateError(
            f"html() takes the template source as a str first, got {type(source).__name__}: "
            f"{source!r:.80}"
        )
    template = parse(source)
    if template.names is not None:  # bare {name} fields only: look up and convert, no more
        try:
            return Rendered(template, tuple([to_dynamic(values[name]) for name in template.names]))
        except KeyError:
            pass  # the general path below names the missing value
    return Rendered(template, tuple(_evaluate(field, values) for field in template.fields))


def _evaluate(field: _Field, values: Mapping[str, Any]) -> Dynamic:
    try:
        value = values[field.first]
    except KeyError:
        known = ", ".join(sorted(values)) or "none"
        raise TemplateError(
            f"html(): the template uses {{{field.name}}} but no value named {field.first!r} was "
            f"given (given: {known}). Pass {field.first}=... to html(), or, if the braces are "
            "meant literally (CSS, JavaScript), write a literal brace as '{{' or '}}'."
        ) from None
    for is_attribute, key in field.rest:
        try:
            value = getattr(value, key) if is_attribute else value[key]
        except (AttributeError, LookupError, TypeError) as error:
            raise TemplateError(
                f"html(): cannot look up {{{field.name}}}: {type(error).__name__}: {error}"
            ) from None
    if field.conversion is not None:
        value = _convert(value, field)
    if field.spec:
        spec = field.spec.format(**values) if "{" in field.spec else field.spec
        if isinstance(value, (Rendered, Comprehension)) or _is_sequence(value):
            raise TemplateError(
                f"html(): the format spec {{{field.name}:{field.spec}}} applies to a single "
                f"value, but {field.first!r} is a {type(value).__name__}."
            )
        if value is None or value is False:
            return ""
        try:
            return str(escape(format(value, spec)))
        except (ValueError, TypeError) as error:
            raise TemplateError(
                f"html(): cannot format {{{field.name}:{field.spec}}} with {value!r:.80}: {error}"
            ) from None
    return to_dynamic(value)


def _convert(value: Any, field: _Field) -> Any:
    if field.conversion == "r":
        return repr(value)
    if field.conversion == "s":
        return str(value)
    if field.conversion == "a":
        return ascii(value)
    raise TemplateError(f"html(): unknown conversion !{field.conversion} in {{{field.name}}}")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple, GeneratorType, Iterator)) and not isinstance(
        value, (str, bytes)
    )


_NEEDS_ESCAPE = re.compile(r"[&<>\"']")


def to_dynamic(value: Any) -> Dynamic:
    """Turn one value into a dynamic: escaped text, a nested render or a comprehension."""
    kind = type(value)  # the common kinds first, by exact type: this runs for every field
    if kind is str:
        text: str = value
        return str(escape(text)) if _NEEDS_ESCAPE.search(text) else text
    if kind is int or kind is float:
        return str(value)
    if kind is Rendered:
        nested: Rendered = value
        return nested
    if isinstance(value, str):
        if hasattr(value, "__html__"):
            return str(value.__html__())
        return str(escape(value))
    if isinstance(value, (Rendered, Comprehension, ComponentRef)):
        return value
    if value is None or value is False:
        return ""
    if _embedded and isinstance(value, _embedded):
        return _embedded_dynamic(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    if _is_sequence(value):
        return _comprehension(list(value))
    if isinstance(value, (bytes, bytearray)):
        raise TemplateError(f"html(): got bytes {bytes(value)[:40]!r}; decode them to str first.")
    return str(escape(value))


# Kinds of value that another module renders in a field: the Jupyter door registers its widgets
# (children.py), so that the pure core recognises them without importing Jupyter.
_embeds: dict[type, Callable[[Any], Dynamic]] = {}
_embedded: tuple[type, ...] = ()


def embed(kind: type, render: Callable[[Any], Dynamic]) -> None:
    """Render a value of ``kind`` (or a subclass) in a field as ``render(value)``."""
    global _embedded
    _embeds[kind] = render
    _embedded = tuple(_embeds)


def _embedded_dynamic(value: Any) -> Dynamic:
    for kind, render in _embeds.items():
        if isinstance(value, kind):
            return render(value)
    raise AssertionError(f"no embed for {type(value)!r}")  # _embedded holds _embeds' keys


def _comprehension(items: list[Any], keys: tuple[Hashable, ...] | None = None) -> Comprehension:
    if not items:
        return Comprehension(_EMPTY, (), keys)
    first = items[0]
    if isinstance(first, Rendered):
        template = first.template
        if all(type(item) is Rendered and item.template is template for item in items):
            return Comprehension(template, tuple(item.dynamics for item in items), keys)
    return Comprehension(_ITEM, tuple((to_dynamic(item),) for item in items), keys)


def each(
    items: Iterable[T],
    render: Callable[[T], Rendered],
    *,
    key: Callable[[T], Hashable],
) -> Comprehension:
    """A keyed comprehension: ``render`` each item, matched across renders by ``key(item)``.

    One changed row sends one row; a reorder sends moves instead of the list::

        rows = each(table, lambda r: html(ROW, **r), key=lambda r: r["id"])
        html("<table>{rows}</table>", rows=rows)
    """
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
    return _comprehension(rendered, tuple(keys))

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
  ``each(items, render, key=...)`` (``keyed.py``) makes a *keyed* comprehension, so that one
  changed row sends one row and a reorder sends moves.

Each value is made safe for the place it lands in. ``parse()`` reads the statics with a small
HTML tokenizer (``contexts.py``, which explains the trust model and the rules) and gives every
field a context: text, a quoted attribute, a URL, a phx-* binding, an on* handler, CSS, a
``<script>``, srcdoc, or where attributes go. A field where no value can be safe (a tag name,
an unquoted attribute value...) is a ``TemplateError`` at once; at render time each value goes
through the function for its context (``_in_context``), which escapes it (markupsafe, ``& < > "
'``), neutralises it (a ``javascript:`` URL renders ``#ZgotmplZ``), or refuses it with a
``TemplateError`` that names the field and what to write instead. A value with ``__html__``
(``Markup``, a ``Rendered``) is trusted markup, and still checked where a check does not depend
on trust: a URL's scheme, a quote that would end its attribute, a nested template that leaves a
tag or ``<script>`` open. ``None`` and ``False`` render as nothing.

Keyed lists. ``each(items, render, key=...)`` (``keyed.py``) makes a keyed comprehension and
keeps the rows that did not change since its last call; ``comprehension_of`` and
``uniform_template`` here are what it builds on.

The fast path. A template whose fields are all bare ``{name}`` compiles, once, to one function
that looks each value up and converts it (``_compile``): ``to_dynamic`` in text, a converter
per context elsewhere whose first test is "a plain str", so text and attributes cost a render
what they cost before contexts existed (benchmarks/dashboard.py and table.py). Fields with a
lookup, a conversion or a format spec take the general path (``_evaluate``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from itertools import repeat
from operator import attrgetter, is_
from types import GeneratorType
from typing import Any, TypeAlias, TypeVar

from markupsafe import Markup, escape

from . import contexts as cx
from .contexts import Context, UrlCheck
from .js import JSCommands
from .text import repair

__all__ = ["ComponentRef", "Comprehension", "Markup", "Rendered", "TemplateError", "html"]

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
    context: Context


@dataclass(frozen=True, slots=True)
class Template:
    """The parsed form of one template source: its statics and fields, with a fingerprint.

    Two sources with the same statics share a fingerprint, so the front end keeps their statics.
    """

    statics: tuple[str, ...]
    fields: tuple[_Field, ...]
    fingerprint: int
    # The fast path of html(), when every field is a bare {name}: one function that looks up
    # and converts them all (see _compile).
    build: Callable[[Mapping[str, Any]], tuple[Dynamic, ...]] | None
    urls: tuple[UrlCheck, ...] = ()  # URL attributes of several parts, checked as built
    left_open: str = ""  # what the template leaves open at its end (it cannot be nested then)


_formatter = string.Formatter()
_CALL = re.compile(r"[\w\])]\s*\(")  # name( or ]( : a call, outside [...] keys
_BRACKETED = re.compile(r"\[[^\]]*\]")


@lru_cache(maxsize=4096)
def parse(source: str) -> Template:
    """Parse a template source once; renders of the same source reuse the result."""
    statics: list[str] = []
    found: list[tuple[str, str, tuple[tuple[bool, Any], ...], str | None, str]] = []
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
        if _CALL.search(_BRACKETED.sub("", field)):
            raise TemplateError(
                f"html(): fields cannot call: {{{field}}}. Compute the value in render and pass "
                "it (html(..., table=df.to_html())), or pass the object itself: {df} shows a "
                "DataFrame as Jupyter's table."
            )
        first, rest = _split_field(field)
        statics.append(literal)
        literal = ""
        found.append((field, first, rest, conversion, spec or ""))
    statics.append(literal)
    statics_tuple = tuple(statics)
    analysis = cx.analyse(statics_tuple, tuple(f[0] for f in found))
    for context in analysis.contexts:
        if context.kind == cx.REFUSED:
            raise TemplateError(f"html(): {context.why}.")
    fields = [_Field(*f, context=c) for f, c in zip(found, analysis.contexts)]
    bare = all(not f.rest and f.conversion is None and not f.spec for f in fields)
    return Template(
        statics_tuple,
        tuple(fields),
        hash(statics_tuple),
        _compile(fields) if bare else None,
        analysis.urls,
        analysis.left_open,
    )


def _compile(fields: list[_Field]) -> Callable[[Mapping[str, Any]], tuple[Dynamic, ...]]:
    """The fast path for a template of bare {name} fields: one function, made once per source,
    ``def build(v): return (to_dynamic(v['n']), c1(v['url']), ...)``, where each field's
    converter fits its context (``_converter``). With no loop and no unpacking per field, the
    context checks cost a render nothing in text and about nothing in attributes. (As
    ``dataclasses`` builds ``__init__``, with ``exec``; the names enter the code as reprs.)"""
    namespace: dict[str, Any] = {"to_dynamic": to_dynamic}
    calls = []
    for index, field in enumerate(fields):
        convert = _converter(field)
        name = "to_dynamic" if convert is to_dynamic else f"convert{index}"
        namespace[name] = convert
        calls.append(f"{name}(v[{field.first!r}]), ")
    exec(f"def build(v):\n    return ({''.join(calls)})\n", namespace)
    build: Callable[[Mapping[str, Any]], tuple[Dynamic, ...]] = namespace["build"]
    return build


def _foreign_kinds(template: Template) -> tuple[int, ...] | None:
    """The kinds of the template's fields as read inside <svg>, or None if that differs from
    how it was read (in HTML) in a way that matters: other contexts, or something left open."""
    fields = template.fields
    return _read_as_svg(
        template.statics, tuple(f.name for f in fields), tuple(f.context.kind for f in fields)
    )


@lru_cache(maxsize=1024)
def _read_as_svg(
    statics: tuple[str, ...], names: tuple[str, ...], kinds: tuple[int, ...]
) -> tuple[int, ...] | None:
    analysis = cx.analyse(statics, names, foreign=True)
    escaped = (cx.TEXT, cx.ATTR, cx.RAW_TEXT, cx.FOREIGN_TEXT)
    for html_kind, context in zip(kinds, analysis.contexts):
        svg_kind = context.kind
        if html_kind != svg_kind and not (html_kind in escaped and svg_kind in escaped):
            return None
    if analysis.left_open:
        return None
    return tuple(c.kind for c in analysis.contexts)


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
        if self is other:
            return True
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


def html(source: str, /, **values: Any) -> Rendered:
    """Render ``source`` (``str.format`` field syntax) with ``values``, escaping each value for
    the place it lands in (see ``contexts``).

    >>> str(html("<b>{name}</b> has {n:,} points", name="<Ada>", n=12000))
    '<b>&lt;Ada&gt;</b> has 12,000 points'
    """
    if not isinstance(source, str):
        raise TemplateError(
            f"html() takes the template source as a str first, got {type(source).__name__}: "
            f"{source!r:.80}"
        )
    template = parse(source)
    build = template.build
    if build is not None:  # bare {name} fields only
        try:
            dynamics = build(values)
        except (KeyError, ValueMistake):
            pass  # the general path below names the missing value, or the mistaken field
        else:
            if template.urls:
                checked = list(dynamics)
                for check in template.urls:
                    _check_url(check, checked)
                dynamics = tuple(checked)
            return Rendered(template, dynamics)
    evaluated = [_evaluate(field, values) for field in template.fields]
    for check in template.urls:
        _check_url(check, evaluated)
    return Rendered(template, tuple(evaluated))


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
            formatted = format(value, spec)
        except (ValueError, TypeError) as error:
            raise TemplateError(
                f"html(): cannot format {{{field.name}:{field.spec}}} with {value!r:.80}: {error}"
            ) from None
        if field.context.kind in (cx.TEXT, cx.ATTR):
            return _escaped(formatted)
        # a number formatted by the template's own spec is still a number
        return _in_context(formatted, field, type(value) in (int, float))
    try:
        return _in_context(value, field, False)
    except ValueMistake as error:
        raise TemplateError(f"html(): {{{field.name}}} {error}") from None


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


# What makes a str need work: a character HTML gives meaning to, or a lone surrogate, which no
# message could carry (UTF-8 cannot encode it: see livewidget.text).
_NEEDS_ESCAPE = re.compile("[&<>\"'\ud800-\udfff]")


def _escaped(value: Any) -> str:
    """``value`` as escaped HTML text, any lone surrogate in it shown as U+FFFD."""
    return repair(str(escape(value)))


def to_dynamic(value: Any) -> Dynamic:
    """Turn one value into a dynamic for HTML text: escaped text, a nested render or a list."""
    kind = type(value)  # the common kinds first, by exact type: this runs for every field
    if kind is str:
        text: str = value
        return _escaped(text) if _NEEDS_ESCAPE.search(text) else text
    if kind is int or kind is float:
        return str(value)
    if kind is Rendered:
        nested: Rendered = value
        if nested.template.left_open:
            _refuse_open(nested.template, nested)
        return nested
    if isinstance(value, str):
        if hasattr(value, "__html__"):
            return repair(trusted_html(str(value.__html__())))
        return _escaped(value)
    if isinstance(value, (Rendered, Comprehension, ComponentRef)):
        if isinstance(value, Rendered) and value.template.left_open:
            _refuse_open(value.template, value)
        return value
    if value is None or value is False:
        return ""
    if _embedded and isinstance(value, _embedded):
        return _embedded_dynamic(value)
    if hasattr(value, "__html__"):
        return repair(trusted_html(str(value.__html__())))
    if _is_sequence(value):
        if isinstance(value, tuple):
            refuse_plain_tuple(value)
        return comprehension_of(list(value))
    if isinstance(value, (bytes, bytearray)):
        raise TemplateError(f"html(): got bytes {bytes(value)[:40]!r}; decode them to str first.")
    rich = rich_dynamic(value)  # DataFrames, figures, the display protocol: rich.py
    if rich is not None:
        return rich
    return _escaped(value)


def _refuse_open(template: Template, value: Rendered | Comprehension) -> None:
    raise TemplateError(
        f"html(): a nested template leaves {template.left_open} open ({_shown(value)}), so the "
        "template around it would be read wrongly from there on. A nested template must close "
        "what it opens (a tag, a comment, <script>, <textarea>, <svg>): put the whole element "
        "in one template."
    )


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


def uniform_template(items: list[Any]) -> Template | None:
    """The template of ``items`` if they are all renders of one template (tests made in C)."""
    if not items or type(items[0]) is not Rendered:
        return None
    template: Template = items[0].template
    if all(map(is_, map(type, items), repeat(Rendered))) and all(
        map(is_, map(_TEMPLATE, items), repeat(template))
    ):
        return template
    return None


def comprehension_of(items: list[Any], keys: tuple[Hashable, ...] | None = None) -> Comprehension:
    if not items:
        return Comprehension(_EMPTY, (), keys)
    template = uniform_template(items)
    if template is not None:
        if template.left_open:
            _refuse_open(template, items[0])
        return Comprehension(template, tuple(map(_DYNAMICS, items)), keys)
    return Comprehension(_ITEM, tuple((to_dynamic(item),) for item in items), keys)


# --- values outside plain text: one function per context (see contexts.py) ------------------


def _in_context(value: Any, field: _Field, number: bool) -> Dynamic:
    """The dynamic for ``value`` in ``field``'s context; ``number``: a number, formatted."""
    kind = field.context.kind
    if kind == cx.TEXT:
        return to_dynamic(value)
    if value is None or value is False:
        return ""
    if isinstance(value, ComponentRef):
        raise TemplateError(
            f"html(): {{{field.name}}} is a live component, placed in {_place(field)}; "
            "components go between tags."
        )
    number = number or type(value) in (int, float)
    handler = _HANDLERS[kind]
    return handler(value, field, number)


def _plain(value: Any, field: _Field, number: bool) -> Dynamic:  # ATTR and URL
    dynamic = to_dynamic(value)
    if type(dynamic) is not str or field.context.quote in dynamic:
        _in_attribute(dynamic, field, value)
    return dynamic


def _in_attribute(dynamic: Dynamic, field: _Field, value: Any) -> None:
    """A trusted or nested value in a quoted attribute must not hold the quote."""
    if isinstance(dynamic, ComponentRef):
        raise TemplateError(
            f"html(): {{{field.name}}} is a live component, placed in {_place(field)}; "
            "components go between tags."
        )
    quote = field.context.quote
    if quote in _html_of(dynamic):
        entity = "&quot;" if quote == '"' else "&#39;"
        raise TemplateError(
            f"html(): {{{field.name}}} is in the attribute {_place(field)}, and its trusted value "
            f"holds the attribute's quote ({quote}), which would end the attribute: got "
            f"{_shown(value)}. Write the quote as {entity} in it, "
            "or pass a plain str, which is escaped."
        )


def _raw(value: Any, field: _Field, number: bool) -> Dynamic:  # textarea, title, xmp...
    dynamic = to_dynamic(value)
    if type(value) is not str:
        _not_ending(_html_of(dynamic), field, value)
    return dynamic


def _not_ending(html: str, field: _Field, value: Any) -> None:
    end = field.context.end
    if end and re.search(rf"</{end}", html, re.IGNORECASE):
        raise TemplateError(
            f"html(): {{{field.name}}} is inside <{end}> ({field.context.where}), and its trusted "
            f"value holds '</{end}', which would end the element early: got {_shown(value)}."
        )


def _foreign(value: Any, field: _Field, number: bool) -> Dynamic:  # text inside <svg>, <math>
    dynamic = to_dynamic(value)
    if isinstance(dynamic, (Rendered, Comprehension)):
        _check_foreign(dynamic, field, value)
    return dynamic


def _check_foreign(node: Rendered | Comprehension, field: _Field, value: Any) -> None:
    """A template nested inside <svg> was read as HTML: it must read the same as SVG."""
    kinds = _foreign_kinds(node.template)
    if kinds is None:
        raise TemplateError(
            f"html(): {{{field.name}}} is inside <svg> or <math> ({field.context.where}) and holds "
            f"a template that reads differently there than in HTML ({_shown(value)}): inside "
            "SVG, <textarea>, <title>, <style> and the like hold markup, not text. Write that "
            "part in the SVG template itself."
        )
    entries = node.entries if isinstance(node, Comprehension) else (node.dynamics,)
    for entry in entries:
        for kind, dynamic in zip(kinds, entry):
            if kind == cx.FOREIGN_TEXT and isinstance(dynamic, (Rendered, Comprehension)):
                _check_foreign(dynamic, field, value)


def _url(value: Any, field: _Field, number: bool) -> Dynamic:
    """A URL's start: the whole URL checked here; a URL of several parts by _check_url."""
    dynamic = _plain(value, field, number)
    if field.context.whole and not cx.is_safe_url(unescape(_html_of(dynamic))):
        return cx.FAILSAFE_URL
    return dynamic


def _check_url(check: UrlCheck, dynamics: list[Dynamic]) -> None:
    """Neutralise a URL attribute whose URLs, as built, could run script (``#ZgotmplZ``)."""
    parts = [check.pieces[0]]
    for index, piece in zip(check.fields, check.pieces[1:]):
        parts.append(_html_of(dynamics[index]))
        parts.append(piece)
    if not cx.is_safe_attribute_value(unescape("".join(parts)), check.separator):
        for index in check.fields:
            dynamics[index] = cx.FAILSAFE_URL


def _binding(value: Any, field: _Field, number: bool) -> Dynamic:
    if isinstance(value, JSCommands):
        return _escaped(str(value))
    if number:
        return str(value)
    context = field.context
    if isinstance(value, str) and not hasattr(value, "__html__"):
        if context.leading and value.lstrip(cx.JS_SPACE).startswith("["):
            raise TemplateError(
                f"html(): {{{field.name}}} in {_place(field)} would make the binding JS "
                "commands: the front end runs a value that starts with '[' as commands, and "
                f"this one comes from data: got {_shown(value)}. A binding's value is an event "
                'name or lw.JS commands: pass an event name (phx-click="select" '
                f'phx-value-id="{{id}}"), or commands built in Python: {field.first}='
                "lw.JS.push('select', value={'id': row_id})."
            )
        return to_dynamic(value)
    if context.leading and (isinstance(value, (Rendered, Comprehension)) or _is_sequence(value)):
        raise TemplateError(
            f"html(): {{{field.name}}} in {_place(field)} is a {type(value).__name__}; a binding "
            "takes an event name (str) or lw.JS commands (lw.JS.push('save'))."
        )
    return _plain(value, field, number)


def _trusted_only(value: Any, field: _Field, number: bool) -> Dynamic:  # on*, <script>
    if number:
        return str(value)
    if hasattr(value, "__html__") and not isinstance(value, (Rendered, Comprehension)):
        html = str(value.__html__())
        if field.context.quote:
            _in_attribute(html, field, value)
        else:
            _not_ending(html, field, value)
        return html
    context = field.context
    if context.kind == cx.SCRIPT:
        place = f"inside a <script> ({context.where}), where HTML escaping does not protect"
        fix = (
            "To hand data to a script, JSON-encode it and escape '<': "
            "lw.Markup(json.dumps(data).replace('<', '\\\\u003c')), or send it with "
            "socket.push_event(name, payload) to a hook."
        )
    else:
        place = (
            f"inside the event-handler attribute {_place(field)}, which the browser runs as "
            "JavaScript"
        )
        fix = (
            'Use a binding instead: phx-click="select" phx-value-id="{id}", or lw.JS commands '
            "(phx-click=\"{js}\" with js=lw.JS.push('select', value={'id': row_id}))."
        )
    raise TemplateError(
        f"html(): {{{field.name}}} is {place}; it takes numbers and lw.Markup (code you wrote) "
        f"only, got {_shown(value)}. {fix}"
    )


def _css(value: Any, field: _Field, number: bool) -> Dynamic:  # style="...", <style>
    if number:
        return str(value)
    if hasattr(value, "__html__") and not isinstance(value, (Rendered, Comprehension)):
        return _trusted_only(value, field, number)
    if isinstance(value, (Rendered, Comprehension)) or _is_sequence(value):
        raise TemplateError(
            f"html(): {{{field.name}}} is in CSS ({field.context.where}) and holds a "
            f"{type(value).__name__}; CSS takes one value (a str or a number), or lw.Markup for "
            "CSS you wrote."
        )
    text = value if isinstance(value, str) else str(value)
    return text if cx.is_safe_css_value(text) else cx.FAILSAFE_CSS


def _srcdoc(value: Any, field: _Field, number: bool) -> Dynamic:  # <iframe srcdoc="...">
    if hasattr(value, "__html__") or isinstance(value, Comprehension):
        return _escaped(_html_of(to_dynamic(value)))  # markup for the inner document
    return _escaped(_escaped(value))  # text in the inner document (escape(Markup) is a no-op)


def _slot(value: Any, field: _Field, number: bool) -> Dynamic:  # <input {checked}>
    if value == "" and isinstance(value, str):
        return ""
    if hasattr(value, "__html__") and not isinstance(value, (Rendered, Comprehension)):
        return str(value.__html__())
    raise TemplateError(
        f"html(): {{{field.name}}} stands where attributes go ({field.context.where}), so it "
        'takes lw.Markup (attributes you wrote), None, False or "", got '
        f'{_shown(value)}. For a boolean attribute pass lw.Markup("checked") if done else None; '
        f'for a value from data, write the attribute in the template: title="{{{field.name}}}".'
    )


def _converter(field: _Field) -> Callable[[Any], Dynamic]:
    """The function that turns a value into the dynamic for a bare {name} field (the fast path):
    a plain str takes a few instructions; anything else goes through _in_context."""
    kind = field.context.kind
    if kind == cx.TEXT:
        return to_dynamic
    if kind == cx.BINDING and field.context.leading:

        def binding(value: Any) -> Dynamic:
            if type(value) is str and "[" not in value:
                return _escaped(value) if _NEEDS_ESCAPE.search(value) else value
            return _in_context(value, field, False)

        return binding
    if kind == cx.URL and field.context.whole:

        def url(value: Any) -> Dynamic:
            if type(value) is str:  # what the browser reads back from the escaped value
                if not cx.is_safe_url(value):
                    return cx.FAILSAFE_URL
                return _escaped(value) if _NEEDS_ESCAPE.search(value) else value
            return _in_context(value, field, False)

        return url
    if kind in (cx.ATTR, cx.URL, cx.BINDING):

        def plain(value: Any) -> Dynamic:
            kind = type(value)
            if kind is str:
                return _escaped(value) if _NEEDS_ESCAPE.search(value) else value
            if kind is int or kind is float:
                return str(value)
            return _in_context(value, field, False)

        return plain
    return lambda value: _in_context(value, field, False)


_HANDLERS: dict[int, Callable[[Any, _Field, bool], Dynamic]] = {
    cx.ATTR: _plain,
    cx.RAW_TEXT: _raw,
    cx.FOREIGN_TEXT: _foreign,
    cx.URL: _url,
    cx.BINDING: _binding,
    cx.HANDLER: _trusted_only,
    cx.SCRIPT: _trusted_only,
    cx.CSS: _css,
    cx.SRCDOC: _srcdoc,
    cx.SLOT: _slot,
}


def _html_of(dynamic: Dynamic) -> str:
    if isinstance(dynamic, str):
        return dynamic
    if isinstance(dynamic, ComponentRef):
        return "" if dynamic.rendered is None else dynamic.rendered.to_html()
    return dynamic.to_html()


def _place(field: _Field) -> str:
    context = field.context
    if context.attr:
        return f"{context.attr}={context.quote}...{context.quote} ({context.where})"
    return context.where


def _shown(value: Any) -> str:
    if isinstance(value, (Rendered, Comprehension)):
        html = value.to_html()
        return f"{type(value).__name__} {html[:60]!r}{'…' if len(html) > 60 else ''}"
    return f"{type(value).__name__}: {value!r:.80}"


# A list whose items do not all come from one template is a comprehension of this template:
# each item becomes the single dynamic of an entry, so any mix of templates and text works.
_ITEM = parse("{item}")
_TEMPLATE = attrgetter("template")
_DYNAMICS = attrgetter("dynamics")
_EMPTY = parse("")


# rich.py builds on the names above (Rendered, parse, ...), so it is imported last.
from .rich import ValueMistake, refuse_plain_tuple, rich_dynamic, trusted_html  # noqa: E402

"""Values cannot inject markup: a corpus of XSS payloads, parsed with a real HTML5 parser.

Each payload is rendered as a value in every position a template offers (text, a double- and a
single-quoted attribute, a textarea, a list of strings, a nested template, a keyed row, a
``!r`` conversion). The HTML is parsed with html5lib, which follows the HTML5 parsing algorithm
that browsers use, and compared with the same template rendered with a harmless value:

* the elements, their attribute names, the attribute values that do not come from the value,
  and the comments must be the same (nothing came from the value), and
* where the value lands (an element's text or its ``title``), the parser reads the original
  string back, up to what the HTML5 parser itself does to any text: CR and CRLF become LF, NUL
  is dropped from text and becomes U+FFFD in attributes and textareas, and a textarea drops a
  leading newline.

The same holds for the HTML that ``protocol.merge`` builds from the payloads, with the value
arriving in the first render and in a diff.

What escaping cannot do is make a value safe where the *template* puts it in a URL, an event
handler, a ``<script>`` or ``<style>``, or an unquoted attribute: there the value must be
checked before it is rendered (the last test shows a ``javascript:`` URL going through).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import livewidget as lw
from livewidget.protocol import diff, full, merge, to_html
from livewidget.template import Rendered

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
    '"><script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    "'><img src=x onerror=alert(1)>",
    "' onmouseover='alert(1)",
    '" onmouseover="alert(1)',
    '" autofocus onfocus=alert(1) x="',
    "` onmouseover=alert(1) `",
    "<img src=`x` onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</p></div></td></tr></tbody></table><script>alert(1)</script>",
    "<!--",
    "--><script>alert(1)</script><!--",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!DOCTYPE html><html><body onload=alert(1)>",
    "<plaintext>",
    "<xmp><script>alert(1)</script></xmp>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<<script>script>alert(1)<</script>/script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;b&amp;gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&#x3C;img src=x onerror=alert(1)&#x3E;",
    "&quot; onmouseover=&quot;alert(1)",
    "&#34;&#39;&#x22;&#x27;",
    "&",
    "&amp",
    "&#0;",
    "<",
    ">",
    '"',
    "'",
    "=",
    "",
    " ",
    '\\"><script>alert(1)</script>',
    "{x} {0} {{7*7}} ${x} %s %(x)s",
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
    "\u202egnp.exe",
    "\u2028\u2029",
    "\ufeff<b>bom</b>",
    "e\u0301 \u00e9 \U0001f600 \u4e2d\u6587",
    "a\x00<script>alert(1)</script>",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "\x00",
    "\x01\x08\x0b\x1f\x7f\u0085",
    "\r\n<b>\r</b>\r",
    "\n<b>leading newline</b>",
    "\t<i>tab</i>\x0c",
]

HARMLESS = "harmless"


@dataclass(frozen=True)
class Position:
    """Where a template puts a value, and where the parsed document shows it."""

    name: str
    render: Callable[[str], Rendered]
    reads: tuple[tuple[str, str], ...]  # (element id, "text" | "rcdata" | "title")
    shown: Callable[[str], str] = lambda value: value  # the string the reads must give back


def _row(row: tuple[str, str]) -> Rendered:
    return lw.html('<tr><td id="{id}" title="{v}">{v}</td></tr>', id=row[0], v=row[1])


def _badge(value: str) -> Rendered:
    return lw.html('<em id="b" title="{v}">{v}</em>', v=value)


POSITIONS = [
    Position("text", lambda v: lw.html('<p id="v">{v}</p>', v=v), (("v", "text"),)),
    Position(
        "double-quoted attribute",
        lambda v: lw.html('<a id="v" href="#" title="{v}">x</a>', v=v),
        (("v", "title"),),
    ),
    Position(
        "single-quoted attribute",
        lambda v: lw.html("<a id='v' href='#' title='{v}'>x</a>", v=v),
        (("v", "title"),),
    ),
    Position(
        "textarea", lambda v: lw.html('<textarea id="v">{v}</textarea>', v=v), (("v", "rcdata"),)
    ),
    Position(
        "list of strings",
        lambda v: lw.html('<p id="v">{vs}</p>', vs=[v, "|", v]),
        (("v", "text"),),
        shown=lambda v: f"{v}|{v}",
    ),
    Position(
        "nested template",
        lambda v: lw.html(
            "<div>{inner}</div>", inner=lw.html('<span id="v" title="{v}">{v}</span>', v=v)
        ),
        (("v", "text"), ("v", "title")),
    ),
    Position(
        "keyed row with a nested template",
        lambda v: lw.html(
            "<table><tbody>{rows}</tbody></table><div>{badges}</div>",
            rows=lw.each([("r1", v), ("r2", HARMLESS)], _row, key=lambda r: r[0]),
            badges=[lw.html("<p>{b}</p>", b=_badge(v)), lw.html("<p>{b}</p>", b=_badge(v))],
        ),
        (("r1", "text"), ("r1", "title"), ("b", "text"), ("b", "title")),
    ),
    Position(
        "repr conversion",
        lambda v: lw.html('<p id="v" title="{v!r}">{v!r}</p>', v=v),
        (("v", "text"), ("v", "title")),
        shown=repr,
    ),
]


def parse(markup: str) -> Any:
    return html5lib.parse(markup, treebuilder="etree", namespaceHTMLElements=False)


def skeleton(document: Any) -> list[Any]:
    """Elements in document order with their attributes (values but ``title``'s), and comments."""
    shape: list[Any] = []
    for node in document.iter():
        if not isinstance(node.tag, str):  # etree's Comment (and processing instructions)
            shape.append(("#comment", node.text))
        else:
            attributes = {k: ("..." if k == "title" else v) for k, v in node.attrib.items()}
            shape.append((node.tag, sorted(attributes.items())))
    return shape


def as_parsed(value: str, where: str) -> str:
    """What an HTML5 parser reads back from ``value`` at ``where`` (its input preprocessing)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if where == "text":
        return value.replace("\x00", "")
    if where == "rcdata":
        value = value.removeprefix("\n")
    return value.replace("\x00", "\ufffd")


def read(document: Any, element_id: str, where: str) -> list[str]:
    """The text or title of each element with this id."""
    elements = [e for e in document.iter() if e.get("id") == element_id]
    assert elements, f"no element #{element_id}"
    if where == "title":
        return [e.get("title") for e in elements]
    assert all(len(e) == 0 for e in elements), f"#{element_id} has child nodes"
    return [e.text or "" for e in elements]


def wire(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload))


def htmls(position: Position, value: str) -> dict[str, str]:
    """The HTML of a render holding ``value``, and as the client builds it from payloads."""
    harmless, hostile = position.render(HARMLESS), position.render(value)
    in_full = merge(None, wire(full(hostile)))
    in_diff = merge(merge(None, wire(full(harmless))), wire(diff(harmless, hostile)))
    return {
        "rendered": hostile.to_html(),
        "merged full": to_html(in_full),
        "merged diff": to_html(in_diff),
    }


def check_inert(position: Position, value: str) -> None:
    expected_shape = skeleton(parse(position.render(HARMLESS).to_html()))
    shown = position.shown(value)
    for source, markup in htmls(position, value).items():
        document = parse(markup)
        assert skeleton(document) == expected_shape, f"{source}: the value made markup: {markup!r}"
        for element_id, where in position.reads:
            for got in read(document, element_id, where):
                assert got == as_parsed(shown, where), (
                    f"{source}: #{element_id} {where}: {markup!r}"
                )


@pytest.mark.parametrize("position", POSITIONS, ids=lambda p: p.name)
@pytest.mark.parametrize("value", PAYLOADS, ids=lambda v: ascii(v)[1:-1][:40])
def test_a_hostile_value_stays_text(position: Position, value: str):
    check_inert(position, value)


@pytest.mark.parametrize("position", POSITIONS, ids=lambda p: p.name)
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    value=st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(PAYLOADS)
)
def test_any_text_stays_text(position: Position, value: str):
    check_inert(position, value)


def test_a_url_value_is_escaped_but_its_scheme_is_not_checked():
    """Escaping keeps a value inside its attribute, but a URL attribute runs what it holds:
    a template that puts a value in href, src or an on* attribute must check it first."""
    rendered = lw.html('<a href="{url}">go</a>', url="javascript:alert(1)")
    [link] = [e for e in parse(rendered.to_html()).iter() if e.tag == "a"]
    assert link.get("href") == "javascript:alert(1)"

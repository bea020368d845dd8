"""Values cannot inject markup or script: a corpus of XSS payloads over every context.

Each payload is rendered as a value in every place a template offers, and the HTML is parsed
with html5lib, which follows the HTML5 parsing algorithm that browsers use. What must hold
depends on the place (``livewidget/contexts.py`` has the rules); each check is an oracle of its
own, not the code under test:

* **Text** (element text, a double- and a single-quoted attribute, a textarea, a title, SVG
  text, a list of strings, a nested template, a keyed row, a ``!r`` conversion, a
  ``phx-value-*`` attribute): *escaped*. Compared with the same template rendered with a
  harmless value, the elements, their attribute names, the attribute values that do not come
  from the value, and the comments are the same (nothing came from the value), and where the
  value lands the parser reads the original string back, up to what the HTML5 parser does to
  any text: CR and CRLF become LF, NUL is dropped from text and becomes U+FFFD in attributes
  and RCDATA, and a textarea drops a leading newline. The same holds for the HTML that
  ``protocol.merge`` builds from the payloads, with the value arriving in the first render and
  in a diff.
* **URL attributes** (href, src, action, formaction, xlink:href, data, poster, srcset, ping,
  data-src, SVG animation's ``to``): *neutralised*. The URL as the parser reads it is either
  the value, intact, or ``#ZgotmplZ``, and it is ``#ZgotmplZ`` exactly when ``urlsplit`` finds
  a scheme other than http(s), mailto, tel or a raster ``data:image``.
* **Bindings** (phx-click and every other phx-* attribute that can hold JS commands):
  *refused* when the value, after the whitespace that JavaScript's ``trimStart`` removes
  (ECMAScript's WhiteSpace and LineTerminator, from ``unicodedata``), starts with ``[``;
  otherwise escaped, and the attribute as read does not start with ``[``.
* **CSS** (``style="..."`` and a ``<style>`` body): *neutralised*. tinycss2 parses the result
  into the same rules and declarations as the template's, with no ``url()`` and no function
  that loads or runs anything; the value is intact or ``ZgotmplZ``.
* **srcdoc**: *escaped twice*. The inner document, parsed from the attribute, has no element
  or comment from the value.
* **Event-handler attributes, <script>, where attributes go**: every str is *refused*.
* **Tag and attribute names, unquoted attributes, comments, JS commands or javascript: URLs
  written in the template**: *refused* when the template is parsed, whatever the value.

The last tests feed each checker a value that was not made safe, to show that it can fail.
"""

from __future__ import annotations

import json
import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import html5lib
import pytest
import tinycss2
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

import livewidget as lw
from livewidget.protocol import diff, full, merge, to_html
from livewidget.template import Rendered, TemplateError

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


# Data that becomes JS commands if a binding parses it: the issue's, and its variants.
ISSUE_ACTION = (
    '[["set_attr",{"to":"#sink","attr":["onerror","fetch(\'/api/contents/pwned.txt\','
    '{method:\'PUT\'})"]}],["set_attr",{"to":"#sink","attr":["src","x"]}]]'
)
JS_COMMAND_PAYLOADS = [
    ISSUE_ACTION,
    '[["push",{"event":"delete_all","target":1}]]',
    '[["set_attr",{"to":"#a","attr":["href","javascript:alert(1)"]}],["dispatch",{"to":"#a","event":"click"}]]',
    '[["set_attr",{"to":"#f","attr":["srcdoc","<script>alert(1)</script>"]}]]',
    '[["exec",{"attr":"title","to":"#x"}]]',
    " \t\n[[]]",
    "\ufeff[[]]",
    "\xa0[[]]",
    "\u2028[[]]",
    "\u3000[[]]",
    "[",
]
HOSTILE_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript\r:alert(1)",
    "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "javascript://%0aalert(1)",
    "vbscript:msgbox(1)",
    "livescript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "DATA:text/html,x",
    "x:y",
]
SAFE_URLS = [
    "https://example.org/a?b=1&c=2#d",
    "HTTP://example.org",
    "/relative/path?q=<b>",
    "relative.html",
    "#fragment",
    "?query=1",
    "//example.org/x",
    "mailto:ada@example.org",
    "tel:+44-20-1234",
    "data:image/png;base64,iVBORw0KGgo=",
    "",
]
CSS_PAYLOADS = [
    "red; background: url(https://x.example/track)",
    "url(javascript:alert(1))",
    "expression(alert(1))",
    "red}</style><script>alert(1)</script>",
    "\\75rl(x)",
    "-moz-binding: url(x)",
    "red /* swallow",
    "@import 'x.css'",
    "image-set('x.png' 1x)",
    "x:y",
    "red !important",
]
SAFE_CSS = [
    "#fff",
    "rgb(1, 2, 3)",
    "1px solid red",
    "calc(100% - 2px)",
    "12.5",
    "bold",
    "0 0 / 50%",
]
HARMLESS = "harmless"


def parse(markup: str) -> Any:
    return html5lib.parse(markup, treebuilder="etree", namespaceHTMLElements=False)


def local(name: str) -> str:
    """An element's or attribute's name without its namespace (html5lib writes {ns}name)."""
    return name.rsplit("}", 1)[-1]


def skeleton(document: Any, masked: tuple[str, ...] = ("title",)) -> list[Any]:
    """Elements in document order with their attributes (but the values of ``masked``), and
    comments."""
    shape: list[Any] = []
    for node in document.iter():
        if not isinstance(node.tag, str):  # etree's Comment (and processing instructions)
            shape.append(("#comment", node.text))
        else:
            attributes = {k: ("..." if local(k) in masked else v) for k, v in node.attrib.items()}
            shape.append((node.tag, sorted(attributes.items())))
    return shape


def as_parsed(value: str, where: str) -> str:
    """What an HTML5 parser reads back from ``value`` at ``where`` (its input preprocessing)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if where == "text":
        return value.replace("\x00", "")
    if where == "textarea":
        value = value.removeprefix("\n")
    return value.replace("\x00", "\ufffd")  # attributes, RCDATA, foreign text


def element(document: Any, element_id: str) -> list[Any]:
    elements = [e for e in document.iter() if isinstance(e.tag, str) and e.get("id") == element_id]
    assert elements, f"no element #{element_id}"
    return elements


def read(document: Any, element_id: str, where: str) -> list[str]:
    """The text (``text``, ``textarea``, ``rcdata``, ``foreign``) or attribute (``attr:NAME``)
    of each element with this id."""
    elements = element(document, element_id)
    if where.startswith("attr:"):
        name = where[5:]
        return [next(v for k, v in e.attrib.items() if local(k) == name) for e in elements]
    assert all(len(e) == 0 for e in elements), f"#{element_id} has child nodes"
    return [e.text or "" for e in elements]


def wire(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload))


def htmls(render: Callable[[Any], Rendered], value: Any) -> dict[str, str]:
    """The HTML of a render holding ``value``, and as the client builds it from payloads."""
    harmless, hostile = render(HARMLESS), render(value)
    in_full = merge(None, wire(full(hostile)))
    in_diff = merge(merge(None, wire(full(harmless))), wire(diff(harmless, hostile)))
    return {
        "rendered": hostile.to_html(),
        "merged full": to_html(in_full),
        "merged diff": to_html(in_diff),
    }


# --- text: escaped ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a template puts a value, and where the parsed document shows it."""

    name: str
    render: Callable[[str], Rendered]
    reads: tuple[tuple[str, str], ...]  # (element id, where: see read())
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
        (("v", "attr:title"),),
    ),
    Position(
        "single-quoted attribute",
        lambda v: lw.html("<a id='v' href='#' title='{v}'>x</a>", v=v),
        (("v", "attr:title"),),
    ),
    Position(
        "textarea",
        lambda v: lw.html('<textarea id="v">{v}</textarea>', v=v),
        (("v", "textarea"),),
    ),
    Position("title", lambda v: lw.html('<title id="v">{v}</title>', v=v), (("v", "rcdata"),)),
    Position(
        "SVG text",
        lambda v: lw.html('<svg><text id="v">{v}</text></svg>', v=v),
        (("v", "foreign"),),
    ),
    Position(
        "SVG title (HTML inside SVG)",
        lambda v: lw.html('<svg><title id="v">{v}</title></svg>', v=v),
        (("v", "text"),),
    ),
    Position(
        "phx-value attribute",
        lambda v: lw.html('<button id="v" phx-click="go" phx-value-x="{v}">x</button>', v=v),
        (("v", "attr:title"),),  # replaced below: read phx-value-x
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
        (("v", "text"), ("v", "attr:title")),
    ),
    Position(
        "keyed row with a nested template",
        lambda v: lw.html(
            "<table><tbody>{rows}</tbody></table><div>{badges}</div>",
            rows=lw.each([("r1", v), ("r2", HARMLESS)], _row, key=lambda r: r[0]),
            badges=[lw.html("<p>{b}</p>", b=_badge(v)), lw.html("<p>{b}</p>", b=_badge(v))],
        ),
        (("r1", "text"), ("r1", "attr:title"), ("b", "text"), ("b", "attr:title")),
    ),
    Position(
        "repr conversion",
        lambda v: lw.html('<p id="v" title="{v!r}">{v!r}</p>', v=v),
        (("v", "text"), ("v", "attr:title")),
        shown=repr,
    ),
]
POSITIONS[7] = Position(POSITIONS[7].name, POSITIONS[7].render, (("v", "attr:phx-value-x"),))
MASKED = ("title", "phx-value-x")


def check_inert(position: Position, value: str) -> None:
    expected_shape = skeleton(parse(position.render(HARMLESS).to_html()), MASKED)
    shown = position.shown(value)
    for source, markup in htmls(position.render, value).items():
        document = parse(markup)
        shape = skeleton(document, MASKED)
        assert shape == expected_shape, f"{source}: the value made markup: {markup!r}"
        for element_id, where in position.reads:
            for got in read(document, element_id, where):
                expected = as_parsed(shown, "attr" if where.startswith("attr:") else where)
                assert got == expected, f"{source}: #{element_id} {where}: {markup!r}"


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


def each_value(values: list[Any], check: Callable[[Any], None]) -> None:
    """Run ``check`` on every value; fail once, listing every value that failed and why."""
    failed = []
    for value in values:
        try:
            check(value)
        except (AssertionError, TemplateError) as error:
            failed.append(f"{value!r}: {type(error).__name__}: {error}"[:600])
    assert not failed, f"{len(failed)} of {len(values)} values failed:\n" + "\n".join(failed)


# --- URL attributes: neutralised ---------------------------------------------------------------

URL_TEMPLATES = {
    "href": '<a id="t" href="{v}">x</a>',
    "single-quoted href": "<a id='t' href='{v}'>x</a>",
    "img src": '<img id="t" src="{v}">',
    "iframe src": '<iframe id="t" src="{v}"></iframe>',
    "form action": '<form id="t" action="{v}"></form>',
    "formaction": '<button id="t" formaction="{v}">x</button>',
    "object data": '<object id="t" data="{v}"></object>',
    "video poster": '<video id="t" poster="{v}"></video>',
    "blockquote cite": '<blockquote id="t" cite="{v}"></blockquote>',
    "data-src": '<img id="t" data-src="{v}">',
    "SVG href": '<svg><a id="t" href="{v}"><text>x</text></a></svg>',
    "SVG xlink:href": '<svg><a id="t" xlink:href="{v}"><text>x</text></a></svg>',
    "SVG animate to": '<svg><a><animate id="t" attributeName="href" to="{v}"/></a></svg>',
    "after whitespace": '<a id="t" href="  {v}">x</a>',
}
LIST_TEMPLATES = {
    "srcset": '<img id="t" srcset="{v} 1x, /b.png 2x">',
    "srcset, second": '<img id="t" srcset="/a.png 1x, {v} 2x">',
    "ping": '<a id="t" href="/x" ping="/p {v}">x</a>',
}


def could_run_script(url: str) -> bool:
    """The oracle: True unless ``urlsplit`` finds no scheme, or an allowed one."""
    url = url.strip("".join(map(chr, range(0x21))))
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme in ("", "http", "https", "mailto", "tel"):
        return False
    return not (scheme == "data" and re.match(r"data:image/(png|gif|jpe?g|webp)[;,]", url, re.I))


def url_attribute(template: str) -> str:
    """The name of the attribute that holds {v} (without its namespace prefix)."""
    match = re.search(r'([\w:-]+)=["\'][^"\']*\{v\}', template)
    assert match is not None, template
    return match.group(1).split(":")[-1]


def harmless_url(markup: str, attribute: str, listed: bool = False) -> str:
    """The URL attribute of #t as parsed; it must not be able to run script."""
    [got] = read(parse(markup), "t", f"attr:{attribute}")
    urls = re.split(r"[\s,]+", got) if listed else [got]
    assert not any(could_run_script(url) for url in urls), f"{markup!r}"
    return got


def check_url(template: str, value: Any, listed: bool = False) -> str:
    """Render ``value`` in the URL attribute of ``template``; return the URL as parsed."""
    attribute = url_attribute(template)
    expected_shape = skeleton(parse(lw.html(template, v=HARMLESS).to_html()), (attribute,))
    results = set()
    for source, markup in htmls(lambda v: lw.html(template, v=v), value).items():
        assert skeleton(parse(markup), (attribute,)) == expected_shape, f"{source}: {markup!r}"
        results.add(harmless_url(markup, attribute, listed))
    assert len(results) == 1
    return results.pop()


@pytest.mark.parametrize("template", URL_TEMPLATES.values(), ids=URL_TEMPLATES.keys())
def test_a_url_that_could_run_script_renders_a_harmless_value(template: str):
    def check(value: str) -> None:
        got = check_url(template, value)
        before = "  " if '"  {v}' in template else ""
        raw = as_parsed(value, "attr")
        assert got == before + ("#ZgotmplZ" if could_run_script(before + raw) else raw)

    each_value(HOSTILE_URLS + PAYLOADS, check)


@pytest.mark.parametrize("template", LIST_TEMPLATES.values(), ids=LIST_TEMPLATES.keys())
def test_no_url_of_a_list_attribute_could_run_script(template: str):
    each_value(HOSTILE_URLS + PAYLOADS, lambda value: check_url(template, value, listed=True))


@pytest.mark.parametrize("value", SAFE_URLS)
def test_a_safe_url_renders_as_it_is(value: str):
    for template in URL_TEMPLATES.values():
        if "  {v}" not in template:
            assert check_url(template, value) == value


@pytest.mark.parametrize(
    ("template", "values"),
    [
        ('<a id="t" href="{v}">x</a>', {"v": lw.Markup("javascript&colon;alert(1)")}),
        ('<a id="t" href="{v}">x</a>', {"v": lw.Markup("&#x6A;avascript:alert(1)")}),
        ('<a id="t" href="{v}">x</a>', {"v": lw.html("java{s}", s="script:alert(1)")}),
        ('<a id="t" href="{v}">x</a>', {"v": ["java", "script:alert(1)"]}),
        ('<a id="t" href="{v}:alert(1)">x</a>', {"v": "javascript"}),
        ('<a id="t" href="{a}{v}">x</a>', {"a": "java", "v": "script:alert(1)"}),
        ('<a id="t" href="{a}{v}">x</a>', {"a": "", "v": "javascript:alert(1)"}),
        ('<a id="t" href="java{v}">x</a>', {"v": "script:alert(1)"}),
        ('<a id="t" href="{v}/x?q={q}">x</a>', {"v": "javascript:alert(1)", "q": "1"}),
    ],
    ids=lambda x: ascii(x)[:50],
)
def test_the_url_is_checked_as_built_from_trusted_nested_and_several_values(
    template: str, values: dict[str, Any]
):
    [link] = element(parse(lw.html(template, **values).to_html()), "t")
    assert link.get("href").startswith(("#ZgotmplZ", "java#ZgotmplZ"))
    assert not could_run_script(link.get("href"))


# --- bindings: an event name or lw.JS, never data parsed as commands ---------------------------

BINDINGS = [
    "phx-click",
    "phx-change",
    "phx-submit",
    "phx-blur",
    "phx-focus",
    "phx-keydown",
    "phx-keyup",
    "phx-window-keydown",
    "phx-window-keyup",
    "phx-click-away",
    "phx-mounted",
    "phx-remove",
    "phx-cancel",  # a phx-* attribute of the author's own, which `exec` can run
]


def js_trim_start(value: str) -> str:
    """JavaScript's String.prototype.trimStart: WhiteSpace and LineTerminator (ECMA-262)."""
    space = {"\t", "\x0b", "\x0c", "\ufeff", "\n", "\r", "\u2028", "\u2029"}
    i = 0
    while i < len(value) and (value[i] in space or unicodedata.category(value[i]) == "Zs"):
        i += 1
    return value[i:]


def check_binding(attribute: str, value: Any) -> str:
    """The binding as the browser reads it; it does not hold JS commands."""
    template = f'<button id="t" {attribute}="{{v}}">x</button>'
    outputs = htmls(lambda v: lw.html(template, v=v), value)
    expected_shape = skeleton(parse(lw.html(template, v=HARMLESS).to_html()), (attribute,))
    for source, markup in outputs.items():
        document = parse(markup)
        assert skeleton(document, (attribute,)) == expected_shape, f"{source}: {markup!r}"
        [got] = read(document, "t", f"attr:{attribute}")
        assert not js_trim_start(got).startswith("["), f"{source}: JS commands: {markup!r}"
    return got


@pytest.mark.parametrize("attribute", BINDINGS)
def test_data_in_a_binding_is_an_event_name_never_js_commands(attribute: str):
    def check(value: str) -> None:
        if js_trim_start(value).startswith("["):  # the front end would run it as commands
            with pytest.raises(TemplateError, match=rf"{attribute}.*lw\.JS\.push\("):
                check_binding(attribute, value)
        else:
            assert check_binding(attribute, value) == as_parsed(value, "attr")

    each_value(JS_COMMAND_PAYLOADS + PAYLOADS, check)


def test_the_issue_s_js_command_data_in_phx_click_is_refused_with_what_to_write_instead():
    with pytest.raises(TemplateError) as refused:
        lw.html('<button phx-click="{action}">Go</button>', action=ISSUE_ACTION)
    message = str(refused.value)
    assert "{action}" in message
    assert "phx-click" in message
    assert "lw.JS.push(" in message
    assert "event name" in message


@pytest.mark.parametrize("attribute", BINDINGS)
def test_lw_js_commands_and_event_names_go_in_a_binding(attribute: str):
    js = lw.JS.push("select", value={"id": 3}).toggle(to="#menu")
    markup = lw.html(f'<button id="t" {attribute}="{{v}}">x</button>', v=js).to_html()
    [got] = read(parse(markup), "t", f"attr:{attribute}")
    assert json.loads(got) == json.loads(str(js))
    assert check_binding(attribute, "select-row") == "select-row"


def test_a_second_field_at_the_start_of_a_binding_is_checked_too():
    with pytest.raises(TemplateError, match=r"\{b\}"):
        lw.html('<p phx-click="{a} {b}">', a="", b=ISSUE_ACTION)
    assert str(lw.html('<p phx-click="go-{b}">', b="[x]")) == '<p phx-click="go-[x]">'


# --- CSS: neutralised --------------------------------------------------------------------------

LOADS_OR_RUNS = {"url", "expression", "image", "image-set", "element", "cross-fade", "paint"}


def css_problems(tokens: list[Any]) -> list[str]:
    """What in these CSS tokens could load a resource or run code (the oracle)."""
    found = []
    for token in tokens:
        if token.type == "url":
            found.append(f"url token {token.serialize()}")
        elif token.type == "function":
            if token.lower_name in LOADS_OR_RUNS or "binding" in token.lower_name:
                found.append(f"function {token.name}()")
            found += css_problems(token.arguments)
        elif token.type in ("() block", "[] block", "{} block"):
            found += css_problems(token.content)
        elif token.type == "at-keyword":
            found.append(f"@{token.value}")
    return found


def declarations(css: str) -> list[Any]:
    nodes = tinycss2.parse_blocks_contents(css, skip_whitespace=True)
    assert all(node.type == "declaration" for node in nodes), css
    return nodes


def check_style_attribute(value: Any) -> str:
    template = '<p id="t" style="color: {v}; margin: 0">x</p>'
    expected_shape = skeleton(parse(lw.html(template, v=HARMLESS).to_html()), ("style",))
    for source, markup in htmls(lambda v: lw.html(template, v=v), value).items():
        document = parse(markup)
        assert skeleton(document, ("style",)) == expected_shape, f"{source}: {markup!r}"
        [style] = read(document, "t", "attr:style")
        found = declarations(style)
        assert [d.lower_name for d in found] == ["color", "margin"], f"{source}: {markup!r}"
        for declaration in found:
            assert css_problems(declaration.value) == [], f"{source}: {markup!r}"
    return shown(found[0])


def check_style_element(value: Any) -> str:
    template = '<style id="t">p {{ color: {v}; margin: 0 }} b {{ color: red }}</style>'
    expected_shape = skeleton(parse(lw.html(template, v=HARMLESS).to_html()))
    for source, markup in htmls(lambda v: lw.html(template, v=v), value).items():
        document = parse(markup)
        assert skeleton(document) == expected_shape, f"{source}: {markup!r}"
        [css] = read(document, "t", "rcdata")
        rules = tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)
        assert [tinycss2.serialize(r.prelude).strip() for r in rules] == ["p", "b"], markup
        found = declarations(tinycss2.serialize(rules[0].content))
        assert [d.lower_name for d in found] == ["color", "margin"], f"{source}: {markup!r}"
        assert css_problems(found[0].value) == [], f"{source}: {markup!r}"
    return shown(found[0])


def shown(declaration: Any) -> str:
    value = tinycss2.serialize(declaration.value).strip()
    return f"{value} !important" if declaration.important else value


@pytest.mark.parametrize("check", [check_style_attribute, check_style_element])
def test_a_css_value_is_one_harmless_value_or_neutralised(check: Callable[[Any], str]):
    def outcome(value: str) -> None:
        assert check(value) in ("ZgotmplZ", as_parsed(value, "attr").strip())

    each_value(CSS_PAYLOADS + PAYLOADS, outcome)


@pytest.mark.parametrize("check", [check_style_attribute, check_style_element])
@pytest.mark.parametrize("value", SAFE_CSS)
def test_a_harmless_css_value_renders_as_it_is(check: Callable[[Any], str], value: str):
    assert check(value) == value


# --- srcdoc: an HTML document inside an attribute ----------------------------------------------


def inner_document(value: Any) -> Any:
    markup = lw.html('<iframe id="t" srcdoc="{v}"></iframe>', v=value).to_html()
    [srcdoc] = read(parse(markup), "t", "attr:srcdoc")
    return parse(srcdoc)


def test_a_value_in_srcdoc_is_text_in_the_inner_document():
    def check(value: str) -> None:
        assert skeleton(inner_document(value)) == skeleton(parse(""))

    each_value(PAYLOADS, check)


def test_trusted_markup_in_srcdoc_is_markup_in_the_inner_document():
    inner = lw.html("<i>{x}</i>", x="<script>")
    document = inner_document(inner)
    assert [e.tag for e in document.iter()][-1] == "i"
    assert [e.text for e in document.iter() if e.tag == "i"] == ["<script>"]


# --- refused: event handlers, <script>, where attributes go -------------------------------------

REFUSED_AT_RENDER = {
    "onclick": '<p onclick="{v}">x</p>',
    "onerror": "<img onerror='{v}'>",
    "script": "<script>var x = {v};</script>",
    "script string": '<script>var x = "{v}";</script>',
    "SVG script": "<svg><script>{v}</script></svg>",
    "where attributes go": "<input {v}>",
}


@pytest.mark.parametrize("template", REFUSED_AT_RENDER.values(), ids=REFUSED_AT_RENDER.keys())
def test_a_str_where_escaping_cannot_protect_is_refused(template: str):
    def check(value: str) -> None:
        if value == "" and "{v}>" in template:
            assert lw.html(template, v=value).to_html() == template.replace("{v}", "")
            return
        with pytest.raises(TemplateError, match=r"\{v\}.*lw\.Markup"):
            lw.html(template, v=value)

    each_value([*PAYLOADS, *JS_COMMAND_PAYLOADS], check)


# --- refused when parsed: no value could be safe -----------------------------------------------

REFUSED_AT_PARSE = {
    "tag name": ("<{v}>x</p>", "Write the tag in the template"),
    "end tag name": ("<p>x</{v}>", "Write the tag in the template"),
    "part of a tag name": ("<h{v}>x</h1>", "Write the tag in the template"),
    "attribute name": ('<p {v}="1">x</p>', "Write the attribute's name in the template"),
    "part of an attribute name": ('<p data-{v}="1">x</p>', "Write the attribute's name"),
    "unquoted attribute": ("<input value={v}>", 'Quote it: value="{v}"'),
    "unquoted after text": ("<input value=a{v}>", 'Quote it: value="{v}"'),
    "unquoted URL": ("<a href={v}>x</a>", 'Quote it: href="{v}"'),
    "comment": ("<!-- {v} -->", "Leave it out"),
    "declaration": ("<!{v}>", "Leave it out"),
    "processing instruction": ("<?xml {v}?>", "Leave it out"),
    "JS commands in the template": (
        '<p phx-click=\'[["push",{{"event":"{v}"}}]]\'>x</p>',
        "Build the commands with lw.JS",
    ),
    "javascript: URL in the template": ('<a href="javascript:go({v})">x</a>', "Use a binding"),
    "after < in a textarea": ("<textarea><{v}/textarea></textarea>", "Put a space after '<'"),
    "after </ in a style": ("<style></{v}</style>", "Put a space after '<'"),
}


@pytest.mark.parametrize(
    ("template", "fix"), REFUSED_AT_PARSE.values(), ids=REFUSED_AT_PARSE.keys()
)
def test_a_field_where_no_value_could_be_safe_is_refused_when_parsed(template: str, fix: str):
    with pytest.raises(TemplateError) as refused:
        lw.html(template, v=HARMLESS)
    assert "{v}" in str(refused.value)
    assert fix in str(refused.value)


# --- the checkers can fail ---------------------------------------------------------------------


def unescaped(template: str) -> Callable[[Any], Rendered]:
    """A renderer that trusts the value, as a template with no escaping would."""
    return lambda v: lw.html(template, v=lw.Markup(v))


def test_the_text_checker_catches_a_value_that_was_not_escaped():
    position = Position("unescaped", unescaped('<p id="v">{v}</p>'), (("v", "text"),))
    with pytest.raises(AssertionError, match="the value made markup"):
        check_inert(position, "<script>alert(1)</script>")
    with pytest.raises(AssertionError, match="the value made markup"):
        check_inert(position, "<!--")


def test_the_url_checker_catches_a_script_url_that_was_only_escaped():
    for url in ["javascript:alert(1)", " JAVA\tSCRIPT:x", "data:text/html,x"]:
        with pytest.raises(AssertionError):
            harmless_url(f'<a id="t" href="{escape(url)}">x</a>', "href")
    with pytest.raises(AssertionError):
        harmless_url('<img id="t" srcset="/a.png 1x, javascript:x 2x">', "srcset", listed=True)


def test_the_binding_checker_catches_js_commands():
    template = '<button id="t" phx-click="{v}">x</button>'
    markup = template.replace("{v}", str(escape(" [[]]")))
    [got] = read(parse(markup), "t", "attr:phx-click")
    assert js_trim_start(got).startswith("[")
    assert js_trim_start("\ufeff\u3000\u2028[").startswith("[")
    assert not js_trim_start("\x1c[").startswith("[")  # not JavaScript whitespace


def test_the_css_checker_catches_a_url_and_a_second_declaration():
    assert css_problems(tinycss2.parse_component_value_list("url(x)")) == ["url token url(x)"]
    assert css_problems(tinycss2.parse_component_value_list("image-set('x' 1x)")) != []
    with pytest.raises(AssertionError):
        declarations("color: red; } p { x: y")
    markup = '<p id="t" style="color: red; background: url(x); margin: 0">x</p>'
    [style] = read(parse(markup), "t", "attr:style")
    assert [d.lower_name for d in declarations(style)] != ["color", "margin"]


def test_the_srcdoc_checker_catches_a_value_escaped_only_once():
    markup = f'<iframe id="t" srcdoc="{escape("<script>alert(1)</script>")}"></iframe>'
    [srcdoc] = read(parse(markup), "t", "attr:srcdoc")
    assert skeleton(parse(srcdoc)) != skeleton(parse(""))

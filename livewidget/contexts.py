"""Contexts: where each field of a template sits in the HTML, and what a value may become there.

The trust model. A template's *source* (its statics) is written by the notebook's author and is
trusted: it may hold any markup, a ``<script>``, a ``javascript:`` link. Every *value* is data
and untrusted, unless it says otherwise by carrying ``__html__`` (``lw.Markup``, a nested
``Rendered``). Escaping is only safe when it fits the place a value lands in: ``&lt;`` keeps a
value from opening a tag in text, but does nothing for ``href="{url}"`` (``javascript:``),
``<script>{x}</script>`` (the browser does not decode entities there) or ``phx-click="{x}"``
(the front end runs a value starting with ``[`` as JS commands). So, as Go's ``html/template``
does, ``parse()`` reads the statics with a small HTML tokenizer, once per source, and gives each
field its context; ``html()`` then only dispatches on the context at render time.

=================================  ==============================================================
Where the field is                 What a value becomes (``template.py`` applies it)
=================================  ==============================================================
text, ``<textarea>``, ``<title>``  HTML-escaped (``& < > " '``); a nested template or markup as is
quoted attribute ``title="{x}"``   HTML-escaped; trusted markup must not hold the quote
URL attribute ``href="{x}"``       HTML-escaped; if the attribute's URL (as built, statics and
                                   values together, entities decoded) has a scheme other than
                                   http(s), mailto, tel or a raster ``data:image``, each field of
                                   the attribute renders ``#ZgotmplZ`` (Go's harmless value).
                                   Trusted values and nested templates are checked too
``phx-click="{x}"`` and the other  an event name or ``lw.JS`` commands; a str that would make the
binding attributes                 value start with ``[`` is refused (``TemplateError``)
``style="{x}"``, ``<style>{x}``    one CSS value: anything with ``; { } ( url ...`` beyond a
                                   few harmless functions (``rgb()``, ``calc()``...) renders
                                   ``ZgotmplZ``, which CSS ignores
``onclick="{x}"``, ``<script>``    numbers and ``lw.Markup`` only; anything else is refused
``srcdoc="{x}"``                   HTML inside HTML: escaped twice (once for trusted markup)
where attributes go ``<p {x}>``    ``lw.Markup`` (attributes you wrote), ``None``, ``False``, ``""``
=================================  ==============================================================

Refused when the template is parsed (the context alone decides, whatever the value): a field in
a tag name (``<{tag}>``), in or as an attribute name (``data-{k}="1"``, ``{k}="1"``), as an
unquoted attribute value (``value={x}``: quote it; one character, and a value there could end
the attribute), in an HTML comment or ``<!...>`` declaration, right after ``<`` or ``</`` inside
raw text (it could close the element), inside JS commands written in the template
(``phx-click='[["push",{{"event":"{e}"}}]]'``) and inside a ``javascript:`` URL written in the
template. A value that decides (a str in a ``<script>``) is refused when rendered.

The tokenizer follows the HTML5 tokenizer closely where it matters for deciding a field's
context: tags and their attributes (double-, single- and unquoted values), comments and
``<!...>``/``<?...>`` declarations, the raw text of ``<script>`` (with its ``<!--`` escape
states, so ``</script>`` ends it where a browser ends it) and ``<style>``, the RCDATA of
``<textarea>`` and ``<title>``, the raw text of ``xmp iframe noembed noframes noscript`` and
``plaintext``, and SVG and MathML, where none of those are special (with the HTML integration
points, ``<foreignObject>``, ``<mtext>``..., and the HTML tags that leave foreign content).
``<noscript>`` is raw text as in a page with scripting on (as for ``innerHTML``). Where the
tokenizer might misjudge, it errs toward seeing markup: a field it takes for an attribute is
checked at least as strictly as text.

Decisions, and why:

* Refuse or neutralise? Where a harmless stand-in keeps the page meaning what the author wrote,
  the value is neutralised and the view keeps rendering (a dashboard fed one bad URL shows one
  dead link, not an error): URLs (``#ZgotmplZ`` is a fragment that goes nowhere) and CSS
  (``ZgotmplZ`` is a value CSS drops), as Go does. Where no stand-in means anything, the render
  is refused with a ``TemplateError`` that names the field and the fix, and the view keeps its
  last good render: JS commands from data in a binding (never legitimate; an event name from
  data is, so the rule is about ``[`` only), a str in an ``on*`` attribute or a ``<script>``
  (Go would JS-escape it, but a script in a live view's patch does not even run; JSON you
  vouch for goes in as ``lw.Markup``), anything but markup where attributes go.
* Unquoted attribute values are refused, not escaped as Go escapes them: quoting is a
  one-character fix, the message shows it, and every attribute context then has one shape.
* Comments are refused: Go drops them from templates; here they reach the page, and a value
  could end one early (``--!>`` needs no ``>`` from the value).
* Where attributes go (``<input {checked}>``) takes ``lw.Markup`` but not a nested template:
  a template is read on its own, as text, so its fields were never checked as attributes.
* A nested template is trusted, but only for what it was read as: it must close what it opens,
  must not hold the quote of the attribute it lands in, must not hold the end tag of the raw
  text it lands in, and inside ``<svg>`` must read the same as in HTML (``template.py``).
* CSS: one value, like Go's ``cssValueFilter`` (no ``; { } [ ] < > & " ' \\ @``, no comment),
  also without ``:``, and with parentheses after harmless functions only (colours, ``calc()``,
  transforms, gradients, filters), never ``url()``: so a CSS value is inert in HTML too.
* srcset, ping and SVG ``values`` hold lists of URLs: every word is checked (descriptors
  never hold a scheme), to err on the safe side.

Not covered: what ``lw.Markup`` holds beyond the checks above (it is the author's word), and a
``<meta http-equiv="refresh" content="...">`` URL (browsers refuse ``javascript:`` there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from html import unescape

# --- the kinds of context a field can be in ----------------------------------------------

TEXT = 0  # element text in HTML: escaped (the fast path of html())
ATTR = 1  # a quoted attribute value of no special meaning: escaped (the fast path too)
RAW_TEXT = 2  # text of textarea / title / xmp ... (RCDATA or raw text): escaped
FOREIGN_TEXT = 3  # text inside <svg> / <math>: escaped
URL = 4  # a field that can decide a URL attribute's scheme
BINDING = 5  # a phx-* attribute that holds an event name or JS commands
HANDLER = 6  # an on* attribute: JavaScript
CSS = 7  # a style attribute or a <style> body
SCRIPT = 8  # a <script> body
SRCDOC = 9  # <iframe srcdoc>: an HTML document inside an attribute
SLOT = 10  # where attributes go: <input {checked}>
REFUSED = 11  # no value can be safe here; Context.why says why

FAILSAFE_URL = "#ZgotmplZ"
"""What a field of a URL attribute renders when the URL would run script (as in Go)."""
FAILSAFE_CSS = "ZgotmplZ"
"""What a field renders in CSS when its value is more than one harmless CSS value (as in Go)."""


@dataclass(frozen=True, slots=True)
class Context:
    """Where one field sits: its kind, and what the messages and checks need to know."""

    kind: int
    where: str = ""  # the template around the field, for messages: 'phx-click="{action}"'
    attr: str = ""  # the attribute's name (lowercase), when the field is in an attribute
    quote: str = ""  # the attribute's quote
    leading: bool = False  # BINDING: only whitespace before it in the attribute value
    whole: bool = False  # URL: the field is the attribute's whole value (href="{url}")
    end: str = ""  # RAW_TEXT: the tag that ends the text ("textarea")
    why: str = ""  # REFUSED: why, and what to write instead


@dataclass(frozen=True, slots=True)
class UrlCheck:
    """A URL attribute whose fields can decide a scheme: checked as built, at render time.

    The attribute's value is ``pieces[0] + field[fields[0]] + pieces[1] + ...``.
    """

    attr: str
    separator: str  # "" one URL; "," srcset candidates; " " ping's list; ";" SVG values
    pieces: tuple[str, ...]
    fields: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    contexts: tuple[Context, ...]
    urls: tuple[UrlCheck, ...]
    left_open: str  # what the template leaves open at its end ("<script>", "a tag"), or ""


# --- attributes ----------------------------------------------------------------------------

# Attributes whose value is a URL (Go's attrTypeMap, and WHATWG's URL-valued attributes). As
# Go does, a "data-" prefix and a namespace prefix ("xlink:") are looked through, and any name
# that contains "src", "uri" or "url" counts too (data-src and friends are loaded by libraries).
URL_ATTRIBUTES = frozenset(
    {
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "dynsrc",
        "formaction",
        "href",
        "icon",
        "longdesc",
        "lowsrc",
        "manifest",
        "ping",
        "poster",
        "profile",
        "src",
        "srcset",
        "usemap",
        "xmlns",
    }
)
URL_LISTS = {"srcset": ",", "imagesrcset": ",", "ping": " ", "values": ";"}
# SVG animation sets another attribute (attributeName="href") to these values.
ANIMATION_TAGS = frozenset({"animate", "set"})
ANIMATION_VALUES = frozenset({"to", "from", "values", "by"})

# phx-* attributes that hold a plain value, never JS commands. Every other phx-* attribute is a
# binding: the front end (js_commands.ts, BINDING_PLAIN there) runs a value that starts with "["
# as JS commands, and its `exec` command reads only these binding attributes.
PHX_PLAIN = frozenset(
    {
        "phx-target",
        "phx-key",
        "phx-debounce",
        "phx-throttle",
        "phx-disable-with",
        "phx-hook",
        "phx-update",
        "phx-trigger-action",
        "phx-page-loading",
        "phx-feedback-for",
        "phx-feedback-group",
        "phx-track-static",
        "phx-no-feedback",
    }
)


def is_binding(name: str) -> bool:
    """True for a phx-* attribute that may hold JS commands (phx-click, phx-change...)."""
    name = name.lower()
    return name.startswith("phx-") and name not in PHX_PLAIN and not name.startswith("phx-value-")


def url_separator(tag: str, name: str) -> str | None:
    """For a URL-valued attribute: how its URLs are separated ("" for one URL); else None."""
    name = name.lower()
    if name.startswith("phx-"):
        return None
    local = name
    if ":" in local and not local.startswith("xmlns"):
        local = local.split(":", 1)[1]
    local = local.removeprefix("data-")
    if tag in ANIMATION_TAGS and local in ANIMATION_VALUES:
        return URL_LISTS.get(local, "")
    if local in URL_ATTRIBUTES or "src" in local or "uri" in local or "url" in local:
        return URL_LISTS.get(local, "")
    return None


def attribute_kind(tag: str, name: str) -> int:
    """The context of a value in attribute ``name`` of element ``tag`` (both lowercase)."""
    if name.startswith("phx-"):
        return BINDING if is_binding(name) else ATTR
    if name.startswith("on"):
        return HANDLER
    if name == "style":
        return CSS
    if name == "srcdoc":
        return SRCDOC
    return ATTR if url_separator(tag, name) is None else URL


# --- URLs ------------------------------------------------------------------------------------

SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_SAFE_DATA = re.compile(r"data:image/(png|gif|jpeg|jpg|webp|avif|bmp|x-icon)[;,]", re.IGNORECASE)
_URL_STRIP = "".join(chr(c) for c in range(0x21))  # C0 controls and space, as the URL parser
_URL_DROP = re.compile(r"[\t\n\r]")  # the URL parser removes these anywhere


def is_safe_url(url: str) -> bool:
    """False if following ``url`` could run script: a scheme other than http(s), mailto, tel,
    or a raster ``data:image/...``. Relative URLs (no scheme) are safe.

    ``url`` is the attribute value as the browser sees it (entities decoded); the check strips
    and drops what the URL parser does (``" java\\tscript:"`` is ``javascript:``).
    """
    if not url or url[0] in "/#?":  # relative (the common case)
        return True
    url = url.strip(_URL_STRIP)
    if "\t" in url or "\n" in url or "\r" in url:
        url = _URL_DROP.sub("", url)
    match = _SCHEME.match(url)
    if match is None:
        return True
    scheme = match.group(1).lower()
    return scheme in SAFE_SCHEMES or (scheme == "data" and _SAFE_DATA.match(url) is not None)


def urls_in(value: str, separator: str) -> list[str]:
    """The URLs of an attribute value: one, or a list (srcset candidates, ping, SVG values)."""
    if separator == "":
        return [value]
    if separator in ", ":  # srcset "url 1x, url 2x", ping "url url": every word, descriptors
        return re.split(r"[\s,]+", value)  # too (they never hold a scheme), to err on the safe side
    return value.split(separator)


def is_safe_attribute_value(value: str, separator: str) -> bool:
    """True if every URL in an attribute value (entities already decoded) is safe."""
    return all(is_safe_url(url) for url in urls_in(value, separator))


# --- CSS -------------------------------------------------------------------------------------

# Go's cssValueFilter refuses these characters and "expression" / "-moz-binding"; this filter
# refuses ":" too (no value needs it; a URL does) and lets "(" through only after a function
# that cannot load anything or run code (rgb(), calc()...), so colours from data still work.
_CSS_REFUSED = re.compile(r"[\x00\"'`;:@\[\]\\{}<>&]|/\*|\*/")
_CSS_FUNCTION = re.compile(r"([-\w]*)\s*\(")
SAFE_CSS_FUNCTIONS = frozenset(
    {
        "",  # a bare parenthesis: calc((1 + 2) * 3px)
        *("rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "oklab", "oklch", "color"),
        *("color-mix", "light-dark", "calc", "min", "max", "clamp", "var", "env", "attr"),
        *("translate", "translatex", "translatey", "translatez", "translate3d", "rotate"),
        *("rotatex", "rotatey", "rotatez", "rotate3d", "scale", "scalex", "scaley", "scale3d"),
        *("skew", "skewx", "skewy", "matrix", "matrix3d", "perspective"),
        *("linear-gradient", "radial-gradient", "conic-gradient", "repeating-linear-gradient"),
        *("repeating-radial-gradient", "repeating-conic-gradient", "cubic-bezier", "steps"),
        *("minmax", "repeat", "fit-content", "blur", "brightness", "contrast", "drop-shadow"),
        *("grayscale", "hue-rotate", "invert", "opacity", "saturate", "sepia"),
    }
)


def is_safe_css_value(value: str) -> bool:
    """True if ``value`` is harmless wherever it lands in CSS (a colour, a length, a word...).

    It holds none of ``" ' ` ; : @ [ ] \\ { } < > &``, no comment, only balanced parentheses
    after harmless functions: it cannot end a declaration or a rule, load a URL, or be
    anything but text in HTML.
    """
    if _CSS_REFUSED.search(value):
        return False
    if "(" not in value and ")" not in value:
        return True
    if any(name.lower() not in SAFE_CSS_FUNCTIONS for name in _CSS_FUNCTION.findall(value)):
        return False
    depth = 0
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


# --- the tokenizer ---------------------------------------------------------------------------

# whitespace that JavaScript's trimStart() removes, which the front end does before it looks
# for "[" (Python's str.isspace() does not count U+FEFF)
JS_SPACE = "".join(
    [
        "\t\n\x0b\x0c\r \xa0\u1680",
        *map(chr, range(0x2000, 0x200B)),
        "\u2028\u2029\u202f\u205f\u3000\ufeff",
    ]
)

_SPACE = "\t\n\x0c\r "
_NAME_END = re.compile(r"[\t\n\x0c\r />]")
_ATTR_NAME_END = re.compile(r"[\t\n\x0c\r />=]")
_UNQUOTED_END = re.compile(r"[\t\n\x0c\r >]")
_COMMENT_END = re.compile(r"--!?>")
_PARTIAL_END_TAG = re.compile(r"</?[a-zA-Z]*$")

RCDATA_TAGS = frozenset({"textarea", "title"})
RAWTEXT_TAGS = frozenset({"xmp", "iframe", "noembed", "noframes", "noscript"})
FOREIGN_ROOTS = frozenset({"svg", "math"})
SVG_HTML_POINTS = frozenset({"foreignobject", "desc", "title"})
MATH_HTML_POINTS = frozenset({"mi", "mo", "mn", "ms", "mtext", "annotation-xml"})
# HTML start tags that end foreign content (the tree builder pops back to HTML)
FOREIGN_BREAKOUT = frozenset(
    {
        *("b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt"),
        *("em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li"),
        *("listing", "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span"),
        *("strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var"),
    }
)

# tokenizer states
_DATA = "data"
_TAG_OPEN = "tag open"
_END_TAG_OPEN = "end tag open"
_TAG_NAME = "tag name"
_BEFORE_ATTR_NAME = "before attribute name"
_ATTR_NAME = "attribute name"
_AFTER_ATTR_NAME = "after attribute name"
_BEFORE_ATTR_VALUE = "before attribute value"
_ATTR_VALUE_QUOTED = "attribute value (quoted)"
_ATTR_VALUE_UNQUOTED = "attribute value (unquoted)"
_AFTER_ATTR_VALUE = "after attribute value"
_SELF_CLOSING = "self-closing start tag"
_MARKUP_DECLARATION = "markup declaration"
_COMMENT = "comment"
_BOGUS_COMMENT = "bogus comment"
_RAW = "raw text"  # script, style, RCDATA and other raw text, ended by </end
_PLAINTEXT = "plaintext"


def _excerpt(statics: tuple[str, ...], names: tuple[str, ...], index: int) -> str:
    """The template around field ``index``: up to the tag that holds it."""
    before = statics[index]
    cut = before.rfind("<")
    before = before[cut:] if cut >= 0 and len(before) - cut <= 60 else before[-40:]
    after = statics[index + 1]
    end = after.find(">")
    after = after[: end + 1] if 0 <= end < 30 else after[:20]
    return f"{before}{{{names[index]}}}{after}".strip()


class _Tokenizer:
    """Walks the statics of one template and gives each field its Context."""

    def __init__(self, statics: tuple[str, ...], names: tuple[str, ...], foreign: bool) -> None:
        self.statics = statics
        self.names = names
        self.state = _DATA
        self.tag = ""  # the current tag's name, lowercase
        self.end_tag = False
        self.self_closing = False
        self.attr = ""  # the current attribute's name, lowercase
        self.quote = ""
        self.pieces: list[str] = []  # the current attribute value's statics, split at fields
        self.fields: list[int] = []  # the fields in the current attribute value
        self.raw_end = ""  # _RAW: the end tag's name
        self.raw_kind = TEXT  # _RAW: SCRIPT, CSS or RAW_TEXT
        self.script_state = 0  # _RAW script: 0 data, 1 escaped (<!--), 2 double escaped
        self.comment_start = False
        # namespaces: (tag, foreign?) for <svg>/<math> and the HTML integration points in them
        self.namespaces: list[tuple[str, bool]] = [("svg", True)] if foreign else []
        self.start_depth = len(self.namespaces)
        self.foreign_text = 0  # inside a foreign <script> or <style>: SCRIPT or CSS
        self.contexts: list[Context] = []
        self.urls: list[UrlCheck] = []

    @property
    def foreign(self) -> bool:
        return bool(self.namespaces) and self.namespaces[-1][1]

    def run(self) -> Analysis:
        for index, static in enumerate(self.statics):
            self.scan(static)
            if index < len(self.names):
                self.contexts.append(self.at_field(index))
        return Analysis(tuple(self.contexts), tuple(self.urls), self.left_open())

    def left_open(self) -> str:
        if self.state == _RAW:
            return f"<{self.raw_end}>"
        if self.state == _PLAINTEXT:
            return "<plaintext>"
        if self.state in (_COMMENT, _BOGUS_COMMENT, _MARKUP_DECLARATION):
            return "a comment"
        if self.state != _DATA:
            return "a tag"
        if self.foreign_text:
            return "<script>" if self.foreign_text == SCRIPT else "<style>"
        if len(self.namespaces) > self.start_depth:
            return f"<{self.namespaces[-1][0]}>"
        if len(self.namespaces) < self.start_depth:
            return "the <svg> around it (it closes it)"
        return ""

    # -- one static -----------------------------------------------------------------------

    def scan(self, s: str) -> None:  # one branch per tokenizer state
        i, n = 0, len(s)
        while i < n:
            state = self.state
            if state == _DATA:
                j = s.find("<", i)
                if j < 0:
                    return
                i, self.state = j + 1, _TAG_OPEN
            elif state == _TAG_OPEN:
                c = s[i]
                if c == "!":
                    i, self.state, self.comment_start = i + 1, _MARKUP_DECLARATION, False
                elif c == "/":
                    i, self.state = i + 1, _END_TAG_OPEN
                elif c.isascii() and c.isalpha():
                    self.start_tag(end=False)
                elif c == "?":
                    self.state = _BOGUS_COMMENT
                else:
                    self.state = _DATA
            elif state == _END_TAG_OPEN:
                c = s[i]
                if c.isascii() and c.isalpha():
                    self.start_tag(end=True)
                elif c == ">":
                    i, self.state = i + 1, _DATA
                else:
                    self.state = _BOGUS_COMMENT
            elif state == _TAG_NAME:
                match = _NAME_END.search(s, i)
                j = match.start() if match else n
                self.tag += s[i:j].lower()
                i = j
                if match:
                    i = self.after_name(s, i)
            elif state in (_BEFORE_ATTR_NAME, _AFTER_ATTR_NAME, _AFTER_ATTR_VALUE):
                c = s[i]
                if c in _SPACE:
                    i += 1
                    if state == _AFTER_ATTR_VALUE:
                        self.state = _BEFORE_ATTR_NAME
                elif c == "/":
                    i, self.state = i + 1, _SELF_CLOSING
                elif c == ">":
                    i = self.close_tag(i + 1)
                elif c == "=" and state == _AFTER_ATTR_NAME:
                    i, self.state = i + 1, _BEFORE_ATTR_VALUE
                else:  # a new attribute ("=" may start a name, as in HTML)
                    self.state, self.attr = _ATTR_NAME, c.lower()
                    i += 1
            elif state == _SELF_CLOSING:
                if s[i] == ">":
                    self.self_closing = True
                    i = self.close_tag(i + 1)
                else:
                    self.state = _BEFORE_ATTR_NAME
            elif state == _ATTR_NAME:
                match = _ATTR_NAME_END.search(s, i)
                j = match.start() if match else n
                self.attr += s[i:j].lower()
                i = j
                if match:
                    c = s[i]
                    if c == "=":
                        i, self.state = i + 1, _BEFORE_ATTR_VALUE
                    elif c in _SPACE:
                        i, self.state = i + 1, _AFTER_ATTR_NAME
                    else:  # "/" or ">": handled by the next state
                        self.state = _BEFORE_ATTR_NAME
            elif state == _BEFORE_ATTR_VALUE:
                c = s[i]
                if c in _SPACE:
                    i += 1
                elif c in "\"'":
                    self.quote, self.pieces, self.fields = c, [""], []
                    i, self.state = i + 1, _ATTR_VALUE_QUOTED
                elif c == ">":
                    i = self.close_tag(i + 1)
                else:
                    self.state = _ATTR_VALUE_UNQUOTED
            elif state == _ATTR_VALUE_QUOTED:
                j = s.find(self.quote, i)
                if j < 0:
                    self.pieces[-1] += s[i:]
                    return
                self.pieces[-1] += s[i:j]
                self.end_value()
                i, self.state = j + 1, _AFTER_ATTR_VALUE
            elif state == _ATTR_VALUE_UNQUOTED:
                match = _UNQUOTED_END.search(s, i)
                if match is None:
                    return
                i, self.state = match.start(), _BEFORE_ATTR_NAME
            elif state == _MARKUP_DECLARATION:
                rest = s[i:]
                if rest.startswith("--"):
                    i, self.state, self.comment_start = i + 2, _COMMENT, True
                elif "--".startswith(rest) or any(
                    word.startswith(rest.lower()) for word in ("doctype", "[cdata[")
                ):
                    return  # undecided until the next static: a field here is refused
                else:
                    self.state = _BOGUS_COMMENT
            elif state == _COMMENT:
                if self.comment_start:
                    self.comment_start = False
                    for abrupt in (">", "->"):  # <!--> and <!---> are empty comments
                        if s.startswith(abrupt, i):
                            i, self.state = i + len(abrupt), _DATA
                            break
                    continue
                match = _COMMENT_END.search(s, i)
                if match is None:
                    return
                i, self.state = match.end(), _DATA
            elif state == _BOGUS_COMMENT:
                j = s.find(">", i)
                if j < 0:
                    return
                i, self.state = j + 1, _DATA
            elif state == _RAW:
                i = self.scan_raw(s, i)
            else:  # _PLAINTEXT: the rest of the document is text
                return

    def start_tag(self, end: bool) -> None:
        self.state, self.tag, self.end_tag, self.self_closing = _TAG_NAME, "", end, False

    def after_name(self, s: str, i: int) -> int:
        c = s[i]
        if c == ">":
            return self.close_tag(i + 1)
        self.state = _SELF_CLOSING if c == "/" else _BEFORE_ATTR_NAME
        return i + 1

    def end_value(self) -> None:
        """The current quoted attribute value closed: keep a URL check if it needs one (the
        field itself checks its value when it is the whole URL, href="{url}")."""
        if not self.fields:
            return
        separator = url_separator(self.tag, self.attr)
        if separator is None or not any(self.contexts[f].kind == URL for f in self.fields):
            return
        if separator == "" and self.pieces == ["", ""]:
            [field] = self.fields
            self.contexts[field] = replace(self.contexts[field], whole=True)
        else:
            self.urls.append(UrlCheck(self.attr, separator, tuple(self.pieces), tuple(self.fields)))

    def close_tag(self, i: int) -> int:
        """A tag ended at ``i``: enter the state its element's content starts in."""
        self.state = _DATA
        tag = self.tag
        if self.end_tag:
            if self.foreign_text and tag in ("script", "style"):
                self.foreign_text = 0
            for depth in range(len(self.namespaces) - 1, -1, -1):
                if self.namespaces[depth][0] == tag:
                    del self.namespaces[depth:]
                    break
            return i
        if self.foreign:
            if tag not in FOREIGN_BREAKOUT:  # an SVG / MathML element: its content is markup
                if not self.self_closing:
                    svg = self.namespaces[-1][0] == "svg"
                    if tag in (SVG_HTML_POINTS if svg else MATH_HTML_POINTS):
                        self.namespaces.append((tag, False))
                    elif tag in FOREIGN_ROOTS:
                        self.namespaces.append((tag, True))
                    elif tag in ("script", "style"):
                        self.foreign_text = SCRIPT if tag == "script" else CSS
                return i
            while self.namespaces and self.namespaces[-1][1]:  # <p> inside <svg> leaves it
                self.namespaces.pop()
        if tag in FOREIGN_ROOTS:
            if not self.self_closing:
                self.namespaces.append((tag, True))
        elif tag == "script":
            self.enter_raw(tag, SCRIPT)
        elif tag == "style":
            self.enter_raw(tag, CSS)
        elif tag in RCDATA_TAGS or tag in RAWTEXT_TAGS:
            self.enter_raw(tag, RAW_TEXT)
        elif tag == "plaintext":
            self.state = _PLAINTEXT
        return i

    def enter_raw(self, tag: str, kind: int) -> None:
        self.state, self.raw_end, self.raw_kind, self.script_state = _RAW, tag, kind, 0

    def scan_raw(self, s: str, i: int) -> int:
        """Raw text up to its end tag; in a script, through the <!-- escape states."""
        end = re.compile(rf"</{self.raw_end}[\t\n\x0c\r />]", re.IGNORECASE)
        while True:
            found = end.search(s, i)
            at = found.start() if found else len(s)
            if self.raw_kind == SCRIPT:
                step = self.script_step(s, i, at)
                if step is not None:
                    i = step
                    continue
                if found and self.script_state == 2:  # </script> ends the double escape
                    self.script_state, i = 1, found.end() - 1
                    continue
            if found is None:
                return len(s)
            self.start_tag(end=True)
            return found.start() + 2

    def script_step(self, s: str, i: int, limit: int) -> int | None:
        """The next change of script escape state before ``limit``: the index after it."""
        if self.script_state == 0:
            j = s.find("<!--", i, limit)
            if j >= 0:
                self.script_state = 1
                return j + 4
            return None
        ends = s.find("-->", i, limit)
        opens = -1
        if self.script_state == 1:
            match = re.compile(r"<script[\t\n\x0c\r />]", re.IGNORECASE).search(s, i, limit)
            opens = match.start() if match else -1
        if ends >= 0 and (opens < 0 or ends < opens):
            self.script_state = 0
            return ends + 3
        if opens >= 0:
            self.script_state = 2
            return opens + 7
        return None

    # -- a field ------------------------------------------------------------------------------

    def at_field(self, index: int) -> Context:  # one branch per tokenizer state
        where = _excerpt(self.statics, self.names, index)
        state = self.state
        name = self.names[index]
        if state == _DATA:
            if self.foreign_text:
                return Context(self.foreign_text, where)
            return Context(FOREIGN_TEXT if self.foreign else TEXT, where)
        if state == _ATTR_VALUE_QUOTED:
            return self.in_value(index, where)
        if state in (_BEFORE_ATTR_NAME, _AFTER_ATTR_NAME, _AFTER_ATTR_VALUE, _SELF_CLOSING):
            after = self.statics[index + 1]
            last = index + 1 == len(self.names)
            if (after and after[0] in _SPACE + "/>") or (not after and last):
                self.state = _BEFORE_ATTR_NAME  # the value is whole attributes
                return Context(SLOT, where)
            return _refused(
                where,
                f"{{{name}}} is part of an attribute name, so a value would choose which "
                f"attribute it sets ({where}). Write the attribute's name in the template with "
                f'the value quoted after it: title="{{{name}}}"',
            )
        if state in (_TAG_OPEN, _END_TAG_OPEN, _TAG_NAME):
            return _refused(
                where,
                f"{{{name}}} is in a tag name ({where}), so a value would choose which element to "
                "make. Write the tag in the template, and choose between templates in Python: "
                "lw.html('<h1>{title}</h1>', ...) if big else lw.html('<h2>{title}</h2>', ...)",
            )
        if state == _ATTR_NAME:
            return _refused(
                where,
                f"{{{name}}} is part of an attribute name ({where}), so a value would choose "
                "which attribute it sets. Write the attribute's name in the template: "
                f'data-kind="{{{name}}}"',
            )
        if state in (_BEFORE_ATTR_VALUE, _ATTR_VALUE_UNQUOTED):
            attr = self.attr
            return _refused(
                where,
                f"{{{name}}} is an unquoted attribute value ({where}); a value there could end "
                f'the attribute and add others. Quote it: {attr}="{{{name}}}"',
            )
        if state in (_MARKUP_DECLARATION, _COMMENT, _BOGUS_COMMENT):
            return _refused(
                where,
                f"{{{name}}} is inside an HTML comment or <!...> declaration ({where}), where a "
                "value could end the comment early. Leave it out, or render it as text outside "
                "the comment",
            )
        if state == _RAW:
            if _PARTIAL_END_TAG.search(self.statics[index]):
                return _refused(
                    where,
                    f"{{{name}}} follows '<' inside <{self.raw_end}> ({where}), where a value "
                    f"could end the <{self.raw_end}> element. Put a space after '<'",
                )
            return Context(self.raw_kind, where, end=self.raw_end)
        return Context(RAW_TEXT, where, end="plaintext")  # _PLAINTEXT

    def in_value(self, index: int, where: str) -> Context:
        attr, name = self.attr, self.names[index]
        before = unescape("".join(self.pieces))
        self.fields.append(index)
        self.pieces.append("")
        kind = attribute_kind(self.tag, attr)
        if kind == BINDING:
            if before.lstrip(JS_SPACE).startswith("["):
                return _refused(
                    where,
                    f"{{{name}}} is inside JS commands written in the template ({where}); a value "
                    "there could end a JSON string and add commands. Build the commands with "
                    f'lw.JS and pass them whole: {attr}="{{js}}" with '
                    "js=lw.JS.push('save', value={'id': row_id})",
                )
            leading = not before.strip(JS_SPACE)
            return Context(BINDING, where, attr, self.quote, leading=leading)
        if kind == URL:
            cleaned = _URL_DROP.sub("", before.strip(_URL_STRIP))
            if not is_safe_url(cleaned) and _SCHEME.match(cleaned):
                return _refused(
                    where,
                    f"{{{name}}} is inside a {cleaned.split(':')[0]}: URL written in the "
                    f"template ({where}); a value there is code. Use a binding instead: "
                    f'phx-click="event" phx-value-x="{{{name}}}", or lw.JS commands',
                )
            separator = url_separator(self.tag, attr) or ""
            if separator or not any(c in before for c in ":/?#"):
                return Context(URL, where, attr, self.quote)
            return Context(ATTR, where, attr, self.quote)
        return Context(kind, where, attr, self.quote)


def _refused(where: str, why: str) -> Context:
    return Context(REFUSED, where, why=why)


def analyse(statics: tuple[str, ...], names: tuple[str, ...], foreign: bool = False) -> Analysis:
    """Give each field (``names[i]`` sits between ``statics[i]`` and ``statics[i + 1]``) its
    context; ``foreign``: as if the template stood inside ``<svg>``. Refusals come back as
    contexts of kind REFUSED, for ``parse()`` to raise with the field's name."""
    return _Tokenizer(statics, names, foreign).run()

"""Rich values: a field whose value Jupyter knows how to show appears as Jupyter shows it.

``template.to_dynamic`` escapes text and numbers, nests templates, makes lists comprehensions
and trusts ``__html__`` (``lw.Markup``). Any other value comes here (``rich_dynamic``) before it
would be escaped as ``str(value)``; the first rule that applies decides::

    1. a pandas DataFrame      Jupyter's table: the HTML of df._repr_html_(), same options
                               (display.max_rows / min_rows / max_columns, precision, ...), as
                               a template whose cells are dynamics, so a changed cell sends
                               that cell; a MultiIndex on the rows: df._repr_html_() whole
    2. a pandas Styler         its table with each cell's CSS inline, diffed by cell
    3. a matplotlib Figure     inline SVG, the same bytes while the figure does not change
    4. a plotly figure or an   a warning naming its widget (go.FigureWidget(fig),
       altair chart            alt.JupyterChart(chart)): their HTML is scripts, which never
                               run in a view
    5. the display protocol    _repr_mimebundle_() and then the _repr_*_ methods, choosing the
                               type JupyterLab would (its renderers' ranks):
                                 text/html        trusted, as Jupyter trusts kernel output
                                 text/markdown    rendered by markdown-it-py or mistune
                                 image/svg+xml    inline
                                 image/png, image/jpeg, image/gif   <img src="data:...">
                                 text/markdown    escaped, when no markdown library is there
                                 text/plain       escaped (from a mimebundle only)
                               (text/latex, application/javascript and vendor types such as
                               plotly's or vega's JSON have no renderer here and are skipped)
    6. anything else           None: to_dynamic escapes str(value), as before

Rules that hold throughout:

* Plain ``str`` never comes here: it is always escaped. Text that pandas or a Styler shows in a
  cell is escaped too (a Styler does not escape by default; here it does).
* A ``<script>`` inserted into a live page never runs, and in an exported page it runs without
  the libraries it expects: HTML that carries one (plotly's or altair's ``to_html()`` in
  ``lw.Markup``, a ``_repr_html_`` that needs JavaScript) is shown without its scripts, after a
  visible ``<div class="lw-warning">`` that names the way that works: the chart's widget
  (``go.FigureWidget(fig)``, ``alt.JupyterChart(chart)``) placed in the view.
* Values that are clearly a mistake are refused with a ``TemplateError`` that names the field
  (``template`` adds it) and says what to write: a function or a bound method (``{df.to_html}``),
  a tuple of plain values (a stray comma). ``{df.to_html()}`` is refused when the template is
  parsed: fields never call.
* Nothing here imports pandas, numpy, matplotlib or a Jupyter package. A value's type is
  matched against the classes of modules already in ``sys.modules`` (a DataFrame cannot exist
  before pandas is imported), once per type, so a plain value costs one dict lookup. The
  display methods are looked up on the class too: an object whose ``__getattr__`` answers
  every name does not pass for one (IPython tests the same with a canary attribute).

How DataFrames and Stylers are diffed by cell: ``tables.py``.
"""

from __future__ import annotations

import base64
import functools
import importlib
import io
import itertools
import re
import sys
import threading
import types
import weakref
from collections.abc import Callable
from typing import Any, Final

from markupsafe import escape

from . import tables
from .template import Dynamic, TemplateError

__all__ = ["ValueMistake", "refuse_plain_tuple", "rich_dynamic", "trusted_html"]


class ValueMistake(TemplateError):
    """A field's value is clearly not what was meant; ``html()`` adds the field's name."""


Handler = Callable[[Any], "Dynamic | None"]

# The door that places a live Jupyter widget in a page, when no embed of its own claimed it
# first (the Jupyter door registers one with ``template.embed`` when it is imported):
# ``livewidget serve`` sets it (serve/widgets.py). Without one, a widget is its escaped repr.
widget_door: Callable[[Any], Dynamic] | None = None


def _live_widget(value: Any) -> Dynamic | None:
    door = widget_door
    return door(value) if door is not None else None


# The handler of each type seen so far (None: not a rich value); see _classify.
_handlers: dict[type, Handler | None] = {}


def rich_dynamic(value: Any) -> Dynamic | None:
    """The dynamic that shows ``value`` as Jupyter would, or None to escape ``str(value)``."""
    kind = type(value)
    try:
        handler = _handlers[kind]
    except KeyError:
        if len(_handlers) > 4096:  # types made on the fly: keep the table bounded
            _handlers.clear()
        handler = _handlers[kind] = _classify(kind)
    return None if handler is None else handler(value)


_CALLABLES: Final = frozenset(
    {
        types.FunctionType,
        types.LambdaType,
        types.MethodType,
        types.BuiltinFunctionType,
        types.BuiltinMethodType,
        types.MethodWrapperType,
        types.WrapperDescriptorType,
        types.MethodDescriptorType,
        types.ClassMethodDescriptorType,
        functools.partial,
    }
)

# The display protocol's methods, by the MIME type each returns.
_METHODS: Final = {
    "text/html": "_repr_html_",
    "text/markdown": "_repr_markdown_",
    "image/svg+xml": "_repr_svg_",
    "image/png": "_repr_png_",
    "image/jpeg": "_repr_jpeg_",
}


def _classify(kind: type) -> Handler | None:
    if issubclass(kind, type):
        return None  # a class: its _repr_*_ are unbound functions (IPython skips classes too)
    if kind in _CALLABLES or issubclass(kind, functools.partial):
        return _refuse_callable
    if _subclass(kind, "ipywidgets", "Widget"):
        return _live_widget  # placed by a door that shows widgets, if one is open
    if _subclass(kind, "pandas", "DataFrame"):
        return tables.frame
    if _subclass(kind, "pandas.io.formats.style", "Styler"):
        return tables.styler
    if _subclass(kind, "matplotlib.figure", "Figure"):
        return _figure
    if _subclass(kind, "plotly.basedatatypes", "BaseFigure"):
        return _plotly
    if _subclass(kind, "altair", "TopLevelMixin"):
        return _altair
    if any(
        callable(getattr(kind, name, None)) for name in ("_repr_mimebundle_", *_METHODS.values())
    ):
        return _display
    return None


def _subclass(kind: type, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    base = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(base, type) and issubclass(kind, base)


# -- mistakes ---------------------------------------------------------------------------------


def _refuse_callable(value: Any) -> Dynamic:
    owner = getattr(value, "__self__", None)
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None) or repr(value)
    if owner is not None and not isinstance(owner, types.ModuleType):
        what = f"the method {type(owner).__name__}.{getattr(value, '__name__', name)}"
        fix = (
            "Pass the object itself (a DataFrame shows as Jupyter's table, updated cell by "
            "cell), or call the method in render and pass its result as a value."
            if type(owner).__module__.startswith("pandas")
            else "Call it in render and pass the result as a value."
        )
    else:
        what = f"the function {name}"
        fix = "Call it in render and pass the result as a value."
    raise ValueMistake(f"got {what}, not a value: a field shows a value, it never calls one. {fix}")


_PLAIN: Final = (str, bytes, int, float, complex, bool, type(None))


def refuse_plain_tuple(value: tuple[Any, ...]) -> None:
    """A tuple of plain values (``(1, 2)``, a stray comma) would run together as text: refuse it."""
    if value and all(isinstance(v, _PLAIN) and not hasattr(v, "__html__") for v in value):
        raise ValueMistake(
            f"got the tuple {value!r:.80}, whose items would run together as text (a stray "
            "comma after a value, or a function's several results?). Pass one value, write "
            "each part as a field of its own ({x[0]} and {x[1]}), or join them in render "
            "(', '.join(map(str, x)))."
        )


# -- HTML, scripts and the warning ------------------------------------------------------------

# A script element as the HTML tokenizer sees it: it ends at the first </script, whatever its
# text holds; one never closed runs to the end. (<script-chart> is another element.)
_SCRIPT_ELEMENT: Final = re.compile(
    r"<script(?=[\s/>])[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL
)
_UNCLOSED_SCRIPT: Final = re.compile(r"<script(?=[\s/>]).*\Z", re.IGNORECASE | re.DOTALL)

_PLOTLY_FIX: Final = "show <code>go.FigureWidget(fig)</code> inside the view instead"
_ALTAIR_FIX: Final = "show <code>alt.JupyterChart(chart)</code> inside the view instead"
_WARNING_STYLE: Final = (
    "border-left: 3px solid #d9822b; background: #fdf3e7; color: #5c3c00; "
    "padding: 4px 8px; margin: 4px 0; font: 0.9em sans-serif"
)


def _warning(text: str) -> str:
    return f'<div class="lw-warning" role="note" style="{_WARNING_STYLE}">{text}</div>'


def _chart_warning(library: str, fix: str) -> str:
    return _warning(
        f"This {library} chart is drawn by &lt;script&gt;s, which never run inside a livewidget "
        f"view (live or exported): {fix}."
    )


def trusted_html(text: str) -> str:
    """HTML trusted as it is, except its ``<script>``s: those are left out, with a warning."""
    lowered = text.lower()  # then `in`: twice as fast as a case-blind regex on 100 KB
    if "<script" not in lowered:
        return text
    if "plotly" in lowered:
        fix = _PLOTLY_FIX
    elif "vegaembed" in lowered or "vega-embed" in lowered:
        fix = _ALTAIR_FIX
    else:
        fix = (
            "show the content as a widget inside the view instead (a plotly chart: "
            "<code>go.FigureWidget(fig)</code>; an altair chart: "
            "<code>alt.JupyterChart(chart)</code>)"
        )
    stripped = _UNCLOSED_SCRIPT.sub("", _SCRIPT_ELEMENT.sub("", text))
    return (
        _warning(
            "This HTML carries &lt;script&gt;s, which never run inside a livewidget view (live "
            f"or exported), so they were left out: {fix}."
        )
        + stripped
    )


def _plotly(value: Any) -> Dynamic:
    return _chart_warning("plotly", _PLOTLY_FIX)


def _altair(value: Any) -> Dynamic:
    return _chart_warning("altair", _ALTAIR_FIX)


# -- the display protocol ---------------------------------------------------------------------

_RANK: Final = (
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
)
_RANK_NO_MARKDOWN: Final = (*(m for m in _RANK if m != "text/markdown"), "text/markdown")
_IMAGES: Final = frozenset({"image/png", "image/jpeg", "image/gif"})


def _display(value: Any) -> Dynamic | None:
    bundle: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    method = getattr(value, "_repr_mimebundle_", None)
    if callable(method):
        result = method(include=None, exclude=None)
        if isinstance(result, tuple) and len(result) == 2:
            result, metadata = result[0], dict(result[1] or {})
        bundle = dict(result or {})
    markdown = _markdown()
    for mime in _RANK if markdown is not None else _RANK_NO_MARKDOWN:
        data, meta = _repr(value, bundle, metadata, mime)
        if data is not None:
            return _mime_html(mime, data, meta, markdown)
    plain = bundle.get("text/plain")
    return str(escape(plain)) if isinstance(plain, str) else None


def _repr(
    value: Any, bundle: dict[str, Any], metadata: dict[str, Any], mime: str
) -> tuple[Any, Any]:
    """One MIME type's data: from the mimebundle if it has it, else from its _repr_*_ method."""
    if mime in bundle:
        return bundle[mime], metadata.get(mime)
    name = _METHODS.get(mime)
    method = getattr(value, name, None) if name is not None else None
    if not callable(method):
        return None, None
    try:
        data = method()
    except NotImplementedError:  # IPython's way for a method to decline
        return None, None
    if isinstance(data, tuple) and len(data) == 2:
        return data
    return data, None


def _mime_html(mime: str, data: Any, meta: Any, markdown: Callable[[str], str] | None) -> str:
    if isinstance(data, bytes) and mime not in _IMAGES:
        data = data.decode("utf-8")
    if mime == "text/html":
        return trusted_html(str(data))
    if mime == "text/markdown":
        return trusted_html(markdown(str(data))) if markdown is not None else str(escape(data))
    if mime == "image/svg+xml":
        text = str(data)
        start = text.find("<svg")
        return trusted_html(text[start:] if start >= 0 else text)
    encoded = (
        base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else str(data).strip()
    )
    size = ""
    if isinstance(meta, dict):
        for attribute in ("width", "height"):
            if isinstance(meta.get(attribute), (int, float)):
                size += f' {attribute}="{meta[attribute]}"'
    return f'<img src="data:{mime};base64,{escape(encoded)}"{size} alt="">'


@functools.cache
def _markdown() -> Callable[[str], str] | None:
    """markdown-it-py's CommonMark renderer, else mistune's (nbconvert brings it), else None."""
    try:
        markdown_it = importlib.import_module("markdown_it")
    except ImportError:
        pass
    else:
        render: Callable[[str], str] = markdown_it.MarkdownIt("commonmark").render
        return render
    try:
        mistune = importlib.import_module("mistune")
    except ImportError:
        return None
    found = getattr(mistune, "html", None) or getattr(mistune, "markdown", None)
    return found if callable(found) else None


# -- matplotlib figures -----------------------------------------------------------------------


class _FigureEntry:
    """A figure's last SVG, and whether it changed since (set by its stale callback)."""

    __slots__ = ("callback", "dirty", "number", "svg")

    def __init__(self, number: int) -> None:
        self.number = number
        self.svg: str | None = None
        self.dirty = True
        self.callback: Any = None


_figures: weakref.WeakKeyDictionary[Any, _FigureEntry] = weakref.WeakKeyDictionary()
_figure_numbers = itertools.count(1)
_figure_lock = threading.Lock()
_SVG_ID_OR_REFERENCE: Final = re.compile(r'(\bid="|href="#|url\(#)')


def _figure(figure: Any) -> Dynamic:
    """The figure as inline SVG, made again only after the figure changed."""
    with _figure_lock:
        entry = _figures.get(figure)
        if entry is None:
            entry = _figures[figure] = _FigureEntry(next(_figure_numbers))
        if entry.callback is None or figure.stale_callback is not entry.callback:  # (again)
            _watch(figure, entry)
        if entry.svg is not None and not entry.dirty:
            return entry.svg
        entry.svg = _svg(figure, entry.number)
        entry.dirty = False  # what savefig itself marked stale is not a change
        return entry.svg


def _watch(figure: Any, entry: _FigureEntry) -> None:
    """Hear every change: matplotlib calls the figure's stale callback when an artist changes.

    ``fig.stale`` alone cannot tell: savefig leaves it True, and a draw elsewhere (a notebook
    displaying the figure) sets it False after a change that this cache has not seen.
    """
    original = figure.stale_callback

    def changed(artist: Any, stale: bool) -> None:
        entry.dirty = True
        if original is not None:
            original(artist, stale)

    entry.callback = changed
    entry.dirty = True
    figure.stale_callback = changed


def _svg(figure: Any, number: int) -> str:
    """SVG as Jupyter's inline backend draws it (bbox tight), with no date and fixed ids.

    ``svg.hashsalt`` makes matplotlib's hashed ids the same each time; every id (and every
    reference to one) then gets the figure's own prefix, so two figures on a page never share
    one (matplotlib's ``figure_1``, ``patch_1`` and glyph ids repeat in every figure).
    """
    matplotlib = sys.modules["matplotlib"]
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"livewidget-{number}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[max(text.find("<svg"), 0) :]  # no XML prolog or doctype inside HTML
    prefix = f"lw{number}-"
    return _SVG_ID_OR_REFERENCE.sub(lambda match: match.group(1) + prefix, text)

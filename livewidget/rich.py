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

How a DataFrame stays cheap: the header is pandas' own (``NotebookFormatter`` with the body left
out), cached per columns and options; each column's cell strings are cached beside a copy of its
values, and a column that changed re-formats only its changed cells when pandas formats each
value on its own (ints, bools, strings, objects), else the whole column (floats share one
precision; dates one resolution). The rows are keyed by index label (by position when the
labels repeat), in blocks of about 32 rows whose boundaries depend on the labels alone: one
changed cell sends that cell, an appended row sends that row, and a sliding window (drop the
first row, append one) sends the moves inside one block and the new row, not a move per row.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import importlib
import io
import itertools
import re
import sys
import threading
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Final

from markupsafe import escape

from .template import Comprehension, Dynamic, Rendered, Template, TemplateError, parse, to_dynamic

__all__ = ["ValueMistake", "refuse_plain_tuple", "rich_dynamic", "trusted_html"]


class ValueMistake(TemplateError):
    """A field's value is clearly not what was meant; ``html()`` adds the field's name."""


Handler = Callable[[Any], "Dynamic | None"]

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
        return None  # a live widget in the view: placed by the widgets' own code, not here
    if _subclass(kind, "pandas", "DataFrame"):
        return _frame
    if _subclass(kind, "pandas.io.formats.style", "Styler"):
        return _styler
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


# -- shared by DataFrames and Stylers: caches and keyed blocks of rows ------------------------


class _Marker:
    """A key no label can equal: the '...' row of a truncated table, the first block."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_SEPARATOR: Final = _Marker("the ... row")
_HEAD: Final = _Marker("the first block")

_cache: OrderedDict[Hashable, Any] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE: Final = 512


def _cached(key: Hashable | None) -> Any:
    if key is None:
        return None
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
        return found


def _store(key: Hashable | None, value: Any) -> None:
    if key is None:
        return
    with _cache_lock:
        _cache[key] = value
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def _hashable(key: tuple[Any, ...]) -> tuple[Any, ...] | None:
    try:
        hash(key)
    except TypeError:  # an unhashable label or option value: no cache for this one
        return None
    return key


def _typed(labels: Any) -> tuple[Any, ...]:
    """Labels as a cache key: 1, 1.0 and True are equal keys but print differently."""
    return tuple((type(label), label) for label in labels)


_BLOCK_ROWS: Final = 32  # mean rows per block (a label starts a block with chance 1/32)
_BLOCK_CAP: Final = 256  # no block is longer
_MIX: Final = 0x9E3779B97F4A7C15  # Fibonacci hashing: spreads the bits of hash(label)
_MASK: Final = (1 << 64) - 1
_BLOCK_SHIFT: Final = 64 - 5  # the top 5 bits: zero with chance 1/32


def _starts_block(key: Hashable) -> bool:
    return ((hash(key) * _MIX) & _MASK) >> _BLOCK_SHIFT == 0


def _boundaries(keys: Sequence[Hashable], labels: Any = None) -> list[int]:
    """The positions whose label starts a block, in order.

    Integer labels (numpy) are hashed all at once, the same way Python hashes a small int.
    """
    numpy = sys.modules.get("numpy")
    if numpy is not None and getattr(getattr(labels, "dtype", None), "kind", "") in ("i", "u"):
        mixed = numpy.asarray(labels).astype(numpy.uint64) * numpy.uint64(_MIX)
        found = numpy.flatnonzero((mixed >> numpy.uint64(_BLOCK_SHIFT)) == 0).tolist()
    else:
        found = [i for i, key in enumerate(keys) if _starts_block(key)]
    return found  # type: ignore[no-any-return]  # numpy's tolist() is typed Any


class _Blocks:
    """The last render's blocks of one table, so the first block keeps its key as it drains."""

    __slots__ = ("block_keys", "keys", "starts")

    def __init__(self) -> None:
        self.keys: list[Hashable] = []
        self.starts: list[int] = []
        self.block_keys: list[Hashable] = []


_BLOCK_TEMPLATE: Final = parse("{rows}")


def _blocked(
    row: Template,
    rows: Sequence[tuple[Dynamic, ...]],
    keys: list[Hashable],
    boundaries: list[int],
    state: _Blocks,
) -> Comprehension:
    """The rows as a keyed comprehension of keyed blocks of rows.

    A block starts at a row whose label hashes to a boundary (``boundaries``: their positions),
    so blocks depend on the labels, not on positions: rows added or dropped at either end leave
    the other blocks as they were. A block's key is its first label; the first block (the rows
    before the first boundary) keeps the key it had in the last render, so a window sliding
    over the frame moves rows inside one block instead of moving every row of the table.
    """
    starts = [0] if keys else []
    for start in [*boundaries, len(keys)]:
        if start == 0:
            continue
        while start - starts[-1] > _BLOCK_CAP:
            starts.append(starts[-1] + _BLOCK_CAP)
        if start < len(keys):
            starts.append(start)
    block_keys: list[Hashable] = [keys[start] for start in starts]
    if block_keys and not (boundaries and boundaries[0] == 0):
        block_keys[0] = _HEAD
        try:
            previous = state.keys.index(keys[0])
        except ValueError:
            pass
        else:
            earlier = state.block_keys[bisect.bisect_right(state.starts, previous) - 1]
            if earlier not in block_keys[1:]:
                block_keys[0] = earlier
    state.keys, state.starts, state.block_keys = keys, starts, block_keys
    ends = [*starts[1:], len(keys)]
    blocks = tuple(
        (Comprehension(row, tuple(rows[a:b]), tuple(keys[a:b])),) for a, b in zip(starts, ends)
    )
    return Comprehension(_BLOCK_TEMPLATE, blocks, tuple(block_keys))


def _blocks_state(key: Hashable | None) -> _Blocks:
    state = _cached(key)
    if not isinstance(state, _Blocks):
        state = _Blocks()
        _store(key, state)
    return state


# -- pandas DataFrames ------------------------------------------------------------------------

_FORMAT_OPTIONS: Final = (
    "display.precision",
    "display.float_format",
    "display.max_colwidth",
    "display.chop_threshold",
    "display.max_seq_items",
    "display.pprint_nest_depth",
    "display.unicode.east_asian_width",
    "display.unicode.ambiguous_as_wide",
    "display.date_dayfirst",
    "display.date_yearfirst",
    "display.colheader_justify",
    "display.html.border",
    "display.html.use_mathjax",
    "display.multi_sparse",
)
_BODY: Final = "\x00livewidget: the body\x00"
# The frame: pandas' head (div, style, table, thead), the rows, the "N rows x M columns" line.
_FRAME: Final = parse("{head}  <tbody>\n{body}  </tbody>\n</table>{dimensions}\n</div>")


class _Unexpected(Exception):
    """pandas wrote something this module does not recognize: show its own HTML instead."""


def _option_reader(pandas: Any) -> Callable[[str], Any]:
    """Read display options from pandas' config dict (get_option matches patterns: slower)."""
    try:
        config = importlib.import_module("pandas._config.config")._global_config
    except (ImportError, AttributeError):
        return pandas.get_option  # type: ignore[no-any-return]

    def option(name: str) -> Any:
        node = config
        try:
            for part in name.split("."):
                node = node[part]
        except (KeyError, TypeError):
            return pandas.get_option(name)
        return node

    return option


def _frame(frame: Any) -> Dynamic:
    pandas = sys.modules["pandas"]
    option = _option_reader(pandas)
    if not option("display.notebook_repr_html"):
        return f"<pre>{escape(repr(frame))}</pre>"  # Jupyter then shows the text repr
    if isinstance(frame.index, pandas.MultiIndex) or frame._info_repr():
        return trusted_html(frame._repr_html_())  # one dynamic: the whole table
    try:
        fmt = importlib.import_module("pandas.io.formats.format")
        formatter = fmt.DataFrameFormatter(
            frame,
            na_rep="NaN",
            float_format=option("display.float_format"),
            index_names=True,
            header=True,
            index=True,
            bold_rows=True,
            escape=True,
            max_rows=option("display.max_rows"),
            min_rows=option("display.min_rows"),
            max_cols=option("display.max_columns"),
            show_dimensions=option("display.show_dimensions"),
            decimal=".",
        )
        options = tuple(option(name) for name in _FORMAT_OPTIONS)
        return _frame_rendered(frame, formatter, fmt, options)
    except (ImportError, AttributeError, _Unexpected):  # another pandas than the one tested
        return trusted_html(frame._repr_html_())


class _Table:
    """One table's last render, which the next render of a table like it reuses.

    Found by its columns, options and index dtype (two tables alike on one page share one:
    still right, only slower). ``moved`` aligns the last render's rows to the new ones by label,
    so cells of rows that moved (a sliding window) or stayed (an append) are not formatted again.
    """

    __slots__ = ("blocks", "boundaries", "columns", "index", "index_cells", "keys", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: Any = None
        self.index_cells: list[str] = []
        self.keys: list[Hashable] = []
        self.boundaries: list[int] = []
        self.columns: dict[int, _Column] = {}
        self.blocks = _Blocks()


def _frame_rendered(frame: Any, formatter: Any, fmt: Any, options: tuple[Any, ...]) -> Rendered:
    visible = formatter.tr_frame
    columns_key = (_typed(visible.columns), str(visible.columns.dtype), options)
    dots = formatter.tr_col_num if formatter.is_truncated_horizontally else None
    head = _frame_head(formatter, columns_key, dots)
    key = _hashable(("table", columns_key, str(visible.index.dtype)))
    table = _cached(key)
    if not isinstance(table, _Table):
        table = _Table()
        _store(key, table)
    with table.lock:
        rows, keys, boundaries = _frame_rows(table, frame, visible, formatter, fmt)
        body = _blocked(
            _row_template(len(visible.columns), dots), rows, keys, boundaries, table.blocks
        )
    dimensions = (
        f"\n<p>{len(frame)} rows \N{MULTIPLICATION SIGN} {len(frame.columns)} columns</p>"
        if formatter.should_show_dimensions
        else ""
    )
    return Rendered(_FRAME, (head, body, dimensions))


def _frame_rows(
    table: _Table, frame: Any, visible: Any, formatter: Any, fmt: Any
) -> tuple[list[tuple[Dynamic, ...]], list[Hashable], list[int]]:
    """The body's rows (index cell, then data cells), their keys and where blocks start."""
    numpy = sys.modules["numpy"]
    index = visible.index
    moved = _alignment(table.index, index)
    if moved is not None or table.index is None:
        table.index_cells = _reused(
            table.index_cells,
            moved,
            index.dtype,
            lambda todo: index[todo]._format_flat(include_name=False),
            lambda: index._format_flat(include_name=False),
        )
        if index.is_unique:
            table.keys = index.tolist()
            table.boundaries = _boundaries(table.keys, index)
        else:  # repeated labels: key by position in the frame
            shown = len(visible)
            cut = formatter.tr_row_num if formatter.is_truncated_vertically else shown
            table.keys = [*range(cut), *range(len(frame) - (shown - cut), len(frame))]
            table.boundaries = _boundaries(table.keys, numpy.asarray(table.keys, dtype=numpy.int64))
    table.index = index
    cells = [
        _column_cells(table, j, visible, formatter, fmt, moved) for j in range(len(visible.columns))
    ]
    rows: list[tuple[Dynamic, ...]] = list(zip(table.index_cells, *cells))
    keys = list(table.keys)
    boundaries = table.boundaries
    if formatter.is_truncated_vertically and formatter.tr_row_num < len(rows):
        at = formatter.tr_row_num
        if at == 0:
            raise _Unexpected("a '...' row before every row")
        rows.insert(at, ("...",) * (1 + len(visible.columns)))
        keys.insert(at, _SEPARATOR)  # the '...' row starts a block of its own
        boundaries = [
            *(b for b in boundaries if b < at),
            at,
            *(b + 1 for b in boundaries if b >= at),
        ]
    return rows, keys, boundaries


def _alignment(old: Any, new: Any) -> Any:
    """Where each row of ``new`` was in ``old`` (-1: new), or None if the rows are the same.

    By label when both indexes are unique, else by position; either way a row counts as found
    only if its label is the very same value (1, 1.0 and True are equal but print apart).
    """
    numpy = sys.modules["numpy"]
    if old is new:
        return None
    if old is None or old.dtype != new.dtype or not len(old):
        return numpy.full(len(new), -1, dtype=numpy.intp)
    if old.is_unique and new.is_unique:
        moved = old.get_indexer(new)
    else:
        moved = numpy.arange(len(new), dtype=numpy.intp)
        moved[moved >= len(old)] = -1
    found = numpy.where(moved < 0, 0, moved)
    differs = _changed(old.to_numpy().take(found), new.to_numpy())
    if differs is None:
        return numpy.full(len(new), -1, dtype=numpy.intp)
    moved[differs] = -1
    if len(old) == len(new) and (moved == numpy.arange(len(new))).all():
        return None
    return moved


def _reused(
    cells: list[str],
    moved: Any,
    dtype: Any,
    format_some: Callable[[Any], Sequence[str]],
    format_all: Callable[[], Sequence[str]],
    changed: Any = None,
) -> list[str]:
    """Cells for the new rows: the old cell of each row that ``moved`` finds (and whose value
    is not ``changed``), the rest formatted anew, when pandas formats each value on its own and
    few are new; else all formatted anew."""
    numpy = sys.modules["numpy"]
    if moved is not None and len(cells) and _cell_by_cell(dtype):
        stale = moved < 0
        if changed is not None:
            stale[changed] = True
        todo = numpy.flatnonzero(stale)
        if len(todo) * 4 <= len(moved):
            kept = numpy.where(stale, 0, moved).tolist()
            fresh = [cells[i] for i in kept]
            for i, text in zip(todo.tolist(), format_some(todo)):
                fresh[i] = _cell(text)
            return fresh
    return [_cell(text) for text in format_all()]


@functools.cache
def _head_formatter() -> type:
    """pandas' notebook formatter with the body left out and no dimensions line."""
    html = importlib.import_module("pandas.io.formats.html")

    class Head(html.NotebookFormatter):  # type: ignore[misc,name-defined]  # pandas: untyped
        @property
        def should_show_dimensions(self) -> bool:
            return False

        def _write_body(self, indent: int) -> None:
            self.elements.append(_BODY)

    return Head


def _frame_head(formatter: Any, columns_key: tuple[Any, ...], dots: int | None) -> str:
    index = formatter.frame.index
    key = _hashable(("head", columns_key, tuple(formatter.tr_frame.columns.names),
                     _typed(index.names), dots))  # fmt: skip
    head = _cached(key)
    if head is None:
        text = "\n".join(_head_formatter()(formatter).render())
        head, marker, tail = text.partition(_BODY)
        if not marker or tail != "\n</table>\n</div>":
            raise _Unexpected(f"pandas' table ends {tail[-80:]!r}")
        _store(key, head)
    return str(head)


@functools.lru_cache(maxsize=256)
def _row_template(ncols: int, dots: int | None) -> Template:
    """One body row: the index cell, then the data cells (and pandas' '...' column)."""
    parts = ["    <tr>\n      <th>{c0}</th>\n"]
    for j in range(ncols + 1):
        if j == dots:
            parts.append("      <td>...</td>\n")
        if j < ncols:
            parts.append(f"      <td>{{c{j + 1}}}</td>\n")
    parts.append("    </tr>\n")
    return parse("".join(parts))


def _cell(text: str) -> str:
    """A formatted value as pandas writes it in a cell: &, <, > escaped, trimmed, double
    spaces kept (``HTMLFormatter._write_cell``)."""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.strip().replace("  ", "&nbsp;&nbsp;")


class _Column:
    """A column's values as last formatted (a private copy) and the cells made from them."""

    __slots__ = ("cells", "values")

    def __init__(self, values: Any, cells: list[str]) -> None:
        self.values = values
        self.cells = cells


def _column_cells(
    table: _Table, j: int, visible: Any, formatter: Any, fmt: Any, moved: Any
) -> list[str]:
    """Column ``j``'s cells: as last time if nothing changed, else formatted again (only the
    changed and new cells when pandas formats each value on its own; see ``_reused``)."""
    numpy = sys.modules["numpy"]
    values = visible._get_column_array(j)
    label = visible.columns[j]
    last = table.columns.get(j)

    def format_some(todo: Any) -> Sequence[str]:
        return fmt.format_array(  # type: ignore[no-any-return]  # pandas is untyped
            values[todo],
            None,
            float_format=formatter.float_format,
            na_rep=formatter.na_rep,
            space=formatter.col_space.get(label),
            decimal=formatter.decimal,
            leading_space=formatter.index,
        )

    def format_all() -> Sequence[str]:
        return formatter.format_col(j)  # type: ignore[no-any-return]  # pandas is untyped

    if last is None or type(last.values) is not type(values) or last.values.dtype != values.dtype:
        cells = [_cell(text) for text in format_all()]
    else:
        if moved is None:
            where = numpy.arange(len(values), dtype=numpy.intp)
            before = last.values
        else:
            where = moved
            before = (
                last.values.take(numpy.where(moved < 0, 0, moved)) if len(last.values) else None
            )
        changed = _changed(before, values) if before is not None else None
        if changed is not None and moved is None and len(changed) == 0:
            return last.cells
        cells = _reused(
            last.cells,
            where if changed is not None else None,
            values.dtype,
            format_some,
            format_all,
            changed,
        )
    table.columns[j] = _Column(values.copy(), cells)
    return cells


def _cell_by_cell(dtype: Any) -> bool:
    """Whether pandas formats each value of this dtype on its own (no shared precision)."""
    kind = getattr(dtype, "kind", None)
    if type(dtype).__module__.startswith("numpy"):
        return kind in ("i", "u", "b", "O")
    return type(dtype).__name__ == "StringDtype"


def _changed(old: Any, new: Any) -> Any:
    """The positions whose value differs (a numpy array), or None if that cannot be told."""
    numpy = sys.modules["numpy"]
    if type(old) is not type(new) or old.shape != new.shape or old.dtype != new.dtype:
        return None
    if not isinstance(new, numpy.ndarray):  # an ExtensionArray
        try:
            if new.equals(old):
                return numpy.empty(0, dtype=numpy.intp)
        except Exception:  # an array type whose equals() fails: format the column again
            return None
        if not _cell_by_cell(new.dtype):
            return None
        old = numpy.asarray(old, dtype=object)
        new = numpy.asarray(new, dtype=object)
    try:
        differs = numpy.asarray(old != new, dtype=bool)
    except Exception:  # cells whose == is not a bool (arrays in cells)
        return None
    if differs.shape != new.shape:
        return None
    kind = new.dtype.kind
    if kind == "O":  # equal values of other types print apart: 1, 1.0, True
        types = numpy.frompyfunc(type, 1, 1)
        differs |= numpy.asarray(types(old) != types(new), dtype=bool)
    elif kind in "fc":
        differs &= ~(numpy.isnan(old) & numpy.isnan(new))
        differs |= numpy.signbit(old.real) != numpy.signbit(new.real)  # 0.0 and -0.0
    elif kind in "mM":
        differs &= ~(numpy.isnat(old) & numpy.isnat(new))
    return numpy.flatnonzero(differs)


# -- pandas Stylers ---------------------------------------------------------------------------

_BLANK: Final = "\x00livewidget: blank\x00"
_STYLER: Final = parse(
    "{style}<table{attributes}>\n{caption}  <thead>\n{head}  </thead>\n"
    "  <tbody>\n{body}  </tbody>\n</table>\n"
)


def _styler(styler: Any) -> Dynamic:
    """A Styler's table with each cell's CSS inline (``style=""``), not in a ``<style>`` block.

    Styler's own HTML ties cell styles to ids made from a random uuid, new in every Styler, so
    every render would change every id; inline styles need no ids, and a changed cell sends
    its text and its style. Table styles (``set_table_styles``) stay in a ``<style>`` block,
    for an id made from their text. Tooltips become the cells' ``title``.
    """
    pandas = sys.modules["pandas"]
    option = pandas.get_option
    copy = styler._copy(deepcopy=True)  # rendering computes into the Styler: not the user's
    tooltips, copy.tooltips = copy.tooltips, None
    rendered = copy._render(
        option("styler.sparse.index"), option("styler.sparse.columns"), None, None, _BLANK
    )
    css: dict[str, str] = {}
    for group in ("cellstyle", "cellstyle_index", "cellstyle_columns"):
        for rule in rendered.get(group, ()):
            text = " ".join(f"{name}: {value};" for name, value in rule["props"])
            for selector in rule["selectors"]:
                css[selector] = text
    titles = _tooltips(styler, tooltips)
    head = to_dynamic([_styler_row(cells, css, titles) for cells in rendered["head"]])
    data = styler.data
    unique = bool(data.index.is_unique)
    hidden = set(styler.hidden_rows)
    shown = [r for r in range(len(data)) if r not in hidden]
    rows: list[tuple[Dynamic, ...]] = []
    keys: list[Hashable] = []
    for number, cells in enumerate(rendered["body"]):
        rows.append((_styler_row(cells, css, titles),))
        trim = any("row_trim" in str(cell.get("class", "")) for cell in cells)
        if trim or number >= len(shown):
            keys.append(_Marker(f"trimmed row {number}"))
        else:
            keys.append(data.index[shown[number]] if unique else shown[number])
    state = _blocks_state(_hashable(("styler", _typed(data.columns))))
    body = _blocked(_BLOCK_TEMPLATE, rows, keys, _boundaries(keys), state)
    style = attributes = ""
    table_styles = rendered.get("table_styles") or []
    if table_styles:
        rules = "".join(
            f"#T_{{id}} {rule['selector']} {{\n"
            + "".join(f"  {name}: {value};\n" for name, value in rule["props"])
            + "}\n"
            for rule in table_styles
        )
        table_id = "lw" + hashlib.sha1(rules.encode("utf-8")).hexdigest()[:10]
        style = '<style type="text/css">\n' + rules.replace("{id}", table_id) + "</style>\n"
        attributes = f' id="T_{table_id}"'
    if rendered.get("table_attributes"):
        attributes += f" {rendered['table_attributes']}"
    caption = rendered.get("caption")
    if isinstance(caption, (tuple, list)):
        caption = caption[0] if caption else None
    caption_html = f"  <caption>{escape(caption)}</caption>\n" if caption else ""
    return Rendered(_STYLER, (style, attributes, caption_html, head, body))


def _tooltips(styler: Any, tooltips: Any) -> dict[str, str]:
    """Each tooltip's text by the id of its cell (``row3_col1``)."""
    if tooltips is None:
        return {}
    data = styler.data
    found: dict[str, str] = {}
    table = tooltips.tt_data
    rows = {label: r for r, label in enumerate(data.index)}
    columns = {label: c for c, label in enumerate(data.columns)}
    for row_label, values in table.iterrows():
        for column_label, text in values.items():
            if isinstance(text, str) and text and row_label in rows and column_label in columns:
                found[f"row{rows[row_label]}_col{columns[column_label]}"] = text
    return found


@functools.lru_cache(maxsize=256)
def _styler_row_template(kinds: tuple[str, ...]) -> Template:
    cells = "".join(f"      <{kind}{{a{i}}}>{{t{i}}}</{kind}>\n" for i, kind in enumerate(kinds))
    return parse("    <tr>\n" + cells + "    </tr>\n")


def _styler_row(
    cells: list[dict[str, Any]], css: dict[str, str], titles: dict[str, str]
) -> Rendered:
    kinds: list[str] = []
    dynamics: list[Dynamic] = []
    for cell in cells:
        if cell.get("is_visible") is False:
            continue
        kind = "th" if cell.get("type") == "th" else "td"
        kinds.append(kind)
        attributes = f' class="{escape(cell.get("class", ""))}"'
        cell_id = cell.get("id")
        if cell_id in css:
            attributes += f' style="{escape(css[cell_id])}"'
        if cell_id in titles:
            attributes += f' title="{escape(titles[cell_id])}"'
        if cell.get("attributes"):
            attributes += f" {cell['attributes']}"
        text = cell.get("display_value", "")
        dynamics.append(attributes)
        dynamics.append("&nbsp;" if text == _BLANK else str(escape(str(text))))
    return Rendered(_styler_row_template(tuple(kinds)), tuple(dynamics))

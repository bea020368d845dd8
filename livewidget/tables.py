"""Live tables: a pandas DataFrame or Styler in a field, as a template diffed cell by cell.

``rich.py`` sends DataFrames (``frame``) and Stylers (``styler``) here. A DataFrame shows
exactly the HTML Jupyter shows for it (``df._repr_html_()``, with the same display options:
``max_rows`` / ``min_rows`` truncation with its ``...`` row, ``max_columns``, ``precision``,
``float_format``), made of parts that a diff can compare::

    {head}  <tbody>\n{body}  </tbody>\n</table>{dimensions}\n</div>

    head        pandas' own: the <div>, <style scoped>, <table class="dataframe"> and <thead>
                (its ``NotebookFormatter`` with the body left out), cached per columns and
                options, so MultiIndex columns and truncated columns come out as pandas writes
    body        a keyed comprehension of blocks, each a keyed comprehension of rows; a row is
                the index cell and the data cells, each one dynamic
    dimensions  "<p>1000 rows x 5 columns</p>" when pandas would show it

Rows are keyed by index label (by position when labels repeat). They are grouped in blocks of
about 32 rows; a row starts a block when its label hashes to a boundary, so blocks depend on
the labels alone and rows added or dropped at either end leave the other blocks as they were;
the first block keeps the key it had last time. So one changed cell sends that cell, an
appended row sends that row, and a sliding window (drop the first row, append one) sends the
moves inside one block and the new row, not a move for every row of the table.

Cells are pandas' own strings (``format_array``, escaped as its HTML writer escapes them), and
formatting is what costs: a table keeps its last render (``_Table``, found by its columns and
options), whose cells the next render reuses, matched to the new rows by label. A cell is
formatted again when its row is new or its value changed: alone where pandas formats each
value on its own (ints, bools, strings, objects); in a float column only while the column's
number of decimals provably stays the same (``_floats_reused``), else the whole column, as
any other dtype (dates share one resolution). A frame with a MultiIndex on its rows, or shown
as ``info``, is pandas' HTML whole (one dynamic).

A Styler is its table with each cell's CSS inline rather than in a ``<style>`` block keyed by
random ids (see ``styler``), with every cell's text escaped, which Styler's own HTML does not.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import importlib
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Final

from markupsafe import escape

from .template import Comprehension, Dynamic, Rendered, Template, parse, to_dynamic
from .text import repair

__all__ = ["frame", "styler"]


# -- shared by DataFrames and Stylers: caches and keyed blocks of rows -----------------------


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


_BLOCK_ROWS: Final = 32  # rows per block on average: a label starts one with chance 1/32
_BLOCK_CAP: Final = 256  # no block is longer
_MIX: Final = 0x9E3779B97F4A7C15  # Fibonacci hashing: spreads the bits of hash(label)
_MASK: Final = (1 << 64) - 1
_BLOCK_SHIFT: Final = 64 - (_BLOCK_ROWS.bit_length() - 1)  # the top 5 bits all 0: 1 in 32


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


def frame(df: Any) -> Dynamic:
    """A DataFrame as Jupyter shows it: a template diffed by cell (see the module docstring)."""
    pandas = sys.modules["pandas"]
    option = _option_reader(pandas)
    if not option("display.notebook_repr_html"):
        return f"<pre>{escape(repr(df))}</pre>"  # Jupyter then shows the text repr
    if isinstance(df.index, pandas.MultiIndex) or df._info_repr():
        return str(df._repr_html_())  # one dynamic: the whole table (pandas: no scripts)
    try:
        fmt = importlib.import_module("pandas.io.formats.format")
        formatter = fmt.DataFrameFormatter(
            df,
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
        return _frame_rendered(df, formatter, fmt, options)
    except (ImportError, AttributeError, _Unexpected):  # another pandas than the one tested
        return str(df._repr_html_())


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
    named = dict(zip(_FORMAT_OPTIONS, options))
    plain_floats = named["display.float_format"] is None and not named["display.chop_threshold"]
    floats = int(named["display.precision"]) if plain_floats else None
    key = _hashable(("table", columns_key, str(visible.index.dtype)))
    table = _cached(key)
    if not isinstance(table, _Table):
        table = _Table()
        _store(key, table)
    with table.lock:
        rows, keys, boundaries = _frame_rows(table, frame, visible, formatter, fmt, floats)
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
    table: _Table, frame: Any, visible: Any, formatter: Any, fmt: Any, floats: int | None
) -> tuple[list[tuple[Dynamic, ...]], list[Hashable], list[int]]:
    """The body's rows (index cell, then data cells), their keys and where blocks start."""
    numpy = sys.modules["numpy"]
    index = visible.index
    moved = _alignment(table.index, index)
    if moved is not None or table.index is None:
        todo = numpy.flatnonzero(moved < 0)
        if len(table.index_cells) and _cell_by_cell(index.dtype) and len(todo) * 4 <= len(index):
            table.index_cells = _reused(
                table.index_cells,
                numpy.where(moved < 0, 0, moved),
                todo,
                index[todo]._format_flat(include_name=False),
            )
        else:
            table.index_cells = [_cell(text) for text in index._format_flat(include_name=False)]
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
        _column_cells(table, j, visible, formatter, fmt, moved, floats)
        for j in range(len(visible.columns))
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
    """pandas' HTML up to the body: the same for the same columns, index names and options."""
    names = (tuple(formatter.tr_frame.columns.names), _typed(formatter.frame.index.names))
    key = _hashable(("head", columns_key, names, dots))
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
    return repair(text.strip().replace("  ", "&nbsp;&nbsp;"))  # a lone surrogate: U+FFFD


class _Column:
    """A column's values as last formatted (a private copy) and the cells made from them."""

    __slots__ = ("cells", "values", "witness")

    def __init__(self, values: Any, cells: list[str]) -> None:
        self.values = values
        self.cells = cells
        self.witness: int | None = None  # for float columns: see _floats_reused


def _column_cells(
    table: _Table, j: int, visible: Any, formatter: Any, fmt: Any, moved: Any, floats: int | None
) -> list[str]:
    """Column ``j``'s cells: the last render's where its rows and values are the same, the rest
    formatted by pandas; see ``_reused`` and ``_floats_reused`` for when that is exact.

    ``floats`` is display.precision when float columns may take the shortcut (no
    display.float_format, no display.chop_threshold), else None.
    """
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

    cells: list[str] | None = None
    stale = _stale(last, values, moved)
    if last is not None and stale is not None:
        if moved is None and not stale.any():
            return last.cells
        kept = numpy.arange(len(values)) if moved is None else numpy.where(moved < 0, 0, moved)
        todo = numpy.flatnonzero(stale)
        if len(todo) * 4 <= len(values):
            if _cell_by_cell(values.dtype):
                cells = _reused(last.cells, kept, todo, format_some(todo))
            elif floats is not None and isinstance(values, numpy.ndarray):
                cells = _floats_reused(last, values, kept, stale, todo, floats, format_some)
    if cells is None:
        cells = [_cell(text) for text in formatter.format_col(j)]
    table.columns[j] = _Column(values.copy(), cells)
    return cells


def _stale(last: _Column | None, values: Any, moved: Any) -> Any:
    """Which new rows need their cell formatted (new rows, changed values), or None if that
    cannot be told (no last render, another dtype)."""
    numpy = sys.modules["numpy"]
    if last is None or type(last.values) is not type(values) or last.values.dtype != values.dtype:
        return None
    if moved is None:
        before, stale = last.values, numpy.zeros(len(values), dtype=bool)
    elif len(last.values):
        before, stale = last.values.take(numpy.where(moved < 0, 0, moved)), moved < 0
    else:
        return None
    changed = _changed(before, values)
    if changed is None:
        return None
    stale[changed] = True
    return stale


def _reused(cells: list[str], kept: Any, todo: Any, fresh: Sequence[str]) -> list[str]:
    """The old cell at ``kept[i]`` for each new row ``i``, except rows ``todo``: ``fresh``.

    Exact where pandas formats each value on its own (ints, bools, strings, objects): a cell
    then depends on its value alone.
    """
    result = [cells[i] for i in kept.tolist()]
    for i, text in zip(todo.tolist(), fresh):
        result[i] = _cell(text)
    return result


_DECIMAL_NUMBER: Final = re.compile(r"[+-]?[0-9]+\.[0-9]*\Z")


def _floats_reused(
    last: _Column,
    values: Any,
    kept: Any,
    stale: Any,
    todo: Any,
    precision: int,
    format_some: Callable[[Any], Sequence[str]],
) -> list[str] | None:
    """A float column's cells with only the ``todo`` rows formatted, when that is exact.

    pandas gives a float column one number of decimals, D: the most any of its values needs
    at display.precision (it trims the zeros that all of them end in, keeping one). It turns
    the column to scientific notation only for values above 1e6 or below 10**-precision; with
    none of those, let pandas format the new values together with one kept value, the
    *witness*. If the witness comes out as its old cell, D did not change (its cell shows the
    old D; and if the new values need fewer, the kept ones still need the old D), so every
    kept cell is still right and the new ones are pandas' own. Any kept number is a safe
    witness; one whose cell does not end in 0 needs all D decimals, so it passes whenever D
    is unchanged.
    """
    numpy = sys.modules["numpy"]
    magnitude = numpy.abs(values)
    if (magnitude > 1e6).any() or ((magnitude < 10.0**-precision) & (magnitude > 0)).any():
        return None
    row = _witness(last, kept, stale)
    if row is None:
        return None
    fresh = format_some(numpy.append(todo, row))
    if _cell(fresh[-1]) != last.cells[kept[row]]:
        return None  # the column's decimals changed: every cell changes
    return _reused(last.cells, kept, todo, fresh[:-1])


def _witness(last: _Column, kept: Any, stale: Any) -> int | None:
    """A new row whose value and cell are kept and whose cell is a plain decimal number,
    preferably one not ending in 0; the last such row found is remembered (its old position)."""
    numpy = sys.modules["numpy"]
    if last.witness is not None:
        rows = numpy.flatnonzero((kept == last.witness) & ~stale)
        if len(rows):
            return int(rows[0])
    fallback = None
    for row in numpy.flatnonzero(~stale)[::-1][:64].tolist():  # from the end: windows slide
        cell = last.cells[kept[row]]
        if _DECIMAL_NUMBER.match(cell):
            if not cell.endswith("0"):
                last.witness = int(kept[row])
                return int(row)
            if fallback is None:
                fallback = int(row)
    return fallback


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
    "{style}<table {attributes}>\n{caption}  <thead>\n{head}  </thead>\n"
    "  <tbody>\n{body}  </tbody>\n</table>\n"
)


def styler(styler: Any) -> Dynamic:
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
        attributes = f'id="T_{table_id}"'
    if rendered.get("table_attributes"):  # the author's own markup (Styler.set_table_attributes)
        attributes = f"{attributes} {rendered['table_attributes']}".strip()
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
    cells = "".join(f"      <{kind} {{a{i}}}>{{t{i}}}</{kind}>\n" for i, kind in enumerate(kinds))
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
        attributes = [f'class="{escape(cell.get("class", ""))}"']
        cell_id = cell.get("id")
        if cell_id in css:
            attributes.append(f'style="{escape(css[cell_id])}"')
        if cell_id in titles:
            attributes.append(f'title="{escape(titles[cell_id])}"')
        if cell.get("attributes"):  # pandas' own (colspan, rowspan)
            attributes.append(str(cell["attributes"]))
        text = cell.get("display_value", "")
        dynamics.append(repair(" ".join(attributes)))
        dynamics.append("&nbsp;" if text == _BLANK else repair(str(escape(str(text)))))
    return Rendered(_styler_row_template(tuple(kinds)), tuple(dynamics))

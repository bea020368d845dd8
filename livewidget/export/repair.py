"""A notebook nobody vouches for, made safe to export: repaired where it can be, else left out.

A notebook is data, and ``livewidget export`` reads whatever JSON the file holds. Three kinds
of content would stop the export with a traceback, or write a page that cannot be opened:

* **Lone surrogates.** JSON may escape half of a UTF-16 pair (``"\\ud800"``); Python reads it
  into a ``str`` that UTF-8 cannot encode, so writing the page fails. Each becomes U+FFFD, the
  replacement character, as a browser shows it (and as the runtime sends it).
* **Deep nesting.** Python's JSON reader, nbformat's validation and nbconvert's copy of the
  notebook recurse once per level and fail somewhere between 450 and 1,000 levels. Whatever
  nests deeper than ``MAX_DEPTH`` levels (100; outputs, plots and widget states nest 5 to 30)
  is left out. A file too deep for Python's JSON reader at all is first cut by a scan of its
  text that needs no recursion.
* **Parts that break the notebook format** (an output without ``output_type``, an output's
  text that is a number, tags that are not a list): nbconvert stops at the first. Each is found
  by nbformat's own schema and left out.

What is left out is the smallest part that stands alone: an output; one key of a cell's or
the notebook's metadata, or of a cell's attachments; one key of one widget's saved state (so a
view keeps its last HTML when only its recording is bad); a cell's outputs, metadata or
execution count that are not even of the right type (emptied); a whole cell only when the cell
itself is broken, and then an empty raw cell takes its place so that cell numbers stay as the
notebook has them. Each repair or omission is one warning that names the part::

    cell 3, output 1: nests 3,002 levels deep; at most 100 are read, so it is left out
    the recording of widget 0a1b...: nests 1,204 levels deep; ...
    cell 2, output 0: 1 lone surrogate (half of a UTF-16 pair, not text) shown as U+FFFD

What cannot be repaired (no cells list, nbformat 3, a root that is not valid) raises
``ExportError``. Everything here is iterative: no input can exhaust the stack.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any, Final

from .. import wire
from ..text import LONE_SURROGATE

__all__ = ["MAX_DEPTH", "ExportError", "parse_json", "repair_notebook"]

#: The most levels of objects and lists read from a notebook (its root object is level 1).
MAX_DEPTH: Final = 100
STATE_MIME: Final = "application/vnd.jupyter.widget-state+json"
# A part cut from the text of a notebook too deep to parse, with the depth it reached.
_CUT = "\x00livewidget-export: cut at depth "
# JSON strings (quotes escaped inside) and brackets; what a depth scan of JSON text needs.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_MAX_ROUNDS = 3
# A cell's own parts that, when broken, are emptied rather than taking the cell with them.
_EMPTY: Final[dict[str, Any]] = {
    "outputs": [],
    "metadata": {},
    "attachments": {},
    "execution_count": None,
}

Path = tuple[Any, ...]


class ExportError(Exception):
    """The notebook cannot be read, executed or written; the message says why and what to do."""


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def parse_json(text: str) -> Any:
    """``json.loads(text)``, also for text nested deeper than Python's JSON reader can go.

    Such text is scanned once without recursion; every value nested deeper than MAX_DEPTH is
    replaced by a marker that ``repair_notebook`` reports and leaves out. Raises ValueError for
    text that is not JSON.
    """
    try:
        return json.loads(text)
    except RecursionError:
        return json.loads(_cut_deep(text))


def _cut_deep(text: str) -> str:
    """``text`` with each JSON value deeper than MAX_DEPTH replaced by a marker string."""
    pieces: list[str] = []
    depth = deepest = 0
    start = last = -1
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
            if depth == MAX_DEPTH + 1:
                start, deepest = match.start(), depth
            deepest = max(deepest, depth)
        else:
            if depth == MAX_DEPTH + 1 and start >= 0:
                pieces += [text[last + 1 : start], json.dumps(f"{_CUT}{deepest}")]
                last, start = match.end() - 1, -1
            depth -= 1
    pieces.append(text[last + 1 :])
    return "".join(pieces)


# --------------------------------------------------------------------------------------------
# Repairing
# --------------------------------------------------------------------------------------------


def repair_notebook(notebook: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[str]]:
    """``notebook`` as nbconvert can render it and UTF-8 can encode it, and warnings.

    ``notebook`` is a notebook as read from JSON (nbformat 4), and is left as it was: when
    something needs repair the result is a repaired copy (plain dicts and lists), else it is
    ``notebook`` itself (a notebook that needs nothing costs one quick look, not a copy).
    """
    for key, expected, name in (
        ("cells", list, "a list"),
        ("nbformat", int, "an int"),
        ("nbformat_minor", int, "an int"),
    ):
        if not isinstance(notebook.get(key), expected) or isinstance(notebook.get(key), bool):
            raise ExportError(
                f"not a notebook: expected {key!r} to be {name}, got "
                f"{_short(repr(notebook.get(key)), 40)}"
            )
    if notebook["nbformat"] != 4:
        raise ExportError(
            f"expected nbformat 4, got {notebook['nbformat']!r}; convert it with "
            "`jupyter nbconvert --to notebook`"
        )
    if not _needs_copy(notebook) and _schema_problems(notebook) == []:
        return notebook, []
    tree, deep, fixed = _copy(notebook)
    warnings: list[str] = []
    deepest: dict[str, int] = {}
    for path, depth in deep:
        deepest[_where(path)] = max(depth, deepest.get(_where(path), 0))
    warnings += [
        f"{where}: nests {depth:,} levels deep; at most {MAX_DEPTH} are read, so it is left out"
        for where, depth in deepest.items()
    ]
    _leave_out(tree, [path for path, _ in deep])
    for where, count in fixed.items():
        what = "lone surrogate" if count == 1 else "lone surrogates"
        warnings.append(
            f"{where}: {count:,} {what} (half of a UTF-16 pair, not text) shown as U+FFFD"
        )
    if not isinstance(tree.get("metadata"), dict):
        if "metadata" in tree:
            warnings.append("the notebook's metadata is not a JSON object; it is left out")
        tree["metadata"] = {}
    _give_cells_ids(tree)
    for _ in range(_MAX_ROUNDS):
        problems = _schema_problems(tree)
        if not problems:
            return tree, warnings
        reported: dict[str, str] = {}
        for path, message in problems:
            unit = _unit(path)
            if len(unit) < 2 or unit[0] not in ("cells", "metadata"):
                raise ExportError(f"not a valid notebook: {_short(message, 160)}")
            reported.setdefault(_where(path), message)
        warnings += [
            f"{where}: not valid nbformat 4 ({_short(message)}); left out"
            for where, message in reported.items()
        ]
        _leave_out(tree, [path for path, _ in problems])
    raise ExportError(f"not a valid notebook: {_short(problems[0][1], 160)}")


def _needs_copy(root: Mapping[str, Any]) -> bool:
    """Whether ``root`` holds a lone surrogate, a cut part, or nests deeper than MAX_DEPTH.

    One plain loop, no copy (about a third of a second for a notebook of 300,000 objects and
    lists). Missing cell ids and a metadata that is no object count too: their repair needs a
    copy.
    """
    metadata = root.get("metadata")
    if not isinstance(metadata, Mapping):
        return True
    if root["nbformat_minor"] >= 5:
        ids = [cell.get("id") if isinstance(cell, Mapping) else None for cell in root["cells"]]
        if not all(isinstance(i, str) and _CELL_ID.match(i) for i in ids):
            return True
        if len(set(ids)) != len(ids):
            return True
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            for key in node:
                if isinstance(key, str) and not key.isascii() and LONE_SURROGATE.search(key):
                    return True
            node = node.values()
        for value in node:
            if isinstance(value, str):
                if (not value.isascii() and LONE_SURROGATE.search(value)) or value.startswith(_CUT):
                    return True
            elif isinstance(value, (Mapping, list)):
                if depth == MAX_DEPTH:
                    return True
                stack.append((value, depth + 1))
    return False


def _copy(root: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[Path, int]], dict[str, int]]:
    """Copy a JSON tree without recursion; repair lone surrogates; cut what nests too deep.

    Returns the copy, the path and depth of each part cut (None in the copy), and the number
    of lone surrogates repaired, by the part of the notebook they were in.
    """
    deep: list[tuple[Path, int]] = []
    fixed: dict[str, int] = {}
    holder: dict[str, Any] = {}
    stack: list[tuple[Any, Any, Any, Path]] = [(holder, "root", root, ())]
    while stack:
        parent, key, node, path = stack.pop()
        if len(path) + 1 > MAX_DEPTH:
            deep.append((path, len(path) + _depth(node)))
            parent[key] = None
            continue
        items: Iterator[tuple[Any, Any]]
        if isinstance(node, Mapping):
            copy: Any = {}
            items = iter(node.items())
        else:
            copy = [None] * len(node)
            items = enumerate(node)
        parent[key] = copy
        for name, value in items:
            if isinstance(name, str) and not name.isascii() and LONE_SURROGATE.search(name):
                _count(fixed, path, len(LONE_SURROGATE.findall(name)))
                name = LONE_SURROGATE.sub("\ufffd", name)
            if isinstance(value, (Mapping, list)):
                stack.append((copy, name, value, (*path, name)))
            elif not isinstance(value, str):
                copy[name] = value
            elif value.startswith(_CUT) and value[len(_CUT) :].isdigit():
                deep.append(((*path, name), int(value[len(_CUT) :])))
                copy[name] = None
            elif not value.isascii() and LONE_SURROGATE.search(value):
                _count(fixed, (*path, name), len(LONE_SURROGATE.findall(value)))
                copy[name] = LONE_SURROGATE.sub("\ufffd", value)
            else:
                copy[name] = value
    tree: dict[str, Any] = holder["root"]
    return tree, deep, fixed


def _count(fixed: dict[str, int], path: Path, count: int) -> None:
    where = _where(path)
    fixed[where] = fixed.get(where, 0) + count


def _depth(node: Any) -> int:
    """How many levels of objects and lists ``node`` has (a scalar has 0)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, (Mapping, list)):
            deepest = max(deepest, depth)
            children = current.values() if isinstance(current, Mapping) else current
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _unit(path: Path) -> Path:
    """The smallest part of the notebook around ``path`` that can be left out alone."""
    if len(path) >= 2 and path[0] == "cells":
        if len(path) >= 4 and path[2] in ("outputs", "metadata", "attachments"):
            return path[:4]
        if len(path) == 3 and path[2] in _EMPTY:
            return path
        return path[:2]
    if path[:4] == ("metadata", "widgets", STATE_MIME, "state") and len(path) >= 5:
        return path[:7] if len(path) >= 7 and path[5] == "state" else path[:5]
    return path[:2] if path[:1] == ("metadata",) else path[:1]


def _where(path: Path) -> str:
    """The part of the notebook that ``path`` is in, as a warning names it."""
    unit = _unit(path)
    if unit[:1] == ("cells",) and len(unit) >= 2:
        where = f"cell {unit[1]}"
        if len(unit) == 3:
            where += f", its {unit[2].replace('_', ' ')}"
        elif len(unit) == 4:
            kind = {"outputs": "output", "metadata": "metadata", "attachments": "attachment"}
            part = unit[3] if unit[2] == "outputs" else _short(repr(unit[3]), 40)
            where += f", {kind[unit[2]]} {part}"
        return where
    if unit[:4] == ("metadata", "widgets", STATE_MIME, "state"):
        where = f"widget {_short(str(unit[4]), 40)}"
        if len(unit) == 7:
            named = {wire.RECORDING_TRAIT: "the recording", wire.HTML_TRAIT: "the saved HTML"}
            part = named.get(unit[6], f"the saved state {_short(repr(unit[6]), 40)}")
            where = f"{part} of {where}"
        return where
    if unit[:1] == ("metadata",) and len(unit) == 2:
        return f"the notebook's metadata {_short(repr(unit[1]), 40)}"
    return "the notebook"


def _leave_out(tree: dict[str, Any], paths: list[Path]) -> None:
    """Remove the part around each path: an output, a key, a cell (an empty raw cell stays)."""
    units = {_unit(path) for path in paths}
    gone: list[tuple[list[Any], int]] = []
    for unit in units:
        if any(unit[:n] in units for n in range(1, len(unit))):
            continue  # inside a part that goes anyway
        if unit[:1] == ("cells",) and len(unit) == 2:
            tree["cells"][unit[1]] = _empty_cell(tree, unit[1])
            continue
        if len(unit) == 3:
            tree["cells"][unit[1]][unit[2]] = copy.copy(_EMPTY[unit[2]])
            continue
        parent: Any = tree
        for key in unit[:-1]:
            parent = parent[key]
        if isinstance(parent, list):
            gone.append((parent, unit[-1]))
        else:
            parent.pop(unit[-1], None)
    for parent, index in sorted(gone, key=lambda item: -item[1]):
        del parent[index]


def _empty_cell(tree: dict[str, Any], index: int) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": "raw", "metadata": {}, "source": ""}
    if tree["nbformat_minor"] >= 5:
        old = tree["cells"][index]
        old_id = old.get("id") if isinstance(old, dict) else None
        cell["id"] = old_id if isinstance(old_id, str) else uuid.uuid4().hex[:8]
    return cell


def _give_cells_ids(tree: dict[str, Any]) -> None:
    """Give each cell a valid unique id (nbformat 4.5 needs them), as nbformat's normalize."""
    if tree["nbformat_minor"] < 5:
        return
    seen: set[str] = set()
    for cell in tree["cells"]:
        if not isinstance(cell, dict):
            continue  # the schema check replaces it
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or cell_id in seen:
            cell_id = cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cell_id)


def _schema_problems(tree: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """Where ``tree`` breaks nbformat's schema (as nbconvert checks it), and how."""
    from nbformat.validator import iter_validate

    # Not relax_add_props, which nbconvert uses: it also drops the check that each value of a
    # mime bundle is text ({"image/svg+xml": 5} would pass, then break the template). Keys
    # the schema does not know are still welcome: a newer notebook may have them.
    errors = (
        error
        for error in iter_validate(tree)  # type: ignore[no-untyped-call]  # nbformat is unannotated
        if error.validator != "additionalProperties"
    )
    return [(tuple(error.absolute_path), str(error.message)) for error in islice(errors, 1_000)]


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""Finding the view class that ``livewidget serve TARGET`` serves.

TARGET is one of

* ``package.module:ViewClass``: imported as usual (the current folder is on ``sys.path``);
* ``path/to/file.py:ViewClass``: the file runs as a module of its own, with its folder first on
  ``sys.path`` so that it can import its neighbours;
* ``path/to/notebook.ipynb:ViewClass``: the notebook's *definition cells* run, in order, in a
  fresh module, and the class is taken from it.

Which notebook cells run: a notebook mixes the code that defines a view with cells that show
it, poke it or test it (``Dashboard()``, ``view.widget.assign(...)``, ``live(Dashboard)``). A
served app wants the first kind only, so a code cell runs when every top-level statement in it
is an ``import``, a ``def`` / ``async def``, a ``class``, a docstring, or an assignment to
constant-style names (``UPPER_CASE``) or of a literal value. Tags decide where that rule does
not: a cell tagged ``serve`` always runs, one tagged ``no-serve`` never does. A cell that is not
Python (``%pip install``, ``!ls``) is skipped. ``load_notebook`` returns what ran and what did
not, and ``livewidget serve`` prints it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..view import LiveView

__all__ = ["NotebookCells", "TargetError", "load_notebook", "load_target"]

TAG_RUN = "serve"
TAG_SKIP = "no-serve"


class TargetError(ValueError):
    """The TARGET of ``livewidget serve`` names no view class that can be served."""


@dataclass
class NotebookCells:
    """Which code cells of a notebook ran (their indexes among all cells) and which did not."""

    ran: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (index, why)


def load_target(target: str, cells: NotebookCells | None = None) -> type[LiveView]:
    """The view class ``target`` names (``module:Class``, ``file.py:Class``, ``nb.ipynb:Class``);
    for a notebook, ``cells`` (if given) learns which cells ran."""
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise TargetError(
            f"expected TARGET as module:ViewClass, path/to/file.py:ViewClass or "
            f"notebook.ipynb:ViewClass, got {target!r}"
        )
    if where.endswith(".ipynb"):
        module, ran = load_notebook(Path(where))
        if cells is not None:
            cells.ran, cells.skipped = ran.ran, ran.skipped
    elif where.endswith(".py"):
        module = _load_file(Path(where))
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as error:
            raise TargetError(
                f"{target!r}: cannot import the module {where!r} ({error}); run from the folder "
                "that holds it, or give a file path (path/to/file.py:ViewClass)"
            ) from error
    return _view_class(module, name, target)


def _view_class(module: types.ModuleType, name: str, target: str) -> type[LiveView]:
    value = getattr(module, name, None)
    if isinstance(value, type) and issubclass(value, LiveView):
        return value
    views = sorted(
        key
        for key, item in vars(module).items()
        if isinstance(item, type) and issubclass(item, LiveView) and item is not LiveView
    )
    found = f"; the view classes there: {', '.join(views)}" if views else "; it defines none"
    what = "nothing" if value is None else f"{type(value).__name__} {value!r:.80}"
    raise TargetError(
        f"{target!r}: expected {name} to be a livewidget.LiveView subclass, got {what}{found}"
    )


def _load_file(path: Path) -> types.ModuleType:
    if not path.is_file():
        raise TargetError(f"{str(path)!r}: no such file")
    path = path.resolve()
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"livewidget_serve_{_safe(path.stem)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None  # a .py path always has a spec, and a loader
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses, pickle and typing look classes up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_notebook(path: Path) -> tuple[types.ModuleType, NotebookCells]:
    """Run the definition cells of the notebook at ``path`` in a fresh module (see above)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TargetError(f"{str(path)!r}: cannot read the notebook ({error})") from error
    except ValueError as error:
        raise TargetError(f"{str(path)!r}: not a notebook (not JSON: {error})") from error
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise TargetError(f"{str(path)!r}: not a notebook (expected a JSON object with 'cells')")
    path = path.resolve()
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = f"livewidget_notebook_{_safe(path.stem)}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    report = NotebookCells()
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        why = _why_skipped(source, _tags(cell))
        if why is not None:
            report.skipped.append((index, why))
            continue
        code = compile(source, f"{path.name}[cell {index}]", "exec")
        exec(code, module.__dict__)  # the notebook's own code, as Jupyter would run it
        report.ran.append(index)
    return module, report


def _tags(cell: dict[str, Any]) -> set[str]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return {tag for tag in tags if isinstance(tag, str)} if isinstance(tags, list) else set()


def _why_skipped(source: str, tags: set[str]) -> str | None:
    """None if the cell runs; else why not."""
    if TAG_SKIP in tags:
        return f"tagged {TAG_SKIP!r}"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "not Python (a magic or shell command?)"
    if TAG_RUN in tags:
        return None
    for statement in tree.body:
        if not _defines(statement):
            line = ast.get_source_segment(source, statement) or type(statement).__name__
            first = line.strip().splitlines()[0] if line.strip() else line
            return f"does more than define: {first[:60]!r} (tag the cell {TAG_RUN!r} to run it)"
    return None


def _defines(statement: ast.stmt) -> bool:
    if isinstance(
        statement,
        ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
    ):
        return True
    if isinstance(statement, ast.Expr):  # a docstring or a bare string
        return isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)
    if isinstance(statement, ast.Assign | ast.AnnAssign):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if statement.value is None:
            return True  # `x: int`, an annotation alone
        if all(isinstance(t, ast.Name) and t.id.isupper() for t in targets):
            return True  # constants by name: STYLE = lw.Markup(...), REGIONS = [...]
        try:
            ast.literal_eval(statement.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
        return True
    return False


def _safe(stem: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in stem)

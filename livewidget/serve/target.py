"""Finding the view class that ``livewidget serve TARGET`` serves.

TARGET is one of

* ``package.module:ViewClass``: imported as usual (the current folder is on ``sys.path``);
* ``path/to/file.py:ViewClass``: the file runs as a module of its own, with its folder first on
  ``sys.path`` so that it can import its neighbours;
* ``path/to/notebook.ipynb:ViewClass``: the notebook's *definition cells* run, in order, in a
  fresh module, and the class is taken from it.

A file given without ``:ViewClass`` (``app.py``, ``notebook.ipynb``) serves the one view class
it defines itself; one that defines none or several is an error that names them.

What of a notebook runs: a notebook mixes the code that defines a view with code that shows
it, pokes it or tests it (``Dashboard()`` at the end of the cell that defines the class,
``view.widget.assign(...)``, ``live(Dashboard)``). A served app wants the first kind only, so
of each code cell the *definitions* run, in order: the top-level statements that are an
``import``, a ``def`` / ``async def``, a ``class``, a docstring, or an assignment to
constant-style names (``UPPER_CASE``) or of a literal value; every other statement is skipped.
Tags decide where that rule does not: a cell tagged ``serve`` runs whole, one tagged
``no-serve`` not at all. A cell that is not Python (``%pip install``, ``!ls``) is skipped.
``load_notebook`` returns what ran and what did not, and ``livewidget serve`` prints it.
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

__all__ = ["NotebookCells", "TargetError", "load_notebook", "load_target", "source_of"]

TAG_RUN = "serve"
TAG_SKIP = "no-serve"


class TargetError(ValueError):
    """The TARGET of ``livewidget serve`` names no view class that can be served."""


@dataclass
class NotebookCells:
    """Which code cells of a notebook ran (their indexes among all cells), whole or in part, and
    what of which cells did not."""

    ran: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (index, what and why)


def load_target(target: str, cells: NotebookCells | None = None) -> type[LiveView]:
    """The view class ``target`` names (``module:Class``, ``file.py:Class``, ``nb.ipynb:Class``);
    for a notebook, ``cells`` (if given) learns which cells ran."""
    where, sep, name = target.rpartition(":")
    if target.endswith(_FILES):  # no class named: the one the file defines
        where, name = target, ""
    elif not sep or not where or not name.isidentifier():
        raise TargetError(
            f"expected TARGET as module:ViewClass, path/to/file.py:ViewClass or "
            f"notebook.ipynb:ViewClass (or a file alone, to serve the one view class it "
            f"defines), got {target!r}"
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


_FILES = (".py", ".ipynb")


def source_of(target: str) -> str:
    """The file or module of ``target``: all of it for a file given alone."""
    return target if target.endswith(_FILES) else target.rpartition(":")[0]


def _view_class(module: types.ModuleType, name: str, target: str) -> type[LiveView]:
    if not name:
        return _only_view_class(module, target)
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


def _only_view_class(module: types.ModuleType, target: str) -> type[LiveView]:
    """The one view class the file defines (not one it imports)."""
    views = list(  # once each, however many names a class has there
        dict.fromkeys(
            item
            for item in vars(module).values()
            if isinstance(item, type) and issubclass(item, LiveView) and item is not LiveView
        )
    )
    defined = [item for item in views if item.__module__ == module.__name__]
    if len(defined) == 1:
        return defined[0]
    if not defined:
        imported = sorted(f"{target}:{item.__name__}" for item in views)
        hint = f"; it imports {', '.join(imported)}" if imported else ""
        raise TargetError(f"{target!r} defines no livewidget.LiveView subclass to serve{hint}")
    names = sorted(item.__name__ for item in defined)
    raise TargetError(
        f"{target!r} defines {len(names)} view classes ({', '.join(names)}): name the one to "
        f"serve, as {target}:{names[0]}"
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
        tree, why = _definitions(source, _tags(cell))
        if why is not None:
            report.skipped.append((index, why))
        if tree is None or not tree.body:
            continue
        code = compile(tree, f"{path.name}[cell {index}]", "exec")
        exec(code, module.__dict__)  # the notebook's own code, as Jupyter would run it
        report.ran.append(index)
    return module, report


def _tags(cell: dict[str, Any]) -> set[str]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return {tag for tag in tags if isinstance(tag, str)} if isinstance(tags, list) else set()


def _definitions(source: str, tags: set[str]) -> tuple[ast.Module | None, str | None]:
    """What of a cell runs (None: nothing), and what was skipped and why (None: nothing)."""
    if TAG_SKIP in tags:
        return None, f"tagged {TAG_SKIP!r}"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None, "not Python (a magic or shell command?)"
    if TAG_RUN in tags:
        return tree, None
    kept = [statement for statement in tree.body if _defines(statement)]
    dropped = [statement for statement in tree.body if not _defines(statement)]
    if not dropped:
        return tree, None
    shown = ", ".join(_first_line(source, statement) for statement in dropped[:3])
    more = f" and {len(dropped) - 3} more" if len(dropped) > 3 else ""
    why = (
        f"skipped {shown}{more}, which do(es) more than define (tag the cell {TAG_RUN!r} to run it)"
    )
    return ast.Module(body=kept, type_ignores=tree.type_ignores), why


def _first_line(source: str, statement: ast.stmt) -> str:
    text = (ast.get_source_segment(source, statement) or type(statement).__name__).strip()
    line = text.splitlines()[0] if text else text
    return repr(line[:60])


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

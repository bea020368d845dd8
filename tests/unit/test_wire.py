"""The wire's vocabulary is written once per language, and the two agree.

``livewidget/wire.py`` and ``js/src/constants.ts`` name each string the same way
(``STATIC = "s"`` and ``export const STATIC = "s"``): the rule is the identity. These tests read
the TypeScript file's ``export const NAME = "value"`` lines (no JS runtime needed) and compare,
then check that no other Python module spells a wire string where it writes or reads a
message.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from livewidget import wire

ROOT = Path(__file__).parents[2]
CONSTANTS_TS = ROOT / "js" / "src" / "constants.ts"
_EXPORT = re.compile(r'^export const ([A-Z][A-Z0-9_]*) = "([^"\\]*)";', re.MULTILINE)

# One side alone has these, each for a reason:
TS_ONLY = {
    # A model attribute the front end sets for itself and never sends (no save_changes).
    "KEY_ATTR": "the front end's own model attribute, never on the wire",
    # Markers between rendered.ts's toPatch() and dom_patch.ts, stripped before the page sees
    # them; the kernel's HTML never holds them.
    "SKIP_ATTR": "a placeholder for an unchanged keyed entry, inside the front end only",
    "ENTRY_ATTR": "marks a changed keyed entry's root, inside the front end only",
}
PYTHON_ONLY = {
    # The trait holding the recordings: the kernel writes it, the export (Python) reads it.
    "RECORDING_TRAIT": "written by the kernel, read by the export (Python) only",
}


def _ts_constants() -> dict[str, str]:
    return dict(_EXPORT.findall(CONSTANTS_TS.read_text(encoding="utf-8")))


def _wire_constants() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(wire).items()
        if name.isupper() and isinstance(value, str)
    }


def test_constants_ts_has_string_constants_to_compare():
    ts = _ts_constants()
    assert {"STATIC", "KEYED", "MSG_FULL", "MSG_JOIN", "KIND_CLICK"} <= set(ts), sorted(ts)


def test_every_front_end_constant_has_the_same_name_and_value_in_wire_py():
    python = _wire_constants()
    wrong = {
        name: (value, python.get(name))
        for name, value in _ts_constants().items()
        if name not in TS_ONLY and python.get(name) != value
    }
    assert not wrong, f"constants.ts vs wire.py (TS value, Python value): {wrong}"


def test_every_wire_constant_is_in_constants_ts():
    missing = set(_wire_constants()) - set(_ts_constants()) - set(PYTHON_ONLY)
    assert not missing, (
        f"{sorted(missing)} are in wire.py but not in js/src/constants.ts: add them there "
        '(export const NAME = "value";), or to PYTHON_ONLY here with the reason'
    )


def test_the_event_kinds_are_the_kind_constants():
    kinds = {value for name, value in _wire_constants().items() if name.startswith("KIND_")}
    assert kinds == wire.EVENT_KINDS


# -- no wire string outside wire.py --------------------------------------------------------

# The strings checked: those that mean nothing but the wire. "type", "event", "value", "kind",
# "message" and "error" are left out: they are also ordinary keys (a handle_info message
# {"type": ...}, an ipywidget's saved "value", a pandas Styler cell's "type"), and a check that
# flagged them would be a list of exceptions.
_UNAMBIGUOUS = {
    wire.STATIC,
    wire.KEYED,
    wire.KEYED_COUNT,
    wire.KEYED_MOVED,
    wire.TEMPLATES,
    wire.COMPONENTS,
    wire.STREAM,
    wire.SEQ,
    wire.RENDERED,
    wire.TRACEBACK,
    wire.PAYLOAD,
    wire.CID,
    wire.MSG_FULL,
    wire.MSG_DIFF,
    wire.MSG_SETTLED,
    wire.MSG_PUSH_EVENT,
    wire.MSG_JOIN,
    wire.HTML_TRAIT,
    wire.HOOKS_TRAIT,
    wire.RECORDING_TRAIT,
    wire.CHILD_ATTR,
    wire.FORM_TARGET,
}
# (module path prefix, literal): places where the literal is not the wire's, or not yet.
ALLOWED = {
    # str.format's conversion "!s", not the statics key.
    ("livewidget/template.py", wire.STATIC),
    # Being rewritten by other branches of issue 10 at the time of writing (the runtime split
    # and the test client); remove these once they take their strings from wire.py.
    ("livewidget/runtime", wire.MSG_JOIN),
    ("livewidget/runtime", wire.TRACEBACK),
    ("livewidget/runtime", wire.PAYLOAD),
    ("livewidget/runtime", wire.SEQ),
    ("livewidget/runtime", wire.RENDERED),
    ("livewidget/testing", wire.FORM_TARGET),
    ("livewidget/testing", wire.CID),
    ("livewidget/testing", wire.MSG_FULL),
    ("livewidget/testing", wire.MSG_DIFF),
    ("livewidget/testing", wire.RENDERED),
}


def _wire_literals(source: str) -> list[tuple[int, str]]:
    """Wire strings where a message is written or read: a subscript (``m["seq"]``), a dict
    key, the key of ``.get`` / ``.pop`` / ``.setdefault``, or a side of a comparison."""
    found = []
    for node in ast.walk(ast.parse(source)):
        candidates: list[ast.expr] = []
        if isinstance(node, ast.Subscript):
            candidates = [node.slice]
        elif isinstance(node, ast.Dict):
            candidates = [key for key in node.keys if key is not None]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop", "setdefault")
            and node.args
        ):
            candidates = [node.args[0]]
        elif isinstance(node, ast.Compare):
            candidates = [node.left, *node.comparators]
            for side in node.comparators:
                if isinstance(side, (ast.Tuple, ast.List, ast.Set)):
                    candidates.extend(side.elts)
        found.extend(
            (node.lineno, c.value)
            for c in candidates
            if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value in _UNAMBIGUOUS
        )
    return found


def test_the_check_finds_a_wire_string_in_each_position_it_reads():
    source = (
        'a = m["seq"]\nb = {"rendered": 1}\nc = m.get("cid")\nd = t == "diff"\n'
        'e = t in ("full", "x")\nf = {"seq_": 1, "x": "seq"}\n'
    )
    found = sorted(value for _, value in _wire_literals(source))
    assert found == ["cid", "diff", "full", "rendered", "seq"]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "livewidget").rglob("*.py") if p.name != "wire.py"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_module_but_wire_py_spells_a_wire_string_in_a_message(path: Path):
    where = str(path.relative_to(ROOT).as_posix())
    spelled = [
        f"{where}:{line}: {value!r}"
        for line, value in _wire_literals(path.read_text(encoding="utf-8"))
        if not any(where.startswith(prefix) and value == v for prefix, v in ALLOWED)
    ]
    assert not spelled, f"use the constant of livewidget/wire.py instead: {spelled}"


# -- no second definition -------------------------------------------------------------------

# Constants that other branches of issue 10 still define for themselves (the runtime split);
# remove each once its module imports it from wire.py.
REDEFINED = {
    ("livewidget/runtime", "MSG_TYPE"),
    ("livewidget/runtime", "MSG_FULL"),
    ("livewidget/runtime", "MSG_DIFF"),
    ("livewidget/runtime", "MSG_ERROR"),
    ("livewidget/runtime", "MSG_PUSH_EVENT"),
    ("livewidget/runtime", "MSG_SETTLED"),
}


def _module_constants(source: str) -> list[tuple[int, str, str]]:
    """Module-level names bound to a wire string: ``MSG_FULL = "full"``."""
    wire_values = set(_wire_constants().values())
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        value = node.value
        if isinstance(value, ast.Constant) and value.value in wire_values:
            found.extend(
                (node.lineno, target.id, value.value)
                for target in targets
                if isinstance(target, ast.Name)
            )
    return found


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "livewidget").rglob("*.py") if p.name != "wire.py"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_module_but_wire_py_defines_a_wire_string_of_its_own(path: Path):
    where = str(path.relative_to(ROOT).as_posix())
    defined = [
        f"{where}:{line}: {name} = {value!r}"
        for line, name, value in _module_constants(path.read_text(encoding="utf-8"))
        if not any(where.startswith(prefix) and name == n for prefix, n in REDEFINED)
    ]
    assert not defined, f"import it from livewidget/wire.py instead: {defined}"

"""Mutation check: do the tests catch realistic bugs?

Each mutant in ``MUTANTS`` is one small, exact change to the code that a person could make by
mistake: a file, a snippet of it as it reads today, and what replaces it. For each mutant the
script copies the repository into a temporary directory (the working tree as it is, committed
or not; ``node_modules`` linked, the built bundle copied), applies that one change to the copy,
and runs the tests that can see it: ``pytest tests/unit -x`` for a Python file, ``vitest run``
for a TypeScript one. A failing test *kills* the mutant; a mutant that passes every test
*survives*, and names a bug the tests would let through. The repository itself is never
written, so Ctrl-C at any point leaves it as it was (the copy is removed on the way out).

Before any run every snippet is looked up: one that is missing, or found more than once, stops
the script with the mutant's name (the code moved: edit the table). A mutant may name
``tests`` that are meant to kill it: they run first, and the whole suite runs only if the
mutant survives them, so a run where every mutant dies is quick. ``--full`` runs the whole
suite every time (to see what *else* catches a mutant); ``--quick`` runs only the named tests
(to check that each kills its mutant). An unmutated baseline run comes first
(``--no-baseline`` skips it): with a red baseline every mutant would look killed.

    python tools/mutants.py                 # every mutant
    python tools/mutants.py pacer-spacing   # one (or several) by name
    python tools/mutants.py --list          # the table
    make mutants

Exit status: 0 if every mutant was killed, 1 if one survived, 2 if the table or the baseline
is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # relative to the repository root
    original: str  # must occur exactly once in the file
    replacement: str
    why: str  # the bug, as a user would meet it
    tests: tuple[str, ...] = ()  # the tests meant to kill it (run first)

    @property
    def kind(self) -> str:
        return "js" if self.file.endswith(".ts") else "py"


# The table. Keep each snippet small and exact (indentation included): when the code moves,
# the script names the mutant whose snippet it cannot find, and the fix is an edit here.
MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        name="escape-format-spec",
        file="livewidget/template.py",
        original=(
            "        if field.context.kind in (cx.TEXT, cx.ATTR):\n"
            "            return _escaped(formatted)\n"
        ),
        replacement=(
            "        if field.context.kind in (cx.TEXT, cx.ATTR):\n            return formatted\n"
        ),
        why="a field with a format spec ({x:>5}) is not escaped: a live <script> on the page",
        tests=("tests/unit/test_format_spec_escaping.py",),
    ),
    Mutant(
        name="seq-reused-by-empty-answer",
        file="livewidget/runtime/outbox.py",
        original="            self.seq += 1\n            if not self.transmit(",
        replacement=(
            "            self.seq += 1 if payload or kind == MSG_FULL else 0\n"
            "            if not self.transmit("
        ),
        why="the empty answer to an event that changed nothing reuses the last seq: the page "
        "sees a gap and asks for a full render after every such event",
        tests=("tests/unit/test_sequence.py",),
    ),
    Mutant(
        name="pacer-spacing",
        file="livewidget/runtime/scheduling.py",
        original="        self._frame = frame\n",
        replacement="        self._frame = 0.0\n",
        why="the pacer forgets the spacing between a view's frames: a busy view sends a render "
        "per change (about 900 a second) instead of one a frame (about 60)",
        tests=("tests/unit/test_pacing.py",),
    ),
    Mutant(
        name="close-leaves-start-async",
        file="livewidget/runtime/view_runtime.py",
        original="        for task in list(self._tasks):\n            task.cancel()\n",
        replacement="",
        why="close() leaves a start_async job running",
        tests=("tests/unit/test_close.py",),
    ),
    Mutant(
        name="rerun-keeps-views",
        file="livewidget/jupyter/cells.py",
        original="            if view is not None:\n                view.close()\n",
        replacement="            if view is not None:\n                pass\n",
        why="re-running a cell no longer closes the views it made (their timers tick on)",
        tests=("tests/unit/test_cell_rerun.py",),
    ),
    Mutant(
        name="static-render-connected",
        file="livewidget/socket.py",
        original='    """The host of a static render: nothing runs, nothing is sent."""\n\n'
        "    connected = False\n",
        replacement='    """The host of a static render: nothing runs, nothing is sent."""\n\n'
        "    connected = True\n",
        why="a static render reports itself connected (socket.connected is True)",
        tests=("tests/unit/test_connected.py",),
    ),
    # Found by mutmut on protocol.py and events.py (see the report): bugs nothing caught.
    Mutant(
        name="form-target-first-drops-fields",
        file="livewidget/events.py",
        original="            target = _path(value)\n            continue\n",
        replacement="            target = _path(value)\n            break\n",
        why="a form whose _target comes first loses every field after it",
        tests=("tests/unit/test_form_fields.py",),
    ),
    Mutant(
        name="form-list-of-lists",
        file="livewidget/events.py",
        original='node.append({} if following != "" else [])',
        replacement="node.append({})",
        why="grid[][]=1 decodes to a list of maps instead of a list of lists",
        tests=("tests/unit/test_form_fields.py",),
    ),
    Mutant(
        name="deep-value-measured-whole",
        file="livewidget/events.py",
        original="            budget -= 1\n",
        replacement="            budget += 1\n",
        why="refusing a too-deep value walks all of it, however big (the work bound is lost)",
        tests=("tests/unit/test_form_fields.py",),
    ),
    Mutant(
        name="component-outside-view-refused",
        file="livewidget/protocol.py",
        original="    if ref.rendered is None:\n        raise ProtocolError",
        replacement="    if ref.rendered is not None:\n        raise ProtocolError",
        why="a component shown outside a live view cannot be sent (full or diff raises)",
        tests=("tests/unit/test_components_outside_a_view.py",),
    ),
    Mutant(
        name="submit-without-submitter",
        file="js/src/bindings.ts",
        original="const data = formParams(form, submitter);",
        replacement="const data = formParams(form);",
        why="the submitter button's name and value are left out of a submitted form "
        "(docs/bindings.md promises them)",
        tests=("js/tests/submitter.test.ts",),
    ),
    Mutant(
        name="served-shared-widget-writable",
        file="livewidget/serve/widgets.py",
        original="shared = carrier.born < self.started or carrier.pages != {self}",
        replacement="shared = carrier.pages != {self}",
        why="a widget made at import, every page's, takes a page's change: one user moves the "
        "chart every other user sees",
        tests=("tests/unit/test_serve_widgets.py",),
    ),
    Mutant(
        name="served-widget-code-settable",
        file="livewidget/serve/widgets.py",
        original="            key in _FIXED\n",
        replacement="            key in ()\n",
        why="a page may set a served widget's _esm or _css: its page then imports what it sent",
        tests=("tests/unit/test_serve_widgets.py",),
    ),
    Mutant(
        name="served-widgets-never-closed",
        file="livewidget/serve/widgets.py",
        original="or carrier.born <= started or carrier.pages:",
        replacement="or carrier.born <= started or carrier.pages or True:",
        why="the widgets a served view made stay open after its page closed: a server that "
        "runs for weeks keeps one for every tab that ever opened",
        tests=("tests/unit/test_serve_widgets.py",),
    ),
    Mutant(
        name="served-widget-update-dropped",
        file="js/src/served_widgets.ts",
        original="        if (model && isObject(message.state)) model.apply(",
        replacement="        if (model && isObject(message.state) && false) model.apply(",
        why="a served widget never shows what Python changed after it opened (a chart that "
        "does not tick)",
        tests=("js/tests/served_widgets.test.ts",),
    ),
    Mutant(
        name="served-layout-settable",
        file="livewidget/serve/widgets.py",
        original="settable = _CONTROLS.get(control, frozenset()) if control is not None else None",
        replacement="settable = _CONTROLS.get(control) if control is not None else None",
        why="a page may set the layout or style of its widgets, which no Jupyter page sets",
        tests=("tests/unit/test_serve_widgets.py",),
    ),
    Mutant(
        name="served-box-children-not-opened",
        file="livewidget/serve/widgets.py",
        original='reshapes = message["method"] == "update" and not _TREE_KEYS',
        replacement='reshapes = False and not _TREE_KEYS',
        why="a box given new children in Python sends them to no page: the page waits for "
        "widgets it is never sent, and their place stays empty",
        tests=("tests/unit/test_serve_widgets.py",),
    ),
    Mutant(
        name="served-layout-not-drawn",
        file="js/src/served_widgets.ts",
        original="const apply = () => draw(el, held);",
        replacement="const apply = () => undefined;",
        why="a widget's layout (its width, its flex flow) and a control's style are not drawn",
        tests=("js/tests/served_widgets.test.ts",),
    ),
    Mutant(
        name="stream-from-a-thread-not-queued",
        file="livewidget/socket.py",
        original="if not self._host.call_elsewhere(self, apply, where, lambda: change(",
        replacement="if True or not self._host.call_elsewhere(self, apply, where, lambda: change(",
        why="a thread feeding a stream puts back the stream it read, losing the rows the view's "
        "handlers inserted meanwhile",
        tests=("tests/unit/test_streams.py",),
    ),
    Mutant(
        name="component-changed-elsewhere-not-sent",
        file="livewidget/runtime/view_runtime.py",
        original="            self._component_changed = True\n",
        replacement="            pass\n",
        why="a component changed from another thread renders, but its page never hears of it",
        tests=("tests/unit/test_component.py",),
    ),
    Mutant(
        name="served-html-settable",
        file="livewidget/serve/widgets.py",
        original='    "HTMLModel": frozenset(),\n',
        replacement='    "HTMLModel": frozenset({"value"}),\n',
        why="a page may set an HTML widget's value: markup of its own choosing, run as the "
        "server's own in every page that shows the widget",
        tests=("tests/unit/test_serve_widgets.py",),
    ),
    Mutant(
        name="served-play-animates-per-view",
        file="js/src/controls.ts",
        original="  let animation = animations.get(model);\n",
        replacement="  let animation = undefined as Animation | undefined;\n",
        why="a Play shown twice steps twice as fast, each view running its own timer",
        tests=("js/tests/served_widgets.test.ts",),
    ),
)

TIMEOUT = 3600.0  # seconds for one run of a suite (--timeout); a run that takes longer kills
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TableError(Exception):
    """A mutant's snippet is not where the table says."""


def check_table(mutants: Sequence[Mutant], root: Path) -> None:
    names = [m.name for m in mutants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise TableError(f"mutant names must be unique; repeated: {duplicates}")
    for mutant in mutants:
        path = root / mutant.file
        if not path.is_file():
            raise TableError(
                f"mutant {mutant.name!r}: its file {mutant.file!r} does not exist. The code "
                "moved: point the mutant at the file that holds the snippet now."
            )
        count = path.read_text(encoding="utf-8").count(mutant.original)
        if count != 1:
            where = "not found" if count == 0 else f"found {count} times (it must be unique)"
            raise TableError(
                f"mutant {mutant.name!r}: snippet {mutant.original!r} {where} in "
                f"{mutant.file}. Edit the table in tools/mutants.py to match the code."
            )
        if mutant.original == mutant.replacement:
            raise TableError(f"mutant {mutant.name!r}: the replacement is the original")


def _files_to_copy(root: Path) -> list[str]:
    """The working tree as git sees it: tracked and untracked files, not the ignored ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


@contextmanager
def copy_of(root: Path) -> Iterator[Path]:
    """A temporary copy of the repository, removed on the way out (Ctrl-C included)."""
    where = Path(tempfile.mkdtemp(prefix="livewidget-mutants-"))
    try:
        for name in _files_to_copy(root):
            target = where / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, target)
        static = root / "livewidget" / "static"  # the built bundle (git-ignored)
        if static.is_dir():
            shutil.copytree(static, where / "livewidget" / "static", dirs_exist_ok=True)
        modules = root / "node_modules"
        if modules.exists():
            real = modules.resolve()
            (where / "node_modules").symlink_to(real, target_is_directory=True)
            # Vite serves files outside the project root only from allowed folders; the linked
            # node_modules resolves to one (phoenix_live_view's sources are loaded from it).
            allow = json.dumps([str(where), str(real)])
            (where / "vitest.mutants.mts").write_text(
                'import { defineConfig, mergeConfig } from "vitest/config";\n'
                'import base from "./vitest.config.mts";\n'
                "export default mergeConfig(base, defineConfig({ server: { fs: { allow: "
                + allow
                + " } } }));\n"
            )
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


@dataclass
class Outcome:
    passed: bool
    first_failure: str
    seconds: float
    output: str


def _first_failure(kind: str, output: str) -> str:
    text = ANSI.sub("", output)
    if kind == "py":
        for line in text.splitlines():
            if line.startswith(("FAILED ", "ERROR ")):
                return line.split(" ", 1)[1]
    else:
        for line in text.splitlines():
            match = re.match(r"\s*(?:\u00d7|FAIL)\s+(.*\S)", line)  # "\u00d7": a failed test
            if match:
                return re.sub(r"\s+\d+ms$", "", match.group(1))
    tail = [line for line in text.splitlines() if line.strip()][-3:]
    return " | ".join(tail) or "(no output)"


def _running_test(output: str) -> str:
    """The test pytest -v had started when it was stopped (the last line without a verdict)."""
    lines = [line for line in ANSI.sub("", output).splitlines() if "::" in line]
    return lines[-1].split(" ")[0] if lines else "?"


def run_tests(
    kind: str,
    copy: Path,
    tests: Sequence[str] = (),
    ignore: Sequence[str] = (),
    deselect: Sequence[str] = (),
    timeout: float = TIMEOUT,
) -> Outcome:
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "PYTHONDONTWRITEBYTECODE": "1",  # no stale .pyc of a mutant read back later
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
    }
    if kind == "py":
        # -v: each test's id is printed as it starts, so a timeout can say which one hung
        command = [sys.executable, "-m", "pytest", "-x", "-v", "-p", "no:cacheprovider"]
        command += [f"--ignore={path}" for path in ignore]
        command += [f"--deselect={node}" for node in deselect]
        command += list(tests) or ["tests/unit"]
    else:
        config = "vitest.mutants.mts" if (copy / "vitest.mutants.mts").exists() else None
        command = ["npx", "vitest", "run", "--bail=1", *(["--config", config] if config else [])]
        command += [f"--exclude={path}" for path in ignore]
        command += list(tests)
    start = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout or ""
        output = out.decode(errors="replace") if isinstance(out, bytes) else out
        running = _running_test(output) if kind == "py" else "?"
        return Outcome(
            False,
            f"timeout after {timeout:.0f} s (running: {running})",
            time.monotonic() - start,
            output,
        )
    output = done.stdout + done.stderr
    passed = done.returncode == 0
    return Outcome(
        passed, "" if passed else _first_failure(kind, output), time.monotonic() - start, output
    )


@contextmanager
def applied(mutant: Mutant, copy: Path) -> Iterator[None]:
    path = copy / mutant.file
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace(mutant.original, mutant.replacement, 1), encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print the table and stop")
    parser.add_argument("--full", action="store_true", help="always run the whole suite")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="run only the tests each mutant names (they must pass unmutated, fail mutated)",
    )
    parser.add_argument(
        "--others",
        action="store_true",
        help="run the whole suite without the tests each mutant names: does anything else "
        "catch it? (how the table's mutants were shown to survive the tests of before)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT, help="seconds for one run of a suite"
    )
    parser.add_argument(
        "--deselect",
        action="append",
        default=[],
        metavar="NODEID",
        help="leave out a pytest test (one that is flaky on a loaded machine), repeatable",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show a failing run's tail")
    args = parser.parse_args(argv)
    # Interruptible and clean however it was started: a background job starts with SIGINT
    # ignored, and SIGTERM would end the process without removing the copy.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    by_name = {m.name: m for m in MUTANTS}
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        print(f"unknown mutant(s) {unknown}; known: {', '.join(by_name)}", file=sys.stderr)
        return 2
    chosen = [by_name[n] for n in args.names] if args.names else list(MUTANTS)
    if args.list:
        for m in chosen:
            print(f"{m.name:32} {m.file:24} {m.why}")
        return 0
    try:
        check_table(chosen, ROOT)
    except TableError as error:
        print(f"mutants: {error}", file=sys.stderr)
        return 2

    survivors: list[str] = []
    with copy_of(ROOT) as copy:
        print(f"copy of {ROOT} in {copy}", flush=True)
        if not args.no_baseline:
            for kind in sorted({m.kind for m in chosen}):
                named = sorted({t for m in chosen if m.kind == kind for t in m.tests})
                base = run_tests(
                    kind,
                    copy,
                    named if args.quick else (),
                    deselect=args.deselect,
                    timeout=args.timeout,
                )
                state = "green" if base.passed else "RED"
                print(f"baseline {kind}: {state} ({base.seconds:.0f} s)", flush=True)
                if not base.passed:
                    print(ANSI.sub("", base.output)[-3000:], file=sys.stderr)
                    print(
                        f"mutants: the unmutated {kind} tests fail ({base.first_failure}); "
                        "every mutant would look killed. Fix them first.",
                        file=sys.stderr,
                    )
                    return 2
        for mutant in chosen:
            with applied(mutant, copy):
                outcome: Outcome | None = None
                targeted = [t for t in mutant.tests if (copy / t).exists()]
                if targeted and not args.full and not args.others:
                    outcome = run_tests(
                        mutant.kind, copy, targeted, deselect=args.deselect, timeout=args.timeout
                    )
                if args.quick and outcome is None:
                    print(f"no tests {mutant.name:32} names no test that exists", flush=True)
                    survivors.append(mutant.name)
                    continue
                if outcome is None or (outcome.passed and not args.quick):
                    ignore = targeted if args.others else []
                    outcome = run_tests(
                        mutant.kind,
                        copy,
                        ignore=ignore,
                        deselect=args.deselect,
                        timeout=args.timeout,
                    )
            verdict = "survived" if outcome.passed else "killed  "
            by = "" if outcome.passed else f" by {outcome.first_failure}"
            print(f"{verdict} {mutant.name:32} ({outcome.seconds:4.0f} s){by}", flush=True)
            if outcome.passed:
                survivors.append(mutant.name)
                print(f"         {mutant.why}")
            elif args.verbose:
                print(ANSI.sub("", outcome.output)[-2000:])
    print(f"{len(chosen) - len(survivors)} of {len(chosen)} killed", end="")
    print(f"; survived: {', '.join(survivors)}" if survivors else "")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())

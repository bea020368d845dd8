"""The ``livewidget`` command (``python -m livewidget`` does the same).

    livewidget export NOTEBOOK.ipynb [-o OUT.html] [--execute [--timeout S] [--kernel NAME]
                                                              [--cwd DIR]]
    livewidget serve TARGET [--host H] [--port P] [--workers N] [--pubsub URL] [--reload]
                            [--allow-origin ORIGIN]...     (livewidget.serve.cli; docs/serve.md)

Exit status: 0 when the page is written, 1 when the notebook cannot be read, run or exported
(the message says why), 2 for a wrong command line. A notebook with parts that cannot be shown
(malformed outputs, text that is not valid, a recording that cannot be replayed) still exports:
each part is repaired or left out with a warning. Everything printed passes through
``_printable``: a notebook's text cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # argparse's own


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livewidget", description="Tools for livewidget notebooks."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    export = commands.add_parser(
        "export",
        help="write a notebook as one HTML file that shows its views without a kernel",
        description=(
            "Write NOTEBOOK as one self-contained HTML file: every live view shows its last "
            "saved state (and replays its recording, if it has one), with no kernel and no "
            "network. The notebook needs its widget state: save it from JupyterLab with "
            "widget state saving on, or use --execute."
        ),
    )
    export.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="the .ipynb file")
    export.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help="the HTML file to write (default: NOTEBOOK with .html, beside it)",
    )
    export.add_argument(
        "--execute",
        action="store_true",
        help="run the notebook in a fresh kernel first (the file itself is not changed)",
    )
    export.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="S",
        help="with --execute: the most seconds one cell may run (default: 600)",
    )
    export.add_argument(
        "--kernel", metavar="NAME", help="with --execute: the kernel (default: the notebook's)"
    )
    export.add_argument(
        "--cwd",
        type=Path,
        metavar="DIR",
        help="with --execute: the kernel's working folder (default: an empty temporary one)",
    )
    try:
        from .serve.cli import add_parser
    except ImportError as error:  # the serve extra (starlette, uvicorn) is not installed
        _serve_missing = str(error)
        missing = commands.add_parser("serve", help="(needs: pip install livewidget[serve])")
        missing.add_argument("rest", nargs=argparse.REMAINDER)
        missing.set_defaults(serve_missing=_serve_missing)
    else:
        add_parser(commands)
    return parser


def _say(message: str) -> None:
    print(f"livewidget export: {_printable(message)}", file=sys.stderr)


def _printable(text: str) -> str:
    """``text`` with control characters (escape sequences, carriage returns) shown as escapes."""
    if text.isprintable():
        return text
    return "".join(
        char
        if char.isprintable() or unicodedata.category(char) == "Zs"
        else char.encode("unicode_escape", "backslashreplace").decode("ascii")
        for char in text
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export":
        return _export(args)
    if args.command == "serve":
        missing = getattr(args, "serve_missing", None)
        if missing is not None:
            print(
                f"livewidget serve: needs starlette and uvicorn ({missing}); "
                "install them with: pip install 'livewidget[serve]'",
                file=sys.stderr,
            )
            return EXIT_FAILED
        from .serve.cli import run

        return run(args)
    return EXIT_USAGE  # pragma: no cover - argparse accepts no other command


def _export(args: argparse.Namespace) -> int:
    try:
        from .export import ExportError, export_file
    except ImportError as error:
        _say(
            f"needs nbconvert and nbclient ({error}); "
            "install them with: pip install nbconvert nbclient"
        )
        return EXIT_FAILED
    output: Path = args.output or args.notebook.with_suffix(".html")
    if output.resolve() == args.notebook.resolve():
        _say(f"{output} would overwrite the notebook")
        return EXIT_USAGE
    if not args.execute and (args.cwd is not None or args.kernel is not None):
        _say("--cwd and --kernel go with --execute")
        return EXIT_USAGE
    if args.cwd is not None and not args.cwd.is_dir():
        _say(f"--cwd {args.cwd}: no such folder")
        return EXIT_USAGE
    try:
        page = export_file(
            args.notebook,
            output,
            execute=args.execute,
            cwd=args.cwd,
            timeout=args.timeout,
            kernel_name=args.kernel,
        )
    except ExportError as error:
        _say(str(error))
        return EXIT_FAILED
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    for warning in page.warnings:
        _say(f"warning: {warning}")
    for reference in page.blocked:
        _say(f"warning: neutralised a fetch from another host: {reference}")
    size = len(page.html.encode("utf-8"))
    summary = f"{page.views} live view{'s' if page.views != 1 else ''}"
    if page.replays:
        summary += (
            f" ({page.replays} replaying {'its' if page.replays == 1 else 'their'} recording)"
        )
    if page.other_widgets:
        summary += f", {page.other_widgets} other widget(s) drawn from their saved state"
    _say(f"wrote {output} ({size / 1000:.0f} kB): {summary}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

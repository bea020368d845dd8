"""``livewidget serve TARGET``: load the view class, then let uvicorn run the app.

uvicorn's ``--workers`` and ``--reload`` start fresh processes that import the app by name, so
the app is built by a factory, ``livewidget.serve.cli:make_app``, that reads its settings from
the environment the command sets (``LIVEWIDGET_SERVE_TARGET``, ``LIVEWIDGET_SERVE_ORIGINS`` and
the documented ``LIVEWIDGET_PUBSUB``). Each worker thus loads the target and connects its own
pub/sub bus.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from .asgi import MAX_MESSAGE_BYTES, app, tune_gc
from .target import NotebookCells, TargetError, load_target, source_of

ENV_TARGET = "LIVEWIDGET_SERVE_TARGET"
ENV_ORIGINS = "LIVEWIDGET_SERVE_ORIGINS"  # comma-separated; "*" accepts any origin
ENV_PUBSUB = "LIVEWIDGET_PUBSUB"

log = logging.getLogger("livewidget")


class ServeError(RuntimeError):
    """``livewidget serve`` cannot start as asked."""


def uvicorn_settings() -> dict[str, Any]:
    """uvicorn's WebSocket settings for ``livewidget serve`` (``uvicorn.run(app, **these)``).

    * ``ws_per_message_deflate=False``: no zlib compressor and decompressor per connection
      (Phoenix's sockets default to ``compress: false`` too). A tick's diff is a few dozen
      bytes, which deflate would not shrink, and the contexts cost memory and CPU per view;
    * ``ws_ping_interval=None``: no WebSocket ping timer per connection; the page's own
      heartbeat (``HEARTBEAT_MS``) finds a silent page, and the server closes it;
    * ``ws_max_size``: a frame from the page is at most ``MAX_MESSAGE_BYTES``;
    * ``ws="websockets-sansio"``: uvicorn's default WebSocket protocol (from uvicorn 0.50),
      named so that an older uvicorn's ``auto`` (the legacy ``websockets``) is not picked. It
      frames a tick's message with less CPU than ``wsproto``: with ``floor-tick`` (frames and no
      view) at 2,500 sockets, 0.24 of a core against 0.28 to 0.30, and the served dashboard at
      5,000 views on two workers, p95 tick latency 65 to 75 ms against 95 to 134 (three
      alternating pairs). ``wsproto`` holds an idle socket in 1.6 KB less (19.8 KB against
      21.4); a ticking server runs out of CPU long before memory.

    benchmarks/serve_load.py runs its server with these too (docs/serve.md has the figures).
    """
    return {
        "ws": "websockets-sansio",
        "ws_max_size": MAX_MESSAGE_BYTES,
        "ws_per_message_deflate": False,
        "ws_ping_interval": None,
    }


def configure_pubsub(url: str) -> None:
    """``livewidget.configure(pubsub=url)``, in this process (each worker calls it)."""
    from ..config import configure

    configure(pubsub=url)


def make_app() -> Starlette:
    """The app ``livewidget serve`` runs, from the environment (uvicorn calls this)."""
    target = os.environ.get(ENV_TARGET)
    if not target:
        raise ServeError(f"{ENV_TARGET} is not set: start this with `livewidget serve TARGET`")
    origins = os.environ.get(ENV_ORIGINS, "")
    check: bool | list[str] = True
    if origins.strip() == "*":
        check = False
    elif origins:
        check = [o.strip() for o in origins.split(",") if o.strip()]
    pubsub = os.environ.get(ENV_PUBSUB)
    if pubsub:
        configure_pubsub(pubsub)
    tune_gc()
    return app({"/": load_target(target)}, check_origin=check)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve a view to browsers: one live view per tab",
        description=(
            "Serve TARGET's view class at http://HOST:PORT/ : each browser tab gets a view of "
            "its own, mounted with the URL's query parameters as self.params. TARGET is "
            "module:ViewClass, path/to/file.py:ViewClass or notebook.ipynb:ViewClass, or a "
            "file alone to serve the one view class it defines (of a notebook, the "
            "definitions run: imports, defs, classes, constants; a cell tagged 'serve' runs "
            "whole, one tagged 'no-serve' not at all)."
        ),
    )
    serve.add_argument("target", metavar="TARGET")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="default: 8000")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N", help="processes (uvicorn's); default 1"
    )
    serve.add_argument(
        "--pubsub",
        metavar="URL",
        help="redis://HOST:PORT/DB: broadcasts reach the views of every worker and machine",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="accept WebSockets from this origin too (https://example.com); '*' accepts any",
    )
    serve.add_argument("--reload", action="store_true", help="restart when the code changes")


def run(args: argparse.Namespace) -> int:
    """``livewidget serve``: check the target here (errors show at once), then run uvicorn."""
    import uvicorn

    def say(message: str) -> None:
        print(f"livewidget serve: {message}", file=sys.stderr)

    target: str = args.target
    if args.workers < 1:
        say(f"--workers takes a number >= 1, got {args.workers}")
        return 2
    if args.workers > 1 and not args.pubsub:
        say(
            "warning: with several workers and no --pubsub, a broadcast reaches only the "
            "views of the worker it is made in"
        )
    where = source_of(target)
    cells = NotebookCells()
    try:
        view_class = load_target(target, cells)
    except TargetError as error:
        say(str(error))
        return 1
    if where.endswith(".ipynb"):
        say(f"{where}: ran the definitions of cells {cells.ran}")
        for index, why in cells.skipped:
            say(f"{where}: cell {index}: {why}")
    os.environ[ENV_TARGET] = target
    if args.allow_origin:
        os.environ[ENV_ORIGINS] = ",".join(args.allow_origin)
    if args.pubsub:
        os.environ[ENV_PUBSUB] = args.pubsub
        try:
            configure_pubsub(args.pubsub)  # here too: a wrong URL shows before the workers
        except ServeError as error:
            say(str(error))
            return 1
    say(f"serving {view_class.__name__} at http://{args.host}:{args.port}/")
    if args.workers == 1 and not args.reload:  # one process: this one, with the class loaded
        check: bool | list[str] = True
        if args.allow_origin:
            check = False if "*" in args.allow_origin else list(args.allow_origin)
        tune_gc()
        uvicorn.run(
            app({"/": view_class}, check_origin=check),
            host=args.host,
            port=args.port,
            log_level="info",
            **uvicorn_settings(),
        )
        return 0
    # Fresh processes import the app by name: the factory rebuilds it in each.
    reload_dirs = [str(Path(where).resolve().parent)] if where.endswith((".py", ".ipynb")) else None
    watchfiles = importlib.util.find_spec("watchfiles") is not None
    if args.reload and where.endswith(".ipynb") and not watchfiles:
        say(
            "warning: --reload sees changes of .py files only; for the notebook's too, "
            "install watchfiles (pip install 'livewidget[serve]' has it)"
        )
    uvicorn.run(
        "livewidget.serve.cli:make_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers if args.workers > 1 else None,
        reload=args.reload,
        reload_dirs=reload_dirs if args.reload else None,
        reload_includes=["*.py", "*.ipynb"] if args.reload and watchfiles else None,
        log_level="info",
        **uvicorn_settings(),
    )
    return 0

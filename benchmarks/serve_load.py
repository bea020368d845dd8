"""(g) ``livewidget serve`` under load: many browser tabs of a dashboard ticking at 1 Hz.

What runs, on this machine's loopback only, each part in a process of its own:

* **the server**: the sales dashboard of notebooks/dashboard.ipynb (same template; a tick
  assigns three random numbers, without the notebook's 10 ms ``asyncio.sleep`` standing in for
  a query) served by ``livewidget.serve.app`` under uvicorn: one process, or with
  ``SERVE_LOAD_WORKERS=N`` (default 1) uvicorn's supervisor and N worker processes, each
  building the app by a factory (``_worker_app``) as ``livewidget serve --workers N`` does
  (pyview's server too: both get the same cores). uvicorn binds one listening socket in the
  supervisor and hands it to every worker (no ``SO_REUSEPORT``): each worker's loop accepts
  from the one kernel queue, so the kernel's wake-ups and each worker's business decide the
  split, which each size prints (the tabs each worker holds, by ``psutil``);
* **the clients**: one process (or ``SERVE_LOAD_CLIENT_PROCESSES``, each with its share of the
  tabs) holding a WebSocket per simulated tab on ``ws_client.py``, a lean client on
  ``asyncio.Protocol`` (no task, no ``await recv()`` per message: at 5,000 tabs a client
  library's per-message cost is the client being measured), speaking the page's protocol
  (nothing when it opens: the view's first payload is its full render, and the page sends no
  join on a fresh socket (js/src/transport.ts); a heartbeat every 15 s, full and diff
  payloads in);
  they connect 100 at a time, then every tab is left alone while the server ticks;
* **the floors** (``floor-uvicorn``, ``floor-starlette``): no view, a WebSocket accepted and
  held by a bare ASGI endpoint, or through Starlette's ``WebSocket``, each frame read and
  dropped: what any app served by uvicorn with these settings pays per connection before it
  holds anything of its own (memory, threads; they send no ticks); and ``floor-tick``, the
  transport alone ticking: a bare ASGI endpoint that sends each socket a frame the size and
  shape of the dashboard's diff every second from a timer of its own, no view, template, diff
  or thread (the least a tick costs through uvicorn, its WebSocket protocol and the loopback,
  in CPU and latency);
* **the baselines, in the same run**: pyview-web serving the same dashboard (its ibis
  template, ``schedule_info("tick", 1)``; its clients speak Phoenix's channel protocol, with a
  CSRF token minted by pyview's own code from a shared secret); and Voila serving
  notebooks/dashboard.ipynb, where every viewer gets a kernel of its own: its memory per
  viewer, for as many viewers as ``VOILA_VIEWERS``.

Figures, for N connected views:

* **tick latency**: each view's ticks are due at whole seconds after its mount (its ``repeat``
  starts there); each tick's render carries the instant it was due, and the client takes
  ``arrival - due`` (one clock: same machine), ``arrival`` being ``time.time()`` in
  ``data_received`` when the frame's last bytes are read, the due instant found in the frame's
  bytes by a regular expression (the same for pyview's frames). So a tick delayed by a busy
  loop, a long mailbox or a slow send counts, and a skipped tick shows as a delivered share
  under 100%; p50 / p95 / max over a ``WINDOW`` of seconds after every view is connected and
  has settled (the orchestrator gives every client process the same window, in wall-clock
  time);
* **server CPU**: the server's user + system CPU seconds over the window, per second of wall
  time (1.0 = one core); the server is its process and all its descendants (``usage()``:
  with workers, the supervisor, the workers and multiprocessing's resource tracker);
* **memory per view**: (the server's RSS with N views - its RSS before the first one) / N,
  each RSS summed over the same processes (the workers have all started, each says so by a
  file in ``SERVE_LOAD_READY_DIR``, before the first is read);
* the server's thread count, summed the same way (livewidget runs view code on threads:
  ``livewidget/runtime/``), and the client processes' CPU, summed (the clients share the 2
  cores with the server: where they are busy, latency includes their lag);
* the hypervisor's share of the machine's CPU time over the window (``steal`` on Linux, on a
  virtual machine): time when the server and its clients were ready to run and another guest
  of the host ran instead. It counts in the latency, not in the server's CPU.

The server runs uvicorn with ``livewidget serve``'s settings (``uvicorn_settings()`` in
``livewidget/serve/cli.py``), pyview's too. Options, for one measurement: ``SERVE_LOAD_SIZES``
(``100,1000``), ``SERVE_LOAD_KINDS`` (``livewidget,pyview``), ``SERVE_LOAD_UVICORN`` (JSON
overriding uvicorn's settings: ``{"ws": "wsproto"}`` to compare a protocol) and
``SERVE_LOAD_PROFILE`` (a file: the server's loop thread under cProfile, for 25 s from the
first socket).

The livewidget servers run with ``tune_gc()``, as ``livewidget serve`` does
(livewidget/serve/collector.py); ``SERVE_LOAD_GC=python`` leaves them CPython's collector
thresholds, and ``SERVE_LOAD_GC_LOG=1`` has each server process print its collections every
10 s (how many per generation, the longest pause, the objects found unreachable).

More options: ``SERVE_LOAD_WINDOW`` (the seconds measured, 10: the tabs' heartbeats come every
15 s, bunched as the tabs connected, so a window of 30 s or more holds two of their bursts
whatever its start; a 10 s window holds part of one or none, one source of the spread between
runs), ``SERVE_LOAD_CONNECT_SECONDS`` (the bound below, 90), ``SERVE_LOAD_BASELINES=0``
(skip the view-memory and Voila lines) and ``SERVE_LOAD_TRACEMALLOC=1``: the server traces its
allocations, and each size prints where a view's bytes go (tracemalloc's difference between
before the first socket and with N open, per view: by file, by line, and the garbage
collector's objects by type). Tracing slows the server several times: read only the memory
of such a run. Both look inside one server process: with ``SERVE_LOAD_WORKERS`` > 1 the
benchmark refuses them.

The run is bounded: each size connects for at most ``CONNECT_SECONDS`` (a size that cannot
connect all its views in that time is printed as not reached, with how many did and why the
others did not), then measures for ``WINDOW``. A size that took over 10 s to connect (or was
not reached) prints how the connecting went: the tabs opened in each 10 s, and the server's and
the clients' CPU meanwhile (the server's accept and handshake work competes with the ticks of
the tabs already open).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import re
import secrets
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

import livewidget as lw

from .dashboard import IBIS_TEMPLATE, TEMPLATE

SIZES = (100, 1_000, 5_000)
PYVIEW_SIZES = (100, 1_000, 5_000)
VOILA_VIEWERS = 5
WINDOW = float(os.environ.get("SERVE_LOAD_WINDOW", "10"))  # seconds measured
SETTLE = 3.0  # seconds after the last view connected, before the window
CONNECT_SECONDS = float(os.environ.get("SERVE_LOAD_CONNECT_SECONDS", "90"))
CONNECT_AT_ONCE = 100
REPO = Path(__file__).resolve().parents[1]
KINDS = [k for k in os.environ.get("SERVE_LOAD_KINDS", "").split(",") if k] or [
    "livewidget",
    "livewidget-inline",
    "pyview",
    "floor-uvicorn",
    "floor-starlette",
    "floor-tick",
]
# The floors: no view at all, a WebSocket accepted and held (memory and threads only; they
# send no ticks). What any app served by uvicorn with these settings pays per connection.
# (floor-tick ticks: its row has latencies and ticks like a view's.)
FLOORS = ("floor-uvicorn", "floor-starlette")

# The instant a tick was due, as the template writes it, found in a frame's bytes.
DUE_IN_FRAME = re.compile(rb'"(\d{10}\.\d{6})"')
CLIENT_PROCESSES = int(os.environ.get("SERVE_LOAD_CLIENT_PROCESSES", "1"))
TRACEMALLOC = os.environ.get("SERVE_LOAD_TRACEMALLOC", "") not in ("", "0")
GC_LOG = os.environ.get("SERVE_LOAD_GC_LOG", "") not in ("", "0")
TEMPLATE_WITH_DUE = TEMPLATE + '<i id="due" hidden>{due:.6f}</i>\n'
IBIS_WITH_DUE = IBIS_TEMPLATE + '<i id="due" hidden>{{ due }}</i>\n'


# -- the served views ----------------------------------------------------------------------------


# How early a timer may fire: uvloop rounds its timers to the millisecond and asyncio fires
# those due within its clock's resolution, so a tick handled at once can see the clock a
# hair before its whole second. Without this margin it would be stamped as due a second
# earlier and count as 1,000 ms late (the faster the server, the more often).
EARLY = 0.02


def _tick_values(t0: float) -> dict[str, Any]:
    now = time.time()
    return {
        "new_orders": random.randint(0, 1000),
        "sales_amount": random.uniform(0, 100_000),
        "rating": random.uniform(1, 5),
        # the whole second after mount this tick was due at
        "due": t0 + math.floor(now - t0 + EARLY),
    }


class LoadDashboard(lw.LiveView):
    """notebooks/dashboard.ipynb's Dashboard, with the instant each tick was due."""

    async def mount(self, socket: lw.Socket) -> None:
        # async, so that the repeat starts at once, on the loop, at t0: a plain mount runs on
        # the view's thread and its repeat starts when it returns, a moment after any t0 it
        # could take, which would count as latency in every tick.
        self.t0 = time.time()
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 1000)
        socket.assign(new_orders=0, sales_amount=0.0, rating=0.0, due=0.0)

    async def handle_info(self, info: Any, socket: lw.Socket) -> None:
        socket.assign(_tick_values(self.t0))

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(TEMPLATE_WITH_DUE, **ctx)


def _pyview_app() -> Any:
    from pyview import LiveView, PyView
    from pyview.template.live_template import LiveRender, LiveTemplate
    from pyview.vendor.ibis import Template

    template = LiveTemplate(Template(IBIS_WITH_DUE))

    def context(values: dict[str, Any]) -> dict[str, Any]:
        return {
            "new_orders": values["new_orders"],
            "sales_amount": f"{values['sales_amount']:,.2f}",
            "rating": f"{values['rating']:.1f}",
            "due": f"{values['due']:.6f}",
        }

    class PyviewDashboard(LiveView):  # type: ignore[type-arg]  # pyview's generic context
        async def mount(self, socket: Any, session: Any) -> None:
            self.t0 = time.time()
            socket.context = context(
                {"new_orders": 0, "sales_amount": 0.0, "rating": 0.0, "due": 0.0}
            )
            if socket.connected:
                socket.schedule_info("tick", 1)

        async def handle_info(self, event: Any, socket: Any) -> None:
            socket.context = context(_tick_values(self.t0))

        async def render(self, assigns: Any, meta: Any) -> Any:
            return LiveRender(template, assigns, meta)

    app = PyView()
    app.add_live_view("/", PyviewDashboard)
    return app


def _run_view_code_on_the_loop() -> None:
    """For the ``livewidget-inline`` row only, in its own server process: run each view's
    plain functions on the event loop instead of a thread per view (``ViewThread``), to show
    what that isolation costs under load. Not a mode of livewidget: a blocking handler would
    then stop every view."""
    from livewidget.runtime import loop as isolation

    def call(self: Any, fn: Any, *args: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = self._loop.create_future()
        try:
            outcome: tuple[Any, BaseException | None] = (fn(*args), None)
        except BaseException as error:
            outcome = (None, error)
        deferred, self._deferred = self._deferred, []
        isolation._settle(future, outcome, deferred)
        return future

    isolation.ViewThread.call = call  # type: ignore[method-assign]  # the measurement's patch


class _HeldSocket:
    """``floor-uvicorn``: the WebSocket accepted and held on uvicorn's raw ASGI calls (no
    Starlette ``WebSocket``), each frame from the page read and dropped, until it closes."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass


async def _held_by_starlette(websocket: Any) -> None:
    """``floor-starlette``: the same through Starlette's ``WebSocket`` (as livewidget's
    session holds its socket)."""
    from starlette.websockets import WebSocketDisconnect

    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


_WAITING_SENDS: set[asyncio.Task[Any]] = set()  # floor-tick's sends that had to wait


class _TickingSocket:
    """``floor-tick``: the transport alone, ticking. Each socket, on uvicorn's raw ASGI calls,
    sends at every whole second from when it opened a frame the size and shape of the served
    dashboard's diff (its four values, the due instant among them) from a timer of its own
    (uvloop's: no coalescing), through the ASGI ``send`` run at once on the timer's turn (as
    livewidget's eager send): no view, no template, no diff, no thread. The least a tick costs
    through uvicorn, its WebSocket protocol and the kernel's loopback, and the latency it adds."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from livewidget.serve import eager

        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        loop = asyncio.get_running_loop()
        t0, t0_loop = time.time(), loop.time()
        seq = itertools.count(1)
        timer: asyncio.TimerHandle | None = None

        def tick(second: int) -> None:
            nonlocal timer
            frame = json.dumps(
                {
                    "type": "diff",
                    "seq": next(seq),
                    "rendered": {
                        "0": str(random.randint(0, 1000)),
                        "1": f"{random.uniform(0, 100_000):,.2f}",
                        "2": f"{random.uniform(1, 5):.1f}",
                        "3": f"{t0 + second:.6f}",
                    },
                },
                separators=(",", ":"),
            )
            with contextlib.suppress(Exception):  # the page went: the reader ends
                rest = eager.start(send({"type": "websocket.send", "text": frame}))
                if rest is not None:  # the page does not read: finish the send in a task
                    task = loop.create_task(rest)
                    _WAITING_SENDS.add(task)
                    task.add_done_callback(_WAITING_SENDS.discard)
            timer = loop.call_at(t0_loop + second + 1, tick, second + 1)

        timer = loop.call_at(t0_loop + 1, tick, 1)
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            timer.cancel()


def _floor_app(kind: str) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute

    endpoint: Any = {"floor-uvicorn": _HeldSocket(), "floor-tick": _TickingSocket()}.get(
        kind, _held_by_starlette
    )
    return Starlette(routes=[WebSocketRoute("/", endpoint)])


def _log_collections() -> None:
    """``SERVE_LOAD_GC_LOG=1``: every 10 s the server (each worker) prints to stderr its
    garbage collections by generation (how many, the longest pause, their sum), the objects
    they found unreachable and ``gc.get_count()``."""
    import gc

    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    began, found = [0.0], [0]

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - began[0])
            found[0] += info["collected"]

    def report() -> None:
        while True:
            time.sleep(10)
            line = " | ".join(
                f"gen{g}: {len(p)} x, longest {max(p, default=0) * 1000:.0f} ms, "
                f"sum {sum(p) * 1000:.0f} ms"
                for g, p in pauses.items()
            )
            print(
                f"  [gc, pid {os.getpid()}, last 10 s] {line} | unreachable {found[0]:,}, "
                f"count {gc.get_count()}",
                file=sys.stderr,
                flush=True,
            )
            found[0] = 0
            for p in pauses.values():
                p.clear()

    gc.callbacks.append(on_collection)
    threading.Thread(target=report, daemon=True).start()


def _application(kind: str) -> Any:
    """The ASGI app of ``kind``, set up in this process (the server's, or each worker's)."""
    import logging

    logging.getLogger("livewidget").setLevel(logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # pyview's skipped-tick lines
    if kind == "livewidget-inline":
        _run_view_code_on_the_loop()
    if GC_LOG:
        _log_collections()
    if kind.startswith("livewidget"):
        from livewidget.serve import app, tune_gc

        if os.environ.get("SERVE_LOAD_GC", "") != "python":
            tune_gc()  # as `livewidget serve` does in each worker
        return app({"/": LoadDashboard})
    if kind.startswith("floor-"):
        return _floor_app(kind)
    return _pyview_app()


def workers_from(environ: Mapping[str, str]) -> int:
    """``SERVE_LOAD_WORKERS``: uvicorn worker processes per server under test (default 1)."""
    value = environ.get("SERVE_LOAD_WORKERS", "1").strip() or "1"
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if workers < 1:
        raise ValueError(
            f"SERVE_LOAD_WORKERS takes a whole number >= 1 (uvicorn worker processes per "
            f"server), got {value!r}: set it to 2 for two workers, or unset it for one process"
        )
    return workers


def _worker_app() -> Any:
    """uvicorn's app factory in each worker process (``SERVE_LOAD_WORKERS`` > 1): the app of
    ``SERVE_LOAD_SERVE_KIND``, which writes a file named by its pid into
    ``SERVE_LOAD_READY_DIR`` once its startup is complete, so that the orchestrator measures
    the server's memory before the first socket only when every worker is up."""
    application = _application(os.environ["SERVE_LOAD_SERVE_KIND"])
    ready = Path(os.environ["SERVE_LOAD_READY_DIR"])
    # Both apps are Starlette's (PyView is a Starlette): wrapping the router's lifespan costs
    # nothing per connection, where an ASGI wrapper would hold a coroutine frame per socket.
    inner = application.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            (ready / str(os.getpid())).touch()
            yield state

    application.router.lifespan_context = lifespan
    return application


def _serve(kind: str, port: int, workers: int = 1) -> None:
    """The server process: ``python -m benchmarks.serve_load serve KIND PORT [WORKERS]``.

    One worker: this process serves (uvicorn given the app object, as ``livewidget serve``
    does with one worker). More: this process is uvicorn's supervisor, and ``workers`` fresh
    processes import the app by name through a factory (``_worker_app``), as ``livewidget
    serve --workers N`` does, all accepting on the one listening socket uvicorn binds here."""
    import uvicorn

    from livewidget.serve.cli import uvicorn_settings

    # livewidget serve's own settings, for pyview too (one connection layer for both); a
    # measurement may override them: SERVE_LOAD_UVICORN='{"ws": "wsproto"}'.
    settings = {**uvicorn_settings(), **json.loads(os.environ.get("SERVE_LOAD_UVICORN", "{}"))}
    if workers > 1:
        os.environ["SERVE_LOAD_SERVE_KIND"] = kind  # the spawned workers inherit it
        uvicorn.run(
            "benchmarks.serve_load:_worker_app",
            factory=True,
            workers=workers,
            host="127.0.0.1",
            port=port,
            log_level="error",
            backlog=8192,
            **settings,
        )
        return
    application = _application(kind)
    snapshot = os.environ.get("SERVE_LOAD_SNAPSHOT")
    if snapshot:
        _install_snapshots(snapshot)
    profile = os.environ.get("SERVE_LOAD_PROFILE")
    if profile:  # a file: cProfile of the loop's thread, written 25 s after the first socket
        application = _profiled(application, profile, 25.0)
    uvicorn.run(
        application, host="127.0.0.1", port=port, log_level="error", backlog=8192, **settings
    )


def _profiled(application: Any, path: str, seconds: float) -> Any:
    import cProfile

    profiler = cProfile.Profile()
    started = False

    def dump() -> None:
        profiler.disable()
        profiler.dump_stats(path)

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        nonlocal started
        if not started and scope["type"] == "websocket":
            started = True
            profiler.enable()
            asyncio.get_running_loop().call_later(seconds, dump)
        await application(scope, receive, send)

    return wrapped


# -- where a view's bytes go (SERVE_LOAD_TRACEMALLOC=1) -------------------------------------------


def _type_census() -> tuple[dict[str, int], dict[str, int]]:
    """Objects the garbage collector tracks, by type: counts and ``sys.getsizeof`` bytes."""
    import collections
    import gc

    counts: collections.Counter[str] = collections.Counter()
    sizes: collections.Counter[str] = collections.Counter()
    for thing in gc.get_objects():
        kind = type(thing)
        name = f"{kind.__module__}.{kind.__qualname__}"
        counts[name] += 1
        sizes[name] += sys.getsizeof(thing)
    return dict(counts), dict(sizes)


def _install_snapshots(path: str) -> None:
    """In the server: tracemalloc from now on; at each SIGUSR1, first a baseline, then the
    difference from it, written to ``path.baseline`` and ``path.views`` (JSON)."""
    import gc
    import tracemalloc

    tracemalloc.start()
    state: dict[str, Any] = {}

    def write(label: str, data: Any) -> None:
        Path(f"{path}.tmp").write_text(json.dumps(data))
        os.replace(f"{path}.tmp", f"{path}.{label}")

    def on_signal(signum: int, frame: Any) -> None:
        gc.collect()
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        census = _type_census()
        if "snap" not in state:
            state["snap"], state["census"] = snap, census
            write("baseline", {})
            return
        base, (counts0, sizes0) = state["snap"], state["census"]
        counts, sizes = census

        def rows(key: str, top: int) -> list[tuple[str, int, int]]:
            stats = snap.compare_to(base, key)
            out = []
            for stat in sorted(stats, key=lambda s: -s.size_diff)[:top]:
                frame0 = stat.traceback[0]
                name = (
                    frame0.filename if key == "filename" else f"{frame0.filename}:{frame0.lineno}"
                )
                out.append((_short(name), stat.size_diff, stat.count_diff))
            return out

        types = sorted(sizes, key=lambda t: -(sizes[t] - sizes0.get(t, 0)))[:25]
        write(
            "views",
            {
                "traced": sum(s.size_diff for s in snap.compare_to(base, "filename")),
                "by_file": rows("filename", 25),
                "by_line": rows("lineno", 30),
                "by_type": [
                    (t, sizes[t] - sizes0.get(t, 0), counts[t] - counts0.get(t, 0)) for t in types
                ],
            },
        )

    signal.signal(signal.SIGUSR1, on_signal)


def _short(filename: str) -> str:
    for marker in ("site-packages/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.replace(str(REPO) + "/", "")


def _snapshot(server: subprocess.Popen[Any], path: Path, label: str) -> dict[str, Any]:
    """Ask the server for its tracemalloc snapshot ``label``; what it wrote."""
    target = Path(f"{path}.{label}")
    os.kill(server.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 180
    while not target.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server wrote no {target.name} in 180 s")
        time.sleep(0.2)
    return dict(json.loads(target.read_text()))


def _breakdown(result: dict[str, Any]) -> str:
    """The tracemalloc breakdown of one size, per view."""
    data, views = result["breakdown"], max(1, result["views"])
    rss = (result["rss"] - result["rss0"]) / views
    lines = [
        f"  where a view's bytes go ({result['kind']}, {views:,} views; tracemalloc, per view): "
        f"{data['traced'] / views:,.0f} B of Python allocations, of {rss:,.0f} B of RSS"
    ]
    for title, key in (("by file", "by_file"), ("by line", "by_line"), ("by type", "by_type")):
        lines.append(f"    {title} (B per view, objects per view):")
        for name, size, number in data[key]:
            if size / views >= 8:
                lines.append(f"      {size / views:8,.0f} {number / views:7.2f}  {name}")
    return "\n".join(lines)


# -- the simulated pages -------------------------------------------------------------------------


def _pyview_join(port: int) -> tuple[str, str]:
    """A Phoenix channel join for pyview (path, first message), with a CSRF token minted by
    pyview's own code from the secret the server shares."""
    from pyview.csrf import generate_csrf_token

    topic = f"lv:phx-{secrets.token_hex(8)}"
    join = {
        "url": f"http://127.0.0.1:{port}/",
        "params": {"_csrf_token": generate_csrf_token(topic)},
    }
    return "/live/websocket?vsn=2.0.0", json.dumps(["1", "1", topic, "phx_join", join])


async def _clients(kind: str, port: int, count: int, commands: asyncio.Queue[str]) -> None:
    """One client process: ``count`` tabs on lean WebSockets (``ws_client``), then what the
    orchestrator asks on stdin: ``window T0 T1`` (report the ticks that arrive between the two
    wall-clock instants), ``stop``."""
    from . import ws_client

    window = [math.inf, math.inf]
    latencies: list[float] = []
    sockets: list[ws_client.WebSocket] = []
    failures: list[str] = []
    ready = asyncio.Semaphore(CONNECT_AT_ONCE)

    def on_text(data: bytes, arrived: float) -> None:
        if window[0] <= arrived <= window[1]:
            found = DUE_IN_FRAME.search(data)
            if found is not None:
                due = float(found[1])
                if due > 0:
                    latencies.append(arrived - due)

    async def page() -> None:
        async with ready:
            try:
                # A served page sends no join on a fresh socket (its view's first payload is
                # the full render); a Phoenix channel must be joined.
                path, join = ("/", None) if kind != "pyview" else _pyview_join(port)
                ws = await ws_client.connect("127.0.0.1", port, path, on_text)
                if join is not None:
                    ws.send(join)
                sockets.append(ws)
                opened.append(time.monotonic() - started)
            except (OSError, asyncio.TimeoutError) as error:
                failures.append(repr(error))

    async def heartbeats() -> None:  # the page's: every 15 s, each tab from when it opened
        beat = (
            json.dumps([None, "2", "phoenix", "heartbeat", {}])
            if kind == "pyview"
            else '{"type":"heartbeat"}'
        )
        done = 0
        while True:
            await asyncio.sleep(15.0 / 30)
            for ws in sockets[done:]:
                ws.beat = time.monotonic() + 15.0
            done = len(sockets)
            now = time.monotonic()
            for ws in sockets:
                if ws.beat <= now:
                    ws.beat += 15.0
                    ws.send(beat)

    beating = asyncio.create_task(heartbeats())
    process = psutil.Process()
    opened: list[float] = []  # when each tab's handshake was done, from the start
    started, cpu_started = time.monotonic(), sum(process.cpu_times()[:2])
    tasks = [asyncio.create_task(page()) for _ in range(count)]
    _, late = await asyncio.wait(tasks, timeout=CONNECT_SECONDS)
    for task in late:
        task.cancel()
    seconds = time.monotonic() - started
    _report(
        {
            "event": "connected",
            "views": len(sockets),
            "failed": len(failures) + len(late),
            "errors": sorted(set(failures))[:3],
            "seconds": seconds,
            # how the connecting went: tabs opened in each 10 s, this process's CPU meanwhile
            "per_10s": per_interval(opened, 10.0),
            "cpu": (sum(process.cpu_times()[:2]) - cpu_started) / max(seconds, 1e-3),
        }
    )
    while (command := await commands.get()).startswith("window"):
        window[0], window[1] = (float(x) for x in command.split()[1:3])
        await asyncio.sleep(max(0.0, window[0] - time.time()))
        cpu0 = sum(process.cpu_times()[:2])
        await asyncio.sleep(max(0.0, window[1] + 1.0 - time.time()))  # the window's last ticks
        cpu = sum(process.cpu_times()[:2]) - cpu0
        closed = sum(1 for ws in sockets if ws.closed.done())
        _report(
            {
                "event": "done",
                "latencies": latencies,
                "client_cpu": cpu / (window[1] + 1.0 - window[0]),
                "closed": closed,
            }
        )
        latencies = []
    beating.cancel()
    for ws in sockets:
        ws.close()
    await asyncio.wait([asyncio.ensure_future(ws.closed) for ws in sockets] or [beating], timeout=5)


def per_interval(instants: list[float], interval: float) -> list[int]:
    """How many of ``instants`` (seconds from a start) fall in each ``interval`` from it."""
    counts: list[int] = []
    for instant in instants:
        slot = int(instant // interval)
        counts.extend([0] * (slot + 1 - len(counts)))
        counts[slot] += 1
    return counts


def _report(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def _client_main(kind: str, port: int, count: int) -> None:
    """A client process: ``python -m benchmarks.serve_load clients KIND PORT N``."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        commands: asyncio.Queue[str] = asyncio.Queue()

        def read() -> None:  # stdin, on a thread: the orchestrator's commands
            for line in sys.stdin:
                loop.call_soon_threadsafe(commands.put_nowait, line.strip())
            loop.call_soon_threadsafe(commands.put_nowait, "stop")

        threading.Thread(target=read, daemon=True).start()
        await _clients(kind, port, count, commands)

    asyncio.run(main())


# -- orchestration -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[Any], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(15)


def _env() -> dict[str, str]:
    # One pyview secret for server and clients, so that the clients can mint join tokens.
    return {**os.environ, "PYTHONPATH": str(REPO), "PYVIEW_SECRET": "serve-load-benchmark"}


def _read_event(process: subprocess.Popen[str], deadline: float) -> dict[str, Any]:
    """The next event a client process reports, by ``deadline`` (``time.monotonic()``)."""
    assert process.stdout is not None
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([process.stdout], [], [], left)[0]:
            raise TimeoutError("a client process did not report in time")
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"a client process ended (exit code {process.poll()})")
        if line.startswith("{"):
            return dict(json.loads(line))


@dataclass(frozen=True)
class Usage:
    """One reading of a server: each of its processes' CPU seconds (user + system), RSS
    (bytes) and threads, by pid. The server is its process and all its descendants
    (``psutil``'s ``children(recursive=True)``): with ``SERVE_LOAD_WORKERS`` > 1, uvicorn's
    supervisor and its workers, with one the serving process alone."""

    cpu: dict[int, float]
    rss: dict[int, int]
    threads: dict[int, int]

    @property
    def total_rss(self) -> int:
        return sum(self.rss.values())

    @property
    def total_threads(self) -> int:
        return sum(self.threads.values())

    def cpu_since(self, before: Usage) -> dict[int, float]:
        """CPU seconds each process used since ``before`` (all of it for a process that
        was not there then: a worker uvicorn restarted)."""
        return {pid: cpu - before.cpu.get(pid, 0.0) for pid, cpu in self.cpu.items()}


def server_processes(pid: int) -> list[psutil.Process]:
    """The process ``pid`` and all its descendants."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def usage(pid: int) -> Usage:
    """Read CPU, RSS and threads of ``pid`` and all its descendants (a descendant that ends
    while it is read is left out)."""
    cpu: dict[int, float] = {}
    rss: dict[int, int] = {}
    threads: dict[int, int] = {}
    for process in server_processes(pid):
        try:
            with process.oneshot():
                times = process.cpu_times()
                cpu[process.pid] = times.user + times.system
                rss[process.pid] = process.memory_info().rss
                threads[process.pid] = process.num_threads()
        except psutil.NoSuchProcess:
            if process.pid == pid:
                raise
    return Usage(cpu, rss, threads)


def stolen_share(before: Any, after: Any) -> float | None:
    """The share of the machine's CPU time between two ``psutil.cpu_times()`` readings that
    the hypervisor gave to other guests (``steal``): time the server, its clients and its
    kernel were ready to run and did not, which no figure of the processes shows. ``None``
    where the system does not count it (only Linux does)."""
    if not hasattr(before, "steal"):
        return None
    # On Linux ``user`` and ``nice`` already hold the time spent running guests.
    guests = ("guest", "guest_nice")
    total = sum(
        getattr(after, name) - getattr(before, name) for name in after._fields if name not in guests
    )
    return (after.steal - before.steal) / total if total > 0 else 0.0


def connections_by_process(pid: int, port: int) -> dict[int, int]:
    """How many established TCP connections to ``port`` each process of the server holds:
    how the kernel spread the tabs over the workers."""
    counts = {}
    for process in server_processes(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            counts[process.pid] = sum(
                1
                for c in process.net_connections(kind="tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
            )
    return counts


def _wait_workers(ready: Path, workers: int, server: subprocess.Popen[Any]) -> None:
    """Until each of ``workers`` has written its pid into ``ready`` (startup complete)."""
    deadline = time.monotonic() + 120
    while len(list(ready.iterdir())) < workers:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{len(list(ready.iterdir()))} of {workers} uvicorn workers started in 120 s"
            )
        time.sleep(0.1)


def _run_size(kind: str, count: int, workers: int = 1) -> dict[str, Any]:
    port = _free_port()
    env = _env()
    snapshot = None
    if TRACEMALLOC:
        snapshot = Path(tempfile.mkdtemp(prefix="lw-serve-mem-")) / "breakdown.json"
        env["SERVE_LOAD_SNAPSHOT"] = str(snapshot)
    ready = Path(tempfile.mkdtemp(prefix="lw-serve-ready-"))
    env["SERVE_LOAD_READY_DIR"] = str(ready)
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.serve_load", "serve", kind, str(port), str(workers)],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    clients: list[subprocess.Popen[str]] = []
    try:
        if workers > 1:  # uvicorn's supervisor listens before its workers have started
            _wait_workers(ready, workers, server)
        _wait_port(port, server)
        time.sleep(1.0)
        before = usage(server.pid)
        rss0 = before.total_rss
        if snapshot is not None:
            _snapshot(server, snapshot, "baseline")
        shares = [
            count // CLIENT_PROCESSES + (i < count % CLIENT_PROCESSES)
            for i in range(CLIENT_PROCESSES)
        ]
        for share in (s for s in shares if s):
            command = ["clients", kind, str(port), str(share)]
            clients.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.serve_load", *command],
                    cwd=REPO,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            )
        result: dict[str, Any] = {"kind": kind, "asked": count, "clients": len(clients)}
        bound = time.monotonic() + CONNECT_SECONDS + 30
        connected = [_read_event(c, bound) for c in clients]
        # the server's CPU while the tabs connected (it was idle before), per second of that
        result["connect_server_cpu"] = sum(usage(server.pid).cpu_since(before).values()) / max(
            e["seconds"] for e in connected
        )
        result["connect_client_cpu"] = sum(e["cpu"] for e in connected)
        result["per_10s"] = [
            sum(share)
            for share in itertools.zip_longest(*(e["per_10s"] for e in connected), fillvalue=0)
        ]
        result["views"] = sum(e["views"] for e in connected)
        result["failed"] = sum(e["failed"] for e in connected)
        result["errors"] = sorted({x for e in connected for x in e["errors"]})[:3]
        result["connect_seconds"] = max(e["seconds"] for e in connected)
        time.sleep(SETTLE)
        t0 = time.time() + 0.2
        t1 = t0 + WINDOW
        for c in clients:
            assert c.stdin is not None
            c.stdin.write(f"window {t0:.6f} {t1:.6f}\n")
            c.stdin.flush()
        time.sleep(max(0.0, t0 - time.time()))
        cpu0, started, machine0 = usage(server.pid), time.monotonic(), psutil.cpu_times()
        done = [_read_event(c, time.monotonic() + WINDOW + 30) for c in clients]
        # Read while every view is still open.
        end, elapsed = usage(server.pid), time.monotonic() - started
        result["stolen"] = stolen_share(machine0, psutil.cpu_times())
        spent = end.cpu_since(cpu0)
        result["server_cpu"] = sum(spent.values()) / elapsed
        result["rss"] = end.total_rss
        result["threads"] = end.total_threads
        result["workers"] = workers
        if workers > 1:
            views = connections_by_process(server.pid, port)
            # the workers name themselves in the ready directory; the rest is uvicorn's
            # supervisor and multiprocessing's resource tracker (spawn starts one)
            ours = sorted(int(p.name) for p in ready.iterdir())
            result["by_worker"] = [
                (views.get(pid, 0), spent.get(pid, 0.0) / elapsed) for pid in ours
            ]
            result["supervisor_cpu"] = (
                sum(cpu for pid, cpu in spent.items() if pid not in ours) / elapsed
            )
            result["replaced"] = sorted(set(before.cpu) ^ set(end.cpu))
        result["latencies"] = sorted(x for e in done for x in e["latencies"])
        result["client_cpu"] = sum(e["client_cpu"] for e in done)
        result["closed"] = sum(e["closed"] for e in done)
        result["rss0"] = rss0
        if snapshot is not None:
            result["breakdown"] = _snapshot(server, snapshot, "views")
        return result
    finally:
        for c in clients:
            with contextlib.suppress(OSError):
                assert c.stdin is not None
                c.stdin.close()
        for c in clients:
            try:
                c.wait(10)
            except subprocess.TimeoutExpired:
                _stop(c)
        _stop(server)
        shutil.rmtree(ready, ignore_errors=True)


def _voila_memory(viewers: int) -> str:
    """Voila serving notebooks/dashboard.ipynb: RSS of Voila and its kernels per viewer."""
    voila = shutil.which("voila", path=str(Path(sys.executable).parent))
    if voila is None:
        return "  Voila: not installed, skipped"
    import urllib.request

    with tempfile.TemporaryDirectory(prefix="lw-voila-bench-") as tmp:
        shutil.copy2(REPO / "notebooks" / "dashboard.ipynb", Path(tmp) / "dashboard.ipynb")
        port = _free_port()
        env = {**_env(), "JUPYTER_PLATFORM_DIRS": "1"}
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        server = subprocess.Popen(
            [voila, "dashboard.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_port(port, server)
            root = psutil.Process(server.pid)

            def total() -> tuple[int, int]:
                kids = root.children(recursive=True)
                return root.memory_info().rss + sum(k.memory_info().rss for k in kids), len(kids)

            base, _ = total()
            started = time.monotonic()
            for _ in range(viewers):  # each GET runs the notebook in a kernel of its own
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as r:
                    r.read()
            seconds = time.monotonic() - started
            time.sleep(2.0)
            after, kernels = total()
        finally:
            _stop(server)
    per = (after - base) / viewers
    return (
        f"  Voila: {viewers} viewers, {kernels} kernel processes, "
        f"{per / 1e6:,.1f} MB per viewer ({seconds / viewers:.1f} s per page load)"
    )


def _view_memory(count: int = 1_000) -> str:
    """What a view costs without its socket: ``count`` connected views of the load dashboard
    on one loop, each sending to a list (Python allocations by tracemalloc; RSS by psutil,
    which also counts each view's thread)."""
    import gc
    import tracemalloc

    from livewidget.runtime import Pacer, ViewRuntime

    loop = asyncio.new_event_loop()
    pacer = Pacer(max_per_second=1e6)
    gc.collect()
    rss0 = psutil.Process().memory_info().rss
    tracemalloc.start()
    runtimes = []
    for _ in range(count):
        sent: list[dict[str, Any]] = []
        runtime = ViewRuntime(LoadDashboard(), send=sent.append, loop=loop, pacer=pacer)
        runtime.start()
        runtimes.append(runtime)
    loop.run_until_complete(asyncio.sleep(1.5))  # mounted, rendered, sent, one tick
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rss = psutil.Process().memory_info().rss - rss0
    threads = len([t for t in __import__("threading").enumerate() if "livewidget-view" in t.name])
    for runtime in runtimes:
        runtime.close()
    loop.run_until_complete(asyncio.sleep(0.1))
    loop.close()
    return (
        f"  a livewidget view without its socket ({count:,} on one loop): "
        f"{traced / count / 1000:,.1f} KB of Python objects, {rss / count / 1000:,.1f} KB RSS "
        f"with its thread ({threads:,} view threads)"
    )


def _line(result: dict[str, Any]) -> str:
    views = result.get("views", 0)
    lat = result.get("latencies", [])
    expected = views * WINDOW
    if lat:
        p50 = statistics.median(lat) * 1000
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000
        worst = lat[-1] * 1000
        latency = f"{p50:8.1f}{p95:8.1f}{worst:9.1f}"
    else:
        latency = f"{'-':>8}{'-':>8}{'-':>9}"
    per_view = (result["rss"] - result["rss0"]) / views / 1000 if views else math.nan
    delivered = len(lat) / expected * 100 if expected else 0.0
    ticks = f"{'-':>10}" if result["kind"] in FLOORS else f"{delivered:>9.0f}%"
    line = (
        f"  {result['kind']:<18}{views:>6,}/{result['asked']:<6,}{latency}"
        f"{ticks}{result.get('server_cpu', math.nan):>8.2f}"
        f"{per_view:>10.1f}{result.get('threads', 0):>8,}{result.get('client_cpu', math.nan):>8.2f}"
        f"{result.get('connect_seconds', math.nan):>8.1f}"
    )
    if views < result["asked"]:
        line += (
            f"\n    ^ {result['asked']:,} views NOT reached: {views:,} connected within "
            f"{CONNECT_SECONDS:.0f} s, {result.get('failed', 0):,} failed or timed out"
            + (f" ({'; '.join(result['errors'])})" if result.get("errors") else "")
        )
    if views < result["asked"] or result.get("connect_seconds", 0.0) > 10:
        line += (
            "\n    ^ connecting: "
            + (" / ".join(f"{n:,}" for n in result.get("per_10s", [])) or "no")
            + f" tabs per 10 s; meanwhile the server used "
            f"{result.get('connect_server_cpu', math.nan):.2f} cores, the clients "
            f"{result.get('connect_client_cpu', math.nan):.2f}"
        )
    if result.get("closed"):
        line += f"\n    ^ the server closed {result['closed']:,} sockets by the window's end"
    if result.get("by_worker"):
        total = max(1, sum(v for v, _ in result["by_worker"]))
        line += (
            f"\n    ^ {len(result['by_worker'])} worker processes on one shared listening "
            f"socket: "
            + " | ".join(
                f"{v:,} views ({v / total:.0%}) {cpu:.2f} cores" for v, cpu in result["by_worker"]
            )
            + f"; supervisor and resource tracker {result['supervisor_cpu']:.2f} cores"
        )
    if result.get("stolen") is not None:
        line += (
            f"\n    ^ the hypervisor took {result['stolen']:.1%} of the machine's CPU time "
            "over the window (steal)"
        )
    if result.get("replaced"):
        line += (
            f"\n    ^ server processes came or went during the run (uvicorn replaces a worker "
            f"that misses its health check): pids {result['replaced']}"
        )
    return line


def main() -> None:
    try:
        workers = workers_from(os.environ)
    except ValueError as error:
        print(f"\n(g) serve_load: {error}")
        return
    if workers > 1 and (TRACEMALLOC or os.environ.get("SERVE_LOAD_PROFILE")):
        print(
            "\n(g) serve_load: SERVE_LOAD_TRACEMALLOC and SERVE_LOAD_PROFILE look inside one "
            f"server process; got SERVE_LOAD_WORKERS={workers}: run them with one worker"
        )
        return
    print(
        f"\n(g) livewidget serve under load: a dashboard ticking at 1 Hz, N simulated tabs over "
        f"loopback WebSockets; {WINDOW:.0f} s window; {workers} uvicorn worker "
        f"process{'es' if workers > 1 else ''} per server; {CONNECT_SECONDS:.0f} s to connect "
        "each size"
    )
    print(
        f"  {'server':<18}{'views':>13}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>9}"
        f"{'ticks':>10}{'CPU':>8}{'KB/view':>10}{'threads':>8}{'client':>8}{'conn s':>8}"
    )
    have_pyview = True
    try:
        import pyview  # noqa: F401  # only whether it is installed
    except ImportError:
        have_pyview = False
    sizes = [int(s) for s in os.environ.get("SERVE_LOAD_SIZES", "").split(",") if s] or SIZES
    for count in sizes:
        for kind in KINDS:
            if kind == "pyview" and (not have_pyview or count not in PYVIEW_SIZES):
                continue
            try:
                result = _run_size(kind, count, workers)
                print(_line(result), flush=True)
                if "breakdown" in result:
                    print(_breakdown(result), flush=True)
            except Exception as error:
                print(f"  {kind:<18}{count:>13,}: failed: {error!r}", flush=True)
    if not have_pyview:
        print("  pyview-web: not installed, skipped (pip install -e '.[bench]')")
    if os.environ.get("SERVE_LOAD_BASELINES", "1") != "0":
        print(_view_memory(), flush=True)
        print(_voila_memory(VOILA_VIEWERS), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        _serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    elif len(sys.argv) > 1 and sys.argv[1] == "clients":
        _client_main(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()

"""The web door: each browser tab gets a view of its own over a WebSocket.

``app({"/": Dashboard})`` is a Starlette application with, for each path,

* ``GET path``: a small HTML shell (the view's hooks module and settings as JSON, a status line,
  the element the view mounts in) that loads the front-end bundle ``page.js``;
* a WebSocket at the same path: the page opens it with its own query string; the server makes
  a view (``ViewClass()``, then ``view.params`` = the query parameters, all ``str``), runs it on a
  ``ViewRuntime`` on the server's event loop (``socket.connected`` is true) and speaks the
  widget's protocol over it: ``{"type": "join"}`` and events in (through ``decode_message`` and
  the runtime's page-flood cap, as the comm's are), full / diff / settled / error / push_event
  out, as JSON text frames;
* ``GET /_livewidget/page.js`` and ``/_livewidget/widget.css``: the bundle, read once from
  ``livewidget/static``. Those two names are all the file system the app serves.

The view is bound to its WebSocket: no message names a view, so a tab cannot reach another
tab's view. When the socket closes the view closes (timers, tasks, subscriptions, thread); a
page that reconnects gets a new view and its full render, as a Phoenix LiveView remounts. A
page that goes silent without closing (a laptop lid, a dropped network) is found by the
heartbeat: the page sends ``{"type": "heartbeat"}`` every ``HEARTBEAT_MS`` and the server
answers; a socket silent for ``heartbeat_timeout`` seconds is closed with its view (found by
one sweep a loop, ``_Silence``, within a quarter of the timeout, at most ``SWEEP_MAX_SECONDS``,
after that). That is the grace period: nothing can take the view over, so it is not kept
longer.

Limits: a WebSocket from another origin is refused before it is accepted (as Phoenix's
``check_origin``: the same host by default, or a list); a text frame over
``max_message_bytes`` closes the socket (1009), a binary frame too (1003); a page that does not
read what it is sent (more than ``MAX_QUEUED_OUT`` messages waiting behind a send that waits)
has its view closed at once and its socket as soon as it can be (1008), and gets a fresh view
when it reconnects.

Renders go out through a pacer per event loop, as in the notebook, but without the kernel's
IOPub limit: each WebSocket is a connection of its own, so the pacer's budget is per frame and
large (``MAX_SENDS_PER_SECOND``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import weakref
from collections.abc import Awaitable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from .. import wire
from ..children import any_made
from ..events import FrontendMessageError, decode_message
from ..runtime import Pacer, Report, ViewRuntime, census_sources
from ..view import LiveView
from . import collector, eager, widgets

__all__ = ["HEARTBEAT_MS", "app", "tune_gc"]

log = logging.getLogger("livewidget")

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {"page.js": "text/javascript; charset=utf-8", "widget.css": "text/css; charset=utf-8"}
ASSET_PREFIX = "/_livewidget/"

HEARTBEAT_MS = 15_000  # how often the page says it is there
HEARTBEAT_TIMEOUT = 45.0  # seconds of silence after which the server closes the socket
MAX_MESSAGE_BYTES = 1_000_000
MAX_QUEUED_OUT = 1_000  # messages waiting for a page that does not read them
MAX_SENDS_PER_SECOND = 1_000_000.0  # the pacer's budget: no IOPub here, each socket is its own
SWEEP_MAX_SECONDS = 5.0  # how often at most the silence sweep looks (a quarter of the timeout)
SWEEP_MIN_SECONDS = 0.02

# WebSocket close codes (RFC 6455, 7.4.1)
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011

_pacers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pacer] = weakref.WeakKeyDictionary()


class _Silence:
    """Finds the pages that went silent, for every session on one event loop.

    Each session notes when its page last sent a frame (``heard``); one timer looks every
    ``period`` seconds (a quarter of the shortest ``heartbeat_timeout`` it watches, at most
    ``SWEEP_MAX_SECONDS``) and closes the sessions silent for longer than their timeout. A
    socket costs one float and one set entry, where an ``asyncio.timeout`` around its reads
    held a timeout object, a timer handle and the event loop's timer, and moved that timer at
    every frame from the page (a heartbeat of 5,000 tabs every 15 s).
    """

    def __init__(self) -> None:
        # (no reference to its loop, the key it is kept under: a loop that ends takes it along)
        self._sessions: set[_Session] = set()
        self._period = SWEEP_MAX_SECONDS
        self._handle: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Silence:
        found = _silences.get(loop)
        if found is None:
            found = _silences[loop] = cls()
        return found

    def watch(self, session: _Session) -> None:
        self._sessions.add(session)
        period = min(SWEEP_MAX_SECONDS, max(SWEEP_MIN_SECONDS, session.timeout / 4))
        if period < self._period:
            self._period = period
            if self._handle is not None:  # a shorter timeout than any so far: look sooner
                self._handle.cancel()
                self._handle = None
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self._period, self._sweep)

    @property
    def watched(self) -> int:
        """How many sessions it watches: the open ones on its loop."""
        return len(self._sessions)

    def forget(self, session: _Session) -> None:
        self._sessions.discard(session)
        if not self._sessions and self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._period = SWEEP_MAX_SECONDS

    def _sweep(self) -> None:
        self._handle = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for session in [s for s in self._sessions if now - s.heard > s.timeout]:
            self._sessions.discard(session)
            session.went_silent()
        if self._sessions:
            self._handle = loop.call_later(self._period, self._sweep)
        else:
            self._period = SWEEP_MAX_SECONDS


_silences: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Silence]
_silences = weakref.WeakKeyDictionary()


def _open_sockets() -> int:
    """Sessions open now, on every loop (the census counts them: zero once every page has
    gone; the collector weighs closed views against them at every close, so this is a sum over
    loops, not over sessions)."""
    return sum(silence.watched for silence in list(_silences.values()))


census_sources["sockets"] = _open_sockets


def tune_gc() -> None:
    """Set this process's garbage collector for serving many views: young collections after
    100,000 objects instead of 700, and a full collection once a quarter of the open views have
    closed (livewidget/serve/collector.py has the why and the figures). ``livewidget serve``
    calls it in each worker; call it once yourself when you run ``app()`` in a server of your
    own."""
    collector.tune(_open_sockets)


def _pacer(loop: asyncio.AbstractEventLoop) -> Pacer:
    pacer = _pacers.get(loop)
    if pacer is None:
        pacer = _pacers[loop] = Pacer(max_per_second=MAX_SENDS_PER_SECOND)
    return pacer


def app(
    views: Mapping[str, type[LiveView]],
    *,
    check_origin: bool | Sequence[str] = True,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    title: str | None = None,
) -> Starlette:
    """The ASGI app that serves each view class at its path: ``app({"/": Dashboard})``.

    ``check_origin``: True (the default) accepts a WebSocket whose ``Origin`` is the host it
    connects to (or that sends none: not a browser); a list of origins
    (``["https://example.com"]``) accepts those as well; False accepts any (a page on any site
    could then open views on this server with its visitors' cookies: only behind a proxy that
    checks). Mount it in a bigger Starlette or FastAPI app with ``Mount("/dash", app(...))``.
    """
    if not isinstance(views, Mapping) or not views:
        raise TypeError(
            f"app() takes a mapping of paths to view classes, e.g. app({{'/': Dashboard}}), "
            f"got {views!r:.80}"
        )
    assets = _read_assets()
    widgets.install()
    routes: list[BaseRoute] = []
    for path, view_class in views.items():
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"app(): a path starts with '/', got {path!r}")
        if not (isinstance(view_class, type) and issubclass(view_class, LiveView)):
            raise TypeError(
                f"app(): {path!r} maps to {view_class!r:.80}; expected a livewidget.LiveView "
                "subclass (the class itself, not an instance)"
            )
        page = _Page(view_class, title or view_class.__name__)
        door = _Door(view_class, check_origin, max_message_bytes, heartbeat_timeout)
        routes.append(Route(path, page.endpoint, methods=["GET", "HEAD"]))
        routes.append(WebSocketRoute(path, door))  # an ASGI app: no per-socket wrappers
    esm_path = ASSET_PREFIX + widgets.ESM_PATH + "{name}"
    routes.append(Route(esm_path, widgets.esm_endpoint, methods=["GET", "HEAD"]))
    routes.append(Route(ASSET_PREFIX + "{name}", _Assets(assets).endpoint, methods=["GET", "HEAD"]))
    return Starlette(routes=routes)


def _read_assets() -> dict[str, bytes]:
    assets = {}
    for name in ASSETS:
        try:
            assets[name] = (STATIC / name).read_bytes()
        except OSError as error:
            raise RuntimeError(
                f"livewidget's front-end bundle {name} is missing from {STATIC} ({error}); "
                "build it with `npm run build` in a source checkout, or reinstall livewidget"
            ) from error
    return assets


class _Assets:
    """``/_livewidget/{name}``: the bundle's files, by name, from memory; nothing else."""

    def __init__(self, assets: dict[str, bytes]) -> None:
        self._assets = assets

    async def endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = self._assets.get(name)
        if body is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
        return Response(body, media_type=ASSETS[name], headers=headers)


_SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{base}{prefix}widget.css">
<style>
  body {{ margin: 0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }}
  #lw-app {{ padding: 16px; }}
  #lw-status {{ position: fixed; top: 0; left: 0; right: 0; padding: 4px 12px;
    background: #fef3c7; color: #92400e; font-size: 13px; z-index: 1000; }}
  html.lw-offline #lw-app {{ opacity: 0.6; }}
</style>
</head>
<body>
<div id="lw-status" role="status" hidden></div>
<div id="lw-app"></div>
<script type="application/json" id="lw-config">{config}</script>
<script type="module" src="{base}{prefix}page.js"></script>
</body>
</html>
"""


def _json_for_script(value: Any) -> str:
    """JSON that cannot end its <script> element: <, > and & as \\u escapes."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Page:
    """``GET path``: the HTML shell; the view itself comes over the WebSocket."""

    def __init__(self, view_class: type[LiveView], title: str) -> None:
        self._config = _json_for_script({"hooks": view_class.hooks, "heartbeat": HEARTBEAT_MS})
        self._title = _escape(title)

    async def endpoint(self, request: Request) -> Response:
        base = request.scope.get("root_path", "").rstrip("/")
        body = _SHELL.format(
            title=self._title, base=_escape(base), prefix=ASSET_PREFIX, config=self._config
        )
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        return HTMLResponse(body, headers=headers)


def origin_allowed(origin: str | None, host: str | None, allowed: bool | Sequence[str]) -> bool:
    """Whether a WebSocket whose handshake says ``Origin: origin`` and ``Host: host`` may open."""
    if allowed is False or origin is None:
        return True  # not checked, or not a browser (browsers always send Origin)
    if not isinstance(allowed, bool) and origin.rstrip("/") in {o.rstrip("/") for o in allowed}:
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(host) and netloc.lower() == (host or "").lower()


class _Door:
    """The WebSocket endpoint for one view class: a view per socket, for the socket's life.

    An ASGI app itself (Starlette routes a websocket scope straight to it): a route given a
    function wraps each socket's call in two more coroutines and an exception handler's
    closures, which every open socket would hold for its life.
    """

    def __init__(
        self,
        view_class: type[LiveView],
        check_origin: bool | Sequence[str],
        max_message_bytes: int,
        heartbeat_timeout: float,
    ) -> None:
        self._view_class = view_class
        self._check_origin = check_origin
        self._max_bytes = max_message_bytes
        self._heartbeat_timeout = heartbeat_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoint(WebSocket(scope, receive=receive, send=send), send)

    async def endpoint(self, websocket: WebSocket, send: Send) -> None:
        origin = websocket.headers.get("origin")
        if not origin_allowed(origin, websocket.headers.get("host"), self._check_origin):
            log.warning(
                "livewidget serve refused a WebSocket from origin %r (host %r); pass "
                "check_origin=[...] (or --allow-origin) to accept it",
                origin,
                websocket.headers.get("host"),
            )
            await websocket.close(code=CLOSE_POLICY)  # before accept: an HTTP 403
            return
        await websocket.accept()
        try:
            session = _Session(websocket, send, self._view_class, self._heartbeat_timeout)
        except Exception as error:  # the view class's own __init__: shown, then closed
            name = self._view_class.__name__
            log.exception("livewidget serve: %s() failed", name)
            message = f"{name}() failed: {type(error).__name__}: {error}"
            await websocket.send_text(json.dumps({wire.TYPE: wire.MSG_ERROR, "message": message}))
            await websocket.close(code=CLOSE_SERVER_ERROR)
            return
        try:
            await session.run(self._max_bytes)
        finally:
            session.close()


class _Session:
    """One WebSocket and the view it holds.

    Frames go out as the runtime sends them, on its own turn of the loop (``eager.start``):
    no writer task, no queue, unless a send has to wait (the page does not read and the
    transport is paused). Then one task finishes that send and the frames behind it, which wait
    in ``_out`` (at most ``MAX_QUEUED_OUT``: past that the page has fallen behind, and its view
    is closed). The heartbeat is when the page last sent a frame (``heard``), which the loop's
    ``_Silence`` sweep reads.
    """

    __slots__ = (
        "__weakref__",
        "_asgi_send",
        "_loop",
        "_out",
        "_sending",
        "_websocket",
        "closed",
        "heard",
        "runtime",
        "timeout",
        "widgets",
    )

    def __init__(
        self,
        websocket: WebSocket,
        send: Send,
        view_class: type[LiveView],
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    ) -> None:
        self._websocket = websocket
        # Frames go straight to the server's ASGI send: Starlette's WebSocket.send_text would
        # add two coroutines and its state checks to every frame, for a socket whose state
        # this session keeps itself (``closed``; a failed send marks the WebSocket gone).
        self._asgi_send = send
        self._loop = asyncio.get_running_loop()
        self._out: list[str] = []  # frames waiting behind a send that waits
        self._sending: asyncio.Task[None] | None = None  # finishes that send, then the rest
        self.closed: bool = False
        self.timeout = heartbeat_timeout  # seconds of silence after which the page is gone
        self.heard = self._loop.time()  # when the page last sent a frame
        view = view_class()
        # (not websocket.query_params, which the socket would keep for its life)
        view.params = dict(QueryParams(websocket.scope.get("query_string", b"")))
        self.runtime = ViewRuntime(view, send=self._send, loop=self._loop, pacer=_pacer(self._loop))
        # The page's Jupyter widgets (serve/widgets.py), from the first one it is shown. Made
        # now if a widget can already exist, so that those its view's mount makes are its own.
        self.widgets: widgets.WidgetHost | None = (
            self._widget_host() if "ipywidgets" in sys.modules else None
        )

    def _widget_host(self) -> widgets.WidgetHost:
        base = str(self._websocket.scope.get("root_path", "")).rstrip("/")
        return widgets.WidgetHost(self.runtime, self._send_text, base)

    def _send(self, message: dict[str, Any]) -> None:
        """The runtime's transport: encode now (a failure is the runtime's to report or
        repair), then send. Safe from any thread."""
        text = _ENCODER.encode(message)
        if not text.isascii():
            text.encode("utf-8")  # a lone surrogate raises here, for the runtime to repair
        if (self.widgets is not None or any_made()) and message.get(wire.TYPE) in _RENDERS:
            self._show_widgets()  # the widgets a render places are open before it lands
        self._send_text(text)

    def _show_widgets(self) -> None:
        host = self.widgets
        if host is None:
            host = self.widgets = self._widget_host()
        try:
            host.sync(self.runtime.rendered)
        except Exception as error:  # a widget's state that does not serialize, a bug here
            self.runtime.post(Report(error, "showing the view's widgets"))

    def _send_text(self, text: str) -> None:
        """One frame to the page, now or behind the send that waits. Safe from any thread."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._queue(text)
        else:  # a widget's update from view code on a thread; the watchdog's, for an error
            self._loop.call_soon_threadsafe(self._queue, text)

    def _queue(self, text: str) -> None:
        """Send ``text`` now, or behind the send that waits."""
        if self.closed:
            return
        if self._sending is not None:
            if len(self._out) >= MAX_QUEUED_OUT:
                self._fell_behind()
            else:
                self._out.append(text)
            return
        try:
            sending = self._asgi_send({"type": "websocket.send", "text": text})
            # uvicorn's send is a coroutine: run it now; another server's awaitable waits
            rest = eager.start(sending) if isinstance(sending, Coroutine) else sending
        except (OSError, RuntimeError):
            self._gone()
            return
        if rest is not None:
            self._sending = self._loop.create_task(self._finish(rest))

    async def _finish(self, rest: Awaitable[None]) -> None:
        """A send that had to wait: finish it, then send what queued up behind it."""
        send = self._asgi_send
        try:
            await rest
            while self._out:
                await send({"type": "websocket.send", "text": self._out.pop(0)})
        except (OSError, RuntimeError):
            self._gone()
        finally:
            self._sending = None

    def _gone(self) -> None:
        """A send failed: the page went (the reader sees it and closes the view); nothing
        more is sent on this socket, a close included (as Starlette's own send would mark)."""
        self._websocket.application_state = WebSocketState.DISCONNECTED

    def _fell_behind(self) -> None:
        """The page has not read ``MAX_QUEUED_OUT`` frames: close its view now (it stops
        rendering and sending), drop what waits, and close the socket once it can be (its
        send waits as the frames did). The page gets a fresh view when it reconnects."""
        log.warning("livewidget serve: a page did not read its updates; closing it")
        self.closed = True  # nothing more is sent; the view closes once this send is done
        self._out.clear()
        self._loop.call_soon(self.close)
        task = self._loop.create_task(self._close_socket(CLOSE_POLICY, "the page fell behind"))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def run(self, max_bytes: int) -> None:
        _Silence.of(self._loop).watch(self)  # open from here: the census counts it
        self.runtime.start()
        await self._read(max_bytes)

    async def _read(self, max_bytes: int) -> None:
        websocket, loop = self._websocket, self._loop
        while True:
            frame = await websocket.receive()
            self.heard = loop.time()
            if frame["type"] == "websocket.disconnect":
                return
            text = frame.get("text")
            if text is None:
                await self._close_socket(CLOSE_UNSUPPORTED, "livewidget speaks JSON text")
                return
            if len(text) > max_bytes:
                await self._close_socket(CLOSE_TOO_BIG, f"messages are at most {max_bytes} B")
                return
            self._receive(text)

    def went_silent(self) -> None:
        """The page sent nothing for ``timeout`` seconds (the ``_Silence`` sweep found it):
        close the view, then the socket (uvicorn ends the read with a disconnect; the close
        waits if the page does not read)."""
        self.close()
        task = self._loop.create_task(self._close_socket(CLOSE_GOING_AWAY, "no heartbeat"))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    def _receive(self, text: str) -> None:
        try:
            content = json.loads(text)
        except (ValueError, RecursionError) as error:
            problem = FrontendMessageError(f"expected a JSON message, got {text[:80]!r} ({error})")
            self.runtime.post(Report(problem, "a message from the page"))
            return
        if content == _HEARTBEAT:
            self._queue(_HEARTBEAT_TEXT)
            return
        if isinstance(content, dict) and content.get(wire.TYPE) == wire.MSG_WIDGET:
            if self.widgets is None:
                problem = FrontendMessageError("the page sent a widget message; it shows none")
                self.runtime.post(Report(problem, "a message from the page"))
            else:
                self.widgets.receive(content, len(text))
            return
        try:
            message = decode_message(content)
        except FrontendMessageError as error:
            self.runtime.post(Report(error, "a message from the page"))
            return
        self.runtime.post_from_page(message, len(text))

    async def _close_socket(self, code: int, reason: str) -> None:
        if self._websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await self._websocket.close(code=code, reason=reason)

    def close(self) -> None:
        self.closed = True
        _Silence.of(self._loop).forget(self)
        self._out.clear()
        if self._sending is not None:
            self._sending.cancel()
        if not self.runtime.closed:
            self.runtime.close()
            collector.view_closed()
        if self.widgets is not None:
            self.widgets.close()


# The runtime's messages as JSON text: compact, UTF-8 as it is (not \u escapes), no NaN (the
# page's JSON.parse would refuse it). One encoder for all (json.dumps with options makes one
# a call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_HEARTBEAT = {wire.TYPE: wire.MSG_HEARTBEAT}
_HEARTBEAT_TEXT = json.dumps(_HEARTBEAT)
_RENDERS = frozenset({wire.MSG_FULL, wire.MSG_DIFF})
# Sockets being closed after their page fell behind (a task is kept until it is done).
_closing: set[asyncio.Task[None]] = set()

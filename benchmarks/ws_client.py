"""A lean WebSocket client for the load benchmark: thousands of simulated tabs in one process.

``serve_load`` needs one WebSocket per simulated tab, and its clients share the machine's two
cores with the server they measure. A client library's connection (``websockets``: a protocol
object, a reader task, buffers, an ``await recv()`` per message) costs tens of microseconds
and a task switch for every message; at 5,000 tabs ticking once a second that is the client,
not the server, being measured. This is the least a tab needs, on ``asyncio.Protocol``:

* the opening handshake (RFC 6455, 4.1): a GET with ``Upgrade: websocket`` and a random
  ``Sec-WebSocket-Key``; the answer must be ``101`` with the matching
  ``Sec-WebSocket-Accept``; no extension is offered (no deflate), as with uvicorn's settings;
* frames in (RFC 6455, 5.2): server frames are not masked; text and continuation frames are
  given whole to ``on_text(data: bytes, arrived: float)``, ``arrived`` being ``time.time()``
  when ``data_received`` saw the frame's last bytes (no task switch between the socket and
  the clock); a ping is answered with a pong; a close frame is answered and closes;
* frames out: masked, as a client's must be, text only (the tab's join and heartbeats).

It parses what the benchmark's servers send (uvicorn's ``websockets-sansio``, ``websockets``
and ``wsproto`` implementations); it is not a general client (no TLS, no extensions, no
subprotocols).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
from collections.abc import Callable

__all__ = ["HandshakeError", "WebSocket", "connect"]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, 1.3

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

OnText = Callable[[bytes, float], None]


class HandshakeError(ConnectionError):
    """The server did not upgrade the connection to a WebSocket."""


def mask(payload: bytes, key: bytes) -> bytes:
    """``payload`` XOR the 4-byte ``key`` repeated (RFC 6455, 5.3)."""
    if not payload:
        return payload
    n = len(payload)
    keys = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(keys, "big")).to_bytes(n, "big")


def frame(opcode: int, payload: bytes, key: bytes | None = None) -> bytes:
    """One final frame: masked with ``key`` (a client's), or not (a server's)."""
    n = len(payload)
    bit = 0x80 if key is not None else 0
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, bit | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, bit | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, bit | 127, n)
    if key is None:
        return head + payload
    return head + key + mask(payload, key)


class WebSocket(asyncio.Protocol):
    """One client connection; made by ``connect``."""

    def __init__(self, key: bytes, on_text: OnText) -> None:
        self._key = key
        self._on_text = on_text
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._upgraded = False
        self.beat = 0.0  # when the tab's next heartbeat is due (the load client's)

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self._buffer = bytes(self._buffer[:end]), self._buffer[end + 4 :]
            try:
                self._check_handshake(head)
            except HandshakeError as error:
                if not self.opened.done():
                    self.opened.set_exception(error)
                self.abort()
                return
            self._upgraded = True
            if self.opened.done():  # connect() was cancelled (the load client's bound ran out)
                self.abort()
                return
            self.opened.set_result(None)
        self._frames(time.time())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    # -- the handshake and frames -------------------------------------------------------------

    def _check_handshake(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise HandshakeError(f"expected 'HTTP/1.1 101 Switching Protocols', got {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self._key + GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise HandshakeError(
                f"expected Sec-WebSocket-Accept {expected!r}, got "
                f"{headers.get('sec-websocket-accept')!r}"
            )

    def _frames(self, arrived: float) -> None:
        buffer = self._buffer
        at = 0
        size = len(buffer)
        while size - at >= 2:
            first, second = buffer[at], buffer[at + 1]
            n = second & 0x7F
            start = at + 2
            if n == 126:
                if size - start < 2:
                    break
                (n,) = struct.unpack_from("!H", buffer, start)
                start += 2
            elif n == 127:
                if size - start < 8:
                    break
                (n,) = struct.unpack_from("!Q", buffer, start)
                start += 8
            if second & 0x80:  # a masked frame from a server: against RFC 6455, 5.1
                self.abort()
                return
            if size - start < n:
                break
            payload = bytes(buffer[start : start + n])
            at = start + n
            self._frame(first & 0x80, first & 0x0F, payload, arrived)
        if at:
            del buffer[:at]

    def _frame(self, fin: int, opcode: int, payload: bytes, arrived: float) -> None:
        if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments = []
            self._on_text(payload, arrived)
        elif opcode == OP_PING:
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self._write(OP_CLOSE, payload[:2])
            if self._transport is not None:
                self._transport.close()

    # -- out ----------------------------------------------------------------------------------

    def _write(self, opcode: int, payload: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame(opcode, payload, os.urandom(4)))

    def send(self, text: str) -> None:
        """Send a text frame (no wait: the transport buffers it)."""
        self._write(OP_TEXT, text.encode())

    def close(self) -> None:
        """Send a close frame (1000); the server answers and closes the connection."""
        self._write(OP_CLOSE, struct.pack("!H", 1000))

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


async def connect(host: str, port: int, path: str, on_text: OnText) -> WebSocket:
    """Open a WebSocket to ``ws://host:port/path``; returns once the server has upgraded it."""
    loop = asyncio.get_running_loop()
    key = base64.b64encode(os.urandom(16))
    _, ws = await loop.create_connection(lambda: WebSocket(key, on_text), host, port)
    assert ws._transport is not None
    ws._transport.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await ws.opened
    return ws

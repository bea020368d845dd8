"""A real ``redis-server`` for the tests: started on a free port, stopped by its PID.

``redis_server`` (session) is one server for every test that only needs one; a test that kills
or restarts the server makes its own ``RedisServer`` (``fresh_redis_server``). Both come from
tests/conftest.py, so unit tests, e2e tests and benchmarks (which import ``RedisServer``) share
them. Debian's ``/usr/bin/redis-server`` (``make test`` installs it); never a system instance.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process on 127.0.0.1: ``start``, ``stop``, ``restart`` on the same port."""

    def __init__(self, port: int | None = None) -> None:
        if not Path(REDIS_SERVER).exists():
            raise RuntimeError(
                f"no redis-server at {REDIS_SERVER}: `make test` installs Debian's "
                "(apt-get install -y redis-server)"
            )
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="lw-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        args += ["no", "--dir", str(self.dir)]
        self.process = subprocess.Popen(
            [REDIS_SERVER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # as a crash would: no goodbye to its clients
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> Any:
        """A synchronous redis-py client, for checks: ``PUBSUB NUMSUB``, ``PUBLISH``."""
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def numsub(self, topic: str) -> int:
        """Subscribers of the channel of ``topic`` on the server, in every process."""
        with self.client() as client:
            return int(
                dict(client.pubsub_numsub(f"livewidget:{topic}"))[f"livewidget:{topic}".encode()]
            )

    def channels(self) -> list[str]:
        with self.client() as client:
            return sorted(c.decode() for c in client.pubsub_channels())

    @staticmethod
    def version() -> str:
        out = subprocess.run([REDIS_SERVER, "--version"], capture_output=True, text=True)
        return out.stdout.split(" v=")[1].split()[0] if " v=" in out.stdout else "?"

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session: tests use topics of their own."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def fresh_redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own, which it may kill and restart."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


class Blackhole:
    """A TCP relay to a server that can go silent, as a dropped network does.

    ``url`` points at the relay. ``drop()``: every byte is swallowed from then on, in both
    directions, and no connection is closed (no RST, no FIN: the client's socket stays open and
    hears nothing). ``heal()``: connections made from then on are relayed again.
    """

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dropped = threading.Event()
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def drop(self) -> None:
        self.dropped.set()

    def heal(self) -> None:
        self.dropped.clear()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        silent = self.dropped.is_set()  # a connection made while dropped never gets through
        while True:
            try:
                data = source.recv(65536)
                if not data:
                    return
                silent = silent or self.dropped.is_set()
                if not silent:
                    sink.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.close()

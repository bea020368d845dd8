"""benchmarks/ws_client.py, the load benchmark's lean WebSocket client, against a real server."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest

from benchmarks import ws_client

from .test_serve import Clicks, served


def test_the_lean_client_reads_a_served_views_full_render_and_the_diff_of_a_click() -> None:
    async def talk(port: int) -> list[dict[str, object]]:
        frames: list[dict[str, object]] = []
        got = asyncio.Event()

        def on_text(data: bytes, arrived: float) -> None:
            assert abs(arrived - time.time()) < 5  # stamped with the wall clock
            frames.append(json.loads(data))
            got.set()

        async def until(kind: str) -> None:
            while not any(f["type"] == kind for f in frames):
                got.clear()
                await asyncio.wait_for(got.wait(), 10)

        # As the page: no join on a fresh socket, whose view sends its full render by itself
        # (a join would ask for a second full render, which may answer the click instead).
        ws = await ws_client.connect("127.0.0.1", port, "/?start=40", on_text)
        try:
            await until("full")
            # a frame larger than 125 bytes in: 16-bit length; a click out, masked
            ws.send(
                json.dumps({"type": "event", "event": "inc", "kind": "click", "value": {"by": "2"}})
            )
            await until("diff")
            ws.close()
            await asyncio.wait_for(ws.closed, 10)
        finally:
            ws.abort()  # closed already, or a failure above: no transport outlives the loop
        return frames

    with served({"/": Clicks}) as port:
        frames = asyncio.run(talk(port))
    renders = [f for f in frames if f["type"] != "settled"]  # (a quiet spell's "settled")
    assert [f["type"] for f in renders[:2]] == ["full", "diff"]
    full, diff = renders[0], renders[1]
    assert '"40"' in json.dumps(full["rendered"])
    assert diff["rendered"] == {"0": "42"}


def test_a_server_that_does_not_upgrade_is_a_handshake_error() -> None:
    async def connect(port: int) -> None:
        await ws_client.connect("127.0.0.1", port, "/_livewidget/widget.css", lambda d, t: None)

    with served({"/": Clicks}) as port, pytest.raises(ws_client.HandshakeError, match="101"):
        asyncio.run(connect(port))


def test_frames_of_every_length_encoding_are_masked_and_framed() -> None:
    key = b"\x01\x02\x03\x04"
    for size, header in ((10, 2), (300, 4), (70_000, 10)):
        payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
        framed = ws_client.frame(ws_client.OP_TEXT, payload, key)
        assert framed[0] == 0x81
        assert framed[1] & 0x80  # masked, as a client's frames must be
        assert framed[header : header + 4] == key
        assert ws_client.mask(framed[header + 4 :], key) == payload  # XOR twice: the payload


def test_an_upgrade_that_comes_after_its_connect_was_given_up_closes_the_socket_quietly() -> None:
    async def late_upgrade() -> bool:
        import base64
        import hashlib
        import socket

        key = base64.b64encode(b"0123456789abcdef")
        ours, theirs = socket.socketpair()
        loop = asyncio.get_running_loop()
        _, ws = await loop.create_connection(lambda: ws_client.WebSocket(key, print), sock=ours)
        ws.opened.cancel()  # as the load client's bound cancels a connect still waiting
        accept = base64.b64encode(hashlib.sha1(key + ws_client.GUID).digest())
        ws.data_received(
            b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await asyncio.wait_for(ws.closed, 10)
        theirs.close()
        return ws.opened.cancelled()

    assert asyncio.run(late_upgrade())


@pytest.mark.parametrize("kind", ["floor-uvicorn", "floor-starlette"])
def test_a_floor_holds_a_socket_open_reading_what_the_page_sends_until_the_page_closes(
    kind: str,
) -> None:
    import socket
    import threading

    import uvicorn

    from benchmarks import serve_load
    from livewidget.serve.cli import uvicorn_settings

    from .test_serve import wait_for

    async def talk(port: int) -> tuple[bool, bool]:
        heard: list[bytes] = []
        ws = await ws_client.connect("127.0.0.1", port, "/", lambda data, t: heard.append(data))
        try:
            for _ in range(3):
                ws.send('{"type":"heartbeat"}')
            await asyncio.sleep(0.3)
            held = not ws.closed.done() and not heard  # open, and nothing sent back
            ws.close()
            await asyncio.wait_for(ws.closed, 10)  # the server answers the close, and closes
            return held, ws.closed.done()
        finally:
            ws.abort()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        serve_load._floor_app(kind),
        host="127.0.0.1",
        port=port,
        log_level="critical",
        **uvicorn_settings(),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=10.0)
        assert asyncio.run(talk(port)) == (True, True)
    finally:
        server.should_exit = True
        thread.join(10.0)


def test_the_ticking_floor_sends_a_dashboard_diff_every_second_stamped_with_its_due_instant() -> (
    None
):
    """``floor-tick``: the transport alone ticking, as the load benchmark reads it: each frame
    a diff of four values whose due instant (the socket's open + whole seconds) the client's
    pattern finds, about a second apart, and the socket closes when the page does."""
    import re
    import socket
    import threading

    import uvicorn

    from benchmarks import serve_load
    from livewidget.serve.cli import uvicorn_settings

    from .test_serve import wait_for

    async def talk(port: int) -> tuple[float, list[tuple[bytes, float]]]:
        heard: list[tuple[bytes, float]] = []
        opened = time.time()
        ws = await ws_client.connect(
            "127.0.0.1", port, "/", lambda data, t: heard.append((data, t))
        )
        try:
            deadline = time.monotonic() + 20
            while len(heard) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            ws.close()
            await asyncio.wait_for(ws.closed, 10)
        finally:
            ws.abort()
        return opened, heard

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        serve_load._floor_app("floor-tick"),
        host="127.0.0.1",
        port=port,
        log_level="critical",
        **uvicorn_settings(),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=10.0)
        opened, heard = asyncio.run(talk(port))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert len(heard) >= 3
    dues = []
    for data, arrived in heard[:3]:
        frame = json.loads(data)
        assert frame["type"] == "diff"
        assert set(frame["rendered"]) == {"0", "1", "2", "3"}
        found = serve_load.DUE_IN_FRAME.search(data)
        assert found is not None
        assert re.fullmatch(rb"\d{10}\.\d{6}", found[1])
        due = float(found[1])
        assert due - 0.05 <= arrived  # never before it was due (the clocks agree within a hair)
        dues.append(due)
    assert [frame_seq(d) for d, _ in heard[:3]] == [1, 2, 3]
    assert all(abs(b - a - 1.0) < 1e-3 for a, b in itertools.pairwise(dues))
    assert opened - 1 < dues[0] - 1 < opened + 5  # the first a second after the socket opened


def frame_seq(data: bytes) -> int:
    seq = json.loads(data)["seq"]
    assert isinstance(seq, int)
    return seq

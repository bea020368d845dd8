"""Pub/sub over a real redis-server (tests/redis_server.py), and the in-process bus.

Two ``RedisBus`` objects in one process stand for two processes: each has its own connection
and reader, and hears only what Redis sends it. A plain subprocess publishes as a producer
script would.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import livewidget as lw
from livewidget import config
from livewidget.pubsub import (
    STATUS_TOPIC,
    Bus,
    MessageNotSendable,
    PubSubUnavailable,
    RedisBus,
    default_bus,
    redis_bus,
)
from livewidget.runtime import background_loop, census
from livewidget.testing import live
from tests.redis_server import Blackhole, RedisServer, free_port

ROOT = Path(__file__).parents[2]


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


class Inbox:
    """A subscriber as the bus sees a view: ``post`` from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: list[Any] = []

    def deliver(self, message: Any) -> None:
        with self.lock:
            self.got.append(message)

    def infos(self) -> list[Any]:
        with self.lock:
            return [
                m
                for m in self.got
                if not (isinstance(m, dict) and m.get("type") == "pubsub_status")
            ]

    def states(self) -> list[str]:
        with self.lock:
            return [
                m["state"]
                for m in self.got
                if isinstance(m, dict) and m.get("type") == "pubsub_status"
            ]


@pytest.fixture
def buses(redis_server: RedisServer) -> Iterator[Callable[[], RedisBus]]:
    made: list[RedisBus] = []

    def make() -> RedisBus:
        made.append(RedisBus(redis_server.url))
        return made[-1]

    yield make
    for bus in made:
        bus.close()


def subscribed(server: RedisServer, topic: str, count: int = 1) -> None:
    """Wait until ``count`` connections listen to ``topic`` on the server."""
    wait_for(lambda: server.numsub(topic) == count)


def test_a_broadcast_in_one_process_reaches_a_subscriber_in_another(buses, redis_server):
    a, b = buses(), buses()
    inbox = Inbox()
    a.subscribe("prices", inbox)
    subscribed(redis_server, "prices")
    b.broadcast("prices", {"symbol": "ACME", "price": 12.5})
    wait_for(lambda: inbox.infos())
    assert inbox.infos() == [{"symbol": "ACME", "price": 12.5}]


def test_a_subscriber_in_the_publishing_process_gets_each_message_once(buses, redis_server):
    bus = buses()
    inbox = Inbox()
    bus.subscribe("once", inbox)
    subscribed(redis_server, "once")
    for n in range(3):
        bus.broadcast("once", n)
    wait_for(lambda: len(inbox.infos()) >= 3)
    time.sleep(0.2)  # a second copy, if there were one, would have come by now
    assert inbox.infos() == [0, 1, 2]


def test_many_subscribers_of_a_topic_share_one_redis_subscription(buses, redis_server):
    bus = buses()
    inboxes = [Inbox() for _ in range(5)]
    for inbox in inboxes:
        bus.subscribe("shared", inbox)
    subscribed(redis_server, "shared")
    bus.broadcast("shared", "hello")
    wait_for(lambda: all(inbox.infos() for inbox in inboxes))
    assert [inbox.infos() for inbox in inboxes] == [["hello"]] * 5
    assert redis_server.numsub("shared") == 1


def test_a_subscriber_of_another_topic_gets_nothing(buses, redis_server):
    bus = buses()
    mine, other = Inbox(), Inbox()
    bus.subscribe("mine", mine)
    bus.subscribe("other", other)
    subscribed(redis_server, "mine")
    subscribed(redis_server, "other")
    bus.broadcast("mine", 1)
    bus.broadcast("other", 2)
    wait_for(lambda: mine.infos() and other.infos())
    assert (mine.infos(), other.infos()) == ([1], [2])


def test_a_plain_python_process_with_no_livewidget_loop_feeds_a_subscriber(buses, redis_server):
    bus = buses()
    inbox = Inbox()
    bus.subscribe("feed", inbox)
    subscribed(redis_server, "feed")
    producer = (
        "import threading, livewidget.pubsub as p\n"
        "p.broadcast('feed', {'price': 101.5})\n"
        "assert threading.active_count() == 1, 'no loop thread was started'\n"
    )
    env = {"LIVEWIDGET_PUBSUB": redis_server.url, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin"}
    subprocess.run([sys.executable, "-c", producer], env=env, check=True, timeout=60)
    wait_for(lambda: inbox.infos())
    assert inbox.infos() == [{"price": 101.5}]


def test_redis_cli_style_json_from_any_producer_arrives_as_python_values(buses, redis_server):
    bus = buses()
    inbox = Inbox()
    bus.subscribe("raw", inbox)
    subscribed(redis_server, "raw")
    with redis_server.client() as client:
        client.publish("livewidget:raw", '{"symbol":"ÆON","prices":[1,2.5],"ok":true,"x":null}')
    wait_for(lambda: inbox.infos())
    assert inbox.infos() == [{"symbol": "ÆON", "prices": [1, 2.5], "ok": True, "x": None}]


def test_a_message_json_cannot_carry_is_refused_at_broadcast_with_a_way_out(buses):
    bus = buses()
    with pytest.raises(MessageNotSendable, match=r"not JSON.*datetime into an ISO string"):
        bus.broadcast("t", {"at": time.gmtime})
    with pytest.raises(MessageNotSendable, match="not JSON"):
        bus.broadcast("t", float("nan"))
    with pytest.raises(MessageNotSendable, match="at most 1,048,576"):
        bus.broadcast("t", "x" * (1024 * 1024 + 1))
    with pytest.raises(MessageNotSendable, match="non-empty str"):
        bus.broadcast("", 1)


def test_malformed_payloads_are_dropped_logged_once_and_the_next_good_one_arrives(
    buses, redis_server, caplog: pytest.LogCaptureFixture
):
    bus = buses()
    inbox = Inbox()
    bus.subscribe("bad", inbox)
    subscribed(redis_server, "bad")
    with caplog.at_level(logging.WARNING, logger="livewidget.pubsub"), redis_server.client() as c:
        c.publish("livewidget:bad", b"{not json")
        c.publish("livewidget:bad", b"\xff\xfe")
        c.publish("livewidget:bad", b"NaN")
        c.publish("livewidget:bad", b"x" * (1024 * 1024 + 1))
        c.publish("livewidget:bad", b'{"good": 1}')
        wait_for(lambda: inbox.infos())
    assert inbox.infos() == [{"good": 1}]
    assert bus.status().dropped == 4
    lines = [r.getMessage() for r in caplog.records if "not JSON" in r.getMessage()]
    assert len(lines) == 1
    assert "livewidget:bad" in lines[0]


def test_after_the_last_subscriber_goes_redis_holds_no_subscription_task_or_connection(
    buses, redis_server
):
    bus = buses()
    first, second = Inbox(), Inbox()
    bus.subscribe("leaving", first)
    bus.subscribe("leaving", second)
    bus.subscribe("staying", second)
    subscribed(redis_server, "leaving")
    subscribed(redis_server, "staying")
    assert census()["pubsub_readers"] >= 1
    bus.unsubscribe_all(first)
    time.sleep(0.1)
    assert redis_server.numsub("leaving") == 1, "a topic stays while a local subscriber is left"
    bus.unsubscribe_all(second)
    subscribed(redis_server, "leaving", 0)
    subscribed(redis_server, "staying", 0)
    wait_for(lambda: bus.readers() == 0 and bus.channels() == 0)
    assert bus.status().state == "idle"
    assert not {"livewidget:leaving", "livewidget:staying"} & set(redis_server.channels())
    with redis_server.client() as client:
        names = [c.get("name") for c in client.client_list()]
    assert len(names) == 1, "only the checking client is connected"


def test_after_redis_restarts_on_the_same_port_the_next_broadcast_arrives(
    fresh_redis_server, caplog: pytest.LogCaptureFixture
):
    server = fresh_redis_server
    a, b = RedisBus(server.url), RedisBus(server.url)
    try:
        inbox = Inbox()
        a.subscribe(STATUS_TOPIC, inbox)
        a.subscribe("restart", inbox)
        subscribed(server, "restart")
        b.broadcast("restart", "before")
        wait_for(lambda: inbox.infos() == ["before"])
        with caplog.at_level(logging.WARNING, logger="livewidget.pubsub"):
            server.stop()
            wait_for(lambda: a.status().state == "down")
            with pytest.raises(PubSubUnavailable, match="was not sent"):
                b.broadcast("restart", "while down")
            time.sleep(1)  # a few reconnection attempts fail
            server.start()
            wait_for(lambda: a.status().state == "connected")
            subscribed(server, "restart")
        b.broadcast("restart", "after")
        wait_for(lambda: inbox.infos() == ["before", "after"])
        assert inbox.states() == ["idle", "connecting", "connected", "down", "connected"]
        lines = [r.getMessage() for r in caplog.records]
        assert len([line for line in lines if "unreachable" in line]) == 1, lines
        assert len([line for line in lines if "is back" in line]) == 1, lines
    finally:
        a.close()
        b.close()


def test_redis_down_at_start_is_no_error_and_the_bus_connects_when_it_comes(
    caplog: pytest.LogCaptureFixture,
):
    server = RedisServer()  # not started yet
    bus = RedisBus(server.url)
    try:
        inbox = Inbox()
        with caplog.at_level(logging.WARNING, logger="livewidget.pubsub"):
            bus.subscribe("late", inbox)
            wait_for(lambda: bus.status().state == "down")
            assert "Connection" in (bus.status().error or "")
            server.start()
            subscribed(server, "late")
        with server.client() as client:
            client.publish("livewidget:late", "1")
        wait_for(lambda: inbox.infos() == [1])
        assert [r.getMessage()[:40] for r in caplog.records if "unreachable" in r.getMessage()]
    finally:
        bus.close()
        server.close()


def test_a_view_subscribed_through_lw_configure_renders_what_redis_brings(redis_server):
    class Ticker(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.subscribe("ticker")
            socket.assign(price=0.0)

        def handle_info(self, info: Any, socket: lw.Socket) -> None:
            socket.assign(price=info["price"])

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("<b>{price:.2f}</b>", **ctx)

    lw.configure(pubsub=redis_server.url)
    try:
        assert lw.pubsub.status().backend == "redis"
        lv = live(Ticker)
        subscribed(redis_server, "ticker")
        lw.pubsub.broadcast("ticker", {"price": 12.345})
        wait_for(lambda: lv.advance(10) == "<b>12.35</b>")
        lv.close()
        subscribed(redis_server, "ticker", 0)
        assert default_bus.subscriptions() == 0
    finally:
        lw.configure(pubsub=None)
    assert lw.pubsub.status().backend == "local"


def test_configure_moves_the_subscriptions_of_open_views_to_the_new_bus(redis_server):
    inbox = Inbox()
    lw.configure(pubsub=None)
    default_bus.subscribe("moving", inbox)
    try:
        lw.configure(pubsub=redis_server.url)
        subscribed(redis_server, "moving")
        lw.pubsub.broadcast("moving", "over redis")
        wait_for(lambda: inbox.infos())
        lw.configure(pubsub=None)
        subscribed(redis_server, "moving", 0)
        lw.pubsub.broadcast("moving", object())  # the in-process bus carries any object
        assert len(inbox.infos()) == 2
    finally:
        default_bus.unsubscribe_all(inbox)
        lw.configure(pubsub=None)


def test_the_environment_variable_chooses_the_bus_and_configure_wins(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("LIVEWIDGET_PUBSUB", "redis://:secret@example.org:6380/2")
    monkeypatch.setattr(config, "_pubsub", config._UNSET)
    assert config.pubsub_url() == "redis://:secret@example.org:6380/2"
    lw.configure(pubsub=None)
    assert config.pubsub_url() is None
    monkeypatch.setenv("LIVEWIDGET_PUBSUB", "http://example.org")
    monkeypatch.setattr(config, "_pubsub", config._UNSET)
    with pytest.raises(ValueError, match=r"LIVEWIDGET_PUBSUB expects a Redis URL.*'http://"):
        config.pubsub_url()
    with pytest.raises(ValueError, match=r"configure\(pubsub=...\) expects"):
        lw.configure(pubsub="localhost:6379")


def test_a_password_in_the_url_never_shows_in_status_or_errors():
    bus = RedisBus("redis://:hunter2@127.0.0.1:1/0")
    try:
        assert bus.status().url == "redis://:***@127.0.0.1:1/0"
        with pytest.raises(PubSubUnavailable) as raised:
            bus.broadcast("t", 1)
        assert "hunter2" not in str(raised.value)
        assert "redis://:***@127.0.0.1:1/0" in str(raised.value)
    finally:
        bus.close()


def test_the_in_process_bus_tells_a_status_subscriber_it_is_local():
    bus, inbox = Bus(), Inbox()
    bus.subscribe(STATUS_TOPIC, inbox)
    assert inbox.states() == ["local"]
    bus.broadcast("t", object())  # no JSON rule in one process
    assert bus.subscriptions() == 1


def test_a_dropped_connection_is_reopened_and_every_subscription_restored(buses, redis_server):
    bus = buses()
    inbox = Inbox()
    bus.subscribe(STATUS_TOPIC, inbox)
    for topic in ("drop-a", "drop-b"):
        bus.subscribe(topic, inbox)
        subscribed(redis_server, topic)
    with redis_server.client() as client:
        assert client.client_kill_filter(_type="pubsub") == 1  # the network drops it
    wait_for(lambda: inbox.states()[-2:] == ["down", "connected"])
    subscribed(redis_server, "drop-a")
    subscribed(redis_server, "drop-b")
    bus.broadcast("drop-a", "a")
    bus.broadcast("drop-b", "b")
    wait_for(lambda: len(inbox.infos()) == 2)
    assert sorted(inbox.infos()) == ["a", "b"]


def test_livewidget_imports_without_redis_and_says_how_to_get_it_when_configured():
    code = (
        "import sys; sys.modules['redis'] = None  # as if redis-py were not installed\n"
        "import livewidget as lw, livewidget.runtime\n"
        "lw.pubsub.broadcast('t', object())  # the in-process bus needs no redis\n"
        "lw.configure(pubsub='redis://127.0.0.1:1/0')\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "ImportError: pub/sub over Redis needs redis-py" in done.stderr
    assert "pip install 'livewidget[redis]'" in done.stderr


def test_a_broadcast_from_livewidgets_loop_returns_at_once_and_arrives(buses, redis_server):
    bus, publisher = buses(), buses()  # the publisher's process subscribes to nothing
    inbox = Inbox()
    bus.subscribe("from-loop", inbox)
    subscribed(redis_server, "from-loop")

    async def handler() -> str:  # as a view's async handler would
        publisher.broadcast("from-loop", {"n": 1})
        return "returned"

    loop = background_loop()[0]
    assert asyncio.run_coroutine_threadsafe(handler(), loop).result(5) == "returned"
    wait_for(lambda: inbox.infos())
    assert inbox.infos() == [{"n": 1}]


def test_broadcasts_from_livewidgets_loop_while_redis_is_down_log_one_line_not_one_each(
    caplog: pytest.LogCaptureFixture,
):
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    loop = background_loop()[0]

    async def handler() -> None:
        bus.broadcast("nowhere", {"n": 1})

    try:
        with caplog.at_level(logging.WARNING, logger="livewidget.pubsub"):
            for _ in range(5):
                asyncio.run_coroutine_threadsafe(handler(), loop).result(5)
            wait_for(lambda: caplog.records)
            time.sleep(0.5)  # the other four publishes fail too, silently
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 1, lines
        assert "could not publish" in lines[0]
    finally:
        bus.close()


def test_a_network_that_goes_silent_is_found_by_ping_and_the_bus_comes_back_when_it_heals(
    redis_server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(redis_bus, "KEEPALIVE", 0.3)  # seconds of quiet before a PING, and wait
    network = Blackhole(redis_server.port)
    bus = RedisBus(network.url)
    try:
        inbox = Inbox()
        bus.subscribe(STATUS_TOPIC, inbox)
        bus.subscribe("silent", inbox)
        subscribed(redis_server, "silent")
        wait_for(lambda: bus.status().state == "connected")
        with caplog.at_level(logging.WARNING, logger="livewidget.pubsub"):
            network.drop()  # nothing is closed: only a PING that gets no answer can tell
            wait_for(lambda: bus.status().state == "down")
            assert "no answer to PING" in (bus.status().error or "")
            network.heal()
            wait_for(lambda: bus.status().state == "connected")
        with redis_server.client() as client:
            wait_for(lambda: client.publish("livewidget:silent", "1") >= 1)
        wait_for(lambda: 1 in inbox.infos())
        lines = [r.getMessage() for r in caplog.records]
        assert len([line for line in lines if "unreachable" in line]) == 1, lines
        assert len([line for line in lines if "is back" in line]) == 1, lines
    finally:
        bus.close()
        network.close()

"""The Redis bus: pub/sub across kernels, processes and machines, over one Redis server.

The model is Phoenix.PubSub's Redis adapter and Django Channels' channels_redis: each process
holds **one** Redis pub/sub connection, whatever the number of its views, and fans out locally.

    view.subscribe("prices")        local table: topic -> the views of this process
        | first local subscriber of a topic: SUBSCRIBE livewidget:prices
        v
    reader task (redis.asyncio PubSub) on livewidget's background loop
        | a message on livewidget:prices: JSON-decoded once, posted to each local subscriber
        v
    view.handle_info(message)       in the view's own mailbox, in order with its other messages

- **Publish to Redis only, deliver from Redis.** ``broadcast`` never posts to the local
  subscribers itself: they hear the message when Redis sends it back, so a view in the
  publishing process gets it exactly once, and in the same order as every other process.
- **Where a publish runs.** On the bus's loop (a view's async handler), ``broadcast`` hands the
  publish to a task there (redis.asyncio) and returns: the loop never waits on the network; a
  failure is logged, once per outage. Anywhere else (notebook code, a plain handler on its view
  thread, a plain Python process with no livewidget loop at all) it publishes with redis-py's
  synchronous client and raises ``PubSubUnavailable`` if Redis cannot be reached.
- **Faults.** Redis down at start, restarting, a dropped network: the reader logs one line when
  the outage begins, reconnects with exponential backoff (``BACKOFF_START`` doubling up to
  ``BACKOFF_CAP``, with jitter), subscribes every topic wanted at that moment, and logs one line
  when it is back. A silent dead connection is found by a PING after ``KEEPALIVE`` seconds of
  quiet that gets no answer within ``KEEPALIVE`` more. Messages published while a process is not
  connected are not delivered to it (Redis pub/sub keeps nothing): at most once.
- **Nothing left behind.** When the last local subscriber of a topic goes, the topic is
  unsubscribed on Redis; when the process has no subscriber left, the reader task ends and its
  connection is closed. ``livewidget.runtime.census()`` counts readers and channels.
- **What arrives is checked.** A payload that is not JSON, or larger than ``MAX_MESSAGE_BYTES``,
  is dropped and counted (``status().dropped``); the first is logged. Views are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .common import (
    CHANNEL_PREFIX,
    STATUS_TOPIC,
    BusStatus,
    PubSubUnavailable,
    State,
    Subscriber,
    decode,
    encode,
    status_info,
)

if TYPE_CHECKING:
    import redis
    import redis.asyncio
    from redis.asyncio.client import PubSub

__all__ = ["BACKOFF_CAP", "BACKOFF_START", "KEEPALIVE", "RedisBus", "mask_url"]

log = logging.getLogger("livewidget.pubsub")

BACKOFF_START = 0.1  # seconds before the first reconnection attempt
BACKOFF_CAP = 5.0  # the longest wait between attempts
KEEPALIVE = 5.0  # quiet seconds before a PING; as long again for its answer
CONNECT_TIMEOUT = 2.0  # seconds to open a connection (a synchronous publish waits this long)

_live_buses: weakref.WeakSet[RedisBus] = weakref.WeakSet()


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: what logs, errors and ``status()`` show."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _import_redis() -> Any:
    try:
        import redis.asyncio
    except ImportError:
        raise ImportError(
            "pub/sub over Redis needs redis-py, which is not installed: "
            "pip install 'livewidget[redis]' (or pip install redis), or leave LIVEWIDGET_PUBSUB "
            "and lw.configure(pubsub=...) unset for the in-process bus."
        ) from None
    return redis


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _default_loop() -> asyncio.AbstractEventLoop:
    from ..runtime import background_loop  # runtime imports this package: import it late

    return background_loop()[0]


class RedisBus:
    """Topic -> the subscribers of this process, fed by one Redis pub/sub connection."""

    def __init__(
        self, url: str, *, loop: Callable[[], asyncio.AbstractEventLoop] = _default_loop
    ) -> None:
        self._redis = _import_redis()
        self.url = url
        self.safe_url = mask_url(url)
        self._loop_factory = loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._topics: dict[str, dict[Subscriber, None]] = {}
        self._state: State = "idle"
        self._since = time.time()
        self._error: str | None = None
        self._dropped = 0
        self._closed = False
        self._sync_client: redis.Redis | None = None
        # Touched on the loop only:
        self._reader: asyncio.Task[None] | None = None
        self._pubsub: PubSub | None = None
        self._listening: set[str] = set()  # topics SUBSCRIBEd on the live connection
        self._async_client: redis.asyncio.Redis | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._publish_failing = False
        _live_buses.add(self)
        _register_census()

    # -- the bus interface (any thread) -------------------------------------------------------

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        if self._closed:
            raise RuntimeError(f"the Redis bus for {self.safe_url} is closed")
        with self._lock:
            new = topic not in self._topics
            self._topics.setdefault(topic, {})[subscriber] = None
        if topic == STATUS_TOPIC:
            subscriber.deliver(status_info(self.status()))
        elif new:
            self._wake()

    def unsubscribe_all(self, subscriber: Subscriber) -> None:
        gone = False
        with self._lock:
            for topic in [t for t, subs in self._topics.items() if subscriber in subs]:
                del self._topics[topic][subscriber]
                if not self._topics[topic]:
                    del self._topics[topic]
                    gone = gone or topic != STATUS_TOPIC
        if gone:
            self._wake()

    def broadcast(self, topic: str, message: Any) -> None:
        """Publish ``message`` (JSON) on ``topic``; every subscriber on this Redis gets it once."""
        if topic == STATUS_TOPIC:
            raise ValueError(f"{STATUS_TOPIC!r} is the bus's own topic; broadcast on another one")
        data = encode(topic, message)
        channel = CHANNEL_PREFIX + topic
        running = _running_loop()
        if running is not None and running is self._ensure_loop():
            self._track(running.create_task(self._publish_async(channel, data)))
        else:
            self._publish_sync(topic, channel, data)

    def subscriptions(self) -> int:
        """How many (topic, subscriber) pairs there are: zero once every view is closed."""
        with self._lock:
            return sum(len(subs) for subs in self._topics.values())

    def drain(self) -> list[tuple[str, Subscriber]]:
        """Remove and return every (topic, subscriber) pair: ``configure`` moves them on."""
        with self._lock:
            pairs = [(topic, sub) for topic, subs in self._topics.items() for sub in subs]
            self._topics.clear()
        self._wake()
        return pairs

    def status(self) -> BusStatus:
        return BusStatus(
            backend="redis",
            state=self._state,
            url=self.safe_url,
            since=self._since,
            error=self._error,
            channels=len(self._listening),
            dropped=self._dropped,
        )

    def readers(self) -> int:
        """1 while the reader task (and its connection) lives, else 0: for ``census()``."""
        reader = self._reader
        return int(reader is not None and not reader.done())

    def channels(self) -> int:
        """The channels this process listens to on Redis: for ``census()``."""
        return len(self._listening)

    def close(self, timeout: float = 5.0) -> None:
        """End the reader, close every connection; waits up to ``timeout`` s unless on the loop."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._topics.clear()
            sync_client, self._sync_client = self._sync_client, None
        if sync_client is not None:
            sync_client.close()
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if _running_loop() is loop:
            self._track(loop.create_task(self._close_on_loop()))
            return
        with contextlib.suppress(RuntimeError, TimeoutError):  # a loop that stopped or stalled
            asyncio.run_coroutine_threadsafe(self._close_on_loop(), loop).result(timeout)

    # -- publishing -----------------------------------------------------------------------------

    def _publish_sync(self, topic: str, channel: str, data: bytes) -> None:
        with self._lock:
            if self._sync_client is None:
                self._sync_client = self._redis.Redis.from_url(self.url, **self._options())
            client = self._sync_client
        try:
            client.publish(channel, data)
        except (self._redis.RedisError, OSError) as error:
            raise PubSubUnavailable(
                f"could not publish to Redis at {self.safe_url} (topic {topic!r}): {error}. The "
                "message was not sent: pub/sub delivers at most once. Check that redis-server "
                "runs there; livewidget.pubsub.status() shows what the bus last saw."
            ) from error

    async def _publish_async(self, channel: str, data: bytes) -> None:
        if self._async_client is None:
            self._async_client = self._redis.asyncio.Redis.from_url(self.url, **self._options())
        try:
            await self._async_client.publish(channel, data)
        except (self._redis.RedisError, OSError) as error:
            if not self._publish_failing and self._state != "down":  # else already said
                log.warning(
                    "livewidget pub/sub: could not publish to Redis at %s (%s); messages "
                    "broadcast from views are dropped until it answers again",
                    self.safe_url,
                    error,
                )
            self._publish_failing = True
        else:
            self._publish_failing = False

    def _options(self) -> dict[str, Any]:
        # One quick retry covers a pooled connection that a Redis restart broke; past that the
        # caller hears of the failure at once rather than after redis-py's own backoff.
        retry = self._redis.retry.Retry(self._redis.backoff.NoBackoff(), 1)
        return {
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_timeout": CONNECT_TIMEOUT,
            "socket_keepalive": True,
            "retry": retry,
        }

    # -- the reader (on the loop) ---------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """The loop of the reader and of publishes from views: livewidget's background loop."""
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = self._loop_factory()
            return self._loop

    def _wake(self) -> None:
        """Bring the reader in line with the topics wanted now (from any thread)."""
        with self._lock:
            idle = self._loop is None and not self._topics
        if idle:
            return
        loop = self._ensure_loop()
        with contextlib.suppress(RuntimeError):  # the loop has closed: the process is ending
            loop.call_soon_threadsafe(self._align)

    def _wanted(self) -> set[str]:
        with self._lock:
            return {topic for topic in self._topics if topic != STATUS_TOPIC}

    def _align(self) -> None:
        wanted = self._wanted()
        reader = self._reader
        running = reader is not None and not reader.done()
        if wanted and not running and not self._closed:
            if self._state == "idle":
                self._set_state("connecting")
            self._reader = asyncio.get_running_loop().create_task(self._read())
        elif not wanted and running:
            assert reader is not None
            reader.cancel()
        elif running and self._pubsub is not None and wanted != self._listening:
            self._track(asyncio.get_running_loop().create_task(self._resubscribe(self._pubsub)))

    async def _resubscribe(self, pubsub: PubSub) -> None:
        wanted = self._wanted()
        add, remove = wanted - self._listening, self._listening - wanted
        self._listening = wanted
        try:
            if add:
                await pubsub.subscribe(*(CHANNEL_PREFIX + topic for topic in add))
            if remove:
                await pubsub.unsubscribe(*(CHANNEL_PREFIX + topic for topic in remove))
        except (self._redis.RedisError, OSError):
            # The reader finds the broken connection too, reconnects and subscribes anew.
            if pubsub.connection is not None:
                await pubsub.connection.disconnect()

    async def _read(self) -> None:
        backoff = BACKOFF_START
        try:
            while True:
                try:
                    await self._listen()
                    return  # nothing wanted any more
                except (self._redis.RedisError, OSError) as error:
                    self._set_state("down", f"{type(error).__name__}: {error}")
                await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, BACKOFF_CAP)
        finally:
            self._set_state("idle")
            if not self._closed:  # topics wanted again while this reader was being stopped
                asyncio.get_running_loop().call_soon(self._align)

    async def _listen(self) -> None:
        """One connection's life: subscribe what is wanted, deliver until it breaks."""
        client = self._redis.asyncio.Redis.from_url(
            self.url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_keepalive=True,
            retry=self._redis.asyncio.retry.Retry(self._redis.backoff.NoBackoff(), 0),
        )
        pubsub = client.pubsub()
        try:
            wanted = self._wanted()
            if not wanted:
                return
            await pubsub.subscribe(*(CHANNEL_PREFIX + topic for topic in wanted))
            await pubsub.ping()  # its answer proves the connection (and AUTH, SELECT) work
            self._pubsub, self._listening = pubsub, wanted
            self._align()  # topics wanted while connecting
            heard = time.monotonic()
            pinged: float | None = heard  # until its answer comes, the connection is unproven
            while True:
                message = await pubsub.get_message(timeout=KEEPALIVE)
                now = time.monotonic()
                if message is None:
                    if pinged is not None and now - pinged >= KEEPALIVE:
                        raise self._redis.ConnectionError(
                            f"no answer to PING for {now - pinged:.0f} s"
                        )
                    if pinged is None and now - heard >= KEEPALIVE:
                        await pubsub.ping()
                        pinged = now
                    continue
                heard, pinged = now, None
                if message["type"] == "pong":
                    self._set_state("connected")
                elif message["type"] == "message":
                    self._deliver(message["channel"], message["data"])
        finally:
            self._pubsub, self._listening = None, set()
            with contextlib.suppress(Exception):  # closing a broken connection may fail: it's gone
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    def _deliver(self, channel: bytes, data: bytes) -> None:
        topic = channel.decode("utf-8", "replace").removeprefix(CHANNEL_PREFIX)
        with self._lock:
            subscribers = list(self._topics.get(topic, ()))
        if not subscribers:
            return
        try:
            message = decode(data)
        except ValueError as error:
            self._dropped += 1
            if self._dropped == 1:
                log.warning(
                    "livewidget pub/sub: dropped a message on %r that is not JSON (%s): %r. "
                    "Publish UTF-8 JSON, e.g. redis-cli PUBLISH %s '{\"price\": 1}'. Further "
                    "bad messages are dropped without a log line; status().dropped counts them.",
                    channel.decode("utf-8", "replace"),
                    error,
                    data[:100],
                    channel.decode("utf-8", "replace"),
                )
            return
        for subscriber in subscribers:
            subscriber.deliver(message)

    def _set_state(self, state: State, error: str | None = None) -> None:
        old, since = self._state, self._since
        if state == old:
            return
        self._state, self._since, self._error = state, time.time(), error
        if state == "down" and old != "down":
            log.warning(
                "livewidget pub/sub: Redis at %s is unreachable (%s); views go on, messages "
                "published meanwhile do not reach this process; reconnecting every %g s at most",
                self.safe_url,
                error,
                BACKOFF_CAP,
            )
        elif state == "connected" and old == "down":
            log.warning(
                "livewidget pub/sub: Redis at %s is back after %.1f s; listening to %d topics",
                self.safe_url,
                self._since - since,
                len(self._listening),
            )
        with self._lock:
            subscribers = list(self._topics.get(STATUS_TOPIC, ()))
        info = status_info(self.status())
        for subscriber in subscribers:
            subscriber.deliver(info)

    async def _close_on_loop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _register_census() -> None:
    """``census()`` counts, once a Redis bus exists, ``pubsub_readers`` (reader tasks, one
    connection each) and ``pubsub_channels`` (Redis channels listened to) of every Redis bus."""
    from ..runtime import census_sources  # runtime imports this package: import it late

    census_sources["pubsub_readers"] = lambda: sum(bus.readers() for bus in list(_live_buses))
    census_sources["pubsub_channels"] = lambda: sum(bus.channels() for bus in list(_live_buses))

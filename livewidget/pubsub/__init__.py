"""Pub/sub: views subscribe to topics; a broadcast reaches every subscriber's mailbox.

Two buses, one interface (``subscribe``, ``unsubscribe_all``, ``broadcast``,
``subscriptions``, ``status``, ``drain``, ``close``):

- ``local.Bus``, in the process: any Python object, delivered at once. The default.
- ``redis_bus.RedisBus``, over Redis: JSON messages, to every kernel and process on that Redis
  (``lw.configure(pubsub="redis://...")`` or ``LIVEWIDGET_PUBSUB``; see ``livewidget.config``
  and docs/pubsub.md).

``default_bus`` is what views use: it forwards to the bus configured now, chosen when first
used, and moves the open views' subscriptions when ``configure`` changes it. ``broadcast`` and
``status`` here act on it, from any thread or process.

A view can know the bus state: ``status()`` returns a ``BusStatus``, and a view subscribed to
``STATUS_TOPIC`` gets ``{"type": "pubsub_status", "state": ..., ...}`` as an info when it
subscribes and whenever the state changes (``connected``, ``down``, ...). That topic never
leaves the process.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from .. import config
from .common import (
    CHANNEL_PREFIX,
    MAX_MESSAGE_BYTES,
    STATUS_TOPIC,
    BusStatus,
    MessageNotSendable,
    PubSubUnavailable,
    Subscriber,
)
from .local import Bus
from .redis_bus import RedisBus

__all__ = [
    "CHANNEL_PREFIX",
    "MAX_MESSAGE_BYTES",
    "STATUS_TOPIC",
    "Bus",
    "BusStatus",
    "DefaultBus",
    "MessageNotSendable",
    "PubSubUnavailable",
    "RedisBus",
    "Subscriber",
    "broadcast",
    "default_bus",
    "status",
]


class Backend(Protocol):
    def subscribe(self, topic: str, subscriber: Subscriber) -> None: ...
    def unsubscribe_all(self, subscriber: Subscriber) -> None: ...
    def broadcast(self, topic: str, message: Any) -> None: ...
    def subscriptions(self) -> int: ...
    def drain(self) -> list[tuple[str, Subscriber]]: ...
    def status(self) -> BusStatus: ...
    def close(self) -> None: ...


def _make(url: str | None) -> Backend:
    return Bus() if url is None else RedisBus(url)


class DefaultBus:
    """The bus of views made without one: forwards to the configured bus of the moment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._moving = threading.Lock()
        self._backend: Backend | None = None
        self._url: str | None = None

    @property
    def backend(self) -> Backend:
        with self._lock:
            if self._backend is None:
                self._url = config.pubsub_url()
                self._backend = _make(self._url)
            return self._backend

    def use(self, url: str | None) -> None:
        """Switch to the bus for ``url``; open subscriptions move over, the old bus closes."""
        with self._moving:  # no view subscribes or leaves halfway through the move
            with self._lock:
                old = self._backend
                if old is not None and url == self._url:
                    return
                new = _make(url)
                self._backend, self._url = new, url
            if old is not None:
                for topic, subscriber in old.drain():
                    new.subscribe(topic, subscriber)
        if old is not None:
            old.close()  # may wait for the loop: outside the lock

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        with self._moving:
            self.backend.subscribe(topic, subscriber)

    def unsubscribe_all(self, subscriber: Subscriber) -> None:
        with self._moving:
            self.backend.unsubscribe_all(subscriber)

    def broadcast(self, topic: str, message: Any) -> None:
        self.backend.broadcast(topic, message)

    def subscriptions(self) -> int:
        with self._lock:
            backend = self._backend
        return 0 if backend is None else backend.subscriptions()

    def status(self) -> BusStatus:
        return self.backend.status()


default_bus = DefaultBus()


def broadcast(topic: str, message: Any) -> None:
    """Broadcast on the default bus from anywhere: notebook code, a thread, a plain process.

    With Redis configured the message must be JSON (else ``MessageNotSendable``), and outside
    livewidget's loop an unreachable Redis raises ``PubSubUnavailable``: the message is not sent.
    """
    default_bus.broadcast(topic, message)


def status() -> BusStatus:
    """The default bus's state: ``status().state`` is ``local``, ``idle``, ``connecting``,
    ``connected`` or ``down``."""
    return default_bus.status()

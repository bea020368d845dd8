"""Pub/sub: views subscribe to topics; a broadcast reaches every subscriber's mailbox.

The default bus lives in the process (one kernel). A subscriber is anything with ``post``,
which is thread-safe, so a broadcast from any thread or loop lands in each view's own mailbox
as an info, handled in order with the view's other messages.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, Protocol

__all__ = ["Bus", "Subscriber", "broadcast", "default_bus"]


class Subscriber(Protocol):
    def post(self, message: tuple[Any, ...]) -> None: ...


class Bus:
    """An in-process bus: topic -> subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: defaultdict[str, dict[Subscriber, None]] = defaultdict(dict)

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        with self._lock:
            self._topics[topic][subscriber] = None

    def unsubscribe_all(self, subscriber: Subscriber) -> None:
        with self._lock:
            for topic in [t for t, subs in self._topics.items() if subscriber in subs]:
                del self._topics[topic][subscriber]
                if not self._topics[topic]:
                    del self._topics[topic]

    def broadcast(self, topic: str, message: Any) -> None:
        with self._lock:
            subscribers = list(self._topics.get(topic, ()))
        for subscriber in subscribers:
            subscriber.post(("info", message))

    def subscriptions(self) -> int:
        """How many (topic, subscriber) pairs there are: zero once every view is closed."""
        with self._lock:
            return sum(len(subs) for subs in self._topics.values())


default_bus = Bus()


def broadcast(topic: str, message: Any) -> None:
    """Broadcast on the default bus from anywhere: notebook code, a thread, another view."""
    default_bus.broadcast(topic, message)

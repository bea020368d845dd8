"""The in-process bus: topic -> subscribers, in one kernel or process.

A subscriber is anything with ``post``, which is thread-safe, so a broadcast from any thread or
loop lands in each view's own mailbox as an info, handled in order with the view's other
messages. Messages are passed as they are (no copy, no JSON): every subscriber gets the same
object. This is the bus when nothing is configured; ``redis_bus.RedisBus`` reaches further.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

from .common import STATUS_TOPIC, BusStatus, Subscriber, status_info

__all__ = ["Bus"]


class Bus:
    """An in-process bus: topic -> subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: defaultdict[str, dict[Subscriber, None]] = defaultdict(dict)
        self._since = time.time()

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        with self._lock:
            self._topics[topic][subscriber] = None
        if topic == STATUS_TOPIC:
            subscriber.deliver(status_info(self.status()))

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
            subscriber.deliver(message)

    def subscriptions(self) -> int:
        """How many (topic, subscriber) pairs there are: zero once every view is closed."""
        with self._lock:
            return sum(len(subs) for subs in self._topics.values())

    def drain(self) -> list[tuple[str, Subscriber]]:
        """Remove and return every (topic, subscriber) pair: ``configure`` moves them on."""
        with self._lock:
            pairs = [(topic, sub) for topic, subs in self._topics.items() for sub in subs]
            self._topics.clear()
        return pairs

    def status(self) -> BusStatus:
        return BusStatus(backend="local", state="local", url=None, since=self._since)

    def close(self) -> None:
        """Nothing to release: the in-process bus holds no connection or task."""

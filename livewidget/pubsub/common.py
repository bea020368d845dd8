"""What every bus shares: the subscriber protocol, the bus status, the wire format, errors.

The wire format (used by the Redis bus; documented in docs/pubsub.md) is deliberately plain, so
that a producer in any language, or ``redis-cli``, can feed a view:

- a topic ``prices`` is the Redis channel ``livewidget:prices`` (``CHANNEL_PREFIX + topic``);
- the payload is the message as UTF-8 JSON, nothing around it: ``{"symbol": "ACME", "price": 1}``
  arrives in ``handle_info`` as that dict. ``NaN`` and infinities are refused (not JSON), and so
  is anything ``json.dumps`` cannot write (a ``datetime``, a set, an object): never pickle.
- a payload is at most ``MAX_MESSAGE_BYTES``; a larger one is refused at ``broadcast`` and
  dropped on arrival.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "CHANNEL_PREFIX",
    "MAX_MESSAGE_BYTES",
    "STATUS_TOPIC",
    "BusStatus",
    "MessageNotSendable",
    "PubSubUnavailable",
    "Subscriber",
    "decode",
    "encode",
    "status_info",
]

CHANNEL_PREFIX = "livewidget:"
MAX_MESSAGE_BYTES = 1024 * 1024
# A topic that never leaves the process: a view subscribed to it gets the bus status as an info
# ({"type": "pubsub_status", "state": ...}) when it subscribes and at every change of state.
STATUS_TOPIC = "livewidget.pubsub.status"

State = Literal["local", "idle", "connecting", "connected", "down"]


class Subscriber(Protocol):
    """A view's runtime, as the bus sees it."""

    def deliver(self, message: Any) -> None:
        """Hand ``message`` to ``handle_info``, in order with the view's other messages; callable
        from any thread."""


@dataclass(frozen=True)
class BusStatus:
    """Where the bus stands; ``livewidget.pubsub.status()`` returns the default bus's.

    ``state``: ``local`` (the in-process bus), ``idle`` (Redis configured, nothing subscribed in
    this process, so no connection held), ``connecting`` (the first attempt), ``connected``,
    ``down`` (lost or never reached: reconnecting with backoff; messages published meanwhile are
    not delivered). ``since``: when that state began (``time.time()``). ``error``: why it is
    down. ``channels``: Redis channels this process listens to. ``dropped``: messages that
    arrived and could not be read (not JSON, too large).
    """

    backend: Literal["local", "redis"]
    state: State
    url: str | None = None  # with any password masked
    since: float = field(default_factory=time.time)
    error: str | None = None
    channels: int = 0
    dropped: int = 0


def status_info(status: BusStatus) -> dict[str, Any]:
    """The info a subscriber of ``STATUS_TOPIC`` gets."""
    return {"type": "pubsub_status", **asdict(status)}


class MessageNotSendable(TypeError):
    """A message the Redis bus cannot carry: not JSON, or too large."""


class PubSubUnavailable(ConnectionError):
    """The Redis server could not be reached to publish: the message was not sent."""


def encode(topic: str, message: Any) -> bytes:
    """The message as the JSON bytes published on Redis, or a ``MessageNotSendable`` error."""
    if not isinstance(topic, str) or not topic:
        raise MessageNotSendable(
            f"a topic is a non-empty str, got {topic!r}; e.g. broadcast('prices', {{...}})"
        )
    try:
        text = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise MessageNotSendable(
            f"pub/sub over Redis carries JSON, and the message for topic {topic!r} is not JSON: "
            f"{error} (message: {_short_repr(message)}). Send dicts, lists, str, int, float "
            "(finite), bool and None; turn a datetime into an ISO string, a set into a list, "
            "an object into a dict of its fields."
        ) from None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate: no UTF-8 reader could take it
        raise MessageNotSendable(
            f"the message for topic {topic!r} holds text that is not valid Unicode ({error}); "
            "repair it first, e.g. s.encode('utf-8', 'replace').decode()"
        ) from None
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageNotSendable(
            f"the message for topic {topic!r} is {len(data):,} bytes of JSON; pub/sub carries at "
            f"most {MAX_MESSAGE_BYTES:,}. Publish a reference (a key, a URL, an id) and let the "
            "view fetch the data."
        )
    return data


def decode(data: bytes) -> Any:
    """A payload from Redis as a Python value; ``ValueError`` if it is not JSON or too large."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise ValueError(f"{len(data):,} bytes, more than MAX_MESSAGE_BYTES={MAX_MESSAGE_BYTES:,}")
    # UnicodeDecodeError and JSONDecodeError are ValueErrors; so is NaN, which is not JSON.
    return json.loads(data, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _short_repr(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

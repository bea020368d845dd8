"""Process-wide settings: ``lw.configure(...)``, and the environment variables behind them.

One setting so far, the pub/sub bus:

- ``lw.configure(pubsub="redis://HOST:PORT/DB")`` (``rediss://`` for TLS, a password as
  ``redis://:PASSWORD@HOST:PORT/DB``, ``unix:///path/redis.sock``) or the environment variable
  ``LIVEWIDGET_PUBSUB`` with the same value: views' ``subscribe`` / ``broadcast`` and
  ``livewidget.pubsub.broadcast`` go through that Redis. ``configure`` wins over the variable.
- ``lw.configure(pubsub=None)``, or neither set: the in-process bus (one kernel).

The variable is read when the bus is first used, not at import, so a notebook may set
``os.environ`` before its first view. ``configure`` applies at once, to open views too: their
subscriptions move to the new bus (nothing is re-mounted) and the old bus's connection closes.
Nothing connects until a view subscribes or something broadcasts: a Redis that is down at
``configure`` is no error (see docs/pubsub.md).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

__all__ = ["ENV_PUBSUB", "configure", "pubsub_url"]

ENV_PUBSUB = "LIVEWIDGET_PUBSUB"
SCHEMES = ("redis", "rediss", "unix")


class _Unset:
    def __repr__(self) -> str:
        return "<unchanged>"


_UNSET = _Unset()
_pubsub: str | _Unset | None = _UNSET


def configure(*, pubsub: str | _Unset | None = _UNSET) -> None:
    """Set process-wide options; an option left out keeps its value.

    ``pubsub``: a Redis URL for pub/sub across kernels and processes, or ``None`` for the
    in-process bus.
    """
    global _pubsub
    if isinstance(pubsub, _Unset):
        return
    url = check_pubsub_url(pubsub, "lw.configure(pubsub=...)")
    from .pubsub import default_bus  # the bus imports config: import it late

    default_bus.use(url)  # first: a failure (redis-py missing) leaves the setting as it was
    _pubsub = url


def pubsub_url() -> str | None:
    """The pub/sub URL in force: ``configure``'s, else ``LIVEWIDGET_PUBSUB``'s, else ``None``."""
    if not isinstance(_pubsub, _Unset):
        return _pubsub
    return check_pubsub_url(os.environ.get(ENV_PUBSUB) or None, f"${ENV_PUBSUB}")


def check_pubsub_url(url: object, where: str) -> str | None:
    """``url`` if it names a Redis server (or is ``None``), else a ``ValueError`` that says why."""
    if url is None:
        return None
    example = "redis://localhost:6379/0 (or rediss://:PASSWORD@HOST:6380/0)"
    if not isinstance(url, str):
        raise TypeError(f"{where} expects a Redis URL such as {example} or None, got {url!r}")
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES or (scheme != "unix" and not urlsplit(url).hostname):
        from .pubsub.redis_bus import mask_url

        raise ValueError(
            f"{where} expects a Redis URL such as {example}, got {mask_url(url)!r}; "
            f"the scheme must be one of {', '.join(SCHEMES)} and name a host"
        )
    return url

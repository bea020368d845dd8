"""Test-suite wide: the browser tests run last.

They are the slowest, so the fast tests report first. And Playwright's sync API keeps an event
loop running in the main thread while its session-scoped browser lives: tests that run a loop
of their own (the runtime's) must not share the process with it at the same time.
"""

from __future__ import annotations

import pytest

# A real redis-server on a free port, for unit and e2e tests alike (pub/sub over Redis).
from tests.redis_server import fresh_redis_server, redis_server

__all__ = ["fresh_redis_server", "redis_server"]  # fixtures, exported for pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: "e2e" in item.keywords)

"""Pub/sub over a real redis-server between real kernels (jupyter_client) and a plain process.

No browser here: what a view shows is read in its kernel (``view.widget.html``, the HTML the
page would show), which is what a broadcast from elsewhere changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager, start_new_kernel

from tests.redis_server import RedisServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]

PRICES = """
import json, livewidget as lw
from livewidget.runtime import census

class Prices(lw.LiveView):
    def mount(self, socket):
        socket.subscribe(TOPIC)
        socket.assign(price=0.0, source="nobody")

    def handle_info(self, info, socket):
        socket.assign(price=info["price"], source=info["from"])

    def render(self, ctx):
        return lw.html("<b>{source}: {price:.2f}</b>", **ctx)

view = Prices()
view.widget.html
"""


class Kernel:
    """A real ipykernel with ``LIVEWIDGET_PUBSUB`` set; ``json(code)`` runs code, returns JSON."""

    def __init__(self, manager: KernelManager, client: Any) -> None:
        self.manager, self.client = manager, client

    def run(self, code: str, cell_id: str | None = None) -> list[str]:
        """Run ``code``; with ``cell_id``, as JupyterLab runs that notebook cell (its metadata)."""
        printed: list[str] = []

        def collect(message: dict[str, Any]) -> None:
            if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
                printed.extend(message["content"]["text"].splitlines())

        session = self.client.session
        make = session.msg
        if cell_id is not None:  # jupyter_client's execute() takes no request metadata

            def with_cell(msg_type: str, content: Any = None, *args: Any) -> Any:
                return make(msg_type, content, None, None, {"cellId": cell_id})

            session.msg = with_cell
        try:
            reply = self.client.execute_interactive(code, timeout=60, output_hook=collect)
        finally:
            session.msg = make
        assert reply["content"]["status"] == "ok", reply["content"]
        return printed

    def json(self, code: str) -> Any:
        return json.loads(self.run(code)[-1])

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)


@pytest.fixture
def kernels(redis_server: RedisServer, tmp_path: Path) -> Iterator[Callable[[], Kernel]]:
    started: list[Kernel] = []
    env = {**os.environ, "LIVEWIDGET_PUBSUB": redis_server.url, "JUPYTER_PLATFORM_DIRS": "1"}

    def start() -> Kernel:
        manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=env)
        started.append(Kernel(manager, client))
        return started[-1]

    yield start
    for kernel in started:
        if kernel.manager.is_alive():
            kernel.shutdown()


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
    return result


def test_a_view_in_one_kernel_shows_broadcasts_from_another_kernel_and_a_plain_process(
    kernels: Callable[[], Kernel], redis_server: RedisServer
) -> None:
    a, b = kernels(), kernels()
    a.run("TOPIC = 'prices'\n" + PRICES)
    wait_for(lambda: redis_server.numsub("prices") == 1)
    b.run("import livewidget as lw\nlw.pubsub.broadcast('prices', {'price': 1.5, 'from': 'B'})")
    shown = "print(json.dumps(view.widget.html))"
    assert wait_for(lambda: a.json(shown) == "<b>B: 1.50</b>")

    producer = "import livewidget.pubsub as p; p.broadcast('prices', {'price': 2, 'from': 'feed'})"
    env = {**os.environ, "LIVEWIDGET_PUBSUB": redis_server.url}
    subprocess.run([sys.executable, "-c", producer], env=env, check=True, timeout=60)
    assert wait_for(lambda: a.json(shown) == "<b>feed: 2.00</b>")

    a.run("view.widget.close()")
    wait_for(lambda: redis_server.numsub("prices") == 0)
    counts = wait_for(
        lambda: (c := a.json("print(json.dumps(census()))"))["pubsub_readers"] == 0 and c
    )
    assert (counts["views"], counts["subscriptions"], counts["pubsub_channels"]) == (0, 0, 0)


def test_a_view_subscribed_to_another_topic_in_a_kernel_gets_nothing(
    kernels: Callable[[], Kernel], redis_server: RedisServer
) -> None:
    a = kernels()
    a.run("TOPIC = 'quiet'\n" + PRICES)
    wait_for(lambda: redis_server.numsub("quiet") == 1)
    with redis_server.client() as client:
        assert client.publish("livewidget:loud", '{"price": 9, "from": "elsewhere"}') == 0
        # a marker on the view's own topic, sent after: once it shows, the other has had its turn
    a.run("lw.pubsub.broadcast('quiet', {'price': 1, 'from': 'marker'})")
    assert wait_for(lambda: a.json("print(json.dumps(view.widget.html))") == "<b>marker: 1.00</b>")


def test_shutting_a_kernel_down_leaves_no_subscription_or_process(
    kernels: Callable[[], Kernel], redis_server: RedisServer
) -> None:
    # The server is the session's: earlier tests' processes (pytest's own buses) may hold
    # connections of their own. The kernel's are those that were not there before it started.
    with redis_server.client() as client:
        before = {c["id"] for c in client.client_list()}
        a = kernels()
        a.run("TOPIC = 'ending'\n" + PRICES)
        wait_for(lambda: redis_server.numsub("ending") == 1)
        assert {c["id"] for c in client.client_list()} - before, "the kernel is connected"
        pid = a.manager.provisioner.pid  # type: ignore[union-attr]  # a local kernel has one
        a.shutdown()
        assert not a.manager.is_alive()
        wait_for(lambda: redis_server.numsub("ending") == 0)
        # Redis sees the kernel's connections close a moment after its process ends
        wait_for(lambda: not {c["id"] for c in client.client_list()} - before)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_re_running_a_views_cell_leaves_one_subscription_for_the_new_view(
    kernels: Callable[[], Kernel], redis_server: RedisServer
) -> None:
    a = kernels()
    for _ in range(3):
        a.run("TOPIC = 'rerun'\n" + PRICES, cell_id="prices-cell")
    wait_for(lambda: redis_server.numsub("rerun") == 1)
    counts = a.json("print(json.dumps(census()))")
    assert (counts["views"], counts["subscriptions"], counts["pubsub_channels"]) == (1, 1, 1)
    a.run("lw.pubsub.broadcast('rerun', {'price': 3, 'from': 'again'})")
    assert wait_for(lambda: a.json("print(json.dumps(view.widget.html))") == "<b>again: 3.00</b>")

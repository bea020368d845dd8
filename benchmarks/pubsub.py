"""Pub/sub over Redis beside the in-process bus: latency, and fan-out to 100 views.

Real kernels (jupyter_client, no browser: the figures end at the view's ``handle_info``) and a
real ``redis-server`` started on a free port for the run (Debian's, ``make bench`` installs it).

- **latency**: from ``broadcast`` in one process to ``handle_info`` in a view in another kernel.
  This process publishes ``LATENCY_MESSAGES`` messages, ``LATENCY_GAP`` s apart, each carrying
  ``time.time()``; the view records ``time.time() - sent`` (one machine, one clock). Baseline:
  the in-process bus, ``broadcast`` from notebook code to a view in the same kernel, same pacing.
- **fan-out**: one topic, 100 views spread over 4 kernels (25 each); this process publishes
  ``FANOUT_MESSAGES`` messages as fast as it can; deliveries a second = messages x views / (last
  ``handle_info`` anywhere - first publish). Baseline: the in-process bus, 100 views in one
  kernel, broadcast from notebook code.

Every view renders on each message, as a dashboard would (the pacer sends at most one diff a
frame). Wall clock, on a shared machine: the load average is printed with the figures.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager, start_new_kernel

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests.redis_server, run from anywhere
from tests.redis_server import RedisServer

LATENCY_MESSAGES = 300
LATENCY_GAP = 0.01
FANOUT_MESSAGES = 200
VIEWS, KERNELS = 100, 4

PROBE = """
import json, time, livewidget as lw
from livewidget.runtime import census

class Probe(lw.LiveView):
    def mount(self, socket):
        self.latencies, self.got, self.last = [], 0, 0.0
        socket.subscribe(TOPIC)
        socket.assign(n=0)

    def handle_info(self, info, socket):
        now = time.time()
        self.latencies.append(now - info["t"])
        self.got, self.last = self.got + 1, now
        socket.assign(n=self.got)

    def render(self, ctx):
        return lw.html("<b>{n}</b>", **ctx)

views = [Probe() for _ in range(COUNT)]
for view in views:
    view.widget.html  # mounted
"""

WAIT = """
deadline = time.monotonic() + 60
while sum(v.got for v in views) < EXPECTED and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps({"got": sum(v.got for v in views), "last": max(v.last for v in views),
                  "latencies": [x for v in views for x in v.latencies]}))
"""

LOCAL_LATENCY = """
for _ in range({n}):
    lw.pubsub.broadcast("lat", {{"t": time.time()}})
    time.sleep({gap})
"""

LOCAL_FANOUT = """
start = time.time()
for i in range({n}):
    lw.pubsub.broadcast("fan", {{"t": time.time(), "i": i}})
print(json.dumps({{"start": start}}))
"""


class Kernel:
    def __init__(self, env: dict[str, str], cwd: str) -> None:
        self.manager: KernelManager
        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=cwd, env=env)

    def run(self, code: str) -> Any:
        printed: list[str] = []

        def collect(message: dict[str, Any]) -> None:
            if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
                printed.extend(message["content"]["text"].splitlines())

        reply = self.client.execute_interactive(code, timeout=120, output_hook=collect)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel cell failed: {reply['content'].get('evalue')}\n{code}")
        return json.loads(printed[-1]) if printed else None

    def setup(self, topic: str, count: int) -> None:
        self.run(f"TOPIC, COUNT = {topic!r}, {count}\n" + PROBE)

    def wait(self, expected: int) -> Any:
        return self.run(f"EXPECTED = {expected}\n" + WAIT)

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered) * 1000:6.2f} ms, p95 {p95 * 1000:6.2f} ms"


def _numsub(server: RedisServer, topic: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while server.numsub(topic) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} kernels never subscribed to {topic!r}")
        time.sleep(0.02)


def main() -> None:
    print(
        f"\nPub/sub: latency broadcast -> handle_info in another kernel ({LATENCY_MESSAGES} "
        f"messages, {LATENCY_GAP * 1000:.0f} ms apart), and fan-out of one topic to {VIEWS} views "
        f"({FANOUT_MESSAGES} messages); redis-server {RedisServer.version()} on this machine"
    )
    server = RedisServer().start()
    cwd = tempfile.mkdtemp(prefix="lw-bench-pubsub-")
    base = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "JUPYTER_PLATFORM_DIRS": "1"}
    base.pop("LIVEWIDGET_PUBSUB", None)
    redis_env = {**base, "LIVEWIDGET_PUBSUB": server.url}
    os.environ["LIVEWIDGET_PUBSUB"] = server.url  # this process publishes on Redis too
    import livewidget.pubsub as pubsub

    kernels: list[Kernel] = []
    try:
        local = Kernel(base, cwd)
        kernels.append(local)
        remote = [Kernel(redis_env, cwd) for _ in range(KERNELS)]
        kernels.extend(remote)

        # Latency.
        local.setup("lat", 1)
        local.run(LOCAL_LATENCY.format(n=LATENCY_MESSAGES, gap=LATENCY_GAP))
        local_lat = local.wait(LATENCY_MESSAGES)["latencies"]
        remote[0].setup("lat", 1)
        _numsub(server, "lat", 1)
        for _ in range(LATENCY_MESSAGES):
            pubsub.broadcast("lat", {"t": time.time()})
            time.sleep(LATENCY_GAP)
        redis_lat = remote[0].wait(LATENCY_MESSAGES)["latencies"]
        print(f"  latency, in-process bus (same kernel):  {_ms(local_lat)}")
        print(f"  latency, Redis (process -> kernel):     {_ms(redis_lat)}")

        # Fan-out.
        local.run("for view in views: view.widget.close()")
        local.setup("fan", VIEWS)
        start = local.run(LOCAL_FANOUT.format(n=FANOUT_MESSAGES))["start"]
        done = local.wait(FANOUT_MESSAGES * VIEWS)
        local_rate = done["got"] / (done["last"] - start)
        remote[0].run("for view in views: view.widget.close()")
        for kernel in remote:
            kernel.setup("fan", VIEWS // KERNELS)
        _numsub(server, "fan", KERNELS)
        start = time.time()
        for i in range(FANOUT_MESSAGES):
            pubsub.broadcast("fan", {"t": time.time(), "i": i})
        results = [k.wait(FANOUT_MESSAGES * (VIEWS // KERNELS)) for k in remote]
        got = sum(r["got"] for r in results)
        redis_rate = got / (max(r["last"] for r in results) - start)
        print(
            f"  fan-out, in-process bus, {VIEWS} views in 1 kernel:  "
            f"{local_rate:9,.0f} deliveries/s ({done['got']:,} of {FANOUT_MESSAGES * VIEWS:,})"
        )
        print(
            f"  fan-out, Redis, {VIEWS} views over {KERNELS} kernels:  "
            f"{redis_rate:9,.0f} deliveries/s ({got:,} of {FANOUT_MESSAGES * VIEWS:,})"
        )
    finally:
        for kernel in kernels:
            kernel.shutdown()
        server.close()
        os.environ.pop("LIVEWIDGET_PUBSUB", None)


if __name__ == "__main__":
    main()

"""benchmarks/serve_load.py with ``SERVE_LOAD_WORKERS``: the option, and the whole server
(supervisor and workers) measured as one, against real processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from benchmarks import serve_load, ws_client

# A process that starts a child, which starts a grandchild holding 64 MB it has written to
# and three idle threads; the grandchild says "ready" on the stdout all three share.
GRANDCHILD = (
    "import sys, threading, time\n"
    "block = bytearray(64_000_000)\n"
    "for i in range(0, len(block), 4096): block[i] = 1\n"
    "for _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)
CHILD = (
    "import subprocess, sys, time\n"
    f"subprocess.Popen([sys.executable, '-c', {GRANDCHILD!r}])\n"
    "time.sleep(60)\n"
)
PARENT = (
    "import subprocess, sys, time\n"
    f"subprocess.Popen([sys.executable, '-c', {CHILD!r}])\n"
    "time.sleep(60)\n"
)


def test_the_worker_count_comes_from_SERVE_LOAD_WORKERS_and_is_one_by_default() -> None:
    assert serve_load.workers_from({}) == 1
    assert serve_load.workers_from({"SERVE_LOAD_WORKERS": ""}) == 1
    assert serve_load.workers_from({"SERVE_LOAD_WORKERS": "2"}) == 2
    for wrong in ("two", "0", "-1"):
        with pytest.raises(ValueError, match=f"got '{wrong}': set it to 2"):
            serve_load.workers_from({"SERVE_LOAD_WORKERS": wrong})


def test_a_servers_usage_sums_the_memory_and_threads_of_every_descendant() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, start_new_session=True
    ) as parent:
        try:
            assert parent.stdout is not None
            assert parent.stdout.readline().strip() == "ready"  # the grandchild's
            reading = serve_load.usage(parent.pid)
        finally:
            serve_load._stop(parent)  # its process group: the three of them
    assert len(reading.rss) == 3  # the process, its child and its grandchild
    assert reading.total_rss > 64_000_000  # the grandchild's block counts
    assert reading.total_rss == sum(reading.rss.values())
    assert reading.total_threads >= 1 + 1 + 4
    # a process that was not there at the first reading counts with all its CPU
    assert reading.cpu_since(serve_load.Usage({}, {}, {})) == reading.cpu


def test_two_workers_share_the_tabs_and_the_reading_covers_supervisor_and_workers() -> None:
    port = serve_load._free_port()
    with tempfile.TemporaryDirectory(prefix="lw-serve-ready-") as ready:
        env = {**serve_load._env(), "SERVE_LOAD_READY_DIR": ready}
        server = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.serve_load", "serve", "livewidget", str(port), "2"],
            cwd=serve_load.REPO,
            env=env,
            start_new_session=True,
        )
        try:
            serve_load._wait_workers(Path(ready), 2, server)
            serve_load._wait_port(port, server)
            workers = {int(name.name) for name in Path(ready).iterdir()}
            views, reading = asyncio.run(_with_tabs(port, 40, server.pid))
        finally:
            serve_load._stop(server)
    # the supervisor, its two workers and multiprocessing's resource tracker (spawn's)
    assert len(workers) == 2
    assert set(views) >= {server.pid} | workers
    assert sum(views[pid] for pid in workers) == 40  # the supervisor only listens
    assert set(reading.rss) == set(views)
    assert reading.total_rss == sum(reading.rss.values())
    assert reading.total_threads >= 3


async def _with_tabs(port: int, count: int, pid: int) -> tuple[dict[int, int], serve_load.Usage]:
    """Open ``count`` tabs; once each has its first render, read the server; close them."""
    rendered: asyncio.Queue[None] = asyncio.Queue()

    def on_text(data: bytes, arrived: float) -> None:
        if b'"full"' in data:
            rendered.put_nowait(None)

    tabs = []
    try:
        for _ in range(count):
            tab = await ws_client.connect("127.0.0.1", port, "/", on_text)
            tab.send('{"type":"join"}')
            tabs.append(tab)
        for _ in range(count):
            await asyncio.wait_for(rendered.get(), 30)
        return serve_load.connections_by_process(pid, port), serve_load.usage(pid)
    finally:
        for tab in tabs:
            tab.close()
        if tabs:
            await asyncio.wait([asyncio.ensure_future(t.closed) for t in tabs], timeout=10)


def test_the_connect_rate_counts_the_tabs_opened_in_each_interval_even_an_empty_one() -> None:
    assert serve_load.per_interval([], 10.0) == []
    assert serve_load.per_interval([0.5, 9.9, 10.0, 31.2], 10.0) == [2, 1, 0, 1]


def test_the_stolen_share_is_steal_over_the_machines_time_without_counting_guests_twice() -> None:
    times = type(psutil.cpu_times())  # the platform's own tuple: scputimes
    if "steal" not in times._fields:
        assert serve_load.stolen_share(psutil.cpu_times(), psutil.cpu_times()) is None
        return
    zero = times(*(0.0 for _ in times._fields))
    # 2 cores for 10 s: 20 s of CPU time, of which 1 s stolen; guest time is inside user
    after = zero._replace(user=6.0, system=2.0, idle=11.0, steal=1.0, guest=4.0, guest_nice=0.0)
    assert serve_load.stolen_share(zero, after) == pytest.approx(0.05)
    assert serve_load.stolen_share(zero, zero) == 0.0
    # a real reading a moment apart: a share, whatever the machine
    before = psutil.cpu_times()
    sum(range(200_000))
    share = serve_load.stolen_share(before, psutil.cpu_times())
    assert share is not None
    assert 0.0 <= share <= 1.0

"""Closing a view stops what it started, ``start_async`` jobs included.

A job is the view's work (a report being built, a download): once the view is closed nobody
shows its result, and a job left running holds the data it works on, and keeps counting in
``census()``, for as long as it runs, possibly forever.
"""

import asyncio
import gc
import threading
import time
from typing import Any

import livewidget as lw
from livewidget.runtime import ViewRuntime, background_loop, census


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


class Downloader(lw.LiveView):
    """Starts a job that waits for data that never comes (a stalled download)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.results: list[Any] = []

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(state="idle")
        if socket.connected:
            socket.assign(state="loading")
            socket.start_async("download", self.download)

    async def download(self) -> str:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "data"

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        self.results.append(info)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<p>{state}</p>", **ctx)


def test_closing_a_widget_cancels_its_start_async_job():
    view = Downloader()
    widget = lw.LiveWidget(view)
    assert view.started.wait(10)
    widget.close()
    assert view.cancelled.wait(10), "the job still runs after close()"
    assert view.results == []


def test_closing_widgets_with_running_jobs_brings_the_census_tasks_back():
    gc.collect()  # test clients other tests left open are closed when collected
    baseline = census()["tasks"]
    views = [Downloader() for _ in range(3)]
    widgets = [lw.LiveWidget(view) for view in views]
    assert all(view.started.wait(10) for view in views)
    for widget in widgets:
        widget.close()
    # at most the baseline: what other tests left may end meanwhile, three stuck jobs may not
    wait_for(lambda: census()["tasks"] <= baseline)


def test_closing_a_view_on_a_shared_loop_cancels_its_start_async_job():
    """Views that share a loop (every view under ``livewidget serve``; a kernel's views past
    the first 200) leave it running when one closes: close() itself must cancel the job."""
    loop, _ = background_loop()
    view = Downloader()
    runtime = ViewRuntime(view, send=lambda message: None, loop=loop)
    runtime.start()
    assert view.started.wait(10)
    runtime.close()
    assert view.cancelled.wait(10), "the job still runs after close()"
    assert view.results == []

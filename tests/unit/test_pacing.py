"""Pacing: a view that changes all the time sends one render a frame, not one per change.

The Jupyter server drops IOPub messages past 1,000 a second per kernel, silently, so a view
must never send at the rate its data changes. These tests drive the widget's own ``Pacer`` on
the test client's virtual clock: one second of it takes a fraction of a second of real time.
"""

import itertools
from typing import Any

import livewidget as lw
from livewidget.runtime import Pacer
from livewidget.testing import LiveViewTest, live


class Busy(lw.LiveView):
    """Changes every millisecond, as a view fed by a fast sensor or a training loop does."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(n=0)
        if socket.connected:
            socket.repeat(lambda: socket.assign(n=socket.context.n + 1), 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<p>{n}</p>", **ctx)


def paced(view: Any) -> LiveViewTest:
    """The test client with the widget's pacer (60 frames a second) in place of its own, which
    sends whenever the view settles."""
    lv = live(view)
    lv._runtime.pacer = Pacer()  # its clock is the view's: the virtual one
    return lv


def test_a_view_changing_every_millisecond_sends_about_60_renders_a_second():
    lv = paced(Busy)
    before = len(lv.payloads)
    lv.advance(1000)
    sent = len(lv.payloads) - before
    assert 55 <= sent <= 61, f"{sent} renders in one second"


def test_the_renders_of_a_busy_view_are_a_frame_apart():
    renders: list[float] = []
    clock: list[Any] = []  # the client's, once it exists (the mount renders before)

    class Timed(Busy):
        def render(self, ctx: lw.Context) -> lw.Rendered:
            if clock:
                renders.append(clock[0].now())
            return super().render(ctx)

    lv = paced(Timed)
    clock.append(lv.clock)
    lv.advance(200)
    gaps = [b - a for a, b in itertools.pairwise(renders)]
    assert len(gaps) >= 10, f"renders at {renders}"
    assert min(gaps) >= 1 / 60 - 1e-9, f"renders {min(gaps) * 1000:.1f} ms apart"


def test_a_burst_of_changes_is_one_render_showing_the_last():
    class Burst(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(n=0)

        def handle_info(self, info: Any, socket: lw.Socket) -> None:
            socket.assign(n=socket.context.n + 1)

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("<p>{n}</p>", **ctx)

    lv = paced(Burst)
    lv.advance(100)
    before = len(lv.payloads)
    for _ in range(200):
        lv.send_info("tick")
    lv.advance(100)
    assert lv.payloads[before:] == [{"0": "200"}]

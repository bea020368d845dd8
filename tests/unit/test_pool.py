"""The worker pool that runs views' plain functions, and coalesced ``repeat`` timers.

A view's plain calls run one at a time, in order, on a few worker threads that every view
shares (``livewidget.runtime.loop.Pool``); a call that blocks holds up its own view, while the
views waiting behind it move to another worker. ``repeat`` ticks of the same interval that fall
due within a frame of each other fire in one callback, never early
(``livewidget.runtime.scheduling.Coalescer``). Waiting is by condition, never by a fixed time.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import livewidget as lw
from livewidget.jupyter import LiveWidget
from livewidget.runtime import ViewClosed
from livewidget.runtime.loop import Pool, ViewThread
from livewidget.runtime.messages import Message, Tick
from livewidget.runtime.scheduling import COALESCE_SLACK, Repeat, coalescer, on_beat
from livewidget.socket import Cancellable
from livewidget.testing import live
from livewidget.testing.clock import VirtualClock


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.002)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop run by this test's thread (``outcome`` runs it until a call is done)."""
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


def outcome(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(future, 20))


def test_a_call_that_blocks_holds_up_its_own_view_and_the_pool_grows_for_the_others(
    loop: asyncio.AbstractEventLoop,
) -> None:
    pool = Pool(grow_after=0.01)
    blocked, other = ViewThread(loop, "blocked", pool), ViewThread(loop, "other", pool)
    release = threading.Event()
    try:
        stuck = blocked.call(lambda: (release.wait(30), threading.get_ident())[1])
        wait_for(lambda: blocked.started_at is not None)
        # queued behind the blocked call at first, on the same worker: it moves on
        assert outcome(loop, other.call(threading.get_ident)) != blocked.ident
        assert not stuck.done()
        assert len(pool.workers) == 2
        release.set()
        outcome(loop, stuck)
    finally:
        release.set()
        blocked.stop()
        other.stop()


def test_what_a_call_returned_reaches_its_view_while_the_next_call_on_that_worker_blocks(
    loop: asyncio.AbstractEventLoop,
) -> None:
    pool = Pool(max_workers=1)  # no worker to move to: all three run on one thread
    gate, quick, slow = (ViewThread(loop, name, pool) for name in ("gate", "quick", "slow"))
    opened, released = threading.Event(), threading.Event()
    try:
        held = gate.call(opened.wait, 30)
        wait_for(lambda: gate.started_at is not None)
        answer = quick.call(lambda: "quick")  # queued behind the gate,
        blocking = slow.call(released.wait, 30)  # and this behind it, on the same worker
        opened.set()
        assert outcome(loop, answer) == "quick"  # handed over though the worker is stuck
        assert outcome(loop, held) is True
        assert not blocking.done()
        released.set()
        assert outcome(loop, blocking) is True
    finally:
        opened.set()
        released.set()
        for lane in (gate, quick, slow):
            lane.stop()


def test_a_views_calls_run_one_at_a_time_in_order_whichever_worker_runs_them(
    loop: asyncio.AbstractEventLoop,
) -> None:
    pool = Pool(grow_after=0.005)
    lanes = [ViewThread(loop, f"view-{i}", pool) for i in range(3)]
    seen: dict[int, list[int]] = {i: [] for i in range(3)}
    running = [0, 0, 0]
    overlaps: list[int] = []
    threads: set[int] = set()

    def step(lane: int, n: int) -> None:
        running[lane] += 1
        if running[lane] > 1:
            overlaps.append(lane)
        threads.add(threading.get_ident())
        if n % 25 == 0:
            time.sleep(0.02)  # past grow_after: the calls waiting behind move to a free worker
        seen[lane].append(n)
        running[lane] -= 1

    futures = [lanes[i].call(step, i, n) for n in range(100) for i in range(3)]
    try:
        loop.run_until_complete(asyncio.wait_for(asyncio.gather(*futures), 60))
        assert seen == {i: list(range(100)) for i in range(3)}
        assert overlaps == []
        assert len(threads) > 1  # the calls did move between workers
    finally:
        for lane in lanes:
            lane.stop()


def test_stopping_a_view_ends_its_call_that_never_returns_and_its_worker_serves_on(
    loop: asyncio.AbstractEventLoop,
) -> None:
    pool = Pool(max_workers=1)
    runaway, next_view = ViewThread(loop, "runaway", pool), ViewThread(loop, "next", pool)

    def spin() -> None:
        while True:  # never returns, never sleeps
            pass

    spinning = runaway.call(spin)
    wait_for(lambda: runaway.started_at is not None)
    worker = runaway.ident
    runaway.stop()
    with pytest.raises(ViewClosed):
        outcome(loop, spinning)
    assert outcome(loop, next_view.call(threading.get_ident)) == worker  # the same worker
    assert outcome(loop, next_view.call(lambda: "still here")) == "still here"
    next_view.stop()


def test_a_worker_that_no_view_needs_ends_after_idling(loop: asyncio.AbstractEventLoop) -> None:
    pool = Pool(idle_seconds=0.05)
    lane = ViewThread(loop, "view", pool)
    assert outcome(loop, lane.call(lambda: 42)) == 42
    (worker,) = pool.workers
    assert worker.thread.is_alive()  # the view still calls it home
    lane.stop()
    wait_for(lambda: not worker.thread.is_alive())
    assert pool.workers == []


class _Plain(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(n=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(n=socket.context.n + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<b>{n}</b>", **ctx)


def test_many_views_with_plain_code_share_a_few_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(LiveWidget, "send", lambda self, content, buffers=None: None)
    LiveWidget(_Plain()).close()  # the shared loop and the pool's first worker
    before = threading.active_count()
    widgets = [LiveWidget(_Plain()) for _ in range(40)]
    try:
        for widget in widgets:
            widget._on_front_message(
                widget, {"type": "event", "kind": "click", "event": "inc", "value": {}}, []
            )
        wait_for(lambda: all(w.context["n"] == 1 for w in widgets))
        assert all(w.html == "<b>1</b>" for w in widgets)
        assert threading.active_count() <= before + 2  # not a thread per view
    finally:
        for widget in widgets:
            widget.close()


# -- coalesced repeat timers ------------------------------------------------------------------


class _Host:
    """What a ``Repeat`` needs: a clock, a mailbox (here: when each tick was posted)."""

    def __init__(self, clock: VirtualClock, ticks: list[tuple[float, int, Repeat]]) -> None:
        self.clock = clock
        self._ticks = ticks
        self._callbacks = 0

    def post(self, message: Message) -> None:
        assert isinstance(message, Tick)
        message.timer.pending = False  # handled at once
        self._ticks.append((self.clock.now(), self._callbacks, message.timer))

    def forget_timer(self, timer: Cancellable) -> None:
        pass


def run_clock(clock: VirtualClock, until: float, calls: list[float]) -> None:
    """Fire the clock's timers up to ``until``, noting when each callback ran."""
    while (timer := clock.pop_due(until)) is not None:
        calls.append(clock.now())
        timer.callback()
    clock.move_to(until)


def test_repeat_ticks_due_within_a_frame_fire_in_one_callback_and_never_early() -> None:
    clock = VirtualClock()
    ticks: list[tuple[float, int, Repeat]] = []
    calls: list[float] = []
    host = _Host(clock, ticks)
    starts: dict[Repeat, float] = {}
    for offset in (0.0, 0.004, 0.009, 0.012, 0.5):  # the last one a half interval away
        run_clock(clock, offset, calls)
        timer = Repeat(host, lambda: None, 1.0)
        timer.start()
        starts[timer] = offset
    run_clock(clock, 2.0, calls)
    armed = []
    call_later = clock.call_later
    clock.call_later = lambda delay, callback: armed.append(delay) or call_later(delay, callback)  # type: ignore[method-assign]  # counts the timers the groups set
    run_clock(clock, 10.6, calls)
    assert len(calls) == 20  # 2 callbacks a second, where each timer had its own: 5
    assert len(armed) == len(calls) - 2  # one timer set a group and tick (not one a member)
    assert coalescer(clock).groups == 2
    per_timer: dict[Repeat, list[float]] = {}
    for at, _, timer in ticks:
        per_timer.setdefault(timer, []).append(at)
    for timer, fired in per_timer.items():
        assert len(fired) == 10
        for k, at in enumerate(fired, start=1):
            due = starts[timer] + k
            assert due - 1e-9 <= at <= due + COALESCE_SLACK  # never early, at most a frame late


def test_the_ticks_of_a_group_are_handed_on_earliest_due_first() -> None:
    """The tick that waited longest for its group goes first (earliest deadline first): the
    wait for the group and the wait behind the others' handling add up for none."""
    clock = VirtualClock()
    ticks: list[tuple[float, int, Repeat]] = []
    calls: list[float] = []
    host = _Host(clock, ticks)
    starts: dict[Repeat, float] = {}
    for offset in (0.0, 0.003, 0.006, 0.009, 0.012):  # one group: within a frame
        run_clock(clock, offset, calls)
        timer = Repeat(host, lambda: None, 1.0)
        timer.start()
        starts[timer] = offset
    armed = []
    call_later = clock.call_later
    clock.call_later = lambda delay, callback: armed.append(delay) or call_later(delay, callback)  # type: ignore[method-assign]  # counts the timers the groups set
    run_clock(clock, 3.5, calls)
    assert len(calls) == 3
    for second in range(3):
        fired = [timer for _, _, timer in ticks[second * 5 : second * 5 + 5]]
        assert [starts[t] for t in fired] == sorted(starts.values())  # earliest due first
    assert len(armed) == 3  # still one timer a group and tick


def test_a_cancelled_repeat_leaves_its_group_and_the_others_tick_on() -> None:
    clock = VirtualClock()
    ticks: list[tuple[float, int, Repeat]] = []
    calls: list[float] = []
    host = _Host(clock, ticks)
    first, second = Repeat(host, lambda: None, 0.5), Repeat(host, lambda: None, 0.5)
    first.start()
    run_clock(clock, 0.01, calls)
    second.start()
    run_clock(clock, 1.2, calls)
    first.cancel()
    run_clock(clock, 3.0, calls)
    assert [t for _, _, t in ticks].count(first) == 2
    assert [t for _, _, t in ticks].count(second) == 5
    second.cancel()
    assert coalescer(clock).groups == 0
    assert clock.next_due() == float("inf")  # nothing left on the clock


@pytest.mark.parametrize("slack", [COALESCE_SLACK, 0.001])
def test_thousands_of_repeats_at_random_phases_tick_never_early_nor_late_by_more_than_the_slack(
    slack: float,
) -> None:
    """The coalescer's index (by interval and slot of the clock): 1,000 repeats started at
    random instants, a third of them cancelled halfway, every tick within ``slack`` after it
    was due, far fewer callbacks than ticks, and nothing left once all are cancelled."""
    import random

    from livewidget.runtime import scheduling

    clock = VirtualClock()
    scheduling._coalescers[clock] = scheduling.Coalescer(clock, slack)
    ticks: list[tuple[float, int, Repeat]] = []
    calls: list[float] = []
    host = _Host(clock, ticks)
    rng = random.Random(7)
    starts: dict[Repeat, float] = {}
    for offset in sorted(rng.uniform(0, 1) for _ in range(1_000)):
        run_clock(clock, offset, calls)
        timer = Repeat(host, lambda: None, 1.0)
        timer.start()
        starts[timer] = offset
    run_clock(clock, 3.5, calls)
    cancelled = set(rng.sample(sorted(starts, key=starts.__getitem__), 333))
    for timer in cancelled:
        timer.cancel()
    run_clock(clock, 6.5, calls)
    per_timer: dict[Repeat, list[float]] = {}
    for at, _, timer in ticks:
        per_timer.setdefault(timer, []).append(at)
    for timer, start in starts.items():
        fired = per_timer.get(timer, [])
        end = 3.5 if timer in cancelled else 6.5
        dues = [start + k for k in range(1, 7)]
        certain = [due for due in dues if due + slack < end]  # fired before the clock stopped
        maybe = [due for due in dues if due <= end < due + slack]  # its group may fire after
        assert len(certain) <= len(fired) <= len(certain) + len(maybe)
        for due, at in zip(dues, fired, strict=False):
            assert due - 1e-9 <= at <= due + slack + 1e-9  # never early, at most the slack late
    # grouped: far fewer callbacks than ticks (at a 1 ms slack, 1,000 phases a second are about
    # two a group)
    assert len(calls) < len(ticks) * (0.5 if slack > 0.01 else 0.75)
    assert 0 < coalescer(clock).groups <= 2 / slack + 1
    for timer in starts:
        timer.cancel()
    assert coalescer(clock).groups == 0
    assert clock.next_due() == float("inf")


def test_repeats_on_a_beat_started_apart_tick_in_one_callback_never_early() -> None:
    """The kernel's repeats (``beat=1``): started at any instant, those of one interval tick
    together on the whole second, each no earlier than an interval after its start and less
    than a beat later; then exactly an interval apart."""
    clock = VirtualClock()
    ticks: list[tuple[float, int, Repeat]] = []
    calls: list[float] = []
    host = _Host(clock, ticks)
    starts: dict[Repeat, float] = {}
    for offset in (0.05, 0.3, 0.55, 0.99, 1.7):
        run_clock(clock, offset, calls)
        timer = Repeat(host, lambda: None, 1.0, beat=1.0)
        timer.start()
        starts[timer] = offset
    run_clock(clock, 8.5, calls)
    per_timer: dict[Repeat, list[float]] = {}
    for at, _, timer in ticks:
        per_timer.setdefault(timer, []).append(at)
    for timer, fired in per_timer.items():
        assert starts[timer] + 1.0 - 1e-9 <= fired[0] < starts[timer] + 2.0
        assert all(abs(b - a - 1.0) < 1e-9 for a, b in itertools.pairwise(fired))
        assert all(abs(at - round(at)) < 1e-9 for at in fired)  # on the whole second
    assert calls == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]  # one callback a beat for all five


def test_on_beat_is_never_early_and_late_by_less_than_its_step() -> None:
    for start in (0.0, 0.001, 0.4999, 3.25, 17.999999, 1e6 + 0.3):
        for interval, beat in ((1.0, 1.0), (0.25, 1.0), (5.0, 1.0), (1.5, 1.0), (1.0, 0.0)):
            first = on_beat(start, interval, beat)
            step = min(interval, beat)
            assert start + interval - 1e-6 <= first
            assert first < start + interval + (step if step > 0 else 1e-9)
    assert on_beat(2.0, 1.0, 1.0) == 3.0  # already on the beat: not a beat later
    assert on_beat(2.3, 0.25, 1.0) == 2.75  # a quarter second: on its own quarter
    assert on_beat(2.3, 1.0, 0.0) == 3.3  # without a beat: one interval after start


def test_a_widget_ticks_on_the_kernels_beat_and_the_test_client_at_start_plus_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(LiveWidget, "send", lambda self, content, buffers=None: None)

    class Ticking(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            self.timer = socket.repeat(lambda: None, 1000)
            socket.assign(n=0)

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{n}", **ctx)

    widget = LiveWidget(Ticking())
    try:
        due = widget.view.timer.due
        assert abs(due - round(due)) < 1e-9  # the kernel's views tick on the whole second
    finally:
        widget.close()
    view = Ticking()
    with live(view):
        assert view.timer.due == pytest.approx(1.0)  # the test client's: start + interval

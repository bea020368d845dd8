"""The runtime: mailbox order, timers without drift, pacing, rollback, lifecycle."""

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest

import livewidget as lw
from livewidget.runtime import Event, Info, Pacer, ViewRuntime
from livewidget.testing import VirtualClock, live


class Recorder(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(log=())

    async def handle_info(self, info: Any, socket: lw.Socket) -> None:
        if isinstance(info, float):
            await asyncio.sleep(info)
        socket.assign(log=(*socket.context.log, info))

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(log=(*socket.context.log, event))

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<p>{n}</p>", n=len(ctx.log))


def test_messages_are_handled_in_order_one_at_a_time():
    lv = live(Recorder)
    lv._runtime.post(Info(0.01))  # an async handler that awaits: the next waits for it
    lv._runtime.post(Info("b"))
    lv._runtime.post(Event("c", {}))
    lv.send_info("d")
    assert lv.context.log == ()  # the sleep is on the virtual clock: everything waits behind it
    lv.advance(10)
    assert lv.context.log == (0.01, "b", "c", "d")


def test_a_long_run_of_messages_is_handled_whole_and_in_order_while_more_arrive():
    """The mailbox reads a list from an index and drops what it has read in batches: 1,000
    infos posted at once, and a handler that posts more behind them, all come out once, in
    the order posted."""

    class Chain(Recorder):
        async def handle_info(self, info: Any, socket: lw.Socket) -> None:
            await super().handle_info(info, socket)
            if isinstance(info, int) and info % 100 == 0:
                socket.send_info(f"after {info}")  # behind everything posted so far

    lv = live(Chain)
    for n in range(1_000):
        lv._runtime.post(Info(n))
    lv.advance(10)
    log = lv.context.log
    assert [x for x in log if isinstance(x, int)] == list(range(1_000))
    assert [x for x in log if isinstance(x, str)] == [f"after {n}" for n in range(0, 1_000, 100)]
    assert log.index("after 0") > log.index(999)  # behind what was queued when it was sent
    assert lv._runtime.queued == 0


def test_send_info_after_ms_arrives_when_due():
    class Later(Recorder):
        def mount(self, socket: lw.Socket) -> None:
            super().mount(socket)
            socket.send_info("late", after_ms=500)

    lv = live(Later)
    lv.advance(499)
    assert lv.context.log == ()
    lv.advance(1)
    assert lv.context.log == ("late",)


def test_repeat_does_not_drift_and_can_be_cancelled():
    ticks: list[float] = []

    class Every(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            self.timer = socket.repeat(lambda: ticks.append(lv.clock.now()), 250)
            socket.assign(x=0)

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{x}", **ctx)

    view = Every()
    lv = live(view)
    lv.advance(1000)
    assert ticks == [0.25, 0.5, 0.75, 1.0]
    view.timer.cancel()
    lv.advance(1000)
    assert len(ticks) == 4


def test_many_updates_between_sends_coalesce_into_one_diff():
    lv = live(Recorder)
    for i in range(100):
        lv._runtime.post(Info(i))
    lv.send_info("last")
    assert lv.payloads[-1] == {"0": "101"}
    assert len(lv.payloads) == 2


def test_a_render_that_fails_rolls_the_context_back():
    class Fragile(Recorder):
        def render(self, ctx: lw.Context) -> lw.Rendered:
            if "bad" in ctx.log:
                raise ValueError("cannot render bad")
            return super().render(ctx)

    lv = live(Fragile, raise_errors=False)
    lv.send_info("ok")
    lv.send_info("bad")
    assert lv.context.log == ("ok",)
    assert "cannot render bad" in str(lv.errors[0])
    lv.send_info("fine")
    assert lv.has_element("p", text="2")


def test_render_must_return_a_template():
    class Plain(lw.LiveView):
        def render(self, ctx: lw.Context) -> Any:
            return "<b>hi</b>"

    lv = live(Plain, raise_errors=False)
    assert "must return lw.html(...), got str" in str(lv.errors[0])
    assert "Wrap the markup in lw.html" in str(lv.errors[0])


def test_a_handler_that_returns_a_value_is_told_how_to_assign():
    class Returns(Recorder):
        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> Any:
            return {"log": ("x",)}

    lv = live(Returns, raise_errors=False)
    lv._runtime.post(Event("x", {}))
    lv.send_info("y")
    assert "returned {'log': ('x',)}" in str(lv.errors[0])
    assert lv.context.log == ("y",)


class Flushes:
    """A stand-in view for the pacer: when it was flushed, on the clock it runs on."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.at: list[float] = []

    def flush(self) -> None:
        self.at.append(self.clock.now())


def run_timers(clock: VirtualClock, until: float) -> None:
    while (timer := clock.pop_due(until)) is not None:
        timer.callback()


def test_the_pacer_sends_at_most_once_a_frame_per_view_and_caps_the_total():
    clock = VirtualClock()
    pacer = Pacer(frame=0.1, max_per_second=20, burst=2)  # two at once, then one each 50 ms
    views = [Flushes(clock) for _ in range(4)]
    for view in views:
        pacer.request(view)
    pacer.request(views[0])  # twice before its turn: still one send
    run_timers(clock, 10)
    assert [round(t, 9) for v in views for t in v.at] == [0.0, 0.0, 0.05, 0.1]


def test_the_pacer_keeps_a_frame_between_one_views_sends():
    clock = VirtualClock()
    pacer = Pacer(frame=1 / 60, max_per_second=400)
    view = Flushes(clock)
    for step in range(1, 201):  # a view that changes every millisecond for 200 ms
        pacer.request(view)
        run_timers(clock, step / 1000)
        clock.move_to(step / 1000)
    assert len(view.at) <= 13, view.at  # 200 ms at one send a frame (60 a second)
    gaps = [b - a for a, b in zip(view.at, view.at[1:], strict=False)]
    assert min(gaps) >= 1 / 60 - 1e-9


def test_the_pacer_is_shared_by_views_on_loops_of_their_own():
    clock_a, clock_b = VirtualClock(), VirtualClock()
    pacer = Pacer(frame=0.1, max_per_second=10, burst=1)  # one send a frame in all
    a, b = Flushes(clock_a), Flushes(clock_b)
    pacer.request(a)
    pacer.request(b)
    run_timers(clock_a, 10)
    run_timers(clock_b, 10)
    assert (a.at, b.at) == ([0.0], [0.1])  # b waits its turn on its own clock


def test_closing_leaves_no_timer_task_or_subscription():
    loop = asyncio.new_event_loop()
    clock = VirtualClock()
    bus = lw_bus()

    class Busy(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.repeat(lambda: None, 10)
            socket.send_info("x", after_ms=10_000)
            socket.subscribe("news")
            socket.assign(x=1)

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{x}", **ctx)

    runtime = ViewRuntime(Busy(), send=lambda m: None, loop=loop, clock=clock, bus=bus)
    runtime.start()
    loop.run_until_complete(asyncio.sleep(0.01))
    assert runtime.timer_count == 2
    assert clock.pending == 3  # and the pacer's turn to send the mount's render
    assert bus.subscriptions() == 1
    runtime.close()
    loop.run_until_complete(asyncio.sleep(0.01))
    assert clock.pending == 0
    assert bus.subscriptions() == 0
    assert all(task.done() for task in asyncio.all_tasks(loop))
    loop.close()


def lw_bus() -> Any:
    from livewidget.pubsub import Bus

    return Bus()


def test_every_event_is_answered_even_when_nothing_changed():
    class Idle(Recorder):
        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            pass

    lv = live(Idle)
    before = len(lv.messages)
    lv._runtime.post(Event("noop", {}))
    lv.advance(0)
    answer = lv.messages[before:]
    assert [(m["type"], m["rendered"]) for m in answer] == [("diff", {})]


def test_a_pushed_event_follows_the_render_of_its_handler():
    class Pusher(Recorder):
        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            socket.push_event("highlight", {"id": 1})
            socket.assign(log=("pushed",))

    lv = live(Pusher)
    lv._runtime.post(Event("go", {}))
    lv.advance(0)
    assert [m["type"] for m in lv.messages[-2:]] == ["diff", "push_event"]
    assert lv.messages[-1]["payload"] == {"id": 1}


class EagerPacer:
    """A pacer whose turn comes the moment a view asks, as the real one's may while a plain
    handler still runs on the view's thread (under uvloop, a due timer runs before the wake-up
    of the task that waits for the handler)."""

    def request(self, runtime: Any) -> None:
        runtime.flush()

    def discard(self, runtime: Any) -> None:
        pass


def test_a_push_waits_for_the_render_of_its_handler_even_when_the_pacer_turns_meanwhile():
    # Sent at once, the push would reach the page before the diff of its own handler, and that
    # diff would undo what a hook drew for it (the served hooks demo: the canvas's border went
    # back to the template's colour, on every fresh clone, whose uvicorn runs uvloop).
    class Pusher(Recorder):
        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            socket.assign(log=("pushed",))
            socket.push_event("flash", {"color": "tomato"})

    loop = asyncio.new_event_loop()
    sent: list[dict[str, Any]] = []
    runtime = ViewRuntime(Pusher(), send=sent.append, loop=loop, pacer=EagerPacer())
    try:
        runtime.start()
        loop.run_until_complete(runtime.idle())
        before = len(sent)
        runtime.post(Event("go", {}))
        loop.run_until_complete(runtime.idle())
        after = sent[before:]
        assert [m["type"] for m in after] == ["diff", "push_event"], after
        assert after[0]["rendered"], "the diff shows what the handler assigned"
    finally:
        runtime.close()
        loop.run_until_complete(asyncio.sleep(0.01))
        loop.close()


def test_errors_in_quick_succession_are_batched_and_the_latest_is_shown_later():
    class Failing(Recorder):
        def handle_info(self, info: Any, socket: lw.Socket) -> None:
            raise ValueError(f"failure {info}")

    view = Failing()
    lv = live(view, raise_errors=False)
    lv._runtime.outbox.error_interval = 1.0  # the widget's setting, on the virtual clock's timers
    for i in range(5):
        lv.send_info(i)
    shown = [m["message"] for m in lv.messages if m["type"] == "error"]
    assert len(lv.errors) == 5
    assert len(shown) == 1
    assert shown[0].endswith("failure 0")
    lv.advance(1000)
    shown = [m["message"] for m in lv.messages if m["type"] == "error"]
    assert shown[-1].endswith("failure 4 (and 3 more errors like it, not shown)")


def test_a_quiet_view_says_which_payload_was_its_last_at_2_6_14_30_and_62_s():
    class Quiet(Recorder):
        def mount(self, socket: lw.Socket) -> None:
            super().mount(socket)
            socket.send_info("late", after_ms=20_000)

    lv = live(Quiet)
    settled_at: list[tuple[float, int]] = []
    while lv.clock.now() < 120:
        before = len(lv.messages)
        lv.advance(500)
        settled_at += [
            (lv.clock.now(), m["seq"]) for m in lv.messages[before:] if m["type"] == "settled"
        ]
    renders = [m for m in lv.messages if m["type"] in ("full", "diff")]
    assert [m["seq"] for m in renders] == [1, 2]  # the first render, and "late" at 20 s
    # quiet after the first render (at 0 s): 2, 6 and 14 s; after "late" at 20 s the series
    # starts again, though the next settle was due at 30 s: 22, 26, 34, 50 and 82 s
    assert settled_at == [
        (2.0, 1),
        (6.0, 1),
        (14.0, 1),
        (22.0, 2),
        (26.0, 2),
        (34.0, 2),
        (50.0, 2),
        (82.0, 2),
    ]


def test_a_view_that_keeps_changing_sends_no_settled_message():
    lv = live(Recorder)
    for k in range(40):  # a change every 1.5 s for a minute
        lv.send_info(k)
        lv.advance(1500)
    assert [m for m in lv.messages if m["type"] == "settled"] == []
    lv.advance(2000)
    assert lv.messages[-1] == {"type": "settled", "seq": lv.messages[-2]["seq"]}


def test_a_flood_rests_the_loop_thread_after_each_10_ms_streak_and_a_trickle_never():
    from livewidget.runtime.loop import Streak

    clock = [0.0]  # seconds on a clock of the test's own: the machine's speed plays no part
    rests: list[float] = []

    def rest(seconds: float) -> None:
        rests.append(seconds)
        clock[0] += seconds

    flood = Streak(sleep=rest, clock=lambda: clock[0])
    for _ in range(1000):  # 100 ms of messages back to back, 0.1 ms each
        flood.breathe()
        clock[0] += 0.0001
    assert len(rests) == 9, rests  # one rest after each 10 ms of work
    assert set(rests) == {Streak.REST}

    rests.clear()
    trickle = Streak(sleep=rest, clock=lambda: clock[0])
    for _ in range(30):  # a message every 2 ms: the loop idles between them
        trickle.breathe()
        clock[0] += 0.002
    assert rests == []


def test_errors_are_batched_on_the_virtual_clock_of_live():
    class Failing(Recorder):
        def handle_info(self, info: Any, socket: lw.Socket) -> None:
            raise ValueError(f"failure {info}")

    lv = live(Failing(), raise_errors=False, error_interval=1.0)
    lv.send_info(0)
    lv.send_info(1)
    lv.send_info(2)

    def shown() -> list[str]:
        return [m["message"] for m in lv.messages if m["type"] == "error"]

    assert len(shown()) == 1
    lv.advance(999)  # the interval is virtual time: nothing real passes, nothing new shows
    assert len(shown()) == 1
    lv.advance(1)
    assert shown()[-1].endswith("failure 2 (and 1 more errors like it, not shown)")


def test_the_mailbox_handles_typed_messages_in_the_order_they_were_posted():
    lv = live(Recorder)
    lv._runtime.post(Info("first"))
    lv._runtime.post(Event("clicked", {}, None))
    lv.send_info("last")
    assert lv.context.log == ("first", "clicked", "last")


def test_a_failed_handler_leaves_the_context_as_it_was_and_unchanged():
    class Half(Recorder):
        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            socket.assign(log=("half-done",))
            raise RuntimeError("midway")

    lv = live(Half, raise_errors=False)
    before = lv.context
    lv._runtime.post(Event("go", {}))
    lv.send_info("after")
    assert lv.context.log == ("after",)
    assert not lv._runtime.socket.changed
    assert before.log == ()


def test_the_runtime_and_views_import_without_the_jupyter_door():
    code = (
        "import sys, livewidget.runtime, livewidget.view, livewidget.testing\n"
        "door = [m for m in sys.modules if m == 'livewidget.widget' or m.split('.')[0] in "
        "('ipywidgets', 'anywidget', 'traitlets', 'ipykernel', 'comm')]\n"
        "assert not door, door\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})


def test_the_pacer_lets_a_beat_of_views_send_together_then_keeps_its_budget():
    """100 views whose ticks share a beat send in one go (one wake-up of the sending thread);
    past the burst, sends are spaced by the budget."""
    clock = VirtualClock()
    pacer = Pacer(frame=1 / 60, max_per_second=400)  # the kernel's: a burst of 100
    views = [Flushes(clock) for _ in range(150)]
    for view in views:
        pacer.request(view)
    run_timers(clock, 10)
    at = [view.at[0] for view in views]
    assert max(at[:100]) < 1e-9  # at once
    assert at[100:] == pytest.approx([k / 400 for k in range(1, 51)], abs=1e-9)

"""(a) The sales dashboard of notebooks/dashboard.ipynb: one tick changes its three numbers.

Contenders, each rendering the same HTML from the same contexts:

* livewidget: ``lw.html`` of the notebook's template, ``protocol.diff``;
* pyview-web: the same template in its ibis syntax, ``Template.tree`` and ``calc_diff``; ibis has
  no format specs, so its update formats the two floats in Python first (counted in its time);
* full HTML, as ``ipywidgets.HTML`` would send it: the whole page as the widget's ``value``,
  rendered by livewidget (``.to_html()``) and by a hand-written f-string (the cheapest way).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import gc
import pstats
import random
import resource
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

import livewidget as lw
from livewidget import protocol

from .common import PYVIEW_MISSING, Row, differ, full_html, measure, print_table, pyview

TEMPLATE = """
            <h1>Sales Dashboard</h1>
            <hr>
            <span>🥡 New Orders</span>
            <h2 id="new-orders">{new_orders}</h2>
            <hr>
            <span>💰 Sales Amount</span>
            <h2 id="sales-amount">{sales_amount:,.2f}</h2>
            <hr>
            <span>🌟 Rating</span>
            <h2 id="rating">{rating:.1f}</h2>
            <label>Notes <input id="note" type="text" placeholder="type while it ticks"></label>
            """

IBIS_TEMPLATE = (
    TEMPLATE.replace("{new_orders}", "{{ new_orders }}")
    .replace("{sales_amount:,.2f}", "{{ sales_amount }}")
    .replace("{rating:.1f}", "{{ rating }}")
)


def ticks(count: int = 64) -> list[dict[str, Any]]:
    """What ``fetch_latest_data`` returns in the notebook, for ``count`` ticks (seeded)."""
    rng = random.Random(0)
    return [
        {
            "new_orders": rng.randint(0, 1000),
            "sales_amount": rng.uniform(0, 100_000),
            "rating": rng.uniform(1, 5),
        }
        for _ in range(count)
    ]


def render(ctx: dict[str, Any]) -> lw.Rendered:
    return lw.html(TEMPLATE, **ctx)


def hand_written(ctx: dict[str, Any]) -> str:
    return f"""
            <h1>Sales Dashboard</h1>
            <hr>
            <span>🥡 New Orders</span>
            <h2 id="new-orders">{escape(ctx["new_orders"])}</h2>
            <hr>
            <span>💰 Sales Amount</span>
            <h2 id="sales-amount">{escape(format(ctx["sales_amount"], ",.2f"))}</h2>
            <hr>
            <span>🌟 Rating</span>
            <h2 id="rating">{escape(format(ctx["rating"], ".1f"))}</h2>
            <label>Notes <input id="note" type="text" placeholder="type while it ticks"></label>
            """


def run() -> list[Row]:
    contexts = ticks()
    assert hand_written(contexts[1]) == render(contexts[1]).to_html()
    contenders = [differ("livewidget", "lw.html + protocol.diff", contexts, render, protocol.diff)]
    found = pyview()
    if found is not None:
        template_class, calc_diff, version = found
        template = template_class(IBIS_TEMPLATE)

        def pyview_render(ctx: dict[str, Any]) -> Any:
            return template.tree(
                {
                    "new_orders": ctx["new_orders"],
                    "sales_amount": f"{ctx['sales_amount']:,.2f}",
                    "rating": f"{ctx['rating']:.1f}",
                }
            )

        contenders.append(
            differ(
                f"pyview {version}",
                "ibis Template.tree + calc_diff",
                contexts,
                pyview_render,
                calc_diff,
            )
        )
    contenders.append(
        full_html(
            "full HTML",
            "lw.html(...).to_html(), whole page",
            contexts,
            lambda c: render(c).to_html(),
        )
    )
    contenders.append(
        full_html("full HTML", "hand-written f-string, whole page", contexts, hand_written)
    )
    return measure(contenders)


def main() -> None:
    rows = run()
    print_table("(a) sales dashboard, one tick (3 numbers change)", rows)
    if pyview() is None:
        print(PYVIEW_MISSING)
    no_kernel()


# -- (a') the same dashboards ticking without a kernel: the runtime's per-update plumbing ------

NO_KERNEL_VIEWS = 100
# 4 Hz: 400 sends a second, the pacer's budget. At 10 Hz (before 2026-11-29) the views made
# 1,000 updates a second and the pacer sent fewer renders than updates, so the figure was of a
# throttled view.
NO_KERNEL_HZ = 4
NO_KERNEL_SECONDS = 3.0
NO_KERNEL_ROUNDS = 3

_updates = [0]


async def _fetch_latest_data(rng: random.Random) -> dict[str, Any]:
    """As in notebooks/dashboard.ipynb (and benchmarks/kernel_cpu.py): a 10 ms query."""
    await asyncio.sleep(0.01)
    return {
        "new_orders": rng.randint(0, 1000),
        "sales_amount": rng.uniform(0, 100_000),
        "rating": rng.uniform(1, 5),
    }


class _Dashboard(lw.LiveView):
    """The view of benchmarks/kernel_cpu.py, ticking at ``NO_KERNEL_HZ``."""

    def mount(self, socket: Any) -> None:
        self.rng = random.Random(id(self))
        if socket.connected:
            socket.repeat(
                lambda: socket.send_info({"type": "tick"}), 1000 / self.params.get("hz", 1)
            )
        socket.assign(new_orders=0, sales_amount=0.0, rating=0.0)

    async def handle_info(self, info: Any, socket: Any) -> None:
        socket.assign(await _fetch_latest_data(self.rng))
        _updates[0] += 1

    def render(self, ctx: Any) -> lw.Rendered:
        return lw.html(TEMPLATE, **ctx)


def _usage() -> tuple[float, float, int]:
    """(user s, system s, voluntary context switches) of the whole process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime, usage.ru_nvcsw


@dataclass
class _Window:
    user: float
    system: float
    switches: int
    updates: int

    def per_update(self) -> tuple[float, float, float, float]:
        n = max(self.updates, 1)
        return (
            (self.user + self.system) / n * 1e6,
            self.user / n * 1e6,
            self.system / n * 1e6,
            self.switches / n,
        )


def _window(seconds: float) -> _Window:
    gc.collect()
    made, (user, system, switches) = _updates[0], _usage()
    time.sleep(seconds)
    after = _usage()
    return _Window(after[0] - user, after[1] - system, after[2] - switches, _updates[0] - made)


def _livewidget_round(views: int, hz: float, seconds: float) -> _Window:
    """``views`` LiveWidgets (comms are dummies without a kernel) ticking at ``hz``."""
    made = [_Dashboard(hz=hz) for _ in range(views)]
    for view in made:
        view.widget  # noqa: B018  # the widget starts the view
    time.sleep(1.5 / hz + 0.1)  # every view ticking
    try:
        return _window(seconds)
    finally:
        for view in made:
            view.widget.close()


def _html_round(views: int, hz: float, seconds: float) -> _Window:
    """The baseline of kernel_cpu: ``ipywidgets.HTML`` widgets given the whole HTML by one
    asyncio thread, all widgets at once each tick."""
    import ipywidgets  # type: ignore[import-untyped]  # ships no type hints

    rng = random.Random(0)
    widgets = [ipywidgets.HTML(TEMPLATE.format(new_orders=0, sales_amount=0, rating=0))]
    widgets += [ipywidgets.HTML(widgets[0].value) for _ in range(views - 1)]
    stop = threading.Event()

    async def tick(widget: Any) -> None:
        widget.value = TEMPLATE.format(**await _fetch_latest_data(rng))
        _updates[0] += 1

    async def main() -> None:
        due = time.monotonic()
        while not stop.is_set():
            await asyncio.gather(*(tick(widget) for widget in widgets))
            due += 1 / hz
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    time.sleep(1.5 / hz + 0.1)
    try:
        return _window(seconds)
    finally:
        stop.set()
        thread.join()
        for widget in widgets:
            widget.close()


def no_kernel(
    views: int = NO_KERNEL_VIEWS,
    hz: float = NO_KERNEL_HZ,
    seconds: float = NO_KERNEL_SECONDS,
    rounds: int = NO_KERNEL_ROUNDS,
) -> None:
    """kernel_cpu's two contenders in this process, without a kernel (comms are dummies):
    CPU per update (user + system, ``resource.getrusage``) and voluntary context switches, in
    alternating rounds."""
    print(
        f"\n(a') {views} sales dashboards ticking at {hz:g} Hz without a kernel (comms are "
        f"dummies), {rounds} alternating rounds of {seconds:g} s"
    )
    print(f"  {'':<18}{'round':>6}{'µs/update':>11}{'user':>8}{'system':>8}{'switches':>10}")
    for index in range(rounds):
        for who, run in (("livewidget", _livewidget_round), ("ipywidgets.HTML", _html_round)):
            total, user, system, switches = run(views, hz, seconds).per_update()
            print(
                f"  {who:<18}{index + 1:>6}{total:>11,.0f}{user:>8,.0f}{system:>8,.0f}"
                f"{switches:>10.2f}"
            )


def profile(views: int = NO_KERNEL_VIEWS, hz: float = NO_KERNEL_HZ, seconds: float = 5.0) -> None:
    """cProfile of the livewidget round (CPU time of each thread, every thread started after
    this is called, merged): where an update's time goes, by function (``python -m
    benchmarks.dashboard --profile``)."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(*_: Any) -> None:
        sys.setprofile(None)
        profiler = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profiler)
        profiler.enable()

    threading.setprofile(start)
    main_profiler = cProfile.Profile(time.thread_time)
    main_profiler.enable()
    made = _updates[0]
    _livewidget_round(views, hz, seconds)
    main_profiler.disable()
    threading.setprofile(None)  # type: ignore[arg-type]  # None turns it off
    updates = _updates[0] - made
    for profiler in profiles:
        with contextlib.suppress(Exception):
            profiler.disable()
    stats = pstats.Stats(main_profiler)
    for profiler in profiles:
        with contextlib.suppress(TypeError):  # a thread that never ran Python under it
            stats.add(profiler)
    print(f"\nprofile: {updates} updates (threads: {len(profiles)})")
    stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    if "--profile" in sys.argv:
        profile()
    elif "--no-kernel" in sys.argv:
        no_kernel()
    else:
        main()

"""What every benchmark shares: how an update is timed, and how figures are printed.

An *update* is what a view pays each time its context changes: render the template, diff the
render against the last one sent, and ``json.dumps`` the payload (the comm message's body). An
update cycles through prepared contexts, so each one changes what the benchmark says changes.

Timing, made to hold on a shared machine:

* the clock is the process's CPU time (``time.process_time``), so time the process spends
  waiting for a core that other work holds does not count;
* each callable runs in batches of as many calls as fill about 0.2 s (``timeit``'s autorange),
  and the batches of all contenders of a benchmark are interleaved, round after round, so a
  slow spell of the machine falls on every contender alike;
* the figure is the median over the rounds, per call, with the garbage collector on (``timeit``
  turns it off by default; a kernel runs with it on).
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

ROUNDS = 7


def size(payload: Any) -> int:
    """Bytes on the wire: the UTF-8 of ``json.dumps`` (a str is sent as it is)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return len(text.encode("utf-8"))


class Cycle:
    """An update as a view makes it: render the next context, diff it against the last render,
    dump the payload. ``render`` and ``diff`` are a library's; the first context is the state
    the client already holds."""

    def __init__(
        self,
        contexts: Sequence[Any],
        render: Callable[[Any], Any],
        diff: Callable[[Any, Any], Any],
    ) -> None:
        self.contexts = contexts
        self.render = render
        self.diff = diff
        self.index = 0
        self.last = render(contexts[0])

    def __call__(self) -> str:
        self.index = (self.index + 1) % len(self.contexts)
        current = self.render(self.contexts[self.index])
        text = json.dumps(self.diff(self.last, current))
        self.last = current
        return text


def cycling(fn: Callable[[Any], Any], contexts: Sequence[Any]) -> Callable[[], Any]:
    """``fn`` of the next context at each call."""
    counter = itertools.count(1)
    return lambda: fn(contexts[next(counter) % len(contexts)])


@dataclass
class Contender:
    who: str
    how: str
    update: Callable[[], object]
    render: Callable[[], object] | None
    payload_bytes: int


def differ(
    who: str,
    how: str,
    contexts: Sequence[Any],
    render: Callable[[Any], Any],
    diff: Callable[[Any, Any], Any],
) -> Contender:
    """A library that diffs: render + diff + json.dumps per update (and render alone)."""
    payload = diff(render(contexts[0]), render(contexts[1]))
    return Contender(
        who, how, Cycle(contexts, render, diff), cycling(render, contexts), size(payload)
    )


def full_html(who: str, how: str, contexts: Sequence[Any], html: Callable[[Any], str]) -> Contender:
    """The ipywidgets.HTML baseline: render the whole HTML, dump it as the widget's value."""

    def update(context: Any) -> str:
        return json.dumps({"value": html(context)})

    return Contender(who, how, cycling(update, contexts), None, size(html(contexts[1])))


@dataclass
class Row:
    who: str
    how: str
    update_us: float
    render_us: float | None
    payload_bytes: int


def measure(contenders: list[Contender], rounds: int = ROUNDS) -> list[Row]:
    """Median CPU µs per call of every contender's update (and render), batches interleaved."""
    jobs = [c.update for c in contenders] + [c.render for c in contenders if c.render]
    timers = [
        timeit.Timer(job, setup="import gc; gc.enable()", timer=time.process_time) for job in jobs
    ]
    numbers = [timer.autorange()[0] for timer in timers]
    samples: list[list[float]] = [[] for _ in jobs]
    for _ in range(rounds):
        for timer, number, sample in zip(timers, numbers, samples):
            sample.append(timer.timeit(number) / number * 1e6)
    medians = iter([statistics.median(sample) for sample in samples])
    updates = [next(medians) for _ in contenders]
    return [
        Row(c.who, c.how, update, next(medians) if c.render else None, c.payload_bytes)
        for c, update in zip(contenders, updates)
    ]


def machine() -> str:
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform(terse=True)}"
    )


def print_table(title: str, rows: list[Row]) -> None:
    """The figures, then how the first row (livewidget's recommended way) compares to each."""
    print(f"\n{title}")
    print(f"  {'':<16}{'':<46}{'µs/update':>11}{'render µs':>11}{'bytes':>9}")
    for row in rows:
        render = f"{row.render_us:,.1f}" if row.render_us is not None else "-"
        print(
            f"  {row.who:<16}{row.how:<46}{row.update_us:>11,.1f}{render:>11}"
            f"{row.payload_bytes:>9,}"
        )
    first = rows[0]
    for row in rows[1:]:
        print(
            f"  {row.who} ({row.how}): {row.update_us / first.update_us:.2f}x the time, "
            f"{row.payload_bytes / first.payload_bytes:.1f}x the bytes of the first row"
        )


def pyview() -> tuple[Any, Callable[[Any, Any], Any], str] | None:
    """pyview-web's template class and ``calc_diff`` with its version, or None if not installed.

    On Python < 3.14 pyview renders ibis templates (Jinja-like); ``Template.tree(context)`` is
    what its socket diffs (``LiveSocket.render``), with ``calc_diff(old_tree, new_tree)``.
    """
    try:
        from importlib.metadata import version

        from pyview.template.render_diff import calc_diff
        from pyview.vendor.ibis import Template
    except ImportError:
        return None
    return Template, calc_diff, version("pyview-web")


PYVIEW_MISSING = "  pyview-web: not installed, skipped (pip install -e '.[bench]')"

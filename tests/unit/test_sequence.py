"""Sequence numbers on the wire: every full and diff carries the next number, so the page can
tell a lost payload (a gap) from none, and asks for the full render only after a real loss.

The page's rule (``js/src/widget.ts``): a diff must carry its last seq + 1, else it joins again
(and gets a full render); a "settled" must name its last seq. ``page_joins`` applies that rule
to what the test client received.
"""

from typing import Any

import livewidget as lw
from livewidget.testing import live


class Buttons(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(count=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event == "inc":
            socket.assign(count=socket.context.count + 1)
        # "noop" changes nothing; "same" assigns the value the context already holds
        if event == "same":
            socket.assign(count=socket.context.count)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<b>{count}</b><button id="inc" phx-click="inc">+</button>'
            '<button id="noop" phx-click="noop">.</button>'
            '<button id="same" phx-click="same">=</button>',
            **ctx,
        )


def seqs(messages: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(m["type"], m["seq"]) for m in messages if m["type"] in ("full", "diff")]


def page_joins(messages: list[dict[str, Any]]) -> int:
    """How many times the page would ask for the full render, by the front end's rule."""
    last, joins = -1, 0
    for message in messages:
        kind, seq = message["type"], message.get("seq")
        if kind == "full":
            last = seq
        elif kind == "diff":
            if seq != last + 1:
                joins += 1
            last = seq
        elif kind == "settled" and seq != last:
            joins += 1
    return joins


def test_the_answer_to_an_event_that_changed_nothing_takes_the_next_number():
    lv = live(Buttons)
    lv.click("#noop")
    lv.click("#noop")
    assert seqs(lv.messages) == [("full", 1), ("diff", 2), ("diff", 3)]
    assert lv.payloads[1:] == [{}, {}]


def test_numbers_run_on_without_a_gap_whatever_the_events_change():
    lv = live(Buttons)
    for button in ["#inc", "#noop", "#same", "#inc", "#noop", "#noop", "#inc", "#same"]:
        lv.click(button)
    lv.advance(70_000)  # quiet: the view says which payload was its last, several times
    numbers = [seq for _, seq in seqs(lv.messages)]
    assert numbers == list(range(1, 10))
    assert page_joins(lv.messages) == 0
    assert lv.has_element("b", text="3")


def test_a_quiet_view_names_the_number_of_its_last_answer_even_an_empty_one():
    lv = live(Buttons)
    lv.click("#inc")
    lv.click("#noop")
    lv.advance(3_000)
    settled = [m["seq"] for m in lv.messages if m["type"] == "settled"]
    assert settled == [3]

"""Forged and random front-end messages get clear errors and harm nothing."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import livewidget as lw
from livewidget.testing import live


class Tally(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(count=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event != "inc":
            raise ValueError(f"unknown event {event!r}")
        socket.assign(count=socket.context.count + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<b id="count">{count}</b><button id="inc" phx-click="inc">+</button>', **ctx
        )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
messages = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["event", "join", "evil", ""]) | json_values,
            "kind": st.sampled_from(["click", "form", "keydown", "hook", "drag"]) | json_values,
            "event": st.sampled_from(["inc", "dec", "", "x" * 300]) | json_values,
            "value": json_values
            | st.text(alphabet="a=&[]%_target", max_size=40)
            | st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
            "cid": st.none() | st.integers(-2, 3) | json_values,
        }
    ),
)


def counts_as_an_increment(message: Any) -> bool:
    from livewidget.events import FrontendMessageError, decode_message

    try:
        decoded = decode_message(message)
    except FrontendMessageError:
        return False
    return decoded[:2] == ("event", "inc") and decoded[3] is None


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(messages, min_size=10, max_size=40))  # ~2,500 messages in all
def test_random_messages_leave_the_view_working_with_its_state(batch: list[Any]):
    lv = live(Tally, raise_errors=False)
    try:
        for message in batch:
            lv.send_raw(message)
        expected = sum(counts_as_an_increment(m) for m in batch)
        assert lv.context.count == expected
        assert lv.has_element("#count", text=str(expected))
        lv.click("#inc")
        assert lv.has_element("#count", text=str(expected + 1))
    finally:
        lv.close()


def test_a_huge_payload_is_refused_and_the_view_goes_on():
    lv = live(Tally, raise_errors=False)
    lv.send_raw({"type": "event", "kind": "click", "event": "inc", "value": {"x": "y" * 2_000_000}})
    assert "at most 1,000,000 bytes" in str(lv.errors[-1])
    lv.click("#inc")
    assert lv.context.count == 1
    lv.close()

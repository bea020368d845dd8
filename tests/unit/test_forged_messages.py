"""Forged and random front-end messages get clear errors and harm nothing."""

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import livewidget as lw
from livewidget.events import MAX_DEPTH, FrontendMessageError, decode_message
from livewidget.runtime import Event, Join
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
    try:
        decoded = decode_message(message)
    except FrontendMessageError:
        return False
    return isinstance(decoded, Event) and decoded.event == "inc" and decoded.cid is None


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


# -- any JSON-like value: a mailbox message or a FrontendMessageError, nothing else -----------

# Text with lone surrogates (JSON's "\ud800", which JavaScript strings may hold).
texts = st.text(st.characters(codec=None, categories=["Cs", "L", "N", "P"]), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
shallow = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)


@st.composite
def deep(draw: st.DrawFn) -> Any:
    """A value nested up to 3,000 levels (ipykernel parses about 990), built iteratively."""
    value = draw(shallow)
    shapes = draw(st.lists(st.sampled_from(["list", "dict"]), min_size=1, max_size=3))
    key = draw(texts)
    for level in range(draw(st.integers(0, 3000))):
        value = [value] if shapes[level % len(shapes)] == "list" else {key: value}
    return value


HUGE = [
    "x" * 1_100_000,
    "\ud800" * 400_000,
    {str(i): i for i in range(1_500)},
    [[0, 1]] * 60_000,
    {"k" * 5_000: 1},
]
anything = shallow | deep() | st.sampled_from(HUGE)
form_data = st.text(alphabet="ab=&[]%5BD_target\ud800", max_size=60) | st.sampled_from(
    ["&".join(["a=1"] * 1_001), "a" + "%5Bb%5D" * 40 + "=1", "_target=" + "a[b]" * 40]
)
any_message = anything | st.fixed_dictionaries(
    {
        "type": st.sampled_from(["event", "join"]) | anything,
        "kind": st.sampled_from(sorted(["click", "form", "hook", "keydown"])) | anything,
        "event": st.sampled_from(["inc", "x\ud800"]) | anything,
        "value": anything | form_data,
    },
    optional={"cid": st.none() | st.integers(-1, 3) | anything, "extra": anything},
)


def _walk(value: Any) -> Any:
    """Every node of a value with its depth (the value is level 1), iteratively."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        children = node.values() if isinstance(node, dict) else node
        if isinstance(node, (dict, list)):
            stack.extend((child, depth + 1) for child in children)
            if isinstance(node, dict):
                stack.extend((key, depth) for key in node)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(any_message)
def test_any_json_like_message_decodes_or_gets_a_frontend_message_error(message: Any):
    try:
        decoded = decode_message(message)
    except FrontendMessageError as error:
        problem = str(error)
    else:
        problem = ""
    assert len(problem) < 400, "errors show what came in short"
    problem.encode("utf-8")  # the banner can show it
    if problem:
        return
    assert isinstance(decoded, Event | Join)
    if isinstance(decoded, Event):
        event, params, cid = decoded.event, decoded.params, decoded.cid
        assert isinstance(event, str)
        assert isinstance(params, dict)
        assert cid is None or (isinstance(cid, int) and cid >= 0)
        for node, depth in _walk(params):
            assert depth <= MAX_DEPTH + 1, "forms add one level: a[b] is {'a': {'b': ...}}"
            if isinstance(node, str):
                assert not re.search("[\ud800-\udfff]", node), "no lone surrogate gets through"
                node.encode("utf-8")


def test_a_message_nested_as_deep_as_ipykernel_parses_is_refused_and_the_view_goes_on():
    value: Any = "x"
    for _ in range(972):
        value = {"a": value}
    lv = live(Tally, raise_errors=False)
    lv.send_raw({"type": "event", "kind": "click", "event": "inc", "value": value})
    assert "nests 972 levels deep; at most 32 are accepted" in str(lv.errors[-1])
    lv.click("#inc")
    assert lv.context.count == 1
    lv.close()

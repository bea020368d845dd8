"""Messages from the front end are checked and decoded before a view sees them."""

from typing import Any

import pytest

from livewidget.events import FrontendMessageError, decode_form, decode_message
from livewidget.runtime import Event


def _params(message: object) -> dict[str, Any]:
    assert isinstance(message, Event), message
    return message.params


def test_form_data_decodes_into_nested_dicts_and_lists_as_phoenix_does():
    data = (
        "user%5Bname%5D=Ada&user%5Bemail%5D=a%40b.c&tags%5B%5D=x&tags%5B%5D=y&q="
        "&_target=user%5Bname%5D"
    )
    assert decode_form(data) == {
        "user": {"name": "Ada", "email": "a@b.c"},
        "tags": ["x", "y"],
        "q": "",
        "_target": ["user", "name"],
    }


def test_lists_of_maps_decode():
    assert decode_form("a%5B%5D%5Bb%5D=1&a%5B%5D%5Bb%5D=2") == {"a": [{"b": "1"}, {"b": "2"}]}


@pytest.mark.parametrize("data", ["a=1&a%5Bb%5D=2", "%5Bx%5D=1", "a%5Bb=1", "a%5B%5D=1&a%5Bb%5D=2"])
def test_conflicting_or_malformed_field_names_are_refused(data: str):
    with pytest.raises(FrontendMessageError):
        decode_form(data)


def test_a_click_becomes_an_event_message():
    message = {"type": "event", "kind": "click", "event": "inc", "value": {"by": "2"}, "cid": None}
    assert decode_message(message) == Event("inc", {"by": "2"}, None)


def test_a_form_event_is_decoded():
    message = {"type": "event", "kind": "form", "event": "save", "value": "a=1"}
    assert decode_message(message) == Event("save", {"a": "1"}, None)


def test_a_huge_message_is_refused_before_it_is_decoded():
    message = {"type": "event", "kind": "form", "event": "x", "value": "a=" + "x" * 2_000_000}
    with pytest.raises(FrontendMessageError, match="at most 1,000,000 bytes"):
        decode_message(message)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ([], "expected a JSON object"),
        ({"type": "evil"}, "type 'join' or 'event'"),
        ({"type": "event", "kind": "click", "event": ""}, "an event name"),
        ({"type": "event", "kind": "click", "event": "x" * 300}, "an event name"),
        ({"type": "event", "kind": "drag", "event": "x"}, "an event kind"),
        ({"type": "event", "kind": "click", "event": "x", "cid": -1}, "component id"),
        ({"type": "event", "kind": "click", "event": "x", "cid": True}, "component id"),
        ({"type": "event", "kind": "click", "event": "x", "value": [1]}, "JSON object"),
    ],
)
def test_malformed_messages_say_what_was_expected(message: object, expected: str):
    with pytest.raises(FrontendMessageError, match=expected):
        decode_message(message)


def test_an_unhashable_kind_is_refused_cleanly():
    # Found by the random-message property test: a list as "kind" raised TypeError.
    with pytest.raises(FrontendMessageError, match="an event kind"):
        decode_message({"type": "event", "kind": [], "event": "x"})


# -- bounds: deep, huge and odd messages get a clear error, never a crash ----------------------


def _nested(levels: int, leaf: object = "x", key: str = "a") -> object:
    """An object ``levels`` deep ({"a": {"a": ... leaf}}), built without recursion."""
    value = leaf
    for _ in range(levels):
        value = {key: value}
    return value


def _click(value: object) -> dict[str, object]:
    return {"type": "event", "kind": "hook", "event": "e", "value": value, "cid": None}


def test_a_value_nested_as_deep_as_ipykernel_parses_is_refused_with_its_depth():
    with pytest.raises(FrontendMessageError) as caught:
        decode_message(_click(_nested(972)))
    assert str(caught.value).startswith(
        "an event's value nests 972 levels deep; at most 32 are accepted"
    )


def test_a_value_nested_far_deeper_than_any_parser_allows_is_refused_too():
    deep: list[object] = []
    for _ in range(200_000):
        deep = [deep]
    with pytest.raises(FrontendMessageError, match="levels deep; at most 32 are accepted"):
        decode_message(_click({"a": deep}))


def test_values_nested_32_levels_are_accepted_and_33_are_not():
    assert _params(decode_message(_click(_nested(32)))) == _nested(32)
    with pytest.raises(FrontendMessageError, match="nests 33 levels deep"):
        decode_message(_click(_nested(33)))


def _deep_key() -> tuple[object, ...]:
    key: tuple[object, ...] = ()
    for _ in range(5000):
        key = (key,)
    return key


def test_deep_values_in_any_field_of_a_message_get_a_clear_error():
    deep = _nested(5000)
    for message in (
        deep,
        [deep],
        {"type": deep},
        {"type": "event", "kind": deep, "event": "e"},
        {"type": "event", "kind": "click", "event": deep},
        {"type": "event", "kind": "click", "event": "e", "cid": deep},
        {"type": "event", "kind": "form", "event": "e", "value": deep},
        {"type": "join", _deep_key(): 1},
    ):
        with pytest.raises(FrontendMessageError):
            decode_message(message)


def test_an_object_with_more_than_1000_keys_is_refused():
    assert _params(decode_message(_click({str(i): i for i in range(1000)})))["999"] == 999
    with pytest.raises(
        FrontendMessageError, match="an object in an event's value has 1,001 keys; at most 1,000"
    ):
        decode_message(_click({"points": {str(i): i for i in range(1001)}}))


def test_more_than_100000_entries_in_all_are_refused():
    assert len(_params(decode_message(_click({"xs": [0] * 99_999})))["xs"]) == 99_999
    with pytest.raises(FrontendMessageError, match="more than 100,000 entries"):
        decode_message(_click({"xs": [0] * 50_000, "ys": [0] * 50_000}))


def test_a_long_key_is_refused():
    with pytest.raises(FrontendMessageError, match="a key of 1,001 characters; at most 1,000"):
        decode_message(_click({"k" * 1001: 1}))


def test_a_huge_value_is_refused_whatever_it_is_made_of():
    for value in (
        {"x": "é" * 600_000},  # 1.2 MB of UTF-8 in 600,000 characters
        {"x": ["y" * 100] * 20_000},
        {"x": [10**300] * 4_000},
    ):
        with pytest.raises(FrontendMessageError, match="at most 1,000,000 bytes"):
            decode_message(_click(value))


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_a_number_json_cannot_hold_is_refused(number: float):
    with pytest.raises(FrontendMessageError, match="JSON numbers are finite"):
        decode_message(_click({"x": [1, {"y": number}]}))


@pytest.mark.parametrize(
    ("value", "shown"),
    [({"x": (1, 2)}, "a tuple"), ({"x": {1, 2}}, "a set"), ({"x": b"1"}, "a bytes")],
)
def test_a_value_that_is_not_json_is_refused(value: object, shown: str):
    with pytest.raises(FrontendMessageError, match=f"holds {shown}, which is not JSON"):
        decode_message(_click(value))


def test_a_key_that_is_not_a_string_is_refused():
    with pytest.raises(FrontendMessageError, match="the key 1; JSON keys are strings"):
        decode_message(_click({"x": {1: "a"}}))


def test_keys_the_front_end_never_sends_are_refused():
    with pytest.raises(FrontendMessageError, match="got also 'junk'"):
        decode_message({**_click({}), "junk": "x" * 100})
    with pytest.raises(FrontendMessageError, match="a join message has the keys type"):
        decode_message({"type": "join", "extra": 1})


def test_lone_surrogates_become_the_replacement_character():
    message = {
        "type": "event",
        "kind": "hook",
        "event": "say\ud800",
        "value": {"text\udc00": ["a\ud83d", {"b": "\udfff"}], "ok": "\U0001f600"},
    }
    assert decode_message(message) == Event(
        "say\ufffd",
        {"text\ufffd": ["a\ufffd", {"b": "\ufffd"}], "ok": "\U0001f600"},
        None,
    )
    form = {"type": "event", "kind": "form", "event": "save", "value": "a=x\ud800&b%5B%5D=%ED"}
    assert _params(decode_message(form)) == {"a": "x\ufffd", "b": ["\ufffd"]}


def test_what_came_is_shown_short_in_the_error():
    with pytest.raises(FrontendMessageError) as caught:
        decode_message({"type": "event", "kind": "click", "event": "x" * 10_000})
    assert len(str(caught.value)) < 200
    with pytest.raises(FrontendMessageError, match=r"got a list of 1,000,000 items"):
        decode_message([0] * 1_000_000)


# -- form bounds ------------------------------------------------------------------------------


def test_a_form_of_1000_fields_decodes_and_one_of_1001_is_refused():
    fields = "&".join(f"f{i}=v" for i in range(1000))
    assert len(decode_form(fields)) == 1000
    assert len(decode_form(fields + "&&&")) == 1000, "empty pieces are not fields"
    with pytest.raises(FrontendMessageError, match="a form has 1,001 fields; at most 1,000"):
        decode_form(fields + "&last=v")


def test_a_form_field_name_nested_33_levels_is_refused():
    ok = "a" + "%5Bb%5D" * 31 + "=1"
    assert decode_form(ok) == {"a": _nested(31, "1", key="b")}
    with pytest.raises(FrontendMessageError, match=r"nests 33 levels deep.*at most 32"):
        decode_form("a" + "%5Bb%5D" * 32 + "=1")
    with pytest.raises(FrontendMessageError, match="nests 301 levels deep"):
        decode_form("a" + "[b]" * 300 + "=1")


def test_target_is_bounded_like_any_field_name():
    with pytest.raises(FrontendMessageError, match="nests 101 levels deep"):
        decode_form("a=1&_target=a" + "%5Bb%5D" * 100)
    with pytest.raises(FrontendMessageError, match="a form field name has 2,000 characters"):
        decode_form("a=1&_target=" + "t" * 2000)


@pytest.mark.parametrize("data", ["_target%5B%5D=a&_target%5B%5D=b", "_target%5Bx%5D=1"])
def test_target_is_one_field_name_never_a_list_or_an_object(data: str):
    with pytest.raises(FrontendMessageError, match="_target names the one field that changed"):
        decode_form(data)


def test_a_long_form_field_name_is_refused():
    with pytest.raises(FrontendMessageError, match="at most 1,000 are accepted"):
        decode_form("n" * 1001 + "=1")

"""Messages from the front end are checked and decoded before a view sees them."""

import pytest

from livewidget.events import FrontendMessageError, decode_form, decode_message


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
    assert decode_message(message) == ("event", "inc", {"by": "2"}, None)


def test_a_form_event_is_decoded():
    message = {"type": "event", "kind": "form", "event": "save", "value": "a=1"}
    assert decode_message(message) == ("event", "save", {"a": "1"}, None)


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

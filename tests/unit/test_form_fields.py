"""Form data as the page sends it: every field reaches the handler whatever order the fields
come in, nested names build nested values, and a refused name is named in the error."""

import pytest

from livewidget.events import FrontendMessageError, decode_form


def test_fields_after_target_are_kept():
    # The page sends _target last; Phoenix clients and hand-written pushes may send it first.
    assert decode_form("_target=name&name=Ada&age=36") == {
        "name": "Ada",
        "age": "36",
        "_target": ["name"],
    }


def test_a_list_of_lists_decodes_from_empty_brackets_twice():
    assert decode_form("grid[][]=1&grid[][]=2") == {"grid": [["1"], ["2"]]}


def test_a_list_of_maps_and_a_map_of_lists_decode():
    assert decode_form("rows[][id]=1&rows[][id]=2&tags[a][]=x&tags[a][]=y") == {
        "rows": [{"id": "1"}, {"id": "2"}],
        "tags": {"a": ["x", "y"]},
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("user=1&user[name]=2", "form field 'user[name]' conflicts with another field"),
        ("tags[]=1&tags[a]=2", "form field 'tags[a]' conflicts with another field"),
        ("user[name=1", "malformed form field name 'user[name': expected name, name[key]"),
        ("_target[a]=1", "form field '_target[a]': _target names the one field that changed"),
    ],
)
def test_a_refused_field_is_named_in_the_error(data: str, message: str):
    with pytest.raises(FrontendMessageError) as caught:
        decode_form(data)
    assert str(caught.value).startswith(message)


def test_a_field_name_nested_too_deep_is_named_and_its_depth_given():
    name = "a" + "[b]" * 40
    with pytest.raises(FrontendMessageError) as caught:
        decode_form(f"{name}=1")
    assert str(caught.value).startswith("a form field name nests 41 levels deep ('a[b][b]")


def _click(value: object) -> dict[str, object]:
    return {"type": "event", "kind": "click", "event": "x", "value": value, "cid": None}


def test_measuring_a_too_deep_value_stops_after_the_entry_bound():
    """The depth given in the error is measured within MAX_ENTRIES entries: a deep value with
    a huge list inside costs no more to refuse than a small one, and says "more than"."""
    from livewidget.events import decode_message

    small: object = [0] * 10
    huge: object = [0] * 100_001
    for _ in range(40):
        small, huge = [small], [huge]
    with pytest.raises(FrontendMessageError, match="nests 42 levels deep"):
        decode_message(_click({"a": small}))
    with pytest.raises(FrontendMessageError, match="nests more than 33 levels deep"):
        decode_message(_click({"a": huge}))

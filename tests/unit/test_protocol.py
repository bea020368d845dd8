import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import livewidget as lw
from livewidget.protocol import ProtocolError, diff, full, merge, to_html
from livewidget.template import Rendered
from livewidget.testing import live


def row(i: int, value: str) -> Rendered:
    return lw.html('<tr id="r{i}"><td>{v}</td></tr>', i=i, v=value)


def table(values: list[tuple[int, str]]) -> Rendered:
    return lw.html(
        "<table>{rows}</table>",
        rows=lw.each(values, lambda r: row(*r), key=lambda r: r[0]),
    )


def test_full_carries_statics_and_every_dynamic():
    payload = full(lw.html("<b>{a}</b>{b}", a=1, b=lw.html("<i>{c}</i>", c=2)))
    assert payload == {"0": "1", "1": {"0": "2", "s": ["<i>", "</i>"]}, "s": ["<b>", "</b>", ""]}


def test_an_unchanged_render_diffs_to_nothing():
    assert diff(table([(1, "a")]), table([(1, "a")])) == {}


def test_a_changed_value_sends_only_that_value():
    before = lw.html("<h1>Title</h1><b>{n}</b><i>{m}</i>", n=1, m=2)
    after = lw.html("<h1>Title</h1><b>{n}</b><i>{m}</i>", n=5, m=2)
    assert diff(before, after) == {"0": "5"}


def test_a_switched_template_resends_only_that_subtree():
    before = lw.html("<p>{x}</p><b>{y}</b>", x=lw.html("<i>{v}</i>", v=1), y=1)
    after = lw.html("<p>{x}</p><b>{y}</b>", x=lw.html("<u>{v}</u>", v=1), y=1)
    assert diff(before, after) == {"0": {"0": "1", "s": ["<u>", "</u>"]}}


def test_one_changed_row_of_a_thousand_sends_one_row():
    rows = [(i, f"value {i}") for i in range(1000)]
    changed = list(rows)
    changed[500] = (500, "new")
    payload = diff(table(rows), table(changed))
    assert payload == {"0": {"k": {"500": {"1": "new"}, "kc": 1000}}}
    assert len(json.dumps(payload)) < 200


def test_a_reorder_sends_moves_not_rows():
    rows = [(i, str(i)) for i in range(5)]
    payload = diff(table(rows), table(rows[::-1]))
    keyed = payload["0"]["k"]
    assert keyed["km"] is True
    assert [keyed.get(str(i), "stays") for i in range(5)] == [4, 3, "stays", 1, 0]


def test_statics_repeated_in_rows_travel_once():
    badge = lw.html("<em>{x}</em>", x="!")
    payload = full(lw.html("<div>{xs}</div>", xs=[lw.html("<p>{b}</p>", b=badge)] * 3))
    assert payload["p"] == {"0": ["<em>", "</em>"]}
    assert json.dumps(payload).count("<em>") == 1


def test_merge_applies_diffs_like_the_client():
    a = table([(1, "a"), (2, "b"), (3, "c")])
    b = table([(3, "C"), (1, "a"), (4, "d")])
    tree = merge(merge(None, full(a)), diff(a, b))
    assert to_html(tree) == b.to_html()


# Properties: for any two renders, merging diff(a, b) into full(a) renders b.

texts = st.text(alphabet="ab<&\"'é", max_size=4)


@st.composite
def renders(draw: st.DrawFn, depth: int = 2) -> Rendered:
    kind = draw(st.integers(0, 4 if depth > 0 else 1))
    if kind == 0:
        return lw.html("<b>{a}</b>", a=draw(texts))
    if kind == 1:
        return lw.html("<i>{a}</i><u>{b}</u>", a=draw(texts), b=draw(st.none() | texts))
    if kind == 2:
        return lw.html("<p>{x}</p>", x=draw(renders(depth - 1)))
    if kind == 3:
        items = draw(st.lists(renders(depth - 1), max_size=4))
        return lw.html("<ul>{xs}</ul>", xs=items)
    keys = draw(st.lists(st.integers(0, 6), unique=True, max_size=5))
    return lw.html(
        "<ol>{xs}</ol>",
        xs=lw.each(keys, lambda k: lw.html("<li>{k}{v}</li>", k=k, v=draw(texts)), key=lambda k: k),
    )


@settings(max_examples=300, deadline=None)
@given(renders(), renders(), renders())
def test_merging_diffs_into_a_full_render_renders_the_last(a, b, c):
    tree = merge(None, full(a))
    tree = merge(tree, diff(a, b))
    assert to_html(tree) == b.to_html()
    tree = merge(tree, diff(b, c))
    assert to_html(tree) == c.to_html()


@settings(deadline=None)  # a GC pause must not count as a slow example
@given(renders())
def test_a_render_diffed_against_itself_is_empty(a):
    assert diff(a, a) == {}


def test_merge_leaves_its_arguments_alone_and_shares_what_did_not_change():
    a = table([(1, "a"), (2, "b"), (3, "c")])
    b = table([(1, "a"), (2, "B"), (3, "c")])
    tree = merge(None, full(a))
    before = json.dumps(tree, sort_keys=True)
    payload = diff(a, b)
    merged = merge(tree, payload)
    assert json.dumps(tree, sort_keys=True) == before
    assert payload == diff(a, b)
    assert merged["0"]["k"]["0"] is tree["0"]["k"]["0"]
    assert to_html(merged) == b.to_html()


class Tags(lw.LiveComponent):
    """A component whose keyed rows nest a template: its payload shares that under "p"."""

    def render(self, ctx: lw.Context) -> Rendered:
        return lw.html(
            "<ul>{rows}</ul>",
            rows=lw.each(
                ctx.tags, lambda t: lw.html("<li>{b}</li>", b=lw.html("<b>{t}</b>", t=t)), key=str
            ),
        )


class TagPage(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(tags=["a", "b"])

    def handle_event(self, event: str, params: dict[str, object], socket: lw.Socket) -> None:
        socket.assign(tags=[*socket.context.tags, "c"])

    def render(self, ctx: lw.Context) -> Rendered:
        return lw.html(
            '<div>{tags}</div><button id="more" phx-click="more">+</button>',
            tags=lw.live_component(Tags, id="tags", tags=ctx.tags),
        )


def test_a_component_whose_rows_share_a_template_shows_in_the_test_client():
    lv = live(TagPage)
    assert "<ul><li><b>a</b></li><li><b>b</b></li></ul>" in lv.html
    lv.click("#more")
    assert "<li><b>b</b></li><li><b>c</b></li></ul>" in lv.html


def test_merge_resolves_a_shared_template_inside_a_component():
    payload = {
        "s": ["<div>", "</div>"],
        "0": 1,
        "c": {
            "1": {
                "s": ["<ul>", "</ul>"],
                "p": {"0": ["<b>", "</b>"]},
                "0": {"s": ["<li>", "</li>"], "k": {"0": {"0": {"s": 0, "0": "x"}}, "kc": 1}},
            }
        },
    }
    assert to_html(merge(None, payload)) == "<div><ul><li><b>x</b></li></ul></div>"


def test_a_comprehension_takes_the_templates_around_it_over_its_own_as_the_official_client():
    payload = {
        "s": ["", ""],
        "p": {"0": ["<outer>", "</outer>"]},
        "0": {
            "s": ["", ""],
            "k": {"0": {"0": {"s": 0, "0": "x"}}, "kc": 1},
            "p": {"0": ["<own>", "</own>"]},
        },
    }
    assert to_html(merge(None, payload)) == "<outer>x</outer>"


def test_a_template_number_with_no_template_in_scope_is_an_error_that_names_it():
    with pytest.raises(ProtocolError, match='"s": 3 names a template, but no enclosing "p"'):
        merge(None, {"s": ["<p>", "</p>"], "0": {"s": 3, "0": "x"}})

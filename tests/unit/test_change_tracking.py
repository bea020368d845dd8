"""Rendering in proportion to the change: a keyed ``each`` reuses the rows that are provably
unchanged (``livewidget/reuse.py``), and the diff skips what is the same object as last time.

Every test that reuses checks the HTML against a render that reuses nothing
(``reuse=False``): reuse may only ever save time, never show a stale or differently escaped row.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import livewidget as lw
from livewidget import protocol
from livewidget.template import Comprehension, Rendered, TemplateError
from livewidget.testing import live

ROW = '<tr id="r{id}"><td>{name}</td><td>{qty:>3}</td></tr>'
THEME = "light"


def table(count: int = 20) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"item <{i}>", "qty": i} for i in range(count)]


def counted(render: Callable[..., Rendered]) -> tuple[Callable[..., Rendered], list[Any]]:
    """``render`` and the list of items it was called with (appended as it is called)."""
    seen: list[Any] = []

    def row(item: Any) -> Rendered:
        seen.append(item)
        return render(item)

    return row, seen


def plain_row(r: dict[str, Any]) -> Rendered:
    return lw.html(ROW, **r)


def by_id(r: dict[str, Any]) -> Any:
    return r["id"]


def render_rows(rows: list[dict[str, Any]], row: Callable[..., Rendered], **options: Any) -> str:
    """One call site for the tests below (the memo is per call site)."""
    return lw.html("<table>{rows}</table>", rows=lw.each(rows, row, key=by_id, **options)).to_html()


def fresh(rows: list[dict[str, Any]], row: Callable[..., Rendered]) -> str:
    return lw.html(
        "<table>{rows}</table>", rows=lw.each(rows, row, key=by_id, reuse=False)
    ).to_html()


# --- what is reused ---------------------------------------------------------------------------


def test_a_keyed_each_renders_again_only_the_row_whose_item_was_replaced() -> None:
    rows = table()
    seen: list[Any] = []

    def row(r: dict[str, Any]) -> Rendered:
        seen.append(r["id"])
        return lw.html(ROW, **r)

    def render(rows: list[dict[str, Any]]) -> str:
        return render_rows(rows, row)

    render(rows)
    assert len(seen) == 20
    seen.clear()
    changed = list(rows)
    changed[7] = {**rows[7], "qty": 70}
    html = render(changed)
    assert seen == [7]
    assert html == fresh(changed, plain_row)
    assert "<td> 70</td>" in html


def test_a_row_function_made_anew_in_each_render_still_reuses_rows() -> None:
    rows = table()
    seen: list[Any] = []

    def view_render(rows: list[dict[str, Any]], selected: int) -> str:
        def row(r: dict[str, Any]) -> Rendered:  # a new closure each render, the same code
            seen.append(r["id"])
            mark = "*" if r["id"] == selected else ""
            return lw.html("<li>{mark}{name}</li>", mark=mark, name=r["name"])

        return render_rows(rows, row)

    view_render(rows, selected=3)
    seen.clear()
    view_render(rows, selected=3)
    assert seen == []


def test_added_removed_and_moved_rows_render_only_the_added_ones() -> None:
    rows = table(5)
    seen: list[Any] = []

    def row(r: dict[str, Any]) -> Rendered:
        seen.append(r["id"])
        return lw.html(ROW, **r)

    def render(items: list[dict[str, Any]]) -> Rendered:  # one call site of each
        return lw.html("<table>{rows}</table>", rows=lw.each(items, row, key=by_id))

    before = render(rows)
    seen.clear()
    new = {"id": 9, "name": "new", "qty": 1}
    after_rows = [rows[4], new, rows[0], rows[2]]
    after = render(after_rows)
    assert seen == [9]
    payload = protocol.diff(before, after)
    tree = protocol.merge(protocol.merge(None, protocol.full(before)), payload)
    assert protocol.to_html(tree) == fresh(after_rows, plain_row)


def test_views_rendering_one_line_with_rows_of_their_own_each_reuse_theirs() -> None:
    tables = [table(10), table(10), table(10)]  # three views' rows: other objects, same keys

    def render(rows: list[dict[str, Any]]) -> Comprehension:
        return lw.each(rows, plain_row, key=by_id)

    first = [render(rows) for rows in tables]
    again = [render(rows) for rows in tables]  # each view renders again, in turn
    for before, after in zip(first, again):
        assert all(a is b for a, b in zip(before.entries, after.entries))  # reused, not rendered
    assert [c.to_html() for c in again] == [c.to_html() for c in first]


def test_reuse_false_renders_every_row() -> None:
    rows = table()
    row, seen = counted(plain_row)
    render_rows(rows, row, reuse=False)
    render_rows(rows, row, reuse=False)
    assert len(seen) == 40


# --- what must render again: reading outside the item -----------------------------------------


def test_a_closure_variable_that_changes_renders_every_row_again() -> None:
    rows = table(4)

    def view_render(selected: int) -> str:
        def row(r: dict[str, Any]) -> Rendered:
            return lw.html(
                '<li class="{cls}">{name}</li>',
                cls="on" if r["id"] == selected else "",
                name=r["name"],
            )

        return render_rows(rows, row)

    assert view_render(1).count('class="on"') == 1
    html = view_render(2)
    assert '<li class="on">item &lt;2&gt;</li>' in html
    assert '<li class="on">item &lt;1&gt;</li>' not in html


def test_a_default_argument_that_changes_renders_the_rows_again() -> None:
    rows = table(3)

    def view_render(unit: str) -> str:
        def row(r: dict[str, Any], unit: str = unit) -> Rendered:
            return lw.html("<li>{qty} {unit}</li>", qty=r["qty"], unit=unit)

        return render_rows(rows, row)

    assert "2 kg" in view_render("kg")
    assert "2 lb" in view_render("lb")


def themed_row(r: dict[str, Any]) -> Rendered:
    return lw.html('<li class="{theme}">{name}</li>', theme=THEME, name=r["name"])


def test_a_module_global_that_changes_renders_the_rows_again() -> None:
    global THEME
    rows = table(3)
    assert 'class="light"' in render_rows(rows, themed_row)
    THEME = "dark"
    try:
        html = render_rows(rows, themed_row)
    finally:
        THEME = "light"
    assert 'class="light"' not in html
    assert html == fresh(rows, themed_row).replace("light", "dark")


def shown_name(r: dict[str, Any]) -> str:
    return f"{r['name']} ({THEME})"


def row_through_a_helper(r: dict[str, Any]) -> Rendered:
    return lw.html("<li>{name}</li>", name=shown_name(r))


def test_a_global_read_by_a_helper_function_of_the_same_module_is_followed() -> None:
    global THEME
    rows = table(3)
    assert "(light)" in render_rows(rows, row_through_a_helper)
    THEME = "dark"
    try:
        html = render_rows(rows, row_through_a_helper)
    finally:
        THEME = "light"
    assert "(dark)" in html
    assert "(light)" not in html


def test_a_set_changed_in_place_in_a_closure_renders_the_rows_again() -> None:
    rows = table(4)
    selected: set[int] = {1}

    def row(r: dict[str, Any]) -> Rendered:
        return lw.html(
            "<li>{mark}{name}</li>", mark="*" if r["id"] in selected else "", name=r["name"]
        )

    assert render_rows(rows, row).count("*") == 1
    selected.add(3)
    html = render_rows(rows, row)
    assert html.count("*") == 2
    assert html == fresh(rows, row)


def test_a_bound_method_whose_object_changes_renders_the_rows_again() -> None:
    class Table:
        def __init__(self) -> None:
            self.currency = "EUR"

        def row(self, r: dict[str, Any]) -> Rendered:
            return lw.html("<li>{qty} {cur}</li>", qty=r["qty"], cur=self.currency)

    rows = table(3)
    shown = Table()
    assert "2 EUR" in render_rows(rows, shown.row)
    shown.currency = "USD"  # the view's self: an object livewidget cannot copy, so no reuse
    assert "2 USD" in render_rows(rows, shown.row)


def test_a_partial_whose_arguments_change_renders_the_rows_again() -> None:
    def row(unit: str, r: dict[str, Any]) -> Rendered:
        return lw.html("<li>{qty} {unit}</li>", qty=r["qty"], unit=unit)

    rows = table(3)
    assert "2 kg" in render_rows(rows, functools.partial(row, "kg"))
    assert "2 lb" in render_rows(rows, functools.partial(row, "lb"))


class Unit(enum.Enum):
    KG = "kg"
    LB = "lb"


def test_a_closure_holding_an_enum_member_reuses_rows_until_the_member_changes() -> None:
    rows = table(3)

    def view_render(unit: Unit) -> Comprehension:
        def row(r: dict[str, Any]) -> Rendered:
            return lw.html("<li>{qty} {unit}</li>", qty=r["qty"], unit=unit.value)

        return lw.each(rows, row, key=by_id)

    first = view_render(Unit.KG)
    again = view_render(Unit.KG)
    assert again.entries[0] is first.entries[0]
    assert "2 lb" in view_render(Unit.LB).to_html()


def test_a_key_function_reading_a_closure_variable_gives_the_new_keys() -> None:
    rows = table(3)

    def view_render(prefix: str) -> Comprehension:
        return lw.each(rows, plain_row, key=lambda r: f"{prefix}{r['id']}")

    assert view_render("a").keys == ("a0", "a1", "a2")
    assert view_render("b").keys == ("b0", "b1", "b2")


@pytest.mark.parametrize(
    ("before", "after", "shown"),
    [(0.0, -0.0, "-0.0"), (1, True, "True"), (1, 1.0, "1.0"), ("<b>", lw.Markup("<b>"), "<b>")],
)
def test_a_closure_value_replaced_by_an_equal_one_that_shows_differently_renders_again(
    before: Any, after: Any, shown: str
) -> None:
    rows = table(2)

    def view_render(value: Any) -> str:
        def row(r: dict[str, Any]) -> Rendered:
            return lw.html("<li>{value}</li>", value=value)

        return render_rows(rows, row)

    view_render(before)
    assert f"<li>{shown}</li>" in view_render(after)


# --- what must render again: items changed in place --------------------------------------------


def test_a_dict_row_changed_in_place_renders_again() -> None:
    rows = table(5)
    row, seen = counted(plain_row)
    render_rows(rows, row)
    seen.clear()
    rows[2]["qty"] = 222  # the same dict, the same list
    html = render_rows(rows, row)
    assert [r["id"] for r in seen] == [2]
    assert "<td>222</td>" in html
    assert html == fresh(rows, plain_row)


def test_a_row_replaced_by_an_equal_one_that_shows_differently_renders_again() -> None:
    def row(r: dict[str, Any]) -> Rendered:
        return lw.html("<li>{v}</li>", v=r["v"])

    rows = [{"id": 1, "v": 1}]
    render_rows(rows, row)
    rows = [{"id": 1, "v": True}]  # == the old row, but another object
    assert "<li>True</li>" in render_rows(rows, row)


def test_a_row_holding_a_list_changed_in_place_renders_again() -> None:
    rows = [{"id": i, "name": "n", "qty": 0, "tags": ["a"]} for i in range(3)]

    def row(r: dict[str, Any]) -> Rendered:
        return lw.html("<li>{tags}</li>", tags=", ".join(r["tags"]))

    render_rows(rows, row)
    rows[1]["tags"].append("b")  # nested: no copy could show it, so such rows are never reused
    assert "<li>a, b</li>" in render_rows(rows, row)


def test_a_list_row_changed_in_place_renders_again() -> None:
    rows = [[i, f"n{i}"] for i in range(3)]

    def html_of(items: list[list[Any]]) -> str:
        return lw.html(
            "{rows}",
            rows=lw.each(items, lambda r: lw.html("<li>{n}</li>", n=r[1]), key=lambda r: r[0]),
        ).to_html()

    html_of(rows)
    rows[1][1] = "changed"
    assert "<li>changed</li>" in html_of(rows)


def test_an_object_row_changed_in_place_renders_again() -> None:
    class Item:
        def __init__(self, i: int) -> None:
            self.id = i
            self.name = f"n{i}"

    rows = [Item(i) for i in range(3)]

    def html_of(items: list[Item]) -> str:
        return lw.html(
            "{rows}",
            rows=lw.each(items, lambda r: lw.html("<li>{n}</li>", n=r.name), key=lambda r: r.id),
        ).to_html()

    html_of(rows)
    rows[1].name = "changed"
    assert "<li>changed</li>" in html_of(rows)


# --- escaping and errors are as strict as without reuse -----------------------------------------


def test_a_reused_row_is_escaped_exactly_as_a_fresh_one() -> None:
    rows = [{"id": 1, "name": "<script>alert(1)</script>", "qty": 1}]
    render_rows(rows, plain_row)
    html = render_rows(rows, plain_row)
    assert "<script>" not in html
    assert html == fresh(rows, plain_row)


def test_a_row_holding_markup_is_never_reused_so_text_put_in_its_place_is_escaped() -> None:
    rows = [{"id": 1, "name": lw.Markup("<b>bold</b>"), "qty": 1}]
    render_rows(rows, plain_row)
    rows[0]["name"] = "<b>bold</b>"  # equal to the Markup, but text: it must be escaped now
    assert "&lt;b&gt;bold&lt;/b&gt;" in render_rows(rows, plain_row)


def test_a_duplicate_key_is_refused_when_rows_are_reused_too() -> None:
    rows = table(3)
    render_rows(rows, plain_row)
    with pytest.raises(TemplateError, match="appears twice"):
        render_rows([*rows, rows[0]], plain_row)


def test_a_changed_row_that_switches_template_renders_right() -> None:
    rows = table(3)

    def view_render(wide: int) -> str:
        def row(r: dict[str, Any]) -> Rendered:
            if r["id"] == wide:
                return lw.html("<li><b>{name}</b></li>", name=r["name"])
            return lw.html("<li>{name}</li>", name=r["name"])

        return render_rows(rows, row)

    view_render(-1)
    assert view_render(1) == fresh(
        rows,
        lambda r: (
            lw.html("<li><b>{name}</b></li>", name=r["name"])
            if r["id"] == 1
            else lw.html("<li>{name}</li>", name=r["name"])
        ),
    )


def test_a_row_of_another_template_hidden_then_shown_again_renders_right() -> None:
    rows = table(4)

    def row(r: dict[str, Any]) -> Rendered:
        if r["id"] == 2:
            return lw.html("<li><b>{name}</b></li>", name=r["name"])
        return lw.html("<li>{name}</li>", name=r["name"])

    def shown(items: list[dict[str, Any]]) -> str:
        return lw.html("<ul>{rows}</ul>", rows=lw.each(items, row, key=by_id)).to_html()

    shown(rows)
    without = [r for r in rows if r["id"] != 2]
    shown(without)  # all rows shown now share one template; the hidden one stays in the memo
    assert shown(rows) == fresh(rows, row).replace("<table>", "<ul>").replace("</table>", "</ul>")


# --- the diff ------------------------------------------------------------------------------------


def test_the_diff_does_not_compare_rows_that_are_the_same_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = table(50)
    nested = [{**r, "cell": lw.html("<i>{q}</i>", q=r["qty"])} for r in rows]

    def row(r: dict[str, Any]) -> Rendered:
        return lw.html("<tr><td>{cell}</td></tr>", cell=r["cell"])

    def render(items: list[dict[str, Any]]) -> Rendered:
        return lw.html("<table>{rows}</table>", rows=lw.each(items, row, key=by_id))

    before = render(nested)
    changed = list(nested)
    changed[5] = {**nested[5], "cell": lw.html("<i>{q}</i>", q=555)}
    after = render(changed)
    compared = []
    original = Rendered.__eq__

    def spy(self: Rendered, other: object) -> bool:
        compared.append(self)
        return original(self, other)

    monkeypatch.setattr(Rendered, "__eq__", spy)
    payload = protocol.diff(before, after)
    assert payload == {"0": {"k": {"5": {"0": {"0": "555"}}, "kc": 50}}}
    assert len(compared) <= 2  # the changed row only, not the 49 others


# --- in a live view -----------------------------------------------------------------------------


class Picker(lw.LiveView):
    def mount(self, socket: Any) -> None:
        socket.assign(rows=table(5), selected=None)

    def handle_event(self, event: str, params: dict[str, Any], socket: Any) -> None:
        socket.assign(selected=int(params["id"]))

    def render(self, ctx: Any) -> Rendered:
        def row(r: dict[str, Any]) -> Rendered:  # reads ctx.selected through its closure
            cls = "on" if r["id"] == ctx.selected else ""
            return lw.html(
                '<li id="i{id}" class="{cls}" phx-click="pick" phx-value-id="{id}">{name}</li>',
                id=r["id"],
                cls=cls,
                name=r["name"],
            )

        return lw.html("<ul>{rows}</ul>", rows=lw.each(ctx.rows, row, key=by_id))


def test_a_view_whose_row_function_reads_the_context_shows_each_new_selection() -> None:
    lv = live(Picker)
    lv.click("#i1")
    assert lv.has_element('#i1[class="on"]')
    lv.click("#i3")
    assert lv.has_element('#i3[class="on"]')
    assert not lv.has_element('#i1[class="on"]')


# --- a property: reuse never changes what is shown ------------------------------------------------

_operations = st.lists(
    st.one_of(
        # In place, a value equal to the one it replaces counts as unchanged, as for
        # socket.assign (1 by True is not seen: docs/data.md): values whose == tells them apart.
        st.tuples(st.just("replace"), st.integers(0, 30), st.sampled_from([0, 1, 2, "<x>", "x"])),
        st.tuples(st.just("mutate"), st.integers(0, 30), st.sampled_from([0, 1, 2, "<x>", "x"])),
        st.tuples(st.just("select"), st.integers(0, 30), st.none()),
        st.tuples(st.just("insert"), st.integers(0, 30), st.integers(100, 200)),
        st.tuples(st.just("delete"), st.integers(0, 30), st.none()),
        st.tuples(st.just("reverse"), st.none(), st.none()),
        st.tuples(st.just("hide"), st.integers(0, 30), st.none()),  # or show again
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_operations)
@example([("hide", 2, None), ("hide", 2, None)])  # a row of another template shown again
def test_whatever_changes_between_renders_reuse_shows_what_a_full_render_shows(
    operations: list[tuple[str, Any, Any]],
) -> None:
    rows: list[dict[str, Any]] = [{"id": i, "v": i} for i in range(6)]
    selected: set[int] = set()

    hidden: set[int] = set()

    def row(r: dict[str, Any]) -> Rendered:
        cls = "on" if r["id"] in selected else ""
        if r["v"] == 2:  # another template for some rows
            return lw.html('<li class="{cls}"><b>{v}</b></li>', cls=cls, v=r["v"])
        return lw.html('<li class="{cls}">{v}</li>', cls=cls, v=r["v"])

    def render(items: list[dict[str, Any]]) -> Rendered:
        # the same row objects, some hidden: `hidden` is read here, outside the row function
        shown = [r for r in items if r["id"] not in hidden]
        return lw.html("<ul>{rows}</ul>", rows=lw.each(shown, row, key=by_id))

    last = render(rows)
    tree = protocol.merge(None, protocol.full(last))
    for name, where, value in operations:
        index = where % len(rows) if rows and where is not None else 0
        if name == "replace" and rows:
            rows = [*rows[:index], {**rows[index], "v": value}, *rows[index + 1 :]]
        elif name == "mutate" and rows:
            rows[index]["v"] = value  # in place, the same list
        elif name == "select" and rows:
            selected.symmetric_difference_update({rows[index]["id"]})
        elif name == "insert" and all(r["id"] != value for r in rows):
            rows = [*rows[:index], {"id": value, "v": value}, *rows[index:]]
        elif name == "delete" and rows:
            rows = rows[:index] + rows[index + 1 :]
        elif name == "reverse":
            rows = rows[::-1]
        elif name == "hide" and rows:
            hidden.symmetric_difference_update({rows[index]["id"]})
        current = render(rows)
        shown = [r for r in rows if r["id"] not in hidden]
        expected = lw.html(
            "<ul>{rows}</ul>", rows=lw.each(shown, row, key=by_id, reuse=False)
        ).to_html()
        tree = protocol.merge(tree, protocol.diff(last, current))
        assert protocol.to_html(tree) == expected
        last = current


class Badge(lw.LiveComponent):
    def render(self, ctx: Any) -> Rendered:
        return lw.html("<b>{label}</b>", label=ctx.label)


def test_a_row_placing_a_live_component_is_never_reused() -> None:
    """A placement is bound to the view that resolves it (``ref.live``): two views rendering
    the same rows at the same line must not share one."""
    rows = [{"id": i, "label": f"row {i}"} for i in range(3)]

    def row(r: dict[str, Any]) -> Rendered:
        return lw.html(
            "<li>{b}</li>", b=lw.live_component(Badge, id=f"b{r['id']}", label=r["label"])
        )

    def render() -> Comprehension:
        return lw.each(rows, row, key=by_id)

    first, second = render(), render()
    assert all(a[0] is not b[0] for a, b in zip(first.entries, second.entries))


def test_rows_placing_live_components_show_in_a_view() -> None:
    class BadgeList(lw.LiveView):
        def mount(self, socket: Any) -> None:
            socket.assign(rows=[{"id": i, "label": f"row {i}"} for i in range(2)])

        def handle_event(self, event: str, params: dict[str, Any], socket: Any) -> None:
            socket.assign(rows=[*socket.context["rows"], {"id": 9, "label": "new"}])

        def render(self, ctx: Any) -> Rendered:
            def row(r: dict[str, Any]) -> Rendered:
                badge = lw.live_component(Badge, id=f"b{r['id']}", label=r["label"])
                return lw.html("<li>{badge}</li>", badge=badge)

            rows = lw.each(ctx["rows"], row, key=by_id)
            return lw.html('<button phx-click="add">+</button><ul>{rows}</ul>', rows=rows)

    lv = live(BadgeList)
    lv.click("button")
    assert lv.html.endswith(
        "<ul><li><b>row 0</b></li><li><b>row 1</b></li><li><b>new</b></li></ul>"
    )

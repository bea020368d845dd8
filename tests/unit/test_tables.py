"""Live tables: DataFrames and Stylers look like Jupyter's tables and are diffed by cell."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import livewidget as lw
from livewidget import protocol
from livewidget.template import Comprehension, Rendered
from livewidget.testing import live
from tests.unit.test_differential import Clients, check_every_client, clients  # noqa: F401

# (`clients` is test_differential's fixture: one Node process with both clients.)


def size(payload: Any) -> int:
    return len(json.dumps(payload).encode("utf-8"))


def orders(rows: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "item": [f"item {i}" for i in range(rows)],
            "qty": rng.integers(0, 100, rows),
            "price": rng.uniform(1, 500, rows).round(2),
            "status": rng.choice(["new", "paid", "shipped"], rows),
        }
    )


@pytest.fixture
def all_rows() -> Iterator[None]:
    """Show every row, as a notebook that sets display.max_rows = None does."""
    with pd.option_context("display.max_rows", None):
        yield


class Table(lw.LiveView):
    """A frame in the context; handle_info changes it (in place, or by assigning another)."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(df=self.params["df"])

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        df = socket.context.df
        if info == "bump":
            df.loc[500, "qty"] += 1  # in place, as pandas users do
        elif info == "append":
            df.loc[len(df)] = [len(df), "new", 1, 2.5, "new"]
        elif info == "slide":
            last = df.index[-1] + 1
            new = pd.DataFrame([[last, "next", 1, 1.0, "new"]], columns=df.columns, index=[last])
            df = pd.concat([df.iloc[1:], new])
        socket.assign(df=df)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<h1>Orders</h1>{df}", df=ctx.df)


# -- DataFrames look like Jupyter's table -----------------------------------------------------


def frames() -> list[tuple[str, pd.DataFrame, dict[str, Any]]]:
    named = pd.DataFrame(
        {"a": [1, 2, 3], "b": [1.5, 2.25, None], "c": ["x", "<y> & z", "  two  spaces "]},
        index=pd.Index(["r1", "r2", "r3"], name="idx"),
    )
    named.columns.name = "cols"
    kinds = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=3),
            "delta": pd.to_timedelta([1, 2, 3], unit="s"),
            "category": pd.Categorical(["a", "b", "a"]),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "flag": [True, False, True],
            "objects": [None, [1, 2], {"k": "<v>"}],
        }
    )
    wide = pd.DataFrame(np.arange(60).reshape(3, 20), columns=[f"c{i}" for i in range(20)])
    columns = pd.MultiIndex.from_tuples([("a", "x"), ("a", "y"), ("b", "x")], names=["l0", "l1"])
    return [
        ("named index and columns", named, {}),
        ("1,000 rows, truncated as Jupyter does", orders(), {}),
        ("1,000 rows, all shown", orders(), {"display.max_rows": None}),
        ("columns truncated", wide, {"display.max_columns": 6}),
        ("rows and columns truncated", orders(), {"display.max_columns": 3}),
        ("dtypes", kinds, {}),
        ("precision", pd.DataFrame({"x": [1.123456789, 2.0, 1e-9]}), {"display.precision": 3}),
        ("large floats", pd.DataFrame({"x": [1e10, 2.5]}), {}),
        ("repeated labels", pd.DataFrame({"a": [1, 2]}, index=[0, 0]), {}),
        ("multiindex columns", pd.DataFrame(np.arange(6).reshape(2, 3), columns=columns), {}),
        ("empty", pd.DataFrame(), {}),
        ("no columns", pd.DataFrame(index=[1, 2]), {}),
        ("no rows", pd.DataFrame(columns=["a", "b"]), {}),
        ("show dimensions", pd.DataFrame({"a": [1]}), {"display.show_dimensions": True}),
    ]


@pytest.mark.parametrize(("name", "frame", "options"), frames(), ids=[f[0] for f in frames()])
def test_a_dataframe_shows_exactly_the_html_jupyter_shows_for_it(
    name: str, frame: pd.DataFrame, options: dict[str, Any]
) -> None:
    with pd.option_context(options) if options else contextlib.nullcontext():
        rendered = lw.html("{df}", df=frame)
        assert rendered.to_html() == frame._repr_html_()
    table = rendered.dynamics[0]
    assert isinstance(table, Rendered)  # cell by cell, not pandas' HTML as one string
    assert isinstance(table.dynamics[1], Comprehension)


def test_a_frame_with_a_multiindex_on_its_rows_shows_pandas_html_whole() -> None:
    index = pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])
    frame = pd.DataFrame({"v": [1, 2, 3]}, index=index)
    rendered = lw.html("{df}", df=frame)
    assert rendered.dynamics == (frame._repr_html_(),)


def test_cell_text_index_labels_and_headers_are_escaped() -> None:
    frame = pd.DataFrame({"<i>head</i>": ["<script>alert(1)</script>"]}, index=["<b>row</b>"])
    lv = live(lw.create_live_view(render=lambda ctx: lw.html("{df}", df=frame)))
    assert not lv.has_element("script")
    assert not lv.has_element("b")
    assert not lv.has_element("i")
    assert lv.has_element("td", text="<script>alert(1)</script>")
    assert lv.has_element("tbody th", text="<b>row</b>")
    assert lv.has_element("thead th", text="<i>head</i>")


def test_a_long_frame_shows_its_first_and_last_rows_and_its_size_like_jupyter() -> None:
    lv = live(Table, df=orders())
    assert lv.has_element("table.dataframe tbody tr", text="...")
    assert len(lv._soup().select("table.dataframe tbody tr")) == 11  # 5, "...", 5
    assert lv.has_element("p", text="1000 rows \N{MULTIPLICATION SIGN} 5 columns")


def test_cells_formatted_again_one_by_one_match_pandas_after_any_changes(all_rows: None) -> None:
    frame = orders(200)
    frame["objects"] = [None if i % 7 else {"k": i} for i in range(200)]
    frame["text"] = pd.array([f"t{i}" for i in range(200)], dtype="string")
    rng = random.Random(1)
    for _ in range(40):
        row = rng.randrange(200)
        column = rng.choice(["qty", "item", "status", "objects", "text", "price"])
        if column == "qty":
            frame.loc[row, column] = rng.randrange(-5000, 5000)
        elif column == "price":
            frame.loc[row, column] = rng.choice([0.5, 1e7, 12.125, float("nan"), 0.0, -0.0])
        elif column == "objects":
            frame.at[row, column] = rng.choice([None, "a <b>", [1, "x"], 3.25, 1, True, 1.0])
        else:
            frame.loc[row, column] = rng.choice(["x" * 60, "  spaced  ", "a&b", None])
        assert lw.html("{df}", df=frame).to_html() == frame._repr_html_()


def test_float_columns_keep_pandas_precision_through_edits_appends_and_drops(
    all_rows: None,
) -> None:
    # Kept float cells are reused only while the column's decimals stay the same: a new value
    # with more decimals, or scientific notation, formats the whole column again.
    rng = random.Random(3)
    values = [0.5, 1.25, 2.0, 12.125, 999999.5, -0.0, 0.0, float("nan"), 1.123456789, 2e7]
    frame = pd.DataFrame({"x": [rng.choice([1.5, 2.25, 3.0]) for _ in range(120)]})
    for _ in range(300):
        step = rng.random()
        if step < 0.6:
            value = rng.choice([*values, round(rng.uniform(-50, 50), rng.randrange(0, 8))])
            frame.iloc[rng.randrange(len(frame)), 0] = value
        elif step < 0.8:
            frame.loc[frame.index.max() + 1] = [round(rng.uniform(0, 9), rng.randrange(0, 4))]
        elif len(frame) > 20:
            frame = frame.iloc[rng.randrange(1, 3) :].copy()
        assert lw.html("{df}", df=frame).to_html() == frame._repr_html_()


def test_frames_alike_shown_one_after_another_each_show_their_own_rows() -> None:
    # One table's cache serves the next frame with the same columns: rows are matched by label
    # (or by position when labels repeat) and only reused when the label is the same value.
    for index in ([0, 1], [0, 0], [1, 0], [1, 2, 3], [True, False], [1.0, 2.0]):
        frame = pd.DataFrame({"a": [1, True, 1.0][: len(index)]}, index=pd.Index(index))
        assert lw.html("{df}", df=frame).to_html() == frame._repr_html_()
    objects = pd.Index([1, 2.0, "x"], dtype=object)
    for index in (objects, pd.Index([1.0, 2, "x"], dtype=object), pd.Index([True, 2, "x"])):
        frame = pd.DataFrame({"a": [0, 0, 0]}, index=index)
        assert lw.html("{df}", df=frame).to_html() == frame._repr_html_()


# -- DataFrames, live -------------------------------------------------------------------------


def test_one_changed_cell_of_a_1000_row_frame_sends_under_200_bytes(all_rows: None) -> None:
    lv = live(Table, df=orders())
    assert size(lv.payloads[0]) > 50_000
    lv.send_info("bump")
    change = lv.payloads[-1]
    assert size(change) < 200, change
    assert len(lv._soup().select("tbody tr")) == 1000
    assert lv.html.endswith(lv.context.df._repr_html_())


def test_a_frame_mutated_in_place_and_assigned_again_re_renders() -> None:
    frame = orders(3)
    lv = live(Table, df=frame)
    before = len(lv.payloads)
    frame.loc[1, "item"] = "changed"
    lv.send_info("assign the same frame again")
    assert len(lv.payloads) == before + 1
    assert lv.has_element("td", text="changed")


def test_an_appended_row_sends_that_row(all_rows: None) -> None:
    lv = live(Table, df=orders())
    lv.send_info("append")
    change = json.dumps(lv.payloads[-1])
    assert size(lv.payloads[-1]) < 300, change
    assert '"1000"' in change
    assert '"new"' in change
    assert lv.html.endswith(lv.context.df._repr_html_())


def test_a_sliding_window_sends_moves_within_a_block_not_every_row(all_rows: None) -> None:
    lv = live(Table, df=orders())
    sizes = []
    for _ in range(40):
        lv.send_info("slide")
        sizes.append(size(lv.payloads[-1]))
    # Keyed by label in one flat list, every row would move: about 10 KB a tick.
    assert max(sizes) < 1500, sizes
    assert sum(sizes) / len(sizes) < 600, sizes
    assert lv.html.endswith(lv.context.df._repr_html_())


def test_the_official_client_and_the_widget_build_every_frame_from_the_payloads(
    clients: Clients,  # noqa: F811  # pytest passes the fixture imported above
) -> None:
    frames = [orders(300)]
    for step in range(12):
        frame = frames[-1].copy()
        if step % 3 == 0:
            frame.loc[frame.index[step * 7], "item"] = f"<changed {step}>"
        elif step % 3 == 1:
            frame.loc[frame.index[-1] + 1] = [step, "new", 1, 2.5, "new"]
        else:
            frame = frame.iloc[5:]
        frames.append(frame)
    with pd.option_context("display.max_rows", None):
        renders = [lw.html("<h1>t</h1>{df}", df=frame) for frame in frames]
    renders += [lw.html("<h1>t</h1>{df}", df=frame) for frame in frames[-3:]]  # truncated
    renders += [lw.html("<h1>t</h1>{s}", s=frame.head(40).style) for frame in frames[-3:]]
    check_every_client(clients, renders)


def test_an_unchanged_frame_rendered_again_diffs_to_nothing(all_rows: None) -> None:
    frame = orders()
    first = lw.html("{df}", df=frame)
    again = lw.html("{df}", df=frame.copy())
    assert isinstance(again.dynamics[0], Rendered)
    assert protocol.diff(first, again) == {}


# -- Stylers ----------------------------------------------------------------------------------


def test_a_styler_shows_each_cells_style_inline_and_escapes_its_text() -> None:
    frame = pd.DataFrame({"n": [1, 2, 3], "text": ["a", "<b>bold</b>", "c"]})
    styler = (
        frame.style.background_gradient(subset=["n"])
        .set_caption("Orders <i>")
        .set_table_styles([{"selector": "th", "props": [("color", "red")]}])
    )
    lv = live(lw.create_live_view(render=lambda ctx: lw.html("{s}", s=styler)))
    cells = lv._soup().select("td.col0")
    assert [cell.get_text() for cell in cells] == ["1", "2", "3"]
    assert all("background-color: #" in str(cell.get("style")) for cell in cells)
    assert lv.has_element("td.col1", text="<b>bold</b>")  # shown as text, not made bold
    assert not lv.has_element("td b")
    assert lv.has_element("caption", text="Orders <i>")
    table_id = lv.element("table").get("id")
    assert lv.has_element("style", text=f"#{table_id} th {{\n  color: red;\n}}")
    assert styler.to_html() == styler.to_html()  # the user's Styler is left as it was


def test_one_changed_cell_of_a_styler_sends_that_cell() -> None:
    frame = orders(300)

    class Styled(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(df=frame)

        def handle_info(self, info: Any, socket: lw.Socket) -> None:
            frame.loc[150, "item"] = "<changed>"
            socket.assign(df=frame)

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{s}", s=ctx.df.style.highlight_max(subset=["qty"]))

    lv = live(Styled)
    lv.send_info("change")
    assert size(lv.payloads[-1]) < 200, lv.payloads[-1]
    assert lv.has_element("td.row150", text="<changed>")


def test_a_stylers_tooltips_become_its_cells_titles() -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    styler = frame.style.set_tooltips(pd.DataFrame({"a": ["first <tip>", ""]}))
    html = lw.html("{s}", s=styler).to_html()
    assert 'title="first &lt;tip&gt;"' in html
    assert html.count("title=") == 1

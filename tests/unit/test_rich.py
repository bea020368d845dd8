"""Rich values: DataFrames, Stylers, figures, the display protocol, scripts and mistakes."""

from __future__ import annotations

import base64
import contextlib
import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any, NamedTuple

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import livewidget as lw
from livewidget import protocol, rich
from livewidget.template import Comprehension, Rendered, TemplateError
from livewidget.testing import live
from tests.unit.test_differential import Clients, check_every_client, clients  # noqa: F401

# (`clients` is test_differential's fixture: one Node process with both clients.)

matplotlib.use("Agg")


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


# -- matplotlib figures -----------------------------------------------------------------------


class Chart(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        figure = Figure(figsize=(3, 2))
        (line,) = figure.subplots().plot([1, 2, 3])
        socket.assign(figure=figure, line=line, ticks=0)

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        if info == "move":
            socket.context.line.set_ydata([3, 1, 2])
        socket.assign(ticks=socket.context.ticks + 1, figure=socket.context.figure)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<p>{ticks}</p>{figure}", ticks=ctx.ticks, figure=ctx.figure)


def test_a_figure_is_inline_svg_without_prolog() -> None:
    lv = live(Chart)
    assert lv.has_element("svg path")
    assert "<?xml" not in lv.html
    assert "<!DOCTYPE" not in lv.html


def test_an_unchanged_figure_rendered_again_sends_nothing_of_it() -> None:
    lv = live(Chart)
    assert lv.has_element("svg")
    lv.send_info("tick")
    assert lv.payloads[-1] == {"0": "1"}


def test_a_changed_figure_is_drawn_again() -> None:
    lv = live(Chart)
    before = lv.html
    lv.send_info("move")
    assert set(lv.payloads[-1]) == {"0", "1"}
    assert lv.html != before


def test_two_figures_on_a_page_share_no_id() -> None:
    first, second = Figure(figsize=(3, 2)), Figure(figsize=(3, 2))
    first.subplots().plot([1, 2])
    second.subplots().plot([1, 2])
    html = lw.html("{a}{b}", a=first, b=second).to_html()
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert ids
    assert len(ids) == len(set(ids))
    references = re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', html)
    assert {a or b for a, b in references} <= set(ids)


def test_a_pyplot_figure_changed_after_being_drawn_elsewhere_is_drawn_again() -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    try:
        first = lw.html("{f}", f=figure)
        axes.set_title("new title")
        figure.canvas.draw()  # as a notebook showing the figure would: stale is False again
        assert not figure.stale
        assert protocol.diff(first, lw.html("{f}", f=figure)) != {}
    finally:
        plt.close(figure)


# -- the display protocol ---------------------------------------------------------------------

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class Everything:
    def _repr_html_(self) -> str:
        return "<b>html</b>"

    def _repr_markdown_(self) -> str:
        return "**markdown**"

    def _repr_svg_(self) -> str:
        return "<svg/>"

    def _repr_png_(self) -> bytes:
        return PNG


class MarkdownAndPng:
    def _repr_markdown_(self) -> str:
        return "**markdown** <i>x</i>"

    def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
        return PNG, {"width": 20, "height": 10}


class Bundle(Everything):
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"image/svg+xml": '<?xml version="1.0"?>\n<svg id="b"/>', "text/plain": "B"}


class Declines:
    def _repr_html_(self) -> str:
        raise NotImplementedError

    def _repr_jpeg_(self) -> bytes:
        return b"jpeg"


def test_html_comes_first_and_is_trusted_as_jupyter_trusts_kernel_output() -> None:
    assert lw.html("{x}", x=Everything()).to_html() == "<b>html</b>"


def test_markdown_comes_before_images_and_is_rendered() -> None:
    html = lw.html("{x}", x=MarkdownAndPng()).to_html()
    assert "<strong>markdown</strong>" in html


def test_markdown_is_escaped_after_the_images_when_no_markdown_library_is_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "markdown_it", None)
    monkeypatch.setitem(sys.modules, "mistune", None)
    rich._markdown.cache_clear()
    try:
        assert lw.html("{x}", x=MarkdownAndPng()).to_html().startswith("<img")

        class OnlyMarkdown:
            def _repr_markdown_(self) -> str:
                return "**a** <i>"

        assert lw.html("{x}", x=OnlyMarkdown()).to_html() == "**a** &lt;i&gt;"
    finally:
        rich._markdown.cache_clear()


def test_images_are_data_urls_with_the_size_they_declare() -> None:
    class Png:
        def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
            return PNG, {"width": 20, "height": 10}

    encoded = base64.b64encode(PNG).decode()
    assert lw.html("{x}", x=Png()).to_html() == (
        f'<img src="data:image/png;base64,{encoded}" width="20" height="10" alt="">'
    )
    jpeg = base64.b64encode(b"jpeg").decode()
    assert lw.html("{x}", x=Declines()).to_html() == (
        f'<img src="data:image/jpeg;base64,{jpeg}" alt="">'
    )


def test_a_mimebundle_wins_over_the_methods_for_the_types_it_has() -> None:
    # The bundle has SVG only (and text): html from _repr_html_ still ranks first.
    assert lw.html("{x}", x=Bundle()).to_html() == "<b>html</b>"

    class OnlyBundle:
        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
            return {"image/svg+xml": '<?xml version="1.0"?>\n<svg id="b"/>'}, {}

    assert lw.html("{x}", x=OnlyBundle()).to_html() == '<svg id="b"/>'

    class PlainBundle:
        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
            return {"text/plain": "<plain>", "application/vnd.custom+json": {}}

    assert lw.html("{x}", x=PlainBundle()).to_html() == "&lt;plain&gt;"


def test_ipython_display_objects_show_as_in_a_notebook() -> None:
    from IPython.display import HTML, SVG, Image, Markdown

    assert lw.html("{x}", x=HTML("<i>hi</i>")).to_html() == "<i>hi</i>"
    assert "<em>hi</em>" in lw.html("{x}", x=Markdown("*hi*")).to_html()
    assert (
        lw.html("{x}", x=SVG('<svg xmlns="http://www.w3.org/2000/svg"/>'))
        .to_html()
        .startswith("<svg")
    )
    assert lw.html("{x}", x=Image(data=PNG)).to_html().startswith('<img src="data:image/png')


def test_a_class_is_shown_as_text_even_if_its_instances_have_reprs() -> None:
    assert (
        lw.html("{x}", x=Everything).to_html()
        == "&lt;class &#39;tests.unit.test_rich.Everything&#39;&gt;"
    )


def test_plain_values_do_not_import_pandas() -> None:
    code = (
        "import datetime, decimal, sys\n"
        "import livewidget as lw\n"
        "html = lw.html('{a} {b} {c}', a=decimal.Decimal('1.5'), b=datetime.date(2024, 1, 2), "
        "c=object()).to_html()\n"
        "assert 'pandas' not in sys.modules and 'matplotlib' not in sys.modules, html\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- scripts ----------------------------------------------------------------------------------


def test_a_plotly_figure_shows_a_warning_naming_its_widget() -> None:
    import plotly.graph_objects as go

    lv = live(lw.create_live_view(render=lambda ctx: lw.html("{f}", f=go.Figure())))
    assert lv.has_element(".lw-warning", text="go.FigureWidget(fig)")


def test_an_altair_chart_shows_a_warning_naming_its_widget() -> None:
    import altair as alt

    chart = alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_bar().encode(x="a")
    lv = live(lw.create_live_view(render=lambda ctx: lw.html("{c}", c=chart)))
    assert lv.has_element(".lw-warning", text="alt.JupyterChart(chart)")


def test_html_with_scripts_in_markup_is_shown_without_them_and_with_a_warning() -> None:
    import altair as alt
    import plotly.graph_objects as go

    plotly_html = go.Figure().to_html(full_html=False)
    altair_html = alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().to_html()
    for html, fix in [(plotly_html, "go.FigureWidget"), (altair_html, "alt.JupyterChart")]:
        shown = lw.html("<div>{x}</div>", x=lw.Markup(html)).to_html()
        assert "<script" not in shown.lower()
        assert shown.startswith('<div><div class="lw-warning"')
        assert fix in shown


def test_a_repr_html_that_needs_javascript_loses_its_scripts_and_warns() -> None:
    class Widgety:
        def _repr_html_(self) -> str:
            return '<div id="x">chart</div><SCRIPT type="module">draw()</script ><script>x('

    html = lw.html("{w}", w=Widgety()).to_html()
    assert html.endswith('<div id="x">chart</div>')
    assert 'class="lw-warning"' in html
    assert "draw()" not in html


# -- mistakes ---------------------------------------------------------------------------------


def test_a_bound_method_in_a_field_says_to_pass_the_frame_itself() -> None:
    with pytest.raises(
        TemplateError, match=r"\{df.to_html\} got the method DataFrame.to_html"
    ) as e:
        lw.html("<div>{df.to_html}</div>", df=orders(2))
    assert "Pass the object itself" in str(e.value)


def test_functions_in_fields_are_refused() -> None:
    for value in (len, lambda: 1, str.upper, "x".upper, print):
        with pytest.raises(TemplateError, match=r"\{f\} got the (function|method) .*never calls"):
            lw.html("{f}", f=value)


def test_a_call_in_a_field_is_refused_when_the_template_is_parsed() -> None:
    with pytest.raises(
        TemplateError, match=re.escape("fields cannot call: {df.to_html()}. Compute the value")
    ):
        lw.html("<div>{df.to_html()}</div>", df=orders(2))
    with pytest.raises(TemplateError, match="fields cannot call"):
        lw.html("{len(x)}", x=[])
    assert lw.html("{d[a(b)]}", d={"a(b)": "ok"}).to_html() == "ok"


class Point(NamedTuple):
    x: int
    y: int


def test_a_tuple_of_plain_values_is_refused() -> None:
    for value in ((1, 2), ("Total",), Point(1, 2)):
        with pytest.raises(TemplateError, match=r"\{t\} got the tuple .* run together as text"):
            lw.html("<p>{t}</p>", t=value)


def test_tuples_of_templates_and_empty_tuples_are_lists_as_before() -> None:
    rows = (lw.html("<li>{x}</li>", x=1), lw.html("<li>{x}</li>", x=2))
    assert lw.html("<ul>{r}</ul>", r=rows).to_html() == "<ul><li>1</li><li>2</li></ul>"
    assert lw.html("<ul>{r}</ul>", r=()).to_html() == "<ul></ul>"


def test_a_mistake_inside_a_list_names_the_field_of_the_list() -> None:
    with pytest.raises(TemplateError, match=r"\{items\} got the function"):
        lw.html("{items}", items=[lw.html("<b>{x}</b>", x=1), len])

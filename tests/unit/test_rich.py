"""Rich values: the display protocol, figures, scripts and the mistakes a field refuses."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from typing import Any, NamedTuple

import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure

import livewidget as lw
from livewidget import protocol, rich
from livewidget.template import TemplateError
from livewidget.testing import live

matplotlib.use("Agg")


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
        lw.html("<div>{df.to_html}</div>", df=pd.DataFrame({"a": [1, 2]}))
    assert "Pass the object itself" in str(e.value)


def test_functions_in_fields_are_refused() -> None:
    for value in (len, lambda: 1, str.upper, "x".upper, print):
        with pytest.raises(TemplateError, match=r"\{f\} got the (function|method) .*never calls"):
            lw.html("{f}", f=value)


def test_a_call_in_a_field_is_refused_when_the_template_is_parsed() -> None:
    with pytest.raises(
        TemplateError, match=re.escape("fields cannot call: {df.to_html()}. Compute the value")
    ):
        lw.html("<div>{df.to_html()}</div>", df=pd.DataFrame({"a": [1, 2]}))
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

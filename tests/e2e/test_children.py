"""Jupyter widgets inside views, in a real JupyterLab: an ipywidgets slider and a plotly
FigureWidget inside views that tick.

What only a browser shows: the child widget is placed by JupyterLab's own widget manager, it is
the same DOM node however often the view around it renders, a value set in Python shows in it,
a key pressed on it reaches Python, and a chart updated from ``handle_info`` draws new points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import nbformat
import pytest
from jupyter_e2e import JupyterServer, Notebook, wait_for_text_changes
from jupyter_e2e import kernel_json as _kernel_json
from jupyter_e2e import write_notebook as _write_notebook
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

KNOB = """\
import json

import ipywidgets
import livewidget as lw
import pandas as pd  # before any view ticks: plotly imports pandas in the views' thread, and
                     # two threads' first imports of one package can meet half done

class Knob(lw.LiveView):
    def mount(self, socket):
        self.slider = ipywidgets.IntSlider(value=7, min=0, max=100, description="inside")
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 100)
        socket.assign(ticks=0, speed=0, slider=self.slider)

    def handle_info(self, info, socket):
        socket.assign(ticks=socket.context.ticks + 1)

    def render(self, ctx):
        return lw.html(
            '<b id="ticks">{ticks}</b> speed <i id="speed">{speed}</i>'
            '<div id="knob">{slider}</div>',
            **ctx,
        )

knob = Knob()
knob.widget.link("speed", knob.slider)  # the key takes the slider's value, then both ways
knob
"""

CHART = """\
import plotly.graph_objects as go
from plotly.graph_objects import FigureWidget  # its first import takes seconds: not in mount

class Chart(lw.LiveView):
    def mount(self, socket):
        self.fig = FigureWidget(
            data=[go.Scatter(x=[0], y=[0], mode="lines+markers")],
            layout={"width": 480, "height": 300, "margin": {"t": 10, "b": 30}},
        )
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 200)
        socket.assign(points=1, fig=self.fig)

    def handle_info(self, info, socket):
        n = socket.context.points + 1
        with self.fig.batch_update():
            self.fig.data[0].x = list(range(n))
            self.fig.data[0].y = [(i * 7) % 11 for i in range(n)]
        socket.assign(points=n)

    def render(self, ctx):
        return lw.html('<b id="points">{points}</b>{fig}', **ctx)

chart = Chart()
chart
"""

NESTED = """\
class Inner(lw.LiveView):
    def mount(self, socket):
        socket.assign(clicks=0)

    def handle_event(self, event, params, socket):
        socket.assign(clicks=socket.context.clicks + 1)

    def render(self, ctx):
        return lw.html('<button id="inner-button" phx-click="inc">inner {clicks}</button>', **ctx)

class Outer(lw.LiveView):
    def mount(self, socket):
        socket.assign(clicks=0, inner=Inner())  # a view in a field shows as its widget

    def handle_event(self, event, params, socket):
        socket.assign(clicks=socket.context.clicks + 1)

    def render(self, ctx):
        return lw.html(
            '<div id="outer" phx-click="any"><b id="outer-clicks">{clicks}</b>{inner}</div>', **ctx
        )

outer = Outer()
outer
"""

KNOB_VIEW = ".livewidget:has(#knob)"
SLIDER = f"{KNOB_VIEW} #knob .lw-child .widget-slider"
CHART_VIEW = ".livewidget:has(#points)"


@pytest.fixture(scope="module")
def children_nb(lab: JupyterServer, open_notebook: Callable[..., Notebook]) -> Notebook:
    _write_notebook(lab, "children.ipynb", [KNOB, CHART, NESTED])
    nb = open_notebook(lab, "children.ipynb")
    nb.run_all()
    expect(nb.page.locator(SLIDER)).to_be_visible(timeout=30_000)
    return nb  # closed by open_notebook when the module ends


def test_a_slider_inside_a_ticking_view_stays_the_same_dom_node(children_nb: Notebook) -> None:
    page = children_nb.page
    marked = page.evaluate(
        """(selector) => {
          const slider = document.querySelector(selector);
          slider.lwMark = "the same node";
          slider.querySelector(".noUi-handle").lwMark = "the same handle";
          return true;
        }""",
        SLIDER,
    )
    assert marked
    wait_for_text_changes(page, f"{KNOB_VIEW} #ticks", 10)
    survived = page.evaluate(
        """(selector) => {
          const all = document.querySelectorAll(selector);
          const slider = all[0];
          return [all.length, slider.lwMark, slider.querySelector(".noUi-handle").lwMark];
        }""",
        SLIDER,
    )
    assert survived == [1, "the same node", "the same handle"]
    assert children_nb.widget_errors() == []


def test_a_value_set_in_python_shows_in_the_slider_and_the_linked_key(
    children_nb: Notebook,
) -> None:
    page = children_nb.page
    children_nb.run_code("knob.slider.value = 42")
    expect(page.locator(f"{SLIDER} .widget-readout")).to_have_text("42")
    expect(page.locator(f"{KNOB_VIEW} #speed")).to_have_text("42")


def test_a_key_pressed_on_the_slider_reaches_python(children_nb: Notebook) -> None:
    page = children_nb.page
    children_nb.run_code("knob.slider.value = 20")
    expect(page.locator(f"{SLIDER} .widget-readout")).to_have_text("20")
    handle = page.locator(f"{SLIDER} .noUi-handle")
    handle.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"{SLIDER} .widget-readout")).to_have_text("21")
    expect(page.locator(f"{KNOB_VIEW} #speed")).to_have_text("21")  # linked: kernel and back
    expect(handle).to_be_focused()  # the view's renders since did not take the focus away
    for key in ("ArrowUp", "ArrowUp", "ArrowDown"):  # JupyterLab's cell shortcuts stay out
        page.keyboard.press(key)
    expect(page.locator(f"{SLIDER} .widget-readout")).to_have_text("22")
    expect(handle).to_be_focused()
    kernel = _kernel_json(
        children_nb, "print(json.dumps([knob.slider.value, knob.widget.context['speed']]))"
    )
    assert kernel == [22, 22]
    assert children_nb.widget_errors() == []


def test_a_plotly_chart_inside_a_ticking_view_shows_new_points(children_nb: Notebook) -> None:
    page = children_nb.page
    plot = page.locator(f"{CHART_VIEW} .lw-child .js-plotly-plot")
    expect(plot).to_be_visible(timeout=30_000)
    page.evaluate("(el) => { el.lwMark = 'the same chart'; }", plot.element_handle())
    points = plot.locator(".scatterlayer .trace .points path")
    before = points.count()
    wait_for_text_changes(page, f"{CHART_VIEW} #points", 5)
    page.wait_for_function(
        """([selector, before]) => {
          const plot = document.querySelector(selector);
          return plot && plot.querySelectorAll('.scatterlayer .trace .points path').length
                 >= before + 5;
        }""",
        arg=[f"{CHART_VIEW} .lw-child .js-plotly-plot", before],
        timeout=30_000,
    )
    assert page.evaluate("(el) => el.lwMark", plot.element_handle()) == "the same chart"
    assert children_nb.widget_errors() == []
    saved = _saved_chart_data(children_nb)
    assert len(saved["x"]) >= before + 5, "the saved widget state holds the points drawn"


def test_a_view_inside_a_view_handles_its_own_clicks(children_nb: Notebook) -> None:
    page = children_nb.page
    outer = page.locator(".livewidget:has(#outer)").last
    inner = outer.locator(".lw-child .livewidget #inner-button")
    expect(inner).to_have_text("inner 0")
    inner.click()
    inner.click()
    expect(inner).to_have_text("inner 2")
    outer.locator("#outer-clicks").click()
    expect(outer.locator("#outer-clicks")).to_have_text("1")  # the inner clicks were not its own
    expect(inner).to_have_text("inner 2")
    assert children_nb.widget_errors() == []


def _saved_chart_data(nb: Notebook) -> Any:
    """The figure's first trace as the notebook saves it (JupyterLab's widget state)."""
    model_id = _kernel_json(nb, "print(json.dumps(chart.fig.model_id))")
    nb.save()
    saved = nbformat.read(nb.server.root / nb.path, as_version=4)
    state = saved.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return state[model_id]["state"]["_widget_data"][0]


TABLE = """\
class Table(lw.LiveView):
    def mount(self, socket):
        socket.assign(df=pd.DataFrame({
            "name": ["<b>markup</b>", '<img src=x onerror="window.lwOwned = 1">'],
            "n": [1, 2],
        }))

    def render(self, ctx):
        return lw.html('<div id="frame">{df}</div>', **ctx)

Table()
"""


def test_markup_in_a_dataframe_cell_shows_as_text(children_nb: Notebook) -> None:
    page = children_nb.page
    children_nb.run_code(TABLE)
    table = page.locator(".livewidget #frame table.dataframe")
    expect(table).to_be_visible(timeout=30_000)
    cells = table.locator("tbody td")
    expect(cells.first).to_have_text("<b>markup</b>")
    expect(cells.nth(2)).to_have_text('<img src=x onerror="window.lwOwned = 1">')
    assert table.locator("b, img").count() == 0, "no cell's text became an element"
    assert page.evaluate("() => window.lwOwned") is None
    assert children_nb.widget_errors() == []

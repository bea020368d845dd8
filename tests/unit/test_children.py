"""Jupyter widgets inside views, linking a context key to a widget, and the context at once.

The markup and the ``_children`` trait are checked in the kernel's own terms here; that the
widget shows live and stays the same DOM is for js/tests/children.test.ts and
tests/e2e/test_children.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets
import nbformat
import pytest
import traitlets
from nbclient import NotebookClient

import livewidget as lw
from livewidget import protocol
from livewidget.children import Child, children_of
from livewidget.jupyter import LiveWidget
from livewidget.template import TemplateError


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    monkeypatch.setattr(
        LiveWidget, "send", lambda self, content, buffers=None: messages.append(content)
    )
    return messages


@pytest.fixture
def slider() -> Iterator[ipywidgets.IntSlider]:
    widget = ipywidgets.IntSlider(value=7, description="inside")
    yield widget
    widget.close()


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


def errors(sent: list[dict[str, Any]]) -> list[str]:
    return [m["message"] for m in list(sent) if m["type"] == "error"]


def placeholder(widget: ipywidgets.Widget) -> str:
    model_id = widget.model_id
    return (
        f'<span class="lw-child" data-lw-widget="{model_id}" id="lw-child-{model_id}" '
        'phx-update="ignore"></span>'
    )


class Panel(lw.LiveView):
    """Shows the widgets in ``params["shown"]`` (a list, changed by the "show" info)."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(n=0, shown=self.params.get("shown", []))

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        if isinstance(info, tuple) and info[0] == "show":
            socket.assign(shown=info[1])
        else:
            socket.assign(n=socket.context.n + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<p>{n}</p><div>{shown}</div>", **ctx)


# -- the placeholder ---------------------------------------------------------------------------


def test_a_widget_in_a_field_renders_as_its_placeholder(slider: ipywidgets.IntSlider):
    import livewidget.jupyter  # noqa: F401  # the Jupyter door registers ipywidgets with templates

    first = lw.html("<p>Speed {slider}</p>", slider=slider)
    assert first.to_html() == f"<p>Speed {placeholder(slider)}</p>"
    assert [child.widget for child in children_of(first)] == [slider]
    again = lw.html("<p>Speed {slider}</p>", slider=slider)
    assert protocol.diff(first, again) == {}, "an unchanged widget sends nothing on a re-render"


@pytest.mark.parametrize(
    "make",
    [
        lambda: ipywidgets.IntSlider(),
        lambda: __import__("plotly.graph_objects").graph_objects.FigureWidget(),
        lambda: __import__("altair").JupyterChart(__import__("altair").Chart().mark_point()),
    ],
    ids=["IntSlider", "plotly FigureWidget", "altair JupyterChart"],
)
def test_chart_widgets_and_ipywidgets_render_as_placeholders(make: Any):
    import livewidget.jupyter  # noqa: F401

    widget = make()
    try:
        assert lw.html("{w}", w=widget).to_html() == placeholder(widget)
    finally:
        widget.close()


def test_a_model_id_that_is_not_hex_never_reaches_the_markup():
    with pytest.raises(TemplateError, match=r"model id 'x\" onclick=1'.*32 hex digits"):
        Child(object(), 'x" onclick=1')


def test_a_closed_widget_or_one_without_a_view_is_a_clear_template_error():
    import livewidget.jupyter  # noqa: F401

    closed = ipywidgets.IntSlider()
    closed.close()
    with pytest.raises(TemplateError, match=r"model id None.*Was it closed"):
        lw.html("{w}", w=closed)
    layout = ipywidgets.Layout()
    try:
        with pytest.raises(TemplateError, match="Layout, a widget with no view of its own"):
            lw.html("{w}", w=layout)
    finally:
        layout.close()


def test_a_view_in_a_field_shows_as_its_widget(sent: list[dict[str, Any]]):
    inner = Panel()
    outer = Panel(shown=[inner]).widget
    try:
        assert outer.html == f"<p>0</p><div>{placeholder(inner.widget)}</div>"
        wait_for(lambda: outer._children == [inner.widget])
    finally:
        outer.close()
        inner.widget.close()


# -- the _children trait -----------------------------------------------------------------------


def test_children_lists_the_shown_widgets_and_changes_only_when_they_do(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider
):
    other = ipywidgets.Checkbox()
    widget = Panel(shown=[slider]).widget
    changes: list[list[Any]] = []
    widget.observe(lambda change: changes.append(change["new"]), names="_children")
    try:
        wait_for(lambda: widget._children == [slider])
        for _ in range(5):  # renders (each sent: the pacer sends once a frame) of the same widgets
            widget.send_info("tick")
            wait_for(lambda: widget._walked is widget._runtime.rendered)
        widget.send_info(("show", [slider, other]))
        wait_for(lambda: widget._children == [slider, other])
        widget.send_info(("show", [slider, other]))
        widget.send_info("tick")
        wait_for(lambda: widget._walked is widget._runtime.rendered)
        widget.send_info(("show", []))
        wait_for(lambda: widget._children == [])
        # The first render may have gone out (and set [slider]) before observe() was called.
        assert changes[-2:] == [[slider, other], []]
        assert changes[:-2] in ([], [[slider]])
        assert errors(sent) == []
    finally:
        widget.close()
        other.close()


def test_the_saved_widget_state_references_the_children(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider
):
    widget = Panel(shown=[slider]).widget
    try:
        wait_for(lambda: widget._children == [slider])
        assert widget.get_state()["_children"] == [f"IPY_MODEL_{slider.model_id}"]
    finally:
        widget.close()


def test_a_components_widgets_are_children_too(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider
):
    class Knob(lw.LiveComponent):
        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("<label>{knob}</label>", **ctx)

    class Host(lw.LiveView):
        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("{c}", c=lw.live_component(Knob, id="k", knob=slider))

    widget = Host().widget
    try:
        wait_for(lambda: widget._children == [slider])
    finally:
        widget.close()


def test_a_widget_shown_twice_in_one_render_is_reported_once(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider
):
    widget = Panel(shown=[slider, slider]).widget
    try:
        wait_for(lambda: errors(sent))
        widget.send_info("tick")
        widget.send_info("tick")
        assert widget._children == [slider]
        assert len(errors(sent)) == 1
        assert "shown at two places in one render of Panel" in errors(sent)[0]
        assert "jslink" in errors(sent)[0]
    finally:
        widget.close()


# -- linking -----------------------------------------------------------------------------------


def test_link_ties_a_context_key_and_a_widget_trait_both_ways(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider
):
    widget = Panel().widget
    try:
        link = widget.link("n", slider)
        assert slider.value == 0, "at once the trait takes the key's value"
        slider.value = 42
        wait_for(lambda: "<p>42</p>" in widget.html)
        assert widget.context["n"] == 42
        widget.send_info("tick")  # the view's own change of the key
        wait_for(lambda: slider.value == 43)
        widget.assign(n=5)
        wait_for(lambda: slider.value == 5)
        link.unlink()
        slider.value = 9
        widget.assign(n=6)
        assert widget.context["n"] == 6
        assert slider.value == 9
        assert errors(sent) == []
    finally:
        widget.close()


class Observing(lw.LiveView):
    """A view whose slider's observer assigns, as a served view's may (docs/serve.md)."""

    def mount(self, socket: lw.Socket) -> None:
        self.slider = ipywidgets.IntSlider()
        self.slider.observe(lambda change: socket.assign(level=change["new"]), "value")
        socket.assign(level=0)

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        socket.assign(ticks=socket.context.get("ticks", 0) + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<p>{level}</p>{slider}", level=ctx.level, slider=self.slider)


def test_an_observer_that_assigns_from_the_kernels_thread_renders_in_the_views_turn(
    sent: list[dict[str, Any]],
):
    view = Observing()
    widget = view.widget
    try:
        view.slider.value = 42  # here, as the kernel's shell thread does for the page
        wait_for(lambda: "<p>42</p>" in widget.html)
        assert widget.context["level"] == 42
        for n in range(20):  # interleaved with the view's own handlers: none is lost
            view.slider.value = n
            widget.send_info("tick")
        wait_for(lambda: widget.context.get("ticks") == 20 and widget.context["level"] == 19)
        assert errors(sent) == []
    finally:
        widget.close()
        view.slider.close()


def test_a_key_the_context_lacks_takes_the_widgets_value(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider
):
    widget = Panel().widget
    try:
        widget.link("speed", slider)
        wait_for(lambda: widget.context.get("speed") == 7)
        assert slider.value == 7
    finally:
        widget.close()


def test_a_widget_moved_fast_is_never_pulled_back_to_a_value_it_left(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider
):
    widget = Panel().widget
    seen: list[int] = []
    try:
        widget.link("n", slider)
        slider.observe(lambda change: seen.append(change["new"]), names="value")
        for value in range(1, 101):  # a drag: each value before the view has handled the last
            slider.value = value
        wait_for(lambda: widget.context["n"] == 100)
        widget.assign(n=100)  # everything queued before this has been handled
        assert seen == list(range(1, 101))
        assert slider.value == 100
    finally:
        widget.close()


def test_a_value_the_widget_refuses_is_reported_and_the_view_lives_on(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider
):
    widget = Panel().widget
    try:
        widget.link("n", slider)
        widget.assign(n="many")
        wait_for(lambda: errors(sent))
        assert "Link Panel.context['n'] <-> IntSlider.value" in errors(sent)[0]
        assert "TraitError" in errors(sent)[0]
        widget.assign(n=3)
        wait_for(lambda: slider.value == 3)
    finally:
        widget.close()


def test_link_to_a_trait_that_does_not_exist_names_the_traits_there_are(
    slider: ipywidgets.IntSlider,
):
    widget = Panel().widget
    try:
        with pytest.raises(TypeError, match=r"with a trait 'valu'.*its traits: .*\bvalue\b"):
            widget.link("n", slider, trait="valu")
        with pytest.raises(TypeError, match="a context key"):
            widget.link("", slider)
    finally:
        widget.close()


def test_closing_the_view_unlinks_it(slider: ipywidgets.IntSlider):
    before = len(slider._trait_notifiers.get("value", {}).get("change", []))
    widget = Panel().widget
    widget.link("n", slider)
    widget.close()
    assert len(slider._trait_notifiers["value"]["change"]) == before


def _observers(obj: traitlets.HasTraits, name: str) -> int:
    return len(obj._trait_notifiers.get(name, {}).get("change", []))


@pytest.mark.parametrize("view_first", [False, True], ids=["slider first", "view first"])
def test_traitlets_link_of_the_whole_context_fails_at_once_and_leaves_no_observers(
    sent: list[dict[str, Any]], slider: ipywidgets.IntSlider, view_first: bool
):
    widget = Panel().widget
    try:
        before = (_observers(slider, "value"), _observers(widget, "context"))
        ends = [(slider, "value"), (widget, "context")]
        with pytest.raises(traitlets.TraitError, match=r"view.widget.link\('key', other_widget"):
            traitlets.link(*(reversed(ends) if view_first else ends))
        assert (_observers(slider, "value"), _observers(widget, "context")) == before
        widget.send_info("tick")  # a render: nothing of the failed link runs
        slider.value = 3
        widget.send_info("tick")
        assert widget.context["n"] == 2
        assert errors(sent) == []
    finally:
        widget.close()


def test_assigning_something_other_than_a_dict_to_context_says_what_works():
    widget = Panel().widget
    try:
        with pytest.raises(traitlets.TraitError, match=r"takes a dict.*got int 7.*\.link\("):
            widget.context = 7  # type: ignore[assignment]
    finally:
        widget.close()


def test_a_one_way_dlink_into_the_context_still_works(slider: ipywidgets.IntSlider):
    widget = Panel().widget
    try:
        traitlets.dlink((slider, "value"), (widget, "context"), lambda v: {"n": v})
        slider.value = 11
        wait_for(lambda: widget.context["n"] == 11)
    finally:
        widget.close()


# -- the context at once -----------------------------------------------------------------------


class SlowMount(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        time.sleep(0.3)  # loads its data
        socket.assign(rows=3)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<i>{rows}</i>", **ctx)


def test_the_context_holds_the_mounted_view_when_the_constructor_returns():
    widget = SlowMount().widget
    try:
        assert widget.context == {"rows": 3}
        assert widget._runtime.rendered is not None
        assert widget._runtime.rendered.to_html() == "<i>3</i>"
    finally:
        widget.close()


def test_a_mount_still_running_after_the_wait_does_not_stop_the_constructor(
    monkeypatch: pytest.MonkeyPatch,
):
    from livewidget.jupyter import widget as widget_module

    monkeypatch.setattr(widget_module, "_WAIT_SECONDS", 0.05)
    widget = SlowMount().widget
    try:
        assert widget.context == {}, "returned before the mount ended"
        wait_for(lambda: widget.context == {"rows": 3})
    finally:
        widget.close()


# -- headless: a cell's end, and views inside containers ---------------------------------------

HEADLESS_CELLS = [
    """\
import ipywidgets
import livewidget as lw

class Speed(lw.LiveView):
    def mount(self, socket):
        self.slider = ipywidgets.IntSlider(value=7, description="inside")
        socket.assign(n=0, slider=self.slider)

    def render(self, ctx):
        return lw.html('<b id="n">{n}</b>{slider}', **ctx)

view = Speed()
ipywidgets.HBox([view.widget, ipywidgets.Label("beside")])
""",
    "view.widget.assign(n=42)\nprint(json.dumps([view.widget.model_id, view.widget.html]))",
]


def test_a_view_inside_an_hbox_records_its_last_state_when_run_headless(tmp_path: Path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in HEADLESS_CELLS]
    notebook.cells[1].source = "import json\n" + notebook.cells[1].source
    NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    model_id, printed = json.loads(notebook.cells[1].outputs[0]["text"])
    assert '<b id="n">42</b><span class="lw-child"' in printed
    metadata = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    state = metadata["state"][model_id]["state"]
    assert state["_html"] == printed, "the saved state is what the last cell printed"
    (slider_ref,) = state["_children"]
    slider_state = metadata["state"][slider_ref.removeprefix("IPY_MODEL_")]["state"]
    assert slider_state["value"] == 7
    assert slider_state["description"] == "inside"


def test_at_a_cells_end_a_plotly_chart_in_a_view_saves_its_current_points(
    sent: list[dict[str, Any]],
) -> None:
    go = pytest.importorskip("plotly.graph_objects")
    chart = go.FigureWidget(go.Scatter(x=[0], y=[0]))

    class Charted(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(chart=chart, n=0)

        def handle_info(self, info: Any, socket: lw.Socket) -> None:
            chart.data[0].y = [0, 5, 9]  # as a view's tick updates its chart
            socket.assign(n=1)

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("<p>{n}</p>{chart}", **ctx)

    widget = LiveWidget(Charted())
    try:
        widget.send_info("tick")
        assert list(chart._widget_data[0]["y"]) == [0]  # plotly's saved copy lags behind
        widget._snapshot_now(time.monotonic() + 10)  # what each cell's end does headless
        assert list(chart._widget_data[0]["y"]) == [0, 5, 9]
        assert chart in widget._children
    finally:
        widget.close()
        chart.close()

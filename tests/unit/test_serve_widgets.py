"""Jupyter widgets in a served page (livewidget/serve/widgets.py), through Starlette's TestClient:
what the page is sent for a widget a view shows, and what it may send back."""

from __future__ import annotations

import base64
import json
import math
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import anywidget
import ipywidgets  # type: ignore[import-untyped]  # ipywidgets ships no type hints
import pytest
import traitlets

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

import livewidget as lw
from livewidget.serve import app

ESM = "export default { render({ model, el }) { el.textContent = String(model.get('value')); } };"


class Counter(anywidget.AnyWidget):  # type: ignore[misc]  # anywidget's class is untyped
    _esm = ESM
    _css = ".counter { color: red; }"
    value = traitlets.Int(0).tag(sync=True)
    data = traitlets.Bytes(b"").tag(sync=True)
    ratio = traitlets.Float(0.0).tag(sync=True)
    fixed = traitlets.Unicode("as made", read_only=True).tag(sync=True)


def refuse_13(change: dict[str, Any]) -> None:
    if change["new"] == 13:
        raise ValueError("13 is unlucky")


class Widgets(lw.LiveView):
    """A view with a widget of its own, a widget of every page's, and ipywidgets' controls (a
    slider and a button, which a served page draws itself, and an output area, which it does
    not)."""

    def mount(self, socket: lw.Socket) -> None:
        MOUNTED.append(self)
        self.counter = Counter()
        self.counter.observe(lambda change: socket.assign(clicks=change["new"]), "value")
        self.counter.observe(refuse_13, "value")
        self.slider = ipywidgets.IntSlider(value=3, max=10, description="speed")
        self.slider.observe(lambda change: socket.assign(clicks=change["new"]), "value")
        self.button = ipywidgets.Button(description="go")
        self.button.on_click(lambda _button: socket.assign(clicks=-1))
        self.picker = ipywidgets.Output()
        socket.assign(clicks=0, show=True, slider=False)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event == "set":
            self.counter.value = int(params["to"])
        elif event == "bytes":
            self.counter.data = b"\x00\x01\xfe\xff"
        elif event == "nan":
            self.counter.ratio = math.nan
        elif event == "toggle":
            socket.assign(show=not socket.context.show)
        elif event == "slider":
            socket.assign(slider=True)
        elif event == "shared":
            SHARED.value += 1

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<b id="clicks">{clicks}</b>{counter}<i>{shared}</i>{slider}{button}{picker}',
            clicks=ctx.clicks,
            counter=self.counter if ctx.show else "",
            shared=SHARED,
            slider=self.slider if ctx.slider else "",
            button=self.button if ctx.slider else "",
            picker=self.picker if ctx.slider else "",
        )


SHARED = Counter()  # made at import: every page shows it, none may change it
MOUNTED: list[Widgets] = []


def event(name: str, **value: str) -> dict[str, Any]:
    return {"type": "event", "event": name, "kind": "click", "value": value}


def update(model_id: str, state: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "widget", "id": model_id, "method": "update", "state": state, **more}


def receive(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(ws.receive_text())
        if message["type"] == kind:
            return message


def opens(ws: Any) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The widgets opened before the first render, by name; then that render."""
    opened: dict[str, dict[str, Any]] = {}
    while True:
        message: dict[str, Any] = json.loads(ws.receive_text())
        if message["type"] == "full":
            return opened, message
        assert (message["type"], message["method"]) == ("widget", "open"), message
        opened["shared" if message["id"] == SHARED.model_id else message["name"]] = message


def opened_until(ws: Any, kind: str) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The widgets opened before the next message of ``kind``, by name (the last of a name);
    and every widget message, in order."""
    opened: dict[str, dict[str, Any]] = {}
    order: list[dict[str, Any]] = []
    while True:
        message: dict[str, Any] = json.loads(ws.receive_text())
        if message["type"] == kind:
            return opened, order
        if message["type"] == "widget":
            order.append(message)
            if message["method"] == "open":
                opened[message["name"]] = message


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.01)


@pytest.fixture
def client() -> Iterator[TestClient]:
    MOUNTED.clear()
    with TestClient(app({"/": Widgets})) as test_client:
        yield test_client


def test_a_widget_opens_on_the_page_before_the_render_that_places_it(client: TestClient) -> None:
    with client.websocket_connect("/") as ws:
        opened, full = opens(ws)
        counter = opened["Counter"]
        view = MOUNTED[-1]
        assert counter["id"] == view.counter.model_id
        assert counter["state"]["value"] == 0
        assert counter["state"]["_css"] == Counter._css
        assert "_esm" not in counter["state"]  # the module is a URL, fetched once
        assert counter["esm"].startswith("/_livewidget/esm/")
        assert counter["esm"].endswith(".js")
        placeholder = full["rendered"]["1"]  # the {counter} field
        assert placeholder["0"] == counter["id"]
        assert "data-lw-widget" in placeholder["s"][0]


def test_the_module_is_served_by_its_content_and_nothing_else_is(client: TestClient) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
    url = opened["Counter"]["esm"]
    module = client.get(url)
    assert module.status_code == 200
    assert module.text == ESM
    assert module.headers["content-type"].startswith("text/javascript")
    assert "immutable" in module.headers["cache-control"]
    for path in ["/_livewidget/esm/" + "0" * 64 + ".js", "/_livewidget/esm/page.js", url + "x"]:
        assert client.get(path).status_code == 404, path


def test_a_change_from_the_page_runs_the_widgets_observers_as_the_views_code(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        ws.send_text(json.dumps(update(opened["Counter"]["id"], {"value": 5})))
        assert receive(ws, "diff")["rendered"] == {"0": "5"}  # the observer assigned it
        assert MOUNTED[-1].counter.value == 5


def test_an_observer_that_raises_shows_its_error_in_the_view_which_lives_on(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        ws.send_text(json.dumps(update(opened["Counter"]["id"], {"value": 13})))
        error = receive(ws, "error")["message"]
        assert "ValueError in Counter's update from the page: 13 is unlucky" in error
        ws.send_text(json.dumps(update(opened["Counter"]["id"], {"value": 14})))
        assert receive(ws, "diff")["rendered"] == {"0": "14"}


def test_a_change_from_python_reaches_the_page(client: TestClient) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        ws.send_text(json.dumps(event("set", to="7")))
        message = receive(ws, "widget")
        assert message == {
            "type": "widget",
            "id": opened["Counter"]["id"],
            "method": "update",
            "state": {"value": 7},
            "buffer_paths": [],
            "buffers": [],
        }


def test_binary_values_travel_as_base64_both_ways(client: TestClient) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        model_id = opened["Counter"]["id"]
        ws.send_text(json.dumps(event("bytes")))
        message = receive(ws, "widget")
        assert message["buffer_paths"] == [["data"]]
        assert base64.b64decode(message["buffers"][0]) == b"\x00\x01\xfe\xff"
        sent = base64.b64encode(b"\x07\x08").decode()
        ws.send_text(
            json.dumps(update(model_id, {"data": None}, buffer_paths=[["data"]], buffers=[sent]))
        )
        ws.send_text(json.dumps(update(model_id, {"value": 1})))
        receive(ws, "diff")  # both handled, in order
        assert MOUNTED[-1].counter.data == b"\x07\x08"


def test_a_nan_goes_to_the_page_as_null(client: TestClient) -> None:
    with client.websocket_connect("/") as ws:
        opens(ws)
        ws.send_text(json.dumps(event("nan")))
        assert receive(ws, "widget")["state"] == {"ratio": None}


@pytest.mark.parametrize(
    ("state", "more", "says"),
    [
        ({"_esm": "alert(1)"}, {}, "'_esm' of Counter, which a page may not set"),
        ({"_css": "* {display: none}"}, {}, "'_css' of Counter, which a page may not set"),
        ({"fixed": "changed"}, {}, "'fixed' of Counter, which a page may not set"),
        ({"data": None}, {"buffer_paths": [["data"]], "buffers": ["not base64!"]}, "not base64"),
        ({"data": None}, {"buffer_paths": [["data"], ["x"]], "buffers": ["AA=="]}, "one place"),
        ({"data": None}, {"buffer_paths": [["nowhere", 3]], "buffers": ["AA=="]}, "no place"),
        ({"data": None}, {"buffer_paths": [[]], "buffers": ["AA=="]}, "buffer place"),
    ],
)
def test_what_a_page_may_not_set_is_refused_in_the_view_and_nothing_changes(
    client: TestClient, state: dict[str, Any], more: dict[str, Any], says: str
) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        ws.send_text(json.dumps(update(opened["Counter"]["id"], state, **more)))
        assert says in receive(ws, "error")["message"]
        counter = MOUNTED[-1].counter
        assert (counter._esm, counter._css, counter.fixed, counter.data) == (
            ESM,
            Counter._css,
            "as made",
            b"",
        )
        ws.send_text(json.dumps(event("set", to="3")))  # the view lives on
        assert receive(ws, "widget")["state"] == {"value": 3}


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ({"id": "0" * 32, "method": "update", "state": {}}, "which this view does not show"),
        ({"id": "../etc", "method": "update", "state": {}}, "names the widget"),
        ({"id": None, "method": "update", "state": {}}, "names the widget"),
        ({"method": "delete"}, "expected update or custom"),
        ({"method": "update", "state": []}, "state is not an object"),
        ({"method": "custom", "content": {}, "buffers": [1]}, "base64 strings"),
    ],
)
def test_a_malformed_widget_message_is_refused_with_a_clear_error(
    client: TestClient, message: dict[str, Any], says: str
) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        content = {"type": "widget", "id": opened["Counter"]["id"], **message}
        ws.send_text(json.dumps(content))
        assert says in receive(ws, "error")["message"]


def test_a_custom_message_from_the_page_reaches_the_widgets_handlers(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        got: list[Any] = []
        MOUNTED[-1].counter.on_msg(lambda _w, content, buffers: got.append((content, buffers)))
        ws.send_text(
            json.dumps(
                {
                    "type": "widget",
                    "id": opened["Counter"]["id"],
                    "method": "custom",
                    "content": {"hello": 1},
                    "buffers": ["AQI="],
                }
            )
        )
        ws.send_text(json.dumps(event("set", to="2")))
        receive(ws, "widget")
        assert got == [({"hello": 1}, [b"\x01\x02"])]


def test_a_widget_made_at_import_takes_no_change_from_a_page_even_as_the_only_one(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        before = SHARED.value
        ws.send_text(json.dumps(update(SHARED.model_id, {"value": before + 50})))
        ws.send_text(json.dumps(update(opened["Counter"]["id"], {"value": 6})))
        assert receive(ws, "diff")["rendered"] == {"0": "6"}  # the first was read before it
        assert SHARED.value == before


def test_a_widget_of_every_page_shows_on_each_and_no_page_changes_it(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as one, client.websocket_connect("/") as two:
        first, _ = opens(one)
        second, _ = opens(two)
        assert first["shared"]["id"] == second["shared"]["id"] == SHARED.model_id
        before = SHARED.value
        one.send_text(json.dumps(update(SHARED.model_id, {"value": 99})))
        one.send_text(json.dumps(event("shared")))  # a view's code may change it
        for ws in (one, two):
            message = receive(ws, "widget")
            assert (message["id"], message["state"]) == (SHARED.model_id, {"value": before + 1})
        assert SHARED.value == before + 1
    assert SHARED.comm is not None  # and it outlives the pages


def test_ipywidgets_controls_are_drawn_by_the_page_and_take_only_what_their_page_sets(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as ws:
        opens(ws)
        ws.send_text(json.dumps(event("slider")))
        opened, _ = opened_until(ws, "diff")  # the render that places them comes after
        slider, button, picker = opened["IntSlider"], opened["Button"], opened["Output"]
        assert (slider["name"], slider["builtin"]) == ("IntSlider", "IntSliderModel")
        assert slider["esm"] is None
        assert (slider["state"]["value"], slider["state"]["max"]) == (3, 10)
        assert slider["state"]["description"] == "speed"
        assert button["builtin"] == "ButtonModel"
        # what no served page draws: a note in its place
        assert (picker["name"], picker["esm"], picker["needs"]) == ("Output", None, "manager")
        assert "builtin" not in picker
        assert "state" not in picker

        ws.send_text(json.dumps(update(slider["id"], {"value": 7})))
        assert receive(ws, "diff")["rendered"]["0"] == "7"  # the slider's observer assigned
        ws.send_text(json.dumps(update(slider["id"], {"max": 1000})))
        assert "'max' of IntSlider, which a page may not set" in receive(ws, "error")["message"]
        assert MOUNTED[-1].slider.max == 10
        ws.send_text(json.dumps(update(slider["id"], {"value": 99})))  # ipywidgets clamps it
        assert receive(ws, "diff")["rendered"]["0"] == "10"
        click = {
            "type": "widget",
            "id": button["id"],
            "method": "custom",
            "content": {"event": "click"},
        }
        ws.send_text(json.dumps(click))
        assert receive(ws, "diff")["rendered"]["0"] == "-1"  # its on_click ran


def test_a_widget_a_render_drops_is_closed_on_the_page_and_opened_again(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        model_id = opened["Counter"]["id"]
        ws.send_text(json.dumps(event("toggle")))
        assert receive(ws, "widget") == {"type": "widget", "id": model_id, "method": "close"}
        ws.send_text(json.dumps(update(model_id, {"value": 4})))  # no longer shown: refused
        assert "which this view does not show" in receive(ws, "error")["message"]
        ws.send_text(json.dumps(event("toggle")))
        again, _ = opened_until(ws, "diff")  # (its layout, then the widget)
        assert again["Counter"]["id"] == model_id


def test_a_closed_page_closes_the_widgets_its_view_made_and_those_they_hold(
    client: TestClient,
) -> None:
    instances = ipywidgets.widgets.widget._instances
    before = set(instances)
    with client.websocket_connect("/") as ws:
        opens(ws)
        ws.send_text(json.dumps(event("slider")))
        receive(ws, "widget")
        view = MOUNTED[-1]
        made = [view.counter, view.slider, view.button, view.picker]
        held = [view.slider.layout, view.slider.style, view.button.style, view.picker.layout]
        assert set(instances) - before  # the view's widgets, and their layouts and styles
    wait_for(lambda: all(w.comm is None for w in made + held))
    assert set(instances) - before == set()
    assert SHARED.comm is not None
    assert SHARED.layout.comm is not None  # a widget of every page's, with what it holds


class Boxes(lw.LiveView):
    """ipywidgets' boxes: a VBox of a slider and an HBox (a label and a progress bar), and a
    Tab; ``swap`` puts a new label in the HBox's place of the old one."""

    def mount(self, socket: lw.Socket) -> None:
        MOUNTED.append(self)
        self.slider = ipywidgets.IntSlider(value=2, description="level")
        self.slider.layout.width = "300px"
        self.slider.style.description_width = "initial"
        self.slider.observe(lambda change: socket.assign(level=change["new"]), "value")
        self.label = ipywidgets.Label("old")
        self.row = ipywidgets.HBox([self.label, ipywidgets.IntProgress(value=5)])
        self.panel = ipywidgets.VBox([self.slider, self.row])
        self.tabs = ipywidgets.Tab(
            [ipywidgets.Label("a"), ipywidgets.Label("b")], titles=["A", "B"]
        )
        self.tabs.observe(lambda change: socket.assign(tab=change["new"]), "selected_index")
        socket.assign(level=2, tab=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event in ("swap", "swap and close"):
            gone = self.row.children[0]
            self.row.children = [ipywidgets.Label("new"), self.row.children[1]]
            if event == "swap and close":
                gone.close()  # as docs/serve.md advises a handler that makes new widgets

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            "<b>{level}</b><i>{tab}</i>{panel}{tabs}",
            level=ctx.level,
            tab=ctx.tab,
            panel=self.panel,
            tabs=self.tabs,
        )


@pytest.fixture
def boxes() -> Iterator[TestClient]:
    MOUNTED.clear()
    with TestClient(app({"/": Boxes})) as test_client:
        yield test_client


def test_a_box_opens_after_its_children_layouts_and_styles_and_its_controls_take_changes(
    boxes: TestClient,
) -> None:
    with boxes.websocket_connect("/") as ws:
        opened, order = opened_until(ws, "full")
        view = MOUNTED[-1]
        ids = [m["id"] for m in order]
        assert ids.index(view.slider.model_id) < ids.index(view.panel.model_id)
        assert ids.index(view.row.model_id) < ids.index(view.panel.model_id)
        assert ids.index(view.label.model_id) < ids.index(view.row.model_id)
        assert ids.index(view.slider.layout.model_id) < ids.index(view.slider.model_id)
        assert len(ids) == len(set(ids))  # each once
        panel = opened["VBox"]
        assert panel["builtin"] == "VBoxModel"
        assert panel["state"]["children"] == [
            f"IPY_MODEL_{view.slider.model_id}",
            f"IPY_MODEL_{view.row.model_id}",
        ]
        assert opened["IntProgress"]["builtin"] == "IntProgressModel"
        layout = next(m for m in order if m["id"] == view.slider.layout.model_id)
        assert (layout["builtin"], layout["state"]) == ("LayoutModel", {"width": "300px"})
        assert opened["SliderStyle"]["state"] == {
            "description_width": "initial",
        }
        assert opened["Tab"]["state"]["titles"] == ["A", "B"]

        # a control inside a box takes the page's change; a box takes none but its tab
        ws.send_text(json.dumps(update(view.slider.model_id, {"value": 8})))
        assert receive(ws, "diff")["rendered"]["0"] == "8"
        ws.send_text(json.dumps(update(view.tabs.model_id, {"selected_index": 1})))
        assert receive(ws, "diff")["rendered"]["1"] == "1"
        for model_id, state in [
            (view.tabs.model_id, {"titles": ["x", "y"]}),
            (view.panel.model_id, {"children": []}),
            (view.slider.layout.model_id, {"width": "1px"}),
            (view.slider.style.model_id, {"handle_color": "red"}),
        ]:
            ws.send_text(json.dumps(update(model_id, state)))
            assert "which a page may not set" in receive(ws, "error")["message"]
        assert view.tabs.titles == ("A", "B")
        assert len(view.panel.children) == 2
        assert view.slider.layout.width == "300px"


def test_a_boxs_new_child_opens_before_the_boxs_update_and_the_one_gone_closes_after(
    boxes: TestClient,
) -> None:
    with boxes.websocket_connect("/") as ws:
        opened_until(ws, "full")
        view = MOUNTED[-1]
        old = view.label
        ws.send_text(json.dumps(event("swap")))
        _, order = opened_until(ws, "diff")
        new = view.row.children[0]
        steps = [(m["method"], m["id"]) for m in order]
        assert steps.index(("open", new.model_id)) < steps.index(("update", view.row.model_id))
        assert steps.index(("update", view.row.model_id)) < steps.index(("close", old.model_id))
        ws.send_text(json.dumps(update(old.model_id, {"value": "x"})))
        assert "which this view does not show" in receive(ws, "error")["message"]


def test_a_widget_closed_once_its_box_dropped_it_closes_on_the_page_once_after_the_box(
    boxes: TestClient,
) -> None:
    with boxes.websocket_connect("/") as ws:
        opened_until(ws, "full")
        view = MOUNTED[-1]
        old, old_id = view.label, view.label.model_id
        ws.send_text(json.dumps(event("swap and close")))
        _, order = opened_until(ws, "diff")
        steps = [(m["method"], m["id"]) for m in order]
        new = view.row.children[0]
        assert steps.index(("open", new.model_id)) < steps.index(("update", view.row.model_id))
        assert steps.index(("update", view.row.model_id)) < steps.index(("close", old_id))
        assert steps.count(("close", old_id)) == 1
        assert old.comm is None  # closed in Python too: ipywidgets' registry lets it go
        gone = [new.model_id, new.layout.model_id, new.style.model_id]
        ws.send_text(json.dumps(event("swap and close")))  # and again: each closed once
        _, order = opened_until(ws, "diff")
        assert sorted(m["id"] for m in order if m["method"] == "close") == sorted(gone)


def test_a_boxs_new_children_set_from_another_thread_reach_the_page_in_the_same_order(
    boxes: TestClient,
) -> None:
    with boxes.websocket_connect("/") as ws:
        opened_until(ws, "full")
        view = MOUNTED[-1]
        old = view.label
        view.row.children = [ipywidgets.Label("from a thread"), view.row.children[1]]  # here
        new = view.row.children[0]
        steps: list[tuple[str, str]] = []
        while ("close", old.model_id) not in steps:
            message = json.loads(ws.receive_text())
            if message["type"] == "widget":
                steps.append((message["method"], message["id"]))
        assert steps.index(("open", new.model_id)) < steps.index(("update", view.row.model_id))
        ws.send_text(json.dumps(update(new.model_id, {"value": "x"})))  # a Label: no value
        assert "which a page may not set" in receive(ws, "error")["message"]


def test_a_page_is_sent_at_most_max_tree_widgets_and_a_note_in_the_place_of_the_others(
    boxes: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from livewidget.serve import widgets

    monkeypatch.setattr(widgets, "MAX_TREE", 3)
    with boxes.websocket_connect("/") as ws:
        _, order = opened_until(ws, "full")
        drawn = [m for m in order if "state" in m]
        notes = [m for m in order if "state" not in m]
        assert len(drawn) == 3
        assert notes
        assert all(m["needs"] == "limit" and m["esm"] is None for m in notes)
        view = MOUNTED[-1]
        assert view.panel.model_id in {m["id"] for m in drawn}
        assert view.row.model_id in {m["id"] for m in notes}  # its place says why
        ws.send_text(json.dumps(update(view.label.model_id, {"value": "x"})))
        assert "which this view does not show" in receive(ws, "error")["message"]


def test_a_page_may_not_give_a_widget_another_layout_or_name_widgets_in_its_state(
    client: TestClient,
) -> None:
    with client.websocket_connect("/") as ws:
        opened, _ = opens(ws)
        counter = opened["Counter"]["id"]
        view = MOUNTED[-1]
        layout = view.counter.layout
        for state in [
            {"layout": {"width": "1px"}},
            {"layout": f"IPY_MODEL_{SHARED.layout.model_id}"},
        ]:
            ws.send_text(json.dumps(update(counter, state)))
            assert (
                "'layout' of Counter, which a page may not set" in (receive(ws, "error")["message"])
            )
        assert view.counter.layout is layout


class Filters(lw.LiveView):
    """ipywidgets' range slider, multiple selection and date picker, each observed."""

    def mount(self, socket: lw.Socket) -> None:
        MOUNTED.append(self)
        self.span = ipywidgets.IntRangeSlider(value=(2, 5), min=0, max=10)
        self.regions = ipywidgets.SelectMultiple(options=["North", "South", "East"], value=[])
        self.day = ipywidgets.DatePicker()
        self.color = ipywidgets.ColorPicker(value="blue")
        for widget in (self.span, self.regions, self.day, self.color):
            widget.observe(lambda change: socket.assign(last=repr(change["new"])), "value")
        socket.assign(last="")

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            "<b>{last}</b>{span}{regions}{day}{color}",
            last=ctx.last,
            span=self.span,
            regions=self.regions,
            day=self.day,
            color=self.color,
        )


def test_a_range_a_multiple_selection_and_a_date_from_the_page_reach_python_as_values() -> None:
    MOUNTED.clear()
    with TestClient(app({"/": Filters})) as client, client.websocket_connect("/") as ws:
        opened, _ = opened_until(ws, "full")
        assert opened["IntRangeSlider"]["builtin"] == "IntRangeSliderModel"
        view = MOUNTED[-1]
        ws.send_text(json.dumps(update(view.span.model_id, {"value": [3, 7]})))
        assert receive(ws, "diff")["rendered"]["0"] == "(3, 7)"
        ws.send_text(json.dumps(update(view.regions.model_id, {"index": [0, 2]})))
        assert receive(ws, "diff")["rendered"]["0"] == "(&#39;North&#39;, &#39;East&#39;)"
        date = {"year": 2026, "month": 10, "date": 29}  # ipywidgets' month counts from 0
        ws.send_text(json.dumps(update(view.day.model_id, {"value": date})))
        assert receive(ws, "diff")["rendered"]["0"] == "datetime.date(2026, 11, 29)"
        ws.send_text(json.dumps(update(view.color.model_id, {"value": "#00ff00"})))
        assert receive(ws, "diff")["rendered"]["0"] == "&#39;#00ff00&#39;"
        ws.send_text(json.dumps(update(view.color.model_id, {"value": "url(javascript:x)"})))
        assert "TraitError" in receive(ws, "error")["message"]  # ipywidgets' Color refuses it
        assert view.color.value == "#00ff00"
        ws.send_text(json.dumps(update(view.span.model_id, {"min": -100})))
        assert (
            "'min' of IntRangeSlider, which a page may not set" in (receive(ws, "error")["message"])
        )
        assert view.span.min == 0


class Player(lw.LiveView):
    """ipywidgets' Play, HTML, Image, Valid and FloatLogSlider: drawn by the page."""

    def mount(self, socket: lw.Socket) -> None:
        MOUNTED.append(self)
        self.play = ipywidgets.Play(value=0, max=5, interval=50)
        self.play.observe(lambda change: socket.assign(step=change["new"]), "value")
        self.note = ipywidgets.HTML(value="<b>live</b>", description="<i>d</i>")
        self.image = ipywidgets.Image(value=b"\x89PNG\r\n", format="png")
        self.valid = ipywidgets.Valid(value=True)
        self.scale = ipywidgets.FloatLogSlider(value=100, min=0, max=4)
        self.scale.observe(lambda change: socket.assign(step=change["new"]), "value")
        self.stack = ipywidgets.Stack(
            [ipywidgets.Label("first"), ipywidgets.Label("second")], selected_index=0
        )
        socket.assign(step=0)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            "<b>{step}</b>{play}{note}{image}{valid}{scale}{stack}",
            stack=self.stack,
            step=ctx.step,
            play=self.play,
            note=self.note,
            image=self.image,
            valid=self.valid,
            scale=self.scale,
        )


def test_a_play_html_image_valid_and_log_slider_are_drawn_and_a_page_sets_only_a_plays_steps() -> (
    None
):
    MOUNTED.clear()
    with TestClient(app({"/": Player})) as client, client.websocket_connect("/") as ws:
        opened, _ = opened_until(ws, "full")
        for name in ("Play", "HTML", "Image", "Valid", "FloatLogSlider", "Stack"):
            assert opened[name]["builtin"] == f"{name}Model", name
        image = opened["Image"]
        assert image["buffer_paths"] == [["value"]]
        assert base64.b64decode(image["buffers"][0]) == b"\x89PNG\r\n"
        view = MOUNTED[-1]
        ws.send_text(json.dumps(update(view.play.model_id, {"playing": True, "value": 1})))
        assert receive(ws, "diff")["rendered"]["0"] == "1"  # the play's observer ran
        assert view.play.playing is True
        ws.send_text(json.dumps(update(view.play.model_id, {"value": 99})))
        assert receive(ws, "diff")["rendered"]["0"] == "5"  # ipywidgets clamps it to max
        ws.send_text(json.dumps(update(view.play.model_id, {"repeat": True, "playing": False})))
        ws.send_text(json.dumps(update(view.play.model_id, {"interval": 1})))
        assert "'interval' of Play, which a page may not set" in receive(ws, "error")["message"]
        assert (view.play.repeat, view.play.playing, view.play.interval) == (True, False, 50)
        ws.send_text(json.dumps(update(view.note.model_id, {"value": "<img src=x onerror=1>"})))
        assert "'value' of HTML, which a page may not set" in receive(ws, "error")["message"]
        assert view.note.value == "<b>live</b>"
        ws.send_text(json.dumps(update(view.stack.model_id, {"selected_index": 1})))
        assert "'selected_index' of Stack, which a page may not" in receive(ws, "error")["message"]
        assert view.stack.selected_index == 0
        ws.send_text(json.dumps(update(view.scale.model_id, {"value": 1000.0})))
        assert receive(ws, "diff")["rendered"]["0"] == "1000.0"

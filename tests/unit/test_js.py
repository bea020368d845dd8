"""JS commands from Python: the encoding of Phoenix.LiveView.JS, escaped into attributes."""

import json
from pathlib import Path
from typing import Any

import pytest

import livewidget as lw
from livewidget.testing import live


def test_commands_chain_into_phoenix_encoding():
    js = lw.JS.push("inc", value={"by": 2}).toggle(to="#menu").add_class("a b", to="#x")
    assert json.loads(str(js)) == [
        ["push", {"event": "inc", "value": {"by": 2}}],
        ["toggle", {"to": "#menu"}],
        ["add_class", {"names": ["a", "b"], "to": "#x"}],
    ]


def test_each_chain_is_a_new_value():
    base = lw.JS.hide(to="#a")
    assert base.show(to="#b") != base.show(to="#c")
    assert json.loads(str(base)) == [["hide", {"to": "#a"}]]


def test_in_a_template_the_json_is_escaped_into_the_attribute():
    rendered = lw.html('<b phx-click="{js}">', js=lw.JS.push("go"))
    assert str(rendered) == '<b phx-click="[[&#34;push&#34;,{&#34;event&#34;:&#34;go&#34;}]]">'


def test_the_test_client_runs_the_pushes_of_js_commands():
    class Menu(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(opened=0)

        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            socket.assign(opened=socket.context.opened + int(params["by"]))

        def render(self, ctx: lw.Context) -> lw.Rendered:
            js = lw.JS.push("open", value={"by": 3}).toggle(to="#menu")
            return lw.html('<button id="b" phx-click="{js}">{opened}</button>', js=js, **ctx)

    lv = live(Menu)
    lv.click("#b")
    assert lv.has_element("#b", text="3")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("onerror", "fetch('/api/contents')"),
        ("OnClick", "alert(1)"),
        ("srcdoc", "<script>alert(1)</script>"),
        ("href", "javascript:alert(1)"),
        ("href", " JaVa\tScript:alert(1)"),
        ("src", "data:text/html,<script>alert(1)</script>"),
        ("formaction", "vbscript:x"),
        ("xlink:href", "javascript:x"),
        ("data-src", "javascript:x"),
        ("to", "javascript:x"),
        ("srcset", "/a.png 1x, javascript:x 2x"),
    ],
)
def test_set_attribute_refuses_what_could_run_script(name: str, value: str):
    with pytest.raises(ValueError, match=r"JS\.set_attribute\(.*never set"):
        lw.JS.set_attribute(name, value, to="#sink")


def test_set_attribute_sets_safe_urls_and_ordinary_attributes():
    js = (
        lw.JS.set_attribute("href", "https://example.org/?a=1")
        .set_attribute("src", "data:image/png;base64,iVBORw0KGgo=")
        .set_attribute("aria-expanded", "true")
        .set_attribute("title", "javascript: not a URL here")
    )
    assert [args["attr"][0] for _, args in js.commands] == ["href", "src", "aria-expanded", "title"]


SET_ATTR = json.loads(
    (Path(__file__).parents[1] / "vectors" / "attributes" / "set_attr.json").read_text()
)["cases"]


@pytest.mark.parametrize("case", SET_ATTR, ids=lambda c: f"{c['name']}={c['value']!r}"[:50])
def test_set_attribute_refuses_what_the_front_end_refuses(case: dict[str, Any]):
    """The shared vectors: the front end's js_commands.test.ts reads the same file."""
    if case["refused"]:
        with pytest.raises(ValueError, match="never set"):
            lw.JS.set_attribute(case["name"], case["value"])
    else:
        lw.JS.set_attribute(case["name"], case["value"])

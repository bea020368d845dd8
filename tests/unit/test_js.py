"""JS commands from Python: the encoding of Phoenix.LiveView.JS, escaped into attributes."""

import json
from typing import Any

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

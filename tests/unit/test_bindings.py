"""Every binding through the test client: what the browser would send reaches the handler."""

from typing import Any

import pytest

import livewidget as lw
from livewidget.testing import live


class Everything(lw.LiveView):
    hooks = "export default { Map: { mounted() { this.pushEvent('ready', {zoom: 3}); } } };"

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(seen=())

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(seen=(*socket.context.seen, (event, params)))

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            """
            <button id="save" phx-click="save" phx-value-id="7" value="v">Save</button>
            <form id="profile" phx-change="validate" phx-submit="store">
              <input name="user[name]" value="Ada">
              <input name="user[tags][]" value="a"><input name="user[tags][]" value="b">
              <select name="user[role]"><option value="x">X</option>
                <option value="admin" selected>Admin</option></select>
              <input type="checkbox" name="user[news]" value="yes">
              <textarea name="user[bio]">Hi</textarea>
            </form>
            <input id="search" phx-keydown="search" phx-keyup="released" phx-key="Enter" value="q">
            <input id="email" phx-blur="left" phx-focus="entered" value="a@b.c">
            <div phx-window-keydown="shortcut" phx-key="k" phx-value-scope="page"></div>
            <div id="map" phx-hook="Map"></div>
            """,
            **ctx,
        )


@pytest.fixture
def lv() -> Any:
    client = live(Everything)
    yield client
    client.close()


def last(lv: Any) -> tuple[str, dict[str, Any]]:
    return lv.context.seen[-1]  # type: ignore[no-any-return]


def test_phx_click_sends_phx_values_and_the_elements_value(lv: Any):
    lv.click("#save")
    assert last(lv) == ("save", {"id": "7", "value": "v"})


def test_phx_change_sends_the_whole_form_nested_with_target(lv: Any):
    lv.change("#profile", {"user": {"name": "Grace"}})
    assert last(lv) == (
        "validate",
        {
            "user": {"name": "Grace", "tags": ["a", "b"], "role": "admin", "bio": "Hi"},
            "_target": ["user", "name"],
        },
    )


def test_phx_submit_sends_the_form_without_target(lv: Any):
    lv.submit("#profile", {"user": {"news": "yes"}})
    event, params = last(lv)
    assert event == "store"
    assert "_target" not in params
    assert params["user"]["news"] == "yes"


def test_keydown_and_keyup_honour_phx_key(lv: Any):
    lv.keydown("#search", "a")
    assert lv.context.seen == ()
    lv.keydown("#search", "Enter")
    assert last(lv) == ("search", {"key": "Enter", "value": "q"})
    lv.keyup("#search", "Enter")
    assert last(lv) == ("released", {"key": "Enter", "value": "q"})


def test_blur_and_focus_send_the_value(lv: Any):
    lv.focus("#email")
    assert last(lv) == ("entered", {"value": "a@b.c"})
    lv.blur("#email")
    assert last(lv) == ("left", {"value": "a@b.c"})


def test_window_keys_reach_every_window_binding_that_matches(lv: Any):
    lv.window_keydown("x")
    assert lv.context.seen == ()
    lv.window_keydown("k")
    assert last(lv) == ("shortcut", {"key": "k", "scope": "page"})


def test_a_hooks_push_event_reaches_the_view(lv: Any):
    lv.push_hook_event("#map", "ready", {"zoom": 3})
    assert last(lv) == ("ready", {"zoom": 3})


def test_a_binding_that_is_not_there_is_a_clear_error(lv: Any):
    with pytest.raises(LookupError, match="has no phx-hook"):
        lv.push_hook_event("#save", "x", {})
    with pytest.raises(LookupError, match="not in a form with phx-change"):
        lv.change("#save", {})

"""phx-debounce and phx-throttle in the test client: on the virtual clock, as the page runs them
(js/src/rate_limit.ts)."""

import gc
from typing import Any

import pytest

import livewidget as lw
from livewidget.testing import live


class Rated(lw.LiveView):
    """Records every event it gets; its template is the test's."""

    def __init__(self, template: str = "", **params: Any) -> None:
        super().__init__(**params)
        self.template = template

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(events=(), page="1", show=True)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event == "next":
            socket.assign(page="2")
        elif event == "hide":
            socket.assign(show=False)
        socket.assign(events=(*socket.context.events, (event, params)))

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(self.template, **ctx)


def rated(template: str) -> Any:
    return live(Rated(template))


def names(lv: Any) -> list[str]:
    return [event for event, _ in lv.context.events]


SEARCH = (
    '<form id="f" phx-change="search">'
    '<input name="q" value="" phx-debounce="{debounce}"><input name="page" value="{page}">'
    '</form><button id="next" phx-click="next">next</button>'
)


def search(debounce: str) -> Any:
    return rated(SEARCH.replace("{debounce}", debounce))


def test_two_changes_within_the_debounce_send_one_event_with_the_last_value():
    lv = search("500")
    lv.change("#f", {"q": "a"})
    lv.change("#f", {"q": "ab"})
    lv.advance(499)
    assert names(lv) == []
    lv.advance(1)
    assert [params["q"] for _, params in lv.context.events] == ["ab"]
    lv.advance(5000)
    assert len(lv.context.events) == 1


def test_each_change_restarts_the_debounce():
    lv = search("500")
    lv.change("#f", {"q": "a"})
    lv.advance(400)
    lv.change("#f", {"q": "ab"})
    lv.advance(400)
    assert names(lv) == []
    lv.advance(100)
    assert names(lv) == ["search"]


def test_a_debounced_change_sends_the_form_as_the_page_holds_it_when_it_goes():
    lv = search("500")
    lv.change("#f", {"q": "a"})
    lv.click("#next")  # the page's form now says page=2
    lv.advance(500)
    event, params = lv.context.events[-1]
    assert (event, params["q"], params["page"], params["_target"]) == ("search", "a", "2", ["q"])


def test_an_empty_debounce_waits_300_ms():
    lv = search("")
    lv.change("#f", {"q": "a"})
    lv.advance(299)
    assert names(lv) == []
    lv.advance(1)
    assert names(lv) == ["search"]


def test_debounce_blur_sends_when_the_field_loses_focus_and_not_before():
    lv = search("blur")
    lv.change("#f", {"q": "a"})
    lv.change("#f", {"q": "ab"})
    lv.advance(60_000)
    assert names(lv) == []
    lv.blur("input[name=q]")
    assert [params["q"] for _, params in lv.context.events] == ["ab"]


def test_losing_focus_sends_a_pending_debounced_event_at_once():
    lv = search("500")
    lv.change("#f", {"q": "a"})
    lv.blur("input[name=q]")
    assert names(lv) == ["search"]
    lv.advance(500)
    assert names(lv) == ["search"]  # sent once, not again when its timer would have fired


def test_submitting_a_form_drops_its_pending_debounced_change():
    lv = rated(
        '<form id="f" phx-change="search" phx-submit="save">'
        '<input name="q" value="" phx-debounce="500"></form>'
    )
    lv.change("#f", {"q": "a"})
    lv.submit("#f", {"q": "a"})
    lv.advance(1000)
    assert names(lv) == ["save"]


class Disappearing(Rated):
    def render(self, ctx: lw.Context) -> lw.Rendered:
        button = lw.html('<button id="b" phx-click="go" phx-debounce="500">go</button>')
        return lw.html(
            '<div>{button}</div><button id="hide" phx-click="hide">hide</button>',
            button=button if ctx.show else None,
        )


def test_a_debounced_event_of_an_element_a_patch_removed_is_dropped():
    lv = live(Disappearing)
    lv.click("#b")
    lv.click("#hide")
    assert not lv.has_element("#b")
    lv.advance(500)
    assert names(lv) == ["hide"]


def test_two_clicks_within_a_click_debounce_send_one_event():
    lv = rated('<button id="b" phx-click="go" phx-debounce="200">go</button>')
    lv.click("#b")
    lv.click("#b")
    lv.advance(200)
    assert names(lv) == ["go"]


def test_throttle_sends_the_first_at_once_then_at_most_one_per_interval_and_no_trailing_one():
    lv = rated('<button id="b" phx-click="go" phx-throttle="1000">go</button>')
    lv.click("#b")
    assert names(lv) == ["go"]
    lv.advance(500)
    lv.click("#b")
    lv.click("#b")
    assert names(lv) == ["go"]
    lv.advance(2000)
    assert names(lv) == ["go"]  # no trailing event for the dropped clicks
    lv.click("#b")
    assert names(lv) == ["go", "go"]


def test_a_throttled_keydown_of_another_key_always_goes_through():
    lv = rated('<input id="k" phx-keydown="key" phx-throttle="1000">')
    for key in ["a", "a", "b", "b", "a"]:
        lv.keydown("#k", key)
    assert [params["key"] for _, params in lv.context.events] == ["a", "b", "a"]


def test_losing_focus_ends_a_throttle_window():
    lv = rated('<input id="k" phx-keydown="key" phx-throttle="1000" phx-blur="left">')
    lv.keydown("#k", "a")
    lv.keydown("#k", "a")
    lv.blur("#k")
    lv.keydown("#k", "a")
    assert names(lv) == ["key", "left", "key"]


def test_debounce_wins_over_throttle_on_the_same_element():
    lv = rated('<button id="b" phx-click="go" phx-debounce="300" phx-throttle="1000">go</button>')
    lv.click("#b")
    assert names(lv) == []
    lv.advance(300)
    assert names(lv) == ["go"]


def test_a_window_key_binding_is_rate_limited_by_its_own_element():
    lv = rated('<div id="w" phx-window-keydown="key" phx-debounce="100"></div>')
    lv.window_keydown("a")
    lv.window_keydown("b")
    lv.advance(100)
    assert [params["key"] for _, params in lv.context.events] == ["b"]


@pytest.mark.parametrize("value", ["soon", "-5", "NaN", "1_000"])
def test_a_rate_that_is_not_milliseconds_is_an_error_that_shows_what_to_write(value: str):
    lv = rated(f'<button id="b" phx-click="go" phx-debounce="{value}">go</button>')
    with pytest.raises(ValueError, match=r'phx-debounce takes milliseconds or "blur", got'):
        lv.click("#b")


def test_closing_the_client_drops_pending_debounced_events():
    lv = search("500")
    lv.change("#f", {"q": "a"})
    assert lv.clock.pending == 2  # the view's "settled" after its render, and the debounce
    lv.close()
    assert lv.clock.pending == 0


def test_a_client_nobody_closed_with_a_pending_debounce_is_collected_and_closes_its_view():
    lv = search("500")
    lv.change("#f", {"q": "a"})
    runtime = lv._runtime
    del lv
    gc.collect()
    assert runtime.closed

"""The test client: the same runtime, diff and merge as a widget, on a virtual clock."""

import asyncio
import gc
from typing import Any

import pytest
from bs4 import BeautifulSoup

import livewidget as lw
from livewidget.testing import live
from tests.unit.views import Counter, Ticker


def test_mount_renders_the_initial_context():
    lv = live(Counter, start=5)
    assert lv.element("#count").get_text() == "5"
    assert len(lv.payloads) == 1
    assert "s" in lv.payloads[0]


def test_click_sends_phx_values_to_handle_event():
    lv = live(Counter)
    lv.click("#inc")
    assert lv.has_element("#count", text="2")
    assert lv.payloads[-1] == {"0": "2"}


def test_submit_decodes_the_form_and_escapes_what_comes_back():
    lv = live(Counter)
    lv.submit("#rename", {"name": "<Ada>"})
    assert lv.context.name == "<Ada>"
    assert 'value="&lt;Ada&gt;"' in lv.html


def test_advance_fires_due_timers_only():
    lv = live(Ticker)
    lv.advance(999)
    assert lv.has_element("#ticks", text="0")
    lv.advance(1)
    assert lv.has_element("#ticks", text="1")
    lv.advance(3000)
    assert lv.has_element("#ticks", text="4")


def test_a_tick_sends_only_the_changed_value():
    lv = live(Ticker)
    lv.advance(1000)
    assert lv.payloads[-1] == {"0": "1"}


def test_a_failing_handler_raises_in_the_test_by_default():
    lv = live(Counter)
    with pytest.raises(RuntimeError, match="boom"):
        lv.click("#explode")


def test_a_failing_handler_leaves_the_view_working_with_its_last_good_state():
    lv = live(Counter, raise_errors=False)
    lv.click("#inc")
    lv.click("#explode")
    assert [str(e) for e in lv.errors] == ["boom"]
    assert lv.context.count == 2
    lv.click("#inc")
    assert lv.has_element("#count", text="4")
    error = next(m for m in lv.messages if m["type"] == "error")
    assert "RuntimeError in handle_event('explode'): boom" in error["message"]
    assert "Traceback" in error["traceback"]


def test_an_exception_in_handle_info_leaves_the_timer_ticking():
    lv = live(Ticker, raise_errors=False)
    lv.send_info("fail")
    lv.advance(2000)
    assert len(lv.errors) == 1
    assert lv.has_element("#ticks", text="2")


def test_clicking_an_element_without_phx_click_is_an_error():
    lv = live(Counter)
    with pytest.raises(LookupError, match="has no phx-click"):
        lv.click("#count")


def test_a_selector_must_match_exactly_one_element():
    lv = live(Counter)
    with pytest.raises(LookupError, match="found 2"):
        lv.click("button")


def test_closing_cancels_the_timers():
    lv = live(Ticker)
    assert lv.clock.pending == 2  # its repeat, and the "settled" after its first render
    lv.close()
    assert lv.clock.pending == 0


class Profile(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(target=None, user=None)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(target=params.get("_target"), user=params.get("user"))

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<form id="f" phx-change="validate">'
            '<input name="user[name]" value=""><input name="user[email]" value=""></form>'
            '<ul><li class="tag">a</li><li class="tag">b</li></ul>',
            **ctx,
        )


def test_change_takes_an_explicit_target_as_render_change_does():
    lv = live(Profile)
    lv.change("#f", {"user": {"name": "Ada", "email": "a@b"}, "_target": ["user", "email"]})
    assert lv.context.target == ["user", "email"]
    assert lv.context.user == {"name": "Ada", "email": "a@b"}
    lv.change("#f", {"user": {"name": "Bo"}, "_target": "user[name]"})
    assert lv.context.target == ["user", "name"]


def test_change_without_a_target_names_the_first_changed_field():
    lv = live(Profile)
    lv.change("#f", {"user": {"email": "x"}})
    assert lv.context.target == ["user", "email"]


def test_a_target_that_is_neither_a_name_nor_a_path_is_an_error_that_shows_both_forms():
    lv = live(Profile)
    with pytest.raises(TypeError, match=r'a field name \("user\[name\]"\) or a path'):
        lv.change("#f", {"_target": 3})


def test_elements_returns_every_match_and_none_is_no_error():
    lv = live(Profile)
    assert [el.get_text() for el in lv.elements("li.tag")] == ["a", "b"]
    assert lv.elements("li.missing") == []


class Sleeper(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(state="idle")

    async def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event == "later":
            loop = asyncio.get_running_loop()
            loop.call_later(0.25, socket.send_info, "done")
            return
        await asyncio.sleep(0.5)
        socket.assign(state="slept")

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        socket.assign(state=info)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<p id="state">{state}</p><button id="go" phx-click="go">go</button>'
            '<button id="later" phx-click="later">later</button>',
            **ctx,
        )


def test_asyncio_sleep_in_a_handler_waits_for_the_virtual_clock():
    lv = live(Sleeper)
    lv.click("#go")
    assert lv.has_element("#state", text="idle")
    assert lv.clock.now() == 0.0
    lv.advance(499)
    assert lv.has_element("#state", text="idle")
    lv.advance(1)
    assert lv.has_element("#state", text="slept")


def test_loop_call_later_in_a_handler_fires_on_advance():
    lv = live(Sleeper)
    lv.click("#later")
    lv.advance(249)
    assert lv.has_element("#state", text="idle")
    lv.advance(1)
    assert lv.has_element("#state", text="done")


def test_render_async_waits_for_a_job_that_sleeps_on_the_virtual_clock():
    class Report(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(status="idle")

        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            async def build() -> str:
                await asyncio.sleep(2)  # virtual: render_async advances to it
                return "ready"

            socket.assign(status="loading")
            socket.start_async("report", build)

        def handle_info(self, info: dict[str, Any], socket: lw.Socket) -> None:
            socket.assign(status=info["result"])

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html(
                '<p id="status">{status}</p><button id="build" phx-click="build">Build</button>',
                **ctx,
            )

    lv = live(Report)
    assert lv.has_element("#status", text="loading") is False
    lv.click("#build")
    assert lv.has_element("#status", text="loading")
    html = lv.render_async()
    assert '<p id="status">ready</p>' in html
    assert lv.clock.now() >= 2
    lv.close()


# -- each handled message's render, as the page shows it --------------------------------------


class Loader(lw.LiveView):
    """Shows "Loading..." at once, and the result when the info it sent itself is handled."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(status="idle", results=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(status="Loading...")
        for _ in range(int(params.get("parts", 1))):
            socket.send_info("loaded")

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        socket.assign(status="42", results=socket.context.results + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<p id="status">{status}</p><i id="results">{results}</i>'
            '<button id="load" phx-click="load">Load</button>'
            '<button id="parts" phx-click="load" phx-value-parts="3">Load in 3</button>',
            **ctx,
        )


def test_a_click_returns_the_loading_state_its_own_render_showed():
    lv = live(Loader)
    html = lv.click("#load")
    assert '<p id="status">Loading...</p>' in html
    assert lv.has_element("#status", text="42")


def test_renders_lists_every_page_the_view_showed_in_order():
    lv = live(Loader)
    lv.click("#load")
    statuses = [
        BeautifulSoup(html, "html.parser").select_one("#status").get_text() for html in lv.renders
    ]
    assert statuses == ["idle", "Loading...", "42"]
    assert len(lv.renders) == len(lv.payloads)
    assert lv.renders[-1] == lv.html


def test_the_infos_a_handler_sends_itself_share_one_render_after_its_own():
    lv = live(Loader)
    lv.click("#parts")
    assert lv.has_element("#results", text="3")
    assert len(lv.renders) == 3  # the mount's, the click's, and one for the three infos
    assert '<i id="results">0</i>' in lv.renders[1]


def test_an_async_handler_that_sends_itself_the_result_shows_its_loading_state_too():
    class AsyncLoader(Loader):
        async def handle_event(  # type: ignore[override]
            self, event: str, params: dict[str, Any], socket: lw.Socket
        ) -> None:
            socket.assign(status="Loading...")
            socket.send_info("loaded")

        async def handle_info(self, info: Any, socket: lw.Socket) -> None:  # type: ignore[override]
            await asyncio.sleep(0)
            socket.assign(status="42")

    lv = live(AsyncLoader)
    assert "Loading..." in lv.click("#load")
    assert lv.has_element("#status", text="42")


def test_a_mount_that_sends_itself_an_info_shows_its_own_render_first():
    class LoadOnMount(Loader):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(status="Loading...", results=0)
            if socket.connected:
                socket.send_info("loaded")

    lv = live(LoadOnMount)
    assert '<p id="status">Loading...</p>' in lv.renders[0]
    assert lv.has_element("#status", text="42")


def test_send_info_returns_the_render_of_that_info_before_the_one_it_sends_on():
    class Chain(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(step=0)

        def handle_info(self, info: int, socket: lw.Socket) -> None:
            socket.assign(step=info)
            if info < 3:
                socket.send_info(info + 1)

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html('<p id="step">{step}</p>', **ctx)

    lv = live(Chain)
    assert '<p id="step">1</p>' in lv.send_info(1)
    assert lv.has_element("#step", text="3")


def test_an_event_that_changes_nothing_is_answered_and_returns_the_page_as_it_was():
    lv = live(Counter)
    before = lv.html
    assert lv.submit("#rename", {"name": ""}) == before
    assert lv.payloads[-1] == {}  # the answer the page waits for, even empty


def test_an_action_held_back_by_a_debounce_returns_the_page_unchanged():
    class Search(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(q="")

        def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            socket.assign(q=params["q"])

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html(
                '<form id="f" phx-change="search"><input name="q" phx-debounce="300"></form>'
                '<p id="q">{q}</p>',
                **ctx,
            )

    lv = live(Search)
    before = len(lv.payloads)
    assert lv.change("#f", {"q": "ada"}) == lv.html
    assert len(lv.payloads) == before
    assert '<p id="q">ada</p>' in lv.advance(300)


# -- asyncio on the virtual clock -------------------------------------------------------------


def test_asyncio_timeout_in_a_handler_expires_on_the_virtual_clock():
    class Impatient(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(outcome="waiting")

        async def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
            try:
                async with asyncio.timeout(1):
                    await asyncio.sleep(5)
            except TimeoutError:
                socket.assign(outcome="timed out")

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html(
                '<p id="o">{outcome}</p><button id="go" phx-click="go">go</button>', **ctx
            )

    lv = live(Impatient)
    lv.click("#go")
    lv.advance(999)
    assert lv.has_element("#o", text="waiting")
    lv.advance(1)
    assert lv.has_element("#o", text="timed out")
    assert lv.clock.now() == 1.0


def test_a_client_nobody_closed_is_collected_and_closes_its_view():
    lv = live(Counter)
    runtime = lv._runtime
    del lv
    gc.collect()  # before: the loop held the client (its real_wait), which was never closed
    assert runtime.closed


class Order(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(params=None)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(params=params)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<form id="o" phx-submit="order"><input name="item" value="tea">'
            '<button name="action" value="save">Save</button>'
            '<input type="submit" name="action" value="send">'
            '<button type="button" id="plain" name="x" value="y">?</button></form>'
            '<button id="outside" name="action" value="no">no</button>',
            **ctx,
        )


def test_submit_sends_the_submitter_buttons_name_and_value_as_the_browser_does():
    lv = live(Order)
    lv.submit("#o")
    assert lv.context.params == {"item": "tea"}  # no button without a submitter
    lv.submit("#o", submitter="button[value=save]")
    assert lv.context.params == {"item": "tea", "action": "save"}
    lv.submit("#o", submitter="input[type=submit]")
    assert lv.context.params == {"item": "tea", "action": "send"}


@pytest.mark.parametrize("selector", ["#plain", "#outside"])
def test_a_submitter_must_be_a_submit_button_of_the_form(selector: str):
    lv = live(Order)
    with pytest.raises(LookupError, match="is not a submit button of the form"):
        lv.submit("#o", submitter=selector)

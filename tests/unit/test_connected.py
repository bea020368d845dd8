"""``socket.connected``: True for a live view (a widget, the test client), False for a static
render, which starts nothing and is never updated. Views branch on it to start their timers
and to show a placeholder until they are live, so a wrong answer shows the wrong page."""

from typing import Any

import livewidget as lw
from livewidget.testing import live
from livewidget.view import static_render


class Clock(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(mode="live" if socket.connected else "static", ticks=0)
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 1000)

    def handle_info(self, info: Any, socket: lw.Socket) -> None:
        socket.assign(ticks=socket.context.ticks + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html('<p id="mode">{mode}</p><p id="ticks">{ticks}</p>', **ctx)


def test_a_static_render_reports_itself_disconnected():
    html = static_render(Clock()).to_html()
    assert '<p id="mode">static</p>' in html


def test_a_live_view_reports_itself_connected():
    lv = live(Clock)
    assert lv.has_element("#mode", text="live")
    lv.advance(2000)
    assert lv.has_element("#ticks", text="2")


def test_a_component_rendered_statically_is_disconnected_too():
    seen: list[bool] = []

    class Badge(lw.LiveComponent):
        def mount(self, socket: lw.Socket) -> None:
            seen.append(socket.connected)

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("<i>badge</i>")

    class Page(lw.LiveView):
        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html("<div>{badge}</div>", badge=lw.live_component(Badge, id="b"))

    assert "<i>badge</i>" in static_render(Page()).to_html()
    assert seen == [False]

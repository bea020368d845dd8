"""Notebook cell sources shared by the suites that execute notebooks."""

TICKS = """\
import time
import livewidget as lw

class Ticks(lw.LiveView):
    def mount(self, socket):
        if socket.connected:
            socket.repeat(lambda: socket.send_info("tick"), 100)
        socket.assign(n=0)

    def handle_info(self, info, socket):
        socket.assign(n=socket.context.n + 1)

    def render(self, ctx):
        return lw.html('<b id="n">{n}</b>', **ctx)
"""
"""A view whose number ``#n`` goes up ten times a second; display it with a line of your own."""

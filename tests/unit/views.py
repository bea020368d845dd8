"""Small views shared by the unit tests."""

from __future__ import annotations

import asyncio
from typing import Any

import livewidget as lw


class Counter(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(count=self.params.get("start", 0), name="")

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event == "inc":
            socket.assign(count=socket.context.count + int(params.get("by", 1)))
        elif event == "rename":
            socket.assign(name=params["name"])
        elif event == "explode":
            socket.assign(count=-1)  # rolled back: the handler raises after assigning
            raise RuntimeError("boom")
        else:
            raise ValueError(f"unknown event {event!r}")

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            """<b id="count">{count}</b>
            <button id="inc" phx-click="inc" phx-value-by="2">+2</button>
            <button id="explode" phx-click="explode">!</button>
            <form id="rename" phx-submit="rename"><input name="name" value="{name}"></form>""",
            **ctx,
        )


class Ticker(lw.LiveView):
    """The seed's shape: a timer started in mount when connected, data assigned in handle_info."""

    def mount(self, socket: lw.Socket) -> None:
        if socket.connected:
            socket.repeat(lambda: socket.send_info({"type": "tick"}), 1000)
        socket.assign(ticks=0)

    async def handle_info(self, info: Any, socket: lw.Socket) -> None:
        await asyncio.sleep(0)
        if info == {"type": "tick"}:
            socket.assign(ticks=socket.context.ticks + 1)
        elif info == "fail":
            raise RuntimeError("info failed")

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html('<h1>Ticker</h1><span id="ticks">{ticks}</span>', **ctx)

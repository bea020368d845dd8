"""A view's life among cells: a cell that runs again closes the views it made; headless, each
cell's end snapshots every view. IPython's own event manager delivers the cell events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.events import EventManager, available_events
from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

import livewidget as lw
from livewidget.jupyter.cells import CellViews, Snapshot
from tests.unit.views import Counter


class Shell:
    """What CellViews uses of IPython's shell: its events (IPython's real EventManager)."""

    def __init__(self) -> None:
        self.events = EventManager(self, available_events, print_on_error=False)

    def showtraceback(self) -> None:  # a callback raised: the test sees it
        raise  # re-raises the exception EventManager.trigger is handling

    def run_cell(self, cell_id: str | None) -> None:
        info = ExecutionInfo("pass", False, False, True, cell_id)
        self.events.trigger("pre_run_cell", info)
        self.events.trigger("post_run_cell", ExecutionResult(info))


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _snapshot(
    loop: asyncio.AbstractEventLoop,
    headless: bool,
    shown: list[str],
    rendered: lw.Rendered | None = None,
) -> Snapshot:
    return Snapshot(
        loop,
        headless=headless,
        rendered=lambda: rendered,
        wait=lambda timeout: True,
        children=lambda rendered: [],
        show=shown.append,
    )


def test_running_a_cell_again_closes_the_views_it_made_and_no_others(
    loop: asyncio.AbstractEventLoop,
):
    shell = Shell()
    cells = CellViews(lambda: shell)
    mine, other = Counter().widget, Counter().widget
    try:
        cells.register(mine, "cell-a", _snapshot(loop, False, []))
        cells.register(other, "cell-b", _snapshot(loop, False, []))
        shell.run_cell("cell-c")
        assert not mine.closed
        assert not other.closed
        shell.run_cell("cell-a")
        assert mine.closed, "the cell ran again but its view lives on"
        assert not other.closed
    finally:
        mine.close()
        other.close()


def test_a_view_made_where_cells_have_no_id_lives_until_closed(loop: asyncio.AbstractEventLoop):
    shell = Shell()
    cells = CellViews(lambda: shell)
    widget = Counter().widget
    try:
        cells.register(widget, None, _snapshot(loop, False, []))
        shell.run_cell(None)
        shell.run_cell(None)
        assert not widget.closed
    finally:
        widget.close()


def test_each_cells_end_snapshots_the_headless_views_and_only_them(
    loop: asyncio.AbstractEventLoop,
):
    shell = Shell()
    cells = CellViews(lambda: shell)
    headless_shown: list[str] = []
    live_shown: list[str] = []
    joined_shown: list[str] = []
    rendered = lw.html("<b>{n}</b>", n=7)
    widget = Counter().widget
    try:
        # The widget holds its snapshot; CellViews holds it weakly.
        snapshots = [
            _snapshot(loop, headless, shown, rendered)
            for headless, shown in (
                (True, headless_shown),
                (False, live_shown),
                (True, joined_shown),
            )
        ]
        snapshots[2].joined = True  # a page attached: it keeps the HTML current itself
        for snapshot in snapshots:
            cells.register(widget, None, snapshot)
        shell.run_cell(None)
        assert headless_shown == ["<b>7</b>"]
        assert live_shown == []
        assert joined_shown == []
    finally:
        widget.close()


def test_a_snapshot_is_taken_at_most_once_per_interval_after_renders(
    monkeypatch: Any, loop: asyncio.AbstractEventLoop
):
    from livewidget.jupyter import cells as cells_module

    monkeypatch.setattr(cells_module, "SNAPSHOT_SECONDS", 0.0)
    shown: list[str] = []
    snapshot = _snapshot(loop, True, shown, lw.html("<i>{n}</i>", n=1))
    for _ in range(5):  # five renders sent in one go
        snapshot.rendered_sent()
    loop.run_until_complete(asyncio.sleep(0.01))
    assert shown == ["<i>1</i>"]

"""What ``record()`` keeps for an export to replay: a full render first, then each diff with
its time, until the time is up or the frames grow too big."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from livewidget.jupyter import recording
from livewidget.jupyter.recording import Recorder

FULL = {"type": "full", "seq": 1, "rendered": {"0": "1", "s": ["<b>", "</b>"]}}
DIFF = {"type": "diff", "seq": 2, "rendered": {"0": "2"}}


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _started(
    loop: asyncio.AbstractEventLoop, seconds: float = 60.0
) -> tuple[Recorder, list[str], list[list[dict[str, Any]]]]:
    asked: list[str] = []
    published: list[list[dict[str, Any]]] = []
    recorder = Recorder(loop, request_full=lambda: asked.append("full"), publish=published.append)
    recorder.start(seconds)
    loop.run_until_complete(asyncio.sleep(0))  # start hands itself to the loop
    return recorder, asked, published


def test_a_recording_asks_for_a_full_render_and_keeps_it_first(loop: asyncio.AbstractEventLoop):
    recorder, asked, published = _started(loop)
    assert asked == ["full"]
    recorder.sent(DIFF)  # sent before the full render came: not replayable, left out
    recorder.sent(FULL)
    recorder.sent(DIFF)
    recorder.stop()
    assert [(f["type"], f["rendered"]) for f in published[0]] == [
        ("full", FULL["rendered"]),
        ("diff", DIFF["rendered"]),
    ]
    assert all(isinstance(frame["t"], int) and frame["t"] >= 0 for frame in published[0])
    assert "seq" not in published[0][0], "a frame keeps only its time, type and render"
    assert recorder.done.is_set()


def test_a_full_render_already_on_its_way_leaves_one_full_render_at_the_start(
    loop: asyncio.AbstractEventLoop,
):
    recorder, _, published = _started(loop)
    newer = {**FULL, "seq": 3, "rendered": {"0": "3", "s": ["<b>", "</b>"]}}
    recorder.sent(FULL)  # the view's own first render, sent as the recording began
    recorder.sent(newer)  # the full render the recording asked for
    recorder.sent(DIFF)
    recorder.sent(newer)  # later on (a page joined): kept, a replay shows it in its turn
    recorder.stop()
    assert [(f["type"], f["rendered"]) for f in published[0]] == [
        ("full", newer["rendered"]),
        ("diff", DIFF["rendered"]),
        ("full", newer["rendered"]),
    ]


def test_a_recording_ends_when_its_time_is_up(loop: asyncio.AbstractEventLoop):
    recorder, _, published = _started(loop, seconds=0.01)
    recorder.sent(FULL)
    loop.run_until_complete(asyncio.sleep(0.05))
    assert not recorder.recording
    assert len(published) == 1
    recorder.sent(DIFF)  # after the end: not recorded
    assert len(published[0]) == 1


def test_a_recording_that_grows_too_big_stops_and_keeps_what_it_has(
    loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(recording, "MAX_BYTES", 200)
    recorder, _, published = _started(loop)
    recorder.sent(FULL)
    for _ in range(10):
        recorder.sent(DIFF)
    assert not recorder.recording
    assert 1 < len(published[0]) < 11


@pytest.mark.parametrize("seconds", [0, -1, 601, "10", float("nan")])
def test_record_takes_up_to_ten_minutes(loop: asyncio.AbstractEventLoop, seconds: Any):
    recorder = Recorder(loop, request_full=lambda: None, publish=lambda frames: None)
    with pytest.raises(ValueError, match=r"0 < seconds <= 600"):
        recorder.start(seconds)

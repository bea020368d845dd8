"""What an exported page replays: the payloads a view sends for a while, with their times.

``LiveWidget.record(seconds)`` starts a ``Recorder``. It asks the view for a full render (every
recording starts with one), then keeps each payload the widget sends as a frame
``{"t": ms since the start, "type": "full" | "diff", "rendered": {...}}`` until the time is up
or the frames pass ``MAX_BYTES``; then it hands the frames to ``publish`` (the widget stores
them in its synced ``_recording`` trait, which the notebook saves with its widget state).
``livewidget export`` checks them again (nothing saved is trusted) and replays them in a loop.

Everything here but ``start`` runs on the view's loop; ``start`` hands itself over to it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

from .. import wire
from ..runtime import call_soon_threadsafe

__all__ = ["MAX_BYTES", "Recorder"]

MAX_BYTES = 5_000_000  # a recording stops once its frames pass this many bytes of JSON

Frame = dict[str, Any]


class Recorder:
    """Records one view's payloads; ``recording`` tells whether it is recording now."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        request_full: Callable[[], None],
        publish: Callable[[list[Frame]], None],
    ) -> None:
        self._loop = loop
        self._request_full = request_full
        self._publish = publish
        self._frames: list[Frame] | None = None
        self._started = 0.0
        self._bytes = 0
        self.done = threading.Event()

    @property
    def recording(self) -> bool:
        return self._frames is not None

    def start(self, seconds: float) -> None:
        """From any thread: record for ``seconds`` from now (a recording under way restarts)."""
        if not isinstance(seconds, (int, float)) or not 0 < seconds <= 600:
            raise ValueError(f"record() takes 0 < seconds <= 600, got {seconds!r}")
        self.done.clear()
        call_soon_threadsafe(self._loop, self._start, float(seconds))

    def _start(self, seconds: float) -> None:
        self._frames = []
        self._bytes = 0
        self._started = self._loop.time()
        self._request_full()  # the recording starts from a full render
        self._loop.call_later(seconds, self.stop)

    def sent(self, message: dict[str, Any]) -> None:
        """On the view's loop: the widget has sent a render (``full`` or ``diff``)."""
        if self._frames is None:
            return
        frame = {
            wire.FRAME_TIME: round((self._loop.time() - self._started) * 1000),
            wire.TYPE: message[wire.TYPE],
            wire.RENDERED: message[wire.RENDERED],
        }
        self._bytes += len(json.dumps(frame))
        if not self._frames and frame[wire.TYPE] != wire.MSG_FULL:
            return  # wait for the full render that starts every recording
        if frame[wire.TYPE] == wire.MSG_FULL and len(self._frames) == 1:
            # A full render that was on its way when the recording began, then the one it asked
            # for: the recording starts from the later (one full, then diffs).
            self._frames[0] = frame
            return
        self._frames.append(frame)
        if self._bytes > MAX_BYTES:
            self.stop()

    def stop(self) -> None:
        """On the view's loop: end the recording and publish its frames."""
        if self._frames is not None:
            frames, self._frames = self._frames, None
            self._publish(frames)
        self.done.set()

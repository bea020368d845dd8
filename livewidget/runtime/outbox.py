"""The outbox: everything a view sends to its page, numbered.

Renders go out as a full render (``{"type": "full", "seq": n, "rendered": ...}``) when the page
joins, then as diffs against what was last sent (``"diff"``), each with the next sequence
number. An event from the page is always answered (by its render, or an empty diff), so the page
knows when its event has been handled. Pushed events (``push_event``) follow the render of the
handler that pushed them.

Jupyter's IOPub channel may drop messages under load. The page finds a lost diff as a gap in the
sequence numbers at the next payload, and joins again. A view's last payload before a quiet
spell has no next one, so once a view has sent nothing for ``SETTLE_WAITS[0]`` seconds it says
which payload was its last (``{"type": "settled", "seq": n}``), and says it again after each
further wait in case that message is lost too. A view that keeps changing sends none; a quiet
one sends five in its first minute of quiet, then nothing.

Errors are shown in the page (``{"type": "error", ...}``) and the log: at once, or, within
``error_interval`` of the last one shown, as the latest of a batch shown when the interval ends.
Every wait here is on the runtime's one clock.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .. import protocol
from ..protocol import Payload
from ..socket import Cancellable, Context, Socket
from ..stream import StreamComprehension, consume_streams
from ..template import Rendered
from ..text import repair, repair_payload
from .scheduling import Clock

__all__ = [
    "MSG_DIFF",
    "MSG_ERROR",
    "MSG_FULL",
    "MSG_PUSH_EVENT",
    "MSG_SETTLED",
    "MSG_TYPE",
    "SETTLE_WAITS",
    "Outbox",
]

log = logging.getLogger("livewidget")

# Messages from the runtime to the front end.
MSG_TYPE = "type"
MSG_FULL = "full"
MSG_DIFF = "diff"
MSG_ERROR = "error"
MSG_PUSH_EVENT = "push_event"
MSG_SETTLED = "settled"

# Seconds of quiet before each "settled" message of a quiet spell: at 2, 6, 14, 30 and 62 s.
SETTLE_WAITS = (2.0, 4.0, 8.0, 16.0, 32.0)

Send = Callable[[dict[str, Any]], None]


class ShownComponent(Protocol):
    """A component the view shows: its id, its last render and its socket."""

    @property
    def cid(self) -> int: ...

    @property
    def rendered(self) -> Rendered | None: ...

    @property
    def socket(self) -> Socket: ...


class Outbox:
    """What one view has sent and sends next: sequence numbers, full or diff, pushes, errors.

    ``name`` names the view in errors; ``report_later(error, where)`` shows a failure to send
    once the current call is done (on the view's loop); ``on_error`` sees every error reported.
    """

    __slots__ = (
        "_clock",
        "_held_error",
        "_last_error_at",
        "_last_sent_at",
        "_name",
        "_on_error",
        "_pushes",
        "_report_later",
        "_send",
        "_sent",
        "_sent_components",
        "_settle_due",
        "_settle_timer",
        "_settles_sent",
        "_suppressed_errors",
        "_unicode_repaired",
        "answer_pending",
        "closed",
        "error_interval",
        "needs_full",
        "seq",
    )

    def __init__(
        self,
        send: Send,
        clock: Clock,
        name: str,
        *,
        report_later: Callable[[BaseException, str], None],
        on_error: Callable[[BaseException, str], None] | None = None,
        error_interval: float = 1.0,
    ) -> None:
        self._send = send
        self._clock = clock
        self._name = name
        self._report_later = report_later
        self._on_error = on_error
        self.error_interval = error_interval
        self.closed = False
        self.seq = 0
        self.needs_full = True  # the page holds nothing yet, or asked for everything
        self.answer_pending = False  # a page's event awaits its answer (even an empty diff)
        self._sent: Rendered | None = None  # what the page holds
        self._sent_components: dict[int, Rendered] = {}
        self._pushes: list[dict[str, Any]] = []
        self._last_sent_at = -math.inf  # when the last full or diff went out
        self._settles_sent = 0  # "settled" messages sent since then
        self._settle_timer: Cancellable | None = None
        self._settle_due = math.inf
        self._last_error_at = -math.inf
        self._suppressed_errors = 0
        self._held_error: tuple[BaseException, str] | None = None
        self._unicode_repaired = False

    @property
    def has_pushes(self) -> bool:
        return bool(self._pushes)

    @property
    def push_count(self) -> int:
        """How many pushes wait for the next send."""
        return len(self._pushes)

    def push(self, name: str, payload: Any) -> None:
        """A pushed event: it goes out with the next send, after the render."""
        self._pushes.append(
            repair_payload({MSG_TYPE: MSG_PUSH_EVENT, "event": name, "payload": payload})
        )

    # -- renders ------------------------------------------------------------------------------

    def send_render(
        self,
        rendered: Rendered,
        components: Iterable[ShownComponent],
        contexts: Iterable[Context],
        pushes_upto: int | None = None,
    ) -> None:
        """Send what changed since the last send: the full render if the page needs it, else
        the diff (an empty one only to answer an event), then the pushes (only the first
        ``pushes_upto``: those pushed before ``rendered`` began; a later push goes with the
        render of the handler that pushed it). Once sent, the streams of ``contexts`` forget
        their rows (livewidget.stream)."""
        if self.closed:
            return
        sent, sent_components, needs_full = self._sent, self._sent_components, self.needs_full
        live = list(components)
        streams: list[StreamComprehension] = []  # the stream batches this payload carries
        if self.needs_full:
            self.needs_full = False
            self._sent = rendered
            self._sent_components = {}
            payload = protocol.full(rendered, streams=streams)
            kind = MSG_FULL
        else:
            payload = (
                protocol.diff(self._sent, rendered, streams=streams)
                if rendered is not self._sent
                else {}
            )
            self._sent = rendered
            kind = MSG_DIFF
        protocol.with_components(payload, self._component_changes(live, streams))
        if payload or kind == MSG_FULL or self.answer_pending:
            self.seq += 1
            if not self.transmit({MSG_TYPE: kind, "seq": self.seq, "rendered": payload}):
                # The page did not get it: what it holds is what was sent before (and the
                # streams keep their rows, to go with the next send).
                self.seq -= 1
                self._sent, self._sent_components = sent, sent_components
                self.needs_full = needs_full
                return
            self.answer_pending = False
            self._settle_later()
        # Sent: the kernel forgets the streams' rows (livewidget.stream), shown or not.
        for batch in streams:
            batch.consume()
        for context in contexts:
            consume_streams(context)
        for component in live:
            consume_streams(component.socket.context)
        upto = len(self._pushes) if pushes_upto is None else pushes_upto
        pushes, self._pushes = self._pushes[:upto], self._pushes[upto:]
        for push in pushes:
            self.transmit(push)

    def _component_changes(
        self, live: list[ShownComponent], streams: list[StreamComprehension]
    ) -> dict[int, Payload]:
        sent, changes = self._sent_components, {}
        for component in live:
            current, previous = component.rendered, sent.get(component.cid)
            if current is None or current is previous:
                continue
            change = (
                protocol.full(current, streams=streams)
                if previous is None
                else protocol.diff(previous, current, streams=streams)
            )
            if change:
                changes[component.cid] = change
        self._sent_components = {c.cid: c.rendered for c in live if c.rendered is not None}
        return changes

    # -- "settled" ----------------------------------------------------------------------------

    def _settle_later(self) -> None:
        """A full or diff just went out: a "settled" is due ``SETTLE_WAITS[0]`` s from now."""
        now = self._clock.now()
        self._last_sent_at = now
        self._settles_sent = 0
        due = now + SETTLE_WAITS[0]
        if self._settle_timer is not None and self._settle_due <= due:
            return  # it fires first, and finds the view was not quiet long enough
        if self._settle_timer is not None:
            self._settle_timer.cancel()
        self._arm_settle(due)

    def _arm_settle(self, due: float) -> None:
        self._settle_due = due
        self._settle_timer = self._clock.call_later(due - self._clock.now(), self._settle)

    def _settle(self) -> None:
        self._settle_timer = None
        if self.closed:
            return
        due = self._last_sent_at + sum(SETTLE_WAITS[: self._settles_sent + 1])
        if self._clock.now() < due:  # something went out meanwhile
            self._arm_settle(due)
            return
        self.transmit({MSG_TYPE: MSG_SETTLED, "seq": self.seq})
        self._settles_sent += 1
        if self._settles_sent < len(SETTLE_WAITS):
            self._arm_settle(self._last_sent_at + sum(SETTLE_WAITS[: self._settles_sent + 1]))

    # -- sending ------------------------------------------------------------------------------

    def transmit(self, message: dict[str, Any], *, report: bool = True) -> bool:
        """Send ``message``; True if it went. Text that cannot be encoded (a lone surrogate
        in the data) is repaired and sent again; any other failure is reported in the view."""
        try:
            self._send(message)
            return True
        except ValueError as error:  # UnicodeEncodeError among them: repair and try again
            failure: Exception = error
            repaired = repair_payload(message)
            if repaired != message:
                try:
                    self._send(repaired)
                except Exception as again:
                    failure = again
                else:
                    if not self._unicode_repaired:
                        self._unicode_repaired = True
                        log.warning(
                            "livewidget: %s sent text that is not valid Unicode (a lone "
                            "surrogate, e.g. from bad data); it shows as U+FFFD",
                            self._name,
                        )
                    return True
        except Exception as error:
            failure = error
        log.warning("livewidget could not send to the front end: %r", failure)
        if report:
            self._report_later(failure, "sending to the page")
        return False

    # -- errors -------------------------------------------------------------------------------

    def report(self, error: BaseException, where: str) -> None:
        """Show an error in the page and the log: at once, or, within ``error_interval`` of
        the last one shown, as the latest of a batch shown when the interval ends."""
        if self._on_error is not None:
            self._on_error(error, where)
        wait = self._last_error_at + self.error_interval - self._clock.now()
        if wait > 0:
            self._suppressed_errors += 1
            if self._held_error is None:
                self._clock.call_later(wait, self._report_held)
            self._held_error = (error, where)
            return
        self.show_error(error, where, 0)

    def _report_held(self) -> None:
        held, self._held_error = self._held_error, None
        suppressed, self._suppressed_errors = self._suppressed_errors, 0
        if held is not None and not self.closed:
            self.show_error(*held, suppressed - 1)

    def show_error(self, error: BaseException, where: str, more: int) -> None:
        """Show ``error`` now (``more``: how many like it were not shown)."""
        self._last_error_at = self._clock.now()
        message = f"{self._name}: {type(error).__name__} in {where}: {error}"
        if more > 0:
            message += f" (and {more} more errors like it, not shown)"
        trace = "".join(traceback.format_exception(error))
        log.error("%s\n%s", message, trace)
        # An error's text often quotes the data that caused it: repaired, or it could not go.
        text = {MSG_TYPE: MSG_ERROR, "message": repair(message), "traceback": repair(trace)}
        self.transmit(text, report=False)

    def close(self) -> None:
        self.closed = True
        if self._settle_timer is not None:
            self._settle_timer.cancel()
            self._settle_timer = None

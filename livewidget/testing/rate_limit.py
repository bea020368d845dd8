"""phx-debounce and phx-throttle on the virtual clock, as the front end applies them.

A port of ``js/src/rate_limit.ts`` (the rules are Phoenix's, ``dom.js: debounce``); the test
client runs every ``click``, ``change``, ``keydown`` / ``keyup`` and window key through it:

- ``phx-debounce="500"``: the event goes once the element has had no event for 500 ms of the
  virtual clock (``lv.advance(500)``). Only the last one goes, and what it sends is read then:
  a debounced ``change`` sends the form as the page holds it when the timer fires.
- ``phx-debounce="blur"``: the event goes when the element loses focus (``lv.blur``).
- Losing focus sends a pending debounced event at once, and ends a throttle window.
- ``phx-throttle="500"``: the first event goes at once, later ones are dropped until 500 ms
  have passed (no trailing event). A keydown of another key than the last always goes, and
  opens a new window.
- An empty value means 300 ms (``DEFAULT_RATE_MS``). With both attributes, phx-debounce wins.
- Submitting a form drops its controls' pending events and throttle windows.
- A pending event whose element a patch has removed is dropped when its timer fires.

Where the page would report a value that is neither milliseconds nor ``"blur"`` (and send at
once), the test client raises ``ValueError``: the template has a bug the test should show.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bs4 import Tag

from ..socket import Cancellable
from ..wire import PHX_DEBOUNCE, PHX_DEBOUNCE_BLUR, PHX_THROTTLE
from .clock import VirtualClock

__all__ = ["DEFAULT_RATE_MS", "PHX_DEBOUNCE", "PHX_THROTTLE", "RateLimiter"]

DEFAULT_RATE_MS = 300


@dataclass
class _State:
    """One element's: its pending debounced action and timer, its open throttle window."""

    pending: Callable[[], None] | None = None
    timer: Cancellable | None = None
    throttle: Cancellable | None = None
    last_key: str | None = None


class RateLimiter:
    """Runs each action now, later or never, as its element's attributes say.

    Elements are named by keys (``dom.element_key``); ``connected(key)`` says whether the
    element is still on the page when a delayed action comes due.
    """

    def __init__(self, clock: VirtualClock, connected: Callable[[str], bool]) -> None:
        self._clock = clock
        self._connected = connected
        self._states: dict[str, _State] = {}
        self._timers: set[Cancellable] = set()

    @staticmethod
    def limits(el: Tag) -> bool:
        """Whether ``el`` carries phx-debounce or phx-throttle."""
        return el.has_attr(PHX_DEBOUNCE) or el.has_attr(PHX_THROTTLE)

    def run(
        self,
        key: str,
        el: Tag,
        event_type: str,
        action: Callable[[], None],
        *,
        pressed: str | None = None,
    ) -> bool:
        """Run ``action`` for an ``event_type`` event ("click", "change", "keydown", "keyup")
        on ``el`` (named ``key``; ``pressed`` the key of a key event); True if it ran now."""
        debounce, throttle = _attribute(el, PHX_DEBOUNCE), _attribute(el, PHX_THROTTLE)
        setting = debounce if debounce is not None else throttle
        if setting is None:
            action()
            return True
        state = self._states.setdefault(key, _State())
        if debounce == PHX_DEBOUNCE_BLUR:
            state.pending = action
            return False
        ms = _milliseconds(setting, PHX_DEBOUNCE if debounce is not None else PHX_THROTTLE, el)
        if debounce is not None:
            state.pending = action
            self._cancel(state.timer)
            state.timer = self._after(ms, lambda limiter: limiter._debounce_due(key))
            return False
        new_key = False
        if event_type == "keydown":
            new_key = state.last_key != pressed
            state.last_key = pressed
        if state.throttle is not None and not new_key:
            return False
        self._cancel(state.throttle)
        action()
        state.throttle = self._after(ms, lambda limiter: limiter._end_window(key))
        return True

    def blurred(self, key: str) -> bool:
        """The element lost focus: its pending debounced action runs now (if it is still on
        the page), its throttle window ends. True if an action ran."""
        state = self._states.get(key)
        if state is None:
            return False
        self._cancel(state.timer)
        self._cancel(state.throttle)
        state.timer = state.throttle = None
        return self._flush(key, state)

    def submitted(self, keys: Iterable[str]) -> None:
        """A form was submitted: drop what its controls (named ``keys``) had pending."""
        for key in keys:
            state = self._states.get(key)
            if state is None:
                continue
            self._cancel(state.timer)
            self._cancel(state.throttle)
            state.timer = state.throttle = None
            state.pending = None

    def dispose(self) -> None:
        """Drop every pending action and timer (the view is closing)."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._states.clear()

    def _debounce_due(self, key: str) -> None:
        state = self._states[key]
        state.timer = None
        self._flush(key, state)

    def _end_window(self, key: str) -> None:
        self._states[key].throttle = None

    def _flush(self, key: str, state: _State) -> bool:
        action, state.pending = state.pending, None
        if action is None or not self._connected(key):
            return False
        action()
        return True

    def _after(self, ms: float, fn: Callable[[RateLimiter], None]) -> Cancellable:
        # The clock (the runtime's too) holds the timer: it reaches the limiter, and through it
        # the pending actions, by a weak reference and a key, so that a pending event does not
        # keep a test client nobody closed alive.
        handles: list[Cancellable] = []
        me = weakref.ref(self)

        def fire() -> None:
            limiter = me()
            if limiter is not None:
                limiter._timers.discard(handles[0])
                fn(limiter)

        handles.append(self._clock.call_later(ms / 1000, fire))
        self._timers.add(handles[0])
        return handles[0]

    def _cancel(self, timer: Cancellable | None) -> None:
        if timer is not None:
            timer.cancel()
            self._timers.discard(timer)


def _attribute(el: Tag, name: str) -> str | None:
    value = el.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else " ".join(value)


def _milliseconds(setting: str, attribute: str, el: Tag) -> float:
    """The attribute's milliseconds, read as JavaScript's ``Number`` reads it."""
    text = setting.strip()
    if text == "":
        return DEFAULT_RATE_MS
    try:
        ms = float(text) if "_" not in text else math.nan  # Number("1_000") is NaN
    except ValueError:
        ms = math.nan
    if not math.isfinite(ms) or ms < 0:
        blur = ' or "blur"' if attribute == PHX_DEBOUNCE else ""
        raise ValueError(
            f"{attribute} takes milliseconds{blur}, got {setting!r} on {str(el)[:120]}; the page "
            f'would report it and send the event at once. Write {attribute}="300", say.'
        )
    return ms

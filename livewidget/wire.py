"""Every string that crosses the wire between the kernel and the page, written once.

Two vocabularies meet on the wire:

* Phoenix LiveView's *rendered* format (1.1 and later), which ``protocol`` writes::

      {"0": "1", "s": ["<h2>", "</h2>"]}               STATIC: the literal text around fields
      {"s": [...], "k": {"0": {...}, "kc": 1}}         KEYED entries, KEYED_COUNT of them
      {"p": {"0": ["<li>", "</li>"]}, ... "s": 0}      TEMPLATES shared by number
      {"0": 1, "c": {"1": {...}}}                      COMPONENTS by cid

* The messages that carry those payloads, as JSON objects under ``TYPE``::

      kernel -> page  {"type": "full" | "diff", "seq": n, "rendered": {...}}
                      {"type": "settled", "seq": n}
                      {"type": "push_event", "event": name, "payload": {...}}
                      {"type": "error", "message": text, "traceback": text}
      page -> kernel  {"type": "join"}
                      {"type": "event", "kind": "click", "event": name, "value": {...},
                       "cid": null}
      page <-> server {"type": "heartbeat"}                (livewidget serve's WebSocket)

The front end writes the same strings once in ``js/src/constants.ts``, under the same names
(``tests/unit/test_wire.py`` checks that the two agree, name by name). Every Python module that
writes or reads one of these strings takes it from here (``protocol`` re-exports the rendered
format's keys, its public names since before this module).

The names are the front end's: a constant is ``NAME`` in both languages. The only exceptions,
listed in the test, are those one side alone has (the front end's ``KEY_ATTR``, a model
attribute the kernel never sees; the recording's frame keys, which the replay script reads as
literals).
"""

from __future__ import annotations

from typing import Final

# -- the rendered format ------------------------------------------------------------------

STATIC: Final = "s"
"""Statics: a list of strings, or a number (a shared template under TEMPLATES, or a cid)."""
KEYED: Final = "k"
"""A comprehension's entries by index: ``{"0": {...}, "1": {...}, "kc": 2}``."""
KEYED_COUNT: Final = "kc"
"""How many entries a comprehension has."""
KEYED_MOVED: Final = "km"
"""Set in a keyed diff when some entries moved."""
TEMPLATES: Final = "p"
"""Shared statics, by number, for the numeric STATIC below them."""
COMPONENTS: Final = "c"
"""Live components' renders by cid; a numeric dynamic refers to one."""
STREAM: Final = "stream"
"""On a comprehension, a stream batch: ``[ref, inserts, deleted dom ids]``, plus ``true``
after a reset."""

# -- the messages -------------------------------------------------------------------------

TYPE: Final = "type"
SEQ: Final = "seq"
RENDERED: Final = "rendered"
MESSAGE: Final = "message"
TRACEBACK: Final = "traceback"
EVENT: Final = "event"
PAYLOAD: Final = "payload"
KIND: Final = "kind"
VALUE: Final = "value"
CID: Final = "cid"

MSG_FULL: Final = "full"
"""Kernel -> page: a full render; it replaces the page's tree."""
MSG_DIFF: Final = "diff"
"""Kernel -> page: a diff against the render numbered ``seq - 1``."""
MSG_ERROR: Final = "error"
"""Kernel -> page: a handler failed; the view lives on."""
MSG_SETTLED: Final = "settled"
"""Kernel -> page: the view went quiet and its last render is ``seq``; a page that holds
another one lost a message and joins again."""
MSG_PUSH_EVENT: Final = "push_event"
"""Kernel -> page: ``socket.push_event(name, payload)``."""
MSG_JOIN: Final = "join"
"""Page -> kernel: a view attached; send the full render."""
MSG_EVENT: Final = "event"
"""Page -> kernel: a DOM event with a phx-* binding, of one of the kinds below."""
MSG_HEARTBEAT: Final = "heartbeat"
"""Page <-> server (``livewidget serve`` only): the page says it is there; the server answers
with the same message."""
MSG_WIDGET: Final = "widget"
"""Page <-> server (``livewidget serve`` only): a message for one of the Jupyter widgets the
view shows (``id``, and ``method``: open, update, custom or close; serve/widgets.py)."""

KIND_CLICK: Final = "click"
KIND_FORM: Final = "form"
KIND_KEYDOWN: Final = "keydown"
KIND_KEYUP: Final = "keyup"
KIND_BLUR: Final = "blur"
KIND_FOCUS: Final = "focus"
KIND_HOOK: Final = "hook"
"""``this.pushEvent(...)`` in a phx-hook."""
EVENT_KINDS: Final = frozenset(
    {KIND_CLICK, KIND_FORM, KIND_KEYDOWN, KIND_KEYUP, KIND_BLUR, KIND_FOCUS, KIND_HOOK}
)

FORM_TARGET: Final = "_target"
"""The form field naming the control that changed (as in Phoenix)."""

# -- the widget's synced traits and the page's markers --------------------------------------

HTML_TRAIT: Final = "_html"
"""The last HTML: shown before the first render, saved with the notebook, exported."""
HOOKS_TRAIT: Final = "_hooks"
"""The source of the ES module holding the view's phx-hook objects ("" for none)."""
RECORDING_TRAIT: Final = "_recording"
"""The frames ``record()`` kept, saved with the notebook and replayed by an export."""
ID_TRAIT: Final = "_lw_id"
"""A widget's token among the kernel's views: the hub's batches name the view by it."""
HUB_TRAIT: Final = "_lw_hub"
"""True on the kernel's hub, the one widget whose comm carries every view's renders."""
BATCH: Final = "batch"
"""A hub message's list of ``[id, message]``: the messages of one turn of the kernel's loop."""
FRAME_TIME: Final = "t"
"""A recorded frame's time in ms from the first: ``{"t": ms, "type": ..., "rendered": ...}``."""
CHILD_ATTR: Final = "data-lw-widget"
"""A child widget's placeholder attribute: the model id of the Jupyter widget shown there."""

# -- phx-* bindings (the page reads them; the kernel checks what a template puts in them) ----

PHX_CLICK: Final = "phx-click"
PHX_CHANGE: Final = "phx-change"
PHX_SUBMIT: Final = "phx-submit"
PHX_KEYDOWN: Final = "phx-keydown"
PHX_KEYUP: Final = "phx-keyup"
PHX_KEY: Final = "phx-key"
PHX_TARGET: Final = "phx-target"
PHX_VALUE_PREFIX: Final = "phx-value-"
PHX_UPDATE: Final = "phx-update"
PHX_UPDATE_STREAM: Final = "stream"
PHX_UPDATE_IGNORE: Final = "ignore"
PHX_BLUR: Final = "phx-blur"
PHX_FOCUS: Final = "phx-focus"
PHX_WINDOW_KEYDOWN: Final = "phx-window-keydown"
PHX_WINDOW_KEYUP: Final = "phx-window-keyup"
PHX_DEBOUNCE: Final = "phx-debounce"
PHX_DEBOUNCE_BLUR: Final = "blur"
"""phx-debounce="blur": send when the field loses focus."""
PHX_THROTTLE: Final = "phx-throttle"
PHX_DISABLE_WITH: Final = "phx-disable-with"
PHX_HOOK: Final = "phx-hook"

# -- event values --------------------------------------------------------------------------

PARAM_KEY: Final = "key"
"""The key a key event carries in its value (phx-keydown, phx-keyup, phx-window-*)."""
PARAM_VALUE: Final = "value"
"""A control's value in a click or key event's value."""

# -- the page's elements: the widget's, and those of a page written by `livewidget export` --

VIEW_CLASS: Final = "livewidget"
"""The class of a view's outer element."""
ROOT_CLASS: Final = "lw-root"
"""The class of the element holding a view's HTML, inside VIEW_CLASS."""
MODEL_ATTR: Final = "data-livewidget-model"
"""The attribute naming the model of an exported view."""
RECORDINGS_ID: Final = "livewidget-recordings"
"""The id of the JSON script holding an export's recordings."""
BLOCKED_PREFIX: Final = "data-livewidget-blocked-"
"""What an export renames an attribute to when it would fetch from the network."""
FIGURE_ATTR: Final = "data-livewidget-figure"
"""The attribute of an exported figure's element, naming its model."""
FIGURES_ID: Final = "livewidget-figures"
"""The id of an export's JSON script mapping model ids to figures."""

/**
 * Every wire string of the front end, written once: the rendered format's keys, the messages'
 * types and fields, the event kinds and their values' fields, the traits, the phx-* attributes
 * and their special values, and the names an exported page shares with the kernel.
 *
 * Two vocabularies meet here:
 *
 * - The Phoenix LiveView "rendered" format (1.1 and later) that the kernel's
 *   `livewidget.protocol` produces: `{"s": statics, "0": dynamic, ...}`.
 * - The custom messages that carry those payloads between kernel and front end (over the
 *   anywidget comm, or a WebSocket): `{"type": "full" | "diff", "seq": n, "rendered": {...}}`
 *   and back.
 *
 * The Python side defines the same strings once too (livewidget/wire.py). Each one here is a
 * plain line `export const NAME = "...";` so that a Python test can read this file and check
 * that both languages agree; the shared JSON vectors in tests/vectors/ keep the merges honest.
 * No other file in js/src writes a wire string as a literal.
 */

// --- rendered format ---------------------------------------------------------

/** Statics: an array of strings, or an integer (template index, or shared cid in "c"). */
export const STATIC = "s";
/** Keyed comprehension entries: `{"0": {...}, "1": {...}, "kc": 2}`. */
export const KEYED = "k";
/** Number of entries in a keyed comprehension. */
export const KEYED_COUNT = "kc";
/** Present in a keyed diff when some entries moved. */
export const KEYED_MOVED = "km";
/** Shared statics: `{"0": [statics], ...}`, used by numeric "s" below it. */
export const TEMPLATES = "p";
/** Components: `{cid: rendered}`; a numeric dynamic refers to one. */
export const COMPONENTS = "c";
/**
 * On a keyed comprehension, a stream batch: `[ref, inserts, deleteIds]`, plus `true` after a
 * reset; each insert is `[domId, at, limit, updateOnly]` and goes with the entry of its index.
 */
export const STREAM = "stream";

// --- messages, kernel <-> front end ---------------------------------------------

export const TYPE = "type";
export const SEQ = "seq";
export const RENDERED = "rendered";
export const MESSAGE = "message";
export const TRACEBACK = "traceback";
export const EVENT = "event";
export const PAYLOAD = "payload";
export const KIND = "kind";
export const VALUE = "value";
export const CID = "cid";

/** Kernel -> front: a full render; replaces the tree. */
export const MSG_FULL = "full";
/** Kernel -> front: a diff against the previous message (seq + 1). */
export const MSG_DIFF = "diff";
/** Kernel -> front: a handler failed; the view lives on. */
export const MSG_ERROR = "error";
/** Kernel -> front: the view went quiet and its last full or diff was `seq`; a front end
 * that holds another one lost a message and joins. */
export const MSG_SETTLED = "settled";
/** Kernel -> front: `socket.push_event(name, payload)`. */
export const MSG_PUSH_EVENT = "push_event";
/** Front -> kernel: please send a full render. */
export const MSG_JOIN = "join";
/** Front -> kernel: a DOM event with a phx-* binding. */
export const MSG_EVENT = "event";
/** Page <-> server (`livewidget serve` only): the page says it is there; the server answers. */
export const MSG_HEARTBEAT = "heartbeat";
/** Page <-> server (`livewidget serve` only): a message for one of the Jupyter widgets the view
 * shows (`id`, and `method`: open, update, custom or close; served_widgets.ts). */
export const MSG_WIDGET = "widget";

/** In a MSG_EVENT's value: the key pressed (phx-keydown, phx-keyup and their window forms). */
export const PARAM_KEY = "key";
/** In a MSG_EVENT's value: the element's value (phx-click on a button, phx-blur, phx-focus...). */
export const PARAM_VALUE = "value";

/** The event kinds of a MSG_EVENT; each names the binding that fired. */
export const KIND_CLICK = "click";
export const KIND_FORM = "form";
export const KIND_KEYDOWN = "keydown";
export const KIND_KEYUP = "keyup";
export const KIND_BLUR = "blur";
export const KIND_FOCUS = "focus";
/** `this.pushEvent(...)` in a phx-hook, or a JS "push" run by `this.js().exec(...)` there. */
export const KIND_HOOK = "hook";
export type EventKind =
  | typeof KIND_CLICK
  | typeof KIND_FORM
  | typeof KIND_KEYDOWN
  | typeof KIND_KEYUP
  | typeof KIND_BLUR
  | typeof KIND_FOCUS
  | typeof KIND_HOOK;

/** The synced trait holding the last HTML: shown before the first render, saved with the notebook. */
export const HTML_TRAIT = "_html";
/**
 * The synced trait holding the phx-hook registry: the source of an ES module whose default
 * export maps hook names to hook objects (see hooks.ts). "" means no hooks.
 */
export const HOOKS_TRAIT = "_hooks";

/** A widget's token among the kernel's views: the hub's batches name the view by it. */
export const ID_TRAIT = "_lw_id";
/** True on the kernel's hub, the one widget whose comm carries every view's renders. */
export const HUB_TRAIT = "_lw_hub";
/** A hub message's list of `[id, message]`: the messages of one turn of the kernel's loop. */
export const BATCH = "batch";

/**
 * A front-end-only model attribute that lets render() find the state that
 * initialize() made for the same model (anywidget hands each a different
 * model proxy). Never sent to the kernel: the front end never calls save_changes.
 */
export const KEY_ATTR = "_lw_key";

/**
 * The attribute of a child widget's placeholder: the model id of the Jupyter widget shown
 * there (`<span class="lw-child" data-lw-widget="ID" id="lw-child-ID" phx-update="ignore">`,
 * written by the kernel's children.py; children.ts places the widget's view inside).
 */
export const CHILD_ATTR = "data-lw-widget";

/**
 * Front end only, never in the kernel's HTML nor on the page: rendered.ts `toPatch()` writes a
 * keyed entry that did not change as `<tr data-lw-skip="ID"></tr>` and one that did with
 * `data-lw-entry="ID"` on its root; dom_patch.ts keeps the live element for the first and
 * records (and strips) the second.
 */
export const SKIP_ATTR = "data-lw-skip";
export const ENTRY_ATTR = "data-lw-entry";

// --- message shapes -------------------------------------------------------------

export interface JoinMessage {
  [TYPE]: typeof MSG_JOIN;
}

export interface EventMessage {
  [TYPE]: typeof MSG_EVENT;
  [KIND]: EventKind;
  [EVENT]: string;
  /**
   * An object for every kind but "form": phx-value-* (and more, see bindings.ts), or a hook's
   * payload. For "form", the urlencoded form.
   */
  [VALUE]: Record<string, unknown> | string;
  /** The phx-target component id, or null for the view itself. */
  [CID]: number | null;
}

export type OutgoingMessage = JoinMessage | EventMessage;

// --- phx-* bindings ---------------------------------------------------------------

export const PHX_CLICK = "phx-click";
export const PHX_CHANGE = "phx-change";
export const PHX_SUBMIT = "phx-submit";
export const PHX_KEYDOWN = "phx-keydown";
export const PHX_KEYUP = "phx-keyup";
export const PHX_KEY = "phx-key";
export const PHX_TARGET = "phx-target";
export const PHX_VALUE_PREFIX = "phx-value-";
export const PHX_UPDATE = "phx-update";
/** `phx-update="ignore"`: the element keeps its children and attributes (but id and data-*). */
export const PHX_UPDATE_IGNORE = "ignore";
/** `phx-update="stream"`: the container of a stream's rows (each with an id). */
export const PHX_UPDATE_STREAM = "stream";
export const PHX_BLUR = "phx-blur";
export const PHX_FOCUS = "phx-focus";
export const PHX_WINDOW_KEYDOWN = "phx-window-keydown";
export const PHX_WINDOW_KEYUP = "phx-window-keyup";
/** Milliseconds, or "blur" (send when the element loses focus); "" means 300. */
export const PHX_DEBOUNCE = "phx-debounce";
/** `phx-debounce="blur"`: send when the element loses focus. */
export const PHX_DEBOUNCE_BLUR = "blur";
/** Milliseconds; "" means 300. */
export const PHX_THROTTLE = "phx-throttle";
export const DEFAULT_RATE_MS = 300;
/** Text a button shows, disabled, while its event is in flight. */
export const PHX_DISABLE_WITH = "phx-disable-with";
export const PHX_HOOK = "phx-hook";
/**
 * While an event is in flight its source element has the class `phx-<type>-loading`
 * (type: click, change, submit, keydown, keyup, blur, focus, hook), as in Phoenix.
 */
export const loadingClass = (type: string): string => `phx-${type}-loading`;
/** The "_target" form field naming the control that changed (as in Phoenix). */
export const FORM_TARGET = "_target";

// --- the page -------------------------------------------------------------------------------

/** The class of a view's outer element (widget.ts; livewidget/export/page.py writes it too). */
export const VIEW_CLASS = "livewidget";
/** The class of the element holding a view's HTML, inside VIEW_CLASS. */
export const ROOT_CLASS = "lw-root";

// --- pages written by `livewidget export` (livewidget/export/page.py, export/widgets.py) -----------

/** The attribute naming the widget model of an exported view. */
export const MODEL_ATTR = "data-livewidget-model";
/** The id of the page's one JSON script that maps model ids to recordings. */
export const RECORDINGS_ID = "livewidget-recordings";
/** In a recorded frame `{"t": ms, "type": "full" | "diff", "rendered": {...}}`: its time. */
export const FRAME_TIME = "t";
/** The latest time a frame may come, in ms from the first (livewidget/export/page.py: MAX_FRAME_MS). */
export const MAX_FRAME_MS = 3_600_000;
/** What a neutralised attribute is renamed to, plus its name. */
export const BLOCKED_PREFIX = "data-livewidget-blocked-";
/** The id of the page's one JSON script that maps model ids to figures. */
export const FIGURES_ID = "livewidget-figures";
/** The attribute naming the model of a figure's element. */
export const FIGURE_ATTR = "data-livewidget-figure";

/**
 * phx-* event bindings, by delegation: one listener per event type on the widget's root (and,
 * for phx-window-*, on its window), so elements that patches add or replace need no wiring.
 *
 * Each binding becomes one event message (see EventMessage in constants.ts):
 *
 *   phx-click="inc" phx-value-by="2"        click   "inc"  {"by": "2"}
 *   <form phx-change="validate">             form    "validate"  "q=ab&_target=q"
 *   <form phx-submit="save">                 form    "save"  "q=ab"
 *   phx-keydown="key" phx-key="Enter"        keydown "key"  {"key": "Enter", ...phx-value-*}
 *   phx-keyup="key"                          keyup   "key"  {"key": "a", ...phx-value-*}
 *   phx-window-keydown / phx-window-keyup    keydown / keyup, as above, for keys anywhere on the page
 *   phx-blur="left" / phx-focus="entered"    blur / focus  {...phx-value-*, "value": el.value}
 *
 * and `phx-target="3"` on the bound element sends cid 3 (a component), else null.
 * Names and payload shapes are Phoenix LiveView's. Also, as in Phoenix:
 *
 * - A binding whose value starts with "[" is a list of JS commands (js_commands.ts); its
 *   "push" commands send the binding's message with their event name, `value` merged into
 *   the values (for forms: added as fields) and `target` as the cid.
 * - phx-debounce / phx-throttle on the element rate-limit click, change and key bindings
 *   (rate_limit.ts); phx-blur, phx-focus and phx-submit are never delayed.
 * - While a message is in flight its source has phx-<type>-loading and phx-disable-with
 *   applies (in_flight.ts); a form still in flight is not submitted again. (Phoenix also
 *   ignores clicks on an element in flight; here an event is only answered by the next render,
 *   so a handler that renders nothing would block its button for seconds: clicks go through.)
 * - phx-click, phx-keydown and phx-keyup bind the closest element with the attribute (so a
 *   click on a button's icon counts); phx-blur and phx-focus bind the focused element itself.
 * - Window key bindings do not fire for a key event that an element key binding handled.
 * - Events inside a Jupyter widget placed in the view (children.ts) are that widget's own:
 *   no binding of the view fires for them, window key bindings included.
 */
import {
  CID,
  EVENT,
  type EventKind,
  type EventMessage,
  FORM_TARGET,
  KIND,
  KIND_BLUR,
  KIND_CLICK,
  KIND_FOCUS,
  KIND_FORM,
  KIND_KEYDOWN,
  KIND_KEYUP,
  MSG_EVENT,
  PARAM_KEY,
  PHX_BLUR,
  PHX_CHANGE,
  PHX_CLICK,
  PHX_DISABLE_WITH,
  PHX_FOCUS,
  PHX_KEY,
  PHX_KEYDOWN,
  PHX_KEYUP,
  PHX_SUBMIT,
  PHX_WINDOW_KEYDOWN,
  PHX_WINDOW_KEYUP,
  ROOT_CLASS,
  TYPE,
  VALUE,
} from "./constants";
import { inChild } from "./children";
import type { InFlightSpec } from "./in_flight";
import { exec, isEncodedJS, type PushArgs } from "./js_commands";
import {
  appendValues,
  asCid,
  cidOf,
  controlParams,
  formParams,
  isFormControl,
  valuesWithValue,
} from "./payloads";
import { RateLimiter } from "./rate_limit";

/** Send one message; `inFlight` says what shows it in flight until the kernel answers. */
export type PushEvent = (message: EventMessage, inFlight: InFlightSpec) => void;

export interface BindOptions {
  /**
   * True while an event of `type` sent from `el` waits for its answer: a form whose submit is
   * in flight is not submitted again (a change in flight does not hold a submit back).
   */
  isPending?: (el: Element, type: string) => boolean;
  /**
   * Window events already handled, shared by the views of one model so that a key pressed
   * once is sent once however many views of the widget are on the page.
   */
  windowEvents?: WeakSet<Event>;
  /** A binding that cannot run (bad JS commands, a bad phx-debounce...). */
  report?: (message: string) => void;
}

/** Text fields and editors: where typing is typing, not a command to the page. */
function isEditable(el: Element): boolean {
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  if (el instanceof HTMLInputElement) return !["button", "checkbox", "radio", "submit", "reset"].includes(el.type);
  return el instanceof HTMLElement && el.isContentEditable;
}

/** Key events that an element binding handled, in any widget: window bindings skip them. */
const handledByElement = new WeakSet<Event>();

/** Listen on `root` (and its window); returns a function that removes every listener. */
export function bindEvents(root: HTMLElement, pushEvent: PushEvent, options: BindOptions = {}): () => void {
  const report = options.report ?? ((message: string) => console.error(message));
  const isPending = options.isPending ?? (() => false);
  const windowEvents = options.windowEvents ?? new WeakSet<Event>();
  const limiter = new RateLimiter(report);

  /** A binding's send: (event name, JS push args) -> one message. */
  type Send = (event: string, args: PushArgs) => void;

  /** Run a binding's value: an event name sends, JS commands run (their pushes send). */
  const fire = (binding: string, source: Element, e: Event, send: Send) => {
    if (!isEncodedJS(binding)) return send(binding, {});
    exec(binding, {
      root,
      source,
      event: e,
      report,
      push: (args) => {
        if (!args.event) return report(`livewidget: a JS "push" command needs an "event" name, in ${binding}`);
        send(args.event, args);
      },
    });
  };

  /** One message; the cid comes from a push's `target`, else from `cidEl`'s phx-target. */
  const push = (
    kind: EventKind,
    type: string,
    event: string,
    value: EventMessage[typeof VALUE],
    cidEl: Element,
    args: PushArgs,
    loading: (Element | null | undefined)[],
    disable: Element[] = [],
  ) => {
    const cid = args.target !== undefined && args.target !== null ? asCid(args.target) : cidOf(cidEl);
    const extra = args.loading ? Array.from(root.querySelectorAll(args.loading)) : [];
    const message: EventMessage = { [TYPE]: MSG_EVENT, [KIND]: kind, [EVENT]: event, [VALUE]: value, [CID]: cid };
    pushEvent(message, { type, loading: [...loading.filter((el) => el instanceof Element), ...extra], disable });
  };

  /** The closest element from the event's target up to `root` that has `attr`. */
  const bound = (e: Event, attr: string): Element | null => {
    const target = e.target as Node | null;
    const start = target instanceof Element ? target : (target?.parentElement ?? null);
    const el = start?.closest(`[${attr}]`) ?? null;
    return el && root.contains(el) ? el : null;
  };

  const onClick = (e: Event) => {
    const el = bound(e, PHX_CLICK);
    if (!el) return;
    if (el.getAttribute("href") === "#") e.preventDefault();
    const binding = el.getAttribute(PHX_CLICK);
    if (!binding) return;
    limiter.run(el, e, () =>
      fire(binding, el, e, (event, args) =>
        push(KIND_CLICK, "click", event, { ...valuesWithValue(el), ...args.value }, el, args, [el], [el]),
      ),
    );
  };

  // Browsers fire "input" per keystroke and "change" when a text field loses
  // focus; as Phoenix does, a "change" right after an "input" of the same
  // control is a repeat and is dropped.
  let iteration = 0;
  const lastEvent = new WeakMap<Element, { at: number; type: string }>();
  const onChange = (e: Event) => {
    const control = e.target;
    if (!isFormControl(control) || !root.contains(control)) return;
    const binding = control.getAttribute(PHX_CHANGE) ?? control.form?.getAttribute(PHX_CHANGE);
    if (!binding) return;
    const at = iteration++;
    const previous = lastEvent.get(control);
    lastEvent.set(control, { at, type: e.type });
    if (e.type === "change" && previous?.type === "input" && previous.at === at - 1) return;
    const dispatcher = control.hasAttribute(PHX_CHANGE) ? control : (control.form as HTMLFormElement);
    // Debounced, the form is read when the message goes: the latest state.
    limiter.run(control, e, () =>
      fire(binding, control, e, (event, args) => {
        const data = control.form ? formParams(control.form) : controlParams(control);
        if (args.value) appendValues(data, args.value);
        if (control.name) data.append(FORM_TARGET, control.name);
        push(KIND_FORM, "change", event, data.toString(), dispatcher, args, [control, control.form]);
      }),
    );
  };

  const onSubmit = (e: Event) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !root.contains(form)) return;
    const binding = form.getAttribute(PHX_SUBMIT);
    if (!binding) return;
    e.preventDefault();
    limiter.submitted(form);
    if (isPending(form, "submit")) return; // already submitted, not yet answered
    const by = (e as SubmitEvent).submitter;
    const submitter = by instanceof HTMLElement && by !== form ? by : null;
    // As Phoenix: with a submitter, its phx-disable-with applies; else every control's does.
    const disable = submitter
      ? [submitter]
      : Array.from(form.elements).filter((el) => el.hasAttribute(PHX_DISABLE_WITH));
    fire(binding, form, e, (event, args) => {
      const data = formParams(form, submitter);
      if (args.value) appendValues(data, args.value);
      push(KIND_FORM, "submit", event, data.toString(), form, args, [form, submitter], disable);
    });
  };

  const keyMatches = (el: Element, e: KeyboardEvent) => {
    const only = el.getAttribute(PHX_KEY);
    return !only || only.toLowerCase() === e.key?.toLowerCase();
  };

  const sendKey = (el: Element, binding: string, e: KeyboardEvent) => {
    const kind = e.type === "keydown" ? KIND_KEYDOWN : KIND_KEYUP;
    limiter.run(el, e, () =>
      fire(binding, el, e, (event, args) =>
        push(kind, kind, event, { [PARAM_KEY]: e.key, ...valuesWithValue(el), ...args.value }, el, args, [el]),
      ),
    );
  };

  const onKey = (e: Event) => {
    const el = bound(e, e.type === "keydown" ? PHX_KEYDOWN : PHX_KEYUP);
    if (!el) return;
    handledByElement.add(e);
    const binding = el.getAttribute(e.type === "keydown" ? PHX_KEYDOWN : PHX_KEYUP);
    if (binding && keyMatches(el, e as KeyboardEvent)) sendKey(el, binding, e as KeyboardEvent);
  };

  // Window keys listen in the capture phase: JupyterLab stops keydown from bubbling past its
  // document, so a bubbling window listener would never hear a key. Capturing runs before any
  // element listener, so what an element binding will handle is recognised here by the target:
  // a key inside an element with its own key binding, in any widget, is that binding's. Keys
  // typed into an editor outside the widgets (a notebook cell) are not the page's keys.
  const onWindowKey = (e: Event) => {
    if (handledByElement.has(e) || windowEvents.has(e) || inChild(root, e.target as Node | null)) return;
    const target = e.target instanceof Element ? e.target : null;
    const elementAttr = e.type === "keydown" ? PHX_KEYDOWN : PHX_KEYUP;
    if (target?.closest(`[${elementAttr}]`)?.closest(`.${ROOT_CLASS}`)) return;
    if (target && isEditable(target) && !target.closest(`.${ROOT_CLASS}`)) return;
    windowEvents.add(e);
    const attr = e.type === "keydown" ? PHX_WINDOW_KEYDOWN : PHX_WINDOW_KEYUP;
    for (const el of Array.from(root.querySelectorAll(`[${attr}]`))) {
      if (inChild(root, el)) continue;
      const binding = el.getAttribute(attr);
      if (binding && keyMatches(el, e as KeyboardEvent)) sendKey(el, binding, e as KeyboardEvent);
    }
  };

  /** focusin / focusout bubble (focus / blur do not); the focused element itself must be bound. */
  const onFocusChange = (e: Event) => {
    const el = e.target;
    if (!(el instanceof Element) || !root.contains(el)) return;
    const blur = e.type === "focusout";
    if (blur) limiter.blurred(el); // a pending debounced event goes first
    const binding = el.getAttribute(blur ? PHX_BLUR : PHX_FOCUS);
    if (!binding) return;
    const kind = blur ? KIND_BLUR : KIND_FOCUS;
    fire(binding, el, e, (event, args) =>
      push(kind, kind, event, { ...valuesWithValue(el), ...args.value }, el, args, [el]),
    );
  };

  const listeners: [string, (e: Event) => void][] = [
    ["click", onClick],
    ["input", onChange],
    ["change", onChange],
    ["submit", onSubmit],
    ["keydown", onKey],
    ["keyup", onKey],
    ["focusin", onFocusChange],
    ["focusout", onFocusChange],
  ];
  const windowListeners: [string, (e: Event) => void][] = [
    ["keydown", onWindowKey],
    ["keyup", onWindowKey],
  ];
  const win = root.ownerDocument.defaultView;
  for (const entry of listeners) {
    const fn = entry[1];
    entry[1] = (e: Event) => {
      if (!inChild(root, e.target as Node | null)) fn(e);
    };
  }
  for (const [type, fn] of listeners) root.addEventListener(type, fn);
  for (const [type, fn] of windowListeners) win?.addEventListener(type, fn, true);
  return () => {
    for (const [type, fn] of listeners) root.removeEventListener(type, fn);
    for (const [type, fn] of windowListeners) win?.removeEventListener(type, fn, true);
    limiter.dispose();
  };
}

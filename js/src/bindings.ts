/**
 * phx-* event bindings, by delegation: one listener per event type on the
 * widget's root, so elements that patches add or replace need no wiring.
 *
 * Each binding becomes one event message (see EventMessage in constants.ts):
 *
 *   phx-click="inc" phx-value-by="2"        click   "inc"  {"by": "2"}
 *   <form phx-change="validate">             form    "validate"  "q=ab&_target=q"
 *   <form phx-submit="save">                 form    "save"  "q=ab"
 *   phx-keydown="key" phx-key="Enter"        keydown "key"  {"key": "Enter", ...phx-value-*}
 *
 * and `phx-target="3"` on the bound element sends cid 3 (a component), else null.
 * Names and payload shapes are Phoenix LiveView's.
 */
import {
  CID,
  EVENT,
  type EventKind,
  type EventMessage,
  FORM_TARGET,
  KIND,
  KIND_CLICK,
  KIND_FORM,
  MSG_EVENT,
  PHX_CHANGE,
  PHX_CLICK,
  PHX_KEY,
  PHX_KEYDOWN,
  PHX_KEYUP,
  PHX_SUBMIT,
  PHX_TARGET,
  PHX_VALUE_PREFIX,
  TYPE,
  VALUE,
} from "./constants";

export type PushEvent = (message: EventMessage) => void;

type FormControl = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** Listen on `root`; returns a function that removes every listener. */
export function bindEvents(root: HTMLElement, pushEvent: PushEvent): () => void {
  const push = (kind: EventKind, event: string, value: EventMessage[typeof VALUE], el: Element) =>
    pushEvent({ [TYPE]: MSG_EVENT, [KIND]: kind, [EVENT]: event, [VALUE]: value, [CID]: cidOf(el) });

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
    push(KIND_CLICK, el.getAttribute(PHX_CLICK) ?? "", phxValues(el), el);
  };

  // Browsers fire "input" per keystroke and "change" when a text field loses
  // focus; as Phoenix does, a "change" right after an "input" of the same
  // control is a repeat and is dropped.
  let iteration = 0;
  const lastEvent = new WeakMap<Element, { at: number; type: string }>();
  const onChange = (e: Event) => {
    const control = e.target;
    if (!isFormControl(control)) return;
    const event = control.getAttribute(PHX_CHANGE) ?? control.form?.getAttribute(PHX_CHANGE);
    if (!event) return;
    const at = iteration++;
    const previous = lastEvent.get(control);
    lastEvent.set(control, { at, type: e.type });
    if (e.type === "change" && previous?.type === "input" && previous.at === at - 1) return;
    const data = control.form ? formParams(control.form) : controlParams(control);
    if (control.name) data.append(FORM_TARGET, control.name);
    const dispatcher = control.hasAttribute(PHX_CHANGE) ? control : (control.form as HTMLFormElement);
    push(KIND_FORM, event, data.toString(), dispatcher);
  };

  const onSubmit = (e: Event) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !root.contains(form)) return;
    const event = form.getAttribute(PHX_SUBMIT);
    if (!event) return;
    e.preventDefault();
    const submitter = (e as SubmitEvent).submitter ?? null;
    push(KIND_FORM, event, formParams(form, submitter).toString(), form);
  };

  const onKey = (e: Event) => {
    const kind = e.type === "keydown" ? "keydown" : "keyup";
    const el = bound(e, kind === "keydown" ? PHX_KEYDOWN : PHX_KEYUP);
    if (!el) return;
    const key = (e as KeyboardEvent).key;
    const only = el.getAttribute(PHX_KEY);
    if (only && only.toLowerCase() !== key?.toLowerCase()) return;
    const event = el.getAttribute(kind === "keydown" ? PHX_KEYDOWN : PHX_KEYUP) ?? "";
    push(kind, event, { key, ...phxValues(el) }, el);
  };

  const listeners: [string, (e: Event) => void][] = [
    ["click", onClick],
    ["input", onChange],
    ["change", onChange],
    ["submit", onSubmit],
    ["keydown", onKey],
    ["keyup", onKey],
  ];
  for (const [type, fn] of listeners) root.addEventListener(type, fn);
  return () => {
    for (const [type, fn] of listeners) root.removeEventListener(type, fn);
  };
}

/** The phx-value-* attributes of `el`, prefix removed. */
export function phxValues(el: Element): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { name, value } of Array.from(el.attributes)) {
    if (name.startsWith(PHX_VALUE_PREFIX)) values[name.slice(PHX_VALUE_PREFIX.length)] = value;
  }
  return values;
}

/** phx-target as a component id; a selector or nothing means the view itself (null). */
function cidOf(el: Element): number | null {
  const target = el.getAttribute(PHX_TARGET);
  return target !== null && /^\d+$/.test(target.trim()) ? Number(target) : null;
}

function isFormControl(el: EventTarget | null): el is FormControl {
  return (
    el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement
  );
}

/** The form as the browser would submit it; files are sent by name only. */
function formParams(form: HTMLFormElement, submitter: HTMLElement | null = null): URLSearchParams {
  let data: FormData;
  try {
    data = new FormData(form, submitter);
  } catch {
    data = new FormData(form); // the submitter is not a submit button of this form
  }
  const params = new URLSearchParams();
  for (const [name, value] of data) params.append(name, typeof value === "string" ? value : value.name);
  return params;
}

/** A control outside any form (with its own phx-change) sends just itself. */
function controlParams(control: FormControl): URLSearchParams {
  const params = new URLSearchParams();
  if (control.name) params.append(control.name, control.value);
  return params;
}

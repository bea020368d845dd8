/**
 * Phoenix LiveView JS commands: a binding whose value starts with "[" is a JSON list of
 * commands, as Phoenix.LiveView.JS encodes them, run in the browser:
 *
 *     phx-click='[["push",{"event":"inc","value":{"by":1}}],["toggle",{"to":"#menu"}]]'
 *
 * Supported, with Phoenix's argument names (phoenix_live_view js.js):
 *
 *     push          {event, value, target, loading}   send the binding's event (see ExecContext.push)
 *     show / hide   {to, display}                     display: the value to show with ("block")
 *     toggle        {to, display}
 *     add_class / remove_class / toggle_class   {to, names}
 *     set_attr {to, attr: [name, value]}   remove_attr {to, attr: name}
 *     toggle_attr {to, attr: [name, v1]  or  [name, v1, v2]}
 *     dispatch      {to, event, detail, bubbles}     detail.dispatcher is the source element
 *     focus / focus_first {to}
 *     exec          {attr, to}                       run the commands in attribute `attr` of `to`
 *     transition    accepted and ignored
 *
 * What commands may not do, whoever wrote them (a template lets data become an event name,
 * never commands; see livewidget/contexts.py). A list that holds one of these is refused
 * whole, reported, and none of it runs:
 *
 *   - set_attr / toggle_attr of an event-handler attribute (`on*`, any case) or `srcdoc`;
 *   - set_attr / toggle_attr of a URL attribute (href, src, action, formaction, xlink:href,
 *     srcset, ping, data-src..., and `to` / `from` / `by` / `values`, which SVG animation
 *     copies into another attribute) to a URL whose scheme is not http(s), mailto or tel, or a
 *     raster data:image (`javascript:`, `data:text/html`, `vbscript:`...);
 *   - exec of an attribute that is not a phx-* binding: bindings are the attributes that
 *     templates keep data out of, so `exec` never runs data (Phoenix's `data-cancel` pattern
 *     becomes `phx-cancel`).
 *
 * setAttribute / toggleAttribute (also hooks' `this.js()`) throw for the first two.
 * Transitions (`transition`, `ins`/`outs`, `time`, `blocking`) are ignored: classes and
 * visibility change at once. Commands run synchronously (Phoenix waits an animation frame).
 *
 * `to` is a selector (or `{"closest": sel}`, `{"inner": sel}`), resolved **within the widget's
 * root**: Phoenix queries the whole document, but a notebook shows many widgets (and several
 * views of one widget), and a document-wide `#menu` would reach into another widget.
 * Without `to`, a command acts on the element whose binding ran.
 *
 * Changes made by commands are "sticky", as in Phoenix: each element remembers the last
 * display, classes and attributes set on it, and dom_patch re-applies them to the incoming
 * element (applySticky) so a later render of that element does not undo them.
 */
import {
  PHX_DEBOUNCE,
  PHX_DISABLE_WITH,
  PHX_HOOK,
  PHX_KEY,
  PHX_TARGET,
  PHX_THROTTLE,
  PHX_UPDATE,
  PHX_VALUE_PREFIX,
} from "./constants";
import { errorText, excerpt, isObject, type Obj, openTag, repr } from "./util";

/** A JS "push": the binding decides what it carries (a click's values, a form, a key...). */
export interface PushArgs {
  event?: string | undefined;
  value?: Obj | undefined;
  target?: unknown;
  /** A selector: these elements show the in-flight state too (phx-<type>-loading). */
  loading?: string | undefined;
}

export interface ExecContext {
  /** The widget root: `to` selectors resolve inside it. */
  root: Element;
  /** The element whose binding (or hook) runs the commands. */
  source: Element;
  /** The event that ran the binding, if any. */
  event?: Event | undefined;
  /** Send the binding's event to the kernel with these arguments. */
  push(args: PushArgs): void;
  /** A command that cannot run: say why (the rest still run). */
  report(message: string): void;
}

/** True if a binding's value is JS commands rather than an event name. */
export function isEncodedJS(value: string | null): value is string {
  return value !== null && value.trimStart().startsWith("[");
}

const MAX_EXEC_DEPTH = 8;
let depth = 0; // exec commands running now, one inside the other

/** Run encoded commands (the JSON text of a binding, or its parsed list). */
export function exec(encoded: string | unknown[], ctx: ExecContext): void {
  let commands: unknown;
  try {
    commands = typeof encoded === "string" ? JSON.parse(encoded) : encoded;
  } catch (err) {
    return ctx.report(
      `livewidget: a binding that starts with "[" must be a JSON list of JS commands, ` +
        `got ${excerpt(String(encoded))} (${errorText(err)})`,
    );
  }
  if (!Array.isArray(commands)) {
    return ctx.report(`livewidget: expected a list of JS commands, got ${repr(commands)}`);
  }
  const refused = commands.map(refusal).filter((reason): reason is string => reason !== null);
  if (refused.length > 0) {
    return ctx.report(
      `livewidget: JS commands refused, none of them ran: ${refused.join("; ")}. In ${excerpt(String(encoded))}`,
    );
  }
  if (depth >= MAX_EXEC_DEPTH) {
    return ctx.report(`livewidget: JS "exec" nested deeper than ${MAX_EXEC_DEPTH} (does it run itself?)`);
  }
  for (const command of commands) {
    if (!Array.isArray(command) || typeof command[0] !== "string" || !isObject(command[1] ?? {})) {
      ctx.report(`livewidget: expected a JS command ["name", {args}], got ${repr(command)}`);
      continue;
    }
    const [kind, args = {}] = command as [string, Obj | undefined];
    try {
      run(kind, args, ctx);
    } catch (err) {
      ctx.report(`livewidget: JS command ${repr(command)} failed: ${errorText(err)}`);
    }
  }
}

function run(kind: string, args: Obj, ctx: ExecContext): void {
  if (kind === "push") {
    return ctx.push({
      event: str(args.event),
      value: isObject(args.value) ? args.value : undefined,
      target: args.target,
      loading: str(args.loading),
    });
  }
  const command = COMMANDS[kind];
  if (!command) {
    return ctx.report(
      `livewidget: JS command "${kind}" is not supported; supported: push, ${Object.keys(COMMANDS).join(", ")}`,
    );
  }
  for (const el of targets(args.to, ctx)) command(el, args, ctx);
}

type Command = (el: Element, args: Obj, ctx: ExecContext) => void;

const COMMANDS: Record<string, Command> = {
  show: (el, { display }) => show(el, str(display)),
  hide: (el) => hide(el),
  toggle: (el, { display }) => toggle(el, str(display)),
  add_class: (el, { names }) => addClass(el, classNames(names)),
  remove_class: (el, { names }) => removeClass(el, classNames(names)),
  toggle_class: (el, { names }) => toggleClass(el, classNames(names)),
  set_attr: (el, { attr }) => {
    const [name, value] = attrArgs(attr, 2);
    setAttribute(el, name, value ?? "");
  },
  remove_attr: (el, { attr }) => removeAttribute(el, typeof attr === "string" ? attr : attrArgs(attr, 1)[0]),
  toggle_attr: (el, { attr }) => {
    const [name, v1, v2] = attrArgs(attr, 2);
    toggleAttribute(el, name, v1 ?? "", v2);
  },
  dispatch: (el, { event, detail, bubbles }, ctx) => {
    if (typeof event !== "string" || !event) throw new TypeError(`dispatch needs an "event" name`);
    const init = {
      bubbles: bubbles === undefined ? true : Boolean(bubbles),
      cancelable: true,
      detail: { ...(isObject(detail) ? detail : {}), dispatcher: ctx.source },
    };
    const view = el.ownerDocument.defaultView;
    const Custom = view?.CustomEvent ?? CustomEvent;
    const Mouse = view?.MouseEvent ?? MouseEvent;
    // A "click" is a real MouseEvent (so phx-click and native behaviour see it); it has no detail.
    el.dispatchEvent(
      event === "click" ? new Mouse("click", { bubbles: init.bubbles, cancelable: true }) : new Custom(event, init),
    );
  },
  focus: (el) => (el as HTMLElement).focus?.(),
  focus_first: (el) => {
    const first = el.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
  },
  exec: (el, { attr }, ctx) => {
    if (typeof attr !== "string") throw new TypeError(`exec needs an "attr" name`);
    const encoded = el.getAttribute(attr);
    if (!encoded) throw new Error(`expected ${attr} to hold JS commands on ${openTag(el)}`);
    depth += 1;
    try {
      exec(encoded, { ...ctx, source: el });
    } finally {
      depth -= 1;
    }
  },
  transition: () => {}, // transitions are not supported: nothing to do
};

const FOCUSABLE =
  "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), " +
  "textarea:not([disabled]), [tabindex]:not([tabindex='-1']), [contenteditable=true]";

function targets(to: unknown, ctx: ExecContext): Element[] {
  if (to === undefined || to === null) return [ctx.source];
  if (typeof to === "string") return Array.from(ctx.root.querySelectorAll(to));
  if (isObject(to) && typeof to.closest === "string") {
    const el = ctx.source.closest(to.closest);
    return el && ctx.root.contains(el) ? [el] : [];
  }
  if (isObject(to) && typeof to.inner === "string") return Array.from(ctx.source.querySelectorAll(to.inner));
  throw new TypeError(`"to" must be a selector, {"closest": selector} or {"inner": selector}, got ${repr(to)}`);
}

// --- sticky operations ----------------------------------------------------------------

type Op = (el: Element) => unknown;
interface Sticky {
  op: Op;
  stash: unknown;
}
const stickies = new WeakMap<Element, Map<string, Sticky>>();

function putSticky(el: Element, name: string, op: Op): void {
  const stash = op(el);
  let ops = stickies.get(el);
  if (!ops) stickies.set(el, (ops = new Map()));
  ops.set(name, { op, stash });
}

function getSticky<T>(el: Element, name: string, fallback: T): T {
  const found = stickies.get(el)?.get(name);
  return found ? (found.stash as T) : fallback;
}

/** Re-apply what JS commands did to `from` onto `to`, the element a patch turns it into. */
export function applySticky(from: Element, to: Element): void {
  const ops = stickies.get(from);
  if (ops) for (const { op } of ops.values()) op(to);
}

// --- the operations (also hooks' `this.js()`) --------------------------------------------

const style = (el: Element): CSSStyleDeclaration | undefined => (el as HTMLElement).style;

/** Visible unless its own display is "none" (Phoenix measures layout; a hidden ancestor is not seen here). */
export function isVisible(el: Element): boolean {
  if (style(el)?.display === "none") return false;
  const view = el.ownerDocument.defaultView;
  return !view || view.getComputedStyle(el).display !== "none";
}

function defaultDisplay(el: Element): string {
  return { TR: "table-row", TD: "table-cell" }[el.tagName] ?? "block";
}

function setDisplay(el: Element, display: string, phase: "show" | "hide"): void {
  el.dispatchEvent(new Event(`phx:${phase}-start`));
  putSticky(el, "toggle", (current) => {
    const s = style(current);
    if (s) s.display = display;
  });
  el.dispatchEvent(new Event(`phx:${phase}-end`));
}

export function show(el: Element, display?: string): void {
  if (!isVisible(el)) setDisplay(el, display || defaultDisplay(el), "show");
}

export function hide(el: Element): void {
  if (isVisible(el)) setDisplay(el, "none", "hide");
}

export function toggle(el: Element, display?: string): void {
  if (isVisible(el)) hide(el);
  else show(el, display);
}

export function addClass(el: Element, names: string[]): void {
  addOrRemoveClasses(el, names, []);
}

export function removeClass(el: Element, names: string[]): void {
  addOrRemoveClasses(el, [], names);
}

export function toggleClass(el: Element, names: string[]): void {
  addOrRemoveClasses(
    el,
    names.filter((n) => !el.classList.contains(n)),
    names.filter((n) => el.classList.contains(n)),
  );
}

/** Phoenix's rule: a class the server already set is not made sticky by adding it again. */
function addOrRemoveClasses(el: Element, adds: string[], removes: string[]): void {
  const [prevAdds, prevRemoves] = getSticky<[string[], string[]]>(el, "classes", [[], []]);
  const keepAdds = adds.filter((n) => !prevAdds.includes(n) && !el.classList.contains(n));
  const keepRemoves = removes.filter((n) => !prevRemoves.includes(n) && el.classList.contains(n));
  const newAdds = prevAdds.filter((n) => !removes.includes(n)).concat(keepAdds);
  const newRemoves = prevRemoves.filter((n) => !adds.includes(n)).concat(keepRemoves);
  putSticky(el, "classes", (current) => {
    current.classList.remove(...newRemoves);
    current.classList.add(...newAdds);
    return [newAdds, newRemoves];
  });
}

export function setAttribute(el: Element, name: string, value: string): void {
  const reason = attributeRefusal(name, value);
  if (reason) throw new Error(reason);
  setOrRemoveAttrs(el, [[name, value]], []);
}

export function removeAttribute(el: Element, name: string): void {
  setOrRemoveAttrs(el, [], [name]);
}

export function toggleAttribute(el: Element, name: string, v1: string, v2?: string): void {
  const reason = attributeRefusal(name, v1) ?? (v2 === undefined ? null : attributeRefusal(name, v2));
  if (reason) throw new Error(reason);
  if (!el.hasAttribute(name)) setAttribute(el, name, v1);
  else if (v2 === undefined) removeAttribute(el, name);
  else setAttribute(el, name, el.getAttribute(name) === v1 ? v2 : v1);
}

function setOrRemoveAttrs(el: Element, sets: [string, string][], removes: string[]): void {
  const [prevSets, prevRemoves] = getSticky<[[string, string][], string[]]>(el, "attrs", [[], []]);
  const altered = sets.map(([name]) => name).concat(removes);
  const newSets = prevSets.filter(([name]) => !altered.includes(name)).concat(sets);
  const newRemoves = prevRemoves.filter((name) => !altered.includes(name)).concat(removes);
  putSticky(el, "attrs", (current) => {
    for (const name of newRemoves) current.removeAttribute(name);
    for (const [name, value] of newSets) current.setAttribute(name, value);
    return [newSets, newRemoves];
  });
}

// --- what commands may not do (the same rules as livewidget/contexts.py) ------------------

/** Attributes whose value is a URL (Go's html/template list); see urlSeparator. */
const URL_ATTRIBUTES = new Set([
  "action",
  "archive",
  "background",
  "cite",
  "classid",
  "codebase",
  "data",
  "dynsrc",
  "formaction",
  "href",
  "icon",
  "longdesc",
  "lowsrc",
  "manifest",
  "ping",
  "poster",
  "profile",
  "src",
  "srcset",
  "usemap",
  "xmlns",
]);
const URL_LISTS: Record<string, string> = { srcset: ",", imagesrcset: ",", ping: " ", values: ";" };
/** SVG <animate>/<set> copy these into another attribute (attributeName="href"). */
const ANIMATION_VALUES = new Set(["to", "from", "by", "values"]);
const SAFE_SCHEMES = new Set(["http", "https", "mailto", "tel"]);
const SAFE_DATA = /^data:image\/(png|gif|jpeg|jpg|webp|avif|bmp|x-icon)[;,]/i;

/** phx-* attributes with plain values; every other phx-* attribute is a binding. */
const PHX_PLAIN = new Set([
  PHX_TARGET,
  PHX_KEY,
  PHX_DEBOUNCE,
  PHX_THROTTLE,
  PHX_DISABLE_WITH,
  PHX_HOOK,
  PHX_UPDATE,
  "phx-trigger-action",
  "phx-page-loading",
  "phx-feedback-for",
  "phx-feedback-group",
  "phx-track-static",
  "phx-no-feedback",
]);

/** True for a phx-* attribute that may hold JS commands (phx-click, phx-change, phx-cancel...). */
export function isBindingAttribute(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("phx-") && !lower.startsWith(PHX_VALUE_PREFIX) && !PHX_PLAIN.has(lower);
}

/** For a URL-valued attribute, how its URLs are separated ("" for one URL); else null. */
function urlSeparator(name: string): string | null {
  let local = name.toLowerCase();
  if (local.startsWith("phx-")) return null;
  if (local.includes(":") && !local.startsWith("xmlns")) local = local.slice(local.indexOf(":") + 1);
  if (local.startsWith("data-")) local = local.slice(5);
  if (
    ANIMATION_VALUES.has(local) ||
    URL_ATTRIBUTES.has(local) ||
    ["src", "uri", "url"].some((part) => local.includes(part))
  ) {
    return URL_LISTS[local] ?? "";
  }
  return null;
}

/** False if following `url` could run script (as the browser's URL parser reads its scheme). */
export function isSafeUrl(url: string): boolean {
  // The URL parser strips C0 controls and spaces around the URL and drops tabs and newlines.
  const cleaned = url.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "").replace(/[\t\n\r]/g, "");
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(cleaned);
  if (!match) return true;
  const scheme = (match[1] as string).toLowerCase();
  return SAFE_SCHEMES.has(scheme) || (scheme === "data" && SAFE_DATA.test(cleaned));
}

function urlsIn(value: string, separator: string): string[] {
  if (separator === "") return [value];
  // srcset "url 1x, url 2x", ping "url url": every word, descriptors too (they hold no scheme)
  if (separator === "," || separator === " ") return value.split(/[\s,]+/);
  return value.split(separator);
}

/** Why setting attribute `name` to `value` is refused, or null if it is not. */
export function attributeRefusal(name: string, value: string | undefined): string | null {
  const lower = name.toLowerCase();
  if (lower.startsWith("on")) {
    return `JS commands never set event-handler attributes ("${name}"): they run script; use a binding (phx-click) or a hook`;
  }
  if (lower === "srcdoc") return `JS commands never set "srcdoc": it is a whole HTML document`;
  const separator = urlSeparator(name);
  if (separator !== null && value !== undefined && !urlsIn(value, separator).every(isSafeUrl)) {
    return (
      `JS commands never set "${name}" to a URL that can run script (${repr(value)}); ` +
      "allowed: http(s), mailto, tel, relative and data:image URLs"
    );
  }
  return null;
}

/** Why a whole list must not run because of `command`, or null. Malformed ones fail later. */
function refusal(command: unknown): string | null {
  if (!Array.isArray(command) || !isObject(command[1])) return null;
  const [kind, { attr }] = command as [unknown, Obj];
  if ((kind === "set_attr" || kind === "toggle_attr") && Array.isArray(attr) && typeof attr[0] === "string") {
    const values = attr.slice(1).filter((v): v is string => typeof v === "string");
    for (const value of values.length > 0 ? values : [""]) {
      const reason = attributeRefusal(attr[0], value);
      if (reason) return reason;
    }
  }
  if (kind === "exec" && typeof attr === "string" && !isBindingAttribute(attr)) {
    return `exec reads only phx-* binding attributes (phx-click, phx-cancel...), not "${attr}", which may hold data`;
  }
  return null;
}

// --- argument helpers -------------------------------------------------------------------

function classNames(names: unknown): string[] {
  if (typeof names === "string") return names.split(/\s+/).filter(Boolean);
  if (Array.isArray(names) && names.every((n) => typeof n === "string")) return names.filter(Boolean);
  throw new TypeError(`"names" must be a list of class names, got ${repr(names)}`);
}

function attrArgs(attr: unknown, min: number): [string, ...(string | undefined)[]] {
  if (Array.isArray(attr) && attr.length >= min && attr.every((a) => typeof a === "string")) {
    return attr as [string, ...string[]];
  }
  throw new TypeError(`"attr" must be a list of at least ${min} strings, got ${repr(attr)}`);
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

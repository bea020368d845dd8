/**
 * phx-hook: JavaScript that runs with an element's life, as in Phoenix LiveView.
 *
 * The registry comes from Python as source text, the widget's `_hooks` trait: an ES module
 * whose default export maps hook names to hook objects.
 *
 *     export default {
 *       Chart: {
 *         mounted() { this.chart = draw(this.el); this.handleEvent("points", (p) => this.chart.add(p)); },
 *         updated() { this.chart.resize(); },
 *         destroyed() { this.chart.dispose(); },
 *       },
 *     };
 *
 * It is imported once per model and source (a Blob URL, or a data: URL where Blob modules
 * cannot load), so it may import absolute URLs (`https://esm.sh/...`) but not relative paths.
 *
 * An element `<div id="chart" phx-hook="Chart">` (the id is required and must be unique) gets
 * its own copy of the hook object, with `this.el` and the methods below, and its callbacks:
 *
 *     mounted()           after the patch that added the element (or once the registry loads)
 *     beforeUpdate(toEl)  before a patch changes the element or anything inside it
 *     updated()           after that patch (not after patches that leave it unchanged)
 *     destroyed()         after the patch that removed it, or when the view goes away
 *
 * Within a patch, destroyed() calls come first, then mounted() and updated() in document order.
 * Changing an element's phx-hook destroys the old hook and mounts the new one.
 *
 *     this.pushEvent(event, payload = {}, onReply?)   an event of kind "hook" to the kernel;
 *         value: payload (a JSON object), cid: the element's numeric phx-target or null.
 *         onReply(reply, ref) (or the returned promise) follows the in-flight rule of
 *         in_flight.ts: the next render, error or 5 s; reply is always {} (the kernel has no
 *         replies). The element has the class phx-hook-loading meanwhile.
 *     this.pushEventTo(cid, event, payload = {}, onReply?)   the same, to component `cid`.
 *     this.handleEvent(event, callback) -> ref   callback(payload) for each
 *         socket.push_event(event, payload) of this widget's view
 *     this.removeHandleEvent(ref)
 *     this.js()   exec(encodedJS), show, hide, toggle, addClass, removeClass, toggleClass,
 *                 setAttribute, removeAttribute, toggleAttribute (see js_commands.ts)
 *
 * An error thrown by a callback is shown in the widget's banner; the view carries on.
 */
import { inChild } from "./children";
import {
  CID,
  EVENT,
  type EventMessage,
  HOOKS_TRAIT,
  KIND,
  KIND_HOOK,
  MSG_EVENT,
  PHX_HOOK,
  TYPE,
  VALUE,
} from "./constants";
import type { InFlightSpec } from "./in_flight";
import * as JS from "./js_commands";
import { asCid, cidOf, valuesWithValue } from "./payloads";
import { errorText, isObject, openTag, repr } from "./util";

/** A hook object of the registry; any other property is copied onto each hook, as in Phoenix. */
export interface HookDefinition {
  mounted?(): void;
  beforeUpdate?(toEl: Element): void;
  updated?(): void;
  destroyed?(): void;
  [key: string]: unknown;
}

export type HookRegistry = Readonly<Record<string, HookDefinition>>;

/** What hooks need of the widget. */
export interface HookHost {
  /** Send an event message, showing `spec` as in flight; returns its ref. */
  push(message: EventMessage, spec: InFlightSpec): number;
  /** Run `fn` once event `ref` is answered. */
  onAnswer(ref: number, fn: () => void): void;
  /** Show an error in the view. */
  report(message: string): void;
}

export type OnReply = (reply: Record<string, never>, ref: number) => void;
export interface HandlerRef {
  event: string;
  callback: (payload: unknown) => unknown;
}

// --- the registry ------------------------------------------------------------------------

/** Import ES module source: a Blob URL first, a data: URL where that fails (no Blob modules). */
export async function importSource(source: string): Promise<unknown> {
  let url: string | null = null;
  try {
    url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    return await import(/* @vite-ignore */ url);
  } catch {
    return await import(/* @vite-ignore */ `data:text/javascript;charset=utf-8,${encodeURIComponent(source)}`);
  } finally {
    if (url) URL.revokeObjectURL(url);
  }
}

/** The hook registry of `_hooks` source text ("" means no hooks). */
export async function loadHooks(
  source: string,
  importModule: (source: string) => Promise<unknown> = importSource,
): Promise<HookRegistry> {
  if (source.trim() === "") return {};
  const module = await importModule(source);
  const registry = isObject(module) ? module.default : undefined;
  if (!isObject(registry)) {
    throw new TypeError(
      `the ${HOOKS_TRAIT} module must \`export default\` an object mapping hook names to hook objects, ` +
        `got a default export of ${repr(registry)}`,
    );
  }
  for (const [name, hook] of Object.entries(registry)) {
    if (!isObject(hook)) {
      throw new TypeError(`hook "${name}" in ${HOOKS_TRAIT} must be an object of callbacks, got ${repr(hook)}`);
    }
  }
  return registry as HookRegistry;
}

// --- hooks of one view -------------------------------------------------------------------

interface Mounted {
  name: string;
  hook: Hook;
}

type Callback = "mounted" | "beforeUpdate" | "updated" | "destroyed";

const PROTECTED = new Set(["el", "pushEvent", "pushEventTo", "handleEvent", "removeHandleEvent", "js"]);

export class ViewHooks {
  private registry: HookRegistry | null = null;
  private readonly mounted = new Map<Element, Mounted>();
  private readonly changed = new Set<Element>();
  /** Elements already reported (bad id, unknown hook), so a patch does not repeat it. */
  private readonly reported = new WeakMap<Element, string>();

  constructor(
    private readonly root: Element,
    private readonly host: HookHost,
  ) {}

  /** The registry is (re)loaded: hooks not yet mounted mount now. Mounted ones keep theirs. */
  setRegistry(registry: HookRegistry): void {
    this.registry = registry;
    this.sync();
  }

  /** From dom_patch, before `fromEl` becomes `toEl`. */
  beforeElUpdated(
    fromEl: Element,
    toEl: Element,
    ignored: boolean,
    same: () => boolean = () => fromEl.isEqualNode(toEl), // dom_patch's, placeholders and all
  ): void {
    const entry = this.mounted.get(fromEl);
    if (!entry || toEl.getAttribute(PHX_HOOK) !== entry.name) return; // sync() remounts
    const changed = ignored ? !sameData(fromEl, toEl) : !same();
    if (!changed) return;
    this.call(entry, "beforeUpdate", toEl);
    this.changed.add(fromEl);
  }

  /** After a patch: destroy the hooks whose element went, mount new ones, tell the changed ones. */
  sync(): void {
    if (!this.registry) return;
    const present = Array.from(this.root.querySelectorAll(`[${PHX_HOOK}]`)).filter(
      (el) => !inChild(this.root, el), // a child widget's hooks are its own (children.ts)
    );
    const here = new Set(present);
    for (const [el, entry] of Array.from(this.mounted)) {
      if (!here.has(el) || el.getAttribute(PHX_HOOK) !== entry.name) this.destroy(el, entry);
    }
    for (const el of present) {
      const entry = this.mounted.get(el);
      if (!entry) this.mount(el);
      else if (this.changed.has(el)) this.call(entry, "updated");
    }
    this.changed.clear();
  }

  /** A push_event from the kernel: every handleEvent callback for `event`. */
  dispatch(event: string, payload: unknown): void {
    for (const entry of Array.from(this.mounted.values())) {
      for (const ref of Array.from(Hook.handlersOf(entry.hook))) {
        if (ref.event !== event) continue;
        try {
          ref.callback(payload);
        } catch (err) {
          this.host.report(`livewidget: hook "${entry.name}" handleEvent("${event}") threw: ${errorText(err, true)}`);
        }
      }
    }
  }

  /** The view goes away: every hook is destroyed. */
  destroyAll(): void {
    for (const [el, entry] of Array.from(this.mounted)) this.destroy(el, entry);
  }

  private mount(el: Element): void {
    const name = el.getAttribute(PHX_HOOK);
    if (!name || !this.registry) return;
    if (!el.id) {
      return this.reportOnce(
        el,
        name,
        `livewidget: phx-hook="${name}" needs a unique id on its element (hooks follow their element ` +
          `by id across patches), got ${openTag(el)}`,
      );
    }
    const own = Object.hasOwn(this.registry, name);
    const definition = own ? this.registry[name] : undefined;
    if (!definition) {
      const known = Object.keys(this.registry).map((k) => `"${k}"`);
      const where = known.length
        ? `the ${HOOKS_TRAIT} module defines ${known.join(", ")}`
        : `the widget's ${HOOKS_TRAIT} is empty (set it to an ES module whose default export ` +
          `maps "${name}" to a hook object)`;
      return this.reportOnce(el, name, `livewidget: unknown hook "${name}" on ${openTag(el)}; ${where}`);
    }
    const hook = new Hook(el, this.root, this.host);
    for (const key of Object.keys(definition)) {
      if (PROTECTED.has(key)) console.warn(`livewidget: hook "${name}" overrides its "${key}"`);
      (hook as unknown as Record<string, unknown>)[key] = definition[key];
    }
    const entry = { name, hook };
    this.mounted.set(el, entry);
    this.call(entry, "mounted");
  }

  private destroy(el: Element, entry: Mounted): void {
    this.mounted.delete(el);
    this.changed.delete(el);
    this.call(entry, "destroyed");
    Hook.handlersOf(entry.hook).clear();
  }

  private call(entry: Mounted, callback: Callback, ...args: unknown[]): void {
    const fn: unknown = (entry.hook as unknown as Record<string, unknown>)[callback];
    if (typeof fn !== "function") return;
    try {
      fn.apply(entry.hook, args);
    } catch (err) {
      const where = `hook "${entry.name}" (#${entry.hook.el.id})`;
      this.host.report(`livewidget: ${where} ${callback}() threw: ${errorText(err, true)}`);
    }
  }

  private reportOnce(el: Element, name: string, message: string): void {
    if (this.reported.get(el) === name) return;
    this.reported.set(el, name);
    this.host.report(message);
  }
}

/** `this` inside a hook's callbacks. */
class Hook {
  readonly el: Element;
  readonly #root: Element;
  readonly #host: HookHost;
  readonly #handlers = new Set<HandlerRef>();

  constructor(el: Element, root: Element, host: HookHost) {
    this.el = el;
    this.#root = root;
    this.#host = host;
  }

  pushEvent(event: string, payload?: unknown, onReply?: OnReply): Promise<unknown> | void {
    const ref = this.#push(cidOf(this.el), "pushEvent", event, payload);
    return this.#answer(ref, onReply, () => ({}));
  }

  pushEventTo(cid: unknown, event: string, payload?: unknown, onReply?: OnReply): Promise<unknown> | void {
    const target = asCid(cid);
    if (target === null) {
      throw new TypeError(
        `pushEventTo(cid, event, payload) takes a component id (the component's \`myself\`, a number), ` +
          `got ${repr(cid)}; livewidget cannot find a component from a selector or element`,
      );
    }
    const ref = this.#push(target, "pushEventTo", event, payload);
    // Phoenix resolves pushEventTo to one settled result per target.
    return this.#answer(ref, onReply, () => [{ status: "fulfilled", value: { reply: {}, ref } }]);
  }

  handleEvent(event: string, callback: (payload: unknown) => unknown): HandlerRef {
    if (typeof event !== "string" || typeof callback !== "function") {
      throw new TypeError(
        `handleEvent(event, callback) takes a string and a function, got ${repr(event)}, ${repr(callback)}`,
      );
    }
    const ref = { event, callback };
    this.#handlers.add(ref);
    return ref;
  }

  removeHandleEvent(ref: HandlerRef): void {
    this.#handlers.delete(ref);
  }

  js() {
    const names = (n: string | string[]) => (Array.isArray(n) ? n : n.split(/\s+/).filter(Boolean));
    return {
      exec: (encoded: string | unknown[]) =>
        JS.exec(encoded, {
          root: this.#root,
          source: this.el,
          push: (args) => {
            if (!args.event) return this.#host.report(`livewidget: a JS "push" needs an "event" name`);
            const cid = args.target !== undefined && args.target !== null ? asCid(args.target) : cidOf(this.el);
            this.#send(cid, args.event, { ...valuesWithValue(this.el), ...args.value });
          },
          report: (message) => this.#host.report(message),
        }),
      show: (el: Element, opts: { display?: string } = {}) => JS.show(el, opts.display),
      hide: (el: Element) => JS.hide(el),
      toggle: (el: Element, opts: { display?: string } = {}) => JS.toggle(el, opts.display),
      addClass: (el: Element, n: string | string[]) => JS.addClass(el, names(n)),
      removeClass: (el: Element, n: string | string[]) => JS.removeClass(el, names(n)),
      toggleClass: (el: Element, n: string | string[]) => JS.toggleClass(el, names(n)),
      setAttribute: (el: Element, attr: string, value: string) => JS.setAttribute(el, attr, value),
      removeAttribute: (el: Element, attr: string) => JS.removeAttribute(el, attr),
      toggleAttribute: (el: Element, attr: string, v1: string, v2?: string) =>
        JS.toggleAttribute(el, attr, v1, v2),
    };
  }

  /** The handleEvent callbacks of `hook` (static, so no name of a hook object can clash). */
  static handlersOf(hook: Hook): Set<HandlerRef> {
    return hook.#handlers;
  }

  #push(cid: number | null, method: string, event: string, payload: unknown): number {
    if (typeof event !== "string" || event === "") {
      throw new TypeError(`${method}() needs an event name (a non-empty string), got ${repr(event)}`);
    }
    const value = payload === undefined || payload === null ? {} : payload;
    if (!isObject(value)) {
      throw new TypeError(
        `${method}("${event}", payload): the payload must be a JSON object, got ${repr(payload)}`,
      );
    }
    return this.#send(cid, event, value);
  }

  /** onReply(reply, ref) when answered, or (without onReply) a promise of `result()`. */
  #answer(ref: number, onReply: OnReply | undefined, result: () => unknown): Promise<unknown> | void {
    if (onReply) return this.#host.onAnswer(ref, () => onReply({}, ref));
    return new Promise((resolve) => this.#host.onAnswer(ref, () => resolve(result())));
  }

  #send(cid: number | null, event: string, value: Record<string, unknown>): number {
    const message: EventMessage = { [TYPE]: MSG_EVENT, [KIND]: KIND_HOOK, [EVENT]: event, [VALUE]: value, [CID]: cid };
    return this.#host.push(message, { type: KIND_HOOK, loading: [this.el], disable: [] });
  }
}

function sameData(a: Element, b: Element): boolean {
  const data = (el: Element) =>
    Array.from(el.attributes)
      .filter(({ name }) => name.startsWith("data-") || name === "id")
      .map(({ name, value }) => `${name}=${value}`)
      .sort()
      .join("\n");
  return data(a) === data(b);
}

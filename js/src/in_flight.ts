/**
 * Events in flight: from sending an event until the kernel answers, its source element has
 * the class `phx-<type>-loading`, and an element with `phx-disable-with="Saving..."` is
 * disabled and shows that text (an empty value disables it and keeps its content). Answered,
 * both are undone: the element gets back its own children (the same nodes) and its disabled state.
 *
 * The kernel sends no acknowledgement, so the rule is front-end only:
 *
 *     an event is answered by the first "full", "diff" or "error" message that arrives after it
 *     was sent, or after ANSWER_TIMEOUT_MS, whichever comes first.
 *
 * widget.ts undoes the state *before* it patches with that message, so the render decides what
 * the element looks like next. Consequences: a handler that changes nothing (no diff) leaves the
 * element waiting for the timeout; a render already on its way (a timer tick) answers early.
 * `ref`s number the events in this module only; they never go on the wire.
 */
import { loadingClass, PHX_DISABLE_WITH } from "./constants";

export const ANSWER_TIMEOUT_MS = 5000;

export interface InFlightSpec {
  /** Phoenix's event type, for the class name: click, change, submit, keydown, keyup, blur, focus, hook. */
  type: string;
  /** Elements that get the class phx-<type>-loading. */
  loading: readonly Element[];
  /** Elements whose phx-disable-with applies. */
  disable: readonly Element[];
}

interface Entry {
  /** [element, class, whether it had a class attribute before]. */
  classes: [Element, string, boolean][];
  disabled: Element[];
  timer: ReturnType<typeof setTimeout>;
  waiters: (() => void)[];
}

interface Disabled {
  /** The element's own children, while phx-disable-with text stands in for them. */
  children: Node[] | null;
  hadDisabled: boolean;
  count: number;
}

export class InFlight {
  private nextRef = 1;
  private readonly entries = new Map<number, Entry>();
  private readonly disabled = new WeakMap<Element, Disabled>();

  constructor(private readonly timeoutMs = ANSWER_TIMEOUT_MS) {}

  /** Show `spec` as in flight; returns the event's ref. */
  start(spec: InFlightSpec): number {
    const ref = this.nextRef++;
    const classes: [Element, string, boolean][] = [];
    for (const el of new Set(spec.loading)) {
      classes.push([el, loadingClass(spec.type), this.hadClass(el)]);
      el.classList.add(loadingClass(spec.type));
    }
    const disabled: Element[] = [];
    for (const el of new Set(spec.disable)) {
      const text = el.getAttribute(PHX_DISABLE_WITH);
      if (text === null) continue;
      this.disable(el, text);
      disabled.push(el);
    }
    const timer = setTimeout(() => this.answer(ref), this.timeoutMs);
    this.entries.set(ref, { classes, disabled, timer, waiters: [] });
    return ref;
  }

  /** Run `fn` when event `ref` is answered (at once if it already was). */
  onAnswer(ref: number, fn: () => void): void {
    const entry = this.entries.get(ref);
    if (entry) entry.waiters.push(fn);
    else fn();
  }

  /** True while an event of `type` sent from `el` waits for its answer. */
  isPending(el: Element, type: string): boolean {
    const name = loadingClass(type);
    for (const { classes } of this.entries.values()) {
      if (classes.some(([e, c]) => e === el && c === name)) return true;
    }
    return false;
  }

  /** The kernel answered: undo every in-flight state. */
  answerAll(): void {
    for (const ref of Array.from(this.entries.keys())) this.answer(ref);
  }

  /** Forget everything without waiting (the model is going away). */
  dispose(): void {
    for (const { timer } of this.entries.values()) clearTimeout(timer);
    this.entries.clear();
  }

  private answer(ref: number): void {
    const entry = this.entries.get(ref);
    if (!entry) return;
    this.entries.delete(ref);
    clearTimeout(entry.timer);
    for (const [el, name, hadClass] of entry.classes) {
      if (this.stillLoading(el, name)) continue;
      el.classList.remove(name);
      // Leave no class="" behind, or the next patch would see a change that is not one.
      if (!hadClass && el.classList.length === 0) el.removeAttribute("class");
    }
    for (const el of entry.disabled) this.enable(el);
    for (const fn of entry.waiters) fn();
  }

  /** Whether `el` had a class attribute before any event in flight marked it. */
  private hadClass(el: Element): boolean {
    for (const { classes } of this.entries.values()) {
      for (const [e, , had] of classes) if (e === el) return had;
    }
    return el.hasAttribute("class");
  }

  private stillLoading(el: Element, name: string): boolean {
    for (const { classes } of this.entries.values()) {
      if (classes.some(([e, n]) => e === el && n === name)) return true;
    }
    return false;
  }

  private disable(el: Element, text: string): void {
    const saved = this.disabled.get(el);
    if (saved) {
      saved.count++;
      return;
    }
    this.disabled.set(el, {
      children: text === "" ? null : Array.from(el.childNodes),
      hadDisabled: el.hasAttribute("disabled"),
      count: 1,
    });
    if (text !== "") el.textContent = text;
    el.setAttribute("disabled", "");
  }

  private enable(el: Element): void {
    const saved = this.disabled.get(el);
    if (!saved || --saved.count > 0) return;
    this.disabled.delete(el);
    if (saved.children) el.replaceChildren(...saved.children);
    if (!saved.hadDisabled) el.removeAttribute("disabled");
  }
}

/**
 * phx-debounce and phx-throttle, per element, as Phoenix applies them (dom.ts: debounce) to
 * phx-click, phx-change and phx-keydown / phx-keyup (element and window bindings):
 *
 * - `phx-debounce="500"`: send once the element has had no event for 500 ms. Only the last
 *   event is sent, and what it sends is computed then: a debounced phx-change sends the form
 *   as it is when the timer fires. Losing focus sends a pending event at once.
 * - `phx-debounce="blur"`: send when the element loses focus.
 * - `phx-throttle="500"`: send the first event at once, then drop events until 500 ms have
 *   passed (no trailing send). A keydown of a different key than the last one always goes
 *   through. Losing focus ends the window.
 * - An empty value means 300 ms. With both attributes, phx-debounce wins.
 * - Submitting a form drops the pending debounced events and throttle windows of its
 *   controls (the submit carries the whole form), as Phoenix does.
 *
 * A pending event of an element that a patch has removed is dropped when its timer fires.
 */
import { DEFAULT_RATE_MS, PHX_DEBOUNCE, PHX_DEBOUNCE_BLUR, PHX_THROTTLE } from "./constants";

type Timer = ReturnType<typeof setTimeout>;

interface ElementState {
  /** The latest debounced action, waiting for its timer or for blur. */
  pending: (() => void) | null;
  timer: Timer | null;
  /** Set while a throttle window is open. */
  throttle: Timer | null;
  lastKey: string | undefined;
}

export class RateLimiter {
  private readonly states = new WeakMap<Element, ElementState>();
  private readonly timers = new Set<Timer>();

  constructor(private readonly report: (message: string) => void = console.error) {}

  /** Run `action` for event `e` on `el` now, later, or not at all, as el's attributes say. */
  run(el: Element, e: Event, action: () => void): void {
    const debounce = el.getAttribute(PHX_DEBOUNCE);
    const throttle = el.getAttribute(PHX_THROTTLE);
    const setting = debounce !== null ? debounce : throttle;
    if (setting === null) return action();

    const state = this.state(el);
    if (debounce === PHX_DEBOUNCE_BLUR) {
      state.pending = action;
      return;
    }
    const ms = setting.trim() === "" ? DEFAULT_RATE_MS : Number(setting);
    if (!Number.isFinite(ms) || ms < 0) {
      this.report(
        `livewidget: ${debounce !== null ? PHX_DEBOUNCE : PHX_THROTTLE} takes milliseconds` +
          `${debounce !== null ? ` or "${PHX_DEBOUNCE_BLUR}"` : ""}, got ${JSON.stringify(setting)}; sending at once`,
      );
      return action();
    }

    if (debounce !== null) {
      state.pending = action;
      this.clear(state.timer);
      state.timer = this.after(ms, () => {
        state.timer = null;
        this.flush(el, state);
      });
      return;
    }

    let newKey = false;
    if (e.type === "keydown") {
      const key = (e as KeyboardEvent).key;
      newKey = state.lastKey !== key;
      state.lastKey = key;
    }
    if (state.throttle !== null && !newKey) return;
    this.clear(state.throttle);
    action();
    state.throttle = this.after(ms, () => {
      state.throttle = null;
    });
  }

  /** `el` lost focus: a pending debounced event goes now, and a throttle window ends. */
  blurred(el: Element): void {
    const state = this.states.get(el);
    if (!state) return;
    this.clear(state.timer);
    state.timer = null;
    this.clear(state.throttle);
    state.throttle = null;
    this.flush(el, state);
  }

  /** `form` was submitted: drop what its controls had pending. */
  submitted(form: HTMLFormElement): void {
    for (const control of Array.from(form.elements)) {
      const state = this.states.get(control);
      if (!state) continue;
      this.clear(state.timer);
      this.clear(state.throttle);
      state.timer = state.throttle = null;
      state.pending = null;
    }
  }

  /** Drop every pending event and timer (the view is going away). */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private flush(el: Element, state: ElementState): void {
    const action = state.pending;
    state.pending = null;
    if (action && el.isConnected) action();
  }

  private state(el: Element): ElementState {
    let state = this.states.get(el);
    if (!state) {
      state = { pending: null, timer: null, throttle: null, lastKey: undefined };
      this.states.set(el, state);
    }
    return state;
  }

  private after(ms: number, fn: () => void): Timer {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clear(timer: Timer | null): void {
    if (timer === null) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }
}

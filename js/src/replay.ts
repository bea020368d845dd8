/**
 * Replays recorded views in a page written by `livewidget export` (livewidget/export.py).
 *
 * `widget.record(seconds)` keeps what a view sent for a while: a list of frames
 *
 *     [{"t": 0,    "type": "full", "rendered": {"s": ["<b>", "</b>"], "0": "0"}},
 *      {"t": 1001, "type": "diff", "rendered": {"0": "1"}}, ...]
 *
 * (`t` in milliseconds from the start; the payloads are the Phoenix rendered format of
 * rendered.ts). The exported page holds each view's last HTML inside
 *
 *     <div class="livewidget" data-livewidget-model="ID"><div class="lw-root">...</div></div>
 *
 * and, once per page, the recordings by model id in
 *
 *     <script type="application/json" id="livewidget-recordings">{"ID": [frames]}</script>
 *
 * `startReplays(document)` gives every such view that has a recording a Replay: it merges the
 * frames into a RenderedTree at their times and puts the HTML into `.lw-root` (a plain
 * innerHTML replacement: an export has no focus or input state to keep), holds the last frame
 * for a moment, and starts again. A "replay" badge and a pause / play button sit above the
 * view. Without JavaScript, or if a recording cannot be replayed, the page shows the last state.
 *
 * This file is bundled as an IIFE (global `livewidgetReplay`) into livewidget/static/replay.js
 * and inlined into exported pages; it never touches the network.
 */
import { RenderedTree } from "./rendered";

/** The id of the page's one JSON script that maps model ids to recordings. */
export const RECORDINGS_ID = "livewidget-recordings";
/** The attribute naming the widget model of an exported view. */
export const MODEL_ATTR = "data-livewidget-model";
/** How long the last frame stays before the replay starts again, in milliseconds. */
export const HOLD_MS = 2000;

export interface Frame {
  /** Milliseconds from the start of the recording. */
  t: number;
  type: "full" | "diff";
  rendered: { [key: string]: unknown };
}

export interface ReplayOptions {
  /** A monotonic clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Start paused (default: when the reader prefers reduced motion). */
  paused?: boolean;
}

const isObject = (v: unknown): v is { [key: string]: unknown } =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function repr(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * Check a recording and return its frames with times counted from the first frame.
 * Throws a TypeError that says what was expected and what came.
 */
export function parseFrames(raw: unknown): Frame[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new TypeError(`a recording is a non-empty list of frames, got ${repr(raw)}`);
  }
  let previous = -Infinity;
  const frames = raw.map((frame: unknown, i): Frame => {
    if (
      !isObject(frame) ||
      typeof frame.t !== "number" ||
      !Number.isFinite(frame.t) ||
      (frame.type !== "full" && frame.type !== "diff") ||
      !isObject(frame.rendered)
    ) {
      throw new TypeError(
        `frame ${i} must be {"t": <ms>, "type": "full" | "diff", "rendered": {...}}, got ${repr(frame)}`,
      );
    }
    if (frame.t < previous) {
      throw new TypeError(`frame ${i} comes at ${frame.t} ms, before frame ${i - 1} (${previous} ms)`);
    }
    previous = frame.t;
    return { t: frame.t, type: frame.type, rendered: frame.rendered };
  });
  const first = frames[0] as Frame;
  if (first.type !== "full") {
    throw new TypeError(`a recording starts with a "full" frame, got a "${first.type}" frame`);
  }
  return frames.map((f) => ({ ...f, t: f.t - first.t }));
}

/** One recorded view, replayed in a loop inside its `.livewidget` element. */
export class Replay {
  private readonly frames: Frame[];
  private readonly root: HTMLElement;
  private readonly lastHtml: string;
  private readonly now: () => number;
  private readonly badge: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  /** One loop: the last frame's time plus the hold. */
  private readonly loopMs: number;
  private tree = new RenderedTree();
  /** The next frame to apply. */
  private next = 0;
  /** Where in the loop the replay is while paused, in ms. */
  private position = 0;
  /** now() at the loop's start while playing. */
  private origin = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failed = false;

  constructor(view: HTMLElement, frames: Frame[], options: ReplayOptions = {}) {
    const root = view.querySelector<HTMLElement>(":scope > .lw-root");
    if (!root) throw new Error("a livewidget view without its .lw-root element");
    this.root = root;
    this.frames = frames;
    this.lastHtml = root.innerHTML;
    this.now = options.now ?? (() => performance.now());
    this.loopMs = (frames[frames.length - 1] as Frame).t + HOLD_MS;

    const doc = view.ownerDocument;
    const bar = doc.createElement("div");
    bar.className = "lw-replay";
    this.badge = doc.createElement("span");
    this.badge.className = "lw-replay-badge";
    this.badge.textContent = "replay";
    this.badge.title = `A recording of ${(this.loopMs - HOLD_MS) / 1000} s, played in a loop`;
    this.toggle = doc.createElement("button");
    this.toggle.type = "button";
    this.toggle.className = "lw-replay-toggle";
    this.toggle.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    bar.append(this.badge, this.toggle);
    view.insertBefore(bar, root);
    view.classList.add("lw-replaying");

    const paused = options.paused ?? prefersReducedMotion(doc);
    this.showButton();
    if (!paused) this.play();
  }

  get playing(): boolean {
    return this.timer !== undefined;
  }

  play(): void {
    if (this.playing || this.failed) return;
    this.origin = this.now() - this.position;
    this.tick();
  }

  pause(): void {
    if (!this.playing) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.position = this.now() - this.origin;
    this.showButton();
  }

  /** Stop for good and show the last state again. */
  dispose(): void {
    this.pause();
    this.root.innerHTML = this.lastHtml;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    let elapsed = this.now() - this.origin;
    if (elapsed >= this.loopMs) {
      // the hold is over: the next loop starts from the full first frame
      const loops = Math.floor(elapsed / this.loopMs);
      this.origin += loops * this.loopMs;
      elapsed -= loops * this.loopMs;
      this.next = 0;
    }
    let changed = false;
    try {
      while (this.next < this.frames.length && (this.frames[this.next] as Frame).t <= elapsed) {
        const frame = this.frames[this.next++] as Frame;
        if (frame.type === "full") this.tree = new RenderedTree();
        this.tree.merge(frame.rendered);
        changed = true;
      }
      if (changed) this.root.innerHTML = this.tree.toHTML();
    } catch (err) {
      return this.fail(err);
    }
    const due = this.next < this.frames.length ? (this.frames[this.next] as Frame).t : this.loopMs;
    this.timer = setTimeout(this.tick, Math.max(0, due - elapsed));
    this.showButton();
  };

  private fail(err: unknown): void {
    this.failed = true;
    this.timer = undefined;
    this.root.innerHTML = this.lastHtml;
    const message = err instanceof Error ? err.message : String(err);
    this.badge.textContent = "replay failed";
    this.badge.title = message;
    this.toggle.disabled = true;
    this.showButton();
    console.warn(`livewidget: the recording of frame ${this.next - 1} could not be replayed:`, message);
  }

  private showButton(): void {
    const label = this.playing ? "Pause" : "Play";
    this.toggle.textContent = label;
    this.toggle.setAttribute("aria-label", `${label} the replay`);
  }
}

function prefersReducedMotion(doc: Document): boolean {
  const view = doc.defaultView;
  return !!view?.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
}

/**
 * Start a Replay for every exported view whose model has a recording.
 * Views that cannot be replayed keep their last state and say why in the console.
 */
export function startReplays(doc: Document, options: ReplayOptions = {}): Replay[] {
  const script = doc.getElementById(RECORDINGS_ID);
  if (!script) return [];
  let recordings: unknown;
  try {
    recordings = JSON.parse(script.textContent ?? "");
  } catch (err) {
    console.warn(`livewidget: #${RECORDINGS_ID} is not JSON:`, err);
    return [];
  }
  if (!isObject(recordings)) {
    console.warn(`livewidget: #${RECORDINGS_ID} must map model ids to recordings`);
    return [];
  }
  const replays: Replay[] = [];
  for (const view of Array.from(doc.querySelectorAll<HTMLElement>(`[${MODEL_ATTR}]`))) {
    const id = view.getAttribute(MODEL_ATTR) ?? "";
    if (!(id in recordings)) continue;
    try {
      replays.push(new Replay(view, parseFrames(recordings[id]), options));
    } catch (err) {
      console.warn(`livewidget: the recording of view ${id} cannot be replayed:`, err);
    }
  }
  return replays;
}

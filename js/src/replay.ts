/**
 * Replays recorded views in a page written by `livewidget export` (livewidget/export/page.py).
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
 * Nothing in a recording is trusted (livewidget/export/page.py checks it too; a page may be edited):
 * - a frame whose time is unusable (not a finite number of ms up to MAX_FRAME_MS, or before the
 *   frame before) comes with the frame before it;
 * - a frame that is not a frame, or that cannot be merged or shown, ends the recording there:
 *   the frames before it replay (a first frame like that, and the view keeps its last state);
 * - one bad recording never stops another view's replay;
 * - what a frame's HTML would fetch from another host (`<img src="https://...">`, a CSS
 *   `url(//...)`) is neutralised as the export neutralises the rest of the page, so a replay
 *   loads nothing either. The HTML is parsed in an inert `<template>` first, where nothing loads.
 *
 * A view that shows Jupyter widgets (a slider, a chart, another view) has them drawn by the
 * export inside its placeholders (`<span class="lw-child" data-lw-widget="ID">`), which every
 * frame renders empty: the Replay keeps each placeholder's content when the view is built and
 * puts it back into the placeholder of the same widget after each frame (`ChildKeeper`), so a
 * chart stays drawn, once, while the view around it replays.
 *
 * This file is bundled as an IIFE (global `livewidgetReplay`) into livewidget/static/replay.js
 * and inlined into exported pages; it never touches the network.
 */
import {
  BLOCKED_PREFIX,
  CHILD_ATTR,
  FRAME_TIME,
  MAX_FRAME_MS,
  MODEL_ATTR,
  MSG_DIFF,
  MSG_FULL,
  RECORDINGS_ID,
  RENDERED,
  ROOT_CLASS,
  TYPE,
} from "./constants";
import { RenderedTree } from "./rendered";
import { errorText, isObject, repr } from "./util";

/** How long the last frame stays before the replay starts again, in milliseconds. */
export const HOLD_MS = 2000;
/** setTimeout's longest delay: a longer one would fire at once. */
const MAX_DELAY = 2_147_483_647;

export interface Frame {
  /** Milliseconds from the start of the recording. */
  t: number;
  type: typeof MSG_FULL | typeof MSG_DIFF;
  rendered: { [key: string]: unknown };
}

export interface ReplayOptions {
  /** A monotonic clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Start paused (default: when the reader prefers reduced motion). */
  paused?: boolean;
}

const FRAME_SHAPE = `{"${FRAME_TIME}": <ms>, "${TYPE}": "${MSG_FULL}" | "${MSG_DIFF}", "${RENDERED}": {...}}`;

/**
 * Check a recording and return the frames that can be replayed, times counted from the first.
 * A frame with an unusable time comes with the frame before it; a frame that is not a frame
 * ends the recording there. Each repair is described in `problems`. Throws a TypeError that
 * says what was expected and what came when nothing can be replayed.
 */
export function parseFrames(raw: unknown, problems: string[] = []): Frame[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new TypeError(`a recording is a non-empty list of frames, got ${repr(raw)}`);
  }
  const frames: Frame[] = [];
  let origin = 0;
  let previous = 0;
  for (const [i, frame] of raw.entries()) {
    const type = isObject(frame) ? frame[TYPE] : undefined;
    const rendered = isObject(frame) ? frame[RENDERED] : undefined;
    if (!isObject(frame) || (type !== MSG_FULL && type !== MSG_DIFF) || !isObject(rendered)) {
      const problem = `frame ${i} must be ${FRAME_SHAPE}, got ${repr(frame)}`;
      if (i === 0) throw new TypeError(problem);
      problems.push(`${problem}; the replay ends before it`);
      break;
    }
    if (i === 0 && type !== MSG_FULL) {
      throw new TypeError(`a recording starts with a "${MSG_FULL}" frame, got a "${type}" frame`);
    }
    const time = frame[FRAME_TIME];
    const usable = typeof time === "number" && Number.isFinite(time);
    if (i === 0 && usable) origin = time;
    let t = usable ? time - origin : Number.NaN;
    if (!(t >= previous && t <= MAX_FRAME_MS)) {
      const why = !usable
        ? `has no usable time (${repr(time)})`
        : t > MAX_FRAME_MS
          ? `comes at ${t} ms, later than ${MAX_FRAME_MS} ms`
          : `comes at ${time} ms, before frame ${i - 1} (${previous + origin} ms)`;
      problems.push(`frame ${i} ${why}; it comes with the frame before`);
      t = previous;
    }
    frames.push({ t, type, rendered });
    previous = t;
  }
  return frames;
}

/** One recorded view, replayed in a loop inside its `.livewidget` element. */
export class Replay {
  private frames: Frame[];
  private readonly root: HTMLElement;
  private readonly lastHtml: string;
  private readonly children: ChildKeeper;
  private readonly now: () => number;
  private readonly badge: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  /** One loop: the last frame's time plus the hold. */
  private loopMs: number;
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
    const root = view.querySelector<HTMLElement>(`:scope > .${ROOT_CLASS}`);
    if (!root) throw new Error(`a livewidget view without its .${ROOT_CLASS} element`);
    this.root = root;
    this.frames = frames;
    this.children = new ChildKeeper(root);
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
    this.children.restore();
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
        if (frame.type === MSG_FULL) this.tree = new RenderedTree();
        this.tree.merge(frame.rendered);
        changed = true;
      }
      if (changed) this.show(this.tree.toHTML());
    } catch (err) {
      if (!this.cut(err)) return this.fail(err);
    }
    const due = this.next < this.frames.length ? (this.frames[this.next] as Frame).t : this.loopMs;
    this.timer = setTimeout(this.tick, Math.min(MAX_DELAY, Math.max(0, due - elapsed)));
    this.showButton();
  };

  /** Put a frame's HTML in the view, with what it would fetch from another host neutralised. */
  private show(html: string): void {
    const template = this.root.ownerDocument.createElement("template");
    template.innerHTML = html; // inert: nothing in a template loads or runs
    blockExternal(template.content);
    this.root.replaceChildren(template.content);
    this.children.restore();
  }

  /**
   * A frame failed: keep the frames before the first one that cannot be merged and shown (found
   * by replaying from the start, as merges are deterministic) and show the last of them.
   * Returns false when not even the first frame can be shown.
   */
  private cut(err: unknown): boolean {
    let tree = new RenderedTree();
    let html = "";
    let good = 0;
    try {
      for (; good < this.frames.length; good++) {
        const frame = this.frames[good] as Frame;
        if (frame.type === MSG_FULL) tree = new RenderedTree();
        tree.merge(frame.rendered);
        html = tree.toHTML();
      }
    } catch (error) {
      err = error;
    }
    if (good === 0 || good === this.frames.length) return false;
    const message = errorText(err);
    console.warn(
      `livewidget: frame ${good} of a recording cannot be replayed (${message}); ` +
        `the replay ends before it (${this.frames.length - good} of ${this.frames.length} frames left out)`,
    );
    this.frames = this.frames.slice(0, good);
    this.loopMs = (this.frames[good - 1] as Frame).t + HOLD_MS;
    this.next = good;
    this.show(html);
    return true;
  }

  private fail(err: unknown): void {
    this.failed = true;
    this.timer = undefined;
    this.root.innerHTML = this.lastHtml;
    this.children.restore();
    const message = errorText(err);
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

/**
 * The child widgets an export drew into a view's placeholders, taken out of the page when the
 * view is built (emptying the placeholders, as the frames have them) and put back after each
 * swap into the placeholder of the same widget: the same DOM nodes, so a drawn chart is drawn
 * once. A placeholder inside a child belongs to that child and moves with it.
 */
export class ChildKeeper {
  private readonly kept = new Map<string, Node[]>();

  constructor(private readonly root: HTMLElement) {
    for (const placeholder of this.placeholders()) {
      const id = placeholder.getAttribute(CHILD_ATTR) ?? "";
      if (!this.kept.has(id)) this.kept.set(id, Array.from(placeholder.childNodes));
    }
    this.restore();
  }

  /** Put each kept child into the placeholder of its widget, if the view shows it now. */
  restore(): void {
    const filled = new Set<string>();
    for (const placeholder of this.placeholders()) {
      const id = placeholder.getAttribute(CHILD_ATTR) ?? "";
      const nodes = this.kept.get(id);
      if (nodes && !filled.has(id)) {
        placeholder.replaceChildren(...nodes);
        filled.add(id);
      }
    }
  }

  /** The root's own placeholders (not those inside a child widget). */
  private placeholders(): Element[] {
    return Array.from(this.root.querySelectorAll(`[${CHILD_ATTR}]`)).filter((el) => {
      const outer = el.parentElement?.closest(`[${CHILD_ATTR}]`);
      return !outer || !this.root.contains(outer);
    });
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
    if (!Object.hasOwn(recordings, id)) continue;
    const problems: string[] = [];
    try {
      replays.push(new Replay(view, parseFrames(recordings[id], problems), options));
    } catch (err) {
      console.warn(`livewidget: the recording of view ${id} cannot be replayed:`, err);
    }
    for (const problem of problems) console.warn(`livewidget: the recording of view ${id}: ${problem}`);
  }
  return replays;
}

// --- nothing from another host ------------------------------------------------------------
// The rules of livewidget/export/page.py (_fetches_external), for HTML that only a replay shows.

/** Attributes that make the browser fetch what they name (a link's href waits for a click). */
const FETCHING = new Set(["src", "srcset", "poster", "background", "href", "xlink:href", "data", "manifest"]);
const EXTERNAL = /^\s*(?:[a-z][a-z0-9+.-]*:)?\/\//i;
const CSS_EXTERNAL =
  /@import\s+(?:url\(\s*)?['"]?\s*(?:[a-z][a-z0-9+.-]*:)?\/\/[^;]*;?|url\(\s*['"]?\s*(?:[a-z][a-z0-9+.-]*:)?\/\/[^)]*\)/gi;

function fetchesExternal(tag: string, name: string, value: string): boolean {
  if (name === "style") return new RegExp(CSS_EXTERNAL.source, "i").test(value);
  if (!FETCHING.has(name) || (name === "href" && (tag === "a" || tag === "area"))) return false;
  if (name === "data" && tag !== "object") return false;
  if (name === "srcset") return value.split(",").some((part) => EXTERNAL.test(part));
  return EXTERNAL.test(value);
}

/**
 * Rename each attribute of `root`'s elements that would fetch from another host to
 * `data-livewidget-blocked-NAME`, and turn such rules of its `<style>` elements into comments.
 */
export function blockExternal(root: DocumentFragment | Element): void {
  for (const el of Array.from(root.querySelectorAll("*"))) {
    const tag = el.localName;
    for (const { name, value } of Array.from(el.attributes)) {
      if (!fetchesExternal(tag, name, value)) continue;
      el.removeAttribute(name);
      el.setAttribute(BLOCKED_PREFIX + name.replace(":", "-"), value);
    }
    if (tag === "style" && el.textContent && new RegExp(CSS_EXTERNAL.source, "i").test(el.textContent)) {
      el.textContent = el.textContent.replace(CSS_EXTERNAL, "/* livewidget: blocked */");
    }
  }
}

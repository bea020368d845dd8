import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  type Frame,
  HOLD_MS,
  MODEL_ATTR,
  parseFrames,
  RECORDINGS_ID,
  Replay,
  startReplays,
} from "../src/replay";

const full = (n: number, t = 0): Frame => ({
  t,
  type: "full",
  rendered: { s: ['<b id="n">', "</b>"], "0": String(n) },
});
const diff = (n: number, t: number): Frame => ({ t, type: "diff", rendered: { "0": String(n) } });

/** 0 at 0 ms, 1 at 100 ms, 2 at 200 ms. */
const FRAMES: Frame[] = [full(0), diff(1, 100), diff(2, 200)];

let view: HTMLElement;
let clock = 0;
const now = () => clock;

/** Move the fake clock and the fake timers together. */
function advance(ms: number): void {
  clock += ms;
  vi.advanceTimersByTime(ms);
}

const shown = () => view.querySelector(".lw-root")?.textContent;
const button = () => view.querySelector<HTMLButtonElement>(".lw-replay-toggle") as HTMLButtonElement;

function exportedView(id = "m1", last = '<b id="n">9</b>'): HTMLElement {
  const el = document.createElement("div");
  el.className = "livewidget";
  el.setAttribute(MODEL_ATTR, id);
  el.innerHTML = `<div class="lw-root">${last}</div>`;
  document.body.append(el);
  return el;
}

beforeEach(() => {
  vi.useFakeTimers();
  clock = 1000;
  view = exportedView();
});

afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = "";
});

describe("Replay", () => {
  test("applies each frame at its time, holds the last, then loops", () => {
    new Replay(view, FRAMES, { now, paused: false });
    expect(shown()).toBe("0");
    advance(99);
    expect(shown()).toBe("0");
    advance(1);
    expect(shown()).toBe("1");
    advance(100);
    expect(shown()).toBe("2");
    advance(HOLD_MS - 1);
    expect(shown()).toBe("2");
    advance(1);
    expect(shown()).toBe("0");
    advance(100);
    expect(shown()).toBe("1");
  });

  test("a late timer applies every frame that fell due", () => {
    new Replay(view, FRAMES, { now, paused: false });
    clock += 250; // the tab slept: no timer ran
    vi.advanceTimersByTime(100);
    expect(shown()).toBe("2");
  });

  test("pause keeps the frame on screen and play resumes where it stopped", () => {
    const replay = new Replay(view, FRAMES, { now, paused: false });
    advance(150);
    expect(shown()).toBe("1");
    button().click();
    expect(replay.playing).toBe(false);
    expect(button().textContent).toBe("Play");
    expect(button().getAttribute("aria-label")).toBe("Play the replay");
    advance(5000);
    expect(shown()).toBe("1");
    button().click();
    expect(button().textContent).toBe("Pause");
    advance(49);
    expect(shown()).toBe("1");
    advance(1);
    expect(shown()).toBe("2");
  });

  test("adds a replay badge and a button above the view, outside what it patches", () => {
    new Replay(view, FRAMES, { now, paused: false });
    const bar = view.firstElementChild as HTMLElement;
    expect(bar.className).toBe("lw-replay");
    expect(bar.querySelector(".lw-replay-badge")?.textContent).toBe("replay");
    expect(bar.nextElementSibling?.className).toBe("lw-root");
    advance(100);
    expect(view.querySelector(".lw-replay-badge")).not.toBeNull();
  });

  test("starting paused shows the last state until play", () => {
    new Replay(view, FRAMES, { now, paused: true });
    advance(500);
    expect(shown()).toBe("9");
    button().click();
    expect(shown()).toBe("0");
  });

  test("a frame that cannot be merged stops the replay on the last state", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const bad: Frame = { t: 100, type: "diff", rendered: { "0": { s: 7 } } };
    const replay = new Replay(view, [full(0), bad], { now, paused: false });
    advance(100);
    expect(shown()).toBe("9");
    expect(replay.playing).toBe(false);
    expect(view.querySelector(".lw-replay-badge")?.textContent).toBe("replay failed");
    expect(button().disabled).toBe(true);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  test("dispose stops and shows the last state again", () => {
    const replay = new Replay(view, FRAMES, { now, paused: false });
    advance(100);
    replay.dispose();
    expect(shown()).toBe("9");
    advance(1000);
    expect(shown()).toBe("9");
  });
});

describe("parseFrames", () => {
  test("counts times from the first frame", () => {
    expect(parseFrames([full(0, 40), diff(1, 140)]).map((f) => f.t)).toEqual([0, 100]);
  });

  test.each([
    [[], "a non-empty list of frames"],
    ["x", "a non-empty list of frames"],
    [[diff(1, 0)], 'starts with a "full" frame'],
    [[full(0), { t: 5, type: "diff" }], "frame 1 must be"],
    [[full(0, 50), diff(1, 10)], "frame 1 comes at 10 ms, before frame 0 (50 ms)"],
  ])("rejects %j", (raw, message) => {
    expect(() => parseFrames(raw)).toThrow(message);
  });
});

describe("startReplays", () => {
  function recordings(json: string): void {
    const script = document.createElement("script");
    script.type = "application/json";
    script.id = RECORDINGS_ID;
    script.textContent = json;
    document.body.append(script);
  }

  test("replays each view that has a recording, and leaves the others", () => {
    const other = exportedView("m2", "<i>still</i>");
    recordings(JSON.stringify({ m1: FRAMES }));
    const replays = startReplays(document, { now, paused: false });
    expect(replays).toHaveLength(1);
    expect(shown()).toBe("0");
    expect(other.querySelector(".lw-replay")).toBeNull();
    expect(other.textContent).toBe("still");
  });

  test("a page without recordings starts nothing", () => {
    expect(startReplays(document)).toEqual([]);
  });

  test("a bad recording keeps its view's last state and says why", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    recordings(JSON.stringify({ m1: [diff(1, 0)] }));
    expect(startReplays(document, { now, paused: false })).toEqual([]);
    expect(shown()).toBe("9");
    expect(String(warn.mock.calls[0]?.[1])).toContain('starts with a "full" frame');
    warn.mockRestore();
  });
});

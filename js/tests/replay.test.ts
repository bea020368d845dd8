import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { BLOCKED_PREFIX, MAX_FRAME_MS, MODEL_ATTR, RECORDINGS_ID } from "../src/constants";
import { blockExternal, type Frame, HOLD_MS, parseFrames, Replay, startReplays } from "../src/replay";

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

  test("a frame that cannot be merged ends the replay before it; the frames before it loop", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const bad: Frame = { t: 200, type: "diff", rendered: { "0": { s: 7 } } };
    const replay = new Replay(view, [full(0), diff(1, 100), bad, diff(3, 300)], { now, paused: false });
    advance(200);
    expect(shown()).toBe("1");
    expect(replay.playing).toBe(true);
    expect(String(warn.mock.calls[0]?.[0])).toContain("frame 2 of a recording cannot be replayed");
    expect(String(warn.mock.calls[0]?.[0])).toContain("(2 of 4 frames left out)");
    advance(HOLD_MS - 100 - 1);
    expect(shown()).toBe("1");
    advance(1);
    expect(shown()).toBe("0");
    advance(100);
    expect(shown()).toBe("1");
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  test("a first frame that cannot be shown stops the replay on the last state", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const bad: Frame = { t: 0, type: "full", rendered: { s: 7 } };
    const replay = new Replay(view, [bad, diff(1, 100)], { now, paused: false });
    expect(shown()).toBe("9");
    expect(replay.playing).toBe(false);
    expect(view.querySelector(".lw-replay-badge")?.textContent).toBe("replay failed");
    expect(button().disabled).toBe(true);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  test("what a frame would fetch from another host is neutralised", () => {
    const frame: Frame = {
      t: 0,
      type: "full",
      rendered: {
        s: ['<img id="i" src="', '" alt="x"><a id="a" href="https://example.com/">link</a><p id="p" style="', '">t</p>'],
        "0": "https://example.com/track.png",
        "1": "background: url(//example.com/bg.png)",
      },
    };
    new Replay(view, [frame], { now, paused: false });
    const img = view.querySelector("#i") as HTMLImageElement;
    expect(img.hasAttribute("src")).toBe(false);
    expect(img.getAttribute(`${BLOCKED_PREFIX}src`)).toBe("https://example.com/track.png");
    expect(img.getAttribute("alt")).toBe("x");
    expect(view.querySelector("#a")?.getAttribute("href"), "links stay").toBe("https://example.com/");
    expect(view.querySelector("#p")?.hasAttribute("style")).toBe(false);
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
    [[{ t: 0, type: "full" }, diff(1, 100)], "frame 0 must be"],
    [[null], "frame 0 must be"],
  ])("rejects %j, which has nothing to replay", (raw, message) => {
    expect(() => parseFrames(raw)).toThrow(message);
  });

  test.each([
    [Number.NaN, "frame 1 has no usable time (null)"],
    [Number.POSITIVE_INFINITY, "frame 1 has no usable time (null)"],
    ["12", 'frame 1 has no usable time ("12")'],
    [true, "frame 1 has no usable time (true)"],
    [undefined, "frame 1 has no usable time (undefined)"],
    [10, "frame 1 comes at 10 ms, before frame 0 (50 ms)"],
    [50 + MAX_FRAME_MS + 1, `frame 1 comes at ${MAX_FRAME_MS + 1} ms, later than ${MAX_FRAME_MS} ms`],
  ])("a frame at %s comes with the frame before", (t, problem) => {
    const problems: string[] = [];
    const frames = parseFrames([full(0, 50), { ...diff(1, 0), t }, diff(2, 250)], problems);
    expect(frames.map((f) => f.t)).toEqual([0, 0, 200]);
    expect(frames.map((f) => f.rendered["0"])).toEqual(["0", "1", "2"]);
    expect(problems).toEqual([`${problem}; it comes with the frame before`]);
  });

  test.each([
    [{ t: 200, type: "diff" }],
    [{ t: 200, type: "partial", rendered: {} }],
    [{ t: 200, type: "diff", rendered: [1] }],
    ["frame"],
  ])("a frame like %j ends the recording before it", (bad) => {
    const problems: string[] = [];
    expect(parseFrames([full(0), diff(1, 100), bad, diff(3, 300)], problems)).toEqual([full(0), diff(1, 100)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^frame 2 must be .*; the replay ends before it$/);
  });
});

describe("blockExternal", () => {
  test("renames what fetches from another host, as the export does, and leaves the rest", () => {
    const root = document.createElement("div");
    root.innerHTML =
      '<img src="https://x.test/a.png" srcset="a.png 1x, //x.test/b.png 2x"><img src="local.png">' +
      '<video poster="http://x.test/p.jpg"></video><object data="//x.test/o"></object>' +
      '<link href="https://x.test/s.css"><a href="https://x.test/">a</a><div data="//x">d</div>' +
      '<svg><image xlink:href="https://x.test/i.png"></image></svg>' +
      "<style>@import url(\"https://x.test/f.css\"); p { color: red }</style>";
    blockExternal(root);
    expect(root.querySelectorAll("[src]")).toHaveLength(1);
    expect(root.querySelector("img")?.getAttribute(`${BLOCKED_PREFIX}srcset`)).toContain("//x.test/b.png");
    expect(root.querySelector("video")?.hasAttribute("poster")).toBe(false);
    expect(root.querySelector("object")?.hasAttribute("data")).toBe(false);
    expect(root.querySelector("link")?.hasAttribute("href")).toBe(false);
    expect(root.querySelector("a")?.getAttribute("href")).toBe("https://x.test/");
    expect(root.querySelector("div")?.getAttribute("data")).toBe("//x");
    expect(root.querySelector("image")?.hasAttribute("xlink:href")).toBe(false);
    expect(root.querySelector("style")?.textContent).toBe("/* livewidget: blocked */ p { color: red }");
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

  test("one recording with bad frames replays what it can, and the others replay whole", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const other = exportedView("m2", "<b>9</b>");
    const third = exportedView("m3", "<b>last</b>");
    recordings(
      JSON.stringify({
        m1: [full(0), { ...diff(1, 100), t: "soon" }, { t: 200, type: "diff" }, diff(3, 300)],
        m2: FRAMES,
        m3: "not a recording",
      }),
    );
    const replays = startReplays(document, { now, paused: false });
    expect(replays).toHaveLength(2);
    advance(200);
    expect(shown()).toBe("1");
    expect(other.querySelector(".lw-root")?.textContent).toBe("2");
    expect(third.querySelector(".lw-root")?.textContent).toBe("last");
    const warnings = warn.mock.calls.map((call) => call.map(String).join(" "));
    expect(warnings).toEqual([
      'livewidget: the recording of view m1: frame 1 has no usable time ("soon"); it comes with the frame before',
      expect.stringMatching(/^livewidget: the recording of view m1: frame 2 must be .*; the replay ends before it$/),
      expect.stringMatching(/^livewidget: the recording of view m3 cannot be replayed: TypeError: a recording is/),
    ]);
    warn.mockRestore();
  });

  test("a view whose id names a property of every object has no recording", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const odd = exportedView("constructor", "<b>kept</b>");
    recordings(JSON.stringify({ m1: FRAMES }));
    expect(startReplays(document, { now, paused: false })).toHaveLength(1);
    expect(odd.querySelector(".lw-root")?.textContent).toBe("kept");
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });
});

describe("child widgets drawn by the export", () => {
  const PLACEHOLDER = '<span class="lw-child" data-lw-widget="abcdef0123456789"></span>';
  const withChild = (n: number, t: number): Frame => ({
    t,
    type: t === 0 ? "full" : "diff",
    rendered: t === 0 ? { s: ['<b id="n">', `</b>${PLACEHOLDER}`], "0": String(n) } : { "0": String(n) },
  });

  test("stay the same nodes in their placeholder through every frame and the loop", () => {
    document.body.innerHTML = "";
    view = exportedView("m1", `<b id="n">9</b>${PLACEHOLDER.replace("></span>", '><div id="chart">drawn</div></span>')}`);
    const chart = view.querySelector("#chart");
    new Replay(view, [withChild(0, 0), withChild(1, 100)], { now, paused: false });
    expect(shown()).toBe("0drawn");
    expect(view.querySelector("#chart")).toBe(chart);
    advance(100);
    expect(shown()).toBe("1drawn");
    advance(HOLD_MS);
    expect(shown()).toBe("0drawn");
    expect(view.querySelectorAll("#chart").length).toBe(1);
    expect(view.querySelector("#chart")).toBe(chart);
  });
});

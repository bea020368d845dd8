import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { loadHooks } from "../src/hooks";
import { cleanUp, FakeModel, mountWidget } from "./fake_model";

/** The `_hooks` source a Python user would write; its callbacks log to globalThis.hookLog. */
const HOOKS = `
const log = (...entry) => globalThis.hookLog.push(entry);
export default {
  Counter: {
    mounted() {
      log("mounted", this.el.id, this.el.textContent);
      globalThis.hooks[this.el.id] = this;
      this.pings = this.handleEvent("ping", (p) => log("ping", this.el.id, p));
    },
    beforeUpdate(toEl) { log("beforeUpdate", this.el.id, this.el.textContent, toEl.textContent); },
    updated() { log("updated", this.el.id, this.el.textContent); },
    destroyed() { log("destroyed", this.el.id, this.el.parentNode !== null); }, // still in its view?
    mute() { this.removeHandleEvent(this.pings); },
  },
  Other: {
    mounted() { log("mounted Other", this.el.id); },
    destroyed() { log("destroyed Other", this.el.id); },
  },
  Handle: {
    mounted() { globalThis.hooks[this.el.id] = this; },
  },
  Broken: {
    mounted() { throw new Error("no canvas"); },
  },
};
`;

declare global {
  var hookLog: unknown[][];
  var hooks: Record<string, HookThis>;
}

/** The part of a hook's `this` these tests use. */
interface HookThis {
  el: HTMLElement;
  pushEvent(event: unknown, payload?: unknown, onReply?: (reply: unknown, ref: number) => void): Promise<unknown> | undefined;
  pushEventTo(target: unknown, event: string, payload?: unknown): Promise<unknown> | undefined;
  js(): { exec(encoded: string): void };
  mute(): void;
}

let model: FakeModel;
let el: HTMLElement;
const cleanups: (() => unknown)[] = [];
let seq = 0;

/** A full render of `html` (one static string: enough for these tests). */
const full = (html: string) => model.receive({ type: "full", seq: (seq = 0), rendered: { s: [html] } });
/** Replace the whole HTML with a diff, as a template change would. */
const diff = (html: string) => model.receive({ type: "diff", seq: ++seq, rendered: { s: [html] } });

/** vi.waitFor with room for a loaded machine: the hooks load by a real dynamic import(). */
const waitFor = <T>(check: () => T) => vi.waitFor(check, { timeout: 10_000 });

const banners = () => Array.from(el.querySelectorAll(".lw-error-message"), (b) => b.textContent);
const loaded = () => waitFor(() => expect(model.attrs._hooks === "" || globalThis.hookLog.length > 0 || banners().length > 0).toBe(true));

beforeEach(() => {
  globalThis.hookLog = [];
  globalThis.hooks = {};
  model = new FakeModel({ _hooks: HOOKS });
  el = mountWidget(model, cleanups);
});

afterEach(() => cleanUp(cleanups));

describe("hook lifecycle", () => {
  test("mounted when the element appears, beforeUpdate/updated only when it changes, destroyed when it goes", async () => {
    full('<div id="a" phx-hook="Counter">1</div><p>x</p>');
    await loaded();
    expect(hookLog).toEqual([["mounted", "a", "1"]]);

    diff('<div id="a" phx-hook="Counter">1</div><p>y</p>');
    expect(hookLog).toHaveLength(1); // the hooked element did not change

    diff('<div id="a" phx-hook="Counter">2</div><p>y</p>');
    expect(hookLog.slice(1)).toEqual([
      ["beforeUpdate", "a", "1", "2"],
      ["updated", "a", "2"],
    ]);

    diff("<p>y</p>");
    expect(hookLog.slice(3)).toEqual([["destroyed", "a", false]]);
  });

  test("hooks added by a patch mount after it; the view's teardown destroys the rest", async () => {
    full("<p>x</p>");
    await waitFor(() => expect(model.sent).toHaveLength(1)); // the join; registry loads meanwhile
    diff('<p>x</p><ul><li id="b" phx-hook="Counter">b</li><li id="c" phx-hook="Other"></li></ul>');
    await waitFor(() => expect(hookLog).toHaveLength(2));
    expect(hookLog).toEqual([
      ["mounted", "b", "b"],
      ["mounted Other", "c"],
    ]);
    await cleanUp(cleanups);
    expect(hookLog.slice(2)).toEqual([
      ["destroyed", "b", true],
      ["destroyed Other", "c"],
    ]);
  });

  test("changing an element's phx-hook destroys the old hook and mounts the new one", async () => {
    full('<div id="a" phx-hook="Counter">1</div>');
    await loaded();
    diff('<div id="a" phx-hook="Other">1</div>');
    expect(hookLog).toEqual([
      ["mounted", "a", "1"],
      ["destroyed", "a", true],
      ["mounted Other", "a"],
    ]);
  });

  test("a hook around keyed rows is updated when a row changes, not when only the rest of the page does", async () => {
    // The rows that did not change reach the page as placeholders (rendered.ts toPatch): the
    // hook must see through them.
    const row = { s: ["<li>", "</li>"], k: { "0": { "0": "a" }, "1": { "0": "b" }, kc: 2 } };
    model.receive({ type: "full", seq: (seq = 0), rendered: { s: ['<ul id="a" phx-hook="Counter">', "</ul><p>", "</p>"], "0": row, "1": "x" } });
    await loaded();
    expect(hookLog).toEqual([["mounted", "a", "ab"]]);
    model.receive({ type: "diff", seq: ++seq, rendered: { "1": "y" } });
    expect(el.querySelector("p")?.textContent).toBe("y");
    expect(hookLog).toHaveLength(1);
    model.receive({ type: "diff", seq: ++seq, rendered: { "0": { k: { "1": { "0": "B" }, kc: 2 } } } });
    expect(hookLog.slice(1)).toEqual([
      ["beforeUpdate", "a", "ab", "B"], // toEl: the unchanged row is an empty placeholder there
      ["updated", "a", "aB"],
    ]);
  });

  test("inside phx-update=ignore, a hook is updated only when its id or data-* change", async () => {
    full('<div id="a" phx-hook="Counter" phx-update="ignore" data-v="1">1</div>');
    await loaded();
    diff('<div id="a" phx-hook="Counter" phx-update="ignore" data-v="1">server text</div>');
    expect(hookLog).toHaveLength(1);
    diff('<div id="a" phx-hook="Counter" phx-update="ignore" data-v="2">server text</div>');
    expect(hookLog.slice(1)).toEqual([
      ["beforeUpdate", "a", "1", "server text"],
      ["updated", "a", "1"],
    ]);
  });
});

describe("hook events", () => {
  test("pushEvent sends kind hook with the payload and phx-target's cid; onReply follows the next render", async () => {
    full('<div id="h" phx-hook="Handle" phx-target="7">h</div>');
    await waitFor(() => expect(globalThis.hooks.h).toBeDefined());
    const hook = globalThis.hooks.h as HookThis;
    const replies: unknown[] = [];
    hook.pushEvent("moved", { x: 1, y: [2, 3] }, (reply, ref) => replies.push([reply, ref]));
    expect(model.sent.at(-1)).toEqual({ type: "event", kind: "hook", event: "moved", value: { x: 1, y: [2, 3] }, cid: 7 });
    expect(hook.el.classList.contains("phx-hook-loading")).toBe(true);
    expect(replies).toEqual([]);

    diff('<div id="h" phx-hook="Handle" phx-target="7">h2</div>');
    expect(replies).toEqual([[{}, expect.any(Number)]]);
    expect(hook.el.classList.contains("phx-hook-loading")).toBe(false);
  });

  test("without onReply, pushEvent returns a promise of the (empty) reply; pushEventTo takes a cid", async () => {
    full('<div id="h" phx-hook="Handle">h</div>');
    await waitFor(() => expect(globalThis.hooks.h).toBeDefined());
    const hook = globalThis.hooks.h as HookThis;
    const reply = hook.pushEvent("ping");
    const settled = hook.pushEventTo(4, "to-component", { n: 1 });
    expect(model.sent.slice(-2)).toEqual([
      { type: "event", kind: "hook", event: "ping", value: {}, cid: null },
      { type: "event", kind: "hook", event: "to-component", value: { n: 1 }, cid: 4 },
    ]);
    model.receive({ type: "error", message: "boom", traceback: "" }); // an error answers too
    await expect(reply).resolves.toEqual({});
    await expect(settled).resolves.toEqual([{ status: "fulfilled", value: { reply: {}, ref: expect.any(Number) } }]);
  });

  test("a bad payload, event name or pushEventTo target throws a TypeError that says what was expected", async () => {
    full('<div id="h" phx-hook="Handle">h</div>');
    await waitFor(() => expect(globalThis.hooks.h).toBeDefined());
    const hook = globalThis.hooks.h as HookThis;
    expect(() => hook.pushEvent("e", 42)).toThrow(/payload must be a JSON object, got 42/);
    expect(() => hook.pushEvent("")).toThrow(/needs an event name/);
    expect(() => hook.pushEventTo("#other", "e")).toThrow(/takes a component id .* got "#other"/);
    expect(model.sent).toEqual([{ type: "join" }]);
  });

  test("handleEvent receives push_event payloads until removeHandleEvent", async () => {
    full('<div id="a" phx-hook="Counter">1</div><div id="b" phx-hook="Counter">2</div>');
    await waitFor(() => expect(hookLog).toHaveLength(2));
    model.receive({ type: "push_event", event: "ping", payload: { n: 1 } });
    model.receive({ type: "push_event", event: "other", payload: {} });
    expect(hookLog.slice(2)).toEqual([
      ["ping", "a", { n: 1 }],
      ["ping", "b", { n: 1 }],
    ]);
    (globalThis.hooks.a as HookThis).mute(); // removeHandleEvent
    model.receive({ type: "push_event", event: "ping", payload: { n: 2 } });
    diff('<div id="a" phx-hook="Counter">1</div>'); // b destroyed: its handlers go too
    model.receive({ type: "push_event", event: "ping", payload: { n: 3 } });
    expect(hookLog.filter(([kind]) => kind === "ping").slice(2)).toEqual([["ping", "b", { n: 2 }]]);
  });

  test("this.js().exec runs JS commands from the hook; a push sends kind hook", async () => {
    full('<div id="h" phx-hook="Handle" phx-value-id="9">h</div><p id="p"></p>');
    await waitFor(() => expect(globalThis.hooks.h).toBeDefined());
    (globalThis.hooks.h as HookThis).js().exec('[["push",{"event":"js","value":{"n":1}}],["add_class",{"to":"#p","names":["on"]}]]');
    expect(model.sent.at(-1)).toEqual({ type: "event", kind: "hook", event: "js", value: { id: "9", n: 1 }, cid: null });
    expect(el.querySelector("#p")?.className).toBe("on");
  });
});

describe("hook errors", () => {
  test("a hook without an id, an unknown hook and a throwing callback show banners; the view lives on", async () => {
    full('<div phx-hook="Counter">no id</div><div id="u" phx-hook="Nope"></div><div id="x" phx-hook="Broken"></div>');
    await waitFor(() => expect(banners()).toHaveLength(3));
    expect(banners()).toEqual([
      'livewidget: phx-hook="Counter" needs a unique id on its element (hooks follow their element by id across patches), got <div phx-hook="Counter">',
      'livewidget: unknown hook "Nope" on <div id="u" phx-hook="Nope">; the _hooks module defines "Counter", "Other", "Handle", "Broken"',
      'livewidget: hook "Broken" (#x) mounted() threw: Error: no canvas',
    ]);
    diff('<div phx-hook="Counter">no id</div><div id="u" phx-hook="Nope"></div><div id="x" phx-hook="Broken"></div><p>more</p>');
    expect(banners()).toHaveLength(3); // reported once per element
  });

  test("without _hooks, a phx-hook says how to provide one", () => {
    const bare = new FakeModel();
    const host = mountWidget(bare, cleanups);
    bare.receive({ type: "full", seq: 0, rendered: { s: ['<div id="c" phx-hook="Chart"></div>'] } });
    expect(host.querySelector(".lw-error-message")?.textContent).toMatch(
      /unknown hook "Chart" .* the widget's _hooks is empty \(set it to an ES module whose default export maps "Chart" to a hook object\)/,
    );
  });

  test("a _hooks module that fails to load shows a banner; a new _hooks loads and mounts", async () => {
    const bad = new FakeModel({ _hooks: "export default 42;" });
    const host = mountWidget(bad, cleanups);
    bad.receive({ type: "full", seq: 0, rendered: { s: ['<div id="a" phx-hook="Counter">1</div>'] } });
    await waitFor(() => expect(host.querySelector(".lw-error-message")).not.toBeNull());
    expect(host.querySelector(".lw-error-message")?.textContent).toBe(
      "livewidget could not load the _hooks module: the _hooks module must `export default` an object " +
        "mapping hook names to hook objects, got a default export of 42",
    );
    bad.set("_hooks", HOOKS);
    await waitFor(() => expect(hookLog).toEqual([["mounted", "a", "1"]]));
  });
});

describe("loadHooks", () => {
  const fakeImport = (module: unknown) => () => Promise.resolve(module);

  test("empty source means no hooks, without importing anything", async () => {
    await expect(loadHooks("  \n", () => Promise.reject(new Error("imported")))).resolves.toEqual({});
  });

  test("the default export must map names to objects", async () => {
    await expect(loadHooks("x", fakeImport({ default: { A: () => 1 } }))).rejects.toThrow(
      'hook "A" in _hooks must be an object of callbacks, got a function',
    );
    await expect(loadHooks("x", fakeImport({ hooks: {} }))).rejects.toThrow(/got a default export of undefined/);
  });

  test("real source is imported (a data: URL where Blob modules cannot load)", async () => {
    const registry = await loadHooks("export default { A: { mounted() {} } };");
    expect(Object.keys(registry)).toEqual(["A"]);
  });

  test("a syntax error rejects", async () => {
    await expect(loadHooks("export default {")).rejects.toThrow();
  });
});

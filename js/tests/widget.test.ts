import type { AnyModel } from "@anywidget/types";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import widget from "../src/widget";

type Handler = (...args: unknown[]) => void;

/** Just enough of an anywidget model: traits, events, and a record of what was sent. */
class FakeModel {
  attrs: Record<string, unknown>;
  sent: unknown[] = [];
  saved = 0;
  private handlers = new Map<string, Set<Handler>>();

  constructor(attrs: Record<string, unknown> = {}) {
    this.attrs = { _html: "", ...attrs };
  }
  get(key: string): unknown {
    return this.attrs[key];
  }
  set(key: string, value: unknown): void {
    this.attrs[key] = value;
    this.emit(`change:${key}`);
  }
  on(name: string, fn: Handler): void {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name)?.add(fn);
  }
  off(name?: string | null, fn?: Handler | null): void {
    if (name && fn) this.handlers.get(name)?.delete(fn);
  }
  send(content: unknown): void {
    this.sent.push(content);
  }
  save_changes(): void {
    this.saved++;
  }
  emit(name: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(name) ?? []) fn(...args);
  }
  /** A custom message from the kernel. */
  receive(content: unknown): void {
    this.emit("msg:custom", content, []);
  }
}

let model: FakeModel;
let el: HTMLElement;
const cleanups: (() => unknown)[] = [];

const asModel = (m: FakeModel) => m as unknown as AnyModel;

function mount(m: FakeModel, initialize = true): HTMLElement {
  if (initialize) cleanups.push(widget.initialize({ model: asModel(m) }));
  const host = document.createElement("div");
  document.body.append(host);
  cleanups.push(widget.render({ model: asModel(m), el: host }), () => host.remove());
  return host;
}

const content = (host: HTMLElement) => host.querySelector(".lw-root")?.innerHTML;

beforeEach(() => {
  model = new FakeModel({ _html: "<p>saved</p>" });
  el = mount(model);
});

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe("widget", () => {
  test("shows the saved _html and asks for a full render until one arrives", () => {
    expect(el.querySelector(".livewidget > .lw-root")).not.toBeNull();
    expect(content(el)).toBe("<p>saved</p>");
    expect(model.sent).toEqual([{ type: "join" }]);
  });

  test("a full render then a diff patch the DOM in place and update _html without saving", () => {
    model.receive({ type: "full", seq: 0, rendered: { s: ["<p id=\"c\">", "</p><i>", "</i>"], "0": "1", "1": "x" } });
    expect(content(el)).toBe('<p id="c">1</p><i>x</i>');
    const p = el.querySelector("#c");

    model.receive({ type: "diff", seq: 1, rendered: { "0": "2" } });
    expect(content(el)).toBe('<p id="c">2</p><i>x</i>');
    expect(el.querySelector("#c")).toBe(p);
    expect(model.attrs._html).toBe('<p id="c">2</p><i>x</i>');
    expect(model.saved).toBe(0);
  });

  test("a gap in the sequence is ignored and sends one join until the next full render", () => {
    model.receive({ type: "full", seq: 4, rendered: { s: ["<b>", "</b>"], "0": "a" } });
    model.sent = [];
    model.receive({ type: "diff", seq: 6, rendered: { "0": "lost" } });
    model.receive({ type: "diff", seq: 7, rendered: { "0": "lost too" } });
    expect(content(el)).toBe("<b>a</b>");
    expect(model.sent).toEqual([{ type: "join" }]);

    model.receive({ type: "full", seq: 7, rendered: { s: ["<b>", "</b>"], "0": "back" } });
    model.receive({ type: "diff", seq: 8, rendered: { "0": "on" } });
    expect(content(el)).toBe("<b>on</b>");
    model.receive({ type: "diff", seq: 10, rendered: { "0": "gap" } });
    expect(model.sent).toEqual([{ type: "join" }, { type: "join" }]);
  });

  test("an error shows a dismissable banner with its traceback and keeps the content", () => {
    model.receive({ type: "full", seq: 0, rendered: { s: ["<p>", "</p>"], "0": "ok" } });
    model.receive({ type: "error", message: "ZeroDivisionError: division by zero", traceback: "Traceback...\n  x = 1/0" });
    const banner = el.querySelector(".lw-error[role=alert]") as HTMLElement;
    expect(banner.textContent).toContain("ZeroDivisionError: division by zero");
    expect(banner.querySelector("details pre")?.textContent).toBe("Traceback...\n  x = 1/0");
    expect(content(el)).toBe("<p>ok</p>");

    (banner.querySelector("button.lw-error-dismiss") as HTMLButtonElement).click();
    expect(el.querySelector(".lw-error")).toBeNull();
    expect(model.sent).toEqual([{ type: "join" }]); // the dismiss click is no phx event
  });

  test("a malformed message shows an error that says what was expected", () => {
    model.receive({ type: "diff", rendered: {} });
    expect(el.querySelector(".lw-error")?.textContent).toMatch(/expected \{"type": "diff", "seq": <number>/);
  });

  test("a diff that cannot be merged shows an error and asks for a full render", () => {
    model.receive({ type: "full", seq: 0, rendered: { s: ["<p>", "</p>"], "0": "ok" } });
    model.sent = [];
    model.receive({ type: "diff", seq: 1, rendered: { "0": { s: 9 } } });
    expect(el.querySelector(".lw-error")?.textContent).toMatch(/could not apply payload 1/);
    expect(content(el)).toBe("<p>ok</p>");
    expect(model.sent).toEqual([{ type: "join" }]);
  });

  test("every view of one model is patched, and a new view starts from the current tree", () => {
    model.receive({ type: "full", seq: 0, rendered: { s: ["<b>", "</b>"], "0": "1" } });
    const second = mount(model, false);
    expect(content(second)).toBe("<b>1</b>");
    model.receive({ type: "diff", seq: 1, rendered: { "0": "2" } });
    expect(content(el)).toBe("<b>2</b>");
    expect(content(second)).toBe("<b>2</b>");
    expect(model.sent).toEqual([{ type: "join" }]); // the second view found a tree: no join
  });

  test("phx events go to the kernel", () => {
    model.receive({ type: "full", seq: 0, rendered: { s: ['<button phx-click="inc" phx-value-by="', '">+</button>'], "0": "2" } });
    (el.querySelector("button") as HTMLButtonElement).click();
    expect(model.sent.at(-1)).toEqual({ type: "event", kind: "click", event: "inc", value: { by: "2" }, cid: null });
  });

  test("push_event dispatches phx:<event> on the view root", () => {
    const root = el.querySelector(".lw-root") as HTMLElement;
    const seen: unknown[] = [];
    root.addEventListener("phx:highlight", (e) => seen.push((e as CustomEvent).detail));
    model.receive({ type: "push_event", event: "highlight", payload: { id: 3 } });
    expect(seen).toEqual([{ id: 3 }]);
  });

  test("before the first render, a new _html from the kernel shows at once", () => {
    model.set("_html", "<p>newer</p>");
    expect(content(el)).toBe("<p>newer</p>");
  });

  test("cleanup removes the view and stops patching it", async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
    expect(el.querySelector(".livewidget")).toBeNull();
    model.receive({ type: "full", seq: 0, rendered: { s: ["<b>", "</b>"], "0": "1" } });
    expect(model.attrs._html).toBe("<p>saved</p>"); // the model's listener is gone too
  });
});

describe("a host that does not call initialize", () => {
  test("gives the view a model state of its own", () => {
    const bare = new FakeModel();
    const host = mount(bare, false);
    expect(bare.sent).toEqual([{ type: "join" }]);
    bare.receive({ type: "full", seq: 0, rendered: { s: ["<b>", "</b>"], "0": "alone" } });
    expect(content(host)).toBe("<b>alone</b>");
  });
});

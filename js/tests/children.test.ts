/**
 * Jupyter widgets inside a view (children.ts, through widget.ts): placed from a fake widget
 * manager with the calls of the real one (get_model, create_view), kept through patches,
 * removed with their placeholder, and left alone by the view's bindings.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { inChild } from "../src/children";
import { cleanUp, FakeModel, mountWidget } from "./fake_model";

const SLIDER = "0123456789abcdef0123456789abcdef";
const CHART = "fedcba9876543210fedcba9876543210";

/** The placeholder statics of livewidget/children.py, as a nested rendered. */
const child = (id: string) => ({
  s: ['<span class="lw-child" data-lw-widget="', '" id="lw-child-', '" phx-update="ignore"></span>'],
  "0": id,
  "1": id,
});

class FakeView {
  readonly el: HTMLElement;
  removed = 0;
  messages: string[] = [];
  readonly luminoWidget = {
    isAttached: false,
    processMessage: (message: { type: string }) => {
      this.messages.push(message.type);
      if (message.type === "after-attach") this.luminoWidget.isAttached = true;
      if (message.type === "after-detach") this.luminoWidget.isAttached = false;
    },
  };
  constructor(readonly id: string) {
    this.el = document.createElement("div");
    this.el.className = "fake-child";
    this.el.innerHTML = `<input type="range" class="handle" data-of="${id}">`;
  }
  remove(): void {
    this.removed++;
    this.el.remove();
  }
}

class FakeManager {
  readonly models = new Set([SLIDER, CHART]);
  readonly views: FakeView[] = [];
  asked: string[] = [];
  async get_model(id: string): Promise<{ id: string }> {
    this.asked.push(id);
    if (!this.models.has(id)) throw new Error(`widget model not found: ${id}`);
    return { id };
  }
  async create_view(model: unknown): Promise<FakeView> {
    const view = new FakeView((model as { id: string }).id);
    this.views.push(view);
    return view;
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(() => cleanUp(cleanups));

/** Let the manager's promises resolve. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup(manager: FakeManager | null = new FakeManager()) {
  const model = new FakeModel();
  if (manager) Object.assign(model, { widget_manager: manager });
  const el = mountWidget(model, cleanups);
  return { model, el, manager: manager as FakeManager };
}

const full = (n: number, ...ids: string[]) => ({
  type: "full",
  seq: 0,
  rendered: { s: ["<p>", "</p>", ...ids.map(() => "")], "0": String(n), ...Object.fromEntries(ids.map((id, i) => [String(i + 1), child(id)])) },
});

describe("child widgets", () => {
  test("a placeholder gets the widget's view, which stays the same node through ten diffs", async () => {
    const { model, el, manager } = setup();
    model.receive(full(0, SLIDER));
    await settle();
    const placed = el.querySelector(`#lw-child-${SLIDER} > .fake-child`) as HTMLElement & { mark?: string };
    expect(placed).toBe(manager.views[0].el);
    placed.mark = "same node";
    for (let tick = 1; tick <= 10; tick++) model.receive({ type: "diff", seq: tick, rendered: { "0": String(tick) } });
    await settle();
    expect(el.querySelector(".lw-root p")?.textContent).toBe("10");
    expect((el.querySelector(`#lw-child-${SLIDER} > .fake-child`) as typeof placed).mark).toBe("same node");
    expect(manager.views).toHaveLength(1);
    expect(manager.views[0].messages).toEqual(["before-attach", "after-attach"]);
  });

  test("a placeholder that a diff removes takes its view with it, detached first", async () => {
    const { model, el, manager } = setup();
    model.receive(full(1, SLIDER, CHART));
    await settle();
    expect(el.querySelectorAll(".fake-child")).toHaveLength(2);
    model.receive({ type: "diff", seq: 1, rendered: { "2": "" } });
    await settle();
    const chart = manager.views.find((v) => v.id === CHART);
    expect(chart?.removed).toBe(1);
    expect(chart?.messages).toEqual(["before-attach", "after-attach", "before-detach", "after-detach"]);
    expect(el.querySelectorAll(".fake-child")).toHaveLength(1);
    expect(manager.views.find((v) => v.id === SLIDER)?.removed).toBe(0);
  });

  test("a child whose view comes after its placeholder went is removed at once", async () => {
    const { model, el, manager } = setup();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const create = manager.create_view.bind(manager);
    manager.create_view = async (m: unknown) => {
      await held;
      return create(m);
    };
    model.receive(full(1, SLIDER));
    await settle(); // the model is found, its view is being made
    model.receive({ type: "diff", seq: 1, rendered: { "1": "" } });
    release();
    await settle();
    expect(manager.views.map((v) => v.removed)).toEqual([1]);
    expect(el.querySelector(".fake-child")).toBeNull();

    model.receive({ type: "diff", seq: 2, rendered: { "1": child(SLIDER) } }); // and back
    await settle();
    expect(manager.views.map((v) => v.removed)).toEqual([1, 0]);
    expect(el.querySelector(".fake-child")).toBe(manager.views[1].el);
  });

  test("each view of the widget shows its own view of the child, and unmounting removes it", async () => {
    const manager = new FakeManager();
    const { model, el } = setup(manager);
    const second = mountWidget(model, cleanups, false);
    model.receive(full(1, SLIDER));
    await settle();
    expect(manager.views).toHaveLength(2);
    expect(el.querySelector(".fake-child")).not.toBe(second.querySelector(".fake-child"));
    await cleanUp(cleanups);
    expect(manager.views.map((v) => v.removed)).toEqual([1, 1]);
  });

  test("the saved _html shows its children too, before any render arrives", async () => {
    const manager = new FakeManager();
    const model = new FakeModel({
      _html: `<b>saved</b><span class="lw-child" data-lw-widget="${SLIDER}" id="lw-child-${SLIDER}" phx-update="ignore"></span>`,
    });
    Object.assign(model, { widget_manager: manager });
    const el = mountWidget(model, cleanups);
    await settle();
    expect(el.querySelector(`#lw-child-${SLIDER} .fake-child`)).not.toBeNull();
  });

  test("a closed widget, a bad id or no widget manager leave the placeholder empty", async () => {
    const { model, el, manager } = setup();
    manager.models.delete(CHART);
    model.receive(full(1, SLIDER, CHART, "not-hex\" onclick=\"x"));
    await settle();
    expect(manager.asked).toEqual([SLIDER, CHART]); // the bad id is never asked for
    expect(el.querySelectorAll(".fake-child")).toHaveLength(1);
    expect(el.querySelector(".lw-error")?.textContent).toContain("expected hex digits");

    const bare = setup(null);
    bare.model.receive(full(1, SLIDER));
    await settle();
    expect(bare.el.querySelector(`#lw-child-${SLIDER}`)?.childElementCount).toBe(0);
  });

  test("a widget shown inside its own placeholder is left out there", async () => {
    const manager = new FakeManager();
    const { model, el } = setup(manager);
    model.receive(full(1, SLIDER));
    await settle();
    // the child's view holds a placeholder of the same model (a view inside itself)
    manager.views[0].el.innerHTML = `<span data-lw-widget="${SLIDER}" id="inner"></span>`;
    const inner = el.querySelector("#inner") as HTMLElement;
    expect(inChild(el.querySelector(".lw-root") as HTMLElement, inner)).toBe(true);
    model.receive({ type: "diff", seq: 1, rendered: { "0": "2" } });
    await settle();
    expect(manager.views).toHaveLength(1); // the inner placeholder is the child's, not ours
  });

  test("events inside a child fire none of the view's bindings, window keys included", async () => {
    const manager = new FakeManager();
    const model = new FakeModel();
    Object.assign(model, { widget_manager: manager });
    const el = mountWidget(model, cleanups);
    model.receive({
      type: "full",
      seq: 0,
      rendered: {
        s: ['<div phx-click="clicked" phx-window-keydown="key" phx-keydown="elkey">', "</div>"],
        "0": child(SLIDER),
      },
    });
    await settle();
    model.sent = [];
    const handle = el.querySelector(".fake-child .handle") as HTMLInputElement;
    handle.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    handle.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    handle.dispatchEvent(new Event("input", { bubbles: true }));
    expect(model.sent).toEqual([]);
    // outside the child the same bindings fire
    (el.querySelector(".lw-root div") as HTMLElement).dispatchEvent(new MouseEvent("click", { bubbles: true }));
    document.body.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(model.sent.map((m) => (m as { event: string }).event)).toEqual(["clicked", "key"]);
  });

  test("a phx-hook inside a child is the child's: the view around it mounts none there", async () => {
    const manager = new FakeManager();
    const model = new FakeModel({
      _hooks: 'export default { Mark: { mounted() { this.el.dataset.hooked = "yes"; } } };',
    });
    Object.assign(model, { widget_manager: manager });
    const el = mountWidget(model, cleanups);
    model.receive({ type: "full", seq: 0, rendered: { s: ['<i id="own" phx-hook="Mark"></i>', ""], "0": child(SLIDER) } });
    const own = () => (el.querySelector("#own") as HTMLElement).dataset.hooked;
    await vi.waitFor(() => expect(own()).toBe("yes"), { timeout: 10_000 });
    manager.views[0].el.innerHTML = '<i id="inner" phx-hook="Mark"></i>';
    model.receive({ type: "diff", seq: 1, rendered: {} });
    await settle();
    expect((el.querySelector("#inner") as HTMLElement).dataset.hooked).toBeUndefined();
  });
});

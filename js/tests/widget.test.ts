import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { cleanUp, FakeModel, mountWidget } from "./fake_model";

let model: FakeModel;
let el: HTMLElement;
const cleanups: (() => unknown)[] = [];

const mount = (m: FakeModel, initialize = true) => mountWidget(m, cleanups, initialize);

const content = (host: HTMLElement) => host.querySelector(".lw-root")?.innerHTML;

beforeEach(() => {
  model = new FakeModel({ _html: "<p>saved</p>" });
  el = mount(model);
});

afterEach(() => cleanUp(cleanups));

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

  test("a join that no full render answers is sent again, 1 s, 2 s, 4 s ... up to 30 s apart", () => {
    vi.useFakeTimers();
    try {
      const m = new FakeModel();
      mount(m); // its join is lost, or the full render answering it is
      const joinsAfter = (ms: number) => {
        vi.advanceTimersByTime(ms);
        return m.sent.length;
      };
      expect(m.sent).toEqual([{ type: "join" }]);
      expect(joinsAfter(999)).toBe(1);
      expect(joinsAfter(1)).toBe(2);
      expect(joinsAfter(2_000)).toBe(3);
      expect(joinsAfter(4_000)).toBe(4);
      expect(joinsAfter(8_000 + 16_000 + 30_000 + 30_000)).toBe(8);
      expect(m.sent.every((msg) => JSON.stringify(msg) === '{"type":"join"}')).toBe(true);

      m.receive({ type: "full", seq: 3, rendered: { s: ["<b>", "</b>"], "0": "here" } });
      expect(joinsAfter(120_000)).toBe(8); // answered: no more joins
      m.receive({ type: "diff", seq: 5, rendered: { "0": "gap" } });
      expect(m.sent.length).toBe(9); // a new gap joins at once, and the waits start again at 1 s
      expect(joinsAfter(1_000)).toBe(10);
    } finally {
      vi.useRealTimers();
    }
  });

  test("a settled seq other than the last applied one means a lost payload: join", () => {
    model.receive({ type: "full", seq: 4, rendered: { s: ["<b>", "</b>"], "0": "a" } });
    model.sent = [];
    model.receive({ type: "settled", seq: 4 });
    expect(model.sent).toEqual([]);
    model.receive({ type: "settled", seq: 5 }); // diff 5 never came
    expect(model.sent).toEqual([{ type: "join" }]);
    expect(content(el)).toBe("<b>a</b>");
    model.receive({ type: "full", seq: 6, rendered: { s: ["<b>", "</b>"], "0": "b" } });
    expect(content(el)).toBe("<b>b</b>");
  });

  test("a settled message without a numeric seq says what was expected", () => {
    model.receive({ type: "settled", seq: "4" });
    expect(el.querySelector(".lw-error")?.textContent).toMatch(/expected \{"type": "settled", "seq": <number>\}/);
  });

  test("with no kernel to reach, a join is not sent again", () => {
    vi.useFakeTimers();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const m = new FakeModel();
      let tries = 0;
      m.send = () => {
        tries++;
        throw new Error("no kernel");
      };
      mount(m);
      vi.advanceTimersByTime(60_000);
      expect(tries).toBe(1);
    } finally {
      warn.mockRestore();
      vi.useRealTimers();
    }
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
    // every view announces itself, even one that found a tree: the kernel learns a page shows it
    expect(model.sent).toEqual([{ type: "join" }, { type: "join" }]);
  });

  test("a stream's rows stay in every view, a new one included, through the full render it asks for", () => {
    const rows = (ids: number[], at: number) => ({
      k: { ...ids.map((id) => ({ "0": `s-${id}` })), kc: ids.length },
      stream: ["3", ids.map((id) => [`s-${id}`, at, null, false]), []],
    });
    const page = (batch: object) => ({ s: ['<ul id="s" phx-update="stream">', "</ul>"], "0": batch });
    const li = (ids: number[]) => ids.map((id) => `<li id="s-${id}"></li>`).join("");
    const rowStatics = { s: ['<li id="', '"></li>'] };
    model.receive({ type: "full", seq: 0, rendered: page({ ...rowStatics, ...rows([1], -1) }) });
    model.receive({ type: "diff", seq: 1, rendered: { "0": rows([2], 0) } });
    const second = mount(model, false); // it joins: the kernel answers with a full render
    model.receive({ type: "full", seq: 2, rendered: page({ ...rowStatics, ...rows([], -1) }) });
    model.receive({ type: "diff", seq: 3, rendered: { "0": rows([3], 0) } });
    const html = `<ul id="s" phx-update="stream">${li([3, 2, 1])}</ul>`;
    expect(content(el)).toBe(html);
    expect(content(second)).toBe(html);
    expect(model.attrs._html).toBe(html);
  });

  test("phx events go to the kernel", () => {
    model.receive({ type: "full", seq: 0, rendered: { s: ['<button phx-click="inc" phx-value-by="', '">+</button>'], "0": "2" } });
    (el.querySelector("button") as HTMLButtonElement).click();
    expect(model.sent.at(-1)).toEqual({
      type: "event", kind: "click", event: "inc", value: { by: "2", value: "" }, cid: null,
    });
  });

  test("a submit while a change of the same form is in flight is sent; a second submit is not", () => {
    model.receive({
      type: "full", seq: 0,
      rendered: { s: ['<form phx-change="validate" phx-submit="save"><input name="age" value="', '"></form>'], "0": "" },
    });
    const form = el.querySelector("form") as HTMLFormElement;
    const input = form.querySelector("input") as HTMLInputElement;
    input.value = "36";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    expect(form.classList.contains("phx-change-loading")).toBe(true); // not answered yet
    const submit = () => form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    submit();
    submit();
    const events = model.sent.filter((m) => (m as { type: string }).type === "event");
    expect(events.map((m) => (m as { event: string }).event)).toEqual(["validate", "save"]);
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
    await cleanUp(cleanups);
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

describe("bindings in the widget", () => {
  const FORM =
    '<form phx-submit="save"><input name="q" value="a">' +
    '<button id="go" phx-disable-with="Saving..."><b>Save</b> it</button></form>';

  test("phx-disable-with holds until the next render, which then has the last word", () => {
    model.receive({ type: "full", seq: 0, rendered: { s: [FORM] } });
    const button = el.querySelector("#go") as HTMLButtonElement;
    button.click();
    expect(model.sent.at(-1)).toEqual({ type: "event", kind: "form", event: "save", value: "q=a", cid: null });
    expect(button.outerHTML).toBe('<button id="go" phx-disable-with="Saving..." class="phx-submit-loading" disabled="">Saving...</button>');
    expect(el.querySelector("form")?.classList.contains("phx-submit-loading")).toBe(true);

    model.receive({ type: "diff", seq: 1, rendered: { s: [FORM.replace("<b>Save</b> it", "<b>Save</b> again")] } });
    expect(el.querySelector("#go")).toBe(button);
    expect(button.outerHTML).toBe('<button id="go" phx-disable-with="Saving..."><b>Save</b> again</button>');
    expect(el.querySelector("form")?.outerHTML.startsWith("<form phx-submit=\"save\">")).toBe(true);
  });

  test("an error message answers too; a second submit while in flight is not sent", () => {
    model.receive({ type: "full", seq: 0, rendered: { s: [FORM] } });
    const button = el.querySelector("#go") as HTMLButtonElement;
    button.click();
    (el.querySelector("form") as HTMLFormElement).requestSubmit(); // Enter in the field
    expect(model.sent).toHaveLength(2); // the join and one submit
    model.receive({ type: "error", message: "ValueError", traceback: "" });
    expect(button.disabled).toBe(false);
    expect(button.textContent).toBe("Save it");
  });

  test("what JS commands did survives the next diff", () => {
    const page = (n: string) =>
      `<button phx-click='[["toggle",{"to":"#menu"}],["add_class",{"to":"#menu","names":["open"]}]]'>menu</button>` +
      `<ul id="menu" class="menu"><li>${n}</li></ul>`;
    model.receive({ type: "full", seq: 0, rendered: { s: [page("1")] } });
    (el.querySelector("button") as HTMLButtonElement).click();
    model.receive({ type: "diff", seq: 1, rendered: { s: [page("2")] } });
    expect(el.querySelector("#menu")?.outerHTML).toBe('<ul id="menu" class="menu open" style="display: none;"><li>2</li></ul>');
    expect(model.sent).toEqual([{ type: "join" }]); // no push: nothing sent
  });

  test("a window key is sent once for all views of a widget, and not after they are gone", async () => {
    model.receive({ type: "full", seq: 0, rendered: { s: ['<div phx-window-keydown="key" phx-key="ArrowUp"></div>'] } });
    mount(model, false);
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp" }));
    expect(model.sent).toEqual([
      { type: "join" },
      { type: "join" },
      { type: "event", kind: "keydown", event: "key", value: { key: "ArrowUp" }, cid: null },
    ]);
    await cleanUp(cleanups);
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp" }));
    expect(model.sent).toHaveLength(3);
  });
});

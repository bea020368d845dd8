/**
 * served_widgets.ts: anywidget's model and lifecycle over a served page's socket, with the
 * messages the server sends (livewidget/serve/widgets.py) and a fake module loader.
 */
import { describe, expect, it, vi } from "vitest";
import { putBuffers, removeBuffers, ServedWidgets, WidgetModel } from "../src/served_widgets";
import { SocketModel } from "../src/transport";
import { FakeSocket } from "./fake_socket";

const ID = "0123456789abcdef0123456789abcdef";
const b64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));

function host(modules: Record<string, unknown> = {}) {
  const sent: any[] = [];
  const load = vi.fn(async (url: string) => {
    if (!(url in modules)) throw new Error(`no module ${url}`);
    return modules[url];
  });
  return { widgets: new ServedWidgets((c) => sent.push(c), document, load), sent, load };
}

function open(widgets: ServedWidgets, more: object = {}) {
  widgets.handle({ type: "widget", id: ID, method: "open", esm: "/m.js", name: "Counter", state: { value: 1 }, ...more });
}

describe("ServedWidgets", () => {
  it("gives the model once the server opens it, with its state and buffers as DataViews", async () => {
    const { widgets } = host();
    const waiting = widgets.get_model(ID);
    open(widgets, { state: { value: 1, data: null }, buffer_paths: [["data"]], buffers: [b64([7, 8])] });
    const model = (await waiting) as WidgetModel;
    expect(model.get("value")).toBe(1);
    const data = model.get("data") as DataView;
    expect([data.getUint8(0), data.getUint8(1)]).toEqual([7, 8]);
    expect(await widgets.get_model(ID)).toBe(model);
  });

  it("sends what was set at save_changes, buffers apart, and fires change listeners at set", async () => {
    const { widgets, sent } = host();
    open(widgets);
    const model = (await widgets.get_model(ID)) as WidgetModel;
    const seen: unknown[] = [];
    model.on("change:value", () => seen.push(model.get("value")));
    const bytes = new Uint8Array([1, 2, 255]);
    model.set("value", 2);
    model.set("value", 2); // unchanged: no event, nothing more to send
    model.set("blob", { raw: bytes });
    expect(seen).toEqual([2]);
    expect(sent).toEqual([]);
    model.save_changes();
    expect(sent).toEqual([
      {
        type: "widget",
        id: ID,
        method: "update",
        state: { value: 2, blob: { raw: null } },
        buffer_paths: [["blob", "raw"]],
        buffers: [b64([1, 2, 255])],
      },
    ]);
    expect((model.get("blob") as { raw: Uint8Array }).raw).toBe(bytes); // the model keeps it
    model.save_changes();
    expect(sent).toHaveLength(1);
  });

  it("applies the server's updates and custom messages to the model's listeners, sending nothing", async () => {
    const { widgets, sent } = host();
    open(widgets);
    const model = (await widgets.get_model(ID)) as WidgetModel;
    const events: unknown[] = [];
    model.on("change:value", () => events.push(["value", model.get("value")]));
    model.on("msg:custom", (content: unknown, buffers: DataView[]) => events.push(["custom", content, buffers.length]));
    widgets.handle({ type: "widget", id: ID, method: "update", state: { value: 5 }, buffer_paths: [], buffers: [] });
    widgets.handle({ type: "widget", id: ID, method: "custom", content: { hi: 1 }, buffers: [b64([1])] });
    model.send({ back: true });
    expect(events).toEqual([
      ["value", 5],
      ["custom", { hi: 1 }, 1],
    ]);
    expect(sent).toEqual([{ type: "widget", id: ID, method: "custom", content: { back: true }, buffers: [] }]);
  });

  it("imports the module once, initializes the model once and renders each view", async () => {
    const calls: string[] = [];
    const def = {
      initialize: () => void calls.push("initialize"),
      render: ({ el, model }: { el: HTMLElement; model: WidgetModel }) => {
        calls.push("render");
        el.textContent = `value ${model.get("value")}`;
        return () => calls.push("cleanup");
      },
    };
    const { widgets, load } = host({ "/m.js": { default: def } });
    open(widgets);
    const model = await widgets.get_model(ID);
    const first = await widgets.create_view(model);
    const second = await widgets.create_view(model);
    document.body.append(first.el, second.el);
    await new Promise((done) => setTimeout(done, 5));
    expect(first.el.textContent).toBe("value 1");
    expect(calls).toEqual(["initialize", "render", "render"]);
    expect(load).toHaveBeenCalledTimes(1);
    first.remove();
    expect(calls.at(-1)).toBe("cleanup");
    expect(first.el.isConnected).toBe(false);
  });

  it("cleans up a view removed before its render was done", async () => {
    const cleaned = vi.fn();
    const { widgets } = host({ "/m.js": { default: { render: async () => cleaned } } });
    open(widgets);
    const view = await widgets.create_view(await widgets.get_model(ID));
    view.remove(); // before the deferred render ran
    await new Promise((done) => setTimeout(done, 5));
    expect(cleaned).not.toHaveBeenCalled(); // it never rendered
    const second = await widgets.create_view(await widgets.get_model(ID));
    await new Promise((done) => setTimeout(done, 0)); // the render starts, its cleanup pending
    second.remove();
    await new Promise((done) => setTimeout(done, 5));
    expect(cleaned).toHaveBeenCalledTimes(1);
  });

  it("takes a module whose default export is a function returning the widget", async () => {
    const { widgets } = host({ "/m.js": { default: async () => ({ render: ({ el }: { el: HTMLElement }) => (el.id = "drawn") }) } });
    open(widgets);
    const view = await widgets.create_view(await widgets.get_model(ID));
    await new Promise((done) => setTimeout(done, 5));
    expect(view.el.id).toBe("drawn");
  });

  it("shows a note in the place of a widget that is no anywidget", async () => {
    const { widgets, load } = host();
    widgets.handle({ type: "widget", id: ID, method: "open", esm: null, name: "IntSlider", needs: "manager" });
    const view = await widgets.create_view(await widgets.get_model(ID));
    expect(view.el.className).toBe("lw-widget-note");
    expect(view.el.textContent).toContain("IntSlider is a Jupyter widget that needs Jupyter's widget manager");
    expect(load).not.toHaveBeenCalled();
  });

  it("says so in the widget's place when its module does not load", async () => {
    const { widgets } = host(); // no module at /m.js
    open(widgets);
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const view = await widgets.create_view(await widgets.get_model(ID));
    expect(view.el.className).toBe("lw-widget-note");
    expect(view.el.textContent).toContain("Counter could not load");
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });

  it("puts the widget's _css in the page's head while the model is open", async () => {
    const { widgets } = host();
    open(widgets, { state: { _css: ".x { color: red; }" } });
    const style = () => document.head.querySelector(`style[data-lw-widget="${ID}"]`);
    expect(style()?.textContent).toBe(".x { color: red; }");
    widgets.handle({ type: "widget", id: ID, method: "close" });
    expect(style()).toBeNull();
  });

  it("keeps a model the server opens again, so that the views holding it stay live", async () => {
    const { widgets } = host();
    open(widgets);
    const model = await widgets.get_model(ID);
    open(widgets, { state: { value: 9 } });
    expect(await widgets.get_model(ID)).toBe(model);
    expect((model as WidgetModel).get("value")).toBe(9);
  });
});

describe("ipywidgets' controls, drawn by the page", () => {
  async function control(builtin: string, state: object) {
    const { widgets, sent } = host();
    widgets.handle({ type: "widget", id: ID, method: "open", esm: null, builtin, name: builtin, state });
    const view = await widgets.create_view(await widgets.get_model(ID));
    document.body.append(view.el);
    await new Promise((done) => setTimeout(done, 5));
    return { widgets, sent, el: view.el, view };
  }

  it("draws a slider that sends its value as it moves, and follows Python's", async () => {
    const { widgets, sent, el } = await control("IntSliderModel", {
      value: 3, min: 0, max: 10, step: 1, description: "speed", continuous_update: true, readout: true, readout_format: "d",
    });
    const input = el.querySelector("input[type=range]") as HTMLInputElement;
    expect([input.value, input.max, el.querySelector(".lw-control-description")?.textContent]).toEqual(["3", "10", "speed"]);
    input.value = "7";
    input.dispatchEvent(new Event("input"));
    expect(sent.at(-1)).toMatchObject({ method: "update", state: { value: 7 } });
    widgets.handle({ type: "widget", id: ID, method: "update", state: { value: 2, max: 5 }, buffer_paths: [], buffers: [] });
    expect([input.value, input.max, el.querySelector("output")?.textContent]).toEqual(["2", "5", "2"]);
  });

  it("sends a slider's value on release only when continuous_update is off", async () => {
    const { sent, el } = await control("FloatSliderModel", { value: 0.5, min: 0, max: 1, step: 0.1, continuous_update: false, readout_format: ".2f" });
    const input = el.querySelector("input") as HTMLInputElement;
    expect(el.querySelector("output")?.textContent).toBe("0.50");
    input.value = "0.7";
    input.dispatchEvent(new Event("input"));
    expect(sent).toEqual([]);
    input.dispatchEvent(new Event("change"));
    expect(sent.at(-1)).toMatchObject({ state: { value: 0.7 } });
  });

  it("draws a dropdown that sends the index chosen", async () => {
    const { sent, el } = await control("DropdownModel", { _options_labels: ["a", "b", "c"], index: 1, description: "pick" });
    const select = el.querySelector("select") as HTMLSelectElement;
    expect(Array.from(select.options).map((o) => o.text)).toEqual(["a", "b", "c"]);
    expect(select.selectedIndex).toBe(1);
    select.selectedIndex = 2;
    select.dispatchEvent(new Event("change"));
    expect(sent.at(-1)).toMatchObject({ state: { index: 2 } });
  });

  it("draws a button whose click is the custom message ipywidgets' on_click hears", async () => {
    const { sent, el } = await control("ButtonModel", { description: "go" });
    const button = el.querySelector("button") as HTMLButtonElement;
    expect(button.textContent).toBe("go");
    button.click();
    expect(sent.at(-1)).toEqual({ type: "widget", id: ID, method: "custom", content: { event: "click" }, buffers: [] });
  });

  it("draws a checkbox and a text field, the description as text", async () => {
    const box = await control("CheckboxModel", { value: false, description: "<b>on</b>", description_allow_html: false });
    const input = box.el.querySelector("input") as HTMLInputElement;
    input.checked = true;
    input.dispatchEvent(new Event("change"));
    expect(box.sent.at(-1)).toMatchObject({ state: { value: true } });
    expect(box.el.querySelector(".lw-control-description")?.textContent).toBe("<b>on</b>");
    expect(box.el.querySelector("b")).toBeNull();
    const text = await control("TextModel", { value: "hi", placeholder: "name", continuous_update: true });
    const field = text.el.querySelector("input") as HTMLInputElement;
    expect([field.value, field.placeholder]).toEqual(["hi", "name"]);
    field.value = "hello";
    field.dispatchEvent(new Event("input"));
    expect(text.sent.at(-1)).toMatchObject({ state: { value: "hello" } });
  });

  it("draws a range slider whose page change sends the ordered pair", async () => {
    const { widgets, sent, el } = await control("IntRangeSliderModel", { value: [2, 5], min: 0, max: 10, step: 1, continuous_update: true, readout_format: "d" });
    const [low, high] = Array.from(el.querySelectorAll("input[type=range]")) as HTMLInputElement[];
    expect([low.value, high.value, el.querySelector("output")?.textContent]).toEqual(["2", "5", "2 – 5"]);
    low.value = "8"; // dragged past the other thumb
    low.dispatchEvent(new Event("input"));
    expect(sent.at(-1)).toMatchObject({ method: "update", state: { value: [5, 8] } });
    widgets.handle({ type: "widget", id: ID, method: "update", state: { value: [1, 9] } });
    expect([low.value, high.value]).toEqual(["1", "9"]);
  });

  it("draws a SelectMultiple whose index is the tuple chosen, and a Select's list", async () => {
    const { sent, el } = await control("SelectMultipleModel", { _options_labels: ["a", "b", "c"], index: [1], rows: 3 });
    const select = el.querySelector("select") as HTMLSelectElement;
    expect([select.multiple, select.size, Array.from(select.options).filter((o) => o.selected).map((o) => o.text)]).toEqual([true, 3, ["b"]]);
    select.options[2].selected = true;
    select.dispatchEvent(new Event("change"));
    expect(sent.at(-1)).toMatchObject({ state: { index: [1, 2] } });
    const single = await control("SelectModel", { _options_labels: ["x", "y"], index: 0, rows: 4 });
    const list = single.el.querySelector("select") as HTMLSelectElement;
    expect([list.multiple, list.size, list.selectedIndex]).toEqual([false, 4, 0]);
  });

  it("draws ToggleButtons and a SelectionSlider that send the index chosen", async () => {
    const toggles = await control("ToggleButtonsModel", { _options_labels: ["day", "week"], index: 0, tooltips: ["per day"] });
    const buttons = Array.from(toggles.el.querySelectorAll("button"));
    expect(buttons.map((b) => [b.textContent, b.getAttribute("aria-pressed"), b.title])).toEqual([
      ["day", "true", "per day"],
      ["week", "false", ""],
    ]);
    buttons[1].click();
    expect(toggles.sent.at(-1)).toMatchObject({ state: { index: 1 } });
    const slider = await control("SelectionSliderModel", { _options_labels: ["lo", "mid", "hi"], index: 1, continuous_update: true });
    const input = slider.el.querySelector("input") as HTMLInputElement;
    expect([input.max, input.value, slider.el.querySelector("output")?.textContent]).toEqual(["2", "1", "mid"]);
    input.value = "2";
    input.dispatchEvent(new Event("input"));
    expect(slider.sent.at(-1)).toMatchObject({ state: { index: 2 } });
    expect(slider.el.querySelector("output")?.textContent).toBe("hi");
  });

  it("draws a DatePicker from ipywidgets' date (month from 0) and sends one back", async () => {
    const { sent, el } = await control("DatePickerModel", { value: { year: 2026, month: 10, date: 29 }, min: null, max: null });
    const input = el.querySelector("input[type=date]") as HTMLInputElement;
    expect(input.value).toBe("2026-11-29");
    input.value = "2027-01-05";
    input.dispatchEvent(new Event("change"));
    expect(sent.at(-1)).toMatchObject({ state: { value: { year: 2027, month: 0, date: 5 } } });
    input.value = "";
    input.dispatchEvent(new Event("change"));
    expect(sent.at(-1)).toMatchObject({ state: { value: null } });
  });

  it("draws a bounded number, a password and a combobox with its options", async () => {
    const bounded = await control("BoundedIntTextModel", { value: 3, min: 0, max: 9, step: 1 });
    const number = bounded.el.querySelector("input") as HTMLInputElement;
    expect([number.type, number.min, number.max, number.value]).toEqual(["number", "0", "9", "3"]);
    const password = await control("PasswordModel", { value: "s3cret", continuous_update: true });
    expect((password.el.querySelector("input") as HTMLInputElement).type).toBe("password");
    const combo = await control("ComboboxModel", { value: "", options: ["North", "South"], continuous_update: true });
    const field = combo.el.querySelector("input") as HTMLInputElement;
    const list = combo.el.querySelector(`datalist#${field.getAttribute("list")}`);
    expect(Array.from(list?.querySelectorAll("option") ?? [], (o) => o.value)).toEqual(["North", "South"]);
    field.value = "South";
    field.dispatchEvent(new Event("input"));
    expect(combo.sent.at(-1)).toMatchObject({ state: { value: "South" } });
  });

  it("draws a ColorPicker that takes #rgb and sends #rrggbb, its value as text unless concise", async () => {
    const { widgets, sent, el } = await control("ColorPickerModel", { value: "#1af", concise: false });
    const input = el.querySelector("input[type=color]") as HTMLInputElement;
    expect([input.value, el.querySelector("output")?.textContent]).toEqual(["#11aaff", "#1af"]);
    input.value = "#00ff00";
    input.dispatchEvent(new Event("input"));
    expect(sent.at(-1)).toMatchObject({ state: { value: "#00ff00" } });
    widgets.handle({ type: "widget", id: ID, method: "update", state: { concise: true } });
    expect((el.querySelector("output") as HTMLOutputElement).hidden).toBe(true);
  });

  it("draws an HTML widget's value as HTML, its placeholder as text while empty, a script inert", async () => {
    (window as any).ran = false;
    const { widgets, el } = await control("HTMLModel", { value: "<b id='bold'>5</b> sold<script>window.ran = true</script>", placeholder: "<i>none</i>" });
    expect(el.querySelector(".lw-control-html #bold")?.textContent).toBe("5");
    expect((window as any).ran).toBe(false);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { value: "" } });
    const html = el.querySelector(".lw-control-html") as HTMLElement;
    expect([html.textContent, html.querySelector("i")]).toEqual(["<i>none</i>", null]);
    // a <div role=group>, not a <label> that would pass a click inside it to an input
    expect(el.querySelector("label")).toBeNull();
  });

  it("draws a description as HTML only when description_allow_html is on", async () => {
    const { widgets, el } = await control("LabelModel", { value: "x", description: "<b>bold</b>", description_allow_html: false });
    const description = el.querySelector(".lw-control-description") as HTMLElement;
    expect([description.textContent, description.querySelector("b")]).toEqual(["<b>bold</b>", null]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { description_allow_html: true } });
    expect(description.querySelector("b")?.textContent).toBe("bold");
  });

  it("draws an Image from its bytes, or from the URL they spell when that URL is safe", async () => {
    const { widgets, el } = await control("ImageModel", { value: new DataView(new Uint8Array([0x89, 0x50]).buffer), format: "png", width: "40", height: "" });
    const img = el.querySelector("img.lw-control-image") as HTMLImageElement;
    expect(img.getAttribute("src")).toMatch(/^blob:/);
    expect([img.getAttribute("width"), img.hasAttribute("height")]).toEqual(["40", false]);
    const url = (text: string) => new DataView(new TextEncoder().encode(text).buffer);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { format: "url", value: url("https://example.com/a.png") } });
    expect(img.getAttribute("src")).toBe("https://example.com/a.png");
    widgets.handle({ type: "widget", id: ID, method: "update", state: { value: url("javascript:alert(1)") } });
    expect(img.hasAttribute("src")).toBe(false);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { format: "png\"><x", value: url("x") } });
    expect(img.hasAttribute("src")).toBe(false);
  });

  it("draws a Valid as a check mark, or a cross and its readout", async () => {
    const { widgets, el } = await control("ValidModel", { value: true, readout: "Invalid" });
    const mark = el.querySelector(".lw-control-valid") as HTMLElement;
    expect([mark.dataset.valid, mark.textContent]).toEqual(["true", "\u2714"]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { value: false, readout: "too big" } });
    expect([mark.dataset.valid, mark.textContent]).toEqual(["false", "\u2718 too big"]);
  });

  it("draws a FloatLogSlider over the exponent and sends base ** exponent", async () => {
    const { sent, el } = await control("FloatLogSliderModel", { value: 100, base: 10, min: 0, max: 4, step: 0.5, continuous_update: true });
    const input = el.querySelector("input[type=range]") as HTMLInputElement;
    expect([input.value, input.max, el.querySelector("output")?.textContent]).toEqual(["2", "4", "100"]);
    input.value = "3";
    input.dispatchEvent(new Event("input"));
    expect(sent.at(-1)).toMatchObject({ state: { value: 1000 } });
  });

  it("plays a Play: steps value every interval, stops at max, starts over with repeat, pauses", async () => {
    const { widgets, sent, el } = await control("PlayModel", { value: 0, min: 0, max: 3, step: 1, interval: 50, playing: false, repeat: false, show_repeat: true });
    vi.useFakeTimers();
    try {
      const button = (name: string) => el.querySelector(`button[aria-label=${name}]`) as HTMLButtonElement;
      const values = () => sent.filter((m) => m.state && "value" in m.state).map((m) => m.state.value);
      button("play").click();
      expect(sent[0]).toMatchObject({ method: "update", state: { playing: true } });
      expect(values()).toEqual([1]); // the first step at once, as Jupyter's
      vi.advanceTimersByTime(200);
      expect(values()).toEqual([1, 2, 3]);
      expect(sent.at(-1)).toMatchObject({ state: { playing: false } }); // past max, no repeat
      vi.advanceTimersByTime(500);
      expect(values()).toEqual([1, 2, 3]);

      button("repeat").click();
      expect(sent.at(-1)).toMatchObject({ state: { repeat: true } });
      button("play").click(); // at max: back to min, then on
      vi.advanceTimersByTime(50 * 5);
      expect(values().slice(3)).toEqual([0, 1, 2, 3, 0, 1]);
      button("pause").click();
      vi.advanceTimersByTime(500);
      expect(values().slice(3)).toEqual([0, 1, 2, 3, 0, 1]);

      // Python starts it, and a second view of the model does not make it go twice as fast
      const second = await widgets.create_view(await widgets.get_model(ID));
      await vi.advanceTimersByTimeAsync(1); // (a view renders once it is on the page)
      expect(second.el.querySelectorAll("button[aria-label=play]")).toHaveLength(1);
      widgets.handle({ type: "widget", id: ID, method: "update", state: { playing: true, value: 0, max: 10 } });
      await vi.advanceTimersByTimeAsync(50 * 2);
      expect(values().slice(9)).toEqual([1, 2, 3]);
      button("stop").click();
      expect(sent.at(-1)).toMatchObject({ state: { playing: false, value: 0 } });
      second.remove();
      widgets.handle({ type: "widget", id: ID, method: "update", state: { show_repeat: false, disabled: true } });
      expect([button("repeat").hidden, button("play").disabled]).toEqual([true, true]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("draws a widget's tooltip as its title and its _dom_classes as classes, following Python", async () => {
    const { widgets, el } = await control("IntSliderModel", { value: 1, tooltip: "how fast", _dom_classes: ["big", "two words", 3] });
    expect(el.title).toBe("how fast");
    expect(Array.from(el.classList)).toEqual(["lw-served-widget", "lw-served-control", "big"]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { tooltip: null, _dom_classes: ["lw-served-control", "small"] } });
    expect(el.hasAttribute("title")).toBe(false);
    expect(Array.from(el.classList)).toEqual(["lw-served-widget", "lw-served-control", "small"]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { _dom_classes: [] } });
    expect(Array.from(el.classList)).toEqual(["lw-served-widget", "lw-served-control"]); // its own stay
  });

  it("stops a Play whose model the server closed, and one whose step would never reach max", async () => {
    const { widgets, sent } = await control("PlayModel", { value: 0, min: 0, max: 1000, step: 1, interval: 50, playing: false });
    vi.useFakeTimers();
    try {
      widgets.handle({ type: "widget", id: ID, method: "update", state: { playing: true } });
      await vi.advanceTimersByTimeAsync(120);
      const before = sent.length;
      expect(before).toBeGreaterThan(0);
      widgets.handle({ type: "widget", id: ID, method: "close" });
      await vi.advanceTimersByTimeAsync(500);
      expect(sent.length).toBe(before); // nothing after the close
    } finally {
      vi.useRealTimers();
    }
    const still = await control("PlayModel", { value: 0, min: 0, max: 10, step: 0, interval: 50, playing: false });
    vi.useFakeTimers();
    try {
      still.widgets.handle({ type: "widget", id: ID, method: "update", state: { playing: true } });
      await vi.advanceTimersByTimeAsync(500);
      expect(still.sent).toEqual([expect.objectContaining({ state: { playing: false } })]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("shows an SVG Image as a data: URL, and a new size without a new source", async () => {
    const svg = new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>");
    const { widgets, el } = await control("ImageModel", { value: new DataView(svg.buffer), format: "svg+xml", width: "" });
    const img = el.querySelector("img") as HTMLImageElement;
    expect(img.getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { format: "png", value: new DataView(new Uint8Array([1]).buffer) } });
    const src = img.getAttribute("src");
    widgets.handle({ type: "widget", id: ID, method: "update", state: { width: "80" } });
    expect([img.getAttribute("src"), img.getAttribute("width")]).toEqual([src, "80"]);
  });

  it("writes a log slider's readout with its readout_format, as Python's format does", async () => {
    const { widgets, el } = await control("FloatLogSliderModel", { value: 1234567, base: 10, min: 0, max: 8, readout_format: ".3g" });
    const shown = el.querySelector("output") as HTMLOutputElement;
    expect(shown.textContent).toBe("1.23e+06");
    widgets.handle({ type: "widget", id: ID, method: "update", state: { value: 12345.6, readout_format: ".1f" } });
    expect(shown.textContent).toBe("12345.6");
  });

  it("leaves livewidget's own classes to livewidget, whatever _dom_classes says", async () => {
    // an HBox's element gets lw-box and lw-hbox when it renders, after _dom_classes were drawn
    const { widgets, el } = await control("HBoxModel", { children: [], _dom_classes: ["lw-hbox", "mine"] });
    expect(Array.from(el.classList)).toEqual(["lw-served-widget", "mine", "lw-box", "lw-hbox"]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { _dom_classes: [] } });
    expect(Array.from(el.classList)).toEqual(["lw-served-widget", "lw-box", "lw-hbox"]);
  });

  it("shows a note for a model it does not draw", async () => {
    const { el } = await control("OutputModel", {});
    expect(el.className).toBe("lw-widget-note");
  });
});

describe("ipywidgets' boxes, layouts and styles, drawn by the page", () => {
  const A = "a".repeat(32);
  const B = "b".repeat(32);
  const C = "c".repeat(32);
  const L = "1".repeat(32);
  const S = "2".repeat(32);

  function openControl(widgets: ServedWidgets, id: string, builtin: string, state: object) {
    widgets.handle({ type: "widget", id, method: "open", esm: null, builtin, name: builtin, state });
  }

  /** The view of `id` on the page, once `ready(el)` (its children are made asynchronously). */
  async function shown(widgets: ServedWidgets, id: string, ready: (el: HTMLElement) => boolean = () => true) {
    const view = await widgets.create_view(await widgets.get_model(id));
    document.body.append(view.el);
    await vi.waitFor(() => expect(ready(view.el)).toBe(true));
    return view;
  }

  it("draws an HBox's children in order, keeps a child's view when the children change, and removes those gone", async () => {
    const { widgets } = host();
    openControl(widgets, A, "LabelModel", { value: "first" });
    openControl(widgets, B, "ButtonModel", { description: "second" });
    openControl(widgets, ID, "HBoxModel", { children: [`IPY_MODEL_${A}`, `IPY_MODEL_${B}`] });
    const view = await shown(widgets, ID, (el) => el.children.length === 2);
    expect(view.el.classList.contains("lw-hbox")).toBe(true);
    expect(Array.from(view.el.children).map((c) => c.textContent)).toEqual(["first", "second"]);
    const button = view.el.querySelector("button");
    openControl(widgets, C, "LabelModel", { value: "third" });
    widgets.handle({ type: "widget", id: ID, method: "update", state: { children: [`IPY_MODEL_${C}`, `IPY_MODEL_${B}`] } });
    await vi.waitFor(() => expect(Array.from(view.el.children).map((c) => c.textContent)).toEqual(["third", "second"]));
    expect(view.el.querySelector("button")).toBe(button); // the same element: not drawn again
    view.remove();
    expect(button?.isConnected).toBe(false);
  });

  it("draws a box inside a box, and a note for a child the server never opened", async () => {
    const { widgets } = host();
    openControl(widgets, A, "LabelModel", { value: "deep" });
    openControl(widgets, B, "VBoxModel", { children: [`IPY_MODEL_${A}`] });
    openControl(widgets, ID, "BoxModel", { children: [`IPY_MODEL_${B}`, "not a model"] });
    const view = await shown(widgets, ID, (el) => el.querySelector(".lw-vbox")?.textContent === "deep");
    expect(view.el.querySelector(".lw-widget-note")?.textContent).toContain("not a widget");
  });

  it("draws a box that holds itself (made so in Python) once, with a note inside", async () => {
    const { widgets } = host();
    openControl(widgets, A, "VBoxModel", { children: [`IPY_MODEL_${ID}`] });
    openControl(widgets, ID, "HBoxModel", { children: [`IPY_MODEL_${A}`] });
    const view = await shown(widgets, ID, (el) => el.querySelector(".lw-widget-note") !== null);
    expect(view.el.querySelector(".lw-widget-note")?.textContent).toBe("a box cannot hold itself");
    expect(view.el.querySelectorAll(".lw-box")).toHaveLength(1); // the VBox, inside the HBox
  });

  it("says in a widget's place that the server's bound on a view's widgets left it out", async () => {
    const { widgets } = host();
    widgets.handle({ type: "widget", id: A, method: "open", esm: null, name: "Label", needs: "limit" });
    openControl(widgets, ID, "HBoxModel", { children: [`IPY_MODEL_${A}`] });
    const view = await shown(widgets, ID, (el) => el.querySelector(".lw-widget-note") !== null);
    expect(view.el.textContent).toContain("Label is not shown: a served view shows at most 1,000 widgets");
  });

  it("draws a Tab whose title click sends selected_index, showing the selected child only", async () => {
    const { widgets, sent } = host();
    openControl(widgets, A, "LabelModel", { value: "one" });
    openControl(widgets, B, "LabelModel", { value: "two" });
    openControl(widgets, ID, "TabModel", { children: [`IPY_MODEL_${A}`, `IPY_MODEL_${B}`], titles: ["One", null], selected_index: 0 });
    const view = await shown(widgets, ID, (el) => el.querySelectorAll("[role=tab]").length === 2);
    const tabs = Array.from(view.el.querySelectorAll("[role=tab]")) as HTMLButtonElement[];
    const panels = Array.from(view.el.querySelectorAll("[role=tabpanel]")) as HTMLElement[];
    expect(tabs.map((t) => [t.textContent, t.getAttribute("aria-selected")])).toEqual([["One", "true"], ["2", "false"]]);
    expect(panels.map((p) => p.hidden)).toEqual([false, true]);
    tabs[1].click();
    expect(sent.at(-1)).toMatchObject({ id: ID, method: "update", state: { selected_index: 1 } });
    expect(panels.map((p) => p.hidden)).toEqual([true, false]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { selected_index: 0 } });
    expect(panels.map((p) => p.hidden)).toEqual([false, true]);
  });

  it("draws a Stack that shows the child at selected_index only, as Python picks it", async () => {
    const { widgets, sent } = host();
    openControl(widgets, A, "LabelModel", { value: "one" });
    openControl(widgets, B, "LabelModel", { value: "two" });
    openControl(widgets, ID, "StackModel", { children: [`IPY_MODEL_${A}`, `IPY_MODEL_${B}`], selected_index: 1 });
    const view = await shown(widgets, ID, (el) => el.children.length === 2);
    const shownText = () => Array.from(view.el.children).filter((c) => !(c as HTMLElement).hidden).map((c) => c.textContent);
    expect(view.el.classList.contains("lw-stack")).toBe(true);
    expect(shownText()).toEqual(["two"]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { selected_index: 0 } });
    expect(shownText()).toEqual(["one"]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { selected_index: null } });
    expect(shownText()).toEqual([]);
    expect(sent).toEqual([]); // the page sets nothing on a Stack
  });

  it("draws an Accordion whose open title closes it again (selected_index null)", async () => {
    const { widgets, sent } = host();
    openControl(widgets, A, "LabelModel", { value: "one" });
    openControl(widgets, ID, "AccordionModel", { children: [`IPY_MODEL_${A}`], titles: ["Details"], selected_index: null });
    const view = await shown(widgets, ID, (el) => el.querySelector(".lw-accordion-title") !== null);
    const title = view.el.querySelector(".lw-accordion-title") as HTMLButtonElement;
    const body = view.el.querySelector(".lw-accordion-body") as HTMLElement;
    expect([title.textContent, body.hidden]).toEqual(["Details", true]);
    title.click();
    expect(sent.at(-1)).toMatchObject({ state: { selected_index: 0 } });
    expect(body.hidden).toBe(false);
    title.click();
    expect(sent.at(-1)).toMatchObject({ state: { selected_index: null } });
  });

  it("draws a progress bar from min, max and value", async () => {
    const { widgets } = host();
    openControl(widgets, ID, "FloatProgressModel", { min: 10, max: 20, value: 15, bar_style: "success", description: "load" });
    const view = await shown(widgets, ID, (el) => el.querySelector("progress") !== null);
    const bar = view.el.querySelector("progress") as HTMLProgressElement;
    expect([bar.max, bar.value, bar.dataset.barStyle]).toEqual([10, 5, "success"]);
    widgets.handle({ type: "widget", id: ID, method: "update", state: { value: 99 } });
    expect(bar.value).toBe(10);
  });

  it("draws a widget's layout as CSS on its element and its style as --lw- properties, following their changes", async () => {
    const { widgets } = host();
    widgets.handle({ type: "widget", id: L, method: "open", esm: null, builtin: "LayoutModel", name: "Layout", state: { width: "321px", flex_flow: "column" } });
    widgets.handle({ type: "widget", id: S, method: "open", esm: null, builtin: "SliderStyleModel", name: "SliderStyle", state: { description_width: "initial" } });
    openControl(widgets, ID, "IntSliderModel", { value: 1, min: 0, max: 5, layout: `IPY_MODEL_${L}`, style: `IPY_MODEL_${S}` });
    const view = await shown(widgets, ID, (el) => el.style.width !== "" && el.style.getPropertyValue("--lw-description-width") !== "");
    expect([view.el.style.width, view.el.style.flexFlow]).toEqual(["321px", "column"]);
    expect(view.el.style.getPropertyValue("--lw-description-width")).toBe("initial");
    widgets.handle({ type: "widget", id: L, method: "update", state: { width: null, height: "40px" } });
    widgets.handle({ type: "widget", id: S, method: "update", state: { handle_color: "red" } });
    expect([view.el.style.width, view.el.style.height]).toEqual(["", "40px"]);
    expect(view.el.style.getPropertyValue("--lw-handle-color")).toBe("red");
    // a value is one property's: what it holds cannot set another
    widgets.handle({ type: "widget", id: L, method: "update", state: { width: "1px; background: url(x)" } });
    expect([view.el.style.width, view.el.style.background]).toEqual(["", ""]);
    view.remove();
    widgets.handle({ type: "widget", id: L, method: "update", state: { height: "80px" } });
    expect(view.el.style.height).toBe("40px"); // a removed view follows no more
  });
});

describe("buffers", () => {
  it("removeBuffers and putBuffers are each other's inverse", () => {
    const state = { a: [1, new Uint8Array([3, 4])], b: { c: new Uint8Array([5]).buffer } };
    const split = removeBuffers(state);
    expect(split.state).toEqual({ a: [1, null], b: { c: null } });
    expect(split.paths).toEqual([["a", 1], ["b", "c"]]);
    const back = putBuffers(split.state, split.paths, split.buffers);
    expect((back.a as unknown[])[1]).toBeInstanceOf(DataView);
    expect(((back.b as Record<string, DataView>).c as DataView).getUint8(0)).toBe(5);
  });
});

describe("SocketModel", () => {
  it("hands the server's widget messages to its widget manager, and the rest to the view", async () => {
    const m = new SocketModel({ url: "ws://x/", WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
    const forTheView: unknown[] = [];
    m.on("msg:custom", (content: unknown) => forTheView.push(content));
    m.connect();
    const socket = FakeSocket.made.at(-1)!;
    socket.open();
    socket.receive({ type: "widget", id: ID, method: "open", esm: null, name: "X" });
    socket.receive({ type: "diff", seq: 2, rendered: {} });
    expect(forTheView).toEqual([{ type: "diff", seq: 2, rendered: {} }]);
    expect(((await m.widget_manager.get_model(ID)) as WidgetModel).name).toBe("X");
    m.stop();
  });
});

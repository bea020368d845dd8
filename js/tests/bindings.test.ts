import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { type BindOptions, bindEvents } from "../src/bindings";
import type { EventMessage } from "../src/constants";
import type { InFlightSpec } from "../src/in_flight";

let root: HTMLElement;
let sent: EventMessage[];
let specs: InFlightSpec[];
let reported: string[];
let unbind: () => void;

function bind(options: BindOptions = {}) {
  unbind?.();
  unbind = bindEvents(
    root,
    (m, spec) => {
      sent.push(m);
      specs.push(spec);
    },
    { report: (message) => reported.push(message), ...options },
  );
}

beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
  sent = [];
  specs = [];
  reported = [];
  bind();
});

afterEach(() => {
  unbind();
  root.remove();
  vi.useRealTimers();
});

const $ = <T extends Element>(selector: string) => root.querySelector(selector) as T;

function typeInto(input: HTMLInputElement, value: string, type: "input" | "change" = "input") {
  input.value = value;
  input.dispatchEvent(new Event(type, { bubbles: true }));
}

describe("phx-click", () => {
  test("sends the event with every phx-value-* attribute, from a click on a child", () => {
    root.innerHTML = '<button phx-click="inc" phx-value-by="2" phx-value-row-id="r7"><b>+</b></button>';
    $<HTMLElement>("b").click();
    expect(sent).toEqual([
      // Phoenix sends the element's value too: a button's is ""
      { type: "event", kind: "click", event: "inc", value: { by: "2", "row-id": "r7", value: "" }, cid: null },
    ]);
  });

  test("phx-target with a component id sends it as cid", () => {
    root.innerHTML = '<a href="#" phx-click="open" phx-target="3">open</a>';
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    $("a").dispatchEvent(click);
    expect(sent[0]).toMatchObject({ event: "open", value: {}, cid: 3 });
    expect(click.defaultPrevented).toBe(true); // href="#" goes nowhere
  });

  test("a click outside any binding sends nothing, and unbinding stops listening", () => {
    root.innerHTML = '<p>plain</p><button phx-click="x">x</button>';
    $<HTMLElement>("p").click();
    expect(sent).toEqual([]);
    unbind();
    $<HTMLElement>("button").click();
    expect(sent).toEqual([]);
  });
});

describe("forms", () => {
  const FORM =
    '<form phx-change="validate" phx-submit="save">' +
    '<input name="user[name]" value="Ada"><input name="age" value="36">' +
    '<select name="lang"><option>py</option><option selected>ex</option></select>' +
    '<button name="action" value="go">Save</button></form>';

  test("phx-change sends the urlencoded form and _target", () => {
    root.innerHTML = FORM;
    typeInto($("input[name=age]"), "37 & more");
    expect(sent).toEqual([
      {
        type: "event",
        kind: "form",
        event: "validate",
        value: "user%5Bname%5D=Ada&age=37+%26+more&lang=ex&_target=age",
        cid: null,
      },
    ]);
  });

  test("a change right after an input of the same control is not sent twice", () => {
    root.innerHTML = FORM;
    const age = $<HTMLInputElement>("input[name=age]");
    typeInto(age, "1");
    typeInto(age, "1", "change");
    expect(sent).toHaveLength(1);
    $<HTMLSelectElement>("select").dispatchEvent(new Event("change", { bubbles: true }));
    expect(sent).toHaveLength(2);
    expect(sent[1]?.value).toMatch(/_target=lang$/);
  });

  test("phx-submit prevents the browser's submit and sends the form", () => {
    root.innerHTML = FORM.replace('phx-submit="save"', 'phx-submit="save" phx-target="12"');
    const submit = new Event("submit", { bubbles: true, cancelable: true });
    $("form").dispatchEvent(submit);
    expect(submit.defaultPrevented).toBe(true);
    expect(sent).toEqual([
      { type: "event", kind: "form", event: "save", value: "user%5Bname%5D=Ada&age=36&lang=ex", cid: 12 },
    ]);
  });

  test("a form without phx-change sends nothing on input", () => {
    root.innerHTML = '<form><input name="q"></form>';
    typeInto($("input"), "x");
    expect(sent).toEqual([]);
  });
});

describe("keys", () => {
  test("phx-keydown sends the key and phx-value-*", () => {
    root.innerHTML = '<div phx-keydown="nav" phx-value-grid="main"><input></div>';
    press($("input"), "keydown", "ArrowUp");
    expect(sent).toEqual([
      { type: "event", kind: "keydown", event: "nav", value: { key: "ArrowUp", grid: "main" }, cid: null },
    ]);
  });

  test("phx-key filters to one key, case-insensitively", () => {
    root.innerHTML = '<input phx-keyup="search" phx-key="enter">';
    press($("input"), "keyup", "a");
    press($("input"), "keydown", "Enter");
    expect(sent).toEqual([]);
    press($("input"), "keyup", "Enter");
    expect(sent).toEqual([
      { type: "event", kind: "keyup", event: "search", value: { key: "Enter", value: "" }, cid: null },
    ]);
  });
});

const press = (el: EventTarget, type: "keydown" | "keyup", key: string) =>
  el.dispatchEvent(new KeyboardEvent(type, { key, bubbles: true }));

describe("phx-blur and phx-focus", () => {
  test("send kind blur / focus with phx-value-* and the element's value", () => {
    root.innerHTML = '<input name="q" value="ada" phx-focus="entered" phx-blur="left" phx-value-field="q">';
    const input = $<HTMLInputElement>("input");
    input.focus();
    input.value = "ada lovelace";
    input.blur();
    expect(sent).toEqual([
      { type: "event", kind: "focus", event: "entered", value: { field: "q", value: "ada" }, cid: null },
      { type: "event", kind: "blur", event: "left", value: { field: "q", value: "ada lovelace" }, cid: null },
    ]);
  });

  test("an element without a value sends phx-value-* only; an unchecked checkbox sends no value", () => {
    root.innerHTML =
      '<div tabindex="0" phx-focus="f" phx-value-id="7" phx-target="4"></div><input type="checkbox" phx-focus="c">';
    $<HTMLElement>("div").focus();
    $<HTMLElement>("input").focus();
    expect(sent.map((m) => [m.value, m.cid])).toEqual([
      [{ id: "7" }, 4],
      [{}, null],
    ]);
  });

  test("binds the focused element itself, not its ancestors (as Phoenix)", () => {
    root.innerHTML = '<div phx-blur="x"><input></div>';
    const input = $<HTMLInputElement>("input");
    input.focus();
    input.blur();
    expect(sent).toEqual([]);
  });
});

describe("phx-window-keydown and phx-window-keyup", () => {
  test("keys pressed anywhere on the page are sent, honouring phx-key", () => {
    root.innerHTML =
      '<div phx-window-keydown="nav" phx-value-grid="g"></div><div phx-window-keyup="esc" phx-key="Escape"></div>';
    press(document.body, "keydown", "ArrowLeft");
    press(window, "keyup", "a");
    press(window, "keyup", "Escape");
    expect(sent).toEqual([
      { type: "event", kind: "keydown", event: "nav", value: { key: "ArrowLeft", grid: "g" }, cid: null },
      { type: "event", kind: "keyup", event: "esc", value: { key: "Escape" }, cid: null },
    ]);
  });

  test("a key that an element binding handled does not fire window bindings", () => {
    root.innerHTML = '<input phx-keydown="typed"><div phx-window-keydown="global"></div>';
    press($("input"), "keydown", "x");
    expect(sent.map((m) => m.event)).toEqual(["typed"]);
  });

  test("the window listeners go with the view", () => {
    root.innerHTML = '<div phx-window-keydown="nav"></div>';
    unbind();
    press(window, "keydown", "a");
    expect(sent).toEqual([]);
  });

  test("views sharing windowEvents send a key once", () => {
    const windowEvents = new WeakSet<Event>();
    bind({ windowEvents });
    const other = document.createElement("div");
    document.body.append(other);
    const unbindOther = bindEvents(other, (m) => sent.push(m), { windowEvents });
    root.innerHTML = other.innerHTML = '<div phx-window-keydown="nav"></div>';
    press(window, "keydown", "a");
    expect(sent).toHaveLength(1);
    unbindOther();
    other.remove();
  });
});

describe("phx-debounce and phx-throttle", () => {
  test("a debounced phx-change sends once, after the pause, with the latest form state", () => {
    vi.useFakeTimers();
    root.innerHTML = '<form phx-change="v"><input name="q" phx-debounce="200"><input name="n" value="1"></form>';
    const q = $<HTMLInputElement>("input[name=q]");
    typeInto(q, "a");
    vi.advanceTimersByTime(150);
    typeInto(q, "ab");
    vi.advanceTimersByTime(150);
    expect(sent).toEqual([]);
    $<HTMLInputElement>("input[name=n]").value = "2"; // changed without an event of its own
    vi.advanceTimersByTime(50);
    expect(sent.map((m) => m.value)).toEqual(["q=ab&n=2&_target=q"]);
  });

  test('phx-debounce="blur" sends when the input loses focus; so does a pending timed debounce', () => {
    vi.useFakeTimers();
    root.innerHTML =
      '<form phx-change="v"><input name="a" phx-debounce="blur"><input name="b" phx-debounce="5000"></form>';
    const [a, b] = [$<HTMLInputElement>("input[name=a]"), $<HTMLInputElement>("input[name=b]")];
    a.focus();
    typeInto(a, "1");
    typeInto(a, "12");
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual([]);
    b.focus(); // a blurs
    expect(sent.map((m) => m.value)).toEqual(["a=12&b=&_target=a"]);
    typeInto(b, "x");
    b.blur();
    expect(sent.map((m) => m.value)).toEqual(["a=12&b=&_target=a", "a=12&b=x&_target=b"]);
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(2);
  });

  test("an empty phx-debounce means 300 ms, and it applies to phx-click", () => {
    vi.useFakeTimers();
    root.innerHTML = '<button phx-click="inc" phx-debounce>+</button>';
    $<HTMLElement>("button").click();
    $<HTMLElement>("button").click();
    vi.advanceTimersByTime(299);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent.map((m) => m.event)).toEqual(["inc"]);
  });

  test("submit drops pending debounced changes (the submit carries the form)", () => {
    vi.useFakeTimers();
    root.innerHTML = '<form phx-change="v" phx-submit="s"><input name="q" phx-debounce="300"></form>';
    typeInto($("input"), "hi");
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    vi.advanceTimersByTime(1000);
    expect(sent.map((m) => [m.event, m.value])).toEqual([["s", "q=hi"]]);
  });

  test("phx-throttle sends the first event at once and drops the rest of the window", () => {
    vi.useFakeTimers();
    root.innerHTML = '<button phx-click="fire" phx-throttle="1000">!</button>';
    const button = $<HTMLElement>("button");
    button.click();
    button.click();
    vi.advanceTimersByTime(999);
    button.click();
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    button.click();
    expect(sent).toHaveLength(2);
  });

  test("a throttled keydown lets a different key through", () => {
    vi.useFakeTimers();
    root.innerHTML = '<div phx-window-keydown="k" phx-throttle="500"></div>';
    for (const key of ["a", "a", "a", "b", "b"]) press(window, "keydown", key);
    expect(sent.map((m) => (m.value as { key: string }).key)).toEqual(["a", "b"]);
  });

  test("a bad value is reported and the event goes at once", () => {
    root.innerHTML = '<button phx-click="x" phx-debounce="soon">x</button>';
    $<HTMLElement>("button").click();
    expect(sent).toHaveLength(1);
    expect(reported[0]).toMatch(/phx-debounce takes milliseconds or "blur", got "soon"/);
  });

  test("a debounced event of an element that was removed is dropped", () => {
    vi.useFakeTimers();
    root.innerHTML = '<button phx-click="x" phx-debounce="100">x</button>';
    $<HTMLElement>("button").click();
    root.innerHTML = "";
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([]);
  });
});

describe("in-flight state", () => {
  test("a click reports its element as loading and as its phx-disable-with", () => {
    root.innerHTML = '<button phx-click="save" phx-disable-with="Saving...">Save</button>';
    $<HTMLElement>("button").click();
    expect(specs).toEqual([{ type: "click", loading: [$("button")], disable: [$("button")] }]);
  });

  test("a submit disables its submitter only; without one, every control with phx-disable-with", () => {
    root.innerHTML =
      '<form phx-submit="s"><input name="q" phx-disable-with><button id="a" phx-disable-with="...">A</button>' +
      '<button id="b">B</button></form>';
    $<HTMLElement>("#b").click();
    expect(specs[0]).toEqual({ type: "submit", loading: [$("form"), $("#b")], disable: [$("#b")] });
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    expect(specs[1]).toEqual({ type: "submit", loading: [$("form")], disable: [$("input"), $("#a")] });
  });

  test("a form in flight is not submitted again; clicks on an element in flight go through", () => {
    let pending: Element[] = [];
    bind({ isPending: (el, type) => type === "submit" && pending.includes(el) });
    root.innerHTML = '<button phx-click="a">a</button><form phx-submit="s"><input name="q"></form>';
    pending = [$("button"), $("form")];
    $<HTMLElement>("button").click();
    const submit = new Event("submit", { bubbles: true, cancelable: true });
    $("form").dispatchEvent(submit);
    expect(sent.map((m) => m.event)).toEqual(["a"]);
    expect(submit.defaultPrevented).toBe(true);
  });
});

describe("bindings with JS commands", () => {
  const js = (commands: unknown) => JSON.stringify(commands).replace(/"/g, "&quot;");

  test("a click's push sends its event, value merged over phx-value-*, target as cid", () => {
    root.innerHTML =
      `<button phx-value-row="r1" phx-click="${js([["push", { event: "inc", value: { by: 2 }, target: 5 }], ["add_class", { names: ["on"] }]])}">+</button>`;
    $<HTMLElement>("button").click();
    expect(sent).toEqual([
      { type: "event", kind: "click", event: "inc", value: { row: "r1", value: "", by: 2 }, cid: 5 },
    ]);
    expect($("button").classList.contains("on")).toBe(true);
  });

  test("commands without push send nothing", () => {
    root.innerHTML = `<button phx-click="${js([["toggle", { to: "#menu" }]])}">menu</button><ul id="menu"></ul>`;
    $<HTMLElement>("button").click();
    expect(sent).toEqual([]);
    expect($<HTMLElement>("#menu").style.display).toBe("none");
  });

  test("phx-change and phx-submit pushes send the form, value as extra fields", () => {
    root.innerHTML =
      `<form phx-change="${js([["push", { event: "validate" }]])}" ` +
      `phx-submit="${js([["push", { event: "save", value: { step: 2 } }], ["hide", { to: "#f" }]])}">` +
      '<input name="q" value="a"></form><p id="f">form</p>';
    typeInto($("input"), "ab");
    $("form").dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    expect(sent.map((m) => [m.kind, m.event, m.value])).toEqual([
      ["form", "validate", "q=ab&_target=q"],
      ["form", "save", "q=ab&step=2"],
    ]);
    expect($<HTMLElement>("#f").style.display).toBe("none");
  });

  test("key and blur bindings run commands too", () => {
    root.innerHTML =
      `<input phx-keyup="${js([["push", { event: "k" }]])}" phx-key="Enter" ` +
      `phx-blur="${js([["push", { event: "b", value: { extra: true } }]])}" value="v">`;
    const input = $<HTMLInputElement>("input");
    input.focus();
    press(input, "keyup", "Enter");
    input.blur();
    expect(sent.map((m) => [m.kind, m.event, m.value])).toEqual([
      ["keyup", "k", { key: "Enter", value: "v" }],
      ["blur", "b", { value: "v", extra: true }],
    ]);
  });

  test("a push without an event name, or commands that are not JSON, are reported", () => {
    root.innerHTML = `<button id="a" phx-click="${js([["push", {}]])}">a</button><button id="b" phx-click="[oops">b</button>`;
    $<HTMLElement>("#a").click();
    $<HTMLElement>("#b").click();
    expect(sent).toEqual([]);
    expect(reported[0]).toMatch(/"push" command needs an "event" name/);
    expect(reported[1]).toMatch(/must be a JSON list of JS commands, got \[oops/);
  });
});

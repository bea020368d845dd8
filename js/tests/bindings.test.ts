import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { bindEvents } from "../src/bindings";
import type { EventMessage } from "../src/constants";

let root: HTMLElement;
let sent: EventMessage[];
let unbind: () => void;

beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
  sent = [];
  unbind = bindEvents(root, (m) => sent.push(m));
});

afterEach(() => {
  unbind();
  root.remove();
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
      { type: "event", kind: "click", event: "inc", value: { by: "2", "row-id": "r7" }, cid: null },
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
  const press = (el: Element, type: "keydown" | "keyup", key: string) =>
    el.dispatchEvent(new KeyboardEvent(type, { key, bubbles: true }));

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
      { type: "event", kind: "keyup", event: "search", value: { key: "Enter" }, cid: null },
    ]);
  });
});

// The submitter of a form: docs/bindings.md promises that a phx-submit sends the name and
// value of the button that submitted the form, as the browser's own submit would. A form with
// "Publish" and "Save draft" buttons tells them apart that way, and only that way.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { bindEvents } from "../src/bindings";
import type { EventMessage } from "../src/constants";

let root: HTMLElement;
let sent: EventMessage[];
let unbind: () => void;

const FORM =
  '<form phx-submit="save"><input name="title" value="Hello">' +
  '<button id="publish" name="action" value="publish">Publish</button>' +
  '<button id="draft" name="action" value="draft">Save draft</button>' +
  '<button id="plain">Submit</button></form>';

beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
  sent = [];
  unbind = bindEvents(root, (m) => sent.push(m), { report: () => {} });
  root.innerHTML = FORM;
});

afterEach(() => {
  unbind();
  root.remove();
});

const click = (id: string) => (root.querySelector(`#${id}`) as HTMLButtonElement).click();

describe("the submitter of a phx-submit form", () => {
  test("the button that submitted the form sends its name and value with the fields", () => {
    click("draft");
    expect(sent).toEqual([{ type: "event", kind: "form", event: "save", value: "title=Hello&action=draft", cid: null }]);
  });

  test("two buttons of one form are told apart", () => {
    click("publish");
    click("draft");
    expect(sent.map((m) => new URLSearchParams(m.value as string).get("action"))).toEqual(["publish", "draft"]);
  });

  test("a button without a name adds nothing; a submit without a submitter sends the fields only", () => {
    click("plain");
    root.querySelector("form")?.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    expect(sent.map((m) => m.value)).toEqual(["title=Hello", "title=Hello"]);
  });
});

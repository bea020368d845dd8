import { afterEach, beforeEach, describe, expect, test } from "vitest";
import setAttrVectors from "../../tests/vectors/attributes/set_attr.json";
import { patch } from "../src/dom_patch";
import {
  applySticky,
  attributeRefusal,
  type ExecContext,
  exec,
  isBindingAttribute,
  isEncodedJS,
  isSafeUrl,
  type PushArgs,
  setAttribute,
  toggleAttribute,
} from "../src/js_commands";

let root: HTMLElement;
let pushes: PushArgs[];
let reported: string[];

beforeEach(() => {
  root = document.createElement("div");
  document.body.append(root);
  pushes = [];
  reported = [];
});

afterEach(() => {
  root.remove();
});

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => root.querySelector(selector) as T;

/** Run commands as the binding of `source` would. */
function run(commands: unknown[], source: Element = root, extra: Partial<ExecContext> = {}) {
  exec(JSON.stringify(commands), {
    root,
    source,
    push: (args) => pushes.push(args),
    report: (message) => reported.push(message),
    ...extra,
  });
}

/** Patch `root` as widget.ts does: sticky JS-command state is re-applied. */
const render = (html: string) => patch(root, html, { beforeElUpdated: applySticky });

describe("JS commands", () => {
  test("a binding is JS commands when its value starts with [", () => {
    expect(isEncodedJS('[["push",{"event":"x"}]]')).toBe(true);
    expect(isEncodedJS("inc")).toBe(false);
    expect(isEncodedJS(null)).toBe(false);
  });

  test("push hands its arguments to the binding, once, in order with the other commands", () => {
    root.innerHTML = '<button id="b">b</button>';
    run(
      [
        ["push", { event: "inc", value: { by: 1 }, target: 3, loading: "#b", page_loading: true }],
        ["add_class", { to: "#b", names: ["x"] }],
        ["push", { event: "again" }],
      ],
      $("#b"),
    );
    expect(pushes).toEqual([
      { event: "inc", value: { by: 1 }, target: 3, loading: "#b" },
      { event: "again", value: undefined, target: undefined, loading: undefined },
    ]);
  });

  test("show, hide and toggle set display (show uses display, or block / table-row)", () => {
    root.innerHTML =
      '<div id="a" style="display: none"></div><div id="b"></div><table><tr id="r" style="display:none"><td>1</td></tr></table>';
    run([["show", { to: "#a", display: "flex" }], ["hide", { to: "#b" }], ["show", { to: "#r" }]]);
    expect([$("#a").style.display, $("#b").style.display, $("#r").style.display]).toEqual([
      "flex",
      "none",
      "table-row",
    ]);
    run([["toggle", { to: "#a" }], ["toggle", { to: "#b" }]]);
    expect([$("#a").style.display, $("#b").style.display]).toEqual(["none", "block"]);
  });

  test("show and hide fire phx:show-start / -end and phx:hide-start / -end; a no-op fires nothing", () => {
    root.innerHTML = '<div id="a"></div>';
    const seen: string[] = [];
    for (const type of ["phx:show-start", "phx:show-end", "phx:hide-start", "phx:hide-end"]) {
      $("#a").addEventListener(type, () => seen.push(type));
    }
    run([["show", { to: "#a" }], ["hide", { to: "#a" }], ["hide", { to: "#a" }]]);
    expect(seen).toEqual(["phx:hide-start", "phx:hide-end"]);
  });

  test("add_class, remove_class and toggle_class", () => {
    root.innerHTML = '<p id="p" class="a b"></p>';
    run([["add_class", { to: "#p", names: ["c", "d"] }], ["remove_class", { to: "#p", names: ["a"] }]]);
    expect($("#p").className).toBe("b c d");
    run([["toggle_class", { to: "#p", names: ["b", "e"] }]]);
    expect($("#p").className).toBe("c d e");
  });

  test("set_attr, remove_attr and toggle_attr", () => {
    root.innerHTML = '<details id="d" title="t"></details>';
    run([
      ["set_attr", { to: "#d", attr: ["aria-expanded", "true"] }],
      ["remove_attr", { to: "#d", attr: "title" }],
      ["toggle_attr", { to: "#d", attr: ["open", "true"] }],
    ]);
    expect($("#d").outerHTML).toBe('<details id="d" aria-expanded="true" open="true"></details>');
    run([
      ["toggle_attr", { to: "#d", attr: ["open", "true"] }],
      ["toggle_attr", { to: "#d", attr: ["aria-expanded", "true", "false"] }],
    ]);
    expect($("#d").outerHTML).toBe('<details id="d" aria-expanded="false"></details>');
  });

  test("dispatch fires a bubbling CustomEvent with detail and the dispatcher", () => {
    root.innerHTML = '<button id="src">s</button><div id="t"></div>';
    const seen: CustomEvent[] = [];
    root.addEventListener("copy-me", (e) => seen.push(e as CustomEvent));
    run([["dispatch", { to: "#t", event: "copy-me", detail: { text: "hi" } }]], $("#src"));
    run([["dispatch", { to: "#t", event: "copy-me", bubbles: false }]], $("#src"));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.target).toBe($("#t"));
    expect(seen[0]?.detail).toEqual({ text: "hi", dispatcher: $("#src") });
  });

  test('dispatch of "click" is a real click (and so reaches phx-click handlers)', () => {
    root.innerHTML = '<button id="t">t</button>';
    let clicks = 0;
    $("#t").addEventListener("click", (e) => (clicks += e instanceof MouseEvent ? 1 : 0));
    run([["dispatch", { to: "#t", event: "click" }]]);
    expect(clicks).toBe(1);
  });

  test("focus and focus_first", () => {
    root.innerHTML = '<input id="a"><div id="box"><span>x</span><button id="b">b</button></div>';
    run([["focus", { to: "#a" }]]);
    expect(document.activeElement).toBe($("#a"));
    run([["focus_first", { to: "#box" }]]);
    expect(document.activeElement).toBe($("#b"));
  });

  test("exec runs the commands held in another binding attribute", () => {
    root.innerHTML = `<div id="modal" phx-cancel='[["hide",{}]]'></div>`;
    run([["exec", { attr: "phx-cancel", to: "#modal" }]]);
    expect($("#modal").style.display).toBe("none");
    expect(reported).toEqual([]);
  });

  test("without to, commands act on the source; {closest} and {inner} are relative to it", () => {
    root.innerHTML = '<ul class="menu"><li><button id="b"><i>x</i></button></li></ul>';
    run(
      [
        ["add_class", { names: ["self"] }],
        ["add_class", { to: { closest: "ul" }, names: ["open"] }],
        ["add_class", { to: { inner: "i" }, names: ["spin"] }],
      ],
      $("#b"),
    );
    expect(root.innerHTML).toBe('<ul class="menu open"><li><button id="b" class="self"><i class="spin">x</i></button></li></ul>');
  });

  test("to selects within the widget's root only, never another widget's elements", () => {
    const other = document.createElement("div");
    other.innerHTML = '<ul id="menu"></ul>';
    document.body.append(other);
    root.innerHTML = '<ul id="menu"></ul>';
    run([["hide", { to: "#menu" }]]);
    expect($("#menu").style.display).toBe("none");
    expect((other.querySelector("#menu") as HTMLElement).style.display).toBe("");
    other.remove();
  });

  test("transitions are ignored: classes and display change at once", () => {
    root.innerHTML = '<div id="a"></div>';
    run([
      ["hide", { to: "#a", transition: [["fade"], ["opacity-100"], ["opacity-0"]], time: 300 }],
      ["add_class", { to: "#a", names: ["x"], transition: [["t"], [], []] }],
      ["transition", { to: "#a", transition: [["shake"], [], []] }],
    ]);
    expect($("#a").outerHTML).toBe('<div id="a" style="display: none;" class="x"></div>');
  });

  test("an unsupported or malformed command is reported and the others still run", () => {
    root.innerHTML = '<div id="a"></div>';
    run([
      ["navigate", { href: "/x" }],
      ["add_class", { to: "#a", names: 3 }],
      ["hide", { to: "#a" }],
      "nonsense",
      ["show", { to: "##bad" }],
    ]);
    expect($("#a").style.display).toBe("none");
    expect(reported).toHaveLength(4);
    expect(reported[0]).toMatch(/JS command "navigate" is not supported; supported: push, show/);
    expect(reported[1]).toMatch(/"names" must be a list of class names, got 3/);
    expect(reported[2]).toMatch(/expected a JS command \["name", \{args\}\], got "nonsense"/);
    expect(reported[3]).toMatch(/failed/);
  });
});

describe("sticky JS-command state through patches", () => {
  test("classes, display and attributes set by commands survive a re-render of the element", () => {
    render('<nav id="n" class="bar"><p>1</p></nav><div id="m" title="server">m</div>');
    run([
      ["add_class", { to: "#n", names: ["open"] }],
      ["remove_class", { to: "#n", names: ["bar"] }],
      ["hide", { to: "#m" }],
      ["set_attr", { to: "#m", attr: ["aria-hidden", "true"] }],
    ]);
    render('<nav id="n" class="bar wide"><p>2</p></nav><div id="m" title="new">m</div>');
    expect(root.innerHTML).toBe(
      '<nav id="n" class="wide open"><p>2</p></nav><div id="m" title="new" style="display: none;" aria-hidden="true">m</div>',
    );
  });

  test("the last show/hide wins, and the server's other attributes still follow", () => {
    render('<p id="p" style="display: none" data-n="1">x</p>');
    run([["show", { to: "#p" }], ["hide", { to: "#p" }], ["show", { to: "#p", display: "inline" }]]);
    render('<p id="p" style="display: none" data-n="2">y</p>');
    expect(root.innerHTML).toBe('<p id="p" style="display: inline;" data-n="2">y</p>');
  });

  test("as in Phoenix, adding a class the server already set does not make it sticky", () => {
    render('<p id="p" class="a">x</p>');
    run([["add_class", { to: "#p", names: ["a"] }]]);
    render('<p id="p" class="">x</p>');
    expect($("#p").className).toBe("");
  });

  test("a remove_class after add_class undoes the sticky add", () => {
    render('<p id="p">x</p>');
    run([["add_class", { to: "#p", names: ["a"] }], ["remove_class", { to: "#p", names: ["a"] }]]);
    render('<p id="p">y</p>');
    expect($("#p").className).toBe("");
  });

  test("a replaced element starts afresh", () => {
    render('<p id="p">x</p>');
    run([["add_class", { to: "#p", names: ["a"] }]]);
    render('<div id="p">x</div>');
    expect(root.innerHTML).toBe('<div id="p">x</div>');
  });
});

/** The issue's data: a value that would have been run as commands by a binding. */
const ISSUE_ACTION = [
  ["set_attr", { to: "#sink", attr: ["onerror", "fetch('/api/contents/pwned.txt',{method:'PUT'})"] }],
  ["set_attr", { to: "#sink", attr: ["src", "x"] }],
];

describe("JS commands never run script, whoever wrote them", () => {
  beforeEach(() => {
    root.innerHTML =
      '<img id="sink" alt="sink"><a id="a" href="/x">a</a><div id="f"></div>' +
      '<button id="b">b</button><p id="p" title="t"></p>';
  });
  const sink = () => $("#sink").outerHTML;

  test("the issue's commands are refused whole: the sink keeps its attributes", () => {
    const before = sink();
    run(ISSUE_ACTION);
    expect(sink()).toBe(before);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatch(/JS commands refused, none of them ran: .*event-handler attributes \("onerror"\)/);
  });

  test.each([
    ["onerror", "alert(1)"],
    ["ONCLICK", "alert(1)"],
    ["onMouseOver", "alert(1)"],
    ["srcdoc", "<script>alert(1)</script>"],
    ["href", "javascript:alert(1)"],
    ["href", " JaVa\tScRiPt:alert(1)"],
    ["href", "\u0001javascript:alert(1)"],
    ["href", "data:text/html,<script>alert(1)</script>"],
    ["src", "vbscript:msgbox(1)"],
    ["formaction", "javascript:alert(1)"],
    ["action", "javascript:alert(1)"],
    ["xlink:href", "javascript:alert(1)"],
    ["data-src", "javascript:alert(1)"],
    ["to", "javascript:alert(1)"],
    ["srcset", "/a.png 1x, javascript:alert(1) 2x"],
    ["ping", "/p javascript:alert(1)"],
  ])("set_attr %s=%j is refused, and the list's other commands do not run", (name, value) => {
    const before = root.innerHTML;
    run([
      ["add_class", { to: "#p", names: ["ran"] }],
      ["set_attr", { to: "#a", attr: [name, value] }],
    ]);
    expect(root.innerHTML).toBe(before);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatch(/refused, none of them ran/);
  });

  test("toggle_attr is refused for the same attributes and URLs", () => {
    const before = root.innerHTML;
    run([["toggle_attr", { to: "#b", attr: ["onclick", "alert(1)"] }]]);
    run([["toggle_attr", { to: "#a", attr: ["href", "/ok", "javascript:alert(1)"] }]]);
    expect(root.innerHTML).toBe(before);
    expect(reported).toHaveLength(2);
  });

  test("safe URLs and ordinary attributes are still set", () => {
    run([
      ["set_attr", { to: "#a", attr: ["href", "https://example.org/?a=1"] }],
      ["set_attr", { to: "#sink", attr: ["src", "data:image/png;base64,iVBORw0KGgo="] }],
      ["set_attr", { to: "#p", attr: ["aria-label", "javascript:alert(1)"] }],
      ["set_attr", { to: "#p", attr: ["data-state", "open"] }],
      ["toggle_attr", { to: "#a", attr: ["href", "https://example.org/?a=1", "mailto:ada@example.org"] }],
    ]);
    expect(reported).toEqual([]);
    expect($("#a").getAttribute("href")).toBe("mailto:ada@example.org");
    expect($("#sink").getAttribute("src")).toBe("data:image/png;base64,iVBORw0KGgo=");
    expect($("#p").getAttribute("aria-label")).toBe("javascript:alert(1)");
  });

  test("exec reads only phx-* binding attributes, which templates keep data out of", () => {
    root.innerHTML =
      `<div id="x" title='[["add_class",{"names":["ran"]}]]' data-cancel='[["add_class",{"names":["ran"]}]]' ` +
      `phx-value-js='[["add_class",{"names":["ran"]}]]' phx-cancel='[["add_class",{"names":["ok"]}]]'></div>`;
    for (const attr of ["title", "data-cancel", "phx-value-js", "phx-target"]) {
      run([["exec", { attr, to: "#x" }]]);
    }
    expect($("#x").classList.contains("ran")).toBe(false);
    expect(reported).toHaveLength(4);
    expect(reported[0]).toMatch(/exec reads only phx-\* binding attributes .* not "title"/);
    run([["exec", { attr: "phx-cancel", to: "#x" }]]);
    expect($("#x").className).toBe("ok");
  });

  test("commands that exec runs are checked too", () => {
    root.innerHTML = `<div id="x" phx-cancel='[["set_attr",{"attr":["onclick","alert(1)"]}]]'></div>`;
    run([["exec", { attr: "phx-cancel", to: "#x" }]]);
    expect($("#x").hasAttribute("onclick")).toBe(false);
    expect(reported[0]).toMatch(/refused/);
  });

  test("an exec that runs itself stops, reported", () => {
    root.innerHTML = `<div id="x" phx-loop='[["add_class",{"names":["n"]}],["exec",{"attr":"phx-loop"}]]'></div>`;
    run([["exec", { attr: "phx-loop", to: "#x" }]]);
    expect(reported.some((m) => /nested deeper than 8/.test(m))).toBe(true);
  });

  test("hooks' setAttribute and toggleAttribute throw for the same attributes", () => {
    expect(() => setAttribute($("#sink"), "onerror", "alert(1)")).toThrow(/event-handler attributes/);
    expect(() => setAttribute($("#a"), "href", "javascript:alert(1)")).toThrow(/URL that can run script/);
    expect(() => toggleAttribute($("#a"), "href", "/x", "javascript:alert(1)")).toThrow(/URL that can run script/);
    expect($("#sink").hasAttribute("onerror")).toBe(false);
    setAttribute($("#a"), "href", "/y");
    expect($("#a").getAttribute("href")).toBe("/y");
  });

  test.each(setAttrVectors.cases)("the shared vector: $name=$value refused: $refused", ({ name, value, refused }) => {
    expect(attributeRefusal(name, value) !== null).toBe(refused);
  });

  test("the rules: URLs by scheme, attributes by name", () => {
    expect(["http://x", "HTTPS://x", "/p", "p?q", "#f", "mailto:a@b", "tel:1", ""].every(isSafeUrl)).toBe(true);
    expect(["javascript:x", "java\nscript:x", " data:text/html,x", "x:y", "data:image/svg+xml,x"].some(isSafeUrl)).toBe(false);
    expect(attributeRefusal("title", "javascript:x")).toBeNull();
    expect(attributeRefusal("onanything", undefined)).toMatch(/on/);
    expect(["phx-click", "phx-change", "phx-window-keyup", "phx-cancel", "PHX-REMOVE"].every(isBindingAttribute)).toBe(true);
    expect(["phx-value-id", "phx-target", "phx-hook", "phx-debounce", "data-cancel", "title"].some(isBindingAttribute)).toBe(false);
  });
});

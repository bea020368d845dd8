import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { patch } from "../src/dom_patch";
import { RenderedTree } from "../src/rendered";
import { vectorFiles } from "./vectors";

let container: HTMLElement;

beforeEach(() => {
  container = document.createElement("div");
  document.body.append(container);
});

afterEach(() => {
  container.remove();
});

describe("patch", () => {
  test("sets the container's children to the new HTML", () => {
    patch(container, "<p>a</p><p>b</p>");
    expect(container.innerHTML).toBe("<p>a</p><p>b</p>");
    patch(container, "<ul><li>x</li></ul>");
    expect(container.innerHTML).toBe("<ul><li>x</li></ul>");
  });

  test("keeps unchanged nodes as the same DOM nodes", () => {
    patch(container, '<h1>Title</h1><p id="n">1</p><span>x</span>');
    const h1 = container.querySelector("h1");
    const p = container.querySelector("p");
    const span = container.querySelector("span");
    patch(container, '<h1>Title</h1><p id="n">2</p><span>x</span>');
    expect(container.querySelector("h1")).toBe(h1);
    expect(container.querySelector("p")).toBe(p);
    expect(container.querySelector("span")).toBe(span);
    expect(p?.textContent).toBe("2");
  });

  test("a focused input keeps focus and its typed value while its siblings change", () => {
    patch(container, '<form><label>Count: 1</label><input name="q" value="server"></form>');
    const input = container.querySelector("input") as HTMLInputElement;
    input.focus();
    input.value = "typed by the user";
    input.setSelectionRange(2, 5);

    patch(
      container,
      '<form><h2>New</h2><label>Count: 2</label><input name="q" value="other" class="busy"></form>',
    );

    expect(container.querySelector("input")).toBe(input);
    expect(document.activeElement).toBe(input);
    expect(input.value).toBe("typed by the user");
    expect(input.className).toBe("busy"); // attributes other than value follow the server
    expect(input.selectionStart).toBe(2);
    expect(input.selectionEnd).toBe(5);
    expect(container.querySelector("label")?.textContent).toBe("Count: 2");
    expect(container.querySelector("h2")?.textContent).toBe("New");
  });

  test("a focused textarea keeps its typed text", () => {
    patch(container, '<p>1</p><textarea name="t">server</textarea>');
    const area = container.querySelector("textarea") as HTMLTextAreaElement;
    area.focus();
    area.value = "mine";
    patch(container, '<p>2</p><textarea name="t">changed</textarea>');
    expect(container.querySelector("textarea")).toBe(area);
    expect(area.value).toBe("mine");
    expect(document.activeElement).toBe(area);
  });

  test("an input that is not focused takes the server's value", () => {
    patch(container, '<input name="q" value="a">');
    const input = container.querySelector("input") as HTMLInputElement;
    input.value = "typed";
    patch(container, '<input name="q" value="b">');
    expect(container.querySelector("input")).toBe(input);
    expect(input.value).toBe("b");
  });

  test('phx-update="ignore" keeps children and attributes; id and data-* follow', () => {
    patch(
      container,
      '<div id="chart" phx-update="ignore" class="a" data-x="1"><canvas></canvas></div><p>1</p>',
    );
    const chart = container.querySelector("#chart") as HTMLElement;
    chart.querySelector("canvas")?.setAttribute("width", "300"); // a library drew here
    chart.append(document.createElement("svg"));

    patch(
      container,
      '<div id="chart" phx-update="ignore" class="b" data-x="2"><span>server</span></div><p>2</p>',
    );

    expect(container.querySelector("#chart")).toBe(chart);
    expect(chart.innerHTML).toBe('<canvas width="300"></canvas><svg></svg>');
    expect(chart.className).toBe("a");
    expect(chart.dataset.x).toBe("2");
    expect(container.querySelector("p")?.textContent).toBe("2");
  });
});


/** A page with a keyed comprehension of rows `<tr><td>name</td><td><input value=note></td></tr>`. */
const ROW = ["<tr><td>", '</td><td><input name="note" value="', '"></td></tr>'];
const TABLE = ["<h1>", "</h1><table><tbody>", "</tbody></table>"];

type Row = [name: string, note: string];

function table(rows: Row[], title = "t"): RenderedTree {
  const tree = new RenderedTree();
  tree.merge({ s: TABLE, "0": title, "1": { s: ROW, k: keyed(rows) } });
  return tree;
}

function keyed(rows: Row[]): Record<string, unknown> {
  const k: Record<string, unknown> = { kc: rows.length };
  rows.forEach(([name, note], i) => {
    k[i] = { "0": name, "1": note };
  });
  return k;
}

/** A diff that changes the name of row `i` (of `count`), and nothing else. */
const rename = (i: number, name: string, count: number) => ({ "1": { k: { [i]: { "0": name }, kc: count } } });

describe("patch with RenderedTree.toPatch(): in proportion to the change", () => {
  const rows = () => Array.from(container.querySelectorAll("tr"));
  const marked = () => container.querySelectorAll("[data-lw-skip], [data-lw-entry]").length;
  /** Patch with toPatch(); how it went: "entries", "page" or "full" (the fallback). */
  const show = (tree: RenderedTree): string => {
    const view = tree.toPatch();
    let how = view.html === null ? "entries" : "page";
    patch(container, {
      ...view,
      page: () => {
        how = "page";
        return view.page();
      },
      full: () => {
        how = "full";
        return view.full();
      },
    });
    expect(marked()).toBe(0); // no placeholder, no marker reaches the page
    return how;
  };

  test("a one-row change morphs that row alone: the other rows are not touched", () => {
    const tree = table([["a", "1"], ["b", "2"], ["c", "3"]]);
    show(tree);
    const before = rows();
    // Marks that a morph of these rows would remove (the server never sent them).
    before[0]?.setAttribute("data-seen", "");
    before[2]?.setAttribute("data-seen", "");
    tree.merge(rename(1, "B", 3));
    expect(show(tree)).toBe("entries");
    expect(rows()).toEqual(before);
    expect(before[1]?.textContent).toBe("B");
    expect(before[0]?.hasAttribute("data-seen")).toBe(true);
    expect(before[2]?.hasAttribute("data-seen")).toBe(true);
  });

  test("a change outside the rows patches the page with the unchanged rows as placeholders", () => {
    const tree = table([["a", "1"], ["b", "2"], ["c", "3"]]);
    show(tree);
    const before = rows();
    before[0]?.setAttribute("data-seen", "");
    tree.merge({ "0": "new title", "1": { k: { "2": { "1": "changed" }, kc: 3 } } });
    expect(show(tree)).toBe("page");
    expect(rows()).toEqual(before);
    expect(before[0]?.hasAttribute("data-seen")).toBe(true); // kept as it was
    expect(container.querySelector("h1")?.textContent).toBe("new title");
    expect((before[2]?.querySelector("input") as HTMLInputElement).value).toBe("changed");
  });

  test("keyed moves, inserts and deletes: the page is the tree's HTML and moved rows are the same nodes", () => {
    const tree = table([["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"]]);
    show(tree);
    const [a, , c, d] = rows();
    // (Rows have no ids: a row that changed is matched by position, as with the whole HTML;
    // one that only moved is found by its entry, wherever it is.)
    // Insert x at the top, move d to second, delete b; a and c move by position.
    tree.merge({ "1": { k: { "0": { "0": "x", "1": "9" }, "1": 3, "2": 0, "3": 2, kc: 4 } } });
    expect(show(tree)).toBe("page");
    expect(container.innerHTML).toBe(tree.toHTML());
    expect(rows().map((r) => r.firstChild?.textContent)).toEqual(["x", "d", "a", "c"]);
    expect(rows().slice(1)).toEqual([d, a, c]);
    // A moved row that also changed, then a shorter list.
    tree.merge({ "1": { k: { "0": [3, { "0": "C" }], kc: 1 } } });
    show(tree);
    expect(container.innerHTML).toBe(tree.toHTML());
    expect(rows().map((r) => r.firstChild?.textContent)).toEqual(["C"]);
  });

  test("a focused input keeps focus and its typed value, in a row that changes or one that does not", () => {
    const tree = table([["a", "1"], ["b", "2"], ["c", "3"]]);
    show(tree);
    const input = rows()[1]?.querySelector("input") as HTMLInputElement;
    input.focus();
    input.value = "typing";
    input.setSelectionRange(1, 3);
    for (const diff of [rename(0, "A", 3), rename(1, "B", 3), { "0": "t2", ...rename(1, "BB", 3) }]) {
      tree.merge(diff);
      show(tree);
      expect(rows()[1]?.querySelector("input")).toBe(input);
      expect(document.activeElement).toBe(input);
      expect(input.value).toBe("typing");
      expect([input.selectionStart, input.selectionEnd]).toEqual([1, 3]);
    }
    expect(rows()[1]?.firstChild?.textContent).toBe("BB");
    // The same-named input of a row that changed is that row's, not a stand-in for the focused one.
    const other = rows()[0]?.querySelector("input");
    tree.merge(rename(0, "AA", 3));
    expect(show(tree)).toBe("entries");
    expect(rows()[0]?.querySelector("input")).toBe(other);
  });

  test("a placeholder whose row went away (behind livewidget's back) falls back to the whole page", () => {
    const tree = table([["a", "1"], ["b", "2"], ["c", "3"]]);
    show(tree);
    rows()[0]?.remove();
    tree.merge(rename(2, "C", 3));
    expect(show(tree)).toBe("entries"); // row 2 alone: what else the page holds is not looked at
    expect(rows()).toHaveLength(2);
    tree.merge({ "0": "t2" }); // the page, with a placeholder for row 0, whose element is gone
    expect(show(tree)).toBe("full");
    expect(container.innerHTML).toBe(tree.toHTML());
    expect(rows()).toHaveLength(3);
  });

  test("a changed row whose element went away falls back to the whole page", () => {
    const tree = table([["a", "1"], ["b", "2"]]);
    show(tree);
    rows()[1]?.remove();
    tree.merge(rename(1, "B", 2));
    expect(show(tree)).toBe("full");
    expect(container.innerHTML).toBe(tree.toHTML());
  });

  test("a row replaced by another tag behind livewidget's back is never shown as a placeholder", () => {
    const tree = table([["a", "1"], ["b", "2"]]);
    show(tree);
    const old = rows()[0] as HTMLTableRowElement;
    old.replaceWith(document.createElement("tr")); // same place, not the recorded element
    tree.merge({ "0": "t2" });
    expect(show(tree)).toBe("full");
    expect(container.innerHTML).toBe(tree.toHTML());
  });

  test("a new view, first patched with the saved HTML, gets the whole page on its first diff", () => {
    const tree = table([["a", "1"], ["b", "2"]]);
    tree.toPatch(); // another view was patched with it
    patch(container, tree.toHTML()); // this one mounts with the plain HTML
    tree.merge(rename(0, "A", 2));
    expect(show(tree)).toBe("full");
    tree.merge(rename(1, "B", 2));
    expect(show(tree)).toBe("entries");
    expect(container.innerHTML).toBe(tree.toHTML());
  });

  test("a full render into a new tree after a resync writes every row: no placeholder of the old tree", () => {
    const old = table([["a", "1"], ["b", "2"]]);
    show(old);
    const [a] = rows();
    const tree = new RenderedTree(old);
    tree.merge({ s: TABLE, "0": "t", "1": { s: ROW, k: keyed([["a", "1"], ["b", "changed"]]) } });
    const view = tree.toPatch();
    expect(view.html).not.toContain("data-lw-skip");
    patch(container, view);
    expect(container.innerHTML).toBe(tree.toHTML());
    expect(rows()[0]).toBe(a); // morphed, not rebuilt
  });

  test('rows inside phx-update="ignore" stay as the page has them', () => {
    const tree = new RenderedTree();
    const page = ['<div id="keep" phx-update="ignore"><table><tbody>', "</tbody></table></div><p>", "</p>"];
    tree.merge({ s: page, "0": { s: ROW, k: keyed([["a", "1"]]) }, "1": "x" });
    show(tree);
    container.querySelector("td")?.append("!"); // a library drew here
    tree.merge({ "1": "y" });
    show(tree);
    tree.merge({ "0": { k: { "0": { "0": "A" }, kc: 1 } }, "1": "z" });
    show(tree);
    expect(container.querySelector("td")?.textContent).toBe("a!");
    expect(container.querySelector("p")?.textContent).toBe("z");
  });
});

describe("every shared vector, patched step by step with toPatch()", () => {
  // Components, nested templates, shared statics, keyed moves, streams: the page must be what
  // a patch with the whole HTML makes, at every step, with no placeholder left.
  for (const [file, cases] of vectorFiles) {
    test.each(cases.map((c) => [c.name, c] as const))(`${file}: %s`, (_name, c) => {
      const whole = document.createElement("div");
      document.body.append(whole);
      try {
        const tree = new RenderedTree();
        c.steps.forEach((step, i) => {
          tree.merge(step.payload);
          patch(container, tree.toPatch());
          patch(whole, tree.toHTML());
          expect(container.innerHTML, `step ${i}`).toBe(whole.innerHTML);
        });
      } finally {
        whole.remove();
      }
    });
  }
});

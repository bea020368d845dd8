/**
 * Streams in the front end: rendered.ts keeps the rows the kernel forgets and applies each
 * batch to them as Phoenix's client does; dom_patch.ts lines up a phx-update="stream"
 * container so that a new row is one insertion. (The official client's agreement is checked
 * by official.test.ts on tests/vectors/streams.json and by tests/unit/test_differential.py.)
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { patch } from "../src/dom_patch";
import { RenderedTree } from "../src/rendered";

const PAGE = ['<h1>', '</h1><ul id="feed" phx-update="stream">', "</ul><p id=\"after\">end</p>"];
const ROW = ['<li id="', '">', "</li>"];

type Insert = [string, number, number | null, boolean];
type Row = [number, string];

/** A stream batch of `rows` (inserted with `at` and `limit`), as the kernel sends it. */
function batch(
  rows: Row[],
  { at = -1, limit = null, deletes = [], reset = false, statics = false }: {
    at?: number;
    limit?: number | null;
    deletes?: number[];
    reset?: boolean;
    statics?: boolean;
  } = {},
): Record<string, unknown> {
  const keyed: Record<string, unknown> = { kc: rows.length };
  rows.forEach(([id, text], i) => {
    keyed[i] = { "0": `feed-${id}`, "1": text };
  });
  const inserts: Insert[] = rows.map(([id]) => [`feed-${id}`, at, limit, false]);
  const stream: unknown[] = ["7", inserts, deletes.map((id) => `feed-${id}`)];
  if (reset) stream.push(true);
  return { ...(statics ? { s: ROW } : {}), k: keyed, stream };
}

/** A tree that has merged the first render of the page with `rows` appended. */
function page(rows: Row[], title = "t"): RenderedTree {
  const tree = new RenderedTree();
  tree.merge({ s: PAGE, "0": title, "1": batch(rows, { statics: true }) });
  return tree;
}

/** The rows of the tree's HTML, as "id:text". */
function rowsOf(tree: RenderedTree): string[] {
  const found = tree.toHTML().matchAll(/<li id="feed-(\d+)">([^<]*)<\/li>/g);
  return Array.from(found, (m) => `${m[1]}:${m[2]}`);
}

const numbered = (ids: number[]): Row[] => ids.map((id) => [id, `r${id}`]);

describe("a stream in the rendered tree", () => {
  test("appends, prepends and inserts at a position", () => {
    const tree = page(numbered([1, 2]));
    tree.merge({ "1": batch(numbered([3])) });
    tree.merge({ "1": batch(numbered([4]), { at: 0 }) });
    tree.merge({ "1": batch(numbered([5]), { at: 2 }) });
    tree.merge({ "1": batch(numbered([6]), { at: 99 }) });
    expect(rowsOf(tree)).toEqual(["4:r4", "1:r1", "5:r5", "2:r2", "3:r3", "6:r6"]);
  });

  test("keeps the rows the server no longer sends through other changes", () => {
    const tree = page(numbered([1, 2, 3]));
    tree.merge({ "0": "new title" });
    tree.merge({});
    expect(tree.toHTML()).toBe(
      '<h1>new title</h1><ul id="feed" phx-update="stream">' +
        '<li id="feed-1">r1</li><li id="feed-2">r2</li><li id="feed-3">r3</li>' +
        '</ul><p id="after">end</p>',
    );
  });

  test("updates a row it already shows in place, whatever at says, and never twice", () => {
    const tree = page(numbered([1, 2, 3]));
    tree.merge({ "1": batch([[2, "two"]], { at: 0 }) });
    expect(rowsOf(tree)).toEqual(["1:r1", "2:two", "3:r3"]);
  });

  test("deletes rows by DOM id; a delete then an insert of one row moves it", () => {
    const tree = page(numbered([1, 2, 3]));
    tree.merge({ "1": batch([], { deletes: [2] }) });
    expect(rowsOf(tree)).toEqual(["1:r1", "3:r3"]);
    tree.merge({ "1": batch([[3, "moved"]], { at: 0, deletes: [3] }) });
    expect(rowsOf(tree)).toEqual(["3:moved", "1:r1"]);
  });

  test("a positive limit keeps the first rows, a negative one the last", () => {
    const tree = page(numbered([1, 2, 3]));
    tree.merge({ "1": batch(numbered([4]), { at: 0, limit: 3 }) });
    expect(rowsOf(tree)).toEqual(["4:r4", "1:r1", "2:r2"]);
    tree.merge({ "1": batch(numbered([5]), { limit: -2 }) });
    expect(rowsOf(tree)).toEqual(["2:r2", "5:r5"]);
  });

  test("a newest-first feed capped at 1,000 rows keeps the newest 1,000", () => {
    const tree = page([]);
    for (let id = 0; id < 1_050; id++) {
      tree.merge({ "1": batch(numbered([id]), { at: 0, limit: 1_000 }) });
    }
    const rows = rowsOf(tree);
    expect(rows).toHaveLength(1_000);
    expect(rows[0]).toBe("1049:r1049");
    expect(rows[999]).toBe("50:r50");
  });

  test("a reset empties the stream before the batch's inserts", () => {
    const tree = page(numbered([1, 2]));
    tree.merge({ "1": batch(numbered([9]), { reset: true }) });
    expect(rowsOf(tree)).toEqual(["9:r9"]);
    tree.merge({ "1": batch([], { reset: true }) });
    expect(rowsOf(tree)).toEqual([]);
  });

  test("an update-only insert changes a row shown and adds none", () => {
    const tree = page(numbered([1]));
    const updates = batch([[1, "one"], [2, "two"]]);
    (updates.stream as [string, Insert[]])[1].forEach((insert) => {
      insert[3] = true;
    });
    tree.merge({ "1": updates });
    expect(rowsOf(tree)).toEqual(["1:one"]);
  });

  test("rows keep the template they came with when the stream's template changes", () => {
    const tree = page(numbered([1]));
    tree.merge({ "1": { ...batch(numbered([2])), s: ['<li id="', '" class="new">', "</li>"] } });
    expect(tree.toHTML()).toContain('<li id="feed-1">r1</li><li id="feed-2" class="new">r2</li>');
  });

  test("a stream sent whole again, under a new template, keeps the rows of the same ref", () => {
    const tree = page(numbered([1, 2]));
    const list = ['<ul id="feed" phx-update="stream">', "</ul>"];
    tree.merge({
      s: ["<section>", "</section>"],
      "0": { s: list, "0": batch(numbered([3]), { statics: true }) },
    });
    expect(rowsOf(tree)).toEqual(["1:r1", "2:r2", "3:r3"]);
  });

  test("a full render into a new tree made from the old one keeps the rows the page shows", () => {
    const old = page(numbered([1, 2]));
    const tree = new RenderedTree(old);
    tree.merge({ s: PAGE, "0": "t", "1": batch([], { statics: true }) });
    expect(rowsOf(tree)).toEqual(["1:r1", "2:r2"]);
    const fresh = new RenderedTree(); // a reloaded page: nothing to keep
    fresh.merge({ s: PAGE, "0": "t", "1": batch([], { statics: true }) });
    expect(rowsOf(fresh)).toEqual([]);
  });

  test("a component's stream keeps its rows through the component's diffs", () => {
    const tree = new RenderedTree();
    const log = { s: ['<ul id="feed" phx-update="stream">', "</ul>"], "0": batch(numbered([1]), { statics: true }) };
    tree.merge({ s: ["<main>", "</main>"], "0": 1, c: { "1": log } });
    tree.merge({ c: { "1": { "0": batch(numbered([2]), { at: 0 }) } } });
    expect(rowsOf(tree)).toEqual(["2:r2", "1:r1"]);
  });

  test("a batch whose inserts do not match its entries is an error that says so", () => {
    const tree = page(numbered([1]));
    const bad = batch(numbered([2]));
    (bad.stream as unknown[])[1] = [];
    expect(() => tree.merge({ "1": bad })).toThrow(/0 inserts for 1 entries; insert i must go with entry i/);
  });
});

// Each DOM test runs twice: patched with the whole HTML, and with toPatch()'s placeholders for
// the rows that did not change (a kept row must still line up, move and keep focus).
describe.each([
  ["the whole HTML", (tree: RenderedTree) => tree.toHTML()],
  ["placeholders", (tree: RenderedTree) => tree.toPatch()],
])("a stream container in the DOM, patched with %s", (_mode, html) => {
  let container: HTMLElement;

  beforeEach(() => {
    container = document.createElement("div");
    document.body.append(container);
  });

  afterEach(() => {
    container.remove();
  });

  const show = (tree: RenderedTree) => {
    patch(container, html(tree));
    expect(container.innerHTML).toBe(tree.toHTML()); // no placeholder, no marker: the page
  };
  const items = () => Array.from(container.querySelectorAll("#feed > li"));

  test("prepending a row to a thousand inserts one node and moves none", () => {
    const tree = page(numbered(Array.from({ length: 1_000 }, (_, i) => i)));
    show(tree);
    const before = items();
    const observer = new MutationObserver(() => {});
    observer.observe(container, { childList: true, subtree: true });
    tree.merge({ "1": batch([[5_000, "new"]], { at: 0, limit: 1_000 }) });
    show(tree);
    const records = observer.takeRecords();
    observer.disconnect();
    const added = records.flatMap((r) => Array.from(r.addedNodes));
    const removed = records.flatMap((r) => Array.from(r.removedNodes));
    expect(added.map((n) => (n as Element).id)).toEqual(["feed-5000"]);
    expect(removed.map((n) => (n as Element).id)).toEqual(["feed-999"]); // the limit's prune
    const after = items();
    expect(after[0]?.id).toBe("feed-5000");
    expect(after.slice(1)).toEqual(before.slice(0, 999)); // the same nodes, in place
  });

  test("deletes, inserts at n and resets change the page's rows, and nothing else", () => {
    const tree = page(numbered([1, 2, 3]));
    show(tree);
    const [one, , three] = items();
    const title = container.querySelector("h1");
    const after = container.querySelector("#after");
    tree.merge({ "0": "t2", "1": batch(numbered([4]), { at: 1, deletes: [2] }) });
    show(tree);
    expect(items().map((el) => el.id)).toEqual(["feed-1", "feed-4", "feed-3"]);
    expect(items()[0]).toBe(one);
    expect(items()[2]).toBe(three);
    expect(container.querySelector("h1")).toBe(title);
    expect(container.querySelector("#after")).toBe(after);
    expect(title?.textContent).toBe("t2");
    tree.merge({ "1": batch(numbered([7]), { reset: true }) });
    show(tree);
    expect(items().map((el) => el.id)).toEqual(["feed-7"]);
    expect(container.querySelector("#after")).toBe(after);
  });

  test("a row updated in place is the same node with the new content", () => {
    const tree = page(numbered([1, 2]));
    show(tree);
    const [, two] = items();
    tree.merge({ "1": batch([[2, "changed"]], { at: 0 }) });
    show(tree);
    expect(items()[1]).toBe(two);
    expect(two?.textContent).toBe("changed");
  });

  test("a non-stream child of the container and whitespace between rows keep their place", () => {
    const tree = new RenderedTree();
    tree.merge({
      s: ['<ul id="feed" phx-update="stream"><li id="feed-empty">none yet</li>', "</ul>"],
      "0": { ...batch(numbered([1])), s: ['\n  <li id="', '">', "</li>\n"] },
    });
    show(tree);
    const placeholder = container.querySelector("#feed-empty");
    tree.merge({ "0": batch(numbered([2]), { at: 0 }) });
    show(tree);
    expect(container.querySelector("#feed-empty")).toBe(placeholder);
    expect(container.innerHTML).toBe(
      '<ul id="feed" phx-update="stream"><li id="feed-empty">none yet</li>' +
        '\n  <li id="feed-2">r2</li>\n\n  <li id="feed-1">r1</li>\n</ul>',
    );
  });

  test("an input being typed in a row keeps focus, value and selection while rows arrive", () => {
    const tree = new RenderedTree();
    const input = ['<li id="', '"><input name="note" value="', '"></li>'];
    tree.merge({ s: PAGE, "0": "t", "1": { ...batch(numbered([1, 2])), s: input } });
    show(tree);
    const field = container.querySelector("#feed-2 input") as HTMLInputElement;
    field.focus();
    field.value = "typing";
    field.setSelectionRange(1, 3);
    tree.merge({ "1": batch(numbered([3, 4]), { at: 0 }) });
    show(tree);
    expect(container.querySelector("#feed-2 input")).toBe(field);
    expect(document.activeElement).toBe(field);
    expect(field.value).toBe("typing");
    expect([field.selectionStart, field.selectionEnd]).toEqual([1, 3]);
    expect(items().map((el) => el.id)).toEqual(["feed-4", "feed-3", "feed-1", "feed-2"]);
  });
});

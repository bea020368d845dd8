import { describe, expect, test, vi } from "vitest";
import { RenderedTree } from "../src/rendered";
import { vectorFiles } from "./vectors";

describe("shared vectors", () => {
  test("include the hand-written basic.json", () => {
    expect(vectorFiles.map(([file]) => file)).toContain("basic.json");
  });

  for (const [file, cases] of vectorFiles) {
    describe(file, () => {
      test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
        const tree = new RenderedTree();
        c.steps.forEach((step, i) => {
          tree.merge(step.payload);
          expect(tree.toHTML(), `step ${i}`).toBe(step.html);
        });
      });
    });
  }
});

describe("RenderedTree", () => {
  test("renders nothing before the first merge", () => {
    expect(new RenderedTree().toHTML()).toBe("");
  });

  test("leaves the merged payload untouched", () => {
    const payload = { s: ["<p>", "</p>"], "0": { s: 0, "0": "x" }, p: { "0": ["<b>", "</b>"] } };
    const copy = structuredClone(payload);
    const tree = new RenderedTree();
    tree.merge(payload);
    tree.merge({ "0": { "0": "y" } });
    expect(tree.toHTML()).toBe("<p><b>y</b></p>");
    expect(payload).toEqual(copy);
  });

  test("a template index with no enclosing templates is an error that names it", () => {
    const tree = new RenderedTree();
    expect(() => tree.merge({ s: ["<p>", "</p>"], "0": { s: 3, "0": "x" } })).toThrow(
      /"s": 3 names a template, but no enclosing "p" has template 3/,
    );
  });

  test("a keyed diff without a count is an error", () => {
    const tree = new RenderedTree();
    tree.merge({ s: ["", ""], "0": { s: ["<i>", "</i>"], k: { "0": { "0": "a" }, kc: 1 } } });
    expect(() => tree.merge({ "0": { k: { "0": { "0": "b" } } } })).toThrow(/needs "kc"/);
  });

  test("a move from a position that never existed is an error", () => {
    const tree = new RenderedTree();
    tree.merge({ s: ["", ""], "0": { s: ["<i>", "</i>"], k: { "0": { "0": "a" }, kc: 1 } } });
    expect(() => tree.merge({ "0": { k: { "0": 5, km: true, kc: 1 } } })).toThrow(/old position 5/);
  });

  test("a dynamic that is neither text, rendered nor a cid is an error at render", () => {
    const tree = new RenderedTree();
    tree.merge({ s: ["<p>", "</p>"], "0": true });
    expect(() => tree.toHTML()).toThrow(/dynamic 0 must be a string/);
  });

  test("a reference to an unknown component is an error", () => {
    const tree = new RenderedTree();
    tree.merge({ s: ["<p>", "</p>"], "0": 7 });
    expect(() => tree.toHTML()).toThrow(/no component for cid 7/);
  });

  test("a component sharing the statics of a missing one is an error", () => {
    const tree = new RenderedTree();
    expect(() => tree.merge({ s: ["", ""], "0": 1, c: { "1": { s: -4, "0": "x" } } })).toThrow(
      /component 1 shares the statics of component -4, which is not cached/,
    );
  });

  test("a comprehension prefers the templates around it to its own, as the official client", () => {
    const tree = new RenderedTree();
    tree.merge({
      s: ["", ""],
      p: { "0": ["<outer>", "</outer>"] },
      "0": { s: ["", ""], k: { "0": { "0": { s: 0, "0": "x" } }, kc: 1 }, p: { "0": ["<own>", "</own>"] } },
    });
    expect(tree.toHTML()).toBe("<outer>x</outer>");
  });

  test("components keep their state across diffs that do not mention them", () => {
    const tree = new RenderedTree();
    tree.merge({ s: ["", "|", ""], "0": 1, "1": "a", c: { "1": { s: ["<b>", "</b>"], "0": "c1" } } });
    tree.merge({ "1": "b" });
    expect(tree.toHTML()).toBe("<b>c1</b>|b");
  });
});

describe("keyed merges", () => {
  const rows = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), { "0": `r${i}` }]));
  type Tree = { root: Record<string, { k: Record<string, unknown> }> };
  // Private state read on purpose: what the tree holds is what the test is about.
  const entries = (tree: RenderedTree) => (tree as unknown as Tree).root["0"].k;

  test("a one-entry diff without moves copies no entry and keeps the others as they were", () => {
    const tree = new RenderedTree();
    tree.merge({ s: ["<ul>", "</ul>"], "0": { s: ["<li>", "</li>"], k: { ...rows(1000), kc: 1000 } } });
    const held = entries(tree);
    const before = { ...held };
    // A spy that calls through: it records what is deep-copied, it replaces nothing.
    const copies = vi.spyOn(globalThis, "structuredClone");
    try {
      tree.merge({ "0": { k: { "1": { "0": "changed" }, kc: 1000 } } });
      expect(copies.mock.calls.filter(([value]) => value === held)).toEqual([]);
    } finally {
      copies.mockRestore();
    }
    const after = entries(tree);
    expect(after["0"]).toBe(before["0"]);
    expect(after["999"]).toBe(before["999"]);
    expect(tree.toHTML()).toContain("<li>r0</li><li>changed</li><li>r2</li>");
  });

  test("a one-entry diff without moves reads no other entry, however a copy would be made", () => {
    const tree = new RenderedTree();
    tree.merge({ s: ["<ul>", "</ul>"], "0": { s: ["<li>", "</li>"], k: { ...rows(1000), kc: 1000 } } });
    const held = entries(tree);
    // Entry 500 counts its reads: any copy of the entries (structuredClone, JSON, a spread,
    // Object.entries) reads it; a merge that touches entry 1 alone never does.
    let reads = 0;
    const row = held["500"];
    Object.defineProperty(held, "500", {
      get: () => {
        reads += 1;
        return row;
      },
      enumerable: true,
      configurable: true,
    });
    tree.merge({ "0": { k: { "1": { "0": "changed" }, kc: 1000 } } });
    expect(reads).toBe(0);
    expect(tree.toHTML()).toContain("<li>r499</li><li>r500</li><li>r501</li>");
  });

  test("a diff with moves still reads each moved entry from its old position", () => {
    const tree = new RenderedTree();
    tree.merge({ s: ["", ""], "0": { s: ["<i>", "</i>"], k: { ...rows(3), kc: 3 } } });
    tree.merge({ "0": { k: { "0": 2, "1": [0, { "0": "x" }], "2": 1, km: true, kc: 3 } } });
    expect(tree.toHTML()).toBe("<i>r2</i><i>x</i><i>r1</i>");
  });
});

describe("toPatch: the HTML for the views", () => {
  const list = (s: string[], names: string[]) => {
    const k: Record<string, unknown> = { kc: names.length };
    names.forEach((n, i) => {
      k[i] = { "0": n };
    });
    return { s: ["<ul>", "</ul><p>", "</p>"], "0": { s, k }, "1": "x" };
  };
  const ids = (html: string) => Array.from(html.matchAll(/data-lw-(?:entry|skip)="(\d+)"/g), (m) => m[1]);

  test("writes every entry with its id first, then the unchanged ones as empty elements of their tag", () => {
    const tree = new RenderedTree();
    tree.merge(list(["\n  <li class=\"i\">", "</li>\n"], ["a", "b"]));
    const first = tree.toPatch().html as string;
    const [a, b] = ids(first);
    expect(first).toBe(
      `<ul>\n  <li data-lw-entry="${a}" class="i">a</li>\n\n  <li data-lw-entry="${b}" class="i">b</li>\n</ul><p>x</p>`,
    );
    tree.merge({ "0": { k: { "1": { "0": "B" }, kc: 2 } }, "1": "y" });
    expect(tree.toPatch().html).toBe(
      `<ul>\n  <li data-lw-skip="${a}"></li>\n\n  <li data-lw-entry="${b}" class="i">B</li>\n</ul><p>y</p>`,
    );
    expect(tree.toHTML()).toBe('<ul>\n  <li class="i">a</li>\n\n  <li class="i">B</li>\n</ul><p>y</p>');
  });

  test("a change inside entries alone gives those entries, not the page", () => {
    const tree = new RenderedTree();
    tree.merge(list(["<li>", "</li>"], ["a", "b", "c"]));
    const [, b] = ids(tree.toPatch().html as string);
    tree.merge({ "0": { k: { "1": { "0": "B" }, kc: 3 } } });
    const view = tree.toPatch();
    expect(view.html).toBeNull();
    expect(view.entries).toEqual([[Number(b), `<li data-lw-entry="${b}">B</li>`]]);
    expect(view.full()).not.toContain("data-lw-skip");
    expect(tree.toPatch()).toMatchObject({ html: null, entries: [] }); // nothing changed since
  });

  test.each([
    ["two elements", ["<li>", "</li><li>x</li>"]],
    ["text around the element", ["x<li>", "</li>"]],
    ["a dynamic outside the element", ["", "<li>x</li>"]],
    ["a block inside a paragraph (the parser would close it)", ["<p><div>", "</div></p>"]],
    ["an unclosed element", ["<li>", ""]],
  ])("never skips an entry whose template is not one element: %s", (_name, s) => {
    const tree = new RenderedTree();
    tree.merge(list(s, ["a", "b"]));
    tree.toPatch();
    tree.merge({ "1": "y" });
    const html = tree.toPatch().html as string;
    expect(html).not.toContain("data-lw-");
    expect(html).toBe(tree.toHTML());
  });

  test("an unchanged entry that shows a component that changed is written in full", () => {
    const tree = new RenderedTree();
    tree.merge({
      s: ["<ul>", "</ul>"],
      "0": { s: ["<li>", "</li>"], k: { "0": { "0": 1 }, "1": { "0": "plain" }, kc: 2 } },
      c: { "1": { s: ["<b>", "</b>"], "0": "c1" } },
    });
    tree.toPatch();
    tree.merge({ c: { "1": { "0": "c2" } } });
    const html = tree.toPatch().html as string;
    expect(html).toMatch(/^<ul><li data-lw-entry="\d+"><b>c2<\/b><\/li><li data-lw-skip="\d+"><\/li><\/ul>$/);
  });
});

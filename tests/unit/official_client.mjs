// The Node side of tests/unit/test_differential.py: merges payloads with the official
// phoenix_live_view client (and with livewidget's own js/src/rendered.ts) and answers with the
// HTML after each one.
//
// test_differential.py bundles this file with esbuild once per test session and keeps one Node
// process running. It talks JSON lines on stdin/stdout: one request per line,
//
//     {"payloads": [full, diff, diff, ...]}
//
// and one answer per line, the HTML after each payload from each client (the official one with
// its data-phx-* markers removed), or the first error with the step that raised it:
//
//     {"official": ["<p>..", ...], "livewidget": ["<p>..", ...]}
//     {"error": "TypeError: ...", "client": "official", "step": 2}
//
// With "dom": true (streams, whose rows only a page keeps) each client patches a page instead,
// in a happy-dom document: the official one with its own DOMPatch (js/tests/official_dom.ts),
// livewidget with rendered.ts and js/src/dom_patch.ts, as the widget does; the answers are the
// pages' HTML. "normalize": [html, ...] asks for those strings as the DOM writes them back, under
// "normalized", so that Python's HTML compares with a page's.
import "./official_client_dom.mjs"; // first: the DOM globals the modules below expect
import { createInterface } from "node:readline";

import DOMPatch from "../../node_modules/phoenix_live_view/assets/js/phoenix_live_view/dom_patch.ts";
import Rendered from "../../node_modules/phoenix_live_view/assets/js/phoenix_live_view/rendered.js";
import { patch } from "../../js/src/dom_patch.ts";
import { RenderedTree } from "../../js/src/rendered.ts";
import { officialDomClient } from "../../js/tests/official_dom.ts";

// Only protocol lines go to stdout; anything a client logs goes to stderr.
for (const level of ["log", "info", "warn", "debug"]) console[level] = console.error;

const withoutMarkers = (html) => html.replace(/ data-phx-[a-z-]+="[^"]*"/g, "");

function official() {
  let rendered = null;
  return (payload) => {
    const copy = structuredClone(payload); // the official client adopts and mutates diffs
    if (rendered) rendered.mergeDiff(copy);
    else rendered = new Rendered("lw", copy);
    return withoutMarkers(rendered.toString().buffer);
  };
}

function livewidget() {
  const tree = new RenderedTree();
  return (payload) => {
    tree.merge(payload);
    return tree.toHTML();
  };
}

function officialPage() {
  const page = officialDomClient(Rendered, DOMPatch, document);
  return { merge: (payload) => page.apply(payload), dispose: () => page.dispose() };
}

function livewidgetPage() {
  const tree = new RenderedTree();
  const root = document.createElement("div");
  document.body.append(root);
  return {
    merge(payload) {
      tree.merge(payload);
      patch(root, tree.toPatch()); // as widget.ts: unchanged entries as placeholders
      return root.innerHTML;
    },
    dispose: () => root.remove(),
  };
}

function normalize(html) {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div.innerHTML;
}

function run(name, client, payloads) {
  const made = client();
  const { merge, dispose } = typeof made === "function" ? { merge: made } : made;
  const steps = [];
  try {
    for (const payload of payloads) steps.push(merge(payload));
  } catch (error) {
    return { error: String(error?.stack ?? error), client: name, step: steps.length };
  } finally {
    dispose?.();
  }
  return steps;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const request = JSON.parse(line);
    const { payloads } = request;
    const [ours, theirs] = request.dom ? [livewidgetPage, officialPage] : [livewidget, official];
    const first = run("official", theirs, payloads);
    const second = Array.isArray(first) ? run("livewidget", ours, payloads) : first;
    answer = Array.isArray(second) ? { official: first, livewidget: second } : second;
    if (request.normalize && !answer.error) answer.normalized = request.normalize.map(normalize);
  } catch (error) {
    answer = { error: String(error?.stack ?? error), client: "request", step: 0 };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}

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
import { createInterface } from "node:readline";

import Rendered from "../../node_modules/phoenix_live_view/assets/js/phoenix_live_view/rendered.js";
import { RenderedTree } from "../../js/src/rendered.ts";

// The official client's deepClone asks `"structuredClone" in window`; Node has no window.
globalThis.window ??= globalThis;

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

function run(name, client, payloads) {
  const merge = client();
  const steps = [];
  try {
    for (const payload of payloads) steps.push(merge(payload));
  } catch (error) {
    return { error: String(error?.stack ?? error), client: name, step: steps.length };
  }
  return steps;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const { payloads } = JSON.parse(line);
    const first = run("official", official, payloads);
    const second = Array.isArray(first) ? run("livewidget", livewidget, payloads) : first;
    answer = Array.isArray(second) ? { official: first, livewidget: second } : second;
  } catch (error) {
    answer = { error: String(error?.stack ?? error), client: "request", step: 0 };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}

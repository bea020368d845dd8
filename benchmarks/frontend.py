"""(f) The front end's half of (b): merge + patch of the 1,000-row one-cell update, in Chromium.

The kernel's side of (b) is in ``table.py``; this is what the page does with what it gets.
Contenders, each on a table of its own in one page of headless Chromium (Debian's
``/usr/bin/chromium`` through Playwright, with the e2e harness's flags), fed the same
sequence of updates:

* **livewidget**: the diff the Python side sends (``protocol.diff`` of two renders of
  ``table.keyed``, one ``qty`` changed), merged into the cached tree
  (``RenderedTree.merge``), the tree turned into HTML (``toHTML``, the saved HTML trait) and
  into the views' HTML (``toPatch``: the rows the diff did not touch as empty placeholders),
  and the view patched (``dom_patch.patch``: morphdom, with livewidget's focus, stream and
  placeholder rules), as ``widget.ts`` does for a diff. The four steps are also timed apart.
* **lw whole**: the same tree patched with the whole HTML (``patch(el, tree.toHTML())``),
  livewidget's page before placeholders: what they save, measured in the same run.
* **innerHTML** of the whole new HTML: what ``ipywidgets.HTML`` does with its new ``value``.
* **morphdom** of the whole new HTML string: what a widget that sends the whole HTML and
  morphs instead of replacing would do (``morphdom(el, "<div>" + html + "</div>",
  {childrenOnly: true})``).
* **floor**: a hand-written update that knows the page and sets the one cell's text
  (``tbody.rows[r].cells[2].textContent``): what patching in proportion to the change could
  reach at best. No widget does this; it is there to show how far the others are from it.

The code is livewidget's own: ``js/src/rendered.ts`` and ``js/src/dom_patch.ts`` (and the
morphdom it imports), bundled by esbuild with the flags of ``npm run build`` (ESM sources,
``--minify --target=es2020``) into an IIFE for a static page. The page needs no Jupyter: it is
answered by Playwright's router at ``http://localhost/`` with the headers that make it
cross-origin isolated, so that ``performance.now()`` has a fine grain (Chromium coarsens it to
100 µs otherwise; the grain seen is printed).

How it is timed: each update is applied by every contender in turn (the order rotating from one
update to the next, so none always runs first), timed with ``performance.now()``: *script* is
the JavaScript work of the update; *+ layout* adds a forced layout of the page after it
(``offsetHeight``), which a browser would otherwise do before the next frame. The first
``WARMUP`` updates are left out (the JIT). Figures are medians over the updates measured. Each
update changes one ``qty`` of a row drawn at random (seeded), so consecutive diffs touch
different rows. Bounded: the page stops after ``BUDGET_S`` seconds of updates.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from livewidget import protocol

from .browser import harness
from .common import size
from .table import ROWS, keyed, make_rows

REPO = Path(__file__).resolve().parents[1]
ESBUILD = REPO / "node_modules" / ".bin" / "esbuild"
URL = "http://localhost/frontend.html"

UPDATES = 120  # updates generated (measured: those after WARMUP that fit in BUDGET_S)
WARMUP = 10
BUDGET_S = 20.0

# The bench bundle's entry: livewidget's merge and patch, and morphdom for the baseline.
ENTRY = """\
export { RenderedTree } from "./rendered";
export { patch } from "./dom_patch";
export { default as morphdom } from "morphdom";
"""

PAGE = """\
<!doctype html>
<html><head><meta charset="utf-8"><title>livewidget front-end benchmark</title>
<style>body { font: 12px sans-serif } .lw-root { float: left; width: 32% }</style>
</head><body><script>{bundle}</script></body></html>
"""

# Runs in the page: the same updates through every contender, timed.
RUN = """\
({ full, diffs, warmup, budgetMs }) => {
  const { RenderedTree, patch, morphdom } = window.livewidgetBench;
  // The whole HTML after each update, made before any timing (what the baselines receive).
  const reference = new RenderedTree();
  reference.merge(full);
  const htmls = [reference.toHTML()];
  for (const diff of diffs) {
    reference.merge(diff);
    htmls.push(reference.toHTML());
  }
  const view = (id) => {
    const el = document.createElement("div");
    el.className = "lw-root";
    el.id = id;
    el.innerHTML = htmls[0];
    document.body.append(el);
    return el;
  };
  const tree = new RenderedTree();
  tree.merge(full);
  const whole = new RenderedTree();
  whole.merge(full);
  const roots = {
    livewidget: view("livewidget"),
    whole: view("whole"),
    innerHTML: view("inner"),
    morphdom: view("morph"),
    floor: view("floor"),
  };
  const steps = { merge: [], toHTML: [], toPatch: [], patch: [] };
  const update = {
    livewidget(i, el) {
      const t0 = performance.now();
      tree.merge(diffs[i - 1]);
      const t1 = performance.now();
      tree.toHTML(); // the saved HTML trait, as widget.ts keeps it
      const t2 = performance.now();
      const forViews = tree.toPatch();
      const t3 = performance.now();
      patch(el, forViews);
      const t4 = performance.now();
      if (i > warmup) {
        steps.merge.push(t1 - t0);
        steps.toHTML.push(t2 - t1);
        steps.toPatch.push(t3 - t2);
        steps.patch.push(t4 - t3);
      }
    },
    whole(i, el) {
      whole.merge(diffs[i - 1]);
      patch(el, whole.toHTML());
    },
    innerHTML(i, el) {
      el.innerHTML = htmls[i];
    },
    morphdom(i, el) {
      morphdom(el, "<div>" + htmls[i] + "</div>", { childrenOnly: true });
    },
    floor(i, el) {
      // Knows the page: the diff's one entry is a row, its dynamic "2" the text of cell 2.
      const [[row, entry]] = Object.entries(diffs[i - 1]["0"].k).filter(([k]) => k !== "kc");
      el.querySelector("tbody").rows[Number(row)].cells[2].textContent = entry["2"];
    },
  };
  const names = Object.keys(update);
  const script = Object.fromEntries(names.map((n) => [n, []]));
  const layout = Object.fromEntries(names.map((n) => [n, []]));
  document.body.offsetHeight;
  const start = performance.now();
  let done = 0;
  for (let i = 1; i <= diffs.length; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      const el = roots[name];
      const t0 = performance.now();
      update[name](i, el);
      const t1 = performance.now();
      el.offsetHeight; // layout, as the next frame would do it
      const t2 = performance.now();
      if (i > warmup) {
        script[name].push(t1 - t0);
        layout[name].push(t2 - t0);
      }
    }
    done = i;
    if (performance.now() - start > budgetMs) break;
  }
  let grain = Infinity;
  for (let k = 0; k < 50; k++) {
    const a = performance.now();
    let b = a;
    while (b === a) b = performance.now();
    grain = Math.min(grain, b - a);
  }
  const same = names.every((n) => roots[n].innerHTML === roots.livewidget.innerHTML);
  return {
    script, layout, steps, done, grain, same,
    isolated: window.crossOriginIsolated,
    html: tree.toHTML(),
    expected: htmls[done],
    userAgent: navigator.userAgent,
  };
}
"""


def updates(count: int = UPDATES) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """The full render of the table, then ``count`` diffs, each one ``qty`` changed (a row drawn
    at random); and the HTML of every state, as the kernel renders it."""
    rng = random.Random(2)
    rows = make_rows()
    previous = keyed(rows)
    full = protocol.full(previous)
    diffs: list[dict[str, Any]] = []
    htmls = [previous.to_html()]
    for _ in range(count):
        index = rng.randrange(len(rows))
        rows = list(rows)
        rows[index] = {**rows[index], "qty": rows[index]["qty"] + 1}
        current = keyed(rows)
        diffs.append(protocol.diff(previous, current))
        htmls.append(current.to_html())
        previous = current
    return full, diffs, htmls


def bundle() -> str:
    """rendered.ts + dom_patch.ts + morphdom as an IIFE (global ``livewidgetBench``)."""
    result = subprocess.run(
        [
            str(ESBUILD),
            "--bundle",
            "--format=iife",
            "--global-name=livewidgetBench",
            "--minify",
            "--target=es2020",
            "--loader=ts",
        ],
        input=ENTRY,
        cwd=REPO / "js" / "src",
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"esbuild could not bundle the benchmark's entry:\n{result.stderr}")
    return result.stdout


def median(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")  # ms -> µs


def main() -> None:
    print(f"\n(f) front end, {ROWS:,}-row table, one cell changes: merge + patch in Chromium")
    if not ESBUILD.exists():
        print(f"  esbuild not found at {ESBUILD}: run `npm ci` first; skipped")
        return
    from playwright.sync_api import sync_playwright

    e2e = harness()
    started = time.monotonic()
    full, diffs, kernel_htmls = updates()
    page_html = PAGE.replace("{bundle}", bundle().replace("</script", "<\\/script"))
    headers = {
        "content-type": "text/html; charset=utf-8",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
    }
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=e2e.CHROMIUM,
            headless=True,
            args=e2e.CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 900},
        )
        try:
            context.route(
                "**/*",
                lambda route: (
                    route.fulfill(status=200, body=page_html, headers=headers)
                    if route.request.url == URL
                    else route.abort()
                ),
            )
            page = context.new_page()
            page.goto(URL)
            result = page.evaluate(
                RUN,
                {"full": full, "diffs": diffs, "warmup": WARMUP, "budgetMs": BUDGET_S * 1000},
            )
        finally:
            context.close()

    done = result["done"]
    if result["html"] != kernel_htmls[done] or result["expected"] != kernel_htmls[done]:
        raise AssertionError(f"the page's HTML after update {done} is not the kernel's")
    if not result["same"]:
        raise AssertionError("the contenders' tables differ after the updates")
    measured = done - WARMUP
    diff_bytes = statistics.median(size(d) for d in diffs[:done])
    html_bytes = statistics.median(len(h.encode("utf-8")) for h in kernel_htmls[1 : done + 1])
    print(
        f"  {result['userAgent'].split(' ')[-2]}; {measured} updates measured after {WARMUP} "
        f"warm-up ones, medians; performance.now() grain {result['grain'] * 1000:.0f} µs "
        f"(cross-origin isolated: {result['isolated']}); load average {os.getloadavg()[0]:.2f}"
    )
    print(f"  a diff as sent, e.g.: {json.dumps(diffs[0])}")
    print(f"  {'':<58}{'script µs':>11}{'+ layout µs':>13}{'bytes':>9}")
    rows = [
        ("livewidget", "merge diff + toHTML + toPatch + patch", diff_bytes),
        ("whole", "same tree, patch(whole HTML): no placeholders", diff_bytes),
        ("innerHTML", "(a) el.innerHTML = whole new HTML", html_bytes),
        ("morphdom", "(b) morphdom(el, whole new HTML string)", html_bytes),
        ("floor", "floor: the one cell's textContent, by hand", diff_bytes),
    ]
    for name, how, payload in rows:
        script, layout = median(result["script"][name]), median(result["layout"][name])
        print(f"  {name:<12}{how:<46}{script:>11,.0f}{layout:>13,.0f}{payload:>9,.0f}")
    steps = result["steps"]
    print(
        "  livewidget's steps: "
        + ", ".join(
            f"{step} {median(steps[step]):,.0f} µs"
            for step in ("merge", "toHTML", "toPatch", "patch")
        )
    )
    ours = median(result["script"]["livewidget"])
    ours_layout = median(result["layout"]["livewidget"])
    for name, how, _ in rows[1:4]:
        print(
            f"  {how}: {median(result['script'][name]) / ours:.1f}x livewidget's script time, "
            f"{median(result['layout'][name]) / ours_layout:.1f}x with layout, "
            f"{html_bytes / diff_bytes:,.0f}x the bytes"
        )
    print(f"  ({time.monotonic() - started:.0f} s in all)")


if __name__ == "__main__":
    main()

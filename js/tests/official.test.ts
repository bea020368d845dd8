/**
 * Differential test: the official phoenix_live_view client (the npm package,
 * pinned in package.json) merges every shared vector and must build the same
 * HTML as the vector says (so the same as rendered.ts), once its data-phx-*
 * markers are removed. A vector that only livewidget understands fails here.
 */
import { describe, expect, test } from "vitest";
import {
  type OfficialPatchClass,
  type OfficialRendered,
  type OfficialRenderedClass,
  officialDomClient,
  withoutMarkers,
} from "./official_dom";
import { vectorFiles } from "./vectors";

// Not in the package's "exports"; loaded by path, and typed by the interfaces of official_dom.
const OFFICIAL = new URL("../../node_modules/phoenix_live_view/assets/js/phoenix_live_view/", import.meta.url);
const { default: Rendered } = (await import(/* @vite-ignore */ new URL("rendered.js", OFFICIAL).pathname)) as {
  default: OfficialRenderedClass;
};
const { default: DOMPatch } = (await import(/* @vite-ignore */ new URL("dom_patch.ts", OFFICIAL).pathname)) as {
  default: OfficialPatchClass;
};

/** HTML as the DOM writes it back (quotes, entities), so that it compares with a patched page. */
function normalized(html: string): string {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div.innerHTML;
}

for (const [file, cases] of vectorFiles) {
  describe(`official client on ${file}`, () => {
    test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      if (c.dom) {
        // A stream: the page keeps its rows, so the HTML to compare is the patched page's.
        const page = officialDomClient(Rendered, DOMPatch, document);
        try {
          c.steps.forEach((step, i) => {
            expect(page.apply(step.payload), `step ${i}`).toBe(normalized(step.html));
          });
        } finally {
          page.dispose();
        }
        return;
      }
      let rendered: OfficialRendered | null = null;
      c.steps.forEach((step, i) => {
        const payload = structuredClone(step.payload); // the official client mutates it
        if (rendered) rendered.mergeDiff(payload);
        else rendered = new Rendered("lw", payload);
        expect(withoutMarkers(rendered.toString().buffer), `step ${i}`).toBe(step.html);
      });
    });
  });
}

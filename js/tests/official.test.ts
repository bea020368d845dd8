/**
 * Differential test: the official phoenix_live_view client (the npm package,
 * pinned in package.json) merges every shared vector and must build the same
 * HTML as the vector says (so the same as rendered.ts), once its data-phx-*
 * markers are removed. A vector that only livewidget understands fails here.
 */
import { describe, expect, test } from "vitest";
import { vectorFiles } from "./vectors";

/** The part of phoenix_live_view's internal Rendered class used here. */
interface OfficialRendered {
  mergeDiff(diff: unknown): void;
  toString(): { buffer: string };
}
type OfficialRenderedClass = new (viewId: string, rendered: unknown) => OfficialRendered;

// Not in the package's "exports"; loaded by path, and typed by the interface above.
const RENDERED_JS = new URL(
  "../../node_modules/phoenix_live_view/assets/js/phoenix_live_view/rendered.js",
  import.meta.url,
).pathname;
const { default: Rendered } = (await import(/* @vite-ignore */ RENDERED_JS)) as {
  default: OfficialRenderedClass;
};

const withoutMarkers = (html: string) => html.replace(/ data-phx-[a-z-]+="[^"]*"/g, "");

for (const [file, cases] of vectorFiles) {
  describe(`official client on ${file}`, () => {
    test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
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

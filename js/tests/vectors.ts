/// <reference types="vite/client" />
/**
 * The shared JSON vectors of tests/vectors/*.json (format: tests/vectors/README.md),
 * read by both test suites. Every file in that folder is picked up.
 */

export interface Step {
  payload: Record<string, unknown>;
  html: string;
}

export interface Case {
  name: string;
  /** A stream case: the official client builds its HTML in the DOM (official_dom.ts). */
  dom?: boolean;
  steps: Step[];
}

const modules = import.meta.glob<{ cases: Case[] }>("../../tests/vectors/*.json", {
  eager: true,
  import: "default",
});

/** [file name, its cases] for every vector file. */
export const vectorFiles: [string, Case[]][] = Object.entries(modules).map(([path, data]) => [
  path.split("/").pop() as string,
  data.cases,
]);

/**
 * The official phoenix_live_view client as a browser runs it: its Rendered merges a payload,
 * and its own DOM patch (the DOMPatch class of its dom_patch.ts) patches a container with the
 * HTML and the stream batches that came with it. Streams exist only there: the official
 * Rendered forgets a stream's rows once rendered, and the page keeps them, so comparing its
 * HTML string with livewidget's would compare nothing. Used by official.test.ts (vitest, in
 * happy-dom) and tests/unit/official_client.mjs (Node, with a happy-dom window of its own).
 *
 * DOMPatch is given what it uses of a View and a LiveSocket and nothing more: one view owning
 * the whole container, the default `phx-` bindings, no debug checks, no transitions. The first
 * payload is patched as a join (as Phoenix patches the first render), the others as updates.
 */

/** The part of phoenix_live_view's internal Rendered class used here. */
export interface OfficialRendered {
  mergeDiff(diff: unknown): void;
  toString(): { buffer: string; streams: Set<unknown> };
}
export type OfficialRenderedClass = new (viewId: string, rendered: unknown) => OfficialRendered;

/** The part of phoenix_live_view's internal DOMPatch class used here. */
export interface OfficialPatch {
  perform(isJoinPatch: boolean): boolean;
}
export type OfficialPatchClass = new (
  view: unknown,
  container: Element,
  html: string,
  streams: Set<unknown>,
  targetCID: number | null,
) => OfficialPatch;

/** The official client's HTML without the data-phx-* markers it adds (livewidget has none). */
export const withoutMarkers = (html: string): string =>
  html.replace(/ data-phx-[a-z-]+="[^"]*"/g, "");

/** One page of the official client: `apply` each payload in order, `dispose` at the end. */
export interface OfficialPage {
  /** Merge and patch `payload`; the container's HTML after it, markers removed. */
  apply(payload: unknown): string;
  /** Take the container out of the document (ids are looked up document-wide). */
  dispose(): void;
}

export function officialDomClient(
  Rendered: OfficialRenderedClass,
  DOMPatch: OfficialPatchClass,
  document: Document,
): OfficialPage {
  const container = document.createElement("div");
  container.id = "lw";
  document.body.append(container);
  const liveSocket = {
    binding: (kind: string) => `phx-${kind}`,
    getActiveElement: () => document.activeElement,
    time: <T>(_name: string, fn: () => T): T => fn(),
    isDebugEnabled: () => false,
    silenceEvents: (fn: () => void) => fn(),
    transitionRemoves: (_els: Element[], _view: unknown, done: () => void) => done(),
    unload: () => {},
    destroyViewByEl: () => {},
  };
  const view = {
    id: "lw",
    root: { id: "lw" },
    liveSocket,
    portalElementIds: new Set<string>(),
    ownsElement: (el: Element) => container.contains(el),
    logError: (code: string, message: string) => {
      throw new Error(`the official client reports ${code}: ${message}`);
    },
    dropPortalElementId: () => {},
    pushPortalElementId: () => {},
  };
  let rendered: OfficialRendered | null = null;
  return {
    apply(payload: unknown): string {
      const copy = structuredClone(payload); // the official client adopts and mutates diffs
      const join = rendered === null;
      if (rendered) rendered.mergeDiff(copy);
      else rendered = new Rendered("lw", copy);
      const { buffer, streams } = rendered.toString();
      new DOMPatch(view, container, `<div>${buffer}</div>`, streams, null).perform(join);
      return withoutMarkers(container.innerHTML);
    },
    dispose(): void {
      container.remove();
    },
  };
}

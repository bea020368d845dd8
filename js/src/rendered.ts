/**
 * The cached Phoenix LiveView "rendered" tree: merge diffs into it, turn it into HTML.
 * Pure data: no DOM, no window.
 *
 * A template is split into statics (the literal text) and dynamics (the holes).
 * The first render of `<p>Hello {name}!</p>` with name = "Ada" arrives as
 *
 *     {"s": ["<p>Hello ", "!</p>"], "0": "Ada"}
 *
 * and HTML is the statics interleaved with the dynamics: `<p>Hello Ada!</p>`.
 * When name becomes "Bob" the kernel sends only `{"0": "Bob"}`; merging it
 * replaces dynamic 0 and keeps the statics.
 *
 * A dynamic is one of
 * - a string (already escaped HTML),
 * - a nested rendered object (`{"s": [...], "0": ...}`); a diff without "s"
 *   merges into it, one with "s" replaces it (a different template),
 * - a keyed comprehension `{"s": [...], "k": {"0": {"0": dyn}, "1": {...}, "kc": 2}}`:
 *   one entry of dynamics per item, all sharing the statics. In a diff, an
 *   entry object merges at its position (a new one starts from {}), an integer
 *   means "moved here from that old position", `[old, diff]` means moved and
 *   changed, "km" says moves are present and "kc" sets the count,
 * - an integer: a reference to component `cid` in the root's "c" map.
 *
 * "s" may also be an integer: an index into the nearest "p" templates map, so
 * repeated templates travel once. They are resolved while merging, so the cached
 * tree only ever holds statics arrays (scoping as in the official client: a
 * comprehension prefers the templates around it over its own).
 *
 * In "c", a component whose "s" is an integer shares the statics of another
 * component: a positive cid from the same diff, a negative one from the cache.
 *
 * A stream is a keyed comprehension with a "stream" entry, `[ref, inserts, deleteIds]`
 * (plus `true` after a reset), whose entries are only the rows inserted since the last
 * payload; insert i, `[domId, at, limit, updateOnly]`, goes with entry i. The kernel keeps
 * none of the rows it sent, so the tree keeps them: merging a batch applies it to the rows the
 * node holds, as Phoenix's client applies it to the children of the `phx-update="stream"`
 * container (applyStream), and the node's "k" then holds every row, so toHTML is the whole
 * page. A stream node that arrives whole (with "s": a new template around it, or a full render
 * into a tree made with `new RenderedTree(previous)`) keeps the rows held for the same ref.
 *
 * The merge rules mirror phoenix_live_view's rendered.js (1.2), so both build the
 * same HTML apart from the data-phx-* markers: `toHTML()` is exactly the kernel's HTML.
 *
 * Patching the views in proportion to the change (`toPatch()`). A 1,000-row table whose one
 * cell changes is a 50-byte diff, but morphing the page to the whole new HTML means parsing
 * all of it and walking all 1,000 rows. So, as Phoenix's client marks the components a diff
 * did not touch (`data-phx-skip`), the tree knows which keyed entries changed since it last
 * gave HTML to the views, and `toPatch()` writes each unchanged one as an empty element of the
 * same tag, `<tr data-lw-skip="17"></tr>`, which dom_patch.ts answers by keeping the live
 * element it recorded for entry 17. Each entry written in full carries
 * `data-lw-entry="17"` on its root element instead, for dom_patch to record (and strip). An
 * entry has an id (hidden key ENTRY_ID, unique in the page's life) from the first time it is
 * written; a merge that changes it (or any part of it) clears its SHOWN flag, a pure move
 * keeps it (its HTML is the same; the views find it by its key). An entry that refers to a
 * component is unchanged only if no component it reaches changed. Only an entry whose template
 * is one balanced element (`<tr ...>...</tr>`, see `shapeOf`) can be skipped; any other is
 * always written in full, as before. When every change since the last `toPatch` was inside
 * entries the views show, in place (the one-cell update: `localEntries` checks the diff before
 * it is merged), there is not even a page to write: `toPatch()` gives those entries' HTML alone,
 * and dom_patch.ts morphs each one's live element. `full()` is the page without placeholders,
 * for a view that cannot resolve one (a new view, a view whose patch failed, a page changed
 * behind livewidget's back): dom_patch.ts falls back to it, so a placeholder never reaches
 * the page.
 */
import {
  COMPONENTS,
  ENTRY_ATTR,
  KEYED,
  KEYED_COUNT,
  KEYED_MOVED,
  SKIP_ATTR,
  STATIC,
  STREAM,
  TEMPLATES,
} from "./constants";
import { isObject, type Obj, repr } from "./util";

type Templates = Obj;

const clone = <T>(v: T): T => structuredClone(v);

/** Not on the wire: the DOM ids of the rows a stream node holds, in the order of its "k". */
const STREAM_IDS = "\u0000streamIds";

type StreamRows = { ids: string[]; rows: Obj[] };

/** Not on the wire: a keyed entry's id for the views (kept while the entry lives, moves included). */
const ENTRY_ID = "\u0000entryId";
/** Not on the wire: true once `toPatch` wrote the entry; a merge that changes the entry deletes it. */
const SHOWN = "\u0000shown";
/** Entry ids are unique in the page's life, across trees (a resync makes a new tree). */
let nextEntryId = 1;

/**
 * What `toPatch` gives the views. Either `html`, the page with placeholders for the entries
 * unchanged since the last `toPatch`; or, when every change since then was inside entries the
 * views show (one cell of a row, say), `html` null and `entries`, each changed entry's id and
 * HTML, to morph its live element alone, and `page()`, the page with placeholders for the other
 * entries (for a view where morphing an entry alone would not do). `full()` is the page with
 * every entry written, for a view that cannot use the rest. Call both before the next merge.
 */
export interface ViewHTML {
  readonly html: string | null;
  readonly entries: readonly (readonly [number, string])[];
  page(): string;
  full(): string;
}

/** While writing for the views: whether to skip, the entry ids written so far, changed cids. */
interface ViewPass {
  skip: boolean;
  /** Entries written in full even if shown (those `entries` sends). */
  force: Map<Obj, string[]> | null;
  /** The entries written, by id. */
  seen: Map<number, Obj>;
  /** An entry object was met twice. */
  twice: boolean;
  changedCids: Set<number>;
}

export class RenderedTree {
  private root: Obj = {};
  private components: { [cid: string]: Obj } = {};
  /** The component objects as the last `toPatch` wrote them (a merge replaces a changed one). */
  private shownComponents = new Map<string, Obj>();
  /**
   * The entries changed since the last `toPatch`, with the statics they are written with, when
   * nothing else changed (see `localEntries`); null when something else did, or before the
   * first `toPatch`.
   */
  private local: Map<Obj, string[]> | null = null;
  /** The last page for the views wrote one entry object in two places (then no `entries`). */
  private twice = false;

  /**
   * `previous`: the tree this one replaces (a full render after a join); the streams of the
   * first payload keep the rows `previous` holds for them, as the page still shows them.
   */
  constructor(private previous: RenderedTree | null = null) {}

  /** Merge a full render or a diff. The payload is copied, never mutated. */
  merge(payload: unknown): void {
    if (!isObject(payload)) {
      throw new TypeError(`expected a rendered object, got ${repr(payload)}`);
    }
    const diff = clone(payload);
    const fresh: Obj[] = [];
    freshStreams(diff, fresh);
    // The rows held now, by ref, before the merge replaces the nodes that hold them.
    const known = new Map<string, StreamRows>();
    if (fresh.length > 0) {
      for (const tree of [this, this.previous]) {
        if (!tree) continue;
        knownStreams(tree.root, known);
        for (const cid in tree.components) knownStreams(tree.components[cid], known);
      }
    }
    this.previous = null;
    if (this.local) {
      const found = new Map<Obj, string[]>();
      if (!localEntries(this.root, diff, found)) this.local = null;
      else for (const [entry, statics] of found) this.local.set(entry, statics);
    }
    const newComponents = diff[COMPONENTS];
    delete diff[COMPONENTS];
    resolveTemplates(diff, null, false);
    this.root = mutableMerge(this.root, diff);
    if (newComponents !== undefined) this.mergeComponents(newComponents);
    for (const node of fresh) {
      const held = known.get(streamRef(node));
      settleStream(node, held?.ids ?? [], held?.rows ?? []);
    }
  }

  /** The HTML of the whole tree ("" before anything was merged). */
  toHTML(): string {
    if (this.root[STATIC] === undefined) return "";
    const out: string[] = [];
    this.write(this.root, out, new Set(), null);
    return out.join("");
  }

  /**
   * The HTML for the views: the entries unchanged since the last `toPatch` as placeholders
   * (`<tr data-lw-skip="ID"></tr>`), the others written in full with `data-lw-entry="ID"` on
   * their root element. It takes the views to hold what it returns: patch every view with it
   * (dom_patch.ts falls back to `full()` where it cannot).
   */
  toPatch(): ViewHTML {
    if (this.root[STATIC] === undefined) {
      return { html: "", entries: [], page: () => "", full: () => "" };
    }
    const changedCids = new Set<number>();
    for (const cid in this.components) {
      if (this.components[cid] !== this.shownComponents.get(cid)) changedCids.add(Number(cid));
    }
    const pass = (skip: boolean, force: Map<Obj, string[]> | null) => ({
      skip,
      force,
      seen: new Map<number, Obj>(),
      twice: false,
      changedCids,
      out: [] as string[],
    });
    const render = (skip: boolean, force: Map<Obj, string[]> | null = null) => {
      const state = pass(skip, force);
      this.write(this.root, state.out, new Set(), state);
      return state;
    };
    const full = () => render(false).out.join("");
    const local = this.local;
    this.local = new Map(); // from now on the views show this
    if (local && !this.twice && changedCids.size === 0) {
      const entries: [number, string][] = [];
      for (const [entry, statics] of local) {
        const state = pass(true, null);
        this.writeEntry(entry, statics, state.out, new Set(), state);
        entries.push([entry[ENTRY_ID] as number, state.out.join("")]);
      }
      return { html: null, entries, page: () => render(true, local).out.join(""), full };
    }
    const page = render(true);
    this.twice = page.twice;
    this.shownComponents = new Map(Object.entries(this.components));
    const html = page.out.join("");
    return { html, entries: [], page: () => html, full };
  }

  private mergeComponents(newc: unknown): void {
    if (!isObject(newc)) {
      throw new TypeError(`"${COMPONENTS}" must map cids to rendered objects, got ${repr(newc)}`);
    }
    const oldc = this.components;
    const done: { [cid: string]: Obj } = {};
    const find = (cid: string, seen: string[]): Obj => {
      const cached = done[cid];
      if (cached) return cached;
      const cdiff = newc[cid];
      if (!isObject(cdiff)) {
        throw new TypeError(`component ${cid} must be a rendered object, got ${repr(cdiff)}`);
      }
      resolveTemplates(cdiff, null, true);
      const shared = cdiff[STATIC];
      let result: Obj;
      if (typeof shared === "number") {
        // Shares statics with another component: positive = in this diff, negative = cached.
        if (seen.includes(cid)) throw new Error(`components ${seen.join(" -> ")} share statics in a cycle`);
        const base = shared > 0 ? find(String(shared), [...seen, cid]) : oldc[String(-shared)];
        if (!base) {
          throw new Error(
            `component ${cid} shares the statics of component ${shared}, which is ` +
              (shared > 0 ? "not in this diff" : "not cached"),
          );
        }
        result = cloneMerge(base, cdiff);
        result[STATIC] = base[STATIC];
        forgetShown(result); // the copied entries are new ones in the page, not base's
      } else {
        const old = oldc[cid];
        result = shared !== undefined || !old ? cdiff : cloneMerge(old, cdiff);
      }
      done[cid] = result;
      return result;
    };
    for (const cid in newc) find(cid, []);
    Object.assign(oldc, done);
  }

  private write(node: Obj, out: string[], activeCids: Set<number>, pass: ViewPass | null): void {
    const statics = node[STATIC];
    if (!Array.isArray(statics)) {
      throw new Error(`a rendered object has no statics array: ${repr(node)}`);
    }
    const keyed = node[KEYED];
    if (isObject(keyed)) {
      const count = keyed[KEYED_COUNT];
      for (let i = 0; i < (typeof count === "number" ? count : 0); i++) {
        const entry = keyed[i];
        if (!isObject(entry)) throw new Error(`comprehension entry ${i} is missing`);
        // A stream's rows carry their own statics (see applyStream).
        const own = entry[STATIC];
        const entryStatics = Array.isArray(own) ? own : statics;
        if (pass) this.writeEntry(entry, entryStatics as string[], out, activeCids, pass);
        else this.writeDynamics(entry, entryStatics, out, activeCids, null);
      }
    } else {
      this.writeDynamics(node, statics, out, activeCids, pass);
    }
  }

  /** A keyed entry for the views: a placeholder if unchanged, else in full with its id. */
  private writeEntry(
    entry: Obj,
    statics: string[],
    out: string[],
    active: Set<number>,
    pass: ViewPass,
  ): void {
    const shape = shapeOf(statics);
    let known = entry[ENTRY_ID];
    if (typeof known === "number" && pass.seen.has(known) && pass.seen.get(known) !== entry) {
      // A copy of an entry written already (a move's copy, a component sharing statics): an
      // entry of its own.
      delete entry[SHOWN];
      known = undefined;
    }
    if (!shape || (typeof known === "number" && pass.seen.has(known))) {
      // Not one element, or the same entry object twice (shown in two places): in full,
      // unmarked, never skipped.
      if (shape) pass.twice = true;
      this.writeDynamics(entry, statics, out, active, pass);
      return;
    }
    const id = typeof known === "number" ? known : nextEntryId++;
    if (typeof known !== "number") entry[ENTRY_ID] = id;
    pass.seen.set(id, entry);
    const unchanged =
      entry[SHOWN] === true &&
      !pass.force?.has(entry) &&
      !this.reachesChanged(entry, pass.changedCids, new Set());
    if (pass.skip && unchanged) {
      const end = shape.isVoid ? "" : `</${shape.tag}>`;
      out.push(shape.lead, `<${shape.tag} ${SKIP_ATTR}="${id}">`, end, shape.trail);
      return;
    }
    entry[SHOWN] = true;
    const first = statics[0] as string;
    const marked = [first.slice(0, shape.nameEnd) + ` ${ENTRY_ATTR}="${id}"` + first.slice(shape.nameEnd)];
    this.writeDynamics(entry, marked.concat(statics.slice(1)), out, active, pass);
  }

  /** Whether `node` refers, directly or through other components, to a component in `changed`. */
  private reachesChanged(node: Obj, changed: Set<number>, visited: Set<number>): boolean {
    if (changed.size === 0) return false;
    for (const key in node) {
      if (key === STATIC || key === STREAM || key === KEYED_COUNT || key.startsWith("\u0000")) continue;
      const value = node[key];
      if (typeof value === "number") {
        // A dynamic that is a number is a component reference (entries are objects).
        if (changed.has(value)) return true;
        if (visited.has(value)) continue;
        visited.add(value);
        const component = this.components[value];
        if (component && this.reachesChanged(component, changed, visited)) return true;
      } else if (isObject(value) && this.reachesChanged(value, changed, visited)) {
        return true;
      }
    }
    return false;
  }

  private writeDynamics(
    dynamics: Obj,
    statics: unknown[],
    out: string[],
    active: Set<number>,
    pass: ViewPass | null,
  ): void {
    const last = statics.length - 1;
    for (let i = 0; i < last; i++) {
      out.push(statics[i] as string);
      const dyn = dynamics[i];
      if (typeof dyn === "string") {
        out.push(dyn);
      } else if (isObject(dyn)) {
        this.write(dyn, out, active, pass);
      } else if (typeof dyn === "number") {
        this.writeComponent(dyn, out, active, pass);
      } else {
        throw new Error(
          `dynamic ${i} must be a string, a rendered object or a component id, got ${repr(dyn)}`,
        );
      }
    }
    out.push(statics[last] as string);
  }

  private writeComponent(cid: number, out: string[], active: Set<number>, pass: ViewPass | null): void {
    const component = this.components[cid];
    if (!component) throw new Error(`no component for cid ${cid}`);
    if (active.has(cid)) throw new Error(`component ${cid} renders itself`);
    active.add(cid);
    this.write(component, out, active, pass);
    active.delete(cid);
  }
}

/**
 * Replace every numeric "s" under `node` by the template it names, and drop the
 * "p" maps. `templates` is the map in scope; a component's own root "s" is a cid
 * (shared statics), not a template, and is left alone.
 */
function resolveTemplates(node: Obj, templates: Templates | null, isComponentRoot: boolean): void {
  const keyed = node[KEYED];
  const own = isObject(node[TEMPLATES]) ? (node[TEMPLATES] as Templates) : null;
  delete node[TEMPLATES];
  if (isObject(keyed)) {
    // As in the official client: the comprehension's own statics use the
    // templates around it, its entries use those or else its own.
    if (node[STATIC] !== undefined) node[STATIC] = lookup(node[STATIC], templates);
    const inner = templates ?? own;
    for (const key in keyed) {
      const entry = keyed[key];
      if (isObject(entry)) resolveDynamics(entry, inner);
      else if (Array.isArray(entry) && isObject(entry[1])) resolveDynamics(entry[1], inner);
    }
    return;
  }
  const scope = own ?? templates;
  if (node[STATIC] !== undefined && !(isComponentRoot && typeof node[STATIC] === "number")) {
    node[STATIC] = lookup(node[STATIC], scope);
  }
  resolveDynamics(node, scope);
}

function resolveDynamics(dynamics: Obj, templates: Templates | null): void {
  for (const key in dynamics) {
    const value = dynamics[key];
    if (isObject(value)) resolveTemplates(value, templates, false);
  }
}

function lookup(statics: unknown, templates: Templates | null): string[] {
  if (typeof statics === "number") {
    const found = templates?.[statics];
    if (!Array.isArray(found)) {
      throw new Error(
        `"${STATIC}": ${statics} names a template, but no enclosing "${TEMPLATES}" has template ${statics}`,
      );
    }
    return found as string[];
  }
  if (!Array.isArray(statics) || !statics.every((s) => typeof s === "string")) {
    throw new TypeError(`"${STATIC}" must be an array of strings or a template index, got ${repr(statics)}`);
  }
  return statics;
}

/** Merge `source` into `target` in place; a source with statics replaces the target. */
function mutableMerge(target: Obj, source: Obj): Obj {
  if (source[STATIC] !== undefined) return source;
  doMutableMerge(target, source);
  return target;
}

function doMutableMerge(target: Obj, source: Obj): void {
  if (source[STREAM] !== undefined) {
    mergeStream(target, source);
    return;
  }
  if (isObject(source[KEYED])) {
    mergeKeyed(target, source[KEYED]);
    return;
  }
  for (const key in source) {
    const value = source[key];
    const current = target[key];
    if (isObject(value) && value[STATIC] === undefined && isObject(current)) {
      doMutableMerge(current, value);
    } else {
      target[key] = value;
    }
  }
}

function mergeKeyed(target: Obj, diff: Obj): void {
  if (!isObject(target[KEYED])) target[KEYED] = { [KEYED_COUNT]: 0 };
  const entries = target[KEYED] as Obj;
  const count = diff[KEYED_COUNT];
  if (typeof count !== "number") {
    throw new TypeError(`a keyed comprehension diff needs "${KEYED_COUNT}" (the entry count), got ${repr(diff)}`);
  }
  // Moves read from the old positions: copy them before any entry is overwritten.
  // "kc" is a number too: only the entries (not the count) say whether anything moved.
  const hasMoves =
    diff[KEYED_MOVED] !== undefined ||
    Object.entries(diff).some(
      ([index, e]) => index !== KEYED_COUNT && (typeof e === "number" || Array.isArray(e)),
    );
  const old = hasMoves ? clone(entries) : entries;
  for (const [index, entry] of Object.entries(diff)) {
    if (index === KEYED_COUNT || index === KEYED_MOVED) continue;
    if (Array.isArray(entry)) {
      const [from, change] = entry as [number, Obj];
      entries[index] = movedEntry(old, from, index);
      delete (entries[index] as Obj)[SHOWN]; // moved and changed
      doMutableMerge(entries[index] as Obj, change);
    } else if (typeof entry === "number") {
      entries[index] = movedEntry(old, entry, index); // same HTML: keeps SHOWN
    } else if (isObject(entry)) {
      if (!isObject(entries[index])) entries[index] = {};
      delete (entries[index] as Obj)[SHOWN];
      // Among moves, an entry merged in place is a new item (the kernel's diff reuses the
      // position): the old one, if it moved, keeps its id and so its element.
      if (hasMoves) delete (entries[index] as Obj)[ENTRY_ID];
      doMutableMerge(entries[index] as Obj, entry);
    } else {
      throw new TypeError(
        `keyed entry ${index} must be an object, an old index or [old index, diff], got ${repr(entry)}`,
      );
    }
  }
  const previous = entries[KEYED_COUNT];
  for (let i = count; typeof previous === "number" && i < previous; i++) delete entries[i];
  entries[KEYED_COUNT] = count;
}

function movedEntry(old: Obj, from: number, to: string): Obj {
  const entry = old[from];
  if (!isObject(entry)) {
    throw new Error(`keyed entry ${to} moves from old position ${from}, which does not exist`);
  }
  return entry;
}

/** Like doMutableMerge, but builds a new tree and leaves `target` untouched. */
function cloneMerge(target: Obj, source: Obj): Obj {
  if (source[STREAM] !== undefined) {
    const merged = clone(target);
    mergeStream(merged, source);
    return merged;
  }
  if (isObject(source[KEYED])) {
    const merged = clone(target);
    mergeKeyed(merged, source[KEYED]);
    return merged;
  }
  const merged: Obj = { ...target, ...source };
  for (const key in merged) {
    const value = source[key];
    const current = target[key];
    if (isObject(value) && value[STATIC] === undefined && isObject(current)) {
      merged[key] = cloneMerge(current, value);
    } else if (value === undefined && isObject(current)) {
      merged[key] = clone(current);
    }
  }
  return merged;
}

/**
 * Whether merging `diff` into `node` changes only entries the views show, in place (no entry
 * added, moved or removed, no statics, components or streams, nothing outside an entry); if so,
 * `found` gets each such entry with the statics it is written with.
 */
function localEntries(node: Obj, diff: Obj, found: Map<Obj, string[]>): boolean {
  if (
    diff[STATIC] !== undefined ||
    diff[TEMPLATES] !== undefined ||
    diff[STREAM] !== undefined ||
    diff[COMPONENTS] !== undefined
  ) {
    return false;
  }
  const keyed = diff[KEYED];
  if (keyed !== undefined) {
    const entries = node[KEYED];
    const statics = node[STATIC];
    if (
      !isObject(keyed) ||
      !isObject(entries) ||
      !Array.isArray(statics) ||
      keyed[KEYED_MOVED] !== undefined ||
      keyed[KEYED_COUNT] !== entries[KEYED_COUNT]
    ) {
      return false;
    }
    for (const index in keyed) {
      if (index === KEYED_COUNT) continue;
      const entry = entries[index];
      if (!isObject(keyed[index]) || !isObject(entry) || entry[SHOWN] !== true) return false;
      if (entry[STATIC] !== undefined || !shapeOf(statics as string[])) return false;
      found.set(entry, statics as string[]);
    }
    return true;
  }
  for (const key in diff) {
    const value = diff[key];
    const current = node[key];
    // A string or a component reference changed outside any entry: the page.
    if (!isObject(value) || !isObject(current) || !localEntries(current, value, found)) return false;
  }
  return true;
}

/** Drop the view ids under `node`: its entries are to be written (and recorded) afresh. */
function forgetShown(node: unknown): void {
  if (!isObject(node)) return;
  delete node[ENTRY_ID];
  delete node[SHOWN];
  for (const key in node) if (key !== STATIC && key !== STREAM_IDS) forgetShown(node[key]);
}

// --- which templates are one element ----------------------------------------------------

/** A template that renders one element: its tag, where its name ends in statics[0], void or not. */
interface Shape {
  tag: string;
  nameEnd: number;
  isVoid: boolean;
  /** The whitespace around the element (text nodes of the page too). */
  lead: string;
  trail: string;
}

const shapes = new WeakMap<readonly string[], Shape | null>();

const VOID = new Set([
  "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
]);
/** Elements whose content is text up to their end tag (no tags inside to count). */
const RAW_TEXT = new Set([
  "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
]);
/** Roots the HTML parser closes when the same tag (or a sibling kind) opens inside them. */
const CLOSED_BY: { [root: string]: readonly string[] } = {
  a: ["a"], li: ["li"], option: ["option", "optgroup"], optgroup: ["optgroup"], dt: ["dt", "dd"],
  dd: ["dt", "dd"], tr: ["tr"], td: ["td", "th", "tr"], th: ["td", "th", "tr"], rb: ["rb", "rt", "rp"],
  rt: ["rb", "rt", "rp"], rp: ["rb", "rt", "rp"],
  // The blocks that close a paragraph (a word list: the house test keeps "p" for the wire).
  p: (
    "address article aside blockquote details dialog div dl fieldset figcaption figure footer " +
    "form h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section table ul"
  ).split(" "),
};
const HOLE = "\u0000";

/** The shape of `statics` if it is one element, else null (memoised per statics array). */
function shapeOf(statics: readonly string[]): Shape | null {
  let shape = shapes.get(statics);
  if (shape === undefined) {
    shape = analyse(statics);
    shapes.set(statics, shape);
  }
  return shape;
}

/**
 * Whether a template (its statics, the holes between them) is exactly one element, balanced,
 * with nothing but whitespace around it. A hole in text inside the element is a dynamic, itself
 * balanced HTML; a hole inside a start tag is an attribute. Conservative: anything unusual
 * (a comment or hole outside the root, a self-closing non-void tag, an end tag that does not
 * match, a tag inside that makes the parser close the root, as `<div>` in `<p>` or `<li>` in
 * `<li>`) says no, and the entry is then always written in full, which is always correct. Not
 * caught: content the parser moves out of a table root (text directly in a `<tr>`), which is
 * broken markup in the kernel's HTML too.
 */
function analyse(statics: readonly string[]): Shape | null {
  if (statics.length === 0 || statics.some((s) => typeof s !== "string" || s.includes(HOLE))) return null;
  const html = statics.join(HOLE);
  const start = html.search(/\S/);
  const root = /^<([a-zA-Z][a-zA-Z0-9-]*)/.exec(html.slice(start));
  if (start < 0 || !root) return null;
  const tag = (root[1] as string).toLowerCase();
  const nameEnd = start + 1 + (root[1] as string).length;
  if (nameEnd >= (statics[0] as string).length || !/[\s/>]/.test(html.charAt(nameEnd))) return null;
  const stack: string[] = [];
  let i = start;
  for (;;) {
    if (stack.length === 0 && i > start) {
      const trail = html.slice(i);
      return /^\s*$/.test(trail)
        ? { tag, nameEnd, isVoid: VOID.has(tag), lead: html.slice(0, start), trail }
        : null;
    }
    const lt = html.indexOf("<", i);
    if (lt < 0) return null; // the root never closes
    i = lt;
    if (html.startsWith("<!--", i)) {
      const end = html.indexOf("-->", i + 4);
      if (end < 0) return null;
      i = end + 3;
      continue;
    }
    const close = /^<\/([a-zA-Z][a-zA-Z0-9-]*)\s*>/.exec(html.slice(i, i + 64));
    if (close) {
      if (stack.pop() !== (close[1] as string).toLowerCase()) return null;
      i += close[0].length;
      continue;
    }
    const open = /^<([a-zA-Z][a-zA-Z0-9-]*)/.exec(html.slice(i, i + 64));
    if (!open) return null; // "<!DOCTYPE", "<?", a stray "<"
    const name = (open[1] as string).toLowerCase();
    const end = tagEnd(html, i + open[0].length);
    if (end < 0) return null;
    const selfClosing = html.charAt(end - 1) === "/";
    i = end + 1;
    if (stack.length > 0 && CLOSED_BY[tag]?.includes(name)) return null; // would close the root
    if (VOID.has(name)) continue;
    if (selfClosing) return null;
    stack.push(name);
    if (RAW_TEXT.has(name)) {
      const text = html.slice(i).search(new RegExp(`</${name}[\\s>]`, "i"));
      if (text < 0) return null;
      i += text;
    }
  }
}

/** The index of the ">" that ends the start tag whose attributes begin at `i` (-1 if none). */
function tagEnd(html: string, i: number): number {
  let quote = "";
  for (; i < html.length; i++) {
    const c = html.charAt(i);
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ">") {
      return i;
    }
  }
  return -1;
}

// --- streams -------------------------------------------------------------------------

/** Collect the stream nodes of a payload that come whole (with their statics). */
function freshStreams(node: unknown, found: Obj[]): void {
  if (Array.isArray(node)) {
    for (const item of node) freshStreams(item, found);
    return;
  }
  if (!isObject(node)) return;
  if (node[STREAM] !== undefined && node[STATIC] !== undefined) found.push(node);
  for (const key in node) if (key !== STREAM) freshStreams(node[key], found);
}

/** The rows of the stream nodes under `node`, by ref (copies: merging may change the nodes). */
function knownStreams(node: unknown, found: Map<string, StreamRows>): void {
  if (!isObject(node)) return;
  const ids = node[STREAM_IDS];
  if (Array.isArray(ids)) {
    found.set(streamRef(node), { ids: [...(ids as string[])], rows: streamRows(node) });
  }
  for (const key in node) {
    if (key !== STREAM && key !== STREAM_IDS && key !== STATIC) knownStreams(node[key], found);
  }
}

function streamRef(node: Obj): string {
  const batch = node[STREAM];
  if (!Array.isArray(batch) || batch.length < 3 || typeof batch[0] !== "string") {
    throw new TypeError(`"${STREAM}" must be [ref, inserts, deleteIds, reset?], got ${repr(batch)}`);
  }
  return batch[0];
}

function streamRows(node: Obj): Obj[] {
  const keyed = node[KEYED];
  if (!isObject(keyed)) return [];
  const count = typeof keyed[KEYED_COUNT] === "number" ? (keyed[KEYED_COUNT] as number) : 0;
  return Array.from({ length: count }, (_, i) => keyed[i] as Obj);
}

/** A stream diff (no "s") into the node that holds the stream's rows. */
function mergeStream(target: Obj, source: Obj): void {
  const ids = target[STREAM_IDS];
  if (!Array.isArray(ids)) {
    throw new Error(`a stream diff (ref ${repr(source[STREAM])}) for a node that holds no stream`);
  }
  const rows = streamRows(target);
  for (const key in source) if (key !== KEYED) target[key] = source[key];
  target[KEYED] = isObject(source[KEYED]) ? source[KEYED] : { [KEYED_COUNT]: 0 };
  settleStream(target, ids as string[], rows);
}

/** Apply the batch that came with `node` to `ids`/`rows`; the node then holds all the rows. */
function settleStream(node: Obj, ids: string[], rows: Obj[]): void {
  const ref = streamRef(node);
  const after = applyStream(ids, rows, node);
  const keyed: Obj = { [KEYED_COUNT]: after.ids.length };
  after.rows.forEach((row, i) => {
    keyed[i] = row;
  });
  node[KEYED] = keyed;
  node[STREAM_IDS] = after.ids;
  node[STREAM] = [ref, [], []]; // applied
}

/**
 * The rows after the batch of `node`, as Phoenix's client leaves a stream container (its
 * dom_patch.js): reset, then deletes, then each insert in order. An id present after the
 * deletes is updated in place (and stays gone if a limit of this batch pruned it); a new one
 * goes in at `at` (-1 the end, n before the row now at n) and then `limit` prunes (n > 0 keeps
 * the first n rows, -n the last n); an `updateOnly` insert of an id not shown (nor removed by
 * this batch) adds nothing.
 */
function applyStream(ids: string[], rows: Obj[], node: Obj): StreamRows {
  const batch = node[STREAM] as unknown[];
  const [, inserts, deletes] = batch;
  if (!Array.isArray(inserts) || !Array.isArray(deletes)) {
    throw new TypeError(`"${STREAM}" must be [ref, inserts, deleteIds, reset?], got ${repr(batch)}`);
  }
  const entries = streamRows(node);
  if (entries.length !== inserts.length) {
    throw new Error(
      `stream ${repr(batch[0])} has ${inserts.length} inserts for ${entries.length} entries; ` +
        "insert i must go with entry i",
    );
  }
  const reset = batch.length > 3 && Boolean(batch[3]);
  const deleted = new Set(deletes as string[]);
  const removed = new Set(reset ? ids : ids.filter((id) => deleted.has(id)));
  let pairs: [string, Obj][] = [];
  if (!reset) ids.forEach((id, i) => removed.has(id) || pairs.push([id, rows[i] as Obj]));
  const present = new Set(pairs.map(([id]) => id));
  inserts.forEach((insert, i) => {
    if (!Array.isArray(insert) || typeof insert[0] !== "string" || typeof insert[1] !== "number") {
      throw new TypeError(`a stream insert is [domId, at, limit, updateOnly], got ${repr(insert)}`);
    }
    const [id, at, limit, updateOnly] = insert as [string, number, number | null, boolean?];
    // A row keeps the statics it came with: later batches may use another template.
    const entry: Obj = { ...(entries[i] as Obj), [STATIC]: node[STATIC] };
    if (present.has(id)) {
      const index = pairs.findIndex(([other]) => other === id);
      if (index >= 0) pairs[index] = [id, entry];
      return;
    }
    if ((updateOnly && !removed.has(id)) || at < -1) return; // Phoenix's client adds nothing
    pairs.splice(at === -1 ? pairs.length : Math.min(at, pairs.length), 0, [id, entry]);
    if (typeof limit === "number") {
      if (limit < 0 && pairs.length > -limit) pairs = pairs.slice(pairs.length + limit);
      else if (limit >= 0 && pairs.length > limit) pairs = pairs.slice(0, limit);
    }
  });
  return { ids: pairs.map(([id]) => id), rows: pairs.map(([, row]) => row) };
}

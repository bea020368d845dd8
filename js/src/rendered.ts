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
 * same HTML apart from the data-phx-* markers, which livewidget does not need.
 */
import {
  COMPONENTS,
  KEYED,
  KEYED_COUNT,
  KEYED_MOVED,
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

export class RenderedTree {
  private root: Obj = {};
  private components: { [cid: string]: Obj } = {};

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
    this.write(this.root, out, new Set());
    return out.join("");
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

  private write(node: Obj, out: string[], activeCids: Set<number>): void {
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
        this.writeDynamics(entry, Array.isArray(own) ? own : statics, out, activeCids);
      }
    } else {
      this.writeDynamics(node, statics, out, activeCids);
    }
  }

  private writeDynamics(dynamics: Obj, statics: unknown[], out: string[], active: Set<number>): void {
    const last = statics.length - 1;
    for (let i = 0; i < last; i++) {
      out.push(statics[i] as string);
      const dyn = dynamics[i];
      if (typeof dyn === "string") {
        out.push(dyn);
      } else if (isObject(dyn)) {
        this.write(dyn, out, active);
      } else if (typeof dyn === "number") {
        this.writeComponent(dyn, out, active);
      } else {
        throw new Error(
          `dynamic ${i} must be a string, a rendered object or a component id, got ${repr(dyn)}`,
        );
      }
    }
    out.push(statics[last] as string);
  }

  private writeComponent(cid: number, out: string[], active: Set<number>): void {
    const component = this.components[cid];
    if (!component) throw new Error(`no component for cid ${cid}`);
    if (active.has(cid)) throw new Error(`component ${cid} renders itself`);
    active.add(cid);
    this.write(component, out, active);
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
      doMutableMerge(entries[index] as Obj, change);
    } else if (typeof entry === "number") {
      entries[index] = movedEntry(old, entry, index);
    } else if (isObject(entry)) {
      if (!isObject(entries[index])) entries[index] = {};
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

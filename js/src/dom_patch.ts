/**
 * Patch a container's children to new HTML with morphdom (the only file that imports it).
 *
 * morphdom walks the old and new trees together and changes only what differs,
 * so an unchanged node stays the same DOM node (listeners, focus, scroll and
 * selection survive). Rules on top, as in Phoenix LiveView:
 *
 * - The focused text-like input, textarea or select is the user's: its attributes
 *   follow the server but its value does not (morphdom would otherwise reset the
 *   text being typed). If it has no id, it is matched by tag and name so that a
 *   change among its siblings moves it rather than replacing it; afterwards its
 *   focus and selection are restored if the move lost them.
 * - `phx-update="ignore"`: the element keeps its children and attributes; only
 *   its id and data-* attributes follow the server.
 * - `phx-update="stream"` (a container with an id, whose children have ids): before the morph
 *   the container's children are lined up with the new ones by id: rows gone from the new
 *   HTML are removed, new rows are inserted where they go, kept rows stay where they are.
 *   morphdom alone matches keyed children in order, so a row prepended to a thousand would
 *   move all thousand (and blur a focused input among them); lined up, a prepend is one
 *   insertion and the morph then only compares. Which rows the HTML holds is the business of
 *   rendered.ts (it applies Phoenix's stream inserts, deletes, limits and resets to the rows
 *   it keeps, since the kernel keeps none).
 *
 * - Placeholders (rendered.ts `toPatch()`): given a `ViewHTML` rather than a string, the HTML
 *   holds `<tr data-lw-skip="17"></tr>` for each keyed entry unchanged since the last patch,
 *   and `data-lw-entry="17"` on the root of each entry written in full. The root's live
 *   element is recorded per container (the attribute is stripped before it reaches the page),
 *   and a placeholder keeps its recorded element as it is: morphdom is given the same key for
 *   both, so it pairs them wherever the element now sits, and onBeforeElUpdated returns false.
 *   The page then costs the parse of the changed entries plus one empty element per unchanged
 *   one, not the whole HTML.
 * - When only entries changed (`html` null), each changed entry is parsed alone (in a
 *   <template>, which parses a <tr> as a table would) and morphed onto its live element;
 *   nothing else is looked at. Unless a phx-hook element is around one (that hook must hear of
 *   the change): then the page with placeholders, `page()`.
 * - A placeholder is never shown. One whose element is not recorded, gone or elsewhere, that
 *   morphdom pairs with another element or would add, stops the patch (StalePlaceholder),
 *   which then starts again from `full()`, the page without placeholders (a new view, a view
 *   whose last patch failed, a page changed behind livewidget's back). A string patch (the
 *   saved HTML, a new view's first render) forgets what was recorded. What a skipped element
 *   holds is not looked at: a change made to it behind livewidget's back (not by a JS command,
 *   whose effects are sticky anyway) stays until its entry changes, as with Phoenix's skip.
 *
 * `callbacks.beforeElUpdated(fromEl, toEl, ignored, same)` runs for every element that stays (not
 * for the container, nor for added or removed ones) before anything of it changes; it may edit
 * `toEl`, and whatever it sets there is what the element becomes. widget.ts uses it to
 * re-apply the "sticky" effects of JS commands and to tell hooks what is about to change
 * (`same()` compares through placeholders). It does not run for an element a placeholder keeps
 * (nothing of it changes).
 */
import morphdom from "morphdom";
import {
  ENTRY_ATTR,
  PHX_HOOK,
  PHX_UPDATE,
  PHX_UPDATE_IGNORE,
  PHX_UPDATE_STREAM,
  SKIP_ATTR,
} from "./constants";
import type { ViewHTML } from "./rendered";

/** Input types whose value is typed by the user (as Phoenix's FOCUSABLE_INPUTS). */
const TYPED_INPUTS = new Set([
  "text", "textarea", "number", "email", "password", "search", "tel", "url",
  "date", "time", "datetime-local", "color", "range",
]);

type Editable = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

function isEditable(el: Element | null): el is Editable {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  return tag === "INPUT" && TYPED_INPUTS.has((el as HTMLInputElement).type);
}

/** The focused editable element inside `container`, if any. */
function focusedIn(container: HTMLElement): Editable | null {
  const active = container.ownerDocument.activeElement;
  return isEditable(active) && container.contains(active) ? active : null;
}

/** A selector-free identity for the focused element in the new HTML: same tag, same name. */
function sameControl(a: Element, b: Element): boolean {
  const name = a.getAttribute("name");
  return a.tagName === b.tagName && name !== null && name === b.getAttribute("name");
}

/** The id of `el`'s nearest ancestor with one, below `root` (null: any); null if none. */
function anchorId(el: Element, root: Element | null): string | null {
  for (let node = el.parentElement; node && node !== root; node = node.parentElement) {
    if (node.id) return node.id;
  }
  return null;
}

const FOCUS_KEY = "\u0000lw-focused";

export interface PatchCallbacks {
  /**
   * `ignored`: fromEl has phx-update="ignore" (only its id and data-* will follow toEl).
   * `same()`: whether fromEl and its subtree already are what toEl describes (toEl may hold
   * placeholders, which stand for elements that stay as they are: compare with this, not with
   * isEqualNode).
   */
  beforeElUpdated?(fromEl: Element, toEl: Element, ignored: boolean, same: () => boolean): void;
}

/**
 * Per container: the live root element of each entry id the last patch wrote or kept; null for
 * an entry written inside a `phx-update="ignore"` element (never applied, so never shown: its
 * placeholder is safe only where it is ignored again).
 */
const recorded = new WeakMap<HTMLElement, Map<number, Element | null>>();

/** A placeholder (or a changed entry) that cannot be resolved to the live element it stands for. */
export class StalePlaceholder extends Error {}

/**
 * Patch `container`'s children to `html`: a string (the whole page), or a ViewHTML from
 * `RenderedTree.toPatch()` (see the module docstring).
 */
export function patch(container: HTMLElement, html: string | ViewHTML, callbacks: PatchCallbacks = {}): void {
  if (typeof html === "string") {
    recorded.delete(container);
    morph(container, [[container, parsePage(container, html), true]], callbacks, null);
    return;
  }
  try {
    try {
      const known = recorded.get(container);
      if (!known) throw new StalePlaceholder("nothing recorded for this view yet");
      morph(container, jobs(container, html, known), callbacks, known);
    } catch (err) {
      if (!(err instanceof StalePlaceholder)) throw err;
      morph(container, [[container, parsePage(container, html.full()), true]], callbacks, new Map());
    }
  } catch (err) {
    recorded.delete(container); // the page is not what was recorded: next time, all of it
    throw err;
  }
}

/** One morph: the live element, what it becomes, and whether only its children change. */
type Job = [from: HTMLElement | Element, to: Element, childrenOnly: boolean];

function parsePage(container: HTMLElement, html: string): HTMLElement {
  const target = container.cloneNode(false) as HTMLElement;
  target.innerHTML = html;
  return target;
}

/** The morphs a ViewHTML asks for: the page, or each changed entry's live element alone. */
function jobs(container: HTMLElement, view: ViewHTML, known: Map<number, Element | null>): Job[] {
  if (view.html !== null) return [[container, parsePage(container, view.html), true]];
  const lives = view.entries.map(([id]) => {
    const live = known.get(id);
    if (!live || !live.isConnected || !container.contains(live)) {
      throw new StalePlaceholder(`entry ${id} is not on the page as it was recorded`);
    }
    return live;
  });
  // A hook around a changed entry is told of the change (beforeUpdate/updated): morph the page.
  if (lives.some((live) => hookAround(live, container))) {
    return [[container, parsePage(container, view.page()), true]];
  }
  const template = container.ownerDocument.createElement("template");
  return view.entries.map(([id, html], i) => {
    const live = lives[i] as Element;
    // A <template> parses a <tr> or an <li> as its own context would.
    template.innerHTML = html;
    const to = template.content.firstElementChild;
    if (!to || template.content.childElementCount !== 1 || to.tagName !== live.tagName) {
      throw new StalePlaceholder(`entry ${id} did not parse as one <${live.tagName.toLowerCase()}>`);
    }
    return [live, to, false];
  });
}

function hookAround(el: Element, container: HTMLElement): boolean {
  for (let node = el.parentElement; node && node !== container; node = node.parentElement) {
    if (node.hasAttribute(PHX_HOOK)) return true;
  }
  return false;
}

/**
 * Whether `live` already is what `to` describes, as isEqualNode, where a placeholder equals the
 * element it keeps and the entry marker does not count.
 */
function sameTree(live: Node, to: Node, entries: Entries): boolean {
  if (to.nodeType === Node.ELEMENT_NODE) {
    const kept = entries.kept.get(to as Element);
    if (kept) return kept === live;
  }
  if (live.nodeType !== to.nodeType || live.nodeName !== to.nodeName) return false;
  if (to.nodeType === Node.ELEMENT_NODE) {
    const [a, b] = [live as Element, to as Element];
    const attrs = Array.from(b.attributes).filter(({ name }) => name !== ENTRY_ATTR);
    if (a.attributes.length !== attrs.length) return false;
    if (!attrs.every(({ name, value }) => a.getAttribute(name) === value)) return false;
  } else if (live.nodeValue !== to.nodeValue) {
    return false;
  }
  const [xs, ys] = [live.childNodes, to.childNodes];
  if (xs.length !== ys.length) return false;
  for (let i = 0; i < xs.length; i++) if (!sameTree(xs[i] as Node, ys[i] as Node, entries)) return false;
  return true;
}

/**
 * The entries of a patch: placeholders resolved to the live elements they keep, the morphdom
 * keys of both, and the entries recorded for the next patch.
 */
class Entries {
  readonly keys = new Map<Node, string>();
  /** placeholder -> the live element it keeps */
  readonly kept = new Map<Element, Element>();
  readonly keptLive = new Set<Element>();
  readonly next: Map<number, Element | null>;

  constructor(
    private readonly container: HTMLElement,
    targets: Element[],
    known: Map<number, Element | null>,
    whole: boolean,
  ) {
    // The whole page: only what it holds is recorded next. Some entries: the others stay.
    this.next = whole ? new Map() : known;
    for (const target of targets) {
      for (const holder of Array.from(target.querySelectorAll(`[${SKIP_ATTR}]`))) {
        const id = Number(holder.getAttribute(SKIP_ATTR));
        const live = known.get(id);
        if (live === null && holder.parentElement?.closest(`[${PHX_UPDATE}="${PHX_UPDATE_IGNORE}"]`)) {
          this.next.set(id, null); // inside an ignored element, as when it was written
          continue;
        }
        // A live element that left the container, or the wrong tag, is not found under its key
        // by morphdom, which would then add the placeholder: onBeforeNodeAdded stops that.
        if (!live) throw new StalePlaceholder(`entry ${id} was never recorded in this view`);
        if (this.keptLive.has(live)) throw new StalePlaceholder(`entry ${id} has two placeholders`);
        const key = live.id || `\u0000lw-entry-${id}`;
        this.keys.set(holder, key);
        this.keys.set(live, key);
        this.kept.set(holder, live);
        this.keptLive.add(live);
        this.next.set(id, live);
      }
    }
  }

  /** Whether `el` is inside (or is) an element a placeholder keeps. */
  keeps(el: Element): boolean {
    for (let node: Element | null = el; node && node !== this.container; node = node.parentElement) {
      if (this.keptLive.has(node)) return true;
    }
    return false;
  }

  /** An entry written in full, now `live` on the page: record it, strip the marker. */
  record(toEl: Element, live: Element): void {
    const id = toEl.getAttribute(ENTRY_ATTR);
    if (id === null) return;
    toEl.removeAttribute(ENTRY_ATTR);
    if (live !== toEl) live.removeAttribute(ENTRY_ATTR);
    this.next.set(Number(id), live);
  }

  /** The entries under an ignored element's new content: written, never shown. */
  recordIgnored(toEl: Element): void {
    for (const el of Array.from(toEl.querySelectorAll(`[${ENTRY_ATTR}]`))) {
      this.next.set(Number(el.getAttribute(ENTRY_ATTR)), null);
    }
  }
}

function isPlaceholder(node: Node): boolean {
  return node.nodeType === Node.ELEMENT_NODE && (node as Element).hasAttribute(SKIP_ATTR);
}

function morph(
  container: HTMLElement,
  work: Job[],
  callbacks: PatchCallbacks,
  known: Map<number, Element | null> | null,
): void {
  const focused = focusedIn(container);
  const selection =
    focused && "selectionStart" in focused && !(focused instanceof HTMLSelectElement)
      ? safeSelection(focused)
      : null;
  const whole = work.length === 1 && work[0]?.[2] === true;
  const entries = known ? new Entries(container, work.map(([, to]) => to), known, whole) : null;

  // Give the focused element (when it has no id) and its counterpart in the new
  // tree the same morphdom key, so morphdom keeps the node.
  // Among controls of the same name (one per stream row, say), the twin is the one under the
  // element with the same id as the focused one's nearest ancestor with an id.
  let twin: Element | null = null;
  if (focused && !focused.id && !entries?.keeps(focused)) {
    // Only where the focused element is: a changed row elsewhere keeps its own controls.
    const alike = work
      .filter(([from]) => from.contains(focused))
      .flatMap(([, to, childrenOnly]) =>
        (childrenOnly ? [] : [to])
          .concat(Array.from(to.querySelectorAll(focused.tagName)))
          .filter((el) => !el.id && sameControl(focused, el))
          .map((el) => [el, anchorId(el, childrenOnly ? to : null)] as const),
      );
    const home = anchorId(focused, container);
    twin = (alike.find(([, anchor]) => anchor === home) ?? alike[0])?.[0] ?? null;
  }

  const options = {
    getNodeKey(node: Node) {
      if (node === focused && twin) return FOCUS_KEY;
      if (node === twin) return FOCUS_KEY;
      const key = entries?.keys.get(node);
      if (key !== undefined) return key;
      return node instanceof Element ? node.id || undefined : undefined;
    },
    onBeforeNodeAdded(node: Node) {
      if (entries && isPlaceholder(node)) throw new StalePlaceholder("a placeholder would be added");
      return node;
    },
    onNodeAdded(node: Node) {
      if (entries && node.nodeType === Node.ELEMENT_NODE) {
        if (isPlaceholder(node)) throw new StalePlaceholder("a placeholder was added");
        entries.record(node as Element, node as Element);
      }
      return node;
    },
    onBeforeElUpdated(fromEl: Element, toEl: Element) {
      if (entries) {
        const live = entries.kept.get(toEl);
        if (live || entries.keptLive.has(fromEl)) {
          if (live !== fromEl) throw new StalePlaceholder("a placeholder met another element");
          return false; // unchanged: the element stays as it is
        }
        if (isPlaceholder(toEl)) throw new StalePlaceholder("an unresolved placeholder");
        entries.record(toEl, fromEl);
      }
      const ignored = fromEl.getAttribute(PHX_UPDATE) === PHX_UPDATE_IGNORE;
      callbacks.beforeElUpdated?.(fromEl, toEl, ignored, () =>
        entries ? sameTree(fromEl, toEl, entries) : fromEl.isEqualNode(toEl),
      );
      if (ignored) {
        entries?.recordIgnored(toEl);
        mergeIgnored(fromEl, toEl);
        return false;
      }
      if (fromEl === focused && !(fromEl instanceof HTMLSelectElement && optionsChanged(fromEl, toEl))) {
        mergeAttributes(fromEl, toEl, (name) => name !== "value");
        return false;
      }
      return true;
    },
  };

  for (const [from, to, childrenOnly] of work) {
    lineUpStreams(from, to, entries);
    morphdom(from, to, { ...options, childrenOnly });
  }

  if (entries) {
    for (const [from] of work) {
      if (from.querySelector(`[${SKIP_ATTR}]`)) {
        throw new StalePlaceholder("a placeholder reached the page"); // never expected: a guard
      }
    }
    recorded.set(container, entries.next);
  }

  if (focused && focused.isConnected && focused.ownerDocument.activeElement !== focused) {
    focused.focus();
    if (selection) restoreSelection(focused as HTMLInputElement, selection);
  }
}

/** Line up the children of each `phx-update="stream"` container with its new children. */
function lineUpStreams(container: Element, target: Element, entries: Entries | null): void {
  const selector = `[${PHX_UPDATE}="${PHX_UPDATE_STREAM}"][id]`;
  const olds = container.querySelectorAll(selector);
  if (olds.length === 0) return;
  const news = new Map<string, Element>();
  for (const el of Array.from(target.querySelectorAll(selector))) news.set(el.id, el);
  for (const from of Array.from(olds)) {
    const to = news.get(from.id);
    if (to) lineUp(from, to, entries);
  }
}

/**
 * Make `from`'s child nodes match `to`'s one for one, reusing `from`'s children by id: the
 * morph that follows then walks both in step, and moves nothing.
 */
function lineUp(from: Element, to: Element, entries: Entries | null): void {
  // A placeholder row stands for its live row, whose id it takes here.
  const idOf = (el: Element): string => entries?.kept.get(el)?.id ?? el.id;
  const wanted = new Set<string>();
  for (const child of Array.from(to.children)) {
    const id = idOf(child);
    if (id) wanted.add(id);
  }
  const kept = new Map<string, Element>();
  for (const child of Array.from(from.children)) {
    if (child.id && wanted.has(child.id)) kept.set(child.id, child);
    else child.remove(); // a deleted or pruned row (or a child without an id)
  }
  let cursor: ChildNode | null = from.firstChild;
  for (const node of Array.from(to.childNodes)) {
    const el = node.nodeType === Node.ELEMENT_NODE ? kept.get(idOf(node as Element)) : undefined;
    if (el) {
      while (cursor && cursor !== el && cursor.nodeType !== Node.ELEMENT_NODE) {
        const next: ChildNode | null = cursor.nextSibling;
        cursor.remove(); // text between rows: the new text is inserted as it comes
        cursor = next;
      }
      if (cursor === el) cursor = el.nextSibling;
      else from.insertBefore(el, cursor); // out of order: the one move
    } else if (
      node.nodeType !== Node.ELEMENT_NODE &&
      cursor !== null &&
      cursor.nodeType === node.nodeType
    ) {
      cursor = cursor.nextSibling; // text for text: the morph sets its value
    } else {
      if (
        entries &&
        node.nodeType === Node.ELEMENT_NODE &&
        (isPlaceholder(node) || (node as Element).querySelector(`[${SKIP_ATTR}]`))
      ) {
        throw new StalePlaceholder("a placeholder row is not in its stream");
      }
      from.insertBefore(node.cloneNode(true), cursor); // a new row (or text)
    }
  }
  while (cursor) {
    const next: ChildNode | null = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

function optionsChanged(from: HTMLSelectElement, to: Element): boolean {
  return from.innerHTML !== to.innerHTML;
}

/** Copy the attributes of `source` accepted by `follows` onto `target`, removing those gone. */
function mergeAttributes(target: Element, source: Element, follows: (name: string) => boolean): void {
  for (const { name, value } of Array.from(source.attributes)) {
    if (follows(name) && target.getAttribute(name) !== value) target.setAttribute(name, value);
  }
  for (const { name } of Array.from(target.attributes)) {
    if (follows(name) && !source.hasAttribute(name)) target.removeAttribute(name);
  }
}

function mergeIgnored(target: Element, source: Element): void {
  mergeAttributes(target, source, (name) => name === "id" || name.startsWith("data-"));
}

type Selection = { start: number | null; end: number | null };

function safeSelection(el: HTMLInputElement | HTMLTextAreaElement): Selection | null {
  try {
    return { start: el.selectionStart, end: el.selectionEnd };
  } catch {
    return null; // types like "number" throw on selectionStart
  }
}

function restoreSelection(el: HTMLInputElement, { start, end }: Selection): void {
  if (start === null || end === null) return;
  try {
    el.setSelectionRange(start, end);
  } catch {
    // not a type with a selection
  }
}

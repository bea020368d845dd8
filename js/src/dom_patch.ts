/**
 * Patch a container's children to new HTML with morphdom (the only file that imports it).
 *
 * morphdom walks the old and new trees together and changes only what differs,
 * so an unchanged node stays the same DOM node (listeners, focus, scroll and
 * selection survive). Two rules on top, as in Phoenix LiveView:
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
 * `callbacks.beforeElUpdated(fromEl, toEl, ignored)` runs for every element that stays (not
 * for the container, nor for added or removed ones) before anything of it changes; it may edit
 * `toEl`, and whatever it sets there is what the element becomes. widget.ts uses it to
 * re-apply the "sticky" effects of JS commands and to tell hooks what is about to change.
 */
import morphdom from "morphdom";
import { PHX_UPDATE, PHX_UPDATE_IGNORE, PHX_UPDATE_STREAM } from "./constants";

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

/** The id of `el`'s nearest ancestor with one, below `root`; null if none. */
function anchorId(el: Element, root: Element): string | null {
  for (let node = el.parentElement; node && node !== root; node = node.parentElement) {
    if (node.id) return node.id;
  }
  return null;
}

const FOCUS_KEY = "\u0000lw-focused";

export interface PatchCallbacks {
  /** `ignored`: fromEl has phx-update="ignore" (only its id and data-* will follow toEl). */
  beforeElUpdated?(fromEl: Element, toEl: Element, ignored: boolean): void;
}

export function patch(container: HTMLElement, html: string, callbacks: PatchCallbacks = {}): void {
  const focused = focusedIn(container);
  const selection =
    focused && "selectionStart" in focused && !(focused instanceof HTMLSelectElement)
      ? safeSelection(focused)
      : null;

  const target = container.cloneNode(false) as HTMLElement;
  target.innerHTML = html;

  // Give the focused element (when it has no id) and its counterpart in the new
  // tree the same morphdom key, so morphdom keeps the node.
  // Among controls of the same name (one per stream row, say), the twin is the one under the
  // element with the same id as the focused one's nearest ancestor with an id.
  let twin: Element | null = null;
  if (focused && !focused.id) {
    const alike = Array.from(target.querySelectorAll(focused.tagName)).filter(
      (el) => !el.id && sameControl(focused, el),
    );
    const home = anchorId(focused, container);
    twin = alike.find((el) => anchorId(el, target) === home) ?? alike[0] ?? null;
  }

  lineUpStreams(container, target);

  morphdom(container, target, {
    childrenOnly: true,
    getNodeKey(node) {
      if (node === focused && twin) return FOCUS_KEY;
      if (node === twin) return FOCUS_KEY;
      return node instanceof Element ? node.id || undefined : undefined;
    },
    onBeforeElUpdated(fromEl, toEl) {
      const ignored = fromEl.getAttribute(PHX_UPDATE) === PHX_UPDATE_IGNORE;
      callbacks.beforeElUpdated?.(fromEl, toEl, ignored);
      if (ignored) {
        mergeIgnored(fromEl, toEl);
        return false;
      }
      if (fromEl === focused && !(fromEl instanceof HTMLSelectElement && optionsChanged(fromEl, toEl))) {
        mergeAttributes(fromEl, toEl, (name) => name !== "value");
        return false;
      }
      return true;
    },
  });

  if (focused && focused.isConnected && focused.ownerDocument.activeElement !== focused) {
    focused.focus();
    if (selection) restoreSelection(focused as HTMLInputElement, selection);
  }
}

/** Line up the children of each `phx-update="stream"` container with its new children. */
function lineUpStreams(container: HTMLElement, target: HTMLElement): void {
  const selector = `[${PHX_UPDATE}="${PHX_UPDATE_STREAM}"][id]`;
  const olds = container.querySelectorAll(selector);
  if (olds.length === 0) return;
  const news = new Map<string, Element>();
  for (const el of Array.from(target.querySelectorAll(selector))) news.set(el.id, el);
  for (const from of Array.from(olds)) {
    const to = news.get(from.id);
    if (to) lineUp(from, to);
  }
}

/**
 * Make `from`'s child nodes match `to`'s one for one, reusing `from`'s children by id: the
 * morph that follows then walks both in step, and moves nothing.
 */
function lineUp(from: Element, to: Element): void {
  const wanted = new Set<string>();
  for (const child of Array.from(to.children)) if (child.id) wanted.add(child.id);
  const kept = new Map<string, Element>();
  for (const child of Array.from(from.children)) {
    if (child.id && wanted.has(child.id)) kept.set(child.id, child);
    else child.remove(); // a deleted or pruned row (or a child without an id)
  }
  let cursor: ChildNode | null = from.firstChild;
  for (const node of Array.from(to.childNodes)) {
    const el = node.nodeType === Node.ELEMENT_NODE ? kept.get((node as Element).id) : undefined;
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
      from.insertBefore(node.cloneNode(true), cursor); // a new row (or text)
    }
  }
  while (cursor) {
    const next: ChildNode | null = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

function optionsChanged(from: HTMLSelectElement, to: HTMLElement): boolean {
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

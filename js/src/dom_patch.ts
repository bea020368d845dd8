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
 *
 * `callbacks.beforeElUpdated(fromEl, toEl, ignored)` runs for every element that stays (not
 * for the container, nor for added or removed ones) before anything of it changes; it may edit
 * `toEl`, and whatever it sets there is what the element becomes. widget.ts uses it to
 * re-apply the "sticky" effects of JS commands and to tell hooks what is about to change.
 */
import morphdom from "morphdom";
import { PHX_UPDATE } from "./constants";

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
  let twin: Element | null = null;
  if (focused && !focused.id) {
    twin = Array.from(target.querySelectorAll(focused.tagName)).find(
      (el) => !el.id && sameControl(focused, el),
    ) ?? null;
  }

  morphdom(container, target, {
    childrenOnly: true,
    getNodeKey(node) {
      if (node === focused && twin) return FOCUS_KEY;
      if (node === twin) return FOCUS_KEY;
      return node instanceof Element ? node.id || undefined : undefined;
    },
    onBeforeElUpdated(fromEl, toEl) {
      const ignored = fromEl.getAttribute(PHX_UPDATE) === "ignore";
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

/**
 * What an element contributes to an event message: its phx-value-* values, its value, its
 * phx-target, its form. Shared by bindings.ts, hooks.ts and the JS "push" command; no listeners
 * and no state here. The shapes are Phoenix LiveView's (view.ts: extractMeta, targetComponentID).
 */
import { PARAM_VALUE, PHX_TARGET, PHX_VALUE_PREFIX } from "./constants";

export type FormControl = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

const CHECKABLE = new Set(["checkbox", "radio"]);

/** The phx-value-* attributes of `el`, prefix removed. */
export function phxValues(el: Element): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { name, value } of Array.from(el.attributes)) {
    if (name.startsWith(PHX_VALUE_PREFIX)) values[name.slice(PHX_VALUE_PREFIX.length)] = value;
  }
  return values;
}

/**
 * phx-value-* plus `value` when the element has one (an input, select, textarea, button...;
 * an unchecked checkbox or radio has none), as Phoenix sends for phx-blur and phx-focus.
 */
export function valuesWithValue(el: Element): Record<string, string> {
  const values = phxValues(el);
  const value: unknown = (el as { value?: unknown }).value;
  if (typeof value === "string" && !(el instanceof HTMLFormElement)) {
    const unchecked = el instanceof HTMLInputElement && CHECKABLE.has(el.type) && !el.checked;
    if (!unchecked) values[PARAM_VALUE] = value;
  }
  return values;
}

/** A component id: a non-negative integer, or a string of digits. */
export function asCid(target: unknown): number | null {
  if (typeof target === "number") return Number.isInteger(target) && target >= 0 ? target : null;
  if (typeof target === "string" && /^\s*\d+\s*$/.test(target)) return Number(target);
  return null;
}

/** phx-target as a component id; a selector or nothing means the view itself (null). */
export function cidOf(el: Element): number | null {
  return asCid(el.getAttribute(PHX_TARGET));
}

export function isFormControl(el: EventTarget | null): el is FormControl {
  return (
    el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement
  );
}

/** The form as the browser would submit it; files are sent by name only. */
export function formParams(form: HTMLFormElement, submitter: HTMLElement | null = null): URLSearchParams {
  let data: FormData;
  try {
    data = new FormData(form, submitter);
  } catch {
    data = new FormData(form); // the submitter is not a submit button of this form
  }
  const params = new URLSearchParams();
  for (const [name, value] of data) params.append(name, typeof value === "string" ? value : value.name);
  return params;
}

/** A control outside any form (with its own phx-change) sends just itself. */
export function controlParams(control: FormControl): URLSearchParams {
  const params = new URLSearchParams();
  if (control.name) params.append(control.name, control.value);
  return params;
}

/**
 * A JS "push" command's `value` added to urlencoded form data (Phoenix sends it beside the form
 * as "meta" and the server merges it into the params; here the fields carry it). Strings go as
 * they are, other values as JSON.
 */
export function appendValues(params: URLSearchParams, value: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(value)) {
    params.append(name, typeof v === "string" ? v : JSON.stringify(v));
  }
}

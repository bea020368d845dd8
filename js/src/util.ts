/**
 * The small helpers every front-end file shares, written once (as Phoenix LiveView keeps its
 * client's in one `utils` module). Pure: no DOM access beyond reading an element it is given,
 * no state, no imports.
 *
 * Error messages in livewidget say what was expected and what came; these helpers write the
 * "what came" part, bounded, so that a 10,000-row payload in a message stays one line:
 *
 *     throw new TypeError(`expected a rendered object, got ${repr(payload)}`);
 *     report(`livewidget: hook "Chart" mounted() threw: ${errorText(err, true)}`);
 *     report(`livewidget: phx-hook needs an id, got ${openTag(el)}`);
 */

/** A JSON object as it comes off the wire: string keys, values unknown until checked. */
export type Obj = { [key: string]: unknown };

/** How long a description gets before it is cut (with "..."), unless a caller asks otherwise. */
export const MAX_REPR = 120;

/** A plain object (not null, not an array): a rendered node, a message, a hook, a JSON map. */
export const isObject = (v: unknown): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `s` cut to at most `max` characters, the cut marked with "...". */
export function excerpt(s: string, max = MAX_REPR): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/**
 * A short, bounded description of a value for an error message: its JSON (so a string shows
 * quoted and an object shows its keys), "a function" for a function, else `String(v)`.
 */
export function repr(v: unknown, max = MAX_REPR): string {
  if (typeof v === "function") return "a function";
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    json = undefined; // a cycle or a BigInt: String() still says something
  }
  return excerpt(json ?? String(v), max);
}

/**
 * The text of a caught error: its message (`String(err)` for a thrown non-Error). `named`
 * prefixes the error's name ("TypeError: ..."), which says more about an error thrown by code
 * the user wrote (a hook) than about one of livewidget's own, whose messages say it all.
 */
export function errorText(err: unknown, named = false): string {
  if (!(err instanceof Error)) return String(err);
  return named ? `${err.name}: ${err.message}` : err.message;
}

/** An element's opening tag, bounded: which element a message is about, without its content. */
export function openTag(el: Element, max = MAX_REPR): string {
  const html = el.outerHTML;
  return excerpt(html.slice(0, html.indexOf(">") + 1), max);
}

// The DOM of the Node helper (official_client.mjs): a happy-dom window whose classes and
// `document` become globals, as in a browser. Imported first: morphdom reads `document` when
// it loads, and phoenix_live_view's DOM code uses the globals by name.
import { Window } from "happy-dom";

const window = new Window({ url: "http://localhost/" });
for (const name of Object.getOwnPropertyNames(window)) {
  if (!(name in globalThis)) {
    try {
      globalThis[name] = window[name];
    } catch {
      // a read-only property of Node's own global: Node's wins
    }
  }
}
// Node has event classes of its own, which a DOM node refuses to dispatch: the page's win.
for (const name of ["Event", "CustomEvent", "FocusEvent", "KeyboardEvent", "MouseEvent"]) {
  globalThis[name] = window[name];
}
globalThis.document = window.document;
// The official client's deepClone asks `"structuredClone" in window`: Node's global has it.
globalThis.window = globalThis;

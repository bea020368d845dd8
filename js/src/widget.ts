/**
 * The anywidget front end of a LiveWidget.
 *
 * One LiveModel per widget model (made in initialize) holds the cached rendered
 * tree, the sequence number of the last payload applied and the mounted views;
 * each render() mounts one view:
 *
 *     <div class="livewidget">
 *       <div class="lw-errors"></div>     error banners
 *       <div class="lw-root">...</div>    the LiveView's HTML, patched in place
 *     </div>
 *
 * Kernel -> front (custom messages):
 *   {"type": "full", "seq": n, "rendered": {...}}    replace the tree, patch every view
 *   {"type": "diff", "seq": n, "rendered": {...}}    n == seq + 1: merge and patch; else a
 *                                                    gap: ask for a full render, once
 *   {"type": "error", "message": s, "traceback": s}  a banner in every view
 *   {"type": "push_event", "event": s, "payload": o} CustomEvent "phx:<event>" on each root
 * Front -> kernel: {"type": "join"} (no tree yet, or a gap) and the event
 * messages of bindings.ts.
 *
 * Until the first full render the views show the synced `_html` trait, so a
 * saved notebook shows the last state without a kernel; after every patch the
 * new HTML goes back into `_html` with model.set and no save_changes, which
 * keeps the saved widget state current and sends nothing to the kernel.
 */
import type { AnyModel, AnyWidget, InitializeProps, RenderProps } from "@anywidget/types";
import { bindEvents } from "./bindings";
import {
  EVENT,
  HTML_TRAIT,
  KEY_ATTR,
  MESSAGE,
  MSG_DIFF,
  MSG_ERROR,
  MSG_FULL,
  MSG_JOIN,
  MSG_PUSH_EVENT,
  type OutgoingMessage,
  PAYLOAD,
  RENDERED,
  SEQ,
  TRACEBACK,
  TYPE,
} from "./constants";
import { patch } from "./dom_patch";
import { RenderedTree } from "./rendered";

/** At most this many error banners stay in a view; older ones go. */
const MAX_BANNERS = 5;

interface View {
  root: HTMLElement;
  errors: HTMLElement;
}

type Content = { [key: string]: unknown };

class LiveModel {
  private tree: RenderedTree | null = null;
  private seq = -1;
  /** True from sending a join until the next full render arrives. */
  private joining = false;
  readonly views = new Set<View>();
  readonly key = `lw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;

  constructor(private readonly model: AnyModel) {
    model.on("msg:custom", this.onMessage);
    model.on(`change:${HTML_TRAIT}`, this.onSavedHtml);
  }

  dispose(): void {
    this.model.off("msg:custom", this.onMessage);
    this.model.off(`change:${HTML_TRAIT}`, this.onSavedHtml);
  }

  mount(el: HTMLElement): () => void {
    const view = createView(el);
    const unbind = bindEvents(view.root, (message) => this.send(message));
    this.views.add(view);
    const html = this.tree ? this.tree.toHTML() : this.savedHtml();
    this.tryPatch(view, html);
    if (!this.tree) this.join();
    return () => {
      unbind();
      this.views.delete(view);
      view.root.parentElement?.remove();
    };
  }

  private readonly onMessage = (content: unknown): void => {
    if (!isContent(content)) {
      return this.showError(`livewidget: expected a message object from the kernel, got ${repr(content)}`);
    }
    switch (content[TYPE]) {
      case MSG_FULL:
        return this.onRender(content, true);
      case MSG_DIFF:
        return this.onRender(content, false);
      case MSG_ERROR:
        return this.showError(String(content[MESSAGE] ?? ""), String(content[TRACEBACK] ?? ""));
      case MSG_PUSH_EVENT:
        return this.onPushEvent(content);
      default:
        console.warn("livewidget: ignoring a message of unknown type", content);
    }
  };

  private onRender(content: Content, full: boolean): void {
    const seq = content[SEQ];
    const rendered = content[RENDERED];
    if (typeof seq !== "number" || typeof rendered !== "object" || rendered === null) {
      return this.showError(
        `livewidget: expected {"${TYPE}": "${content[TYPE]}", "${SEQ}": <number>, "${RENDERED}": <object>}, ` +
          `got ${repr(content)}`,
      );
    }
    const tree = full ? new RenderedTree() : this.tree;
    if (!tree || (!full && seq !== this.seq + 1)) return this.join(); // a gap
    let html: string;
    try {
      tree.merge(rendered);
      html = tree.toHTML();
    } catch (err) {
      // A tree that failed to merge is not to be trusted: drop it. After a bad
      // diff ask for a full render; after a bad full render asking again would loop.
      this.tree = null;
      this.showError(`livewidget could not apply payload ${seq}: ${errorText(err)}`);
      if (!full) this.join();
      return;
    }
    this.tree = tree;
    this.seq = seq;
    if (full) this.joining = false;
    this.render(html);
  }

  private render(html: string): void {
    for (const view of this.views) this.tryPatch(view, html);
    this.model.set(HTML_TRAIT, html); // no save_changes: saved with the notebook, not sent
  }

  private tryPatch(view: View, html: string): void {
    try {
      patch(view.root, html);
    } catch (err) {
      showBanner(view, `livewidget could not patch the page: ${errorText(err)}`, "");
    }
  }

  private onPushEvent(content: Content): void {
    const name = content[EVENT];
    if (typeof name !== "string") {
      return this.showError(`livewidget: push_event needs a string "${EVENT}", got ${repr(content)}`);
    }
    for (const view of this.views) {
      view.root.dispatchEvent(new CustomEvent(`phx:${name}`, { detail: content[PAYLOAD] ?? {} }));
    }
  }

  /** Before the first full render, a change of _html from the kernel shows at once. */
  private readonly onSavedHtml = (): void => {
    if (this.tree) return; // our own model.set after a patch
    for (const view of this.views) this.tryPatch(view, this.savedHtml());
  };

  private savedHtml(): string {
    const html: unknown = this.model.get(HTML_TRAIT);
    return typeof html === "string" ? html : "";
  }

  private join(): void {
    if (this.joining) return;
    this.joining = true;
    this.send({ [TYPE]: MSG_JOIN });
  }

  private send(message: OutgoingMessage): void {
    try {
      this.model.send(message);
    } catch (err) {
      // No kernel (a static export): the content stays as it is.
      console.warn("livewidget: could not reach the kernel", err);
    }
  }

  private showError(message: string, traceback = ""): void {
    for (const view of this.views) showBanner(view, message, traceback);
    if (this.views.size === 0) console.error(message, traceback);
  }
}

function createView(el: HTMLElement): View {
  const doc = el.ownerDocument;
  const outer = doc.createElement("div");
  outer.className = "livewidget";
  const errors = doc.createElement("div");
  errors.className = "lw-errors";
  const root = doc.createElement("div");
  root.className = "lw-root";
  outer.append(errors, root);
  el.append(outer);
  return { root, errors };
}

function showBanner(view: View, message: string, traceback: string): void {
  const doc = view.errors.ownerDocument;
  const banner = doc.createElement("div");
  banner.className = "lw-error";
  banner.setAttribute("role", "alert");
  const text = doc.createElement("span");
  text.className = "lw-error-message";
  text.textContent = message;
  const dismiss = doc.createElement("button");
  dismiss.type = "button";
  dismiss.className = "lw-error-dismiss";
  dismiss.setAttribute("aria-label", "Dismiss");
  dismiss.textContent = "\u00d7";
  dismiss.addEventListener("click", () => banner.remove());
  banner.append(text, dismiss);
  if (traceback) {
    const details = doc.createElement("details");
    const summary = doc.createElement("summary");
    summary.textContent = "Traceback";
    const pre = doc.createElement("pre");
    pre.className = "lw-error-traceback";
    pre.textContent = traceback;
    details.append(summary, pre);
    banner.append(details);
  }
  view.errors.append(banner);
  while (view.errors.children.length > MAX_BANNERS) view.errors.firstElementChild?.remove();
}

function isContent(v: unknown): v is Content {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function repr(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

// anywidget gives initialize() and each render() different proxies of one
// model, so initialize() leaves a key in a front-end-only attribute and
// render() looks the LiveModel up by it.
const live = new Map<string, LiveModel>();

function initialize({ model }: Pick<InitializeProps, "model">): () => void {
  const lm = new LiveModel(model);
  live.set(lm.key, lm);
  model.set(KEY_ATTR, lm.key);
  return () => {
    lm.dispose();
    live.delete(lm.key);
  };
}

function render({ model, el }: Pick<RenderProps, "model" | "el">): () => void {
  const key: unknown = model.get(KEY_ATTR);
  let lm = typeof key === "string" ? live.get(key) : undefined;
  let owned = false;
  if (!lm) {
    // A host that does not call initialize(): this view owns a LiveModel of its own.
    lm = new LiveModel(model);
    owned = true;
  }
  const unmount = lm.mount(el);
  return () => {
    unmount();
    if (owned) lm.dispose();
  };
}

export default { initialize, render } satisfies AnyWidget;

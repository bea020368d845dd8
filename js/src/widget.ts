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
 *   {"type": "settled", "seq": n}                    the view went quiet after payload n; if
 *                                                    this page holds another: join
 *   {"type": "error", "message": s, "traceback": s}  a banner in every view
 *   {"type": "push_event", "event": s, "payload": o} CustomEvent "phx:<event>" on each root,
 *                                                    and each hook's handleEvent(event) callbacks
 * In a kernel these come on the hub's comm (livewidget/jupyter/hub.py): one message
 * `{"batch": [[id, message], ...]}` for what every view sent in a turn of the kernel's loop,
 * each handed to the LiveModel whose ID_TRAIT is `id` (initializeHub, below).
 * Front -> kernel: {"type": "join"} (a view attached, or a gap) and the event
 * messages of bindings.ts and hooks.ts, on the view's own comm.
 *
 * Jupyter's IOPub channel can drop messages under load (the server's rate limit, ZeroMQ's
 * high-water marks), so nothing here trusts a message to arrive. A lost diff shows as a gap at
 * the next payload, and a lost last diff as a "settled" with another seq; both join. A join
 * whose full render does not come (the join or the render was lost) is sent again after 1 s,
 * then 2, 4, ... up to 30 s apart, until one does.
 *
 * A "full", "diff" or "error" message answers every event in flight (in_flight.ts): their
 * loading classes and phx-disable-with go *before* the patch, so the render has the last word.
 *
 * Each patch re-applies what JS commands did to the elements it keeps (js_commands.ts:
 * applySticky), drives the phx-hook lifecycle (hooks.ts) and places the Jupyter widgets the
 * view shows in their placeholders (children.ts). The hook registry is the `_hooks`
 * trait (ES module source), imported once per model and again when it changes.
 *
 * Until the first full render the views show the synced `_html` trait, so a
 * saved notebook shows the last state without a kernel; after every patch the
 * new HTML goes back into `_html` with model.set and no save_changes, which
 * keeps the saved widget state current and sends nothing to the kernel.
 */
import type { AnyModel, AnyWidget, InitializeProps, RenderProps } from "@anywidget/types";
import { bindEvents } from "./bindings";
import { Children, managerOf } from "./children";
import {
  BATCH,
  EVENT,
  type EventMessage,
  HOOKS_TRAIT,
  HTML_TRAIT,
  HUB_TRAIT,
  ID_TRAIT,
  KEY_ATTR,
  MESSAGE,
  MSG_DIFF,
  MSG_ERROR,
  MSG_FULL,
  MSG_JOIN,
  MSG_PUSH_EVENT,
  MSG_SETTLED,
  type OutgoingMessage,
  PAYLOAD,
  RENDERED,
  ROOT_CLASS,
  SEQ,
  TRACEBACK,
  TYPE,
  VIEW_CLASS,
} from "./constants";
import { patch } from "./dom_patch";
import { type HookRegistry, loadHooks, ViewHooks } from "./hooks";
import { InFlight, type InFlightSpec } from "./in_flight";
import { applySticky } from "./js_commands";
import { RenderedTree, type ViewHTML } from "./rendered";
import { errorText, isObject, repr } from "./util";

/** A join not answered by a full render within this many ms is sent again... */
const REJOIN_FIRST_MS = 1_000;
/** ...and again, each wait twice the one before, up to this. */
const REJOIN_MAX_MS = 30_000;

/** At most this many error banners stay in a view; older ones go. */
const MAX_BANNERS = 5;

interface View {
  root: HTMLElement;
  errors: HTMLElement;
  hooks: ViewHooks;
  /** The Jupyter widgets placed in this view (children.ts). */
  children: Children;
}

type Content = { [key: string]: unknown };

class LiveModel {
  private tree: RenderedTree | null = null;
  private seq = -1;
  /** True from sending a join until the next full render arrives. */
  private joining = false;
  /** The timer that sends the join again if no full render answers it. */
  private rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  readonly views = new Set<View>();
  readonly key = `lw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
  private readonly inFlight = new InFlight();
  /** Shared by this model's views: a window key event is sent once, not once per view. */
  private readonly windowEvents = new WeakSet<Event>();
  private hooks: HookRegistry | null = null;
  private hooksSource: string | null = null;
  private hooksLoads = 0;
  private hooksError: string | null = null;

  constructor(private readonly model: AnyModel) {
    model.on("msg:custom", this.onMessage);
    model.on(`change:${HTML_TRAIT}`, this.onSavedHtml);
    model.on(`change:${HOOKS_TRAIT}`, this.onHooksSource);
    this.onHooksSource();
  }

  dispose(): void {
    this.model.off("msg:custom", this.onMessage);
    this.model.off(`change:${HTML_TRAIT}`, this.onSavedHtml);
    this.model.off(`change:${HOOKS_TRAIT}`, this.onHooksSource);
    this.inFlight.dispose();
    clearTimeout(this.rejoinTimer);
  }

  mount(el: HTMLElement): () => void {
    const { root, errors } = createView(el);
    const report = (message: string) => showBanner(errors, message, "");
    const hooks = new ViewHooks(root, {
      push: (message, spec) => this.push(message, spec),
      onAnswer: (ref, fn) => this.inFlight.onAnswer(ref, fn),
      report,
    });
    const children = new Children(root, managerOf(this.model), report);
    const view: View = { root, errors, hooks, children };
    const unbind = bindEvents(root, (message, spec) => this.push(message, spec), {
      isPending: (target, type) => this.inFlight.isPending(target, type),
      windowEvents: this.windowEvents,
      report,
    });
    this.views.add(view);
    if (this.hooksError) report(this.hooksError);
    const html = this.tree ? this.tree.toHTML() : this.savedHtml();
    this.tryPatch(view, html);
    if (this.hooks) hooks.setRegistry(this.hooks);
    // Every new view announces itself, tree or not: the kernel learns that a page shows the
    // widget (it then stops refreshing the output's HTML snapshot itself), and the view gets
    // the current render even if the tree here is stale (a reload, messages lost meanwhile).
    this.join();
    return () => {
      unbind();
      hooks.destroyAll();
      children.dispose();
      this.views.delete(view);
      root.parentElement?.remove();
    };
  }

  /** A message from the kernel: on this model's comm, or handed over by the hub. */
  readonly onMessage = (content: unknown): void => {
    if (!isObject(content)) {
      return this.showError(`livewidget: expected a message object from the kernel, got ${repr(content)}`);
    }
    const type = content[TYPE];
    if (type === MSG_FULL || type === MSG_DIFF || type === MSG_ERROR) this.inFlight.answerAll();
    switch (type) {
      case MSG_FULL:
        return this.onRender(content, true);
      case MSG_DIFF:
        return this.onRender(content, false);
      case MSG_ERROR:
        return this.showError(String(content[MESSAGE] ?? ""), String(content[TRACEBACK] ?? ""));
      case MSG_SETTLED:
        return this.onSettled(content);
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
    // A full render starts a new tree, which keeps the rows of the streams the page shows.
    const tree = full ? new RenderedTree(this.tree) : this.tree;
    if (!tree || (!full && seq !== this.seq + 1)) return this.join(); // a gap
    let html: string;
    let forViews: ViewHTML;
    try {
      tree.merge(rendered);
      html = tree.toHTML();
      forViews = tree.toPatch(); // the unchanged entries as placeholders (dom_patch.ts)
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
    if (full) {
      this.joining = false;
      clearTimeout(this.rejoinTimer);
    }
    this.render(html, forViews);
  }

  private onSettled(content: Content): void {
    const seq = content[SEQ];
    if (typeof seq !== "number") {
      return this.showError(`livewidget: expected {"${TYPE}": "${MSG_SETTLED}", "${SEQ}": <number>}, got ${repr(content)}`);
    }
    if (seq !== this.seq) this.join(); // the last payload (or more) was lost
  }

  private render(html: string, forViews: ViewHTML): void {
    for (const view of this.views) this.tryPatch(view, forViews);
    this.model.set(HTML_TRAIT, html); // no save_changes: saved with the notebook, not sent
  }

  private tryPatch(view: View, html: string | ViewHTML): void {
    try {
      patch(view.root, html, {
        beforeElUpdated(fromEl, toEl, ignored, same) {
          applySticky(fromEl, toEl);
          view.hooks.beforeElUpdated(fromEl, toEl, ignored, same);
        },
      });
    } catch (err) {
      showBanner(view.errors, `livewidget could not patch the page: ${errorText(err)}`, "");
    }
    view.hooks.sync();
    view.children.sync();
  }

  private onPushEvent(content: Content): void {
    const name = content[EVENT];
    if (typeof name !== "string") {
      return this.showError(`livewidget: push_event needs a string "${EVENT}", got ${repr(content)}`);
    }
    const payload = content[PAYLOAD] ?? {};
    for (const view of this.views) {
      view.root.dispatchEvent(new CustomEvent(`phx:${name}`, { detail: payload }));
      view.hooks.dispatch(name, payload);
    }
  }

  /** The `_hooks` trait changed (or is read first): import the registry it holds. */
  private readonly onHooksSource = (): void => {
    const raw: unknown = this.model.get(HOOKS_TRAIT);
    const source = typeof raw === "string" ? raw : "";
    if (source === this.hooksSource) return;
    this.hooksSource = source;
    const load = ++this.hooksLoads;
    const use = (registry: HookRegistry) => {
      if (load !== this.hooksLoads) return; // a newer source is loading
      this.hooks = registry;
      this.hooksError = null;
      for (const view of this.views) view.hooks.setRegistry(registry);
    };
    if (source.trim() === "") return use({}); // no import needed: at once
    loadHooks(source).then(use, (err: unknown) => {
      if (load !== this.hooksLoads) return;
      this.hooksError = `livewidget could not load the ${HOOKS_TRAIT} module: ${errorText(err)}`;
      this.showError(this.hooksError);
    });
  };

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
    this.sendJoin(REJOIN_FIRST_MS);
  }

  private sendJoin(wait: number): void {
    clearTimeout(this.rejoinTimer);
    if (!this.send({ [TYPE]: MSG_JOIN })) return; // no kernel: nobody to ask again
    this.rejoinTimer = setTimeout(() => {
      if (this.joining) this.sendJoin(Math.min(wait * 2, REJOIN_MAX_MS));
    }, wait);
  }

  /** Send an event, in flight until answered; returns its ref. */
  private push(message: EventMessage, spec: InFlightSpec): number {
    const ref = this.inFlight.start(spec);
    this.send(message);
    return ref;
  }

  /** Send to the kernel; false if there is none (a static export: the content stays). */
  private send(message: OutgoingMessage): boolean {
    try {
      this.model.send(message);
      return true;
    } catch (err) {
      console.warn("livewidget: could not reach the kernel", err);
      return false;
    }
  }

  private showError(message: string, traceback = ""): void {
    for (const view of this.views) showBanner(view.errors, message, traceback);
    if (this.views.size === 0) console.error(message, traceback);
  }
}

function createView(el: HTMLElement): Pick<View, "root" | "errors"> {
  const doc = el.ownerDocument;
  const outer = doc.createElement("div");
  outer.className = VIEW_CLASS;
  const errors = doc.createElement("div");
  errors.className = "lw-errors";
  const root = doc.createElement("div");
  root.className = ROOT_CLASS;
  outer.append(errors, root);
  el.append(outer);
  return { root, errors };
}

function showBanner(errors: HTMLElement, message: string, traceback: string): void {
  const doc = errors.ownerDocument;
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
  errors.append(banner);
  while (errors.children.length > MAX_BANNERS) errors.firstElementChild?.remove();
}

// anywidget gives initialize() and each render() different proxies of one
// model, so initialize() leaves a key in a front-end-only attribute and
// render() looks the LiveModel up by it.
const live = new Map<string, LiveModel>();

// The page's LiveModels by the kernel's id for them (ID_TRAIT), for the hub. anywidget imports
// each model's module on its own (a module instance per model), so the registry is the page's.
const REGISTRY = Symbol.for("livewidget.models");

function registry(): Map<string, LiveModel> {
  const page = globalThis as { [REGISTRY]?: Map<string, LiveModel> };
  page[REGISTRY] ??= new Map();
  return page[REGISTRY];
}

/**
 * The kernel's hub (livewidget/jupyter/hub.py): one comm carrying every view's messages,
 * `{"batch": [[id, message], ...]}`, each handed to the LiveModel of that id in order, as if it
 * had come on that model's own comm. An id this page does not hold (a view not shown here, or
 * not made yet) is skipped: its view joins when it mounts, and a lost message shows as a gap.
 */
function initializeHub(model: Pick<InitializeProps, "model">["model"]): () => void {
  const onMessage = (content: unknown): void => {
    if (!isObject(content) || !Array.isArray(content[BATCH])) return;
    const models = registry();
    for (const entry of content[BATCH] as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== "string") continue;
      models.get(entry[0])?.onMessage(entry[1]);
    }
  };
  model.on("msg:custom", onMessage);
  return () => model.off("msg:custom", onMessage);
}

function initialize({ model }: Pick<InitializeProps, "model">): () => void {
  if (model.get(HUB_TRAIT) === true) return initializeHub(model);
  const lm = new LiveModel(model);
  live.set(lm.key, lm);
  model.set(KEY_ATTR, lm.key);
  const id: unknown = model.get(ID_TRAIT);
  if (typeof id === "string" && id) registry().set(id, lm);
  return () => {
    lm.dispose();
    live.delete(lm.key);
    if (typeof id === "string" && registry().get(id) === lm) registry().delete(id);
  };
}

function render({ model, el }: Pick<RenderProps, "model" | "el">): () => void {
  if (model.get(HUB_TRAIT) === true) return () => {}; // the hub shows nothing
  const key: unknown = model.get(KEY_ATTR);
  let lm = typeof key === "string" ? live.get(key) : undefined;
  let owned = false;
  if (!lm) {
    // A host that does not call initialize(): this view owns a LiveModel of its own.
    lm = new LiveModel(model);
    owned = true;
  }
  const id: unknown = model.get(ID_TRAIT);
  if (owned && typeof id === "string" && id) registry().set(id, lm);
  const unmount = lm.mount(el);
  return () => {
    unmount();
    if (!owned) return;
    lm.dispose();
    if (typeof id === "string" && registry().get(id) === lm) registry().delete(id);
  };
}

export default { initialize, render } satisfies AnyWidget;

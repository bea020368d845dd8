/**
 * Jupyter widgets in a served page (`livewidget serve`): the little of a widget manager that
 * anywidget widgets need, over the view's WebSocket (livewidget/serve/widgets.py is the
 * server's half).
 *
 * In a notebook, children.ts asks Jupyter's widget manager for a view of each widget placed in
 * the view. A served page has none; `ServedWidgets` takes its place as the `ChildManager`:
 *
 *   - the server sends `{"type": "widget", "id", "method": "open", "esm", "state", ...}` before
 *     the render that places a widget; `get_model(id)` waits for it;
 *   - `create_view(model)` imports the widget's ESM module (a URL the server names by its
 *     content; the browser fetches each once), calls its `initialize` once per model and its
 *     `render` for each view, as anywidget does (AFM: `export default {initialize, render}`,
 *     or a function that returns them);
 *   - the model (`WidgetModel`) is anywidget's: `get`, `set` (which fires `change:<name>` at
 *     once, as Backbone does), `save_changes` (sends what was set since, as `update`), `send`
 *     (a custom message), `on`/`off` for `change:<name>`, `change` and `msg:custom`;
 *   - the server's `update` and `custom` messages change the model and fire its listeners;
 *     `close` drops the model.
 *
 * Binary buffers (numpy arrays in a plotly figure) travel as base64 strings beside the JSON, at
 * the places `buffer_paths` names (ipywidgets' own split of a state), and are `DataView`s in
 * the model, as in Jupyter.
 *
 * ipywidgets' common controls (`IntSlider`, `Dropdown`, `Button`...) and boxes (`HBox`, `VBox`,
 * `Tab`...) are drawn here as plain HTML (controls.ts). A widget's `layout` and a control's
 * `style` are models of their own, opened with it, and drawn on its view (`attach`): the
 * layout's traits as the CSS properties of the view's element (`width`, `flex_flow`...), the
 * style's as custom properties that widget.css reads (`--lw-description-width`...). Any other
 * widget that is not an anywidget (a third-party Jupyter widget, ipywidgets' `Output`) needs
 * Jupyter's widget manager: its place shows a note that says so.
 */
import type { AnyModel } from "@anywidget/types";
import type { ChildManager, ChildView } from "./children";
import { MSG_WIDGET, TYPE } from "./constants";
import { attachedModel, CONTROLS, isContainer } from "./controls";
import { errorText, isObject, type Obj } from "./util";

const OPEN_WAIT_MS = 30_000;
const IPY_MODEL = /^IPY_MODEL_([0-9a-f]{8,64})$/;

/** A layout's traits, drawn as the CSS properties of the same name (`flex_flow`: `flex-flow`). */
const LAYOUT_KEYS = [
  "align_content", "align_items", "align_self", "border_top", "border_right", "border_bottom",
  "border_left", "bottom", "display", "flex", "flex_flow", "grid_area", "grid_auto_columns",
  "grid_auto_flow", "grid_auto_rows", "grid_column", "grid_gap", "grid_row",
  "grid_template_areas", "grid_template_columns", "grid_template_rows", "height",
  "justify_content", "justify_items", "left", "margin", "max_height", "max_width", "min_height",
  "min_width", "object_fit", "object_position", "order", "overflow", "padding", "right", "top",
  "visibility", "width",
];

/** A style's traits, drawn as custom properties (`--lw-description-width`) for widget.css. */
const STYLE_KEYS = [
  "description_width", "handle_color", "bar_color", "button_color", "text_color", "background",
  "font_family", "font_size", "font_style", "font_variant", "font_weight", "text_decoration",
];

function drawLayout(el: HTMLElement, layout: AnyModel): void {
  for (const key of LAYOUT_KEYS) {
    const value = layout.get(key);
    // (setProperty: a value is one property's, whatever it holds; an invalid one is ignored)
    el.style.setProperty(key.replaceAll("_", "-"), typeof value === "string" ? value : "");
  }
}

function drawStyle(el: HTMLElement, style: AnyModel): void {
  for (const key of STYLE_KEYS) {
    const value = style.get(key);
    const name = `--lw-${key.replaceAll("_", "-")}`;
    if (typeof value === "string" && value !== "") el.style.setProperty(name, value);
    else el.style.removeProperty(name);
  }
}

type Handler = (...args: any[]) => void;
type Path = (string | number)[];

interface WidgetDef {
  initialize?: (props: object) => unknown;
  render?: (props: object) => unknown;
}

/** What the server says of a widget that cannot show here. */
function note(name: string, needs: unknown): string {
  if (needs === "limit") {
    return `${name} is not shown: a served view shows at most 1,000 widgets, and boxes at most 32 deep.`;
  }
  if (needs === "error") return `${name} could not be shown: the view's error says why.`;
  return needs === "kernel"
    ? `${name} belongs to a Jupyter kernel and cannot show in a served page.`
    : `${name} is a Jupyter widget that needs Jupyter's widget manager; a served page shows ` +
        "widgets made with anywidget (plotly's FigureWidget, altair's JupyterChart, your own) and " +
        "ipywidgets' common controls (sliders, text, dropdowns, checkboxes, buttons, progress " +
        "bars) and boxes (HBox, VBox, GridBox, Tab, Accordion).";
}

/** A widget's model in a served page: anywidget's model interface over the socket. */
export class WidgetModel implements AnyModel {
  private readonly state = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<Handler>>();
  private pending: Obj = {};
  private closed = false;
  private initialized: Promise<void> | null = null;
  readonly widget_manager: ServedWidgets;

  constructor(
    readonly id: string,
    readonly name: string,
    /** The ESM module's URL; null for one of ipywidgets' controls drawn here (`builtin`, its
     * model name: controls.ts), or for a widget that cannot show here (`needs` says why). */
    readonly esm: string | null,
    readonly builtin: string | null,
    readonly needs: unknown,
    private readonly host: ServedWidgets,
  ) {
    this.widget_manager = host;
  }

  get(key: string): any {
    return this.state.get(key);
  }

  set(key: string, value: unknown): void {
    if (sameValue(this.state.get(key), value)) return;
    this.state.set(key, value);
    this.pending[key] = value;
    this.changed([key]);
  }

  save_changes(): void {
    const state = this.pending;
    this.pending = {};
    if (this.closed || Object.keys(state).length === 0) return;
    const split = removeBuffers(state);
    this.host.post({
      [TYPE]: MSG_WIDGET,
      id: this.id,
      method: "update",
      state: split.state,
      buffer_paths: split.paths,
      buffers: split.buffers,
    });
  }

  send(content: unknown, _callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void {
    if (this.closed) return;
    const encoded = (buffers ?? []).map((b) => toBase64(b));
    this.host.post({ [TYPE]: MSG_WIDGET, id: this.id, method: "custom", content, buffers: encoded });
  }

  on(eventName: string, callback: Handler): void {
    let set = this.listeners.get(eventName);
    if (!set) this.listeners.set(eventName, (set = new Set()));
    set.add(callback);
  }

  off(eventName?: string | null, callback?: Handler | null): void {
    if (!eventName) return this.listeners.clear();
    if (!callback) return void this.listeners.delete(eventName);
    this.listeners.get(eventName)?.delete(callback);
  }

  /** The server's state for the model (`open`, `update`): set, listeners told, nothing sent. */
  apply(state: Obj): void {
    const keys: string[] = [];
    for (const [key, value] of Object.entries(state)) {
      if (sameValue(this.state.get(key), value)) continue;
      this.state.set(key, value);
      keys.push(key);
    }
    if (keys.length) this.changed(keys);
  }

  /** The server closed the model (Python closed the widget): "destroy" for those that keep
   * something going (a Play's animation), as Backbone's models say it; nothing goes out after. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("destroy", this);
  }

  /** A custom message from the server. */
  custom(content: unknown, buffers: DataView[]): void {
    this.emit("msg:custom", content, buffers);
  }

  /** The widget's `initialize`, once for the model, before its first view renders. */
  initialize(def: WidgetDef, signal: AbortSignal): Promise<void> {
    if (!this.initialized) {
      this.initialized = Promise.resolve(def.initialize?.({ model: this, signal, experimental })).then(() => {});
    }
    return this.initialized;
  }

  private changed(keys: string[]): void {
    for (const key of keys) this.emit(`change:${key}`, this, this.state.get(key));
    this.emit("change", this);
  }

  private emit(eventName: string, ...args: unknown[]): void {
    for (const handler of Array.from(this.listeners.get(eventName) ?? [])) {
      try {
        handler(...args);
      } catch (err) {
        console.error(`livewidget: a listener of ${this.name}'s "${eventName}" threw:`, err);
      }
    }
  }
}

const experimental = {
  invoke: () => Promise.reject(new Error("livewidget serve: experimental.invoke is not supported")),
};

/** The widgets of one served page: a `ChildManager` for children.ts. */
export class ServedWidgets implements ChildManager {
  private readonly models = new Map<string, WidgetModel>();
  private readonly waiting = new Map<string, ((model: WidgetModel) => void)[]>();
  private readonly modules = new Map<string, Promise<WidgetDef>>();
  private readonly styles = new Map<string, HTMLStyleElement>();

  constructor(
    private readonly sendToServer: (content: unknown) => void,
    private readonly doc: Document = document,
    private readonly load: (url: string) => Promise<unknown> = (url) => import(url),
  ) {}

  /** A `{"type": "widget"}` message from the server. */
  handle(message: Obj): void {
    const id = message.id;
    if (typeof id !== "string") return console.warn("livewidget: a widget message names no widget", message);
    const model = this.models.get(id);
    switch (message.method) {
      case "open":
        return this.open(id, message, model);
      case "update":
        if (model && isObject(message.state)) model.apply(putBuffers(message.state, message.buffer_paths, message.buffers));
        if (model && isObject(message.state) && "_css" in message.state) this.style(model);
        return;
      case "custom":
        return model?.custom(message.content, decodeBuffers(message.buffers));
      case "close":
        model?.close(); // (a Play stops its animation; the model sends nothing more)
        this.models.delete(id);
        this.styles.get(id)?.remove();
        this.styles.delete(id);
        return;
      default:
        console.warn("livewidget: an unknown widget message", message.method);
    }
  }

  get_model(id: string): Promise<any> {
    const model = this.models.get(id);
    if (model) return Promise.resolve(model);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiting.get(id) ?? [];
        this.waiting.set(id, list.filter((fn) => fn !== settle));
        reject(new Error(`the server did not open the widget ${id}`));
      }, OPEN_WAIT_MS);
      const settle = (found: WidgetModel) => {
        clearTimeout(timer);
        resolve(found);
      };
      const list = this.waiting.get(id) ?? [];
      list.push(settle);
      this.waiting.set(id, list);
    });
  }

  async create_view(model: unknown): Promise<ChildView> {
    if (!(model instanceof WidgetModel)) throw new Error("not a served widget's model");
    const el = this.doc.createElement("div");
    el.className = "lw-served-widget";
    el.dataset.lwModel = model.id;
    const control = model.builtin === null ? undefined : CONTROLS[model.builtin];
    if (model.esm === null && !control) {
      el.className = "lw-widget-note";
      el.setAttribute("role", "note");
      el.textContent = note(model.name, model.needs);
      return { el, remove: () => el.remove() };
    }
    // (a control's element sizes as Jupyter's does: to its content, or to its layout's width)
    if (control && !isContainer(model.builtin ?? "")) el.classList.add("lw-served-control");
    const controller = new AbortController();
    let cleanup: unknown;
    let def: WidgetDef;
    try {
      def = control ? { render: control as (props: object) => unknown } : await this.module(model.esm ?? "");
      await model.initialize(def, controller.signal);
    } catch (err) {
      // (a module that does not load, a CDN out of reach: said in its place, not left empty)
      console.error(`livewidget: ${model.name}'s module did not load:`, err);
      el.className = "lw-widget-note";
      el.textContent = `${model.name} could not load: ${errorText(err)}`;
      return { el, remove: () => el.remove() };
    }
    // Rendered once the view is on the page (children.ts appends `el` when this resolves):
    // a chart measures the element it draws in.
    const clean = () => {
      if (typeof cleanup !== "function") return;
      try {
        void (cleanup as () => unknown)();
      } catch (err) {
        console.warn(`livewidget: ${model.name}'s cleanup threw:`, err);
      }
    };
    const detach = this.attach(model, el);
    const rendered = new Promise<void>((done) => setTimeout(done, 0)).then(async () => {
      if (controller.signal.aborted) return;
      cleanup = await def.render?.({ model, el, signal: controller.signal, experimental });
      if (controller.signal.aborted) clean(); // removed while it rendered
    });
    rendered.catch((err: unknown) => {
      console.error(`livewidget: ${model.name}'s render threw:`, err);
      el.textContent = `${model.name} could not render: ${errorText(err)}`;
    });
    return {
      el,
      remove: () => {
        controller.abort();
        detach();
        el.remove();
        clean();
      },
    };
  }

  /** A message of a model's for the server (dropped with a warning while offline). */
  post(content: Obj): void {
    try {
      this.sendToServer(content);
    } catch (err) {
      console.warn("livewidget: a widget's change was not sent:", errorText(err));
    }
  }

  private open(id: string, message: Obj, known: WidgetModel | undefined): void {
    const state = isObject(message.state) ? putBuffers(message.state, message.buffer_paths, message.buffers) : {};
    // A widget the page already has (shown again, or a shared one after a reconnect) keeps its
    // model, which its views hold: only its state is new.
    const model =
      known ??
      new WidgetModel(
        id,
        String(message.name ?? "widget"),
        typeof message.esm === "string" ? message.esm : null,
        typeof message.builtin === "string" && (Object.hasOwn(CONTROLS, message.builtin) || attachedModel(message.builtin))
          ? message.builtin
          : null,
        message.needs,
        this,
      );
    model.apply(state);
    if (!known) this.models.set(id, model);
    this.style(model);
    const waiting = this.waiting.get(id) ?? [];
    this.waiting.delete(id);
    for (const settle of waiting) settle(model);
  }

  /** Draw the widget's `layout` and `style` on its view's `el`, and again whenever they change
   * (or it is given another); and its `tooltip` (the element's title) and `_dom_classes` (what
   * `add_class` added), as Jupyter draws them on any widget's element. The returned function
   * stops. */
  private attach(model: WidgetModel, el: HTMLElement): () => void {
    const stops: (() => void)[] = [];
    let added: string[] = [];
    const decorate = () => {
      const tip = model.get("tooltip");
      if (typeof tip === "string" && tip !== "") el.title = tip;
      else el.removeAttribute("title");
      for (const name of added) el.classList.remove(name);
      const classes: unknown = model.get("_dom_classes");
      added = (Array.isArray(classes) ? classes : []).filter(
        // (not livewidget's own: lw-served-control, or lw-hbox which a box adds after this)
        (name): name is string =>
          typeof name === "string" && /^\S+$/.test(name) && !name.startsWith("lw-") && !el.classList.contains(name),
      );
      for (const name of added) el.classList.add(name);
    };
    decorate();
    model.on("change:tooltip", decorate);
    model.on("change:_dom_classes", decorate);
    stops.push(() => {
      model.off("change:tooltip", decorate);
      model.off("change:_dom_classes", decorate);
    });
    for (const [key, draw] of [
      ["layout", drawLayout],
      ["style", drawStyle],
    ] as const) {
      let stopHeld = () => {};
      const follow = () => {
        stopHeld();
        stopHeld = () => {};
        const ref = IPY_MODEL.exec(String(model.get(key) ?? ""));
        if (!ref) return;
        let live = true;
        stopHeld = () => (live = false);
        this.get_model(ref[1]).then(
          (held: WidgetModel) => {
            if (!live) return;
            const apply = () => draw(el, held);
            apply();
            held.on("change", apply);
            stopHeld = () => held.off("change", apply);
          },
          () => {}, // (not opened: the server's bound on a page's widgets; drawn without it)
        );
      };
      follow();
      model.on(`change:${key}`, follow);
      stops.push(() => {
        model.off(`change:${key}`, follow);
        stopHeld();
      });
    }
    return () => stops.forEach((stop) => stop());
  }

  private style(model: WidgetModel): void {
    const css = model.get("_css");
    let style = this.styles.get(model.id);
    if (typeof css !== "string" || !css) {
      style?.remove();
      this.styles.delete(model.id);
      return;
    }
    if (!style) {
      style = this.doc.createElement("style");
      style.dataset.lwWidget = model.id;
      this.doc.head.append(style);
      this.styles.set(model.id, style);
    }
    if (style.textContent !== css) style.textContent = css;
  }

  private module(url: string): Promise<WidgetDef> {
    let loading = this.modules.get(url);
    if (!loading) {
      loading = this.load(url).then(widgetDef);
      loading.catch(() => this.modules.delete(url)); // a failed import is tried again next time
      this.modules.set(url, loading);
    }
    return loading;
  }
}

/** anywidget's module shapes: `default` an object or a function returning one; or `render`. */
async function widgetDef(mod: unknown): Promise<WidgetDef> {
  const exports = mod as { default?: unknown; render?: unknown };
  let def: unknown = exports.default ?? exports;
  if (typeof def === "function") def = await (def as () => unknown)();
  if (!isObject(def) || (typeof def.render !== "function" && typeof def.initialize !== "function")) {
    throw new Error("the widget's module exports no render or initialize (anywidget's AFM)");
  }
  return def as WidgetDef;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b) || a instanceof ArrayBuffer || b instanceof ArrayBuffer) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

// -- buffers ------------------------------------------------------------------------------------

export function decodeBuffers(buffers: unknown): DataView[] {
  if (!Array.isArray(buffers)) return [];
  return buffers.map((b) => {
    const binary = atob(typeof b === "string" ? b : "");
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new DataView(bytes.buffer);
  });
}

/** The state with each buffer put at its place (ipywidgets' `put_buffers`), as DataViews. */
export function putBuffers(state: Obj, paths: unknown, buffers: unknown): Obj {
  const views = decodeBuffers(buffers);
  if (!Array.isArray(paths)) return state;
  paths.forEach((path: unknown, i: number) => {
    if (!Array.isArray(path) || path.length === 0 || i >= views.length) return;
    let node: any = state;
    for (const step of path.slice(0, -1)) {
      node = node?.[step as string | number];
      if (typeof node !== "object" || node === null) return;
    }
    node[path[path.length - 1] as string | number] = views[i];
  });
  return state;
}

function toBase64(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes =
    buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** ipywidgets' `remove_buffers`: a copy of `state` with each binary value taken out (null in
 * its place), and the values, base64, with their places. The model's own values stay as they are. */
export function removeBuffers(state: Obj): { state: Obj; paths: Path[]; buffers: string[] } {
  const paths: Path[] = [];
  const buffers: string[] = [];
  const copy = (value: unknown, path: Path): unknown => {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      paths.push(path);
      buffers.push(toBase64(value));
      return null;
    }
    if (Array.isArray(value)) return value.map((item, i) => copy(item, [...path, i]));
    if (isObject(value)) {
      const out: Obj = {};
      for (const [key, item] of Object.entries(value)) out[key] = copy(item, [...path, key]);
      return out;
    }
    return value;
  };
  return { state: copy(state, []) as Obj, paths, buffers };
}

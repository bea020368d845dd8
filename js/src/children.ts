/**
 * Jupyter widgets inside a view: each placeholder the kernel renders for one gets a view of
 * that widget, from the notebook's widget manager.
 *
 * A field holding an ipywidgets widget (`{slider}`, a plotly FigureWidget, another view's
 * widget) renders as an empty placeholder (livewidget/children.py):
 *
 *     <span class="lw-child" data-lw-widget="MODEL_ID" id="lw-child-MODEL_ID"
 *           phx-update="ignore"></span>
 *
 * After each patch, `Children.sync()` puts a view of each new placeholder's model inside it:
 * `await manager.create_view(await manager.get_model(id))`, the pattern of anywidget's
 * `model.widget_manager` (anywidget PR #194), and tells the view's Lumino widget that it is
 * attached, which ipywidgets turns into the view's "displayed" event. `phx-update="ignore"`
 * keeps morphdom out of the placeholder, and its id keeps it the same element through every
 * patch, so the widget is the same DOM however often the view renders around it. A placeholder
 * that a patch removes takes its child view with it (`view.remove()`), and so does unmounting.
 * Each mounted view of a LiveWidget has its own `Children`: a view shown twice shows its
 * children twice, as ipywidgets shows any widget displayed twice.
 *
 * Whatever happens inside a placeholder is the child's own: `inChild` lets the bindings and
 * hooks of the view around it look past it (a key pressed in a slider moves the slider and
 * fires none of the view's phx-window-keydown bindings).
 *
 * Without a widget manager (a page of `livewidget export`), placeholders stay empty.
 */
import { CHILD_ATTR } from "./constants";

/** What is needed of the notebook's widget manager (anywidget's `model.widget_manager`). */
export interface ChildManager {
  get_model(modelId: string): Promise<unknown>;
  create_view?(model: unknown, options?: object): Promise<ChildView>;
}

/** What is needed of a child's view (an ipywidgets DOMWidgetView). */
export interface ChildView {
  el: HTMLElement;
  remove(): void;
  /** ipywidgets 8's Lumino widget of the view (`pWidget` in ipywidgets 7). */
  luminoWidget?: LuminoWidget;
  pWidget?: LuminoWidget;
}

interface LuminoWidget {
  processMessage(message: LuminoMessage): void;
  readonly isAttached?: boolean;
}

interface LuminoMessage {
  readonly type: string;
  readonly isConflatable: boolean;
  conflate(other: LuminoMessage): boolean;
}

interface Placement {
  readonly id: string;
  view: ChildView | null;
  attached: boolean;
  gone: boolean;
}

/** Model ids are ipykernel comm ids, uuid4().hex; nothing else is asked of the manager. */
const MODEL_ID = /^[0-9a-f]{8,64}$/;
const PLACEHOLDER = `[${CHILD_ATTR}]`;

/** The widget manager on an anywidget model, if the host gave one (Jupyter does). */
export function managerOf(model: unknown): ChildManager | undefined {
  const manager = (model as { widget_manager?: unknown } | null)?.widget_manager;
  const getModel = (manager as { get_model?: unknown } | undefined)?.get_model;
  return typeof getModel === "function" ? (manager as ChildManager) : undefined;
}

/** Whether `node` lies inside a child widget placed within `root`: its events are the child's. */
export function inChild(root: Element, node: Node | null | undefined): boolean {
  const el = node instanceof Element ? node : (node?.parentElement ?? null);
  const placeholder = el?.closest(PLACEHOLDER);
  return !!placeholder && placeholder !== root && root.contains(placeholder);
}

/** The child widgets placed in one view's root. */
export class Children {
  private readonly placed = new Map<Element, Placement>();

  constructor(
    private readonly root: HTMLElement,
    private readonly manager: ChildManager | undefined,
    private readonly report: (message: string) => void,
  ) {}

  /** After a patch: a view in each new placeholder; none left for the placeholders gone. */
  sync(): void {
    for (const [placeholder, placement] of this.placed) {
      if (!this.root.contains(placeholder) || placeholder.getAttribute(CHILD_ATTR) !== placement.id) {
        this.drop(placeholder, placement);
      } else if (placement.view && !placement.attached && placeholder.isConnected) {
        attach(placement); // placed while the view was off the page
      }
    }
    if (!this.manager) return;
    for (const placeholder of Array.from(this.root.querySelectorAll(PLACEHOLDER))) {
      // a placeholder inside a child (a view inside a view) is that child's to fill
      if (!this.placed.has(placeholder) && !inChild(this.root, placeholder.parentElement)) {
        this.place(placeholder, this.manager);
      }
    }
  }

  /** The view is unmounted: every child view goes. */
  dispose(): void {
    for (const [placeholder, placement] of this.placed) this.drop(placeholder, placement);
  }

  private place(placeholder: Element, manager: ChildManager): void {
    const id = placeholder.getAttribute(CHILD_ATTR) ?? "";
    const placement: Placement = { id, view: null, attached: false, gone: false };
    this.placed.set(placeholder, placement);
    if (!MODEL_ID.test(id)) {
      return this.report(`livewidget: a child widget's placeholder names the model ${JSON.stringify(id)}; expected hex digits`);
    }
    if (placeholder.parentElement?.closest(`[${CHILD_ATTR}="${id}"]`)) {
      return this.report(`livewidget: the widget ${id} is shown inside itself; it is left out there`);
    }
    void this.create(placeholder, placement, manager);
  }

  private async create(placeholder: Element, placement: Placement, manager: ChildManager): Promise<void> {
    let view: ChildView;
    try {
      if (typeof manager.create_view !== "function") throw new Error("the widget manager cannot create views");
      const model = await manager.get_model(placement.id);
      if (placement.gone) return;
      view = await manager.create_view(model, {});
    } catch (err) {
      // A closed widget, or a notebook reopened without its kernel and without saved state.
      if (!placement.gone) console.warn(`livewidget: cannot show the child widget ${placement.id}:`, err);
      return;
    }
    if (placement.gone) return view.remove();
    placement.view = view;
    const lumino = luminoOf(view);
    const connected = placeholder.isConnected;
    if (lumino && connected) send(lumino, "before-attach");
    placeholder.append(view.el);
    if (connected) {
      if (lumino) send(lumino, "after-attach");
      placement.attached = true;
    }
  }

  private drop(placeholder: Element, placement: Placement): void {
    this.placed.delete(placeholder);
    placement.gone = true;
    const view = placement.view;
    if (!view) return;
    const lumino = luminoOf(view);
    if (lumino && placement.attached && lumino.isAttached !== false) {
      send(lumino, "before-detach");
      send(lumino, "after-detach");
    }
    try {
      view.remove();
    } catch (err) {
      console.warn(`livewidget: removing the child widget ${placement.id} failed:`, err);
    }
  }
}

function luminoOf(view: ChildView): LuminoWidget | undefined {
  const widget = view.luminoWidget ?? view.pWidget;
  return typeof widget?.processMessage === "function" ? widget : undefined;
}

function attach(placement: Placement): void {
  const lumino = placement.view && luminoOf(placement.view);
  if (lumino) {
    send(lumino, "before-attach");
    send(lumino, "after-attach");
  }
  placement.attached = true;
}

/**
 * A Lumino lifecycle message, as `Widget.attach` sends it. Lumino's Widget dispatches on the
 * message's type alone, so a plain object serves, and no second copy of Lumino is bundled.
 */
function send(widget: LuminoWidget, type: string): void {
  widget.processMessage({ type, isConflatable: false, conflate: () => false });
}

/**
 * Draws the plotly charts of a page written by `livewidget export` (livewidget/export/widgets.py).
 *
 * A view that shows a plotly `FigureWidget` in a field is exported with, in that field,
 *
 *     <div class="lw-x-figure" data-livewidget-figure="MODEL_ID">...a box naming the chart...</div>
 *
 * and the page holds, once, the figures by model id (as the widget's saved state had them)
 *
 *     <script type="application/json" id="livewidget-figures">{"ID": {"data", "layout", "config"}}</script>
 *
 * after plotly.js itself (the `plotly.min.js` of the plotly Python package, inlined).
 * `drawFigures(document, Plotly)` draws each figure in its element with `Plotly.newPlot`: no
 * network, and no code saved with the notebook (the FigureWidget's `_esm` is not in the page).
 * A figure that cannot be drawn keeps its box and says why in the console; the others draw.
 *
 * Bundled as an IIFE (global `livewidgetChildren`) into livewidget/static/export_children.js.
 */
import { FIGURE_ATTR, FIGURES_ID } from "./constants";
import { isObject } from "./util";

/** What is needed of plotly.js. */
export interface PlotlyLike {
  newPlot(el: HTMLElement, data: unknown[], layout: object, config: object): Promise<unknown> | unknown;
}

/** Draw every figure of the page; returns how many were drawn (or began to be). */
export function drawFigures(doc: Document, plotly: PlotlyLike | undefined): number {
  const script = doc.getElementById(FIGURES_ID);
  if (!script) return 0;
  if (typeof plotly?.newPlot !== "function") {
    console.warn("livewidget: plotly.js is not in the page; the charts show as boxes");
    return 0;
  }
  let figures: unknown;
  try {
    figures = JSON.parse(script.textContent ?? "");
  } catch (err) {
    console.warn(`livewidget: #${FIGURES_ID} is not JSON:`, err);
    return 0;
  }
  if (!isObject(figures)) {
    console.warn(`livewidget: #${FIGURES_ID} must map model ids to figures`);
    return 0;
  }
  let drawn = 0;
  for (const el of Array.from(doc.querySelectorAll<HTMLElement>(`[${FIGURE_ATTR}]`))) {
    const id = el.getAttribute(FIGURE_ATTR) ?? "";
    const figure = Object.hasOwn(figures, id) ? figures[id] : undefined;
    if (!isObject(figure) || !Array.isArray(figure.data) || !isObject(figure.layout)) {
      console.warn(`livewidget: no figure for the chart ${JSON.stringify(id)}; expected {data: [...], layout: {...}}`);
      continue;
    }
    const config = isObject(figure.config) ? figure.config : {};
    try {
      el.replaceChildren();
      const done = plotly.newPlot(el, figure.data, figure.layout, { displaylogo: false, ...config });
      if (done instanceof Promise) done.catch((err: unknown) => console.warn(`livewidget: the chart ${id}:`, err));
      drawn++;
    } catch (err) {
      console.warn(`livewidget: the chart ${id} cannot be drawn:`, err);
    }
  }
  return drawn;
}

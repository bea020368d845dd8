/**
 * ipywidgets' common controls in a served page, drawn as plain HTML form elements.
 *
 * A served page has no Jupyter widget manager, so `@jupyter-widgets/controls` is not there to
 * draw an `IntSlider`. These are the controls a dashboard uses most, written as anywidget
 * widgets (`render({model, el})`) over the same served model (served_widgets.ts): the server
 * names the model (`builtin: "IntSliderModel"`) instead of a module to import. Each keeps the
 * traits a user sees in sync both ways as Jupyter's does (`value`, or `index` for the
 * selections; `min`, `max`, `step`, `description`, `disabled`, `placeholder`, the options) and
 * sends the page's change as Jupyter's front end would: `value` (or `index`) at once, or on
 * `change` when `continuous_update` is false; a button's click as the custom message
 * `{"event": "click"}`. The server takes only those keys from a page (serve/widgets.py).
 *
 * The boxes (`Box`, `HBox`, `VBox`, `GridBox`, `Tab`, `Accordion`, `Stack`) draw the views of their
 * `children` (`"IPY_MODEL_<id>"`, each opened by the server before the box) inside them, and
 * keep each child's view while it stays among them. A widget's `layout` and a control's
 * `style` are drawn by served_widgets.ts (`attach`).
 *
 * HTML from Python is drawn as HTML, as Jupyter draws it: an `HTML` widget's `value` (and an
 * `HTMLMath`'s, its TeX left as written: a served page has no MathJax) and a description whose
 * `description_allow_html` is on. A page sets none of these (serve/widgets.py), so the HTML is
 * the server's own, trusted as a notebook's output is; a `<script>` in it stays inert, as
 * `innerHTML` leaves it. The other widgets show a note.
 */
import type { AnyModel } from "@anywidget/types";
import type { ChildManager, ChildView } from "./children";

type Render = (props: { model: AnyModel; el: HTMLElement }) => () => void;

/** Call `apply` now and whenever one of `keys` changes; the returned function stops it. */
function watch(model: AnyModel, keys: string[], apply: () => void): () => void {
  apply();
  for (const key of keys) model.on(`change:${key}`, apply);
  return () => {
    for (const key of keys) model.off(`change:${key}`, apply);
  };
}

/** The control in a `<label>` with the widget's description before it; a group of several
 * controls (radios, toggle buttons, a range's two thumbs) in a `<div role="group">` instead, so
 * that a click in one is not passed on to the first as a label passes it. */
function labelled(
  model: AnyModel,
  el: HTMLElement,
  control: HTMLElement,
  after?: HTMLElement,
  group = false,
): () => void {
  const label = document.createElement(group ? "div" : "label");
  if (group) label.setAttribute("role", "group");
  label.className = "lw-control";
  const description = document.createElement("span");
  description.className = "lw-control-description";
  label.append(description, control);
  if (after) label.append(after);
  el.append(label);
  return watch(model, ["description", "description_allow_html"], () => {
    const text = String(model.get("description") ?? "");
    // HTML from Python only: a page sets no description (serve/widgets.py), and ipywidgets
    // draws it as HTML when the widget says so, as a trusted notebook's output is HTML.
    if (model.get("description_allow_html") === true) description.innerHTML = text;
    else description.textContent = text;
    description.hidden = text === "";
  });
}

function send(model: AnyModel, key: string, value: unknown): void {
  model.set(key, value);
  model.save_changes();
}

/** Where `continuous_update` is on, every `input` event; else only `change`. */
function onEdit(model: AnyModel, input: HTMLElement, take: () => void): () => void {
  const handler = (event: Event) => {
    if (event.type === "change" || model.get("continuous_update")) take();
  };
  input.addEventListener("input", handler);
  input.addEventListener("change", handler);
  return () => {
    input.removeEventListener("input", handler);
    input.removeEventListener("change", handler);
  };
}

/** A number as Python's `format(value, spec)` writes it for the specs readouts use (`.2f`,
 * `.3g`, `.1e`, `d`); any other spec, the number as JavaScript writes it. */
function formatNumber(value: number, spec: unknown): string {
  const match = /^\.(\d{1,2})([efg])$|^(d)$/.exec(String(spec ?? ""));
  if (!Number.isFinite(value) || !match) return String(value);
  if (match[3]) return String(Math.round(value));
  const digits = Number(match[1]);
  const exponential = (n: number) => value.toExponential(n).replace(/e([+-])(\d)$/, "e$10$2");
  if (match[2] === "f") return value.toFixed(Math.min(digits, 100));
  if (match[2] === "e") return exponential(Math.min(digits, 100));
  // g: Python's rule, exponent form when the exponent is < -4 or >= the precision
  const precision = Math.max(digits, 1);
  const exponent = value === 0 ? 0 : Math.floor(Math.log10(Math.abs(Number(value.toPrecision(precision)))));
  if (exponent < -4 || exponent >= precision) return exponential(precision - 1).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(precision)));
}

function readout(value: unknown, format: unknown): string {
  const digits = /\.(\d+)f$/.exec(String(format ?? ""));
  return typeof value === "number" && digits ? value.toFixed(Number(digits[1])) : String(value ?? "");
}

const slider: Render = ({ model, el }) => {
  const input = document.createElement("input");
  input.type = "range";
  const shown = document.createElement("output");
  shown.className = "lw-control-readout";
  const stops = [
    labelled(model, el, input, shown),
    watch(model, ["min", "max", "step", "value", "disabled", "readout", "readout_format"], () => {
      input.min = String(model.get("min"));
      input.max = String(model.get("max"));
      input.step = String(model.get("step") ?? "any");
      input.value = String(model.get("value"));
      input.disabled = !!model.get("disabled");
      shown.hidden = model.get("readout") === false;
      shown.textContent = readout(model.get("value"), model.get("readout_format"));
    }),
    onEdit(model, input, () => send(model, "value", Number(input.value))),
  ];
  return () => stops.forEach((stop) => stop());
};

const numberText: Render = ({ model, el }) => {
  const input = document.createElement("input");
  input.type = "number";
  const stops = [
    labelled(model, el, input),
    watch(model, ["value", "step", "min", "max", "disabled"], () => {
      if (document.activeElement !== input || Number(input.value) !== model.get("value")) {
        input.value = String(model.get("value"));
      }
      input.step = String(model.get("step") ?? "any");
      for (const bound of ["min", "max"] as const) {
        const value = model.get(bound);
        if (typeof value === "number") input[bound] = String(value);
        else input.removeAttribute(bound);
      }
      input.disabled = !!model.get("disabled");
    }),
    onEdit(model, input, () => {
      if (input.value !== "" && Number.isFinite(Number(input.value))) send(model, "value", Number(input.value));
    }),
  ];
  return () => stops.forEach((stop) => stop());
};

let lists = 0;

function text(tag: "input" | "textarea", type = "text"): Render {
  return ({ model, el }) => {
    const input = document.createElement(tag);
    const stops: (() => void)[] = [];
    if (input instanceof HTMLInputElement) {
      input.type = type;
      if (type === "password") input.autocomplete = "off";
      if (model.get("options") !== undefined) {
        // a Combobox: its options offered as the browser offers a <datalist>'s
        const list = document.createElement("datalist");
        list.id = `lw-options-${++lists}`;
        input.setAttribute("list", list.id);
        el.append(list);
        stops.push(
          watch(model, ["options"], () => {
            const options = (model.get("options") as unknown[] | undefined) ?? [];
            list.replaceChildren(
              ...options.map((text) => {
                const option = document.createElement("option");
                option.value = String(text);
                return option;
              }),
            );
          }),
        );
      }
    }
    stops.push(
      labelled(model, el, input),
      watch(model, ["value", "placeholder", "disabled", "rows"], () => {
        if (input.value !== model.get("value")) input.value = String(model.get("value") ?? "");
        input.placeholder = String(model.get("placeholder") ?? "");
        input.disabled = !!model.get("disabled");
        if (input instanceof HTMLTextAreaElement && model.get("rows")) input.rows = Number(model.get("rows"));
      }),
      onEdit(model, input, () => send(model, "value", input.value)),
    );
    return () => stops.forEach((stop) => stop());
  };
}

const checkbox: Render = ({ model, el }) => {
  const input = document.createElement("input");
  input.type = "checkbox";
  const change = () => send(model, "value", input.checked);
  input.addEventListener("change", change);
  const stops = [
    labelled(model, el, input),
    watch(model, ["value", "disabled"], () => {
      input.checked = !!model.get("value");
      input.disabled = !!model.get("disabled");
    }),
  ];
  return () => {
    input.removeEventListener("change", change);
    stops.forEach((stop) => stop());
  };
};

function button(toggle: boolean): Render {
  return ({ model, el }) => {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "lw-control-button";
    el.append(element);
    const click = () => (toggle ? send(model, "value", !model.get("value")) : model.send({ event: "click" }));
    element.addEventListener("click", click);
    const stop = watch(model, ["description", "disabled", "value"], () => {
      element.textContent = String(model.get("description") ?? "");
      element.disabled = !!model.get("disabled");
      if (toggle) element.setAttribute("aria-pressed", String(!!model.get("value")));
    });
    return () => {
      element.removeEventListener("click", click);
      stop();
    };
  };
}

/** A `<select>`: a `Dropdown`; with `rows`, a `Select`'s list; `multiple`, a `SelectMultiple`
 * (whose `index` is the tuple of the chosen options). */
function selection(list: boolean, multiple = false): Render {
  return ({ model, el }) => {
    const select = document.createElement("select");
    select.multiple = multiple;
    const change = () => {
      if (multiple) {
        send(model, "index", Array.from(select.options).flatMap((option, i) => (option.selected ? [i] : [])));
      } else {
        send(model, "index", select.selectedIndex < 0 ? null : select.selectedIndex);
      }
    };
    select.addEventListener("change", change);
    const stops = [
      labelled(model, el, select),
      watch(model, ["_options_labels", "index", "disabled", "rows"], () => {
        const labels = (model.get("_options_labels") as unknown[] | undefined) ?? [];
        if (select.options.length !== labels.length || labels.some((l, i) => select.options[i]?.text !== String(l))) {
          select.replaceChildren(
            ...labels.map((l) => {
              const option = document.createElement("option");
              option.textContent = String(l);
              return option;
            }),
          );
        }
        const index = model.get("index");
        if (multiple) {
          const chosen = new Set(Array.isArray(index) ? index : []);
          Array.from(select.options).forEach((option, i) => (option.selected = chosen.has(i)));
        } else {
          select.selectedIndex = typeof index === "number" ? index : -1;
        }
        if (list) select.size = Math.max(2, Number(model.get("rows") ?? 5));
        select.disabled = !!model.get("disabled");
      }),
    ];
    return () => {
      select.removeEventListener("change", change);
      stops.forEach((stop) => stop());
    };
  };
}

/** A `ToggleButtons`: a button per option, the chosen one pressed. */
const toggleButtons: Render = ({ model, el }) => {
  const group = document.createElement("span");
  group.className = "lw-control-toggles";
  group.setAttribute("role", "group");
  const click = (event: Event) => {
    const button = (event.target as Element).closest("button");
    const index = button ? Array.from(group.children).indexOf(button) : -1;
    if (index >= 0 && !model.get("disabled")) send(model, "index", index);
  };
  group.addEventListener("click", click);
  const stops = [
    labelled(model, el, group, undefined, true),
    watch(model, ["_options_labels", "index", "disabled", "tooltips"], () => {
      const labels = (model.get("_options_labels") as unknown[] | undefined) ?? [];
      const tips = (model.get("tooltips") as unknown[] | undefined) ?? [];
      group.replaceChildren(
        ...labels.map((l, i) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "lw-control-button";
          button.textContent = String(l);
          if (tips[i]) button.title = String(tips[i]);
          button.disabled = !!model.get("disabled");
          button.setAttribute("aria-pressed", String(model.get("index") === i));
          return button;
        }),
      );
    }),
  ];
  return () => {
    group.removeEventListener("click", click);
    stops.forEach((stop) => stop());
  };
};

/** A `SelectionSlider`: a slider over the options' positions, the option's label its readout. */
const selectionSlider: Render = ({ model, el }) => {
  const input = document.createElement("input");
  input.type = "range";
  input.min = "0";
  input.step = "1";
  const shown = document.createElement("output");
  shown.className = "lw-control-readout";
  const stops = [
    labelled(model, el, input, shown),
    watch(model, ["_options_labels", "index", "disabled", "readout"], () => {
      const labels = (model.get("_options_labels") as unknown[] | undefined) ?? [];
      input.max = String(Math.max(labels.length - 1, 0));
      input.value = String(model.get("index") ?? 0);
      input.disabled = !!model.get("disabled");
      shown.hidden = model.get("readout") === false;
      shown.textContent = String(labels[Number(model.get("index"))] ?? "");
    }),
    onEdit(model, input, () => send(model, "index", Number(input.value))),
  ];
  return () => stops.forEach((stop) => stop());
};

/** An `IntRangeSlider` or a `FloatRangeSlider`: two sliders, its `value` the pair (low, high). */
const rangeSlider: Render = ({ model, el }) => {
  const pair = document.createElement("span");
  pair.className = "lw-control-range";
  const low = document.createElement("input");
  const high = document.createElement("input");
  for (const input of [low, high]) {
    input.type = "range";
    pair.append(input);
  }
  const shown = document.createElement("output");
  shown.className = "lw-control-readout";
  const stops = [
    labelled(model, el, pair, shown, true),
    watch(model, ["min", "max", "step", "value", "disabled", "readout", "readout_format"], () => {
      const [a, b] = (model.get("value") as number[] | undefined) ?? [0, 0];
      for (const input of [low, high]) {
        input.min = String(model.get("min"));
        input.max = String(model.get("max"));
        input.step = String(model.get("step") ?? "any");
        input.disabled = !!model.get("disabled");
      }
      low.value = String(a);
      high.value = String(b);
      shown.hidden = model.get("readout") === false;
      const format = model.get("readout_format");
      shown.textContent = `${readout(a, format)} – ${readout(b, format)}`;
    }),
    ...[low, high].map((input) =>
      onEdit(model, input, () => {
        // The thumbs may cross and the pair goes ordered. Stopping one at the other would
        // trap two thumbs that met: a pointer grabs only the upper input, which may then move
        // one way only.
        const a = Number(low.value);
        const b = Number(high.value);
        send(model, "value", [Math.min(a, b), Math.max(a, b)]);
      }),
    ),
  ];
  return () => stops.forEach((stop) => stop());
};

/** A CSS colour (a name, `#rgb`) as `#rrggbb`, which `<input type="color">` takes; "" if none. */
function hexColor(value: unknown): string {
  const text = String(value ?? "").trim();
  if (/^#[0-9a-f]{6}$/i.test(text)) return text.toLowerCase();
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(text);
  if (short) return `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}`.toLowerCase();
  // a name ("blue"): the canvas turns any colour it knows into #rrggbb
  const context = document.createElement("canvas").getContext?.("2d");
  if (!context || !text) return "";
  context.fillStyle = "#000001";
  context.fillStyle = text;
  const found = String(context.fillStyle);
  return found === "#000001" || !/^#[0-9a-f]{6}$/i.test(found) ? "" : found;
}

/** A `ColorPicker`: the browser's colour input, and its value as text unless `concise`. */
const colorPicker: Render = ({ model, el }) => {
  const input = document.createElement("input");
  input.type = "color";
  const shown = document.createElement("output");
  shown.className = "lw-control-readout";
  const change = () => send(model, "value", input.value);
  input.addEventListener("input", change);
  const stops = [
    labelled(model, el, input, shown),
    watch(model, ["value", "concise", "disabled"], () => {
      input.value = hexColor(model.get("value")) || "#000000";
      shown.textContent = String(model.get("value") ?? "");
      shown.hidden = !!model.get("concise");
      input.disabled = !!model.get("disabled");
    }),
  ];
  return () => {
    input.removeEventListener("input", change);
    stops.forEach((stop) => stop());
  };
};

/** A `DatePicker`: its `value` as ipywidgets serializes a date, `{year, month (0-11), date}`. */
const datePicker: Render = ({ model, el }) => {
  const input = document.createElement("input");
  input.type = "date";
  const iso = (value: unknown): string => {
    const d = value as { year?: number; month?: number; date?: number } | null;
    if (!d || typeof d.year !== "number" || typeof d.month !== "number" || typeof d.date !== "number") return "";
    const pad = (n: number, width = 2) => String(n).padStart(width, "0");
    return `${pad(d.year, 4)}-${pad(d.month + 1)}-${pad(d.date)}`;
  };
  const change = () => {
    const match = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(input.value);
    send(model, "value", match ? { year: Number(match[1]), month: Number(match[2]) - 1, date: Number(match[3]) } : null);
  };
  input.addEventListener("change", change);
  const stops = [
    labelled(model, el, input),
    watch(model, ["value", "min", "max", "disabled"], () => {
      input.value = iso(model.get("value"));
      input.min = iso(model.get("min"));
      input.max = iso(model.get("max"));
      input.disabled = !!model.get("disabled");
    }),
  ];
  return () => {
    input.removeEventListener("change", change);
    stops.forEach((stop) => stop());
  };
};

let radios = 0;

const radioButtons: Render = ({ model, el }) => {
  const group = document.createElement("span");
  group.className = "lw-control-radios";
  group.setAttribute("role", "radiogroup");
  const name = `lw-radios-${++radios}`;
  const change = (event: Event) => {
    const index = Array.from(group.querySelectorAll("input")).indexOf(event.target as HTMLInputElement);
    if (index >= 0) send(model, "index", index);
  };
  group.addEventListener("change", change);
  const stops = [
    labelled(model, el, group, undefined, true),
    watch(model, ["_options_labels", "index", "disabled"], () => {
      const labels = (model.get("_options_labels") as unknown[] | undefined) ?? [];
      group.replaceChildren(
        ...labels.map((l, i) => {
          const option = document.createElement("label");
          const input = document.createElement("input");
          input.type = "radio";
          input.name = name;
          input.checked = model.get("index") === i;
          input.disabled = !!model.get("disabled");
          option.append(input, String(l));
          return option;
        }),
      );
    }),
  ];
  return () => {
    group.removeEventListener("change", change);
    stops.forEach((stop) => stop());
  };
};

const label: Render = ({ model, el }) => {
  const span = document.createElement("span");
  span.className = "lw-control-value";
  const stops = [labelled(model, el, span), watch(model, ["value"], () => (span.textContent = String(model.get("value") ?? "")))];
  return () => stops.forEach((stop) => stop());
};

const progress: Render = ({ model, el }) => {
  const bar = document.createElement("progress");
  bar.className = "lw-control-progress";
  const stops = [
    labelled(model, el, bar),
    watch(model, ["min", "max", "value", "bar_style"], () => {
      const min = Number(model.get("min") ?? 0);
      const span = Number(model.get("max") ?? 100) - min;
      bar.max = span > 0 ? span : 1;
      bar.value = Math.min(Math.max(Number(model.get("value") ?? 0) - min, 0), bar.max);
      bar.dataset.barStyle = String(model.get("bar_style") ?? "");
    }),
  ];
  return () => stops.forEach((stop) => stop());
};

/** A `FloatLogSlider`: the range input moves the exponent (`min` and `max` are exponents of
 * `base`), the value is `base ** exponent`, as ipywidgets' own log slider. */
const logSlider: Render = ({ model, el }) => {
  const input = document.createElement("input");
  input.type = "range";
  const shown = document.createElement("output");
  shown.className = "lw-control-readout";
  const base = () => Number(model.get("base") ?? 10);
  const stops = [
    labelled(model, el, input, shown),
    watch(model, ["min", "max", "step", "value", "base", "disabled", "readout", "readout_format"], () => {
      input.min = String(model.get("min"));
      input.max = String(model.get("max"));
      input.step = String(model.get("step") ?? "any");
      const value = Number(model.get("value"));
      input.value = String(Math.log(value) / Math.log(base()));
      input.disabled = !!model.get("disabled");
      shown.hidden = model.get("readout") === false;
      shown.textContent = formatNumber(value, model.get("readout_format") ?? ".3g");
    }),
    onEdit(model, input, () => send(model, "value", base() ** Number(input.value))),
  ];
  return () => stops.forEach((stop) => stop());
};

/** An `HTML` (or `HTMLMath`) widget: its value as HTML (see the top of this file), or its
 * placeholder as text while the value is empty. */
const html: Render = ({ model, el }) => {
  const content = document.createElement("div");
  content.className = "lw-control-html";
  const stops = [
    // a <div role="group">: a <label> would pass a click anywhere in it to an input inside
    labelled(model, el, content, undefined, true),
    watch(model, ["value", "placeholder"], () => {
      const value = String(model.get("value") ?? "");
      if (value !== "") content.innerHTML = value;
      else content.textContent = String(model.get("placeholder") ?? "");
    }),
  ];
  return () => stops.forEach((stop) => stop());
};

/** An image's URL when `format` is `"url"`: the web's, a data image, or one of this site's. */
const IMAGE_URL = /^(?:https?:|data:image\/|blob:|[^:]*$)/i;
const IMAGE_FORMAT = /^[a-z0-9.+-]{1,40}$/i;

/** Bytes as base64, a chunk at a time (a spread of a large array would overflow the stack). */
function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** An `Image`: its bytes shown from a blob URL of type `image/<format>`, or, with
 * `format="url"`, the URL its bytes spell. An SVG runs no script in an `<img>`; it goes as a
 * `data:` URL, not a blob, whose origin would be this page's if a user opened it in a tab. */
const image: Render = ({ model, el }) => {
  const img = document.createElement("img");
  img.className = "lw-control-image";
  img.alt = "";
  el.append(img);
  let blob: string | null = null;
  const stops = [
    watch(model, ["value", "format"], () => {
      if (blob !== null) URL.revokeObjectURL(blob);
      blob = null;
      const value = model.get("value");
      const bytes = ArrayBuffer.isView(value)
        ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
        : new TextEncoder().encode(typeof value === "string" ? value : "");
      const format = String(model.get("format") ?? "png");
      if (format === "url") {
        const url = new TextDecoder().decode(bytes).trim();
        if (IMAGE_URL.test(url)) img.src = url;
        else img.removeAttribute("src");
      } else if (!IMAGE_FORMAT.test(format) || bytes.byteLength === 0) {
        img.removeAttribute("src");
      } else if (/svg/i.test(format)) {
        img.src = `data:image/${format};base64,${base64(bytes)}`;
      } else {
        blob = URL.createObjectURL(new Blob([bytes.slice()], { type: `image/${format}` }));
        img.src = blob;
      }
    }),
    watch(model, ["width", "height"], () => {
      for (const side of ["width", "height"] as const) {
        const size = String(model.get(side) ?? "");
        if (size !== "") img.setAttribute(side, size);
        else img.removeAttribute(side);
      }
    }),
  ];
  return () => {
    stops.forEach((stop) => stop());
    if (blob !== null) URL.revokeObjectURL(blob);
  };
};

/** A `Valid`: a check mark, or a cross and its `readout` ("Invalid"). */
const valid: Render = ({ model, el }) => {
  const mark = document.createElement("span");
  mark.className = "lw-control-valid";
  mark.setAttribute("role", "status");
  const stops = [
    labelled(model, el, mark),
    watch(model, ["value", "readout"], () => {
      const ok = !!model.get("value");
      mark.dataset.valid = String(ok);
      mark.textContent = ok ? "\u2714" : `\u2718 ${String(model.get("readout") ?? "")}`;
    }),
  ];
  return () => stops.forEach((stop) => stop());
};

/**
 * A `Play`'s animation, one per model however many views show it (as Jupyter runs it in the
 * model): while `playing`, every `interval` ms `value` goes up a `step`, back to `min` past
 * `max` when `repeat` is on, else it stops there. Each step is sent as Jupyter's front end sends
 * it, and so is `playing`; Python may start and stop it too.
 */
class Animation {
  private timer: ReturnType<typeof setTimeout> | undefined;
  views = 0;

  constructor(private readonly model: AnyModel) {
    model.on("change:playing", this.follow);
    model.on("destroy", this.halt);
  }

  private readonly follow = () => {
    if (this.model.get("playing")) this.start();
    else this.halt();
  };

  private number(key: string, fallback: number): number {
    const value = Number(this.model.get(key));
    return Number.isFinite(value) ? value : fallback;
  }

  private schedule(): void {
    // at most a step a frame, and no longer than setTimeout can wait (past that it fires at once)
    this.timer = setTimeout(this.step, Math.min(Math.max(this.number("interval", 100), 16), 2 ** 31 - 1));
  }

  private readonly step = () => {
    this.timer = undefined;
    if (!this.model.get("playing")) return;
    const by = this.number("step", 1);
    if (by <= 0) {
      // it would never reach max: each step would be a message to the server, without end
      this.model.set("playing", false);
      this.model.save_changes();
      return;
    }
    const next = this.number("value", 0) + by;
    if (next <= this.number("max", 100)) {
      this.model.set("value", next);
      this.schedule();
    } else if (this.model.get("repeat")) {
      this.model.set("value", this.number("min", 0));
      this.schedule();
    } else {
      this.model.set("playing", false);
    }
    this.model.save_changes();
  };

  start(): void {
    if (this.timer !== undefined) return;
    if (this.number("value", 0) >= this.number("max", 100)) {
      this.model.set("value", this.number("min", 0)); // at the end: start over
      this.model.save_changes();
      this.schedule();
    } else {
      this.step();
    }
  }

  readonly halt = () => {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  };

  dispose(): void {
    this.halt();
    this.model.off("change:playing", this.follow);
    this.model.off("destroy", this.halt);
  }
}

const animations = new WeakMap<AnyModel, Animation>();

const play: Render = ({ model, el }) => {
  let animation = animations.get(model);
  if (animation === undefined) {
    animation = new Animation(model);
    animations.set(model, animation);
    if (model.get("playing")) animation.start();
  }
  animation.views += 1;
  const group = document.createElement("span");
  group.className = "lw-control-play";
  const make = (text: string, name: string, act: () => void) => {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "lw-control-button";
    element.textContent = text;
    element.setAttribute("aria-label", name);
    element.addEventListener("click", act);
    group.append(element);
    return element;
  };
  const playing = (on: boolean) => {
    model.set("playing", on);
    model.save_changes();
  };
  const playButton = make("\u25B6", "play", () => playing(true));
  const pauseButton = make("\u275A\u275A", "pause", () => playing(false));
  const stopButton = make("\u25A0", "stop", () => {
    model.set("playing", false);
    model.set("value", model.get("min"));
    model.save_changes();
  });
  const repeatButton = make("\u21BB", "repeat", () => send(model, "repeat", !model.get("repeat")));
  const stops = [
    labelled(model, el, group, undefined, true),
    watch(model, ["playing", "repeat", "show_repeat", "disabled"], () => {
      const disabled = !!model.get("disabled");
      for (const button of [playButton, pauseButton, stopButton, repeatButton]) button.disabled = disabled;
      playButton.setAttribute("aria-pressed", String(!!model.get("playing")));
      repeatButton.setAttribute("aria-pressed", String(!!model.get("repeat")));
      repeatButton.hidden = model.get("show_repeat") === false;
    }),
  ];
  return () => {
    stops.forEach((stop) => stop());
    if (--animation.views === 0) {
      animation.dispose();
      animations.delete(model);
    }
  };
};

// -- boxes ---------------------------------------------------------------------------------------

const IPY_MODEL = /^IPY_MODEL_([0-9a-f]{8,64})$/;

function noteView(text: string): ChildView {
  const el = document.createElement("div");
  el.className = "lw-widget-note";
  el.setAttribute("role", "note");
  el.textContent = text;
  return { el, remove: () => el.remove() };
}

/**
 * The views of a container's `children`, kept in step with it: `place(views)` is called with
 * them, in order, once all are made, after each change. A child that stays keeps its view (a
 * chart is not drawn again); one that leaves is removed. The returned function removes them all.
 */
function childViews(model: AnyModel, el: HTMLElement, place: (views: ChildView[]) => void): () => void {
  const manager = (model as unknown as { widget_manager?: ChildManager }).widget_manager;
  let current: { id: string; view: ChildView }[] = [];
  let round = 0;
  let stopped = false;
  const make = async (id: string): Promise<ChildView> => {
    const match = IPY_MODEL.exec(id);
    if (!match || !manager?.create_view) return noteView(`not a widget: ${id.slice(0, 80)}`);
    // (a box inside itself, made in Python, would draw without end; the server bounds the depth)
    if (el.closest(`[data-lw-model="${match[1]}"]`)) return noteView("a box cannot hold itself");
    try {
      return await manager.create_view(await manager.get_model(match[1]));
    } catch (err) {
      return noteView(`a widget in this box did not come: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const update = async () => {
    const mine = ++round;
    const ids = ((model.get("children") as unknown[] | undefined) ?? []).map(String);
    const spare = current.slice();
    const next = await Promise.all(
      ids.map(async (id) => {
        const at = spare.findIndex((entry) => entry.id === id);
        if (at >= 0) return spare.splice(at, 1)[0];
        return { id, view: await make(id) };
      }),
    );
    if (stopped || mine !== round) {
      // (a newer change, or the box removed, while these were made: only the new ones go)
      for (const entry of next) if (!current.includes(entry)) entry.view.remove();
      return;
    }
    for (const entry of current) if (!next.includes(entry)) entry.view.remove();
    current = next;
    place(current.map((entry) => entry.view));
  };
  const stop = watch(model, ["children"], () => void update());
  return () => {
    stopped = true;
    stop();
    for (const entry of current) entry.view.remove();
    current = [];
  };
}

function box(kind: string): Render {
  return ({ model, el }) => {
    el.classList.add("lw-box", `lw-${kind}`);
    const stops = [
      childViews(model, el, (views) => el.replaceChildren(...views.map((view) => view.el))),
      watch(model, ["box_style"], () => (el.dataset.boxStyle = String(model.get("box_style") ?? ""))),
    ];
    return () => stops.forEach((stop) => stop());
  };
}

/** A `Stack`: its children, only the one at `selected_index` shown (Python, or a `jslink` in
 * Jupyter, picks it; the page sets nothing). Each child keeps its view while hidden. */
const stack: Render = ({ model, el }) => {
  el.classList.add("lw-stack");
  let pages: HTMLElement[] = [];
  const show = () => {
    const selected = model.get("selected_index");
    pages.forEach((page, i) => (page.hidden = selected !== i));
  };
  const stops = [
    childViews(model, el, (made) => {
      // each in a page of its own: a control's element sets its own display, which `hidden`
      // on it would not override
      pages = made.map((view) => {
        const page = document.createElement("div");
        page.className = "lw-stack-page";
        page.append(view.el);
        return page;
      });
      el.replaceChildren(...pages);
      show();
    }),
    watch(model, ["selected_index"], show),
  ];
  return () => stops.forEach((stop) => stop());
};

function title(model: AnyModel, i: number): string {
  const titles = model.get("titles") as unknown[] | undefined;
  const text = titles?.[i];
  return text === null || text === undefined || text === "" ? `${i + 1}` : String(text);
}

interface Part {
  header: HTMLButtonElement;
  body: HTMLElement;
  section?: HTMLElement;
}

/**
 * A `Tab`'s or an `Accordion`'s parts, one per child: `make()` a title button and a body, the
 * child's view goes in the body, `lay(parts)` puts them on the page. The selected child's body
 * shows (`selected_index`); a click on a title sends `pick(i, selected)` as the new one.
 */
function sections(
  model: AnyModel,
  el: HTMLElement,
  make: () => Part,
  lay: (parts: Part[]) => void,
  pick: (i: number, selected: unknown) => unknown,
  selectedAttr: string,
): () => void {
  let parts: Part[] = [];
  const draw = () => {
    const selected = model.get("selected_index");
    parts.forEach(({ header, body }, i) => {
      header.textContent = title(model, i);
      header.setAttribute(selectedAttr, String(selected === i));
      body.hidden = selected !== i;
    });
  };
  const stops = [
    childViews(model, el, (views) => {
      parts = views.map((view, i) => {
        const part = make();
        part.header.type = "button";
        part.header.addEventListener("click", () => send(model, "selected_index", pick(i, model.get("selected_index"))));
        part.body.append(view.el);
        return part;
      });
      lay(parts);
      draw();
    }),
    watch(model, ["titles", "selected_index"], draw),
  ];
  return () => stops.forEach((stop) => stop());
}

const tab: Render = ({ model, el }) => {
  el.classList.add("lw-tab");
  const bar = document.createElement("div");
  bar.className = "lw-tab-bar";
  bar.setAttribute("role", "tablist");
  const panels = document.createElement("div");
  panels.className = "lw-tab-panels";
  el.append(bar, panels);
  return sections(
    model,
    el,
    () => {
      const header = document.createElement("button");
      header.setAttribute("role", "tab");
      const body = document.createElement("div");
      body.setAttribute("role", "tabpanel");
      return { header, body };
    },
    (parts) => {
      bar.replaceChildren(...parts.map((part) => part.header));
      panels.replaceChildren(...parts.map((part) => part.body));
    },
    (i) => i,
    "aria-selected",
  );
};

const accordion: Render = ({ model, el }) => {
  el.classList.add("lw-accordion");
  return sections(
    model,
    el,
    () => {
      const section = document.createElement("section");
      const header = document.createElement("button");
      header.className = "lw-accordion-title";
      const body = document.createElement("div");
      body.className = "lw-accordion-body";
      section.append(header, body);
      return { header, body, section };
    },
    (parts) => el.replaceChildren(...parts.map((part) => part.section as HTMLElement)),
    (i, selected) => (selected === i ? null : i),
    "aria-expanded",
  );
};

/** The controls drawn here, by ipywidgets' model name (serve/widgets.py lists the same). */
export const CONTROLS: Readonly<Record<string, Render>> = {
  IntSliderModel: slider,
  FloatSliderModel: slider,
  IntTextModel: numberText,
  FloatTextModel: numberText,
  TextModel: text("input"),
  TextareaModel: text("textarea"),
  CheckboxModel: checkbox,
  ToggleButtonModel: button(true),
  ButtonModel: button(false),
  BoundedIntTextModel: numberText,
  BoundedFloatTextModel: numberText,
  PasswordModel: text("input", "password"),
  ComboboxModel: text("input"),
  DropdownModel: selection(false),
  SelectModel: selection(true),
  SelectMultipleModel: selection(true, true),
  ToggleButtonsModel: toggleButtons,
  SelectionSliderModel: selectionSlider,
  IntRangeSliderModel: rangeSlider,
  FloatRangeSliderModel: rangeSlider,
  DatePickerModel: datePicker,
  ColorPickerModel: colorPicker,
  RadioButtonsModel: radioButtons,
  LabelModel: label,
  HTMLModel: html,
  HTMLMathModel: html,
  ImageModel: image,
  ValidModel: valid,
  PlayModel: play,
  FloatLogSliderModel: logSlider,
  IntProgressModel: progress,
  FloatProgressModel: progress,
  BoxModel: box("box"),
  HBoxModel: box("hbox"),
  VBoxModel: box("vbox"),
  GridBoxModel: box("gridbox"),
  TabModel: tab,
  AccordionModel: accordion,
  StackModel: stack,
};

/** The boxes among them: they lay out other widgets' views rather than draw a control. */
export function isContainer(name: string): boolean {
  return /^(Box|HBox|VBox|GridBox|Tab|Accordion|Stack)Model$/.test(name);
}

/** Widgets drawn as part of the one that holds them (a `layout`, a `style`): opened, never placed. */
export function attachedModel(name: string): boolean {
  return name === "LayoutModel" || /^[A-Za-z]*StyleModel$/.test(name);
}

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
 * The description is always text (`description_allow_html` is not honoured: a served page
 * shows no HTML a page could have set). Layout and style traits are not drawn; boxes
 * (`HBox`, `VBox`) and the other controls show a note.
 */
import type { AnyModel } from "@anywidget/types";

type Render = (props: { model: AnyModel; el: HTMLElement }) => () => void;

/** Call `apply` now and whenever one of `keys` changes; the returned function stops it. */
function watch(model: AnyModel, keys: string[], apply: () => void): () => void {
  apply();
  for (const key of keys) model.on(`change:${key}`, apply);
  return () => {
    for (const key of keys) model.off(`change:${key}`, apply);
  };
}

/** The control in a `<label>` with the widget's description before it. */
function labelled(model: AnyModel, el: HTMLElement, control: HTMLElement, after?: HTMLElement): () => void {
  const label = document.createElement("label");
  label.className = "lw-control";
  const description = document.createElement("span");
  description.className = "lw-control-description";
  label.append(description, control);
  if (after) label.append(after);
  el.append(label);
  return watch(model, ["description"], () => {
    const text = String(model.get("description") ?? "");
    description.textContent = text;
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
    watch(model, ["value", "step", "disabled"], () => {
      if (document.activeElement !== input || Number(input.value) !== model.get("value")) {
        input.value = String(model.get("value"));
      }
      input.step = String(model.get("step") ?? "any");
      input.disabled = !!model.get("disabled");
    }),
    onEdit(model, input, () => {
      if (input.value !== "" && Number.isFinite(Number(input.value))) send(model, "value", Number(input.value));
    }),
  ];
  return () => stops.forEach((stop) => stop());
};

function text(tag: "input" | "textarea"): Render {
  return ({ model, el }) => {
    const input = document.createElement(tag);
    if (input instanceof HTMLInputElement) input.type = "text";
    const stops = [
      labelled(model, el, input),
      watch(model, ["value", "placeholder", "disabled", "rows"], () => {
        if (input.value !== model.get("value")) input.value = String(model.get("value") ?? "");
        input.placeholder = String(model.get("placeholder") ?? "");
        input.disabled = !!model.get("disabled");
        if (input instanceof HTMLTextAreaElement && model.get("rows")) input.rows = Number(model.get("rows"));
      }),
      onEdit(model, input, () => send(model, "value", input.value)),
    ];
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

const dropdown: Render = ({ model, el }) => {
  const select = document.createElement("select");
  const change = () => send(model, "index", select.selectedIndex < 0 ? null : select.selectedIndex);
  select.addEventListener("change", change);
  const stops = [
    labelled(model, el, select),
    watch(model, ["_options_labels", "index", "disabled"], () => {
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
      select.selectedIndex = typeof index === "number" ? index : -1;
      select.disabled = !!model.get("disabled");
    }),
  ];
  return () => {
    select.removeEventListener("change", change);
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
    labelled(model, el, group),
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
  const stops = [labelled(model, el, span), watch(model, ["value"], () => (span.textContent = String(model.get("value") ?? "")))];
  return () => stops.forEach((stop) => stop());
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
  DropdownModel: dropdown,
  RadioButtonsModel: radioButtons,
  LabelModel: label,
};

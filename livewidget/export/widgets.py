"""Jupyter widgets in an exported page: each drawn from its saved state, with no kernel.

A view that shows a widget in a field saves, in ``_html``, only an empty placeholder
(``livewidget/children.py``)::

    <span class="lw-child" data-lw-widget="3f2a...c9" id="lw-child-3f2a...c9"
          phx-update="ignore"></span>

and lists the widget in its ``_children`` trait, so the notebook's saved widget state holds the
widget's model beside the view's. ``Widgets`` fills each placeholder from that state:

* another livewidget view: its own frame and last HTML (``_html``), its placeholders filled in
  turn, its recording replayed like a view shown on its own;
* the standard ipywidgets controls (sliders, dropdowns, text boxes, check boxes, buttons,
  labels, HTML, progress bars, colour and date pickers, players, ``Valid``): a static
  look-alike, disabled, with the saved value, its description and its readout, drawn with
  livewidget's own CSS (``js/src/export.css``); an ``Image`` as the image its saved bytes are
  (a ``data:`` URL of its format);
* the containers (``HBox``, ``VBox``, ``Box``, ``GridBox``, ``Tab``, ``Accordion``, ``Stack``):
  their children laid out in a row or a column, the panes of a tab or an accordion one under
  the other with their titles;
* a plotly ``FigureWidget`` (anywidget-based from plotly 6): a ``<div>`` that the page's
  ``livewidgetChildren.drawFigures`` draws with ``Plotly.newPlot`` from the saved figure
  (``_widget_data``, ``_widget_layout``, ``_config``), using the ``plotly.min.js`` that the
  plotly Python package ships, inlined once per page (about 4.8 MB; the page still fetches
  nothing). The widget's saved ``_esm`` is not run: the figure is data;
* anything else: a box naming the widget's class.

The same drawing serves a widget output that is not a livewidget view (a slider, a ``VBox``
holding views): the output shows the widget instead of its text.

Nothing in the state is trusted to be well formed: a missing or odd value falls back to the
control's default, text is escaped (an ``HTML`` widget's value and a description with
``description_allow_html`` are HTML, as a trusted notebook shows them), a widget shown inside
itself is drawn once, and nesting stops at ``MAX_DEPTH``.
"""

from __future__ import annotations

import html as html_lib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import wire

__all__ = ["FIGURES_ID", "FIGURE_ATTR", "MAX_DEPTH", "Widgets", "figures_json"]

#: A placeholder as children.py renders it; the model id is group 2.
_PLACEHOLDER = re.compile(
    rf'(<span class="lw-child" {re.escape(wire.CHILD_ATTR)}="([0-9a-f]{{8,64}})"[^>]*>)(</span>)'
)
_REFERENCE = re.compile(r"IPY_MODEL_([0-9a-f]{8,64})")
FIGURE_ATTR = wire.FIGURE_ATTR
FIGURES_ID = wire.FIGURES_ID
#: Widgets inside widgets deeper than this are shown as a box naming them.
MAX_DEPTH = 32

_PLOTLY_FIGURE = "plotly.graph_objs._figurewidget.FigureWidget"
_CONTAINERS = {
    "BoxModel": "column",
    "VBoxModel": "column",
    "HBoxModel": "row",
    "GridBoxModel": "grid",
    "TabModel": "panes",
    "AccordionModel": "panes",
    "StackModel": "stack",
}


def _esc(value: Any) -> str:
    return html_lib.escape(str(value), quote=True)


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    try:
        number = float(value)  # (an int of 400 digits does not fit)
    except OverflowError:
        return default
    return number if math.isfinite(number) else default


# A readout's format as ipywidgets' are written (".2f", "d", ".3g", ",.1%"): short, and no
# width or precision of four digits or more (a saved "300000000" would make a 300 MB string).
_READOUT_SPEC = re.compile(r"(?!.*\d{4})[^{}]{1,12}")


def _readout(value: float, spec: Any, integer: bool) -> str:
    if integer:
        value = int(value)
    default = "d" if integer else ".2f"
    try:
        ok = isinstance(spec, str) and _READOUT_SPEC.fullmatch(spec)
        return format(value, spec if ok else default)
    except (ValueError, TypeError):
        return str(value)


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


@dataclass
class Widgets:
    """Draws saved widget models as static HTML; see the module docstring.

    ``models`` is the notebook's saved widget state (model id -> ``{"model_name", "state",
    ...}``). ``view`` draws a livewidget view from its id and saved HTML (with its placeholders
    already filled) and registers its recording; page.py passes it in. After drawing,
    ``figures`` holds the plotly figures to draw (model id -> figure dict) and ``used`` says
    whether any widget was drawn (so the page needs the widgets' CSS).
    """

    models: dict[str, dict[str, Any]]
    view: Callable[[str, str], str]
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    used: bool = False

    def fill(self, html: str, path: tuple[str, ...] = ()) -> str:
        """``html`` (a view's) with each widget placeholder holding that widget."""
        if "lw-child" not in html:
            return html

        def place(match: re.Match[str]) -> str:
            inner = self.draw(match.group(2), path)
            return match.group(1) + inner + match.group(3)

        return _PLACEHOLDER.sub(place, html)

    def draw(self, model_id: str, path: tuple[str, ...] = ()) -> str:
        """The HTML of the widget ``model_id`` (a box naming it when it cannot be drawn)."""
        model = self.models.get(model_id)
        state = model.get("state") if model else None
        if not isinstance(state, dict):
            return self._box("a widget whose state was not saved with the notebook")
        assert model is not None
        name = model.get("model_name")
        name = name if isinstance(name, str) else ""
        if model_id in path:
            return self._box(f"{_label(name, state)}, shown inside itself")
        if len(path) >= MAX_DEPTH:
            return self._box(f"{_label(name, state)}, nested more than {MAX_DEPTH} deep")
        self.used = True
        inner = (*path, model_id)
        if isinstance(state.get(wire.HTML_TRAIT), str):
            return self.view(model_id, self.fill(state[wire.HTML_TRAIT], inner))
        if state.get("_anywidget_id") == _PLOTLY_FIGURE:
            return self._figure(model_id, state)
        if name in _CONTAINERS:
            return self._container(_CONTAINERS[name], state, inner)
        if name == "ImageModel":
            return f'<div class="lw-x lw-x-image">{_image(model, state)}</div>'
        control = _CONTROLS.get(name)
        if control is not None:
            return f'<div class="lw-x lw-x-{control[0]}">{control[1](state)}</div>'
        return self._box(_label(name, state))

    def _box(self, what: str) -> str:
        self.used = True
        return f'<div class="lw-x lw-x-other">Widget: {_esc(what)}</div>'

    def _container(self, kind: str, state: dict[str, Any], path: tuple[str, ...]) -> str:
        children = state.get("children")
        ids = [
            m.group(1)
            for c in (children if isinstance(children, list) else [])
            if isinstance(c, str) and (m := _REFERENCE.fullmatch(c))
        ]
        drawn = [self.draw(child, path) for child in ids]
        if kind == "panes" or kind == "stack":
            titles = state.get("titles")
            titles = titles if isinstance(titles, list) else []
            selected = state.get("selected_index")
            panes = []
            for i, child in enumerate(drawn):
                if kind == "stack" and selected != i:
                    continue
                title = titles[i] if i < len(titles) and isinstance(titles[i], str) else ""
                mark = " lw-x-selected" if selected == i else ""
                heading = f'<div class="lw-x-title{mark}">{_esc(title or f"Tab {i + 1}")}</div>'
                panes.append(
                    f'<div class="lw-x-pane">{heading if kind == "panes" else ""}{child}</div>'
                )
            return f'<div class="lw-x-box lw-x-panes">{"".join(panes)}</div>'
        return f'<div class="lw-x-box lw-x-{kind}">{"".join(drawn)}</div>'

    def _figure(self, model_id: str, state: dict[str, Any]) -> str:
        data, layout, config = (state.get(k) for k in ("_widget_data", "_widget_layout", "_config"))
        if not isinstance(data, list) or not isinstance(layout, dict):
            return self._box("plotly FigureWidget without its saved figure")
        self.figures[model_id] = {
            "data": data,
            "layout": layout,
            "config": config if isinstance(config, dict) else {},
        }
        title = layout.get("title")
        text = title.get("text") if isinstance(title, dict) else None
        what = f"Chart: {text}" if isinstance(text, str) and text else "Chart"
        return (
            f'<div class="lw-x-figure" {FIGURE_ATTR}="{_esc(model_id)}">'
            f'<div class="lw-x lw-x-other">{_esc(what)} (plotly; drawn when scripts run)</div>'
            "</div>"
        )


def _label(name: str, state: dict[str, Any]) -> str:
    anywidget = state.get("_anywidget_id")
    if isinstance(anywidget, str) and anywidget:
        return anywidget.rsplit(".", 1)[-1]
    return name.removesuffix("Model") or "unknown"


# -- the controls --------------------------------------------------------------------------


def _description(state: dict[str, Any]) -> str:
    text = state.get("description")
    if not isinstance(text, str) or not text:
        return ""
    inner = text if state.get("description_allow_html") is True else _esc(text)
    return f'<span class="lw-x-desc">{inner}</span>'


def _slider(integer: bool) -> Callable[[dict[str, Any]], str]:
    def draw(state: dict[str, Any]) -> str:
        low, high = _number(state.get("min"), 0), _number(state.get("max"), 100)
        step = _number(state.get("step"), 1 if integer else 0.1)
        value = _number(state.get("value"), low)
        vertical = state.get("orientation") == "vertical"
        readout = ""
        if state.get("readout", True) is not False:
            shown = _readout(value, state.get("readout_format"), integer)
            readout = f'<output class="lw-x-readout">{_esc(shown)}</output>'
        return (
            f'{_description(state)}<input type="range" disabled min="{_plain(low)}" '
            f'max="{_plain(high)}" step="{_plain(step)}" value="{_plain(value)}"'
            f"{' orient=vertical' if vertical else ''}>{readout}"
        )

    return draw


def _range_slider(integer: bool) -> Callable[[dict[str, Any]], str]:
    def draw(state: dict[str, Any]) -> str:
        value = state.get("value")
        pair = value if isinstance(value, list) and len(value) == 2 else [0, 0]
        spec = state.get("readout_format")
        shown = " to ".join(_readout(_number(v, 0), spec, integer) for v in pair)
        return f'{_description(state)}<output class="lw-x-readout">{_esc(shown)}</output>'

    return draw


def _progress(state: dict[str, Any]) -> str:
    low, high = _number(state.get("min"), 0), _number(state.get("max"), 100)
    value = _number(state.get("value"), low)
    return (
        f'{_description(state)}<progress max="{_plain(high - low)}" '
        f'value="{_plain(max(0.0, value - low))}"></progress>'
    )


def _choice(state: dict[str, Any]) -> str:
    labels = state.get("_options_labels")
    labels = [str(x) for x in labels] if isinstance(labels, list) else []
    index = state.get("index")
    options = "".join(
        f"<option{' selected' if i == index else ''}>{_esc(label)}</option>"
        for i, label in enumerate(labels)
    )
    return f"{_description(state)}<select disabled>{options}</select>"


def _text(state: dict[str, Any]) -> str:
    value = state.get("value")
    shown = "" if value is None or isinstance(value, (dict, list)) else str(value)
    return f'{_description(state)}<input type="text" disabled value="{_esc(shown)}">'


def _textarea(state: dict[str, Any]) -> str:
    value = state.get("value")
    text = _esc(value if isinstance(value, str) else "")
    return f"{_description(state)}<textarea disabled>{text}</textarea>"


def _checkbox(state: dict[str, Any]) -> str:
    checked = " checked" if state.get("value") is True else ""
    return f'<label><input type="checkbox" disabled{checked}> {_description(state)}</label>'


def _button(state: dict[str, Any]) -> str:
    text = state.get("description")
    pressed = " lw-x-pressed" if state.get("value") is True else ""
    label = _esc(text if isinstance(text, str) else "")
    return f'<button type="button" class="lw-x-button{pressed}" disabled>{label}</button>'


def _label_control(state: dict[str, Any]) -> str:
    value = state.get("value")
    return f"{_description(state)}<span>{_esc(value if isinstance(value, str) else '')}</span>"


def _html_control(state: dict[str, Any]) -> str:
    # An HTML widget's value is HTML, as a trusted notebook's HTML output is (docs/export.md).
    value = state.get("value")
    return f"{_description(state)}<div>{value if isinstance(value, str) else ''}</div>"


def _log_slider(state: dict[str, Any]) -> str:
    # min and max are exponents of base; the thumb sits at the value's exponent
    low, high = _number(state.get("min"), 0), _number(state.get("max"), 4)
    base, value = _number(state.get("base"), 10), _number(state.get("value"), 1)
    at = math.log(value, base) if value > 0 and base > 0 and base != 1 else low
    readout = ""
    if state.get("readout", True) is not False:
        spec = state.get("readout_format")
        shown = _readout(value, spec if isinstance(spec, str) and spec else ".3g", False)
        readout = f'<output class="lw-x-readout">{_esc(shown)}</output>'
    step = _number(state.get("step"), 0.1)
    return (
        f'{_description(state)}<input type="range" disabled min="{_plain(low)}" '
        f'max="{_plain(high)}" step="{_plain(step)}" value="{_plain(at)}">{readout}'
    )


_HEX_COLOR = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def _color(state: dict[str, Any]) -> str:
    value = state.get("value")
    text = value if isinstance(value, str) else ""
    swatch = ""
    if _HEX_COLOR.fullmatch(text):  # a colour input takes #rrggbb only
        full = text if len(text) == 7 else "#" + "".join(c * 2 for c in text[1:])
        swatch = f'<input type="color" disabled value="{full.lower()}">'
    shown = (
        ""
        if state.get("concise") is True
        else f'<output class="lw-x-readout">{_esc(text)}</output>'
    )
    return f"{_description(state)}{swatch}{shown}"


def _date(state: dict[str, Any]) -> str:
    value = state.get("value")
    shown = ""
    if isinstance(value, dict):
        parts = [value.get(k) for k in ("year", "month", "date")]
        numbers = [n for n in parts if type(n) is int]
        if len(numbers) == 3:
            year, month, day = numbers
            if 1 <= year <= 9999 and 0 <= month <= 11 and 1 <= day <= 31:
                shown = f"{year:04d}-{month + 1:02d}-{day:02d}"  # ipywidgets' month from 0
    return f'{_description(state)}<input type="date" disabled value="{_esc(shown)}">'


def _choices(state: dict[str, Any]) -> str:
    labels = state.get("_options_labels")
    labels = [str(x) for x in labels] if isinstance(labels, list) else []
    index = state.get("index")
    chosen = {i for i in index if type(i) is int} if isinstance(index, list) else set()
    options = "".join(
        f"<option{' selected' if i in chosen else ''}>{_esc(label)}</option>"
        for i, label in enumerate(labels)
    )
    return f"{_description(state)}<select multiple disabled>{options}</select>"


def _selection_slider(state: dict[str, Any]) -> str:
    labels = state.get("_options_labels")
    labels = [str(x) for x in labels] if isinstance(labels, list) else []
    index = state.get("index")
    picked = index if isinstance(index, list) else [index]
    shown = " to ".join(labels[i] for i in picked if isinstance(i, int) and 0 <= i < len(labels))
    return f'{_description(state)}<output class="lw-x-readout">{_esc(shown)}</output>'


def _valid(state: dict[str, Any]) -> str:
    if state.get("value") is True:
        return f'{_description(state)}<span class="lw-x-valid">\u2714</span>'
    readout = state.get("readout")
    text = readout if isinstance(readout, str) else "Invalid"
    return f'{_description(state)}<span class="lw-x-invalid">\u2718 {_esc(text)}</span>'


def _play(state: dict[str, Any]) -> str:
    value = _number(state.get("value"), 0)
    return (
        f'{_description(state)}<button type="button" class="lw-x-button" disabled>'
        f'\u25b6</button><output class="lw-x-readout">{_plain(value)}</output>'
    )


_IMAGE_FORMAT = re.compile(r"[a-z0-9.+-]{1,40}")


def _image(model: dict[str, Any], state: dict[str, Any]) -> str:
    """An ``Image`` from its saved bytes: a buffer of the model's (``{"path": ["value"],
    "data": base64}``, as Jupyter saves it) shown as a ``data:`` URL of ``image/<format>``."""
    fmt = state.get("format")
    fmt = fmt if isinstance(fmt, str) and _IMAGE_FORMAT.fullmatch(fmt) else "png"
    data = None
    buffers = model.get("buffers")
    for buffer in buffers if isinstance(buffers, list) else []:
        saved = isinstance(buffer, dict) and buffer.get("path") == ["value"]
        if saved and buffer.get("encoding", "base64") == "base64":
            data = buffer.get("data") if isinstance(buffer.get("data"), str) else None
    if data is None or fmt == "url" or not re.fullmatch(r"[A-Za-z0-9+/=\s]*", data):
        return '<span class="lw-x-desc">Image (not saved with the notebook)</span>'
    size = "".join(
        f' {side}="{_esc(value)}"'
        for side in ("width", "height")
        if isinstance(value := state.get(side), str) and value
    )
    return f'<img alt="" src="data:image/{fmt};base64,{"".join(data.split())}"{size}>'


_CONTROLS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "IntSliderModel": ("slider", _slider(True)),
    "FloatSliderModel": ("slider", _slider(False)),
    "FloatLogSliderModel": ("slider", _log_slider),
    "SelectionSliderModel": ("slider", _selection_slider),
    "SelectionRangeSliderModel": ("slider", _selection_slider),
    "IntRangeSliderModel": ("slider", _range_slider(True)),
    "FloatRangeSliderModel": ("slider", _range_slider(False)),
    "IntProgressModel": ("progress", _progress),
    "FloatProgressModel": ("progress", _progress),
    "DropdownModel": ("select", _choice),
    "SelectModel": ("select", _choice),
    "RadioButtonsModel": ("select", _choice),
    "ToggleButtonsModel": ("select", _choice),
    "TextModel": ("text", _text),
    "PasswordModel": ("text", lambda s: _text({**s, "value": "•" * 8})),
    "IntTextModel": ("text", _text),
    "FloatTextModel": ("text", _text),
    "BoundedIntTextModel": ("text", _text),
    "BoundedFloatTextModel": ("text", _text),
    "TextareaModel": ("text", _textarea),
    "CheckboxModel": ("checkbox", _checkbox),
    "ToggleButtonModel": ("button", _button),
    "ButtonModel": ("button", _button),
    "LabelModel": ("label", _label_control),
    "HTMLModel": ("html", _html_control),
    "HTMLMathModel": ("html", _html_control),
    "SelectMultipleModel": ("select", _choices),
    "ComboboxModel": ("text", _text),
    "ColorPickerModel": ("color", _color),
    "DatePickerModel": ("text", _date),
    "ValidModel": ("valid", _valid),
    "PlayModel": ("play", _play),
}


def figures_json(figures: dict[str, dict[str, Any]]) -> str:
    """The figures as strict JSON that no content can use to close its script element."""
    text = json.dumps(figures, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")

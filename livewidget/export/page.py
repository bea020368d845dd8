"""``livewidget export``: a notebook as one HTML file that shows its views without a kernel.

A notebook saved with its widget state (JupyterLab with widget state saving on, or
``nbconvert --execute`` / ``livewidget export --execute``) holds, for every live view, the
``_html`` trait: the view's last HTML. The front end keeps it current; headless, the kernel
does. ``record(seconds)`` adds ``_recording``: a full render, then each diff with its time::

    metadata.widgets["application/vnd.jupyter.widget-state+json"].state[model_id].state
        == {"_html": '<b id="n">15</b>',
            "_recording": [{"t": 0, "type": "full", "rendered": {"s": ["<b id=\\"n\\">", "</b>"],
                                                               "0": "0"}},
                           {"t": 100, "type": "diff", "rendered": {"0": "1"}}, ...],
            ...}

nbconvert's own HTML shows widgets only by loading require.js, the widget manager and anywidget
from CDNs, so offline a view shows nothing. The export instead:

* replaces each output of a livewidget view (``application/vnd.jupyter.widget-view+json``
  whose saved model has an ``_html`` trait) by that HTML inside the same frame the widget
  draws, ``<div class="livewidget" data-livewidget-model="ID"><div class="lw-root">``, falling
  back to the output's ``text/html`` (the kernel's snapshot) when ``_html`` is empty. Widgets
  of other libraries keep the rest of their bundle (usually ``text/plain``);
* renders the rest as nbconvert's "lab" template does, minus everything it would fetch
  (require.js, the widget manager, MathJax, Mermaid), with livewidget's CSS inlined;
* inlines the recordings and ``static/replay.js`` (js/src/replay.ts) when some view has a
  recording, so the page replays it in a loop; the last state is in the page either way;
* finally neutralises whatever in the page would still load something from another host (an
  ``<img src="https://...">`` in a markdown cell, a ``<script src>`` in an output): the
  attribute is renamed ``data-livewidget-blocked-*`` and reported. Links (``<a href>``) stay:
  they load nothing until followed.

The page needs no network and no server: open the file.

Nothing in the notebook is trusted to be well formed. ``export.repair`` first repairs lone
surrogates and leaves out what nests too deep or breaks the notebook format, and each
recording is checked frame by frame (``_replayable``): a frame with an unusable time comes
with the frame before it, a frame that cannot be replayed ends the recording there, and what
reaches the page is strict JSON, one view at a time. Every repair is a warning in
``Export.warnings``; only a file that is no notebook at all raises ``ExportError``. What the
page trusts (the notebook's HTML, as a trusted notebook's) is in docs/export.md.
"""

from __future__ import annotations

import html as html_lib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
from jinja2 import DictLoader
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from .. import protocol, wire
from ..text import repair
from .repair import ExportError, parse_json, repair_notebook
from .widgets import FIGURES_ID, Widgets, figures_json

__all__ = [
    "Export",
    "ExportError",
    "LiveWidgetPreprocessor",
    "execute_notebook",
    "export_file",
    "export_notebook",
    "external_references",
    "read_notebook",
]

VIEW_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
HTML_TRAIT = wire.HTML_TRAIT
RECORDING_TRAIT = wire.RECORDING_TRAIT
MODEL_ATTR = wire.MODEL_ATTR
RECORDINGS_ID = wire.RECORDINGS_ID
#: The global that static/replay.js defines (package.json: --global-name).
REPLAY_GLOBAL = "livewidgetReplay"
#: The global that static/export_children.js defines (package.json: --global-name).
CHILDREN_GLOBAL = "livewidgetChildren"
BLOCKED_PREFIX = wire.BLOCKED_PREFIX
#: The latest time a replayed frame may have, in ms (record() stops at 600 s); a frame with a
#: later (or missing, or earlier than its predecessor's) time comes with the frame before it.
MAX_FRAME_MS = 3_600_000

_STATIC = Path(__file__).parent.parent / "static"
_TEMPLATE_NAME = "livewidget_export.html.j2"
# nbconvert's "lab" page without what it loads from the network: require.js, the widget
# manager, MathJax and Mermaid. Math stays as its TeX source, Mermaid diagrams as code.
_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}
<meta name="generator" content="livewidget export">
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style type="text/css">
{{ resources.livewidget.css }}
</style>
{%- endblock html_head_css -%}
{%- block body_footer -%}
</main>
{{ resources.livewidget.scripts }}
</body>
{%- endblock body_footer -%}
"""


@dataclass
class Export:
    """An exported page and what went into it."""

    html: str
    views: int = 0  # outputs of livewidget views, shown with their last state
    replays: int = 0  # of those, views that replay a recording
    other_widgets: int = 0  # widgets of other libraries, shown as their text (or HTML) bundle
    blocked: list[str] = field(default_factory=list)  # references to other hosts, neutralised
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Reading and executing
# --------------------------------------------------------------------------------------------


def read_notebook(
    path: str | os.PathLike[str], warnings: list[str] | None = None
) -> nbformat.NotebookNode:
    """Read a notebook file (nbformat 4), repaired as ``repair_notebook`` does.

    What was repaired or left out is appended to ``warnings``. Raises ExportError saying what
    is wrong with a file that is no notebook at all.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExportError(f"{path}: is a directory, not a notebook file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ExportError(f"{path}: cannot read it: {error}") from None
    try:
        raw = parse_json(text)
    except json.JSONDecodeError as error:
        raise ExportError(
            f"{path}: not a notebook: not JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno})"
        ) from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise ExportError(f"{path}: not a notebook: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        got = f"a JSON {type(raw).__name__}" if not isinstance(raw, dict) else "no cells list"
        raise ExportError(f'{path}: not a notebook: expected a JSON object with "cells", got {got}')
    if not isinstance(raw.get("nbformat"), int) or raw["nbformat"] < 4:
        raise ExportError(
            f"{path}: expected nbformat 4, got {raw.get('nbformat')!r:.40}; "
            "upgrade it with `jupyter nbconvert --to notebook`"
        )
    try:
        tree, repairs = repair_notebook(raw)
    except ExportError as error:
        raise ExportError(f"{path}: {error}") from None
    if warnings is not None:
        warnings += repairs
    notebook: nbformat.NotebookNode = nbformat.v4.to_notebook_json(tree)  # type: ignore[no-untyped-call]  # nbformat is unannotated
    return notebook


def execute_notebook(
    notebook: nbformat.NotebookNode,
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 600,
    kernel_name: str | None = None,
    name: str = "the notebook",
) -> None:
    """Run every cell in a fresh kernel (nbclient), saving each view's last state.

    By default the kernel starts in an empty temporary folder: a folder that holds a
    ``livewidget`` directory (a checkout of this project) would shadow the installed package.
    """
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    options: dict[str, Any] = {"timeout": timeout, "store_widget_state": True}
    if kernel_name:
        options["kernel_name"] = kernel_name
    with tempfile.TemporaryDirectory(prefix="livewidget-export-") as tmp:
        folder = str(cwd) if cwd is not None else tmp
        client = NotebookClient(notebook, resources={"metadata": {"path": folder}}, **options)
        try:
            client.execute()
        except CellExecutionError as error:
            where = _failed_cell(notebook)
            raise ExportError(
                f"executing {name} failed{where}: {error.ename}: {error.evalue}"
            ) from None
        except CellTimeoutError:
            raise ExportError(
                f"executing {name}: a cell ran longer than {timeout:g} s (--timeout)"
            ) from None
        except DeadKernelError as error:
            raise ExportError(f"executing {name}: the kernel died: {error}") from None
        except NoSuchKernel as error:
            raise ExportError(
                f"executing {name}: no kernel named {error.name!r} is installed (--kernel)"
            ) from None


def _failed_cell(notebook: nbformat.NotebookNode) -> str:
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f" in cell {index}"
    return ""


# --------------------------------------------------------------------------------------------
# The preprocessor: widget outputs -> their last state
# --------------------------------------------------------------------------------------------


def _saved_models(notebook: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    widgets = notebook.metadata.get("widgets")
    saved = widgets.get(STATE_MIME) if isinstance(widgets, dict) else None
    models = saved.get("state") if isinstance(saved, dict) else None
    if not isinstance(models, dict):
        return {}
    return {k: v for k, v in models.items() if isinstance(v, dict)}


def _is_livewidget(model: dict[str, Any] | None) -> bool:
    state = model.get("state") if model else None
    return isinstance(state, dict) and isinstance(state.get(HTML_TRAIT), str)


_FRAME_SHAPE = '{"t": ms, "type": "full" | "diff", "rendered": {...}}'


def _replayable(frames: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The frames of a saved recording that a page can replay, and what was wrong with it.

    A time that is not a finite number of ms from 0 to MAX_FRAME_MS, not before the previous
    frame's, is repaired: that frame comes with the frame before it. A frame that is not a
    frame, holds what strict JSON cannot (NaN), or cannot be merged (checked by merging the
    frames as the page will, with ``protocol.merge`` and ``to_html``) ends the recording: the
    frames before it replay. No frames left, no replay; the view shows its last state.
    """
    if not isinstance(frames, list):
        return [], [f"expected a list of frames, got {type(frames).__name__}"]
    good: list[dict[str, Any]] = []
    notes: list[str] = []
    retimed: list[str] = []
    tree: dict[str, Any] | None = None
    previous: float = 0
    for i, frame in enumerate(frames):
        problem = _frame_problem(i, frame)
        if problem is None:
            try:
                tree = protocol.merge(
                    tree if frame[wire.TYPE] == wire.MSG_DIFF else None, frame[wire.RENDERED]
                )
                protocol.to_html(tree)
            except Exception as error:  # whatever a bad frame raises, the frame is bad
                problem = f"frame {i} cannot be merged: {type(error).__name__}: {error!s:.100}"
        if problem is not None:
            if i > 0:
                left_out = len(frames) - i
                notes.append(
                    f"{problem}; the replay ends before it ({left_out:,} of "
                    f"{len(frames):,} frames left out)"
                )
            else:
                notes.append(problem)
            break
        t = frame.get(wire.FRAME_TIME)
        if not _good_time(t, previous):
            retimed.append(f"frame {i}: {t!r:.30}")
            t = previous
        good.append(
            {wire.FRAME_TIME: t, wire.TYPE: frame[wire.TYPE], wire.RENDERED: frame[wire.RENDERED]}
        )
        previous = t
    if retimed:
        shown = ", ".join(retimed[:3]) + (", ..." if len(retimed) > 3 else "")
        notes.insert(
            0,
            f"{len(retimed):,} frame(s) have no usable time ({shown}; expected ms from 0 to "
            f"{MAX_FRAME_MS:,}, not before the frame before); each comes with the frame before",
        )
    return good, notes


def _frame_problem(i: int, frame: Any) -> str | None:
    """Why ``frame`` (the ``i``-th) cannot be replayed, leaving its time aside, or None."""
    if not (
        isinstance(frame, dict)
        and frame.get(wire.TYPE) in (wire.MSG_FULL, wire.MSG_DIFF)
        and isinstance(frame.get(wire.RENDERED), dict)
    ):
        return f"frame {i} is not {_FRAME_SHAPE}"
    if i == 0 and frame[wire.TYPE] != wire.MSG_FULL:
        return 'the first frame is not "full"'
    stack: list[Any] = [frame[wire.RENDERED]]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, float) and not math.isfinite(node):
            return f"frame {i} holds the number {node!r}, which JSON cannot"
        elif not (node is None or isinstance(node, (str, int, float))):
            return f"frame {i} holds a {type(node).__name__}, which JSON cannot"
    return None


def _good_time(t: Any, previous: float) -> bool:
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        return False
    if isinstance(t, float) and not math.isfinite(t):
        return False
    return previous <= t <= MAX_FRAME_MS


def _view_html(model_id: str, html: str) -> str:
    """An exported view: the frame the widget draws (widget.ts), around its last HTML."""
    return (
        f'<div class="{wire.VIEW_CLASS}" {MODEL_ATTR}="{html_lib.escape(model_id)}">'
        f'<div class="{wire.ROOT_CLASS}">{html}</div></div>'
    )


class LiveWidgetPreprocessor(Preprocessor):
    """Replace widget outputs by what they last showed; collect the views' recordings.

    Leaves ``resources["livewidget"]`` with ``recordings`` (model id -> the frames that
    replay, as strict JSON text), ``views``, ``replays``, ``other_widgets``, ``warnings``, and
    what the export template puts in the page: ``css`` and ``scripts`` (the recordings and the
    replay script, if any). Drops the widget state from the notebook's metadata: nothing in the
    page loads it.
    """

    def preprocess(
        self, nb: nbformat.NotebookNode, resources: dict[str, Any]
    ) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        models = _saved_models(nb)
        info: dict[str, Any] = {
            "recordings": {},
            "views": 0,
            "replays": 0,
            "other_widgets": 0,
            "warnings": [],
        }
        self._where = ""
        widgets = Widgets(models, view=lambda i, h: self._view(i, h, models, info))
        for index, output in _widget_outputs(nb):
            self._where = f"cell {index}"
            self._replace(index, output, models, widgets, info)
        nb.metadata.pop("widgets", None)
        info["css"], info["scripts"] = _page_assets(info["recordings"], info["warnings"], widgets)
        resources["livewidget"] = info
        return nb, resources

    def _replace(
        self,
        index: int,
        output: nbformat.NotebookNode,
        models: dict[str, dict[str, Any]],
        widgets: Widgets,
        info: dict[str, Any],
    ) -> None:
        data = output["data"]
        view = data.pop(VIEW_MIME)
        model_id = str(view.get("model_id", "")) if isinstance(view, dict) else ""
        model = models.get(model_id)
        if not _is_livewidget(model):
            info["other_widgets"] += 1
            if model is not None and isinstance(model.get("state"), dict):
                # a slider, a plot, a VBox of views: drawn from its saved state
                data.clear()
                data["text/html"] = widgets.draw(model_id)
            elif not data:
                data["text/plain"] = "(a widget; its state was not saved with the notebook)"
            return
        assert model is not None
        html = model["state"][HTML_TRAIT] or _text(data.get("text/html"))
        if not html:
            info["warnings"].append(
                f"cell {index}: the view {model_id} has no saved HTML; "
                "run it and save the notebook (or export with --execute)"
            )
            return
        data.clear()
        data["text/html"] = self._view(model_id, widgets.fill(html, (model_id,)), models, info)

    def _view(
        self, model_id: str, html: str, models: dict[str, dict[str, Any]], info: dict[str, Any]
    ) -> str:
        """A view (shown in an output, a container or another view) and its recording."""
        info["views"] += 1
        state = models[model_id]["state"]
        saved = state.get(RECORDING_TRAIT)
        if saved and model_id not in info["recordings"]:
            self._record(model_id, saved, info)
        return _view_html(model_id, html)

    def _record(self, model_id: str, saved: Any, info: dict[str, Any]) -> None:
        frames, notes = _replayable(saved)
        try:
            recording = json.dumps(
                frames, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        except ValueError as error:  # cannot be: _replayable checks every number
            frames, notes = [], [*notes, str(error)]
        what = f"{self._where}: the recording of view {model_id}"
        if not frames:
            info["warnings"] += [f"{what} cannot be replayed: {note}" for note in notes]
            return
        info["warnings"] += [f"{what}: {note}" for note in notes]
        info["recordings"][model_id] = recording
        info["replays"] += 1


def _widget_outputs(nb: nbformat.NotebookNode) -> Iterator[tuple[int, nbformat.NotebookNode]]:
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if VIEW_MIME in (output.get("data") or {}):
                yield index, output


def _text(value: Any) -> str:
    """A mime bundle value as a string (nbformat may keep multi-line text as a list)."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def export_notebook(
    notebook: nbformat.NotebookNode,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    title: str | None = None,
) -> Export:
    """The self-contained HTML page of ``notebook`` (which is left as it was).

    ``base_dir`` is where relative image paths in markdown cells are looked up (to embed them).
    What cannot be shown is repaired or left out (``export.repair``), each with a warning;
    raises ExportError only when nothing can be shown.
    """
    tree, repairs = repair_notebook(notebook)
    clean = tree if tree is notebook else nbformat.from_dict(tree)  # type: ignore[no-untyped-call]  # nbformat is unannotated
    # nbconvert's constructors and register_preprocessor are unannotated
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        embed_images=True,
    )
    preprocessor = LiveWidgetPreprocessor()  # type: ignore[no-untyped-call]
    exporter.register_preprocessor(preprocessor, enabled=True)  # type: ignore[no-untyped-call]
    resources: dict[str, Any] = {
        "metadata": {"path": str(base_dir or "."), "name": title or "Notebook"}
    }
    try:
        body, resources = exporter.from_notebook_node(clean, resources=resources)
    except ExportError:
        raise
    except Exception as error:
        # The notebook passed nbformat's schema, so this is a gap in nbconvert or here.
        raise ExportError(
            f"nbconvert could not render the notebook: {type(error).__name__}: {error!s:.200} "
            "(please report this with the notebook)"
        ) from error
    info = resources["livewidget"]
    # The notebook's text is repaired; a title from a file name with bytes that are not UTF-8
    # (os.fsdecode's surrogate escapes) is not, and no page is worth failing to write for it.
    html, blocked, scripts = block_external(repair(body))
    return Export(
        html=html,
        views=info["views"],
        replays=info["replays"],
        other_widgets=info["other_widgets"],
        blocked=blocked,
        warnings=repairs
        + list(info["warnings"])
        + [f"a script in the page loads {url}: offline it fails" for url in scripts],
    )


def _page_assets(
    recordings: dict[str, str], warnings: list[str], widgets: Widgets
) -> tuple[str, str]:
    """The page's livewidget CSS, and its scripts: the figures, the recordings and the replay.

    The figures are drawn before the replays start, so that a replay keeps the drawn chart.
    """
    css = _static_text("widget.css")
    if widgets.used:
        css += "\n" + _static_text("export.css")
    scripts = _figure_scripts(widgets.figures, warnings)
    if not recordings:
        return css, scripts
    try:
        replay = _static_text("replay.js")
        css += "\n" + _static_text("replay.css")
    except ExportError as error:
        warnings.append(f"the recordings are not replayed: {error}")
        return css, scripts
    scripts += (
        _recordings_script(recordings)
        + f"\n{_inline_script('replay.js', replay)}"
        + f"\n<script>{REPLAY_GLOBAL}.startReplays(document);</script>"
    )
    return css, scripts


def _inline_script(name: str, code: str) -> str:
    if "</script" in code.lower():
        raise ExportError(f"{name} contains '</script' and cannot be inlined")
    return f"<script>{code}</script>"


def _plotly_js() -> str | None:
    """plotly.js as the installed plotly package ships it, or None without plotly."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def _figure_scripts(figures: dict[str, dict[str, Any]], warnings: list[str]) -> str:
    """plotly.js, the figures as JSON and the script that draws them (when there are any)."""
    if not figures:
        return ""
    plotly = _plotly_js()
    if plotly is None:
        warnings.append(
            f"{len(figures)} plotly chart(s) show as a box: plotly is not installed where "
            "the export runs (pip install plotly), so plotly.js cannot be inlined"
        )
        return ""
    try:
        data = figures_json(figures)
    except ValueError as error:  # NaN or Infinity in a figure: plotly.js's JSON cannot hold it
        warnings.append(f"the plotly charts show as a box: {error}")
        return ""
    return (
        _inline_script("plotly.min.js", plotly)
        + f'\n<script type="application/json" id="{FIGURES_ID}">{data}</script>'
        + f"\n{_inline_script('export_children.js', _static_text('export_children.js'))}"
        + f"\n<script>{CHILDREN_GLOBAL}.drawFigures(document, window.Plotly);</script>"
    )


def _static_text(name: str) -> str:
    path = _STATIC / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExportError(
            f"{path} is missing: build the front end first (`npm run build` in the source tree, "
            "or reinstall livewidget)"
        ) from None


def _recordings_script(recordings: dict[str, str]) -> str:
    """The recordings (model id -> frames as strict JSON) as a JSON script element that no
    content can close early."""
    entries = (f"{json.dumps(key, ensure_ascii=False)}:{text}" for key, text in recordings.items())
    text = "{" + ",".join(entries) + "}"
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="{RECORDINGS_ID}">{text}</script>'


# --------------------------------------------------------------------------------------------
# Nothing from the network
# --------------------------------------------------------------------------------------------

# Attributes that make the browser fetch what they name (a link's href waits for a click).
_FETCHING_ATTRS = frozenset(
    {"src", "srcset", "poster", "background", "href", "xlink:href", "data", "manifest"}
)
_NAVIGATION = frozenset({("a", "href"), ("area", "href")})
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_EXTERNAL = re.compile(
    r"""@import\s+(?:url\(\s*)?['"]?\s*(?:[a-z][a-z0-9+.-]*:)?//[^;]*;?"""
    r"""|url\(\s*['"]?\s*(?:[a-z][a-z0-9+.-]*:)?//[^)]*\)""",
    re.IGNORECASE,
)
_SCRIPT_EXTERNAL = re.compile(
    r"""(?:\bimport\s*\(\s*|\bfrom\s*|\bimportScripts\s*\(\s*|\bimport\s+)"""
    r"""['"`]((?:https?:)?//[^'"`]+)""",
    re.IGNORECASE,
)


def _fetches_external(tag: str, name: str, value: str) -> bool:
    if name == "style":
        return bool(_CSS_EXTERNAL.search(value))
    if name not in _FETCHING_ATTRS or (tag, name) in _NAVIGATION:
        return False
    if name == "data" and tag != "object":
        return False
    if name == "srcset":
        return any(_EXTERNAL.match(part) for part in value.split(","))
    return bool(_EXTERNAL.match(value))


class _ExternalFinder(HTMLParser):
    """Finds what in a page would fetch from another host: (start, end, replacement, what)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.edits: list[tuple[int, int, str]] = []
        self.blocked: list[str] = []  # neutralised by the edits
        self.scripts: list[str] = []  # URLs that scripts load; a script cannot be edited safely
        self._lines = [0]
        self._lines += [m.end() for m in re.finditer("\n", text)]
        self._tag = ""

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        bad = [(n, v) for n, v in attrs if v is not None and _fetches_external(tag, n, v)]
        if not bad:
            return
        raw = self.get_starttag_text() or ""
        start = self._offset()
        parts = [f"<{tag}"]
        for n, v in attrs:
            name = f"{BLOCKED_PREFIX}{n.replace(':', '-')}" if (n, v) in bad else n
            parts.append(name if v is None else f'{name}="{html_lib.escape(v, quote=True)}"')
        closing = "/>" if raw.rstrip().endswith("/>") else ">"
        self.edits.append((start, start + len(raw), " ".join(parts) + closing))
        self.blocked += [f"<{tag} {n}={(v or '')[:120]!r}>" for n, v in bad]

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        if self._tag == "style" and _CSS_EXTERNAL.search(data):
            start = self._offset()
            cleaned = _CSS_EXTERNAL.sub("/* livewidget: blocked */", data)
            self.edits.append((start, start + len(data), cleaned))
            self.blocked += [f"<style> {m.group(0)[:120]}" for m in _CSS_EXTERNAL.finditer(data)]
        elif self._tag == "script":
            self.scripts += [m.group(1)[:120] for m in _SCRIPT_EXTERNAL.finditer(data)]

    def handle_endtag(self, tag: str) -> None:
        self._tag = ""


def _find_external(page: str) -> _ExternalFinder:
    finder = _ExternalFinder(page)
    finder.feed(page)
    finder.close()
    return finder


def external_references(page: str) -> list[str]:
    """What in ``page`` would fetch something from another host (none in an export)."""
    finder = _find_external(page)
    return finder.blocked + [f"<script> loads {url}" for url in finder.scripts]


def block_external(page: str) -> tuple[str, list[str], list[str]]:
    """``page`` with every attribute or style that fetches from another host neutralised.

    Returns the page, a note on each thing neutralised, and the URLs that scripts in the
    page load (left as they are: a script cannot be edited safely; offline, they fail).
    """
    finder = _find_external(page)
    out, last = [], 0
    for start, end, replacement in sorted(finder.edits):
        out += [page[last:start], replacement]
        last = end
    out.append(page[last:])
    return "".join(out), finder.blocked, finder.scripts


# --------------------------------------------------------------------------------------------
# From file to file
# --------------------------------------------------------------------------------------------


def export_file(
    notebook_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    execute: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 600,
    kernel_name: str | None = None,
) -> Export:
    """Read a notebook (and run it if ``execute``), write its page to ``output_path``."""
    source = Path(notebook_path)
    target = Path(output_path)
    if not target.parent.is_dir():
        raise ExportError(f"{target}: the folder {target.parent} does not exist")
    repairs: list[str] = []
    notebook = read_notebook(source, repairs)
    if execute:
        execute_notebook(
            notebook, cwd=cwd, timeout=timeout, kernel_name=kernel_name, name=str(source)
        )
    page = export_notebook(notebook, base_dir=source.parent, title=source.stem)
    page.warnings[:0] = repairs
    try:
        target.write_text(page.html, encoding="utf-8")
    except OSError as error:
        raise ExportError(f"{target}: cannot write it: {error}") from None
    return page

"""``livewidget export``: a notebook with saved widget state as one offline HTML page."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from bs4 import BeautifulSoup

import livewidget as lw
from livewidget import export as lw_export
from livewidget import protocol
from livewidget.__main__ import main
from livewidget.export import (
    MODEL_ATTR,
    RECORDINGS_ID,
    ExportError,
    export_file,
    export_notebook,
    external_references,
    read_notebook,
)
from tests.sources import TICKS

VIEW_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_ID = "0123456789abcdef0123456789abcdef"
SLIDER_ID = "fedcba9876543210fedcba9876543210"

# The view's last HTML, as its render escaped it: text with <, &, quotes and a would-be tag.
LAST_HTML = str(lw.html('<p id="v">{text}</p>', text='a < b & "c" </div><script>x()</script>'))
SHOWN_TEXT = 'a < b & "c" </div><script>x()</script>'


def _recording(values: list[int], step_ms: int = 100) -> list[dict[str, Any]]:
    """Frames as widget.record() keeps them: a full render, then diffs."""
    renders = [lw.html('<b id="n">{n}</b>', n=v) for v in values]
    frames = [{"t": 0, "type": "full", "rendered": protocol.full(renders[0])}]
    for i in range(1, len(renders)):
        diff = protocol.diff(renders[i - 1], renders[i])
        frames.append({"t": i * step_ms, "type": "diff", "rendered": diff})
    return frames


def _widget_output(model_id: str, text_plain: str, text_html: str | None = None) -> Any:
    data: dict[str, Any] = {
        VIEW_MIME: {"model_id": model_id, "version_major": 2, "version_minor": 1},
        "text/plain": text_plain,
    }
    if text_html is not None:
        data["text/html"] = text_html
    return nbformat.v4.new_output("display_data", data=data)


def _livewidget_model(html: str, recording: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "model_name": "AnyModel",
        "model_module": "anywidget",
        "model_module_version": "~0.11.*",
        "state": {
            "_anywidget_id": "livewidget.widget.LiveWidget",
            "_esm": "export default {}",
            "_html": html,
            "_recording": recording or [],
        },
    }


def make_notebook(
    html: str = LAST_HTML,
    text_html: str = "<p>the kernel's older snapshot</p>",
    recording: list[dict[str, Any]] | None = None,
) -> nbformat.NotebookNode:
    """A notebook as JupyterLab saves it: one live view, one ipywidgets slider, text, markdown."""
    nb = nbformat.v4.new_notebook()
    view = nbformat.v4.new_code_cell("Ticks()")
    view.outputs = [_widget_output(VIEW_ID, "<LiveWidget of Ticks(), live>", text_html)]
    slider = nbformat.v4.new_code_cell("ipywidgets.IntSlider(3)")
    slider.outputs = [_widget_output(SLIDER_ID, "IntSlider(value=3)")]
    printed = nbformat.v4.new_code_cell("print('hello')")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A demo\n\nSee [the docs](https://example.com/docs)."),
        view,
        slider,
        printed,
    ]
    nb.metadata["widgets"] = {
        STATE_MIME: {
            "version_major": 2,
            "version_minor": 0,
            "state": {
                VIEW_ID: _livewidget_model(html, recording),
                SLIDER_ID: {
                    "model_name": "IntSliderModel",
                    "model_module": "@jupyter-widgets/controls",
                    "model_module_version": "2.0.0",
                    "state": {"value": 3},
                },
            },
        }
    }
    return nb


def _view_root(page: str, model_id: str = VIEW_ID) -> Any:
    soup = BeautifulSoup(page, "html.parser")
    view = soup.select_one(f'.livewidget[{MODEL_ATTR}="{model_id}"]')
    assert view is not None, "the view's frame is in the page"
    root = view.select_one(":scope > .lw-root")
    assert root is not None
    return root


# -- the last state -------------------------------------------------------------------------


def test_a_view_shows_its_last_saved_html_escaped_as_its_render_escaped_it():
    page = export_notebook(make_notebook())
    root = _view_root(page.html)
    assert root.get_text() == SHOWN_TEXT
    assert root.select("script") == [], "escaped text stays text"
    assert "&lt;script&gt;x()&lt;/script&gt;" in page.html
    assert "&amp;lt;" not in page.html, "nothing is escaped twice"
    assert "older snapshot" not in page.html
    assert (page.views, page.replays, page.other_widgets) == (1, 0, 1)


def test_the_outputs_text_html_stands_in_when_no_html_was_saved():
    page = export_notebook(make_notebook(html="", text_html='<i id="snap">7</i>'))
    assert _view_root(page.html).decode_contents() == '<i id="snap">7</i>'


def test_a_widget_of_another_library_shows_as_drawn_from_its_saved_state():
    soup = BeautifulSoup(export_notebook(make_notebook()).html, "html.parser")
    slider = soup.select_one(".jp-OutputArea-output .lw-x-slider input[type=range]")
    assert slider is not None, "the IntSlider is drawn, not printed"
    assert (slider["value"], slider.has_attr("disabled")) == ("3", True)
    texts = [pre.get_text() for pre in soup.select(".jp-OutputArea-output pre")]
    assert "IntSlider(value=3)" not in texts
    assert "hello\n" in texts


def test_a_widget_whose_state_was_not_saved_shows_its_text():
    nb = make_notebook()
    del nb.metadata["widgets"][STATE_MIME]["state"][SLIDER_ID]
    soup = BeautifulSoup(export_notebook(nb).html, "html.parser")
    texts = [pre.get_text() for pre in soup.select(".jp-OutputArea-output pre")]
    assert "IntSlider(value=3)" in texts


def test_markdown_and_code_render_as_in_nbconvert():
    soup = BeautifulSoup(export_notebook(make_notebook()).html, "html.parser")
    assert soup.select_one("h1").get_text().startswith("A demo")
    assert "ipywidgets.IntSlider(3)" in soup.select(".jp-InputArea")[2].get_text()
    assert soup.select_one("title").get_text() == "Notebook"


def test_the_page_loads_nothing_from_the_network():
    page = export_notebook(make_notebook(recording=_recording([0, 1, 2])))
    assert external_references(page.html) == []
    assert page.blocked == []
    soup = BeautifulSoup(page.html, "html.parser")
    for tag in soup.find_all(True):
        for name in ("src", "href", "srcset", "data", "poster"):
            value = str(tag.get(name) or "")
            if re.match(r"\s*([a-z]+:)?//", value, re.I):
                assert (tag.name, name) == ("a", "href"), f"<{tag.name} {name}={value!r}>"
    assert soup.select("link, script[src], iframe") == []
    for fetched in ("require", "mathjax", "unpkg", "jsdelivr", "cdnjs", "//cdn", "fonts.google"):
        assert fetched not in page.html.lower(), fetched
    links = [a["href"] for a in soup.select("a[href^=http]")]
    assert links == ["https://example.com/docs"], "links stay: they load nothing until clicked"


def test_livewidget_css_is_inlined():
    css = (Path(lw.__file__).parent / "static" / "widget.css").read_text()
    assert css.strip() in export_notebook(make_notebook()).html


def test_an_image_from_another_host_is_neutralised_and_reported():
    nb = make_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("![logo](https://example.com/logo.png)"))
    html = nbformat.v4.new_output(
        "display_data",
        data={"text/html": '<style>@import url("https://fonts.example/x.css");</style>'},
    )
    nb.cells[3].outputs.append(html)
    page = export_notebook(nb)
    assert external_references(page.html) == []
    assert len(page.blocked) == 2, page.blocked
    assert 'data-livewidget-blocked-src="https://example.com/logo.png"' in page.html


def test_the_notebook_is_left_as_it_was():
    nb = make_notebook(recording=_recording([0, 1]))
    before = json.dumps(nb, sort_keys=True)
    export_notebook(nb)
    assert json.dumps(nb, sort_keys=True) == before


def test_a_notebook_without_widget_state_still_shows_the_outputs_html():
    nb = make_notebook(text_html='<i id="snap">7</i>')
    del nb.metadata["widgets"]
    page = export_notebook(nb)
    assert '<i id="snap">7</i>' in page.html
    assert page.other_widgets == 2


# -- recordings ---------------------------------------------------------------------------


def _recordings(page: str) -> Any:
    soup = BeautifulSoup(page, "html.parser")
    script = soup.select_one(f"script#{RECORDINGS_ID}")
    assert script is not None
    assert script["type"] == "application/json"
    return json.loads(script.string)


def test_a_recording_goes_into_the_page_with_the_replay_script():
    frames = _recording([0, 1, 2, 3])
    page = export_notebook(make_notebook(recording=frames))
    assert page.replays == 1
    assert _recordings(page.html) == {VIEW_ID: frames}
    assert "livewidgetReplay.startReplays(document)" in page.html
    assert ".lw-replay-badge" in page.html, "the replay's CSS is inlined"


def test_a_recording_cannot_close_its_script_early():
    frames = _recording([0, 1])
    frames[0]["rendered"]["s"][0] = "</script><script>alert(1)</script><!--"
    page = export_notebook(make_notebook(recording=frames))
    assert _recordings(page.html) == {VIEW_ID: frames}
    soup = BeautifulSoup(page.html, "html.parser")
    assert not any("alert(1)" in (s.string or "") for s in soup.select("script:not([type])"))


def test_without_recordings_the_page_has_no_script_at_all():
    page = export_notebook(make_notebook())
    assert BeautifulSoup(page.html, "html.parser").select("script") == []


@pytest.mark.parametrize(
    ("frames", "problem"),
    [
        ("not a list", "expected a list of frames"),
        ([{"t": 0, "type": "diff", "rendered": {"0": "1"}}], 'the first frame is not "full"'),
        ([{"t": 0, "type": "full"}], "frame 0 is not"),
    ],
)
def test_a_recording_that_cannot_be_replayed_is_reported_and_the_last_state_shown(
    frames: Any, problem: str
):
    nb = make_notebook()
    nb.metadata["widgets"][STATE_MIME]["state"][VIEW_ID]["state"]["_recording"] = frames
    page = export_notebook(nb)
    assert page.replays == 0
    assert any(problem in w for w in page.warnings), page.warnings
    assert _view_root(page.html).get_text() == SHOWN_TEXT


# -- files and the command line -----------------------------------------------------------


def test_the_command_writes_one_self_contained_file(tmp_path: Path, capsys: Any):
    nbformat.write(make_notebook(recording=_recording([0, 1])), tmp_path / "demo.ipynb")
    assert main(["export", str(tmp_path / "demo.ipynb"), "-o", str(tmp_path / "out.html")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.ipynb", "out.html"]
    html = (tmp_path / "out.html").read_text()
    assert _view_root(html).get_text() == SHOWN_TEXT
    assert "<title>demo</title>" in html
    err = capsys.readouterr().err
    assert "wrote" in err
    assert "1 live view (1 replaying its recording), 1 other widget(s) drawn from" in err


def test_the_output_defaults_to_the_notebook_name_with_html(tmp_path: Path):
    nbformat.write(make_notebook(), tmp_path / "demo.ipynb")
    assert main(["export", str(tmp_path / "demo.ipynb")]) == 0
    assert (tmp_path / "demo.html").is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not a notebook: not JSON"),
        ("[1, 2]", 'expected a JSON object with "cells", got a JSON list'),
        ('{"cells": [], "nbformat": 3}', "expected nbformat 4, got 3"),
    ],
)
def test_a_file_that_is_not_a_notebook_fails_with_a_message(
    tmp_path: Path, capsys: Any, content: str | None, message: str
):
    path = tmp_path / "x.ipynb"
    if content is not None:
        path.write_text(content)
    assert main(["export", str(path), "-o", str(tmp_path / "x.html")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"livewidget export: {path}: "), err
    assert message in err, err
    assert not (tmp_path / "x.html").exists()
    with pytest.raises(ExportError, match=re.escape(message)):
        read_notebook(path)


def test_a_missing_output_folder_fails_before_anything_runs(tmp_path: Path, capsys: Any):
    nbformat.write(make_notebook(), tmp_path / "demo.ipynb")
    out = tmp_path / "nowhere" / "out.html"
    assert main(["export", str(tmp_path / "demo.ipynb"), "-o", str(out), "--execute"]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["export"],
        ["export", "demo.ipynb", "--cwd", "."],
        ["export", "demo.ipynb", "-o", "demo.ipynb"],
        ["export", "demo.ipynb", "--timeout", "soon"],
    ],
)
def test_a_wrong_command_line_exits_with_2(tmp_path: Path, monkeypatch: Any, args: list[str]):
    monkeypatch.chdir(tmp_path)
    nbformat.write(make_notebook(), tmp_path / "demo.ipynb")
    try:
        code = main(args)
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    assert code == 2


def test_export_file_writes_through_the_api(tmp_path: Path):
    nbformat.write(make_notebook(), tmp_path / "demo.ipynb")
    page = export_file(tmp_path / "demo.ipynb", tmp_path / "demo.html")
    assert (tmp_path / "demo.html").read_text(encoding="utf-8") == page.html


# -- headless: --execute --------------------------------------------------------------------

TICKING = TICKS + "\nTicks()\n"


def test_execute_runs_a_notebook_without_saved_state_and_exports_its_last_state(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TICKING), nbformat.v4.new_code_cell("time.sleep(1.5)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "ticks.ipynb")
    before = (tmp_path / "ticks.ipynb").read_bytes()
    result = subprocess.run(
        [
            *(sys.executable, "-m", "livewidget", "export", "ticks.ipynb", "--execute"),
            *("-o", "ticks.html", "--timeout", "60"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ticks.ipynb").read_bytes() == before, "the notebook file is not changed"
    html = (tmp_path / "ticks.html").read_text()
    shown = BeautifulSoup(html, "html.parser").select_one(".livewidget .lw-root #n")
    assert shown is not None, html[-2000:]
    assert int(shown.get_text()) > 0
    assert external_references(html) == []


def test_execute_reports_the_cell_that_failed(tmp_path: Path, capsys: Any):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "bad.ipynb")
    args = ["export", str(tmp_path / "bad.ipynb"), "--execute", "--timeout", "60"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "failed in cell 1: ZeroDivisionError: division by zero" in err, err
    assert not (tmp_path / "bad.html").exists()


# -- malformed notebooks and recordings: repaired or left out, never a traceback -------------


def _raw(nb: nbformat.NotebookNode | None = None) -> Any:
    """A notebook as plain JSON data, to break in ways nbformat would not write."""
    return json.loads(nbformat.writes(nb if nb is not None else make_notebook()))


def _view_state(raw: Any, model_id: str = VIEW_ID) -> Any:
    return raw["metadata"]["widgets"][STATE_MIME]["state"][model_id]["state"]


def _export_raw(tmp_path: Path, capsys: Any, text: str) -> tuple[int, str, str | None]:
    """Run the command on a notebook file holding ``text``: exit code, stderr, the page."""
    (tmp_path / "nb.ipynb").write_text(text, encoding="utf-8")
    out = tmp_path / "nb.html"
    code = main(["export", str(tmp_path / "nb.ipynb"), "-o", str(out)])
    html = out.read_text(encoding="utf-8") if out.exists() else None
    return code, capsys.readouterr().err, html


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON: JSON.parse in the page would fail")

    return json.loads(text, parse_constant=refuse)


def _page_recordings(page: str) -> Any:
    script = BeautifulSoup(page, "html.parser").select_one(f"script#{RECORDINGS_ID}")
    assert script is not None
    return _strict_json(script.string)


def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def test_a_lone_surrogate_in_an_output_is_shown_as_the_replacement_character(
    tmp_path: Path, capsys: Any
):
    raw = _raw()
    raw["cells"][3]["outputs"][0]["text"] = "hi \ud800 there"
    code, err, html = _export_raw(tmp_path, capsys, json.dumps(raw))
    assert code == 0, err
    assert html is not None
    assert "hi \ufffd there" in html
    assert (
        "cell 3, output 0: 1 lone surrogate (half of a UTF-16 pair, not text) shown as U+FFFD"
        in err
    )


def test_a_lone_surrogate_in_a_views_saved_html_and_recording_is_repaired_and_replays(
    tmp_path: Path, capsys: Any
):
    raw = _raw(make_notebook(recording=_recording([0, 1, 2])))
    _view_state(raw)["_html"] = '<b id="n">\udc00</b>'
    _view_state(raw)["_recording"][1]["rendered"]["0"] = "1\ud800"
    code, err, html = _export_raw(tmp_path, capsys, json.dumps(raw))
    assert code == 0, err
    assert _view_root(html).get_text() == "\ufffd"
    assert _page_recordings(html)[VIEW_ID][1]["rendered"] == {"0": "1\ufffd"}
    assert f"the saved HTML of widget {VIEW_ID}: 1 lone surrogate" in err
    assert f"the recording of widget {VIEW_ID}: 1 lone surrogate" in err
    assert "1 replaying its recording" in err


def test_json_nested_deeper_than_python_parses_in_a_widget_state_is_left_out(
    tmp_path: Path, capsys: Any
):
    text = json.dumps(_raw()).replace(
        '"state": {"value": 3}', f'"state": {{"value": 3, "deep": {_deep(3000)}}}'
    )
    code, err, html = _export_raw(tmp_path, capsys, text)
    assert code == 0, err
    assert "Traceback" not in err
    assert _view_root(html).get_text() == SHOWN_TEXT, "the other views are shown"
    assert (
        f"the saved state 'deep' of widget {SLIDER_ID}: nests 3,007 levels deep; at most 100" in err
    )


def test_json_nested_too_deep_for_nbformat_in_an_output_leaves_out_that_output_only(
    tmp_path: Path, capsys: Any
):
    raw = _raw()
    raw["cells"][3]["outputs"].append(
        {"output_type": "display_data", "metadata": {}, "data": {"application/json": "DEEP"}}
    )
    raw["cells"][3]["outputs"].append(
        {"output_type": "stream", "name": "stdout", "text": "after the deep one\n"}
    )
    code, err, html = _export_raw(tmp_path, capsys, json.dumps(raw).replace('"DEEP"', _deep(500)))
    assert code == 0, err
    assert "cell 3, output 1: nests 506 levels deep; at most 100 are read, so it is left out" in err
    assert "after the deep one" in html
    assert "hello" in html


def test_a_recording_nested_too_deep_is_left_out_and_the_view_shows_its_last_state(
    tmp_path: Path, capsys: Any
):
    raw = _raw(make_notebook(recording=_recording([0, 1, 2])))
    _view_state(raw)["_recording"][2]["rendered"]["1"] = "DEEP"
    code, err, html = _export_raw(tmp_path, capsys, json.dumps(raw).replace('"DEEP"', _deep(2000)))
    assert code == 0, err
    assert f"the recording of widget {VIEW_ID}: nests 2,010 levels deep" in err
    assert _view_root(html).get_text() == SHOWN_TEXT
    assert "1 live view," in err, "no replay"


@pytest.mark.parametrize("bad_time", [float("nan"), float("inf"), -5, "12", True, None, 10**400])
def test_a_frame_without_a_usable_time_comes_with_the_frame_before_and_the_json_stays_strict(
    bad_time: Any,
):
    frames = _recording([0, 1, 2])
    frames[1]["t"] = bad_time
    if bad_time is None:
        del frames[1]["t"]
    page = export_notebook(make_notebook(recording=frames))
    assert page.replays == 1
    replayed = _page_recordings(page.html)[VIEW_ID]
    assert [f["t"] for f in replayed] == [0, 0, 200]
    assert [f["rendered"] for f in replayed] == [f["rendered"] for f in frames]
    assert any("1 frame(s) have no usable time (frame 1:" in w for w in page.warnings), (
        page.warnings
    )


def test_frames_out_of_order_or_too_late_are_retimed():
    frames = _recording([0, 1, 2, 3])
    frames[2]["t"] = 50  # before frame 1 (100 ms)
    frames[3]["t"] = 5_000_000  # later than any recording
    page = export_notebook(make_notebook(recording=frames))
    assert [f["t"] for f in _page_recordings(page.html)[VIEW_ID]] == [0, 100, 100, 100]
    assert any("2 frame(s) have no usable time" in w for w in page.warnings), page.warnings


@pytest.mark.parametrize(
    ("breaks", "problem"),
    [
        (lambda f: f.pop("rendered"), "frame 2 is not {"),
        (lambda f: f.update(rendered={"0": {"s": 7}}), "frame 2 cannot be merged"),
        (lambda f: f.update(rendered={"0": float("nan")}), "frame 2 holds the number nan"),
        (lambda f: f.update(type="partial"), "frame 2 is not {"),
    ],
)
def test_a_frame_that_cannot_be_replayed_ends_the_replay_before_it(breaks: Any, problem: str):
    frames = _recording([0, 1, 2, 3])
    breaks(frames[2])
    page = export_notebook(make_notebook(recording=frames))
    assert page.replays == 1
    assert _page_recordings(page.html)[VIEW_ID] == frames[:2]
    warning = next(w for w in page.warnings if problem in w)
    assert warning.startswith(f"cell 1: the recording of view {VIEW_ID}: ")
    assert warning.endswith("the replay ends before it (2 of 4 frames left out)")


def test_one_bad_recording_does_not_stop_the_other_views_from_replaying():
    nb = make_notebook(recording=_recording([0, 1, 2]))
    other = "aaaabbbbccccddddaaaabbbbccccdddd"
    broken = _recording([5, 6])
    broken[0]["rendered"]["0"] = float("nan")
    nb.metadata["widgets"][STATE_MIME]["state"][other] = _livewidget_model("<i>5</i>", broken)
    cell = nbformat.v4.new_code_cell("Other()")
    cell.outputs = [_widget_output(other, "<LiveWidget>")]
    nb.cells.append(cell)
    page = export_notebook(nb)
    assert (page.views, page.replays) == (2, 1)
    assert list(_page_recordings(page.html)) == [VIEW_ID]
    assert any(
        f"view {other} cannot be replayed: frame 0 holds the number nan" in w for w in page.warnings
    )
    assert _view_root(page.html, other).decode_contents() == "<i>5</i>"


@pytest.mark.parametrize(
    ("breaks", "warning"),
    [
        (
            lambda raw: raw["cells"][3]["outputs"][0].pop("output_type"),
            "cell 3, output 0: not valid",
        ),
        (lambda raw: raw["cells"][3]["outputs"][0].update(text=5), "cell 3, output 0: not valid"),
        (
            lambda raw: raw["cells"][3]["metadata"].update(tags=5),
            "cell 3, metadata 'tags': not valid",
        ),
        (lambda raw: raw["cells"][3].update(execution_count="x"), "cell 3, its execution count"),
        (lambda raw: raw["cells"][3].pop("source"), "cell 3: not valid nbformat 4 ('source' is a"),
        (lambda raw: raw["cells"].append(5), "cell 4: not valid"),
        (lambda raw: raw["metadata"].update(kernelspec=5), "the notebook's metadata 'kernelspec'"),
        (
            lambda raw: raw["cells"][3]["outputs"].append(
                {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": 5}}
            ),
            "cell 3, output 1: not valid",
        ),
    ],
)
def test_a_part_that_breaks_the_notebook_format_is_left_out_and_the_rest_exported(
    tmp_path: Path, capsys: Any, breaks: Any, warning: str
):
    raw = _raw()
    breaks(raw)
    code, err, html = _export_raw(tmp_path, capsys, json.dumps(raw))
    assert code == 0, err
    assert f"livewidget export: warning: {warning}" in err
    assert "; left out" in err
    assert _view_root(html).get_text() == SHOWN_TEXT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"cells": [], "nbformat": 4, "nbformat_minor": "x"}',
            "expected 'nbformat_minor' to be an int",
        ),
        ('{"cells": [], "nbformat": 5, "nbformat_minor": 0}', "expected nbformat 4, got 5"),
        (
            '{"cells": [], "nbformat": 4, "nbformat_minor": 5, "x": ' + "1" * 5000 + "}",
            "not a notebook",
        ),
        ('{"cells": [' + "[" * 5000 + "]" * 5000 + "]", "not a notebook: not JSON"),
    ],
)
def test_a_notebook_beyond_repair_fails_with_one_line(
    tmp_path: Path, capsys: Any, text: str, message: str
):
    code, err, html = _export_raw(tmp_path, capsys, text)
    assert code == 1
    assert html is None
    assert err.count("\n") == 1, err
    assert message in err


def test_the_command_prints_no_traceback_for_a_deep_notebook(tmp_path: Path):
    text = json.dumps(_raw()).replace(
        '"state": {"value": 3}', f'"state": {{"v": {_deep(100_000)}}}'
    )
    (tmp_path / "deep.ipynb").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "livewidget", "export", "deep.ipynb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "nests 100,007 levels deep" in result.stderr
    assert (tmp_path / "deep.html").is_file()


def test_text_from_the_notebook_cannot_drive_the_terminal(tmp_path: Path, capsys: Any):
    raw = _raw()
    raw["metadata"]["widgets"][STATE_MIME]["state"][VIEW_ID]["state"]["_recording"] = "\x1b[2J"
    raw["cells"][1]["outputs"][0]["data"][VIEW_MIME]["model_id"] = VIEW_ID
    model = raw["metadata"]["widgets"][STATE_MIME]["state"].pop(VIEW_ID)
    evil = "\x1b]0;pwned\x07" + VIEW_ID
    raw["metadata"]["widgets"][STATE_MIME]["state"][evil] = model
    raw["cells"][1]["outputs"][0]["data"][VIEW_MIME]["model_id"] = evil
    code, err, _ = _export_raw(tmp_path, capsys, json.dumps(raw))
    assert code == 0, err
    assert "\x1b" not in err
    assert "\\x1b]0;pwned\\x07" in err


def test_a_notebook_file_name_that_is_not_utf8_still_exports(tmp_path: Path, capsys: Any):
    source = tmp_path / os.fsdecode(b"demo\xff.ipynb")
    nbformat.write(make_notebook(), source)
    assert main(["export", str(source), "-o", str(tmp_path / "out.html")]) == 0, capsys.readouterr()
    assert "<title>demo\ufffd</title>" in (tmp_path / "out.html").read_text(encoding="utf-8")


def test_a_notebook_with_repairs_is_left_as_it_was():
    nb = make_notebook(recording=_recording([0, 1]))
    nb.cells[3].outputs[0]["text"] = "x\ud800"
    nb.metadata["widgets"][STATE_MIME]["state"][VIEW_ID]["state"]["_recording"][1]["t"] = float(
        "nan"
    )
    before = json.dumps(nb, sort_keys=True)
    page = export_notebook(nb)
    assert json.dumps(nb, sort_keys=True) == before
    assert len(page.warnings) == 2, page.warnings


# -- what an export trusts -------------------------------------------------------------------


def test_no_javascript_saved_with_the_notebook_gets_into_the_page():
    nb = make_notebook(recording=_recording([0, 1]))
    state = nb.metadata["widgets"][STATE_MIME]["state"][VIEW_ID]["state"]
    state["_esm"] = "globalThis.fromEsm = 1"
    state["_hooks"] = "export const Hook = { mounted() { globalThis.fromHooks = 1 } }"
    state["_css"] = "body { background: url(https://example.com/x.png) }"
    page = export_notebook(nb)
    for saved in ("fromEsm", "fromHooks", "example.com/x.png"):
        assert saved not in page.html
    scripts = BeautifulSoup(page.html, "html.parser").select("script")
    assert [s.get("type") for s in scripts] == ["application/json", None, None]
    assert scripts[2].string == "livewidgetReplay.startReplays(document);"


def test_a_charts_saved_module_is_not_in_the_page_only_its_figure():
    nb = make_notebook()
    models = nb.metadata["widgets"][STATE_MIME]["state"]
    models[SLIDER_ID] = {
        "model_name": "AnyModel",
        "model_module": "anywidget",
        "state": {
            "_anywidget_id": "plotly.graph_objs._figurewidget.FigureWidget",
            "_esm": "globalThis.fromPlotlyEsm = 1",
            "_widget_data": [{"type": "bar", "y": [1, 2]}],
            "_widget_layout": {"title": {"text": "</script><b>t</b>"}},
            "_config": {},
        },
    }
    page = export_notebook(nb)
    assert "fromPlotlyEsm" not in page.html
    soup = BeautifulSoup(page.html, "html.parser")
    figures = json.loads(soup.select_one("script#livewidget-figures").string)
    assert figures[SLIDER_ID]["layout"]["title"]["text"] == "</script><b>t</b>"
    assert (
        soup.select_one("[data-livewidget-figure] .lw-x-other")
        .get_text()
        .startswith("Chart: </script><b>t</b>")
    )


# -- widgets inside views, and containers ---------------------------------------------------

CHART_VIEW = """
import ipywidgets
import plotly.graph_objects as go
import livewidget as lw


class Chart(lw.LiveView):
    def mount(self, socket):
        self.slider = ipywidgets.IntSlider(value=7, max=20, description="window")
        self.figure = go.FigureWidget(go.Scatter(x=[1, 2, 3], y=[30, 10, 20], name="revenue"))
        socket.assign(window=7)

    def render(self, ctx):
        return lw.html(
            '<div><p id="w">Window {window}</p>{slider}{figure}</div>',
            window=ctx.window, slider=self.slider, figure=self.figure,
        )
"""


def _executed(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    lw_export.execute_notebook(nb, timeout=60)
    return nb


def test_a_view_holding_a_slider_and_a_chart_exports_both_from_the_executed_notebook():
    nb = _executed(CHART_VIEW, "Chart()")
    page = export_notebook(nb)
    soup = BeautifulSoup(page.html, "html.parser")
    view = soup.select_one(".livewidget .lw-root")
    assert view is not None
    assert view.select_one("#w").get_text() == "Window 7"
    slider = view.select_one(".lw-child .lw-x-slider")
    assert slider is not None, "the slider is drawn inside the view's placeholder"
    assert slider.select_one("input[type=range]")["value"] == "7"
    assert slider.select_one(".lw-x-desc").get_text() == "window"
    assert slider.select_one("output").get_text() == "7"
    chart = view.select_one(".lw-child [data-livewidget-figure]")
    assert chart is not None, "the chart has its place inside the view"
    figures = json.loads(soup.select_one("script#livewidget-figures").string)
    figure = figures[chart["data-livewidget-figure"]]
    assert figure["data"][0]["y"] == [30, 10, 20]
    assert "livewidgetChildren.drawFigures(document, window.Plotly)" in page.html
    assert external_references(page.html) == []
    assert page.warnings == []


def _saved(model_name: str, state: dict[str, Any]) -> dict[str, Any]:
    return {"model_name": model_name, "model_module": "@jupyter-widgets/controls", "state": state}


def test_views_inside_a_tab_export_as_panes_with_their_titles():
    nb = make_notebook()
    models = nb.metadata["widgets"][STATE_MIME]["state"]
    second = "ab" * 16
    models[second] = _livewidget_model('<b id="second">two</b>')
    tab = "cd" * 16
    models[tab] = _saved(
        "TabModel",
        {
            "children": [f"IPY_MODEL_{VIEW_ID}", f"IPY_MODEL_{second}"],
            "titles": ["First <view>", "Second"],
            "selected_index": 0,
        },
    )
    nb.cells[2].outputs = [_widget_output(tab, "Tab(...)")]
    page = export_notebook(nb)
    soup = BeautifulSoup(page.html, "html.parser")
    panes = soup.select(".lw-x-panes > .lw-x-pane")
    assert [p.select_one(".lw-x-title").get_text() for p in panes] == ["First <view>", "Second"]
    assert panes[0].select_one(f'.livewidget[{MODEL_ATTR}="{VIEW_ID}"]').get_text() == SHOWN_TEXT
    assert panes[1].select_one("#second").get_text() == "two"


def test_a_widget_shown_inside_itself_is_drawn_once_and_named():
    nb = make_notebook()
    models = nb.metadata["widgets"][STATE_MIME]["state"]
    models[SLIDER_ID] = _saved("HBoxModel", {"children": [f"IPY_MODEL_{SLIDER_ID}"]})
    page = export_notebook(nb)
    soup = BeautifulSoup(page.html, "html.parser")
    assert (
        soup.select_one(".lw-x-row .lw-x-other").get_text() == "Widget: HBox, shown inside itself"
    )


def test_a_childs_text_is_escaped_and_an_html_widget_is_html():
    nb = make_notebook(
        html='<p>{<span class="lw-child" data-lw-widget="' + "ee" * 16 + '"></span>}</p>'
    )
    models = nb.metadata["widgets"][STATE_MIME]["state"]
    models["ee" * 16] = _saved(
        "VBoxModel", {"children": [f"IPY_MODEL_{'11' * 16}", f"IPY_MODEL_{'22' * 16}"]}
    )
    models["11" * 16] = _saved("LabelModel", {"value": "<b>label</b>", "description": "<i>d</i>"})
    models["22" * 16] = _saved("HTMLModel", {"value": "<b id='bold'>html</b>"})
    soup = BeautifulSoup(export_notebook(nb).html, "html.parser")
    label = soup.select_one(".lw-x-label")
    assert label.get_text() == "<i>d</i><b>label</b>"
    assert label.select("b, i") == []
    assert soup.select_one(".lw-x-html #bold").get_text() == "html"


def test_pickers_selections_a_player_a_valid_and_an_image_export_with_their_saved_values():
    ids = [f"{n:02x}" * 16 for n in range(0x31, 0x3A)]
    nb = make_notebook(
        html="<p>"
        + "".join(f'<span class="lw-child" data-lw-widget="{i}"></span>' for i in ids)
        + "</p>"
    )
    models = nb.metadata["widgets"][STATE_MIME]["state"]
    png = "iVBORw0KGgo="  # (the first bytes of a PNG: what matters is the URL it makes)
    saved = [
        _saved("FloatLogSliderModel", {"value": 100.0, "base": 10, "min": 0, "max": 4}),
        _saved("ColorPickerModel", {"value": "#1af", "concise": False}),
        _saved("DatePickerModel", {"value": {"year": 2026, "month": 10, "date": 29}}),
        _saved("SelectMultipleModel", {"_options_labels": ["N", "S", "E"], "index": [0, 2]}),
        _saved("SelectionSliderModel", {"_options_labels": ["lo", "mid", "hi"], "index": 1}),
        _saved("ValidModel", {"value": False, "readout": "<too big>"}),
        _saved("PlayModel", {"value": 7, "description": "step"}),
        {
            **_saved("ImageModel", {"format": "png", "width": "40", "height": ""}),
            "buffers": [{"path": ["value"], "data": png, "encoding": "base64"}],
        },
        _saved("ImageModel", {"format": 'png" onerror="x', "width": ""}),  # no bytes saved
    ]
    models.update(zip(ids, saved, strict=True))
    soup = BeautifulSoup(export_notebook(nb).html, "html.parser")
    log = soup.select_one(f'[data-lw-widget="{ids[0]}"] input[type=range]')
    assert (log["value"], log["max"]) == ("2", "4")  # the thumb at the exponent
    assert soup.select_one(f'[data-lw-widget="{ids[0]}"] output').get_text() == "100"
    color = soup.select_one(f'[data-lw-widget="{ids[1]}"]')
    assert color.select_one("input[type=color]")["value"] == "#11aaff"
    assert color.select_one("output").get_text() == "#1af"
    date = soup.select_one(f'[data-lw-widget="{ids[2]}"] input[type=date]')
    assert date["value"] == "2026-11-29"  # ipywidgets' month counts from 0
    chosen = soup.select(f'[data-lw-widget="{ids[3]}"] select[multiple] option[selected]')
    assert [o.get_text() for o in chosen] == ["N", "E"]
    assert soup.select_one(f'[data-lw-widget="{ids[4]}"] output').get_text() == "mid"
    assert soup.select_one(f'[data-lw-widget="{ids[5]}"] .lw-x-invalid').get_text() == (
        "\u2718 <too big>"
    )
    assert soup.select_one(f'[data-lw-widget="{ids[6]}"] output').get_text() == "7"
    image = soup.select_one(f'[data-lw-widget="{ids[7]}"] img')
    assert (image["src"], image["width"], image.get("height")) == (
        f"data:image/png;base64,{png}",
        "40",
        None,
    )
    unsaved = soup.select_one(f'[data-lw-widget="{ids[8]}"]')
    assert unsaved.select("img") == []
    assert "not saved with the notebook" in unsaved.get_text()


def test_malformed_saved_values_of_the_new_widgets_export_with_defaults_not_a_traceback():
    ids = [f"{n:02x}" * 16 for n in range(0x41, 0x45)]
    nb = make_notebook(
        html="<p>"
        + "".join(f'<span class="lw-child" data-lw-widget="{i}"></span>' for i in ids)
        + "</p>"
    )
    models = nb.metadata["widgets"][STATE_MIME]["state"]
    saved = [
        _saved("SelectMultipleModel", {"_options_labels": ["a", "b"], "index": [[0], {}, 1]}),
        _saved("PlayModel", {"value": 10**400}),  # no float holds it
        _saved("FloatLogSliderModel", {"value": 5.0, "readout_format": "300000000"}),
        _saved("DatePickerModel", {"value": {"year": 2026, "month": 40, "date": 1}}),
    ]
    models.update(zip(ids, saved, strict=True))
    soup = BeautifulSoup(export_notebook(nb).html, "html.parser")
    chosen = soup.select(f'[data-lw-widget="{ids[0]}"] option[selected]')
    assert [o.get_text() for o in chosen] == ["b"]
    assert soup.select_one(f'[data-lw-widget="{ids[1]}"] output').get_text() == "0"
    assert soup.select_one(f'[data-lw-widget="{ids[2]}"] output').get_text() == "5.00"
    assert soup.select_one(f'[data-lw-widget="{ids[3]}"] input')["value"] == ""

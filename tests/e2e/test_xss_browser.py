"""Data that would be JS commands runs nothing in a real JupyterLab, at either of two layers.

The issue's attack: a row's ``action`` from data, put in ``phx-click="{action}"``, was parsed
by the page as JS commands; one click set an ``onerror`` and a ``src`` on an image, and the
handler wrote a file through ``/api/contents`` with the user's XSRF cookie. Here:

* the template layer: the same data reaching a view's and a component's binding is a
  ``TemplateError``, shown in the widget; the page keeps the last good render, whose buttons
  still send their harmless events;
* the front-end layer: even commands that reach the page as trusted markup (``lw.Markup``, as
  if a template had let them through) are refused whole when clicked, in each way the attack
  could go (``onerror``, a ``javascript:`` href or formaction, ``srcdoc``, ``toggle_attr``,
  ``exec`` of a data attribute);
* ``lw.JS.set_attribute("onerror", ...)`` in a notebook cell raises.

"Runs nothing" is seen four ways: the sink element keeps its attributes, ``window.__xss`` (which
the payload sets) stays unset, no dialog opens, and no request reaches the payload's URL, and
the file it would write is not on the server. A control test runs the payload directly and sees
the file written, so these checks can fail.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from jupyter_e2e import JupyterServer, Notebook
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# What the payload did: write a file through the contents API with the XSRF cookie.
STEAL = """
def steal(marker):
    return (
        "window.__xss=1;fetch('/api/contents/" + marker + "',{method:'PUT',headers:{"
        "'Content-Type':'application/json','X-XSRFToken':"
        "(document.cookie.match(/_xsrf=([^;]+)/)||[])[1]},"
        "body:JSON.stringify({type:'file',format:'text',content:'pwned'})})"
    )
"""

TEMPLATE_LAYER = (
    STEAL
    + r"""
import json
import livewidget as lw

# The issue's data: a row's "action" that the page would run as JS commands.
ISSUE_ACTION = json.dumps([
    ["set_attr", {"to": "#sink-view", "attr": ["onerror", steal("xss-view.txt")]}],
    ["set_attr", {"to": "#sink-view", "attr": ["src", "x"]}],
])


class Row(lw.LiveComponent):
    def mount(self, socket):
        socket.assign(clicks=0)

    def handle_event(self, event, params, socket):
        socket.assign(clicks=socket.context.clicks + 1)

    def render(self, ctx):
        return lw.html(
            '<button id="row" phx-click="{action}" phx-target="{myself}">row {clicks}</button>',
            **ctx,
        )


class Rows(lw.LiveView):
    def mount(self, socket):
        socket.assign(action="select", row_action="open", selected=0)

    def handle_event(self, event, params, socket):
        if event == "load":  # data arrives for the view's binding
            socket.assign(action=ISSUE_ACTION)
        elif event == "load-row":  # and for the component's
            socket.assign(row_action=ISSUE_ACTION)
        elif event == "select":
            socket.assign(selected=socket.context.selected + 1)

    def render(self, ctx):
        return lw.html(
            '<img id="sink-view" alt="sink"><b id="selected">{selected}</b>'
            '<button id="load" phx-click="load">load</button>'
            '<button id="load-row" phx-click="load-row">load row</button>'
            '<button id="go" phx-click="{action}">go</button>{row}',
            row=lw.live_component(Row, id="r1", action=ctx.row_action),
            **ctx,
        )


Rows()
"""
)

FRONT_END_LAYER = (
    STEAL
    + r"""
import json
import livewidget as lw
from markupsafe import escape

S = steal("xss-page.txt")
ATTEMPTS = {
    "onerror": [["set_attr", {"to": "#sink-page", "attr": ["onerror", S]}],
                ["set_attr", {"to": "#sink-page", "attr": ["src", "x"]}]],
    "href": [["set_attr", {"to": "#link", "attr": ["href", "javascript:" + S]}],
             ["dispatch", {"to": "#link", "event": "click"}]],
    "formaction": [["set_attr", {"to": "#submit", "attr": ["formaction", " JavaScript:" + S]}],
                   ["dispatch", {"to": "#submit", "event": "click"}]],
    "srcdoc": [["set_attr", {"to": "#frame",
                             "attr": ["srcdoc", "<script>parent." + S + "</script>"]}]],
    "toggle": [["toggle_attr", {"to": "#sink-page", "attr": ["onclick", S]}],
               ["dispatch", {"to": "#sink-page", "event": "click"}]],
    "exec": [["exec", {"attr": "data-x", "to": "#holder"}]],
}
DATA_COMMANDS = json.dumps(ATTEMPTS["onerror"])


class Trusted(lw.LiveView):
    # As if a template had let the commands through: lw.Markup is trusted by the template.
    def render(self, ctx):
        buttons = [
            lw.html('<button id="try-{name}" phx-click="{js}">{name}</button>',
                    name=name, js=lw.Markup(escape(json.dumps(commands))))
            for name, commands in ATTEMPTS.items()
        ]
        return lw.html(
            '<img id="sink-page" alt="sink"><a id="link" href="#top">link</a>'
            '<form id="form"><button id="submit" type="submit">submit</button></form>'
            '<iframe id="frame" title="frame"></iframe><p id="holder" data-x="{data}">h</p>'
            "{buttons}",
            data=DATA_COMMANDS,
            buttons=buttons,
        )


Trusted()
"""
)


@dataclass
class Watched:
    """A notebook page, with every request it makes and every dialog it opens."""

    nb: Notebook
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def page(self) -> Any:
        return self.nb.page


@pytest.fixture
def watched(lab: JupyterServer, open_notebook: Callable[..., Notebook]) -> Iterator[Watched]:
    watch = Watched(open_notebook(lab, "counter.ipynb"))
    watch.page.on("request", lambda request: watch.requests.append(request.url))

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    watch.page.on("dialog", on_dialog)
    yield watch
    watch.nb.close()


def on_server(lab: JupyterServer, name: str) -> bool:
    """True if the file is in the server's root (the contents API answers 200, else 404)."""
    try:
        lab.api("GET", f"api/contents/{name}")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        return False
    return True


def ran_nothing(watch: Watched, lab: JupyterServer, marker: str) -> None:
    assert watch.page.evaluate("() => window.__xss") is None
    assert watch.dialogs == []
    assert [url for url in watch.requests if marker in url or url.startswith("javascript:")] == []
    assert not on_server(lab, marker)


def test_the_payload_writes_a_file_when_it_does_run(lab: JupyterServer, watched: Watched) -> None:
    """The control: run directly, the issue's payload writes the file, and the checks see it."""
    page = watched.page
    page.evaluate(
        "() => { window.__xss = 1; return fetch('/api/contents/xss-control.txt', {method: 'PUT',"
        " headers: {'Content-Type': 'application/json', 'X-XSRFToken':"
        " (document.cookie.match(/_xsrf=([^;]+)/) || [])[1]}, body: JSON.stringify({type:"
        " 'file', format: 'text', content: 'pwned'})}).then((r) => r.status); }"
    )
    try:
        assert on_server(lab, "xss-control.txt")
        with pytest.raises(AssertionError):
            ran_nothing(watched, lab, "xss-control.txt")
    finally:
        lab.api("DELETE", "api/contents/xss-control.txt")


def test_js_command_data_in_a_view_s_or_component_s_binding_is_refused_and_runs_nothing(
    lab: JupyterServer, watched: Watched
) -> None:
    watched.nb.run_code(TEMPLATE_LAYER)
    page = watched.page
    widget = page.locator(".livewidget", has=page.locator("#sink-view"))
    expect(widget.locator("#selected")).to_have_text("0", timeout=30_000)
    sink = widget.locator("#sink-view")
    before = sink.evaluate("(el) => el.outerHTML")

    widget.locator("#load").click()  # the data reaches the view's phx-click="{action}"
    banner = widget.locator(".lw-error").first
    expect(banner).to_contain_text("TemplateError in render")
    expect(banner).to_contain_text("{action} in phx-click")
    expect(banner).to_contain_text("lw.JS.push(")
    widget.locator("#go").click()  # the last good render's binding: the harmless event
    expect(widget.locator("#selected")).to_have_text("1")

    widget.locator("#load-row").click()  # and the component's
    expect(widget.locator(".lw-error").nth(1)).to_contain_text("{action} in phx-click")
    # The component keeps the refused assigns until its parent renders again (the runtime's
    # rollback covers the view's context only): a parent render first, then the row's event.
    widget.locator("#go").click()
    expect(widget.locator("#selected")).to_have_text("2")
    widget.locator("#row").click()
    expect(widget.locator("#row")).to_have_text("row 1")

    assert widget.locator("[phx-click^='[']").count() == 0  # no binding on the page is commands
    assert sink.evaluate("(el) => el.outerHTML") == before
    ran_nothing(watched, lab, "xss-view.txt")


def test_js_commands_that_reach_the_page_are_refused_whole_when_clicked(
    lab: JupyterServer, watched: Watched
) -> None:
    watched.nb.run_code(FRONT_END_LAYER)
    page = watched.page
    widget = page.locator(".livewidget", has=page.locator("#sink-page"))
    expect(widget.locator("#try-exec")).to_be_visible(timeout=30_000)
    shape = "(el) => el.outerHTML"
    before = {
        sel: widget.locator(sel).evaluate(shape) for sel in ("#sink-page", "#link", "#submit")
    }
    before["#frame"] = widget.locator("#frame").evaluate(shape)

    banners = widget.locator(".lw-error")
    for name, reason in [
        ("onerror", 'event-handler attributes ("onerror")'),
        ("href", 'never set "href" to a URL that can run script'),
        ("formaction", 'never set "formaction" to a URL that can run script'),
        ("srcdoc", 'never set "srcdoc"'),
        ("toggle", 'event-handler attributes ("onclick")'),
        (
            "exec",
            'exec reads only phx-* binding attributes (phx-click, phx-cancel...), not "data-x"',
        ),
    ]:
        widget.locator(f"#try-{name}").click()
        expect(banners).to_have_count(1)  # one banner for the whole list: none of it ran
        expect(banners).to_contain_text("JS commands refused, none of them ran")
        expect(banners).to_contain_text(reason)
        banners.locator(".lw-error-dismiss").click()
        expect(banners).to_have_count(0)

    for selector, html in before.items():
        assert widget.locator(selector).evaluate(shape) == html, selector
    assert "counter.ipynb" in page.url  # the form was not submitted: no navigation
    ran_nothing(watched, lab, "xss-page.txt")


def test_author_written_set_attribute_of_an_event_handler_raises(watched: Watched) -> None:
    outputs = watched.nb.run_code(
        'import livewidget as lw\nlw.JS.set_attribute("onerror", "alert(1)", to="#sink")',
        check=False,
    )
    [error] = [o for o in outputs if o.get("output_type") == "error"]
    assert error["ename"] == "ValueError"
    assert "never set event-handler attributes (on*)" in error["evalue"]

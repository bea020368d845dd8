"""Interactivity in a real JupyterLab: form change and submit, keys, a hook, components, and
errors that show in the widget while the view lives on.

Each test opens one of the demo notebooks (or runs a cell) and does what a user would do.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from jupyter_e2e import JupyterServer, Notebook
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ROOT = ".livewidget .lw-root"


def _open(lab: JupyterServer, open_notebook: Callable[..., Notebook], name: str) -> Notebook:
    nb = open_notebook(lab, name)
    nb.run_all()
    expect(nb.page.locator(ROOT).first).to_be_visible(timeout=30_000)
    return nb


def test_a_form_validates_on_change_and_saves_on_submit(
    lab: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    nb = _open(lab, open_notebook, "form.ipynb")
    page = nb.page
    name = page.locator(f"{ROOT} #user-name").first
    name.click()
    name.press_sequentially("A", delay=50)
    expect(page.locator(f"{ROOT} #error-name").first).to_have_text("at least 2 characters")
    name.press_sequentially("da", delay=50)
    expect(page.locator(f"{ROOT} #error-name").first).to_have_text("")
    expect(name).to_have_value("Ada")  # typing was never undone by a render
    expect(name).to_be_focused()
    page.locator(f"{ROOT} #user-email").first.fill("ada@example.org")
    page.locator(f"{ROOT} #user-age").first.fill("36")
    page.locator(f"{ROOT} #signup button[type=submit]").first.click()
    expect(page.locator(f"{ROOT} #saved").first).to_have_text("Welcome, Ada!")
    assert nb.widget_errors() == []
    nb.close()


def test_keys_move_the_marker_and_enter_adds_a_word(
    lab: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    nb = _open(lab, open_notebook, "keyboard.ipynb")
    page = nb.page
    position = page.locator(f"{ROOT} #pos").first
    expect(position).to_have_text("2,2")
    page.locator(f"{ROOT} #grid").first.click()  # focus the page, not a notebook cell editor
    page.keyboard.press("ArrowRight")
    expect(position).to_have_text("3,2")
    page.keyboard.press("ArrowUp")
    expect(position).to_have_text("3,1")
    word = page.locator(f"{ROOT} #word").first
    word.fill("hello")
    word.press("Enter")
    expect(page.locator(f"{ROOT} #words li").first).to_have_text("hello")
    assert nb.widget_errors() == []
    nb.close()


def test_a_component_handles_its_own_events(
    lab: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    nb = _open(lab, open_notebook, "todos.ipynb")
    page = nb.page
    first = page.locator(f"{ROOT} #todo-1").first
    expect(first).to_have_class("open")
    first.locator("input[type=checkbox]").click()
    expect(first).to_have_class("done")
    expect(page.locator(f"{ROOT} #todo-2").first).to_have_class("open")
    page.locator(f"{ROOT} #add input[name=text]").first.fill("Call mum")
    page.locator(f"{ROOT} #add button").first.click()
    expect(page.locator(f"{ROOT} #todo-3 span").first).to_have_text("Call mum")
    expect(first).to_have_class("done")  # the row kept its own state through the parent render
    assert nb.widget_errors() == []
    nb.close()


def test_a_hook_pushes_events_and_hears_pushed_ones(
    lab: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    nb = _open(lab, open_notebook, "hooks.ipynb")
    page = nb.page
    canvas = page.locator(f"{ROOT} #canvas").first
    expect(canvas).to_have_attribute("data-drawn", "0")  # mounted() ran
    canvas.click(position={"x": 40, "y": 50})
    expect(page.locator(f"{ROOT} #count").first).to_have_text("1")
    expect(canvas).to_have_attribute("data-drawn", "1")  # updated() ran after the patch
    expect(canvas).to_have_css("border-top-color", "rgb(255, 99, 71)")  # handleEvent("flash")
    assert nb.widget_errors() == []
    nb.close()


FAILING = """
import livewidget as lw

class Fragile(lw.LiveView):
    def mount(self, socket):
        socket.assign(n=0)

    def handle_event(self, event, params, socket):
        if event == "inc":
            socket.assign(n=socket.context.n + 1)
        else:
            raise ValueError(f"no such event: {event}")

    def handle_info(self, info, socket):
        raise RuntimeError("the data source is down")

    def render(self, ctx):
        return lw.html(
            '<b id="n">{n}</b><button id="inc" phx-click="inc">+</button>'
            '<button id="bogus" phx-click="bogus">?</button>', **ctx)

fragile = Fragile()
fragile
"""


def test_errors_show_in_the_widget_and_the_view_lives_on(
    lab: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    nb = open_notebook(lab, "counter.ipynb")
    nb.run_code(FAILING)
    page = nb.page
    widget = page.locator(".livewidget", has=page.locator("#bogus"))
    expect(widget.locator("#n")).to_have_text("0", timeout=30_000)
    widget.locator("#inc").click()
    expect(widget.locator("#n")).to_have_text("1")
    widget.locator("#bogus").click()
    banner = widget.locator(".lw-error")
    expect(banner).to_contain_text("ValueError in handle_event('bogus'): no such event: bogus")
    expect(banner.locator("details")).to_contain_text("Traceback")
    banner.locator(".lw-error-dismiss").click()
    expect(banner).to_have_count(0)
    nb.run_code("fragile.widget.send_info('refresh')", check=False)
    expect(widget.locator(".lw-error")).to_contain_text("RuntimeError in handle_info")
    widget.locator("#inc").click()  # the view kept its state and still answers
    expect(widget.locator("#n")).to_have_text("2")
    nb.close()

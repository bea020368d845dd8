"""The demo notebooks in a real JupyterLab: the DOM ticks, is patched in place, and events reach
Python.

Contract (notebooks/dashboard.ipynb, notebooks/counter.ipynb):
- dashboard: inside ``.livewidget .lw-root`` an ``<h1>Sales Dashboard</h1>``, ``#new-orders``,
  ``#sales-amount``, ``#rating`` (new text every second) and a text input ``#note`` that no
  handler touches.
- counter: ``#count`` (starts at 0), ``#inc`` (phx-click="inc" phx-value-by="1"), ``#dec``, a form
  ``#rename`` (phx-submit="rename") with ``input[name=name]`` and a submit button; ``#name`` shows
  the name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from jupyter_e2e import JupyterServer, Notebook, sample_texts, wait_for_text_changes
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ROOT = ".livewidget .lw-root"
NEW_ORDERS = f"{ROOT} #new-orders"
SALES = f"{ROOT} #sales-amount"


def _no_widget_errors(nb: Notebook) -> None:
    assert nb.widget_errors() == [], nb.widget_errors()


@pytest.fixture(scope="module")
def dashboard(lab: JupyterServer, open_notebook: Callable[..., Notebook]) -> Iterator[Notebook]:
    nb = open_notebook(lab, "dashboard.ipynb")
    nb.run_all()
    expect(nb.page.locator(f"{ROOT} h1")).to_have_text("Sales Dashboard", timeout=30_000)
    yield nb
    nb.close()  # stop its page (and so its ticking) before the counter's


@pytest.fixture(scope="module")
def counter(lab: JupyterServer, open_notebook: Callable[..., Notebook]) -> Iterator[Notebook]:
    nb = open_notebook(lab, "counter.ipynb")
    nb.run_all()
    expect(nb.page.locator(f"{ROOT} #count")).to_have_text("0", timeout=30_000)
    yield nb
    nb.close()


# -- dashboard ------------------------------------------------------------------------------


def test_dashboard_numbers_change_every_second(dashboard: Notebook) -> None:
    seen = sample_texts(dashboard.page, [NEW_ORDERS, SALES], duration_ms=4000, interval_ms=20)
    assert all(None not in s for s in seen), seen
    changes = len(seen) - 1
    assert changes >= 3, f"{changes} changes in 4 s: {seen}"
    _no_widget_errors(dashboard)


def test_dashboard_patches_in_place(dashboard: Notebook) -> None:
    page = dashboard.page
    # tag the nodes; a patch in place keeps them, a re-render (of the view or of the whole
    # output) makes new ones without the tag
    tagged = ["h1", ".lw-root", ".livewidget"]
    page.evaluate(
        """([root, tagged]) => {
          const h1 = document.querySelector(root + ' h1');
          for (const sel of tagged) h1.closest(sel).__lwMarker = 1;
        }""",
        [ROOT, tagged],
    )
    wait_for_text_changes(page, SALES, 10, timeout_ms=20_000)
    kept = page.evaluate(
        """([root, tagged]) => {
          const h1s = document.querySelectorAll(root + ' h1');
          const kept = {count: h1s.length};
          for (const sel of tagged) kept[sel] = h1s[0].closest(sel).__lwMarker === 1;
          return kept;
        }""",
        [ROOT, tagged],
    )
    assert kept == {"count": 1, "h1": True, ".lw-root": True, ".livewidget": True}, (
        f"after 10 updates, which tagged nodes are still the same DOM node: {kept}"
    )
    _no_widget_errors(dashboard)


def test_dashboard_typing_keeps_focus_and_value(dashboard: Notebook) -> None:
    page = dashboard.page
    note = page.locator(f"{ROOT} #note")
    note.click()
    expect(note).to_be_focused()
    t0 = time.monotonic()
    note.press_sequentially("hello", delay=250)  # spans at least one tick
    typed_for = time.monotonic() - t0
    wait_for_text_changes(page, NEW_ORDERS, 2, timeout_ms=10_000)
    state = page.evaluate(
        """([sel]) => {
          const el = document.querySelector(sel);
          return {focused: document.activeElement === el, value: el.value,
                  start: el.selectionStart};
        }""",
        [f"{ROOT} #note"],
    )
    assert state == {"focused": True, "value": "hello", "start": 5}, (state, typed_for)
    _no_widget_errors(dashboard)


# -- counter --------------------------------------------------------------------------------


def test_counter_clicks_reach_python(counter: Notebook) -> None:
    count = counter.page.locator(f"{ROOT} #count")
    expect(count).to_have_text("0")
    inc = counter.page.locator(f"{ROOT} #inc")
    inc.click()
    inc.click()
    expect(count).to_have_text("2")
    _no_widget_errors(counter)


def test_counter_form_submit_reaches_python(counter: Notebook) -> None:
    page = counter.page
    url = page.url
    form = page.locator(f"{ROOT} #rename")
    form.locator("input[name=name]").fill("Ada")
    form.locator("button[type=submit], input[type=submit]").first.click()
    expect(page.locator(f"{ROOT} #name")).to_have_text("Ada")
    # phx-submit handled the submit: the page did not navigate away from JupyterLab
    assert page.url == url
    assert page.evaluate("() => !!window.jupyterapp")
    _no_widget_errors(counter)


# -- Notebook 7 -------------------------------------------------------------------------------


def test_notebook7_shows_the_dashboard_ticking_and_the_counter_answering(
    notebook7: JupyterServer, open_notebook: Callable[..., Notebook]
) -> None:
    """Notebook 7's widget manager: the views' renders come on the kernel's hub, their events
    go up their own comms; both work there as in JupyterLab."""
    board = open_notebook(notebook7, "dashboard.ipynb")
    try:
        assert board.js("return app.name;") == "Jupyter Notebook"
        board.run_all()
        expect(board.page.locator(f"{ROOT} h1")).to_have_text("Sales Dashboard", timeout=30_000)
        seen = sample_texts(board.page, [NEW_ORDERS, SALES], duration_ms=4000, interval_ms=20)
        assert len(seen) - 1 >= 3, f"{len(seen) - 1} changes in 4 s: {seen}"
        _no_widget_errors(board)
    finally:
        board.close()
    counter = open_notebook(notebook7, "counter.ipynb")
    try:
        counter.run_all()
        count = counter.page.locator(f"{ROOT} #count")
        expect(count).to_have_text("0", timeout=30_000)
        counter.page.locator(f"{ROOT} #inc").click()
        counter.page.locator(f"{ROOT} #inc").click()
        expect(count).to_have_text("2")
        _no_widget_errors(counter)
    finally:
        counter.close()

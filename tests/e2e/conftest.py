"""End-to-end harness: a real JupyterLab / Notebook 7 server driven by headless Debian Chromium.

Fixtures (the helpers they return, ``JupyterServer`` and ``Notebook``, and the DOM samplers
``sample_texts`` / ``wait_for_text_changes`` are in jupyter_e2e.py, with their API):

- ``browser``       session: one headless Chromium (``/usr/bin/chromium``) through Playwright.
- ``lab``           module: a JupyterLab server (``JupyterServer``) in an isolated temp root.
- ``notebook7``     module: a Notebook 7 server, same isolation.
- ``open_notebook`` module: ``open_notebook(server, "name.ipynb") -> Notebook`` opens the file
                    in a new browser context and page and waits until its kernel is idle.

Every page's console errors and uncaught page errors are collected; after each test, any that is
not in ``ALLOWED_CONSOLE_ERRORS`` fails the test.  On failure the server log tail and the browser
console are attached to the report.  After each server stops, no process that mentions its temp
root (server, kernels) may remain, or the module errors.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_e2e import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LIVE_SERVERS,
    NOTEBOOKS,
    WATCHES,
    JupyterServer,
    Notebook,
    free_port,
)


def _server_fixture(kind: str, *extra_args: str) -> Iterator[JupyterServer]:
    tmp = Path(tempfile.mkdtemp(prefix=f"lw-e2e-{kind}-"))
    root = tmp / "root"  # no `livewidget` directory here: it would shadow the package
    root.mkdir()
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        shutil.copy2(nb, root / nb.name)
    server = JupyterServer(
        kind=kind,
        tmp=tmp,
        root=root,
        port=free_port(),
        token=secrets.token_hex(16),
        log_path=tmp / "server.log",
        extra_args=extra_args,
    )
    LIVE_SERVERS.append(server)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        LIVE_SERVERS.remove(server)
        keep = os.environ.get("LIVEWIDGET_E2E_KEEP_TMP")
        if keep:
            print(f"\nkept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if server.stray:
        pytest.fail(
            f"processes left behind by the {kind} server (killed now):\n"
            + "\n".join(f"  {pid} {cmd}" for pid, cmd in server.stray)
        )


@pytest.fixture(scope="module")
def lab() -> Iterator[JupyterServer]:
    """A JupyterLab server for this module (notebooks/*.ipynb copied into its root)."""
    yield from _server_fixture("lab")


# Well under livewidget's own cap of 400 IOPub messages a second, so that a storm of updates
# makes the server drop messages, as a loaded server may drop them on its own.
LOSSY_IOPUB_MSG_RATE = 100


@pytest.fixture(scope="module")
def lossy_lab() -> Iterator[JupyterServer]:
    """A JupyterLab server that drops IOPub messages beyond LOSSY_IOPUB_MSG_RATE a second."""
    yield from _server_fixture(
        "lab", f"--ZMQChannelsWebsocketConnection.iopub_msg_rate_limit={LOSSY_IOPUB_MSG_RATE}"
    )


@pytest.fixture(scope="module")
def notebook7() -> Iterator[JupyterServer]:
    """A Notebook 7 server for this module (same isolation as ``lab``)."""
    yield from _server_fixture("notebook")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the session (Playwright gives it a fresh profile)."""
    from playwright.sync_api import expect, sync_playwright

    # expect() keeps a 5 s default of its own; many of its checks wait on a round trip through
    # the kernel (or on widgets restored after a reload), so give it the pages' 30 s.
    expect.set_options(timeout=30_000)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (never playwright install)")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture(scope="module")
def open_notebook(browser: Any) -> Iterator[Callable[..., Notebook]]:
    """``open_notebook(server, "name.ipynb") -> Notebook``: a new page, ready and idle.

    Pages opened through it are closed when the module ends (before its server stops)."""
    opened: list[Notebook] = []

    def _open(server: JupyterServer, path: str) -> Notebook:
        nb = Notebook(server, browser, path)
        opened.append(nb)
        return nb.open()

    yield _open
    for nb in opened:
        nb.close()


# --------------------------------------------------------------------------------------------
# Checks after each test, reports on failure
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _browser_console_guard() -> Iterator[None]:
    """Fail a test on console errors not judged yet: its own, and those of the module-scoped
    fixtures it set up (opening a page and running it happen before this fixture starts)."""
    yield
    bad = [f"{w.name}: {e}" for w in WATCHES for e in w.new_unexpected()]
    if bad:
        pytest.fail("unexpected browser console errors:\n" + "\n".join(bad), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for s in list(LIVE_SERVERS):
            report.sections.append((f"jupyter {s.kind} server log (tail)", s.log_tail()))
        for w in WATCHES:
            if w.entries:
                report.sections.append((f"browser console {w.name}", "\n".join(w.entries[-80:])))

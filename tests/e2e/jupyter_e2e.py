"""The e2e harness's library: a Jupyter server in a temp root, a notebook page, console checks.

Fixtures that use it live in conftest.py beside this file; tests import names from here
(``from jupyter_e2e import Notebook, JupyterServer``), pytest puts this folder on sys.path.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
VENV_BIN = (
    REPO / ".venv" / "bin" if (REPO / ".venv" / "bin").is_dir() else Path(sys.executable).parent
)
CHROMIUM = os.environ.get("LIVEWIDGET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

SERVER_START_TIMEOUT = 60.0  # seconds; ~2 s seen
NOTEBOOK_READY_TIMEOUT = 60.0  # seconds: app restored, context + session ready, kernel idle
RUN_TIMEOUT = 120.0  # seconds for run-all / run-cell

# Console errors (regular expressions, searched) that are known noise and do not fail a test,
# per front end ("lab", "notebook"; "*" for all).  Add one only after seeing it in a run, with a
# note on where it comes from.
ALLOWED_CONSOLE_ERRORS: dict[str, list[str]] = {
    "*": [],
    # Notebook 7.6's shortcut settings plugin reads the schema of a plugin that is not loaded,
    # on every page load, with or without our settings files.
    "notebook": [r"\[pageerror\] Cannot read properties of undefined \(reading 'schema'\)"],
    "lab": [],
}

LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyter-widgets/jupyterlab-manager/plugin": {"saveState": True},
    # off-screen outputs stay in the DOM
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # no news or update checks: this machine has no internet
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

SERVER_CONFIG: dict[str, Any] = {
    "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
}


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def processes_mentioning(text: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose command line contains ``text``."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        cmd = raw.replace(b"\0", b" ").decode(errors="replace").strip()
        if text in cmd:
            # a zombie has an empty cmdline, so it never matches
            found.append((int(entry.name), cmd))
    return found


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


@dataclass
class JupyterServer:
    """A running ``jupyter lab`` / ``jupyter notebook`` on 127.0.0.1, isolated in ``tmp``.

    ``root`` is the server's root dir (a copy of notebooks/*.ipynb; tests may write more files
    there), ``base`` the base URL without a trailing slash, ``token`` the auth token.
    """

    kind: str  # "lab" or "notebook"
    tmp: Path
    root: Path
    port: int
    token: str
    log_path: Path
    extra_args: tuple[str, ...] = ()  # more command-line options for the server
    proc: subprocess.Popen[bytes] | None = None
    _log_file: Any = None
    stray: list[tuple[int, str]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "", *, token: bool = True) -> str:
        """Absolute URL of ``path`` (relative to the server's base), with ``?token=`` by default."""
        u = f"{self.base}/{path.lstrip('/')}"
        if token:
            u += ("&" if "?" in u else "?") + f"token={self.token}"
        return u

    def notebook_url(self, name: str) -> str:
        """The URL that opens ``name`` (relative to root) in this server's front end.

        JupyterLab: a fresh workspace per page, so pages never restore each other's tabs.
        """
        if self.kind == "lab":
            ws = "e2e-" + secrets.token_hex(4)
            return self.url(f"lab/workspaces/{ws}/tree/{name}")
        return self.url(f"notebooks/{name}")

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """Call the REST API (``path`` like ``api/kernels``); returns parsed JSON or None."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url(path, token=False),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log_tail(self, lines: int = 150) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        # node's minified-bundle errors put 100 kB on one line: cut long lines
        return "\n".join(
            line if len(line) <= 400 else line[:400] + f" ...[{len(line) - 400} chars cut]"
            for line in text.splitlines()[-lines:]
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_PREFER_ENV_PATH"):
            env.pop(var, None)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
            JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
            JUPYTER_DATA_DIR=str(self.tmp / "data"),
            JUPYTERLAB_SETTINGS_DIR=str(self.tmp / "lab-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.tmp / "lab-workspaces"),
            IPYTHONDIR=str(self.tmp / "ipython"),
            JUPYTER_PLATFORM_DIRS="1",
            PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        env.pop("VIRTUAL_ENV", None)
        env["VIRTUAL_ENV"] = str(VENV_BIN.parent)
        return env

    def _write_settings(self) -> None:
        for d in ("config", "runtime", "data", "lab-settings", "lab-workspaces", "ipython"):
            (self.tmp / d).mkdir(parents=True, exist_ok=True)
        for plugin, values in LAB_SETTINGS.items():
            p = self.tmp / "lab-settings" / f"{plugin}.jupyterlab-settings"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps(values))
        (self.tmp / "config" / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))

    def start(self) -> None:
        self._write_settings()
        app_flag = (
            "--LabApp.expose_app_in_browser=True"
            if self.kind == "lab"
            else "--JupyterNotebookApp.expose_app_in_browser=True"
        )
        cmd = [
            str(VENV_BIN / "jupyter"),
            self.kind,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            "--allow-root",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            app_flag,
            *self.extra_args,
        ]
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole in stop()
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter {self.kind} exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                if self.api("GET", "api/status", timeout=2) is not None:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter {self.kind} did not answer:\n{self.log_tail()}")
            time.sleep(0.1)

    def shutdown_kernels(self) -> None:
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            for k in self.api("GET", "api/kernels") or []:
                with contextlib.suppress(OSError, urllib.error.URLError):
                    self.api("DELETE", f"api/kernels/{k['id']}", timeout=15)

    def stop(self) -> None:
        """Shut down kernels and the server; then kill anything left that mentions tmp."""
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                self.shutdown_kernels()
                with contextlib.suppress(OSError, urllib.error.URLError):
                    self.api("POST", "api/shutdown", timeout=10)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    _kill_group(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        _kill_group(proc.pid, signal.SIGKILL)
                        proc.wait(timeout=5)
            # children that stayed in the server's group
            _kill_group(proc.pid, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        # kernels live in their own sessions; anything still mentioning our tmp is a leak
        deadline = time.monotonic() + 5
        left = processes_mentioning(str(self.tmp))
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = processes_mentioning(str(self.tmp))
        self.stray = left
        for pid, _ in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------------------


@dataclass
class ConsoleWatch:
    """Console errors and page errors of one page; ``checked`` marks what was already judged."""

    name: str
    kind: str
    entries: list[str] = field(default_factory=list)  # every console line, for reports
    errors: list[str] = field(default_factory=list)
    checked: int = 0

    def attach(self, page: Any) -> None:
        def on_console(msg: Any) -> None:
            loc = msg.location or {}
            where = f" ({loc.get('url', '')}:{loc.get('lineNumber', '')})" if loc else ""
            line = f"[{msg.type}] {msg.text}{where}"
            self.entries.append(line)
            if msg.type == "error":
                self.errors.append(line)

        def on_pageerror(err: Any) -> None:
            stack = getattr(err, "stack", None) or ""
            line = f"[pageerror] {err}" + (f"\n{stack}" if stack else "")
            self.entries.append(line)
            self.errors.append(line)

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)

    def new_unexpected(self) -> list[str]:
        fresh = self.errors[self.checked :]
        self.checked = len(self.errors)
        allowed = ALLOWED_CONSOLE_ERRORS.get("*", []) + ALLOWED_CONSOLE_ERRORS.get(self.kind, [])
        return [e for e in fresh if not any(re.search(p, e) for p in allowed)]


# --------------------------------------------------------------------------------------------
# The notebook helper
# --------------------------------------------------------------------------------------------

# Evaluated in the page: finds the document panel of PATH in the shell's main area.
_JS_PRELUDE = """
const app = window.jupyterapp;
const findPanel = (path) => {
  for (const w of app.shell.widgets('main')) {
    if (w && w.context && w.context.path === path && w.sessionContext && w.content
        && w.content.model !== undefined) return w;
  }
  return null;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const openDialog = () => {
  const d = document.querySelector('.jp-Dialog');
  return d ? ' (a dialog is open: ' + d.innerText.slice(0, 300) + ')' : '';
};
const withTimeout = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(
    () => reject(new Error('timed out after ' + ms + ' ms: ' + what + openDialog())), ms)),
]);
"""


class NotebookError(AssertionError):
    pass


class Notebook:
    """One notebook opened in its own browser context and page.

    Helper API for tests (all synchronous):
      nb.page                       the Playwright Page
      nb.js(body, arg=None)         run async JS with ``app``, ``panel``, ``arg`` bound; returns
                                    the value of ``return ...`` in body
      nb.wait_ready()               app restored, context and session ready, kernel idle
      nb.wait_idle()                kernel idle
      nb.run_all(check=True)        run every cell (waits for them); raises on error outputs
      nb.run_cell(index, check=True)
      nb.add_cell(source, index=None) -> int   insert a code cell (at the end by default)
      nb.run_code(source, check=True) -> list  append + run a cell, return its outputs (nbformat)
      nb.outputs(index) -> list     outputs of a cell (nbformat JSON)
      nb.cell_count() -> int
      nb.errors() -> list[str]      "ename: evalue" of every error output in the notebook
      nb.save()                     panel.context.save() (widget state included: saveState)
      nb.widget(n=0)                Locator of the n-th ``.livewidget`` element on the page
      nb.widget_errors() -> list    texts of livewidget's ``.lw-error`` banners on the page
      nb.reload()                   reload the page and wait_ready() again
      nb.screenshot(path)           full-page PNG, for looking at a failure
      nb.close()                    close the page and its context
    """

    def __init__(self, server: JupyterServer, browser: Any, path: str) -> None:
        self.server = server
        self.path = path
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.watch = ConsoleWatch(f"{server.kind}:{path}", server.kind)
        self.watch.attach(self.page)
        WATCHES.append(self.watch)
        self.closed = False

    def open(self) -> Notebook:
        self.page.goto(self.server.notebook_url(self.path), wait_until="domcontentloaded")
        self.wait_ready()
        return self

    # -- JS bridge ---------------------------------------------------------------------------

    def js(self, body: str, arg: Any = None) -> Any:
        """Evaluate ``body`` inside ``async (arg) => {...}`` with app and panel bound."""
        script = (
            "async ([path, arg]) => {"
            + _JS_PRELUDE
            + "const panel = findPanel(path);"
            + "if (!panel) throw new Error('no notebook panel for ' + path);"
            + body
            + "}"
        )
        return self.page.evaluate(script, [self.path, arg])

    def wait_ready(self, timeout: float = NOTEBOOK_READY_TIMEOUT) -> None:
        self.page.wait_for_function(
            "() => !!window.jupyterapp", timeout=timeout * 1000, polling=100
        )
        script = (
            "async ([path, timeoutMs]) => {"
            + _JS_PRELUDE
            + """
            const deadline = Date.now() + timeoutMs;
            const left = () => Math.max(1, deadline - Date.now());
            await withTimeout(app.restored, left(), 'app.restored');
            let panel = null;
            while (!(panel = findPanel(path))) {
              if (Date.now() > deadline) throw new Error('notebook panel never appeared: ' + path);
              await sleep(100);
            }
            await withTimeout(panel.context.ready, left(), 'context.ready');
            await withTimeout(panel.sessionContext.ready, left(), 'sessionContext.ready');
            for (;;) {
              const k = panel.sessionContext.session && panel.sessionContext.session.kernel;
              if (k && k.status === 'idle' && k.connectionStatus === 'connected') return true;
              if (Date.now() > deadline) {
                throw new Error('kernel not idle: ' + (k ? k.status + '/' + k.connectionStatus
                                                          : 'no kernel') + openDialog());
              }
              await sleep(100);
            }
          }"""
        )
        self.page.evaluate(script, [self.path, int(timeout * 1000)])

    def wait_idle(self, timeout: float = RUN_TIMEOUT) -> None:
        self.js(
            """
            const deadline = Date.now() + arg;
            for (;;) {
              const k = panel.sessionContext.session && panel.sessionContext.session.kernel;
              if (k && k.status === 'idle') return true;
              if (Date.now() > deadline) throw new Error('kernel not idle: ' + (k && k.status));
              await sleep(50);
            }""",
            int(timeout * 1000),
        )

    # -- running -----------------------------------------------------------------------------

    def run_all(self, check: bool = True) -> None:
        """``notebook:run-all-cells`` on this panel; returns when every cell has run."""
        self.js(
            """return await withTimeout(
                 app.commands.execute('notebook:run-all-cells',
                                      {widgetId: panel.id, activate: false}),
                 arg, 'notebook:run-all-cells');""",
            int(RUN_TIMEOUT * 1000),
        )
        self.wait_idle()
        if check:
            self._check_errors("run_all")

    def run_cell(self, index: int, check: bool = True) -> None:
        """Select cell ``index`` and run it (``notebook:run-cell``); returns when it has run."""
        self.js(
            """
            const nb = panel.content;
            if (arg.index < 0 || arg.index >= nb.widgets.length) {
              throw new Error('no cell ' + arg.index);
            }
            nb.deselectAll();
            nb.activeCellIndex = arg.index;
            return await withTimeout(
                app.commands.execute('notebook:run-cell', {widgetId: panel.id, activate: false}),
                arg.ms, 'notebook:run-cell ' + arg.index);""",
            {"index": index, "ms": int(RUN_TIMEOUT * 1000)},
        )
        self.wait_idle()
        if check:
            errors = self._cell_errors(index)
            if errors:
                raise NotebookError(f"cell {index} raised:\n" + "\n\n".join(errors))

    def add_cell(self, source: str, index: int | None = None) -> int:
        """Insert a code cell holding ``source`` (at the end by default); returns its index."""
        return int(
            self.js(
                """
                const model = panel.content.model;
                const at = arg.index === null ? model.cells.length : arg.index;
                model.sharedModel.insertCell(at, {cell_type: 'code', source: arg.source,
                                                  metadata: {}});
                return at;""",
                {"source": source, "index": index},
            )
        )

    def run_code(self, source: str, check: bool = True) -> list[dict[str, Any]]:
        """Append a code cell with ``source``, run it, and return its outputs."""
        i = self.add_cell(source)
        self.run_cell(i, check=check)
        return self.outputs(i)

    # -- reading -----------------------------------------------------------------------------

    def cell_count(self) -> int:
        return int(self.js("return panel.content.model.cells.length;"))

    def outputs(self, index: int) -> list[dict[str, Any]]:
        return list(
            self.js(
                """
                const cell = panel.content.model.cells.get(arg);
                return cell.type === 'code' ? cell.outputs.toJSON() : [];""",
                index,
            )
        )

    def _cell_errors(self, index: int) -> list[str]:
        out = []
        for o in self.outputs(index):
            if o.get("output_type") == "error":
                tb = "\n".join(o.get("traceback", []))
                tb = re.sub(r"\x1b\[[0-9;]*m", "", tb)
                out.append(f"{o.get('ename')}: {o.get('evalue')}\n{tb}")
        return out

    def errors(self) -> list[str]:
        """Every error output in the notebook, as text."""
        return [e for i in range(self.cell_count()) for e in self._cell_errors(i)]

    def _check_errors(self, what: str) -> None:
        errors = self.errors()
        if errors:
            raise NotebookError(f"{what} of {self.path}: error outputs:\n" + "\n\n".join(errors))

    def widget(self, n: int = 0) -> Any:
        """Playwright Locator of the n-th ``.livewidget`` element on the page."""
        return self.page.locator(".livewidget").nth(n)

    def widget_errors(self) -> list[str]:
        """Texts of the error banners (``.lw-error``) that livewidget shows in its widgets."""
        return list(
            self.page.evaluate(
                "() => [...document.querySelectorAll('.livewidget .lw-error')]"
                ".map((e) => e.innerText)"
            )
        )

    # -- document ----------------------------------------------------------------------------

    def save(self) -> None:
        self.js("await withTimeout(panel.context.save(), 30000, 'save'); return true;")

    def reload(self) -> None:
        self.page.reload(wait_until="domcontentloaded")
        self.wait_ready()

    def screenshot(self, path: str | os.PathLike[str]) -> None:
        self.page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                self.context.close()
            if self.watch in WATCHES:
                WATCHES.remove(self.watch)


# --------------------------------------------------------------------------------------------
# Watching the DOM change
# --------------------------------------------------------------------------------------------


def sample_texts(
    page: Any, selectors: list[str], duration_ms: int, interval_ms: int = 20
) -> list[list[str | None]]:
    """Read the textContent of each selector every ``interval_ms`` for ``duration_ms``.

    Returns the distinct consecutive samples (the first sample, then one entry per change), each
    a list with one text per selector (None where the element is missing)."""
    return list(
        page.evaluate(
            """async ([selectors, duration, interval]) => {
              const read = () => selectors.map((s) => {
                const el = document.querySelector(s);
                return el ? el.textContent : null;
              });
              const seen = [read()];
              const end = performance.now() + duration;
              while (performance.now() < end) {
                await new Promise((r) => setTimeout(r, interval));
                const now = read();
                if (JSON.stringify(now) !== JSON.stringify(seen[seen.length - 1])) seen.push(now);
              }
              return seen;
            }""",
            [selectors, duration_ms, interval_ms],
        )
    )


def wait_for_text_changes(
    page: Any, selector: str, changes: int, timeout_ms: int = 30_000, interval_ms: int = 20
) -> list[str | None]:
    """Wait until the textContent of ``selector`` has changed ``changes`` times.

    Returns the texts seen (the first, then one per change); raises on timeout."""
    return list(
        page.evaluate(
            """async ([selector, changes, timeout, interval]) => {
              const read = () => {
                const el = document.querySelector(selector);
                return el ? el.textContent : null;
              };
              const seen = [read()];
              const end = performance.now() + timeout;
              while (seen.length <= changes) {
                if (performance.now() > end) {
                  throw new Error(`${selector} changed ${seen.length - 1} times in ${timeout} ms,`
                                  + ` not ${changes}: ${JSON.stringify(seen)}`);
                }
                await new Promise((r) => setTimeout(r, interval));
                const now = read();
                if (now !== seen[seen.length - 1]) seen.push(now);
              }
              return seen;
            }""",
            [selector, changes, timeout_ms, interval_ms],
        )
    )


def write_notebook(server: JupyterServer, name: str, cells: list[str]) -> None:
    """Write a notebook of code ``cells`` (Python 3 kernel) into the server's root."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, server.root / name)


def stdout_of(outputs: list[dict[str, Any]]) -> str:
    """The text a cell's ``outputs`` printed to stdout."""
    return "".join(
        o.get("text", "")
        for o in outputs
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )


def kernel_json(nb: Notebook, code: str) -> Any:
    """Run ``code`` in a new cell; it prints one JSON value last, which is returned."""
    text = stdout_of(nb.run_code(code)).strip()
    assert text, f"the cell printed nothing:\n{code}"
    return json.loads(text.splitlines()[-1])


# Servers running now (for failure reports).
LIVE_SERVERS: list[JupyterServer] = []
# Console watches of the open pages.
WATCHES: list[ConsoleWatch] = []

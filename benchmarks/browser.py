"""A real JupyterLab and headless Chromium for the benchmarks that measure in a page.

The latency, throughput and kernel-CPU benchmarks run a notebook in a JupyterLab of their own,
started and stopped with the e2e harness's classes (``tests/e2e/jupyter_e2e.py``, imported by
path: the server isolated in a temporary root, Debian's ``/usr/bin/chromium`` through
Playwright). Kernel and page read the same wall clock, ``time.time()`` and ``Date.now()``.

What both contenders of a benchmark share is written once here: the sales dashboard's template
(the one of notebooks/dashboard.ipynb and benchmarks/dashboard.py) and the data it shows.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from .dashboard import TEMPLATE

HARNESS = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "jupyter_e2e.py"

# The kernel's side of every browser benchmark: the dashboard's template and data, and a
# function that renders the whole HTML (what ipywidgets.HTML is given) from the same template.
PRELUDE = f"""\
import asyncio, gc, json, random, resource, threading, time
import ipywidgets
import livewidget as lw
from IPython.display import display

TEMPLATE = {TEMPLATE!r}


def fresh():
    return {{
        "new_orders": random.randint(0, 1000),
        "sales_amount": random.uniform(0, 100_000),
        "rating": random.uniform(1, 5),
    }}


async def fetch_latest_data():
    \"\"\"As in notebooks/dashboard.ipynb: stands in for a database query.\"\"\"
    await asyncio.sleep(0.01)
    return fresh()


def full_html(template, **values):
    \"\"\"The whole HTML, as ipywidgets.HTML needs it (str.format of the same template).\"\"\"
    return template.format(**values)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
"""


def harness() -> ModuleType:
    """tests/e2e/jupyter_e2e.py, imported by path (it is not a package)."""
    name = "jupyter_e2e"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HARNESS)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import the e2e harness from {HARNESS}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while defining
        spec.loader.exec_module(module)
    return sys.modules[name]


@contextlib.contextmanager
def notebook(name: str, cells: list[str]) -> Iterator[Any]:
    """A JupyterLab with ``name`` (holding ``cells``) open in Chromium and its kernel idle.

    Yields the harness's ``Notebook``; stops the browser, the kernel and the server after.
    """
    import nbformat
    from playwright.sync_api import sync_playwright

    e2e = harness()
    tmp = Path(tempfile.mkdtemp(prefix="lw-bench-"))
    root = tmp / "root"  # no `livewidget` folder here: it would shadow the package
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, root / name)
    server = e2e.JupyterServer(
        kind="lab",
        tmp=tmp,
        root=root,
        port=e2e.free_port(),
        token=secrets.token_hex(16),
        log_path=tmp / "server.log",
    )
    playwright = sync_playwright().start()
    try:
        server.start()
        browser = playwright.chromium.launch(
            executable_path=e2e.CHROMIUM, headless=True, args=e2e.CHROMIUM_ARGS
        )
        try:
            page = e2e.Notebook(server, browser, name).open()
            try:
                page.server_log = server.log_path
                yield page
            finally:
                page.close()
        finally:
            browser.close()
    finally:
        playwright.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if server.stray:
            print(f"  (killed processes the server left behind: {server.stray})")


def kernel_json(nb: Any, code: str) -> Any:
    """Run ``code`` in a new cell; it prints one JSON value last, which is returned."""
    outputs = nb.run_code(code)
    text = "".join(
        o.get("text", "")
        for o in outputs
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    ).strip()
    if not text:
        raise RuntimeError(f"the cell printed nothing: {outputs}\n{code}")
    return json.loads(text.splitlines()[-1])


def start_code(nb: Any, code: str) -> None:
    """Append a cell with ``code`` and start it, without waiting for it to finish."""
    index = nb.add_cell(code)
    nb.js(
        """
        const nb = panel.content;
        nb.deselectAll();
        nb.activeCellIndex = arg;
        app.commands.execute('notebook:run-cell', {widgetId: panel.id, activate: false})
          .catch((e) => console.error('run-cell ' + arg + ' failed: ' + e));
        return true;""",
        index,
    )


def wait_for(nb: Any, selector: str, count: int, timeout: float = 60.0) -> None:
    """Wait until the page holds ``count`` elements matching ``selector``."""
    deadline = time.monotonic() + timeout
    while nb.page.locator(selector).count() < count:
        if time.monotonic() > deadline:
            found = nb.page.locator(selector).count()
            raise TimeoutError(f"{found} of {count} {selector} after {timeout:.0f} s")
        time.sleep(0.1)


def rate_limit_hits(nb: Any) -> int:
    """How often the server said "IOPub message rate exceeded" (its log)."""
    return int(Path(nb.server_log).read_text(errors="replace").count("IOPub message rate exceeded"))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)

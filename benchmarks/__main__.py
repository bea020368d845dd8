"""``python -m benchmarks [NAME ...]``: run every benchmark (or the named ones) and print figures.

Benchmarks are not tests: nothing here asserts a time. Each prints its figures beside baselines
measured in the same run, on the same machine, under the same load (printed, since a busy
machine moves every figure).
"""

from __future__ import annotations

import datetime
import os
import sys
from importlib.metadata import version

from . import (
    dashboard,
    dataframe,
    frontend,
    kernel_cpu,
    latency,
    neighbour,
    pubsub,
    rows,
    serve_load,
    stream,
    table,
    throughput,
)
from .common import ROUNDS, machine

BENCHMARKS = {
    "dashboard": dashboard.main,
    "table": table.main,
    "rows": rows.main,
    "stream": stream.main,
    "dataframe": dataframe.main,
    # in headless Chromium, a static page with livewidget's merge and patch (no Jupyter)
    "frontend": frontend.main,
    # in a real JupyterLab and headless Chromium, each started for the benchmark (browser.py)
    "latency": latency.main,
    "throughput": throughput.main,
    "neighbour": neighbour.main,
    "kernel_cpu": kernel_cpu.main,
    # real kernels (no browser) and a redis-server started for the run
    "pubsub": pubsub.main,
    # livewidget serve, pyview and Voila as servers, with simulated tabs on loopback
    "serve_load": serve_load.main,
}


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    print(f"livewidget {version('livewidget')} benchmarks, {datetime.date.today().isoformat()}")
    print(f"{machine()}; load average {os.getloadavg()[0]:.2f} at start")
    print(
        f"dashboard, table, rows, stream, dataframe: process CPU time, median of {ROUNDS} "
        "interleaved rounds of ~0.2 s batches, garbage collector on.\nBytes: UTF-8 of "
        "json.dumps(payload); for full HTML, of the HTML.\nfrontend: in headless Chromium; "
        "latency, throughput, kernel_cpu: in JupyterLab + Chromium; each prints how it measures."
    )
    for name in argv or list(BENCHMARKS):
        BENCHMARKS[name]()
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

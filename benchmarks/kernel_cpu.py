"""Kernel CPU: 100 sales dashboards ticking once a second, for 30 s, shown in a page.

* livewidget: 100 views of the dashboard of notebooks/dashboard.ipynb, each with its own
  ``repeat`` timer; ``handle_info`` awaits ``fetch_latest_data()`` (an asyncio sleep of 10 ms and
  three random numbers) and assigns; the runtime renders, diffs and sends the three numbers.
* ipywidgets.HTML: 100 widgets, and one thread running an asyncio loop that once a second
  awaits ``fetch_latest_data()`` for each widget (all at once) and assigns its ``value`` the
  whole HTML (``str.format`` of the same template).

The figure is the kernel process's CPU time (user + system, ``resource.getrusage`` inside the
kernel) over the window, as a share of one core and per update; the kernel idling for a while
before any widget exists is the floor both stand on. The page shows every widget (JupyterLab,
windowing off), so each update really travels to Chromium.
"""

from __future__ import annotations

import json

from .browser import PRELUDE, kernel_json, notebook, rate_limit_hits, wait_for

VIEWS = 100
SECONDS = 30
IDLE_SECONDS = 5

SETUP = f"""\
updates = [0]


class Dashboard(lw.LiveView):
    def mount(self, socket):
        if socket.connected:
            socket.repeat(lambda: socket.send_info({{"type": "tick"}}), 1000)
        socket.assign(new_orders=0, sales_amount=0.0, rating=0.0)

    async def handle_info(self, info, socket):
        socket.assign(await fetch_latest_data())
        updates[0] += 1

    def render(self, ctx):
        return lw.html(TEMPLATE, **ctx)


def html_ticker(widgets, stop):
    async def tick(widget):
        widget.value = full_html(TEMPLATE, **await fetch_latest_data())
        updates[0] += 1

    async def main():
        due = time.monotonic()
        while not stop.is_set():
            await asyncio.gather(*(tick(widget) for widget in widgets))
            due += 1.0
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    asyncio.run(main())


def measure(seconds):
    gc.collect()
    made, cpu, wall = updates[0], cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu, wall = cpu_seconds() - cpu, time.monotonic() - wall
    return {{"cpu": cpu, "wall": wall, "updates": updates[0] - made}}


print(json.dumps(measure({IDLE_SECONDS})))"""

# JupyterLab shows at most 50 outputs of a cell (its maxNumberOutputs setting): two cells each.
HALF = VIEWS // 2
LIVEWIDGET = [
    f"views = [Dashboard() for _ in range({VIEWS})]\ndisplay(*views[:{HALF}])",
    f"display(*views[{HALF}:])",
]

IPYWIDGETS = [
    f"""\
for view in views:
    view.widget.close()
del views
widgets = [ipywidgets.HTML(full_html(TEMPLATE, **fresh())) for _ in range({VIEWS})]
display(*widgets[:{HALF}])""",
    f"""\
display(*widgets[{HALF}:])
stop = threading.Event()
threading.Thread(target=html_ticker, args=(widgets, stop), daemon=True).start()""",
]

MEASURE = f"import json; print(json.dumps(measure({SECONDS})))"


def main() -> None:
    print(
        f"\nKernel CPU: {VIEWS} sales dashboards ticking at 1 Hz for {SECONDS} s, shown in "
        "Chromium (kernel process CPU, user + system)"
    )
    with notebook("kernel_cpu.ipynb", [PRELUDE, SETUP, *LIVEWIDGET, *IPYWIDGETS]) as nb:
        nb.run_cell(0)
        nb.run_cell(1)  # defines, then measures the idle kernel
        idle = json.loads(
            "".join(o.get("text", "") for o in nb.outputs(1) if o.get("name") == "stdout")
        )
        nb.run_cell(2)
        nb.run_cell(3)
        wait_for(nb, ".livewidget #new-orders", VIEWS)
        nb.page.wait_for_timeout(2000)  # every view joined and ticking
        lw = kernel_json(nb, MEASURE)
        nb.run_cell(4)
        nb.run_cell(5)
        wait_for(nb, ".widget-html-content #new-orders", VIEWS)
        nb.page.wait_for_timeout(2000)
        ipw = kernel_json(nb, MEASURE)
        nb.run_code("stop.set()")
        hits = rate_limit_hits(nb)
    idle_share = idle["cpu"] / idle["wall"]
    print(f"  {'':<18}{'':<40}{'% of a core':>12}{'µs CPU/update':>15}{'updates':>9}")
    floor = f"no widgets, {IDLE_SECONDS} s"
    print(f"  {'idle kernel':<18}{floor:<40}{idle_share * 100:>12.2f}")
    rows = [
        ("livewidget", "100 views, repeat 1 s, diff", lw),
        ("ipywidgets.HTML", "100 widgets, asyncio thread, whole HTML", ipw),
    ]
    for who, how, run in rows:
        share = run["cpu"] / run["wall"]
        per_update = run["cpu"] / run["updates"] * 1e6 if run["updates"] else float("nan")
        print(f"  {who:<18}{how:<40}{share * 100:>12.2f}{per_update:>15,.0f}{run['updates']:>9,}")
    print(
        f"  livewidget: {lw['cpu'] / ipw['cpu']:.2f}x the kernel CPU of ipywidgets.HTML; "
        f"'IOPub message rate exceeded' {hits} times"
    )


if __name__ == "__main__":
    main()

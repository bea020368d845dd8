"""Throughput: the most updates a second one widget shows while the kernel pushes flat out.

For ``SECONDS`` the kernel makes updates as fast as it can, each a new counter and fresh
dashboard numbers:

* livewidget: ``handle_info`` assigns, then ``send_info``s itself the next update, so the view's
  loop does nothing else; the runtime sends at most one diff a frame (60 a second), whatever it
  was given;
* ipywidgets.HTML: a thread assigns ``widget.value`` (the whole HTML, ``str.format`` of the same
  template) in a loop; every assignment is a comm message.

The page counts what a user could see: the distinct counter values the DOM held (a
``MutationObserver`` on the widget), and the animation frames that painted a new value
(``requestAnimationFrame``; Chromium paints at most 60 a second). Figures are per second over
the push window, and the worst one-second bucket of it; "kernel/s" is how many updates the
kernel made. The Jupyter server drops IOPub messages past 1,000 a second; how often it said so
is printed.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from .browser import PRELUDE, kernel_json, notebook, rate_limit_hits, start_code, wait_for

SECONDS = 5.0

SETUP = """\
COUNTED_LW = TEMPLATE + '<b id="lw-n">{n}</b>'
COUNTED_IPW = TEMPLATE + '<b id="ipw-n">{n}</b>'


class Flood(lw.LiveView):
    def mount(self, socket):
        self.until = 0.0
        self.timer = None
        socket.assign(n=0, **fresh())

    def handle_info(self, info, socket):
        if info == "repeat":
            self.timer = socket.repeat(lambda: socket.send_info("tick"), 1)
        elif info == "stop":
            self.timer.cancel()
        else:
            if isinstance(info, float):  # work flat out for `info` seconds, a step a message
                self.until = time.monotonic() + info
            socket.assign(n=socket.context.n + 1, **fresh())
            if info != "tick" and time.monotonic() < self.until:
                socket.send_info("more")

    def render(self, ctx):
        return lw.html(COUNTED_LW, **ctx)


def lw_flood(seconds, how):
    first = flood.widget.context["n"]
    start = time.time()
    if how == "repeat":
        flood.widget.send_info("repeat")
        time.sleep(seconds)
        flood.widget.send_info("stop")
    else:
        flood.widget.send_info(float(seconds))
        time.sleep(seconds)
    time.sleep(0.5)
    return {"made": flood.widget.context["n"] - first, "start": start, "end": start + seconds}


def start_ipw_flood(seconds, path):
    \"\"\"Assign html.value flat out on a thread; write what it did to `path` when done.\"\"\"
    def run():
        start = time.time()
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            n += 1
            html.value = full_html(COUNTED_IPW, n=n, **fresh())
        with open(path, "w") as out:
            json.dump({"made": n, "start": start, "end": start + seconds}, out)

    threading.Thread(target=run).start()


flood = Flood()
html = ipywidgets.HTML(full_html(COUNTED_IPW, n=0, **fresh()))
display(flood, html)"""

RECORDER = """(id) => {
  const seen = [];
  const painted = [];
  let last = null;
  let lastPainted = null;
  const read = () => { const el = document.getElementById(id); return el && el.textContent; };
  const observer = new MutationObserver(() => {
    const text = read();
    if (text !== last) { last = text; seen.push(Date.now()); }
  });
  const box = document.getElementById(id).closest('.lw-root, .widget-html-content');
  observer.observe(box, {subtree: true, childList: true, characterData: true});
  const frame = () => {
    const text = read();
    if (text !== lastPainted) { lastPainted = text; painted.push(Date.now()); }
    if (window.__lwFlood) requestAnimationFrame(frame);
  };
  const stop = () => { observer.disconnect(); window.__lwFlood = null; };
  window.__lwFlood = {seen, painted, stop};
  requestAnimationFrame(frame);
}"""

TAKE = """() => {
  const {seen, painted, stop} = window.__lwFlood;
  stop();
  return [seen, painted];
}"""

NAMES = {
    "flat": ("livewidget", "handle_info re-sends itself"),
    "repeat": ("livewidget", "repeat every 1 ms -> send_info"),
    "ipw": ("ipywidgets.HTML", "thread sets .value in a loop"),
}


def rates(times_ms: list[float], start: float, seconds: float) -> tuple[float, float]:
    """(changes a second in the push window, the fewest in any one second of it)."""
    buckets = [0] * math.floor(seconds)
    for t in times_ms:
        i = math.floor(t / 1000 - start)
        if 0 <= i < len(buckets):
            buckets[i] += 1
    return sum(buckets) / len(buckets), float(min(buckets))


def push(nb: Any, key: str) -> tuple[dict[str, float], list[float], list[float]]:
    """One contender's push: what the kernel did, the DOM's change times, the painted ones."""
    nb.page.evaluate(RECORDER, "ipw-n" if key == "ipw" else "lw-n")
    if key == "ipw":
        # Not a cell that waits: the page may take long to drain the flood (the idle status
        # queues behind it). The thread writes its figures into the server's root instead.
        result = nb.server.root / "ipw-flood.json"
        start_code(nb, f"start_ipw_flood({SECONDS}, {str(result)!r})")
        nb.page.wait_for_timeout(int(SECONDS * 1000) + 3000)
        seen, painted = nb.page.evaluate(TAKE)
        deadline = time.monotonic() + 30
        while not result.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        run = json.loads(result.read_text())
    else:
        run = kernel_json(nb, f"import json; print(json.dumps(lw_flood({SECONDS}, {key!r})))")
        nb.page.wait_for_timeout(2000)  # what is still on its way lands
        seen, painted = nb.page.evaluate(TAKE)
    return run, seen, painted


def main() -> None:
    print(
        f"\nThroughput: one widget, the kernel pushing flat out for {SECONDS:.0f} s; what the "
        "page shows, per second of that window"
    )
    rows = []
    with notebook("throughput.ipynb", [PRELUDE, SETUP]) as nb:
        nb.run_all()
        wait_for(nb, "#lw-n", 1)
        wait_for(nb, "#ipw-n", 1)
        for key in NAMES:  # ipywidgets last: its flood may trip the server's limit for a while
            hits = rate_limit_hits(nb)
            run, seen, painted = push(nb, key)
            behind = (seen[-1] / 1000 - run["end"]) if seen else float("nan")
            rows.append(
                (
                    key,
                    run["made"] / SECONDS,
                    rates(seen, run["start"], SECONDS),
                    rates(painted, run["start"], SECONDS)[0],
                    behind,
                    rate_limit_hits(nb) - hits,
                )
            )
    print(
        f"  {'':<18}{'':<33}{'kernel/s':>9}{'DOM/s':>8}{'worst s':>8}{'painted/s':>10}"
        f"{'last change':>12}{'rate limit':>11}"
    )
    for key, made, (dom, worst), painted, behind, hits in rows:
        who, how = NAMES[key]
        print(
            f"  {who:<18}{how:<33}{made:>9,.0f}{dom:>8.1f}{worst:>8.0f}{painted:>10.1f}"
            f"{f'{behind:+.1f} s':>12}{hits:>11}"
        )
    print(
        "  (last change: when the DOM last changed, from the end of the push; rate limit: how\n"
        "  often the server said 'IOPub message rate exceeded'. A handler that re-sends itself\n"
        "  shares livewidget's loop with the pacer and every other view: the mailbox worker\n"
        "  yields after each message, so sends go on during the flood, fewer than 60 a second.)"
    )


if __name__ == "__main__":
    main()

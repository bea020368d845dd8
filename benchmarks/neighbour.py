"""Neighbour: how late a ticking view's updates reach the page while another view floods.

A view that ``send_info``s itself its next step keeps livewidget's loop thread running Python
without a pause. Every other view's updates then wait for ipykernel's IOPub thread, which needs
the GIL for each message it sends. The runtime rests the loop thread 0.5 ms after every 10 ms
of such a streak (``runtime.loop.Streak``), which hands the GIL over at once.

The baseline is the same kernel with the rests turned off (what livewidget did before them), in
alternating rounds. In each round a ``Probe`` view ticks every ``INTERVAL_MS`` ms, each update
stamped with the kernel's ``time.time()``; a ``MutationObserver`` notes ``Date.now()`` when the
page first shows each stamp (as in ``latency.py``). Meanwhile a ``Flood`` view works flat out,
and how many steps it made a second shows what the rests cost it. A row without a flood is the
floor.
"""

from __future__ import annotations

import statistics
from typing import Any

from .browser import PRELUDE, kernel_json, notebook, percentile, wait_for

INTERVAL_MS = 100
ROUNDS = 3
ROUND_SECONDS = 4.0

SETUP = """\
import math
import livewidget.runtime.loop as lw_loop

STAMPED = '<b id="stamp">{seq} {sent:.6f}</b>'
FLOODING = '<b id="flood">{n}</b>'
ticks = {"seq": 0}


class Probe(lw.LiveView):
    def mount(self, socket):
        socket.assign(seq=0, sent=0.0)

    def handle_info(self, info, socket):
        if info == "stop":
            self.timer.cancel()
        elif isinstance(info, tuple):  # ("start", interval_ms)
            self.timer = socket.repeat(lambda: socket.send_info("tick"), info[1])
        else:
            ticks["seq"] += 1
            socket.assign(seq=ticks["seq"], sent=time.time())

    def render(self, ctx):
        return lw.html(STAMPED, **ctx)


class Flood(lw.LiveView):
    def mount(self, socket):
        self.until = 0.0
        socket.assign(n=0)

    def handle_info(self, info, socket):
        if isinstance(info, float):
            self.until = time.monotonic() + info
        socket.assign(n=socket.context.n + 1)
        if time.monotonic() < self.until:
            socket.send_info("more")

    def render(self, ctx):
        return lw.html(FLOODING, **ctx)


def set_mode(mode):
    lw_loop.Streak.BUSY = math.inf if mode == "off" else 0.010


def run_round(mode, seconds, interval_ms):
    set_mode(mode)
    first, made = ticks["seq"] + 1, flood.widget.context["n"]
    probe.widget.send_info(("start", interval_ms))
    if mode != "none":
        flood.widget.send_info(float(seconds))
    time.sleep(seconds)
    probe.widget.send_info("stop")
    time.sleep(0.3)
    made = flood.widget.context["n"] - made
    set_mode("on")
    return [first, ticks["seq"], made / seconds]


probe = Probe()
flood = Flood()
display(probe, flood)"""

RECORDER = """() => {
  const seen = [];
  let last = null;
  const el = () => document.getElementById('stamp');
  const observer = new MutationObserver(() => {
    const text = el() && el().textContent;
    if (text !== last) { last = text; seen.push([text, Date.now()]); }
  });
  observer.observe(el().closest('.lw-root'), {subtree: true, childList: true, characterData: true});
  window.__lwNeighbour = seen;
}"""

TAKE = "() => window.__lwNeighbour.splice(0)"

MODES = {
    "none": "no flood (the floor)",
    "on": "flood; the loop thread rests (livewidget)",
    "off": "flood; no rests (baseline: before them)",
}


def run_round(nb: Any, mode: str) -> tuple[list[float], int, int, float]:
    """Latencies (ms) of the stamps seen, stamps seen, stamps made, flood steps a second."""
    first, last, flood_rate = kernel_json(
        nb, f"import json; print(json.dumps(run_round({mode!r}, {ROUND_SECONDS}, {INTERVAL_MS})))"
    )
    nb.page.wait_for_timeout(3000)  # what is still on its way lands
    latencies, seqs = [], set()
    for text, seen_ms in nb.page.evaluate(TAKE):
        seq, sent = text.split()
        if first <= int(seq) <= last and int(seq) not in seqs:
            seqs.add(int(seq))
            latencies.append(seen_ms - float(sent) * 1000)
    return latencies, len(seqs), last - first + 1, flood_rate


def main() -> None:
    print(
        f"\nNeighbour: a view ticking every {INTERVAL_MS} ms while another view floods the loop;"
        f" kernel update -> DOM patched,\n  {ROUNDS} alternating rounds of {ROUND_SECONDS:.0f} s"
        " per row (wall clock in kernel and page)"
    )
    results: dict[str, tuple[list[float], int, int, list[float]]] = {
        mode: ([], 0, 0, []) for mode in MODES
    }
    with notebook("neighbour.ipynb", [PRELUDE, SETUP]) as nb:
        nb.run_all()
        wait_for(nb, "#stamp", 1)
        wait_for(nb, "#flood", 1)
        nb.page.evaluate(RECORDER)
        for _ in range(ROUNDS):
            for mode in MODES:
                latencies, seen, made, rate = run_round(nb, mode)
                total = results[mode]
                results[mode] = (
                    total[0] + latencies,
                    total[1] + seen,
                    total[2] + made,
                    total[3] + [rate],
                )
    print(
        f"  {'':<42}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'seen/made':>11}"
        f"{'flood steps/s':>15}"
    )
    for mode, label in MODES.items():
        latencies, seen, made, rates = results[mode]
        rate = f"{statistics.mean(rates):,.0f}" if mode != "none" else "-"
        print(
            f"  {label:<42}{statistics.median(latencies):>10.1f}"
            f"{percentile(latencies, 95):>9.1f}{max(latencies):>9.1f}{f'{seen}/{made}':>11}"
            f"{rate:>15}"
        )


if __name__ == "__main__":
    main()

"""Latency: from ``send_info`` in the kernel to the DOM patched in Chromium, median and p95.

Both contenders show the sales dashboard with a stamp, ``<b id=...>SEQ SENT</b>``: the sequence
number of the update and the kernel's ``time.time()`` when the update began. A
``MutationObserver`` on each widget's box records ``Date.now()`` the first time it sees each stamp,
in the microtask right after the script that patched the DOM (before the next paint, which may
come up to a frame later). Latency = seen - sent; kernel and Chromium run on one machine and read
the same wall clock, ``Date.now()`` with 1 ms resolution, ``time.time()`` with 1 µs.

* livewidget: a view's ``repeat`` timer calls ``socket.send_info(stamp)`` (SENT taken there);
  ``handle_info`` assigns it; the runtime renders, diffs and sends the diff; the page merges it
  and morphdom patches the text.
* ipywidgets.HTML: a thread takes SENT, renders the whole HTML (``str.format`` of the same
  template) and assigns ``widget.value``; the page replaces the widget's ``innerHTML``.

Both send 20 updates a second (one every 50 ms, slower than a frame, so livewidget's pacer sends
each at once), in alternating rounds after a warm-up, so a busy spell of the machine falls on both.
"""

from __future__ import annotations

import statistics
from typing import Any

from .browser import PRELUDE, kernel_json, notebook, percentile, rate_limit_hits, wait_for

INTERVAL_MS = 50
ROUNDS = 4
ROUND_SECONDS = 3.0
WARMUP_SECONDS = 1.0

SETUP = """\
STAMPED_LW = TEMPLATE + '<b id="lw-stamp">{seq} {sent:.6f}</b>'
STAMPED_IPW = TEMPLATE + '<b id="ipw-stamp">{seq} {sent:.6f}</b>'
counter = {"lw": 0, "ipw": 0}


def stamp(key):
    counter[key] += 1
    return {"seq": counter[key], "sent": time.time()}


class Probe(lw.LiveView):
    def mount(self, socket):
        socket.assign(seq=0, sent=0.0, **fresh())

    def handle_info(self, info, socket):
        if info == "stop":
            self.timer.cancel()
        elif isinstance(info, tuple):  # ("start", interval_ms)
            self.timer = socket.repeat(
                lambda: socket.send_info({**stamp("lw"), **fresh()}), info[1]
            )
        else:
            socket.assign(info)

    def render(self, ctx):
        return lw.html(STAMPED_LW, **ctx)


def lw_round(seconds, interval_ms):
    first = counter["lw"] + 1
    probe.widget.send_info(("start", interval_ms))
    time.sleep(seconds)
    probe.widget.send_info("stop")
    return [first, counter["lw"]]


def ipw_round(seconds, interval_ms):
    first = counter["ipw"] + 1

    def run():
        due = time.monotonic()
        end = due + seconds
        while time.monotonic() < end:
            html.value = full_html(STAMPED_IPW, **stamp("ipw"), **fresh())
            due += interval_ms / 1000
            time.sleep(max(0.0, due - time.monotonic()))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return [first, counter["ipw"]]


probe = Probe()
html = ipywidgets.HTML(full_html(STAMPED_IPW, seq=0, sent=0.0, **fresh()))
display(probe, html)"""

RECORDER = """() => {
  const seen = {lw: [], ipw: []};
  const last = {lw: null, ipw: null};
  const ids = {lw: 'lw-stamp', ipw: 'ipw-stamp'};
  const record = () => {
    const now = Date.now();
    for (const key of ['lw', 'ipw']) {
      const el = document.getElementById(ids[key]);
      if (el && el.textContent !== last[key]) {
        last[key] = el.textContent;
        seen[key].push([last[key], now]);
      }
    }
  };
  const observer = new MutationObserver(record);
  for (const id of Object.values(ids)) {  // each widget's box: it stays while its content goes
    const box = document.getElementById(id).closest('.lw-root, .widget-html-content');
    observer.observe(box, {subtree: true, childList: true, characterData: true});
  }
  window.__lwLatency = seen;
}"""

TAKE = "(key) => window.__lwLatency[key].splice(0)"

NAMES = {
    "lw": ("livewidget", "repeat -> send_info -> diff -> morphdom"),
    "ipw": ("ipywidgets.HTML", "thread sets .value = whole HTML"),
}


def run_round(nb: Any, key: str, seconds: float) -> tuple[list[float], int, int]:
    """One round of ``key``: latencies (ms) of the stamps seen, stamps seen, stamps sent."""
    first, last = kernel_json(
        nb, f"import json; print(json.dumps({key}_round({seconds}, {INTERVAL_MS})))"
    )
    nb.page.wait_for_timeout(500)  # the last updates land
    latencies, seqs = [], set()
    for text, seen_ms in nb.page.evaluate(TAKE, key):
        seq, sent = text.split()
        if first <= int(seq) <= last and int(seq) not in seqs:
            seqs.add(int(seq))
            latencies.append(seen_ms - float(sent) * 1000)
    return latencies, len(seqs), last - first + 1


def main() -> None:
    print(
        f"\nLatency: kernel update -> DOM patched in Chromium, {1000 // INTERVAL_MS} updates/s, "
        f"{ROUNDS} alternating rounds of {ROUND_SECONDS:.0f} s each after a warm-up\n"
        "  (wall clock in kernel and page, Date.now() resolution 1 ms; the DOM patch, not the "
        "paint)"
    )
    with notebook("latency.ipynb", [PRELUDE, SETUP]) as nb:
        nb.run_all()
        wait_for(nb, "#lw-stamp", 1)
        wait_for(nb, "#ipw-stamp", 1)
        nb.page.evaluate(RECORDER)
        results: dict[str, tuple[list[float], int, int]] = {k: ([], 0, 0) for k in NAMES}
        for key in NAMES:
            run_round(nb, key, WARMUP_SECONDS)
        for _ in range(ROUNDS):
            for key in NAMES:
                latencies, seen, sent = run_round(nb, key, ROUND_SECONDS)
                total = results[key]
                results[key] = (total[0] + latencies, total[1] + seen, total[2] + sent)
        hits = rate_limit_hits(nb)
    print(f"  {'':<18}{'':<42}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'seen/sent':>12}")
    medians = {}
    for key, (who, how) in NAMES.items():
        latencies, seen, sent = results[key]
        medians[key] = statistics.median(latencies) if latencies else float("nan")
        print(
            f"  {who:<18}{how:<42}{medians[key]:>10.1f}{percentile(latencies, 95):>9.1f}"
            f"{max(latencies, default=float('nan')):>9.1f}{f'{seen}/{sent}':>12}"
        )
    print(
        f"  livewidget's median: {medians['lw'] / medians['ipw']:.2f}x ipywidgets.HTML's; "
        f"'IOPub message rate exceeded' {hits} times"
    )


if __name__ == "__main__":
    main()

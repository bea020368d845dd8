"""(d) A 1,000-row pandas DataFrame shown live, three kinds of tick; each against pandas' HTML.

Every update renders the view's template from the next frame, diffs it against the last render
and dumps the payload, as a view does when ``handle_info`` assigns a changed frame. The
scenarios, each a cycle of prepared frames (1,000 rows, 5 columns: id, item, qty, price,
status; ``display.max_rows`` set to None so that every row shows, as in ``to_html()``):

* one cell changes: the frame and the same frame with one ``qty`` (an int) changed,
  alternately; then the same with one ``price`` (a float: pandas gives a float column one
  precision, so livewidget formats that whole column again);
* one row appended: 33 frames of 1,000 to 1,032 rows, each one row longer than the last;
* a sliding window: 33 frames of 1,000 rows, each the last without its first row and with one
  new row at the end.

Contenders, all in the same run:

* livewidget, ``{df}``: Jupyter's table diffed cell by cell (``livewidget/rich.py``);
* livewidget, ``{styler}``: ``df.style.highlight_max(subset=["qty", "price"])``, cell by cell;
* ``lw.Markup(df.to_html())`` in the same template: the whole table as one dynamic;
* ``lw.Markup(styler.to_html())``: the same Styler's own HTML as one dynamic;
* ``ipywidgets.HTML(value=df.to_html())``: a real widget (its comm a dummy outside a kernel)
  given the whole HTML, and ``json.dumps`` of the state it would send.

*bytes* is the mean UTF-8 size of the payloads of one cycle's ticks (the wrap-around from the
last frame back to the first left out); for ipywidgets, of ``{"value": html}``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any

from .common import Contender, Cycle, Row, cycling, measure, print_table, size

ROWS = 1000
TICKS = 33
TEMPLATE = "<h2>Orders</h2>{table}"


def frames(pd: Any, np: Any, count: int = ROWS + TICKS) -> Any:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(count),
            "item": [f"item {i}" for i in range(count)],
            "qty": rng.integers(0, 100, count),
            "price": rng.uniform(1, 500, count).round(2),
            "status": rng.choice(["new", "paid", "shipped", "returned"], count),
        }
    )


def scenarios(pd: Any, np: Any) -> list[tuple[str, list[Any]]]:
    every = frames(pd, np)
    first = every.iloc[:ROWS].copy()
    count, price = first.copy(), first.copy()
    count.loc[ROWS // 2, "qty"] += 1
    price.loc[ROWS // 2, "price"] += 1
    return [
        ("one cell changes (an int)", [first, count]),
        ("one cell changes (a float)", [first, price]),
        ("one row appended", [every.iloc[: ROWS + i].copy() for i in range(TICKS)]),
        ("a sliding window", [every.iloc[i : ROWS + i].copy() for i in range(TICKS)]),
    ]


def mean_bytes(payloads: Sequence[Any]) -> int:
    return round(sum(size(p) for p in payloads) / len(payloads))


def run(title: str, contexts: list[Any]) -> list[Row]:
    import ipywidgets
    import pandas as pd

    import livewidget as lw
    from livewidget import protocol

    def style(df: Any) -> Any:
        return df.style.highlight_max(subset=["qty", "price"])

    renders: list[tuple[str, str, Callable[[Any], lw.Rendered]]] = [
        (
            "livewidget",
            "{df}: Jupyter's table, cell by cell",
            lambda df: lw.html(TEMPLATE, table=df),
        ),
        (
            "livewidget",
            "{styler}: Styler, cell by cell",
            lambda df: lw.html(TEMPLATE, table=style(df)),
        ),
        (
            "livewidget",
            "Markup(df.to_html()), one dynamic",
            lambda df: lw.html(TEMPLATE, table=lw.Markup(df.to_html())),
        ),
        (
            "livewidget",
            "Markup(styler.to_html()), one dynamic",
            lambda df: lw.html(TEMPLATE, table=lw.Markup(style(df).to_html())),
        ),
    ]
    with pd.option_context("display.max_rows", None):
        assert renders[0][2](contexts[0]).to_html().endswith(contexts[0]._repr_html_())
        contenders = []
        for who, how, render in renders:
            rendered = [render(df) for df in contexts]
            payloads = [protocol.diff(a, b) for a, b in itertools.pairwise(rendered)]
            contenders.append(
                Contender(
                    who,
                    how,
                    Cycle(contexts, render, protocol.diff),
                    cycling(render, contexts),
                    mean_bytes(payloads),
                )
            )
        widget = ipywidgets.HTML()

        def widget_update(df: Any) -> str:
            widget.value = df.to_html()
            return json.dumps({"value": widget.value})

        contenders.append(
            Contender(
                "ipywidgets",
                "HTML(value=df.to_html())",
                cycling(widget_update, contexts),
                None,
                mean_bytes([{"value": df.to_html()} for df in contexts[1:]]),
            )
        )
        rows = measure(contenders)
    widget.close()
    return rows


def main() -> None:
    try:
        import numpy as np
        import pandas as pd
    except ImportError:
        print("\n(d) DataFrames: pandas not installed, skipped (pip install -e '.[bench]')")
        return
    for name, contexts in scenarios(pd, np):
        title = f"(d) a {ROWS:,}-row DataFrame shown live, {name}"
        print_table(title, run(title, contexts))


if __name__ == "__main__":
    main()

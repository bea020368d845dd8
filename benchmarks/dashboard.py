"""(a) The sales dashboard of notebooks/dashboard.ipynb: one tick changes its three numbers.

Contenders, each rendering the same HTML from the same contexts:

* livewidget: ``lw.html`` of the notebook's template, ``protocol.diff``;
* pyview-web: the same template in its ibis syntax, ``Template.tree`` and ``calc_diff``; ibis has
  no format specs, so its update formats the two floats in Python first (counted in its time);
* full HTML, as ``ipywidgets.HTML`` would send it: the whole page as the widget's ``value``,
  rendered by livewidget (``.to_html()``) and by a hand-written f-string (the cheapest way).
"""

from __future__ import annotations

import random
from typing import Any

from markupsafe import escape

import livewidget as lw
from livewidget import protocol

from .common import PYVIEW_MISSING, Row, differ, full_html, measure, print_table, pyview

TEMPLATE = """
            <h1>Sales Dashboard</h1>
            <hr>
            <span>🥡 New Orders</span>
            <h2 id="new-orders">{new_orders}</h2>
            <hr>
            <span>💰 Sales Amount</span>
            <h2 id="sales-amount">{sales_amount:,.2f}</h2>
            <hr>
            <span>🌟 Rating</span>
            <h2 id="rating">{rating:.1f}</h2>
            <label>Notes <input id="note" type="text" placeholder="type while it ticks"></label>
            """

IBIS_TEMPLATE = (
    TEMPLATE.replace("{new_orders}", "{{ new_orders }}")
    .replace("{sales_amount:,.2f}", "{{ sales_amount }}")
    .replace("{rating:.1f}", "{{ rating }}")
)


def ticks(count: int = 64) -> list[dict[str, Any]]:
    """What ``fetch_latest_data`` returns in the notebook, for ``count`` ticks (seeded)."""
    rng = random.Random(0)
    return [
        {
            "new_orders": rng.randint(0, 1000),
            "sales_amount": rng.uniform(0, 100_000),
            "rating": rng.uniform(1, 5),
        }
        for _ in range(count)
    ]


def render(ctx: dict[str, Any]) -> lw.Rendered:
    return lw.html(TEMPLATE, **ctx)


def hand_written(ctx: dict[str, Any]) -> str:
    return f"""
            <h1>Sales Dashboard</h1>
            <hr>
            <span>🥡 New Orders</span>
            <h2 id="new-orders">{escape(ctx["new_orders"])}</h2>
            <hr>
            <span>💰 Sales Amount</span>
            <h2 id="sales-amount">{escape(format(ctx["sales_amount"], ",.2f"))}</h2>
            <hr>
            <span>🌟 Rating</span>
            <h2 id="rating">{escape(format(ctx["rating"], ".1f"))}</h2>
            <label>Notes <input id="note" type="text" placeholder="type while it ticks"></label>
            """


def run() -> list[Row]:
    contexts = ticks()
    assert hand_written(contexts[1]) == render(contexts[1]).to_html()
    contenders = [differ("livewidget", "lw.html + protocol.diff", contexts, render, protocol.diff)]
    found = pyview()
    if found is not None:
        template_class, calc_diff, version = found
        template = template_class(IBIS_TEMPLATE)

        def pyview_render(ctx: dict[str, Any]) -> Any:
            return template.tree(
                {
                    "new_orders": ctx["new_orders"],
                    "sales_amount": f"{ctx['sales_amount']:,.2f}",
                    "rating": f"{ctx['rating']:.1f}",
                }
            )

        contenders.append(
            differ(
                f"pyview {version}",
                "ibis Template.tree + calc_diff",
                contexts,
                pyview_render,
                calc_diff,
            )
        )
    contenders.append(
        full_html(
            "full HTML",
            "lw.html(...).to_html(), whole page",
            contexts,
            lambda c: render(c).to_html(),
        )
    )
    contenders.append(
        full_html("full HTML", "hand-written f-string, whole page", contexts, hand_written)
    )
    return measure(contenders)


def main() -> None:
    rows = run()
    print_table("(a) sales dashboard, one tick (3 numbers change)", rows)
    if pyview() is None:
        print(PYVIEW_MISSING)


if __name__ == "__main__":
    main()

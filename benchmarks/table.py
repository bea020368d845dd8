"""(b) A 1,000-row, 5-column table where one cell changes; (c) the same table shuffled.

Contenders, each rendering the same HTML from the same rows:

* livewidget with keyed rows, ``lw.each(rows, row, key=id)`` (what the docs recommend), and with
  a plain list of row templates (matched by position);
* pyview-web: the same table in its ibis syntax (``{% for %}``), ``Template.tree`` and
  ``calc_diff``. Its comprehensions are Phoenix's pre-1.1 ``"d"`` lists, with no keys: any change
  in a list sends the whole list of dynamics again;
* full HTML, as ``ipywidgets.HTML`` would send it: rendered by livewidget (``.to_html()``) and by
  a hand-written ``str.join`` of f-strings (the cheapest way).

Each update renders the whole table from the rows, as a view's ``render`` does.
"""

from __future__ import annotations

import random
from typing import Any

from markupsafe import escape

import livewidget as lw
from livewidget import protocol

from .common import PYVIEW_MISSING, Row, differ, full_html, measure, print_table, pyview

ROWS = 1000
STATUSES = ("new", "paid", "shipped", "returned")

TABLE = (
    "<table><thead><tr><th>#</th><th>Item</th><th>Qty</th><th>Price</th><th>Status</th></tr>"
    "</thead><tbody>{rows}</tbody></table>"
)
ROW = "<tr><td>{id}</td><td>{name}</td><td>{qty}</td><td>{price}</td><td>{status}</td></tr>"
IBIS_TABLE = TABLE.replace(
    "{rows}",
    "{% for r in rows %}<tr><td>{{ r.id }}</td><td>{{ r.name }}</td><td>{{ r.qty }}</td>"
    "<td>{{ r.price }}</td><td>{{ r.status }}</td></tr>{% endfor %}",
)


def make_rows(count: int = ROWS) -> list[dict[str, Any]]:
    rng = random.Random(0)
    return [
        {
            "id": i,
            "name": f"item {i}",
            "qty": rng.randint(0, 99),
            "price": f"{rng.uniform(1, 500):.2f}",
            "status": rng.choice(STATUSES),
        }
        for i in range(count)
    ]


def one_cell_changed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    changed = list(rows)
    middle = len(rows) // 2
    changed[middle] = {**rows[middle], "qty": rows[middle]["qty"] + 1}
    return changed


def shuffled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    reordered = list(rows)
    random.Random(1).shuffle(reordered)
    return reordered


def row(r: dict[str, Any]) -> lw.Rendered:
    return lw.html(ROW, **r)


def keyed(rows: list[dict[str, Any]]) -> lw.Rendered:
    return lw.html(TABLE, rows=lw.each(rows, row, key=lambda r: r["id"]))


def positional(rows: list[dict[str, Any]]) -> lw.Rendered:
    return lw.html(TABLE, rows=[row(r) for r in rows])


def hand_written(rows: list[dict[str, Any]]) -> str:
    body = "".join(
        f"<tr><td>{escape(r['id'])}</td><td>{escape(r['name'])}</td><td>{escape(r['qty'])}</td>"
        f"<td>{escape(r['price'])}</td><td>{escape(r['status'])}</td></tr>"
        for r in rows
    )
    head, tail = TABLE.split("{rows}")
    return head + body + tail


def run(contexts: list[list[dict[str, Any]]]) -> list[Row]:
    assert (
        hand_written(contexts[1])
        == keyed(contexts[1]).to_html()
        == positional(contexts[1]).to_html()
    )
    contenders = [
        differ(
            "livewidget", "lw.each(..., key=id) + protocol.diff", contexts, keyed, protocol.diff
        ),
        differ(
            "livewidget",
            "plain list of lw.html rows + protocol.diff",
            contexts,
            positional,
            protocol.diff,
        ),
    ]
    found = pyview()
    if found is not None:
        template_class, calc_diff, version = found
        template = template_class(IBIS_TABLE)
        assert template.render({"rows": contexts[1]}) == hand_written(contexts[1])

        def pyview_render(rows: list[dict[str, Any]]) -> Any:
            return template.tree({"rows": rows})

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
            "lw.html(...).to_html(), whole table",
            contexts,
            lambda r: keyed(r).to_html(),
        )
    )
    contenders.append(
        full_html("full HTML", "hand-written str.join, whole table", contexts, hand_written)
    )
    return measure(contenders)


def main() -> None:
    table = make_rows()
    title = f"(b) {ROWS:,}-row table, 5 columns, one cell changes"
    print_table(title, run([table, one_cell_changed(table)]))
    title = f"(c) {ROWS:,}-row table, 5 columns, reordered (shuffled)"
    print_table(title, run([table, shuffled(table)]))
    if pyview() is None:
        print(PYVIEW_MISSING)


if __name__ == "__main__":
    main()

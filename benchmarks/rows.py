"""(e) 1,000 rows, one row replaced: does an update cost in proportion to the change?

The view holds 1,000 rows (dicts); an update replaces one of them with a new dict (one ``qty``
changed) and keeps the other 999, the very same objects, as a view's context does after
``socket.assign(rows=[*rows[:k], new_row, *rows[k + 1 :]])``. Each update renders the whole
table from the rows, as a view's ``render`` does, with a format spec in the row
(``{price:,.2f}``), so that the row template takes ``html()``'s general path.

Contenders, each checked to make the same HTML:

* livewidget, ``lw.each(rows, row, key=lambda r: r["id"])`` (the recommended way) +
  ``protocol.diff`` + ``json.dumps``: unchanged rows are reused from the last render
  (``template.py``, *Reuse*), and the diff skips what is the same object as last time;
* the same with ``reuse=False``, which renders every row as before (only where it exists);
* pyview-web: the same table in its ibis syntax, a filter for the format spec
  (``{{ r.price|fmt(",.2f") }}``), ``Template.tree`` + ``calc_diff`` + ``json.dumps``;
* the whole HTML written by hand with f-strings and ``markupsafe.escape``, as
  ``ipywidgets.HTML`` would send it (``json.dumps({"value": html})``).
"""

from __future__ import annotations

import inspect
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
ROW = (
    '<tr id="row-{id}"><td>{id}</td><td>{name}</td><td>{qty}</td><td>{price:,.2f}</td>'
    "<td>{status}</td></tr>"
)
IBIS_TABLE = TABLE.replace(
    "{rows}",
    '{% for r in rows %}<tr id="row-{{ r.id }}"><td>{{ r.id }}</td><td>{{ r.name }}</td>'
    '<td>{{ r.qty }}</td><td>{{ r.price|fmt(",.2f") }}</td><td>{{ r.status }}</td></tr>'
    "{% endfor %}",
)


def make_rows(count: int = ROWS) -> list[dict[str, Any]]:
    rng = random.Random(0)
    return [
        {
            "id": i,
            "name": f"item <{i}>",
            "qty": rng.randint(0, 99),
            "price": rng.uniform(1, 5000),
            "status": rng.choice(STATUSES),
        }
        for i in range(count)
    ]


def one_row_replaced(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    changed = list(rows)  # the other 999 rows are the same objects
    middle = len(rows) // 2
    changed[middle] = {**rows[middle], "qty": rows[middle]["qty"] + 1}
    return changed


def row(r: dict[str, Any]) -> lw.Rendered:
    return lw.html(ROW, **r)


def by_id(r: dict[str, Any]) -> Any:
    return r["id"]


def keyed(rows: list[dict[str, Any]]) -> lw.Rendered:
    return lw.html(TABLE, rows=lw.each(rows, row, key=by_id))


def keyed_no_reuse(rows: list[dict[str, Any]]) -> lw.Rendered:
    return lw.html(TABLE, rows=lw.each(rows, row, key=by_id, reuse=False))


def hand_written(rows: list[dict[str, Any]]) -> str:
    body = "".join(
        f'<tr id="row-{escape(r["id"])}"><td>{escape(r["id"])}</td><td>{escape(r["name"])}</td>'
        f"<td>{escape(r['qty'])}</td><td>{escape(format(r['price'], ',.2f'))}</td>"
        f"<td>{escape(r['status'])}</td></tr>"
        for r in rows
    )
    head, tail = TABLE.split("{rows}")
    return head + body + tail


def run(contexts: list[list[dict[str, Any]]]) -> list[Row]:
    assert hand_written(contexts[1]) == keyed(contexts[1]).to_html()
    contenders = [
        differ(
            "livewidget",
            "lw.each(..., key=id) + protocol.diff",
            contexts,
            keyed,
            protocol.diff,
        )
    ]
    if "reuse" in inspect.signature(lw.each).parameters:
        assert keyed_no_reuse(contexts[1]).to_html() == hand_written(contexts[1])
        contenders.append(
            differ(
                "livewidget",
                "the same, reuse=False (every row rendered)",
                contexts,
                keyed_no_reuse,
                protocol.diff,
            )
        )
    found = pyview()
    if found is not None:
        from pyview.vendor.ibis import filters

        filters.register("fmt")(lambda value, spec: format(value, spec))
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
        full_html("full HTML", "hand-written f-strings, whole table", contexts, hand_written)
    )
    return measure(contenders)


def main() -> None:
    table = make_rows()
    title = f"(e) {ROWS:,} rows, one row replaced (999 the same objects), a format spec per row"
    rows = run([table, one_row_replaced(table)])
    print_table(title, rows)
    hand = rows[-1]
    print(
        f"  livewidget's update is {rows[0].update_us / hand.update_us:.3f}x the hand-written "
        "whole HTML (target: at most 0.1)"
    )
    if pyview() is None:
        print(PYVIEW_MISSING)


if __name__ == "__main__":
    main()

"""The shared vector cases: sequences of renders whose payloads both merge implementations read.

``python -m tests.vectors.cases`` rewrites ``generated.json`` from these cases; the Python test
suite checks that the file matches what the code produces now, and the JS suite merges the same
payloads in ``rendered.ts``. Each case is a list of renders; step one is the full render, the
rest are diffs against the step before.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

from livewidget import Markup, each, html
from livewidget.protocol import diff, full
from livewidget.template import Rendered

HERE = Path(__file__).parent
GENERATED = HERE / "generated.json"

ROW = "<tr><td>{name}</td><td>{qty}</td></tr>"


def _table(rows: list[tuple[int, str, int]]) -> Rendered:
    return html(
        "<table>{rows}</table>",
        rows=each(rows, lambda r: html(ROW, name=r[1], qty=r[2]), key=lambda r: r[0]),
    )


def _badge(ok: bool) -> Rendered:
    return html('<span class="ok">{t}</span>', t="yes") if ok else html("<em>{t}</em>", t="no")


CASES: dict[str, Callable[[], list[Rendered]]] = {
    "text changes": lambda: [
        html("<b>{a}</b><i>{b}</i>", a=1, b="x"),
        html("<b>{a}</b><i>{b}</i>", a=2, b="x"),
        html("<b>{a}</b><i>{b}</i>", a=2, b="<y>"),
    ],
    "nothing changes": lambda: [html("<b>{a}</b>", a=1), html("<b>{a}</b>", a=1)],
    "root template switches": lambda: [html("<b>{a}</b>", a=1), html("<i>{a}</i>", a=1)],
    "conditional switches templates": lambda: [
        html("<p>{badge}</p>", badge=_badge(True)),
        html("<p>{badge}</p>", badge=_badge(False)),
        html("<p>{badge}</p>", badge=_badge(True)),
    ],
    "none and false render nothing": lambda: [
        html("<p>{a}{b}</p>", a=None, b=False),
        html("<p>{a}{b}</p>", a="x", b=Markup("<br>")),
    ],
    "list grows and shrinks": lambda: [
        html("<ul>{xs}</ul>", xs=[html("<li>{x}</li>", x=x) for x in "ab"]),
        html("<ul>{xs}</ul>", xs=[html("<li>{x}</li>", x=x) for x in "abc"]),
        html("<ul>{xs}</ul>", xs=[html("<li>{x}</li>", x=x) for x in "a"]),
        html("<ul>{xs}</ul>", xs=[]),
        html("<ul>{xs}</ul>", xs=[html("<li>{x}</li>", x=x) for x in "z"]),
    ],
    "list of strings and mixed templates": lambda: [
        html("<p>{xs}</p>", xs=["a", "<b>", html("<i>{x}</i>", x=1)]),
        html("<p>{xs}</p>", xs=["a", html("<u>{x}</u>", x=2), "c"]),
    ],
    "keyed row changes": lambda: [
        _table([(1, "apple", 3), (2, "pear", 5), (3, "fig", 7)]),
        _table([(1, "apple", 3), (2, "pear", 6), (3, "fig", 7)]),
    ],
    "keyed reorder, insert and delete": lambda: [
        _table([(1, "apple", 3), (2, "pear", 5), (3, "fig", 7)]),
        _table([(3, "fig", 7), (1, "apple", 3), (2, "pear", 5)]),
        _table([(3, "fig", 8), (4, "kiwi", 1), (1, "apple", 3)]),
        _table([]),
    ],
    "shared templates in rows": lambda: [
        html("<div>{xs}</div>", xs=[html("<p>{b}</p>", b=_badge(i % 2 == 0)) for i in range(4)]),
        html("<div>{xs}</div>", xs=[html("<p>{b}</p>", b=_badge(i % 2 == 1)) for i in range(5)]),
    ],
    "nested comprehensions": lambda: [
        html(
            "<div>{groups}</div>",
            groups=[
                html("<ul>{items}</ul>", items=[html("<li>{x}</li>", x=x) for x in g])
                for g in ("ab", "c")
            ],
        ),
        html(
            "<div>{groups}</div>",
            groups=[
                html("<ul>{items}</ul>", items=[html("<li>{x}</li>", x=x) for x in g])
                for g in ("ab", "cd", "e")
            ],
        ),
    ],
}


def build() -> dict[str, object]:
    cases = []
    for name, make in CASES.items():
        renders = make()
        steps = [{"payload": full(renders[0]), "html": renders[0].to_html()}]
        steps += [
            {"payload": diff(before, after), "html": after.to_html()}
            for before, after in itertools.pairwise(renders)
        ]
        cases.append({"name": name, "steps": steps})
    return {"cases": cases}


def dump() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    GENERATED.write_text(dump(), encoding="utf-8")
    print(f"wrote {GENERATED}")

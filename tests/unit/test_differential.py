"""Differential test: the official Phoenix LiveView client merges livewidget's payloads.

Hypothesis draws a *shape* (a tree of templates: text and attribute fields, ``None``/``False``,
``Markup``, nested templates, conditionals that switch templates, lists of templates, of strings
and of mixed templates, keyed ``lw.each`` rows, nested comprehensions) and then a sequence of
renders of that shape, each changing some of the values of the one before (rows inserted,
deleted and reordered, branches switched, subtrees kept). The payloads, ``full`` of the first
render and ``diff`` of each next one, go through JSON to three clients:

* the official ``phoenix_live_view`` client (npm, pinned in ``package.json``),
* livewidget's own browser merge, ``js/src/rendered.ts``,
* livewidget's Python merge, ``protocol.merge`` / ``protocol.to_html`` (the test client's),

and after every payload each must build exactly ``rendered.to_html()`` (the official client once
its ``data-phx-*`` markers are removed). The two JS clients run in one Node process for the whole
session (``official_client.mjs``, bundled with esbuild at session start), spoken to in JSON lines.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import livewidget as lw
from livewidget.protocol import diff, full, merge, to_html
from livewidget.template import Rendered
from livewidget.testing import live

ROOT = Path(__file__).parents[2]
HELPER = Path(__file__).with_name("official_client.mjs")
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"


# -- the Node process ----------------------------------------------------------------------------


class Clients:
    """One Node process merging payloads with the official client and with rendered.ts."""

    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.process = process
        self.log = log

    def merge(self, payloads: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
        """The HTML each client builds from ``payloads``; ``dom=True`` patches a page (streams),
        ``normalize=[html, ...]`` asks for those strings as that page's DOM writes them."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps({"payloads": payloads, **options}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the Node helper exited ({self.process.poll()}): {self.log.read_text()[-2000:]}"
            )
        return json.loads(line)

    def close(self) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture(scope="session")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clients]:
    node = shutil.which("node")
    if (
        node is None
        or not ESBUILD.exists()
        or not (ROOT / "node_modules/phoenix_live_view").is_dir()
    ):
        message = "the differential test needs Node and the npm dev dependencies (`npm ci`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("official_client")
    bundle = folder / "official_client.mjs"
    # happy-dom (the page of the stream tests) has CommonJS parts that require Node built-ins.
    banner = (
        "--banner:js=import { createRequire as __lwRequire } from 'node:module'; "
        "const require = __lwRequire(import.meta.url);"
    )
    build = subprocess.run(
        [
            ESBUILD,
            HELPER,
            "--bundle",
            "--platform=node",
            "--format=esm",
            banner,
            f"--outfile={bundle}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, f"esbuild failed:\n{build.stderr}"
    log = folder / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [node, bundle],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
    session = Clients(process, log)
    try:
        yield session
    finally:
        session.close()


# -- shapes and their renders --------------------------------------------------------------------

MISSING: Any = object()

SCALARS = st.one_of(
    st.text(alphabet="ab<>&\"' é\n", max_size=3),
    st.none(),
    st.booleans(),
    st.integers(-2, 12),
    st.sampled_from([lw.Markup("<br>"), lw.Markup("<i>m</i>"), lw.Markup("&amp;")]),
)


# Strategies built once: building them inside draws is most of the time hypothesis takes here.
THIRDS = st.integers(0, 2)
FIELD_COUNTS = {0: st.integers(0, 3), 1: st.integers(1, 3)}
LIST_SIZE = st.integers(0, 4)
ROW_COUNT = st.integers(0, 6)
KEY = st.integers(0, 9)
EMPTY = st.sampled_from([None, False, ""])
HOW = st.sampled_from(["new", "shuffle", "insert and delete"])
SLOT = st.sampled_from(["dq", "sq", "text"])
TAG = st.sampled_from(["div", "p", "td"])
NAMES = st.sampled_from("cd")
STEPS = st.integers(2, 6)


def as_text(value: Any) -> str:
    return lw.html("{v}", v=value).to_html()


class Spec(Protocol):
    """A node of a shape: draws its data for one render, and turns data into a value."""

    def fresh(self, draw: st.DrawFn, previous: Any) -> Any: ...

    def build(self, data: Any) -> Any: ...


def draw_data(spec: Spec, draw: st.DrawFn, previous: Any) -> Any:
    """The data of ``spec`` for the next render: often the previous data, so subtrees repeat."""
    if previous is not MISSING and draw(THIRDS) == 2:
        return previous
    return spec.fresh(draw, previous)


@dataclass(frozen=True)
class Text:
    """A scalar: text, a number, None, a bool or Markup."""

    def fresh(self, draw: st.DrawFn, previous: Any) -> Any:
        value = draw(SCALARS)
        if previous is MISSING or as_text(value) != as_text(previous):
            return value
        return lw.Markup(as_text(previous) + "~")  # fresh data that renders the same is a keep

    def build(self, data: Any) -> Any:
        return data


# Where a field sits in its template: text, a double-quoted or a single-quoted attribute.
SLOTS = {"text": "<b>{%s}</b>", "dq": '<a title="{%s}">.</a>', "sq": "<a title='{%s}'>.</a>"}


@dataclass(frozen=True)
class Template:
    """``lw.html`` of a source made from the fields; ``names`` varies the field names only, so
    two specs can make different templates with the same statics."""

    tag: str
    variant: int
    names: str
    fields: tuple[tuple[str, Spec], ...]

    @property
    def source(self) -> str:
        slots = "".join(SLOTS[slot] % f"{self.names}{i}" for i, (slot, _) in enumerate(self.fields))
        return f'<{self.tag} class="v{self.variant}">{slots}</{self.tag}>'

    def fresh(self, draw: st.DrawFn, previous: Any) -> Any:
        return tuple(
            draw_data(spec, draw, MISSING if previous is MISSING else previous[i])
            for i, (_, spec) in enumerate(self.fields)
        )

    def build(self, data: Any) -> Rendered:
        values = {
            f"{self.names}{i}": spec.build(d)
            for i, ((_, spec), d) in enumerate(zip(self.fields, data))
        }
        return lw.html(self.source, **values)


@dataclass(frozen=True)
class Cond:
    """One of several specs per render (a conditional), or, if ``empty``, nothing at all."""

    options: tuple[Spec, ...]
    empty: bool

    def fresh(self, draw: st.DrawFn, previous: Any) -> Any:
        choice = draw(st.integers(-1 if self.empty else 0, len(self.options) - 1))
        if choice < 0:
            return (choice, draw(EMPTY))
        kept = previous is not MISSING and previous[0] == choice
        return (choice, draw_data(self.options[choice], draw, previous[1] if kept else MISSING))

    def build(self, data: Any) -> Any:
        choice, value = data
        return value if choice < 0 else self.options[choice].build(value)


@dataclass(frozen=True)
class List:
    """A plain list (or generator) of items: a comprehension matched by position."""

    item: Spec
    generator: bool

    def fresh(self, draw: st.DrawFn, previous: Any) -> Any:
        size = draw(LIST_SIZE)
        old = () if previous is MISSING else previous
        return tuple(
            draw_data(self.item, draw, old[i] if i < len(old) else MISSING) for i in range(size)
        )

    def build(self, data: Any) -> Any:
        items = [self.item.build(d) for d in data]
        return iter(items) if self.generator else items


@dataclass(frozen=True)
class Each:
    """``lw.each`` rows keyed by a small integer: inserts, deletes, moves and changed rows."""

    row: Spec

    def fresh(self, draw: st.DrawFn, previous: Any) -> Any:
        old = {} if previous is MISSING else dict(previous)
        how = draw(HOW) if old else "new"
        if how == "new":
            size = draw(ROW_COUNT)
            keys = draw(st.lists(KEY, unique=True, min_size=size, max_size=size))
        elif how == "shuffle":
            keys = draw(st.permutations(list(old)))
        else:
            keys = list(old)
            del keys[draw(st.integers(0, len(keys) - 1))]
            new = draw(st.sampled_from(sorted(set(range(10)) - set(old))))
            keys.insert(draw(st.integers(0, len(keys))), new)
        return tuple((k, draw_data(self.row, draw, old.get(k, MISSING))) for k in keys)

    def build(self, data: Any) -> Any:
        return lw.each(data, lambda row: self.row.build(row[1]), key=lambda row: row[0])


@functools.cache
@st.composite
def templates(draw: st.DrawFn, depth: int, min_fields: int = 0) -> Template:
    fields = []
    for _ in range(draw(FIELD_COUNTS[min_fields])):
        child = draw(specs(depth - 1))
        slot = draw(SLOT) if isinstance(child, Text) else "text"
        fields.append((slot, child))
    return Template(
        tag=draw(TAG),
        variant=draw(st.integers(0, 2)),
        names=draw(NAMES),
        fields=tuple(fields),
    )


@functools.cache
@st.composite
def rows(draw: st.DrawFn, depth: int, min_fields: int = 0) -> Spec:
    """A spec that always renders a template: what a list item or a keyed row can be."""
    options = tuple(draw(st.lists(templates(depth, min_fields), min_size=1, max_size=3)))
    return options[0] if len(options) == 1 else Cond(options, empty=False)


@functools.cache
@st.composite
def specs(draw: st.DrawFn, depth: int) -> Spec:
    """Any spec, nested at most ``depth`` more levels (below 0: text only)."""
    if depth < 0:
        return Text()
    kinds = ["text", "template"] if depth == 0 else ["text", "template", "cond", "list", "each"]
    kind = draw(st.sampled_from(kinds))
    if kind == "text":
        return Text()
    if kind == "template":
        return draw(templates(depth))
    if kind == "cond":
        options = tuple(draw(st.lists(specs(depth - 1), min_size=1, max_size=3)))
        return Cond(options, empty=draw(st.booleans()))
    if kind == "list":
        item = draw(st.one_of(st.just(Text()), rows(depth - 1), specs(depth - 1)))
        return List(item, generator=draw(st.booleans()))
    return Each(draw(rows(depth - 1)))


@st.composite
def tables(draw: st.DrawFn) -> Template:
    """A template around keyed rows, whose rows may hold conditional templates ("p" sharing)."""
    table = draw(templates(1))
    rows_field = ("text", Each(draw(rows(2))))
    at = draw(st.integers(0, len(table.fields)))
    fields = (*table.fields[:at], rows_field, *table.fields[at:])
    return Template(table.tag, table.variant, table.names, fields)


@st.composite
def render_sequences(draw: st.DrawFn) -> list[Rendered]:
    """Two to six renders of one shape, whose root may switch between templates."""
    root = draw(st.one_of(rows(3, min_fields=1), tables()))
    data = MISSING
    renders = []
    for _ in range(draw(STEPS)):
        data = root.fresh(draw, data)  # a kept root would only diff to {}
        renders.append(root.build(data))
    return renders


# -- the test ------------------------------------------------------------------------------------


def payloads_of(renders: list[Rendered]) -> list[dict[str, Any]]:
    """The wire payloads of a render sequence, through JSON as they travel."""
    payloads = [full(renders[0])] + [diff(a, b) for a, b in itertools.pairwise(renders)]
    return json.loads(json.dumps(payloads))


def first_mismatch(built: list[str], expected: list[str], payloads: list[Any]) -> str:
    for step, (got, want) in enumerate(zip(built, expected)):
        if got != want:
            return (
                f"step {step}: payload {json.dumps(payloads[step])}\n"
                f"  expected {want!r}\n  built    {got!r}\n"
                f"  all payloads: {json.dumps(payloads)}"
            )
    return "same"


def check_every_client(clients: Clients, renders: list[Rendered]) -> None:
    payloads = payloads_of(renders)
    expected = [rendered.to_html() for rendered in renders]

    tree = None
    merged = []
    for payload in payloads:
        tree = merge(tree, payload)
        merged.append(to_html(tree))
    assert merged == expected, "protocol.merge: " + first_mismatch(merged, expected, payloads)

    answer = clients.merge(payloads)
    assert "error" not in answer, (
        f"{answer.get('client')} client raised at step {answer.get('step')}: {answer.get('error')}"
        f"\n  payloads: {json.dumps(payloads)}"
    )
    for name in ("official", "livewidget"):
        assert answer[name] == expected, f"{name}: " + first_mismatch(
            answer[name], expected, payloads
        )


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(renders=render_sequences())
def test_every_client_builds_every_render_from_the_payloads(clients: Clients, renders):
    check_every_client(clients, renders)


def test_a_long_keyed_table_reordered_and_edited_merges_alike(clients: Clients):
    """Past 1,024 rows (the diff's cache of index strings), with moves, edits and deletes."""

    def table(rows: list[tuple[int, str]]) -> Rendered:
        return lw.html(
            "<table>{rows}</table>",
            rows=lw.each(
                rows, lambda r: lw.html("<tr><td>{v}</td></tr>", v=r[1]), key=lambda r: r[0]
            ),
        )

    rows = [(i, f"row {i}") for i in range(1100)]
    shuffled = random.Random(0).sample(rows, len(rows))
    edited = [(k, v.upper() if k % 7 == 0 else v) for k, v in shuffled[30:]] + [(2000, "new")]
    check_every_client(clients, [table(rows), table(shuffled), table(edited), table(rows)])


def test_the_node_helper_names_the_client_and_step_that_raised(clients: Clients):
    answer = clients.merge([{"s": ["<p>", "</p>"], "0": "a"}, {"0": {"k": {"kc": 1}}}])
    assert answer["step"] == 1
    assert answer["client"] in {"official", "livewidget"}


# -- streams -------------------------------------------------------------------------------------
#
# A stream's rows are kept by the page, not by the kernel, and the official client keeps them in
# its DOM only (its Rendered forgets them once rendered). So here the clients are compared as
# pages, in the Node helper's "dom" mode, where each patches a happy-dom page: the official one
# with its own DOMPatch, livewidget with rendered.ts and dom_patch.ts. A view driven by the test
# client (the runtime, the protocol and the Python merge) sends the payloads, and a model of the
# rows written here says what every page must show: each send's operations folded as the wire
# carries them (a reset, the deletes, then the inserts in order; a row inserted twice once, with
# its last options), applied as Phoenix's client applies them.
#
# Phoenix's client handles a container that is new in the same patch differently (it adds the
# rows with the container, then reorders and prunes them one by one, against the final count),
# so a batch that creates the container (the mount, or a conditional showing it again) only
# appends, without a limit, as a mount does.

STREAM_ROWS = (
    '<li id="{dom_id}" class="r">{text}</li>',
    '<li id="{dom_id}"><b>{text}</b>{badge}</li>',
)
STREAM_PAGES = ("<h1>{n}</h1>{body}<p>end</p>", '<h2 class="other">{n}</h2>{body}')
STREAM_CONTAINER = '<ul id="{name}" phx-update="stream">{rows}</ul>'

STREAM_KEYS = st.integers(0, 7)
STREAM_ITEMS = st.fixed_dictionaries(
    {"id": STREAM_KEYS, "text": st.text(alphabet="ab<&\"' é", max_size=3), "variant": THIRDS}
)
STREAM_AT = st.sampled_from([-1, -1, 0, 0, 1, 2, 3, 9])
STREAM_LIMIT = st.sampled_from([None, None, None, 0, 1, 2, 3, 5, -1, -2, -4])


def stream_row(dom_id: str, item: dict[str, Any]) -> Rendered:
    """A row in one of two templates; the second nests one of two more ("p" sharing)."""
    if item["variant"] == 0:
        return lw.html(STREAM_ROWS[0], dom_id=dom_id, text=item["text"])
    badge = lw.html("<i>{k}</i>", k=item["id"]) if item["id"] % 2 else lw.html("<u>-</u>")
    return lw.html(STREAM_ROWS[1], dom_id=dom_id, text=item["text"], badge=badge)


def stream_page(ctx: Any, rows: Any) -> Rendered:
    """The page around the streams; ``rows(name)`` is what goes in each container."""
    body = None
    if ctx["show"]:
        body = [lw.html(STREAM_CONTAINER, name=name, rows=rows(name)) for name in ctx["names"]]
    return lw.html(STREAM_PAGES[ctx["page"]], n=ctx["n"], body=body)


@dataclass(frozen=True)
class StreamStep:
    """One message to the view: new plain assigns, then stream operations, in order."""

    n: int
    page: int
    show: bool
    ops: tuple[tuple[Any, ...], ...]


class StreamPage(lw.LiveView):
    def mount(self, socket: Any) -> None:
        socket.assign(n=0, page=0, show=True, names=self.params["names"])
        for name in self.params["names"]:
            socket.stream(name, self.params["initial"] if name == "a" else [])

    def handle_info(self, step: StreamStep, socket: Any) -> None:
        socket.assign(n=step.n, page=step.page, show=step.show)
        for kind, name, *args in step.ops:
            if kind == "insert":
                item, at, limit = args
                socket.stream_insert(name, item, at=at, limit=limit)
            elif kind == "delete":
                socket.stream_delete(name, {"id": args[0]})
            else:
                items, reset, at, limit = args
                socket.stream(name, items, reset=reset, at=at, limit=limit)

    def render(self, ctx: Any) -> Rendered:
        return stream_page(ctx, lambda name: lw.each(ctx.streams[name], stream_row))


def model_rows(rows: list[tuple[str, Any]], ops: list[tuple[Any, ...]]) -> list[tuple[str, Any]]:
    """The rows a page shows after one send of ``ops`` (of one stream): the model above."""
    reset, inserts, deletes = False, {}, set()
    for kind, name, *args in ops:
        if kind == "stream" and args[1]:
            reset, inserts, deletes = True, {}, set()
        if kind == "delete":
            inserts.pop(f"{name}-{args[0]}", None)
            deletes.add(f"{name}-{args[0]}")
            continue
        at, limit = args[-2:]
        for item in [args[0]] if kind == "insert" else args[0]:
            inserts.pop(f"{name}-{item['id']}", None)
            inserts[f"{name}-{item['id']}"] = (at, limit, item)
    removed = {dom_id for dom_id, _ in rows} if reset else deletes
    rows = [row for row in rows if row[0] not in removed]
    present = {dom_id for dom_id, _ in rows}
    for dom_id, (at, limit, item) in inserts.items():
        if dom_id in present:  # updated in place; if a limit pruned it meanwhile, gone
            rows = [(d, item if d == dom_id else i) for d, i in rows]
            continue
        rows.insert(len(rows) if at == -1 else min(at, len(rows)), (dom_id, item))
        if limit is not None and len(rows) > abs(limit):
            rows = rows[:limit] if limit >= 0 else rows[limit:]
    return rows


@st.composite
def stream_scripts(draw: st.DrawFn) -> tuple[list[str], list[dict[str, Any]], list[StreamStep]]:
    names = ["a", "b"] if draw(st.booleans()) else ["a"]
    initial = draw(st.lists(STREAM_ITEMS, max_size=4))
    steps, shown = [], True
    for _ in range(draw(st.integers(1, 6))):
        show = shown if draw(THIRDS) else not shown
        created = show and not shown  # the container is new on the page: appends only

        def position() -> tuple[int, int | None]:
            return (-1, None) if created else (draw(STREAM_AT), draw(STREAM_LIMIT))  # noqa: B023

        ops: list[tuple[Any, ...]] = []
        for _ in range(draw(st.integers(0, 4))):
            name = draw(st.sampled_from(names))
            kind = draw(st.sampled_from(["insert", "insert", "delete", "stream"]))
            if kind == "insert":
                ops.append(("insert", name, draw(STREAM_ITEMS), *position()))
            elif kind == "delete":
                ops.append(("delete", name, draw(STREAM_KEYS)))
            else:
                items = draw(st.lists(STREAM_ITEMS, max_size=3))
                ops.append(("stream", name, items, draw(st.booleans()), *position()))
        steps.append(StreamStep(draw(THIRDS), draw(st.integers(0, 1)), show, tuple(ops)))
        shown = show
    return names, initial, steps


def check_stream_script(
    clients: Clients, names: list[str], initial: list[dict[str, Any]], steps: list[StreamStep]
) -> None:
    state: dict[str, Any] = {"n": 0, "page": 0, "show": True, "names": names}
    rows: dict[str, list[tuple[str, Any]]] = {
        "a": model_rows([], [("stream", "a", initial, False, -1, None)])
    }
    rows.setdefault("b", [])

    def model_html() -> str:
        def shown(name: str) -> lw.Markup:
            return lw.Markup("".join(stream_row(d, item).to_html() for d, item in rows[name]))

        return stream_page(state, shown).to_html()

    lv = live(StreamPage, names=names, initial=initial)
    expected, built = [model_html()], [lv.html]
    for step in steps:
        sent = len(lv.payloads)
        was_shown = state["show"]
        lv.send_info(step)
        state.update(n=step.n, page=step.page, show=step.show)
        for name in names:
            if not step.show:
                rows[name] = []  # its container is gone, and its operations with it
                continue
            ops = [op for op in step.ops if op[1] == name]
            rows[name] = model_rows(rows[name] if was_shown else [], ops)
        if len(lv.payloads) == sent:
            assert model_html() == expected[-1], f"no payload for a change: {step}"
            continue
        assert len(lv.payloads) == sent + 1
        expected.append(model_html())
        built.append(lv.html)
    lv.close()

    payloads = json.loads(json.dumps(lv.payloads))
    assert built == expected, "protocol.merge: " + first_mismatch(built, expected, payloads)
    answer = clients.merge(payloads, dom=True, normalize=expected)
    assert "error" not in answer, (
        f"{answer.get('client')} client raised at step {answer.get('step')}: {answer.get('error')}"
        f"\n  payloads: {json.dumps(payloads)}"
    )
    for name in ("official", "livewidget"):
        assert answer[name] == answer["normalized"], f"{name} page: " + first_mismatch(
            answer[name], answer["normalized"], payloads
        )


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(script=stream_scripts())
def test_every_client_shows_the_rows_of_a_stream_alike(clients: Clients, script):
    check_stream_script(clients, *script)


# -- the shared vectors --------------------------------------------------------------------------

VECTORS = sorted((ROOT / "tests" / "vectors").glob("*.json"))


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_every_client_builds_the_html_of_every_shared_vector(clients: Clients, path: Path):
    """The hand-written vectors ("p" scoping, components) through the three merges at once."""
    for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
        if case.get("dom"):
            continue  # streams: compared as pages by test_every_client_shows_the_rows_...
        payloads = [step["payload"] for step in case["steps"]]
        expected = [step["html"] for step in case["steps"]]
        tree = None
        merged = []
        for payload in payloads:
            tree = merge(tree, payload)
            merged.append(to_html(tree))
        answer = clients.merge(payloads)
        assert "error" not in answer, f"{case['name']}: {answer}"
        for name, built in (
            ("protocol.merge", merged),
            *((n, answer[n]) for n in ("official", "livewidget")),
        ):
            assert built == expected, f"{name}, {case['name']}: " + first_mismatch(
                built, expected, payloads
            )

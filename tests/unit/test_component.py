"""Components: own context, events routed by phx-target, props updates, their own diffs."""

from typing import Any

import pytest

import livewidget as lw
from livewidget.runtime import Event
from livewidget.testing import live


class Item(lw.LiveComponent):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(done=False, clicks=0)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(done=not socket.context.done, clicks=socket.context.clicks + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<li id="{id}" class="{state}"><button phx-click="toggle" phx-target="{myself}">'
            "{label}</button> {clicks}</li>",
            state="done" if ctx.done else "open",
            **ctx,
        )


class Todo(lw.LiveView):
    def mount(self, socket: lw.Socket) -> None:
        socket.assign(items=["milk", "eggs"], title="Groceries")

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        if event == "rename":
            items = socket.context["items"]
            socket.assign(items=[params["to"] if i == "milk" else i for i in items])
        elif event == "drop":
            socket.assign(items=socket.context["items"][1:])
        elif event == "retitle":
            socket.assign(title="Shopping")

    def render(self, ctx: lw.Context) -> lw.Rendered:
        items = [
            lw.live_component(Item, id=f"item-{n}", label=label)
            for n, label in enumerate(ctx["items"])  # ctx.items is the Mapping method
        ]
        return lw.html(
            '<h2 id="title">{title}</h2><ul>{items}</ul>'
            '<button id="rename" phx-click="rename" phx-value-to="oat milk">r</button>'
            '<button id="drop" phx-click="drop">d</button>'
            '<button id="retitle" phx-click="retitle">t</button>',
            title=ctx.title,
            items=items,
        )


def test_components_render_under_c_and_are_referenced_by_cid():
    lv = live(Todo)
    first = lv.payloads[0]
    assert set(first["c"]) == {"1", "2"}
    assert first["0"] == "Groceries"
    assert lv.has_element("#item-0 button", text="milk")
    assert lv.element("#item-0 button")["phx-target"] == "1"


def test_an_event_of_a_component_goes_to_it_and_sends_only_its_diff():
    lv = live(Todo)
    lv.click("#item-1 button")
    assert lv.payloads[-1] == {"c": {"2": {"1": "done", "4": "1"}}}
    assert lv.has_element("#item-1.done")
    assert lv.has_element("#item-0.open")


def test_changed_props_reach_the_component_and_its_own_state_is_kept():
    lv = live(Todo)
    lv.click("#item-0 button")
    lv.click("#rename")
    assert lv.has_element("#item-0 button", text="oat milk")
    assert lv.has_element("#item-0.done")
    assert lv.payloads[-1] == {"c": {"1": {"3": "oat milk"}}}


def test_a_parent_render_that_does_not_change_props_sends_no_component():
    lv = live(Todo)
    lv.click("#retitle")
    assert lv.payloads[-1] == {"0": "Shopping"}


def test_components_the_parent_stops_rendering_are_dropped():
    lv = live(Todo)
    lv.click("#drop")
    assert len(lv._runtime.components) == 1
    assert not lv.has_element("#item-1")
    assert lv.has_element("#item-0 button", text="eggs")


def test_an_event_for_a_missing_component_is_an_error_and_harms_nothing():
    lv = live(Todo, raise_errors=False)
    lv._runtime.post(Event("toggle", {}, 99))
    lv.advance(0)
    assert "names component 99, but there is none" in str(lv.errors[0])
    lv.click("#item-0 button")
    assert lv.has_element("#item-0.done")


def test_a_component_outside_a_live_view_renders_inline():
    rendered = lw.html("<ul>{x}</ul>", x=lw.live_component(Item, id="solo", label="a"))
    assert str(rendered).startswith('<ul><li id="solo" class="open">')


def test_the_same_component_id_twice_is_an_error():
    class Twice(Todo):
        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html(
                "{a}{b}",
                a=lw.live_component(Item, id="x", label="1"),
                b=lw.live_component(Item, id="x", label="2"),
            )

    with pytest.raises(ValueError, match="appears twice"):
        live(Twice)


# -- a component's assigns: what counts as a change ---------------------------------------------


class Tally(lw.LiveComponent):
    def update(self, assigns: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(assigns, updates=socket.context.get("updates", 0) + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<p id="{id}">{total} from {n} scores, {updates} updates</p>',
            total=sum(ctx.scores),
            n=len(ctx.scores),
            **ctx,
        )


class Scoreboard(lw.LiveView):
    """Keeps one list and appends to it in place, as notebook code often does."""

    def mount(self, socket: lw.Socket) -> None:
        self.scores = [1, 2]
        socket.assign(scores=self.scores)

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        self.scores.append(int(params["points"]))
        socket.assign(scores=self.scores)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '{tally}<button id="score" phx-click="score" phx-value-points="5">+5</button>',
            tally=lw.live_component(Tally, id="tally", scores=ctx.scores),
        )


class Podium(lw.LiveView):
    """Gives its component equal values in new objects whenever its own title changes."""

    def mount(self, socket: lw.Socket) -> None:
        socket.assign(title="Scores")

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(title=params["title"])

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<h2>{title}</h2>{tally}<button id="retitle" phx-click="retitle" '
            'phx-value-title="Points">t</button>',
            title=ctx.title,
            tally=lw.live_component(Tally, id="tally", scores=[1, 2]),  # a new list every render
        )


def test_a_list_changed_in_place_and_assigned_again_updates_the_component_that_shows_it():
    lv = live(Scoreboard)
    assert lv.has_element("#tally", text="3 from 2 scores, 1 updates")
    lv.click("#score")
    assert lv.has_element("#tally", text="8 from 3 scores, 2 updates")


def test_equal_new_assigns_neither_update_nor_render_the_component_again():
    lv = live(Podium)
    sent = len(lv.payloads)
    lv.click("#retitle")
    assert lv.has_element("h2", text="Points")
    assert lv.has_element("#tally", text="3 from 2 scores, 1 updates")
    assert "c" not in lv.payloads[sent], "the component was rendered and sent again"


class Counting(lw.LiveComponent):
    """A component whose socket a thread of the user's holds (a producer for one row)."""

    def mount(self, socket: lw.Socket) -> None:
        SOCKETS.append(socket)
        socket.assign(n=0)
        socket.stream("log", [])

    def handle_event(self, event: str, params: dict[str, Any], socket: lw.Socket) -> None:
        socket.assign(n=socket.context.n + 1)

    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html(
            '<p id="n" phx-click="up" phx-target="{myself}">{n}</p><ul id="log" '
            'phx-update="stream">{rows}</ul>',
            myself=ctx.myself,
            n=ctx.n,
            rows=lw.each(
                ctx.streams.log,
                lambda dom_id, item: lw.html(
                    '<li id="{dom_id}">{text}</li>', dom_id=dom_id, text=item["text"]
                ),
            ),
        )


class Holder(lw.LiveView):
    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<div>{c}</div>", c=lw.live_component(Counting, id="c"))


SOCKETS: list[lw.Socket] = []


def test_a_components_socket_used_from_outside_the_views_code_changes_it_in_its_turn():
    SOCKETS.clear()
    lv = live(Holder)
    socket = SOCKETS[-1]
    lv.click("#n")  # the component's own handler: 1
    socket.assign(n=socket.context.n + 10)  # from this thread: queued, then rendered
    socket.stream_insert("log", {"id": 1, "text": "from a thread"})
    assert lv.element("#n").text == "1"  # nothing has run yet
    lv.advance(0)
    assert lv.element("#n").text == "11"
    assert [li.text for li in lv.elements("#log > li")] == ["from a thread"]
    with pytest.raises(KeyError, match="no stream named 'nope'"):
        socket.stream_insert("nope", {"id": 2})  # a bad argument raises here
    lv.click("#n")
    assert lv.element("#n").text == "12"
    assert lv.errors == []

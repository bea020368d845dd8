"""A field with a format spec is escaped like any other: ``{name:>10}`` pads the text, it does
not make it markup. The spec is applied first (to the value: a str, a number, anything with
``__format__``), and the formatted text is escaped for where the field sits."""

import livewidget as lw
from livewidget import protocol
from livewidget.testing import live

ATTACK = "<script>alert(1)</script>"


def test_a_padded_text_field_shows_a_script_as_text():
    html = lw.html("<p>{x:>30}</p>", x=ATTACK).to_html()
    assert "<script>" not in html
    assert html == "<p>     &lt;script&gt;alert(1)&lt;/script&gt;</p>"  # padded to 30


def test_a_formatted_attribute_cannot_close_its_quote():
    html = lw.html('<p title="{x:<5}">t</p>', x='"><img src=x onerror=alert(1)>').to_html()
    assert "<img" not in html
    assert 'title="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html


def test_an_object_whose_format_returns_markup_is_escaped_too():
    class Sneaky:
        def __format__(self, spec: str) -> str:
            return "<b>bold</b>"

    assert lw.html("<p>{x:x}</p>", x=Sneaky()).to_html() == "<p>&lt;b&gt;bold&lt;/b&gt;</p>"


def test_the_diff_sent_for_a_formatted_field_carries_escaped_text():
    before = lw.html("<td>{name:>8}</td>", name="Ada")
    after = lw.html("<td>{name:>8}</td>", name=ATTACK)
    assert protocol.diff(before, after) == {
        "0": "&lt;script&gt;alert(1)&lt;/script&gt;",
    }


def test_a_view_with_a_format_spec_shows_user_input_as_text():
    class Greeter(lw.LiveView):
        def mount(self, socket: lw.Socket) -> None:
            socket.assign(name="")

        def handle_event(self, event: str, params: dict[str, str], socket: lw.Socket) -> None:
            socket.assign(name=params["name"])

        def render(self, ctx: lw.Context) -> lw.Rendered:
            return lw.html(
                '<form phx-submit="greet"><input name="name"></form><p id="hi">Hi {name:>12}</p>',
                **ctx,
            )

    lv = live(Greeter)
    lv.submit("form", {"name": ATTACK})
    assert lv.has_element("#hi", text=f"Hi {ATTACK}")
    assert not lv.has_element("script")

"""A component shown outside a live view (a template rendered on its own, a static render)
has no cid: it renders inline, once, and its render travels in the payload like any nested
template, so the page shows it and a diff sends only what changed in it."""

import livewidget as lw
from livewidget import protocol


class Badge(lw.LiveComponent):
    def render(self, ctx: lw.Context) -> lw.Rendered:
        return lw.html("<i>{label}</i>", **ctx)


def page(label: str) -> lw.Rendered:
    return lw.html("<div>{badge}</div>", badge=lw.live_component(Badge, id="b", label=label))


def test_a_component_outside_a_view_renders_inline_in_the_full_payload():
    assert protocol.full(page("new")) == {
        "0": {"0": "new", "s": ["<i>", "</i>"]},
        "s": ["<div>", "</div>"],
    }
    assert page("new").to_html() == "<div><i>new</i></div>"


def test_a_diff_of_two_renders_sends_only_the_components_changed_field():
    assert protocol.diff(page("new"), page("old")) == {"0": {"0": "old"}}
    assert protocol.diff(page("same"), page("same")) == {}

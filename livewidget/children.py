"""Widgets inside views: a Jupyter widget in a template field is that live widget, at that spot.

The pure core knows nothing of Jupyter; the Jupyter door (``jupyter/widget.py``) registers the
widget class with ``template.embed``, and a widget in a field then renders as a *placeholder*, a
``Child``, which is a ``Rendered`` of one fixed template holding the widget's model id::

    html("<p>Speed {slider}</p>", slider=IntSlider())
    <p>Speed <span class="lw-child" data-lw-widget="3f2a...c9" id="lw-child-3f2a...c9"
                   phx-update="ignore"></span></p>

Being a ``Rendered``, it diffs like any nested template: its statics travel once and an
unchanged widget sends nothing on later renders. On the page, ``js/src/children.ts`` asks the
notebook's widget manager for a view of that model and puts it inside the placeholder;
``phx-update="ignore"`` keeps the patches out of it and the id keeps it the same element across
renders, so the widget is the same DOM whatever the view renders around it. A ``<span>`` is
valid wherever text is (inside ``<p>``, ``<td>``, ``<button>``...), and CSS shows it as
``display: contents``, so the widget lays out as if it were the span's parent's own child.

The kernel side of the door lists the widgets a render shows with ``children_of`` after each
render it sends, and keeps them in a synced trait (``widget_serialization``): that keeps them
alive, and puts them in the notebook's saved widget state beside the view.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from .template import ComponentRef, Comprehension, Rendered, TemplateError, parse
from .wire import CHILD_ATTR, PHX_UPDATE

__all__ = ["CHILD_ATTR", "Child", "children_of", "widget_child"]

_TEMPLATE = parse(
    f'<span class="lw-child" {CHILD_ATTR}="{{id}}" id="lw-child-{{id}}" {PHX_UPDATE}="ignore">'
    "</span>"
)
# ipykernel's comm ids, hence ipywidgets' model ids, are uuid4().hex: 32 lowercase hex digits.
# Anything else never reaches the markup.
_MODEL_ID = re.compile(r"[0-9a-f]{8,64}")

_made = False  # whether any Child was ever made: until then no render needs walking


class Child(Rendered):
    """The placeholder of one widget in a render; ``widget`` is the widget it shows."""

    __slots__ = ("widget",)

    def __init__(self, widget: Any, model_id: Any) -> None:
        if not isinstance(model_id, str) or not _MODEL_ID.fullmatch(model_id):
            raise TemplateError(
                f"html(): the widget {widget!r:.80} has the model id {model_id!r:.80}; a widget "
                "shown inside a view needs a live one (32 hex digits, as ipykernel makes them)."
                + (" Was it closed?" if model_id is None else "")
            )
        super().__init__(_TEMPLATE, (model_id, model_id))
        self.widget = widget
        global _made
        _made = True

    @property
    def model_id(self) -> str:
        return str(self.dynamics[0])

    def __repr__(self) -> str:
        return f"<Child {type(self.widget).__name__} {self.model_id}>"


def widget_child(widget: Any) -> Child:
    """A Jupyter widget in a template field: its placeholder. The widget exists, so ipywidgets
    is loaded; this module does not import it."""
    displays = getattr(sys.modules.get("ipywidgets"), "DOMWidget", None)
    if displays is None or not isinstance(widget, displays):
        raise TemplateError(
            f"html(): {widget!r:.80} is a {type(widget).__name__}, a widget with no view of its "
            "own (not an ipywidgets.DOMWidget); only widgets that display can sit in a template."
        )
    carrier = widget.comm
    return Child(widget, carrier.comm_id if carrier is not None else None)


def any_made() -> bool:
    """Whether a widget was ever placed in a template in this process (cheap to ask)."""
    return _made


def children_of(rendered: Rendered | None) -> list[Child]:
    """The placeholders in ``rendered`` (its components' renders included), in page order.

    It runs after each render a view sends, once any widget was placed: text, nearly every
    dynamic of a big table, is skipped in comprehensions (about as fast as the diff).
    """
    found: list[Child] = []
    _walk(rendered, found)
    return found


def _walk(node: Any, found: list[Child]) -> None:
    if isinstance(node, Rendered):
        if type(node) is Child:
            found.append(node)
            return
        for dynamic in node.dynamics:
            if type(dynamic) is not str:
                _walk(dynamic, found)
    elif isinstance(node, Comprehension):
        for dynamic in [d for entry in node.entries for d in entry if type(d) is not str]:
            _walk(dynamic, found)
    elif isinstance(node, ComponentRef):
        _walk(node.rendered, found)

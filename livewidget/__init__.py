"""livewidget: LiveView-style live views in Jupyter notebooks, written in Python.

A view is a class: ``mount`` sets up its context, ``handle_event`` and ``handle_info`` change it,
``render`` returns ``html(...)``. The kernel diffs each render against the last and sends only
the change; the widget patches the page in place.
"""

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .component import LiveComponent, live_component
from .config import configure
from .js import JS
from .keyed import each
from .socket import Context, Socket
from .template import Rendered, TemplateError, html
from .view import LiveView, create_live_view

if TYPE_CHECKING:
    from .jupyter import LiveWidget

__all__ = [
    "JS",
    "Context",
    "LiveComponent",
    "LiveView",
    "LiveWidget",
    "Markup",
    "Rendered",
    "Socket",
    "TemplateError",
    "configure",
    "create_live_view",
    "each",
    "html",
    "live_component",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # LiveWidget imports anywidget and ipywidgets; the pure core (and the test client) need not.
    if name == "LiveWidget":
        from .jupyter import LiveWidget

        return LiveWidget
    if name == "pubsub":  # lw.pubsub.broadcast(...) after a bare `import livewidget as lw`
        import importlib

        return importlib.import_module(".pubsub", __name__)
    raise AttributeError(f"module 'livewidget' has no attribute {name!r}")

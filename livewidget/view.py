"""Views: a context, handlers that change it, and ``render`` that turns it into a template.

Every handler may be a plain function or a coroutine function; the runtime awaits what needs
awaiting. Handlers change the context through ``socket.assign`` and return ``None``; anything
else they return is a mistake the runtime reports (``check_handler_result``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .socket import Context, Socket
from .template import Rendered

if TYPE_CHECKING:
    from .jupyter import LiveWidget

__all__ = ["HandlerError", "LiveView", "create_live_view"]


class HandlerError(TypeError):
    """A handler or ``render`` returned something it should not have."""


class LiveView:
    """Subclass this: ``mount`` sets up the context, ``render`` returns ``lw.html(...)``.

    Keyword arguments to the constructor are kept as ``self.params`` for ``mount`` to read:
    ``Counter(start=5)`` and ``live(Counter, start=5)`` both give ``self.params == {"start": 5}``.
    The last expression of a notebook cell that is a view displays it as a live widget.
    """

    params: dict[str, Any]

    hooks: str = ""
    """JavaScript hooks for ``phx-hook``: the source of an ES module whose default export maps
    hook names to objects with ``mounted``, ``updated``, ``destroyed`` (see docs/bindings.md)."""

    def __init__(self, **params: Any) -> None:
        self.params = params
        self._widget: LiveWidget | None = None

    def mount(self, socket: Socket) -> Any:
        """Set up the context with ``socket.assign``; start timers when ``socket.connected``."""

    def handle_event(self, event: str, params: dict[str, Any], socket: Socket) -> Any:
        """Answer an event from the page (``phx-click="inc"`` arrives as ``"inc"``)."""
        raise NotImplementedError(
            f"{type(self).__name__} got the event {event!r} but defines no handle_event"
        )

    def handle_info(self, info: Any, socket: Socket) -> Any:
        """Answer a message from ``send_info``, ``repeat`` or pub/sub."""
        raise NotImplementedError(
            f"{type(self).__name__} got the info {info!r:.80} but defines no handle_info"
        )

    def render(self, ctx: Context) -> Rendered:
        raise NotImplementedError(f"{type(self).__name__} must define render(self, ctx)")

    # The widget side: displayed in a notebook, a view is a live widget.

    @property
    def widget(self) -> LiveWidget:
        """The widget that runs this view in the kernel (made on first use)."""
        if self._widget is None:
            from .jupyter import LiveWidget  # the door to Jupyter, opened only when displayed

            self._widget = LiveWidget(self)
        return self._widget

    def _ipython_display_(self) -> None:
        self.widget._ipython_display_()

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({params})"


class Renders(Protocol):
    """A view or a component: what ``render_checked`` renders."""

    def render(self, ctx: Context) -> Rendered: ...


def render_checked(owner: Renders, context: Context) -> Rendered:
    """Call ``owner.render`` (a view's or a component's) and make sure it returned a
    ``Rendered``."""
    rendered = owner.render(context)
    if not isinstance(rendered, Rendered):
        hint = (
            " Wrap the markup in lw.html(...) so values are escaped and diffs stay small."
            if isinstance(rendered, str)
            else ""
        )
        raise HandlerError(
            f"{type(owner).__name__}.render() must return lw.html(...), got "
            f"{type(rendered).__name__}: {rendered!r:.80}.{hint}"
        )
    return rendered


def check_handler_result(
    owner: object, handler: str, result: Any, *, event: str | None = None
) -> None:
    """A view's or a component's handler returns None: anything else is reported.

    ``event`` names the event a ``handle_event`` answered, for the message.
    """
    if result is not None:
        call = f"{handler}({event!r})" if event is not None else f"{handler}()"
        raise HandlerError(
            f"{type(owner).__name__}.{call} returned {result!r:.80}; handlers change the "
            "context with socket.assign(...) and return None."
        )


def create_live_view(
    *,
    render: Callable[[Context], Rendered],
    mount: Callable[[Socket], Any] | None = None,
    handle_event: Callable[[str, dict[str, Any], Socket], Any] | None = None,
    handle_info: Callable[[Any, Socket], Any] | None = None,
    name: str = "LiveView",
) -> type[LiveView]:
    """Build a view class from functions, as LiveViewJS's ``createLiveView`` does.

    >>> Counter = create_live_view(
    ...     mount=lambda socket: socket.assign(count=0),
    ...     render=lambda ctx: html("<b>{count}</b>", **ctx),
    ... )
    >>> Counter()  # displays a live widget as the last expression of a cell
    """
    if not callable(render):
        raise TypeError("create_live_view() needs render=, a function of the context")
    namespace: dict[str, Any] = {"render": lambda self, ctx: render(ctx)}
    if mount is not None:
        namespace["mount"] = lambda self, socket: mount(socket)
    if handle_event is not None:
        namespace["handle_event"] = lambda self, event, params, socket: handle_event(
            event, params, socket
        )
    if handle_info is not None:
        namespace["handle_info"] = lambda self, info, socket: handle_info(info, socket)
    return type(name, (LiveView,), namespace)


def static_render(view: LiveView, context: Mapping[str, Any] | None = None) -> Rendered:
    """Mount ``view`` on a disconnected socket (nothing starts) and render it once."""
    import inspect

    socket = Socket()
    if context:
        socket.assign(context)
    result = view.mount(socket)
    if inspect.isawaitable(result):
        raise HandlerError(
            f"{type(view).__name__}.mount() is async; a static render cannot await it."
        )
    return render_checked(view, socket.context)

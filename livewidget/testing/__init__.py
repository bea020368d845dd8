"""A test client for views: mount, click, type and tick with no kernel and no browser.

``live(View, **params)`` mounts a connected view on a private event loop with a virtual clock.
Every action goes through the same code as a widget: the runtime's mailbox, ``render``,
``protocol.diff``, the front-end message checks of ``events``, and ``protocol.merge`` into a
client-side tree whose HTML is ``lv.html``. It is synchronous, so plain pytest functions use it::

    from livewidget.testing import live

    def test_the_counter_counts():
        lv = live(Counter)
        lv.click("#inc")
        assert lv.has_element("#count", text="1")
        lv.advance(1000)          # fire the timers due in the next second, then settle

Each action (``click``, ``change``, ``submit``, ``keydown``, ``send_info``...) returns the HTML
right after its own message's render, as Phoenix's ``render_click`` does; what that message's
handler triggered (a ``send_info`` to itself) is handled next, in the same call, so ``lv.html``
shows the view settled. A handler that shows "Loading..." and sends itself the result::

    assert "Loading..." in lv.click("#load")     # the render the page showed first
    assert lv.has_element("#result", text="42")   # then the info's
    assert "Loading..." in lv.renders[-2]         # every render the page showed, in order

``lv.renders[i]`` is the page after ``lv.payloads[i]``; ``renders[0]`` the mount's. Messages
that come while the view is busy share one render, as in a widget (whose pacer sends at most one
a frame): the infos a handler sends itself, however many, give one render after its own.

The client's event loop runs on the virtual clock: a handler's ``await asyncio.sleep(0.5)``,
``loop.call_later`` or ``asyncio.timeout`` waits for ``lv.advance(500)``, never for real time
(the loop waits in real time only for the view's own thread, where plain ``def`` handlers run).
Jobs started with ``socket.start_async`` run on in real time; ``lv.render_async()`` waits for
them. phx-debounce and phx-throttle run on the virtual clock as the front end runs them (see
``rate_limit``): two ``lv.change`` calls within a debounce send one event, at ``lv.advance``.

``lv.elements(selector)`` lists every match (``lv.element`` wants exactly one);
``lv.change(sel, {..., "_target": ["user", "name"]})`` names the changed field as Phoenix's
``render_change`` does (by default, the first field in the data).

A handler or render that raises fails the action with that exception, unless
``live(..., raise_errors=False)``; then ``lv.errors`` collects them and the view goes on, as in
a notebook.

The modules: ``client`` (``live``, ``LiveViewTest``), ``clock`` (the virtual clock and the loop
that keeps it), ``dom`` (reading the page as a browser would), ``rate_limit`` (debounce and
throttle), ``runtime_hooks`` (what the client asks of the runtime).
"""

from .client import LiveViewTest, Renders, live
from .clock import VirtualClock

__all__ = ["LiveViewTest", "Renders", "VirtualClock", "live"]

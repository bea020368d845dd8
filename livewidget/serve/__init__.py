"""``livewidget serve``: the same views, served to browser tabs over WebSockets.

The notebook is one door to the runtime (``widget.py``: a comm per widget); this is the second:
a Starlette app in which every browser tab gets a view of its own, over a WebSocket, with the
same templates, diffs and front end. ``app({"/": Dashboard})`` returns the ASGI app (to run with
uvicorn, or to mount in a bigger Starlette or FastAPI app); ``livewidget serve TARGET`` runs
one with uvicorn. See docs/serve.md.

Needs the ``serve`` extra (``pip install livewidget[serve]``: starlette, uvicorn, websockets).
"""

from .asgi import app, tune_gc
from .target import TargetError, load_target

__all__ = ["TargetError", "app", "load_target", "tune_gc"]

"""The front end's built files (``livewidget/static``, made by ``npm run build``), as text."""

from __future__ import annotations

from pathlib import Path

_STATIC = Path(__file__).parent.parent / "static"


def static_text(name: str) -> str:
    """A built file's text. Text, not a Path: for a Path anywidget connects every widget to a
    file watcher's signal and never disconnects it, so no closed widget would ever be freed
    (manzt/anywidget#929). The cost is anywidget's hot reload, which the built bundle lacks."""
    return (_STATIC / name).read_text(encoding="utf-8")

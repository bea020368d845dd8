"""The door to Jupyter: the only part of livewidget that imports anywidget, ipywidgets,
traitlets and IPython.

* ``widget`` the ``LiveWidget`` (an anywidget): its comm, its traits, links to other widgets;
* ``cells`` a view's life among the cells: a re-run cell closes its views, and headless runs
  snapshot each view's HTML;
* ``recording`` what ``record()`` keeps for an exported page to replay;
* ``hub`` the one comm of a kernel that carries every view's renders to the page;
* ``bundle`` the built front end, as text.
"""

from .widget import Link, LiveWidget

__all__ = ["Link", "LiveWidget"]

"""``livewidget export``: a notebook as one HTML file that shows its views with no kernel and
no network.

* ``page`` the writer: reads the notebook (running it first with ``--execute``), replaces each
  view's output by its last saved HTML, inlines the replay of recordings, and neutralises
  whatever would load something from another host (its docstring tells the whole story);
* ``repair`` makes a notebook nobody vouches for safe to read (lone surrogates, deep nesting,
  parts that break the notebook format), each repair a warning;
* ``widgets`` draws the Jupyter widgets a view shows (sliders, containers, plotly figures) from
  their saved state.

From Python: ``export_file(notebook_path, output_path, execute=False, ...)``, or
``export_notebook(notebook)`` for the page as a str with its warnings.
"""

from .page import (
    MODEL_ATTR,
    RECORDINGS_ID,
    Export,
    LiveWidgetPreprocessor,
    execute_notebook,
    export_file,
    export_notebook,
    external_references,
    read_notebook,
)
from .repair import ExportError

__all__ = [
    "MODEL_ATTR",
    "RECORDINGS_ID",
    "Export",
    "ExportError",
    "LiveWidgetPreprocessor",
    "execute_notebook",
    "export_file",
    "export_notebook",
    "external_references",
    "read_notebook",
]

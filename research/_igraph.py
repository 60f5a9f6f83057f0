"""``igraph``, imported without its matplotlib drawing backend.

python-igraph's drawing package imports ``matplotlib.pyplot`` at import time
whenever matplotlib is installed (``igraph.drawing.shapes`` calls
``find_matplotlib()``): ~0.5 s of a 0.6 s ``import igraph`` on a 2-core machine,
for plotting this package never does (its figures use matplotlib directly,
:mod:`research.plotting`). Importing igraph with matplotlib hidden makes igraph
take its own "matplotlib is not installed" branch; matplotlib itself stays
importable afterwards.

The known difference: in a process where this module imported igraph first,
igraph's *own* matplotlib backend (``igraph.plot(graph, target=ax)``) is
unavailable (its Cairo and Plotly backends are not affected). Importing
``matplotlib`` or ``igraph`` before this package restores it: the guard only
acts when neither is loaded yet.
"""

from __future__ import annotations

import sys

__all__ = ["ig"]

_hide = "igraph" not in sys.modules and "matplotlib" not in sys.modules
if _hide:
    # A None entry in sys.modules makes `import matplotlib` raise ImportError.
    sys.modules["matplotlib"] = None  # type: ignore[assignment]
try:
    import igraph as ig
finally:
    if _hide and "matplotlib" in sys.modules and sys.modules["matplotlib"] is None:
        del sys.modules["matplotlib"]

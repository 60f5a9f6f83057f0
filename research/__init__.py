"""hijack-clusters: find clusters of compromised accounts in the accounts x apps x URLs graph.

For notebooks::

    import research
    data = research.load("tweets.jsonl.gz")      # or a posts Parquet file, a `simulate` folder
    found = data.detect()                        # the package's method
    found.flagged                                # flagged clusters, highest score first
    found.explain(0)                             # why, in words and numbers
    found.report("report.html")                  # a self-contained page

``load``, ``from_posts`` and ``Dataset`` come from :mod:`research.api`, ``Detection``
(what every method returns, knowing its data) and ``Explanation`` from
:mod:`research.detection`, all imported on first use so that ``import research`` stays cheap;
``__version__`` is read from the installed package's metadata
(:func:`research.provenance.version`), also on first use.
"""

from __future__ import annotations

from typing import Any

_API = ("Dataset", "Detection", "Explanation", "from_posts", "load")
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    # PEP 562: the API (pandas, igraph, pyarrow) loads on first use only.
    if name in _API:
        from research import api

        return getattr(api, name)
    if name == "__version__":
        from research.provenance import version

        return version()
    raise AttributeError(f"module 'research' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

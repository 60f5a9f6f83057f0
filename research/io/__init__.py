"""Reading the platforms' exports into the posts table.

One module per source format (:mod:`~research.io.twitter_v1`,
:mod:`~research.io.twitter_v2`, :mod:`~research.io.gnip`,
:mod:`~research.io.info_ops`, :mod:`~research.io.mastodon`,
:mod:`~research.io.tabular`), one way in (:func:`ingest` to Parquet,
:func:`read` to memory, :func:`load_posts` for anything a user points at),
one set of options (:class:`ReadOptions`), and an account of every row
(:mod:`~research.io.accounting`).

Importing this package imports nothing heavy (no numpy, pyarrow, DuckDB or
pandas): its names load from their modules on first use (PEP 562), and DuckDB
only in the step that reads a Twitter v1.1 file with it.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from research.io.formats import detect_format
    from research.io.ingest import IngestSummary, ingest, read
    from research.io.loading import load_posts
    from research.io.options import FORMATS, ReadOptions
    from research.io.pseudonymise import read_key

# Each public name and the module that defines it, imported on first use.
_HOMES = {
    "FORMATS": "research.io.options",
    "IngestSummary": "research.io.ingest",
    "ReadOptions": "research.io.options",
    "detect_format": "research.io.formats",
    "ingest": "research.io.ingest",
    "load_posts": "research.io.loading",
    "read": "research.io.ingest",
    "read_key": "research.io.pseudonymise",
}

__all__ = [
    "FORMATS",
    "IngestSummary",
    "ReadOptions",
    "detect_format",
    "ingest",
    "load_posts",
    "read",
    "read_key",
]


class _Package(types.ModuleType):
    """This package, where ``ingest`` stays the function when the submodule of the same name loads.

    The import system binds each submodule on its package when it first loads it
    (``research.io.ingest``, the module); when this package imported its names eagerly, the
    function rebound the name afterwards. Loading on first use, the binding is refused.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "ingest" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'research.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

"""Reading the platforms' exports into the posts table.

One module per source format (:mod:`~research.io.twitter_v1`,
:mod:`~research.io.twitter_v2`, :mod:`~research.io.gnip`,
:mod:`~research.io.info_ops`, :mod:`~research.io.mastodon`,
:mod:`~research.io.tabular`), one way in (:func:`ingest` to Parquet,
:func:`read` to memory, :func:`load_posts` for anything a user points at),
one set of options (:class:`ReadOptions`), and an account of every row
(:mod:`~research.io.accounting`).

Importing this package imports neither DuckDB nor pandas: DuckDB is imported
by the step that reads a Twitter v1.1 file with it.
"""

from __future__ import annotations

from research.io.formats import FORMATS, detect_format
from research.io.ingest import IngestSummary, ingest, read
from research.io.loading import load_posts
from research.io.options import ReadOptions
from research.io.pseudonymise import read_key

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

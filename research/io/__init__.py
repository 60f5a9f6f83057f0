"""Reading the platforms' exports into the posts table.

One module per source format (:mod:`~research.io.twitter_v1`,
:mod:`~research.io.twitter_v2`, :mod:`~research.io.info_ops`,
:mod:`~research.io.mastodon`, :mod:`~research.io.tabular`), one way in
(:func:`ingest` to Parquet, :func:`load` to memory), and an account of every
row (:mod:`~research.io.accounting`).
"""

from __future__ import annotations

from research.io.formats import FORMATS, detect_format
from research.io.ingest import IngestSummary, ingest, load
from research.io.pseudonymise import read_key

__all__ = ["FORMATS", "IngestSummary", "detect_format", "ingest", "load", "read_key"]

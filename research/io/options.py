"""Options shared by every reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from research.io.sources import DEFAULT_MAX_LINE_BYTES

__all__ = ["ReadOptions"]


@dataclass(frozen=True)
class ReadOptions:
    """How readers read.

    Parameters
    ----------
    chunk_rows
        Rows per batch handed on (and per Parquet row group); bounds memory.
    max_line_bytes
        JSON lines longer than this are rejected (``line_too_long``).
    engine
        ``"auto"`` (DuckDB where a format has a DuckDB reader, Python
        otherwise), ``"duckdb"`` or ``"python"``. Both give the same posts.
    duckdb_threads
        Threads DuckDB may use (``None``: DuckDB's default, all cores).
    column_map
        For tabular input: source column name -> posts-schema column name.
    platform
        For tabular input without a ``platform`` column: the platform to record.
    """

    chunk_rows: int = 200_000
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    engine: str = "auto"
    duckdb_threads: int | None = None
    column_map: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None

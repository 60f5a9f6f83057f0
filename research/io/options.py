"""How readers read: one set of options, checked once, shared by every reader and entry point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from research.errors import ConfigError

__all__ = ["ENGINES", "ReadOptions"]

# This module imports nothing heavy: the command line's parser reads its names.

#: Lines longer than this are rejected (``line_too_long``) without being held in memory.
DEFAULT_MAX_LINE_BYTES = 64 << 20

#: The input formats, by name (each read by a reader of :mod:`research.io.formats`).
FORMATS: tuple[str, ...] = (
    "twitter-v1", "twitter-v2", "gnip", "twitter-info-ops", "mastodon", "csv", "parquet",
)  # fmt: skip

#: The columns a CSV/Parquet file may hold (others are ignored), the targets of ``column_map``.
TABULAR_COLUMNS: tuple[str, ...] = (
    "post_id", "account_id", "account_name", "timestamp", "app_name", "app_url", "urls",
    "platform_urls", "text", "is_repost", "platform",
)  # fmt: skip

#: Engines of the Twitter v1.1 reader (the other formats have one engine each).
ENGINES: tuple[str, ...] = ("auto", "duckdb", "python")


@dataclass(frozen=True)
class ReadOptions:
    """How readers read; invalid values are refused when the options are made.

    Parameters
    ----------
    format
        One of :data:`research.io.formats.FORMATS`, or ``None`` to detect
        each file's format from its first bytes.
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

    Raises
    ------
    ConfigError
        For an unknown format or engine, a count below 1, or a column map onto
        a column the posts table does not have.

    Examples
    --------
    >>> ReadOptions(engine="python", chunk_rows=1000).engine
    'python'
    >>> ReadOptions(engine="fast")
    Traceback (most recent call last):
    ...
    research.errors.ConfigError: unknown engine 'fast'; choose one of: auto, duckdb, python
    """

    format: str | None = None
    chunk_rows: int = 200_000
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    engine: str = "auto"
    duckdb_threads: int | None = None
    column_map: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise ConfigError(
                f"unknown input format {self.format!r}; choose one of: {', '.join(FORMATS)}"
            )
        if self.engine not in ENGINES:
            raise ConfigError(
                f"unknown engine {self.engine!r}; choose one of: {', '.join(ENGINES)}"
            )
        for name in ("chunk_rows", "max_line_bytes", "duckdb_threads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}")
        for source, target in self.column_map.items():
            if target not in TABULAR_COLUMNS:
                raise ConfigError(
                    f"--map {source}={target} (column_map in Python): no posts column {target!r}; "
                    f"map onto one of: {', '.join(TABULAR_COLUMNS)}"
                )
        # A private copy: the caller's dict may change after the options are made.
        object.__setattr__(self, "column_map", dict(self.column_map))

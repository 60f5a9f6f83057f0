"""Generic CSV and Parquet posts, named by the posts schema's columns.

Columns (names as in :mod:`research.posts`; ``column_map`` renames others,
e.g. ``{"user": "account_id", "created": "timestamp"}``):

=================  ========  ==================================================================
column             needed    read as
=================  ========  ==================================================================
``post_id``        yes       text (unique; repeats are skipped as ``duplicate_post_id``)
``account_id``     yes       text
``timestamp``      yes       ISO 8601 (``2021-01-31T12:00:00Z``, ``2021-01-31 12:00``; naive
                             times are UTC) or whole seconds since the epoch
``account_name``   no        text
``app_name``       no        text (canonicalised: white space, NFC; case kept)
``app_url``        no        a URL
``urls``           no        a list literal (``['http://a', 'http://b']``), or links separated
                             by ``|``, or by white space; in Parquet, also a list of strings
``platform_urls``  no        as ``urls``; always taken as platform links
``text``           no        text
``is_repost``      no        ``true``/``false``, ``1``/``0``, ``yes``/``no`` (any case)
``platform``       no        text; default: the ``platform=`` option, else ``unknown``
=================  ========  ==================================================================

``domains`` is always recomputed from ``urls``. Other columns are ignored.
A row is one CSV record (header excluded) or one Parquet row. Rejects name
the record number (1-based, header excluded; a record may span lines when
a quoted field holds line breaks); a record with the wrong number of fields
is rejected as ``malformed_record``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from research.canonical import TWITTER_HOSTS
from research.errors import InputFileError, SchemaError
from research.io.accounting import FileLog
from research.io.assemble import RAW_SCHEMA, RawBatch
from research.io.listliteral import split_links
from research.io.options import ReadOptions
from research.io.sources import InputFile, open_binary, read_head

__all__ = ["REQUIRED", "read_csv", "read_parquet", "rows_to_raw"]

REQUIRED = ("post_id", "account_id", "timestamp")
#: The columns a CSV/Parquet file may hold (others are ignored), the targets of ``column_map``.
TABULAR_COLUMNS = _KNOWN = ("post_id", "account_id", "account_name", "timestamp", "app_name", "app_url", "urls",
          "platform_urls", "text", "is_repost", "platform")  # fmt: skip
_TRUE = {"true", "t", "1", "yes", "y"}
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


def csv_header(source: InputFile) -> list[str]:
    """The column names of a CSV file (its first line)."""
    head = read_head(source, 1 << 20).decode("utf-8-sig", errors="replace")
    try:
        return next(csv.reader(io.StringIO(head)), [])
    except csv.Error as err:
        raise InputFileError(f"{source.path}: the CSV header cannot be read ({err})") from None


def check_columns(
    source: InputFile, present: list[str], needed: tuple[str, ...], hint: str = ""
) -> None:
    """Raise :class:`SchemaError` naming the file and the missing columns."""
    missing = [c for c in needed if c not in present]
    if missing:
        raise SchemaError(
            f"{source.path}: missing column(s) {', '.join(missing)}; found "
            f"{', '.join(present[:40]) or 'no columns'}{hint}"
        )


class RecordNumbers:
    """Maps the position of a well-formed record to its number in the file (1-based, header excluded)."""

    def __init__(self) -> None:
        self.malformed: list[int] = []

    def __call__(self, position: int) -> int:
        number = position
        for skipped in sorted(self.malformed):
            if skipped <= number:
                number += 1
        return number


def csv_batches(
    source: InputFile,
    columns: list[str],
    log: FileLog,
    options: ReadOptions,
    numbers: RecordNumbers,
) -> Iterator[pa.Table]:
    """Batches of a CSV file's chosen columns, all read as text.

    Records with the wrong number of fields are rejected (and counted) here,
    and their numbers noted in ``numbers``.
    """

    def on_invalid(row: Any) -> str:
        log.read()
        record = row.number - 1 if row.number is not None else None
        if record is not None:
            numbers.malformed.append(record)
        log.reject(
            "malformed_record",
            raw=row.text,
            record=record,
            detail=f"{row.actual_columns} fields where the header has {row.expected_columns}",
        )
        return "skip"

    stream = open_binary(source)
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=1 << 24, use_threads=False),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        pending: list[pa.RecordBatch] = []
        rows = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            pending.append(batch)
            rows += batch.num_rows
            if rows >= options.chunk_rows:
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
        if pending:
            yield pa.Table.from_batches(pending)
    except (pa.ArrowInvalid, OSError, EOFError) as err:
        raise InputFileError(f"{source.path}: cannot be read as CSV ({err})") from None
    finally:
        stream.close()


def _timestamps(column: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            column = pc.assume_timezone(column, "UTC")
        return column.cast(pa.timestamp("ms", tz="UTC"))
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        seconds = pc.cast(column, pa.int64(), safe=False)
        return pc.multiply(seconds, 1000).cast(pa.timestamp("ms", tz="UTC"))
    if pa.types.is_date(column.type):
        return column.cast(pa.timestamp("ms")).cast(pa.timestamp("ms", tz="UTC"))
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    # Drop fractional seconds and a trailing zone ("Z", "+00:00") before parsing; offsets are applied after.
    digits = pc.match_substring_regex(text, r"^-?[0-9]{1,12}$")
    epoch = pc.if_else(digits, text, pa.scalar(None, pa.string())).cast(pa.int64())
    offset = pc.extract_regex(text, r"(?P<sign>[+-])(?P<h>[0-9]{2}):?(?P<m>[0-9]{2})$")
    stem = pc.replace_substring_regex(text, r"(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?$", "")
    parsed = pa.nulls(len(text), pa.timestamp("ms"))
    for fmt in _TIME_FORMATS:
        attempt = pc.strptime(stem, format=fmt, unit="ms", error_is_null=True)
        parsed = pc.coalesce(parsed, attempt)
    millis = parsed.cast(pa.int64())
    sign = pc.if_else(pc.equal(pc.struct_field(offset, "sign"), "-"), -1, 1)
    shift = pc.multiply(
        pc.add(
            pc.multiply(pc.struct_field(offset, "h").cast(pa.int64()), 3600),
            pc.multiply(pc.struct_field(offset, "m").cast(pa.int64()), 60),
        ),
        pc.multiply(sign, -1000),
    )
    millis = pc.if_else(pc.is_null(shift), millis, pc.add(millis, pc.fill_null(shift, 0)))
    millis = pc.coalesce(millis, pc.multiply(epoch, 1000))
    return millis.cast(pa.timestamp("ms", tz="UTC"))


def _links_column(
    column: pa.Array, parse: Callable[[object], list[str] | None]
) -> tuple[pa.Array, np.ndarray]:
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return column.cast(pa.list_(pa.string())), np.zeros(len(column), dtype=bool)
    encoded = column.cast(pa.string()).dictionary_encode()
    parsed = [parse(v) for v in encoded.dictionary.to_pylist()]
    bad_codes = np.asarray([p is None for p in parsed], dtype=bool)
    lists = pa.array([p or [] for p in parsed], pa.list_(pa.string())).take(encoded.indices)
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
    bad = np.zeros(len(column), dtype=bool)
    valid = codes >= 0
    bad[valid] = bad_codes[codes[valid]]
    return lists, bad


def _booleans(column: pa.Array) -> pa.Array:
    if pa.types.is_boolean(column.type):
        return pc.fill_null(column, False)
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(column.cast(pa.string())))
    return pc.fill_null(pc.is_in(lowered, pa.array(sorted(_TRUE))), False)


def rows_to_raw(
    table: pa.Table,
    source: InputFile,
    log: FileLog,
    first_record: int,
    *,
    platform: str,
    record_of: Callable[[int], int] = lambda position: position,
    parse_links: Callable[[object], list[str] | None] = split_links,
) -> RawBatch:
    """Validate rows named by the posts schema and turn them into a raw batch.

    Rows without ``post_id``/``account_id``, with an unreadable time or
    malformed links are rejected (``record`` = ``record_of(first_record + position)``).
    """
    n = table.num_rows
    log.read(n)
    table = table.combine_chunks()

    def text(name: str) -> pa.Array:
        if name not in table.column_names:
            return pa.nulls(n, pa.string())
        column = (
            table.column(name).chunk(0)
            if table.column(name).num_chunks
            else pa.nulls(n, pa.string())
        )
        column = column.cast(pa.string())
        return pc.if_else(
            pc.equal(pc.utf8_trim_whitespace(column), ""), pa.scalar(None, pa.string()), column
        )

    post_id, account_id = (
        pc.utf8_trim_whitespace(text("post_id")),
        pc.utf8_trim_whitespace(text("account_id")),
    )
    timestamp = _timestamps(table.column("timestamp").combine_chunks())
    urls, bad_urls = (
        _links_column(table.column("urls").combine_chunks(), parse_links)
        if "urls" in table.column_names
        else (pa.array([[]] * n, pa.list_(pa.string())), np.zeros(n, dtype=bool))
    )
    platform_urls, bad_platform = (
        _links_column(table.column("platform_urls").combine_chunks(), parse_links)
        if "platform_urls" in table.column_names
        else (pa.array([[]] * n, pa.list_(pa.string())), np.zeros(n, dtype=bool))
    )
    reasons = np.full(n, "", dtype=object)
    for reason, mask in (
        ("bad_links", bad_urls | bad_platform),
        ("bad_timestamp", _null_mask(timestamp)),
        ("missing_account_id", _null_mask(account_id)),
        ("missing_post_id", _null_mask(post_id)),
    ):
        reasons[mask] = reason
    bad = reasons != ""
    if bad.any():
        for position in np.flatnonzero(bad):
            record = {k: _plain(v) for k, v in table.slice(int(position), 1).to_pylist()[0].items()}
            log.reject(
                str(reasons[position]),
                record=record_of(first_record + int(position)),
                raw=orjson.dumps(record, default=str),
            )
    platforms = text("platform")
    platforms = pc.fill_null(platforms, platform)
    raw = pa.Table.from_arrays(
        [
            post_id,
            account_id,
            text("account_name"),
            timestamp,
            text("app_name"),
            text("app_url"),
            urls,
            platform_urls,
            table.column("text").chunk(0).cast(pa.string())
            if "text" in table.column_names and n
            else pa.nulls(n, pa.string()),
            _booleans(table.column("is_repost").chunk(0))
            if "is_repost" in table.column_names and n
            else pa.array(np.zeros(n, dtype=bool)),
            platforms,
        ],
        schema=RAW_SCHEMA,
    )
    if bad.any():
        raw = raw.filter(pa.array(~bad))
    kinds = set(pc.unique(platforms).to_pylist())
    hosts = TWITTER_HOSTS if "twitter" in kinds else frozenset()
    return RawBatch(raw, hosts, fediverse="mastodon" in kinds)


def _null_mask(values: pa.Array) -> np.ndarray:
    return np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, list, type(None))) else str(value)


def _renamed(names: list[str], column_map: Mapping[str, str]) -> dict[str, str]:
    """Source column -> schema column, for the columns we read."""
    chosen: dict[str, str] = {}
    for name in names:
        target = column_map.get(name, name if name in _KNOWN else None)
        if target in _KNOWN and target not in chosen.values():
            chosen[name] = target
    return chosen


def read_csv(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    """Raw posts of a generic CSV file (see the module documentation)."""
    log.engine = "pyarrow"
    header = csv_header(source)
    chosen = _renamed(header, options.column_map)
    check_columns(
        source, list(chosen.values()), REQUIRED, hint=" (map other names with column_map)"
    )
    record = 1
    numbers = RecordNumbers()
    for table in csv_batches(source, list(chosen), log, options, numbers):
        table = table.rename_columns([chosen[c] for c in table.column_names])
        yield rows_to_raw(
            table, source, log, record, platform=options.platform or "unknown", record_of=numbers
        )
        record += table.num_rows


def read_parquet(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    """Raw posts of a generic Parquet file (see the module documentation)."""
    log.engine = "pyarrow"
    try:
        parquet = pq.ParquetFile(source.path)
    except (pa.ArrowInvalid, OSError) as err:
        raise InputFileError(f"{source.path}: not a readable Parquet file ({err})") from None
    chosen = _renamed(parquet.schema_arrow.names, options.column_map)
    check_columns(
        source, list(chosen.values()), REQUIRED, hint=" (map other names with column_map)"
    )
    record = 1
    for batch in parquet.iter_batches(batch_size=options.chunk_rows, columns=list(chosen)):
        table = pa.Table.from_batches([batch]).rename_columns(
            [chosen[c] for c in batch.schema.names]
        )
        yield rows_to_raw(table, source, log, record, platform=options.platform or "unknown")
        record += table.num_rows

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
``is_repost``      no        ``true``/``false``, ``1``/``0``, ``yes``/``no`` (any case); without
                             the column, true where the text opens with ``RT @name``
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
import sys
from collections.abc import Callable, Generator, Iterator, Mapping
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
from research.io.options import TABULAR_COLUMNS, ReadOptions
from research.io.sources import InputFile, read_head
from research.posts import parse_times, retweet_marks

__all__ = ["REQUIRED", "read_csv", "read_parquet", "rows_to_raw"]

REQUIRED = ("post_id", "account_id", "timestamp")
_KNOWN = TABULAR_COLUMNS
_TRUE = {"true", "t", "1", "yes", "y"}


def csv_header(source: InputFile) -> list[str]:
    """The column names of a CSV file (its first line)."""
    head = read_head(source, 1 << 20).decode("utf-8-sig", errors="replace")
    try:
        return next(csv.reader(io.StringIO(head)), [])
    except csv.Error as err:
        raise InputFileError(f"{source.name}: the CSV header cannot be read ({err})") from None


def check_columns(
    source: InputFile,
    present: list[str],
    needed: tuple[str, ...],
    hint: str = "",
    *,
    found: list[str] | None = None,
) -> None:
    """Raise :class:`SchemaError` naming the file, the missing columns and the columns found
    (``found``: the file's own names, when ``present`` holds them after renaming)."""
    missing = [c for c in needed if c not in present]
    if missing:
        names = present if found is None else found
        shown = ", ".join(names[:40]) + (
            f" (and {len(names) - 40} more)" if len(names) > 40 else ""
        )
        raise SchemaError(
            f"{source.name}: missing column(s) {', '.join(missing)}; the file has "
            f"{shown or 'no columns'}{hint}"
        )


def map_hint(missing: tuple[str, ...]) -> str:
    """How to read a table whose columns have other names, on the command line and in Python.

    Examples
    --------
    >>> map_hint(("post_id", "timestamp"))
    '; say which of its columns holds each with --map SOURCE=COLUMN: --map SOURCE=post_id --map SOURCE=timestamp (column_map={SOURCE: COLUMN} in Python)'
    """
    maps = " ".join(f"--map SOURCE={column}" for column in missing)
    return (
        f"; say which of its columns holds each with --map SOURCE=COLUMN: {maps} "
        "(column_map={SOURCE: COLUMN} in Python)"
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
    """Batches of a CSV file's chosen columns, all read as bytes (text is checked later).

    Records with the wrong number of fields are rejected (and counted) here,
    and their numbers noted in ``numbers``. A field may be as long as
    ``max_line_bytes``; if the file stops being readable (a longer field, a
    truncated compressed stream), the records read so far are kept and the
    rest of the file is one rejected row (``unreadable_rest``).

    Arrow hands a malformed record to its handler as UTF-8 text, so a
    malformed record that is not UTF-8 stopped the reader (and lost the
    file). The file is then read again from the start as Latin-1, where
    every byte is a character (nothing fails to decode, and every byte is
    given back as it was), passing over what the first pass handed on.
    """
    delivered = 0
    failure: BaseException | None = None
    for as_latin1 in (False, True):
        delivered, failure, undecodable = yield from _csv_pass(
            source, columns, log, options, numbers, delivered, as_latin1=as_latin1
        )
        if failure is None:
            return
        if not undecodable:
            break
    log.read()
    log.reject(
        "unreadable_rest",
        record=numbers(delivered + 1),
        detail=f"the rest of the file cannot be read from about here on ({failure})",
    )


def _csv_pass(
    source: InputFile,
    columns: list[str],
    log: FileLog,
    options: ReadOptions,
    numbers: RecordNumbers,
    skip: int,
    *,
    as_latin1: bool,
) -> Generator[pa.Table, None, tuple[int, BaseException | None, bool]]:
    """One reading of a CSV file, past its first ``skip`` well-formed records.

    Returns the well-formed records handed on (``skip`` included), the error
    that stopped the reader (or None), and whether a malformed record that
    is not UTF-8 stopped it.
    """
    already = set(numbers.malformed)  # rejected by an earlier pass
    undecodable = False

    def on_invalid(row: Any) -> str:
        record = row.number - 1 if row.number is not None else None
        if record is not None and record in already:
            return "skip"
        log.read()
        if record is not None:
            numbers.malformed.append(record)
        log.reject(
            "malformed_record",
            raw=row.text.encode("latin-1") if as_latin1 else row.text,
            record=record,
            detail=f"{row.actual_columns} fields where the header has {row.expected_columns}",
        )
        return "skip"

    # Arrow reports a handler that raised (here: the record's text did not
    # decode) through sys.unraisablehook, then stops reading.
    previous_hook = sys.unraisablehook

    def on_unraisable(info: Any) -> None:
        nonlocal undecodable
        if isinstance(info.exc_value, UnicodeDecodeError):
            undecodable = True
        else:
            previous_hook(info)

    compression = {"gzip": "gzip", "bzip2": "bz2", "zstd": "zstd", None: None}[source.compression]
    # Arrow's own stream (not a Python file object): Arrow's reading threads then
    # never call back into Python while a failing reader is torn down.
    stream = pa.input_stream(str(source.path), compression=compression)
    seen = 0
    reader = None
    failure: BaseException | None = None
    sys.unraisablehook = on_unraisable
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                block_size=max(1 << 24, min(options.max_line_bytes, 1 << 28)) + (1 << 20),
                use_threads=False,
                encoding="latin1" if as_latin1 else "utf8",
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types={c: pa.binary() for c in columns},
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
            if seen + batch.num_rows <= skip:  # handed on by an earlier pass
                seen += batch.num_rows
                continue
            if seen < skip:
                batch = batch.slice(skip - seen)
                seen = skip
            pending.append(_from_latin1(batch) if as_latin1 else batch)
            rows += batch.num_rows
            if rows >= options.chunk_rows:
                seen += rows
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
        if pending:
            seen += rows
            yield pa.Table.from_batches(pending)
    except (pa.ArrowInvalid, OSError, EOFError) as err:
        failure = err
    finally:
        sys.unraisablehook = previous_hook
        del reader
        stream.close()
    return max(seen, skip), failure, undecodable


def _from_latin1(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch read as Latin-1 with each value's bytes as they were in the file."""
    columns = []
    for column in batch.columns:
        if (
            pc.all(
                pc.equal(pc.binary_length(column), pc.utf8_length(column.cast(pa.string())))
            ).as_py()
            is not False
        ):
            columns.append(column)  # ASCII only: the same bytes either way
            continue
        values = [
            None if v is None else v.decode("utf-8").encode("latin-1") for v in column.to_pylist()
        ]
        columns.append(pa.array(values, pa.binary()))
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _utf8(column: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Text of a column, and where its bytes are not UTF-8 (those values become null)."""
    n = len(column)
    if not (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
        return column, np.zeros(n, dtype=bool)
    try:
        return column.cast(pa.string()), np.zeros(n, dtype=bool)
    except pa.ArrowInvalid:
        pass
    values: list[str | None] = []
    bad = np.zeros(n, dtype=bool)
    for position, value in enumerate(column.to_pylist()):
        try:
            values.append(None if value is None else value.decode("utf-8"))
        except UnicodeDecodeError:
            values.append(None)
            bad[position] = True
    return pa.array(values, pa.string()), bad


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
    # Bytes that are not UTF-8 (a CSV is read as bytes; Parquet may hold binary
    # columns) reject their row, not the file.
    bad_utf8 = np.zeros(n, dtype=bool)
    for index, name in enumerate(table.column_names):
        column = table.column(name)
        chunk = column.chunk(0) if column.num_chunks else pa.nulls(n, column.type)
        if pa.types.is_binary(chunk.type) or pa.types.is_large_binary(chunk.type):
            decoded, bad = _utf8(chunk)
            bad_utf8 |= bad
            table = table.set_column(index, name, decoded)

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
    timestamp = parse_times(table.column("timestamp").combine_chunks())
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
        ("invalid_utf8", bad_utf8),
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
            else retweet_marks(text("text")),
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


def _renamed(source: InputFile, names: list[str], column_map: Mapping[str, str]) -> dict[str, str]:
    """Source column -> schema column, for the columns we read.

    A column named in ``column_map`` wins over a column that already has the
    schema's name. A column we would read whose name appears twice in the
    file is refused: nothing says which one is meant.
    """
    chosen: dict[str, str] = {}
    for mapped_first in (True, False):
        for name in names:
            if (name in column_map) != mapped_first or name in chosen:
                continue
            target = column_map.get(name, name if name in _KNOWN else None)
            if target in _KNOWN and target not in chosen.values():
                chosen[name] = target
    repeated = sorted(name for name in chosen if names.count(name) > 1)
    if repeated:
        where = "; ".join(
            f"{name!r} at columns {', '.join(str(i + 1) for i, n in enumerate(names) if n == name)}"
            for name in repeated
        )
        raise SchemaError(
            f"{source.name}: the header names a column we read more than once ({where}); "
            "rename one of them (or map another column onto it with --map, column_map in Python)"
        )
    return {name: chosen[name] for name in names if name in chosen}


def _check_mapped(source: InputFile, header: list[str], chosen: dict[str, str]) -> None:
    """The required columns are there once renamed; else say what the file has and how to map it."""
    present = list(chosen.values())
    missing = tuple(c for c in REQUIRED if c not in present)
    check_columns(source, present, REQUIRED, hint=map_hint(missing), found=header)


def read_csv(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    """Raw posts of a generic CSV file (see the module documentation)."""
    log.engine = "pyarrow"
    header = csv_header(source)
    chosen = _renamed(source, header, options.column_map)
    _check_mapped(source, header, chosen)
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
        raise InputFileError(f"{source.name}: not a readable Parquet file ({err})") from None
    chosen = _renamed(source, parquet.schema_arrow.names, options.column_map)
    _check_mapped(source, parquet.schema_arrow.names, chosen)
    record = 1
    batches = parquet.iter_batches(batch_size=options.chunk_rows, columns=list(chosen))
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            break
        except (pa.ArrowException, OSError) as err:
            log.read()
            log.reject(
                "unreadable_rest",
                record=record,
                detail=f"the rest of the file cannot be read from this row on ({err})",
            )
            break
        table = pa.Table.from_batches([batch]).rename_columns(
            [chosen[c] for c in batch.schema.names]
        )
        yield rows_to_raw(table, source, log, record, platform=options.platform or "unknown")
        record += table.num_rows

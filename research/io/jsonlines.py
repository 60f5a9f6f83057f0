"""Walking a JSON-lines file value by value, with line numbers, without ever failing.

Each non-blank line is parsed by :func:`research.io.jsondialect.parse_json`. A file whose first line does not
parse but which holds, as a whole, one JSON document (a pretty-printed
response saved with ``jq .``, say) of at most :data:`MAX_DOCUMENT_BYTES` is
read as that document instead; its rows then have no line number but an
item index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from research.io.accounting import FileLog
from research.io.assemble import RawBatch, RawRows
from research.io.jsondialect import parse_json
from research.io.options import ReadOptions
from research.io.sources import DEFAULT_MAX_LINE_BYTES, InputFile, iter_lines, open_binary

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "JsonValue",
    "as_id",
    "iter_json_values",
    "json_row_batches",
    "parse_json",
]

MAX_DOCUMENT_BYTES = 256 << 20


@dataclass(frozen=True)
class JsonValue:
    """One parsed line (or the whole document), or why it could not be parsed."""

    line: int | None
    raw: bytes
    value: Any = None
    error: str | None = None
    reason: str | None = None


_parse = parse_json


def _whole_document(source: InputFile) -> Any | None:
    with open_binary(source) as stream:
        try:
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
        except (OSError, EOFError, ValueError):
            return None
    if len(data) > MAX_DOCUMENT_BYTES:
        return None
    value, error, _ = _parse(data)
    return value if error is None and isinstance(value, (dict, list)) else None


def iter_json_values(
    source: InputFile, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, skip_rows: int = 0
) -> Iterator[JsonValue]:
    """Parsed values of a JSON-lines file (or of a single JSON document).

    Parameters
    ----------
    source
        The file.
    max_line_bytes
        Longer lines come back with ``reason="line_too_long"``.
    skip_rows
        Pass over this many non-blank lines first (to resume after another reader).
    """
    first = True
    seen = 0
    for line in iter_lines(source, max_line_bytes=max_line_bytes):
        seen += 1
        if seen <= skip_rows:
            first = False
            continue
        if line.raw is None and line.error is not None:
            yield JsonValue(line.number, line.head, error=line.error, reason="undecodable_tail")
            return
        if line.raw is None:
            first = False
            yield JsonValue(
                line.number,
                line.head,
                error=f"line longer than {max_line_bytes} bytes",
                reason="line_too_long",
            )
            continue
        value, error, reason = _parse(line.raw)
        if error is not None and first and line.raw.lstrip()[:1] in (b"{", b"["):
            document = _whole_document(source)
            if document is not None:
                yield JsonValue(None, b"", document)
                return
        first = False
        yield JsonValue(line.number, line.raw, value, error, reason)


def as_id(value: Any) -> str | None:
    """An identifier as text: a non-empty string as is, an integer in decimal, else ``None``
    (booleans, floats, objects and empty strings are no id: a row without one is rejected).

    Examples
    --------
    >>> as_id("123"), as_id(123), as_id(""), as_id(True), as_id(1.5)
    ('123', '123', None, None, None)
    """
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def json_row_batches(
    source: InputFile,
    log: FileLog,
    options: ReadOptions,
    rows: RawRows,
    handle: Callable[[JsonValue, RawRows, FileLog], None],
    batch_of: Callable[[pa.Table], RawBatch],
    *,
    skip_rows: int = 0,
) -> Iterator[RawBatch]:
    """The read loop of every JSON reader: values in, batches of at most ``chunk_rows`` out.

    A line that is not JSON (or too long, or an undecodable tail) is one
    rejected row, here; ``handle`` adds the rows of each parsed value (and
    counts them); ``batch_of`` wraps each table of rows.
    """
    for value in iter_json_values(
        source, max_line_bytes=options.max_line_bytes, skip_rows=skip_rows
    ):
        if value.error is not None:
            log.read()
            log.reject(
                value.reason or "invalid_json", raw=value.raw, line=value.line, detail=value.error
            )
        else:
            handle(value, rows, log)
        if len(rows) >= options.chunk_rows:
            yield batch_of(rows.take_table())
    if len(rows):
        yield batch_of(rows.take_table())

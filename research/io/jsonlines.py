"""Walking a JSON-lines file value by value, with line numbers, without ever failing.

Each non-blank line is parsed with orjson. A file whose first line does not
parse but which holds, as a whole, one JSON document (a pretty-printed
response saved with ``jq .``, say) of at most :data:`MAX_DOCUMENT_BYTES` is
read as that document instead; its rows then have no line number but an
item index.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

from research.io.accounting import FileLog
from research.io.assemble import RawBatch, RawRows
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


# Tokens outside strings that DuckDB's JSON parser (yyjson with inf/nan and
# trailing commas allowed) reads and orjson does not.
_LENIENT_TOKENS = re.compile(
    rb'"(?:[^"\\]|\\.)*"'
    rb"|(?P<const>-?(?i:infinity|inf|nan))(?![A-Za-z0-9_])"
    rb"|(?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    rb'|(?P<comma>(?<=[\]}"0-9A-Za-z])[ \t\r\n]*,(?=[ \t\r\n]*[\]}]))',
    re.DOTALL,
)


def _lenient_token(match: re.Match[bytes]) -> bytes:
    if match.group("const") is not None:
        return b"null"
    number = match.group("number")
    if number is not None:
        return b"null" if math.isinf(float(number)) else number
    if match.group("comma") is not None:
        return match.group("comma")[:-1]
    return match.group(0)


def _lenient(raw: bytes) -> bytes | None:
    """The line in strict JSON if it is in DuckDB's dialect (None if nothing changes)."""
    stripped = raw.strip(b" \t\r\n\x0b\x0c")
    rewritten = _LENIENT_TOKENS.sub(_lenient_token, stripped)
    return rewritten if rewritten != raw else None


def parse_json(raw: bytes) -> tuple[Any, str | None, str | None]:
    """A JSON value, or the error and reject reason: ``(value, error, reason)``.

    The one JSON dialect of every reader and engine, DuckDB's: RFC 8259, plus
    ``NaN``/``Infinity``/``inf`` (any case, optional minus) and numbers
    beyond a double's range, which are read as null (no value), a trailing
    comma before ``]`` or ``}``, and form feeds or vertical tabs around the
    value. orjson reads the strict part; the rest is rewritten and read
    again only when orjson refuses a line.

    Examples
    --------
    >>> parse_json(b'{"a": NaN, "b": [1, 2,], "c": 1e400}')
    ({'a': None, 'b': [1, 2], 'c': None}, None, None)
    >>> parse_json(b'{"a": "NaN",}')[0], parse_json(b"[1,,]")[2]
    ({'a': 'NaN'}, 'invalid_json')
    """
    try:
        return orjson.loads(raw), None, None
    except orjson.JSONDecodeError as err:
        error = str(err)
    except RecursionError:
        return None, "nested too deeply", "invalid_json"
    try:
        lenient = _lenient(raw)
    except RecursionError:
        lenient = None
    if lenient is not None:
        try:
            return orjson.loads(lenient), None, None
        except (orjson.JSONDecodeError, RecursionError):
            pass
    return None, error, "invalid_json"


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

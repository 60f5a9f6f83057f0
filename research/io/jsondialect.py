"""The one JSON dialect of every reader and engine: DuckDB's, with its rule for repeated keys.

DuckDB's JSON reader (yyjson with infinities, NaN and trailing commas
allowed) is the default engine for Twitter v1.1 files; every other reader,
and the Python engine, parse with :func:`parse_json`, which reads the same
dialect the same way:

- RFC 8259, plus ``NaN``, ``Infinity`` and ``inf`` (any case, optional
  minus sign) and numbers beyond a double's range, all read as null (no
  value); one trailing comma before ``]`` or ``}``; form feeds and vertical
  tabs around the value.
- **A key repeated in one object: the first copy is read**, as DuckDB reads
  it (and simdjson); Python's ``json``, orjson and jq keep the last. The
  rule is DuckDB's because it costs nothing there, while finding repeats
  inside DuckDB cost ~4x its query's CPU; here it costs a count of quotes.
- No nesting limit (orjson stops at 1024 levels, DuckDB does not):
  containers deeper than :data:`MAX_BUILT_DEPTH` are checked but held as
  empty ones, since no reader looks that deep.

orjson reads every line first (the fast path). Its value is kept unless the
line may hold a repeated key: orjson keeps the last copy and drops the
others, so the line then has more ``"`` than its value written back
(``\\u0022`` escapes are counted as suspect too, since they could hide a
dropped key). Such lines, and lines orjson refuses that may be in the rest
of the dialect (they hold ``nan``/``inf``, a trailing comma, a huge number,
or 1024 brackets), are read by :func:`parse_exact`, a small iterative
parser that uses orjson for every string and number token, so that both
paths give the same values; it reads ~5-10 MB/s, so plain bad JSON is not
given to it.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

__all__ = ["MAX_BUILT_DEPTH", "parse_exact", "parse_json"]

#: Containers nested deeper than this are validated but kept empty (no reader looks deeper).
MAX_BUILT_DEPTH = 64

# White space DuckDB accepts around a line's value (inside it, only JSON's own).
_AROUND = b" \t\r\n\x0b\x0c"

_TOKEN = re.compile(
    rb"(?P<space>[ \t\n\r]+)"
    rb'|(?P<string>"(?:[^"\\]|\\.)*")'
    rb"|(?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    rb"|(?P<constant>-?(?i:infinity|inf|nan))(?![A-Za-z0-9_])"
    rb"|(?P<literal>true|false|null)(?![A-Za-z0-9_])"
    rb"|(?P<mark>[][{}:,])",
    re.DOTALL,
)
_LITERALS: dict[bytes, Any] = {b"true": True, b"false": False, b"null": None}


class _Invalid(ValueError):
    """Not in the dialect (the message says where)."""


def _number(token: bytes) -> Any:
    try:
        return orjson.loads(token)
    except orjson.JSONDecodeError:  # beyond a double's range: no value
        return None


def _string(token: bytes, position: int) -> str:
    try:
        value = orjson.loads(token)
    except orjson.JSONDecodeError as err:
        raise _Invalid(f"invalid string at byte {position} ({err})") from None
    return value  # type: ignore[no-any-return]


class _Frame:
    """An open object or array; neither is built beyond :data:`MAX_BUILT_DEPTH`."""

    __slots__ = ("array", "built", "drop", "expect", "is_object", "key", "members")

    def __init__(self, is_object: bool, built: bool) -> None:
        self.is_object = is_object
        self.built = built
        self.members: dict[str, Any] = {}
        self.array: list[Any] = []
        # object: "key" | "colon" | "value" | "comma"; array: "value" | "comma"
        self.expect = "key" if is_object else "value"
        self.key = ""
        self.drop = False  # the value being read belongs to a repeated key

    def value(self) -> dict[str, Any] | list[Any]:
        """The finished container (empty if it was not built)."""
        return self.members if self.is_object else self.array


def parse_exact(raw: bytes) -> Any:
    """A JSON value of the dialect, the first copy of a repeated key kept; no recursion.

    Raises
    ------
    ValueError
        If ``raw`` is not one value of the dialect (the message says where).

    Examples
    --------
    >>> parse_exact(b'{"a": 1, "b": {"c": NaN,}, "a": 2}')
    {'a': 1, 'b': {'c': None}}
    >>> parse_exact(b'{"deep": ' + b"[" * 2000 + b"]" * 2000 + b', "id": 1,}')["id"]
    1
    """
    text = raw.strip(_AROUND)
    stack: list[_Frame] = []
    result: Any = None
    done = False
    position = 0
    end = len(text)
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None:
            raise _Invalid(f"unexpected byte {text[position : position + 1]!r} at {position}")
        kind = match.lastgroup
        token = match.group()
        start, position = position, match.end()
        if kind == "space":
            continue
        if done:
            raise _Invalid(f"unexpected content after the value at byte {start}")
        frame = stack[-1] if stack else None
        if kind == "mark":
            if token in b"{[":
                if frame is not None and frame.expect != "value":
                    raise _Invalid(f"unexpected {token.decode()} at byte {start}")
                built = frame is None or (frame.built and len(stack) < MAX_BUILT_DEPTH)
                stack.append(_Frame(token == b"{", built))
                continue
            if token in b"}]":
                # Empty, after a value, or after one trailing comma (DuckDB's dialect):
                # an object then expects a key, an array a value.
                if (
                    frame is None
                    or frame.is_object != (token == b"}")
                    or frame.expect not in ("key", "value", "comma")
                    or (frame.is_object and frame.expect == "value")
                ):
                    raise _Invalid(f"unexpected {token.decode()} at byte {start}")
                stack.pop()
                value: Any = frame.value()
                done = _place(stack, value)
                if done:
                    result = value
                continue
            if token == b":":
                if frame is None or not frame.is_object or frame.expect != "colon":
                    raise _Invalid(f"unexpected : at byte {start}")
                frame.expect = "value"
                continue
            # a comma
            if frame is None or frame.expect != "comma":
                raise _Invalid(f"unexpected , at byte {start}")
            frame.expect = "key" if frame.is_object else "value"
            continue
        if frame is not None and frame.is_object and frame.expect == "key":
            if kind != "string":
                raise _Invalid(f"expected a key at byte {start}")
            key = _string(token, start)
            frame.key = key
            frame.drop = not frame.built or key in frame.members
            frame.expect = "colon"
            continue
        if frame is not None and frame.expect != "value":
            raise _Invalid(f"unexpected value at byte {start}")
        if kind == "string":
            value = _string(token, start)
        elif kind == "number":
            value = _number(token)
        elif kind == "literal":
            value = _LITERALS[token]
        else:  # NaN, Infinity
            value = None
        done = _place(stack, value)
        if done:
            result = value
    if not done:
        raise _Invalid("unexpected end of data")
    return result


def _place(stack: list[_Frame], value: Any) -> bool:
    """Put a finished value into the open container; True if it was the whole document."""
    if not stack:
        return True
    frame = stack[-1]
    if frame.is_object:
        if not frame.drop:
            frame.members[frame.key] = value
    elif frame.built:
        frame.array.append(value)
    frame.expect = "comma"
    return False


# What orjson refuses and the dialect may read: NaN or an infinity (any spelling
# holds "nan" or "inf"), a trailing comma, a number beyond a double's range (a
# three-digit exponent, or 200 digits in a row: below that, a two-digit
# exponent cannot reach 1.8e308), form feeds and vertical tabs.
_EXTRAS = re.compile(rb"(?i:nan|inf)|,[ \t\r\n]*[\]}]|[0-9][eE][+-]?[0-9]{3}|[0-9]{200}|[\x0b\x0c]")
#: orjson refuses values nested deeper than this; the dialect has no limit.
_ORJSON_DEPTH = 1024


def _may_be_in_dialect(raw: bytes) -> bool:
    """Whether a line orjson refused may still be in the dialect (then the exact parser decides)."""
    return _EXTRAS.search(raw) is not None or raw.count(b"[") + raw.count(b"{") >= _ORJSON_DEPTH


def _may_repeat_a_key(raw: bytes, value: Any) -> bool:
    """Whether orjson may have dropped a repeated key (then the exact parser decides).

    orjson writes every key and string back with its two quotes, and a quote
    inside a string as ``\\"``: a line holds more quotes than its value
    written back only if orjson dropped something (a ``\\u0022`` escape in
    the line could make up for it, so it makes the line suspect too).
    """
    try:
        written = orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):  # deeper than orjson writes: read exactly
        return True
    return raw.count(b'"') != written.count(b'"') or b"\\u0022" in raw


def parse_json(raw: bytes) -> tuple[Any, str | None, str | None]:
    """A JSON value of the dialect, or the error and reject reason: ``(value, error, reason)``.

    Examples
    --------
    >>> parse_json(b'{"a": NaN, "b": [1, 2,], "c": 1e400}')
    ({'a': None, 'b': [1, 2], 'c': None}, None, None)
    >>> parse_json(b'{"id": "1", "id": "2"}')[0]
    {'id': '1'}
    >>> parse_json(b'{"a": "NaN",}')[0], parse_json(b"[1,,]")[2]
    ({'a': 'NaN'}, 'invalid_json')
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        error = str(err)
        if not _may_be_in_dialect(raw):  # plain bad JSON: no need to walk it in Python
            return None, error, "invalid_json"
    else:
        if not _may_repeat_a_key(raw, value):
            return value, None, None
        try:
            return parse_exact(raw), None, None
        except ValueError:  # orjson read it: the exact parser must too (never seen)
            return value, None, None
    try:
        return parse_exact(raw), None, None
    except ValueError:
        return None, error, "invalid_json"

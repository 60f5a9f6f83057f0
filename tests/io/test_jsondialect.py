"""The JSON dialect: orjson's values for strict JSON, DuckDB's extras, the first copy of a repeated key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.io import ReadOptions, read
from research.io.jsondialect import MAX_BUILT_DEPTH, parse_exact, parse_json

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=_values, indent=st.booleans())
def test_strict_json_reads_as_orjson_reads_it(value: Any, indent: bool) -> None:
    try:
        raw = orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0)
    except orjson.JSONEncodeError:  # an int orjson does not write
        return
    assert parse_exact(raw) == orjson.loads(raw)
    assert parse_json(raw) == (orjson.loads(raw), None, None)


# An object written with its pairs as given: a key may come more than once.
_pairs = st.recursive(
    _scalars.map(orjson.dumps),
    lambda children: (
        st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), children), max_size=5).map(
            lambda pairs: b"{" + b",".join(orjson.dumps(k) + b":" + v for k, v in pairs) + b"}"
        )
        | st.lists(children, max_size=3).map(lambda items: b"[" + b",".join(items) + b"]")
    ),
    max_leaves=15,
)


def _first_wins(raw: bytes) -> Any:
    """The reference: Python's json with each object keeping the first copy of a key."""
    import json

    def first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            out.setdefault(key, value)
        return out

    return json.loads(raw, object_pairs_hook=first)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(raw=_pairs)
def test_a_repeated_key_keeps_its_first_copy_at_every_level(raw: bytes) -> None:
    assert parse_json(raw) == (_first_wins(raw), None, None)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b'{"a": NaN, "b": -Infinity, "c": inf, "d": -nan, "e": 1e400, "f": -1e400}',
         dict.fromkeys("abcdef")),
        (b'[1, 2,]', [1, 2]),
        (b'{"a": [1,], "b": {"c": 1,},}', {"a": [1], "b": {"c": 1}}),
        (b"\x0b\x0c {} \x0c", {}),
        (b"18446744073709551616", 1.8446744073709552e19),
        (b'{"id\\u005fstr": "1", "id_str": "2"}', {"id_str": "1"}),
        (b'{"a": null, "a": 1}', {"a": None}),
    ],
)  # fmt: skip
def test_duckdbs_dialect(raw: bytes, value: Any) -> None:
    assert parse_json(raw) == (value, None, None)


@pytest.mark.parametrize(
    "raw",
    [b"[1,,]", b"[,]", b"{,}", b'{"a":}', b"+1", b"01", b"1.", b".5", b"nul", b"[1] ]", b"1 2",
     b'"\\ud800"', b'"a\x01"', b'"\xff"', b"{'a': 1}", b"[1,\x0b2]", b"infinit", b"+nan", b"[" * 3000],
)  # fmt: skip
def test_what_is_not_in_the_dialect_is_invalid_json(raw: bytes) -> None:
    value, error, reason = parse_json(raw)
    assert value is None and error and reason == "invalid_json"


def test_no_nesting_limit_and_deep_containers_kept_empty() -> None:
    depth = 5000  # orjson stops at 1024 levels, DuckDB reads on
    value, error, _ = parse_json(
        b'{"x": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b', "id": 7}'
    )
    assert error is None and value["id"] == 7
    level = value["x"]  # the second level
    for _ in range(MAX_BUILT_DEPTH - 2):
        level = level["a"]
    assert level == {"a": {}}  # the last level built holds an empty one
    orjson.dumps(value)  # every value handed out can be written back (snippets of rejects)


@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        ("twitter-v2", b'{"id": "1", "id": "2", "author_id": "7", "created_at": "2021-01-01T00:00:00Z"}'),
        ("mastodon", b'{"id": "1", "account": {"id": "7", "acct": "a"}, "id": "2", '
                     b'"created_at": "2021-01-01T00:00:00Z"}'),
        ("gnip", b'{"id": "tag:search.twitter.com,2005:1", "verb": "post", "postedTime": '
                 b'"2014-01-01T00:00:00Z", "actor": {"id": "id:twitter.com:7"}, '
                 b'"id": "tag:search.twitter.com,2005:2"}'),
    ],
)  # fmt: skip
def test_every_json_reader_reads_the_first_copy(tmp_path: Path, fmt: str, line: bytes) -> None:
    path = tmp_path / "repeated.jsonl"
    path.write_bytes(line + b"\n")
    posts, _ = read(path, ReadOptions(format=fmt))
    assert posts.table.column("post_id").to_pylist() == ["1"]

"""Every loader meets hostile input with rows or counted rejects: never a crash or a hang."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.io import ReadOptions, read

FORMATS = ["twitter-v1", "twitter-v2", "mastodon", "twitter-info-ops", "csv"]
_fuzz = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(path: Path, fmt: str, **kwargs: object) -> None:
    try:
        posts, summary = read(path, ReadOptions(format=fmt), **kwargs)
    except Exception as err:  # only our own, explained errors may escape
        from research.errors import UserError

        assert isinstance(err, UserError), repr(err)
        return
    assert summary.reconciles()
    assert len(posts) == summary.rows_written


@pytest.mark.parametrize("fmt", FORMATS)
@_fuzz
@given(blob=st.binary(max_size=400))
def test_arbitrary_bytes(tmp_path: Path, fmt: str, blob: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(blob)
    _check(path, fmt)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_TWEET_KEYS = ["id_str", "id", "created_at", "source", "text", "user", "entities", "retweeted_status",
               "extended_tweet", "statuses", "data", "includes", "author_id", "account", "content",
               "application", "card", "reblog", "delete"]  # fmt: skip


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@_fuzz
@given(
    objects=st.lists(st.dictionaries(st.sampled_from(_TWEET_KEYS), _json, max_size=8), max_size=6),
    cut=st.integers(0, 50),
)
def test_wrong_types_and_truncated_json(
    tmp_path: Path, engine: str, objects: list[dict], cut: int
) -> None:
    lines = [json.dumps(o).encode() for o in objects]
    if lines:
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - cut)]
    path = tmp_path / "typed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    for fmt in ("twitter-v1", "twitter-v2", "mastodon"):
        _check(path, fmt, engine=engine)


def _good_tweet(source: str) -> bytes:
    return orjson.dumps({"id_str": "1", "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                         "user": {"id_str": "7"}, "text": "x", "source": source})  # fmt: skip


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_deep_nesting_and_huge_lines(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "deep.jsonl"
    huge = orjson.dumps({"id_str": "2", "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                         "user": {"id_str": "7"}, "text": "y" * (20 << 20)})  # fmt: skip
    path.write_bytes(
        b"[" * 100_000
        + b"\n"
        + b'{"a":' * 5000
        + b"1"
        + b"}" * 5000
        + b"\n"
        + huge
        + b"\n"
        + _good_tweet("web")
        + b"\n"
    )
    posts, summary = read(path, ReadOptions(format="twitter-v1", engine=engine))
    assert sorted(posts.table.column("post_id").to_pylist()) == ["1", "2"]
    assert summary.rejected and summary.reconciles()
    _small, summary = read(
        path, ReadOptions(format="twitter-v1", engine="python", max_line_bytes=1 << 20)
    )
    assert summary.rejected.get("line_too_long") == 1 and summary.reconciles()


@pytest.mark.parametrize(
    "source",
    [
        '<a href="javascript:alert(1)"><script>alert(1)</script></a>',
        "<a href='x'><a href='y'>nested</a></a>",
        '<a href="http://x">unclosed',
        "<script>",
        "&lt;b&gt;&#0;&#xffffffff;",
        "<" * 5000,
    ],
)
def test_hostile_source_is_plain_data(tmp_path: Path, source: str) -> None:
    path = tmp_path / "src.jsonl"
    path.write_bytes(_good_tweet(source) + b"\n")
    for engine in ("python", "duckdb"):
        posts, summary = read(path, ReadOptions(engine=engine))
        assert summary.rows_written == 1
        name = posts.table.column("app_name")[0].as_py()
        assert name is None or isinstance(name, str)
    if source.startswith('<a href="javascript'):
        row = posts.table.to_pylist()[0]
        assert row["app_name"] == "alert(1)" and row["app_url"] is None  # no URL from javascript:

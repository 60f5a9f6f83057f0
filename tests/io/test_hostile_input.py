"""Every reader meets hostile input with rows or counted rejects: never a crash, a hang or a lost file.

Each test asserts what its name says: JSON readers never refuse a file (every
non-blank line becomes a row, read or rejected at its line); CSV readers refuse
only a header without the needed columns, with a message naming the file; the
two v1.1 engines give the same posts table and the same counts.
"""

from __future__ import annotations

import bz2
import gzip
import json
import random
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.errors import InputFileError, SchemaError
from research.io import ReadOptions, read
from research.io.sources import InputFile, count_lines

JSON_FORMATS = ["twitter-v1", "twitter-v2", "gnip", "mastodon"]
CSV_FORMATS = ["twitter-info-ops", "csv"]
_fuzz = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check_json(path: Path, fmt: str, **options: object) -> None:
    """No exception; counts reconcile; every non-blank line was taken as at least one row."""
    posts, summary = read(path, ReadOptions(format=fmt, **options))  # type: ignore[arg-type]
    assert summary.reconciles() and len(posts) == summary.rows_written
    assert [f.file for f in summary.files] == [str(path)]
    lines = count_lines(InputFile(path, summary.files[0].compression))
    assert summary.rows_read >= lines
    for reject in summary.rejects:
        assert reject.line is None or 1 <= reject.line, reject


def _check_csv(path: Path, fmt: str) -> None:
    """Either refused for its header, naming the file, or every record accounted for."""
    try:
        posts, summary = read(path, ReadOptions(format=fmt))
    except (SchemaError, InputFileError) as err:
        assert str(path) in str(err)
        assert "missing column" in str(err) or "header" in str(err)
        return
    assert summary.reconciles() and len(posts) == summary.rows_written


@pytest.mark.parametrize("fmt", JSON_FORMATS + CSV_FORMATS)
@_fuzz
@given(blob=st.binary(max_size=400))
def test_arbitrary_bytes(tmp_path: Path, fmt: str, blob: bytes) -> None:
    path = tmp_path / "fuzz.data"
    path.write_bytes(blob)
    if fmt in JSON_FORMATS:
        _check_json(path, fmt)
    else:
        _check_csv(path, fmt)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = ["id_str", "id", "created_at", "source", "text", "user", "entities", "retweeted_status",
         "extended_tweet", "statuses", "data", "includes", "author_id", "account", "content",
         "application", "card", "reblog", "delete", "actor", "postedTime", "verb", "generator",
         "gnip", "object", "long_object"]  # fmt: skip


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@_fuzz
@given(
    objects=st.lists(st.dictionaries(st.sampled_from(_KEYS), _json, max_size=8), max_size=6),
    cut=st.integers(0, 50),
)
def test_wrong_types_and_truncated_json_are_rows_not_crashes(
    tmp_path: Path, engine: str, objects: list[dict], cut: int
) -> None:
    lines = [json.dumps(o).encode() for o in objects]
    if lines:
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - cut)]
    path = tmp_path / "typed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    for fmt in JSON_FORMATS:
        _check_json(path, fmt, engine=engine)


# --- the fuzz test of issue 13: truncation, byte flips, bombs, giant lines ----------

_TWEET = {"id_str": "1", "created_at": "Wed Oct 10 20:19:24 +0000 2018",
          "user": {"id_str": "7", "screen_name": "bob"}, "text": "hi", "source": "web",
          "entities": {"urls": [{"expanded_url": "https://example.com/a"}]}}  # fmt: skip
_SAMPLES = {
    "twitter-v1": lambda i: orjson.dumps({**_TWEET, "id_str": str(i)}),
    "twitter-v2": lambda i: orjson.dumps(
        {
            "data": [
                {"id": str(i), "author_id": "7", "created_at": "2021-01-01T00:00:00Z", "text": "hi"}
            ],
            "includes": {"users": [{"id": "7", "username": "bob"}]},
        }
    ),
    "gnip": lambda i: orjson.dumps(
        {
            "id": f"tag:search.twitter.com,2005:{i}",
            "verb": "post",
            "postedTime": "2014-01-01T00:00:00Z",
            "actor": {"id": "id:twitter.com:7"},
            "body": "hi",
        }
    ),
    "mastodon": lambda i: orjson.dumps(
        {
            "id": str(i),
            "created_at": "2021-01-01T00:00:00Z",
            "account": {"id": "7", "acct": "a"},
            "content": "<p>hi</p>",
        }
    ),
    "csv": lambda i: b"%d,a,2021-01-01T00:00:00Z" % i,
    "twitter-info-ops": lambda i: b"%d,a,2021-01-01 00:00" % i,
}
_HEADERS = {
    "csv": b"post_id,account_id,timestamp\n",
    "twitter-info-ops": b"tweetid,userid,tweet_time\n",
}


def _damaged(data: bytes, how: str, rng: random.Random) -> bytes:
    if how == "truncate":
        return data[: rng.randrange(1, len(data))]
    if how == "flip":
        out = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if how in ("bomb", "bomb_in_line"):
        # Between two lines, or in the middle of one (which it cuts in two).
        middle = len(data) // 2
        if how == "bomb":
            middle = data.index(b"\n", middle) + 1
        return data[:middle] + b"\n" * (1 << 22) + b"  \r\n" * 1000 + data[middle:]
    if how == "giant":
        return data + b'{"id_str": "' + b"9" * (3 << 20) + b'"}\n' + data
    return data


# A traceback Arrow prints and swallows (a row handler that raised) fails the test too.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("fmt", list(_SAMPLES))
@pytest.mark.parametrize("how", ["truncate", "flip", "bomb", "bomb_in_line", "giant"])
@pytest.mark.parametrize("compression", [None, "gzip", "bzip2"])
def test_every_reader_survives_damage(
    tmp_path: Path, fmt: str, how: str, compression: str | None
) -> None:
    rng = random.Random(f"{fmt}{how}{compression}")
    data = _HEADERS.get(fmt, b"") + b"\n".join(_SAMPLES[fmt](i) for i in range(1, 200)) + b"\n"
    # Whether the bomb in a line cuts a post in two (the middle may fall between lines).
    cut = b"\n" not in data[len(data) // 2 - 1 : len(data) // 2 + 1]
    if compression is None:
        data = _damaged(data, how, rng)
    else:
        data = {"gzip": gzip.compress, "bzip2": bz2.compress}[compression](data)
        damage = how if how in ("truncate", "flip") else "truncate"
        data = _damaged(data, damage, rng)
    path = tmp_path / "damaged.data"
    path.write_bytes(data)
    engines = ["python", "duckdb"] if fmt == "twitter-v1" else ["auto"]
    for engine in engines:
        try:
            posts, summary = read(
                path, ReadOptions(format=fmt, engine=engine, max_line_bytes=1 << 20)
            )
        except (SchemaError, InputFileError) as err:  # a flipped byte in a CSV header
            assert fmt in ("csv", "twitter-info-ops") and str(path) in str(err)
            continue
        assert summary.reconciles(), summary.to_dict()
        assert len(posts) == summary.rows_written
        assert [f.file for f in summary.files] == [str(path)]
        if how in ("giant", "bomb") and compression is None:
            assert len(posts) == 199  # nothing readable is lost
        if how == "bomb_in_line" and compression is None:
            assert len(posts) == 199 - cut  # only the post the bomb cut in two


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_deep_nesting_and_huge_lines(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "deep.jsonl"
    huge = orjson.dumps({**_TWEET, "id_str": "2", "text": "y" * (20 << 20)})
    path.write_bytes(
        b"[" * 100_000 + b"\n" + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"\n" + huge + b"\n"
        + orjson.dumps(_TWEET) + b"\n"
    )  # fmt: skip
    posts, summary = read(path, ReadOptions(format="twitter-v1", engine=engine))
    assert sorted(posts.table.column("post_id").to_pylist()) == ["1", "2"]
    # 100,000 open brackets are not JSON; 5,000 nested objects are (past orjson's
    # depth limit, 1024, but DuckDB has none: both engines read it, as no tweet).
    assert summary.rejected == {"invalid_json": 1, "missing_post_id": 1}
    assert [r.line for r in summary.rejects] == [1, 2] and summary.reconciles()
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
    path.write_bytes(orjson.dumps({**_TWEET, "source": source}) + b"\n")
    tables = []
    for engine in ("python", "duckdb"):
        posts, summary = read(path, ReadOptions(engine=engine))
        assert summary.rows_written == 1
        tables.append(posts.table)
    assert tables[0].equals(tables[1])
    if source.startswith('<a href="javascript'):
        row = tables[0].to_pylist()[0]
        assert row["app_name"] == "alert(1)" and row["app_url"] is None  # no URL from javascript:

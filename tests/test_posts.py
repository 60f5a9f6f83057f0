from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from research.errors import InputFileError, SchemaError
from research.posts import POSTS_SCHEMA, SCHEMA_VERSION, as_posts, read_posts, write_posts
from tests.conftest import make_posts


def test_as_posts_fills_optional_columns_and_keeps_values():
    table = pa.table(
        {
            "post_id": ["1"],
            "account_id": ["a"],
            "timestamp": ["2014-05-01T12:00:00"],
            "urls": [["http://x.com/a"]],
        }
    )
    posts = as_posts(table)
    row = posts.table.to_pylist()[0]
    assert row["urls"] == ["http://x.com/a"]
    assert row["domains"] == ["x.com"]  # told from urls, aligned with them
    assert row["app_name"] is None and row["is_repost"] is False and row["platform"] == "unknown"
    assert posts.table.schema.equals(POSTS_SCHEMA, check_metadata=False)


def test_missing_domains_and_reposts_are_told_from_urls_and_the_retweet_mark():
    from research.posts import told_columns

    table = pa.table(
        {
            "post_id": ["1", "2", "3", "4"],
            "account_id": ["a", "b", "c", "d"],
            "timestamp": [1, 2, 3, 4],
            "urls": [
                ["https://news.bbc.co.uk/x?a=1", "http://bit.ly/abc"],
                [],
                None,
                ["http://alice.blogspot.com/p"],
            ],
            "text": ["RT @bob: look", "no RT @mark here", None, "  RT @carol: x"],
        }
    )
    posts = as_posts(table.slice(0))
    assert posts.table.column("domains").to_pylist() == [
        ["bbc.co.uk", "bit.ly"], [], [], ["alice.blogspot.com"],  # private suffixes: their own
    ]  # fmt: skip
    assert posts.table.column("is_repost").to_pylist() == [True, False, False, True]
    assert told_columns(posts) == ["domains", "is_repost"]
    # a slice keeps the lists aligned; a table with both columns tells nothing
    assert as_posts(table.slice(3)).table.column("domains").to_pylist() == [["alice.blogspot.com"]]
    full = as_posts(posts.table)
    assert told_columns(full) == [] and full.table.column("is_repost").to_pylist()[1] is False


def test_missing_required_column_names_source_and_columns():
    with pytest.raises(
        SchemaError, match=r"export\.csv: missing required column\(s\) account_id, timestamp"
    ):
        as_posts(pa.table({"post_id": ["1"]}), source="export.csv")


def test_unparseable_timestamp_is_a_schema_error():
    with pytest.raises(SchemaError, match="timestamp"):
        as_posts(pa.table({"post_id": ["1"], "account_id": ["a"], "timestamp": ["yesterday"]}))


def test_parquet_round_trip_is_lossless(tmp_path):
    posts = make_posts([("a", 0, "We Heart It", ["http://x.com/1"]), ("b", 5, None, [])])
    path = write_posts(posts, tmp_path / "p.parquet")
    back = read_posts(path)
    assert back.table.equals(posts.table)
    meta = pq.read_schema(path).metadata
    assert meta[b"hijack_clusters.posts_schema"] == SCHEMA_VERSION.encode()


def test_read_posts_errors_name_the_path(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_posts(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(InputFileError, match=r"bad\.parquet"):
        read_posts(bad)


def test_unsupported_schema_version_is_refused(tmp_path):
    posts = make_posts([("a", 0, "X", [])])
    table = posts.table.replace_schema_metadata({b"hijack_clusters.posts_schema": b"99"})
    pq.write_table(table, tmp_path / "v99.parquet")
    with pytest.raises(SchemaError, match="version 99"):
        read_posts(tmp_path / "v99.parquet")

"""Each format's fixture, compression, folders, schema errors, detection."""

from __future__ import annotations

import bz2
import gzip
import shutil
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from research.errors import ConfigError, InputFileError, SchemaError
from research.io import ReadOptions, detect_format, read
from research.io.sources import InputFile


def test_mastodon_fixture(data: Path) -> None:
    posts, summary = read(data / "own/mastodon.jsonl")
    rows = {r["post_id"]: r for r in posts.table.to_pylist()}
    first = rows["103270115826048975"]
    assert (first["app_name"], first["app_url"]) == ("Tusky", "https://tusky.app/")
    assert first["account_name"] == "alice" and first["urls"] == ["https://example.com/story?id=4"]
    assert first["platform_urls"] == [
        "https://mastodon.social/@bob",
        "https://mastodon.social/tags/news",
    ]
    boost = rows["103270115826048976"]
    assert boost["is_repost"] and boost["app_name"] is None
    assert boost["urls"] == ["https://example.com/story?id=4"]
    remote = rows["9001"]
    assert remote["urls"] == ["http://blog.example.net/a"]
    assert remote["platform_urls"] == ["https://other.social/@erin/12345"]
    assert summary.rejected == {"bad_timestamp": 1} and summary.skipped == {"api_error": 1}
    assert summary.reconciles()


def test_info_ops_fixture(data: Path) -> None:
    posts, summary = read(data / "own/info_ops.csv")
    rows = {r["post_id"]: r for r in posts.table.to_pylist()}
    hashed = rows["898925911294132224"]
    assert len(hashed["account_id"]) == 64 and hashed["app_name"] == "dlvr.it"
    assert hashed["urls"] == ["http://dlvr.it/PgB3PP"] and hashed["text"].endswith("line break")
    bare = rows["861871665780846592"]
    assert bare["is_repost"] and bare["urls"] == ["http://example.com/a", "https://example.org/b"]
    assert summary.rejected == {"bad_links": 1, "bad_timestamp": 1, "malformed_record": 1}
    assert sorted(r.record for r in summary.rejects) == [3, 4, 5]


def test_generic_csv_and_column_map(data: Path, tmp_path: Path) -> None:
    posts, _ = read(data / "own/generic.csv")
    assert posts.table.column("app_name").to_pylist() == ["We Heart It", "we heart it", "App"]
    assert posts.table.column("urls").to_pylist()[0] == ["http://a.com/x", "http://b.com/y"]
    assert len(set(posts.table.column("timestamp").to_pylist())) == 1  # Z, epoch and +01:00 agree
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("id,user,created\n1,a,2021-01-31T12:00:00\n")
    posts, _ = read(
        renamed,
        ReadOptions(
            format="csv", column_map={"id": "post_id", "user": "account_id", "created": "timestamp"}
        ),
    )
    assert posts.table.column("account_id").to_pylist() == ["a"]


def test_parquet_round_trip(data: Path, tmp_path: Path) -> None:
    from research.posts import write_posts

    posts, _ = read(data / "own/generic.csv")
    write_posts(posts, tmp_path / "p.parquet")
    again, summary = read(tmp_path / "p.parquet")
    assert summary.files[0].format == "parquet"
    assert again.table.column("urls").equals(posts.table.column("urls"))


def test_csv_missing_columns_names_file_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("post_id,text\n1,hi\n")
    with pytest.raises(SchemaError, match=r"bad\.csv.*account_id, timestamp"):
        read(path, ReadOptions(format="csv"))
    archive = tmp_path / "archive.csv"
    archive.write_text("tweetid,userid,tweet_text\n1,2,hi\n")
    with pytest.raises(SchemaError, match=r"archive\.csv.*tweet_time"):
        read(archive)


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("dear diary\n")
    with pytest.raises(InputFileError, match=r"notes\.txt.*dear diary"):
        read(path)
    with pytest.raises(InputFileError, match="JSON of a kind"):
        (tmp_path / "x.json").write_text('{"hello": 1}\n')
        read(tmp_path / "x.json")
    with pytest.raises(ConfigError):
        read(path, ReadOptions(format="myspace"))


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "zstd"])
def test_compressed_inputs_by_magic(data: Path, tmp_path: Path, kind: str) -> None:
    raw = (data / "twitter-v1/original_format_examples.jsonl").read_bytes()
    packed = {
        "gzip": gzip.compress,
        "bzip2": bz2.compress,
        "zstd": zstandard.ZstdCompressor().compress,
    }[kind](raw)
    path = tmp_path / "tweets.data"  # no telling suffix
    path.write_bytes(packed)
    posts, summary = read(path)
    assert summary.files[0].compression == kind and len(posts) == 25
    assert posts.table.equals(read(data / "twitter-v1/original_format_examples.jsonl")[0].table)


def test_folder_of_files_in_sorted_order(data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "b").mkdir(parents=True)
    shutil.copy(data / "twitter-v2/brexit.jsonl", folder / "b/page.jsonl")
    shutil.copy(data / "twitter-v1/original_format_examples.jsonl", folder / "a.jsonl")
    (folder / "README.md").write_text("not data")
    posts, summary = read(folder)
    assert [Path(f.file).name for f in summary.files] == ["a.jsonl", "page.jsonl"]
    assert [f.format for f in summary.files] == ["twitter-v1", "twitter-v2"]
    assert len(posts) == 125


def test_detection(data: Path) -> None:
    def fmt(name: str) -> str:
        return detect_format(InputFile(data / name, None))

    assert fmt("twitter-v1/original_format_examples.jsonl") == "twitter-v1"
    assert fmt("twitter-v2/two_tweets.jsonl") == "twitter-v2"
    assert fmt("own/mastodon.jsonl") == "mastodon"
    assert fmt("own/info_ops.csv") == "twitter-info-ops"
    assert fmt("own/generic.csv") == "csv"


def test_duplicate_post_ids_are_skipped(data: Path) -> None:
    path = data / "twitter-v2/brexit.jsonl"
    posts, summary = read([path, path])
    assert len(posts) == 100 and summary.skipped == {"duplicate_post_id": 100}


def test_v1_pages_and_stream_noise(tmp_path: Path, data: Path) -> None:
    tweets = (data / "twitter-v1/original_format_examples.jsonl").read_text().splitlines()
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"delete": {"status": {"id": 1, "id_str": "1"}}}',
                tweets[0],
                "",
                '{"statuses": ['
                + tweets[1]
                + ", "
                + tweets[2]
                + ', {"id_str": "x"}], "search_metadata": {}}',
                "[" + tweets[3] + "]",
                '{"limit": {"track": 5}}',
                "{not json",
            ]
        )
        + "\n"
    )
    for engine in ("python", "duckdb"):
        posts, summary = read(path, ReadOptions(engine=engine))
        assert len(posts) == 4
        assert summary.skipped == {"delete": 1, "limit": 1}
        assert summary.rejected == {"invalid_json": 1, "missing_account_id": 1}
        lines = sorted((r.line, r.item, r.reason) for r in summary.rejects)
        assert lines == [(4, 2, "missing_account_id"), (7, None, "invalid_json")]
        assert summary.rows_read == 8 and summary.reconciles()


# --- twitter_times_ms (the DuckDB lane's created_at reader) equals parse_twitter_time_ms ---

_DAYS = ["Mon", "Tue", "Wed", "Sun", "xyz", "WED", "We"]
_MONTHS_TEXT = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
    "Foo",
    "jan",
    "FEB",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda d, m, day, h, mi, s, sign, off, y: f"{d} {m} {day:02d} {h:02d}:{mi:02d}:{s:02d} {sign}{off:04d} {y:04d}",
                st.sampled_from(_DAYS), st.sampled_from(_MONTHS_TEXT), st.integers(0, 32), st.integers(0, 25),
                st.integers(0, 61), st.integers(0, 61), st.sampled_from(["+", "-", " ", "0"]), st.integers(0, 9999),
                st.one_of(st.sampled_from([0, 1, 1600, 1900, 1970, 2000, 2016, 2018, 2100, 9999]), st.integers(0, 9999)),
            ),
            st.text(max_size=32),
            st.none(),
        ),
        max_size=30,
    )
)  # fmt: skip
def test_vectorised_twitter_times_equal_parse_twitter_time_ms(values: list[str | None]) -> None:
    import pyarrow as pa

    from research.io.assemble import parse_twitter_time_ms, twitter_times_ms

    ms, read = twitter_times_ms(pa.array(values, pa.string()))
    for value, m, r in zip(values, ms.tolist(), read.tolist(), strict=True):
        expected = parse_twitter_time_ms(value)
        if r:
            assert m == expected
        elif value is not None and len(value) == 30 and value.isascii() and expected is not None:
            # Values of the usual shape that Python reads are read by the vector path too.
            import re

            from research.io.assemble import TWITTER_TIME_SHAPE

            assert not re.match(TWITTER_TIME_SHAPE, value)


def test_vectorised_twitter_times_on_field_boundaries() -> None:
    import pyarrow as pa

    from research.io.assemble import parse_twitter_time_ms, twitter_times_ms

    values = []
    for year in (1, 1600, 1700, 1900, 1970, 1999, 2000, 2004, 2018, 2100, 9999, 0):
        for month in _MONTHS_TEXT:
            for day in (0, 1, 28, 29, 30, 31, 32):
                values.append(f"Wed {month} {day:02d} 12:00:00 +0000 {year:04d}")
    for field in ("{h:02d}:00:00", "00:{h:02d}:00", "00:00:{h:02d}"):
        for h in (0, 23, 24, 59, 60, 61, 99):
            values.append(f"Wed Oct 10 {field.format(h=h)} +0000 2018")
    for offset in ("+0000", "-0000", "+0130", "-0130", "+2359", "-9999", "+0099", "*0000"):
        values.append(f"Wed Oct 10 20:19:24 {offset} 2018")
    ms, read = twitter_times_ms(pa.array(values))
    assert read.sum() > 500
    for value, m, r in zip(values, ms.tolist(), read.tolist(), strict=True):
        expected = parse_twitter_time_ms(value)
        assert (m if r else None) == expected or (not r and value[4:7] not in _MONTHS_TEXT[:12])


def test_manual_retweets_are_reposts_whatever_the_flag_says(tmp_path: Path) -> None:
    # "RT @name: ..." is a retweet written by hand (and how many CSV exports keep retweets):
    # someone else's words, so the evidence must not read a storm of them as a template.
    path = tmp_path / "posts.csv"
    path.write_text(
        "post_id,account_id,timestamp,text,is_repost\n"
        "1,a,2021-01-31T12:00:00Z,RT @bbc: big news http://x.co/1,false\n"
        "2,b,2021-01-31T12:01:00Z, rt @bbc big news,\n"
        "3,c,2021-01-31T12:02:00Z,ART @ the museum,false\n"
        "4,d,2021-01-31T12:03:00Z,my own words,true\n"
    )
    posts, _ = read(path, ReadOptions(format="csv"))
    assert posts.table.column("is_repost").to_pylist() == [True, True, False, True]

"""The shared real exports give the apps and URLs their payloads hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from research.io import ReadOptions, ingest, read


def _by_id(posts) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {row["post_id"]: row for row in posts.table.to_pylist()}


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_v1_apps_urls_retweets_quotes_extended(data: Path, engine: str) -> None:
    posts, summary = read(
        data / "twitter-v1/original_format_examples.jsonl", ReadOptions(engine=engine)
    )
    assert summary.rows_read == 25 and summary.rows_written == 25 and summary.reconciles()
    rows = _by_id(posts)
    iphone = rows["887453193294282752"]
    assert (iphone["app_name"], iphone["app_url"]) == (
        "Twitter for iPhone",
        "http://twitter.com/download/iphone",
    )
    assert iphone["account_id"] == "2382763597" or iphone["account_name"] == "RobotPrincessFi"
    # attached photo: a platform link, named by the tweet id
    assert iphone["urls"] == [] and iphone["platform_urls"] == [
        "https://twitter.com/i/web/status/887453193294282752"
    ]
    # Gnip's unwound URL is preferred to expanded_url
    assert rows["867470833744191488"]["urls"] == [
        "http://smittenkitchen.com/2009/12/ridiculously-easy-butterscotch-sauce/"
    ]
    assert rows["867470833744191488"]["domains"] == ["smittenkitchen.com"]
    # a retweet: the retweeter's post and app, the original's links
    retweet = rows["867478524235366400"]
    assert retweet["is_repost"] and retweet["app_name"] == "Twitter Web Client"
    assert retweet["urls"] == [
        "https://github.com/fionapigott/character-encoding/blob/master/character_encoding.pdf"
    ]
    # a quote: the quoted tweet is a platform link, its links are not the quoter's
    quote = rows["872836479608733696"]
    assert not quote["is_repost"] and quote["urls"] == []
    assert quote["platform_urls"] == ["https://twitter.com/i/web/status/872836379595620353"]
    # an extended (truncated) quote: links from extended_tweet, not the /i/web/status/ stub
    extended = rows["867479301360205824"]
    assert extended["platform_urls"] == ["https://twitter.com/i/web/status/861652051016663040"]
    assert extended["text"].startswith('Try using "xxd"')


def test_both_v1_engines_give_the_same_posts(data: Path) -> None:
    path = data / "twitter-v1/original_format_examples.jsonl"
    assert read(path, ReadOptions(engine="python"))[0].table.equals(
        read(path, ReadOptions(engine="duckdb"))[0].table
    )


def test_v2_page_joins_usernames_and_sources(data: Path) -> None:
    posts, summary = read(data / "twitter-v2/brexit.jsonl")
    assert summary.files[0].format == "twitter-v2"
    assert summary.rows_read == 100 and summary.rows_written == 100
    first = _by_id(posts)["1440716895355764743"]
    assert first["account_id"] == "4203239195"
    assert first["account_name"] == "WarmongerHodges"  # from includes.users
    assert first["app_name"] == "Twitter Web App"
    assert all(name is not None for name in posts.table.column("account_name").to_pylist())


def test_v2_links_unwound_and_tracking_stripped(data: Path) -> None:
    posts, _ = read(data / "twitter-v2/streaming_output_with_error.jsonl")
    rows = _by_id(posts)
    assert rows["1377650277642338305"]["urls"] == [
        "https://instagram.com/p/CNIQbqSrZRL/"
    ]  # igshid dropped
    assert rows["1377650277642338305"]["app_name"] == "Instagram"
    assert rows["1377650090978992134"]["platform_urls"] == [
        "https://twitter.com/i/web/status/1377650090978992134",
        "https://twitter.com/i/web/status/1377640162566496258",
    ]


def test_v2_retweet_takes_original_links_from_includes(data: Path) -> None:
    posts, _ = read(data / "twitter-v2/2sets.jsonl")
    row = _by_id(posts)["1440717145042653184"]
    assert row["is_repost"] and row["urls"] == [
        "https://koreatimes.co.kr/www/art/2021/09/732_315860.html?tw"
    ]


def test_v2_source_absent_after_2022_is_a_null_app(data: Path) -> None:
    posts, summary = read(data / "twitter-v2/many_urls.jsonl")
    row = posts.table.to_pylist()[0]
    assert row["app_name"] is None and summary.rejected == {}
    assert row["urls"] == ["https://uiadrian.gumroad.com/l/web-design-guide/?offer_code=twk0uc9f7"]


def test_stream_capture_with_a_broken_line(data: Path, tmp_path: Path) -> None:
    path = data / "twitter-v2/streaming_output_with_error.jsonl"
    summary = ingest(path, tmp_path / "out", progress=False)
    assert summary.rows_read == 8 and summary.rows_written == 7
    rejects = [
        json.loads(line) for line in (tmp_path / "out/rejects.jsonl").read_text().splitlines()
    ]
    assert len(rejects) == 1
    assert rejects[0]["file"] == str(path) and rejects[0]["line"] == 8
    assert rejects[0]["reason"] == "invalid_json" and rejects[0]["snippet"].startswith(
        '{"data": {"author_id"'
    )


@pytest.mark.parametrize(
    "name",
    [
        "twitter-v1/original_format_examples.jsonl",
        "twitter-v2/brexit.jsonl",
        "twitter-v2/2sets.jsonl",
        "twitter-v2/many_urls.jsonl",
        "twitter-v2/two_tweets.jsonl",
        "twitter-v2/streaming_output_with_error.jsonl",
        "own/mastodon.jsonl",
        "own/info_ops.csv",
        "own/generic.csv",
    ],
)
def test_summary_counts_reconcile(data: Path, tmp_path: Path, name: str) -> None:
    ingest(data / name, tmp_path / "out", progress=False)
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["reconciles"]
    for counts in [summary, *summary["files"]]:
        assert counts["rows_read"] == (
            counts["rows_written"]
            + sum(counts["rejected"].values())
            + sum(counts["skipped"].values())
        )
    rejects = (tmp_path / "out/rejects.jsonl").read_text().splitlines()
    assert len(rejects) == sum(summary["rejected"].values())

"""Posts -> v1.1 JSON lines -> ingest gives the same posts; the ingest verb."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import pyarrow.compute as pc

from research.io import read
from research.io.cli import add_ingest_parser, run_ingest
from research.io.writers import write_twitter_v1
from research.posts import Posts


def test_round_trip_through_v1(tmp_path: Path) -> None:
    base = dt.datetime(2020, 5, 1, 12, tzinfo=dt.UTC)
    posts = Posts.from_records(
        [
            {
                "post_id": str(100 + i),
                "account_id": str(7 + i % 3),
                "account_name": f"u{i % 3}",
                "timestamp": base + dt.timedelta(seconds=37 * i),
                "app_name": ["We Heart It", "we heart it", None][i % 3],
                "app_url": ["http://weheartit.com/", "http://weheartit.com/", None][i % 3],
                "urls": [
                    [f"https://example.com/{i}"],
                    [],
                    ["https://a.org/x?b=1&a=2", "https://b.net/"],
                ][i % 3],
                "text": f"post {i} & <b>",
                "is_repost": i % 4 == 0,
                "platform": "twitter",
            }
            for i in range(30)
        ]
    )
    path = write_twitter_v1(posts, tmp_path / "t.jsonl")
    back, summary = read(path)
    assert summary.rows_written == 30 and summary.rejected == {}
    for name in (
        "post_id",
        "account_id",
        "account_name",
        "timestamp",
        "app_name",
        "app_url",
        "is_repost",
        "text",
        "platform",
    ):
        assert back.table.column(name).equals(posts.table.column(name)), name
    expected_urls = [sorted(u) for u in posts.table.column("urls").to_pylist()]
    canonical = {"https://a.org/x?b=1&a=2": "https://a.org/x?a=2&b=1"}
    assert [sorted(u) for u in back.table.column("urls").to_pylist()] == [
        sorted(canonical.get(x, x) for x in us) for us in expected_urls
    ]
    assert pc.all(
        pc.equal(
            pc.list_value_length(back.table.column("domains")),
            pc.list_value_length(back.table.column("urls")),
        )
    ).as_py()


def test_ingest_verb(data: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    parser = argparse.ArgumentParser(prog="hijack-clusters")
    add_ingest_parser(parser.add_subparsers(dest="command"))
    assert "example" in parser._subparsers._group_actions[0].choices["ingest"].format_help()  # type: ignore[union-attr]
    args = parser.parse_args(
        ["ingest", str(data / "twitter-v2"), "--out", str(tmp_path / "out"), "--quiet"]
    )
    assert run_ingest(args) == 0
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["rows_written"] == 209 and summary["reconciles"]
    bad = parser.parse_args(
        ["ingest", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o2"), "--quiet"]
    )
    assert run_ingest(bad) == 3
    assert "missing.jsonl" in capsys.readouterr().err


def test_ingest_verb_maps_columns_and_names_a_bad_map(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    parser = argparse.ArgumentParser(prog="hijack-clusters")
    add_ingest_parser(parser.add_subparsers(dest="command"))
    export = tmp_path / "export.csv"
    export.write_text(
        "id,user,created_at,link\n1,alice,2021-01-31T12:00:00,https://Example.com/a?utm_source=x\n"
    )
    args = parser.parse_args(
        ["ingest", str(export), "--out", str(tmp_path / "out"), "--quiet", "--map", "id=post_id", "--map", "user=account_id",
         "--map", "created_at=timestamp", "--map", "link=urls", "--platform", "bluesky", "--format", "csv"]
    )  # fmt: skip
    assert run_ingest(args) == 0
    posts, summary = read(tmp_path / "out/posts.parquet")
    assert summary.rows_written == 1
    assert posts.table.column("account_id").to_pylist() == ["alice"]
    assert posts.table.column("urls").to_pylist() == [["https://example.com/a"]]
    assert posts.table.column("platform").to_pylist() == ["bluesky"]
    # Without --format the renamed header is not recognised, and the message says what to pass.
    unnamed = parser.parse_args(
        ["ingest", str(export), "--out", str(tmp_path / "o1"), "--quiet", "--map", "id=post_id"]
    )
    assert run_ingest(unnamed) == 3
    assert "--map SOURCE=COLUMN" in capsys.readouterr().err
    # A typo in the target is named, with the columns it could have been, before anything is read.
    typo = parser.parse_args(
        ["ingest", str(export), "--out", str(tmp_path / "o2"), "--quiet", "--map", "user=acount_id"]
    )
    assert run_ingest(typo) == 5
    err = capsys.readouterr().err
    assert (
        "'acount_id'" in err
        and "account_id" in err
        and not (tmp_path / "o2/posts.parquet").exists()
    )
    malformed = parser.parse_args(
        ["ingest", str(export), "--out", str(tmp_path / "o3"), "--quiet", "--map", "user"]
    )
    assert run_ingest(malformed) == 5
    assert "SOURCE=COLUMN" in capsys.readouterr().err

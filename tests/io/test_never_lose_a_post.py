"""Issue 13, failure by failure: each input is made here, and every readable post must survive it."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import zlib
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from research.errors import InputFileError, SchemaError
from research.io import ReadOptions, ingest, read
from research.io.cli import add_ingest_parser, run_ingest

TIME = "Wed Oct 10 20:19:24 +0000 2018"


def tweet(post_id: int | str, text: str = "x", **extra: object) -> bytes:
    return orjson.dumps({"id_str": str(post_id), "created_at": TIME, "user": {"id_str": "7",
                         "screen_name": "bob"}, "text": text, "source": "web", **extra})  # fmt: skip


def ids(posts) -> list[str]:  # type: ignore[no-untyped-def]
    return posts.table.column("post_id").to_pylist()


# 1. Any failure of the DuckDB lane hands over to the exact engine.
def test_a_40_mb_line_does_not_stop_the_duckdb_lane(tmp_path: Path) -> None:
    lines = [tweet(i) for i in range(1, 301)]
    lines.insert(150, tweet(999, "y" * (40 << 20)))
    path = tmp_path / "giant.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    posts, summary = read(path, ReadOptions(engine="duckdb"))
    assert len(posts) == 301 and summary.reconciles() and summary.files[0].engine == "duckdb"
    assert ids(posts)[150] == "999"


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_truncated_gzip_keeps_what_decompresses(tmp_path: Path, engine: str) -> None:
    packed = gzip.compress(b"\n".join(tweet(i) for i in range(1, 20_001)) + b"\n")
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    posts, summary = read(path, ReadOptions(engine=engine))
    assert summary.rejected == {"undecodable_tail": 1} and summary.reconciles()
    assert len(posts) > 5_000 and ids(posts) == [str(i) for i in range(1, len(posts) + 1)]
    (reject,) = summary.rejects
    assert reject.line == len(posts) + 1 and "decompressed" in reject.detail


# 2. One JSON dialect, and one reading of wrongly typed fields, in both engines.
ODD_LINES = [
    b'{"id_str": "11", "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7"}, "x": NaN}',
    b'{"id_str": "12", "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7"}, "x": -Infinity}',
    b'{"id_str": "13", "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7"}, "x": 1e400}',
    b'{"id_str": "14", "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7"}, "x": [1,],}',
    b'{"id": 99999999999999999999, "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7"}}',
    b'{"id_str": "16", "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7", "screen_name": 5}, "source": 12, "text": {"a": 1}}',
    b'{"id_str": "17", "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7"}, "entities": {"urls": [{"expanded_url": 5, "url": "http://a.com/"}]}}',
    b'{"id_str": "18", "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7"}, "retweeted_status": "not an object"}',
    b'{"id_str": "19", "created_at": "' + TIME.encode() + b'", "user": {"id_str": "7"}, "x": nan1}',
]  # fmt: skip


def test_engines_read_the_odd_lines_alike(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(tweet(1) + b"\n" + b"\n".join(ODD_LINES) + b"\n")
    fast, fast_summary = read(path, ReadOptions(engine="duckdb"))
    exact, exact_summary = read(path, ReadOptions(engine="python"))
    assert fast.table.equals(exact.table)
    assert (
        fast_summary.rejected
        == exact_summary.rejected
        == {
            "invalid_json": 1,
            "missing_post_id": 1,
        }
    )
    rows = {r["post_id"]: r for r in exact.table.to_pylist()}
    assert {"11", "12", "13", "14"} <= set(rows)  # DuckDB's dialect: NaN, inf, trailing commas
    assert rows["16"]["account_name"] is None and rows["16"]["app_name"] is None
    assert rows["16"]["text"] is None and rows["17"]["urls"] == ["http://a.com/"]
    assert rows["18"]["is_repost"] is False


# 3. The first copy in the file is kept, whichever engine read it.
def test_the_first_copy_in_file_order_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    page = orjson.dumps({"statuses": [orjson.loads(tweet(5, "first"))]})
    path.write_bytes(b"\n".join([tweet(1), page, tweet(5, "second"), tweet(6)]) + b"\n")
    for engine in ("duckdb", "python"):
        posts, summary = read(path, ReadOptions(engine=engine))
        assert ids(posts) == ["1", "5", "6"], engine
        assert posts.table.column("text").to_pylist()[1] == "first", engine
        assert summary.skipped == {"duplicate_post_id": 1}


# 4-5. Parquet: refused with a message, or rows rejected; impossible times rejected.
def test_parquet_with_duplicate_columns_is_refused_by_name(tmp_path: Path) -> None:
    table = pa.table([pa.array(["1"]), pa.array(["a"]), pa.array(["b"]), pa.array([1.0])],
                     names=["post_id", "account_id", "account_id", "timestamp"])  # fmt: skip
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(SchemaError, match=r"dup\.parquet.*'account_id' at columns 2, 3"):
        read(tmp_path / "dup.parquet")


def test_parquet_binary_column_that_is_not_utf8_rejects_its_rows(tmp_path: Path) -> None:
    table = pa.table({"post_id": pa.array([b"1", b"2\xff", b"3"], pa.binary()),
                      "account_id": ["a", "b", "c"], "timestamp": [1.0, 2.0, 3.0]})  # fmt: skip
    pq.write_table(table, tmp_path / "bin.parquet")
    posts, summary = read(tmp_path / "bin.parquet")
    assert ids(posts) == ["1", "3"] and summary.rejected == {"invalid_utf8": 1}


def test_parquet_impossible_times_are_rejected_and_fractions_kept(tmp_path: Path) -> None:
    seconds = [float("nan"), float("inf"), -float("inf"), 1.2346, 1_600_000_000.5]
    table = pa.table({"post_id": [str(i) for i in range(5)], "account_id": ["a"] * 5,
                      "timestamp": seconds})  # fmt: skip
    pq.write_table(table, tmp_path / "t.parquet")
    posts, summary = read(tmp_path / "t.parquet")
    assert summary.rejected == {"bad_timestamp": 3}
    ms = posts.table.column("timestamp").cast(pa.int64()).to_pylist()
    assert ms == [1235, 1_600_000_000_500]
    huge = pa.table({"post_id": ["1", "2"], "account_id": ["a", "a"],
                     "timestamp": pa.array([2**63 - 1, 10], pa.int64())})  # fmt: skip
    pq.write_table(huge, tmp_path / "huge.parquet")
    posts, summary = read(tmp_path / "huge.parquet")
    assert ids(posts) == ["2"] and summary.rejected == {"bad_timestamp": 1}


# 6. Symbolic links to folders are followed, once; every path is listed.
def test_symlinked_folders_are_followed_once_and_skips_are_listed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "inner").mkdir(parents=True)
    (real / "inner" / "a.jsonl").write_bytes(tweet(1) + b"\n")
    (real / "notes.txt").write_text("not data")
    top = tmp_path / "top"
    top.mkdir()
    (top / "b.jsonl").write_bytes(tweet(2) + b"\n")
    (top / "linked").symlink_to(real, target_is_directory=True)
    (real / "inner" / "loop").symlink_to(real, target_is_directory=True)
    summary = ingest(top, tmp_path / "out", progress=False)
    assert summary.rows_written == 2
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [Path(f["path"]).name for f in written["files"]] == ["b.jsonl", "a.jsonl"]
    reasons = {Path(p["path"]).name: p["reason"] for p in written["skipped_paths"]}
    assert "not a data file name" in reasons["notes.txt"] and "already read" in reasons["loop"]


# 7. One bad record or one bad file does not throw the others away.
def test_csv_bad_utf8_and_giant_field_reject_or_keep_only_their_record(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(
        b"post_id,account_id,timestamp,text\n1,a,2021-01-31T12:00:00Z,ok\n"
        b"2,b,2021-01-31T12:00:00Z,caf\xe9\n3,c,2021-01-31T12:00:00Z," + b"z" * (33 << 20) + b"\n"
        b"4,d,2021-01-31T12:00:00Z,fine\n"
    )
    posts, summary = read(path)
    assert ids(posts) == ["1", "3", "4"] and summary.rejected == {"invalid_utf8": 1}
    assert summary.rejects[0].record == 2


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("header", "row"),
    [(b"post_id,account_id,timestamp", b"%d,a,2021-01-31T12:00:00Z"),
     (b"tweetid,userid,tweet_time", b"%d,a,2021-01-31 12:00")],
)  # fmt: skip
def test_a_malformed_csv_record_that_is_not_utf8_rejects_only_itself(
    tmp_path: Path, header: bytes, row: bytes
) -> None:
    # Arrow hands a malformed record to its handler as UTF-8 text: one that was
    # not UTF-8 printed a traceback and lost the whole file (0 posts).
    rows = [row % i for i in range(1, 2001)]
    rows[1499] = b"1500,caf\xe9"  # one field short, and Latin-1
    path = tmp_path / "posts.csv"
    path.write_bytes(header + b"\n" + b"\n".join(rows) + b"\n")
    posts, summary = read(path)
    assert len(posts) == 1999 and summary.rejected == {"malformed_record": 1}
    (reject,) = summary.rejects
    assert reject.record == 1500 and reject.snippet == "1500,caf\ufffd"
    assert "1501" in ids(posts) and summary.reconciles()


def test_one_truncated_gzip_among_several_inputs(tmp_path: Path) -> None:
    good = tmp_path / "a.jsonl"
    good.write_bytes(tweet(1) + b"\n")
    packed = gzip.compress(b"\n".join(tweet(i) for i in range(10, 5_000)) + b"\n")
    (tmp_path / "b.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "c.jsonl").write_bytes(tweet(2) + b"\n")
    posts, summary = read(tmp_path)
    assert "1" in ids(posts) and "2" in ids(posts) and len(posts) > 100
    assert summary.rejected == {"undecodable_tail": 1} and summary.reconciles()


# 8. Blank-line bombs are passed over in bulk.
@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        ("twitter-v1", tweet(1)),
        ("twitter-v2", b'{"id": "1", "author_id": "7", "created_at": "2021-01-01T00:00:00Z"}'),
        ("mastodon", b'{"id": "1", "account": {"id": "7", "acct": "a"}, "created_at": "2021-01-01T00:00:00Z"}'),
    ],
)  # fmt: skip
def test_blank_line_bombs_are_skipped_in_bulk(tmp_path: Path, fmt: str, line: bytes) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    path = tmp_path / "bomb.jsonl.gz"
    with path.open("wb") as out:
        for _ in range(128):
            out.write(compressor.compress(b"\n" * (1 << 20)))
        out.write(compressor.compress(line + b"\n") + compressor.flush())
    import time

    start = time.perf_counter()
    posts, summary = read(path, ReadOptions(format=fmt, engine="python"))
    elapsed = time.perf_counter() - start
    assert ids(posts) == ["1"] and summary.rows_read == 1
    # 128 Mi blank lines: walking them one by one took ~15 s here; in bulk, ~1 s.
    assert elapsed < 10, elapsed


@pytest.mark.parametrize("engine", ["duckdb", "python"])
@pytest.mark.parametrize("compressed", [False, True])
def test_posts_around_a_blank_line_bomb_keep_their_line_numbers(
    tmp_path: Path, engine: str, compressed: bool
) -> None:
    # Every post before and after the bomb is written and the broken line after
    # it is named by its own number: blank lines of every kind count as lines,
    # a blank line longer than max_line_bytes included.
    bomb = [b""] * (1 << 21) + [b"  \r"] * 1000 + [b" " * (2 << 20), b"\r" * 1000, b"\t\x0b\x0c"]
    lines = [tweet(i) for i in range(1, 100)] + bomb + [tweet(i) for i in range(100, 200)]
    lines += [b"{broken", tweet(200)]
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / ("bomb.jsonl.gz" if compressed else "bomb.jsonl")
    path.write_bytes(gzip.compress(data, 1) if compressed else data)
    posts, summary = read(path, ReadOptions(engine=engine, max_line_bytes=1 << 20))
    assert ids(posts) == [str(i) for i in range(1, 201)] and summary.reconciles()
    assert [(r.line, r.reason) for r in summary.rejects] == [(len(lines) - 1, "invalid_json")]


# 9. Bidirectional controls are shown, not obeyed, in terminal output.
def test_bidi_controls_are_neutralised_in_terminal_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from research.cli import main

    assert (
        main(["ingest", str(tmp_path / "evil\u202etxt.jsonl"), "--out", str(tmp_path / "o")]) == 3
    )
    err = capsys.readouterr().err
    assert "\u202e" not in err and "evil<U+202E>txt.jsonl" in err


# 10. Streams are read; what a refused path is, is said.
def test_fifo_and_stdin_are_read_as_streams(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as pipe:
            pipe.write(tweet(1) + b"\n" + tweet(2) + b"\n")

    writer = threading.Thread(target=feed)
    writer.start()
    posts, summary = read(fifo)
    writer.join()
    assert ids(posts) == ["1", "2"] and summary.files[0].file == str(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "research", "ingest", "-", "--out", str(tmp_path / "o"), "--quiet"],
        input=gzip.compress(tweet(3) + b"\n"),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert written["rows_written"] == 1 and written["files"][0]["path"] == "-"


def test_refused_paths_say_what_they_are(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(InputFileError, match="symbolic link loop"):
        read(loop)
    broken = tmp_path / "broken"
    broken.symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputFileError, match="broken symbolic link"):
        read(broken)


# 11. The toolkit's CSV; a file of which nothing can be read fails loudly.
def test_fractional_epoch_seconds_and_milliseconds(tmp_path: Path) -> None:
    path = tmp_path / "toolkit.csv"
    path.write_text(
        "post_id,account_id,timestamp\n1,a,1612094400.25\n2,a,1612094400\n3,a,1612094400250\n"
    )
    posts, _ = read(path)
    assert posts.table.column("timestamp").cast(pa.int64()).to_pylist() == [
        1612094400250,
        1612094400000,
        1612094400250,
    ]


def test_a_file_with_no_readable_row_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd_times.csv"
    path.write_text("post_id,account_id,timestamp\n1,a,last tuesday\n2,a,yesterday\n")
    parser = __import__("argparse").ArgumentParser()
    add_ingest_parser(parser.add_subparsers())
    args = parser.parse_args(["ingest", str(path), "--out", str(tmp_path / "o"), "--quiet"])
    assert run_ingest(args) == 3
    assert "every one was rejected as bad_timestamp" in capsys.readouterr().err
    assert (tmp_path / "o" / "rejects.jsonl").read_text().count("bad_timestamp") == 2


# 12. Repeated CSV headers.
def test_duplicate_csv_headers_are_refused_unless_mapped(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("post_id,account_id,timestamp,account_id\n1,a,2021-01-31T12:00:00Z,b\n")
    with pytest.raises(SchemaError, match=r"dup\.csv.*'account_id' at columns 2, 4"):
        read(path)
    mapped = tmp_path / "mapped.csv"
    mapped.write_text("post_id,id,account_id,timestamp\n1,9,a,2021-01-31T12:00:00Z\n")
    posts, _ = read(mapped, ReadOptions(format="csv", column_map={"id": "post_id"}))
    assert ids(posts) == ["9"]


# 13. No abort when Arrow's CSV reader fails.
def test_reading_bad_csv_many_times_never_aborts(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv.gz"
    rows = b"".join(b"%d,a,2021-01-31T12:00:00Z,t\xff\n" % i for i in range(5000))
    path.write_bytes(gzip.compress(b"post_id,account_id,timestamp,text\n" + rows)[:-200])
    code = f"from research.io import read\nfor _ in range(20): read({str(path)!r})\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


# The two new formats.
def test_gnip_activity_streams(data: Path) -> None:
    posts, summary = read(data / "gnip/activities.jsonl")
    assert summary.files[0].format == "gnip" and summary.skipped == {"delete": 1, "info": 1}
    rows = {r["post_id"]: r for r in posts.table.to_pylist()}
    first = rows["437912345678901248"]
    assert (first["account_id"], first["account_name"]) == ("2244994945", "alice")
    assert (first["app_name"], first["app_url"]) == ("We Heart It", "http://weheartit.com/")
    assert first["urls"] == ["http://weheartit.com/entry/100"]  # gnip.urls, tracking dropped
    assert rows["437912345678901249"]["urls"] == ["http://example.com/story"]  # twitter_entities
    retweet = rows["437912345678901250"]
    assert retweet["is_repost"] and retweet["urls"] == ["http://weheartit.com/entry/100"]
    long = rows["953912345678901251"]
    assert long["urls"] == ["https://news.example.org/a", "https://news.example.org/b"]
    assert long["text"].endswith("two links https://t.co/x1 https://t.co/x2")
    assert long["platform_urls"] == ["https://twitter.com/i/web/status/953912345678901251"]


def test_tar_archives_are_folders_of_their_members(tmp_path: Path, data: Path) -> None:
    archive = tmp_path / "grab.tar"
    with tarfile.open(archive, "w") as tar:
        for name, payload in [
            ("2020/01/01/00/30.json.bz2", bz2.compress(tweet(1) + b"\n{broken\n")),
            ("2020/01/01/00/31.json.bz2", bz2.compress(tweet(2) + b"\n")),
            ("2020/README.txt", b"hello"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    summary = ingest(archive, tmp_path / "out", progress=False)
    assert summary.rows_written == 2 and summary.reconciles()
    assert [f.file for f in summary.files] == [
        f"{archive}/2020/01/01/00/30.json.bz2",
        f"{archive}/2020/01/01/00/31.json.bz2",
    ]
    reject = json.loads((tmp_path / "out" / "rejects.jsonl").read_text())
    assert reject["file"] == f"{archive}/2020/01/01/00/30.json.bz2" and reject["line"] == 2
    assert summary.skipped_paths[0].path == f"{archive}/2020/README.txt"
    gz = tmp_path / "grab.tar.gz"
    gz.write_bytes(gzip.compress(archive.read_bytes()))
    posts, _ = read(gz)
    assert ids(posts) == ["1", "2"]

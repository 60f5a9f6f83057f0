"""The two Twitter v1.1 engines read any file alike (issue 13)."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from research.io import ReadOptions, read

MB = 1 << 20
TIME = "Wed Oct 10 20:19:24 +0000 2018"


def tweet(post_id: int, text: str = "x") -> bytes:
    return orjson.dumps({"id_str": str(post_id), "created_at": TIME, "user": {"id_str": "7"},
                         "text": text})  # fmt: skip


def _both(
    path: Path, **options: object
) -> list[tuple[list[str], list[tuple[int | None, str]], str]]:
    out = []
    for engine in ("duckdb", "python"):
        posts, summary = read(path, ReadOptions(format="twitter-v1", engine=engine, **options))  # type: ignore[arg-type]
        assert summary.reconciles()
        out.append(
            (
                posts.table.column("post_id").to_pylist(),
                [(r.line, r.reason) for r in summary.rejects],
                summary.files[0].engine,
            )
        )
    return out


def test_lines_longer_than_the_limit_are_rejected_by_both_engines(tmp_path: Path) -> None:
    # DuckDB read lines up to twice its maximum_object_size (16 MiB at least), so
    # it kept posts the Python engine rejected as line_too_long.
    path = tmp_path / "long.jsonl"
    path.write_bytes(
        b"\n".join(
            [tweet(1), tweet(2, "y" * (3 * MB // 2)), b" " * (2 * MB) + tweet(3),
             tweet(4, "z" * (9 * MB // 10))]
        ) + b"\n"
    )  # fmt: skip
    fast, exact = _both(path, max_line_bytes=MB)
    assert fast[:2] == exact[:2] == (["1", "4"], [(2, "line_too_long"), (3, "line_too_long")])
    assert fast[2] == "duckdb"


def test_a_compressed_line_longer_than_the_limit_is_rejected_by_both_engines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "long.jsonl.gz"
    path.write_bytes(
        gzip.compress(b"\n".join([tweet(1), tweet(2, "y" * 45 * MB), tweet(3)]) + b"\n", 1)
    )
    fast, exact = _both(path, max_line_bytes=40 * MB)
    assert fast[:2] == exact[:2] == (["1", "3"], [(2, "line_too_long")])


def test_compressed_files_with_a_small_line_limit_go_to_the_python_engine(tmp_path: Path) -> None:
    path = tmp_path / "small.jsonl.gz"
    path.write_bytes(gzip.compress(tweet(1) + b"\n" + tweet(2, "y" * 5000) + b"\n"))
    _posts, summary = read(path, ReadOptions(engine="duckdb", max_line_bytes=4096))
    assert summary.rejected == {"line_too_long": 1} and summary.files[0].engine == "python"
    assert "DuckDB cannot hold gzip lines" in summary.files[0].notes[0]


# --- a repeated key: its first copy, in both engines ------------------------------------

_TIME = '"created_at": "' + TIME + '"'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id_str": "1", "id_str": "2", ' + _TIME + ', "user": {"id_str": "7"}}', "1"),
        ('{"id_str": null, "id_str": "2", "id": 3, ' + _TIME + ', "user": {"id_str": "7"}}', "3"),
        ('{"id\\u005fstr": "4", "id_str": "2", ' + _TIME + ', "user": {"id_str": "7"}}', "4"),
    ],
)
def test_a_repeated_key_reads_its_first_copy_in_both_engines(
    tmp_path: Path, line: str, expected: str
) -> None:
    # DuckDB took the first copy and orjson the last: the engines gave different posts.
    path = tmp_path / "repeated.jsonl"
    path.write_text(tweet(9).decode() + "\n" + line + "\n")
    for engine in ("duckdb", "python"):
        posts, _ = read(path, ReadOptions(engine=engine))
        assert posts.table.column("post_id").to_pylist() == ["9", expected], engine


def test_repeated_keys_inside_objects_read_their_first_copy(tmp_path: Path) -> None:
    line = (
        '{"id_str": "1", ' + _TIME + ', "user": {"id_str": "7", "screen_name": "a", '
        '"id_str": "8", "screen_name": "b"}, "text": "first", '
        '"source": "<a href=\\"http://a.example/\\">A</a>", "entities": {"urls": '
        '[{"expanded_url": "http://first.example/", "expanded_url": "http://second.example/"}]}, '
        '"source": "<a href=\\"http://b.example/\\">B</a>", "text": "second"}'
    )
    path = tmp_path / "nested.jsonl"
    path.write_text(line + "\n")
    for engine in ("duckdb", "python"):
        posts, _ = read(path, ReadOptions(engine=engine))
        (row,) = posts.table.to_pylist()
        assert (row["account_id"], row["account_name"], row["text"]) == ("7", "a", "first")
        assert (row["app_name"], row["urls"]) == ("A", ["http://first.example/"]), engine


def test_deep_objects_and_pages_are_rows_in_both_engines(tmp_path: Path) -> None:
    # orjson reads 1024 levels (DuckDB has no limit) and writes 254: a rejected
    # page item nested deeper ended the run with a traceback when its snippet
    # was written, and a tweet with a field nested past 1024 levels was a post
    # for DuckDB and invalid_json for the Python engine.
    deep = b"[" * 300 + b"]" * 300
    deeper = b"[" * 2000 + b"]" * 2000
    path = tmp_path / "deep.jsonl"
    path.write_bytes(
        b'{"statuses": [{"x": ' + deep + b"}]}\n" + tweet(5)[:-1] + b', "x": ' + deeper + b"}\n"
    )
    for engine in ("duckdb", "python"):
        posts, summary = read(path, ReadOptions(format="twitter-v1", engine=engine))
        assert posts.table.column("post_id").to_pylist() == ["5"], engine
        assert [(r.line, r.item, r.reason) for r in summary.rejects] == [(1, 0, "missing_post_id")]

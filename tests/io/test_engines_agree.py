"""The two Twitter v1.1 engines read any file alike (issue 13)."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

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

"""iter_lines yields a file's lines as a plain split would, whatever its reading blocks;
count_lines (the DuckDB lane's check of row positions) counts them; long_lines finds the long ones."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.io import sources
from research.io.sources import InputFile, count_lines, iter_lines, long_lines, rows_before

_pieces = st.lists(
    st.sampled_from(
        [
            b"\n",
            b" ",
            b"\t",
            b"\r",
            b"\x0b",
            b"\x0c",
            b"x",
            b"{}",
            b"\n\n",
            b"  \n",
            b"abc\n",
            b"\xff",
        ]
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(pieces=_pieces, block=st.integers(1, 9), max_line=st.integers(0, 12), gz=st.booleans())
def test_count_lines_equals_iter_lines(tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes],
                                       block: int, max_line: int, gz: bool) -> None:  # fmt: skip
    data = b"".join(pieces)
    path = tmp_path_factory.mktemp("lines") / "f.jsonl"
    path.write_bytes(gzip.compress(data) if gz else data)
    source = InputFile(path, "gzip" if gz else None)
    original = sources._BLOCK
    sources._BLOCK = block
    try:
        expected = sum(1 for _ in iter_lines(source, max_line_bytes=max_line))
        assert count_lines(source, max_line_bytes=max_line) == expected
    finally:
        sources._BLOCK = original


def test_count_lines_real_sizes(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    lines = [b'{"id": %d}' % i if i % 7 else b"   " for i in range(5000)]
    path.write_bytes(b"\n".join(lines) + b"\n\n" + b" " * 100 + b"\n" + b"y" * 3000)
    source = InputFile(path, None)
    for max_line in (50, 2000, 1 << 20):
        assert count_lines(source, max_line_bytes=max_line) == sum(
            1 for _ in iter_lines(source, max_line_bytes=max_line)
        )


def _split(data: bytes, max_line: int, head: int) -> list[tuple[int, bytes | None, bytes]]:
    """What iter_lines must yield, by its definition: non-blank lines from their first
    non-blank byte; longer ones (counting every byte) as their head."""
    out: list[tuple[int, bytes | None, bytes]] = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        if len(line) > max_line:
            out.append((number, None, line.lstrip()[:head]))
        else:
            out.append((number, line.lstrip(), b""))
    return out


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    pieces=st.lists(
        st.sampled_from([b"\n", b" " * 7, b"\r", b"\x0b\x0c\t", b"x", b"{}", b"\n" * 5]),
        max_size=40,
    ),
    block=st.integers(1, 9),
    max_line=st.integers(1, 12),
    head=st.integers(1, 5),
    gz=st.booleans(),
)
def test_iter_lines_is_a_plain_split_whatever_the_blocks(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes], block: int, max_line: int,
    head: int, gz: bool,
) -> None:  # fmt: skip
    # Leading white space that began in an earlier block was once dropped from a
    # line's bytes and kept when it did not: a snippet depended on block edges.
    data = b"".join(pieces)
    path = tmp_path_factory.mktemp("lines") / "f.jsonl"
    path.write_bytes(gzip.compress(data) if gz else data)
    source = InputFile(path, "gzip" if gz else None)
    original = sources._BLOCK
    sources._BLOCK = block
    try:
        lines = iter_lines(source, max_line_bytes=max_line, head_bytes=head)
        assert [(line.number, line.raw, line.head) for line in lines] == _split(
            data, max_line, head
        )
    finally:
        sources._BLOCK = original


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    lengths=st.lists(st.integers(0, 90), max_size=30),
    blank=st.lists(st.booleans(), max_size=30),
    max_line=st.integers(1, 40),
)
def test_long_lines_finds_every_longer_line_and_its_row(
    tmp_path_factory: pytest.TempPathFactory, lengths: list[int], blank: list[bool], max_line: int
) -> None:
    lines = [
        (b" " if b else b"x") * n
        for n, b in zip(lengths, blank + [False] * len(lengths), strict=False)
    ]
    data = b"\n".join(lines)
    path = tmp_path_factory.mktemp("long") / "f.jsonl"
    path.write_bytes(data)
    starts, rows, offset, row = [], [], 0, 0
    for line in lines:
        if line.strip() and len(line) > max_line:
            starts.append(offset)
            rows.append(row)
        row += bool(line.strip())
        offset += len(line) + 1
    assert long_lines(path, max_line) == starts
    assert rows_before(path, starts) == rows

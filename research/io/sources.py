"""Opening input files: many paths or folders, compression by magic bytes, lines.

Compression is recognised by the first bytes of a file, whatever its name:
gzip (``1f 8b``), bzip2 (``BZh``) and Zstandard (``28 b5 2f fd``). Folders
are expanded to the data files below them, sorted by path, so that a run
reads files in the same order on every machine: files named ``*.json``,
``*.jsonl``, ``*.ndjson``, ``*.csv`` or ``*.parquet``, optionally followed by
``.gz``, ``.bz2`` or ``.zst`` (a folder's ``LICENSE`` or ``README.md`` is not
input); hidden files (``.name``) are left out. A file named explicitly is
read whatever its name.
"""

from __future__ import annotations

import bz2
import gzip
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from research.errors import InputFileError

__all__ = [
    "InputFile",
    "Line",
    "count_lines",
    "expand_inputs",
    "iter_lines",
    "open_binary",
    "sniff_compression",
]

_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd"}
_BLOCK = 1 << 20
#: Lines longer than this are rejected (``line_too_long``) without being held in memory.
DEFAULT_MAX_LINE_BYTES = 64 << 20


@dataclass(frozen=True)
class InputFile:
    """One input file and how its bytes are compressed."""

    path: Path
    compression: str | None

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class Line:
    """One non-blank line of a file: its 1-based number and bytes (``None`` if too long)."""

    number: int
    raw: bytes | None
    head: bytes


def sniff_compression(path: Path) -> str | None:
    """The compression of a file from its magic bytes (``None`` if uncompressed).

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "no-suffix"
    >>> p.write_bytes(gzip.compress(b"{}"))  # doctest: +ELLIPSIS
    2...
    >>> sniff_compression(p)
    'gzip'
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as err:
        raise InputFileError(f"{path}: cannot be read ({err.strerror or err})") from None
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


_DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".parquet")
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zst")


def _is_data_name(name: str) -> bool:
    lowered = name.lower()
    for suffix in _COMPRESSED_SUFFIXES:
        if lowered.endswith(suffix):
            lowered = lowered[: -len(suffix)]
            break
    return lowered.endswith(_DATA_SUFFIXES)


def expand_inputs(inputs: str | Path | Iterable[str | Path]) -> list[InputFile]:
    """The input files named by paths and folders, in a deterministic order.

    Parameters
    ----------
    inputs
        A path or several; a folder stands for every regular, non-hidden file
        below it (recursively), sorted by path. Explicit files keep the order given.

    Raises
    ------
    InputFileError
        If a path does not exist, or no file is found.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    files: list[InputFile] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and _is_data_name(p.name)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise InputFileError(
                    f"{path}: folder holds no data files (*.json, *.jsonl, *.ndjson, *.csv, *.parquet, "
                    "optionally .gz/.bz2/.zst)"
                )
            files.extend(InputFile(p, sniff_compression(p)) for p in found)
        elif path.is_file():
            files.append(InputFile(path, sniff_compression(path)))
        else:
            raise InputFileError(f"{path}: no such file or folder")
    if not files:
        raise InputFileError("no input files given")
    return files


def open_binary(source: InputFile) -> BinaryIO:
    """A binary stream of the decompressed bytes of a file."""
    try:
        if source.compression == "gzip":
            return gzip.open(source.path, "rb")  # type: ignore[return-value]
        if source.compression == "bzip2":
            return bz2.open(source.path, "rb")  # type: ignore[return-value]
        if source.compression == "zstd":
            import zstandard

            raw = source.path.open("rb")
            return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))  # type: ignore[arg-type]
        return source.path.open("rb")
    except OSError as err:
        raise InputFileError(f"{source.path}: cannot be read ({err.strerror or err})") from None


def read_head(source: InputFile, size: int = 1 << 16) -> bytes:
    """The first ``size`` decompressed bytes of a file."""
    with open_binary(source) as stream:
        try:
            return stream.read(size)
        except (OSError, EOFError, ValueError) as err:
            raise InputFileError(f"{source.path}: cannot be decompressed ({err})") from None


def iter_lines(
    source: InputFile, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, head_bytes: int = 300
) -> Iterator[Line]:
    """The non-blank lines of a file, with their 1-based line numbers.

    Lines holding only ASCII white space are not yielded (they are not rows).
    A line longer than ``max_line_bytes`` is yielded with ``raw=None`` and its
    first ``head_bytes`` bytes, and is never held whole in memory.

    Raises
    ------
    InputFileError
        If the file cannot be read or decompressed (a truncated gzip stream, say).
    """
    number = 0
    pending: list[bytes] = []
    pending_size = 0
    too_long_head: bytes | None = None
    with open_binary(source) as stream:
        while True:
            try:
                block = stream.read(_BLOCK)
            except (OSError, EOFError, ValueError) as err:
                raise InputFileError(
                    f"{source.path}: cannot be decompressed after line {number} ({err})"
                ) from None
            if not block:
                break
            start = 0
            while True:
                end = block.find(b"\n", start)
                if end < 0:
                    piece = block[start:]
                    if too_long_head is None:
                        pending.append(piece)
                        pending_size += len(piece)
                        if pending_size > max_line_bytes:
                            too_long_head = b"".join(pending)[:head_bytes]
                            pending, pending_size = [], 0
                    break
                number += 1
                piece = block[start:end]
                if too_long_head is not None:
                    yield Line(number, None, too_long_head)
                    too_long_head = None
                else:
                    if pending:
                        pending.append(piece)
                        piece = b"".join(pending)
                        pending, pending_size = [], 0
                    if len(piece) > max_line_bytes:
                        yield Line(number, None, piece[:head_bytes])
                    elif piece.strip():
                        yield Line(number, piece, b"")
                start = end + 1
        if too_long_head is not None:
            yield Line(number + 1, None, too_long_head)
        elif pending:
            piece = b"".join(pending)
            if piece.strip():
                yield Line(number + 1, piece, b"")


# The bytes that bytes.strip() removes.
_SPACE_BYTES = np.frombuffer(b" \t\n\r\x0b\x0c", np.uint8)


def count_lines(source: InputFile, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> int:
    """How many lines :func:`iter_lines` yields for a file, without making them.

    The same count (non-blank lines, and every line longer than
    ``max_line_bytes``), worked out block by block with C-level searches
    instead of one Python object per line: the DuckDB lane uses it to check
    that its row positions name the right lines.

    Raises
    ------
    InputFileError
        If the file cannot be read or decompressed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> _ = p.write_bytes(b'{"a": 1}\\n\\n  \\n{"b": 2}')
    >>> count_lines(InputFile(p, None))
    2
    """
    count = 0
    # The line still open at the end of the last block: its length so far, and
    # whether it holds anything but white space.
    open_length, open_content = 0, False
    with open_binary(source) as stream:
        while True:
            try:
                block = stream.read(_BLOCK)
            except (OSError, EOFError, ValueError) as err:
                raise InputFileError(f"{source.path}: cannot be decompressed ({err})") from None
            if not block:
                break
            first = block.find(b"\n")
            if first < 0:
                open_length += len(block)
                open_content = open_content or bool(block.strip())
                continue
            head = block[:first]
            count += open_length + len(head) > max_line_bytes or open_content or bool(head.strip())
            last = block.rfind(b"\n")
            if last > first:
                # The complete lines between the first and the last newline.
                newlines = (
                    np.flatnonzero(np.frombuffer(block, np.uint8, last - first + 1, first) == 10)
                    + first
                )
                starts, ends = newlines[:-1] + 1, newlines[1:]
                # A line can only be blank if it is empty or starts with white
                # space (rare in JSON lines): only those are looked at.
                # (An empty line "starts" with its own newline.)
                maybe = np.flatnonzero(
                    np.isin(np.frombuffer(block, np.uint8)[starts], _SPACE_BYTES)
                )
                blank = sum(
                    not block[starts[i] : ends[i]].strip() and ends[i] - starts[i] <= max_line_bytes
                    for i in maybe.tolist()
                )
                count += len(starts) - int(blank)
            tail = block[last + 1 :]
            open_length, open_content = len(tail), bool(tail.strip())
    return int(count + (open_length > max_line_bytes or open_content))

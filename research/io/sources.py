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
import errno
import gzip
import io
import mmap
import os
import re
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import numpy as np

from research.errors import InputFileError
from research.io.options import DEFAULT_MAX_LINE_BYTES

__all__ = [
    "Archive",
    "InputFile",
    "Inputs",
    "Line",
    "SkippedPath",
    "Stream",
    "count_lines",
    "expand_inputs",
    "iter_lines",
    "long_lines",
    "open_binary",
    "open_inputs",
    "rows_before",
    "sniff_compression",
]

_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd"}
_BLOCK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input file and how its bytes are compressed.

    ``path`` is where the bytes are; ``name`` is what messages, rejects and
    the summary call the file (the same, except for standard input, FIFOs
    and archive members, whose bytes are read from a temporary copy).
    """

    path: Path
    compression: str | None
    name: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", str(self.path))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class SkippedPath:
    """A path met while expanding the inputs and not read, with the reason."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class Line:
    """One non-blank line of a file: its 1-based number and bytes.

    ``raw`` is ``None`` for a line too long to hold (``head`` holds its first
    bytes) and for the undecodable tail of a file (``error`` says why).
    """

    number: int
    raw: bytes | None
    head: bytes
    error: str | None = None


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
_ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.zst", ".tar.xz")
_DATA_NAMES = (
    "*.json, *.jsonl, *.ndjson, *.csv, *.parquet, optionally .gz/.bz2/.zst; *.tar archives"
)


def _is_data_name(name: str) -> bool:
    lowered = name.lower()
    if lowered.endswith(_ARCHIVE_SUFFIXES):
        return True
    for suffix in _COMPRESSED_SUFFIXES:
        if lowered.endswith(suffix):
            lowered = lowered[: -len(suffix)]
            break
    return lowered.endswith(_DATA_SUFFIXES)


@dataclass(frozen=True)
class Stream:
    """Standard input (``-``) or a FIFO: read once, as it comes."""

    path: Path
    name: str


@dataclass(frozen=True)
class Archive:
    """A tar archive (optionally compressed as a whole), read as a folder of its members."""

    source: InputFile


@dataclass
class Inputs:
    """What a run reads, in order, and the paths met but not read (with why)."""

    entries: list[InputFile | Stream | Archive]
    skipped: list[SkippedPath]

    def __len__(self) -> int:
        return len(self.entries)


def _describe(path: Path) -> str | None:
    """What a path that is not a regular file or folder is, for a message (None if it is one)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return "no such file or folder"
    except OSError as err:
        return f"cannot be looked at ({err.strerror or err})"
    if stat.S_ISLNK(mode):
        try:
            path.stat()
        except FileNotFoundError:
            return f"a broken symbolic link (to {os.readlink(path)})"
        except OSError as err:
            if err.errno == errno.ELOOP:
                return "a symbolic link loop"
            return f"a symbolic link that cannot be followed ({err.strerror or err})"
        mode = path.stat().st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _is_tar(source: InputFile) -> bool:
    if source.name.lower().endswith(_ARCHIVE_SUFFIXES):
        return True
    head = read_head(source, 512)
    return len(head) >= 262 and head[257:262] == b"ustar"


def _walk(root: Path, files: list[Path], skipped: list[SkippedPath]) -> None:
    """Data files below a folder, following symbolic links to folders, each folder once."""
    seen: set[tuple[int, int]] = set()

    def visit(folder: Path) -> None:
        try:
            info = folder.stat()
        except OSError as err:
            skipped.append(SkippedPath(str(folder), f"cannot be read ({err.strerror or err})"))
            return
        key = (info.st_dev, info.st_ino)
        if key in seen:
            skipped.append(
                SkippedPath(
                    str(folder), "a folder already read (symbolic link loop or second link)"
                )
            )
            return
        seen.add(key)
        try:
            names = sorted(os.listdir(folder))
        except OSError as err:
            skipped.append(SkippedPath(str(folder), f"cannot be listed ({err.strerror or err})"))
            return
        for name in names:
            path = folder / name
            if name.startswith("."):
                skipped.append(SkippedPath(str(path), "hidden (its name starts with a dot)"))
                continue
            what = _describe(path)
            if what is not None:
                skipped.append(SkippedPath(str(path), what))
            elif path.is_dir():
                visit(path)
            elif _is_data_name(name):
                files.append(path)
            else:
                skipped.append(SkippedPath(str(path), f"not a data file name ({_DATA_NAMES})"))

    visit(root)


def expand_inputs(inputs: str | Path | Iterable[str | Path]) -> Inputs:
    """The inputs named by paths and folders, in a deterministic order.

    Parameters
    ----------
    inputs
        A path or several. A folder stands for the data files below it
        (recursively, following symbolic links to folders, each folder once),
        in sorted order; every other path met there is listed as skipped with
        the reason. ``-`` is standard input and a FIFO is read as a stream.
        A tar archive stands for its members. Explicit files keep the order given.

    Raises
    ------
    InputFileError
        If a named path does not exist or cannot be read (the message says
        what the path is: a broken link, a link loop, a socket...), or no
        file is found.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    entries: list[InputFile | Stream | Archive] = []
    skipped: list[SkippedPath] = []
    for item in inputs:
        if str(item) == "-":
            entries.append(Stream(Path("/dev/stdin"), "-"))
            continue
        path = Path(item)
        what = _describe(path)
        if what == "a FIFO (named pipe)" or (what == "a device" and str(path).startswith("/dev/")):
            entries.append(Stream(path, str(path)))
            continue
        if what is not None:
            raise InputFileError(f"{path}: {what}")
        if path.is_dir():
            found: list[Path] = []
            _walk(path, found, skipped)
            if not found:
                raise InputFileError(f"{path}: folder holds no data files ({_DATA_NAMES})")
            for file in found:
                entries.append(_entry(file))
        else:
            entries.append(_entry(path))
    if not entries:
        raise InputFileError("no input files given")
    return Inputs(entries, skipped)


def _entry(path: Path) -> InputFile | Archive:
    source = InputFile(path, sniff_compression(path))
    return Archive(source) if _is_tar(source) else source


def _spool(stream: IO[bytes], folder: Path, name: str) -> tuple[Path, str | None]:
    """Copy a stream to a temporary file (readers open files more than once); the error, if any."""
    target = folder / f"{len(os.listdir(folder))}.data"
    error = None
    with target.open("wb") as out:
        while True:
            try:
                block = stream.read(_BLOCK)
            except (OSError, EOFError, ValueError, tarfile.TarError, zlib.error) as err:
                error = f"{name}: the input stops early ({err})"
                break
            if not block:
                break
            out.write(block)
    return target, error


def open_inputs(inputs: Inputs) -> Iterator[InputFile | SkippedPath]:
    """The files to read, one at a time: streams and archive members as temporary copies.

    A copy is deleted when the next file is asked for. Archive members that
    are not data files are yielded as :class:`SkippedPath`; an archive that
    stops early ends with its last member cut short (its tail is rejected by
    the reader) and a skipped entry saying so.
    """
    with tempfile.TemporaryDirectory(prefix="hijack-clusters-") as work:
        folder = Path(work)
        for entry in inputs.entries:
            if isinstance(entry, InputFile):
                yield entry
            elif isinstance(entry, Stream):
                try:
                    with open(entry.path, "rb") as stream:
                        copy, error = _spool(stream, folder, entry.name)
                except OSError as err:
                    raise InputFileError(
                        f"{entry.name}: cannot be read ({err.strerror or err})"
                    ) from None
                yield InputFile(
                    copy, sniff_compression(copy), entry.name, (error,) if error else ()
                )
                copy.unlink()
            else:
                yield from _members(entry.source, folder)


def _members(archive: InputFile, folder: Path) -> Iterator[InputFile | SkippedPath]:
    with open_binary(archive) as raw:
        try:
            tar = tarfile.open(fileobj=raw, mode="r|")
        except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
            yield SkippedPath(archive.name, f"not a readable tar archive ({err})")
            return
        with tar:
            while True:
                try:
                    member = tar.next()
                except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
                    yield SkippedPath(archive.name, f"the archive cannot be read further ({err})")
                    return
                if member is None:
                    return
                name = f"{archive.name}/{member.name}"
                if member.isdir():
                    continue
                base = member.name.rsplit("/", 1)[-1]
                if not member.isfile():
                    yield SkippedPath(name, "an archive member that is not a regular file")
                elif base.startswith(".") or any(
                    p.startswith(".") for p in member.name.split("/")[:-1]
                ):
                    yield SkippedPath(name, "hidden (its name starts with a dot)")
                elif not _is_data_name(base) or base.lower().endswith(_ARCHIVE_SUFFIXES):
                    yield SkippedPath(name, f"not a data file name ({_DATA_NAMES})")
                else:
                    stream = tar.extractfile(member)
                    assert stream is not None
                    copy, error = _spool(stream, folder, name)
                    yield InputFile(copy, sniff_compression(copy), name, (error,) if error else ())
                    copy.unlink()
                    if error is not None:
                        yield SkippedPath(archive.name, "the rest of the archive cannot be read")
                        return


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
        raise InputFileError(f"{source.name}: cannot be read ({err.strerror or err})") from None


def read_head(source: InputFile, size: int = 1 << 16) -> bytes:
    """The first ``size`` decompressed bytes of a file (fewer if it stops decompressing)."""
    pieces: list[bytes] = []
    got = 0
    with open_binary(source) as stream:
        while got < size:
            try:
                piece = stream.read(min(size - got, 1 << 12))
            except (OSError, EOFError, ValueError, zlib.error):
                break
            if not piece:
                break
            pieces.append(piece)
            got += len(piece)
    return b"".join(pieces)


_STREAM_ERRORS = (OSError, EOFError, ValueError, zlib.error)


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    """Blocks of about :data:`_BLOCK` bytes; what decompressed before an error comes first.

    The error (a truncated stream) is raised after the bytes read before it
    were handed out: ``read(n)`` would lose them with it.
    """
    read = getattr(stream, "read1", stream.read)
    pieces: list[bytes] = []
    size = 0
    while True:
        try:
            piece = read(_BLOCK)
        except _STREAM_ERRORS:
            if pieces:
                yield b"".join(pieces)
            raise
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
        if size >= _BLOCK:
            yield b"".join(pieces)
            pieces, size = [], 0
    if pieces:
        yield b"".join(pieces)


_NOT_SPACE = re.compile(rb"[^ \t\n\r\x0b\x0c]")


def iter_lines(
    source: InputFile, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, head_bytes: int = 300
) -> Iterator[Line]:
    """The non-blank lines of a file, with their 1-based line numbers.

    Lines holding only ASCII white space are not yielded (they are not rows),
    however long; runs of them are passed over in bulk (a file of a billion
    newlines takes seconds, not minutes). A line's bytes (``raw``, or
    ``head``) start at its first byte that is not white space, wherever the
    reading blocks happen to end; its length, which ``max_line_bytes``
    bounds, counts every byte between its newlines. A longer line is yielded
    with ``raw=None`` and its first ``head_bytes`` bytes, and is never held
    whole in memory. If the bytes stop decompressing (a truncated gzip
    stream, say), one last line is yielded with ``raw=None``, the bytes of
    the unfinished line as ``head`` and the error in ``error``: what could
    be decompressed before it is read as usual.
    """
    number = 0
    pending: list[bytes] = []
    pending_size = 0
    # White space that opened the current line in an earlier block (counted, not kept).
    carried = 0
    too_long_head: bytes | None = None
    with open_binary(source) as stream:
        blocks = _blocks(stream)
        while True:
            try:
                block = next(blocks, b"")
            except _STREAM_ERRORS as err:
                head = too_long_head if too_long_head is not None else b"".join(pending)
                yield Line(
                    number + 1,
                    None,
                    head.lstrip()[:head_bytes],
                    error=f"cannot be decompressed after line {number} ({err})",
                )
                return
            if not block:
                break
            start = 0
            while True:
                if not pending and too_long_head is None:
                    # Pass over blank lines in bulk: find the next byte that is not white space.
                    found = _NOT_SPACE.search(block, start)
                    stop = found.start() if found else len(block)
                    newlines = block.count(b"\n", start, stop)
                    if newlines:
                        number += newlines
                        carried = 0
                        start = block.rfind(b"\n", start, stop) + 1
                    if found is None:
                        carried += len(block) - start
                        break
                end = block.find(b"\n", start)
                if end < 0:
                    piece = block[start:]
                    if too_long_head is None:
                        pending.append(piece)
                        pending_size += len(piece)
                        if pending_size + carried > max_line_bytes:
                            too_long_head = b"".join(pending).lstrip()[:head_bytes]
                            pending, pending_size = [], 0
                    elif len(too_long_head) < head_bytes:
                        too_long_head = (too_long_head + piece).lstrip()[:head_bytes]
                    break
                number += 1
                piece = block[start:end]
                if too_long_head is not None:
                    if len(too_long_head) < head_bytes:
                        too_long_head = (too_long_head + piece).lstrip()[:head_bytes]
                    yield Line(number, None, too_long_head)
                    too_long_head = None
                else:
                    if pending:
                        pending.append(piece)
                        piece = b"".join(pending)
                        pending, pending_size = [], 0
                    if piece.strip():
                        if len(piece) + carried > max_line_bytes:
                            yield Line(number, None, piece.lstrip()[:head_bytes])
                        else:
                            yield Line(number, piece.lstrip(), b"")
                carried = 0
                start = end + 1
        if too_long_head is not None:
            yield Line(number + 1, None, too_long_head)
        elif pending:
            piece = b"".join(pending)
            if piece.strip():
                if len(piece) + carried > max_line_bytes:
                    yield Line(number + 1, None, piece.lstrip()[:head_bytes])
                else:
                    yield Line(number + 1, piece.lstrip(), b"")


# The bytes that bytes.strip() removes.
_SPACE_BYTES = np.frombuffer(b" \t\n\r\x0b\x0c", np.uint8)


class _RowCounter:
    """Counts the lines :func:`iter_lines` yields, block by block, with array operations."""

    def __init__(self) -> None:
        self.count = 0
        # Whether the line still open at the end of the last block holds anything but white space.
        self.open_content = False

    def feed(self, block: bytes) -> None:
        """Count the lines a block closes (the last one may go on in the next block)."""
        data = np.frombuffer(block, np.uint8)
        newlines = np.flatnonzero(data == 10)
        if not len(newlines):
            self.open_content = self.open_content or _NOT_SPACE.search(block) is not None
            return
        if len(newlines) * 64 > len(block):
            # Mostly short (often blank) lines: walk from one line with content to the next.
            position, first = 0, int(newlines[0])
            while (found := _NOT_SPACE.search(block, position)) is not None:
                end = block.find(b"\n", found.start())
                if end < 0:
                    break
                self.count += not (end == first and self.open_content)
                position = end + 1
            self.count += self.open_content
            self.open_content = found is not None
            return
        starts = np.concatenate([[0], newlines[:-1] + 1])
        # Only lines that start with white space (or are empty) can be blank.
        maybe = (newlines == starts) | np.isin(
            data[np.minimum(starts, len(data) - 1)], _SPACE_BYTES
        )
        content = np.ones(len(starts), dtype=bool)
        if maybe.any():
            before = np.zeros(len(data) + 1, dtype=np.int64)
            np.cumsum(~np.isin(data, _SPACE_BYTES), out=before[1:])
            content = before[newlines] - before[starts] > 0
        content[0] |= self.open_content
        self.count += int(np.count_nonzero(content))
        self.open_content = _NOT_SPACE.search(block, int(newlines[-1]) + 1) is not None

    def total(self) -> int:
        """The lines so far, the open one included."""
        return int(self.count + self.open_content)


def count_lines(source: InputFile, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> int:
    """How many lines :func:`iter_lines` yields for a file, without making them.

    The same count (lines holding anything but white space, and an
    undecodable tail as one), worked out block by
    block with array operations instead of one Python object per line: the
    DuckDB lane uses it to check that its row positions name the right lines.

    Raises
    ------
    InputFileError
        If the file cannot be opened.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> _ = p.write_bytes(b'{"a": 1}\\n\\n  \\n{"b": 2}')
    >>> count_lines(InputFile(p, None))
    2
    """
    counter = _RowCounter()
    with open_binary(source) as stream:
        blocks = _blocks(stream)
        while True:
            try:
                block = next(blocks, b"")
            except _STREAM_ERRORS:
                return counter.count + 1  # the undecodable tail is one row
            if not block:
                break
            counter.feed(block)
    return counter.total()


def long_lines(path: Path, max_line_bytes: int) -> list[int]:
    """Where the lines longer than ``max_line_bytes`` start, in an uncompressed file.

    Only lines :func:`iter_lines` yields (holding anything but white space)
    are counted. The file is probed every ``max_line_bytes // 2`` bytes (a
    longer line covers a probe): a few bounded searches per probe, not a
    pass over the file. The DuckDB lane uses it because DuckDB reads lines
    longer than its ``maximum_object_size``, up to twice that, depending on
    where they fall in its buffers.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> _ = p.write_bytes(b'{"a": 1}\\n' + b"x" * 50 + b"\\n" + b" " * 50 + b"\\n{}")
    >>> long_lines(p, 20)
    [9]
    """
    size = path.stat().st_size
    if size <= max_line_bytes:
        return []
    step = max(max_line_bytes // 2, 1)
    starts: list[int] = []
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        probe = step
        while probe < size:
            start = data.rfind(b"\n", 0, probe) + 1
            end = data.find(b"\n", probe)
            if end < 0:
                end = size
            if end - start > max_line_bytes and _NOT_SPACE.search(data, start, end) is not None:  # type: ignore[call-overload]
                starts.append(start)
            probe = max(probe + step, end + 1)
    return starts


def rows_before(path: Path, offsets: list[int]) -> list[int]:
    """How many lines :func:`iter_lines` yields before each line start (uncompressed, sorted)."""
    counter = _RowCounter()
    rows: list[int] = []
    position = 0
    with path.open("rb") as handle:
        for offset in offsets:
            while position < offset:
                block = handle.read(min(_BLOCK, offset - position))
                if not block:
                    break
                counter.feed(block)
                position += len(block)
            rows.append(counter.total())
    return rows

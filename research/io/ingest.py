"""Reading exports into the posts table: to Parquet on disk (:func:`ingest`) or to memory (:func:`read`).

Both run the same code: each file's format is detected (or given), its
reader yields raw batches of at most ``chunk_rows`` rows, :func:`~research.io.assemble.assemble`
canonicalises them, repeated post ids are skipped (``duplicate_post_id``,
the first one read is kept), account ids and names are pseudonymised when a
key is given, and the batch goes to its sink. Memory stays bounded by the
chunk size, except for the set of post ids seen, which costs 8 bytes per post.

What :func:`ingest` writes in ``out_dir``:

``posts.parquet``
    The posts table (schema v1), written row group by row group.
``rejects.jsonl``
    One JSON object per rejected row: ``file``, ``line`` (JSON formats) or
    ``record`` (CSV, 1-based, header excluded), ``item`` (index inside a
    page), ``reason``, ``detail``, ``snippet`` (the first 300 characters).
``summary.json``
    Counts per file and in total (they reconcile: ``rows_read == rows_written
    + sum(rejected) + sum(skipped)``), formats detected, engine, elapsed time, rows/s.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from research.errors import ConfigError, InputFileError
from research.io.accounting import FileLog, Reject
from research.io.assemble import assemble
from research.io.formats import detect_format, reader_for
from research.io.options import ReadOptions
from research.io.pseudonymise import key_id, pseudonymise
from research.io.sources import InputFile, SkippedPath, expand_inputs, iter_lines, open_inputs
from research.posts import POSTS_SCHEMA, SCHEMA_VERSION, Posts

__all__ = ["IngestSummary", "ingest", "read"]

_KEPT_REJECTS = 1000


@dataclass
class IngestSummary:
    """What an ingest read, wrote, rejected and skipped, file by file.

    ``rejects`` holds the first 1000 reject records (all of them are in
    ``rejects.jsonl`` when written by :func:`ingest`).
    """

    files: list[FileLog] = field(default_factory=list)
    elapsed_s: float = 0.0
    pseudonymised: bool = False
    key_id: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    skipped_paths: list[SkippedPath] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_written(self) -> int:
        return sum(f.rows_written for f in self.files)

    @property
    def rejected(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.rejected)
        return dict(sorted(total.items()))

    @property
    def skipped(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.skipped)
        return dict(sorted(total.items()))

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def reconciles(self) -> bool:
        """Whether every row read was written, rejected or skipped, in every file."""
        return all(f.reconciles() for f in self.files) and self.rows_read == (
            self.rows_written + sum(self.rejected.values()) + sum(self.skipped.values())
        )

    def unreadable(self) -> list[str]:
        """Files that gave rows but no post, every row rejected for one same reason: one line each.

        Such a file is almost surely read the wrong way (a column of another
        kind, another time format), not full of bad rows: the command line
        says so and exits non-zero.
        """
        found = []
        for f in self.files:
            if f.rows_read and not f.rows_written and not f.skipped and len(f.rejected) == 1:
                (reason,) = f.rejected
                found.append(
                    f"{f.file}: none of its {f.rows_read} rows could be read; every one was "
                    f"rejected as {reason}"
                )
        return found

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "schema_version": SCHEMA_VERSION,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "reconciles": self.reconciles(),
            "elapsed_s": round(self.elapsed_s, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "pseudonymised": self.pseudonymised,
            "pseudonym_key_id": self.key_id,
            "files": [f.to_dict() for f in self.files],
            "skipped_paths": [p.to_dict() for p in self.skipped_paths],
            "outputs": dict(self.outputs),
        }


class _SeenPostIds:
    """Post ids seen so far, as sorted 64-bit keys.

    Decimal ids that fit a signed 64-bit integer without a leading zero (tweet and
    toot ids, 19 digits today) are their own key, vectorised; any other id is a
    63-bit hash, kept negative so that it never meets a numeric id.

    Examples
    --------
    >>> seen = _SeenPostIds()
    >>> seen.keep_first(pa.array(["1234567890123456789", "123", "0123", "9223372036854775808"])).tolist()
    [True, True, True, True]
    >>> seen.keep_first(pa.array(["1234567890123456789", "0123", "9223372036854775808", "x"])).tolist()
    [False, False, False, True]
    """

    #: The largest id that is its own key (int64's maximum; equal-length digit strings
    #: compare as their numbers).
    _MAX = "9223372036854775807"

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.int64)

    @classmethod
    def _keys(cls, ids: pa.Array) -> np.ndarray:
        length = pc.binary_length(ids)
        fits = pc.or_(
            pc.less_equal(length, len(cls._MAX) - 1),
            pc.and_(pc.equal(length, len(cls._MAX)), pc.less_equal(ids, cls._MAX)),
        )
        canonical = pc.or_(
            pc.invert(pc.starts_with(ids, "0")), pc.equal(length, 1)
        )  # "0123" is not "123"
        numeric = pc.fill_null(pc.and_(pc.and_(pc.ascii_is_decimal(ids), fits), canonical), False)
        mask = np.asarray(numeric.to_numpy(zero_copy_only=False), dtype=bool)
        keys = np.empty(len(ids), dtype=np.int64)
        if mask.any():
            keys[mask] = np.asarray(
                pc.cast(ids.filter(numeric), pa.int64()).to_numpy(), dtype=np.int64
            )
        if not mask.all():
            others = ids.filter(pc.invert(numeric)).to_pylist()
            keys[~mask] = [
                -1
                - (
                    int.from_bytes(
                        hashlib.blake2b(str(v).encode(), digest_size=8).digest(), "little"
                    )
                    >> 1
                )
                for v in others
            ]
        return keys

    def keep_first(self, ids: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """A mask of ids neither seen before nor repeated earlier in this batch; records them."""
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        keys = self._keys(ids)
        _, first = np.unique(keys, return_index=True)
        keep = np.zeros(len(keys), dtype=bool)
        keep[first] = True
        if len(self.keys):
            pos = np.searchsorted(self.keys, keys)
            pos_clipped = np.minimum(pos, len(self.keys) - 1)
            keep &= self.keys[pos_clipped] != keys
        new = np.sort(keys[keep])
        self.keys = np.insert(self.keys, np.searchsorted(self.keys, new), new)
        return keep


def _pseudonymised(table: pa.Table, key: bytes) -> pa.Table:
    table = table.set_column(
        table.schema.get_field_index("account_id"),
        POSTS_SCHEMA.field("account_id"),
        pseudonymise(table.column("account_id"), key, kind="account"),
    )
    return table.set_column(
        table.schema.get_field_index("account_name"),
        POSTS_SCHEMA.field("account_name"),
        pseudonymise(table.column("account_name"), key, kind="name"),
    )


class _BackgroundWriter:
    """Writes tables to a Parquet file from a helper thread (Parquet encoding releases the GIL)."""

    def __init__(self, path: Path, depth: int = 2) -> None:
        self.writer = pq.ParquetWriter(
            path,
            POSTS_SCHEMA,
            compression="zstd",
            use_dictionary=[
                "account_id",
                "account_name",
                "app_name",
                "app_url",
                "platform",
                "domains",
            ],
            write_statistics=["timestamp"],
        )
        self.queue: Queue[pa.Table | None] = Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="parquet-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            table = self.queue.get()
            if table is None:
                return
            if self.error is None:
                try:
                    self.writer.write_table(table.replace_schema_metadata(POSTS_SCHEMA.metadata))
                except BaseException as err:  # re-raised by the caller's thread
                    self.error = err

    def write(self, table: pa.Table) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(table)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.writer.close()
        if self.error is not None:
            raise self.error


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for the duration (it is restored afterwards).

    The ingest loop makes no reference cycles (its tables and arrays are freed
    by reference counting), but the objects it creates in passing (per-batch
    Python lists, tldextract's suffix trie of ~17,000 nodes) trigger full
    collections that walk every object of the interpreter: ~0.25 CPU-s per
    250,000 posts, about a tenth of the ingest, for nothing to collect.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _empty_or_undecodable(source: InputFile, log: FileLog) -> None:
    """A file with no content, or whose compressed bytes decode to nothing: note or reject it."""
    for line in iter_lines(source):
        if line.error is not None:
            log.read()
            log.reject("undecodable", raw=line.head, line=line.number, detail=line.error)
            return
    log.notes.append("empty file")


def _run(
    inputs: str | Path | Iterable[str | Path],
    sink: Callable[[pa.Table], None],
    on_reject: Callable[[Reject], None],
    *,
    pseudonymise_key: bytes | None,
    options: ReadOptions,
    progress: bool,
) -> IngestSummary:
    if pseudonymise_key is not None and len(pseudonymise_key) == 0:
        raise ConfigError("the pseudonymisation key is empty")
    inputs_found = expand_inputs(inputs)
    summary = IngestSummary(pseudonymised=pseudonymise_key is not None)
    summary.skipped_paths.extend(inputs_found.skipped)
    if pseudonymise_key is not None:
        summary.key_id = key_id(pseudonymise_key)

    def keep_reject(reject: Reject) -> None:
        if len(summary.rejects) < _KEPT_REJECTS:
            summary.rejects.append(reject)
        on_reject(reject)

    from tqdm import tqdm  # text bars everywhere: tqdm.auto needs ipywidgets in Jupyter

    seen = _SeenPostIds()
    start = time.perf_counter()
    with (
        _cyclic_gc_paused(),
        tqdm(desc="ingest", unit=" rows", unit_scale=True, disable=not progress, leave=True) as bar,
    ):
        for source in open_inputs(inputs_found):
            if isinstance(source, SkippedPath):
                summary.skipped_paths.append(source)
                continue
            fmt = options.format or detect_format(source)
            log = FileLog(source.name, fmt, source.compression, on_reject=keep_reject)
            log.notes.extend(source.notes)
            summary.files.append(log)
            if fmt == "empty":
                _empty_or_undecodable(source, log)
                continue
            read = reader_for(fmt)
            before = log.rows_read
            for raw in read(source, log, options):
                table = assemble(raw)
                keep = seen.keep_first(table.column("post_id"))
                if not keep.all():
                    log.skip("duplicate_post_id", int((~keep).sum()))
                    table = table.filter(pa.array(keep))
                if pseudonymise_key is not None:
                    table = _pseudonymised(table, pseudonymise_key)
                if table.num_rows:
                    sink(table)
                    log.rows_written += table.num_rows
                bar.update(log.rows_read - before)
                before = log.rows_read
            bar.update(log.rows_read - before)
    summary.elapsed_s = time.perf_counter() - start
    return summary


def read(
    inputs: str | Path | Iterable[str | Path],
    options: ReadOptions | None = None,
    *,
    pseudonymise_key: bytes | None = None,
    progress: bool = False,
    on_reject: Callable[[Reject], None] | None = None,
) -> tuple[Posts, IngestSummary]:
    """Read exports into an in-memory posts table.

    The same code path as :func:`ingest`, with the posts kept in memory
    instead of written; rejects are in ``summary.rejects`` (the first 1000)
    and counted in ``summary.rejected``.

    Parameters
    ----------
    inputs
        Files and folders (folders are read recursively, in sorted order).
    options
        Format, engine, chunk size... (:class:`~research.io.options.ReadOptions`;
        default: every format detected, the default engine).
    pseudonymise_key
        Replace account ids and names by keyed pseudonyms (see
        :mod:`research.io.pseudonymise`).
    progress
        Show a progress bar.
    on_reject
        Called with every rejected row as it is found (``summary.rejects`` keeps the
        first 1000 only), e.g. to write them all as :func:`ingest` does.

    Returns
    -------
    posts : Posts
        The posts read, in file order.
    summary : IngestSummary
        Counts per file; ``summary.reconciles()`` is True.

    Raises
    ------
    InputFileError
        For missing files, an undetectable format or undecodable compression.
    SchemaError
        For tabular input without the needed columns.
    ConfigError
        For an empty key.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tweets.jsonl"
    >>> _ = path.write_text(
    ...     '{"id_str": "1", "created_at": "Wed Oct 10 20:19:24 +0000 2018", '
    ...     '"user": {"id_str": "7", "screen_name": "bob"}, "text": "hi", '
    ...     '"source": "<a href=\\\\"http://weheartit.com\\\\">We Heart It</a>", '
    ...     '"entities": {"urls": [{"expanded_url": "https://www.example.com/?utm_source=x"}]}}\\n'
    ...     '{"delete": {"status": {"id_str": "2"}}}\\n'
    ...     '{broken\\n')
    >>> posts, summary = read(path)
    >>> posts.table.column("urls").to_pylist(), posts.table.column("app_name").to_pylist()
    ([['https://example.com/']], ['We Heart It'])
    >>> summary.rows_read, summary.rows_written, summary.rejected, summary.skipped
    (3, 1, {'invalid_json': 1}, {'delete': 1})
    """
    tables: list[pa.Table] = []
    summary = _run(
        inputs,
        tables.append,
        on_reject or (lambda reject: None),
        pseudonymise_key=pseudonymise_key,
        options=options or ReadOptions(),
        progress=progress,
    )
    table = pa.concat_tables(tables) if tables else POSTS_SCHEMA.empty_table()
    return Posts(table.replace_schema_metadata(POSTS_SCHEMA.metadata)), summary


def ingest(
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    options: ReadOptions | None = None,
    *,
    pseudonymise_key: bytes | None = None,
    progress: bool = True,
) -> IngestSummary:
    """Read exports into ``out_dir/posts.parquet``, with ``rejects.jsonl`` and ``summary.json``.

    Posts are written in row groups of at most ``chunk_rows`` as they are
    read, so memory does not grow with the length of the input. Outputs are
    written under temporary names and renamed when the run succeeds.

    Parameters
    ----------
    inputs
        Files and folders (folders are read recursively, in sorted order).
    out_dir
        The folder to write (created if needed).
    options, pseudonymise_key
        As for :func:`read`.
    progress
        Show a progress bar (rows read, rows/s).

    Returns
    -------
    IngestSummary
        What was read, written, rejected and skipped.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "in.jsonl").write_text(
    ...     '{"id_str": "1", "created_at": "Wed Oct 10 20:19:24 +0000 2018", '
    ...     '"user": {"id_str": "7"}, "text": "hi"}\\n')
    >>> summary = ingest(folder / "in.jsonl", folder / "out", progress=False)
    >>> sorted(p.name for p in (folder / "out").iterdir())
    ['posts.parquet', 'rejects.jsonl', 'summary.json']
    >>> summary.rows_written
    1
    """
    options = options or ReadOptions()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputFileError(f"{out}: cannot create the output folder ({err.strerror})") from None
    posts_path, rejects_path, summary_path = (
        out / "posts.parquet",
        out / "rejects.jsonl",
        out / "summary.json",
    )
    posts_tmp, rejects_tmp = out / ".posts.parquet.partial", out / ".rejects.jsonl.partial"
    writer = _BackgroundWriter(posts_tmp)
    try:
        with rejects_tmp.open("wb") as rejects:

            def write_reject(reject: Reject) -> None:
                rejects.write(orjson.dumps(reject.to_dict()) + b"\n")

            summary = _run(
                inputs,
                writer.write,
                write_reject,
                pseudonymise_key=pseudonymise_key,
                options=options,
                progress=progress,
            )
    except BaseException:
        try:
            writer.close()
        except BaseException:  # the first error is the one to report
            pass
        for path in (posts_tmp, rejects_tmp):
            path.unlink(missing_ok=True)
        raise
    writer.close()
    os.replace(posts_tmp, posts_path)
    os.replace(rejects_tmp, rejects_path)
    summary.outputs = {
        "posts": str(posts_path),
        "rejects": str(rejects_path),
        "summary": str(summary_path),
    }
    summary_path.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    return summary

"""Reading a posts Parquet dataset straight into :class:`~research.graph.events.Events`.

The method needs five columns of the posts table to build its graph (account,
time, app, URLs, domains) and the texts of a few thousand posts for its
evidence. :func:`read_events` reads only those five columns and encodes them;
the texts stay on disk behind a :class:`ParquetColumn` that reads the row
groups holding the posts asked for. At 10^7 posts this reads about a fifth of
the bytes of the whole table and holds no text in memory.

Texts repeat: a platform's apps post the same words again and again (10^7
simulated posts hold 80,665 distinct texts). Once the other columns are read
and encoded, :meth:`ParquetColumn.prefetch` reads the text column once on a
second thread into one integer code per row and the distinct texts (44 MB at
10^7 posts, against 560 MB for the column), giving up once the distinct texts
pass a budget (mostly distinct texts: the column stays on disk, as before).
Held codes serve every ``take`` and ``index_in`` without reading: the method's
two passes over the texts (text sites, then their verbatim copies) become one,
off the main thread. The values returned are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from research.errors import InputFileError, SchemaError
from research.graph.events import (
    Events,
    encode_columns,
    encode_table,
    release_arrow_memory,
    with_texts,
)
from research.posts import _SCHEMA_KEY, POSTS_SCHEMA, SCHEMA_VERSION, read_posts

#: The most bytes of distinct texts :meth:`ParquetColumn.prefetch` holds (per row group's
#: distinct values, summed); past it the column stays on disk. 10^7 simulated posts need 45 MB.
TEXT_CODES_MAX_BYTES = 128 * 2**20


def dataset_parts(path: str | Path) -> list[Path]:
    """The Parquet files of a dataset: the file itself, or a directory's ``*.parquet`` in name order
    (the order :func:`research.posts.read_posts` concatenates them in)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file or directory")
    if path.is_dir():
        parts = sorted(path.glob("*.parquet"))
        if not parts:
            raise InputFileError(f"{path}: directory holds no *.parquet files")
        return parts
    return [path]


@dataclass(frozen=True)
class ParquetColumn:
    """One column of a Parquet dataset, read only where it is taken.

    ``take(rows)`` reads the row groups that hold ``rows`` (global row numbers,
    in the order of :func:`dataset_parts`) and returns the values in the order
    asked, like :meth:`pyarrow.Array.take`. A pass over every row group
    (:meth:`index_in`) can keep the values of some rows on the way: a later
    ``take`` of kept rows only reads nothing.

    Examples
    --------
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> path = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pq.write_table(pa.table({"text": ["a", "b", "c", "d"]}), path, row_group_size=2)
    >>> column = ParquetColumn.open(path, "text")
    >>> column.take(pa.array([3, 0, 3])).to_pylist()
    ['d', 'a', 'd']
    >>> column.index_in(pa.array(["c"]), keep=np.array([1, 3])).tolist()
    [-1, -1, 0, -1]
    >>> column.take(np.array([3, 1])).to_pylist()  # kept: no row group is read
    ['d', 'b']
    >>> held = ParquetColumn.open(path, "text").prefetch()  # codes read on a second thread
    >>> held.holds_codes(), held.take(np.array([3, 0])).to_pylist()
    (True, ['d', 'a'])
    """

    parts: tuple[Path, ...]
    name: str
    starts: np.ndarray  # first global row of each (part, row group), and the total row count last
    groups: tuple[tuple[int, int], ...]  # (part index, row group index) of each start
    #: The rows kept by :meth:`index_in` (sorted) and their values.
    _kept: dict = field(default_factory=dict, repr=False, compare=False)
    #: The prefetch's future (:meth:`prefetch`): the codes, or ``None`` (over the budget).
    _prefetched: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def open(cls, path: str | Path, name: str) -> ParquetColumn:
        """The column ``name`` of the dataset at ``path`` (nothing is read yet but metadata)."""
        parts = dataset_parts(path)
        starts, groups, total = [], [], 0
        for p, part in enumerate(parts):
            meta = pq.ParquetFile(part).metadata
            for g in range(meta.num_row_groups):
                starts.append(total)
                groups.append((p, g))
                total += meta.row_group(g).num_rows
        return cls(tuple(parts), name, np.asarray([*starts, total], dtype=np.int64), tuple(groups))

    def __len__(self) -> int:
        return int(self.starts[-1])

    def prefetch(self, max_bytes: int = TEXT_CODES_MAX_BYTES) -> ParquetColumn:
        """Start reading the whole column on a second thread into codes (:func:`_read_codes`)
        and return the column. Every later :meth:`take` and :meth:`index_in` waits for that
        read to end, then serves from the codes (or, over ``max_bytes``, reads as without a
        prefetch): the values never depend on the thread's timing. pyarrow releases the GIL
        while it decompresses and hashes, so the read overlaps the caller's own work."""
        if "future" not in self._prefetched:
            pool = ThreadPoolExecutor(1, thread_name_prefix="texts")
            self._prefetched["future"] = pool.submit(_read_codes, self, max_bytes)
            pool.shutdown(wait=False)
        return self

    def holds_codes(self) -> bool:
        """Whether the column is held as codes (prefetched within the budget; waits for the
        prefetch): then :meth:`take` and :meth:`index_in` read nothing."""
        return self._codes() is not None

    def _codes(self) -> _TextCodes | None:
        future: Future | None = self._prefetched.get("future")
        return None if future is None else future.result()

    def take(self, rows: pa.Array | np.ndarray) -> pa.Array:
        """Values at the given global rows."""
        rows = np.asarray(
            rows.to_numpy(zero_copy_only=False) if isinstance(rows, pa.Array) else rows,
            dtype=np.int64,
        )
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"{self.name}: row out of range 0..{len(self) - 1}")
        held = self._codes()
        if held is not None:
            codes = held.codes[rows]
            return held.values.take(pa.array(codes, mask=codes < 0))
        kept_rows = self._kept.get("rows", np.zeros(0, dtype=np.int64))
        if len(kept_rows) and len(rows):
            at = np.minimum(np.searchsorted(kept_rows, rows), len(kept_rows) - 1)
            if np.array_equal(kept_rows[at], rows):
                return self._kept["values"].take(pa.array(at))
        group = np.searchsorted(self.starts, rows, side="right") - 1
        order = np.argsort(group, kind="stable")
        pieces = []
        for g, values in self._row_groups(np.unique(group).tolist()):
            local = rows[order][group[order] == g] - self.starts[g]
            pieces.append(values.take(pa.array(local)).combine_chunks())
        if not pieces:
            return pa.array([], _column_type(self))
        gathered = pa.concat_arrays(pieces)
        back = np.empty(len(rows), dtype=np.int64)
        back[order] = np.arange(len(rows))
        out = gathered.take(pa.array(back))
        del gathered, pieces, values
        release_arrow_memory()  # the row groups read whole for a few of their rows
        return out

    def index_in(self, values: pa.Array, *, keep: np.ndarray | None = None) -> np.ndarray:
        """For every row: the position of its value in ``values`` (``-1``: none), as
        :func:`pyarrow.compute.index_in`, one row group in memory at a time.

        The values of the rows ``keep`` (global rows) are kept on the way, replacing those
        kept before: :meth:`take` serves a request for kept rows only without reading. At
        10^7 posts the method's last pass over the text column (the templating sample, a
        few thousand posts of the candidate sites) is served from the 0.29 M rows (16 MB) the
        verbatim look-up keeps (:func:`research.graph.events._verbatim_posts`)."""
        held = self._codes()
        if held is not None:
            # Each distinct text is looked up once; a null row finds what a null value finds.
            position = pc.fill_null(pc.index_in(held.values, value_set=values), -1)
            of_null = pc.fill_null(pc.index_in(pa.nulls(1, values.type), value_set=values), -1)
            lookup = np.append(position.to_numpy(zero_copy_only=False), of_null.to_numpy())
            return lookup.astype(np.int32)[held.codes]
        out = np.full(len(self), -1, dtype=np.int32)
        rows = np.unique(np.asarray([] if keep is None else keep, dtype=np.int64))
        bounds = np.searchsorted(rows, self.starts)
        kept = []
        for g, column in self._row_groups(range(len(self.groups))):
            found = pc.fill_null(pc.index_in(column, value_set=values), -1)
            out[self.starts[g] : self.starts[g + 1]] = found.to_numpy()
            if keep is not None:
                local = rows[bounds[g] : bounds[g + 1]] - self.starts[g]
                kept.append(column.take(pa.array(local)).combine_chunks())
            del column, found
        if kept:
            self._kept.update(rows=rows, values=pa.concat_arrays(kept))
        release_arrow_memory()
        return out

    def _row_groups(self, indices: Iterable[int]) -> Iterator[tuple[int, pa.ChunkedArray]]:
        """The column of each row group asked for (indices into ``groups``), one at a time, in
        the order asked (each file opened once)."""
        files: dict[int, pq.ParquetFile] = {}
        for g in indices:
            part, row_group = self.groups[g]
            if part not in files:
                files[part] = pq.ParquetFile(self.parts[part])
            yield g, files[part].read_row_group(row_group, columns=[self.name]).column(0)


@dataclass(frozen=True)
class _TextCodes:
    """A column as the distinct values and each row's position among them (``-1``: null)."""

    values: pa.Array
    codes: np.ndarray


def _read_codes(column: ParquetColumn, max_bytes: int) -> _TextCodes | None:
    """The column as :class:`_TextCodes`, one row group in memory at a time; ``None`` once the
    row groups' distinct values pass ``max_bytes``."""
    codes = np.full(len(column), -1, dtype=np.int32)  # filled in place: no pieces to join
    dictionaries: list[pa.Array] = []
    held = offset = row = 0
    for _g, values in column._row_groups(range(len(column.groups))):
        # One dictionary for the row group's chunks (each chunk's is a prefix of the last's).
        chunks = [chunk for chunk in pc.dictionary_encode(values).chunks if len(chunk)]
        del values
        if not chunks:
            continue
        dictionary = chunks[-1].dictionary
        held += dictionary.nbytes
        if held > max_bytes:
            release_arrow_memory()
            return None
        for chunk in chunks:
            local = np.asarray(chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False))
            np.add(local, np.int32(offset), out=codes[row : row + len(local)], where=local >= 0)
            row += len(local)
        dictionaries.append(dictionary)
        offset += len(dictionary)
    if not dictionaries:
        return _TextCodes(pa.array([], _column_type(column)), codes)
    merged = pc.dictionary_encode(pa.concat_arrays(dictionaries))
    # The last entry: the code of a null row (-1 reads it).
    of_entry = np.append(np.asarray(merged.indices.to_numpy(zero_copy_only=False)), -1)
    codes = of_entry.astype(np.int32)[codes]
    release_arrow_memory()
    return _TextCodes(merged.dictionary, codes)


def _column_type(column: ParquetColumn) -> pa.DataType:
    """The Arrow type of a posts column (``null`` for a name outside the posts schema)."""
    return POSTS_SCHEMA.field(column.name).type if column.name in POSTS_SCHEMA.names else pa.null()


def read_events(
    path: str | Path,
    *,
    include_platform_urls: bool = False,
    include_reposts: bool = True,
    threads: int | None = None,
    text_codes_bytes: int = TEXT_CODES_MAX_BYTES,
) -> tuple[Events, ParquetColumn]:
    """Encode a posts Parquet dataset (file or directory) without reading its other columns.

    Equal to ``encode(read_posts(path), ...)``, and the texts as a lazy column.
    Files that do not carry the posts schema (another writer, missing columns)
    go through :func:`research.posts.read_posts`, which fills and checks them.
    Unless ``threads`` is 1 or ``text_codes_bytes`` 0, the text column of a dataset in the
    posts schema is then read on a second thread (:meth:`ParquetColumn.prefetch`, held if its
    distinct texts take at most ``text_codes_bytes``) while the caller goes on; the result is
    the same.

    Returns
    -------
    events, texts
        The encoded posts and their ``text`` column, read on demand.

    Examples
    --------
    >>> import tempfile
    >>> from research.simulate import simulate
    >>> from research.posts import write_posts
    >>> from research.graph.events import encode
    >>> sim = simulate("weheartit", seed=0, n_posts=5_000)
    >>> path = write_posts(sim.posts, Path(tempfile.mkdtemp()) / "posts.parquet")
    >>> events, texts = read_events(path)
    >>> bool((events.link_url == encode(sim.posts).link_url).all()), len(texts) == len(sim.posts)
    (True, True)
    """
    columns = encode_columns(
        include_platform_urls=include_platform_urls, include_reposts=include_reposts
    )
    parts = dataset_parts(path)
    tables = []
    for part in parts:
        try:
            schema = pq.read_schema(part)
        except (pa.ArrowInvalid, OSError) as err:
            raise InputFileError(f"{part}: not a readable Parquet file ({err})") from None
        if not _has_posts_columns(schema, columns, part):
            # Not written by write_posts: normalise and check through the posts table.
            present = [
                name for name in POSTS_SCHEMA.names if name in schema.names and name != "text"
            ]
            table = read_posts(path, columns=present).table
            texts = ParquetColumn.open(path, "text")
            return with_texts(
                encode_table(
                    table,
                    include_platform_urls=include_platform_urls,
                    include_reposts=include_reposts,
                    threads=threads,
                ),
                texts,
            ), texts
        try:
            # Accounts and apps are few and repeated: read them as dictionaries (as stored),
            # so that only the distinct values are hashed when they are encoded.
            tables.append(
                pq.read_table(part, columns=columns, read_dictionary=["account_id", "app_name"])
            )
        except (pa.ArrowInvalid, OSError) as err:
            raise InputFileError(f"{part}: not a readable Parquet file ({err})") from None
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    _check(table, path)
    events = encode_table(
        table,
        include_platform_urls=include_platform_urls,
        include_reposts=include_reposts,
        threads=threads,
    )
    del table, tables
    release_arrow_memory()
    texts = ParquetColumn.open(path, "text")
    if text_codes_bytes > 0 and (threads is None or threads > 1):
        # Read on a second thread while this one starts the projection (site keys come first,
        # ~1 s at 10^7 posts, before the texts are needed). Started once the other columns are
        # encoded and released, the read adds nothing to their peak (started before reading
        # them, 1.74 -> 1.9 GB at 10^7 posts).
        texts.prefetch(text_codes_bytes)
    return with_texts(events, texts), texts


def _has_posts_columns(schema: pa.Schema, columns: list[str], part: Path) -> bool:
    version = (schema.metadata or {}).get(_SCHEMA_KEY)
    if version is not None and version.decode() != SCHEMA_VERSION:
        raise SchemaError(
            f"{part}: posts schema version {version.decode()} is not supported (this package reads version {SCHEMA_VERSION})"
        )
    if "text" not in schema.names:
        return False
    return all(
        name in schema.names and schema.field(name).type == POSTS_SCHEMA.field(name).type
        for name in columns
    )


def _check(table: pa.Table, path: str | Path) -> None:
    """The checks of :func:`research.posts.as_posts` on the columns read."""
    for name in table.column_names:
        if name != "app_name" and table.column(name).null_count:
            raise SchemaError(
                f"{path}: column {name!r} has {table.column(name).null_count} null value(s); it is required"
            )
    if (
        table.num_rows
        and not pc.all(
            pc.equal(
                pc.list_value_length(table.column("urls")),
                pc.list_value_length(table.column("domains")),
            )
        ).as_py()
    ):
        raise SchemaError(f"{path}: 'domains' must hold one entry per entry of 'urls'")

"""Reading a posts Parquet dataset straight into :class:`~research.graph.events.Events`.

The method needs five columns of the posts table to build its graph (account,
time, app, URLs, domains) and the texts of a few thousand posts for its
evidence. :func:`read_events` reads only those five columns and encodes them;
the texts stay on disk behind a :class:`ParquetColumn` that reads the row
groups holding the posts asked for. At 10^7 posts this reads about a fifth of
the bytes of the whole table and holds no text in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    asked, like :meth:`pyarrow.Array.take`.

    Examples
    --------
    >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> path = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pq.write_table(pa.table({"text": ["a", "b", "c", "d"]}), path, row_group_size=2)
    >>> ParquetColumn.open(path, "text").take(pa.array([3, 0, 3])).to_pylist()
    ['d', 'a', 'd']
    """

    parts: tuple[Path, ...]
    name: str
    starts: np.ndarray  # first global row of each (part, row group), and the total row count last
    groups: tuple[tuple[int, int], ...]  # (part index, row group index) of each start

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

    def take(self, rows: pa.Array | np.ndarray) -> pa.Array:
        """Values at the given global rows."""
        rows = np.asarray(
            rows.to_numpy(zero_copy_only=False) if isinstance(rows, pa.Array) else rows,
            dtype=np.int64,
        )
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"{self.name}: row out of range 0..{len(self) - 1}")
        group = np.searchsorted(self.starts, rows, side="right") - 1
        order = np.argsort(group, kind="stable")
        pieces = []
        for g in np.unique(group):
            part, row_group = self.groups[int(g)]
            values = (
                pq.ParquetFile(self.parts[part])
                .read_row_group(row_group, columns=[self.name])
                .column(0)
            )
            local = rows[order][group[order] == g] - self.starts[g]
            pieces.append(values.take(pa.array(local)).combine_chunks())
        if not pieces:
            return pa.array(
                [],
                POSTS_SCHEMA.field(self.name).type
                if self.name in POSTS_SCHEMA.names
                else pa.null(),
            )
        gathered = pa.concat_arrays(pieces)
        back = np.empty(len(rows), dtype=np.int64)
        back[order] = np.arange(len(rows))
        out = gathered.take(pa.array(back))
        del gathered, pieces, values
        release_arrow_memory()  # the row groups read whole for a few of their rows
        return out

    def index_in(self, values: pa.Array) -> np.ndarray:
        """For every row: the position of its value in ``values`` (``-1``: none), as
        :func:`pyarrow.compute.index_in`, one row group in memory at a time."""
        out = np.full(len(self), -1, dtype=np.int32)
        files = [pq.ParquetFile(part) for part in self.parts]  # each opened once
        for g, (part, row_group) in enumerate(self.groups):
            column = files[part].read_row_group(row_group, columns=[self.name])
            found = pc.fill_null(pc.index_in(column.column(0), value_set=values), -1)
            out[self.starts[g] : self.starts[g + 1]] = found.to_numpy()
            del column, found
        release_arrow_memory()
        return out


def read_events(
    path: str | Path,
    *,
    include_platform_urls: bool = False,
    include_reposts: bool = True,
    threads: int | None = None,
) -> tuple[Events, ParquetColumn]:
    """Encode a posts Parquet dataset (file or directory) without reading its other columns.

    Equal to ``encode(read_posts(path), ...)``, and the texts as a lazy column.
    Files that do not carry the posts schema (another writer, missing columns)
    go through :func:`research.posts.read_posts`, which fills and checks them.

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

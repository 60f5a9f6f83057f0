"""The posts table: the one data model every stage of the package consumes.

A posts table is an Apache Arrow table with the columns of :data:`POSTS_SCHEMA`
(schema version :data:`SCHEMA_VERSION`). Readers of every source format, and
the simulator, produce it; the graph, detectors and reports consume it.

=================  ===========================  ========  ==========================================
column             Arrow type                   nullable  meaning
=================  ===========================  ========  ==========================================
``post_id``        string                       no        platform id of the post (unique)
``account_id``     string                       no        platform id of the author (or a pseudonym)
``account_name``   string                       yes       screen name / handle, for display only
``timestamp``      timestamp[ms, UTC]           no        when the post was created
``app_name``       string                       yes       posting application (Twitter ``source``)
``app_url``        string                       yes       the application's web site
``urls``           list<string>                 no        canonical external URLs, in post order
``domains``        list<string>                 no        registered domain of each entry of ``urls``
``platform_urls``  list<string>                 no        links to the platform itself (quotes, ...)
``text``           string                       yes       post text, as written (attacker-controlled)
``is_repost``      bool                         no        retweet / boost
``platform``       string                       no        ``twitter``, ``mastodon``, ``simulated``...
=================  ===========================  ========  ==========================================

An empty list means "no URL"; an empty or null ``app_name`` means "app not
known" and never creates an app object downstream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from research.errors import InputFileError, SchemaError

SCHEMA_VERSION = "1"
_SCHEMA_KEY = b"hijack_clusters.posts_schema"
#: Schema metadata naming the columns :func:`as_posts` told from others (:func:`told_columns`).
_TOLD_KEY = b"hijack_clusters.told_from_other_columns"

POSTS_SCHEMA = pa.schema(
    [
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("account_name", pa.string()),
        pa.field("timestamp", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("app_name", pa.string()),
        pa.field("app_url", pa.string()),
        pa.field("urls", pa.list_(pa.string()), nullable=False),
        pa.field("domains", pa.list_(pa.string()), nullable=False),
        pa.field("platform_urls", pa.list_(pa.string()), nullable=False),
        pa.field("text", pa.string()),
        pa.field("is_repost", pa.bool_(), nullable=False),
        pa.field("platform", pa.string(), nullable=False),
    ],
    metadata={_SCHEMA_KEY: SCHEMA_VERSION.encode()},
)

REQUIRED_COLUMNS = ("post_id", "account_id", "timestamp")
_LIST_COLUMNS = ("urls", "domains", "platform_urls")


@dataclass(frozen=True)
class Posts:
    """A validated posts table.

    Parameters
    ----------
    table
        An Arrow table with exactly the columns of :data:`POSTS_SCHEMA`. Use
        :func:`as_posts` to build one from a table with a subset of columns.

    Examples
    --------
    >>> import datetime as dt
    >>> posts = Posts.from_records([
    ...     {"post_id": "1", "account_id": "a", "timestamp": dt.datetime(2014, 5, 1, 12),
    ...      "app_name": "We Heart It", "urls": ["http://example.com/x"]},
    ... ])
    >>> len(posts), posts.table.column("app_name")[0].as_py()
    (1, 'We Heart It')
    """

    table: pa.Table

    def __post_init__(self) -> None:
        if not self.table.schema.equals(POSTS_SCHEMA, check_metadata=False):
            raise SchemaError(
                "a Posts table must have the posts schema exactly; build it with as_posts()"
            )

    def __len__(self) -> int:
        return self.table.num_rows

    def __repr__(self) -> str:
        return f"Posts({self.table.num_rows} posts, {self.n_accounts()} accounts)"

    def n_accounts(self) -> int:
        """Number of distinct accounts."""
        return len(pc.unique(self.table.column("account_id")))

    def column(self, name: str) -> pa.ChunkedArray:
        """One column as an Arrow chunked array."""
        return self.table.column(name)

    def timestamps_s(self) -> np.ndarray:
        """Post times as int64 seconds since the Unix epoch (UTC)."""
        return epoch_seconds(self.table.column("timestamp"))

    def take(self, indices: np.ndarray | pa.Array) -> Posts:
        """The posts at the given row indices, in that order."""
        return Posts(self.table.take(indices))

    def filter(self, mask: np.ndarray | pa.Array) -> Posts:
        """The posts where ``mask`` is true."""
        return Posts(self.table.filter(mask))

    def sorted_by_time(self) -> Posts:
        """The same posts ordered by (timestamp, post_id); a stable, reproducible order."""
        return Posts(self.table.sort_by([("timestamp", "ascending"), ("post_id", "ascending")]))

    def to_pandas(self) -> Any:
        """A pandas DataFrame view (copies)."""
        return self.table.to_pandas()

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Posts:
        """Build posts from dicts holding any subset of the schema's columns."""
        rows = list(records)
        columns = {name: [r.get(name) for r in rows] for name in POSTS_SCHEMA.names}
        present = {n for r in rows for n in r}
        return as_posts({n: v for n, v in columns.items() if n in present or not rows})

    @classmethod
    def empty(cls) -> Posts:
        """A table with no posts."""
        return cls(POSTS_SCHEMA.empty_table())


def as_posts(data: pa.Table | Mapping[str, Sequence[Any]], *, source: str = "table") -> Posts:
    """Coerce a table with a subset of the schema's columns into :class:`Posts`.

    Missing optional columns are filled (null strings, empty lists, ``platform``
    "unknown"). What can be told from other columns is: ``domains``, when absent, is the
    registered domain of each entry of ``urls`` (:func:`research.canonical.registered_domain`;
    blanks would make every URL a site of its own, and a page that everybody links a
    campaign's); ``is_repost``, when absent, is true where the text opens with the old
    retweet mark ``RT @name`` and false elsewhere (a table without the column cannot tell a
    retweet storm from accounts posting alike, so :func:`research.io.loading.input_notes` says
    so: ``detect`` prints it, ``Dataset.summary()`` holds it). Extra columns are dropped.

    Parameters
    ----------
    data
        An Arrow table or a mapping of column name to values.
    source
        Named in error messages (a file path, usually).

    Raises
    ------
    SchemaError
        If a required column is missing or a column cannot be cast to its type.
    """
    table = data if isinstance(data, pa.Table) else pa.table(dict(data))
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise SchemaError(
            f"{source}: missing required column(s) {', '.join(missing)}; "
            f"found {', '.join(table.column_names) or 'no columns'}"
        )
    n = table.num_rows
    arrays = []
    told: list[str] = []
    for field in POSTS_SCHEMA:
        if field.name in table.column_names:
            arrays.append(_cast_column(table.column(field.name), field, source))
        elif field.name == "domains" and "urls" in table.column_names:
            urls = _cast_column(table.column("urls"), POSTS_SCHEMA.field("urls"), source)
            arrays.append(_domains_of(urls))
            told.append("domains")
        elif field.name == "is_repost" and "text" in table.column_names:
            arrays.append(retweet_marks(table.column("text")))
            told.append("is_repost")
        else:
            arrays.append(_default_column(field, n))
    schema = POSTS_SCHEMA
    if told:
        schema = schema.with_metadata({**POSTS_SCHEMA.metadata, _TOLD_KEY: ",".join(told).encode()})
    out = pa.Table.from_arrays(arrays, schema=schema)
    _check_values(out, source)
    return Posts(out)


def told_columns(posts: Posts) -> list[str]:
    """The columns :func:`as_posts` told from others because the input lacked them
    (``domains`` from ``urls``, ``is_repost`` from the text's retweet mark).

    >>> import datetime as dt
    >>> told_columns(Posts.from_records([{"post_id": "1", "account_id": "a",
    ...     "timestamp": dt.datetime(2014, 5, 1), "urls": ["http://x.com/1"], "text": "RT @b: hi"}]))
    ['domains', 'is_repost']
    """
    value = (posts.table.schema.metadata or {}).get(_TOLD_KEY, b"")
    return [c for c in value.decode().split(",") if c]


def _cast_column(column: pa.ChunkedArray, field: pa.Field, source: str) -> pa.ChunkedArray:
    try:
        if pa.types.is_timestamp(field.type):
            return _to_utc_ms(column)
        if pa.types.is_list(field.type) and pa.types.is_null(column.type):
            return _default_column(field, len(column))
        out = column.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as err:
        raise SchemaError(
            f"{source}: column {field.name!r} has type {column.type}, "
            f"which cannot be read as {field.type}: {err}"
        ) from None
    if pa.types.is_list(field.type) and out.null_count:
        out = pc.fill_null(out, pa.scalar([], field.type))
    if field.name == "is_repost" and out.null_count:
        out = pc.fill_null(out, False)
    if field.name == "platform" and out.null_count:
        out = pc.fill_null(out, "unknown")
    return out


def _to_utc_ms(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The posts table's times (:func:`parse_times`); a value that is no time is an error here
    (:func:`research.io.load_posts` reads such a table row by row, rejecting those rows)."""
    if pa.types.is_timestamp(column.type):
        # The common case, cast as stored (sub-millisecond parts dropped: pandas writes ns).
        if column.type.tz is None:
            column = pc.assume_timezone(column, "UTC")
        return column.cast(pa.timestamp("ms", tz="UTC"), safe=False)
    values = column.combine_chunks()
    times = parse_times(values)
    lost = np.flatnonzero(np.asarray(pc.and_(pc.is_null(times), pc.is_valid(values))))
    if len(lost):
        example = values[int(lost[0])].as_py()
        raise pa.ArrowInvalid(
            f"{len(lost):,} value(s) are no time, first at row {int(lost[0]) + 1}: {example!r} "
            "(read: ISO 8601 text, epoch seconds or milliseconds, timestamps, dates)"
        )
    return pa.chunked_array([times])


#: Text formats of times (after a fraction and zone are taken off).
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
#: Times outside years 1-9999 are no times (and would overflow the posts table's unit).
_MIN_MS, _MAX_MS = -62_135_596_800_000, 253_402_300_799_999
#: Epoch numbers at least this large (as seconds: after the year 5138) are milliseconds.
_EPOCH_MS_FROM = 10**11
_EPOCH_NUMBER = r"^-?[0-9]{1,16}(?:\.[0-9]+)?$"


def _epoch_ms(numbers: pa.Array) -> pa.Array:
    """Milliseconds from epoch numbers: seconds (fractions kept to the ms), or ms when large."""
    values = np.asarray(
        pc.cast(numbers, pa.float64(), safe=False).to_numpy(zero_copy_only=False), dtype=float
    )
    with np.errstate(invalid="ignore", over="ignore"):
        ms = np.where(np.abs(values) >= _EPOCH_MS_FROM, values, values * 1000.0)
        ms = np.round(ms)
        valid = np.isfinite(ms) & (ms >= _MIN_MS) & (ms <= _MAX_MS)
    out = np.where(valid, ms, 0).astype(np.int64)
    return pa.array(out, pa.int64(), mask=~valid)


def parse_times(column: pa.Array) -> pa.Array:
    """Times as ``timestamp[ms, UTC]``; null where a value is no time. Read: timestamps of any
    unit (naive ones are UTC), dates, epoch numbers (seconds, or milliseconds from
    :data:`_EPOCH_MS_FROM` on), and ISO 8601 text with a space or ``T``, optional seconds,
    fractions and zone (``Z``, ``+02:00``). Every reader of the package parses times here.

    >>> import pyarrow as pa
    >>> [str(t) for t in parse_times(pa.array(["2014-05-13T16:53:20Z", "2014-05-13 18:53:20.5+02:00",
    ...     "1400000000", "yesterday"])).to_pylist()]
    ['2014-05-13 16:53:20+00:00', '2014-05-13 16:53:20.500000+00:00', '2014-05-13 16:53:20+00:00', 'None']
    >>> [str(t) for t in parse_times(pa.array([1400000000, 1400000000000])).to_pylist()]
    ['2014-05-13 16:53:20+00:00', '2014-05-13 16:53:20+00:00']
    """
    if pa.types.is_timestamp(column.type):
        unit = {"s": 1000, "ms": 1, "us": 1 / 1000, "ns": 1 / 1_000_000}[column.type.unit]
        raw = np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=float)
        valid = np.isfinite(raw) & (raw * unit >= _MIN_MS) & (raw * unit <= _MAX_MS)
        ms = np.floor(np.where(valid, raw, 0) * unit).astype(np.int64)
        return pa.array(ms, pa.int64(), mask=~valid).cast(pa.timestamp("ms", tz="UTC"))
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return _epoch_ms(column).cast(pa.timestamp("ms", tz="UTC"))
    if pa.types.is_date(column.type):
        return column.cast(pa.timestamp("ms")).cast(pa.timestamp("ms", tz="UTC"))
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    # Drop fractional seconds and a trailing zone ("Z", "+00:00") before parsing; offsets are applied after.
    numeric = pc.fill_null(pc.match_substring_regex(text, _EPOCH_NUMBER), False)
    epoch = _epoch_ms(pc.if_else(numeric, text, pa.scalar(None, pa.string())))
    offset = pc.extract_regex(text, r"(?P<sign>[+-])(?P<h>[0-9]{2}):?(?P<m>[0-9]{2})$")
    fraction = pc.extract_regex(text, r"[0-9]:[0-9]{2}(?P<f>\.[0-9]+)")
    stem = pc.replace_substring_regex(text, r"(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?$", "")
    parsed = pa.nulls(len(text), pa.timestamp("ms"))
    for fmt in TIME_FORMATS:
        attempt = pc.strptime(stem, format=fmt, unit="ms", error_is_null=True)
        parsed = pc.coalesce(parsed, attempt)
    millis = parsed.cast(pa.int64())
    fraction_ms = pc.round(
        pc.multiply(pc.cast(pc.struct_field(fraction, "f"), pa.float64()), 1000.0)
    ).cast(pa.int64())
    millis = pc.add(millis, pc.fill_null(fraction_ms, 0))
    sign = pc.if_else(pc.equal(pc.struct_field(offset, "sign"), "-"), -1, 1)
    shift = pc.multiply(
        pc.add(
            pc.multiply(pc.struct_field(offset, "h").cast(pa.int64()), 3600),
            pc.multiply(pc.struct_field(offset, "m").cast(pa.int64()), 60),
        ),
        pc.multiply(sign, -1000),
    )
    millis = pc.if_else(pc.is_null(shift), millis, pc.add(millis, pc.fill_null(shift, 0)))
    millis = pc.if_else(numeric, epoch, millis)
    return millis.cast(pa.timestamp("ms", tz="UTC"))


def _default_column(field: pa.Field, n: int) -> pa.Array:
    if pa.types.is_list(field.type):
        return pa.ListArray.from_arrays(
            pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], pa.string())
        )
    if field.name == "is_repost":
        return pa.array(np.zeros(n, dtype=bool))
    if field.name == "platform":
        return pa.array(["unknown"] * n, pa.string())
    return pa.nulls(n, field.type)


def _domains_of(urls: pa.ChunkedArray) -> pa.Array:
    """The registered domain of every entry of ``urls`` (one look-up per distinct URL), as a
    list column aligned with it."""
    from research.canonical import registered_domain

    urls = urls.combine_chunks()
    flat = pc.fill_null(urls.flatten(), "")
    encoded = flat.dictionary_encode()
    names = pa.array([registered_domain(u) for u in encoded.dictionary.to_pylist()], pa.string())
    values = names.take(encoded.indices) if len(flat) else pa.array([], pa.string())
    start = urls.offsets[0].as_py() if len(urls) else 0
    offsets = pc.subtract(urls.offsets, start)
    return pa.ListArray.from_arrays(offsets, values)


#: The old retweet mark: a text opening with ``RT @name`` (Twitter before native retweets,
#: and many exports that flatten them).
RETWEET_MARK = r"^\s*RT @\w"


def retweet_marks(text: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """``is_repost`` told from the text alone: true where it opens with :data:`RETWEET_MARK`."""
    strings = text if pa.types.is_string(text.type) else text.cast(pa.string())
    return pc.fill_null(pc.match_substring_regex(strings, RETWEET_MARK), False)


def _check_values(table: pa.Table, source: str) -> None:
    for name in (*REQUIRED_COLUMNS, "is_repost", "platform", *_LIST_COLUMNS):
        nulls = table.column(name).null_count
        if nulls:
            raise SchemaError(
                f"{source}: column {name!r} has {nulls} null value(s); it is required"
            )
    urls_len = pc.list_value_length(table.column("urls"))
    dom_len = pc.list_value_length(table.column("domains"))
    if not pc.all(pc.equal(urls_len, dom_len)).as_py() and table.num_rows:
        raise SchemaError(f"{source}: 'domains' must hold one entry per entry of 'urls'")


def epoch_seconds(timestamps: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamps as int64 seconds since the Unix epoch (floored)."""
    if len(timestamps) == 0:
        return np.zeros(0, dtype=np.int64)
    millis = timestamps.cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    return np.asarray(millis.to_numpy(), dtype=np.int64) // 1000


def read_posts(path: str | Path, *, columns: Sequence[str] | None = None) -> Posts:
    """Read a posts table from a Parquet file or a directory of Parquet files.

    Parameters
    ----------
    path
        A ``.parquet`` file, or a directory holding ``*.parquet`` parts.
    columns
        Read only these columns (others are filled with defaults); this saves
        time on large files when, e.g., texts are not needed.

    Raises
    ------
    InputFileError
        If the path does not exist or is not Parquet.
    SchemaError
        If the table lacks the required columns.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file or directory")
    try:
        if path.is_dir():
            parts = sorted(path.glob("*.parquet"))
            if not parts:
                raise InputFileError(f"{path}: directory holds no *.parquet files")
            tables = [pq.read_table(p, columns=list(columns) if columns else None) for p in parts]
            table = pa.concat_tables(tables, promote_options="default")
        else:
            table = pq.read_table(path, columns=list(columns) if columns else None)
    except (pa.ArrowInvalid, OSError) as err:
        raise InputFileError(f"{path}: not a readable Parquet file ({err})") from None
    version = (table.schema.metadata or {}).get(_SCHEMA_KEY)
    if version is not None and version.decode() != SCHEMA_VERSION:
        raise SchemaError(
            f"{path}: posts schema version {version.decode()} is not supported "
            f"(this package reads version {SCHEMA_VERSION})"
        )
    return as_posts(table, source=str(path))


def write_posts(posts: Posts, path: str | Path, *, row_group_size: int = 1_000_000) -> Path:
    """Write posts as one Parquet file (zstd-compressed), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        posts.table,
        path,
        compression="zstd",
        row_group_size=row_group_size,
        use_dictionary=["account_id", "account_name", "app_name", "app_url", "platform", "domains"],
        write_statistics=["timestamp"],
    )
    return path


def concat_posts(parts: Sequence[Posts]) -> Posts:
    """Concatenate posts tables (no de-duplication)."""
    if not parts:
        return Posts.empty()
    return Posts(pa.concat_tables([p.table for p in parts]))

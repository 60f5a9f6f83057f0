"""From the raw fields a reader pulls out of a format to rows of the posts table.

Every reader yields :class:`RawBatch` tables (:data:`RAW_SCHEMA`: ids, time,
the app name and site *as written*, links *as written*) and :func:`assemble`
does the rest the same way for all formats: canonical app names and sites,
canonical URLs split into external ``urls`` and ``platform_urls``, registered
domains, each distinct URL once per post (first occurrence kept), and a post
whose text starts with ``RT @name`` counted as a repost whatever the export's
flag says (a manual retweet: the convention before retweets were marked, which
many clients and CSV exports still write). All of it is computed once per
distinct value.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from research.canonical import (
    MANUAL_RETWEET,
    TWITTER_HOSTS,
    canonical_app,
    canonical_url,
    canonicalise_urls,
)
from research.posts import POSTS_SCHEMA

__all__ = [
    "RAW_SCHEMA",
    "TWITTER_TIME_SHAPE",
    "RawBatch",
    "RawRows",
    "assemble",
    "parse_iso_ms",
    "parse_twitter_time_ms",
    "twitter_times_ms",
]

RAW_SCHEMA = pa.schema(
    [
        pa.field("post_id", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("account_name", pa.string()),
        pa.field("timestamp", pa.timestamp("ms", tz="UTC")),
        pa.field("app_name", pa.string()),
        pa.field("app_url", pa.string()),
        pa.field("urls", pa.list_(pa.string())),
        pa.field("platform_urls", pa.list_(pa.string())),
        pa.field("text", pa.string()),
        pa.field("is_repost", pa.bool_()),
        pa.field("platform", pa.string()),
    ]
)


@dataclass(frozen=True)
class RawBatch:
    """Rows as a reader found them, plus what counts as a platform link for them.

    ``urls`` holds every link found (external or not, decided later);
    ``platform_urls`` holds links known from their place in the payload to
    point at the platform (attached media, mention and hashtag anchors).
    """

    table: pa.Table
    platform_hosts: frozenset[str] = TWITTER_HOSTS
    fediverse: bool = False


@dataclass
class RawRows:
    """A column-wise builder of raw rows for readers that walk parsed objects."""

    platform: str
    post_id: list[str] = field(default_factory=list)
    account_id: list[str] = field(default_factory=list)
    account_name: list[str | None] = field(default_factory=list)
    timestamp: list[int] = field(default_factory=list)
    app_name: list[str | None] = field(default_factory=list)
    app_url: list[str | None] = field(default_factory=list)
    urls: list[list[str]] = field(default_factory=list)
    platform_urls: list[list[str]] = field(default_factory=list)
    text: list[str | None] = field(default_factory=list)
    is_repost: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.post_id)

    def add(
        self,
        post_id: str,
        account_id: str,
        account_name: str | None,
        timestamp_ms: int,
        app_name: str | None,
        app_url: str | None,
        urls: list[str],
        platform_urls: list[str],
        text: str | None,
        is_repost: bool,
    ) -> None:
        """Append one post."""
        self.post_id.append(post_id)
        self.account_id.append(account_id)
        self.account_name.append(account_name)
        self.timestamp.append(timestamp_ms)
        self.app_name.append(app_name)
        self.app_url.append(app_url)
        self.urls.append(urls)
        self.platform_urls.append(platform_urls)
        self.text.append(text)
        self.is_repost.append(is_repost)

    def take_table(self) -> pa.Table:
        """The rows so far as a :data:`RAW_SCHEMA` table; the builder is emptied."""
        n = len(self)
        table = pa.Table.from_arrays(
            [
                pa.array(self.post_id, pa.string()),
                pa.array(self.account_id, pa.string()),
                pa.array(self.account_name, pa.string()),
                pa.array(np.asarray(self.timestamp, dtype=np.int64), pa.int64()).cast(
                    pa.timestamp("ms", tz="UTC")
                ),
                pa.array(self.app_name, pa.string()),
                pa.array(self.app_url, pa.string()),
                pa.array(self.urls, pa.list_(pa.string())),
                pa.array(self.platform_urls, pa.list_(pa.string())),
                pa.array(self.text, pa.string()),
                pa.array(self.is_repost, pa.bool_()),
                pa.array([self.platform] * n, pa.string()),
            ],
            schema=RAW_SCHEMA,
        )
        for name in ("post_id", "account_id", "account_name", "timestamp", "app_name",
                     "app_url", "urls", "platform_urls", "text", "is_repost"):  # fmt: skip
            getattr(self, name).clear()
        return table


_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}


def parse_twitter_time_ms(value: object) -> int | None:
    """Milliseconds since the epoch of a v1.1 ``created_at`` (``Wed Oct 10 20:19:24 +0000 2018``).

    Examples
    --------
    >>> parse_twitter_time_ms("Wed Oct 10 20:19:24 +0000 2018")
    1539202764000
    >>> parse_twitter_time_ms("yesterday") is None
    True
    """
    if not isinstance(value, str):
        return None
    parts = value.split()
    if len(parts) != 6 or len(parts[4]) != 5 or parts[4][0] not in "+-":
        return None
    try:
        month = _MONTHS[parts[1]]
        hours, minutes, seconds = (int(x) for x in parts[3].split(":"))
        moment = dt.datetime(int(parts[5]), month, int(parts[2]), hours, minutes, seconds)
        offset = int(parts[4][1:3]) * 3600 + int(parts[4][3:5]) * 60
    except (KeyError, ValueError, OverflowError):
        return None
    sign = -1 if parts[4][0] == "+" else 1
    return (calendar.timegm(moment.timetuple()) + sign * offset) * 1000


#: The shape of ``created_at`` that :func:`twitter_times_ms` reads (every
#: field in place, ASCII digits); anything else is left to :func:`parse_twitter_time_ms`.
TWITTER_TIME_SHAPE = (
    r"^[A-Z][a-z]{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4} [0-9]{4}$"
)
_MONTH_KEYS = np.array(
    [(ord(m[0]) << 16) | (ord(m[1]) << 8) | ord(m[2]) for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")], dtype=np.int64
)  # fmt: skip
_MONTH_ORDER = np.argsort(_MONTH_KEYS)
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_DIGIT_AT = [8, 9, 11, 12, 14, 15, 17, 18, 21, 22, 23, 24, 26, 27, 28, 29]
_SPACE_AT = [3, 7, 10, 19, 25]


def twitter_times_ms(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`parse_twitter_time_ms` for values of the usual shape.

    Returns
    -------
    ms : numpy.ndarray
        Milliseconds since the epoch (0 where not read).
    read : numpy.ndarray
        Where the value has the shape :data:`TWITTER_TIME_SHAPE` and is a valid
        time; there ``ms`` equals :func:`parse_twitter_time_ms`. Elsewhere the
        caller must use that function (which may still read the value, or not).

    Examples
    --------
    >>> ms, read = twitter_times_ms(pa.array(["Wed Oct 10 20:19:24 +0000 2018", "Wed Feb 30 00:00:00 +0000 2018", None]))
    >>> ms[0], read.tolist()
    (np.int64(1539202764000), [True, False, False])
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    n = len(values)
    ms = np.zeros(n, dtype=np.int64)
    read = np.zeros(n, dtype=bool)
    if n == 0 or values.null_count == n:
        return ms, read
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + n + 1
    ]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    if values.null_count:
        lengths = np.where(
            np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool), lengths, 0
        )
    rows = np.flatnonzero(lengths == 30)
    if not len(rows):
        return ms, read
    # One contiguous row of bytes per character position (column-wise work is
    # much faster than walking 30-byte strides once per check).
    if len(rows) == n and offsets[-1] - offsets[0] == 30 * n:
        # Every value has 30 bytes: the data buffer is an n x 30 matrix.
        chars = np.ascontiguousarray(data[offsets[0] : offsets[-1]].reshape(n, 30).T)
    else:
        start = offsets[rows].astype(np.int64)
        chars = np.stack([data[start + k] for k in range(30)])

    def at(k: int) -> np.ndarray:
        return chars[k]

    def between(k: int, low: str, high: str) -> np.ndarray:
        # uint8 arithmetic wraps below `low`, so one comparison checks both ends.
        return (at(k) - np.uint8(ord(low))) <= ord(high) - ord(low)

    shaped = np.ones(len(rows), dtype=bool)
    for k in _DIGIT_AT:
        shaped &= between(k, "0", "9")
    for k in _SPACE_AT:
        shaped &= at(k) == 32
    shaped &= (at(13) == 58) & (at(16) == 58) & ((at(20) == 43) | (at(20) == 45))
    shaped &= between(0, "A", "Z") & between(1, "a", "z") & between(2, "a", "z")
    key = (at(4).astype(np.int64) << 16) | (at(5).astype(np.int64) << 8) | at(6)
    slot = np.minimum(np.searchsorted(_MONTH_KEYS[_MONTH_ORDER], key), 11)
    month = _MONTH_ORDER[slot] + 1
    shaped &= _MONTH_KEYS[month - 1] == key

    def number(first: int, width: int) -> np.ndarray:
        out = at(first).astype(np.int64) - 48
        for k in range(first + 1, first + width):
            out = out * 10 + (at(k).astype(np.int64) - 48)
        return out

    day, hour, minute, second = number(8, 2), number(11, 2), number(14, 2), number(17, 2)
    offset = number(21, 2) * 3600 + number(23, 2) * 60
    year = number(26, 4)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = _DAYS_IN_MONTH[month - 1] + ((month == 2) & leap)
    valid = (
        shaped
        & (year >= 1)
        & (day >= 1)
        & (day <= month_days)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
    )
    # Days since 1970-01-01 in the proleptic Gregorian calendar (as calendar.timegm).
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    seconds = (
        days * 86400 + hour * 3600 + minute * 60 + second + np.where(at(20) == 43, -offset, offset)
    )
    ms[rows[valid]] = seconds[valid] * 1000
    read[rows[valid]] = True
    return ms, read


def parse_iso_ms(value: object) -> int | None:
    """Milliseconds since the epoch of an ISO 8601 time; naive times are taken as UTC.

    Examples
    --------
    >>> parse_iso_ms("2021-09-22T16:37:29.000Z")
    1632328649000
    >>> parse_iso_ms("2016-03-01 17:45")
    1456854300000
    """
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return int(moment.timestamp() * 1000) if moment.year > 1 else None
    except (OverflowError, ValueError):
        return None


def _list_array(offsets: np.ndarray, values: pa.Array) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def _flatten(lists: pa.Array) -> tuple[np.ndarray, pa.Array]:
    # Null lists (no links) contribute nothing, whatever their offsets say.
    parent = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    return parent, pc.list_flatten(lists).cast(pa.string())


def _split_links(
    found: pa.Array, platform_only: pa.Array, hosts: Collection[str], fediverse: bool, n: int
) -> tuple[pa.Array, pa.Array, pa.Array]:
    found_parent, found_values = _flatten(found)
    plat_parent, plat_values = _flatten(platform_only)
    all_values = pa.concat_arrays([found_values, plat_values])
    canon, domains, is_platform = canonicalise_urls(
        all_values, platform_hosts=hosts, fediverse=fediverse
    )
    parent = np.concatenate([found_parent, plat_parent])
    valid = np.asarray(canon.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    platform = np.asarray(is_platform.to_numpy(zero_copy_only=False), dtype=bool)
    platform[len(found_parent) :] = True
    # One code per distinct canonical URL, to drop repeats within a post.
    codes = np.asarray(
        pc.fill_null(canon.dictionary_encode().indices, -1).to_numpy(), dtype=np.int64
    )

    def build(mask: np.ndarray) -> tuple[pa.Array, pa.Array]:
        positions = np.flatnonzero(mask)
        # Stable by post, then first occurrence of each URL in that post.
        order = positions[np.argsort(parent[positions], kind="stable")]
        key = parent[order] * (int(codes.max(initial=0)) + 2) + codes[order]
        _, first = np.unique(key, return_index=True)
        order = order[np.sort(first)]
        counts = np.bincount(parent[order], minlength=n)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        take = pa.array(order)
        return _list_array(offsets, canon.take(take)), _list_array(offsets, domains.take(take))

    external_urls, external_domains = build(valid & ~platform)
    platform_urls, _ = build(valid & platform)
    return external_urls, external_domains, platform_urls


def _canonical_apps(
    names: pa.ChunkedArray | pa.Array, sites: pa.ChunkedArray | pa.Array
) -> tuple[pa.Array, pa.Array]:
    def per_distinct(values: pa.Array, function) -> pa.Array:  # type: ignore[no-untyped-def]
        encoded = values.dictionary_encode()
        mapped = pa.array([function(v) for v in encoded.dictionary.to_pylist()], pa.string())
        return mapped.take(encoded.indices)

    names_a = names.combine_chunks() if isinstance(names, pa.ChunkedArray) else names
    sites_a = sites.combine_chunks() if isinstance(sites, pa.ChunkedArray) else sites
    app_name = per_distinct(names_a.cast(pa.string()), canonical_app)
    app_url = per_distinct(sites_a.cast(pa.string()), canonical_url)
    # A site without a name is no app: never create an object from an empty field.
    app_url = pc.if_else(app_name.is_null(), pa.scalar(None, pa.string()), app_url)
    return app_name, app_url


def assemble(batch: RawBatch) -> pa.Table:
    """Turn a reader's raw rows into rows of the posts table.

    Parameters
    ----------
    batch
        Raw rows (:data:`RAW_SCHEMA`) and the platform's hosts.

    Returns
    -------
    pyarrow.Table
        A table with the posts schema (:data:`research.posts.POSTS_SCHEMA`).

    Examples
    --------
    >>> rows = RawRows("twitter")
    >>> rows.add("1", "42", "alice", 0, "  We Heart It ", "http://weheartit.com",
    ...          ["https://www.example.com/?utm_source=t", "https://twitter.com/a/status/9"],
    ...          [], "hi", False)
    >>> posts = assemble(RawBatch(rows.take_table()))
    >>> posts.column("app_name")[0].as_py(), posts.column("urls")[0].as_py()
    ('We Heart It', ['https://example.com/'])
    >>> posts.column("platform_urls")[0].as_py()
    ['https://twitter.com/i/web/status/9']
    """
    table = batch.table
    n = table.num_rows
    app_name, app_url = _canonical_apps(table.column("app_name"), table.column("app_url"))
    urls, domains, platform_urls = _split_links(
        table.column("urls").combine_chunks(),
        table.column("platform_urls").combine_chunks(),
        batch.platform_hosts,
        batch.fediverse,
        n,
    )
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "post_id": table.column("post_id"),
        "account_id": table.column("account_id"),
        "account_name": table.column("account_name"),
        "timestamp": table.column("timestamp"),
        "app_name": app_name,
        "app_url": app_url,
        "urls": urls,
        "domains": domains,
        "platform_urls": platform_urls,
        "text": table.column("text"),
        "is_repost": pc.or_(
            pc.fill_null(table.column("is_repost"), False), _manual_retweets(table.column("text"))
        ),
        "platform": table.column("platform"),
    }
    return pa.Table.from_arrays([columns[f.name] for f in POSTS_SCHEMA], schema=POSTS_SCHEMA)


def _manual_retweets(text: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Whether each text is a manual retweet (starts with ``RT @name``; no text: false).

    Examples
    --------
    >>> _manual_retweets(pa.array(["RT @bbc: news", " rt @a x", "ART @b", None])).to_pylist()
    [True, True, False, False]
    """
    found = pc.match_substring_regex(text, MANUAL_RETWEET, ignore_case=True)
    return pc.fill_null(found, False)


def empty_raw() -> pa.Table:
    """A raw table with no rows."""
    return RAW_SCHEMA.empty_table()


def raw_from_columns(columns: dict[str, Sequence[object] | pa.Array], platform: str) -> pa.Table:
    """A raw table from columns (missing ones are filled with nulls or empty lists)."""
    n = len(next(iter(columns.values()))) if columns else 0
    arrays = []
    for f in RAW_SCHEMA:
        if f.name in columns:
            value = columns[f.name]
            arrays.append(
                value if isinstance(value, (pa.Array, pa.ChunkedArray)) else pa.array(value, f.type)
            )
        elif f.name == "platform":
            arrays.append(pa.array([platform] * n, pa.string()))
        elif pa.types.is_list(f.type):
            arrays.append(pa.array([[]] * n, f.type))
        elif f.name == "is_repost":
            arrays.append(pa.array(np.zeros(n, dtype=bool)))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(arrays, schema=RAW_SCHEMA)

"""Twitter API v1.1 tweets: twarc 1 output (one tweet per line) and API pages.

Rows
    One non-blank line is one row, except for pages: a search response
    (``{"statuses": [...], "search_metadata": ...}``) or a timeline response
    (a JSON array of tweets) on one line, where each tweet is a row; an empty
    page is one row skipped (``empty_page``).
Skips
    Stream notices (``delete``, ``scrub_geo``, ``limit``, ``status_withheld``,
    ``user_withheld``, ``disconnect``, ``warning``, ``friends``, ``event``...)
    are skipped with the notice's name as reason.
Fields
    ``post_id`` = ``id_str`` (or ``id``); ``account_id`` = ``user.id_str``;
    ``account_name`` = ``user.screen_name``; ``timestamp`` = ``created_at``
    (``Wed Oct 10 20:19:24 +0000 2018``); the app's name and site come from
    the ``source`` anchor, read with an HTML parser
    (:func:`research.io.markup.parse_source`); ``text`` = ``extended_tweet.full_text``,
    ``full_text`` or ``text``, as written.
Links
    ``entities.urls`` of the tweet, or of ``extended_tweet`` when the tweet
    is truncated (the outer entities then hold only the ``/i/web/status/``
    link to the tweet itself). Each entry gives its unwound URL (Gnip's
    ``unwound.url`` or v2-style ``unwound_url``, the address a crawler
    landed on after following redirects) when present, else
    ``expanded_url``, else the ``t.co`` ``url``. Attached media
    (``entities.media``) are platform links.
Retweets and quotes
    A retweet is the retweeter's post: their id, account, time and app
    (the outer ``source``), ``is_repost=True``, and the *original's* links
    (the retweeter spread them). A quote tweet carries only the quoter's own
    links; the quoted tweet is linked from it as a platform link
    (``twitter.com/.../status/...``) and its own links are not attributed to
    the quoter. Embedded originals and quoted tweets are not emitted as posts
    of their own: they were not collected by the query that produced the file.

Engines
    The DuckDB engine reads the file with ``read_json``, selecting only these
    nested fields, on ``duckdb_threads`` threads; the checks that a row is a
    clean tweet, its time and its links are then worked out on Arrow batches
    (vectorised). Rows it cannot take as clean
    tweets (malformed JSON, pages, unusual ids, unreadable times) are sent,
    after the file, to the Python engine, which re-reads just those lines
    (found by position) and gives their exact line numbers and reasons. The
    Python engine reads every line with orjson and is the reference: both
    give the same posts. Bzip2 files, files starting with a page, and single
    JSON documents are read with the Python engine.
Long lines
    Both engines reject a line longer than ``max_line_bytes``
    (``line_too_long``). DuckDB reads lines longer than its
    ``maximum_object_size``, up to twice that depending on where they fall
    in its buffers, so in an uncompressed file the longer lines are found
    beforehand (a few probes of the file, :func:`~research.io.sources.long_lines`)
    and left to the exact engine; a compressed file is read with half the
    limit, so that DuckDB cannot read a longer line (its lines between half
    and all of it make DuckDB stop and the exact engine read the rest). As
    DuckDB raises the limit to 16 MiB at least, compressed files with
    ``max_line_bytes`` below 32 MiB (and plain ones below 64 KiB) are read
    by the Python engine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import lru_cache
from queue import Empty, Full, Queue
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from research.canonical import TWITTER_HOSTS
from research.io.accounting import FileLog
from research.io.assemble import (
    RAW_SCHEMA,
    RawBatch,
    RawRows,
    parse_twitter_time_ms,
    twitter_times_ms,
)
from research.io.jsonlines import JsonValue, as_id, json_row_batches, parse_json
from research.io.markup import parse_source
from research.io.options import ReadOptions
from research.io.sources import InputFile, Line, iter_lines, long_lines, read_head, rows_before

__all__ = ["NOISE_KEYS", "read_twitter_v1", "tweet_row"]

#: Keys of stream notices that are not tweets (skipped with the key as reason).
NOISE_KEYS: tuple[str, ...] = (
    "delete", "scrub_geo", "limit", "status_withheld", "user_withheld", "disconnect",
    "warning", "friends", "friends_str", "event", "direct_message", "control",
)  # fmt: skip

Row = tuple[
    str,
    str,
    "str | None",
    int,
    "str | None",
    "str | None",
    list[str],
    list[str],
    "str | None",
    bool,
]


def _as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _entry_link(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    unwound = entry.get("unwound")
    candidates = (
        unwound.get("url") if isinstance(unwound, dict) else None,
        entry.get("unwound_url"),
        entry.get("expanded_url"),
        entry.get("url"),
    )
    return next((c for c in candidates if isinstance(c, str) and c), None)


def _links(content: dict[str, Any]) -> tuple[list[str], list[str]]:
    extended = content.get("extended_tweet")
    entities = extended.get("entities") if isinstance(extended, dict) else content.get("entities")
    if not isinstance(entities, dict):
        return [], []
    urls = entities.get("urls")
    media = entities.get("media")
    found = [link for link in map(_entry_link, urls if isinstance(urls, list) else ()) if link]
    attached = [
        link
        for link in (
            e.get("expanded_url") or e.get("url") if isinstance(e, dict) else None
            for e in (media if isinstance(media, list) else ())
        )
        if isinstance(link, str) and link
    ]
    return found, attached


@lru_cache(maxsize=65_536)
def _source(source: str) -> tuple[str | None, str | None]:
    return parse_source(source)


def tweet_row(tweet: Any) -> Row | str:
    """The raw post fields of one v1.1 tweet object, or the reason it is rejected.

    Examples
    --------
    >>> row = tweet_row({"id_str": "1", "user": {"id_str": "7", "screen_name": "bob"},
    ...     "created_at": "Wed Oct 10 20:19:24 +0000 2018", "text": "hi",
    ...     "source": '<a href="http://weheartit.com">We Heart It</a>',
    ...     "entities": {"urls": [{"expanded_url": "http://example.com/"}]}})
    >>> row[:6]
    ('1', '7', 'bob', 1539202764000, 'We Heart It', 'http://weheartit.com')
    >>> tweet_row({"user": {}})
    'missing_post_id'
    """
    if not isinstance(tweet, dict):
        return "not_a_tweet"
    post_id = as_id(tweet.get("id_str")) or as_id(tweet.get("id"))
    if post_id is None:
        return "missing_post_id"
    user = tweet.get("user")
    if not isinstance(user, dict):
        return "missing_account_id"
    account_id = as_id(user.get("id_str")) or as_id(user.get("id"))
    if account_id is None:
        return "missing_account_id"
    timestamp = parse_twitter_time_ms(tweet.get("created_at"))
    if timestamp is None:
        return "bad_timestamp"
    source = tweet.get("source")
    app_name, app_url = _source(source) if isinstance(source, str) else (None, None)
    original = tweet.get("retweeted_status")
    is_repost = isinstance(original, dict)
    urls, media = _links(original if is_repost else tweet)  # type: ignore[arg-type]
    extended = tweet.get("extended_tweet")
    text = next(
        (
            t
            for t in (
                extended.get("full_text") if isinstance(extended, dict) else None,
                tweet.get("full_text"),
                tweet.get("text"),
            )
            if isinstance(t, str)
        ),
        None,
    )
    return (post_id, account_id, _as_text(user.get("screen_name")), timestamp, app_name, app_url,
            urls, media, text, is_repost)  # fmt: skip


def _handle(value: JsonValue, rows: RawRows, log: FileLog) -> None:
    if value.error is not None:  # the DuckDB lane's re-read rows come here unparsed too
        log.read()
        log.reject(
            value.reason or "invalid_json", raw=value.raw, line=value.line, detail=value.error
        )
        return
    obj = value.value
    items: list[Any] | None = None
    if isinstance(obj, dict):
        statuses = obj.get("statuses")
        if isinstance(statuses, list):
            items = statuses
        else:
            notice = next((k for k in NOISE_KEYS if obj.get(k) is not None), None)
            if notice is not None:
                log.read()
                log.skip(notice)
                return
    elif isinstance(obj, list):
        items = obj
    if items is None:
        log.read()
        row = tweet_row(obj)
        if isinstance(row, str):
            log.reject(row, raw=value.raw, line=value.line)
        else:
            rows.add(*row)
        return
    if not items:
        log.read()
        log.skip("empty_page")
        return
    for index, item in enumerate(items):
        log.read()
        row = tweet_row(item)
        if isinstance(row, str):
            log.reject(row, raw=orjson.dumps(item), line=value.line, item=index)
        else:
            rows.add(*row)


def _read_python(
    source: InputFile, log: FileLog, options: ReadOptions, *, skip_rows: int = 0
) -> Iterator[RawBatch]:
    yield from json_row_batches(
        source,
        log,
        options,
        RawRows("twitter"),
        _handle,
        lambda table: RawBatch(table, TWITTER_HOSTS),
        skip_rows=skip_rows,
    )


# --- DuckDB engine -----------------------------------------------------------------

_URLS = (
    "STRUCT(url VARCHAR, expanded_url VARCHAR, unwound_url VARCHAR, unwound STRUCT(url VARCHAR))[]"
)
_MEDIA = "STRUCT(url VARCHAR, expanded_url VARCHAR)[]"
_ENTITIES = f"STRUCT(urls {_URLS}, media {_MEDIA})"
_COLUMNS = {
    "id_str": "VARCHAR",
    "id": "VARCHAR",
    "created_at": "VARCHAR",
    "source": "VARCHAR",
    "text": "VARCHAR",
    "full_text": "VARCHAR",
    "user": "STRUCT(id_str VARCHAR, id VARCHAR, screen_name VARCHAR)",
    "entities": _ENTITIES,
    "extended_tweet": f"STRUCT(full_text VARCHAR, entities {_ENTITIES})",
    # Same shape as the tweet's own fields, so that either can be the "content".
    "retweeted_status": f"STRUCT(entities {_ENTITIES}, extended_tweet STRUCT(full_text VARCHAR, entities {_ENTITIES}))",
    "statuses": "JSON",
    **{key: "JSON" for key in NOISE_KEYS},
}


def _query(path: str, compression: str, max_line_bytes: int) -> str:
    # Only plain projections and cheap per-row expressions here: which rows are
    # clean tweets, their times, links and apps are worked out on the Arrow
    # batches (vectorised, once per distinct value where possible).
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in _COLUMNS.items()) + "}"
    notices = " ".join(f"WHEN \"{k}\" IS NOT NULL THEN '{k}'" for k in NOISE_KEYS)
    notice_values = " ".join(f'WHEN "{k}" IS NOT NULL THEN "{k}"' for k in NOISE_KEYS)
    return f"""
    SELECT
        coalesce(nullif(id_str, ''), nullif(id, '')) AS post_id,
        coalesce(nullif("user".id_str, ''), nullif("user".id, '')) AS account_id,
        "user".screen_name AS account_name,
        created_at,
        source,
        coalesce(extended_tweet.full_text, full_text, text) AS text,
        retweeted_status IS NOT NULL AS is_repost,
        retweeted_status AS retweet,
        extended_tweet AS extended,
        CASE WHEN retweeted_status IS NOT NULL THEN
                CASE WHEN retweeted_status.extended_tweet IS NOT NULL
                     THEN retweeted_status.extended_tweet.entities ELSE retweeted_status.entities END
             WHEN extended_tweet IS NOT NULL THEN extended_tweet.entities
             ELSE entities END AS links,
        statuses IS NOT NULL AS page,
        CASE {notices} END AS notice,
        CASE {notice_values} END AS notice_value
    FROM read_json({_literal(path)}, format='newline_delimited', records=true,
                   ignore_errors=true, compression='{compression}', columns={columns},
                   maximum_object_size={max_line_bytes})
    """


# Rows assembled at a time by the DuckDB lane (at most ``chunk_rows``). The
# work per distinct value (sources, URLs, hosts) is repeated once per chunk,
# so larger is cheaper; memory grows with it (peak RSS on 10^6 benchmark
# posts: ~530 MB at 65k rows, ~570-600 MB at 100k, ~700-730 MB at 200k).
_ASSEMBLE_ROWS = 100_000


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_nonempty(*candidates: pa.Array) -> pa.Array:
    """Per row, the first candidate that is a non-empty string (else null)."""
    out = None
    for candidate in candidates:
        candidate = pc.if_else(pc.equal(candidate, ""), pa.scalar(None, pa.string()), candidate)
        out = candidate if out is None else pc.coalesce(out, candidate)
    return out


def _picked_links(lists: pa.Array, pick) -> pa.Array:  # type: ignore[no-untyped-def]
    """A list<string> per row: ``pick`` applied to each entry of a list of link objects."""
    n = len(lists)
    parent = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    entries = pc.list_flatten(lists)
    counts = np.bincount(parent, minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(
        pa.array(offsets), pick(entries) if len(entries) else pa.array([], pa.string())
    )


def _url_entry_link(entries: pa.Array) -> pa.Array:
    # As _entry_link: unwound.url, unwound_url, expanded_url, url. struct_field
    # (unlike .field()) gives null under a null parent.
    field = pc.struct_field
    return _first_nonempty(
        field(field(entries, "unwound"), "url"),
        field(entries, "unwound_url"),
        field(entries, "expanded_url"),
        field(entries, "url"),
    )


def _media_entry_link(entries: pa.Array) -> pa.Array:
    return _first_nonempty(
        pc.struct_field(entries, "expanded_url"), pc.struct_field(entries, "url")
    )


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


#: The largest id a JSON number can carry through orjson as an integer (larger
#: ones become floats there, and are no id).
_MAX_NUMERIC_ID = "18446744073709551615"


def _clean_ids(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    # What every engine reads the same way: ASCII digits that also fit an
    # unsigned 64-bit integer (a longer one may have been a JSON number, which
    # the Python engine reads as a float, hence no id).
    length = pc.binary_length(ids)
    fits = pc.or_(
        pc.less(length, len(_MAX_NUMERIC_ID)),
        pc.and_(pc.equal(length, len(_MAX_NUMERIC_ID)), pc.less_equal(ids, _MAX_NUMERIC_ID)),
    )
    return _mask(pc.and_(pc.ascii_is_decimal(ids), fits))


# A JSON value that is a number or NaN / infinity (as DuckDB writes a JSON column).
_NUMBER_OR_CONSTANT = r"^\s*-?(?:[0-9]|(?i:nan|inf))"

# What DuckDB makes of a JSON number, boolean, object or array read into a text
# column; the Python engine reads such a value as no text at all.
_NOT_A_STRING = r"^(?:-?[0-9][0-9.eE+-]*|true|false|-?(?i:nan|inf|infinity))$"


def _maybe_not_strings(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where a text value may have been another JSON type (then the exact engine decides)."""
    return _mask(
        pc.or_(
            pc.match_substring_regex(values, _NOT_A_STRING),
            pc.or_(pc.starts_with(values, "{"), pc.starts_with(values, "[")),
        )
    )


def _maybe_not_string_links(lists: pa.Array, fields: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """Rows any of whose link entries holds a text field that may have been another JSON type."""
    out = np.zeros(len(lists), dtype=bool)
    entries = pc.list_flatten(lists)
    if not len(entries):
        return out
    parent = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    odd = np.zeros(len(entries), dtype=bool)
    for path in fields:
        values = entries
        for name in path:
            values = pc.struct_field(values, name)
        odd |= _maybe_not_strings(values)
    out[parent[odd]] = True
    return out


def _not_an_object(struct: pa.Array | pa.ChunkedArray, fields: tuple[str, ...]) -> np.ndarray:
    # DuckDB reads a non-object (or an object without the fields we read) into a
    # struct of nulls; only the exact engine can tell the two apart.
    if isinstance(struct, pa.ChunkedArray):
        struct = struct.combine_chunks()
    present = _mask(struct.is_valid())
    for name in fields:
        present &= ~_mask(pc.struct_field(struct, name).is_valid())
    return present


_URL_FIELDS = (("unwound", "url"), ("unwound_url",), ("expanded_url",), ("url",))
_MEDIA_FIELDS = (("expanded_url",), ("url",))


def _needs_exact_engine(table: pa.Table) -> np.ndarray:
    """Rows whose DuckDB reading may differ from the Python engine's: they are re-read by it."""
    odd = np.zeros(table.num_rows, dtype=bool)
    for name in ("account_name", "source", "text"):
        odd |= _maybe_not_strings(table.column(name))
    for name, fields in (
        ("retweet", ("entities", "extended_tweet")),
        ("extended", ("full_text", "entities")),
        ("links", ("urls", "media")),
    ):
        odd |= _not_an_object(table.column(name), fields)
    # A retweet's extended_tweet decides where its links are read from, as the tweet's own does.
    odd |= _not_an_object(
        pc.struct_field(table.column("retweet"), "extended_tweet"), ("full_text", "entities")
    )
    links = table.column("links").combine_chunks()
    odd |= _maybe_not_string_links(pc.struct_field(links, "urls"), _URL_FIELDS)
    odd |= _maybe_not_string_links(pc.struct_field(links, "media"), _MEDIA_FIELDS)
    return odd


def _raw_from_duckdb(batch: pa.Table, times_ms: np.ndarray) -> pa.Table:
    sources = batch.column("source").combine_chunks().dictionary_encode()
    parsed = [_source(s) if s is not None else (None, None) for s in sources.dictionary.to_pylist()]
    app_name = pa.array([p[0] for p in parsed], pa.string()).take(sources.indices)
    app_url = pa.array([p[1] for p in parsed], pa.string()).take(sources.indices)
    links = batch.column("links").combine_chunks()
    n = batch.num_rows
    return pa.Table.from_arrays(
        [
            batch.column("post_id"),
            batch.column("account_id"),
            batch.column("account_name"),
            pa.array(times_ms, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            app_name,
            app_url,
            _picked_links(pc.struct_field(links, "urls"), _url_entry_link),
            _picked_links(pc.struct_field(links, "media"), _media_entry_link),
            batch.column("text"),
            batch.column("is_repost"),
            pa.repeat(pa.scalar("twitter", pa.string()), n),
        ],
        schema=RAW_SCHEMA,
    )


class _LineSeeker:
    """The lines at given row positions (0-based among non-blank lines), in increasing order.

    A second, forward-only pass over the file, opened on the first request:
    the DuckDB lane hands the rows it cannot take as they are to the exact
    engine, at their place in the file.
    """

    def __init__(self, source: InputFile, max_line_bytes: int) -> None:
        self.source = source
        self.max_line_bytes = max_line_bytes
        self.lines: Iterator[Line] | None = None
        self.position = -1
        self.current: Line | None = None

    def line(self, position: int) -> Line | None:
        if self.lines is None:
            self.lines = iter_lines(self.source, max_line_bytes=self.max_line_bytes)
        while self.position < position:
            self.current = next(self.lines, None)
            if self.current is None:
                return None
            self.position += 1
        return self.current if self.position == position else None

    def count_rest(self) -> int:
        """Rows in the whole file (the count check at the end of a file)."""
        if self.lines is None:
            self.lines = iter_lines(self.source, max_line_bytes=self.max_line_bytes)
        return self.position + 1 + sum(1 for _ in self.lines)

    def close(self) -> None:
        if self.lines is not None:
            self.lines.close()  # type: ignore[attr-defined]


def _json_value(line: Line | None, position: int, max_line_bytes: int) -> JsonValue:
    if line is None:
        return JsonValue(
            None,
            b"",
            error=f"row {position + 1} could not be matched to a line of the file",
            reason="unreadable_row",
        )
    if line.error is not None:
        return JsonValue(line.number, line.head, error=line.error, reason="undecodable_tail")
    if line.raw is None:
        return JsonValue(
            line.number,
            line.head,
            error=f"line longer than {max_line_bytes} bytes",
            reason="line_too_long",
        )
    value, error, reason = parse_json(line.raw)
    return JsonValue(line.number, line.raw, value, error, reason)


def _read_duckdb(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    import duckdb

    config: dict[str, Any] = {}
    if options.duckdb_threads is not None:
        config["threads"] = options.duckdb_threads
    con = duckdb.connect(config=config)
    con.execute("SET TimeZone = 'UTC'")
    compression = {"gzip": "gzip", "zstd": "zstd", None: "none"}[source.compression]
    seeker = _LineSeeker(source, options.max_line_bytes)
    consumed = 0
    exact_rows = 0
    # DuckDB reads lines longer than its maximum_object_size (up to twice that,
    # depending on where they fall in its buffers): those longer than
    # max_line_bytes are found first and left to the exact engine (line_too_long).
    too_long = np.empty(0, dtype=np.int64)
    if source.compression is None:
        starts = long_lines(source.path, options.max_line_bytes)
        if starts:
            too_long = np.asarray(rows_before(source.path, starts), dtype=np.int64)

    def chunk(table: pa.Table) -> RawBatch | None:
        # Rows of the usual shape are taken as DuckDB read them; stream notices
        # are skipped; every other row (pages, malformed JSON, unusual ids,
        # times or types) is re-read by the exact engine at its place in the
        # file, so that the batch keeps the file's order.
        nonlocal consumed, exact_rows
        n = table.num_rows
        base = consumed
        consumed += n
        page = _mask(table.column("page"))
        notice = table.column("notice")
        noticed = _mask(notice.is_valid()) & ~page
        odd_notice = np.zeros(n, dtype=bool)
        if noticed.any():
            # A notice whose value is a number may be NaN, an infinity or beyond a
            # double's range, which the dialect reads as null (no notice): the exact
            # engine decides.
            odd_notice = noticed & _mask(
                pc.match_substring_regex(
                    table.column("notice_value").cast(pa.string()), _NUMBER_OR_CONSTANT
                )
            )
            noticed &= ~odd_notice
        times_ms, timed = twitter_times_ms(table.column("created_at"))
        ok = (
            ~page
            & ~noticed
            & ~odd_notice
            & timed
            & _clean_ids(table.column("post_id"))
            & _clean_ids(table.column("account_id"))
        )
        ok &= ~_needs_exact_engine(table)
        if len(too_long):
            ok &= ~np.isin(np.arange(base, base + n), too_long)
        exact = ~ok & ~noticed
        log.read(n - int(exact.sum()))  # the exact engine counts its own rows
        if noticed.any():
            names, counts = np.unique(
                np.asarray(notice.filter(pa.array(noticed)).to_pylist(), dtype=object),
                return_counts=True,
            )
            for name, count in zip(names, counts, strict=True):
                log.skip(str(name), int(count))
        raw = _raw_from_duckdb(table.filter(pa.array(ok)), times_ms[ok]) if ok.any() else None
        if exact.any():
            rows = RawRows("twitter")
            positions: list[int] = []
            for position in (np.flatnonzero(exact) + base).tolist():
                before = len(rows)
                value = _json_value(seeker.line(position), position, options.max_line_bytes)
                _handle(value, rows, log)
                positions += [position] * (len(rows) - before)
            exact_rows += int(exact.sum())
            if positions:
                ordered = np.concatenate([np.flatnonzero(ok) + base, np.asarray(positions)])
                exact_table = rows.take_table()
                both = pa.concat_tables([raw, exact_table]) if raw is not None else exact_table
                raw = both.take(pa.array(np.argsort(ordered, kind="stable")))
        return RawBatch(raw, TWITTER_HOSTS) if raw is not None and raw.num_rows else None

    failure: BaseException | None = None
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    # DuckDB hands over small batches (a few thousand rows): gather them into
    # chunks of _ASSEMBLE_ROWS (at most chunk_rows).
    chunk_rows = min(options.chunk_rows, _ASSEMBLE_ROWS)
    batches: Iterator[pa.RecordBatch] = iter(())
    try:
        try:
            query = _query(str(source.path), compression, _object_size(source, options))
            batches = _prefetched(con.sql(query).to_arrow_reader(options.chunk_rows))
        except Exception as err:  # DuckDB could not start: the exact engine reads the file
            failure = err
        while failure is None:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception as err:  # any failure of the fast lane: the exact engine goes on
                failure = err
                break
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= chunk_rows:
                # Cut at exactly chunk_rows (a row group's bound); the rest waits.
                gathered = pa.Table.from_batches(pending)
                rest = gathered.slice(chunk_rows)
                pending, pending_rows = rest.to_batches(), rest.num_rows
                out = chunk(gathered.slice(0, chunk_rows))
                if out is not None:
                    yield out
        if pending:
            out = chunk(pa.Table.from_batches(pending))
            pending = []
            if out is not None:
                yield out
        con.close()
        if failure is not None:
            log.notes.append(
                f"DuckDB stopped after {consumed} rows ({type(failure).__name__}: "
                f"{str(failure)[:200]}); the Python engine read the rest"
            )
            seeker.close()
            yield from _read_python(source, log, options, skip_rows=consumed)
        elif exact_rows:
            total = seeker.count_rest()
            if total != consumed:
                log.notes.append(
                    f"the file has {total} non-blank lines where DuckDB read {consumed} rows: "
                    "the line numbers of re-read rows may be wrong"
                )
    finally:
        seeker.close()
        con.close()


def _prefetched(reader: pa.RecordBatchReader, depth: int = 16) -> Iterator[pa.RecordBatch]:
    """Batches of a reader, pulled by a helper thread so DuckDB reads while Python works.

    An error raised by the reader is raised again here, in the caller's thread.
    """
    queue: Queue[pa.RecordBatch | BaseException | None] = Queue(maxsize=depth)
    stop = threading.Event()

    def pull() -> None:
        try:
            for batch in reader:
                while not stop.is_set():
                    try:
                        queue.put(batch, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(None)
        except BaseException as err:  # handed to the consumer, who re-raises it
            queue.put(err)

    worker = threading.Thread(target=pull, name="duckdb-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                worker.join(timeout=0.05)


#: DuckDB never reads a line longer than twice its maximum_object_size, which it
#: raises to at least 16 MiB.
_DUCKDB_MIN_OBJECT = 16 << 20
#: Below this max_line_bytes, finding the longer lines of a file would take too many probes.
_MIN_PROBED_LINE = 64 << 10


def _object_size(source: InputFile, options: ReadOptions) -> int:
    """DuckDB's maximum_object_size: all of max_line_bytes where longer lines are found
    beforehand (uncompressed files), else half, so that DuckDB cannot read a longer line."""
    if source.compression is None:
        return options.max_line_bytes
    return options.max_line_bytes // 2


def _duckdb_bounds_lines(source: InputFile, options: ReadOptions) -> bool:
    """Whether the DuckDB lane can hold lines to ``max_line_bytes`` exactly, as the Python engine does."""
    if source.compression is None:
        return options.max_line_bytes >= _MIN_PROBED_LINE
    return options.max_line_bytes // 2 >= _DUCKDB_MIN_OBJECT


def _python_only(source: InputFile) -> bool:
    if source.compression == "bzip2":
        return True
    head = read_head(source, 1 << 16).lstrip()
    if head.startswith((b"[", b"\xef\xbb\xbf")):
        return True
    first = head.split(b"\n", 1)[0]
    return first.startswith(b"{") and b'"statuses"' in first[:4096] and b'"search_metadata"' in head


def read_twitter_v1(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    """Raw posts of a Twitter v1.1 file (see the module documentation).

    Parameters
    ----------
    source
        The file.
    log
        Where rows read, rejected and skipped are counted.
    options
        Engine, threads, chunk size.
    """
    use_duckdb = options.engine == "duckdb" or (
        options.engine == "auto" and not _python_only(source)
    )
    if use_duckdb and source.compression != "bzip2" and _duckdb_bounds_lines(source, options):
        log.engine = "duckdb"
        yield from _read_duckdb(source, log, options)
    else:
        if use_duckdb and source.compression != "bzip2":
            log.notes.append(
                f"read by the Python engine: DuckDB cannot hold {source.compression or 'plain'} "
                f"lines to max_line_bytes={options.max_line_bytes}"
            )
        log.engine = "python"
        yield from _read_python(source, log, options)

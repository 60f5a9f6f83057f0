"""Twitter's information-operations archive (the "elections integrity" CSV releases).

Columns are chosen by name, since their order differs between releases:

====================  ===================================================================
archive column        posts column
====================  ===================================================================
``tweetid``           ``post_id``
``userid``            ``account_id`` (kept as written: numeric in unhashed releases,
                      64 hex characters or base64 in hashed ones)
``user_screen_name``  ``account_name`` (hashed like ``userid`` in hashed releases)
``tweet_time``        ``timestamp`` (``2016-03-01 17:45``, UTC)
``tweet_client_name`` ``app_name`` (the tweet's ``source`` name; no web site is given)
``urls``              ``urls``: a list literal, ``[]``, ``['http://a', 'http://b']`` or
                      ``[http://a, http://b]``, read by :func:`research.io.listliteral.parse_list`;
                      a malformed list rejects the record (``bad_links``)
``tweet_text``        ``text``
``is_retweet``        ``is_repost`` (``True``/``False``)
====================  ===================================================================

``tweetid``, ``userid`` and ``tweet_time`` are needed; a file without them
is a :class:`~research.errors.SchemaError` naming the missing columns. As the
archive records it, a retweet's ``urls`` are those of the retweeted tweet.
Rows are CSV records (see :mod:`research.io.tabular`).
"""

from __future__ import annotations

from collections.abc import Iterator

from research.io.accounting import FileLog
from research.io.assemble import RawBatch
from research.io.listliteral import parse_list
from research.io.options import ReadOptions
from research.io.sources import InputFile
from research.io.tabular import RecordNumbers, check_columns, csv_batches, csv_header, rows_to_raw

__all__ = ["ARCHIVE_COLUMNS", "read_info_ops"]

#: Archive column -> posts column.
ARCHIVE_COLUMNS = {
    "tweetid": "post_id",
    "userid": "account_id",
    "user_screen_name": "account_name",
    "tweet_time": "timestamp",
    "tweet_client_name": "app_name",
    "urls": "urls",
    "tweet_text": "text",
    "is_retweet": "is_repost",
}
_NEEDED = ("tweetid", "userid", "tweet_time")


def read_info_ops(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    """Raw posts of an information-operations archive CSV (see the module documentation)."""
    log.engine = "pyarrow"
    header = [name.strip() for name in csv_header(source)]
    lowered = {name.lower(): name for name in header}
    check_columns(source, list(lowered), _NEEDED)
    chosen = {lowered[a]: p for a, p in ARCHIVE_COLUMNS.items() if a in lowered}
    record = 1
    numbers = RecordNumbers()
    for table in csv_batches(source, list(chosen), log, options, numbers):
        table = table.rename_columns([chosen[c] for c in table.column_names])
        yield rows_to_raw(
            table,
            source,
            log,
            record,
            platform="twitter",
            parse_links=parse_list,
            record_of=numbers,
        )
        record += table.num_rows

"""The formats we read, and telling them apart from a file's first bytes.

=====================  ===============================================================
format                 what it is
=====================  ===============================================================
``twitter-v1``         Twitter API v1.1 tweets, one per line (twarc 1), or API pages
``twitter-v2``         Twitter API v2 as twarc2 writes it: response pages, or flattened tweets
``gnip``               Gnip / PowerTrack activity streams (historical Twitter purchases)
``twitter-info-ops``   Twitter's information-operations archive CSV (``tweetid``, ``userid``...)
``mastodon``           Mastodon statuses (API JSON), one per line or arrays
``csv``                a CSV with the posts schema's column names (or a column map)
``parquet``            a Parquet file with the posts schema's column names (or a column map)
=====================  ===============================================================

Detection looks at the first non-blank line (decompressed): Parquet by its
``PAR1`` magic; JSON by the keys of the first object (``statuses`` or
``id_str`` + ``user`` for v1.1, ``data`` + ``includes`` or ``author_id`` for
v2, ``actor`` with ``postedTime`` or ``verb`` for Gnip, ``account.acct`` for Mastodon); CSV by its header (``tweetid`` and
``userid`` for the archive, ``post_id`` and ``account_id`` for the generic
form). Anything else is an :class:`~research.errors.InputFileError` that
names the file and what was seen; ``--format`` (``format=`` in Python) says what a file is.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from research.errors import InputFileError, unknown_name
from research.io.accounting import FileLog
from research.io.assemble import RawBatch
from research.io.options import FORMATS, ReadOptions
from research.io.sources import InputFile, read_head

__all__ = ["FORMATS", "detect_format", "reader_for"]

Reader = Callable[[InputFile, FileLog, ReadOptions], Iterator[RawBatch]]


_V1_NOTICES = (
    "delete",
    "scrub_geo",
    "limit",
    "status_withheld",
    "user_withheld",
    "disconnect",
    "warning",
)


def reader_for(format: str) -> Reader:
    """The reader function of a format name."""
    if format == "twitter-v1":
        from research.io.twitter_v1 import read_twitter_v1

        return read_twitter_v1
    if format == "twitter-v2":
        from research.io.twitter_v2 import read_twitter_v2

        return read_twitter_v2
    if format == "gnip":
        from research.io.gnip import read_gnip

        return read_gnip
    if format == "mastodon":
        from research.io.mastodon import read_mastodon

        return read_mastodon
    if format == "twitter-info-ops":
        from research.io.info_ops import read_info_ops

        return read_info_ops
    if format in ("csv", "parquet"):
        from research.io.tabular import read_csv, read_parquet

        return read_csv if format == "csv" else read_parquet
    raise unknown_name("input format", format, FORMATS)


def _classify(obj: Any) -> str | None:
    if isinstance(obj, list):
        return next((_classify(item) for item in obj[:1] if isinstance(item, dict)), None)
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("actor"), dict) and ("postedTime" in obj or "verb" in obj):
        return "gnip"
    info = obj.get("info")
    if isinstance(info, dict) and ("activity_count" in info or "message" in info):
        return "gnip"
    if "statuses" in obj or any(key in obj for key in _V1_NOTICES):
        return "twitter-v1"
    if "data" in obj and any(k in obj for k in ("includes", "meta", "__twarc", "matching_rules")):
        return "twitter-v2"
    if "errors" in obj and "data" not in obj and "statuses" not in obj:
        return "twitter-v2"
    author = obj.get("author")
    if (
        "author_id" in obj
        or "edit_history_tweet_ids" in obj
        or (isinstance(author, dict) and "username" in author)
    ):
        return "twitter-v2"
    account = obj.get("account")
    if isinstance(account, dict) and "acct" in account:
        return "mastodon"
    if isinstance(obj.get("user"), dict) and ("id_str" in obj or "created_at" in obj):
        return "twitter-v1"
    return None


def _guess_from_keys(head: bytes) -> str | None:
    # A first line too long for the head: judge by the keys it starts with.
    if b'"actor"' in head and (b'"postedTime"' in head or b'"verb"' in head):
        return "gnip"
    if b'"statuses"' in head or (b'"id_str"' in head and b'"user"' in head):
        return "twitter-v1"
    if b'"author_id"' in head or (b'"data"' in head and b'"includes"' in head):
        return "twitter-v2"
    if b'"acct"' in head and b'"account"' in head:
        return "mastodon"
    return None


def detect_format(source: InputFile) -> str:
    """The format of a file, from its first bytes.

    Parameters
    ----------
    source
        The file (with its compression).

    Returns
    -------
    str
        One of :data:`FORMATS`, or ``"empty"`` for a file with no content.

    Raises
    ------
    InputFileError
        If the content is none of the formats; the message quotes what was seen.
    """
    if source.compression is None:
        with source.path.open("rb") as handle:
            if handle.read(4) == b"PAR1":
                return "parquet"
    head = read_head(source)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\f\v")
    if not text:
        return "empty"
    if text[:1] in (b"{", b"["):
        first_line = text.split(b"\n", 1)[0]
        try:
            found = _classify(orjson.loads(first_line))
        except orjson.JSONDecodeError:
            found = None
            if len(head) < (1 << 16):
                try:
                    found = _classify(orjson.loads(text))
                except orjson.JSONDecodeError:
                    found = None
            found = found or _guess_from_keys(text)
        if found is not None:
            return found
        raise InputFileError(
            f"{source.name}: JSON of a kind we do not read; first line starts "
            f"{_quote(first_line)}. Name its format with --format (format= in Python), one of "
            f"{', '.join(FORMATS)}"
        )
    header_line = text.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    try:
        header = {name.strip().lower() for name in next(csv.reader([header_line]))}
    except (csv.Error, StopIteration):
        header = set()
    if {"tweetid", "userid"} <= header:
        return "twitter-info-ops"
    if {"post_id", "account_id"} <= header:
        return "csv"
    raise InputFileError(
        f"{source.name}: cannot tell the format; the first line is {_quote(header_line)}. "
        f"Name it with --format (format= in Python), one of {', '.join(FORMATS)}; a CSV whose "
        "columns have other names: --format csv --map SOURCE=COLUMN (column_map= in Python)"
    )


def _quote(text: bytes | str, limit: int = 120) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return repr(text[:limit] + ("..." if len(text) > limit else ""))

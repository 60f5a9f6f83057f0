"""Twitter API v2 as twarc2 writes it: response pages and flattened tweets.

Rows
    A response page (``{"data": [...], "includes": {...}, "meta": ...}``,
    or a stream line whose ``data`` is one tweet) gives one row per tweet in
    ``data``. A flattened line (twarc2 ``flatten``: one tweet with ``author``
    embedded) is one row. A line holding only ``errors`` (or a problem
    object with ``title``/``detail``) is one row skipped as ``api_error``; a
    page with no ``data`` is one row skipped as ``empty_page``.
Fields
    ``post_id`` = ``id``; ``account_id`` = ``author_id`` (or ``author.id``);
    ``account_name`` = the author's ``username``, from ``author`` or joined
    from the page's ``includes.users``; ``timestamp`` = ``created_at``
    (ISO 8601); ``app_name`` = ``source``, which the API stopped sending in
    December 2022: a missing source is a null app, not an error. v2 gives
    no app web site.
Links
    ``entities.urls[]``: ``unwound_url``, else ``expanded_url``, else ``url``.
    Media and tweet links in them are platform links after canonicalisation.
Retweets and quotes
    As for v1.1: a retweet (``referenced_tweets`` of type ``retweeted``)
    is the retweeter's post with ``is_repost=True`` and the original's links,
    taken from the original in ``includes.tweets`` (or embedded by
    ``flatten``) when present, else from the retweet's own (truncated)
    entities. A quote carries only the quoter's links.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from research.canonical import TWITTER_HOSTS
from research.io.accounting import FileLog
from research.io.assemble import RawBatch, RawRows, parse_iso_ms
from research.io.jsonlines import JsonValue, as_id, json_row_batches
from research.io.options import ReadOptions
from research.io.sources import InputFile

__all__ = ["read_twitter_v2", "tweet_row_v2"]


def _links(tweet: dict[str, Any]) -> list[str]:
    entities = tweet.get("entities")
    urls = entities.get("urls") if isinstance(entities, dict) else None
    found = []
    for entry in urls if isinstance(urls, list) else ():
        if isinstance(entry, dict):
            link = next(
                (
                    entry.get(k)
                    for k in ("unwound_url", "expanded_url", "url")
                    if isinstance(entry.get(k), str) and entry.get(k)
                ),
                None,
            )
            if link:
                found.append(link)
    return found


def _original(tweet: dict[str, Any], included: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    refs = tweet.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, dict) and ref.get("type") == "retweeted":
            if "text" in ref or "entities" in ref:  # flattened: the tweet is embedded
                return ref
            found = included.get(str(ref.get("id")))
            return found if found is not None else {}
    return None


def tweet_row_v2(
    tweet: Any, users: dict[str, str], included: dict[str, dict[str, Any]]
) -> tuple[Any, ...] | str:
    """The raw post fields of one v2 tweet, or the reason it is rejected.

    Parameters
    ----------
    tweet
        A tweet object (from ``data``, or a flattened line).
    users
        ``includes.users`` of its page: user id -> username.
    included
        ``includes.tweets`` of its page: tweet id -> tweet.

    Examples
    --------
    >>> row = tweet_row_v2({"id": "1", "author_id": "7", "created_at": "2021-09-22T16:37:29.000Z",
    ...     "text": "hi", "source": "Twitter Web App"}, {"7": "bob"}, {})
    >>> row[:5]
    ('1', '7', 'bob', 1632328649000, 'Twitter Web App')
    """
    if not isinstance(tweet, dict):
        return "not_a_tweet"
    post_id = as_id(tweet.get("id"))
    if post_id is None:
        return "missing_post_id"
    author = tweet.get("author")
    account_id = as_id(tweet.get("author_id")) or (
        as_id(author.get("id")) if isinstance(author, dict) else None
    )
    if account_id is None:
        return "missing_account_id"
    timestamp = parse_iso_ms(tweet.get("created_at"))
    if timestamp is None:
        return "bad_timestamp"
    name = author.get("username") if isinstance(author, dict) else users.get(account_id)
    source = tweet.get("source")
    original = _original(tweet, included)
    is_repost = original is not None
    urls = _links(original) if original else _links(tweet)
    text = tweet.get("text")
    return (post_id, account_id, name if isinstance(name, str) else None, timestamp,
            source if isinstance(source, str) else None, None, urls, [],
            text if isinstance(text, str) else None, is_repost)  # fmt: skip


def _handle(value: JsonValue, rows: RawRows, log: FileLog) -> None:
    obj = value.value
    if isinstance(obj, list):  # a JSON array of flattened tweets
        page: dict[str, Any] = {"data": obj}
    elif isinstance(obj, dict):
        page = obj
    else:
        log.read()
        log.reject("not_a_tweet", raw=value.raw, line=value.line)
        return
    data = page.get("data")
    if data is None:
        log.read()
        if "errors" in page or "title" in page or "detail" in page:
            log.skip("api_error")
        elif "id" in page:  # a flattened tweet
            _add(page, {}, {}, rows, log, value, None)
        else:
            log.skip("empty_page")
        return
    found = page.get("includes")
    includes: dict[str, Any] = found if isinstance(found, dict) else {}
    users: dict[str, str] = {
        str(u.get("id")): u["username"]
        for u in includes.get("users") or ()
        if isinstance(u, dict) and isinstance(u.get("username"), str)
    }
    included = {str(t.get("id")): t for t in includes.get("tweets") or () if isinstance(t, dict)}
    if isinstance(data, list):
        if not data:
            log.read()
            log.skip("empty_page")
        for index, tweet in enumerate(data):
            log.read()
            _add(tweet, users, included, rows, log, value, index)
    else:
        log.read()
        _add(data, users, included, rows, log, value, None)


def _add(
    tweet: Any,
    users: dict[str, str],
    included: dict[str, dict[str, Any]],
    rows: RawRows,
    log: FileLog,
    value: JsonValue,
    index: int | None,
) -> None:
    row = tweet_row_v2(tweet, users, included)
    if isinstance(row, str):
        raw = value.raw if index is None else orjson.dumps(tweet)
        log.reject(row, raw=raw, line=value.line, item=index)
    else:
        rows.add(*row)


def read_twitter_v2(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    """Raw posts of a twarc2 file (see the module documentation)."""
    log.engine = "python"
    yield from json_row_batches(
        source, log, options, RawRows("twitter"), _handle, lambda t: RawBatch(t, TWITTER_HOSTS)
    )

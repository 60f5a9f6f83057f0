"""Gnip / PowerTrack activity streams: the Twitter data most historical purchases hold.

Rows
    One activity per line (Historical PowerTrack and PowerTrack streams
    write activity streams JSON one per line). A replay or historical job's
    closing ``{"info": {...}}`` line is skipped (``info``); compliance
    activities (``verb`` ``delete``, ``scrub_geo``...) are skipped with the
    verb as reason.
Fields
    ``post_id`` = the number at the end of ``id``
    (``tag:search.twitter.com,2005:<id>``); ``account_id`` = the number at
    the end of ``actor.id`` (``id:twitter.com:<id>``); ``account_name`` =
    ``actor.preferredUsername``; ``timestamp`` = ``postedTime`` (ISO 8601);
    ``app_name`` / ``app_url`` = ``generator.displayName`` /
    ``generator.link``; ``text`` = ``long_object.body`` for long posts, else
    ``body``.
Links
    Gnip's unwound links ``gnip.urls[].expanded_url`` when present, else
    ``twitter_entities.urls[]`` (``expanded_url``, else ``url``); for a long
    post, ``long_object.twitter_entities.urls`` (each ``t.co`` link unwound
    through ``gnip.urls`` when Gnip gives it). Media
    (``twitter_entities.media``) are platform links.
Retweets
    ``verb: share`` is a retweet: the retweeter's id, account, time and app,
    ``is_repost=True``, and the links of the original in ``object``, as for
    v1.1. Quotes carry their own links only.
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

__all__ = ["activity_row", "read_gnip"]

#: Verbs of compliance and system activities: skipped, not posts.
_SKIPPED_VERBS = ("delete", "scrub_geo", "status_withheld", "user_withheld", "user_protect")


def _tail_id(value: Any) -> str | None:
    """The id at the end of a Gnip id (``tag:search.twitter.com,2005:123`` -> ``123``)."""
    if isinstance(value, str):
        tail = value.rsplit(":", 1)[-1]
        return tail or None
    return as_id(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entry_links(entries: Any, unwound: dict[str, str]) -> list[str]:
    found = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        short = entry.get("url")
        link = next(
            (
                v
                for v in (
                    unwound.get(short) if isinstance(short, str) else None,
                    entry.get("expanded_url"),
                    short,
                )
                if isinstance(v, str) and v
            ),
            None,
        )
        if link:
            found.append(link)
    return found


def _links(activity: dict[str, Any]) -> tuple[list[str], list[str]]:
    gnip_urls = _dict(activity.get("gnip")).get("urls")
    unwound = {
        e["url"]: e["expanded_url"]
        for e in (gnip_urls if isinstance(gnip_urls, list) else ())
        if isinstance(e, dict)
        and isinstance(e.get("url"), str)
        and isinstance(e.get("expanded_url"), str)
    }
    long_entities = _dict(_dict(activity.get("long_object")).get("twitter_entities"))
    entities = long_entities or _dict(activity.get("twitter_entities"))
    if "urls" in long_entities or not isinstance(gnip_urls, list):
        urls = _entry_links(entities.get("urls"), unwound)
    else:
        urls = _entry_links(gnip_urls, {})
    media = _entry_links(entities.get("media"), {})
    return urls, media


def activity_row(activity: Any) -> tuple[Any, ...] | str:
    """The raw post fields of one activity, or the reason it is rejected.

    Examples
    --------
    >>> row = activity_row({"id": "tag:search.twitter.com,2005:42", "verb": "post",
    ...     "postedTime": "2014-03-01T12:00:00.000Z", "body": "read https://t.co/a",
    ...     "actor": {"id": "id:twitter.com:7", "preferredUsername": "bob"},
    ...     "generator": {"displayName": "We Heart It", "link": "http://weheartit.com"},
    ...     "gnip": {"urls": [{"url": "https://t.co/a", "expanded_url": "https://example.com/a"}]}})
    >>> row[:7]
    ('42', '7', 'bob', 1393675200000, 'We Heart It', 'http://weheartit.com', ['https://example.com/a'])
    """
    if not isinstance(activity, dict):
        return "not_an_activity"
    post_id = _tail_id(activity.get("id"))
    if post_id is None:
        return "missing_post_id"
    actor = _dict(activity.get("actor"))
    account_id = _tail_id(actor.get("id"))
    if account_id is None:
        return "missing_account_id"
    timestamp = parse_iso_ms(activity.get("postedTime"))
    if timestamp is None:
        return "bad_timestamp"
    generator = _dict(activity.get("generator"))
    is_repost = activity.get("verb") == "share" and isinstance(activity.get("object"), dict)
    urls, media = _links(activity["object"] if is_repost else activity)
    long_object = _dict(activity.get("long_object"))
    text = _text(long_object.get("body")) or _text(activity.get("body"))
    return (post_id, account_id, _text(actor.get("preferredUsername")), timestamp,
            _text(generator.get("displayName")), _text(generator.get("link")),
            urls, media, text, is_repost)  # fmt: skip


def _handle(value: JsonValue, rows: RawRows, log: FileLog) -> None:
    obj = value.value
    log.read()
    if isinstance(obj, dict) and "info" in obj and "id" not in obj:
        log.skip("info")
        return
    verb = obj.get("verb") if isinstance(obj, dict) else None
    if verb in _SKIPPED_VERBS:
        log.skip(str(verb))
        return
    row = activity_row(obj)
    if isinstance(row, str):
        log.reject(row, raw=value.raw or orjson.dumps(obj), line=value.line)
    else:
        rows.add(*row)


def read_gnip(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    """Raw posts of a Gnip activity streams file (see the module documentation)."""
    log.engine = "python"
    yield from json_row_batches(
        source, log, options, RawRows("twitter"), _handle, lambda t: RawBatch(t, TWITTER_HOSTS)
    )

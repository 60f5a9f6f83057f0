"""Mastodon statuses, as the REST API returns them (``Status`` entities).

Rows
    One status per line, or a JSON array of statuses per line (a timeline
    page) where each status is a row, or a whole file holding one such array.
    A line holding an ``{"error": ...}`` object is skipped as ``api_error``.
Fields
    ``post_id`` = ``id``; ``account_id`` = ``account.id``; ``account_name`` =
    ``account.acct`` (``user`` for local accounts, ``user@instance`` for
    remote ones); ``timestamp`` = ``created_at`` (ISO 8601); ``app_name`` /
    ``app_url`` = ``application.name`` / ``application.website``. The
    application is often absent (instances hide it, and federated copies of
    remote posts never carry it): that is a null app, not an error. Names
    keep their case (clients register free-text names). ``text`` = the plain
    text of the ``content`` HTML.
Links
    The ``href`` of each anchor in ``content`` and the preview ``card.url``,
    each distinct URL once. Mention and hashtag anchors (class ``mention``,
    ``hashtag``, ``u-url`` or ``rel="tag"``) are platform links, and so is
    any link to the instance serving the status, or shaped like a status on
    any instance (``/@user/<id>``, ``/users/<name>/statuses/<id>``).
Boosts
    As retweets: a boost is the booster's post (their id, account, time and
    application) with ``is_repost=True``, the boosted status's links, and its
    text. The boosted status is not emitted as a post of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pyarrow as pa

from research.io.accounting import FileLog
from research.io.assemble import RawBatch, RawRows, parse_iso_ms
from research.io.jsonlines import JsonValue, as_id, json_row_batches
from research.io.markup import content_links
from research.io.options import ReadOptions
from research.io.sources import InputFile

__all__ = ["read_mastodon", "status_row"]


def _host(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def status_row(status: Any) -> tuple[tuple[Any, ...], set[str]] | str:
    """The raw post fields of one status and the instance hosts it names, or a reject reason.

    Examples
    --------
    >>> row, hosts = status_row({"id": "1", "created_at": "2019-12-08T03:48:33.901Z",
    ...     "account": {"id": "9", "acct": "alice"}, "url": "https://m.social/@alice/1",
    ...     "application": {"name": "Tusky", "website": "https://tusky.app"},
    ...     "content": '<p><a href="https://example.com/a">example.com/a</a></p>', "card": None})
    >>> row[:7], hosts
    (('1', '9', 'alice', 1575776913901, 'Tusky', 'https://tusky.app', ['https://example.com/a']), {'m.social'})
    """
    if not isinstance(status, dict):
        return "not_a_status"
    post_id = as_id(status.get("id"))
    if post_id is None:
        return "missing_post_id"
    account = status.get("account")
    account_id = as_id(account.get("id")) if isinstance(account, dict) else None
    if account_id is None:
        return "missing_account_id"
    timestamp = parse_iso_ms(status.get("created_at"))
    if timestamp is None:
        return "bad_timestamp"
    app = status.get("application")
    app_name = app.get("name") if isinstance(app, dict) else None
    app_url = app.get("website") if isinstance(app, dict) else None
    boosted = status.get("reblog")
    is_repost = isinstance(boosted, dict)
    content_of = boosted if is_repost else status
    links = content_links(content_of.get("content"))  # type: ignore[union-attr]
    urls = list(links.external)
    card = content_of.get("card")  # type: ignore[union-attr]
    if isinstance(card, dict) and isinstance(card.get("url"), str) and card["url"] not in urls:
        urls.append(card["url"])
    hosts = {h for h in (_host(status.get("url")), _host(status.get("uri"))) if h}
    if is_repost:
        hosts |= {h for h in (_host(boosted.get("url")), _host(boosted.get("uri"))) if h}  # type: ignore[union-attr]
    name = account.get("acct") if isinstance(account, dict) else None  # type: ignore[union-attr]
    return (
        (post_id, account_id, name if isinstance(name, str) else None, timestamp,
         app_name if isinstance(app_name, str) else None,
         app_url if isinstance(app_url, str) else None,
         urls, list(links.platform), links.text or None, is_repost),
        hosts,
    )  # fmt: skip


def _handle(value: JsonValue, rows: RawRows, hosts: set[str], log: FileLog) -> None:
    obj = value.value
    if isinstance(obj, dict) and "error" in obj and "id" not in obj:
        log.read()
        log.skip("api_error")
        return
    items = obj if isinstance(obj, list) else [obj]
    if not items:
        log.read()
        log.skip("empty_page")
        return
    for index, item in enumerate(items):
        log.read()
        found = status_row(item)
        if isinstance(found, str):
            raw = orjson.dumps(item) if isinstance(obj, list) else value.raw
            log.reject(
                found, raw=raw, line=value.line, item=index if isinstance(obj, list) else None
            )
        else:
            rows.add(*found[0])
            hosts |= found[1]


def read_mastodon(source: InputFile, log: FileLog, options: ReadOptions) -> Iterator[RawBatch]:
    """Raw posts of a file of Mastodon statuses (see the module documentation)."""
    log.engine = "python"
    hosts: set[str] = set()

    def batch_of(table: pa.Table) -> RawBatch:
        batch = RawBatch(table, frozenset(hosts), fediverse=True)
        hosts.clear()
        return batch

    yield from json_row_batches(
        source,
        log,
        options,
        RawRows("mastodon"),
        lambda value, rows, log: _handle(value, rows, hosts, log),
        batch_of,
    )

"""Writing a posts table as platform exports (for benchmarks and round-trip tests).

:func:`write_twitter_v1` writes Twitter v1.1 tweet objects, one per line, as
twarc 1 does, with the fields real tweets carry (a full ``user`` object,
``entities`` with ``t.co`` links, a ``source`` anchor); a repost becomes a
retweet whose ``retweeted_status`` holds the links. Reading the file back
gives the same posts up to the documented normalisation: times to the second
(``created_at`` has no milliseconds), canonical URLs and app names, and
``platform="twitter"``.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from research.posts import Posts

__all__ = ["write_twitter_v1"]


def _created_at(seconds: int) -> str:
    return time.strftime("%a %b %d %H:%M:%S +0000 %Y", time.gmtime(seconds))


def _source(name: str | None, url: str | None) -> str:
    if name is None:
        return ""
    if url is None:
        return html.escape(name, quote=False)
    return f'<a href="{html.escape(url)}" rel="nofollow">{html.escape(name, quote=False)}</a>'


def _user(account_id: str, name: str | None) -> dict[str, object]:
    screen_name = name or f"user{account_id}"
    return {
        "id": int(account_id) if account_id.isdigit() and len(account_id) < 19 else None,
        "id_str": account_id,
        "name": screen_name.title(),
        "screen_name": screen_name,
        "location": "",
        "url": None,
        "description": "Opinions my own. Coffee, football and the occasional photo of my cat.",
        "translator_type": "none",
        "protected": False,
        "verified": False,
        "followers_count": 312,
        "friends_count": 280,
        "listed_count": 3,
        "favourites_count": 1540,
        "statuses_count": 8021,
        "created_at": "Sat Mar 14 09:12:41 +0000 2015",
        "utc_offset": None,
        "time_zone": None,
        "geo_enabled": False,
        "lang": None,
        "contributors_enabled": False,
        "is_translator": False,
        "profile_background_color": "C0DEED",
        "profile_background_image_url": "http://abs.twimg.com/images/themes/theme1/bg.png",
        "profile_background_image_url_https": "https://abs.twimg.com/images/themes/theme1/bg.png",
        "profile_background_tile": False,
        "profile_link_color": "1DA1F2",
        "profile_sidebar_border_color": "C0DEED",
        "profile_sidebar_fill_color": "DDEEF6",
        "profile_text_color": "333333",
        "profile_use_background_image": True,
        "profile_image_url": "http://pbs.twimg.com/profile_images/1/abcdefgh_normal.jpg",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1/abcdefgh_normal.jpg",
        "default_profile": True,
        "default_profile_image": False,
        "following": None,
        "follow_request_sent": None,
        "notifications": None,
    }


_HASHTAGS = ("news", "breaking", "politics", "music", "football", "tech", "travel", "photography", "art",
             "health", "science", "election", "climate", "food", "love", "fashion", "gaming", "crypto")  # fmt: skip


def _entities(
    links: list[str], seed: int, mention: tuple[str, str] | None = None
) -> dict[str, object]:
    """Entities as the API writes them: links, a few hashtags, the mentioned user."""
    urls = []
    for index, link in enumerate(links):
        display = link.split("://", 1)[-1]
        urls.append(
            {
                "url": f"https://t.co/{(seed * 31 + index) % 10**10:010d}",
                "expanded_url": link,
                "display_url": display[:26] + ("…" if len(display) > 26 else ""),
                "indices": [10 + 24 * index, 33 + 24 * index],
            }
        )
    hashtags = [
        {"text": _HASHTAGS[(seed * 7 + k) % len(_HASHTAGS)], "indices": [40 + 12 * k, 50 + 12 * k]}
        for k in range(seed % 3)
    ]
    mentions = []
    if mention is not None:
        account_id, screen_name = mention
        mentions.append(
            {
                "screen_name": screen_name,
                "name": screen_name.title(),
                "id": int(account_id) if account_id.isdigit() and len(account_id) < 19 else None,
                "id_str": account_id,
                "indices": [3, 4 + len(screen_name)],
            }
        )
    return {"hashtags": hashtags, "urls": urls, "user_mentions": mentions, "symbols": []}


def _tweet(post_id: str, created: str, text: str, source: str, user: dict[str, object],
           entities: dict[str, object], timestamp_ms: int | None) -> dict[str, object]:  # fmt: skip
    """A complete v1.1 tweet object (the fields the streaming API writes)."""
    tweet: dict[str, object] = {
        "created_at": created,
        "id": int(post_id) if post_id.isdigit() and len(post_id) < 19 else None,
        "id_str": post_id,
        "text": text,
        "display_text_range": [0, len(text)],
        "source": source,
        "truncated": False,
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None,
        "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None,
        "user": user,
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
        "is_quote_status": False,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": entities,
        "favorited": False,
        "retweeted": False,
        "possibly_sensitive": False,
        "filter_level": "low",
        "lang": "en",
    }
    if timestamp_ms is not None:
        tweet["timestamp_ms"] = str(timestamp_ms)
    return tweet


def write_twitter_v1(posts: Posts, path: str | Path, *, batch_rows: int = 100_000) -> Path:
    """Write posts as Twitter v1.1 JSON lines.

    Parameters
    ----------
    posts
        The posts to write.
    path
        The file to write (parent folders are created).
    batch_rows
        Rows converted at a time (bounds memory).

    Returns
    -------
    Path
        The path written.

    Examples
    --------
    >>> import datetime as dt, tempfile, pathlib
    >>> posts = Posts.from_records([{"post_id": "1", "account_id": "7",
    ...     "timestamp": dt.datetime(2018, 10, 10, 20, 19, 24), "app_name": "We Heart It",
    ...     "app_url": "http://weheartit.com", "urls": ["https://example.com/"]}])
    >>> out = write_twitter_v1(posts, pathlib.Path(tempfile.mkdtemp()) / "t.jsonl")
    >>> from research.io import read
    >>> back, _ = read(out)
    >>> back.table.column("urls").to_pylist(), back.table.column("app_name").to_pylist()
    ([['https://example.com/']], ['We Heart It'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = posts.table
    with path.open("wb") as out:
        for start in range(0, table.num_rows, batch_rows):
            part = table.slice(start, batch_rows)
            seconds = (
                np.asarray(part.column("timestamp").cast(pa.int64()).to_numpy(), dtype=np.int64)
                // 1000
            ).tolist()
            columns = {
                name: part.column(name).to_pylist()
                for name in (
                    "post_id",
                    "account_id",
                    "account_name",
                    "app_name",
                    "app_url",
                    "urls",
                    "platform_urls",
                    "text",
                    "is_repost",
                )
            }
            sources: dict[tuple[str | None, str | None], str] = {}
            users: dict[tuple[str, str | None], dict[str, object]] = {}
            lines = []
            for i in range(part.num_rows):
                post_id = columns["post_id"][i]
                account = (columns["account_id"][i], columns["account_name"][i])
                app = (columns["app_name"][i], columns["app_url"][i])
                source = sources.get(app)
                if source is None:
                    source = sources[app] = _source(*app)
                user = users.get(account)
                if user is None:
                    user = users[account] = _user(*account)
                links = columns["urls"][i] + columns["platform_urls"][i]
                text = columns["text"][i]
                created = _created_at(seconds[i])
                body = text if text is not None else ""
                seed = start + i
                if columns["is_repost"][i]:
                    # A retweet embeds the whole original tweet (with its author
                    # and links); its own entities name the original's author.
                    author = (f"9{account[0]}", f"user9{account[0]}")
                    original = _tweet(f"{post_id}0", created, body, source, _user(*author),
                                      _entities(links, seed), None)  # fmt: skip
                    # (The API writes "RT @name: " before the text; the text is
                    # kept as given so that a round trip gives it back.)
                    tweet = _tweet(post_id, created, body, source, user,
                                   _entities([], seed, mention=author), seconds[i] * 1000)  # fmt: skip
                    tweet["retweeted_status"] = original
                else:
                    tweet = _tweet(
                        post_id,
                        created,
                        body,
                        source,
                        user,
                        _entities(links, seed),
                        seconds[i] * 1000,
                    )
                lines.append(orjson.dumps(tweet))
            out.write(b"\n".join(lines) + (b"\n" if lines else b""))
    return path

"""The integer view of a posts table that every graph builder works on.

Accounts, apps, URLs and domains get dense integer codes (in order of first
appearance, so the same input gives the same codes); each post becomes an
(account, app, time) triple and each link a (post, URL, domain) triple.
Empty strings and nulls never become objects: an empty URL is no URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from research.posts import Posts, epoch_seconds

NONE = -1  # code of a missing app / domain


@dataclass(frozen=True)
class Labels:
    """Distinct string values with dense codes ``0..n-1``."""

    values: pa.Array

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, code: int) -> str:
        return str(self.values[code].as_py())

    def take(self, codes: np.ndarray) -> list[str | None]:
        """Strings of the given codes (``None`` for ``-1``)."""
        codes = np.asarray(codes)
        return self.values.take(pa.array(codes, mask=codes < 0)).to_pylist()

    def to_numpy(self) -> np.ndarray:
        """Object array of the strings."""
        return np.asarray(self.values.to_pylist(), dtype=object)


@dataclass(frozen=True)
class Events:
    """Posts and links as integer arrays.

    Attributes
    ----------
    accounts, apps, urls, domains
        Labels of the codes.
    post_account, post_app, post_time
        One entry per post: account code, app code (``-1`` if unknown), time in
        seconds since the epoch.
    post_row
        Row of each post in the posts table it came from.
    link_post, link_url, link_domain
        One entry per link: the post's index, the URL code, the domain code
        (``-1`` if unknown).
    """

    accounts: Labels
    apps: Labels
    urls: Labels
    domains: Labels
    post_account: np.ndarray
    post_app: np.ndarray
    post_time: np.ndarray
    post_row: np.ndarray
    link_post: np.ndarray
    link_url: np.ndarray
    link_domain: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_posts(self) -> int:
        return len(self.post_account)

    @property
    def n_accounts(self) -> int:
        return len(self.accounts)

    @property
    def link_account(self) -> np.ndarray:
        """Account code of each link."""
        return self.post_account[self.link_post]

    @property
    def link_time(self) -> np.ndarray:
        """Time of each link's post."""
        return self.post_time[self.link_post]

    @property
    def link_app(self) -> np.ndarray:
        """App code of each link's post (``-1`` if unknown)."""
        return self.post_app[self.link_post]

    def stems(self) -> tuple[Labels, np.ndarray]:
        """URL stems (the URL without its query string) and each link's stem code.

        Stems join URLs that differ only in their query, such as the per-post
        query mutations spammers use to defeat exact-URL blocklists.
        """
        if "stems" not in self._cache:
            stripped = pc.replace_substring_regex(self.urls.values, pattern=r"\?.*$", replacement="")
            labels, codes = _encode(stripped)
            self._cache["stems"] = (labels, codes[self.link_url] if len(self.link_url) else codes[:0])
        return self._cache["stems"]


def encode(posts: Posts, *, include_platform_urls: bool = False, include_reposts: bool = True) -> Events:
    """Encode a posts table as :class:`Events`.

    Parameters
    ----------
    posts
        The posts table.
    include_platform_urls
        Also treat links to the platform itself (quotes, status links) as URLs.
    include_reposts
        Keep reposts (retweets, boosts); when false they are left out entirely.

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts, epoch_seconds
    >>> t = dt.datetime(2014, 5, 1)
    >>> posts = Posts.from_records([
    ...     {"post_id": "1", "account_id": "a", "timestamp": t, "app_name": "X", "urls": ["http://e.com/1", ""]},
    ...     {"post_id": "2", "account_id": "b", "timestamp": t, "app_name": "", "urls": []},
    ... ])
    >>> ev = encode(posts)
    >>> ev.post_app.tolist(), ev.link_url.tolist()
    ([0, -1], [0])
    """
    table = posts.table
    rows = np.arange(table.num_rows, dtype=np.int64)
    if not include_reposts:
        keep = ~np.asarray(table.column("is_repost").to_numpy(), dtype=bool)
        rows = rows[keep]
        table = table.filter(pa.array(keep))

    accounts, post_account = _encode(table.column("account_id"))
    apps, post_app = _encode(_blank_to_null(table.column("app_name")))
    post_time = epoch_seconds(table.column("timestamp"))

    url_lists = table.column("urls").combine_chunks()
    domain_lists = table.column("domains").combine_chunks()
    link_post = np.asarray(pc.list_parent_indices(url_lists).to_numpy(), dtype=np.int64)
    url_values = pc.list_flatten(url_lists)
    domain_values = pc.list_flatten(domain_lists)
    if include_platform_urls:
        platform_lists = table.column("platform_urls").combine_chunks()
        platform_values = pc.list_flatten(platform_lists)
        link_post = np.concatenate([link_post, np.asarray(pc.list_parent_indices(platform_lists).to_numpy(), dtype=np.int64)])
        url_values = pa.concat_arrays([url_values, platform_values])
        domain_values = pa.concat_arrays([domain_values, pa.nulls(len(platform_values), pa.string())])
    present = pc.and_(pc.is_valid(url_values), pc.not_equal(url_values, "")).fill_null(False)
    present_np = np.asarray(present.to_numpy(zero_copy_only=False), dtype=bool)
    link_post = link_post[present_np]
    urls, link_url = _encode(url_values.filter(present))
    domains, link_domain = _encode(_blank_to_null(domain_values.filter(present)))

    return Events(
        accounts=accounts,
        apps=apps,
        urls=urls,
        domains=domains,
        post_account=post_account,
        post_app=post_app,
        post_time=post_time,
        post_row=rows,
        link_post=link_post.astype(np.int64),
        link_url=link_url,
        link_domain=link_domain,
    )


def _blank_to_null(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.if_else(pc.equal(pc.utf8_trim_whitespace(values), ""), pa.scalar(None, pa.string()), values)


def _encode(values: pa.Array | pa.ChunkedArray) -> tuple[Labels, np.ndarray]:
    """Dense codes in order of first appearance; nulls get ``-1``."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    if len(values) == 0:
        return Labels(pa.array([], pa.string())), np.zeros(0, dtype=np.int64)
    encoded = pc.dictionary_encode(values)
    indices = encoded.indices.fill_null(NONE)
    codes = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return Labels(encoded.dictionary.cast(pa.string())), codes

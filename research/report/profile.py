"""What a cluster did, in tables: its apps, URLs, timeline and sample posts.

The evidence table (:mod:`research.evidence`) says *how suspicious* a cluster
is in numbers; a profile shows *what it did*, for a person to check: the apps
its members posted through during the attack and before it, the URLs and
domains they pushed, their posts over time, and a few of the posts
themselves. The HTML report, :meth:`research.detection.Detection.explain` and the
graph exports all read profiles.

Only a detection's public fields are used (``clusters`` with at least
``cluster`` and ``size``; ``accounts`` with ``account`` and ``cluster``), so
that any method's detection can be profiled; evidence columns a method does
not produce are simply absent from its profiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from research.graph.codes import group_sizes
from research.graph.events import Events, site_keys
from research.posts import Posts

#: Candidate timeline bin widths (seconds); the smallest giving at most ``max_bins`` bins is used.
BIN_WIDTHS = (60, 300, 900, 3_600, 3 * 3_600, 6 * 3_600, 86_400, 7 * 86_400, 30 * 86_400)


def aligned_membership(events: Events, accounts: pd.DataFrame) -> np.ndarray:
    """The cluster of each account code of ``events`` (``-1`` if absent from ``accounts``).

    A detection's own account codes need not be those of a fresh encoding (a
    method may leave reposts out), so accounts are matched by id.

    Examples
    --------
    >>> import datetime as dt
    >>> from research.graph.events import encode
    >>> posts = Posts.from_records([{"post_id": str(i), "account_id": a, "timestamp": dt.datetime(2014, 5, 1)}
    ...                             for i, a in enumerate("abc")])
    >>> aligned_membership(encode(posts), pd.DataFrame({"account": ["c", "a"], "cluster": [0, 1]})).tolist()
    [1, -1, 0]
    """
    index = pd.Index(accounts["account"].astype(str))
    position = index.get_indexer(pd.Index(events.accounts.values.to_pylist()))
    cluster = accounts["cluster"].to_numpy(dtype=np.int64)
    return np.where(position >= 0, cluster[np.maximum(position, 0)], -1)


def choose_bin(span_s: float, max_bins: int = 400) -> int:
    """The smallest of :data:`BIN_WIDTHS` that cuts ``span_s`` seconds into at most ``max_bins`` bins.

    Examples
    --------
    >>> choose_bin(14 * 86_400), choose_bin(3_600)
    (3600, 60)
    """
    for width in BIN_WIDTHS:
        if span_s / width <= max_bins:
            return width
    return BIN_WIDTHS[-1]


@dataclass(frozen=True)
class ClusterProfile:
    """What one cluster's members did.

    Attributes
    ----------
    cluster
        Cluster id.
    evidence
        The cluster's row of the detection's clusters table, as a dict.
    members
        Account codes (of the profiled events), most active during the span first.
    member_posts
        Each member's number of posts during the span (aligned with ``members``).
    span
        ``(start, end)`` seconds since the epoch: the evidence's onset and
        last coordinated post, or the members' first and last post when the
        detection gives none.
    apps, apps_before
        ``app``, ``posts``, ``share``: apps of members' posts during the span,
        and before it (the members' own history).
    urls, domains
        ``url`` (``domain``), ``links``, ``share``: what members linked during the span.
    timeline
        ``start`` (UTC), ``posts`` (members' posts per bin), ``top_site``
        (of which linking the group's top signature site), over the whole data's span.
    bin_s
        Timeline bin width in seconds.
    sample
        Up to ``max_posts`` member posts during the span, evenly spaced in time
        (posts linking the top site first, when there are any): ``time``,
        ``account``, ``account_name``, ``app``, ``text``, ``urls``.
    n_span_posts
        Members' posts during the span.
    """

    cluster: int
    evidence: dict[str, Any]
    members: np.ndarray
    member_posts: np.ndarray
    span: tuple[int, int]
    apps: pd.DataFrame
    apps_before: pd.DataFrame
    urls: pd.DataFrame
    domains: pd.DataFrame
    timeline: pd.DataFrame
    bin_s: int
    sample: pd.DataFrame
    n_span_posts: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of members."""
        return len(self.members)


class Profiler:
    """Profiles of clusters of one detection over one posts table.

    Sorting posts by cluster once makes each profile cost its cluster's posts,
    not the whole table.

    Parameters
    ----------
    posts, events
        The posts and their encoding.
    clusters, accounts
        The detection's tables.

    Examples
    --------
    >>> from research.simulate import simulate
    >>> from research.pipeline import run_pipeline
    >>> from research.graph.events import encode
    >>> sim = simulate("weheartit", seed=0, n_posts=30_000)
    >>> found = run_pipeline(sim.posts, seed=0)
    >>> profiler = Profiler(sim.posts, encode(sim.posts), found.clusters, found.accounts)
    >>> profile = profiler.profile(int(found.flagged["cluster"].iloc[0]))
    >>> profile.apps["app"].iloc[0], profile.size == int(found.flagged["size"].iloc[0])
    ('We Heart It', True)
    """

    def __init__(
        self, posts: Posts, events: Events, clusters: pd.DataFrame, accounts: pd.DataFrame
    ) -> None:
        self.posts = posts
        self.events = events
        self.clusters = clusters
        self.membership = aligned_membership(events, accounts)
        post_cluster = self.membership[events.post_account]
        clustered = np.flatnonzero(post_cluster >= 0)
        # Posts of clustered accounts, grouped by cluster then time.
        order = np.lexsort((events.post_time[clustered], post_cluster[clustered]))
        self._posts = clustered[order]
        self._post_cluster = post_cluster[self._posts]
        n = int(self.membership.max(initial=-1)) + 1
        self._starts = np.searchsorted(self._post_cluster, np.arange(n + 1), side="left")
        # Links grouped by post (stable, so each post's links keep their order): a post's
        # links are then one slice of ``_link_order``.
        self._link_order = np.argsort(events.link_post, kind="stable")
        self._link_start = np.searchsorted(
            events.link_post[self._link_order], np.arange(events.n_posts + 1), side="left"
        )
        self._row_of = (
            {int(c): i for i, c in enumerate(clusters["cluster"].to_numpy())}
            if len(clusters)
            else {}
        )
        times = events.post_time
        self.t0 = int(times.min()) if len(times) else 0
        self.t1 = int(times.max()) if len(times) else 0
        self.bin_s = choose_bin(max(self.t1 - self.t0, 1))
        self._first_row: np.ndarray | None = None

    def evidence(self, cluster: int) -> dict[str, Any]:
        """The cluster's evidence row as a dict (``{}`` when the table lacks it)."""
        row = self._row_of.get(int(cluster))
        return {} if row is None else dict(self.clusters.iloc[row])

    def cluster_posts(self, cluster: int) -> np.ndarray:
        """Post indices (of the events) of a cluster's members, in time order."""
        if cluster < 0 or cluster + 1 >= len(self._starts):
            return np.zeros(0, dtype=np.int64)
        return self._posts[self._starts[cluster] : self._starts[cluster + 1]]

    def links_of(self, post_idx: np.ndarray) -> np.ndarray:
        """Link indices of the given posts."""
        if len(post_idx) == 0:
            return np.zeros(0, dtype=np.int64)
        starts, ends = self._link_start[post_idx], self._link_start[post_idx + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        return self._link_order[np.arange(total) + offsets]

    def span(
        self, cluster: int, posts_idx: np.ndarray, evidence: dict[str, Any]
    ) -> tuple[int, int]:
        """The attack span: from the evidence's onset (else its first coordinated post) to its
        last coordinated post; without evidence, the members' posts' range.

        The onset, not the first coordinated post, starts it: a few chance coincidences
        days before an attack would otherwise stretch "during the attack" over the
        members' ordinary history.
        """
        start = _seconds(evidence.get("onset"))
        if start is None:
            start = _seconds(evidence.get("first_post"))
        end = _seconds(evidence.get("last_post"))
        if start is None or end is None or end < start:
            times = self.events.post_time[posts_idx]
            return (int(times.min()), int(times.max())) if len(times) else (self.t0, self.t1)
        return start, end

    def profile(self, cluster: int, *, top: int = 10, max_posts: int = 20) -> ClusterProfile:
        """The profile of one cluster.

        Parameters
        ----------
        cluster
            Cluster id.
        top
            Rows kept in the app, URL and domain tables.
        max_posts
            Sample posts kept.
        """
        ev = self.events
        evidence = self.evidence(cluster)
        posts_idx = self.cluster_posts(cluster)
        start, end = self.span(cluster, posts_idx, evidence)
        times = ev.post_time[posts_idx]
        during = posts_idx[(times >= start) & (times <= end)]
        before = posts_idx[times < start]
        links = self.links_of(during)

        members = np.flatnonzero(self.membership == cluster)
        activity = (
            np.bincount(ev.post_account[during], minlength=ev.n_accounts)[members]
            if len(members)
            else members
        )
        order = np.lexsort((members, -activity))
        members, activity = members[order], activity[order]

        domain_codes = ev.link_domain[links]
        link_site, site_labels = site_keys(ev)
        top_code = _code_of(site_labels.values, str(evidence.get("top_site") or ""))
        marks = np.zeros(ev.n_posts, dtype=bool)
        if top_code >= 0:
            all_links = self.links_of(posts_idx)
            marks[ev.link_post[all_links[link_site[all_links] == top_code]]] = True

        return ClusterProfile(
            cluster=int(cluster),
            evidence=evidence,
            members=members,
            member_posts=activity,
            span=(start, end),
            apps=_top_table(ev.post_app[during], ev.apps.values, "app", "posts", top),
            apps_before=_top_table(ev.post_app[before], ev.apps.values, "app", "posts", top),
            urls=_top_table(ev.link_url[links], ev.urls.values, "url", "links", top),
            domains=_top_table(domain_codes, ev.domains.values, "domain", "links", top),
            timeline=self._timeline(posts_idx, marks),
            bin_s=self.bin_s,
            sample=self._sample(during, marks, max_posts),
            n_span_posts=len(during),
        )

    def _timeline(self, posts_idx: np.ndarray, marks: np.ndarray) -> pd.DataFrame:
        n_bins = (self.t1 - self.t0) // self.bin_s + 1
        bins = (self.events.post_time[posts_idx] - self.t0) // self.bin_s
        return pd.DataFrame(
            {
                "start": pd.to_datetime(
                    self.t0 + np.arange(n_bins) * self.bin_s, unit="s", utc=True
                ),
                "posts": np.bincount(bins, minlength=n_bins),
                "top_site": np.bincount(bins[marks[posts_idx]], minlength=n_bins),
            }
        )

    def _sample(self, during: np.ndarray, marks: np.ndarray, max_posts: int) -> pd.DataFrame:
        pool = during[marks[during]] if marks[during].any() else during
        if len(pool) > max_posts:
            pool = pool[np.linspace(0, len(pool) - 1, max_posts).round().astype(np.int64)]
        rows = pa.array(self.events.post_row[pool], pa.int64())
        table = self.posts.table.take(rows)
        return pd.DataFrame(
            {
                "time": pd.to_datetime(self.events.post_time[pool], unit="s", utc=True),
                "account": table.column("account_id").to_pylist(),
                "account_name": table.column("account_name").to_pylist(),
                "app": table.column("app_name").to_pylist(),
                "text": table.column("text").to_pylist(),
                "urls": table.column("urls").to_pylist(),
            }
        )

    def account_names(self, codes: np.ndarray) -> list[str | None]:
        """Screen name of each account code (from its first post; ``None`` if never given)."""
        if self._first_row is None:
            self._first_row = first_rows(self.events)
        return names_at(self.posts, self._first_row[np.asarray(codes, dtype=np.int64)])


def first_rows(events: Events) -> np.ndarray:
    """The posts-table row of each account's first post in the events (``-1`` if none)."""
    first = np.full(events.n_accounts, -1, dtype=np.int64)
    # Reverse order, so that each account's first post is written last and wins.
    idx = np.arange(events.n_posts)[::-1]
    first[events.post_account[idx]] = events.post_row[idx]
    return first


def names_at(posts: Posts, rows: np.ndarray) -> list[str | None]:
    """``account_name`` at the given rows (``None`` for ``-1``)."""
    rows = np.asarray(rows, dtype=np.int64)
    return posts.table.column("account_name").take(pa.array(rows, mask=rows < 0)).to_pylist()


def _seconds(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.timestamp())


def _code_of(values: pa.Array, name: str) -> int:
    if not name:
        return -1
    matches = np.flatnonzero(
        np.asarray(pc.equal(values, name).fill_null(False).to_numpy(zero_copy_only=False))
    )
    return int(matches[0]) if len(matches) else -1


def _top_table(codes: np.ndarray, labels: pa.Array, name: str, unit: str, top: int) -> pd.DataFrame:
    """The most frequent codes (``-1`` = unknown) with counts and shares, ties by code."""
    codes = np.asarray(codes, dtype=np.int64)
    if len(codes) == 0:
        return pd.DataFrame(
            {
                name: pd.Series([], dtype=object),
                unit: pd.Series([], dtype=np.int64),
                "share": pd.Series([], dtype=float),
            }
        )
    shifted = codes + 1
    counts = group_sizes(shifted, int(shifted.max()) + 1)
    present = np.flatnonzero(counts)
    order = present[np.lexsort((present, -counts[present]))][:top]
    known = order - 1
    names = (
        labels.take(pa.array(np.maximum(known, 0))).to_pylist()
        if len(labels)
        else [None] * len(known)
    )
    return pd.DataFrame(
        {
            name: [n if k >= 0 else None for n, k in zip(names, known, strict=True)],
            unit: counts[order].astype(np.int64),
            "share": counts[order] / len(codes),
        }
    )

"""Per-cluster evidence, a suspicion score, a flag rule, and explanations in words.

A cluster of accounts that act together is not, by itself, an attack: feed
apps, organisations and news bursts coordinate too. What marks a *hijacked*
cluster is a break in its members' own histories. For each cluster we find
its **coordinated posts** (member posts whose link another member also
posted within the same time window; links compared without their query
string, so per-post query mutations do not hide a shared link) and measure:

===================  ==========================================================
``size``             members
``density``          internal edges / possible pairs in the projection
``app_share``        share of coordinated posts sent by the cluster's top app
``domain_share``     share of coordinated links to the cluster's top domain
``url_share``        share of coordinated links to the cluster's top URL (without
                     its query string)
``exclusivity``      share of *all* links to the top domain that come from members
``onset``            the 1st percentile of the cluster's coordinated post times
``with_history``     share of members who posted before the onset (hijacked
                     accounts do; fresh fake accounts do not)
``n_with_history``   members with a post before the onset (likely hijacked)
``n_without_history`` members without one (fresh fake accounts look like this, and
                     so do dormant hijacked accounts that never posted in the data)
``app_novelty``      among members with history, share who never used the top
                     app before the onset (COMPA's source novelty; low for an
                     abused app the victims had authorised themselves)
``domain_novelty``   among members with history, share who never linked the top
                     domain before the onset
``lead_days``        among members with history, median time from their first
                     post in the data to the onset
``domain_break``     ``1 - min(1, r_before / r_after)`` where ``r`` is the share of
                     members' posts linking the top domain before the onset and
                     from the onset to the last coordinated post (pooled over
                     members): 1 when the domain was never linked before, 0 when
                     it was as common before as after
``app_break``        the same for the top app
``history_break``    the break the rule uses (see below)
``synchrony``        share of members' posts during the cluster's active span
                     that are coordinated
``templating``       share of coordinated posts whose text is a near duplicate
                     (MinHash Jaccard >= 0.5 on word 3-shingles) of another
                     member's coordinated post
``median_gap_s``     median time between consecutive coordinated posts of the
                     same link
===================  ==========================================================

The **suspicion score** combines them (all terms in [0, 1])::

    break = max(domain_break, app_break)       if with_history >= min_history
                                               and lead_days >= min_lead, else 0
    score = 0.4 * break + 0.2 * exclusivity + 0.2 * synchrony + 0.2 * templating

and the **flag rule** is: ``size >= min_size`` and ``break >= min_break`` and
``exclusivity >= min_exclusivity`` and ``score >= min_score`` (defaults 5, 0.5,
0.5, 0.5; ``min_history`` 0.2, since many hijacked accounts are dormant and
have no post in the data before the attack; ``min_lead`` one day, so that a
history of a few hours before an account's first coordinated post does not
count as a history to break). News bursts fail exclusivity
(their domains are linked by everyone); feed and organisation accounts fail
the break (they coordinate from their first post on, so they have no history
to break); hijack campaigns pass all. Templating, the costly term, is only
computed for clusters that pass the other criteria (NaN elsewhere, counted
as 0 in the score).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from research.detect.clustering import Clustering
from research.graph.codes import distinct_pairs, group_sizes
from research.graph.events import Events, stem_codes
from research.graph.projection import Projection


@dataclass(frozen=True)
class FlagRule:
    """Thresholds of the flag rule and the window that defines coordination."""

    min_size: int = 5
    min_history: float = 0.2
    min_lead_s: float = 86_400.0
    min_break: float = 0.5
    min_exclusivity: float = 0.5
    min_score: float = 0.5
    signature_exclusivity: float = 0.8
    signature_birth_margin_s: float = 86_400.0
    window_s: float = 900.0
    max_texts: int = 1_000


EVIDENCE_COLUMNS = (
    "cluster", "size", "density", "n_coordinated_posts", "top_app", "app_share", "top_domain",
    "domain_share", "url_share", "exclusivity", "with_history", "n_with_history", "n_without_history",
    "app_novelty", "domain_novelty", "lead_days",
    "domain_break", "app_break", "history_break", "synchrony",
    "templating", "median_gap_s", "onset", "first_post", "last_post", "score", "flagged", "top_urls",
)  # fmt: skip


def cluster_evidence(
    events: Events,
    clustering: Clustering,
    *,
    texts: pa.ChunkedArray | pa.Array | None = None,
    projection: Projection | None = None,
    rule: FlagRule | None = None,
) -> pd.DataFrame:
    """Evidence, score and flag for every cluster (one row each, in cluster order).

    Parameters
    ----------
    events
        Encoded posts.
    clustering
        Membership over ``events.accounts``.
    texts
        Post texts aligned with the posts table (``posts.column("text")``);
        templating is 0 when absent.
    projection
        The graph the clusters were found on (for density); NaN when absent.
    rule
        Flag-rule thresholds.
    """
    rule = rule or FlagRule()
    n_clusters = clustering.n_clusters
    if n_clusters == 0:
        return pd.DataFrame({c: [] for c in EVIDENCE_COLUMNS})
    membership = clustering.membership
    post_cluster = membership[events.post_account]
    coordinated_link, gaps = _coordinated_links(events, post_cluster, rule.window_s)
    coordinated_post = np.zeros(events.n_posts, dtype=bool)
    coordinated_post[events.link_post[coordinated_link]] = True

    sizes = clustering.sizes()
    link_domain = _domain_or_url(events)
    n_dom = int(link_domain.max(initial=-1)) + 1
    c_links = coordinated_link
    c_link_cluster = post_cluster[events.link_post[c_links]]
    link_cluster = post_cluster[events.link_post]
    top_domain, domain_share, exclusivity = _signature_domain(
        c_link_cluster, link_domain[c_links], link_cluster, link_domain, n_clusters, n_dom
    )
    # The top stem's share does not depend on how stems are numbered: code only those needed.
    c_link_stem = stem_codes(events, events.link_url[c_links])
    _top_stem, url_share = _top_per_cluster(
        c_link_cluster, c_link_stem, n_clusters, int(c_link_stem.max(initial=-1)) + 1
    )
    c_posts = np.flatnonzero(coordinated_post)
    post_app = np.where(events.post_app >= 0, events.post_app, len(events.apps))
    top_app, app_share = _top_per_cluster(
        post_cluster[c_posts], post_app[c_posts], n_clusters, len(events.apps) + 1
    )
    n_coord = group_sizes(post_cluster[c_posts], n_clusters)

    links_top_domain = (link_cluster >= 0) & (
        link_domain == top_domain[np.maximum(link_cluster, 0)]
    )

    # The cluster's onset: the 1st percentile of its coordinated post times (robust to
    # a few chance coincidences before an attack starts). Comparing every member's
    # posts before and after one common onset avoids the selection bias of a
    # per-member onset (a member's first coordinated use of a domain is often its
    # first use at all, attack or not).
    onset = _quantile_per_cluster(
        post_cluster[c_posts], events.post_time[c_posts], n_clusters, 0.01
    )
    first = np.full(n_clusters, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n_clusters, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, post_cluster[c_posts], events.post_time[c_posts])
    np.maximum.at(last, post_cluster[c_posts], events.post_time[c_posts])
    # Histories only concern members' posts: work on those alone (every post of a
    # member account is a member post).
    member_posts = np.flatnonzero(post_cluster >= 0)
    m_cluster = post_cluster[member_posts]
    m_time = events.post_time[member_posts]
    m_account = events.post_account[member_posts]
    before = m_time < onset[m_cluster]
    after = (m_time >= onset[m_cluster]) & (m_time <= last[m_cluster])

    has_history = np.zeros(events.n_accounts, dtype=bool)
    has_history[m_account[before]] = True
    uses_top_app = post_app[member_posts] == top_app[m_cluster]
    used_app_before = np.zeros(events.n_accounts, dtype=bool)
    used_app_before[m_account[before & uses_top_app]] = True
    posts_top_domain = np.zeros(events.n_posts, dtype=bool)
    posts_top_domain[events.link_post[links_top_domain]] = True
    m_top_domain = posts_top_domain[member_posts]
    linked_domain_before = np.zeros(events.n_accounts, dtype=bool)
    linked_domain_before[m_account[before & m_top_domain]] = True

    first_seen = first_post_times(events)
    clustered = np.flatnonzero(membership >= 0)
    with_history = _share(has_history[clustered], membership[clustered], n_clusters, sizes)
    hist_members = clustered[has_history[clustered]]
    hist_cluster = membership[hist_members]
    n_hist = group_sizes(hist_cluster, n_clusters)  # members with a history (likely hijacked)
    app_novelty = _share(~used_app_before[hist_members], hist_cluster, n_clusters, n_hist)
    domain_novelty = _share(~linked_domain_before[hist_members], hist_cluster, n_clusters, n_hist)
    lead = _median_per_cluster(
        np.column_stack([hist_cluster, onset[hist_cluster] - first_seen[hist_members]]), n_clusters
    )

    # Synchrony: coordinated share of member posts within the cluster's active span.
    in_span = (m_time >= first[m_cluster]) & (m_time <= last[m_cluster])
    synchrony = np.divide(
        n_coord,
        group_sizes(m_cluster[in_span], n_clusters),
        out=np.zeros(n_clusters),
        where=n_coord > 0,
    )

    # Break: how much rarer the top domain (app) was in members' posts before the onset
    # than after it, pooled over members; 1 = never before, 0 = as common before as after.
    domain_break = _rate_break(m_cluster, before, after, m_top_domain, n_clusters)
    app_break = _rate_break(m_cluster, before, after, uses_top_app, n_clusters)

    density = (
        _density(projection, membership, sizes)
        if projection is not None
        else np.full(n_clusters, np.nan)
    )
    median_gap = _median_per_cluster(gaps, n_clusters)

    has_break = (with_history >= rule.min_history) & (np.nan_to_num(lead) >= rule.min_lead_s)
    brk = np.where(has_break, np.maximum(domain_break, app_break), 0.0)
    candidate = (
        (sizes >= rule.min_size) & (brk >= rule.min_break) & (exclusivity >= rule.min_exclusivity)
    )
    templating = np.full(n_clusters, np.nan)
    if texts is not None:
        templating[candidate] = _templating(
            events, post_cluster, c_posts, texts, np.flatnonzero(candidate), rule
        )
    score = 0.4 * brk + 0.2 * exclusivity + 0.2 * synchrony + 0.2 * np.nan_to_num(templating)
    flagged = candidate & (score >= rule.min_score)
    top_urls = _top_urls(events, post_cluster, c_posts, n_clusters)
    has_first = first < np.iinfo(np.int64).max
    table = pd.DataFrame(
        {
            "cluster": np.arange(n_clusters),
            "size": sizes,
            "density": density,
            "n_coordinated_posts": n_coord,
            "top_app": _names(events.apps.take(np.where(top_app >= len(events.apps), -1, top_app))),
            "app_share": app_share,
            "top_domain": _domain_names(events, top_domain),
            "domain_share": domain_share,
            "url_share": url_share,
            "exclusivity": exclusivity,
            "with_history": with_history,
            "n_with_history": n_hist,
            "n_without_history": sizes - n_hist,
            "app_novelty": app_novelty,
            "domain_novelty": domain_novelty,
            "lead_days": lead / 86_400.0,
            "domain_break": domain_break,
            "app_break": app_break,
            "history_break": brk,
            "synchrony": synchrony,
            "templating": templating,
            "median_gap_s": median_gap,
            "onset": pd.to_datetime(np.where(has_first, onset, 0), unit="s", utc=True).where(
                has_first
            ),
            "first_post": pd.to_datetime(np.where(has_first, first, 0), unit="s", utc=True).where(
                has_first
            ),
            "last_post": pd.to_datetime(np.where(has_first, last, 0), unit="s", utc=True).where(
                has_first
            ),
            "score": score,
            "flagged": flagged,
            "top_urls": top_urls,
        }
    )
    return table


def account_scores(
    clustering: Clustering,
    evidence: pd.DataFrame,
    attached: np.ndarray | None = None,
    unsigned: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per account: ``account``, ``cluster`` (-1 if none), ``flagged``, ``score``,
    ``attached`` (joined a flagged cluster by its signature, not through the graph) and
    ``unsigned`` (in a flagged cluster but never posted its signature: not flagged)."""
    membership = clustering.membership
    n = len(membership)
    score = np.zeros(n)
    flagged = np.zeros(n, dtype=bool)
    clustered = membership >= 0
    if len(evidence):
        score[clustered] = evidence["score"].to_numpy()[membership[clustered]]
        flagged[clustered] = evidence["flagged"].to_numpy()[membership[clustered]]
    unsigned = np.zeros(n, dtype=bool) if unsigned is None else unsigned
    return pd.DataFrame(
        {
            "account": clustering.accounts.to_numpy(),
            "cluster": membership,
            "flagged": flagged & ~unsigned,
            "score": score,
            "attached": np.zeros(n, dtype=bool) if attached is None else attached,
            "unsigned": unsigned,
        }
    )


def explain(row: pd.Series | dict[str, Any]) -> str:
    """Why a cluster was (or was not) flagged, in words, from its evidence row.

    Examples
    --------
    >>> print(explain({"cluster": 0, "size": 40, "flagged": True, "score": 0.9, "with_history": 0.95,
    ...     "domain_novelty": 1.0, "app_novelty": 0.0, "top_domain": "diet.com", "exclusivity": 0.99,
    ...     "top_app": "We Heart It", "app_share": 0.97, "synchrony": 0.6, "templating": 0.8,
    ...     "median_gap_s": 12.0, "n_coordinated_posts": 300, "n_without_history": 2}))
    Cluster 0 (40 accounts, score 0.90) is flagged: 95% of its members had posted before (2 had no earlier post: fresh fake accounts, or dormant ones) and 100% of them had never linked diet.com until then; 99% of all links to diet.com come from its members; 97% of its 300 coordinated posts went through We Heart It, an app 100% of them had used before (an abused legitimate app); 60% of their posts during the attack were coordinated, a median 12 s apart; 80% of the coordinated texts are near-duplicates.
    """
    r = dict(row)
    verdict = "is flagged" if r["flagged"] else "is not flagged"
    without = r.get("n_without_history")
    fresh = (
        ""
        if without is None or int(without) == 0
        else f" ({int(without)} had no earlier post: fresh fake accounts, or dormant ones)"
    )
    parts = [
        f"{_pct(r['with_history'])} of its members had posted before{fresh} and "
        f"{_pct(r['domain_novelty'])} of them had never linked {r['top_domain']} until then",
        f"{_pct(r['exclusivity'])} of all links to {r['top_domain']} come from its members",
    ]
    novelty = float(r["app_novelty"])
    if novelty >= 0.9:
        app_note = f"an app new to {_pct(novelty)} of them (a rogue app)"
    elif novelty <= 0.7:
        app_note = f"an app {_pct(1 - novelty)} of them had used before (an abused legitimate app)"
    else:
        app_note = f"an app new to {_pct(novelty)} of them"
    parts.append(
        f"{_pct(r['app_share'])} of its {int(r['n_coordinated_posts'])} coordinated posts went through {r['top_app']}, {app_note}"
    )
    parts.append(
        f"{_pct(r['synchrony'])} of their posts during the attack were coordinated, a median {r['median_gap_s']:.0f} s apart"
    )
    parts.append(f"{_pct(r['templating'])} of the coordinated texts are near-duplicates")
    return (
        f"Cluster {int(r['cluster'])} ({int(r['size'])} accounts, score {r['score']:.2f}) {verdict}: "
        + "; ".join(parts)
        + "."
    )


def rule_dict(rule: FlagRule) -> dict[str, Any]:
    """The rule as plain data (for provenance)."""
    return asdict(rule)


def _pct(x: float) -> str:
    return f"{100 * float(x):.0f}%" if np.isfinite(x) else "n/a"


def _domain_or_url(events: Events) -> np.ndarray:
    """Domain code of each link, or a URL-specific code where the domain is unknown."""
    return np.where(
        events.link_domain >= 0, events.link_domain, len(events.domains) + events.link_url
    )


def _domain_names(events: Events, codes: np.ndarray) -> list[str]:
    n_dom = len(events.domains)
    out = []
    for c in codes:
        if c < 0:
            out.append("")
        elif c < n_dom:
            out.append(events.domains[int(c)])
        else:
            out.append(events.urls[int(c - n_dom)])
    return out


def _names(values: list[str | None]) -> list[str]:
    return [v if v is not None else "(unknown app)" for v in values]


def _coordinated_links(
    events: Events, post_cluster: np.ndarray, window_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Links of clustered posts whose URL stem another member also posted within the
    window (two staggered bucketings); also the gaps between consecutive coordinated
    links on the same stem (with their cluster) for timing.

    Stems (URLs without their query) rather than domains: members who merely use
    the same site (their photo app's own pages, a news site) at busy times are not
    coordinated; members who push the same link, even with per-post query
    mutations, are.
    """
    link_cluster = post_cluster[events.link_post]
    idx = np.flatnonzero(link_cluster >= 0)
    coordinated = np.zeros(len(events.link_post), dtype=bool)
    if len(idx) == 0:
        return coordinated, np.zeros((0, 2))
    # Only equality of stems matters here: code the stems of the clustered links' URLs alone.
    stem = stem_codes(events, events.link_url[idx])
    time = events.link_time[idx]
    account = events.link_account[idx]
    n_stem = int(stem.max()) + 1
    group = link_cluster[idx].astype(np.int64) * n_stem + stem
    # One order serves both bucketings and the gaps: links by (cluster, stem, time).
    order = _order_by(group, time)
    group, time, account = group[order], time[order], account[order]
    same_group = group[1:] == group[:-1]
    w = int(window_s)
    t0 = int(time.min())
    hit = np.zeros(len(idx), dtype=bool)
    for shift in (0, w // 2):
        bucket = (time - t0 + shift) // w
        new = np.empty(len(group), dtype=bool)
        new[0] = True
        np.not_equal(bucket[1:], bucket[:-1], out=new[1:])
        new[1:] |= ~same_group
        starts = np.flatnonzero(new)
        # A (cluster, stem, bucket) group is coordinated when two accounts or more posted in it.
        several = np.minimum.reduceat(account, starts) != np.maximum.reduceat(account, starts)
        hit |= np.repeat(several, np.diff(np.append(starts, len(group))))
    coordinated[idx[order[hit]]] = True
    chosen_group, chosen_time = group[hit], time[hit]
    same = chosen_group[1:] == chosen_group[:-1]
    gap = np.diff(chosen_time)[same]
    gaps = (
        np.column_stack([chosen_group[1:][same] // n_stem, gap]) if len(gap) else np.zeros((0, 2))
    )
    return coordinated, gaps


def _order_by(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Stable order by (first, second) of non-negative int64 keys (one argsort when the pair fits)."""
    low = int(second.min()) if len(second) else 0
    span = int(second.max()) - low + 1 if len(second) else 1
    if len(first) and int(first.max()) < (2**62) // max(span, 1):
        return np.argsort(first * span + (second - low), kind="stable")
    return np.lexsort((second, first))


def first_post_times(events: Events) -> np.ndarray:
    """Time of each account's first post.

    Account codes number accounts by first appearance, so in time-ordered posts an
    account's first post is where its code first exceeds all codes before it: one
    pass, no sort. Posts out of time order take a scatter-minimum instead.

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1)
    >>> ev = encode(Posts.from_records([{"post_id": str(i), "account_id": a, "timestamp": t + dt.timedelta(seconds=s)}
    ...                                 for i, (a, s) in enumerate([("a", 5), ("b", 7), ("a", 9)])]))
    >>> (first_post_times(ev) - first_post_times(ev).min()).tolist()
    [0, 2]
    """
    if "first_post_times" in events._cache:
        return events._cache["first_post_times"]
    account, time = events.post_account, events.post_time
    first = np.full(events.n_accounts, np.iinfo(np.int64).max, dtype=np.int64)
    if len(account) and bool(np.all(time[1:] >= time[:-1])):
        running = np.maximum.accumulate(account)
        new = np.empty(len(account), dtype=bool)
        new[0] = True
        np.greater(account[1:], running[:-1], out=new[1:])
        first[account[new]] = time[new]
    else:
        np.minimum.at(first, account, time)
    events._cache["first_post_times"] = first
    return first


def _signature_domain(
    c_cluster: np.ndarray,
    c_domain: np.ndarray,
    link_cluster: np.ndarray,
    link_domain: np.ndarray,
    n_clusters: int,
    n_domains: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cluster's top domain, its share of coordinated links, and its exclusivity.

    The top domain maximises (coordinated links to it) x (exclusivity: share of
    all links to it, platform-wide, made by members), so that camouflage - the
    attacker also pushing popular links, which may outnumber the attack's own -
    does not hide the domain that only the cluster pushes.
    """
    top = np.full(n_clusters, -1, dtype=np.int64)
    share = np.zeros(n_clusters)
    exclusive = np.zeros(n_clusters)
    if len(c_cluster) == 0:
        return top, share, exclusive
    c, d, count = distinct_pairs(c_cluster, c_domain, n_domains)
    member = link_cluster >= 0
    mc, md, member_count = distinct_pairs(link_cluster[member], link_domain[member], n_domains)
    pos = np.searchsorted(mc * n_domains + md, c * n_domains + d)
    excl = member_count[pos] / group_sizes(link_domain, n_domains)[d]
    order = np.lexsort((d, -count, -(count * excl), c))
    c, d, count, excl = c[order], d[order], count[order], excl[order]
    first = np.ones(len(c), dtype=bool)
    first[1:] = c[1:] != c[:-1]
    totals = np.bincount(c, weights=count, minlength=n_clusters)
    top[c[first]] = d[first]
    share[c[first]] = count[first] / totals[c[first]]
    exclusive[c[first]] = excl[first]
    return top, share, exclusive


def _top_per_cluster(
    cluster: np.ndarray, value: np.ndarray, n_clusters: int, n_values: int
) -> tuple[np.ndarray, np.ndarray]:
    """Most frequent value per cluster (ties: smallest code) and its share."""
    top = np.full(n_clusters, -1, dtype=np.int64)
    share = np.zeros(n_clusters)
    if len(cluster) == 0:
        return top, share
    c, v, count = distinct_pairs(cluster, value, max(n_values, 1))
    order = np.lexsort((v, -count, c))
    c, v, count = c[order], v[order], count[order]
    first = np.ones(len(c), dtype=bool)
    first[1:] = c[1:] != c[:-1]
    top[c[first]] = v[first]
    totals = np.bincount(c, weights=count, minlength=n_clusters)
    share[c[first]] = count[first] / totals[c[first]]
    return top, share


def _rate_break(
    post_cluster: np.ndarray,
    pre: np.ndarray,
    after: np.ndarray,
    marked: np.ndarray,
    n_clusters: int,
) -> np.ndarray:
    """``1 - min(1, rate_before / rate_after)`` of marked posts per cluster (0 without history)."""
    n_pre = group_sizes(post_cluster[pre], n_clusters).astype(np.float64)
    n_after = group_sizes(post_cluster[after], n_clusters).astype(np.float64)
    k_pre = group_sizes(post_cluster[pre & marked], n_clusters).astype(np.float64)
    k_after = group_sizes(post_cluster[after & marked], n_clusters).astype(np.float64)
    rate_pre = np.divide(k_pre, n_pre, out=np.zeros(n_clusters), where=n_pre > 0)
    rate_after = np.divide(k_after, n_after, out=np.zeros(n_clusters), where=n_after > 0)
    ratio = np.divide(rate_pre, rate_after, out=np.ones(n_clusters), where=rate_after > 0)
    return np.where(n_pre > 0, 1.0 - np.minimum(ratio, 1.0), 0.0)


def _quantile_per_cluster(
    cluster: np.ndarray, values: np.ndarray, n_clusters: int, q: float
) -> np.ndarray:
    """The ``q`` quantile (lower) of ``values`` within each cluster (int64; max int where empty)."""
    out = np.full(n_clusters, np.iinfo(np.int64).max, dtype=np.int64)
    if len(cluster) == 0:
        return out
    order = np.lexsort((values, cluster))
    c, v = cluster[order], values[order]
    starts = np.searchsorted(c, np.arange(n_clusters), side="left")
    ends = np.searchsorted(c, np.arange(n_clusters), side="right")
    has = ends > starts
    pick = starts + np.floor(q * (ends - starts - 1)).astype(np.int64)
    out[has] = v[pick[has]]
    return out


def _share(
    flags: np.ndarray, cluster: np.ndarray, n_clusters: int, denominators: np.ndarray
) -> np.ndarray:
    hits = np.bincount(cluster[flags], minlength=n_clusters).astype(np.float64)
    return np.divide(hits, denominators, out=np.zeros(n_clusters), where=denominators > 0)


def _density(projection: Projection, membership: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    same = (membership[projection.rows] == membership[projection.cols]) & (
        membership[projection.rows] >= 0
    )
    internal = np.bincount(membership[projection.rows[same]], minlength=len(sizes)).astype(
        np.float64
    )
    possible = sizes * (sizes - 1) / 2.0
    return np.divide(internal, possible, out=np.zeros(len(sizes)), where=possible > 0)


def _median_per_cluster(gaps: np.ndarray, n_clusters: int) -> np.ndarray:
    out = np.full(n_clusters, np.nan)
    if len(gaps) == 0:
        return out
    frame = pd.DataFrame({"c": gaps[:, 0].astype(np.int64), "g": gaps[:, 1]})
    med = frame.groupby("c")["g"].median()
    out[med.index.to_numpy()] = med.to_numpy()
    return out


_NON_WORD = re.compile(r"[^\w\s]+")
_DIGITS = re.compile(r"\w*\d\w*")


def normalise_text(text: str) -> str:
    """Lowercase, drop punctuation and tokens holding digits, collapse spaces.

    Examples
    --------
    >>> normalise_text("OMG!! Lost 10 pounds http://x.co/3f  <3")
    'omg lost pounds http x co'
    """
    text = _NON_WORD.sub(" ", text.lower())
    return " ".join(_DIGITS.sub(" ", text).split())


def _templating(
    events: Events,
    post_cluster: np.ndarray,
    c_posts: np.ndarray,
    texts: pa.ChunkedArray | pa.Array,
    clusters: np.ndarray,
    rule: FlagRule,
) -> np.ndarray:
    """Share of (a sample of) each given cluster's coordinated posts with a near-duplicate
    text from another member."""
    from datasketch import MinHash, MinHashLSH

    out = np.zeros(len(clusters))
    rng = np.random.default_rng(0)
    # The LSH index only fixes the banding (bands of rows of the 64 hash values); two texts
    # are candidates when they agree on a whole band, which is what MinHashLSH.query returns.
    bands = MinHashLSH(threshold=0.5, num_perm=64).hashranges
    for slot, cluster in enumerate(clusters):
        posts = c_posts[post_cluster[c_posts] == cluster]
        if len(posts) < 2:
            continue
        if len(posts) > rule.max_texts:
            posts = np.sort(rng.choice(posts, size=rule.max_texts, replace=False))
        values = texts.take(pa.array(events.post_row[posts])).to_pylist()
        shingled = []
        for text in values:
            words = normalise_text(text or "").split()
            shingled.append(
                {" ".join(words[j : j + 3]).encode() for j in range(max(len(words) - 2, 1))}
                if words
                else set()
            )
        has = np.flatnonzero([bool(sh) for sh in shingled])
        if len(has) == 0:
            continue
        hashes = np.stack(
            [
                m.hashvalues
                for m in MinHash.bulk([list(shingled[i]) for i in has], num_perm=64, seed=1)
            ]
        )
        owners = events.post_account[posts][has]
        near = np.zeros(len(has), dtype=bool)
        for start, stop in bands:
            _, band = np.unique(hashes[:, start:stop], axis=0, return_inverse=True)
            band = band.ravel()
            # Every text in a band bucket shared by two owners or more has a near-duplicate
            # from another member.
            bucket, _owner, _n = distinct_pairs(band, owners, len(events.accounts))
            mixed = group_sizes(bucket, int(band.max()) + 1) >= 2
            near |= mixed[band]
        out[slot] = int(near.sum()) / len(posts)
    return out


def _top_urls(
    events: Events, post_cluster: np.ndarray, c_posts: np.ndarray, n_clusters: int, k: int = 3
) -> list[str]:
    """The ``k`` most linked URLs of each cluster's coordinated posts, with shares."""
    mask = np.zeros(events.n_posts, dtype=bool)
    mask[c_posts] = True
    links = np.flatnonzero(mask[events.link_post])
    cl = post_cluster[events.link_post[links]]
    c, u, count = distinct_pairs(cl, events.link_url[links], max(len(events.urls), 1))
    out = [""] * n_clusters
    if len(c) == 0:
        return out
    # By cluster, then count (descending), then URL code; the first k of each cluster.
    order = np.lexsort((u, -count, c))
    c, u, count = c[order], u[order], count[order]
    starts = np.flatnonzero(np.concatenate([[True], c[1:] != c[:-1]]))
    rank = np.arange(len(c)) - np.repeat(starts, np.diff(np.append(starts, len(c))))
    head = rank < k
    totals = np.bincount(c, weights=count, minlength=n_clusters)
    names = events.urls.take(u[head])
    parts: dict[int, list[str]] = {}
    for cluster, url, n in zip(c[head].tolist(), names, count[head].tolist(), strict=True):
        parts.setdefault(cluster, []).append(f"{url} ({100 * n / totals[cluster]:.0f}%)")
    for cluster, texts in parts.items():
        out[cluster] = "; ".join(texts)
    return out

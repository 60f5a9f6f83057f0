"""From clusters to campaigns: signatures, adopters, and evidence per campaign.

Community detection finds groups of accounts that act together. A campaign
spread over days, or posted once by most of its victims, comes out of it in
fragments, and each fragment alone is too small, too weakly exclusive and too
short to judge. So the unit judged here is not the cluster but the
**signature**: the sites (:func:`research.graph.events.site_keys`) that a
cluster's members pushed and that were *new* when they did.

1. **Signature sites.** A site is a candidate signature when at least two
   members of one cluster linked it and the site is *short-lived*: the central
   ``1 - 2 * rule.span_quantile`` of all its links, platform-wide, fall within
   at most ``rule.candidate_span`` of the observed window. A campaign's sites are born
   and abandoned with it; sites that everybody links (a video site, a news
   site) and sites that accounts link all the time (a feed's, an
   organisation's) are linked throughout the window. (The data cannot tell
   whether a site linked from the first day on was new then: a campaign that
   lasts the whole observation is not seen as one.) A campaign that gives every post a
   fresh short link, or every victim a fresh subdomain of a shared host, has one site per
   account; its links meet in a *coarse* site (the shortener or host, and the app:
   :func:`research.graph.events.site_keys`), judged like any other.
2. **Pooling.** Candidate sites whose adopters (every account that linked
   them) overlap — at least two shared, and at least ``rule.pool_overlap`` of
   the smaller set — and that lived alongside each other (at least
   ``rule.pool_cospan`` of the smaller site's links within the larger's span)
   are one **pooled group** (a campaign candidate: the days of a rotated domain,
   the short links of one campaign). With ``rule.pool`` ``"alongside"`` (the
   default) each site is its own group and each pooled group of several sites
   is judged as well (:func:`pooled_unions`, :func:`research.verdicts.decide`);
   with ``"before"`` the pooled groups replace the sites' own, which chains a
   campaign with the small sites its victims link in their own lives (a
   campaign planted into a real background shows it) and loses the campaign's
   own verdict with the chain's; with ``"none"`` only sites are judged.
   ``rule.pool_linkage`` ``"best"`` links each site only to its best larger
   partner, so that shared small sites cannot bridge two groups. The clusters whose adopters mostly adopted
   the group are its *pieces* (``n_pieces``): the group is judged over all of
   them, however the graph split it.
3. **Adopters.** The group's *span* runs from its members' first to last
   signature link. Every account that linked a signature site within the span
   (widened by ``margin_s``) and had not linked it before is an **adopter**:
   the members who did, and other accounts (*attached*: a victim whose stolen
   token posted once has too few edges to be placed by the graph, yet it
   pushed the same site at the same time). Members who never linked the
   signature are *unsigned* (honest accounts pulled in by camouflage) and are
   not judged with the group.
4. **Evidence** over the adopters and their signature posts (one row per group):

======================  ========================================================
``n_adopters``          adopters (the accounts judged with the group; an account
                        may adopt several groups; ``size``, added with the
                        verdicts, counts the accounts listed in the group)
``n_members``           adopters placed by the graph; ``n_attached`` the others;
                        ``n_unsigned`` members without a signature link;
                        ``n_pieces`` clusters pooled
``n_signature_posts``   adopters' posts linking the signature within the span
``top_site``            the signature site with most of those posts;
                        ``site_share`` its share; ``n_sites`` sites in the signature
``top_app``             the app of most signature posts (``app_share``);
                        ``app_novelty``: share of adopters with earlier posts who
                        never used that app before the span
``exclusivity``         share of all links to the signature sites (whole data)
                        that are the adopters' signature posts
``outside``             accounts that linked the signature sites outside the span
                        (widened by ``margin_s``), before or after it: a campaign's
                        sites are born and abandoned with it, a brand's or a host's
                        site has a life of its own before and after (a count, which
                        the group's own volume cannot dilute as it dilutes
                        ``exclusivity``; the span trims a site's earliest and latest
                        ``span_quantile`` of links, so the count sees the other links
                        of a site the group swamps, and a site with more of them has
                        a span reaching out to them, failing ``max_span``). Both
                        sides count: a brand's giveaway early in the window has
                        little life before it, and plenty after
``history``             share of adopters with a post outside the span (widened
                        by ``history_margin_s``): accounts with a life of their
                        own, which fresh fake, dormant and automated accounts lack
``routine``             share of adopters with posts outside the span who, outside
                        it, co-posted ``routine_urls`` URLs or more with other
                        adopters (URLs posted by at least ``routine_members`` of
                        them, and almost only by them): the group coordinates as a
                        matter of course, before or after (an organisation, a feed
                        network)
``repost_share``        share of signature posts that are reposts (amplification
                        of someone else's post, not posts written as the account)
``link_reuse``          share of signature posts whose page (URL without query)
                        another adopter also posted: the same link pushed, not
                        each account's own pages (posts to coarse sites, a
                        shortener's or shared host's one-account links, are left
                        out: unknown when there are no others)
``coarse_share``        share of signature links on coarse sites (a shortener's or
                        a shared host's one-account links through one app,
                        :func:`research.graph.events.site_keys`): where most are,
                        the app carries the signature, and the ladder asks that it
                        be one the adopters seldom use otherwise (``app_lift``)
``burst_share``         share of signature links on *bursts* of coarse sites (a
                        shortener's or host's one-account links through one app,
                        or through none, at ten times their usual daily rate or
                        more, by ten accounts or more: :class:`research.graph.events.Bursts`):
                        where most are, the burst carries the signature as the app
                        lift does (a shortener that everybody uses, through the
                        client that everybody uses, suddenly used by many at once)
``text_share``          share of signature links on *text sites* (small sites' links
                        on a shortener or a shared host whose posts' texts are
                        near-duplicates of other accounts' such posts:
                        :func:`research.graph.events.site_keys`): the template is
                        the signature, as a page is; where most are, the texts
                        cannot also be the sign of concert (``templating`` is high
                        by construction) and concert must come from time, app or
                        prevalence
``synchrony``           burstiness of the signature posts' times (0: at random
                        times, near 1: in waves; scale-free; corrected for the
                        number of posts)
``app_lift``            how much more the signature posts went through the top app
                        than the adopters' other posts did (the lower end of a 95%
                        interval of the share, so a handful of posts proves little)
``templating``          share of (a sample of) signature posts whose text is a
                        near-duplicate (MinHash Jaccard of word 3-shingles at least
                        ``template_similarity``) of another adopter's (the lower end
                        of a 95% interval, as ``app_lift``: strangers who share a page
                        with its title through a share button make two or three
                        near-duplicates, which prove little)
``prevalence``          adopters among the accounts that posted anything during the
                        span (the lower end of a 95% interval; templating and
                        prevalence are computed only where the verdict hangs on them)
``median_gap_s``        median time between consecutive signature posts on a site
``signature_sites``     the signature's sites, separated by spaces (a site holds no space)
``onset``, ``last_post``  the span; ``span_hours`` its length; ``span_share`` its
                        share of the observed window
``active_share``        the share of the observed window its signature posts are
                        active in: the span with each gap between consecutive posts
                        counted at most ``window / posts`` (the mean gap of the same
                        posts spread evenly over the window) and, in a group with
                        at least ``wave_gaps`` gaps, at most ``wave_gap`` times its
                        lower-quartile gap (a pause between waves counts as a long
                        gap inside one), but never
                        less than ``wave_floor`` of the window. Posting spread evenly
                        keeps it near ``span_share``; waves days apart count a little
                        each, however few the posts. A group active all along is
                        routine, not an episode
``duty``                the share of its own span it is active in, the gaps
                        capped as for ``active_share`` but against the span
                        (at most 1): waves far apart within the span make it
                        small whatever the window's length (a campaign of ten hour-long waves over
                        four days is as much an episode in a ten-day export as
                        in a month's)
======================  ========================================================

The verdict that these numbers feed is in :mod:`research.verdicts`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from research.canonical import MANUAL_RETWEET
from research.detect.clustering import Clustering
from research.graph.codes import (
    blocks,
    components,
    dense_codes,
    distinct_pairs,
    group_sizes,
    overlapping_pairs,
    pair_dense_codes,
    site_spans,
    stable_group,
    top_per_group,
)
from research.graph.events import (
    Events,
    Labels,
    burst_sites,
    coarse_sites,
    link_site_spans,
    site_keys,
    stem_codes,
    text_sites,
)
from research.minhash import normalise_text
from research.rule import Rule

__all__ = [
    "EVIDENCE_COLUMNS",
    "Groups",
    "first_post_times",
    "group_evidence",
    "normalise_text",
    "signature_groups",
]

_MANUAL_RETWEET = re.compile(MANUAL_RETWEET, re.IGNORECASE)
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Groups:
    """Campaign candidates: signature sites pooled into groups, with their adopters.

    An account may adopt several groups (a victim of one campaign who also took part in a
    giveaway): adoption is a relation, held as ``(account, group)`` pairs.

    Attributes
    ----------
    pair_account, pair_group
        Adopter pairs, sorted by account then group.
    pair_links
        Signature links of each pair.
    pair_member
        Whether the pair's account is in a cluster (piece) that belongs to the group; the
        others were *attached* by the signature.
    piece_group
        The group each account's cluster belongs to (``-1``: none). Members of a group's
        pieces that did not adopt it are its *unsigned* members.
    sites
        Signature site codes of each group (:func:`research.graph.events.site_keys`).
    span
        ``(n_groups, 2)`` first and last signature link of each group (seconds; quantiles).
    n_pieces
        Clusters that belong to each group.
    """

    pair_account: np.ndarray
    pair_group: np.ndarray
    pair_links: np.ndarray
    pair_member: np.ndarray
    piece_group: np.ndarray
    sites: list[np.ndarray]
    span: np.ndarray
    n_pieces: np.ndarray
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def n_groups(self) -> int:
        return len(self.sites)

    def adopts(self, account: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Whether each ``account`` adopted the matching ``group`` (never for a group ``-1``)."""
        out = np.zeros(len(group), dtype=bool)
        asked = np.flatnonzero(np.asarray(group) >= 0)
        if len(self.pair_account) == 0 or len(asked) == 0:
            return out
        n = np.int64(max(self.n_groups, 1))
        keys = self.pair_account * n + self.pair_group
        probe = np.asarray(account, dtype=np.int64)[asked] * n + np.asarray(group)[asked]
        pos = np.minimum(np.searchsorted(keys, probe), len(keys) - 1)
        out[asked] = keys[pos] == probe
        return out

    def site_group(self) -> dict[int, int]:
        """The group of each signature site (by site code)."""
        return {int(site): g for g, sites in enumerate(self.sites) for site in sites}

    def unsigned(self) -> np.ndarray:
        """Members of a group's pieces that did not adopt it (per account)."""
        accounts = np.arange(len(self.piece_group))
        return (self.piece_group >= 0) & ~self.adopts(accounts, self.piece_group)

    def subset(self, keep: np.ndarray) -> Groups:
        """The groups ``keep`` (increasing indices) alone, numbered ``0..len(keep)-1`` in that
        order: each with its own adopter pairs, sites, span and pieces as here (an account whose
        piece belongs to a group left out belongs to none). A group's own evidence is the same
        here as in the whole (:func:`group_evidence` measures only new groups this way)."""
        number = np.full(self.n_groups, -1, dtype=np.int64)
        number[keep] = np.arange(len(keep))
        chosen = number[self.pair_group] >= 0
        return Groups(
            pair_account=self.pair_account[chosen],
            pair_group=number[self.pair_group[chosen]],
            pair_links=self.pair_links[chosen],
            pair_member=self.pair_member[chosen],
            piece_group=np.where(
                self.piece_group >= 0, number[np.maximum(self.piece_group, 0)], -1
            ),
            sites=[self.sites[g] for g in np.asarray(keep).tolist()],
            span=self.span[keep],
            n_pieces=self.n_pieces[keep],
            stats=dict(self.stats),
        )

    def primary(self, rank: np.ndarray | None = None) -> np.ndarray:
        """One group per account (``-1``: none): of the groups it adopted, the lowest ``rank``
        (default: the one with most signature links, ties lower group); else its piece's group."""
        out = self.piece_group.copy()
        if len(self.pair_account) == 0:
            return out
        key = rank[self.pair_group] if rank is not None else -self.pair_links
        order = np.lexsort((self.pair_group, key, self.pair_account))
        acc = self.pair_account[order]
        first = np.ones(len(acc), dtype=bool)
        first[1:] = acc[1:] != acc[:-1]
        out[acc[first]] = self.pair_group[order][first]
        return out


def signature_groups(
    events: Events,
    clustering: Clustering,
    rule: Rule | None = None,
    *,
    together: Sequence[np.ndarray] = (),
) -> Groups:
    """Pool clusters by signature and find each group's adopters (see module docstring).

    Unless ``rule.pool`` is ``"before"`` every signature site is its own group; with ``rule.attach``
    false only the clusters' members are adopters. ``together`` lists sets of site codes
    (:func:`research.graph.events.site_keys`) that are one group whatever the pooling says
    (:func:`research.verdicts.decide` joins the sites of one campaign's compromised groups).

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1)
    >>> rows = [{"post_id": str(i), "account_id": a, "timestamp": t + dt.timedelta(hours=h),
    ...          "urls": [u], "domains": [u.split("/")[2]]}
    ...         for i, (a, h, u) in enumerate([("x", 0, "http://spam.com/1"), ("y", 1, "http://spam.com/2"),
    ...                                        ("z", 2, "http://spam.com/1"), ("w", 1, "http://news.com/a"),
    ...                                        ("w", 90, "http://news.com/b")])]
    >>> ev = encode(Posts.from_records(rows))
    >>> piece = Clustering(ev.accounts, np.array([0, 0, -1, -1]), "hand")
    >>> groups = signature_groups(ev, piece, Rule(min_size=2))
    >>> groups.primary().tolist(), groups.pair_account.tolist(), groups.pair_member.tolist()
    ([0, 0, 0, -1], [0, 1, 2], [True, True, False])
    """
    rule = rule or Rule()
    n_acc = events.n_accounts
    membership = clustering.membership
    n_clusters = clustering.n_clusters
    _link_site, _labels = site_keys(events)
    n_sites = len(_labels)
    candidates, site_group = _candidate_sites(events, clustering, rule)
    if len(together) and len(candidates):
        local = np.full(n_sites, -1, dtype=np.int64)
        local[candidates] = np.arange(len(candidates))
        site_group = _join(site_group, [local[np.asarray(t)] for t in together])
    n_groups = int(site_group.max(initial=-1)) + 1
    sites = [np.zeros(0, dtype=np.int64) for _ in range(n_groups)]
    order = np.argsort(site_group, kind="stable")
    bounds = np.searchsorted(site_group[order], np.arange(n_groups + 1))
    for g in range(n_groups):
        sites[g] = candidates[order[bounds[g] : bounds[g + 1]]]

    # 3. Span of each group (its sites' links by accounts new to them) and its adopters.
    g_of_site = np.full(n_sites, -1, dtype=np.int64)
    g_of_site[candidates] = site_group
    # Only the links to candidate sites are read (their posts' times and accounts, not every
    # link's), found once for every round of judging (:func:`_links_to`).
    signed, signed_site, signed_first = _links_to(events, g_of_site >= 0)
    s_post, s_group = events.link_post[signed], g_of_site[signed_site]
    s_when, s_account = events.post_time[s_post], events.post_account[s_post]
    span = site_spans(s_group, s_when, n_groups, rule.span_quantile)
    start, end = span[:, 0], span[:, 1]
    if n_groups == 0:  # no candidate site: spans of a placeholder group, never used
        start, end = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    adopting = (
        (s_when >= start[s_group] - rule.margin_s)
        & (s_when <= end[s_group] + rule.margin_s)
        & (signed_first >= start[s_group] - rule.margin_s)
    )
    if not rule.attach:
        adopting &= membership[s_account] >= 0
    pair_account, pair_group, pair_links = distinct_pairs(
        s_account[adopting], s_group[adopting], max(n_groups, 1)
    )

    # 4. Pieces: a cluster belongs to the group that most of its members adopted (at least two);
    # its members who did not adopt that group are the group's unsigned members.
    clustered = membership[pair_account] >= 0
    cg_c, cg_g, cg_n = distinct_pairs(
        membership[pair_account[clustered]], pair_group[clustered], max(n_groups, 1)
    )
    pick = np.lexsort((cg_g, -cg_n, cg_c))
    cg_c, cg_g, cg_n = cg_c[pick], cg_g[pick], cg_n[pick]
    first_of_c = np.ones(len(cg_c), dtype=bool)
    first_of_c[1:] = cg_c[1:] != cg_c[:-1]
    belongs = np.full(max(n_clusters, 1), -1, dtype=np.int64)
    top = first_of_c & (cg_n >= 2)
    belongs[cg_c[top]] = cg_g[top]
    piece_group = np.where(membership >= 0, belongs[np.maximum(membership, 0)], -1)
    pair_member = piece_group[pair_account] == pair_group

    # Clusters that belong to no group stay together, as groups without a site whose members
    # are their adopters (judged ``none``).
    has_pair = np.zeros(n_acc, dtype=bool)
    has_pair[pair_account] = True
    loose = np.flatnonzero((membership >= 0) & (piece_group < 0) & ~has_pair)
    loose_ids = _renumber(membership[loose]) + n_groups
    n_loose = int(loose_ids.max(initial=n_groups - 1)) + 1 - n_groups
    sites += [np.zeros(0, dtype=np.int64) for _ in range(n_loose)]
    span = np.vstack([span, np.zeros((n_loose, 2), dtype=np.int64)])
    pair_account = np.concatenate([pair_account, loose])
    pair_group = np.concatenate([pair_group, loose_ids])
    pair_links = np.concatenate([pair_links, np.zeros(len(loose), dtype=np.int64)])
    pair_member = np.concatenate([pair_member, np.ones(len(loose), dtype=bool)])
    order = np.lexsort((pair_group, pair_account))
    n_pieces = group_sizes(belongs[belongs >= 0], n_groups + n_loose)
    n_pieces[n_groups:] = 1
    return Groups(
        pair_account=pair_account[order],
        pair_group=pair_group[order],
        pair_links=pair_links[order],
        pair_member=pair_member[order],
        piece_group=piece_group,
        sites=sites,
        span=span,
        n_pieces=n_pieces,
        stats={
            "n_clusters": n_clusters,
            "n_groups": n_groups + n_loose,
            "n_candidate_sites": len(candidates),
        },
    )


def _candidate_sites(
    events: Events, clustering: Clustering, rule: Rule
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1 and 2 of the module docstring: the candidate signature sites (codes) and the
    group of each before any join (``0..k-1``)."""
    candidates, site_group, _pooled = _candidate_partitions(events, clustering, rule)
    return candidates, site_group


def pooled_unions(events: Events, clustering: Clustering, rule: Rule) -> list[np.ndarray]:
    """The site sets (codes) that pooling joins from more than one site (step 2 of the module
    docstring, whatever ``rule.pool`` says): with ``rule.pool == "alongside"``
    :func:`research.verdicts.decide` judges each of them as one group as well."""
    candidates, _site_group, pooled = _candidate_partitions(events, clustering, rule)
    if pooled is None:
        return []
    order = np.argsort(pooled, kind="stable")
    bounds = np.searchsorted(pooled[order], np.arange(int(pooled.max(initial=-1)) + 2))
    return [candidates[order[lo:hi]] for lo, hi in itertools.pairwise(bounds) if hi - lo > 1]


def _candidate_partitions(
    events: Events, clustering: Clustering, rule: Rule
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The candidate sites, the group of each (``rule.pool``), and the pooled group of each
    (``None`` unless ``rule.pool`` is ``"alongside"``). The result is cached on the events:
    :func:`research.verdicts.decide` asks again, with the same clustering and rule, to join a
    campaign's groups."""
    key = (rule, clustering.membership.tobytes())
    cached = events._cache.get("candidate_sites")
    if cached is not None and cached[0] == key:
        return cached[1]
    n_acc = events.n_accounts

    # 1. Candidate sites: short-lived (their links fill at most ``max_span`` of the observed
    # window) and linked by at least two members of one cluster.
    link_site, n_sites, spans, short_lived, _member, _pc, pk, _pair, p_members = _cluster_sites(
        events, clustering, rule
    )
    is_candidate = np.zeros(n_sites, dtype=bool)
    is_candidate[pk[p_members >= 2]] = True
    is_candidate &= short_lived
    candidates = np.flatnonzero(is_candidate)

    # 2. Adopters of each candidate site, and groups of sites that share adopters.
    on_candidate = np.flatnonzero(is_candidate[link_site])
    # The candidate links' accounts and times only (not every link's: 2 x 0.34 GB at 10^8 posts).
    candidate_post = events.link_post[on_candidate]
    account, when = events.post_account[candidate_post], events.post_time[candidate_post]
    local = np.full(n_sites, -1, dtype=np.int64)
    local[candidates] = np.arange(len(candidates))
    s_site, s_acc, _links = distinct_pairs(local[link_site[on_candidate]], account, n_acc)
    n_adopters = group_sizes(s_site, len(candidates))

    def partition(pool: bool) -> np.ndarray:
        return _site_groups(
            s_site, s_acc, n_adopters, n_acc, local[link_site[on_candidate]], when,
            spans[candidates], rule, pool=pool,
        )  # fmt: skip

    site_group = partition(rule.pool == "before")
    pooled = partition(True) if rule.pool == "alongside" else None
    result = (candidates, site_group, pooled)
    events._cache["candidate_sites"] = (key, result)
    return result


def cluster_groups(events: Events, clustering: Clustering, rule: Rule | None = None) -> Groups:
    """Every cluster as its own group, its members as adopters: the evidence of a clustering
    described as it stands (no pooling, nobody attached), as for a baseline's clusters.

    A cluster's signature is its candidate sites (short-lived, linked by two members or more).
    """
    rule = rule or Rule()
    account, when = events.link_account, events.link_time
    membership = clustering.membership
    n = clustering.n_clusters
    _site, _n_sites, _spans, short_lived, member, pc, pk, pair, p_members = _cluster_sites(
        events, clustering, rule
    )
    keep = (p_members >= 2) & short_lived[pk]
    bounds = np.searchsorted(pc[keep], np.arange(n + 1))
    sites = [pk[keep][bounds[c] : bounds[c + 1]] for c in range(n)]
    on_own = np.zeros(len(account), dtype=bool)
    on_own[member[keep[pair]]] = True
    span = site_spans(membership[account[on_own]], when[on_own], n, rule.span_quantile)
    clustered = np.flatnonzero(membership >= 0)
    return Groups(
        pair_account=clustered,
        pair_group=membership[clustered],
        pair_links=group_sizes(account[on_own], events.n_accounts)[clustered],
        pair_member=np.ones(len(clustered), dtype=bool),
        piece_group=membership.copy(),
        sites=sites,
        span=span,
        n_pieces=np.ones(n, dtype=np.int64),
        stats={"n_clusters": n, "n_groups": n},
    )


def _link_time_range(events: Events) -> int:
    """Latest minus earliest time of the posts with links (0 without links), read in chunks
    (``np.ptp(events.link_time)`` without a copy of every link's time)."""
    n = len(events.link_post)
    if n == 0:
        return 0
    lows, highs = [], []
    for a in range(0, n, _POSITIONS_CHUNK):
        t = events.post_time[events.link_post[a : a + _POSITIONS_CHUNK]]
        lows.append(int(t.min()))
        highs.append(int(t.max()))
    return max(highs) - min(lows)


def _cluster_sites(
    events: Events, clustering: Clustering, rule: Rule
) -> tuple[
    np.ndarray,
    int,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]:
    """What both kinds of groups start from: each link's site and the number of sites, each
    site's span and whether it is short-lived (its links fill at most ``candidate_span`` of the
    observed window), the links of clustered accounts (``member``), their distinct (cluster,
    site) pairs (``pc``, ``pk``), each such link's pair, and the members behind each pair."""
    link_site, _labels = site_keys(events)
    n_sites = int(link_site.max(initial=-1)) + 1
    account = events.link_account
    membership = clustering.membership
    spans = link_site_spans(events, rule.span_quantile)
    window = max(_link_time_range(events), 1)
    short_lived = (spans[:, 1] - spans[:, 0]) <= rule.candidate_span * window
    member = np.flatnonzero(membership[account] >= 0)
    # The (cluster, site) pairs and each member link's pair, from two counting sorts.
    key, pair = pair_dense_codes(
        membership[account[member]], link_site[member], max(clustering.n_clusters, 1), n_sites
    )
    pc, pk = key // max(n_sites, 1), key % max(n_sites, 1)
    p_members = group_sizes(distinct_pairs(pair, account[member], events.n_accounts)[0], len(pc))
    return link_site, n_sites, spans, short_lived, member, pc, pk, pair, p_members


def _site_groups(
    s_site: np.ndarray,
    s_acc: np.ndarray,
    n_adopters: np.ndarray,
    n_acc: int,
    link_site: np.ndarray,
    link_time: np.ndarray,
    spans: np.ndarray,
    rule: Rule,
    *,
    pool: bool,
) -> np.ndarray:
    """Group of each candidate site (local codes ``0..n-1``; ``link_site``/``link_time`` are the
    candidates' links, ``spans`` their spans). Two sites join when their adopters overlap (at
    least two shared, and at least ``pool_overlap`` of the smaller set: most of a short link's
    pushers also pushed the campaign's domain, the days of one campaign share its returning
    victims, while unrelated groups share only accounts active in both) and the smaller site
    lived alongside the larger (at least ``pool_cospan`` of its links within the larger's span,
    widened by ``margin_s``: a rare site two victims happened to link on other days does not
    join). Without ``pool`` each site is its own group."""
    n = len(n_adopters)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if not pool:
        return np.arange(n)
    rows, cols, overlap = overlapping_pairs(s_site, s_acc, n, n_acc, rule.pool_overlap)
    small = np.where(n_adopters[rows] <= n_adopters[cols], rows, cols)
    large = np.where(small == rows, cols, rows)
    # Links of the smaller site within the larger site's span (one sorted pass, then searches).
    t0 = int(link_time.min()) if len(link_time) else 0
    keys = np.sort(link_site.astype(np.int64) * 2**32 + (link_time - t0))
    lo = small * 2**32 + np.clip(spans[large, 0] - rule.margin_s - t0, 0, 2**32 - 1)
    hi = small * 2**32 + np.clip(spans[large, 1] + rule.margin_s - t0, 0, 2**32 - 1)
    inside = np.searchsorted(keys, hi, side="right") - np.searchsorted(keys, lo, side="left")
    links_small = np.bincount(link_site, minlength=n)[small]
    strong = inside >= rule.pool_cospan * np.maximum(links_small, 1)
    small, large, overlap = small[strong], large[strong], overlap[strong]
    if rule.pool_linkage == "best":
        # Each site keeps one parent: the partner above it in (adopters, code) order holding the
        # largest share of its adopters (ties: the larger partner, then the lower code). Parents
        # rank strictly above their children, so the links form a forest.
        order = np.lexsort((large, -n_adopters[large], -overlap, small))
        small, large = small[order], large[order]
        first = np.ones(len(small), dtype=bool)
        first[1:] = small[1:] != small[:-1]
        small, large = small[first], large[first]
    return components(n, small, large)


def _join(label: np.ndarray, sets: Sequence[np.ndarray]) -> np.ndarray:
    """``label`` (a group per item, ``0..k-1``) with the items of each set (codes; ``-1``
    ignored) joined into one group, renumbered ``0..`` in order of first appearance. Each item
    is tied to a node of its label (``n + label``), and each set's items to each other."""
    n, k = len(label), int(label.max(initial=-1)) + 1
    chains = [items[items >= 0] for items in sets]
    rows = np.concatenate([np.arange(n), *(c[:-1] for c in chains)])
    cols = np.concatenate([n + label, *(c[1:] for c in chains)])
    return _renumber(components(n + k, rows, cols)[:n])


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered ``0..k-1`` in order of first appearance."""
    if len(labels) == 0:
        return labels.astype(np.int64)
    _u, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse]


def _group_of_sites(groups: Groups, n_sites: int) -> np.ndarray:
    """The group of each site (``-1``: none; a site of two groups: the later), as
    :func:`_signature_links` maps them."""
    site_group = np.full(n_sites, -1, dtype=np.int64)
    for g, ks in enumerate(groups.sites):
        site_group[ks] = g
    return site_group


def _links_to(events: Events, is_site: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links to the sites flagged in ``is_site`` (increasing), the site of each, and when
    its account first linked that site (as :func:`_first_use_of_links`).

    A first use depends only on the links to the same site, so it is found among these links
    alone (at 10^7 posts 0.12 M links to candidate sites, not 4.2 M links). The last answer is
    kept on the events and serves any set of sites within it: every judging round asks about
    the candidate sites or some of them."""
    cached = events._cache.get("site_links")
    if cached is None or np.any(is_site & ~cached[0]):
        link_site, _labels = site_keys(events)
        links = np.flatnonzero(is_site[link_site])
        sites = link_site[links]
        account = events.post_account[events.link_post[links]]
        keys, pair = pair_dense_codes(sites, account, len(is_site), events.n_accounts)
        first = np.full(len(keys), _NEVER, dtype=np.int64)
        np.minimum.at(first, pair, events.post_time[events.link_post[links]])
        cached = (is_site.copy(), links, sites, first[pair])
        events._cache["site_links"] = cached
    _covered, links, sites, first = cached
    keep = is_site[sites]
    return links[keep], sites[keep], first[keep]


def _first_use_of_links(events: Events) -> np.ndarray:
    """For every link: when its account first linked its site (cached on the events).

    The pair index of each link comes with the distinct (site, account) pairs (two
    counting sorts), not from a binary search of every link among them (at 10^7 posts
    that search took ~5 s, and both signature_groups and group_evidence ran it)."""
    if "first_use_of_links" not in events._cache:
        link_site, labels = site_keys(events)
        _keys, pair = pair_dense_codes(
            link_site, events.link_account, len(labels), events.n_accounts
        )
        first = np.full(len(_keys), _NEVER, dtype=np.int64)
        for a in range(0, len(pair), _POSITIONS_CHUNK):  # no copy of every link's time
            np.minimum.at(
                first,
                pair[a : a + _POSITIONS_CHUNK],
                events.post_time[events.link_post[a : a + _POSITIONS_CHUNK]],
            )
        events._cache["first_use_of_links"] = first[pair]
    return events._cache["first_use_of_links"]


EVIDENCE_COLUMNS = (
    "cluster", "n_adopters", "n_members", "n_attached", "n_unsigned", "n_pieces", "n_signature_posts",
    "top_site", "site_share", "n_sites", "top_app", "app_share", "app_novelty", "exclusivity",
    "outside", "history", "routine", "repost_share", "link_reuse", "coarse_share", "burst_share", "text_share", "synchrony", "app_lift", "templating", "prevalence",
    "median_gap_s", "onset", "last_post", "span_hours", "span_share", "active_share", "duty",
    "top_urls", "signature_sites",
)  # fmt: skip


#: The columns that depend on other groups too: the numbering, the members, attached, unsigned
#: and pieces (a cluster is a piece of the group most of its members adopted) and ``top_urls``
#: (a post signed for two groups counts for the later). Every other column is a group's own:
#: a function of its sites, span and adopters (and of which posts link any group's sites,
#: the same for every grouping of the same candidate sites).
SHARED_COLUMNS = ("cluster", "n_members", "n_attached", "n_unsigned", "n_pieces", "top_urls")

#: The costly terms among a group's own columns (a group judged again keeps them with the rest
#: of its row: :func:`group_evidence` with ``previous``).
REUSABLE_COLUMNS = (
    "app_novelty", "routine", "link_reuse", "synchrony", "app_lift", "median_gap_s", "templating",
    "prevalence",
)  # fmt: skip


def group_evidence(
    events: Events,
    groups: Groups,
    *,
    texts: pa.ChunkedArray | pa.Array | None = None,
    rule: Rule | None = None,
    costly_for: np.ndarray | Callable[[pd.DataFrame], np.ndarray] | None = None,
    previous: tuple[Groups, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Evidence of every group (one row each, in group order); see the module docstring.

    ``costly_for`` selects the groups whose texts are compared and whose prevalence is
    counted (the costly terms; NaN elsewhere): their indices, or a function of the rest of
    the evidence that returns them (as :func:`research.verdicts.needs_costly_terms`);
    default none. ``texts`` are the posts' texts aligned with the posts table.

    ``previous`` is an earlier ``(groups, evidence)`` of the same events, clustering and rule
    with other sites joined (:func:`research.verdicts.decide` judges a campaign's groups again
    as one). A group with the same sites as an earlier one has the same span and adopters, so
    its own columns (all but :data:`SHARED_COLUMNS`) are copied from the earlier row; only the
    new groups are measured (:meth:`Groups.subset`), and the shared columns are computed for
    every group. The table equals the one computed without ``previous``, but for the costly
    terms of the rows kept, which are those measured before. With ``previous``, a function
    ``costly_for`` must answer for each group from its own row (as
    :func:`research.verdicts.needs_costly_terms` does): it sees the new groups' rows only.
    """
    rule = rule or Rule()
    if groups.n_groups == 0:
        return pd.DataFrame({c: [] for c in EVIDENCE_COLUMNS})
    signature_post = _signature_posts(events, groups)
    if previous is None:
        return _own_evidence(events, groups, signature_post, texts, rule, costly_for)
    earlier, earlier_table = previous
    if not np.array_equal(_all_sites(groups), _all_sites(earlier)):
        # Other candidate sites: other signature posts, so no row is the same.
        return _own_evidence(events, groups, signature_post, texts, rule, costly_for)
    n = groups.n_groups
    old_row = _same_sites(groups, earlier)
    new, again = np.flatnonzero(old_row < 0), np.flatnonzero(old_row >= 0)
    if costly_for is not None and not callable(costly_for):
        position = np.full(n, -1, dtype=np.int64)
        position[new] = np.arange(len(new))
        costly_for = position[np.asarray(costly_for, dtype=np.int64)]
        costly_for = costly_for[costly_for >= 0]
    measured = _own_evidence(events, groups.subset(new), signature_post, texts, rule, costly_for)
    # The earlier rows' evidence columns, in the order a measured table has them.
    columns = [c for c in earlier_table.columns if c in EVIDENCE_COLUMNS]
    kept = earlier_table.iloc[old_row[again]][columns]
    size = group_sizes(groups.pair_group, n)
    if not np.array_equal(kept["n_adopters"].to_numpy(), size[again]):
        raise ValueError("previous evidence is not of these events, clustering and rule")
    parts = [part for part in (kept, measured) if len(part)]  # an empty table has no dtypes
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    table = table.iloc[np.argsort(np.concatenate([again, new]))].reset_index(drop=True)
    # The columns that depend on the other groups, for every group.
    n_members = group_sizes(groups.pair_group[groups.pair_member], n)
    _link_group, _s_links, sp_post, sp_group = _signature_links(events, groups, rule)
    table["cluster"] = np.arange(n)
    table["n_members"] = n_members
    table["n_attached"] = size - n_members
    table["n_unsigned"] = group_sizes(groups.piece_group[groups.unsigned()], n)
    table["n_pieces"] = groups.n_pieces
    table["top_urls"] = _top_urls(events, sp_post, sp_group, n)
    return table


def _all_sites(groups: Groups) -> np.ndarray:
    """Every signature site of the groups, sorted."""
    return np.sort(np.concatenate([np.zeros(0, dtype=np.int64), *groups.sites]))


def _signature_posts(events: Events, groups: Groups) -> np.ndarray:
    """Which posts link any group's signature sites (their other posts are their history)."""
    link_site, site_labels = site_keys(events)
    is_site = np.zeros(len(site_labels), dtype=bool)
    is_site[_all_sites(groups)] = True
    signature_post = np.zeros(events.n_posts, dtype=bool)
    signature_post[events.link_post[is_site[link_site]]] = True
    return signature_post


def _signature_links(
    events: Events, groups: Groups, rule: Rule
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The group of every link (``-1``: none), the links that sign for a group (its adopters'
    links to its sites in its span) and the distinct (post, group) pairs of those (a post with
    two links to one group's sites counts once for it)."""
    link_site, site_labels = site_keys(events)
    link_group = _group_of_sites(groups, len(site_labels))[link_site]
    linked = np.flatnonzero(link_group >= 0)  # only links to the groups' sites can sign
    # Each link's post's time and account, of these links only (not every link's, then some).
    post = events.link_post[linked]
    group, when = link_group[linked], events.post_time[post]
    start, end = groups.span[:, 0], groups.span[:, 1]
    in_span = (when >= start[group] - rule.margin_s) & (when <= end[group] + rule.margin_s)
    own = groups.adopts(events.post_account[post], group)
    s_links = linked[own & in_span]
    sp_post, sp_group, _c = distinct_pairs(
        events.link_post[s_links], link_group[s_links], groups.n_groups
    )
    return link_group, s_links, sp_post, sp_group


def _own_evidence(
    events: Events,
    groups: Groups,
    signature_post: np.ndarray,
    texts: pa.ChunkedArray | pa.Array | None,
    rule: Rule,
    costly_for: np.ndarray | Callable[[pd.DataFrame], np.ndarray] | None,
) -> pd.DataFrame:
    """:func:`group_evidence` of every group measured here (``signature_post``: the posts that
    link any group's sites, those of groups not given too)."""
    n = groups.n_groups
    if n == 0:
        return pd.DataFrame({c: [] for c in EVIDENCE_COLUMNS})
    link_site, site_labels = site_keys(events)
    n_sites = len(site_labels)
    post = events.link_post  # times and accounts of links are read where needed, not of all
    link_group, s_links, sp_post, sp_group = _signature_links(events, groups, rule)
    s_group = link_group[s_links]
    start, end = groups.span[:, 0], groups.span[:, 1]
    # The links to the groups' sites (at 10^7 posts a small share of the links: judging a
    # few groups again reads a few of them).
    linked = np.flatnonzero(link_group >= 0)
    l_group, l_when = link_group[linked], events.post_time[post[linked]]
    in_span = (l_when >= start[l_group] - rule.margin_s) & (l_when <= end[l_group] + rule.margin_s)
    n_sig_posts = group_sizes(sp_group, n)

    pg = groups.pair_group
    size = group_sizes(pg, n)
    n_members = group_sizes(pg[groups.pair_member], n)
    unsigned = groups.unsigned()
    n_unsigned = group_sizes(groups.piece_group[unsigned], n)

    top_site, site_share = top_per_group(s_group, link_site[s_links], n, n_sites)
    # Exclusivity: links to the group's sites in its span by accounts new to them, over all
    # links to those sites (whoever else they adopted).
    n_site_links = group_sizes(l_group, n).astype(np.float64)
    _linked, _sites, first = _links_to(events, _group_of_sites(groups, n_sites) >= 0)
    fresh = in_span & (first >= start[l_group] - rule.margin_s)
    exclusivity = _ratio(group_sizes(l_group[fresh], n), n_site_links)
    # Outside: accounts that linked the group's sites before or after it (an established site
    # has a life apart from them that no burst of theirs can dilute, as it dilutes exclusivity).
    apart = linked[~in_span]
    outside_group, _account, _links = distinct_pairs(
        link_group[apart], events.post_account[post[apart]], events.n_accounts
    )
    outside = group_sizes(outside_group, n)
    post_app = _known_post_app(events)
    top_app, app_share = top_per_group(sp_group, post_app[sp_post], n, len(events.apps) + 1)

    # History: each adopter's posts other than those linking any group's signature sites.
    first_other, last_other = _other_posts_span(events, signature_post)
    pa_ = groups.pair_account
    before = first_other[pa_] < start[pg] - rule.history_margin_s
    after = last_other[pa_] > end[pg] + rule.history_margin_s
    history = _ratio(group_sizes(pg[before | after], n), size)
    # App novelty: adopters with earlier posts who had never used the top app before.
    first_app = _first_app_uses(events, pa_, top_app[pg], post_app)
    used = first_app < start[pg] - rule.history_margin_s
    app_novelty = _ratio(group_sizes(pg[before & ~used], n), group_sizes(pg[before], n))
    routine_pairs = _routine(events, groups, link_group, rule)
    routine = _ratio(group_sizes(pg[routine_pairs], n), group_sizes(pg[before | after], n))
    routine[[len(ks) == 0 for ks in groups.sites]] = np.nan  # judged only with a signature

    repost_share = np.full(n, np.nan)
    if events.post_repost is not None:
        repost_share = _ratio(group_sizes(sp_group[events.post_repost[sp_post]], n), n_sig_posts)
    # Links to coarse sites are left out of reuse: their pages are one account's each.
    coarse = coarse_sites(events)
    plain = s_links[~coarse[link_site[s_links]]]
    link_reuse = _link_reuse(events, plain, link_group[plain], n)
    on_coarse = coarse[link_site[s_links]]
    coarse_share = _ratio(group_sizes(s_group[on_coarse], n), group_sizes(s_group, n))
    in_burst = burst_sites(events)[link_site[s_links]]
    burst_share = _ratio(group_sizes(s_group[in_burst], n), group_sizes(s_group, n))
    on_text = text_sites(events)[link_site[s_links]]
    text_share = _ratio(group_sizes(s_group[on_text], n), group_sizes(s_group, n))
    s_when = events.post_time[post[s_links]]
    synchrony = _synchrony(s_when, post[s_links], s_group, n)
    app_lift = _app_lift(
        events, pa_, pg, top_app, wilson_lower(app_share, n_sig_posts), signature_post,
        post_app,
    )  # fmt: skip
    window = _post_window(events)
    median_gap = _median_gap(link_site[s_links], s_when, s_group, n)
    has_span = n_sig_posts > 0
    active_share, duty = _episode_shares(
        events.post_time[sp_post], sp_group, n, window, np.where(has_span, end - start, 0), rule
    )
    table = pd.DataFrame(
        {
            "cluster": np.arange(n),
            "n_adopters": size,
            "n_members": n_members,
            "n_attached": size - n_members,
            "n_unsigned": n_unsigned,
            "n_pieces": groups.n_pieces,
            "n_signature_posts": n_sig_posts,
            "top_site": _names(site_labels, top_site, ""),
            "site_share": site_share,
            "n_sites": np.array([len(ks) for ks in groups.sites]),
            "top_app": _names(
                events.apps,
                np.where(top_app >= len(events.apps), -1, top_app),
                "(unknown app)",
                top_app < 0,
            ),
            "app_share": app_share,
            "app_novelty": app_novelty,
            "exclusivity": exclusivity,
            "outside": outside,
            "history": history,
            "routine": routine,
            "repost_share": repost_share,
            "link_reuse": link_reuse,
            "coarse_share": coarse_share,
            "burst_share": burst_share,
            "text_share": text_share,
            "templating": np.nan,
            "synchrony": synchrony,
            "app_lift": app_lift,
            "prevalence": np.nan,
            "median_gap_s": median_gap,
            "onset": _stamps(start, has_span),
            "last_post": _stamps(end, has_span),
            "span_hours": np.where(has_span, (end - start) / 3600.0, np.nan),
            "span_share": np.where(has_span, (end - start) / window, np.nan),
            "active_share": active_share,
            "duty": duty,
            "top_urls": _top_urls(events, sp_post, sp_group, n),
            "signature_sites": _joined_names(site_labels, groups.sites),
        }
    )
    # The costly terms, for the groups that need them.
    templating = table["templating"].to_numpy(dtype=np.float64, copy=True)
    prevalence = table["prevalence"].to_numpy(dtype=np.float64, copy=True)
    costly = costly_for(table) if callable(costly_for) else costly_for
    costly = np.asarray([] if costly is None else costly, dtype=np.int64)
    if len(costly):
        if texts is not None:
            templating[costly] = _templating(events, sp_post, sp_group, texts, costly, rule)
        active = np.maximum(_active_during(events, start[costly], end[costly]), 1)
        prevalence[costly] = wilson_lower(size[costly] / active, active)
    table["templating"] = templating
    table["prevalence"] = prevalence
    return table


def _other_posts_span(events: Events, signature_post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each account's first and last post time among the posts not flagged in
    ``signature_post`` (``_NEVER`` and the smallest int64 without any). The last result is
    cached on the events: judging joined groups again flags the same posts."""
    key = np.packbits(signature_post).tobytes()
    cached = events._cache.get("other_posts_span")
    if cached is not None and cached[0] == key:
        return cached[1]
    # Scattered minima into a table per account (small enough for the cache) beat grouping
    # the ~10^7 posts by account first (0.07 s against 0.75 s at 10^7 posts).
    # In chunks of posts: the other posts are almost all posts, and their indices, accounts
    # and times at once were three int64 copies of every post (2.4 GB at 10^8 posts). Minima
    # and maxima do not depend on the order they are taken in.
    first = np.full(events.n_accounts, _NEVER, dtype=np.int64)
    last = np.full(events.n_accounts, np.iinfo(np.int64).min, dtype=np.int64)
    for a in range(0, events.n_posts, _POSITIONS_CHUNK):
        other = ~signature_post[a : a + _POSITIONS_CHUNK]
        account = events.post_account[a : a + _POSITIONS_CHUNK][other]
        time = events.post_time[a : a + _POSITIONS_CHUNK][other]
        np.minimum.at(first, account, time)
        np.maximum.at(last, account, time)
    events._cache["other_posts_span"] = (key, (first, last))
    return first, last


def _same_sites(groups: Groups, earlier: Groups) -> np.ndarray:
    """For each group: the group of ``earlier`` with the same signature sites (``-1``: none, or
    no site)."""
    # At once over the concatenated sites (a loop over the groups had taken 0.1 s a round at
    # 10^7 posts): a group's first site names the earlier group holding it (the last such, as
    # :meth:`Groups.site_group`), which must have as many sites, equal one by one.
    n = groups.n_groups
    out = np.full(n, -1, dtype=np.int64)
    e_len = np.array([len(ks) for ks in earlier.sites], dtype=np.int64)
    n_len = np.array([len(ks) for ks in groups.sites], dtype=np.int64)
    if n == 0 or e_len.sum() == 0 or n_len.sum() == 0:
        return out
    e_flat = np.concatenate([np.asarray(ks, dtype=np.int64) for ks in earlier.sites])
    n_flat = np.concatenate([np.asarray(ks, dtype=np.int64) for ks in groups.sites])
    e_off = np.concatenate([[0], np.cumsum(e_len)[:-1]])
    n_off = np.concatenate([[0], np.cumsum(n_len)[:-1]])
    owner = np.full(int(max(e_flat.max(), n_flat.max())) + 1, -1, dtype=np.int64)
    np.maximum.at(owner, e_flat, np.repeat(np.arange(len(e_len)), e_len))
    has = n_len > 0
    old = np.full(n, -1, dtype=np.int64)
    old[has] = owner[n_flat[n_off[has]]]
    same = (old >= 0) & (e_len[np.maximum(old, 0)] == n_len)
    # Compare the sites of the groups still in question, position by position.
    member = np.repeat(np.arange(n), n_len)
    asked = same[member]
    position = np.arange(len(n_flat))[asked] - n_off[member[asked]]
    differs = n_flat[asked] != e_flat[e_off[old[member[asked]]] + position]
    same &= np.bincount(member[asked][differs], minlength=n) == 0
    out[same] = old[same]
    return out


def _active_during(events: Events, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distinct accounts with a post in each ``[start, end]``."""
    n = events.n_posts
    # int32 positions while they fit: the time order and the previous posts are kept for the
    # run (two rounds of evidence), and at 10^8 posts each int64 copy is 0.8 GB.
    index = np.int32 if n < 2**31 - 1 else np.int64
    if "time_order" not in events._cache:
        # Posts usually come in time order (then the stable order is the identity: no sort,
        # and no copy of the columns). A dataset of several files each in time order does not.
        time = events.post_time
        in_order = n < 2 or bool(np.all(time[1:] >= time[:-1]))
        events._cache["time_order"] = (
            None if in_order else np.argsort(time, kind="stable").astype(index)
        )
    order = events._cache["time_order"]
    if "previous_post" not in events._cache:
        events._cache["previous_post"] = _previous_posts(
            events.post_account, order, events.n_accounts, index
        )
    return _first_visits(
        events._cache["previous_post"],
        _sorted_search(events.post_time, order, start, "left"),
        _sorted_search(events.post_time, order, end, "right"),
    )


#: Positions per step of the chunked passes over every post (a few MB of int32 at a time).
_POSITIONS_CHUNK = 2**22


def _previous_posts(
    post_account: np.ndarray, order: np.ndarray | None, n_accounts: int, index: type
) -> np.ndarray:
    """For each post in time order (``order``; ``None``: as they are): the position of the same
    account's previous post (-1 for its first). The accounts posting in positions lo..hi are
    counted once each by counting the positions whose previous post is before lo: one
    contiguous comparison per interval instead of scattering every account of the interval.

    Built with ``index`` (int32 while it fits) arrays and chunked copies: at 10^8 posts in
    several time-ordered files, the int64 copies (the accounts in time order, the grouping)
    had made this the largest step of the evidence (~5 GB)."""
    n = len(post_account)
    previous: np.ndarray = np.full(n, -1, dtype=index)
    if n < 2:
        return previous
    accounts: np.ndarray = np.empty(n, dtype=index)
    for a in range(0, n, _POSITIONS_CHUNK):
        b = min(a + _POSITIONS_CHUNK, n)
        accounts[a:b] = post_account[a:b] if order is None else post_account[order[a:b]]
    # The positions grouped by account, each account's in increasing order (a stable counting
    # sort: scipy's COO -> CSR conversion, column = position).
    grouped = sp.coo_matrix(
        (np.ones(n, dtype=np.int8), (accounts, np.arange(n, dtype=index))),
        shape=(max(n_accounts, 1), n),
    ).tocsr()
    del accounts
    bounds, by_account = grouped.indptr, grouped.indices
    del grouped
    # Consecutive entries of ``by_account`` are one account's unless an account starts there.
    same = np.ones(n - 1, dtype=bool)
    starts = bounds[:-1][bounds[:-1] < bounds[1:]]
    same[starts[starts > 0] - 1] = False
    for a in range(0, n - 1, _POSITIONS_CHUNK):
        b = min(a + _POSITIONS_CHUNK, n - 1)
        step = same[a:b]
        previous[by_account[a + 1 : b + 1][step]] = by_account[a:b][step]
    return previous


def _sorted_search(
    time: np.ndarray, order: np.ndarray | None, values: np.ndarray, side: str
) -> np.ndarray:
    """``np.searchsorted(time[order], values, side)`` without the sorted copy of ``time``: a
    bisection of all ``values`` at once, reading ``time`` through ``order``."""
    values = np.asarray(values)
    if order is None:
        return np.searchsorted(time, values, side)  # type: ignore[call-overload]
    lo = np.zeros(len(values), dtype=np.int64)
    hi = np.full(len(values), len(order), dtype=np.int64)
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = (lo + hi) // 2
        at = time[order[np.minimum(mid, len(order) - 1)]]
        right = open_ & ((at < values) if side == "left" else (at <= values))
        lo = np.where(right, mid + 1, lo)
        hi = np.where(open_ & ~right, mid, hi)


#: Entries of :func:`_first_visits`' table of counts (blocks x thresholds): 16 MB of int64.
_VISITS_TABLE = 2**21


def _first_visits(
    previous: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, block: int | None = None
) -> np.ndarray:
    """For each range ``lo[i]:hi[i]``: its positions ``p`` with ``previous[p] < lo[i]`` (each
    account's first post in the range, ``previous`` being the position of its previous post).

    Counted directly, the ranges' whole length is read (5 * 10^9 positions for the 2,409
    groups at 10^7 posts, ~0.55 s). Where that costs more than a table, a table does it: per
    block of ``block`` positions (default: the table within :data:`_VISITS_TABLE` entries) and
    per distinct ``lo``, how many of the positions before the block have their previous post
    before that ``lo``. A range reads its whole blocks there and counts its two ends directly.
    Given ``block``, the table is used whatever the cost (for the tests).
    """
    n, k = len(previous), len(lo)
    out = np.zeros(k, dtype=np.int64)
    lengths = np.maximum(np.asarray(hi) - np.asarray(lo), 0)
    thresholds = np.unique(np.asarray(lo)[lengths > 0])
    m = len(thresholds)
    forced = block is not None
    size = block if block is not None else max(1024, -(-n * (m + 1) // _VISITS_TABLE))
    n_blocks = -(-n // size)
    if not forced and int(lengths.sum()) <= 3 * n + 2 * size * k:
        for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
            out[i] = int(np.count_nonzero(previous[a:b] < a))
        return out
    # A position counts for the r-th threshold (from 0) when at most r thresholds are at or
    # below its previous post (a first post: none).
    at_most = np.cumsum(np.bincount(thresholds, minlength=n + 1), dtype=np.int32)
    cells = np.zeros(n_blocks * (m + 1), dtype=np.int64)
    step = size * max(1, 2**20 // size)  # positions per pass: whole blocks, a few MB
    for first in range(0, n, step):
        prev = previous[first : first + step]
        rank = np.where(prev >= 0, at_most[np.maximum(prev, 0)], 0)
        cell = (first + np.arange(len(prev))) // size * (m + 1) + rank
        cells += np.bincount(cell, minlength=len(cells))
    table = np.zeros((n_blocks + 1, m + 1), dtype=np.int64)  # row b: positions before block b
    table[1:] = np.cumsum(np.cumsum(cells.reshape(n_blocks, m + 1), axis=1), axis=0)
    r_of = np.searchsorted(thresholds, lo)
    for i, (a, b, r) in enumerate(zip(lo.tolist(), hi.tolist(), r_of.tolist(), strict=True)):
        whole_from, whole_to = -(-a // size), b // size  # its whole blocks
        if b <= a:
            continue
        if whole_from >= whole_to:
            out[i] = int(np.count_nonzero(previous[a:b] < a))
            continue
        out[i] = (
            int(table[whole_to, r] - table[whole_from, r])
            + int(np.count_nonzero(previous[a : whole_from * size] < a))
            + int(np.count_nonzero(previous[whole_to * size : b] < a))
        )
    return out


def wilson_lower(share: np.ndarray, n: np.ndarray, z: float = 1.96) -> np.ndarray:
    """Lower end of the Wilson score interval (95% by default) of a share seen in ``n`` trials:
    what the share is at least, given how few trials there were (NaN stays NaN).

    Examples
    --------
    >>> wilson_lower(np.array([1.0, 1.0]), np.array([8, 800])).round(2).tolist()
    [0.68, 1.0]
    """
    p = np.asarray(share, dtype=np.float64)
    k = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
    centre = p + z * z / (2 * k)
    spread = z * np.sqrt(np.maximum(p * (1 - p), 0.0) / k + z * z / (4 * k * k))
    return (centre - spread) / (1 + z * z / k)


def _synchrony(when: np.ndarray, post: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Burstiness of each group's signature posts (Goh and Barabási 2008), clipped at 0, with
    the correction of Kim and Jo (2016) for the number of posts ``m``: with ``r = sigma / mu``
    of the gaps between consecutive posts, ``(sqrt(m+1) r - sqrt(m-1)) / ((sqrt(m+1) - 2) r +
    sqrt(m-1))``, which tends to ``(r - 1) / (r + 1)`` for many posts. About 0 for posts at
    independent random times (a popular link shared at each account's own pace) however
    few, negative (clipped) for regular posting, near 1 for posts in waves; scale-free. NaN
    with fewer than three posts."""
    out = np.full(n, np.nan)
    if len(post) == 0:
        return out
    _pairs, first = np.unique(np.column_stack([group, post]), axis=0, return_index=True)
    gg, gaps = _gaps(group[first], when[first])
    count = group_sizes(gg, n).astype(np.float64)
    mean = np.divide(
        np.bincount(gg, weights=gaps, minlength=n), count, out=np.zeros(n), where=count > 0
    )
    var = np.divide(
        np.bincount(gg, weights=gaps**2, minlength=n), count, out=np.zeros(n), where=count > 0
    )
    sigma = np.sqrt(np.maximum(var - mean**2, 0.0))
    enough = (count >= 2) & (mean > 0)
    r = sigma[enough] / mean[enough]
    up, down = np.sqrt(count[enough] + 2), np.sqrt(count[enough])  # m = gaps + 1 posts
    out[enough] = np.clip((up * r - down) / ((up - 2) * r + down), 0.0, 1.0)
    out[(count >= 2) & (mean == 0)] = 1.0  # all in the same second
    return out


def _app_lift(
    events: Events,
    pair_account: np.ndarray,
    pair_group: np.ndarray,
    top_app: np.ndarray,
    app_share: np.ndarray,
    signature_post: np.ndarray,
    post_app: np.ndarray,
) -> np.ndarray:
    """How much more the group's signature posts went through its top app than its adopters'
    other posts did: ``app_share`` (pass a cautious estimate, as :func:`wilson_lower`) minus
    the top app's share of the adopters' other posts (pooled). Near 1 for an app used for
    the campaign alone (a rogue app, or an abused one the victims seldom use), near 0 for
    each account's usual client; NaN when the app is unknown. Groups without adopter pairs
    given count no other posts."""
    n = len(top_app)
    known = (top_app >= 0) & (top_app < len(events.apps))
    # Other posts per adopter pair (only the given adopters' are read), and those through the
    # group's top app (a group without a known app has no lift: none counted).
    # Both counts are facts of the accounts (and apps) alone given the signature posts: each
    # account's other posts are counted once for every account, and the counts through an app
    # are kept per (account, app) for the next round (judging again asks mostly the same).
    key = np.packbits(signature_post).tobytes()
    cached = events._cache.get("other_posts_per_account")
    if cached is not None and cached[0] == key:
        per_account = cached[1]
    else:
        per_account = group_sizes(events.post_account[~signature_post], events.n_accounts)
        events._cache["other_posts_per_account"] = (key, per_account)
    total = np.bincount(pair_group, weights=per_account[pair_account], minlength=n)

    def count_through(accounts: np.ndarray, apps: np.ndarray) -> np.ndarray:
        return _posts_through(events, accounts, apps, ~signature_post, post_app)

    via = _pair_memo(
        events, "posts_through", key, pair_account,
        np.where(known[pair_group], top_app[pair_group], -1), count_through, 0,
    )  # fmt: skip
    through = np.bincount(pair_group, weights=via, minlength=n)
    usual = np.divide(through, total, out=np.zeros(n), where=total > 0)
    return np.where(known, np.clip(app_share - usual, 0.0, 1.0), np.nan)


def _posts_through(
    events: Events,
    accounts: np.ndarray,
    apps: np.ndarray,
    counted: np.ndarray,
    post_app: np.ndarray,
    *,
    table_limit: int | None = None,
) -> np.ndarray:
    """How many of the ``counted`` posts (a mask) each account posted through the matching app
    (``-1``: none asked, 0).

    Only the counted posts of the accounts asked about through the apps asked about are read,
    counted in a table of every (asked account, asked app) when it holds at most
    ``table_limit`` entries (default: as many as the posts read, and a million), else each
    looked up among the pairs asked. Sorting every
    (account, app) pair of the adopters' other posts (at 10^7 posts, 7 M posts) had been most
    of the cost, and so was looking each up (0.6 s; the table takes 0.05 s)."""
    out = np.zeros(len(accounts), dtype=np.int64)
    asked = np.flatnonzero(np.asarray(apps) >= 0)
    if len(asked) == 0:
        return out
    account_codes, account_of = dense_codes(accounts[asked])
    app_codes, app_of = dense_codes(apps[asked])
    local_account = np.full(events.n_accounts, -1, dtype=np.int64)
    local_account[account_codes] = np.arange(len(account_codes))
    local_app = np.full(len(events.apps) + 1, -1, dtype=np.int64)
    local_app[app_codes] = np.arange(len(app_codes))
    posts = np.flatnonzero(
        counted & (local_account >= 0)[events.post_account] & (local_app >= 0)[post_app]
    )
    width = np.int64(len(app_codes))
    key = local_account[events.post_account[posts]] * width + local_app[post_app[posts]]
    limit = len(posts) + 2**20 if table_limit is None else table_limit
    if len(account_codes) * width <= limit:
        table = np.bincount(key, minlength=len(account_codes) * width)
        out[asked] = table[account_of * width + app_of]
        return out
    wanted, pair_of = dense_codes(account_of * width + app_of)
    at = np.minimum(np.searchsorted(wanted, key), len(wanted) - 1)
    hit = wanted[at] == key
    out[asked] = np.bincount(at[hit], minlength=len(wanted))[pair_of]
    return out


def _known_post_app(events: Events) -> np.ndarray:
    """Each post's app, ``len(events.apps)`` for an unknown one: the posts' own array when every
    app is known (whether one is not is cached on the events; a copy of every post's app is
    not kept: 0.4 GB at 10^8 posts)."""
    if "all_apps_known" not in events._cache:
        events._cache["all_apps_known"] = bool(np.all(events.post_app >= 0))
    if events._cache["all_apps_known"]:
        return events.post_app
    return np.where(events.post_app >= 0, events.post_app, len(events.apps))


def _post_window(events: Events) -> float:
    """The observed window: latest minus earliest post (at least a second; cached)."""
    if "post_window" not in events._cache:
        events._cache["post_window"] = max(
            float(np.ptp(events.post_time)) if events.n_posts else 0.0, 1.0
        )
    return events._cache["post_window"]


def _pair_memo(
    events: Events,
    name: str,
    tag: object,
    accounts: np.ndarray,
    apps: np.ndarray,
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray],
    default: int,
) -> np.ndarray:
    """``compute(accounts, apps)`` for each (account, app) pair asked (``default`` where the app
    is ``-1``), for a ``compute`` whose answer for a pair depends on that pair alone (and on
    ``tag``). The answers are kept on the events under ``name`` with ``tag``: a later call
    with the same tag computes only the pairs not asked before (judging again asks mostly the
    same adopters about the same apps; at 10^7 posts each computation reads every post)."""
    out = np.full(len(accounts), default, dtype=np.int64)
    asked = np.flatnonzero(np.asarray(apps) >= 0)
    if len(asked) == 0:
        return out
    width = np.int64(len(events.apps) + 1)
    key = np.asarray(accounts, dtype=np.int64)[asked] * width + np.asarray(apps)[asked]
    cached = events._cache.get(name)
    if cached is not None and cached[0] == tag:
        known_key, known_value = cached[1], cached[2]
    else:
        known_key, known_value = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    at = np.minimum(np.searchsorted(known_key, key), max(len(known_key) - 1, 0))
    hit = (known_key[at] == key) if len(known_key) else np.zeros(len(key), dtype=bool)
    if not hit.all():
        missing = np.unique(key[~hit])
        value = np.asarray(compute(missing // width, missing % width), dtype=np.int64)
        known_key = np.concatenate([known_key, missing])
        known_value = np.concatenate([known_value, value])
        order = np.argsort(known_key, kind="stable")
        known_key, known_value = known_key[order], known_value[order]
        events._cache[name] = (tag, known_key, known_value)
        at = np.searchsorted(known_key, key)
    out[asked] = known_value[at]
    return out


def _first_app_uses(
    events: Events, accounts: np.ndarray, apps: np.ndarray, post_app: np.ndarray
) -> np.ndarray:
    """:func:`_first_app_use`, each (account, app) computed once per events
    (:func:`_pair_memo`)."""
    return _pair_memo(
        events, "first_app_use", None, accounts, apps,
        lambda a, p: _first_app_use(events, a, p, post_app), _NEVER,
    )  # fmt: skip


def _first_app_use(
    events: Events,
    accounts: np.ndarray,
    apps: np.ndarray,
    post_app: np.ndarray,
    *,
    table_limit: int | None = None,
) -> np.ndarray:
    """When each account first posted through the matching app (never: the largest int).

    Only the posts of the accounts asked about through the apps asked about are read, into a
    table of every (asked account, asked app) when it holds at most ``table_limit`` entries
    (default: four per post read, and a million more), else into the pairs asked. Sorting every
    (account, app) pair of every adopter's posts (at 10^7 posts, 7 M posts sorted twice) had
    been most of the cost."""
    out = np.full(len(accounts), _NEVER, dtype=np.int64)
    asked = np.flatnonzero(np.asarray(apps) >= 0)
    if len(asked) == 0:
        return out
    n_apps = len(events.apps) + 1
    account_codes, account_of = dense_codes(accounts[asked])
    app_codes, app_of = dense_codes(apps[asked])
    local_account = np.full(events.n_accounts, -1, dtype=np.int64)
    local_account[account_codes] = np.arange(len(account_codes))
    local_app = np.full(n_apps, -1, dtype=np.int64)
    local_app[app_codes] = np.arange(len(app_codes))
    posts = np.flatnonzero((local_account >= 0)[events.post_account] & (local_app >= 0)[post_app])
    a, p = local_account[events.post_account[posts]], local_app[post_app[posts]]
    width = len(app_codes)
    limit = 4 * len(posts) + 2**20 if table_limit is None else table_limit
    if len(account_codes) * width <= limit:
        # A table of every (asked account, asked app): one scattered minimum.
        first = np.full(len(account_codes) * width, _NEVER, dtype=np.int64)
        np.minimum.at(first, a * width + p, events.post_time[posts])
        out[asked] = first[account_of * width + app_of]
        return out
    wanted, pair_of = dense_codes(account_of * np.int64(width) + app_of)
    key = a * np.int64(width) + p
    at = np.minimum(np.searchsorted(wanted, key), len(wanted) - 1)
    hit = wanted[at] == key
    first = np.full(len(wanted), _NEVER, dtype=np.int64)
    np.minimum.at(first, at[hit], events.post_time[posts[hit]])
    out[asked] = first[pair_of]
    return out


def signature_links(
    events: Events, clusters: pd.DataFrame, *, flagged_only: bool = True
) -> np.ndarray:
    """Per link: the cluster whose signature site it links (``-1``: none), from a clusters
    table's ``signature_sites`` (only the compromised clusters' with ``flagged_only``).

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> ev = encode(Posts.from_records([{"post_id": "1", "account_id": "a", "timestamp": dt.datetime(2014, 5, 1),
    ...     "urls": ["http://spam.com/1", "http://news.com/2"], "domains": ["spam.com", "news.com"]}]))
    >>> table = pd.DataFrame({"cluster": [0], "flagged": [True], "signature_sites": ["spam.com"]})
    >>> signature_links(ev, table).tolist()
    [0, -1]
    """
    link_site, labels = site_keys(events)
    owner = np.full(len(labels) + 1, -1, dtype=np.int64)
    if len(clusters) and "signature_sites" in clusters:
        code = {name: i for i, name in enumerate(labels.values.to_pylist())}
        rows = clusters[clusters["flagged"].astype(bool)] if flagged_only else clusters
        for cluster, sites in zip(rows["cluster"], rows["signature_sites"], strict=True):
            for site in str(sites or "").split():
                if site in code and owner[code[site]] < 0:
                    owner[code[site]] = int(cluster)
    return owner[link_site] if len(link_site) else np.zeros(0, dtype=np.int64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with NaN where the denominator is 0."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


def _joined_names(labels: Labels, codes: list[np.ndarray]) -> list[str]:
    """The names of each list of codes, separated by spaces (one take for all lists)."""
    names = labels.take(np.concatenate(codes)) if codes else []
    bounds = np.cumsum([0, *(len(c) for c in codes)]).tolist()
    return [" ".join(map(str, names[a:b])) for a, b in itertools.pairwise(bounds)]


def _stamps(seconds: np.ndarray, valid: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(np.where(valid, seconds, 0), unit="s", utc=True)).where(valid)


def _names(
    labels: object, codes: np.ndarray, missing: str, unknown: np.ndarray | None = None
) -> list[str]:
    values = labels.take(np.asarray(codes))  # type: ignore[attr-defined]
    out = [v if v is not None else missing for v in values]
    if unknown is not None:
        out = [("" if u else v) for v, u in zip(out, unknown, strict=True)]
    return out


def _routine(
    events: Events,
    groups: Groups,
    link_group: np.ndarray,
    rule: Rule,
    *,
    only: np.ndarray | None = None,
) -> np.ndarray:
    """For each adopter pair: whether the account, outside the group's span, co-posted
    ``routine_urls`` URLs or more with other adopters of the group, each URL posted outside
    the span by at least ``routine_members`` of the group's adopters (and two), and theirs:
    at least ``routine_share`` of all its links, at any time, are by the group's adopters. The
    group coordinates as a matter of course (an organisation, a feed network); URLs that
    others post too (a retweet storm the victims joined) are not theirs. Links to the group's
    own sites are its signature, not routine.

    A group's answer depends on its adopters, span and sites alone, so ``only`` (a mask over
    groups) leaves the others' pairs False: a group judged again with the same sites keeps the
    earlier answer (:data:`REUSABLE_COLUMNS`)."""
    n = max(groups.n_groups, 1)
    start, end = groups.span[:, 0], groups.span[:, 1]
    out = np.zeros(len(groups.pair_account), dtype=bool)
    # Only groups with a signature are judged on it: the others' adopters are left out.
    # (a group with one adopter coordinates with nobody).
    size = group_sizes(groups.pair_group, n)
    asked = np.array([len(ks) > 0 for ks in groups.sites], dtype=bool) & (size >= 2)
    if only is not None:
        asked &= only
    judged = np.flatnonzero(asked[groups.pair_group])
    if len(judged) == 0:
        return out
    pair_account, pair_group = groups.pair_account[judged], groups.pair_group[judged]
    url = events.link_url

    def account(links: np.ndarray) -> np.ndarray:
        """The accounts of these links (not a copy of every link's account)."""
        return events.post_account[events.link_post[links]]

    n_urls = max(len(events.urls), 1)
    # Only links of adopters to URLs that two accounts or more linked can be routine.
    offsets = np.searchsorted(pair_account, np.arange(events.n_accounts + 1))
    count = np.diff(offsets)
    # They depend only on who the adopters are: judging joined groups again reuses them.
    key = np.packbits(count > 0).tobytes()
    cached = events._cache.get("routine_candidates")
    if cached is not None and cached[0] == key:
        candidate = cached[1]
    else:
        candidate = np.flatnonzero((count > 0)[events.post_account][events.link_post])
        # URLs that two accounts or more linked: their lowest and highest posters differ.
        lowest = np.full(n_urls, events.n_accounts, dtype=np.int64)
        highest = np.full(n_urls, -1, dtype=np.int64)
        candidate_account = account(candidate)
        np.minimum.at(lowest, url[candidate], candidate_account)
        np.maximum.at(highest, url[candidate], candidate_account)
        del candidate_account
        candidate = candidate[(highest > lowest)[url[candidate]]]
        events._cache["routine_candidates"] = (key, candidate)

    def counted(links: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Whether each link counts for the matching group: not to its sites, outside its span."""
        t = events.post_time[events.link_post[links]]
        return (link_group[links] != g) & (
            (t < start[g] - rule.history_margin_s) | (t > end[g] + rule.history_margin_s)
        )

    # A URL is theirs when their links to it, at any time, are ``routine_share`` of all its
    # links: a retweet storm's URL that a campaign's victims also retweeted is not, however
    # many of them did. The adopters of all judged groups together must hold that share.
    total = np.bincount(url, minlength=n_urls).astype(np.float64)
    linked = np.bincount(url[candidate], minlength=n_urls)
    candidate = candidate[(linked >= rule.routine_share * total)[url[candidate]]]
    au_account, au_url, au_links = distinct_pairs(account(candidate), url[candidate], n_urls)
    pair_key = pair_account * np.int64(n) + pair_group  # sorted: pairs are by account, group
    # A (group, URL) needs two adopters, so at least one that is not the URL's busiest poster
    # (the one in most groups): the product runs without each URL's busiest poster, whose
    # links are added afterwards where it adopted the group. At 10^7 posts a few accounts in
    # hundreds of groups with thousands of URLs made the full product 34 M (group, URL) entries,
    # almost all with that one adopter; the result is the same.
    busiest = np.lexsort((au_account, -count[au_account], au_url))
    is_top = np.ones(len(busiest), dtype=bool)
    is_top[1:] = au_url[busiest[1:]] != au_url[busiest[:-1]]
    top_entry = np.full(n_urls, -1, dtype=np.int64)
    top_entry[au_url[busiest[is_top]]] = busiest[is_top]
    rest = np.ones(len(au_url), dtype=bool)
    rest[busiest[is_top]] = False
    # The busiest poster adds at most its links: a (group, URL) whose other adopters' links
    # fall short of the share less those is dropped, and so is a URL whose other posters'
    # links together fall short (``need`` is exact: an integer taken from a float).
    top_links = np.zeros(n_urls, dtype=np.int64)
    top_links[au_url[busiest[is_top]]] = au_links[busiest[is_top]]
    need = np.ceil(rule.routine_share * total - top_links).astype(np.int64)
    rest &= (np.bincount(au_url[rest], weights=au_links[rest], minlength=n_urls) >= need)[au_url]
    posted = sp.csr_matrix(
        ((au_links[rest] << 32) + 1, (au_account[rest], au_url[rest])),
        shape=(events.n_accounts, n_urls),
    )
    adopted = sp.csr_matrix(
        (np.ones(len(judged), dtype=np.int64), (pair_group, pair_account)),
        shape=(n, events.n_accounts),
    )
    # The product by blocks of groups of about _ROUTINE_BLOCK products each, each block's
    # entries filtered at once: the whole product (14 M entries at 10^7 posts, 34 M before the
    # busiest posters were left out) had been the peak of the memory of the whole run.
    # Links and adopters are packed (links << 32 | adopters): one comparison with the packed
    # threshold tests the links.
    packed_need = np.maximum(need, 0) << 32
    per_row = np.bincount(
        pair_group, weights=np.diff(posted.indptr)[pair_account], minlength=n
    ).astype(np.int64)
    cuts = blocks(per_row, _ROUTINE_BLOCK)
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for lo, hi in itertools.pairwise(cuts):
        bound = adopted[lo:hi] @ posted  # CSR: a row per group of the block
        entry = np.flatnonzero(bound.data >= packed_need[bound.indices])
        kept.append(
            (
                np.searchsorted(bound.indptr, entry, side="right") - 1 + lo,
                bound.indices[entry].astype(np.int64),
                bound.data[entry],
            )
        )
    b_group, b_url, b_data = (np.concatenate(parts) for parts in zip(*kept, strict=True))
    top = top_entry[b_url]
    probe = au_account[top] * np.int64(n) + b_group
    at = np.minimum(np.searchsorted(pair_key, probe), len(pair_key) - 1)
    packed = b_data + np.where(pair_key[at] == probe, (au_links[top] << 32) + 1, 0)
    most_links, most_adopters = packed >> 32, packed & 0xFFFFFFFF
    maybe = (
        (most_adopters >= 2)
        & (most_adopters >= rule.routine_members * size[b_group])
        & (most_links >= rule.routine_share * total[b_url])
    )
    maybe_group, maybe_url = b_group[maybe], b_url[maybe]
    # Each link to such a URL, against each group that may share it.
    bounds, by_url = stable_group(url[candidate], n_urls)  # one counting pass, not two sorts
    by_url = candidate[by_url]
    k = bounds[maybe_url + 1] - bounds[maybe_url]
    links = by_url[np.repeat(bounds[maybe_url] - (np.cumsum(k) - k), k) + np.arange(k.sum())]
    g = np.repeat(maybe_group, k)
    probe = account(links) * np.int64(n) + g
    pair = np.minimum(np.searchsorted(pair_key, probe), len(pair_key) - 1)
    keep = (pair_key[pair] == probe) & counted(links, g)
    pu_pair, pu_url, _links = distinct_pairs(pair[keep], url[links[keep]], n_urls)
    if len(pu_pair) == 0:
        return out
    gu_key, gu_of = pair_dense_codes(pair_group[pu_pair], pu_url, n, n_urls)
    gu_g = gu_key // n_urls
    gu_adopters = group_sizes(gu_of, len(gu_key))  # one account per (pair, URL) of a group
    # The share held (the product counted every link of the group's adopters to the URL);
    # the adopters are those with links that count (outside the span, not to its sites).
    shared = (gu_adopters >= 2) & (gu_adopters >= rule.routine_members * size[gu_g])
    # URLs per pair among the shared ones (each (pair, URL) key is one URL of the pair).
    out[judged] = group_sizes(pu_pair[shared[gu_of]], len(judged)) >= rule.routine_urls
    return out


#: Products (adopter pairs x their URLs) per block of :func:`_routine`'s product: a few
#: tens of MB of entries at a time.
_ROUTINE_BLOCK = 2**22


def _link_reuse(events: Events, s_links: np.ndarray, s_group: np.ndarray, n: int) -> np.ndarray:
    """Share of each group's signature links whose page another adopter also linked (NaN for a
    group without links)."""
    if len(s_links) == 0:
        return np.full(n, np.nan)
    stem = stem_codes(events, events.link_url[s_links])
    n_stem = int(stem.max()) + 1
    g_s, s_s, _c = distinct_pairs(s_group, stem, n_stem)
    key = s_group.astype(np.int64) * n_stem + stem
    pair = np.searchsorted(g_s * n_stem + s_s, key)
    adopters = group_sizes(
        distinct_pairs(pair, events.post_account[events.link_post[s_links]], events.n_accounts)[0],
        len(g_s),
    )
    reused = adopters[pair] >= 2
    return _ratio(group_sizes(s_group[reused], n), group_sizes(s_group, n))


def _active_share(
    time: np.ndarray, group: np.ndarray, n: int, window: float | np.ndarray, rule: Rule
) -> np.ndarray:
    """Share of ``window`` each group's posts (their ``time``) are active in: the sum of the
    gaps between consecutive posts, each counted at most the smaller of ``window / posts`` and
    (with at least ``rule.wave_gaps`` gaps) ``rule.wave_gap`` times the group's lower-quartile
    gap, but never less than
    ``rule.wave_floor * window`` (see the module docstring); NaN for a group without posts, 0
    for a group with one. ``window`` is one length for all groups or one per group.

    Three waves in a window of 1000 (seven gaps, too few for a quartile: each pause counts the
    mean gap, 125), then eight posts spread evenly:

    >>> t = np.array([0, 10, 20, 500, 510, 520, 990, 1000])
    >>> _active_share(t, np.zeros(8, dtype=np.int64), 1, 1000.0, Rule()).round(3)
    array([0.3])
    >>> _active_share(np.arange(0, 1000, 125), np.zeros(8, dtype=np.int64), 1, 1000.0, Rule())
    array([0.875])

    Thirteen waves of three posts ten seconds apart, a day apart: the mean gap (8 hours) would
    count a third of each pause, ten quartile gaps 100 seconds; the floor (1/400 of the
    window, 47 minutes) counts:

    >>> waves = (np.arange(13)[:, None] * 86_400 + np.array([0, 10, 20])).ravel()
    >>> rule = Rule(wave_gaps=8, wave_gap=10.0, wave_floor=0.0025)
    >>> _active_share(waves, np.zeros(39, dtype=np.int64), 1, 13 * 86_400.0, rule).round(3)
    array([0.03])
    """
    return _active_shares(time, group, n, (window,), rule)[0]


def _active_shares(
    time: np.ndarray,
    group: np.ndarray,
    n: int,
    windows: Sequence[float | np.ndarray],
    rule: Rule,
) -> list[np.ndarray]:
    """:func:`_active_share` against each of ``windows``, the gaps and their quartiles found
    once."""
    if len(time) == 0:
        return [np.full(n, np.nan) for _ in windows]
    count = group_sizes(group, n).astype(np.float64)
    gg, gaps = _gaps(group, time)
    # Each group's lower-quartile gap (whole seconds: gaps of integer times).
    quartile = site_spans(gg, gaps.astype(np.int64), n, 0.25)[:, 0] if len(gaps) else None
    enough = count - 1 >= rule.wave_gaps  # a quartile of a handful of gaps is their least
    has = count > 0
    shares = []
    for window in windows:
        window = np.broadcast_to(np.asarray(window, dtype=np.float64), (n,))
        cap = window / np.maximum(count, 1.0)
        if quartile is not None:
            waves = np.maximum(rule.wave_gap * quartile, rule.wave_floor * window)
            cap = np.where(enough, np.minimum(cap, waves), cap)
        active = np.bincount(gg, weights=np.minimum(gaps, cap[gg]), minlength=n)
        out = np.full(n, np.nan)
        out[has] = active[has] / window[has]
        shares.append(out)
    return shares


def _episode_shares(
    time: np.ndarray, group: np.ndarray, n: int, window: float, span: np.ndarray, rule: Rule
) -> tuple[np.ndarray, np.ndarray]:
    """Each group's ``active_share`` (of the observed ``window``) and ``duty``: the share of
    its own ``span`` (seconds) its posts are active in, the span standing for the window
    (pauses capped at ``span / posts``, ten quartile gaps, or ``wave_floor`` of the span), at
    most 1. Unlike the active share the duty does not depend on how long the observed window
    is: the same waves make the same duty in a ten-day export and in a month's. NaN where the
    group has no span (no posts, or all in one second).

    Ten waves of forty posts a minute apart, a day apart: each pause counts the floor (1/400 of
    the span, 32 minutes: more than ten quartile gaps), so the waves are active in 5% of their
    nine days; forty posts spread evenly over the same span are active in (nearly) all of it:

    >>> waves = (np.arange(10)[:, None] * 86_400 + 60 * np.arange(40)).ravel()
    >>> rule = Rule(wave_gaps=16, wave_gap=10.0, wave_floor=0.0025)
    >>> spread = np.linspace(0, waves.max(), 40).astype(np.int64)
    >>> time, group = np.concatenate([waves, spread]), np.repeat([0, 1], [400, 40])
    >>> span = np.array([waves.max(), waves.max()], dtype=float)
    >>> _episode_shares(time, group, 2, 30 * 86_400.0, span, rule)[1].round(3)
    array([0.053, 0.975])
    """
    span = np.asarray(span, dtype=np.float64)
    has = span > 0
    active, in_span = _active_shares(time, group, n, (window, np.where(has, span, 1.0)), rule)
    return active, np.where(has, np.minimum(in_span, 1.0), np.nan)


def _gaps(group: np.ndarray, time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gaps between consecutive times within each group (in seconds, as floats), each with
    its group: what :func:`_synchrony` and :func:`_active_shares` read."""
    order = np.lexsort((time, group))
    g, t = group[order], time[order].astype(np.float64)
    same = g[1:] == g[:-1]
    return g[1:][same], np.diff(t)[same]


def _median_gap(site: np.ndarray, when: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Median time between consecutive signature links to the same site, per group."""
    out = np.full(n, np.nan)
    if len(site) < 2:
        return out
    order = np.lexsort((when, site, group))
    g, s, t = group[order], site[order], when[order]
    same = (g[1:] == g[:-1]) & (s[1:] == s[:-1])
    if not same.any():
        return out
    frame = pd.DataFrame({"g": g[1:][same], "gap": np.diff(t)[same]})
    med = frame.groupby("g")["gap"].median()
    out[med.index.to_numpy()] = med.to_numpy()
    return out


def _top_urls(
    events: Events, s_posts: np.ndarray, sp_group: np.ndarray, n: int, k: int = 3
) -> list[str]:
    """The ``k`` most linked URLs of each group's signature posts, with shares."""
    out = [""] * n
    posts, post_group = _last_group_of_posts(s_posts, sp_group)
    links, of_post = _links_of(events, posts)
    if len(links) == 0:
        return out
    g = post_group[of_post]
    c, u, count = distinct_pairs(g, events.link_url[links], max(len(events.urls), 1))
    order = np.lexsort((u, -count, c))
    c, u, count = c[order], u[order], count[order]
    starts = np.flatnonzero(np.concatenate([[True], c[1:] != c[:-1]]))
    rank = np.arange(len(c)) - np.repeat(starts, np.diff(np.append(starts, len(c))))
    head = rank < k
    totals = np.bincount(c, weights=count, minlength=n)
    names = events.urls.take(u[head])
    # The shares as Python floats at once (one numpy scalar division per URL had been most of
    # the cost: 48,000 URLs per round at 10^7 posts).
    percents = (100 * count[head] / totals[c[head]]).tolist()
    parts: dict[int, list[str]] = {}
    for group, url, percent in zip(c[head].tolist(), names, percents, strict=True):
        parts.setdefault(group, []).append(f"{url} ({percent:.0f}%)")
    for group, texts in parts.items():
        out[group] = "; ".join(texts)
    return out


def _last_group_of_posts(posts: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``posts`` (sorted) and, for each, the group of its last entry (a post signed
    for two groups counts for the later)."""
    order = np.argsort(posts, kind="stable")
    posts, group = posts[order], group[order]
    last = np.ones(len(posts), dtype=bool)
    last[:-1] = posts[1:] != posts[:-1]
    return posts[last], group[last]


def _links_of(events: Events, posts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The links of the given posts (distinct, sorted), in link order, and the position of each
    link's post among ``posts``. Links come in post order (as encoded, unless platform URLs were
    added): two searches per post find them, not a pass over every link (15 M at 10^7 posts,
    once per judging round)."""
    link_post = events.link_post
    if "links_in_post_order" not in events._cache:
        events._cache["links_in_post_order"] = bool(np.all(link_post[1:] >= link_post[:-1]))
    if not events._cache["links_in_post_order"]:
        mask = np.zeros(events.n_posts, dtype=bool)
        mask[posts] = True
        links = np.flatnonzero(mask[link_post])
        return links, np.searchsorted(posts, link_post[links])
    lo = np.searchsorted(link_post, posts, side="left")
    count = np.searchsorted(link_post, posts, side="right") - lo
    links = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    return links, np.repeat(np.arange(len(posts)), count)


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


def _templating(
    events: Events,
    posts: np.ndarray,
    post_group: np.ndarray,
    texts: pa.ChunkedArray | pa.Array,
    groups: np.ndarray,
    rule: Rule,
) -> np.ndarray:
    """Share of (a sample of) each given group's own posts whose text is a near-duplicate of
    another account's own post in the same group: the lower end of its 95% Wilson interval.

    A repost (marked as one, or a manual retweet, a text that starts ``RT @name``) carries
    someone else's text: it is left out of the sample, or an original and its retweets would
    count as a template."""
    from research.minhash import bands as lsh_bands
    from research.minhash import row_codes, text_signatures

    out = np.zeros(len(groups))
    # Two texts are candidates when their signatures agree on a whole band.
    perm = rule.minhash_permutations
    bands = lsh_bands(rule.template_similarity, perm)
    # The sample of every group first (the same draws, in the same order, as one group at a
    # time), then all their texts in one take: a lazy Parquet column reads each row group
    # once instead of once per group (at 10^7 posts, 200 s of re-reading the text column).
    samples: list[tuple[int, np.ndarray]] = []
    order = np.argsort(post_group, kind="stable")
    sorted_groups = post_group[order]
    for slot, group in enumerate(np.asarray(groups).tolist()):
        first = int(np.searchsorted(sorted_groups, group, side="left"))
        last = int(np.searchsorted(sorted_groups, group, side="right"))
        chosen = posts[order[first:last]]  # the group's posts in table order (the sort is stable)
        if len(chosen) < 2:
            continue
        if len(chosen) > rule.max_texts:
            # A generator of its own: a group's sample does not depend on which other groups
            # needed texts (nor on their order), so its row can be reused once computed.
            rng = np.random.default_rng(0)
            chosen = np.sort(rng.choice(chosen, size=rule.max_texts, replace=False))
        samples.append((slot, chosen))
    if not samples:
        return out
    bounds = np.cumsum([0, *(len(chosen) for _, chosen in samples)])
    every_text = texts.take(
        pa.array(events.post_row[np.concatenate([chosen for _, chosen in samples])])
    ).to_pylist()
    marked = events.post_repost
    # Every group's own posts (reposts and manual retweets carry someone else's text) at once:
    # a bucket is a group and a band's values, so one sort per band serves every group.
    slots: list[int] = []
    gid: list[np.ndarray] = []
    own_posts: list[np.ndarray] = []
    own_texts: list[str | None] = []
    for (slot, chosen), start, stop in zip(samples, bounds[:-1], bounds[1:], strict=True):
        own = [
            k for k, text in enumerate(every_text[start:stop])
            if not (marked is not None and marked[chosen[k]]) and not _MANUAL_RETWEET.match(text or "")
        ]  # fmt: skip
        if len(own) < 2:
            continue
        gid.append(np.full(len(own), len(slots), dtype=np.int64))
        slots.append(slot)
        own_posts.append(chosen[own])
        own_texts.extend(every_text[start + k] for k in own)
    if not slots:
        return out
    group_of = np.concatenate(gid)
    n_own = np.bincount(group_of, minlength=len(slots))
    rows, hashes = text_signatures(own_texts, perm, seed=1)
    has = rows >= 0
    g, owners = group_of[has], events.post_account[np.concatenate(own_posts)][has]
    near = np.zeros(int(has.sum()), dtype=bool)
    for lo, hi in bands:
        band = row_codes(np.column_stack([g, hashes[rows[has], lo:hi]]))
        # Every text in a band bucket shared by two owners or more has a near-duplicate
        # from another account of its group.
        bucket, _owner, _n = distinct_pairs(band, owners, len(events.accounts))
        mixed = group_sizes(bucket, int(band.max()) + 1) >= 2
        near |= mixed[band]
    signed = np.bincount(g, minlength=len(slots)) > 0
    hits = np.bincount(g[near], minlength=len(slots))
    # The lower end of a 95% interval: two of three strangers' posts sharing a page's title
    # prove little; ten of ten templated posts prove a template.
    lower = wilson_lower(hits / n_own, n_own)
    for k in np.flatnonzero(signed).tolist():
        out[slots[k]] = float(lower[k])
    return out

"""SynchroTrap (Cao et al. 2014): accounts whose actions match in time, Jaccard, single linkage.

Citation: Q. Cao, X. Yang, J. Yu and C. Palow, "Uncovering Large Groups of
Active Malicious Accounts in Online Social Networks", ACM CCS 2014.

**Actions.** SynchroTrap sees every user action as a tuple ``<U, T, C>``:
user, time, and the *constraint object* acted on (an IP address at login, an
app at install, a page at a like, a followee at a follow). A posts table
holds posts, so an action here is a post, and its constraint object is what
the post carries (``objects``): the URL it links (default: like a page that
many accounts act on), its domain, the app it was posted through, or the
(app, URL) pair. A post with two URLs is two actions.

**Similarity (the paper's).** Two actions *match* when they are on the same
object and at most ``t_sim_s`` apart (``|T_i - T_j| <= T_sim``). Matching is
done inside time windows (``window_s``, a day: the paper partitions the
action log by day), and a pair's similarity is the Jaccard index of its
actions, with matched actions as the intersection::

    sim(i, j) = |A_i ∩ A_j| / |A_i ∪ A_j| = m / (|A_i| + |A_j| - m)

where ``|A_i|`` counts i's actions and ``m`` the matched ones (each side's
matched actions counted, the smaller of the two taken: one action cannot
match twice). The daily comparisons are aggregated over spans of
``span_s`` (a week here): matched and total actions are summed over the
span's days, so a pair must act in step *for a sustained period*, not once.
A pair's similarity is its highest over the spans.

**Clustering and decision rule (the paper's).** Pairs with similarity of at
least ``threshold`` are joined; the clusters are the connected components of
that graph (single-linkage hierarchical clustering cut at the threshold,
which is how the paper computes it at scale), and every cluster of at least
``min_size`` accounts is a malicious group (flagged). **Score** (for
ranking): the cluster's mean similarity over its internal pairs.

**Parameters.** The paper's: the matching rule with ``t_sim_s`` (one hour
here), daily windows, the Jaccard similarity, the similarity ``threshold``
(0.5 here) and single linkage with a minimum cluster size. Ours: which
objects stand for its constraint objects, ``span_s`` (the paper aggregates
daily results over several days; a week here), ``min_size`` (10: the paper's
groups at Facebook's scale are far larger, our campaigns hold tens of
accounts), ``min_matched`` (pairs with fewer matched actions are never
joined; 1, no filter) and ``pair_budget``. The tuning space covers the
ranges the paper discusses for ``t_sim_s`` and ``threshold``.

**Known difference.** The paper compares actions only inside one day; here
too (``window_s``), so two posts a minute apart across midnight do not match.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from research.baselines.common import Found, Verdict, baseline
from research.detect.clustering import Clustering, canonical_membership
from research.graph.base import Actions, actions
from research.graph.codes import dense_codes
from research.graph.colink import co_link_actions
from research.graph.events import Events, Labels
from research.pipeline import StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class SynchroTrapParams:
    """Parameters (see module docstring for which are the paper's)."""

    objects: str = "url"
    t_sim_s: float = 3600.0
    window_s: float = 86_400.0
    span_s: float | None = 7 * 86_400.0
    threshold: float = 0.5
    min_matched: int = 1
    min_size: int = 10
    pair_budget: float = 2e8
    describe: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.t_sim_s < 0 or self.window_s <= 0:
            raise ValueError("t_sim_s must be >= 0 and window_s > 0")
        if self.span_s is not None and self.span_s < self.window_s:
            raise ValueError(f"span_s must be at least window_s ({self.window_s}) or null")


#: T_sim from minutes to hours, the similarity threshold around the paper's, the objects.
TUNING = {
    "objects": ("url", "domain", "app_url"),
    "t_sim_s": (600, 1800, 3600, 7200),
    "threshold": (0.2, 0.3, 0.5, 0.7),
    "min_matched": (1, 2, 3),
    "min_size": (5, 10, 20),
}


@dataclass(frozen=True)
class Similarity:
    """Pairs ``i < j`` with their matched actions and Jaccard similarity (best span)."""

    rows: np.ndarray
    cols: np.ndarray
    matched: np.ndarray
    similarity: np.ndarray
    stats: dict


def pair_similarity(events: Events, p: SynchroTrapParams | None = None) -> Similarity:
    """SynchroTrap's user-pair similarity (see module docstring).

    Examples
    --------
    Accounts a and b post the same two URLs ten minutes apart; c posts one of them a day
    later (no match) and has nothing else; a also posts a URL of its own:

    >>> import datetime as dt
    >>> from research.graph.events import encode
    >>> from research.posts import Posts
    >>> rows = [("a", 0, "http://u.com/1"), ("b", 600, "http://u.com/1"),
    ...         ("a", 7200, "http://u.com/2"), ("b", 7800, "http://u.com/2"),
    ...         ("a", 9000, "http://own.com"), ("c", 90000, "http://u.com/1")]
    >>> t0 = dt.datetime(2014, 5, 1)
    >>> posts = Posts.from_records([{"post_id": str(i), "account_id": a, "urls": [u],
    ...     "timestamp": t0 + dt.timedelta(seconds=s)} for i, (a, s, u) in enumerate(rows)])
    >>> sim = pair_similarity(encode(posts))
    >>> sim.rows.tolist(), sim.cols.tolist(), sim.matched.tolist(), sim.similarity.round(3).tolist()
    ([0], [1], [2], [0.667])
    """
    p = p or SynchroTrapParams()
    acts = actions(events, p.objects)
    t0 = int(acts.time.min()) if len(acts.time) else 0
    day = (acts.time - t0) // int(p.window_s)
    days_per_span = max(1, round(p.span_s / p.window_s)) if p.span_s else None
    span = day // days_per_span if days_per_span else np.zeros(len(day), dtype=np.int64)
    n_spans = int(span.max(initial=0)) + 1
    # Objects are (object, day) keys, so that matches stay inside one day; accounts are
    # (account, span) nodes, so that matched and total actions are counted per span.
    n_days = int(day.max(initial=0)) + 1
    day_keys, obj = dense_codes(acts.obj.astype(np.int64) * n_days + day)
    node = acts.account.astype(np.int64) * n_spans + span
    n_nodes = events.n_accounts * n_spans
    # An action is a (post, object) pair: a post linking the same URL twice acts once.
    post = acts.post if acts.post is not None else np.arange(len(obj), dtype=np.int64)
    distinct, action = dense_codes(post.astype(np.int64) * max(acts.n_objects, 1) + acts.obj)
    keyed = Actions(
        "synchrotrap",
        account=node,
        obj=obj,
        time=acts.time,
        n_accounts=n_nodes,
        n_objects=len(day_keys),
        post=action,
    )
    labels = Labels(pa.array(np.arange(n_nodes).astype(str)))
    network = co_link_actions(
        keyed, labels, p.t_sim_s, pair_budget=p.pair_budget, on_budget="lower_cap"
    )
    node_of_action = np.zeros(len(distinct), dtype=np.int64)
    node_of_action[action] = node
    totals = np.bincount(node_of_action, minlength=n_nodes)
    src, dst, count = network.source, network.target, network.count
    pair = src < dst
    key_fw = src[pair] * n_nodes + dst[pair]
    key_bw = dst[~pair & (src != dst)] * n_nodes + src[~pair & (src != dst)]
    count_bw = count[~pair & (src != dst)]
    order = np.argsort(key_bw)
    back = count_bw[order][np.searchsorted(key_bw[order], key_fw)] if len(key_fw) else key_fw
    matched = np.minimum(count[pair], back)  # both directions always exist together
    a_node, b_node = src[pair], dst[pair]
    union = totals[a_node] + totals[b_node] - matched
    jaccard = matched / np.maximum(union, 1)
    a, b = a_node // n_spans, b_node // n_spans
    # The best span of each account pair.
    order = np.lexsort((-jaccard, b, a))
    a, b, matched, jaccard = a[order], b[order], matched[order], jaccard[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    stats = {
        "n_actions": len(distinct),
        "n_spans": n_spans,
        "matched_pairs": int(first.sum()),
        "colink": network.stats,
    }
    return Similarity(a[first], b[first], matched[first], jaccard[first], stats)


@baseline(
    "synchrotrap",
    SynchroTrapParams,
    stages=("similarity", "detect"),
    tuning=TUNING,
)
def synchrotrap(
    posts: Posts, events: Events, p: SynchroTrapParams, *, seed: int | None, timer: StageTimer
) -> Found:
    """Run SynchroTrap (see module docstring; deterministic, ``seed`` unused).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> synchrotrap(sim.posts, {"describe": False}).method
    'synchrotrap'
    """
    with timer.stage("similarity"):
        sim = pair_similarity(events, p)
    with timer.stage("detect"):
        keep = (sim.similarity >= p.threshold) & (sim.matched >= p.min_matched)
        rows, cols, weight = sim.rows[keep], sim.cols[keep], sim.similarity[keep]
        n = events.n_accounts
        graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        _k, component = connected_components(graph, directed=False)
        linked = np.zeros(n, dtype=bool)
        linked[rows] = linked[cols] = True
        membership = canonical_membership(np.where(linked, component, -1), min_size=p.min_size)
    clustering = Clustering(events.accounts, membership, "synchrotrap", asdict(p), seed, None, 0)
    k = clustering.n_clusters
    inside = membership[rows] >= 0
    cluster = membership[rows[inside]]
    total = np.bincount(cluster, weights=weight[inside], minlength=k)
    pairs = np.bincount(cluster, minlength=k)
    score = np.divide(total, pairs, out=np.zeros(k), where=pairs > 0)
    reasons = [
        f"a single-linkage cluster of accounts whose actions on the same {p.objects} within "
        f"{p.t_sim_s:g} s match (Jaccard >= {p.threshold:g} over a span of "
        f"{(p.span_s or 0) / 86400:g} days)"
    ] * k
    verdict = Verdict(
        score=score,
        flagged=np.ones(k, dtype=bool),
        reasons=reasons,
        columns={"mean_similarity": score, "similar_pairs": pairs},
    )
    stats = {**sim.stats, "pairs_joined": int(keep.sum())}
    return Found(clustering, verdict, stats=stats)

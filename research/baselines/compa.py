"""COMPA-style (Egele et al. 2013): per-account behaviour change, then groups of similar anomalous posts.

Citation: M. Egele, G. Stringhini, C. Kruegel and G. Vigna, "COMPA: Detecting
Compromised Accounts on Social Networks", NDSS 2013.

No graph. Every account's history is a **behavioural profile**; each post is
compared with the profile built from the account's *earlier* posts only:

- **source novelty**: the post's app was never used by the account before
  (COMPA's message-source model; an unknown app is no evidence);
- **domain novelty**: the post links a domain the account never linked
  before (COMPA's links model);
- **hour of day**: the account never posted within one hour (either side)
  of this hour of day before (COMPA's time model: a post in a quiet period).

A post is judged only when its account has at least ``min_history`` earlier
posts (COMPA's minimum profile size, 10). Its **anomaly score** is the
weighted share of violated models; COMPA learns the weights from labelled
data, none is available here, so source and domain weigh 0.4 each and hour
0.2 (the time model is the weakest signal in the paper), and a post is
**anomalous** when its score is at least ``anomaly_threshold`` (0.5: two
models violated, or the new source with the new domain).

**Grouping and decision rule (COMPA's):** similar messages are grouped —
here by URL stem (COMPA's URL similarity) within ``group_window_s``
(a day) — and each is checked against its account's profile from before
the group's window. A group is a compromise campaign when it holds at least
``min_group`` messages, at least ``min_judged`` of them come from accounts
with a profile, and at least ``group_threshold`` of those are anomalous
(messages of accounts without a profile can neither violate nor clear it).
The accounts that posted in a campaign group are compromised
(``flag_members: all``; ``anomalous`` keeps only those whose own message
broke their profile); groups that share compromised accounts form one
cluster (connected components), all flagged, scored by the mean anomaly
score of their anomalous posts. Posts without links are never grouped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from research.baselines.common import Found, Verdict, baseline
from research.detect.clustering import Clustering, canonical_membership
from research.graph.codes import dense_codes, distinct_pairs, group_sizes
from research.graph.events import Events
from research.pipeline import StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class CompaParams:
    """Parameters (see module docstring for which are the paper's)."""

    min_history: int = 10
    weight_source: float = 0.4
    weight_domain: float = 0.4
    weight_hour: float = 0.2
    anomaly_threshold: float = 0.5
    group_window_s: float | None = 86_400.0
    min_group: int = 10
    min_judged: int = 3
    group_threshold: float = 0.5
    flag_members: str = "all"
    min_size: int = 2
    describe: bool = True

    def __post_init__(self) -> None:
        if self.flag_members not in ("all", "anomalous"):
            raise ValueError(
                f"flag_members must be 'all' or 'anomalous', got {self.flag_members!r}"
            )


#: Profile size (the paper's 10 and shorter histories), the weights COMPA learns (here a
#: grid around ours), and the two thresholds of its decision.
TUNING = {
    "min_history": (3, 5, 10),
    "weight_source": (0.2, 0.4, 0.6),
    "weight_hour": (0.0, 0.2, 0.4),
    "anomaly_threshold": (0.4, 0.5, 0.6, 0.8),
    "group_threshold": (0.3, 0.5, 0.7),
}


@dataclass(frozen=True)
class Profiles:
    """Messages checked against their accounts' profiles (arrays over the checked messages)."""

    history: np.ndarray
    new_source: np.ndarray
    new_domain: np.ndarray
    quiet_hour: np.ndarray
    judged: np.ndarray
    score: np.ndarray
    anomalous: np.ndarray


def profile_violations(
    events: Events,
    p: CompaParams | None = None,
    *,
    posts: np.ndarray | None = None,
    before: np.ndarray | None = None,
) -> Profiles:
    """Check posts against the profile of their account's posts made before a reference time.

    Parameters
    ----------
    events
        Encoded posts.
    p
        Weights and thresholds.
    posts
        Indices of the posts to check (default: all).
    before
        Reference time of each checked post: the profile holds the account's posts
        made strictly before it (default: the post's own time).

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1, 9)
    >>> rows = [{"post_id": str(i), "account_id": "a", "timestamp": t + dt.timedelta(days=i),
    ...          "app_name": "Web", "urls": ["http://news.com/1"]} for i in range(10)]
    >>> rows.append({"post_id": "x", "account_id": "a", "timestamp": t + dt.timedelta(days=10, hours=12),
    ...              "app_name": "Rogue", "urls": ["http://spam.com/x"]})
    >>> prof = profile_violations(encode(Posts.from_records(rows)))
    >>> prof.anomalous.tolist()[-3:], round(float(prof.score[-1]), 2)
    ([False, False, True], 1.0)
    """
    p = p or CompaParams()
    posts = np.arange(events.n_posts) if posts is None else np.asarray(posts, dtype=np.int64)
    t0 = int(events.post_time.min()) if events.n_posts else 0
    span = int(events.post_time.max(initial=t0)) - t0 + 2
    ref = (events.post_time[posts] if before is None else np.asarray(before, dtype=np.int64)) - t0
    ref = np.clip(ref, 0, span - 1)
    account = events.post_account[posts].astype(np.int64)
    rel = events.post_time - t0

    # History size: the account's posts strictly before the reference time.
    by_account = np.sort(events.post_account.astype(np.int64) * span + rel)
    history = np.searchsorted(by_account, account * span + ref) - np.searchsorted(
        by_account, account * span
    )

    # Source: the account never used this app before the reference time (unknown app: no evidence).
    n_apps = len(events.apps) + 1
    first_app = _first_time(
        events.post_account.astype(np.int64) * n_apps + events.post_app, rel, events.post_app >= 0
    )
    app = events.post_app[posts]
    new_source = (app >= 0) & (_lookup(first_app, account * n_apps + app) >= ref)

    # Links: some domain of the post was never linked by the account before the reference time.
    domain = np.where(
        events.link_domain >= 0, events.link_domain, len(events.domains) + events.link_url
    )
    n_dom = int(domain.max(initial=0)) + 1
    link_key = events.link_account.astype(np.int64) * n_dom + domain
    first_domain = _first_time(link_key, rel[events.link_post], np.ones(len(link_key), dtype=bool))
    slot = np.full(events.n_posts, -1, dtype=np.int64)
    slot[posts] = np.arange(len(posts))
    checked_link = slot[events.link_post] >= 0
    link_slot = slot[events.link_post[checked_link]]
    fresh = _lookup(first_domain, link_key[checked_link]) >= ref[link_slot]
    new_domain = np.zeros(len(posts), dtype=bool)
    new_domain[link_slot[fresh]] = True

    # Time: no earlier post of the account within one hour of this hour of day.
    hour_of = (events.post_time // 3600) % 24
    by_hour = np.sort((events.post_account.astype(np.int64) * 24 + hour_of) * span + rel)
    hour = hour_of[posts]
    near = np.zeros(len(posts), dtype=np.int64)
    for shift in (-1, 0, 1):
        base = (account * 24 + (hour + shift) % 24) * span
        near += np.searchsorted(by_hour, base + ref) - np.searchsorted(by_hour, base)
    quiet_hour = near == 0

    judged = history >= p.min_history
    total = p.weight_source + p.weight_domain + p.weight_hour
    score = (
        p.weight_source * new_source + p.weight_domain * new_domain + p.weight_hour * quiet_hour
    ) / max(total, 1e-12)
    score = np.where(judged, score, 0.0)
    return Profiles(
        history,
        new_source,
        new_domain,
        quiet_hour,
        judged,
        score,
        judged & (score >= p.anomaly_threshold),
    )


def _first_time(
    keys: np.ndarray, times: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (sorted) and the earliest time of each."""
    keys, times = keys[valid], times[valid]
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort((times, keys))
    keys, times = keys[order], times[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], times[first]


def _lookup(table: tuple[np.ndarray, np.ndarray], keys: np.ndarray) -> np.ndarray:
    """The first time of each key (a very large time for keys never seen)."""
    uniq, first = table
    pos = np.clip(np.searchsorted(uniq, keys), 0, max(len(uniq) - 1, 0))
    found = (uniq[pos] == keys) if len(uniq) else np.zeros(len(keys), dtype=bool)
    return np.where(found, first[pos] if len(uniq) else 0, np.iinfo(np.int64).max)


@baseline("compa", CompaParams, stages=("groups",), tuning=TUNING)
def compa(
    posts: Posts, events: Events, p: CompaParams, *, seed: int | None, timer: StageTimer
) -> Found:
    """Run the COMPA-style baseline (see module docstring; deterministic, ``seed`` unused).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("rogue_app", seed=0, n_posts=60_000)
    >>> found = compa(sim.posts, {"describe": False})
    >>> found.method, int(found.clusters["flagged"].sum()) >= 1
    ('compa', True)
    """
    with timer.stage("groups"):
        membership, messages, prof, group_stats = _campaigns(events, p)
    clustering = Clustering(events.accounts, membership, "compa", asdict(p), seed, None, 0)
    n = clustering.n_clusters
    message_cluster = membership[events.post_account[messages]]
    flagged_messages = prof.anomalous & (message_cluster >= 0)
    sums = np.bincount(
        message_cluster[flagged_messages], weights=prof.score[flagged_messages], minlength=n
    )
    counts = np.bincount(message_cluster[flagged_messages], minlength=n)
    score = np.divide(sums, counts, out=np.zeros(n), where=counts > 0)
    reasons = [
        f"its members posted in groups of same-link posts of which >= {100 * p.group_threshold:.0f}% broke "
        f"their authors' profiles ({int(c)} anomalous posts: new app, new domain or a quiet hour for the account)"
        for c in counts
    ]
    verdict = Verdict(
        score=score,
        flagged=np.ones(n, dtype=bool),
        reasons=reasons,
        columns={"anomalous_posts": counts},
    )
    stats = {
        "messages_judged": int(prof.judged.sum()),
        "messages_anomalous": int(prof.anomalous.sum()),
        **group_stats,
    }
    return Found(clustering, verdict, stats=stats)


def _campaigns(
    events: Events, p: CompaParams
) -> tuple[np.ndarray, np.ndarray, Profiles, dict[str, Any]]:
    """Campaign clusters of compromised accounts (``-1`` elsewhere), the grouped messages (post
    indices) and their profile checks."""
    _stems, stem = events.stems()
    t0 = int(events.post_time.min()) if events.n_posts else 0
    if p.group_window_s:
        width = int(p.group_window_s)
        bucket = (events.link_time - t0) // width
        key = stem.astype(np.int64) * (int(bucket.max(initial=0)) + 1) + bucket
    else:
        bucket = np.zeros(len(stem), dtype=np.int64)
        width = 0
        key = stem.astype(np.int64)
    _uniq, group = dense_codes(key)
    n_groups = len(_uniq)
    # One message per (group, post): a post linking the same stem twice counts once.
    g, post, _n = distinct_pairs(group, events.link_post, max(events.n_posts, 1))
    # Each message is checked against its account's profile from before its group's window,
    # so that the campaign's own earlier posts in the window do not teach the profile.
    window_start = np.zeros(n_groups, dtype=np.int64)
    window_start[group] = t0 + bucket * width
    prof = profile_violations(events, p, posts=post, before=window_start[g] if width else None)
    n_messages = group_sizes(g, n_groups)
    n_judged = group_sizes(g[prof.judged], n_groups)
    n_anomalous = group_sizes(g[prof.anomalous], n_groups)
    share = np.divide(n_anomalous, n_judged, out=np.zeros(n_groups), where=n_judged > 0)
    campaign = (
        (n_messages >= p.min_group) & (n_judged >= p.min_judged) & (share >= p.group_threshold)
    )
    hit = campaign[g] & (prof.anomalous if p.flag_members == "anomalous" else True)
    account = events.post_account[post[hit]]
    membership = np.full(events.n_accounts, -1, dtype=np.int64)
    if hit.any():
        # Accounts joined through the campaign groups they posted in: components of accounts + groups.
        n_acc = events.n_accounts
        size = n_acc + n_groups
        edges = sp.coo_matrix(
            (np.ones(len(account)), (account, n_acc + g[hit])), shape=(size, size)
        )
        _k, component = connected_components(edges, directed=False)
        involved = np.zeros(n_acc, dtype=bool)
        involved[account] = True
        membership = np.where(involved, component[:n_acc], -1)
    membership = canonical_membership(membership, min_size=p.min_size)
    return membership, post, prof, {"groups": n_groups, "campaign_groups": int(campaign.sum())}

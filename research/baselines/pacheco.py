"""Pacheco et al. (2021): TF-IDF account vectors, cosine similarity, top edges, components.

Citation: D. Pacheco, P.-M. Hui, C. Torres-Lugo, B. T. Truong, A. Flammini and
F. Menczer, "Uncovering Coordinated Networks on Social Media: Methods and Case
Studies", ICWSM 2021.

Method (their framework, with shared URLs as the behavioural trace):

1. a bipartite network of accounts and the objects they post (here: URLs,
   ``objects``), each account a TF-IDF vector over objects (tf = times the
   account posted the object, smooth idf as in scikit-learn's
   ``TfidfVectorizer``, rows L2-normalised);
2. the account projection weighted by the cosine of those vectors, without
   any time window;
3. keep the edges at or above the ``q`` quantile of weight (``q = 0.995``:
   the top 0.5% of edges, their setting);
4. clusters are the connected components of what is left.

**Decision rule.** Pacheco et al. stop at the filtered network and leave
its clusters to human inspection; no paper of theirs flags every cluster.
The stand-in for that inspection (ours): components of at least
``min_size`` accounts are ranked by their **score**, the total cosine
weight of their internal edges (large clusters of near-identical accounts
first, as in the case studies' figures), and the ``top_k`` highest are
flagged — an analyst's inspection budget; ``top_k: null`` flags every
component (the earlier rule). The score ranks clusters for
precision-recall curves whatever ``top_k`` is.

``min_actions`` drops accounts with fewer actions (here: posted URLs) before
projecting, as their case studies keep only accounts with enough activity to
compare (5 here; with no filter, pairs of accounts that each posted one and
the same URL have cosine 1 and fill the top edges). The projection has no
popularity cap (``cap=None``), as in the paper; the pair budget lowers one
only if the data would not fit (recorded in stats).

**Parameters.** The paper's: TF-IDF cosine, ``q`` (0.995), components.
Ours: ``objects`` (URLs; their case studies also use hashtags, retweets and
images), ``min_actions``, ``top_k`` (10), ``min_size``, ``pair_budget``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from research.baselines.common import Found, baseline, top_weight_verdict
from research.detect.communities import detect
from research.graph.events import Events
from research.graph.filters import top_quantile
from research.graph.projection import actions, co_action
from research.pipeline import StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class PachecoParams:
    """Parameters (defaults: the paper's settings with URLs as the trace)."""

    objects: str = "url"
    q: float = 0.995
    min_size: int = 2
    min_actions: int = 5
    top_k: int | None = 10
    cap: int | None = None
    pair_budget: float = 2e8
    describe: bool = True

    def __post_init__(self) -> None:
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be at least 1 or null, got {self.top_k}")


#: The paper's quantiles (their case studies keep the top 0.1-1% of edges) and traces.
TUNING = {
    "objects": ("url", "domain", "stem"),
    "q": (0.99, 0.995, 0.999),
    "min_actions": (2, 5, 10),
    "top_k": (5, 10, 20, 50, None),
}


@baseline("pacheco", PachecoParams, stages=("projection", "filter", "detect"), tuning=TUNING)
def pacheco(
    posts: Posts, events: Events, p: PachecoParams, *, seed: int | None, timer: StageTimer
) -> Found:
    """Run the Pacheco et al. (2021) baseline (see module docstring).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> found = pacheco(sim.posts, {"describe": False, "top_k": None})
    >>> found.method, bool(found.clusters["flagged"].all())
    ('pacheco', True)
    """
    with timer.stage("projection"):
        active = _active_events(events, p.min_actions, p.objects)
        projection = co_action(
            active,
            objects=p.objects,
            window_s=None,
            weighting="tfidf_cosine",
            cap=p.cap,
            pair_budget=p.pair_budget,
        )
    with timer.stage("filter"):
        kept = top_quantile(projection, p.q)
    with timer.stage("detect"):
        clustering = detect(kept, "components", seed=seed, min_size=p.min_size)
    threshold = kept.stats.get("top_quantile_threshold", float("nan"))
    verdict = top_weight_verdict(
        kept,
        clustering,
        p.top_k,
        what=f"a connected component of the top {100 * (1 - p.q):.1f}% TF-IDF cosine edges "
        f"(cosine >= {threshold:.3f})",
        weight="cosine",
        columns=("total_cosine", "mean_cosine"),
    )
    stats = {
        "edges_projected": projection.n_edges,
        "edges_kept": kept.n_edges,
        "projection": projection.stats,
    }
    return Found(clustering, verdict, projection=kept, stats=stats)


def _active_events(events: Events, min_actions: int, objects: str) -> Events:
    """Events without the actions of accounts that have fewer than ``min_actions`` of them."""
    if min_actions <= 1:
        return events
    acts = actions(events, objects)
    counts = np.bincount(acts.account, minlength=events.n_accounts)
    keep_link = counts[events.link_account] >= min_actions
    keep_post = counts[events.post_account] >= min_actions
    return replace(
        events,
        post_app=np.where(keep_post, events.post_app, -1),
        link_post=events.link_post[keep_link],
        link_url=events.link_url[keep_link],
        link_domain=events.link_domain[keep_link],
        _cache={},
    )

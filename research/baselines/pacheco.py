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

**Decision rule:** every component with at least ``min_size`` accounts is a
coordinated group (flagged); its score is the mean cosine of its internal
edges. ``min_actions`` drops accounts with fewer actions (here: posted
URLs) before projecting, as their case studies keep only accounts with
enough activity to compare (5 here; with no filter, pairs of accounts that
each posted one and the same URL have cosine 1 and fill the top edges).
The projection has no popularity cap (``cap=None``), as in the paper; the
pair budget lowers one only if the data would not fit (recorded in stats).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from research.baselines.common import Verdict, encoded, finish, internal_weight, parse_params
from research.detect.communities import detect
from research.graph.events import Events
from research.graph.filters import top_quantile
from research.graph.projection import co_action
from research.pipeline import Detection, StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class PachecoParams:
    """Parameters (defaults: the paper's settings with URLs as the trace)."""

    objects: str = "url"
    q: float = 0.995
    min_size: int = 2
    min_actions: int = 5
    cap: int | None = None
    pair_budget: float = 2e8
    describe: bool = True


def pacheco(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """Run the Pacheco et al. (2021) baseline (see module docstring).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> found = pacheco(sim.posts, {"describe": False})
    >>> found.method, bool(found.clusters["flagged"].all())
    ('pacheco', True)
    """
    p = parse_params(PachecoParams, params, "pacheco")
    timer = StageTimer(
        ("encode", "projection", "filter", "detect", "describe"), progress=progress, label="pacheco"
    )
    events = encoded(posts, events, timer)
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
    n = clustering.n_clusters
    total, edges = internal_weight(kept, clustering.membership, n)
    score = np.divide(total, edges, out=np.zeros(n), where=edges > 0)
    threshold = kept.stats.get("top_quantile_threshold", float("nan"))
    reasons = [
        f"a connected component of the top {100 * (1 - p.q):.1f}% TF-IDF cosine edges (cosine >= {threshold:.3f})"
    ] * n
    verdict = Verdict(
        score=score, flagged=np.ones(n, dtype=bool), reasons=reasons, columns={"mean_cosine": score}
    )
    stats = {
        "edges_projected": projection.n_edges,
        "edges_kept": kept.n_edges,
        "projection": projection.stats,
    }
    return finish(
        "pacheco",
        asdict(p),
        seed,
        posts,
        events,
        clustering,
        verdict,
        timer,
        describe=p.describe,
        projection=kept,
        stats=stats,
    )


def _active_events(events: Events, min_actions: int, objects: str) -> Events:
    """Events without the actions of accounts that have fewer than ``min_actions`` of them."""
    if min_actions <= 1:
        return events
    from research.graph.projection import actions

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

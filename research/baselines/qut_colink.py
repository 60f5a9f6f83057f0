"""QUT co-link (Graham et al.; coordination-network-toolkit): URLs shared within Δt, then components or Louvain.

Citations: T. Graham, QUT Digital Observatory (2020), *Coordination Network
Toolkit* (software), https://doi.org/10.25912/RDF_1632782596538; T. Graham,
A. Bruns, G. Zhu and R. Campbell (2020), *Like a virus: the coordinated spread
of coronavirus disinformation*; co-link analysis after F. Giglietto et al.
(2020), "It takes a village to manipulate the media", *Information,
Communication & Society*.

Method: the toolkit's co-link network (:mod:`research.graph.colink`, the
same pairs and weights as the toolkit, cross-checked in the tests): an edge
``u -> v`` weighs the number of u's posts that share a URL with a post of v
posted within ``window_s`` (Δt = 60 s, the toolkit's default); URLs of
reposts are ignored, as the toolkit does. Directed edges lighter than
``min_edge_weight`` (the toolkit's ``--min_edge_weight``, default 1) are
dropped; the rest form an undirected graph (weight = sum of both
directions, as when a directed export is loaded as undirected). Clusters
are its connected components (the toolkit's own example) or, with
``detector: louvain``, its Louvain communities.

**Decision rule.** The toolkit and the studies that use it stop at the
network: its clusters are then read by analysts, who look first at the
strongest. No paper flags every cluster. The stand-in for that reading
(ours): clusters of at least ``min_size`` accounts are ranked by their
**score**, the total co-link weight inside the cluster (coordinated posts
among its members, both directions summed), and the ``top_k`` highest are
flagged — an analyst's inspection budget; ``top_k: null`` flags every
cluster (the earlier rule). The score ranks clusters for precision-recall
curves whatever ``top_k`` is.

**Parameters.** The toolkit's: ``window_s`` (Δt, 60 s), ``min_edge_weight``
(its ``--min_edge_weight``, 1), ``include_reposts`` (false: it ignores URLs of
reposts), components as clusters. Ours: ``top_k`` (10), ``min_size``, the
Louvain option and ``pair_budget``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from research.baselines.common import Found, baseline, top_weight_verdict
from research.detect.communities import detect
from research.graph.colink import CoLink, co_link
from research.graph.events import Events
from research.pipeline import StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class QutParams:
    """Parameters (defaults: the toolkit's, components as in its example)."""

    window_s: float = 60.0
    min_edge_weight: int = 1
    detector: str = "components"
    resolution: float = 1.0
    min_size: int = 2
    top_k: int | None = 10
    include_reposts: bool = False
    pair_budget: float = 2e8
    describe: bool = True

    def __post_init__(self) -> None:
        if self.detector not in ("components", "louvain"):
            raise ValueError(f"detector must be 'components' or 'louvain', got {self.detector!r}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be at least 1 or null, got {self.top_k}")


#: Δt from seconds to the quarter-hour the co-link literature uses; the toolkit's weight filter.
TUNING = {
    "window_s": (10, 60, 300, 900),
    "min_edge_weight": (1, 2, 3, 5),
    "top_k": (5, 10, 20, 50, None),
}


@baseline("qut_colink", QutParams, stages=("projection", "filter", "detect"), tuning=TUNING)
def qut_colink(
    posts: Posts, events: Events, p: QutParams, *, seed: int | None, timer: StageTimer
) -> Found:
    """Run the QUT co-link baseline (see module docstring).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> found = qut_colink(sim.posts, {"describe": False, "top_k": 3})
    >>> found.method, int(found.clusters["flagged"].sum())
    ('qut_colink', 3)
    """
    with timer.stage("projection"):
        source = events if p.include_reposts else _without_repost_links(posts, events)
        network = co_link(
            source, p.window_s, objects="url", pair_budget=p.pair_budget, on_budget="lower_cap"
        )
    with timer.stage("filter"):
        strong = _min_edge_weight(network, p.min_edge_weight)
        graph = strong.symmetric("sum")
    with timer.stage("detect"):
        extra = {"resolution": p.resolution} if p.detector == "louvain" else {}
        clustering = detect(graph, p.detector, seed=seed, min_size=p.min_size, **extra)
    how = "connected component" if p.detector == "components" else "Louvain community"
    verdict = top_weight_verdict(
        graph,
        clustering,
        p.top_k,
        what=f"a {how} of the co-link network (same URL within {p.window_s:g} s, directed weight "
        f">= {p.min_edge_weight})",
        weight="co-link weight",
        columns=("total_weight", "mean_weight"),
    )
    stats = {
        "edges_directed": network.n_edges,
        "edges_kept": graph.n_edges,
        "colink": network.stats,
    }
    return Found(clustering, verdict, projection=graph, stats=stats)


def _min_edge_weight(network: CoLink, k: int) -> CoLink:
    keep = network.count >= k
    return replace(
        network,
        source=network.source[keep],
        target=network.target[keep],
        count=network.count[keep],
        weight=network.weight[keep],
    )


def _without_repost_links(posts: Posts, events: Events) -> Events:
    """Events whose links exclude those of reposts (the toolkit ignores URLs shared in reposts)."""
    is_repost = np.asarray(posts.table.column("is_repost").to_numpy(), dtype=bool)[events.post_row]
    keep = ~is_repost[events.link_post]
    if keep.all():
        return events
    return replace(
        events,
        link_post=events.link_post[keep],
        link_url=events.link_url[keep],
        link_domain=events.link_domain[keep],
        _cache={},
    )

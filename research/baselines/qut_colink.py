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

**Decision rule:** every cluster of at least ``min_size`` accounts is a
coordinated group (flagged); its score is the mean internal edge weight.
With every cluster flagged, components and Louvain flag the same accounts
(those with an edge, in clusters of ``min_size`` or more) and differ only in
how they group them (NMI, ARI, purity); ``min_edge_weight`` is what decides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from research.baselines.common import Verdict, encoded, finish, internal_weight, parse_params
from research.detect.communities import detect
from research.graph.colink import CoLink, co_link
from research.graph.events import Events
from research.pipeline import Detection, StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class QutParams:
    """Parameters (defaults: the toolkit's, components as in its example)."""

    window_s: float = 60.0
    min_edge_weight: int = 1
    detector: str = "components"
    resolution: float = 1.0
    min_size: int = 2
    include_reposts: bool = False
    pair_budget: float = 2e8
    describe: bool = True

    def __post_init__(self) -> None:
        if self.detector not in ("components", "louvain"):
            raise ValueError(f"detector must be 'components' or 'louvain', got {self.detector!r}")


def qut_colink(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """Run the QUT co-link baseline (see module docstring).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> qut_colink(sim.posts, {"describe": False}).method
    'qut_colink'
    """
    p = parse_params(QutParams, params, "qut_colink")
    name = "qut_colink"
    timer = StageTimer(
        ("encode", "projection", "filter", "detect", "describe"), progress=progress, label=name
    )
    events = encoded(posts, events, timer)
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
    n = clustering.n_clusters
    total, edges = internal_weight(graph, clustering.membership, n)
    score = np.divide(total, edges, out=np.zeros(n), where=edges > 0)
    how = "connected component" if p.detector == "components" else "Louvain community"
    reasons = [
        f"a {how} of the co-link network (same URL within {p.window_s:g} s, directed weight >= {p.min_edge_weight})"
    ] * n
    verdict = Verdict(
        score=score, flagged=np.ones(n, dtype=bool), reasons=reasons, columns={"mean_weight": score}
    )
    stats = {
        "edges_directed": network.n_edges,
        "edges_kept": graph.n_edges,
        "colink": network.stats,
    }
    return finish(
        name,
        asdict(p),
        seed,
        posts,
        events,
        clustering,
        verdict,
        timer,
        describe=p.describe,
        projection=graph,
        stats=stats,
    )


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

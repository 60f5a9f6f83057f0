"""EvilCohort-style (Stringhini et al. 2015): accounts sharing the attacker's objects, then Louvain.

Citation: G. Stringhini, P. Mourlanne, G. Jacob, M. Egele, C. Kruegel and
G. Vigna, "EvilCohort: Detecting Communities of Malicious Accounts on Online
Services", USENIX Security 2015.

EvilCohort builds a graph whose nodes are accounts and whose edges join
accounts accessed from the same IP addresses (weight: number of shared IPs),
keeps edges of weight at least ``s``, and finds communities with Louvain:
a botnet has few machines and each logs into many accounts, so the accounts
it controls form dense communities. A posts table holds no IP addresses;
the closest trace of the controlling party here is the (app, URL) pair a post
was sent through and pushed (``objects``), and this baseline uses it in place
of the IP: the bipartite projection of accounts x objects (no time window,
as EvilCohort has none), weight = number of shared objects.

**Decision rule:** edges sharing fewer than ``min_shared`` objects are
dropped (EvilCohort's ``s``; 2 here, since one shared URL is common among
honest accounts, as one shared IP is behind a NAT); Louvain communities of at
least ``min_size`` accounts are flagged as cohorts (this package's size
threshold; EvilCohort reports communities of many accounts). Score = mean
internal edge weight. Objects shared by more than ``cap`` accounts (a viral
link, like a large proxy's IP, joins thousands of unrelated accounts) are
left out to keep the projection within memory (this package's choice).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from research.baselines.common import Verdict, encoded, finish, internal_weight, parse_params
from research.detect.communities import detect
from research.graph.events import Events
from research.graph.filters import min_support
from research.graph.projection import co_action
from research.pipeline import Detection, StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class EvilCohortParams:
    """Parameters (see module docstring for which are the paper's)."""

    objects: str = "app_url"
    min_shared: int = 2
    resolution: float = 1.0
    min_size: int = 10
    cap: int | None = 1000
    pair_budget: float = 2e8
    describe: bool = True


def evilcohort(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """Run the EvilCohort-style baseline (see module docstring).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> evilcohort(sim.posts, {"describe": False}).method
    'evilcohort'
    """
    p = parse_params(EvilCohortParams, params, "evilcohort")
    timer = StageTimer(
        ("encode", "projection", "filter", "detect", "describe"),
        progress=progress,
        label="evilcohort",
    )
    events = encoded(posts, events, timer)
    with timer.stage("projection"):
        projection = co_action(
            events,
            objects=p.objects,
            window_s=None,
            weighting="count",
            cap=p.cap,
            pair_budget=p.pair_budget,
        )
    with timer.stage("filter"):
        kept = min_support(projection, p.min_shared)
    with timer.stage("detect"):
        clustering = detect(kept, "louvain", seed=seed, min_size=2, resolution=p.resolution)
    n = clustering.n_clusters
    sizes = clustering.sizes()
    total, edges = internal_weight(kept, clustering.membership, n)
    score = np.divide(total, edges, out=np.zeros(n), where=edges > 0)
    flagged = sizes >= p.min_size
    reasons = [
        f"a Louvain community of accounts sharing >= {p.min_shared} {p.objects} objects"
        + ("" if f else f", smaller than {p.min_size} accounts")
        for f in flagged
    ]
    verdict = Verdict(score=score, flagged=flagged, reasons=reasons, columns={"mean_shared": score})
    stats = {
        "edges_projected": projection.n_edges,
        "edges_kept": kept.n_edges,
        "projection": projection.stats,
    }
    return finish(
        "evilcohort",
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

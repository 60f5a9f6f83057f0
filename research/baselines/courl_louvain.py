"""Co-URL + Louvain, inspired by EvilCohort (Stringhini et al. 2015): accounts sharing objects, then Louvain.

Inspired by: G. Stringhini, P. Mourlanne, G. Jacob, M. Egele, C. Kruegel and
G. Vigna, "EvilCohort: Detecting Communities of Malicious Accounts on Online
Services", USENIX Security 2015.

**What it is, and what it is not.** EvilCohort builds a graph whose nodes are
accounts and whose edges join accounts accessed from the same IP addresses
(weight: number of shared IPs), keeps edges of weight at least ``s``, and
finds communities with Louvain: a botnet has few machines and each logs into
many accounts. A posts table holds no IP addresses, so this is *not*
EvilCohort: it keeps EvilCohort's graph-and-Louvain procedure and puts the
(app, URL) pair a post was sent through and pushed (``objects``) where the IP
was, which makes it a co-URL network with Louvain communities (hence its
name). The projection is accounts x objects with no time window (EvilCohort
has none), weight = number of shared objects.

**Decision rule (EvilCohort's):** edges sharing fewer than ``min_shared``
objects are dropped (EvilCohort's ``s``; 2 here, since one shared URL is
common among honest accounts, as one shared IP is behind a NAT); every
Louvain community of at least ``min_size`` accounts is a cohort (flagged;
the size is this package's threshold, EvilCohort reports communities of many
accounts). **Score** (for ranking): mean internal edge weight, the shared
objects per linked pair. Objects shared by more than ``cap`` accounts (a
viral link, like a large proxy's IP, joins thousands of unrelated accounts)
are left out to keep the projection within memory (this package's choice).

**Parameters.** EvilCohort's: ``min_shared`` (its ``s``) and Louvain's
``resolution`` (1, standard modularity). Ours: ``objects`` (in place of IPs),
``min_size``, ``cap``, ``pair_budget``.
"""

from __future__ import annotations

from dataclasses import dataclass

from research.baselines.common import Found, Verdict, baseline, cluster_weight_score
from research.detect.communities import detect
from research.graph.events import Events
from research.graph.filters import min_support
from research.graph.projection import co_action
from research.pipeline import StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class CoUrlLouvainParams:
    """Parameters (see module docstring for which are the paper's)."""

    objects: str = "app_url"
    min_shared: int = 2
    resolution: float = 1.0
    min_size: int = 10
    cap: int | None = 1000
    pair_budget: float = 2e8
    describe: bool = True


#: EvilCohort reports thresholds ``s`` of a few shared IPs; the objects are our stand-in.
TUNING = {
    "objects": ("app_url", "url", "app_domain"),
    "min_shared": (2, 3, 5, 10),
    "min_size": (3, 5, 10, 20),
}


@baseline(
    "courl_louvain",
    CoUrlLouvainParams,
    stages=("projection", "filter", "detect"),
    tuning=TUNING,
)
def courl_louvain(
    posts: Posts, events: Events, p: CoUrlLouvainParams, *, seed: int | None, timer: StageTimer
) -> Found:
    """Run co-URL + Louvain (see module docstring).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> courl_louvain(sim.posts, {"describe": False}).method
    'courl_louvain'
    """
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
    _total, mean = cluster_weight_score(kept, clustering)
    flagged = clustering.sizes() >= p.min_size
    reasons = [
        f"a Louvain community of accounts sharing >= {p.min_shared} {p.objects} objects"
        + ("" if f else f", smaller than {p.min_size} accounts")
        for f in flagged
    ]
    verdict = Verdict(score=mean, flagged=flagged, reasons=reasons, columns={"mean_shared": mean})
    stats = {
        "edges_projected": projection.n_edges,
        "edges_kept": kept.n_edges,
        "projection": projection.stats,
    }
    return Found(clustering, verdict, projection=kept, stats=stats)

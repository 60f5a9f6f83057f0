"""What every baseline shares: parameters, timing, and turning its verdict into a Detection.

A baseline decides by its own published rule (which clusters it flags and
how it scores them). So that its output reads like the package's, each of
its clusters can also be described by the package's evidence
(:func:`research.evidence.group_evidence` of :func:`research.evidence.cluster_groups`:
top app and site, exclusivity, history, synchrony, ...) — as description only: the baseline's ``score`` and
``flagged`` replace the evidence rule's, and the ``explanation`` column says
in words which rule of the baseline flagged the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from research.detect.clustering import Clustering
from research.errors import ConfigError
from research.evidence import cluster_groups, group_evidence
from research.graph.events import Events, encode
from research.graph.projection import Projection
from research.pipeline import Detection, StageTimer
from research.posts import Posts

P = TypeVar("P")


def parse_params(kind: type[P], params: dict[str, Any] | None, method: str) -> P:
    """Build a parameter dataclass from plain data; unknown keys raise :class:`ConfigError`."""
    params = dict(params or {})
    known = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    unknown = set(params) - known
    if unknown:
        raise ConfigError(
            f"method {method!r}: unknown parameter(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(known))}"
        )
    try:
        return kind(**params)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"method {method!r}: {err}") from None


@dataclass(frozen=True)
class Verdict:
    """A baseline's decision on its clusters (arrays over clusters ``0..k-1``)."""

    score: np.ndarray
    flagged: np.ndarray
    reasons: list[str]
    columns: dict[str, np.ndarray]


def encoded(posts: Posts, events: Events | None, timer: StageTimer) -> Events:
    """The encoded posts (reusing ``events`` when the caller has them)."""
    with timer.stage("encode"):
        return events if events is not None else encode(posts)


def finish(
    method: str,
    params: dict[str, Any],
    seed: int | None,
    posts: Posts,
    events: Events,
    clustering: Clustering,
    verdict: Verdict,
    timer: StageTimer,
    *,
    describe: bool = True,
    projection: Projection | None = None,
    stats: dict[str, Any] | None = None,
) -> Detection:
    """Assemble a :class:`Detection` from a baseline's clustering and verdict.

    With ``describe`` the clusters table carries the package's evidence columns
    (timed as the ``describe`` stage, apart from the baseline's own stages).
    """
    n_clusters = clustering.n_clusters
    if len(verdict.score) != n_clusters or len(verdict.flagged) != n_clusters:
        raise ValueError(
            f"{method}: verdict covers {len(verdict.score)} clusters, clustering has {n_clusters}"
        )
    if describe and n_clusters:
        with timer.stage("describe"):
            texts = posts.column("text").combine_chunks() if posts.table.num_rows else None
            table = group_evidence(events, cluster_groups(events, clustering), texts=texts)
            table.insert(1, "size", clustering.sizes())
    else:
        table = pd.DataFrame({"cluster": np.arange(n_clusters), "size": clustering.sizes()})
    table["score"] = np.asarray(verdict.score, dtype=np.float64)
    table["flagged"] = np.asarray(verdict.flagged, dtype=bool)
    for name, values in verdict.columns.items():
        table[name] = values
    table["explanation"] = [
        f"Cluster {c} ({int(s)} accounts, score {sc:.2f}) {'is' if f else 'is not'} flagged by {method}: {r}."
        for c, s, sc, f, r in zip(
            table["cluster"],
            table["size"],
            table["score"],
            table["flagged"],
            verdict.reasons,
            strict=True,
        )
    ]
    membership = clustering.membership
    clustered = membership >= 0
    score = np.zeros(len(membership))
    flagged = np.zeros(len(membership), dtype=bool)
    score[clustered] = table["score"].to_numpy()[membership[clustered]]
    flagged[clustered] = table["flagged"].to_numpy()[membership[clustered]]
    accounts = pd.DataFrame(
        {
            "account": clustering.accounts.to_numpy(),
            "cluster": membership,
            "flagged": flagged,
            "score": score,
            "attached": np.zeros(len(membership), dtype=bool),
        }
    )
    timer.close()
    base_stats = {
        "n_posts": events.n_posts,
        "n_accounts": events.n_accounts,
        "n_links": len(events.link_post),
        "disconnected_clusters": clustering.disconnected,
    }
    return Detection(
        method=method,
        params=params,
        seed=seed,
        clustering=clustering,
        clusters=table,
        accounts=accounts,
        timings=timer.timings,
        stats={**base_stats, **(stats or {})},
    )


def internal_weight(
    projection: Projection, membership: np.ndarray, n_clusters: int
) -> tuple[np.ndarray, np.ndarray]:
    """Total edge weight and number of edges inside each cluster."""
    same = (membership[projection.rows] == membership[projection.cols]) & (
        membership[projection.rows] >= 0
    )
    cluster = membership[projection.rows[same]]
    weight = np.bincount(cluster, weights=projection.weight[same], minlength=n_clusters)
    edges = np.bincount(cluster, minlength=n_clusters)
    return weight, edges

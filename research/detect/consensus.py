"""Consensus over seeds, and how stable each cluster is.

Randomised detectors (Leiden, Louvain, Infomap, label propagation) can give
different partitions for different seeds. Running one several times and
keeping what the runs agree on separates robust clusters from accidents of
one seed (consensus clustering, Lancichinetti & Fortunato 2012):

- **agreement** of an edge: the share of runs that put its two accounts in
  the same cluster;
- **consensus partition**: the connected components of the edges whose
  agreement is at least ``threshold`` (default 0.5, a majority of runs);
  one pass, deterministic given the runs;
- **stability** of a cluster: over the runs, the mean share of the
  cluster's member pairs that the run grouped together,
  ``mean_r sum_k C(n_rk, 2) / C(n, 2)`` with ``n_rk`` the members in run
  ``r``'s community ``k`` (members the run leaves unclustered pair with
  nobody). 1 means every run found the cluster whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from research.detect.clustering import Clustering, canonical_membership
from research.detect.communities import count_disconnected, detect
from research.errors import ConfigError
from research.graph.base import Projection


@dataclass(frozen=True)
class Consensus:
    """A consensus clustering with its runs.

    Attributes
    ----------
    clustering
        The consensus partition.
    stability
        Stability of each consensus cluster ``0..k-1`` (see module docstring).
    agreement
        Share of runs co-assigning the endpoints of each edge of the projection.
    runs
        The individual runs, one per seed.
    """

    clustering: Clustering
    stability: np.ndarray
    agreement: np.ndarray
    runs: tuple[Clustering, ...]


def consensus(
    projection: Projection,
    method: str = "leiden",
    *,
    seeds: Sequence[int] = tuple(range(10)),
    threshold: float = 0.5,
    min_size: int = 2,
    **params: Any,
) -> Consensus:
    """Consensus of one detector over several seeds.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from research.graph.events import Labels
    >>> p = Projection(Labels(pa.array(list("abcdef"))), np.array([0, 0, 1, 3, 3, 4, 2]),
    ...                np.array([1, 2, 2, 4, 5, 5, 3]), np.ones(7), np.ones(7, int), {}, {})
    >>> result = consensus(p, "leiden", seeds=[0, 1, 2], objective="modularity")
    >>> result.clustering.membership.tolist(), result.stability.tolist()
    ([0, 0, 0, 1, 1, 1], [1.0, 1.0])
    """
    if not seeds:
        raise ConfigError("consensus: at least one seed is needed")
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"consensus: threshold must be in (0, 1], got {threshold}")
    runs = tuple(
        detect(projection, method, seed=int(s), min_size=min_size, **params) for s in seeds
    )
    together = np.zeros(projection.n_edges)
    for run in runs:
        m = run.membership
        together += (m[projection.rows] == m[projection.cols]) & (m[projection.rows] >= 0)
    agreement = together / len(runs)
    kept = agreement >= threshold
    n = projection.n_accounts
    graph = sp.coo_matrix(
        (np.ones(int(kept.sum())), (projection.rows[kept], projection.cols[kept])), shape=(n, n)
    )
    _, component = connected_components(graph, directed=False)
    has_edge = np.zeros(n, dtype=bool)
    has_edge[projection.rows[kept]] = True
    has_edge[projection.cols[kept]] = True
    membership = canonical_membership(np.where(has_edge, component, -1), min_size=min_size)
    clustering = Clustering(
        accounts=projection.accounts,
        membership=membership,
        method=f"consensus:{method}",
        params={**params, "seeds": [int(s) for s in seeds], "threshold": threshold},
        seed=int(seeds[0]),
        quality=None,
        disconnected=count_disconnected(projection, membership),
    )
    return Consensus(
        clustering, cluster_stability(membership, [r.membership for r in runs]), agreement, runs
    )


def cluster_stability(membership: np.ndarray, runs: Sequence[np.ndarray]) -> np.ndarray:
    """How often each cluster's members are grouped together, averaged over runs.

    Examples
    --------
    >>> m = np.array([0, 0, 0, 0, -1])
    >>> cluster_stability(m, [np.array([0, 0, 0, 0, 1]), np.array([0, 0, 1, 1, -1])]).tolist()
    [0.6666666666666666]
    """
    membership = np.asarray(membership)
    n_clusters = int(membership.max(initial=-1)) + 1
    out = np.zeros(n_clusters)
    if n_clusters == 0 or not runs:
        return out
    members = np.flatnonzero(membership >= 0)
    cluster = membership[members]
    size = np.bincount(cluster, minlength=n_clusters).astype(np.float64)
    possible = size * (size - 1) / 2
    for run in runs:
        other = np.asarray(run)[members]
        grouped = other >= 0
        width = int(other.max(initial=0)) + 1
        key = cluster[grouped].astype(np.int64) * width + other[grouped]
        _uniq, counts = np.unique(key, return_counts=True)
        pairs = np.bincount(
            _uniq // width, weights=counts * (counts - 1) / 2.0, minlength=n_clusters
        )
        out += np.divide(pairs, possible, out=np.ones(n_clusters), where=possible > 0)
    return out / len(runs)

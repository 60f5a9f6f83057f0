"""A clustering of accounts that knows how it was made."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from research.graph.codes import group_sizes
from research.graph.events import Labels

UNCLUSTERED = -1


@dataclass(frozen=True)
class Clustering:
    """Cluster membership over all accounts of a dataset.

    Attributes
    ----------
    accounts
        Labels of the accounts (code ``i`` is ``accounts[i]``).
    membership
        Cluster id of each account; ``-1`` for accounts in no cluster (no
        edges, or alone in their community). Ids run ``0..k-1`` by decreasing
        size (ties broken by smallest member), so equal partitions give equal
        arrays.
    method, params, seed
        How the clustering was made.
    quality
        Modularity of the partition on the graph it was found on (weighted).
    disconnected
        Number of clusters whose members are not connected by the graph's
        edges inside the cluster (Louvain can produce them; Leiden must not).
    """

    accounts: Labels
    membership: np.ndarray
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    quality: float | None = None
    disconnected: int = 0
    #: Seconds spent building the graph (``graph``) and in the detector (``detector``).
    timings: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_clusters(self) -> int:
        return int(self.membership.max(initial=UNCLUSTERED) + 1)

    def sizes(self) -> np.ndarray:
        """Size of each cluster ``0..k-1``."""
        return group_sizes(self.membership[self.membership >= 0], self.n_clusters)

    def members(self, cluster: int) -> np.ndarray:
        """Account codes of one cluster."""
        return np.flatnonzero(self.membership == cluster)

    def member_ids(self, cluster: int) -> list[str]:
        """Account ids of one cluster."""
        return [str(x) for x in self.accounts.take(self.members(cluster))]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (membership as account id -> cluster, clustered accounts only)."""
        clustered = np.flatnonzero(self.membership >= 0)
        return {
            "method": self.method,
            "params": self.params,
            "seed": self.seed,
            "quality": self.quality,
            "n_clusters": self.n_clusters,
            "disconnected": self.disconnected,
            "membership": dict(
                zip(self.accounts.take(clustered), self.membership[clustered].tolist(), strict=True)
            ),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text (sorted keys; byte-stable)."""
        return json.dumps(self.to_dict(), sort_keys=True)


def canonical_membership(raw: np.ndarray, min_size: int = 2) -> np.ndarray:
    """Relabel clusters ``0..k-1`` by decreasing size, ties by smallest member; clusters smaller
    than ``min_size`` (and negative labels) become ``-1``.

    Examples
    --------
    >>> canonical_membership(np.array([5, 5, 7, 7, 7, 9, -1])).tolist()
    [1, 1, 0, 0, 0, -1, -1]
    """
    raw = np.asarray(raw, dtype=np.int64)
    out = np.full(len(raw), UNCLUSTERED, dtype=np.int64)
    valid = np.flatnonzero(raw >= 0)
    if len(valid) == 0:
        return out
    labels, inverse = np.unique(raw[valid], return_inverse=True)
    sizes = np.bincount(inverse, minlength=len(labels))
    first = np.full(len(labels), len(raw), dtype=np.int64)
    np.minimum.at(first, inverse, valid)
    big = sizes >= min_size
    order = np.lexsort((first, -sizes))
    order = order[big[order]]
    new_id = np.full(len(labels), UNCLUSTERED, dtype=np.int64)
    new_id[order] = np.arange(len(order))
    out[valid] = new_id[inverse]
    return out


def first_group_wins(
    n: int, groups: Sequence[np.ndarray], min_size: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping groups of accounts as a partition: each account in the first group that
    holds it, relabelled by :func:`canonical_membership`; with the group each cluster came from.

    Examples
    --------
    >>> membership, origin = first_group_wins(6, [np.array([0, 1]), np.array([1, 2, 3, 4])])
    >>> membership.tolist(), origin.tolist()
    ([1, 1, 0, 0, 0, -1], [1, 0])
    """
    raw = np.full(n, UNCLUSTERED, dtype=np.int64)
    for g, members in enumerate(groups):
        raw[members[raw[members] < 0]] = g
    membership = canonical_membership(raw, min_size=min_size)
    clustered = membership >= 0
    origin = np.full(int(membership.max(initial=-1)) + 1, -1, dtype=np.int64)
    origin[membership[clustered]] = raw[clustered]
    return membership, origin

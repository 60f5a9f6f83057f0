"""LFR benchmark graphs: a sanity check of the community detectors against planted communities.

The LFR benchmark (Lancichinetti, Fortunato & Radicchi 2008) plants
communities with power-law degrees and sizes; the **mixing parameter** ``mu``
is the share of each node's edges that leave its community. The known shape:
good detectors recover the planted partition almost exactly (NMI near 1) for
low ``mu`` and fail past ``mu`` of about 0.5, where a community has more
edges out than in (Lancichinetti & Fortunato 2009, *Phys. Rev. E* 80, 056117).
Graphs come from networkx's ``LFR_benchmark_graph``; detection runs through
:func:`research.detect.detect` like everything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa

from research.detect.communities import detect
from research.evaluate import _compare
from research.graph.events import Labels
from research.graph.projection import Projection

#: Detectors and parameters of the sanity check (modularity-type objectives, as in the literature).
LFR_DETECTORS: dict[str, dict[str, Any]] = {
    "leiden": {"objective": "modularity"},
    "louvain": {},
    "infomap": {},
}

#: LFR parameters per size: degree exponent 2.5, community-size exponent 1.5, as in the paper's figures.
LFR_DEFAULTS: dict[str, Any] = {"tau1": 2.5, "tau2": 1.5, "average_degree": 10, "max_degree": 40, "min_community": 20, "max_community": 60}


def lfr_graph(n: int, mu: float, *, seed: int = 0, attempts: int = 5, **params: Any) -> tuple[Projection, np.ndarray]:
    """An LFR graph as a :class:`Projection` and the planted community of each node.

    networkx's generator sometimes fails to meet the degree/size constraints;
    it is retried with seeds ``seed, seed + 1000, ...`` (deterministic).

    Examples
    --------
    >>> projection, planted = lfr_graph(500, 0.1, seed=1)
    >>> projection.n_accounts, len(np.unique(planted)) > 5
    (500, True)
    """
    settings = {**LFR_DEFAULTS, **params}
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            graph = nx.LFR_benchmark_graph(n, mu=mu, seed=seed + 1000 * attempt, **settings)
            break
        except nx.ExceededMaxIterations as err:
            last = err
    else:
        raise RuntimeError(f"LFR generator failed {attempts} times for n={n}, mu={mu}: {last}")
    edges = np.array([(min(u, v), max(u, v)) for u, v in graph.edges() if u != v], dtype=np.int64).reshape(-1, 2)
    edges = np.unique(edges, axis=0)
    community_of: dict[int, int] = {}
    for node in sorted(graph.nodes()):
        community_of[node] = min(graph.nodes[node]["community"])  # a community's smallest member names it
    planted = np.array([community_of[v] for v in range(n)], dtype=np.int64)
    labels = Labels(pa.array([str(v) for v in range(n)]))
    ones = np.ones(len(edges))
    projection = Projection(labels, edges[:, 0], edges[:, 1], ones, ones.astype(np.int32), {"kind": "lfr", "mu": mu}, {})
    return projection, planted


def lfr_nmi(
    mus: Iterable[float],
    *,
    n: int = 500,
    seeds: Iterable[int] = (0,),
    detectors: dict[str, dict[str, Any]] | None = None,
    **params: Any,
) -> pd.DataFrame:
    """NMI between each detector's partition and the planted one, over mixing parameters and seeds.

    Returns one row per (mu, seed, detector): ``mu``, ``seed``, ``detector``,
    ``nmi``, ``n_communities`` (found, of at least 2 nodes), ``n_planted``.
    The paper's experiment calls it at larger ``n``; the test suite at 500.

    Examples
    --------
    >>> table = lfr_nmi([0.1], n=500, detectors={"louvain": {}})
    >>> bool(table["nmi"].iloc[0] > 0.9)
    True
    """
    detectors = LFR_DETECTORS if detectors is None else detectors
    rows = []
    for mu in mus:
        for seed in seeds:
            projection, planted = lfr_graph(n, float(mu), seed=int(seed), **params)
            for name, settings in detectors.items():
                found = detect(projection, name, seed=int(seed), min_size=1, **settings)
                membership = found.membership
                rows.append(
                    {
                        "mu": float(mu),
                        "seed": int(seed),
                        "detector": name,
                        "nmi": _compare(planted, membership, "nmi"),
                        "n_communities": int(found.n_clusters),
                        "n_planted": len(np.unique(planted)),
                    }
                )
    return pd.DataFrame(rows)

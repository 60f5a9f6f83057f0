"""LFR benchmark graphs (Lancichinetti, Fortunato & Radicchi 2008) as projections, for validating detectors.

The generator is networkx's :func:`~networkx.generators.community.LFR_benchmark_graph`;
its graph is turned into a :class:`~research.graph.base.Projection` with unit
weights so that :func:`research.detect.detect` runs on it unchanged, and the
planted communities are returned beside it.

**Requested and realised mixing.** networkx's generator realises more mixing than it is
asked for: measured with :meth:`LFRGraph.mixing` (each node's share of edges leaving its
planted community, averaged) at n = 1000, average degree 15, maximum 50, communities of
20-100, 3 seeds, it gave 0.15, 0.47, 0.72 and 0.90 for a requested 0.1, 0.3, 0.5 and 0.7;
networkit's ``LFRGenerator`` with the same sequences gave 0.13, 0.32, 0.51 and 0.73. This
module keeps networkx (networkit is not a dependency) and reports the realised value beside
the requested one (``mu_measured``), which the figure puts on its axis; switching to
networkit would make the two agree within about 0.03.

The known shape of the check: good detectors recover the planted partition
almost exactly (NMI near 1) at low mixing and fail past a mixing of about 0.5,
where a community has more edges out than in (Lancichinetti & Fortunato 2009,
*Phys. Rev. E* 80, 056117).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa

from research.errors import ConfigError
from research.graph.base import Projection
from research.graph.events import Labels

#: Detectors and parameters of the sanity check (modularity-type objectives, as in the literature).
LFR_DETECTORS: dict[str, dict[str, Any]] = {
    "leiden": {"objective": "modularity"},
    "louvain": {},
    "infomap": {},
}


@dataclass(frozen=True)
class LFRSpec:
    """Parameters of an LFR graph (names as in networkx).

    ``mu`` is the mixing parameter: the share of each node's edges that leave
    its community. Community detection gets harder as it grows; above about
    0.5 communities are no longer communities in the strong sense.
    """

    n: int = 1000
    tau1: float = 3.0
    tau2: float = 1.5
    mu: float = 0.3
    average_degree: float = 15.0
    max_degree: int = 100
    min_community: int = 20
    max_community: int = 100
    max_iters: int = 500


@dataclass(frozen=True)
class LFRGraph:
    """An LFR graph as a projection, with its planted communities and the generator seed used."""

    projection: Projection
    communities: np.ndarray
    generator_seed: int

    def mixing(self) -> float:
        """The realised mixing parameter: each node's share of edges that leave its planted
        community, averaged over nodes with edges (the generator does not hit ``mu`` exactly)."""
        p, c = self.projection, self.communities
        crossing = (c[p.rows] != c[p.cols]).astype(np.float64)
        n = p.n_accounts
        degree = np.bincount(p.rows, minlength=n) + np.bincount(p.cols, minlength=n)
        external = np.bincount(p.rows, weights=crossing, minlength=n) + np.bincount(
            p.cols, weights=crossing, minlength=n
        )
        has = degree > 0
        return float(np.mean(external[has] / degree[has])) if has.any() else float("nan")


def lfr_graph(spec: LFRSpec, seed: int, *, attempts: int = 20) -> LFRGraph:
    """Generate an LFR graph; on the generator's occasional failure to converge, retry with
    the next derived seed (``seed * 1000 + attempt``), so that the result stays a function of ``seed``.

    Examples
    --------
    >>> g = lfr_graph(LFRSpec(n=250, average_degree=10, max_degree=25, min_community=10, max_community=25), seed=0)
    >>> g.projection.n_accounts, len(g.communities)
    (250, 250)
    >>> 0.0 < g.mixing() < 1.0
    True
    """
    params: dict[str, Any] = asdict(spec)
    n = params.pop("n")
    tau1, tau2, mu = params.pop("tau1"), params.pop("tau2"), params.pop("mu")
    last: Exception | None = None
    for attempt in range(attempts):
        generator_seed = seed * 1000 + attempt
        try:
            graph = nx.LFR_benchmark_graph(n, tau1, tau2, mu, seed=generator_seed, **params)
        except (nx.ExceededMaxIterations, nx.NetworkXError) as err:
            last = err
            continue
        return LFRGraph(_as_projection(graph, spec), _communities(graph), generator_seed)
    raise ConfigError(f"LFR generator did not converge for {spec} in {attempts} attempts: {last}")


def _as_projection(graph: nx.Graph, spec: LFRSpec) -> Projection:
    edges = np.array(
        [(min(u, v), max(u, v)) for u, v in graph.edges() if u != v], dtype=np.int64
    ).reshape(-1, 2)
    edges = np.unique(edges, axis=0)
    n = graph.number_of_nodes()
    ones = np.ones(len(edges))
    labels = Labels(pa.array([f"n{i}" for i in range(n)], pa.string()))
    return Projection(
        labels, edges[:, 0], edges[:, 1], ones, ones.astype(np.int64), {"lfr": asdict(spec)}, {}
    )


def _communities(graph: nx.Graph) -> np.ndarray:
    """Community of every node: the smallest member of its planted community (a canonical id)."""
    out = np.empty(graph.number_of_nodes(), dtype=np.int64)
    for node, data in graph.nodes(data=True):
        out[node] = min(data["community"])
    return out


def lfr_nmi(
    mus: Iterable[float],
    *,
    spec: LFRSpec | None = None,
    seeds: Iterable[int] = (0,),
    detectors: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """NMI between each detector's partition and the planted one, over mixing parameters and seeds.

    Returns one row per (mu, seed, detector): ``mu``, ``mu_measured``, ``seed``,
    ``detector``, ``nmi``, ``n_communities`` (found), ``n_planted``.

    Examples
    --------
    >>> small = LFRSpec(n=300, average_degree=10, max_degree=30, min_community=15, max_community=40)
    >>> table = lfr_nmi([0.1], spec=small, detectors={"louvain": {}})
    >>> bool(table["nmi"].iloc[0] > 0.9)
    True
    """
    from research.detect.communities import detect
    from research.evaluate import _compare

    spec = spec or LFRSpec()
    detectors = LFR_DETECTORS if detectors is None else detectors
    rows = []
    for mu in mus:
        for seed in seeds:
            graph = lfr_graph(replace(spec, mu=float(mu)), int(seed))
            for name, settings in detectors.items():
                found = detect(graph.projection, name, seed=int(seed), min_size=1, **settings)
                rows.append(
                    {
                        "mu": float(mu),
                        "mu_measured": graph.mixing(),
                        "seed": int(seed),
                        "detector": name,
                        "nmi": _compare(graph.communities, found.membership, "nmi"),
                        "n_communities": int(found.n_clusters),
                        "n_planted": len(np.unique(graph.communities)),
                    }
                )
    return pd.DataFrame(rows)

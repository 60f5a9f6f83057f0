"""Multilayer community detection: layers kept apart, one partition for all.

The multiplex sum (:func:`research.graph.projection.combine`) adds the layers'
weights before detection, so that a pair strong in one layer and absent in
another looks like a pair of middling strength in both. Keeping the layers
apart instead, one partition is sought that is good in every layer at once:
leidenalg's ``Optimiser.optimise_partition_multiplex`` (Traag, Waltman & van
Eck 2019; Mucha et al. 2010 for the multiplex quality) maximises
``sum_l weight_l * quality_l(partition)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from research._igraph import ig
from research.detect.clustering import Clustering, canonical_membership
from research.detect.communities import count_disconnected
from research.errors import ConfigError
from research.graph.base import Projection
from research.graph.projection import combine

_IGNORED = frozenset({"beta"})  # igraph-only Leiden parameter (Hydra's leiden configs carry it)


def detect_multiplex(
    layers: list[Projection],
    *,
    objective: str = "CPM",
    resolution: float = 1.0,
    layer_weights: list[float] | None = None,
    n_iterations: int = 2,
    seed: int | None = 0,
    min_size: int = 2,
    **ignored: Any,
) -> Clustering:
    """One partition of accounts optimised over several projection layers at once.

    Parameters
    ----------
    layers
        Projections over the same accounts (e.g. co-(app, domain) and co-(app, URL)).
    objective
        ``CPM`` (with ``resolution``) or ``modularity`` (RB configuration model
        with ``resolution``, 1 = Newman–Girvan modularity).
    layer_weights
        Weight of each layer's quality in the sum (default 1 each).
    n_iterations
        Optimiser passes (negative: until no improvement).
    seed
        Seed of leidenalg's random number generator.
    min_size
        Communities smaller than this are not clusters.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from research.graph.events import Labels
    >>> acc = Labels(pa.array(list("abcdef")))
    >>> one = Projection(acc, np.array([0, 0, 1]), np.array([1, 2, 2]), np.ones(3), np.ones(3, np.int32), {}, {})
    >>> two = Projection(acc, np.array([3, 3, 4]), np.array([4, 5, 5]), np.ones(3), np.ones(3, np.int32), {}, {})
    >>> detect_multiplex([one, two], objective="CPM", resolution=0.1).membership.tolist()
    [0, 0, 0, 1, 1, 1]
    """
    unknown = set(ignored) - _IGNORED
    if unknown:
        raise ConfigError(f"multiplex detector: unknown parameter(s) {', '.join(sorted(unknown))}")
    if not layers:
        raise ConfigError("multiplex detector: at least one layer is needed")
    if objective not in ("CPM", "modularity"):
        raise ConfigError(
            f"multiplex detector: objective must be 'CPM' or 'modularity', got {objective!r}"
        )
    weights = list(layer_weights) if layer_weights is not None else [1.0] * len(layers)
    if len(weights) != len(layers):
        raise ConfigError(
            f"multiplex detector: {len(layers)} layers but {len(weights)} layer weights"
        )
    n_accounts = layers[0].n_accounts
    nodes = np.unique(np.concatenate([np.concatenate([p.rows, p.cols]) for p in layers]))
    full = np.full(n_accounts, -1, dtype=np.int64)
    quality = None
    if len(nodes):
        import leidenalg as la  # here: only the multiplex methods need it (~0.1 s to import)

        graphs = [_layer_graph(p, nodes) for p in layers]
        kind = la.CPMVertexPartition if objective == "CPM" else la.RBConfigurationVertexPartition
        partitions = [kind(g, weights="weight", resolution_parameter=resolution) for g in graphs]
        optimiser = la.Optimiser()
        if seed is not None:
            optimiser.set_rng_seed(int(seed))
        optimiser.optimise_partition_multiplex(
            partitions, layer_weights=weights, n_iterations=n_iterations
        )
        full[nodes] = partitions[0].membership
        quality = float(sum(w * p.quality() for w, p in zip(weights, partitions, strict=True)))
    membership = canonical_membership(full, min_size=min_size)
    summed = combine(layers, weights)
    return Clustering(
        accounts=layers[0].accounts,
        membership=membership,
        method="leiden_multiplex",
        params={
            "objective": objective,
            "resolution": resolution,
            "layer_weights": weights,
            "n_iterations": n_iterations,
        },
        seed=seed,
        quality=quality,
        disconnected=count_disconnected(summed, membership),
    )


# Edge weights are rounded to multiples of 2**-20 (a change below 1e-6): sums of such numbers are
# exact in float64, which takes the rounding noise out of the weight terms of a move's gain. With
# raw idf weights, leidenalg 0.12's multiplex optimiser moved nodes back and forth forever on some
# graphs (an endless loop inside one iteration, leidenalg issue #126): seen on a We Heart It
# platform with a 10-account campaign (seed 3), which finishes in seconds with rounded weights.
_WEIGHT_QUANTUM = 2.0**-20


def _layer_graph(projection: Projection, nodes: np.ndarray) -> ig.Graph:
    """A layer as an igraph graph over the shared vertex set ``nodes`` (weights rounded, see above)."""
    src = np.searchsorted(nodes, projection.rows)
    dst = np.searchsorted(nodes, projection.cols)
    graph = ig.Graph(
        n=len(nodes), edges=np.column_stack([src, dst]) if len(src) else [], directed=False
    )
    graph.es["weight"] = (np.round(projection.weight / _WEIGHT_QUANTUM) * _WEIGHT_QUANTUM).tolist()
    return graph


def restrict_to(layer: Projection, kept: Projection) -> Projection:
    """The edges of ``layer`` whose account pair is also an edge of ``kept`` (e.g. the filtered sum)."""
    n = max(layer.n_accounts, 1)
    mask = np.isin(layer.rows * n + layer.cols, kept.rows * n + kept.cols)
    return layer.select(mask)

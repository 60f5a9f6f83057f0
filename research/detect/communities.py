"""Community detectors on the account projection, by name.

Every detector takes an igraph graph (vertex attribute ``index`` = account
code, edge attribute ``weight``) and a seed, and returns a raw membership over
the graph's vertices. :func:`detect` wraps them: it builds the graph, seeds
igraph's random source (Python's ``random``) around the call and restores it,
maps the membership back onto all accounts and checks connectedness.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from research._igraph import ig
from research.detect.clustering import Clustering, canonical_membership
from research.errors import ConfigError, unknown_name
from research.graph.base import Projection
from research.graph.views import active_nodes, weighted_graph

Detector = Callable[..., list[int]]


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed Python's ``random`` (igraph's random source) for one call, then restore it."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def leiden(
    graph: ig.Graph,
    *,
    objective: str = "CPM",
    resolution: float = 1.0,
    beta: float = 0.01,
    n_iterations: int = 10,
) -> list[int]:
    """Leiden (Traag, Waltman & van Eck 2019). ``objective`` is ``CPM`` or ``modularity``.

    With CPM and weights that count shared objects, ``resolution`` is the
    least average weight per member pair a cluster must have.
    """
    if objective not in ("CPM", "modularity"):
        raise ConfigError(f"leiden: objective must be 'CPM' or 'modularity', got {objective!r}")
    result = graph.community_leiden(
        objective_function=objective,
        weights="weight",
        resolution=resolution,
        beta=beta,
        n_iterations=n_iterations,
    )
    return list(result.membership)


def louvain(graph: ig.Graph, *, resolution: float = 1.0, iterations: int = 1) -> list[int]:
    """Louvain multilevel modularity optimisation (Blondel et al. 2008).

    ``iterations: 1`` runs it once (igraph's ``community_multilevel``). More runs it again
    from its own partition, as Traag, Waltman & van Eck (2019) iterate it, up to
    ``iterations`` times or, with ``-1``, until the modularity stops improving. Each further
    run is leidenalg's optimiser without the refinement step (which is then exactly Louvain:
    move nodes, aggregate, repeat), started from the previous partition; Traag et al. report
    that badly connected and disconnected communities appear mostly in these iterations,
    when a node that held its community together moves out.
    """
    if iterations == 0 or iterations < -1:
        raise ConfigError(f"louvain: iterations must be >= 1 or -1, got {iterations}")
    first = graph.community_multilevel(weights="weight", resolution=resolution).membership
    if iterations == 1 or graph.ecount() == 0:
        return list(first)
    import leidenalg

    partition = leidenalg.RBConfigurationVertexPartition(
        graph, initial_membership=first, weights="weight", resolution_parameter=resolution
    )
    optimiser = leidenalg.Optimiser()
    optimiser.set_rng_seed(random.randrange(2**31))  # from the seeded source of detect()
    runs = 1
    while iterations == -1 or runs < iterations:
        before = partition.quality()
        _louvain_from(partition, optimiser)
        runs += 1
        if partition.quality() <= before + 1e-12 * max(abs(before), 1.0):
            break
    return list(partition.membership)


def _louvain_from(partition: Any, optimiser: Any) -> None:
    """One Louvain run in place, from the partition's current membership."""
    optimiser.move_nodes(partition)
    aggregate = partition.aggregate_partition()
    while optimiser.move_nodes(aggregate) > 0:
        partition.from_coarse_partition(aggregate)
        aggregate = aggregate.aggregate_partition()


def infomap(graph: ig.Graph, *, trials: int = 3) -> list[int]:
    """Infomap map-equation clustering (Rosvall & Bergstrom 2008)."""
    return list(graph.community_infomap(edge_weights="weight", trials=trials).membership)


def label_propagation(graph: ig.Graph) -> list[int]:
    """Label propagation (Raghavan, Albert & Kumara 2007)."""
    return list(graph.community_label_propagation(weights="weight").membership)


def components(graph: ig.Graph) -> list[int]:
    """Connected components (no parameters, no randomness)."""
    return list(graph.connected_components().membership)


#: Community detectors by name.
DETECTORS: dict[str, Detector] = {
    "leiden": leiden,
    "louvain": louvain,
    "infomap": infomap,
    "label_propagation": label_propagation,
    "components": components,
}


def detect(
    projection: Projection,
    method: str = "leiden",
    *,
    seed: int | None = 0,
    min_size: int = 2,
    **params: Any,
) -> Clustering:
    """Find communities in a projection.

    Parameters
    ----------
    projection
        The (filtered) account projection.
    method
        A key of :data:`DETECTORS`.
    seed
        Seed for the detector's randomness; the same seed gives the same clustering.
    min_size
        Communities smaller than this are not clusters (their accounts get ``-1``).
    **params
        Passed to the detector.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from research.graph.events import Labels
    >>> p = Projection(Labels(pa.array(list("abcdef"))), np.array([0, 0, 1, 3, 3, 4]),
    ...                np.array([1, 2, 2, 4, 5, 5]), np.ones(6), np.ones(6, int), {}, {})
    >>> detect(p, "leiden", objective="modularity", seed=1).membership.tolist()
    [0, 0, 0, 1, 1, 1]
    """
    try:
        detector = DETECTORS[method]
    except KeyError:
        raise unknown_name("community detector", method, list(DETECTORS)) from None
    # Detectors need only the weighted edges: names and other attributes are left out.
    started = time.perf_counter()
    nodes, src, dst = active_nodes(projection)
    graph = weighted_graph(len(nodes), src, dst, projection.weight)
    built = time.perf_counter()
    try:
        with seeded(seed):
            raw = detector(graph, **params) if graph.vcount() else []
    except TypeError as err:
        raise ConfigError(f"detector {method!r}: {err}") from None
    timings = {
        "graph": round(built - started, 4),
        "detector": round(time.perf_counter() - built, 4),
    }
    full = np.full(projection.n_accounts, -1, dtype=np.int64)
    full[nodes] = raw
    membership = canonical_membership(full, min_size=min_size)
    quality = graph.modularity(raw, weights="weight") if graph.ecount() else None
    return Clustering(
        accounts=projection.accounts,
        membership=membership,
        method=method,
        params=dict(params),
        seed=seed,
        quality=None if quality is None else float(quality),
        disconnected=count_disconnected(projection, membership),
        timings=timings,
    )


def count_disconnected(projection: Projection, membership: np.ndarray) -> int:
    """How many clusters are not connected through their own internal edges."""
    inside = (membership[projection.rows] == membership[projection.cols]) & (
        membership[projection.rows] >= 0
    )
    n = projection.n_accounts
    adjacency = sp.coo_matrix(
        (np.ones(int(inside.sum())), (projection.rows[inside], projection.cols[inside])),
        shape=(n, n),
    )
    _, component = connected_components(adjacency, directed=False)
    clustered = membership >= 0
    pairs = np.unique(np.column_stack([membership[clustered], component[clustered]]), axis=0)
    per_cluster = np.bincount(pairs[:, 0]) if len(pairs) else np.zeros(0, dtype=np.int64)
    return int(np.count_nonzero(per_cluster > 1))

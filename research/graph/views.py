"""igraph and networkx views of a projection, built at the edge of the library.

Graphs are built from the projection's edge arrays, never through networkx.
Only accounts with at least one edge become vertices; the vertex attribute
``index`` maps back to the account code.

python-igraph reads an edge list fastest as a list of pairs of Python ints
(~0.4 µs per edge here, against ~1.5 µs from an ``(m, 2)`` ndarray, which it
walks row by row), and it stores attributes as Python lists, so ``tolist()``
is the conversion it would make anyway.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from research._igraph import ig
from research.graph.base import Projection


def active_nodes(projection: Projection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Account codes that have edges (ascending), and the edge endpoints renumbered over them."""
    present = np.zeros(projection.n_accounts, dtype=bool)
    present[projection.rows] = True
    present[projection.cols] = True
    nodes = np.flatnonzero(present)
    position = np.cumsum(present, dtype=np.int64) - 1
    return nodes, position[projection.rows], position[projection.cols]


def weighted_graph(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> ig.Graph:
    """Undirected igraph graph on ``n`` vertices with edges ``src[k] -- dst[k]`` and attribute ``weight``.

    Examples
    --------
    >>> g = weighted_graph(3, np.array([0, 1]), np.array([1, 2]), np.array([1.0, 2.5]))
    >>> g.ecount(), g.es["weight"]
    (2, [1.0, 2.5])
    """
    graph = ig.Graph(n=n, edges=list(zip(src.tolist(), dst.tolist(), strict=True)), directed=False)
    graph.es["weight"] = np.asarray(weight, dtype=np.float64).tolist()
    return graph


def to_igraph(projection: Projection) -> ig.Graph:
    """Undirected weighted igraph graph over accounts with edges.

    Vertex attributes: ``name`` (account id), ``kind`` ("account"), ``index``
    (account code). Edge attributes: ``weight``, ``support``.

    Examples
    --------
    >>> from research.graph.events import Labels
    >>> import pyarrow as pa
    >>> p = Projection(Labels(pa.array(["a", "b", "c"])), np.array([0]), np.array([2]),
    ...                np.array([2.0]), np.array([2]), {}, {})
    >>> g = to_igraph(p)
    >>> g.vs["name"], g.es["weight"]
    (['a', 'c'], [2.0])
    """
    nodes, src, dst = active_nodes(projection)
    graph = weighted_graph(len(nodes), src, dst, projection.weight)
    graph.vs["name"] = projection.accounts.take(nodes)
    graph.vs["kind"] = ["account"] * len(nodes)
    graph.vs["index"] = nodes.tolist()
    graph.es["support"] = projection.support.tolist()
    return graph


def to_networkx(projection: Projection) -> Any:
    """networkx ``Graph`` with the same vertices and attributes as :func:`to_igraph` (for users;
    slow on large graphs)."""
    import networkx as nx

    nodes, src, dst = active_nodes(projection)
    names = projection.accounts.take(nodes)
    graph = nx.Graph()
    graph.add_nodes_from(
        (name, {"kind": "account", "index": int(i)}) for name, i in zip(names, nodes, strict=True)
    )
    graph.add_edges_from(
        (names[s], names[d], {"weight": float(w), "support": int(k)})
        for s, d, w, k in zip(src, dst, projection.weight, projection.support, strict=True)
    )
    return graph

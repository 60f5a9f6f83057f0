"""igraph and networkx views of a projection, built at the edge of the library.

Graphs are built from arrays (``Graph(n, edges)``), never from Python tuples
or through networkx. Only accounts with at least one edge become vertices;
the vertex attribute ``index`` maps back to the account code.
"""

from __future__ import annotations

from typing import Any

import igraph as ig
import numpy as np

from research.graph.projection import Projection


def active_nodes(projection: Projection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Account codes that have edges, and the edge endpoints renumbered over them."""
    nodes = np.union1d(projection.rows, projection.cols)
    return nodes, np.searchsorted(nodes, projection.rows), np.searchsorted(nodes, projection.cols)


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
    graph = ig.Graph(n=len(nodes), edges=np.column_stack([src, dst]) if len(src) else [], directed=False)
    graph.vs["name"] = projection.accounts.take(nodes)
    graph.vs["kind"] = ["account"] * len(nodes)
    graph.vs["index"] = nodes.tolist()
    graph.es["weight"] = projection.weight.tolist()
    graph.es["support"] = projection.support.tolist()
    return graph


def to_networkx(projection: Projection) -> Any:
    """networkx ``Graph`` with the same vertices and attributes as :func:`to_igraph` (for users;
    slow on large graphs)."""
    import networkx as nx

    nodes, src, dst = active_nodes(projection)
    names = projection.accounts.take(nodes)
    graph = nx.Graph()
    graph.add_nodes_from((name, {"kind": "account", "index": int(i)}) for name, i in zip(names, nodes, strict=True))
    graph.add_edges_from(
        (names[s], names[d], {"weight": float(w), "support": int(k)})
        for s, d, w, k in zip(src, dst, projection.weight, projection.support, strict=True)
    )
    return graph

"""FRAUDAR (Hooi et al. 2016): camouflage-resistant greedy peeling of dense bipartite blocks.

Citation: B. Hooi, H. A. Song, A. Beutel, N. Shah, K. Shin and C. Faloutsos,
"FRAUDAR: Bounding Graph Fraud in the Face of Camouflage", KDD 2016.

Bipartite graph: accounts x (app, URL) objects (an edge when the account
posted the URL through the app). Each edge into column ``j`` weighs
``1 / log(d_j + 5)`` (``d_j`` the column's degree), the paper's column
weighting: edges into popular objects count less, so an attacker who adds
camouflage edges to popular objects cannot hide a dense block behind them.
The density of a node set ``S`` (rows and columns) is
``g(S) = f(S) / |S|``, ``f`` the total weight of edges inside ``S``.

Greedy peeling: starting from all nodes, repeatedly remove the node whose
edges to the remaining nodes weigh least (a priority queue with lazy
updates), and return the remaining set of highest ``g`` seen on the way;
this is within a factor 2 of the optimum (the paper's Theorem 2). For ``k``
blocks, the found block's edges are removed and peeling starts again (the
paper's ``detect_blocks``).

**Decision rule:** FRAUDAR returns the ``k`` densest blocks and each is
reported as fraud; here every block with at least ``min_size`` accounts is
flagged (``k = 5`` by default; the paper leaves ``k`` to the analyst), scored
by its density ``g``. An account found in several blocks keeps the first.
"""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

from research.baselines.common import Found, Verdict, baseline
from research.detect.clustering import Clustering, first_group_wins
from research.graph.codes import distinct_pairs
from research.graph.events import Events
from research.graph.projection import actions
from research.pipeline import StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class Block:
    """A dense block: row (account) and column (object) indices and its density ``g``."""

    rows: np.ndarray
    cols: np.ndarray
    density: float


def column_weights(matrix: sp.csr_matrix, constant: float = 5.0) -> np.ndarray:
    """FRAUDAR's camouflage-resistant column weights ``1 / log(degree + constant)``."""
    degree = np.asarray((matrix != 0).sum(axis=0)).ravel().astype(np.float64)
    return 1.0 / np.log(degree + constant)


def densest_block(matrix: sp.csr_matrix, *, constant: float = 5.0) -> Block:
    """The densest block of a 0/1 bipartite matrix by greedy peeling (see module docstring).

    Examples
    --------
    >>> m = np.zeros((6, 6)); m[:3, :3] = 1; m[3, 4] = m[4, 5] = m[5, 3] = 1
    >>> block = densest_block(sp.csr_matrix(m))
    >>> block.rows.tolist(), block.cols.tolist()
    ([0, 1, 2], [0, 1, 2])
    """
    binary = sp.csr_matrix((matrix != 0).astype(np.float64))
    binary.eliminate_zeros()
    n_rows, n_cols = binary.shape
    if binary.nnz == 0:
        return Block(np.zeros(0, np.int64), np.zeros(0, np.int64), 0.0)
    weighted = sp.csr_matrix(binary.multiply(column_weights(binary, constant)[None, :]))
    # One adjacency over rows 0..n_rows-1 and columns n_rows..n_rows+n_cols-1.
    coo = weighted.tocoo()
    src = np.concatenate([coo.row, coo.col + n_rows])
    dst = np.concatenate([coo.col + n_rows, coo.row])
    wgt = np.concatenate([coo.data, coo.data])
    adjacency = sp.csr_matrix((wgt, (src, dst)), shape=(n_rows + n_cols, n_rows + n_cols))
    priority = np.asarray(adjacency.sum(axis=1)).ravel()
    alive = priority > 0
    nodes = np.flatnonzero(alive)
    order, best_step, best = _peel(adjacency, priority, nodes)
    remaining = np.ones(n_rows + n_cols, dtype=bool)
    remaining[~alive] = False
    remaining[np.asarray(order[:best_step], dtype=np.int64)] = False
    chosen = np.flatnonzero(remaining)
    return Block(chosen[chosen < n_rows], chosen[chosen >= n_rows] - n_rows, best)


def _peel(
    adjacency: sp.csr_matrix, priority: np.ndarray, nodes: np.ndarray
) -> tuple[list[int], int, float]:
    """Remove nodes by least remaining weighted degree; return the removal order, the step
    after which density peaked, and that density."""
    indptr, indices, data = (
        adjacency.indptr.tolist(),
        adjacency.indices.tolist(),
        adjacency.data.tolist(),
    )
    pri = priority.tolist()
    removed = [False] * len(pri)
    heap = [(pri[v], v) for v in nodes.tolist()]
    heapq.heapify(heap)
    total = float(priority[nodes].sum()) / 2.0
    size = len(nodes)
    best, best_step = total / size, 0
    order: list[int] = []
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        p, v = pop(heap)
        if removed[v] or p != pri[v]:
            continue  # a stale entry: the node was updated (or removed) since it was pushed
        removed[v] = True
        order.append(v)
        total -= pri[v]
        size -= 1
        for k in range(indptr[v], indptr[v + 1]):
            u = indices[k]
            if not removed[u]:
                pri[u] -= data[k]
                push(heap, (pri[u], u))
        if size > 0:
            density = total / size
            if density > best:
                best, best_step = density, len(order)
    return order, best_step, best


def detect_blocks(matrix: sp.csr_matrix, k: int = 5, *, constant: float = 5.0) -> list[Block]:
    """The ``k`` densest blocks, each found after removing the edges of the previous ones.

    Examples
    --------
    >>> m = np.zeros((9, 9)); m[:4, :4] = 1; m[5:8, 5:8] = 1; m[4, 8] = 1
    >>> [b.rows.tolist() for b in detect_blocks(sp.csr_matrix(m), k=2)]
    [[0, 1, 2, 3], [5, 6, 7]]
    """
    current = sp.csr_matrix((matrix != 0).astype(np.float64))
    blocks = []
    for _ in range(k):
        if current.nnz == 0:
            break
        block = densest_block(current, constant=constant)
        if len(block.rows) == 0:
            break
        blocks.append(block)
        coo = current.tocoo()
        inside = np.isin(coo.row, block.rows) & np.isin(coo.col, block.cols)
        current = sp.csr_matrix(
            (coo.data[~inside], (coo.row[~inside], coo.col[~inside])), shape=current.shape
        )
    return blocks


@dataclass(frozen=True)
class FraudarParams:
    """Parameters (column weighting constant 5 is the paper's; ``k`` is left to the analyst
    there, 5 is ours; the objects are our choice of bipartite graph)."""

    objects: str = "app_url"
    k: int = 5
    min_size: int = 2
    constant: float = 5.0
    describe: bool = True


#: How many blocks to peel (the paper leaves k to the analyst) and which bipartite graph.
TUNING = {
    "objects": ("app_url", "url", "app_domain", "domain"),
    "k": (1, 5, 10, 20),
}


@baseline("fraudar", FraudarParams, stages=("projection", "detect"), tuning=TUNING)
def fraudar(
    posts: Posts, events: Events, p: FraudarParams, *, seed: int | None, timer: StageTimer
) -> Found:
    """Run FRAUDAR on accounts x (app, URL) (see module docstring; deterministic, ``seed`` unused).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> fraudar(sim.posts, {"describe": False, "k": 2}).method
    'fraudar'
    """
    with timer.stage("projection"):
        acts = actions(events, p.objects)
        acc, obj, _n = distinct_pairs(acts.account, acts.obj, acts.n_objects)
        matrix = sp.csr_matrix(
            (np.ones(len(acc)), (acc, obj)), shape=(events.n_accounts, max(acts.n_objects, 1))
        )
    with timer.stage("detect"):
        blocks = detect_blocks(matrix, p.k, constant=p.constant)
        # Each canonical cluster keeps its block, for the block's density and size.
        membership, block_of = first_group_wins(
            events.n_accounts, [block.rows for block in blocks], min_size=p.min_size
        )
    clustering = Clustering(events.accounts, membership, "fraudar", asdict(p), seed, None, 0)
    n = clustering.n_clusters
    density = np.array([blocks[b].density for b in block_of]) if n else np.zeros(0)
    n_objects = np.array([len(blocks[b].cols) for b in block_of]) if n else np.zeros(0, np.int64)
    reasons = [
        f"dense block #{b + 1} of {p.k} by greedy peeling (density {d:.2f}, {o} objects)"
        for b, d, o in zip(block_of, density, n_objects, strict=True)
    ]
    verdict = Verdict(
        score=density,
        flagged=np.ones(n, dtype=bool),
        reasons=reasons,
        columns={"block_density": density, "block_objects": n_objects},
    )
    stats = {
        "n_edges": int(matrix.nnz),
        "blocks": [
            {"rows": len(b.rows), "cols": len(b.cols), "density": b.density} for b in blocks
        ],
    }
    return Found(clustering, verdict, stats=stats)

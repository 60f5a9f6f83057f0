"""The ``buckets`` projection engine (the default): co-action in staggered time buckets.

Two accounts are linked when they act on the same object (a URL, a domain,
an app, or a joint (app, URL) pair) — optionally within the same time
window. The projection is a sparse product ``B @ B.T`` of an account x
(windowed) object incidence ``B``; it never materialises a dense matrix.

Why windows: a link shared by two accounts weeks apart says little; the same
link pushed through the same app by both within minutes, again and again, is
coordination. Windows are buckets of ``window_s`` seconds taken at ``offsets``
staggered origins (default two, half a window apart), and a pair's support is
the largest count over the staggerings, so that a burst straddling a bucket
edge is not split (a single bucketing lost 15% of recall in our measurements).

Why caps: an object shared by ``d`` accounts yields ``d (d - 1) / 2`` pairs.
The exact number of pair products is computed from object degrees before
anything is materialised and compared with ``pair_budget``; objects whose
(windowed) degree exceeds ``cap`` carry little information per pair (a viral
link, a popular client in a busy minute) and are dropped.

Weightings: ``count`` (shared windowed objects), ``idf`` (each shared object
weighted by ``log(N / df)``, ``df`` its number of distinct accounts over the
whole data: popular objects count less), ``jaccard``, ``overlap`` and
``tfidf_cosine`` (Pacheco et al. 2021: cosine of TF-IDF account vectors, with
scikit-learn's smooth idf ``log((1 + N) / (1 + df)) + 1``).

How it is computed (the cost is the number of pair products, so every step
avoids making one it does not need): actions are put in (object, time) order
by a counting sort, and each bucketing only marks where its windows change;
the product is upper-triangular, computed one block of accounts at a time
against the accounts after the block (half the products of ``B @ B.T``), on
two threads (scipy releases the GIL); for ``idf`` one complex product gives
the support (real part) and the weight (imaginary part) with the summation
order of two real products; :func:`multiplex` sums the layers and applies the
per-edge filters and an edge budget to each block before the next, so that
memory follows the edges kept. Results are bit-identical to a whole
``B @ B.T`` whatever the blocks and threads.
"""

from __future__ import annotations

import os
import time as _time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from research.errors import BudgetError, ConfigError
from research.graph.base import Actions, Projection, ProjectionSpec, actions
from research.graph.codes import edge_budget_cut, group_sizes, stable_group
from research.graph.events import Events


def pair_products(degrees: np.ndarray) -> int:
    """Exact number of account pairs an incidence with these object degrees yields."""
    d = degrees.astype(np.float64)
    return int(np.sum(d * (d - 1) / 2))


def bucket_projection(
    events: Events, spec: ProjectionSpec, *, threads: int | None = None
) -> Projection:
    """Project accounts x objects onto accounts in staggered time buckets (engine ``buckets``).

    Parameters
    ----------
    events
        Encoded posts (:func:`research.graph.events.encode`).
    spec
        What to pair accounts on, and how (:class:`~research.graph.base.ProjectionSpec`).
    threads
        Threads for the sparse products (default: all cores, at most 2; the
        result does not depend on it).

    Returns
    -------
    Projection
        Upper-triangular weighted edges with their support.

    Examples
    --------
    Two posts 10 s apart on either side of a bucket edge (buckets start at the first post):
    one bucketing splits them, a second one staggered by half a window pairs them.

    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t0 = dt.datetime(2014, 5, 1, 12)
    >>> events = encode(Posts.from_records([
    ...     {"post_id": str(i), "account_id": a, "timestamp": t0 + dt.timedelta(seconds=s), "urls": [u]}
    ...     for i, (a, s, u) in enumerate([("z", 0, "http://o.com"), ("a", 55, "http://u.com"),
    ...                                    ("b", 65, "http://u.com")])]))
    >>> [bucket_projection(events, ProjectionSpec("url", window_s=60, offsets=k)).n_edges for k in (1, 2)]
    [0, 1]
    """
    started = _time.perf_counter()
    layer = _prepare_layer(events, spec)
    _warn([layer])
    rows, cols, weight, support, counts, _cut = _project_blocks(
        [layer], [1.0], events.n_accounts, None, None, threads
    )
    layer.stats.update(n_edges=counts[0], seconds=round(_time.perf_counter() - started, 4))
    return Projection(
        accounts=events.accounts,
        rows=rows,
        cols=cols,
        weight=weight,
        support=support,
        params={"kind": "co_action", **spec.__dict__},
        stats=layer.stats,
    )


def multiplex(
    events: Events,
    specs: Sequence[ProjectionSpec],
    weights: Sequence[float] | None = None,
    *,
    min_weight: float | None = None,
    min_support: int | None = None,
    max_edges: int | None = None,
    threads: int | None = None,
) -> Projection:
    """Several co-action layers summed into one graph, filtered while it is built.

    The result equals ``max_edges(min_support(min_weight(combine([bucket_projection(events,
    s) for s in specs], weights))))`` (see :mod:`research.graph.filters` and
    :func:`research.graph.projection.combine`) edge for edge, but the layers are projected together one block of accounts at a time
    and each block is filtered before the next is computed, so that memory
    follows the edges kept, not the pairs formed. With ``max_edges`` the blocks
    share a running weight cut that only rises; the final cut is exact.

    Parameters
    ----------
    events
        Encoded posts.
    specs
        One :class:`ProjectionSpec` per layer.
    weights
        Weight of each layer in the sum (default 1 each).
    min_weight, min_support
        Keep only edges whose summed weight (support) reaches this value.
    max_edges
        Then keep at most this many edges, the heaviest (ties at the boundary
        are dropped together).
    threads
        Threads for the sparse products (the result does not depend on it).

    Returns
    -------
    Projection
        ``stats["n_edges_unfiltered"]`` holds the number of edges before the
        filter; ``stats["layers"]`` each layer's stats.

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1, 12)
    >>> ev = encode(Posts.from_records([
    ...     {"post_id": str(i), "account_id": a, "timestamp": t + dt.timedelta(seconds=s), "app_name": "X",
    ...      "urls": [u], "domains": ["d.com"]}
    ...     for i, (a, s, u) in enumerate([("a", 0, "http://d.com/1"), ("b", 9, "http://d.com/2"), ("c", 5, "http://d.com/1")])]))
    >>> both = multiplex(ev, [ProjectionSpec("app_domain"), ProjectionSpec("app_url")], min_support=2)
    >>> [(both.accounts[i], both.accounts[j]) for i, j in zip(both.rows, both.cols)], both.support.tolist()
    ([('a', 'c')], [2])
    """
    if not specs:
        raise ConfigError("multiplex() needs at least one projection layer")
    weights = list(weights) if weights is not None else [1.0] * len(specs)
    if len(weights) != len(specs):
        raise ConfigError(f"multiplex(): {len(specs)} layers but {len(weights)} layer weights")
    started = _time.perf_counter()
    workers = threads if threads is not None else min(2, os.cpu_count() or 1)
    if workers > 1 and len(specs) > 1:
        # Layers are independent; their sorts and sparse conversions release the GIL.
        with ThreadPoolExecutor(min(workers, len(specs))) as pool:
            layers = list(pool.map(lambda spec: _prepare_layer(events, spec), specs))
    else:
        layers = [_prepare_layer(events, spec) for spec in specs]
    _warn(layers)
    prepared = _time.perf_counter()
    rows, cols, weight, support, counts, cut = _project_blocks(
        layers, weights, events.n_accounts, min_weight, min_support, threads, max_edges
    )
    for layer, n_edges in zip(layers, counts[:-1], strict=True):
        layer.stats["n_edges"] = n_edges
    return Projection(
        accounts=events.accounts,
        rows=rows,
        cols=cols,
        weight=weight,
        support=support,
        params={
            "kind": "multiplex",
            "layers": [{"kind": "co_action", **s.__dict__} for s in specs],
            "layer_weights": weights,
        },
        stats={
            "layers": [layer.stats for layer in layers],
            "n_edges_unfiltered": counts[-1],
            "min_weight": min_weight,
            "min_support": min_support,
            "max_edges": max_edges,
            "max_edges_cut": cut,
            "seconds_incidence": round(prepared - started, 4),
            "seconds": round(_time.perf_counter() - started, 4),
        },
    )


def _warn(layers: list[_Layer]) -> None:
    for layer in layers:
        if "warning" in layer.stats:
            warnings.warn(layer.stats["warning"], RuntimeWarning, stacklevel=3)


# --- incidence --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Incidence:
    by_object: (
        sp.csr_matrix
    )  # windowed objects x accounts, canonical; data = actions behind each entry
    base: np.ndarray  # base object code of each windowed object

    @property
    def degree(self) -> np.ndarray:
        """Distinct accounts per windowed object."""
        return np.diff(self.by_object.indptr)


def _incidences(
    acts: Actions, window_s: float | None, shifts: list[int | None]
) -> list[_Incidence]:
    """One account incidence of windowed objects per bucketing.

    Windowed objects are numbered in (object, bucket) order. Actions are put in
    (object, time) order once, with a counting sort by object of the
    time-ordered actions; each bucketing then only marks where its buckets change.
    """
    n_acc = acts.n_accounts
    if window_s is None or not len(acts.account):
        return [
            _incidence(
                acts.obj,
                acts.account,
                np.arange(acts.n_objects, dtype=np.int64),
                acts.n_objects,
                n_acc,
            )
        ]
    time = acts.time
    by_time = None if bool(np.all(time[1:] >= time[:-1])) else np.argsort(time, kind="stable")
    obj = acts.obj if by_time is None else acts.obj[by_time]
    _indptr, order = stable_group(obj, acts.n_objects)
    if by_time is not None:
        order = by_time[order]
    obj, time, account = acts.obj[order], time[order], acts.account[order]
    t0 = int(acts.time.min())
    same_object = obj[1:] == obj[:-1]
    out = []
    for shift in shifts:
        bucket = (time - t0 + int(shift or 0)) // int(window_s)
        new = np.empty(len(obj), dtype=bool)
        new[0] = True
        np.not_equal(bucket[1:], bucket[:-1], out=new[1:])
        new[1:] |= ~same_object
        key = np.cumsum(new, dtype=np.int64) - 1
        base = obj[new].astype(np.int64)
        out.append(_incidence(key, account, base, len(base), n_acc))
    return out


def _incidence(
    key: np.ndarray, account: np.ndarray, base: np.ndarray, n_keys: int, n_accounts: int
) -> _Incidence:
    index = np.int32 if max(n_keys, n_accounts, len(key)) < 2**31 - 1 else np.int64
    matrix = sp.coo_matrix(
        (
            np.ones(len(key), dtype=np.int32),
            (np.asarray(key, dtype=index), np.asarray(account, dtype=index)),
        ),
        shape=(n_keys, n_accounts),
    ).tocsr()  # sums duplicates: data = actions per (windowed object, account)
    matrix.sum_duplicates()
    return _Incidence(by_object=matrix, base=base)


def _document_frequency(inc: _Incidence, n_objects: int, n_accounts: int) -> np.ndarray:
    """Distinct accounts per base object (over all windows)."""
    m = inc.by_object
    obj = np.repeat(inc.base, np.diff(m.indptr))
    pairs = sp.coo_matrix(
        (np.ones(len(obj), dtype=np.int8), (obj, m.indices)), shape=(n_objects, max(n_accounts, 1))
    ).tocsr()
    pairs.sum_duplicates()
    return np.diff(pairs.indptr)


def _cap_within_budget(
    degrees: np.ndarray, spec: ProjectionSpec, stats: dict[str, Any]
) -> int | None:
    cap = spec.cap
    usable = degrees[degrees >= 2]
    kept = usable if cap is None else usable[usable <= cap]
    products = pair_products(kept)
    stats.update(pair_products_uncapped=pair_products(usable), pair_products=products, cap=cap)
    if products <= spec.pair_budget:
        stats["dropped_popular_objects"] = int(len(usable) - len(kept))
        return cap
    if spec.on_budget == "refuse":
        raise BudgetError(
            f"projection on {spec.objects!r} would form {products:.3g} account-pair products, over "
            f"pair_budget={spec.pair_budget:.3g}; lower projection.cap (now {cap}) or "
            f"projection.window_s (now {spec.window_s}), or raise projection.pair_budget"
        )
    ordered = np.sort(usable)
    cumulative = np.cumsum(ordered.astype(np.float64) * (ordered - 1) / 2)
    fits = ordered[cumulative <= spec.pair_budget]
    new_cap = int(fits[-1]) if len(fits) else 2
    if new_cap < 2:
        new_cap = 2
    stats["warning"] = (
        f"projection on {spec.objects!r}: {products:.3g} pair products exceed pair_budget="
        f"{spec.pair_budget:.3g}; lowering cap from {cap} to {new_cap} (objects shared by more accounts "
        f"in one window are dropped); raise projection.pair_budget or narrow projection.window_s to keep them"
    )
    stats.update(
        cap=new_cap, cap_lowered_from=cap, pair_products=pair_products(usable[usable <= new_cap])
    )
    stats["dropped_popular_objects"] = int(np.count_nonzero(usable > new_cap))
    return new_cap


# --- products ---------------------------------------------------------------------------


@dataclass
class _Layer:
    """The operands of one layer: per bucketing, ``left @ right`` gives its co-actions."""

    weighting: str
    lefts: list[sp.csr_matrix]  # accounts x kept windowed objects (complex 1 + i*idf for idf)
    rights: list[sp.csr_matrix]  # kept windowed objects x accounts, binary
    unit_lefts: list[sp.csr_matrix]  # tfidf_cosine: L2-normalised rows, and their transposes
    unit_rights: list[sp.csr_matrix]
    totals: (
        np.ndarray
    )  # distinct windowed objects per account (first bucketing), for jaccard/overlap
    stats: dict[str, Any]


def _prepare_layer(events: Events, spec: ProjectionSpec) -> _Layer:
    acts = actions(events, spec.objects)
    stats: dict[str, Any] = {
        "objects": spec.objects,
        "n_actions": len(acts.account),
        "n_objects": acts.n_objects,
    }
    if spec.window_s is None:
        shifts: list[int | None] = [None]
    else:
        shifts = [round(k * spec.window_s / spec.offsets) for k in range(spec.offsets)]
    incidences = _incidences(acts, spec.window_s, shifts)
    degrees = np.concatenate([inc.degree for inc in incidences])
    cap = _cap_within_budget(degrees, spec, stats)
    n_acc = acts.n_accounts
    df = _document_frequency(incidences[0], acts.n_objects, n_acc)
    n_active = max(int(np.count_nonzero(group_sizes(acts.account, n_acc))), 1)
    layer = _Layer(
        spec.weighting,
        [],
        [],
        [],
        [],
        group_sizes(incidences[0].by_object.indices, n_acc).astype(np.float64),
        stats,
    )
    for inc in incidences:
        degree = inc.degree
        keep = degree >= 2
        if cap is not None:
            keep &= degree <= cap
        kept = inc.by_object[np.flatnonzero(keep)]
        kept_base = inc.base[keep]
        right = sp.csr_matrix((np.ones(kept.nnz), kept.indices, kept.indptr), shape=kept.shape)
        if spec.weighting == "idf":
            idf = np.log(n_active / np.maximum(df[kept_base], 1))
            # One complex product gives both the support (real part) and the idf weight
            # (imaginary part), with the same summation order as two real products.
            values = 1.0 + 1j * np.repeat(idf, np.diff(kept.indptr))
            left = sp.csr_matrix((values, kept.indices, kept.indptr), shape=kept.shape).T.tocsr()
        else:
            left = right.T.tocsr()
        if spec.weighting == "tfidf_cosine":
            # tf = actions per (account, object), smooth idf as in scikit-learn's TfidfVectorizer
            # (which Pacheco et al. used), rows L2-normalised.
            smooth = np.log((1 + n_active) / (1 + df[kept_base])) + 1.0
            tfidf = sp.csr_matrix(
                (kept.data * np.repeat(smooth, np.diff(kept.indptr)), kept.indices, kept.indptr),
                shape=kept.shape,
            ).T.tocsr()
            norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel())
            unit = (
                sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ tfidf
            ).tocsr()
            layer.unit_lefts.append(unit)
            layer.unit_rights.append(unit.T.tocsr())
        layer.lefts.append(left)
        layer.rights.append(right)
    return layer


_BLOCK_PRODUCTS = 1.6e7  # pair products per block of accounts: bounds the memory of one block
_CUT_SLACK = 1_000_000  # with max_edges, edges held beyond 2 * max_edges before the cut is raised


def _project_blocks(
    layers: list[_Layer],
    weights: list[float],
    n_accounts: int,
    min_weight: float | None,
    min_support: int | None,
    threads: int | None,
    max_edges: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[int], float | None]:
    """Upper-triangular edges of the weighted layer sum, filtered block by block.

    Returns rows, cols, weight, support, the edge counts of each layer and of the
    (unfiltered) sum, and the weight cut of ``max_edges`` (``None`` if all fit).
    """
    work = np.zeros(n_accounts)
    for layer in layers:
        for right in layer.rights:
            if right.nnz:
                work += right.T @ np.diff(right.indptr).astype(np.float64)
    cumulative = np.cumsum(work)
    total = float(cumulative[-1]) if n_accounts else 0.0
    n_blocks = max(1, int(np.ceil(total / _BLOCK_PRODUCTS)))
    bounds = np.unique(
        np.concatenate(
            [
                [0],
                np.searchsorted(cumulative, np.linspace(0, total, n_blocks + 1)[1:-1]),
                [n_accounts],
            ]
        )
    )
    blocks = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
    # Edges must weigh more than cut[0] to be kept; with max_edges it rises as blocks come in
    # (every edge it drops is lighter than the final cut, so the result is exact).
    cut = [-np.inf]

    def run(block: tuple[int, int]) -> list[np.ndarray]:
        return _block(
            layers, weights, n_accounts, block[0], block[1], min_weight, min_support, cut[0]
        )

    parts: list[list[np.ndarray]] = []
    kept = 0

    def collect(part: list[np.ndarray]) -> None:
        nonlocal kept
        parts.append(part)
        kept += len(part[0])
        if max_edges is not None and kept > 2 * max_edges + _CUT_SLACK:
            kept = _tighten(parts, max_edges, cut)

    workers = threads if threads is not None else min(2, os.cpu_count() or 1)
    if workers > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(workers) as pool:
            for part in pool.map(run, blocks):  # map keeps block order: the result is deterministic
                collect(part)
    else:
        for block in blocks:
            collect(run(block))
    final_cut = None
    if max_edges is not None:
        _tighten(parts, max_edges, cut)
        final_cut = None if cut[0] == -np.inf else float(cut[0])
    counts = [int(sum(int(p[4][k]) for p in parts)) for k in range(len(layers) + 1)]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0, dtype=np.int32), counts, final_cut
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        np.concatenate([p[3] for p in parts]),
        counts,
        final_cut,
    )


def _tighten(parts: list[list[np.ndarray]], max_edges: int, cut: list[float]) -> int:
    """Raise the weight cut so that at most ``max_edges`` of the edges so far pass it; prune."""
    weights = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    new_cut = edge_budget_cut(weights, max_edges)
    if new_cut is not None and new_cut > cut[0]:
        cut[0] = new_cut
    kept = 0
    for part in parts:
        keep = part[2] > cut[0]
        if not keep.all():
            part[:4] = [a[keep] for a in part[:4]]
        kept += len(part[0])
    return kept


def _columns_from(right: sp.csr_matrix, start: int) -> sp.csr_matrix:
    """``right`` restricted to accounts ``>= start`` (columns renumbered from 0)."""
    if start == 0:
        return right
    keep = right.indices >= start
    indptr = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])[right.indptr]
    return sp.csr_matrix(
        (right.data[keep], right.indices[keep] - start, indptr),
        shape=(right.shape[0], right.shape[1] - start),
    )


def _upper_part(product: sp.csr_matrix) -> sp.csr_matrix:
    """Entries strictly right of the diagonal of a block whose row ``r`` is column ``r``.

    Rows are left unsorted: sorting every product (the largest cost here) is
    deferred to the kept edges of a block.
    """
    row = np.repeat(
        np.arange(product.shape[0], dtype=product.indices.dtype), np.diff(product.indptr)
    )
    keep = product.indices > row
    indptr = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])[product.indptr]
    return sp.csr_matrix((product.data[keep], product.indices[keep], indptr), shape=product.shape)


def _keys(matrix: sp.csr_matrix) -> np.ndarray:
    row = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return row * matrix.shape[1] + matrix.indices


def _aligned(values: sp.csr_matrix, structure: sp.csr_matrix) -> np.ndarray:
    """The entries of ``values`` at the entries of ``structure`` (zero where absent), in the
    order of ``structure``; the entries of ``values`` are a subset of those of ``structure``.

    Both come from the same sparse operations on the same patterns, so their
    entries normally coincide one for one; only exact zeros (dropped from
    ``values``) make them differ, and then both are sorted to be matched.
    """
    if (
        values.nnz == structure.nnz
        and np.array_equal(values.indptr, structure.indptr)
        and np.array_equal(values.indices, structure.indices)
    ):
        return values.data
    structure.sort_indices()
    values.sort_indices()
    out = np.zeros(structure.nnz, dtype=values.dtype)
    out[np.searchsorted(_keys(structure), _keys(values))] = values.data
    return out


def _block(
    layers: list[_Layer],
    weights: list[float],
    n_accounts: int,
    start: int,
    stop: int,
    min_weight: float | None,
    min_support: int | None,
    above: float = -np.inf,
) -> list[np.ndarray]:
    shape = (stop - start, n_accounts - start)
    support_sum: sp.csr_matrix | None = None
    weight_sum: sp.csr_matrix | None = None
    counts = []
    for layer, layer_weight in zip(layers, weights, strict=True):
        support: sp.csr_matrix | None = None
        weight: sp.csr_matrix | None = None
        for k, (left, right) in enumerate(zip(layer.lefts, layer.rights, strict=True)):
            product = _upper_part(left[start:stop] @ _columns_from(right, start))
            if layer.weighting == "idf":
                s_k = sp.csr_matrix(
                    (product.data.real.copy(), product.indices, product.indptr), shape=shape
                )
                w_k = sp.csr_matrix(
                    (product.data.imag.copy(), product.indices, product.indptr), shape=shape
                )
            elif layer.weighting == "tfidf_cosine":
                s_k = product
                w_k = _upper_part(
                    layer.unit_lefts[k][start:stop] @ _columns_from(layer.unit_rights[k], start)
                )
            else:
                s_k = w_k = product
            # A pair's support and weight are each the largest over the staggered bucketings.
            support = s_k if support is None else support.maximum(s_k)
            weight = w_k if weight is None else weight.maximum(w_k)
        assert support is not None and weight is not None
        if layer.weighting in ("count", "jaccard", "overlap"):
            sup = support.data
            wgt = sup.astype(np.float64)
            if layer.weighting != "count":
                rows = start + np.repeat(np.arange(shape[0]), np.diff(support.indptr))
                a, b = layer.totals[rows], layer.totals[start + support.indices]
                denom = a + b - sup if layer.weighting == "jaccard" else np.minimum(a, b)
                wgt = sup / np.maximum(denom, 1)
        else:
            wgt = _aligned(weight, support).astype(np.float64)
            sup = support.data
        counts.append(support.nnz)
        if len(layers) == 1 and layer_weight == 1.0:
            support_sum = support
            weight_sum = sp.csr_matrix((wgt, support.indices, support.indptr), shape=shape)
            break
        layer_support = sp.csr_matrix((sup, support.indices, support.indptr), shape=shape)
        layer_weight_m = sp.csr_matrix(
            (wgt * layer_weight, support.indices, support.indptr), shape=shape
        )
        support_sum = layer_support if support_sum is None else support_sum + layer_support
        weight_sum = layer_weight_m if weight_sum is None else weight_sum + layer_weight_m
    assert support_sum is not None and weight_sum is not None
    wgt = _aligned(weight_sum, support_sum)
    sup = support_sum.data
    counts.append(support_sum.nnz)
    keep = np.ones(len(sup), dtype=bool)
    if min_weight is not None:
        keep &= wgt >= min_weight
    if min_support is not None:
        keep &= sup >= min_support
    if above > -np.inf:
        keep &= wgt > above
    # Sort the kept entries by (row, column): a per-row sort of a CSR whose data are positions.
    indptr = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])[support_sum.indptr]
    kept = sp.csr_matrix(
        (np.flatnonzero(keep).astype(np.float64), support_sum.indices[keep], indptr), shape=shape
    )
    kept.has_sorted_indices = False
    kept.sort_indices()
    order = kept.data.astype(np.int64)
    rows = start + np.repeat(np.arange(shape[0], dtype=np.int64), np.diff(kept.indptr))
    cols = start + kept.indices.astype(np.int64)
    return [
        rows,
        cols,
        wgt[order].astype(np.float64),
        sup[order].astype(np.int32),
        np.asarray(counts),
    ]

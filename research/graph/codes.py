"""Array helpers of the projections: grouping on integer keys (the hot path of every
projection), and the weight cut of an edge budget.

Keys whose range is small next to their number are grouped with a counting pass
(``bincount``); keys with few distinct values with a hash table
(``pandas.factorize``), sorting only the distinct keys; the rest by sorting.
``np.unique`` on int64 took a hash path in numpy 2.x that measured ~0.8 M keys/s
here, a full ``argsort`` of 4 M keys ~0.9 s, hashing them ~0.3 s when few are
distinct (but ~1 s when all are). The results are exactly those of a sort.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

# A counting pass over the key range costs about as much as hashing when the range
# is this many times the number of keys.
_DENSE_RANGE = 4


def _small_range(keys: np.ndarray) -> tuple[int, int] | None:
    """``(lowest key, range)`` when the keys are integers in a range worth counting over."""
    if keys.dtype.kind not in "iu" or len(keys) == 0:
        return None
    lo, hi = int(keys.min()), int(keys.max())
    span = hi - lo + 1
    return (lo, span) if span <= _DENSE_RANGE * len(keys) + 1024 else None


def dense_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and, for each input key, its index among them.

    Examples
    --------
    >>> uniq, inverse = dense_codes(np.array([30, 10, 30, 20]))
    >>> uniq.tolist(), inverse.tolist()
    ([10, 20, 30], [2, 0, 2, 1])
    """
    keys = np.asarray(keys)
    if len(keys) == 0:
        return keys.copy(), np.zeros(0, dtype=np.int64)
    small = _small_range(keys)
    if small is not None:
        lo, span = small
        shifted = keys.astype(np.int64) - lo if lo else keys.astype(np.int64, copy=False)
        present = np.zeros(span, dtype=bool)
        present[shifted] = True
        rank = np.cumsum(present, dtype=np.int64) - 1
        return (np.flatnonzero(present) + lo).astype(keys.dtype), rank[shifted]
    if _few_distinct(keys):
        codes, uniq = pd.factorize(keys, sort=True)
        return np.asarray(uniq, dtype=keys.dtype), codes.astype(np.int64, copy=False)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    new = np.empty(len(keys), dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _few_distinct(keys: np.ndarray, sample: int = 4096) -> bool:
    """Whether hashing beats sorting: a sample of the keys is mostly repeats."""
    if len(keys) < 4 * sample:
        return False
    probe = keys[:: len(keys) // sample][:sample]
    return len(np.unique(probe)) < sample // 4


def pair_dense_codes(
    major: np.ndarray, minor: np.ndarray, n_major: int, n_minor: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`dense_codes` of the keys ``major * n_minor + minor`` (codes ``0 <= major < n_major``,
    ``0 <= minor < n_minor``), by two stable counting sorts instead of a comparison sort.

    Examples
    --------
    >>> keys, codes = pair_dense_codes(np.array([1, 0, 1, 1]), np.array([2, 5, 2, 0]), 2, 6)
    >>> keys.tolist(), codes.tolist()
    ([5, 6, 8], [2, 0, 2, 1])
    """
    major = np.asarray(major, dtype=np.int64)
    minor = np.asarray(minor, dtype=np.int64)
    if len(major) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Least significant digit first: by minor, then (stably) by major.
    _, by_minor = stable_group(minor, max(n_minor, 1))
    _, by_major = stable_group(major[by_minor], max(n_major, 1))
    order = by_minor[by_major]
    ordered = major[order] * np.int64(max(n_minor, 1)) + minor[order]
    new = np.empty(len(ordered), dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(len(ordered), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def distinct_pairs(
    first: np.ndarray, second: np.ndarray, n_second: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(first, second)`` pairs, sorted by ``first`` then ``second``, with multiplicities.

    Examples
    --------
    >>> f, s, n = distinct_pairs(np.array([1, 0, 1, 1]), np.array([2, 5, 2, 0]), 6)
    >>> f.tolist(), s.tolist(), n.tolist()
    ([0, 1, 1], [5, 0, 2], [1, 1, 2])
    """
    base = np.int64(max(n_second, 1))
    composite = np.asarray(first, dtype=np.int64) * base + np.asarray(second, dtype=np.int64)
    if len(composite) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    small = _small_range(composite)
    if small is not None:
        lo, span = small
        counts = np.bincount(composite - lo, minlength=span)
        present = np.flatnonzero(counts)
        uniq, counts = present + lo, counts[present]
    else:
        composite = np.sort(composite)
        new = np.empty(len(composite), dtype=bool)
        new[0] = True
        np.not_equal(composite[1:], composite[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, len(composite)))
        uniq = composite[starts]
    return uniq // base, uniq % base, counts.astype(np.int64, copy=False)


def group_sizes(codes: np.ndarray, n: int) -> np.ndarray:
    """How many entries each code ``0..n-1`` has."""
    return np.bincount(codes, minlength=n) if len(codes) else np.zeros(n, dtype=np.int64)


def stable_group(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``codes`` grouped by code (a stable counting sort), and group boundaries.

    Returns ``(indptr, order)``: the entries of code ``k`` are
    ``order[indptr[k]:indptr[k + 1]]``, in their original order. This is
    ``np.argsort(codes, kind="stable")`` at the cost of one pass.

    Examples
    --------
    >>> indptr, order = stable_group(np.array([2, 0, 2, 1, 0]), 3)
    >>> indptr.tolist(), order.tolist()
    ([0, 2, 3, 5], [1, 4, 3, 0, 2])
    """
    m = len(codes)
    index = np.int32 if max(m, n) < 2**31 - 1 else np.int64
    # scipy's COO -> CSR conversion is a counting sort in C; column = position keeps it stable.
    grouped = sp.coo_matrix(
        (np.ones(m, dtype=np.int8), (np.asarray(codes, dtype=index), np.arange(m, dtype=index))),
        shape=(n, max(m, 1)),
    ).tocsr()
    return grouped.indptr.astype(np.int64), grouped.indices.astype(np.int64)


def edge_budget_cut(weight: np.ndarray, n: int) -> float | None:
    """The weight that at most ``n`` of ``weight`` exceed, as high as possible; ``None`` if all fit.

    Keeping the weights strictly above the cut keeps at most ``n`` of them, and ties at the
    cut go together, so the result never depends on their order.

    Examples
    --------
    >>> edge_budget_cut(np.array([5.0, 1.0, 3.0, 3.0]), 2)
    3.0
    >>> edge_budget_cut(np.array([5.0, 1.0]), 2) is None
    True
    """
    if len(weight) <= n:
        return None
    return float(np.partition(weight, len(weight) - n - 1)[len(weight) - n - 1])


def site_spans(site: np.ndarray, when: np.ndarray, n_sites: int, quantile: float) -> np.ndarray:
    """``(n_sites, 2)``: the ``quantile`` and ``1 - quantile`` quantiles (lower) of each site's
    link times (0, 0 for a site without links).

    Examples
    --------
    >>> site_spans(np.array([0, 0, 0, 1]), np.array([5, 1, 9, 4]), 2, 0.0).tolist()
    [[1, 9], [4, 4]]
    >>> site_spans(np.array([1, -1, 1, 3]), np.array([5, 1, 9, 4]), 3, 0.0).tolist()
    [[0, 0], [5, 9], [0, 0]]
    """
    out = np.zeros((n_sites, 2), dtype=np.int64)
    if len(site) == 0:
        return out
    if bool(np.all(when[1:] >= when[:-1])):
        # Times in order already (links of posts in time order): a stable counting sort by
        # site is the same order as the sort by (site, time), at a fraction of the cost.
        _bounds, order = stable_group(site, n_sites)
    else:
        order = np.lexsort((when, site))
    # The sites' runs in that order from their sizes (no sorted copy of the sites), and only
    # the two times read per site (no sorted copy of the times): one link-sized array, the order.
    # Codes outside 0..n_sites-1 sort before (negative) or after the others and are skipped.
    if int(site.min()) >= 0:
        counts = np.bincount(site, minlength=n_sites)[:n_sites]
        ends = np.cumsum(counts)
        starts = ends - counts
        del counts
    else:
        s = site[order]
        starts = np.searchsorted(s, np.arange(n_sites), side="left")
        ends = np.searchsorted(s, np.arange(n_sites), side="right")
        del s
    has = ends > starts
    width = ends - starts - 1
    lo = starts + np.floor(quantile * width).astype(np.int64)
    hi = starts + np.ceil((1 - quantile) * width).astype(np.int64)
    out[has, 0] = when[order[lo[has]]]
    out[has, 1] = when[order[hi[has]]]
    return out


def top_per_group(
    group: np.ndarray, value: np.ndarray, n: int, n_values: int
) -> tuple[np.ndarray, np.ndarray]:
    """Most frequent value per group (ties: smallest code) and its share (``-1``/NaN if none).

    Examples
    --------
    >>> top, share = top_per_group(np.array([0, 0, 0, 2]), np.array([5, 3, 5, 1]), 3, 6)
    >>> top.tolist(), share.round(2).tolist()
    ([5, -1, 1], [0.67, nan, 1.0])
    """
    top = np.full(n, -1, dtype=np.int64)
    share = np.full(n, np.nan)
    if len(group) == 0:
        return top, share
    g, v, count = distinct_pairs(group, value, max(n_values, 1))
    order = np.lexsort((v, -count, g))
    g, v, count = g[order], v[order], count[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    totals = np.bincount(g, weights=count, minlength=n)
    top[g[first]] = v[first]
    share[g[first]] = count[first] / totals[g[first]]
    return top, share


def overlapping_pairs(
    item: np.ndarray, account: np.ndarray, n_items: int, n_accounts: int, min_share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of items (``row < col``) whose accounts overlap: at least two shared, and at least
    ``min_share`` of the smaller item's accounts. ``(item, account)`` pairs must be distinct.
    Returns the rows, the columns and the number of shared accounts.

    Examples
    --------
    >>> overlapping_pairs(np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 0, 1, 2, 2]), 3, 3, 0.5)
    (array([0]), array([1]), array([2]))
    """
    incidence = sp.csr_matrix((np.ones(len(item)), (item, account)), shape=(n_items, n_accounts))
    shared = sp.triu(incidence @ incidence.T, k=1).tocoo()
    sizes = np.bincount(item, minlength=n_items)
    smaller = np.minimum(sizes[shared.row], sizes[shared.col])
    keep = (shared.data >= 2) & (shared.data >= min_share * smaller)
    return (
        shared.row[keep].astype(np.int64),
        shared.col[keep].astype(np.int64),
        shared.data[keep].astype(np.int64),
    )


def components(n: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes joined by the edges ``(rows, cols)``, numbered
    ``0..k-1`` in order of each component's lowest node.

    Examples
    --------
    >>> components(5, np.array([3, 1]), np.array([4, 3])).tolist()
    [0, 1, 2, 1, 1]
    """
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _k, label = connected_components(graph, directed=False)
    _u, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def blocks(weight: np.ndarray, budget: int) -> list[int]:
    """Cut points ``0 = c0 < c1 < ... = len(weight)`` of consecutive blocks whose weights add
    up to about ``budget`` each (a single item heavier than the budget is a block of its own).

    Examples
    --------
    >>> blocks(np.array([3, 3, 3, 10, 1]), 6)
    [0, 2, 3, 4, 5]
    """
    cuts, total = [0], 0
    ends = np.cumsum(weight)
    while cuts[-1] < len(weight):
        start = cuts[-1]
        # The last item whose running total stays within the budget, at least one item.
        stop = int(np.searchsorted(ends, total + budget, side="right"))
        stop = max(stop, start + 1)
        cuts.append(stop)
        total = int(ends[stop - 1])
    if len(cuts) == 1:
        cuts.append(0)
    return cuts

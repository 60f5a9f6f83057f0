"""Co-action projections of the accounts x objects graph onto accounts.

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
"""

from __future__ import annotations

import time as _time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from research.errors import BudgetError, ConfigError, unknown_name
from research.graph.codes import dense_codes, distinct_pairs, group_sizes
from research.graph.events import Events, Labels

Weighting = Literal["count", "idf", "jaccard", "overlap", "tfidf_cosine"]
OnBudget = Literal["lower_cap", "refuse"]
WindowMode = Literal["buckets", "exact"]


@dataclass(frozen=True)
class Actions:
    """Account-object-time triples: the input of a projection.

    ``obj`` codes run over ``0..n_objects-1``; ``object_labels`` names them.
    """

    name: str
    account: np.ndarray
    obj: np.ndarray
    time: np.ndarray
    n_accounts: int
    n_objects: int
    object_labels: Callable[[np.ndarray], list[str]] = field(repr=False, default=lambda codes: [str(c) for c in codes])
    #: Index of the post behind each action (exact windows count distinct posts, as CNT does).
    post: np.ndarray | None = field(repr=False, default=None)


def _link_actions(events: Events, obj: np.ndarray, name: str, labels: Labels) -> Actions:
    keep = obj >= 0
    return Actions(
        name=name,
        account=events.link_account[keep],
        obj=obj[keep],
        time=events.link_time[keep],
        n_accounts=events.n_accounts,
        n_objects=len(labels),
        object_labels=labels.take,
        post=events.link_post[keep],
    )


def _joint_actions(events: Events, obj: np.ndarray, name: str, labels: Labels) -> Actions:
    """(app, object) pairs per link; an unknown app is one more category, so that
    data without apps falls back to plain co-object actions."""
    keep = obj >= 0
    app = events.link_app[keep]
    app = np.where(app < 0, len(events.apps), app)
    pair_keys, pair_codes = dense_codes(app.astype(np.int64) * max(len(labels), 1) + obj[keep])
    n_obj = max(len(labels), 1)

    def pair_labels(codes: np.ndarray) -> list[str]:
        keys = pair_keys[np.asarray(codes)]
        app_codes = keys // n_obj
        names = events.apps.take(np.where(app_codes >= len(events.apps), -1, app_codes))
        objects = labels.take(keys % n_obj)
        return [f"{a if a is not None else '(unknown app)'} | {o}" for a, o in zip(names, objects, strict=True)]

    return Actions(
        name=name,
        account=events.link_account[keep],
        obj=pair_codes,
        time=events.link_time[keep],
        n_accounts=events.n_accounts,
        n_objects=len(pair_keys),
        object_labels=pair_labels,
        post=events.link_post[keep],
    )


def _url(ev: Events) -> Actions:
    return _link_actions(ev, ev.link_url, "url", ev.urls)


def _domain(ev: Events) -> Actions:
    return _link_actions(ev, ev.link_domain, "domain", ev.domains)


def _stem(ev: Events) -> Actions:
    labels, codes = ev.stems()
    return _link_actions(ev, codes, "stem", labels)


def _app(ev: Events) -> Actions:
    keep = ev.post_app >= 0
    return Actions(
        name="app",
        account=ev.post_account[keep],
        obj=ev.post_app[keep],
        time=ev.post_time[keep],
        n_accounts=ev.n_accounts,
        n_objects=len(ev.apps),
        object_labels=ev.apps.take,
        post=np.flatnonzero(keep),
    )


def _app_url(ev: Events) -> Actions:
    return _joint_actions(ev, ev.link_url, "app_url", ev.urls)


def _app_stem(ev: Events) -> Actions:
    labels, codes = ev.stems()
    return _joint_actions(ev, codes, "app_stem", labels)


def _app_domain(ev: Events) -> Actions:
    return _joint_actions(ev, ev.link_domain, "app_domain", ev.domains)


#: Object kinds a projection can pair accounts on, by name.
OBJECTS: dict[str, Callable[[Events], Actions]] = {
    "url": _url,
    "stem": _stem,
    "domain": _domain,
    "app": _app,
    "app_url": _app_url,
    "app_stem": _app_stem,
    "app_domain": _app_domain,
}


def actions(events: Events, objects: str) -> Actions:
    """The account-object-time triples of one object kind (see :data:`OBJECTS`)."""
    try:
        build = OBJECTS[objects]
    except KeyError:
        raise unknown_name("projection object kind", objects, list(OBJECTS)) from None
    return build(events)


@dataclass(frozen=True)
class Projection:
    """A weighted account x account graph as upper-triangular edge arrays.

    Attributes
    ----------
    accounts
        Labels of all accounts (index space of ``rows``/``cols``).
    rows, cols
        Edge endpoints with ``rows < cols``, sorted by (row, col).
    weight
        Edge weights (meaning set by the weighting).
    support
        Number of shared (windowed) objects behind each edge.
    params
        How the projection was made.
    stats
        What it cost and what it dropped (pair products, dropped objects...).
    """

    accounts: Labels
    rows: np.ndarray
    cols: np.ndarray
    weight: np.ndarray
    support: np.ndarray
    params: dict[str, Any]
    stats: dict[str, Any]

    @property
    def n_edges(self) -> int:
        return len(self.rows)

    @property
    def n_accounts(self) -> int:
        return len(self.accounts)

    def matrix(self, values: Literal["weight", "support"] = "weight") -> sp.csr_matrix:
        """Symmetric sparse adjacency (``csr_matrix``, as igraph expects)."""
        data = self.weight if values == "weight" else self.support.astype(np.float64)
        n = self.n_accounts
        upper = sp.coo_matrix((data, (self.rows, self.cols)), shape=(n, n))
        return (upper + upper.T).tocsr()

    def select(self, mask: np.ndarray, **stats: Any) -> Projection:
        """The same projection with only the edges where ``mask`` holds."""
        return Projection(
            self.accounts,
            self.rows[mask],
            self.cols[mask],
            self.weight[mask],
            self.support[mask],
            self.params,
            {**self.stats, **stats},
        )


@dataclass(frozen=True)
class ProjectionSpec:
    """Parameters of a co-action projection (see module docstring)."""

    objects: str = "app_url"
    window_s: float | None = 900.0
    offsets: int = 2
    weighting: Weighting = "count"
    cap: int | None = 200
    pair_budget: float = 2e8
    on_budget: OnBudget = "lower_cap"
    #: ``buckets`` (staggered bucketings, above) or ``exact`` (``|t1 - t2| <= window_s``, a
    #: sorted range join: :mod:`research.graph.colink`, the co-link network of CNT).
    window_mode: WindowMode = "buckets"
    #: Exact windows only: how the two directions of a pair combine (min, max, sum, mean).
    symmetric: str = "min"

    def __post_init__(self) -> None:
        if self.objects not in OBJECTS:
            raise unknown_name("projection object kind", self.objects, list(OBJECTS))
        if self.weighting not in WEIGHTINGS:
            raise unknown_name("projection weighting", self.weighting, list(WEIGHTINGS))
        if self.window_s is not None and self.window_s <= 0:
            raise ConfigError(f"projection.window_s must be positive or null, got {self.window_s}")
        if self.offsets < 1:
            raise ConfigError(f"projection.offsets must be at least 1, got {self.offsets}")
        if self.cap is not None and self.cap < 2:
            raise ConfigError(f"projection.cap must be at least 2 or null, got {self.cap}")
        if self.on_budget not in ("lower_cap", "refuse"):
            raise ConfigError(f"projection.on_budget must be lower_cap or refuse, got {self.on_budget!r}")
        if self.window_mode not in ("buckets", "exact"):
            raise ConfigError(f"projection.window_mode must be buckets or exact, got {self.window_mode!r}")
        if self.symmetric not in ("min", "max", "sum", "mean"):
            raise ConfigError(f"projection.symmetric must be min, max, sum or mean, got {self.symmetric!r}")


WEIGHTINGS = ("count", "idf", "jaccard", "overlap", "tfidf_cosine")


def pair_products(degrees: np.ndarray) -> int:
    """Exact number of account pairs an incidence with these object degrees yields."""
    d = degrees.astype(np.float64)
    return int(np.sum(d * (d - 1) / 2))


def co_action(events: Events, spec: ProjectionSpec | None = None, **params: Any) -> Projection:
    """Project accounts x objects onto accounts.

    Parameters
    ----------
    events
        Encoded posts (:func:`research.graph.events.encode`).
    spec
        A :class:`ProjectionSpec`; keyword arguments build one instead.

    Returns
    -------
    Projection
        Upper-triangular weighted edges with their support.

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1, 12)
    >>> rows = [{"post_id": str(i), "account_id": a, "timestamp": t + dt.timedelta(seconds=s),
    ...          "app_name": "We Heart It", "urls": [u]}
    ...         for i, (a, s, u) in enumerate([("a", 0, "http://x.com"), ("b", 30, "http://x.com"),
    ...                                        ("c", 86400, "http://x.com"), ("b", 40, "")])]
    >>> proj = co_action(encode(Posts.from_records(rows)), objects="app_url", window_s=60)
    >>> [(proj.accounts[i], proj.accounts[j]) for i, j in zip(proj.rows, proj.cols)], proj.support.tolist()
    ([('a', 'b')], [1])
    """
    spec = spec or ProjectionSpec(**params)
    if spec.window_mode == "exact":
        from research.graph.colink import exact_projection

        return exact_projection(events, spec)
    started = _time.perf_counter()
    acts = actions(events, spec.objects)
    stats: dict[str, Any] = {"objects": spec.objects, "n_actions": len(acts.account), "n_objects": acts.n_objects}
    df = _document_frequency(acts)
    n_active = max(int(np.count_nonzero(group_sizes(acts.account, acts.n_accounts))), 1)

    if spec.window_s is None:
        shifts: list[int | None] = [None]
    else:
        shifts = [round(k * spec.window_s / spec.offsets) for k in range(spec.offsets)]
    incidences = [_windowed_incidence(acts, spec.window_s, s) for s in shifts]

    degrees = np.concatenate([inc.degree for inc in incidences]) if incidences else np.zeros(0)
    cap = _cap_within_budget(degrees, spec, stats)
    support = weight = None
    row_totals = None
    for inc in incidences:
        s_k, w_k, totals = _product(inc, cap, spec.weighting, df, n_active, acts.n_accounts)
        support = s_k if support is None else support.maximum(s_k)
        weight = w_k if weight is None else weight.maximum(w_k)
        row_totals = totals if row_totals is None else row_totals
    assert support is not None and weight is not None and row_totals is not None
    rows, cols, sup, wgt = _aligned_upper(support, weight)
    if spec.weighting in ("jaccard", "overlap"):
        a, b = row_totals[rows], row_totals[cols]
        denom = a + b - sup if spec.weighting == "jaccard" else np.minimum(a, b)
        wgt = sup / np.maximum(denom, 1)
    stats.update(n_edges=len(rows), seconds=round(_time.perf_counter() - started, 4))
    return Projection(
        accounts=events.accounts,
        rows=rows,
        cols=cols,
        weight=wgt,
        support=sup.astype(np.int32),
        params={"kind": "co_action", **spec.__dict__},
        stats=stats,
    )


@dataclass(frozen=True)
class _Incidence:
    account: np.ndarray  # one entry per distinct (windowed object, account)
    key: np.ndarray  # windowed object code
    count: np.ndarray  # actions behind the entry
    base: np.ndarray  # base object code of each windowed object
    degree: np.ndarray  # distinct accounts per windowed object


def _windowed_incidence(acts: Actions, window_s: float | None, shift: int | None) -> _Incidence:
    if window_s is None or shift is None:
        keys = acts.obj.astype(np.int64)
        base_of_key = np.arange(acts.n_objects, dtype=np.int64)
        n_keys = acts.n_objects
    else:
        t0 = int(acts.time.min()) if len(acts.time) else 0
        bucket = (acts.time - t0 + shift) // int(window_s)
        uniq, keys = dense_codes(acts.obj.astype(np.int64) * (int(bucket.max()) + 1 if len(bucket) else 1) + bucket)
        base_of_key = uniq // (int(bucket.max()) + 1 if len(bucket) else 1)
        n_keys = len(uniq)
    key, account, count = distinct_pairs(keys, acts.account, acts.n_accounts)
    degree = group_sizes(key, n_keys)
    return _Incidence(account=account, key=key, count=count, base=base_of_key, degree=degree)


def _document_frequency(acts: Actions) -> np.ndarray:
    obj, _acc, _n = distinct_pairs(acts.obj, acts.account, acts.n_accounts)
    return group_sizes(obj, acts.n_objects)


def _cap_within_budget(degrees: np.ndarray, spec: ProjectionSpec, stats: dict[str, Any]) -> int | None:
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
    warnings.warn(
        f"projection on {spec.objects!r}: {products:.3g} pair products exceed pair_budget="
        f"{spec.pair_budget:.3g}; lowering cap from {cap} to {new_cap}",
        RuntimeWarning,
        stacklevel=3,
    )
    stats.update(cap=new_cap, cap_lowered_from=cap, pair_products=pair_products(usable[usable <= new_cap]))
    stats["dropped_popular_objects"] = int(np.count_nonzero(usable > new_cap))
    return new_cap


def _product(
    inc: _Incidence, cap: int | None, weighting: str, df: np.ndarray, n_active: int, n_accounts: int
) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    deg = inc.degree[inc.key]
    keep = deg >= 2
    if cap is not None:
        keep &= deg <= cap
    key_codes, key = dense_codes(inc.key[keep])
    account = inc.account[keep]
    shape = (n_accounts, len(key_codes))
    ones = np.ones(len(account), dtype=np.float64)
    binary = sp.csr_matrix((ones, (account, key)), shape=shape)
    support = _upper(binary @ binary.T)
    totals = group_sizes(inc.account, n_accounts).astype(np.float64)
    if weighting in ("count", "jaccard", "overlap"):
        return support, support, totals
    idf = np.log(n_active / np.maximum(df[inc.base[key_codes]], 1))
    if weighting == "idf":
        weighted = sp.csr_matrix((idf[key], (account, key)), shape=shape)
        return support, _upper(weighted @ binary.T), totals
    # tfidf_cosine: tf = actions per (account, object), smooth idf as in scikit-learn's
    # TfidfVectorizer (which Pacheco et al. used), rows L2-normalised.
    smooth = np.log((1 + n_active) / (1 + df[inc.base[key_codes]])) + 1.0
    values = inc.count[keep].astype(np.float64) * smooth[key]
    tfidf = sp.csr_matrix((values, (account, key)), shape=shape)
    norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel())
    inv = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
    unit = inv @ tfidf
    return support, _upper(unit @ unit.T), totals


def _upper(matrix: sp.spmatrix) -> sp.csr_matrix:
    return sp.triu(matrix, k=1, format="csr")


def _aligned_upper(support: sp.csr_matrix, weight: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edge arrays of ``support`` with the weight of each edge (zero where absent)."""
    s = support.tocoo()
    order = np.lexsort((s.col, s.row))
    rows, cols, sup = s.row[order].astype(np.int64), s.col[order].astype(np.int64), s.data[order]
    if weight is support:
        return rows, cols, sup, sup.astype(np.float64)
    w = weight.tocsr()
    w.sort_indices()
    values = np.asarray(w[rows, cols]).ravel() if len(rows) else np.zeros(0)
    return rows, cols, sup, values.astype(np.float64)


def combine(projections: list[Projection], weights: list[float] | None = None) -> Projection:
    """Multiplex sum: edge weight and support add up over layers (weights per layer).

    Examples
    --------
    >>> a = Projection(Labels.__new__(Labels), np.array([0]), np.array([1]), np.array([2.0]), np.array([2]), {}, {})
    >>> b = Projection(a.accounts, np.array([0, 1]), np.array([1, 2]), np.array([1.0, 5.0]), np.array([1, 1]), {}, {})
    >>> c = combine([a, b], [1.0, 0.5])
    >>> c.rows.tolist(), c.cols.tolist(), c.weight.tolist(), c.support.tolist()
    ([0, 1], [1, 2], [2.5, 2.5], [3, 1])
    """
    if not projections:
        raise ConfigError("combine() needs at least one projection")
    weights = weights or [1.0] * len(projections)
    rows = np.concatenate([p.rows for p in projections])
    cols = np.concatenate([p.cols for p in projections])
    wgt = np.concatenate([p.weight * w for p, w in zip(projections, weights, strict=True)])
    sup = np.concatenate([p.support for p in projections]).astype(np.int64)
    n = max(int(max(rows.max(initial=0), cols.max(initial=0))) + 1, 1)
    uniq, inverse = dense_codes(rows * n + cols)
    return Projection(
        accounts=projections[0].accounts,
        rows=uniq // n,
        cols=uniq % n,
        weight=np.bincount(inverse, weights=wgt, minlength=len(uniq)),
        support=np.bincount(inverse, weights=sup, minlength=len(uniq)).astype(np.int32),
        params={"kind": "multiplex", "layers": [p.params for p in projections], "layer_weights": list(weights)},
        stats={"layers": [p.stats for p in projections]},
    )

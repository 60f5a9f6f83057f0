"""Exact-window co-action (co-link): accounts that act on the same object within Δt.

Two posts are *matched* when they carry the same object (a URL, by default)
and their times differ by at most ``window_s`` seconds (``|t1 - t2| <= Δt``,
both ends inclusive). This is the co-link network of the
``coordination-network-toolkit`` (CNT, QUT Digital Observatory; Graham et al.),
computed here without SQLite as a sorted range join in numpy:

1. actions are sorted by (object, time); a post that carries the same object
   twice counts once (CNT's ``message_url`` key is (message, URL));
2. ``searchsorted`` finds, for every action, the first and one-past-last
   action of its object within ``±Δt`` — the window sizes give the exact
   number of pairs before any pair exists (checked against ``pair_budget``);
3. pairs are generated block by block (``np.repeat`` over window sizes), each
   block reduced at once to distinct (source post, target account) keys, so
   peak memory follows the block size, not the number of pairs;
4. the distinct keys are counted per (source account, target account).

**Direction convention (CNT's).** ``weight(u -> v)`` is the number of
*distinct posts of u* that have at least one post of v carrying the same
object within ``±Δt``. It is not symmetric: if u posted a link five times in
a minute and v once, ``weight(u -> v) = 5`` and ``weight(v -> u) = 1``.
Self-pairs are included, as in CNT (``weight(u -> u)`` is the number of u's
posts with an object, each post matching itself); CNT drops them on export
(``loops=False``) and so does :meth:`CoLink.symmetric`. Both directions of a
pair always exist together (matching is symmetric at the level of posts).

**Symmetric view.** :meth:`CoLink.symmetric` turns the directed network into
an undirected :class:`~research.graph.base.Projection` whose weight
combines the two directions with ``min`` (default: the number of coordinated
posts both sides took part in, which one side's repetition cannot inflate),
``max``, ``sum`` or ``mean``.

**Known difference from CNT.** An empty URL is no URL here. CNT's CSV reader
turns an empty ``urls`` field into the URL ``""`` and links every pair of
URL-less posts within Δt (its open issue #46); this module never does.
CNT also ignores URLs of reposts (``repost_id`` set): encode with
``include_reposts=False`` for the same input. CNT compares float
timestamps; posts tables hold whole seconds, so give CNT whole seconds when
comparing.

**Caps.** With ``cap`` set, an action whose ``±Δt`` window on its object holds
more than ``cap`` actions (a viral link in a busy minute) is dropped before
pairing; ``on_budget="lower_cap"`` lowers the cap until the exact pair count
fits ``pair_budget``, ``"refuse"`` raises :class:`~research.errors.BudgetError`.
The pair count is of directed action pairs, self-matches included.
"""

from __future__ import annotations

import itertools
import time as _time
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from research.errors import BudgetError, ConfigError
from research.graph.base import Actions, Projection, ProjectionSpec, actions
from research.graph.codes import distinct_pairs, group_sizes
from research.graph.events import Events, Labels

Symmetrise = Literal["min", "max", "sum", "mean"]
SYMMETRISE = ("min", "max", "sum", "mean")

#: Pairs generated per block: ~4 int64 arrays of this length live at once (~130 MB at 4 M).
BLOCK_PAIRS = 1 << 22


@dataclass(frozen=True)
class CoLink:
    """A directed co-action network over accounts (CNT's convention, see module docstring).

    Attributes
    ----------
    accounts
        Labels of all accounts (index space of ``source``/``target``).
    source, target
        Account codes of each directed edge, sorted by (source, target);
        self-pairs included.
    count
        Distinct posts of ``source`` matched by a post of ``target``.
    weight
        ``count`` for the ``count`` weighting; for ``idf``, the sum over those
        posts of the idf of the (rarest) matched object.
    totals
        Distinct posts with an object, per account (for Jaccard/overlap).
    params, stats
        How it was made and what it cost.
    """

    accounts: Labels
    source: np.ndarray
    target: np.ndarray
    count: np.ndarray
    weight: np.ndarray
    totals: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def n_edges(self) -> int:
        return len(self.source)

    def edges(self, *, loops: bool = False) -> list[tuple[str, str, int]]:
        """``(source id, target id, count)`` triples, as CNT exports them (no loops by default)."""
        mask = np.ones(len(self.source), dtype=bool) if loops else self.source != self.target
        src = self.accounts.take(self.source[mask])
        dst = self.accounts.take(self.target[mask])
        return [
            (str(s), str(d), int(c)) for s, d, c in zip(src, dst, self.count[mask], strict=True)
        ]

    def symmetric(self, how: Symmetrise = "min", weighting: str = "count") -> Projection:
        """Undirected view without loops: each unordered pair once, the two directions combined by ``how``.

        ``support`` is the combined ``count``; ``weight`` the combined
        ``weight`` (or, for ``jaccard``/``overlap``, ``support`` over the
        accounts' post totals).
        """
        if how not in SYMMETRISE:
            raise ConfigError(
                f"co-link symmetric view: how must be one of {', '.join(SYMMETRISE)}, got {how!r}"
            )
        off = self.source != self.target
        s, t = self.source[off], self.target[off]
        low, high = np.minimum(s, t), np.maximum(s, t)
        n = max(self.accounts.__len__(), 1)
        key = low * n + high
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = (
            np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
            if len(key)
            else np.zeros(0, np.int64)
        )
        sup = _combine(self.count[off][order].astype(np.float64), starts, how)
        wgt = _combine(self.weight[off][order].astype(np.float64), starts, how)
        rows, cols = key[starts] // n, key[starts] % n
        if weighting in ("jaccard", "overlap"):
            a, b = self.totals[rows].astype(np.float64), self.totals[cols].astype(np.float64)
            denom = a + b - sup if weighting == "jaccard" else np.minimum(a, b)
            wgt = sup / np.maximum(denom, 1.0)
        params = {**self.params, "symmetric": how}
        return Projection(
            accounts=self.accounts,
            rows=rows.astype(np.int64),
            cols=cols.astype(np.int64),
            weight=wgt,
            support=np.rint(sup).astype(np.int32),
            params=params,
            stats={**self.stats, "n_edges": len(rows)},
        )


def _combine(values: np.ndarray, starts: np.ndarray, how: str) -> np.ndarray:
    if len(starts) == 0:
        return np.zeros(0)
    if how == "min":
        return np.minimum.reduceat(values, starts)
    if how == "max":
        return np.maximum.reduceat(values, starts)
    total = np.add.reduceat(values, starts)
    if how == "sum":
        return total
    sizes = np.diff(np.append(starts, len(values)))
    return total / sizes


def co_link(
    events: Events,
    window_s: float = 60.0,
    *,
    objects: str = "url",
    weighting: str = "count",
    cap: int | None = None,
    pair_budget: float = 2e8,
    on_budget: str = "refuse",
    block_pairs: int = BLOCK_PAIRS,
) -> CoLink:
    """The directed exact-window co-action network of one object kind.

    Parameters
    ----------
    events
        Encoded posts.
    window_s
        Δt in seconds: posts at most this far apart are matched (inclusive).
    objects
        A key of :data:`research.graph.base.OBJECTS` (``url`` for CNT's co-link).
    weighting
        ``count`` (CNT) or ``idf`` (each matched post weighted by ``log(N / df)``
        of its rarest matched object); ``jaccard``/``overlap`` are applied by
        :meth:`CoLink.symmetric`.
    cap, pair_budget, on_budget
        See module docstring (no cap by default: CNT has none).
    block_pairs
        Pairs generated per block (bounds peak memory).

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1, 12)
    >>> rows = [("a", 0, "http://x.com"), ("a", 20, "http://x.com"), ("b", 30, "http://x.com"), ("c", 500, "http://x.com")]
    >>> posts = Posts.from_records([{"post_id": str(i), "account_id": a, "timestamp": t + dt.timedelta(seconds=s),
    ...                              "urls": [u]} for i, (a, s, u) in enumerate(rows)])
    >>> net = co_link(encode(posts), window_s=60)
    >>> net.edges()
    [('a', 'b', 2), ('b', 'a', 1)]
    >>> proj = net.symmetric("min")
    >>> proj.support.tolist(), net.symmetric("max").support.tolist()
    ([1], [2])
    """
    if window_s is None or window_s < 0:
        raise ConfigError(
            f"co-link: window_s must be a non-negative number of seconds, got {window_s}"
        )
    if weighting not in ("count", "idf", "jaccard", "overlap"):
        raise ConfigError(
            f"co-link (exact windows): weighting must be count, idf, jaccard or overlap, got {weighting!r} "
            "(tfidf_cosine needs windowed objects as terms: use window_mode: buckets)"
        )
    if cap is not None and cap < 2:
        raise ConfigError(f"co-link: cap must be at least 2 or null, got {cap}")
    if on_budget not in ("lower_cap", "refuse"):
        raise ConfigError(f"co-link: on_budget must be lower_cap or refuse, got {on_budget!r}")
    return co_link_actions(
        actions(events, objects),
        events.accounts,
        window_s,
        weighting=weighting,
        cap=cap,
        pair_budget=pair_budget,
        on_budget=on_budget,
        block_pairs=block_pairs,
    )


def co_link_actions(
    acts: Actions,
    accounts: Labels,
    window_s: float,
    *,
    weighting: str = "count",
    cap: int | None = None,
    pair_budget: float = 2e8,
    on_budget: str = "refuse",
    block_pairs: int = BLOCK_PAIRS,
) -> CoLink:
    """The co-link network of given actions (what :func:`co_link` computes from one object
    kind): for callers whose objects are not a kind of :data:`~research.graph.base.OBJECTS`,
    such as (URL, day) keys that keep matches inside one period. Arguments as for
    :func:`co_link`, whose checks the caller is expected to have made; ``accounts`` labels
    the accounts of ``acts``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> acts = Actions("url_day", account=np.array([0, 1, 1]), obj=np.array([0, 0, 1]),
    ...                time=np.array([0, 30, 40]), n_accounts=2, n_objects=2)
    >>> co_link_actions(acts, Labels(pa.array(["a", "b"])), 60).edges()
    [('a', 'b', 1), ('b', 'a', 1)]
    """
    started = _time.perf_counter()
    source, target, count, weight, totals, stats = _range_join(
        acts,
        int(np.floor(window_s)),
        weighting=weighting,
        cap=cap,
        pair_budget=pair_budget,
        on_budget=on_budget,
        block_pairs=block_pairs,
    )
    stats.update(objects=acts.name, seconds=round(_time.perf_counter() - started, 4))
    params = {
        "kind": "co_link",
        "objects": acts.name,
        "window_s": window_s,
        "window_mode": "exact",
        "weighting": weighting,
        "cap": cap,
        "pair_budget": pair_budget,
        "on_budget": on_budget,
    }
    return CoLink(accounts, source, target, count, weight, totals, params, stats)


def exact_projection(
    events: Events, spec: ProjectionSpec, *, threads: int | None = None
) -> Projection:
    """The projection of ``spec`` with exact windows (engine ``exact``), symmetrised by
    ``spec.symmetric``; ``threads`` is ignored (the range join runs on one thread)."""
    if spec.window_s is None:
        raise ConfigError("projection.window_mode 'exact' needs projection.window_s (seconds)")
    net = co_link(
        events,
        spec.window_s,
        objects=spec.objects,
        weighting=spec.weighting,
        cap=spec.cap,
        pair_budget=spec.pair_budget,
        on_budget=spec.on_budget,
    )
    projection = net.symmetric(spec.symmetric, weighting=spec.weighting)  # type: ignore[arg-type]
    params = {"kind": "co_action", **spec.__dict__}
    return Projection(
        projection.accounts,
        projection.rows,
        projection.cols,
        projection.weight,
        projection.support,
        params,
        projection.stats,
    )


def _range_join(
    acts: Actions,
    window: int,
    *,
    weighting: str,
    cap: int | None,
    pair_budget: float,
    on_budget: str,
    block_pairs: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    n_acc = max(acts.n_accounts, 1)
    post = acts.post if acts.post is not None else np.arange(len(acts.account), dtype=np.int64)
    obj, tm, account = (
        acts.obj.astype(np.int64),
        acts.time.astype(np.int64),
        acts.account.astype(np.int64),
    )
    stats: dict[str, Any] = {"n_actions": len(obj), "window_s": window}
    empty = np.zeros(0, dtype=np.int64)
    if len(obj) == 0:
        stats.update(pair_products=0, pair_products_uncapped=0, cap=cap)
        return empty, empty, empty, np.zeros(0), np.zeros(acts.n_accounts, np.int64), stats

    # Sort by (object, time, post); a post carrying an object twice is one action. One int64
    # composite key sorts faster than a three-key lexsort when it fits.
    t_lo, n_post = int(tm.min()), int(post.max()) + 1
    width = (int(tm.max()) - t_lo + 1) * n_post
    if acts.n_objects * float(width) < 2**62:
        order = np.argsort(obj * width + (tm - t_lo) * n_post + post)
    else:
        order = np.lexsort((post, tm, obj))
    obj, tm, account, post = obj[order], tm[order], account[order], post[order]
    repeat = np.zeros(len(obj), dtype=bool)
    repeat[1:] = (obj[1:] == obj[:-1]) & (post[1:] == post[:-1])
    if repeat.any():
        keep = ~repeat
        obj, tm, account, post = obj[keep], tm[keep], account[keep], post[keep]

    totals = _posts_per_account(account, post, acts.n_accounts)
    idf = None
    if weighting == "idf":
        df_obj, _a, _n = distinct_pairs(obj, account, n_acc)
        df = group_sizes(df_obj, acts.n_objects)
        n_active = max(int(np.count_nonzero(totals)), 1)
        idf = np.log(n_active / np.maximum(df, 1))

    # One sorted int64 key per action: object-major, time-minor. The gap of 2Δt+1
    # between objects keeps every ±Δt window inside its own object.
    t0 = int(tm.min())
    span = int(tm.max()) - t0 + 2 * window + 1
    if acts.n_objects * float(span) >= 2**62:
        raise ConfigError(
            "co-link: time span x number of objects overflows int64 keys; split the data by time"
        )
    key = obj * span + (tm - t0)
    lo, hi = _windows(key, window)
    sizes = hi - lo
    stats["pair_products_uncapped"] = int(sizes.sum())
    cap = _cap_within_budget(lo, hi, sizes, cap, pair_budget, on_budget, stats)
    if cap is not None:
        keep = sizes <= cap
        stats["dropped_busy_actions"] = int(len(keep) - keep.sum())
        if not keep.all():
            key, account, post, obj = key[keep], account[keep], post[keep], obj[keep]
            lo, hi = _windows(key, window)
            sizes = hi - lo
    stats["pair_products"] = int(sizes.sum())

    pair_keys, pair_values = _distinct_post_account(
        lo, sizes, account, post, n_acc, block_pairs, idf[obj] if idf is not None else None
    )
    # Distinct (source post, target account) -> counts per (source account, target account).
    max_post = int(post.max()) + 1 if len(post) else 1
    account_of_post = np.zeros(max_post, dtype=np.int64)
    account_of_post[post] = account
    src_account = account_of_post[pair_keys // n_acc]
    dst_account = pair_keys % n_acc
    edge_key = src_account * n_acc + dst_account
    order = np.argsort(edge_key)
    edge_key = edge_key[order]
    starts = (
        np.flatnonzero(np.concatenate([[True], edge_key[1:] != edge_key[:-1]]))
        if len(edge_key)
        else empty
    )
    count = np.diff(np.append(starts, len(edge_key))).astype(np.int64)
    weight = (
        np.add.reduceat(pair_values[order], starts)
        if pair_values is not None and len(starts)
        else count.astype(np.float64)
    )
    uniq = edge_key[starts]
    stats.update(n_directed_edges=len(uniq), n_matched_post_accounts=len(pair_keys))
    return uniq // n_acc, uniq % n_acc, count, weight, totals, stats


def _windows(key: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last position of each action's ±window range (``key`` sorted)."""
    return np.searchsorted(key, key - window, side="left"), np.searchsorted(
        key, key + window, side="right"
    )


def _posts_per_account(account: np.ndarray, post: np.ndarray, n_accounts: int) -> np.ndarray:
    """Distinct posts per account (a post belongs to one account: mark posts, no sort needed)."""
    owner = np.full(int(post.max()) + 1 if len(post) else 0, -1, dtype=np.int64)
    owner[post] = account
    return np.bincount(owner[owner >= 0], minlength=n_accounts)


def _cap_within_budget(
    lo: np.ndarray,
    hi: np.ndarray,
    sizes: np.ndarray,
    cap: int | None,
    pair_budget: float,
    on_budget: str,
    stats: dict[str, Any],
) -> int | None:
    """The cap to use: as given if the exact pair count fits the budget, else lowered (or refused)."""

    def pairs_with(c: int | None) -> int:
        if c is None:
            return int(sizes.sum())
        keep = sizes <= c
        kept_before = np.concatenate([[0], np.cumsum(keep)])
        return int(np.sum((kept_before[hi] - kept_before[lo])[keep]))

    products = pairs_with(cap)
    stats.update(cap=cap)
    if products <= pair_budget:
        return cap
    if on_budget == "refuse":
        raise BudgetError(
            f"co-link would generate {products:.3g} post pairs, over pair_budget={pair_budget:.3g}; "
            f"set a cap (now {cap}), shorten window_s, or raise pair_budget"
        )
    candidates = np.unique(sizes)
    candidates = candidates[candidates >= 2]
    if cap is not None:
        candidates = candidates[candidates <= cap]
    lo_i, hi_i, best = 0, len(candidates) - 1, 2
    while lo_i <= hi_i:  # the pair count grows with the cap: bisect for the largest that fits
        mid = (lo_i + hi_i) // 2
        if pairs_with(int(candidates[mid])) <= pair_budget:
            best, lo_i = int(candidates[mid]), mid + 1
        else:
            hi_i = mid - 1
    warnings.warn(
        f"co-link: {products:.3g} post pairs exceed pair_budget={pair_budget:.3g}; lowering cap from {cap} to {best}",
        RuntimeWarning,
        stacklevel=4,
    )
    stats.update(cap=best, cap_lowered_from=cap)
    return best


def _distinct_post_account(
    lo: np.ndarray,
    sizes: np.ndarray,
    account: np.ndarray,
    post: np.ndarray,
    n_acc: int,
    block_pairs: int,
    values: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Distinct ``source post * n_acc + target account`` keys over all matched pairs, built
    block by block (and, with ``values``, the largest value of each key's source actions)."""
    cumulative = np.concatenate([[0], np.cumsum(sizes)])
    total = int(cumulative[-1])
    bounds = np.searchsorted(cumulative, np.arange(0, total, max(block_pairs, 1)), side="right") - 1
    bounds = np.unique(np.append(bounds, len(sizes)))
    keys: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for a, b in itertools.pairwise(bounds):
        counts = sizes[a:b]
        n_pairs = int(cumulative[b] - cumulative[a])
        if n_pairs == 0:
            continue
        src = np.repeat(np.arange(a, b, dtype=np.int64), counts)
        dst = np.arange(n_pairs, dtype=np.int64)
        dst -= np.repeat(cumulative[a:b] - cumulative[a], counts)
        dst += lo[src]
        block_key = post[src] * n_acc + account[dst]
        del dst
        k, v = _distinct(block_key, values[src] if values is not None else None)
        keys.append(k)
        if v is not None:
            vals.append(v)
    if not keys:
        return np.zeros(0, dtype=np.int64), (np.zeros(0) if values is not None else None)
    if len(keys) == 1:
        return keys[0], (vals[0] if values is not None else None)
    return _distinct(np.concatenate(keys), np.concatenate(vals) if values is not None else None)


def _distinct(keys: np.ndarray, values: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    if values is None:
        keys = np.sort(keys)
        new = np.ones(len(keys), dtype=bool)
        new[1:] = keys[1:] != keys[:-1]
        return keys[new], None
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(new)
    return keys[starts], np.maximum.reduceat(values, starts) if len(starts) else values[:0]

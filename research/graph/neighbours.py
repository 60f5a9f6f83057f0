"""Co-action without a time window: each use of an object is paired with the next uses by others.

The windowed projections (:mod:`research.graph.projection`) need a window
length, and a campaign whose waves are longer than the window, or whose
victims post once each over days, falls apart into fragments: each pair of
victims must meet in several windows. Here there is no window. The uses of
each object (a site, see :func:`site_keys`) are put in time order, and every
use is paired with the next ``neighbours`` uses of the same object by *other*
accounts, however far apart they are (up to ``max_gap_s``). The time scale is
the object's own: a wave of a thousand posts in ten minutes pairs each victim
with the victims who posted seconds after it; a campaign that trickles over a
week pairs each victim with the next ones to post, hours later. The number of
pairs is at most ``neighbours`` times the number of uses (no pair explosion,
no popularity cap), so the cost is linear in the posts.

Each pairing adds the object's rarity to the pair's weight: ``log(N / d)``
where ``d`` is the number of accounts that used the object and ``N`` the
number that used any object of the kind (idf). Consecutive uses by the same
account count once, so that a heavy poster does not pair with itself.

This is the k-nearest-neighbour graph in time of each object's users. It
differs from an exact window (:mod:`research.graph.colink`), which pairs all
uses within ``Δt`` (quadratic in a burst's size) and none beyond.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, replace

import numpy as np

from research.errors import ConfigError
from research.graph.base import Actions, Projection, actions
from research.graph.codes import distinct_pairs, group_sizes, site_spans, stable_group
from research.graph.events import Events


@dataclass(frozen=True)
class NeighbourSpec:
    """Parameters of :func:`neighbour_projection`.

    Attributes
    ----------
    objects
        Object kinds (:data:`research.graph.projection.OBJECTS`) whose pairings are summed.
    neighbours
        Each use is paired with this many following uses of the same object by other accounts.
    max_gap_s
        Uses further apart than this are never paired (``None``: no limit).
    max_span
        Objects whose uses spread over more than this share of the observed window are not
        paired at all (``None``: all are): a site linked all through the data is a news
        site, a shop, a feed, never a campaign's own. The spread runs from the
        ``span_quantile`` to the ``1 - span_quantile`` quantile of the uses' times, so that
        a stray early or late link does not stretch it. This is the candidate test of
        :mod:`research.evidence` (``Rule.candidate_span``) applied before clustering; it
        removes most pairings of a busy platform.
    span_quantile
        See ``max_span``.
    """

    objects: tuple[str, ...] = ("site",)
    neighbours: int = 16
    max_gap_s: float | None = 7 * 86_400.0
    max_span: float | None = 0.6
    span_quantile: float = 0.02

    def __post_init__(self) -> None:
        if self.max_span is not None and not 0 < self.max_span <= 1:
            raise ConfigError(f"max_span must be in (0, 1] or null, got {self.max_span}")
        if not 0 <= self.span_quantile < 0.5:
            raise ConfigError(f"span_quantile must be in [0, 0.5), got {self.span_quantile}")
        if self.neighbours < 1:
            raise ConfigError(f"neighbours must be at least 1, got {self.neighbours}")
        if self.max_gap_s is not None and self.max_gap_s <= 0:
            raise ConfigError(f"max_gap_s must be positive or null, got {self.max_gap_s}")


def neighbour_projection(
    events: Events, spec: NeighbourSpec | None = None, *, min_weight: float = 0.0
) -> Projection:
    """Pair each use of an object with the next uses of it by other accounts (see module docstring).

    Parameters
    ----------
    events
        Encoded posts.
    spec
        How many neighbours, and the largest gap.
    min_weight
        Edges lighter than this are dropped (before the graph is returned).

    Returns
    -------
    Projection
        Upper-triangular edges; ``weight`` sums ``log(N / d)`` of each pairing's object,
        ``support`` counts the pairings.

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1)
    >>> ev = encode(Posts.from_records([
    ...     {"post_id": str(i), "account_id": a, "timestamp": t + dt.timedelta(seconds=s), "urls": [u], "domains": ["x.com"]}
    ...     for i, (a, s, u) in enumerate([("a", 0, "http://x.com/1"), ("b", 10, "http://x.com/2"),
    ...                                    ("c", 99_999, "http://x.com/3")])]))
    >>> p = neighbour_projection(ev, NeighbourSpec(neighbours=1, max_gap_s=3600, max_span=None))
    >>> [(p.accounts[i], p.accounts[j]) for i, j in zip(p.rows, p.cols)], p.support.tolist()
    ([('a', 'b')], [1])
    """
    spec = spec or NeighbourSpec()
    started = _time.perf_counter()
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    n_uses = 0
    for kind in spec.objects:
        layer = actions(events, kind)
        n_uses += len(layer.account)
        parts.extend(_pairings(layer, spec))
    rows, cols, weight, support = _merge(parts, events.n_accounts)
    kept = weight >= min_weight if min_weight > 0 else np.ones(len(rows), dtype=bool)
    stats = {
        "objects": list(spec.objects),
        "n_uses": n_uses,
        "n_edges_unfiltered": len(rows),
        "n_edges": int(kept.sum()),
        "seconds": round(_time.perf_counter() - started, 4),
    }
    return Projection(
        accounts=events.accounts,
        rows=rows[kept],
        cols=cols[kept],
        weight=weight[kept],
        support=support[kept],
        params={"kind": "neighbours", **spec.__dict__, "min_weight": min_weight},
        stats=stats,
    )


def _pairings(
    layer: Actions, spec: NeighbourSpec
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pairings of one object kind, reduced per offset: (pair key, weight sum, count)."""
    raw_account = np.asarray(layer.account, dtype=np.int64)
    n_users = int(np.count_nonzero(group_sizes(raw_account, layer.n_accounts)))
    if spec.max_span is not None and len(raw_account):
        # Long-lived objects pair nobody: their uses are dropped before the uses are sorted
        # (at 10^7 posts most links are to long-lived sites). Each object's uses, and so its
        # distinct users, and the order of the kept uses are those of all uses.
        raw_obj, raw_time = np.asarray(layer.obj), np.asarray(layer.time)
        spans = (
            layer.spans(spec.span_quantile)
            if layer.spans is not None
            else site_spans(raw_obj, raw_time, layer.n_objects, spec.span_quantile)
        )
        window = max(int(np.ptp(raw_time)), 1)
        brief = (spans[:, 1] - spans[:, 0]) <= spec.max_span * window
        keep = brief[raw_obj]
        layer = replace(
            layer, account=raw_account[keep], obj=raw_obj[keep], time=raw_time[keep], post=None
        )
    account, obj, when = _uses(layer)
    d = _distinct_users(account, obj, layer.n_objects)
    idf = np.log(np.maximum(n_users, 1) / np.maximum(d, 1))
    parts = []
    for j in range(1, spec.neighbours + 1):
        if j >= len(account):
            break
        pair = (obj[j:] == obj[:-j]) & (account[j:] != account[:-j])
        if spec.max_gap_s is not None:
            pair &= (when[j:] - when[:-j]) <= spec.max_gap_s
        left, right = account[:-j][pair], account[j:][pair]
        parts.append(
            _reduce(
                np.minimum(left, right),
                np.maximum(left, right),
                idf[obj[:-j][pair]],
                layer.n_accounts,
            )
        )
    return parts


def _uses(actions: Actions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uses in (object, time, account) order, consecutive uses by one account on one object
    counted once."""
    account = np.asarray(actions.account, dtype=np.int64)
    obj = np.asarray(actions.obj, dtype=np.int64)
    when = np.asarray(actions.time, dtype=np.int64)
    order = _by_object_time_account(obj, when, account, actions.n_objects, actions.n_accounts)
    account, obj, when = account[order], obj[order], when[order]
    if len(order) < 2:
        return account, obj, when
    repeat = np.zeros(len(order), dtype=bool)
    repeat[1:] = (obj[1:] == obj[:-1]) & (account[1:] == account[:-1])
    return account[~repeat], obj[~repeat], when[~repeat]


def _by_object_time_account(
    obj: np.ndarray, when: np.ndarray, account: np.ndarray, n_objects: int, n_accounts: int
) -> np.ndarray:
    """``np.lexsort((account, when, obj))``: a stable sort on one (time, account) key, which
    takes one pass over uses already in time order (posts usually are), then a stable
    counting sort by object."""
    if len(obj) == 0:
        return np.zeros(0, dtype=np.int64)
    t0, span = int(when.min()), int(np.ptp(when)) + 1
    if span * max(n_accounts, 1) >= 2**63:
        return np.lexsort((account, when, obj))
    order = np.argsort((when - t0) * np.int64(max(n_accounts, 1)) + account, kind="stable")
    return order[stable_group(obj[order], max(n_objects, 1))[1]]


def _distinct_users(account: np.ndarray, obj: np.ndarray, n_objects: int) -> np.ndarray:
    """Distinct accounts per object."""
    o, _a, _n = distinct_pairs(obj, account, int(account.max(initial=0)) + 1)
    return group_sizes(o, n_objects)


def _reduce(
    rows: np.ndarray, cols: np.ndarray, weight: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(row, col)`` keys with summed weights and counts."""
    key = rows * np.int64(n) + cols
    if len(key) == 0:
        return key, np.zeros(0), np.zeros(0, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    key, weight = key[order], weight[order]
    new = np.empty(len(key), dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    return key[starts], np.add.reduceat(weight, starts), np.diff(np.append(starts, len(key)))


def _merge(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), empty
    keys = np.concatenate([p[0] for p in parts])
    weights = np.concatenate([p[1] for p in parts])
    counts = np.concatenate([p[2] for p in parts])
    order = np.argsort(keys, kind="stable")
    keys, weights, counts = keys[order], weights[order], counts[order]
    new = np.empty(len(keys), dtype=bool)
    new[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    uniq = keys[starts]
    return (
        uniq // n,
        uniq % n,
        np.add.reduceat(weights, starts) if len(keys) else np.zeros(0),
        np.add.reduceat(counts, starts) if len(keys) else np.zeros(0, dtype=np.int64),
    )

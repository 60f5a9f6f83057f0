"""CooRnet-style coordinated link sharing (Giglietto et al. 2020): same URL within an estimated interval.

Citation: F. Giglietto, N. Righetti, L. Rossi and G. Marino, "It takes a
village to manipulate the media: coordinated link sharing behavior during
2018 and 2019 Italian elections", *Information, Communication & Society*
23(6), 2020; and their R package CooRnet (``estimate_coord_interval``,
``get_coord_shares``).

**Coordination interval (estimated from the data, as CooRnet does).** For
every URL shared at least twice, its shares are ranked by time. The URLs
whose *second* share came quickest after the first — those at or below the
``q`` quantile of second-share delays (CooRnet's ``q = 0.1``: the quickest
10% of URLs) — are kept; for each of them, the time from its first share
until more than ``p`` of its shares had happened (CooRnet's ``p = 0.5``) is
taken, and the coordination interval is the ``p`` quantile of those times
(the median). An interval of 0 s becomes 1 s, as in CooRnet. A fixed
``interval_s`` replaces the estimate.

**Coordinated shares and the network.** Each URL's shares are cut into
consecutive bins of one interval, starting at the URL's first share (R's
``cut(date, breaks = interval)``, CooRnet's step); accounts whose shares of
a URL fall in the same bin shared it in a coordinated way. Two accounts are
linked with weight = the number of distinct URLs they shared in a
coordinated way together. Edges lighter than ``repetition`` are dropped
(the paper's "repeatedly": two accounts may share the same link quickly
once by chance, rarely again and again), and so are edges below the
``percentile_edge_weight`` quantile of all weights (CooRnet's "highly
coordinated" network, 0.90 by default). The coordinated networks are the
connected components of what is left.

**Decision rule (the paper's):** every component of at least ``min_size``
accounts is a coordinated network (flagged). **Score** (for ranking): the
total weight of the component's internal edges (URLs shared in a
coordinated way, summed over its linked pairs).

**Parameters.** CooRnet's: ``q`` (0.1), ``p`` (0.5), the bins, the weight
as distinct co-shared URLs, ``percentile_edge_weight`` (0.90), components.
Ours: ``repetition`` (2), ``min_size`` (2), ``objects`` (``url``; ``stem``
stands for CooRnet's ``clean_urls``) and ``pair_budget``.

**Known difference.** CooRnet projects the bipartite graph of accounts and
URLs of their coordinated shares, so two accounts that were each in *some*
coordinated bin of a URL are linked even when their bins differ; here
they must share a bin, as the paper's definition says (the same URL within
the interval).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from research.baselines.common import Found, Verdict, baseline
from research.detect.clustering import Clustering, canonical_membership
from research.graph.base import actions
from research.graph.codes import dense_codes
from research.graph.events import Events
from research.pipeline import StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class CoornetParams:
    """Parameters (see module docstring for which are CooRnet's)."""

    objects: str = "url"
    q: float = 0.1
    p: float = 0.5
    interval_s: float | None = None
    repetition: int = 2
    percentile_edge_weight: float = 0.9
    min_size: int = 2
    pair_budget: float = 2e8
    describe: bool = True

    def __post_init__(self) -> None:
        for name in ("q", "p", "percentile_edge_weight"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if self.objects not in ("url", "stem", "domain"):
            raise ValueError(f"objects must be url, stem or domain, got {self.objects!r}")
        if self.interval_s is not None and self.interval_s <= 0:
            raise ValueError(f"interval_s must be positive or null, got {self.interval_s}")


#: CooRnet's q and percentile are its users' knobs; repetition as in its successors.
TUNING = {
    "q": (0.05, 0.1, 0.2),
    "repetition": (1, 2, 3, 5),
    "percentile_edge_weight": (0.0, 0.5, 0.9, 0.95),
    "objects": ("url", "stem"),
}


def coordination_interval(
    share_object: np.ndarray, share_time: np.ndarray, q: float = 0.1, p: float = 0.5
) -> tuple[float, dict[str, float]]:
    """CooRnet's estimate of the coordination interval in seconds (see module docstring).

    Parameters
    ----------
    share_object, share_time
        One entry per share: the URL's code and the time in seconds.
    q, p
        CooRnet's parameters.

    Returns
    -------
    The interval and a summary (URLs shared twice or more, URLs kept, their median delay).

    Examples
    --------
    Ten URLs whose second share came 10, 20, ..., 100 s after the first; the quickest
    (10 s) has four shares at 0, 10, 30 and 70 s: more than half of them (the third)
    had happened 30 s after the first, so the interval is 30 s:

    >>> url = np.repeat(np.arange(10), 2); time = np.tile([0, 0], 10) + np.repeat(0, 20)
    >>> time[1::2] = np.arange(1, 11) * 10
    >>> url = np.append(url, [0, 0]); time = np.append(time, [30, 70])
    >>> coordination_interval(url, time)[0]
    30.0
    """
    if len(share_object) == 0:
        return 1.0, {"urls_shared_twice": 0, "urls_quickest": 0}
    order = np.lexsort((share_time, share_object))
    obj, tm = share_object[order], share_time[order].astype(np.float64)
    starts = np.flatnonzero(np.concatenate([[True], obj[1:] != obj[:-1]]))
    counts = np.diff(np.append(starts, len(obj)))
    multi = counts >= 2
    if not multi.any():
        return 1.0, {"urls_shared_twice": 0, "urls_quickest": 0}
    s, c = starts[multi], counts[multi]
    second = tm[s + 1] - tm[s]
    quick = second <= np.quantile(second, q)
    s, c = s[quick], c[quick]
    # The first share whose rank / count exceeds p: rank r = floor(p * c) + 1 (1-based).
    rank = np.floor(p * c).astype(np.int64) + 1
    rank = np.minimum(rank, c)
    reached = tm[s + rank - 1] - tm[s]
    interval = float(np.quantile(reached, p))
    summary = {
        "urls_shared_twice": int(multi.sum()),
        "urls_quickest": len(s),
        "median_reach_s": float(np.median(reached)),
    }
    return (interval if interval > 0 else 1.0), summary


def coordinated_pairs(
    share_account: np.ndarray,
    share_object: np.ndarray,
    share_time: np.ndarray,
    interval: float,
    *,
    pair_budget: float = 2e8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Account pairs ``a < b`` and the number of distinct URLs they shared in the same bin.

    Examples
    --------
    >>> acc = np.array([0, 1, 2, 0, 1]); url = np.array([0, 0, 0, 1, 1])
    >>> t = np.array([0, 5, 15, 100, 109])  # bins of 10 s from each URL's first share
    >>> a, b, w, _ = coordinated_pairs(acc, url, t, 10)
    >>> a.tolist(), b.tolist(), w.tolist()
    ([0], [1], [2])
    """
    width = max(float(interval), 1.0)
    n_obj = int(share_object.max(initial=-1)) + 1
    n_acc = max(int(share_account.max(initial=-1)) + 1, 1)
    first = np.full(n_obj, np.iinfo(np.int64).max)
    np.minimum.at(first, share_object, share_time)
    bins = ((share_time - first[share_object]) // width).astype(np.int64)
    n_bins = int(bins.max(initial=0)) + 1
    group_keys, group = dense_codes(share_object.astype(np.int64) * n_bins + bins)
    # Distinct (bin, account), sorted by bin then account: one entry per member of a bin.
    members, _ = dense_codes(group.astype(np.int64) * n_acc + share_account)
    g, acc = members // n_acc, members % n_acc
    starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]])) if len(g) else g
    sizes = np.diff(np.append(starts, len(g)))
    n_pairs = sizes * (sizes - 1) // 2
    stats = {"bins_coordinated": int((sizes > 1).sum()), "pairs": int(n_pairs.sum())}
    if n_pairs.sum() > pair_budget:
        cap = int(sizes.max())
        while n_pairs[sizes <= cap].sum() > pair_budget and cap > 2:
            cap = max(2, cap // 2) if n_pairs[sizes <= cap // 2].sum() > pair_budget else cap - 1
        warnings.warn(
            f"coornet: {int(n_pairs.sum())} pairs exceed pair_budget={pair_budget:.3g}; bins of "
            f"more than {cap} accounts are left out",
            RuntimeWarning,
            stacklevel=2,
        )
        stats["bins_dropped"] = int((sizes > cap).sum())
        n_pairs = np.where(sizes <= cap, n_pairs, 0)
    # Every pair inside a bin: each member with every later member (accounts ascending).
    bin_of = np.repeat(np.arange(len(starts)), sizes)
    position = np.arange(len(g)) - starts[bin_of] if len(g) else g
    later = np.where(n_pairs[bin_of] > 0, sizes[bin_of] - position - 1, 0)
    left = np.repeat(np.arange(len(g)), later)
    offset = np.arange(int(later.sum())) - np.repeat(np.cumsum(later) - later, later)
    right = left + 1 + offset
    url = group_keys[g[left]] // n_bins
    # Distinct URLs per pair: a pair in two bins of one URL counts the URL once.
    triples, _ = dense_codes((acc[left] * n_acc + acc[right]) * max(n_obj, 1) + url)
    keys, weight = np.unique(triples // max(n_obj, 1), return_counts=True)
    return keys // n_acc, keys % n_acc, weight.astype(np.int64), stats


@baseline("coornet", CoornetParams, stages=("interval", "network", "detect"), tuning=TUNING)
def coornet(
    posts: Posts, events: Events, p: CoornetParams, *, seed: int | None, timer: StageTimer
) -> Found:
    """Run the CooRnet-style detector (see module docstring; deterministic, ``seed`` unused).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> found = coornet(sim.posts, {"describe": False})
    >>> found.method, found.stats["interval_s"] > 0
    ('coornet', True)
    """
    acts = actions(events, p.objects)
    with timer.stage("interval"):
        if p.interval_s is None:
            interval, summary = coordination_interval(acts.obj, acts.time, p.q, p.p)
        else:
            interval, summary = float(p.interval_s), {}
    with timer.stage("network"):
        a, b, weight, pair_stats = coordinated_pairs(
            acts.account, acts.obj, acts.time, interval, pair_budget=p.pair_budget
        )
        cut = float(np.quantile(weight, p.percentile_edge_weight)) if len(weight) else 0.0
        keep = (weight >= p.repetition) & (weight >= cut)
        a, b, weight = a[keep], b[keep], weight[keep]
    with timer.stage("detect"):
        n = events.n_accounts
        graph = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        _k, component = connected_components(graph, directed=False)
        linked = np.zeros(n, dtype=bool)
        linked[a] = linked[b] = True
        membership = canonical_membership(np.where(linked, component, -1), min_size=p.min_size)
    clustering = Clustering(events.accounts, membership, "coornet", asdict(p), seed, None, 0)
    k = clustering.n_clusters
    inside = membership[a] >= 0
    total = np.bincount(membership[a[inside]], weights=weight[inside], minlength=k)
    reasons = [
        f"a component of accounts that shared the same {p.objects} within the coordination "
        f"interval ({interval:g} s) at least {max(p.repetition, int(np.ceil(cut)))} times per pair"
    ] * k
    verdict = Verdict(
        score=total,
        flagged=np.ones(k, dtype=bool),
        reasons=reasons,
        columns={"coordinated_shares": total},
    )
    stats = {
        "interval_s": interval,
        "interval": summary,
        "edge_weight_cut": cut,
        "edges_kept": int(keep.sum()),
        **pair_stats,
    }
    return Found(clustering, verdict, stats=stats)

"""CopyCatch (Beutel et al. 2013): groups of accounts acting on the same objects in lockstep.

Citation: A. Beutel, W. Xu, V. Guruswami, C. Palow and C. Faloutsos,
"CopyCatch: Stopping Group Attacks by Spotting Lockstep Behavior in Social
Networks", WWW 2013.

**What it looks for (the paper's definition).** A bipartite graph of users
and pages (here: accounts and the URLs, stems or domains they post,
``objects``) whose edges carry the time of the action (a Like; here an
account's *first* post of the object, as a Like has one time). A lockstep
group is a set of users ``U`` and of pages ``P``, each page ``j`` with a
centre time ``c_j``, such that ``|U| >= n``, ``|P| >= m``, and every user of
``U`` acted on at least a share ``rho`` of the pages of ``P`` within ``Δt``
of their centres (inside a window of width ``2Δt``): a temporally coherent
near-bipartite core.

**How it searches (the paper's alternating local search).** From a seed (a
page and a centre), repeat until nothing changes (at most ``max_iter``
times):

1. *users*: ``U`` = the accounts that acted on at least ``rho |P|`` of the
   pages of ``P`` within ``Δt`` of their centres;
2. *centres and subspace*: for every object that members of ``U`` acted on,
   the centre ``c_j`` is the middle of the ``2Δt`` window holding the most
   members' actions (earliest of equal windows); ``P`` = the objects whose
   best window holds at least ``rho |U|`` members.

A result is a lockstep group when ``|U| >= n`` and ``|P| >= m``. The paper
runs many random seeds in parallel (MapReduce); here the seeds are every
object whose busiest ``2Δt`` window holds at least ``n`` accounts, tried
from the busiest down (equal ones in an order drawn from ``seed``), at most
``n_seeds`` of them, skipping objects already inside a group found. An
account in several groups stays in the first (largest) one.

**Decision rule (the paper's):** every lockstep group found is flagged.
**Score** (for ranking): the mean number of the group's objects its members
acted on in lockstep.

**Parameters.** The paper's: the four of its definition (``n``, ``m``,
``Δt``, ``rho``) and the alternating search; it gives their meaning and
leaves their values to the deployment, so the values here are ours, sized to
the campaigns of the simulator (``n = 10`` accounts, ``m = 3`` objects,
``Δt = 1`` hour, ``rho = 0.8``). Ours too: the objects, ``n_seeds``,
``max_iter``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from research.baselines.common import Found, Verdict, baseline
from research.detect.clustering import Clustering, first_group_wins
from research.graph.base import actions
from research.graph.events import Events
from research.pipeline import StageTimer
from research.posts import Posts


@dataclass(frozen=True)
class CopyCatchParams:
    """Parameters (see module docstring: the definition is the paper's, the values ours)."""

    objects: str = "url"
    n: int = 10
    m: int = 3
    delta_t_s: float = 3600.0
    rho: float = 0.8
    n_seeds: int = 500
    max_iter: int = 10
    describe: bool = True

    def __post_init__(self) -> None:
        if self.n < 2 or self.m < 1:
            raise ValueError(f"n must be >= 2 and m >= 1, got n={self.n}, m={self.m}")
        if not 0.0 < self.rho <= 1.0:
            raise ValueError(f"rho must be in (0, 1], got {self.rho}")
        if self.delta_t_s < 0:
            raise ValueError(f"delta_t_s must be >= 0, got {self.delta_t_s}")


#: The four parameters of the definition around our defaults, and the objects.
TUNING = {
    "objects": ("url", "stem", "domain"),
    "n": (5, 10, 20),
    "m": (2, 3, 5),
    "delta_t_s": (600, 1800, 3600, 7200),
    "rho": (0.5, 0.8, 1.0),
}


@dataclass(frozen=True)
class Group:
    """A lockstep group: member accounts, objects with their centre times, members' hits."""

    users: np.ndarray
    objects: np.ndarray
    centres: np.ndarray
    hits: np.ndarray


class _Likes:
    """First action time of each (account, object), indexed by object and by account."""

    def __init__(self, account: np.ndarray, obj: np.ndarray, time: np.ndarray, n_acc: int):
        order = np.lexsort((time, obj, account))
        account, obj, time = account[order], obj[order], time[order]
        first = np.ones(len(account), dtype=bool)
        first[1:] = (account[1:] != account[:-1]) | (obj[1:] != obj[:-1])
        account, obj, time = account[first], obj[first], time[first].astype(np.int64)
        self.n_objects = int(obj.max(initial=-1)) + 1
        self.n_accounts = n_acc
        self.t0 = int(time.min()) if len(time) else 0
        by_obj = np.lexsort((time, obj))
        self.account, self.obj, self.time = account[by_obj], obj[by_obj], time[by_obj]
        self.obj_start = np.searchsorted(self.obj, np.arange(self.n_objects + 1))
        by_acc = np.argsort(self.account, kind="stable")  # object-time order within an account
        self.acc_rows = by_acc
        self.acc_start = np.searchsorted(self.account[by_acc], np.arange(n_acc + 1))

    def rows_of_objects(self, objects: np.ndarray) -> np.ndarray:
        return _ranges(self.obj_start[objects], self.obj_start[objects + 1])

    def rows_of_accounts(self, accounts: np.ndarray) -> np.ndarray:
        return np.sort(
            self.acc_rows[_ranges(self.acc_start[accounts], self.acc_start[accounts + 1])]
        )

    def best_windows(
        self, rows: np.ndarray, width: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the likes ``rows`` (sorted by object, time): each object with its busiest
        window ``[t, t + width]`` (earliest of equal ones), as (objects, window starts, counts)."""
        obj, time = self.obj[rows], self.time[rows]
        if len(rows) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        span = int(time.max()) - self.t0 + width + 1
        key = obj.astype(np.int64) * span + (time - self.t0)
        count = np.searchsorted(key, key + width, side="right") - np.arange(len(key))
        starts = np.flatnonzero(np.concatenate([[True], obj[1:] != obj[:-1]]))
        best = np.maximum.reduceat(count, starts)
        group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(obj))))
        best_rows = np.flatnonzero(count == best[group])
        _, pick = np.unique(group[best_rows], return_index=True)  # rows are in time order
        chosen = best_rows[pick]
        return obj[chosen], time[chosen], best


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(lo[i], hi[i])``."""
    sizes = hi - lo
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(total)


def lockstep_groups(
    likes_account: np.ndarray,
    likes_object: np.ndarray,
    likes_time: np.ndarray,
    n_accounts: int,
    p: CopyCatchParams | None = None,
    *,
    seed: int | None = 0,
) -> tuple[list[Group], dict[str, int]]:
    """CopyCatch's lockstep groups (see module docstring), largest first.

    Examples
    --------
    Accounts 0-3 act on objects 0, 1 and 2 within minutes of each other (object 1 an hour
    later); account 4 acts on object 0 in step with them but on nothing else; account 5
    acts on the three objects days later:

    >>> acc = np.array([0, 1, 2, 3] * 3 + [4] + [5, 5, 5])
    >>> obj = np.repeat([0, 1, 2], 4).tolist() + [0] + [0, 1, 2]
    >>> t = [0, 60, 120, 180] + [3600, 3660, 3700, 3720] + [9000, 9010, 9020, 9030] + [30]
    >>> t += [500000, 500100, 500200]
    >>> p = CopyCatchParams(n=3, m=2, delta_t_s=300, rho=1.0)
    >>> groups, _ = lockstep_groups(acc, np.array(obj), np.array(t), 6, p)
    >>> [(g.users.tolist(), g.objects.tolist()) for g in groups]
    [([0, 1, 2, 3], [0, 1, 2])]
    """
    p = p or CopyCatchParams()
    likes = _Likes(likes_account, likes_object, likes_time, n_accounts)
    width = int(2 * p.delta_t_s)
    every = np.arange(len(likes.obj))
    seeds, seed_start, seed_count = likes.best_windows(every, width)
    candidate = seed_count >= p.n
    seeds, seed_start, seed_count = seeds[candidate], seed_start[candidate], seed_count[candidate]
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.permutation(len(seeds)), -seed_count))[: p.n_seeds]
    in_group = np.zeros(max(likes.n_objects, 1), dtype=bool)
    groups: list[Group] = []
    tried = 0
    for s in order:
        if in_group[seeds[s]]:
            continue
        tried += 1
        found = _search(likes, int(seeds[s]), int(seed_start[s]), width, p)
        if found is not None:
            groups.append(found)
            in_group[found.objects] = True
    groups.sort(key=lambda g: (-len(g.users) * len(g.objects), int(g.users[0])))
    return groups, {"seed_candidates": len(seeds), "seeds_tried": tried, "groups": len(groups)}


def _search(likes: _Likes, obj: int, start: int, width: int, p: CopyCatchParams) -> Group | None:
    """The alternating search from one seed (see module docstring)."""
    objects, starts = np.array([obj]), np.array([start])
    users = np.zeros(0, dtype=np.int64)
    hits = np.zeros(0, dtype=np.int64)
    for _ in range(p.max_iter):
        rows = likes.rows_of_objects(objects)
        where = np.searchsorted(objects, likes.obj[rows])
        t = likes.time[rows]
        inside = (t >= starts[where]) & (t <= starts[where] + width)
        per_user = np.bincount(likes.account[rows[inside]], minlength=likes.n_accounts)
        need = max(1, math.ceil(p.rho * len(objects) - 1e-9))
        new_users = np.flatnonzero(per_user >= need)
        if len(new_users) < p.n:
            return None
        member_rows = likes.rows_of_accounts(new_users)
        cand, cand_start, cand_count = likes.best_windows(member_rows, width)
        keep = cand_count >= max(2, math.ceil(p.rho * len(new_users) - 1e-9))
        new_objects, new_starts = cand[keep], cand_start[keep]
        stable = np.array_equal(new_users, users) and np.array_equal(new_objects, objects)
        users, hits = new_users, per_user[new_users]
        if len(new_objects) == 0:
            return None
        objects, starts = new_objects, new_starts
        if stable:
            break
    if len(users) < p.n or len(objects) < p.m:
        return None
    return Group(users, objects, starts + width // 2, hits)


@baseline("copycatch", CopyCatchParams, stages=("search",), tuning=TUNING)
def copycatch(
    posts: Posts, events: Events, p: CopyCatchParams, *, seed: int | None, timer: StageTimer
) -> Found:
    """Run CopyCatch (see module docstring; the seed orders equally busy seeds).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> copycatch(sim.posts, {"describe": False}).method
    'copycatch'
    """
    with timer.stage("search"):
        acts = actions(events, p.objects)
        groups, stats = lockstep_groups(
            acts.account, acts.obj, acts.time, events.n_accounts, p, seed=seed
        )
        membership, group_of = first_group_wins(
            events.n_accounts, [group.users for group in groups], min_size=p.n
        )
    clustering = Clustering(events.accounts, membership, "copycatch", asdict(p), seed, None, 0)
    k = clustering.n_clusters
    score = np.array([groups[g].hits.mean() for g in group_of]) if k else np.zeros(0)
    n_objects = np.array([len(groups[g].objects) for g in group_of], dtype=np.int64)
    reasons = [
        f"a lockstep group: >= {p.n} accounts acting on {o} common {p.objects} objects, "
        f"each member on >= {100 * p.rho:.0f}% of them within {p.delta_t_s:g} s of their centres"
        for o in n_objects
    ]
    verdict = Verdict(
        score=score,
        flagged=np.ones(k, dtype=bool),
        reasons=reasons,
        columns={"lockstep_objects": n_objects, "mean_hits": score},
    )
    return Found(clustering, verdict, stats=stats)

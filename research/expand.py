"""Attach to each flagged cluster the accounts that used its signature.

Community detection needs repeated co-action to place an account; a victim
whose stolen token posted only once or twice has too few edges to be placed,
yet it pushed the same links through the same app as the flagged cluster.
Once a cluster is flagged, its **signature** is the set of (app, domain) and
(app, URL) objects of its members' links that are *exclusive* to it: at least
``signature_exclusivity`` of all links on the object, and of all links to its
domain (URL), come from core members, and at least two core members used it.
The URL level applies to links on known shortener domains only: it catches
attacker-made short links on widely shared shorteners, while a copied
ordinary URL (camouflage) never becomes a signature. A signature must also be *born with the attack*: first seen on the
platform no earlier than ``signature_birth_margin_s`` before the cluster's
onset, so that camouflage (links the attacker copies from honest users) never
becomes a signature. Accounts are attached for signature posts from that
moment to the cluster's last coordinated post (plus one window). Any other account that posted a signature
object during the cluster's active span (widened by one window on each side)
is attached to the cluster. Attached accounts are marked as such, so every
verdict says whether it came from the graph or from the signature.

Conversely, a core member of a flagged cluster that never posted any of its
signature is *unsigned*: honest accounts pulled into an attack cluster by
camouflage (the attacker's copies of their links) are not flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.canonical import is_shortener
from research.detect.clustering import Clustering
from research.evidence import FlagRule
from research.graph.codes import dense_codes, distinct_pairs, group_sizes
from research.graph.events import Events


def attach_by_signature(
    events: Events, clustering: Clustering, clusters: pd.DataFrame, rule: FlagRule | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New membership with signature users attached to flagged clusters.

    Returns
    -------
    membership, attached, unsigned
        The expanded membership (flagged clusters grow; other clusters lose
        the accounts that moved), a mask of the accounts that were attached,
        and a mask of the flagged clusters' core members that never posted
        any of their cluster's signature (honest accounts pulled in by
        camouflage: the verdict does not extend to them).
    """
    rule = rule or FlagRule()
    membership = clustering.membership.copy()
    attached = np.zeros(len(membership), dtype=bool)
    unsigned = np.zeros(len(membership), dtype=bool)
    if len(clusters) == 0 or not clusters["flagged"].any():
        return membership, attached, unsigned
    flagged = clusters["flagged"].to_numpy(dtype=bool)
    in_flagged = (membership >= 0) & flagged[np.maximum(membership, 0)]

    link_cluster = membership[events.link_account]
    owner = signature_owner(events, membership, clusters, rule)
    born_after = _to_seconds(clusters["onset"]) - rule.signature_birth_margin_s
    signs = (owner >= 0) & (owner == link_cluster)
    unsigned = in_flagged.copy()
    unsigned[events.link_account[signs]] = False

    first = born_after
    last = _to_seconds(clusters["last_post"]) + rule.window_s
    candidate = (owner >= 0) & ~in_flagged[events.link_account]
    safe = np.maximum(owner, 0)
    candidate &= (events.link_time >= first[safe]) & (events.link_time <= last[safe])
    if not candidate.any():
        return membership, attached, unsigned
    acc, cl, count = distinct_pairs(events.link_account[candidate], owner[candidate], len(clusters))
    order = np.lexsort((cl, -count, acc))
    acc, cl = acc[order], cl[order]
    first_of = np.ones(len(acc), dtype=bool)
    first_of[1:] = acc[1:] != acc[:-1]
    membership[acc[first_of]] = cl[first_of]
    attached[acc[first_of]] = True
    return membership, attached, unsigned


def signature_owner(
    events: Events, membership: np.ndarray, clusters: pd.DataFrame, rule: FlagRule | None = None
) -> np.ndarray:
    """For each link of ``events``, the flagged cluster whose signature it carries, or -1.

    ``membership`` is the clustering before expansion (the core members); the figures
    that show a cluster's signature take it from here rather than define their own.

    Examples
    --------
    >>> from research.simulate import simulate
    >>> from research.pipeline import PipelineSpec, run_pipeline
    >>> from research.graph.events import encode
    >>> sim = simulate("weheartit", seed=0, n_posts=30_000)
    >>> found = run_pipeline(sim.posts, PipelineSpec(expand=False), seed=0)
    >>> events = encode(sim.posts)
    >>> owner = signature_owner(events, found.clustering.membership, found.clusters)
    >>> cluster = int(found.flagged_clusters["cluster"].iloc[0])
    >>> sorted({events.domains[int(d)] for d in events.link_domain[owner == cluster]})
    ['bit.ly', 'goo.gl', 'ow.ly', 'slim-secret-today-diet-pills.com', 'tinyurl.com', 'womenshealth-diet-news-diet-pills.com']
    """
    rule = rule or FlagRule()
    if len(clusters) == 0 or not clusters["flagged"].any():
        return np.full(len(events.link_post), -1, dtype=np.int64)
    flagged = clusters["flagged"].to_numpy(dtype=bool)
    in_flagged = (membership >= 0) & flagged[np.maximum(membership, 0)]
    link_cluster = membership[events.link_account]
    core = in_flagged[events.link_account]
    app = np.where(events.link_app >= 0, events.link_app, len(events.apps))
    domain = np.where(
        events.link_domain >= 0, events.link_domain, len(events.domains) + events.link_url
    )
    # Two signature levels: (app, domain), and (app, URL) for links whose domain is
    # shared widely (a shortener) but whose exact short link is the attacker's own.
    born_after = _to_seconds(clusters["onset"]) - rule.signature_birth_margin_s
    owner = _signature_owner(
        events, link_cluster, core, app, domain, born_after, rule.signature_exclusivity
    )
    by_url = _signature_owner(
        events, link_cluster, core, app, events.link_url, born_after, rule.signature_exclusivity
    )
    return np.where(owner >= 0, owner, np.where(_on_shortener(events), by_url, -1))


def _on_shortener(events: Events) -> np.ndarray:
    """Whether each link points to a known URL shortener (decided once per domain)."""
    shortener = np.array([is_shortener(d) for d in events.domains.values.to_pylist()], dtype=bool)
    return (events.link_domain >= 0) & shortener[np.maximum(events.link_domain, 0)]


def _signature_owner(
    events: Events,
    link_cluster: np.ndarray,
    core: np.ndarray,
    app: np.ndarray,
    target: np.ndarray,
    born_after: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """For each link, the flagged cluster whose signature its (app, target) object is, or -1.

    An object is a cluster's signature when core members made at least
    ``threshold`` of all links on the object and of all links to the target,
    at least two core members used it, and it first appeared on the platform
    no earlier than ``born_after`` of that cluster.
    """
    n_target = int(target.max(initial=0)) + 1
    key = app.astype(np.int64) * n_target + target
    # Only objects that core members used can be signatures: number those alone (sorted by
    # key, as a numbering of all objects would order them) and find every link's one.
    obj_codes, _core_obj = dense_codes(key[core])
    n_obj = len(obj_codes)
    obj = np.searchsorted(obj_codes, key)
    obj[obj >= n_obj] = 0
    hit = obj_codes[obj] == key if n_obj else np.zeros(len(key), dtype=bool)
    obj = np.where(hit, obj, -1)
    pair_cluster, pair_obj, pair_count = distinct_pairs(link_cluster[core], obj[core], n_obj)
    on_object = pair_count / group_sizes(obj[hit], n_obj)[pair_obj]
    # The target must be exclusive across apps too: camouflage links pushed through an
    # abused app (popular domains) would otherwise pull in that app's honest users.
    t_cluster, t_target, t_count = distinct_pairs(link_cluster[core], target[core], n_target)
    on_target = t_count / group_sizes(target, n_target)[t_target]
    pos = np.searchsorted(
        t_cluster * n_target + t_target, pair_cluster * n_target + obj_codes[pair_obj] % n_target
    )
    members = _members_per(events, link_cluster, core, obj, n_obj)
    birth = np.full(n_obj, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(birth, obj[hit], events.link_time[hit])
    exclusive = (
        (on_object >= threshold)
        & (on_target[pos] >= threshold)
        & (members >= 2)
        & (birth[pair_obj] >= born_after[pair_cluster])
    )
    owner_of_obj = np.full(n_obj + 1, -1, dtype=np.int64)  # the last slot answers for obj == -1
    owner_of_obj[pair_obj[exclusive]] = pair_cluster[exclusive]
    return owner_of_obj[obj]


def _members_per(
    events: Events, link_cluster: np.ndarray, core: np.ndarray, obj: np.ndarray, n_obj: int
) -> np.ndarray:
    """Distinct core members per (cluster, object) pair, in the order of ``distinct_pairs``."""
    key_cluster, key_obj, _ = distinct_pairs(link_cluster[core], obj[core], n_obj)
    triple = link_cluster[core].astype(np.int64) * n_obj + obj[core]
    pos = np.searchsorted(key_cluster * n_obj + key_obj, triple)
    k, _a, _n = distinct_pairs(pos, events.link_account[core], len(events.accounts))
    return group_sizes(k, len(key_cluster))


def _to_seconds(values: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(values, utc=True)
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return seconds.fillna(0).to_numpy(dtype=np.int64)

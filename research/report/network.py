"""The network view of the report: clusters as accounts around the apps and domains they used.

Each shown cluster is drawn as its members (the most active first, up to a
cap) linked to the cluster's top apps and top domains during the attack: the
accounts x apps x URLs fingerprint, at the domain level so that per-post URL
mutations do not scatter it. Positions are computed here (igraph's
Kamada-Kawai layout, seeded) and each cluster is packed into its own
box, so that the page's script only draws, zooms and focuses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import igraph as ig
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from research.detect.communities import seeded
from research.report.escape import clean
from research.report.profile import ClusterProfile, Profiler

KIND_NAMES = ("account", "app", "domain")
_LABEL_LIMIT = 120
_GAP = 1.2  # space between cluster boxes, as a multiple of their side


@dataclass(frozen=True)
class NetworkCaps:
    """Bounds on the drawn network (the page says when they cut)."""

    members_per_cluster: int = 200
    apps_per_cluster: int = 3
    domains_per_cluster: int = 5


def network_data(
    profiler: Profiler,
    profiles: list[ClusterProfile],
    *,
    caps: NetworkCaps | None = None,
    attached: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Node positions, labels and edges of the given clusters, ready for JSON.

    Parameters
    ----------
    profiler
        The profiler the profiles came from (for the events and account names).
    profiles
        The clusters to draw.
    caps
        How many members, apps and domains per cluster.
    attached
        Per account code of the events: joined by signature rather than by the graph.
    seed
        Layout seed.

    Returns
    -------
    dict
        ``kinds``; ``clusters`` (``id``, ``flagged``, ``size``, ``shown``,
        ``box``); ``nodes`` as parallel lists ``x``, ``y``, ``kind``
        (index into ``kinds``), ``cluster`` (index into ``clusters``),
        ``label``, ``info``; ``edges`` as ``s``, ``t``, ``w``.
    """
    caps = caps or NetworkCaps()
    events = profiler.events
    nodes: dict[str, list[Any]] = {
        "x": [],
        "y": [],
        "kind": [],
        "cluster": [],
        "label": [],
        "info": [],
    }
    edges: dict[str, list[Any]] = {"s": [], "t": [], "w": []}
    clusters = []
    cursor_x = cursor_y = row_height = 0.0
    row_width = 0.0
    max_row = 0.0
    boxes = [_box_side(min(len(p.members), caps.members_per_cluster) + 8) for p in profiles]
    # Rows about twice as wide as the stack is tall, like the canvas.
    row_limit = max(
        math.sqrt(2.0 * sum((_GAP * b) ** 2 for b in boxes)), _GAP * max(boxes, default=1.0)
    )

    for slot, (profile, side) in enumerate(zip(profiles, boxes, strict=True)):
        members = profile.members[: caps.members_per_cluster]
        activity = profile.member_posts[: caps.members_per_cluster]
        start, end = profile.span
        apps = profile.apps[profile.apps["app"].notna()].head(caps.apps_per_cluster)
        domains = profile.domains[profile.domains["domain"].notna()].head(caps.domains_per_cluster)
        app_codes = [_code(events.apps.values, name) for name in apps["app"]]
        domain_codes = [_code(events.domains.values, name) for name in domains["domain"]]

        # Member -> object edges, counted over members' posts (links) during the span.
        posts_idx = profiler.cluster_posts(profile.cluster)
        times = events.post_time[posts_idx]
        during = posts_idx[(times >= start) & (times <= end)]
        position = np.full(events.n_accounts, -1, dtype=np.int64)
        position[members] = np.arange(len(members))
        local_src: list[int] = []
        local_dst: list[int] = []
        weight: list[int] = []
        n_members = len(members)
        for offset, code in enumerate(app_codes):
            use = during[events.post_app[during] == code]
            _add_counts(
                position[events.post_account[use]], n_members + offset, local_src, local_dst, weight
            )
        links = profiler.links_of(during)
        for offset, code in enumerate(domain_codes):
            use = links[events.link_domain[links] == code]
            account = events.post_account[events.link_post[use]]
            _add_counts(
                position[account], n_members + len(app_codes) + offset, local_src, local_dst, weight
            )

        n_local = n_members + len(app_codes) + len(domain_codes)
        xy = _layout(n_local, local_src, local_dst, weight, seed)
        if cursor_x > 0 and cursor_x + side > row_limit:
            cursor_x, cursor_y = 0.0, cursor_y + row_height * _GAP
            row_height = 0.0
        box = [cursor_x, cursor_y, cursor_x + side, cursor_y + side]
        xs = box[0] + side * (0.08 + 0.84 * xy[:, 0])
        ys = box[1] + side * (0.12 + 0.84 * xy[:, 1])
        cursor_x += side * _GAP
        row_height = max(row_height, side)
        row_width = max(row_width, cursor_x)
        max_row = max(max_row, cursor_y + side)

        base = len(nodes["x"])
        names = profiler.account_names(members)
        is_attached = (
            attached[members] if attached is not None else np.zeros(len(members), dtype=bool)
        )
        for i, code in enumerate(members):
            account = str(events.accounts[int(code)])
            label = f"@{clean(names[i], 60)}" if names[i] else account
            lines = [f"account {clean(account, _LABEL_LIMIT)}"]
            if names[i]:
                lines.append(f"@{clean(names[i], _LABEL_LIMIT)}")
            lines.append(f"cluster {profile.cluster}; {int(activity[i])} post(s) during the attack")
            if is_attached[i]:
                lines.append("attached by the cluster's signature")
            _node(nodes, xs[i], ys[i], 0, slot, clean(label, _LABEL_LIMIT), "\n".join(lines))
        for j, (name, count, share) in enumerate(
            zip(apps["app"], apps["posts"], apps["share"], strict=True)
        ):
            info = f"app {clean(name, _LABEL_LIMIT)}\n{100 * share:.0f}% of the cluster's posts during the attack ({int(count)})"
            _node(
                nodes,
                xs[n_members + j],
                ys[n_members + j],
                1,
                slot,
                clean(name, _LABEL_LIMIT),
                info,
            )
        for j, (name, count, share) in enumerate(
            zip(domains["domain"], domains["links"], domains["share"], strict=True)
        ):
            k = n_members + len(app_codes) + j
            info = f"domain {clean(name, _LABEL_LIMIT)}\n{100 * share:.0f}% of the cluster's links during the attack ({int(count)})"
            _node(nodes, xs[k], ys[k], 2, slot, clean(name, _LABEL_LIMIT), info)
        edges["s"] += [base + s for s in local_src]
        edges["t"] += [base + t for t in local_dst]
        edges["w"] += weight
        evidence = profile.evidence
        clusters.append(
            {
                "id": profile.cluster,
                "flagged": bool(evidence.get("flagged", False)),
                "size": int(profile.size),
                "shown": len(members),
                "score": _round(evidence.get("score")),
                "box": [round(v, 2) for v in box],
            }
        )
    return {
        "kinds": list(KIND_NAMES),
        "clusters": clusters,
        "nodes": nodes,
        "edges": edges,
        "extent": [0.0, 0.0, round(max(row_width, 1.0), 2), round(max(max_row, 1.0), 2)],
    }


def _round(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 4) if math.isfinite(number) else None


def _box_side(n_nodes: int) -> float:
    """Box side grows with the square root of the node count, so densities look alike."""
    return round(10.0 * math.sqrt(max(n_nodes, 1)), 2)


def _code(values: pa.Array, name: str) -> int:
    return int(pc.index(values, pa.scalar(name, pa.string())).as_py())


def _add_counts(
    local: np.ndarray, target: int, src: list[int], dst: list[int], weight: list[int]
) -> None:
    local = local[local >= 0]
    if len(local) == 0:
        return
    counts = np.bincount(local)
    users = np.flatnonzero(counts)
    src += users.tolist()
    dst += [target] * len(users)
    weight += counts[users].tolist()


def _layout(n: int, src: list[int], dst: list[int], weight: list[int], seed: int) -> np.ndarray:
    """Positions in the unit square (rounded, so that the page's bytes are stable)."""
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.array([[0.5, 0.5]])
    graph = ig.Graph(n=n, edges=np.column_stack([src, dst]) if src else [], directed=False)
    with seeded(seed):
        # Kamada-Kawai keeps graph distances: two hubs that share members sit two steps
        # apart with the shared members between them, instead of on top of each other
        # (as force-directed layouts put them).
        layout = graph.layout_kamada_kawai(maxiter=50 * n)
    xy = np.asarray(layout.coords, dtype=np.float64)
    low, high = xy.min(axis=0), xy.max(axis=0)
    scale = float(np.max(high - low)) or 1.0
    xy = (xy - low) / scale + (1.0 - (high - low) / scale) / 2.0
    return np.round(xy, 4)


def _node(
    nodes: dict[str, list[Any]], x: float, y: float, kind: int, cluster: int, label: str, info: str
) -> None:
    nodes["x"].append(round(float(x), 2))
    nodes["y"].append(round(float(y), 2))
    nodes["kind"].append(kind)
    nodes["cluster"].append(cluster)
    nodes["label"].append(label)
    nodes["info"].append(info)

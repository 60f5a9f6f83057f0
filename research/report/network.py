"""The network view of the report: clusters as accounts around the apps and domains they used.

Each shown cluster is drawn as its members (the most active first, up to a
cap) linked to the cluster's top apps and top domains during the attack: the
accounts x apps x URLs fingerprint, at the domain level so that per-post URL
mutations do not scatter it. Positions are computed here and each cluster is
packed into its own box, so that the page's script only draws, zooms and focuses.

The layout is a ring: the apps and domains sit evenly on a circle (apps first,
each kind in order of use), and each member at the weighted mean of the
objects it used, drawn in towards the centre, members at one spot spread on a
sunflower spiral. A member's place says which objects it used; the objects
never pile up in the middle, where a force-directed or Kamada-Kawai layout puts
the objects every member shares (the labels of the top app and the top
domains overlapped there), and each object's label has the outside of the
ring to itself. No randomness: the same clusters give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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

    Returns
    -------
    dict
        ``kinds``; ``clusters`` (``id``, ``flagged``, ``size``, ``shown``,
        ``box``); ``nodes`` as parallel lists ``x``, ``y``, ``kind``
        (index into ``kinds``), ``cluster`` (index into ``clusters``),
        ``label``, ``info``, ``rank`` (order among the cluster's nodes of that
        kind, most used first: the page labels the top ones first); ``edges`` as
        ``s``, ``t``, ``w``.
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
        "rank": [],
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

        # The top app and the top domain take the places with the most room for a label,
        # then the second of each, and so on.
        n_apps, n_domains = len(app_codes), len(domain_codes)
        priority = sorted(
            range(n_apps + n_domains),
            key=lambda k: (k if k < n_apps else k - n_apps, k >= n_apps),
        )
        xy = ring_layout(n_members, n_apps + n_domains, local_src, local_dst, weight, priority)
        if cursor_x > 0 and cursor_x + side > row_limit:
            cursor_x, cursor_y = 0.0, cursor_y + row_height * _GAP
            row_height = 0.0
        box = [cursor_x, cursor_y, cursor_x + side, cursor_y + side]
        # The ring leaves a margin for the labels outside it.
        xs = box[0] + side * (0.12 + 0.76 * xy[:, 0])
        ys = box[1] + side * (0.14 + 0.76 * xy[:, 1])
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
            _node(nodes, xs[i], ys[i], 0, slot, clean(label, _LABEL_LIMIT), "\n".join(lines), i)
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
                j,
            )
        for j, (name, count, share) in enumerate(
            zip(domains["domain"], domains["links"], domains["share"], strict=True)
        ):
            k = n_members + len(app_codes) + j
            info = f"domain {clean(name, _LABEL_LIMIT)}\n{100 * share:.0f}% of the cluster's links during the attack ({int(count)})"
            _node(nodes, xs[k], ys[k], 2, slot, clean(name, _LABEL_LIMIT), info, j)
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


#: Members sit at this share of the way from the centre to the objects they used.
_PULL = 0.72
#: Radius step of the sunflower spiral that spreads members at one spot (ring radius = 1).
_SPREAD = 0.035
_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def ring_layout(
    n_members: int,
    n_objects: int,
    src: list[int],
    dst: list[int],
    weight: list[int],
    priority: list[int] | None = None,
) -> np.ndarray:
    """Positions in the unit square: objects (nodes ``n_members..``) evenly on a circle, each
    member at the weighted mean of its objects pulled towards the centre, members at one spot
    spread on a sunflower spiral (rounded: stable bytes).

    Objects take the places on the circle in the order of ``priority`` (indices into the
    objects; default their order), the first the places whose labels have the most room: the
    left and right ends (labels run outwards, into the margin), then the lower half, the top
    last (where the page writes the cluster's title).

    Examples
    --------
    >>> xy = ring_layout(3, 2, [0, 1, 1, 2], [3, 3, 4, 4], [1, 1, 1, 1])
    >>> xy[3:].tolist()  # the two objects, at the left and the right end
    [[0.0, 0.5], [1.0, 0.5]]
    >>> bool(xy[0, 0] < xy[1, 0] < xy[2, 0])  # members between the objects they used
    True
    """
    n = n_members + n_objects
    if n == 0:
        return np.zeros((0, 2))
    angle = math.pi - 2 * math.pi * np.arange(n_objects) / max(n_objects, 1)
    # Places by room for a label: ends first (|sin| small), then lower (sin < 0), top last.
    places = sorted(
        range(n_objects),
        key=lambda k: (round(abs(math.sin(angle[k])), 6), round(math.sin(angle[k]), 6), k),
    )
    order = list(range(n_objects)) if priority is None else list(priority)
    slot = np.zeros(n_objects, dtype=np.int64)
    slot[order] = places
    ring = np.column_stack([np.cos(angle[slot]), -np.sin(angle[slot])])  # y grows downwards
    xy = np.zeros((n, 2))
    xy[n_members:] = ring
    if n_members:
        src_a, dst_a = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
        w = np.asarray(weight, dtype=np.float64)
        total = np.bincount(src_a, weights=w, minlength=n_members)
        for axis in (0, 1):
            pulled = np.bincount(
                src_a, weights=w * ring[dst_a - n_members, axis], minlength=n_members
            )
            xy[:n_members, axis] = _PULL * np.divide(
                pulled, total, out=np.zeros(n_members), where=total > 0
            )
        xy[:n_members] = _spread(np.round(xy[:n_members], 6))
    if n == 1:
        return np.array([[0.5, 0.5]])
    low, high = xy.min(axis=0), xy.max(axis=0)
    if n_objects > 1:  # the ring fills the square, whatever the members do
        low, high = np.minimum(low, -1.0), np.maximum(high, 1.0)
    scale = float(np.max(high - low)) or 1.0
    xy = (xy - low) / scale + (1.0 - (high - low) / scale) / 2.0
    return np.round(xy + 0.0, 4)


def _spread(points: np.ndarray) -> np.ndarray:
    """Members at the same spot placed on a sunflower spiral around it (in their order)."""
    out = points.copy()
    _, group, counts = np.unique(points, axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    rank = np.zeros(len(points), dtype=np.int64)
    seen = np.zeros(len(counts), dtype=np.int64)
    for i, g in enumerate(group.tolist()):
        rank[i] = seen[g]
        seen[g] += 1
    crowded = counts[group] > 1
    radius = _SPREAD * np.sqrt(rank + 0.5)
    theta = rank * _GOLDEN_ANGLE
    out[crowded, 0] += (radius * np.cos(theta))[crowded]
    out[crowded, 1] += (radius * np.sin(theta))[crowded]
    return out


def _node(
    nodes: dict[str, list[Any]],
    x: float,
    y: float,
    kind: int,
    cluster: int,
    label: str,
    info: str,
    rank: int,
) -> None:
    """Append one node; ``rank`` orders nodes of one kind in a cluster (0 = the most used)."""
    nodes["x"].append(round(float(x), 2))
    nodes["y"].append(round(float(y), 2))
    nodes["kind"].append(kind)
    nodes["cluster"].append(cluster)
    nodes["label"].append(label)
    nodes["info"].append(info)
    nodes["rank"].append(rank)

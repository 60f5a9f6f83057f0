"""The case-study figure: one detected cluster as its accounts × apps × URLs subgraph, and its timeline."""

from __future__ import annotations

from typing import cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from research.graph.codes import group_sizes
from research.graph.events import Events
from research.plotting import DOUBLE_COLUMN, OKABE_ITO, new_figure, paper_style, plain_text

_GREY = "#9a9a9a"


def _shorten(text: str, width: int) -> str:
    """Scheme dropped; long names keep their start and end (where URLs differ)."""
    text = text.split("://", 1)[-1]
    if len(text) <= width:
        return text
    tail = width // 2
    return text[: width - tail - 1] + "…" + text[-tail:]


def signature_objects(
    events: Events,
    membership: np.ndarray,
    cluster: int,
    exclusive: float = 0.5,
    min_members: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Apps and URL stems that belong to a cluster: members made at least ``exclusive`` of their
    posts, and at least ``min_members`` of the members (a share; never fewer than 3) used them.

    The second condition keeps out the one-off links any account posts alone.
    Returns boolean masks over app codes and over stem codes.

    Examples
    --------
    >>> import datetime as dt
    >>> import numpy as np
    >>> from research.graph.events import encode
    >>> from research.posts import Posts
    >>> t0 = dt.datetime(2014, 5, 1, tzinfo=dt.timezone.utc)
    >>> def post(i, account, app, url):
    ...     return {"post_id": str(i), "account_id": account, "timestamp": t0 + dt.timedelta(minutes=i),
    ...             "app_name": app, "urls": [url], "domains": [url.split("/")[2]], "text": "hi"}
    >>> rows = [post(i, a, "Spam App", "http://x.example/p") for i, a in enumerate("abc")]
    >>> events = encode(Posts.from_records([*rows, post(3, "d", "Twitter", "http://news.example/1")]))
    >>> membership = np.array([0 if a in "abc" else -1 for a in events.accounts.to_numpy()])
    >>> apps, stems = signature_objects(events, membership, 0)
    >>> [events.apps[i] for i in np.flatnonzero(apps)]
    ['Spam App']
    """
    in_cluster = membership == cluster
    need = max(3, int(np.ceil(min_members * in_cluster.sum())))
    member_post = in_cluster[events.post_account]
    known = events.post_app >= 0
    n_apps = len(events.apps)
    app_total = group_sizes(events.post_app[known], n_apps)
    mine = known & member_post
    app_mine = group_sizes(events.post_app[mine], n_apps)
    app_users = group_sizes(
        np.unique(np.column_stack([events.post_account[mine], events.post_app[mine]]), axis=0)[
            :, 1
        ],
        n_apps,
    )
    stem_labels, link_stem = events.stems()
    n_stems = len(stem_labels)
    link_member = member_post[events.link_post]
    stem_total = group_sizes(link_stem, n_stems)
    stem_mine = group_sizes(link_stem[link_member], n_stems)
    pairs = np.unique(
        np.column_stack([events.link_account[link_member], link_stem[link_member]]), axis=0
    )
    stem_users = group_sizes(pairs[:, 1], n_stems)
    own_apps = (app_users >= need) & (app_mine >= exclusive * app_total)
    own_stems = (stem_users >= need) & (stem_mine >= exclusive * stem_total)
    return own_apps, own_stems


def _top(codes: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` codes with the largest total weight (ties by code, so the choice is stable)."""
    codes, inverse = np.unique(codes, return_inverse=True)
    totals = np.bincount(inverse, weights=weights)
    order = np.lexsort((codes, -totals))
    return codes[order[:k]]


def cluster_subgraph(
    events: Events,
    membership: np.ndarray,
    cluster: int,
    *,
    max_apps: int = 6,
    max_urls: int = 8,
    exclusive: float = 0.5,
    ax: Axes | None = None,
) -> Figure:
    """A cluster's members between the apps they posted through and the URLs they posted.

    Apps (left) and URLs with their query strings stripped (right) are the
    members' most used; the rest are pooled into one "other" node per side.
    Edge width follows the number of posts; an app or URL is drawn in colour
    when members made at least ``exclusive`` of all its posts (it belongs to
    the cluster rather than to the platform), in grey otherwise.

    Parameters
    ----------
    events
        Encoded posts.
    membership
        Cluster of each account code.
    cluster
        The cluster to draw.
    max_apps, max_urls
        How many apps and URLs get their own node.
    exclusive
        Members' share of an object's posts from which it is coloured.

    Examples
    --------
    >>> from research.simulate import simulate
    >>> from research.pipeline import run_pipeline
    >>> from research.graph.events import encode
    >>> sim = simulate("weheartit", seed=0, n_posts=30_000)
    >>> found = run_pipeline(sim.posts, seed=0)
    >>> cluster = int(found.flagged_clusters["cluster"].iloc[0])
    >>> fig = cluster_subgraph(encode(sim.posts), found.clustering.membership, cluster)
    >>> "We Heart It" in [t.get_text() for t in fig.axes[0].texts]
    True
    """
    in_cluster = membership == cluster
    members = np.flatnonzero(in_cluster)
    member_post = in_cluster[events.post_account]
    stem_labels, link_stem = events.stems()

    # Members' posts by app, and each app's share of its posts made by members.
    post_app = events.post_app
    mine = member_post & (post_app >= 0)
    app_mine = group_sizes(post_app[mine], len(events.apps))
    top_apps = _top(post_app[mine], np.ones(int(mine.sum())), max_apps)

    link_member = member_post[events.link_post]
    stem_mine = group_sizes(link_stem[link_member], len(stem_labels))
    top_stems = _top(link_stem[link_member], np.ones(int(link_member.sum())), max_urls)

    with paper_style():
        fig, axis = (
            new_figure(DOUBLE_COLUMN / 2, 2.6) if ax is None else (cast(Figure, ax.figure), ax)
        )
        # Members sorted by their first post in the cluster's favourite app, so that edges fan out cleanly.
        first = np.full(events.n_accounts, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, events.post_account[member_post], events.post_time[member_post])
        members = members[np.argsort(first[members], kind="stable")]
        y_member = dict(
            zip(members.tolist(), np.linspace(0.98, 0.02, len(members)).tolist(), strict=True)
        )

        def side_nodes(top: np.ndarray, x: float) -> dict[int, float]:
            ys = np.linspace(0.92, 0.08, len(top) + 1)
            return {
                **{int(c): float(y) for c, y in zip(top, ys[:-1], strict=True)},
                -2: float(ys[-1]),
            }

        y_app, y_stem = side_nodes(top_apps, 0.0), side_nodes(top_stems, 2.0)

        def edges(
            objects: np.ndarray,
            accounts: np.ndarray,
            y_obj: dict[int, float],
            x_obj: float,
            coloured: set[int],
        ) -> None:
            obj = np.where(np.isin(objects, list(y_obj)), objects, -2)
            pairs, counts = np.unique(np.column_stack([accounts, obj]), axis=0, return_counts=True)
            segments = [((x_obj, y_obj[o]), (1.0, y_member[a])) for a, o in pairs.tolist()]
            colours = [
                OKABE_ITO["vermillion"] if o in coloured else _GREY for o in pairs[:, 1].tolist()
            ]
            widths = 0.25 + 0.35 * np.log1p(counts)
            axis.add_collection(
                LineCollection(segments, colors=colours, linewidths=widths, alpha=0.35, zorder=1)
            )

        own_apps, own_stems = signature_objects(events, membership, cluster, exclusive)
        exclusive_apps = {int(a) for a in top_apps if own_apps[a]}
        exclusive_stems = {int(s) for s in top_stems if own_stems[s]}
        edges(post_app[mine], events.post_account[mine], y_app, 0.0, exclusive_apps)
        edges(
            link_stem[link_member], events.link_account[link_member], y_stem, 2.0, exclusive_stems
        )

        axis.scatter(
            np.ones(len(members)),
            list(y_member.values()),
            s=2,
            color=OKABE_ITO["black"],
            zorder=3,
            linewidths=0,
        )
        for nodes, x, labels, coloured, align, n_other in (
            (
                y_app,
                0.0,
                events.apps,
                exclusive_apps,
                "right",
                int(mine.sum() - app_mine[top_apps].sum()),
            ),
            (
                y_stem,
                2.0,
                stem_labels,
                exclusive_stems,
                "left",
                int(link_member.sum() - stem_mine[top_stems].sum()),
            ),
        ):
            for code, y in nodes.items():
                colour = OKABE_ITO["vermillion"] if code in coloured else _GREY
                axis.scatter([x], [y], s=18, color=colour, zorder=4, linewidths=0)
                text = f"other ({n_other} posts)" if code == -2 else _shorten(labels[code], 26)
                offset = -0.06 if align == "right" else 0.06
                axis.text(x + offset, y, plain_text(text), ha=align, va="center", fontsize=6)
        axis.text(0.05, 1.04, "apps", ha="right", fontsize=7, weight="bold")
        axis.text(1.0, 1.04, f"{len(members)} accounts", ha="center", fontsize=7, weight="bold")
        axis.text(1.95, 1.04, "URLs (query stripped)", ha="left", fontsize=7, weight="bold")
        axis.set_xlim(-1.0, 3.1)
        axis.set_ylim(-0.02, 1.1)
        axis.axis("off")
    return fig


def signature_timeline(
    events: Events,
    membership: np.ndarray,
    cluster: int,
    *,
    bin_minutes: int = 60,
    exclusive: float = 0.5,
    ax: Axes | None = None,
) -> Figure:
    """Posts per time bin: the members' posts carrying one of the cluster's own URLs (see
    :func:`signature_objects`), the members' other posts, and everyone else (symmetric log scale).

    URLs rather than apps mark the attack: an abused app is one the victims
    had used legitimately all along.

    Examples
    --------
    >>> import datetime as dt
    >>> import numpy as np
    >>> from research.graph.events import encode
    >>> from research.posts import Posts
    >>> t0 = dt.datetime(2014, 5, 1, tzinfo=dt.timezone.utc)
    >>> def post(i, account, app, url):
    ...     return {"post_id": str(i), "account_id": account, "timestamp": t0 + dt.timedelta(minutes=i),
    ...             "app_name": app, "urls": [url], "domains": [url.split("/")[2]], "text": "hi"}
    >>> events = encode(Posts.from_records([post(i, a, "Spam App", "http://x.example/p") for i, a in enumerate("abc")]))
    >>> fig = signature_timeline(events, np.zeros(3, dtype=int), 0)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][2]
    "members, posts with the cluster's URLs"
    """
    _, own_stems = signature_objects(events, membership, cluster, exclusive)
    member_post = (membership == cluster)[events.post_account]
    _, link_stem = events.stems()
    signature = np.zeros(events.n_posts, dtype=bool)
    signature[events.link_post[own_stems[link_stem]]] = True
    signature &= member_post
    t = events.post_time
    start = int(t.min()) if len(t) else 0
    edges = np.arange(start, int(t.max(initial=start)) + bin_minutes * 60 + 1, bin_minutes * 60)
    days = (edges[:-1] - start) / 86_400
    with paper_style():
        fig, axis = new_figure() if ax is None else (cast(Figure, ax.figure), ax)
        peak = 1
        for mask, colour, label in (
            (~member_post, _GREY, "all other accounts"),
            (member_post & ~signature, OKABE_ITO["blue"], "members, other posts"),
            (signature, OKABE_ITO["vermillion"], "members, posts with the cluster's URLs"),
        ):
            counts, _ = np.histogram(t[mask], bins=edges)
            peak = max(peak, int(counts.max(initial=0)))
            axis.step(days, counts, where="post", color=colour, label=label, linewidth=0.8)
        axis.set_yscale("symlog", linthresh=1)
        # Head room above the busiest curve keeps the legend off the data.
        axis.set_ylim(0, peak * 60)
        axis.set_xlabel("time since first post (days)")
        axis.set_ylabel(f"posts per {bin_minutes} min")
        axis.legend(loc="upper left", ncol=1, borderaxespad=0.3, handlelength=1.5)
    return fig


def case_study_figure(
    events: Events, membership: np.ndarray, cluster: int, *, bin_minutes: int = 60
) -> Figure:
    """Double-column figure: (a) the cluster's accounts × apps × URLs subgraph, (b) its posts
    per hour against all other accounts.

    Examples
    --------
    >>> import datetime as dt
    >>> import numpy as np
    >>> from research.graph.events import encode
    >>> from research.posts import Posts
    >>> t0 = dt.datetime(2014, 5, 1, tzinfo=dt.timezone.utc)
    >>> def post(i, account, app, url):
    ...     return {"post_id": str(i), "account_id": account, "timestamp": t0 + dt.timedelta(minutes=i),
    ...             "app_name": app, "urls": [url], "domains": [url.split("/")[2]], "text": "hi"}
    >>> events = encode(Posts.from_records([post(i, a, "Spam App", "http://x.example/p") for i, a in enumerate("abc")]))
    >>> len(case_study_figure(events, np.zeros(3, dtype=int), 0).axes)
    2
    """
    with paper_style():
        fig, axes = new_figure(
            DOUBLE_COLUMN, 2.5, ncols=2, gridspec_kw={"width_ratios": [1.15, 1.0]}
        )
        left, right = axes  # type: ignore[misc]
        cluster_subgraph(events, membership, cluster, ax=left)
        signature_timeline(events, membership, cluster, bin_minutes=bin_minutes, ax=right)
        left.set_title("(a) detected cluster: apps, accounts, URLs", fontsize=8, loc="left", pad=4)
        right.set_title("(b) its posts against all other accounts", fontsize=8, loc="left", pad=4)
        fig.tight_layout(pad=0.3, w_pad=1.5)
    return fig

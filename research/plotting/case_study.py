"""The case-study figure: one detected cluster as its accounts × apps × URLs subgraph, and its timeline.

What is drawn in colour is the cluster's **signature** as the method computed it
(:func:`research.evidence.signature_links`): the caller passes, for every link, whether
it carries the cluster's signature. The figure decides nothing itself.
"""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from research.graph.codes import group_sizes
from research.graph.events import Events
from research.plotting import DOUBLE_COLUMN, OKABE_ITO, new_figure, paper_style, plain_text

_GREY = "#9a9a9a"
_ELLIPSIS = "…"
_MIN_PATH = 10  # characters of a path shown, however long the host


def shorten_name(text: str, width: int) -> str:
    """A name cut in its middle to ``width`` characters (its start and end kept).

    Examples
    --------
    >>> shorten_name("Twitter for Android Tablets", 16)
    'Twitter …Tablets'
    """
    if len(text) <= width:
        return text
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + _ELLIPSIS + text[len(text) - tail :]


def shorten_url(url: str, width: int) -> str:
    """A URL label of about ``width`` characters: the scheme dropped, the host kept whole,
    the path cut in its middle (its start and its end, where URLs of one campaign differ).

    Examples
    --------
    >>> shorten_url("https://slim-secret-today-diet-pills.com/offer/2014/05/landing-page-7", 44)
    'slim-secret-today-diet-pills.com/offer…age-7'
    >>> shorten_url("http://bit.ly/1a2b3c", 12)
    'bit.ly/1a2b3c'
    >>> shorten_url("https://a-very-long-host-name.example.com/offer/2014/05/17", 10)
    'a-very-long-host-name.example.com/offe…5/17'
    """
    parts = urlsplit(url)
    if not parts.netloc:
        return shorten_name(url, width)
    host = parts.netloc
    path = url.split("://", 1)[-1][len(host) :]
    # The host is never cut, and the path keeps its ends even when the host fills the width.
    room = max(width - len(host), _MIN_PATH)
    if len(path) <= room:
        return host + path
    tail = (room - 1) // 2
    return host + path[: room - 1 - tail] + _ELLIPSIS + (path[len(path) - tail :] if tail else "")


def _top(codes: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` codes with the largest total weight (ties by code, so the choice is stable)."""
    codes, inverse = np.unique(codes, return_inverse=True)
    totals = np.bincount(inverse, weights=weights)
    order = np.lexsort((codes, -totals))
    return codes[order[:k]]


def signature_posts(events: Events, signature: np.ndarray) -> np.ndarray:
    """Per post: whether one of its links carries the signature (``signature`` is per link)."""
    marked = np.zeros(events.n_posts, dtype=bool)
    marked[events.link_post[np.asarray(signature, dtype=bool)]] = True
    return marked


def _toy_case() -> tuple[Events, np.ndarray, np.ndarray]:
    """Three accounts pushing one link through one app, and a bystander (for the examples)."""
    import datetime as dt

    from research.graph.events import encode
    from research.posts import Posts

    t0 = dt.datetime(2014, 5, 1, tzinfo=dt.UTC)
    rows = [
        {"post_id": str(i), "account_id": a, "timestamp": t0 + dt.timedelta(minutes=i),
         "app_name": app, "urls": [url], "domains": [url.split("/")[2]], "text": "hi"}
        for i, (a, app, url) in enumerate([
            ("a", "Spam App", "http://x.example/p"), ("b", "Spam App", "http://x.example/p"),
            ("c", "Spam App", "http://x.example/p"), ("d", "Twitter", "http://news.example/1"),
        ])
    ]  # fmt: skip
    events = encode(Posts.from_records(rows))
    membership = np.array([0 if a in "abc" else -1 for a in events.accounts.to_numpy()])
    return events, membership, membership[events.link_account] == 0


def cluster_subgraph(
    events: Events,
    membership: np.ndarray,
    cluster: int,
    signature: np.ndarray,
    *,
    max_apps: int = 6,
    max_urls: int = 8,
    ax: Axes | None = None,
) -> Figure:
    """A cluster's members between the apps they posted through and the URLs they posted.

    Apps (left) and URLs with their query strings stripped (right) are the
    members' most used; the rest are pooled into one "other" node per side.
    Edge width follows the number of posts. An app, a URL and an edge are drawn
    in colour when they carry the cluster's signature, in grey otherwise.

    Parameters
    ----------
    events
        Encoded posts.
    membership
        Cluster of each account code.
    cluster
        The cluster to draw.
    signature
        Per link of ``events``: whether it carries the cluster's signature, as the
        method computed it (:func:`research.evidence.signature_links`).
    max_apps, max_urls
        How many apps and URLs get their own node.
    ax
        Axes to draw into (default: a new figure).

    Examples
    --------
    >>> events, membership, signature = _toy_case()
    >>> fig = cluster_subgraph(events, membership, 0, signature)
    >>> sorted(t.get_text() for t in fig.axes[0].texts if "example" in t.get_text() or "App" in t.get_text())
    ['Spam App', 'x.example/p']
    """
    signature = np.asarray(signature, dtype=bool)
    in_cluster = membership == cluster
    members = np.flatnonzero(in_cluster)
    member_post = in_cluster[events.post_account]
    stem_labels, link_stem = events.stems()
    signed_post = signature_posts(events, signature)

    post_app = events.post_app
    mine = member_post & (post_app >= 0)
    app_mine = group_sizes(post_app[mine], len(events.apps))
    top_apps = _top(post_app[mine], np.ones(int(mine.sum())), max_apps)

    link_member = member_post[events.link_post]
    stem_mine = group_sizes(link_stem[link_member], len(stem_labels))
    top_stems = _top(link_stem[link_member], np.ones(int(link_member.sum())), max_urls)
    # The apps and URLs of the signature: those of the members' signature posts and links.
    signed_apps = {int(a) for a in np.unique(post_app[mine & signed_post])}
    signed_stems = {int(u) for u in np.unique(link_stem[link_member & signature])}

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

        def side_nodes(top: np.ndarray) -> dict[int, float]:
            ys = np.linspace(0.92, 0.08, len(top) + 1)
            return {
                **{int(c): float(y) for c, y in zip(top, ys[:-1], strict=True)},
                -2: float(ys[-1]),
            }

        y_app, y_stem = side_nodes(top_apps), side_nodes(top_stems)

        def edges(
            objects: np.ndarray,
            accounts: np.ndarray,
            signed: np.ndarray,
            y_obj: dict[int, float],
            x_obj: float,
        ) -> None:
            obj = np.where(np.isin(objects, list(y_obj)), objects, -2)
            pairs, inverse, counts = np.unique(
                np.column_stack([accounts, obj]), axis=0, return_inverse=True, return_counts=True
            )
            # An edge is coloured when any of its posts (links) carries the signature.
            coloured = np.bincount(inverse.ravel(), weights=signed, minlength=len(pairs)) > 0
            segments = [((x_obj, y_obj[o]), (1.0, y_member[a])) for a, o in pairs.tolist()]
            colours = [OKABE_ITO["vermillion"] if c else _GREY for c in coloured.tolist()]
            widths = 0.25 + 0.35 * np.log1p(counts)
            axis.add_collection(
                LineCollection(segments, colors=colours, linewidths=widths, alpha=0.35, zorder=1)
            )

        edges(post_app[mine], events.post_account[mine], signed_post[mine], y_app, 0.0)
        edges(
            link_stem[link_member], events.link_account[link_member],
            signature[link_member], y_stem, 2.0,
        )  # fmt: skip

        axis.scatter(
            np.ones(len(members)),
            list(y_member.values()),
            s=2,
            color=OKABE_ITO["black"],
            zorder=3,
            linewidths=0,
        )
        n_other_apps = int(mine.sum() - app_mine[top_apps].sum())
        n_other_urls = int(link_member.sum() - stem_mine[top_stems].sum())
        for nodes, x, coloured, align, n_other in (
            (y_app, 0.0, signed_apps, "right", n_other_apps),
            (y_stem, 2.0, signed_stems, "left", n_other_urls),
        ):
            for code, y in nodes.items():
                colour = OKABE_ITO["vermillion"] if code in coloured else _GREY
                axis.scatter([x], [y], s=18, color=colour, zorder=4, linewidths=0)
                if code == -2:
                    text = f"other ({n_other} posts)"
                elif align == "right":
                    text = shorten_name(str(events.apps[code]), 26)
                else:
                    text = shorten_url(str(stem_labels[code]), 38)
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
    signature: np.ndarray,
    *,
    bin_minutes: int = 60,
    ax: Axes | None = None,
) -> Figure:
    """Posts per time bin: the members' posts that carry the cluster's signature, the members'
    other posts, and everyone else (symmetric log scale).

    ``signature`` is per link, as in :func:`cluster_subgraph`.

    Examples
    --------
    >>> events, membership, signature = _toy_case()
    >>> fig = signature_timeline(events, membership, 0, signature)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][2]
    "members, posts with the cluster's signature"
    """
    member_post = (membership == cluster)[events.post_account]
    signed = signature_posts(events, signature) & member_post
    t = events.post_time
    start = int(t.min()) if len(t) else 0
    edges = np.arange(start, int(t.max(initial=start)) + bin_minutes * 60 + 1, bin_minutes * 60)
    days = (edges[:-1] - start) / 86_400
    with paper_style():
        fig, axis = new_figure() if ax is None else (cast(Figure, ax.figure), ax)
        peak = 1
        for mask, colour, label in (
            (~member_post, _GREY, "all other accounts"),
            (member_post & ~signed, OKABE_ITO["blue"], "members, other posts"),
            (signed, OKABE_ITO["vermillion"], "members, posts with the cluster's signature"),
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
    events: Events,
    membership: np.ndarray,
    cluster: int,
    signature: np.ndarray,
    *,
    bin_minutes: int = 60,
) -> Figure:
    """Double-column figure: (a) the cluster's accounts × apps × URLs subgraph, (b) its posts
    per hour against all other accounts; the cluster's signature (per link) in colour.

    Examples
    --------
    >>> events, membership, signature = _toy_case()
    >>> len(case_study_figure(events, membership, 0, signature).axes)
    2
    """
    with paper_style():
        fig, axes = new_figure(
            DOUBLE_COLUMN, 2.5, ncols=2, gridspec_kw={"width_ratios": [1.15, 1.0]}
        )
        left, right = axes  # type: ignore[misc]
        cluster_subgraph(events, membership, cluster, signature, ax=left)
        signature_timeline(
            events, membership, cluster, signature, bin_minutes=bin_minutes, ax=right
        )
        left.set_title("(a) detected cluster: apps, accounts, URLs", fontsize=8, loc="left", pad=4)
        right.set_title("(b) its posts against all other accounts", fontsize=8, loc="left", pad=4)
        fig.tight_layout(pad=0.3, w_pad=1.5)
    return fig

"""Figures of a single detection run."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from research.graph.events import Events
from research.plotting import OKABE_ITO, new_figure, paper_style
from research.rule import Rule


def cluster_timeline(
    events: Events,
    membership: np.ndarray,
    cluster: int,
    *,
    bin_minutes: int = 60,
    ax: Axes | None = None,
) -> Figure:
    """Posts per hour: one cluster's members against everyone else (log scale).

    Parameters
    ----------
    events
        Encoded posts.
    membership
        Cluster of each account code.
    cluster
        The cluster to draw.
    bin_minutes
        Bin width in minutes.
    """
    with paper_style():
        fig, axis = new_figure() if ax is None else (cast(Figure, ax.figure), ax)
        t = events.post_time
        start = int(t.min()) if len(t) else 0
        edges = np.arange(start, int(t.max(initial=start)) + bin_minutes * 60 + 1, bin_minutes * 60)
        in_cluster = membership[events.post_account] == cluster
        days = (edges[:-1] - start) / 86_400
        others, _ = np.histogram(t[~in_cluster], bins=edges)
        members, _ = np.histogram(t[in_cluster], bins=edges)
        axis.step(days, others, where="post", color="#7f7f7f", label="all other accounts")
        axis.step(
            days, members, where="post", color=OKABE_ITO["vermillion"], label=f"cluster {cluster}"
        )
        axis.set_yscale("symlog", linthresh=1)
        axis.set_xlabel("time since first post (days)")
        axis.set_ylabel(f"posts per {bin_minutes} min")
        axis.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, borderaxespad=0.2)
    return fig


#: Cluster sizes shown in the evidence map's size key.
_SIZE_KEY = (5, 50, 500)
#: Exclusivity below this is drawn on the linear part of the symmetric-log axis (0 included).
_EXCLUSIVITY_LINTHRESH = 1e-3


def marker_area(size: Any) -> Any:
    """Marker area (points²) of a cluster of ``size`` accounts in the evidence map: proportional
    to the square root of the size, on a fixed scale, so that the key reads the same in every run.

    Examples
    --------
    >>> float(marker_area(100))
    30.0
    """
    return 3.0 * np.sqrt(np.asarray(size, dtype=np.float64))


def evidence_map(
    clusters: pd.DataFrame, *, rule: Rule | None = None, ax: Axes | None = None
) -> Figure:
    """Every cluster by the exclusivity of its signature and its concert (its strongest sign
    of acting in concert, over that sign's threshold, capped at 1).

    Marker area grows with the square root of the cluster's size (a key says how);
    compromised clusters are vermillion. Exclusivity spans orders of magnitude, so the x axis
    is symmetric-log: linear below 10⁻³ (zero included), logarithmic above, and the axis
    label says so. The rule's two thresholds on these axes (``rule.min_exclusivity``, and 1
    for concert) are drawn when ``rule`` is given; the rule has further terms (adopters,
    span, routine, reposts, reuse), so a cluster beyond both lines may still not be
    compromised. Keys sit above the axes, never on the data.

    Parameters
    ----------
    clusters
        The clusters table (``exclusivity``, ``concert``, ``size``, ``flagged``).
    rule
        The rule the detection used (``None``: no thresholds drawn, e.g. for a baseline,
        whose own rule decided).
    ax
        Axes to draw into (default: a new single-column figure).

    Examples
    --------
    >>> import pandas as pd
    >>> from research.rule import Rule
    >>> clusters = pd.DataFrame({"exclusivity": [0.0, 0.002, 0.9], "concert": [0.0, 0.7, 1.0],
    ...                          "size": [4, 12, 381], "flagged": [False, False, True]})
    >>> fig = evidence_map(clusters, rule=Rule())
    >>> fig.axes[0].get_xscale(), fig.axes[0].lines[0].get_xdata()[0], fig.axes[0].lines[1].get_ydata()[0]
    ('symlog', 0.7, 1.0)
    """
    with paper_style():
        fig, axis = new_figure(height=2.9) if ax is None else (cast(Figure, ax.figure), ax)
        flagged = clusters["flagged"].to_numpy(dtype=bool)
        # Unflagged first, so that flagged clusters are drawn on top.
        order = np.argsort(flagged, kind="stable")
        shown = clusters.iloc[order]
        colours = np.where(flagged[order], OKABE_ITO["vermillion"], OKABE_ITO["blue"])
        axis.scatter(
            shown["exclusivity"], shown["concert"], s=marker_area(shown["size"]),
            c=colours, alpha=0.6, linewidths=0, zorder=3,
        )  # fmt: skip
        axis.set_xscale("symlog", linthresh=_EXCLUSIVITY_LINTHRESH, linscale=0.5)
        axis.set_xlim(-2e-4, 1.3)
        axis.set_ylim(-0.04, 1.04)
        axis.set_xlabel("exclusivity of the signature (share; symmetric log axis)")
        axis.set_ylabel("concert (strongest sign / threshold)")
        kinds = [
            Line2D(
                [], [], linestyle="", marker="o", color=OKABE_ITO["vermillion"], label="compromised"
            ),
            Line2D(
                [], [], linestyle="", marker="o", color=OKABE_ITO["blue"], label="not compromised"
            ),
            Line2D([], [], linestyle="", label=" "),
        ]
        if rule is not None:
            threshold: dict[str, Any] = {"color": "#555555", "linestyle": "--", "linewidth": 0.7}
            axis.axvline(rule.min_exclusivity, zorder=2, **threshold)
            axis.axhline(1.0, zorder=2, **threshold)
            kinds[2] = Line2D([], [], label="rule's thresholds", **threshold)
        sizes = [
            Line2D([], [], linestyle="", marker="o", color="#888888", alpha=0.6,
                   markersize=float(np.sqrt(marker_area(n))), label=f"{n} accounts")
            for n in _SIZE_KEY
        ]  # fmt: skip
        # One key above the axes: the kinds on the first row, the sizes on the second
        # (legend columns fill top to bottom).
        axis.legend(
            handles=[h for pair in zip(kinds, sizes, strict=True) for h in pair],
            ncol=3, loc="lower left", bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2,
            handletextpad=0.3, columnspacing=1.0, title="marker area ∝ √(cluster size)",
            title_fontsize=7, alignment="left",
        )  # fmt: skip
    return fig

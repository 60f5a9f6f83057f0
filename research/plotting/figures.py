"""Figures of a single detection run."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from research.graph.events import Events
from research.plotting import OKABE_ITO, new_figure, paper_style
from research.truth import GroundTruth


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


def evidence_map(
    clusters: pd.DataFrame, truth_share: np.ndarray | None = None, *, ax: Axes | None = None
) -> Figure:
    """Every group by the exclusivity of its signature and its concert (the strongest sign of
    acting in concert over its threshold); marker area = size. Groups judged compromised are
    red."""
    with paper_style():
        fig, axis = new_figure() if ax is None else (cast(Figure, ax.figure), ax)
        big = clusters[clusters["size"] >= 3]
        brk = big["concert"]
        size = (
            4 + 40 * np.sqrt(big["size"] / max(float(big["size"].max()), 1.0)) if len(big) else []
        )
        colours: Any = (
            np.where(big["flagged"], OKABE_ITO["vermillion"], OKABE_ITO["blue"]) if len(big) else []
        )
        axis.scatter(big["exclusivity"], brk, s=size, c=colours, alpha=0.7, linewidths=0)
        axis.scatter([], [], c=OKABE_ITO["vermillion"], label="compromised", s=12)
        axis.scatter([], [], c=OKABE_ITO["blue"], label="coordinated or none", s=12)
        axis.set_xlabel("exclusivity of the signature (share)")
        axis.set_ylabel("concert (strongest signal / threshold)")
        axis.set_xlim(-0.03, 1.03)
        axis.set_ylim(-0.03, 1.03)
        axis.legend(loc="lower right")
    return fig


def truth_breakdown(accounts: pd.DataFrame, truth: GroundTruth) -> pd.DataFrame:
    """Counts of flagged / not flagged accounts by their true role (campaign, decoy kind, benign)."""
    ids = accounts["account"].astype(str).tolist()
    campaign = truth.campaign_of(ids)
    decoy = truth.decoy_of(ids)
    kind = np.where(campaign != None, "campaign", np.where(decoy != None, decoy, "benign"))  # noqa: E711
    frame = pd.DataFrame({"kind": kind, "flagged": accounts["flagged"].to_numpy()})
    return frame.groupby(["kind", "flagged"]).size().unstack(fill_value=0)

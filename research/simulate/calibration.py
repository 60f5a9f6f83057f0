"""Measured properties of a posts table, to compare a simulated platform with what it is calibrated to.

Examples
--------
>>> from research.simulate import simulate
>>> stats = platform_statistics(simulate("weheartit", seed=0, n_posts=20_000).posts)
>>> 0.5 < stats["top10_account_share"] < 1.0
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc

from research.posts import Posts


def top_share(counts: np.ndarray, fraction: float | None = None, k: int | None = None) -> float:
    """Share of the total held by the largest entries: the top ``fraction`` of them, or the top ``k``.

    Examples
    --------
    >>> top_share(np.array([80, 5, 5, 5, 5]), fraction=0.2)
    0.8
    >>> top_share(np.array([3, 1, 1]), k=2)
    0.8
    """
    counts = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    total = counts.sum()
    if total == 0:
        return float("nan")
    n = k if k is not None else max(1, int(np.ceil((fraction or 0.0) * len(counts))))
    return float(counts[:n].sum() / total)


def platform_statistics(posts: Posts) -> dict[str, Any]:
    """Activity concentration, app concentration, link and repost shares, and the daily rhythm.

    Returns
    -------
    dict
        ``top10_account_share`` (posts by the most active 10% of posting accounts),
        ``top5_app_share`` (posts with a known app sent through the five most used apps),
        ``url_share`` (posts with at least one URL), ``repost_share``,
        ``hourly_trough_to_peak`` (quietest over busiest hour of the day, UTC, summed over days),
        ``median_posts_per_account``, ``n_posts``, ``n_accounts``.
    """
    table = posts.table
    accounts = (
        pc.value_counts(table.column("account_id").combine_chunks()).field("counts").to_numpy()
    )
    apps = table.column("app_name").combine_chunks().drop_null()
    app_counts = pc.value_counts(apps).field("counts").to_numpy() if len(apps) else np.zeros(0)
    n_urls = pc.list_value_length(table.column("urls")).to_numpy(zero_copy_only=False)
    hours = pc.hour(table.column("timestamp")).to_numpy(zero_copy_only=False)
    per_hour = np.bincount(hours, minlength=24)
    return {
        "n_posts": int(table.num_rows),
        "n_accounts": len(accounts),
        "top10_account_share": top_share(accounts, fraction=0.10),
        "top5_app_share": top_share(app_counts, k=5),
        "url_share": float(np.mean(n_urls > 0)) if len(n_urls) else float("nan"),
        "repost_share": float(pc.mean(table.column("is_repost").cast("int8")).as_py() or 0.0),
        "hourly_trough_to_peak": float(per_hour.min() / per_hour.max())
        if per_hour.max()
        else float("nan"),
        "median_posts_per_account": float(np.median(accounts)) if len(accounts) else float("nan"),
    }

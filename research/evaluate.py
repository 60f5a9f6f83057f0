"""Metrics of a detection against ground truth.

Accounts are the unit: an account is *predicted positive* when it is in a
flagged cluster and *truly positive* when it belongs to a planted campaign.
Only accounts present in the posts are counted (truth may list accounts that
never posted).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from research._igraph import ig
from research.truth import GroundTruth


def account_labels(
    accounts: pd.DataFrame, truth: GroundTruth
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truth campaign, decoy kind and role of each row of ``accounts``."""
    ids = accounts["account"].astype(str).tolist()
    campaign = truth.campaign_of(ids)
    decoy = truth.decoy_of(ids)
    return campaign, decoy, np.array([c is not None for c in campaign])


def evaluate(accounts: pd.DataFrame, truth: GroundTruth) -> dict[str, Any]:
    """Account-level metrics of a verdict table (``account``, ``cluster``, ``flagged``; the
    grouping metrics compare ``campaign`` with the planted campaigns where the table has it).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1``, ``fpr`` (flagged share of benign
        accounts), ``fpr_decoys`` (same among decoy accounts, by kind),
        ``nmi_all``/``ari_all`` (flagged clusters vs campaigns over all accounts,
        unflagged accounts as one class), ``nmi_flagged``/``ari_flagged``
        (over flagged accounts only), ``campaign_recall`` (per campaign),
        ``purity`` and ``bcubed_precision``/``bcubed_recall``/``bcubed_f1``
        (see :func:`purity` and :func:`bcubed`), and counts.

    Examples
    --------
    >>> truth = GroundTruth.from_labels(["a", "b", "c", "d"], ["x", "x", None, None])
    >>> acc = pd.DataFrame({"account": list("abcd"), "cluster": [0, 0, 0, -1], "flagged": [True, True, True, False]})
    >>> m = evaluate(acc, truth)
    >>> round(m["precision"], 3), m["recall"], m["fpr"]
    (0.667, 1.0, 0.5)
    """
    campaign, decoy, positive = account_labels(accounts, truth)
    flagged = accounts["flagged"].to_numpy(dtype=bool)
    # The predicted groups: campaigns where the method joins its flagged clusters into them
    # (the package's ``campaign`` column), else the clusters.
    cluster = accounts["campaign" if "campaign" in accounts else "cluster"].to_numpy()
    tp = int(np.sum(flagged & positive))
    fp = int(np.sum(flagged & ~positive))
    fn = int(np.sum(~flagged & positive))
    n_benign = int(np.sum(~positive))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    truth_codes = _codes(np.where(positive, campaign, "(benign)"))
    predicted = np.where(flagged, cluster, -1)
    pred_codes = _codes(predicted)
    metrics: dict[str, Any] = {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "fpr": fp / n_benign if n_benign else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "n_accounts": len(accounts),
        "n_positive": int(positive.sum()),
        "n_flagged": int(flagged.sum()),
        "nmi_all": _compare(truth_codes, pred_codes, "nmi"),
        "ari_all": _compare(truth_codes, pred_codes, "ari"),
    }
    if flagged.any():
        metrics["nmi_flagged"] = _compare(truth_codes[flagged], pred_codes[flagged], "nmi")
        metrics["ari_flagged"] = _compare(truth_codes[flagged], pred_codes[flagged], "ari")
    else:
        metrics["nmi_flagged"] = metrics["ari_flagged"] = 0.0
    metrics["fpr_decoys"] = {
        kind: float(np.mean(flagged[(decoy == kind) & ~positive]))
        if np.any((decoy == kind) & ~positive)
        else 0.0
        for kind in ("news", "feed", "org")
    }
    metrics["campaign_recall"] = {
        name: float(np.mean(flagged[campaign == name]))
        for name in sorted({c for c in campaign if c is not None})
    }
    metrics["purity"] = purity(flagged, cluster, campaign)
    metrics.update({f"bcubed_{k}": v for k, v in bcubed(flagged, cluster, campaign).items()})
    return metrics


def _overlaps(flagged: np.ndarray, cluster: np.ndarray, campaign: np.ndarray) -> pd.DataFrame:
    """Per flagged account: its cluster's size and how many of its cluster share its campaign."""
    frame = pd.DataFrame(
        {
            "cluster": cluster[flagged],
            "campaign": pd.Series(campaign[flagged], dtype=object).fillna(""),
        }
    )
    frame["size"] = frame.groupby("cluster")["cluster"].transform("size")
    same = frame.groupby(["cluster", "campaign"])["cluster"].transform("size")
    frame["same"] = np.where(
        frame["campaign"] == "", 1, same
    )  # a benign account is a class of its own
    return frame


def purity(flagged: np.ndarray, cluster: np.ndarray, campaign: np.ndarray) -> float:
    """Share of flagged accounts that belong to their flagged cluster's majority campaign.

    Benign accounts are each a class of their own (a cluster of benign
    accounts is impure, not a pure "benign" cluster); 0 when nothing is flagged.

    Examples
    --------
    >>> purity(np.array([True] * 4), np.array([0, 0, 0, 1]), np.array(["x", "x", None, None], dtype=object))
    0.75
    """
    flagged = np.asarray(flagged, dtype=bool)
    if not flagged.any():
        return 0.0
    frame = _overlaps(flagged, np.asarray(cluster), np.asarray(campaign, dtype=object))
    return float(frame.groupby("cluster")["same"].max().sum() / len(frame))


def bcubed(flagged: np.ndarray, cluster: np.ndarray, campaign: np.ndarray) -> dict[str, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin 1998) of flagged clusters against campaigns.

    Predicted clusters are the flagged clusters (an unflagged account is alone);
    true classes are the campaigns (a benign account is alone). As precision
    and recall do for accounts, B-cubed precision averages over the flagged
    accounts (the share of an account's cluster that shares its campaign) and
    recall over the campaign accounts (the share of an account's campaign that
    shares its cluster), so that accounts nobody flagged and nobody planted do
    not count, and a missed campaign account is not "precise".

    Examples
    --------
    >>> c = np.array(["x", "x", "x", None], dtype=object)
    >>> {k: round(v, 3) for k, v in bcubed(np.array([True, True, False, True]), np.array([0, 0, -1, 0]), c).items()}
    {'precision': 0.556, 'recall': 0.556, 'f1': 0.556}
    """
    flagged = np.asarray(flagged, dtype=bool)
    campaign = np.asarray(campaign, dtype=object)
    positive = np.array([c is not None for c in campaign], dtype=bool)
    precision = recall = 0.0
    if flagged.any():
        frame = _overlaps(flagged, np.asarray(cluster), campaign)
        precision = float((frame["same"] / frame["size"]).mean())
    if positive.any():
        class_size = pd.Series(campaign[positive]).value_counts()
        same = np.ones(
            int(positive.sum())
        )  # an unflagged campaign account shares its cluster with itself only
        hit = flagged[positive]
        if hit.any():
            frame = _overlaps(flagged & positive, np.asarray(cluster), campaign)
            same[hit] = frame["same"].to_numpy()
        recall = float((same / class_size.reindex(campaign[positive]).to_numpy()).mean())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _codes(values: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
    return inverse


def _compare(a: np.ndarray, b: np.ndarray, method: str) -> float:
    if len(a) == 0:
        return 0.0
    if len(np.unique(a)) == 1 and len(np.unique(b)) == 1:
        return 1.0
    return float(
        ig.compare_communities(
            a.tolist(), b.tolist(), method={"ari": "adjusted_rand"}.get(method, method)
        )
    )


#: Recall levels at which precision-recall curves are kept (interpolated precision).
RECALL_LEVELS = np.linspace(0.0, 1.0, 21)


def average_precision(score: np.ndarray, positive: np.ndarray) -> float:
    """Average precision of a ranking of accounts by ``score`` (higher = more suspicious):
    the mean of the precision at each positive's rank, ties ranked together at their last
    rank; NaN when there is no positive. Accounts scored 0 were not ranked by the method and
    count as ranked last.

    Examples
    --------
    >>> average_precision(np.array([0.9, 0.8, 0.1, 0.0]), np.array([True, False, True, False]))
    0.8333333333333333
    """
    score = np.asarray(score, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-score, kind="stable")
    s, p = score[order], positive[order]
    # Ties share their last rank: precision is counted after the whole tied block.
    last = np.r_[s[1:] != s[:-1], True]
    ends = np.flatnonzero(last)
    end_of = ends[np.searchsorted(ends, np.arange(len(s)))]
    hits = np.cumsum(p)
    precision_at_end = hits[end_of] / (end_of + 1)
    return float(precision_at_end[p].sum() / n_pos)


def precision_at_recall(
    score: np.ndarray, positive: np.ndarray, levels: np.ndarray = RECALL_LEVELS
) -> np.ndarray:
    """Interpolated precision (the best precision at any recall at least the level) of a
    ranking, at each recall level; NaN when there is no positive.

    Examples
    --------
    >>> precision_at_recall(np.array([0.9, 0.8, 0.1]), np.array([True, False, True]), np.array([0.5, 1.0])).tolist()
    [1.0, 0.6666666666666666]
    """
    score = np.asarray(score, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    if n_pos == 0:
        return np.full(len(levels), np.nan)
    order = np.argsort(-score, kind="stable")
    s, p = score[order], positive[order]
    last = np.r_[s[1:] != s[:-1], True]
    ends = np.flatnonzero(last)
    hits = np.cumsum(p)[ends]
    precision = hits / (ends + 1)
    recall = hits / n_pos
    best = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, levels, side="left")
    return np.where(idx < len(best), best[np.minimum(idx, len(best) - 1)], 0.0)

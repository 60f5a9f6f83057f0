"""Metrics of a detection against ground truth.

Accounts are the unit: an account is *predicted positive* when it is in a
flagged cluster and *truly positive* when it belongs to a planted campaign.
Only accounts present in the posts are counted (truth may list accounts that
never posted).
"""

from __future__ import annotations

from typing import Any

import igraph as ig
import numpy as np
import pandas as pd

from research.truth import GroundTruth


def account_labels(accounts: pd.DataFrame, truth: GroundTruth) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truth campaign, decoy kind and role of each row of ``accounts``."""
    ids = accounts["account"].astype(str).tolist()
    campaign = truth.campaign_of(ids)
    decoy = truth.decoy_of(ids)
    return campaign, decoy, np.array([c is not None for c in campaign])


def evaluate(accounts: pd.DataFrame, truth: GroundTruth) -> dict[str, Any]:
    """Account-level metrics of a verdict table (``account``, ``cluster``, ``flagged``).

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
    cluster = accounts["cluster"].to_numpy()
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
        "n_accounts": int(len(accounts)),
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
        kind: float(np.mean(flagged[(decoy == kind) & ~positive])) if np.any((decoy == kind) & ~positive) else 0.0
        for kind in ("news", "feed", "org")
    }
    metrics["campaign_recall"] = {
        name: float(np.mean(flagged[campaign == name])) for name in sorted({c for c in campaign if c is not None})
    }
    metrics["purity"] = purity(flagged, cluster, campaign)
    metrics.update({f"bcubed_{k}": v for k, v in bcubed(flagged, cluster, campaign).items()})
    return metrics


def _overlaps(flagged: np.ndarray, cluster: np.ndarray, campaign: np.ndarray) -> pd.DataFrame:
    """Per flagged account: its cluster's size and how many of its cluster share its campaign."""
    frame = pd.DataFrame({"cluster": cluster[flagged], "campaign": pd.Series(campaign[flagged], dtype=object).fillna("")})
    frame["size"] = frame.groupby("cluster")["cluster"].transform("size")
    same = frame.groupby(["cluster", "campaign"])["cluster"].transform("size")
    frame["same"] = np.where(frame["campaign"] == "", 1, same)  # a benign account is a class of its own
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
    true classes are the campaigns (a benign account is alone). Averages run over
    the accounts that are flagged or in a campaign (the others are alone on both
    sides and would only dilute the scores).

    Examples
    --------
    >>> c = np.array(["x", "x", "x", None], dtype=object)
    >>> bcubed(np.array([True, True, False, True]), np.array([0, 0, -1, 0]), c)
    {'precision': 0.6666666666666666, 'recall': 0.6666666666666666, 'f1': 0.6666666666666666}
    """
    flagged = np.asarray(flagged, dtype=bool)
    campaign = np.asarray(campaign, dtype=object)
    positive = np.array([c is not None for c in campaign], dtype=bool)
    items = flagged | positive
    if not items.any():
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    class_size = pd.Series(campaign[positive]).value_counts()
    # Flagged accounts: overlap with their cluster; unflagged campaign accounts: themselves only.
    frame = _overlaps(flagged, np.asarray(cluster), campaign)
    own_class = np.ones(int(flagged.sum()))
    own_class[positive[flagged]] = class_size.reindex(campaign[flagged][positive[flagged]]).to_numpy()
    p_flagged = frame["same"].to_numpy() / frame["size"].to_numpy()
    r_flagged = frame["same"].to_numpy() / own_class
    missed = positive & ~flagged
    p_missed = np.ones(int(missed.sum()))
    r_missed = 1.0 / class_size.reindex(campaign[missed]).to_numpy() if missed.any() else np.zeros(0)
    precision = float(np.concatenate([p_flagged, p_missed]).mean())
    recall = float(np.concatenate([r_flagged, r_missed]).mean())
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
    return float(ig.compare_communities(a.tolist(), b.tolist(), method={"ari": "adjusted_rand"}.get(method, method)))

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.evaluate import evaluate
from research.truth import GroundTruth


def test_metrics_on_a_hand_checked_case():
    truth = GroundTruth.from_labels(list("abcdef"), ["x", "x", "y", None, None, None])
    accounts = pd.DataFrame(
        {
            "account": list("abcdef"),
            "cluster": [0, 0, 0, 1, -1, -1],
            "flagged": [True, True, False, True, False, False],
        }
    )
    m = evaluate(accounts, truth)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["fpr"] == pytest.approx(1 / 3)
    assert m["campaign_recall"] == {"x": 1.0, "y": 0.0}


def test_perfect_and_empty_verdicts():
    truth = GroundTruth.from_labels(list("abcd"), ["x", "x", None, None])
    perfect = pd.DataFrame(
        {"account": list("abcd"), "cluster": [0, 0, -1, -1], "flagged": [True, True, False, False]}
    )
    m = evaluate(perfect, truth)
    assert (
        m["f1"] == 1.0 and m["nmi_all"] == pytest.approx(1.0) and m["ari_all"] == pytest.approx(1.0)
    )
    nothing = perfect.assign(flagged=False, cluster=-1)
    m = evaluate(nothing, truth)
    assert m["f1"] == 0.0 and m["recall"] == 0.0 and m["nmi_flagged"] == 0.0


def test_purity_and_bcubed_see_merged_and_split_campaigns():
    from research.evaluate import bcubed, purity

    campaign = np.array(["x"] * 4 + ["y"] * 4 + [None, None], dtype=object)
    flagged = np.array([True] * 8 + [False, False])
    perfect = np.array([0] * 4 + [1] * 4 + [-1, -1])
    assert purity(flagged, perfect, campaign) == 1.0
    assert bcubed(flagged, perfect, campaign) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    merged = np.array([0] * 8 + [-1, -1])
    assert purity(flagged, merged, campaign) == 0.5
    b = bcubed(flagged, merged, campaign)
    assert b["precision"] == 0.5 and b["recall"] == 1.0
    split = np.array([0, 0, 1, 1, 2, 2, 3, 3, -1, -1])
    b = bcubed(flagged, split, campaign)
    assert purity(flagged, split, campaign) == 1.0 and b["precision"] == 1.0 and b["recall"] == 0.5
    # a flagged benign account dilutes its cluster's purity; a missed campaign account lowers recall
    with_benign = np.array([0] * 4 + [1] * 4 + [0, -1])
    flags = np.array([True] * 9 + [False])
    assert purity(flags, with_benign, campaign) == pytest.approx(8 / 9)


def test_evaluate_reports_purity_and_bcubed():
    truth = GroundTruth.from_labels(list("abcd"), ["x", "x", None, None])
    accounts = pd.DataFrame(
        {"account": list("abcd"), "cluster": [0, 0, -1, -1], "flagged": [True, True, False, False]}
    )
    m = evaluate(accounts, truth)
    assert m["purity"] == 1.0 and m["bcubed_f1"] == 1.0

from __future__ import annotations

import pandas as pd
import pytest

from research.evaluate import evaluate
from research.truth import GroundTruth


def test_metrics_on_a_hand_checked_case():
    truth = GroundTruth.from_labels(list("abcdef"), ["x", "x", "y", None, None, None])
    accounts = pd.DataFrame(
        {"account": list("abcdef"), "cluster": [0, 0, 0, 1, -1, -1], "flagged": [True, True, False, True, False, False]}
    )
    m = evaluate(accounts, truth)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["fpr"] == pytest.approx(1 / 3)
    assert m["campaign_recall"] == {"x": 1.0, "y": 0.0}


def test_perfect_and_empty_verdicts():
    truth = GroundTruth.from_labels(list("abcd"), ["x", "x", None, None])
    perfect = pd.DataFrame({"account": list("abcd"), "cluster": [0, 0, -1, -1], "flagged": [True, True, False, False]})
    m = evaluate(perfect, truth)
    assert m["f1"] == 1.0 and m["nmi_all"] == pytest.approx(1.0) and m["ari_all"] == pytest.approx(1.0)
    nothing = perfect.assign(flagged=False, cluster=-1)
    m = evaluate(nothing, truth)
    assert m["f1"] == 0.0 and m["recall"] == 0.0 and m["nmi_flagged"] == 0.0

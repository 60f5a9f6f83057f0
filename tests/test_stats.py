"""The paper's statistics: clipped seeded bootstrap intervals and an undefined precision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.tools.stats import bootstrap_ci, precision, precision_summary


def test_bootstrap_interval_of_a_share_never_leaves_zero_one():
    # The case: Student-t gave 0.16 +- 0.19 for these precisions, below 0.
    values = [0.0, 0.0, 0.0, 0.8, 0.0]
    mean, low, high = bootstrap_ci(values)
    assert mean == pytest.approx(0.16)
    assert 0.0 <= low <= mean <= high <= 1.0
    # Near 1 the upper end is clipped (the bootstrap of the mean cannot exceed max = 1 anyway;
    # values above 1 are not shares, and clipping is what keeps them in range).
    assert bootstrap_ci([1.2, 0.9, 1.1])[2] == 1.0
    assert bootstrap_ci([1.2, 0.9, 1.1], share=False)[2] > 1.0


def test_bootstrap_is_seeded_and_covers_the_mean_of_a_known_distribution():
    rng = np.random.default_rng(7)
    sample = rng.normal(0.5, 0.1, size=200)
    first = bootstrap_ci(sample, seed=3)
    assert first == bootstrap_ci(sample, seed=3)
    assert first != bootstrap_ci(sample, seed=4)
    mean, low, high = first
    # The normal-theory half width is 1.96 * 0.1 / sqrt(200) = 0.0139; the bootstrap agrees.
    assert high - low == pytest.approx(2 * 1.96 * sample.std(ddof=1) / math.sqrt(200), rel=0.1)
    assert low < mean < high
    # Coverage: over 300 samples of 20 draws, the 95% interval holds the true mean about
    # 95% of the time (the percentile bootstrap runs a little short at n = 20).
    hits = 0
    for k in range(300):
        draws = rng.normal(0.5, 0.1, size=20)
        _m, lo, hi = bootstrap_ci(draws, n_resamples=2000, seed=k)
        hits += lo <= 0.5 <= hi
    assert 0.88 <= hits / 300 <= 0.99


def test_bootstrap_ignores_nan_and_has_no_interval_without_values():
    assert bootstrap_ci([0.5, float("nan"), 0.5]) == (0.5, 0.5, 0.5)
    assert all(math.isnan(v) for v in bootstrap_ci([float("nan")]))
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([0.1, 0.2], level=1.5)


def test_precision_is_undefined_when_nothing_is_flagged_not_zero():
    assert math.isnan(precision(0, 0))
    assert precision(0, 5) == 0.0 and precision(3, 1) == 0.75


def test_precision_summary_counts_runs_that_flagged_nothing_and_shows_n_a():
    # Three runs nearly all right, two that flagged nothing: with 0 for those the mean would
    # read 0.58; the defined runs say 0.97, and the table says two runs were silent.
    summary = precision_summary([10, 9, 10, 0, 0], [0, 1, 0, 0, 0])
    assert summary.mean == pytest.approx((1 + 0.9 + 1) / 3)
    assert summary.n_runs == 5 and summary.n_flagged_nothing == 2
    assert 0.0 <= summary.low <= summary.mean <= summary.high <= 1.0
    assert summary.text().endswith("; 2 of 5 runs flagged nothing")
    silent = precision_summary([0, 0, 0], [0, 0, 0])
    assert math.isnan(silent.mean)
    assert silent.text() == "n/a (3 of 3 runs flagged nothing)"
    with pytest.raises(ValueError):
        precision_summary([1, 2], [0])

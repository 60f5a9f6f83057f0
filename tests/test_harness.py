"""Runtime, memory and latency measurement for the comparison harness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.tools.harness import (
    campaign_onsets,
    detection_latency,
    measure,
    measure_in_subprocess,
)
from research.posts import write_posts
from research.simulate import simulate


@pytest.fixture(scope="module")
def small():
    return simulate("weheartit", seed=0, n_posts=60_000)


def test_measure_times_and_traces_memory():
    m = measure(lambda n: np.zeros(n).sum(), 2_000_000, memory=True)
    assert m.value == 0.0 and m.seconds > 0 and m.peak_bytes >= 16_000_000
    assert measure(sum, [1, 2]).peak_bytes is None


def test_latency_is_found_within_the_attack_and_bounded_by_the_step(small):
    onsets = campaign_onsets(small.posts, small.truth)
    assert list(onsets) == ["diet-pills"]
    table = detection_latency("joint", small.posts, small.truth, step_s=6 * 3600)
    row = table.iloc[0]
    assert row["campaign"] == "diet-pills"
    duration_h = small.scenario.campaigns[0].duration_days * 24
    assert 0 <= row["latency_h"] <= duration_h + 6  # flagged during the attack, at 6 h resolution
    assert row["latency_h"] % 6 == 0 and row["runs"] == row["latency_h"] / 6 + 1
    assert row["recall_at_detection"] > 0


def test_a_method_that_never_flags_the_campaign_has_no_latency(small):
    # FRAUDAR's densest block here is not the campaign: no flagged cluster ever holds it
    table = detection_latency(
        "fraudar",
        small.posts,
        small.truth,
        params={"k": 1, "describe": False},
        step_s=48 * 3600,
        max_steps=1,
    )
    assert table["campaign"].tolist() == ["diet-pills"]
    row = table.iloc[0]
    assert np.isnan(row["latency_h"]) and pd.isna(row["detected_at"])
    assert np.isnan(row["recall_at_detection"])
    assert row["runs"] == 2  # the one step allowed, then all posts: every prefix was tried


@pytest.mark.slow
def test_measure_in_subprocess_reports_time_and_peak_memory(small, tmp_path):
    path = write_posts(small.posts, tmp_path / "posts.parquet")
    report = measure_in_subprocess("joint", path, seed=0)
    assert report["n_posts"] == len(small.posts) and report["n_flagged_accounts"] > 0
    assert report["peak_rss_bytes"] >= report["rss_before_bytes"] > 50_000_000
    assert report["seconds"] > 0

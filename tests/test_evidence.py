"""Evidence columns added for analysts: history counts (hijacked vs fake-like) and URL concentration."""

from __future__ import annotations

import numpy as np

from research.pipeline import run_pipeline
from research.simulate import simulate


def test_fake_accounts_are_counted_as_members_without_history():
    sim = simulate(
        "rogue_app", seed=0, n_posts=150_000, overrides={"campaign": {"fake_share": 0.3}}
    )
    detection = run_pipeline(sim.posts, seed=0)
    clusters = detection.clusters
    assert (
        clusters["n_with_history"] + clusters["n_without_history"] == clusters["core_size"]
    ).all()
    row = detection.flagged_clusters.iloc[0]
    core = detection.accounts[
        (detection.accounts["cluster"] == row["cluster"]) & ~detection.accounts["attached"]
    ]
    roles = sim.truth.accounts.to_pandas().set_index("account_id")["role"]
    n_fake = int((roles.reindex(core["account"]) == "fake").sum())
    assert n_fake > 10 and row["n_without_history"] >= n_fake  # every fake account lacks a history
    assert np.isclose(row["with_history"], row["n_with_history"] / row["core_size"])
    assert 0 < row["url_share"] <= row["domain_share"] <= 1  # a URL is one of its domain's links
    assert f"{int(row['n_without_history'])} had no earlier post" in detection.explain(
        int(row["cluster"])
    )

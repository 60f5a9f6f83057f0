"""End-to-end behaviour of the package's method on simulated platforms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.evaluate import evaluate
from research.pipeline import PipelineSpec, run_pipeline
from research.simulate import simulate


def test_weheartit_campaign_found_decoys_not_flagged(weheartit, weheartit_detection):
    metrics = evaluate(weheartit_detection.accounts, weheartit.truth)
    assert metrics["f1"] >= 0.95
    assert metrics["fpr"] <= 0.005
    assert metrics["fpr_decoys"] == {"news": 0.0, "feed": 0.0, "org": 0.0}
    flagged = weheartit_detection.flagged
    assert flagged["top_app"].tolist() == ["We Heart It"]
    assert flagged["top_domain"].iloc[0].endswith("diet-pills.com")


def test_benign_coordination_alone_is_never_flagged():
    # news bursts, feed apps and organisations, and no attack at all
    sim = simulate(
        "weheartit",
        seed=5,
        n_posts=150_000,
        overrides={"campaigns": [], "decoys": {"news_bursts": 12}},
    )
    detection = run_pipeline(sim.posts, seed=0)
    assert len(detection.clusters) > 0  # there is coordination to find...
    assert not detection.clusters["flagged"].any()  # ...and none of it is an attack
    groups = sim.scenario.decoys.feeds + sim.scenario.decoys.orgs
    found = detection.clusters[
        (detection.clusters["exclusivity"] > 0.9) & (detection.clusters["size"] >= 10)
    ]
    assert (
        len(found) >= groups >= 4
    )  # every feed and organisation is found as a cluster, then rejected
    assert (found["history_break"] == 0).all()


def test_rogue_app_campaign_is_flagged_and_explained():
    sim = simulate("rogue_app", seed=0)
    detection = run_pipeline(sim.posts, seed=0)
    metrics = evaluate(detection.accounts, sim.truth)
    assert metrics["f1"] >= 0.9 and metrics["fpr"] <= 0.005
    row = detection.flagged.iloc[0]
    assert row["app_novelty"] > 0.9  # nobody had used the rogue app before
    text = detection.explain(int(row["cluster"])).text
    assert "Social Booster Pro" in text and "rogue app" in text and "is flagged" in text


def test_every_campaign_of_multi_campaign_is_recovered_separately():
    sim = simulate("multi_campaign", seed=0)
    detection = run_pipeline(sim.posts, seed=0)
    metrics = evaluate(detection.accounts, sim.truth)
    assert min(metrics["campaign_recall"].values()) >= 0.9
    assert metrics["ari_flagged"] >= 0.9  # campaigns are not merged
    assert int(detection.clusters["flagged"].sum()) == 4


def test_same_seed_same_result(weheartit, weheartit_detection):
    again = run_pipeline(weheartit.posts, seed=0)
    assert len(again.clusters) > 1 and again.clusters["flagged"].any()  # a result worth comparing
    assert np.array_equal(again.clustering.membership, weheartit_detection.clustering.membership)
    # every column of every table: evidence, scores, verdicts, explanations
    pd.testing.assert_frame_equal(again.clusters, weheartit_detection.clusters)
    pd.testing.assert_frame_equal(again.accounts, weheartit_detection.accounts)


def test_signature_expansion_only_adds_campaign_accounts(weheartit):
    core = run_pipeline(weheartit.posts, PipelineSpec(expand=False), seed=0)
    expanded = run_pipeline(weheartit.posts, seed=0)
    m_core = evaluate(core.accounts, weheartit.truth)
    m_expanded = evaluate(expanded.accounts, weheartit.truth)
    assert m_expanded["recall"] >= m_core["recall"]
    assert m_expanded["fp"] == m_core["fp"]
    assert expanded.accounts["attached"].sum() == m_expanded["tp"] - m_core["tp"]


@pytest.mark.parametrize("objects", ["app_url", "app_domain", "url"])
def test_single_layers_run(weheartit, objects):
    spec = PipelineSpec.from_dict({"layers": [{"objects": objects, "weight": 1.0}]})
    detection = run_pipeline(weheartit.posts, spec, seed=0)
    assert len(detection.accounts) == weheartit.posts.n_accounts()


def test_honest_accounts_pulled_in_by_camouflage_are_not_flagged():
    # seed 2 of the camouflage preset puts a few heavy We Heart It users into the attack
    # cluster (the attacker re-posted their links); they never posted its signature
    sim = simulate("camouflage", seed=2)
    detection = run_pipeline(sim.posts, seed=2)
    truth = sim.truth.campaign_of(detection.accounts["account"].tolist())
    benign = np.array([c is None for c in truth])
    unsigned = detection.accounts["unsigned"].to_numpy()
    assert unsigned.sum() >= 3 and benign[unsigned].all()
    assert not detection.accounts.loc[unsigned, "flagged"].any()
    assert evaluate(detection.accounts, sim.truth)["fp"] == 0


@pytest.mark.parametrize("mode", ["popularity", "random"])
def test_heavy_camouflage_does_not_hide_the_attack_domain(mode):
    # four camouflage posts per attack post: popular links outnumber the attack's own
    sim = simulate(
        "camouflage", seed=0, overrides={"campaign": {"camouflage_amount": 4.0, "camouflage": mode}}
    )
    detection = run_pipeline(sim.posts, seed=0)
    metrics = evaluate(detection.accounts, sim.truth)
    assert metrics["f1"] >= 0.95 and metrics["fp"] == 0
    assert detection.flagged["top_domain"].iloc[0].endswith("diet-pills.com")

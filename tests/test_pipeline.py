"""End-to-end behaviour of the package's method (``hijack``) on the simulator's presets.

The presets are the case studies, not the evaluation: the defaults were chosen on development
draws of the scenario families (``experiments.select``), and the generalisation experiment
reports held-out families. These tests pin what must stay true on the presets: the planted
campaigns are found whole, the benign decoys are not accused, and the verdicts say why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.evaluate import evaluate
from research.pipeline import PipelineSpec, run_pipeline
from research.simulate import simulate
from research.simulate.families import simulate_family


def _campaign_clusters(detection, sim) -> dict[str, int]:
    """Each campaign's most common cluster among its flagged accounts."""
    accounts = detection.accounts
    campaign = pd.Series(sim.truth.campaign_of(accounts["account"].tolist()), index=accounts.index)
    flagged = accounts[accounts["flagged"] & campaign.notna()]
    return {
        name: int(group["cluster"].mode().iloc[0])
        for name, group in flagged.groupby(campaign[flagged.index])
    }


#: The chance groups the default admits (synchrony >= 0.3 since the build of declared priors:
#: four or five strangers who linked one small site within days; README, "Where this stands"):
#: at most this many accounts each, never holding a planted account.
CHANCE_GROUP = 6


def _other_flagged_groups(detection, sim, campaign_clusters) -> pd.DataFrame:
    """Flagged groups other than the campaigns', checked to be chance groups: small, and holding
    no planted account (a campaign split or merged into them would show here)."""
    others = detection.flagged[~detection.flagged["cluster"].isin(list(campaign_clusters))]
    accounts = detection.accounts[detection.accounts["cluster"].isin(others["cluster"])]
    planted = [c for c in sim.truth.campaign_of(accounts["account"].tolist()) if c is not None]
    assert planted == [], f"planted accounts in other flagged groups: {len(planted)}"
    assert (others["n_adopters"] <= CHANCE_GROUP).all(), others[
        ["cluster", "n_adopters", "top_site"]
    ]
    return others


def test_weheartit_campaign_found_decoys_not_flagged(weheartit, weheartit_detection):
    metrics = evaluate(weheartit_detection.accounts, weheartit.truth)
    assert metrics["f1"] >= 0.95 and metrics["fpr"] <= 0.001
    assert metrics["fpr_decoys"]["feed"] == 0.0 and metrics["fpr_decoys"]["org"] == 0.0
    assert metrics["fpr_decoys"]["news"] <= 0.001
    flagged = weheartit_detection.flagged
    # One campaign, one compromised group: the sites it pushed (its domain, its short links),
    # each judged alone, are judged again together since they share their victims.
    assert flagged["verdict"].tolist() == ["compromised"] and flagged["campaign"].tolist() == [0]
    assert flagged["n_sites"].iloc[0] > 1 and weheartit_detection.summary()["n_campaigns"] == 1
    assert flagged["top_app"].iloc[0] == "We Heart It"
    assert flagged["top_site"].iloc[0].endswith("diet-pills.com")


def test_benign_coordination_alone_is_never_flagged():
    # news bursts, feed apps and organisations, and no attack at all
    sim = simulate(
        "weheartit",
        seed=5,
        n_posts=150_000,
        overrides={"campaigns": [], "decoys": {"news_bursts": 12}},
    )
    detection = run_pipeline(sim.posts, seed=0)
    verdicts = detection.clusters["verdict"]
    groups = sim.scenario.decoys.feeds + sim.scenario.decoys.orgs
    # There is coordination to find, the ladder calls it coordinated, and none of it compromised.
    assert (verdicts == "coordinated").sum() >= groups >= 4
    accounts = detection.accounts
    flagged = accounts.loc[accounts["flagged"], "account"].astype(str).tolist()
    kinds = set(sim.truth.decoy_of(flagged))
    assert not kinds & {"feed", "org"}, "a feed or organisation account flagged"
    # Ordinary accounts can meet on a small site by chance: with the chosen defaults, three
    # users (two of them in news bursts too) who shared one blog's posts through their phones
    # (app lift 0.20 >= 0.20) are one compromised group. The bar holds such chance
    # meetings to 0.5% of the benign accounts; this draw to a tenth of that.
    assert len(flagged) <= 0.0005 * len(accounts)
    # Each coordinated group names the terms that kept it from the top rung.
    reasons = detection.clusters.loc[verdicts == "coordinated", "reason"]
    assert reasons.str.contains("<|>").all()


def test_rogue_app_campaign_is_flagged_and_explained():
    sim = simulate("rogue_app", seed=0)
    detection = run_pipeline(sim.posts, seed=0)
    metrics = evaluate(detection.accounts, sim.truth)
    assert metrics["f1"] >= 0.95 and metrics["fpr"] <= 0.001
    row = detection.flagged.sort_values("n_adopters").iloc[-1]  # the largest compromised group
    assert row["top_app"] == "Social Booster Pro"
    assert row["app_novelty"] > 0.9  # nobody had used the rogue app before
    text = detection.explain(int(row["cluster"])).text
    assert "Social Booster Pro" in text and "rogue app" in text and "is compromised" in text


def test_every_campaign_of_multi_campaign_is_recovered_separately():
    sim = simulate("multi_campaign", seed=0)
    detection = run_pipeline(sim.posts, seed=0)
    metrics = evaluate(detection.accounts, sim.truth)
    assert min(metrics["campaign_recall"].values()) >= 0.9
    assert metrics["ari_flagged"] >= 0.9  # campaigns are neither merged nor split
    where = _campaign_clusters(detection, sim)
    assert len(where) == 4 and len(set(where.values())) == 4  # four campaigns, four groups
    others = _other_flagged_groups(detection, sim, where.values())
    assert detection.summary()["n_campaigns"] == 4 + len(others)
    assert metrics["fpr"] <= 0.001


def test_same_seed_same_result(weheartit, weheartit_detection):
    again = run_pipeline(weheartit.posts, seed=0)
    assert len(again.clusters) > 1 and again.clusters["flagged"].any()  # a result worth comparing
    assert np.array_equal(again.clustering.membership, weheartit_detection.clustering.membership)
    # every column of every table: evidence, scores, verdicts, explanations
    pd.testing.assert_frame_equal(again.clusters, weheartit_detection.clusters)
    pd.testing.assert_frame_equal(again.accounts, weheartit_detection.accounts)


def test_attaching_by_signature_only_adds_campaign_accounts():
    # An abused-app draw whose graph leaves a victim out of every cluster.
    sim = simulate_family("abused_app", 0, scale=0.1)
    core = run_pipeline(sim.posts, PipelineSpec.from_dict({"rule": {"attach": False}}), seed=0)
    attached = run_pipeline(sim.posts, seed=0)
    m_core = evaluate(core.accounts, sim.truth)
    m_attached = evaluate(attached.accounts, sim.truth)
    # Victims whose token posted once or twice reach no graph cluster; the signature finds them.
    assert m_attached["recall"] > m_core["recall"]
    assert m_attached["fp"] == m_core["fp"] == 0
    added = attached.accounts["flagged"].to_numpy() & ~core.accounts["flagged"].to_numpy()
    truth = sim.truth.campaign_of(attached.accounts["account"][added].tolist())
    assert added.sum() == m_attached["tp"] - m_core["tp"] and all(c is not None for c in truth)


def test_honest_accounts_pulled_in_by_camouflage_are_not_flagged():
    # the attacker re-posts honest accounts' links from the hijacked ones (seed 2 of the preset)
    sim = simulate("camouflage", seed=2)
    detection = run_pipeline(sim.posts, seed=2)
    metrics = evaluate(detection.accounts, sim.truth)
    assert metrics["recall"] >= 0.95 and metrics["fpr"] <= 0.002
    unsigned = detection.accounts["unsigned"].to_numpy()
    assert not detection.accounts.loc[unsigned, "flagged"].any()
    # At most one honest account is flagged with the campaign (as with the stricter defaults
    # before); the other false positives are chance groups of their own.
    where = _campaign_clusters(detection, sim)
    accounts = detection.accounts
    in_campaign = accounts[accounts["flagged"] & accounts["cluster"].isin(list(where.values()))]
    assert sum(c is None for c in sim.truth.campaign_of(in_campaign["account"].tolist())) <= 1
    others = _other_flagged_groups(detection, sim, where.values())
    assert others["n_adopters"].sum() >= metrics["fp"]


@pytest.mark.parametrize("mode", ["popularity", "random"])
def test_heavy_camouflage_does_not_hide_the_attack_domain(mode):
    # four camouflage posts per attack post: ordinary links outnumber the attack's own
    sim = simulate(
        "camouflage", seed=0, overrides={"campaign": {"camouflage_amount": 4.0, "camouflage": mode}}
    )
    detection = run_pipeline(sim.posts, seed=0)
    metrics = evaluate(detection.accounts, sim.truth)
    assert metrics["f1"] >= 0.95 and metrics["fpr"] <= 0.002
    where = _campaign_clusters(detection, sim)
    assert len(where) == 1  # the campaign is one group, named by its own site
    campaign = detection.flagged.set_index("cluster").loc[next(iter(where.values()))]
    assert campaign["top_site"].endswith("diet-pills.com")
    _other_flagged_groups(detection, sim, where.values())

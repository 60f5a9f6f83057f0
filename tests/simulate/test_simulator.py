from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from research.errors import ConfigError
from research.simulate import Scenario, read_simulation, simulate
from research.simulate.scenario import preset, with_overrides


def _shares(sim):
    frame = sim.posts.table.select(["account_id", "app_name"]).to_pandas()
    per_account = np.sort(frame["account_id"].value_counts().to_numpy())[::-1]
    top10 = per_account[: len(per_account) // 10].sum() / per_account.sum()
    per_app = frame["app_name"].value_counts().to_numpy()
    return top10, per_app[:5].sum() / per_app.sum()


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    a = simulate("weheartit", seed=3, n_posts=40_000)
    b = simulate("weheartit", seed=3, n_posts=40_000)
    c = simulate("weheartit", seed=4, n_posts=40_000)
    assert a.posts.table.equals(b.posts.table)
    assert a.truth.accounts.equals(b.truth.accounts)
    assert not a.posts.table.equals(c.posts.table)
    a.write(tmp_path / "a")
    b.write(tmp_path / "b")
    for name in ("posts.parquet", "truth_accounts.parquet", "truth_posts.parquet", "scenario.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    back = read_simulation(tmp_path / "a")
    assert back.posts.table.equals(a.posts.table) and back.seed == 3


def test_background_is_calibrated(weheartit):
    top10, top5_apps = _shares(weheartit)
    assert 0.75 <= top10 <= 0.85  # top 10% of accounts write ~80% of posts
    assert 0.75 <= top5_apps <= 0.85  # top 5 apps carry ~80% of posts
    n_apps = len(pc.unique(weheartit.posts.column("app_name")))
    assert n_apps >= 150


def test_every_account_is_loyal_to_at_most_a_few_apps(weheartit):
    truth = weheartit.truth.accounts.to_pandas().set_index("account_id")
    frame = weheartit.posts.table.select(["account_id", "app_name"]).to_pandas()
    benign = frame[
        frame["account_id"].map(truth["campaign"]).isna()
        & frame["account_id"].map(truth["decoy"]).isna()
    ]
    apps_per_account = benign.groupby("account_id")["app_name"].nunique()
    assert apps_per_account.max() <= 2


def test_campaign_hijacks_real_accounts_through_an_app_they_had_authorised(weheartit):
    posts = weheartit.posts.table.to_pandas()
    malicious = weheartit.truth.posts.column("malicious").to_numpy()
    victims = set(posts.loc[malicious, "account_id"])
    truth = weheartit.truth.accounts.to_pandas()
    assert victims == set(truth.loc[truth["campaign"] == "diet-pills", "account_id"])
    assert set(truth.loc[truth["account_id"].isin(victims), "role"]) == {"hijacked"}
    assert set(posts.loc[malicious, "app_name"]) == {"We Heart It"}
    organic = posts.loc[~malicious]
    used_before = organic[
        (organic["app_name"] == "We Heart It") & organic["account_id"].isin(victims)
    ]["account_id"].nunique()
    assert used_before > 0.3 * len(
        victims
    )  # abused, not rogue: many victims had used it themselves
    assert organic["account_id"].isin(victims).groupby(
        organic["account_id"]
    ).any().sum() > 0.5 * len(victims)


def test_rogue_app_is_new_to_every_victim():
    sim = simulate("rogue_app", seed=0, n_posts=100_000)
    posts = sim.posts.table.to_pandas()
    malicious = sim.truth.posts.column("malicious").to_numpy()
    assert set(posts.loc[malicious, "app_name"]) == {"Social Booster Pro"}
    assert not (posts.loc[~malicious, "app_name"] == "Social Booster Pro").any()


def test_decoys_are_present_and_benign(weheartit):
    truth = weheartit.truth.accounts.to_pandas()
    counts = truth.dropna(subset=["decoy"]).groupby("decoy").size()
    assert counts["feed"] == 100 and counts["org"] == 45 and counts["news"] > 1000
    assert truth.loc[truth["decoy"].isin(["feed", "org"]), "campaign"].isna().all()


def test_camouflage_adds_ordinary_links_to_malicious_posts():
    plain = simulate("weheartit", seed=1, n_posts=100_000)
    camo = simulate("camouflage", seed=1, n_posts=100_000)
    assert (
        camo.truth.posts.column("malicious").to_numpy().sum()
        > 1.5 * plain.truth.posts.column("malicious").to_numpy().sum()
    )


def test_multi_campaign_has_four_campaigns():
    sim = simulate("multi_campaign", seed=0, n_posts=150_000)
    assert sim.truth.campaigns == [
        "crypto-giveaway",
        "diet-pills",
        "phishing-dm",
        "rogue-followers",
    ]


def test_unknown_preset_and_keys_are_config_errors():
    with pytest.raises(ConfigError, match="unknown simulator preset 'nope'; choose one of"):
        preset("nope")
    with pytest.raises(ConfigError, match=r"scenario\.platform: unknown key"):
        with_overrides(Scenario(), {"platform": {"n_postz": 3}})
    with pytest.raises(ConfigError, match="eligible"):
        simulate("weheartit", seed=0, n_posts=20_000, overrides={"campaign": {"n_victims": 5000}})

"""Planting a simulated campaign into a posts table: the background stays as it was, the truth
marks exactly the planted posts and accounts, the app follows the family's channel, and
detection on an injected background behaves as on the direct simulation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from research.errors import ConfigError, InputFileError
from research.evaluate import evaluate
from research.io.loading import load_posts
from research.pipeline import run_pipeline
from research.posts import Posts
from research.simulate import read_simulation, simulate
from research.simulate.families import ATTACK_FAMILIES, sample_scenario, simulate_family
from research.simulate.inject import (
    BackgroundTooSmall,
    _start_in_window,
    inject,
    official_looking,
    without_campaigns,
)
from tests.conftest import REPO

DATA = REPO / "tests" / "data"


@pytest.fixture(scope="module")
def labelled():
    """A simulated platform with its campaign (and decoys), 20k organic posts."""
    return simulate("weheartit", seed=0, n_posts=20_000)


@pytest.fixture(scope="module")
def background(labelled):
    """The same platform without its campaign: posts and truth (decoys still labelled)."""
    return without_campaigns(labelled)


@pytest.fixture(scope="module")
def twitter_v2() -> Posts:
    """Real tweets (twarc2 output): 209 posts by 194 accounts over 21 months."""
    posts, _info = load_posts([DATA / "twitter-v2"], progress=False)
    return posts


def _frame(posts: Posts) -> pd.DataFrame:
    return posts.table.to_pandas()


def check_planted(background: Posts, planted) -> pd.DataFrame:
    """Every invariant of an injection; returns the attack posts."""
    out = planted.posts.table
    truth = planted.truth
    name = planted.scenario.campaigns[0].name
    assert truth.posts.column("post_id").equals(out.column("post_id")), (
        "one label per post, same order"
    )
    ids = out.column("post_id")
    assert len(pc.unique(ids)) == len(ids), "post ids are unique"
    millis = out.column("timestamp").cast(pa.int64()).to_numpy()
    assert (np.diff(millis) >= 0).all(), "sorted by time"
    malicious = truth.posts.column("malicious").to_numpy()
    campaign = np.array(truth.posts.column("campaign").to_pylist(), dtype=object)
    assert ((campaign == name) == (malicious & (campaign == name))).all()
    mine = campaign == name
    kept = out.filter(pa.array(~mine)).sort_by([("post_id", "ascending")])
    assert kept.equals(background.table.sort_by([("post_id", "ascending")])), "background untouched"
    attack = out.filter(pa.array(mine)).to_pandas()
    assert attack["post_id"].str.startswith(f"injected-{planted.injection['family']}-").all()
    accounts = truth.accounts.to_pandas()
    members = accounts[accounts["campaign"] == name]
    assert set(attack["account_id"]) == set(members["account_id"]), "the campaign = who posted"
    seen = set(pc.unique(background.column("account_id")).to_pylist())
    assert set(members.loc[members["role"] == "hijacked", "account_id"]) <= seen
    assert not set(members.loc[members["role"] == "fake", "account_id"]) & seen
    assert set(members["role"]) <= {"hijacked", "fake"}
    assert set(pc.unique(out.column("account_id")).to_pylist()) <= set(accounts["account_id"])
    times = background.timestamps_s()
    attack_times = planted.posts.filter(pa.array(mine)).timestamps_s()
    assert times.min() <= attack_times.min() and attack_times.max() <= times.max()
    record = planted.injection
    assert record["attack_posts"] == len(attack) and record["campaign"] == name
    assert record["victims"]["hijacked"] + record["victims"]["fake"] == len(members)
    return attack


# --- on a simulated background -------------------------------------------------------------------


@pytest.mark.parametrize("family", ATTACK_FAMILIES)
def test_a_campaign_is_planted_and_the_background_untouched(background, family):
    posts, truth = background
    planted = inject(posts, family, seed=2, max_victims=25, truth=truth)
    attack = check_planted(posts, planted)
    assert len(attack) > 0
    assert planted.scenario.campaigns[0].n_victims <= 25
    accounts = planted.truth.accounts.to_pandas().set_index("account_id")
    before = truth.accounts.to_pandas().set_index("account_id")
    shared = before.index.intersection(accounts.index)
    assert (
        accounts.loc[shared, "decoy"].fillna("") == before.loc[shared, "decoy"].fillna("")
    ).all(), "decoy labels are carried over"


def test_abused_app_victims_had_used_the_app_and_posts_go_through_it(background):
    posts, truth = background
    planted = inject(posts, "abused_app", seed=1, max_victims=30, truth=truth)
    attack = check_planted(posts, planted)
    app = planted.injection["app"]["name"]
    assert planted.injection["app"]["mode"] == "abused" and not official_looking(app)
    organic = _frame(posts)
    users = set(organic.loc[organic["app_name"] == app, "account_id"])
    hijacked = attack.loc[~attack["account_id"].str.startswith("injected-"), "account_id"]
    assert set(hijacked) <= users, "every hijacked victim had posted through the abused app"
    fallback = planted.scenario.campaigns[0].fallback_app
    assert set(attack["app_name"]) <= {app, fallback} and fallback == "Twitter Web Client"
    assert (attack["app_name"] == app).mean() >= planted.scenario.campaigns[
        0
    ].malicious_app_share - 0.1


def test_rogue_app_is_new_to_the_background(background):
    posts, truth = background
    planted = inject(posts, "rogue_app", seed=0, max_victims=30, truth=truth)
    attack = check_planted(posts, planted)
    app = planted.injection["app"]["name"]
    assert app not in set(_frame(posts)["app_name"].dropna())
    assert (attack["app_name"] == app).mean() > 0.5


def test_stolen_credentials_post_through_each_victims_own_client(background):
    posts, truth = background
    planted = inject(posts, "stolen_credentials", seed=6, max_victims=60, truth=truth)
    attack = check_planted(posts, planted)
    organic = _frame(posts).dropna(subset=["app_name"])
    counts = organic.groupby(["account_id", "app_name"]).size().rename("n").reset_index()
    counts["official"] = counts["app_name"].map(official_looking)
    # Own client: the most used official-looking app, else the most used app (ties aside).
    best = counts.sort_values(["account_id", "official", "n"], ascending=[True, False, False])
    own = best.groupby("account_id").head(1).set_index("account_id")["app_name"]
    top_n = counts.groupby("account_id")["n"].transform("max")
    tied = counts[(counts["n"] == top_n)].groupby("account_id").size() > 1
    hijacked = attack[~attack["account_id"].str.startswith("injected-")]
    clear = hijacked[~hijacked["account_id"].map(tied).fillna(False).astype(bool)]
    assert len(clear) > 50
    assert (clear["app_name"].to_numpy() == own.loc[clear["account_id"]].to_numpy()).all()


def test_unknown_app_posts_carry_no_app(background):
    posts, truth = background
    attack = check_planted(posts, inject(posts, "unknown_app", seed=3, max_victims=30, truth=truth))
    assert attack["app_name"].isna().all() and attack["app_url"].isna().all()


def test_victims_follow_the_activity_weighting(background):
    posts, truth = background
    heavy, light = 9, 10  # stolen_credentials draws with victim_activity +0.89 and -0.86
    assert sample_scenario("stolen_credentials", heavy).campaigns[0].victim_activity > 0.8
    assert sample_scenario("stolen_credentials", light).campaigns[0].victim_activity < -0.8
    n_posts = _frame(posts).groupby("account_id").size()

    def victims_posts(seed: int) -> float:
        planted = inject(posts, "stolen_credentials", seed=seed, max_victims=40, truth=truth)
        accounts = planted.truth.accounts.to_pandas()
        hijacked = accounts.loc[accounts["role"] == "hijacked", "account_id"]
        return float(n_posts.loc[hijacked].median())

    assert victims_posts(heavy) > 5 * victims_posts(light)


def test_same_seed_same_bytes_other_seed_differs(background, tmp_path):
    posts, truth = background
    a = inject(posts, "rogue_app", seed=4, max_victims=20, truth=truth)
    b = inject(posts, "rogue_app", seed=4, max_victims=20, truth=truth)
    c = inject(posts, "rogue_app", seed=5, max_victims=20, truth=truth)
    a.write(tmp_path / "a")
    b.write(tmp_path / "b")
    for name in ("posts.parquet", "truth_accounts.parquet", "truth_posts.parquet", "scenario.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert not a.posts.table.equals(c.posts.table)
    back = read_simulation(tmp_path / "a")
    assert back.injection == json.loads((tmp_path / "a" / "scenario.json").read_text())["injection"]
    assert back.injection["family"] == "rogue_app" and back.injection["seed"] == 4
    assert back.scenario.campaigns[0] == a.scenario.campaigns[0]
    assert back.truth.campaigns == [a.scenario.campaigns[0].name]


def test_a_background_with_a_campaign_keeps_it_and_its_victims_are_not_drawn_again(labelled):
    planted = inject(labelled.posts, "unknown_app", seed=1, max_victims=40, truth=labelled.truth)
    check_planted(labelled.posts, planted)
    name = planted.scenario.campaigns[0].name
    assert planted.truth.campaigns == sorted(["diet-pills", name])
    accounts = planted.truth.accounts.to_pandas()
    assert (accounts["campaign"] == "diet-pills").sum() == (
        labelled.truth.accounts.column("campaign").to_pandas() == "diet-pills"
    ).sum()
    malicious = planted.truth.posts.to_pandas()
    assert (malicious["campaign"] == "diet-pills").sum() == labelled.truth.posts.column(
        "malicious"
    ).to_numpy().sum()
    with pytest.raises(ConfigError, match="already holds a campaign"):
        inject(planted.posts, "unknown_app", seed=1, max_victims=40, truth=planted.truth)


def test_without_campaigns_removes_attack_posts_and_fake_accounts():
    sim = simulate_family("abused_app", 0, scale=0.05)
    posts, truth = without_campaigns(sim)
    malicious = sim.truth.posts.column("malicious").to_numpy()
    assert len(posts) == len(sim.posts) - malicious.sum()
    assert truth.campaigns == [] and not truth.posts.column("malicious").to_numpy().any()
    roles = sim.truth.accounts.to_pandas()
    assert truth.accounts.num_rows == (roles["role"] != "fake").sum()
    assert set(truth.accounts.column("role").to_pylist()) == {"benign"}


def test_the_campaign_keeps_its_place_in_the_window():
    # Same window: the same start (the family's own draw).
    assert _start_in_window(3.2, 1.0, 14.0, 14.0) == pytest.approx(3.2)
    assert _start_in_window(0.0, 1.0, 14.0, 300.0) == 0.0, "from the very start stays so"
    # Same position between the family's bounds, in a longer window.
    early, late = _start_in_window(0.5, 1.0, 14.0, 100.0), _start_in_window(12.75, 1.0, 14.0, 100.0)
    assert early == pytest.approx(0.5) and late == pytest.approx(100.0 - 1.0 - 0.25)
    # A short window: the campaign stays inside it.
    assert 0 <= _start_in_window(5.0, 0.4, 14.0, 0.5) <= 0.5 - 0.4


# --- errors --------------------------------------------------------------------------------------


def test_bad_families_and_options_are_refused(background):
    posts, _truth = background
    with pytest.raises(ConfigError, match=r"benign look-alike family.*abused_app, rogue_app"):
        inject(posts, "giveaway", seed=0)
    with pytest.raises(ConfigError, match=r"'nope' is not a family.*stolen_credentials"):
        inject(posts, "nope", seed=0)
    with pytest.raises(ConfigError, match="max_victims must be at least 1"):
        inject(posts, "rogue_app", seed=0, max_victims=0)
    with pytest.raises(ConfigError, match="scale_victims must be positive"):
        inject(posts, "rogue_app", seed=0, scale_victims=0)
    with pytest.raises(InputFileError, match="no posts"):
        inject(Posts.empty(), "rogue_app", seed=0)


def test_a_background_too_small_names_the_largest_campaign_that_fits(twitter_v2):
    with pytest.raises(BackgroundTooSmall, match=r"too small.*--max-victims") as caught:
        inject(twitter_v2, "rogue_app", seed=0)  # the draw wants 804 victims; 194 accounts
    assert "a sixth of the accounts" in str(caught.value)
    fits = caught.value.max_victims
    planted = inject(twitter_v2, "rogue_app", seed=0, max_victims=fits)
    assert planted.injection["victims"]["planted"] == fits
    # An abused app needs that many users of one third-party app: this sample has two.
    with pytest.raises(BackgroundTooSmall, match="third-party app") as caught:
        inject(twitter_v2, "abused_app", seed=0, max_victims=30)
    check_planted(
        twitter_v2, inject(twitter_v2, "abused_app", seed=0, max_victims=caught.value.max_victims)
    )


def test_scale_victims_multiplies_the_draw(background):
    posts, truth = background
    drawn = sample_scenario("unknown_app", 0).campaigns[0].n_victims
    planted = inject(posts, "unknown_app", seed=0, scale_victims=0.1, truth=truth)
    assert planted.injection["victims"]["planted"] == round(drawn * 0.1)


def test_a_background_shorter_than_an_hour_is_refused():
    import datetime as dt

    t0 = dt.datetime(2021, 1, 1)
    short = Posts.from_records(
        {"post_id": str(i), "account_id": f"a{i}", "timestamp": t0 + dt.timedelta(minutes=i)}
        for i in range(30)
    )
    with pytest.raises(ConfigError, match="spans 1740 s"):
        inject(short, "unknown_app", seed=0, max_victims=2)


# --- on real exports -----------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["stolen_credentials", "rogue_app", "unknown_app"])
def test_real_twitter_sample_gets_a_small_campaign_and_the_detector_runs(twitter_v2, family):
    planted = inject(twitter_v2, family, seed=1, max_victims=12)
    attack = check_planted(twitter_v2, planted)
    assert planted.injection["background"]["n_accounts"] == 194
    assert (attack["platform"] == "twitter").all(), "planted posts look like the background's"
    if family == "stolen_credentials":
        # The sample's clients are Twitter's own: every hijacked victim posts through one.
        hijacked = attack[~attack["account_id"].str.startswith("injected-")]
        assert hijacked["app_name"].map(official_looking).all()
    detection = run_pipeline(planted.posts, seed=0)
    metrics = evaluate(detection.accounts, planted.truth)
    assert metrics["n_positive"] == len(set(attack["account_id"]))
    assert metrics["n_accounts"] == planted.posts.n_accounts()


def test_a_background_without_apps_stays_without_apps(twitter_v2):
    # As Twitter API v2 data collected after December 2022: no posting app at all.
    table = twitter_v2.table
    for column in ("app_name", "app_url"):
        table = table.set_column(
            table.schema.get_field_index(column), column, pa.nulls(len(table), pa.string())
        )
    no_apps = Posts(table)
    for family in ("rogue_app", "abused_app", "stolen_credentials"):
        planted = inject(no_apps, family, seed=1, max_victims=12)
        assert planted.posts.column("app_name").null_count == len(planted.posts), family
        assert planted.injection["app"]["mode"] == "none"


@pytest.mark.parametrize(
    ("path", "family", "max_victims"),
    [
        ("gnip/activities.jsonl", "rogue_app", 2),
        ("own/mastodon.jsonl", "stolen_credentials", 2),
        ("twitter-v1/original_format_examples.jsonl", "unknown_app", 1),
    ],
)
def test_other_real_samples_take_a_campaign(path, family, max_victims):
    posts, _info = load_posts([DATA / path], progress=False)
    planted = inject(posts, family, seed=0, max_victims=max_victims)
    attack = check_planted(posts, planted)
    assert planted.injection["victims"]["hijacked"] >= 1
    if path.startswith("own/mastodon"):
        # Mastodon hides most apps: a victim with none posts with none.
        hijacked = attack[~attack["account_id"].str.startswith("injected-")]
        own = _frame(posts).groupby("account_id")["app_name"].first()
        assert (
            hijacked["app_name"].fillna("-")
            == own.loc[hijacked["account_id"]].fillna("-").to_numpy()
        ).all()


# --- round trip ----------------------------------------------------------------------------------

#: Round trip (README, "Planting a campaign into your own posts"): a family draw, its campaign
#: removed, the same family and seed planted again, both detected with the package's method.
#: Victims and wave times are drawn anew, so single draws may flip between found and missed;
#: measured over 4 families x 10 seeds (three blocks of 40 draws) the mean F1 differed by
#: -0.01 to -0.11 and the mean benign FPR by at most 0.002. Tolerance: mean F1 within 0.15,
#: at least two thirds of draws within 0.05 F1, and the benign FPR of at least 90% of draws
#: within 0.01. The FPR is not compared by its mean: one draw flipping decides it. rogue_app
#: seed 1 did while the term counted only earlier linkers (its giveaway on amazon.com had 4,
#: within the limit: compromised, and joined with the campaign whose victims took part in it,
#: 911 accounts flagged, F1 0.08). The outside term also counts the site's later linkers
#: (8 > 5): the giveaway is coordinated and the draw's F1 is 1.00 (measured 2026-12-05).
ROUND_TRIP_F1 = 0.15
ROUND_TRIP_FPR = 0.01


@pytest.mark.slow
def test_injecting_into_a_simulated_background_round_trips():
    rows = []
    for family in ATTACK_FAMILIES:
        for seed in range(5):
            sim = simulate_family(family, seed, scale=0.1)
            posts, truth = without_campaigns(sim)
            planted = inject(
                posts, family, seed, max_victims=sim.scenario.campaigns[0].n_victims, truth=truth
            ) if family != "abused_app" else _abused(posts, truth, family, seed, sim)  # fmt: skip
            check_planted(posts, planted)
            direct = evaluate(run_pipeline(sim.posts, seed=0).accounts, sim.truth)
            injected = evaluate(run_pipeline(planted.posts, seed=0).accounts, planted.truth)
            rows.append((direct["f1"], injected["f1"], direct["fpr"], injected["fpr"]))
    f1_direct, f1_injected, fpr_direct, fpr_injected = np.array(rows).T
    assert abs(f1_injected.mean() - f1_direct.mean()) <= ROUND_TRIP_F1
    assert np.mean(np.abs(fpr_injected - fpr_direct) <= ROUND_TRIP_FPR) >= 0.9
    assert np.mean(np.abs(f1_injected - f1_direct) <= 0.05) >= 2 / 3


def _abused(posts, truth, family, seed, sim):
    """An abused app's users are those seen posting through it: fewer than the simulator's
    authorised accounts, so a large draw is cut to what the app's users allow."""
    try:
        return inject(
            posts, family, seed, max_victims=sim.scenario.campaigns[0].n_victims, truth=truth
        )
    except BackgroundTooSmall as err:
        return inject(posts, family, seed, max_victims=err.max_victims, truth=truth)


def test_planted_folder_is_read_like_a_simulate_folder(background, tmp_path):
    posts, truth = background
    planted = inject(posts, "unknown_app", seed=0, max_victims=20, truth=truth)
    folder = planted.write(tmp_path / "planted")
    read, info = load_posts([Path(folder)], progress=False)
    assert info["format"] == "parquet" and read.table.equals(planted.posts.table)

"""The scenario families honour their knobs: a drawn scenario is what the simulator builds.

Each attack family is a distribution over knobs (research/simulate/families.py); these tests
fix a knob on a drawn scenario and check the simulated posts show it, so that the evaluation's
claims about "campaigns of unique short links" or "no app field" are about such data.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from research.canonical import is_shortener, registered_domain
from research.simulate import simulate
from research.simulate.families import ATTACK_FAMILIES, BENIGN_FAMILIES, sample_scenario
from research.simulate.platform import SHARED_HOSTS


def _with_campaign(family: str, seed: int, **knobs):
    """A small draw of ``family`` with some campaign knobs fixed (no camouflage: its posts
    are the attacker's too, but carry ordinary links)."""
    scenario = sample_scenario(family, seed, scale=0.1)
    campaign = dataclasses.replace(scenario.campaigns[0], **{"camouflage": "none", **knobs})
    return simulate(dataclasses.replace(scenario, campaigns=(campaign,)), seed=seed)


def _attack_posts(sim):
    """(account, first URL, app, time) of every malicious post that carries a link."""
    truth = sim.truth.posts
    bad = set(truth.filter(truth["malicious"])["post_id"].to_pylist())
    table = sim.posts.table
    keep = pc.is_in(table["post_id"], value_set=pa.array(sorted(bad)))
    rows = table.filter(keep).to_pylist()
    return [r for r in rows if r["urls"]]


@pytest.mark.parametrize("family", ATTACK_FAMILIES)
def test_every_attack_family_plants_its_victims_and_only_them(family):
    sim = _with_campaign(family, 3)
    campaign = sim.scenario.campaigns[0]
    roles = sim.truth.accounts["role"].to_pylist()
    victims = sum(r != "benign" for r in roles)  # hijacked, or fake accounts of the attacker
    assert 0 < victims <= campaign.n_victims
    posts = _attack_posts(sim)
    assert posts, "the campaign posts links"
    accounts = {r["account_id"] for r in posts}
    hijacked = {
        a for a, r in zip(sim.truth.accounts["account_id"].to_pylist(), roles, strict=True)
        if r != "benign"
    }  # fmt: skip
    assert accounts <= hijacked


def test_a_fresh_short_link_for_every_post_shares_no_link_between_posts():
    sim = _with_campaign("rogue_app", 4, shortener_share=1.0, short_links_per_url=0)
    urls = [r["urls"][0] for r in _attack_posts(sim)]
    assert len(urls) > 10
    assert len(set(urls)) == len(urls)
    assert all(is_shortener(registered_domain(u)) for u in urls)


def test_a_few_short_links_per_landing_url_are_shared_by_many_posts():
    sim = _with_campaign("rogue_app", 4, shortener_share=1.0, short_links_per_url=2, n_urls=3)
    urls = [r["urls"][0] for r in _attack_posts(sim)]
    assert len(set(urls)) <= 6 < len(urls)


def test_a_fresh_shared_host_subdomain_for_every_post_is_its_own_registered_domain():
    sim = _with_campaign(
        "abused_app", 5, shortener_share=0.0, query_mutation=0.0, host="shared_host_per_post"
    )
    urls = [r["urls"][0] for r in _attack_posts(sim)]
    domains = [registered_domain(u) for u in urls]
    assert len(urls) > 10 and len(set(domains)) == len(domains)
    assert all(d.split(".", 1)[1] in SHARED_HOSTS for d in domains)


def test_unknown_app_family_carries_no_app_at_all():
    sim = _with_campaign("unknown_app", 6)
    assert sim.posts.table["app_name"].null_count == sim.posts.table.num_rows


def test_abused_app_posts_go_through_an_app_the_platform_already_uses():
    sim = _with_campaign("abused_app", 7, malicious_app_share=1.0)
    app = sim.scenario.campaigns[0].app
    posts = _attack_posts(sim)
    assert {r["app_name"] for r in posts} == {app}
    table = sim.posts.table
    bad = set(sim.truth.posts.filter(sim.truth.posts["malicious"])["post_id"].to_pylist())
    through = table.filter(pc.equal(table["app_name"], app))["post_id"].to_pylist()
    assert len(set(through) - bad) > 0  # benign posts go through it too: an established app


def test_rogue_app_is_new_to_the_platform():
    sim = _with_campaign("rogue_app", 7, malicious_app_share=1.0)
    app = sim.scenario.campaigns[0].app
    table = sim.posts.table
    bad = set(sim.truth.posts.filter(sim.truth.posts["malicious"])["post_id"].to_pylist())
    through = set(table.filter(pc.equal(table["app_name"], app))["post_id"].to_pylist())
    assert through and through <= bad


def test_the_campaign_keeps_to_its_start_and_duration():
    sim = _with_campaign("stolen_credentials", 8, start_day=2.0, duration_days=0.5)
    table = sim.posts.table
    t0 = table["timestamp"].to_numpy().min()
    times = np.array([r["timestamp"].timestamp() for r in _attack_posts(sim)])
    days = (times - t0.astype("datetime64[ms]").astype(np.int64) / 1000) / 86400
    assert days.min() >= 1.9 and days.max() <= 2.0 + 0.5 + 0.25


def test_shared_page_titles_make_benign_sharers_post_the_same_words():
    # Share buttons: accounts that share one page often post its title, without coordinating.
    sim = sample_scenario("breaking_news", 2, scale=0.1)
    posts = simulate(sim, seed=2).posts.table
    linked = posts.filter(pc.greater(pc.list_value_length(posts["urls"]), 0))
    first = pc.list_element(linked["urls"], 0).to_pylist()
    texts = linked["text"].to_pylist()
    by_page: dict[str, set[str]] = {}
    for url, text in zip(first, texts, strict=True):
        by_page.setdefault(url, set()).add(text)
    shared = [p for p, ts in by_page.items() if sum(1 for u in first if u == p) >= 5]
    assert shared
    # Some popular page is shared with fewer distinct texts than posts: its title recurs.
    counts = {p: sum(1 for u in first if u == p) for p in shared}
    assert any(len(by_page[p]) < counts[p] for p in shared)


@pytest.mark.parametrize("family", BENIGN_FAMILIES)
def test_benign_families_plant_no_victims(family):
    sim = simulate(sample_scenario(family, 1, scale=0.1), seed=1)
    assert set(sim.truth.accounts["role"].to_pylist()) == {"benign"}

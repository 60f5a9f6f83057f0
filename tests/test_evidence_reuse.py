"""Work kept on the events between judging rounds gives what a fresh computation gives.

:func:`research.verdicts.decide` judges up to three rounds on the same events; the links to
the candidate sites with their first uses (``_links_to``), the first uses of apps and the
posts through them per (account, app) (``_pair_memo``) and each account's other posts are
kept on ``events._cache``. Each is checked against its definition on events whose cache
holds answers of other questions (other sites, other signatures, another clustering or rule).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from research.detect.clustering import Clustering
from research.evidence import (
    Groups,
    _first_app_use,
    _first_app_uses,
    _first_use_of_links,
    _links_to,
    _pair_memo,
    _posts_through,
    _same_sites,
    group_evidence,
    pooled_unions,
    signature_groups,
)
from research.graph.events import encode, site_keys
from research.rule import Rule
from research.simulate import simulate


def _events():  # type: ignore[no-untyped-def]
    return encode(simulate("weheartit", seed=3, n_posts=20_000).posts)


def _same_sites_by_definition(groups: Groups, earlier: Groups) -> list[int]:
    group_of = earlier.site_group()
    out = []
    for sites in groups.sites:
        old = group_of.get(int(sites[0]), -1) if len(sites) else -1
        same = old >= 0 and np.array_equal(earlier.sites[old], sites)
        out.append(old if same else -1)
    return out


def _groups(sites: list[list[int]]) -> Groups:
    n = len(sites)
    empty = np.zeros(0, dtype=np.int64)
    return Groups(
        pair_account=empty,
        pair_group=empty,
        pair_links=empty,
        pair_member=np.zeros(0, dtype=bool),
        piece_group=empty,
        sites=[np.array(s, dtype=np.int64) for s in sites],
        span=np.zeros((n, 2), dtype=np.int64),
        n_pieces=np.ones(n, dtype=np.int64),
    )


def test_same_sites_is_its_definition() -> None:
    """Same sites in the same order; other lengths, other order, no site, a site of two
    earlier groups (the later one counts), sites unknown before."""
    earlier = _groups([[1, 2, 3], [4], [], [5, 6], [7, 8], [8, 9], [20]])
    groups = _groups([[1, 2, 3], [4, 5], [], [6, 5], [5, 6], [8, 9], [8], [30], [4], [1, 2]])
    assert _same_sites(groups, earlier).tolist() == _same_sites_by_definition(groups, earlier)
    assert _same_sites(groups, earlier).tolist() == [0, -1, -1, -1, 3, 5, -1, -1, 1, -1]
    rng = np.random.default_rng(0)
    for _ in range(30):
        before = [sorted(rng.choice(40, rng.integers(0, 4), replace=False)) for _ in range(12)]
        after = [list(s) for s in before if rng.random() < 0.6]
        after += [sorted(rng.choice(40, rng.integers(0, 4), replace=False)) for _ in range(5)]
        rng.shuffle(after)  # type: ignore[arg-type]
        a, b = _groups(after), _groups(before)  # type: ignore[arg-type]
        assert _same_sites(a, b).tolist() == _same_sites_by_definition(a, b)
    assert _same_sites(_groups([]), earlier).tolist() == []
    assert _same_sites(groups, _groups([])).tolist() == [-1] * groups.n_groups


def test_links_to_sites_equal_every_links_own_whatever_was_asked_before() -> None:
    events = _events()
    link_site, labels = site_keys(events)
    first_use = _first_use_of_links(events)
    rng = np.random.default_rng(1)
    wide = rng.random(len(labels)) < 0.3
    for is_site in (wide, wide & (rng.random(len(labels)) < 0.5), rng.random(len(labels)) < 0.2):
        # A subset of the sites asked before is read from them; others are found anew.
        links, sites, first = _links_to(events, is_site)
        expected = np.flatnonzero(is_site[link_site])
        assert links.tolist() == expected.tolist()
        assert sites.tolist() == link_site[expected].tolist()
        assert first.tolist() == first_use[expected].tolist()
    assert len(links) > 100


def test_pair_memo_answers_as_computed_anew_and_is_kept_per_tag() -> None:
    events = _events()
    post_app = np.where(events.post_app >= 0, events.post_app, len(events.apps))
    rng = np.random.default_rng(2)
    asked = []
    for _ in range(3):  # overlapping questions: answers kept from before, and new ones
        accounts = events.post_account[rng.integers(0, events.n_posts, size=200)]
        apps = np.where(rng.random(200) < 0.8, post_app[rng.integers(0, events.n_posts, 200)], -1)
        asked.append((accounts, apps))
        got = _first_app_uses(events, accounts, apps, post_app)
        assert got.tolist() == _first_app_use(events, accounts, apps, post_app).tolist()
    accounts = np.concatenate([a for a, _p in asked])
    apps = np.concatenate([p for _a, p in asked])
    calls: list[int] = []

    def counted(mask: np.ndarray):  # type: ignore[no-untyped-def]
        def compute(a: np.ndarray, p: np.ndarray) -> np.ndarray:
            calls.append(len(a))
            return _posts_through(events, a, p, mask, post_app)

        return compute

    for seed in (3, 3, 4):  # the same signature twice, then another: counted anew
        mask = np.random.default_rng(seed).random(events.n_posts) < 0.7
        got = _pair_memo(events, "posts_through", seed, accounts, apps, counted(mask), 0)
        assert got.tolist() == _posts_through(events, accounts, apps, mask, post_app).tolist()
        assert (got > 0).sum() > 10
    assert len(calls) == 2  # the second question with tag 3 was answered from the first


def _pooled_rounds(events, clustering, rule, texts):  # type: ignore[no-untyped-def]
    groups = signature_groups(events, clustering, rule)
    first = group_evidence(events, groups, texts=texts, rule=rule)
    unions = pooled_unions(events, clustering, rule)
    pooled = signature_groups(events, clustering, rule, together=unions)
    again = group_evidence(events, pooled, texts=texts, rule=rule, previous=(groups, first))
    return groups, first, pooled, again


@pytest.mark.parametrize("change", ["clustering", "rule"])
def test_rounds_on_events_judged_before_equal_rounds_on_fresh_events(change: str) -> None:
    """Groups and tables of a first and a pooled round, on events whose cache holds another
    clustering's (or rule's) rounds, equal those on freshly encoded events, to the last bit."""
    from research.pipeline import PipelineSpec, cluster_accounts

    sim = simulate("multi_campaign", seed=3, n_posts=30_000)
    texts = sim.posts.column("text").combine_chunks()
    rule = Rule(pool="alongside")
    warm = encode(sim.posts)
    clustering = cluster_accounts(warm, PipelineSpec(rule=rule), seed=0)
    other_clustering, other_rule = clustering, rule
    if change == "clustering":  # every third cluster left out
        membership = clustering.membership.copy()
        membership[membership % 3 == 0] = -1
        other_clustering = Clustering(clustering.accounts, membership, "thinned")
    else:
        other_rule = dataclasses.replace(rule, span_quantile=0.1, pool_overlap=0.3)
    _pooled_rounds(warm, other_clustering, other_rule, texts)  # fills the cache
    fresh = encode(sim.posts)
    got = _pooled_rounds(warm, clustering, rule, texts)
    expected = _pooled_rounds(fresh, clustering, rule, texts)
    assert got[2].n_groups > 0 and got[0].n_groups != got[2].n_groups  # pooling joined sites
    for g, e in ((got[0], expected[0]), (got[2], expected[2])):
        for f in dataclasses.fields(Groups):
            a, b = getattr(g, f.name), getattr(e, f.name)
            if f.name == "sites":
                assert [x.tolist() for x in a] == [x.tolist() for x in b]
            elif f.name == "stats":
                assert a == b
            else:
                np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(got[1], expected[1], check_exact=True)
    pd.testing.assert_frame_equal(got[3], expected[3], check_exact=True)

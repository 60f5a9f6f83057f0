"""The evidence's fast paths against their definitions, on a simulated draw.

``_active_during`` counts distinct accounts through each post's previous post by the same
account, and ``_first_use_of_links`` takes each link's (site, account) pair from two
counting sorts; ``_routine`` bounds each (group, URL) by a sparse product before counting
links one by one; each is checked here against the plain definition.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

from research.evidence import (
    _active_during,
    _first_app_use,
    _first_use_of_links,
    _first_visits,
    _posts_through,
)
from research.graph.events import encode, site_keys
from research.simulate import simulate


def _events():  # type: ignore[no-untyped-def]
    return encode(simulate("weheartit", seed=3, n_posts=20_000).posts)


def test_active_during_counts_the_distinct_accounts_of_each_interval() -> None:
    events = _events()
    rng = np.random.default_rng(0)
    t = events.post_time
    start = rng.integers(t.min() - 10, t.max(), size=40)
    end = start + rng.integers(0, int(np.ptp(t)) // 3, size=40)
    end[:3] = start[:3] - 1  # empty intervals
    expected = [
        len(np.unique(events.post_account[(t >= s) & (t <= e)]))
        for s, e in zip(start, end, strict=True)
    ]
    assert _active_during(events, start, end).tolist() == expected
    assert max(expected) > 100  # the intervals are not trivially small


@pytest.mark.parametrize("block", [1, 7, 64, 1000, 10**9])
def test_first_visits_table_counts_as_the_ranges_do(block: int) -> None:
    """The table of counts per block (whatever the block) gives the direct counts, ranges
    empty, reversed, within one block or across many included."""
    events = _events()
    _active_during(events, events.post_time[:1], events.post_time[:1])  # caches previous_post
    previous = events._cache["previous_post"]
    rng = np.random.default_rng(2)
    lo = rng.integers(0, len(previous), size=60)
    hi = lo + rng.integers(-5, len(previous) // 2, size=60)
    hi = np.clip(hi, 0, len(previous))
    lo[:4], hi[:4] = [0, 5, 9, len(previous)], [len(previous), 5, 3, len(previous)]
    direct = [int(np.count_nonzero(previous[a:b] < a)) for a, b in zip(lo, hi, strict=True)]
    assert _first_visits(previous, lo, hi, block=block).tolist() == direct
    assert _first_visits(previous, lo, hi).tolist() == direct


def test_active_during_on_posts_out_of_time_order() -> None:
    """Posts in time order skip the sort; shuffled posts take it, with the same counts."""
    import dataclasses

    events = _events()
    shuffle = np.random.default_rng(1).permutation(events.n_posts)
    shuffled = dataclasses.replace(
        events,
        post_account=events.post_account[shuffle],
        post_time=events.post_time[shuffle],
        _cache={},
    )
    t = shuffled.post_time
    start = np.quantile(t, [0.0, 0.2, 0.5]).astype(np.int64)
    end = start + int(np.ptp(t)) // 4
    expected = [
        len(np.unique(shuffled.post_account[(t >= s) & (t <= e)]))
        for s, e in zip(start, end, strict=True)
    ]
    assert _active_during(shuffled, start, end).tolist() == expected
    assert _active_during(events, start, end).tolist() == expected


@pytest.mark.parametrize("side", ["left", "right"])
def test_sorted_search_through_the_time_order_is_searchsorted_of_the_sorted_times(side) -> None:  # type: ignore[no-untyped-def]
    """The bisection that reads times through the order (no sorted copy of every time):
    ties, values outside the range, float bounds and an empty order as ``np.searchsorted``."""
    from research.evidence import _sorted_search

    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 7, 100, 1000):
        time = rng.integers(0, 40, n).astype(np.int64)  # many ties
        order = np.argsort(time, kind="stable")
        values = np.concatenate([rng.integers(-3, 45, 50), [0, 39, 40]]).astype(np.int64)
        for v in (values, values + 0.5):
            expected = np.searchsorted(time[order], v, side)
            assert (
                _sorted_search(time, order.astype(np.int32), v, side).tolist() == expected.tolist()
            )
            assert _sorted_search(time[order], None, v, side).tolist() == expected.tolist()


def test_previous_posts_is_each_accounts_previous_post_in_time_order() -> None:
    """Its definition, post by post, in both dtypes and with or without an order."""
    from research.evidence import _previous_posts

    rng = np.random.default_rng(4)
    for n in (0, 1, 2, 50, 500):
        account = rng.integers(0, 9, n).astype(np.int64)
        time = rng.integers(0, 30, n).astype(np.int64)
        order = np.argsort(time, kind="stable")
        in_order = account[order]
        last: dict[int, int] = {}
        expected = []
        for position, a in enumerate(in_order.tolist()):
            expected.append(last.get(a, -1))
            last[a] = position
        for index in (np.int32, np.int64):
            got = _previous_posts(account, order.astype(index), 9, index)
            assert got.dtype == index and got.tolist() == expected
            assert _previous_posts(in_order, None, 9, index).tolist() == expected


@pytest.mark.parametrize("table_limit", [None, 0])
def test_first_app_use_is_each_accounts_first_post_through_the_app(table_limit) -> None:  # type: ignore[no-untyped-def]
    """Through a table of asked accounts x asked apps, or (limit 0) through the asked pairs."""
    events = _events()
    post_app = np.where(events.post_app >= 0, events.post_app, len(events.apps))
    first: dict[tuple[int, int], int] = {}
    for a, p, t in zip(
        events.post_account.tolist(), post_app.tolist(), events.post_time.tolist(), strict=True
    ):
        first[(a, p)] = min(t, first.get((a, p), t))
    rng = np.random.default_rng(2)
    accounts = rng.integers(0, events.n_accounts, size=300)
    used = post_app[rng.integers(0, events.n_posts, size=300)]  # mostly pairs that exist
    apps = np.where(rng.random(300) < 0.5, used, rng.integers(-1, len(events.apps) + 1, size=300))
    never = np.iinfo(np.int64).max
    expected = [
        first.get((a, p), never) if p >= 0 else never
        for a, p in zip(accounts.tolist(), apps.tolist(), strict=True)
    ]
    got = _first_app_use(events, accounts, apps, post_app, table_limit=table_limit)
    assert got.tolist() == expected
    assert (got < never).sum() > 10  # some pairs exist


@pytest.mark.parametrize("table_limit", [None, 0])
def test_posts_through_counts_each_accounts_counted_posts_through_the_app(table_limit) -> None:  # type: ignore[no-untyped-def]
    """Through a table of asked accounts x asked apps, or (limit 0) through the asked pairs."""
    events = _events()
    post_app = np.where(events.post_app >= 0, events.post_app, len(events.apps))
    rng = np.random.default_rng(5)
    counted = rng.random(events.n_posts) < 0.7
    through: Counter[tuple[int, int]] = Counter(
        (a, p)
        for a, p, c in zip(
            events.post_account.tolist(), post_app.tolist(), counted.tolist(), strict=True
        )
        if c
    )
    accounts = events.post_account[rng.integers(0, events.n_posts, size=300)]
    used = post_app[rng.integers(0, events.n_posts, size=300)]
    apps = np.where(rng.random(300) < 0.5, used, rng.integers(-1, len(events.apps) + 1, size=300))
    expected = [
        through[(a, p)] if p >= 0 else 0
        for a, p in zip(accounts.tolist(), apps.tolist(), strict=True)
    ]
    got = _posts_through(events, accounts, apps, counted, post_app, table_limit=table_limit)
    assert got.tolist() == expected
    assert (got > 0).sum() > 10  # some pairs posted


def test_first_use_of_links_is_each_accounts_first_link_to_the_site() -> None:
    events = _events()
    site, _labels = site_keys(events)
    account, when = events.link_account, events.link_time
    first: dict[tuple[int, int], int] = {}
    for s, a, w in zip(site.tolist(), account.tolist(), when.tolist(), strict=True):
        first[(s, a)] = min(w, first.get((s, a), w))
    expected = [first[(s, a)] for s, a in zip(site.tolist(), account.tolist(), strict=True)]
    got = _first_use_of_links(events)
    assert got.tolist() == expected
    assert (got < when).any()  # some links are not their account's first use of the site


def _routine_by_definition(events, groups, link_group, rule):  # type: ignore[no-untyped-def]
    """``_routine`` as its docstring defines it, with dictionaries and loops."""
    start, end, margin = groups.span[:, 0], groups.span[:, 1], rule.history_margin_s
    pairs = list(zip(groups.pair_account.tolist(), groups.pair_group.tolist(), strict=True))
    size = Counter(g for _a, g in pairs)
    judged = [i for i, (_a, g) in enumerate(pairs) if len(groups.sites[g]) and size[g] >= 2]
    groups_of: dict[int, list[int]] = defaultdict(list)
    for i in judged:
        groups_of[pairs[i][0]].append(pairs[i][1])
    account, when, url = (
        x.tolist() for x in (events.link_account, events.link_time, events.link_url)
    )
    linkers: dict[int, set[int]] = defaultdict(set)
    for a, u in zip(account, url, strict=True):
        if a in groups_of:
            linkers[u].add(a)

    def outside(link: int, g: int) -> bool:
        return when[link] < start[g] - margin or when[link] > end[g] + margin

    # Links of each adopter to each URL (two accounts or more linked it) that count for the
    # group: not to its sites, outside its span.
    counted: Counter[tuple[int, int, int]] = Counter()
    for link, (a, u) in enumerate(zip(account, url, strict=True)):
        if len(linkers[u]) >= 2:
            for g in groups_of.get(a, []):
                if link_group[link] != g and outside(link, g):
                    counted[(g, a, u)] += 1
    total = Counter(url)
    theirs = Counter(
        (g, u) for a, u in zip(account, url, strict=True) for g in groups_of.get(a, [])
    )
    links: Counter[tuple[int, int]] = Counter()
    adopters: Counter[tuple[int, int]] = Counter()
    for (g, _a, u), c in counted.items():
        links[(g, u)] += c
        adopters[(g, u)] += 1
    shared = {
        key
        for key in links
        if adopters[key] >= 2
        and adopters[key] >= rule.routine_members * size[key[0]]
        and theirs[key] >= rule.routine_share * total[key[1]]
    }
    per_pair = Counter((a, g) for g, a, u in counted if (g, u) in shared)
    out = np.zeros(len(pairs), dtype=bool)
    for i in judged:
        out[i] = per_pair[pairs[i]] >= rule.routine_urls
    return out


@pytest.mark.parametrize("block", [None, 1000])
@pytest.mark.parametrize("preset", ["weheartit", "multi_campaign"])
def test_routine_is_its_definition(preset: str, block: int | None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # _routine bounds each (group, URL) by a sparse product before counting links one by one;
    # the plain definition must give the same adopter pairs (also with the product cut into
    # many blocks of groups, as it is at 10^7 posts).
    import research.evidence
    from research.evidence import _routine, signature_groups

    if block is not None:
        monkeypatch.setattr(research.evidence, "_ROUTINE_BLOCK", block)
    from research.pipeline import run_pipeline
    from research.rule import Rule

    sim = simulate(preset, seed=3, n_posts=20_000)
    events = encode(sim.posts)
    rule = Rule()
    groups = signature_groups(events, run_pipeline(sim.posts, seed=0).clustering, rule)
    link_site, labels = site_keys(events)
    site_group = np.full(len(labels), -1, dtype=np.int64)
    for g, sites in enumerate(groups.sites):
        site_group[sites] = g
    link_group = site_group[link_site]
    got = _routine(events, groups, link_group, rule)
    assert got.tolist() == _routine_by_definition(events, groups, link_group, rule).tolist()
    assert got.any()  # the term is not trivially zero here


def test_a_groups_text_sample_does_not_depend_on_the_other_groups() -> None:
    # Templating compares a sample of a large group's texts; each group draws its own, so its
    # value is the same whichever other groups were sampled before it.
    from research.evidence import group_evidence, signature_groups
    from research.pipeline import run_pipeline
    from research.rule import Rule

    sim = simulate("weheartit", seed=3, n_posts=20_000)
    events = encode(sim.posts)
    clustering = run_pipeline(sim.posts, seed=0).clustering
    rule = Rule(max_texts=4)
    groups = signature_groups(events, clustering, rule)
    texts = sim.posts.table.column("text")
    sampled = group_evidence(events, groups, texts=texts, rule=rule)
    large = np.flatnonzero(sampled["n_signature_posts"].to_numpy() > 2 * rule.max_texts)[:3]
    assert len(large) == 3
    together = group_evidence(events, groups, texts=texts, rule=rule, costly_for=large)
    alone = group_evidence(events, groups, texts=texts, rule=rule, costly_for=large[2:])
    assert together["templating"][large[2]] == alone["templating"][large[2]]
    assert together["templating"][large].notna().all()


def test_judging_joined_groups_again_equals_computing_every_row_anew(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # decide judges a campaign's joined groups again and copies the other groups' costly
    # terms from the first judgement; computing every row anew gives the same tables.
    import research.evidence as evidence
    from research.pipeline import run_pipeline

    sim = simulate("multi_campaign", seed=3, n_posts=30_000)
    joins: list[int] = []
    signature_groups = evidence.signature_groups

    def counting(*args, together=(), **kwargs):  # type: ignore[no-untyped-def]
        joins.append(len(together))
        return signature_groups(*args, together=together, **kwargs)

    monkeypatch.setattr(evidence, "signature_groups", counting)
    reused = run_pipeline(sim.posts, seed=0)
    assert max(joins) >= 1  # campaigns' groups were joined and judged again
    anew = evidence.group_evidence
    monkeypatch.setattr(evidence, "group_evidence", lambda *a, previous=None, **k: anew(*a, **k))
    full = run_pipeline(sim.posts, seed=0)
    assert reused.clusters.equals(full.clusters)
    assert reused.accounts.equals(full.accounts)


def test_site_spans_of_links_in_time_order_equal_those_of_shuffled_links() -> None:
    """Links in time order take a counting sort by site, others a sort by (site, time)."""
    from research.graph.codes import site_spans

    rng = np.random.default_rng(4)
    when = np.sort(rng.integers(0, 10_000, size=5_000))
    site = rng.integers(0, 300, size=5_000)
    shuffle = rng.permutation(len(when))
    for quantile in (0.0, 0.05, 0.25):
        assert np.array_equal(
            site_spans(site, when, 301, quantile),
            site_spans(site[shuffle], when[shuffle], 301, quantile),
        )

"""The narrowed steps of site keys (research.graph.events, research.graph.codes) equal the direct
computations they replaced: the spans without sorted copies, the account counts of the hosted
links' sites only, and the URL-level stems."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from research.graph.codes import dense_codes, distinct_pairs, group_sizes, site_spans
from research.graph.events import _site_accounts, encode, site_keys
from research.posts import Posts


def _direct_spans(site: np.ndarray, when: np.ndarray, n_sites: int, quantile: float) -> np.ndarray:
    """The spans as computed before: sorted copies of the sites and times, searched by site."""
    out = np.zeros((n_sites, 2), dtype=np.int64)
    if len(site) == 0:
        return out
    order = np.lexsort((when, site))
    s, t = site[order], when[order]
    starts = np.searchsorted(s, np.arange(n_sites), side="left")
    ends = np.searchsorted(s, np.arange(n_sites), side="right")
    has = ends > starts
    width = ends - starts - 1
    lo = starts + np.floor(quantile * width).astype(np.int64)
    hi = starts + np.ceil((1 - quantile) * width).astype(np.int64)
    out[has, 0] = t[lo[has]]
    out[has, 1] = t[hi[has]]
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("quantile", [0.0, 0.1, 0.25])
def test_site_spans_equal_the_sorted_copies(seed: int, quantile: float) -> None:
    rng = np.random.default_rng(seed)
    n, n_sites = int(rng.integers(1, 400)), int(rng.integers(1, 50))
    site = rng.integers(0, n_sites, n)
    when = rng.integers(0, 10**6, n)
    assert np.array_equal(
        site_spans(site, when, n_sites, quantile), _direct_spans(site, when, n_sites, quantile)
    )
    # Times in order (the counting sort's path), and codes outside 0..n_sites-1.
    ordered = np.sort(when)
    assert np.array_equal(
        site_spans(site, ordered, n_sites, quantile),
        _direct_spans(site, ordered, n_sites, quantile),
    )
    outside = site.copy()
    outside[rng.random(n) < 0.2] = -1
    outside[rng.random(n) < 0.2] = n_sites + 2
    assert np.array_equal(
        site_spans(outside, when, n_sites, quantile),
        _direct_spans(outside, when, n_sites, quantile),
    )


def _random_events(seed: int):
    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2014, 5, 1)
    hosts = ["bit.ly", "a.blogspot.com", "b.blogspot.com", "d.com", "e.org", None]
    rows = []
    for i in range(int(rng.integers(5, 120))):
        urls, domains = [], []
        for _ in range(int(rng.integers(0, 4))):
            host = hosts[int(rng.integers(len(hosts)))]
            page = int(rng.integers(6))
            query = f"?q={int(rng.integers(3))}" if rng.random() < 0.3 else ""
            urls.append(f"http://{host or 'x.net'}/{page}{query}")
            domains.append(host)
        rows.append(
            {
                "post_id": str(i),
                "account_id": f"u{int(rng.integers(8))}",
                "timestamp": t0 + dt.timedelta(minutes=int(rng.integers(10**4))),
                "app_name": ["App", "Other", None][int(rng.integers(3))],
                "urls": urls,
                "domains": domains,
            }
        )
    return encode(Posts.from_records(rows))


@pytest.mark.parametrize("seed", range(8))
def test_site_accounts_of_some_links_equal_the_count_over_every_link(seed: int) -> None:
    events = _random_events(seed)
    raw = np.where(events.link_domain >= 0, events.link_domain, len(events.domains)).astype(
        np.int64
    )
    n_sites = len(events.domains) + 1
    uniq, fine = dense_codes(raw)
    direct = group_sizes(distinct_pairs(fine, events.link_account, events.n_accounts)[0], len(uniq))
    rng = np.random.default_rng(seed)
    links = np.flatnonzero(rng.random(len(raw)) < 0.5)
    assert np.array_equal(_site_accounts(events, raw, links, n_sites), direct[fine[links]])


@pytest.mark.parametrize("seed", range(4))
def test_site_keys_leave_no_link_level_stems_and_stems_agree(seed: int) -> None:
    events = _random_events(seed)
    site_keys(events)
    assert "stems" not in events._cache  # the URL-level table only
    labels, stem_of_url = events.url_stems()
    stem_labels, link_stem = events.stems()
    assert stem_labels is labels and np.array_equal(link_stem, stem_of_url[events.link_url])


def _direct_verbatim(events, index: np.ndarray, of_value: np.ndarray):
    """The look-up as before: a table of post by row."""
    rows = np.flatnonzero(index >= 0)
    post_of_row = np.full(len(index), -1, dtype=np.int64)
    post_of_row[events.post_row] = np.arange(events.n_posts)
    post = post_of_row[rows]
    found = post >= 0
    return post[found], of_value[index[rows[found]]]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shuffled", [False, True])
def test_verbatim_posts_equal_the_table_of_post_by_row(seed: int, shuffled: bool) -> None:
    import dataclasses

    import pyarrow as pa

    from research.graph.events import _verbatim_posts, with_texts

    rng = np.random.default_rng(seed)
    n = 60
    words = ["spam now", "hello", "spam now!", None, "buy"]
    texts = [words[int(rng.integers(len(words)))] for _ in range(n)]
    rows = sorted(rng.choice(n, size=40, replace=False).tolist())  # some rows of no post
    if shuffled:
        rng.shuffle(rows)
    base = _random_events(seed)
    m = min(base.n_posts, len(rows))
    events = dataclasses.replace(
        base,
        post_account=base.post_account[:m],
        post_app=base.post_app[:m],
        post_time=base.post_time[:m],
        post_row=np.asarray(rows[:m], dtype=np.int64),
        link_post=base.link_post[base.link_post < m],
        link_url=base.link_url[base.link_post < m],
        link_domain=base.link_domain[base.link_post < m],
        post_repost=None,
    )
    events = with_texts(events, pa.array(texts, pa.string()))
    sample = texts[:10]
    template = np.array([0 if t and t.startswith("spam") else 1 if t else -1 for t in sample])
    post, of = _verbatim_posts(events, sample, template)
    values = {}
    for t, k in zip(sample, template, strict=True):
        if t and k >= 0:
            values.setdefault(t, int(k))
    index = np.array([list(values).index(t) if t in values else -1 for t in texts])
    want_post, want_of = _direct_verbatim(
        events, index, np.fromiter(values.values(), dtype=np.int64, count=len(values))
    )
    assert len(want_post) > 0
    order = np.argsort(want_post)
    assert np.array_equal(post, want_post[order]) and np.array_equal(of, want_of[order])

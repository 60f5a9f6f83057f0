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

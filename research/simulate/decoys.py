"""Benign coordination: news bursts, feed/automation apps, organisations.

Each of these produces the same surface pattern as an attack (many accounts,
one app, one link, close in time) without any account being compromised.
A detector that flags them is wrong.
"""

from __future__ import annotations

import numpy as np

from research.simulate.platform import DAY, NEWS_DOMAINS, World, organic_posts
from research.simulate.registry import Batch, concat_batches
from research.simulate.scenario import DecoySpec
from research.simulate.text import headline_pool

FEED_APPS = (("dlvr.it", "https://dlvr.it"), ("twitterfeed", "http://twitterfeed.com"),
             ("RSS Graffiti", "http://www.rssgraffiti.com"), ("NewsFeed Poster", "http://newsfeedposter.example"))  # fmt: skip
ORG_APPS = (("SocialFlow", "http://www.socialflow.com"), ("Hootsuite", "https://hootsuite.com"),
            ("Sprout Social", "http://www.sproutsocial.com"), ("Buffer", "https://buffer.com"))  # fmt: skip


def news_bursts(
    world: World, spec: DecoySpec, rng: np.random.Generator
) -> tuple[Batch, np.ndarray]:
    """Viral links: many accounts share one new article within hours, each via their own app.

    Returns the posts and the indices of the accounts that took part.
    """
    batches, sharers_all = [], []
    n_bg = world.spec.n_accounts
    pick = np.sqrt(world.activity[:n_bg])
    pick = pick / pick.sum()
    titles = headline_pool(rng, max(spec.news_bursts, 1))
    for b in range(spec.news_bursts):
        size = min(spec.news_burst_size, n_bg)
        sharers = rng.choice(n_bg, size=size, replace=False, p=pick)
        t0 = world.start_s + rng.uniform(0.5, world.spec.days - 0.5) * DAY
        times = t0 + rng.exponential(spec.news_burst_hours * 3600 / 3, size=size)
        domain = NEWS_DOMAINS[int(rng.integers(len(NEWS_DOMAINS)))]
        serial = int(world.next_serials(1)[0])
        url = world.urls.add_block([f"https://{domain}/news/{serial:x}"], [domain])
        text = world.texts.add_block([titles[b]])
        batches.append(
            Batch.single_url(
                sharers,
                np.minimum(times.astype(np.int64), world.end_s - 1),
                world.primary_app[sharers],
                np.full(size, url),
                np.full(size, text),
                is_repost=rng.random(size) < 0.5,
            )
        )
        sharers_all.append(sharers)
    return _joined(batches), _unique(sharers_all)


def feeds(world: World, spec: DecoySpec, rng: np.random.Generator) -> tuple[Batch, np.ndarray]:
    """Feed apps: a group of accounts re-posts every item of one RSS feed within seconds."""
    batches, members = [], []
    for f in range(spec.feeds):
        name, url = FEED_APPS[f % len(FEED_APPS)]
        app = world.app(name if f < len(FEED_APPS) else f"{name} {f}", url)
        accounts = world.new_accounts(spec.feed_accounts, rng, app=app)
        n_items = int(rng.poisson(spec.feed_items_per_day * world.spec.days))
        item_times = world.start_s + rng.uniform(0, world.spec.days * DAY, size=n_items)
        items = _items(world, rng, f"https://dailyfeed{f}.com/item", n_items)
        acc = np.tile(accounts, n_items)
        item = np.repeat(np.arange(n_items), len(accounts))
        batches.append(
            _item_posts(world, rng, acc, item, item_times, spec.feed_delay_s, app, items)
        )
        batches.append(
            organic_posts(world, rng, np.repeat(accounts, rng.poisson(8, size=len(accounts))))
        )
        members.append(accounts)
    return _joined(batches), _unique(members)


def organisations(
    world: World, spec: DecoySpec, rng: np.random.Generator
) -> tuple[Batch, np.ndarray]:
    """An organisation's accounts share its links through one scheduling app."""
    batches, members = [], []
    for o in range(spec.orgs):
        name, url = ORG_APPS[o % len(ORG_APPS)]
        app = world.app(name, url)
        accounts = world.new_accounts(spec.org_accounts, rng)
        n_items = int(rng.poisson(spec.org_posts_per_day * world.spec.days))
        item_times = world.diurnal_times(
            accounts[rng.integers(0, len(accounts), size=n_items)], rng
        )
        items = _items(world, rng, f"https://org{o}-group.org/press", n_items)
        item, member = np.nonzero(rng.random((n_items, len(accounts))) < spec.org_share)
        batches.append(
            _item_posts(
                world, rng, accounts[member], item, item_times, spec.org_delay_s, app, items
            )
        )
        batches.append(
            organic_posts(world, rng, np.repeat(accounts, rng.poisson(20, size=len(accounts))))
        )
        members.append(accounts)
    return _joined(batches), _unique(members)


def _items(
    world: World, rng: np.random.Generator, prefix: str, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """URL and text codes of ``n_items`` new items published under ``prefix`` (one URL each)."""
    domain = prefix.split("/")[2]
    urls = [f"{prefix}/{s:x}" for s in world.next_serials(n_items)]
    url_codes = world.urls.add_block(urls, [domain] * n_items) + np.arange(n_items)
    text_codes = world.texts.add_block(headline_pool(rng, n_items)) + np.arange(n_items)
    return url_codes, text_codes


def _item_posts(
    world: World,
    rng: np.random.Generator,
    accounts: np.ndarray,
    item: np.ndarray,
    item_times: np.ndarray,
    delay_s: float,
    app: int,
    items: tuple[np.ndarray, np.ndarray],
) -> Batch:
    """Each account re-posts its item (same link, same text) after an exponential delay."""
    times = item_times[item] + rng.exponential(delay_s, size=len(accounts))
    url_codes, text_codes = items
    return Batch.single_url(
        accounts,
        np.minimum(times, world.end_s - 1),
        np.full(len(accounts), app),
        url_codes[item],
        text_codes[item],
    )


def _joined(batches: list[Batch]) -> Batch:
    if not batches:
        empty = np.zeros(0, dtype=np.int64)
        return Batch.single_url(empty, empty, empty, empty, empty)
    return concat_batches(batches)


def _unique(parts: list[np.ndarray]) -> np.ndarray:
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

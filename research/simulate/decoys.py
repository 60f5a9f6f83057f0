"""Benign coordination: news bursts, feed/automation apps, organisations.

Each of these produces the same surface pattern as an attack (many accounts,
one app, one link, close in time) without any account being compromised.
A detector that flags them is wrong.
"""

from __future__ import annotations

import numpy as np

from research.simulate.platform import (
    _SYLLABLES,
    DAY,
    NEWS_DOMAINS,
    OFFICIAL_CLIENTS,
    World,
    organic_posts,
)
from research.simulate.registry import Batch, concat_batches
from research.simulate.scenario import DecoySpec
from research.simulate.text import giveaway_pool, headline_pool, organic_pool

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
) -> tuple[Batch, np.ndarray, np.ndarray]:
    """An organisation's accounts share its links through one scheduling app; the first
    ``org_new_site`` organisations move to a new web site mid-window.

    Returns the posts, the members of organisations that kept their site, and the members
    of those that moved.
    """
    batches: list[Batch] = []
    members: list[np.ndarray] = []
    movers: list[np.ndarray] = []
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
        if o < spec.org_new_site and n_items:
            # The new site: every item published after the move links there instead.
            moved = item_times >= world.start_s + rng.uniform(0.3, 0.7) * world.spec.days * DAY
            new_items = _items(world, rng, f"https://{_name(rng, o)}-org{o}.org/news", n_items)
            items = (np.where(moved, new_items[0], items[0]), items[1])
        batches.append(
            _item_posts(
                world, rng, accounts[member], item, item_times, spec.org_delay_s, app, items
            )
        )
        batches.append(
            organic_posts(world, rng, np.repeat(accounts, rng.poisson(20, size=len(accounts))))
        )
        (movers if o < spec.org_new_site else members).append(accounts)
    return _joined(batches), _unique(members), _unique(movers)


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


def _sharers(world: World, rng: np.random.Generator, size: int) -> np.ndarray:
    """Background accounts chosen in proportion to the square root of their activity."""
    n_bg = world.spec.n_accounts
    pick = np.sqrt(world.activity[:n_bg])
    return rng.choice(n_bg, size=min(size, n_bg), replace=False, p=pick / pick.sum())


def _name(rng: np.random.Generator, k: int) -> str:
    return "".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 4)))) + str(k)


NEW_APP_KINDS = ("Cam", "Snap", "Loop", "Daily", "Pocket", "Spot", "Clip", "Note")


def new_apps(world: World, spec: DecoySpec, rng: np.random.Generator) -> tuple[Batch, np.ndarray]:
    """Newly launched apps: adopters join over days and each posts its own pages of the app's
    site through it, at its own pace, until the end of the window."""
    batches, members = [], []
    for k in range(spec.new_apps):
        stem = _name(rng, k)
        domain = f"{stem}.app"
        kind = NEW_APP_KINDS[k % len(NEW_APP_KINDS)]
        app = world.app(f"{stem.capitalize()} {kind}", f"https://{domain}")
        launch = world.start_s + rng.uniform(0.15, 0.6) * world.spec.days * DAY
        adopters = _sharers(world, rng, spec.new_app_adopters)
        adopted = launch + rng.exponential(spec.new_app_adoption_days * DAY / 2, size=len(adopters))
        adopted = np.minimum(adopted, world.end_s - 3600)
        later = rng.poisson(spec.new_app_posts_per_day * (world.end_s - adopted) / DAY)
        account = np.concatenate([adopters, np.repeat(adopters, later)])
        first = adopted + rng.uniform(0, 3600, size=len(adopters))
        span = np.repeat(world.end_s - adopted, later)
        rest = np.repeat(adopted, later) + rng.uniform(0, 1, size=int(later.sum())) * span
        time = np.concatenate([first, rest])
        serial = world.next_serials(len(account))
        urls = world.urls.add_block(
            [f"https://{domain}/p/{s:x}" for s in serial], [domain] * len(account)
        )
        texts = world.texts.add_block(organic_pool(rng, max(len(account), 1))) + np.arange(
            len(account)
        )
        batches.append(
            Batch.single_url(
                account, np.minimum(time, world.end_s - 1), np.full(len(account), app),
                urls + np.arange(len(account)), texts,
            )
        )  # fmt: skip
        members.append(adopters)
    return _joined(batches), _unique(members)


GIVEAWAY_PLATFORMS = ("gleam.io", "woobox.com", "rafflecopter.com", "wn.nr")


def giveaways(world: World, spec: DecoySpec, rng: np.random.Generator) -> tuple[Batch, np.ndarray]:
    """Giveaways: participants share one contest page through a share button (mostly the web
    client) within hours. The page is on the brand's long-established site, or on a giveaway
    platform that hosts other, smaller contests throughout the window."""
    batches, members = [], []
    web = world.app("Twitter Web Client")
    # Brands whose giveaways these are: the platform's best-known sites.
    popular = max(1, min(20, len(world.domains)))
    for _ in range(spec.giveaways):
        brand = world.domains[int(rng.integers(0, popular))]
        hosted = rng.random() < spec.giveaway_platform_share
        domain = GIVEAWAY_PLATFORMS[int(rng.integers(len(GIVEAWAY_PLATFORMS)))] if hosted else brand
        contests = [(spec.giveaway_size, spec.giveaway_hours, brand)]
        if hosted:
            # The platform's other contests: small, spread over the window.
            contests += [
                (
                    int(rng.integers(10, 60)),
                    float(rng.uniform(3, 24)),
                    world.domains[int(rng.integers(0, len(world.domains)))],
                )
                for _ in range(int(rng.integers(10, 30)))
            ]
        for size, hours, sponsor in contests:
            batch, people = _contest(world, rng, web, domain, sponsor, size, hours, hosted)
            batches.append(batch)
            members.append(people)
    return _joined(batches), _unique(members)


def _contest(
    world: World,
    rng: np.random.Generator,
    web: int,
    domain: str,
    sponsor: str,
    size: int,
    hours: float,
    hosted: bool,
) -> tuple[Batch, np.ndarray]:
    contest = int(world.next_serials(1)[0])
    if hosted:
        base = f"https://{domain}/{contest:x}/{sponsor.split('.')[0]}-giveaway"
    else:
        base = f"https://{domain}/giveaway/{contest:x}"
    people = _sharers(world, rng, size)
    account = np.concatenate([people, people[rng.random(len(people)) < 0.1]])
    t0 = world.start_s + rng.uniform(0.05, 0.9) * world.spec.days * DAY
    time = t0 + rng.exponential(hours * 3600 / 3, size=len(account))
    if rng.random() < 0.5:
        # A referral parameter per participant: one page, many URLs.
        serial = world.next_serials(len(account))
        first = world.urls.add_block([f"{base}?ref={s:x}" for s in serial], [domain] * len(account))
        url = first + np.arange(len(account))
    else:
        url = np.full(len(account), world.urls.add_block([base], [domain]))
    app = np.where(rng.random(len(account)) < 0.7, web, world.primary_app[account])
    texts = world.texts.add_block(giveaway_pool(sponsor, rng, 50)) + rng.integers(
        0, 50, size=len(account)
    )
    return Batch.single_url(account, np.minimum(time, world.end_s - 1), app, url, texts), people


def retweet_storms(
    world: World, spec: DecoySpec, rng: np.random.Generator
) -> tuple[Batch, np.ndarray]:
    """Retweet storms: one post with a link (to a popular site or a new one) reposted by many
    accounts within hours, each through its own app."""
    batches, members = [], []
    for r in range(spec.retweet_storms):
        if rng.random() < 0.5:
            domain = world.domains[int(rng.integers(0, max(1, min(200, len(world.domains)))))]
        else:
            domain = f"{_name(rng, r)}.com"
        serial = int(world.next_serials(1)[0])
        url = world.urls.add_block([f"https://{domain}/post/{serial:x}"], [domain])
        author = _sharers(world, rng, 1)
        people = _sharers(world, rng, spec.retweet_storm_size)
        people = people[people != author[0]]
        t0 = world.start_s + rng.uniform(0.05, 0.95) * world.spec.days * DAY
        delays = 60 + rng.exponential(spec.retweet_storm_hours * 3600 / 3, size=len(people))
        time = np.concatenate([[t0], t0 + delays])
        account = np.concatenate([author, people])
        headline = headline_pool(rng, 1)[0]
        text = world.texts.add_block([headline, f"RT @user_{int(author[0])}: {headline}"])
        reposts = np.arange(len(account)) > 0
        batches.append(
            Batch.single_url(
                account, np.minimum(time, world.end_s - 1), world.primary_app[account],
                np.full(len(account), url), np.where(reposts, text + 1, text), is_repost=reposts,
            )
        )  # fmt: skip
        members.append(people)
    return _joined(batches), _unique(members)


SWITCH_CLIENTS = (
    "Twitterrific",
    "Fenix for Android",
    "Talon for Android",
    "Tweetings",
    "Twitter Lite",
)


def client_switches(
    world: World, spec: DecoySpec, rng: np.random.Generator, organic: Batch
) -> tuple[Batch, np.ndarray]:
    """Accounts moving to a new client within days: from its switch time on, most of an
    account's own posts go through the new client (``organic`` is changed in place)."""
    members = []
    n_bg = world.spec.n_accounts
    for c in range(spec.client_switches):
        app = world.app(SWITCH_CLIENTS[c % len(SWITCH_CLIENTS)], None)
        official = np.array([name in OFFICIAL_CLIENTS for name in world.apps.values])
        eligible = np.flatnonzero(official[world.primary_app[:n_bg]])
        eligible = eligible[world.activity[eligible] > np.median(world.activity[:n_bg])]
        if len(eligible) == 0:
            continue
        size = min(spec.client_switch_accounts, len(eligible))
        movers = rng.choice(eligible, size=size, replace=False)
        t0 = world.start_s + rng.uniform(0.2, 0.7) * world.spec.days * DAY
        when = np.full(world.n_accounts, np.inf)
        when[movers] = t0 + rng.exponential(spec.client_switch_days * DAY / 2, size=len(movers))
        switched = (organic.time >= when[organic.account]) & (rng.random(len(organic)) < 0.9)
        organic.app[switched] = app
        members.append(movers)
    return organic, _unique(members)

"""Compromise campaigns run through hijacked accounts, with optional camouflage.

An attacker holds posting access to many real accounts, either through an app
the victims had authorised themselves (the *abused* mode: We Heart It in 2014)
or through a *rogue* app the victims were tricked into authorising. The
attack posts templated texts with a few links, in on-off waves. Victims
recover (change passwords, revoke the app) after a while, but an abused app's
token can keep posting after a password change.
"""

from __future__ import annotations

import numpy as np

from research.errors import ConfigError
from research.simulate.platform import DAY, SHARED_HOSTS, SHORTENERS, World
from research.simulate.registry import Batch, concat_batches
from research.simulate.scenario import CampaignSpec
from research.simulate.text import campaign_pool, organic_pool, paraphrase_pool

_DOMAIN_STEMS = {
    "weheartit": ("womenshealth-diet-news", "slim-secret-today", "health-magazine-weight", "diet-trial-offer", "fit-life-report"),
    "followers": ("socialbooster-pro", "get-followers-now", "follow4free", "boost-my-fans", "fanmagnet"),
    "crypto": ("btc-giveaway-event", "crypto-double-now", "eth-bonus-live", "coin-reward-claim", "wallet-gift"),
    "phishing": ("photo-view-secure", "login-verify-page", "pic-share-view", "account-check", "secure-photos"),
}  # fmt: skip


def authorise_app(world: World, spec: CampaignSpec, rng: np.random.Generator) -> int:
    """Register the campaign's app; in abused mode, make it one of the apps of a share of
    accounts *before* organic posts are drawn, so that victims have used it themselves.

    Stolen credentials (``official``) and an unrecorded app (``none``) register nothing: -1."""
    if spec.app_mode in ("official", "none"):
        return -1
    app = world.app(spec.app, spec.app_url)
    if spec.app_mode == "abused":
        n_bg = world.spec.n_accounts
        has = (world.primary_app[:n_bg] == app) | (world.second_app[:n_bg] == app)
        missing = int(spec.app_user_share * n_bg) - int(has.sum())
        if missing > 0:
            candidates = np.flatnonzero(~has)
            chosen = rng.choice(candidates, size=min(missing, len(candidates)), replace=False)
            world.second_app[chosen] = app
    return app


def choose_victims(
    world: World, spec: CampaignSpec, app: int, taken: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Hijacked background accounts (users of the app in abused mode), plus fake accounts."""
    n_bg = world.spec.n_accounts
    eligible = np.ones(n_bg, dtype=bool)
    eligible[taken[taken < n_bg]] = False
    if spec.app_mode == "abused":
        eligible &= world.users_of(app)[:n_bg]
    n_fake = round(spec.n_victims * spec.fake_share)
    n_hijacked = spec.n_victims - n_fake
    pool = np.flatnonzero(eligible)
    if len(pool) < n_hijacked:
        raise ConfigError(
            f"campaign {spec.name!r}: wants {n_hijacked} hijacked accounts but only {len(pool)} "
            f"are eligible; raise app_user_share or platform.n_accounts, or lower n_victims"
        )
    if spec.victim_activity:
        weight = world.activity[pool] ** spec.victim_activity
        hijacked = np.sort(
            rng.choice(pool, size=n_hijacked, replace=False, p=weight / weight.sum())
        )
    else:
        hijacked = np.sort(rng.choice(pool, size=n_hijacked, replace=False))
    fakes = world.new_accounts(n_fake, rng) if n_fake else np.zeros(0, dtype=np.int64)
    return np.concatenate([hijacked, fakes])


def attack_posts(
    world: World,
    spec: CampaignSpec,
    app: int,
    victims: np.ndarray,
    campaign: int,
    rng: np.random.Generator,
    organic_links: np.ndarray,
) -> Batch:
    """The campaign's posts (malicious by construction), camouflage included.

    ``organic_links`` holds the URL code of every link in organic posts; camouflage
    draws from it.
    """
    if spec.posts_per_victim > 0:
        account, time = _budgeted_times(world, spec, victims, rng)
    else:
        account, time = _wave_times(world, spec, victims, rng)
    n = len(account)
    apps = _attack_apps(world, spec, app, account, rng)
    urls = _campaign_links(world, spec, rng, n, time)
    texts = _attack_texts(world, spec, rng, n)
    posts = Batch.single_url(account, _clip(world, time), apps, urls, texts, campaign=campaign)
    if spec.camouflage == "none" or spec.camouflage_amount <= 0 or n == 0:
        return posts
    return _with_camouflage(world, spec, rng, posts, organic_links)


def _wave_times(
    world: World, spec: CampaignSpec, victims: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The presets' posting model: in each wave, each victim still reachable takes part with
    ``wave_participation`` and posts ``max(1, Poisson(posts_per_wave))`` times."""
    start = world.start_s + spec.start_day * DAY
    waves = np.sort(start + rng.uniform(0, spec.duration_days * DAY, size=spec.n_waves))
    until = _reachable_until(spec, start, len(victims), rng)
    acc_parts, time_parts = [], []
    for wave in waves:
        active = victims[(until > wave) & (rng.random(len(victims)) < spec.wave_participation)]
        n_posts = rng.poisson(spec.posts_per_wave, size=len(active))
        n_posts = np.maximum(n_posts, 1)
        acc = np.repeat(active, n_posts)
        t = wave + rng.uniform(0, spec.wave_minutes * 60, size=len(acc))
        acc_parts.append(acc)
        time_parts.append(t + rng.normal(0, spec.jitter_minutes * 60, size=len(acc)))
    account = np.concatenate(acc_parts) if acc_parts else np.zeros(0, dtype=np.int64)
    time = np.concatenate(time_parts) if time_parts else np.zeros(0)
    return account, time


def _reachable_until(
    spec: CampaignSpec, start: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """When each victim stops being reachable: never when the token persists after a password
    change, else after an exponential recovery time from the campaign's start."""
    persists = rng.random(n) < spec.token_persist
    recovered = start + rng.exponential(spec.recovery_days * DAY, size=n)
    return np.where(persists, np.inf, recovered)


def _budgeted_times(
    world: World, spec: CampaignSpec, victims: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each victim gets a number of attack posts (mean ``posts_per_victim``, at least one, many
    exactly one), placed in random waves or, for ``slow`` timing, spread over the duration
    with at least an hour between a victim's posts; posts after recovery are lost."""
    start = world.start_s + spec.start_day * DAY
    duration = max(spec.duration_days * DAY, 60.0)
    extra = max(spec.posts_per_victim - 1.0, 0.0)
    counts = 1 + np.floor(rng.exponential(extra, size=len(victims))).astype(np.int64)
    counts = np.minimum(counts, 50)
    if spec.timing == "slow":
        counts = np.minimum(counts, max(1, int(duration // 7200)))
    account = np.repeat(victims, counts)
    if spec.timing == "slow":
        # Equal slots per victim, one post near the middle of each: consecutive posts of a
        # victim are at least half a slot (an hour or more) apart.
        slot = duration / np.repeat(counts, counts)
        index = np.arange(len(account)) - np.repeat(np.cumsum(counts) - counts, counts)
        time = start + (index + rng.uniform(0.25, 0.75, size=len(account))) * slot
    else:
        wave_s = min(spec.wave_minutes * 60.0, duration)
        waves = np.sort(start + rng.uniform(0, duration - wave_s, size=max(spec.n_waves, 1)))
        pick = rng.integers(0, len(waves), size=len(account))
        time = waves[pick] + rng.uniform(0, wave_s, size=len(account))
        time = time + rng.normal(0, spec.jitter_minutes * 60, size=len(account))
    until = _reachable_until(spec, start, len(victims), rng)
    keep = time < np.repeat(until, counts)
    return account[keep], time[keep]


def _attack_apps(
    world: World, spec: CampaignSpec, app: int, account: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The app of each attack post, by how the attacker holds the accounts."""
    if spec.app_mode == "none":
        return np.full(len(account), -1, dtype=np.int64)
    if spec.app_mode == "official":
        # Stolen credentials: the attacker logs in and posts through a client the victim
        # already uses (the world decides which: World.stolen_client).
        return world.stolen_client(account)
    fallback = world.app(spec.fallback_app)
    via_app = rng.random(len(account)) < spec.malicious_app_share
    return np.where(via_app, app, fallback)


def _attack_texts(world: World, spec: CampaignSpec, rng: np.random.Generator, n: int) -> np.ndarray:
    if spec.text_mode == "paraphrased":
        pool = paraphrase_pool(spec.text_template, rng, size=max(n, 1))
        return world.texts.add_block(pool) + np.arange(n)
    if spec.text_mode == "unrelated":
        return world.texts.add_block(organic_pool(rng, max(n, 1))) + np.arange(n)
    return world.texts.add_block(campaign_pool(spec.text_template, rng)) + rng.integers(
        0, 200, size=n
    )


def _landing_domains(spec: CampaignSpec, day: int) -> list[str]:
    """The landing domains in use on a day of the campaign (the same every day unless rotated)."""
    stems = _DOMAIN_STEMS.get(spec.text_template, _DOMAIN_STEMS["weheartit"])
    tag = spec.name.replace(" ", "-").lower()
    suffix = f"-d{day}" if day else ""
    if spec.host == "shared_host":
        return [
            f"{stems[i % len(stems)]}-{tag}{suffix}.{SHARED_HOSTS[(i + day) % len(SHARED_HOSTS)]}"
            for i in range(spec.n_domains)
        ]
    return [f"{stems[i % len(stems)]}-{tag}{suffix}.com" for i in range(spec.n_domains)]


def _campaign_links(
    world: World, spec: CampaignSpec, rng: np.random.Generator, n: int, time: np.ndarray
) -> np.ndarray:
    """URL code of each attack post: a landing URL, one of the attacker's short links to it, or
    the landing URL with a per-post query; with daily rotation, each day has its own domains."""
    if spec.rotate_daily and n:
        start = world.start_s + spec.start_day * DAY
        day = np.clip((np.asarray(time) - start) // DAY, 0, None).astype(np.int64)
    else:
        day = np.zeros(n, dtype=np.int64)
    codes = np.zeros(n, dtype=np.int64)
    for d in np.unique(day) if n else []:
        posts = np.flatnonzero(day == d)
        codes[posts] = _links_of_day(world, spec, rng, len(posts), int(d))
    return codes


def _links_of_day(
    world: World, spec: CampaignSpec, rng: np.random.Generator, n: int, day: int
) -> np.ndarray:
    domains = _landing_domains(spec, day)
    targets = [f"http://{domains[i % len(domains)]}/offer/{i}" for i in range(spec.n_urls)]
    target_codes = world.urls.add_block(
        targets, [domains[i % len(domains)] for i in range(spec.n_urls)]
    )
    # A few short links per target, created by the attacker and left unresolved in the data.
    short_per_target = max(spec.short_links_per_url, 1)
    serial = world.next_serials(spec.n_urls * short_per_target)
    shorteners = [SHORTENERS[int(s) % len(SHORTENERS)] for s in serial]
    short_codes = world.urls.add_block(
        [f"http://{d}/x{s:x}" for d, s in zip(shorteners, serial, strict=True)], shorteners
    )

    target = rng.integers(0, spec.n_urls, size=n)
    codes = target_codes + target
    short = rng.random(n) < spec.shortener_share
    codes = np.where(
        short,
        short_codes + target * short_per_target + rng.integers(0, short_per_target, size=n),
        codes,
    )
    # Per-post query mutation (defeats exact-URL blocklists); survives canonicalisation.
    mutate = np.flatnonzero(~short & (rng.random(n) < spec.query_mutation))
    tokens = world.next_serials(len(mutate))
    mutated = [
        f"{targets[t]}?id={s * 7919 % 1_000_003:x}"
        for t, s in zip(target[mutate], tokens, strict=True)
    ]
    doms = [domains[t % len(domains)] for t in target[mutate]]
    codes[mutate] = world.urls.add_block(mutated, doms) + np.arange(len(mutate))
    if spec.short_links_per_url == 0:
        # A fresh short link for every post: no two posts share a link at all.
        fresh = np.flatnonzero(short)
        serial = world.next_serials(len(fresh))
        names = [SHORTENERS[int(s) % len(SHORTENERS)] for s in serial]
        urls = [f"http://{d}/y{s:x}" for d, s in zip(names, serial, strict=True)]
        codes[fresh] = world.urls.add_block(urls, names) + np.arange(len(fresh))
    if spec.host == "shared_host_per_post":
        # A fresh subdomain of a shared host for every landing link (each its own registered
        # domain under the Public Suffix List's private section).
        landing = np.flatnonzero(~short)
        serial = world.next_serials(len(landing))
        stems = _DOMAIN_STEMS.get(spec.text_template, _DOMAIN_STEMS["weheartit"])
        hosts = [
            f"{stems[int(s) % len(stems)]}{s:x}.{SHARED_HOSTS[int(s) % len(SHARED_HOSTS)]}"
            for s in serial
        ]
        urls = [f"http://{h}/offer" for h in hosts]
        codes[landing] = world.urls.add_block(urls, hosts) + np.arange(len(landing))
    return codes


def _with_camouflage(
    world: World,
    spec: CampaignSpec,
    rng: np.random.Generator,
    posts: Batch,
    organic_links: np.ndarray,
) -> Batch:
    """FRAUDAR-style camouflage: the attacker also posts ordinary links from the hijacked
    accounts, drawn uniformly from the platform's URLs or in proportion to their popularity."""
    n = len(posts)
    m = int(rng.poisson(spec.camouflage_amount * n))
    base = rng.integers(0, n, size=m)
    if len(organic_links) == 0:
        return posts
    if spec.camouflage == "random":
        distinct = np.unique(organic_links)
        urls = distinct[rng.integers(0, len(distinct), size=m)]
    else:
        # Each organic occurrence equally likely: a URL is drawn in proportion to its use.
        urls = organic_links[rng.integers(0, len(organic_links), size=m)]
    texts = world.texts.add_block(organic_pool(rng, 500)) + rng.integers(0, 500, size=m)
    times = posts.time[base] + rng.normal(0, 600, size=m)
    camo = Batch.single_url(
        posts.account[base],
        _clip(world, times),
        posts.app[base],
        urls,
        texts,
        campaign=int(posts.campaign[0]),
    )
    return concat_batches([posts, camo])


def _clip(world: World, times: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(times), world.start_s, world.end_s - 1).astype(np.int64)

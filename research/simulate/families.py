"""Scenario families: documented distributions over the simulator's knobs, sampled per seed.

A preset (:mod:`research.simulate.scenario`) is one platform; a *family* is a
distribution over platforms. Each draw picks every knob from a wide range, so
that a method tuned on some draws is tested on others, and a method tuned on
some families is tested on a family it never saw (leave-one-family-out, see
``experiments/select.py``). Families are registered by name in
:data:`FAMILIES`; :func:`sample_scenario` draws one scenario and
:func:`simulate_family` simulates it.

Attack families differ by how the attacker holds the accounts (the channel);
every other knob of the campaign is drawn from the same ranges in all of them
(:func:`attack_knobs`). Benign look-alike families are present in every draw
at realistic rates (:func:`benign_knobs`); a benign family's own draw has no
attack and three instances of that family.

Examples
--------
>>> scenario = sample_scenario("stolen_credentials", seed=3)
>>> scenario.campaigns[0].app_mode
'official'
>>> sample_scenario("stolen_credentials", seed=3) == scenario
True
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from research.errors import ConfigError, unknown_name
from research.simulate.scenario import CampaignSpec, DecoySpec, PlatformSpec, Scenario
from research.simulate.text import template_names

#: Apps that victims had authorised themselves and that an attacker holding their tokens
#: could post through (We Heart It in 2014; Twitter Counter in 2017; automation services).
ABUSABLE_APPS = (
    ("We Heart It", "http://weheartit.com"),
    ("IFTTT", "https://ifttt.com"),
    ("Instagram", "http://instagram.com"),
    ("Tumblr", "https://www.tumblr.com/"),
    ("Foursquare", "http://foursquare.com"),
    ("Buffer", "https://buffer.com"),
    ("Twitter Counter", "http://twittercounter.com"),
    ("Echofon", "http://www.echofon.com/"),
)
_ROGUE_WORDS = ("Followers", "Fans", "Photo", "Horoscope", "Profile", "Unfollow", "Stats", "Boost")
_ROGUE_KINDS = ("Pro", "Plus", "Free", "Now", "Tracker", "Checker", "Magic", "Daily")
_SYLLABLES = "ka lo mi ne ru ta so vi da pe zu ko li ma no ra te fi go hu".split()


@dataclass(frozen=True)
class Family:
    """A named distribution over scenarios.

    Attributes
    ----------
    name
        Registry name.
    kind
        ``attack`` (one compromise campaign among benign look-alikes) or ``benign`` (no
        attack; extra instances of one look-alike).
    models
        Which real behaviour the family models, with sources.
    sample
        Draws a :class:`Scenario` from a generator.
    """

    name: str
    kind: Literal["attack", "benign"]
    models: str
    sample: Callable[[np.random.Generator], Scenario]


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _tag(rng: np.random.Generator) -> str:
    return "".join(rng.choice(_SYLLABLES, size=3)) + str(int(rng.integers(10, 99)))


def platform_knobs(
    rng: np.random.Generator, n_victims: int = 0, *, app_field: bool = True
) -> PlatformSpec:
    """A background platform: 7-21 days, 8,000-30,000 accounts (at least six per victim), 8-12
    posts per account, a few percent of links to blogs on shared hosts."""
    n_accounts = int(np.clip(6 * n_victims, 8_000, 30_000) * rng.uniform(1.0, 1.25))
    return PlatformSpec(
        n_accounts=n_accounts,
        n_posts=int(n_accounts * rng.uniform(8, 12)),
        days=float(rng.uniform(7, 21)),
        shared_host_share=float(rng.uniform(0.02, 0.08)),
        app_field=app_field,
    )


def benign_knobs(
    rng: np.random.Generator, platform: PlatformSpec, boost: str | None = None
) -> DecoySpec:
    """Benign look-alikes at realistic rates for the platform's size and length; the family
    named by ``boost`` gets three instances."""
    days, n = platform.days, platform.n_accounts

    def count(base: int, name: str) -> int:
        return 3 if boost == name else base

    def size(low: float, high: float) -> int:
        return max(3, min(int(_log_uniform(rng, low, high)), n // 5))

    return DecoySpec(
        news_bursts=count(1 + int(rng.poisson(days / 4)), "breaking_news"),
        news_burst_size=size(30, 600),
        news_burst_hours=float(rng.uniform(1, 8)),
        feeds=count(1 + int(rng.poisson(1)), "feed_bots"),
        feed_accounts=size(3, 40),
        feed_items_per_day=float(rng.uniform(3, 30)),
        feed_delay_s=_log_uniform(rng, 5, 600),
        # The first ``org_new_site`` organisations move to a new site; the rest keep theirs.
        orgs=count(2 + int(rng.poisson(1)), "organisations") + count(1, "org_new_site"),
        org_accounts=size(4, 40),
        org_posts_per_day=float(rng.uniform(2, 10)),
        org_share=float(rng.uniform(0.4, 0.9)),
        org_delay_s=_log_uniform(rng, 30, 3600),
        org_new_site=count(1, "org_new_site"),
        new_apps=count(1, "new_app"),
        new_app_adopters=size(30, 1000),
        new_app_adoption_days=float(rng.uniform(1, 5)),
        new_app_posts_per_day=float(rng.uniform(0.2, 2)),
        giveaways=count(1, "giveaway"),
        giveaway_size=size(30, 1500),
        giveaway_hours=float(rng.uniform(3, 24)),
        retweet_storms=count(1 + int(rng.poisson(1)), "retweet_storm"),
        retweet_storm_size=size(30, 1000),
        retweet_storm_hours=float(rng.uniform(1, 12)),
        client_switches=count(1, "client_switch"),
        client_switch_accounts=size(30, 1000),
        client_switch_days=float(rng.uniform(0.5, 4)),
    )


def attack_knobs(
    rng: np.random.Generator, platform: PlatformSpec, n_victims: int
) -> dict[str, Any]:
    """The campaign knobs every attack family draws (ranges, not values).

    Victims 10-5,000 (log-uniform) with 0-50% fake accounts, drawn from dormant to heavy
    posters; 1-20 waves of 2 minutes to a day, or low-and-slow (never two posts of a victim
    within an hour); 1-10 posts per victim on average, many victims posting once; a total
    duration of an hour to a week, sometimes from the very start of the observation window
    (no history to break); links as one URL, a few or many URLs on 1-5 domains, per-post
    tracking parameters, domains rotated daily, the attacker's own short links on public
    shorteners (a few per landing URL, or a fresh one for every post), or landing pages on
    shared hosts (a few subdomains, or a fresh one for every post); templated, paraphrased or unrelated
    texts; camouflage (popular links posted from the victims) in 40% of draws; recovery
    after hours to days, unless the token outlives a password change.
    """
    duration = _log_uniform(rng, 1 / 24, 7.0)
    start = (
        0.0
        if rng.random() < 0.15
        else float(rng.uniform(0.5, max(0.6, platform.days - duration - 0.25)))
    )
    n_domains = int(min(5, 1 + rng.poisson(1)))
    url_style = rng.random()
    if url_style < 0.25:
        n_urls, n_domains = 1, 1
    elif url_style < 0.5:
        n_urls = n_domains
    else:
        n_urls = max(n_domains, round(_log_uniform(rng, n_domains, 40)))
    shortener = rng.random()
    camouflage = rng.random() >= 0.6
    return {
        "n_victims": n_victims,
        "fake_share": 0.0 if rng.random() < 0.6 else float(rng.uniform(0, 0.5)),
        "victim_activity": float(rng.uniform(-1, 1)),
        "start_day": start,
        "duration_days": duration,
        "timing": "slow" if duration >= 0.25 and rng.random() < 0.2 else "waves",
        "n_waves": round(_log_uniform(rng, 1, 20)),
        "wave_minutes": min(_log_uniform(rng, 2, 1440), duration * 1440),
        "jitter_minutes": float(rng.uniform(0, 5)),
        "posts_per_victim": _log_uniform(rng, 1, 10),
        "recovery_days": _log_uniform(rng, 0.2, 5),
        "token_persist": float(rng.uniform(0, 1)),
        "n_domains": n_domains,
        "n_urls": int(n_urls),
        "query_mutation": 0.0 if rng.random() < 0.4 else float(rng.uniform(0.3, 1.0)),
        "shortener_share": 0.0
        if shortener < 0.5
        else (1.0 if shortener > 0.8 else float(rng.uniform(0.2, 0.6))),
        "short_links_per_url": 0 if rng.random() < 0.25 else round(_log_uniform(rng, 1, 5)),
        "rotate_daily": bool(duration >= 2 and rng.random() < 0.3),
        "host": str(rng.choice(["shared_host", "shared_host_per_post"]))
        if rng.random() < 0.2
        else "own",
        "text_template": str(rng.choice(template_names())),
        "text_mode": str(rng.choice(["templated", "templated", "paraphrased", "unrelated"])),
        "camouflage": str(rng.choice(["popularity", "random"])) if camouflage else "none",
        "camouflage_amount": _log_uniform(rng, 0.2, 4) if camouflage else 0.0,
    }


def _attack(channel: str) -> Callable[[np.random.Generator], Scenario]:
    def sample(rng: np.random.Generator) -> Scenario:
        n_victims = round(_log_uniform(rng, 10, 5000))
        platform = platform_knobs(rng, n_victims, app_field=channel != "unknown_app")
        knobs = attack_knobs(rng, platform, n_victims)
        knobs["name"] = f"{channel}-{_tag(rng)}"
        if channel == "abused_app":
            app, url = ABUSABLE_APPS[int(rng.integers(len(ABUSABLE_APPS)))]
            share = min(0.9, max(0.03, 1.3 * n_victims / platform.n_accounts) * rng.uniform(1, 2))
            knobs |= {"app_mode": "abused", "app": app, "app_url": url, "app_user_share": share}
        elif channel == "rogue_app":
            name = (
                f"{rng.choice(_ROGUE_WORDS)} {rng.choice(_ROGUE_KINDS)} {int(rng.integers(2, 99))}"
            )
            knobs |= {"app_mode": "rogue", "app": name, "app_url": f"http://{_tag(rng)}.net"}
        else:
            knobs["app_mode"] = "official" if channel == "stolen_credentials" else "none"
        if knobs["app_mode"] in ("abused", "rogue"):
            knobs["malicious_app_share"] = float(rng.uniform(0.6, 1.0))
        decoys = benign_knobs(rng, platform)
        return Scenario(
            name=channel, platform=platform, decoys=decoys, campaigns=(CampaignSpec(**knobs),)
        )

    return sample


def _benign(name: str) -> Callable[[np.random.Generator], Scenario]:
    def sample(rng: np.random.Generator) -> Scenario:
        platform = platform_knobs(rng)
        return Scenario(
            name=name,
            platform=platform,
            decoys=benign_knobs(rng, platform, boost=name),
            campaigns=(),
        )

    return sample


_ATTACKS = {
    "abused_app": (
        "An app the victims had authorised themselves, its stored tokens used by the attacker: "
        "in 2014 thousands of Twitter accounts posted diet-pill spam through We Heart It, whose "
        "access survived password changes; in 2017 Twitter Counter's tokens posted political "
        "messages from thousands of accounts. The app is familiar to its victims (no app "
        "novelty); the links are new. Thomas et al., 'Consequences of connectivity: "
        "characterizing account hijacking on Twitter', CCS 2014."
    ),
    "rogue_app": (
        "Victims tricked into authorising a new app (follower schemes, horoscope and 'who "
        "viewed your profile' apps) that then posts from their accounts: a new app appears in "
        "many accounts' histories at once. Stringhini et al., 'Follow the green', IMC 2013; "
        "Thomas et al., CCS 2014."
    ),
    "stolen_credentials": (
        "Phished or re-used passwords: the attacker logs in and posts through the official "
        "client each victim already uses, so the app carries no signal (the July 2020 Twitter "
        "compromise posted its Bitcoin scam through Twitter's own web app). Egele et al., "
        "'COMPA: detecting compromised accounts on social networks', NDSS 2013."
    ),
    "unknown_app": (
        "The source field is absent from the whole export: Twitter API v2 stopped returning it "
        "in December 2022, and Mastodon hides the application of federated copies. Only links, "
        "time and history remain."
    ),
}
_BENIGN = {
    "breaking_news": "Many accounts share one new article of a long-established news site within hours, each through its own app.",
    "feed_bots": "Groups of accounts re-post every item of one RSS feed within seconds through a feed app (dlvr.it, twitterfeed), from their first post on.",
    "organisations": "An organisation's accounts share its press links through a social-media manager (Hootsuite, SocialFlow) throughout the window.",
    "org_new_site": "An organisation moves to a new web site mid-window: its accounts, coordinated all along, start linking a domain nobody linked before.",
    "new_app": "A newly launched app adopted by many accounts within days; each adopter posts its own pages of the app's site through it, at its own pace.",
    "giveaway": "Participants share one contest page through a share button within hours (the brand's own site or a giveaway platform such as gleam.io).",
    "retweet_storm": "One post with a link reposted by many accounts within hours, each through its own app.",
    "client_switch": "Many accounts move from their usual client to a new one within days; their posts are otherwise their own.",
}

#: Families by name.
FAMILIES: dict[str, Family] = {
    **{name: Family(name, "attack", text, _attack(name)) for name, text in _ATTACKS.items()},
    **{name: Family(name, "benign", text, _benign(name)) for name, text in _BENIGN.items()},
}
#: Attack families, in registry order.
ATTACK_FAMILIES = tuple(name for name, f in FAMILIES.items() if f.kind == "attack")
#: Benign look-alike families, in registry order; each is a ``decoy`` kind of the truth.
BENIGN_FAMILIES = tuple(name for name, f in FAMILIES.items() if f.kind == "benign")
#: The truth's ``decoy`` label of each benign family.
DECOY_OF = {
    "breaking_news": "news",
    "feed_bots": "feed",
    "organisations": "org",
    "org_new_site": "org_new_site",
    "new_app": "new_app",
    "giveaway": "giveaway",
    "retweet_storm": "retweet",
    "client_switch": "client_switch",
}


def get_family(name: str) -> Family:
    """A family by name (:class:`ConfigError` listing the valid ones otherwise)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise unknown_name("scenario family", name, list(FAMILIES)) from None


def check_attack_family(name: str) -> Family:
    """An attack family by name; a benign or unknown name is a :class:`ConfigError` listing the
    attack families.

    Examples
    --------
    >>> check_attack_family("rogue_app").kind
    'attack'
    """
    family = FAMILIES.get(name)
    if family is None or family.kind != "attack":
        why = "is a benign look-alike family (no campaign)" if family else "is not a family"
        raise ConfigError(
            f"{name!r} {why}; choose one of the attack families: {', '.join(ATTACK_FAMILIES)}"
        )
    return family


def sample_scenario(family: str, seed: int, *, scale: float = 1.0) -> Scenario:
    """Draw the scenario of ``family`` for ``seed`` (the same seed gives the same scenario).

    ``scale`` multiplies the background (accounts and posts; decoys in proportion), for quick
    runs; campaigns keep their drawn size unless the platform becomes too small for them.
    """
    if scale <= 0:
        raise ConfigError(f"scale must be positive, got {scale}")
    fam = get_family(family)
    key = zlib.crc32(family.encode())
    scenario = fam.sample(np.random.default_rng(np.random.SeedSequence([seed, key])))
    if scale != 1.0:
        scenario = scenario.scaled(max(1000, round(scenario.platform.n_posts * scale)))
        scenario = replace(
            scenario, campaigns=tuple(_fit(c, scenario.platform) for c in scenario.campaigns)
        )
    return scenario


def _fit(campaign: CampaignSpec, platform: PlatformSpec) -> CampaignSpec:
    """Keep a campaign simulable on a smaller platform (victims at most a sixth of the accounts)."""
    n_victims = max(10, min(campaign.n_victims, platform.n_accounts // 6))
    share = min(0.9, max(campaign.app_user_share, 1.3 * n_victims / platform.n_accounts))
    return replace(campaign, n_victims=n_victims, app_user_share=share)


def simulate_family(family: str, seed: int, *, scale: float = 1.0) -> Any:
    """Simulate one draw of ``family`` (see :func:`sample_scenario`); returns a
    :class:`~research.simulate.Simulation` whose scenario records every drawn knob."""
    from research.simulate import simulate

    return simulate(sample_scenario(family, seed, scale=scale), seed=seed)

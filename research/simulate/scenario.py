"""What a simulated platform looks like: typed specifications and named presets.

A :class:`Scenario` is plain data (frozen dataclasses of numbers and strings),
so that it can be written next to a simulated dataset, hashed for caching and
composed from a Hydra config. Calibration sources for the defaults are given
beside each field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from research.errors import ConfigError, unknown_name

#: How the attacker posts: through an app the victims had authorised themselves (``abused``),
#: a new app they were tricked into authorising (``rogue``), the official client each victim
#: already uses (``official``: stolen credentials), or with no app recorded (``none``).
AppMode = Literal["abused", "rogue", "official", "none"]
CamouflageMode = Literal["none", "random", "popularity"]
#: ``waves``: bursts of ``wave_minutes``; ``slow``: each victim's posts spread over the whole
#: duration, never two within an hour (low-and-slow).
TimingMode = Literal["waves", "slow"]
#: ``templated``: variants of a few messages; ``paraphrased``: the same pitch reworded for every
#: post; ``unrelated``: ordinary-looking texts (the link is the payload).
TextMode = Literal["templated", "paraphrased", "unrelated"]
#: ``own``: the attacker's own registered domains; ``shared_host``: subdomains of shared hosts
#: (``*.blogspot.com``, ``*.github.io``, ...), each a registered domain of its own under the
#: Public Suffix List's private section; ``shared_host_per_post``: a fresh such subdomain for
#: every landing link.
HostMode = Literal["own", "shared_host", "shared_host_per_post"]


@dataclass(frozen=True)
class PlatformSpec:
    """The organic background: accounts, apps, links and their rhythms."""

    n_accounts: int = 25_000
    n_posts: int = 300_000
    days: float = 14.0
    start: str = "2014-05-01T00:00:00"
    # Lognormal activity; sigma 2.5 puts ~80% of posts on the top 10% of posting accounts,
    # the concentration reported for Twitter activity (Pew 2019: top 10% -> 80%).
    activity_sigma: float = 2.5
    n_apps: int = 500
    # Zipf exponent of app popularity; 1.8 puts ~80% of posts on the top 5 apps.
    app_zipf: float = 1.8
    second_app_share: float = 0.35
    second_app_post_share: float = 0.2
    url_share: float = 0.35
    n_domains: int = 5_000
    domain_zipf: float = 1.1
    urls_per_post_with_url: float = 1.15
    url_zipf: float = 1.05
    new_url_share: float = 0.55
    shortener_share: float = 0.12
    unwound_share: float = 0.5
    repost_share: float = 0.2
    #: Share of (account, page) pairs whose posts of the page carry the page's title as their
    #: text: what a site's share button or a client's link preview writes, so that people who
    #: share one page often post the same words without any coordination.
    title_share: float = 0.3
    #: Share of fresh links that point to pages on shared hosts (blogs and sites under
    #: ``blogspot.com``, ``github.io``, ...), each subdomain a registered domain of its own.
    shared_host_share: float = 0.0
    #: ``False``: the export carries no posting app at all (Twitter API v2 after December 2022,
    #: federated Mastodon copies): every ``app_name`` and ``app_url`` is null.
    app_field: bool = True


@dataclass(frozen=True)
class DecoySpec:
    """Benign coordination that a detector must not flag."""

    news_bursts: int = 8
    news_burst_size: int = 300
    news_burst_hours: float = 3.0
    feeds: int = 4
    feed_accounts: int = 25
    feed_items_per_day: float = 10.0
    feed_delay_s: float = 40.0
    orgs: int = 3
    org_accounts: int = 15
    org_posts_per_day: float = 6.0
    org_share: float = 0.6
    org_delay_s: float = 300.0
    #: Organisations (among ``orgs``) that move their links to a new web site mid-window.
    org_new_site: int = 0
    #: Newly launched apps adopted by many accounts within days; each adopter posts its own
    #: links to the app's domain through it.
    new_apps: int = 0
    new_app_adopters: int = 300
    new_app_adoption_days: float = 3.0
    new_app_posts_per_day: float = 1.0
    #: Giveaways: many accounts share one brand link through a share button within hours.
    giveaways: int = 0
    giveaway_size: int = 300
    giveaway_hours: float = 12.0
    #: Share of giveaways hosted on a giveaway platform (a per-contest page on a domain every
    #: contest shares) rather than on the brand's own, long-established site.
    giveaway_platform_share: float = 0.4
    #: Retweet storms: one post with a link reposted by many accounts within hours.
    retweet_storms: int = 0
    retweet_storm_size: int = 300
    retweet_storm_hours: float = 6.0
    #: Accounts moving from their usual client to a new one within days.
    client_switches: int = 0
    client_switch_accounts: int = 300
    client_switch_days: float = 2.0


@dataclass(frozen=True)
class CampaignSpec:
    """One compromise campaign run through hijacked accounts."""

    name: str = "diet-pills"
    n_victims: int = 400
    app_mode: AppMode = "abused"
    app: str = "We Heart It"
    app_url: str = "http://weheartit.com"
    # Victims are drawn from accounts that had authorised the abused app; this
    # is the share of all accounts that had (abused mode only).
    app_user_share: float = 0.06
    malicious_app_share: float = 1.0
    fallback_app: str = "Twitter Web Client"
    fake_share: float = 0.0
    #: Victims are drawn with probability proportional to ``activity ** victim_activity``:
    #: 0 uniform, negative favours dormant accounts, positive heavy posters.
    victim_activity: float = 0.0
    n_urls: int = 6
    n_domains: int = 2
    host: HostMode = "own"
    #: A fresh set of ``n_domains`` landing domains every day of the campaign.
    rotate_daily: bool = False
    shortener_share: float = 0.3
    #: The attacker's own short links per landing URL, on public shorteners (0: a fresh short
    #: link for every post, so that no two posts share one).
    short_links_per_url: int = 3
    query_mutation: float = 0.3
    start_day: float = 8.0
    duration_days: float = 3.0
    n_waves: int = 8
    wave_minutes: float = 45.0
    jitter_minutes: float = 4.0
    wave_participation: float = 0.6
    posts_per_wave: float = 1.0
    recovery_days: float = 1.5
    token_persist: float = 0.85
    #: ``> 0``: each victim's number of attack posts is drawn with this mean (at least one;
    #: many victims post once) and spread over the waves (or the whole duration when
    #: ``timing`` is ``slow``); ``wave_participation`` and ``posts_per_wave`` are then unused.
    posts_per_victim: float = 0.0
    timing: TimingMode = "waves"
    text_template: str = "weheartit"
    text_mode: TextMode = "templated"
    camouflage: CamouflageMode = "none"
    camouflage_amount: float = 0.0


@dataclass(frozen=True)
class Scenario:
    """A whole simulated platform under attack."""

    name: str = "custom"
    platform: PlatformSpec = field(default_factory=PlatformSpec)
    decoys: DecoySpec = field(default_factory=DecoySpec)
    campaigns: tuple[CampaignSpec, ...] = (CampaignSpec(),)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        data = dict(data)
        platform = _build(PlatformSpec, data.pop("platform", {}), "platform")
        decoys = _build(DecoySpec, data.pop("decoys", {}), "decoys")
        campaigns = tuple(
            _build(CampaignSpec, c, f"campaigns[{i}]")
            for i, c in enumerate(data.pop("campaigns", []))
        )
        unknown = set(data) - {"name"}
        if unknown:
            raise ConfigError(f"scenario: unknown key(s) {', '.join(sorted(unknown))}")
        return cls(
            name=data.get("name", "custom"), platform=platform, decoys=decoys, campaigns=campaigns
        )

    def scaled(self, n_posts: int) -> Scenario:
        """The same platform with ``n_posts`` background posts and accounts and decoys in
        proportion. Campaigns keep their size when the platform grows (an attack does
        not grow with the platform) and shrink with it when it shrinks (so that a
        small platform still has enough accounts to hijack)."""
        factor = n_posts / self.platform.n_posts
        platform = replace(
            self.platform,
            n_posts=int(n_posts),
            n_accounts=max(100, round(self.platform.n_accounts * factor)),
            n_domains=max(50, round(self.platform.n_domains * factor**0.8)),
        )
        d = self.decoys
        decoys = replace(
            d,
            news_bursts=round(d.news_bursts * factor**0.5),
            news_burst_size=max(5, round(d.news_burst_size * factor**0.5)),
            feeds=round(d.feeds * factor**0.5),
            orgs=round(d.orgs * factor**0.5),
        )
        campaigns = self.campaigns
        if factor < 1:
            campaigns = tuple(
                replace(c, n_victims=max(10, round(c.n_victims * factor))) for c in campaigns
            )
        return replace(self, platform=platform, decoys=decoys, campaigns=campaigns)


def _build(kind: type, values: Any, where: str) -> Any:
    if isinstance(values, kind):
        return values
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(
            f"scenario.{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"valid keys: {', '.join(sorted(names))}"
        )
    return kind(**values)


def _weheartit() -> Scenario:
    return Scenario(name="weheartit")


def _rogue_app() -> Scenario:
    campaign = CampaignSpec(
        name="rogue-followers",
        app_mode="rogue",
        app="Social Booster Pro",
        app_url="http://socialbooster-pro.net",
        text_template="followers",
        n_urls=4,
        n_domains=1,
        recovery_days=1.0,
        token_persist=0.0,
    )
    return Scenario(name="rogue_app", campaigns=(campaign,))


def _multi_campaign() -> Scenario:
    campaigns = (
        CampaignSpec(name="diet-pills", n_victims=300, start_day=4.0, duration_days=3.0),
        CampaignSpec(
            name="rogue-followers",
            n_victims=200,
            app_mode="rogue",
            app="Social Booster Pro",
            app_url="http://socialbooster-pro.net",
            text_template="followers",
            n_urls=3,
            n_domains=1,
            start_day=6.0,
            duration_days=2.0,
            token_persist=0.0,
        ),
        CampaignSpec(
            name="crypto-giveaway",
            n_victims=120,
            app_mode="abused",
            app="IFTTT",
            app_url="https://ifttt.com",
            app_user_share=0.04,
            text_template="crypto",
            n_urls=10,
            n_domains=4,
            start_day=9.0,
            duration_days=2.0,
            malicious_app_share=0.8,
        ),
        CampaignSpec(
            name="phishing-dm",
            n_victims=60,
            app_mode="rogue",
            app="Free Photo Filter",
            app_url="http://freephotofilter.app",
            text_template="phishing",
            n_urls=2,
            n_domains=2,
            start_day=10.5,
            duration_days=1.5,
            n_waves=5,
        ),
    )
    return Scenario(name="multi_campaign", campaigns=campaigns)


def _camouflage() -> Scenario:
    campaign = CampaignSpec(camouflage="popularity", camouflage_amount=1.0)
    return Scenario(name="camouflage", campaigns=(campaign,))


PRESETS = {
    "weheartit": _weheartit,
    "rogue_app": _rogue_app,
    "multi_campaign": _multi_campaign,
    "camouflage": _camouflage,
}


def preset(name: str) -> Scenario:
    """A named scenario.

    Examples
    --------
    >>> preset("weheartit").campaigns[0].app
    'We Heart It'
    """
    try:
        return PRESETS[name]()
    except KeyError:
        raise unknown_name("simulator preset", name, list(PRESETS)) from None


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """Apply nested overrides such as ``{"platform": {"n_posts": 1000}, "campaign": {...}}``.

    The key ``campaign`` applies to every campaign of the scenario (sweeps vary
    one attack property across presets); ``campaigns`` replaces the list.
    """
    data = scenario.to_dict()
    for key, value in overrides.items():
        if key == "campaign":
            data["campaigns"] = [{**c, **dict(value)} for c in data["campaigns"]]
        elif key in ("platform", "decoys"):
            data[key] = {**data[key], **dict(value)}
        elif key in ("campaigns", "name"):
            data[key] = value
        else:
            raise ConfigError(
                f"scenario override {key!r} is unknown; use platform, decoys, campaign, campaigns or name"
            )
    return Scenario.from_dict(data)

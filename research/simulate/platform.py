"""The organic background: accounts, apps, domains, links and diurnal posting."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from research.simulate.registry import Batch, BlockTable, Interner
from research.simulate.scenario import PlatformSpec
from research.simulate.text import organic_pool

DAY = 86_400

# Named apps in popularity order (rank 0 most popular); the long tail is synthetic.
# Apps with a "home" domain link their own pages (photos, check-ins) most of the time.
NAMED_APPS: tuple[tuple[str, str, str | None], ...] = (
    ("Twitter for iPhone", "http://twitter.com/download/iphone", None),
    ("Twitter for Android", "http://twitter.com/download/android", None),
    ("Twitter Web Client", "http://twitter.com", None),
    ("TweetDeck", "https://about.twitter.com/products/tweetdeck", None),
    ("Twitter for iPad", "http://twitter.com/#!/download/ipad", None),
    ("Instagram", "http://instagram.com", "instagram.com"),
    ("Facebook", "http://www.facebook.com/twitter", "facebook.com"),
    ("Hootsuite", "https://hootsuite.com", None),
    ("Tweetbot for iOS", "http://tapbots.com/tweetbot", None),
    ("Mobile Web (M2)", "https://mobile.twitter.com", None),
    ("Echofon", "http://www.echofon.com/", None),
    ("We Heart It", "http://weheartit.com", "weheartit.com"),
    ("Foursquare", "http://foursquare.com", "swarmapp.com"),
    ("Buffer", "https://buffer.com", None),
    ("IFTTT", "https://ifttt.com", None),
    ("Tumblr", "https://www.tumblr.com/", "tumblr.com"),
    ("Twitter for Windows Phone", "http://www.twitter.com", None),
    ("Twitter for Mac", "http://itunes.apple.com/us/app/twitter/id409789998?mt=12", None),
    ("SocialFlow", "http://www.socialflow.com", None),
    ("Sprout Social", "http://www.sproutsocial.com", None),
)

# Popular domains in popularity order; the long tail is synthetic.
NAMED_DOMAINS = (
    "youtube.com", "nytimes.com", "bbc.co.uk", "theguardian.com", "cnn.com", "washingtonpost.com",
    "spotify.com", "huffingtonpost.com", "buzzfeed.com", "reuters.com", "espn.com", "imgur.com",
    "wordpress.com", "blogspot.com", "amazon.com", "linkedin.com", "forbes.com", "medium.com",
    "vimeo.com", "soundcloud.com",
)  # fmt: skip
NEWS_DOMAINS = (
    "nytimes.com",
    "bbc.co.uk",
    "theguardian.com",
    "cnn.com",
    "washingtonpost.com",
    "reuters.com",
)
SHORTENERS = ("bit.ly", "goo.gl", "ow.ly", "tinyurl.com")
#: Shared hosts whose subdomains are registered domains of their own (the Public Suffix List's
#: private section): blogs and project pages of ordinary users, and cheap landing pages.
SHARED_HOSTS = (
    "blogspot.com",
    "github.io",
    "herokuapp.com",
    "netlify.app",
    "wixsite.com",
    "web.app",
)
#: The platform's own clients: stolen-credential attacks post through these.
OFFICIAL_CLIENTS = frozenset(
    {"Twitter for iPhone", "Twitter for Android", "Twitter Web Client", "Twitter for iPad",
     "Mobile Web (M2)", "Twitter for Windows Phone", "Twitter for Mac"}
)  # fmt: skip
_TLDS = ("com", "com", "com", "net", "org", "co.uk", "de", "fr", "com.br", "info", "io")
_SYLLABLES = "ka lo mi ne ru ta so vi da pe zu ko li ma no ra te fi go hu".split()

# Share of posts made at each local hour (a typical diurnal curve: trough at 4-5 am).
DIURNAL = np.array(
    [3.0, 2.0, 1.3, 0.9, 0.7, 0.8, 1.5, 2.6, 3.6, 4.2, 4.5, 4.8,
     5.0, 5.0, 4.9, 4.9, 5.1, 5.4, 5.8, 6.3, 6.8, 6.9, 6.2, 4.7]
)  # fmt: skip
DIURNAL = DIURNAL / DIURNAL.sum()
_TIMEZONES = np.array([-8, -7, -6, -5, -3, 0, 1, 2, 3, 5, 8, 9])
_TZ_SHARE = np.array([10, 3, 6, 16, 6, 12, 14, 5, 6, 8, 7, 7], dtype=float)
_TZ_SHARE = _TZ_SHARE / _TZ_SHARE.sum()


def zipf_weights(n: int, exponent: float) -> np.ndarray:
    """Probabilities proportional to rank^-exponent over ``n`` ranks."""
    w = np.arange(1, n + 1, dtype=float) ** -exponent
    return w / w.sum()


@dataclass
class World:
    """Everything the components of a simulation share: names, accounts and clocks."""

    spec: PlatformSpec
    start_s: int
    apps: Interner = field(default_factory=Interner)
    app_urls: list[str | None] = field(default_factory=list)
    app_home: dict[int, str] = field(default_factory=dict)
    urls: BlockTable = field(default_factory=BlockTable)
    texts: BlockTable = field(default_factory=BlockTable)
    activity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    primary_app: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    second_app: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    timezone: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    domains: list[str] = field(default_factory=list)
    serial: int = 0
    #: The pages' titles (a block of ``texts``, made at first use): ``(first code, count)``.
    titles: tuple[int, int] = (-1, 0)

    @property
    def n_accounts(self) -> int:
        return len(self.activity)

    @property
    def end_s(self) -> int:
        return self.start_s + int(self.spec.days * DAY)

    def app(self, name: str, url: str | None = None) -> int:
        """Code of an app, registering it if new."""
        code = self.apps.add(name)
        if code == len(self.app_urls):
            self.app_urls.append(url)
        return code

    def next_serials(self, n: int) -> np.ndarray:
        """``n`` fresh serial numbers (make generated URLs unique)."""
        out = np.arange(self.serial, self.serial + n)
        self.serial += n
        return out

    def title_of(self, page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Text code of each page's title (a page keeps one title; titles are drawn from a
        generator spawned from ``rng``, so ``rng``'s own stream is left as it was)."""
        first, count = self.titles
        if first < 0:
            count = 20_000
            first = self.texts.add_block(organic_pool(rng.spawn(1)[0], count))
            self.titles = (first, count)
        return first + _mix(page.astype(np.uint64), 0x9E3779B97F4A7C15) % np.uint64(count)

    def users_of(self, app: int) -> np.ndarray:
        """Whether each account had authorised ``app`` (its primary or its second app)."""
        return (self.primary_app == app) | (self.second_app == app)

    def stolen_client(self, accounts: np.ndarray) -> np.ndarray:
        """The app an attacker holding each account's password posts through: the account's
        usual app when it is an official client, else the web client."""
        official = np.array([name in OFFICIAL_CLIENTS for name in self.apps.values])
        usual = self.primary_app[accounts]
        web = self.app("Twitter Web Client")
        return np.where(official[usual], usual, web)

    def new_accounts(self, n: int, rng: np.random.Generator, app: int | None = None) -> np.ndarray:
        """Append ``n`` accounts (low organic activity); returns their indices."""
        first = self.n_accounts
        probs = zipf_weights(self.spec.n_apps, self.spec.app_zipf)
        primary = rng.choice(len(probs), size=n, p=probs) if app is None else np.full(n, app)
        self.activity = np.concatenate([self.activity, np.full(n, np.exp(-1.0))])
        self.primary_app = np.concatenate([self.primary_app, primary])
        self.second_app = np.concatenate([self.second_app, np.full(n, -1)])
        self.timezone = np.concatenate([self.timezone, rng.choice(_TIMEZONES, size=n, p=_TZ_SHARE)])
        return np.arange(first, first + n)

    def diurnal_times(self, accounts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Posting times over the whole period, following each account's local day."""
        n = len(accounts)
        day = rng.integers(0, max(1, int(self.spec.days)), size=n)
        hour = rng.choice(24, size=n, p=DIURNAL)
        utc = day * DAY + (hour - self.timezone[accounts]) * 3600 + rng.integers(0, 3600, size=n)
        return self.start_s + np.mod(utc, int(self.spec.days * DAY))


def make_world(spec: PlatformSpec, rng: np.random.Generator, start_s: int) -> World:
    """Apps, domains and accounts (with activity, app loyalty and time zone)."""
    world = World(spec=spec, start_s=start_s)
    for name, url, home in NAMED_APPS[: spec.n_apps]:
        code = world.app(name, url)
        if home:
            world.app_home[code] = home
    for i in range(len(world.apps), spec.n_apps):
        world.app(_synthetic_name(rng, i), f"https://app{i}.example.com")
    world.domains = list(NAMED_DOMAINS[: spec.n_domains]) + [
        _synthetic_domain(rng, i) for i in range(len(NAMED_DOMAINS), spec.n_domains)
    ]
    n = spec.n_accounts
    world.activity = rng.lognormal(0.0, spec.activity_sigma, size=n)
    probs = zipf_weights(spec.n_apps, spec.app_zipf)
    world.primary_app = rng.choice(spec.n_apps, size=n, p=probs)
    second = rng.choice(spec.n_apps, size=n, p=probs)
    second = np.where(second == world.primary_app, (second + 1) % spec.n_apps, second)
    world.second_app = np.where(rng.random(n) < spec.second_app_share, second, -1)
    world.timezone = rng.choice(_TIMEZONES, size=n, p=_TZ_SHARE)
    return world


def _synthetic_name(rng: np.random.Generator, i: int) -> str:
    stem = "".join(rng.choice(_SYLLABLES, size=2)).capitalize()
    return f"{stem} {('Social', 'Poster', 'Share', 'App', 'Mobile', 'Lite')[i % 6]} {i}"


def _synthetic_domain(rng: np.random.Generator, i: int) -> str:
    stem = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 4))))
    return f"{stem}{i}.{_TLDS[i % len(_TLDS)]}"


def background_posts(world: World, rng: np.random.Generator) -> Batch:
    """Organic posts: heavy-tailed activity, app loyalty, diurnal hours, Zipf links."""
    spec = world.spec
    n_acc = spec.n_accounts
    weights = world.activity[:n_acc]
    counts = rng.multinomial(spec.n_posts, weights / weights.sum())
    return organic_posts(world, rng, np.repeat(np.arange(n_acc), counts))


def organic_posts(world: World, rng: np.random.Generator, account: np.ndarray) -> Batch:
    """Ordinary posts by the given accounts (one entry per post)."""
    spec = world.spec
    n = len(account)
    second = world.second_app[account]
    use_second = (second >= 0) & (rng.random(n) < spec.second_app_post_share)
    app = np.where(use_second, second, world.primary_app[account])
    time = world.diurnal_times(account, rng)

    pool = organic_pool(rng, int(min(max(n, 1), 50_000)))
    first_text = world.texts.add_block(pool)
    text = first_text + rng.integers(0, len(pool), size=n)

    has_url = rng.random(n) < spec.url_share
    n_links = np.where(has_url, 1 + (rng.random(n) < spec.urls_per_post_with_url - 1.0), 0)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_links, out=offsets[1:])
    link_post = np.repeat(np.arange(n), n_links)
    codes = _organic_links(world, rng, app[link_post])
    if spec.title_share > 0 and len(codes):
        # Share buttons: an account that shares a page with its title does so every time.
        linking = np.flatnonzero(has_url)
        page = codes[offsets[linking]]
        pair = _mix(page.astype(np.uint64), account[linking].astype(np.uint64))
        titled = (pair >> np.uint64(11)).astype(np.float64) < spec.title_share * 2.0**53
        text[linking[titled]] = world.title_of(page[titled], rng)
    return Batch(
        account=account.astype(np.int64),
        time=time,
        app=app.astype(np.int64),
        url_offsets=offsets,
        url_codes=codes,
        text=text,
        is_repost=rng.random(n) < spec.repost_share,
        campaign=np.full(n, -1, dtype=np.int64),
    )


def _organic_links(world: World, rng: np.random.Generator, app: np.ndarray) -> np.ndarray:
    """One URL code per link: the app's own pages, a popular URL, or a fresh one."""
    spec = world.spec
    m = len(app)
    codes = np.empty(m, dtype=np.int64)
    home = np.array([world.app_home.get(int(a), "") for a in range(len(world.apps))], dtype=object)
    is_home = (home[app] != "") & (rng.random(m) < 0.9)

    # Pages of the posting app itself (one photo, one check-in): unique per post.
    idx = np.flatnonzero(is_home)
    serial = world.next_serials(len(idx))
    homes = home[app[idx]]
    urls = [f"https://{h}/p/{s:x}" for h, s in zip(homes, serial, strict=True)]
    codes[idx] = world.urls.add_block(urls, list(homes)) + np.arange(len(idx))

    rest = np.flatnonzero(~is_home)
    fresh = rng.random(len(rest)) < spec.new_url_share
    # Popular URLs: a shared pool with Zipf popularity (viral links, home pages).
    pop = rest[~fresh]
    pool_size = max(10, int(len(rest) * 0.05))
    pool_domains = rng.choice(
        len(world.domains), size=pool_size, p=zipf_weights(len(world.domains), spec.domain_zipf)
    )
    pool_first = world.urls.add_block(
        *_article_urls(world, pool_domains, world.next_serials(pool_size))
    )
    codes[pop] = pool_first + rng.choice(
        pool_size, size=len(pop), p=zipf_weights(pool_size, spec.url_zipf)
    )

    # Fresh URLs: a new article on a Zipf-chosen domain, sometimes behind a shortener.
    new = rest[fresh]
    doms = rng.choice(
        len(world.domains), size=len(new), p=zipf_weights(len(world.domains), spec.domain_zipf)
    )
    serial = world.next_serials(len(new))
    urls, domains = _article_urls(world, doms, serial)
    short = rng.random(len(new)) < spec.shortener_share * (1 - spec.unwound_share)
    shortener = np.asarray(SHORTENERS, dtype=object)[
        rng.integers(0, len(SHORTENERS), size=len(new))
    ]
    urls = [
        f"http://{s}/{n:x}" if k else u
        for u, s, n, k in zip(urls, shortener, serial, short, strict=True)
    ]
    domains = [s if k else d for d, s, k in zip(domains, shortener, short, strict=True)]
    if spec.shared_host_share > 0:
        _to_blogs(world, rng, urls, domains, serial, short)
    codes[new] = world.urls.add_block(urls, domains) + np.arange(len(new))
    return codes


def _to_blogs(
    world: World,
    rng: np.random.Generator,
    urls: list[str],
    domains: list[str],
    serial: np.ndarray,
    short: np.ndarray,
) -> None:
    """Move a share of fresh links to ordinary users' blogs on shared hosts (in place): each
    blog (``name.blogspot.com``) is a registered domain of its own, with Zipf popularity."""
    n_blogs = max(50, len(world.domains) // 2)
    moved = np.flatnonzero(~short & (rng.random(len(urls)) < world.spec.shared_host_share))
    blog = rng.choice(n_blogs, size=len(moved), p=zipf_weights(n_blogs, world.spec.domain_zipf))
    for i, b in zip(moved.tolist(), blog.tolist(), strict=True):
        host = f"{_SYLLABLES[b % len(_SYLLABLES)]}{_SYLLABLES[(b // 7) % len(_SYLLABLES)]}{b}.{SHARED_HOSTS[b % len(SHARED_HOSTS)]}"
        domains[i] = host
        urls[i] = f"https://{host}/{int(serial[i]):x}.html"


def _article_urls(
    world: World, domains: np.ndarray, serial: np.ndarray
) -> tuple[list[str], list[str]]:
    names = [world.domains[d] for d in domains]
    urls = [
        f"https://{d}/watch?v={s:x}"
        if d == "youtube.com"
        else f"https://{d}/{('news', 'post', 'a', 'story')[s % 4]}/{s:x}"
        for d, s in zip(names, serial, strict=True)
    ]
    return urls, names


def _mix(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """A fixed pseudo-random ``uint64`` of each pair (splitmix64's finaliser of ``a * K + b``):
    a property of the pair, drawn without touching any generator's stream."""
    with np.errstate(over="ignore"):
        x = a * np.uint64(0xBF58476D1CE4E5B9) + np.asarray(b, dtype=np.uint64)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))

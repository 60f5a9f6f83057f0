"""Plant a simulated campaign into any posts table, so that false positives are measured on real
benign behaviour.

A family draw (:func:`research.simulate.families.sample_scenario`) gives the campaign's knobs;
the *background* (a researcher's own export, or any posts table) gives everything else. The
campaign is run by the simulator's own code (:mod:`research.simulate.campaigns`) against a
:class:`ObservedWorld`: a world whose accounts, apps and links are the background's.

What comes from the background, and how:

* **Victims** are the background's own accounts, drawn with the family's ``victim_activity``
  weighting by their number of posts; accounts already in a campaign of the background's truth
  are never drawn. Fake accounts (the draw's ``fake_share``) are new accounts.
* **The app** follows the family's channel. *Abused app*: the family's app when at least as
  many background accounts used it as there are victims to draw; else the third-party app used
  by enough accounts whose number of users is closest to the draw's ``app_user_share`` of the
  accounts; else an official client used by enough accounts (recorded as such). Victims are
  drawn among its users. *Stolen credentials*: each victim's own most used official-looking
  client (:func:`official_looking`), else its most used app. *Rogue app*: a new app (the
  family's name, made unique). *Unknown app*: null. A background with no app at all stays so:
  every attack post has a null app, whatever the channel. Posts an abused or rogue campaign
  does not send through its app go through the family's fallback (``Twitter Web Client``) when
  the background has it, else through the background's most used official-looking client.
* **Time.** The campaign is placed inside the background's observed window, its start drawn as
  the family draws it relative to the window: a campaign the family starts at the very
  beginning starts at the background's first post; any other start keeps its position between
  the family's bounds (half a day in, and a quarter of a day before the end less the duration),
  recomputed for the background's length. A campaign longer than the window is cut to it.
* **Links** for camouflage are drawn from the background's own URLs (every occurrence, so in
  proportion to their use for ``popularity``); the attack's own links, texts, waves and
  recovery are the simulator's.

The output is the background, untouched, plus the attack posts (ids
``injected-<family>-<seed>-<n>``, checked not to collide with the background's), sorted by time
(stable: the background's own order is kept among equal times), and a
:class:`~research.truth.GroundTruth` marking the campaign's accounts and posts; a background
truth (a ``simulate`` folder) is carried over.

Known differences from :func:`research.simulate.simulate`: victims of an abused app are the
accounts *seen* posting through it (the simulator also hijacks accounts that had authorised it
without posting through it in the window); the stolen-credentials client is the victim's own
most used official client (the simulator uses the web client for victims whose usual app is a
third party's); a campaign is kept inside the window (the simulator clips posts past the end to
the last second).

Examples
--------
>>> from research.simulate import simulate
>>> background, truth = without_campaigns(simulate("weheartit", seed=0, n_posts=20_000))
>>> planted = inject(background, "rogue_app", seed=1, max_victims=30)
>>> planted.injection["app"]["mode"], planted.truth.campaigns == [planted.scenario.campaigns[0].name]
('rogue', True)
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from research.errors import ConfigError, InputFileError
from research.posts import POSTS_SCHEMA, Posts
from research.simulate import Simulation, batch_table
from research.simulate.campaigns import attack_posts, choose_victims
from research.simulate.families import check_attack_family, sample_scenario
from research.simulate.platform import DAY, OFFICIAL_CLIENTS, SHORTENERS, World
from research.simulate.scenario import CampaignSpec, PlatformSpec
from research.truth import ACCOUNT_TRUTH_SCHEMA, POST_TRUTH_SCHEMA, GroundTruth

__all__ = [
    "BackgroundTooSmall",
    "ObservedWorld",
    "inject",
    "official_looking",
    "without_campaigns",
]

#: The shortest background a campaign is planted into: the family's shortest campaign.
MIN_WINDOW_S = 3600
#: The platforms' own clients by name (Twitter's and Mastodon's), besides
#: :data:`~research.simulate.platform.OFFICIAL_CLIENTS`.
_OFFICIAL = re.compile(
    r"(Twitter( for .+| Web (Client|App)| Lite)?|TweetDeck( Web App)?|Mobile Web( \(M\d\))?"
    r"|Web|Mastodon( for (iOS|Android))?)"
)
#: The simulator's own short links (``http://bit.ly/x<serial>``): a background that holds some
#: (an earlier injection, a ``simulate`` output) moves the serials of new ones past its own.
#: At most 15 hex digits, so that a serial stays a machine integer.
_SHORT_LINK = re.compile(
    "^http://(?:" + "|".join(re.escape(s) for s in SHORTENERS) + ")/x(?P<serial>[0-9a-f]{1,15})$"
)


def official_looking(name: str) -> bool:
    """Whether an app's name is one of the platform's own clients (Twitter's, Mastodon's).

    Examples
    --------
    >>> [official_looking(n) for n in ("Twitter for Android", "Twitter Web App", "Web", "IFTTT")]
    [True, True, True, False]
    """
    return name in OFFICIAL_CLIENTS or _OFFICIAL.fullmatch(name) is not None


@dataclass
class ObservedWorld(World):
    """A :class:`~research.simulate.platform.World` read from a posts table: its accounts,
    apps (most posted first) and links are the background's, so that the simulator's campaign
    code runs against it unchanged.

    ``usage`` counts each background account's posts per app; ``client`` is each background
    account's own most used official-looking client, else its most used app (-1 without one).
    """

    usage: sparse.csc_matrix = field(default_factory=lambda: sparse.csc_matrix((0, 0)))
    client: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    observed_end_s: int = 0

    @property
    def end_s(self) -> int:
        """One second after the background's last post."""
        return self.observed_end_s

    @property
    def n_background(self) -> int:
        """Accounts of the background (fake accounts come after them)."""
        return int(self.usage.shape[0])

    def users_of(self, app: int) -> np.ndarray:
        """Whether each account posted through ``app`` in the background."""
        return _app_users(self.usage, app, self.n_accounts)

    def stolen_client(self, accounts: np.ndarray) -> np.ndarray:
        """Each account's own client (fake accounts: the app they were given)."""
        n_bg = self.n_background
        own = self.client[np.minimum(accounts, max(n_bg - 1, 0))] if n_bg else accounts
        return np.where(accounts < n_bg, own, self.primary_app[accounts]).astype(np.int64)


@dataclass(frozen=True)
class _Background:
    """What the injection reads from a posts table, once."""

    account_ids: pa.Array
    account_names: pa.Array
    n_posts: np.ndarray
    app_names: list[str]
    app_urls: list[str | None]
    usage: sparse.csc_matrix
    client: np.ndarray
    url_values: pa.Array
    url_domains: pa.Array
    link_codes: np.ndarray
    serial_base: int
    start_s: int
    end_s: int
    platform: str

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def days(self) -> float:
        return (self.end_s - self.start_s) / DAY


def inject(
    posts: Posts,
    family: str,
    seed: int,
    *,
    scale_victims: float | None = None,
    max_victims: int | None = None,
    truth: GroundTruth | None = None,
    source: Any = None,
) -> Simulation:
    """Plant one campaign of an attack family into a posts table.

    Parameters
    ----------
    posts
        The background: any posts table (a researcher's own export, a ``simulate`` output).
    family
        An attack family (:data:`~research.simulate.families.ATTACK_FAMILIES`).
    seed
        Draws the family's knobs and everything the injection draws: the same seed and
        background give the same bytes.
    scale_victims
        Multiply the drawn number of victims (hijacked and fake accounts) by this factor.
    max_victims
        At most this many victims (after ``scale_victims``). A background with fewer eligible
        accounts than the draw's hijacked victims is refused with a :class:`ConfigError` that
        names the largest value that fits.
    truth
        The background's own ground truth, carried into the result (its campaign accounts are
        never drawn as victims); default: every background account benign.
    source
        A JSON-ready description of where the background came from, recorded in
        ``injection["background"]["source"]``.

    Returns
    -------
    Simulation
        The background plus the attack posts, sorted by time; the truth; the family's scenario
        with the campaign as planted; ``injection``: the family, seed, the drawn and planted
        knobs, the app chosen and the background's description (``scenario.json``).

    Raises
    ------
    ConfigError
        An unknown or benign family, a bad option, or a background too small or too short for
        the drawn campaign.
    InputFileError
        A background with no posts.

    Examples
    --------
    >>> import datetime as dt
    >>> t0 = dt.datetime(2021, 3, 1)
    >>> background = Posts.from_records(
    ...     {"post_id": str(i), "account_id": f"a{i % 40}", "timestamp": t0 + dt.timedelta(hours=i),
    ...      "app_name": "Twitter for Android", "urls": [f"https://news.example/{i}"],
    ...      "domains": ["news.example"]} for i in range(400))
    >>> planted = inject(background, "stolen_credentials", seed=0, max_victims=5)
    >>> malicious = planted.truth.posts.column("malicious").to_numpy()
    >>> len(planted.posts) == 400 + int(malicious.sum()), planted.injection["app"]["mode"]
    (True, 'official')
    """
    check_attack_family(family)
    if scale_victims is not None and not scale_victims > 0:
        raise ConfigError(f"scale_victims must be positive, got {scale_victims}")
    if max_victims is not None and max_victims < 1:
        raise ConfigError(f"max_victims must be at least 1, got {max_victims}")
    if len(posts) == 0:
        raise InputFileError("the background holds no posts to plant a campaign into")
    scenario = sample_scenario(family, seed)
    drawn = scenario.campaigns[0]
    background = _observe(posts)
    span = background.end_s - 1 - background.start_s
    if span < MIN_WINDOW_S:
        raise ConfigError(
            f"the background spans {span} s; a campaign needs at least {MIN_WINDOW_S} s (an "
            f"hour) of observed time"
        )
    taken = _campaign_accounts(background, truth)
    if truth is not None and drawn.name in truth.campaigns:
        raise ConfigError(
            f"the background's truth already holds a campaign named {drawn.name!r} "
            f"({family}, seed {seed}); plant another seed"
        )

    n_victims = drawn.n_victims
    if scale_victims is not None:
        n_victims = max(1, round(n_victims * scale_victims))
    if max_victims is not None:
        n_victims = min(n_victims, max_victims)
    n_hijacked = n_victims - round(n_victims * drawn.fake_share)
    app_field = len(background.app_names) > 0
    mode = drawn.app_mode if app_field else "none"
    free = np.ones(background.n_accounts, dtype=bool)
    free[taken] = False
    choice = _choose_app(background, drawn, mode, n_hijacked, free, family, seed, n_victims)
    pool = (
        int((free & _app_users(background.usage, choice["code"], background.n_accounts)).sum())
        if mode == "abused"
        else int(free.sum())
    )
    if n_hijacked > pool:
        raise _too_small(
            family, seed, n_victims, n_hijacked, pool, drawn.fake_share, "accounts",
            background.n_accounts,
        )  # fmt: skip

    world = _world(background, app_field)
    if mode == "rogue":
        choice["code"] = world.app(choice["name"], drawn.app_url)
    planted = _planted(drawn, background, scenario.platform.days, n_victims, mode, choice)
    rng = np.random.default_rng(
        np.random.SeedSequence([seed, zlib.crc32(f"inject:{family}".encode())])
    )
    victims = choose_victims(world, planted, int(choice["code"]), taken, rng)
    attack = attack_posts(
        world, planted, int(choice["code"]), victims, 0, rng, background.link_codes
    )
    return _assemble(
        posts, background, world, attack, planted, scenario, drawn, family, seed, truth,
        choice, app_field, {"scale_victims": scale_victims, "max_victims": max_victims}, source,
    )  # fmt: skip


def without_campaigns(
    sim: Simulation | None = None, *, posts: Posts | None = None, truth: GroundTruth | None = None
) -> tuple[Posts, GroundTruth]:
    """The benign background of a labelled dataset: every malicious post removed, fake accounts
    dropped, hijacked accounts relabelled benign (their own posts stay); decoy labels kept.

    Give a :class:`Simulation`, or ``posts`` and ``truth``.

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> background, truth = without_campaigns(sim)
    >>> truth.campaigns, len(background) < len(sim.posts)
    ([], True)
    """
    if sim is not None:
        posts, truth = sim.posts, sim.truth
    if posts is None or truth is None:
        raise ConfigError("without_campaigns needs a Simulation, or posts and truth")
    position = pc.index_in(posts.column("post_id"), value_set=truth.posts.column("post_id"))
    malicious = truth.posts.column("malicious").combine_chunks().take(position)
    keep = pc.invert(pc.fill_null(malicious, False))
    accounts = truth.accounts
    accounts = accounts.filter(pc.not_equal(accounts.column("role"), "fake"))
    n = accounts.num_rows
    accounts = accounts.set_column(
        accounts.schema.get_field_index("role"), "role", pa.array(["benign"] * n, pa.string())
    )
    accounts = accounts.set_column(
        accounts.schema.get_field_index("campaign"), "campaign", pa.nulls(n, pa.string())
    )
    kept = posts.filter(keep)
    post_truth = pa.table(
        {
            "post_id": kept.column("post_id"),
            "malicious": pa.array(np.zeros(len(kept), dtype=bool)),
            "campaign": pa.nulls(len(kept), pa.string()),
        },
        schema=POST_TRUTH_SCHEMA,
    )
    return kept, GroundTruth(accounts.cast(ACCOUNT_TRUTH_SCHEMA), post_truth)


# --- reading the background -----------------------------------------------------------------


def _observe(posts: Posts) -> _Background:
    table = posts.table
    accounts = pc.dictionary_encode(table.column("account_id").combine_chunks())
    code = np.asarray(accounts.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    account_ids = accounts.dictionary
    n_acc = len(account_ids)
    n_posts = np.bincount(code, minlength=n_acc)

    names = table.column("account_name").combine_chunks()
    named = np.flatnonzero(np.asarray(pc.is_valid(names)))
    first_named, where = np.unique(code[named], return_index=True)
    name_of = np.full(n_acc, -1, dtype=np.int64)
    name_of[first_named] = named[where]
    account_names = names.take(pa.array(name_of, mask=name_of < 0))

    app_codes, app_names, app_urls = _apps(table)
    n_apps = len(app_names)
    has_app = app_codes >= 0
    usage = sparse.csc_matrix(
        (np.ones(int(has_app.sum())), (code[has_app], app_codes[has_app])),
        shape=(n_acc, n_apps),
    )
    usage.sum_duplicates()
    official = np.array([official_looking(a) for a in app_names], dtype=bool)
    client = np.maximum(_most_used(usage, official), -1)
    no_official = client < 0
    client[no_official] = _most_used(usage, np.ones(n_apps, dtype=bool))[no_official]

    flat_urls = pc.list_flatten(table.column("urls"))
    flat_domains = pc.list_flatten(table.column("domains"))
    present = pc.not_equal(flat_urls, "")
    flat_urls = flat_urls.filter(present)
    flat_domains = flat_domains.filter(present)
    links = (
        pc.dictionary_encode(pa.chunked_array(flat_urls).combine_chunks())
        if len(flat_urls)
        else None
    )
    if links is not None:
        link_codes = np.asarray(links.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        url_values = links.dictionary
        _, first = np.unique(link_codes, return_index=True)
        url_domains = pa.chunked_array(flat_domains).combine_chunks().take(pa.array(first))
    else:
        link_codes = np.zeros(0, dtype=np.int64)
        url_values = url_domains = pa.array([], pa.string())
    used: list[int] = []
    if len(url_values):
        serials = pc.extract_regex(url_values, _SHORT_LINK.pattern).field("serial")
        used = [int(s, 16) for s in serials.drop_null().to_pylist() if s]

    times = posts.timestamps_s()
    platforms = pc.value_counts(table.column("platform")).to_pylist()
    platform = min(platforms, key=lambda v: (-v["counts"], v["values"]))["values"]
    return _Background(
        account_ids=account_ids,
        account_names=account_names,
        n_posts=n_posts,
        app_names=app_names,
        app_urls=app_urls,
        usage=usage,
        client=client,
        url_values=url_values,
        url_domains=url_domains,
        link_codes=link_codes,
        serial_base=max(used, default=-1) + 1,
        start_s=int(times.min()),
        end_s=int(times.max()) + 1,
        platform=str(platform),
    )


def _apps(table: pa.Table) -> tuple[np.ndarray, list[str], list[str | None]]:
    """Each post's app code (-1: none), apps ordered by posts (most first, then by name), and
    each app's most frequent web site."""
    names = table.column("app_name").combine_chunks()
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(names), ""), True)
    names = pc.if_else(blank, pa.scalar(None, pa.string()), names)
    encoded = pc.dictionary_encode(names)
    raw = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), np.int64)
    values = encoded.dictionary.to_pylist()
    counts = np.bincount(raw[raw >= 0], minlength=len(values))
    rank = sorted(range(len(values)), key=lambda a: (-counts[a], values[a]))
    new_code = np.empty(len(values), dtype=np.int64)
    new_code[rank] = np.arange(len(values))
    codes = np.where(raw >= 0, new_code[np.maximum(raw, 0)] if len(values) else -1, -1)
    app_names = [values[a] for a in rank]

    urls = table.column("app_url").combine_chunks()
    pairs = pa.table({"app": codes, "url": urls}).filter(
        pc.and_(pc.greater_equal(pa.array(codes), 0), pc.is_valid(urls))
    )
    counted = pairs.group_by(["app", "url"]).aggregate([([], "count_all")]).to_pylist()
    best: dict[int, tuple[int, str]] = {}
    for row in counted:
        key = (-row["count_all"], row["url"])
        if row["app"] not in best or key < best[row["app"]]:
            best[row["app"]] = key
    app_urls = [best[a][1] if a in best else None for a in range(len(app_names))]
    return codes.astype(np.int64), app_names, app_urls


def _most_used(usage: sparse.csc_matrix, allowed: np.ndarray) -> np.ndarray:
    """Each account's app with the most posts among ``allowed`` (ties: the more popular app,
    which has the lower code); -1 without one."""
    counts = sparse.csr_matrix(usage[:, np.flatnonzero(allowed)])
    out = np.full(usage.shape[0], -1, dtype=np.int64)
    if counts.nnz == 0:
        return out
    columns = np.flatnonzero(allowed)
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    order = np.lexsort((columns[counts.indices], -counts.data, rows))
    first = np.unique(rows[order], return_index=True)
    out[first[0]] = columns[counts.indices[order[first[1]]]]
    return out


def _app_users(usage: sparse.csc_matrix, app: int, size: int) -> np.ndarray:
    """Whether each of ``size`` accounts posted through ``app`` (accounts past the background's,
    and apps new to it, have no posts)."""
    out = np.zeros(size, dtype=bool)
    if 0 <= app < usage.shape[1]:
        out[usage.indices[usage.indptr[app] : usage.indptr[app + 1]]] = True
    return out


def _campaign_accounts(background: _Background, truth: GroundTruth | None) -> np.ndarray:
    """Background accounts already in a campaign of its truth (never drawn again)."""
    if truth is None:
        return np.zeros(0, dtype=np.int64)
    labelled = truth.accounts.filter(pc.is_valid(truth.accounts.column("campaign")))
    position = pc.index_in(labelled.column("account_id"), value_set=background.account_ids)
    return np.sort(np.asarray(position.drop_null().to_numpy(), dtype=np.int64))


# --- fitting the draw to the background -----------------------------------------------------


def _choose_app(
    background: _Background,
    drawn: CampaignSpec,
    mode: str,
    n_hijacked: int,
    free: np.ndarray,
    family: str,
    seed: int,
    n_victims: int,
) -> dict[str, Any]:
    """The campaign's app: its code (-1 none; a rogue app is registered later), name, users and
    how it was chosen."""
    if mode == "rogue":
        name, k = drawn.app, 2
        while name in background.app_names:
            name, k = f"{drawn.app} {k}", k + 1
        return {"code": -1, "name": name, "users": 0, "choice": "a new app (rogue)"}
    if mode != "abused":
        return {"code": -1, "name": None, "users": 0, "choice": mode}
    # Users of each app among the accounts that may still be drawn.
    users = np.asarray(background.usage[free].getnnz(axis=0), dtype=np.int64)
    names = background.app_names
    third_party = ~np.array([official_looking(n) for n in names], dtype=bool)
    enough = third_party & (users >= max(n_hijacked, 1))
    if drawn.app in names and enough[names.index(drawn.app)]:
        code, why = names.index(drawn.app), "the family's app"
    elif enough.any():
        # The draw's app_user_share: how widely the abused app was used (victims are a share).
        target = drawn.app_user_share * background.n_accounts
        candidates = np.flatnonzero(enough)
        code = int(min(candidates, key=lambda a: (abs(users[a] - target), -users[a], a)))
        why = "the third-party app used by enough accounts closest to the draw's share of users"
    else:
        most = int(np.argmax(np.where(third_party, users, -1))) if third_party.any() else -1
        pool = int(users[most]) if most >= 0 else 0
        where = (
            f"accounts that used one third-party app (the most used, {names[most]!r}, by {pool})"
            if most >= 0
            else "accounts: the background records no third-party app to abuse"
        )
        raise _too_small(
            family,
            seed,
            n_victims,
            n_hijacked,
            pool,
            drawn.fake_share,
            where,
            background.n_accounts,
        )
    return {"code": code, "name": names[code], "users": int(users[code]), "choice": why}


class BackgroundTooSmall(ConfigError):
    """The background has fewer eligible accounts than the draw's hijacked victims.

    ``max_victims`` is the largest number of victims that fits (0: none).
    """

    def __init__(self, message: str, max_victims: int) -> None:
        super().__init__(message)
        self.max_victims = max_victims


def _too_small(
    family: str,
    seed: int,
    n_victims: int,
    n_hijacked: int,
    pool: int,
    fake_share: float,
    what: str,
    n_accounts: int,
) -> BackgroundTooSmall:
    fits = min(n_victims, int(pool / max(1e-9, 1 - fake_share)) + 1)
    while fits > 0 and fits - round(fits * fake_share) > pool:
        fits -= 1
    advice = (
        f"pass --max-victims {fits} (max_victims= in Python), or a smaller --scale-victims "
        f"(scale_victims=)"
        if fits > 0
        else "plant another attack family, or use a larger background"
    )
    if fits > n_accounts // 6:
        # More victims than the families ever draw for a platform of this size.
        advice += (
            f"; the families keep victims to a sixth of the accounts or fewer "
            f"(here --max-victims {max(1, n_accounts // 6)})"
        )
    return BackgroundTooSmall(
        f"the background is too small for the {family} draw of seed {seed}: it wants "
        f"{n_hijacked:,} hijacked accounts (of {n_victims:,} victims) but has {pool:,} eligible "
        f"{what}; {advice}",
        fits,
    )


def _planted(
    drawn: CampaignSpec,
    background: _Background,
    drawn_days: float,
    n_victims: int,
    mode: str,
    choice: dict[str, Any],
) -> CampaignSpec:
    """The drawn campaign fitted to the background: victims, window, app."""
    days = background.days
    duration = min(drawn.duration_days, days)
    changes: dict[str, Any] = {
        "n_victims": n_victims,
        "duration_days": duration,
        "start_day": _start_in_window(drawn.start_day, drawn.duration_days, drawn_days, days),
        "wave_minutes": min(drawn.wave_minutes, duration * 1440),
        "app_mode": mode,
    }
    if mode in ("abused", "rogue"):
        changes |= {
            "app": choice["name"],
            "fallback_app": _fallback(background, drawn.fallback_app),
        }
        if mode == "abused":
            changes["app_url"] = background.app_urls[choice["code"]] or ""
            changes["app_user_share"] = choice["users"] / background.n_accounts
    return replace(drawn, **changes)


def _start_in_window(start: float, duration: float, drawn_days: float, days: float) -> float:
    """The family's start, placed in a window of ``days``: 0 stays 0 (no history before the
    attack); any other start keeps its position between the family's bounds (0.5 day, and
    0.25 day before the end less the duration), and the campaign stays inside the window."""
    if start == 0.0:
        return 0.0
    low = 0.5
    position = float(np.clip((start - low) / (max(0.6, drawn_days - duration - 0.25) - low), 0, 1))
    placed = low + position * (max(0.6, days - duration - 0.25) - low)
    return float(min(placed, max(0.0, days - min(duration, days))))


def _fallback(background: _Background, name: str) -> str:
    """The client of posts an abused or rogue campaign does not send through its app."""
    if name in background.app_names:
        return name
    official = [a for a in background.app_names if official_looking(a)]
    return (official or background.app_names)[0]


def _world(background: _Background, app_field: bool) -> ObservedWorld:
    names = background.app_names if app_field else ["(no app)"]
    start = dt.datetime.fromtimestamp(background.start_s, dt.UTC).replace(tzinfo=None)
    spec = PlatformSpec(
        n_accounts=background.n_accounts,
        n_posts=int(background.n_posts.sum()),
        days=background.days,
        start=start.isoformat(),
        n_apps=len(names),
        app_field=app_field,
    )
    world = ObservedWorld(
        spec=spec,
        start_s=background.start_s,
        usage=background.usage,
        client=background.client if app_field else np.zeros(background.n_accounts, np.int64),
        observed_end_s=background.end_s,
    )
    for name, url in zip(names, background.app_urls if app_field else [None], strict=True):
        world.app(name, url)
    world.urls.add_block(background.url_values, background.url_domains)
    world.serial = background.serial_base
    world.activity = background.n_posts.astype(np.float64)
    world.primary_app = np.maximum(world.client, 0)
    world.second_app = np.full(background.n_accounts, -1, dtype=np.int64)
    world.timezone = np.zeros(background.n_accounts, dtype=np.int64)
    return world


# --- the result -----------------------------------------------------------------------------


def _assemble(
    posts: Posts,
    background: _Background,
    world: ObservedWorld,
    attack: Any,
    planted: CampaignSpec,
    scenario: Any,
    drawn: CampaignSpec,
    family: str,
    seed: int,
    truth: GroundTruth | None,
    choice: dict[str, Any],
    app_field: bool,
    options: dict[str, Any],
    source: Any,
) -> Simulation:
    n_bg = background.n_accounts
    n_fake = world.n_accounts - n_bg
    prefix = f"injected-{family}-{seed}-"
    fake_ids = pa.array([f"{prefix}fake-{k}" for k in range(n_fake)], pa.string())
    account_ids = pa.concat_arrays([background.account_ids.cast(pa.string()), fake_ids])
    if n_fake and pc.any(pc.is_in(fake_ids, value_set=background.account_ids)).as_py():
        raise ConfigError(
            f"account ids {prefix}fake-* are already in the background; plant another seed"
        )
    account_names = pa.concat_arrays(
        [background.account_names.cast(pa.string()), pa.array([f"injected_fake_{k}" for k in range(n_fake)], pa.string())]
    )  # fmt: skip
    order = np.lexsort((np.arange(len(attack)), attack.account, attack.time))
    width = len(str(max(len(attack) - 1, 0)))
    post_ids = pa.array([f"{prefix}{k:0{width}d}" for k in range(len(attack))], pa.string())
    if len(attack) and pc.any(pc.is_in(post_ids, value_set=posts.column("post_id"))).as_py():
        raise ConfigError(f"post ids {prefix}* are already in the background; plant another seed")
    planted_posts = batch_table(
        world, attack, order, account_ids=account_ids, account_names=account_names,
        post_ids=post_ids, app_field=app_field, platform=background.platform,
    )  # fmt: skip
    _check_links(world, attack, background)

    combined = pa.concat_tables([posts.table.cast(POSTS_SCHEMA), planted_posts])
    millis = combined.column("timestamp").cast(pa.int64()).to_numpy()
    out_order = pa.array(np.argsort(millis, kind="stable"))
    out = Posts(combined.take(out_order))

    victims = np.unique(attack.account)
    post_truth = _post_truth(posts, truth, post_ids, planted.name).take(out_order)
    account_truth = _account_truth(background, truth, account_ids, victims, planted.name)
    record = _record(
        family, seed, drawn, planted, choice, background, options, source, len(attack), victims,
        truth is not None,
    )  # fmt: skip
    return Simulation(
        out,
        GroundTruth(account_truth, post_truth),
        replace(scenario, campaigns=(planted,)),
        seed,
        injection=record,
    )


def _check_links(world: ObservedWorld, attack: Any, background: _Background) -> None:
    """The attack's own links must be new to the background, or the truth would call posts of
    them organic (camouflage alone repeats the background's links: their codes come first)."""
    n_known = len(background.url_values)
    own = np.unique(attack.url_codes[attack.url_codes >= n_known])
    if n_known == 0 or len(own) == 0:
        return
    values = world.urls.values().take(pa.array(own))
    if pc.any(pc.is_in(values, value_set=background.url_values)).as_py():
        raise ConfigError(
            "the drawn campaign's own links collide with the background's; plant another seed"
        )


def _post_truth(
    posts: Posts, truth: GroundTruth | None, planted_ids: pa.Array, name: str
) -> pa.Table:
    """Background posts (labels carried from ``truth`` where it has them) then attack posts."""
    ids = posts.column("post_id").combine_chunks()
    malicious: pa.Array = pa.array(np.zeros(len(ids), dtype=bool))
    campaign: pa.Array = pa.nulls(len(ids), pa.string())
    if truth is not None and truth.posts.num_rows:
        position = pc.index_in(ids, value_set=truth.posts.column("post_id"))
        labels = truth.posts.combine_chunks()
        malicious = pc.fill_null(labels.column("malicious").chunk(0).take(position), False)
        campaign = labels.column("campaign").chunk(0).take(position)
    n = len(planted_ids)
    return pa.table(
        {
            "post_id": pa.concat_arrays([ids.cast(pa.string()), planted_ids]),
            "malicious": pa.concat_arrays([malicious, pa.array(np.ones(n, dtype=bool))]),
            "campaign": pa.concat_arrays(
                [campaign.cast(pa.string()), pa.array([name] * n, pa.string())]
            ),
        },
        schema=POST_TRUTH_SCHEMA,
    )


def _account_truth(
    background: _Background,
    truth: GroundTruth | None,
    account_ids: pa.Array,
    victims: np.ndarray,
    name: str,
) -> pa.Table:
    """Every account of the output: the background's (labels carried from ``truth``; accounts
    the truth lists without posts kept), then the victims marked ``hijacked`` or ``fake``."""
    n_bg = background.n_accounts
    if truth is not None:
        known = truth.accounts.combine_chunks()
        extra = background.account_ids.filter(
            pc.invert(pc.is_in(background.account_ids, value_set=known.column("account_id")))
        )
        ids = pa.concat_arrays([known.column("account_id").chunk(0), extra.cast(pa.string())])
        role = known.column("role").to_pylist() + ["benign"] * len(extra)
        campaign = known.column("campaign").to_pylist() + [None] * len(extra)
        decoy = known.column("decoy").to_pylist() + [None] * len(extra)
    else:
        ids = background.account_ids.cast(pa.string())
        role, campaign, decoy = ["benign"] * n_bg, [None] * n_bg, [None] * n_bg
    hijacked = victims[victims < n_bg]
    row = pc.index_in(account_ids.take(pa.array(hijacked)), value_set=ids).to_numpy(
        zero_copy_only=False
    )
    for r in row:
        role[int(r)], campaign[int(r)] = "hijacked", name
    fakes = account_ids.take(pa.array(victims[victims >= n_bg]))
    return pa.table(
        {
            "account_id": pa.concat_arrays([ids, fakes]),
            "role": pa.array(role + ["fake"] * len(fakes), pa.string()),
            "campaign": pa.array(campaign + [name] * len(fakes), pa.string()),
            "decoy": pa.array(decoy + [None] * len(fakes), pa.string()),
        },
        schema=ACCOUNT_TRUTH_SCHEMA,
    )


def _record(
    family: str,
    seed: int,
    drawn: CampaignSpec,
    planted: CampaignSpec,
    choice: dict[str, Any],
    background: _Background,
    options: dict[str, Any],
    source: Any,
    n_attack: int,
    victims: np.ndarray,
    has_truth: bool,
) -> dict[str, Any]:
    """What ``scenario.json`` records under ``injection`` (plain JSON)."""
    drawn_knobs, planted_knobs = asdict(drawn), asdict(planted)
    return {
        "family": family,
        "seed": seed,
        "campaign": planted.name,
        "channel": drawn.app_mode,
        "app": {
            "mode": planted.app_mode,
            "name": choice["name"],
            "users": choice["users"],
            "choice": choice["choice"],
        },
        "victims": {
            "drawn": drawn.n_victims,
            "planted": planted.n_victims,
            "hijacked": int((victims < background.n_accounts).sum()),
            "fake": int((victims >= background.n_accounts).sum()),
        },
        "attack_posts": n_attack,
        "changed": {
            k: [drawn_knobs[k], v] for k, v in planted_knobs.items() if v != drawn_knobs[k]
        },
        "options": options,
        "post_ids": f"injected-{family}-{seed}-*",
        "background": {
            "source": source,
            "n_posts": int(background.n_posts.sum()),
            "n_accounts": background.n_accounts,
            "start": _iso(background.start_s),
            "end": _iso(background.end_s - 1),
            "days": round(background.days, 6),
            "apps": len(background.app_names),
            "platform": background.platform,
            "truth": has_truth,
        },
        "note": (
            "scenario.platform and scenario.decoys are the family draw's and were not used: the "
            "background replaces them; scenario.campaigns[0] is the campaign as planted"
        ),
    }


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

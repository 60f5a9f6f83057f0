"""The spec of the rule: hand-built groups, their evidence and their verdict.

Each test builds a small platform by hand: a background of ordinary accounts
(so that the observation window is long and popular sites exist), plus one
group behaving as a campaign or as a benign look-alike, and checks the
numbers of research.evidence and the rung of research.verdicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from research.detect.clustering import Clustering
from research.evidence import wilson_lower
from research.graph.events import encode
from research.posts import Posts
from research.rule import Rule
from research.verdicts import decide, explain, ladder, score

T0 = dt.datetime(2014, 5, 1)
DAY = 86_400
HOUR = 3_600


def _post(i: int, account: str, seconds: float, url: str | None, *, app: str = "Twitter for iPhone",
          text: str | None = None, repost: bool = False) -> dict:  # fmt: skip
    urls = [url] if url else []
    return {
        "post_id": str(i),
        "account_id": account,
        "timestamp": T0 + dt.timedelta(seconds=int(seconds)),
        "app_name": app,
        "urls": urls,
        "domains": [u.split("/")[2] for u in urls],
        "text": text if text is not None else f"ordinary words number {i} about my day {account}",
        "is_repost": repost,
    }


def _background(rows: list[dict], accounts: list[str], rng: np.random.Generator) -> None:
    """A 20-day window: every listed account posts now and then, to its own pages and to
    two popular sites that everybody links all the time."""
    for a in accounts:
        for _ in range(8):
            t = float(int(rng.uniform(0, 20 * DAY)))
            site = rng.choice(["youtube.com", "nytimes.com", f"{a}-blog.net"])
            rows.append(_post(len(rows), a, t, f"https://{site}/{int(rng.integers(1e9))}"))


def _decide(rows: list[dict], members: dict[str, int], rule: Rule | None = None):
    events = encode(Posts.from_records(rows))
    membership = np.full(events.n_accounts, -1, dtype=np.int64)
    ids = events.accounts.values.to_pylist()
    for account, cluster in members.items():
        membership[ids.index(account)] = cluster
    clustering = Clustering(events.accounts, membership, "hand")
    posts = Posts.from_records(rows)
    decision = decide(events, clustering, rule or Rule(min_size=5), texts=posts.column("text"))
    accounts = decision.accounts.set_index("account")
    return decision, accounts


def _group_of(decision, accounts: pd.DataFrame, account: str) -> pd.Series:
    return decision.clusters.iloc[int(accounts.loc[account, "cluster"])]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


VICTIMS = [f"v{k}" for k in range(8)]
WORDS = "read this today good great story about city team music game life weekend friends coffee".split()
OTHERS = [f"b{k}" for k in range(30)]


def _campaign(rows: list[dict], victims: list[str], *, start: float = 10 * DAY, app: str = "We Heart It",
              repost: bool = False, text: str = "If I didn't try this my life wouldn't have changed",
              site: str = "slim-diet.com") -> None:  # fmt: skip
    """Two waves of a few minutes, each victim posting the same landing page (per-post query)."""
    for wave in (start, start + 5 * HOUR):
        for k, v in enumerate(victims):
            rows.append(_post(len(rows), v, wave + 20 * k, f"http://{site}/offer?id={k}{int(wave)}",
                              app=app, text=text, repost=repost))  # fmt: skip


def test_a_campaign_of_established_accounts_is_compromised(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    _campaign(rows, VICTIMS)
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "compromised", group["reason"]
    assert group["n_adopters"] == 8 and group["top_site"] == "slim-diet.com"
    assert group["exclusivity"] == 1.0 and group["history"] == 1.0
    assert group["routine"] == 0.0 and group["repost_share"] == 0.0
    assert group["link_reuse"] == 1.0  # one page, per-post query strings stripped
    assert group["synchrony"] > 0.5  # two waves five hours apart: bursty
    # We Heart It carried all 16 signature posts and none of their other posts: the lift is
    # the lower end of the 95% Wilson interval of 16 out of 16.
    assert group["n_signature_posts"] == 16
    assert group["app_lift"] == pytest.approx(16 / (16 + 1.96**2))
    assert accounts.loc[VICTIMS, "flagged"].all()
    assert not accounts.loc[OTHERS, "flagged"].any()
    assert "Every term holds: exclusivity 1.00 ≥ 0.70" in group["explanation"]


def test_a_site_everybody_links_gives_no_signature(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    for k, v in enumerate(VICTIMS):  # the same burst, on a site linked all along
        rows.append(_post(len(rows), v, 10 * DAY + 20 * k, f"https://nytimes.com/story/{k}"))
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "none" and group["n_sites"] == 0
    assert group["reason"].startswith("no site of its own")
    assert not accounts["flagged"].any()


def test_a_retweet_storm_is_coordinated_not_compromised(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    _campaign(rows, VICTIMS, repost=True)
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "coordinated"
    assert group["reason"] == f"reposts 1.00 > {Rule().max_reposts:.2f}"
    assert (
        "compromised" not in group["explanation"].split(":")[0]
        and "hijack" not in group["explanation"]
    )


def test_an_organisation_that_coordinates_all_along_fails_routine(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    for item in range(28):  # press items all along the window, each posted by all of them
        for k, v in enumerate(VICTIMS):
            rows.append(
                _post(
                    len(rows),
                    v,
                    item * 0.7 * DAY + 30 * k,
                    f"https://org-press.org/item/{item}",
                    app="Hootsuite",
                )
            )
    _campaign(rows, VICTIMS, app="Hootsuite")
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "coordinated"
    assert group["routine"] == 1.0 and f"routine 1.00 > {Rule().max_routine:.2f}" in group["reason"]


def test_victims_who_joined_a_retweet_storm_are_not_routine(rng):
    # Outside the campaign the victims retweeted two storms' URLs, with thirty other accounts:
    # co-posted, but not theirs (most of each URL's links are by others), so not routine.
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    for item in range(2):
        for k, a in enumerate(VICTIMS + OTHERS):
            rows.append(_post(len(rows), a, (3 + item) * DAY + 60 * k,
                              f"https://nytimes.com/news/storm-{item}", repost=True))  # fmt: skip
    _campaign(rows, VICTIMS)
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["routine"] == 0.0 and group["verdict"] == "compromised"


def test_adopters_of_a_new_app_post_their_own_pages(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    for k, v in enumerate(VICTIMS):
        for j in range(3):
            t = 10 * DAY + k * 3 * HOUR + j * 11 * HOUR
            words = " ".join(rng.choice(WORDS, size=8))  # their own pages, in their own words
            rows.append(
                _post(len(rows), v, t, f"https://snapvine.app/p/{v}-{j}", app="Snapvine Cam",
                      text=words)
            )  # fmt: skip
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "coordinated"
    assert (
        group["link_reuse"] == 0.0
        and f"reuse 0.00 < {Rule().min_reuse:.2f} and templating" in group["reason"]
    )


def test_own_pages_in_the_same_words_are_one_message(rng):
    """Per-victim pages (tracking paths) carry no reuse; the template they share stands in."""
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    for k, v in enumerate(VICTIMS):
        t = 10 * DAY + k * 40
        rows.append(_post(len(rows), v, t, f"https://slimfast-offer.com/p/{v}", app="Snapvine Cam",
                          text=f"OMG if I didn't try this my life wouldn't have changed {k}"))  # fmt: skip
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["link_reuse"] == 0.0
    assert group["verdict"] == "compromised", group["reason"]
    assert f"reuse 0.00 < {Rule().min_reuse:.2f} but templating" in explain(group)


def test_sharing_a_page_at_ones_own_pace_is_not_concert(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    times = np.sort(rng.uniform(8 * DAY, 12 * DAY, size=len(VICTIMS)))
    for v, t in zip(VICTIMS, times, strict=True):
        words = " ".join(rng.choice(WORDS, size=8))
        rows.append(
            _post(len(rows), v, t, "https://smallblog.net/post/1", text=f"{words} smallblog")
        )
    # On a platform of 38 accounts any eight are a large share of those active (prevalence):
    # this test is about the other signals of concert, so prevalence is set out of reach.
    decision, accounts = _decide(
        rows, dict.fromkeys(VICTIMS, 0), Rule(min_size=5, min_prevalence=1.0)
    )
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "coordinated", group["reason"]
    assert group["reason"].startswith("concert (any of: synchrony")
    assert group["synchrony"] < 0.5 and group["templating"] < 0.5


def test_too_few_accounts_is_none(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    _campaign(rows, VICTIMS[:3])
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS[:3], 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "none" and group["reason"] == "adopters 3 < 5"
    assert not accounts["flagged"].any()


def test_fragments_are_pooled_and_single_posters_attached(rng):
    rows: list[dict] = []
    late = ["late0", "late1"]
    _background(rows, VICTIMS + OTHERS + late, rng)
    _campaign(rows, VICTIMS)
    for k, v in enumerate(late):  # victims whose token posted once, not placed by the graph
        rows.append(
            _post(len(rows), v, 10 * DAY + 5 * HOUR + 400 + k, "http://slim-diet.com/offer?id=zz")
        )
    members = {**dict.fromkeys(VICTIMS[:4], 0), **dict.fromkeys(VICTIMS[4:], 1), "b0": 1}
    decision, accounts = _decide(rows, members)
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "compromised"
    assert group["n_pieces"] == 2 and group["n_adopters"] == 10 and group["n_attached"] == 2
    assert accounts.loc["late0", "attached"] and accounts.loc["late0", "flagged"]
    # b0 sat in a piece but never linked the signature: unsigned, not judged with the group
    assert accounts.loc["b0", "unsigned"] and not accounts.loc["b0", "flagged"]
    assert group["n_unsigned"] == 1


def _two_campaigns_and_a_shared_blog(rng) -> tuple[list[dict], dict[str, int], list[str]]:
    """Two campaigns a day apart (eight victims each, their own domains) and a small blog that
    two victims of each linked in their own lives between them."""
    first, second = VICTIMS, [f"w{k}" for k in range(8)]
    rows: list[dict] = []
    _background(rows, first + second + OTHERS, rng)
    for start, victims, domain in (
        (10 * DAY, first, "slim-diet.com"),
        (11 * DAY, second, "crypto-win.net"),
    ):
        for wave in (start, start + 5 * HOUR):
            for k, v in enumerate(victims):
                rows.append(
                    _post(
                        len(rows),
                        v,
                        wave + 20 * k,
                        f"http://{domain}/offer?id={k}",
                        app="Photo Pro",
                    )
                )
    for k, v in enumerate(first[:2] + second[:2]):
        rows.append(
            _post(len(rows), v, 10 * DAY + 14 * HOUR + 600 * k, f"https://friends-blog.net/p/{k}")
        )
    members = {**dict.fromkeys(first, 0), **dict.fromkeys(second, 1)}
    return rows, members, ["slim-diet.com", "crypto-win.net", "friends-blog.net"]  # fmt: skip


@pytest.mark.parametrize(("linkage", "n_groups"), [("single", 1), ("best", 2)])
def test_best_linkage_keeps_a_small_shared_site_from_bridging_two_campaigns(rng, linkage, n_groups):
    from research.evidence import signature_groups
    from research.graph.events import site_keys

    rows, members, sites = _two_campaigns_and_a_shared_blog(rng)
    events = encode(Posts.from_records(rows))
    ids = events.accounts.values.to_pylist()
    membership = np.full(events.n_accounts, -1, dtype=np.int64)
    for account, cluster in members.items():
        membership[ids.index(account)] = cluster
    groups = signature_groups(
        events,
        Clustering(events.accounts, membership, "hand"),
        Rule(pool=True, pool_linkage=linkage, pool_overlap=0.5),
    )
    _link_site, labels = site_keys(events)
    names = [[str(labels[s]) for s in g] for g in groups.sites]
    holding = {site: next(k for k, g in enumerate(names) if site in g) for site in sites}
    # Single linkage chains both campaigns through the blog; best linkage hangs the blog on one
    # of them (the blog's four adopters are half of either: an overlap of 0.5, not the default
    # 0.7, which would leave the blog alone) and keeps the campaigns apart.
    assert len({holding["slim-diet.com"], holding["crypto-win.net"]}) == n_groups
    assert holding["friends-blog.net"] in (holding["slim-diet.com"], holding["crypto-win.net"])


def test_an_account_in_two_groups_takes_the_most_severe_verdict(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    _campaign(rows, VICTIMS)
    fans = VICTIMS[:2] + OTHERS[:6]  # a retweet storm shared by two of the victims
    for k, a in enumerate(fans):
        rows.append(
            _post(len(rows), a, 15 * DAY + 60 * k, "https://new-blog.com/post/9", repost=True)
        )
    members = {**dict.fromkeys(VICTIMS, 0), **dict.fromkeys(OTHERS[:6], 1)}
    decision, accounts = _decide(rows, members)
    verdicts = set(decision.clusters["verdict"][decision.clusters["n_adopters"] >= 5])
    assert verdicts == {"compromised", "coordinated"}
    assert accounts.loc["v0", "verdict"] == "compromised" and accounts.loc["v0", "flagged"]
    assert accounts.loc["b0", "verdict"] == "coordinated" and not accounts.loc["b0", "flagged"]


def test_each_failed_term_is_named_with_its_threshold():
    row = {"n_adopters": 40, "n_sites": 1, "exclusivity": 0.14, "span_share": 0.1, "history": 0.9,
           "routine": 0.0, "repost_share": 0.0, "link_reuse": 0.9, "synchrony": 0.8,
           "templating": np.nan, "app_lift": np.nan, "prevalence": np.nan}  # fmt: skip
    out = ladder(pd.DataFrame([row]), Rule())
    assert out["verdict"][0] == "coordinated" and out["reason"][0] == "exclusivity 0.14 < 0.70"
    tight = Rule(min_exclusivity=0.1)
    assert ladder(pd.DataFrame([row]), tight)["verdict"][0] == "compromised"


def test_the_app_share_and_lift_of_a_campaign_split_over_two_apps(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    _campaign(rows, VICTIMS[:6])
    _campaign(rows, VICTIMS[6:], app="Twitter for iPhone")  # two victims used their own app
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["n_signature_posts"] == 16 and group["top_app"] == "We Heart It"
    assert group["app_share"] == 12 / 16
    # None of their other posts went through We Heart It: the lift is the whole cautious share.
    assert group["app_lift"] == pytest.approx(wilson_lower(np.array([0.75]), np.array([16]))[0])
    assert group["verdict"] == "compromised" and "75% through We Heart It" in group["explanation"]


def test_fresh_accounts_have_no_history_and_fail_a_history_threshold(rng):
    rows: list[dict] = []
    fresh = [f"f{k}" for k in range(8)]
    _background(rows, OTHERS, rng)
    _campaign(rows, fresh)  # accounts that post nothing but the campaign
    members = dict.fromkeys(fresh, 0)
    lenient, _ = _decide(rows, members)
    strict, accounts = _decide(rows, members, Rule(min_size=5, min_history=0.5))
    assert lenient.clusters["history"][0] == 0.0 and lenient.clusters["verdict"][0] == "compromised"
    group = _group_of(strict, accounts, "f0")
    assert group["verdict"] == "coordinated" and group["reason"] == "history 0.00 < 0.50"
    assert not accounts.loc[fresh, "flagged"].any()


def test_waves_alone_make_concert_and_a_stricter_synchrony_undoes_it(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    for wave in (10 * DAY, 10 * DAY + 5 * HOUR):  # two waves through their usual app,
        for k, v in enumerate(VICTIMS):  # each in their own words
            words = " ".join(rng.choice(WORDS, size=10))
            rows.append(
                _post(len(rows), v, wave + 20 * k, "http://slim-diet.com/offer", text=words)
            )
    # Prevalence out of reach, as in the test above: synchrony is the only sign of concert.
    rule = Rule(min_size=5, min_prevalence=1.0)
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0), rule)
    group = _group_of(decision, accounts, "v0")
    assert group["app_lift"] < 0.5 and not group["templating"] >= 0.5
    assert 0.5 <= group["synchrony"] < 1.0 and group["verdict"] == "compromised", group["reason"]
    strict = Rule(min_size=5, min_prevalence=1.0, min_synchrony=min(group["synchrony"] + 0.01, 1.0))
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0), strict)
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "coordinated" and group["reason"].startswith(
        "concert (any of: synchrony"
    )


def _steady(rows: list[dict], victims: list[str], *, start: float, site: str) -> None:
    """Four days of steady posting through We Heart It: the victims take turns, one post every
    three hours (active in a fifth of the 20-day window)."""
    for day in range(4):
        for k, v in enumerate(victims):
            t = start + day * DAY + k * 3 * HOUR
            rows.append(
                _post(len(rows), v, t, f"http://{site}/offer?id={k}{day}", app="We Heart It")
            )


def _campaigns_on_two_sites_each(rng) -> tuple[list[dict], dict[str, int]]:
    """Two campaigns, each pushing two sites through the same victims: one in waves a few
    hours between its sites, the other posting steadily for four days on each site, a week
    apart (each of its sites an episode, both together active in two fifths of the window)."""
    near, far = VICTIMS, [f"w{k}" for k in range(8)]
    rows: list[dict] = []
    _background(rows, near + far + OTHERS, rng)
    _campaign(rows, near, start=10 * DAY)
    _campaign(rows, near, start=10 * DAY + 8 * HOUR, site="slim.ly")
    _steady(rows, far, start=2 * DAY, site="crypto-win.net")
    _steady(rows, far, start=13 * DAY, site="crypto-gain.net")
    return rows, {**dict.fromkeys(near, 0), **dict.fromkeys(far, 1)}


def test_a_campaigns_sites_are_one_group_only_where_the_union_is_compromised_too(rng):
    rows, members = _campaigns_on_two_sites_each(rng)
    decision, accounts = _decide(rows, members)
    flagged = decision.clusters[decision.clusters["flagged"]]
    # The near campaign's sites are judged together and kept as one group; the far campaign's
    # union is active in two fifths of the window (not an episode), so its sites stay two
    # groups.
    assert sorted(flagged["signature_sites"]) == [
        "crypto-gain.net", "crypto-win.net", "slim-diet.com slim.ly",
    ]  # fmt: skip
    far = flagged[flagged["signature_sites"].str.startswith("crypto")]
    assert far["campaign"].nunique() == 1  # still reported as one campaign
    assert accounts.loc[VICTIMS + [f"w{k}" for k in range(8)], "flagged"].all()


def _a_campaign_over_three_small_sites(rng) -> tuple[list[dict], dict[str, int]]:
    """Five victims, three waves five hours apart, each wave three of them posting a fresh
    domain through an app they never use otherwise: three sites of three adopters each,
    sharing two (A and B, B and C)."""
    victims = VICTIMS[:5]
    rows: list[dict] = []
    _background(rows, victims + OTHERS, rng)
    for j, site in enumerate(["slim-a.com", "slim-b.com", "slim-c.com"]):
        for k, v in enumerate(victims[j : j + 3]):
            words = " ".join(rng.choice(WORDS, 8))
            rows.append(_post(len(rows), v, 10 * DAY + j * 5 * HOUR + 20 * k, f"http://{site}/x",
                              app="Photo Pro", text=words))  # fmt: skip
    return rows, dict.fromkeys(victims, 0)


def test_a_campaign_split_over_small_sites_is_judged_whole_alongside_each_site(rng):
    # Synchrony, templating and prevalence out of play: the app is the only sign of concert.
    # Three posts through it prove little (the lower end of the interval of 3/3 is 0.44); the
    # nine of the three sites together do (0.70).
    rows, members = _a_campaign_over_three_small_sites(rng)
    strict = dict(
        min_size=3, min_synchrony=1.0, min_templating=1.0, min_prevalence=1.0, min_app_lift=0.5
    )
    alone, accounts = _decide(rows, members, Rule(pool="none", **strict))
    sites = alone.clusters[alone.clusters["n_sites"] > 0]
    assert len(sites) == 3 and (sites["verdict"] == "coordinated").all()
    assert all("app lift 0.44 < 0.50" in r for r in sites["reason"])
    assert not accounts["flagged"].any()
    whole, accounts = _decide(rows, members, Rule(pool="alongside", **strict))
    group = _group_of(whole, accounts, "v2")
    assert group["signature_sites"] == "slim-a.com slim-b.com slim-c.com"
    assert group["verdict"] == "compromised", group["reason"]
    assert group["app_lift"] == pytest.approx(0.70, abs=0.01)
    assert accounts.loc[VICTIMS[:5], "flagged"].all() and not accounts.loc[OTHERS, "flagged"].any()


def test_a_pooled_group_that_fails_leaves_its_sites_verdicts_alone(rng):
    # Each site proves enough alone (an app lift of 0.44 passes 0.4) and is an episode (its
    # posts span a minute); the three together span ten hours, more than a strict max_span.
    rows, members = _a_campaign_over_three_small_sites(rng)
    strict = dict(min_size=3, min_synchrony=1.0, min_templating=1.0, min_prevalence=1.0,
                  min_app_lift=0.4, max_span=0.01, max_active=0.0, max_duty=0.0)  # fmt: skip
    decision, accounts = _decide(rows, members, Rule(pool="alongside", **strict))
    flagged = decision.clusters[decision.clusters["flagged"]]
    assert sorted(flagged["signature_sites"]) == ["slim-a.com", "slim-b.com", "slim-c.com"]
    assert flagged["campaign"].nunique() == 1  # still one campaign for the reader
    assert accounts.loc[VICTIMS[:5], "flagged"].all()
    # Pooled before judging, the sites' own verdicts are lost with the union's.
    before, accounts = _decide(rows, members, Rule(pool="before", **strict))
    group = _group_of(before, accounts, "v2")
    assert group["signature_sites"] == "slim-a.com slim-b.com slim-c.com"
    assert group["verdict"] == "coordinated" and group["reason"].startswith("span 0.02 > 0.01")
    assert not accounts["flagged"].any()


def test_a_pooled_group_stays_whole_when_its_campaign_join_fails(rng):
    # The three small sites are compromised together (pooled alongside); four of the victims
    # post a fourth site five days later, compromised alone. The campaign's join spans five days,
    # more than a strict max_span, and fails: both groups stay, the pooled one whole, so v0 (in
    # the pooled group only) stays flagged.
    # Another campaign's two sites, a day and a half apart (too far to pool), are joined and
    # kept: only then were the pooled groups outside the kept joins judged again from sites.
    rows, members = _a_campaign_over_three_small_sites(rng)
    for k, v in enumerate(VICTIMS[1:5]):
        rows.append(_post(len(rows), v, 15 * DAY + 20 * k, "http://slim-d.com/x", app="Photo Pro",
                          text=" ".join(rng.choice(WORDS, 8))))  # fmt: skip
    others = [f"x{k}" for k in range(8)]
    _background(rows, others, rng)
    _campaign(rows, others, start=3 * DAY, app="Photo Pro", site="x-a.com")
    _campaign(rows, others, start=4.5 * DAY, app="Photo Pro", site="x-b.com")
    members = {**members, **dict.fromkeys(others, 1)}
    # (Routine out of play too: the fourth site's adopters co-posted the first three.)
    strict = dict(min_size=3, min_synchrony=1.0, min_templating=1.0, min_prevalence=1.0,
                  max_span=0.1, max_active=0.0, max_duty=0.0, max_routine=1.0)  # fmt: skip
    decision, accounts = _decide(rows, members, Rule(pool="alongside", **strict))
    flagged = decision.clusters[decision.clusters["flagged"]]
    assert sorted(flagged["signature_sites"]) == [
        "slim-a.com slim-b.com slim-c.com", "slim-d.com", "x-a.com x-b.com",
    ]  # fmt: skip
    assert flagged["campaign"].nunique() == 2
    assert accounts.loc[VICTIMS[:5] + others, "flagged"].all()


def test_judging_joined_groups_again_reuses_rows_as_a_full_recomputation_would(rng, monkeypatch):
    # decide judges the joined groups again, copying the costly terms of the groups left as
    # they were; without the copies (every row computed anew) the tables are the same.
    import research.evidence as evidence

    rows, members = _campaigns_on_two_sites_each(rng)
    reused, _ = _decide(rows, members)
    anew = evidence.group_evidence
    monkeypatch.setattr(evidence, "group_evidence", lambda *a, previous=None, **k: anew(*a, **k))
    full, _ = _decide(rows, members)
    pd.testing.assert_frame_equal(reused.clusters, full.clusters)
    pd.testing.assert_frame_equal(reused.accounts, full.accounts)


def test_a_site_others_had_linked_before_fails_outside_however_much_the_group_swamps_it(rng):
    """A giveaway on a brand's site: the group's 400 posts are almost all of the site's links
    (exclusivity holds, and the site's span is theirs: its earliest 2% of links are trimmed),
    yet six other accounts had linked the site days before."""
    crowd = [f"c{k}" for k in range(40)]
    rows: list[dict] = []
    _background(rows, crowd + OTHERS, rng)
    for k, fan in enumerate(OTHERS[:6]):
        rows.append(_post(len(rows), fan, (2 + k) * DAY, f"http://brand.com/shop/{k}"))
    for wave in range(5):
        _campaign(rows, crowd, start=10 * DAY + wave * 600, site="brand.com")
    decision, accounts = _decide(rows, dict.fromkeys(crowd, 0))
    group = _group_of(decision, accounts, "c0")
    assert group["top_site"] == "brand.com" and group["exclusivity"] >= 0.7
    assert group["outside"] == 6
    limit = Rule().max_outside
    assert limit < 6
    assert group["verdict"] == "coordinated" and group["reason"] == f"outside 6 > {limit}"
    lenient, lenient_accounts = _decide(
        rows, dict.fromkeys(crowd, 0), Rule(min_size=5, max_outside=6)
    )
    assert _group_of(lenient, lenient_accounts, "c0")["verdict"] == "compromised"
    # The ranking sees it too: a site with a life before the group ranks lower than a site born
    # with it, other terms equal ((limit + 1) / (limit + 1 + 6) of the score of outside 0).
    fresh = pd.DataFrame([group]).assign(outside=0)
    share = (limit + 1) / (limit + 1 + 6)
    assert score(pd.DataFrame([group]))[0] == pytest.approx(score(fresh)[0] * share)
    assert score(fresh)[0] > 0


def test_a_brand_site_swamped_early_has_a_life_after_the_group_and_fails_outside(rng):
    """A giveaway on a brand's site early in the window: nobody had linked the site before it
    (the window opens just before), but six other accounts link it in the days after. A
    campaign's site is abandoned with it; the brand's lives on."""
    crowd = [f"c{k}" for k in range(40)]
    rows: list[dict] = []
    _background(rows, crowd + OTHERS, rng)
    for wave in range(5):
        _campaign(rows, crowd, start=DAY + wave * 600, site="brand.com")
    for k, fan in enumerate(OTHERS[:6]):
        rows.append(_post(len(rows), fan, (5 + k) * DAY, f"http://brand.com/shop/{k}"))
    decision, accounts = _decide(rows, dict.fromkeys(crowd, 0))
    group = _group_of(decision, accounts, "c0")
    assert group["top_site"] == "brand.com" and group["exclusivity"] >= 0.7
    assert group["outside"] == 6
    assert group["verdict"] == "coordinated"
    assert group["reason"] == f"outside 6 > {Rule().max_outside}"
    assert not accounts.loc[crowd, "flagged"].any()
    # The same giveaway without the later fans: a site born and abandoned with the group.
    born = [r for r in rows if not (r["account_id"] in OTHERS[:6] and "brand.com" in r["urls"][0])]
    decision, accounts = _decide(born, dict.fromkeys(crowd, 0))
    assert _group_of(decision, accounts, "c0")["outside"] == 0


def _short_links_all_along(rows: list[dict], accounts: list[str], rng: np.random.Generator) -> None:
    """Benign accounts post short links of their own (each one account's) all window long,
    through the client everybody uses."""
    for a in accounts:
        for _ in range(3):
            t = float(int(rng.uniform(0, 20 * DAY)))
            words = " ".join(rng.choice(WORDS, size=8))
            rows.append(
                _post(len(rows), a, t, f"https://bit.ly/{a}{int(rng.integers(1e9))}", text=words)
            )


TEMPLATE = "If I didn't try this my life wouldn't have changed"


def _per_post_campaign(
    rows: list[dict], victims: list[str], url_of, *, app: str, template: bool = False
) -> None:
    """Two waves; every post a link no one else posts (a fresh short link, a fresh subdomain),
    with one template's words or with words of its own."""
    rng = np.random.default_rng(7)
    for wave in (10 * DAY, 10 * DAY + 5 * HOUR):
        for k, v in enumerate(victims):
            text = TEMPLATE if template else " ".join(rng.choice(WORDS, size=8))
            rows.append(_post(len(rows), v, wave + 20 * k, url_of(v, k, wave), app=app, text=text))


def test_a_fresh_short_link_per_post_meets_in_the_shortener_and_the_abused_app(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    _short_links_all_along(rows, OTHERS, rng)
    _per_post_campaign(
        rows, VICTIMS, lambda v, k, w: f"http://bit.ly/s{v}{int(w)}", app="We Heart It"
    )
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "compromised", group["reason"]
    assert group["signature_sites"] == "bit.ly/*@We%20Heart%20It"
    assert group["n_adopters"] == 8 and group["exclusivity"] == 1.0
    # Every page is one post's own: whether links were reused is unknown, not failed.
    assert np.isnan(group["link_reuse"])
    assert accounts.loc[VICTIMS, "flagged"].all()
    assert not accounts.loc[OTHERS, "flagged"].any()


def test_fresh_short_links_through_the_client_everybody_uses_give_no_signature(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    _short_links_all_along(rows, OTHERS, rng)
    # Stolen credentials: the same campaign through the official client. The shortener's
    # one-account links through that client run all window long: no site is the victims'.
    _per_post_campaign(rows, VICTIMS, lambda v, k, w: f"http://bit.ly/s{v}{int(w)}",
                       app="Twitter for iPhone")  # fmt: skip
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "none" and group["n_sites"] == 0
    assert not accounts["flagged"].any()


def test_fresh_short_links_in_the_same_words_meet_in_their_template(rng):
    """The same stolen-credentials campaign with one template: the one-account links of the
    posts whose texts are near-duplicates across accounts meet in a text site, judged without
    templating as concert (the waves carry it)."""
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    _short_links_all_along(rows, OTHERS, rng)
    _per_post_campaign(rows, VICTIMS, lambda v, k, w: f"http://bit.ly/s{v}{int(w)}",
                       app="Twitter for iPhone", template=True)  # fmt: skip
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["signature_sites"] == "text:if-i-didn-t-try-this"
    assert group["text_share"] == 1.0 and group["n_adopters"] == 8
    assert group["verdict"] == "compromised", group["reason"]
    assert "templating" not in explain(group).split("concert")[1]  # not its own concert
    assert accounts.loc[VICTIMS, "flagged"].all()
    assert not accounts.loc[OTHERS, "flagged"].any()
    # Without texts (an export that has none) the links keep their coarse site: nothing found.
    events = encode(Posts.from_records([{**r, "text": None} for r in rows]))
    from research.graph.events import text_sites

    assert not text_sites(events).any()


def test_a_fresh_subdomain_of_a_shared_host_per_victim_meets_in_the_host(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    for a in OTHERS[:10]:  # bloggers on the same host, all window long, through their client
        for j in range(4):
            rows.append(_post(len(rows), a, float(int(rng.uniform(0, 20 * DAY))),
                              f"https://{a}.blogspot.com/{j}"))  # fmt: skip
    _per_post_campaign(rows, VICTIMS, lambda v, k, w: f"http://slim{v}.blogspot.com/offer.html",
                       app="Diet Quiz")  # fmt: skip
    decision, accounts = _decide(rows, dict.fromkeys(VICTIMS, 0))
    group = _group_of(decision, accounts, "v0")
    assert group["verdict"] == "compromised", group["reason"]
    assert group["signature_sites"] == "*.blogspot.com@Diet%20Quiz"
    assert accounts.loc[VICTIMS, "flagged"].all()
    assert not accounts.loc[OTHERS, "flagged"].any()


def test_links_without_a_domain_keep_their_own_site():
    from research.graph.events import coarse_sites, site_keys

    rows = [{**_post(0, "a", 0, None), "urls": ["no-host-here"]}, _post(1, "b", 9, None)]
    events = encode(
        Posts.from_records([{k: v for k, v in r.items() if k != "domains"} for r in rows])
    )
    codes, labels = site_keys(events)
    assert labels.values.to_pylist() == ["no-host-here"] and not coarse_sites(events)[codes].any()


def test_own_short_links_through_the_client_that_shortens_them_are_not_concert(rng):
    rows: list[dict] = []
    _background(rows, VICTIMS + OTHERS, rng)
    # Eight people post short links of their own through the scheduling client that shortens
    # them (and everything else through their phone): a coarse site with an app lift, but
    # each at their own pace, in their own words.
    for v in VICTIMS:
        for t in rng.uniform(8 * DAY, 11 * DAY, size=2):
            words = " ".join(rng.choice(WORDS, size=9))
            rows.append(_post(len(rows), v, float(int(t)), f"https://ow.ly/{v}{int(t)}",
                              app="Hootsuite", text=words))  # fmt: skip
    # (On 38 accounts any eight are a large share of those active: prevalence set out of reach.)
    decision, accounts = _decide(
        rows, dict.fromkeys(VICTIMS, 0), Rule(min_size=5, min_prevalence=1.0)
    )
    group = _group_of(decision, accounts, "v0")
    assert group["signature_sites"] == "ow.ly/*@Hootsuite"
    assert group["app_lift"] >= Rule().min_app_lift  # the app carries the coarse signature...
    assert group["verdict"] == "coordinated", group["reason"]  # ...but is no sign of concert
    assert (
        group["reason"].startswith("concert (any of: synchrony")
        and "app lift" not in group["reason"]
    )
    assert not accounts["flagged"].any()


@pytest.mark.parametrize("app", ["Twitter for iPhone", ""])
def test_a_burst_of_fresh_short_links_through_everybodys_client_or_none_is_a_signature(rng, app):
    """Stolen logins post a fresh short link each through the client everybody uses (or an
    export records no app): the shortener's one-account links through it run all window long,
    but the campaign's waves run at many times their usual rate, by many accounts."""
    crowd = [f"c{k}" for k in range(24)]
    rows: list[dict] = []
    _background(rows, crowd + OTHERS, rng)
    for a in OTHERS:  # short links of their own, all window long, through the same client
        for _ in range(3):
            t = float(int(rng.uniform(0, 20 * DAY)))
            rows.append(_post(len(rows), a, t, f"https://bit.ly/{a}{int(rng.integers(1e9))}",
                              app=app))  # fmt: skip
    _per_post_campaign(rows, crowd, lambda v, k, w: f"http://bit.ly/s{v}{int(w)}", app=app)
    decision, accounts = _decide(rows, dict.fromkeys(crowd, 0))
    group = _group_of(decision, accounts, "c0")
    assert group["verdict"] == "compromised", group["reason"]
    where = "bit.ly/*@Twitter%20for%20iPhone" if app else "bit.ly/*"
    assert group["signature_sites"].split() == [
        f"{where}~{(T0 + dt.timedelta(seconds=w)):%Y-%m-%dT%H:%M}"
        for w in (10 * DAY, 10 * DAY + 5 * HOUR)
    ]
    assert group["burst_share"] == 1.0 and group["coarse_share"] == 1.0
    assert accounts.loc[crowd, "flagged"].all()
    assert not accounts.loc[OTHERS, "flagged"].any()


def test_a_burst_needs_ten_accounts_and_a_site_with_a_usual_rate(rng):
    from research.graph.events import BURSTS, burst_sites, site_keys

    def bursts(n_crowd: int, background: bool) -> list[str]:
        crowd = [f"c{k}" for k in range(n_crowd)]
        rows: list[dict] = []
        _background(rows, OTHERS, rng)  # a 20-day window
        if background:  # 90 short links spread evenly, none within hours of the waves
            for j in range(90):
                t = j * 20 * DAY / 90
                if abs(t - 10.1 * DAY) > 0.5 * DAY:
                    rows.append(_post(len(rows), OTHERS[j % 30], t, f"https://bit.ly/o{j}"))
        _per_post_campaign(rows, crowd, lambda v, k, w: f"http://bit.ly/s{v}{int(w)}",
                           app="Twitter for iPhone")  # fmt: skip
        events = encode(Posts.from_records(rows))
        codes, labels = site_keys(events)
        names = np.asarray(labels.values.to_pylist(), dtype=object)
        return sorted(set(names[codes[burst_sites(events)[codes]]].tolist()))

    assert BURSTS.accounts == 10 and BURSTS.ratio == 10.0
    assert len(bursts(10, background=True)) == 2  # two waves, ten accounts each
    assert bursts(9, background=True) == []  # nine accounts are no burst
    # Without short links all along, the shortener through that client has no usual rate: it
    # is born with the campaign, a coarse site of its own (no burst needed).
    assert bursts(30, background=False) == []


def _waves_days_apart(rows: list[dict], victims: list[str]) -> None:
    """Three waves of a few minutes, on days 2, 6 and 11 of the 20-day window (a span of
    nearly half of it), each victim posting the landing page once a wave."""
    for wave in (2 * DAY, 6 * DAY, 11 * DAY):
        for k, v in enumerate(victims):
            rows.append(_post(len(rows), v, wave + 20 * k, f"http://slim-diet.com/offer?id={k}{wave}",
                              app="We Heart It", text="If I didn't try this"))  # fmt: skip


def _episode_rule(**changes) -> Rule:
    """The episode term as these tests' arithmetic assumes it, whatever the frozen defaults:
    the span at most 0.3 of the window, or active in at most 5% of it; the duty cycle off; a
    pause counts at most ten lower-quartile gaps of a group with eight gaps or more, never less
    than 1/400 of the window."""
    settings = dict(min_size=5, max_span=0.3, max_active=0.05, max_duty=0.0, wave_gap=10.0,
                    wave_floor=0.0025, wave_gaps=8)  # fmt: skip
    return Rule(**(settings | changes))


def _judged_waves(rng, victims: list[str], max_active: float = 0.05) -> pd.Series:
    """The group of ``victims`` posting in three waves days apart (``_waves_days_apart``),
    judged with max_span 0.3 and ``max_active``."""
    rows: list[dict] = []
    _background(rows, victims + OTHERS, rng)
    _waves_days_apart(rows, victims)
    rule = _episode_rule(max_active=max_active)
    decision, accounts = _decide(rows, dict.fromkeys(victims, 0), rule)
    return _group_of(decision, accounts, victims[0])


def test_waves_days_apart_are_an_episode_though_their_span_is_long(rng):
    victims = [f"v{k}" for k in range(20)]
    group = _judged_waves(rng, victims)
    assert group["span_share"] > 0.4  # nine days of a window of twenty
    # Gaps within a wave are 20 s (the quartile); the two pauses count the floor, 1/400 of the
    # window (72 minutes: more than ten quartile gaps, less than 20 days / 60 posts).
    assert group["active_share"] == pytest.approx(
        (2 * 0.0025 * 480 * HOUR + 3 * 19 * 20) / (480 * HOUR), abs=1e-4
    )
    assert group["verdict"] == "compromised", group["reason"]
    assert "span 0.45 > 0.30 but active 0.01 ≤ 0.05" in group["explanation"]
    # The same platform (the fixture's seed), judged by the span alone: the waves' terms are
    # off (a threshold of 0), and the reason names the span only.
    group = _judged_waves(np.random.default_rng(0), victims, max_active=0.0)
    assert group["verdict"] == "coordinated"
    assert group["reason"] == "span 0.45 > 0.30"


def _long_waves(rng, rule: Rule) -> pd.Series:
    """Forty victims in ten waves of two hours, a day apart (a span of 45% of the 20-day
    window), each victim posting the landing page once a wave, judged by ``rule``."""
    victims = [f"v{k}" for k in range(40)]
    rows: list[dict] = []
    _background(rows, victims + OTHERS, rng)
    for wave in range(10):
        start = 2 * DAY + wave * DAY
        for k, v in enumerate(victims):
            rows.append(_post(len(rows), v, start + 180 * k, f"http://slim-diet.com/o?id={k}-{wave}",
                              app="We Heart It", text="If I didn't try this"))  # fmt: skip
    decision, accounts = _decide(rows, dict.fromkeys(victims, 0), rule)
    return _group_of(decision, accounts, victims[0])


def test_long_waves_are_an_episode_by_their_duty_cycle_not_their_share_of_the_window(rng):
    """Twenty hours of waves and nine pauses counted at the floor (72 minutes) fill 6% of a
    20-day window, more than ``max_active``: in a month's export they would fill 4%. Of their
    own span (nine days) they fill 14%: ``duty`` does not grow with the window."""
    rule = _episode_rule()
    group = _long_waves(rng, rule)
    span, active = 9 * DAY + 39 * 180, (10 * 39 * 180 + 9 * 0.0025 * 480 * HOUR)
    assert group["span_share"] == pytest.approx(span / (480 * HOUR), abs=1e-3)
    assert group["active_share"] == pytest.approx(active / (480 * HOUR), abs=1e-3)
    # Against the span, a pause counts 1/400 of the span (33 minutes, more than ten gaps of
    # 180 s): the same in any window.
    assert group["duty"] == pytest.approx((10 * 39 * 180 + 9 * 0.0025 * span) / span, abs=1e-3)
    assert group["verdict"] == "coordinated"
    assert group["reason"] == "span 0.45 > 0.30 and active 0.06 > 0.05"
    group = _long_waves(np.random.default_rng(0), replace(rule, max_duty=0.2))
    assert group["verdict"] == "compromised", group["reason"]
    assert "span 0.45 > 0.30 but duty 0.11 ≤ 0.20" in group["explanation"]
    # Neither alternative holds: both are named.
    group = _long_waves(np.random.default_rng(0), replace(rule, max_duty=0.1))
    assert group["reason"] == "span 0.45 > 0.30 and active 0.06 > 0.05 and duty 0.11 > 0.10"


def test_few_posts_in_waves_are_an_episode_and_few_posts_every_day_are_not(rng):
    """Six victims, three waves days apart: 18 posts. Counting each pause up to the mean gap of
    18 posts over the window (more than a day) made them active in a tenth of it, as much as
    steady posting; a pause counts no more than ten gaps within a wave (or the floor)."""
    victims = [f"v{k}" for k in range(6)]
    group = _judged_waves(rng, victims)
    assert group["n_signature_posts"] == 18 and group["span_share"] > 0.4
    assert group["active_share"] < 0.01
    assert group["verdict"] == "compromised", group["reason"]
    rule = _episode_rule()
    # The same six accounts posting the site on each of 14 days, at their own hours.
    rows = []
    _background(rows, victims + OTHERS, rng)
    for day in range(3, 17):
        v = victims[day % 6]
        rows.append(_post(len(rows), v, day * DAY + 3600 * (day % 7), f"http://slim-diet.com/{day}",
                          app="We Heart It", text="If I didn't try this"))  # fmt: skip
    decision, accounts = _decide(rows, dict.fromkeys(victims, 0), rule)
    group = _group_of(decision, accounts, "v0")
    assert group["span_share"] > 0.6 and group["active_share"] > 0.5
    assert group["verdict"] == "coordinated" and "and active 0." in group["reason"]


def test_a_handful_of_posts_two_by_chance_close_together_make_no_waves(rng):
    """Five accounts post a new site once each, days apart, two of them by chance a minute and a
    half apart: four gaps make no lower quartile to trust (it is their smallest), so the pauses
    count the mean gap and the group is active in what it spans (at 10^7 posts, chance
    near-duplicate texts of a few background accounts were flagged as episodes this way)."""
    accounts = [f"v{k}" for k in range(5)]
    rows: list[dict] = []
    _background(rows, accounts + OTHERS, rng)
    for v, t in zip(accounts, (3 * DAY, 3 * DAY + 90, 7 * DAY, 11 * DAY, 15 * DAY), strict=True):
        rows.append(_post(len(rows), v, t, f"http://gadget-review.net/{v}", app="We Heart It",
                          text="If I didn't try this"))  # fmt: skip
    rule = _episode_rule()
    group = _group_of(*_decide(rows, dict.fromkeys(accounts, 0), rule), "v0")
    assert group["span_share"] > 0.55 and group["active_share"] > 0.5
    assert group["verdict"] != "compromised" and "and active 0." in group["reason"]
    # Trusting the quartile of four gaps, the pauses would count the floor: an episode.
    group = _group_of(*_decide(rows, dict.fromkeys(accounts, 0), replace(rule, wave_gaps=1)), "v0")
    assert group["active_share"] < 0.05


def test_an_organisation_posting_its_new_site_every_day_is_active_in_what_it_spans(rng):
    staff = [f"s{k}" for k in range(20)]
    rows: list[dict] = []
    _background(rows, staff + OTHERS, rng)
    for day in range(5, 15):  # ten days, each member at its own hour of the working day
        for k, s in enumerate(staff):
            t = day * DAY + 9 * HOUR + k * 20 * 60
            rows.append(_post(len(rows), s, t, f"https://new-org-site.org/news/{day}",
                              app="Hootsuite"))  # fmt: skip
    rule = _episode_rule()
    decision, accounts = _decide(rows, dict.fromkeys(staff, 0), rule)
    group = _group_of(decision, accounts, "s0")
    assert group["span_share"] > 0.4 and group["active_share"] > 0.15
    assert group["verdict"] == "coordinated" and group["reason"].startswith("span 0.4"), group
    assert " and active 0." in group["reason"]
    # Its nights count ten quartile gaps (200 minutes): active in a third of its own span,
    # which a campaign's waves a day apart are not (11%: the test above).
    assert group["duty"] > 0.3
    decision, accounts = _decide(rows, dict.fromkeys(staff, 0), replace(rule, max_duty=0.25))
    group = _group_of(decision, accounts, "s0")
    assert group["verdict"] == "coordinated" and " and duty 0." in group["reason"], group


@pytest.mark.parametrize("costly", ["indices", "function"])
def test_evidence_with_previous_rows_equals_evidence_measured_anew(costly):
    """Groups judged again with some sites joined: the groups left as they were keep their
    earlier rows, the new ones are measured alone (Groups.subset), the columns shared between
    groups are recomputed; the table is the one measured from scratch, to the last bit."""
    from research.evidence import _same_sites, group_evidence, pooled_unions, signature_groups
    from research.pipeline import PipelineSpec, cluster_accounts
    from research.simulate.families import simulate_family
    from research.verdicts import needs_costly_terms

    sim = simulate_family("unknown_app", 1, scale=0.25)
    spec = PipelineSpec(rule=Rule(pool="alongside"))  # pooling on, whatever the default
    events = encode(sim.posts)
    clustering = cluster_accounts(events, spec, seed=0)
    texts = sim.posts.column("text").combine_chunks()
    groups = signature_groups(events, clustering, spec.rule)
    first = group_evidence(
        events, groups, texts=texts, rule=spec.rule, costly_for=np.arange(groups.n_groups)
    )
    unions = pooled_unions(events, clustering, spec.rule)
    assert unions  # sites to join
    pooled = signature_groups(events, clustering, spec.rule, together=unions)
    if costly == "indices":
        costly_for = np.arange(0, pooled.n_groups, 2)
    else:

        def costly_for(e):
            return needs_costly_terms(e, spec.rule)

    kwargs = dict(texts=texts, rule=spec.rule, costly_for=costly_for)
    again = group_evidence(events, pooled, previous=(groups, first), **kwargs)
    anew = group_evidence(events, pooled, **kwargs)
    # The rows kept from before have their costly terms of before (all measured there).
    kept = np.flatnonzero(_same_sites(pooled, groups) >= 0)
    assert 0 < len(kept) < pooled.n_groups
    for column in ("templating", "prevalence"):
        anew.loc[kept, column] = again.loc[kept, column]
    pd.testing.assert_frame_equal(again, anew, check_exact=True)

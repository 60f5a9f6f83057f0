"""Each baseline does what its paper says, on inputs where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from research.baselines import (
    compa,
    coornet,
    copycatch,
    courl_louvain,
    pacheco,
    qut_colink,
    synchrotrap,
)
from research.baselines.compa import profile_violations
from research.baselines.fraudar import column_weights, densest_block, detect_blocks
from research.evaluate import evaluate
from research.graph.events import encode
from research.simulate import simulate
from tests.conftest import make_posts

# --- FRAUDAR on its paper's injected-block setting ---------------------------------------


def _injected(
    camouflage: str, seed: int = 0, n: int = 2000, block: int = 100, density: float = 0.1
):
    """A sparse random bipartite graph with a dense block planted on rows/cols 0..block-1;
    fraud rows add as many camouflage edges as block edges, to random or to popular columns."""
    rng = np.random.default_rng(seed)
    background = sp.random(n, n, density=3.0 / n, random_state=rng, data_rvs=np.ones, format="coo")
    # Popular columns: a heavy tail of column popularity in the background.
    popular = rng.zipf(1.5, size=background.nnz) % n
    rows, cols = [background.row], [popular]
    b_rows, b_cols = np.nonzero(rng.random((block, block)) < density)
    rows.append(b_rows)
    cols.append(b_cols)
    if camouflage != "none":
        per_row = np.bincount(b_rows, minlength=block)
        fraud = np.repeat(np.arange(block), per_row)
        if camouflage == "random":
            targets = rng.integers(block, n, size=len(fraud))
        else:  # biased: columns in proportion to their degree
            degree = np.bincount(popular, minlength=n).astype(float)
            degree[:block] = 0
            targets = rng.choice(n, size=len(fraud), p=degree / degree.sum())
        rows.append(fraud)
        cols.append(targets)
    matrix = sp.csr_matrix(
        (np.ones(sum(len(r) for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, n),
    )
    return (matrix > 0).astype(np.float64), np.arange(block)


@pytest.mark.parametrize("camouflage", ["none", "random", "biased"])
def test_fraudar_recovers_an_injected_block_with_and_without_camouflage(camouflage):
    matrix, planted = _injected(camouflage)
    found = densest_block(matrix)
    rows = set(found.rows.tolist())
    recall = len(rows & set(planted.tolist())) / len(planted)
    precision = len(rows & set(planted.tolist())) / max(len(rows), 1)
    assert recall >= 0.95 and precision >= 0.9, (camouflage, recall, precision, len(rows))
    assert len(set(found.cols.tolist()) & set(planted.tolist())) >= 0.95 * len(planted)


def test_fraudar_column_weights_discount_popular_columns_and_blocks_are_removed():
    m = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [1, 0, 1]], dtype=float))
    w = column_weights(m)
    assert w[0] < w[1] == w[2]  # the column everybody uses counts least
    assert np.allclose(w, 1 / np.log(np.array([3, 1, 1]) + 5))
    matrix, _ = _injected("none", block=60)
    first, second = detect_blocks(matrix, k=2)
    assert first.density >= second.density
    assert len(set(first.rows) & set(second.rows)) < len(
        first.rows
    )  # the second block is another one


# --- COMPA --------------------------------------------------------------------------------


def test_compa_profiles_see_a_new_app_a_new_domain_and_a_quiet_hour():
    rows = [("a", 86400 * d + 3600 * 9, "Web", ["http://news.com/1"]) for d in range(12)]
    rows.append(
        ("a", 86400 * 12 + 3600 * 21, "Rogue", ["http://spam.com/x"])
    )  # new app, domain, hour
    rows.append(
        ("a", 86400 * 13 + 3600 * 9, "Web", ["http://spam.com/y"])
    )  # only the domain is not new now
    rows += [
        ("b", 60 * k, "Web", ["http://x.com"]) for k in range(3)
    ]  # too short a history to judge
    prof = profile_violations(encode(make_posts(rows)))
    assert (
        prof.new_source[12] and prof.new_domain[12] and prof.quiet_hour[12] and prof.anomalous[12]
    )
    assert not prof.new_source[13] and not prof.new_domain[13] and not prof.anomalous[13]
    assert prof.history[12] == 12 and not prof.judged[-1:].any()
    assert not prof.anomalous[:12].any()


def test_compa_finds_a_rogue_app_campaign_but_not_an_abused_one():
    rogue = simulate("rogue_app", seed=0, n_posts=150_000)
    metrics = evaluate(compa(rogue.posts, {"describe": False}).accounts, rogue.truth)
    assert metrics["precision"] >= 0.95 and metrics["recall"] >= 0.5
    # An app the victims had authorised themselves is no new source: COMPA's blind spot.
    abused = simulate("weheartit", seed=0, n_posts=150_000)
    metrics = evaluate(compa(abused.posts, {"describe": False}).accounts, abused.truth)
    assert metrics["recall"] <= 0.2


# --- Pacheco, QUT co-link, co-URL + Louvain on hand-made posts ---------------------------------


def _pairs_and_noise():
    rows = []
    for k in range(6):  # two accounts posting the same six URLs, a day apart each time
        rows += [
            ("p1", 86400 * k, "X", [f"http://same.com/{k}"]),
            ("p2", 86400 * k + 30, "X", [f"http://same.com/{k}"]),
        ]
    rng = np.random.default_rng(0)
    for k in range(300):  # background: accounts posting their own URLs, some popular ones
        account = f"n{k % 60}"
        url = f"http://pop.com/{int(rng.integers(0, 5))}" if k % 3 == 0 else f"http://own.com/{k}"
        rows.append((account, int(rng.integers(0, 86400 * 6)), "X", [url]))
    return make_posts(rows)


def test_pacheco_flags_the_component_of_near_identical_accounts():
    posts = _pairs_and_noise()
    found = pacheco(posts, {"describe": False, "q": 0.99, "top_k": None})
    flagged = set(found.accounts.loc[found.accounts["flagged"], "account"])
    assert {"p1", "p2"} <= flagged
    assert found.clusters["flagged"].all() and (found.clusters["mean_cosine"] > 0.9).any()
    # The score ranks components by total cosine; top_k flags the strongest only.
    one = pacheco(posts, {"describe": False, "q": 0.99, "top_k": 1})
    assert one.clusters["flagged"].sum() == 1
    best = one.clusters.loc[one.clusters["flagged"]].iloc[0]
    assert best["score"] == one.clusters["score"].max() == best["total_cosine"]


def test_qut_colink_clusters_are_the_components_of_the_co_link_network():
    rows = [
        ("a", 0, "X", ["http://u.com"]),
        ("b", 30, "X", ["http://u.com"]),
        ("c", 80, "X", ["http://u.com"]),
    ]
    rows += [
        ("d", 5000, "X", ["http://v.com"]),
        ("e", 5100, "X", ["http://v.com"]),
    ]  # 100 s apart: no link
    found = qut_colink(make_posts(rows), {"describe": False})
    cluster = dict(zip(found.accounts["account"], found.accounts["cluster"], strict=True))
    assert (
        cluster["a"] == cluster["b"] == cluster["c"] >= 0
    )  # a-b and b-c within 60 s: one component
    assert cluster["d"] == cluster["e"] == -1
    louvain = qut_colink(make_posts(rows), {"describe": False, "detector": "louvain"})
    assert set(louvain.flagged_accounts["account"]) == set(found.flagged_accounts["account"])


def test_courl_louvain_needs_two_shared_objects_and_a_large_enough_community():
    rows = []
    for member in range(12):  # a cohort: 12 accounts, the same three (app, URL) objects
        rows += [(f"c{member}", 1000 * member + k, "Bot", [f"http://c.com/{k}"]) for k in range(3)]
    rows += [
        (f"s{m}", 50 * m, "Bot", ["http://one.com"]) for m in range(12)
    ]  # share only one object
    found = courl_louvain(make_posts(rows), {"describe": False})
    flagged = set(found.flagged_accounts["account"])
    assert flagged == {f"c{m}" for m in range(12)}
    small = courl_louvain(make_posts(rows), {"describe": False, "min_size": 13})
    assert not small.clusters["flagged"].any()


def test_qut_colink_flags_the_top_k_clusters_by_total_co_link_weight():
    rows = []
    for k in range(3):  # a, b, c share three URLs within seconds: 3 posts x 2 partners each
        rows += [(m, 1000 * k + i, "X", [f"http://big.com/{k}"]) for i, m in enumerate("abc")]
    rows += [("d", 9000, "X", ["http://s.com"]), ("e", 9010, "X", ["http://s.com"])]
    found = qut_colink(make_posts(rows), {"describe": False, "top_k": 1})
    table = found.clusters.sort_values("score", ascending=False)
    # Directed weights summed: a-b-c has 3 pairs x 3 URLs x 2 directions = 18; d-e has 2.
    assert table["total_weight"].tolist() == [18.0, 2.0]
    assert table["flagged"].tolist() == [True, False]
    assert set(found.flagged_accounts["account"]) == {"a", "b", "c"}


# --- SynchroTrap, CopyCatch, CooRnet on cases worked by hand from their papers ------------


def test_synchrotrap_jaccard_of_matched_actions_and_single_linkage():
    """Worked by hand. T_sim = 1 h, one-day windows, threshold 0.5.

    a and b post u1 and u2 minutes apart: 2 matched of 2 + 2 actions: 2 / (2 + 2 - 2) = 1.
    c posts u1 and u2 within the hour of b, and three URLs of its own: 2 / (2 + 5 - 2) = 0.4
    with b (and with a): below 0.5, not joined. d posts u1 40 min after c and its own URL:
    d-c match on u1 only: 1 / (5 + 2 - 1) = 0.17; d-b: |600 - 2400| = 30 min, 1 / 3 = 0.33.
    e posts u1 two hours after a: no match (|t| > T_sim). Clusters of >= 2: {a, b}.
    """
    rows = [
        ("a", 0, "X", ["http://u.com/1"]),
        ("b", 300, "X", ["http://u.com/1"]),
        ("a", 5000, "X", ["http://u.com/2"]),
        ("b", 5100, "X", ["http://u.com/2"]),
        ("c", 600, "X", ["http://u.com/1"]),
        ("c", 5200, "X", ["http://u.com/2"]),
        *[("c", 20000 + k, "X", [f"http://c.com/{k}"]) for k in range(3)],
        ("d", 3000, "X", ["http://u.com/1"]),
        ("d", 30000, "X", ["http://d.com"]),
        ("e", 7300, "X", ["http://u.com/1"]),
    ]
    from research.baselines.synchrotrap import pair_similarity

    events = encode(make_posts(rows))
    sim = pair_similarity(events)
    names = events.accounts.values.to_pylist()
    got = {
        (names[i], names[j]): round(float(s), 3)
        for i, j, s in zip(sim.rows, sim.cols, sim.similarity, strict=True)
    }
    assert got == {
        ("a", "b"): 1.0,
        ("a", "c"): 0.4,
        ("b", "c"): 0.4,
        ("a", "d"): 0.333,
        ("b", "d"): 0.333,
        ("c", "d"): 0.167,
    }
    found = synchrotrap(make_posts(rows), {"describe": False, "min_size": 2})
    assert set(found.flagged_accounts["account"]) == {"a", "b"}
    assert found.clusters["score"].tolist() == [1.0]
    # At threshold 0.3 single linkage chains a-b-c-d (c-d itself is only 0.17).
    low = synchrotrap(make_posts(rows), {"describe": False, "min_size": 2, "threshold": 0.3})
    assert set(low.flagged_accounts["account"]) == {"a", "b", "c", "d"}


def test_synchrotrap_needs_sustained_synchrony_over_the_span():
    """Two accounts match once, then each posts alone for a week: 1 / (8 + 8 - 1) = 0.07."""
    rows = [("a", 0, "X", ["http://u.com"]), ("b", 60, "X", ["http://u.com"])]
    rows += [(m, 86400 * d + 7, "X", [f"http://{m}.com/{d}"]) for m in "ab" for d in range(1, 8)]
    found = synchrotrap(make_posts(rows), {"describe": False, "min_size": 2})
    assert found.clustering.n_clusters == 0
    # With spans of one day, the day of the match alone counts: 1 / (1 + 1 - 1) = 1.
    daily = synchrotrap(make_posts(rows), {"describe": False, "min_size": 2, "span_s": 86400})
    assert set(daily.flagged_accounts["account"]) == {"a", "b"}


def test_copycatch_finds_the_lockstep_core_and_nothing_else():
    """Worked by hand from the paper's definition with n = 3, m = 2, Δt = 5 min, rho = 1.

    a, b, c, d post u1 within 3 minutes, u2 within 2 minutes an hour later and u3 within a
    minute: a core of 4 users x 3 objects. e posts u1 with them but nothing else (1 of 3
    objects < rho |P|), f posts all three a day later (outside every window), g, h, i post
    u4 together once (|P| = 1 < m).
    """
    rows = []
    for i, m in enumerate("abcd"):
        rows += [
            (m, 60 * i, "X", ["http://u.com/1"]),
            (m, 3600 + 30 * i, "X", ["http://u.com/2"]),
            (m, 9000 + 15 * i, "X", ["http://u.com/3"]),
        ]
    rows.append(("e", 30, "X", ["http://u.com/1"]))
    rows += [("f", 86400 + k, "X", [f"http://u.com/{k}"]) for k in (1, 2, 3)]
    rows += [(m, 20000 + k, "X", ["http://u.com/4"]) for k, m in enumerate("ghi")]
    params = {"describe": False, "n": 3, "m": 2, "delta_t_s": 300, "rho": 1.0}
    found = copycatch(make_posts(rows), params)
    assert set(found.flagged_accounts["account"]) == {"a", "b", "c", "d"}
    assert found.clusters["lockstep_objects"].tolist() == [3]
    assert found.clusters["score"].tolist() == [3.0]
    # rho = 0.3 lets e in: one object of three is at least 30% of them.
    loose = copycatch(make_posts(rows), {**params, "rho": 0.3})
    assert set(loose.flagged_accounts["account"]) == {"a", "b", "c", "d", "e"}
    # The same seed gives the same groups.
    again = copycatch(make_posts(rows), params, seed=5)
    assert set(again.flagged_accounts["account"]) == set(found.flagged_accounts["account"])


def test_coornet_interval_is_estimated_as_coornet_does():
    """Worked by hand: 10 URLs shared twice, second shares 10, 20, ..., 100 s after the first.
    q = 0.1: the 0.1 quantile of the delays is 19 s, so URL 0 (10 s) is the quickest; it has
    shares at 0, 10, 30, 70 s; more than p = 0.5 of them happened by the third (rank 3 > 2),
    30 s after the first; the median over the quickest URLs (one) is 30 s."""
    from research.baselines.coornet import coordination_interval

    url = np.concatenate([np.repeat(np.arange(10), 2), [0, 0]])
    time = np.zeros(22, dtype=np.int64)
    time[1:20:2] = np.arange(1, 11) * 10
    time[20:] = [30, 70]
    interval, summary = coordination_interval(url, time, q=0.1, p=0.5)
    assert interval == 30.0 and summary["urls_quickest"] == 1
    # With q = 0.5 the five quickest URLs count: URLs 1-4 (two shares: more than half at the
    # second) reach it at 20, 30, 40, 50 s and URL 0 at 30 s: the median is 30 s.
    assert coordination_interval(url, time, q=0.5, p=0.5)[0] == 30.0
    # Shares at the same second give 0 s, which CooRnet turns into 1 s.
    assert coordination_interval(np.array([0, 0]), np.array([5, 5]))[0] == 1.0


def test_coornet_links_accounts_that_repeatedly_share_in_the_same_interval():
    """Interval 60 s (given). a and b share u1 and u2 each within the same 60 s bin: weight 2;
    c shares u1 in the bin too (weight 1 with a and b); d shares u2 70 s after the first share
    (the next bin): no edge. repetition 2 keeps a-b only."""
    rows = [
        ("a", 0, "X", ["http://u.com/1"]),
        ("b", 20, "X", ["http://u.com/1"]),
        ("c", 50, "X", ["http://u.com/1"]),
        ("a", 1000, "X", ["http://u.com/2"]),
        ("b", 1030, "X", ["http://u.com/2"]),
        ("d", 1070, "X", ["http://u.com/2"]),
    ]
    params = {"describe": False, "interval_s": 60, "percentile_edge_weight": 0.0}
    found = coornet(make_posts(rows), params)
    assert set(found.flagged_accounts["account"]) == {"a", "b"}
    assert found.clusters["coordinated_shares"].tolist() == [2.0]
    once = coornet(make_posts(rows), {**params, "repetition": 1})
    assert set(once.flagged_accounts["account"]) == {"a", "b", "c"}

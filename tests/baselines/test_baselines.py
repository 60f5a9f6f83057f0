"""Each baseline does what its paper says, on inputs where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from research.baselines import compa, evilcohort, pacheco, qut_colink
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


# --- Pacheco, QUT co-link, EvilCohort on hand-made posts ---------------------------------


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
    found = pacheco(posts, {"describe": False, "q": 0.99})
    flagged = set(found.accounts.loc[found.accounts["flagged"], "account"])
    assert {"p1", "p2"} <= flagged
    assert found.clusters["flagged"].all() and (found.clusters["mean_cosine"] > 0.9).any()


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
    assert set(louvain.flagged_accounts()) == set(found.flagged_accounts())


def test_evilcohort_needs_two_shared_objects_and_a_large_enough_community():
    rows = []
    for member in range(12):  # a cohort: 12 accounts, the same three (app, URL) objects
        rows += [(f"c{member}", 1000 * member + k, "Bot", [f"http://c.com/{k}"]) for k in range(3)]
    rows += [
        (f"s{m}", 50 * m, "Bot", ["http://one.com"]) for m in range(12)
    ]  # share only one object
    found = evilcohort(make_posts(rows), {"describe": False})
    flagged = set(found.flagged_accounts())
    assert flagged == {f"c{m}" for m in range(12)}
    small = evilcohort(make_posts(rows), {"describe": False, "min_size": 13})
    assert not small.clusters["flagged"].any()

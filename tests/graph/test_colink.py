"""Exact-window co-link: the same network as coordination-network-toolkit (CNT), and its views."""

from __future__ import annotations

import csv
import sqlite3
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from research.errors import BudgetError, ConfigError
from research.graph.colink import co_link
from research.graph.events import encode
from research.graph.projection import co_action
from tests.conftest import make_posts


@pytest.fixture(scope="module")
def cnt() -> SimpleNamespace:
    """The coordination-network-toolkit (test extra): only the comparisons with it need it."""
    return SimpleNamespace(
        compute=pytest.importorskip("coordination_network_toolkit.compute_networks"),
        preprocess=pytest.importorskip("coordination_network_toolkit.preprocess"),
    )


def _random_rows(seed: int, n_posts: int = 400) -> list[tuple]:
    """Posts on a few URLs within an hour: bursts, repeats, two-URL posts and a URL twice in one post."""
    rng = np.random.default_rng(seed)
    urls = [f"http://site{k}.com/p" for k in range(12)]
    rows = []
    for _ in range(n_posts):
        account = f"u{int(rng.integers(0, 30))}"
        t = int(rng.integers(0, 3600))
        kind = rng.random()
        if kind < 0.15:
            links: list[str] = []
        elif kind < 0.25:
            links = [
                urls[int(rng.integers(0, 12))],
                urls[int(rng.integers(0, 12))],
            ]  # sometimes the same twice
        else:
            links = [urls[int(rng.zipf(1.6)) % 12]]
        rows.append((account, t, "App", links))
    return rows


def _cnt_co_link(
    cnt: SimpleNamespace, rows: list[tuple], tmp_path: Path, window: int
) -> dict[tuple[str, str], int]:
    """CNT's co-link network (loops included) through its Python API."""
    db = str(tmp_path / "cnt.db")
    messages = [
        (
            str(i),
            account,
            account,
            None,
            None,
            f"post {i}",
            float(1_398_945_600 + t),
            list(dict.fromkeys(links)),
        )
        for i, (account, t, _app, links) in enumerate(rows)
    ]
    cnt.preprocess.preprocess_data(db, messages)
    cnt.compute.compute_co_link_network(db, window, n_threads=1)
    with sqlite3.connect(db) as con:
        return {
            (u1, u2): int(w)
            for u1, u2, w in con.execute("select user_1, user_2, weight from co_link_network")
        }


def _ours(rows: list[tuple], window: int) -> dict[tuple[str, str], int]:
    net = co_link(encode(make_posts(rows)), window_s=window)
    return {(s, t): c for s, t, c in net.edges(loops=True)}


@pytest.mark.parametrize(("seed", "window"), [(0, 60), (1, 60), (2, 10), (3, 300)])
def test_same_pairs_and_weights_as_coordination_network_toolkit(cnt, tmp_path, seed, window):
    rows = _random_rows(seed)
    theirs = _cnt_co_link(cnt, rows, tmp_path, window)
    ours = _ours(rows, window)
    assert len(ours) > 50  # a network worth comparing
    assert ours == theirs
    if window >= 60:  # direction matters (at 10 s the random input has no asymmetric pair)
        assert any(a != b and ours[(a, b)] != ours[(b, a)] for a, b in ours)


def test_empty_url_field_makes_no_edge_unlike_cnt_issue_46(cnt, tmp_path):
    rows = [
        ("a", 0, "App", []),
        ("b", 10, "App", []),
        ("c", 20, "App", ["http://x.com"]),
        ("d", 30, "App", ["http://x.com"]),
    ]
    path = tmp_path / "posts.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "message_id",
                "user_id",
                "username",
                "repost_id",
                "reply_id",
                "message",
                "timestamp",
                "urls",
            ]
        )
        for i, (account, t, _app, links) in enumerate(rows):
            writer.writerow(
                [i, account, account, "", "", f"post {i}", 1_398_945_600 + t, " ".join(links)]
            )
    db = str(tmp_path / "cnt.db")
    cnt.preprocess.preprocess_csv_files(db, [str(path)])
    cnt.compute.compute_co_link_network(db, 60, n_threads=1)
    with sqlite3.connect(db) as con:
        theirs = {
            (u1, u2)
            for u1, u2, _w in con.execute("select * from co_link_network where user_1 != user_2")
        }
    assert ("a", "b") in theirs  # CNT links the two URL-less posts through the URL ""
    ours = {(s, t) for s, t, _c in co_link(encode(make_posts(rows)), window_s=60).edges()}
    assert ours == {("c", "d"), ("d", "c")}
    assert theirs - {("a", "b"), ("b", "a")} == ours


def test_window_is_inclusive_and_exact_not_bucketed():
    # a-b 60 s apart (in), b-c 61 s apart (out); a bucketing from t=0 would split a and b
    rows = [
        ("a", 55, "X", ["http://u.com"]),
        ("b", 115, "X", ["http://u.com"]),
        ("c", 176, "X", ["http://u.com"]),
    ]
    edges = {(s, t) for s, t, _ in co_link(encode(make_posts(rows)), window_s=60).edges()}
    assert edges == {("a", "b"), ("b", "a")}


def test_symmetric_views_and_projection_mode():
    rows = [
        ("a", 0, "X", ["http://u.com"]),
        ("a", 5, "X", ["http://u.com"]),
        ("a", 9, "X", ["http://u.com"]),
        ("b", 20, "X", ["http://u.com"]),
    ]
    events = encode(make_posts(rows))
    net = co_link(events, window_s=60)
    assert net.edges() == [("a", "b", 3), ("b", "a", 1)]
    assert net.symmetric("min").support.tolist() == [1]
    assert net.symmetric("max").support.tolist() == [3]
    assert net.symmetric("sum").weight.tolist() == [4.0]
    assert net.symmetric("mean").weight.tolist() == [2.0]
    projection = co_action(
        events, objects="url", window_s=60, window_mode="exact", weighting="count", cap=None
    )
    assert (
        projection.rows.tolist() == [0]
        and projection.cols.tolist() == [1]
        and projection.support.tolist() == [1]
    )
    assert projection.params["window_mode"] == "exact"
    jaccard = co_action(
        events, objects="url", window_s=60, window_mode="exact", weighting="jaccard", cap=None
    )
    assert jaccard.weight.tolist() == [pytest.approx(1 / 3)]  # 1 shared of 3 + 1 - 1 posts
    with pytest.raises(ConfigError, match="tfidf_cosine"):
        co_action(events, objects="url", window_s=60, window_mode="exact", weighting="tfidf_cosine")
    with pytest.raises(ConfigError, match="window_mode"):
        co_action(events, objects="url", window_mode="nope")


def test_idf_weights_rare_objects_more():
    rows = [(f"p{k}", 1000 * k, "X", ["http://popular.com"]) for k in range(20)]
    rows += [
        ("a", 0, "X", ["http://rare.com", "http://popular.com"]),
        ("b", 10, "X", ["http://rare.com"]),
    ]
    rows += [("c", 5000, "X", ["http://popular.com"]), ("d", 5010, "X", ["http://popular.com"])]
    projection = co_action(
        encode(make_posts(rows)),
        objects="url",
        window_s=60,
        window_mode="exact",
        weighting="idf",
        cap=None,
    )
    weights = {
        (projection.accounts[i], projection.accounts[j]): w
        for i, j, w in zip(projection.rows, projection.cols, projection.weight, strict=True)
    }
    assert weights[("a", "b")] > weights[("c", "d")] > 0


def test_exact_pair_count_and_budget():
    rows = [(f"u{k}", k, "X", ["http://viral.com"]) for k in range(50)] + [
        ("a", 5000, "X", ["http://x.com"]),
        ("b", 5001, "X", ["http://x.com"]),
    ]
    events = encode(make_posts(rows))
    net = co_link(events, window_s=60)
    assert net.stats["pair_products"] == 50 * 50 + 4  # directed, self-matches included
    with pytest.raises(BudgetError, match="pair_budget"):
        co_link(events, window_s=60, pair_budget=100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        capped = co_link(events, window_s=60, pair_budget=100, on_budget="lower_cap")
    assert any("lowering cap" in str(w.message) for w in caught)
    assert {(s, t) for s, t, _ in capped.edges()} == {
        ("a", "b"),
        ("b", "a"),
    }  # the busy viral link is dropped
    assert capped.stats["pair_products"] <= 100


def test_block_size_does_not_change_the_result():
    events = encode(make_posts(_random_rows(5)))
    whole = co_link(events, window_s=120)
    blocks = co_link(events, window_s=120, block_pairs=17)
    for name in ("source", "target", "count", "weight"):
        assert np.array_equal(getattr(whole, name), getattr(blocks, name))

from __future__ import annotations

import numpy as np
import pytest

from research.errors import BudgetError, ConfigError
from research.graph.events import encode
from research.graph.projection import (
    ENGINES,
    ProjectionSpec,
    co_action,
    combine,
    pair_products,
)
from tests.conftest import make_posts


def _pairs(projection):
    return {
        (projection.accounts[i], projection.accounts[j])
        for i, j in zip(projection.rows, projection.cols, strict=True)
    }


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_engine_meets_the_projection_contract(engine):
    # What every registered engine must do, whatever its way of forming pairs: a burst of
    # three accounts on one link through one app within a minute is one triangle of edges;
    # a post of the same link a day later and a post of another link are no edge.
    posts = make_posts(
        [
            ("a", 0, "X", ["http://u.com/1"]),
            ("b", 10, "X", ["http://u.com/1"]),
            ("c", 20, "X", ["http://u.com/1"]),
            ("d", 86_400, "X", ["http://u.com/1"]),
            ("e", 15, "X", ["http://v.com/2"]),
        ]
    )
    events = encode(posts)
    spec = ProjectionSpec(objects="app_url", window_s=60, window_mode=engine, weighting="count")
    projection = co_action(events, spec)
    assert projection.accounts is events.accounts
    assert _pairs(projection) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert (projection.rows < projection.cols).all()
    keys = projection.rows * projection.n_accounts + projection.cols
    assert (np.diff(keys) > 0).all()  # sorted by (row, col), each pair once
    assert len(projection.weight) == len(projection.support) == projection.n_edges
    assert projection.support.tolist() == [1, 1, 1] and projection.weight.tolist() == [1, 1, 1]
    assert projection.params == {"kind": "co_action", **spec.__dict__}
    one_thread = co_action(events, spec, threads=1)
    for name in ("rows", "cols", "weight", "support"):
        assert np.array_equal(getattr(one_thread, name), getattr(projection, name)), name


def test_an_unknown_engine_is_refused_naming_the_known_ones():
    events = encode(make_posts([("a", 0, "X", ["http://u.com"])]))
    with pytest.raises(ConfigError, match=r"window_mode 'nope'.*buckets, exact"):
        co_action(events, objects="url", window_mode="nope")


def test_empty_url_and_empty_app_create_no_object():
    posts = make_posts(
        [("a", 0, "", [""]), ("b", 10, "", [""]), ("c", 20, "X", []), ("d", 25, "X", [])]
    )
    events = encode(posts)
    assert len(events.link_url) == 0 and len(events.apps) == 1
    for objects in ("url", "domain", "app_url", "app_domain"):
        assert co_action(events, objects=objects).n_edges == 0
    # the two posts through X are an app co-action; the blank app is no app
    assert _pairs(co_action(events, objects="app")) == {("c", "d")}


def test_window_links_only_nearby_actions_and_joint_needs_the_same_app():
    posts = make_posts(
        [
            ("a", 0, "We Heart It", ["http://diet.com/x"]),
            ("b", 40, "We Heart It", ["http://diet.com/x"]),
            ("c", 50, "Twitter for iPhone", ["http://diet.com/x"]),
            ("d", 7200, "We Heart It", ["http://diet.com/x"]),
        ]
    )
    events = encode(posts)
    joint = co_action(events, objects="app_url", window_s=60)
    assert _pairs(joint) == {("a", "b")}
    url = co_action(events, objects="url", window_s=60)
    assert _pairs(url) == {("a", "b"), ("a", "c"), ("b", "c")}
    no_window = co_action(events, objects="app_url", window_s=None)
    assert _pairs(no_window) == {("a", "b"), ("a", "d"), ("b", "d")}


def test_staggered_windows_catch_a_pair_straddling_a_bucket_edge():
    # 10 s apart across the edge of a 60 s bucket that starts at the first action
    posts = make_posts(
        [
            ("z", 0, "X", ["http://other.com"]),
            ("a", 55, "X", ["http://u.com"]),
            ("b", 65, "X", ["http://u.com"]),
        ]
    )
    events = encode(posts)
    assert co_action(events, objects="url", window_s=60, offsets=1).n_edges == 0
    assert _pairs(co_action(events, objects="url", window_s=60, offsets=2)) == {("a", "b")}


def test_support_counts_distinct_windowed_objects():
    rows = []
    for k in range(3):  # three waves, an hour apart
        rows += [
            ("a", 3600 * k, "X", ["http://e.com/1"]),
            ("b", 3600 * k + 5, "X", ["http://e.com/1"]),
        ]
    projection = co_action(encode(make_posts(rows)), objects="app_url", window_s=600)
    assert projection.support.tolist() == [3]
    assert projection.weight.tolist() == [3.0]


def test_idf_down_weights_popular_objects():
    rows = [("a", 0, "X", ["http://rare.com"]), ("b", 1, "X", ["http://rare.com"])]
    rows += [(f"u{i}", 2, "X", ["http://popular.com"]) for i in range(20)] + [
        ("a", 3, "X", ["http://popular.com"])
    ]
    projection = co_action(encode(make_posts(rows)), objects="url", window_s=None, weighting="idf")
    pairs = [
        (projection.accounts[i], projection.accounts[j])
        for i, j in zip(projection.rows, projection.cols, strict=True)
    ]
    weight = dict(zip(pairs, projection.weight, strict=True))
    # 22 accounts act; the rare link is shared by 2 of them, the popular one by 21
    assert weight[("a", "b")] == pytest.approx(np.log(22 / 2))
    assert weight[("u0", "u1")] == pytest.approx(np.log(22 / 21))


def test_pair_count_is_exact_and_budget_refusal_names_the_knobs():
    rows = [(f"u{i}", i, "X", ["http://viral.com"]) for i in range(30)]
    events = encode(make_posts(rows))
    assert pair_products(np.array([30, 1, 2])) == 435 + 0 + 1
    with pytest.raises(
        BudgetError, match=r"435 account-pair products.*projection\.cap.*projection\.window_s"
    ):
        co_action(
            events, objects="url", window_s=None, cap=None, pair_budget=100, on_budget="refuse"
        )
    with pytest.warns(RuntimeWarning, match="lowering cap"):
        lowered = co_action(events, objects="url", window_s=None, cap=None, pair_budget=100)
    assert lowered.n_edges == 0 and lowered.stats["cap"] < 30
    capped = co_action(events, objects="url", window_s=None, cap=10)
    assert capped.n_edges == 0 and capped.stats["dropped_popular_objects"] == 1


def test_jaccard_and_cosine_are_similarities():
    rows = [
        ("a", 0, "X", ["http://1.com"]),
        ("b", 0, "X", ["http://1.com"]),
        ("a", 0, "X", ["http://2.com"]),
    ]
    events = encode(make_posts(rows))
    assert co_action(events, objects="url", window_s=None, weighting="jaccard").weight.tolist() == [
        0.5
    ]
    assert co_action(events, objects="url", window_s=None, weighting="overlap").weight.tolist() == [
        1.0
    ]
    cosine = co_action(events, objects="url", window_s=None, weighting="tfidf_cosine").weight
    assert 0 < cosine[0] <= 1


def test_combine_sums_layers_and_spec_validates():
    rows = [("a", 0, "X", ["http://1.com/p"]), ("b", 0, "X", ["http://1.com/q"])]
    events = encode(make_posts(rows))
    domain = co_action(events, objects="domain", window_s=None)
    url = co_action(events, objects="url", window_s=None)
    assert url.n_edges == 0 and domain.n_edges == 1
    assert combine([domain, url], [2.0, 1.0]).weight.tolist() == [2.0]
    with pytest.raises(ConfigError, match="unknown projection object kind"):
        ProjectionSpec(objects="hashtag")
    with pytest.raises(ConfigError, match="window_s must be positive"):
        ProjectionSpec(window_s=0)


@pytest.mark.parametrize("sorted_by_time", [True, False])
def test_neighbour_uses_are_ordered_as_lexsort(sorted_by_time):
    # The neighbour projection orders uses by (object, time, account) with a stable sort on
    # one (time, account) key and a counting sort by object: the order of np.lexsort, ties
    # (same object, second and account) in input order.
    from research.graph.neighbours import _by_object_time_account

    rng = np.random.default_rng(0)
    n = 5_000
    obj, account = rng.integers(0, 40, n), rng.integers(0, 30, n)
    when = 1_400_000_000 + rng.integers(0, 500, n)
    if sorted_by_time:
        when = np.sort(when)
    got = _by_object_time_account(obj, when, account, 40, 30)
    assert got.tolist() == np.lexsort((account, when, obj)).tolist()


@pytest.mark.parametrize("max_span", [None, 0.2, 0.05, 1.0])
def test_neighbour_pairings_drop_long_lived_objects_as_after_sorting_all_uses(max_span):
    # Long-lived objects' uses are dropped before the uses are sorted: the pairings are those
    # of the definition, every use sorted, deduplicated and weighed, long-lived objects then
    # dropped.
    from research.graph.base import Actions
    from research.graph.codes import site_spans
    from research.graph.neighbours import NeighbourSpec, _distinct_users, _pairings, _uses

    rng = np.random.default_rng(1)
    n, n_objects, n_accounts = 4_000, 60, 50
    obj = rng.integers(0, n_objects, n)
    account = rng.integers(0, n_accounts, n)
    # Some objects live briefly, others all along.
    start = rng.integers(0, 90_000, n_objects)
    length = np.where(rng.random(n_objects) < 0.5, 2_000, 100_000)
    when = start[obj] + (rng.random(n) * length[obj]).astype(np.int64)
    order = np.argsort(when, kind="stable")  # posts come in time order
    obj, account, when = obj[order], account[order], when[order]
    layer = Actions("site", account, obj, when, n_accounts, n_objects)
    spec = NeighbourSpec(neighbours=3, max_gap_s=5_000, max_span=max_span)

    a, o, t = _uses(layer)
    d = _distinct_users(a, o, n_objects)
    n_users = np.count_nonzero(np.bincount(a, minlength=n_accounts))
    idf = np.log(max(n_users, 1) / np.maximum(d, 1))
    if max_span is not None:
        spans = site_spans(obj, when, n_objects, spec.span_quantile)
        brief = (spans[:, 1] - spans[:, 0]) <= max_span * max(int(np.ptp(when)), 1)
        keep = brief[o]
        a, o, t = a[keep], o[keep], t[keep]
    expected = {}
    for j in range(1, spec.neighbours + 1):
        for i in range(len(a) - j):
            if o[i] == o[i + j] and a[i] != a[i + j] and t[i + j] - t[i] <= spec.max_gap_s:
                key = (min(a[i], a[i + j]), max(a[i], a[i + j]), j)
                weight, count = expected.get(key, (0.0, 0))
                expected[key] = (weight + idf[o[i]], count + 1)
    got = {}
    for j, (keys, weights, counts) in enumerate(_pairings(layer, spec), start=1):
        for key, weight, count in zip(
            keys.tolist(), weights.tolist(), counts.tolist(), strict=True
        ):
            got[(*divmod(key, n_accounts), j)] = (weight, count)
    assert got.keys() == expected.keys()
    for key, (weight, count) in expected.items():
        assert got[key][1] == count and got[key][0] == pytest.approx(weight, rel=1e-12)
    if max_span == 0.2:
        assert 0 < len(got)

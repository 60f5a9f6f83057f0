"""The blocked projection engine and its helpers: right by a brute-force reference, and the
same bits whatever the number of blocks, threads or staged cuts."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.errors import BudgetError, ConfigError
from research.graph import buckets as engine
from research.graph.codes import dense_codes, distinct_pairs, pair_dense_codes, stable_group
from research.graph.events import _encode, encode, stem_codes
from research.graph.filters import max_edges, split_streamable
from research.graph.projection import ProjectionSpec, co_action, combine, multiplex
from research.pipeline import PipelineSpec, run_pipeline
from tests.conftest import make_posts

APPS = ["X", "Y", ""]
URLS = [f"http://d{d}.com/{p}" for d in range(3) for p in range(3)] + ["http://d0.com/0?utm=1"]

posts_rows = st.lists(
    st.tuples(
        st.sampled_from([f"a{i}" for i in range(7)]),
        st.integers(0, 5_000),
        st.sampled_from(APPS),
        st.lists(st.sampled_from(URLS), max_size=2),
    ),
    min_size=2,
    max_size=40,
)


def _brute_force(events, spec: ProjectionSpec) -> dict[tuple[int, int], tuple[int, float]]:
    """Support and weight of every pair, straight from the definition (Python loops)."""
    acts = engine.actions(events, spec.objects)
    n_active = len(set(acts.account.tolist()))
    df: dict[int, set[int]] = {}
    for a, o in zip(acts.account.tolist(), acts.obj.tolist(), strict=True):
        df.setdefault(o, set()).add(a)
    t0 = int(acts.time.min()) if len(acts.time) else 0
    shifts = (
        [None]
        if spec.window_s is None
        else [round(k * spec.window_s / spec.offsets) for k in range(spec.offsets)]
    )
    per_shift = []
    for shift in shifts:
        members: dict[tuple[int, int], set[int]] = {}
        for a, o, t in zip(
            acts.account.tolist(), acts.obj.tolist(), acts.time.tolist(), strict=True
        ):
            bucket = 0 if shift is None else (t - t0 + shift) // int(spec.window_s)
            members.setdefault((o, bucket), set()).add(a)
        per_shift.append(members)
    degrees = [len(m) for members in per_shift for m in members.values()]
    cap = spec.cap
    if cap is not None or spec.pair_budget < math.inf:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cap = engine._cap_within_budget(np.asarray(degrees), spec, {})
    result: dict[tuple[int, int], tuple[int, float]] = {}
    for members in per_shift:
        support: dict[tuple[int, int], int] = {}
        weight: dict[tuple[int, int], float] = {}
        for (o, _b), accounts in sorted(members.items()):
            if len(accounts) < 2 or (cap is not None and len(accounts) > cap):
                continue
            value = math.log(n_active / len(df[o])) if spec.weighting == "idf" else 1.0
            for pair in itertools.combinations(sorted(accounts), 2):
                support[pair] = support.get(pair, 0) + 1
                weight[pair] = weight.get(pair, 0.0) + value
        for pair in support:
            s, w = result.get(pair, (0, 0.0))
            result[pair] = (max(s, support[pair]), max(w, weight[pair]))
    return result


@settings(max_examples=60, deadline=None)
@given(
    rows=posts_rows,
    objects=st.sampled_from(["app_domain", "app_url", "url", "app", "stem"]),
    weighting=st.sampled_from(["count", "idf"]),
    window=st.sampled_from([None, 60.0, 900.0]),
    offsets=st.integers(1, 3),
    cap=st.sampled_from([None, 2, 3, 200]),
)
def test_projection_matches_the_definition(rows, objects, weighting, window, offsets, cap):
    events = encode(make_posts(rows))
    spec = ProjectionSpec(objects, window_s=window, offsets=offsets, weighting=weighting, cap=cap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = co_action(events, spec)
    expected = _brute_force(events, spec)
    assert list(zip(got.rows.tolist(), got.cols.tolist(), strict=True)) == sorted(expected)
    assert got.support.tolist() == [expected[p][0] for p in sorted(expected)]
    assert got.weight.tolist() == pytest.approx([expected[p][1] for p in sorted(expected)])


@settings(max_examples=30, deadline=None)
@given(rows=posts_rows, budget=st.integers(0, 30))
def test_blocks_threads_and_staged_cuts_give_the_same_bits(rows, budget, monkeypatch_module):
    events = encode(make_posts(rows))
    specs = [
        ProjectionSpec("app_domain", weighting="idf"),
        ProjectionSpec("app_url", weighting="idf"),
    ]
    whole = multiplex(events, specs, [1.0, 0.5], min_support=1, threads=1)
    monkeypatch_module.setattr(engine, "_BLOCK_PRODUCTS", 3)  # many small blocks of accounts
    monkeypatch_module.setattr(
        engine, "_CUT_SLACK", 0
    )  # raise the edge-budget cut after every block
    for threads in (1, 2):
        blocked = multiplex(events, specs, [1.0, 0.5], min_support=1, threads=threads)
        for name in ("rows", "cols", "weight", "support"):
            assert np.array_equal(getattr(blocked, name), getattr(whole, name)), name
        staged = multiplex(
            events, specs, [1.0, 0.5], min_support=1, max_edges=budget, threads=threads
        )
        at_once = max_edges(whole, budget)
        assert np.array_equal(staged.weight, at_once.weight) and np.array_equal(
            staged.rows, at_once.rows
        )
    monkeypatch_module.undo()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_multiplex_equals_combine_then_filters(weheartit):
    events = encode(weheartit.posts)
    specs = [
        ProjectionSpec("app_domain", weighting="idf"),
        ProjectionSpec("app_url", weighting="jaccard"),
    ]
    summed = combine([co_action(events, s) for s in specs], [2.0, 0.5])
    expected = summed.select((summed.weight >= 1.0) & (summed.support >= 2))
    got = multiplex(events, specs, [2.0, 0.5], min_weight=1.0, min_support=2)
    for name in ("rows", "cols", "weight", "support"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name
    assert got.stats["n_edges_unfiltered"] == summed.n_edges


def test_max_edges_keeps_the_heaviest_and_drops_ties_together():
    events = encode(
        make_posts(
            [(a, 0, "X", ["http://u.com"]) for a in "abcd"]
            + [("a", 1, "X", ["http://v.com"]), ("b", 1, "X", ["http://v.com"])]
        )
    )
    full = co_action(events, objects="url", window_s=None)
    assert sorted(full.weight.tolist()) == [1, 1, 1, 1, 1, 2]
    assert max_edges(full, 3).weight.tolist() == [
        2.0
    ]  # the five edges of weight 1 are tied: all go
    assert max_edges(full, 6).n_edges == 6 and max_edges(full, 0).n_edges == 0
    with pytest.raises(ConfigError, match="at least 0"):
        max_edges(full, -1)


def test_split_streamable_takes_only_a_leading_run():
    fused, rest = split_streamable(
        [
            {"name": "min_support", "k": 2},
            {"name": "min_weight", "w": 1},
            {"name": "min_weight", "w": 3},
        ]
    )
    assert fused == {"min_support": 2, "min_weight": 3.0} and rest == []
    fused, rest = split_streamable([{"name": "disparity"}, {"name": "min_weight", "w": 3}])
    assert fused == {} and [f["name"] for f in rest] == ["disparity", "min_weight"]
    fused, rest = split_streamable([{"name": "max_edges", "n": 5}, {"name": "min_weight", "w": 3}])
    assert fused == {"max_edges": 5} and rest == [{"name": "min_weight", "w": 3}]
    with pytest.raises(ConfigError, match="unexpected parameter"):
        split_streamable([{"name": "min_weight", "q": 3}])


def test_edge_budget_warns_or_refuses_and_names_the_knob(weheartit):
    spec = PipelineSpec(edge_budget=1_000)
    with pytest.warns(RuntimeWarning, match=r"edge_budget=1000.*raise pipeline\.edge_budget"):
        found = run_pipeline(weheartit.posts, spec, seed=0)
    assert found.stats["edges_kept"] <= 1_000 and found.stats["edge_budget_cut"] > 3.0
    with pytest.raises(BudgetError, match="edge_budget=1000"):
        run_pipeline(weheartit.posts, PipelineSpec(edge_budget=1_000, on_budget="refuse"), seed=0)


@settings(max_examples=80, deadline=None)
@given(
    keys=st.lists(st.integers(-(2**40), 2**40), max_size=300)
    | st.lists(st.integers(0, 50), max_size=300)
)
def test_dense_codes_and_distinct_pairs_equal_np_unique(keys):
    keys = np.asarray(keys, dtype=np.int64)
    uniq, inverse = dense_codes(keys)
    ref_uniq, ref_inverse = np.unique(keys, return_inverse=True)
    assert np.array_equal(uniq, ref_uniq) and np.array_equal(inverse, ref_inverse.ravel())
    first, second = np.abs(keys) % 7, np.abs(keys) % 1000
    f, s, n = distinct_pairs(first, second, 1000)
    pairs, counts = (
        np.unique(np.column_stack([first, second]), axis=0, return_counts=True)
        if len(keys)
        else (np.zeros((0, 2), np.int64), np.zeros(0, np.int64))
    )
    assert (
        np.array_equal(f, pairs[:, 0])
        and np.array_equal(s, pairs[:, 1])
        and np.array_equal(n, counts)
    )


def test_hash_and_sort_paths_of_dense_codes_agree():
    rng = np.random.default_rng(0)
    few = rng.integers(0, 10**12, size=50)[rng.integers(0, 50, size=100_000)]  # hash path
    many = rng.integers(0, 10**12, size=100_000)  # sort path
    for keys in (few, many):
        uniq, inverse = dense_codes(keys)
        ref_uniq, ref_inverse = np.unique(keys, return_inverse=True)
        assert np.array_equal(uniq, ref_uniq) and np.array_equal(inverse, ref_inverse)


@settings(max_examples=60, deadline=None)
@given(major=st.lists(st.integers(0, 4), max_size=200), data=st.data())
def test_pair_codes_and_stable_group(major, data):
    minor = data.draw(st.lists(st.integers(0, 9), min_size=len(major), max_size=len(major)))
    major, minor = np.asarray(major, dtype=np.int64), np.asarray(minor, dtype=np.int64)
    keys, codes = pair_dense_codes(major, minor, 5, 10)
    ref_keys, ref_codes = np.unique(major * 10 + minor, return_inverse=True)
    assert np.array_equal(keys, ref_keys) and np.array_equal(codes, ref_codes.ravel())
    indptr, order = stable_group(minor, 10)
    assert np.array_equal(order, np.argsort(minor, kind="stable")) and indptr[-1] == len(minor)


def test_dictionary_columns_encode_like_plain_strings():
    # dictionaries out of first-appearance order, unused entries, nulls, a shared dictionary
    shared = pa.array(["x", "y"])
    chunks = [
        pa.DictionaryArray.from_arrays(
            pa.array([2, 0, None, 2, 1], pa.int32()), pa.array(["z", "a", "m", "unused"])
        ),
        pa.DictionaryArray.from_arrays(pa.array([1, None, 0], pa.int32()), pa.array(["a", "q"])),
        pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), shared),
        pa.DictionaryArray.from_arrays(pa.array([1, 1], pa.int32()), shared),
    ]
    for parts in (chunks, chunks[2:]):
        values = pa.chunked_array(parts)
        labels, codes = _encode(values)
        plain_labels, plain_codes = _encode(values.cast(pa.string()))
        assert labels.values.equals(plain_labels.values) and np.array_equal(codes, plain_codes)


def test_stem_codes_agree_before_and_after_the_stems_are_cached():
    rows = [
        ("a", 0, "X", ["http://e.com/x?q=1", "http://e.com/x?q=2"]),
        ("b", 5, "X", ["http://e.com/y", "http://e.com/x"]),
    ]
    events = encode(make_posts(rows))
    before = stem_codes(events, events.link_url)
    events.stems()
    after = stem_codes(events, events.link_url)
    same = before[:, None] == before[None, :]
    assert np.array_equal(same, after[:, None] == after[None, :])
    assert same[0, 1] and same[0, 3] and not same[0, 2]

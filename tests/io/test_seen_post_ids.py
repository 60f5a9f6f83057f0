"""Duplicate post ids: the vectorised keys give the same verdicts as a set of strings."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from research.io.ingest import _SeenPostIds

# Ids of the kinds real exports hold, and the edge cases around the numeric fast path:
# 18-20 digits, int64's maximum and one past it, leading zeros, and non-numeric ids.
_ID = st.one_of(
    st.integers(0, 10**20).map(str),
    st.sampled_from(
        ["9223372036854775807", "9223372036854775808", "0", "00", "0123", "123", "", "x", "１２３"]
    ),
    st.integers(10**18, 2 * 10**18).map(str),
    st.text(max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_ID, max_size=30), max_size=5))
def test_keep_first_matches_a_set_of_strings(batches: list[list[str]]) -> None:
    seen, reference = _SeenPostIds(), set()
    for batch in batches:
        expected = []
        for post_id in batch:
            expected.append(post_id not in reference)
            reference.add(post_id)
        assert seen.keep_first(pa.array(batch, pa.string())).tolist() == expected


def test_nineteen_digit_tweet_ids_take_the_numeric_path() -> None:
    ids = pa.array([str(1_600_000_000_000_000_000 + i) for i in range(1000)])
    keys = _SeenPostIds._keys(ids)
    assert (keys >= 0).all() and keys[0] == 1_600_000_000_000_000_000  # numbers, not hashes

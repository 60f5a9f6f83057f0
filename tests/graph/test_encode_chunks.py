"""Encoding a posts table read in several chunks (Parquet row groups) equals encoding it whole."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from research.graph.events import encode_columns, encode_table
from research.simulate import simulate

_ARRAYS = (
    "post_account", "post_app", "post_time", "post_row", "link_post", "link_url", "link_domain",
)  # fmt: skip


def _chunked(table: pa.Table, cuts: list[int]) -> pa.Table:
    """The table as the slices between ``cuts``, one chunk each (an empty slice included)."""
    bounds = [0, *cuts, table.num_rows]
    pieces = [table.slice(lo, hi - lo) for lo, hi in itertools.pairwise(bounds)]
    return pa.concat_tables(pieces)


@pytest.mark.parametrize("platform_urls", [False, True])
def test_chunked_columns_encode_as_one(platform_urls):
    posts = simulate("weheartit", seed=3, n_posts=4_000).posts.table
    columns = encode_columns(include_platform_urls=platform_urls, include_reposts=True)
    whole = posts.select(columns).combine_chunks()
    # A blank URL and a blank domain in the last chunk: dropped alike in both.
    urls = whole.column("urls").to_pylist()
    domains = whole.column("domains").to_pylist()
    last = next(k for k in range(len(urls) - 1, -1, -1) if urls[k])
    urls[last] = ["", *urls[last]]
    domains[last] = ["", *domains[last]]
    whole = whole.set_column(
        whole.schema.get_field_index("urls"),
        "urls",
        pa.array(urls, whole.schema.field("urls").type),
    ).set_column(
        whole.schema.get_field_index("domains"),
        "domains",
        pa.array(domains, whole.schema.field("domains").type),
    )
    n = whole.num_rows
    chunked = _chunked(whole, [n // 3, n // 3, 2 * n // 3])
    assert chunked.column("urls").num_chunks == 4
    one = encode_table(whole, include_platform_urls=platform_urls)
    many = encode_table(chunked, include_platform_urls=platform_urls)
    for name in _ARRAYS:
        assert np.array_equal(getattr(one, name), getattr(many, name)), name
    for name in ("accounts", "apps", "urls", "domains"):
        assert getattr(one, name).values.equals(getattr(many, name).values), name
    assert "" not in many.urls.values.to_pylist()


def test_stems_of_distinct_urls_encode_as_all_stems():
    from research.graph.events import _encode, _encode_stems, strip_query

    rng = np.random.default_rng(0)
    pool = ["http://a.com/", "http://a.com/x", "http://b.com/y", "x", "", "?", "a?b?c", "a"]
    for _ in range(300):
        urls = {
            str(rng.choice(pool))
            + str(rng.choice(["", "1"]))
            + str(rng.choice(["", "?q", "?", "?r?s"]))
            for _ in range(int(rng.integers(1, 25)))
        }
        values = pa.array(sorted(urls, key=lambda _u: rng.random()), pa.string())
        labels, codes = _encode_stems(values)
        want_labels, want_codes = _encode(strip_query(values))
        assert labels.values.equals(want_labels.values)
        assert np.array_equal(codes, want_codes) and codes.dtype == want_codes.dtype

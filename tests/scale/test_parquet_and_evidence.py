"""Reading events straight from Parquet, lazy texts, and the evidence shortcuts that make
scoring fast: all equal to the plain computations."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from research.errors import InputFileError
from research.evidence import _templating, first_post_times
from research.graph.events import encode
from research.pipeline import run_pipeline
from research.posts import read_posts, write_posts
from research.rule import Rule
from research.scale import ParquetColumn, detect_parquet, read_events
from research.simulate import simulate
from tests.conftest import make_posts

EVENT_ARRAYS = (
    "post_account",
    "post_app",
    "post_time",
    "post_row",
    "link_post",
    "link_url",
    "link_domain",
)


def _same_events(a, b):
    for name in EVENT_ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("accounts", "apps", "urls", "domains"):
        assert getattr(a, name).values.equals(getattr(b, name).values), name


@pytest.fixture(scope="module")
def small():
    return simulate("multi_campaign", seed=2, n_posts=40_000)


def test_a_directory_of_parts_reads_like_the_concatenated_table(small, tmp_path):
    table = small.posts.table
    parts = tmp_path / "parts"
    parts.mkdir()
    bounds = [0, 9_000, 25_000, table.num_rows]
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        pq.write_table(table.slice(a, b - a), parts / f"part-{k}.parquet", row_group_size=4_000)
    events, texts = read_events(parts)
    _same_events(events, encode(read_posts(parts)))
    rows = np.array([8_999, 9_000, 0, table.num_rows - 1, 12_345])
    assert texts.take(rows).to_pylist() == table.column("text").take(pa.array(rows)).to_pylist()
    with pytest.raises(IndexError):
        texts.take(np.array([table.num_rows]))


def test_files_without_the_posts_schema_go_through_read_posts(tmp_path):
    posts = make_posts(
        [("a", 0, "X", ["http://e.com/1"]), ("b", 5, "", ["http://e.com/1"]), ("c", 9, "X", [])]
    )
    path = tmp_path / "subset.parquet"
    pq.write_table(
        posts.table.select(["post_id", "account_id", "timestamp", "app_name", "urls", "text"]), path
    )
    events, texts = read_events(path)
    _same_events(events, encode(read_posts(path)))
    assert texts.take(np.array([2])).to_pylist() == ["post 2"]
    with pytest.raises(InputFileError, match="no such file"):
        read_events(tmp_path / "missing.parquet")


def test_detect_parquet_equals_run_pipeline_on_the_table(small, tmp_path):
    path = write_posts(small.posts, tmp_path / "posts.parquet", row_group_size=7_000)
    from_disk = detect_parquet(path, seed=3)
    in_memory = run_pipeline(small.posts, seed=3)
    assert from_disk.clusters.equals(in_memory.clusters)
    assert from_disk.accounts.equals(in_memory.accounts)
    assert next(iter(from_disk.timings)) == "load" and "encode" not in from_disk.timings


def test_a_prefetched_column_serves_what_the_lazy_column_reads(tmp_path):
    rng = np.random.default_rng(5)
    words = ["one", "two", "", None, "three four", "five", "six é"]
    parts = tmp_path / "parts"
    parts.mkdir()
    values = []
    for k, n in enumerate([0, 37, 500]):  # an empty part, small and several-group parts
        texts = [words[i] for i in rng.integers(len(words), size=n)]
        if k == 2:
            texts += [f"unique {i}" for i in range(60)]
        values += texts
        pq.write_table(pa.table({"text": pa.array(texts, pa.string())}), parts / f"p{k}.parquet",
                       row_group_size=64)  # fmt: skip
    lazy = ParquetColumn.open(parts, "text")
    held = ParquetColumn.open(parts, "text").prefetch()
    over = ParquetColumn.open(parts, "text").prefetch(max_bytes=0)  # over budget: reads lazily
    assert held.holds_codes() and not over.holds_codes() and not lazy.holds_codes()
    rows = rng.integers(len(values), size=300)
    for column in (held, over):
        taken = column.take(rows)
        assert taken.type == pa.string() and taken.equals(lazy.take(rows))
        assert taken.to_pylist() == [values[r] for r in rows]
        assert column.take(np.zeros(0, np.int64)).equals(lazy.take(np.zeros(0, np.int64)))
        for asked in (["two", "", "unique 3", "absent"], ["five", None, "one"], []):
            value_set = pa.array(asked, pa.string())
            expected = lazy.index_in(value_set)
            found = column.index_in(value_set)
            assert found.dtype == expected.dtype and np.array_equal(found, expected)
    with pytest.raises(IndexError):
        held.take(np.array([len(values)]))


def test_detect_parquet_with_and_without_held_texts(small, tmp_path):
    path = write_posts(small.posts, tmp_path / "posts.parquet", row_group_size=7_000)
    found = {}
    for budget in (0, 2**30):
        events, texts = read_events(path, text_codes_bytes=budget)
        assert texts.holds_codes() == (budget > 0)
        found[budget] = run_pipeline(None, seed=3, events=events, texts=texts)
    assert found[0].clusters.equals(found[2**30].clusters)
    assert found[0].accounts.equals(found[2**30].accounts)


def test_first_post_times_with_posts_in_and_out_of_time_order():
    rows = [
        ("a", 50, "X", []),
        ("b", 10, "X", []),
        ("a", 5, "X", []),
        ("c", 70, "X", []),
        ("b", 3, "X", []),
    ]
    shuffled = encode(make_posts(rows))
    ordered = encode(make_posts(sorted(rows, key=lambda r: r[1])))
    for events in (shuffled, ordered):
        expected = np.full(events.n_accounts, np.iinfo(np.int64).max)
        np.minimum.at(expected, events.post_account, events.post_time)
        assert np.array_equal(first_post_times(events), expected)


def test_templating_finds_what_minhash_lsh_query_finds():
    from datasketch import MinHash, MinHashLSH

    from research.evidence import normalise_text, wilson_lower

    rng = np.random.default_rng(4)
    words = "diet pills lost pounds weeks unreal health secret year life changed try this".split()
    base = [" ".join(rng.choice(words, size=10)) for _ in range(6)]
    texts, accounts = [], []
    for k in range(120):
        text = (
            base[k % 6]
            if rng.random() < 0.6
            else " ".join(rng.choice(words, size=int(rng.integers(1, 12))))
        )
        texts.append(text + (" wow" if rng.random() < 0.3 else ""))
        accounts.append(f"u{int(rng.integers(0, 40))}")
    texts[7] = ""  # a text without shingles is neither a duplicate nor counted
    rows = [(a, k, "X", ["http://d.com/x"]) for k, a in enumerate(accounts)]
    posts = make_posts(rows)
    events = encode(posts)
    table = pa.array(texts)
    post_group = np.zeros(events.n_posts, dtype=np.int64)
    got = _templating(events, np.arange(events.n_posts), post_group, table, np.array([0]), Rule())[
        0
    ]

    # the reference: one MinHash per text, an LSH index, a query per text
    lsh, hashes = MinHashLSH(threshold=0.5, num_perm=64), []
    for i, text in enumerate(texts):
        tokens = normalise_text(text).split()
        shingles = (
            {" ".join(tokens[j : j + 3]).encode() for j in range(max(len(tokens) - 2, 1))}
            if tokens
            else set()
        )
        m = MinHash(num_perm=64, seed=1)
        if shingles:
            m.update_batch(list(shingles))
            lsh.insert(str(i), m)
        hashes.append((shingles, m))
    owners = events.post_account
    near = sum(
        1
        for i, (shingles, m) in enumerate(hashes)
        if shingles and any(owners[int(j)] != owners[i] for j in lsh.query(m) if int(j) != i)
    )
    assert 0 < near < len(texts)
    # The term is the lower end of the share's 95% Wilson interval, of 120 posts.
    assert got == pytest.approx(wilson_lower(np.array([near / len(texts)]), np.array([120]))[0])
    assert got < near / len(texts)


def _spy_on_row_groups(monkeypatch) -> list[int]:
    """The row groups read from now on, in order (every ParquetFile.read_row_group call)."""
    read: list[int] = []
    original = pq.ParquetFile.read_row_group

    def spy(self, i, *args, **kwargs):
        read.append(i)
        return original(self, i, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", spy)
    return read


def test_parquet_column_reads_only_the_row_groups_it_needs(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(100)]}), path, row_group_size=10)
    column = ParquetColumn.open(path, "text")
    read = _spy_on_row_groups(monkeypatch)
    assert column.take(np.array([95, 3, 97])).to_pylist() == ["t95", "t3", "t97"]
    assert sorted(read) == [0, 9]


def test_rows_kept_by_index_in_are_taken_without_reading(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": [f"t{i % 7}" for i in range(100)]}), path, row_group_size=10)
    column = ParquetColumn.open(path, "text")
    found = column.index_in(pa.array(["t3", "t5"]), keep=np.array([95, 3, 41, 3]))
    assert found.tolist() == [{3: 0, 5: 1}.get(i % 7, -1) for i in range(100)]
    read = _spy_on_row_groups(monkeypatch)
    assert column.take(np.array([41, 3, 95, 41])).to_pylist() == ["t6", "t3", "t4", "t6"]
    assert read == []
    # One row not kept: the row groups asked are read, and the values are the same.
    assert column.take(np.array([41, 50])).to_pylist() == ["t6", "t1"]
    assert sorted(read) == [4, 5]


def test_detect_parquet_reads_the_text_column_once_or_twice(small, tmp_path, monkeypatch):
    path = write_posts(small.posts, tmp_path / "posts.parquet", row_group_size=7_000)
    n_groups = pq.ParquetFile(path).metadata.num_row_groups
    passes = []
    original = ParquetColumn._row_groups

    def spy(self, indices):
        indices = list(indices)
        passes.append(len(indices))
        return original(self, indices)

    monkeypatch.setattr(ParquetColumn, "_row_groups", spy)
    from_disk = detect_parquet(path, seed=3)
    in_memory = run_pipeline(small.posts, seed=3)
    assert from_disk.clusters.equals(in_memory.clusters)
    # Held as codes: the prefetch's one pass, and nothing read after it.
    assert passes == [n_groups]
    passes.clear()
    events, texts = read_events(path, text_codes_bytes=0)
    lazy = run_pipeline(None, seed=3, events=events, texts=texts)
    assert lazy.clusters.equals(in_memory.clusters)
    # On disk: the small sites' texts, the verbatim look-up; the templating sample was kept
    # on the way.
    assert len(passes) == 2

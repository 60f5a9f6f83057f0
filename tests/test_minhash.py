"""research.minhash against datasketch (the reference it implements) and against Jaccard."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from research.minhash import bands, signatures


def _random_sets(seed: int, n: int) -> list[list[bytes]]:
    rng = np.random.default_rng(seed)
    return [
        [
            f"w{rng.integers(0, 60)} w{rng.integers(0, 60)}".encode()
            for _ in range(rng.integers(1, 25))
        ]
        for _ in range(n)
    ]


@pytest.mark.parametrize("n_perm", [16, 64, 128])
def test_signatures_are_datasketchs(n_perm):
    sets = _random_sets(n_perm, 300)
    ours = signatures(sets, n_perm, seed=1)
    theirs = np.stack([m.hashvalues for m in MinHash.bulk(sets, num_perm=n_perm, seed=1)])
    assert np.array_equal(ours, theirs)


def test_signature_agreement_estimates_jaccard():
    # Two sets sharing 60 of 100 elements (Jaccard 0.6) agree on about 60% of 1,024 minima.
    shared = [f"s{i}".encode() for i in range(60)]
    one = shared + [f"a{i}".encode() for i in range(20)]
    two = shared + [f"b{i}".encode() for i in range(20)]
    sig = signatures([one, two], 1024)
    assert abs(float((sig[0] == sig[1]).mean()) - 0.6) < 0.05


def test_signatures_refuse_an_empty_set():
    with pytest.raises(ValueError, match="at least one shingle"):
        signatures([[b"a"], []], 16)


@pytest.mark.parametrize("n_perm", [16, 32, 64, 128])
def test_bands_are_minhashlshs(n_perm):
    for threshold in np.round(np.arange(0.1, 0.91, 0.05), 2):
        try:
            theirs = tuple(MinHashLSH(threshold=float(threshold), num_perm=n_perm).hashranges)
        except ValueError:  # datasketch refuses a single band; ours returns it
            assert len(bands(float(threshold), n_perm)) == 1
            continue
        assert bands(float(threshold), n_perm) == theirs, threshold


def test_bands_move_with_the_threshold():
    # A higher threshold needs longer bands (fewer candidates below it).
    rows = [hi - lo for (lo, hi), *_ in (bands(t, 64) for t in (0.3, 0.5, 0.8))]
    assert rows == sorted(rows) and rows[0] < rows[-1]


def test_near_duplicates_join_templates_across_owners_only():
    from research.minhash import near_duplicates

    texts = [
        "Is this you in this photo?? lol",  # owner 0
        "OMG is this you in this photo lol #diet",  # owner 1: the same template, decorated
        "is this you in this photo",  # owner 0 again
        "double your crypto today, official event",  # owner 2
        "Double your crypto today official event !!",  # owner 2: one owner's own repeats
        "lunch with the team today at the new place",  # owner 3
        "",  # no words
    ]
    owners = np.array([0, 1, 0, 2, 2, 3, 4])
    got = near_duplicates(texts, owners, 0.5, 64)
    # One template across two owners; the crypto posts are one account's: no template.
    assert got.tolist() == [0, 0, 0, -1, -1, -1, -1]
    # The same answer whatever order the texts come in (templates numbered by first text).
    order = np.arange(len(texts))[::-1]
    again = near_duplicates([texts[i] for i in order], owners[order], 0.5, 64)
    assert (again[np.argsort(order)] >= 0).tolist() == (got >= 0).tolist()


def test_near_duplicates_chain_through_band_buckets():
    from research.minhash import near_duplicates

    # a~b and b~c share whole bands while a and c may not: one component.
    base = "the quick brown fox jumps over the lazy dog near the river bank"
    texts = [base, base + " today", "today " + base + " again"]
    got = near_duplicates(texts, np.array([0, 1, 2]), 0.5, 64)
    assert got.tolist() == [0, 0, 0]

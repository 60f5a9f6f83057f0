"""MinHash signatures and LSH banding for near-duplicate texts, in numpy.

The templating term (:func:`research.evidence._templating`) asks, for a sample of a group's
posts, which texts have a near-duplicate posted by another account: Jaccard similarity of
their word 3-shingles at least ``rule.template_similarity``. MinHash (Broder, "On the
resemblance and containment of documents", 1997) estimates it: each of ``n`` random
permutations of the shingle hashes keeps its minimum, and two texts agree on one minimum with
probability equal to their Jaccard similarity. Locality-sensitive hashing (Indyk & Motwani
1998; Leskovec, Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3) cuts the ``n`` values
into ``b`` bands of ``r`` rows and calls two texts candidates when they agree on a whole band;
``b`` and ``r`` are chosen to minimise the equally weighted areas of false positives below the
threshold and false negatives above it.

The scheme is the one datasketch 2.x uses by default ("affine32"), so signatures and bands are
the same values that library gives: a shingle's hash is the first four bytes of its SHA-1
(little-endian), mixed by the MurmurHash3 32-bit finaliser; permutation ``i`` maps ``h`` to
``a_i h + b_i mod 2^32`` with an odd ``a_i``, both drawn from ``RandomState(seed)``. Written
here rather than imported: the whole batch of a group's texts is one array product (no object
per text), importing datasketch cost ~0.4 s (it imports scipy.integrate for the banding), and
the result no longer depends on which datasketch release an install resolves (1.x defaulted to
another scheme, so the same pin gave other templating values).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence

import numpy as np

_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
_NON_WORD = re.compile(r"[^\w\s]+")
_DIGITS = re.compile(r"\w*\d\w*")


def normalise_text(text: str) -> str:
    """Lowercase, drop punctuation and tokens holding digits, collapse spaces.

    Examples
    --------
    >>> normalise_text("OMG!! Lost 10 pounds http://x.co/3f  <3")
    'omg lost pounds http x co'
    """
    text = _NON_WORD.sub(" ", text.lower())
    return " ".join(_DIGITS.sub(" ", text).split())


#: What :func:`normalise_texts` joins the texts with: a whitespace character, so that neither
#: pattern matches across it and lowercasing sees a word boundary there (as at a text's ends).
_JOIN = "\x1e"


def normalise_texts(texts: Sequence[str]) -> list[str]:
    """:func:`normalise_text` of each text, with the patterns run once over all the texts
    joined (a text holding the separator itself: one at a time). Calling the two patterns per
    text had been a third of the cost of signing 53,000 distinct texts at 10^7 posts.

    Examples
    --------
    >>> normalise_texts(["OMG!! Lost 10 pounds", "ΟΔΟΣ", ""])
    ['omg lost pounds', 'οδος', '']
    """
    if any(_JOIN in text for text in texts):
        return [normalise_text(text) for text in texts]
    joined = _DIGITS.sub(" ", _NON_WORD.sub(" ", _JOIN.join(texts).lower()))
    return [" ".join(part.split()) for part in joined.split(_JOIN)]


def shingles(text: str | None) -> set[bytes]:
    """The word 3-shingles of a text after :func:`normalise_text` (a text of one or two
    words is one shingle; an empty text none).

    Examples
    --------
    >>> sorted(shingles("Is this you?? lol"))
    [b'is this you', b'this you lol']
    """
    return _shingles_of(normalise_text(text or "").split())


def _shingles_of(words: list[str]) -> set[bytes]:
    if not words:
        return set()
    return {" ".join(words[j : j + 3]).encode() for j in range(max(len(words) - 2, 1))}


def shingle_hashes(shingles: Sequence[bytes]) -> np.ndarray:
    """The 32-bit hash of each shingle: SHA-1's first four bytes, little-endian, then mixed
    by the MurmurHash3 finaliser (an avalanching bijection of 32-bit integers).

    Examples
    --------
    >>> shingle_hashes([b"if i didn't", b"i didn't try"]).dtype
    dtype('uint32')
    """
    raw = b"".join(hashlib.sha1(s).digest()[:4] for s in shingles)
    h = np.frombuffer(raw, dtype="<u4").astype(np.uint32)
    s1, m1, s2, m2, s3 = _FMIX32
    h = h ^ (h >> np.uint32(s1))
    h = h * np.uint32(m1)
    h = h ^ (h >> np.uint32(s2))
    h = h * np.uint32(m2)
    return h ^ (h >> np.uint32(s3))


@functools.lru_cache(maxsize=8)
def permutations(n_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The multipliers (odd) and offsets of ``n_perm`` affine permutations of 32-bit hashes."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, n_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, n_perm, dtype=np.uint32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


#: Shingles per block of :func:`signatures` (their permuted hashes: 8 MB with 64 permutations).
_SIGNATURE_BLOCK = 2**15


def signatures(shingled: Sequence[Sequence[bytes]], n_perm: int, seed: int = 1) -> np.ndarray:
    """The MinHash signature (``n_perm`` values) of each non-empty set of shingles, one row each.

    Examples
    --------
    >>> sig = signatures([[b"a b c", b"b c d"], [b"b c d", b"a b c"], [b"x y z"]], 64)
    >>> sig.shape, bool((sig[0] == sig[1]).all()), float((sig[0] == sig[2]).mean())
    ((3, 64), True, 0.0)
    """
    sizes = np.array([len(s) for s in shingled], dtype=np.int64)
    if (sizes == 0).any():
        raise ValueError("every text needs at least one shingle")
    return _minima(shingle_hashes([s for text in shingled for s in text]), sizes, n_perm, seed)


def _minima(hashes: np.ndarray, sizes: np.ndarray, n_perm: int, seed: int) -> np.ndarray:
    """The signature of each text whose ``sizes[i]`` shingle hashes follow the previous text's
    in ``hashes`` (a shingle repeated within a text changes no minimum)."""
    if len(sizes) == 0:
        return np.zeros((0, n_perm), dtype=np.uint32)
    from research.graph.codes import blocks

    a, b = permutations(n_perm, seed)
    starts = np.cumsum(sizes) - sizes
    out = np.empty((len(sizes), n_perm), dtype=np.uint32)
    # Blocks of whole texts of about _SIGNATURE_BLOCK shingles: each block's permuted hashes
    # stay in cache (all at once, 100 MB at 10^7 posts, had taken twice as long).
    for lo, hi in itertools.pairwise(blocks(sizes, _SIGNATURE_BLOCK)):
        first, last = int(starts[lo]), int(starts[hi - 1] + sizes[hi - 1])
        permuted = hashes[first:last, None] * a[None, :]
        permuted += b[None, :]  # wraps: arithmetic mod 2^32
        out[lo:hi] = np.minimum.reduceat(permuted, starts[lo:hi] - first, axis=0)
    return out


@functools.lru_cache(maxsize=32)
def bands(threshold: float, n_perm: int) -> tuple[tuple[int, int], ...]:
    """The LSH bands ``(first row, last row + 1)`` for a similarity threshold ``t``: the ``b``
    bands of ``r`` rows (``b r <= n_perm``) that minimise half the false-positive area
    ``∫_0^t 1 - (1 - s^r)^b ds`` plus half the false-negative area ``∫_t^1 (1 - s^r)^b ds``
    (the first such ``(b, r)`` in order of ``b`` then ``r``). The integrands are polynomials of
    degree at most ``n_perm``: Gauss-Legendre quadrature with more than ``n_perm / 2`` nodes
    integrates them exactly, up to rounding.

    Examples
    --------
    >>> bands(0.5, 64)[:2], len(bands(0.5, 64))
    (((0, 4), (4, 8)), 14)
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    nodes, weights = np.polynomial.legendre.leggauss(n_perm // 2 + 2)

    def on(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        return lo + (hi - lo) * (nodes + 1.0) / 2.0, weights * (hi - lo) / 2.0

    (s_lo, w_lo), (s_hi, w_hi) = on(0.0, threshold), on(threshold, 1.0)
    best, choice = np.inf, (1, 1)
    for b in range(1, n_perm + 1):
        for r in range(1, n_perm // b + 1):
            false_pos = float(np.sum(w_lo * (1.0 - (1.0 - s_lo**r) ** b)))
            false_neg = float(np.sum(w_hi * (1.0 - s_hi**r) ** b))
            error = 0.5 * false_pos + 0.5 * false_neg
            if error < best:
                best, choice = error, (b, r)
    b, r = choice
    return tuple((i * r, (i + 1) * r) for i in range(b))


def text_signatures(
    texts: Sequence[str | None], n_perm: int, *, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The MinHash signature of each text's word 3-shingles (:func:`shingles`), each distinct
    normalised text signed once (templates repeat).

    Returns
    -------
    rows, sig
        Each text's row of ``sig`` (``-1``: no words), and the signatures of the distinct
        texts with words.

    Examples
    --------
    >>> rows, sig = text_signatures(["Is this you?", "is this YOU", "", "lunch at noon"], 16)
    >>> rows.tolist(), sig.shape
    ([0, 0, -1, 1], (2, 16))
    """
    # Each distinct text is normalised once (at 10^7 posts, 53,000 of the 100,000 small sites'
    # texts), in order of first occurrence: the normalised texts keep theirs.
    raw: dict[str | None, int] = {}
    of_raw = np.array([raw.setdefault(t, len(raw)) for t in texts], dtype=np.int64)
    distinct: dict[str, int] = {}
    normalised = normalise_texts([t or "" for t in raw])
    of_text = np.array([distinct.setdefault(t, len(distinct)) for t in normalised],
                       dtype=np.int64)[of_raw]  # fmt: skip
    shingled, sizes = _all_shingles(distinct)
    signed = np.flatnonzero(sizes > 0)
    row_of = np.full(len(sizes), -1, dtype=np.int64)
    row_of[signed] = np.arange(len(signed))
    sig = _minima(shingle_hashes(shingled), sizes[signed], n_perm, seed)
    return (row_of[of_text] if len(texts) else np.zeros(0, dtype=np.int64)), sig


def _all_shingles(normalised: Iterable[str]) -> tuple[list[bytes], np.ndarray]:
    """The shingles of every normalised text in one list, text after text (as :func:`shingles`,
    but a shingle repeated within a text is listed again), and how many each text has (0: no
    words). One flat list and no set per text: the hashes and minima are of flat arrays."""
    flat: list[bytes] = []
    sizes: list[int] = []
    for text in normalised:
        words = text.encode().split()
        k = max(len(words) - 2, 1) if words else 0
        flat.extend(b" ".join(words[j : j + 3]) for j in range(k))
        sizes.append(k)
    return flat, np.array(sizes, dtype=np.int64)


def row_codes(values: np.ndarray) -> np.ndarray:
    """A code per row of a 2-D array of values below 2^32, equal for equal rows (``0..k-1`` in
    order of first occurrence). Column by column, the codes so far and the next column make one
    integer key, hashed (``pandas.factorize``): at 10^7 posts, 5 ms a band where
    ``np.unique(axis=0)`` (a sort of the rows as opaque bytes) took 33 ms.

    Examples
    --------
    >>> row_codes(np.array([[2, 1], [1, 5], [2, 1]], dtype=np.uint32)).tolist()
    [0, 1, 0]
    """
    import pandas as pd

    codes = np.zeros(len(values), dtype=np.int64)
    for column in np.asarray(values).T:  # codes < 2^31: the key fits in 64 bits
        codes = pd.factorize((codes << 32) | column.astype(np.int64))[0].astype(np.int64)
    return codes


def near_duplicates(
    texts: Sequence[str | None],
    owners: np.ndarray,
    threshold: float,
    n_perm: int,
    *,
    seed: int = 1,
) -> np.ndarray:
    """Templates: the connected components of texts joined when their signatures agree on a
    whole LSH band (:func:`bands` of ``threshold``), kept where their texts come from two
    owners or more.

    Returns
    -------
    ndarray
        A template number per text, ``0..k-1`` in order of each template's first text, or
        ``-1`` (no near-duplicate from another owner, or no words).

    Examples
    --------
    >>> texts = ["Is this you in this photo?? lol", "OMG is this you in this photo lol",
    ...          "lunch with the team today", "is this you in this photo", None]
    >>> near_duplicates(texts, np.array([0, 1, 2, 0, 3]), 0.5, 64).tolist()
    [0, 0, -1, 0, -1]
    """
    from research.graph.codes import components, distinct_pairs, group_sizes

    out = np.full(len(texts), -1, dtype=np.int64)
    row, sig = text_signatures(texts, n_perm, seed=seed)
    has = np.flatnonzero(row >= 0)
    if len(has) < 2:
        return out
    # Texts and band buckets are the nodes; each text joins its bucket of every band. (How the
    # buckets are numbered changes no component, nor the components' numbers: see below.)
    n, offset, rows, cols = len(has), len(has), [], []
    for lo, hi in bands(threshold, n_perm):
        bucket = row_codes(sig[:, lo:hi])[row[has]]
        rows.append(np.arange(n))
        cols.append(offset + bucket)
        offset += int(bucket.max()) + 1
    # Every bucket holds a text, so each component's lowest node is a text: the components
    # of the texts are numbered 0..k-1 in order of their first text.
    comp = components(offset, np.concatenate(rows), np.concatenate(cols))[:n]
    owner = np.asarray(owners)[has]
    n_comp = int(comp.max()) + 1
    shared = group_sizes(distinct_pairs(comp, owner, int(owner.max()) + 1)[0], n_comp) >= 2
    kept = np.cumsum(shared) - 1
    out[has] = np.where(shared[comp], kept[comp], -1)
    return out

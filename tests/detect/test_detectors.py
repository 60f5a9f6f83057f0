"""Contract test every community detector must pass, plus Leiden specifics."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from research.detect import DETECTORS, detect
from research.detect.clustering import canonical_membership
from research.detect.communities import count_disconnected
from research.errors import ConfigError
from research.graph.base import Projection
from research.graph.events import Labels


def _planted(n_blocks=4, size=12, p_in=0.8, p_out=0.01, seed=0):
    rng = np.random.default_rng(seed)
    n = n_blocks * size
    i, j = np.triu_indices(n, 1)
    same = (i // size) == (j // size)
    keep = rng.random(len(i)) < np.where(same, p_in, p_out)
    labels = Labels(pa.array([f"a{k}" for k in range(n + 3)]))  # three isolated accounts
    return Projection(
        labels, i[keep], j[keep], np.ones(keep.sum()), np.ones(keep.sum(), np.int32), {}, {}
    ), size


PARAMS = {"leiden": {"objective": "modularity"}}


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_contract_valid_clustering_reproducible_and_recovers_blocks(name):
    projection, size = _planted()
    state = random.getstate()
    first = detect(projection, name, seed=7, **PARAMS.get(name, {}))
    second = detect(projection, name, seed=7, **PARAMS.get(name, {}))
    assert random.getstate() == state  # the detector's seeding does not leak
    assert np.array_equal(first.membership, second.membership)
    m = first.membership
    assert len(m) == projection.n_accounts and m.min() >= -1
    assert (m[-3:] == -1).all()  # isolated accounts are in no cluster
    assert np.array_equal(np.unique(m[m >= 0]), np.arange(first.n_clusters))
    assert first.method == name and first.seed == 7
    if name != "components":  # components merges blocks joined by a stray edge
        blocks = np.arange(4 * size) // size
        for b in range(4):
            _labels, counts = np.unique(m[:48][blocks == b], return_counts=True)
            assert counts.max() >= size - 1


def test_leiden_cpm_resolution_is_explicit_and_never_disconnected():
    projection, _ = _planted(p_out=0.05)
    coarse = detect(projection, "leiden", seed=0, objective="CPM", resolution=0.05)
    fine = detect(projection, "leiden", seed=0, objective="CPM", resolution=0.5)
    assert coarse.n_clusters <= fine.n_clusters
    assert coarse.disconnected == 0 and fine.disconnected == 0
    with pytest.raises(ConfigError, match="objective must be"):
        detect(projection, "leiden", objective="surprise")


def test_count_disconnected_sees_a_split_cluster():
    labels = Labels(pa.array(list("abcd")))
    p = Projection(
        labels, np.array([0, 2]), np.array([1, 3]), np.ones(2), np.ones(2, np.int32), {}, {}
    )
    assert count_disconnected(p, np.array([0, 0, 0, 0])) == 1
    assert count_disconnected(p, np.array([0, 0, 1, 1])) == 0


def test_canonical_membership_orders_by_size_and_drops_small():
    assert canonical_membership(np.array([3, 3, 1, 1, 1, 9]), min_size=2).tolist() == [
        1,
        1,
        0,
        0,
        0,
        -1,
    ]


def test_unknown_detector_and_bad_parameter():
    projection, _ = _planted()
    with pytest.raises(ConfigError, match="unknown community detector 'nope'"):
        detect(projection, "nope")
    with pytest.raises(ConfigError, match="louvain"):
        detect(projection, "louvain", bogus=1)


def test_iterated_louvain_continues_from_its_own_partition_and_never_loses_modularity():
    """Iterated Louvain (Traag et al. 2019) starts each run from the previous partition: its
    modularity is at least that of one run, it is reproducible by seed, and a fixed number of
    iterations stops early once nothing improves."""
    from research.detect.lfr import LFRSpec, lfr_graph

    graph = lfr_graph(LFRSpec(n=600, mu=0.5, max_degree=40), seed=0).projection
    once = detect(graph, "louvain", seed=2, min_size=1)
    iterated = detect(graph, "louvain", seed=2, min_size=1, iterations=-1)
    assert iterated.quality >= once.quality - 1e-12
    assert iterated.quality > once.quality  # at this mixing the second run finds better moves
    again = detect(graph, "louvain", seed=2, min_size=1, iterations=-1)
    assert np.array_equal(again.membership, iterated.membership)
    capped = detect(graph, "louvain", seed=2, min_size=1, iterations=50)
    assert np.array_equal(capped.membership, iterated.membership)
    with pytest.raises(ConfigError, match="iterations"):
        detect(graph, "louvain", iterations=0)

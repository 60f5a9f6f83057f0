"""Consensus over seeds (with stability per cluster) and the multiplex detector (layers kept apart)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from research.detect import detect
from research.detect.consensus import cluster_stability, consensus
from research.detect.multiplex import detect_multiplex, restrict_to
from research.errors import ConfigError
from research.graph.base import Projection
from research.graph.events import Labels
from research.graph.projection import combine
from research.methods import JOINT_GRAPH
from research.pipeline import PipelineSpec, run_pipeline


def _blocks(sizes, p_in=0.9, p_out=0.0, seed=0, offset=0, n=None):
    rng = np.random.default_rng(seed)
    total = n or offset + sum(sizes)
    block = np.full(total, -1)
    start = offset
    for b, size in enumerate(sizes):
        block[start : start + size] = b
        start += size
    i, j = np.triu_indices(total, 1)
    same = (block[i] == block[j]) & (block[i] >= 0)
    keep = rng.random(len(i)) < np.where(same, p_in, p_out * (block[i] >= 0) * (block[j] >= 0))
    labels = Labels(pa.array([f"a{k}" for k in range(total)]))
    return Projection(
        labels, i[keep], j[keep], np.ones(keep.sum()), np.ones(keep.sum(), np.int32), {}, {}
    ), block


def test_consensus_of_clear_blocks_is_the_blocks_with_full_stability():
    projection, block = _blocks([10, 10, 10], p_out=0.02)
    result = consensus(projection, "leiden", seeds=range(5), objective="modularity")
    m = result.clustering.membership
    assert len(result.runs) == 5 and result.clustering.method == "consensus:leiden"
    for b in range(3):
        assert len(set(m[block == b])) == 1 and m[block == b][0] >= 0
    assert np.allclose(result.stability, 1.0)
    assert result.agreement.shape == (projection.n_edges,)


def test_stability_is_low_for_a_cluster_the_runs_disagree_on():
    # two runs split the same cluster differently
    membership = np.array([0, 0, 0, 0, 0, 0])
    runs = [np.array([0, 0, 0, 1, 1, 1]), np.array([0, 0, 0, 0, 0, 0])]
    assert cluster_stability(membership, runs).tolist() == [pytest.approx((6 / 15 + 1) / 2)]
    noisy, _ = _blocks([8, 8, 8, 8], p_in=0.5, p_out=0.15, seed=3)
    result = consensus(noisy, "louvain", seeds=range(8))
    assert result.stability.min() < 1.0  # Louvain seeds disagree on a noisy graph, and it shows


def test_multiplex_finds_groups_that_live_in_different_layers_and_is_seeded():
    a, block_a = _blocks([12], offset=0, n=40, seed=1)
    b, block_b = _blocks([12], offset=20, n=40, seed=2)
    found = detect_multiplex([a, b], objective="CPM", resolution=0.2, seed=4)
    again = detect_multiplex([a, b], objective="CPM", resolution=0.2, seed=4)
    assert np.array_equal(found.membership, again.membership)
    m = found.membership
    assert len(set(m[block_a == 0])) == 1 and len(set(m[block_b == 0])) == 1 and m[0] != m[20]
    assert found.disconnected == 0 and found.method == "leiden_multiplex"
    with pytest.raises(ConfigError, match="unknown parameter"):
        detect_multiplex([a, b], bogus=1)
    summed = combine([a, b])
    kept = summed.select(summed.rows < 10)
    assert restrict_to(a, kept).n_edges == int(np.count_nonzero(a.rows < 10))


def test_pipeline_multiplex_and_consensus_options(weheartit):
    with pytest.raises(ConfigError, match="needs detector 'leiden'"):
        PipelineSpec(multiplex="layers", detector="louvain")
    layers = PipelineSpec.from_dict({**JOINT_GRAPH, "multiplex": "layers"})
    layered = run_pipeline(weheartit.posts, layers, seed=0)
    assert layered.flagged["top_app"].tolist() == ["We Heart It"]
    agreed = run_pipeline(weheartit.posts, PipelineSpec(consensus_runs=3), seed=0)
    assert agreed.flagged["stability"].iloc[0] > 0.9
    assert agreed.clustering.method == "consensus:leiden"


def test_leiden_never_returns_a_disconnected_community_across_seeds():
    projection, _ = _blocks([6, 6, 6, 6, 6, 6], p_in=0.6, p_out=0.08, seed=7)
    for seed in range(5):
        assert detect(projection, "leiden", seed=seed, objective="modularity").disconnected == 0
        assert (
            detect(projection, "leiden", seed=seed, objective="CPM", resolution=0.2).disconnected
            == 0
        )


def test_multiplex_layer_weights_are_dyadic_so_rounding_noise_cannot_drive_moves():
    from research.detect.multiplex import _WEIGHT_QUANTUM, _layer_graph

    labels = Labels(pa.array(["a", "b", "c"]))
    layer = Projection(
        labels,
        np.array([0, 1]),
        np.array([1, 2]),
        np.array([np.log(7.0), 0.3]),
        np.ones(2, np.int32),
        {},
        {},
    )
    weights = np.array(_layer_graph(layer, np.arange(3)).es["weight"])
    assert np.all(weights / _WEIGHT_QUANTUM == np.round(weights / _WEIGHT_QUANTUM))
    assert np.allclose(weights, layer.weight, atol=_WEIGHT_QUANTUM)


@pytest.mark.slow
def test_multiplex_finishes_where_leidenalg_looped_on_raw_idf_weights():
    # leidenalg 0.12 never returned on this platform's layers with unrounded weights (issue #126).
    from research.evaluate import evaluate
    from research.simulate import simulate

    sim = simulate("weheartit", seed=3, overrides={"campaign": {"n_victims": 10}})
    layers = PipelineSpec.from_dict({**JOINT_GRAPH, "multiplex": "layers"})
    detection = run_pipeline(sim.posts, layers, seed=3)
    assert detection.clustering.n_clusters > 0
    assert evaluate(detection.accounts, sim.truth)["fpr"] <= 0.001

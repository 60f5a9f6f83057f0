from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from research.errors import ConfigError
from research.graph.base import Projection
from research.graph.events import Labels
from research.graph.filters import apply_filters, disparity, top_quantile
from research.graph.views import to_igraph, to_networkx


def _projection(rows, cols, weights, n=6):
    return Projection(
        Labels(pa.array([f"u{i}" for i in range(n)])),
        np.array(rows),
        np.array(cols),
        np.array(weights, float),
        np.ones(len(rows), np.int32),
        {},
        {},
    )


def test_top_quantile_keeps_heaviest_edges():
    p = _projection([0, 0, 1, 2], [1, 2, 2, 3], [1, 2, 3, 10])
    assert top_quantile(p, 0.75).weight.tolist() == [10.0]


def test_disparity_keeps_the_dominant_tie_of_a_hub():
    # node 0 has one strong tie (to 1) and four weak ones
    p = _projection([0, 0, 0, 0, 0], [1, 2, 3, 4, 5], [50, 1, 1, 1, 1])
    kept = disparity(p, alpha=0.05)
    assert (0, 1) in set(zip(kept.rows.tolist(), kept.cols.tolist(), strict=True))
    # leaves keep their only edge (degree one), so the backbone drops nothing here
    assert kept.n_edges == 5


def test_apply_filters_by_name_and_errors():
    p = _projection([0, 1], [1, 2], [1, 5])
    assert apply_filters(p, [{"name": "min_weight", "w": 2}]).weight.tolist() == [5.0]
    with pytest.raises(ConfigError, match="unknown edge filter 'bogus'"):
        apply_filters(p, [{"name": "bogus"}])
    with pytest.raises(ConfigError, match="min_weight"):
        apply_filters(p, [{"name": "min_weight", "nope": 1}])


def test_igraph_and_networkx_views_agree():
    p = _projection([0, 2], [1, 5], [1.5, 2.0])
    g = to_igraph(p)
    nxg = to_networkx(p)
    assert g.vs["name"] == ["u0", "u1", "u2", "u5"] and set(g.vs["kind"]) == {"account"}
    assert sorted(nxg.nodes) == sorted(g.vs["name"])
    assert nxg["u2"]["u5"]["weight"] == 2.0 == g.es[g.get_eid(2, 3)]["weight"]

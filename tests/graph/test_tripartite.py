from __future__ import annotations

import numpy as np

from research.graph.events import encode
from research.graph.tripartite import tripartite
from tests.conftest import make_posts


def _graph():
    posts = make_posts(
        [
            ("a", 0, "We Heart It", ["http://diet.com/1"]),
            ("a", 10, "We Heart It", ["http://diet.com/1", "http://news.com/x"]),
            ("b", 20, "We Heart It", ["http://diet.com/1"]),
            ("b", 30, "Twitter for iPhone", ["http://news.com/x"]),
            ("c", 40, "", ["http://news.com/x"]),  # no app: a link, but no app edge
            ("d", 50, "TweetDeck", []),
        ]
    )
    return tripartite(encode(posts))


def test_biadjacency_counts_share_one_account_index():
    g = _graph()
    assert [g.accounts[i] for i in range(4)] == ["a", "b", "c", "d"]
    apps = [g.apps[i] for i in range(len(g.apps))]
    urls = [g.urls[i] for i in range(len(g.urls))]
    app = {name: i for i, name in enumerate(apps)}
    url = {name: i for i, name in enumerate(urls)}
    assert g.account_app.shape == (4, 3) and g.account_url.shape == (4, 2)
    assert (
        g.account_app[0, app["We Heart It"]] == 2
        and g.account_app[2].nnz == 0
        and g.account_app[3, app["TweetDeck"]] == 1
    )
    assert (
        g.account_url[0, url["http://diet.com/1"]] == 2
        and g.account_url[2, url["http://news.com/x"]] == 1
    )
    # App-URL: links through each app (c's app-less link is not there).
    assert g.app_url[app["We Heart It"], url["http://diet.com/1"]] == 3
    assert g.app_url[app["We Heart It"], url["http://news.com/x"]] == 1
    assert g.app_url.sum() == 5
    # Sparse products give projections: a and b share the diet link.
    assert g.co_url()[0, 1] == 2 and g.co_url()[0, 0] == 0


def test_restrict_keeps_only_the_accounts_footprint():
    g = _graph()
    sub = g.restrict(np.array([1, 0]))
    assert [sub.accounts[i] for i in range(2)] == ["b", "a"]
    assert sorted(sub.apps[i] for i in range(len(sub.apps))) == [
        "Twitter for iPhone",
        "We Heart It",
    ]
    assert sub.account_url.sum() == 5 and sub.app_url.sum() == 5
    c_only = g.restrict(np.array([2]))
    assert c_only.shape == (1, 0, 1) and c_only.app_url.nnz == 0


def test_igraph_and_networkx_views_agree():
    g = _graph()
    ig_graph = g.to_igraph()
    nx_graph = g.to_networkx()
    assert ig_graph.vcount() == nx_graph.number_of_nodes() == 4 + 3 + 2
    assert (
        ig_graph.ecount()
        == nx_graph.number_of_edges()
        == g.account_app.nnz + g.account_url.nnz + g.app_url.nnz
    )
    assert sorted(ig_graph.vs["kind"]) == sorted(k for _, k in nx_graph.nodes(data="kind"))
    for edge in ig_graph.es:
        s, t = ig_graph.vs[edge.source], ig_graph.vs[edge.target]
        data = nx_graph.edges[f"{s['kind']}:{s['name']}", f"{t['kind']}:{t['name']}"]
        assert data == {"layer": edge["layer"], "weight": edge["weight"]}
    assert nx_graph.edges["account:a", "app:We Heart It"]["weight"] == 2.0

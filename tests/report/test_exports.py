"""Graph exports load back into networkx and igraph with the same nodes, edges and attributes."""

from __future__ import annotations

import math

import igraph as ig
import networkx as nx
import pandas as pd
import pytest

from research.cli import main
from research.errors import ConfigError
from research.report import export_graph, graph_tables, write_exports


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-12)
    return a == b


def _expected(nodes: pd.DataFrame, edges: pd.DataFrame):
    node_attrs = {
        row["id"]: {k: v for k, v in row.items() if k != "id"} for row in nodes.to_dict("records")
    }
    edge_attrs = {
        frozenset((row["source"], row["target"])): {
            k: v for k, v in row.items() if k not in ("source", "target")
        }
        for row in edges.to_dict("records")
    }
    return node_attrs, edge_attrs


def _check(node_attrs, edge_attrs, got_nodes, got_edges):
    assert set(got_nodes) == set(node_attrs)
    assert set(got_edges) == set(edge_attrs)
    for key, attrs in node_attrs.items():
        for name, value in attrs.items():
            assert _same(value, got_nodes[key][name]), (key, name, value, got_nodes[key][name])
    for key, attrs in edge_attrs.items():
        for name, value in attrs.items():
            assert _same(value, got_edges[key][name]), (key, name, value, got_edges[key][name])


@pytest.mark.parametrize("graph", ["coaction", "tripartite"])
def test_graphml_and_gexf_round_trip_through_networkx_and_igraph(small, tmp_path, graph):
    nodes, edges, _ = graph_tables(small.posts, small.detection, graph=graph, scope="flagged")
    assert len(nodes) and len(edges)
    node_attrs, edge_attrs = _expected(nodes, edges)
    files = write_exports(
        small.posts, small.detection, tmp_path, "graphml,gexf", graph=graph, scope="flagged"
    )
    graphml, gexf = (tmp_path / "graph.graphml", tmp_path / "graph.gexf")
    assert files == [graphml, gexf]

    for loaded in (nx.read_graphml(graphml), nx.read_gexf(gexf)):
        nodes_data = dict(loaded.nodes(data=True))
        edges_data = {frozenset((u, v)): d for u, v, d in loaded.edges(data=True)}
        _check(node_attrs, edge_attrs, nodes_data, edges_data)

    # igraph reads GraphML itself (node keys in the "id" attribute); GEXF it reads through networkx.
    native = ig.Graph.Read_GraphML(str(graphml))
    via_nx = ig.Graph.from_networkx(nx.read_gexf(gexf))
    for g, key in ((native, "id"), (via_nx, "_nx_name")):
        got_nodes = {v[key]: v.attributes() for v in g.vs}
        names = g.vs[key]
        got_edges = {frozenset((names[e.source], names[e.target])): e.attributes() for e in g.es}
        _check(node_attrs, edge_attrs, got_nodes, got_edges)


def test_exports_carry_verdicts_and_evidence(small):
    nodes, edges, attributes = graph_tables(small.posts, small.detection, scope="clustered")
    flagged = small.detection.flagged
    cluster = int(flagged["cluster"].iloc[0])
    members = nodes[nodes["cluster"] == cluster]
    assert len(members) == int(flagged["size"].iloc[0]) and members["flagged"].all()
    assert set(members["cluster_top_app"]) == {"We Heart It"}
    assert (members["cluster_exclusivity"] == flagged["exclusivity"].iloc[0]).all()
    assert not nodes.loc[nodes["cluster"] != cluster, "flagged"].any()
    # Edges inside the flagged cluster are marked with it; the projection is the method's own.
    assert (edges["cluster"] == cluster).sum() > 0 and "own projection" in attributes["projection"]
    trip, trip_edges, _ = graph_tables(small.posts, small.detection, graph="tripartite")
    assert set(trip["kind"]) == {"account", "app", "url"} and set(trip_edges["layer"]) == {
        "account-app",
        "account-url",
        "app-url",
    }
    app = trip[(trip["kind"] == "app") & (trip["name"] == "We Heart It")].iloc[0]
    assert app["n_flagged_accounts"] == len(members)


def test_exports_are_byte_stable_and_xml_safe(small, tmp_path):
    nodes = pd.DataFrame(
        {"id": ["a\x0b", "b"], "kind": "account", "name": ["x\x00<y>&", "z"], "cluster": [0, 0]}
    )
    edges = pd.DataFrame({"source": ["a\x0b"], "target": ["b"], "weight": [1.5]})
    for fmt in ("graphml", "gexf"):
        first = export_graph(nodes, edges, tmp_path / f"1.{fmt}")[0].read_bytes()
        second = export_graph(nodes, edges, tmp_path / f"2.{fmt}")[0].read_bytes()
        assert first == second and b"lastmodifieddate" not in first
        loaded = (
            nx.read_graphml(tmp_path / "1.graphml")
            if fmt == "graphml"
            else nx.read_gexf(tmp_path / "1.gexf")
        )
        assert loaded.nodes["a"]["name"] == "x<y>&"
    written = export_graph(nodes, edges, tmp_path / "g.csv")
    assert [p.name for p in written] == ["g_nodes.csv", "g_edges.csv"]
    assert pd.read_csv(written[1])["weight"].tolist() == [1.5]
    with pytest.raises(ConfigError, match="unknown export format"):
        export_graph(nodes, edges, tmp_path / "g.pdf")


def test_cli_detect_writes_report_and_exports(tmp_path):
    data = tmp_path / "sim"
    assert (
        main(
            [
                "simulate",
                "--preset",
                "weheartit",
                "--seed",
                "0",
                "--n-posts",
                "30000",
                "--format",
                "twitter-v1",
                "--out",
                str(data),
                "--quiet",
            ]
        )
        == 0
    )
    out = tmp_path / "out"
    # A folder of raw tweets with truth beside them: the truth tables are not read as posts.
    assert (
        main(
            [
                "detect",
                str(data),
                "--out",
                str(out),
                "--quiet",
                "--export",
                "graphml,csv",
                "--export-scope",
                "flagged",
            ]
        )
        == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert {
        "report.html",
        "graph.graphml",
        "graph_nodes.csv",
        "graph_edges.csv",
        "metrics.json",
    } <= set(names)
    assert "graph.gexf" not in names
    assert "Against ground truth" in (out / "report.html").read_text()
    assert main(["detect", str(data), "--out", str(out), "--quiet", "--export", "graphml,pdf"]) == 5

"""The notebook API: load, look, detect, explain, subgraph, evaluate, report, export."""

from __future__ import annotations

import subprocess
import sys

import igraph as ig
import networkx as nx
import numpy as np
import pytest

import research
from research.errors import ConfigError
from research.simulate import simulate
from tests.conftest import REPO
from tests.report.conftest import APP_PAYLOAD, TEXT_PAYLOAD, hostile_posts


@pytest.fixture(scope="module")
def sim():
    return simulate("weheartit", seed=0, n_posts=30_000)


@pytest.fixture(scope="module")
def data(sim):
    return research.from_posts(sim.posts, sim.truth)


@pytest.fixture(scope="module")
def found(data):
    return data.detect(seed=0)


def test_import_research_is_cheap_and_the_api_loads_on_use():
    code = "import sys, research; assert 'pandas' not in sys.modules; research.Dataset; assert 'pandas' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    with pytest.raises(AttributeError):
        _ = research.no_such_thing


def test_load_reads_every_way_in_with_its_truth(sim, tmp_path):
    from research.cli import main

    parquet = sim.write(tmp_path / "parquet")
    assert (
        main(
            [
                "simulate",
                "--n-posts",
                "30000",
                "--format",
                "twitter-v1",
                "--out",
                str(tmp_path / "v1"),
                "--quiet",
            ]
        )
        == 0
    )
    by_folder = research.load(parquet)
    raw_folder = research.load(tmp_path / "v1")
    raw_file = research.load(tmp_path / "v1" / "tweets.jsonl", truth=tmp_path / "v1")
    no_truth = research.load(tmp_path / "v1" / "tweets.jsonl")
    assert len(by_folder) == len(raw_folder) == len(raw_file) == len(sim.posts)
    assert (
        by_folder.truth is not None and raw_folder.truth is not None and raw_file.truth is not None
    )
    assert no_truth.truth is None
    with pytest.raises(ConfigError, match="no ground truth"):
        no_truth.detect().evaluate()


def test_a_table_without_is_repost_is_noted_in_the_summary_and_escaped_in_html(sim, tmp_path):
    import pyarrow.parquet as pq

    folder = sim.write(tmp_path / "sim")
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(folder / "posts.parquet").drop_columns(["is_repost"]), bare)
    loaded = research.load(bare)
    notes = loaded.summary()["notes"]
    assert len(notes) == 1 and notes[0].startswith("the input has no is_repost column")
    assert "Note: the input has no is_repost column" in loaded._repr_html_()
    assert research.load(folder).summary()["notes"] == []


def test_views_add_up(data):
    ev = data.events
    accounts, apps = data.accounts(), data.apps()
    assert accounts["posts"].sum() == len(data) and accounts["posts"].is_monotonic_decreasing
    assert (
        accounts["links"].sum()
        == data.urls()["links"].sum()
        == data.urls("domain")["links"].sum() + int((ev.link_domain < 0).sum())
    )
    assert apps["posts"].sum() == len(data) - data.summary()["posts_without_app"]
    assert (accounts["first_post"] <= accounts["last_post"]).all()
    whi = apps[apps["app"] == "We Heart It"].iloc[0]
    assert whi["accounts"] > 0 and whi["links"] > 0
    assert data.activity("1D")["posts"].sum() == len(data)
    by_app = data.activity("6h", by="app", top=3)
    assert list(by_app.columns)[:3] == apps["app"].head(
        3
    ).tolist() and by_app.to_numpy().sum() == len(data)
    with pytest.raises(ConfigError):
        data.urls("stem")


def test_detect_explain_and_evaluate_find_the_campaign(found):
    assert found.flagged["top_app"].tolist() == ["We Heart It"]
    cluster = int(found.flagged["cluster"].iloc[0])
    why = found.explain(cluster)
    assert why.flagged and str(why).startswith(f"Cluster {cluster} (") and "We Heart It" in str(why)
    assert why.evidence["exclusivity"] > 0.9 and why.evidence["size"] == len(found.members(cluster))
    # During the attack the app dominates; before it, some members had used it already (an abused app).
    assert why.apps["app"].iloc[0] == "We Heart It" and why.apps["share"].iloc[0] > 0.5
    assert "We Heart It" in why.apps_before["app"].tolist()
    assert why.domains["domain"].iloc[0].endswith("diet-pills.com")
    assert why.timeline["top_site"].sum() > 0 and (why.timeline.index >= why.span[0]).any()
    assert len(why.sample) and set(why.sample["app"]) == {"We Heart It"}
    metrics = found.evaluate()
    assert metrics["recall"] == 1.0 and metrics["precision"] == 1.0
    assert (
        found.flagged_accounts["name"].notna().all()
        and len(found.flagged_accounts) == metrics["n_flagged"]
    )
    with pytest.raises(ConfigError, match="no cluster 99999"):
        found.explain(99_999)


def test_subgraphs_carry_kind_and_name(found):
    cluster = int(found.flagged["cluster"].iloc[0])
    size = int(found.flagged["size"].iloc[0])
    g = found.subgraph(cluster)
    assert isinstance(g, ig.Graph)
    kinds = g.vs["kind"]
    assert kinds.count("account") == size and {"app", "url"} <= set(kinds)
    assert "We Heart It" in g.vs.select(kind="app")["name"]
    assert set(g.vs.select(kind="account")["cluster"]) == {cluster}
    n = found.subgraph(cluster, "networkx")
    assert (
        isinstance(n, nx.Graph)
        and n.number_of_nodes() == g.vcount()
        and n.number_of_edges() == g.ecount()
    )
    members = found.subgraph(cluster, tripartite=False)
    assert (
        members.vcount() == size and set(members.vs["kind"]) == {"account"} and members.ecount() > 0
    )
    floor = next(f["w"] for f in found.params["filters"] if f["name"] == "min_weight")
    assert min(members.es["weight"]) >= floor  # the method's edge filter
    members_nx = found.subgraph(cluster, "networkx", tripartite=False)
    assert members_nx.number_of_edges() == members.ecount()
    with pytest.raises(ConfigError):
        found.subgraph(cluster, "graphtool")


def test_params_reach_the_method(data):
    coarse = data.detect(seed=0, detector_params={"objective": "CPM", "resolution": 50.0})
    assert coarse.params["detector_params"]["resolution"] == 50.0
    assert coarse.summary()["n_clusters"] < data.detect(seed=0).summary()["n_clusters"]
    with pytest.raises(ConfigError, match="unknown key"):
        data.detect(no_such_parameter=1)


def test_report_and_export_from_the_api(found, tmp_path):
    page = found.report(tmp_path / "report.html", members=5)
    assert (
        "Against ground truth" in page.read_text()
        and "showing the 5 most active" in page.read_text()
    )
    written = found.export(tmp_path / "g.gexf") + found.export(
        tmp_path / "t.csv", graph="tripartite"
    )
    assert [p.name for p in written] == ["g.gexf", "t_nodes.csv", "t_edges.csv"]


def test_html_representations_are_short_and_escaped(sim):
    data = research.from_posts(hostile_posts(sim), sim.truth)
    found = data.detect(seed=0)
    cluster = int(found.flagged["cluster"].iloc[0])
    for html in (data._repr_html_(), found._repr_html_(), found.explain(cluster)._repr_html_()):
        assert "<script" not in html and "<img" not in html and len(html) < 20_000
    assert "We Heart It&lt;img" in found._repr_html_()
    assert (
        TEXT_PAYLOAD not in found.explain(cluster)._repr_html_()
        and APP_PAYLOAD not in data._repr_html_()
    )
    assert np.isfinite(found.explain(cluster).evidence["score"])

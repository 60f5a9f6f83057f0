"""Figures of a run: they draw what the library computed, and say how to read them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.outputs import signature_links
from research.graph.events import encode
from research.methods import run_method
from research.pipeline import run_pipeline
from research.plotting import save_figure
from research.plotting.case_study import cluster_subgraph, shorten_url
from research.plotting.figures import evidence_map, marker_area
from research.rule import Rule
from research.simulate import simulate


@pytest.fixture(scope="module")
def camouflage():
    """The camouflage preset (its evidence map had a legend over a data point)."""
    sim = simulate("camouflage", seed=0, n_posts=60_000)
    return sim, run_pipeline(sim.posts, seed=0)


@pytest.fixture(scope="module")
def small():
    """The default scenario at 30k background posts, and the package's method on it."""
    sim = simulate("weheartit", seed=0, n_posts=30_000)
    return sim, run_pipeline(sim.posts, seed=0)


def test_evidence_map_draws_the_rules_thresholds_and_a_size_key(camouflage):
    _, detection = camouflage
    rule = Rule(min_exclusivity=0.3)
    axis = evidence_map(detection.clusters, rule=rule).axes[0]
    vertical, horizontal = axis.lines[0], axis.lines[1]
    assert list(vertical.get_xdata()) == [0.3, 0.3] and list(horizontal.get_ydata()) == [1.0, 1.0]
    assert axis.get_xscale() == "symlog" and "symmetric log" in axis.get_xlabel()
    legend = axis.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert {
        "compromised",
        "not compromised",
        "rule's thresholds",
        "5 accounts",
        "500 accounts",
    } <= set(texts)
    assert "√(cluster size)" in legend.get_title().get_text()
    # Without a rule (a baseline decided), no thresholds are drawn.
    assert not evidence_map(detection.clusters).axes[0].lines


def test_evidence_map_keeps_its_key_off_the_data(camouflage):
    _, detection = camouflage
    fig = evidence_map(detection.clusters, rule=Rule())
    fig.canvas.draw()
    axis = fig.axes[0]
    key = axis.get_legend().get_window_extent()
    assert key.y0 >= axis.get_window_extent().y1 - 1  # above the axes, so over no point
    # Every cluster is inside the axes (none clipped at x = 0 or at 1).
    x, y = detection.clusters["exclusivity"], detection.clusters["concert"]
    (x0, x1), (y0, y1) = axis.get_xlim(), axis.get_ylim()
    assert x.between(x0, x1).all() and y.between(y0, y1).all()


def test_evidence_map_spreads_the_clusters_near_zero_exclusivity():
    # Popular sites give exclusivities of 10^-4 to 10^-2; on a linear axis they sat within 1%
    # of its width of x = 0, here they spread over a fifth of it.
    small = np.geomspace(1e-4, 1e-2, 12)
    clusters = pd.DataFrame({"exclusivity": small, "concert": 0.5, "size": 10, "flagged": False})
    axis = evidence_map(clusters, rule=Rule()).axes[0]
    pixels = axis.transData.transform(np.column_stack([small, np.zeros_like(small)]))[:, 0]
    width = axis.get_window_extent().width
    assert (pixels.max() - pixels.min()) / width > 0.2


def test_marker_area_is_on_a_fixed_scale():
    assert float(marker_area(400)) == 4 * float(marker_area(25))


def test_figures_are_byte_stable(camouflage, tmp_path):
    _, detection = camouflage
    for name in ("a", "b"):
        save_figure(evidence_map(detection.clusters, rule=Rule()), tmp_path / name)
    for ext in ("pdf", "png"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()


def test_case_study_colours_the_methods_signature(camouflage, small):
    """The figure's signature is the one the method attached accounts by: every attached
    account posted one of its links, and a core member did exactly when it is not unsigned."""
    sim, detection = camouflage
    events = encode(sim.posts)
    owner = signature_links(detection, events)
    cluster = int(detection.flagged["cluster"].iloc[0])
    signers = np.zeros(events.n_accounts, dtype=bool)
    signers[events.link_account[owner == cluster]] = True
    codes = {str(a): i for i, a in enumerate(events.accounts.values.to_pylist())}
    accounts = detection.accounts.assign(
        code=[codes[str(a)] for a in detection.accounts["account"]]
    )
    members = accounts[accounts["cluster"] == cluster]
    attached = members.loc[members["attached"], "code"].to_numpy()
    core = members[~members["attached"]]
    assert len(attached) and signers[attached].all()
    assert (signers[core["code"].to_numpy()] == ~core["unsigned"].to_numpy()).all()
    assert _vermillion_in(
        cluster_subgraph(events, detection.clustering.membership, cluster, owner == cluster)
    )
    # A method that computes no signature (a baseline not described by the package's
    # evidence) has none to colour.
    sim, _ = small
    events = encode(sim.posts)
    plain = run_method("qut_colink", sim.posts, {"describe": False}, seed=0)
    assert (signature_links(plain, events) == -1).all()
    fig = cluster_subgraph(
        events, plain.clustering.membership, 0, np.zeros(len(events.link_post), dtype=bool)
    )
    assert not _vermillion_in(fig)


def _vermillion_in(fig) -> bool:
    """Whether any node or edge of the figure is drawn in the signature's colour."""
    vermillion = tuple(np.round((0xD5 / 255, 0x5E / 255, 0x00 / 255), 4))
    drawn = {
        tuple(np.round(rgba[:3], 4))
        for c in fig.axes[0].collections
        for rgba in [*c.get_facecolor(), *c.get_edgecolor()]
    }
    return vermillion in drawn


@pytest.mark.parametrize(
    "url",
    [
        "https://slim-secret-today-diet-pills.com/offer/2014/05/17/landing?x=1",
        "http://a-host-far-longer-than-the-label-is-wide.example.co.uk/p/1",
        "http://bit.ly/1a2b3c",
    ],
)
def test_case_study_url_labels_never_cut_the_host(url):
    from urllib.parse import urlsplit

    host = urlsplit(url).netloc
    for width in (12, 26, 38, 60):
        label = shorten_url(url, width)
        assert label.startswith(host)
        if len(url.split("://", 1)[1]) > max(width, len(host) + 10):
            assert "…" in label[len(host) :]

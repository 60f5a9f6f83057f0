"""One contract every method of METHODS passes, from the library, the command line and Hydra."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from experiments.config import method_params
from experiments.run import run
from research.baselines import BASELINES
from research.cli import main
from research.errors import ConfigError
from research.methods import _CHECKS, METHODS, TUNING, check_params, run_method
from research.simulate import simulate
from research.spec import PIPELINE_METHODS
from tests.conftest import REPO

NAMES = sorted(METHODS)


@pytest.fixture(scope="module")
def small():
    """A platform small enough for every method to run in a second or two."""
    return simulate("multi_campaign", seed=1, n_posts=40_000)


def _check_valid(detection, posts) -> None:
    accounts, clusters = detection.accounts, detection.clusters
    assert list(accounts.columns[:4]) == ["account", "cluster", "flagged", "score"]
    assert set(accounts["account"]) == set(posts.table.column("account_id").to_pylist())
    assert accounts["account"].is_unique
    k = len(clusters)
    assert clusters["cluster"].tolist() == list(range(k))
    assert {"cluster", "size", "flagged", "score"} <= set(clusters.columns)
    member = accounts["cluster"].to_numpy()
    assert member.min(initial=-1) >= -1 and member.max(initial=-1) < k
    assert np.array_equal(
        np.bincount(member[member >= 0], minlength=k), clusters["size"].to_numpy()
    )
    flagged_cluster = clusters["flagged"].to_numpy(dtype=bool)
    expected = np.where(member >= 0, flagged_cluster[np.maximum(member, 0)], False)
    if "unsigned" in accounts:  # members of a flagged cluster without its signature are not flagged
        expected &= ~accounts["unsigned"].to_numpy(dtype=bool)
    assert np.array_equal(accounts["flagged"].to_numpy(dtype=bool), expected)
    assert np.isfinite(accounts["score"].to_numpy()).all()
    for cluster in range(min(k, 3)):
        assert detection.explain(cluster).text.startswith(f"Cluster {cluster} ")


@pytest.mark.parametrize("name", NAMES)
def test_contract_same_seed_same_output_and_a_valid_clustering(small, name):
    first = run_method(name, small.posts, seed=3)
    second = run_method(name, small.posts, seed=3)
    assert first.method == name and first.seed == 3
    pd.testing.assert_frame_equal(first.accounts, second.accounts)
    pd.testing.assert_frame_equal(first.clusters, second.clusters)
    _check_valid(first, small.posts)
    assert "disconnected_clusters" in first.stats
    with pytest.raises(ConfigError):
        run_method(name, small.posts, {"no_such_parameter": 1})


@pytest.mark.parametrize("name", NAMES)
def test_every_method_checks_its_parameters_without_data(name):
    """What run_method refuses, check_params refuses first (the command line calls it before
    reading anything), and the defaults pass."""
    check_params(name, {})
    with pytest.raises(ConfigError, match="no_such_parameter"):
        check_params(name, {"no_such_parameter": 1})
    assert name in _CHECKS, "register how this method's parameters are checked in research.methods"


@pytest.mark.parametrize("name", NAMES)
def test_every_method_has_a_hydra_config_matching_its_defaults(name):
    config = OmegaConf.to_container(OmegaConf.load(REPO / "configs" / "method" / f"{name}.yaml"))
    assert isinstance(config, dict)
    assert config["name"] == name
    assert set(config) == {"name", "uses_pipeline_groups", "params"}
    if not config["uses_pipeline_groups"]:
        # The config states the defaults of the method's parameter dataclass, all of them.
        assert config["params"] == METHODS[name].defaults()
    configs = {p.stem for p in (REPO / "configs" / "method").glob("*.yaml")}
    assert configs == set(METHODS)


@pytest.fixture(scope="module")
def simulated_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    assert (
        main(
            [
                "simulate",
                "--preset",
                "rogue_app",
                "--seed",
                "0",
                "--n-posts",
                "40000",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_every_method_runs_from_the_command_line(simulated_dir, tmp_path, name):
    out = tmp_path / name
    assert (
        main(
            [
                "detect",
                str(simulated_dir),
                "--out",
                str(out),
                "--method",
                name,
                "--quiet",
                "--no-report",
            ]
        )
        == 0
    )
    clusters = pd.read_csv(out / "clusters.csv")
    assert "explanation" in clusters.columns
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == name
    assert 0.0 <= json.loads((out / "metrics.json").read_text())["f1"] <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_every_method_runs_from_hydra_by_name(tmp_path, name):
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                f"method={name}",
                "data.n_posts=30000",
                "progress=false",
            ],
        )
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    params = method_params(plain)
    if name not in PIPELINE_METHODS:
        assert params == plain["method"]["params"]  # baselines ignore the pipeline groups
    metrics = run(cfg, tmp_path / "run")
    assert (tmp_path / "run" / "metrics.json").exists() and 0.0 <= metrics["f1"] <= 1.0


@pytest.mark.slow
def test_the_package_method_beats_the_baselines_where_an_app_is_abused(weheartit):
    """On the default scenario (the full comparison over presets and seeds is experiments/compare.py)."""
    from research.evaluate import evaluate
    from research.graph.events import encode

    events = encode(weheartit.posts)
    scores = {
        name: evaluate(
            run_method(
                name,
                weheartit.posts,
                {} if name in PIPELINE_METHODS else {"describe": False},
                seed=0,
                events=events,
            ).accounts,
            weheartit.truth,
        )["f1"]
        for name in NAMES
    }
    assert scores["hijack"] >= 0.95
    baselines = [v for k, v in scores.items() if k not in PIPELINE_METHODS]
    assert scores["hijack"] > max(baselines)


def test_detections_are_written_like_the_package_method(small, tmp_path: Path):
    from research.outputs import write_detection

    detection = run_method("pacheco", small.posts, seed=0)
    write_detection(detection, tmp_path)
    table = pd.read_csv(tmp_path / "clusters.csv")
    assert table["explanation"].str.contains("flagged by pacheco").all()
    assert {"top_app", "top_site", "history", "exclusivity"} <= set(
        table.columns
    )  # described by the package's evidence


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_baseline_declares_a_tuning_space_of_valid_values(name):
    """The selection tries every candidate: each must be a valid value of its parameter, the
    paper's default among them where the parameter has one listed, and the space small."""
    baseline = BASELINES[name]
    space = TUNING[name]
    assert space and set(space) <= set(baseline.defaults())
    for parameter, values in space.items():
        assert len(values) >= 2 and len(set(values)) == len(values)
        for value in values:
            baseline.check({parameter: value})
    assert np.prod([len(v) for v in space.values()]) <= 500


def test_the_methods_command_lists_the_new_baselines(capsys):
    assert main(["methods"]) == 0
    listed = capsys.readouterr().out
    for name in ("synchrotrap", "copycatch", "coornet", "courl_louvain"):
        assert name in listed
    assert "evilcohort" not in METHODS

"""Hydra configs compose, and a run writes its artefacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from experiments.config import method_params
from experiments.run import run
from research.pipeline import PipelineSpec
from tests.conftest import REPO

CONFIGS = str(REPO / "configs")


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=CONFIGS, version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


@pytest.mark.parametrize(
    "group",
    ["data", "projection", "filter", "detect", "rule", "method", "profile", "experiment"],
)
def test_every_group_option_composes(group):
    options = sorted(p.stem for p in (REPO / "configs" / group).glob("*.yaml"))
    assert options
    for option in options:
        cfg = _compose([f"{group}={option}"] + (["data.path=x"] if option == "file" else []))
        assert cfg[group] is not None
        if cfg.method.get("uses_pipeline_groups"):
            from omegaconf import OmegaConf

            PipelineSpec.from_dict(method_params(OmegaConf.to_container(cfg, resolve=True)))


def test_unknown_key_is_refused():
    with pytest.raises(ConfigCompositionException):
        _compose(["nope=1"])


def test_run_writes_artefacts_only_in_its_run_directory(tmp_path: Path):
    cfg = _compose(["data.n_posts=60000", f"paper_dir={tmp_path / 'paper'}", "progress=false"])
    metrics = run(cfg, tmp_path / "run")
    for name in (
        "config.yaml",
        "metrics.json",
        "clusters.csv",
        "accounts.csv",
        "provenance.json",
        "summary.json",
        "report.html",
    ):
        assert (tmp_path / "run" / name).exists(), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["f1"] == pytest.approx(
        metrics["f1"]
    )
    assert metrics["f1"] >= 0.9
    # Figures are named by data and method, so that two methods never overwrite each other.
    figures = sorted(p.name for p in (tmp_path / "run" / "figures").iterdir())
    assert figures == [
        "weheartit_hijack_evidence_map.pdf", "weheartit_hijack_evidence_map.png",
        "weheartit_hijack_timeline.pdf", "weheartit_hijack_timeline.png",
    ]  # fmt: skip
    assert (tmp_path / "run" / "figures" / "weheartit_hijack_timeline.pdf").stat().st_size > 1000
    # The paper's figures are the paper experiments' alone: a single run writes none.
    assert not (tmp_path / "paper").exists()
    provenance = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert provenance["packages"]["numpy"] and "commit" in provenance["git"]


def test_configuration_is_checked_before_the_data_is_read(tmp_path: Path):
    from research.errors import ConfigError

    # The data path does not exist: reading first would fail on it, not on the window.
    cfg = _compose(["data=file", f"data.path={tmp_path / 'none.jsonl'}", "projection.neighbours=0"])
    with pytest.raises(ConfigError, match="neighbours"):
        run(cfg, tmp_path / "run")


def test_same_config_same_bytes(tmp_path: Path):
    cfg = _compose(["data.n_posts=60000", "progress=false"])
    run(cfg, tmp_path / "a")
    run(cfg, tmp_path / "b")
    for name in (
        "metrics.json",
        "clusters.csv",
        "accounts.csv",
        "report.html",
        "figures/weheartit_hijack_timeline.pdf",
        "figures/weheartit_hijack_timeline.png",
        "figures/weheartit_hijack_evidence_map.pdf",
        "figures/weheartit_hijack_evidence_map.png",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

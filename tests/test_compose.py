"""A notebook composes the experiment configs and runs exactly the method a run used."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException

from experiments.compose import compose_config, dataset_from_config, method_from_config
from experiments.run import run
from research.outputs import write_detection
from research.pipeline import PipelineSpec


def test_composed_method_is_the_runs_method():
    method = method_from_config()
    assert method.name == "hijack" and method.seed == 0
    # The configs describe the package's method: its projection, detector and rule.
    assert PipelineSpec.from_dict(method.params) == PipelineSpec()
    tuned = method_from_config(["detect=louvain", "seed=4", "filter=min_support"])
    assert tuned.params["detector"] == "louvain" and tuned.seed == 4
    assert tuned.params["filters"][0]["name"] == "min_support"
    assert "hydra" not in compose_config().keys()
    with pytest.raises(ConfigCompositionException):
        method_from_config(["nope=1"])


def test_notebook_and_experiment_give_the_same_bytes(tmp_path):
    overrides = ["data.n_posts=30000", "progress=false", "seed=2"]
    run(compose_config(overrides), tmp_path / "experiment")
    data = dataset_from_config(overrides)
    found = method_from_config(overrides).detect(data)
    write_detection(found, tmp_path / "notebook")
    for name in ("accounts.csv", "clusters.csv"):
        assert (tmp_path / "notebook" / name).read_bytes() == (
            tmp_path / "experiment" / name
        ).read_bytes(), name
    assert found.seed == 2 and found.flagged["top_app"].tolist() == ["We Heart It"]

"""The backend config group: every option composes into a BackendSpec, a run on the Dask
backend writes the same results as on memory, and the Slurm settings make a job script."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from experiments.run import run
from research.errors import ConfigError
from research.scale import BackendSpec
from tests.conftest import REPO


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


@pytest.mark.parametrize(
    "option", sorted(p.stem for p in (REPO / "configs" / "backend").glob("*.yaml"))
)
def test_every_backend_option_composes(option):
    cfg = _compose([f"backend={option}"])
    spec = BackendSpec.from_dict(OmegaConf.to_container(cfg.backend, resolve=True))
    assert spec.name == ("memory" if option == "memory" else "dask")


def test_backend_spec_refuses_unknown_keys_and_values():
    with pytest.raises(ConfigError, match="unknown key"):
        BackendSpec.from_dict({"name": "dask", "workers": 3})
    with pytest.raises(ConfigError, match="'memory' or 'dask'"):
        BackendSpec(name="spark")  # type: ignore[arg-type]


@pytest.mark.slow
def test_run_on_dask_writes_the_same_results_as_memory(tmp_path: Path):
    common = ["data.n_posts=60000", "progress=false", "method=joint"]  # Dask projects windows
    memory = run(_compose(common), tmp_path / "memory")
    dask = run(_compose([*common, "backend=dask_local"]), tmp_path / "dask")
    assert memory == dask and memory["f1"] >= 0.9
    for name in ("clusters.csv", "accounts.csv", "metrics.json"):
        assert (tmp_path / "memory" / name).read_bytes() == (
            tmp_path / "dask" / name
        ).read_bytes(), name


def test_slurm_settings_make_a_job_script():
    pytest.importorskip("dask_jobqueue")
    from research.scale import slurm_job_script

    cfg = _compose(
        ["backend=dask_slurm", "backend.slurm.queue=compute", "backend.slurm.account=proj42"]
    )
    script = slurm_job_script(
        BackendSpec.from_dict(OmegaConf.to_container(cfg.backend, resolve=True))
    )
    assert "#SBATCH -p compute" in script and "#SBATCH -A proj42" in script
    assert "--nthreads 4" in script or "--nworkers 1" in script

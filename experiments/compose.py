"""The experiment configs from Python: a notebook runs exactly the method a run used.

Hydra's compose API reads ``configs/`` with the same overrides as the
command line (``python -m experiments.run detect=louvain seed=3``) and
returns the method's name, parameters and seed as plain data, which
:meth:`research.api.Dataset.detect` takes::

    from experiments.compose import method_from_config
    method = method_from_config(["detect=leiden_modularity", "seed=3"])
    found = data.detect(method.name, seed=method.seed, params=method.params)

The library (``research``) never sees a Hydra config: only this typed result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from experiments.config import CONFIG_DIR, load_data, method_params


@dataclass(frozen=True)
class ComposedMethod:
    """A method as a run would use it: name, parameters, seed, and the whole resolved config."""

    name: str
    params: dict[str, Any]
    seed: int
    config: dict[str, Any] = field(repr=False)

    def detect(self, dataset: Any, *, progress: bool = False) -> Any:
        """Run this method on a :class:`research.api.Dataset`; returns its :class:`~research.detection.Detection`."""
        return dataset.detect(self.name, seed=self.seed, params=self.params, progress=progress)


def compose_config(
    overrides: Sequence[str] = (), config_dir: str | Path | None = None
) -> DictConfig:
    """The composed config (without the ``hydra`` node), as ``python -m experiments.run`` sees it.

    Parameters
    ----------
    overrides
        Hydra overrides, e.g. ``["data=rogue_app", "seed=2", "detect=louvain"]``.
    config_dir
        Folder holding ``config.yaml`` (default: the repository's ``configs/``).

    Examples
    --------
    >>> compose_config(["seed=3"]).seed
    3
    """
    directory = Path(config_dir) if config_dir is not None else CONFIG_DIR
    with initialize_config_dir(
        version_base="1.3", config_dir=str(directory.resolve()), job_name="compose"
    ):
        return compose(config_name="config", overrides=list(overrides))


def method_from_config(
    overrides: Sequence[str] = (), config_dir: str | Path | None = None
) -> ComposedMethod:
    """The method, parameters and seed a run with these overrides would use.

    Examples
    --------
    >>> method = method_from_config(["detect.detector_params.resolution=0.5"])
    >>> method.name, method.params["detector_params"]["resolution"], method.seed
    ('hijack', 0.5, 0)
    """
    plain = _plain(compose_config(overrides, config_dir))
    return ComposedMethod(
        name=str(plain["method"]["name"]),
        params=method_params(plain),
        seed=int(plain["seed"]),
        config=plain,
    )


def dataset_from_config(overrides: Sequence[str] = (), config_dir: str | Path | None = None) -> Any:
    """The data a run with these overrides would use, as a :class:`research.api.Dataset`.

    Examples
    --------
    >>> data = dataset_from_config(["data.n_posts=20000"])
    >>> data.truth is not None
    True
    """
    from research.api import Dataset

    plain = _plain(compose_config(overrides, config_dir))
    posts, truth, info = load_data(plain["data"], int(plain["seed"]))
    return Dataset(
        posts,
        truth,
        source=f"config data={plain['data'].get('name', info.get('kind'))}",
        read_info=info,
    )


def _plain(cfg: DictConfig) -> dict[str, Any]:
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    return {str(k): v for k, v in plain.items()}

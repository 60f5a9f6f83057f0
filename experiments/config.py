"""What every part of ``experiments/`` shares: where the repository's configs are, Hydra's
compose API, and what a resolved config means (the method's parameters, the data).

The bottom of ``experiments/``: it imports no other module of it, so the entry points
(``run``, ``paper``, ``check``, ``compare``) and the libraries (``sweep``, ``kinds``,
``outputs``, ``compose``) can all import it. Experiments run from a clone of the
repository (they read ``configs/`` and write ``paper/``); the package installs ``research``
only.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from research.errors import ConfigError

#: The repository's root, and its Hydra configs.
REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / "configs"

#: Config groups of the package's own method (merged into its parameters).
PIPELINE_GROUPS = ("projection", "filter", "detect", "rule")


def experiment_names() -> list[str]:
    """Every experiment config (``configs/experiment/*.yaml``), sorted."""
    return sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


@contextmanager
def hydra_context() -> Iterator[None]:
    """Make Hydra's compose API usable: inside a ``@hydra.main`` app or a test's
    ``initialize_config_dir`` nothing is needed; elsewhere the repository's configs are loaded."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        yield
    else:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            yield


def compose_config(overrides: Sequence[str]) -> DictConfig:
    """The main config composed with ``overrides`` (Hydra's compose API)."""
    from hydra import compose

    with hydra_context():
        return compose(config_name="config", overrides=list(overrides))


def protocol_cli(
    name: str,
    run: Callable[[DictConfig], Any],
    description: str,
    argv: Sequence[str] | None = None,
    *,
    overrides_help: str = "Hydra overrides",
) -> tuple[DictConfig, Any]:
    """The command line of a protocol experiment (``python -m experiments.NAME [--profile P]
    [overrides...]``): compose its config, run it, print what it wrote; returns the config and
    the run."""
    parser = argparse.ArgumentParser(prog=f"python -m experiments.{name}", description=description)
    parser.add_argument("--profile", default="full", help="full, quick or tiny (configs/profile)")
    parser.add_argument("overrides", nargs="*", help=overrides_help)
    args = parser.parse_args(argv)
    cfg = compose_config([f"experiment={name}", f"profile={args.profile}", *args.overrides])
    done = run(cfg)
    print("\n".join(f"wrote {p}" for p in done.paths))
    return cfg, done


def method_params(cfg: dict[str, Any]) -> dict[str, Any]:
    """The method's parameters as plain data: for the package's methods, the union of the
    projection, filter, detect and rule groups, then the method's own ``params`` (a variant's
    settings win over the groups); for others, ``method.params``.

    Examples
    --------
    >>> method_params({"method": {"params": {"k": 5}}})
    {'k': 5}
    >>> method_params({"method": {"uses_pipeline_groups": True, "params": {"detector": "louvain"}},
    ...                "detect": {"detector": "leiden", "min_cluster_size": 2}})
    {'detector': 'louvain', 'min_cluster_size': 2}
    """
    method = cfg["method"]
    own = dict(method.get("params") or {})
    if not method.get("uses_pipeline_groups"):
        return own
    params: dict[str, Any] = {}
    for group in PIPELINE_GROUPS:
        params.update(cfg.get(group) or {})
    return {**params, **own}


def load_data(
    data: dict[str, Any], seed: int, *, progress: bool = False
) -> tuple[Any, Any, dict[str, Any]]:
    """Posts, ground truth (or ``None``) and a description, from the ``data`` config group."""
    kind = data.get("kind")
    if kind == "simulate":
        from research.simulate import simulate

        sim = simulate(
            data["preset"],
            seed=seed,
            n_posts=data.get("n_posts"),
            overrides=data.get("overrides") or None,
        )
        return (
            sim.posts,
            sim.truth,
            {"kind": kind, "preset": data["preset"], "n_posts": len(sim.posts)},
        )
    if kind == "file":
        from research.io.loading import load_posts
        from research.truth import read_truth

        posts, info = load_posts([Path(data["path"])], data.get("format"), progress=progress)
        truth = read_truth(data["truth"]) if data.get("truth") else None
        return posts, truth, {"kind": kind, **info}
    raise ConfigError(f"data.kind must be 'simulate' or 'file', got {kind!r}")

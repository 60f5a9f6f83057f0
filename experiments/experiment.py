"""One experiment end to end: plan its runs, compute those not cached, tabulate, draw.

    from experiments.config import compose_config
    from experiments.experiment import run_experiment
    done = run_experiment(compose_config(["experiment=jitter", "profile=quick"]))

:mod:`experiments.sweep` plans and computes the runs, :mod:`experiments.outputs` writes the
results table, the figure or table, the macros and the provenance; this module puts the two
together for the entry points (``python -m experiments.run experiment=...`` and
``python -m experiments.paper``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from experiments.outputs import write_outputs
from experiments.sweep import Execution, Experiment, execute, plan, results_table


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` produced."""

    experiment: Experiment
    results: pd.DataFrame
    execution: Execution
    paths: list[Path]


#: Experiment kinds that follow the evaluation protocol over scenario families
#: (:mod:`experiments.protocol`) rather than a sweep over presets.
PROTOCOL_KINDS = (
    "select", "generalisation", "ablation", "sensitivity", "latency", "inject", "blind", "learned",
)  # fmt: skip


def run_experiment(cfg: DictConfig, overrides: Sequence[str] = ()) -> Any:
    """Plan, compute (or read from the cache), tabulate and draw one experiment.

    Paths in ``cfg`` (``sweep.cache_dir``, ``sweep.results_dir``, ``paper_dir``) are
    relative to the working directory (the repository root). Protocol kinds
    (:data:`PROTOCOL_KINDS`) run :func:`experiments.select.run_select` or
    :func:`experiments.generalisation.run_generalisation`.
    """
    kind = str(cfg.experiment.kind)
    progress = bool(cfg.get("progress", False))
    if kind == "select":
        from experiments.select import run_select

        return run_select(cfg, progress=progress)
    if kind == "generalisation":
        from experiments.generalisation import run_generalisation

        return run_generalisation(cfg, progress=progress)
    if kind == "ablation":
        from experiments.ablation import run_ablation

        return run_ablation(cfg, progress=progress)
    if kind == "sensitivity":
        from experiments.sensitivity import run_sensitivity

        return run_sensitivity(cfg, progress=progress)
    if kind == "latency":
        from experiments.latency import run_latency

        return run_latency(cfg, progress=progress)
    if kind == "inject":
        from experiments.inject import run_inject

        return run_inject(cfg, progress=progress)
    if kind == "blind":
        from experiments.blind import run_blind

        return run_blind(cfg, progress=progress)
    if kind == "learned":
        from experiments.learned import fit_shipped

        return fit_shipped(cfg, freeze=bool(cfg.experiment.get("freeze", False)), progress=progress)
    experiment = plan(cfg, overrides)
    sweep = cfg.sweep
    n_shards = int(sweep.n_shards)
    execution = execute(
        experiment,
        cache_dir=sweep.cache_dir,
        force=bool(sweep.force),
        n_jobs=int(sweep.n_jobs),
        shard=int(sweep.shard),
        n_shards=n_shards,
        progress=bool(cfg.get("progress", False)),
        work_dir=Path(str(sweep.cache_dir)).parent / "work",
    )
    results = results_table(experiment, execution.entries)
    paths: list[Path] = []
    if n_shards == 1:
        paths = write_outputs(experiment, results, cfg, overrides)
    return ExperimentResult(experiment, results, execution, paths)

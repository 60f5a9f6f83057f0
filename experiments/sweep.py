"""Experiments: a sweep of runs behind one figure or table, with a run cache and a tidy results table.

An experiment config (``configs/experiment/<name>.yaml``) names its kind, the simulator
presets, the methods (``all`` = every name in :data:`research.methods.METHODS` at run
time, or variants given as Hydra overrides), the seeds and the axes (a dotted config key
and its values). :func:`plan` expands it into runs, each a complete per-run config composed
with Hydra, exactly what ``python -m experiments.run <overrides>`` would run, and keyed by a
hash of its resolved form. :func:`execute` computes the runs that are not cached and
:func:`results_table` makes one row per run; :func:`experiments.experiment.run_experiment`
then writes it to ``<results_dir>/<profile>/<name>.csv`` and draws the figure or table with
the macros the paper quotes (:mod:`experiments.outputs`).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import CONFIG_DIR, compose_config
from experiments.kinds import COLUMNS, GROUP_RUNNERS, group_key, run_config, runtime_groups
from experiments.tools.results import RunCache, run_key
from research.errors import ConfigError

KINDS = ("detection", "runtime", "lfr", "case_study", "calibration")
# Overrides that change how a sweep runs or where files go, never what a run computes.
_NOT_RESULT_KEYS = ("hydra", "sweep", "seed", "progress", "paper_dir", "write_paper_figures")


def override_key(override: str) -> str:
    """The key an override sets (``++data.n_posts=5`` -> ``data.n_posts``)."""
    return override.split("=", 1)[0].lstrip("+~")


def merge_overrides(*lists: Sequence[str]) -> list[str]:
    """Concatenate override lists; a later override of the same key replaces an earlier one.

    Examples
    --------
    >>> merge_overrides(["data=weheartit", "seed=1"], ["data=rogue_app"])
    ['seed=1', 'data=rogue_app']
    """
    merged: dict[str, str] = {}
    for overrides in lists:
        for override in overrides:
            key = override_key(override)
            merged.pop(key, None)
            merged[key] = override
    return list(merged.values())


def result_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides that can change results (launcher, sweep and output settings dropped)."""
    return [
        o for o in overrides if override_key(o).split(".")[0].split("/")[0] not in _NOT_RESULT_KEYS
    ]


@dataclass(frozen=True)
class MethodSpec:
    """A line of a figure: a registry method, or a variant of one given by overrides."""

    label: str
    name: str | None
    overrides: tuple[str, ...] = ()


def method_specs(methods: Any) -> list[MethodSpec]:
    """Expand an experiment's ``methods``: ``all``, a list of names, or ``{label, method, overrides}`` dicts."""
    from research.methods import METHODS

    if methods == "all":
        methods = list(METHODS)
    if isinstance(methods, str):
        methods = [methods]
    specs = []
    for item in methods:
        if isinstance(item, str):
            specs.append(MethodSpec(item, item))
        elif isinstance(item, dict) and "label" in item:
            specs.append(
                MethodSpec(
                    str(item["label"]), item.get("method"), tuple(item.get("overrides") or ())
                )
            )
        else:
            raise ConfigError(
                f"experiment.methods: each entry is a method name or {{label, method, overrides}}, got {item!r}"
            )
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"experiment.methods: labels must be unique, got {labels}")
    for spec in specs:
        if spec.name is not None and spec.name not in METHODS:
            from research.errors import unknown_name

            raise unknown_name("method", spec.name, list(METHODS))
    return specs


def preset_names(presets: Any) -> list[str]:
    """Expand ``presets``: ``all`` = every simulator preset that has a ``configs/data`` file."""
    from research.simulate import PRESETS

    if presets == "all":
        return [name for name in PRESETS if (CONFIG_DIR / "data" / f"{name}.yaml").exists()]
    names = [presets] if isinstance(presets, str) else list(presets)
    for name in names:
        if not (CONFIG_DIR / "data" / f"{name}.yaml").exists():
            raise ConfigError(f"experiment.presets: no data config configs/data/{name}.yaml")
    return names


def thin(values: Sequence[Any], points: int | None) -> list[Any]:
    """At most ``points`` evenly spaced values, first and last kept (all when ``points`` is None).

    Examples
    --------
    >>> thin([1, 2, 4, 8, 16, 32], 3)
    [1, 4, 32]
    """
    values = list(values)
    if points is None or points >= len(values):
        return values
    if points < 2:
        return values[:1]
    index = np.unique(np.round(np.linspace(0, len(values) - 1, points)).astype(int))
    return [values[i] for i in index]


def seed_list(seeds: Any) -> list[int]:
    """``seeds``: a count (``5`` -> 0..4) or an explicit list."""
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"experiment.seeds must be at least 1, got {seeds}")
        return list(range(seeds))
    return [int(s) for s in seeds]


@dataclass
class Experiment:
    """An experiment expanded into runs."""

    name: str
    kind: str
    spec: dict[str, Any]
    profile: dict[str, Any]
    runs: list[dict[str, Any]]
    label_columns: list[str]
    methods: list[MethodSpec] = field(default_factory=list)


def _is_group(key: str) -> bool:
    return "." not in key and (CONFIG_DIR / key).is_dir()


def plan(cfg: DictConfig, overrides: Sequence[str] = ()) -> Experiment:
    """Expand the experiment of ``cfg`` into runs.

    Parameters
    ----------
    cfg
        A composed config with an ``experiment`` node.
    overrides
        The command-line overrides ``cfg`` was composed with; every run is composed with
        them too (minus sweep and output settings), then with its method's and axis'
        overrides, so that ``experiment=x detect=louvain`` sweeps Louvain.
    """
    spec = OmegaConf.to_container(cfg.experiment, resolve=True)
    profile = OmegaConf.to_container(cfg.profile, resolve=True)
    assert isinstance(spec, dict) and isinstance(profile, dict)
    name, kind = str(spec["name"]), str(spec.get("kind", "detection"))
    if kind not in KINDS:
        raise ConfigError(f"experiment.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    seeds = seed_list(spec.get("seeds", profile["seeds"]))
    presets: list[str | None] = (
        [None] if kind == "lfr" else list(preset_names(spec.get("presets", ["weheartit"])))
    )
    methods = method_specs(spec.get("methods", "all"))
    axes = [dict(a) for a in spec.get("axes") or []]
    for axis in axes:
        if not {"name", "key", "values"} <= set(axis):
            raise ConfigError(f"experiment.axes: each axis needs name, key and values, got {axis}")
        axis["values"] = thin(axis["values"], profile.get("axis_points"))
    base = result_overrides(overrides)
    runs: list[dict[str, Any]] = []
    for preset, method in itertools.product(presets, methods):
        for point in itertools.product(*(axis["values"] for axis in axes)):
            group_axes = [
                f"{a['key']}={v}" for a, v in zip(axes, point, strict=True) if _is_group(a["key"])
            ]
            chosen = [f"data={preset}"] if preset else []
            known_method = (
                method.name is not None and (CONFIG_DIR / "method" / f"{method.name}.yaml").exists()
            )
            if known_method:
                chosen.append(f"method={method.name}")
            composed = compose_config(merge_overrides(base, chosen, method.overrides, group_axes))
            if method.name is not None and not known_method:
                composed.method = OmegaConf.create(
                    {"name": method.name, "uses_pipeline_groups": False, "params": {}}
                )
            for axis, value in zip(axes, point, strict=True):
                if not _is_group(axis["key"]):
                    OmegaConf.update(composed, axis["key"], value, force_add=True)
            run_overrides = merge_overrides(
                base,
                chosen,
                method.overrides,
                [f"++{a['key']}={v}" for a, v in zip(axes, point, strict=True)],
            )
            for seed in seeds:
                composed.seed = seed
                resolved = OmegaConf.to_container(composed, resolve=True)
                assert isinstance(resolved, dict)
                config = run_config(kind, resolved)
                labels: dict[str, Any] = {} if preset is None else {"preset": preset}
                labels.update(method=method.label, method_name=method.name or method.label)
                labels.update({a["name"]: v for a, v in zip(axes, point, strict=True)})
                labels["seed"] = seed
                runs.append({
                    "key": run_key(config, kind="detection" if kind == "case_study" else kind),
                    "kind": kind,
                    "config": config,
                    "labels": labels,
                    "overrides": [*run_overrides, f"seed={seed}"],
                })  # fmt: skip
    label_columns = list(runs[0]["labels"]) if runs else []
    return Experiment(name, kind, spec, profile, runs, label_columns, methods)


@dataclass
class Execution:
    """Entries by run key, and what happened."""

    entries: dict[str, dict[str, Any]]
    cached: int = 0
    computed: int = 0
    failed: int = 0


def execute(
    experiment: Experiment,
    *,
    cache_dir: str | Path | None,
    force: bool = False,
    n_jobs: int = 1,
    shard: int = 0,
    n_shards: int = 1,
    progress: bool = False,
    work_dir: str | Path = "outputs/work",
) -> Execution:
    """Compute the runs that are not cached (all with ``force``), one dataset per task.

    With ``n_shards > 1`` only this shard's datasets are computed (cluster jobs that
    share ``cache_dir``). Runtime measurements always run one at a time.
    """
    from tqdm import tqdm

    cache = RunCache(cache_dir) if cache_dir is not None else None
    if not 0 <= shard < n_shards:
        raise ConfigError(f"sweep.shard must be in 0..{n_shards - 1}, got {shard}")
    # Shards are dealt from the whole plan, cached runs included, so that every job of a
    # cluster array sees the same deal whatever the others have finished.
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in experiment.runs:
        groups.setdefault(group_key(experiment.kind, run["config"]), []).append(run)
    mine = list(groups.values())[shard::n_shards]
    done = Execution({})
    batches = []
    for group in mine:
        todo = []
        for run in group:
            hit = None if force or cache is None else cache.get(run["key"])
            if hit is not None and hit.get("status") == "ok":
                done.entries[run["key"]] = hit
                done.cached += 1
            else:
                todo.append(run)
        if todo:
            batches.append(todo)
    cache_root = None if cache_dir is None else str(cache_dir)
    # disable=None: a bar on a terminal, none in CI logs.
    bar = tqdm(
        total=sum(len(b) for b in batches),
        desc=experiment.name,
        unit="run",
        disable=None if progress else True,
    )

    def collect(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            done.entries[entry["key"]] = entry
            done.computed += 1
            if entry["status"] != "ok":
                done.failed += 1
                print(
                    f"warning: {experiment.name}: run {entry['key'][:12]} failed: {entry['error']}",
                    file=sys.stderr,
                )
        bar.update(len(entries))

    if experiment.kind == "runtime":
        runtime_groups(batches, cache_root, Path(work_dir), collect)
    elif n_jobs > 1 and len(batches) > 1:
        try:
            from joblib import Parallel, delayed
        except ImportError:
            raise ConfigError(
                "sweep.n_jobs > 1 needs joblib: pip install 'hijack-clusters[sweep]'"
            ) from None
        runner = GROUP_RUNNERS[experiment.kind]
        for entries in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(runner)(b, cache_root) for b in batches
        ):
            collect(entries)
    else:
        runner = GROUP_RUNNERS[experiment.kind]
        for batch in batches:
            collect(runner(batch, cache_root))
    bar.close()
    return done


def results_table(experiment: Experiment, entries: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per run, in plan order: labels, run key, status, error, result columns.

    Runs of another shard (not computed here) are left out.
    """
    columns = COLUMNS[experiment.kind]
    rows = []
    for run in experiment.runs:
        entry = entries.get(run["key"])
        if entry is None:
            continue
        result = entry.get("result") or {}
        rows.append({
            **run["labels"], "key": run["key"][:16], "status": entry["status"], "error": entry.get("error", ""),
            **{c: result.get(c, np.nan) for c in columns},
        })  # fmt: skip
    return pd.DataFrame(
        rows, columns=[*experiment.label_columns, "key", "status", "error", *columns]
    )

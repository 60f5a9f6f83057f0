"""One run: config -> data -> method -> metrics and artefacts.

    python -m experiments.run                              # default scenario and method
    python -m experiments.run data=camouflage seed=2
    python -m experiments.run -m seed=0,1,2,3,4            # a sweep
    python -m experiments.run experiment=campaign_size     # an experiment: figure/table (experiments.experiment)

The run directory (``hydra.run.dir``, under ``outputs/``) receives ``config.yaml``
(resolved), ``metrics.json``, ``accounts.csv``, ``clusters.csv``, ``summary.json``,
``provenance.json``, ``report.html``, ``run.log`` and
``figures/<data>_<method>_<figure>.pdf|png`` (named by data and method, so that a figure
copied elsewhere, or two methods run into one folder, never overwrite each other).
A single run writes nothing outside its run directory: the paper's figures are written
only by the paper's experiments (``experiment=NAME``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments.config import load_data, method_params
from research.errors import ConfigError, UserError

# Hydra sends this logger to the console and to the run directory's run.log.
log = logging.getLogger(__name__)


def run(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Execute one run and write its artefacts into ``out_dir``; returns the metrics."""
    from research.evaluate import evaluate
    from research.graph.events import encode
    from research.methods import check_params, run_method
    from research.outputs import to_json_text, write_detection
    from research.report import write_report

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    seed = int(plain["seed"])
    progress = bool(plain.get("progress"))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))

    method = plain["method"]["name"]
    check_params(method, method_params(plain))  # before any data is read
    log.info("data %s, method %s, seed %d", plain["data"]["name"], method, seed)
    posts, truth, data_info = load_data(plain["data"], seed, progress=progress)
    log.info("read %s posts by %s accounts", f"{len(posts):,}", f"{posts.n_accounts():,}")
    events = encode(posts)
    backend = (plain.get("backend") or {}).get("name", "memory")
    if backend == "memory":
        detection = run_method(
            method, posts, method_params(plain), seed=seed, events=events, progress=progress
        )
    else:
        detection = run_on_backend(plain, posts, out_dir, seed)
    metrics = evaluate(detection.accounts, truth) if truth is not None else {}
    write_detection(detection, out_dir, metrics=metrics, data=data_info)
    (out_dir / "metrics.json").write_text(to_json_text(metrics))
    draw_figures(detection, events, out_dir / "figures", f"{plain['data']['name']}_{method}")
    write_report(
        posts,
        detection,
        out_dir / "report.html",
        metrics=metrics or None,
        events=events,
        progress=progress,
    )
    summary = detection.summary()
    log.info(
        "%d flagged cluster(s) of %d, %s flagged account(s) of %s",
        summary["n_flagged_clusters"],
        summary["n_clusters"],
        f"{summary['n_flagged_accounts']:,}",
        f"{summary['n_accounts']:,}",
    )
    return metrics


def draw_figures(detection: Any, events: Any, folder: Path, prefix: str) -> list[Path]:
    """The run's figures (PDF and PNG) in ``folder``, named ``<prefix>_<figure>``; the paths."""
    from research.plotting import save_figure
    from research.plotting.figures import cluster_timeline, evidence_map

    paths: list[Path] = []
    flagged = detection.flagged
    if len(flagged):
        cluster = int(flagged["cluster"].min())  # the most severe, largest group
        timeline = cluster_timeline(events, detection.clustering.membership, cluster)
        paths += save_figure(timeline, folder / f"{prefix}_timeline")
    # Baselines may describe their clusters without the package's evidence.
    if len(detection.clusters) and "concert" in detection.clusters:
        rule = _flag_rule(detection)
        paths += save_figure(
            evidence_map(detection.clusters, rule=rule), folder / f"{prefix}_evidence_map"
        )
    return paths


def _flag_rule(detection: Any) -> Any:
    """The rule a detection was made with (the package's methods), else ``None``."""
    from research.rule import Rule

    rule = (detection.params or {}).get("rule")
    if isinstance(rule, Rule):
        return rule
    if isinstance(rule, dict):
        return Rule.from_dict(rule)
    return None


def artefacts(out_dir: Path) -> tuple[Path | None, list[Path]]:
    """The run's report (``None`` if absent) and figures, in a stable order."""
    report = out_dir / "report.html"
    return (report if report.exists() else None), sorted((out_dir / "figures").glob("*"))


def run_on_backend(plain: dict[str, Any], posts: Any, out_dir: Path, seed: int) -> Any:
    """The package's method with its heavy steps on the configured backend (``backend`` group);
    it reads Parquet: a Parquet ``data.path`` as is, other data written to the run directory first."""
    from research.pipeline import PipelineSpec
    from research.posts import write_posts
    from research.scale import BackendSpec, detect_parquet

    if plain["method"]["name"] != "joint":
        raise ConfigError(
            f"backend={plain['backend']['name']} projects time windows across workers, which only "
            f"method=joint uses; {plain['method']['name']!r} needs backend=memory (a Dask engine "
            "for the neighbours projection of hijack is not written yet)"
        )
    data = plain["data"]
    path = Path(data["path"]) if data.get("kind") == "file" and data.get("path") else None
    if path is None or not (path.is_dir() or path.suffix == ".parquet"):
        path = write_posts(posts, out_dir / "posts.parquet")
    spec = PipelineSpec.from_dict(method_params(plain))
    return detect_parquet(
        path,
        spec,
        seed=seed,
        backend=BackendSpec.from_dict(plain["backend"]),
        progress=bool(plain.get("progress")),
    )


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point: one run, or with ``experiment=NAME`` a whole experiment (returns F1
    of a single run for sweepers)."""
    try:
        if cfg.get("experiment"):
            from experiments.experiment import run_experiment

            done = run_experiment(cfg, list(HydraConfig.get().overrides.task))
            _report_experiment(done)
            return None
        out_dir = Path(HydraConfig.get().runtime.output_dir)
        metrics = run(cfg, out_dir)
    except UserError as err:
        log.error("error: %s", err)
        print(f"error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    if metrics:
        log.info(
            "F1 %.3f  precision %.3f  recall %.3f  benign FPR %.4f  (%s flagged of %s accounts)",
            metrics["f1"], metrics["precision"], metrics["recall"], metrics["fpr"],
            f"{metrics['n_flagged']:,}", f"{metrics['n_accounts']:,}",
        )  # fmt: skip
    report, figures = artefacts(out_dir)
    if report is not None:
        log.info("report:  %s", _shown(report))
    for path in figures:
        log.info("figure:  %s", _shown(path))
    return float(metrics["f1"]) if metrics else None


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is below it (shorter to read and click)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _report_experiment(done: Any) -> None:
    execution, name = done.execution, done.experiment.name
    log.info(
        "%s: %d runs (%d cached, %d computed, %d failed)",
        name, len(done.experiment.runs), execution.cached, execution.computed, execution.failed,
    )  # fmt: skip
    for path in done.paths:
        log.info("  %s", path)
    if not done.paths:
        log.info(
            "  shard done; run again without sweep.n_shards to write the results table and figures"
        )


def _flags(argv: list[str]) -> list[str]:
    """``--force`` (recompute cached runs) as the Hydra override it stands for."""
    return [("sweep.force=true" if arg == "--force" else arg) for arg in argv]


if __name__ == "__main__":
    sys.argv = [sys.argv[0], *_flags(sys.argv[1:])]
    main()

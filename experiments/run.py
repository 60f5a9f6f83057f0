"""One run: config -> data -> method -> metrics and artefacts.

    python -m experiments.run                              # default scenario and method
    python -m experiments.run data=camouflage seed=2
    python -m experiments.run -m seed=0,1,2,3,4            # a sweep
    python -m experiments.run experiment=campaign_size     # an experiment: figure/table (experiments.experiment)

The run directory (``hydra.run.dir``) receives ``config.yaml`` (resolved),
``metrics.json``, ``accounts.csv``, ``clusters.csv``, ``summary.json``,
``provenance.json`` and ``figures/*.pdf|png``. With ``write_paper_figures``
the figures are also copied to ``paper/figures/``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments.config import load_data, method_params
from research.errors import ConfigError, UserError


def run(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Execute one run and write its artefacts into ``out_dir``; returns the metrics."""
    from research.evaluate import evaluate
    from research.graph.events import encode
    from research.methods import run_method
    from research.outputs import to_json_text, write_detection
    from research.plotting import save_figure
    from research.plotting.figures import cluster_timeline, evidence_map

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    seed = int(plain["seed"])
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))

    posts, truth, data_info = load_data(plain["data"], seed, progress=bool(plain.get("progress")))
    events = encode(posts)
    backend = (plain.get("backend") or {}).get("name", "memory")
    if backend == "memory":
        detection = run_method(
            plain["method"]["name"],
            posts,
            method_params(plain),
            seed=seed,
            events=events,
            progress=bool(plain.get("progress")),
        )
    else:
        detection = run_on_backend(plain, posts, out_dir, seed)
    metrics = evaluate(detection.accounts, truth) if truth is not None else {}
    write_detection(detection, out_dir, metrics=metrics, data=data_info)
    (out_dir / "metrics.json").write_text(to_json_text(metrics))

    figures = out_dir / "figures"
    flagged = detection.flagged_clusters
    if len(flagged):
        cluster = int(flagged["cluster"].iloc[0])
        save_figure(
            cluster_timeline(events, detection.clustering.membership, cluster), figures / "timeline"
        )
    if len(detection.clusters) and "concert" in detection.clusters:  # baselines may skip evidence
        save_figure(evidence_map(detection.clusters), figures / "evidence_map")
    if plain.get("write_paper_figures"):
        paper_figures = Path(plain.get("paper_dir", "paper")) / "figures"
        paper_figures.mkdir(parents=True, exist_ok=True)
        for path in sorted(figures.glob("*")):
            shutil.copyfile(path, paper_figures / f"run_{plain['data']['name']}_{path.name}")
    return metrics


def run_on_backend(plain: dict[str, Any], posts: Any, out_dir: Path, seed: int) -> Any:
    """The package's method with its heavy steps on the configured backend (``backend`` group);
    it reads Parquet: a Parquet ``data.path`` as is, other data written to the run directory first."""
    from research.pipeline import PipelineSpec
    from research.posts import write_posts
    from research.scale import BackendSpec, detect_parquet

    if plain["method"]["name"] != "joint":
        raise ConfigError(
            f"backend={plain['backend']['name']} runs the package's method only, not {plain['method']['name']!r}"
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
        metrics = run(cfg, Path(HydraConfig.get().runtime.output_dir))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    if metrics:
        print(
            f"F1 {metrics['f1']:.3f}  precision {metrics['precision']:.3f}  recall {metrics['recall']:.3f}  "
            f"benign FPR {metrics['fpr']:.4f}  ({metrics['n_flagged']} flagged of {metrics['n_accounts']} accounts)"
        )
        return float(metrics["f1"])
    return None


def _report_experiment(done: Any) -> None:
    execution, name = done.execution, done.experiment.name
    print(
        f"{name}: {len(done.experiment.runs)} runs ({execution.cached} cached, {execution.computed} computed, "
        f"{execution.failed} failed)"
    )
    for path in done.paths:
        print(f"  {path}")
    if not done.paths:
        print(
            "  shard done; run again without sweep.n_shards to write the results table and figures"
        )


def _flags(argv: list[str]) -> list[str]:
    """``--force`` (recompute cached runs) as the Hydra override it stands for."""
    return [("sweep.force=true" if arg == "--force" else arg) for arg in argv]


if __name__ == "__main__":
    sys.argv = [sys.argv[0], *_flags(sys.argv[1:])]
    main()

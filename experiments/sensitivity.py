"""Sensitivity: each setting of the method swept around its chosen value, the others held.

    python -m experiments.sensitivity [--profile quick]       # or experiment=sensitivity

Every threshold of the verdict ladder over its selection range (cheap: the test draws' group
evidence is computed once), and every structural setting (the graph's neighbours, edge floor
and resolution; the rule's candidate span and pooling) over its range (each value recomputes
the draws' groups), on test draws of every family. For each value: median and 10th-percentile
F1 over the attack families' draws and the pooled benign FPR. The figure has one panel per
setting, its chosen value marked.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import compose_config, protocol_cli
from experiments.generalisation import choice_of, load_selection
from experiments.protocol import (
    Pool,
    cached_evidence,
    default_structural,
    per_draw_metrics,
    precompute,
    test_draws,
)
from experiments.select import ProtocolRun, families
from research.outputs import to_json_text
from research.provenance import provenance


def _point(pool: Pool, rule: Any, attack: Sequence[str]) -> dict[str, float]:
    metrics = per_draw_metrics(pool, pool.flags(rule))
    f1 = metrics.loc[metrics["family"].isin(attack), "f1"].fillna(0.0).to_numpy()
    return {
        "f1_median": float(np.median(f1)) if len(f1) else float("nan"),
        "f1_p10": float(np.quantile(f1, 0.1)) if len(f1) else float("nan"),
        "fpr": float(metrics["fp"].sum() / max(metrics["n_benign"].sum(), 1)),
    }


def run_sensitivity(cfg: DictConfig, *, progress: bool = True) -> ProtocolRun:
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    spec = plain["experiment"]
    attack, benign = families(spec)
    scale = float(spec["scale"])
    draws = test_draws(attack, int(spec["test_draws"]), scale) + test_draws(
        benign, int(spec["benign_test_draws"]), scale
    )
    cache_dir = Path(str(plain["sweep"]["cache_dir"]))
    n_jobs = int(plain["sweep"].get("n_jobs", 1))
    paper_dir = Path(str(plain.get("paper_dir", "paper")))
    select = compose_config(["experiment=select", f"profile={plain['profile']['name']}"])
    spaces = OmegaConf.to_container(select.experiment, resolve=True)
    assert isinstance(spaces, dict)
    choice = choice_of(load_selection(paper_dir)["default"])
    rows: list[dict[str, Any]] = []
    precompute(draws, choice.structural, cache_dir, n_jobs=n_jobs)
    pool = Pool.of([cached_evidence(d, choice.structural, cache_dir) for d in draws])
    base_rule = choice.rule()
    for name, values in spaces["thresholds"].items():
        chosen = getattr(base_rule, name)
        for value in sorted(set(values) | {chosen}):
            rows.append({"setting": name, "tier": "threshold", "value": value, "chosen": value == chosen,
                         **_point(pool, replace(base_rule, **{name: value}), attack)})  # fmt: skip
    for name, values in spaces["structural"].items():
        chosen = choice.structural.get(name, default_structural(name))
        for value in sorted(set(values) | {chosen}):
            structural = {**choice.structural, name: value}
            precompute(draws, structural, cache_dir, n_jobs=n_jobs)
            alt = Pool.of([cached_evidence(d, structural, cache_dir) for d in draws])
            rule = replace(choice.rule(), **({name: value} if hasattr(base_rule, name) else {}))
            rows.append({"setting": name, "tier": "structural", "value": value, "chosen": value == chosen,
                         **_point(alt, rule, attack)})  # fmt: skip
        if progress:
            print(f"sensitivity: {name} done", flush=True)
    results = pd.DataFrame(rows).assign(status="ok", method="hijack")
    results["key"] = results["setting"] + "=" + results["value"].astype(str)
    results_dir = Path(str(plain["sweep"]["results_dir"])) / str(plain["profile"]["name"])
    results_dir.mkdir(parents=True, exist_ok=True)
    results_path = results_dir / "sensitivity.csv"
    results.to_csv(results_path, index=False)
    paths = [results_path, *write_sensitivity(paper_dir, results, draws, plain)]
    return ProtocolRun("sensitivity", draws, results, paths)


def write_sensitivity(
    paper_dir: Path, results: pd.DataFrame, draws: Sequence[Any], cfg: dict[str, Any]
) -> list[Path]:
    from experiments.outputs import write_macros
    from experiments.tools.latex import fmt_number
    from research.plotting import save_figure
    from research.plotting.generalisation import sensitivity_panels

    generated = paper_dir / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    results.to_csv(generated / "sensitivity.csv", index=False)
    outputs = [generated / "sensitivity.csv"]
    outputs += save_figure(sensitivity_panels(results), paper_dir / "figures" / "sensitivity")
    values = {}
    for name, part in results.groupby("setting", sort=False):
        key = f"sensitivity/{str(name).replace('_', '')}"
        values[f"{key}/f1min"] = fmt_number(part["f1_median"].min(), "score")
        values[f"{key}/f1max"] = fmt_number(part["f1_median"].max(), "score")
        values[f"{key}/fprmax"] = fmt_number(part["fpr"].max(), "percent")
    outputs += write_macros(paper_dir, "sensitivity", values, cfg["profile"], cfg)
    record = provenance(
        experiment=cfg["experiment"], profile=cfg["profile"], config=cfg,
        seeds=sorted({int(d.seed) for d in draws}),
        outputs={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs if p.exists() and p.name != "macros.tex"},
    )  # fmt: skip
    record_path = generated / "provenance" / "sensitivity.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(record))
    return [*outputs, record_path]


def main(argv: Sequence[str] | None = None) -> int:
    protocol_cli("sensitivity", run_sensitivity, __doc__.split("\n")[0], argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())

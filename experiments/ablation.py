"""Ablation: which part of the method does the work — the clustering, or the decision?

    python -m experiments.ablation [--profile quick]        # or experiment=ablation

Every clustering (the package's graph; the earlier 15-minute joint windows; co-URL + Louvain;
the co-link network; TF-IDF cosine; connected components of the package's graph) crossed with
every decision (flag every cluster of at least ``min_size`` accounts; the package's verdict
ladder with its default settings), on test draws of every attack family and of the benign
look-alike families. The table gives the median F1 per family and the pooled benign FPR of
each pair; the figure, median F1 over all attack families.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import protocol_cli
from experiments.protocol import (
    METHOD_SOURCES,
    Draw,
    Pool,
    per_draw_metrics,
    source_hash,
    test_draws,
    truth_labels,
)
from experiments.select import ProtocolRun, families
from research.outputs import to_json_text
from research.provenance import provenance

#: Clusterings by name: how each is made from a draw (the package's pipeline up to Leiden, or a
#: baseline's own clusters, its decision ignored).
CLUSTERINGS = ("hijack", "joint", "courl_louvain", "qut_colink", "pacheco", "components")
DECISIONS = ("flag_all", "rule")


def _clustering(name: str, sim: Any, events: Any) -> Any:
    from research.methods import JOINT_GRAPH, run_method
    from research.pipeline import PipelineSpec, cluster_accounts

    if name == "hijack":
        return cluster_accounts(events, PipelineSpec(), seed=0)
    if name == "joint":
        return cluster_accounts(events, PipelineSpec.from_dict(dict(JOINT_GRAPH)), seed=0)
    if name == "components":
        return cluster_accounts(
            events, replace(PipelineSpec(), detector="components", detector_params={}), seed=0
        )
    return run_method(name, sim.posts, {"describe": False}, seed=0, events=events).clustering


def _flag_all(clustering: Any, min_size: int) -> np.ndarray:
    membership = clustering.membership
    sizes = np.bincount(membership[membership >= 0], minlength=clustering.n_clusters)
    return (membership >= 0) & (sizes[np.maximum(membership, 0)] >= min_size)


def ablation_draw(draw: Draw, cache_dir: Path, min_size: int) -> list[dict[str, Any]]:
    """Every clustering x decision on one draw: one metrics row each (cached as JSON)."""
    key = hashlib.sha256(json.dumps({"draw": asdict(draw), "source": source_hash(METHOD_SOURCES), "min_size": min_size,
                                     "clusterings": CLUSTERINGS}, sort_keys=True).encode()).hexdigest()[:20]  # fmt: skip
    path = Path(cache_dir) / "ablation" / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    from research.graph.events import encode
    from research.verdicts import decide

    sim = draw.simulate()
    events = encode(sim.posts)
    texts = sim.posts.column("text").combine_chunks()
    positive, decoy = truth_labels(sim.truth, events.accounts.values.to_pylist())
    pool = Pool([draw], pd.DataFrame(), np.zeros(0, int), np.zeros(0, int), np.zeros(0, int),
                positive, decoy, np.zeros(len(positive), dtype=int))  # fmt: skip
    rows = []
    for name in CLUSTERINGS:
        clustering = _clustering(name, sim, events)
        flags = {
            "flag_all": _flag_all(clustering, min_size),
            "rule": decide(events, clustering, texts=texts)
            .accounts["flagged"]
            .to_numpy(dtype=bool),
        }
        for decision, flagged in flags.items():
            row = per_draw_metrics(pool, flagged).iloc[0].to_dict()
            rows.append({"clustering": name, "decision": decision, **_plain(row)})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, sort_keys=True))
    return rows


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.floating):
            v = None if np.isnan(v) else float(v)
        elif isinstance(v, float) and np.isnan(v):
            v = None
        out[k] = v
    return out


def run_ablation(cfg: DictConfig, *, progress: bool = True) -> ProtocolRun:
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    spec = plain["experiment"]
    attack, benign = families(spec)
    cache_dir = Path(str(plain["sweep"]["cache_dir"]))
    draws = test_draws(attack + benign, int(spec["test_draws"]), float(spec["scale"]))
    n_jobs = int(plain["sweep"].get("n_jobs", 1))
    min_size = int(spec.get("min_size", 5))
    if n_jobs > 1:
        from joblib import Parallel, delayed

        per_draw = Parallel(n_jobs=n_jobs)(
            delayed(ablation_draw)(d, cache_dir, min_size) for d in draws
        )
    else:
        per_draw = [ablation_draw(d, cache_dir, min_size) for d in draws]
    results = pd.DataFrame([row for rows in per_draw for row in rows]).assign(status="ok")
    results["key"] = [
        f"{c}/{d}/{f}/{s}"
        for c, d, f, s in results[["clustering", "decision", "family", "seed"]].itertuples(
            index=False
        )
    ]
    results["method"] = results["clustering"] + "+" + results["decision"]
    results_dir = Path(str(plain["sweep"]["results_dir"])) / str(plain["profile"]["name"])
    results_dir.mkdir(parents=True, exist_ok=True)
    results_path = results_dir / "ablation.csv"
    results.to_csv(results_path, index=False)
    paper_dir = Path(str(plain.get("paper_dir", "paper")))
    paths = [results_path, *write_ablation(paper_dir, results, attack, plain)]
    if progress:
        print(summary(results, attack).to_string(index=False), flush=True)
    return ProtocolRun("ablation", draws, results, paths)


def summary(results: pd.DataFrame, attack: Sequence[str]) -> pd.DataFrame:
    """Per clustering and decision: median F1 per attack family, over all of them, and the
    pooled benign FPR over every draw."""
    rows = []
    for (clustering, decision), part in results.groupby(["clustering", "decision"], sort=False):
        row: dict[str, Any] = {"clustering": clustering, "decision": decision}
        on_attack = part[part["family"].isin(attack)]
        for fam in attack:
            row[fam] = float(on_attack.loc[on_attack["family"] == fam, "f1"].fillna(0).median())
        row["f1_median"] = float(on_attack["f1"].fillna(0).median())
        row["fpr"] = float(part["fp"].sum() / max(part["n_benign"].sum(), 1))
        rows.append(row)
    return pd.DataFrame(rows)


def write_ablation(
    paper_dir: Path, results: pd.DataFrame, attack: Sequence[str], cfg: dict[str, Any]
) -> list[Path]:
    from experiments.outputs import write_macros
    from experiments.tools.latex import booktabs, escape, fmt_number
    from research.plotting import method_label, save_figure
    from research.plotting.generalisation import ablation_grid

    generated = paper_dir / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    table = summary(results, attack)
    table.to_csv(generated / "ablation.csv", index=False)
    cells = pd.DataFrame({
        "clustering": [escape(method_label(c) if c != "components" else "components") for c in table["clustering"]],
        "decision": [escape({"flag_all": "flag every cluster", "rule": "verdict ladder"}[d]) for d in table["decision"]],
    })  # fmt: skip
    for fam in attack:
        cells[fam.replace("_", " ")] = [fmt_number(v, "score") for v in table[fam]]
    cells["all"] = [fmt_number(v, "score") for v in table["f1_median"]]
    cells["benign FPR"] = [fmt_number(v, "percent") for v in table["fpr"]]
    (generated / "ablation.tex").write_text(
        booktabs(cells, column_format="ll" + "r" * (len(cells.columns) - 2))
    )
    outputs = [generated / "ablation.csv", generated / "ablation.tex"]
    outputs += save_figure(
        ablation_grid(table, CLUSTERINGS, DECISIONS), paper_dir / "figures" / "ablation"
    )
    values = {}
    for _, row in table.iterrows():
        stem = f"ablation/{row['clustering'].replace('_', '')}/{row['decision'].replace('_', '')}"
        values[f"{stem}/f1"] = fmt_number(row["f1_median"], "score")
        values[f"{stem}/fpr"] = fmt_number(row["fpr"], "percent")
    outputs += write_macros(paper_dir, "ablation", values, cfg["profile"], cfg)
    record = provenance(
        experiment=cfg["experiment"], profile=cfg["profile"], config=cfg,
        seeds=sorted({int(s) for s in results["seed"]}),
        outputs={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs if p.exists() and p.name != "macros.tex"},
    )  # fmt: skip
    record_path = generated / "provenance" / "ablation.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(record))
    return [*outputs, record_path]


def main(argv: Sequence[str] | None = None) -> int:
    protocol_cli("ablation", run_ablation, __doc__.split("\n")[0], argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Detection latency: how long after a campaign's first post each method flags it.

    python -m experiments.latency [--profile quick]         # or experiment=latency

Every method runs on the data seen so far, at geometric steps after the campaign's first
malicious post (1 h, 3 h, 6 h, 12 h, 1, 2 and 4 days, then all the data;
:func:`experiments.tools.harness.detection_latency`), on test draws of every attack family,
with its settings chosen on every family (ours: ``selection.json``'s defaults; each
baseline: the parameters the generalisation experiment tuned on every family, else its
paper's). A campaign counts as detected when a flagged cluster holds at least five of its
accounts and they are at least half of the cluster. The table gives, per family and method,
the median latency over the draws where it was detected and how many were never detected.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import protocol_cli
from experiments.generalisation import OURS, choice_of, load_selection
from experiments.outputs import registry
from experiments.protocol import METHOD_SOURCES, Draw, source_hash, test_draws
from experiments.select import ProtocolRun, families
from research.outputs import to_json_text
from research.provenance import provenance

HOUR = 3600.0
#: Offsets after the first malicious post at which the methods run.
STEPS_S = (1 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 96 * HOUR)


def tuned_params(paper_dir: Path) -> dict[str, dict[str, Any]]:
    """Each baseline's parameters tuned on every family (the generalisation experiment's
    record), ``{}`` (its paper's settings) where there is none."""
    path = paper_dir / "generated" / "provenance" / "generalisation.json"
    if not path.exists():
        return {}
    chosen = json.loads(path.read_text()).get("chosen", {})
    return {k.split("/")[0]: v for k, v in chosen.items() if k.endswith("/defaults")}


def latency_draw(
    method: str, params: dict[str, Any], draw: Draw, cache_dir: Path
) -> dict[str, Any]:
    """One method's latency on one draw (cached as JSON)."""
    key = hashlib.sha256(json.dumps({"method": method, "params": params, "draw": asdict(draw), "steps": STEPS_S,
                                     "source": source_hash(METHOD_SOURCES)}, sort_keys=True, default=str).encode()).hexdigest()[:20]  # fmt: skip
    path = Path(cache_dir) / "latency" / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    from experiments.tools.harness import detection_latency

    sim = draw.simulate()
    table = detection_latency(
        method, sim.posts, sim.truth, params=params, seed=0, offsets_s=STEPS_S
    )
    row = table.iloc[0] if len(table) else None
    out = {
        "family": draw.family, "seed": draw.seed, "method": method,
        "latency_h": None if row is None or pd.isna(row["latency_h"]) else float(row["latency_h"]),
        "recall_at_detection": None if row is None or pd.isna(row["recall_at_detection"]) else float(row["recall_at_detection"]),
        "runs": int(row["runs"]) if row is not None else 0,
        "duration_h": float(sim.scenario.campaigns[0].duration_days * 24) if sim.scenario.campaigns else None,
    }  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, sort_keys=True))
    return out


def run_latency(cfg: DictConfig, *, progress: bool = True) -> ProtocolRun:
    from research.methods import TUNING

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    spec = plain["experiment"]
    attack, _benign = families(spec)
    cache_dir = Path(str(plain["sweep"]["cache_dir"]))
    paper_dir = Path(str(plain.get("paper_dir", "paper")))
    n_jobs = int(plain["sweep"].get("n_jobs", 1))
    draws = test_draws(attack, int(spec["test_draws"]), float(spec["scale"]))
    selection = load_selection(paper_dir)
    tuned = tuned_params(paper_dir)
    methods = {OURS: choice_of(selection["default"]).params()}
    methods |= {m: tuned.get(m, {}) for m in TUNING}
    jobs = [(m, p, d) for m, p in methods.items() for d in draws]
    if n_jobs > 1:
        from joblib import Parallel, delayed

        rows = Parallel(n_jobs=n_jobs)(
            delayed(latency_draw)(m, p, d, cache_dir) for m, p, d in jobs
        )
    else:
        rows = [latency_draw(m, p, d, cache_dir) for m, p, d in jobs]
    results = pd.DataFrame(rows).assign(status="ok")
    results["key"] = [
        f"{m}/{f}/{s}" for m, f, s in results[["method", "family", "seed"]].itertuples(index=False)
    ]
    results_dir = Path(str(plain["sweep"]["results_dir"])) / str(plain["profile"]["name"])
    results_dir.mkdir(parents=True, exist_ok=True)
    results_path = results_dir / "latency.csv"
    results.to_csv(results_path, index=False)
    paths = [results_path, *write_latency(paper_dir, results, attack, list(methods), plain)]
    if progress:
        print(summary(results, attack, list(methods)).to_string(index=False), flush=True)
    return ProtocolRun("latency", draws, results, paths)


def summary(results: pd.DataFrame, attack: Sequence[str], methods: Sequence[str]) -> pd.DataFrame:
    rows = []
    for fam in attack:
        for method in methods:
            part = results[(results["family"] == fam) & (results["method"] == method)]
            if len(part) == 0:
                continue
            latency = part["latency_h"].dropna().to_numpy(dtype=float)
            rows.append({
                "family": fam, "method": method, "draws": len(part),
                "latency_h_median": float(np.median(latency)) if len(latency) else float("nan"),
                "never": int(part["latency_h"].isna().sum()),
            })  # fmt: skip
    return pd.DataFrame(rows)


def write_latency(
    paper_dir: Path,
    results: pd.DataFrame,
    attack: Sequence[str],
    methods: Sequence[str],
    cfg: dict[str, Any],
) -> list[Path]:
    from experiments.outputs import write_macros
    from experiments.tools.latex import booktabs, escape, fmt_number
    from research.plotting import method_label

    generated = paper_dir / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    table = summary(results, attack, methods)
    table.to_csv(generated / "latency.csv", index=False)
    cells = pd.DataFrame({"family": [escape(f.replace("_", " ")) for f in attack]})
    for method in methods:
        column = []
        for fam in attack:
            row = table[(table["family"] == fam) & (table["method"] == method)]
            if len(row) == 0:
                column.append("--")
                continue
            median, never, n = (
                row["latency_h_median"].iloc[0],
                int(row["never"].iloc[0]),
                int(row["draws"].iloc[0]),
            )
            column.append(
                f"{fmt_number(median, 'sig')} h" + (f" ({never}/{n} never)" if never else "")
                if np.isfinite(median)
                else f"never ({n}/{n})"
            )
        cells[method_label(method)] = column
    (generated / "latency.tex").write_text(booktabs(cells))
    outputs = [generated / "latency.csv", generated / "latency.tex"]
    values = {}
    for _, row in table.iterrows():
        stem = f"latency/{row['family'].replace('_', '')}/{row['method'].replace('_', '')}"
        values[f"{stem}/median"] = fmt_number(row["latency_h_median"], "sig")
        values[f"{stem}/never"] = str(int(row["never"]))
    outputs += write_macros(paper_dir, "latency", values, cfg["profile"], cfg)
    record = provenance(
        experiment=cfg["experiment"], profile=cfg["profile"], config=cfg, registry=registry(), steps_s=list(STEPS_S),
        seeds=sorted({int(s) for s in results["seed"]}),
        outputs={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs if p.exists() and p.name != "macros.tex"},
    )  # fmt: skip
    record_path = generated / "provenance" / "latency.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(record))
    return [*outputs, record_path]


def main(argv: Sequence[str] | None = None) -> int:
    protocol_cli("latency", run_latency, __doc__.split("\n")[0], argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())

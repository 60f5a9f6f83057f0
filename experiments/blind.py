"""The shipped defaults on draws nobody looked at: a blind check of the held-out figures.

The generalisation table (:mod:`experiments.generalisation`) reports test draws (seeds 0+)
with settings chosen on development draws (seeds 1000+). Those test draws were also read to
diagnose failures, and some of the method's design followed from them (the episode term,
bursts, text sites: README, "Where this stands"), so its figures are not blind. This
experiment runs the package's frozen defaults (``configs/rule/default.yaml``, the protocol's
choice on every family's development draws) on draws of every family from seeds that no
step of the design or the selection used (``first_seed``: a fresh range for each build,
configs/experiment/blind.yaml keeps the ledger), and reports, per attack
family, the median and 10th-percentile F1 and the draws that failed, and per benign
look-alike the share of its accounts flagged, as the generalisation table does.

Run: ``python -m experiments.blind --profile quick`` (writes ``paper/generated/blind.csv``,
``blind.md`` and the ``blind/...`` macros, with provenance). ``experiment=blind_full`` (``python
-m experiments.run experiment=blind_full profile=quick``) is the same check on platforms at each
family's own size rather than the protocol's quarter (``blind_full.md``, ``blindfull/...``):
the selection's bars were measured on small platforms, and a threshold that chance alone
reaches more often on bigger ones (an app lift of three users sharing a blog) would show there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import protocol_cli
from experiments.generalisation import FAILED_BELOW, benign_shares
from experiments.outputs import registry
from experiments.protocol import (
    Draw,
    Pool,
    cached_evidence,
    default_structural,
    per_draw_metrics,
    precompute,
)
from experiments.select import ProtocolRun, families
from research.learned import shipped
from research.outputs import to_json_text
from research.provenance import provenance
from research.rule import Rule

#: The structural settings the defaults freeze (configs/projection, filter, detect).
STRUCTURAL = (
    "min_weight",
    "resolution",
    "neighbours",
    "candidate_span",
    "pool",
    "wave_gap",
    "wave_floor",
    "wave_gaps",
)


def blind_draws(attack: Sequence[str], benign: Sequence[str], spec: dict) -> list[Draw]:
    """``test_draws`` draws of each attack family and ``benign_test_draws`` of each benign
    look-alike, from ``first_seed`` on."""
    first, scale = int(spec["first_seed"]), float(spec["scale"])
    n_attack, n_benign = int(spec["test_draws"]), int(spec["benign_test_draws"])
    return [Draw(f, first + k, scale) for f in attack for k in range(n_attack)] + [
        Draw(f, first + k, scale) for f in benign for k in range(n_benign)
    ]


def summarise(metrics: pd.DataFrame, attack: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per attack family: draws, median and 10th-percentile F1, failed draws (F1 below
    :data:`FAILED_BELOW`); and the flagged share of every benign look-alike with the pooled
    benign FPR."""
    rows = []
    for fam in attack:
        f1 = metrics.loc[metrics["family"] == fam, "f1"].fillna(0.0)
        rows.append(
            {
                "family": fam,
                "draws": len(f1),
                "f1_median": float(f1.median()),
                "f1_p10": float(f1.quantile(0.1)),
                "failed": int((f1 < FAILED_BELOW).sum()),
            }
        )
    # The generalisation table's pooled shares, one row per kind; the pooled FPR last.
    pooled = benign_shares(metrics.assign(method="hijack"), ["hijack"]).drop(columns="method")
    shares = pd.DataFrame({"kind": list(pooled.columns), "flagged": pooled.iloc[0].to_list()})
    shares["kind"] = shares["kind"].replace({"fpr": "pooled FPR"})
    return pd.DataFrame(rows), shares


def run_blind(cfg: DictConfig, *, progress: bool = True) -> ProtocolRun:
    """Run the defaults on the blind draws; write the tables, macros and provenance."""
    from experiments.outputs import write_macros
    from experiments.tools.latex import fmt_number

    plain = OmegaConf.to_container(cfg, resolve=True)
    spec = plain["experiment"]
    attack, benign = families(spec)[:2]
    structural = {k: default_structural(k) for k in STRUCTURAL}
    draws = blind_draws(attack, benign, spec)
    cache = Path(str(cfg.sweep.cache_dir))
    precompute(draws, structural, cache, n_jobs=int(cfg.sweep.n_jobs))
    pool = Pool.of([cached_evidence(d, structural, cache) for d in draws])
    metrics = per_draw_metrics(pool, pool.flags(Rule()))
    table, shares = summarise(metrics, attack)
    # The learned rule the package ships, on the same groups (it was fitted on groups made with
    # these structural settings: research.learned.shipped records them).
    learned, fitted_on = shipped()
    if fitted_on["structural"] != structural:
        raise ValueError(
            "research/rules/learned.json.gz was fitted on groups of other structural settings "
            f"({fitted_on['structural']}, not {structural}): run python -m experiments.learned "
            "--freeze"
        )
    learned_metrics = per_draw_metrics(pool, pool.flags_of(learned.compromised(pool.evidence)))
    learned_table, learned_shares = summarise(learned_metrics, attack)

    paper_dir = Path(str(cfg.paper_dir))
    generated = paper_dir / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    # Each blind check (blind: the protocol's scale; blind_full: the families' own) writes
    # under its name; its macros under the name without underscores.
    name = str(spec["name"])
    key = name.replace("_", "")
    outputs = [generated / f"{name}.csv", generated / f"{name}_draws.csv", generated / f"{name}.md"]
    table.round(6).to_csv(outputs[0], index=False)
    learned_columns = {f"learned_{c}": learned_metrics[c] for c in ("f1", "tp", "fp")}
    metrics.assign(**learned_columns).round(6).to_csv(outputs[1], index=False)
    first = int(spec["first_seed"])
    head = (
        f"The frozen defaults on draws no step of the design or the selection used (seeds "
        f"{first}+; {int(spec['test_draws'])} per attack family, {int(spec['benign_test_draws'])} "
        f"per benign look-alike; platforms at {float(spec['scale']):g} of each family's size). "
        f"Written by `python -m experiments.run experiment={name}`.\n\n"
    )

    def cells(t: pd.DataFrame) -> list[str]:
        return [f"{m:.2f} ({p:.2f})" for m, p in zip(t.f1_median, t.f1_p10, strict=True)]

    shown = pd.DataFrame({
        "family": table["family"], "draws": table["draws"],
        "median F1 (p10)": cells(table), "failed": table["failed"],
        "learned rule: median F1 (p10)": cells(learned_table),
        "learned: failed": learned_table["failed"],
    })  # fmt: skip
    flagged = shares.assign(
        flagged=[f"{v:.2%}" for v in shares.flagged],
        learned=[f"{v:.2%}" for v in learned_shares.flagged],
    )
    outputs[2].write_text(
        head + shown.to_markdown(index=False) + "\n\n" + flagged.to_markdown(index=False) + "\n"
    )
    values = {f"{key}/firstseed": str(first), f"{key}/draws": str(int(spec["test_draws"]))}
    for _, row in table.iterrows():
        stem = f"{key}/{row['family'].replace('_', '')}"
        values[f"{stem}/f1"] = fmt_number(row["f1_median"], "score")
        values[f"{stem}/f1p10"] = fmt_number(row["f1_p10"], "score")
        values[f"{stem}/failed"] = str(int(row["failed"]))
    for _, row in learned_table.iterrows():
        stem = f"{key}/learned/{row['family'].replace('_', '')}"
        values[f"{stem}/f1"] = fmt_number(row["f1_median"], "score")
        values[f"{stem}/f1p10"] = fmt_number(row["f1_p10"], "score")
        values[f"{stem}/failed"] = str(int(row["failed"]))
    values[f"{key}/learned/failed"] = str(int(learned_table["failed"].sum()))
    values[f"{key}/learned/benign/fpr"] = fmt_number(
        learned_shares.loc[learned_shares["kind"] == "pooled FPR", "flagged"].iloc[0], "percent"
    )
    values[f"{key}/minp10"] = fmt_number(table["f1_p10"].min(), "score")
    values[f"{key}/failed"] = str(int(table["failed"].sum()))
    for _, row in shares.iterrows():
        kind = "fpr" if row["kind"] == "pooled FPR" else row["kind"].replace("_", "")
        values[f"{key}/benign/{kind}"] = fmt_number(row["flagged"], "percent")
    values[f"{key}/benign/max"] = fmt_number(
        shares.loc[shares["kind"] != "pooled FPR", "flagged"].max(), "percent"
    )
    outputs += write_macros(paper_dir, name, values, plain["profile"], plain)
    record = provenance(
        experiment=spec, profile=plain["profile"], config=plain, registry=registry(),
        seeds=sorted({d.seed for d in draws}),
        outputs={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs if p.exists() and p.name != "macros.tex"},
    )  # fmt: skip
    record_path = generated / "provenance" / f"{name}.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(record))
    if progress:
        print(table.to_string(index=False))
        print(shares.to_string(index=False), flush=True)
    return ProtocolRun(name, draws, metrics, [*outputs, record_path])


def main(argv: Sequence[str] | None = None) -> int:
    protocol_cli("blind", run_blind, __doc__.split("\n")[0], argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

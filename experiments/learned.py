"""The learned rule (:mod:`research.learned`) under the protocol the ladder is held to.

For each attack family, the rule is fitted on the development draws of the other families and
of every benign look-alike, with the structural settings that fold's selection chose
(``paper/generated/selection.json``: the same groups the ladder judged), and its settings (the
trees' size and number, the probability ``threshold``) are chosen on the same draws by the
protocol's objective among :data:`GRID`'s 24 points, the budget every baseline gets; the
starting point (:data:`START`: scikit-learn's defaults, even odds) is kept unless another beats
it by ``margin_se`` bootstrap standard errors, as for the baselines' papers' settings. It is then reported on the held-out family's test draws. A group is labelled a
campaign for fitting where most of its adopters are compromised (:data:`CAMPAIGN_SHARE`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import compose_config
from experiments.protocol import (
    Margin,
    Pool,
    dev_draws,
    evidence_pool,
    load_selection,
    objective,
    per_draw_metrics,
)
from experiments.select import ProtocolRun, families
from research.learned import TERMS, LearnedRule, fit
from research.outputs import to_json_text
from research.provenance import provenance

#: The settings searched: 2 tree sizes x 2 numbers of trees x 6 thresholds, the baselines'
#: budget (24).
GRID: dict[str, tuple[float, ...]] = {
    "max_leaf_nodes": (7, 31),
    "max_iter": (100, 300),
    "threshold": (0.5, 0.7, 0.8, 0.9, 0.95, 0.98),
}
#: The preferred point: scikit-learn's defaults (31 leaves, 100 trees) and even odds.
START = {"max_leaf_nodes": 31, "max_iter": 100, "threshold": 0.5}
#: A group is a campaign, for fitting, where at least this share of its adopters is.
CAMPAIGN_SHARE = 0.5


def choose_learned(
    pool: Pool,
    attack: Sequence[str],
    *,
    margin: Margin | None = None,
    grid: dict[str, tuple[float, ...]] = GRID,
    min_size: int = 3,
) -> tuple[LearnedRule, float]:
    """Fit the learned rule on ``pool``'s groups for each model setting in ``grid`` and pick
    the setting and threshold with the best :func:`~experiments.protocol.objective` over the
    ``attack`` families, within the bars first (:meth:`~experiments.protocol.Margin.best`, as
    for our ladder and the baselines); :data:`START` stays unless the best beats it by ``margin``. Returns
    the rule and its score."""
    labels = pool.group_truth() >= CAMPAIGN_SHARE
    margin = margin or Margin(attack, 0.0, 0, 0)
    big = pool.evidence["n_adopters"].to_numpy() >= min_size
    scored: list[tuple[dict[str, Any], float, pd.DataFrame]] = []
    rules: dict[tuple[int, int], LearnedRule] = {}
    for leaves, trees in itertools.product(grid["max_leaf_nodes"], grid["max_iter"]):
        rule = fit(pool.evidence, labels, max_leaf_nodes=int(leaves), max_iter=int(trees),
                   min_size=min_size)  # fmt: skip
        rules[(int(leaves), int(trees))] = rule
        probability = rule.probability(pool.evidence)
        for threshold in grid["threshold"]:
            flagged = pool.flags_of(big & (probability >= threshold))
            metrics = per_draw_metrics(pool, flagged)
            point = {"max_leaf_nodes": leaves, "max_iter": trees, "threshold": threshold}
            scored.append((point, objective(metrics, attack), metrics))
    start = next(i for i, (point, _s, _m) in enumerate(scored) if point == START)
    best = margin.best([(metrics, score) for _point, score, metrics in scored])
    if best != start and not margin.beats(
        scored[best][2], scored[best][1], scored[start][2], scored[start][1]
    ):
        best = start
    point, score, _metrics = scored[best]
    chosen = rules[(int(point["max_leaf_nodes"]), int(point["max_iter"]))]
    return replace(chosen, threshold=float(point["threshold"])), float(score)


def learned_on(pool: Pool, rule: LearnedRule) -> pd.DataFrame:
    """Per-draw metrics of ``rule`` on ``pool`` (with account scores for average precision:
    the highest probability among the groups each account adopted)."""
    judged = rule.compromised(pool.evidence)
    group_score = np.where(
        pool.evidence["n_adopters"].to_numpy() >= rule.min_size,
        rule.probability(pool.evidence),
        0.0,
    )
    score = np.zeros(len(pool.positive))
    np.maximum.at(score, pool.pair_key, group_score[pool.pair_group])
    return per_draw_metrics(pool, pool.flags_of(judged), score)


#: Where the package ships the learned rule fitted on every family (research.methods reads it):
#: JSON, gzipped without a timestamp (same rule, same bytes).
SHIPPED = Path(__file__).resolve().parents[1] / "research" / "rules" / "learned.json.gz"


def fit_shipped(cfg: DictConfig, *, freeze: bool = False, progress: bool = True) -> ProtocolRun:
    """Fit the learned rule on every family's development draws with the default structural
    settings (``selection.json``'s default), tuned as in each fold; write a record of it to
    ``paper/generated/learned_rule.json`` (settings, score, the terms it leans on, the hash of
    the rule) and, with ``freeze``, ship the rule itself (:data:`SHIPPED`)."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    spec = plain["experiment"]
    attack, benign = families(spec)[:2]
    scale = float(spec["scale"])
    draws = dev_draws(attack, int(spec["dev_draws"]), scale) + dev_draws(
        benign, int(spec["dev_draws_benign"]), scale
    )
    paper_dir = Path(str(plain.get("paper_dir", "paper")))
    structural = load_selection(paper_dir)["default"]["structural"]
    cache_dir = Path(str(plain["sweep"]["cache_dir"]))
    pool, _knobs = evidence_pool(draws, structural, cache_dir, int(plain["sweep"].get("n_jobs", 1)))
    margin = Margin(
        attack, float(spec["margin_se"]), int(spec["n_resamples"]), int(spec["search_seed"])
    )
    rule, score = choose_learned(pool, attack, margin=margin)
    fitted_on = {
        "profile": plain["profile"]["name"],
        "draws": [asdict(d) for d in draws],
        "structural": structural,
        "score": round(score, 6),
    }
    data = gzip.compress(
        json.dumps({"fitted_on": fitted_on, "rule": rule.to_dict()}, sort_keys=True).encode(),
        mtime=0,
    )
    # What the rule leans on: each term's mean absolute push on the training groups' log-odds.
    big = pool.evidence["n_adopters"].to_numpy() >= rule.min_size
    push = np.abs(rule.contributions(pool.evidence.loc[big])).mean(axis=0)
    record = provenance(
        **fitted_on,
        settings=dict(rule.settings),
        threshold=rule.threshold,
        trees=len(rule.trees),
        terms=[[t, round(float(v), 4)] for t, v in sorted(zip(TERMS, push, strict=True), key=lambda x: -x[1])],
        rule_sha256=hashlib.sha256(data).hexdigest(),
    )  # fmt: skip
    if progress:
        print(f"learned: {dict(rule.settings)}, threshold {rule.threshold}: {score:.4f}")
    generated = paper_dir / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    paths = [generated / "learned_rule.json"]
    paths[0].write_text(to_json_text(record))
    if freeze:
        SHIPPED.parent.mkdir(parents=True, exist_ok=True)
        SHIPPED.write_bytes(data)
        paths.append(SHIPPED)
    check_record = provenance(
        experiment=spec, profile=plain["profile"], config=plain,
        seeds=sorted({d.seed for d in draws}),
        outputs={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths[:1]},
    )  # fmt: skip
    record_path = generated / "provenance" / "learned.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(check_record))
    return ProtocolRun("learned", draws, pd.DataFrame([{"score": score}]), [*paths, record_path])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.learned",
        description="fit the learned rule on every family's development draws",
    )
    parser.add_argument("--profile", default="full", help="full, quick or tiny (configs/profile)")
    parser.add_argument(
        "--freeze",
        action="store_true",
        help=f"ship the rule ({SHIPPED.relative_to(SHIPPED.parents[2])})",
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. sweep.n_jobs=2")
    args = parser.parse_args(argv)
    cfg = compose_config(["experiment=learned", f"profile={args.profile}", *args.overrides])
    done = fit_shipped(cfg, freeze=args.freeze)
    print("\n".join(f"wrote {p}" for p in done.paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())

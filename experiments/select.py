"""Choose the package's settings on development draws, and the settings of each held-out fold.

    python -m experiments.select                      # the full profile's draws
    python -m experiments.select --profile quick      # fewer, smaller draws (minutes)
    python -m experiments.select --freeze             # ... and write the choice to configs/

The choice (:mod:`experiments.protocol`) is made once on every attack family (the package's
defaults) and once per attack family without it (leave-one-family-out; the generalisation
experiment reports each family with the settings chosen without it). Everything chosen, the
score, and the draws it was chosen on go to ``paper/generated/selection.json``; the settings
table to ``paper/generated/selection.tex``. ``--freeze`` writes the defaults' settings into
``configs/rule/default.yaml``, ``configs/projection/neighbours.yaml``,
``configs/filter/min_weight.yaml`` and ``configs/detect/leiden_cpm.yaml``; the dataclass
defaults in ``research/rule.py`` and ``research/pipeline.py`` must then be set to match (a test
checks that configs and dataclasses agree).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import REPO, compose_config
from experiments.protocol import Choice, Draw, choose, dev_draws
from experiments.tools.latex import booktabs, escape
from research.outputs import to_json_text
from research.provenance import provenance


@dataclass
class ProtocolExecution:
    """How many draws were computed (the protocol caches per draw and setting)."""

    cached: int = 0
    computed: int = 0
    failed: int = 0


@dataclass
class ProtocolRun:
    """What a protocol experiment produced (the shape :mod:`experiments.paper` prints)."""

    name: str
    runs: list[Draw]
    results: pd.DataFrame
    paths: list[Path]
    execution: ProtocolExecution = field(default_factory=ProtocolExecution)

    @property
    def experiment(self) -> ProtocolRun:
        return self


def families(spec: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The attack and benign families an experiment names (``all`` for every registered one)."""
    from research.simulate.families import ATTACK_FAMILIES, BENIGN_FAMILIES

    def pick(value: Any, every: Sequence[str]) -> list[str]:
        return list(every) if value in (None, "all") else [str(v) for v in value]

    return pick(spec.get("attack"), ATTACK_FAMILIES), pick(spec.get("benign"), BENIGN_FAMILIES)


def selection_draws(spec: dict[str, Any]) -> list[Draw]:
    """The development draws: ``dev_draws`` of each attack family, ``dev_draws_benign`` of each
    benign family."""
    attack, benign = families(spec)
    scale = float(spec["scale"])
    return dev_draws(attack, int(spec["dev_draws"]), scale) + dev_draws(
        benign, int(spec["dev_draws_benign"]), scale
    )


def run_select(cfg: DictConfig, *, freeze: bool = False, progress: bool = True) -> ProtocolRun:
    """Make the default choice and the leave-one-family-out choices; write their record."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    spec = plain["experiment"]
    attack, _benign = families(spec)
    draws = selection_draws(spec)
    cache_dir = Path(str(plain["sweep"]["cache_dir"]))
    common = {
        "structural_space": spec["structural"] if spec.get("structural_search", True) else {},
        "threshold_space": spec["thresholds"],
        "cache_dir": cache_dir,
        "n_random": int(spec["n_random"]),
        "seed": int(spec.get("search_seed", 0)),
        "progress": progress,
        "n_jobs": int(plain["sweep"].get("n_jobs", 1)),
        "start": str(spec.get("start", "middle")),
        "margin_se": float(spec.get("margin_se", 1.0)),
        "n_resamples": int(spec.get("n_resamples", 200)),
        "priors": dict(spec.get("priors") or {}),
    }
    if progress:
        print(
            f"select: {len(draws)} development draws; default choice on {', '.join(attack)}",
            flush=True,
        )
    default = choose(draws, attack, **common)
    folds: dict[str, Choice] = {}
    for held_out in attack:
        kept = [d for d in draws if d.family != held_out]
        if progress:
            print(f"select: choice without {held_out}", flush=True)
        folds[held_out] = choose(kept, [a for a in attack if a != held_out], **common)
    paper_dir = Path(str(plain.get("paper_dir", "paper")))
    rows = [{"fold": "all", "score": default.score, **default.structural, **default.thresholds}]
    rows += [
        {"fold": f"without {f}", "score": c.score, **c.structural, **c.thresholds}
        for f, c in folds.items()
    ]
    results = pd.DataFrame(rows)
    results = results.assign(status="ok", key=results["fold"], method="hijack")
    results_dir = Path(str(plain["sweep"]["results_dir"])) / str(plain["profile"]["name"])
    results_dir.mkdir(parents=True, exist_ok=True)
    results_path = results_dir / "select.csv"
    results.to_csv(results_path, index=False)
    paths = [results_path, *write_selection(paper_dir, default, folds, draws, plain)]
    if freeze:
        paths += freeze_defaults(default)
    return ProtocolRun("select", draws, results, paths)


def choice_record(choice: Choice) -> dict[str, Any]:
    return {
        "attack": list(choice.attack),
        "score": round(choice.score, 6),
        "excess": round(choice.excess, 6),
        "structural": choice.structural,
        "thresholds": choice.thresholds,
        "params": choice.params(),
        "structural_trace": [
            {"structural": t["structural"], "score": round(t["score"], 6)} for t in choice.trace
        ],
    }


def write_selection(
    paper_dir: Path,
    default: Choice,
    folds: dict[str, Choice],
    draws: Sequence[Draw],
    cfg: dict[str, Any],
) -> list[Path]:
    """``generated/selection.json`` (every choice, its score and data) and ``selection.tex``."""
    generated = paper_dir / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    record = provenance(
        objective=(
            "mean over training attack families of (median F1 + 10th-percentile F1) / 2, minus "
            "the pooled benign FPR, subject to pooled benign FPR <= 0.005 and flagged share <= "
            "0.01 of each benign look-alike but giveaways, each rate margin_se bootstrap standard "
            "errors up (hard: a setting within these bars beats any over them; of two over them "
            "the one less over wins); searches start "
            "from the middle of each grid (or a setting's declared prior: search.priors) and "
            "take a step only when it gains more than "
            "margin_se bootstrap standard errors"
        ),
        search={
            k: cfg["experiment"].get(k)
            for k in ("start", "priors", "margin_se", "n_resamples", "n_random")
        },
        draws=[asdict(d) for d in draws],
        profile=cfg.get("profile", {}),
        default=choice_record(default),
        folds={f: choice_record(c) for f, c in folds.items()},
        spaces={
            "structural": cfg["experiment"]["structural"],
            "thresholds": cfg["experiment"]["thresholds"],
        },
    )
    json_path = generated / "selection.json"
    json_path.write_text(to_json_text(record))
    names = list(default.structural) + list(default.thresholds)
    table = pd.DataFrame(
        {
            "setting": [escape(n) for n in names],
            "default": [_shown({**default.structural, **default.thresholds}[n]) for n in names],
        }
    )
    for fold, choice in folds.items():
        values = {**choice.structural, **choice.thresholds}
        table[f"w/o {fold.replace('_', ' ')}"] = [_shown(values[n]) for n in names]
    tex_path = generated / "selection.tex"
    tex_path.write_text(booktabs(table))
    outputs = [json_path, tex_path]
    check_record = provenance(
        experiment=cfg["experiment"], profile=cfg["profile"], config=cfg,
        seeds=sorted({d.seed for d in draws}),
        outputs={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs},
    )  # fmt: skip
    record_path = generated / "provenance" / "select.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(check_record))
    return [*outputs, record_path]


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def freeze_defaults(choice: Choice) -> list[Path]:
    """Write the default choice into the configs the package's method composes from."""
    configs = REPO / "configs"
    params = choice.params()
    rule_path = configs / "rule" / "default.yaml"
    header = "".join(
        line for line in rule_path.read_text().splitlines(True) if line.startswith("#")
    )
    rule_path.write_text(header + OmegaConf.to_yaml({"rule": params["rule"]}))
    _set_keys(configs / "projection" / "neighbours.yaml", {"neighbours": params["neighbours"]})
    _set_keys(
        configs / "filter" / "min_weight.yaml", {"filters": [dict(f) for f in params["filters"]]}
    )
    _set_keys(
        configs / "detect" / "leiden_cpm.yaml", {"detector_params": dict(params["detector_params"])}
    )
    return [
        rule_path,
        configs / "projection" / "neighbours.yaml",
        configs / "filter" / "min_weight.yaml",
        configs / "detect" / "leiden_cpm.yaml",
    ]


def _set_keys(path: Path, values: dict[str, Any]) -> None:
    """Replace top-level keys of a small YAML config, keeping its comments."""
    lines = path.read_text().splitlines(True)
    out, skip = [], False
    for line in lines:
        key = line.split(":", 1)[0]
        if not line.startswith((" ", "#", "-")) and key in values:
            out.append(OmegaConf.to_yaml({key: values[key]}))
            skip = True
            continue
        if skip and line.startswith((" ", "-")):
            continue
        skip = False
        out.append(line)
    path.write_text("".join(out))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.select", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--profile", default="full", help="full, quick or tiny (configs/profile)")
    parser.add_argument(
        "--freeze", action="store_true", help="write the default choice to configs/"
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. sweep.cache_dir=...")
    args = parser.parse_args(argv)
    cfg = compose_config(["experiment=select", f"profile={args.profile}", *args.overrides])
    done = run_select(cfg, freeze=args.freeze)
    print(done.results.to_string(index=False))
    print("\n".join(f"wrote {p}" for p in done.paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generalisation: every method on test draws of each family, its settings chosen without it.

    python -m experiments.generalisation [--profile quick]      # or experiment=generalisation

For each attack family, the package's method runs with the settings chosen without that
family's draws (``paper/generated/selection.json``, written by ``python -m experiments.select``),
and every baseline with the settings its own tuning space gave best on the other families'
development draws (the same draws as ours), under the same objective, with ``baseline_budget``
settings of its grid, each a full run on every draw (more full runs than the package's
structural choice made; ours searches its thresholds on cached evidence instead). Benign look-alike
families alone run with the defaults chosen on every family. The results: one row per method
and test draw (``outputs/results/<profile>/generalisation.csv``), the table of median and
10th-percentile F1 per family, benign FPR and flagged share of each look-alike
(``paper/generated/generalisation.{tex,csv}``), a figure of F1 per family and method, and a
figure of where the package's method breaks along each knob of the families.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import compose_config, protocol_cli
from experiments.outputs import registry
from experiments.protocol import (
    BASELINE_SOURCES,
    Choice,
    Draw,
    Margin,
    Pool,
    dev_draws,
    evidence_pool,
    load_selection,
    objective,
    per_draw_metrics,
    source_hash,
    test_draws,
    truth_labels,
)
from experiments.select import ProtocolRun, families
from research.outputs import to_json_text
from research.provenance import provenance

#: The package's method.
OURS = "hijack"
#: The learned rule over the same groups (research/learned.py), reported beside it.
LEARNED = "learned"


def choice_of(record: dict[str, Any]) -> Choice:
    return Choice(
        record["structural"], record["thresholds"], record["score"], tuple(record["attack"])
    )


def ours_on(draws: Sequence[Draw], choice: Choice, cache_dir: Path, n_jobs: int) -> pd.DataFrame:
    """The package's method with a choice on some draws: per-draw metrics and knobs."""
    pool, knobs = evidence_pool(draws, choice.structural, cache_dir, n_jobs)
    table = per_draw_metrics(pool, pool.flags(choice.rule()), pool.scores(choice.rule()))
    return pd.concat([table, knobs], axis=1)


def learned_runs(
    attack: Sequence[str], benign: Sequence[str], spec: dict[str, Any],
    selection: dict[str, Any], cache_dir: Path, n_jobs: int,
) -> tuple[list[pd.DataFrame], dict[str, dict[str, Any]]]:  # fmt: skip
    """The learned rule (:mod:`experiments.learned`) on each attack family's test draws, fitted
    and tuned without that family on the groups its fold's selection made, and on the benign
    look-alikes' test draws fitted on every family; its frames, and per fold what was fitted
    (settings, threshold, trees and the SHA-256 of the rule's JSON: the rules themselves are
    refitted from the cached draws, deterministically)."""
    from experiments.learned import choose_learned, learned_on

    scale, n_test = float(spec["scale"]), int(spec["test_draws"])
    train = dev_draws(attack, int(spec["dev_draws"]), scale) + dev_draws(
        benign, int(spec["dev_draws_benign"]), scale
    )
    margin_se, n_resamples = float(spec.get("margin_se", 1.0)), int(spec.get("n_resamples", 200))
    seed = int(spec.get("search_seed", 0))
    folds = [(fam, selection["folds"][fam], [fam]) for fam in attack]
    if benign:
        folds.append(("defaults", selection["default"], list(benign)))
    frames, rules = [], {}
    for name, record, tested in folds:
        trained = [a for a in attack if a != name]
        structural = record["structural"]
        pool, _knobs = evidence_pool(
            [d for d in train if d.family != name], structural, cache_dir, n_jobs
        )
        rule, _score = choose_learned(
            pool, trained, margin=Margin(trained, margin_se, n_resamples, seed)
        )
        text = json.dumps(rule.to_dict(), sort_keys=True).encode()
        rules[name] = {
            "settings": dict(rule.settings), "threshold": rule.threshold,
            "trees": len(rule.trees), "sha256": hashlib.sha256(text).hexdigest(),
        }  # fmt: skip
        draws = test_draws(tested, n_test if name != "defaults" else int(
            spec.get("benign_test_draws", n_test)), scale)  # fmt: skip
        test_pool, knobs = evidence_pool(draws, structural, cache_dir, n_jobs)
        settings = f"fitted without {name}" if name != "defaults" else "fitted on every family"
        frames.append(
            pd.concat([learned_on(test_pool, rule), knobs], axis=1).assign(
                method=LEARNED, settings=settings
            )
        )
    return frames, rules


def _run_key(method: str, params: dict[str, Any], draw: Draw) -> str:
    data = {
        "method": method,
        "params": params,
        "draw": asdict(draw),
        "source": source_hash(BASELINE_SOURCES),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:20]


def method_on(method: str, params: dict[str, Any], draw: Draw, cache_dir: Path) -> dict[str, Any]:
    """One method with some parameters on one draw: the draw's metrics (cached as JSON)."""
    return draw_runs([(method, params)], draw, cache_dir)[0]


def draw_runs(
    jobs: Sequence[tuple[str, dict[str, Any]]], draw: Draw, cache_dir: Path
) -> list[dict[str, Any]]:
    """Each ``(method, params)`` of ``jobs`` on one draw: its metrics, cached as JSON per run.
    The draw is simulated and encoded once, and only if some run is not cached."""
    paths = [Path(cache_dir) / "runs" / f"{_run_key(m, p, draw)}.json" for m, p in jobs]
    rows: list[dict[str, Any] | None] = [
        json.loads(path.read_text()) if path.exists() else None for path in paths
    ]
    todo = [i for i, row in enumerate(rows) if row is None]
    if todo:
        from research.graph.events import encode
        from research.methods import run_method

        sim = draw.simulate()
        events = encode(sim.posts)
        for i in todo:
            method, params = jobs[i]
            detection = run_method(method, sim.posts, params, seed=0, events=events)
            ids = detection.accounts["account"].astype(str).tolist()
            positive, decoy = truth_labels(sim.truth, ids)
            pool = Pool([draw], pd.DataFrame(), np.zeros(0, int), np.zeros(0, int),
                        np.zeros(0, int), positive, decoy, np.zeros(len(positive), dtype=int))  # fmt: skip
            flagged = detection.accounts["flagged"].to_numpy(dtype=bool)
            row = per_draw_metrics(pool, flagged).iloc[0].to_dict()
            row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            text = json.dumps(row, default=_plain, sort_keys=True)
            paths[i].parent.mkdir(parents=True, exist_ok=True)
            paths[i].write_text(text)
            rows[i] = json.loads(text)  # as a cached run reads it back
    return [row for row in rows if row is not None]


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(type(value))


def _runs(
    jobs: Sequence[tuple[str, dict[str, Any]]],
    draws: Sequence[Draw],
    cache_dir: Path,
    n_jobs: int,
) -> dict[tuple[int, int], dict[str, Any]]:
    """Every job ``(method, params)`` on every draw, keyed by (job, draw) index; in parallel
    over draws, each simulated once."""
    if n_jobs > 1 and len(draws) > 1:
        from joblib import Parallel, delayed

        per_draw = Parallel(n_jobs=n_jobs)(delayed(draw_runs)(jobs, d, cache_dir) for d in draws)
    else:
        per_draw = [draw_runs(jobs, d, cache_dir) for d in draws]
    return {(i, j): rows[i] for j, rows in enumerate(per_draw) for i in range(len(jobs))}


def budget_points(tuning: dict[str, Sequence[Any]], budget: int, seed: int) -> list[dict[str, Any]]:
    """The paper's settings (``{}``) and up to ``budget - 1`` other points of the grid, drawn
    without replacement with a fixed seed.

    Examples
    --------
    >>> budget_points({"k": (5, 10)}, 3, 0)
    [{}, {'k': 5}, {'k': 10}]
    """
    grid = [
        dict(zip(tuning, values, strict=True)) for values in itertools.product(*tuning.values())
    ]
    rng = np.random.default_rng(seed)
    picked = rng.permutation(len(grid))[: max(budget - 1, 0)] if grid else []
    return [{}] + [grid[int(i)] for i in sorted(picked)]


def tune(method: str, points: Sequence[dict[str, Any]], draws: Sequence[Draw], attack: Sequence[str],
         runs: dict[tuple[int, int], dict[str, Any]], margin: Margin | None = None,
         ) -> tuple[dict[str, Any], float]:  # fmt: skip
    """The point of ``points`` with the best :func:`experiments.protocol.objective` on ``draws``
    (ties: the earlier), the issue's bars first as in our own search (a point within them beats
    any over them, :meth:`~experiments.protocol.Margin.ahead`), unless the paper's settings (the
    first point) are within ``margin`` of it: the one-standard-error rule, the paper's settings
    being the preferred model, as the grid's middle is our own search's start."""
    tables = [pd.DataFrame([runs[(i, j)] for j in range(len(draws))]) for i in range(len(points))]
    scores = [objective(t, attack) for t in tables]
    margin = margin or Margin(attack, 0.0, 0, 0)
    best = margin.best(list(zip(tables, scores, strict=True)))
    if best and not margin.beats(tables[best], scores[best], tables[0], scores[0]):
        best = 0
    return dict(points[best]), float(scores[best])


def run_generalisation(cfg: DictConfig, *, progress: bool = True) -> ProtocolRun:
    """Run every method on the test draws with its fold's settings; write the table and figures."""
    from research.methods import METHODS, TUNING

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    spec = plain["experiment"]
    attack, benign = families(spec)
    scale = float(spec["scale"])
    n_test = int(spec["test_draws"])
    cache_dir = Path(str(plain["sweep"]["cache_dir"]))
    n_jobs = int(plain["sweep"].get("n_jobs", 1))
    paper_dir = Path(str(plain.get("paper_dir", "paper")))
    if not (paper_dir / "generated" / "selection.json").exists():
        # The settings reported here are chosen first, on the same profile's development draws.
        from experiments.select import run_select

        select = compose_config(["experiment=select", f"profile={plain['profile']['name']}"])
        select_cfg = cfg.copy()
        OmegaConf.set_struct(select_cfg, False)
        select_cfg.experiment = select.experiment
        run_select(select_cfg, progress=progress)
    selection = load_selection(paper_dir)
    methods = [m for m in (METHODS if spec.get("methods") in (None, "all") else spec["methods"])]
    methods = [OURS] + [m for m in methods if m != OURS and m in TUNING]
    frames = []
    chosen: dict[str, dict[str, Any]] = {}
    # The package's method: each attack family with the settings chosen without it.
    for fam in attack:
        draws = test_draws([fam], n_test, scale)
        table = ours_on(draws, choice_of(selection["folds"][fam]), cache_dir, n_jobs)
        frames.append(table.assign(method=OURS, settings=f"chosen without {fam}"))
        if progress:
            print(
                f"generalisation: {OURS} on {fam}: median F1 {table['f1'].median():.3f}", flush=True
            )
    benign_draws = test_draws(benign, int(spec.get("benign_test_draws", n_test)), scale)
    if benign_draws:
        table = ours_on(benign_draws, choice_of(selection["default"]), cache_dir, n_jobs)
        frames.append(table.assign(method=OURS, settings="defaults"))
    learned_frames, learned = learned_runs(attack, benign, spec, selection, cache_dir, n_jobs)
    frames += learned_frames
    if progress:
        print("generalisation: learned rule done", flush=True)
    # Baselines: tuned on our development draws of the other families, same objective.
    tune_draws = dev_draws(attack, int(spec["dev_draws"]), scale) + dev_draws(
        benign, int(spec["dev_draws_benign"]), scale
    )
    budget, search_seed = int(spec["baseline_budget"]), int(spec.get("search_seed", 0))
    margin_se, n_resamples = float(spec.get("margin_se", 1.0)), int(spec.get("n_resamples", 200))
    points = {m: budget_points(TUNING[m], budget, search_seed) for m in methods[1:]}
    jobs = [(m, p) for m in methods[1:] for p in points[m]]
    tuning_runs = _runs(jobs, tune_draws, cache_dir, n_jobs)
    tuned: dict[str, dict[str, dict[str, Any]]] = {}
    first = 0  # each method's first job
    for method in methods[1:]:
        runs = {(i, j): tuning_runs[(first + i, j)] for i in range(len(points[method]))
                for j in range(len(tune_draws))}  # fmt: skip
        tuned[method] = {}
        for fam in attack:
            kept = [j for j, d in enumerate(tune_draws) if d.family != fam]
            sub = {
                (i, k): runs[(i, j)] for i in range(len(points[method])) for k, j in enumerate(kept)
            }
            trained = [a for a in attack if a != fam]
            tuned[method][fam], _score = tune(
                method, points[method], [tune_draws[j] for j in kept], trained, sub,
                Margin(trained, margin_se, n_resamples, search_seed),
            )  # fmt: skip
        tuned[method]["defaults"], _score = tune(
            method, points[method], tune_draws, attack, runs,
            Margin(attack, margin_se, n_resamples, search_seed),
        )  # fmt: skip
        first += len(points[method])
        chosen.update({f"{method}/{key}": params for key, params in tuned[method].items()})
    # Each baseline on the held-out draws of each family with the settings tuned without it.
    for fam in attack:
        draws = test_draws([fam], n_test, scale)
        fam_jobs = [(m, tuned[m][fam]) for m in methods[1:]]
        rows = _runs(fam_jobs, draws, cache_dir, n_jobs)
        for i, method in enumerate(methods[1:]):
            frames.append(
                pd.DataFrame([rows[(i, j)] for j in range(len(draws))]).assign(
                    method=method, settings=f"tuned without {fam}"
                )
            )
    if benign_draws:
        benign_jobs = [(m, tuned[m]["defaults"]) for m in methods[1:]]
        rows = _runs(benign_jobs, benign_draws, cache_dir, n_jobs)
        for i, method in enumerate(methods[1:]):
            frames.append(
                pd.DataFrame([rows[(i, j)] for j in range(len(benign_draws))]).assign(
                    method=method, settings="tuned on every family"
                )
            )
    if progress:
        print(f"generalisation: {len(methods) - 1} baselines done", flush=True)
    results = pd.concat(frames, ignore_index=True)
    results["status"] = "ok"
    results["key"] = [
        f"{m}/{f}/{s}"
        for m, f, s in zip(results["method"], results["family"], results["seed"], strict=True)
    ]
    results_dir = Path(str(plain["sweep"]["results_dir"])) / str(plain["profile"]["name"])
    results_dir.mkdir(parents=True, exist_ok=True)
    results_path = results_dir / "generalisation.csv"
    results.to_csv(results_path, index=False)
    paths = [
        results_path,
        *write_generalisation(
            paper_dir, results, attack, benign, methods, chosen, plain, learned_rules=learned
        ),
    ]
    return ProtocolRun("generalisation", [], results, paths)


def summary(results: pd.DataFrame, attack: Sequence[str], methods: Sequence[str]) -> pd.DataFrame:
    """Per attack family and method: median and 10th-percentile F1, mean F1 with its
    percentile-bootstrap 95% interval (clipped to [0, 1]), precision (undefined on draws where
    nothing was flagged: their count is kept), recall, mean average precision, benign FPR
    (pooled), and detection latency where measured."""
    from experiments.tools.stats import bootstrap_ci, precision_summary

    rows = []
    for fam in attack:
        for method in methods:
            part = results[(results["family"] == fam) & (results["method"] == method)]
            if len(part) == 0:
                continue
            f1 = part["f1"].fillna(0.0).to_numpy()
            mean, low, high = bootstrap_ci(f1, seed=0)
            prec = precision_summary(part["tp"].to_numpy(), part["fp"].to_numpy(), seed=0)
            rows.append({
                "family": fam, "method": method, "draws": len(part),
                "f1_median": float(np.median(f1)), "f1_p10": float(np.quantile(f1, 0.1)),
                "failed": int(np.count_nonzero(f1 < FAILED_BELOW)),
                "f1_mean": mean, "f1_lo": low, "f1_hi": high,
                "precision": prec.mean, "precision_lo": prec.low, "precision_hi": prec.high,
                "precision_text": prec.text(), "nothing_flagged": prec.n_flagged_nothing,
                "recall": float(part["recall"].mean()),
                "ap": float(part["ap"].mean()) if "ap" in part else float("nan"),
                "fpr": float(part["fp"].sum() / max(part["n_benign"].sum(), 1)),
            })  # fmt: skip
    return pd.DataFrame(rows)


def benign_shares(results: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """Per method: the flagged share of each benign look-alike kind, pooled over every test draw."""
    kinds = sorted(c.removeprefix("flagged_") for c in results if c.startswith("flagged_"))
    rows = []
    for method in methods:
        part = results[results["method"] == method]
        row: dict[str, Any] = {"method": method}
        for kind in kinds:
            total = part[f"n_{kind}"].fillna(0).sum()
            flagged = (part[f"flagged_{kind}"].fillna(0) * part[f"n_{kind}"].fillna(0)).sum()
            row[kind] = float(flagged / total) if total else float("nan")
        row["fpr"] = float(part["fp"].sum() / max(part["n_benign"].sum(), 1))
        rows.append(row)
    return pd.DataFrame(rows)


#: A test draw on which a method's F1 is below this has *failed*: the draws the 10th percentile
#: is made of, listed one by one for ours (:func:`failures`).
FAILED_BELOW = 0.5

#: Campaigns with at most this many accounts posting for them are *small* in the failures'
#: count (the families draw 10 victims and up; 10 victims of whom some never post are fewer).
SMALL_CAMPAIGN = 10

#: The knobs of a failed draw that say what kind of campaign it was.
FAILURE_KNOBS = (
    "n_victims", "n_waves", "wave_minutes", "posts_per_victim", "host", "shortener_share",
    "n_domains", "text_mode", "app_mode",
)  # fmt: skip


def failures(results: pd.DataFrame, attack: Sequence[str]) -> pd.DataFrame:
    """Ours on every held-out test draw whose F1 is below :data:`FAILED_BELOW`: the family, the
    seed, the accounts that posted for the campaign (``n_positive``), how many were found, the
    benign accounts flagged with them, and the draw's knobs (:data:`FAILURE_KNOBS`)."""
    ours = results[(results["method"] == OURS) & results["family"].isin(attack)]
    failed = ours[ours["f1"].fillna(0.0) < FAILED_BELOW]
    columns = ["family", "seed", "n_positive", "tp", "fp", "f1"]
    knobs = [f"knob_{k}" for k in FAILURE_KNOBS if f"knob_{k}" in failed]
    out = failed[columns + knobs].rename(columns=lambda c: c.removeprefix("knob_"))
    order = {fam: k for k, fam in enumerate(attack)}
    return out.sort_values(
        ["family", "seed"], key=lambda c: c.map(order) if c.name == "family" else c
    )


def _minutes(m: float) -> str:
    """A wave's length in words: minutes below 90, else hours."""
    return f"{m:.0f} min" if m < 90 else f"{m / 60:.1f} h"


def _learned_markdown(
    table: pd.DataFrame, learned: pd.DataFrame, shares: pd.DataFrame,
    learned_shares: pd.DataFrame, cfg: dict[str, Any],
) -> str:  # fmt: skip
    """The ladder and the learned rule side by side: median F1 (10th percentile) per held-out
    family, and the pooled benign FPR."""
    rows = []
    for _, row in learned.iterrows():
        ours = table[(table["family"] == row["family"]) & (table["method"] == OURS)].iloc[0]
        rows.append({
            "family": row["family"].replace("_", " "),
            "ladder (hijack)": f"{ours['f1_median']:.2f} ({ours['f1_p10']:.2f})",
            "learned": f"{row['f1_median']:.2f} ({row['f1_p10']:.2f})",
            "failed (ladder / learned)": f"{int(ours['failed'])} / {int(row['failed'])}",
        })  # fmt: skip
    fpr = {
        "family": "benign FPR",
        "ladder (hijack)": f"{shares.loc[shares['method'] == OURS, 'fpr'].iloc[0]:.2%}",
        "learned": f"{learned_shares['fpr'].iloc[0]:.2%}" if len(learned_shares) else "--",
        "failed (ladder / learned)": "",
    }
    head = (
        f"The verdict ladder and the learned rule (`research/learned.py`: gradient-boosted trees "
        f"over the same groups' terms) on the same held-out test draws "
        f"({int(cfg['experiment']['test_draws'])} per family), each fitted and tuned without "
        f"the family; median F1 (10th percentile). Written by "
        f"`python -m experiments.generalisation`.\n\n"
    )
    return head + pd.DataFrame([*rows, fpr]).to_markdown(index=False) + "\n"


def _markdown(cells: pd.DataFrame, cfg: dict[str, Any]) -> str:
    """The headline table for README: the LaTeX cells as plain text, with what produced them."""
    plain = cells.replace({r"\\textbf\{(.*)\}": r"**\1**", r"\\%": "%", r"\\_": "_"}, regex=True)
    head = (
        f"Median account-level F1 (10th percentile) over {int(cfg['experiment']['test_draws'])} "
        f"test draws per attack family (seeds 0+), each method with the settings chosen on "
        f"development draws of the other families (seeds 1000+, leave-one-family-out): ours "
        f"over its thresholds and structural settings, each baseline over its tuning space "
        f"({int(cfg['experiment']['baseline_budget'])} settings, its paper's first); benign FPR "
        f"over the benign look-alike families. "
        f"Profile {cfg['profile']['name']}; written by `python -m experiments.generalisation`.\n\n"
    )
    return head + plain.to_markdown(index=False) + "\n"


def write_generalisation(
    paper_dir: Path, results: pd.DataFrame, attack: Sequence[str], benign: Sequence[str],
    methods: Sequence[str], chosen: dict[str, dict[str, Any]], cfg: dict[str, Any],
    learned_rules: dict[str, dict[str, Any]] | None = None,
) -> list[Path]:  # fmt: skip
    from experiments.outputs import write_macros
    from experiments.tools.latex import booktabs, escape, fmt_number
    from research.plotting import method_label, save_figure
    from research.plotting.generalisation import f1_by_family, knob_breakdown, pr_curves

    generated = paper_dir / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    table = summary(results, attack, methods)
    shares = benign_shares(results, methods)
    table.to_csv(generated / "generalisation.csv", index=False)
    shares.to_csv(generated / "generalisation_benign.csv", index=False)
    # The headline table: one row per attack family, one column per method, "median (p10)".
    cells = pd.DataFrame({"family": [escape(f.replace("_", " ")) for f in attack]})
    for method in methods:
        column = []
        for fam in attack:
            row = table[(table["family"] == fam) & (table["method"] == method)]
            best = table.loc[table["family"] == fam, "f1_median"].max()
            if len(row) == 0:
                column.append("--")
                continue
            text = f"{fmt_number(row['f1_median'].iloc[0], 'score')} ({fmt_number(row['f1_p10'].iloc[0], 'score')})"
            column.append(
                f"\\textbf{{{text}}}" if row["f1_median"].iloc[0] >= best - 1e-12 else text
            )
        cells[method_label(method)] = column
    fpr_row = {"family": "benign FPR"} | {
        method_label(m): fmt_number(shares.loc[shares["method"] == m, "fpr"].iloc[0], "percent")
        for m in methods
    }
    cells = pd.concat([cells, pd.DataFrame([fpr_row])], ignore_index=True)
    (generated / "generalisation.tex").write_text(booktabs(cells, sections=[len(attack)]))
    (generated / "generalisation.md").write_text(_markdown(cells, cfg))
    kinds = [c for c in shares.columns if c not in ("method", "percent")]
    bt = pd.DataFrame({"method": [escape(method_label(m)) for m in shares["method"]]})
    for kind in kinds:
        bt[kind.replace("_", " ")] = [fmt_number(v, "percent") for v in shares[kind]]
    (generated / "generalisation_benign.tex").write_text(booktabs(bt))
    failed = failures(results, attack)
    failed.to_csv(generated / "generalisation_failures.csv", index=False)
    ft = pd.DataFrame({
        "family": [escape(f.replace("_", " ")) for f in failed["family"]],
        "seed": failed["seed"].astype(int).astype(str),
        "posted": failed["n_positive"].astype(int).astype(str),
        "found": failed["tp"].astype(int).astype(str),
        "victims": failed["n_victims"].astype(int).astype(str),
        "waves": [f"{int(w)}\\,$\\times$\\,{_minutes(m)}" for w, m in zip(failed["n_waves"], failed["wave_minutes"], strict=True)],
        "links": [escape(str(h).replace("_per_post", "").replace("_", " ")) + (f", {100 * sh:.0f}\\% short" if sh else "") for h, sh in zip(failed["host"], failed["shortener_share"], strict=True)],
        "text": [escape(str(t)) for t in failed["text_mode"]],
    })  # fmt: skip
    (generated / "generalisation_failures.tex").write_text(booktabs(ft))
    outputs = [
        generated / n
        for n in (
            "generalisation.csv",
            "generalisation_benign.csv",
            "generalisation_failures.csv",
            "generalisation.tex",
            "generalisation_benign.tex",
            "generalisation_failures.tex",
            "generalisation.md",
        )
    ]
    outputs += save_figure(
        f1_by_family(results, attack, methods), paper_dir / "figures" / "generalisation"
    )
    ours = results[(results["method"] == OURS) & results["family"].isin(attack)]
    outputs += save_figure(knob_breakdown(ours), paper_dir / "figures" / "generalisation_knobs")
    outputs += save_figure(
        pr_curves(results, attack, methods), paper_dir / "figures" / "generalisation_pr"
    )
    values: dict[str, str] = {}
    # The learned rule beside ours (its own table: it is our alternative, not a baseline).
    learned = summary(results, attack, [LEARNED])
    learned_shares = benign_shares(results, [LEARNED]) if len(learned) else shares.iloc[:0]
    if len(learned):
        outputs.append(generated / "learned.md")
        outputs[-1].write_text(_learned_markdown(table, learned, shares, learned_shares, cfg))
    for _, row in pd.concat([table, learned], ignore_index=True).iterrows():
        stem = f"gen/{row['family'].replace('_', '')}/{row['method'].replace('_', '')}"
        values[f"{stem}/f1"] = fmt_number(row["f1_median"], "score")
        values[f"{stem}/f1p10"] = fmt_number(row["f1_p10"], "score")
        values[f"{stem}/fpr"] = fmt_number(row["fpr"], "percent")
        values[f"{stem}/f1mean"] = fmt_number(row["f1_mean"], "score")
        values[f"{stem}/f1lo"] = fmt_number(row["f1_lo"], "score")
        values[f"{stem}/f1hi"] = fmt_number(row["f1_hi"], "score")
        values[f"{stem}/ap"] = fmt_number(row["ap"], "score")
        values[f"{stem}/precision"] = escape(row["precision_text"])
        values[f"{stem}/failed"] = str(int(row["failed"]))
    for _, row in pd.concat([shares, learned_shares], ignore_index=True).iterrows():
        for kind in kinds:
            values[f"gen/benign/{row['method'].replace('_', '')}/{kind.replace('_', '')}"] = (
                fmt_number(row[kind], "percent")
            )
        values[f"gen/benign/{row['method'].replace('_', '')}/fpr"] = fmt_number(
            row["fpr"], "percent"
        )
    ours_rows = table[table["method"] == OURS]
    values["gen/hijack/minmedian"] = fmt_number(ours_rows["f1_median"].min(), "score")
    values["gen/hijack/minp10"] = fmt_number(ours_rows["f1_p10"].min(), "score")
    values["gen/testdraws"] = str(int(cfg["experiment"]["test_draws"]))
    values["gen/failedbelow"] = fmt_number(FAILED_BELOW, "score")
    values["gen/hijack/failed"] = str(len(failed))
    values["gen/hijack/failedsmall"] = str(int((failed["n_positive"] <= SMALL_CAMPAIGN).sum()))
    values["gen/smallcampaign"] = str(SMALL_CAMPAIGN)
    small = failed[failed["n_positive"] <= SMALL_CAMPAIGN]
    values["gen/hijack/failedsmalltemplated"] = str(
        int((small.get("text_mode", pd.Series(dtype=object)) == "templated").sum())
    )
    # The best median F1 of any baseline on any held-out family, and whose it is.
    rivals = table[(table["method"] != OURS)].sort_values("f1_median", ascending=False)
    if len(rivals):
        top = rivals.iloc[0]
        values["gen/rival/f1"] = fmt_number(top["f1_median"], "score")
        values["gen/rival/method"] = escape(method_label(top["method"]))
        values["gen/rival/family"] = escape(str(top["family"]).replace("_", " "))
    # How many structural settings the package's choice ran (each a full run on every draw).
    selection = load_selection(paper_dir)
    searched = [
        len(r.get("structural_trace", []))
        for r in [selection["default"], *selection["folds"].values()]
    ]
    values["gen/structural/min"], values["gen/structural/max"] = (
        str(min(searched)),
        str(max(searched)),
    )
    outputs += write_macros(paper_dir, "generalisation", values, cfg["profile"], cfg)
    record = provenance(
        experiment=cfg["experiment"], profile=cfg["profile"], config=cfg, registry=registry(), chosen=chosen,
        learned=learned_rules or {},
        seeds=sorted({int(s) for s in results["seed"]}),
        outputs={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs if p.exists() and p.name != "macros.tex"},
    )  # fmt: skip
    record_path = generated / "provenance" / "generalisation.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(record))
    return [*outputs, record_path]


def main(argv: Sequence[str] | None = None) -> int:
    cfg, done = protocol_cli("generalisation", run_generalisation, __doc__.split("\n")[0], argv)
    print(
        summary(
            done.results,
            *families(OmegaConf.to_container(cfg.experiment, resolve=True))[:1],
            [OURS],
        ).to_string(index=False)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

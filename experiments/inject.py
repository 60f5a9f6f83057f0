"""Real backgrounds: every method on campaigns planted into a posts table a user names.

    python -m experiments.run experiment=inject data.path=/path/to/posts.parquet
    python -m experiments.inject [--profile quick] [data.path=...]

Every attack family is planted (:func:`research.simulate.inject.inject`) for seeds ``0 ..
profile.seeds - 1`` into the background (``data.path``: a posts Parquet file or folder, a
``simulate``/``ingest`` output, or raw exports; without one, the real Twitter API v2 sample
shipped in ``tests/data/twitter-v2``, 194 accounts, which shows the machinery rather than a
platform's false-positive rate). Victims are capped at ``experiment.max_victims_share`` of the
background's accounts (the families keep them to a sixth), and lower still where the
background cannot supply the drawn campaign (an abused app used by few accounts): the cap
actually used is in the results. Every method then runs on each planted dataset, and once on
the background alone: the package's method with the settings ``experiments.select`` chose
(``selection.json``) when present, else the package's defaults; each baseline with the settings
the generalisation experiment tuned on every family when present, else its paper's.

The table gives, per method, the mean F1 over seeds on each family, the benign false-positive
rate pooled over every planted run, and the flagged share of the background alone (no
campaign): false positives on real benign behaviour.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.config import REPO, protocol_cli
from experiments.protocol import Draw
from experiments.select import ProtocolExecution, ProtocolRun, families
from research.outputs import to_json_text
from research.provenance import file_digests, provenance

#: The background when ``data.path`` is not given: real tweets, small enough for CI.
DEFAULT_BACKGROUND = REPO / "tests" / "data" / "twitter-v2"
#: The rows of the background alone (no campaign planted) in the results.
ALONE = "none"
#: The results table's columns, in order (fresh and cached runs give the same bytes).
COLUMNS = (
    "family", "seed", "method", "key", "status", "error", "cap", "app", "app_mode", "victims",
    "attack_posts", "n_positive", "n_benign", "n_flagged", "tp", "fp", "fn", "precision",
    "recall", "f1", "fpr",
)  # fmt: skip


def code_hash() -> str:
    """Hash of the whole ``research`` package's source: any change recomputes cached runs."""
    root = REPO / "research"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def method_settings(paper_dir: Path, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The parameters each method runs with: the selection's choice for the package's method and
    the generalisation experiment's tuned settings for baselines, when they have been made;
    else each method's defaults."""
    from experiments.generalisation import OURS, choice_of
    from experiments.latency import tuned_params

    selection = paper_dir / "generated" / "selection.json"
    tuned = tuned_params(paper_dir)
    settings: dict[str, dict[str, Any]] = {}
    for name in names:
        if name == OURS and selection.exists():
            settings[name] = choice_of(json.loads(selection.read_text())["default"]).params()
        else:
            settings[name] = dict(tuned.get(name, {}))
    return settings


def metrics_row(accounts: pd.DataFrame, truth: Any) -> dict[str, Any]:
    """Counts and rates of one detection: precision n/a when nothing is flagged, recall and F1
    n/a without positives; the benign FPR over accounts in no campaign."""
    from research.evaluate import account_labels

    _campaign, _decoy, positive = account_labels(accounts, truth)
    flagged = accounts["flagged"].to_numpy(dtype=bool)
    tp, fp = int((flagged & positive).sum()), int((flagged & ~positive).sum())
    fn, n_benign = int((~flagged & positive).sum()), int((~positive).sum())
    nan = float("nan")
    return {
        "n_positive": int(positive.sum()), "n_benign": n_benign, "n_flagged": int(flagged.sum()),
        "tp": tp, "fp": fp, "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else nan,
        "recall": tp / (tp + fn) if tp + fn else nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fn else nan,
        "fpr": fp / n_benign if n_benign else nan,
    }  # fmt: skip


def inject_draw(
    posts: Any,
    truth: Any,
    family: str,
    seed: int,
    settings: dict[str, dict[str, Any]],
    max_victims: int,
    cache_dir: Path,
    key_base: dict[str, Any],
    force: bool = False,
) -> tuple[list[dict[str, Any]], bool]:
    """Every method on one planted campaign (``family == ALONE``: on the background alone,
    judged against ``truth`` or, without one, every account benign); one row per method,
    cached as JSON (``force``: recomputed and rewritten); and whether all came from the cache."""
    from research.methods import run_method
    from research.simulate.inject import BackgroundTooSmall, inject

    keys = {
        name: _key({**key_base, "family": family, "seed": seed, "max_victims": max_victims,
                    "method": name, "params": params})
        for name, params in settings.items()
    }  # fmt: skip
    folder = Path(cache_dir) / "inject"
    cached = {n: folder / f"{k}.json" for n, k in keys.items()}
    if not force and all(p.exists() for p in cached.values()):
        return [json.loads(p.read_text()) for p in cached.values()], True

    base: dict[str, Any] = {"family": family, "seed": seed}
    if family == ALONE:
        data_posts, data_truth = posts, truth if truth is not None else _all_benign(posts)
        base |= {"cap": None, "app": None, "app_mode": None, "victims": 0, "attack_posts": 0}
    else:
        cap = max_victims
        try:
            planted = inject(posts, family, seed, max_victims=cap, truth=truth)
        except BackgroundTooSmall as err:
            if err.max_victims < 1:
                raise
            cap = err.max_victims
            planted = inject(posts, family, seed, max_victims=cap, truth=truth)
        record = planted.injection or {}
        data_posts, data_truth = planted.posts, planted.truth
        base |= {
            "cap": cap, "app": record["app"]["name"], "app_mode": record["app"]["mode"],
            "victims": record["victims"]["planted"], "attack_posts": record["attack_posts"],
        }  # fmt: skip
    from research.graph.events import encode

    events = encode(data_posts)
    rows = []
    for name, params in settings.items():
        row = {**base, "method": name, "status": "ok", "error": ""}
        try:
            detection = run_method(name, data_posts, params, seed=0, events=events)
            row |= metrics_row(detection.accounts, data_truth)
        except Exception as err:  # a failing method is a result, not a crash of the table
            row |= {"status": "error", "error": f"{type(err).__name__}: {err}"}
        row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        if row["status"] == "ok":
            cached[name].parent.mkdir(parents=True, exist_ok=True)
            cached[name].write_text(json.dumps(row, sort_keys=True))
        rows.append(row)
    return rows, False


def _all_benign(posts: Any) -> Any:
    from research.truth import GroundTruth

    ids = sorted(set(posts.column("account_id").to_pylist()))
    return GroundTruth.from_labels(ids, [None] * len(ids))


def _key(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:20]


def run_inject(cfg: DictConfig, *, progress: bool = True) -> ProtocolRun:
    """Plant every attack family for each seed into the background, run every method, write the
    results, the table, macros and provenance."""
    from research.io.loading import load_posts
    from research.methods import METHODS
    from research.truth import read_truth

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    spec, data = plain["experiment"], plain["data"]
    attack, _benign = families(spec)
    path = Path(str(data.get("path") or DEFAULT_BACKGROUND))
    posts, info = load_posts([path], data.get("format"), progress=False)
    truth_dir = data.get("truth") or (path if (path / "truth_accounts.parquet").exists() else None)
    truth = read_truth(truth_dir) if truth_dir else None
    names = list(METHODS) if spec.get("methods") in (None, "all") else list(spec["methods"])
    paper_dir = Path(str(plain.get("paper_dir", "paper")))
    settings = method_settings(paper_dir, names)
    n_accounts = posts.n_accounts()
    max_victims = max(1, int(float(spec["max_victims_share"]) * n_accounts))
    seeds = list(range(int(spec["seeds"])))
    digests = file_digests(path)
    key_base = {"background": digests, "truth": str(truth_dir), "code": code_hash()}
    cache_dir = Path(str(plain["sweep"]["cache_dir"]))
    jobs = [(ALONE, 0)] + [(f, s) for f in attack for s in seeds]
    if progress:
        print(
            f"inject: {len(posts):,} posts by {n_accounts:,} accounts from {path}; "
            f"{len(jobs) - 1} planted campaigns (at most {max_victims} victims) x {len(names)} methods",
            flush=True,
        )
    n_jobs = int(plain["sweep"].get("n_jobs", 1))
    args = (settings, max_victims, cache_dir, key_base, bool(plain["sweep"].get("force")))
    if n_jobs > 1:
        from joblib import Parallel, delayed

        per_draw = Parallel(n_jobs=n_jobs)(
            delayed(inject_draw)(posts, truth, f, s, *args) for f, s in jobs
        )
    else:
        per_draw = [inject_draw(posts, truth, f, s, *args) for f, s in jobs]
    results = pd.DataFrame([row for rows, _cached in per_draw for row in rows])
    results["key"] = [
        f"{m}/{f}/{s}" for m, f, s in results[["method", "family", "seed"]].itertuples(index=False)
    ]
    results = results.reindex(columns=list(COLUMNS))
    results_dir = Path(str(plain["sweep"]["results_dir"])) / str(plain["profile"]["name"])
    results_dir.mkdir(parents=True, exist_ok=True)
    results_path = results_dir / "inject.csv"
    results.to_csv(results_path, index=False)
    background = {
        "path": str(path), "read_as": info.get("format"), "sha256": digests,
        "n_posts": len(posts), "n_accounts": n_accounts, "max_victims": max_victims,
    }  # fmt: skip
    paths = [
        results_path,
        *write_inject(paper_dir, results, attack, names, settings, background, plain),
    ]
    if progress:
        print(summary(results, attack, names).to_string(index=False), flush=True)
    draws = [Draw(f, s) for f, s in jobs if f != ALONE]
    planted = [cached for (family, _seed), (_rows, cached) in zip(jobs, per_draw, strict=True) if family != ALONE]  # fmt: skip
    failed = results.loc[(results["status"] != "ok") & (results["family"] != ALONE), "key"]
    execution = ProtocolExecution(
        cached=sum(planted), computed=len(planted) - sum(planted), failed=len(failed)
    )
    return ProtocolRun("inject", draws, results, paths, execution)


def summary(results: pd.DataFrame, attack: Sequence[str], methods: Sequence[str]) -> pd.DataFrame:
    """Per method: mean F1 over seeds on each family (n/a where no run had positives), the
    benign FPR pooled over every planted run, and the flagged share of the background alone."""
    ok = results[results["status"] == "ok"]
    rows = []
    for method in methods:
        mine = ok[ok["method"] == method]
        planted = mine[mine["family"] != ALONE]
        alone = mine[mine["family"] == ALONE]
        row: dict[str, Any] = {"method": method}
        for fam in attack:
            f1 = planted.loc[planted["family"] == fam, "f1"].astype(float).dropna()
            row[fam] = float(f1.mean()) if len(f1) else float("nan")
        benign = planted["n_benign"].sum()
        row["fpr"] = float(planted["fp"].sum() / benign) if benign else float("nan")
        row["alone_fpr"] = float(alone["fpr"].iloc[0]) if len(alone) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def write_inject(
    paper_dir: Path,
    results: pd.DataFrame,
    attack: Sequence[str],
    methods: Sequence[str],
    settings: dict[str, dict[str, Any]],
    background: dict[str, Any],
    cfg: dict[str, Any],
) -> list[Path]:
    """``generated/inject.csv`` and ``inject.tex``, macros and provenance."""
    from experiments.outputs import registry, write_macros
    from experiments.tools.latex import booktabs, escape, fmt_number
    from research.plotting import method_label

    generated = paper_dir / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    table = summary(results, attack, methods)
    table.to_csv(generated / "inject.csv", index=False)
    cells = pd.DataFrame({"method": [escape(method_label(m)) for m in table["method"]]})
    for fam in attack:
        cells[f"F1 {fam.replace('_', ' ')}"] = [fmt_number(v, "score") for v in table[fam]]
    cells["benign FPR"] = [fmt_number(v, "percent") for v in table["fpr"]]
    cells["FPR, no campaign"] = [fmt_number(v, "percent") for v in table["alone_fpr"]]
    (generated / "inject.tex").write_text(booktabs(cells))
    outputs = [generated / "inject.csv", generated / "inject.tex"]
    values = {
        "inject/background/posts": fmt_number(background["n_posts"], "count"),
        "inject/background/accounts": fmt_number(background["n_accounts"], "count"),
        "inject/maxvictims": str(background["max_victims"]),
        "inject/seeds": str(int(cfg["experiment"]["seeds"])),
    }
    for _, row in table.iterrows():
        stem = f"inject/{row['method'].replace('_', '')}"
        for fam in attack:
            values[f"{stem}/{fam.replace('_', '')}/f1"] = fmt_number(row[fam], "score")
        values[f"{stem}/fpr"] = fmt_number(row["fpr"], "percent")
        values[f"{stem}/alone/fpr"] = fmt_number(row["alone_fpr"], "percent")
    outputs += write_macros(paper_dir, "inject", values, cfg["profile"], cfg)
    record = provenance(
        experiment=cfg["experiment"], profile=cfg["profile"], config=cfg, background=background,
        registry=registry(), settings=settings,
        seeds=sorted({int(s) for s in results.loc[results["family"] != ALONE, "seed"]}),
        outputs={str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs if p.exists() and p.name != "macros.tex"},
    )  # fmt: skip
    record_path = generated / "provenance" / "inject.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(record))
    return [*outputs, record_path]


def main(argv: Sequence[str] | None = None) -> int:
    protocol_cli(
        "inject",
        run_inject,
        __doc__.split("\n")[0],
        argv,
        overrides_help="Hydra overrides, e.g. data.path=posts.parquet",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""An experiment's outputs: the results table, its figure or table, the macros the paper quotes,
and a provenance record beside them.

    <results_dir>/<profile>/<name>.csv              one row per run
    <results_dir>/<profile>/<name>.provenance.json
    <paper_dir>/figures/<name>.pdf|png              figures (byte-stable)
    <paper_dir>/generated/<name>.tex|csv            tables (booktabs) and their numbers
    <paper_dir>/generated/macros/<name>.tex         \\result{...} values of this experiment
    <paper_dir>/generated/macros.tex                all of them (what main.tex inputs)
    <paper_dir>/generated/provenance/<name>.json    config, seeds, git, packages, output hashes
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from experiments.sweep import Experiment
from research.errors import ConfigError
from research.latex import MACRO_PREAMBLE, booktabs, escape, fmt_number, macros
from research.outputs import to_json_text
from research.provenance import provenance
from research.results import summarise, write_results

#: How each metric is printed in macros and tables.
NUMBER_KIND = {
    "f1": "score", "precision": "score", "recall": "score", "nmi": "score", "ari": "score",
    "nmi_all": "score", "ari_all": "score", "campaign_recall_min": "score",
    "fpr": "percent", "fpr_news": "percent", "fpr_feed": "percent", "fpr_org": "percent",
    "disconnected_share": "percent", "seconds": "seconds", "peak_mb": "mb",
    "n_clusters": "sig", "attack_posts_per_account": "sig", "n_posts": "count",
    "n_accounts": "count", "n_positive": "count", "n_flagged": "count",
}  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _value_key(value: Any) -> str:
    """An axis value as it appears in a macro key (``0.5``, ``120``, ``popularity``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == "ok"]


def method_order(experiment: Experiment) -> list[str]:
    """Methods in the experiment's order (registry order for ``all``)."""
    return [m.label for m in experiment.methods]


# --- figures ---------------------------------------------------------------------------------


def _point_columns(experiment: Experiment, figure: dict[str, Any], results: pd.DataFrame) -> list[str]:
    """The columns that identify a plotted point: method, facet, x. Any other label that
    varies would hide points behind each other, and is refused."""
    by = ["method"] + ([figure["facet"]] if figure.get("facet") else []) + [figure["x"]]
    for column in experiment.label_columns:
        if column not in (*by, "seed", "method_name") and results[column].nunique() > 1:
            raise ConfigError(f"experiment {experiment.name}: {column} varies but is neither x nor facet of the figure")
    return by


Drawn = tuple[dict[str, Any], pd.DataFrame, list[str] | None]


def curves(experiment: Experiment, results: pd.DataFrame, figure: dict[str, Any]) -> Drawn:
    """Metric-against-axis curves, one line per method (``figure.kind: curves``)."""
    from research.plotting import DOUBLE_COLUMN, SINGLE_COLUMN
    from research.plotting.sweeps import metric_curves

    metrics = list(figure.get("metrics", ["f1", "fpr"]))
    by = _point_columns(experiment, figure, results)
    measured = figure.get("x_measured")
    summary = summarise(_ok(results), by, metrics + ([measured] if measured else []))
    plot = summary.copy()
    if measured:
        plot[figure["x"]] = plot[measured]
    width = DOUBLE_COLUMN if figure.get("width") == "double" else SINGLE_COLUMN
    fig = metric_curves(
        plot, figure["x"], metrics, xlabel=figure["xlabel"], facet=figure.get("facet"),
        facet_labels=figure.get("facet_labels"), order=method_order(experiment),
        xscale=figure.get("xscale", "linear"), ylims=figure.get("ylims"), width=width,
    )  # fmt: skip
    return {experiment.name: fig}, summary, by


def scaling(experiment: Experiment, results: pd.DataFrame, figure: dict[str, Any]) -> Drawn:
    """Runtime and memory against dataset size (``figure.kind: scaling``)."""
    from research.plotting.sweeps import scaling_figure

    size = next(a["name"] for a in experiment.spec["axes"])
    summary = summarise(_ok(results), ["method", size], ["n_posts", "seconds", "peak_mb"])
    return {experiment.name: scaling_figure(summary, "n_posts", order=method_order(experiment))}, summary, ["method", size]


def case_study(experiment: Experiment, results: pd.DataFrame, figure: dict[str, Any]) -> Drawn:
    """The case-study figure, redrawn from the (deterministic) run it shows."""
    from experiments.run import load_data, method_params
    from research.graph.events import encode
    from research.methods import run_method
    from research.plotting.case_study import case_study_figure

    run = experiment.runs[0]
    config = run["config"]
    posts, truth, _ = load_data(config["data"], int(config["seed"]))
    events = encode(posts)
    detection = run_method(config["method"]["name"], posts, method_params(config), seed=int(config["seed"]), events=events)
    flagged = detection.flagged_clusters
    if flagged.empty:
        raise ConfigError(f"experiment {experiment.name}: nothing was flagged, there is no cluster to show")
    membership = detection.clustering.membership
    campaign = truth.campaign_of(detection.clustering.accounts.to_numpy().tolist())
    planted = np.array([c is not None for c in campaign])
    # The flagged cluster holding most planted accounts is the one the case study is about.
    overlap = [int(np.sum(planted & (membership == c))) for c in flagged["cluster"]]
    cluster = int(flagged["cluster"].iloc[int(np.argmax(overlap))])
    members = membership == cluster
    row = flagged[flagged["cluster"] == cluster].iloc[0]
    facts = pd.DataFrame([{
        "cluster": cluster, "size": int(members.sum()), "planted_in_cluster": int(np.sum(planted & members)),
        "planted": int(planted.sum()), "top_app": str(row["top_app"]), "top_domain": str(row.get("top_domain", "")),
        "n_posts": len(posts), "n_accounts": len(membership),
        "n_flagged_clusters": len(flagged),
    }])  # fmt: skip
    return {experiment.name: case_study_figure(events, membership, cluster)}, facts, None


FIGURES: dict[str, Callable[..., Drawn]] = {
    "curves": curves,
    "scaling": scaling,
    "case_study": case_study,
}


# --- tables ----------------------------------------------------------------------------------


def summary_table(experiment: Experiment, results: pd.DataFrame, table: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    """Methods (rows) by presets (column groups): F1 with its 95% half-interval, and benign FPR."""
    metrics = list(table.get("metrics", ["f1", "fpr"]))
    summary = summarise(_ok(results), ["method", "preset"], [*metrics, "n_posts", "n_accounts", "n_positive"])
    presets = list(dict.fromkeys(r["labels"]["preset"] for r in experiment.runs))
    cells: dict[str, list[str]] = {"method": []}
    from research.plotting import method_label

    headers = {"f1": "F1", "fpr": "FPR", "precision": "P", "recall": "R"}
    for method in method_order(experiment):
        cells["method"].append(escape(method_label(method)))
        for preset in presets:
            row = summary[(summary["method"] == method) & (summary["preset"] == preset)]
            for metric in metrics:
                column = f"{preset}:{headers.get(metric, metric)}"
                if row.empty:
                    value = "--"
                elif metric == "f1":
                    half = (row[f"{metric}_hi"].iloc[0] - row[f"{metric}_lo"].iloc[0]) / 2
                    value = f"{fmt_number(row[metric].iloc[0])}$\\pm${fmt_number(half)}"
                else:
                    value = fmt_number(row[metric].iloc[0], NUMBER_KIND.get(metric, "score"))
                cells.setdefault(column, []).append(value)
    frame = pd.DataFrame(cells)
    frame.columns = ["method"] + [c.split(":", 1)[1] for c in frame.columns[1:]]
    groups = [("", 1)] + [(p.replace("_", " "), len(metrics)) for p in presets]
    return booktabs(frame, groups=groups), summary


TABLES: dict[str, Callable[..., tuple[str, pd.DataFrame]]] = {"summary": summary_table}


# --- macros ----------------------------------------------------------------------------------


def _macro_values(experiment: Experiment, summary: pd.DataFrame, point: list[str], metrics: list[str]) -> dict[str, str]:
    """``<exp>/<point...>/<metric>`` for every point, ``..._ci`` for its interval, and per line
    (a point without its last column) the worst value and where it is."""
    values: dict[str, str] = {}
    for _, row in summary.iterrows():
        stem = "/".join([experiment.name, *(_value_key(row[c]) for c in point)])
        for metric in metrics:
            kind = NUMBER_KIND.get(metric, "sig")
            values[f"{stem}/{metric}"] = fmt_number(row[metric], kind)
            values[f"{stem}/{metric}_ci"] = f"{fmt_number(row[f'{metric}_lo'], kind)}--{fmt_number(row[f'{metric}_hi'], kind)}"
    if len(point) > 1:
        for keys, line in summary.groupby(point[:-1], sort=False):
            keys = keys if isinstance(keys, tuple) else (keys,)
            stem = "/".join([experiment.name, *(_value_key(k) for k in keys)])
            for metric in metrics:
                finite = line[np.isfinite(line[metric].to_numpy(dtype=float))]
                if finite.empty:
                    continue
                kind = NUMBER_KIND.get(metric, "sig")
                worst = finite.loc[finite[metric].idxmax() if metric in ("fpr", "disconnected_share", "seconds", "peak_mb") else finite[metric].idxmin()]
                best = finite.loc[finite[metric].idxmin() if metric in ("fpr", "disconnected_share", "seconds", "peak_mb") else finite[metric].idxmax()]
                values[f"{stem}/{metric}/worst"] = fmt_number(worst[metric], kind)
                values[f"{stem}/{metric}/worst_at"] = _value_key(worst[point[-1]])
                values[f"{stem}/{metric}/best"] = fmt_number(best[metric], kind)
    seeds = sorted({r["labels"]["seed"] for r in experiment.runs})
    values[f"{experiment.name}/seeds"] = str(len(seeds))
    values[f"{experiment.name}/runs"] = fmt_number(len(experiment.runs), "count")
    return values


def case_study_macros(experiment: Experiment, facts: pd.DataFrame, results: pd.DataFrame) -> dict[str, str]:
    """Numbers of the case study: the cluster and the run's scores."""
    row = facts.iloc[0]
    name = experiment.name
    values = {
        f"{name}/cluster_size": fmt_number(row["size"], "count"),
        f"{name}/planted_in_cluster": fmt_number(row["planted_in_cluster"], "count"),
        f"{name}/planted": fmt_number(row["planted"], "count"),
        f"{name}/cluster_purity": fmt_number(row["planted_in_cluster"] / max(row["size"], 1), "percent"),
        f"{name}/top_app": escape(row["top_app"]),
        f"{name}/top_domain": escape(row["top_domain"]),
        f"{name}/n_posts": fmt_number(row["n_posts"], "count"),
        f"{name}/n_flagged_clusters": fmt_number(row["n_flagged_clusters"], "count"),
    }
    ok = _ok(results)
    if not ok.empty:
        for metric in ("f1", "precision", "recall", "fpr", "n_accounts", "n_positive"):
            values[f"{name}/{metric}"] = fmt_number(ok[metric].iloc[0], NUMBER_KIND.get(metric, "score"))
    return values


def profile_macros(profile: dict[str, Any]) -> dict[str, str]:
    """The profile the generated numbers come from."""
    return {
        "profile/name": escape(profile["name"]),
        "profile/seeds": str(profile["seeds"]),
        "profile/n_posts": "the preset's size" if profile.get("n_posts") is None else fmt_number(profile["n_posts"], "count"),
    }


def write_macros(paper_dir: Path, name: str, values: dict[str, str], profile: dict[str, Any]) -> list[Path]:
    """Write this experiment's macros and the profile's, then rebuild ``macros.tex`` from all present."""
    folder = paper_dir / "generated" / "macros"
    folder.mkdir(parents=True, exist_ok=True)
    mine = folder / f"{name}.tex"
    mine.write_text(macros(values, preamble=False))
    (folder / "profile.tex").write_text(macros(profile_macros(profile), preamble=False))
    parts = [MACRO_PREAMBLE] + [p.read_text() for p in sorted(folder.glob("*.tex"))]
    combined = paper_dir / "generated" / "macros.tex"
    combined.write_text("".join(parts))
    return [mine, combined]


# --- the whole output stage --------------------------------------------------------------------


def write_outputs(experiment: Experiment, results: pd.DataFrame, cfg: DictConfig, overrides: Sequence[str]) -> list[Path]:
    """Write the results table, figure/table, macros and provenance of an experiment."""
    from research.plotting import save_figure

    profile = experiment.profile
    results_dir = Path(str(cfg.sweep.results_dir)) / str(profile["name"])
    paper_dir = Path(str(cfg.paper_dir))
    results_path = write_results(results, results_dir / f"{experiment.name}.csv")
    outputs: list[Path] = []
    values: dict[str, str] = {}
    spec = experiment.spec
    if spec.get("figure"):
        figure = dict(spec["figure"])
        figures, summary, point = FIGURES[figure["kind"]](experiment, results, figure)
        for stem, fig in figures.items():
            outputs += save_figure(fig, paper_dir / "figures" / stem)
        if point is None:
            values.update(case_study_macros(experiment, summary, results))
        else:
            metrics = [c[:-3] for c in summary.columns if c.endswith("_lo")]
            values.update(_macro_values(experiment, summary, point, metrics))
    if spec.get("table"):
        table = dict(spec["table"])
        tex, summary = TABLES[table["kind"]](experiment, results, table)
        generated = paper_dir / "generated"
        generated.mkdir(parents=True, exist_ok=True)
        (generated / f"{experiment.name}.tex").write_text(tex)
        write_results(summary, generated / f"{experiment.name}.csv")
        outputs += [generated / f"{experiment.name}.tex", generated / f"{experiment.name}.csv"]
        metrics = [c[:-3] for c in summary.columns if c.endswith("_lo")]
        values.update(_macro_values(experiment, summary, ["method", "preset"], metrics))
    outputs += write_macros(paper_dir, experiment.name, values, profile)
    record = provenance(
        experiment=spec,
        profile=profile,
        overrides=list(overrides),
        config=OmegaConf.to_container(cfg, resolve=True),
        runs=len(experiment.runs),
        failed=int((results["status"] != "ok").sum()),
        seeds=sorted({r["labels"]["seed"] for r in experiment.runs}),
        results={str(results_path): _sha256(results_path)},
        outputs={str(p): _sha256(p) for p in outputs if p.name != "macros.tex"},
    )
    text = to_json_text(record)
    results_record = results_path.with_suffix(".provenance.json")
    results_record.write_text(text)
    paper_record = paper_dir / "generated" / "provenance" / f"{experiment.name}.json"
    paper_record.parent.mkdir(parents=True, exist_ok=True)
    paper_record.write_text(text)
    return [results_path, results_record, *outputs, paper_record]

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
    "top10_account_share": "score", "top5_app_share": "score", "url_share": "score", "repost_share": "score",
    "hourly_trough_to_peak": "score", "median_posts_per_account": "sig",
}  # fmt: skip


def _registry() -> list[str]:
    from research.methods import METHODS

    return list(METHODS)


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
    facet = figure.get("facet")
    # Rows in the order the experiment lists them (presets, or the facet axis' values).
    facet_order = list(dict.fromkeys(r["labels"][facet] for r in experiment.runs)) if facet else None
    fig = metric_curves(
        plot, figure["x"], metrics, xlabel=figure["xlabel"], facet=facet, facet_order=facet_order,
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


def calibration_table(experiment: Experiment, results: pd.DataFrame, table: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    """Simulator properties: how each is set (LaTeX from the config) and what was measured."""
    rows = list(table["rows"])
    metrics = [row["metric"] for row in rows]
    summary = summarise(_ok(results), ["preset"], metrics)
    first = summary.iloc[0]
    cells = pd.DataFrame({
        "property": [escape(row["property"]) for row in rows],
        # The config is trusted text written by the authors (it may cite: \citet{...}).
        "how it is set": [row["set"] for row in rows],
        "measured": [
            f"{fmt_number(first[m], row.get('format', 'score'))} "
            f"({fmt_number(first[m + '_lo'], row.get('format', 'score'))}--{fmt_number(first[m + '_hi'], row.get('format', 'score'))})"
            for m, row in zip(metrics, rows, strict=True)
        ],
    })  # fmt: skip
    return booktabs(cells, column_format="p{0.30\\linewidth}p{0.44\\linewidth}r"), summary


TABLES: dict[str, Callable[..., tuple[str, pd.DataFrame]]] = {"summary": summary_table, "calibration": calibration_table}


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
            lo, hi = row[f"{metric}_lo"], row[f"{metric}_hi"]
            if kind in ("score", "percent"):  # shares and scores live in [0, 1]; a t-interval may overshoot
                lo, hi = min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0)
            values[f"{stem}/{metric}_ci"] = f"{fmt_number(lo, kind)}--{fmt_number(hi, kind)}"
    if len(point) > 1:
        for keys, line in summary.groupby(point[:-1], sort=False):
            keys = keys if isinstance(keys, tuple) else (keys,)
            stem = "/".join([experiment.name, *(_value_key(k) for k in keys)])
            values.update(_line_macros(stem, line, point[-1], metrics))
    seeds = sorted({r["labels"]["seed"] for r in experiment.runs})
    values[f"{experiment.name}/seeds"] = str(len(seeds))
    values[f"{experiment.name}/runs"] = fmt_number(len(experiment.runs), "count")
    return values


_LOWER_IS_BETTER = {"fpr", "fpr_news", "fpr_feed", "fpr_org", "disconnected_share", "seconds", "peak_mb"}
_THRESHOLD = 0.9


def _line_macros(stem: str, line: pd.DataFrame, x: str, metrics: list[str]) -> dict[str, str]:
    """Macros of one curve that hold whatever axis values a profile sweeps: its first and last
    points (axis ends are kept by every profile), worst and best points, and for scores where
    it reaches and until where it holds 0.9 (``reach90``: smallest x at or above; ``hold90``:
    largest x up to which every point is at or above; ``none`` when never)."""
    values: dict[str, str] = {}
    line = line.reset_index(drop=True)
    for metric in metrics:
        finite = line[np.isfinite(line[metric].to_numpy(dtype=float))]
        if finite.empty:
            continue
        kind = NUMBER_KIND.get(metric, "sig")
        lower = metric in _LOWER_IS_BETTER
        worst = finite.loc[finite[metric].idxmax() if lower else finite[metric].idxmin()]
        best = finite.loc[finite[metric].idxmin() if lower else finite[metric].idxmax()]
        for name, row in (("first", finite.iloc[0]), ("last", finite.iloc[-1]), ("worst", worst), ("best", best)):
            values[f"{stem}/{metric}/{name}"] = fmt_number(row[metric], kind)
            values[f"{stem}/{metric}/{name}_at"] = _value_key(row[x])
        if kind == "score" and not lower:
            above = finite[metric].to_numpy(dtype=float) >= _THRESHOLD
            xs = [_value_key(v) for v in finite[x]]
            values[f"{stem}/{metric}/reach90"] = xs[int(np.argmax(above))] if above.any() else "none"
            held = int(np.argmin(above)) if not above.all() else len(above)
            values[f"{stem}/{metric}/hold90"] = xs[held - 1] if held else "none"
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
    """The profile the generated numbers come from, and the methods registered at build time."""
    from research.methods import METHODS
    from research.plotting import method_label

    return {
        "methods/list": escape(", ".join(method_label(m) for m in METHODS)),
        "methods/count": str(len(METHODS)),
        "profile/name": escape(profile["name"]),
        "profile/seeds": str(profile["seeds"]),
        "profile/n_posts": "the preset's size" if profile.get("n_posts") is None else fmt_number(profile["n_posts"], "count"),
    }


def method_macros(cfg: dict[str, Any]) -> dict[str, str]:
    """The package's method as configured (``config/...``), so that the text quotes its parameters
    from the config rather than by hand."""
    projection, detect, rule = cfg["projection"], cfg["detect"], cfg["evidence"]["rule"]
    filters = cfg["filter"]["filters"]
    values = {
        "config/window_min": fmt_number(projection["window_s"] / 60, "sig"),
        "config/offsets": str(projection["offsets"]),
        "config/weighting": escape(projection["weighting"]),
        "config/cap": fmt_number(projection["cap"], "count"),
        "config/layers": escape(", ".join(layer["objects"] for layer in projection["layers"])),
        "config/detector": escape(detect["detector"]),
        "config/objective": escape(detect["detector_params"].get("objective", "")),
        "config/resolution": fmt_number(detect["detector_params"].get("resolution", float("nan")), "sig"),
        "config/min_weight": fmt_number(next((f["w"] for f in filters if f["name"] == "min_weight"), float("nan")), "sig"),
    }
    for key in ("min_size", "min_history", "min_break", "min_exclusivity", "min_score", "signature_exclusivity"):
        values[f"config/rule/{key}"] = fmt_number(rule[key], "sig")
    values["config/rule/min_lead_h"] = fmt_number(rule["min_lead_s"] / 3600, "sig")
    return values


def write_macros(paper_dir: Path, name: str, values: dict[str, str], profile: dict[str, Any], cfg: dict[str, Any] | None = None) -> list[Path]:
    """Write this experiment's macros and the profile's, then rebuild ``macros.tex`` from all present."""
    folder = paper_dir / "generated" / "macros"
    folder.mkdir(parents=True, exist_ok=True)
    mine = folder / f"{name}.tex"
    mine.write_text(macros(values, preamble=False))
    (folder / "profile.tex").write_text(macros(profile_macros(profile), preamble=False))
    if cfg is not None:
        (folder / "config.tex").write_text(macros(method_macros(cfg), preamble=False))
    # macros.tex names every file that may exist rather than copying their contents, so that it
    # does not depend on which experiments have run, or in which order (parallel jobs).
    from experiments.paper import experiment_names

    names = ["profile", "config", *experiment_names()]
    lines = [f"\\InputIfFileExists{{generated/macros/{n}.tex}}{{}}{{}}\n" for n in names]
    combined = paper_dir / "generated" / "macros.tex"
    combined.write_text(MACRO_PREAMBLE + "".join(lines))
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
        point = [c for c in ("method", "preset") if c in summary.columns]
        values.update(_macro_values(experiment, summary, point, metrics))
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    outputs += write_macros(paper_dir, experiment.name, values, profile, plain)
    record = provenance(
        experiment=spec,
        profile=profile,
        overrides=list(overrides),
        config=plain,
        registry=_registry(),
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

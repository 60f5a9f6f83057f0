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

from experiments.config import REPO, experiment_names, load_data, method_params
from experiments.sweep import Experiment
from experiments.tools.latex import MACRO_PREAMBLE, booktabs, escape, fmt_number, macros
from experiments.tools.results import summarise, write_results
from research.errors import ConfigError
from research.outputs import to_json_text
from research.provenance import provenance

#: How each metric is printed in macros and tables.
NUMBER_KIND = {
    "f1": "score", "precision": "score", "recall": "score", "nmi": "score", "ari": "score",
    "nmi_all": "score", "ari_all": "score", "campaign_recall_min": "score",
    "fpr": "percent", "fpr_news": "percent", "fpr_feed": "percent", "fpr_org": "percent",
    "disconnected_share": "percent", "seconds": "seconds", "peak_mb": "mb",
    "n_clusters": "sig", "disconnected": "sig", "attack_posts_per_account": "sig", "n_posts": "count",
    "n_accounts": "count", "n_positive": "count", "n_flagged": "count",
    "top10_account_share": "score", "top5_app_share": "score", "url_share": "score", "repost_share": "score",
    "hourly_trough_to_peak": "score", "median_posts_per_account": "sig",
}  # fmt: skip


def registry() -> list[str]:
    """The registered methods' names, recorded in provenance: a record of ``methods: all`` made
    before a new method was merged is stale (``experiments.paper.is_missing``)."""
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


def _point_columns(
    experiment: Experiment, figure: dict[str, Any], results: pd.DataFrame
) -> list[str]:
    """The columns that identify a plotted point: method, facet, x. Any other label that
    varies would hide points behind each other, and is refused."""
    by = ["method"] + ([figure["facet"]] if figure.get("facet") else []) + [figure["x"]]
    for column in experiment.label_columns:
        if column not in (*by, "seed", "method_name") and results[column].nunique() > 1:
            raise ConfigError(
                f"experiment {experiment.name}: {column} varies but is neither x nor facet of the figure"
            )
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
    facet_order = (
        list(dict.fromkeys(r["labels"][facet] for r in experiment.runs)) if facet else None
    )
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
    return (
        {experiment.name: scaling_figure(summary, "n_posts", order=method_order(experiment))},
        summary,
        ["method", size],
    )


def case_study(experiment: Experiment, results: pd.DataFrame, figure: dict[str, Any]) -> Drawn:
    """The case-study figure, redrawn from the (deterministic) run it shows."""
    from research.graph.events import encode
    from research.methods import run_method
    from research.plotting.case_study import case_study_figure

    run = experiment.runs[0]
    config = run["config"]
    posts, truth, _ = load_data(config["data"], int(config["seed"]))
    events = encode(posts)
    detection = run_method(
        config["method"]["name"],
        posts,
        method_params(config),
        seed=int(config["seed"]),
        events=events,
    )
    flagged = detection.flagged.sort_values("cluster")
    if flagged.empty:
        raise ConfigError(
            f"experiment {experiment.name}: nothing was flagged, there is no cluster to show"
        )
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
        "planted": int(planted.sum()), "top_app": str(row["top_app"]), "top_site": str(row.get("top_site", "")),
        "n_posts": len(posts), "n_accounts": len(membership),
        "n_flagged_clusters": len(flagged),
    }])  # fmt: skip
    signature = signature_links(detection, events) == cluster
    return {experiment.name: case_study_figure(events, membership, cluster, signature)}, facts, None


def signature_links(detection: Any, events: Any) -> np.ndarray:
    """Per link: the compromised cluster whose signature site it links, or -1, as the method
    computed it (:func:`research.evidence.signature_links`; a baseline computes none: all -1)."""
    from research.evidence import signature_links as links_of

    if "signature_sites" not in detection.clusters:
        return np.full(len(events.link_post), -1, dtype=np.int64)
    return links_of(events, detection.clusters)


FIGURES: dict[str, Callable[..., Drawn]] = {
    "curves": curves,
    "scaling": scaling,
    "case_study": case_study,
}


# --- tables ----------------------------------------------------------------------------------


def summary_table(
    experiment: Experiment, results: pd.DataFrame, table: dict[str, Any]
) -> tuple[str, pd.DataFrame]:
    """Methods (rows) by presets (column groups): F1 with its 95% half-interval, and benign FPR."""
    metrics = list(table.get("metrics", ["f1", "fpr"]))
    # extra_metrics: summarised for the macros the text quotes, not shown in the table.
    extra = [m for m in table.get("extra_metrics", []) if m not in metrics]
    summary = summarise(
        _ok(results),
        ["method", "preset"],
        [*metrics, *extra, "n_posts", "n_accounts", "n_positive"],
    )
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


def calibration_table(
    experiment: Experiment, results: pd.DataFrame, table: dict[str, Any]
) -> tuple[str, pd.DataFrame]:
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


TABLES: dict[str, Callable[..., tuple[str, pd.DataFrame]]] = {
    "summary": summary_table,
    "calibration": calibration_table,
}


# --- macros ----------------------------------------------------------------------------------


def _macro_values(
    experiment: Experiment, summary: pd.DataFrame, point: list[str], metrics: list[str]
) -> dict[str, str]:
    """``<exp>/<point...>/<metric>`` for every point, ``..._ci`` for its interval, and per line
    (a point without its last column) the worst value and where it is."""
    values: dict[str, str] = {}
    for _, row in summary.iterrows():
        stem = "/".join([experiment.name, *(_value_key(row[c]) for c in point)])
        for metric in metrics:
            kind = NUMBER_KIND.get(metric, "sig")
            values[f"{stem}/{metric}"] = fmt_number(row[metric], kind)
            lo, hi = row[f"{metric}_lo"], row[f"{metric}_hi"]
            if kind in (
                "score",
                "percent",
            ):  # shares and scores live in [0, 1]; a t-interval may overshoot
                lo, hi = min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0)
            values[f"{stem}/{metric}_ci"] = f"{fmt_number(lo, kind)}--{fmt_number(hi, kind)}"
    if len(point) > 1:
        for keys, line in summary.groupby(point[:-1], sort=False):
            keys = keys if isinstance(keys, tuple) else (keys,)
            stem = "/".join([experiment.name, *(_value_key(k) for k in keys)])
            values.update(_line_macros(stem, line, point[-1], metrics))
    values.update(_baseline_macros(experiment, summary, point, metrics))
    seeds = sorted({r["labels"]["seed"] for r in experiment.runs})
    values[f"{experiment.name}/seeds"] = str(len(seeds))
    values[f"{experiment.name}/runs"] = fmt_number(len(experiment.runs), "count")
    return values


def baseline_labels(experiment: Experiment) -> list[str]:
    """Labels of the experiment's methods that are published baselines (``research.baselines``)."""
    from research.methods import METHODS

    return [
        m.label
        for m in experiment.methods
        if m.name in METHODS and METHODS[m.name].__module__.startswith("research.baselines")
    ]


def _baseline_macros(
    experiment: Experiment, summary: pd.DataFrame, point: list[str], metrics: list[str]
) -> dict[str, str]:
    """The strongest baseline, so that the text can name it without choosing it by hand:
    per preset of a table (highest mean F1: ``<exp>/<preset>/baseline/{name,f1,f1_ci,fpr}``), per
    facet of a figure (highest F1 averaged over the axis: ``<exp>[/<facet>]/baseline/name`` and
    that method's line macros under ``.../baseline/``)."""
    from research.plotting import method_label

    baselines = baseline_labels(experiment)
    if "method" not in point or "f1" not in metrics or not baselines:
        return {}
    rows = summary[summary["method"].isin(baselines)]
    rest = [c for c in point if c != "method"]
    if rows.empty or not rest:
        return {}
    values: dict[str, str] = {}
    if experiment.spec.get("table"):  # one point per (method, preset)
        for keys, group in rows.groupby(rest, sort=False):
            keys = keys if isinstance(keys, tuple) else (keys,)
            stem = "/".join([experiment.name, *(_value_key(k) for k in keys), "baseline"])
            best = group.loc[group["f1"].idxmax()]
            values[f"{stem}/name"] = escape(method_label(str(best["method"])))
            for metric in metrics:
                kind = NUMBER_KIND.get(metric, "sig")
                values[f"{stem}/{metric}"] = fmt_number(best[metric], kind)
                lo, hi = best[f"{metric}_lo"], best[f"{metric}_hi"]
                if kind in ("score", "percent"):
                    lo, hi = min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0)
                values[f"{stem}/{metric}_ci"] = f"{fmt_number(lo, kind)}--{fmt_number(hi, kind)}"
        return values
    x, facets = rest[-1], rest[:-1]
    grouped = rows.groupby(facets, sort=False) if facets else [((), rows)]
    for keys, group in grouped:
        keys = keys if isinstance(keys, tuple) else (keys,)
        stem = "/".join([experiment.name, *(_value_key(k) for k in keys), "baseline"])
        best = group.groupby("method", sort=False)["f1"].mean().idxmax()
        values[f"{stem}/name"] = escape(method_label(str(best)))
        values.update(_line_macros(stem, group[group["method"] == best], x, metrics))
    return values


_LOWER_IS_BETTER = {
    "fpr",
    "fpr_news",
    "fpr_feed",
    "fpr_org",
    "disconnected_share",
    "seconds",
    "peak_mb",
}
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
        for name, row in (
            ("first", finite.iloc[0]),
            ("last", finite.iloc[-1]),
            ("worst", worst),
            ("best", best),
        ):
            values[f"{stem}/{metric}/{name}"] = fmt_number(row[metric], kind)
            values[f"{stem}/{metric}/{name}_at"] = _value_key(row[x])
        if kind == "score" and not lower:
            above = finite[metric].to_numpy(dtype=float) >= _THRESHOLD
            xs = [_value_key(v) for v in finite[x]]
            values[f"{stem}/{metric}/reach90"] = (
                xs[int(np.argmax(above))] if above.any() else "none"
            )
            held = int(np.argmin(above)) if not above.all() else len(above)
            values[f"{stem}/{metric}/hold90"] = xs[held - 1] if held else "none"
    return values


def machine_macros(name: str) -> dict[str, str]:
    """The machine a runtime experiment's table was written on (``<name>/machine/{cpus,memory_gb}``):
    the timings are this machine's, and the caption says which it is.

    Examples
    --------
    >>> int(machine_macros("scaling")["scaling/machine/cpus"]) >= 1
    True
    """
    import os

    values = {f"{name}/machine/cpus": str(os.cpu_count() or 1)}
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        values[f"{name}/machine/memory_gb"] = fmt_number(memory, "sig")
    except (ValueError, OSError, AttributeError):  # not POSIX
        pass
    return values


def case_study_macros(
    experiment: Experiment, facts: pd.DataFrame, results: pd.DataFrame
) -> dict[str, str]:
    """Numbers of the case study: the cluster and the run's scores."""
    row = facts.iloc[0]
    name = experiment.name
    values = {
        f"{name}/cluster_size": fmt_number(row["size"], "count"),
        f"{name}/planted_in_cluster": fmt_number(row["planted_in_cluster"], "count"),
        f"{name}/planted": fmt_number(row["planted"], "count"),
        f"{name}/cluster_purity": fmt_number(
            row["planted_in_cluster"] / max(row["size"], 1), "percent"
        ),
        f"{name}/top_app": escape(row["top_app"]),
        f"{name}/top_site": escape(row["top_site"]),
        f"{name}/n_posts": fmt_number(row["n_posts"], "count"),
        f"{name}/n_flagged_clusters": fmt_number(row["n_flagged_clusters"], "count"),
    }
    ok = _ok(results)
    if not ok.empty:
        for metric in ("f1", "precision", "recall", "fpr", "n_accounts", "n_positive"):
            values[f"{name}/{metric}"] = fmt_number(
                ok[metric].iloc[0], NUMBER_KIND.get(metric, "score")
            )
    return values


def profile_macros(profile: dict[str, Any]) -> dict[str, str]:
    """The profile the generated numbers come from, and the methods registered at build time."""
    from research.methods import METHODS
    from research.plotting import method_label

    baselines = [m for m in METHODS if METHODS[m].__module__.startswith("research.baselines")]
    return {
        "methods/list": escape(", ".join(method_label(m) for m in METHODS)),
        "methods/count": str(len(METHODS)),
        "methods/baselines/list": escape(", ".join(method_label(m) for m in baselines)),
        "methods/baselines/count": str(len(baselines)),
        "profile/name": escape(profile["name"]),
        "profile/seeds": str(profile["seeds"]),
        "profile/n_posts": "the preset's size"
        if profile.get("n_posts") is None
        else fmt_number(profile["n_posts"], "count"),
    } | {
        f"profile/protocol/{key}": str(value)
        for key, value in profile.get("protocol", {}).items()
        if isinstance(value, int) and not isinstance(value, bool)
    }


def method_macros(cfg: dict[str, Any]) -> dict[str, str]:
    """The package's method as configured (``config/...``), so that the text quotes its parameters
    from the config rather than by hand: the projection, detector and filter, and every field of
    the rule (``config/rule/<field>``)."""
    projection, detect, rule = cfg["projection"], cfg["detect"], cfg["rule"]["rule"]
    filters = cfg["filter"]["filters"]
    values = {
        "config/neighbours": str(projection.get("neighbours", "")),
        "config/max_gap_days": fmt_number(
            float(projection.get("max_gap_s") or float("nan")) / 86400, "sig"
        ),
        "config/detector": escape(detect["detector"]),
        "config/objective": escape(detect["detector_params"].get("objective", "")),
        "config/resolution": fmt_number(
            detect["detector_params"].get("resolution", float("nan")), "sig"
        ),
        "config/edge_budget": fmt_number(projection["edge_budget"], "count"),
        "config/min_weight": fmt_number(
            next((f["w"] for f in filters if f["name"] == "min_weight"), float("nan")), "sig"
        ),
    }
    for key, value in rule.items():
        if isinstance(value, bool):
            values[f"config/rule/{key}"] = "yes" if value else "no"
        elif isinstance(value, str):
            values[f"config/rule/{key}"] = escape(value)
        elif key.endswith("_s"):
            values[f"config/rule/{key[:-2]}_h"] = fmt_number(float(value) / 3600, "sig")
        else:
            values[f"config/rule/{key}"] = fmt_number(value, "sig")
    values.update(method_config_macros())
    values.update(scenario_macros())
    return values


def scenario_macros() -> dict[str, str]:
    """The simulator presets' settings (``sim/<preset>/{platform,decoys,campaign}/<field>``; the
    campaign fields are the first campaign's; ``sim/<preset>/victims`` lists every campaign's
    size), so that the text describes the simulated platform from the code that makes it.

    Examples
    --------
    >>> scenario_macros()["sim/multi_campaign/campaigns"]
    '4'
    """
    from dataclasses import asdict

    from research.simulate import PRESETS

    def put(stem: str, fields: dict[str, Any]) -> None:
        for key, value in fields.items():
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                continue
            if isinstance(value, str):
                values[f"{stem}/{key}"] = escape(value)
            else:
                values[f"{stem}/{key}"] = fmt_number(
                    value, "count" if float(value).is_integer() else "sig"
                )
                if 0 < value < 1:
                    values[f"{stem}/{key}_pct"] = f"{100 * value:g}\\%"

    values: dict[str, str] = {}
    for name, make in PRESETS.items():
        scenario = make()
        put(f"sim/{name}/platform", asdict(scenario.platform))
        put(f"sim/{name}/decoys", asdict(scenario.decoys))
        put(f"sim/{name}/campaign", asdict(scenario.campaigns[0]))
        values[f"sim/{name}/campaigns"] = str(len(scenario.campaigns))
        values[f"sim/{name}/victims"] = ", ".join(
            fmt_number(c.n_victims, "count") for c in scenario.campaigns
        )
    return values


def method_config_macros() -> dict[str, str]:
    """Every scalar parameter of every registered method's config
    (``config/method/<name>/<param>``), so that the text quotes the baselines' settings from
    ``configs/method/`` rather than by hand.

    Examples
    --------
    >>> method_config_macros()["config/method/fraudar/k"]
    '5'
    """
    from experiments.config import CONFIG_DIR
    from research.methods import METHODS

    values: dict[str, str] = {}
    for name in METHODS:
        path = CONFIG_DIR / "method" / f"{name}.yaml"
        if not path.exists():
            continue
        config = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        assert isinstance(config, dict)
        params = config.get("params") or {}
        for key, value in params.items():
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | float):
                values[f"config/method/{name}/{key}"] = fmt_number(
                    value, "count" if float(value).is_integer() and abs(value) >= 1e3 else "sig"
                )
                if key.endswith("_s") and value >= 3600:
                    values[f"config/method/{name}/{key[:-2]}_h"] = fmt_number(value / 3600, "sig")
            elif isinstance(value, str):
                values[f"config/method/{name}/{key}"] = escape(value)
    return values


def _scientific(value: float) -> str:
    r"""A large round number in LaTeX scientific notation (``2.5e7`` -> ``$2.5\times10^{7}$``).

    Examples
    --------
    >>> print(_scientific(2.5e7))
    $2.5\times10^{7}$
    """
    mantissa, exponent = f"{float(value):.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"${mantissa}\\times10^{{{int(exponent)}}}$"


def benchmark_macros(results_dir: Path) -> dict[str, str]:
    """Numbers of ``make bench`` (``benchmarks/results/*.json``) the paper quotes: the package's
    method end to end at each size, the growth exponent, exact co-link against the QUT toolkit,
    reading Twitter v1.1 exports against a bare orjson loop, Dask against memory, and the machine. A missing file gives no macros (the paper then fails
    to build, naming the key, rather than print a stale number).

    Examples
    --------
    >>> benchmark_macros(Path("no/such/dir"))
    {}
    """
    import json

    def load(name: str) -> dict[str, Any] | None:
        try:
            return json.loads((results_dir / f"{name}.json").read_text())
        except (OSError, ValueError):
            return None

    values: dict[str, str] = {}
    yes_no = {True: "yes", False: "no"}
    scale = load("scale")
    if scale is not None:
        for size in scale["sizes"]:
            stem = f"bench/scale/{_value_key(size['n_posts_requested'])}"
            values[f"{stem}/n_posts"] = fmt_number(size["n_posts"], "count")
            values[f"{stem}/wall_s"] = fmt_number(size["median_wall_s"], "sig")
            values[f"{stem}/cpu_s"] = fmt_number(size["median_cpu_s"], "sig")
            values[f"{stem}/peak_gb"] = fmt_number(size["median_peak_rss_mb"] / 1024, "sig")
            values[f"{stem}/f1"] = fmt_number(size["f1"], "score")
            values[f"{stem}/edges_kept"] = fmt_number(size["edges_kept"], "count")
            values[f"{stem}/edges_projected"] = fmt_number(size["edges_projected"], "count")
            cut = size.get("edge_budget_cut")
            values[f"{stem}/edge_budget_cut"] = "none" if cut is None else fmt_number(cut, "sig")
        values["bench/scale/sizes"] = str(len(scale["sizes"]))
        values["bench/scale/repeats"] = str(len(scale["sizes"][0]["runs"]))
        for key in ("wall", "cpu", "last_decade"):
            values[f"bench/scale/exponent_{key}"] = fmt_number(
                scale[f"growth_exponent_{key}"], "score"
            )
        machine = scale["machine"]
        values["bench/machine/cpus"] = str(machine["cpus"])
        values["bench/machine/memory_gb"] = fmt_number(machine["memory_gb"], "sig")
        values["bench/machine/cpu"] = escape(machine["cpu_model"])
    colink = load("colink")
    if colink is not None:
        values["bench/colink/n_posts"] = fmt_number(colink["n_posts"], "count")
        values["bench/colink/window_s"] = fmt_number(colink["window_s"], "sig")
        values["bench/colink/n_edges"] = fmt_number(colink["n_directed_edges"], "count")
        values["bench/colink/cnt_threads"] = str(colink["cnt_threads"])
        values["bench/colink/repeats"] = str(len(colink["ours"]))
        for key, value in colink["median_s"].items():
            values[f"bench/colink/{key}_s"] = fmt_number(value, "sig")
        values["bench/colink/speedup_total"] = f"{colink['speed_ratio_total']:.0f}"
        values["bench/colink/speedup_network"] = f"{colink['speed_ratio_network']:.1f}"
        values["bench/colink/same_network"] = yes_no[bool(colink["same_network"])]
    ingest = load("ingest")
    if ingest is not None and ingest.get("results"):
        largest = max(ingest["results"], key=lambda r: r["posts"])
        values["bench/ingest/n_posts"] = fmt_number(largest["posts"], "count")
        values["bench/ingest/bytes_per_line"] = fmt_number(largest["bytes_per_line"], "count")
        values["bench/ingest/rows_per_s"] = fmt_number(largest["ingest_rows_per_s"], "count")
        values["bench/ingest/orjson_rows_per_s"] = fmt_number(largest["orjson_rows_per_s"], "count")
        values["bench/ingest/ratio"] = f"{largest['ratio']:.2f}"
        values["bench/ingest/peak_mb"] = fmt_number(largest["ingest_peak_rss_mb"], "count")
    dask = load("dask")
    if dask is not None and dask.get("sizes"):
        size = dask["sizes"][-1]
        values["bench/dask/n_posts"] = fmt_number(size["n_posts"], "count")
        values["bench/dask/memory_s"] = fmt_number(size["median_wall_s"]["memory"], "sig")
        values["bench/dask/dask_s"] = fmt_number(size["median_wall_s"]["dask_local"], "sig")
        values["bench/dask/ratio"] = f"{size['dask_over_memory']:.1f}"
        values["bench/dask/same_results"] = yes_no[bool(size["same_results"])]
    return values


BENCHMARK_RESULTS = REPO / "benchmarks" / "results"


def write_benchmark_macros(paper_dir: Path, results_dir: Path = BENCHMARK_RESULTS) -> list[Path]:
    """``generated/macros/benchmarks.tex`` from the benchmark results, with a provenance record
    naming the result files and their SHA-256 (the machine is inside each file)."""
    folder = paper_dir / "generated" / "macros"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "benchmarks.tex"
    path.write_text(macros(benchmark_macros(results_dir), preamble=False))
    inputs = sorted(results_dir.glob("*.json"))
    record = {
        "inputs": {f"benchmarks/results/{p.name}": _sha256(p) for p in inputs},
        "outputs": {str(path): _sha256(path)},
        "made_by": "make bench (benchmarks/run_all.py); macros by experiments.outputs.benchmark_macros",
    }
    record_path = paper_dir / "generated" / "provenance" / "benchmarks.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(to_json_text(record))
    return [path, record_path]


def write_macros(
    paper_dir: Path,
    name: str,
    values: dict[str, str],
    profile: dict[str, Any],
    cfg: dict[str, Any] | None = None,
) -> list[Path]:
    """Write this experiment's macros and the profile's, then rebuild ``macros.tex`` from all present."""
    folder = paper_dir / "generated" / "macros"
    folder.mkdir(parents=True, exist_ok=True)
    mine = folder / f"{name}.tex"
    mine.write_text(macros(values, preamble=False))
    (folder / "profile.tex").write_text(macros(profile_macros(profile), preamble=False))
    if cfg is not None:
        (folder / "config.tex").write_text(macros(method_macros(cfg), preamble=False))
    write_benchmark_macros(paper_dir)
    # macros.tex names every file that may exist rather than copying their contents, so that it
    # does not depend on which experiments have run, or in which order (parallel jobs).
    names = ["profile", "config", "benchmarks", *experiment_names()]
    lines = [f"\\InputIfFileExists{{generated/macros/{n}.tex}}{{}}{{}}\n" for n in names]
    combined = paper_dir / "generated" / "macros.tex"
    combined.write_text(MACRO_PREAMBLE + "".join(lines))
    return [mine, combined]


# --- the whole output stage --------------------------------------------------------------------


def write_outputs(
    experiment: Experiment, results: pd.DataFrame, cfg: DictConfig, overrides: Sequence[str]
) -> list[Path]:
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
        if experiment.kind == "runtime":
            values.update(machine_macros(experiment.name))
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
        registry=registry(),
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

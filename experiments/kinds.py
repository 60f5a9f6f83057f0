"""What one run of each experiment kind computes: detection on simulated data, runtime and
memory in a fresh process, detectors on LFR graphs.

Runs that share a dataset form a *group* and are computed together (the data are made
once). Group functions are top-level so that joblib can send them to worker processes;
each returns one cache entry per run (``{"key", "status", "result", ...}``).
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from experiments.config import PIPELINE_GROUPS, load_data, method_params
from experiments.tools.memory import peak_rss_bytes, reset_peak, rss_bytes
from experiments.tools.results import RunCache

#: Columns of a detection run's result, in table order.
DETECTION_COLUMNS = (
    "n_posts", "n_accounts", "n_positive", "attack_posts_per_account", "n_flagged", "tp", "fp", "fn",
    "precision", "recall", "f1", "fpr", "fpr_news", "fpr_feed", "fpr_org", "nmi_all", "ari_all",
    "campaign_recall_min", "n_clusters", "n_flagged_clusters", "disconnected", "disconnected_share",
)  # fmt: skip
RUNTIME_COLUMNS = ("n_posts", "seconds", "peak_mb")
LFR_COLUMNS = (
    "n_nodes",
    "n_edges",
    "n_planted",
    "generator_seed",
    "mu_measured",
    "nmi",
    "ari",
    "n_clusters",
    "disconnected",
    "disconnected_share",
)
CALIBRATION_COLUMNS = (
    "n_posts", "n_accounts", "top10_account_share", "top5_app_share", "url_share", "repost_share",
    "hourly_trough_to_peak", "median_posts_per_account",
)  # fmt: skip
COLUMNS = {
    "detection": DETECTION_COLUMNS, "runtime": RUNTIME_COLUMNS, "lfr": LFR_COLUMNS,
    "case_study": DETECTION_COLUMNS, "calibration": CALIBRATION_COLUMNS,
}  # fmt: skip


def run_config(kind: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """The part of a resolved config that decides a run's result (and its cache key).

    Pipeline groups count only for methods that use them, so that a baseline's cached
    result is reused whatever the package's own method is configured to do.
    """
    if kind == "lfr":
        return {"lfr": dict(cfg["experiment"]["lfr"]), "detect": cfg["detect"], "seed": cfg["seed"]}
    if kind == "calibration":
        return {"data": cfg["data"], "seed": cfg["seed"]}
    config = {"data": cfg["data"], "method": cfg["method"], "seed": cfg["seed"]}
    if cfg["method"].get("uses_pipeline_groups"):
        config.update({group: cfg[group] for group in PIPELINE_GROUPS})
    return config


def group_key(kind: str, config: dict[str, Any]) -> str:
    """Runs with equal group keys share their dataset."""
    from experiments.tools.results import canonical_json

    shared = {"lfr": config.get("lfr")} if kind == "lfr" else {"data": config["data"]}
    return canonical_json({**shared, "seed": config["seed"]})


def _entry(
    run: dict[str, Any], result: dict[str, Any] | None, error: str | None = None
) -> dict[str, Any]:
    from research.provenance import provenance

    entry = {
        "key": run["key"],
        "kind": run["kind"],
        "config": run["config"],
        "overrides": run["overrides"],
    }
    if error is None:
        entry.update(status="ok", result=result)
    else:
        entry.update(status="error", error=error)
    entry["provenance"] = provenance()
    return entry


def _failed(err: BaseException) -> str:
    """A one-line reason, with the innermost frame of the traceback for bugs."""
    frames = traceback.extract_tb(err.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(err).__name__}: {err}{where}"


def _store(cache_root: str | None, entry: dict[str, Any]) -> None:
    # Only successes are cached: a failure is retried on the next run of the experiment.
    if cache_root is not None and entry["status"] == "ok":
        RunCache(cache_root).put(entry["key"], entry)


def attack_posts_per_account(posts: Any, truth: Any) -> float:
    """Mean number of attack posts per account that made any (NaN without attack posts)."""
    import pyarrow.compute as pc

    if truth.posts.num_rows == 0:
        return float("nan")
    where = pc.index_in(posts.column("post_id"), value_set=truth.posts.column("post_id"))
    malicious = pc.fill_null(truth.posts.column("malicious").combine_chunks().take(where), False)
    accounts = posts.column("account_id").combine_chunks().filter(malicious)
    return len(accounts) / len(pc.unique(accounts)) if len(accounts) else float("nan")


def detection_result(detection: Any, truth: Any, posts: Any) -> dict[str, Any]:
    """The detection columns of one run."""
    from research.evaluate import evaluate

    metrics = evaluate(detection.accounts, truth)
    n_clusters = int(detection.clustering.n_clusters)
    recalls = list(metrics["campaign_recall"].values())
    result = {
        k: metrics[k]
        for k in (
            "n_accounts",
            "n_positive",
            "n_flagged",
            "tp",
            "fp",
            "fn",
            "precision",
            "recall",
            "f1",
            "fpr",
            "nmi_all",
            "ari_all",
        )
    }
    result.update({f"fpr_{kind}": value for kind, value in metrics["fpr_decoys"].items()})
    result.update(
        n_posts=len(posts),
        attack_posts_per_account=attack_posts_per_account(posts, truth),
        campaign_recall_min=min(recalls) if recalls else float("nan"),
        n_clusters=n_clusters,
        n_flagged_clusters=int(detection.summary()["n_flagged_clusters"]),
        disconnected=int(detection.clustering.disconnected),
        disconnected_share=detection.clustering.disconnected / n_clusters if n_clusters else 0.0,
    )
    return result


def detection_group(
    runs: list[dict[str, Any]], cache_root: str | None = None
) -> list[dict[str, Any]]:
    """Simulate the group's dataset once, then run each method on it and evaluate."""
    from research.graph.events import encode
    from research.methods import run_method

    first = runs[0]["config"]
    try:
        posts, truth, _ = load_data(first["data"], int(first["seed"]))
        events = encode(posts)
    except Exception as err:  # every run of the group fails the same way
        return [_entry(run, None, _failed(err)) for run in runs]
    entries = []
    for run in runs:
        config = run["config"]
        try:
            detection = run_method(
                config["method"]["name"],
                posts,
                method_params(config),
                seed=int(config["seed"]),
                events=events,
            )
            entry = _entry(run, detection_result(detection, truth, posts))
        except Exception as err:  # a baseline that fails on one preset must not stop the sweep
            entry = _entry(run, None, _failed(err))
        _store(cache_root, entry)
        entries.append(entry)
    return entries


def lfr_group(runs: list[dict[str, Any]], cache_root: str | None = None) -> list[dict[str, Any]]:
    """Generate the group's LFR graph once, then run each detector and compare with the planted partition."""
    import igraph as ig

    from research.detect import detect
    from research.detect.lfr import LFRSpec, lfr_graph

    first = runs[0]["config"]
    try:
        graph = lfr_graph(LFRSpec(**first["lfr"]), int(first["seed"]))
    except Exception as err:
        return [_entry(run, None, _failed(err)) for run in runs]
    planted = graph.communities
    mixing = graph.mixing()
    entries = []
    for run in runs:
        spec = run["config"]["detect"]
        try:
            # min_size=1: a node left alone is its own community, as in the planted partition's terms.
            clustering = detect(
                graph.projection,
                spec["detector"],
                seed=int(first["seed"]),
                min_size=1,
                **spec["detector_params"],
            )
            found = clustering.membership.tolist()
            n_clusters = clustering.n_clusters
            entry = _entry(run, {
                "n_nodes": graph.projection.n_accounts,
                "n_edges": graph.projection.n_edges,
                "n_planted": len(np.unique(planted)),
                "generator_seed": graph.generator_seed,
                "mu_measured": mixing,
                "nmi": float(ig.compare_communities(planted.tolist(), found, method="nmi")),
                "ari": float(ig.compare_communities(planted.tolist(), found, method="adjusted_rand")),
                "n_clusters": n_clusters,
                "disconnected": clustering.disconnected,
                "disconnected_share": clustering.disconnected / n_clusters if n_clusters else 0.0,
            })  # fmt: skip
        except Exception as err:
            entry = _entry(run, None, _failed(err))
        _store(cache_root, entry)
        entries.append(entry)
    return entries


def calibration_group(
    runs: list[dict[str, Any]], cache_root: str | None = None
) -> list[dict[str, Any]]:
    """Measure the simulated platform's properties (:func:`research.simulate.calibration.platform_statistics`)."""
    from research.simulate.calibration import platform_statistics

    entries = []
    for run in runs:
        config = run["config"]
        try:
            posts, _, _ = load_data(config["data"], int(config["seed"]))
            entry = _entry(run, platform_statistics(posts))
        except Exception as err:
            entry = _entry(run, None, _failed(err))
        _store(cache_root, entry)
        entries.append(entry)
    return entries


# --- runtime: one measurement per fresh process ----------------------------------------------------


def measure(posts_path: str, method: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Wall time and peak memory of one method on a posts file, in the calling process.

    The posts are read first; then the kernel's peak-RSS mark is reset
    (``/proc/self/clear_refs``), so that the peak counts what the method adds
    on top of its input. Without ``/proc`` (not Linux) the peak is the whole
    process's, input included.
    """
    from research.methods import run_method
    from research.posts import read_posts

    posts = read_posts(posts_path)
    reset = reset_peak()
    before = rss_bytes() if reset else 0
    start = time.perf_counter()
    run_method(method, posts, params, seed=seed)
    seconds = time.perf_counter() - start
    return {
        "n_posts": len(posts),
        "seconds": seconds,
        "peak_mb": max(peak_rss_bytes() - before, 0) / 2**20,
    }


def runtime_groups(
    groups: list[list[dict[str, Any]]],
    cache_root: str | None,
    work_dir: Path,
    on_done: Callable[[list[dict[str, Any]]], None],
) -> None:
    """Measure every run of every group, one fresh process per measurement, one at a time."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from research.posts import write_posts

    context = multiprocessing.get_context("spawn")
    work_dir.mkdir(parents=True, exist_ok=True)
    for runs in groups:
        first = runs[0]["config"]
        path = work_dir / f"posts-{os.getpid()}.parquet"
        try:
            posts, _, _ = load_data(first["data"], int(first["seed"]))
            write_posts(posts, path)
            del posts
        except Exception as err:
            on_done([_entry(run, None, _failed(err)) for run in runs])
            continue
        entries = []
        for run in runs:
            config = run["config"]
            try:
                with ProcessPoolExecutor(
                    max_workers=1, mp_context=context, max_tasks_per_child=1
                ) as pool:
                    result = pool.submit(
                        measure,
                        str(path),
                        config["method"]["name"],
                        method_params(config),
                        int(config["seed"]),
                    ).result()
                entry = _entry(run, result)
            except Exception as err:
                entry = _entry(run, None, _failed(err))
            _store(cache_root, entry)
            entries.append(entry)
        path.unlink(missing_ok=True)
        on_done(entries)


GROUP_RUNNERS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "detection": detection_group,
    "case_study": detection_group,
    "lfr": lfr_group,
    "calibration": calibration_group,
}

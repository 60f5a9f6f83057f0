"""Benchmark: the method end to end, from the posts Parquet dataset to flagged clusters.

For each size (default 1e5, 1e6, 1e7 posts of ``simulate("weheartit", seed=0,
n_posts=N)``, cached by :mod:`benchmarks.datasets`) and each repeat, a fresh
Python process runs :func:`research.scale.detect_parquet` with the package's
default method (evidence and signature expansion included) and reports wall
time, CPU time, peak RSS (VmHWM) and the stage breakdown: load (read +
encode), incidence, projection (with the streamed filters), graph build,
detection (Leiden), scoring (evidence, expansion and verdicts). Detection quality against
the simulator's truth is measured after the clock stops. Medians over repeats;
the growth exponent is the slope of log(median time) on log(posts).

Run: ``PYTHONPATH=. python -m benchmarks.bench_scale [--sizes 1e5 1e6 1e7] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from benchmarks.common import median, run_child, write_result
from benchmarks.datasets import ensure_dataset

_CHILD = """
from research.scale import detect_parquet
directory = sys.argv[1]
u0, s0 = _usage(); start = time.perf_counter()
detection = detect_parquet(directory + "/posts.parquet", seed=0)
wall = time.perf_counter() - start
u1, s1 = _usage()
peak = _peak_mb()
from research.evaluate import evaluate
from research.truth import read_truth
metrics = evaluate(detection.accounts, read_truth(directory))
stats = detection.stats
print(json.dumps({
    **_detection_record(detection, wall, (u0, s0), (u1, s1), peak),
    "caps": [layer.get("cap") for layer in stats["layers"]],
    "pair_products": [layer.get("pair_products") for layer in stats["layers"]],
    "n_flagged_clusters": int(detection.clusters["flagged"].sum()),
    "f1": metrics["f1"], "precision": metrics["precision"], "recall": metrics["recall"], "fpr": metrics["fpr"],
}))
"""

STAGES = {
    "load": ("load",),
    "incidence": ("incidence",),
    "projection": ("projection", "filter"),
    "graph_build": ("graph",),
    "detection": ("detect",),
    "scoring": ("evidence", "expand", "verdicts"),
}


def _stages(timings: dict[str, float]) -> dict[str, float]:
    return {name: sum(timings.get(k, 0.0) for k in keys) for name, keys in STAGES.items()}


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(y) on log(x)."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def run(sizes: list[int], repeats: int) -> dict[str, Any]:
    """Measure every size; returns the results (also written to ``results/scale.json``)."""
    per_size = []
    for n in sizes:
        directory = ensure_dataset(n)
        runs = [run_child(_CHILD, str(directory)) for _ in range(repeats)]
        stages = {name: median([_stages(r["timings"])[name] for r in runs]) for name in STAGES}
        summary = {
            "n_posts_requested": n,
            "runs": runs,
            "median_wall_s": median([r["wall_s"] for r in runs]),
            "median_cpu_s": median([r["user_s"] + r["sys_s"] for r in runs]),
            "median_peak_rss_mb": median([r["peak_rss_mb"] for r in runs]),
            "median_stages_s": stages,
            **{
                k: runs[0][k]
                for k in (
                    "n_posts",
                    "n_accounts",
                    "edges_projected",
                    "edges_kept",
                    "edge_budget_cut",
                    "caps",
                    "f1",
                    "recall",
                    "precision",
                )
            },
        }
        print(
            f"{runs[0]['n_posts']:>10,} posts: {summary['median_wall_s']:6.2f} s wall (median of {repeats}), "
            f"{summary['median_cpu_s']:6.2f} s CPU, peak {summary['median_peak_rss_mb']:6.0f} MB, "
            f"F1 {summary['f1']:.3f}, edges kept {summary['edges_kept']:,}",
            flush=True,
        )
        per_size.append(summary)
    result: dict[str, Any] = {"sizes": per_size}
    if len(per_size) >= 2:
        points = [(s["n_posts"], s["median_wall_s"]) for s in per_size]
        result["growth_exponent_wall"] = slope(points)
        result["growth_exponent_cpu"] = slope([(s["n_posts"], s["median_cpu_s"]) for s in per_size])
        result["growth_exponent_last_decade"] = slope(points[-2:])
        print(
            f"growth exponent (wall, all sizes): {result['growth_exponent_wall']:.2f}; last decade: {result['growth_exponent_last_decade']:.2f}"
        )
    write_result("scale", result)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    run([int(s) for s in args.sizes], args.repeats)


if __name__ == "__main__":
    main()

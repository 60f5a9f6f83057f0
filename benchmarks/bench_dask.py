"""Benchmark: the in-memory path against the Dask path on a local cluster, same input, same run.

Each path runs :func:`research.scale.detect_parquet` with the windowed joint graph
(``research.methods.JOINT_GRAPH``: the projection the Dask backend distributes; the
default ``hijack`` projection runs in memory only) on the same Parquet dataset in a
fresh process: ``backend=memory``, then ``backend=dask`` on a
``LocalCluster`` (2 workers as threads of the process, 1 thread each, cluster
start-up included in the wall time). Both must give the same clusters and
verdicts (digests of the membership and of the clusters and accounts tables).
On one machine the Dask path is the slower one (a task-based shuffle instead
of one sparse product); its point is to spread the steps that grow with the
data over more machines with the same results.

Run: ``PYTHONPATH=. python -m benchmarks.bench_dask [--sizes 1e6] [--repeats 1]``
"""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.common import median, run_child, write_result
from benchmarks.datasets import ensure_dataset

_CHILD = """
import hashlib
from research.methods import JOINT_GRAPH
from research.scale import BackendSpec, detect_parquet
from research.spec import PipelineSpec
backend = BackendSpec.from_dict(json.loads(sys.argv[2]))
spec = PipelineSpec.from_dict(JOINT_GRAPH)  # the windowed graph: the projection Dask runs
u0, s0 = _usage(); start = time.perf_counter()
detection = detect_parquet(sys.argv[1] + "/posts.parquet", spec, seed=0, backend=backend)
wall = time.perf_counter() - start
u1, s1 = _usage()
digest = hashlib.sha256()
digest.update(detection.clustering.membership.tobytes())
digest.update(detection.clusters.to_csv().encode())
digest.update(detection.accounts.to_csv().encode())
print(json.dumps({"wall_s": wall, "cpu_s": (u1 - u0) + (s1 - s0), "peak_rss_mb": _peak_mb(), "timings": detection.timings,
                  "digest": digest.hexdigest(), "edges_kept": detection.stats["edges_kept"],
                  "n_flagged_clusters": int(detection.clusters["flagged"].sum())}))
"""

BACKENDS = {
    "memory": {"name": "memory"},
    "dask_local": {
        "name": "dask",
        "cluster": "local",
        "n_workers": 2,
        "threads_per_worker": 1,
        "processes": False,
    },
}


def run(sizes: list[int], repeats: int) -> dict[str, Any]:
    """Measure both paths at each size; returns the results (also written to ``results/dask.json``)."""
    import json

    out = []
    for n in sizes:
        directory = str(ensure_dataset(n))
        runs = {
            name: [run_child(_CHILD, directory, json.dumps(spec)) for _ in range(repeats)]
            for name, spec in BACKENDS.items()
        }
        digests = {r["digest"] for rs in runs.values() for r in rs}
        entry = {
            "n_posts": n,
            "runs": runs,
            "same_results": len(digests) == 1,
            "median_wall_s": {name: median([r["wall_s"] for r in rs]) for name, rs in runs.items()},
            "median_peak_rss_mb": {
                name: median([r["peak_rss_mb"] for r in rs]) for name, rs in runs.items()
            },
        }
        entry["dask_over_memory"] = (
            entry["median_wall_s"]["dask_local"] / entry["median_wall_s"]["memory"]
        )
        print(
            f"{n:,} posts: memory {entry['median_wall_s']['memory']:.2f} s, dask LocalCluster(2) "
            f"{entry['median_wall_s']['dask_local']:.2f} s ({entry['dask_over_memory']:.1f}x); same results: {entry['same_results']}",
            flush=True,
        )
        out.append(entry)
    result = {"sizes": out}
    write_result("dask", result)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    run([int(s) for s in args.sizes], args.repeats)


if __name__ == "__main__":
    main()

"""Benchmark: 10^8 posts on the Dask backend, past what one process holds (``make bench-large``).

Two parts, each in fresh processes under the memory watchdog of
:mod:`benchmarks.watchdog` (the run's process group is killed if the machine's
``MemAvailable`` falls below ``--min-available-gb``, and the result records
the stage it was in):

1. **Equality at 10^7**: :func:`research.scale.detect_parquet` with the
   windowed joint graph (``research.methods.JOINT_GRAPH``) on the cached
   10^7-post dataset, ``backend=memory`` and then ``backend=dask`` with the
   cluster of part 2; the digests of the membership and of the clusters and
   accounts tables must be equal (the child of :mod:`benchmarks.bench_dask`).
2. **10^8 on Dask**: the same call on ten shards of 10^7 posts
   (:func:`benchmarks.datasets.ensure_shards`: ten disjoint simulated platforms
   as one Parquet directory) on a ``LocalCluster`` of worker processes with a
   memory limit each, spilling to ``--spill-dir``. Measured: wall and CPU time
   of the client, the client's peak RSS (VmHWM) before the evaluation, the
   workers' RSS (sampled every ``--interval`` s; their sum and each one's
   VmHWM), the stage timings, and per stage (the child marks the steps of the
   Dask projection and of the verdicts) the largest client and worker RSS
   sampled, with the size of the gathered encoded posts, Arrow's allocation
   and glibc's heap (in use, free but kept); then F1, precision and recall
   against the shards' truth (after the clock stops and the peak is read).
   If the run does not finish (the watchdog), the next count of ``--shards``
   is tried (default 10, then 5: 5 x 10^7 posts). ``--malloc-trim`` calls
   ``malloc_trim(0)`` in the client once the projection is done: a diagnosis
   of the heap glibc keeps after the gather, not what a user of the backend gets.

The verdicts at 10^8 are those an in-memory run would give on a machine large
enough for it because both backends run the same steps with equal results
(part 1 checks it at 10^7). Not part of ``make bench`` or CI: about a quarter
of an hour on 2 cores (the check 1.5 min, 10^8 on Dask 7-9 min, 5 x 10^7 4 min),
plus 4 minutes to simulate the shards the first time (3.1 GB on disk; the
workers spill up to ~10 GB more while it runs). ``--append`` keeps the check and
the attempts already in ``results/large.json`` and adds the new ones.

Run: ``PYTHONPATH=. python -m benchmarks.bench_large [--shards 10 5] [--shard-posts 1e7]
[--workers 2] [--memory-limit 3GiB] [--partitions 32] [--skip-check] [--append] [--malloc-trim]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.bench_dask import _CHILD as _EQUALITY_CHILD
from benchmarks.common import REPO, RESULTS, write_result
from benchmarks.datasets import DATA, ensure_dataset, ensure_shards
from benchmarks.watchdog import run_watched

# The 10^8 run: detect_parquet with stage markers around the steps of the Dask projection
# (the functions of research.scale.dask_backend it calls, wrapped by name) and the
# pipeline's stages; the peak is read before the evaluation.
_LARGE = """
import contextlib, functools
import pyarrow as pa
import pyarrow.parquet as pq
import research.evidence as _evidence
import research.pipeline as _pipeline
import research.scale.dask_backend as _dask
from research.methods import JOINT_GRAPH
from research.scale import BackendSpec, detect_parquet
from research.spec import PipelineSpec
directory, backend = sys.argv[1], BackendSpec.from_dict(json.loads(sys.argv[2]))
spec = PipelineSpec.from_dict(JOINT_GRAPH)
n_layers = len(spec.layers)
calls = {}

import ctypes
class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
try:
    _libc = ctypes.CDLL("libc.so.6")
    _libc.mallinfo2.restype = _MallInfo2
except (OSError, AttributeError):
    _libc = None

def malloc_mb():
    # glibc's heap: bytes in use (uordblks), free but kept by the process (fordblks), mmapped (hblkhd)
    if _libc is None:
        return None
    m = _libc.mallinfo2()
    return {"in_use": m.uordblks / 2**20, "free_kept": m.fordblks / 2**20, "mmapped": m.hblkhd / 2**20}

def mark(name):
    _mark(name)
    _info(at=name, arrow_allocated_mb=pa.total_allocated_bytes() / 2**20, malloc_mb=malloc_mb())

def wrap(module, name, before=None, after=None):
    original = getattr(module, name, None)
    if original is None:  # renamed since: no marker there
        return
    @functools.wraps(original)
    def wrapped(*args, **kwargs):
        k = calls[name] = calls.get(name, 0) + 1
        if before:
            before(k)
        out = original(*args, **kwargs)
        if after:
            after(k, out)
        return out
    setattr(module, name, wrapped)

def events_bytes(k, events):
    arrays = {name: getattr(events, name) for name in ("post_account", "post_app", "post_time", "post_row",
              "link_post", "link_url", "link_domain", "post_repost")}
    labels = {name: getattr(events, name).values for name in ("accounts", "apps", "urls", "domains")}
    _info(events={"n_posts": len(events.post_account), "n_links": len(events.link_post),
                  "arrays_mb": {n: a.nbytes / 2**20 for n, a in arrays.items() if a is not None},
                  "labels_mb": {n: v.nbytes / 2**20 for n, v in labels.items()},
                  "labels_n": {n: len(v) for n, v in labels.items()}})
    mark("dask: layer 1 actions, shuffle by object, windowed objects, degrees")

wrap(_dask, "dask_project", before=lambda k: mark("dask: read, distinct values per partition"))
wrap(_dask, "_merge_distinct", before=lambda k: k == 1 and mark("dask: merge the dictionaries (client)"))
wrap(_dask, "_nonblank", before=lambda k: k == 1 and mark("dask: encode partitions"))
wrap(_dask, "_gather_events", before=lambda k: mark("dask: gather the encoded posts into preallocated arrays (client)"),
     after=events_bytes)
wrap(_dask, "_cap_within_budget", after=lambda k, out: mark(
    f"dask: layer {k + 1} actions, shuffle by object, windowed objects, degrees" if k < n_layers
    else "dask: pairs, shuffle by pair, reduce, gather the edges"))
# the verdicts stage: signature groups and their evidence (called per pooling round)
wrap(_evidence, "signature_groups", before=lambda k: mark(f"verdicts: signature groups ({k})"))
wrap(_evidence, "group_evidence", before=lambda k: mark(f"verdicts: group evidence ({k})"),
     after=lambda k, out: mark(f"verdicts: ladder, pooling ({k})"))

trim = bool(json.loads(sys.argv[3])) if len(sys.argv) > 3 else False
_stage = _pipeline.StageTimer.stage
@contextlib.contextmanager
def stage(self, name):
    mark("pipeline: " + name)
    if trim and name == "encode":  # the projection is done: hand glibc's free heap back to the system
        before = open("/proc/self/statm").read().split()[1]
        _libc.malloc_trim(0)
        after = open("/proc/self/statm").read().split()[1]
        _info(malloc_trim={"rss_before_mb": int(before) * 4096 / 2**20, "rss_after_mb": int(after) * 4096 / 2**20})
    with _stage(self, name):
        yield
_pipeline.StageTimer.stage = stage

u0, s0 = _usage(); start = time.perf_counter()
detection = detect_parquet(directory + "/posts.parquet", spec, seed=0, backend=backend)
wall = time.perf_counter() - start
u1, s1 = _usage()
peak = _peak_mb()
mark("evaluate (after the clock and the peak)")
from research.evaluate import evaluate
from research.truth import POST_TRUTH_SCHEMA, GroundTruth
truth = GroundTruth(pq.read_table(directory + "/truth_accounts.parquet"), POST_TRUTH_SCHEMA.empty_table())
metrics = evaluate(detection.accounts, truth)
stats = detection.stats
flagged = detection.clusters[detection.clusters["flagged"]]
print(json.dumps({
    **_detection_record(detection, wall, (u0, s0), (u1, s1), peak),
    "layers": [{k: layer.get(k) for k in ("objects", "n_actions", "n_objects", "cap", "cap_lowered_from",
                                          "pair_products", "pair_products_uncapped", "n_edges")}
               for layer in stats["layers"]],
    "n_flagged_clusters": int(len(flagged)),
    "flagged_sizes": [int(x) for x in flagged["size"]] if "size" in flagged else None,
    "metrics": {k: metrics[k] for k in ("f1", "precision", "recall", "fpr", "tp", "fp", "fn", "n_positive", "n_flagged")},
}, default=str))
"""


def backend_spec(workers: int, memory_limit: str, partitions: int | None) -> dict[str, Any]:
    """The Dask backend of both parts: worker processes with a memory limit each."""
    return {
        "name": "dask",
        "cluster": "local",
        "n_workers": workers,
        "threads_per_worker": 1,
        "processes": True,
        "memory_limit": memory_limit,
        "partitions": partitions,
    }


def _env(spill_dir: Path) -> dict[str, str]:
    """The workers spill to ``spill_dir`` (Dask's temporary-directory, read by worker processes)."""
    spill_dir.mkdir(parents=True, exist_ok=True)
    return {"DASK_TEMPORARY_DIRECTORY": str(spill_dir)}


def equality(
    n_posts: int, backend: dict[str, Any], spill_dir: Path, min_available_mb: float
) -> dict[str, Any]:
    """Part 1: memory and Dask on the same dataset; the digests must be equal."""
    directory = str(ensure_dataset(n_posts))
    runs = {}
    for name, spec in (("memory", {"name": "memory"}), ("dask", backend)):
        print(f"{n_posts:,} posts, backend {name}:", flush=True)
        run = run_watched(
            _EQUALITY_CHILD,
            directory,
            json.dumps(spec),
            min_available_mb=min_available_mb,
            env=_env(spill_dir),
            echo=False,
        )
        if run["result"] is None:
            raise RuntimeError(f"{name} run failed (killed: {run['kill']}):\n{run['stderr_tail']}")
        runs[name] = {
            **run["result"],
            "workers_rss_sum_peak_mb": run["peak"]["workers_rss_sum_mb"],
            "min_mem_available_mb": run["peak"]["min_mem_available_mb"],
        }
        print(
            f"  {run['result']['wall_s']:.1f} s, peak {run['result']['peak_rss_mb']:,.0f} MB, "
            f"digest {run['result']['digest'][:12]}",
            flush=True,
        )
    return {
        "n_posts_requested": n_posts,
        "runs": runs,
        "same_results": runs["memory"]["digest"] == runs["dask"]["digest"],
    }


def large(
    n_shards: int,
    shard_posts: int,
    backend: dict[str, Any],
    spill_dir: Path,
    min_available_mb: float,
    interval: float,
    trim: bool = False,
) -> dict[str, Any]:
    """Part 2: the sharded dataset on the Dask backend, memory sampled and watched (``trim``:
    ``malloc_trim(0)`` in the client once the projection is done, a diagnosis of retained heap)."""
    directory = ensure_shards(n_shards, shard_posts, min_available_mb=min_available_mb)
    shards = json.loads((directory / "scenario.json").read_text())
    print(
        f"{shards['n_posts']:,} posts ({n_shards} shards) on Dask {backend['n_workers']} worker processes, "
        f"memory_limit {backend['memory_limit']} each, spilling to {spill_dir}:",
        flush=True,
    )
    run = run_watched(
        _LARGE,
        str(directory),
        json.dumps(backend),
        json.dumps(trim),
        min_available_mb=min_available_mb,
        interval=interval,
        env=_env(spill_dir),
    )
    return {
        "malloc_trim_after_projection": trim,
        "dataset": str(directory.relative_to(REPO)),
        "n_shards": n_shards,
        "shard_posts_requested": shard_posts,
        "shards": [
            {k: s[k] for k in ("seed", "n_posts", "simulate_s", "wall_s", "peak_rss_mb")}
            for s in shards["shards"]
        ],
        "n_posts": shards["n_posts"],
        "finished": run["result"] is not None,
        **run,
    }


def run(
    shards: list[int] | None = None,
    shard_posts: int = 10_000_000,
    *,
    workers: int = 2,
    memory_limit: str = "3GiB",
    partitions: int | None = 32,
    check_posts: int | None = 10_000_000,
    spill_dir: Path = DATA / "dask-spill",
    min_available_gb: float = 4.0,
    interval: float = 0.5,
    append: bool = False,
    trim: bool = False,
) -> dict[str, Any]:
    """The equality check, then the large run on ``shards[0]`` shards, and on each next count
    of ``shards`` while the previous one did not finish; results in ``results/large.json``
    (with ``append``, the check and the attempts already there are kept)."""
    shards = shards or [10, 5]
    backend = backend_spec(workers, memory_limit, partitions)
    min_available_mb = min_available_gb * 1024
    result: dict[str, Any] = {}
    if append and (RESULTS / "large.json").exists():
        old = json.loads((RESULTS / "large.json").read_text())
        result = {k: old[k] for k in ("equality", "attempts") if k in old}
    result.update(
        backend=backend, spill_dir=str(spill_dir), watchdog_min_available_mb=min_available_mb
    )
    attempts = result.setdefault("attempts", [])
    if check_posts:
        result["equality"] = equality(check_posts, backend, spill_dir, min_available_mb)
        eq = result["equality"]
        print(
            f"equality at {check_posts:,} posts: memory {eq['runs']['memory']['wall_s']:.1f} s, "
            f"dask {eq['runs']['dask']['wall_s']:.1f} s; same results: {eq['same_results']}",
            flush=True,
        )
        write_result("large", result)  # kept if a large run takes the machine down
    for n_shards in shards:
        big = large(n_shards, shard_posts, backend, spill_dir, min_available_mb, interval, trim)
        attempts.append(big)
        write_result("large", result)
        peak = big["peak"]
        if big["finished"]:
            r = big["result"]
            print(
                f"{r['n_posts']:,} posts on Dask: {r['wall_s']:.0f} s wall, client peak {r['peak_rss_mb'] / 1024:.2f} GB "
                f"(whole child {peak['client_vmhwm_mb'] / 1024:.2f} GB), workers' RSS at most "
                f"{peak['workers_rss_sum_mb'] / 1024:.2f} GB together, F1 {r['metrics']['f1']:.3f}, "
                f"{r['n_flagged_clusters']} flagged clusters",
                flush=True,
            )
            break
        print(
            f"{big['n_posts']:,} posts on Dask: did not finish ({big['killed'] or 'exit ' + str(big['returncode'])}; "
            f"{big['kill'] or big['stderr_tail'][-2000:]})",
            flush=True,
        )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shards",
        type=int,
        nargs="+",
        default=[10, 5],
        help="shards of the large dataset; the next count is tried if a run does not finish",
    )
    parser.add_argument("--shard-posts", type=float, default=1e7, help="posts per shard")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--memory-limit", default="3GiB", help="per worker (they spill beyond)")
    parser.add_argument("--partitions", type=int, default=32, help="partitions of the shuffles")
    parser.add_argument("--check-posts", type=float, default=1e7, help="size of the equality check")
    parser.add_argument("--skip-check", action="store_true", help="no equality check")
    parser.add_argument("--spill-dir", type=Path, default=DATA / "dask-spill")
    parser.add_argument(
        "--min-available-gb",
        type=float,
        default=4.0,
        help="the watchdog kills the run when the machine's MemAvailable falls below this",
    )
    parser.add_argument("--interval", type=float, default=0.5, help="memory sampling period (s)")
    parser.add_argument(
        "--append", action="store_true", help="keep the check and attempts in results/large.json"
    )
    parser.add_argument(
        "--malloc-trim",
        action="store_true",
        help="diagnosis: malloc_trim(0) in the client after the projection (returns glibc's free heap)",
    )
    args = parser.parse_args(argv)
    run(
        args.shards,
        int(args.shard_posts),
        workers=args.workers,
        memory_limit=args.memory_limit,
        partitions=args.partitions,
        check_posts=None if args.skip_check else int(args.check_posts),
        spill_dir=args.spill_dir,
        min_available_gb=args.min_available_gb,
        interval=args.interval,
        append=args.append,
        trim=args.malloc_trim,
    )


if __name__ == "__main__":
    main()

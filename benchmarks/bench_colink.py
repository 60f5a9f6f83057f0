"""Benchmark: the exact windowed co-link projection against coordination-network-toolkit (CNT).

Same input, same Δt, side by side in one run: the posts of the 1e6-post
dataset (all of them, as originals; each post's URLs de-duplicated, as CNT
keys messages by (message, URL)) go to CNT's ``preprocess_data`` (SQLite
import) and ``compute_co_link_network`` (``n_threads`` = the machine's
cores), and to this package's ``encode`` + :func:`research.graph.colink.co_link`
(one core, numpy). Each tool runs in its own fresh process; the networks
(directed pairs and weights, self-pairs included as CNT stores them) must be
identical. Reported: seconds of each part and the speed ratios, both for the
whole (import/encode + network) and for the network step alone.

Run: ``PYTHONPATH=. python -m benchmarks.bench_colink [--size 1e6] [--window 60] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from benchmarks.common import median, run_child, write_result
from benchmarks.datasets import ensure_dataset

# Both children build the same message list from the Parquet file before the clock starts.
_MESSAGES = """
from research.posts import read_posts
posts = read_posts(sys.argv[1] + "/posts.parquet")
table = posts.table
times = posts.timestamps_s().astype(float).tolist()
ids = table.column("post_id").to_pylist()
accounts = table.column("account_id").to_pylist()
links = [list(dict.fromkeys(u)) for u in table.column("urls").to_pylist()]
window = int(sys.argv[2])
"""

_CNT = (
    _MESSAGES
    + """
import tempfile, sqlite3, contextlib, io
import coordination_network_toolkit.compute_networks as compute
import coordination_network_toolkit.preprocess as preprocess
messages = [(i, a, a, None, None, "", t, u) for i, a, t, u in zip(ids, accounts, times, links)]
db = tempfile.mkdtemp() + "/cnt.db"
with contextlib.redirect_stdout(io.StringIO()):
    start = time.perf_counter()
    preprocess.preprocess_data(db, messages)
    imported = time.perf_counter()
    compute.compute_co_link_network(db, window, n_threads=int(sys.argv[3]))
    done = time.perf_counter()
with sqlite3.connect(db) as con:
    edges = sorted((a, b, int(w)) for a, b, w in con.execute("select user_1, user_2, weight from co_link_network"))
import hashlib
print(json.dumps({"prepare_s": imported - start, "network_s": done - imported, "total_s": done - start,
                  "n_edges": len(edges), "digest": hashlib.sha256(repr(edges).encode()).hexdigest(), "peak_rss_mb": _peak_mb()}))
"""
)

_OURS = (
    _MESSAGES
    + """
from research.graph.events import encode
from research.graph.colink import co_link
del ids, accounts, links, times
start = time.perf_counter()
events = encode(posts)
encoded = time.perf_counter()
network = co_link(events, window_s=window)
done = time.perf_counter()
edges = sorted(network.edges(loops=True))
import hashlib
print(json.dumps({"prepare_s": encoded - start, "network_s": done - encoded, "total_s": done - start,
                  "n_edges": len(edges), "digest": hashlib.sha256(repr(edges).encode()).hexdigest(), "peak_rss_mb": _peak_mb()}))
"""
)


def run(size: int, window: int, repeats: int, threads: int) -> dict[str, Any]:
    """Measure both tools; returns the results (also written to ``results/colink.json``)."""
    directory = str(ensure_dataset(size))
    theirs = [run_child(_CNT, directory, str(window), str(threads)) for _ in range(repeats)]
    ours = [run_child(_OURS, directory, str(window)) for _ in range(repeats)]
    same = {r["digest"] for r in theirs} == {r["digest"] for r in ours} and len(
        {r["digest"] for r in ours}
    ) == 1
    result: dict[str, Any] = {
        "n_posts": size,
        "window_s": window,
        "cnt_threads": threads,
        "cnt": theirs,
        "ours": ours,
        "same_network": same,
        "n_directed_edges": ours[0]["n_edges"],
        "median_s": {
            "cnt_total": median([r["total_s"] for r in theirs]),
            "cnt_network": median([r["network_s"] for r in theirs]),
            "ours_total": median([r["total_s"] for r in ours]),
            "ours_network": median([r["network_s"] for r in ours]),
        },
    }
    m = result["median_s"]
    result["speed_ratio_total"] = m["cnt_total"] / m["ours_total"]
    result["speed_ratio_network"] = m["cnt_network"] / m["ours_network"]
    print(
        f"co-link, {size:,} posts, Δt {window} s: CNT {m['cnt_total']:.2f} s (network {m['cnt_network']:.2f} s, "
        f"{threads} threads) vs ours {m['ours_total']:.3f} s (network {m['ours_network']:.3f} s): "
        f"{result['speed_ratio_total']:.0f}x ({result['speed_ratio_network']:.0f}x for the network alone); "
        f"same network: {same} ({result['n_directed_edges']:,} directed edges)",
        flush=True,
    )
    write_result("colink", result)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1e6)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    run(int(args.size), args.window, args.repeats, args.threads)


if __name__ == "__main__":
    main()

"""Benchmark: the floor of issue 16's 10^7-post run, what no change to the method can save.

In a fresh process per repeat, on the cached ``simulate("weheartit", seed=0, n_posts=N)``
dataset, one core's worth of each step any Parquet-to-verdicts run must take (wall and
process CPU time; the page cache warm, as in :mod:`benchmarks.bench_scale`):

- ``read``: pyarrow reads the six columns :func:`research.scale.read_events` encodes
  (accounts and apps as dictionaries, as it reads them), nothing else;
- ``text``: one pass over the text column (read, then hashed into codes as
  :meth:`research.scale.ParquetColumn.prefetch` does), which the text sites need;
- ``hash``: hashing the distinct URLs and accounts into codes (``dictionary_encode`` of the
  flattened URLs, of the accounts' row-group dictionaries), the least an integer view needs.

Leiden on the method's graph (igraph's C core, holding the GIL) is the ``detection`` stage of
:mod:`benchmarks.bench_scale`, not repeated here.

Run: ``PYTHONPATH=. python -m benchmarks.bench_floor [--size 1e7] [--repeats 3]``
"""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.common import median, run_child, write_result
from benchmarks.datasets import ensure_dataset

_CHILD = """
import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
from research.graph.events import encode_columns
from research.scale.parquet import ParquetColumn, _read_codes
path = sys.argv[1] + "/posts.parquet"
out = {}
def clock(name, fn):
    u0, s0 = _usage(); t0 = time.perf_counter()
    value = fn()
    u1, s1 = _usage()
    out[name] = {"wall_s": time.perf_counter() - t0, "cpu_s": u1 - u0 + s1 - s0}
    return value
table = clock("read", lambda: pq.read_table(
    path, columns=encode_columns(), read_dictionary=["account_id", "app_name"]))
def hash_codes():
    pc.dictionary_encode(pc.list_flatten(table.column("urls")))
    dictionaries = {id(c.dictionary): c.dictionary for c in table.column("account_id").chunks}
    pc.dictionary_encode(pa.concat_arrays(list(dictionaries.values())))
clock("hash", hash_codes)
del table
clock("text", lambda: _read_codes(ParquetColumn.open(path, "text"), 2**40))
out["peak_rss_mb"] = _peak_mb()
print(json.dumps(out))
"""

STEPS = ("read", "text", "hash")


def run(size: int, repeats: int) -> dict[str, Any]:
    """Measure the floor's steps ``repeats`` times; returns (and writes) the medians and runs."""
    directory = ensure_dataset(size)
    runs = [run_child(_CHILD, str(directory)) for _ in range(repeats)]
    medians = {
        step: {key: median([r[step][key] for r in runs]) for key in ("wall_s", "cpu_s")}
        for step in STEPS
    }
    result = {
        "n_posts_requested": size,
        "median": medians,
        "floor_wall_s": sum(m["wall_s"] for m in medians.values()),
        "runs": runs,
    }
    write_result("floor", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1e7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = run(int(args.size), args.repeats)
    for step, m in result["median"].items():
        print(f"{step:5s} {m['wall_s']:.2f} s wall, {m['cpu_s']:.2f} s CPU")
    print(f"sum   {result['floor_wall_s']:.2f} s")


if __name__ == "__main__":
    main()

"""Benchmark: Twitter v1.1 ingest (canonicalisation included) against a bare orjson loop.

Generates synthetic posts (heavy-tailed accounts, ~500 apps, Zipf URLs with
tracking parameters), writes them as v1.1 JSON lines with
:func:`research.io.writers.write_twitter_v1` (complete tweet objects: a full
``user``, entities with links, hashtags and mentions, retweets embedding the
whole original; ~2.6 KB a line), then measures, each in a fresh subprocess and
alternating, ``--repeats`` times: (a) a bare ``for line in f: orjson.loads(line)``
loop over the file read in binary, (b) the full ``ingest`` to Parquet
(canonicalisation, rejects, counts). Timing starts after the imports in both
(``orjson`` for (a), ``research.io`` for (b); the imports ``ingest`` does
itself are timed). Reports the median rows/s of each, their ratio, peak RSS
(VmHWM), CPU seconds, and how much CPU other processes used during each run
(the machine is shared: a disturbed run shows it). Results go to
``benchmarks/results/ingest.json``.

Run: ``PYTHONPATH=. python benchmarks/bench_ingest.py [--sizes 250000 1000000] [--threads 2] [--repeats 3]``

``--giant-only`` times only the ingest of the largest size with and without
one ``--giant-line-mb`` line in its middle (alternating, in fresh processes;
issue 13 asks that the other posts be written at the normal rate within 20%)
and writes ``benchmarks/results/ingest_giant_line.json``, leaving the main
results alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

RESULTS = Path(__file__).parent / "results" / "ingest.json"
RESULTS_GIANT = Path(__file__).parent / "results" / "ingest_giant_line.json"

# Peak RSS (VmHWM) as every measurement of the repository reads it: experiments/tools/memory.py
# (the children run from the repository root, as run_all and the docstring run them).
_PEAK = "__import__('experiments.tools.memory', fromlist=['x']).peak_rss_bytes() / 2**20"

_CPU = "sum(__import__('os').times()[:2])"

_ORJSON_CHILD = """
import orjson, sys, time, json
start = time.perf_counter(); n = 0
with open(sys.argv[1], 'rb') as f:
    for line in f:
        orjson.loads(line); n += 1
elapsed = time.perf_counter() - start
print(json.dumps({"rows": n, "seconds": elapsed, "peak_rss_mb": PEAK, "cpu_s": CPU}))
""".replace("PEAK", _PEAK).replace("CPU", _CPU)

# The parsers issue 16 asked to try, each in the same bare loop as orjson's,
# reading only the fields a post needs: a bound on what an engine built on them
# could do (an engine adds row building, canonicalisation and writing on top).
_MSGSPEC_CHILD = """
import msgspec, sys, time, json
from typing import Any, Optional
class User(msgspec.Struct):
    id_str: Any = None; id: Any = None; screen_name: Any = None
class Tweet(msgspec.Struct):
    id_str: Any = None; id: Any = None; created_at: Any = None; source: Any = None
    text: Any = None; full_text: Any = None; user: Optional[User] = None; entities: Any = None
    extended_tweet: Any = None; retweeted_status: Any = None
decode = msgspec.json.Decoder(Tweet).decode
start = time.perf_counter(); n = 0
with open(sys.argv[1], 'rb') as f:
    for line in f:
        decode(line); n += 1
elapsed = time.perf_counter() - start
print(json.dumps({"rows": n, "seconds": elapsed, "peak_rss_mb": PEAK, "cpu_s": CPU}))
""".replace("PEAK", _PEAK).replace("CPU", _CPU)

_SIMDJSON_CHILD = """
import simdjson, sys, time, json
parser = simdjson.Parser()
start = time.perf_counter(); n = 0
with open(sys.argv[1], 'rb') as f:
    for line in f:
        doc = parser.parse(line)
        user = doc.get('user'); entities = doc.get('entities')
        fields = (doc.get('id_str'), doc.get('created_at'), doc.get('source'), doc.get('text'),
                  user.get('id_str') if user is not None else None,
                  [u.get('expanded_url') for u in entities.get('urls')] if entities is not None else None,
                  doc.get('retweeted_status') is not None)
        del doc, user, entities
        n += 1
elapsed = time.perf_counter() - start
print(json.dumps({"rows": n, "seconds": elapsed, "peak_rss_mb": PEAK, "cpu_s": CPU}))
""".replace("PEAK", _PEAK).replace("CPU", _CPU)

_INGEST_CHILD = """
import sys, time, json
from research.io import ReadOptions, ingest
threads = int(sys.argv[3]) if sys.argv[3] != "none" else None
start = time.perf_counter()
summary = ingest(sys.argv[1], sys.argv[2], ReadOptions(duckdb_threads=threads), progress=False)
elapsed = time.perf_counter() - start
assert summary.reconciles()
print(json.dumps({"rows": summary.rows_read, "written": summary.rows_written, "seconds": elapsed,
                  "peak_rss_mb": PEAK, "cpu_s": CPU}))
""".replace("PEAK", _PEAK).replace("CPU", _CPU)


def synthetic_posts(n_posts: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """A realistic posts table: heavy-tailed accounts, ~500 apps, Zipf URL popularity."""
    from research.posts import as_posts

    rng = np.random.default_rng(seed)
    n_accounts = max(1000, n_posts // 20)
    account = (rng.pareto(1.2, n_posts) * 50).astype(np.int64) % n_accounts
    app = np.minimum(rng.zipf(1.5, n_posts) - 1, 499)
    n_urls = max(1000, n_posts // 4)
    url = (rng.zipf(1.3, n_posts) - 1) % n_urls
    has_url = rng.random(n_posts) < 0.7
    start = int(dt.datetime(2019, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
    times = start + np.sort(rng.integers(0, 90 * 86_400_000, n_posts))
    app_names = np.array([f"App {i} for Twitter" for i in range(500)], dtype=object)
    app_urls = np.array([f"https://app{i}.example.com/" for i in range(500)], dtype=object)
    urls = [
        [f"https://www.site{u % 7919}.example.org/articles/{u}?utm_source=twitter&id={u}"]
        if h
        else []
        for u, h in zip(url.tolist(), has_url.tolist(), strict=True)
    ]
    return as_posts(
        {
            "post_id": pa.array([str(10**17 + i) for i in range(n_posts)]),
            "account_id": pa.array([str(10**6 + a) for a in account.tolist()]),
            "account_name": pa.array([f"user{a}" for a in account.tolist()]),
            "timestamp": pa.array(times, pa.timestamp("ms", tz="UTC")),
            "app_name": pa.array(app_names[app]),
            "app_url": pa.array(app_urls[app]),
            "urls": pa.array(urls, pa.list_(pa.string())),
            "text": pa.array(
                [f"Something worth reading {i % 977} https://t.co/x" for i in range(n_posts)]
            ),
            "is_repost": pa.array(rng.random(n_posts) < 0.2),
            "platform": pa.array(["twitter"] * n_posts),
        }
    )


def _with_giant_line(path: Path, out: Path, megabytes: int) -> None:
    """A copy of a v1.1 file with one tweet of a ``megabytes`` MB text in its middle."""
    import orjson

    size = path.stat().st_size
    with path.open("rb") as source, out.open("wb") as target:
        target.write(source.read(size // 2))
        target.write(source.readline())
        tweet = {"id_str": "1", "id": 1, "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                 "user": {"id_str": "7", "id": 7, "screen_name": "giant"}, "source": "web",
                 "text": "x" * (megabytes << 20), "entities": {"urls": []}}  # fmt: skip
        target.write(orjson.dumps(tweet) + b"\n")
        while block := source.read(1 << 24):
            target.write(block)


def _busy_s() -> float:
    # CPU seconds all processes used so far (from /proc/stat; 0 where unavailable).
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except OSError:
        return 0.0
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _wait_until_quiet(max_wait_s: float) -> None:
    # On a shared machine: wait (up to max_wait_s) until others leave the CPUs ~idle.
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        before, t0 = _busy_s(), time.monotonic()
        time.sleep(1.0)
        if _busy_s() - before < 0.1 * (os.cpu_count() or 1) * (time.monotonic() - t0):
            return


def _child(code: str, *args: str, quiet_wait_s: float = 0.0) -> dict[str, float]:
    if quiet_wait_s:
        _wait_until_quiet(quiet_wait_s)
    before = _busy_s()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # CPU that other processes used meanwhile (start-up of the child included, so a little is normal).
    result["others_cpu_s"] = max(0.0, _busy_s() - before - result["cpu_s"])
    return result


def _median(runs: list[dict[str, float]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def _giant_only(args: argparse.Namespace) -> None:
    """Ingest of the largest size with and without one giant line, alternating."""
    from research.io.writers import write_twitter_v1

    size = max(args.sizes)
    megabytes = args.giant_line_mb or 40
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / f"tweets_{size}.jsonl"
        write_twitter_v1(synthetic_posts(size), path)
        giant = Path(work) / f"tweets_{size}_giant.jsonl"
        _with_giant_line(path, giant, megabytes)
        normal: list[dict[str, float]] = []
        with_giant: list[dict[str, float]] = []
        for _ in range(args.repeats):
            for runs, source in ((normal, path), (with_giant, giant)):
                runs.append(
                    _child(
                        _INGEST_CHILD,
                        str(source),
                        str(Path(work) / "out"),
                        args.threads,
                        quiet_wait_s=args.quiet_wait,
                    )
                )
        rates = {
            name: statistics.median(r["rows"] / r["seconds"] for r in runs)
            for name, runs in (("normal", normal), ("giant", with_giant))
        }
        row = {
            "posts": size,
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "giant_line_mb": megabytes,
            "repeats": args.repeats,
            "normal_rows_per_s": round(rates["normal"]),
            "giant_rows_per_s": round(rates["giant"]),
            "giant_rate_vs_normal": round(rates["giant"] / rates["normal"], 2),
            "normal_written": int(normal[0]["written"]),
            "giant_written": int(with_giant[0]["written"]),
            "normal_cpu_s": round(_median(normal, "cpu_s"), 2),
            "giant_cpu_s": round(_median(with_giant, "cpu_s"), 2),
            "normal_peak_rss_mb": round(_median(normal, "peak_rss_mb"), 1),
            "giant_peak_rss_mb": round(_median(with_giant, "peak_rss_mb"), 1),
            "normal_runs_s": [round(r["seconds"], 3) for r in normal],
            "giant_runs_s": [round(r["seconds"], 3) for r in with_giant],
            "others_cpu_s": [round(r["others_cpu_s"], 2) for r in normal + with_giant],
        }
    RESULTS_GIANT.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_GIANT.write_text(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "duckdb_threads": args.threads,
                "statistic": "median of repeats, runs alternating",
                "results": [row],
            },
            indent=2,
        )
        + "\n"
    )
    print(json.dumps(row, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument(
        "--threads", default="2", help="DuckDB threads, or 'none' for DuckDB's default"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--giant-line-mb",
        type=int,
        default=40,
        help="also time ingest of the largest size with one line this long in its middle (0: no)",
    )
    parser.add_argument(
        "--no-parsers", action="store_true", help="skip the msgspec and simdjson parse loops"
    )
    parser.add_argument(
        "--giant-only",
        action="store_true",
        help="time only ingest with and without the giant line (results/ingest_giant_line.json)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="before each run, wait up to this many seconds for other processes to go quiet",
    )
    args = parser.parse_args()
    if args.giant_only:
        _giant_only(args)
        return
    from research.io.writers import write_twitter_v1

    results = []
    with tempfile.TemporaryDirectory() as work:
        for size in args.sizes:
            path = Path(work) / f"tweets_{size}.jsonl"
            t0 = time.perf_counter()
            write_twitter_v1(synthetic_posts(size), path)
            write_s = time.perf_counter() - t0
            file_mb = path.stat().st_size / 2**20
            giant = None
            if args.giant_line_mb and size == max(args.sizes):
                giant = Path(work) / f"tweets_{size}_giant.jsonl"
                _with_giant_line(path, giant, args.giant_line_mb)
            bare: list[dict[str, float]] = []
            full: list[dict[str, float]] = []
            parsers: dict[str, list[dict[str, float]]] = {"msgspec": [], "simdjson": []}
            with_giant: list[dict[str, float]] = []
            for _ in range(args.repeats):
                bare.append(_child(_ORJSON_CHILD, str(path), quiet_wait_s=args.quiet_wait))
                full.append(
                    _child(
                        _INGEST_CHILD,
                        str(path),
                        str(Path(work) / "out"),
                        args.threads,
                        quiet_wait_s=args.quiet_wait,
                    )
                )
                if not args.no_parsers:
                    parsers["msgspec"].append(_child(_MSGSPEC_CHILD, str(path)))
                    parsers["simdjson"].append(_child(_SIMDJSON_CHILD, str(path)))
                if giant is not None:
                    with_giant.append(
                        _child(_INGEST_CHILD, str(giant), str(Path(work) / "out"), args.threads)
                    )
            bare_rate = statistics.median(r["rows"] / r["seconds"] for r in bare)
            full_rate = statistics.median(r["rows"] / r["seconds"] for r in full)
            row = {
                "posts": size,
                "file_mb": round(file_mb, 1),
                "bytes_per_line": round(path.stat().st_size / size),
                "write_s": round(write_s, 2),
                "repeats": args.repeats,
                "orjson_rows_per_s": round(bare_rate),
                "orjson_peak_rss_mb": round(_median(bare, "peak_rss_mb"), 1),
                "orjson_cpu_s": round(_median(bare, "cpu_s"), 2),
                "ingest_rows_per_s": round(full_rate),
                "ingest_peak_rss_mb": round(_median(full, "peak_rss_mb"), 1),
                "ingest_cpu_s": round(_median(full, "cpu_s"), 2),
                "ratio": round(full_rate / bare_rate, 2),
                "orjson_runs_s": [round(r["seconds"], 3) for r in bare],
                "ingest_runs_s": [round(r["seconds"], 3) for r in full],
                "others_cpu_s": [round(r["others_cpu_s"], 2) for r in bare + full],
            }
            for name, runs in parsers.items():
                if runs:
                    rate = statistics.median(r["rows"] / r["seconds"] for r in runs)
                    row[f"{name}_parse_rows_per_s"] = round(rate)
                    row[f"{name}_parse_ratio"] = round(rate / bare_rate, 2)
                    row[f"{name}_parse_cpu_s"] = round(_median(runs, "cpu_s"), 2)
            if with_giant:
                rate = statistics.median(r["rows"] / r["seconds"] for r in with_giant)
                row["giant_line_mb"] = args.giant_line_mb
                row["giant_ingest_rows_per_s"] = round(rate)
                row["giant_ingest_written"] = int(with_giant[0]["written"])
                row["giant_ingest_peak_rss_mb"] = round(_median(with_giant, "peak_rss_mb"), 1)
                row["giant_rate_vs_normal"] = round(rate / full_rate, 2)
                row["giant_runs_s"] = [round(r["seconds"], 3) for r in with_giant]
                giant.unlink()  # type: ignore[union-attr]
            results.append(row)
            path.unlink()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "cpus": __import__("os").cpu_count(),
                },
                "duckdb_threads": args.threads,
                "statistic": "median of repeats, runs alternating",
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    header = f"{'posts':>9} {'MB':>7} {'B/line':>6} {'orjson r/s':>11} {'ingest r/s':>11} {'ratio':>6} {'RSS orjson':>10} {'RSS ingest':>10} {'others CPU s':>12}"
    print(header)
    for r in results:
        print(
            f"{r['posts']:>9} {r['file_mb']:>7} {r['bytes_per_line']:>6} {r['orjson_rows_per_s']:>11,} "
            f"{r['ingest_rows_per_s']:>11,} {r['ratio']:>6} {r['orjson_peak_rss_mb']:>10} {r['ingest_peak_rss_mb']:>10} "
            f"{max(r['others_cpu_s']):>12}"
        )


if __name__ == "__main__":
    main()

"""Benchmark: ``detect`` on a raw Twitter v1.1 file against coordination-network-toolkit, end to end.

What a user runs, as whole processes on the same file, side by side in one run:

- here: ``python -m research detect FILE --out DIR --method hijack --quiet``
  (ingest with the default engine, projection, Leiden, evidence, verdicts, the
  CSV/JSON outputs and ``report.html``; ``metrics.json`` too, as the simulator
  writes the truth next to the file);
- the toolkit: ``compute_networks DB preprocess --format twitter_json FILE``
  then ``compute_networks DB compute co_link --time_window 60`` (its co-link
  network only: no clustering, no report).

The file is ``simulate("weheartit", seed=0, n_posts=N)`` written as Twitter v1.1
JSON lines (cached under ``benchmarks/data/``; ~196k tweets at the default
N = 180,000). Rounds alternate the two tools; wall time is the parent's clock
around each process, peak memory the child's ``ru_maxrss`` (from ``wait4``).
The ratio is the toolkit's median over ours.

Run: ``PYTHONPATH=. python -m benchmarks.bench_endtoend [--n-posts 180000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, median, write_result
from benchmarks.datasets import DATA

TOOLKIT = Path(sys.executable).parent / "compute_networks"


def ensure_v1_file(n_posts: int, seed: int = 0) -> Path:
    """The cached Twitter v1.1 file of the simulated platform (simulated first if missing)."""
    out = DATA / f"weheartit_v1_seed{seed}_n{n_posts}"
    path = out / "tweets.jsonl"
    if path.exists():
        return path
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "research", "simulate", "--preset", "weheartit",
         "--seed", str(seed), "--n-posts", str(n_posts), "--format", "twitter-v1",
         "--out", str(tmp), "--quiet"],
        cwd=REPO, check=True,
    )  # fmt: skip
    tmp.rename(out)
    return path


def _process(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed ({child.returncode}):\n{stderr[-3000:]}")
    return wall, usage.ru_maxrss / 1024


def _ours(path: Path, work: Path) -> dict[str, float]:
    out = work / "ours"
    shutil.rmtree(out, ignore_errors=True)
    wall, peak = _process(
        [sys.executable, "-m", "research", "detect", str(path), "--out", str(out),
         "--method", "hijack", "--quiet"]
    )  # fmt: skip
    return {"total_s": wall, "peak_rss_mb": peak}


def _toolkit(path: Path, work: Path, window: int) -> dict[str, float]:
    db = work / "cnt.db"
    db.unlink(missing_ok=True)
    prep, prep_peak = _process(
        [str(TOOLKIT), str(db), "preprocess", "--format", "twitter_json", str(path)]
    )
    network, net_peak = _process(
        [str(TOOLKIT), str(db), "compute", "co_link", "--time_window", str(window)]
    )
    return {
        "preprocess_s": prep,
        "co_link_s": network,
        "total_s": prep + network,
        "peak_rss_mb": max(prep_peak, net_peak),
    }


def run(n_posts: int, repeats: int, window: int = 60) -> dict[str, Any]:
    """Measure both; returns the results (also written to ``results/endtoend.json``)."""
    if not TOOLKIT.exists():
        raise SystemExit(
            f"{TOOLKIT} not found: install the test extra (coordination-network-toolkit)"
        )
    path = ensure_v1_file(n_posts)
    with open(path, "rb") as f:
        n_tweets = sum(1 for _ in f)
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for _ in range(repeats):
            ours.append(_ours(path, work))
            theirs.append(_toolkit(path, work, window))
            print(
                f"detect {ours[-1]['total_s']:.2f} s; toolkit {theirs[-1]['total_s']:.2f} s "
                f"(preprocess {theirs[-1]['preprocess_s']:.2f} + co_link {theirs[-1]['co_link_s']:.2f})",
                flush=True,
            )
    ours_s = median([r["total_s"] for r in ours])
    theirs_s = median([r["total_s"] for r in theirs])
    result = {
        "file": str(path.relative_to(REPO)),
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "n_tweets": n_tweets,
        "window_s": window,
        "repeats": repeats,
        "command_ours": "python -m research detect FILE --out DIR --method hijack --quiet",
        "command_toolkit": "compute_networks DB preprocess --format twitter_json FILE && "
        f"compute_networks DB compute co_link --time_window {window}",
        "runs_ours": ours,
        "runs_toolkit": theirs,
        "median_ours_s": ours_s,
        "median_toolkit_s": theirs_s,
        "median_toolkit_preprocess_s": median([r["preprocess_s"] for r in theirs]),
        "median_toolkit_co_link_s": median([r["co_link_s"] for r in theirs]),
        "median_ours_peak_rss_mb": median([r["peak_rss_mb"] for r in ours]),
        "speed_ratio": theirs_s / ours_s,
    }
    write_result("endtoend", result)
    print(
        f"{n_tweets:,} tweets: detect {ours_s:.2f} s, toolkit {theirs_s:.2f} s: {theirs_s / ours_s:.1f}x"
    )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-posts", type=float, default=180_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window", type=int, default=60)
    args = parser.parse_args(argv)
    run(int(args.n_posts), args.repeats, args.window)


if __name__ == "__main__":
    main()

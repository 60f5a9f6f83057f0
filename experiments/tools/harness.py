"""Measuring methods: runtime and peak memory, and detection latency on growing data.

- :func:`measure` times one call in this process and, optionally, records the
  peak of memory allocated through Python's allocator while it runs
  (``tracemalloc``; numpy arrays are included, igraph's and leidenalg's C
  heaps are not, and tracing slows the call, so time and memory are best
  measured in separate calls).
- :func:`measure_in_subprocess` runs a method by name in a fresh interpreter
  on a posts Parquet file and reads the child's own peak resident memory
  (``VmHWM``), which counts every allocation, C libraries included; it also
  reports the resident memory after loading, so the method's share is the
  difference.
- :func:`detection_latency` runs a method on growing prefixes of the data
  (every ``step_s`` from the first campaign's first malicious post) and
  reports, per campaign, how long after its first malicious post a flagged
  cluster first held it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from experiments.config import REPO
from experiments.tools.memory import peak_rss_bytes, rss_bytes
from research.posts import Posts
from research.truth import GroundTruth


@dataclass(frozen=True)
class Measured:
    """A call's result, its wall-clock time and (when traced) its peak traced memory."""

    value: Any
    seconds: float
    peak_bytes: int | None


def measure(fn: Callable[..., Any], *args: Any, memory: bool = False, **kwargs: Any) -> Measured:
    """Call ``fn(*args, **kwargs)`` and time it; with ``memory``, trace its peak allocation.

    Examples
    --------
    >>> import numpy as np
    >>> m = measure(np.ones, 1_000_000, memory=True)
    >>> m.value.shape, m.peak_bytes >= 8_000_000
    ((1000000,), True)
    """
    if memory:
        already = tracemalloc.is_tracing()
        if not already:
            tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    try:
        value = fn(*args, **kwargs)
        seconds = time.perf_counter() - start
    finally:
        peak = None
        if memory:
            peak = tracemalloc.get_traced_memory()[1] - base
            if not already:
                tracemalloc.stop()
    return Measured(value, seconds, peak)


def measure_in_subprocess(
    method: str,
    posts_path: str | Path,
    params: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Run a method by name on a posts Parquet file in a fresh Python process.

    Returns
    -------
    dict
        ``seconds`` (the method's call only), ``peak_rss_bytes`` (the child's
        peak resident memory, everything included), ``rss_before_bytes``
        (resident memory after imports and reading the posts),
        ``n_flagged_accounts`` and ``n_posts``.
    """
    command = [
        sys.executable,
        "-m",
        "experiments.tools.harness",
        method,
        str(posts_path),
        "--params",
        json.dumps(params or {}),
        "--seed",
        str(seed),
    ]
    # experiments/ is not installed: the child finds it in the repository, wherever it starts.
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"measuring {method} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(argv: list[str]) -> int:
    import argparse

    from research.methods import run_method
    from research.posts import read_posts

    parser = argparse.ArgumentParser(
        prog="python -m experiments.tools.harness",
        description="run one method and report its cost as JSON",
    )
    parser.add_argument("method")
    parser.add_argument("posts", type=Path)
    parser.add_argument("--params", default="{}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    posts = read_posts(args.posts)
    before = rss_bytes()
    start = time.perf_counter()
    detection = run_method(args.method, posts, json.loads(args.params), seed=args.seed)
    seconds = time.perf_counter() - start
    report = {
        "method": args.method,
        "seconds": round(seconds, 4),
        "peak_rss_bytes": peak_rss_bytes(),
        "rss_before_bytes": before,
        "n_posts": len(posts),
        "n_flagged_accounts": detection.summary()["n_flagged_accounts"],
    }
    print(json.dumps(report))
    return 0


def campaign_onsets(posts: Posts, truth: GroundTruth) -> dict[str, int]:
    """First malicious post time (epoch seconds) of each campaign present in ``posts``."""
    malicious = truth.posts.filter(
        pc.and_(truth.posts.column("malicious"), pc.is_valid(truth.posts.column("campaign")))
    )
    pos = pc.index_in(malicious.column("post_id"), value_set=posts.table.column("post_id"))
    present = pc.is_valid(pos)
    times = posts.timestamps_s()
    rows = np.asarray(pos.filter(present).to_numpy(zero_copy_only=False), dtype=np.int64)
    campaigns = np.asarray(malicious.column("campaign").filter(present).to_pylist(), dtype=object)
    out: dict[str, int] = {}
    for name, t in zip(campaigns, times[rows], strict=True):
        out[name] = min(out.get(name, int(t)), int(t))
    return dict(sorted(out.items()))


def detected_campaigns(
    accounts: pd.DataFrame, truth: GroundTruth, *, min_accounts: int = 5, min_share: float = 0.5
) -> dict[str, float]:
    """Campaigns held by a flagged cluster, with the share of their accounts flagged.

    A campaign is held when some flagged cluster has at least ``min_accounts``
    of its accounts and they are at least ``min_share`` of the cluster.
    """
    flagged = accounts[accounts["flagged"].to_numpy(dtype=bool)]
    if flagged.empty:
        return {}
    campaign = truth.campaign_of(flagged["account"].astype(str).tolist())
    frame = pd.DataFrame(
        {"cluster": flagged["cluster"].to_numpy(), "campaign": pd.Series(campaign, dtype=object)}
    )
    size = frame.groupby("cluster").size()
    counts = frame.dropna().groupby(["cluster", "campaign"]).size()
    all_campaign = truth.campaign_of(accounts["account"].astype(str).tolist())
    total = pd.Series(all_campaign, dtype=object).dropna().value_counts()
    held: dict[str, float] = {}
    for (cluster, name), n in counts.items():
        if n >= min_accounts and n / size[cluster] >= min_share:
            held[name] = held.get(name, 0.0) + n / total[name]
    return held


def detection_latency(
    method: str,
    posts: Posts,
    truth: GroundTruth,
    *,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    step_s: float = 6 * 3600,
    min_accounts: int = 5,
    min_share: float = 0.5,
    max_steps: int | None = None,
    offsets_s: Sequence[float] | None = None,
) -> pd.DataFrame:
    """How long after its first malicious post each campaign is flagged, running the method on
    the data seen so far.

    The method runs on the posts up to ``t_k = first onset + k * step_s`` for
    ``k = 0, 1, ...`` (or ``first onset + offsets_s[k]``: e.g. geometric steps of 1 h, 3 h,
    12 h, ...), and finally on all posts, until every campaign is held by a flagged
    cluster (see :func:`detected_campaigns`). Latency is ``t_k - onset`` at the first
    ``t_k`` where the campaign is held: an upper bound at the steps' resolution; NaN when
    never.

    Returns
    -------
    pandas.DataFrame
        One row per campaign: ``campaign``, ``onset`` (UTC), ``detected_at``,
        ``latency_h``, ``recall_at_detection`` (share of its accounts then
        flagged), ``runs`` (prefixes run in all).
    """
    from research.methods import run_method

    onsets = campaign_onsets(posts, truth)
    times = posts.timestamps_s()
    found: dict[str, tuple[int, float]] = {}
    cuts: list[int] = []
    if onsets and len(times):
        first, end = min(onsets.values()), int(times.max())
        if offsets_s is not None:
            cuts = [int(first + o) for o in offsets_s if first + o < end]
        else:
            k = 0
            while first + k * step_s < end and (max_steps is None or k < max_steps):
                cuts.append(int(first + k * step_s))
                k += 1
        cuts.append(end)
    runs = 0
    for cut in cuts:
        if len(found) == len(onsets):
            break
        prefix = posts.filter(pa.array(times <= cut))
        runs += 1
        detection = run_method(method, prefix, params or {}, seed=seed)
        for name, share in detected_campaigns(
            detection.accounts, truth, min_accounts=min_accounts, min_share=min_share
        ).items():
            if name not in found and onsets.get(name, cut + 1) <= cut:
                found[name] = (cut, share)
    rows = []
    for name, onset in onsets.items():
        hit = found.get(name)
        rows.append(
            {
                "campaign": name,
                "onset": pd.Timestamp(onset, unit="s", tz="UTC"),
                "detected_at": pd.Timestamp(hit[0], unit="s", tz="UTC") if hit else pd.NaT,
                "latency_h": (hit[0] - onset) / 3600 if hit else np.nan,
                "recall_at_detection": hit[1] if hit else np.nan,
                "runs": runs,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["campaign", "onset", "detected_at", "latency_h", "recall_at_detection", "runs"],
    )


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))

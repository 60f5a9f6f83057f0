"""Shared helpers of the benchmarks: fresh subprocesses, peak memory, the machine, results files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"

# Peak RSS: the high-water mark of the child's memory (VmHWM), read as every measurement
# of the repository reads it (experiments/tools/memory.py; children run from the repository).
CHILD_PRELUDE = """
import json, os, resource, sys, time, warnings
from experiments.tools.memory import peak_rss_bytes
warnings.simplefilter("ignore")
def _usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime
def _peak_mb():
    return peak_rss_bytes() / 2**20
def _detection_record(detection, wall, usage_before, usage_after, peak):
    # What every end-to-end child reports of a timed detect_parquet: time, memory, sizes.
    stats = detection.stats
    return {
        "wall_s": wall, "user_s": usage_after[0] - usage_before[0],
        "sys_s": usage_after[1] - usage_before[1], "peak_rss_mb": peak,
        "timings": detection.timings,
        "n_posts": stats["n_posts"], "n_accounts": stats["n_accounts"], "n_links": stats["n_links"],
        "edges_projected": stats["edges_projected"], "edges_kept": stats["edges_kept"],
        "edge_budget_cut": stats["edge_budget_cut"],
    }
"""


def run_child(code: str, *args: str, timeout: float = 3600) -> dict[str, Any]:
    """Run ``code`` (which prints one JSON line last) in a fresh Python process; its parsed output."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD_PRELUDE + code, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        info["cpu_model"] = next(
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        )
        info["memory_gb"] = round(
            int(
                next(
                    line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")
                )
            )
            / 2**20,
            1,
        )
    except (OSError, StopIteration):
        pass
    from importlib.metadata import version

    info["packages"] = {
        p: version(p) for p in ("numpy", "scipy", "pyarrow", "igraph", "dask", "distributed")
    }
    return info


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` (sorted keys, machine included)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2, sort_keys=True) + "\n")
    return path


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

"""Benchmark: cold start, whole processes (what a user feels before any work is done).

Each command runs in a fresh interpreter, the commands alternating round after
round so that a load change on the (shared) machine hits them all alike; the
medians are reported with the bare interpreter's start (``python -c pass``)
measured the same way, the floor no package can go below.

Commands: ``import research``, ``python -m research --help``, ``hijack-clusters
--help`` (the installed script, when it is on the venv's ``bin``), and
``python -m research detect --help``. With ``--baseline DIR`` (a checkout of
another commit, e.g. ``git archive <commit> | tar -x -C DIR``) the ``python``
commands also run from there, interleaved with the others: a before/after
ratio measured side by side.

Run: ``PYTHONPATH=. python -m benchmarks.bench_coldstart [--repeats 11] [--baseline DIR]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, median, write_result

# name -> argv after the interpreter (None: the installed script)
COMMANDS: dict[str, list[str]] = {
    "python_bare": ["-c", "pass"],
    "import_research": ["-c", "import research"],
    "python_m_research_help": ["-m", "research", "--help"],
    "python_m_research_detect_help": ["-m", "research", "detect", "--help"],
}
SCRIPT = Path(sys.executable).parent / "hijack-clusters"


def _seconds(argv: list[str], cwd: Path) -> float:
    # cwd first on sys.path for -c and -m: the checkout in cwd is the one imported.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def run(repeats: int, baseline: Path | None = None) -> dict[str, Any]:
    """Measure every command ``repeats`` times; returns (and writes) ``results/coldstart.json``."""
    runs: dict[str, list[float]] = {}
    plan: list[tuple[str, list[str], Path]] = [
        (name, [sys.executable, *args], REPO) for name, args in COMMANDS.items()
    ]
    if SCRIPT.exists():
        plan.append(("hijack_clusters_help", [str(SCRIPT), "--help"], REPO))
    if baseline is not None:
        plan += [
            (f"baseline_{name}", [sys.executable, *args], baseline)
            for name, args in COMMANDS.items()
            if name != "python_bare"
        ]
    for _name, argv, cwd in plan:  # warm the file cache and the bytecode
        _seconds(argv, cwd)
    for _ in range(repeats):
        for name, argv, cwd in plan:
            runs.setdefault(name, []).append(_seconds(argv, cwd))
    medians = {name: median(values) for name, values in runs.items()}
    result: dict[str, Any] = {
        "repeats": repeats,
        "median_s": medians,
        "runs_s": runs,
        "baseline": str(baseline) if baseline else None,
    }
    if baseline is not None:
        result["speedup_over_baseline"] = {
            name: medians[f"baseline_{name}"] / medians[name]
            for name in COMMANDS
            if f"baseline_{name}" in medians
        }
    write_result("coldstart", result)
    for name, value in medians.items():
        print(f"{name:40s} {value * 1000:7.0f} ms (median of {repeats})", flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--baseline", type=Path, default=None, help="checkout of another commit")
    args = parser.parse_args(argv)
    run(args.repeats, args.baseline)


if __name__ == "__main__":
    main()

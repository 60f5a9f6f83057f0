"""Simulated benchmark datasets, generated once and cached under ``benchmarks/data/`` (gitignored).

Each dataset is ``simulate("weheartit", seed=0, n_posts=N)`` written with
:meth:`research.simulate.Simulation.write` (``posts.parquet``, the truth tables
and ``scenario.json``). Generation runs in a fresh subprocess so that the
simulator's own memory never inflates a measurement.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[1]


def dataset_dir(n_posts: int, preset: str = "weheartit", seed: int = 0) -> Path:
    """Where the dataset of this size lives (it may not exist yet)."""
    return DATA / f"{preset}_seed{seed}_n{n_posts}"


def ensure_dataset(n_posts: int, preset: str = "weheartit", seed: int = 0) -> Path:
    """The cached dataset directory, simulating and writing it first if missing."""
    out = dataset_dir(n_posts, preset, seed)
    if (out / "posts.parquet").exists() and (out / "scenario.json").exists():
        return out
    code = (
        "import sys; from research.simulate import simulate; "
        "simulate(sys.argv[1], seed=int(sys.argv[2]), n_posts=int(sys.argv[3])).write(sys.argv[4])"
    )
    tmp = out.with_name(out.name + ".partial")
    subprocess.run(
        [sys.executable, "-c", code, preset, str(seed), str(n_posts), str(tmp)],
        check=True,
        cwd=REPO,
    )
    tmp.rename(out)
    return out


if __name__ == "__main__":
    for size in sys.argv[1:] or ["100000", "1000000", "10000000"]:
        print(ensure_dataset(int(float(size))), flush=True)

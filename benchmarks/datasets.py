"""Simulated benchmark datasets, generated once and cached under ``benchmarks/data/`` (gitignored).

Each dataset is ``simulate("weheartit", seed=0, n_posts=N)`` written with
:meth:`research.simulate.Simulation.write` (``posts.parquet``, the truth tables
and ``scenario.json``). Generation runs in a fresh subprocess so that the
simulator's own memory never inflates a measurement.

A dataset too large to simulate in one process (10^8 posts) is made of
shards (:func:`ensure_shards`): shard ``s`` is ``simulate("weheartit",
seed=s, n_posts=N)`` with its post ids, account ids and names and campaign
names prefixed ``s<s>-``, so that the shards are disjoint platforms posting
over the same days (URLs, domains and apps are shared, as on one bigger
platform). Each shard is one file of the Parquet directory ``posts.parquet/``
(one dataset, in file name order); the truth tables are the shards' tables
concatenated, with the same prefixes, where :func:`research.truth.read_truth`
expects them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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


_SHARD = """
import pyarrow as pa, pyarrow.compute as pc
from research.posts import Posts, write_posts
from research.simulate import simulate
preset, seed, n_posts, posts_path, truth_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
start = time.perf_counter()
sim = simulate(preset, seed=seed, n_posts=n_posts)
simulated = time.perf_counter() - start
prefix = pa.scalar(f"s{seed:02d}-")
def prefixed(table, names):
    for name in names:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, table.schema.field(i), pc.binary_join_element_wise(prefix, table.column(i), ""))
    return table
posts = Posts(prefixed(sim.posts.table, ["post_id", "account_id", "account_name"]))
write_posts(posts, posts_path)
import pyarrow.parquet as pq
pq.write_table(prefixed(sim.truth.accounts, ["account_id", "campaign"]), truth_dir + "/accounts.parquet", compression="zstd")
pq.write_table(prefixed(sim.truth.posts, ["post_id", "campaign"]), truth_dir + "/posts.parquet", compression="zstd")
print(json.dumps({"seed": seed, "n_posts": len(posts), "n_accounts": sim.truth.accounts.num_rows,
                  "simulate_s": simulated, "wall_s": time.perf_counter() - start, "peak_rss_mb": _peak_mb(),
                  "scenario": sim.scenario.to_dict()}))
"""


def shards_dir(n_shards: int, shard_posts: int, preset: str = "weheartit") -> Path:
    """Where the sharded dataset lives (it may not exist yet)."""
    return DATA / f"{preset}_shards{n_shards}_n{n_shards * shard_posts}"


def ensure_shards(
    n_shards: int,
    shard_posts: int,
    preset: str = "weheartit",
    *,
    min_available_mb: float = 4096,
    echo: bool = True,
) -> Path:
    """The sharded dataset (seeds ``0 .. n_shards - 1``), generating the missing shards first.

    Layout: ``posts.parquet/part-<s>.parquet``, ``truth_accounts.parquet``,
    ``truth_posts.parquet``, ``scenario.json`` (the shards' generation times and peak
    memory, and shard 0's scenario) and ``shards/`` (each shard's truth and record).
    Each shard is simulated in a fresh process under the memory watchdog
    (:func:`benchmarks.watchdog.run_watched`); an interrupted shard is redone.
    """
    from benchmarks.watchdog import run_watched

    out = shards_dir(n_shards, shard_posts, preset)
    if (out / "scenario.json").exists():
        return out
    parts, work = out / "posts.parquet", out / "shards"
    parts.mkdir(parents=True, exist_ok=True)
    work.mkdir(exist_ok=True)
    records: list[dict[str, Any]] = []
    for seed in range(n_shards):
        record_path = work / f"{seed:02d}" / "record.json"
        if record_path.exists() and (parts / f"part-{seed:02d}.parquet").exists():
            records.append(json.loads(record_path.read_text()))
            continue
        record_path.parent.mkdir(exist_ok=True)
        if _link_shard(out, seed, shard_posts, preset):
            records.append(json.loads(record_path.read_text()))
            continue
        tmp = parts / f"part-{seed:02d}.parquet.partial"  # not *.parquet: not part of the dataset
        run = run_watched(
            _SHARD,
            preset,
            str(seed),
            str(shard_posts),
            str(tmp),
            str(record_path.parent),
            min_available_mb=min_available_mb,
            interval=1.0,
            echo=False,
        )
        if run["result"] is None:
            raise RuntimeError(
                f"shard {seed} failed (killed: {run['kill']}):\n{run['stderr_tail']}"
            )
        record = {**run["result"], "child_peak_mb": run["peak"]["client_vmhwm_mb"]}
        tmp.rename(parts / f"part-{seed:02d}.parquet")
        record_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        if echo:
            print(
                f"shard {seed}: {record['n_posts']:,} posts in {record['wall_s']:.0f} s "
                f"(simulate {record['simulate_s']:.0f} s), peak {record['peak_rss_mb']:,.0f} MB",
                flush=True,
            )
        records.append(record)
    _concat_truth(out, n_shards)
    scenario = records[0].pop("scenario")
    for record in records[1:]:
        record.pop("scenario", None)
    meta = {
        "preset": preset,
        "n_shards": n_shards,
        "shard_posts_requested": shard_posts,
        "n_posts": sum(r["n_posts"] for r in records),
        "prefix": "s<seed:02d>-",
        "shards": records,
        "scenario": scenario,
    }
    (out / "scenario.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return out


def _link_shard(out: Path, seed: int, shard_posts: int, preset: str) -> bool:
    """Hard-link shard ``seed`` from another sharded dataset of the same shard size, if one has it
    (the shards are the same bytes: ``simulate`` is deterministic)."""
    import os

    for other in sorted(DATA.glob(f"{preset}_shards*_n*")):
        k = other.name.removeprefix(f"{preset}_shards").split("_n")[0]
        if (
            other == out
            or not k.isdigit()
            or other.name != shards_dir(int(k), shard_posts, preset).name
        ):
            continue
        files = [
            (
                other / "posts.parquet" / f"part-{seed:02d}.parquet",
                out / "posts.parquet" / f"part-{seed:02d}.parquet",
            ),
            *(
                (other / "shards" / f"{seed:02d}" / f, out / "shards" / f"{seed:02d}" / f)
                for f in ("accounts.parquet", "posts.parquet", "record.json")
            ),
        ]
        if all(source.exists() for source, _ in files):
            for source, target in files[::-1]:  # the posts file last: it marks the shard done
                target.unlink(missing_ok=True)
                os.link(source, target)
            return True
    return False


def _concat_truth(out: Path, n_shards: int) -> None:
    """The shards' truth tables, concatenated one shard at a time (never all in memory)."""
    import pyarrow.parquet as pq

    from research.truth import ACCOUNT_TRUTH_SCHEMA, POST_TRUTH_SCHEMA

    for name, schema in (("accounts", ACCOUNT_TRUTH_SCHEMA), ("posts", POST_TRUTH_SCHEMA)):
        target = out / f"truth_{name}.parquet"
        tmp = target.with_name(target.name + ".partial")
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for seed in range(n_shards):
                table = pq.read_table(out / "shards" / f"{seed:02d}" / f"{name}.parquet")
                writer.write_table(table.select(schema.names).cast(schema))
                del table
        tmp.rename(target)


if __name__ == "__main__":
    for size in sys.argv[1:] or ["100000", "1000000", "10000000"]:
        print(ensure_dataset(int(float(size))), flush=True)

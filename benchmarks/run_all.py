"""All benchmarks (``make bench``): results in ``benchmarks/results/*.json`` and a summary.

Order: ingest (``bench_ingest.py``, the ingest engineer's), the method end to
end at 1e5/1e6/1e7 posts, the exact co-link against coordination-network-toolkit,
memory against Dask, and the pair budget at 1e7 posts. The simulated datasets
are generated once and cached under ``benchmarks/data/`` (gitignored).

``--readme`` rewrites the block between ``<!-- bench:start -->`` and
``<!-- bench:end -->`` in README.md from the results files, so that the
numbers there are the measured ones, with the machine and its load.

Run: ``PYTHONPATH=. python -m benchmarks.run_all [--quick] [--readme] [--skip ingest ...]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import bench_budget, bench_colink, bench_dask, bench_scale
from benchmarks.common import REPO, RESULTS

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def summary(results: Path = RESULTS) -> str:
    """Markdown summary of the results files."""

    def load(name: str) -> dict[str, Any] | None:
        path = results / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else None

    lines: list[str] = []
    scale = load("scale")
    if scale:
        m = scale["machine"]
        lines += [
            f"Measured on {m.get('cpu_model', '?')}, {m['cpus']} cores, {m.get('memory_gb', '?')} GiB, Python {m['python']} "
            f"(load average at the start {', '.join(map(str, m['load_average_1_5_15']))}: the machine was shared, so "
            "times are medians and still noisy). `make bench` regenerates this block.",
            "",
            "| posts | wall (s) | CPU (s) | peak RSS (GB) | load | incidence | projection | graph | detection | scoring | edges kept | F1 |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in scale["sizes"]:
            st = s["median_stages_s"]
            lines.append(
                f"| {s['n_posts']:,} | {s['median_wall_s']:.2f} | {s['median_cpu_s']:.2f} | {s['median_peak_rss_mb'] / 1024:.2f} | "
                f"{st['load']:.2f} | {st['incidence']:.2f} | {st['projection']:.2f} | {st['graph_build']:.2f} | "
                f"{st['detection']:.2f} | {st['scoring']:.2f} | {s['edges_kept']:,} | {s['f1']:.3f} |"
            )
        if "growth_exponent_wall" in scale:
            lines += [
                "",
                f"Growth exponent of the wall time over these sizes: **{scale['growth_exponent_wall']:.2f}** "
                f"(CPU time: {scale['growth_exponent_cpu']:.2f}; last decade alone: {scale['growth_exponent_last_decade']:.2f}).",
            ]
    colink = load("colink")
    if colink:
        m = colink["median_s"]
        lines += [
            "",
            f"Exact co-link, {colink['n_posts']:,} posts, Δt = {colink['window_s']} s: coordination-network-toolkit "
            f"{m['cnt_total']:.1f} s (preprocess + compute co_link, {colink['cnt_threads']} threads) against "
            f"{m['ours_total']:.2f} s here (encode + co_link, one core): **{colink['speed_ratio_total']:.0f}x** "
            f"({colink['speed_ratio_network']:.0f}x for the network step alone); identical network: {colink['same_network']} "
            f"({colink['n_directed_edges']:,} directed edges).",
        ]
    dask = load("dask")
    if dask:
        for s in dask["sizes"]:
            w = s["median_wall_s"]
            lines += [
                "",
                f"Memory against Dask (LocalCluster, 2 workers), {s['n_posts']:,} posts: {w['memory']:.2f} s against "
                f"{w['dask_local']:.2f} s ({s['dask_over_memory']:.1f}x slower on one machine); identical results: {s['same_results']}.",
            ]
    budget = load("budget")
    if budget:
        lines += [
            "",
            f"Pair budget at {budget['n_posts']:,} posts (budget {budget['budget']:.0e} pairs, no cap):",
        ]
        for o in budget["cases"]:
            c = o["case"]
            what = (
                f"caps lowered to {o['caps']}"
                if o["result"] == "finished"
                else "refused with BudgetError"
            )
            lines.append(
                f"- {c['kind']} ({'exact co-link, Δt 900 s' if c['kind'] == 'colink' else 'staggered buckets'}), {c['on_budget']}: "
                f"{what} in {o['seconds']:.1f} s, peak {o['peak_rss_mb'] / 1024:.1f} GB "
                f"(encoded posts alone {o['after_load_peak_rss_mb'] / 1024:.1f} GB)"
            )
    return "\n".join(lines) + "\n"


def update_readme(text: str, readme: Path = REPO / "README.md") -> None:
    """Replace the benchmark block of the README with ``text``."""
    content = readme.read_text()
    if START not in content or END not in content:
        raise SystemExit(f"{readme}: no {START} ... {END} block to update")
    head, rest = content.split(START, 1)
    _old, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{text}{END}{tail}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, one repeat (a smoke run, not for the README)",
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="rewrite the README's benchmark block from the results",
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["ingest", "scale", "colink", "dask", "budget"]
    )
    args = parser.parse_args(argv)
    if "ingest" not in args.skip:
        ingest = ["--sizes", "50000", "--repeats", "1"] if args.quick else []
        subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / "bench_ingest.py"), *ingest],
            cwd=REPO,
            check=True,
        )
    if "scale" not in args.skip:
        bench_scale.run(
            [100_000, 1_000_000] if args.quick else [100_000, 1_000_000, 10_000_000],
            1 if args.quick else 3,
        )
    if "colink" not in args.skip:
        bench_colink.run(100_000 if args.quick else 1_000_000, 60, 1 if args.quick else 3, 2)
    if "dask" not in args.skip:
        bench_dask.run([100_000] if args.quick else [1_000_000], 1)
    if "budget" not in args.skip:
        bench_budget.run(1_000_000 if args.quick else 10_000_000, 1e5 if args.quick else 1e6)
    text = summary()
    (RESULTS / "summary.md").write_text(text)
    print(text)
    if args.readme:
        update_readme(text)


if __name__ == "__main__":
    main()

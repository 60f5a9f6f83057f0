"""All benchmarks (``make bench``): results in ``benchmarks/results/*.json`` and a summary.

Order: cold start (``bench_coldstart.py``), ``detect`` end to end on a raw
Twitter v1.1 file against coordination-network-toolkit's preprocess + co_link
(``bench_endtoend.py``), ingest (``bench_ingest.py``, the ingest engineer's), the
method end to end at 1e5/1e6/1e7 posts, the floor of the 1e7 run (``bench_floor.py``), the exact co-link against
coordination-network-toolkit, memory against Dask, and the pair budget at 1e7 posts. The simulated datasets
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

from benchmarks import (
    bench_budget,
    bench_coldstart,
    bench_colink,
    bench_dask,
    bench_endtoend,
    bench_floor,
    bench_scale,
)
from benchmarks.common import REPO, RESULTS

START, END = "<!-- bench:start -->", "<!-- bench:end -->"

#: The targets of issue 16, which the summary checks the measurements against.
TARGETS = {
    "help_s": 0.25,
    "import_s": 0.3,
    "endtoend_ratio": 5.0,
    "n1e7_wall_s": 10.0,
    "n1e7_peak_gb": 2.0,
}


def summary(results: Path = RESULTS) -> str:
    """Markdown summary of the results files."""

    def load(name: str) -> dict[str, Any] | None:
        path = results / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else None

    lines: list[str] = []
    cold = load("coldstart")
    if cold:
        m = cold["median_s"]
        help_s = m.get("hijack_clusters_help", m["python_m_research_help"])
        lines += [
            f"Cold start (fresh processes, medians of {cold['repeats']} alternating runs; the bare interpreter "
            f"starts in {m['python_bare'] * 1000:.0f} ms): `hijack-clusters --help` {help_s * 1000:.0f} ms "
            f"(target {TARGETS['help_s'] * 1000:.0f} ms), `import research` {m['import_research'] * 1000:.0f} ms "
            f"(target {TARGETS['import_s'] * 1000:.0f} ms), `python -m research detect --help` "
            f"{m['python_m_research_detect_help'] * 1000:.0f} ms."
            + (
                f" Before issue 16 (`--baseline`, same runs): `python -m research --help` "
                f"{m['baseline_python_m_research_help'] * 1000:.0f} ms."
                if "baseline_python_m_research_help" in m
                else ""
            ),
            "",
        ]
    e2e = load("endtoend")
    if e2e:
        ratio = e2e["speed_ratio"]
        verdict = (
            f"target {TARGETS['endtoend_ratio']:.0f}x met"
            if ratio >= TARGETS["endtoend_ratio"]
            else f"target {TARGETS['endtoend_ratio']:.0f}x missed by {TARGETS['endtoend_ratio'] / ratio:.1f}x"
        )
        lines += [
            f"End to end on a raw Twitter v1.1 file ({e2e['n_tweets']:,} tweets, {e2e['file_mb']:.0f} MB), whole processes "
            f"side by side, medians of {e2e['repeats']}: `{e2e['command_ours']}` {e2e['median_ours_s']:.2f} s "
            f"(peak {e2e['median_ours_peak_rss_mb']:.0f} MB; ingest, graph, Leiden, evidence, report) against "
            f"coordination-network-toolkit `{e2e['command_toolkit']}` {e2e['median_toolkit_s']:.1f} s "
            f"(preprocess {e2e['median_toolkit_preprocess_s']:.1f} s, co_link {e2e['median_toolkit_co_link_s']:.1f} s): "
            f"**{ratio:.1f}x** ({verdict}).",
            "",
        ]
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
        big = max(scale["sizes"], key=lambda s: s["n_posts"])
        if big["n_posts"] >= 10_000_000:
            st = big["median_stages_s"]
            wall, peak = big["median_wall_s"], big["median_peak_rss_mb"] / 1024
            misses = []
            if wall > TARGETS["n1e7_wall_s"]:
                misses.append(
                    f"wall time over the {TARGETS['n1e7_wall_s']:.0f} s target by {wall - TARGETS['n1e7_wall_s']:.1f} s"
                )
            if peak > TARGETS["n1e7_peak_gb"]:
                misses.append(
                    f"peak memory over the {TARGETS['n1e7_peak_gb']:.0f} GB target by {peak - TARGETS['n1e7_peak_gb']:.1f} GB"
                )
            lines += [
                "",
                f"{big['n_posts']:,} posts, Parquet to verdicts with evidence (`hijack`): {wall:.1f} s wall "
                f"({big['median_cpu_s']:.1f} s CPU: the wall time includes waiting for the shared cores), {peak:.2f} GB: "
                + (
                    "; ".join(misses)
                    + f". Reading and encoding the five columns took {st['load']:.1f} s, the projection "
                    f"{st['incidence'] + st['projection']:.1f} s, graph and Leiden {st['graph_build'] + st['detection']:.1f} s, "
                    f"the evidence and verdicts {st['scoring']:.1f} s."
                    if misses
                    else "both targets met."
                ),
            ]
            floor = load("floor")
            if floor and misses:
                f = floor["median"]
                lines += [
                    "",
                    f"The floor (`benchmarks/bench_floor.py`, what no change to the method saves, one core each, medians "
                    f"of {len(floor['runs'])} fresh processes): the bare read of the encoded columns {f['read']['wall_s']:.1f} s, "
                    f"one pass over the text column {f['text']['wall_s']:.1f} s, hashing URLs and accounts into codes "
                    f"{f['hash']['wall_s']:.1f} s; with Leiden ({st['detection']:.1f} s, igraph holds the GIL) "
                    f"{floor['floor_wall_s'] + st['detection']:.1f} s of single-core work. The method's own work on top: "
                    f"the rest of the projection and the evidence and verdicts ({st['scoring']:.1f} s, the largest stage).",
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
        "--skip",
        nargs="*",
        default=[],
        choices=["coldstart", "endtoend", "ingest", "scale", "floor", "colink", "dask", "budget"],
    )
    args = parser.parse_args(argv)
    if "coldstart" not in args.skip:
        bench_coldstart.run(3 if args.quick else 11)
    if "endtoend" not in args.skip:
        bench_endtoend.run(20_000 if args.quick else 180_000, 1 if args.quick else 3)
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
    if "floor" not in args.skip:
        bench_floor.run(1_000_000 if args.quick else 10_000_000, 1 if args.quick else 3)
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
